/*
 * pg_sink_pipe: the direct path's statements on the wire (pg_sink_int.h): pipelines of
 * prepared statements read back in order, and COPY whose result is read later.
 */
#include <stdio.h>
#include <string.h>

#include "pg_sink_int.h"

/* Error of the last result: 1 when it is a unique_violation (the staged path decides),
 * else -1; errstr says what failed. */
int sink_fail(te_pg_sink_t *s, const PGresult *r, const char *what, char *errstr,
              size_t errsz)
{
        const char *state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
        te_pg_sink_note(s, r);
        snprintf(errstr, errsz, "%s: %s", what,
                 r && PQresultErrorMessage(r)[0] ? PQresultErrorMessage(r)
                                                 : PQerrorMessage(s->conn));
        return state && strcmp(state, "23505") == 0 ? 1 : -1;
}

int sink_pipe_begin(te_pg_sink_t *s, pipe_t *pl, char *errstr, size_t errsz)
{
        memset(pl, 0, sizeof *pl);
        if (PQenterPipelineMode(s->conn) != 1) {
                snprintf(errstr, errsz, "pipeline: %s", PQerrorMessage(s->conn));
                return -1;
        }
        return 0;
}

/* Queue one statement (nothing when an earlier one could not be queued). */
void sink_pipe_send(te_pg_sink_t *s, pipe_t *pl, const char *what, const char *stmt,
                    int n, const char *const *v, ExecStatusType want, char *errstr,
                    size_t errsz)
{
        if (pl->rc != 0)
                return;
        if (pl->n == (int)(sizeof pl->st / sizeof pl->st[0])) {
                snprintf(errstr, errsz, "%s: pipeline too long", what);
                pl->rc = -1;
                return;
        }
        if (!v && n > 0) {
                snprintf(errstr, errsz, "%s: out of memory", what);
                pl->rc = -1;
                return;
        }
        /* "te_*": a statement prepared by te_pg_sink_prepare_direct, else plain SQL */
        int ok = strncmp(stmt, "te_", 3) == 0
                     ? PQsendQueryPrepared(s->conn, stmt, n, v, NULL, NULL, 0)
                     : PQsendQueryParams(s->conn, stmt, n, NULL, v, NULL, NULL, 0);
        if (ok != 1) {
                snprintf(errstr, errsz, "%s: %s", what, PQerrorMessage(s->conn));
                pl->rc = -1;
                return;
        }
        pl->st[pl->n++] = (step_t){.what = what, .want = want};
}

/* Sync, read every result, leave pipeline mode. @returns 0, 1 (a unique violation)
 * or -1; on failure no result is kept. */
int sink_pipe_end(te_pg_sink_t *s, pipe_t *pl, char *errstr, size_t errsz)
{
        int rc = pl->rc;
        if (PQpipelineSync(s->conn) != 1) {
                if (rc == 0)
                        snprintf(errstr, errsz, "pipeline sync: %s",
                                 PQerrorMessage(s->conn));
                rc = -1;
        }
        for (int i = 0; i < pl->n; i++) {
                step_t *st = &pl->st[i];
                PGresult *r = PQgetResult(s->conn);
                if (!r) {
                        if (rc == 0)
                                snprintf(errstr, errsz, "%s: no result: %s", st->what,
                                         PQerrorMessage(s->conn));
                        rc = -1;
                        break;
                }
                if (PQresultStatus(r) != st->want) {
                        if (rc == 0 && PQresultStatus(r) != PGRES_PIPELINE_ABORTED)
                                rc = sink_fail(s, r, st->what, errstr, errsz);
                        PQclear(r);
                } else if (st->want == PGRES_TUPLES_OK) {
                        st->res = r;
                } else {
                        PQclear(r);
                }
                while ((r = PQgetResult(s->conn)) != NULL) /* end of this statement */
                        PQclear(r);
        }
        for (;;) { /* up to the sync (or the end of the connection) */
                PGresult *r = PQgetResult(s->conn);
                if (!r)
                        break;
                ExecStatusType t = PQresultStatus(r);
                PQclear(r);
                if (t == PGRES_PIPELINE_SYNC)
                        break;
        }
        if (PQexitPipelineMode(s->conn) != 1 && rc == 0) {
                snprintf(errstr, errsz, "pipeline exit: %s", PQerrorMessage(s->conn));
                rc = -1;
        }
        if (rc != 0)
                for (int i = 0; i < pl->n; i++) {
                        PQclear(pl->st[i].res);
                        pl->st[i].res = NULL;
                }
        return rc;
}

void sink_pipe_free(pipe_t *pl)
{
        for (int i = 0; i < pl->n; i++) {
                PQclear(pl->st[i].res);
                pl->st[i].res = NULL;
        }
}

/* Start COPY `sql` and send all of `b`: the server works on it while the caller
 * builds what comes next. @returns 0, 1 (unique violation) or -1. */
int sink_copy_send(te_pg_sink_t *s, const char *what, const char *sql, const te_buf_t *b,
                   char *errstr, size_t errsz)
{
        PGresult *r = PQexec(s->conn, sql);
        if (PQresultStatus(r) != PGRES_COPY_IN) {
                int rc = sink_fail(s, r, what, errstr, errsz);
                PQclear(r);
                return rc;
        }
        PQclear(r);
        int ok = 1;
        const size_t chunk = 1u << 18;
        for (size_t at = 0; at < b->len && ok; at += chunk) {
                size_t n = b->len - at < chunk ? b->len - at : chunk;
                ok = PQputCopyData(s->conn, (const char *)b->data + at, (int)n) == 1;
        }
        if (PQputCopyEnd(s->conn, ok ? NULL : "sending failed") != 1 || !ok) {
                snprintf(errstr, errsz, "%s: %s", what, PQerrorMessage(s->conn));
                while ((r = PQgetResult(s->conn)) != NULL)
                        PQclear(r);
                return -1;
        }
        return 0;
}

/* The result of the COPY started by copy_send. @returns 0, 1 or -1. */
int sink_copy_wait(te_pg_sink_t *s, const char *what, char *errstr, size_t errsz)
{
        PGresult *r;
        int rc = 0;
        while ((r = PQgetResult(s->conn)) != NULL) {
                if (PQresultStatus(r) != PGRES_COMMAND_OK && rc == 0)
                        rc = sink_fail(s, r, what, errstr, errsz);
                PQclear(r);
        }
        return rc;
}
