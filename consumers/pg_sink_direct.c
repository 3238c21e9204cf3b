/*
 * pg_sink_direct: a batch straight into the final tables, with the semantics of
 * te_apply_report() (migration 0001) for every staged row, like te_apply_stage_fast()
 * (migration 0006) but without the staging tables' round trip.
 *
 * One transaction:
 *   1. pipelined: BEGIN; the batch's decisions of fills (INSERT ... ON CONFLICT DO
 *      NOTHING); one apply_seq value per row (te_apply_seq); the batch's orders that
 *      already have a row (one index probe per key);
 *   2. COPY order_events (unknown_order = first report of an order without a row that
 *      is not its ACK), COPY orders for the new orders (the in-memory fold of their
 *      reports, pg_sink.c), COPY trades for the fills;
 *   3. pipelined: the known orders' UPDATE from the fold (a terminal order takes nothing
 *      more and counts every report as illegal), positions (average cost and realized
 *      P&L by te_pos_fold in staging order) and cash from the fills, the offsets, COMMIT.
 * The arithmetic on stored values stays in SQL; commission sums are exact in memory
 * (sink_dec.h). A report or key already booked (a replay after a crash, a trade
 * without its event) makes a COPY fail with unique_violation: the transaction is rolled
 * back and the staged path applies the batch (pg_sink.c), which handles replays.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "pg_sink_int.h"

static const char decisions_sql[] =
    "INSERT INTO pipeline_decisions (decision_id, portfolio_id, strategy_id, "
    "profile_version_id, regime_id, universe_id) "
    "SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], "
    "$6::text[]) ON CONFLICT (decision_id) DO NOTHING";
static const char seq_sql[] =
    "SELECT min(v), max(v) FROM (SELECT nextval('te_apply_seq') AS v "
    "FROM generate_series(1, $1::integer)) x";
static const char known_sql[] =
    "SELECT order_id FROM orders WHERE order_id = ANY ($1::text[])";
static const char events_copy[] =
    "COPY order_events (report_id, order_id, exec_type, order_status, ticker, side, "
    "last_qty, last_price, cum_qty, leaves_qty, avg_price, commission, reason, broker, "
    "account, event_time, decision_id, portfolio_id, mode, unknown_order, kafka_topic, "
    "kafka_partition, kafka_offset, apply_seq) FROM STDIN";
static const char orders_copy[] =
    "COPY orders (order_id, decision_id, portfolio_id, ticker, side, status, cum_qty, "
    "leaves_qty, avg_price, commission, mode, broker, account, strategy_id, "
    "profile_version_id, regime_id, universe_id, reason, first_event_time, "
    "last_event_time, illegal_transitions) FROM STDIN";
static const char trades_copy[] =
    "COPY trades (trade_id, \"timestamp\", ticker, direction, size, price, order_id, "
    "strategy_id, profile_version_id, regime_id, universe_id, decision_id, commission, "
    "mode, broker) FROM STDIN";
/* Small batches: the same rows as the three COPYs, from arrays, in one pipeline with
 * the statements after them (fewer round trips and no COPY set-up per table). */
static const char events_ins[] =
    "INSERT INTO order_events (report_id, order_id, exec_type, order_status, ticker, "
    "side, last_qty, last_price, cum_qty, leaves_qty, avg_price, commission, reason, "
    "broker, account, event_time, decision_id, portfolio_id, mode, unknown_order, "
    "kafka_topic, kafka_partition, kafka_offset, apply_seq) "
    "SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], "
    "$6::text[], $7::numeric[], $8::numeric[], $9::numeric[], $10::numeric[], "
    "$11::numeric[], $12::numeric[], $13::text[], $14::text[], $15::text[], "
    "$16::timestamptz[], $17::text[], $18::text[], $19::text[], $20::boolean[], "
    "$21::text[], $22::integer[], $23::bigint[], $24::bigint[])";
static const char orders_ins[] =
    "INSERT INTO orders (order_id, decision_id, portfolio_id, ticker, side, status, "
    "cum_qty, leaves_qty, avg_price, commission, mode, broker, account, strategy_id, "
    "profile_version_id, regime_id, universe_id, reason, first_event_time, "
    "last_event_time, illegal_transitions) "
    "SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], "
    "$6::text[], $7::numeric[], $8::numeric[], $9::numeric[], $10::numeric[], "
    "$11::text[], $12::text[], $13::text[], $14::text[], $15::text[], $16::text[], "
    "$17::text[], $18::text[], $19::timestamptz[], $20::timestamptz[], $21::integer[])";
static const char trades_ins[] =
    "INSERT INTO trades (trade_id, \"timestamp\", ticker, direction, size, price, "
    "order_id, strategy_id, profile_version_id, regime_id, universe_id, decision_id, "
    "commission, mode, broker) "
    "SELECT * FROM unnest($1::text[], $2::timestamptz[], $3::text[], $4::text[], "
    "$5::numeric[], $6::numeric[], $7::text[], $8::text[], $9::text[], $10::text[], "
    "$11::text[], $12::text[], $13::numeric[], $14::text[], $15::text[])";
static const char update_sql[] =
    "UPDATE orders o SET "
    "status = CASE WHEN te_terminal(o.status) THEN o.status ELSE a.status END, "
    "cum_qty = CASE WHEN te_terminal(o.status) THEN o.cum_qty "
    "ELSE GREATEST(o.cum_qty, a.cum_qty) END, "
    "leaves_qty = CASE WHEN te_terminal(o.status) THEN o.leaves_qty "
    "ELSE a.leaves_qty END, "
    "avg_price = CASE WHEN te_terminal(o.status) THEN o.avg_price "
    "ELSE coalesce(a.avg_price, o.avg_price) END, "
    "commission = o.commission + CASE WHEN te_terminal(o.status) THEN 0 ELSE a.cm END, "
    "reason = CASE WHEN te_terminal(o.status) THEN o.reason "
    "ELSE coalesce(a.reason, o.reason) END, "
    "last_event_time = CASE WHEN te_terminal(o.status) THEN o.last_event_time "
    "ELSE GREATEST(o.last_event_time, to_timestamp(a.last_ms / 1000.0)) END, "
    "illegal_transitions = o.illegal_transitions + "
    "CASE WHEN te_terminal(o.status) THEN a.n ELSE a.n_blocked END "
    "FROM unnest($1::text[], $2::text[], $3::numeric[], $4::numeric[], $5::numeric[], "
    "$6::text[], $7::bigint[], $8::integer[], $9::integer[], $10::numeric[]) "
    "AS a(order_id, status, cum_qty, leaves_qty, avg_price, reason, last_ms, n, "
    "n_blocked, cm) "
    "WHERE o.order_id = a.order_id";
static const char fills_sql[] =
    "WITH f AS ("
    " SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::numeric[], "
    " $5::numeric[], $6::numeric[], $7::bigint[]) WITH ORDINALITY "
    " AS f(portfolio_id, ticker, side, last_qty, last_price, commission, event_ms, "
    "seq)), "
    "pos AS ("
    " INSERT INTO positions (portfolio_id, ticker, quantity, avg_cost, realized_pnl, "
    " last_event_time) "
    " SELECT portfolio_id, ticker, st[1], st[2], st[3], lt FROM ("
    "  SELECT k.portfolio_id, k.ticker, "
    "  te_pos_fold(k.d, k.price, k.init ORDER BY k.seq) AS st, max(k.t) AS lt "
    "  FROM ("
    "   SELECT p.portfolio_id, p.ticker, p.quantity AS d, NULL::numeric AS price, "
    "   p.avg_cost AS init, -1::bigint AS seq, NULL::timestamptz AS t "
    "   FROM positions p "
    "   WHERE (p.portfolio_id, p.ticker) IN (SELECT portfolio_id, ticker FROM f) "
    "   UNION ALL "
    "   SELECT portfolio_id, ticker, "
    "   CASE WHEN side = 'BUY' THEN last_qty ELSE -last_qty END, last_price, NULL, seq, "
    "   to_timestamp(event_ms / 1000.0) FROM f) k "
    "  GROUP BY k.portfolio_id, k.ticker) x "
    " ON CONFLICT (portfolio_id, ticker) DO UPDATE SET "
    " quantity = EXCLUDED.quantity, avg_cost = EXCLUDED.avg_cost, "
    " realized_pnl = positions.realized_pnl + EXCLUDED.realized_pnl, "
    " last_event_time = GREATEST(positions.last_event_time, EXCLUDED.last_event_time)) "
    "INSERT INTO cash (portfolio_id, balance, commissions, last_event_time) "
    "SELECT portfolio_id, "
    "sum(CASE WHEN side = 'BUY' THEN -last_qty ELSE last_qty END * last_price "
    "- commission), sum(commission), max(to_timestamp(event_ms / 1000.0)) "
    "FROM f GROUP BY portfolio_id "
    "ON CONFLICT (portfolio_id) DO UPDATE SET "
    "balance = cash.balance + EXCLUDED.balance, "
    "commissions = cash.commissions + EXCLUDED.commissions, "
    "last_event_time = GREATEST(cash.last_event_time, EXCLUDED.last_event_time)";
/* The same positions and cash from fewer, pre-grouped parameters: the batch's
 * (portfolio, ticker) keys with their latest event time ($1-$3), each fill as its key's
 * number, its signed quantity and its price in staging order ($4-$6), and per portfolio
 * its commissions summed exactly in memory (sink_dec.h) and its latest event time
 * ($7-$9). The fold and the cash flow stay in SQL; the result is the same to the display
 * scale: sum(-d * price) - sum(commission) is what fills_sql sums row by row, and
 * to_timestamp() of the latest time is the latest of the to_timestamp()s. Less to
 * parse and group per fill (about a third less database time for the statement). */
static const char pos_sql[] =
    "WITH k AS ("
    " SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[]) WITH ORDINALITY "
    " AS k(portfolio_id, ticker, last_ms, i)), "
    "f AS ("
    " SELECT * FROM unnest($4::integer[], $5::numeric[], $6::numeric[]) WITH ORDINALITY "
    " AS f(key, d, price, seq)), "
    "pos AS ("
    " INSERT INTO positions (portfolio_id, ticker, quantity, avg_cost, realized_pnl, "
    " last_event_time) "
    " SELECT k.portfolio_id, k.ticker, x.st[1], x.st[2], x.st[3], "
    " to_timestamp(k.last_ms / 1000.0) FROM ("
    "  SELECT g.key, te_pos_fold(g.d, g.price, g.init ORDER BY g.seq) AS st FROM ("
    "   SELECT k.i AS key, p.quantity AS d, NULL::numeric AS price, p.avg_cost AS init, "
    "   -1::bigint AS seq "
    "   FROM k JOIN positions p ON p.portfolio_id = k.portfolio_id "
    "   AND p.ticker = k.ticker "
    "   UNION ALL "
    "   SELECT key, d, price, NULL, seq FROM f) g "
    "  GROUP BY g.key) x JOIN k ON k.i = x.key "
    " ON CONFLICT (portfolio_id, ticker) DO UPDATE SET "
    " quantity = EXCLUDED.quantity, avg_cost = EXCLUDED.avg_cost, "
    " realized_pnl = positions.realized_pnl + EXCLUDED.realized_pnl, "
    " last_event_time = GREATEST(positions.last_event_time, EXCLUDED.last_event_time)) "
    "INSERT INTO cash (portfolio_id, balance, commissions, last_event_time) "
    "SELECT c.portfolio_id, v.flow - c.cm, c.cm, to_timestamp(c.last_ms / 1000.0) "
    "FROM unnest($7::text[], $8::numeric[], $9::bigint[]) AS c(portfolio_id, cm, "
    "last_ms) "
    "JOIN (SELECT k.portfolio_id, sum(-f.d * f.price) AS flow "
    " FROM f JOIN k ON k.i = f.key GROUP BY k.portfolio_id) v "
    "ON v.portfolio_id = c.portfolio_id "
    "ON CONFLICT (portfolio_id) DO UPDATE SET "
    "balance = cash.balance + EXCLUDED.balance, "
    "commissions = cash.commissions + EXCLUDED.commissions, "
    "last_event_time = GREATEST(cash.last_event_time, EXCLUDED.last_event_time)";
/* A staged row split into its fields (still COPY-escaped). */
typedef struct fields_s {
        const char *p[SF__CNT];
        size_t n[SF__CNT];
} fields_t;

static void split(const te_pg_sink_t *s, size_t i, fields_t *f)
{
        const srow_t *r = &s->srows[i];
        const char *p = (const char *)s->rows.data + r->off;
        for (int k = 0; k < SF__CNT; k++) {
                f->p[k] = p + r->fo[k];
                f->n[k] = (size_t)(r->fo[k + 1] - r->fo[k] - 1); /* less the separator */
        }
}

/* "YYYY-MM-DD HH:MM:SS.mmm+00" for ms since the epoch (0 <= ms, pg_sink.c); the text
 * of the last second is kept (reports come in time order, mostly). */
static int fmt_ts(te_pg_sink_t *s, char *dst, size_t dstsz, int64_t ms)
{
        int64_t sec = ms / 1000;
        if (sec != s->ts_sec) {
                time_t t = (time_t)sec;
                struct tm tm;
                if (!gmtime_r(&t, &tm))
                        return -1;
                int n =
                    snprintf(s->ts_text, sizeof s->ts_text,
                             "%04d-%02d-%02d %02d:%02d:%02d", tm.tm_year + 1900,
                             tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
                if (n != 19)
                        return -1;
                s->ts_sec = sec;
        }
        int frac = (int)(ms % 1000);
        if (dstsz < 27)
                return -1;
        memcpy(dst, s->ts_text, 19);
        dst[19] = '.';
        dst[20] = (char)('0' + frac / 100);
        dst[21] = (char)('0' + frac / 10 % 10);
        dst[22] = (char)('0' + frac % 10);
        memcpy(dst + 23, "+00", 4);
        return 26;
}

static int put(te_buf_t *b, const char *v, size_t n, char sep)
{
        if (te_buf_reserve(b, n + 1) != 0)
                return -1;
        memcpy(b->data + b->len, v, n);
        b->data[b->len + n] = (uint8_t)sep;
        b->len += n + 1;
        return 0;
}

static int puts_sep(te_buf_t *b, const char *v, char sep)
{
        return put(b, v, strlen(v), sep);
}

/* Copy field k of f verbatim (it is escaped already). */
static int putf(te_buf_t *b, const fields_t *f, int k, char sep)
{
        return put(b, f->p[k], f->n[k], sep);
}

/* Start `n` array literals in params[0..n-1]. */
static int arr_begin(te_pg_sink_t *s, int n)
{
        for (int i = 0; i < n; i++) {
                te_buf_reset(&s->params[i]);
                if (te_buf_append(&s->params[i], "{", 1) != 0)
                        return -1;
        }
        return 0;
}

/* Close them and fill `v` with their texts. */
static int arr_end(te_pg_sink_t *s, int n, const char **v)
{
        for (int i = 0; i < n; i++) {
                if (te_buf_append(&s->params[i], "}", 1) != 0 ||
                    !(v[i] = te_buf_cstr(&s->params[i])))
                        return -1;
        }
        return 0;
}

static int arrf(te_pg_sink_t *s, int i, const fields_t *f, int k)
{
        return te_pg_sink_arr_put(&s->params[i], f->p[k], f->n[k], 1);
}

static int arrs(te_pg_sink_t *s, int i, const char *v)
{
        return te_pg_sink_arr_put(&s->params[i], v, v ? strlen(v) : 0, 0);
}

/* Which staged rows a column-array statement takes. */
typedef enum { ROWS_FIRST_OF_DECISION, ROWS_FILLS } rows_t;

/* The trades columns, in the order of trades_ins and of the COPY into trades: staged
 * fields, -1 for the event time. */
#define TRADES_NCOLS 15
static const int trades_cols[TRADES_NCOLS] = {SF_REPORT_ID,
                                              -1,
                                              SF_TICKER,
                                              SF_SIDE,
                                              SF_LAST_QTY,
                                              SF_LAST_PRICE,
                                              SF_ORDER_ID,
                                              SF_STRATEGY_ID,
                                              SF_PROFILE_VERSION_ID,
                                              SF_REGIME_ID,
                                              SF_UNIVERSE_ID,
                                              SF_DECISION_ID,
                                              SF_COMMISSION,
                                              SF_MODE,
                                              SF_BROKER};

/* One array per column of `cols` (an SF_* field, or -1: the row's event time as a
 * timestamp) over the rows `which` selects, into params[0..n-1] and v. @returns v, or
 * NULL on OOM. */
static const char **col_params(te_pg_sink_t *s, const int *cols, int n, rows_t which,
                               const char **v)
{
        if (arr_begin(s, n) != 0)
                return NULL;
        fields_t f;
        char ts[40] = "";
        int need_ts = 0;
        for (int k = 0; k < n; k++)
                need_ts |= cols[k] < 0;
        for (size_t i = 0; i < s->n_rows; i++) {
                const srow_t *r = &s->srows[i];
                if (!(which == ROWS_FILLS ? r->is_fill : r->first_of_decision))
                        continue;
                split(s, i, &f);
                if (need_ts && fmt_ts(s, ts, sizeof ts, r->ms) < 0)
                        return NULL;
                for (int k = 0; k < n; k++)
                        if ((cols[k] < 0 ? arrs(s, k, ts) : arrf(s, k, &f, cols[k])) != 0)
                                return NULL;
        }
        return arr_end(s, n, v) == 0 ? v : NULL;
}

/* Step 1's decision arrays: the first fill of each decision. */
static const char **decision_params(te_pg_sink_t *s, const char **v)
{
        static const int cols[6] = {SF_DECISION_ID, SF_PORTFOLIO_ID,
                                    SF_STRATEGY_ID, SF_PROFILE_VERSION_ID,
                                    SF_REGIME_ID,   SF_UNIVERSE_ID};
        return col_params(s, cols, 6, ROWS_FIRST_OF_DECISION, v);
}

/* The order ids of the batch as one array. */
static const char **order_ids_param(te_pg_sink_t *s, const char **v)
{
        if (arr_begin(s, 1) != 0)
                return NULL;
        for (size_t i = 0; i < s->n_aggs; i++)
                if (arrs(s, 0, s->aggs[i].order_id) != 0)
                        return NULL;
        return arr_end(s, 1, v) == 0 ? v : NULL;
}

/* The offsets statement's parameters. */
static const char **offset_params(te_pg_sink_t *s, const char **v)
{
        if (te_pg_sink_offset_params(s) != 0)
                return NULL;
        v[0] = s->group;
        for (int i = 0; i < 3; i++)
                v[i + 1] = (const char *)s->params[i].data;
        return v;
}

/* What order_events row i needs besides its staged fields, for both the COPY rows and
 * the small path's arrays: the fields split, the event time, apply_seq (seq0 + i) and
 * the unknown_order flag (the first report of an order the database does not have,
 * other than an ACK). @returns 0 or -1. */
static int event_fields(te_pg_sink_t *s, size_t i, int64_t seq0, fields_t *f, char ts[40],
                        char seq[24], int *unknown)
{
        const srow_t *r = &s->srows[i];
        split(s, i, f);
        *unknown =
            r->first_of_order && !s->aggs[r->agg].known &&
            !(f->n[SF_EXEC_TYPE] == 3 && memcmp(f->p[SF_EXEC_TYPE], "ACK", 3) == 0);
        snprintf(seq, 24, "%lld", (long long)(seq0 + (int64_t)i));
        return fmt_ts(s, ts, 40, r->ms) < 0 ? -1 : 0;
}

static int events_rows(te_pg_sink_t *s, int64_t seq0)
{
        te_buf_t *b = &s->dbuf[0];
        te_buf_reset(b);
        fields_t f;
        char ts[40], seq[24];
        int unknown;
        for (size_t i = 0; i < s->n_rows; i++) {
                if (event_fields(s, i, seq0, &f, ts, seq, &unknown) != 0)
                        return -1;
                for (int k = SF_REPORT_ID; k <= SF_ACCOUNT; k++)
                        if (putf(b, &f, k, '\t') != 0)
                                return -1;
                if (puts_sep(b, ts, '\t') != 0 ||
                    putf(b, &f, SF_DECISION_ID, '\t') != 0 ||
                    putf(b, &f, SF_PORTFOLIO_ID, '\t') != 0 ||
                    putf(b, &f, SF_MODE, '\t') != 0 ||
                    puts_sep(b, unknown ? "t" : "f", '\t') != 0 ||
                    putf(b, &f, SF_TOPIC, '\t') != 0 ||
                    putf(b, &f, SF_PARTITION, '\t') != 0 ||
                    putf(b, &f, SF_OFFSET, '\t') != 0 || puts_sep(b, seq, '\n') != 0)
                        return -1;
        }
        return 0;
}

static int orders_rows(te_pg_sink_t *s)
{
        te_buf_t *b = &s->dbuf[1];
        te_buf_reset(b);
        fields_t f;
        char first[40], last[40], cm[48], nb[24];
        for (size_t i = 0; i < s->n_aggs; i++) {
                const ord_agg_t *a = &s->aggs[i];
                if (a->known)
                        continue;
                split(s, a->first_seq, &f);
                snprintf(nb, sizeof nb, "%ld", a->n_blocked);
                if (fmt_ts(s, first, sizeof first, s->srows[a->first_seq].ms) < 0 ||
                    fmt_ts(s, last, sizeof last, a->last_ms) < 0 ||
                    sink_dec_fmt(&a->commission, cm, sizeof cm) < 0)
                        return -1;
                if (putf(b, &f, SF_ORDER_ID, '\t') != 0 ||
                    putf(b, &f, SF_DECISION_ID, '\t') != 0 ||
                    putf(b, &f, SF_PORTFOLIO_ID, '\t') != 0 ||
                    putf(b, &f, SF_TICKER, '\t') != 0 ||
                    putf(b, &f, SF_SIDE, '\t') != 0 ||
                    puts_sep(b, a->status, '\t') != 0 || puts_sep(b, a->cum, '\t') != 0 ||
                    puts_sep(b, a->leaves, '\t') != 0 ||
                    puts_sep(b, a->avg[0] ? a->avg : "\\N", '\t') != 0 ||
                    puts_sep(b, cm, '\t') != 0 || putf(b, &f, SF_MODE, '\t') != 0 ||
                    putf(b, &f, SF_BROKER, '\t') != 0 ||
                    putf(b, &f, SF_ACCOUNT, '\t') != 0 ||
                    putf(b, &f, SF_STRATEGY_ID, '\t') != 0 ||
                    putf(b, &f, SF_PROFILE_VERSION_ID, '\t') != 0 ||
                    putf(b, &f, SF_REGIME_ID, '\t') != 0 ||
                    putf(b, &f, SF_UNIVERSE_ID, '\t') != 0 ||
                    (a->reason[0]
                         ? te_pg_sink_put_field(b, a->reason, strlen(a->reason), '\t')
                         : puts_sep(b, "\\N", '\t')) != 0 ||
                    puts_sep(b, first, '\t') != 0 || puts_sep(b, last, '\t') != 0 ||
                    puts_sep(b, nb, '\n') != 0)
                        return -1;
        }
        return 0;
}

static int trades_rows(te_pg_sink_t *s)
{
        te_buf_t *b = &s->dbuf[2];
        te_buf_reset(b);
        fields_t f;
        char ts[40];
        for (size_t i = 0; i < s->n_rows; i++) {
                if (!s->srows[i].is_fill)
                        continue;
                split(s, i, &f);
                if (fmt_ts(s, ts, sizeof ts, s->srows[i].ms) < 0)
                        return -1;
                for (int k = 0; k < TRADES_NCOLS; k++) {
                        char sep = k == TRADES_NCOLS - 1 ? '\n' : '\t';
                        if ((trades_cols[k] < 0 ? puts_sep(b, ts, sep)
                                                : putf(b, &f, trades_cols[k], sep)) != 0)
                                return -1;
                }
        }
        return 0;
}

/* The known orders' fold, as the UPDATE's ten arrays. */
static const char **update_params(te_pg_sink_t *s, const char **v)
{
        if (arr_begin(s, 10) != 0)
                return NULL;
        char ms[24], n[24], nb[24], cm[48];
        for (size_t i = 0; i < s->n_aggs; i++) {
                const ord_agg_t *a = &s->aggs[i];
                if (!a->known)
                        continue;
                snprintf(ms, sizeof ms, "%lld", (long long)a->last_ms);
                snprintf(n, sizeof n, "%ld", a->n);
                snprintf(nb, sizeof nb, "%ld", a->n_blocked);
                if (sink_dec_fmt(&a->commission, cm, sizeof cm) < 0 ||
                    arrs(s, 0, a->order_id) != 0 || arrs(s, 1, a->status) != 0 ||
                    arrs(s, 2, a->cum) != 0 || arrs(s, 3, a->leaves) != 0 ||
                    arrs(s, 4, a->avg[0] ? a->avg : NULL) != 0 ||
                    arrs(s, 5, a->reason[0] ? a->reason : NULL) != 0 ||
                    arrs(s, 6, ms) != 0 || arrs(s, 7, n) != 0 || arrs(s, 8, nb) != 0 ||
                    arrs(s, 9, cm) != 0)
                        return NULL;
        }
        return arr_end(s, 10, v) == 0 ? v : NULL;
}

/* The fills in staging order, as the positions and cash statement's seven arrays. */
static const char **fill_params(te_pg_sink_t *s, const char **v)
{
        static const int cols[7] = {SF_PORTFOLIO_ID, SF_TICKER,     SF_SIDE,
                                    SF_LAST_QTY,     SF_LAST_PRICE, SF_COMMISSION,
                                    SF_EVENT_MS};
        return col_params(s, cols, 7, ROWS_FILLS, v);
}

/* One (portfolio, ticker) key of pos_sql, or one portfolio: its first fill (for the
 * names) and its latest event time; a portfolio also sums its commissions. */
typedef struct pos_key_s {
        size_t row;
        int64_t ms;
        sink_dec_t cm;
} pos_key_t;

/* Index + 1 of the key `a` (+ '\t' + `b` when b) in `m`, adding it as `row` when new
 * (*n grows). @returns the index + 1, or 0 (too long, or out of memory). */
static size_t key_of(te_map_t *m, pos_key_t *keys, size_t *n, const char *a, size_t an,
                     const char *b, size_t bn, size_t row, int64_t ms)
{
        char k[2 * TE_ID_MAX + 2];
        if (an + bn + 2 > sizeof k)
                return 0;
        memcpy(k, a, an); /* COPY-escaped: no raw tab inside */
        k[an] = '\t';
        memcpy(k + an + 1, b, bn);
        k[an + 1 + bn] = '\0';
        uintptr_t i = (uintptr_t)te_map_get(m, k);
        if (i) {
                if (ms > keys[i - 1].ms)
                        keys[i - 1].ms = ms;
                return i;
        }
        keys[*n] = (pos_key_t){.row = row, .ms = ms};
        if (te_map_put(m, k, (void *)(uintptr_t)(*n + 1)) != 0)
                return 0;
        return ++*n;
}

/* pos_sql's nine arrays into params[0..8] and v. @returns 1 when built, 0 when the
 * batch needs fills_sql (a commission sink_dec cannot sum exactly, a key too long),
 * -1 out of memory. */
static int pos_params(te_pg_sink_t *s, const char **v)
{
        int rc = -1;
        size_t nk = 0, np = 0;
        pos_key_t *keys = malloc(s->n_fills * sizeof *keys);
        pos_key_t *pfs = malloc(s->n_fills * sizeof *pfs);
        te_map_t *km = te_map_new(), *pm = te_map_new();
        if (!keys || !pfs || !km || !pm || arr_begin(s, 9) != 0)
                goto out;
        fields_t f;
        char num[48];
        for (size_t i = 0; i < s->n_rows; i++) {
                const srow_t *r = &s->srows[i];
                if (!r->is_fill)
                        continue;
                split(s, i, &f);
                size_t ki =
                    key_of(km, keys, &nk, f.p[SF_PORTFOLIO_ID], f.n[SF_PORTFOLIO_ID],
                           f.p[SF_TICKER], f.n[SF_TICKER], i, r->ms);
                size_t pi = ki ? key_of(pm, pfs, &np, f.p[SF_PORTFOLIO_ID],
                                        f.n[SF_PORTFOLIO_ID], "", 0, i, r->ms)
                               : 0;
                if (!ki || !pi) {
                        rc = 0; /* a key too long (or out of memory): fills_sql */
                        goto out;
                }
                sink_dec_t c;
                int is_buy = f.n[SF_SIDE] == 3 && memcmp(f.p[SF_SIDE], "BUY", 3) == 0;
                if (f.n[SF_COMMISSION] + 1 > sizeof num ||
                    f.n[SF_LAST_QTY] + 2 > sizeof num) {
                        rc = 0;
                        goto out;
                }
                memcpy(num, f.p[SF_COMMISSION], f.n[SF_COMMISSION]);
                num[f.n[SF_COMMISSION]] = '\0';
                if (sink_dec_parse(num, &c) != 0 ||
                    sink_dec_add(&pfs[pi - 1].cm, &c) != 0) {
                        rc = 0;
                        goto out;
                }
                /* d: the signed quantity, as fills_sql's CASE on the side */
                size_t dn = 0;
                if (!is_buy)
                        num[dn++] = '-';
                memcpy(num + dn, f.p[SF_LAST_QTY], f.n[SF_LAST_QTY]);
                dn += f.n[SF_LAST_QTY];
                char kis[24];
                int kn = snprintf(kis, sizeof kis, "%zu", ki);
                if (te_pg_sink_arr_put(&s->params[3], kis, (size_t)kn, 0) != 0 ||
                    te_pg_sink_arr_put(&s->params[4], num, dn, 0) != 0 ||
                    arrf(s, 5, &f, SF_LAST_PRICE) != 0)
                        goto out;
        }
        char ms[24], cm[48];
        for (size_t i = 0; i < nk; i++) {
                split(s, keys[i].row, &f);
                snprintf(ms, sizeof ms, "%lld", (long long)keys[i].ms);
                if (arrf(s, 0, &f, SF_PORTFOLIO_ID) != 0 ||
                    arrf(s, 1, &f, SF_TICKER) != 0 || arrs(s, 2, ms) != 0)
                        goto out;
        }
        for (size_t i = 0; i < np; i++) {
                split(s, pfs[i].row, &f);
                snprintf(ms, sizeof ms, "%lld", (long long)pfs[i].ms);
                if (sink_dec_fmt(&pfs[i].cm, cm, sizeof cm) < 0) {
                        rc = 0;
                        goto out;
                }
                if (arrf(s, 6, &f, SF_PORTFOLIO_ID) != 0 || arrs(s, 7, cm) != 0 ||
                    arrs(s, 8, ms) != 0)
                        goto out;
        }
        rc = arr_end(s, 9, v) == 0 ? 1 : -1;
out:
        te_map_destroy(km, NULL);
        te_map_destroy(pm, NULL);
        free(keys);
        free(pfs);
        return rc;
}

/* The positions and cash statement with its parameters: pos_sql when pos_params can
 * build them, else fills_sql. @returns v (NULL: out of memory, which fails at the
 * send) and sets *stmt and *n. */
static const char **positions_params(te_pg_sink_t *s, const char **v, const char **stmt,
                                     int *n)
{
        int r = pos_params(s, v);
        if (r != 0) {
                *stmt = "te_d_pos";
                *n = 9;
                return r > 0 ? v : NULL;
        }
        *stmt = "te_d_fills";
        *n = 7;
        return fill_params(s, v);
}

/* The small path's arrays: order_events rows (24 arrays). */
static const char **events_params(te_pg_sink_t *s, int64_t seq0, const char **v)
{
        if (arr_begin(s, 24) != 0)
                return NULL;
        fields_t f;
        char ts[40], seq[24];
        int unknown;
        for (size_t i = 0; i < s->n_rows; i++) {
                if (event_fields(s, i, seq0, &f, ts, seq, &unknown) != 0)
                        return NULL;
                int a = 0;
                for (int k = SF_REPORT_ID; k <= SF_ACCOUNT; k++)
                        if (arrf(s, a++, &f, k) != 0)
                                return NULL;
                if (arrs(s, a++, ts) != 0 || arrf(s, a++, &f, SF_DECISION_ID) != 0 ||
                    arrf(s, a++, &f, SF_PORTFOLIO_ID) != 0 ||
                    arrf(s, a++, &f, SF_MODE) != 0 ||
                    arrs(s, a++, unknown ? "t" : "f") != 0 ||
                    arrf(s, a++, &f, SF_TOPIC) != 0 ||
                    arrf(s, a++, &f, SF_PARTITION) != 0 ||
                    arrf(s, a++, &f, SF_OFFSET) != 0 || arrs(s, a++, seq) != 0)
                        return NULL;
        }
        return arr_end(s, 24, v) == 0 ? v : NULL;
}

/* The small path's arrays: the new orders (21 arrays). */
static const char **orders_params(te_pg_sink_t *s, const char **v)
{
        if (arr_begin(s, 21) != 0)
                return NULL;
        fields_t f;
        char first[40], last[40], cm[48], nb[24];
        static const int cols1[5] = {SF_ORDER_ID, SF_DECISION_ID, SF_PORTFOLIO_ID,
                                     SF_TICKER, SF_SIDE};
        static const int cols2[7] = {SF_MODE,
                                     SF_BROKER,
                                     SF_ACCOUNT,
                                     SF_STRATEGY_ID,
                                     SF_PROFILE_VERSION_ID,
                                     SF_REGIME_ID,
                                     SF_UNIVERSE_ID};
        for (size_t i = 0; i < s->n_aggs; i++) {
                const ord_agg_t *a = &s->aggs[i];
                if (a->known)
                        continue;
                split(s, a->first_seq, &f);
                snprintf(nb, sizeof nb, "%ld", a->n_blocked);
                if (fmt_ts(s, first, sizeof first, s->srows[a->first_seq].ms) < 0 ||
                    fmt_ts(s, last, sizeof last, a->last_ms) < 0 ||
                    sink_dec_fmt(&a->commission, cm, sizeof cm) < 0)
                        return NULL;
                int c = 0;
                for (int k = 0; k < 5; k++)
                        if (arrf(s, c++, &f, cols1[k]) != 0)
                                return NULL;
                if (arrs(s, c++, a->status) != 0 || arrs(s, c++, a->cum) != 0 ||
                    arrs(s, c++, a->leaves) != 0 ||
                    arrs(s, c++, a->avg[0] ? a->avg : NULL) != 0 || arrs(s, c++, cm) != 0)
                        return NULL;
                for (int k = 0; k < 7; k++)
                        if (arrf(s, c++, &f, cols2[k]) != 0)
                                return NULL;
                if (arrs(s, c++, a->reason[0] ? a->reason : NULL) != 0 ||
                    arrs(s, c++, first) != 0 || arrs(s, c++, last) != 0 ||
                    arrs(s, c++, nb) != 0)
                        return NULL;
        }
        return arr_end(s, 21, v) == 0 ? v : NULL;
}

/* The small path's arrays: the trades (15 arrays). */
static const char **trades_params(te_pg_sink_t *s, const char **v)
{
        return col_params(s, trades_cols, TRADES_NCOLS, ROWS_FILLS, v);
}

/* Mark the aggregates of the orders in `res` known. */
static void mark_known(te_pg_sink_t *s, const PGresult *res)
{
        for (size_t i = 0; i < s->n_aggs; i++)
                s->aggs[i].known = 0;
        for (int i = 0; i < PQntuples(res); i++) {
                uintptr_t oi = (uintptr_t)te_map_get(s->oids, PQgetvalue(res, i, 0));
                if (oi)
                        s->aggs[oi - 1].known = 1;
        }
}

int te_pg_sink_prepare_direct(te_pg_sink_t *s, char *errstr, size_t errsz)
{
        static const te_pg_stmt_t stmts[] = {
            {"te_d_decisions", decisions_sql, 6}, {"te_d_seq", seq_sql, 1},
            {"te_d_known", known_sql, 1},         {"te_d_update", update_sql, 10},
            {"te_d_fills", fills_sql, 7},         {"te_d_pos", pos_sql, 9},
            {"te_d_events", events_ins, 24},      {"te_d_orders", orders_ins, 21},
            {"te_d_trades", trades_ins, 15}};
        return te_pg_sink_prepare_stmts(s->conn, stmts, sizeof stmts / sizeof stmts[0],
                                        errstr, errsz);
}

int te_pg_sink_commit_direct(te_pg_sink_t *s, long *applied, char *errstr, size_t errsz)
{
        const char *v[24];
        char nrows[24];
        pipe_t pl;
        int rc;
        *applied = 0;
        /* 1. BEGIN, decisions, apply_seq values, the orders that have a row (the
         *    statement with the largest result last: the server's answers never wait
         *    for the client to finish sending) */
        if (sink_pipe_begin(s, &pl, errstr, errsz) != 0)
                return -1;
        sink_pipe_send(s, &pl, "begin", "BEGIN", 0, NULL, PGRES_COMMAND_OK, errstr,
                       errsz);
        if (s->n_rows == 0) {
                /* only offsets (control reports, duplicates, dead letters) */
                if (s->n_offs)
                        sink_pipe_send(s, &pl, "offsets", "te_offset", 4,
                                       offset_params(s, v), PGRES_COMMAND_OK, errstr,
                                       errsz);
                sink_pipe_send(s, &pl, "commit", "COMMIT", 0, NULL, PGRES_COMMAND_OK,
                               errstr, errsz);
                rc = sink_pipe_end(s, &pl, errstr, errsz);
                sink_pipe_free(&pl);
                return rc == 0 ? 0 : -1;
        }
        snprintf(nrows, sizeof nrows, "%zu", s->n_rows);
        if (s->n_decisions > 0)
                sink_pipe_send(s, &pl, "decisions", "te_d_decisions", 6,
                               decision_params(s, v), PGRES_COMMAND_OK, errstr, errsz);
        v[0] = nrows;
        sink_pipe_send(s, &pl, "apply_seq", "te_d_seq", 1, v, PGRES_TUPLES_OK, errstr,
                       errsz);
        sink_pipe_send(s, &pl, "known orders", "te_d_known", 1, order_ids_param(s, v),
                       PGRES_TUPLES_OK, errstr, errsz);
        if ((rc = sink_pipe_end(s, &pl, errstr, errsz)) != 0)
                goto rollback;
        const PGresult *seq = pl.st[pl.n - 2].res, *known = pl.st[pl.n - 1].res;
        int64_t lo = strtoll(PQgetvalue(seq, 0, 0), NULL, 10);
        int64_t hi = strtoll(PQgetvalue(seq, 0, 1), NULL, 10);
        if (hi - lo + 1 != (int64_t)s->n_rows) {
                rc = 1; /* another session took values in between: the staged path */
                snprintf(errstr, errsz, "apply_seq values not contiguous");
                goto rollback;
        }
        mark_known(s, known);
        sink_pipe_free(&pl);
        size_t n_new = 0, n_known = 0;
        for (size_t i = 0; i < s->n_aggs; i++)
                s->aggs[i].known ? n_known++ : n_new++;

        if (s->n_rows <= TE_PG_SINK_SMALL_BATCH) {
                /* 2+3 in one pipeline: the rows from arrays, then as below */
                if (sink_pipe_begin(s, &pl, errstr, errsz) != 0)
                        goto rollback;
                sink_pipe_send(s, &pl, "order_events", "te_d_events", 24,
                               events_params(s, lo, v), PGRES_COMMAND_OK, errstr, errsz);
                if (n_new > 0)
                        sink_pipe_send(s, &pl, "orders", "te_d_orders", 21,
                                       orders_params(s, v), PGRES_COMMAND_OK, errstr,
                                       errsz);
                if (s->n_fills > 0) {
                        sink_pipe_send(s, &pl, "trades", "te_d_trades", 15,
                                       trades_params(s, v), PGRES_COMMAND_OK, errstr,
                                       errsz);
                        const char *pstmt;
                        int pn;
                        const char **pv = positions_params(s, v, &pstmt, &pn);
                        sink_pipe_send(s, &pl, "positions and cash", pstmt, pn, pv,
                                       PGRES_COMMAND_OK, errstr, errsz);
                }
                goto tail;
        }

        /* 2. the rows of the final tables; the next table's rows and the fills'
         *    arrays are built while the server works on a COPY */
        rc = -1;
        if (events_rows(s, lo) != 0)
                goto oom;
        if ((rc = sink_copy_send(s, "order_events", events_copy, &s->dbuf[0], errstr,
                                 errsz)) != 0)
                goto rollback;
        if ((n_new > 0 && orders_rows(s) != 0) ||
            (s->n_fills > 0 && trades_rows(s) != 0)) {
                sink_copy_wait(s, "order_events", errstr, errsz);
                goto oom;
        }
        if ((rc = sink_copy_wait(s, "order_events", errstr, errsz)) != 0)
                goto rollback;
        if (n_new > 0 && ((rc = sink_copy_send(s, "orders", orders_copy, &s->dbuf[1],
                                               errstr, errsz)) != 0 ||
                          (rc = sink_copy_wait(s, "orders", errstr, errsz)) != 0))
                goto rollback;
        const char **fv = NULL, *fstmt = "te_d_fills";
        int fn = 7;
        if (s->n_fills > 0) {
                if ((rc = sink_copy_send(s, "trades", trades_copy, &s->dbuf[2], errstr,
                                         errsz)) != 0)
                        goto rollback;
                /* NULL (out of memory) fails at its send */
                fv = positions_params(s, v, &fstmt, &fn);
                if ((rc = sink_copy_wait(s, "trades", errstr, errsz)) != 0)
                        goto rollback;
        }

        /* 3. what needs the stored values, the offsets, COMMIT */
        if (sink_pipe_begin(s, &pl, errstr, errsz) != 0)
                goto rollback;
        if (s->n_fills > 0) /* its parameters are ready (above) */
                sink_pipe_send(s, &pl, "positions and cash", fstmt, fn, fv,
                               PGRES_COMMAND_OK, errstr, errsz);
tail:
        if (n_known > 0)
                sink_pipe_send(s, &pl, "orders update", "te_d_update", 10,
                               update_params(s, v), PGRES_COMMAND_OK, errstr, errsz);
        if (s->n_offs)
                sink_pipe_send(s, &pl, "offsets", "te_offset", 4, offset_params(s, v),
                               PGRES_COMMAND_OK, errstr, errsz);
        sink_pipe_send(s, &pl, "commit", "COMMIT", 0, NULL, PGRES_COMMAND_OK, errstr,
                       errsz);
        rc = sink_pipe_end(s, &pl, errstr, errsz);
        sink_pipe_free(&pl);
        if (rc == 0) {
                *applied = (long)s->n_rows;
                return 0;
        }
        goto rollback;
oom:
        snprintf(errstr, errsz, "out of memory building the batch");
        rc = -1;
rollback:
        sink_pipe_free(&pl);
        PQclear(PQexec(s->conn, "ROLLBACK"));
        return rc;
}
