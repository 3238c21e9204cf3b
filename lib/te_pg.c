/*
 * te_pg: libpq connection without secrets on the command line, and the migration
 * runner over the migrations compiled into the binary (te_embed).
 *
 * Each migration runs in its own transaction that first takes a transaction-level
 * advisory lock, then checks schema_migrations, applies the file with one simple-query
 * PQexec (multi-statement, dollar-quoted bodies are fine) and records it.
 */
#include "te_pg.h"

#include "te_buf.h"
#include "te_embed.h"
#include "te_log.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define TE_PG_MIGRATIONS_DIR "schemas/migrations/"
#define TE_PG_MIGRATIONS_MAX 1024
/* pg_advisory_xact_lock key shared by every process that migrates ("te_migr"). */
#define TE_PG_MIGRATE_LOCK "7310593858008016498"

static te_pg_migration_t te_pg_migrations[TE_PG_MIGRATIONS_MAX];
static size_t te_pg_n_migrations;
static pthread_once_t te_pg_migrations_once = PTHREAD_ONCE_INIT;

static void te_pg_err(char *errstr, size_t errsz, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void te_pg_err(char *errstr, size_t errsz, const char *fmt, ...)
{
        if (!errstr || errsz == 0)
                return;
        va_list ap;
        va_start(ap, fmt);
        te_verrf(errstr, errsz, fmt, ap);
        va_end(ap);
        /* libpq messages end with a newline */
        size_t n = strlen(errstr);
        while (n > 0 && (errstr[n - 1] == '\n' || errstr[n - 1] == ' '))
                errstr[--n] = '\0';
}

/* Server notices ("relation already exists, skipping") go to the JSON log, not to a
 * bare line on stderr. */
static void te_pg_notice(void *arg, const char *message)
{
        (void)arg;
        char msg[1024];
        te_strlcpy(msg, message, sizeof msg);
        size_t n = strlen(msg);
        while (n > 0 && msg[n - 1] == '\n')
                msg[--n] = '\0';
        TE_LOG(TE_LOG_DEBUG, NULL, "pg.notice", "%s", msg);
}

int te_pg_conninfo_has_password(const char *conninfo)
{
        if (!conninfo || !*conninfo)
                return 0;
        char *perr = NULL;
        PQconninfoOption *opts = PQconninfoParse(conninfo, &perr);
        if (!opts) {
                PQfreemem(perr);
                /* cannot parse: be conservative */
                return strcasestr(conninfo, "password") != NULL;
        }
        int has = 0;
        for (PQconninfoOption *o = opts; o->keyword; o++)
                if (strcmp(o->keyword, "password") == 0 && o->val)
                        has = 1;
        PQconninfoFree(opts);
        return has;
}

PGconn *te_pg_connect(const char *conninfo, char *errstr, size_t errsz)
{
        if (!conninfo)
                conninfo = "";
        if (te_pg_conninfo_has_password(conninfo)) {
                te_pg_err(errstr, errsz,
                          "conninfo must not contain a password (use PGPASSFILE/.pgpass "
                          "or PGPASSWORD)");
                return NULL;
        }
        if (*conninfo) {
                char *perr = NULL;
                PQconninfoOption *opts = PQconninfoParse(conninfo, &perr);
                /* libpq's parse error may quote part of the string: do not pass it on */
                PQfreemem(perr);
                if (!opts) {
                        te_pg_err(errstr, errsz, "invalid conninfo");
                        return NULL;
                }
                PQconninfoFree(opts);
        }
        PGconn *conn = PQconnectdb(conninfo);
        if (!conn) {
                te_pg_err(errstr, errsz, "connect: out of memory");
                return NULL;
        }
        if (PQstatus(conn) != CONNECTION_OK) {
                /* libpq's message names host/socket and user, never the password */
                char why[512];
                te_pg_err(why, sizeof why, "%s", PQerrorMessage(conn));
                te_pg_err(errstr, errsz, "connect failed: %s", why);
                TE_LOG(TE_LOG_ERROR, NULL, "pg.connect_failed", "%s", why);
                PQfinish(conn);
                return NULL;
        }
        PQsetNoticeProcessor(conn, te_pg_notice, NULL);
        return conn;
}

int te_pg_exec(PGconn *conn, const char *sql, char *errstr, size_t errsz)
{
        PGresult *r = PQexec(conn, sql);
        ExecStatusType st = PQresultStatus(r);
        if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK) {
                PQclear(r);
                return 0;
        }
        te_pg_err(errstr, errsz, "%s",
                  r ? PQresultErrorMessage(r) : PQerrorMessage(conn));
        PQclear(r);
        return -1;
}

int te_pg_offsets(PGconn *conn, const char *table, const char *group, const char *topic,
                  int64_t *off, int n)
{
        char sql[160];
        const char *params[2] = {group, topic};
        snprintf(sql, sizeof sql,
                 "SELECT kafka_partition, next_offset FROM %s "
                 "WHERE consumer_group = $1 AND topic = $2",
                 table);
        PGresult *r = PQexecParams(conn, sql, 2, NULL, params, NULL, NULL, 0);
        int found = PQresultStatus(r) == PGRES_TUPLES_OK ? 0 : -1;
        for (int i = 0; found >= 0 && i < PQntuples(r); i++) {
                long p = strtol(PQgetvalue(r, i, 0), NULL, 10);
                if (p >= 0 && p < n) {
                        off[p] = strtoll(PQgetvalue(r, i, 1), NULL, 10);
                        found++;
                }
        }
        PQclear(r);
        return found;
}

static int te_pg_has_suffix(const char *s, const char *suffix)
{
        size_t n = strlen(s), m = strlen(suffix);
        return n >= m && strcmp(s + n - m, suffix) == 0;
}

static void te_pg_migrations_load(void)
{
        size_t pfx = strlen(TE_PG_MIGRATIONS_DIR);
        const char *name;
        for (size_t i = 0; (name = te_embed_name(i)) != NULL; i++) {
                if (strncmp(name, TE_PG_MIGRATIONS_DIR, pfx) != 0 ||
                    !te_pg_has_suffix(name, ".sql") || strchr(name + pfx, '/'))
                        continue;
                if (te_pg_n_migrations == TE_PG_MIGRATIONS_MAX) {
                        TE_LOG(TE_LOG_ERROR, NULL, "pg.migrations",
                               "more than %d migrations; ignoring %s",
                               TE_PG_MIGRATIONS_MAX, name);
                        continue;
                }
                te_pg_migrations[te_pg_n_migrations].name = name + pfx;
                te_pg_migrations[te_pg_n_migrations].sql = te_embed_get(name, NULL);
                te_pg_n_migrations++;
        }
}

size_t te_pg_migration_count(void)
{
        pthread_once(&te_pg_migrations_once, te_pg_migrations_load);
        return te_pg_n_migrations;
}

const te_pg_migration_t *te_pg_migration_get(size_t i)
{
        pthread_once(&te_pg_migrations_once, te_pg_migrations_load);
        return i < te_pg_n_migrations ? &te_pg_migrations[i] : NULL;
}

static void te_pg_rollback(PGconn *conn)
{
        PQclear(PQexec(conn, "ROLLBACK"));
}

/* Apply one migration in its own transaction. @returns 1 applied, 0 already there,
 * -1 with errstr. */
static int te_pg_apply_one(PGconn *conn, const te_pg_migration_t *m, char *errstr,
                           size_t errsz)
{
        char why[1024];
        const char *params[1] = {m->name};

        if (te_pg_exec(conn, "BEGIN", why, sizeof why) != 0 ||
            te_pg_exec(conn, "SELECT pg_advisory_xact_lock(" TE_PG_MIGRATE_LOCK ")", why,
                       sizeof why) != 0)
                goto err;

        PGresult *r =
            PQexecParams(conn, "SELECT 1 FROM schema_migrations WHERE name = $1", 1, NULL,
                         params, NULL, NULL, 0);
        if (PQresultStatus(r) != PGRES_TUPLES_OK) {
                te_pg_err(why, sizeof why, "%s", PQresultErrorMessage(r));
                PQclear(r);
                goto err;
        }
        int done = PQntuples(r) > 0;
        PQclear(r);
        if (done) {
                if (te_pg_exec(conn, "COMMIT", why, sizeof why) != 0)
                        goto err;
                return 0;
        }

        if (te_pg_exec(conn, m->sql, why, sizeof why) != 0)
                goto err;
        r = PQexecParams(conn, "INSERT INTO schema_migrations (name) VALUES ($1)", 1,
                         NULL, params, NULL, NULL, 0);
        if (PQresultStatus(r) != PGRES_COMMAND_OK) {
                te_pg_err(why, sizeof why, "%s", PQresultErrorMessage(r));
                PQclear(r);
                goto err;
        }
        PQclear(r);
        if (te_pg_exec(conn, "COMMIT", why, sizeof why) != 0)
                goto err;
        TE_LOG(TE_LOG_INFO, NULL, "pg.migrated", "applied %s", m->name);
        return 1;

err:
        te_pg_rollback(conn);
        te_pg_err(errstr, errsz, "migration %s: %s", m->name, why);
        return -1;
}

int te_pg_migrate(PGconn *conn, char *errstr, size_t errsz)
{
        char why[1024];
        int applied = 0;

        /* the bookkeeping table itself is created under the same lock: two concurrent
         * CREATE TABLE IF NOT EXISTS can otherwise collide in the catalog */
        if (te_pg_exec(conn, "BEGIN", why, sizeof why) != 0 ||
            te_pg_exec(conn, "SELECT pg_advisory_xact_lock(" TE_PG_MIGRATE_LOCK ")", why,
                       sizeof why) != 0 ||
            te_pg_exec(conn,
                       "CREATE TABLE IF NOT EXISTS schema_migrations ("
                       " name text PRIMARY KEY,"
                       " applied_at timestamptz NOT NULL DEFAULT now())",
                       why, sizeof why) != 0 ||
            te_pg_exec(conn, "COMMIT", why, sizeof why) != 0) {
                te_pg_rollback(conn);
                te_pg_err(errstr, errsz, "schema_migrations: %s", why);
                return -1;
        }

        size_t n = te_pg_migration_count();
        for (size_t i = 0; i < n; i++) {
                int rc = te_pg_apply_one(conn, te_pg_migration_get(i), errstr, errsz);
                if (rc < 0)
                        return -1;
                applied += rc;
        }
        return applied;
}

te_pg_err_class_t te_pg_err_class(const char *sqlstate)
{
        if (!sqlstate || strlen(sqlstate) != 5)
                return TE_PG_ERR_TRANSIENT; /* no answer from the server */
        if (strncmp(sqlstate, "22", 2) == 0 || strncmp(sqlstate, "23", 2) == 0)
                return TE_PG_ERR_DATA;
        if (strncmp(sqlstate, "08", 2) == 0 ||  /* connection exception */
            strncmp(sqlstate, "57P", 3) == 0 || /* shutdown, cannot connect now */
            strncmp(sqlstate, "53", 2) == 0 ||  /* insufficient resources */
            strncmp(sqlstate, "40", 2) == 0 ||  /* serialization failure, deadlock */
            strncmp(sqlstate, "58", 2) == 0 ||  /* system error (I/O) */
            strcmp(sqlstate, "55P03") == 0 ||   /* lock not available */
            strcmp(sqlstate, "57014") == 0)     /* query canceled */
                return TE_PG_ERR_TRANSIENT;
        return TE_PG_ERR_OTHER;
}

const char *te_pg_err_class_name(te_pg_err_class_t c)
{
        switch (c) {
        case TE_PG_ERR_TRANSIENT:
                return "transient";
        case TE_PG_ERR_DATA:
                return "data";
        case TE_PG_ERR_OTHER:
                break;
        }
        return "other";
}
