/*
 * tws_proto_order: the order layouts of the TWS API at server versions 170..176
 * (see tws_proto.h): placeOrder (client -> server) encoded and openOrder (server ->
 * client) decoded, each written out field by field (the other two are in
 * tests/fake_tws/tws_server.c).
 */
#include <stdio.h>
#include <string.h>

#include "tws_proto_int.h"

/* placeOrder at server versions 170..176, for a plain (non-combo, non-algo) order:
 * 115 fields. */
int te_tws_enc_place_order(te_buf_t *out, const te_tws_order_t *o)
{
        tws_enc_t e;
        tws_e_begin(&e, out);
        tws_e_int(&e, TE_TWS_OUT_PLACE_ORDER);
        tws_e_int(&e, o->order_id);
        /* contract */
        tws_e_int(&e, 0);           /* conId */
        tws_e_str(&e, o->symbol);   /* symbol */
        tws_e_str(&e, o->sec_type); /* secType */
        tws_e_blanks(&e, "s:lastTradeDateOrContractMonth,i:strike,s:right,s:multiplier");
        tws_e_str(&e, o->exchange); /* exchange */
        tws_e_str(&e, "");          /* primaryExch */
        tws_e_str(&e, o->currency); /* currency */
        tws_e_blanks(&e, "s:localSymbol,s:tradingClass,s:secIdType,s:secId");
        /* main order fields */
        tws_e_str(&e, o->action);                          /* action */
        tws_e_dbl(&e, o->total_qty);                       /* totalQuantity */
        tws_e_str(&e, o->order_type);                      /* orderType */
        tws_e_dbl_opt(&e, o->has_lmt_price, o->lmt_price); /* lmtPrice */
        tws_e_dbl_opt(&e, o->has_aux_price, o->aux_price); /* auxPrice */
        tws_e_str(&e, o->tif);                             /* tif */
        tws_e_str(&e, "");                                 /* ocaGroup */
        tws_e_str(&e, o->account);                         /* account */
        tws_e_blanks(&e, "s:openClose,i:origin");
        tws_e_str(&e, o->order_ref); /* orderRef */
        tws_e_int(&e, 1);            /* transmit */
        tws_e_blanks(
            &e, "i:parentId,i:blockOrder,i:sweepToFill,i:displaySize,i:triggerMethod,"
                "i:outsideRth,i:hidden,s:deprecated sharesAllocation,"
                "i:discretionaryAmt,s:goodAfterTime,s:goodTillDate,s:faGroup,"
                "s:faMethod,s:faPercentage,s:faProfile,s:modelCode,i:shortSaleSlot,"
                "s:designatedLocation,x:exemptCode,i:ocaType,s:rule80A,"
                "s:settlingFirm,i:allOrNone,s:minQty,s:percentOffset,i:eTradeOnly,"
                "i:firmQuoteOnly,s:nbboPriceCap,i:auctionStrategy,s:startingPrice,"
                "s:stockRefPrice,s:delta,s:stockRangeLower,s:stockRangeUpper,"
                "i:overridePercentageConstraints,s:volatility,s:volatilityType,"
                "s:deltaNeutralOrderType,s:deltaNeutralAuxPrice,i:continuousUpdate,"
                "s:referencePriceType,s:trailStopPrice,s:trailingPercent,"
                "s:scaleInitLevelSize,s:scaleSubsLevelSize,s:scalePriceIncrement,"
                "s:scaleTable,s:activeStartTime,s:activeStopTime,s:hedgeType,"
                "i:optOutSmartRouting,s:clearingAccount,s:clearingIntent,i:notHeld,"
                "i:deltaNeutralContract,s:algoStrategy,s:algoId,i:whatIf,"
                "s:orderMiscOptions,i:solicited,i:randomizeSize,i:randomizePrice,"
                "i:conditions count,s:adjustedOrderType,s:triggerPrice,"
                "s:lmtPriceOffset,s:adjustedStopPrice,s:adjustedStopLimitPrice,"
                "s:adjustedTrailingAmount,i:adjustableTrailingUnit,s:extOperator,"
                "s:softDollarTier name,s:softDollarTier value,s:cashQty,"
                "s:mifid2DecisionMaker,s:mifid2DecisionAlgo,s:mifid2ExecutionTrader,"
                "s:mifid2ExecutionAlgo,i:dontUseAutoPriceForHedge,i:isOmsContainer,"
                "i:discretionaryUpToLimitPrice,s:usePriceMgmtAlgo,s:duration,"
                "s:postToAts,i:autoCancelParent,s:advancedErrorOverride,"
                "s:manualOrderTime");
        return tws_e_end(&e);
}

/* ---- openOrder decoding ------------------------------------------------------- */

static void skip_int(te_tws_fields_t *fs, const char *what)
{
        (void)tws_rd_int(fs, what);
}

static void skip_dbl(te_tws_fields_t *fs, const char *what)
{
        (void)tws_rd_dbl(fs, what);
}

/* A string field that only matters for being empty or not. */
static int rd_nonempty(te_tws_fields_t *fs, const char *what)
{
        size_t n = 0;
        return tws_fnext(fs, what, &n) && n > 0;
}

/* The count of a repeated group of at least `per` fields: never more groups than
 * the fields left can hold. */
static int64_t rd_count(te_tws_fields_t *fs, const char *what, size_t per)
{
        int64_t n = tws_rd_int(fs, what);
        if (n < 0 || (uint64_t)n > (fs->n - fs->pos) / per) {
                tws_ferr(fs, what, "count out of range");
                return 0;
        }
        return n;
}

/* Order conditions (types as IB numbers them). */
static void dec_conditions(te_tws_fields_t *fs)
{
        int64_t n = rd_count(fs, "conditions count", 3);
        for (int64_t i = 0; i < n && !fs->err[0]; i++) {
                int64_t type = tws_rd_int(fs, "conditionType");
                tws_rd_skip(fs, "conjunctionConnection");
                switch (type) {
                case 1: /* price */
                        tws_rd_skips(
                            fs, "i:isMore,d:price,i:conId,s:exchange,i:triggerMethod");
                        break;
                case 3: /* time */
                        tws_rd_skips(fs, "i:isMore,s:time");
                        break;
                case 4: /* margin */
                        tws_rd_skips(fs, "i:isMore,i:percent");
                        break;
                case 5: /* execution */
                        tws_rd_skips(fs, "s:secType,s:exchange,s:symbol");
                        break;
                case 6: /* volume */
                        tws_rd_skips(fs, "i:isMore,i:volume,i:conId,s:exchange");
                        break;
                case 7: /* percent change */
                        tws_rd_skips(fs, "i:isMore,d:changePercent,i:conId,s:exchange");
                        break;
                default:
                        tws_ferr(fs, "conditionType", "unknown condition type");
                        return;
                }
        }
        if (n > 0) {
                tws_rd_skips(fs, "i:conditionsIgnoreRth,i:conditionsCancelOrder");
        }
}

/* The fields between triggerMethod and the order state: volatility, trailing, combo,
 * scale, hedge, clearing, delta-neutral and algo parameters, with the groups that
 * only follow a non-empty type or a non-zero count. */
static void dec_order_params(te_tws_fields_t *fs)
{
        tws_rd_skips(fs, "d:volatility,i:volatilityType");
        int dn = rd_nonempty(fs, "deltaNeutralOrderType");
        skip_dbl(fs, "deltaNeutralAuxPrice");
        if (dn) {
                tws_rd_skips(
                    fs, "i:deltaNeutralConId,s:deltaNeutralSettlingFirm,"
                        "s:deltaNeutralClearingAccount,s:deltaNeutralClearingIntent,"
                        "s:deltaNeutralOpenClose,i:deltaNeutralShortSale,"
                        "i:deltaNeutralShortSaleSlot,s:deltaNeutralDesignatedLocation");
        }
        tws_rd_skips(fs, "i:continuousUpdate,i:referencePriceType,d:trailStopPrice,"
                         "d:trailingPercent,d:basisPoints,i:basisPointsType,"
                         "s:comboLegsDescrip");
        int64_t n = rd_count(fs, "comboLegs count", 8);
        for (int64_t i = 0; i < n && !fs->err[0]; i++) {
                tws_rd_skips(
                    fs,
                    "i:leg conId,i:leg ratio,s:leg action,s:leg exchange,i:leg openClose,"
                    "i:leg shortSaleSlot,s:leg designatedLocation,i:leg exemptCode");
        }
        n = rd_count(fs, "orderComboLegs count", 1);
        for (int64_t i = 0; i < n && !fs->err[0]; i++)
                skip_dbl(fs, "orderComboLeg price");
        n = rd_count(fs, "smartComboRoutingParams count", 2);
        for (int64_t i = 0; i < 2 * n && !fs->err[0]; i++)
                tws_rd_skip(fs, "smartComboRoutingParam");
        tws_rd_skips(fs, "i:scaleInitLevelSize,i:scaleSubsLevelSize");
        if (tws_rd_dbl(fs, "scalePriceIncrement") > 0) {
                tws_rd_skips(fs,
                             "d:scalePriceAdjustValue,i:scalePriceAdjustInterval,"
                             "d:scaleProfitOffset,i:scaleAutoReset,i:scaleInitPosition,"
                             "i:scaleInitFillQty,i:scaleRandomPercent");
        }
        if (rd_nonempty(fs, "hedgeType"))
                tws_rd_skip(fs, "hedgeParam");
        tws_rd_skips(fs,
                     "i:optOutSmartRouting,s:clearingAccount,s:clearingIntent,i:notHeld");
        if (tws_rd_int(fs, "deltaNeutralContract")) {
                tws_rd_skips(fs,
                             "i:deltaNeutralContract conId,d:deltaNeutralContract delta,"
                             "d:deltaNeutralContract price");
        }
        if (rd_nonempty(fs, "algoStrategy")) {
                n = rd_count(fs, "algoParams count", 2);
                for (int64_t i = 0; i < 2 * n && !fs->err[0]; i++)
                        tws_rd_skip(fs, "algoParam");
        }
        skip_int(fs, "solicited");
}

/* openOrder after its message id, in the layout the fake TWS writes (with every
 * optional group). */
void tws_dec_open_order(te_tws_fields_t *fs, te_tws_open_order_t *oo)
{
        te_tws_order_t *o = &oo->order;
        o->order_id = tws_rd_int(fs, "orderId");
        /* contract */
        skip_int(fs, "conId");
        tws_rd_str(fs, "symbol", o->symbol, sizeof o->symbol);
        tws_rd_str(fs, "secType", o->sec_type, sizeof o->sec_type);
        tws_rd_skips(fs, "s:lastTradeDateOrContractMonth,d:strike,s:right,s:multiplier");
        tws_rd_str(fs, "exchange", o->exchange, sizeof o->exchange);
        tws_rd_str(fs, "currency", o->currency, sizeof o->currency);
        tws_rd_skips(fs, "s:localSymbol,s:tradingClass");
        /* order */
        tws_rd_str(fs, "action", o->action, sizeof o->action);
        o->total_qty = tws_rd_dbl(fs, "totalQuantity");
        tws_rd_str(fs, "orderType", o->order_type, sizeof o->order_type);
        o->lmt_price = tws_rd_dbl_opt(fs, "lmtPrice", &o->has_lmt_price);
        o->aux_price = tws_rd_dbl_opt(fs, "auxPrice", &o->has_aux_price);
        tws_rd_str(fs, "tif", o->tif, sizeof o->tif);
        tws_rd_skip(fs, "ocaGroup");
        tws_rd_str(fs, "account", o->account, sizeof o->account);
        tws_rd_skips(fs, "s:openClose,i:origin");
        tws_rd_str(fs, "orderRef", o->order_ref, sizeof o->order_ref);
        oo->client_id = tws_rd_int(fs, "clientId");
        oo->perm_id = tws_rd_int(fs, "permId");
        tws_rd_skips(
            fs, "i:outsideRth,i:hidden,d:discretionaryAmt,s:goodAfterTime,"
                "s:sharesAllocation,s:faGroup,s:faMethod,s:faPercentage,s:faProfile,"
                "s:modelCode,s:goodTillDate,s:rule80A,d:percentOffset,s:settlingFirm,"
                "i:shortSaleSlot,s:designatedLocation,i:exemptCode,i:auctionStrategy,"
                "d:startingPrice,d:stockRefPrice,d:delta,d:stockRangeLower,"
                "d:stockRangeUpper,i:displaySize,i:blockOrder,i:sweepToFill,"
                "i:allOrNone,i:minQty,i:ocaType,i:eTradeOnly,i:firmQuoteOnly,"
                "d:nbboPriceCap");
        oo->parent_id = tws_rd_int(fs, "parentId");
        skip_int(fs, "triggerMethod");
        dec_order_params(fs);
        /* order state */
        skip_int(fs, "whatIf");
        tws_rd_str(fs, "status", oo->status, sizeof oo->status);
        static const char *const margins[] = {
            "initMarginBefore", "maintMarginBefore", "equityWithLoanBefore",
            "initMarginChange", "maintMarginChange", "equityWithLoanChange",
            "initMarginAfter",  "maintMarginAfter",  "equityWithLoanAfter"};
        for (size_t i = 0; i < sizeof margins / sizeof margins[0]; i++)
                tws_rd_skip(fs, margins[i]);
        tws_rd_skips(fs,
                     "d:commission,d:minCommission,d:maxCommission,s:commissionCurrency,"
                     "s:warningText");
        /* later attributes */
        tws_rd_skips(fs, "i:randomizeSize,i:randomizePrice");
        if (!strcmp(o->order_type, "PEG BENCH")) {
                tws_rd_skips(
                    fs,
                    "i:referenceContractId,i:isPeggedChangeAmountDecrease,"
                    "d:peggedChangeAmount,d:referenceChangeAmount,s:referenceExchangeId");
        }
        dec_conditions(fs);
        tws_rd_skips(fs,
                     "s:adjustedOrderType,d:triggerPrice,d:trailStopPrice,"
                     "d:lmtPriceOffset,d:adjustedStopPrice,d:adjustedStopLimitPrice,"
                     "d:adjustedTrailingAmount,i:adjustableTrailingUnit,"
                     "s:softDollarTier name,s:softDollarTier value,"
                     "s:softDollarTier displayName,d:cashQty,i:dontUseAutoPriceForHedge,"
                     "i:isOmsContainer,i:discretionaryUpToLimitPrice,i:usePriceMgmtAlgo,"
                     "i:duration,i:postToAts,i:autoCancelParent,i:minTradeQty,"
                     "i:minCompeteSize,d:competeAgainstBestOffset,d:midOffsetAtWhole,"
                     "d:midOffsetAtHalf");
}
