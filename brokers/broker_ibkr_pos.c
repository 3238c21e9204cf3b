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
 *
 * The comparison keeps its own state (te_ibkr_pos_check_t: the snapshot, the phase, the
 * DB callback) and needs nothing else of the adapter, so it can be driven alone; the
 * last three functions wire it to the adapter (cancelPositions, the reports still to
 * deliver, the counters and the Alert).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "broker_ibkr_int.h"
#include "te_log.h"
#include "te_obs.h"

#define POS_EPS      1e-6
#define POS_RETRY_MS 500

enum {
        POS_IDLE = 0, /* no check to do */
        POS_COLLECT,  /* reconciling: position messages fill the snapshot */
        POS_CHECK,    /* snapshot complete: compare until equal or deadline */
};

struct te_ibkr_pos_check_s {
        char accounts[TE_IBKR_MAX_ACCOUNTS][TE_NAME_MAX]; /* the allowed accounts */
        int n_accounts;
        int64_t check_ms;   /* ibkr.position_check_ms; 0: no check */
        te_ibkr_pos_t *pos; /* the snapshot */
        size_t n_pos, cap_pos;
        int state; /* POS_* */
        int64_t deadline, next_try;
        te_ibkr_pos_db_fn db; /* NULL: no check */
        void *db_ctx;
        int oom; /* the snapshot could not grow */
};

te_ibkr_pos_check_t *te_ibkr_pos_new(int64_t check_ms)
{
        te_ibkr_pos_check_t *pc = calloc(1, sizeof *pc);
        if (pc)
                pc->check_ms = check_ms;
        return pc;
}

void te_ibkr_pos_destroy(te_ibkr_pos_check_t *pc)
{
        if (!pc)
                return;
        free(pc->pos);
        free(pc);
}

int te_ibkr_pos_add_account(te_ibkr_pos_check_t *pc, const char *account)
{
        if (pc->n_accounts >= TE_IBKR_MAX_ACCOUNTS || strlen(account) >= TE_NAME_MAX)
                return -1;
        te_strlcpy(pc->accounts[pc->n_accounts++], account, TE_NAME_MAX);
        return 0;
}

void te_ibkr_pos_set_db(te_ibkr_pos_check_t *pc, te_ibkr_pos_db_fn fn, void *db_ctx)
{
        pc->db = fn;
        pc->db_ctx = db_ctx;
}

static int allowed(const te_ibkr_pos_check_t *pc, const char *account)
{
        for (int i = 0; i < pc->n_accounts; i++)
                if (!strcmp(pc->accounts[i], account))
                        return 1;
        return 0;
}

static te_ibkr_pos_t *pos_get(te_ibkr_pos_check_t *pc, const char *account,
                              const char *ticker, int create)
{
        for (size_t i = 0; i < pc->n_pos; i++)
                if (!strcmp(pc->pos[i].account, account) &&
                    !strcmp(pc->pos[i].ticker, ticker))
                        return &pc->pos[i];
        if (!create || strlen(account) >= TE_NAME_MAX || strlen(ticker) >= TE_TICKER_MAX)
                return NULL;
        if (te_grow((void **)&pc->pos, &pc->cap_pos, pc->n_pos + 1, sizeof *pc->pos,
                    16) != 0) {
                pc->oom = 1;
                return NULL;
        }
        te_ibkr_pos_t *p = &pc->pos[pc->n_pos++];
        memset(p, 0, sizeof *p);
        te_strlcpy(p->account, account, sizeof p->account);
        te_strlcpy(p->ticker, ticker, sizeof p->ticker);
        return p;
}

void te_ibkr_pos_begin(te_ibkr_pos_check_t *pc)
{
        pc->n_pos = 0;
        pc->state = pc->check_ms > 0 && pc->db ? POS_COLLECT : POS_IDLE;
}

int te_ibkr_pos_on_position(te_ibkr_pos_check_t *pc, const te_tws_position_t *p)
{
        TE_LOG(TE_LOG_INFO, NULL, "ibkr.position", "%s %s %s %.10g @ %.10g", p->account,
               p->symbol, p->sec_type, p->position, p->avg_cost);
        if (pc->state != POS_COLLECT || !allowed(pc, p->account) ||
            strcmp(p->sec_type, "STK") != 0)
                return 0;
        te_ibkr_pos_t *e = pos_get(pc, p->account, p->symbol, 1);
        if (e)
                e->ib = p->position;
        return pc->oom ? -1 : 0;
}

void te_ibkr_pos_on_end(te_ibkr_pos_check_t *pc, int64_t now)
{
        if (pc->state != POS_COLLECT)
                return;
        pc->state = POS_CHECK;
        pc->deadline = now + pc->check_ms;
        pc->next_try = now;
}

int te_ibkr_pos_on_fill(te_ibkr_pos_check_t *pc, const char *account, const char *ticker,
                        double qty)
{
        te_ibkr_pos_t *e = NULL;
        if (pc->state == POS_CHECK)
                e = pos_get(pc, account, ticker, 1);
        else if (pc->state == POS_COLLECT) /* else IB's message will count it */
                e = pos_get(pc, account, ticker, 0);
        if (e)
                e->ib += qty;
        return pc->oom ? -1 : 0;
}

size_t te_ibkr_pos_mismatches(const te_ibkr_pos_check_t *pc)
{
        size_t n = 0;
        for (size_t i = 0; i < pc->n_pos; i++)
                n += fabs(pc->pos[i].ib - pc->pos[i].db) > POS_EPS;
        return n;
}

typedef struct db_ctx_s {
        te_ibkr_pos_check_t *pc;
        const char *account;
} db_ctx_t;

static int db_row(void *ctx, const char *ticker, double qty)
{
        db_ctx_t *d = ctx;
        te_ibkr_pos_t *e = pos_get(d->pc, d->account, ticker, 1);
        if (!e)
                return d->pc->oom ? -1 : 0; /* a ticker too long to be ours */
        e->db += qty;
        return 0;
}

int te_ibkr_pos_compare(te_ibkr_pos_check_t *pc, int64_t now, int busy,
                        void (*bad_fn)(void *ctx, const te_ibkr_pos_t *e), void *ctx)
{
        if (pc->state != POS_CHECK || now < pc->next_try)
                return TE_IBKR_POS_WAIT;
        int final = now >= pc->deadline;
        if (!final && busy) {
                /* the reconciliation's reports first reach Kafka */
                pc->next_try = now + 20;
                return TE_IBKR_POS_WAIT;
        }
        for (size_t i = 0; i < pc->n_pos; i++)
                pc->pos[i].db = 0;
        for (int a = 0; a < pc->n_accounts; a++) {
                db_ctx_t d = {pc, pc->accounts[a]};
                if (pc->db(pc->db_ctx, pc->accounts[a], db_row, &d) != 0) {
                        pc->next_try = now + POS_RETRY_MS;
                        if (final) {
                                pc->state = POS_IDLE;
                                TE_LOG(TE_LOG_ERROR, NULL, "ibkr.positions",
                                       "positions not compared: runtime DB error");
                        }
                        return pc->oom ? TE_IBKR_POS_OOM : TE_IBKR_POS_WAIT;
                }
        }
        size_t bad = te_ibkr_pos_mismatches(pc);
        if (bad && !final) {
                pc->next_try =
                    now + POS_RETRY_MS < pc->deadline ? now + POS_RETRY_MS : pc->deadline;
                return TE_IBKR_POS_WAIT;
        }
        pc->state = POS_IDLE;
        for (size_t i = 0; i < pc->n_pos; i++)
                if (fabs(pc->pos[i].ib - pc->pos[i].db) > POS_EPS)
                        bad_fn(ctx, &pc->pos[i]);
        TE_LOG(bad ? TE_LOG_WARN : TE_LOG_INFO, NULL, "ibkr.positions",
               "compared %zu positions of %d accounts with the runtime DB: %zu differ",
               pc->n_pos, pc->n_accounts, bad);
        return TE_IBKR_POS_DONE;
}

/* ---- wiring to the adapter ----------------------------------------------------- */

void te_ibkr_pos_end(te_ibkr_t *b)
{
        if (te_tws_enc_cancel_positions(&b->scratch) != 0 ||
            te_ibkr_util_queue_frame(b, 0) != 0)
                TE_LOG(TE_LOG_WARN, NULL, "ibkr.cancel_positions", "not queued");
        te_ibkr_pos_on_end(b->pos, te_ibkr_util_now_ms());
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

static void on_mismatch(void *ctx, const te_ibkr_pos_t *e)
{
        te_ibkr_t *b = ctx;
        b->st.position_mismatches++;
        count_mismatch(e->account);
        te_ibkr_util_alert(b, TE_SEV_CRITICAL, "position_mismatch", NULL,
                           "account %s ticker %s: IB %.10g, DB %.10g (difference %.10g); "
                           "not corrected",
                           e->account, e->ticker, e->ib, e->db, e->ib - e->db);
}

void te_ibkr_pos_poll(te_ibkr_t *b)
{
        int r = te_ibkr_pos_compare(b->pos, te_ibkr_util_now_ms(),
                                    te_ibkr_reports_busy(b->rq), on_mismatch, b);
        if (r == TE_IBKR_POS_DONE)
                b->st.position_checks++;
        else if (r == TE_IBKR_POS_OOM)
                b->oom = 1;
}

int te_ibkr_pos_store_db(void *ctx, const char *account, te_ibkr_pos_cb cb, void *cb_ctx)
{
        te_ibkr_t *b = ctx;
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
