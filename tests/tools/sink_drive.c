/*
 * sink_drive: feed execution reports through the sink's staging code (pg_sink.c) into
 * the database libpq's environment points at, without Kafka. For test_sink_equiv.sh:
 *
 *   sink_drive FILE
 *
 * FILE has one report per line, tab-separated, in the column order below, and lines
 * "COMMIT" that end a batch (te_pg_sink_commit_stage). Texts use the COPY text escapes
 * \t, \n and \\. Prints "applied N" per batch, and at the end on stderr how many
 * batches took each path ("paths direct=N arrays=N staged=N": COPY, small batch from
 * arrays, staging tables; a batch with only offsets counts as direct). Exit 0, or 1 with
 * a message on stderr. With SINK_DRIVE_STAGED=1 in the environment every batch takes the
 * staged path (te_pg_sink_set_direct off).
 *
 * columns: report_id order_id exec_type order_status ticker side last_qty last_price
 *          cum_qty leaves_qty avg_price commission reason broker account event_ms
 *          decision_id portfolio_id mode kafka_offset
 */
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pg_sink.h"
#include "te_buf.h"
#include "te_pg.h"

#define NCOLS 20

static void unescape(char *s)
{
        char *o = s;
        for (; *s; s++) {
                if (*s == '\\' && s[1]) {
                        s++;
                        *o++ = *s == 't' ? '\t' : *s == 'n' ? '\n' : *s;
                } else {
                        *o++ = *s;
                }
        }
        *o = '\0';
}

static int lookup(const char *const *names, int n, const char *v)
{
        for (int i = 0; i < n; i++)
                if (strcmp(names[i], v) == 0)
                        return i;
        return -1;
}

static int parse(char *line, te_exec_report_t *r, long long *offset)
{
        char *col[NCOLS];
        int n = 0;
        for (char *p = line; n < NCOLS; n++) {
                col[n] = p;
                char *t = strchr(p, '\t');
                if (!t) {
                        n++;
                        break;
                }
                *t = '\0';
                p = t + 1;
        }
        if (n != NCOLS)
                return -1;
        for (int i = 0; i < NCOLS; i++)
                unescape(col[i]);
        memset(r, 0, sizeof *r);
        int et = lookup(te_exec_type_names, TE_EXEC__CNT, col[2]);
        int os = lookup(te_order_status_names, TE_OS__CNT, col[3]);
        if (et < 0 || os < 0)
                return -1;
        te_strlcpy(r->report_id, col[0], sizeof r->report_id);
        te_strlcpy(r->order_id, col[1], sizeof r->order_id);
        r->exec_type = (te_exec_type_t)et;
        r->order_status = (te_order_status_t)os;
        te_strlcpy(r->ticker, col[4], sizeof r->ticker);
        r->side = strcmp(col[5], "SELL") == 0 ? TE_SIDE_SELL : TE_SIDE_BUY;
        r->last_qty = strtod(col[6], NULL);
        r->last_price = strtod(col[7], NULL);
        r->cum_qty = strtod(col[8], NULL);
        r->leaves_qty = strtod(col[9], NULL);
        r->avg_price = strtod(col[10], NULL);
        r->commission = strtod(col[11], NULL);
        te_strlcpy(r->reason, col[12], sizeof r->reason);
        te_strlcpy(r->broker, col[13], sizeof r->broker);
        te_strlcpy(r->account, col[14], sizeof r->account);
        r->event_time = strtoll(col[15], NULL, 10);
        te_strlcpy(r->ids.decision_id, col[16], sizeof r->ids.decision_id);
        te_strlcpy(r->ids.portfolio_id, col[17], sizeof r->ids.portfolio_id);
        te_strlcpy(r->ids.strategy_id, "s", sizeof r->ids.strategy_id);
        te_strlcpy(r->ids.profile_version_id, "pv", sizeof r->ids.profile_version_id);
        te_strlcpy(r->ids.regime_id, "rg", sizeof r->ids.regime_id);
        te_strlcpy(r->ids.universe_id, "u", sizeof r->ids.universe_id);
        r->mode =
            strcmp(col[18], "PRODUCTION") == 0 ? TE_MODE_PRODUCTION : TE_MODE_TRAINING;
        *offset = strtoll(col[19], NULL, 10);
        return 0;
}

int main(int argc, char **argv)
{
        char errstr[1024], line[8192];
        if (argc != 2) {
                fprintf(stderr, "usage: sink_drive FILE\n");
                return 1;
        }
        FILE *in = fopen(argv[1], "r");
        if (!in) {
                perror(argv[1]);
                return 1;
        }
        PGconn *db = te_pg_connect("", errstr, sizeof errstr);
        te_pg_sink_t *s =
            db ? te_pg_sink_new(db, "drive", 1u << 24, 0, errstr, sizeof errstr) : NULL;
        int rc = 1;
        if (!s) {
                fprintf(stderr, "sink_drive: %s\n", errstr);
                goto out;
        }
        const char *staged_only = getenv("SINK_DRIVE_STAGED");
        if (staged_only && strcmp(staged_only, "1") == 0)
                te_pg_sink_set_direct(s, 0);
        long lineno = 0, n_direct = 0, n_arrays = 0, n_staged = 0;
        static te_exec_report_t r;
        while (fgets(line, sizeof line, in)) {
                lineno++;
                line[strcspn(line, "\n")] = '\0';
                long long off = 0;
                if (strcmp(line, "COMMIT") == 0) {
                        long applied = 0;
                        if (te_pg_sink_commit_stage(s, &applied, errstr, sizeof errstr) !=
                            0) {
                                fprintf(stderr, "sink_drive: line %ld: %s\n", lineno,
                                        errstr);
                                goto out;
                        }
                        printf("applied %ld\n", applied);
                        int path = te_pg_sink_last_path(s);
                        n_direct += path == TE_PG_SINK_DIRECT;
                        n_arrays += path == TE_PG_SINK_DIRECT_ARRAYS;
                        n_staged += path == TE_PG_SINK_STAGED;
                } else if (parse(line, &r, &off) != 0 ||
                           te_pg_sink_stage(s, &r, "exec.reports", 0, off, errstr,
                                            sizeof errstr) != 0 ||
                           te_pg_sink_stage_offset(s, "exec.reports", 0, off + 1, errstr,
                                                   sizeof errstr) != 0) {
                        fprintf(stderr, "sink_drive: line %ld: bad report or %s\n",
                                lineno, errstr);
                        goto out;
                }
        }
        fprintf(stderr, "paths direct=%ld arrays=%ld staged=%ld\n", n_direct, n_arrays,
                n_staged);
        rc = 0;
out:
        te_pg_sink_destroy(s);
        if (db)
                PQfinish(db);
        fclose(in);
        return rc;
}
