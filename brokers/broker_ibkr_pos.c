/*
 * broker_ibkr_pos: IB's positions compared with the runtime DB's after every
 * reconciliation (startup, reconnect, IB's 1101/1102).
 *
 * reqPositions answers one position message per account and contract, then
 * positionEnd; the adapter keeps those of its allowed accounts in stocks (the
 * snapshot) and then cancels the subscription (cancelPositions), so later updates
 * cannot race the snapshot. Live executions (not the replies to reqExecutions, which
 * IB's positions already count) move the snapshot: every one booked after
 * positionEnd, and during the position messages those of a position already
 * received.
 *
 * The DB side is the positions table summed per ticker over the portfolios whose
 * orders went to that account (te_ibkr_store_positions). The DB books fills through
 * exec.reports and the sink, so it lags: the comparison waits until the reports of the
 * reconciliation are delivered, then repeats every 500 ms while positions differ, for
 * up to `position_check_ms`. Whatever still differs then is reported, once per
 * account and ticker: a CRITICAL Alert `position_mismatch` with account, ticker, IB and
 * DB quantity, counted in te_ibkr_position_mismatches_total{account}. Nothing is ever
 * corrected automatically; a later reconciliation compares again.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "broker_ibkr_int.h"
#include "te_log.h"
#include "te_obs.h"

#define POS_EPS      1e-6
#define POS_RETRY_MS 500

static int allowed(const ib_t *b, const char *account)
{
        for (int i = 0; i < b->n_allow; i++)
                if (!strcmp(b->allow[i], account))
                        return 1;
        return 0;
}

static ibkr_pos_t *pos_get(ib_t *b, const char *account, const char *ticker, int create)
{
        for (size_t i = 0; i < b->n_pos; i++)
                if (!strcmp(b->pos[i].account, account) &&
                    !strcmp(b->pos[i].ticker, ticker))
                        return &b->pos[i];
        if (!create || strlen(account) >= TE_NAME_MAX || strlen(ticker) >= TE_TICKER_MAX)
                return NULL;
        if (ibkr_grow((void **)&b->pos, &b->cap_pos, b->n_pos + 1, sizeof *b->pos) != 0) {
                b->oom = 1;
                return NULL;
        }
        ibkr_pos_t *p = &b->pos[b->n_pos++];
        memset(p, 0, sizeof *p);
        te_strlcpy(p->account, account, sizeof p->account);
        te_strlcpy(p->ticker, ticker, sizeof p->ticker);
        return p;
}

void ibkr_pos_begin(ib_t *b)
{
        b->n_pos = 0;
        b->pos_state =
            b->cfg.position_check_ms > 0 && b->pos_db ? IBKR_POS_COLLECT : IBKR_POS_IDLE;
}

void ibkr_pos_on_position(ib_t *b, const te_tws_position_t *p)
{
        TE_LOG(TE_LOG_INFO, NULL, "ibkr.position", "%s %s %s %.10g @ %.10g", p->account,
               p->symbol, p->sec_type, p->position, p->avg_cost);
        if (b->pos_state != IBKR_POS_COLLECT || !allowed(b, p->account) ||
            strcmp(p->sec_type, "STK") != 0)
                return;
        ibkr_pos_t *e = pos_get(b, p->account, p->symbol, 1);
        if (e)
                e->ib = p->position;
}

void ibkr_pos_on_end(ib_t *b)
{
        if (te_tws_enc_cancel_positions(&b->scratch) != 0 || ibkr_queue_frame(b, 0) != 0)
                TE_LOG(TE_LOG_WARN, NULL, "ibkr.cancel_positions", "not queued");
        if (b->pos_state != IBKR_POS_COLLECT)
                return;
        int64_t now = ibkr_now_ms();
        b->pos_state = IBKR_POS_CHECK;
        b->pos_deadline = now + b->cfg.position_check_ms;
        b->pos_next_try = now;
}

void ibkr_pos_on_fill(ib_t *b, const char *account, const char *ticker, double qty)
{
        ibkr_pos_t *e = NULL;
        if (b->pos_state == IBKR_POS_CHECK)
                e = pos_get(b, account, ticker, 1);
        else if (b->pos_state == IBKR_POS_COLLECT) /* else IB's message will count it */
                e = pos_get(b, account, ticker, 0);
        if (e)
                e->ib += qty;
}

size_t ibkr_pos_mismatches(const ib_t *b)
{
        size_t n = 0;
        for (size_t i = 0; i < b->n_pos; i++)
                n += fabs(b->pos[i].ib - b->pos[i].db) > POS_EPS;
        return n;
}

typedef struct db_ctx_s {
        ib_t *b;
        const char *account;
} db_ctx_t;

static int db_row(void *ctx, const char *ticker, double qty)
{
        db_ctx_t *d = ctx;
        ibkr_pos_t *e = pos_get(d->b, d->account, ticker, 1);
        if (!e)
                return d->b->oom ? -1 : 0; /* a ticker too long to be ours */
        e->db += qty;
        return 0;
}

static void count_mismatch(const char *account)
{
        static te_metric_t *m;
        te_metrics_t *r = te_obs_registry();
        if (!m && r)
                m = te_metrics_counter(r, "te_ibkr_position_mismatches_total",
                                       "Positions whose IB quantity differs from the "
                                       "runtime DB's after a reconciliation.",
                                       "account");
        if (m)
                (void)te_metric_add(m, TE_LV(account), 1);
}

void ibkr_pos_poll(ib_t *b)
{
        if (b->pos_state != IBKR_POS_CHECK)
                return;
        int64_t now = ibkr_now_ms();
        if (now < b->pos_next_try)
                return;
        int final = now >= b->pos_deadline;
        if (!final && (b->n_pend > 0 || b->n_hx > 0)) {
                /* the reconciliation's reports first reach Kafka */
                b->pos_next_try = now + 20;
                return;
        }
        for (size_t i = 0; i < b->n_pos; i++)
                b->pos[i].db = 0;
        for (int a = 0; a < b->n_allow; a++) {
                db_ctx_t d = {b, b->allow[a]};
                if (b->pos_db(b->pos_db_ctx, b->allow[a], db_row, &d) != 0) {
                        b->pos_next_try = now + POS_RETRY_MS;
                        if (final) {
                                b->pos_state = IBKR_POS_IDLE;
                                TE_LOG(TE_LOG_ERROR, NULL, "ibkr.positions",
                                       "positions not compared: runtime DB error");
                        }
                        return;
                }
        }
        size_t bad = ibkr_pos_mismatches(b);
        if (bad && !final) {
                b->pos_next_try = now + POS_RETRY_MS < b->pos_deadline
                                      ? now + POS_RETRY_MS
                                      : b->pos_deadline;
                return;
        }
        b->pos_state = IBKR_POS_IDLE;
        b->st.position_checks++;
        for (size_t i = 0; i < b->n_pos; i++) {
                const ibkr_pos_t *e = &b->pos[i];
                if (fabs(e->ib - e->db) <= POS_EPS)
                        continue;
                b->st.position_mismatches++;
                count_mismatch(e->account);
                ibkr_alert(b, TE_SEV_CRITICAL, "position_mismatch", NULL,
                           "account %s ticker %s: IB %.10g, DB %.10g (difference %.10g); "
                           "not corrected",
                           e->account, e->ticker, e->ib, e->db, e->ib - e->db);
        }
        TE_LOG(bad ? TE_LOG_WARN : TE_LOG_INFO, NULL, "ibkr.positions",
               "compared %zu positions of %d accounts with the runtime DB: %zu differ",
               b->n_pos, b->n_allow, bad);
}

int ibkr_pos_store_db(void *ctx, const char *account, te_ibkr_pos_cb cb, void *cb_ctx)
{
        ib_t *b = ctx;
        char errstr[512];
        long shared = 0;
        if (te_ibkr_store_positions(b->store, account, cb, cb_ctx, &shared, errstr,
                                    sizeof errstr) != 0) {
                TE_LOG(TE_LOG_ERROR, NULL, "ibkr.store", "%s", errstr);
                return -1;
        }
        if (shared > 0)
                TE_LOG(TE_LOG_WARN, NULL, "ibkr.positions_shared",
                       "%ld portfolios sent orders to several accounts: their positions "
                       "are left out of the comparison",
                       shared);
        return 0;
}
