/*
 * tws_server: the server side of the TWS API text protocol (brokers/tws_proto.h), for
 * the fake TWS and the codec's tests: the encoders of what TWS sends, the decoders of
 * what a client sends (handshake and requests), and reqIds, which our client does not
 * send. The production adapter only needs the other direction; the field readers and
 * the frame writer are shared with it through brokers/tws_proto_int.h.
 */
#include <stdio.h>
#include <string.h>

#include "tws_proto_int.h"
#include "tws_server.h"

int te_tws_enc_req_ids(te_buf_t *out, int num_ids)
{
        return tws_e_ints(out, (const int64_t[]){TE_TWS_OUT_REQ_IDS, 1, num_ids}, 3);
}

int te_tws_enc_server_version(te_buf_t *out, int version, const char *conn_time)
{
        tws_enc_t e;
        tws_e_begin(&e, out);
        tws_e_int(&e, version);
        tws_e_str(&e, conn_time);
        return tws_e_end(&e);
}

int te_tws_enc_next_valid_id(te_buf_t *out, int64_t id)
{
        return tws_e_ints(out, (const int64_t[]){TE_TWS_IN_NEXT_VALID_ID, 1, id}, 3);
}

int te_tws_enc_managed_accts(te_buf_t *out, const char *accounts)
{
        tws_enc_t e;
        tws_e_begin(&e, out);
        tws_e_int(&e, TE_TWS_IN_MANAGED_ACCTS);
        tws_e_int(&e, 1);
        tws_e_str(&e, accounts);
        return tws_e_end(&e);
}

/* orderStatus (>= 131: no version field): 12 fields. */
int te_tws_enc_order_status(te_buf_t *out, const te_tws_order_status_t *s)
{
        tws_enc_t e;
        tws_e_begin(&e, out);
        tws_e_int(&e, TE_TWS_IN_ORDER_STATUS);
        tws_e_int(&e, s->order_id);
        tws_e_str(&e, s->status);
        tws_e_dbl(&e, s->filled);
        tws_e_dbl(&e, s->remaining);
        tws_e_dbl(&e, s->avg_fill_price);
        tws_e_int(&e, s->perm_id);
        tws_e_int(&e, s->parent_id);
        tws_e_dbl(&e, s->last_fill_price);
        tws_e_int(&e, s->client_id);
        tws_e_str(&e, s->why_held);
        tws_e_dbl(&e, s->mkt_cap_price);
        return tws_e_end(&e);
}

int te_tws_enc_open_order_end(te_buf_t *out)
{
        return tws_e_ints(out, (const int64_t[]){TE_TWS_IN_OPEN_ORDER_END, 1}, 2);
}

/* execDetails (>= 136: no version field; < 178: no pendingPriceRevision): 31 fields. */
int te_tws_enc_exec_details(te_buf_t *out, const te_tws_exec_t *x)
{
        tws_enc_t e;
        tws_e_begin(&e, out);
        tws_e_int(&e, TE_TWS_IN_EXEC_DETAILS);
        tws_e_int(&e, x->req_id);
        tws_e_int(&e, x->order_id);
        tws_e_int(&e, x->con_id);
        tws_e_str(&e, x->symbol);
        tws_e_str(&e, x->sec_type);
        tws_e_blanks(&e, "s:lastTradeDate,i:strike,s:right,s:multiplier");
        tws_e_str(&e, x->exchange);
        tws_e_str(&e, x->currency);
        tws_e_str(&e, x->symbol); /* localSymbol */
        tws_e_str(&e, "");        /* tradingClass */
        tws_e_str(&e, x->exec_id);
        tws_e_str(&e, x->time);
        tws_e_str(&e, x->account);
        tws_e_str(&e, x->exchange);
        tws_e_str(&e, x->side);
        tws_e_dbl(&e, x->shares);
        tws_e_dbl(&e, x->price);
        tws_e_int(&e, x->perm_id);
        tws_e_int(&e, x->client_id);
        tws_e_int(&e, x->liquidation);
        tws_e_dbl(&e, x->cum_qty);
        tws_e_dbl(&e, x->avg_price);
        tws_e_str(&e, x->order_ref);
        tws_e_blanks(&e, "s:evRule,s:evMultiplier,s:modelCode,i:lastLiquidity");
        return tws_e_end(&e);
}

int te_tws_enc_exec_details_end(te_buf_t *out, int64_t req_id)
{
        return tws_e_ints(out, (const int64_t[]){TE_TWS_IN_EXEC_DETAILS_END, 1, req_id},
                          3);
}

int te_tws_enc_commission(te_buf_t *out, const te_tws_commission_t *c)
{
        tws_enc_t e;
        tws_e_begin(&e, out);
        tws_e_int(&e, TE_TWS_IN_COMMISSION_REPORT);
        tws_e_int(&e, 1);
        tws_e_str(&e, c->exec_id);
        tws_e_dbl(&e, c->commission);
        tws_e_str(&e, c->currency);
        tws_e_str(&e, "1.7976931348623157E308"); /* realizedPNL: unset */
        tws_e_str(&e, "1.7976931348623157E308"); /* yield: unset */
        tws_e_str(&e, "");                       /* yieldRedemptionDate */
        return tws_e_end(&e);
}

/* error (>= 166: advancedOrderRejectJson; < 194: no errorTime): 6 fields. */
int te_tws_enc_error(te_buf_t *out, int64_t id, int64_t code, const char *text)
{
        tws_enc_t e;
        tws_e_begin(&e, out);
        tws_e_int(&e, TE_TWS_IN_ERROR);
        tws_e_int(&e, 2);
        tws_e_int(&e, id);
        tws_e_int(&e, code);
        tws_e_str(&e, text);
        tws_e_str(&e, ""); /* advancedOrderRejectJson */
        return tws_e_end(&e);
}

int te_tws_enc_position(te_buf_t *out, const te_tws_position_t *p)
{
        tws_enc_t e;
        tws_e_begin(&e, out);
        tws_e_int(&e, TE_TWS_IN_POSITION);
        tws_e_int(&e, 3);
        tws_e_str(&e, p->account);
        tws_e_int(&e, p->con_id);
        tws_e_str(&e, p->symbol);
        tws_e_str(&e, p->sec_type);
        tws_e_blanks(&e, "s:lastTradeDate,i:strike,s:right,s:multiplier,s:exchange");
        tws_e_str(&e, p->currency);
        tws_e_str(&e, p->symbol); /* localSymbol */
        tws_e_str(&e, "");        /* tradingClass */
        tws_e_dbl(&e, p->position);
        tws_e_dbl(&e, p->avg_cost);
        return tws_e_end(&e);
}

int te_tws_enc_position_end(te_buf_t *out)
{
        return tws_e_ints(out, (const int64_t[]){TE_TWS_IN_POSITION_END, 1}, 2);
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
        tws_e_blanks(&e, "s:lastTradeDateOrContractMonth,i:strike,s:right,s:multiplier");
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
        tws_e_blanks(&e, "s:openClose,i:origin");
        tws_e_str(&e, o->order_ref);  /* orderRef */
        tws_e_int(&e, oo->client_id); /* clientId */
        tws_e_int(&e, oo->perm_id);   /* permId */
        tws_e_blanks(&e,
                     "i:outsideRth,i:hidden,i:discretionaryAmt,s:goodAfterTime,"
                     "s:deprecated sharesAllocation,s:faGroup,s:faMethod,s:faPercentage,"
                     "s:faProfile,s:modelCode,s:goodTillDate,s:rule80A,s:percentOffset,"
                     "s:settlingFirm,i:shortSaleSlot,s:designatedLocation,x:exemptCode,"
                     "i:auctionStrategy,s:startingPrice,s:stockRefPrice,s:delta,"
                     "s:stockRangeLower,s:stockRangeUpper,s:displaySize,i:blockOrder,"
                     "i:sweepToFill,i:allOrNone,s:minQty,i:ocaType,i:eTradeOnly,"
                     "i:firmQuoteOnly,s:nbboPriceCap");
        tws_e_int(&e, oo->parent_id); /* parentId */
        tws_e_blanks(&e,
                     "i:triggerMethod,s:volatility,i:volatilityType,"
                     "s:deltaNeutralOrderType,s:deltaNeutralAuxPrice,i:continuousUpdate,"
                     "i:referencePriceType,s:trailStopPrice,s:trailingPercent,"
                     "s:basisPoints,s:basisPointsType,s:comboLegsDescrip,"
                     "i:comboLegs count,i:orderComboLegs count,"
                     "i:smartComboRoutingParams count,s:scaleInitLevelSize,"
                     "s:scaleSubsLevelSize,s:scalePriceIncrement,s:hedgeType,"
                     "i:optOutSmartRouting,s:clearingAccount,s:clearingIntent,i:notHeld,"
                     "i:deltaNeutralContract,s:algoStrategy,i:solicited,i:whatIf");
        /* order state */
        tws_e_str(&e, oo->status); /* status */
        tws_e_blanks(&e,
                     "s:initMarginBefore,s:maintMarginBefore,s:equityWithLoanBefore,"
                     "s:initMarginChange,s:maintMarginChange,s:equityWithLoanChange,"
                     "s:initMarginAfter,s:maintMarginAfter,s:equityWithLoanAfter,"
                     "s:commission,s:minCommission,s:maxCommission,s:commissionCurrency,"
                     "s:warningText");
        /* later attributes */
        tws_e_blanks(&e,
                     "i:randomizeSize,i:randomizePrice,i:conditions count,"
                     "s:adjustedOrderType,s:triggerPrice,s:trailStopPrice,"
                     "s:lmtPriceOffset,s:adjustedStopPrice,s:adjustedStopLimitPrice,"
                     "s:adjustedTrailingAmount,i:adjustableTrailingUnit,"
                     "s:softDollarTier name,s:softDollarTier value,"
                     "s:softDollarTier displayName,s:cashQty,i:dontUseAutoPriceForHedge,"
                     "i:isOmsContainer,i:discretionaryUpToLimitPrice,i:usePriceMgmtAlgo,"
                     "s:duration,s:postToAts,i:autoCancelParent,s:minTradeQty,"
                     "s:minCompeteSize,s:competeAgainstBestOffset,s:midOffsetAtWhole,"
                     "s:midOffsetAtHalf");
        return tws_e_end(&e);
}

/* placeOrder after its message id: the contract and the order up to orderRef (the
 * fields after it are not read). */
static void dec_place_order(te_tws_fields_t *fs, te_tws_order_t *o)
{
        o->order_id = tws_rd_int(fs, "orderId");
        tws_rd_skip(fs, "conId");
        tws_rd_str(fs, "symbol", o->symbol, sizeof o->symbol);
        tws_rd_str(fs, "secType", o->sec_type, sizeof o->sec_type);
        tws_rd_skips(fs, "s:lastTradeDate,s:strike,s:right,s:multiplier");
        tws_rd_str(fs, "exchange", o->exchange, sizeof o->exchange);
        tws_rd_skip(fs, "primaryExch");
        tws_rd_str(fs, "currency", o->currency, sizeof o->currency);
        tws_rd_skips(fs, "s:localSymbol,s:tradingClass,s:secIdType,s:secId");
        tws_rd_str(fs, "action", o->action, sizeof o->action);
        o->total_qty = tws_rd_dbl(fs, "totalQuantity");
        tws_rd_str(fs, "orderType", o->order_type, sizeof o->order_type);
        o->lmt_price = tws_rd_dbl_opt(fs, "lmtPrice", &o->has_lmt_price);
        o->aux_price = tws_rd_dbl_opt(fs, "auxPrice", &o->has_aux_price);
        tws_rd_str(fs, "tif", o->tif, sizeof o->tif);
        tws_rd_skip(fs, "ocaGroup");
        tws_rd_str(fs, "account", o->account, sizeof o->account);
        tws_rd_skips(fs, "s:openClose,s:origin");
        tws_rd_str(fs, "orderRef", o->order_ref, sizeof o->order_ref);
}

te_tws_rc_t te_tws_dec_request(const uint8_t *payload, size_t len, te_tws_req_t *req,
                               char *errstr, size_t errsz)
{
        te_tws_fields_t fs;
        memset(req, 0, sizeof *req);
        if (te_tws_fields_split(&fs, payload, len) != 0) {
                snprintf(errstr, errsz, "%s", fs.err);
                return TE_TWS_EMALFORMED;
        }
        int64_t id = tws_rd_int(&fs, "msgId");
        req->id = (int)id;
        switch (id) {
        case TE_TWS_OUT_START_API:
                tws_rd_skip(&fs, "version");
                req->u.client_id = tws_rd_int(&fs, "clientId");
                break;
        case TE_TWS_OUT_PLACE_ORDER:
                dec_place_order(&fs, &req->u.place);
                break;
        case TE_TWS_OUT_CANCEL_ORDER:
                tws_rd_skip(&fs, "version");
                req->u.cancel_id = tws_rd_int(&fs, "orderId");
                break;
        case TE_TWS_OUT_REQ_EXECUTIONS:
                tws_rd_skip(&fs, "version");
                req->u.exec_filter.req_id = tws_rd_int(&fs, "reqId");
                req->u.exec_filter.client_id = tws_rd_int(&fs, "clientId");
                tws_rd_str(&fs, "acctCode", req->u.exec_filter.account,
                           sizeof req->u.exec_filter.account);
                break;
        case TE_TWS_OUT_REQ_IDS:
                tws_rd_skip(&fs, "version");
                req->u.num_ids = tws_rd_int(&fs, "numIds");
                break;
        default:
                break;
        }
        return tws_finish(&fs, errstr, errsz);
}

te_tws_rc_t te_tws_dec_handshake(const uint8_t *data, size_t len, int *min_ver,
                                 int *max_ver, size_t *consumed, char *errstr,
                                 size_t errsz)
{
        if (len < 4)
                return TE_TWS_EAGAIN;
        if (memcmp(data, "API", 4) != 0) {
                snprintf(errstr, errsz, "handshake does not start with API\\0");
                return TE_TWS_EMALFORMED;
        }
        const uint8_t *payload;
        size_t plen, used;
        te_tws_rc_t rc = te_tws_frame_next(data + 4, len - 4, 256, &payload, &plen, &used,
                                           errstr, errsz);
        if (rc != TE_TWS_OK)
                return rc;
        char v[257];
        memcpy(v, payload, plen);
        v[plen] = '\0';
        int a = 0, b = 0, n = 0;
        if (sscanf(v, "v%d..%d%n", &a, &b, &n) == 2 && (size_t)n == plen) {
                /* range, as TWS clients send it */
        } else if (sscanf(v, "v%d..v%d%n", &a, &b, &n) == 2 && (size_t)n == plen) {
                /* range with a second 'v' (accepted too) */
        } else if (sscanf(v, "v%d%n", &a, &n) == 1 && (size_t)n == plen) {
                b = a;
        } else {
                snprintf(errstr, errsz, "bad version range");
                return TE_TWS_EMALFORMED;
        }
        if (a < 1 || b < a) {
                snprintf(errstr, errsz, "bad version range v%d..v%d", a, b);
                return TE_TWS_EMALFORMED;
        }
        *min_ver = a;
        *max_ver = b;
        *consumed = 4 + used;
        return TE_TWS_OK;
}
