/*
 * pg_sink: prepared statements for report application and offsets.
 */
#include "pg_sink.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "te_buf.h"

struct te_pg_sink_s {
        PGconn *conn;
        char group[128];
};

static const char apply_sql[] =
    "SELECT te_apply_report($1, $2, $3, $4, $5, $6, $7::numeric, $8::numeric, "
    "$9::numeric, $10::numeric, $11::numeric, $12::numeric, $13, $14, $15, "
    "to_timestamp($16::bigint / 1000.0), $17, $18, $19, $20, $21, $22, $23, $24, "
    "$25::integer, $26::bigint)";
static const char offset_sql[] =
    "INSERT INTO consumer_offsets (consumer_group, topic, kafka_partition, next_offset, "
    "updated_at) VALUES ($1, $2, $3::integer, $4::bigint, now()) "
    "ON CONFLICT (consumer_group, topic, kafka_partition) DO UPDATE SET "
    "next_offset = EXCLUDED.next_offset, updated_at = now()";
static const char load_sql[] =
    "SELECT next_offset FROM consumer_offsets WHERE "
    "consumer_group = $1 AND topic = $2 AND kafka_partition = $3";

static int simple(PGconn *c, const char *sql, char *errstr, size_t errsz)
{
        PGresult *r = PQexec(c, sql);
        int ok = PQresultStatus(r) == PGRES_COMMAND_OK;
        if (!ok)
                snprintf(errstr, errsz, "%s: %s", sql, PQerrorMessage(c));
        PQclear(r);
        return ok ? 0 : -1;
}

int te_pg_sink_prepare(te_pg_sink_t *s, char *errstr, size_t errsz)
{
        static const struct {
                const char *name, *sql;
                int n;
        } stmts[] = {{"te_apply", apply_sql, 26},
                     {"te_offset", offset_sql, 4},
                     {"te_load_offset", load_sql, 3}};
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

te_pg_sink_t *te_pg_sink_new(PGconn *conn, const char *group, char *errstr, size_t errsz)
{
        te_pg_sink_t *s = calloc(1, sizeof *s);
        if (!s) {
                snprintf(errstr, errsz, "out of memory");
                return NULL;
        }
        s->conn = conn;
        te_strlcpy(s->group, group, sizeof s->group);
        if (te_pg_sink_prepare(s, errstr, errsz) != 0) {
                free(s);
                return NULL;
        }
        return s;
}

void te_pg_sink_destroy(te_pg_sink_t *s)
{
        free(s);
}

int te_pg_sink_begin(te_pg_sink_t *s, char *errstr, size_t errsz)
{
        return simple(s->conn, "BEGIN", errstr, errsz);
}

int te_pg_sink_commit(te_pg_sink_t *s, char *errstr, size_t errsz)
{
        return simple(s->conn, "COMMIT", errstr, errsz);
}

void te_pg_sink_rollback(te_pg_sink_t *s)
{
        PGresult *r = PQexec(s->conn, "ROLLBACK");
        PQclear(r);
}

int te_pg_sink_apply(te_pg_sink_t *s, const te_exec_report_t *r, const char *topic,
                     int32_t partition, int64_t offset, int *applied, char *errstr,
                     size_t errsz)
{
        char nums[6][40], ts[24], part[16], off[24];
        const double vals[6] = {r->last_qty,  r->cum_qty,    r->leaves_qty,
                                r->avg_price, r->commission, r->last_price};
        for (int i = 0; i < 6; i++)
                te_fmt_double(nums[i], sizeof nums[i], vals[i]);
        snprintf(ts, sizeof ts, "%lld", (long long)r->event_time);
        snprintf(part, sizeof part, "%d", (int)partition);
        snprintf(off, sizeof off, "%lld", (long long)offset);
        const char *p[26] = {
            r->report_id,
            r->order_id,
            te_exec_type_name(r->exec_type),
            te_order_status_name(r->order_status),
            r->ticker,
            te_side_name(r->side),
            nums[0], /* last_qty */
            nums[5], /* last_price */
            nums[1], /* cum_qty */
            nums[2], /* leaves_qty */
            nums[3], /* avg_price */
            nums[4], /* commission */
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
        PGresult *res = PQexecPrepared(s->conn, "te_apply", 26, p, NULL, NULL, 0);
        if (PQresultStatus(res) != PGRES_TUPLES_OK) {
                snprintf(errstr, errsz, "apply report %s: %s", r->report_id,
                         PQerrorMessage(s->conn));
                PQclear(res);
                return -1;
        }
        *applied = PQntuples(res) == 1 && strcmp(PQgetvalue(res, 0, 0), "t") == 0;
        PQclear(res);
        return 0;
}

int te_pg_sink_store_offset(te_pg_sink_t *s, const char *topic, int32_t partition,
                            int64_t next_offset, char *errstr, size_t errsz)
{
        char part[16], off[24];
        snprintf(part, sizeof part, "%d", (int)partition);
        snprintf(off, sizeof off, "%lld", (long long)next_offset);
        const char *p[4] = {s->group, topic, part, off};
        PGresult *res = PQexecPrepared(s->conn, "te_offset", 4, p, NULL, NULL, 0);
        int ok = PQresultStatus(res) == PGRES_COMMAND_OK;
        if (!ok)
                snprintf(errstr, errsz, "store offset: %s", PQerrorMessage(s->conn));
        PQclear(res);
        return ok ? 0 : -1;
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
