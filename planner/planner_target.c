/*
 * planner_target: one target from exec.targets to the commands on exec.orders —
 * replay detection, the TRAINING clock barrier, planning, sending, dead letters — and
 * the execution reports that move the book.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "planner_int.h"
#include "te_emit.h"
#include "te_ids.h"
#include "te_log.h"
#include "te_obs.h"
#include "te_proc.h"

/* Apply one report message. @returns 1 if it is the CLOCK_ACK with `clock_id`. */
int te_pl_on_report(te_planner_t *pl, rd_kafka_message_t *m, const char *clock_id)
{
        char errstr[256];
        if (m->err)
                return 0;
        te_obs_consumed(rd_kafka_topic_name(m->rkt));
        if (te_codec_decode_exec_report(pl->codec, m->payload, m->len, &pl->rep, errstr,
                                        sizeof errstr) != TE_CODEC_OK) {
                /* the sink dead-letters bad reports; the planner just skips them */
                TE_LOG(TE_LOG_WARN, NULL, "planner.bad_report", "%s", errstr);
                return 0;
        }
        pl->st.reports++;
        if (pl->rep.exec_type == TE_EXEC_CLOCK_ACK)
                return clock_id && strcmp(pl->rep.order_id, clock_id) == 0;
        if (pl->rep.exec_type == TE_EXEC_BROKER_STATE) {
                te_pl_on_broker_state(pl, m->partition, &pl->rep);
                return 0;
        }
        if (te_book_apply_report(pl->book, &pl->rep) == TE_BOOK_ERROR)
                te_pl_fail(pl, "apply report", "out of memory");
        return 0;
}

void te_pl_drain_reports(te_planner_t *pl, int64_t now)
{
        rd_kafka_message_t *m;
        while ((m = rd_kafka_consumer_poll(pl->reports, 0)) != NULL) {
                te_pl_on_report(pl, m, NULL);
                rd_kafka_message_destroy(m);
        }
        pl->last_report_poll = now;
}

int te_pl_send_cmd(te_planner_t *pl, const te_order_cmd_t *o)
{
        char errstr[256];
        if (te_codec_encode_order_cmd(pl->codec, o, &pl->buf, errstr, sizeof errstr) !=
            TE_CODEC_OK) {
                te_pl_fail(pl, "encode order", errstr);
                return -1;
        }
        if (te_producer_send(pl->producer, pl->conf.topic_orders, o->ids.portfolio_id,
                             strlen(o->ids.portfolio_id), pl->buf.data, pl->buf.len, NULL,
                             0, errstr, sizeof errstr) != 0) {
                te_pl_fail(pl, "send order", errstr);
                return -1;
        }
        return 0;
}

/* Send planned commands, recording them in the book. A NEW whose id the book already
 * knows was sent before (a target consumed again): it is not sent twice. */
int te_pl_send_all(te_planner_t *pl, const te_order_cmd_t *cmds, size_t n)
{
        for (size_t i = 0; i < n; i++) {
                const te_order_cmd_t *o = &cmds[i];
                if (o->command == TE_CMD_NEW) {
                        if (te_book_has_order(pl->book, o->order_id)) {
                                pl->st.skipped_known++;
                                continue;
                        }
                        if (te_pl_send_cmd(pl, o) != 0)
                                return -1;
                        if (te_book_add_order(pl->book, o->order_id, o->ids.portfolio_id,
                                              o->ticker, o->side, o->quantity, 0.0,
                                              TE_OS_PENDING_NEW) != 0) {
                                te_pl_fail(pl, "book", "out of memory");
                                return -1;
                        }
                        pl->st.orders++;
                } else {
                        if (te_pl_send_cmd(pl, o) != 0)
                                return -1;
                        if (o->command == TE_CMD_CANCEL) {
                                te_book_mark_cancel(pl->book, o->order_id);
                                pl->st.cancels++;
                        }
                }
                te_log_ids_t oids = {.decision_id = o->ids.decision_id,
                                     .portfolio_id = o->ids.portfolio_id,
                                     .order_id = o->order_id};
                TE_LOG(TE_LOG_DEBUG, &oids, "order.sent", "%s %s %s %.10g %s",
                       te_command_name(o->command), te_side_name(o->side), o->ticker,
                       o->quantity, te_intent_name(o->intent));
        }
        return 0;
}

void te_pl_free_target(void *v)
{
        te_target_portfolio_t *tp = v;
        te_target_portfolio_free(tp);
        free(tp);
}

/* Keep a copy of the last target planned for its portfolio (EMERGENCY re-plans it).
 * @returns 0 or -1 (OOM). */
static int keep_last(te_planner_t *pl, const te_target_portfolio_t *tp)
{
        te_target_portfolio_t *c = te_map_get(pl->last, tp->ids.portfolio_id);
        if (!c) {
                c = calloc(1, sizeof *c);
                if (!c || te_map_put(pl->last, tp->ids.portfolio_id, c) != 0) {
                        free(c);
                        return -1;
                }
        }
        te_target_portfolio_t keep = *tp;
        keep.targets = c->targets; /* reuse the copy's array */
        keep.cap_targets = c->cap_targets;
        keep.n_targets = 0;
        *c = keep;
        for (size_t i = 0; i < tp->n_targets; i++)
                if (te_target_portfolio_add(c, &tp->targets[i]) != 0)
                        return -1;
        return 0;
}

/* TRAINING barrier: CLOCK(t), then read reports until CLOCK_ACK(t). @returns 0, 1 when
 * the broker of the target's partition reported DOWN meanwhile (hold the target: the
 * CLOCK is acknowledged after the outage, and sent again when the target is planned;
 * the id is the same, either ack will do), or -1 when stopping before the ack came. */
static int clock_barrier(te_planner_t *pl, const te_target_portfolio_t *tp,
                         int32_t partition)
{
        te_order_cmd_t clk;
        memset(&clk, 0, sizeof clk);
        clk.command = TE_CMD_CLOCK;
        te_id_clock(clk.order_id, sizeof clk.order_id, tp->ids.portfolio_id, tp->as_of);
        clk.ids = tp->ids;
        clk.mode = tp->mode;
        clk.event_time = tp->as_of;
        te_strlcpy(clk.route, pl->conf.route, sizeof clk.route);
        if (te_pl_send_cmd(pl, &clk) != 0)
                return -1;
        int64_t start = te_proc_mono_ms();
        int64_t next_alert = start + pl->conf.clock_timeout_ms;
        while (!te_proc_stop) {
                rd_kafka_message_t *m = rd_kafka_consumer_poll(pl->reports, 50);
                te_producer_poll(pl->producer, 0);
                if (m) {
                        int acked = te_pl_on_report(pl, m, clk.order_id);
                        rd_kafka_message_destroy(m);
                        if (acked)
                                return 0;
                        if (te_pl_must_hold(pl, partition, tp->ids.portfolio_id))
                                return 1;
                }
                int64_t now = te_proc_mono_ms();
                if (now >= next_alert) {
                        te_emit_alert(
                            pl->producer, pl->codec, pl->conf.topic_alerts,
                            TE_SEV_WARNING, TE_PL_PROC, "clock.timeout",
                            tp->ids.decision_id, tp->ids.portfolio_id, clk.order_id,
                            "no CLOCK_ACK for t=%lld after %lld ms; still waiting",
                            (long long)tp->as_of, (long long)(now - start));
                        next_alert = now + pl->conf.clock_timeout_ms;
                }
        }
        return -1;
}

void te_pl_dead_letter_target(te_planner_t *pl, const rd_kafka_message_t *m,
                              const char *code, const char *why,
                              const te_target_portfolio_t *tp)
{
        char errstr[256], reason[640];
        snprintf(reason, sizeof reason, "%s: %s", code, why);
        pl->st.dead_lettered++;
        te_log_ids_t ids = {.decision_id = tp ? tp->ids.decision_id : NULL,
                            .portfolio_id = tp ? tp->ids.portfolio_id : NULL};
        TE_LOG(TE_LOG_WARN, &ids, "target.dead_letter", "%s", reason);
        if (te_emit_deadletter(pl->producer, pl->conf.topic_deadletter, m, reason, errstr,
                               sizeof errstr) != 0) {
                te_pl_fail(pl, "dead-letter", errstr);
                return;
        }
        te_emit_alert(pl->producer, pl->codec, pl->conf.topic_alerts, TE_SEV_WARNING,
                      TE_PL_PROC, code, tp ? tp->ids.decision_id : NULL,
                      tp ? tp->ids.portfolio_id : NULL, NULL, "target dead-lettered: %s",
                      why);
}

/* Plan `tp` (decoded from `m`) against the book. @returns 0 with the commands, 1 when
 * the target was dead-lettered instead, -1 on a fatal error. */
static int plan(te_planner_t *pl, rd_kafka_message_t *m, const te_target_portfolio_t *tp,
                te_plan_env_t *env, const te_order_cmd_t **cmds, size_t *n)
{
        char errstr[512];
        *env = (te_plan_env_t){
            .level = te_modes_level(pl->levels, tp->ids.portfolio_id),
            .price = pl->prices ? te_price_cache_get : NULL,
            .known = pl->prices ? te_price_cache_known : NULL,
            .opaque = pl->prices,
        };
        *n = 0;
        te_plan_err_t e = te_plan_run(pl->ws, &pl->plan, env, pl->book, tp, cmds, n,
                                      errstr, sizeof errstr);
        if (e == TE_PLAN_E_NOMEM || e == TE_PLAN_E_TOO_MANY) {
                te_pl_fail(pl, "plan", errstr);
                return -1;
        }
        if (e != TE_PLAN_OK) {
                te_pl_dead_letter_target(pl, m, te_plan_err_code(e), errstr, tp);
                return pl->fatal ? -1 : 1;
        }
        return 0;
}

/* Hold a target whose broker is down, after the checks planning would make (an invalid
 * target is dead-lettered now, not when the broker is back). @returns as te_pl_hold. */
static int hold(te_planner_t *pl, rd_kafka_message_t *m, const te_target_portfolio_t *tp)
{
        te_plan_env_t env;
        const te_order_cmd_t *cmds;
        size_t n;
        int r = plan(pl, m, tp, &env, &cmds, &n);
        if (r != 0)
                return r < 0 ? -1 : 0;
        return te_pl_hold(pl, m, tp);
}

int te_pl_on_target(te_planner_t *pl, rd_kafka_message_t *m, int64_t now, int fresh)
{
        char errstr[512];
        int64_t t_in = te_proc_mono_ns();
        te_codec_err_t cerr = te_codec_decode_target_portfolio(
            pl->codec, m->payload, m->len, &pl->tp, errstr, sizeof errstr);
        if (cerr != TE_CODEC_OK) {
                te_pl_dead_letter_target(pl, m, te_codec_err_name(cerr), errstr, NULL);
                return pl->fatal ? -1 : 0;
        }
        te_target_portfolio_t *tp = &pl->tp;
        if (fresh)
                pl->st.targets++;
        int64_t last;
        if (te_book_as_of_learned(pl->book, tp->ids.portfolio_id) &&
            te_book_last_as_of(pl->book, tp->ids.portfolio_id, &last) &&
            tp->as_of < last) {
                /* consumed again after a restart or rebalance: planned before */
                pl->st.replayed++;
                te_log_ids_t ids = {.decision_id = tp->ids.decision_id,
                                    .portfolio_id = tp->ids.portfolio_id};
                TE_LOG(TE_LOG_INFO, &ids, "target.replayed",
                       "as_of %lld before the last planned %lld: already planned",
                       (long long)tp->as_of, (long long)last);
                return 0;
        }
        if (tp->mode != TE_MODE_TRAINING &&
            now - pl->last_report_poll >= pl->conf.report_poll_ms)
                te_pl_drain_reports(pl, now); /* also the broker's state */
        if (te_pl_must_hold(pl, m->partition, tp->ids.portfolio_id))
                return hold(pl, m, tp);
        if (tp->mode == TE_MODE_TRAINING) {
                int r = clock_barrier(pl, tp, m->partition);
                if (r < 0)
                        return -1;
                if (r == 1)
                        return hold(pl, m, tp);
        }
        te_plan_env_t env;
        const te_order_cmd_t *cmds;
        size_t n = 0;
        int r = plan(pl, m, tp, &env, &cmds, &n);
        if (r != 0)
                return r < 0 ? -1 : 0;
        if (env.level == TE_LEVEL_HALT)
                pl->st.halted++;
        if (te_pl_remember_planned(pl, tp->ids.portfolio_id, tp->as_of) != 0 ||
            keep_last(pl, tp) != 0 ||
            te_book_set_last_as_of(pl->book, tp->ids.portfolio_id, tp->as_of) != 0 ||
            te_book_set_mode(pl->book, tp->ids.portfolio_id, tp->mode) != 0) {
                te_pl_fail(pl, "book", "out of memory");
                return -1;
        }
        if (te_pl_send_all(pl, cmds, n) != 0)
                return -1;
        if (n)
                te_obs_latency(TE_OBS_TARGET_TO_ORDER,
                               (double)(te_proc_mono_ns() - t_in) / 1e9);
        te_log_ids_t ids = {.decision_id = tp->ids.decision_id,
                            .portfolio_id = tp->ids.portfolio_id};
        TE_LOG(TE_LOG_DEBUG, &ids, "target.planned",
               "as_of=%lld targets=%zu commands=%zu level=%s", (long long)tp->as_of,
               tp->n_targets, n, te_level_name(env.level));
        return 0;
}
