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

struct te_fix_store_s {
        PGconn *conn;
        char sender[TE_FIX_COMPID_MAX];
        char target[TE_FIX_COMPID_MAX];
};

te_fix_store_t *te_fix_store_open(const char *conninfo, const char *sender,
                                  const char *target, char *errstr, size_t errstr_size)
{
        te_fix_store_t *s = calloc(1, sizeof *s);
        if (!s) {
                te_errf(errstr, errstr_size, "out of memory");
                return NULL;
        }
        te_strlcpy(s->sender, sender, sizeof s->sender);
        te_strlcpy(s->target, target, sizeof s->target);
        s->conn = te_pg_connect(conninfo, errstr, errstr_size);
        if (!s->conn || te_pg_migrate(s->conn, errstr, errstr_size) < 0) {
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
                           char *errstr, size_t errstr_size)
{
        const char *v[2] = {s->sender, s->target};
        PGresult *r = PQexecParams(s->conn,
                                   "SELECT next_out, next_in FROM fix_sessions "
                                   "WHERE sender_comp_id = $1 AND target_comp_id = $2",
                                   2, NULL, v, NULL, NULL, 0);
        int rc = -1;
        if (!r || PQresultStatus(r) != PGRES_TUPLES_OK) {
                te_errf(errstr, errstr_size, "load fix_sessions: %s",
                        r ? PQresultErrorMessage(r) : PQerrorMessage(s->conn));
        } else if (PQntuples(r) == 0) {
                rc = 0;
        } else {
                char *e1, *e2;
                long long o = strtoll(PQgetvalue(r, 0, 0), &e1, 10);
                long long i = strtoll(PQgetvalue(r, 0, 1), &e2, 10);
                if (*e1 || *e2 || o < 1 || i < 1) {
                        te_errf(errstr, errstr_size, "fix_sessions: bad numbers");
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
                           char *errstr, size_t errstr_size)
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
                te_errf(errstr, errstr_size, "save fix_sessions: %s",
                        r ? PQresultErrorMessage(r) : PQerrorMessage(s->conn));
        PQclear(r);
        if (rc != 0 && PQstatus(s->conn) == CONNECTION_BAD)
                PQreset(s->conn); /* the next call tries again on a new connection */
        return rc;
}
