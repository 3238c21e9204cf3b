/*
 * broker_ibkr_reports: the ibkr adapter's outbound report queue. Reports wait here in
 * the order they were made; a fill waits for its commissionReport until its deadline
 * (then it leaves with commission 0). What left with an execution or a final status is
 * kept until the worker says the reports are delivered, and only then written to the
 * runtime DB (ibkr_execs, the order's final status), so a crash before delivery
 * replays them from IB's side. Owns its arrays; knows the adapter only through the
 * callback for a missing commission.
 */
#include <stdlib.h>
#include <string.h>

#include "broker_ibkr_int.h"
#include "te_log.h"

struct te_ibkr_reports_s {
        te_ibkr_pend_t *pend; /* waiting to leave, in order */
        size_t n_pend, cap_pend;
        te_ibkr_exec_row_t *hx; /* executions handed out, not yet delivered */
        size_t n_hx, cap_hx;
        te_ibkr_status_upd_t *hs; /* final statuses handed out, not yet delivered */
        size_t n_hs, cap_hs;
};

te_ibkr_reports_t *te_ibkr_reports_new(void)
{
        return calloc(1, sizeof(te_ibkr_reports_t));
}

void te_ibkr_reports_destroy(te_ibkr_reports_t *rq)
{
        if (!rq)
                return;
        free(rq->pend);
        free(rq->hx);
        free(rq->hs);
        free(rq);
}

te_ibkr_pend_t *te_ibkr_reports_push(te_ibkr_reports_t *rq)
{
        if (te_grow((void **)&rq->pend, &rq->cap_pend, rq->n_pend + 1, sizeof *rq->pend,
                    16) != 0)
                return NULL;
        te_ibkr_pend_t *p = &rq->pend[rq->n_pend++];
        memset(p, 0, sizeof *p);
        return p;
}

te_broker_err_t
te_ibkr_reports_move_ready(te_ibkr_reports_t *rq, int64_t now, te_reports_t *out,
                           void (*missing)(void *ctx, const te_ibkr_pend_t *p), void *ctx)
{
        size_t k = 0;
        for (; k < rq->n_pend; k++) {
                te_ibkr_pend_t *p = &rq->pend[k];
                if (p->wait_exec[0]) {
                        if (now < p->deadline)
                                break;
                        missing(ctx, p);
                        p->wait_exec[0] = '\0';
                }
                te_exec_report_t *r = te_reports_push(out);
                if (!r)
                        return TE_BROKER_ERR_FATAL;
                *r = p->r;
                if (p->has_exec) {
                        p->x.commission = p->r.commission;
                        if (te_grow((void **)&rq->hx, &rq->cap_hx, rq->n_hx + 1,
                                    sizeof *rq->hx, 16) != 0)
                                return TE_BROKER_ERR_FATAL;
                        rq->hx[rq->n_hx++] = p->x;
                }
                if (p->terminal) {
                        if (te_grow((void **)&rq->hs, &rq->cap_hs, rq->n_hs + 1,
                                    sizeof *rq->hs, 16) != 0)
                                return TE_BROKER_ERR_FATAL;
                        te_ibkr_status_upd_t *u = &rq->hs[rq->n_hs++];
                        te_strlcpy(u->order_id, p->r.order_id, sizeof u->order_id);
                        te_strlcpy(u->status, te_order_status_name(p->r.order_status),
                                   sizeof u->status);
                }
        }
        if (k) {
                memmove(rq->pend, rq->pend + k, (rq->n_pend - k) * sizeof *rq->pend);
                rq->n_pend -= k;
        }
        return TE_BROKER_OK;
}

te_ibkr_pend_t *te_ibkr_reports_waiting_exec(te_ibkr_reports_t *rq, const char *exec_id)
{
        for (size_t i = 0; i < rq->n_pend; i++) {
                te_ibkr_pend_t *p = &rq->pend[i];
                if (p->has_exec && !strcmp(p->x.exec_id, exec_id))
                        return p;
        }
        return NULL;
}

te_ibkr_exec_row_t *te_ibkr_reports_handed_exec(te_ibkr_reports_t *rq,
                                                const char *exec_id)
{
        for (size_t i = 0; i < rq->n_hx; i++)
                if (!strcmp(rq->hx[i].exec_id, exec_id))
                        return &rq->hx[i];
        return NULL;
}

int te_ibkr_reports_busy(const te_ibkr_reports_t *rq)
{
        return rq->n_pend > 0 || rq->n_hx > 0;
}

void te_ibkr_reports_delivered(te_ibkr_reports_t *rq, te_ibkr_store_t *store)
{
        char errstr[512];
        if (store) {
                if (te_ibkr_store_add_execs(store, rq->hx, rq->n_hx, errstr,
                                            sizeof errstr) != 0) {
                        TE_LOG(TE_LOG_ERROR, NULL, "ibkr.store", "%s (will retry)",
                               errstr);
                        return;
                }
                for (size_t i = 0; i < rq->n_hs; i++)
                        if (te_ibkr_store_set_status(store, rq->hs[i].order_id,
                                                     rq->hs[i].status, 1, errstr,
                                                     sizeof errstr) != 0) {
                                TE_LOG(TE_LOG_ERROR, NULL, "ibkr.store", "%s", errstr);
                                memmove(rq->hs, rq->hs + i,
                                        (rq->n_hs - i) * sizeof *rq->hs);
                                rq->n_hs -= i;
                                rq->n_hx = 0;
                                return;
                        }
        }
        rq->n_hx = 0;
        rq->n_hs = 0;
}
