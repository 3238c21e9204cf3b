/*
 * book: portfolios -> (ticker -> position entry), orders by order_id; each entry
 * keeps a list of its live orders so the planner can cancel what no longer fits, and
 * each portfolio a list of its finished (terminal) orders, dropped when a later target
 * is planned; the ids of dropped orders stay in a bounded FIFO (the tombstones).
 */
#include "book.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "te_buf.h"
#include "te_log.h"
#include "te_map.h"
#include "te_order_state.h"

typedef struct ord_s ord_t;

struct te_book_pos_s {
        char ticker[TE_TICKER_MAX];
        double position;
        double open_qty;            /* signed remaining of live orders */
        double pend_buy, pend_sell; /* leaves that could still fill while a CANCEL or
                                       REPLACE is unconfirmed (the larger of old and new
                                       leaves for a REPLACE), by side, >= 0 */
        size_t n_pending;           /* orders with a CANCEL or REPLACE unconfirmed */
        ord_t *live;                /* live orders of this entry */
        te_book_pf_t *pf;
};

struct ord_s {
        char order_id[TE_ID_MAX];
        te_book_pos_t *pos; /* the (portfolio, ticker) it belongs to */
        ord_t *next_live;
        ord_t *next_done; /* in pf->done once terminal */
        te_side_t side;
        double qty;
        double cum_qty;
        double avg_price;
        te_order_status_t status;
        int cancel_sent;  /* a CANCEL or REPLACE is unconfirmed */
        int replace_sent; /* ... and it is a REPLACE to a total of replace_qty */
        double replace_qty;
        double pend_counted; /* leaves counted in pos->pend_buy/sell for it */
        int64_t sent_ms;     /* when that command was sent (0: not stamped yet) */
        int overdue;         /* its confirmation was reported overdue */
        int is_pending;      /* counted in the pending counts */
        int replace_refused; /* a REPLACE of it was refused */
        int is_live;
        int is_done;
};

struct te_book_pf_s {
        char portfolio_id[TE_ID_MAX];
        te_book_t *book;
        te_map_t *tickers; /* ticker -> te_book_pos_t */
        double cash;
        te_mode_t mode;
        int has_as_of;
        int as_of_learned;
        int64_t last_as_of;
        ord_t *done;      /* terminal orders not dropped yet */
        size_t n_active;  /* entries held or working (te_book_pos_active), kept in step */
        size_t n_pending; /* orders with a CANCEL or REPLACE unconfirmed */
};

/* Ids of dropped orders, oldest first: a ring of at most `cap` copies and a map for
 * lookups. */
typedef struct tombs_s {
        char **ring;
        size_t cap, size, head, n; /* head: oldest; n: how many */
        te_map_t *ids;             /* order_id -> (void *)1 */
} tombs_t;

struct te_book_s {
        te_map_t *portfolios; /* portfolio_id -> te_book_pf_t */
        te_map_t *orders;     /* order_id -> ord_t */
        tombs_t tombs;
        uint64_t illegal, dropped;
        size_t n_pending; /* orders with a CANCEL or REPLACE unconfirmed */
};

static void pf_free(void *v)
{
        te_book_pf_t *pf = v;
        if (!pf)
                return;
        te_map_destroy(pf->tickers, free);
        free(pf);
}

te_book_t *te_book_new(void)
{
        te_book_t *b = calloc(1, sizeof *b);
        if (!b)
                return NULL;
        /* keyed by the id inside each value: one allocation per lookup */
        b->portfolios = te_map_new_borrowed();
        b->orders = te_map_new_borrowed();
        b->tombs.ids = te_map_new();
        b->tombs.cap = TE_BOOK_TOMBSTONES_DEFAULT;
        if (!b->portfolios || !b->orders || !b->tombs.ids) {
                te_book_destroy(b);
                return NULL;
        }
        return b;
}

void te_book_destroy(te_book_t *b)
{
        if (!b)
                return;
        te_map_destroy(b->portfolios, pf_free);
        te_map_destroy(b->orders, free);
        for (size_t i = 0; i < b->tombs.n; i++)
                free(b->tombs.ring[(b->tombs.head + i) % b->tombs.size]);
        free(b->tombs.ring);
        te_map_destroy(b->tombs.ids, NULL);
        free(b);
}

/* Forget the oldest tombstone. */
static void tomb_evict(tombs_t *t)
{
        char *id = t->ring[t->head];
        te_map_del(t->ids, id);
        free(id);
        t->head = (t->head + 1) % t->size;
        t->n--;
}

/* Remember a dropped order's id (evicting the oldest at capacity). The ring grows by
 * doubling up to cap, so a short run does not pay for the whole capacity.
 * @returns 0, or -1 on OOM (the id is then simply not remembered). */
static int tomb_add(tombs_t *t, const char *order_id)
{
        if (t->cap == 0)
                return 0;
        if (t->n == t->size && t->size < t->cap) {
                size_t ns = t->size ? t->size * 2 : 64;
                if (ns > t->cap)
                        ns = t->cap;
                char **nr = malloc(ns * sizeof *nr);
                if (!nr)
                        return -1;
                for (size_t i = 0; i < t->n; i++)
                        nr[i] = t->ring[(t->head + i) % t->size];
                free(t->ring);
                t->ring = nr;
                t->size = ns;
                t->head = 0;
        }
        if (t->n == t->size)
                tomb_evict(t);
        char *id = strdup(order_id);
        if (!id)
                return -1;
        if (te_map_put(t->ids, id, (void *)1) != 0) {
                free(id);
                return -1;
        }
        t->ring[(t->head + t->n) % t->size] = id;
        t->n++;
        return 0;
}

int te_book_set_tombstones(te_book_t *b, size_t cap)
{
        tombs_t *t = &b->tombs;
        while (t->n > cap)
                tomb_evict(t);
        if (t->size > cap) { /* shrink the ring to the new capacity */
                char **nr = cap ? malloc(cap * sizeof *nr) : NULL;
                if (cap && !nr)
                        return -1;
                for (size_t i = 0; i < t->n; i++)
                        nr[i] = t->ring[(t->head + i) % t->size];
                free(t->ring);
                t->ring = nr;
                t->size = cap;
                t->head = 0;
        }
        t->cap = cap;
        return 0;
}

/* Drop the finished orders of a portfolio: out of the order map, into the tombstones. */
static void pf_drop_done(te_book_t *b, te_book_pf_t *pf)
{
        ord_t *o = pf->done;
        while (o) {
                ord_t *next = o->next_done;
                te_map_del(b->orders, o->order_id);
                (void)tomb_add(&b->tombs, o->order_id); /* OOM: forgotten, not fatal */
                free(o);
                b->dropped++;
                o = next;
        }
        pf->done = NULL;
}

static te_book_pf_t *pf_get_or_add(te_book_t *b, const char *portfolio_id)
{
        te_book_pf_t *pf = te_map_get(b->portfolios, portfolio_id);
        if (pf)
                return pf;
        if (strlen(portfolio_id) >= sizeof pf->portfolio_id)
                return NULL; /* the key lives in the entry: never truncate it */
        pf = calloc(1, sizeof *pf);
        if (!pf)
                return NULL;
        te_strlcpy(pf->portfolio_id, portfolio_id, sizeof pf->portfolio_id);
        pf->book = b;
        pf->tickers = te_map_new_borrowed();
        if (!pf->tickers || te_map_put(b->portfolios, pf->portfolio_id, pf) != 0) {
                pf_free(pf);
                return NULL;
        }
        return pf;
}

static te_book_pos_t *pos_get_or_add(te_book_t *b, const char *portfolio_id,
                                     const char *ticker)
{
        te_book_pf_t *pf = pf_get_or_add(b, portfolio_id);
        if (!pf)
                return NULL;
        te_book_pos_t *p = te_map_get(pf->tickers, ticker);
        if (p)
                return p;
        if (strlen(ticker) >= sizeof p->ticker)
                return NULL;
        p = calloc(1, sizeof *p);
        if (!p)
                return NULL;
        te_strlcpy(p->ticker, ticker, sizeof p->ticker);
        p->pf = pf;
        if (te_map_put(pf->tickers, p->ticker, p) != 0) {
                free(p);
                return NULL;
        }
        return p;
}

int te_book_pos_active(const te_book_pos_t *p)
{
        return p && (p->position != 0.0 || p->live != NULL || p->n_pending > 0);
}

/* After a change to p that began when te_book_pos_active(p) was `was`. */
static void pos_account(te_book_pos_t *p, int was)
{
        int now = te_book_pos_active(p);
        if (now && !was)
                p->pf->n_active++;
        else if (!now && was)
                p->pf->n_active--;
}

static double side_sign(te_side_t s)
{
        return s == TE_SIDE_BUY ? 1.0 : -1.0;
}

/* Signed quantity the order contributes to its entry's open quantity. */
static double ord_open(const ord_t *o)
{
        if (!o->is_live)
                return 0.0;
        return side_sign(o->side) * fmax(0.0, o->qty - o->cum_qty);
}

/* Recompute liveness after a change, keeping the live list and open_qty in step.
 * `old_open` is ord_open(o) before the change. */
/* Leaves an unconfirmed CANCEL or REPLACE leaves in doubt: all of them for a CANCEL, the
 * larger of the old and the new for a REPLACE; 0 when nothing is unconfirmed. */
static double ord_pending(const ord_t *o)
{
        if (!o->cancel_sent || te_os_is_terminal(o->status))
                return 0.0;
        double leaves = fmax(0.0, o->qty - o->cum_qty);
        if (o->replace_sent)
                leaves = fmax(leaves, fmax(0.0, o->replace_qty - o->cum_qty));
        return leaves;
}

/* Keep the pending counts of o's entry, portfolio and book in step with o. */
static void ord_pending_account(ord_t *o)
{
        te_book_pos_t *p = o->pos;
        te_book_t *b = p->pf->book;
        int was = o->is_pending;
        int now = o->cancel_sent && !te_os_is_terminal(o->status);
        double q = ord_pending(o);
        double *side = o->side == TE_SIDE_BUY ? &p->pend_buy : &p->pend_sell;
        if (was)
                *side -= o->pend_counted;
        if (now)
                *side += q;
        o->pend_counted = now ? q : 0.0;
        if (now && !was) {
                p->n_pending++;
                p->pf->n_pending++;
                b->n_pending++;
        } else if (!now && was) {
                p->n_pending--;
                p->pf->n_pending--;
                b->n_pending--;
        }
        o->is_pending = now;
        if (p->n_pending == 0)
                p->pend_buy = p->pend_sell = 0.0; /* no drift once nothing is pending */
}

static void ord_relink(ord_t *o, double old_open)
{
        ord_pending_account(o);
        int live = !te_os_is_terminal(o->status) && !o->cancel_sent;
        if (live && !o->is_live) {
                o->next_live = o->pos->live;
                o->pos->live = o;
        } else if (!live && o->is_live) {
                ord_t **pp = &o->pos->live;
                while (*pp && *pp != o)
                        pp = &(*pp)->next_live;
                if (*pp)
                        *pp = o->next_live;
                o->next_live = NULL;
        }
        o->is_live = live;
        o->pos->open_qty += ord_open(o) - old_open;
        if (!o->pos->live)
                o->pos->open_qty = 0.0; /* no drift once nothing works */
        if (te_os_is_terminal(o->status) && !o->is_done) { /* final: never undone */
                o->is_done = 1;
                o->next_done = o->pos->pf->done;
                o->pos->pf->done = o;
        }
}

int te_book_set_position(te_book_t *b, const char *portfolio_id, const char *ticker,
                         double qty)
{
        te_book_pos_t *p = pos_get_or_add(b, portfolio_id, ticker);
        if (!p)
                return -1;
        int was = te_book_pos_active(p);
        p->position = qty;
        pos_account(p, was);
        return 0;
}

int te_book_set_cash(te_book_t *b, const char *portfolio_id, double cash)
{
        te_book_pf_t *pf = pf_get_or_add(b, portfolio_id);
        if (!pf)
                return -1;
        pf->cash = cash;
        return 0;
}

int te_book_add_order(te_book_t *b, const char *order_id, const char *portfolio_id,
                      const char *ticker, te_side_t side, double qty, double cum_qty,
                      te_order_status_t status)
{
        int r = te_book_add_new_order(b, order_id, portfolio_id, ticker, side, qty,
                                      cum_qty, status);
        return r < 0 ? -1 : 0;
}

int te_book_add_new_order(te_book_t *b, const char *order_id, const char *portfolio_id,
                          const char *ticker, te_side_t side, double qty, double cum_qty,
                          te_order_status_t status)
{
        if (te_map_get(b->orders, order_id) || te_map_get(b->tombs.ids, order_id))
                return 1;
        if (strlen(order_id) >= TE_ID_MAX)
                return -1;
        te_book_pos_t *p = pos_get_or_add(b, portfolio_id, ticker);
        if (!p)
                return -1;
        ord_t *o = calloc(1, sizeof *o);
        if (!o)
                return -1;
        te_strlcpy(o->order_id, order_id, sizeof o->order_id);
        o->pos = p;
        o->side = side;
        o->qty = qty;
        o->cum_qty = cum_qty;
        o->status = status;
        /* loaded or learned while a CANCEL or REPLACE is unconfirmed: still in doubt
         * (the new quantity of a REPLACE is not known here: its old leaves count) */
        o->cancel_sent =
            status == TE_OS_PENDING_CANCEL || status == TE_OS_PENDING_REPLACE;
        if (te_map_put(b->orders, o->order_id, o) != 0) {
                free(o);
                return -1;
        }
        int was = te_book_pos_active(p);
        ord_relink(o, 0.0);
        pos_account(p, was);
        return 0;
}

int te_book_mark_pending(te_book_t *b, const char *order_id, te_command_t command,
                         double new_qty, int64_t now_ms)
{
        ord_t *o = te_map_get(b->orders, order_id);
        if (!o)
                return -1;
        if (te_os_is_terminal(o->status))
                return 0; /* nothing can fill any more: nothing to wait for */
        double old_open = ord_open(o);
        int was = te_book_pos_active(o->pos);
        int is_replace = command == TE_CMD_REPLACE;
        if (o->cancel_sent && o->replace_sent && is_replace)
                o->replace_qty = fmax(o->replace_qty, new_qty); /* the larger counts */
        else if (!o->cancel_sent || !is_replace) {
                o->replace_sent = is_replace;
                o->replace_qty = is_replace ? new_qty : 0.0;
        }
        if (!o->cancel_sent) {
                o->sent_ms = now_ms;
                o->overdue = 0;
        }
        o->cancel_sent = 1;
        ord_relink(o, old_open);
        pos_account(o->pos, was);
        return 0;
}

int te_book_has_order(const te_book_t *b, const char *order_id)
{
        return te_map_get(b->orders, order_id) != NULL ||
               te_map_get(b->tombs.ids, order_id) != NULL;
}

static te_book_result_t illegal(te_book_t *b, const te_exec_report_t *r, const char *from)
{
        b->illegal++;
        te_log_ids_t ids = {.order_id = r->order_id, .report_id = r->report_id};
        TE_LOG(TE_LOG_WARN, &ids, "order.illegal_transition", "%s -> %s not applied",
               from, te_order_status_name(r->order_status));
        return TE_BOOK_ILLEGAL;
}

te_book_result_t te_book_apply_report(te_book_t *b, const te_exec_report_t *r)
{
        if (r->exec_type == TE_EXEC_CLOCK_ACK || r->exec_type == TE_EXEC_BROKER_STATE)
                return TE_BOOK_IGNORED;
        ord_t *o = te_map_get(b->orders, r->order_id);
        int learned = 0;
        if (!o && te_map_get(b->tombs.ids, r->order_id))
                return TE_BOOK_DUPLICATE; /* dropped when finished: nothing can follow */
        if (!o) {
                /* an order we did not send in this life and did not load: learn it
                 * from the report (its quantity is cum + leaves) in the state the report
                 * gives it, since its first report may be any state (e.g. PENDING_REPLACE
                 * after a restart); a status out of range teaches nothing */
                if ((unsigned)r->order_status >= TE_OS__CNT)
                        return illegal(b, r, "(unknown order)");
                if (te_book_add_order(b, r->order_id, r->ids.portfolio_id, r->ticker,
                                      r->side, r->cum_qty + r->leaves_qty, 0.0,
                                      r->order_status) != 0)
                        return TE_BOOK_ERROR;
                o = te_map_get(b->orders, r->order_id);
                learned = 1;
        }
        if (o->status != r->order_status &&
            !te_os_transition_ok(o->status, r->order_status))
                return illegal(b, r, te_order_status_name(o->status));
        o->pos->pf->mode = r->mode;
        double sign = side_sign(o->side);
        double fill = r->cum_qty - o->cum_qty;
        int changed = learned;
        double old_open = ord_open(o);
        int was = te_book_pos_active(o->pos);
        if (fill > 0) {
                double value = r->avg_price > 0
                                   ? r->cum_qty * r->avg_price - o->cum_qty * o->avg_price
                                   : fill * r->last_price;
                o->pos->position += sign * fill;
                o->pos->pf->cash -= sign * value + r->commission;
                o->cum_qty = r->cum_qty;
                if (r->avg_price > 0)
                        o->avg_price = r->avg_price;
                changed = 1;
        }
        if (o->status != r->order_status) {
                o->status = r->order_status;
                changed = 1;
        }
        if (o->status == TE_OS_PENDING_CANCEL || o->status == TE_OS_PENDING_REPLACE)
                o->cancel_sent = 1; /* in doubt until confirmed */
        if (!te_os_is_terminal(o->status) &&
            (r->exec_type == TE_EXEC_REPLACED || r->exec_type == TE_EXEC_REJECTED)) {
                /* REPLACED: the order lives on with its new terms (quantity = cum +
                 * leaves); REJECTED on a live order: the CANCEL or REPLACE was refused
                 * and the order keeps its terms. Either way it is confirmed. */
                if (r->exec_type == TE_EXEC_REPLACED && r->cum_qty + r->leaves_qty > 0 &&
                    o->qty != r->cum_qty + r->leaves_qty) {
                        o->qty = r->cum_qty + r->leaves_qty;
                        changed = 1;
                }
                if (o->cancel_sent) {
                        if (r->exec_type == TE_EXEC_REJECTED && o->replace_sent)
                                o->replace_refused = 1;
                        o->cancel_sent = o->replace_sent = 0;
                        o->replace_qty = 0.0;
                        changed = 1;
                }
        }
        ord_relink(o, old_open);
        pos_account(o->pos, was);
        return changed ? TE_BOOK_APPLIED : TE_BOOK_DUPLICATE;
}

te_mode_t te_book_mode(const te_book_t *b, const char *portfolio_id)
{
        const te_book_pf_t *pf = te_map_get(b->portfolios, portfolio_id);
        return pf ? pf->mode : TE_MODE_PRODUCTION;
}

int te_book_set_mode(te_book_t *b, const char *portfolio_id, te_mode_t mode)
{
        te_book_pf_t *pf = pf_get_or_add(b, portfolio_id);
        if (!pf)
                return -1;
        pf->mode = mode;
        return 0;
}

int te_book_last_as_of(const te_book_t *b, const char *portfolio_id, int64_t *as_of)
{
        const te_book_pf_t *pf = te_map_get(b->portfolios, portfolio_id);
        if (!pf || !pf->has_as_of)
                return 0;
        *as_of = pf->last_as_of;
        return 1;
}

int te_book_set_last_as_of(te_book_t *b, const char *portfolio_id, int64_t as_of)
{
        te_book_pf_t *pf = pf_get_or_add(b, portfolio_id);
        if (!pf)
                return -1;
        if (pf->has_as_of && as_of > pf->last_as_of)
                pf_drop_done(b, pf);
        pf->has_as_of = 1;
        pf->as_of_learned = 0;
        pf->last_as_of = as_of;
        return 0;
}

int te_book_learn_as_of(te_book_t *b, const char *portfolio_id, int64_t as_of)
{
        te_book_pf_t *pf = pf_get_or_add(b, portfolio_id);
        if (!pf)
                return -1;
        if (!pf->has_as_of || as_of > pf->last_as_of)
                pf->last_as_of = as_of;
        pf->has_as_of = 1;
        pf->as_of_learned = 1;
        return 0;
}

int te_book_as_of_learned(const te_book_t *b, const char *portfolio_id)
{
        const te_book_pf_t *pf = te_map_get(b->portfolios, portfolio_id);
        return pf && pf->has_as_of && pf->as_of_learned;
}

void te_book_foreach_live(const te_book_t *b, const char *portfolio_id,
                          void (*fn)(const char *portfolio_id, const char *ticker,
                                     const te_book_live_t *o, double position,
                                     void *opaque),
                          void *opaque)
{
        size_t pit = 0;
        const char *key;
        void *v;
        while (te_map_next(b->portfolios, &pit, &key, &v)) {
                const te_book_pf_t *pf = v;
                if (portfolio_id && strcmp(pf->portfolio_id, portfolio_id) != 0)
                        continue;
                const te_book_pos_t *p;
                size_t it = 0;
                while ((p = te_book_pf_next(pf, &it)) != NULL) {
                        for (const ord_t *o = p->live; o; o = o->next_live) {
                                te_book_live_t l = {o->order_id, o->side,
                                                    fmax(0.0, o->qty - o->cum_qty),
                                                    o->cum_qty, o->replace_refused};
                                fn(pf->portfolio_id, p->ticker, &l, p->position, opaque);
                        }
                }
        }
}

const te_book_pf_t *te_book_portfolio(const te_book_t *b, const char *portfolio_id)
{
        return te_map_get(b->portfolios, portfolio_id);
}

const te_book_pos_t *te_book_pf_find(const te_book_pf_t *pf, const char *ticker)
{
        return pf ? te_map_get(pf->tickers, ticker) : NULL;
}

size_t te_book_pf_active(const te_book_pf_t *pf)
{
        return pf ? pf->n_active : 0;
}

double te_book_pf_cash(const te_book_pf_t *pf)
{
        return pf ? pf->cash : 0.0;
}

double te_book_pos_qty(const te_book_pos_t *p)
{
        return p ? p->position : 0.0;
}

double te_book_pos_open(const te_book_pos_t *p)
{
        return p ? p->open_qty : 0.0;
}

const char *te_book_pos_ticker(const te_book_pos_t *p)
{
        return p->ticker;
}

size_t te_book_pos_live(const te_book_pos_t *p, te_book_live_t *out, size_t cap)
{
        size_t n = 0;
        for (const ord_t *o = p ? p->live : NULL; o; o = o->next_live, n++)
                if (n < cap) {
                        out[n].order_id = o->order_id;
                        out[n].side = o->side;
                        out[n].remaining = fmax(0.0, o->qty - o->cum_qty);
                        out[n].cum = o->cum_qty;
                        out[n].no_replace = o->replace_refused;
                }
        return n;
}

const te_book_pos_t *te_book_pf_next(const te_book_pf_t *pf, size_t *it)
{
        const char *key;
        void *v;
        if (!pf || !te_map_next(pf->tickers, it, &key, &v))
                return NULL;
        return v;
}

size_t te_book_pos_pending(const te_book_pos_t *p, double *buy, double *sell)
{
        if (buy)
                *buy = p ? p->pend_buy : 0.0;
        if (sell)
                *sell = p ? p->pend_sell : 0.0;
        return p ? p->n_pending : 0;
}

size_t te_book_pf_pending(const te_book_pf_t *pf)
{
        return pf ? pf->n_pending : 0;
}

size_t te_book_pending_count(const te_book_t *b)
{
        return b->n_pending;
}

size_t te_book_overdue(te_book_t *b, int64_t now_ms, int64_t timeout_ms,
                       void (*fn)(const char *portfolio_id, const char *ticker,
                                  const char *order_id, int is_replace, int64_t age_ms,
                                  void *opaque),
                       void *opaque)
{
        size_t n = 0, it = 0;
        const char *key;
        void *v;
        if (b->n_pending == 0)
                return 0;
        while (te_map_next(b->orders, &it, &key, &v)) {
                ord_t *o = v;
                if (!o->is_pending)
                        continue;
                if (o->sent_ms == 0)
                        o->sent_ms = now_ms; /* loaded or learned: the clock starts */
                if (o->overdue || now_ms - o->sent_ms < timeout_ms)
                        continue;
                o->overdue = 1;
                n++;
                if (fn)
                        fn(o->pos->pf->portfolio_id, o->pos->ticker, o->order_id,
                           o->replace_sent, now_ms - o->sent_ms, opaque);
        }
        return n;
}

uint64_t te_book_illegal_count(const te_book_t *b)
{
        return b->illegal;
}

size_t te_book_order_count(const te_book_t *b)
{
        return te_map_count(b->orders);
}

size_t te_book_tombstone_count(const te_book_t *b)
{
        return b->tombs.n;
}

uint64_t te_book_dropped_count(const te_book_t *b)
{
        return b->dropped;
}
