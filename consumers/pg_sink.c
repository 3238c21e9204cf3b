/*
 * pg_sink: report batches folded in memory, then applied in one transaction with their
 * offsets: straight into the final tables (pg_sink_direct.c) or, for replays and key
 * conflicts, through the staging tables and te_apply_stage_fast() (pg_sink.h).
 */
#include "pg_sink_int.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char offset_sql[] =
    "INSERT INTO consumer_offsets (consumer_group, topic, kafka_partition, next_offset, "
    "updated_at) SELECT $1, t, p, o, now() "
    "FROM unnest($2::text[], $3::integer[], $4::bigint[]) AS x(t, p, o) "
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

void te_pg_sink_note(te_pg_sink_t *s, const PGresult *r)
{
        const char *st = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
        if (!s->sqlstate[0] && st && strlen(st) == 5)
                memcpy(s->sqlstate, st, 6);
}

const char *te_pg_sink_sqlstate(const te_pg_sink_t *s)
{
        return s->sqlstate;
}

static int simple(te_pg_sink_t *s, const char *sql, ExecStatusType want, char *errstr,
                  size_t errsz)
{
        PGresult *r = PQexec(s->conn, sql);
        int ok = PQresultStatus(r) == want;
        if (!ok) {
                snprintf(errstr, errsz, "%.60s: %s", sql, PQerrorMessage(s->conn));
                te_pg_sink_note(s, r);
        }
        PQclear(r);
        return ok ? 0 : -1;
}

int te_pg_sink_prepare_stmts(PGconn *conn, const te_pg_stmt_t *stmts, size_t n,
                             char *errstr, size_t errsz)
{
        for (size_t i = 0; i < n; i++) {
                PGresult *r =
                    PQprepare(conn, stmts[i].name, stmts[i].sql, stmts[i].n, NULL);
                int ok = PQresultStatus(r) == PGRES_COMMAND_OK;
                PQclear(r);
                if (!ok) {
                        snprintf(errstr, errsz, "prepare %s: %s", stmts[i].name,
                                 PQerrorMessage(conn));
                        return -1;
                }
        }
        return 0;
}

int te_pg_sink_prepare(te_pg_sink_t *s, char *errstr, size_t errsz)
{
        static const te_pg_stmt_t stmts[] = {
            {"te_offset", offset_sql, 4},
            {"te_load_offset", load_sql, 3},
            {"te_apply_stage", "SELECT te_apply_stage_fast()", 0}};
        if (simple(s, "SELECT te_stage_open()", PGRES_TUPLES_OK, errstr, errsz) != 0 ||
            simple(s,
                   s->sync_commit ? "SET synchronous_commit = on"
                                  : "SET synchronous_commit = off",
                   PGRES_COMMAND_OK, errstr, errsz) != 0 ||
            /* the prepared statements run generic plans (planning a custom one for
             * every batch cost more than running it), which may have been made when
             * the tables were empty and a sequential scan looked free: the big tables
             * are only to be read through their keys (as te_apply_stage_fast does);
             * jit would then compile every statement */
            simple(s, "SET plan_cache_mode = force_generic_plan", PGRES_COMMAND_OK,
                   errstr, errsz) != 0 ||
            simple(s, "SET enable_seqscan = off", PGRES_COMMAND_OK, errstr, errsz) != 0 ||
            simple(s, "SET jit = off", PGRES_COMMAND_OK, errstr, errsz) != 0 ||
            te_pg_sink_prepare_direct(s, errstr, errsz) != 0)
                return -1;
        return te_pg_sink_prepare_stmts(s->conn, stmts, sizeof stmts / sizeof stmts[0],
                                        errstr, errsz);
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
        s->direct_ok = 1;
        te_strlcpy(s->group, group, sizeof s->group);
        te_buf_init(&s->rows, max_stage_bytes);
        /* one te_ostage row is never longer than the te_stage row of its first report,
         * nor is a row of a final table or an array element longer than its report's */
        te_buf_init(&s->orows, max_stage_bytes);
        for (size_t i = 0; i < 3; i++)
                te_buf_init(&s->dbuf[i], max_stage_bytes);
        s->ts_sec = -1;
        for (size_t i = 0; i < sizeof s->params / sizeof s->params[0]; i++)
                te_buf_init(&s->params[i], max_stage_bytes);
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
        for (size_t i = 0; i < 3; i++)
                te_buf_free(&s->dbuf[i]);
        for (size_t i = 0; i < sizeof s->params / sizeof s->params[0]; i++)
                te_buf_free(&s->params[i]);
        te_map_destroy(s->rids, NULL);
        te_map_destroy(s->oids, NULL);
        te_map_destroy(s->dids, NULL);
        free(s->aggs);
        free(s->srows);
        free(s);
}

int te_pg_sink_put_field(te_buf_t *b, const char *v, size_t n, char sep)
{
        const char *p = v, *end = v + n;
        while (p < end) {
                const char *q = p;
                while (q < end && *q != '\\' && *q != '\t' && *q != '\n' && *q != '\r')
                        q++;
                if (q > p && te_buf_append(b, p, (size_t)(q - p)) != 0)
                        return -1;
                if (q == end)
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

static int put_field(te_buf_t *b, const char *v, char sep)
{
        return te_pg_sink_put_field(b, v, strlen(v), sep);
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

/* Event times the direct path writes as text timestamps that equal what
 * to_timestamp(event_ms / 1000.0) gives (the double's rounding stays far below half a
 * microsecond up to 2038); others go the staged path. */
#define DIRECT_MAX_MS (INT64_C(2147483647) * 1000)

/* Fold report `r` (formatted numbers in `nums`) into its order's aggregate. */
static void fold(te_pg_sink_t *s, ord_agg_t *a, const te_exec_report_t *r,
                 char nums[6][40], int blocked)
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
        sink_dec_t c;
        if (sink_dec_parse(nums[5], &c) != 0 || sink_dec_add(&a->commission, &c) != 0)
                s->direct_ok = 0; /* the database sums it (staged path) */
}

/* Room for one more row and aggregate. @returns 0 or -1 (out of memory). */
static int grow(te_pg_sink_t *s)
{
        if (s->n_aggs == s->cap_aggs) {
                size_t cap = s->cap_aggs ? s->cap_aggs * 2 : 256;
                ord_agg_t *g = realloc(s->aggs, cap * sizeof *g);
                if (!g)
                        return -1;
                s->aggs = g;
                s->cap_aggs = cap;
        }
        if (s->n_rows == s->cap_srows) {
                size_t cap = s->cap_srows ? s->cap_srows * 2 : 256;
                srow_t *g = realloc(s->srows, cap * sizeof *g);
                if (!g)
                        return -1;
                s->srows = g;
                s->cap_srows = cap;
        }
        return 0;
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
        if (grow(s) != 0) {
                snprintf(errstr, errsz, "out of memory");
                return -1;
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
        const char *f[SF__CNT] = {
            [SF_SEQ] = seq,
            [SF_REPORT_ID] = r->report_id,
            [SF_ORDER_ID] = r->order_id,
            [SF_EXEC_TYPE] = te_exec_type_name(r->exec_type),
            [SF_ORDER_STATUS] = te_order_status_name(r->order_status),
            [SF_TICKER] = r->ticker,
            [SF_SIDE] = te_side_name(r->side),
            [SF_LAST_QTY] = nums[0],
            [SF_LAST_PRICE] = nums[1],
            [SF_CUM_QTY] = nums[2],
            [SF_LEAVES_QTY] = nums[3],
            [SF_AVG_PRICE] = nums[4],
            [SF_COMMISSION] = nums[5],
            [SF_REASON] = r->reason,
            [SF_BROKER] = r->broker,
            [SF_ACCOUNT] = r->account,
            [SF_EVENT_MS] = ts,
            [SF_DECISION_ID] = r->ids.decision_id,
            [SF_PORTFOLIO_ID] = r->ids.portfolio_id,
            [SF_STRATEGY_ID] = r->ids.strategy_id,
            [SF_PROFILE_VERSION_ID] = r->ids.profile_version_id,
            [SF_REGIME_ID] = r->ids.regime_id,
            [SF_UNIVERSE_ID] = r->ids.universe_id,
            [SF_MODE] = te_mode_name(r->mode),
            [SF_TOPIC] = topic,
            [SF_PARTITION] = part,
            [SF_OFFSET] = off,
            [SF_FIRST_OF_ORDER] = agg ? "f" : "t",
            [SF_FIRST_OF_DECISION] = first_dec ? "t" : "f",
            [SF_BLOCKED] = blocked ? "t" : "f",
        };
        size_t mark = s->rows.len;
        srow_t *sr = &s->srows[s->n_rows];
        for (int i = 0; i < SF__CNT; i++) {
                sr->fo[i] = (uint16_t)(s->rows.len - mark);
                if (put_field(&s->rows, f[i], i == SF__CNT - 1 ? '\n' : '\t') != 0) {
                        s->rows.len = mark;
                        snprintf(errstr, errsz, "staging buffer full (%zu bytes)",
                                 s->rows.max);
                        return -1;
                }
        }
        sr->fo[SF__CNT] = (uint16_t)(s->rows.len - mark);
        if (s->rows.len - mark > UINT16_MAX)
                s->direct_ok = 0; /* field offsets do not fit: the staged path */
        /* the row is staged: now the batch's memory of it */
        if (te_map_put(s->rids, r->report_id, idx_value(0)) != 0 ||
            (first_dec && te_map_put(s->dids, r->ids.decision_id, idx_value(0)) != 0) ||
            (!agg && te_map_put(s->oids, r->order_id, idx_value(s->n_aggs)) != 0)) {
                /* maps are inconsistent with the rows now: drop the whole batch */
                s->rows.len = mark;
                snprintf(errstr, errsz, "out of memory");
                return -1;
        }
        sr->off = mark;
        sr->ms = r->event_time;
        sr->is_fill = is_fill;
        sr->first_of_order = !agg;
        sr->first_of_decision = first_dec;
        if (!agg) {
                agg = &s->aggs[s->n_aggs++];
                memset(agg, 0, sizeof *agg);
                te_strlcpy(agg->order_id, r->order_id, sizeof agg->order_id);
                agg->first_seq = s->n_rows;
        }
        sr->agg = (size_t)(agg - s->aggs);
        fold(s, agg, r, nums, blocked);
        if (is_terminal(r->order_status))
                agg->terminal_seen = 1;
        if (r->event_time < 0 || r->event_time > DIRECT_MAX_MS)
                s->direct_ok = 0;
        s->n_fills += (size_t)is_fill;
        s->n_decisions += (size_t)first_dec;
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

int te_pg_sink_last_path(const te_pg_sink_t *s)
{
        return s->last_path;
}

void te_pg_sink_set_direct(te_pg_sink_t *s, int on)
{
        s->direct_off = !on;
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
        s->n_fills = 0;
        s->n_decisions = 0;
        s->direct_ok = 1;
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
                te_pg_sink_note(s, r);
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
                if (PQresultStatus(r) != PGRES_COMMAND_OK) {
                        ok = 0;
                        te_pg_sink_note(s, r);
                }
                PQclear(r);
        }
        if (!ok)
                snprintf(errstr, errsz, "%.24s: %s", sql, PQerrorMessage(s->conn));
        return ok ? 0 : -1;
}

int te_pg_sink_arr_put(te_buf_t *b, const char *v, size_t n, int copy_escaped)
{
        if (b->len > 1 && te_buf_append(b, ",", 1) != 0)
                return -1;
        if (!v)
                return te_buf_append(b, "NULL", 4);
        if (te_buf_reserve(b, 2 * n + 2) != 0)
                return -1;
        char *o = (char *)b->data + b->len;
        *o++ = '"';
        for (size_t i = 0; i < n; i++) {
                char c = v[i];
                if (copy_escaped && c == '\\' && i + 1 < n) {
                        c = v[++i];
                        c = c == 't' ? '\t' : c == 'n' ? '\n' : c == 'r' ? '\r' : c;
                }
                if (c == '"' || c == '\\')
                        *o++ = '\\';
                *o++ = c;
        }
        *o++ = '"';
        b->len = (size_t)(o - (char *)b->data);
        return 0;
}

int te_pg_sink_offset_params(te_pg_sink_t *s)
{
        te_buf_t *t = &s->params[0], *p = &s->params[1], *o = &s->params[2];
        te_buf_reset(t);
        te_buf_reset(p);
        te_buf_reset(o);
        if (te_buf_append(t, "{", 1) != 0 || te_buf_append(p, "{", 1) != 0 ||
            te_buf_append(o, "{", 1) != 0)
                return -1;
        for (size_t i = 0; i < s->n_offs; i++) {
                if (te_pg_sink_arr_put(t, s->offs[i].topic, strlen(s->offs[i].topic),
                                       0) != 0 ||
                    te_buf_printf(p, "%s%d", i ? "," : "", (int)s->offs[i].partition) !=
                        0 ||
                    te_buf_printf(o, "%s%lld", i ? "," : "",
                                  (long long)s->offs[i].next) != 0)
                        return -1;
        }
        if (te_buf_append(t, "}", 1) != 0 || te_buf_append(p, "}", 1) != 0 ||
            te_buf_append(o, "}", 1) != 0 || !te_buf_cstr(t) || !te_buf_cstr(p) ||
            !te_buf_cstr(o))
                return -1;
        return 0;
}

static int store_offsets(te_pg_sink_t *s, char *errstr, size_t errsz)
{
        if (s->n_offs == 0)
                return 0;
        if (te_pg_sink_offset_params(s) != 0) {
                snprintf(errstr, errsz, "store offset: out of memory");
                return -1;
        }
        const char *p[4] = {s->group, (const char *)s->params[0].data,
                            (const char *)s->params[1].data,
                            (const char *)s->params[2].data};
        PGresult *res = PQexecPrepared(s->conn, "te_offset", 4, p, NULL, NULL, 0);
        int ok = PQresultStatus(res) == PGRES_COMMAND_OK;
        if (!ok) {
                snprintf(errstr, errsz, "store offset: %s", PQerrorMessage(s->conn));
                te_pg_sink_note(s, res);
        }
        PQclear(res);
        return ok ? 0 : -1;
}

/* The staged path: BEGIN, COPY te_stage and te_ostage, te_apply_stage_fast(), offsets,
 * COMMIT. */
static int commit_staged(te_pg_sink_t *s, long *applied, char *errstr, size_t errsz)
{
        *applied = 0;
        if (simple(s, "BEGIN", PGRES_COMMAND_OK, errstr, errsz) != 0)
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
                        te_pg_sink_note(s, r);
                        PQclear(r);
                        goto err;
                }
                *applied = strtol(PQgetvalue(r, 0, 0), NULL, 10);
                PQclear(r);
        }
        if (store_offsets(s, errstr, errsz) != 0)
                goto err;
        if (simple(s, "COMMIT", PGRES_COMMAND_OK, errstr, errsz) != 0)
                goto err;
        return 0;
err:
        *applied = 0;
        PQclear(PQexec(s->conn, "ROLLBACK"));
        return -1;
}

int te_pg_sink_commit_stage(te_pg_sink_t *s, long *applied, char *errstr, size_t errsz)
{
        int rc = 1;
        *applied = 0;
        s->sqlstate[0] = '\0';
        if (s->direct_ok && !s->direct_off)
                rc = te_pg_sink_commit_direct(s, applied, errstr, errsz);
        if (rc == 1) {
                s->sqlstate[0] =
                    '\0'; /* the key conflict is the staged path's to settle */
                rc = commit_staged(s, applied, errstr, errsz);
                s->last_path = TE_PG_SINK_STAGED;
        } else {
                s->last_path = s->n_rows > 0 && s->n_rows <= TE_PG_SINK_SMALL_BATCH
                                   ? TE_PG_SINK_DIRECT_ARRAYS
                                   : TE_PG_SINK_DIRECT;
        }
        if (rc != 0)
                return -1;
        te_pg_sink_clear_stage(s);
        return 0;
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
