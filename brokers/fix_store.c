/*
 * fix_store: runtime-DB persistence of the FIX adapter (see fix_store.h). Parameters
 * always go through PQexecParams, never into SQL text.
 */
#include "fix_store.h"

#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fix_session.h"
#include "te_buf.h"
#include "te_pg.h"
#include "te_msg.h"

struct te_fix_store_s {
        PGconn *conn;
        char sender[TE_FIX_COMPID_MAX];
        char target[TE_FIX_COMPID_MAX];
};

te_fix_store_t *te_fix_store_open(const char *conninfo, const char *sender,
                                  const char *target, char *errstr, size_t errsz)
{
        te_fix_store_t *s = calloc(1, sizeof *s);
        if (!s) {
                te_errf(errstr, errsz, "out of memory");
                return NULL;
        }
        te_strlcpy(s->sender, sender, sizeof s->sender);
        te_strlcpy(s->target, target, sizeof s->target);
        s->conn = te_pg_connect(conninfo, errstr, errsz);
        if (!s->conn || te_pg_migrate(s->conn, errstr, errsz) < 0) {
                te_fix_store_close(s);
                return NULL;
        }
        return s;
}

void te_fix_store_close(te_fix_store_t *s)
{
        if (!s)
                return;
        if (s->conn)
                PQfinish(s->conn);
        free(s);
}

int te_fix_store_load_seqs(te_fix_store_t *s, int64_t *next_out, int64_t *next_in,
                           char *errstr, size_t errsz)
{
        const char *v[2] = {s->sender, s->target};
        PGresult *r = PQexecParams(s->conn,
                                   "SELECT next_out, next_in FROM fix_sessions "
                                   "WHERE sender_comp_id = $1 AND target_comp_id = $2",
                                   2, NULL, v, NULL, NULL, 0);
        int rc = -1;
        if (!r || PQresultStatus(r) != PGRES_TUPLES_OK) {
                te_errf(errstr, errsz, "load fix_sessions: %s",
                        r ? PQresultErrorMessage(r) : PQerrorMessage(s->conn));
        } else if (PQntuples(r) == 0) {
                rc = 0;
        } else {
                char *e1, *e2;
                long long o = strtoll(PQgetvalue(r, 0, 0), &e1, 10);
                long long i = strtoll(PQgetvalue(r, 0, 1), &e2, 10);
                if (*e1 || *e2 || o < 1 || i < 1) {
                        te_errf(errstr, errsz, "fix_sessions: bad numbers");
                } else {
                        *next_out = o;
                        *next_in = i;
                        rc = 1;
                }
        }
        PQclear(r);
        return rc;
}

int te_fix_store_save_seqs(te_fix_store_t *s, int64_t next_out, int64_t next_in,
                           char *errstr, size_t errsz)
{
        char o[24], i[24];
        snprintf(o, sizeof o, "%lld", (long long)next_out);
        snprintf(i, sizeof i, "%lld", (long long)next_in);
        const char *v[4] = {s->sender, s->target, o, i};
        PGresult *r = PQexecParams(
            s->conn,
            "INSERT INTO fix_sessions (sender_comp_id, target_comp_id, next_out, "
            "next_in) "
            "VALUES ($1, $2, $3, $4) ON CONFLICT (sender_comp_id, target_comp_id) DO "
            "UPDATE SET next_out = EXCLUDED.next_out, next_in = EXCLUDED.next_in, "
            "updated_at = now()",
            4, NULL, v, NULL, NULL, 0);
        int rc = r && PQresultStatus(r) == PGRES_COMMAND_OK ? 0 : -1;
        if (rc != 0)
                te_errf(errstr, errsz, "save fix_sessions: %s",
                        r ? PQresultErrorMessage(r) : PQerrorMessage(s->conn));
        PQclear(r);
        if (rc != 0 && PQstatus(s->conn) == CONNECTION_BAD)
                PQreset(s->conn); /* the next call tries again on a new connection */
        return rc;
}

static int cmd_ok(te_fix_store_t *s, PGresult *r, ExecStatusType want, const char *what,
                  char *errstr, size_t errsz)
{
        if (r && PQresultStatus(r) == want)
                return 0;
        te_errf(errstr, errsz, "%s: %s", what,
                r ? PQresultErrorMessage(r) : PQerrorMessage(s->conn));
        if (PQstatus(s->conn) == CONNECTION_BAD)
                PQreset(s->conn);
        return -1;
}

int te_fix_store_save_order(te_fix_store_t *s, const te_fix_order_row_t *row,
                            char *errstr, size_t errsz)
{
        const te_order_cmd_t *c = &row->cmd;
        char qty[40], lim[40], stp[40], et[24], nc[16], nr[16], cum[40], val[40];
        te_fmt_double(qty, sizeof qty, c->quantity);
        te_fmt_double(lim, sizeof lim, c->limit_price);
        te_fmt_double(stp, sizeof stp, c->stop_price);
        te_fmt_double(cum, sizeof cum, row->cum);
        te_fmt_double(val, sizeof val, row->value);
        snprintf(et, sizeof et, "%lld", (long long)c->event_time);
        snprintf(nc, sizeof nc, "%d", row->n_cancel);
        snprintf(nr, sizeof nr, "%d", row->n_replace);
        const char *v[24] = {c->order_id,
                             s->sender,
                             s->target,
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
                             c->has_limit_price ? lim : NULL,
                             c->has_stop_price ? stp : NULL,
                             te_tif_name(c->tif),
                             et,
                             row->live_clordid,
                             nc,
                             nr,
                             row->sent ? "true" : "false",
                             row->terminal ? "true" : "false",
                             cum,
                             val};
        PGresult *r = PQexecParams(
            s->conn,
            "INSERT INTO fix_orders (order_id, sender_comp_id, target_comp_id, "
            "decision_id, "
            "portfolio_id, strategy_id, profile_version_id, regime_id, universe_id, "
            "ticker, "
            "side, quantity, order_type, limit_price, stop_price, tif, event_time, "
            "live_clordid, n_cancel, n_replace, sent, terminal, cum_qty, cum_value) "
            "VALUES "
            "($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, "
            "$17, "
            "$18, $19, $20, $21, $22, $23, $24) ON CONFLICT (order_id) DO UPDATE SET "
            "quantity = EXCLUDED.quantity, limit_price = EXCLUDED.limit_price, "
            "stop_price = EXCLUDED.stop_price, live_clordid = EXCLUDED.live_clordid, "
            "n_cancel = EXCLUDED.n_cancel, n_replace = EXCLUDED.n_replace, "
            "sent = EXCLUDED.sent, terminal = EXCLUDED.terminal, cum_qty = "
            "EXCLUDED.cum_qty, "
            "cum_value = EXCLUDED.cum_value, updated_at = now()",
            24, NULL, v, NULL, NULL, 0);
        int rc = cmd_ok(s, r, PGRES_COMMAND_OK, "save fix_orders", errstr, errsz);
        PQclear(r);
        return rc;
}

int te_fix_store_add_execs(te_fix_store_t *s, const char (*ids)[2][TE_ID_MAX], size_t n,
                           char *errstr, size_t errsz)
{
        for (size_t i = 0; i < n; i++) {
                const char *v[2] = {ids[i][0], ids[i][1]};
                PGresult *r = PQexecParams(s->conn,
                                           "INSERT INTO fix_execs (order_id, exec_id) "
                                           "VALUES ($1, $2) ON CONFLICT DO NOTHING",
                                           2, NULL, v, NULL, NULL, 0);
                int rc = cmd_ok(s, r, PGRES_COMMAND_OK, "save fix_execs", errstr, errsz);
                PQclear(r);
                if (rc != 0)
                        return -1;
        }
        return 0;
}

static double get_d(PGresult *r, int row, int col)
{
        return PQgetisnull(r, row, col) ? 0 : strtod(PQgetvalue(r, row, col), NULL);
}

int te_fix_store_load_ended(te_fix_store_t *s, int days, size_t max,
                            int (*cb)(void *ctx, const char *order_id), void *ctx,
                            char *errstr, size_t errsz)
{
        char d[16], m[24];
        snprintf(d, sizeof d, "%d", days);
        snprintf(m, sizeof m, "%zu", max);
        const char *v[4] = {s->sender, s->target, d, m};
        PGresult *r = PQexecParams(
            s->conn,
            "SELECT order_id FROM fix_orders WHERE sender_comp_id = $1 AND "
            "target_comp_id = $2 AND terminal AND updated_at > now() - "
            "make_interval(days => $3::integer) ORDER BY updated_at DESC LIMIT "
            "$4::bigint",
            4, NULL, v, NULL, NULL, 0);
        if (cmd_ok(s, r, PGRES_TUPLES_OK, "load ended fix_orders", errstr, errsz) != 0) {
                PQclear(r);
                return -1;
        }
        int n = PQntuples(r);
        for (int i = 0; i < n; i++)
                if (cb(ctx, PQgetvalue(r, i, 0)) != 0) {
                        te_errf(errstr, errsz, "loading ended fix_orders stopped");
                        PQclear(r);
                        return -1;
                }
        PQclear(r);
        return n;
}

int te_fix_store_load_open(te_fix_store_t *s, te_fix_row_cb row_cb,
                           te_fix_exec_cb exec_cb, void *ctx, char *errstr, size_t errsz)
{
        const char *v[2] = {s->sender, s->target};
        PGresult *r = PQexecParams(
            s->conn,
            "SELECT order_id, decision_id, portfolio_id, strategy_id, "
            "profile_version_id, "
            "regime_id, universe_id, ticker, side, quantity, order_type, limit_price, "
            "stop_price, tif, event_time, live_clordid, n_cancel, n_replace, sent, "
            "cum_qty, "
            "cum_value FROM fix_orders WHERE sender_comp_id = $1 AND target_comp_id = $2 "
            "AND NOT terminal ORDER BY order_id",
            2, NULL, v, NULL, NULL, 0);
        if (cmd_ok(s, r, PGRES_TUPLES_OK, "load fix_orders", errstr, errsz) != 0) {
                PQclear(r);
                return -1;
        }
        for (int i = 0; i < PQntuples(r); i++) {
                te_fix_order_row_t row;
                memset(&row, 0, sizeof row);
                te_order_cmd_t *c = &row.cmd;
                c->command = TE_CMD_NEW;
                c->mode = TE_MODE_PRODUCTION;
                te_strlcpy(c->order_id, PQgetvalue(r, i, 0), sizeof c->order_id);
                te_strlcpy(c->ids.decision_id, PQgetvalue(r, i, 1),
                           sizeof c->ids.decision_id);
                te_strlcpy(c->ids.portfolio_id, PQgetvalue(r, i, 2),
                           sizeof c->ids.portfolio_id);
                te_strlcpy(c->ids.strategy_id, PQgetvalue(r, i, 3),
                           sizeof c->ids.strategy_id);
                te_strlcpy(c->ids.profile_version_id, PQgetvalue(r, i, 4),
                           sizeof c->ids.profile_version_id);
                te_strlcpy(c->ids.regime_id, PQgetvalue(r, i, 5),
                           sizeof c->ids.regime_id);
                te_strlcpy(c->ids.universe_id, PQgetvalue(r, i, 6),
                           sizeof c->ids.universe_id);
                te_strlcpy(c->ticker, PQgetvalue(r, i, 7), sizeof c->ticker);
                int side =
                    te_enum_parse(te_side_names, TE_SIDE__CNT, PQgetvalue(r, i, 8));
                int type =
                    te_enum_parse(te_order_type_names, TE_OT__CNT, PQgetvalue(r, i, 10));
                int tif = te_enum_parse(te_tif_names, TE_TIF__CNT, PQgetvalue(r, i, 13));
                if (side < 0 || type < 0 || tif < 0) {
                        te_errf(errstr, errsz, "fix_orders %s: bad enum value",
                                c->order_id);
                        PQclear(r);
                        return -1;
                }
                c->side = (te_side_t)side;
                c->order_type = (te_order_type_t)type;
                c->tif = (te_tif_t)tif;
                c->quantity = get_d(r, i, 9);
                c->has_limit_price = !PQgetisnull(r, i, 11);
                c->limit_price = get_d(r, i, 11);
                c->has_stop_price = !PQgetisnull(r, i, 12);
                c->stop_price = get_d(r, i, 12);
                c->event_time = strtoll(PQgetvalue(r, i, 14), NULL, 10);
                te_strlcpy(row.live_clordid, PQgetvalue(r, i, 15),
                           sizeof row.live_clordid);
                row.n_cancel = (int)strtol(PQgetvalue(r, i, 16), NULL, 10);
                row.n_replace = (int)strtol(PQgetvalue(r, i, 17), NULL, 10);
                row.sent = PQgetvalue(r, i, 18)[0] == 't';
                row.cum = get_d(r, i, 19);
                row.value = get_d(r, i, 20);
                if (row_cb(ctx, &row) != 0) {
                        te_errf(errstr, errsz, "loading fix_orders stopped");
                        PQclear(r);
                        return -1;
                }
        }
        PQclear(r);
        r = PQexecParams(
            s->conn,
            "SELECT x.order_id, x.exec_id FROM fix_execs x JOIN fix_orders o "
            "USING (order_id) WHERE o.sender_comp_id = $1 AND "
            "o.target_comp_id = $2 AND NOT o.terminal",
            2, NULL, v, NULL, NULL, 0);
        if (cmd_ok(s, r, PGRES_TUPLES_OK, "load fix_execs", errstr, errsz) != 0) {
                PQclear(r);
                return -1;
        }
        for (int i = 0; i < PQntuples(r); i++)
                if (exec_cb(ctx, PQgetvalue(r, i, 0), PQgetvalue(r, i, 1)) != 0) {
                        te_errf(errstr, errsz, "loading fix_execs stopped");
                        PQclear(r);
                        return -1;
                }
        PQclear(r);
        return 0;
}
