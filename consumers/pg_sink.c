/*
 * pg_sink: staged COPY of report batches, one set-based apply, offsets, one commit.
 */
#include "pg_sink.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "te_buf.h"

#define MAX_OFFSETS 1024

typedef struct stage_off_s {
        char topic[128];
        int32_t partition;
        int64_t next;
} stage_off_t;

struct te_pg_sink_s {
        PGconn *conn;
        char group[128];
        te_buf_t rows; /* COPY text rows of the staged batch */
        size_t n_rows;
        stage_off_t offs[MAX_OFFSETS];
        size_t n_offs;
};

static const char offset_sql[] =
    "INSERT INTO consumer_offsets (consumer_group, topic, kafka_partition, next_offset, "
    "updated_at) VALUES ($1, $2, $3::integer, $4::bigint, now()) "
    "ON CONFLICT (consumer_group, topic, kafka_partition) DO UPDATE SET "
    "next_offset = EXCLUDED.next_offset, updated_at = now()";
static const char load_sql[] =
    "SELECT next_offset FROM consumer_offsets WHERE "
    "consumer_group = $1 AND topic = $2 AND kafka_partition = $3";
static const char copy_sql[] =
    "COPY te_stage (seq, report_id, order_id, exec_type, order_status, ticker, side, "
    "last_qty, last_price, cum_qty, leaves_qty, avg_price, commission, reason, broker, "
    "account, event_ms, decision_id, portfolio_id, strategy_id, profile_version_id, "
    "regime_id, universe_id, mode, kafka_topic, kafka_partition, kafka_offset) "
    "FROM STDIN";

static int simple(PGconn *c, const char *sql, ExecStatusType want, char *errstr,
                  size_t errsz)
{
        PGresult *r = PQexec(c, sql);
        int ok = PQresultStatus(r) == want;
        if (!ok)
                snprintf(errstr, errsz, "%.60s: %s", sql, PQerrorMessage(c));
        PQclear(r);
        return ok ? 0 : -1;
}

int te_pg_sink_prepare(te_pg_sink_t *s, char *errstr, size_t errsz)
{
        static const struct {
                const char *name, *sql;
                int n;
        } stmts[] = {{"te_offset", offset_sql, 4},
                     {"te_load_offset", load_sql, 3},
                     {"te_apply_stage", "SELECT te_apply_stage()", 0}};
        if (simple(s->conn, "SELECT te_stage_open()", PGRES_TUPLES_OK, errstr, errsz) !=
            0)
                return -1;
        for (size_t i = 0; i < sizeof stmts / sizeof stmts[0]; i++) {
                PGresult *r =
                    PQprepare(s->conn, stmts[i].name, stmts[i].sql, stmts[i].n, NULL);
                int ok = PQresultStatus(r) == PGRES_COMMAND_OK;
                PQclear(r);
                if (!ok) {
                        snprintf(errstr, errsz, "prepare %s: %s", stmts[i].name,
                                 PQerrorMessage(s->conn));
                        return -1;
                }
        }
        return 0;
}

te_pg_sink_t *te_pg_sink_new(PGconn *conn, const char *group, size_t max_stage_bytes,
                             char *errstr, size_t errsz)
{
        te_pg_sink_t *s = calloc(1, sizeof *s);
        if (!s) {
                snprintf(errstr, errsz, "out of memory");
                return NULL;
        }
        s->conn = conn;
        te_strlcpy(s->group, group, sizeof s->group);
        te_buf_init(&s->rows, max_stage_bytes);
        if (te_pg_sink_prepare(s, errstr, errsz) != 0) {
                te_pg_sink_destroy(s);
                return NULL;
        }
        return s;
}

void te_pg_sink_destroy(te_pg_sink_t *s)
{
        if (!s)
                return;
        te_buf_free(&s->rows);
        free(s);
}

/* Append `v` as one COPY text field (escaping \, tab, newline, CR), then `sep`. */
static int put_field(te_buf_t *b, const char *v, char sep)
{
        const char *p = v;
        while (*p) {
                const char *q = p;
                while (*q && *q != '\\' && *q != '\t' && *q != '\n' && *q != '\r')
                        q++;
                if (q > p && te_buf_append(b, p, (size_t)(q - p)) != 0)
                        return -1;
                if (!*q)
                        break;
                char esc[2] = {'\\', *q == '\\'   ? '\\'
                                     : *q == '\t' ? 't'
                                     : *q == '\n' ? 'n'
                                                  : 'r'};
                if (te_buf_append(b, esc, 2) != 0)
                        return -1;
                p = q + 1;
        }
        return te_buf_append(b, &sep, 1);
}

int te_pg_sink_stage(te_pg_sink_t *s, const te_exec_report_t *r, const char *topic,
                     int32_t partition, int64_t offset, char *errstr, size_t errsz)
{
        char nums[6][40], ts[24], part[16], off[24], seq[24];
        const double vals[6] = {r->last_qty,   r->last_price, r->cum_qty,
                                r->leaves_qty, r->avg_price,  r->commission};
        for (int i = 0; i < 6; i++)
                if (te_fmt_double(nums[i], sizeof nums[i], vals[i]) < 0)
                        nums[i][0] = '\0';
        snprintf(seq, sizeof seq, "%zu", s->n_rows);
        snprintf(ts, sizeof ts, "%lld", (long long)r->event_time);
        snprintf(part, sizeof part, "%d", (int)partition);
        snprintf(off, sizeof off, "%lld", (long long)offset);
        const char *f[27] = {
            seq,
            r->report_id,
            r->order_id,
            te_exec_type_name(r->exec_type),
            te_order_status_name(r->order_status),
            r->ticker,
            te_side_name(r->side),
            nums[0],
            nums[1],
            nums[2],
            nums[3],
            nums[4],
            nums[5],
            r->reason,
            r->broker,
            r->account,
            ts,
            r->ids.decision_id,
            r->ids.portfolio_id,
            r->ids.strategy_id,
            r->ids.profile_version_id,
            r->ids.regime_id,
            r->ids.universe_id,
            te_mode_name(r->mode),
            topic,
            part,
            off,
        };
        size_t mark = s->rows.len;
        for (int i = 0; i < 27; i++) {
                if (put_field(&s->rows, f[i], i == 26 ? '\n' : '\t') != 0) {
                        s->rows.len = mark;
                        snprintf(errstr, errsz, "staging buffer full (%zu bytes)",
                                 s->rows.max);
                        return -1;
                }
        }
        s->n_rows++;
        return 0;
}

int te_pg_sink_stage_offset(te_pg_sink_t *s, const char *topic, int32_t partition,
                            int64_t next_offset, char *errstr, size_t errsz)
{
        for (size_t i = 0; i < s->n_offs; i++) {
                if (s->offs[i].partition == partition &&
                    strcmp(s->offs[i].topic, topic) == 0) {
                        if (next_offset > s->offs[i].next)
                                s->offs[i].next = next_offset;
                        return 0;
                }
        }
        if (s->n_offs == MAX_OFFSETS ||
            te_strlcpy(s->offs[s->n_offs].topic, topic, sizeof s->offs[0].topic) != 0) {
                snprintf(errstr, errsz, "too many partitions or topic name too long");
                return -1;
        }
        s->offs[s->n_offs].partition = partition;
        s->offs[s->n_offs].next = next_offset;
        s->n_offs++;
        return 0;
}

size_t te_pg_sink_staged(const te_pg_sink_t *s)
{
        return s->n_rows;
}

void te_pg_sink_clear_stage(te_pg_sink_t *s)
{
        te_buf_reset(&s->rows);
        s->n_rows = 0;
        s->n_offs = 0;
}

static int copy_rows(te_pg_sink_t *s, char *errstr, size_t errsz)
{
        PGresult *r = PQexec(s->conn, copy_sql);
        if (PQresultStatus(r) != PGRES_COPY_IN) {
                snprintf(errstr, errsz, "COPY te_stage: %s", PQerrorMessage(s->conn));
                PQclear(r);
                return -1;
        }
        PQclear(r);
        int ok = 1;
        const size_t chunk = 1u << 18;
        for (size_t at = 0; at < s->rows.len && ok; at += chunk) {
                size_t n = s->rows.len - at < chunk ? s->rows.len - at : chunk;
                ok = PQputCopyData(s->conn, (const char *)s->rows.data + at, (int)n) == 1;
        }
        if (PQputCopyEnd(s->conn, ok ? NULL : "staging failed") != 1)
                ok = 0;
        while ((r = PQgetResult(s->conn)) != NULL) {
                if (PQresultStatus(r) != PGRES_COMMAND_OK)
                        ok = 0;
                PQclear(r);
        }
        if (!ok)
                snprintf(errstr, errsz, "COPY te_stage: %s", PQerrorMessage(s->conn));
        return ok ? 0 : -1;
}

static int store_offsets(te_pg_sink_t *s, char *errstr, size_t errsz)
{
        for (size_t i = 0; i < s->n_offs; i++) {
                char part[16], off[24];
                snprintf(part, sizeof part, "%d", (int)s->offs[i].partition);
                snprintf(off, sizeof off, "%lld", (long long)s->offs[i].next);
                const char *p[4] = {s->group, s->offs[i].topic, part, off};
                PGresult *res = PQexecPrepared(s->conn, "te_offset", 4, p, NULL, NULL, 0);
                int ok = PQresultStatus(res) == PGRES_COMMAND_OK;
                if (!ok)
                        snprintf(errstr, errsz, "store offset: %s",
                                 PQerrorMessage(s->conn));
                PQclear(res);
                if (!ok)
                        return -1;
        }
        return 0;
}

int te_pg_sink_commit_stage(te_pg_sink_t *s, long *applied, char *errstr, size_t errsz)
{
        *applied = 0;
        if (simple(s->conn, "BEGIN", PGRES_COMMAND_OK, errstr, errsz) != 0)
                return -1;
        if (s->n_rows > 0) {
                if (copy_rows(s, errstr, errsz) != 0)
                        goto err;
                PGresult *r =
                    PQexecPrepared(s->conn, "te_apply_stage", 0, NULL, NULL, NULL, 0);
                if (PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) != 1) {
                        snprintf(errstr, errsz, "te_apply_stage: %s",
                                 PQerrorMessage(s->conn));
                        PQclear(r);
                        goto err;
                }
                *applied = strtol(PQgetvalue(r, 0, 0), NULL, 10);
                PQclear(r);
        }
        if (store_offsets(s, errstr, errsz) != 0)
                goto err;
        if (simple(s->conn, "COMMIT", PGRES_COMMAND_OK, errstr, errsz) != 0)
                goto err;
        te_pg_sink_clear_stage(s);
        return 0;
err:
        *applied = 0;
        PQclear(PQexec(s->conn, "ROLLBACK"));
        return -1;
}

int64_t te_pg_sink_load_offset(te_pg_sink_t *s, const char *topic, int32_t partition,
                               char *errstr, size_t errsz)
{
        char part[16];
        snprintf(part, sizeof part, "%d", (int)partition);
        const char *p[3] = {s->group, topic, part};
        PGresult *res = PQexecPrepared(s->conn, "te_load_offset", 3, p, NULL, NULL, 0);
        int64_t v = -2;
        if (PQresultStatus(res) != PGRES_TUPLES_OK)
                snprintf(errstr, errsz, "load offset: %s", PQerrorMessage(s->conn));
        else
                v = PQntuples(res) ? strtoll(PQgetvalue(res, 0, 0), NULL, 10) : -1;
        PQclear(res);
        return v;
}
