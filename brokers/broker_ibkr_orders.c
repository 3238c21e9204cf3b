/*
 * broker_ibkr_orders: the ibkr adapter's orders (see broker_ibkr_int.h): bookkeeping by
 * orderRef and TWS id, the reports they make (queued in broker_ibkr_reports.c), the
 * mapping of our orders to placeOrder, and the inbound order events.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "broker_ibkr_int.h"
#include "te_ids.h"
#include "te_log.h"
#include "te_proc.h"

/* ---- orders ---------------------------------------------------------------- */

static void tws_key(char *k, size_t ksz, int64_t id)
{
        snprintf(k, ksz, "%lld", (long long)id);
}

te_ibkr_order_t *te_ibkr_orders_find_tws(te_ibkr_t *b, int64_t id)
{
        char k[32];
        tws_key(k, sizeof k, id);
        return te_map_get(b->by_tws, k);
}

int te_ibkr_orders_set_tws(te_ibkr_t *b, te_ibkr_order_t *o, int64_t id)
{
        char k[32];
        o->tws_id = id;
        tws_key(k, sizeof k, id);
        return te_map_put(b->by_tws, k, o);
}

te_ibkr_order_t *te_ibkr_orders_add(te_ibkr_t *b, const te_order_cmd_t *cmd,
                                    const char *account, int64_t tws_id)
{
        te_ibkr_order_t *o = calloc(1, sizeof *o);
        if (!o || te_ibkr_util_grow((void **)&b->olist, &b->cap_orders, b->n_orders + 1,
                                    sizeof *b->olist) != 0)
                goto err;
        o->cmd = *cmd;
        te_strlcpy(o->account, account, sizeof o->account);
        if (te_map_put(b->by_ref, cmd->order_id, o) != 0)
                goto err;
        if (tws_id > 0 && te_ibkr_orders_set_tws(b, o, tws_id) != 0) {
                te_map_del(b->by_ref, cmd->order_id);
                goto err;
        }
        b->olist[b->n_orders++] = o;
        return o;
err:
        free(o);
        b->oom = 1;
        return NULL;
}

/* ---- reports --------------------------------------------------------------- */

te_ibkr_pend_t *te_ibkr_orders_push_report(te_ibkr_t *b, te_ibkr_order_t *o,
                                           te_exec_type_t et, te_order_status_t os,
                                           const char *report_id)
{
        te_ibkr_pend_t *p = te_ibkr_reports_push(b->rq);
        if (!p) {
                b->oom = 1;
                return NULL;
        }
        te_exec_report_t *r = &p->r;
        te_broker_report_from_cmd(r, &o->cmd, b->cfg.broker_name);
        te_strlcpy(r->report_id, report_id, sizeof r->report_id);
        te_strlcpy(r->account, o->account, sizeof r->account);
        r->exec_type = et;
        r->order_status = os;
        r->cum_qty = o->cum;
        r->leaves_qty = o->terminal ? 0 : o->cmd.quantity - o->cum;
        if (r->leaves_qty < 0)
                r->leaves_qty = 0;
        r->avg_price = o->cum > 0 ? o->value / o->cum : 0;
        r->event_time = te_proc_wall_ms();
        return p;
}

static void kind_id(char *out, size_t outsz, const te_ibkr_order_t *o, const char *kind)
{
        te_id_sim_report(out, outsz, o->cmd.order_id, kind, 0);
}

void te_ibkr_orders_emit_ack(te_ibkr_t *b, te_ibkr_order_t *o)
{
        char id[TE_ID_MAX];
        if (o->acked || o->terminal)
                return;
        o->acked = 1;
        kind_id(id, sizeof id, o, "ibkr-ack");
        (void)te_ibkr_orders_push_report(b, o, TE_EXEC_ACK, TE_OS_NEW, id);
}

/* A final CANCELED or REJECTED. */
void te_ibkr_orders_emit_end(te_ibkr_t *b, te_ibkr_order_t *o, te_exec_type_t et,
                             const char *reason)
{
        char id[TE_ID_MAX];
        if (o->terminal)
                return;
        o->terminal = 1;
        o->cancel_waiting = 0;
        if (o->replace_pending)
                te_ibkr_replace_refused(b, o, "the order ended");
        kind_id(id, sizeof id, o, et == TE_EXEC_REJECTED ? "ibkr-reject" : "ibkr-cancel");
        te_ibkr_pend_t *p = te_ibkr_orders_push_report(
            b, o, et, et == TE_EXEC_REJECTED ? TE_OS_REJECTED : TE_OS_CANCELED, id);
        if (!p)
                return;
        p->terminal = 1;
        te_strlcpy(p->r.reason, reason, sizeof p->r.reason);
        te_log_ids_t ids = {.decision_id = o->cmd.ids.decision_id,
                            .portfolio_id = o->cmd.ids.portfolio_id,
                            .order_id = o->cmd.order_id};
        TE_LOG(TE_LOG_INFO, &ids, "ibkr.order_end", "%s: %s", te_exec_type_name(et),
               reason);
}

static void commission_missing(void *ctx, const te_ibkr_pend_t *p)
{
        te_ibkr_comm_missing(ctx, p);
}

/* Move the reports that may leave (in order) to `out`. */
te_broker_err_t te_ibkr_orders_move_ready(te_ibkr_t *b, te_reports_t *out)
{
        te_broker_err_t e = te_ibkr_reports_move_ready(b->rq, te_ibkr_util_now_ms(), out,
                                                       commission_missing, b);
        if (e != TE_BROKER_OK)
                return e;
        return b->oom ? TE_BROKER_ERR_FATAL : TE_BROKER_OK;
}

/* ---- sending --------------------------------------------------------------- */

const char *te_ibkr_orders_type(te_order_type_t t)
{
        switch (t) {
        case TE_OT_MARKET:
                return "MKT";
        case TE_OT_LIMIT:
                return "LMT";
        case TE_OT_STOP:
                return "STP";
        case TE_OT_STOP_LIMIT:
                return "STP LMT";
        default:
                return NULL;
        }
}

int te_ibkr_orders_send_terms(te_ibkr_t *b, te_ibkr_order_t *o, const te_order_cmd_t *c)
{
        te_tws_order_t w;
        memset(&w, 0, sizeof w);
        w.order_id = o->tws_id;
        te_strlcpy(w.symbol, c->ticker, sizeof w.symbol);
        te_strlcpy(w.sec_type, "STK", sizeof w.sec_type);
        te_strlcpy(w.exchange, "SMART", sizeof w.exchange);
        te_strlcpy(w.currency, "USD", sizeof w.currency);
        te_strlcpy(w.action, c->side == TE_SIDE_BUY ? "BUY" : "SELL", sizeof w.action);
        w.total_qty = c->quantity;
        te_strlcpy(w.order_type, te_ibkr_orders_type(c->order_type), sizeof w.order_type);
        w.has_lmt_price =
            c->order_type == TE_OT_LIMIT || c->order_type == TE_OT_STOP_LIMIT;
        w.lmt_price = c->limit_price;
        w.has_aux_price =
            c->order_type == TE_OT_STOP || c->order_type == TE_OT_STOP_LIMIT;
        w.aux_price = c->stop_price;
        te_strlcpy(w.tif, te_tif_name(c->tif), sizeof w.tif);
        te_strlcpy(w.account, o->account, sizeof w.account);
        te_strlcpy(w.order_ref, o->cmd.order_id, sizeof w.order_ref);
        if (te_tws_enc_place_order(&b->scratch, &w) != 0 ||
            te_ibkr_util_queue_frame(b, 0) != 0)
                return -1;
        te_log_ids_t ids = {.decision_id = o->cmd.ids.decision_id,
                            .portfolio_id = o->cmd.ids.portfolio_id,
                            .order_id = o->cmd.order_id};
        TE_LOG(TE_LOG_DEBUG, &ids, "ibkr.place", "tws_id=%lld %s %s %.10g%s",
               (long long)o->tws_id, w.action, w.symbol, w.total_qty,
               c == &o->cmd ? "" : " (modification)");
        return 0;
}

int te_ibkr_orders_send(te_ibkr_t *b, te_ibkr_order_t *o)
{
        if (te_ibkr_orders_send_terms(b, o, &o->cmd) != 0)
                return -1;
        b->st.orders_sent++;
        return 0;
}

/* Give a waiting order the next TWS id (persisted first) and queue it. */
int te_ibkr_orders_release(te_ibkr_t *b, te_ibkr_order_t *o)
{
        char errstr[512];
        int64_t id = b->next_id;
        if (b->store && te_ibkr_store_set_tws_id(b->store, o->cmd.order_id, id, errstr,
                                                 sizeof errstr) != 0) {
                TE_LOG(TE_LOG_ERROR, NULL, "ibkr.store", "%s", errstr);
                return -1;
        }
        b->next_id = id + 1;
        if (te_ibkr_orders_set_tws(b, o, id) != 0) {
                b->oom = 1;
                return -1;
        }
        return te_ibkr_orders_send(b, o);
}

int te_ibkr_orders_row_cb(void *ctx, const te_ibkr_row_t *row)
{
        te_ibkr_t *b = ctx;
        if (te_map_get(b->by_ref, row->cmd.order_id))
                return 0;
        te_ibkr_order_t *o = te_ibkr_orders_add(b, &row->cmd, row->account, row->tws_id);
        if (!o)
                return -1;
        o->terminal = row->terminal;
        o->acked = row->tws_id > 0;
        return 0;
}

int te_ibkr_orders_exec_cb(void *ctx, const te_ibkr_exec_row_t *x)
{
        te_ibkr_t *b = ctx;
        if (te_map_get(b->execs, x->exec_id))
                return 0;
        if (!te_ibkr_comm_exec_add(b, x->exec_id, x->order_id, 1, x->commission))
                return -1;
        te_ibkr_order_t *o = te_map_get(b->by_ref, x->order_id);
        if (o) {
                o->cum += x->shares;
                o->value += x->shares * x->price;
        }
        return 0;
}

te_ibkr_order_t *te_ibkr_orders_find_ref(te_ibkr_t *b, const char *ref)
{
        te_ibkr_order_t *o = te_map_get(b->by_ref, ref);
        if (o || !b->store || !ref[0])
                return o;
        char errstr[512];
        if (te_ibkr_store_load_order(b->store, ref, te_ibkr_orders_row_cb,
                                     te_ibkr_orders_exec_cb, b, errstr,
                                     sizeof errstr) < 0)
                TE_LOG(TE_LOG_ERROR, NULL, "ibkr.store", "%s", errstr);
        return te_map_get(b->by_ref, ref);
}

void te_ibkr_orders_cancel_seen(te_ibkr_t *b, te_ibkr_order_t *o, double hint,
                                const char *reason)
{
        if (o->terminal)
                return;
        if (o->cum + TE_IBKR_EPS >= hint) {
                te_ibkr_orders_emit_end(b, o, TE_EXEC_CANCELED, reason);
                return;
        }
        /* TWS counts fills we have not seen as execDetails yet: wait for them */
        o->cancel_waiting = 1;
        o->cancel_hint = hint;
        o->cancel_deadline = te_ibkr_util_now_ms() + b->cfg.commission_wait_ms;
        te_strlcpy(o->cancel_reason, reason, sizeof o->cancel_reason);
}

void te_ibkr_orders_on_status(te_ibkr_t *b, const te_tws_order_status_t *s)
{
        te_ibkr_order_t *o = te_ibkr_orders_find_tws(b, s->order_id);
        if (!o) {
                TE_LOG(TE_LOG_DEBUG, NULL, "ibkr.status_unknown", "order %lld: %s",
                       (long long)s->order_id, s->status);
                return;
        }
        o->seen = 1;
        if (!strcmp(s->status, "Cancelled") || !strcmp(s->status, "ApiCancelled")) {
                char why[TE_TEXT_MAX];
                snprintf(why, sizeof why, "IB: order %s (filled %.10g)", s->status,
                         s->filled);
                te_ibkr_orders_cancel_seen(b, o, s->filled, why);
        } else if (!strcmp(s->status, "PreSubmitted") ||
                   !strcmp(s->status, "Submitted") || !strcmp(s->status, "Filled")) {
                te_ibkr_orders_emit_ack(b, o);
        }
}

void te_ibkr_orders_on_open(te_ibkr_t *b, const te_tws_open_order_t *oo)
{
        const te_tws_order_t *w = &oo->order;
        te_ibkr_order_t *o = te_ibkr_orders_find_ref(b, w->order_ref);
        if (!o) {
                TE_LOG(TE_LOG_DEBUG, NULL, "ibkr.open_order_foreign",
                       "order %lld ref '%s' is not ours", (long long)w->order_id,
                       w->order_ref);
                return;
        }
        if (o->tws_id != w->order_id && te_ibkr_orders_set_tws(b, o, w->order_id) != 0)
                b->oom = 1;
        o->seen = 1;
        te_ibkr_orders_emit_ack(b, o);
        if (o->replace_pending)
                te_ibkr_replace_seen(b, o, w);
}

void te_ibkr_orders_on_exec(te_ibkr_t *b, const te_tws_exec_t *x)
{
        if (te_map_get(b->execs, x->exec_id)) {
                b->st.dup_execs++;
                TE_LOG(TE_LOG_DEBUG, NULL, "ibkr.exec_dup", "exec %s already seen",
                       x->exec_id);
                return;
        }
        te_ibkr_order_t *o = te_ibkr_orders_find_ref(b, x->order_ref);
        if (te_map_get(b->execs, x->exec_id)) { /* loaded from the DB just now */
                b->st.dup_execs++;
                return;
        }
        if (!o) {
                TE_LOG(TE_LOG_WARN, NULL, "ibkr.exec_foreign",
                       "execution %s of order %lld (ref '%s') is not ours; ignored",
                       x->exec_id, (long long)x->order_id, x->order_ref);
                return;
        }
        if (!te_ibkr_comm_exec_add(b, x->exec_id, o->cmd.order_id, 0, 0))
                return;
        if (o->tws_id != x->order_id && te_ibkr_orders_set_tws(b, o, x->order_id) != 0)
                b->oom = 1;
        o->seen = 1;
        te_ibkr_orders_emit_ack(b, o);
        int was_terminal = o->terminal;
        if (o->replace_pending)
                te_ibkr_replace_on_exec(b, o, x->shares);
        o->cum += x->shares;
        o->value += x->shares * x->price;
        int full = o->cum + TE_IBKR_EPS >= o->cmd.quantity;
        if (full)
                o->terminal = 1;
        char rid[TE_ID_MAX];
        const char *parts[] = {"ibkr", "exec", x->exec_id};
        rid[0] = 'r';
        te_id_digest(rid + 1, sizeof rid - 1, parts, 3);
        te_ibkr_pend_t *p =
            te_ibkr_orders_push_report(b, o, full ? TE_EXEC_FILL : TE_EXEC_PARTIAL_FILL,
                                       full ? TE_OS_FILLED : TE_OS_PARTIALLY_FILLED, rid);
        if (!p)
                return;
        p->r.last_qty = x->shares;
        p->r.last_price = x->price;
        if (x->account[0])
                te_strlcpy(p->r.account, x->account, sizeof p->r.account);
        te_strlcpy(p->wait_exec, x->exec_id, sizeof p->wait_exec);
        p->deadline = te_ibkr_util_now_ms() + b->cfg.commission_wait_ms;
        p->has_exec = 1;
        te_strlcpy(p->x.exec_id, x->exec_id, sizeof p->x.exec_id);
        te_strlcpy(p->x.order_id, o->cmd.order_id, sizeof p->x.order_id);
        p->x.shares = x->shares;
        p->x.price = x->price;
        p->terminal = full && !was_terminal;
        if (x->req_id < 0 && /* live: not yet in the positions IB reported */
            te_ibkr_pos_on_fill(b->pos, o->account, o->cmd.ticker,
                                o->cmd.side == TE_SIDE_BUY ? x->shares : -x->shares) != 0)
                b->oom = 1;
        if (full && o->replace_pending)
                te_ibkr_replace_refused(b, o, "the order filled on its previous terms");
        b->st.fills++;
        if (was_terminal)
                TE_LOG(TE_LOG_WARN, NULL, "ibkr.late_fill",
                       "execution %s arrived after order %s ended; published", x->exec_id,
                       o->cmd.order_id);
        if (!o->terminal && o->cancel_waiting && o->cum + TE_IBKR_EPS >= o->cancel_hint)
                te_ibkr_orders_emit_end(b, o, TE_EXEC_CANCELED, o->cancel_reason);
}

int te_ibkr_orders_info_code(int64_t code)
{
        return code == 399 || code == 161 || code == 10147 || code == 10148 ||
               code == 10149 || code == 404 || (code >= 2100 && code <= 2199);
}

void te_ibkr_orders_on_error(te_ibkr_t *b, te_ibkr_order_t *o, const te_tws_error_t *e)
{
        char why[TE_TEXT_MAX];
        snprintf(why, sizeof why, "IB %lld: %.400s", (long long)e->code, e->text);
        if (o->replace_pending && e->code != 202 && !te_ibkr_orders_info_code(e->code)) {
                /* IB refused the modification (104 filled, 103, 105, 201, ...): the
                 * order works on at its previous terms */
                te_ibkr_replace_refused(b, o, why);
                return;
        }
        if (e->code == 202) {
                if (!o->cancel_waiting) /* a Cancelled status may already wait for fills
                                         */
                        te_ibkr_orders_cancel_seen(b, o, o->cum, why);
        } else if (te_ibkr_orders_info_code(e->code)) {
                TE_LOG(TE_LOG_INFO, NULL, "ibkr.order_message", "order %s: %s",
                       o->cmd.order_id, why);
        } else if (!o->terminal) {
                b->st.rejects++;
                te_ibkr_orders_emit_end(
                    b, o, o->cum > 0 ? TE_EXEC_CANCELED : TE_EXEC_REJECTED, why);
        }
}
