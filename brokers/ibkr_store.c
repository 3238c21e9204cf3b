/*
 * ibkr_store: runtime-DB persistence of the Interactive Brokers adapter (see
 * ibkr_store.h). Parameters always go through PQexecParams, never into SQL text.
 */
#include "ibkr_store.h"

#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "te_buf.h"
#include "te_pg.h"

struct te_ibkr_store_s {
        PGconn *conn;
        int client_id;
        char client_s[16];
        char account[TE_NAME_MAX];
};

/* 0 when r has status `want`; else -1 with errstr, r cleared. */
static int res_ok(PGresult *r, ExecStatusType want, const char *what, char *errstr,
                  size_t errsz)
{
        if (r && PQresultStatus(r) == want)
                return 0;
        snprintf(errstr, errsz, "%s: %s", what,
                 r ? PQresultErrorMessage(r) : "no result");
        PQclear(r);
        return -1;
}

static int exec_cmd(te_ibkr_store_t *s, const char *sql, int n, const char *const *v,
                    const char *what, char *errstr, size_t errsz)
{
        PGresult *r = PQexecParams(s->conn, sql, n, NULL, v, NULL, NULL, 0);
        if (res_ok(r, PGRES_COMMAND_OK, what, errstr, errsz) != 0)
                return -1;
        PQclear(r);
        return 0;
}

te_ibkr_store_t *te_ibkr_store_open(const char *conninfo, int client_id,
                                    const char *account, char *errstr, size_t errsz)
{
        te_ibkr_store_t *s = calloc(1, sizeof *s);
        if (!s) {
                snprintf(errstr, errsz, "out of memory");
                return NULL;
        }
        s->client_id = client_id;
        snprintf(s->client_s, sizeof s->client_s, "%d", client_id);
        te_strlcpy(s->account, account, sizeof s->account);
        s->conn = te_pg_connect(conninfo, errstr, errsz);
        if (!s->conn)
                goto err;
        if (te_pg_migrate(s->conn, errstr, errsz) < 0)
                goto err;
        return s;
err:
        te_ibkr_store_close(s);
        return NULL;
}

void te_ibkr_store_close(te_ibkr_store_t *s)
{
        if (!s)
                return;
        if (s->conn)
                PQfinish(s->conn);
        free(s);
}

int te_ibkr_store_next_id(te_ibkr_store_t *s, int64_t *next_id, char *errstr,
                          size_t errsz)
{
        const char *v[] = {s->client_s, s->account};
        PGresult *r = PQexecParams(s->conn,
                                   "SELECT next_order_id FROM ibkr_order_ids "
                                   "WHERE client_id = $1 AND account = $2",
                                   2, NULL, v, NULL, NULL, 0);
        if (res_ok(r, PGRES_TUPLES_OK, "ibkr_order_ids", errstr, errsz) != 0)
                return -1;
        *next_id = PQntuples(r) ? strtoll(PQgetvalue(r, 0, 0), NULL, 10) : 0;
        PQclear(r);
        return 0;
}

static const char SQL_HWM[] =
    "INSERT INTO ibkr_order_ids (client_id, account, next_order_id) VALUES ($1, $2, $3) "
    "ON CONFLICT (client_id, account) DO UPDATE SET next_order_id = "
    "GREATEST(ibkr_order_ids.next_order_id, EXCLUDED.next_order_id), updated_at = now()";

static int raise_hwm(te_ibkr_store_t *s, int64_t tws_id, char *errstr, size_t errsz)
{
        char next[32];
        snprintf(next, sizeof next, "%lld", (long long)(tws_id + 1));
        const char *v[] = {s->client_s, s->account, next};
        return exec_cmd(s, SQL_HWM, 3, v, "ibkr_order_ids", errstr, errsz);
}

int te_ibkr_store_add_order(te_ibkr_store_t *s, const te_order_cmd_t *c,
                            const char *account, int64_t tws_id, char *errstr,
                            size_t errsz)
{
        char tws[32], qty[40], lmt[40], stp[40], et[32];
        snprintf(tws, sizeof tws, "%lld", (long long)tws_id);
        te_fmt_double(qty, sizeof qty, c->quantity);
        te_fmt_double(lmt, sizeof lmt, c->limit_price);
        te_fmt_double(stp, sizeof stp, c->stop_price);
        snprintf(et, sizeof et, "%lld", (long long)c->event_time);
        const char *v[] = {c->order_id,
                           s->client_s,
                           account,
                           tws_id > 0 ? tws : NULL,
                           c->ids.decision_id,
                           c->ids.portfolio_id,
                           c->ids.strategy_id,
                           c->ids.profile_version_id,
                           c->ids.regime_id,
                           c->ids.universe_id,
                           c->ticker,
                           te_side_name(c->side),
                           qty,
                           te_order_type_name(c->order_type),
                           c->has_limit_price ? lmt : NULL,
                           c->has_stop_price ? stp : NULL,
                           te_tif_name(c->tif),
                           et};
        if (te_pg_exec(s->conn, "BEGIN", errstr, errsz) != 0)
                return -1;
        PGresult *r = PQexecParams(
            s->conn,
            "INSERT INTO ibkr_orders (order_id, client_id, account, tws_order_id, "
            "decision_id, portfolio_id, strategy_id, profile_version_id, regime_id, "
            "universe_id, ticker, side, quantity, order_type, limit_price, stop_price, "
            "tif, event_time) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,"
            "$15,$16,$17,$18) ON CONFLICT (order_id) DO NOTHING",
            18, NULL, v, NULL, NULL, 0);
        if (res_ok(r, PGRES_COMMAND_OK, "ibkr_orders", errstr, errsz) != 0)
                goto rollback;
        int inserted = strtol(PQcmdTuples(r), NULL, 10) == 1;
        PQclear(r);
        if (inserted && tws_id > 0 && raise_hwm(s, tws_id, errstr, errsz) != 0)
                goto rollback;
        if (te_pg_exec(s->conn, "COMMIT", errstr, errsz) != 0)
                return -1;
        return inserted;
rollback:
        (void)PQclear(PQexec(s->conn, "ROLLBACK"));
        return -1;
}

int te_ibkr_store_set_tws_id(te_ibkr_store_t *s, const char *order_id, int64_t tws_id,
                             char *errstr, size_t errsz)
{
        char tws[32];
        snprintf(tws, sizeof tws, "%lld", (long long)tws_id);
        const char *v[] = {order_id, tws};
        if (te_pg_exec(s->conn, "BEGIN", errstr, errsz) != 0)
                return -1;
        if (exec_cmd(s,
                     "UPDATE ibkr_orders SET tws_order_id = $2, updated_at = now() "
                     "WHERE order_id = $1",
                     2, v, "ibkr_orders", errstr, errsz) != 0 ||
            raise_hwm(s, tws_id, errstr, errsz) != 0) {
                (void)PQclear(PQexec(s->conn, "ROLLBACK"));
                return -1;
        }
        return te_pg_exec(s->conn, "COMMIT", errstr, errsz);
}

int te_ibkr_store_set_status(te_ibkr_store_t *s, const char *order_id, const char *status,
                             int terminal, char *errstr, size_t errsz)
{
        const char *v[] = {order_id, status, terminal ? "true" : "false"};
        return exec_cmd(s,
                        "UPDATE ibkr_orders SET status = $2, terminal = $3, "
                        "updated_at = now() WHERE order_id = $1",
                        3, v, "ibkr_orders", errstr, errsz);
}

int te_ibkr_store_set_terms(te_ibkr_store_t *s, const te_order_cmd_t *c, char *errstr,
                            size_t errsz)
{
        char qty[40], lmt[40], stp[40];
        te_fmt_double(qty, sizeof qty, c->quantity);
        te_fmt_double(lmt, sizeof lmt, c->limit_price);
        te_fmt_double(stp, sizeof stp, c->stop_price);
        const char *v[] = {c->order_id, qty, c->has_limit_price ? lmt : NULL,
                           c->has_stop_price ? stp : NULL};
        return exec_cmd(s,
                        "UPDATE ibkr_orders SET quantity = $2, limit_price = $3, "
                        "stop_price = $4, updated_at = now() WHERE order_id = $1",
                        4, v, "ibkr_orders", errstr, errsz);
}

int te_ibkr_store_set_exec_commission(te_ibkr_store_t *s, const char *exec_id,
                                      double commission, char *errstr, size_t errsz)
{
        char cm[40];
        te_fmt_double(cm, sizeof cm, commission);
        const char *v[] = {exec_id, cm};
        return exec_cmd(s, "UPDATE ibkr_execs SET commission = $2 WHERE exec_id = $1", 2,
                        v, "ibkr_execs", errstr, errsz);
}

int te_ibkr_store_add_execs(te_ibkr_store_t *s, const te_ibkr_exec_row_t *x, size_t n,
                            char *errstr, size_t errsz)
{
        if (n == 0)
                return 0;
        if (te_pg_exec(s->conn, "BEGIN", errstr, errsz) != 0)
                return -1;
        for (size_t i = 0; i < n; i++) {
                char sh[40], px[40], cm[40];
                te_fmt_double(sh, sizeof sh, x[i].shares);
                te_fmt_double(px, sizeof px, x[i].price);
                te_fmt_double(cm, sizeof cm, x[i].commission);
                const char *v[] = {x[i].exec_id, x[i].order_id, sh, px, cm};
                if (exec_cmd(s,
                             "INSERT INTO ibkr_execs (exec_id, order_id, shares, price, "
                             "commission) VALUES ($1,$2,$3,$4,$5) "
                             "ON CONFLICT (exec_id) DO NOTHING",
                             5, v, "ibkr_execs", errstr, errsz) != 0) {
                        (void)PQclear(PQexec(s->conn, "ROLLBACK"));
                        return -1;
                }
        }
        return te_pg_exec(s->conn, "COMMIT", errstr, errsz);
}

int te_ibkr_store_positions(te_ibkr_store_t *s, const char *account, te_ibkr_pos_cb cb,
                            void *ctx, long *shared, char *errstr, size_t errsz)
{
        const char *v[] = {account};
        PGresult *r = PQexecParams(
            s->conn,
            "SELECT p.ticker, sum(p.quantity)::float8 FROM positions p "
            "WHERE p.portfolio_id IN (SELECT portfolio_id FROM ibkr_orders "
            "GROUP BY portfolio_id HAVING min(account) = $1 AND max(account) = $1) "
            "GROUP BY p.ticker ORDER BY p.ticker",
            1, NULL, v, NULL, NULL, 0);
        if (res_ok(r, PGRES_TUPLES_OK, "positions", errstr, errsz) != 0)
                return -1;
        for (int i = 0; i < PQntuples(r); i++)
                if (cb(ctx, PQgetvalue(r, i, 0), strtod(PQgetvalue(r, i, 1), NULL)) !=
                    0) {
                        PQclear(r);
                        snprintf(errstr, errsz, "positions: callback failed");
                        return -1;
                }
        PQclear(r);
        r = PQexec(s->conn,
                   "SELECT count(*) FROM (SELECT portfolio_id FROM ibkr_orders "
                   "GROUP BY portfolio_id HAVING count(DISTINCT account) > 1) x");
        if (res_ok(r, PGRES_TUPLES_OK, "ibkr_orders", errstr, errsz) != 0)
                return -1;
        *shared = strtol(PQgetvalue(r, 0, 0), NULL, 10);
        PQclear(r);
        return 0;
}

static const char SQL_ROW_COLS[] =
    "SELECT order_id, account, COALESCE(tws_order_id, 0), decision_id, portfolio_id, "
    "strategy_id, profile_version_id, regime_id, universe_id, ticker, side, quantity, "
    "order_type, limit_price, stop_price, tif, event_time, terminal, status "
    "FROM ibkr_orders ";

static int rows_out(PGresult *r, te_ibkr_row_cb cb, void *ctx)
{
        for (int i = 0; i < PQntuples(r); i++) {
                te_ibkr_row_t row;
                memset(&row, 0, sizeof row);
                te_order_cmd_t *c = &row.cmd;
                c->command = TE_CMD_NEW;
                c->mode = TE_MODE_PRODUCTION;
                te_strlcpy(c->order_id, PQgetvalue(r, i, 0), sizeof c->order_id);
                te_strlcpy(row.account, PQgetvalue(r, i, 1), sizeof row.account);
                row.tws_id = strtoll(PQgetvalue(r, i, 2), NULL, 10);
                te_strlcpy(c->ids.decision_id, PQgetvalue(r, i, 3),
                           sizeof c->ids.decision_id);
                te_strlcpy(c->ids.portfolio_id, PQgetvalue(r, i, 4),
                           sizeof c->ids.portfolio_id);
                te_strlcpy(c->ids.strategy_id, PQgetvalue(r, i, 5),
                           sizeof c->ids.strategy_id);
                te_strlcpy(c->ids.profile_version_id, PQgetvalue(r, i, 6),
                           sizeof c->ids.profile_version_id);
                te_strlcpy(c->ids.regime_id, PQgetvalue(r, i, 7),
                           sizeof c->ids.regime_id);
                te_strlcpy(c->ids.universe_id, PQgetvalue(r, i, 8),
                           sizeof c->ids.universe_id);
                te_strlcpy(c->ticker, PQgetvalue(r, i, 9), sizeof c->ticker);
                int side =
                    te_enum_parse(te_side_names, TE_SIDE__CNT, PQgetvalue(r, i, 10));
                c->side = side < 0 ? TE_SIDE_BUY : (te_side_t)side;
                c->quantity = strtod(PQgetvalue(r, i, 11), NULL);
                int ot =
                    te_enum_parse(te_order_type_names, TE_OT__CNT, PQgetvalue(r, i, 12));
                c->order_type = ot < 0 ? TE_OT_MARKET : (te_order_type_t)ot;
                c->has_limit_price = !PQgetisnull(r, i, 13);
                c->limit_price =
                    c->has_limit_price ? strtod(PQgetvalue(r, i, 13), NULL) : 0;
                c->has_stop_price = !PQgetisnull(r, i, 14);
                c->stop_price =
                    c->has_stop_price ? strtod(PQgetvalue(r, i, 14), NULL) : 0;
                int tif = te_enum_parse(te_tif_names, TE_TIF__CNT, PQgetvalue(r, i, 15));
                c->tif = tif < 0 ? TE_TIF_DAY : (te_tif_t)tif;
                c->event_time = strtoll(PQgetvalue(r, i, 16), NULL, 10);
                row.terminal = PQgetvalue(r, i, 17)[0] == 't';
                te_strlcpy(row.status, PQgetvalue(r, i, 18), sizeof row.status);
                if (cb(ctx, &row) != 0)
                        return -1;
        }
        return 0;
}

static int execs_out(PGresult *r, te_ibkr_exec_cb cb, void *ctx)
{
        for (int i = 0; i < PQntuples(r); i++) {
                te_ibkr_exec_row_t x;
                memset(&x, 0, sizeof x);
                te_strlcpy(x.exec_id, PQgetvalue(r, i, 0), sizeof x.exec_id);
                te_strlcpy(x.order_id, PQgetvalue(r, i, 1), sizeof x.order_id);
                x.shares = strtod(PQgetvalue(r, i, 2), NULL);
                x.price = strtod(PQgetvalue(r, i, 3), NULL);
                x.commission = strtod(PQgetvalue(r, i, 4), NULL);
                if (cb(ctx, &x) != 0)
                        return -1;
        }
        return 0;
}

static int load(te_ibkr_store_t *s, const char *where, const char *exec_where, int n,
                const char *const *v, te_ibkr_row_cb row_cb, te_ibkr_exec_cb exec_cb,
                void *ctx, char *errstr, size_t errsz)
{
        char sql[1024];
        snprintf(sql, sizeof sql, "%s%s ORDER BY created_at, order_id", SQL_ROW_COLS,
                 where);
        PGresult *r = PQexecParams(s->conn, sql, n, NULL, v, NULL, NULL, 0);
        if (res_ok(r, PGRES_TUPLES_OK, "ibkr_orders", errstr, errsz) != 0)
                return -1;
        int found = PQntuples(r);
        int rc = rows_out(r, row_cb, ctx);
        PQclear(r);
        if (rc != 0) {
                snprintf(errstr, errsz, "ibkr_orders: load callback failed");
                return -1;
        }
        snprintf(sql, sizeof sql,
                 "SELECT x.exec_id, x.order_id, x.shares, x.price, x.commission "
                 "FROM ibkr_execs x JOIN ibkr_orders o USING (order_id) %s "
                 "ORDER BY x.recorded_at, x.exec_id",
                 exec_where);
        r = PQexecParams(s->conn, sql, n, NULL, v, NULL, NULL, 0);
        if (res_ok(r, PGRES_TUPLES_OK, "ibkr_execs", errstr, errsz) != 0)
                return -1;
        rc = execs_out(r, exec_cb, ctx);
        PQclear(r);
        if (rc != 0) {
                snprintf(errstr, errsz, "ibkr_execs: load callback failed");
                return -1;
        }
        return found;
}

int te_ibkr_store_load_open(te_ibkr_store_t *s, te_ibkr_row_cb row_cb,
                            te_ibkr_exec_cb exec_cb, void *ctx, char *errstr,
                            size_t errsz)
{
        const char *v[] = {s->client_s};
        int rc = load(s, "WHERE client_id = $1 AND NOT terminal",
                      "WHERE o.client_id = $1 AND NOT o.terminal", 1, v, row_cb, exec_cb,
                      ctx, errstr, errsz);
        return rc < 0 ? -1 : 0;
}

int te_ibkr_store_load_order(te_ibkr_store_t *s, const char *order_id,
                             te_ibkr_row_cb row_cb, te_ibkr_exec_cb exec_cb, void *ctx,
                             char *errstr, size_t errsz)
{
        const char *v[] = {s->client_s, order_id};
        int rc = load(s, "WHERE client_id = $1 AND order_id = $2",
                      "WHERE o.client_id = $1 AND o.order_id = $2", 2, v, row_cb, exec_cb,
                      ctx, errstr, errsz);
        return rc < 0 ? -1 : rc > 0;
}
