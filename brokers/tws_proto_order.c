/*
 * tws_proto_order: the order layouts of the TWS API at server versions 170..176
 * (see tws_proto.h): placeOrder (client -> server) and openOrder (server -> client),
 * each written out field by field.
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
        tws_e_str(&e, "");          /* lastTradeDateOrContractMonth */
        tws_e_int(&e, 0);           /* strike */
        tws_e_str(&e, "");          /* right */
        tws_e_str(&e, "");          /* multiplier */
        tws_e_str(&e, o->exchange); /* exchange */
        tws_e_str(&e, "");          /* primaryExch */
        tws_e_str(&e, o->currency); /* currency */
        tws_e_str(&e, "");          /* localSymbol */
        tws_e_str(&e, "");          /* tradingClass */
        tws_e_str(&e, "");          /* secIdType */
        tws_e_str(&e, "");          /* secId */
        /* main order fields */
        tws_e_str(&e, o->action);                          /* action */
        tws_e_dbl(&e, o->total_qty);                       /* totalQuantity */
        tws_e_str(&e, o->order_type);                      /* orderType */
        tws_e_dbl_opt(&e, o->has_lmt_price, o->lmt_price); /* lmtPrice */
        tws_e_dbl_opt(&e, o->has_aux_price, o->aux_price); /* auxPrice */
        tws_e_str(&e, o->tif);                             /* tif */
        tws_e_str(&e, "");                                 /* ocaGroup */
        tws_e_str(&e, o->account);                         /* account */
        tws_e_str(&e, "");                                 /* openClose */
        tws_e_int(&e, 0);                                  /* origin: customer */
        tws_e_str(&e, o->order_ref);                       /* orderRef */
        tws_e_int(&e, 1);                                  /* transmit */
        tws_e_int(&e, 0);                                  /* parentId */
        tws_e_int(&e, 0);                                  /* blockOrder */
        tws_e_int(&e, 0);                                  /* sweepToFill */
        tws_e_int(&e, 0);                                  /* displaySize */
        tws_e_int(&e, 0);                                  /* triggerMethod */
        tws_e_int(&e, 0);                                  /* outsideRth */
        tws_e_int(&e, 0);                                  /* hidden */
        tws_e_str(&e, ""); /* deprecated sharesAllocation */
        tws_e_int(&e, 0);  /* discretionaryAmt */
        tws_e_str(&e, ""); /* goodAfterTime */
        tws_e_str(&e, ""); /* goodTillDate */
        tws_e_str(&e, ""); /* faGroup */
        tws_e_str(&e, ""); /* faMethod */
        tws_e_str(&e, ""); /* faPercentage */
        tws_e_str(&e, ""); /* faProfile (< 177) */
        tws_e_str(&e, ""); /* modelCode */
        tws_e_int(&e, 0);  /* shortSaleSlot */
        tws_e_str(&e, ""); /* designatedLocation */
        tws_e_int(&e, -1); /* exemptCode */
        tws_e_int(&e, 0);  /* ocaType */
        tws_e_str(&e, ""); /* rule80A */
        tws_e_str(&e, ""); /* settlingFirm */
        tws_e_int(&e, 0);  /* allOrNone */
        tws_e_str(&e, ""); /* minQty */
        tws_e_str(&e, ""); /* percentOffset */
        tws_e_int(&e, 0);  /* eTradeOnly */
        tws_e_int(&e, 0);  /* firmQuoteOnly */
        tws_e_str(&e, ""); /* nbboPriceCap */
        tws_e_int(&e, 0);  /* auctionStrategy */
        tws_e_str(&e, ""); /* startingPrice */
        tws_e_str(&e, ""); /* stockRefPrice */
        tws_e_str(&e, ""); /* delta */
        tws_e_str(&e, ""); /* stockRangeLower */
        tws_e_str(&e, ""); /* stockRangeUpper */
        tws_e_int(&e, 0);  /* overridePercentageConstraints */
        tws_e_str(&e, ""); /* volatility */
        tws_e_str(&e, ""); /* volatilityType */
        tws_e_str(&e, ""); /* deltaNeutralOrderType */
        tws_e_str(&e, ""); /* deltaNeutralAuxPrice */
        tws_e_int(&e, 0);  /* continuousUpdate */
        tws_e_str(&e, ""); /* referencePriceType */
        tws_e_str(&e, ""); /* trailStopPrice */
        tws_e_str(&e, ""); /* trailingPercent */
        tws_e_str(&e, ""); /* scaleInitLevelSize */
        tws_e_str(&e, ""); /* scaleSubsLevelSize */
        tws_e_str(&e, ""); /* scalePriceIncrement */
        tws_e_str(&e, ""); /* scaleTable */
        tws_e_str(&e, ""); /* activeStartTime */
        tws_e_str(&e, ""); /* activeStopTime */
        tws_e_str(&e, ""); /* hedgeType */
        tws_e_int(&e, 0);  /* optOutSmartRouting */
        tws_e_str(&e, ""); /* clearingAccount */
        tws_e_str(&e, ""); /* clearingIntent */
        tws_e_int(&e, 0);  /* notHeld */
        tws_e_int(&e, 0);  /* deltaNeutralContract: none */
        tws_e_str(&e, ""); /* algoStrategy */
        tws_e_str(&e, ""); /* algoId */
        tws_e_int(&e, 0);  /* whatIf */
        tws_e_str(&e, ""); /* orderMiscOptions */
        tws_e_int(&e, 0);  /* solicited */
        tws_e_int(&e, 0);  /* randomizeSize */
        tws_e_int(&e, 0);  /* randomizePrice */
        tws_e_int(&e, 0);  /* conditions count */
        tws_e_str(&e, ""); /* adjustedOrderType */
        tws_e_str(&e, ""); /* triggerPrice */
        tws_e_str(&e, ""); /* lmtPriceOffset */
        tws_e_str(&e, ""); /* adjustedStopPrice */
        tws_e_str(&e, ""); /* adjustedStopLimitPrice */
        tws_e_str(&e, ""); /* adjustedTrailingAmount */
        tws_e_int(&e, 0);  /* adjustableTrailingUnit */
        tws_e_str(&e, ""); /* extOperator */
        tws_e_str(&e, ""); /* softDollarTier name */
        tws_e_str(&e, ""); /* softDollarTier value */
        tws_e_str(&e, ""); /* cashQty */
        tws_e_str(&e, ""); /* mifid2DecisionMaker */
        tws_e_str(&e, ""); /* mifid2DecisionAlgo */
        tws_e_str(&e, ""); /* mifid2ExecutionTrader */
        tws_e_str(&e, ""); /* mifid2ExecutionAlgo */
        tws_e_int(&e, 0);  /* dontUseAutoPriceForHedge */
        tws_e_int(&e, 0);  /* isOmsContainer */
        tws_e_int(&e, 0);  /* discretionaryUpToLimitPrice */
        tws_e_str(&e, ""); /* usePriceMgmtAlgo */
        tws_e_str(&e, ""); /* duration */
        tws_e_str(&e, ""); /* postToAts */
        tws_e_int(&e, 0);  /* autoCancelParent */
        tws_e_str(&e, ""); /* advancedErrorOverride */
        tws_e_str(&e, ""); /* manualOrderTime */
        return tws_e_end(&e);
}

/* openOrder at server versions 170..176 (no version field since 145): the order id,
 * the contract, the order, its state, and the attributes added up to 170
 * (PEGBEST_PEGMID_OFFSETS); faProfile is still present (removed at 177). 128 fields
 * for a plain order (no combo legs, algo, conditions, delta-neutral or scale
 * parameters: those are counted or flagged empty and nothing follows). */
int te_tws_enc_open_order(te_buf_t *out, const te_tws_open_order_t *oo)
{
        const te_tws_order_t *o = &oo->order;
        tws_enc_t e;
        tws_e_begin(&e, out);
        tws_e_int(&e, TE_TWS_IN_OPEN_ORDER);
        tws_e_int(&e, o->order_id);
        /* contract */
        tws_e_int(&e, 0);           /* conId */
        tws_e_str(&e, o->symbol);   /* symbol */
        tws_e_str(&e, o->sec_type); /* secType */
        tws_e_str(&e, "");          /* lastTradeDateOrContractMonth */
        tws_e_int(&e, 0);           /* strike */
        tws_e_str(&e, "");          /* right */
        tws_e_str(&e, "");          /* multiplier */
        tws_e_str(&e, o->exchange); /* exchange */
        tws_e_str(&e, o->currency); /* currency */
        tws_e_str(&e, o->symbol);   /* localSymbol */
        tws_e_str(&e, "");          /* tradingClass */
        /* order */
        tws_e_str(&e, o->action);                          /* action */
        tws_e_dbl(&e, o->total_qty);                       /* totalQuantity */
        tws_e_str(&e, o->order_type);                      /* orderType */
        tws_e_dbl_opt(&e, o->has_lmt_price, o->lmt_price); /* lmtPrice */
        tws_e_dbl_opt(&e, o->has_aux_price, o->aux_price); /* auxPrice */
        tws_e_str(&e, o->tif);                             /* tif */
        tws_e_str(&e, "");                                 /* ocaGroup */
        tws_e_str(&e, o->account);                         /* account */
        tws_e_str(&e, "");                                 /* openClose */
        tws_e_int(&e, 0);                                  /* origin: customer */
        tws_e_str(&e, o->order_ref);                       /* orderRef */
        tws_e_int(&e, oo->client_id);                      /* clientId */
        tws_e_int(&e, oo->perm_id);                        /* permId */
        tws_e_int(&e, 0);                                  /* outsideRth */
        tws_e_int(&e, 0);                                  /* hidden */
        tws_e_int(&e, 0);                                  /* discretionaryAmt */
        tws_e_str(&e, "");                                 /* goodAfterTime */
        tws_e_str(&e, "");            /* deprecated sharesAllocation */
        tws_e_str(&e, "");            /* faGroup */
        tws_e_str(&e, "");            /* faMethod */
        tws_e_str(&e, "");            /* faPercentage */
        tws_e_str(&e, "");            /* faProfile (< 177) */
        tws_e_str(&e, "");            /* modelCode */
        tws_e_str(&e, "");            /* goodTillDate */
        tws_e_str(&e, "");            /* rule80A */
        tws_e_str(&e, "");            /* percentOffset */
        tws_e_str(&e, "");            /* settlingFirm */
        tws_e_int(&e, 0);             /* shortSaleSlot */
        tws_e_str(&e, "");            /* designatedLocation */
        tws_e_int(&e, -1);            /* exemptCode */
        tws_e_int(&e, 0);             /* auctionStrategy */
        tws_e_str(&e, "");            /* startingPrice */
        tws_e_str(&e, "");            /* stockRefPrice */
        tws_e_str(&e, "");            /* delta */
        tws_e_str(&e, "");            /* stockRangeLower */
        tws_e_str(&e, "");            /* stockRangeUpper */
        tws_e_str(&e, "");            /* displaySize */
        tws_e_int(&e, 0);             /* blockOrder */
        tws_e_int(&e, 0);             /* sweepToFill */
        tws_e_int(&e, 0);             /* allOrNone */
        tws_e_str(&e, "");            /* minQty */
        tws_e_int(&e, 0);             /* ocaType */
        tws_e_int(&e, 0);             /* eTradeOnly */
        tws_e_int(&e, 0);             /* firmQuoteOnly */
        tws_e_str(&e, "");            /* nbboPriceCap */
        tws_e_int(&e, oo->parent_id); /* parentId */
        tws_e_int(&e, 0);             /* triggerMethod */
        tws_e_str(&e, "");            /* volatility */
        tws_e_int(&e, 0);             /* volatilityType */
        tws_e_str(&e, ""); /* deltaNeutralOrderType: none, so no deltaNeutral* */
        tws_e_str(&e, ""); /* deltaNeutralAuxPrice */
        tws_e_int(&e, 0);  /* continuousUpdate */
        tws_e_int(&e, 0);  /* referencePriceType */
        tws_e_str(&e, ""); /* trailStopPrice */
        tws_e_str(&e, ""); /* trailingPercent */
        tws_e_str(&e, ""); /* basisPoints */
        tws_e_str(&e, ""); /* basisPointsType */
        tws_e_str(&e, ""); /* comboLegsDescrip */
        tws_e_int(&e, 0);  /* comboLegs count */
        tws_e_int(&e, 0);  /* orderComboLegs count */
        tws_e_int(&e, 0);  /* smartComboRoutingParams count */
        tws_e_str(&e, ""); /* scaleInitLevelSize */
        tws_e_str(&e, ""); /* scaleSubsLevelSize */
        tws_e_str(&e, ""); /* scalePriceIncrement: unset, so no scale* */
        tws_e_str(&e, ""); /* hedgeType: none, so no hedgeParam */
        tws_e_int(&e, 0);  /* optOutSmartRouting */
        tws_e_str(&e, ""); /* clearingAccount */
        tws_e_str(&e, ""); /* clearingIntent */
        tws_e_int(&e, 0);  /* notHeld */
        tws_e_int(&e, 0);  /* deltaNeutralContract: none */
        tws_e_str(&e, ""); /* algoStrategy: none, so no algoParams */
        tws_e_int(&e, 0);  /* solicited */
        tws_e_int(&e, 0);  /* whatIf */
        /* order state */
        tws_e_str(&e, oo->status); /* status */
        tws_e_str(&e, "");         /* initMarginBefore */
        tws_e_str(&e, "");         /* maintMarginBefore */
        tws_e_str(&e, "");         /* equityWithLoanBefore */
        tws_e_str(&e, "");         /* initMarginChange */
        tws_e_str(&e, "");         /* maintMarginChange */
        tws_e_str(&e, "");         /* equityWithLoanChange */
        tws_e_str(&e, "");         /* initMarginAfter */
        tws_e_str(&e, "");         /* maintMarginAfter */
        tws_e_str(&e, "");         /* equityWithLoanAfter */
        tws_e_str(&e, "");         /* commission */
        tws_e_str(&e, "");         /* minCommission */
        tws_e_str(&e, "");         /* maxCommission */
        tws_e_str(&e, "");         /* commissionCurrency */
        tws_e_str(&e, "");         /* warningText */
        /* later attributes */
        tws_e_int(&e, 0);  /* randomizeSize */
        tws_e_int(&e, 0);  /* randomizePrice */
        tws_e_int(&e, 0);  /* conditions count (not PEG BENCH: no peg fields) */
        tws_e_str(&e, ""); /* adjustedOrderType */
        tws_e_str(&e, ""); /* triggerPrice */
        tws_e_str(&e, ""); /* trailStopPrice */
        tws_e_str(&e, ""); /* lmtPriceOffset */
        tws_e_str(&e, ""); /* adjustedStopPrice */
        tws_e_str(&e, ""); /* adjustedStopLimitPrice */
        tws_e_str(&e, ""); /* adjustedTrailingAmount */
        tws_e_int(&e, 0);  /* adjustableTrailingUnit */
        tws_e_str(&e, ""); /* softDollarTier name */
        tws_e_str(&e, ""); /* softDollarTier value */
        tws_e_str(&e, ""); /* softDollarTier displayName */
        tws_e_str(&e, ""); /* cashQty */
        tws_e_int(&e, 0);  /* dontUseAutoPriceForHedge */
        tws_e_int(&e, 0);  /* isOmsContainer */
        tws_e_int(&e, 0);  /* discretionaryUpToLimitPrice */
        tws_e_int(&e, 0);  /* usePriceMgmtAlgo */
        tws_e_str(&e, ""); /* duration */
        tws_e_str(&e, ""); /* postToAts */
        tws_e_int(&e, 0);  /* autoCancelParent */
        tws_e_str(&e, ""); /* minTradeQty */
        tws_e_str(&e, ""); /* minCompeteSize */
        tws_e_str(&e, ""); /* competeAgainstBestOffset */
        tws_e_str(&e, ""); /* midOffsetAtWhole */
        tws_e_str(&e, ""); /* midOffsetAtHalf */
        return tws_e_end(&e);
}

void tws_dec_place_order(te_tws_fields_t *fs, te_tws_order_t *o)
{
        o->order_id = tws_rd_int(fs, "orderId");
        tws_rd_skip(fs, "conId");
        tws_rd_str(fs, "symbol", o->symbol, sizeof o->symbol);
        tws_rd_str(fs, "secType", o->sec_type, sizeof o->sec_type);
        tws_rd_skip(fs, "lastTradeDate");
        tws_rd_skip(fs, "strike");
        tws_rd_skip(fs, "right");
        tws_rd_skip(fs, "multiplier");
        tws_rd_str(fs, "exchange", o->exchange, sizeof o->exchange);
        tws_rd_skip(fs, "primaryExch");
        tws_rd_str(fs, "currency", o->currency, sizeof o->currency);
        tws_rd_skip(fs, "localSymbol");
        tws_rd_skip(fs, "tradingClass");
        tws_rd_skip(fs, "secIdType");
        tws_rd_skip(fs, "secId");
        tws_rd_str(fs, "action", o->action, sizeof o->action);
        o->total_qty = tws_rd_dbl(fs, "totalQuantity");
        tws_rd_str(fs, "orderType", o->order_type, sizeof o->order_type);
        o->lmt_price = tws_rd_dbl_opt(fs, "lmtPrice", &o->has_lmt_price);
        o->aux_price = tws_rd_dbl_opt(fs, "auxPrice", &o->has_aux_price);
        tws_rd_str(fs, "tif", o->tif, sizeof o->tif);
        tws_rd_skip(fs, "ocaGroup");
        tws_rd_str(fs, "account", o->account, sizeof o->account);
        tws_rd_skip(fs, "openClose");
        tws_rd_skip(fs, "origin");
        tws_rd_str(fs, "orderRef", o->order_ref, sizeof o->order_ref);
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
                        skip_int(fs, "isMore");
                        skip_dbl(fs, "price");
                        skip_int(fs, "conId");
                        tws_rd_skip(fs, "exchange");
                        skip_int(fs, "triggerMethod");
                        break;
                case 3: /* time */
                        skip_int(fs, "isMore");
                        tws_rd_skip(fs, "time");
                        break;
                case 4: /* margin */
                        skip_int(fs, "isMore");
                        skip_int(fs, "percent");
                        break;
                case 5: /* execution */
                        tws_rd_skip(fs, "secType");
                        tws_rd_skip(fs, "exchange");
                        tws_rd_skip(fs, "symbol");
                        break;
                case 6: /* volume */
                        skip_int(fs, "isMore");
                        skip_int(fs, "volume");
                        skip_int(fs, "conId");
                        tws_rd_skip(fs, "exchange");
                        break;
                case 7: /* percent change */
                        skip_int(fs, "isMore");
                        skip_dbl(fs, "changePercent");
                        skip_int(fs, "conId");
                        tws_rd_skip(fs, "exchange");
                        break;
                default:
                        tws_ferr(fs, "conditionType", "unknown condition type");
                        return;
                }
        }
        if (n > 0) {
                skip_int(fs, "conditionsIgnoreRth");
                skip_int(fs, "conditionsCancelOrder");
        }
}

/* The fields between triggerMethod and the order state: volatility, trailing, combo,
 * scale, hedge, clearing, delta-neutral and algo parameters, with the groups that
 * only follow a non-empty type or a non-zero count. */
static void dec_order_params(te_tws_fields_t *fs)
{
        skip_dbl(fs, "volatility");
        skip_int(fs, "volatilityType");
        int dn = rd_nonempty(fs, "deltaNeutralOrderType");
        skip_dbl(fs, "deltaNeutralAuxPrice");
        if (dn) {
                skip_int(fs, "deltaNeutralConId");
                tws_rd_skip(fs, "deltaNeutralSettlingFirm");
                tws_rd_skip(fs, "deltaNeutralClearingAccount");
                tws_rd_skip(fs, "deltaNeutralClearingIntent");
                tws_rd_skip(fs, "deltaNeutralOpenClose");
                skip_int(fs, "deltaNeutralShortSale");
                skip_int(fs, "deltaNeutralShortSaleSlot");
                tws_rd_skip(fs, "deltaNeutralDesignatedLocation");
        }
        skip_int(fs, "continuousUpdate");
        skip_int(fs, "referencePriceType");
        skip_dbl(fs, "trailStopPrice");
        skip_dbl(fs, "trailingPercent");
        skip_dbl(fs, "basisPoints");
        skip_int(fs, "basisPointsType");
        tws_rd_skip(fs, "comboLegsDescrip");
        int64_t n = rd_count(fs, "comboLegs count", 8);
        for (int64_t i = 0; i < n && !fs->err[0]; i++) {
                skip_int(fs, "leg conId");
                skip_int(fs, "leg ratio");
                tws_rd_skip(fs, "leg action");
                tws_rd_skip(fs, "leg exchange");
                skip_int(fs, "leg openClose");
                skip_int(fs, "leg shortSaleSlot");
                tws_rd_skip(fs, "leg designatedLocation");
                skip_int(fs, "leg exemptCode");
        }
        n = rd_count(fs, "orderComboLegs count", 1);
        for (int64_t i = 0; i < n && !fs->err[0]; i++)
                skip_dbl(fs, "orderComboLeg price");
        n = rd_count(fs, "smartComboRoutingParams count", 2);
        for (int64_t i = 0; i < 2 * n && !fs->err[0]; i++)
                tws_rd_skip(fs, "smartComboRoutingParam");
        skip_int(fs, "scaleInitLevelSize");
        skip_int(fs, "scaleSubsLevelSize");
        if (tws_rd_dbl(fs, "scalePriceIncrement") > 0) {
                skip_dbl(fs, "scalePriceAdjustValue");
                skip_int(fs, "scalePriceAdjustInterval");
                skip_dbl(fs, "scaleProfitOffset");
                skip_int(fs, "scaleAutoReset");
                skip_int(fs, "scaleInitPosition");
                skip_int(fs, "scaleInitFillQty");
                skip_int(fs, "scaleRandomPercent");
        }
        if (rd_nonempty(fs, "hedgeType"))
                tws_rd_skip(fs, "hedgeParam");
        skip_int(fs, "optOutSmartRouting");
        tws_rd_skip(fs, "clearingAccount");
        tws_rd_skip(fs, "clearingIntent");
        skip_int(fs, "notHeld");
        if (tws_rd_int(fs, "deltaNeutralContract")) {
                skip_int(fs, "deltaNeutralContract conId");
                skip_dbl(fs, "deltaNeutralContract delta");
                skip_dbl(fs, "deltaNeutralContract price");
        }
        if (rd_nonempty(fs, "algoStrategy")) {
                n = rd_count(fs, "algoParams count", 2);
                for (int64_t i = 0; i < 2 * n && !fs->err[0]; i++)
                        tws_rd_skip(fs, "algoParam");
        }
        skip_int(fs, "solicited");
}

/* openOrder after its message id, in the layout te_tws_enc_open_order writes (with
 * every optional group). */
void tws_dec_open_order(te_tws_fields_t *fs, te_tws_open_order_t *oo)
{
        te_tws_order_t *o = &oo->order;
        o->order_id = tws_rd_int(fs, "orderId");
        /* contract */
        skip_int(fs, "conId");
        tws_rd_str(fs, "symbol", o->symbol, sizeof o->symbol);
        tws_rd_str(fs, "secType", o->sec_type, sizeof o->sec_type);
        tws_rd_skip(fs, "lastTradeDateOrContractMonth");
        skip_dbl(fs, "strike");
        tws_rd_skip(fs, "right");
        tws_rd_skip(fs, "multiplier");
        tws_rd_str(fs, "exchange", o->exchange, sizeof o->exchange);
        tws_rd_str(fs, "currency", o->currency, sizeof o->currency);
        tws_rd_skip(fs, "localSymbol");
        tws_rd_skip(fs, "tradingClass");
        /* order */
        tws_rd_str(fs, "action", o->action, sizeof o->action);
        o->total_qty = tws_rd_dbl(fs, "totalQuantity");
        tws_rd_str(fs, "orderType", o->order_type, sizeof o->order_type);
        o->lmt_price = tws_rd_dbl_opt(fs, "lmtPrice", &o->has_lmt_price);
        o->aux_price = tws_rd_dbl_opt(fs, "auxPrice", &o->has_aux_price);
        tws_rd_str(fs, "tif", o->tif, sizeof o->tif);
        tws_rd_skip(fs, "ocaGroup");
        tws_rd_str(fs, "account", o->account, sizeof o->account);
        tws_rd_skip(fs, "openClose");
        skip_int(fs, "origin");
        tws_rd_str(fs, "orderRef", o->order_ref, sizeof o->order_ref);
        oo->client_id = tws_rd_int(fs, "clientId");
        oo->perm_id = tws_rd_int(fs, "permId");
        skip_int(fs, "outsideRth");
        skip_int(fs, "hidden");
        skip_dbl(fs, "discretionaryAmt");
        tws_rd_skip(fs, "goodAfterTime");
        tws_rd_skip(fs, "sharesAllocation");
        tws_rd_skip(fs, "faGroup");
        tws_rd_skip(fs, "faMethod");
        tws_rd_skip(fs, "faPercentage");
        tws_rd_skip(fs, "faProfile");
        tws_rd_skip(fs, "modelCode");
        tws_rd_skip(fs, "goodTillDate");
        tws_rd_skip(fs, "rule80A");
        skip_dbl(fs, "percentOffset");
        tws_rd_skip(fs, "settlingFirm");
        skip_int(fs, "shortSaleSlot");
        tws_rd_skip(fs, "designatedLocation");
        skip_int(fs, "exemptCode");
        skip_int(fs, "auctionStrategy");
        skip_dbl(fs, "startingPrice");
        skip_dbl(fs, "stockRefPrice");
        skip_dbl(fs, "delta");
        skip_dbl(fs, "stockRangeLower");
        skip_dbl(fs, "stockRangeUpper");
        skip_int(fs, "displaySize");
        skip_int(fs, "blockOrder");
        skip_int(fs, "sweepToFill");
        skip_int(fs, "allOrNone");
        skip_int(fs, "minQty");
        skip_int(fs, "ocaType");
        skip_int(fs, "eTradeOnly");
        skip_int(fs, "firmQuoteOnly");
        skip_dbl(fs, "nbboPriceCap");
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
        skip_dbl(fs, "commission");
        skip_dbl(fs, "minCommission");
        skip_dbl(fs, "maxCommission");
        tws_rd_skip(fs, "commissionCurrency");
        tws_rd_skip(fs, "warningText");
        /* later attributes */
        skip_int(fs, "randomizeSize");
        skip_int(fs, "randomizePrice");
        if (!strcmp(o->order_type, "PEG BENCH")) {
                skip_int(fs, "referenceContractId");
                skip_int(fs, "isPeggedChangeAmountDecrease");
                skip_dbl(fs, "peggedChangeAmount");
                skip_dbl(fs, "referenceChangeAmount");
                tws_rd_skip(fs, "referenceExchangeId");
        }
        dec_conditions(fs);
        tws_rd_skip(fs, "adjustedOrderType");
        skip_dbl(fs, "triggerPrice");
        skip_dbl(fs, "trailStopPrice");
        skip_dbl(fs, "lmtPriceOffset");
        skip_dbl(fs, "adjustedStopPrice");
        skip_dbl(fs, "adjustedStopLimitPrice");
        skip_dbl(fs, "adjustedTrailingAmount");
        skip_int(fs, "adjustableTrailingUnit");
        tws_rd_skip(fs, "softDollarTier name");
        tws_rd_skip(fs, "softDollarTier value");
        tws_rd_skip(fs, "softDollarTier displayName");
        skip_dbl(fs, "cashQty");
        skip_int(fs, "dontUseAutoPriceForHedge");
        skip_int(fs, "isOmsContainer");
        skip_int(fs, "discretionaryUpToLimitPrice");
        skip_int(fs, "usePriceMgmtAlgo");
        skip_int(fs, "duration");
        skip_int(fs, "postToAts");
        skip_int(fs, "autoCancelParent");
        skip_int(fs, "minTradeQty");
        skip_int(fs, "minCompeteSize");
        skip_dbl(fs, "competeAgainstBestOffset");
        skip_dbl(fs, "midOffsetAtWhole");
        skip_dbl(fs, "midOffsetAtHalf");
}
