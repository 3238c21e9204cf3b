/*
 * pg_sink: staged COPY of report batches, one set-based apply, offsets, one commit.
 */
#include "pg_sink.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "te_buf.h"
#include "te_map.h"

#define MAX_OFFSETS 1024

/* The batch's fold of one order's reports that are not blocked (pg_sink.h). */
typedef struct ord_agg_s {
        char order_id[TE_ID_MAX];
        size_t first_seq;
        long n, n_blocked;
        int terminal_seen; /* a report of the batch left it terminal */
        const char *status;
        double cum_v;
        char cum[40], leaves[40], avg[40]; /* avg: "" = none non-zero yet */
        char reason[TE_TEXT_MAX];          /* "" = none non-empty yet */
        int64_t last_ms;
} ord_agg_t;

typedef struct stage_off_s {
        char topic[128];
        int32_t partition;
        int64_t next;
} stage_off_t;

struct te_pg_sink_s {
        PGconn *conn;
        char group[128];
        te_buf_t rows; /* COPY text rows of the staged batch (te_stage) */
        size_t n_rows;
        te_buf_t orows; /* COPY text rows of te_ostage, built at commit */
        te_map_t *rids; /* report_ids staged in this batch */
        te_map_t *oids; /* order_id -> index + 1 into aggs */
        te_map_t *dids; /* decision_ids with a fill staged in this batch */
        ord_agg_t *aggs;
        size_t n_aggs, cap_aggs;
        long n_dups;     /* duplicate report_ids dropped from this batch */
        int sync_commit; /* synchronous_commit for this session (pg_sink.h) */
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
    "regime_id, universe_id, mode, kafka_topic, kafka_partition, kafka_offset, "
    "first_of_order, first_of_decision, blocked) FROM STDIN";
static const char ocopy_sql[] =
    "COPY te_ostage (order_id, first_seq, n, n_blocked, status, cum_qty, leaves_qty, "
    "avg_price, reason, last_ms) FROM STDIN";

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
                     {"te_apply_stage", "SELECT te_apply_stage_fast()", 0}};
        if (simple(s->conn, "SELECT te_stage_open()", PGRES_TUPLES_OK, errstr, errsz) !=
                0 ||
            simple(s->conn,
                   s->sync_commit ? "SET synchronous_commit = on"
                                  : "SET synchronous_commit = off",
                   PGRES_COMMAND_OK, errstr, errsz) != 0)
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
                             int sync_commit, char *errstr, size_t errsz)
{
        te_pg_sink_t *s = calloc(1, sizeof *s);
        if (!s) {
                snprintf(errstr, errsz, "out of memory");
                return NULL;
        }
        s->conn = conn;
        s->sync_commit = sync_commit;
        te_strlcpy(s->group, group, sizeof s->group);
        te_buf_init(&s->rows, max_stage_bytes);
        /* one te_ostage row is never longer than the te_stage row of its first report */
        te_buf_init(&s->orows, max_stage_bytes);
        s->rids = te_map_new();
        s->oids = te_map_new();
        s->dids = te_map_new();
        if (!s->rids || !s->oids || !s->dids) {
                snprintf(errstr, errsz, "out of memory");
                te_pg_sink_destroy(s);
                return NULL;
        }
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
        te_buf_free(&s->orows);
        te_map_destroy(s->rids, NULL);
        te_map_destroy(s->oids, NULL);
        te_map_destroy(s->dids, NULL);
        free(s->aggs);
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

static int is_terminal(te_order_status_t st)
{
        return st == TE_OS_FILLED || st == TE_OS_CANCELED || st == TE_OS_REJECTED ||
               st == TE_OS_EXPIRED || st == TE_OS_REPLACED;
}

static void *idx_value(size_t i)
{
        return (void *)(uintptr_t)(i + 1);
}

/* Fold report `r` (formatted numbers in `nums`) into its order's aggregate. */
static void fold(ord_agg_t *a, const te_exec_report_t *r, char nums[6][40], int blocked)
{
        a->n++;
        if (blocked) {
                a->n_blocked++;
                return;
        }
        a->status = te_order_status_name(r->order_status);
        if (a->n == 1 || r->cum_qty > a->cum_v) {
                a->cum_v = r->cum_qty;
                te_strlcpy(a->cum, nums[2], sizeof a->cum);
        }
        te_strlcpy(a->leaves, nums[3], sizeof a->leaves);
        if (r->avg_price != 0)
                te_strlcpy(a->avg, nums[4], sizeof a->avg);
        if (r->reason[0])
                te_strlcpy(a->reason, r->reason, sizeof a->reason);
        if (a->n == 1 || r->event_time > a->last_ms)
                a->last_ms = r->event_time;
}

int te_pg_sink_stage(te_pg_sink_t *s, const te_exec_report_t *r, const char *topic,
                     int32_t partition, int64_t offset, char *errstr, size_t errsz)
{
        /* control reports change nothing in the DB; a report_id already in the batch
         * is a duplicate (the first one counts, as in te_apply_report) */
        if (r->exec_type == TE_EXEC_CLOCK_ACK || r->exec_type == TE_EXEC_BROKER_STATE)
                return 0;
        if (te_map_get(s->rids, r->report_id)) {
                s->n_dups++;
                return 0;
        }
        if (s->n_aggs == s->cap_aggs) {
                size_t cap = s->cap_aggs ? s->cap_aggs * 2 : 256;
                ord_agg_t *g = realloc(s->aggs, cap * sizeof *g);
                if (!g) {
                        snprintf(errstr, errsz, "out of memory");
                        return -1;
                }
                s->aggs = g;
                s->cap_aggs = cap;
        }
        uintptr_t oi = (uintptr_t)te_map_get(s->oids, r->order_id);
        ord_agg_t *agg = oi ? &s->aggs[oi - 1] : NULL;
        int blocked = agg && agg->terminal_seen;
        int is_fill =
            (r->exec_type == TE_EXEC_FILL || r->exec_type == TE_EXEC_PARTIAL_FILL) &&
            r->last_qty > 0;
        int first_dec = is_fill && !te_map_get(s->dids, r->ids.decision_id);

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
        const char *f[30] = {
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
            agg ? "f" : "t",
            first_dec ? "t" : "f",
            blocked ? "t" : "f",
        };
        size_t mark = s->rows.len;
        for (int i = 0; i < 30; i++) {
                if (put_field(&s->rows, f[i], i == 29 ? '\n' : '\t') != 0) {
                        s->rows.len = mark;
                        snprintf(errstr, errsz, "staging buffer full (%zu bytes)",
                                 s->rows.max);
                        return -1;
                }
        }
        /* the row is staged: now the batch's memory of it */
        if (te_map_put(s->rids, r->report_id, idx_value(0)) != 0 ||
            (first_dec && te_map_put(s->dids, r->ids.decision_id, idx_value(0)) != 0) ||
            (!agg && te_map_put(s->oids, r->order_id, idx_value(s->n_aggs)) != 0)) {
                /* maps are inconsistent with the rows now: drop the whole batch */
                s->rows.len = mark;
                snprintf(errstr, errsz, "out of memory");
                return -1;
        }
        if (!agg) {
                agg = &s->aggs[s->n_aggs++];
                memset(agg, 0, sizeof *agg);
                te_strlcpy(agg->order_id, r->order_id, sizeof agg->order_id);
                agg->first_seq = s->n_rows;
        }
        fold(agg, r, nums, blocked);
        if (is_terminal(r->order_status))
                agg->terminal_seen = 1;
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

/* Empty a map in place (there is no clear: swap in a new one; on OOM keep deleting). */
static void map_clear(te_map_t **m)
{
        te_map_t *fresh = te_map_new();
        if (fresh) {
                te_map_destroy(*m, NULL);
                *m = fresh;
                return;
        }
        size_t pos = 0;
        const char *k;
        void *v;
        while (te_map_next(*m, &pos, &k, &v)) {
                te_map_del(*m, k);
                pos = 0;
        }
}

void te_pg_sink_clear_stage(te_pg_sink_t *s)
{
        te_buf_reset(&s->rows);
        te_buf_reset(&s->orows);
        s->n_rows = 0;
        s->n_offs = 0;
        s->n_aggs = 0;
        s->n_dups = 0;
        if (te_map_count(s->rids))
                map_clear(&s->rids);
        if (te_map_count(s->oids))
                map_clear(&s->oids);
        if (te_map_count(s->dids))
                map_clear(&s->dids);
}

/* te_ostage's COPY text: one row per order of the batch. */
static int build_orows(te_pg_sink_t *s, char *errstr, size_t errsz)
{
        te_buf_reset(&s->orows);
        for (size_t i = 0; i < s->n_aggs; i++) {
                const ord_agg_t *a = &s->aggs[i];
                char fs[24], n[24], nb[24], lm[24];
                snprintf(fs, sizeof fs, "%zu", a->first_seq);
                snprintf(n, sizeof n, "%ld", a->n);
                snprintf(nb, sizeof nb, "%ld", a->n_blocked);
                snprintf(lm, sizeof lm, "%lld", (long long)a->last_ms);
                if (put_field(&s->orows, a->order_id, '\t') != 0 ||
                    put_field(&s->orows, fs, '\t') != 0 ||
                    put_field(&s->orows, n, '\t') != 0 ||
                    put_field(&s->orows, nb, '\t') != 0 ||
                    put_field(&s->orows, a->status, '\t') != 0 ||
                    put_field(&s->orows, a->cum, '\t') != 0 ||
                    put_field(&s->orows, a->leaves, '\t') != 0 ||
                    (a->avg[0] ? put_field(&s->orows, a->avg, '\t')
                               : te_buf_append(&s->orows, "\\N\t", 3)) != 0 ||
                    (a->reason[0] ? put_field(&s->orows, a->reason, '\t')
                                  : te_buf_append(&s->orows, "\\N\t", 3)) != 0 ||
                    put_field(&s->orows, lm, '\n') != 0) {
                        snprintf(errstr, errsz, "order staging buffer full (%zu bytes)",
                                 s->orows.max);
                        return -1;
                }
        }
        return 0;
}

static int copy_buf(te_pg_sink_t *s, const char *sql, const te_buf_t *b, char *errstr,
                    size_t errsz)
{
        PGresult *r = PQexec(s->conn, sql);
        if (PQresultStatus(r) != PGRES_COPY_IN) {
                snprintf(errstr, errsz, "%.24s: %s", sql, PQerrorMessage(s->conn));
                PQclear(r);
                return -1;
        }
        PQclear(r);
        int ok = 1;
        const size_t chunk = 1u << 18;
        for (size_t at = 0; at < b->len && ok; at += chunk) {
                size_t n = b->len - at < chunk ? b->len - at : chunk;
                ok = PQputCopyData(s->conn, (const char *)b->data + at, (int)n) == 1;
        }
        if (PQputCopyEnd(s->conn, ok ? NULL : "staging failed") != 1)
                ok = 0;
        while ((r = PQgetResult(s->conn)) != NULL) {
                if (PQresultStatus(r) != PGRES_COMMAND_OK)
                        ok = 0;
                PQclear(r);
        }
        if (!ok)
                snprintf(errstr, errsz, "%.24s: %s", sql, PQerrorMessage(s->conn));
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
                if (build_orows(s, errstr, errsz) != 0 ||
                    copy_buf(s, copy_sql, &s->rows, errstr, errsz) != 0 ||
                    copy_buf(s, ocopy_sql, &s->orows, errstr, errsz) != 0)
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
