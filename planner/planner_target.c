/*
 * planner_target: one target from exec.targets to the commands on exec.orders —
 * replay detection, the TRAINING clock barrier, planning, sending, dead letters — and
 * the execution reports that move the book.
 *
 * The clock barrier is pipelined (target_queue.h): a TRAINING target sends CLOCK(t)
 * and waits in its portfolio's lane while the loop goes on consuming; targets of other
 * portfolios are handled (or send their own CLOCKs) meanwhile, targets of the same
 * portfolio queue behind it. When its CLOCK_ACK(t) is read the target is planned, then
 * the next one of its portfolio. The simulator keeps one clock per portfolio, so
 * invariant 6 holds per portfolio: no CLOCK of a later target goes out before the
 * orders of the earlier one. Nothing is committed past a target still in flight (the
 * offsets ledger).
 *
 * A price lookup that fails (PostgreSQL unreachable) is "unknown now", not "no price":
 * the target stays first in its portfolio's lane (its later targets queue behind it),
 * its partition is paused, and it is planned again with backoff (50 ms doubling to
 * 5 s, reconnecting) until the DB answers. Only a price missing from a query that
 * worked dead-letters a target as no_price (docs/DESIGN.md invariant 10).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "planner_int.h"
#include "te_emit.h"
#include "te_ids.h"
#include "te_log.h"
#include "te_obs.h"
#include "te_proc.h"

/* The state this file changes (besides the target queue's). */
struct te_planner_target_s {
        te_target_queue_item_t *
            *ready; /* CLOCK_ACKed targets, planned by te_planner_target_after_reports */
        size_t n_ready, cap_ready;
        /* targets whose price lookup failed (the DB is unreachable): each first in its
         * portfolio's lane, its partition paused, retried with backoff */
        struct stalled_s {
                te_target_queue_item_t *it;
                int acked; /* its CLOCK_ACK had come: plan it directly */
        } * stalled;
        size_t n_stalled, cap_stalled;
        int64_t stall_at, stall_delay; /* next retry (monotonic ms), backoff; 0: none */
        unsigned char
            stall_paused[TE_PLANNER_MAX_PARTS]; /* paused for a stalled target */
        char stall_err[256];                    /* why the last lookup failed */
        int divert_due;           /* a partition went DOWN: hold its targets in flight */
        int64_t next_clock_check; /* ms: next look for overdue CLOCK_ACKs */
        int64_t last_report_poll; /* ms: reports last read */
        /* TRAINING as_of horizon: the end of the last day of prices_daily (read at a
         * rebuild and at most once a minute; a failed read keeps the last answer) */
        int bars_state;  /* 0: never read, 1: rows (bars_end_ms), 2: table empty */
        int bars_logged; /* the state last logged (which limit applies) */
        int64_t bars_end_ms;
        int64_t bars_next; /* monotonic ms: next read */
};

te_planner_target_t *te_planner_target_new(void)
{
        return calloc(1, sizeof(te_planner_target_t));
}

void te_planner_target_destroy(te_planner_target_t *ts)
{
        if (!ts)
                return;
        free(ts->ready);
        free(ts->stalled);
        free(ts);
}

static void make_ready(te_planner_t *pl, te_target_queue_item_t *it)
{
        if (te_grow((void **)&pl->ts->ready, &pl->ts->cap_ready, pl->ts->n_ready + 1,
                    sizeof *pl->ts->ready, 64) != 0) {
                te_planner_fail(pl, "clock ack", "out of memory");
                return;
        }
        pl->ts->ready[pl->ts->n_ready++] = it;
}

void te_planner_target_on_report(te_planner_t *pl, rd_kafka_message_t *m)
{
        char errstr[256];
        if (m->err)
                return;
        te_obs_consumed(rd_kafka_topic_name(m->rkt));
        if (te_codec_decode_exec_report(pl->codec, m->payload, m->len, &pl->rep, errstr,
                                        sizeof errstr) != TE_CODEC_OK ||
            te_codec_check_bounds(TE_MSG_EXECUTION_REPORT, &pl->rep, errstr,
                                  sizeof errstr) != TE_CODEC_OK) {
                /* the sink dead-letters bad reports; the planner just skips them */
                TE_LOG(TE_LOG_WARN, NULL, "planner.bad_report", "%s[%d]@%lld: %s",
                       rd_kafka_topic_name(m->rkt), (int)m->partition,
                       (long long)m->offset, errstr);
                return;
        }
        pl->st.reports++;
        if (pl->rep.exec_type == TE_EXEC_CLOCK_ACK) {
                /* a late or repeated ACK names no waiting target */
                te_target_queue_item_t *it =
                    te_target_queue_ack(pl->tq, pl->rep.order_id);
                if (it)
                        make_ready(pl, it);
                return;
        }
        if (pl->rep.exec_type == TE_EXEC_BROKER_STATE) {
                te_planner_target_on_broker_state(pl, m->partition, &pl->rep);
                return;
        }
        size_t pending = te_book_pending_count(pl->book);
        if (te_book_apply_report(pl->book, &pl->rep) == TE_BOOK_ERROR)
                te_planner_fail(pl, "apply report", "out of memory");
        else if (te_book_pending_count(pl->book) < pending)
                te_planner_target_on_confirmed(pl, pl->rep.ids.portfolio_id);
}

void te_planner_target_confirm_id(char *out, size_t outsz, const char *portfolio_id)
{
        /* a clock id no CLOCK can have (no target has this as_of) */
        te_id_clock(out, outsz, portfolio_id, INT64_MIN);
}

void te_planner_target_on_confirmed(te_planner_t *pl, const char *portfolio_id)
{
        if (te_book_pf_pending(te_book_portfolio(pl->book, portfolio_id)) > 0)
                return; /* the rest is planned once everything is confirmed */
        char id[TE_ID_MAX];
        te_planner_target_confirm_id(id, sizeof id, portfolio_id);
        te_target_queue_item_t *it = te_target_queue_ack(pl->tq, id);
        if (it) {
                it->confirming = 0;
                it->replans++;
                make_ready(pl, it);
        }
        te_planner_mode_confirmed(pl->mode, portfolio_id);
}

void te_planner_target_drain_reports(te_planner_t *pl, int64_t now, int timeout_ms)
{
        rd_kafka_message_t *m;
        while ((m = rd_kafka_consumer_poll(pl->reports, timeout_ms)) != NULL) {
                te_planner_target_on_report(pl, m);
                rd_kafka_message_destroy(m);
                timeout_ms = 0;
        }
        pl->ts->last_report_poll = now;
}

void te_planner_target_free_copy(void *v)
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

/* TRAINING barrier: send CLOCK(t) for the target in `it`, which then waits in its
 * portfolio's lane for CLOCK_ACK(t) (te_planner_target_on_report). A target held
 * meanwhile (its broker went DOWN) sends its CLOCK again when it is planned: the id is
 * the same, either ACK will do. @returns 0 or -1 (fatal). */
static int send_clock(te_planner_t *pl, te_target_queue_item_t *it, int64_t now)
{
        const te_target_portfolio_t *tp = &it->tp;
        te_order_cmd_t cmd, *clk = &cmd;
        memset(clk, 0, sizeof *clk);
        clk->command = TE_CMD_CLOCK;
        te_id_clock(clk->order_id, sizeof clk->order_id, tp->ids.portfolio_id, tp->as_of);
        clk->ids = tp->ids;
        clk->mode = tp->mode;
        clk->event_time = tp->as_of;
        te_strlcpy(clk->route, pl->conf.plan.route, sizeof clk->route);
        if (te_planner_send_cmd(pl, clk) != 0)
                return -1;
        pl->clock_sent = 1; /* pushed out at the end of the turn (te_planner_run) */
        if (te_target_queue_wait(pl->tq, it, clk->order_id, now,
                                 pl->conf.clock_timeout_ms) != 0) {
                te_planner_fail(pl, "clock", "out of memory");
                return -1;
        }
        return 0;
}

/* Alert on every target whose CLOCK_ACK is overdue; it keeps waiting. */
static void check_clocks(te_planner_t *pl, int64_t now)
{
        size_t pos = 0;
        te_target_queue_item_t *it;
        while ((
            it = te_target_queue_overdue(pl->tq, &pos, now, pl->conf.clock_timeout_ms))) {
                const te_target_portfolio_t *tp = &it->tp;
                if (it->confirming)
                        continue; /* te_planner_target_check_confirms alerts per order */
                te_emitter_alert(&pl->emit, TE_SEV_WARNING, "clock.timeout",
                                 tp->ids.decision_id, tp->ids.portfolio_id, it->clock_id,
                                 "no CLOCK_ACK for t=%lld after %lld ms; still waiting",
                                 (long long)tp->as_of, (long long)(now - it->wait_since));
        }
}

void te_planner_target_dead_letter(te_planner_t *pl, const rd_kafka_message_t *m,
                                   const char *code, const char *why,
                                   const te_target_portfolio_t *tp)
{
        char errstr[256];
        pl->st.dead_lettered++;
        te_log_ids_t ids = {.decision_id = tp ? tp->ids.decision_id : NULL,
                            .portfolio_id = tp ? tp->ids.portfolio_id : NULL};
        TE_LOG(TE_LOG_WARN, &ids, "target.dead_letter", "%s: %s", code, why);
        /* best effort, for exec-dbtool check: only on a live connection, a failure is
         * logged and the stream goes on (the Kafka dead letter is the record) */
        if (tp && pl->db && PQstatus(pl->db) == CONNECTION_OK &&
            te_planner_db_dead_letter(pl->db, rd_kafka_topic_name(m->rkt), m->partition,
                                      m->offset, tp->ids.portfolio_id,
                                      tp->ids.decision_id, tp->as_of, code, errstr,
                                      sizeof errstr) != 0)
                TE_LOG(TE_LOG_WARN, &ids, "planner.dead_letter_record",
                       "not recorded in planner_dead_letters: %s", errstr);
        /* a target that decoded is keyed by its ids, so Risk can tie it to what they
         * sent */
        te_emit_reject(
            &pl->emit, m, code, why,
            &(te_reject_ctx_t){.what = "target",
                               .keyed = tp != NULL,
                               .decision_id = tp ? tp->ids.decision_id : NULL,
                               .portfolio_id = tp ? tp->ids.portfolio_id : NULL});
}

enum { PLAN_OK = 0, PLAN_DEAD = 1, PLAN_STALLED = 2, PLAN_FATAL = -1 };

/* Plan `tp` (decoded from `m`) against the book. @returns PLAN_OK with the commands,
 * PLAN_DEAD when the target was dead-lettered instead, PLAN_STALLED when a price
 * lookup failed (nothing planned, nothing sent: try again later), PLAN_FATAL. */
static int plan(te_planner_t *pl, rd_kafka_message_t *m, const te_target_portfolio_t *tp,
                int leg_base, te_order_plan_env_t *env, const te_order_cmd_t **cmds,
                size_t *n)
{
        char errstr[512];
        *env = (te_order_plan_env_t){
            .level = te_planner_mode_level(pl->mode, tp->ids.portfolio_id),
            .price = pl->prices ? te_planner_db_prices_get : NULL,
            .known = pl->prices ? te_planner_db_prices_known : NULL,
            .opaque = pl->prices,
            .leg_base = leg_base,
        };
        *n = 0;
        if (pl->prices)
                te_planner_db_prices_failure(pl->prices, NULL,
                                             0); /* an older one is moot */
        te_order_plan_err_t e = te_order_plan_run(pl->ws, &pl->plan, env, pl->book, tp,
                                                  cmds, n, errstr, sizeof errstr);
        if (e != TE_ORDER_PLAN_E_NOMEM && pl->prices &&
            te_planner_db_prices_failure(pl->prices, pl->ts->stall_err,
                                         sizeof pl->ts->stall_err)) {
                /* whatever the plan says, it rests on an answer the DB did not give */
                *n = 0;
                return PLAN_STALLED;
        }
        if (e == TE_ORDER_PLAN_E_NOMEM || e == TE_ORDER_PLAN_E_TOO_MANY) {
                te_planner_fail(pl, "plan", errstr);
                return -1;
        }
        if (e != TE_ORDER_PLAN_OK) {
                te_planner_target_dead_letter(pl, m, te_order_plan_err_code(e), errstr,
                                              tp);
                return pl->fatal ? PLAN_FATAL : PLAN_DEAD;
        }
        /* what the plan computed must be encodable and within the value bounds: a
         * quantity that overflowed (a huge weight x nav) is the target's fault, a dead
         * letter, never a failed encode that stops the planner */
        for (size_t i = 0; i < *n; i++) {
                char why[256];
                if (te_codec_check_bounds(TE_MSG_ORDER_COMMAND, &(*cmds)[i], why,
                                          sizeof why) != TE_CODEC_OK) {
                        snprintf(errstr, sizeof errstr, "order %s %s: %s",
                                 te_command_name((*cmds)[i].command), (*cmds)[i].ticker,
                                 why);
                        *n = 0;
                        te_planner_target_dead_letter(pl, m, "out_of_range", errstr, tp);
                        return pl->fatal ? PLAN_FATAL : PLAN_DEAD;
                }
        }
        return PLAN_OK;
}

/* Hold the (valid) target `tp` decoded from `m`, replacing the portfolio's held one.
 * @returns 1 held (owns m), 0 dead-lettered (as_of before the held one's), -1 fatal. */
static int hold_put(te_planner_t *pl, rd_kafka_message_t *m,
                    const te_target_portfolio_t *tp)
{
        te_log_ids_t ids = {.decision_id = tp->ids.decision_id,
                            .portfolio_id = tp->ids.portfolio_id};
        void *old = NULL;
        int64_t held_as_of = 0;
        int r = te_planner_hold_put(pl->hold, m, m->partition, m->offset,
                                    tp->ids.portfolio_id, tp->as_of, &old, &held_as_of);
        if (r == 0) {
                char why[160];
                snprintf(why, sizeof why, "as_of %lld is before the held target's %lld",
                         (long long)tp->as_of, (long long)held_as_of);
                te_planner_target_dead_letter(pl, m, "as_of_backwards", why, tp);
                return pl->fatal ? -1 : 0;
        }
        if (r < 0) {
                te_planner_fail(pl, "hold", "out of memory");
                return -1;
        }
        if (old) {
                rd_kafka_message_t *h = old;
                TE_LOG(TE_LOG_INFO, &ids, "target.superseded",
                       "held target at offset %lld replaced by the one at %lld",
                       (long long)h->offset, (long long)m->offset);
                te_planner_target_done(pl, h); /* finished: replaced */
                rd_kafka_message_destroy(h);
                pl->st.superseded++;
        }
        pl->st.held++;
        TE_LOG(TE_LOG_INFO, &ids, "target.held",
               "broker %s down: as_of %lld held (partition %d offset %lld)",
               pl->conf.plan.route, (long long)tp->as_of, (int)m->partition,
               (long long)m->offset);
        return 1;
}

static void alert_down(te_planner_t *pl, const char *why)
{
        te_emitter_alert(
            &pl->emit, TE_SEV_WARNING, "planner_broker_down", NULL, NULL, NULL,
            "broker %s reported DOWN (%s): no new orders for its portfolios; "
            "their latest targets are held until it is UP",
            pl->conf.plan.route, why);
}

void te_planner_target_hold_caught_up(te_planner_t *pl)
{
        if (te_planner_hold_n_down(pl->hold) > 0)
                alert_down(pl, "as of the reports read on assignment");
}

void te_planner_target_on_broker_state(te_planner_t *pl, int32_t partition,
                                       const te_exec_report_t *r)
{
        int ev = te_planner_hold_broker_state(pl->hold, partition, r->broker, r->reason);
        if (ev != TE_PLANNER_HOLD_DOWN)
                return;
        /* once per outage, not for each past state read in a rebuild */
        if (te_planner_hold_n_down(pl->hold) == 1 && !pl->catching_up)
                alert_down(pl, r->reason);
        if (te_target_queue_count(pl->tq)) /* its targets in flight are held */
                pl->ts->divert_due = 1;
}

int te_planner_target_release(te_planner_t *pl, int64_t now)
{
        size_t k = 0;
        if (te_planner_hold_take_begin(pl->hold, &k) != 0) { /* clears the flag */
                te_planner_fail(pl, "release", "out of memory");
                return -1;
        }
        if (!te_planner_hold_count(pl->hold))
                return 0;
        if (k)
                TE_LOG(TE_LOG_WARN, NULL, "planner.release",
                       "broker %s UP: planning %zu held targets", pl->conf.plan.route, k);
        int rc = 0;
        rd_kafka_message_t *m;
        while (rc == 0 && (m = te_planner_hold_take_next(pl->hold)) != NULL) {
                pl->st.released++;
                /* planned (or in flight again): the ledger lets the position of p
                 * move past it once it is finished */
                if (te_planner_target_on_message(pl, m, now, 0) < 0)
                        rc = -1;
        }
        pl->dirty = 1;
        te_planner_hold_take_end(pl->hold);
        return rc;
}

/* Hold a target whose broker is down, after the checks planning would make (an invalid
 * target is dead-lettered now, not when the broker is back; while the DB cannot answer
 * a price lookup it is held unchecked, and checked when it is planned).
 * @returns as hold_put. */
static int hold(te_planner_t *pl, rd_kafka_message_t *m, const te_target_portfolio_t *tp)
{
        te_order_plan_env_t env;
        const te_order_cmd_t *cmds;
        size_t n;
        int r = plan(pl, m, tp, 0, &env, &cmds, &n);
        if (r == PLAN_FATAL || r == PLAN_DEAD)
                return r == PLAN_FATAL ? -1 : 0;
        return hold_put(pl, m, tp);
}

void te_planner_target_done(te_planner_t *pl, const rd_kafka_message_t *m)
{
        if (te_target_queue_done(pl->tq, m->partition, m->offset,
                                 te_producer_sent_seq(pl->producer)) != 0)
                TE_LOG(TE_LOG_WARN, NULL, "planner.ledger",
                       "%s[%d]@%lld finished but not in the ledger",
                       rd_kafka_topic_name(m->rkt), (int)m->partition,
                       (long long)m->offset);
}

/* `it` is finished (held: the hold owns its message now): out of the ledger's way
 * (unless held), its message released, the item freed. */
static void finish(te_planner_t *pl, te_target_queue_item_t *it, int held)
{
        if (!held) {
                te_planner_target_done(pl, it->msg);
                rd_kafka_message_destroy(it->msg);
        }
        it->msg = NULL;
        te_target_queue_item_free(pl->tq, it);
}

enum { T_DONE, T_WAITING, T_HELD, T_STALLED, T_FATAL = -1 };

/* Plan the target in `it` and send its commands. When some of its tickers must wait
 * for the broker to confirm a CANCEL or REPLACE (te_order_plan_deferred), the target
 * waits in its lane (later targets of the portfolio queue behind it) and is planned again
 * when the portfolio has nothing pending (te_planner_target_on_confirmed). The first plan
 * again uses legs from 0 (its deferred tickers sent no NEW yet, so their ids are the ones
 * a plan without the wait would have given), later ones further on.
 * @returns T_DONE, T_WAITING, T_STALLED (a price lookup failed: nothing sent) or
 * T_FATAL. */
static int plan_and_send(te_planner_t *pl, te_target_queue_item_t *it, int64_t now)
{
        const te_target_portfolio_t *tp = &it->tp;
        te_order_plan_env_t env;
        const te_order_cmd_t *cmds;
        size_t n = 0;
        int leg_base = it->replans > 1 ? (it->replans - 1) * 100 : 0;
        if (it->replans)
                pl->st.replans++;
        int r = plan(pl, it->msg, tp, leg_base, &env, &cmds, &n);
        if (r == PLAN_STALLED)
                return T_STALLED;
        if (r != PLAN_OK)
                return r < 0 ? T_FATAL : T_DONE;
        if (env.level == TE_LEVEL_HALT)
                pl->st.halted++;
        if (keep_last(pl, tp) != 0 ||
            te_book_set_last_as_of(pl->book, tp->ids.portfolio_id, tp->as_of) != 0 ||
            te_book_set_mode(pl->book, tp->ids.portfolio_id, tp->mode) != 0) {
                te_planner_fail(pl, "book", "out of memory");
                return T_FATAL;
        }
        size_t deferred = te_order_plan_deferred(pl->ws);
        if (te_planner_send_all(pl, cmds, n) != 0)
                return T_FATAL;
        /* recorded in the DB once these commands are delivered (te_planner_commit) */
        if (te_target_queue_planned(pl->tq, tp->ids.portfolio_id, tp->as_of,
                                    te_producer_sent_seq(pl->producer)) != 0) {
                te_planner_fail(pl, "planned", "out of memory");
                return T_FATAL;
        }
        if (n && !it->replans)
                te_obs_latency(TE_OBS_TARGET_TO_ORDER,
                               (double)(te_proc_mono_ns() - it->t_in_ns) / 1e9);
        te_log_ids_t ids = {.decision_id = tp->ids.decision_id,
                            .portfolio_id = tp->ids.portfolio_id};
        TE_LOG(TE_LOG_DEBUG, &ids, "target.planned",
               "as_of=%lld targets=%zu commands=%zu level=%s deferred=%zu",
               (long long)tp->as_of, tp->n_targets, n, te_level_name(env.level),
               deferred);
        if (deferred && env.level != TE_LEVEL_HALT &&
            te_book_pf_pending(te_book_portfolio(pl->book, tp->ids.portfolio_id)) > 0) {
                char id[TE_ID_MAX];
                te_planner_target_confirm_id(id, sizeof id, tp->ids.portfolio_id);
                if (te_target_queue_wait(pl->tq, it, id, now,
                                         pl->conf.clock_timeout_ms) != 0) {
                        te_planner_fail(pl, "confirm", "out of memory");
                        return T_FATAL;
                }
                it->confirming = 1;
                return T_WAITING;
        }
        return T_DONE;
}

static void alert_overdue(const char *portfolio_id, const char *ticker,
                          const char *order_id, int is_replace, int64_t age_ms,
                          void *opaque)
{
        te_planner_t *pl = opaque;
        pl->st.confirm_overdue++;
        te_emitter_alert(&pl->emit, TE_SEV_WARNING, "confirm.timeout", NULL, portfolio_id,
                         order_id,
                         "%s of %s not confirmed by broker %s after %lld ms: nothing new "
                         "is sent for %s until it is (the order could still fill)",
                         is_replace ? "REPLACE" : "CANCEL", ticker, pl->conf.plan.route,
                         (long long)age_ms, ticker);
}

void te_planner_target_check_confirms(te_planner_t *pl, int64_t now)
{
        int64_t timeout =
            pl->conf.confirm_timeout_ms > 0 ? pl->conf.confirm_timeout_ms : 10000;
        te_book_overdue(pl->book, now, timeout, alert_overdue, pl);
}

/* Hold `it` (its broker is down). @returns T_HELD, T_DONE (dead-lettered) or T_FATAL. */
static int hold_item(te_planner_t *pl, te_target_queue_item_t *it)
{
        int r = hold(pl, it->msg, &it->tp);
        return r < 0 ? T_FATAL : r == 1 ? T_HELD : T_DONE;
}

/* Handle `it`, the first target in flight of its portfolio (`acked`: its CLOCK_ACK
 * came). @returns T_DONE, T_WAITING (CLOCK sent), T_HELD, T_STALLED (waits for the
 * DB) or T_FATAL. */
static int process(te_planner_t *pl, te_target_queue_item_t *it, int64_t now, int acked)
{
        te_target_portfolio_t *tp = &it->tp;
        if (acked)
                return te_planner_hold_must(pl->hold, it->partition, tp->ids.portfolio_id)
                           ? hold_item(pl, it)
                           : plan_and_send(pl, it, now);
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
                return T_DONE;
        }
        if (tp->mode != TE_MODE_TRAINING &&
            now - pl->ts->last_report_poll >= pl->conf.report_poll_ms)
                te_planner_target_drain_reports(pl, now, 0); /* also the broker's state */
        if (te_planner_hold_must(pl->hold, it->partition, tp->ids.portfolio_id))
                return hold_item(pl, it);
        if (tp->mode == TE_MODE_TRAINING)
                return send_clock(pl, it, now) == 0 ? T_WAITING : T_FATAL;
        return plan_and_send(pl, it, now);
}

/* Pause or resume partition p of exec.targets. */
static void pause_partition(te_planner_t *pl, int32_t p, int pause)
{
        rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(1);
        rd_kafka_topic_partition_list_add(l, pl->conf.topic_targets, p);
        rd_kafka_t *rk = te_consumer_handle(pl->targets);
        rd_kafka_resp_err_t err =
            pause ? rd_kafka_pause_partitions(rk, l) : rd_kafka_resume_partitions(rk, l);
        if (err)
                TE_LOG(TE_LOG_WARN, NULL, "planner.pause", "%s %s[%d]: %s",
                       pause ? "pause" : "resume", pl->conf.topic_targets, (int)p,
                       rd_kafka_err2str(err));
        rd_kafka_topic_partition_list_destroy(l);
        if (p >= 0 && p < TE_PLANNER_MAX_PARTS)
                pl->ts->stall_paused[p] = (unsigned char)pause;
}

/* `it` could not be planned: a price lookup failed. It stays first in its portfolio's
 * lane (not finished: the ledger keeps its offset uncommitted), its partition is
 * paused, and te_planner_target_after_reports plans it again once the backoff is due.
 * @returns 0 or -1 (fatal). */
static int stall(te_planner_t *pl, te_target_queue_item_t *it, int64_t now, int acked)
{
        if (te_grow((void **)&pl->ts->stalled, &pl->ts->cap_stalled,
                    pl->ts->n_stalled + 1, sizeof *pl->ts->stalled, 16) != 0) {
                te_planner_fail(pl, "stall", "out of memory");
                return -1;
        }
        if (te_target_queue_park(pl->tq, it) != 0) {
                te_planner_fail(pl, "stall", "out of memory");
                return -1;
        }
        pl->ts->stalled[pl->ts->n_stalled++] = (struct stalled_s){it, acked};
        pl->st.db_waits++;
        int32_t p = it->partition;
        if (p >= 0 && p < TE_PLANNER_MAX_PARTS && !pl->ts->stall_paused[p])
                pause_partition(pl, p, 1);
        if (!pl->ts->stall_delay) { /* the first of this outage */
                pl->ts->stall_delay = 50;
                pl->ts->stall_at = now + pl->ts->stall_delay;
                te_obs_ready("db", 0);
                te_log_ids_t ids = {.decision_id = it->tp.ids.decision_id,
                                    .portfolio_id = it->tp.ids.portfolio_id};
                TE_LOG(TE_LOG_ERROR, &ids, "planner.db_retry",
                       "price lookup: %s; target kept, partition %d paused, retry in "
                       "%lld ms",
                       pl->ts->stall_err, (int)p, (long long)pl->ts->stall_delay);
        }
        return 0;
}

/* Take `it` out of the stalled targets (its lane was taken: a broker went DOWN). */
static void unstall(te_planner_t *pl, const te_target_queue_item_t *it)
{
        for (size_t i = 0; i < pl->ts->n_stalled; i++)
                if (pl->ts->stalled[i].it == it) {
                        pl->ts->stalled[i] = pl->ts->stalled[--pl->ts->n_stalled];
                        return;
                }
}

/* Handle `it` and, as each one finishes, the next target of its portfolio, until one
 * waits for its CLOCK_ACK or for the DB, or none is left. @returns 0 or -1 (stop). */
static int advance(te_planner_t *pl, te_target_queue_item_t *it, int64_t now, int acked)
{
        while (it) {
                int r = process(pl, it, now, acked);
                if (r == T_STALLED)
                        return stall(pl, it, now, acked);
                acked = 0;
                if (r == T_WAITING)
                        return 0;
                te_target_queue_item_t *next = te_target_queue_pop(pl->tq, it);
                if (r == T_FATAL) {
                        rd_kafka_message_destroy(it->msg);
                        it->msg = NULL;
                        te_target_queue_item_free(pl->tq, it);
                        return -1; /* what queued behind goes with the lanes */
                }
                finish(pl, it, r == T_HELD);
                it = next;
        }
        return 0;
}

void te_planner_target_bars_refresh(te_planner_t *pl, int64_t now, int force)
{
        if (!pl->db || (!force && now < pl->ts->bars_next))
                return;
        pl->ts->bars_next = now + 60000;
        char errstr[256];
        int64_t end = 0;
        int r = PQstatus(pl->db) == CONNECTION_OK
                    ? te_planner_db_bars_end(pl->db, &end, errstr, sizeof errstr)
                    : -1;
        if (r < 0) {
                /* an outage is waited out elsewhere: keep what was known */
                TE_LOG(
                    TE_LOG_WARN, NULL, "planner.bars_end",
                    "last bar date not read (%s): the TRAINING as_of horizon keeps %s",
                    PQstatus(pl->db) == CONNECTION_OK ? "query failed" : "DB unreachable",
                    pl->ts->bars_state == 1 ? "the last known date" : "the wall clock");
                return;
        }
        pl->ts->bars_state = r == 1 ? 1 : 2;
        if (r == 1)
                pl->ts->bars_end_ms = end;
        if (pl->ts->bars_state != pl->ts->bars_logged) {
                pl->ts->bars_logged = pl->ts->bars_state;
                if (r == 1)
                        TE_LOG(TE_LOG_INFO, NULL, "planner.horizon",
                               "TRAINING as_of horizon: the last date of prices_daily "
                               "(day ending %lld ms) + %lld days",
                               (long long)end, (long long)pl->conf.as_of_horizon_days);
                else
                        TE_LOG(TE_LOG_INFO, NULL, "planner.horizon",
                               "TRAINING as_of horizon: prices_daily is empty, the wall "
                               "clock + %lld days",
                               (long long)pl->conf.as_of_horizon_days);
        }
}

/* Checks of a decoded target before it goes anywhere (queue, CLOCK, plan): its values
 * within the bounds (te_codec_check_bounds) and its as_of within the horizon:
 * not after the wall clock + plan.as_of_horizon_days in PRODUCTION; in TRAINING not
 * after the end of the last day of prices_daily + plan.as_of_horizon_days (the wall
 * clock when that table is empty or was never read). Planned, such a target would make
 * every later target of its portfolio as_of_backwards.
 * @returns NULL, or the dead-letter code with errstr. */
static const char *target_check(te_planner_t *pl, const te_target_portfolio_t *tp,
                                char *errstr, size_t errsz)
{
        if (te_codec_check_bounds(TE_MSG_TARGET_PORTFOLIO, tp, errstr, errsz) !=
            TE_CODEC_OK)
                return "out_of_range";
        if (pl->conf.as_of_horizon_days > 0) {
                int bars = tp->mode == TE_MODE_TRAINING && pl->ts->bars_state == 1;
                int64_t base = bars ? pl->ts->bars_end_ms : te_proc_wall_ms();
                int64_t limit = base + pl->conf.as_of_horizon_days * 86400000LL;
                if (tp->as_of > limit) {
                        snprintf(errstr, errsz,
                                 "as_of %lld is more than %lld days after %s "
                                 "(limit %lld, plan.as_of_horizon_days)",
                                 (long long)tp->as_of,
                                 (long long)pl->conf.as_of_horizon_days,
                                 bars ? "the last bar date" : "the wall clock",
                                 (long long)limit);
                        return "as_of_horizon";
                }
        }
        return NULL;
}

/* If `m` (decoded into `tp`) is not on its portfolio's partition, re-publish it there
 * (planner_route.h), or dead-letter it if it cannot be. The caller then finishes its
 * ledger entry. @returns 0 when it is on its partition (plan it), 1 when re-published
 * or dead-lettered, -1 on a fatal error. */
static int reroute(te_planner_t *pl, const rd_kafka_message_t *m,
                   const te_target_portfolio_t *tp, int64_t now)
{
        char why[256];
        int32_t to = te_planner_partition_of(pl, tp->ids.portfolio_id);
        int r = te_planner_route_target(pl->route, m, tp, to, now, why, sizeof why);
        if (r == TE_PLANNER_ROUTE_DEAD) {
                te_planner_target_dead_letter(pl, m, "wrong_partition", why, tp);
                return pl->fatal ? -1 : 1;
        }
        if (r == TE_PLANNER_ROUTE_ERROR) {
                te_planner_fail(pl, "re-publish target", why);
                return -1;
        }
        if (r == TE_PLANNER_ROUTE_MOVED)
                pl->st.rerouted++;
        return r;
}

int te_planner_target_on_message(te_planner_t *pl, rd_kafka_message_t *m, int64_t now,
                                 int fresh)
{
        char errstr[512];
        /* dead letters whose delivery failed since: CRITICAL alerts */
        te_emitter_lost(&pl->emit);
        te_target_queue_item_t *it = te_target_queue_item_new(pl->tq);
        if (!it) {
                rd_kafka_message_destroy(m);
                te_planner_fail(pl, "target", "out of memory");
                return -1;
        }
        it->msg = m;
        it->partition = m->partition;
        it->offset = m->offset;
        it->t_in_ns = fresh && pl->now_ns ? pl->now_ns : te_proc_mono_ns();
        te_codec_err_t cerr = te_codec_decode_target_portfolio(
            pl->codec, m->payload, m->len, &it->tp, errstr, sizeof errstr);
        if (cerr != TE_CODEC_OK) {
                /* values refused in a well-formed message: its ids were read */
                int ids = cerr == TE_CODEC_ERR_INVALID && it->tp.ids.portfolio_id[0];
                te_planner_target_dead_letter(pl, m, te_codec_err_name(cerr), errstr,
                                              ids ? &it->tp : NULL);
                finish(pl, it, 0);
                return pl->fatal ? -1 : 0;
        }
        if (fresh) {
                pl->st.targets++;
                /* a producer on another partitioner: planned by the portfolio's owner */
                int r = reroute(pl, m, &it->tp, now);
                if (r != 0) {
                        finish(pl, it, 0);
                        return r < 0 ? -1 : 0;
                }
        }
        const char *bad = target_check(pl, &it->tp, errstr, sizeof errstr);
        if (bad) {
                te_planner_target_dead_letter(pl, m, bad, errstr, &it->tp);
                finish(pl, it, 0);
                return pl->fatal ? -1 : 0;
        }
        if (te_target_queue_busy(pl->tq, it->tp.ids.portfolio_id)) {
                te_target_queue_queue(pl->tq,
                                      it); /* behind its portfolio's target in flight */
                return 0;
        }
        return advance(pl, it, now, 0);
}

/* The targets in flight of partitions gone DOWN are held (each portfolio's in order:
 * the latest is the one kept). @returns 0 or -1. */
static int divert(te_planner_t *pl)
{
        int rc = 0;
        pl->ts->divert_due = 0;
        for (int32_t p = 0; p < pl->n_parts && p < TE_PLANNER_MAX_PARTS; p++) {
                if (!te_planner_hold_down(pl->hold, p))
                        continue;
                te_target_queue_item_t *it = te_target_queue_take_partition(pl->tq, p);
                while (it) {
                        te_target_queue_item_t *next = te_target_queue_next(it);
                        unstall(pl, it);
                        int r = rc == 0 ? hold_item(pl, it) : T_DONE;
                        if (r == T_FATAL) {
                                rc = -1;
                                r = T_DONE;
                        }
                        finish(pl, it, r == T_HELD);
                        it = next;
                }
        }
        return rc;
}

/* Plan again the targets whose price lookup failed, once the backoff is due; when
 * none is left, resume their partitions. @returns 0 or -1 (stop). */
static int retry_stalled(te_planner_t *pl, int64_t now)
{
        if (now < pl->ts->stall_at)
                return 0;
        int reached = 1;
        if (PQstatus(pl->db) != CONNECTION_OK) {
                PQreset(pl->db); /* the connection was lost: a new one first */
                if (PQstatus(pl->db) != CONNECTION_OK) {
                        reached = 0;
                        te_errf(pl->ts->stall_err, sizeof pl->ts->stall_err, "%s",
                                PQerrorMessage(pl->db));
                        size_t k = strlen(pl->ts->stall_err);
                        while (k > 0 && (pl->ts->stall_err[k - 1] == '\n' ||
                                         pl->ts->stall_err[k - 1] == '\r'))
                                pl->ts->stall_err[--k] = '\0';
                }
        }
        size_t n = pl->ts->n_stalled;
        if (reached) {
                /* each is first in its own lane: planning one never touches another */
                struct stalled_s *take = pl->ts->stalled;
                pl->ts->stalled = NULL;
                pl->ts->n_stalled = pl->ts->cap_stalled = 0;
                int rc = 0;
                /* on a fatal error the rest stay in their lanes, freed with them */
                for (size_t i = 0; i < n && rc == 0 && !pl->fatal; i++)
                        if (advance(pl, take[i].it, now, take[i].acked) != 0)
                                rc = -1;
                free(take);
                if (rc != 0 || pl->fatal)
                        return -1;
        }
        if (pl->ts->n_stalled) {
                pl->ts->stall_delay =
                    pl->ts->stall_delay * 2 > 5000 ? 5000 : pl->ts->stall_delay * 2;
                pl->ts->stall_at = now + pl->ts->stall_delay;
                TE_LOG(TE_LOG_ERROR, NULL, "planner.db_retry",
                       "price lookup: %s; %zu targets kept, retry in %lld ms",
                       pl->ts->stall_err, pl->ts->n_stalled,
                       (long long)pl->ts->stall_delay);
                return 0;
        }
        for (int32_t p = 0; p < pl->n_parts && p < TE_PLANNER_MAX_PARTS; p++)
                if (pl->ts->stall_paused[p])
                        pause_partition(pl, p, 0);
        pl->ts->stall_delay = 0;
        te_obs_ready("db", 1);
        TE_LOG(TE_LOG_WARN, NULL, "planner.db_reconnected",
               "price lookups answer again: %zu waiting targets planned, partitions "
               "resumed",
               n);
        return 0;
}

int te_planner_target_after_reports(te_planner_t *pl, int64_t now)
{
        /* by index: planning may read reports, which may make more targets ready */
        for (size_t i = 0; i < pl->ts->n_ready && !pl->fatal; i++)
                if (advance(pl, pl->ts->ready[i], now, 1) != 0)
                        return -1;
        pl->ts->n_ready = 0;
        if (pl->ts->divert_due && divert(pl) != 0)
                return -1;
        if (te_planner_mode_emergency_confirmed(pl) != 0)
                return -1;
        if (pl->ts->stall_delay && retry_stalled(pl, now) != 0)
                return -1;
        te_planner_target_bars_refresh(pl, now, 0);
        if (now >= pl->ts->next_clock_check) {
                if (te_target_queue_waiting(pl->tq))
                        check_clocks(pl, now);
                te_planner_target_check_confirms(pl, now);
                pl->ts->next_clock_check = now + 100;
        }
        return pl->fatal ? -1 : 0;
}

void te_planner_target_drop_in_flight(te_planner_t *pl)
{
        pl->ts->n_ready = 0;
        /* their partitions are revoked (a rebuild resumes what is assigned again) */
        pl->ts->n_stalled = 0;
        pl->ts->stall_delay = 0;
        memset(pl->ts->stall_paused, 0, sizeof pl->ts->stall_paused);
        pl->ts->divert_due = 0;
        /* EMERGENCY re-plans waiting for confirmations go with their partitions */
        if (te_planner_mode_drop_waits(pl->mode) != 0)
                te_planner_fail(pl, "revoke", "out of memory");
        te_target_queue_clear_lanes(pl->tq, (void (*)(void *))rd_kafka_message_destroy);
}
