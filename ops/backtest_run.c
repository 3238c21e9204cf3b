/*
 * backtest_run: exec-backtest's orchestration (see backtest.h): per-run topics, groups
 * and database, the three processes, flow-controlled publishing, the end-of-run clock
 * and cancels, the checks, then the report.
 */
#include <errno.h>
#include <librdkafka/rdkafka.h>
#include <libpq-fe.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "backtest.h"
#include "backtest_report.h"
#include "backtest_spawn.h"
#include "bars.h"
#include "bt_stages.h"
#include "msg_json_in.h"
#include "te_buf.h"
#include "te_codec.h"
#include "te_ids.h"
#include "te_kafka.h"
#include "te_kafka_meta.h"
#include "te_log.h"
#include "te_map.h"
#include "te_pg.h"
#include "te_proc.h"

#define MAX_PARTS 256
#define POLL_MS   50

typedef struct bt_s {
        const te_bt_conf_t *c;
        const te_cfg_t *cfg;
        te_bt_names_t nm; /* what the processes are told */
        char db_name[64];
        int np;
        pid_t pid[TE_BT_NPROC];
        int started; /* the processes were started: a failure is recorded */
        te_bars_t *bars;
        PGconn *main_db, *run_db;
        te_producer_t *producer;
        rd_kafka_t *rk_planner, *rk_broker; /* group handles for committed offsets */
        te_codec_t *codec;
        te_buf_t buf;
        /* published targets: sizes and as_of, in publish order */
        int64_t *asof;
        uint32_t *size;
        size_t n_pub, cap_pub;
        te_map_t *portfolios; /* portfolio_id -> int64_t* last as_of */
        int64_t start_ms;
        int64_t last_print_ms, first_plan_ms;
        int32_t last_print_day;
        uint64_t planned;
        size_t expected;   /* targets expected in all (for the ETA) */
        double nav_sum;    /* NAV of the first target of each portfolio, when given */
        te_bt_stages_t st; /* conf.stages: the breakdown (bt_stages.h) */

        te_bt_params_t params; /* what the report and backtest_runs record */
} bt_t;

int te_bt_db_name(const char *run_id, char *out, size_t outsz)
{
        size_t n = strlen(run_id);
        if (n == 0 || n > TE_BT_RUN_ID_MAX || outsz < n + 4)
                return -1;
        memcpy(out, "bt_", 3);
        for (size_t i = 0; i < n; i++) {
                char ch = run_id[i];
                if (ch >= 'A' && ch <= 'Z')
                        ch = (char)(ch - 'A' + 'a');
                else if (ch == '-' || ch == '.')
                        ch = '_';
                else if (!((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
                           ch == '_'))
                        return -1;
                out[3 + i] = ch;
        }
        out[3 + n] = '\0';
        return 0;
}

/* ---- progress measures --------------------------------------------------------- */

/* Sum of committed offsets of a group on a topic (from 0). @returns -1 on error. */
static int64_t committed_sum(bt_t *bt, rd_kafka_t *rk, const char *topic, int64_t *per)
{
        int64_t off[MAX_PARTS], sum = 0;
        char why[256];
        if (te_kafka_committed(rk, topic, NULL, bt->np, 10000, off, why, sizeof why) < 0)
                return -1;
        for (int p = 0; p < bt->np; p++) {
                int64_t o = off[p] >= 0 ? off[p] : 0;
                if (per)
                        per[p] = o;
                sum += o;
        }
        return sum;
}

static int high_marks(bt_t *bt, const char *topic, int64_t *hi)
{
        char why[256];
        return te_kafka_watermarks(te_producer_handle(bt->producer), topic, NULL, bt->np,
                                   10000, NULL, hi, why, sizeof why);
}

static int sink_offsets(bt_t *bt, int64_t *off)
{
        for (int p = 0; p < bt->np; p++)
                off[p] = 0;
        return te_pg_offsets(bt->run_db, "consumer_offsets", bt->nm.g_sink,
                             bt->nm.t_reports, off, bt->np) < 0
                   ? -1
                   : 0;
}

/* Largest per-partition count of reports not yet in the DB. -1 on error. */
static int64_t sink_backlog(bt_t *bt)
{
        int64_t hi[MAX_PARTS], off[MAX_PARTS], worst = 0;
        if (high_marks(bt, bt->nm.t_reports, hi) != 0 || sink_offsets(bt, off) != 0)
                return -1;
        for (int p = 0; p < bt->np; p++)
                if (hi[p] - off[p] > worst)
                        worst = hi[p] - off[p];
        return worst;
}

static void progress(bt_t *bt, int force)
{
        int64_t now = te_proc_mono_ms();
        if (bt->planned == 0 || bt->n_pub == 0)
                return;
        size_t k = bt->planned <= bt->n_pub ? (size_t)bt->planned : bt->n_pub;
        int64_t asof = bt->asof[k - 1];
        int32_t day = te_bars_day_of_ms(asof), day0 = te_bars_day_of_ms(bt->asof[0]);
        if (!bt->first_plan_ms)
                bt->first_plan_ms = now;
        if (bt->c->on_progress) {
                bt->c->on_progress(bt->c->progress_arg, k,
                                   bt->expected > bt->n_pub ? bt->expected : bt->n_pub,
                                   day);
                return;
        }
        double el = (double)(now - bt->start_ms) / 1000.0;
        /* rates from the first planned target: start-up (group joins) is not a rate */
        double run = (double)(now - bt->first_plan_ms) / 1000.0;
        double dps = run > 0 ? (double)(day - day0) / run : 0;
        double tps = run > 0 ? (double)(k - 1) / run : 0;
        char ds[16];
        te_bt_day_str(day, ds, sizeof ds);
        int tty = bt->c->progress_tty < 0 ? isatty(2) : bt->c->progress_tty;
        if (tty) {
                if (!force && now - bt->last_print_ms < 250)
                        return;
                /* the total: lines of the file or offsets of the range (an upper
                 * bound when an as_of range filters), at least what was published */
                size_t total = bt->expected > bt->n_pub ? bt->expected : bt->n_pub;
                char eta[32] = "?";
                if (tps > 0)
                        snprintf(eta, sizeof eta, "%.0fs", (double)(total - k) / tps);
                fprintf(stderr,
                        "\r[%s] as_of %s  planned %zu/%zu  %.1f days/s  elapsed %.0fs  "
                        "ETA %s   ",
                        bt->c->run_id, ds, k, total, dps, el, eta);
                if (force)
                        fputc('\n', stderr);
        } else {
                if (!force && day - bt->last_print_day < bt->c->progress_days)
                        return;
                fprintf(
                    stderr,
                    "backtest %s: as_of %s planned %zu/%zu %.1f days/s elapsed %.1fs\n",
                    bt->c->run_id, ds, k, bt->n_pub, dps, el);
                bt->last_print_day = day;
        }
        fflush(stderr);
        bt->last_print_ms = now;
}

/* One round of measurements. @returns 0, or -1 with errstr. */
static int measure(bt_t *bt, char *errstr, size_t errsz)
{
        if (te_bt_procs_alive(bt->pid, bt->c->out_dir, errstr, errsz) != 0)
                return -1;
        int64_t s = committed_sum(bt, bt->rk_planner, bt->nm.t_targets, NULL);
        if (s >= 0)
                bt->planned = (uint64_t)s;
        te_producer_poll(bt->producer, 0);
        progress(bt, 0);
        return 0;
}

static void nap(void)
{
        struct timespec ts = {0, POLL_MS * 1000000L};
        nanosleep(&ts, NULL);
}

static int deadline_passed(bt_t *bt, char *errstr, size_t errsz)
{
        if (te_proc_stop) {
                snprintf(errstr, errsz, "interrupted");
                return 1;
        }
        if (te_proc_mono_ms() - bt->start_ms > bt->c->timeout_s * 1000) {
                snprintf(errstr, errsz, "timeout after %lld s",
                         (long long)bt->c->timeout_s);
                return 1;
        }
        return 0;
}

/* ---- publishing ----------------------------------------------------------------- */

/* Bytes of the targets published and not yet planned. */
static uint64_t unplanned_bytes(const bt_t *bt)
{
        uint64_t n = 0;
        for (size_t i = bt->planned; i < bt->n_pub; i++)
                n += bt->size[i];
        return n;
}

/* Wait while the planner is too far behind or the sink's backlog too large. */
static int flow_wait(bt_t *bt, size_t next_size, char *errstr, size_t errsz)
{
        for (;;) {
                if (measure(bt, errstr, errsz) != 0 || deadline_passed(bt, errstr, errsz))
                        return -1;
                uint64_t unplanned = unplanned_bytes(bt);
                int64_t backlog = sink_backlog(bt);
                /* a single target larger than the window still goes, alone */
                if ((unplanned == 0 ||
                     unplanned + next_size <= (uint64_t)bt->c->max_ahead_bytes) &&
                    backlog >= 0 && backlog <= bt->c->max_backlog)
                        return 0;
                if (unplanned == 0 && backlog < 0) /* no DB answer yet: go on slowly */
                        return 0;
                nap();
        }
}

static int publish_one(bt_t *bt, const char *key, const void *val, size_t len,
                       int64_t as_of, double nav, char *errstr, size_t errsz)
{
        /* measure only every so often: the planner moves a few targets at a time */
        if (unplanned_bytes(bt) + len > (uint64_t)bt->c->max_ahead_bytes ||
            bt->n_pub % 64 == 0) {
                int64_t t0 = te_proc_mono_ms();
                if (flow_wait(bt, len, errstr, errsz) != 0)
                        return -1;
                bt->st.flow_wait_s += (double)(te_proc_mono_ms() - t0) / 1000.0;
        }
        if (bt->n_pub == bt->cap_pub) {
                size_t nc = bt->cap_pub ? bt->cap_pub * 2 : 1024;
                int64_t *na = realloc(bt->asof, nc * sizeof *na);
                if (na)
                        bt->asof = na;
                uint32_t *ns = realloc(bt->size, nc * sizeof *ns);
                if (ns)
                        bt->size = ns;
                if (!na || !ns) {
                        snprintf(errstr, errsz, "out of memory");
                        return -1;
                }
                bt->cap_pub = nc;
        }
        if (te_producer_send(bt->producer, bt->nm.t_targets, key, strlen(key), val, len,
                             NULL, 0, errstr, errsz) != 0)
                return -1;
        bt->asof[bt->n_pub] = as_of;
        bt->size[bt->n_pub] = (uint32_t)len;
        bt->n_pub++;
        int64_t *last = te_map_get(bt->portfolios, key);
        if (!last) {
                last = malloc(sizeof *last);
                if (!last || te_map_put(bt->portfolios, key, last) != 0) {
                        free(last);
                        snprintf(errstr, errsz, "out of memory");
                        return -1;
                }
                *last = as_of;
                bt->nav_sum += nav; /* the first target of each portfolio */
        }
        if (as_of > *last)
                *last = as_of;
        return 0;
}

static int in_range(const te_bt_conf_t *c, int64_t as_of)
{
        int64_t t;
        if (c->from_asof[0] && te_json_in_parse_time(c->from_asof, &t) == 0 && as_of < t)
                return 0;
        if (c->to_asof[0] && te_json_in_parse_time(c->to_asof, &t) == 0 && as_of > t)
                return 0;
        return 1;
}

static int publish_file(bt_t *bt, char *errstr, size_t errsz)
{
        FILE *fp = fopen(bt->c->targets_file, "r");
        te_buf_t line;
        te_target_portfolio_t tp;
        memset(&tp, 0, sizeof tp);
        long lineno = 0;
        int rc = -1;
        if (!fp) {
                snprintf(errstr, errsz, "%s: %s", bt->c->targets_file, strerror(errno));
                return -1;
        }
        te_buf_init(&line, 64u << 20);
        for (int ch; (ch = getc(fp)) != EOF;)
                bt->expected += ch == '\n';
        rewind(fp);
        for (;;) {
                te_line_rc_t lr = te_json_in_read_line(fp, &line);
                if (lr == TE_LINE_EOF)
                        break;
                lineno++;
                if (lr != TE_LINE_OK) {
                        snprintf(errstr, errsz, "%s:%ld: line too long or read error",
                                 bt->c->targets_file, lineno);
                        goto out;
                }
                if (te_json_in_line_skippable((const char *)line.data, line.len))
                        continue;
                char why[256];
                if (te_json_in_target_portfolio((const char *)line.data, line.len, &tp,
                                                why, sizeof why) != 0) {
                        snprintf(errstr, errsz, "%s:%ld: %s", bt->c->targets_file, lineno,
                                 why);
                        goto out;
                }
                if (!in_range(bt->c, tp.as_of))
                        continue;
                if (te_codec_encode_target_portfolio(bt->codec, &tp, &bt->buf, why,
                                                     sizeof why) != TE_CODEC_OK) {
                        snprintf(errstr, errsz, "%s:%ld: %s", bt->c->targets_file, lineno,
                                 why);
                        goto out;
                }
                if (publish_one(bt, tp.ids.portfolio_id, bt->buf.data, bt->buf.len,
                                tp.as_of, tp.has_nav ? tp.nav : 0, errstr, errsz) != 0)
                        goto out;
        }
        rc = 0;
out:
        te_target_portfolio_free(&tp);
        te_buf_free(&line);
        fclose(fp);
        return rc;
}

/* Assign [from, to) of every partition of the source topic to rk; end[p] gets the
 * exclusive end. @returns how many partitions have something to read, or -1 with
 * errstr. */
static int source_assign(bt_t *bt, rd_kafka_t *rk, int32_t *np, int64_t *end,
                         char *errstr, size_t errsz)
{
        const te_bt_conf_t *c = bt->c;
        int64_t lo[MAX_PARTS];
        int remaining = 0;
        if (te_kafka_partition_count(rk, c->source_topic, 0, 10000, np, errstr, errsz) !=
            0)
                return -1;
        *np = *np > MAX_PARTS ? MAX_PARTS : *np;
        if (te_kafka_watermarks(rk, c->source_topic, NULL, *np, 10000, lo, end, errstr,
                                errsz) != 0)
                return -1;
        rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(*np);
        for (int p = 0; p < *np && remaining >= 0; p++) {
                int64_t hi = end[p];
                int64_t from = c->from_offset >= 0 ? c->from_offset : lo[p];
                end[p] = c->to_offset >= 0 && c->to_offset < hi ? c->to_offset : hi;
                if (from < lo[p]) {
                        snprintf(errstr, errsz,
                                 "%s[%d]: offset %lld is gone (retention starts at %lld)",
                                 c->source_topic, p, (long long)from, (long long)lo[p]);
                        remaining = -1;
                } else if (from < end[p]) {
                        bt->expected += (size_t)(end[p] - from);
                        rd_kafka_topic_partition_list_add(l, c->source_topic, p)->offset =
                            from;
                        remaining++;
                }
        }
        if (remaining > 0 && rd_kafka_assign(rk, l) != RD_KAFKA_RESP_ERR_NO_ERROR) {
                snprintf(errstr, errsz, "%s: assign failed", c->source_topic);
                remaining = -1;
        }
        rd_kafka_topic_partition_list_destroy(l); /* assign keeps a copy */
        return remaining;
}

/* Publish a message of the source topic if it decodes and is in the as_of range.
 * @returns 0, or -1 with errstr. */
static int publish_msg(bt_t *bt, const rd_kafka_message_t *m, te_target_portfolio_t *tp,
                       char *errstr, size_t errsz)
{
        char why[256];
        if (te_codec_decode_target_portfolio(bt->codec, m->payload, m->len, tp, why,
                                             sizeof why) != TE_CODEC_OK) {
                /* the planner would dead-letter it too: say so and skip */
                TE_LOG(TE_LOG_WARN, NULL, "backtest.skip", "%s[%d]@%lld: %s",
                       bt->c->source_topic, (int)m->partition, (long long)m->offset, why);
                return 0;
        }
        if (!in_range(bt->c, tp->as_of))
                return 0;
        return publish_one(bt, tp->ids.portfolio_id, m->payload, m->len, tp->as_of,
                           tp->has_nav ? tp->nav : 0, errstr, errsz);
}

/* Copy [from, to) of every partition of the source topic (filtered by as_of). */
static int publish_topic(bt_t *bt, char *errstr, size_t errsz)
{
        char group[200];
        int64_t end[MAX_PARTS];
        int done[MAX_PARTS] = {0};
        int32_t np = 0;
        te_target_portfolio_t tp;
        snprintf(group, sizeof group, "bt-%s-reader", bt->c->run_id);
        rd_kafka_t *rk =
            te_kafka_aux_consumer(bt->cfg, bt->nm.bootstrap, group, errstr, errsz);
        if (!rk)
                return -1;
        memset(&tp, 0, sizeof tp);
        int remaining = source_assign(bt, rk, &np, end, errstr, errsz);
        while (remaining > 0) {
                if (deadline_passed(bt, errstr, errsz)) {
                        remaining = -1;
                        break;
                }
                rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, 100);
                if (!m)
                        continue;
                int p = (int)m->partition;
                if (m->err && m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF) {
                        snprintf(errstr, errsz, "%s[%d]: %s", bt->c->source_topic, p,
                                 rd_kafka_message_errstr(m));
                        remaining = -1;
                } else if (!m->err && p >= 0 && p < np && !done[p] &&
                           m->offset < end[p]) {
                        int r = publish_msg(bt, m, &tp, errstr, errsz);
                        if (m->offset + 1 >= end[p]) {
                                done[p] = 1;
                                remaining--;
                        }
                        remaining = r != 0 ? -1 : remaining;
                }
                rd_kafka_message_destroy(m);
        }
        te_target_portfolio_free(&tp);
        rd_kafka_destroy(rk);
        return remaining == 0 ? 0 : -1;
}

/* ---- end of run ----------------------------------------------------------------- */

/* Wait until the planner planned everything and the broker and sink are caught up. */
static int wait_quiet(bt_t *bt, char *errstr, size_t errsz)
{
        int stable = 0;
        int64_t hi_o[MAX_PARTS], hi_r[MAX_PARTS], b_off[MAX_PARTS], s_off[MAX_PARTS];
        while (stable < 2) {
                if (deadline_passed(bt, errstr, errsz) || measure(bt, errstr, errsz) != 0)
                        return -1;
                int ok = bt->planned == bt->n_pub;
                if (ok && (high_marks(bt, bt->nm.t_orders, hi_o) != 0 ||
                           committed_sum(bt, bt->rk_broker, bt->nm.t_orders, b_off) < 0 ||
                           high_marks(bt, bt->nm.t_reports, hi_r) != 0 ||
                           sink_offsets(bt, s_off) != 0))
                        ok = 0;
                for (int p = 0; ok && p < bt->np; p++)
                        if (b_off[p] < hi_o[p] || s_off[p] < hi_r[p])
                                ok = 0;
                stable = ok ? stable + 1 : 0;
                nap();
        }
        return 0;
}

static int send_cmd(bt_t *bt, const te_order_cmd_t *cmd, char *errstr, size_t errsz)
{
        if (te_codec_encode_order_cmd(bt->codec, cmd, &bt->buf, errstr, errsz) !=
            TE_CODEC_OK)
                return -1;
        return te_producer_send(bt->producer, bt->nm.t_orders, cmd->ids.portfolio_id,
                                strlen(cmd->ids.portfolio_id), bt->buf.data, bt->buf.len,
                                NULL, 0, errstr, errsz);
}

/* CLOCK(last as_of + 1 ms) for every portfolio: the sim expires DAY orders. */
static int final_clocks(bt_t *bt, int64_t *t_end, char *errstr, size_t errsz)
{
        size_t it = 0;
        const char *pf;
        void *v;
        *t_end = 0;
        while (te_map_next(bt->portfolios, &it, &pf, &v)) {
                te_order_cmd_t c;
                memset(&c, 0, sizeof c);
                c.command = TE_CMD_CLOCK;
                c.mode = TE_MODE_TRAINING;
                c.event_time = *(int64_t *)v + 1;
                if (c.event_time > *t_end)
                        *t_end = c.event_time;
                te_strlcpy(c.ids.portfolio_id, pf, sizeof c.ids.portfolio_id);
                te_id_clock(c.order_id, sizeof c.order_id, pf, c.event_time);
                te_strlcpy(c.route, "sim", sizeof c.route);
                if (send_cmd(bt, &c, errstr, errsz) != 0)
                        return -1;
        }
        return te_producer_flush(bt->producer, 30000, errstr, errsz);
}

static const char open_orders_sql[] =
    "SELECT order_id, portfolio_id, ticker, side, decision_id FROM orders WHERE status "
    "NOT IN ('FILLED','CANCELED','REJECTED','EXPIRED','REPLACED') ORDER BY order_id";

/* CANCEL every order still open. @returns how many, or -1. */
static long cancel_open(bt_t *bt, int64_t t, char *errstr, size_t errsz)
{
        PGresult *r = PQexec(bt->run_db, open_orders_sql);
        if (PQresultStatus(r) != PGRES_TUPLES_OK) {
                snprintf(errstr, errsz, "open orders: %s", PQresultErrorMessage(r));
                PQclear(r);
                return -1;
        }
        long n = PQntuples(r);
        for (long i = 0; i < n; i++) {
                te_order_cmd_t c;
                memset(&c, 0, sizeof c);
                c.command = TE_CMD_CANCEL;
                te_strlcpy(c.order_id, PQgetvalue(r, (int)i, 0), sizeof c.order_id);
                te_strlcpy(c.ids.portfolio_id, PQgetvalue(r, (int)i, 1),
                           sizeof c.ids.portfolio_id);
                te_strlcpy(c.ticker, PQgetvalue(r, (int)i, 2), sizeof c.ticker);
                c.side = strcmp(PQgetvalue(r, (int)i, 3), "SELL") == 0 ? TE_SIDE_SELL
                                                                       : TE_SIDE_BUY;
                te_strlcpy(c.ids.decision_id, PQgetvalue(r, (int)i, 4),
                           sizeof c.ids.decision_id);
                c.quantity = 1; /* not used by a cancel, but must be valid on the wire */
                c.mode = TE_MODE_TRAINING;
                c.event_time = t;
                te_strlcpy(c.route, "sim", sizeof c.route);
                if (send_cmd(bt, &c, errstr, errsz) != 0) {
                        PQclear(r);
                        return -1;
                }
        }
        PQclear(r);
        if (n > 0 && te_producer_flush(bt->producer, 30000, errstr, errsz) != 0)
                return -1;
        return n;
}

static long count_open(bt_t *bt)
{
        PGresult *r = PQexec(bt->run_db, open_orders_sql);
        long n = PQresultStatus(r) == PGRES_TUPLES_OK ? PQntuples(r) : -1;
        PQclear(r);
        return n;
}

static int setup_db(bt_t *bt, char *errstr, size_t errsz)
{
        const te_bt_conf_t *c = bt->c;
        bt->main_db = te_pg_connect(c->common.db_conninfo, errstr, errsz);
        if (!bt->main_db || te_pg_migrate(bt->main_db, errstr, errsz) < 0)
                return -1;
        char sql[256];
        snprintf(sql, sizeof sql, "CREATE DATABASE %s", bt->db_name);
        if (te_pg_exec(bt->main_db, sql, errstr, errsz) != 0) {
                char why[512];
                te_strlcpy(why, errstr, sizeof why);
                snprintf(errstr, errsz,
                         "run %s: %s (a run id is used once; pick a new one "
                         "or DROP DATABASE %s)",
                         c->run_id, why, bt->db_name);
                return -1;
        }
        snprintf(bt->nm.run_conninfo, sizeof bt->nm.run_conninfo, "%s%sdbname=%s",
                 c->common.db_conninfo, c->common.db_conninfo[0] ? " " : "", bt->db_name);
        bt->run_db = te_pg_connect(bt->nm.run_conninfo, errstr, errsz);
        if (!bt->run_db || te_pg_migrate(bt->run_db, errstr, errsz) < 0)
                return -1;
        const char *p[3] = {c->run_id, bt->db_name,
                            c->targets_file[0] ? c->targets_file : c->source_topic};
        PGresult *r = PQexecParams(bt->main_db,
                                   "INSERT INTO backtest_runs (run_id, database, source, "
                                   "status) VALUES ($1, $2, $3, 'running') ON CONFLICT "
                                   "(run_id) DO UPDATE SET status = 'running'",
                                   3, NULL, p, NULL, NULL, 0);
        int ok = PQresultStatus(r) == PGRES_COMMAND_OK;
        if (!ok)
                snprintf(errstr, errsz, "backtest_runs: %s", PQresultErrorMessage(r));
        PQclear(r);
        return ok ? 0 : -1;
}

static void record_run(bt_t *bt, const char *status, const te_bt_summary_t *s)
{
        char pub[32], planned[32], ret[64], md5[40];
        snprintf(pub, sizeof pub, "%zu", bt->n_pub);
        snprintf(planned, sizeof planned, "%llu", (unsigned long long)bt->planned);
        snprintf(ret, sizeof ret, "%.10g", s ? s->total_return : 0.0);
        te_strlcpy(md5, s ? s->trades_md5 : "", sizeof md5);
        char capital[64];
        snprintf(capital, sizeof capital, "%.10g", bt->params.capital);
        char *json = te_bt_params_json(&bt->params);
        const char *p[10] = {bt->c->run_id,
                             status,
                             pub,
                             planned,
                             s ? ret : NULL,
                             s ? md5 : NULL,
                             bt->params.capital > 0 ? capital : NULL,
                             bt->params.bars_source,
                             bt->params.build_commit,
                             json};
        PGresult *r = PQexecParams(
            bt->main_db,
            "UPDATE backtest_runs SET status = $2, targets_published = $3::bigint, "
            "targets_planned = $4::bigint, total_return = $5::float8, trades_md5 = $6, "
            "finished_at = now(), capital = $7::float8, bars_source = $8, "
            "build_commit = $9, params = $10::jsonb WHERE run_id = $1",
            10, NULL, p, NULL, NULL, 0);
        if (PQresultStatus(r) != PGRES_COMMAND_OK)
                TE_LOG(TE_LOG_ERROR, NULL, "backtest.record_failed", "backtest_runs: %s",
                       PQresultErrorMessage(r));
        PQclear(r);
        free(json);
}

/* The run's names, checked configuration and output folder. @returns 0, or -1 with
 * errstr. */
static int bt_init(bt_t *bt, const te_bt_conf_t *c, const te_cfg_t *cfg, char *errstr,
                   size_t errsz)
{
        memset(bt, 0, sizeof *bt);
        bt->c = c;
        bt->cfg = cfg;
        bt->np = (int)c->partitions;
        bt->start_ms = te_proc_mono_ms();
        te_buf_init(&bt->buf, 64u << 20);
        if (te_bt_db_name(c->run_id, bt->db_name, sizeof bt->db_name) != 0) {
                snprintf(errstr, errsz,
                         "run.id: 1..%d characters of [A-Za-z0-9_.-] required",
                         TE_BT_RUN_ID_MAX);
                return -1;
        }
        if (!c->targets_file[0] == !c->source_topic[0]) {
                snprintf(
                    errstr, errsz,
                    "give exactly one source: --targets FILE or --source-topic TOPIC");
                return -1;
        }
        if (!c->bars_csv[0] && !c->bars_db) {
                snprintf(errstr, errsz, "bars: --bars CSV or --bars-db required");
                return -1;
        }
        if (te_bt_params_init(&bt->params, c, cfg) != 0) {
                snprintf(errstr, errsz, "out of memory");
                return -1;
        }
        if (mkdir(c->out_dir, 0755) != 0 && errno != EEXIST) {
                snprintf(errstr, errsz, "%s: %s", c->out_dir, strerror(errno));
                return -1;
        }
        te_bt_names_init(&bt->nm, c->run_id);
        te_strlcpy(bt->nm.bootstrap, c->common.bootstrap, sizeof bt->nm.bootstrap);
        bt->codec = te_codec_new(errstr, errsz);
        bt->portfolios = te_map_new();
        return bt->codec && bt->portfolios ? 0 : -1;
}

/* The run's database and topics, the runner's clients, the processes, then the bars.
 * The report's bars are read while the processes start and their consumer groups join
 * (the mock cluster holds a new group's first join for 3 s): reading them first would
 * add their time to the setup. @returns 0, or -1 with errstr. */
static int bt_start(bt_t *bt, const char *self, char *errstr, size_t errsz)
{
        const te_bt_conf_t *c = bt->c;
        te_bt_spawn_t sp = {c, bt->cfg, self, &bt->nm, bt->st.port};

        if (setup_db(bt, errstr, errsz) != 0 ||
            te_bt_create_topics(&sp, bt->np, errstr, errsz) != 0)
                return -1;
        bt->producer = te_producer_new(bt->cfg, bt->nm.bootstrap, errstr, errsz);
        if (!bt->producer)
                return -1;
        bt->rk_planner = te_kafka_aux_consumer(bt->cfg, bt->nm.bootstrap,
                                               bt->nm.g_planner, errstr, errsz);
        bt->rk_broker = te_kafka_aux_consumer(bt->cfg, bt->nm.bootstrap, bt->nm.g_broker,
                                              errstr, errsz);
        if (!bt->rk_planner || !bt->rk_broker)
                return -1;
        bt->st.t_start = bt->start_ms;
        bt->st.t_spawn = te_proc_mono_ms();
        bt->st.clock_rtt_ms = TE_BT_CLOCK_RTT_FLOOR_MS;
        for (int i = 0; c->stages && i < TE_BT_NPROC; i++)
                bt->st.port[i] = te_bt_stages_free_port();
        if (te_bt_spawn(&sp, bt->pid, errstr, errsz) != 0)
                return -1;
        bt->started = 1;
        TE_LOG(TE_LOG_INFO, NULL, "backtest.start",
               "run=%s db=%s topics=bt.%s.* partitions=%d", c->run_id, bt->db_name,
               c->run_id, bt->np);
        /* a bad bars file stops the run here, and te_bt_run the processes */
        bt->bars = te_bars_open(c->bars_db ? NULL : c->bars_csv, c->common.db_conninfo,
                                NULL, NULL, errstr, errsz);
        return bt->bars ? 0 : -1;
}

/* Publish every target, wait until all are planned, then send the final CLOCKs and
 * the cancels, each followed by a wait until the processes are quiet. `cancels` and
 * `still_open` get the counts. @returns 0, or -1 with errstr. */
static int bt_drive(bt_t *bt, long *cancels, long *still_open, char *errstr, size_t errsz)
{
        int64_t t_end = 0;

        if ((bt->c->targets_file[0] ? publish_file(bt, errstr, errsz)
                                    : publish_topic(bt, errstr, errsz)) != 0 ||
            te_producer_flush(bt->producer, 30000, errstr, errsz) != 0)
                return -1;
        bt->st.t_published = te_proc_mono_ms();
        bt->st.runner_cpu_s = te_bt_stages_self_cpu();
        if (wait_quiet(bt, errstr, errsz) != 0)
                return -1;
        bt->st.t_planned = te_proc_mono_ms();
        progress(bt, 1);
        if (final_clocks(bt, &t_end, errstr, errsz) != 0 ||
            wait_quiet(bt, errstr, errsz) != 0)
                return -1;
        *cancels = cancel_open(bt, t_end, errstr, errsz);
        if (*cancels < 0 || wait_quiet(bt, errstr, errsz) != 0)
                return -1;
        *still_open = count_open(bt);
        bt->st.t_drained = te_proc_mono_ms();
        bt->st.t_first_plan = bt->first_plan_ms;
        return 0;
}

/* The report of a finished run (its days, its capital), its summary on `out`, then
 * the stages. @returns 0, or -1 with errstr. */
static int bt_report(bt_t *bt, te_bt_summary_t *sum, long cancels, FILE *out,
                     char *errstr, size_t errsz)
{
        const te_bt_conf_t *c = bt->c;
        int32_t d0 = bt->n_pub ? te_bars_day_of_ms(bt->asof[0]) : 0, d1 = d0;
        for (size_t i = 0; i < bt->n_pub; i++) {
                int32_t d = te_bars_day_of_ms(bt->asof[i]);
                d0 = d < d0 ? d : d0;
                d1 = d > d1 ? d : d1;
        }
        te_bt_params_capital(&bt->params,
                             c->capital > 0    ? c->capital
                             : bt->nav_sum > 0 ? bt->nav_sum
                                               : 1e6,
                             c->capital > 0 ? "capital option"
                             : bt->nav_sum > 0
                                 ? "sum of each portfolio's first target nav"
                                 : "default, no target gave a nav");
        if (te_bt_report(bt->run_db, bt->bars, &bt->params, d0, d1, c->out_dir, sum,
                         errstr, errsz) != 0)
                return -1;
        te_bt_summary_print(sum, c->run_id, out);
        fprintf(out, "targets published: %zu\ntargets planned: %llu\n", bt->n_pub,
                (unsigned long long)bt->planned);
        fprintf(out, "canceled at the end: %ld\nwall time: %.1f s\n", cancels,
                (double)(te_proc_mono_ms() - bt->start_ms) / 1000.0);
        fprintf(out,
                "report: %s/tearsheet.html (and report.txt equity.csv equity.png "
                "portfolios.png)\n",
                c->out_dir);
        if (c->summary_out)
                memcpy(c->summary_out, sum, sizeof *sum);
        if (c->stages) {
                bt->st.t_end = te_proc_mono_ms();
                te_bt_stages_print(&bt->st, out);
                char path[1100];
                snprintf(path, sizeof path, "%s/stages.txt", c->out_dir);
                FILE *sf = fopen(path, "w");
                if (sf) {
                        te_bt_stages_print(&bt->st, sf);
                        fclose(sf);
                }
        }
        return 0;
}

/* The checks of a finished run. @returns 0, or 1 with errstr. */
static int bt_verdict(const bt_t *bt, long still_open, int stop_rc, char *errstr,
                      size_t errsz)
{
        if (bt->planned != bt->n_pub)
                snprintf(errstr, errsz, "planned %llu targets of %zu published",
                         (unsigned long long)bt->planned, bt->n_pub);
        else if (still_open != 0)
                snprintf(errstr, errsz, "%ld orders are not terminal", still_open);
        else if (stop_rc != 0)
                snprintf(errstr, errsz, "a process exited non-zero at the end");
        else
                return 0;
        return 1;
}

static void bt_free(bt_t *bt)
{
        if (bt->rk_planner)
                rd_kafka_destroy(bt->rk_planner);
        if (bt->rk_broker)
                rd_kafka_destroy(bt->rk_broker);
        te_producer_destroy(bt->producer);
        if (bt->run_db)
                PQfinish(bt->run_db);
        if (bt->main_db)
                PQfinish(bt->main_db);
        te_map_destroy(bt->portfolios, free);
        te_codec_destroy(bt->codec);
        te_bars_destroy(bt->bars);
        te_buf_free(&bt->buf);
        te_bt_params_free(&bt->params);
        free(bt->asof);
        free(bt->size);
}

int te_bt_run(const te_bt_conf_t *c, const te_cfg_t *cfg, const char *self, FILE *out,
              char *errstr, size_t errsz)
{
        bt_t bt;
        te_bt_summary_t sum;
        long cancels = 0, still_open = 0;
        int rc = 2;

        errstr[0] = '\0';
        if (bt_init(&bt, c, cfg, errstr, errsz) != 0 ||
            bt_start(&bt, self, errstr, errsz) != 0 ||
            bt_drive(&bt, &cancels, &still_open, errstr, errsz) != 0)
                goto out;
        if (c->stages)
                te_bt_stages_collect(&bt.st, bt.pid);
        int stop_rc = te_bt_procs_stop(bt.pid);
        bt.st.t_stopped = te_proc_mono_ms();
        bt.st.targets = bt.n_pub;
        if (bt_report(&bt, &sum, cancels, out, errstr, errsz) != 0)
                goto out;
        rc = bt_verdict(&bt, still_open, stop_rc, errstr, errsz);
        record_run(&bt, rc == 0 ? "done" : "failed", &sum);
out:
        te_bt_procs_stop(bt.pid); /* those still running after a failure */
        if (rc == 2 && bt.started && bt.main_db)
                record_run(&bt, "failed", NULL);
        bt_free(&bt);
        return rc;
}
