/*
 * book: positions and open orders keyed by portfolio and ticker, orders by order_id.
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

typedef struct pos_s {
        char portfolio_id[TE_ID_MAX];
        char ticker[TE_TICKER_MAX];
        double position;
        double open_qty; /* signed remaining of live orders */
} pos_t;

typedef struct ord_s {
        pos_t *pos; /* the (portfolio, ticker) it belongs to */
        te_side_t side;
        double qty;
        double cum_qty;
        te_order_status_t status;
} ord_t;

struct te_book_s {
        te_map_t *positions; /* "portfolio\x1fticker" -> pos_t */
        te_map_t *orders;    /* order_id -> ord_t */
        uint64_t illegal;
};

te_book_t *te_book_new(void)
{
        te_book_t *b = calloc(1, sizeof *b);
        if (!b)
                return NULL;
        b->positions = te_map_new();
        b->orders = te_map_new();
        if (!b->positions || !b->orders) {
                te_book_destroy(b);
                return NULL;
        }
        return b;
}

void te_book_destroy(te_book_t *b)
{
        if (!b)
                return;
        te_map_destroy(b->positions, free);
        te_map_destroy(b->orders, free);
        free(b);
}

static void pos_key(char *key, size_t keysz, const char *portfolio_id, const char *ticker)
{
        snprintf(key, keysz, "%s\x1f%s", portfolio_id, ticker);
}

static pos_t *pos_get(const te_book_t *b, const char *portfolio_id, const char *ticker)
{
        char key[TE_ID_MAX + TE_TICKER_MAX + 2];
        pos_key(key, sizeof key, portfolio_id, ticker);
        return te_map_get(b->positions, key);
}

static pos_t *pos_get_or_add(te_book_t *b, const char *portfolio_id, const char *ticker)
{
        char key[TE_ID_MAX + TE_TICKER_MAX + 2];
        pos_key(key, sizeof key, portfolio_id, ticker);
        pos_t *p = te_map_get(b->positions, key);
        if (p)
                return p;
        p = calloc(1, sizeof *p);
        if (!p)
                return NULL;
        te_strlcpy(p->portfolio_id, portfolio_id, sizeof p->portfolio_id);
        te_strlcpy(p->ticker, ticker, sizeof p->ticker);
        if (te_map_put(b->positions, key, p) != 0) {
                free(p);
                return NULL;
        }
        return p;
}

static double side_sign(te_side_t s)
{
        return s == TE_SIDE_BUY ? 1.0 : -1.0;
}

int te_book_set_position(te_book_t *b, const char *portfolio_id, const char *ticker,
                         double qty)
{
        pos_t *p = pos_get_or_add(b, portfolio_id, ticker);
        if (!p)
                return -1;
        p->position = qty;
        return 0;
}

int te_book_add_order(te_book_t *b, const char *order_id, const char *portfolio_id,
                      const char *ticker, te_side_t side, double qty, double cum_qty,
                      te_order_status_t status)
{
        if (te_map_get(b->orders, order_id))
                return 0;
        pos_t *p = pos_get_or_add(b, portfolio_id, ticker);
        if (!p)
                return -1;
        ord_t *o = calloc(1, sizeof *o);
        if (!o)
                return -1;
        o->pos = p;
        o->side = side;
        o->qty = qty;
        o->cum_qty = cum_qty;
        o->status = status;
        if (te_map_put(b->orders, order_id, o) != 0) {
                free(o);
                return -1;
        }
        if (!te_os_is_terminal(status))
                p->open_qty += side_sign(side) * fmax(0.0, qty - cum_qty);
        return 0;
}

te_book_result_t te_book_apply_report(te_book_t *b, const te_exec_report_t *r)
{
        if (r->exec_type == TE_EXEC_CLOCK_ACK || r->exec_type == TE_EXEC_BROKER_STATE)
                return TE_BOOK_IGNORED;
        ord_t *o = te_map_get(b->orders, r->order_id);
        int learned = 0;
        if (!o) {
                /* an order we did not send in this life and did not load: learn it
                 * from the report (its quantity is cum + leaves) in the state the report
                 * gives it, since its first report may be any state (e.g. PENDING_REPLACE
                 * after a restart); a status out of range teaches nothing */
                if ((unsigned)r->order_status >= TE_OS__CNT) {
                        b->illegal++;
                        te_log_ids_t ids = {.order_id = r->order_id,
                                            .report_id = r->report_id};
                        TE_LOG(TE_LOG_WARN, &ids, "order.illegal_transition",
                               "unknown order with status %d not applied",
                               (int)r->order_status);
                        return TE_BOOK_ILLEGAL;
                }
                if (te_book_add_order(b, r->order_id, r->ids.portfolio_id, r->ticker,
                                      r->side, r->cum_qty + r->leaves_qty, 0.0,
                                      r->order_status) != 0)
                        return TE_BOOK_ERROR;
                o = te_map_get(b->orders, r->order_id);
                learned = 1;
        }
        if (o->status != r->order_status &&
            !te_os_transition_ok(o->status, r->order_status)) {
                b->illegal++;
                te_log_ids_t ids = {.order_id = r->order_id, .report_id = r->report_id};
                TE_LOG(TE_LOG_WARN, &ids, "order.illegal_transition",
                       "%s -> %s not applied", te_order_status_name(o->status),
                       te_order_status_name(r->order_status));
                return TE_BOOK_ILLEGAL;
        }
        double sign = side_sign(o->side);
        double fill = r->cum_qty - o->cum_qty;
        int changed = learned;
        double old_open =
            te_os_is_terminal(o->status) ? 0.0 : fmax(0.0, o->qty - o->cum_qty);
        if (fill > 0) {
                o->pos->position += sign * fill;
                o->cum_qty = r->cum_qty;
                changed = 1;
        }
        if (o->status != r->order_status) {
                o->status = r->order_status;
                changed = 1;
        }
        double new_open =
            te_os_is_terminal(o->status) ? 0.0 : fmax(0.0, o->qty - o->cum_qty);
        o->pos->open_qty += sign * (new_open - old_open);
        return changed ? TE_BOOK_APPLIED : TE_BOOK_DUPLICATE;
}

double te_book_position(const te_book_t *b, const char *portfolio_id, const char *ticker)
{
        const pos_t *p = pos_get(b, portfolio_id, ticker);
        return p ? p->position : 0.0;
}

double te_book_open_qty(const te_book_t *b, const char *portfolio_id, const char *ticker)
{
        const pos_t *p = pos_get(b, portfolio_id, ticker);
        return p ? p->open_qty : 0.0;
}

void te_book_foreach_ticker(const te_book_t *b, const char *portfolio_id,
                            void (*fn)(const char *ticker, double position,
                                       double open_qty, void *opaque),
                            void *opaque)
{
        size_t it = 0;
        const char *key;
        void *v;
        while (te_map_next(b->positions, &it, &key, &v)) {
                const pos_t *p = v;
                if (strcmp(p->portfolio_id, portfolio_id) != 0)
                        continue;
                if (p->position != 0.0 || p->open_qty != 0.0)
                        fn(p->ticker, p->position, p->open_qty, opaque);
        }
}

uint64_t te_book_illegal_count(const te_book_t *b)
{
        return b->illegal;
}

size_t te_book_order_count(const te_book_t *b)
{
        return te_map_count(b->orders);
}
