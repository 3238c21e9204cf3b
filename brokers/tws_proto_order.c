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

/* openOrder: the first 24 fields (order id, contract, order core, orderRef) followed
 * by the order state's status. A real TWS sends ~150 more fields between them; our
 * decoder reads the prefix and ignores the rest, so this short form is what the fake
 * sends (documented in tests/fake_tws). */
int te_tws_enc_open_order(te_buf_t *out, const te_tws_order_t *o, const char *status)
{
        tws_enc_t e;
        tws_e_begin(&e, out);
        tws_e_int(&e, TE_TWS_IN_OPEN_ORDER);
        tws_e_int(&e, o->order_id);
        tws_e_int(&e, 0);           /* conId */
        tws_e_str(&e, o->symbol);   /* symbol */
        tws_e_str(&e, o->sec_type); /* secType */
        tws_e_str(&e, "");          /* lastTradeDate */
        tws_e_int(&e, 0);           /* strike */
        tws_e_str(&e, "");          /* right */
        tws_e_str(&e, "");          /* multiplier */
        tws_e_str(&e, o->exchange); /* exchange */
        tws_e_str(&e, o->currency); /* currency */
        tws_e_str(&e, o->symbol);   /* localSymbol */
        tws_e_str(&e, "");          /* tradingClass */
        tws_e_str(&e, o->action);
        tws_e_dbl(&e, o->total_qty);
        tws_e_str(&e, o->order_type);
        tws_e_dbl_opt(&e, o->has_lmt_price, o->lmt_price);
        tws_e_dbl_opt(&e, o->has_aux_price, o->aux_price);
        tws_e_str(&e, o->tif);
        tws_e_str(&e, ""); /* ocaGroup */
        tws_e_str(&e, o->account);
        tws_e_str(&e, ""); /* openClose */
        tws_e_int(&e, 0);  /* origin */
        tws_e_str(&e, o->order_ref);
        tws_e_str(&e, status);
        return tws_e_end(&e);
}

void tws_dec_order_prefix(te_tws_fields_t *fs, te_tws_order_t *o)
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
}

void tws_dec_order_core(te_tws_fields_t *fs, te_tws_order_t *o)
{
        size_t n;
        tws_rd_str(fs, "action", o->action, sizeof o->action);
        o->total_qty = tws_rd_dbl(fs, "totalQuantity");
        tws_rd_str(fs, "orderType", o->order_type, sizeof o->order_type);
        if (fs->pos < fs->n)
                o->has_lmt_price = fs->flen[fs->pos] > 0;
        o->lmt_price = tws_rd_dbl(fs, "lmtPrice");
        if (fs->pos < fs->n)
                o->has_aux_price = fs->flen[fs->pos] > 0;
        o->aux_price = tws_rd_dbl(fs, "auxPrice");
        tws_rd_str(fs, "tif", o->tif, sizeof o->tif);
        (void)tws_fnext(fs, "ocaGroup", &n);
        tws_rd_str(fs, "account", o->account, sizeof o->account);
        tws_rd_skip(fs, "openClose");
        tws_rd_skip(fs, "origin");
        tws_rd_str(fs, "orderRef", o->order_ref, sizeof o->order_ref);
}
