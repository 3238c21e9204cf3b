/*
 * broker_sim: deterministic fills from daily bars (see broker_sim.h for the model).
 */
#include "broker_sim.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "te_buf.h"
#include "te_ids.h"
#include "te_log.h"
#include "te_map.h"

typedef struct sim_s {
        te_broker_t base;
        te_sim_cfg_t cfg;
        te_bars_t *bars;
        te_map_t *seen; /* order ids already handled (value unused) */
} sim_t;

void te_sim_cfg_defaults(te_sim_cfg_t *cfg)
{
        memset(cfg, 0, sizeof *cfg);
        cfg->slippage_bps = 5.0;
        cfg->commission_per_share = 0.005;
        cfg->commission_min = 1.0;
        te_strlcpy(cfg->broker_name, "sim", sizeof cfg->broker_name);
        te_strlcpy(cfg->account, "SIM-1", sizeof cfg->account);
}

double te_sim_round4(double v)
{
        return v < 0 ? -floor(-v * 10000.0 + 0.5) / 10000.0
                     : floor(v * 10000.0 + 0.5) / 10000.0;
}

static te_exec_report_t *new_report(sim_t *s, const te_order_cmd_t *cmd,
                                    te_reports_t *out, const char *kind, int seq,
                                    te_exec_type_t et, te_order_status_t os)
{
        te_exec_report_t *r = te_reports_push(out);
        if (!r)
                return NULL;
        te_broker_report_from_cmd(r, cmd, s->cfg.broker_name);
        te_strlcpy(r->account, s->cfg.account, sizeof r->account);
        te_id_sim_report(r->report_id, sizeof r->report_id, cmd->order_id, kind, seq);
        r->exec_type = et;
        r->order_status = os;
        return r;
}

static te_broker_err_t reject(sim_t *s, const te_order_cmd_t *cmd, te_reports_t *out,
                              const char *why)
{
        te_exec_report_t *r =
            new_report(s, cmd, out, "reject", 0, TE_EXEC_REJECTED, TE_OS_REJECTED);
        if (!r)
                return TE_BROKER_ERR_FATAL;
        te_strlcpy(r->reason, why, sizeof r->reason);
        te_log_ids_t ids = {.decision_id = cmd->ids.decision_id,
                            .order_id = cmd->order_id};
        TE_LOG(TE_LOG_WARN, &ids, "sim.reject", "%s", why);
        return TE_BROKER_OK;
}

static te_broker_err_t sim_submit(te_broker_t *b, const te_order_cmd_t *cmd,
                                  te_reports_t *out)
{
        sim_t *s = (sim_t *)b;
        if (te_map_get(s->seen, cmd->order_id)) {
                te_log_ids_t ids = {.order_id = cmd->order_id};
                TE_LOG(TE_LOG_INFO, &ids, "sim.duplicate",
                       "order already handled; ignored");
                return TE_BROKER_OK;
        }
        if (te_map_put(s->seen, cmd->order_id, s) != 0)
                return TE_BROKER_ERR_FATAL;
        if (cmd->order_type != TE_OT_MARKET)
                return reject(s, cmd, out, "sim: only MARKET orders are supported");
        const te_bar_t *bar = te_bars_at_or_before(s->bars, cmd->ticker,
                                                   te_bars_day_of_ms(cmd->event_time));
        if (!bar)
                return reject(s, cmd, out, "sim: no market data at or before event time");
        if (bar->volume <= 0)
                return reject(s, cmd, out, "sim: no volume on the bar");

        te_exec_report_t *ack = new_report(s, cmd, out, "ack", 0, TE_EXEC_ACK, TE_OS_NEW);
        if (!ack)
                return TE_BROKER_ERR_FATAL;
        ack->leaves_qty = cmd->quantity;

        double slip = s->cfg.slippage_bps / 10000.0;
        double px = te_sim_round4(cmd->side == TE_SIDE_BUY ? bar->close * (1.0 + slip)
                                                           : bar->close * (1.0 - slip));
        double comm = te_sim_round4(
            fmax(s->cfg.commission_min, cmd->quantity * s->cfg.commission_per_share));
        te_exec_report_t *f =
            new_report(s, cmd, out, "fill", 1, TE_EXEC_FILL, TE_OS_FILLED);
        if (!f)
                return TE_BROKER_ERR_FATAL;
        f->last_qty = cmd->quantity;
        f->last_price = px;
        f->cum_qty = cmd->quantity;
        f->leaves_qty = 0;
        f->avg_price = px;
        f->commission = comm;
        return TE_BROKER_OK;
}

static te_broker_err_t sim_cancel(te_broker_t *b, const te_order_cmd_t *cmd,
                                  te_reports_t *out)
{
        /* foundation model: every accepted order is already filled, so there is nothing
         * live to cancel; say so without changing the order's state */
        (void)b;
        (void)out;
        te_log_ids_t ids = {.order_id = cmd->order_id};
        TE_LOG(TE_LOG_INFO, &ids, "sim.cancel_too_late", "no live order to cancel");
        return TE_BROKER_OK;
}

static te_broker_err_t sim_replace(te_broker_t *b, const te_order_cmd_t *cmd,
                                   te_reports_t *out)
{
        return sim_cancel(b, cmd, out);
}

static te_broker_err_t sim_clock(te_broker_t *b, const te_order_cmd_t *cmd,
                                 te_reports_t *out)
{
        sim_t *s = (sim_t *)b;
        te_exec_report_t *r =
            new_report(s, cmd, out, "clock", 0, TE_EXEC_CLOCK_ACK, TE_OS_NEW);
        return r ? TE_BROKER_OK : TE_BROKER_ERR_FATAL;
}

static te_broker_err_t sim_poll(te_broker_t *b, te_reports_t *out)
{
        (void)b;
        (void)out;
        return TE_BROKER_OK;
}

static void sim_destroy(te_broker_t *b)
{
        sim_t *s = (sim_t *)b;
        te_map_destroy(s->seen, NULL);
        free(s);
}

static const te_broker_ops_t sim_ops = {
    .name = "sim",
    .mode = TE_MODE_TRAINING,
    .submit = sim_submit,
    .cancel = sim_cancel,
    .replace = sim_replace,
    .clock = sim_clock,
    .poll = sim_poll,
    .destroy = sim_destroy,
};

te_broker_t *te_sim_new(const te_sim_cfg_t *cfg, te_bars_t *bars)
{
        sim_t *s = calloc(1, sizeof *s);
        if (!s)
                return NULL;
        s->base.ops = &sim_ops;
        s->cfg = *cfg;
        s->bars = bars;
        s->seen = te_map_new();
        if (!s->seen) {
                free(s);
                return NULL;
        }
        return &s->base;
}
