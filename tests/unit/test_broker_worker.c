/*
 * Unit tests for broker_worker: the exec-broker's order path end to end on librdkafka's
 * in-process mock cluster (hermetic), driven one loop turn at a time
 * (te_broker_worker_poll): reports on the order's partition number, a bad order
 * dead-lettered while its partition goes on, the mode gate, offsets committed only
 * after the reports are delivered, and the replay floor of a resting order committed
 * and used by the next worker of the group to rebuild the book without publishing.
 *
 * Every wait polls a condition with a deadline; nothing sleeps to synchronise. Each
 * test uses its own topics and group.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include "../broker_defaults.h"
#include "bars.h"
#include "broker.h"
#include "broker_sim.h"
#include "broker_worker.h"
#include "te_buf.h"
#include "te_codec.h"
#include "te_config.h"
#include "te_kafka.h"
#include "te_log.h"
#include "te_proc.h"

#include "mock_cluster.h"

#define N_PARTS 4
/* the longest wait for a condition (a deadline, not a sleep: each wait ends as soon as
 * its condition holds); under valgrind a worker's first group join on a loaded 2-core
 * machine took over 30 s */
#define WAIT_MS         120000
#define API_KEY_PRODUCE 0     /* the Kafka protocol's ApiKey of a Produce request */
#define DAY_0102        19724 /* 2024-01-02 */
#define MS_PER_DAY      INT64_C(86400000)
#define AT_17H(day)     ((int64_t)(day)*MS_PER_DAY + 17 * INT64_C(3600000))

static te_codec_t *codec;

/* ---- the stack ----------------------------------------------------------------------
 */

/* One test's topics and group, named after the test. */
typedef struct names_s {
        char orders[64], reports[64], alerts[64], dead[64], group[64];
} names_t;

static names_t names_for(const char *test)
{
        names_t n;
        snprintf(n.orders, sizeof n.orders, "%s.orders", test);
        snprintf(n.reports, sizeof n.reports, "%s.reports", test);
        snprintf(n.alerts, sizeof n.alerts, "%s.alerts", test);
        snprintf(n.dead, sizeof n.dead, "%s.dead", test);
        snprintf(n.group, sizeof n.group, "%s.group", test);
        const char *topics[] = {n.orders, n.reports, n.alerts, n.dead};
        for (size_t i = 0; i < 4; i++)
                assert_int_equal(rd_kafka_mock_topic_create(mock, topics[i], N_PARTS, 1),
                                 0);
        return n;
}

static te_broker_worker_conf_t conf_for(const names_t *n)
{
        te_broker_worker_conf_t c;
        memset(&c, 0, sizeof c);
        te_strlcpy(c.common.bootstrap, bootstrap, sizeof c.common.bootstrap);
        te_strlcpy(c.group_id, n->group, sizeof c.group_id);
        te_strlcpy(c.topic_orders, n->orders, sizeof c.topic_orders);
        te_strlcpy(c.topic_reports, n->reports, sizeof c.topic_reports);
        te_strlcpy(c.topic_alerts, n->alerts, sizeof c.topic_alerts);
        te_strlcpy(c.topic_deadletter, n->dead, sizeof c.topic_deadletter);
        te_strlcpy(c.broker_name, "sim", sizeof c.broker_name);
        te_strlcpy(c.account, "SIM-1", sizeof c.account);
        c.commit_interval_ms = 0; /* commit whatever is delivered every turn */
        return c;
}

/* kafka.* settings for the mock cluster (mock_cluster.h). */
static te_cfg_t *kafka_cfg(void)
{
        char errstr[256] = "";
        te_cfg_t *cfg = mock_kafka_cfg(errstr, sizeof errstr);
        if (!cfg)
                fail_msg("kafka settings: %s", errstr);
        return cfg;
}

static te_broker_worker_t *worker_with(const names_t *n, te_adapter_t *a)
{
        char errstr[512] = "";
        int bad = -1;
        te_broker_worker_conf_t c = conf_for(n);
        te_cfg_t *cfg = kafka_cfg();
        te_broker_worker_t *w =
            te_broker_worker_new(&c, cfg, a, &bad, errstr, sizeof errstr);
        te_cfg_destroy(cfg);
        if (!w)
                fail_msg("te_broker_worker_new: %s", errstr);
        assert_int_equal(bad, 0);
        assert_null(a->broker); /* handed over */
        return w;
}

static te_broker_worker_stats_t stats_of(const te_broker_worker_t *w)
{
        te_broker_worker_stats_t s;
        te_broker_worker_stats(w, &s);
        return s;
}

/* ---- a scripted adapter -------------------------------------------------------------
 */

/* An adapter of one mode: every NEW is ACKed and FILLed at 10; other commands are
 * accepted without reports. */
typedef struct fake_s {
        te_broker_t base;
        te_broker_ops_t ops;
        int submits;
} fake_t;

static te_broker_err_t fake_submit(te_broker_t *b, const te_order_cmd_t *cmd,
                                   te_reports_t *out)
{
        fake_t *f = (fake_t *)b;
        f->submits++;
        te_exec_report_t *r = te_reports_push(out);
        assert_non_null(r);
        te_broker_report_from_cmd(r, cmd, "fake");
        snprintf(r->report_id, sizeof r->report_id, "ack-%.40s", cmd->order_id);
        r->exec_type = TE_EXEC_ACK;
        r->order_status = TE_OS_NEW;
        r->leaves_qty = cmd->quantity;
        te_strlcpy(r->account, "A1", sizeof r->account);
        r = te_reports_push(out);
        assert_non_null(r);
        te_broker_report_from_cmd(r, cmd, "fake");
        snprintf(r->report_id, sizeof r->report_id, "fill-%.40s", cmd->order_id);
        r->exec_type = TE_EXEC_FILL;
        r->order_status = TE_OS_FILLED;
        r->last_qty = r->cum_qty = cmd->quantity;
        r->last_price = r->avg_price = 10;
        te_strlcpy(r->account, "A1", sizeof r->account);
        return TE_BROKER_OK;
}

static te_broker_err_t fake_other(te_broker_t *b, const te_order_cmd_t *cmd,
                                  te_reports_t *out)
{
        (void)b, (void)cmd, (void)out;
        return TE_BROKER_OK;
}

static te_broker_err_t fake_poll(te_broker_t *b, te_reports_t *out)
{
        (void)b, (void)out;
        return TE_BROKER_OK;
}

static void fake_destroy(te_broker_t *b)
{
        free(b);
}

static te_adapter_t fake_adapter(te_mode_t mode, fake_t **out)
{
        fake_t *f = calloc(1, sizeof *f);
        assert_non_null(f);
        f->ops = (te_broker_ops_t){.name = "fake",
                                   .mode = mode,
                                   .submit = fake_submit,
                                   .cancel = fake_other,
                                   .replace = fake_other,
                                   .clock = fake_other,
                                   .poll = fake_poll,
                                   .destroy = fake_destroy};
        f->base.ops = &f->ops;
        *out = f;
        return (te_adapter_t){.broker = &f->base};
}

/* The simulator over one XYZ bar (close 20, low 20) on 2024-01-02. */
static te_adapter_t sim_adapter(void)
{
        char err[128];
        te_bars_t *bars = te_bars_new();
        assert_non_null(bars);
        te_bar_t x = {.day = DAY_0102,
                      .open = 20,
                      .high = 20,
                      .low = 20,
                      .close = 20,
                      .volume = 1e6};
        assert_int_equal(te_bars_add(bars, "XYZ", &x, err, sizeof err), 0);
        te_sim_cfg_t sc;
        te_sim_cfg_defaults(&sc);
        te_broker_t *s = te_sim_new(&sc, bars);
        assert_non_null(s);
        return (te_adapter_t){.broker = s, .sim = s, .bars = bars, .name = "sim"};
}

/* The partition a portfolio's orders and reports are on (co-partitioning). */
static int32_t pf_part(const char *pf)
{
        return te_kafka_partition_of(pf, strlen(pf), N_PARTS);
}

/* ---- orders in, records out ----------------------------------------------------------
 */

static te_order_cmd_t order(te_command_t command, const char *order_id, const char *pf,
                            te_mode_t mode)
{
        te_order_cmd_t c;
        memset(&c, 0, sizeof c);
        c.command = command;
        te_strlcpy(c.order_id, order_id, sizeof c.order_id);
        te_strlcpy(c.ids.decision_id, "D1", sizeof c.ids.decision_id);
        te_strlcpy(c.ids.portfolio_id, pf, sizeof c.ids.portfolio_id);
        te_strlcpy(c.ids.strategy_id, "S1", sizeof c.ids.strategy_id);
        te_strlcpy(c.ids.profile_version_id, "PV1", sizeof c.ids.profile_version_id);
        te_strlcpy(c.ids.regime_id, "R1", sizeof c.ids.regime_id);
        te_strlcpy(c.ids.universe_id, "U1", sizeof c.ids.universe_id);
        te_strlcpy(c.ticker, "XYZ", sizeof c.ticker);
        c.side = TE_SIDE_BUY;
        c.quantity = 100;
        c.order_type = TE_OT_MARKET;
        c.tif = TE_TIF_DAY;
        c.intent = TE_INTENT_OPEN;
        c.mode = mode;
        te_strlcpy(c.route, "sim", sizeof c.route);
        c.event_time = AT_17H(DAY_0102);
        return c;
}

/* A GTC buy limit at 19: below the bar's low, so it rests. */
static te_order_cmd_t resting(const char *order_id, const char *pf)
{
        te_order_cmd_t c = order(TE_CMD_NEW, order_id, pf, TE_MODE_TRAINING);
        c.order_type = TE_OT_LIMIT;
        c.tif = TE_TIF_GTC;
        c.has_limit_price = 1;
        c.limit_price = 19;
        return c;
}

/* Produce raw bytes to `partition` (RD_KAFKA_PARTITION_UA: by key) and wait for the
 * delivery. */
static void produce_raw(const char *topic, int32_t partition, const char *key,
                        const void *v, size_t len)
{
        char errstr[512] = "";
        te_cfg_t *cfg = kafka_cfg();
        te_producer_t *p = te_producer_new(cfg, bootstrap, errstr, sizeof errstr);
        te_cfg_destroy(cfg);
        assert_non_null(p);
        assert_int_equal(te_producer_send_to(p, topic, partition, key, strlen(key), v,
                                             len, NULL, 0, errstr, sizeof errstr),
                         0);
        assert_int_equal(te_producer_flush(p, WAIT_MS, errstr, sizeof errstr), 0);
        assert_int_equal(te_producer_failed(p), 0);
        te_producer_destroy(p);
}

static void produce_order(const char *topic, int32_t partition, const te_order_cmd_t *c)
{
        char errstr[512] = "";
        te_buf_t buf;
        te_buf_init(&buf, TE_CODEC_MAX_MESSAGE);
        assert_int_equal(te_codec_encode_order_cmd(codec, c, &buf, errstr, sizeof errstr),
                         TE_CODEC_OK);
        produce_raw(topic, partition, c->ids.portfolio_id, buf.data, buf.len);
        te_buf_free(&buf);
}

/* A reader of every partition of a topic from the beginning (no group). */
typedef struct reader_s {
        rd_kafka_t *rk;
} reader_t;

static reader_t reader_of(const char *topic)
{
        char errstr[512];
        rd_kafka_conf_t *conf = rd_kafka_conf_new();
        assert_int_equal(rd_kafka_conf_set(conf, "bootstrap.servers", bootstrap, errstr,
                                           sizeof errstr),
                         RD_KAFKA_CONF_OK);
        assert_int_equal(
            rd_kafka_conf_set(conf, "fetch.wait.max.ms", "10", errstr, sizeof errstr),
            RD_KAFKA_CONF_OK);
        /* a group is needed to assign, never joined nor committed */
        assert_int_equal(
            rd_kafka_conf_set(conf, "group.id", "test-reader", errstr, sizeof errstr),
            RD_KAFKA_CONF_OK);
        assert_int_equal(
            rd_kafka_conf_set(conf, "enable.auto.commit", "false", errstr, sizeof errstr),
            RD_KAFKA_CONF_OK);
        reader_t r;
        r.rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, errstr, sizeof errstr);
        assert_non_null(r.rk);
        rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(N_PARTS);
        for (int i = 0; i < N_PARTS; i++)
                rd_kafka_topic_partition_list_add(l, topic, i)->offset =
                    RD_KAFKA_OFFSET_BEGINNING;
        assert_int_equal(rd_kafka_assign(r.rk, l), 0);
        rd_kafka_topic_partition_list_destroy(l);
        return r;
}

static void reader_close(reader_t *r)
{
        rd_kafka_consumer_close(r->rk);
        rd_kafka_destroy(r->rk);
}

/* Reports read back, with the partition each came on. */
typedef struct got_s {
        te_exec_report_t r[32];
        int32_t part[32];
        size_t n;      /* order reports (BROKER_STATE announcements left out) */
        size_t states; /* BROKER_STATE reports */
} got_t;

static void read_reports(reader_t *rd, got_t *g)
{
        rd_kafka_message_t *m;
        while ((m = rd_kafka_consumer_poll(rd->rk, 0)) != NULL) {
                if (!m->err) {
                        char errstr[256];
                        te_exec_report_t r;
                        assert_int_equal(te_codec_decode_exec_report(codec, m->payload,
                                                                     m->len, &r, errstr,
                                                                     sizeof errstr),
                                         TE_CODEC_OK);
                        if (r.exec_type == TE_EXEC_BROKER_STATE) {
                                g->states++;
                        } else {
                                assert_true(g->n < 32);
                                g->part[g->n] = m->partition;
                                g->r[g->n++] = r;
                        }
                }
                rd_kafka_message_destroy(m);
        }
}

/* Messages read so far (payloads not kept). */
static size_t count_messages(reader_t *rd, size_t *n)
{
        rd_kafka_message_t *m;
        while ((m = rd_kafka_consumer_poll(rd->rk, 0)) != NULL) {
                *n += !m->err;
                rd_kafka_message_destroy(m);
        }
        return *n;
}

/* Turn the worker's loop until `g` holds `want` order reports. */
static void run_until_reports(te_broker_worker_t *w, reader_t *rd, got_t *g, size_t want)
{
        int64_t deadline = te_proc_mono_ms() + WAIT_MS;
        while (g->n < want && te_proc_mono_ms() < deadline) {
                assert_int_equal(te_broker_worker_poll(w, 10), 0);
                read_reports(rd, g);
        }
        assert_int_equal(g->n, want);
}

/* The group's committed offset of one partition (-1: none) and its metadata. */
static int64_t committed(const names_t *n, int32_t partition, char *meta, size_t metasz)
{
        char errstr[512];
        rd_kafka_conf_t *conf = rd_kafka_conf_new();
        assert_int_equal(rd_kafka_conf_set(conf, "bootstrap.servers", bootstrap, errstr,
                                           sizeof errstr),
                         RD_KAFKA_CONF_OK);
        assert_int_equal(
            rd_kafka_conf_set(conf, "group.id", n->group, errstr, sizeof errstr),
            RD_KAFKA_CONF_OK);
        rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, errstr, sizeof errstr);
        assert_non_null(rk);
        rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(1);
        rd_kafka_topic_partition_list_add(l, n->orders, partition);
        assert_int_equal(rd_kafka_committed(rk, l, WAIT_MS), 0);
        int64_t off = l->elems[0].offset;
        if (meta) {
                size_t len = l->elems[0].metadata_size;
                if (len >= metasz)
                        len = metasz - 1;
                if (len)
                        memcpy(meta, l->elems[0].metadata, len);
                meta[len] = '\0';
        }
        rd_kafka_topic_partition_list_destroy(l);
        rd_kafka_destroy(rk);
        return off < 0 ? -1 : off;
}

/* Turn the loop until the committed offset of `partition` is `want`. */
static void run_until_committed(te_broker_worker_t *w, const names_t *n,
                                int32_t partition, int64_t want)
{
        int64_t deadline = te_proc_mono_ms() + WAIT_MS;
        int64_t got = -1;
        while (te_proc_mono_ms() < deadline) {
                for (int i = 0; i < 10; i++)
                        assert_int_equal(te_broker_worker_poll(w, 10), 0);
                got = committed(n, partition, NULL, 0);
                if (got == want)
                        break;
        }
        assert_int_equal(got, want);
}

/* Stop a worker as main does: the loop ends, a final flush and commit, destroy. */
static void stop(te_broker_worker_t *w)
{
        te_proc_stop = 1;
        assert_int_equal(te_broker_worker_run(w), 0);
        te_proc_stop = 0;
        te_broker_worker_destroy(w);
}

/* ---- tests ---------------------------------------------------------------------------
 */

/* NEW orders of several portfolios: each one's ACK and FILL come out on the partition
 * number the order came in on, and every order offset is committed. */
static void test_broker_worker_reports_on_order_partition(void **state)
{
        static const char *const pfs[] = {"P1", "P2", "P3", "P4", "P5", "P6"};
        enum { N = sizeof pfs / sizeof pfs[0] };
        (void)state;
        names_t n = names_for("wpart");
        int64_t per_part[N_PARTS] = {0};
        for (size_t i = 0; i < N; i++) {
                char id[16];
                snprintf(id, sizeof id, "O%zu", i);
                te_order_cmd_t c = order(TE_CMD_NEW, id, pfs[i], TE_MODE_TRAINING);
                produce_order(n.orders, RD_KAFKA_PARTITION_UA, &c);
                per_part[pf_part(pfs[i])]++;
        }
        fake_t *f;
        te_adapter_t a = fake_adapter(TE_MODE_TRAINING, &f);
        te_broker_worker_t *w = worker_with(&n, &a);
        reader_t rd = reader_of(n.reports);
        got_t g = {0};
        run_until_reports(w, &rd, &g, 2 * N);
        assert_int_equal(f->submits, N);
        size_t acks = 0, fills = 0;
        for (size_t i = 0; i < g.n; i++) {
                assert_int_equal(g.part[i], pf_part(g.r[i].ids.portfolio_id));
                acks += g.r[i].exec_type == TE_EXEC_ACK;
                fills += g.r[i].exec_type == TE_EXEC_FILL;
        }
        assert_int_equal(acks, N);
        assert_int_equal(fills, N);
        for (int32_t p = 0; p < N_PARTS; p++)
                run_until_committed(w, &n, p, per_part[p] ? per_part[p] : -1);
        te_broker_worker_stats_t s = stats_of(w);
        assert_int_equal(s.commands, N);
        assert_int_equal(s.reports, 2 * N);
        assert_int_equal(s.dead_lettered, 0);
        reader_close(&rd);
        stop(w);
}

/* Bytes that are no OrderCommand, then a good order on the same partition: the first
 * is dead-lettered (with the reason), the second handled, both offsets committed. */
static void test_broker_worker_bad_order_dead_lettered(void **state)
{
        static const char junk[] = "\x02not an order";
        (void)state;
        names_t n = names_for("wbad");
        const int32_t p = pf_part("P1");
        produce_raw(n.orders, p, "P1", junk, sizeof junk - 1);
        te_order_cmd_t c = order(TE_CMD_NEW, "OK1", "P1", TE_MODE_TRAINING);
        produce_order(n.orders, p, &c);
        fake_t *f;
        te_adapter_t a = fake_adapter(TE_MODE_TRAINING, &f);
        te_broker_worker_t *w = worker_with(&n, &a);
        reader_t rd = reader_of(n.reports);
        got_t g = {0};
        run_until_reports(w, &rd, &g, 2);
        assert_string_equal(g.r[0].order_id, "OK1");
        assert_int_equal(f->submits, 1);
        assert_int_equal(g.part[0], p);
        run_until_committed(w, &n, p, 2);
        reader_t dl = reader_of(n.dead);
        size_t dead = 0;
        int64_t deadline = te_proc_mono_ms() + WAIT_MS;
        while (count_messages(&dl, &dead) < 1 && te_proc_mono_ms() < deadline)
                assert_int_equal(te_broker_worker_poll(w, 10), 0);
        assert_int_equal(dead, 1);
        te_broker_worker_stats_t s = stats_of(w);
        assert_int_equal(s.dead_lettered, 1);
        assert_int_equal(s.commands, 1);
        reader_close(&dl);
        reader_close(&rd);
        stop(w);
}

/* A TRAINING order reaching a PRODUCTION adapter never gets to it: a REJECTED report on
 * its partition and a CRITICAL mode_refused alert (invariant 5). */
static void test_broker_worker_mode_refused(void **state)
{
        (void)state;
        names_t n = names_for("wmode");
        te_order_cmd_t c = order(TE_CMD_NEW, "OT1", "P7", TE_MODE_TRAINING);
        produce_order(n.orders, RD_KAFKA_PARTITION_UA, &c);
        fake_t *f;
        te_adapter_t a = fake_adapter(TE_MODE_PRODUCTION, &f);
        te_broker_worker_t *w = worker_with(&n, &a);
        reader_t rd = reader_of(n.reports);
        got_t g = {0};
        run_until_reports(w, &rd, &g, 1);
        assert_int_equal(f->submits, 0);
        assert_int_equal(g.r[0].exec_type, TE_EXEC_REJECTED);
        assert_int_equal(g.r[0].order_status, TE_OS_REJECTED);
        assert_string_equal(g.r[0].order_id, "OT1");
        assert_int_equal(g.part[0], pf_part("P7"));
        reader_t al = reader_of(n.alerts);
        int found = 0;
        int64_t deadline = te_proc_mono_ms() + WAIT_MS;
        while (!found && te_proc_mono_ms() < deadline) {
                assert_int_equal(te_broker_worker_poll(w, 10), 0);
                rd_kafka_message_t *m = rd_kafka_consumer_poll(al.rk, 0);
                if (!m)
                        continue;
                char errstr[256];
                te_alert_t x;
                if (!m->err) {
                        assert_int_equal(te_codec_decode_alert(codec, m->payload, m->len,
                                                               &x, errstr, sizeof errstr),
                                         TE_CODEC_OK);
                        found = strcmp(x.code, "mode_refused") == 0;
                        if (found) {
                                assert_int_equal(x.severity, TE_SEV_CRITICAL);
                                assert_string_equal(x.order_id, "OT1");
                        }
                }
                rd_kafka_message_destroy(m);
        }
        assert_true(found);
        reader_close(&al);
        reader_close(&rd);
        stop(w);
}

/* While the reports of an order cannot be delivered (the cluster refuses Produce
 * requests, retriably), its offset is not committed, however often the loop commits;
 * once they are delivered it is. */
static void test_broker_worker_commit_after_delivery(void **state)
{
        (void)state;
        names_t n = names_for("wdeliv");
        te_order_cmd_t c = order(TE_CMD_NEW, "OD1", "P1", TE_MODE_TRAINING);
        const int32_t p = pf_part("P1");
        produce_order(n.orders, p, &c);
        fake_t *f;
        te_adapter_t a = fake_adapter(TE_MODE_TRAINING, &f);
        te_broker_worker_t *w = worker_with(&n, &a);
        /* every Produce request fails for a while: the reports wait in the producer */
        rd_kafka_resp_err_t errs[30];
        for (size_t i = 0; i < 30; i++)
                errs[i] = RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS;
        rd_kafka_mock_push_request_errors_array(mock, API_KEY_PRODUCE, 30, errs);
        int64_t deadline = te_proc_mono_ms() + WAIT_MS;
        while (stats_of(w).commands < 1 && te_proc_mono_ms() < deadline)
                assert_int_equal(te_broker_worker_poll(w, 10), 0);
        assert_int_equal(stats_of(w).commands, 1);
        assert_int_equal(f->submits, 1);
        for (int i = 0; i < 20; i++) /* twenty commits, none may move the offset */
                assert_int_equal(te_broker_worker_poll(w, 10), 0);
        assert_int_equal(committed(&n, p, NULL, 0), -1);
        run_until_committed(w, &n, p, 1);
        reader_t rd = reader_of(n.reports);
        got_t g = {0};
        run_until_reports(w, &rd, &g, 2);
        reader_close(&rd);
        stop(w);
}

/* The simulator's resting order: committed with the offset as its replay floor; the
 * next worker of the group replays from there without publishing, so a CANCEL read
 * after the restart finds the order, and no report comes out twice. */
static void test_broker_worker_resting_rebuilt(void **state)
{
        (void)state;
        names_t n = names_for("wrest");
        const int32_t p = pf_part("P1");
        te_order_cmd_t rest = resting("OR1", "P1");
        te_order_cmd_t other = resting("OR2", "P1");
        te_order_cmd_t cancel_other = other;
        cancel_other.command = TE_CMD_CANCEL;
        cancel_other.event_time += 1;
        produce_order(n.orders, p, &rest);         /* offset 0: rests */
        produce_order(n.orders, p, &other);        /* offset 1: rests ... */
        produce_order(n.orders, p, &cancel_other); /* offset 2: ... until canceled */
        te_adapter_t a = sim_adapter();
        te_broker_worker_t *w = worker_with(&n, &a);
        reader_t rd = reader_of(n.reports);
        got_t g = {0};
        run_until_reports(w, &rd, &g, 3); /* ACK OR1, ACK OR2, CANCELED OR2 */
        assert_int_equal(g.r[0].exec_type, TE_EXEC_ACK);
        assert_int_equal(g.r[2].exec_type, TE_EXEC_CANCELED);
        assert_string_equal(g.r[2].order_id, "OR2");
        run_until_committed(w, &n, p, 3);
        char meta[64];
        assert_int_equal(committed(&n, p, meta, sizeof meta), 3);
        assert_string_equal(meta, "replay_from=0"); /* OR1 at offset 0 still rests */
        assert_int_equal(stats_of(w).resting, 1);
        stop(w);

        /* a new worker of the same group: rebuilds OR1 from offsets 0..2 */
        a = sim_adapter();
        w = worker_with(&n, &a);
        int64_t deadline = te_proc_mono_ms() + WAIT_MS;
        while (stats_of(w).replayed < 3 && te_proc_mono_ms() < deadline)
                assert_int_equal(te_broker_worker_poll(w, 10), 0);
        te_broker_worker_stats_t s = stats_of(w);
        assert_int_equal(s.replayed, 3);
        assert_int_equal(s.resting, 1);
        assert_int_equal(s.reports, 0); /* nothing published again */
        te_order_cmd_t cancel = rest;
        cancel.command = TE_CMD_CANCEL;
        cancel.event_time += 2;
        produce_order(n.orders, p, &cancel); /* offset 3 */
        run_until_reports(w, &rd, &g, 4);
        assert_int_equal(g.r[3].exec_type, TE_EXEC_CANCELED);
        assert_string_equal(g.r[3].order_id, "OR1");
        assert_int_equal(g.part[3], p);
        for (size_t i = 0; i < g.n; i++) /* no report id twice */
                for (size_t j = i + 1; j < g.n; j++)
                        assert_string_not_equal(g.r[i].report_id, g.r[j].report_id);
        run_until_committed(w, &n, p, 4);
        assert_int_equal(committed(&n, p, meta, sizeof meta), 4);
        assert_string_equal(meta, "replay_from=4"); /* nothing open any more */
        assert_int_equal(stats_of(w).resting, 0);
        reader_close(&rd);
        stop(w);
}

/* ---- the mock cluster ----------------------------------------------------------------
 */

static int mock_setup(void **state)
{
        char errstr[512];
        (void)state;
        codec = te_codec_new(errstr, sizeof errstr);
        if (!codec)
                return -1;
        return mock_cluster_start(NULL, 0, 1); /* each test creates its own topics */
}

static int mock_teardown(void **state)
{
        (void)state;
        mock_cluster_stop();
        te_codec_destroy(codec);
        return 0;
}

int main(void)
{
        const struct CMUnitTest on_mock[] = {
            cmocka_unit_test(test_broker_worker_reports_on_order_partition),
            cmocka_unit_test(test_broker_worker_bad_order_dead_lettered),
            cmocka_unit_test(test_broker_worker_mode_refused),
            cmocka_unit_test(test_broker_worker_commit_after_delivery),
            cmocka_unit_test(test_broker_worker_resting_rebuilt),
        };
        te_log_init("test_broker_worker", TE_LOG_WARN);
        return cmocka_run_group_tests_name("broker_worker", on_mock, mock_setup,
                                           mock_teardown);
}
