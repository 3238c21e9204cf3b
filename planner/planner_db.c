/*
 * planner_db: snapshot read of positions, orders and sink offsets.
 */
#include "planner_db.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "te_msg.h"

static int exec_ok(PGconn *c, const char *sql, char *errstr, size_t errstr_size)
{
        PGresult *r = PQexec(c, sql);
        int ok = PQresultStatus(r) == PGRES_COMMAND_OK;
        if (!ok)
                snprintf(errstr, errstr_size, "%s: %s", sql, PQerrorMessage(c));
        PQclear(r);
        return ok ? 0 : -1;
}

int te_planner_db_load(PGconn *conn, const char *sink_group, const char *reports_topic,
                       te_book_t *book, int64_t *offsets, size_t n_parts, char *errstr,
                       size_t errstr_size)
{
        PGresult *r = NULL;
        for (size_t i = 0; i < n_parts; i++)
                offsets[i] = -1;
        if (exec_ok(conn, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", errstr,
                    errstr_size) != 0)
                return -1;

        r = PQexec(conn, "SELECT portfolio_id, ticker, quantity::float8 FROM positions "
                         "WHERE quantity <> 0");
        if (PQresultStatus(r) != PGRES_TUPLES_OK)
                goto sqlerr;
        for (int i = 0; i < PQntuples(r); i++) {
                if (te_book_set_position(book, PQgetvalue(r, i, 0), PQgetvalue(r, i, 1),
                                         strtod(PQgetvalue(r, i, 2), NULL)) != 0)
                        goto oom;
        }
        PQclear(r);

        r = PQexec(conn,
                   "SELECT order_id, portfolio_id, ticker, side, "
                   "(cum_qty + leaves_qty)::float8, cum_qty::float8, status FROM orders");
        if (PQresultStatus(r) != PGRES_TUPLES_OK)
                goto sqlerr;
        for (int i = 0; i < PQntuples(r); i++) {
                int side =
                    te_enum_parse(te_side_names, TE_SIDE__CNT, PQgetvalue(r, i, 3));
                int st =
                    te_enum_parse(te_order_status_names, TE_OS__CNT, PQgetvalue(r, i, 6));
                if (side < 0 || st < 0) {
                        snprintf(errstr, errstr_size, "orders row %s: bad side or status",
                                 PQgetvalue(r, i, 0));
                        goto err;
                }
                if (te_book_add_order(book, PQgetvalue(r, i, 0), PQgetvalue(r, i, 1),
                                      PQgetvalue(r, i, 2), (te_side_t)side,
                                      strtod(PQgetvalue(r, i, 4), NULL),
                                      strtod(PQgetvalue(r, i, 5), NULL),
                                      (te_order_status_t)st) != 0)
                        goto oom;
        }
        PQclear(r);

        const char *params[2] = {sink_group, reports_topic};
        r = PQexecParams(conn,
                         "SELECT kafka_partition, next_offset FROM consumer_offsets "
                         "WHERE consumer_group = $1 AND topic = $2",
                         2, NULL, params, NULL, NULL, 0);
        if (PQresultStatus(r) != PGRES_TUPLES_OK)
                goto sqlerr;
        for (int i = 0; i < PQntuples(r); i++) {
                long p = strtol(PQgetvalue(r, i, 0), NULL, 10);
                if (p >= 0 && (size_t)p < n_parts)
                        offsets[p] = strtoll(PQgetvalue(r, i, 1), NULL, 10);
        }
        PQclear(r);
        r = NULL;
        return exec_ok(conn, "COMMIT", errstr, errstr_size);

sqlerr:
        snprintf(errstr, errstr_size, "load: %s", PQerrorMessage(conn));
        goto err;
oom:
        snprintf(errstr, errstr_size, "load: out of memory");
err:
        PQclear(r);
        r = PQexec(conn, "ROLLBACK");
        PQclear(r);
        return -1;
}
