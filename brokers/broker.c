/*
 * broker: report list helpers and the mode gate in front of every adapter.
 */
#include "broker.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "te_buf.h"
#include "te_ids.h"
#include "te_log.h"

te_exec_report_t *te_reports_push(te_reports_t *r)
{
        if (te_grow((void **)&r->items, &r->cap, r->n + 1, sizeof *r->items, 16) != 0)
                return NULL;
        te_exec_report_t *e = &r->items[r->n++];
        memset(e, 0, sizeof *e);
        return e;
}

void te_reports_clear(te_reports_t *r)
{
        r->n = 0;
}

void te_reports_free(te_reports_t *r)
{
        free(r->items);
        r->items = NULL;
        r->n = r->cap = 0;
}

void te_broker_report_from_cmd(te_exec_report_t *r, const te_order_cmd_t *cmd,
                               const char *broker_name)
{
        te_strlcpy(r->order_id, cmd->order_id, sizeof r->order_id);
        te_strlcpy(r->ticker, cmd->ticker, sizeof r->ticker);
        r->side = cmd->side;
        r->ids = cmd->ids;
        r->mode = cmd->mode;
        r->event_time = cmd->event_time;
        te_strlcpy(r->broker, broker_name, sizeof r->broker);
}

te_broker_err_t te_broker_handle(te_broker_t *b, const te_order_cmd_t *cmd,
                                 te_reports_t *out)
{
        if (cmd->command != TE_CMD_CLOCK && cmd->mode != b->ops->mode) {
                te_exec_report_t *r = te_reports_push(out);
                if (!r)
                        return TE_BROKER_ERR_FATAL;
                te_broker_report_from_cmd(r, cmd, b->ops->name);
                te_id_sim_report(r->report_id, sizeof r->report_id, cmd->order_id,
                                 "modereject", 0);
                r->exec_type = TE_EXEC_REJECTED;
                r->order_status = TE_OS_REJECTED;
                r->leaves_qty = 0;
                snprintf(r->reason, sizeof r->reason,
                         "%s order refused by %s broker (%s only)",
                         te_mode_name(cmd->mode), b->ops->name,
                         te_mode_name(b->ops->mode));
                te_log_ids_t ids = {.decision_id = cmd->ids.decision_id,
                                    .order_id = cmd->order_id};
                TE_LOG(TE_LOG_ERROR, &ids, "broker.mode_refused", "%s", r->reason);
                return TE_BROKER_OK;
        }
        switch (cmd->command) {
        case TE_CMD_NEW:
                return b->ops->submit(b, cmd, out);
        case TE_CMD_CANCEL:
                return b->ops->cancel(b, cmd, out);
        case TE_CMD_REPLACE:
                return b->ops->replace(b, cmd, out);
        case TE_CMD_CLOCK:
                return b->ops->clock(b, cmd, out);
        default:
                return TE_BROKER_ERR_FATAL;
        }
}

void te_broker_destroy(te_broker_t *b)
{
        if (b)
                b->ops->destroy(b);
}
