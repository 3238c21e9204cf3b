/*
 * broker_guard: pre-trade limits and expiry of stale orders.
 */
#include "broker_guard.h"

#include <stdio.h>

#include "te_ids.h"

void te_guard_init(te_guard_t *g, const te_guard_cfg_t *cfg)
{
        g->cfg = *cfg;
        g->tokens = cfg->max_orders_per_sec;
        g->last_ms = -1;
}

static te_guard_verdict_t answer(const te_order_cmd_t *cmd, const char *broker_name,
                                 te_reports_t *out, int *oom, te_guard_verdict_t v,
                                 const char *reason)
{
        te_exec_report_t *r = te_reports_push(out);
        if (!r) {
                *oom = 1;
                return TE_GUARD_PASS;
        }
        te_broker_report_from_cmd(r, cmd, broker_name);
        int expired = v == TE_GUARD_EXPIRED;
        te_id_sim_report(r->report_id, sizeof r->report_id, cmd->order_id,
                         expired ? "expired" : "limitreject", 0);
        r->exec_type = expired ? TE_EXEC_EXPIRED : TE_EXEC_REJECTED;
        r->order_status = expired ? TE_OS_EXPIRED : TE_OS_REJECTED;
        snprintf(r->reason, sizeof r->reason, "%s", reason);
        return v;
}

te_guard_verdict_t te_guard_check(te_guard_t *g, const te_order_cmd_t *cmd,
                                  int64_t produced_ms, int64_t now_ms,
                                  const char *broker_name, te_reports_t *out, int *oom)
{
        char why[256];
        *oom = 0;
        if (cmd->command != TE_CMD_NEW && cmd->command != TE_CMD_REPLACE)
                return TE_GUARD_PASS;
        const te_guard_cfg_t *c = &g->cfg;
        if (c->max_age_ms > 0 && produced_ms > 0 &&
            now_ms - produced_ms > c->max_age_ms) {
                snprintf(why, sizeof why,
                         "expired: order was %lld ms old when the broker could take it "
                         "(order.max_age.ms %lld)",
                         (long long)(now_ms - produced_ms), (long long)c->max_age_ms);
                return answer(cmd, broker_name, out, oom, TE_GUARD_EXPIRED, why);
        }
        if (c->max_qty > 0 && cmd->quantity > c->max_qty) {
                snprintf(why, sizeof why,
                         "limit: quantity %.10g above limits.max_qty %.10g",
                         cmd->quantity, c->max_qty);
                return answer(cmd, broker_name, out, oom, TE_GUARD_REJECTED, why);
        }
        double px = cmd->has_limit_price ? cmd->limit_price
                    : cmd->has_ref_price ? cmd->ref_price
                                         : 0;
        if (c->max_notional > 0 && px > 0 && cmd->quantity * px > c->max_notional) {
                snprintf(why, sizeof why,
                         "limit: notional %.2f (%.10g x %.10g) above limits.max_notional "
                         "%.2f",
                         cmd->quantity * px, cmd->quantity, px, c->max_notional);
                return answer(cmd, broker_name, out, oom, TE_GUARD_REJECTED, why);
        }
        if (c->max_orders_per_sec > 0) {
                if (g->last_ms >= 0 && now_ms > g->last_ms) {
                        g->tokens += (double)(now_ms - g->last_ms) / 1000.0 *
                                     c->max_orders_per_sec;
                        if (g->tokens > c->max_orders_per_sec)
                                g->tokens = c->max_orders_per_sec;
                }
                if (g->last_ms < 0 || now_ms > g->last_ms)
                        g->last_ms = now_ms;
                if (g->tokens < 1.0) {
                        snprintf(why, sizeof why,
                                 "limit: more than limits.max_orders_per_sec %.10g",
                                 c->max_orders_per_sec);
                        return answer(cmd, broker_name, out, oom, TE_GUARD_REJECTED, why);
                }
                g->tokens -= 1.0;
        }
        return TE_GUARD_PASS;
}
