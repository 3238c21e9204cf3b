/*
 * fix_drive: the fix adapter (brokers/broker_fix.c) driven without Kafka, for the
 * integration tests against a real FIX acceptor (test_fix_executor.sh).
 *
 *   fix_drive PORT SEQFILE ORDER...
 *
 * Reads the sequence numbers to start from in SEQFILE ("next_out next_in"; missing
 * file: 1 1) or, when TE_FIX_DB is set, from the runtime DB it names ("" = PG*
 * environment; the adapter's use_db), creates the adapter (SenderCompID TE, TargetCompID
 * EXECUTOR), polls until it is logged on and reconciled (10 s at most), submits each
 * ORDER, written "ID:SIDE:QTY:TYPE:TIF[:LIMIT[:STOP]]" (SIDE BUY|SELL, TYPE and TIF as in
 * the schema) or "CANCEL:ID" (cancel an order the adapter knows, e.g. loaded from the
 * DB), then polls until every order has a final report (10 s at most; with
 * FIX_DRIVE_UNTIL=N, until N reports came, whichever orders they are for). After
 * each batch of reports it calls ops->delivered, as the worker does after its flush.
 * Every
 * report is printed as one line:
 *   report ORDER_ID EXEC_TYPE ORDER_STATUS CUM LAST_QTY LAST_PX REPORT_ID REASON
 * and the numbers are written back to SEQFILE after a clean Logout. Exit 0 when every
 * order ended, 1 otherwise (2 on usage errors). Alerts go to stderr.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../broker_defaults.h"
#include "broker_fix.h"
#include "te_buf.h"
#include "te_order_state.h"
#include "te_proc.h"

#define MAX_ORDERS 64

static void on_alert(void *ctx, te_severity_t sev, const char *code,
                     const char *decision_id, const char *portfolio_id,
                     const char *order_id, const char *message)
{
        (void)ctx;
        (void)decision_id;
        (void)portfolio_id;
        fprintf(stderr, "alert %s %s %s %s\n", te_severity_name(sev), code,
                order_id[0] ? order_id : "-", message);
}

static int parse_order(char *spec, te_order_cmd_t *c)
{
        char *f[7] = {0};
        size_t n = 0;
        for (char *p; n < 7 && (p = strsep(&spec, ":")) != NULL;)
                f[n++] = p; /* strsep keeps empty fields: "::" = no limit price */
        memset(c, 0, sizeof *c);
        if (n == 2 && strcmp(f[0], "CANCEL") == 0) {
                c->command = TE_CMD_CANCEL;
                c->mode = TE_MODE_PRODUCTION;
                te_strlcpy(c->order_id, f[1], sizeof c->order_id);
                return 0;
        }
        if (n < 5)
                return -1;
        c->command = TE_CMD_NEW;
        c->mode = TE_MODE_PRODUCTION;
        te_strlcpy(c->order_id, f[0], sizeof c->order_id);
        te_strlcpy(c->ticker, "AAPL", sizeof c->ticker);
        te_strlcpy(c->ids.portfolio_id, "P1", sizeof c->ids.portfolio_id);
        int side = te_enum_parse(te_side_names, TE_SIDE__CNT, f[1]);
        int type = te_enum_parse(te_order_type_names, TE_OT__CNT, f[3]);
        int tif = te_enum_parse(te_tif_names, TE_TIF__CNT, f[4]);
        char *end;
        c->quantity = strtod(f[2], &end);
        if (side < 0 || type < 0 || tif < 0 || *end)
                return -1;
        c->side = (te_side_t)side;
        c->order_type = (te_order_type_t)type;
        c->tif = (te_tif_t)tif;
        if (n > 5 && f[5][0]) {
                c->has_limit_price = 1;
                c->limit_price = strtod(f[5], NULL);
        }
        if (n > 6 && f[6][0]) {
                c->has_stop_price = 1;
                c->stop_price = strtod(f[6], NULL);
        }
        c->event_time = te_proc_wall_ms();
        return 0;
}

static void nap(void)
{
        struct timespec ts = {0, 2 * 1000 * 1000};
        nanosleep(&ts, NULL); /* poll pacing only: every wait below has a condition */
}

int main(int argc, char **argv)
{
        if (argc < 3) {
                fprintf(stderr, "usage: fix_drive PORT SEQFILE ORDER...\n");
                return 2;
        }
        te_fix_cfg_t cfg;
        te_fix_cfg_defaults(&cfg);
        cfg.port = (int)strtol(argv[1], NULL, 10);
        te_strlcpy(cfg.sender, "TE", sizeof cfg.sender);
        te_strlcpy(cfg.target, "EXECUTOR", sizeof cfg.target);
        te_strlcpy(cfg.account, "ACC1", sizeof cfg.account);
        cfg.alert = on_alert;
        const char *db = getenv("TE_FIX_DB");
        cfg.use_db = 0; /* exec-broker's default is 1: here only with TE_FIX_DB */
        if (db) {
                cfg.use_db = 1;
                te_strlcpy(cfg.db_conninfo, db, sizeof cfg.db_conninfo);
        }
        FILE *sf = db ? NULL : fopen(argv[2], "r");
        if (sf) {
                long long o, i;
                if (fscanf(sf, "%lld %lld", &o, &i) == 2) {
                        cfg.next_out = o;
                        cfg.next_in = i;
                }
                fclose(sf);
        }
        te_order_cmd_t orders[MAX_ORDERS];
        int done[MAX_ORDERS] = {0};
        int n = 0;
        for (int i = 3; i < argc && n < MAX_ORDERS; i++)
                if (parse_order(argv[i], &orders[n++]) != 0) {
                        fprintf(stderr, "bad order: %s\n", argv[i]);
                        return 2;
                }
        char err[256];
        te_broker_t *b = te_fix_new(&cfg, err, sizeof err);
        if (!b) {
                fprintf(stderr, "fix_drive: %s\n", err);
                return 2;
        }
        te_reports_t out = {0};
        int rc = 1;
        int64_t deadline = te_proc_mono_ms() + 10000;
        while (!b->ops->connected(b) && te_proc_mono_ms() < deadline) {
                b->ops->poll(b, &out);
                nap();
        }
        if (!b->ops->connected(b)) {
                fprintf(stderr, "fix_drive: not logged on within 10 s\n");
                goto out;
        }
        printf("logged_on\n");
        for (int i = 0; i < n; i++)
                if (te_broker_handle(b, &orders[i], &out) != TE_BROKER_OK) {
                        fprintf(stderr, "fix_drive: submit %s failed\n",
                                orders[i].order_id);
                        goto out;
                }
        deadline = te_proc_mono_ms() + 10000;
        /* FIX_DRIVE_UNTIL=N: stop after N reports instead of waiting for the orders */
        const char *until = getenv("FIX_DRIVE_UNTIL");
        long want = until ? strtol(until, NULL, 10) : 0, printed = 0;
        int left = want > 0 ? 1 : n;
        while (te_proc_mono_ms() < deadline) {
                for (size_t k = 0; k < out.n; k++) {
                        const te_exec_report_t *r = &out.items[k];
                        printf("report %s %s %s %g %g %g %s %s\n", r->order_id,
                               te_exec_type_name(r->exec_type),
                               te_order_status_name(r->order_status), r->cum_qty,
                               r->last_qty, r->last_price, r->report_id,
                               r->reason[0] ? r->reason : "-");
                        if (want > 0 && ++printed == want)
                                left = 0;
                        for (int i = 0; i < n && want == 0; i++)
                                if (!done[i] &&
                                    strcmp(orders[i].order_id, r->order_id) == 0 &&
                                    te_os_is_terminal(r->order_status)) {
                                        done[i] = 1;
                                        left--;
                                }
                }
                if (out.n)
                        b->ops->delivered(b); /* as the worker after its flush */
                te_reports_clear(&out);
                if (left == 0)
                        break;
                b->ops->poll(b, &out);
                nap();
        }
        fflush(stdout);
        if (left == 0)
                rc = 0;
        else
                fprintf(stderr, "fix_drive: not every order ended (or fewer reports)\n");
out:;
        int64_t no, ni;
        te_fix_seqs(b, &no, &ni);
        te_fix_logout(b, 3000, &out);
        te_fix_seqs(b, &no, &ni);
        sf = fopen(argv[2], "w");
        if (sf) {
                fprintf(sf, "%lld %lld\n", (long long)no, (long long)ni);
                fclose(sf);
        }
        printf("seqs %lld %lld\n", (long long)no, (long long)ni);
        te_reports_free(&out);
        te_broker_destroy(b);
        return rc;
}
