/*
 * broker_ibkr: Interactive Brokers adapter over the TWS API socket protocol (see
 * broker_ibkr.h for the behaviour; tws_proto.h for the wire format).
 *
 * This file: configuration, the te_broker_ops_t functions and construction; the
 * other modules are listed in broker_ibkr_int.h.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "broker_ibkr_int.h"
#include "te_ids.h"
#include "te_log.h"
#include "te_proc.h"

/* ---- ops ------------------------------------------------------------------- */

static te_broker_err_t reject_cmd(te_ibkr_t *b, const te_order_cmd_t *cmd,
                                  const char *why, te_reports_t *out)
{
        te_exec_report_t *r = te_reports_push(out);
        if (!r)
                return TE_BROKER_ERR_FATAL;
        te_broker_report_from_cmd(r, cmd, b->cfg.broker_name);
        te_id_sim_report(r->report_id, sizeof r->report_id, cmd->order_id, "ibkr-reject",
                         0);
        r->exec_type = TE_EXEC_REJECTED;
        r->order_status = TE_OS_REJECTED;
        r->event_time = te_proc_wall_ms();
        te_strlcpy(r->reason, why, sizeof r->reason);
        te_log_ids_t ids = {.decision_id = cmd->ids.decision_id,
                            .order_id = cmd->order_id};
        TE_LOG(TE_LOG_WARN, &ids, "ibkr.refused", "%s", why);
        return TE_BROKER_OK;
}

static te_broker_err_t ib_submit(te_broker_t *base, const te_order_cmd_t *cmd,
                                 te_reports_t *out)
{
        te_ibkr_t *b = (te_ibkr_t *)base;
        char why[TE_TEXT_MAX], errstr[512];
        te_log_ids_t ids = {.decision_id = cmd->ids.decision_id,
                            .order_id = cmd->order_id};
        if (te_map_get(b->by_ref, cmd->order_id)) {
                TE_LOG(TE_LOG_INFO, &ids, "ibkr.duplicate_new", "already accepted");
                return te_ibkr_events_move_ready(b, out);
        }
        if (!te_ibkr_orders_type(cmd->order_type))
                return reject_cmd(b, cmd, "ibkr: unsupported order type", out);
        if (cmd->tif == TE_TIF_CLS)
                return reject_cmd(b, cmd, "ibkr: TIF CLS is not supported", out);
        if (!(cmd->quantity > 0) || cmd->quantity > 1e9)
                return reject_cmd(b, cmd, "ibkr: quantity out of range", out);
        if ((cmd->order_type == TE_OT_LIMIT || cmd->order_type == TE_OT_STOP_LIMIT) &&
            !(cmd->has_limit_price && cmd->limit_price > 0))
                return reject_cmd(b, cmd, "ibkr: limit price required", out);
        if ((cmd->order_type == TE_OT_STOP || cmd->order_type == TE_OT_STOP_LIMIT) &&
            !(cmd->has_stop_price && cmd->stop_price > 0))
                return reject_cmd(b, cmd, "ibkr: stop price required", out);
        const char *acct = te_ibkr_util_pick_account(b, cmd);
        if (!acct) {
                snprintf(why, sizeof why,
                         "ibkr: account of route '%s' not in ibkr.accounts", cmd->route);
                return reject_cmd(b, cmd, why, out);
        }
        if (b->managed[0] && !strstr(b->managed, acct)) {
                snprintf(why, sizeof why, "ibkr: account %s not managed by this gateway",
                         acct);
                return reject_cmd(b, cmd, why, out);
        }
        int ready = b->state == TE_IBKR_READY;
        int64_t id = ready ? b->next_id : 0;
        if (b->store) {
                int rc = te_ibkr_store_add_order(b->store, cmd, acct, id, errstr,
                                                 sizeof errstr);
                if (rc < 0) {
                        TE_LOG(TE_LOG_ERROR, &ids, "ibkr.store", "%s", errstr);
                        return TE_BROKER_ERR_RETRIABLE;
                }
                if (rc == 0) {
                        TE_LOG(TE_LOG_INFO, &ids, "ibkr.duplicate_new",
                               "already accepted before a restart");
                        (void)te_ibkr_orders_find_ref(b, cmd->order_id);
                        return te_ibkr_events_move_ready(b, out);
                }
        }
        te_ibkr_order_t *o = te_ibkr_orders_add(b, cmd, acct, id);
        if (!o)
                return TE_BROKER_ERR_FATAL;
        if (ready) {
                b->next_id = id + 1;
                if (te_ibkr_orders_send(b, o) != 0)
                        return TE_BROKER_ERR_FATAL;
        } else {
                TE_LOG(TE_LOG_WARN, &ids, "ibkr.order_waits",
                       "broker connection %s: order waits for reconnection",
                       te_ibkr_util_state_name(b->state));
        }
        te_ibkr_conn_pump(b);
        return te_ibkr_events_move_ready(b, out);
}

static te_broker_err_t ib_cancel(te_broker_t *base, const te_order_cmd_t *cmd,
                                 te_reports_t *out)
{
        te_ibkr_t *b = (te_ibkr_t *)base;
        te_log_ids_t ids = {.decision_id = cmd->ids.decision_id,
                            .order_id = cmd->order_id};
        te_ibkr_order_t *o = te_ibkr_orders_find_ref(b, cmd->order_id);
        if (!o) {
                TE_LOG(TE_LOG_WARN, &ids, "ibkr.cancel_unknown", "no such order");
        } else if (o->terminal) {
                TE_LOG(TE_LOG_INFO, &ids, "ibkr.cancel_late", "order already ended");
        } else if (o->tws_id == 0) {
                te_ibkr_events_emit_end(b, o, TE_EXEC_CANCELED,
                                        "canceled before it was sent to IB");
        } else if (!o->cancel_sent) {
                if (te_tws_enc_cancel_order(&b->scratch, o->tws_id) != 0 ||
                    te_ibkr_util_queue_frame(b, 1) != 0)
                        return TE_BROKER_ERR_FATAL;
                o->cancel_sent = 1;
                b->st.cancels_sent++;
        }
        te_ibkr_conn_pump(b);
        return te_ibkr_events_move_ready(b, out);
}

static te_broker_err_t ib_replace(te_broker_t *base, const te_order_cmd_t *cmd,
                                  te_reports_t *out)
{
        te_ibkr_t *b = (te_ibkr_t *)base;
        te_broker_err_t e = te_ibkr_replace(b, cmd);
        if (e != TE_BROKER_OK)
                return e;
        te_ibkr_conn_pump(b);
        return te_ibkr_events_move_ready(b, out);
}

static te_broker_err_t ib_clock(te_broker_t *base, const te_order_cmd_t *cmd,
                                te_reports_t *out)
{
        te_ibkr_t *b = (te_ibkr_t *)base;
        te_exec_report_t *r = te_reports_push(out);
        if (!r)
                return TE_BROKER_ERR_FATAL;
        te_broker_report_from_cmd(r, cmd, b->cfg.broker_name);
        te_id_sim_report(r->report_id, sizeof r->report_id, cmd->order_id, "clockack", 0);
        r->exec_type = TE_EXEC_CLOCK_ACK;
        r->order_status = TE_OS_NEW;
        return TE_BROKER_OK;
}

static te_broker_err_t ib_poll(te_broker_t *base, te_reports_t *out)
{
        te_ibkr_t *b = (te_ibkr_t *)base;
        te_ibkr_conn_pump(b);
        return te_ibkr_events_move_ready(b, out);
}

static int ib_connected(te_broker_t *base)
{
        return ((te_ibkr_t *)base)->state == TE_IBKR_READY;
}

static void ib_delivered(te_broker_t *base)
{
        te_ibkr_t *b = (te_ibkr_t *)base;
        te_ibkr_reports_delivered(b->rq, b->store);
}

static void ib_destroy(te_broker_t *base)
{
        te_ibkr_t *b = (te_ibkr_t *)base;
        if (b->fd >= 0)
                close(b->fd);
        for (size_t i = 0; i < b->n_orders; i++)
                free(b->olist[i]);
        free(b->olist);
        te_map_destroy(b->by_ref, NULL);
        te_map_destroy(b->by_tws, NULL);
        te_map_destroy(b->execs, free);
        te_ibkr_reports_destroy(b->rq);
        te_ibkr_pos_destroy(b->pos);
        te_buf_free(&b->rbuf);
        te_buf_free(&b->wbuf);
        te_buf_free(&b->scratch);
        te_tws_pacer_destroy(b->pacer);
        te_ibkr_store_close(b->store);
        free(b);
}

static const te_broker_ops_t ibkr_ops = {
    .name = "ibkr",
    .mode = TE_MODE_PRODUCTION,
    .submit = ib_submit,
    .cancel = ib_cancel,
    .replace = ib_replace,
    .clock = ib_clock,
    .poll = ib_poll,
    .destroy = ib_destroy,
    .connected = ib_connected,
    .delivered = ib_delivered,
};

te_ibkr_state_t te_ibkr_state(te_broker_t *b)
{
        return ((te_ibkr_t *)b)->state;
}

void te_ibkr_stats(te_broker_t *b, te_ibkr_stats_t *out)
{
        *out = ((te_ibkr_t *)b)->st;
}

static int parse_accounts(te_ibkr_t *b, char *errstr, size_t errsz)
{
        const char *p = b->cfg.accounts;
        while (*p) {
                while (*p == ',' || *p == ' ')
                        p++;
                size_t n = strcspn(p, ", ");
                if (n == 0)
                        break;
                if (b->n_allow == TE_IBKR_MAX_ACCOUNTS || n >= TE_NAME_MAX) {
                        snprintf(errstr, errsz,
                                 "ibkr.accounts: at most %d accounts of < %d chars",
                                 TE_IBKR_MAX_ACCOUNTS, TE_NAME_MAX);
                        return -1;
                }
                memcpy(b->allow[b->n_allow], p, n);
                b->allow[b->n_allow][n] = '\0';
                b->n_allow++;
                p += n;
        }
        if (b->n_allow == 0) {
                snprintf(errstr, errsz, "ibkr.accounts: at least one account");
                return -1;
        }
        return 0;
}

te_broker_t *te_ibkr_new(const te_ibkr_cfg_t *cfg, char *errstr, size_t errsz)
{
        te_ibkr_t *b = calloc(1, sizeof *b);
        if (!b) {
                snprintf(errstr, errsz, "out of memory");
                return NULL;
        }
        b->base.ops = &ibkr_ops;
        b->cfg = *cfg;
        b->fd = -1;
        b->state = TE_IBKR_DISCONNECTED;
        b->backoff_ms = cfg->reconnect_min_ms > 0 ? cfg->reconnect_min_ms : 1;
        b->next_id = 1;
        te_buf_init(&b->rbuf, 4 * (TE_TWS_MAX_FRAME + 4));
        te_buf_init(&b->wbuf, 64 * 1024 * 1024);
        te_buf_init(&b->scratch, TE_TWS_MAX_FRAME + 4);
        if (parse_accounts(b, errstr, errsz) != 0)
                goto err;
        if (cfg->port < 1 || cfg->port > 65535 || !cfg->host[0]) {
                snprintf(errstr, errsz, "ibkr.host/ibkr.port invalid");
                goto err;
        }
        b->pacer =
            te_tws_pacer_new(cfg->max_msgs_per_sec, TE_IBKR_PACING_BACKOFF_MS, 100000);
        b->by_ref = te_map_new();
        b->by_tws = te_map_new();
        b->execs = te_map_new();
        b->rq = te_ibkr_reports_new();
        b->pos = te_ibkr_pos_new(cfg->position_check_ms);
        for (int i = 0; b->pos && i < b->n_allow; i++)
                (void)te_ibkr_pos_add_account(b->pos,
                                              b->allow[i]); /* fits: same bounds */
        if (!b->pacer || !b->by_ref || !b->by_tws || !b->execs || !b->rq || !b->pos) {
                snprintf(errstr, errsz, "out of memory or bad ibkr.max_msgs_per_sec");
                goto err;
        }
        if (cfg->use_db) {
                b->store = te_ibkr_store_open(cfg->db_conninfo, cfg->client_id,
                                              b->allow[0], errstr, errsz);
                if (!b->store)
                        goto err;
                int64_t hwm = 0;
                if (te_ibkr_store_next_id(b->store, &hwm, errstr, errsz) != 0 ||
                    te_ibkr_store_load_open(b->store, te_ibkr_orders_row_cb,
                                            te_ibkr_orders_exec_cb, b, errstr,
                                            errsz) != 0)
                        goto err;
                if (hwm > b->next_id)
                        b->next_id = hwm;
                te_ibkr_pos_set_db(b->pos, te_ibkr_pos_store_db, b);
                TE_LOG(TE_LOG_INFO, NULL, "ibkr.loaded",
                       "%zu open orders, %zu executions, next TWS id >= %lld",
                       b->n_orders, te_map_count(b->execs), (long long)b->next_id);
        }
        return &b->base;
err:
        ib_destroy(&b->base);
        return NULL;
}
