/*
 * exec-dbtool: runtime-database chores from the command line.
 *
 *   exec-dbtool migrate          apply pending migrations (compiled in); prints
 *                                "migrate: applied N of M"
 *   exec-dbtool check            invariants 4 and 2: position_check, cash_check,
 *                                position_cost_check (average cost, realized P&L),
 *                                exactly_once_check (fills vs trades, cum qty,
 *                                commissions), order_overfill_check (fills beyond an
 *                                order's quantity), open_order_check (open orders their
 *                                broker no longer works on) and planner_portfolio_check
 *                                (a portfolio planned into the future) and
 *                                planner_deadletter_check (a portfolio whose last 3
 *                                or more targets were all dead-lettered) must be empty
 *                                (migrations 0007 and 0010 say what each one can and
 *                                cannot see); prints the offending rows and exits 1 if
 *                                not
 *   exec-dbtool load-bars FILE   load a bars CSV (date,ticker,open,high,low,close,volume
 *                                after '#' comment lines and the header) into
 *                                prices_daily; every row is validated, bad rows are
 *                                reported as FILE:LINE and skipped; idempotent (COPY into
 *                                a temp table, then INSERT ... ON CONFLICT DO NOTHING)
 *
 *   exec-dbtool offsets ...      show or move a group's offsets stored in the DB
 *                                (consumer_offsets), with a dry run: dbtool_offsets.c
 *
 * Settings as every process, before the command: -c FILE, EXEC_* variables and
 * -o KEY=VALUE for log.level, db.conninfo (without password; empty: libpq's
 * environment, PGHOST, PGPORT, PGUSER, PGDATABASE, ~/.pgpass), bootstrap.file and
 * kafka.* (the cluster offsets reset reads).
 * Exit status: 0 success, 1 check found rows / load-bars skipped bad rows (the good
 * ones are loaded), 2 usage, file or database errors.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libpq-fe.h>

#include "dbtool_offsets.h"
#include "te_buf.h"
#include "te_cfgtab.h"
#include "te_log.h"
#include "te_proc.h"
#include "te_pg.h"

#define DB_PROC           "exec-dbtool"
#define DB_LINE_MAX       1024 /* one CSV line, newline included */
#define DB_TICKER_MAX     32
#define DB_BAD_SHOWN      100 /* bad rows reported one by one, then only counted */
#define DB_COPY_CHUNK     (64 * 1024)
#define DB_CHECK_ROWS_MAX 100
#define DB_BARS_HEADER    "date,ticker,open,high,low,close,volume"

/* Settings: a config table like every process's (-c FILE, -o KEY=VALUE, EXEC_*). */
typedef struct db_conf_s {
        int log_level;
        char db_conninfo[512];
        char bootstrap_file[1024];
} db_conf_t;

static const te_cfg_item_t db_items[] = {
    TE_CFG_E(db_conf_t, "log.level", log_level, "warn", te_cfg_log_levels,
             "minimum level of the JSON log lines on stderr"),
    TE_CFG_S(db_conf_t, "db.conninfo", db_conninfo, "",
             "libpq conninfo without password; empty = PG* environment"),
    TE_CFG_S(db_conf_t, "bootstrap.file", bootstrap_file, "",
             "offsets reset: the cluster's bootstrap list from this file (when neither "
             "-b nor --bootstrap-file)"),
};
#define DB_N_ITEMS (sizeof db_items / sizeof db_items[0])

static db_conf_t conf; /* set once by main */

static PGconn *db_connect(void)
{
        char errstr[512];
        PGconn *conn = te_pg_connect(conf.db_conninfo, errstr, sizeof errstr);

        if (conn == NULL)
                fprintf(stderr, DB_PROC ": %s\n", errstr);
        return conn;
}

/* ---- migrate -------------------------------------------------------------------- */

static int cmd_migrate(void)
{
        char errstr[1024];
        PGconn *conn;
        int n;

        conn = db_connect();
        if (conn == NULL)
                return 2;
        n = te_pg_migrate(conn, errstr, sizeof errstr);
        PQfinish(conn);
        if (n < 0) {
                fprintf(stderr, DB_PROC ": migrate: %s\n", errstr);
                return 2;
        }
        printf("migrate: applied %d of %zu\n", n, te_pg_migration_count());
        return 0;
}

/* ---- check ---------------------------------------------------------------------- */

/** Print up to DB_CHECK_ROWS_MAX rows of `view` if it has any.
 *  @returns the row count, or -1 on a database error. */
static long check_view(PGconn *conn, const char *view)
{
        char sql[128];
        PGresult *res;
        long count;
        int ncols;

        snprintf(sql, sizeof sql, "SELECT count(*) FROM %s", view);
        res = PQexec(conn, sql);
        if (PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) != 1) {
                fprintf(stderr, DB_PROC ": check: %s: %s", view, PQerrorMessage(conn));
                PQclear(res);
                return -1;
        }
        count = strtol(PQgetvalue(res, 0, 0), NULL, 10);
        PQclear(res);
        printf("check: %s: %ld row%s\n", view, count, count == 1 ? "" : "s");
        if (count == 0)
                return 0;

        snprintf(sql, sizeof sql, "SELECT * FROM %s ORDER BY 1, 2 LIMIT %d", view,
                 DB_CHECK_ROWS_MAX);
        res = PQexec(conn, sql);
        if (PQresultStatus(res) != PGRES_TUPLES_OK) {
                fprintf(stderr, DB_PROC ": check: %s: %s", view, PQerrorMessage(conn));
                PQclear(res);
                return -1;
        }
        ncols = PQnfields(res);
        for (int c = 0; c < ncols; c++)
                printf("%s%s", c ? "\t" : "  ", PQfname(res, c));
        printf("\n");
        for (int r = 0; r < PQntuples(res); r++) {
                for (int c = 0; c < ncols; c++)
                        printf("%s%s", c ? "\t" : "  ",
                               PQgetisnull(res, r, c) ? "NULL" : PQgetvalue(res, r, c));
                printf("\n");
        }
        if (count > DB_CHECK_ROWS_MAX)
                printf("  ... %ld more\n", count - DB_CHECK_ROWS_MAX);
        PQclear(res);
        return count;
}

static int cmd_check(void)
{
        static const char *const views[] = {
            "position_check",          "cash_check",
            "position_cost_check",     "exactly_once_check",
            "order_overfill_check",    "open_order_check",
            "planner_portfolio_check", "planner_deadletter_check"};
        PGconn *conn;
        int rc = 0;

        conn = db_connect();
        if (conn == NULL)
                return 2;
        for (size_t i = 0; i < sizeof views / sizeof views[0]; i++) {
                long n = check_view(conn, views[i]);
                if (n < 0) {
                        rc = 2;
                        break;
                }
                if (n > 0)
                        rc = 1;
        }
        PQfinish(conn);
        if (rc == 0)
                printf("check: ok\n");
        return rc;
}

/* ---- load-bars ------------------------------------------------------------------ */

typedef struct bars_load_s {
        const char *path;
        PGconn *conn;
        te_buf_t copy; /* rows waiting for PQputCopyData */
        long rows;     /* valid rows sent */
        long bad;
} bars_load_t;

static int is_leap(int y)
{
        return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

/** @returns 1 if `s` is a real calendar date YYYY-MM-DD (years 1900..2999). */
static int date_ok(const char *s)
{
        static const int mdays[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
        int y, m, d;

        if (strlen(s) != 10 || s[4] != '-' || s[7] != '-')
                return 0;
        for (int i = 0; i < 10; i++)
                if (i != 4 && i != 7 && (s[i] < '0' || s[i] > '9'))
                        return 0;
        y = (s[0] - '0') * 1000 + (s[1] - '0') * 100 + (s[2] - '0') * 10 + (s[3] - '0');
        m = (s[5] - '0') * 10 + (s[6] - '0');
        d = (s[8] - '0') * 10 + (s[9] - '0');
        if (y < 1900 || y > 2999 || m < 1 || m > 12 || d < 1)
                return 0;
        return d <= mdays[m - 1] + (m == 2 && is_leap(y));
}

/** @returns 1 if `s` is a ticker we accept: 1..DB_TICKER_MAX of [A-Z0-9._-]. */
static int ticker_ok(const char *s)
{
        size_t n = strlen(s);

        if (n == 0 || n > DB_TICKER_MAX)
                return 0;
        for (size_t i = 0; i < n; i++)
                if (!((s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= '0' && s[i] <= '9') ||
                      s[i] == '.' || s[i] == '_' || s[i] == '-'))
                        return 0;
        return 1;
}

/** Parse a plain decimal number (digits, '.', exponent; no hex, inf or nan).
 *  @returns 0, or -1 if `s` is not one or not finite. */
static int decimal_parse(const char *s, double *out)
{
        char *end = NULL;

        if (*s == '\0' || strspn(s, "0123456789.eE+-") != strlen(s))
                return -1;
        errno = 0;
        *out = strtod(s, &end);
        if (errno == ERANGE || end == s || *end != '\0' || !isfinite(*out))
                return -1;
        return 0;
}

/** Validate one data line (no newline). On success the fields are appended to the COPY
 *  buffer as a text-format row. @returns 0, or -1 with the reason in `why`. */
static int bars_row(bars_load_t *ld, char *line, char *why, size_t whysz)
{
        static const char *const names[7] = {"date", "ticker", "open",  "high",
                                             "low",  "close",  "volume"};
        char *f[7];
        double v[7];
        size_t n = 0;
        char *p = line;

        for (;;) {
                char *comma = strchr(p, ',');
                if (n == 7) {
                        snprintf(why, whysz, "more than 7 fields");
                        return -1;
                }
                f[n++] = p;
                if (comma == NULL)
                        break;
                *comma = '\0';
                p = comma + 1;
        }
        if (n != 7) {
                snprintf(why, whysz, "fewer than 7 fields");
                return -1;
        }
        if (!date_ok(f[0])) {
                snprintf(why, whysz, "date: not a valid YYYY-MM-DD");
                return -1;
        }
        if (!ticker_ok(f[1])) {
                snprintf(why, whysz, "ticker: need 1-%d of A-Z 0-9 . _ -", DB_TICKER_MAX);
                return -1;
        }
        for (int i = 2; i < 7; i++) {
                if (decimal_parse(f[i], &v[i]) != 0) {
                        snprintf(why, whysz, "%s: not a finite decimal number", names[i]);
                        return -1;
                }
        }
        if (v[2] <= 0 || v[3] <= 0 || v[4] <= 0 || v[5] <= 0) {
                snprintf(why, whysz, "prices must be positive");
                return -1;
        }
        if (!(v[4] <= v[2] && v[4] <= v[5] && v[2] <= v[3] && v[5] <= v[3])) {
                snprintf(why, whysz, "need low <= open, close <= high");
                return -1;
        }
        if (v[6] < 0) {
                snprintf(why, whysz, "volume must be >= 0");
                return -1;
        }
        /* The validated text goes to the server as it is: the same decimal, no
         * re-formatting. Fields hold no tab, backslash or newline. */
        if (te_buf_printf(&ld->copy, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", f[1], f[0], f[2],
                          f[3], f[4], f[5], f[6]) != 0) {
                snprintf(why, whysz, "out of memory");
                return -1;
        }
        return 0;
}

static int copy_flush(bars_load_t *ld)
{
        if (ld->copy.len == 0)
                return 0;
        if (PQputCopyData(ld->conn, (const char *)ld->copy.data, (int)ld->copy.len) !=
            1) {
                fprintf(stderr, DB_PROC ": COPY: %s", PQerrorMessage(ld->conn));
                return -1;
        }
        te_buf_reset(&ld->copy);
        return 0;
}

static void bad_row(bars_load_t *ld, long lineno, const char *why)
{
        ld->bad++;
        if (ld->bad <= DB_BAD_SHOWN)
                fprintf(stderr, "%s:%ld: %s (row skipped)\n", ld->path, lineno, why);
        else if (ld->bad == DB_BAD_SHOWN + 1)
                fprintf(stderr, "%s: more bad rows: only counting from here\n", ld->path);
}

/** Stream the file's valid rows into the COPY in progress.
 *  @returns 0, or -1 on a read/COPY error (reported). */
static int bars_stream(bars_load_t *ld, FILE *fp)
{
        char line[DB_LINE_MAX];
        long lineno = 0;
        int seen_header = 0;

        while (fgets(line, sizeof line, fp) != NULL) {
                size_t len = strlen(line);
                char why[128];

                lineno++;
                if (len > 0 && line[len - 1] == '\n') {
                        line[--len] = '\0';
                } else if (!feof(fp)) {
                        int c;
                        while ((c = fgetc(fp)) != EOF && c != '\n')
                                ;
                        bad_row(ld, lineno, "line too long");
                        continue;
                }
                if (len > 0 && line[len - 1] == '\r')
                        line[--len] = '\0';
                if (line[0] == '#' || len == 0)
                        continue;
                if (!seen_header) {
                        if (strcmp(line, DB_BARS_HEADER) != 0) {
                                fprintf(stderr, "%s:%ld: expected the header `%s`\n",
                                        ld->path, lineno, DB_BARS_HEADER);
                                return -1;
                        }
                        seen_header = 1;
                        continue;
                }
                if (bars_row(ld, line, why, sizeof why) != 0) {
                        bad_row(ld, lineno, why);
                        continue;
                }
                ld->rows++;
                if (ld->copy.len >= DB_COPY_CHUNK && copy_flush(ld) != 0)
                        return -1;
        }
        if (ferror(fp)) {
                fprintf(stderr, "%s: read error\n", ld->path);
                return -1;
        }
        if (!seen_header) {
                fprintf(stderr, "%s: no header line `%s`\n", ld->path, DB_BARS_HEADER);
                return -1;
        }
        return copy_flush(ld);
}

static int exec_ok(PGconn *conn, const char *sql)
{
        char errstr[1024];

        if (te_pg_exec(conn, sql, errstr, sizeof errstr) != 0) {
                fprintf(stderr, DB_PROC ": %s\n", errstr);
                return -1;
        }
        return 0;
}

static int cmd_load_bars(const char *path)
{
        bars_load_t ld = {.path = path};
        PGresult *res = NULL;
        FILE *fp;
        int streamed;
        long inserted;

        fp = fopen(path, "r");
        if (fp == NULL) {
                fprintf(stderr, DB_PROC ": %s: %s\n", path, strerror(errno));
                return 2;
        }
        te_buf_init(&ld.copy, 2 * DB_COPY_CHUNK);
        ld.conn = db_connect();
        if (ld.conn == NULL)
                goto err;
        if (exec_ok(ld.conn, "BEGIN") != 0 ||
            exec_ok(ld.conn, "CREATE TEMP TABLE bars_stage (LIKE prices_daily) "
                             "ON COMMIT DROP") != 0)
                goto err;
        res = PQexec(ld.conn, "COPY bars_stage (ticker, date, open, high, low, close, "
                              "volume) FROM STDIN");
        if (PQresultStatus(res) != PGRES_COPY_IN) {
                fprintf(stderr, DB_PROC ": COPY: %s", PQerrorMessage(ld.conn));
                goto err;
        }
        PQclear(res);
        res = NULL;

        streamed = bars_stream(&ld, fp);
        if (PQputCopyEnd(ld.conn, streamed == 0 ? NULL : "input rejected") != 1) {
                fprintf(stderr, DB_PROC ": COPY: %s", PQerrorMessage(ld.conn));
                goto err;
        }
        res = PQgetResult(ld.conn);
        if (streamed != 0)
                goto err;
        if (PQresultStatus(res) != PGRES_COMMAND_OK) {
                fprintf(stderr, DB_PROC ": COPY: %s", PQerrorMessage(ld.conn));
                goto err;
        }
        PQclear(res);
        while ((res = PQgetResult(ld.conn)) != NULL)
                PQclear(res);

        res =
            PQexec(ld.conn, "INSERT INTO prices_daily (ticker, date, open, high, low, "
                            "close, volume) SELECT ticker, date, open, high, low, close, "
                            "volume FROM bars_stage ON CONFLICT DO NOTHING");
        if (PQresultStatus(res) != PGRES_COMMAND_OK) {
                fprintf(stderr, DB_PROC ": insert: %s", PQerrorMessage(ld.conn));
                goto err;
        }
        inserted = strtol(PQcmdTuples(res), NULL, 10);
        PQclear(res);
        res = NULL;
        if (exec_ok(ld.conn, "COMMIT") != 0)
                goto err;

        printf("load-bars: %s: %ld valid rows, %ld bad rows skipped, %ld inserted, "
               "%ld already present or repeated\n",
               path, ld.rows, ld.bad, inserted, ld.rows - inserted);
        PQfinish(ld.conn);
        te_buf_free(&ld.copy);
        fclose(fp);
        return ld.bad > 0 ? 1 : 0;

err:
        PQclear(res);
        if (ld.conn != NULL) {
                while ((res = PQgetResult(ld.conn)) != NULL)
                        PQclear(res);
                PQfinish(ld.conn);
        }
        te_buf_free(&ld.copy);
        fclose(fp);
        fprintf(stderr, DB_PROC ": load-bars: %s: nothing loaded\n", path);
        return 2;
}

/* ---- main ----------------------------------------------------------------------- */

static void usage(FILE *fp)
{
        fprintf(fp, "usage: " DB_PROC " [-c CONFIG] [-o KEY=VALUE]... migrate | check | "
                    "load-bars FILE.csv | offsets ...\n"
                    "       " DB_PROC " -h | --version\n");
        te_dbtool_offsets_usage(fp);
        fprintf(fp, "  -c CONFIG       key = value file (the keys below, kafka.*)\n"
                    "  -o KEY=VALUE    set one key (repeatable; wins over the file and "
                    "the environment)\n"
                    "settings (defaults < -c file < environment EXEC_<KEY> < -o):\n");
        te_cfgtab_usage_keys(fp, db_items, DB_N_ITEMS);
        fprintf(fp, "  kafka.<property> offsets reset: passed to librdkafka\n"
                    "  the database comes from db.conninfo, else PGHOST, PGPORT, PGUSER, "
                    "PGDATABASE\n"
                    "  (libpq environment)\n"
                    "  exit: 0 ok, 1 check found rows / bad CSV rows skipped / no "
                    "offsets shown,\n        2 error\n");
}

/* The -c and -o before the command into `conf`. @returns the config and *used (the
 * arguments taken), or NULL (printed). */
static te_cfg_t *load_settings(int argc, char **argv, int *used)
{
        char errstr[1200];
        te_tool_args_t a = {0};
        int i = 1;
        for (; i + 1 < argc && (!strcmp(argv[i], "-c") || !strcmp(argv[i], "-o")); i += 2)
                if (te_tool_opt(&a, DB_PROC, argv[i][1], argv[i + 1]) < 0)
                        return NULL;
        *used = i - 1;
        if (i < argc && (!strcmp(argv[i], "-c") || !strcmp(argv[i], "-o"))) {
                fprintf(stderr, DB_PROC ": %s needs a value (see -h)\n", argv[i]);
                return NULL;
        }
        te_cfg_t *cfg =
            te_tool_cfg_load(db_items, DB_N_ITEMS, &conf, &a, errstr, sizeof errstr);
        if (cfg && te_pg_conninfo_has_password(conf.db_conninfo)) {
                snprintf(errstr, sizeof errstr,
                         "db.conninfo: must not contain a password "
                         "(use PGPASSWORD or ~/.pgpass)");
                te_cfg_destroy(cfg);
                cfg = NULL;
        }
        if (!cfg) {
                fprintf(stderr, DB_PROC ": config: %s\n", errstr);
                return NULL;
        }
        te_log_init(DB_PROC, (te_log_level_t)conf.log_level);
        return cfg;
}

/* Run the command argv[0] (argc words). @returns the exit status. */
static int run(const te_cfg_t *cfg, int argc, char **argv)
{
        if (argc == 1 && strcmp(argv[0], "migrate") == 0)
                return cmd_migrate();
        if (argc == 1 && strcmp(argv[0], "check") == 0)
                return cmd_check();
        if (argc == 2 && strcmp(argv[0], "load-bars") == 0)
                return cmd_load_bars(argv[1]);
        if (argc >= 1 && strcmp(argv[0], "offsets") == 0) {
                te_dbtool_settings_t set = {conf.db_conninfo, conf.bootstrap_file, cfg};
                return te_dbtool_offsets(&set, argc - 1, argv + 1);
        }
        if (argc < 1)
                fprintf(stderr, DB_PROC ": no command (see -h)\n");
        else
                fprintf(stderr, DB_PROC ": unknown command or arguments '%s' (see -h)\n",
                        argv[0]);
        return 2;
}

int main(int argc, char **argv)
{
        int used;
        te_log_init(DB_PROC, TE_LOG_WARN);
        if (argc == 2 && (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0)) {
                usage(stdout);
                return 0;
        }
        if (argc == 2 && strcmp(argv[1], "--version") == 0) {
                te_proc_print_version(stdout, DB_PROC);
                return 0;
        }
        te_cfg_t *cfg = load_settings(argc, argv, &used);
        if (!cfg)
                return 2;
        int rc = run(cfg, argc - 1 - used, argv + 1 + used);
        te_cfg_destroy(cfg);
        return rc;
}
