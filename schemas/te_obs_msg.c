/*
 * te_obs_msg: order and report metrics from decoded messages (see te_obs_msg.h).
 */
#include "te_obs_msg.h"

#include <string.h>

#include "te_order_state.h"

void te_obs_msg_declare(void)
{
        for (int s = 0; s < TE_OS__CNT; s++)
                if (te_os_is_terminal((te_order_status_t)s))
                        te_obs_order_final_declare(
                            te_order_status_name((te_order_status_t)s));
}

void te_obs_report_sent(const te_exec_report_t *r, const te_order_cmd_t *cmd,
                        int64_t cmd_ts_ms)
{
        if (r->exec_type != TE_EXEC_CLOCK_ACK && r->exec_type != TE_EXEC_BROKER_STATE &&
            te_os_is_terminal(r->order_status))
                te_obs_order_final(te_order_status_name(r->order_status));
        if (!cmd || cmd->command != TE_CMD_NEW || strcmp(cmd->order_id, r->order_id) != 0)
                return;
        int fill = r->exec_type == TE_EXEC_FILL || r->exec_type == TE_EXEC_PARTIAL_FILL;
        double since = te_obs_since_ms(cmd_ts_ms);
        if (r->exec_type == TE_EXEC_ACK)
                te_obs_latency(TE_OBS_ORDER_TO_ACK, since);
        /* the first fill is the one whose cumulative quantity is its own quantity */
        if (fill && r->last_qty > 0 && r->cum_qty <= r->last_qty * (1 + 1e-12))
                te_obs_latency(TE_OBS_ORDER_TO_FIRST_FILL, since);
        if (fill && cmd->has_ref_price && cmd->ref_price > 0 && r->last_price > 0) {
                double sign = cmd->side == TE_SIDE_BUY ? 1 : -1;
                te_obs_slippage_bps(sign * (r->last_price - cmd->ref_price) /
                                    cmd->ref_price * 1e4);
        }
}
