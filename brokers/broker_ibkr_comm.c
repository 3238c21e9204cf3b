/*
 * broker_ibkr_comm: commissions in the ibkr adapter.
 *
 * IB reports a fill's commission in a separate commissionReport after the
 * execDetails, usually within milliseconds, sometimes later. A trade is booked once,
 * with the commission its report carries (trades are immutable and inserted
 * idempotently), so the fill report waits in the adapter's queue for its
 * commissionReport, up to `commission_wait_ms`, and reports behind it wait too
 * (reports leave in the order their causes arrived).
 *
 * Missing: when the wait is over the fill leaves with commission 0, a WARNING Alert
 * `commission_missing` names the execution and the order, and
 * te_ibkr_commission_missing_total counts it.
 *
 * Late: a commissionReport for a fill that already left with another commission
 * (0 after a missing one) is not applied to the booked trade. IB's amount is recorded
 * in ibkr_execs.commission (the delivered executions), a WARNING Alert
 * `commission_late` gives the execution, order, amount and what was booked, and
 * te_ibkr_commission_late_total counts it: someone books the difference by hand.
 * The commissionReports IB sends again with reqExecutions after a reconnect or a
 * restart carry the amount already recorded and change nothing.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "broker_ibkr_int.h"
#include "te_log.h"
#include "te_obs.h"

te_ibkr_exec_t *te_ibkr_comm_exec_add(te_ibkr_t *b, const char *exec_id,
                                      const char *order_id, int has_commission,
                                      double commission)
{
        te_ibkr_exec_t *x = calloc(1, sizeof *x);
        if (!x || te_map_put(b->execs, exec_id, x) != 0) {
                free(x);
                b->oom = 1;
                return NULL;
        }
        te_strlcpy(x->order_id, order_id, sizeof x->order_id);
        x->has_commission = has_commission;
        x->commission = commission;
        return x;
}

static void count(const char *which)
{
        static te_metric_t *missing, *late;
        te_metrics_t *r = te_obs_registry();
        if (!r)
                return;
        if (!missing)
                missing = te_metrics_counter(
                    r, "te_ibkr_commission_missing_total",
                    "Fills published with commission 0: no commissionReport in time.",
                    NULL);
        if (!late)
                late = te_metrics_counter(r, "te_ibkr_commission_late_total",
                                          "commissionReports that arrived after their "
                                          "fill was published with another commission.",
                                          NULL);
        te_metric_t *m = !strcmp(which, "missing") ? missing : late;
        if (m)
                (void)te_metric_add(m, NULL, 1);
}

static const te_order_cmd_t *order_of(te_ibkr_t *b, const char *order_id)
{
        const te_ibkr_order_t *o = te_map_get(b->by_ref, order_id);
        return o ? &o->cmd : NULL;
}

void te_ibkr_comm_missing(te_ibkr_t *b, const te_ibkr_pend_t *p)
{
        b->st.commission_missing++;
        count("missing");
        te_ibkr_util_alert(
            b, TE_SEV_WARNING, "commission_missing", order_of(b, p->r.order_id),
            "no commissionReport for execution %s of order %s within %lld ms: its "
            "fill is published with commission 0",
            p->wait_exec, p->r.order_id, (long long)b->cfg.commission_wait_ms);
}

/* Record IB's amount for an execution whose fill already left: in the executions
 * handed out and not yet delivered, else in ibkr_execs. */
static void record(te_ibkr_t *b, const char *exec_id, double commission)
{
        char errstr[512];
        te_ibkr_exec_row_t *h = te_ibkr_reports_handed_exec(b->rq, exec_id);
        if (h) {
                h->commission = commission;
                return;
        }
        if (b->store && te_ibkr_store_set_exec_commission(b->store, exec_id, commission,
                                                          errstr, sizeof errstr) != 0)
                TE_LOG(TE_LOG_ERROR, NULL, "ibkr.store", "%s", errstr);
}

void te_ibkr_comm_on_report(te_ibkr_t *b, const te_tws_commission_t *c)
{
        te_ibkr_exec_t *x = te_map_get(b->execs, c->exec_id);
        te_ibkr_pend_t *p = te_ibkr_reports_waiting_exec(b->rq, c->exec_id);
        if (p) {
                p->r.commission = c->commission;
                p->wait_exec[0] = '\0';
                if (x) {
                        x->commission = c->commission;
                        x->has_commission = 1;
                }
                return;
        }
        if (!x) {
                TE_LOG(TE_LOG_DEBUG, NULL, "ibkr.commission_unmatched",
                       "commission for exec %s, an execution not seen", c->exec_id);
                return;
        }
        if (x->has_commission && fabs(x->commission - c->commission) <= 1e-9) {
                TE_LOG(TE_LOG_DEBUG, NULL, "ibkr.commission_known",
                       "commission for exec %s as booked", c->exec_id);
                return;
        }
        double booked = x->has_commission ? x->commission : 0;
        x->commission = c->commission;
        x->has_commission = 1;
        record(b, c->exec_id, c->commission);
        b->st.commission_late++;
        count("late");
        te_ibkr_util_alert(
            b, TE_SEV_WARNING, "commission_late", order_of(b, x->order_id),
            "commission %.10g %s for execution %s of order %s arrived after its "
            "fill was published with commission %.10g: the trade keeps %.10g, "
            "ibkr_execs has IB's amount",
            c->commission, c->currency, c->exec_id, x->order_id, booked, booked);
}
