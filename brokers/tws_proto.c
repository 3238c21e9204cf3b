/*
 * tws_proto: encoder and decoder of the TWS API text protocol at server versions
 * 170..176 (see tws_proto.h). Every field layout below is written out in order; a
 * comment names each field. Numbers: ints are plain decimal; doubles are written in
 * their shortest round-trip form; an unset double is an empty field; booleans are
 * "0"/"1". On input an empty numeric field reads as 0 (as TWS itself does), and the
 * "unset" sentinels (DBL_MAX, the unset Decimal) read as 0.
 */
#include "tws_proto.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- framing --------------------------------------------------------------- */

te_tws_rc_t te_tws_frame_next(const uint8_t *data, size_t len, size_t max_payload,
                              const uint8_t **payload, size_t *payload_len,
                              size_t *consumed, char *errstr, size_t errstr_size)
{
        if (len < 4)
                return TE_TWS_EAGAIN;
        uint32_t n = ((uint32_t)data[0] << 24) | ((uint32_t)data[1] << 16) |
                     ((uint32_t)data[2] << 8) | (uint32_t)data[3];
        if (n == 0 || n > max_payload) {
                snprintf(errstr, errstr_size, "frame length %u outside 1..%zu", n,
                         max_payload);
                return TE_TWS_EMALFORMED;
        }
        if (len - 4 < n)
                return TE_TWS_EAGAIN;
        *payload = data + 4;
        *payload_len = n;
        *consumed = 4 + (size_t)n;
        return TE_TWS_OK;
}

int te_tws_fields_split(te_tws_fields_t *fs, const uint8_t *payload, size_t len)
{
        fs->n = fs->pos = 0;
        fs->err[0] = '\0';
        if (len == 0 || payload[len - 1] != '\0') {
                snprintf(fs->err, sizeof fs->err, "payload does not end with NUL");
                return -1;
        }
        size_t start = 0;
        for (size_t i = 0; i < len; i++) {
                if (payload[i] != '\0')
                        continue;
                if (fs->n == TE_TWS_MAX_FIELDS) {
                        snprintf(fs->err, sizeof fs->err, "more than %d fields",
                                 TE_TWS_MAX_FIELDS);
                        return -1;
                }
                fs->f[fs->n] = (const char *)payload + start;
                fs->flen[fs->n] = i - start;
                fs->n++;
                start = i + 1;
        }
        return 0;
}

static void ferr(te_tws_fields_t *fs, const char *what, const char *why)
{
        if (!fs->err[0])
                snprintf(fs->err, sizeof fs->err, "field %zu (%s): %s", fs->pos, what,
                         why);
}

/* The next field, or NULL (error recorded) when there are no more. */
static const char *fnext(te_tws_fields_t *fs, const char *what, size_t *flen)
{
        if (fs->pos >= fs->n) {
                ferr(fs, what, "missing (too few fields)");
                return NULL;
        }
        *flen = fs->flen[fs->pos];
        return fs->f[fs->pos++];
}

static void rd_str(te_tws_fields_t *fs, const char *what, char *dst, size_t dstsz)
{
        size_t n;
        const char *s = fnext(fs, what, &n);
        if (!s) {
                dst[0] = '\0';
                return;
        }
        if (n >= dstsz) {
                ferr(fs, what, "string too long");
                dst[0] = '\0';
                return;
        }
        memcpy(dst, s, n);
        dst[n] = '\0';
}

static void rd_skip(te_tws_fields_t *fs, const char *what)
{
        size_t n;
        (void)fnext(fs, what, &n);
}

static int64_t rd_int(te_tws_fields_t *fs, const char *what)
{
        size_t n;
        const char *s = fnext(fs, what, &n);
        if (!s || n == 0)
                return 0;
        if (n > 20) {
                ferr(fs, what, "integer too long");
                return 0;
        }
        char tmp[24];
        memcpy(tmp, s, n);
        tmp[n] = '\0';
        const char *p = tmp;
        if (*p == '-')
                p++;
        if (!*p) {
                ferr(fs, what, "not an integer");
                return 0;
        }
        for (; *p; p++)
                if (*p < '0' || *p > '9') {
                        ferr(fs, what, "not an integer");
                        return 0;
                }
        errno = 0;
        long long v = strtoll(tmp, NULL, 10);
        if (errno == ERANGE) {
                ferr(fs, what, "integer out of range");
                return 0;
        }
        return (int64_t)v;
}

static double rd_dbl(te_tws_fields_t *fs, const char *what)
{
        size_t n;
        const char *s = fnext(fs, what, &n);
        if (!s || n == 0)
                return 0;
        if (n > 48) {
                ferr(fs, what, "number too long");
                return 0;
        }
        char tmp[56];
        memcpy(tmp, s, n);
        tmp[n] = '\0';
        for (const char *p = tmp; *p; p++)
                if (!((*p >= '0' && *p <= '9') || *p == '.' || *p == '-' || *p == '+' ||
                      *p == 'e' || *p == 'E')) {
                        ferr(fs, what, "not a number");
                        return 0;
                }
        char *end;
        errno = 0;
        double v = strtod(tmp, &end);
        if (end != tmp + n || !isfinite(v)) {
                ferr(fs, what, "not a number");
                return 0;
        }
        if (v >= 1e300 || v <= -1e300 || v >= 1e38)
                return 0; /* TWS "unset" sentinels (DBL_MAX, unset Decimal) */
        return v;
}

/* ---- encoding -------------------------------------------------------------- */

typedef struct enc_s {
        te_buf_t *out;
        size_t start;
        int err;
} enc_t;

static void e_begin(enc_t *e, te_buf_t *out)
{
        e->out = out;
        e->start = out->len;
        e->err = te_buf_append(out, "\0\0\0\0", 4);
}

static void e_str(enc_t *e, const char *s)
{
        if (!e->err)
                e->err = te_buf_append(e->out, s, strlen(s) + 1);
}

static void e_int(enc_t *e, int64_t v)
{
        char tmp[32];
        snprintf(tmp, sizeof tmp, "%lld", (long long)v);
        e_str(e, tmp);
}

static void e_dbl(enc_t *e, double v)
{
        char tmp[40];
        if (te_fmt_double(tmp, sizeof tmp, v) < 0 || !isfinite(v)) {
                e->err = -1;
                return;
        }
        e_str(e, tmp);
}

static void e_dbl_opt(enc_t *e, int has, double v)
{
        if (has)
                e_dbl(e, v);
        else
                e_str(e, "");
}

static int e_end(enc_t *e)
{
        if (e->err) {
                e->out->len = e->start;
                return -1;
        }
        size_t n = e->out->len - e->start - 4;
        if (n > TE_TWS_MAX_FRAME) {
                e->out->len = e->start;
                return -1;
        }
        uint8_t *p = e->out->data + e->start;
        p[0] = (uint8_t)(n >> 24);
        p[1] = (uint8_t)(n >> 16);
        p[2] = (uint8_t)(n >> 8);
        p[3] = (uint8_t)n;
        return 0;
}

int te_tws_enc_handshake(te_buf_t *out, int min_ver, int max_ver)
{
        char v[48];
        int n = snprintf(v, sizeof v, "v%d..%d", min_ver, max_ver);
        size_t start = out->len;
        uint8_t len[4] = {0, 0, (uint8_t)(n >> 8), (uint8_t)n};
        if (te_buf_append(out, "API", 4) || te_buf_append(out, len, 4) ||
            te_buf_append(out, v, (size_t)n)) {
                out->len = start;
                return -1;
        }
        return 0;
}

int te_tws_enc_start_api(te_buf_t *out, int64_t client_id)
{
        enc_t e;
        e_begin(&e, out);
        e_int(&e, TE_TWS_OUT_START_API);
        e_int(&e, 2); /* version */
        e_int(&e, client_id);
        e_str(&e, ""); /* optional capabilities */
        return e_end(&e);
}

/* placeOrder at server versions 170..176, for a plain (non-combo, non-algo) order:
 * 115 fields. */
int te_tws_enc_place_order(te_buf_t *out, const te_tws_order_t *o)
{
        enc_t e;
        e_begin(&e, out);
        e_int(&e, TE_TWS_OUT_PLACE_ORDER);
        e_int(&e, o->order_id);
        /* contract */
        e_int(&e, 0);           /* conId */
        e_str(&e, o->symbol);   /* symbol */
        e_str(&e, o->sec_type); /* secType */
        e_str(&e, "");          /* lastTradeDateOrContractMonth */
        e_int(&e, 0);           /* strike */
        e_str(&e, "");          /* right */
        e_str(&e, "");          /* multiplier */
        e_str(&e, o->exchange); /* exchange */
        e_str(&e, "");          /* primaryExch */
        e_str(&e, o->currency); /* currency */
        e_str(&e, "");          /* localSymbol */
        e_str(&e, "");          /* tradingClass */
        e_str(&e, "");          /* secIdType */
        e_str(&e, "");          /* secId */
        /* main order fields */
        e_str(&e, o->action);                          /* action */
        e_dbl(&e, o->total_qty);                       /* totalQuantity */
        e_str(&e, o->order_type);                      /* orderType */
        e_dbl_opt(&e, o->has_lmt_price, o->lmt_price); /* lmtPrice */
        e_dbl_opt(&e, o->has_aux_price, o->aux_price); /* auxPrice */
        e_str(&e, o->tif);                             /* tif */
        e_str(&e, "");                                 /* ocaGroup */
        e_str(&e, o->account);                         /* account */
        e_str(&e, "");                                 /* openClose */
        e_int(&e, 0);                                  /* origin: customer */
        e_str(&e, o->order_ref);                       /* orderRef */
        e_int(&e, 1);                                  /* transmit */
        e_int(&e, 0);                                  /* parentId */
        e_int(&e, 0);                                  /* blockOrder */
        e_int(&e, 0);                                  /* sweepToFill */
        e_int(&e, 0);                                  /* displaySize */
        e_int(&e, 0);                                  /* triggerMethod */
        e_int(&e, 0);                                  /* outsideRth */
        e_int(&e, 0);                                  /* hidden */
        e_str(&e, "");                                 /* deprecated sharesAllocation */
        e_int(&e, 0);                                  /* discretionaryAmt */
        e_str(&e, "");                                 /* goodAfterTime */
        e_str(&e, "");                                 /* goodTillDate */
        e_str(&e, "");                                 /* faGroup */
        e_str(&e, "");                                 /* faMethod */
        e_str(&e, "");                                 /* faPercentage */
        e_str(&e, "");                                 /* faProfile (< 177) */
        e_str(&e, "");                                 /* modelCode */
        e_int(&e, 0);                                  /* shortSaleSlot */
        e_str(&e, "");                                 /* designatedLocation */
        e_int(&e, -1);                                 /* exemptCode */
        e_int(&e, 0);                                  /* ocaType */
        e_str(&e, "");                                 /* rule80A */
        e_str(&e, "");                                 /* settlingFirm */
        e_int(&e, 0);                                  /* allOrNone */
        e_str(&e, "");                                 /* minQty */
        e_str(&e, "");                                 /* percentOffset */
        e_int(&e, 0);                                  /* eTradeOnly */
        e_int(&e, 0);                                  /* firmQuoteOnly */
        e_str(&e, "");                                 /* nbboPriceCap */
        e_int(&e, 0);                                  /* auctionStrategy */
        e_str(&e, "");                                 /* startingPrice */
        e_str(&e, "");                                 /* stockRefPrice */
        e_str(&e, "");                                 /* delta */
        e_str(&e, "");                                 /* stockRangeLower */
        e_str(&e, "");                                 /* stockRangeUpper */
        e_int(&e, 0);                                  /* overridePercentageConstraints */
        e_str(&e, "");                                 /* volatility */
        e_str(&e, "");                                 /* volatilityType */
        e_str(&e, "");                                 /* deltaNeutralOrderType */
        e_str(&e, "");                                 /* deltaNeutralAuxPrice */
        e_int(&e, 0);                                  /* continuousUpdate */
        e_str(&e, "");                                 /* referencePriceType */
        e_str(&e, "");                                 /* trailStopPrice */
        e_str(&e, "");                                 /* trailingPercent */
        e_str(&e, "");                                 /* scaleInitLevelSize */
        e_str(&e, "");                                 /* scaleSubsLevelSize */
        e_str(&e, "");                                 /* scalePriceIncrement */
        e_str(&e, "");                                 /* scaleTable */
        e_str(&e, "");                                 /* activeStartTime */
        e_str(&e, "");                                 /* activeStopTime */
        e_str(&e, "");                                 /* hedgeType */
        e_int(&e, 0);                                  /* optOutSmartRouting */
        e_str(&e, "");                                 /* clearingAccount */
        e_str(&e, "");                                 /* clearingIntent */
        e_int(&e, 0);                                  /* notHeld */
        e_int(&e, 0);                                  /* deltaNeutralContract: none */
        e_str(&e, "");                                 /* algoStrategy */
        e_str(&e, "");                                 /* algoId */
        e_int(&e, 0);                                  /* whatIf */
        e_str(&e, "");                                 /* orderMiscOptions */
        e_int(&e, 0);                                  /* solicited */
        e_int(&e, 0);                                  /* randomizeSize */
        e_int(&e, 0);                                  /* randomizePrice */
        e_int(&e, 0);                                  /* conditions count */
        e_str(&e, "");                                 /* adjustedOrderType */
        e_str(&e, "");                                 /* triggerPrice */
        e_str(&e, "");                                 /* lmtPriceOffset */
        e_str(&e, "");                                 /* adjustedStopPrice */
        e_str(&e, "");                                 /* adjustedStopLimitPrice */
        e_str(&e, "");                                 /* adjustedTrailingAmount */
        e_int(&e, 0);                                  /* adjustableTrailingUnit */
        e_str(&e, "");                                 /* extOperator */
        e_str(&e, "");                                 /* softDollarTier name */
        e_str(&e, "");                                 /* softDollarTier value */
        e_str(&e, "");                                 /* cashQty */
        e_str(&e, "");                                 /* mifid2DecisionMaker */
        e_str(&e, "");                                 /* mifid2DecisionAlgo */
        e_str(&e, "");                                 /* mifid2ExecutionTrader */
        e_str(&e, "");                                 /* mifid2ExecutionAlgo */
        e_int(&e, 0);                                  /* dontUseAutoPriceForHedge */
        e_int(&e, 0);                                  /* isOmsContainer */
        e_int(&e, 0);                                  /* discretionaryUpToLimitPrice */
        e_str(&e, "");                                 /* usePriceMgmtAlgo */
        e_str(&e, "");                                 /* duration */
        e_str(&e, "");                                 /* postToAts */
        e_int(&e, 0);                                  /* autoCancelParent */
        e_str(&e, "");                                 /* advancedErrorOverride */
        e_str(&e, "");                                 /* manualOrderTime */
        return e_end(&e);
}

int te_tws_enc_cancel_order(te_buf_t *out, int64_t order_id)
{
        enc_t e;
        e_begin(&e, out);
        e_int(&e, TE_TWS_OUT_CANCEL_ORDER);
        e_int(&e, 1); /* version */
        e_int(&e, order_id);
        e_str(&e, ""); /* manualOrderCancelTime */
        return e_end(&e);
}

int te_tws_enc_req_open_orders(te_buf_t *out)
{
        enc_t e;
        e_begin(&e, out);
        e_int(&e, TE_TWS_OUT_REQ_OPEN_ORDERS);
        e_int(&e, 1);
        return e_end(&e);
}

int te_tws_enc_req_executions(te_buf_t *out, int64_t req_id, int64_t client_id,
                              const char *account)
{
        enc_t e;
        e_begin(&e, out);
        e_int(&e, TE_TWS_OUT_REQ_EXECUTIONS);
        e_int(&e, 3); /* version */
        e_int(&e, req_id);
        e_int(&e, client_id); /* filter: clientId */
        e_str(&e, account);   /* acctCode */
        e_str(&e, "");        /* time */
        e_str(&e, "");        /* symbol */
        e_str(&e, "");        /* secType */
        e_str(&e, "");        /* exchange */
        e_str(&e, "");        /* side */
        return e_end(&e);
}

int te_tws_enc_req_positions(te_buf_t *out)
{
        enc_t e;
        e_begin(&e, out);
        e_int(&e, TE_TWS_OUT_REQ_POSITIONS);
        e_int(&e, 1);
        return e_end(&e);
}

int te_tws_enc_req_ids(te_buf_t *out, int num_ids)
{
        enc_t e;
        e_begin(&e, out);
        e_int(&e, TE_TWS_OUT_REQ_IDS);
        e_int(&e, 1);
        e_int(&e, num_ids);
        return e_end(&e);
}

int te_tws_enc_server_version(te_buf_t *out, int version, const char *conn_time)
{
        enc_t e;
        e_begin(&e, out);
        e_int(&e, version);
        e_str(&e, conn_time);
        return e_end(&e);
}

int te_tws_enc_next_valid_id(te_buf_t *out, int64_t id)
{
        enc_t e;
        e_begin(&e, out);
        e_int(&e, TE_TWS_IN_NEXT_VALID_ID);
        e_int(&e, 1);
        e_int(&e, id);
        return e_end(&e);
}

int te_tws_enc_managed_accts(te_buf_t *out, const char *accounts)
{
        enc_t e;
        e_begin(&e, out);
        e_int(&e, TE_TWS_IN_MANAGED_ACCTS);
        e_int(&e, 1);
        e_str(&e, accounts);
        return e_end(&e);
}

/* orderStatus (>= 131: no version field): 12 fields. */
int te_tws_enc_order_status(te_buf_t *out, const te_tws_order_status_t *s)
{
        enc_t e;
        e_begin(&e, out);
        e_int(&e, TE_TWS_IN_ORDER_STATUS);
        e_int(&e, s->order_id);
        e_str(&e, s->status);
        e_dbl(&e, s->filled);
        e_dbl(&e, s->remaining);
        e_dbl(&e, s->avg_fill_price);
        e_int(&e, s->perm_id);
        e_int(&e, s->parent_id);
        e_dbl(&e, s->last_fill_price);
        e_int(&e, s->client_id);
        e_str(&e, s->why_held);
        e_dbl(&e, s->mkt_cap_price);
        return e_end(&e);
}

/* openOrder: the first 24 fields (order id, contract, order core, orderRef) followed
 * by the order state's status. A real TWS sends ~150 more fields between them; our
 * decoder reads the prefix and ignores the rest, so this short form is what the fake
 * sends (documented in tests/fake_tws). */
int te_tws_enc_open_order(te_buf_t *out, const te_tws_order_t *o, const char *status)
{
        enc_t e;
        e_begin(&e, out);
        e_int(&e, TE_TWS_IN_OPEN_ORDER);
        e_int(&e, o->order_id);
        e_int(&e, 0);           /* conId */
        e_str(&e, o->symbol);   /* symbol */
        e_str(&e, o->sec_type); /* secType */
        e_str(&e, "");          /* lastTradeDate */
        e_int(&e, 0);           /* strike */
        e_str(&e, "");          /* right */
        e_str(&e, "");          /* multiplier */
        e_str(&e, o->exchange); /* exchange */
        e_str(&e, o->currency); /* currency */
        e_str(&e, o->symbol);   /* localSymbol */
        e_str(&e, "");          /* tradingClass */
        e_str(&e, o->action);
        e_dbl(&e, o->total_qty);
        e_str(&e, o->order_type);
        e_dbl_opt(&e, o->has_lmt_price, o->lmt_price);
        e_dbl_opt(&e, o->has_aux_price, o->aux_price);
        e_str(&e, o->tif);
        e_str(&e, ""); /* ocaGroup */
        e_str(&e, o->account);
        e_str(&e, ""); /* openClose */
        e_int(&e, 0);  /* origin */
        e_str(&e, o->order_ref);
        e_str(&e, status);
        return e_end(&e);
}

int te_tws_enc_open_order_end(te_buf_t *out)
{
        enc_t e;
        e_begin(&e, out);
        e_int(&e, TE_TWS_IN_OPEN_ORDER_END);
        e_int(&e, 1);
        return e_end(&e);
}

/* execDetails (>= 136: no version field; < 178: no pendingPriceRevision): 31 fields. */
int te_tws_enc_exec_details(te_buf_t *out, const te_tws_exec_t *x)
{
        enc_t e;
        e_begin(&e, out);
        e_int(&e, TE_TWS_IN_EXEC_DETAILS);
        e_int(&e, x->req_id);
        e_int(&e, x->order_id);
        e_int(&e, x->con_id);
        e_str(&e, x->symbol);
        e_str(&e, x->sec_type);
        e_str(&e, ""); /* lastTradeDate */
        e_int(&e, 0);  /* strike */
        e_str(&e, ""); /* right */
        e_str(&e, ""); /* multiplier */
        e_str(&e, x->exchange);
        e_str(&e, x->currency);
        e_str(&e, x->symbol); /* localSymbol */
        e_str(&e, "");        /* tradingClass */
        e_str(&e, x->exec_id);
        e_str(&e, x->time);
        e_str(&e, x->account);
        e_str(&e, x->exchange);
        e_str(&e, x->side);
        e_dbl(&e, x->shares);
        e_dbl(&e, x->price);
        e_int(&e, x->perm_id);
        e_int(&e, x->client_id);
        e_int(&e, x->liquidation);
        e_dbl(&e, x->cum_qty);
        e_dbl(&e, x->avg_price);
        e_str(&e, x->order_ref);
        e_str(&e, ""); /* evRule */
        e_str(&e, ""); /* evMultiplier */
        e_str(&e, ""); /* modelCode */
        e_int(&e, 0);  /* lastLiquidity */
        return e_end(&e);
}

int te_tws_enc_exec_details_end(te_buf_t *out, int64_t req_id)
{
        enc_t e;
        e_begin(&e, out);
        e_int(&e, TE_TWS_IN_EXEC_DETAILS_END);
        e_int(&e, 1);
        e_int(&e, req_id);
        return e_end(&e);
}

int te_tws_enc_commission(te_buf_t *out, const te_tws_commission_t *c)
{
        enc_t e;
        e_begin(&e, out);
        e_int(&e, TE_TWS_IN_COMMISSION_REPORT);
        e_int(&e, 1);
        e_str(&e, c->exec_id);
        e_dbl(&e, c->commission);
        e_str(&e, c->currency);
        e_str(&e, "1.7976931348623157E308"); /* realizedPNL: unset */
        e_str(&e, "1.7976931348623157E308"); /* yield: unset */
        e_str(&e, "");                       /* yieldRedemptionDate */
        return e_end(&e);
}

/* error (>= 166: advancedOrderRejectJson; < 194: no errorTime): 6 fields. */
int te_tws_enc_error(te_buf_t *out, int64_t id, int64_t code, const char *text)
{
        enc_t e;
        e_begin(&e, out);
        e_int(&e, TE_TWS_IN_ERROR);
        e_int(&e, 2);
        e_int(&e, id);
        e_int(&e, code);
        e_str(&e, text);
        e_str(&e, ""); /* advancedOrderRejectJson */
        return e_end(&e);
}

int te_tws_enc_position(te_buf_t *out, const te_tws_position_t *p)
{
        enc_t e;
        e_begin(&e, out);
        e_int(&e, TE_TWS_IN_POSITION);
        e_int(&e, 3);
        e_str(&e, p->account);
        e_int(&e, p->con_id);
        e_str(&e, p->symbol);
        e_str(&e, p->sec_type);
        e_str(&e, ""); /* lastTradeDate */
        e_int(&e, 0);  /* strike */
        e_str(&e, ""); /* right */
        e_str(&e, ""); /* multiplier */
        e_str(&e, ""); /* exchange */
        e_str(&e, p->currency);
        e_str(&e, p->symbol); /* localSymbol */
        e_str(&e, "");        /* tradingClass */
        e_dbl(&e, p->position);
        e_dbl(&e, p->avg_cost);
        return e_end(&e);
}

int te_tws_enc_position_end(te_buf_t *out)
{
        enc_t e;
        e_begin(&e, out);
        e_int(&e, TE_TWS_IN_POSITION_END);
        e_int(&e, 1);
        return e_end(&e);
}

/* ---- decoding -------------------------------------------------------------- */

static te_tws_rc_t finish(te_tws_fields_t *fs, char *errstr, size_t errstr_size)
{
        if (fs->err[0]) {
                snprintf(errstr, errstr_size, "%s", fs->err);
                return TE_TWS_EMALFORMED;
        }
        return TE_TWS_OK;
}

te_tws_rc_t te_tws_dec_server_version(const uint8_t *payload, size_t len, int *version,
                                      char *conn_time, size_t conn_time_size,
                                      char *errstr, size_t errstr_size)
{
        te_tws_fields_t fs;
        if (te_tws_fields_split(&fs, payload, len) != 0) {
                snprintf(errstr, errstr_size, "server version: %s", fs.err);
                return TE_TWS_EMALFORMED;
        }
        int64_t v = rd_int(&fs, "serverVersion");
        rd_str(&fs, "connectionTime", conn_time, conn_time_size);
        if (finish(&fs, errstr, errstr_size) != TE_TWS_OK)
                return TE_TWS_EMALFORMED;
        if (v <= 0 || v > 100000) {
                snprintf(errstr, errstr_size, "server version %lld invalid",
                         (long long)v);
                return TE_TWS_EMALFORMED;
        }
        *version = (int)v;
        return TE_TWS_OK;
}

static void dec_order_prefix(te_tws_fields_t *fs, te_tws_order_t *o)
{
        o->order_id = rd_int(fs, "orderId");
        rd_skip(fs, "conId");
        rd_str(fs, "symbol", o->symbol, sizeof o->symbol);
        rd_str(fs, "secType", o->sec_type, sizeof o->sec_type);
        rd_skip(fs, "lastTradeDate");
        rd_skip(fs, "strike");
        rd_skip(fs, "right");
        rd_skip(fs, "multiplier");
        rd_str(fs, "exchange", o->exchange, sizeof o->exchange);
}

static void dec_order_core(te_tws_fields_t *fs, te_tws_order_t *o)
{
        size_t n;
        rd_str(fs, "action", o->action, sizeof o->action);
        o->total_qty = rd_dbl(fs, "totalQuantity");
        rd_str(fs, "orderType", o->order_type, sizeof o->order_type);
        if (fs->pos < fs->n)
                o->has_lmt_price = fs->flen[fs->pos] > 0;
        o->lmt_price = rd_dbl(fs, "lmtPrice");
        if (fs->pos < fs->n)
                o->has_aux_price = fs->flen[fs->pos] > 0;
        o->aux_price = rd_dbl(fs, "auxPrice");
        rd_str(fs, "tif", o->tif, sizeof o->tif);
        (void)fnext(fs, "ocaGroup", &n);
        rd_str(fs, "account", o->account, sizeof o->account);
        rd_skip(fs, "openClose");
        rd_skip(fs, "origin");
        rd_str(fs, "orderRef", o->order_ref, sizeof o->order_ref);
}

te_tws_rc_t te_tws_dec_message(const uint8_t *payload, size_t len, te_tws_msg_t *msg,
                               char *errstr, size_t errstr_size)
{
        te_tws_fields_t fs;
        memset(msg, 0, sizeof *msg);
        if (te_tws_fields_split(&fs, payload, len) != 0) {
                snprintf(errstr, errstr_size, "%s", fs.err);
                return TE_TWS_EMALFORMED;
        }
        int64_t id = rd_int(&fs, "msgId");
        if (fs.err[0])
                return finish(&fs, errstr, errstr_size);
        msg->raw_id = id;
        switch (id) {
        case TE_TWS_IN_ORDER_STATUS: {
                te_tws_order_status_t *s = &msg->u.status;
                msg->type = TE_TWS_IN_ORDER_STATUS;
                s->order_id = rd_int(&fs, "orderId");
                rd_str(&fs, "status", s->status, sizeof s->status);
                s->filled = rd_dbl(&fs, "filled");
                s->remaining = rd_dbl(&fs, "remaining");
                s->avg_fill_price = rd_dbl(&fs, "avgFillPrice");
                s->perm_id = rd_int(&fs, "permId");
                s->parent_id = rd_int(&fs, "parentId");
                s->last_fill_price = rd_dbl(&fs, "lastFillPrice");
                s->client_id = rd_int(&fs, "clientId");
                rd_str(&fs, "whyHeld", s->why_held, sizeof s->why_held);
                s->mkt_cap_price = rd_dbl(&fs, "mktCapPrice");
                break;
        }
        case TE_TWS_IN_ERROR: {
                te_tws_error_t *e = &msg->u.error;
                msg->type = TE_TWS_IN_ERROR;
                int64_t ver = rd_int(&fs, "version");
                if (ver < 2) {
                        /* version 1: text only */
                        e->id = -1;
                        rd_str(&fs, "errorMsg", e->text, sizeof e->text);
                        break;
                }
                e->id = rd_int(&fs, "id");
                e->code = rd_int(&fs, "errorCode");
                rd_str(&fs, "errorMsg", e->text, sizeof e->text);
                /* advancedOrderRejectJson (optional for robustness) is ignored */
                break;
        }
        case TE_TWS_IN_OPEN_ORDER: {
                te_tws_order_t *o = &msg->u.open_order;
                msg->type = TE_TWS_IN_OPEN_ORDER;
                dec_order_prefix(&fs, o);
                rd_str(&fs, "currency", o->currency, sizeof o->currency);
                rd_skip(&fs, "localSymbol");
                rd_skip(&fs, "tradingClass");
                dec_order_core(&fs, o);
                break;
        }
        case TE_TWS_IN_NEXT_VALID_ID:
                msg->type = TE_TWS_IN_NEXT_VALID_ID;
                rd_skip(&fs, "version");
                msg->u.next_valid_id = rd_int(&fs, "orderId");
                break;
        case TE_TWS_IN_EXEC_DETAILS: {
                te_tws_exec_t *x = &msg->u.exec;
                msg->type = TE_TWS_IN_EXEC_DETAILS;
                x->req_id = rd_int(&fs, "reqId");
                x->order_id = rd_int(&fs, "orderId");
                x->con_id = rd_int(&fs, "conId");
                rd_str(&fs, "symbol", x->symbol, sizeof x->symbol);
                rd_str(&fs, "secType", x->sec_type, sizeof x->sec_type);
                rd_skip(&fs, "lastTradeDate");
                rd_skip(&fs, "strike");
                rd_skip(&fs, "right");
                rd_skip(&fs, "multiplier");
                rd_skip(&fs, "exchange");
                rd_str(&fs, "currency", x->currency, sizeof x->currency);
                rd_skip(&fs, "localSymbol");
                rd_skip(&fs, "tradingClass");
                rd_str(&fs, "execId", x->exec_id, sizeof x->exec_id);
                rd_str(&fs, "time", x->time, sizeof x->time);
                rd_str(&fs, "acctNumber", x->account, sizeof x->account);
                rd_str(&fs, "exchange", x->exchange, sizeof x->exchange);
                rd_str(&fs, "side", x->side, sizeof x->side);
                x->shares = rd_dbl(&fs, "shares");
                x->price = rd_dbl(&fs, "price");
                x->perm_id = rd_int(&fs, "permId");
                x->client_id = rd_int(&fs, "clientId");
                x->liquidation = rd_int(&fs, "liquidation");
                x->cum_qty = rd_dbl(&fs, "cumQty");
                x->avg_price = rd_dbl(&fs, "avgPrice");
                rd_str(&fs, "orderRef", x->order_ref, sizeof x->order_ref);
                rd_skip(&fs, "evRule");
                rd_skip(&fs, "evMultiplier");
                rd_skip(&fs, "modelCode");
                rd_skip(&fs, "lastLiquidity");
                if (!fs.err[0] &&
                    (x->exec_id[0] == '\0' || x->shares <= 0 || x->price <= 0)) {
                        snprintf(
                            fs.err, sizeof fs.err,
                            "execDetails: empty execId or non-positive shares/price");
                }
                break;
        }
        case TE_TWS_IN_MANAGED_ACCTS:
                msg->type = TE_TWS_IN_MANAGED_ACCTS;
                rd_skip(&fs, "version");
                rd_str(&fs, "accountsList", msg->u.accounts, sizeof msg->u.accounts);
                break;
        case TE_TWS_IN_OPEN_ORDER_END:
                msg->type = TE_TWS_IN_OPEN_ORDER_END;
                rd_skip(&fs, "version");
                break;
        case TE_TWS_IN_EXEC_DETAILS_END:
                msg->type = TE_TWS_IN_EXEC_DETAILS_END;
                rd_skip(&fs, "version");
                msg->u.end_req_id = rd_int(&fs, "reqId");
                break;
        case TE_TWS_IN_COMMISSION_REPORT: {
                te_tws_commission_t *c = &msg->u.commission;
                msg->type = TE_TWS_IN_COMMISSION_REPORT;
                rd_skip(&fs, "version");
                rd_str(&fs, "execId", c->exec_id, sizeof c->exec_id);
                c->commission = rd_dbl(&fs, "commission");
                rd_str(&fs, "currency", c->currency, sizeof c->currency);
                c->realized_pnl = rd_dbl(&fs, "realizedPNL");
                rd_skip(&fs, "yield");
                rd_skip(&fs, "yieldRedemptionDate");
                if (!fs.err[0] && (c->exec_id[0] == '\0' || c->commission < 0))
                        snprintf(fs.err, sizeof fs.err,
                                 "commissionReport: empty execId or negative commission");
                break;
        }
        case TE_TWS_IN_POSITION: {
                te_tws_position_t *p = &msg->u.position;
                msg->type = TE_TWS_IN_POSITION;
                rd_skip(&fs, "version");
                rd_str(&fs, "account", p->account, sizeof p->account);
                p->con_id = rd_int(&fs, "conId");
                rd_str(&fs, "symbol", p->symbol, sizeof p->symbol);
                rd_str(&fs, "secType", p->sec_type, sizeof p->sec_type);
                rd_skip(&fs, "lastTradeDate");
                rd_skip(&fs, "strike");
                rd_skip(&fs, "right");
                rd_skip(&fs, "multiplier");
                rd_skip(&fs, "exchange");
                rd_str(&fs, "currency", p->currency, sizeof p->currency);
                rd_skip(&fs, "localSymbol");
                rd_skip(&fs, "tradingClass");
                p->position = rd_dbl(&fs, "position");
                p->avg_cost = rd_dbl(&fs, "avgCost");
                break;
        }
        case TE_TWS_IN_POSITION_END:
                msg->type = TE_TWS_IN_POSITION_END;
                rd_skip(&fs, "version");
                break;
        default:
                if (id <= 0) {
                        snprintf(errstr, errstr_size, "message id %lld invalid",
                                 (long long)id);
                        return TE_TWS_EMALFORMED;
                }
                msg->type = TE_TWS_IN_UNKNOWN;
                return TE_TWS_OK;
        }
        return finish(&fs, errstr, errstr_size);
}

te_tws_rc_t te_tws_dec_handshake(const uint8_t *data, size_t len, int *min_ver,
                                 int *max_ver, size_t *consumed, char *errstr,
                                 size_t errstr_size)
{
        if (len < 4)
                return TE_TWS_EAGAIN;
        if (memcmp(data, "API", 4) != 0) {
                snprintf(errstr, errstr_size, "handshake does not start with API\\0");
                return TE_TWS_EMALFORMED;
        }
        const uint8_t *payload;
        size_t plen, used;
        te_tws_rc_t rc = te_tws_frame_next(data + 4, len - 4, 256, &payload, &plen, &used,
                                           errstr, errstr_size);
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
                snprintf(errstr, errstr_size, "bad version range");
                return TE_TWS_EMALFORMED;
        }
        if (a < 1 || b < a) {
                snprintf(errstr, errstr_size, "bad version range v%d..v%d", a, b);
                return TE_TWS_EMALFORMED;
        }
        *min_ver = a;
        *max_ver = b;
        *consumed = 4 + used;
        return TE_TWS_OK;
}

te_tws_rc_t te_tws_dec_request(const uint8_t *payload, size_t len, te_tws_req_t *req,
                               char *errstr, size_t errstr_size)
{
        te_tws_fields_t fs;
        memset(req, 0, sizeof *req);
        if (te_tws_fields_split(&fs, payload, len) != 0) {
                snprintf(errstr, errstr_size, "%s", fs.err);
                return TE_TWS_EMALFORMED;
        }
        int64_t id = rd_int(&fs, "msgId");
        req->id = (int)id;
        switch (id) {
        case TE_TWS_OUT_START_API:
                rd_skip(&fs, "version");
                req->u.client_id = rd_int(&fs, "clientId");
                break;
        case TE_TWS_OUT_PLACE_ORDER: {
                te_tws_order_t *o = &req->u.place;
                dec_order_prefix(&fs, o);
                rd_skip(&fs, "primaryExch");
                rd_str(&fs, "currency", o->currency, sizeof o->currency);
                rd_skip(&fs, "localSymbol");
                rd_skip(&fs, "tradingClass");
                rd_skip(&fs, "secIdType");
                rd_skip(&fs, "secId");
                dec_order_core(&fs, o);
                break;
        }
        case TE_TWS_OUT_CANCEL_ORDER:
                rd_skip(&fs, "version");
                req->u.cancel_id = rd_int(&fs, "orderId");
                break;
        case TE_TWS_OUT_REQ_EXECUTIONS:
                rd_skip(&fs, "version");
                req->u.exec_filter.req_id = rd_int(&fs, "reqId");
                req->u.exec_filter.client_id = rd_int(&fs, "clientId");
                rd_str(&fs, "acctCode", req->u.exec_filter.account,
                       sizeof req->u.exec_filter.account);
                break;
        case TE_TWS_OUT_REQ_IDS:
                rd_skip(&fs, "version");
                req->u.num_ids = rd_int(&fs, "numIds");
                break;
        default:
                break;
        }
        return finish(&fs, errstr, errstr_size);
}
