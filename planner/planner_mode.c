/*
 * planner_mode: exec.mode — the levels in force, the cancels a level change calls for
 * at once, the EMERGENCY re-plan of each portfolio's last target, and dead letters for
 * mode messages that cannot be applied (undecodable, or refused by te_exec_mode_check).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "planner_int.h"
#include "te_emit.h"
#include "te_log.h"

/* The state this file changes: the levels in force, the message being applied, the
 * EMERGENCY re-plans waiting for their cancels to be confirmed. */
struct te_planner_mode_s {
        te_exec_mode_levels_t *levels;
        te_exec_mode_t msg;       /* the exec.mode message being applied */
        te_map_t *emergency_wait; /* portfolio_id -> int* next leg base */
        int emergency_due;        /* one of them has nothing pending any more */
};

te_planner_mode_t *te_planner_mode_new(void)
{
        te_planner_mode_t *md = calloc(1, sizeof *md);
        if (!md)
                return NULL;
        md->levels = te_exec_mode_new();
        md->emergency_wait = te_map_new();
        if (!md->levels || !md->emergency_wait) {
                te_planner_mode_destroy(md);
                return NULL;
        }
        return md;
}

void te_planner_mode_destroy(te_planner_mode_t *md)
{
        if (!md)
                return;
        te_exec_mode_destroy(md->levels);
        te_map_destroy(md->emergency_wait, free);
        free(md);
}

te_level_t te_planner_mode_level(const te_planner_mode_t *md, const char *portfolio_id)
{
        return te_exec_mode_level(md->levels, portfolio_id);
}

void te_planner_mode_confirmed(te_planner_mode_t *md, const char *portfolio_id)
{
        if (te_map_get(md->emergency_wait, portfolio_id))
                md->emergency_due = 1;
}

int te_planner_mode_drop_waits(te_planner_mode_t *md)
{
        te_map_destroy(md->emergency_wait, free);
        md->emergency_wait = te_map_new();
        md->emergency_due = 0;
        return md->emergency_wait ? 0 : -1;
}

static te_level_t level_of(void *opaque, const char *portfolio_id)
{
        te_planner_t *pl = opaque;
        return te_exec_mode_level(pl->mode->levels, portfolio_id);
}

/* EMERGENCY for one portfolio: trade toward its last target with marketable orders
 * where nothing is working; tickers whose cancels are unconfirmed are deferred, and
 * the portfolio is planned again (legs from leg_base + 20) once they are confirmed
 * (te_planner_mode_emergency_confirmed). @returns 0 or -1 (fatal). */
static int emergency_one(te_planner_t *pl, const char *pid,
                         const te_target_portfolio_t *tp, int leg_base)
{
        char errstr[512];
        if (te_planner_hold_must(pl->hold, te_planner_partition_of(pl, pid), pid)) {
                /* no new orders for a broker that is down: its next target
                 * (held, planned when it is back) trades under EMERGENCY */
                TE_LOG(TE_LOG_WARN, NULL, "planner.emergency",
                       "%s: broker %s down: no re-plan of the last target", pid,
                       pl->conf.plan.route);
                return 0;
        }
        te_order_plan_env_t env = {
            .level = TE_LEVEL_EMERGENCY,
            .price = pl->prices ? te_planner_db_prices_get : NULL,
            .opaque = pl->prices,
            .leg_base = leg_base,
        };
        const te_order_cmd_t *cmds;
        size_t n = 0;
        te_order_plan_err_t e = te_order_plan_run(pl->ws, &pl->plan, &env, pl->book, tp,
                                                  &cmds, &n, errstr, sizeof errstr);
        if (e != TE_ORDER_PLAN_OK) {
                TE_LOG(TE_LOG_WARN, NULL, "planner.emergency",
                       "%s: cannot re-plan the last target: %s", pid, errstr);
                return 0;
        }
        size_t deferred = te_order_plan_deferred(pl->ws);
        if (n)
                TE_LOG(TE_LOG_WARN, NULL, "planner.emergency",
                       "%s: %zu commands toward the last target, %zu tickers wait for "
                       "their cancels",
                       pid, n, deferred);
        if (te_planner_send_all(pl, cmds, n) != 0)
                return -1;
        if (deferred && te_book_pf_pending(te_book_portfolio(pl->book, pid)) > 0) {
                int *next = te_map_get(pl->mode->emergency_wait, pid);
                if (!next) {
                        next = malloc(sizeof *next);
                        if (!next ||
                            te_map_put(pl->mode->emergency_wait, pid, next) != 0) {
                                free(next);
                                te_planner_fail(pl, "emergency", "out of memory");
                                return -1;
                        }
                }
                *next = leg_base + 20;
        }
        return 0;
}

/* EMERGENCY: trade toward the last target at once with marketable orders. Leg numbers
 * start after a base derived from the mode message, so the ids are new, and the same
 * message gives the same ids. */
static int emergency_replan(te_planner_t *pl, const char *scope, int64_t effective_from)
{
        size_t it = 0;
        const char *pid;
        void *v;
        while (te_map_next(pl->last, &it, &pid, &v)) {
                const te_target_portfolio_t *tp = v;
                if ((scope && strcmp(scope, pid) != 0) ||
                    te_exec_mode_level(pl->mode->levels, pid) != TE_LEVEL_EMERGENCY)
                        continue;
                int base =
                    1000 + (int)((effective_from < 0 ? -effective_from : effective_from) %
                                 10000000) *
                               100;
                if (emergency_one(pl, pid, tp, base) != 0)
                        return -1;
        }
        return 0;
}

int te_planner_mode_emergency_confirmed(te_planner_t *pl)
{
        size_t it = 0;
        const char *pid;
        void *v;
        if (!pl->mode->emergency_due)
                return 0;
        pl->mode->emergency_due = 0;
        for (;;) {
                /* one at a time: emergency_one may put the portfolio back */
                const char *ready = NULL;
                int base = 0;
                it = 0;
                while (te_map_next(pl->mode->emergency_wait, &it, &pid, &v))
                        if (te_book_pf_pending(te_book_portfolio(pl->book, pid)) == 0) {
                                ready = pid;
                                base = *(int *)v;
                                break;
                        }
                if (!ready)
                        return 0;
                char id[TE_ID_MAX];
                te_strlcpy(id, ready, sizeof id);
                free(te_map_del(pl->mode->emergency_wait, id));
                const te_target_portfolio_t *tp = te_map_get(pl->last, id);
                if (tp &&
                    te_exec_mode_level(pl->mode->levels, id) == TE_LEVEL_EMERGENCY &&
                    emergency_one(pl, id, tp, base) != 0)
                        return -1;
        }
}

/* Bring open orders in line with the levels now in force (scope NULL: all). */
int te_planner_mode_act(te_planner_t *pl, const char *scope, int64_t event_time)
{
        const te_order_cmd_t *cmds;
        size_t n;
        te_order_plan_err_t e =
            te_order_plan_mode_cancels(pl->ws, pl->book, scope, level_of, pl, event_time,
                                       pl->conf.plan.route, &cmds, &n);
        if (e != TE_ORDER_PLAN_OK) {
                te_planner_fail(pl, "mode cancels", te_order_plan_err_code(e));
                return -1;
        }
        if (n)
                TE_LOG(TE_LOG_WARN, NULL, "planner.mode_cancels",
                       "cancelling %zu open orders (scope %s)", n, scope ? scope : "*");
        return te_planner_send_all(pl, cmds, n);
}

/* A mode message that cannot be applied: on exec.deadletter with the reason (te.reason,
 * counted in te_deadletters_total by te_emit), an Alert, and the levels stay as they
 * were. exec.mode is read whole by every instance on every start, so each instance
 * dead-letters a bad message it reads once per life; the te.source.* headers identify
 * the copies. */
static void mode_dead_letter(te_planner_t *pl, const rd_kafka_message_t *m,
                             const char *code, const char *why)
{
        pl->st.dead_lettered++;
        pl->st.bad_modes++;
        TE_LOG(TE_LOG_WARN, NULL, "planner.bad_mode", "%s[%d]@%lld: %s: %s",
               rd_kafka_topic_name(m->rkt), (int)m->partition, (long long)m->offset, code,
               why);
        te_emit_reject(
            &pl->emit, m, code, why,
            &(te_reject_ctx_t){.what = "exec.mode message", .note = "levels unchanged"});
}

static void on_mode(te_planner_t *pl, rd_kafka_message_t *m, int act)
{
        char errstr[256];
        if (m->err)
                return;
        te_codec_err_t cerr = te_codec_decode_exec_mode(
            pl->codec, m->payload, m->len, &pl->mode->msg, errstr, sizeof errstr);
        if (cerr != TE_CODEC_OK) {
                mode_dead_letter(pl, m, te_codec_err_name(cerr), errstr);
                return;
        }
        const char *code = te_exec_mode_check(&pl->mode->msg, errstr, sizeof errstr);
        if (code) {
                mode_dead_letter(pl, m, code, errstr);
                return;
        }
        if (te_exec_mode_apply(pl->mode->levels, &pl->mode->msg) < 0) {
                te_planner_fail(pl, "mode", "out of memory");
                return;
        }
        pl->st.mode_changes++;
        TE_LOG(TE_LOG_WARN, NULL, "planner.mode", "scope=%s level=%s reason=%s",
               pl->mode->msg.scope, te_level_name(pl->mode->msg.level),
               pl->mode->msg.reason);
        if (act) {
                const char *scope =
                    strcmp(pl->mode->msg.scope, "*") ? pl->mode->msg.scope : NULL;
                if (te_planner_mode_act(pl, scope, pl->mode->msg.effective_from) == 0 &&
                    pl->mode->msg.level == TE_LEVEL_EMERGENCY)
                        emergency_replan(pl, scope, pl->mode->msg.effective_from);
        }
}

void te_planner_mode_on_startup(void *pl, rd_kafka_message_t *m)
{
        on_mode(pl, m, 0);
}

void te_planner_mode_drain(te_planner_t *pl)
{
        rd_kafka_message_t *m;
        while (pl->modes && (m = rd_kafka_consumer_poll(pl->modes, 0)) != NULL) {
                on_mode(pl, m, 1);
                rd_kafka_message_destroy(m);
        }
}
