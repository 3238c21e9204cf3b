/*
 * broker_ibkr_util: what every part of the ibkr adapter uses and that uses none of
 * them: the clock, the outgoing frame queue (the pacer), alerts, the
 * account an order goes to, the names of the connection states.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "broker_ibkr_int.h"
#include "te_log.h"
#include "te_proc.h"

int64_t te_ibkr_util_now_ms(void)
{
        return te_proc_mono_ms();
}

int te_ibkr_util_queue_frame(te_ibkr_t *b, int urgent)
{
        int rc = te_tws_pacer_push(b->pacer, urgent, b->scratch.data, b->scratch.len);
        te_buf_reset(&b->scratch);
        if (rc != 0)
                TE_LOG(TE_LOG_ERROR, NULL, "ibkr.queue_full", "outgoing queue full");
        return rc;
}

void te_ibkr_util_alert(te_ibkr_t *b, te_severity_t sev, const char *code,
                        const te_order_cmd_t *c, const char *fmt, ...)
{
        char msg[TE_TEXT_MAX];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(msg, sizeof msg, fmt, ap);
        va_end(ap);
        te_log_ids_t ids = {.decision_id = c ? c->ids.decision_id : NULL,
                            .portfolio_id = c ? c->ids.portfolio_id : NULL,
                            .order_id = c ? c->order_id : NULL};
        TE_LOG(sev == TE_SEV_INFO ? TE_LOG_INFO : TE_LOG_WARN, &ids, "ibkr.alert",
               "%s: %s", code, msg);
        if (b->cfg.alert)
                b->cfg.alert(b->cfg.alert_ctx, sev, code, c ? c->ids.decision_id : "",
                             c ? c->ids.portfolio_id : "", c ? c->order_id : "", msg);
}

const char *te_ibkr_util_pick_account(te_ibkr_t *b, const te_order_cmd_t *cmd)
{
        const char *colon = strchr(cmd->route, ':');
        const char *want = colon ? colon + 1 : b->allow[0];
        for (int i = 0; i < b->n_allow; i++)
                if (!strcmp(want, b->allow[i]))
                        return b->allow[i];
        return NULL;
}

const char *te_ibkr_util_state_name(te_ibkr_state_t s)
{
        static const char *const n[] = {"DISCONNECTED", "CONNECTING",  "HANDSHAKE",
                                        "STARTING",     "RECONCILING", "READY",
                                        "DEGRADED"};
        return (unsigned)s < sizeof n / sizeof n[0] ? n[s] : "?";
}
