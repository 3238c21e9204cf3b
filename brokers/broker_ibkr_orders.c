/*
 * broker_ibkr_orders: the ibkr adapter's orders (see broker_ibkr_int.h): bookkeeping by
 * orderRef and TWS id (loaded from the runtime DB when not in memory), a report made
 * from an order (queued in broker_ibkr_reports.c), and the mapping of our orders to
 * placeOrder. What IB says about them is broker_ibkr_events.c.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "broker_ibkr_int.h"
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
        if (!o || te_grow((void **)&b->olist, &b->cap_orders, b->n_orders + 1,
                          sizeof *b->olist, 16) != 0)
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
