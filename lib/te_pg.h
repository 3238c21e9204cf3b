/*
 * te_pg: PostgreSQL connection, migrations and the stored per-partition offsets.
 *
 * Connections use a libpq conninfo string that must not carry a password: credentials
 * come from libpq's environment (PG* variables) and ~/.pgpass. An empty conninfo means
 * "all from the environment". Connection errors are logged without the conninfo.
 *
 * Migrations are the numbered files schemas/migrations/NNNN_name.sql, compiled into the
 * binaries. te_pg_migrate applies, in order, those not yet recorded in
 * schema_migrations, each in its own transaction, under an advisory lock so that two
 * processes starting together do not race. Applying twice is harmless.
 */
#ifndef TE_PG_H
#define TE_PG_H

#include <stddef.h>
#include <stdint.h>
#include <libpq-fe.h>

/** Connect. @returns the connection, or NULL with errstr (no secrets in it). */
PGconn *te_pg_connect(const char *conninfo, char *errstr, size_t errsz);
/** @returns 1 if conninfo contains a password= parameter (which we refuse). */
int te_pg_conninfo_has_password(const char *conninfo);
/** Apply pending migrations. @returns the number applied (>= 0), or -1 with errstr. */
int te_pg_migrate(PGconn *conn, char *errstr, size_t errsz);
/** Execute a statement with no result rows. @returns 0 or -1 with errstr. */
int te_pg_exec(PGconn *conn, const char *sql, char *errstr, size_t errsz);

/** The next offsets that `table` (consumer_offsets or planner_orders_offsets) holds for
 *  `group` on `topic`: off[p] for each partition p < n with a row, the others left as
 *  they are. @returns how many were set, or -1 (PQerrorMessage says why). */
int te_pg_offsets(PGconn *conn, const char *table, const char *group, const char *topic,
                  int64_t *off, int n);
/* What a failed statement's SQLSTATE says about trying it again. */
typedef enum {
        TE_PG_ERR_TRANSIENT, /* the server or the link (08, 57P, 53, 40, 58, 55P03,
                                57014, none at all): the same statement may work later */
        TE_PG_ERR_DATA,      /* the data (22 data exception, 23 integrity constraint
                                violation): it fails again with the same values */
        TE_PG_ERR_OTHER,     /* anything else (e.g. 42 undefined object, a schema or
                                code problem): not the data's fault, wait for a fix */
} te_pg_err_class_t;
/** Classify a SQLSTATE (5 characters; NULL or "" when the server gave none, e.g. the
 *  connection was lost). */
te_pg_err_class_t te_pg_err_class(const char *sqlstate);
/** @returns "transient", "data" or "other". */
const char *te_pg_err_class_name(te_pg_err_class_t c);

/** The compiled-in migrations, in order. */
typedef struct te_pg_migration_s {
        const char *name; /* file name, e.g. "0001_init.sql" */
        const char *sql;
} te_pg_migration_t;
size_t te_pg_migration_count(void);
const te_pg_migration_t *te_pg_migration_get(size_t i);

#endif
