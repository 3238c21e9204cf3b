/*
 * tws_proto: the short messages of the TWS API text protocol at server versions
 * 170..176 that our client sends and reads, and the decoder's dispatch by message id
 * (see tws_proto.h; the order layouts are in tws_proto_order.c, framing and field
 * reading in tws_proto_wire.c). Every field layout below is written out in order.
 */
#include <stdio.h>
#include <string.h>

#include "tws_proto_int.h"

int te_tws_enc_start_api(te_buf_t *out, int64_t client_id)
{
        tws_enc_t e;
        tws_e_begin(&e, out);
        tws_e_int(&e, TE_TWS_OUT_START_API);
        tws_e_int(&e, 2); /* version */
        tws_e_int(&e, client_id);
        tws_e_str(&e, ""); /* optional capabilities */
        return tws_e_end(&e);
}

int te_tws_enc_cancel_order(te_buf_t *out, int64_t order_id)
{
        tws_enc_t e;
        tws_e_begin(&e, out);
        tws_e_int(&e, TE_TWS_OUT_CANCEL_ORDER);
        tws_e_int(&e, 1); /* version */
        tws_e_int(&e, order_id);
        tws_e_str(&e, ""); /* manualOrderCancelTime */
        return tws_e_end(&e);
}

int te_tws_enc_req_open_orders(te_buf_t *out)
{
        return tws_e_ints(out, (const int64_t[]){TE_TWS_OUT_REQ_OPEN_ORDERS, 1}, 2);
}

int te_tws_enc_req_executions(te_buf_t *out, int64_t req_id, int64_t client_id,
                              const char *account)
{
        tws_enc_t e;
        tws_e_begin(&e, out);
        tws_e_int(&e, TE_TWS_OUT_REQ_EXECUTIONS);
        tws_e_int(&e, 3); /* version */
        tws_e_int(&e, req_id);
        tws_e_int(&e, client_id); /* filter: clientId */
        tws_e_str(&e, account);   /* acctCode */
        tws_e_blanks(&e, "s:time,s:symbol,s:secType,s:exchange,s:side");
        return tws_e_end(&e);
}

int te_tws_enc_req_positions(te_buf_t *out)
{
        return tws_e_ints(out, (const int64_t[]){TE_TWS_OUT_REQ_POSITIONS, 1}, 2);
}

int te_tws_enc_cancel_positions(te_buf_t *out)
{
        return tws_e_ints(out, (const int64_t[]){TE_TWS_OUT_CANCEL_POSITIONS, 1}, 2);
}

te_tws_rc_t te_tws_dec_server_version(const uint8_t *payload, size_t len, int *version,
                                      char *conn_time, size_t conn_time_size,
                                      char *errstr, size_t errsz)
{
        te_tws_fields_t fs;
        if (te_tws_fields_split(&fs, payload, len) != 0) {
                snprintf(errstr, errsz, "server version: %s", fs.err);
                return TE_TWS_EMALFORMED;
        }
        int64_t v = tws_rd_int(&fs, "serverVersion");
        tws_rd_str(&fs, "connectionTime", conn_time, conn_time_size);
        if (tws_finish(&fs, errstr, errsz) != TE_TWS_OK)
                return TE_TWS_EMALFORMED;
        if (v <= 0 || v > 100000) {
                snprintf(errstr, errsz, "server version %lld invalid", (long long)v);
                return TE_TWS_EMALFORMED;
        }
        *version = (int)v;
        return TE_TWS_OK;
}

/* orderStatus after its message id. */
static void dec_status(te_tws_fields_t *fs, te_tws_order_status_t *s)
{
        s->order_id = tws_rd_int(fs, "orderId");
        tws_rd_str(fs, "status", s->status, sizeof s->status);
        s->filled = tws_rd_dbl(fs, "filled");
        s->remaining = tws_rd_dbl(fs, "remaining");
        s->avg_fill_price = tws_rd_dbl(fs, "avgFillPrice");
        s->perm_id = tws_rd_int(fs, "permId");
        s->parent_id = tws_rd_int(fs, "parentId");
        s->last_fill_price = tws_rd_dbl(fs, "lastFillPrice");
        s->client_id = tws_rd_int(fs, "clientId");
        tws_rd_str(fs, "whyHeld", s->why_held, sizeof s->why_held);
        s->mkt_cap_price = tws_rd_dbl(fs, "mktCapPrice");
}

/* error after its message id: version 1 carries the text only. */
static void dec_error(te_tws_fields_t *fs, te_tws_error_t *e)
{
        int64_t ver = tws_rd_int(fs, "version");
        if (ver < 2) {
                /* version 1: text only */
                e->id = -1;
                tws_rd_str(fs, "errorMsg", e->text, sizeof e->text);
                return;
        }
        e->id = tws_rd_int(fs, "id");
        e->code = tws_rd_int(fs, "errorCode");
        tws_rd_str(fs, "errorMsg", e->text, sizeof e->text);
        /* advancedOrderRejectJson (optional for robustness) is ignored */
}

/* execDetails after its message id; an empty execId or a non-positive
 * shares/price is malformed. */
static void dec_exec(te_tws_fields_t *fs, te_tws_exec_t *x)
{
        x->req_id = tws_rd_int(fs, "reqId");
        x->order_id = tws_rd_int(fs, "orderId");
        x->con_id = tws_rd_int(fs, "conId");
        tws_rd_str(fs, "symbol", x->symbol, sizeof x->symbol);
        tws_rd_str(fs, "secType", x->sec_type, sizeof x->sec_type);
        tws_rd_skips(fs, "s:lastTradeDate,s:strike,s:right,s:multiplier,s:exchange");
        tws_rd_str(fs, "currency", x->currency, sizeof x->currency);
        tws_rd_skips(fs, "s:localSymbol,s:tradingClass");
        tws_rd_str(fs, "execId", x->exec_id, sizeof x->exec_id);
        tws_rd_str(fs, "time", x->time, sizeof x->time);
        tws_rd_str(fs, "acctNumber", x->account, sizeof x->account);
        tws_rd_str(fs, "exchange", x->exchange, sizeof x->exchange);
        tws_rd_str(fs, "side", x->side, sizeof x->side);
        x->shares = tws_rd_dbl(fs, "shares");
        x->price = tws_rd_dbl(fs, "price");
        x->perm_id = tws_rd_int(fs, "permId");
        x->client_id = tws_rd_int(fs, "clientId");
        x->liquidation = tws_rd_int(fs, "liquidation");
        x->cum_qty = tws_rd_dbl(fs, "cumQty");
        x->avg_price = tws_rd_dbl(fs, "avgPrice");
        tws_rd_str(fs, "orderRef", x->order_ref, sizeof x->order_ref);
        tws_rd_skips(fs, "s:evRule,s:evMultiplier,s:modelCode,s:lastLiquidity");
        if (!fs->err[0] && (x->exec_id[0] == '\0' || x->shares <= 0 || x->price <= 0)) {
                snprintf(fs->err, sizeof fs->err,
                         "execDetails: empty execId or non-positive shares/price");
        }
}

/* commissionReport after its message id; an empty execId or a negative
 * commission is malformed. */
static void dec_commission(te_tws_fields_t *fs, te_tws_commission_t *c)
{
        tws_rd_skip(fs, "version");
        tws_rd_str(fs, "execId", c->exec_id, sizeof c->exec_id);
        c->commission = tws_rd_dbl(fs, "commission");
        tws_rd_str(fs, "currency", c->currency, sizeof c->currency);
        c->realized_pnl = tws_rd_dbl(fs, "realizedPNL");
        tws_rd_skips(fs, "s:yield,s:yieldRedemptionDate");
        if (!fs->err[0] && (c->exec_id[0] == '\0' || c->commission < 0))
                snprintf(fs->err, sizeof fs->err,
                         "commissionReport: empty execId or negative commission");
}

/* position after its message id. */
static void dec_position(te_tws_fields_t *fs, te_tws_position_t *p)
{
        tws_rd_skip(fs, "version");
        tws_rd_str(fs, "account", p->account, sizeof p->account);
        p->con_id = tws_rd_int(fs, "conId");
        tws_rd_str(fs, "symbol", p->symbol, sizeof p->symbol);
        tws_rd_str(fs, "secType", p->sec_type, sizeof p->sec_type);
        tws_rd_skips(fs, "s:lastTradeDate,s:strike,s:right,s:multiplier,s:exchange");
        tws_rd_str(fs, "currency", p->currency, sizeof p->currency);
        tws_rd_skips(fs, "s:localSymbol,s:tradingClass");
        p->position = tws_rd_dbl(fs, "position");
        p->avg_cost = tws_rd_dbl(fs, "avgCost");
}

te_tws_rc_t te_tws_dec_message(const uint8_t *payload, size_t len, te_tws_msg_t *msg,
                               char *errstr, size_t errsz)
{
        te_tws_fields_t fs;
        memset(msg, 0, sizeof *msg);
        if (te_tws_fields_split(&fs, payload, len) != 0) {
                snprintf(errstr, errsz, "%s", fs.err);
                return TE_TWS_EMALFORMED;
        }
        int64_t id = tws_rd_int(&fs, "msgId");
        if (fs.err[0])
                return tws_finish(&fs, errstr, errsz);
        msg->raw_id = id;
        msg->type = (te_tws_in_t)id; /* the ids below are the types */
        switch (id) {
        case TE_TWS_IN_ORDER_STATUS:
                dec_status(&fs, &msg->u.status);
                break;
        case TE_TWS_IN_ERROR:
                dec_error(&fs, &msg->u.error);
                break;
        case TE_TWS_IN_OPEN_ORDER:
                tws_dec_open_order(&fs, &msg->u.open_order);
                break;
        case TE_TWS_IN_NEXT_VALID_ID:
                tws_rd_skip(&fs, "version");
                msg->u.next_valid_id = tws_rd_int(&fs, "orderId");
                break;
        case TE_TWS_IN_EXEC_DETAILS:
                dec_exec(&fs, &msg->u.exec);
                break;
        case TE_TWS_IN_MANAGED_ACCTS:
                tws_rd_skip(&fs, "version");
                tws_rd_str(&fs, "accountsList", msg->u.accounts, sizeof msg->u.accounts);
                break;
        case TE_TWS_IN_OPEN_ORDER_END:
                tws_rd_skip(&fs, "version");
                break;
        case TE_TWS_IN_EXEC_DETAILS_END:
                tws_rd_skip(&fs, "version");
                msg->u.end_req_id = tws_rd_int(&fs, "reqId");
                break;
        case TE_TWS_IN_COMMISSION_REPORT:
                dec_commission(&fs, &msg->u.commission);
                break;
        case TE_TWS_IN_POSITION:
                dec_position(&fs, &msg->u.position);
                break;
        case TE_TWS_IN_POSITION_END:
                tws_rd_skip(&fs, "version");
                break;
        default:
                msg->type = TE_TWS_IN_UNKNOWN;
                if (id <= 0) {
                        snprintf(errstr, errsz, "message id %lld invalid", (long long)id);
                        return TE_TWS_EMALFORMED;
                }
                return TE_TWS_OK;
        }
        return tws_finish(&fs, errstr, errsz);
}
