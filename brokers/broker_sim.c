/*
 * broker_sim: open-order book and event-time clock over fill_model (see broker_sim.h).
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

#define MS_PER_DAY INT64_C(86400000)

typedef struct sorder_s {
        te_order_cmd_t cmd; /* the NEW, updated by REPLACE */
        double cum, value, comm;
        int n_fill, n_repl, n_refused;
        int32_t arrival_day, last_day; /* bars with day <= last_day are done */
        int64_t clk; /* the last CLOCK applied to it (event time - 1 at arrival) */
        int evaluated, triggered, live, expire_due;
} sorder_t;

typedef struct sim_s {
        te_broker_t base;
        te_sim_cfg_t cfg;
        te_bars_t *bars;
        te_map_t *orders; /* order_id -> sorder_t* (live) or &done (finished) */
        sorder_t **open;  /* live orders in arrival order */
        size_t n_open, cap_open;
        te_sim_stats_t st;
} sim_t;

static char done; /* marker for finished orders in s->orders */

/* A fill's time of day on its bar: 14:30 / 21:00 UTC (09:30 / 16:00 New York, winter) */
#define SIM_OPEN_UTC_MS  INT64_C(52200000)
#define SIM_CLOSE_UTC_MS INT64_C(75600000)

int te_sim_parse_ticks(te_sim_cfg_t *cfg, const char *spec, char *errstr, size_t errsz)
{
        te_sim_tick_t tmp[TE_SIM_MAX_TICKS];
        size_t n = 0;
        const char *p = spec ? spec : "";
        while (*p) {
                while (*p == ' ' || *p == ',')
                        p++;
                if (!*p)
                        break;
                const char *end = strchr(p, ',');
                size_t len = end ? (size_t)(end - p) : strlen(p);
                char item[128];
                while (len && p[len - 1] == ' ')
                        len--;
                if (len >= sizeof item) {
                        snprintf(errstr, errsz, "item too long: %.40s...", p);
                        return -1;
                }
                memcpy(item, p, len);
                item[len] = '\0';
                p += len;
                char *eq = strchr(item, '=');
                if (!eq || eq == item) {
                        snprintf(errstr, errsz, "%s: expected TICKER=increment", item);
                        return -1;
                }
                *eq = '\0';
                char *num_end;
                double inc = strtod(eq + 1, &num_end);
                if (num_end == eq + 1 || *num_end || !isfinite(inc) || !(inc > 0) ||
                    inc > 1000) {
                        snprintf(errstr, errsz,
                                 "%s: increment '%s' is not a number in (0, 1000]", item,
                                 eq + 1);
                        return -1;
                }
                if (strlen(item) >= TE_TICKER_MAX) {
                        snprintf(errstr, errsz, "%s: ticker too long", item);
                        return -1;
                }
                for (size_t i = 0; i < n; i++)
                        if (strcmp(tmp[i].ticker, item) == 0) {
                                snprintf(errstr, errsz, "%s: given twice", item);
                                return -1;
                        }
                if (n == TE_SIM_MAX_TICKS) {
                        snprintf(errstr, errsz, "more than %d instruments",
                                 TE_SIM_MAX_TICKS);
                        return -1;
                }
                te_strlcpy(tmp[n].ticker, item, sizeof tmp[n].ticker);
                tmp[n++].increment = inc;
        }
        memcpy(cfg->ticks, tmp, n * sizeof tmp[0]);
        cfg->n_ticks = n;
        return 0;
}

double te_sim_tick_of(const te_sim_cfg_t *cfg, const char *ticker)
{
        for (size_t i = 0; i < cfg->n_ticks; i++)
                if (strcmp(cfg->ticks[i].ticker, ticker) == 0)
                        return cfg->ticks[i].increment;
        return cfg->fill.price_increment > 0 ? cfg->fill.price_increment : 0.0001;
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

static te_order_status_t live_status(const sorder_t *o)
{
        return o->cum > 0 ? TE_OS_PARTIALLY_FILLED : TE_OS_NEW;
}

/* Fill the common quantity fields of a report about `o`. */
static void set_qty(const sim_t *s, te_exec_report_t *r, const sorder_t *o)
{
        r->cum_qty = o->cum;
        r->leaves_qty = o->live ? o->cmd.quantity - o->cum : 0;
        /* stored as reported: on the instrument's increment, like the fill prices */
        r->avg_price = o->cum > 0
                           ? te_fill_round_to(o->value / o->cum,
                                              te_sim_tick_of(&s->cfg, o->cmd.ticker))
                           : 0;
}

/* Take a live order off the book (it stays known as finished). */
static void finish(sim_t *s, sorder_t *o)
{
        o->live = 0;
        /* replacing the value of an existing key cannot fail */
        (void)te_map_put(s->orders, o->cmd.order_id, &done);
}

/* End a live order with CANCELED or EXPIRED. */
static te_broker_err_t end_order(sim_t *s, sorder_t *o, te_exec_type_t et,
                                 int64_t event_time, const char *why, te_reports_t *out)
{
        te_exec_report_t *r =
            new_report(s, &o->cmd, out, et == TE_EXEC_EXPIRED ? "expire" : "cancel", 0,
                       et, et == TE_EXEC_EXPIRED ? TE_OS_EXPIRED : TE_OS_CANCELED);
        if (!r)
                return TE_BROKER_ERR_FATAL;
        finish(s, o);
        set_qty(s, r, o);
        r->event_time = event_time;
        te_strlcpy(r->reason, why, sizeof r->reason);
        return TE_BROKER_OK;
}

static te_broker_err_t emit_fill(sim_t *s, sorder_t *o, const te_fill_t *f,
                                 int64_t event_time, te_reports_t *out)
{
        o->cum += f->qty;
        o->value += f->qty * f->price;
        o->n_fill++;
        double total = te_fill_commission_total(&s->cfg.fill, o->cum, o->value);
        double comm = te_fill_round4(total - o->comm);
        o->comm = total;
        /* leaves under one lot cannot fill any more: the order is done */
        int full = o->cmd.quantity - o->cum < 1e-9;
        te_exec_report_t *r = new_report(s, &o->cmd, out, "fill", o->n_fill,
                                         full ? TE_EXEC_FILL : TE_EXEC_PARTIAL_FILL,
                                         full ? TE_OS_FILLED : TE_OS_PARTIALLY_FILLED);
        if (!r)
                return TE_BROKER_ERR_FATAL;
        if (full)
                finish(s, o);
        set_qty(s, r, o);
        if (o->n_fill == 1)
                r->avg_price = f->price;
        r->last_qty = f->qty;
        r->last_price = f->price;
        r->commission = comm;
        r->event_time = event_time;
        s->st.fills++;
        return TE_BROKER_OK;
}

/* Evaluate one bar; on the order's first evaluated bar apply its TIF. */
static te_broker_err_t eval_bar(sim_t *s, sorder_t *o, const te_bar_t *bar,
                                te_bar_phase_t phase, int64_t event_time, int64_t clock_t,
                                te_reports_t *out)
{
        te_fill_order_t fo = {.side = o->cmd.side,
                              .type = o->cmd.order_type,
                              .tif = o->cmd.tif,
                              .aggr = o->cmd.aggressiveness,
                              .leaves = o->cmd.quantity - o->cum,
                              .limit = o->cmd.limit_price,
                              .stop = o->cmd.stop_price,
                              .triggered = o->triggered};
        te_fill_t f;
        te_fill_cfg_t fc = s->cfg.fill; /* with the instrument's price increment */
        fc.price_increment = te_sim_tick_of(&s->cfg, o->cmd.ticker);
        te_fill_bar(&fc, &fo, bar, phase, &f);
        s->st.evals++;
        o->triggered = f.triggered;
        if (f.qty > 0) {
                int64_t t = event_time;
                if (t < 0) { /* a bar seen on a clock: the bar's own time, clamped */
                        t = (int64_t)bar->day * MS_PER_DAY +
                            (f.at_open ? SIM_OPEN_UTC_MS : SIM_CLOSE_UTC_MS);
                        if (t > clock_t)
                                t = clock_t;
                        if (t < o->cmd.event_time)
                                t = o->cmd.event_time;
                }
                if (emit_fill(s, o, &f, t, out) != TE_BROKER_OK)
                        return TE_BROKER_ERR_FATAL;
        }
        if (o->evaluated || (o->cmd.tif == TE_TIF_OPG && phase == TE_PHASE_CLOSE_ONLY))
                return TE_BROKER_OK;
        o->evaluated = 1;
        if (!o->live)
                return TE_BROKER_OK;
        int64_t et = event_time >= 0 ? event_time : clock_t;
        switch (o->cmd.tif) {
        case TE_TIF_IOC:
                return end_order(s, o, TE_EXEC_CANCELED, et,
                                 "IOC: remainder canceled after the first bar", out);
        case TE_TIF_FOK:
                return end_order(s, o, TE_EXEC_CANCELED, et,
                                 f.refused ? "FOK: the bar cannot fill it in full"
                                           : "FOK: not marketable on its first bar",
                                 out);
        case TE_TIF_OPG:
                return end_order(s, o, TE_EXEC_EXPIRED, et, "OPG: not filled at the open",
                                 out);
        case TE_TIF_CLS:
                return end_order(s, o, TE_EXEC_EXPIRED, et,
                                 "CLS: not filled at the close", out);
        case TE_TIF_DAY:
                o->expire_due = 1;
                return TE_BROKER_OK;
        default:
                return TE_BROKER_OK;
        }
}

static int valid_order(const te_order_cmd_t *c, const char **why)
{
        if (!(c->quantity > 0) || !isfinite(c->quantity)) {
                *why = "sim: quantity must be > 0";
                return 0;
        }
        int lim = c->order_type == TE_OT_LIMIT || c->order_type == TE_OT_STOP_LIMIT;
        int stp = c->order_type == TE_OT_STOP || c->order_type == TE_OT_STOP_LIMIT;
        if (lim &&
            (!c->has_limit_price || !(c->limit_price > 0) || !isfinite(c->limit_price))) {
                *why = "sim: limit order without a valid limit_price";
                return 0;
        }
        if (stp &&
            (!c->has_stop_price || !(c->stop_price > 0) || !isfinite(c->stop_price))) {
                *why = "sim: stop order without a valid stop_price";
                return 0;
        }
        if ((unsigned)c->order_type >= TE_OT__CNT || (unsigned)c->tif >= TE_TIF__CNT) {
                *why = "sim: unknown order type or tif";
                return 0;
        }
        return 1;
}

static int open_push(sim_t *s, sorder_t *o)
{
        if (te_grow((void **)&s->open, &s->cap_open, s->n_open + 1, sizeof *s->open,
                    64) != 0)
                return -1;
        s->open[s->n_open++] = o;
        return 0;
}

/* Drop finished orders from the open list (keeps arrival order). */
static void open_compact(sim_t *s)
{
        size_t j = 0;
        for (size_t i = 0; i < s->n_open; i++) {
                if (s->open[i]->live)
                        s->open[j++] = s->open[i];
                else
                        free(s->open[i]);
        }
        s->n_open = j;
}

static te_broker_err_t sim_submit(te_broker_t *b, const te_order_cmd_t *cmd,
                                  te_reports_t *out)
{
        sim_t *s = (sim_t *)b;
        const char *why = NULL;
        char text[160];
        if (te_map_get(s->orders, cmd->order_id)) {
                te_log_ids_t ids = {.order_id = cmd->order_id};
                TE_LOG(TE_LOG_INFO, &ids, "sim.duplicate",
                       "order already handled; ignored");
                return TE_BROKER_OK;
        }
        int32_t day = te_bars_day_of_ms(cmd->event_time);
        const te_bar_t *bar = NULL;
        if (!valid_order(cmd, &why)) {
        } else if (!(bar = te_bars_at_or_before(s->bars, cmd->ticker, day))) {
                why = "sim: no market data at or before event time";
        } else if (day - bar->day > s->cfg.max_stale_days) {
                snprintf(text, sizeof text,
                         "sim: no bar within %d days of event time (halted or delisted?)",
                         s->cfg.max_stale_days);
                why = text;
        } else if (bar->volume <= 0) {
                why = "sim: no volume on the bar (halted)";
        }
        if (why) { /* remembered, so a re-delivered NEW is ignored */
                if (te_map_put(s->orders, cmd->order_id, &done) != 0)
                        return TE_BROKER_ERR_FATAL;
                return reject(s, cmd, out, why);
        }

        sorder_t *o = calloc(1, sizeof *o);
        if (!o || open_push(s, o) != 0) {
                free(o);
                return TE_BROKER_ERR_FATAL;
        }
        o->cmd = *cmd;
        o->cmd.command = TE_CMD_NEW;
        o->live = 1;
        o->arrival_day = o->last_day = day;
        o->clk = cmd->event_time - 1;
        if (te_map_put(s->orders, cmd->order_id, o) != 0)
                return TE_BROKER_ERR_FATAL;
        te_exec_report_t *ack = new_report(s, cmd, out, "ack", 0, TE_EXEC_ACK, TE_OS_NEW);
        if (!ack)
                return TE_BROKER_ERR_FATAL;
        ack->leaves_qty = cmd->quantity;
        if (s->cfg.fill.market_at == TE_MKT_AT_CLOSE &&
            eval_bar(s, o, bar, TE_PHASE_CLOSE_ONLY, cmd->event_time, cmd->event_time,
                     out) != TE_BROKER_OK)
                return TE_BROKER_ERR_FATAL;
        if (!o->live)
                open_compact(s);
        return TE_BROKER_OK;
}

/* The live order a CANCEL/REPLACE names, or NULL (logged). An order that finished
 * already has said so in its own final report: nothing more to say. An order this book
 * never had is answered with a final REJECTED ("unknown order"), as a broker answers a
 * cancel of an order it does not know, so that whoever waits for the confirmation of
 * the CANCEL/REPLACE stops counting the order. *err: TE_BROKER_ERR_FATAL on OOM. */
static sorder_t *live_order(sim_t *s, const te_order_cmd_t *cmd, const char *what,
                            te_reports_t *out, te_broker_err_t *err)
{
        void *v = te_map_get(s->orders, cmd->order_id);
        *err = TE_BROKER_OK;
        if (v && v != &done)
                return v;
        te_log_ids_t ids = {.order_id = cmd->order_id};
        TE_LOG(TE_LOG_INFO, &ids, "sim.too_late", "%s: %s", what,
               v ? "order already finished" : "unknown order");
        if (!v) {
                te_exec_report_t *r = new_report(s, cmd, out, "unknown", 0,
                                                 TE_EXEC_REJECTED, TE_OS_REJECTED);
                if (!r) {
                        *err = TE_BROKER_ERR_FATAL;
                        return NULL;
                }
                r->last_qty = r->cum_qty = r->leaves_qty = 0;
                snprintf(r->reason, sizeof r->reason, "%s: unknown order", what);
        }
        return NULL;
}

static te_broker_err_t sim_cancel(te_broker_t *b, const te_order_cmd_t *cmd,
                                  te_reports_t *out)
{
        sim_t *s = (sim_t *)b;
        te_broker_err_t err;
        sorder_t *o = live_order(s, cmd, "cancel", out, &err);
        if (!o)
                return err;
        te_broker_err_t e = end_order(s, o, TE_EXEC_CANCELED, cmd->event_time,
                                      "canceled on request", out);
        open_compact(s);
        return e;
}

static te_broker_err_t sim_replace(te_broker_t *b, const te_order_cmd_t *cmd,
                                   te_reports_t *out)
{
        sim_t *s = (sim_t *)b;
        const char *why = NULL;
        te_broker_err_t err;
        sorder_t *o = live_order(s, cmd, "replace", out, &err);
        if (!o)
                return err;
        te_log_ids_t ids = {.order_id = cmd->order_id};
        if (!valid_order(cmd, &why) || cmd->side != o->cmd.side ||
            strcmp(cmd->ticker, o->cmd.ticker) != 0 || !(cmd->quantity > o->cum)) {
                why = why ? why : "side/ticker differ or quantity not above cum";
                TE_LOG(TE_LOG_WARN, &ids, "sim.replace_refused", "%s", why);
                /* the order keeps its terms; the sender learns the REPLACE is settled */
                te_exec_report_t *r =
                    new_report(s, &o->cmd, out, "replace_refused", ++o->n_refused,
                               TE_EXEC_REJECTED, live_status(o));
                if (!r)
                        return TE_BROKER_ERR_FATAL;
                set_qty(s, r, o);
                r->event_time = cmd->event_time;
                snprintf(r->reason, sizeof r->reason, "replace refused: %s", why);
                return TE_BROKER_OK;
        }
        o->cmd.quantity = cmd->quantity;
        o->cmd.order_type = cmd->order_type;
        o->cmd.has_limit_price = cmd->has_limit_price;
        o->cmd.limit_price = cmd->limit_price;
        o->cmd.has_stop_price = cmd->has_stop_price;
        o->cmd.stop_price = cmd->stop_price;
        o->cmd.tif = cmd->tif;
        o->cmd.aggressiveness = cmd->aggressiveness;
        o->n_repl++;
        te_exec_report_t *r = new_report(s, &o->cmd, out, "replace", o->n_repl,
                                         TE_EXEC_REPLACED, live_status(o));
        if (!r)
                return TE_BROKER_ERR_FATAL;
        set_qty(s, r, o);
        r->event_time = cmd->event_time;
        return TE_BROKER_OK;
}

/* Advance one order to day `day` of clock `t`. */
static te_broker_err_t advance(sim_t *s, sorder_t *o, int32_t day, int64_t t,
                               te_reports_t *out)
{
        if (o->expire_due)
                return end_order(s, o, TE_EXEC_EXPIRED, t, "DAY: session ended", out);
        const te_bar_t *first = NULL;
        size_t n = te_bars_range(s->bars, o->cmd.ticker, o->last_day, day, &first);
        for (size_t i = 0; i < n && o->live; i++) {
                if (eval_bar(s, o, &first[i], TE_PHASE_FULL, -1, t, out) != TE_BROKER_OK)
                        return TE_BROKER_ERR_FATAL;
                if (o->live && o->expire_due)
                        return end_order(s, o, TE_EXEC_EXPIRED, t, "DAY: session ended",
                                         out);
        }
        if (day > o->last_day)
                o->last_day = day;
        if (o->live && !o->evaluated && o->cmd.tif != TE_TIF_GTC &&
            day - o->arrival_day > s->cfg.max_stale_days)
                return end_order(s, o, TE_EXEC_EXPIRED, t,
                                 "no bar for the order's session (halted?)", out);
        return TE_BROKER_OK;
}

static te_broker_err_t sim_clock(te_broker_t *b, const te_order_cmd_t *cmd,
                                 te_reports_t *out)
{
        sim_t *s = (sim_t *)b;
        int64_t t = cmd->event_time;
        int32_t day = te_bars_day_of_ms(t);
        size_t n = s->n_open; /* orders never arrive during a clock */
        int moved = 0;
        for (size_t i = 0; i < n; i++) {
                sorder_t *o = s->open[i];
                /* the clock state is the order's own, so that the book rebuilt by a
                 * replay from the oldest open order is the book that was lost */
                if (!o->live || t <= o->clk ||
                    strcmp(o->cmd.ids.portfolio_id, cmd->ids.portfolio_id) != 0)
                        continue;
                o->clk = t;
                moved = 1;
                if (advance(s, o, day, t, out) != TE_BROKER_OK)
                        return TE_BROKER_ERR_FATAL;
        }
        if (moved)
                open_compact(s);
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

static void free_order(void *p)
{
        if (p != &done)
                free(p);
}

static void sim_destroy(te_broker_t *b)
{
        sim_t *s = (sim_t *)b;
        te_map_destroy(s->orders, free_order); /* live orders are owned via the map */
        free(s->open);
        free(s);
}

int te_sim_reset(te_broker_t *b)
{
        sim_t *s = (sim_t *)b;
        te_map_t *fresh = te_map_new();
        if (!fresh)
                return -1;
        open_compact(s); /* finished orders live only in the open list */
        te_map_destroy(s->orders, free_order);
        s->orders = fresh;
        s->n_open = 0;
        s->st.open_orders = 0;
        return 0;
}

void te_sim_stats(const te_broker_t *b, te_sim_stats_t *out)
{
        const sim_t *s = (const sim_t *)b;
        *out = s->st;
        out->open_orders = s->n_open;
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
        s->orders = te_map_new();
        if (!s->orders) {
                free(s);
                return NULL;
        }
        return &s->base;
}
