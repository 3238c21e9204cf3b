/*
 * planner_db: snapshot read of positions, orders and sink offsets.
 */
#include "planner_db.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "te_buf.h"
#include "te_log.h"
#include "te_map.h"
#include "te_msg.h"
#include "te_pg.h"

static int exec_ok(PGconn *c, const char *sql, char *errstr, size_t errsz)
{
        PGresult *r = PQexec(c, sql);
        int ok = PQresultStatus(r) == PGRES_COMMAND_OK;
        if (!ok)
                snprintf(errstr, errsz, "%s: %s", sql, PQerrorMessage(c));
        PQclear(r);
        return ok ? 0 : -1;
}

/* A numeric column read as text (a float8 cast fails on a value past the double range,
 * and the rebuild must not fail on any row the sink wrote). A value past the double
 * range or NaN is logged and kept as +-1e300: far past the value bounds (te_msg.h), so
 * planning that portfolio dead-letters its targets as out_of_range instead of doing
 * arithmetic on inf/NaN. */
static double db_num(const PGresult *r, int row, int col, const char *what)
{
        const char *txt = PQgetvalue(r, row, col);
        double v = strtod(txt, NULL);
        if (isfinite(v))
                return v;
        TE_LOG(TE_LOG_ERROR, NULL, "planner.db_out_of_range",
               "%s of %s/%s: %.40s is not a finite double; kept as %s1e300", what,
               PQgetvalue(r, row, 0), PQgetvalue(r, row, 1), txt, signbit(v) ? "-" : "");
        return signbit(v) ? -1e300 : 1e300;
}

int te_planner_db_load(PGconn *conn, const char *sink_group, const char *reports_topic,
                       int (*owned)(void *opaque, const char *portfolio_id), void *opaque,
                       te_book_t *book, int64_t *offsets, size_t n_parts, char *errstr,
                       size_t errsz)
{
        PGresult *r = NULL;
        for (size_t i = 0; i < n_parts; i++)
                offsets[i] = -1;
        if (exec_ok(conn, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", errstr,
                    errsz) != 0)
                return -1;

        r = PQexec(conn, "SELECT portfolio_id, ticker, quantity FROM positions "
                         "WHERE quantity <> 0");
        if (PQresultStatus(r) != PGRES_TUPLES_OK)
                goto sqlerr;
        for (int i = 0; i < PQntuples(r); i++) {
                if (owned && !owned(opaque, PQgetvalue(r, i, 0)))
                        continue;
                if (te_book_set_position(book, PQgetvalue(r, i, 0), PQgetvalue(r, i, 1),
                                         db_num(r, i, 2, "position")) != 0)
                        goto oom;
        }
        PQclear(r);

        r = PQexec(conn, "SELECT portfolio_id, '', balance FROM cash");
        if (PQresultStatus(r) != PGRES_TUPLES_OK)
                goto sqlerr;
        for (int i = 0; i < PQntuples(r); i++) {
                if (owned && !owned(opaque, PQgetvalue(r, i, 0)))
                        continue;
                if (te_book_set_cash(book, PQgetvalue(r, i, 0),
                                     db_num(r, i, 2, "cash")) != 0)
                        goto oom;
        }
        PQclear(r);

        r = PQexec(conn, "SELECT order_id, portfolio_id, ticker, side, "
                         "cum_qty + leaves_qty, cum_qty, status, mode "
                         "FROM orders");
        if (PQresultStatus(r) != PGRES_TUPLES_OK)
                goto sqlerr;
        for (int i = 0; i < PQntuples(r); i++) {
                if (owned && !owned(opaque, PQgetvalue(r, i, 1)))
                        continue;
                int mode =
                    te_enum_parse(te_mode_names, TE_MODE__CNT, PQgetvalue(r, i, 7));
                if (mode >= 0 &&
                    te_book_set_mode(book, PQgetvalue(r, i, 1), (te_mode_t)mode) != 0)
                        goto oom;
                int side =
                    te_enum_parse(te_side_names, TE_SIDE__CNT, PQgetvalue(r, i, 3));
                int st =
                    te_enum_parse(te_order_status_names, TE_OS__CNT, PQgetvalue(r, i, 6));
                if (side < 0 || st < 0) {
                        snprintf(errstr, errsz, "orders row %s: bad side or status",
                                 PQgetvalue(r, i, 0));
                        goto err;
                }
                if (te_book_add_order(book, PQgetvalue(r, i, 0), PQgetvalue(r, i, 1),
                                      PQgetvalue(r, i, 2), (te_side_t)side,
                                      db_num(r, i, 4, "order quantity"),
                                      db_num(r, i, 5, "order cum_qty"),
                                      (te_order_status_t)st) != 0)
                        goto oom;
        }
        PQclear(r);

        r = NULL;
        if (te_pg_offsets(conn, "consumer_offsets", sink_group, reports_topic, offsets,
                          (int)n_parts) < 0)
                goto sqlerr;
        return exec_ok(conn, "COMMIT", errstr, errsz);

sqlerr:
        snprintf(errstr, errsz, "load: %s", PQerrorMessage(conn));
        goto err;
oom:
        snprintf(errstr, errsz, "load: out of memory");
err:
        PQclear(r);
        r = PQexec(conn, "ROLLBACK");
        PQclear(r);
        return -1;
}

/* ---- planner state ------------------------------------------------------------- */

int te_planner_db_state_load(PGconn *conn, const char *group, const char *orders_topic,
                             int (*owned)(void *opaque, const char *portfolio_id),
                             void *opaque, te_book_t *book, int64_t *orders_offsets,
                             size_t n_parts, char *errstr, size_t errsz)
{
        for (size_t i = 0; i < n_parts; i++)
                orders_offsets[i] = -1;
        const char *p1[1] = {group};
        PGresult *r =
            PQexecParams(conn,
                         "SELECT portfolio_id, last_as_of FROM planner_portfolios "
                         "WHERE consumer_group = $1",
                         1, NULL, p1, NULL, NULL, 0);
        if (PQresultStatus(r) != PGRES_TUPLES_OK)
                goto sqlerr;
        for (int i = 0; i < PQntuples(r); i++) {
                if (owned && !owned(opaque, PQgetvalue(r, i, 0)))
                        continue;
                if (te_book_learn_as_of(book, PQgetvalue(r, i, 0),
                                        strtoll(PQgetvalue(r, i, 1), NULL, 10)) != 0) {
                        snprintf(errstr, errsz, "state: out of memory");
                        PQclear(r);
                        return -1;
                }
        }
        PQclear(r);
        if (te_pg_offsets(conn, "planner_orders_offsets", group, orders_topic,
                          orders_offsets, (int)n_parts) >= 0)
                return 0;
        r = NULL;
sqlerr:
        snprintf(errstr, errsz, "state load: %s", PQerrorMessage(conn));
        PQclear(r);
        return -1;
}

/* Append `s` as an element of a PostgreSQL array literal ("{a,b}"), quoted. */
static int arr_add(te_buf_t *b, const char *s)
{
        if (b->len > 1 && te_buf_puts(b, ",") != 0)
                return -1;
        if (te_buf_puts(b, "\"") != 0)
                return -1;
        for (; *s; s++) {
                if ((*s == '"' || *s == '\\') && te_buf_puts(b, "\\") != 0)
                        return -1;
                if (te_buf_append(b, s, 1) != 0)
                        return -1;
        }
        return te_buf_puts(b, "\"");
}

int te_planner_db_state_save(PGconn *conn, const char *group, const char *orders_topic,
                             const char *const *portfolio_ids, const int64_t *as_ofs,
                             size_t n_pf, const int32_t *parts, const int64_t *offsets,
                             size_t n_off, char *errstr, size_t errsz)
{
        te_buf_t pids, asofs, ps, offs;
        char num[32];
        int rc = -1;
        te_buf_init(&pids, 64u << 20);
        te_buf_init(&asofs, 64u << 20);
        te_buf_init(&ps, 1u << 20);
        te_buf_init(&offs, 1u << 20);
        int bad = te_buf_puts(&pids, "{") | te_buf_puts(&asofs, "{") |
                  te_buf_puts(&ps, "{") | te_buf_puts(&offs, "{");
        for (size_t i = 0; i < n_pf && !bad; i++) {
                snprintf(num, sizeof num, "%lld", (long long)as_ofs[i]);
                bad |= arr_add(&pids, portfolio_ids[i]) | arr_add(&asofs, num);
        }
        for (size_t i = 0; i < n_off && !bad; i++) {
                snprintf(num, sizeof num, "%d", (int)parts[i]);
                bad |= arr_add(&ps, num);
                snprintf(num, sizeof num, "%lld", (long long)offsets[i]);
                bad |= arr_add(&offs, num);
        }
        bad |= te_buf_puts(&pids, "}") | te_buf_puts(&asofs, "}") |
               te_buf_puts(&ps, "}") | te_buf_puts(&offs, "}");
        if (bad || !te_buf_cstr(&pids) || !te_buf_cstr(&asofs) || !te_buf_cstr(&ps) ||
            !te_buf_cstr(&offs)) {
                snprintf(errstr, errsz, "state save: too large");
                goto out;
        }
        const char *params[6] = {group,
                                 orders_topic,
                                 (const char *)pids.data,
                                 (const char *)asofs.data,
                                 (const char *)ps.data,
                                 (const char *)offs.data};
        /* one statement, so one implicit transaction */
        PGresult *r = PQexecParams(
            conn,
            "WITH pf AS (INSERT INTO planner_portfolios AS t (consumer_group, "
            "portfolio_id, "
            "  last_as_of) SELECT $1, p, a FROM unnest($3::text[], $4::bigint[]) AS u(p, "
            "a) "
            "  ON CONFLICT (consumer_group, portfolio_id) DO UPDATE SET "
            "  last_as_of = GREATEST(t.last_as_of, EXCLUDED.last_as_of), updated_at = "
            "now() "
            "  RETURNING 1) "
            "INSERT INTO planner_orders_offsets AS o (consumer_group, topic, "
            "kafka_partition, "
            "  next_offset) SELECT $1, $2, p, n FROM unnest($5::int[], $6::bigint[]) AS "
            "u(p, n) "
            "ON CONFLICT (consumer_group, topic, kafka_partition) DO UPDATE SET "
            "  next_offset = EXCLUDED.next_offset, updated_at = now()",
            6, NULL, params, NULL, NULL, 0);
        if (PQresultStatus(r) != PGRES_COMMAND_OK)
                snprintf(errstr, errsz, "state save: %s", PQerrorMessage(conn));
        else
                rc = 0;
        PQclear(r);
out:
        te_buf_free(&pids);
        te_buf_free(&asofs);
        te_buf_free(&ps);
        te_buf_free(&offs);
        return rc;
}

int te_planner_db_dead_letter(PGconn *conn, const char *topic, int32_t partition,
                              int64_t offset, const char *portfolio_id,
                              const char *decision_id, int64_t as_of, const char *code,
                              char *errstr, size_t errsz)
{
        char part[16], off[32], asof[32];
        snprintf(part, sizeof part, "%d", (int)partition);
        snprintf(off, sizeof off, "%lld", (long long)offset);
        snprintf(asof, sizeof asof, "%lld", (long long)as_of);
        const char *params[7] = {topic, part, off, portfolio_id, decision_id, asof, code};
        PGresult *r = PQexecParams(
            conn,
            "INSERT INTO planner_dead_letters (source_topic, source_partition, "
            "source_offset, portfolio_id, decision_id, as_of, reason) "
            "VALUES ($1, $2::int, $3::bigint, $4, $5, $6::bigint, $7) "
            "ON CONFLICT DO NOTHING",
            7, NULL, params, NULL, NULL, 0);
        int rc = 0;
        if (PQresultStatus(r) != PGRES_COMMAND_OK) {
                te_errf(errstr, errsz, "%s", PQerrorMessage(conn));
                rc = -1;
        }
        PQclear(r);
        return rc;
}

/* ---- price cache ---------------------------------------------------------------- */

int te_planner_db_bars_end(PGconn *conn, int64_t *end_ms, char *errstr, size_t errsz)
{
        PGresult *r = PQexec(conn, "SELECT (max(date) - DATE '1970-01-01')::bigint "
                                   "FROM prices_daily");
        if (PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) != 1) {
                te_errf(errstr, errsz, "last bar date: %s", PQerrorMessage(conn));
                PQclear(r);
                return -1;
        }
        if (PQgetisnull(r, 0, 0)) {
                PQclear(r);
                return 0;
        }
        long long day = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
        PQclear(r);
        *end_ms = (int64_t)(day + 1) * 86400000LL;
        return 1;
}

struct te_planner_db_prices_s {
        PGconn *conn;
        int64_t day;       /* UTC day (days since epoch) the prices are for; -1: none */
        te_map_t *prices;  /* ticker -> double* */
        te_map_t *tickers; /* every ticker with market data -> (void *)1 */
        int tickers_loaded;
        time_t
            tickers_at; /* when the ticker list was read (re-read on a miss after 60 s) */
        int empty;      /* prices_daily has no rows: accept every ticker */
        int failed; /* a DB read failed since te_planner_db_prices_failure last asked */
        char err[256]; /* the first such failure's message */
};

/* A read of prices_daily failed: its answer is "unknown now", not "none". */
static void read_failed(te_planner_db_prices_t *pc)
{
        if (!pc->failed)
                te_strlcpy(pc->err, PQerrorMessage(pc->conn), sizeof pc->err);
        pc->failed = 1;
        TE_LOG(TE_LOG_ERROR, NULL, "planner.prices", "%s", PQerrorMessage(pc->conn));
}

int te_planner_db_prices_failure(te_planner_db_prices_t *pc, char *errstr, size_t errsz)
{
        int failed = pc->failed;
        if (failed && errstr && errsz) {
                /* libpq's messages end with a newline */
                te_strlcpy(errstr, pc->err, errsz);
                size_t n = strlen(errstr);
                while (n > 0 && (errstr[n - 1] == '\n' || errstr[n - 1] == '\r'))
                        errstr[--n] = '\0';
        }
        pc->failed = 0;
        return failed;
}

te_planner_db_prices_t *te_planner_db_prices_new(PGconn *conn)
{
        te_planner_db_prices_t *pc = calloc(1, sizeof *pc);
        if (!pc)
                return NULL;
        pc->conn = conn;
        pc->day = -1;
        pc->prices = te_map_new();
        pc->tickers = te_map_new();
        if (!pc->prices || !pc->tickers) {
                te_planner_db_prices_destroy(pc);
                return NULL;
        }
        return pc;
}

void te_planner_db_prices_destroy(te_planner_db_prices_t *pc)
{
        if (!pc)
                return;
        te_map_destroy(pc->prices, free);
        te_map_destroy(pc->tickers, NULL);
        free(pc);
}

static int64_t utc_day(int64_t ms)
{
        int64_t d = ms / 86400000;
        if (ms < 0 && ms % 86400000)
                d--;
        return d;
}

static int load_day(te_planner_db_prices_t *pc, int64_t day)
{
        char dbuf[32];
        snprintf(dbuf, sizeof dbuf, "%lld", (long long)day);
        const char *params[1] = {dbuf};
        PGresult *r = PQexecParams(
            pc->conn,
            "SELECT DISTINCT ON (ticker) ticker, close FROM prices_daily "
            "WHERE date <= DATE '1970-01-01' + $1::int ORDER BY ticker, date DESC",
            1, NULL, params, NULL, NULL, 0);
        if (PQresultStatus(r) != PGRES_TUPLES_OK) {
                read_failed(pc);
                PQclear(r);
                return -1;
        }
        te_map_destroy(pc->prices, free);
        pc->prices = te_map_new();
        pc->day = -1;
        if (!pc->prices) {
                PQclear(r);
                return -1;
        }
        for (int i = 0; i < PQntuples(r); i++) {
                double *px = malloc(sizeof *px);
                if (!px) {
                        PQclear(r);
                        return -1;
                }
                *px = strtod(PQgetvalue(r, i, 1), NULL);
                if (te_map_put(pc->prices, PQgetvalue(r, i, 0), px) != 0) {
                        free(px);
                        PQclear(r);
                        return -1;
                }
        }
        PQclear(r);
        pc->day = day;
        return 0;
}

int te_planner_db_prices_get(void *opaque, const char *ticker, int64_t as_of_ms,
                             double *px)
{
        te_planner_db_prices_t *pc = opaque;
        int64_t day = utc_day(as_of_ms);
        if (pc->day != day && load_day(pc, day) != 0)
                return 0;
        const double *v = te_map_get(pc->prices, ticker);
        if (!v)
                return 0;
        *px = *v;
        return 1;
}

int te_planner_db_prices_known(void *opaque, const char *ticker)
{
        te_planner_db_prices_t *pc = opaque;
        if (pc->tickers_loaded && !pc->empty && !te_map_get(pc->tickers, ticker) &&
            time(NULL) - pc->tickers_at >= 60) {
                /* market data may have been loaded since: read the list again */
                te_map_destroy(pc->tickers, NULL);
                pc->tickers = te_map_new();
                pc->tickers_loaded = 0;
                if (!pc->tickers)
                        return 1;
        }
        if (!pc->tickers_loaded) {
                PGresult *r =
                    PQexec(pc->conn, "SELECT DISTINCT ticker FROM prices_daily");
                if (PQresultStatus(r) != PGRES_TUPLES_OK) {
                        read_failed(pc);
                        PQclear(r);
                        return 1;
                }
                for (int i = 0; i < PQntuples(r); i++)
                        if (te_map_put(pc->tickers, PQgetvalue(r, i, 0), (void *)1) !=
                            0) {
                                PQclear(r);
                                return 1;
                        }
                pc->empty = PQntuples(r) == 0;
                pc->tickers_loaded = 1;
                pc->tickers_at = time(NULL);
                PQclear(r);
        }
        return pc->empty || te_map_get(pc->tickers, ticker) != NULL;
}
