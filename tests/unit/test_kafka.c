/*
 * Unit tests for te_kafka: configuration building, the bootstrap-file wait, and the
 * producer/consumer wrappers end to end on librdkafka's in-process mock cluster
 * (hermetic: no broker, no network beyond loopback).
 *
 * Every wait is a poll loop on a condition with a deadline; nothing sleeps to
 * synchronise.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include "te_buf.h"
#include "te_config.h"
#include "te_kafka.h"
#include "te_kafka_role.h"
#include "te_log.h"
#include "te_proc.h"

#include "mock_cluster.h"

#define N_PARTS 4

static int config_target; /* the empty table's target */

/* A config with no table keys and the given kafka.* pairs (NULL-terminated). */
static te_cfg_t *cfg_with(const char *const *kv)
{
        char errstr[256] = "";
        te_cfg_t *cfg = te_cfg_new(NULL, 0, &config_target, errstr, sizeof errstr);
        assert_non_null(cfg);
        for (size_t i = 0; kv && kv[i]; i += 2)
                assert_int_equal(
                    te_cfg_set(cfg, kv[i], kv[i + 1], "test", errstr, sizeof errstr), 0);
        return cfg;
}

/* Timing settings for the mock cluster (KAFKA-MOCK.md). */
static const char *const consumer_kv[] = {
    "kafka.session.timeout.ms",    "6000", /* mock_cluster.h: MOCK_SESSION_TIMEOUT_MS */
    "kafka.heartbeat.interval.ms", "500",  "kafka.fetch.wait.max.ms", "10", NULL};

/* ---- configuration ---------------------------------------------------------------- */

static void test_kafka_conf_build(void **state)
{
        static const char *const no_kv[] = {NULL};
        static const char *const linger50[] = {"kafka.linger.ms", "50", NULL};
        static const char *const autocommit_on[] = {"kafka.enable.auto.commit", "true",
                                                    NULL};
        static const char *const unknown[] = {"kafka.no.such.property", "1", NULL};
        static const char *const bad_value[] = {"kafka.linger.ms", "soon", NULL};
        static const char *const bs_key[] = {"kafka.bootstrap.servers", "b:2", NULL};
        static const char *const def_linger5[] = {"linger.ms", "5", NULL};
        static const char *const def_bad[] = {"linger.ms", "abc", NULL};
        static const char *const fix_autocommit[] = {"enable.auto.commit", "false", NULL};
        static const struct {
                const char *const *kv;
                const char *bootstrap;
                const char *const *defaults;
                const char *const *fixed;
                const char *prop;  /* property to read back */
                const char *value; /* its expected value; NULL = build must fail */
                const char *err;   /* substring of errstr on failure */
        } cases[] = {
            {no_kv, NULL, def_linger5, NULL, "linger.ms", "5", NULL},
            {linger50, NULL, def_linger5, NULL, "linger.ms", "50", NULL},
            {autocommit_on, NULL, NULL, fix_autocommit, "enable.auto.commit", "false",
             NULL},
            {autocommit_on, NULL, NULL, NULL, "enable.auto.commit", "true", NULL},
            {no_kv, "a:1", NULL, NULL, "bootstrap.servers", "a:1", NULL},
            {bs_key, "a:1", NULL, NULL, "bootstrap.servers", "b:2", NULL},
            {bs_key, NULL, NULL, NULL, "bootstrap.servers", "b:2", NULL},
            {unknown, NULL, NULL, NULL, NULL, NULL, "no.such.property"},
            {bad_value, NULL, NULL, NULL, NULL, NULL, "linger.ms"},
            {no_kv, NULL, def_bad, NULL, NULL, NULL, "linger.ms"},
        };
        (void)state;
        for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
                char errstr[512] = "";
                te_cfg_t *cfg = cfg_with(cases[i].kv);
                rd_kafka_conf_t *conf =
                    te_kafka_conf_build(cfg, cases[i].bootstrap, cases[i].defaults,
                                        cases[i].fixed, errstr, sizeof errstr);
                if (!cases[i].value) {
                        assert_null(conf);
                        assert_non_null(strstr(errstr, cases[i].err));
                } else {
                        char got[256];
                        size_t sz = sizeof got;
                        assert_non_null(conf);
                        assert_int_equal(rd_kafka_conf_get(conf, cases[i].prop, got, &sz),
                                         RD_KAFKA_CONF_OK);
                        assert_string_equal(got, cases[i].value);
                        rd_kafka_conf_destroy(conf);
                }
                te_cfg_destroy(cfg);
        }
        /* no config at all */
        char errstr[256];
        rd_kafka_conf_t *conf =
            te_kafka_conf_build(NULL, NULL, NULL, NULL, errstr, sizeof errstr);
        assert_non_null(conf);
        rd_kafka_conf_destroy(conf);
}

/* librdkafka's property table, read through te_kafka_role. */
static void test_kafka_prop_roles(void **state)
{
        static const struct {
                const char *name;
                te_kafka_role_t role;
        } cases[] = {
            {"fetch.wait.max.ms", TE_KAFKA_ROLE_CONSUMER},
            {"session.timeout.ms", TE_KAFKA_ROLE_CONSUMER},
            {"heartbeat.interval.ms", TE_KAFKA_ROLE_CONSUMER},
            {"auto.offset.reset", TE_KAFKA_ROLE_CONSUMER}, /* a topic property */
            {"linger.ms", TE_KAFKA_ROLE_PRODUCER},
            {"enable.idempotence", TE_KAFKA_ROLE_PRODUCER},
            {"acks", TE_KAFKA_ROLE_PRODUCER}, /* a topic property */
            {"bootstrap.servers", TE_KAFKA_ROLE_ANY},
            {"statistics.interval.ms", TE_KAFKA_ROLE_ANY},
            {"reconnect.backoff.max.ms", TE_KAFKA_ROLE_ANY},
            {"no.such.property", TE_KAFKA_ROLE_ANY},
            {"", TE_KAFKA_ROLE_ANY},
        };
        (void)state;
        for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
                if (te_kafka_prop_role(cases[i].name) != cases[i].role)
                        fail_msg("%s: role %d, want %d", cases[i].name,
                                 (int)te_kafka_prop_role(cases[i].name),
                                 (int)cases[i].role);
        }
        assert_true(te_kafka_prop_ignored_by("fetch.wait.max.ms", RD_KAFKA_PRODUCER));
        assert_false(te_kafka_prop_ignored_by("fetch.wait.max.ms", RD_KAFKA_CONSUMER));
        assert_true(te_kafka_prop_ignored_by("linger.ms", RD_KAFKA_CONSUMER));
        assert_false(te_kafka_prop_ignored_by("linger.ms", RD_KAFKA_PRODUCER));
        assert_false(te_kafka_prop_ignored_by("socket.timeout.ms", RD_KAFKA_PRODUCER));
        assert_false(te_kafka_prop_ignored_by("socket.timeout.ms", RD_KAFKA_CONSUMER));
}

/* Run `fn` with stderr (where te_log writes) going to a temp file; its text into out. */
static void capture_stderr(void (*fn)(void *), void *arg, char *out, size_t outsz)
{
        char path[] = "/tmp/test_kafka_stderr_XXXXXX";
        int fd = mkstemp(path);
        assert_true(fd >= 0);
        int saved = dup(STDERR_FILENO);
        assert_true(saved >= 0);
        assert_true(dup2(fd, STDERR_FILENO) >= 0);
        fn(arg);
        assert_true(dup2(saved, STDERR_FILENO) >= 0);
        close(saved);
        ssize_t n = pread(fd, out, outsz - 1, 0);
        out[n > 0 ? n : 0] = '\0';
        close(fd);
        unlink(path);
}

/* librdkafka's words for a property of the other kind of client */
#define ROLE_CONFWARN " property and will be ignored by this "

/* The settings of a whole process: consumer timing and producer batching together. */
static const char *const mixed_kv[] = {"kafka.fetch.wait.max.ms",
                                       "10",
                                       "kafka.session.timeout.ms",
                                       "3000",
                                       "kafka.linger.ms",
                                       "7",
                                       "kafka.socket.timeout.ms",
                                       "1234",
                                       NULL};

static void new_unfiltered_producer(void *arg)
{
        char errstr[512], why[512];
        rd_kafka_conf_t *conf =
            te_kafka_conf_build(arg, NULL, NULL, NULL, errstr, sizeof errstr);
        assert_non_null(conf);
        rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, why, sizeof why);
        assert_non_null(rk);
        rd_kafka_destroy(rk);
}

static void new_wrapped_handles(void *arg)
{
        char errstr[512];
        const char *topics[] = {"t"};
        te_producer_t *p = te_producer_new(arg, NULL, errstr, sizeof errstr);
        assert_non_null(p);
        te_producer_destroy(p);
        te_consumer_t *c =
            te_consumer_new(arg, NULL, "g", topics, 1, NULL, NULL, errstr, sizeof errstr);
        assert_non_null(c);
        te_consumer_destroy(c);
}

/* te_kafka_conf_build_for leaves out what the other kind of client is for, so one set
 * of kafka.* keys gives a producer and a consumer without CONFWARN noise. */
static void test_kafka_conf_build_for_role(void **state)
{
        static const struct {
                rd_kafka_type_t type;
                const char *prop, *value;
        } cases[] = {
            {RD_KAFKA_PRODUCER, "fetch.wait.max.ms", "500"}, /* left at its default */
            {RD_KAFKA_PRODUCER, "session.timeout.ms", "45000"},
            {RD_KAFKA_PRODUCER, "linger.ms", "7"},
            {RD_KAFKA_PRODUCER, "socket.timeout.ms", "1234"},
            {RD_KAFKA_CONSUMER, "fetch.wait.max.ms", "10"},
            {RD_KAFKA_CONSUMER, "session.timeout.ms", "3000"},
            {RD_KAFKA_CONSUMER, "linger.ms", "5"}, /* left at its default */
            {RD_KAFKA_CONSUMER, "socket.timeout.ms", "1234"},
        };
        static char text[65536];
        char errstr[512], got[64];
        (void)state;
        te_cfg_t *cfg = cfg_with(mixed_kv);
        for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
                size_t sz = sizeof got;
                rd_kafka_conf_t *conf = te_kafka_conf_build_for(
                    cases[i].type, cfg, NULL, NULL, NULL, errstr, sizeof errstr);
                assert_non_null(conf);
                assert_int_equal(rd_kafka_conf_get(conf, cases[i].prop, got, &sz),
                                 RD_KAFKA_CONF_OK);
                if (strcmp(got, cases[i].value) != 0)
                        fail_msg("%s for %s: %s, want %s", cases[i].prop,
                                 cases[i].type == RD_KAFKA_PRODUCER ? "producer"
                                                                    : "consumer",
                                 got, cases[i].value);
                rd_kafka_conf_destroy(conf);
        }
        /* a bad value is still an error, whatever the role */
        static const char *const bad_fetch[] = {"kafka.fetch.wait.max.ms", "soon", NULL};
        te_cfg_t *bad = cfg_with(bad_fetch);
        assert_null(te_kafka_conf_build_for(RD_KAFKA_CONSUMER, bad, NULL, NULL, NULL,
                                            errstr, sizeof errstr));
        assert_non_null(strstr(errstr, "fetch.wait.max.ms"));
        te_cfg_destroy(bad);

        /* without the filter librdkafka says it ignores them (so the check below can
         * fail), at debug level only ... */
        te_log_init("test_kafka", TE_LOG_DEBUG);
        capture_stderr(new_unfiltered_producer, cfg, text, sizeof text);
        assert_non_null(strstr(text, ROLE_CONFWARN));
        assert_non_null(strstr(text, "fetch.wait.max.ms"));
        te_log_init("test_kafka", TE_LOG_WARN);
        capture_stderr(new_unfiltered_producer, cfg, text, sizeof text);
        if (strstr(text, ROLE_CONFWARN))
                fail_msg("role CONFWARN logged as a warning: %s", text);
        /* ... and the wrappers' handles do not get them at all */
        te_log_init("test_kafka", TE_LOG_DEBUG);
        capture_stderr(new_wrapped_handles, cfg, text, sizeof text);
        te_log_init("test_kafka", TE_LOG_WARN);
        if (strstr(text, ROLE_CONFWARN))
                fail_msg("CONFWARN from te_producer_new/te_consumer_new: %s", text);
        te_cfg_destroy(cfg);
}

static void test_kafka_wait_bootstrap_file(void **state)
{
        static const struct {
                const char *content; /* NULL: the file does not exist */
                int timeout_ms;
                size_t outsz;
                int rc;
                const char *out;
        } cases[] = {
            {"127.0.0.1:9092\n", 1000, 64, 0, "127.0.0.1:9092"},
            {"  127.0.0.1:1,127.0.0.1:2", 1000, 64, 0, "127.0.0.1:1,127.0.0.1:2"},
            {"127.0.0.1:9092\n", 1000, 15, 0, "127.0.0.1:9092"},
            {"127.0.0.1:9092\n", 1000, 8, -1, ""}, /* too long for out */
            {"bad host!\n", 1000, 64, -1, ""},     /* not a bootstrap list */
            {NULL, 200, 64, -1, ""},               /* absent: times out */
            {"", 200, 64, -1, ""},                 /* empty: times out */
            {"\n\n", 200, 64, -1, ""},             /* blank: times out */
        };
        (void)state;
        for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
                char dir[] = "/tmp/test_kafka_XXXXXX";
                char path[128], out[64], errstr[256] = "";
                assert_non_null(mkdtemp(dir));
                snprintf(path, sizeof path, "%s/bootstrap", dir);
                if (cases[i].content) {
                        FILE *fp = fopen(path, "w");
                        assert_non_null(fp);
                        fputs(cases[i].content, fp);
                        fclose(fp);
                }
                memset(out, 'x', sizeof out);
                int64_t t0 = te_proc_mono_ms();
                int rc =
                    te_kafka_wait_bootstrap_file(path, cases[i].timeout_ms, out,
                                                 cases[i].outsz, errstr, sizeof errstr);
                int64_t took = te_proc_mono_ms() - t0;
                assert_int_equal(rc, cases[i].rc);
                assert_string_equal(out, cases[i].out);
                if (rc != 0)
                        assert_non_null(strstr(errstr, path));
                if (rc != 0 && cases[i].content && cases[i].content[0] != '\0' &&
                    cases[i].content[0] != '\n')
                        assert_true(took <
                                    cases[i].timeout_ms); /* hard errors fail fast */
                if (!cases[i].content)
                        assert_true(took >= cases[i].timeout_ms && took < 5000);
                unlink(path);
                rmdir(dir);
        }

        /* empty path: nothing to wait for, out untouched */
        char out[8] = "keep";
        char errstr[64];
        assert_int_equal(
            te_kafka_wait_bootstrap_file("", 10, out, sizeof out, errstr, sizeof errstr),
            0);
        assert_string_equal(out, "keep");
}

/* ---- mock cluster ----------------------------------------------------------------- */

static int mock_setup(void **state)
{
        static const char *const topics[] = {"t", "cp_a", "cp_b", "seq"};
        (void)state;
        te_log_init("test_kafka", TE_LOG_WARN);
        return mock_cluster_start(topics, sizeof topics / sizeof topics[0], N_PARTS);
}

static int mock_teardown(void **state)
{
        (void)state;
        mock_cluster_stop();
        return 0;
}

typedef struct rebalance_s {
        int assigned_calls;
        int revoked_calls;
        int set_start;          /* set start offsets on assign */
        int64_t start[N_PARTS]; /* ... to these */
} rebalance_t;

static void on_rebalance(te_consumer_t *c, rd_kafka_topic_partition_list_t *parts,
                         int assigned, void *opaque)
{
        rebalance_t *rb = opaque;
        (void)c;
        if (!assigned) {
                rb->revoked_calls++;
                return;
        }
        rb->assigned_calls++;
        for (int i = 0; rb->set_start && i < parts->cnt; i++)
                parts->elems[i].offset = rb->start[parts->elems[i].partition];
}

static te_consumer_t *new_consumer(const char *group, const char *const *topics,
                                   size_t n_topics, rebalance_t *rb)
{
        char errstr[512] = "";
        te_cfg_t *cfg = cfg_with(consumer_kv);
        te_consumer_t *c = te_consumer_new(cfg, bootstrap, group, topics, n_topics,
                                           on_rebalance, rb, errstr, sizeof errstr);
        if (!c)
                fail_msg("te_consumer_new: %s", errstr);
        /* the consumer does not keep the config */
        te_cfg_destroy(cfg);
        return c;
}

static void test_kafka_produce_consume_commit(void **state)
{
        static const char *const topics[] = {"t"};
        char errstr[512] = "";
        int64_t per_part[N_PARTS] = {0};
        (void)state;

        te_cfg_t *pcfg = cfg_with(NULL);
        te_producer_t *p = te_producer_new(pcfg, bootstrap, errstr, sizeof errstr);
        assert_non_null(p);
        te_cfg_destroy(pcfg);
        for (int i = 0; i < 100; i++) {
                char key[16], value[16];
                snprintf(key, sizeof key, "pf-%d", i % 10);
                snprintf(value, sizeof value, "v%03d", i);
                te_kafka_header_t hdr = {"trace", value, strlen(value)};
                assert_int_equal(te_producer_send(p, "t", key, strlen(key), value,
                                                  strlen(value), &hdr, 1, errstr,
                                                  sizeof errstr),
                                 0);
        }
        assert_int_equal(te_producer_flush(p, 10000, errstr, sizeof errstr), 0);
        assert_int_equal(te_producer_delivered(p), 100);
        assert_int_equal(te_producer_failed(p), 0);
        te_producer_destroy(p);

        /* first consumer: read all 100, store each, commit */
        rebalance_t rb1 = {0};
        te_consumer_t *c = new_consumer("g1", topics, 1, &rb1);
        int got = 0;
        int64_t deadline = te_proc_mono_ms() + 30000;
        while (got < 100 && te_proc_mono_ms() < deadline) {
                rd_kafka_message_t *m = te_consumer_poll(c, 100);
                if (!m)
                        continue;
                assert_true(m->partition >= 0 && m->partition < N_PARTS);
                rd_kafka_headers_t *hdrs = NULL;
                const void *hv;
                size_t hlen;
                assert_int_equal(rd_kafka_message_headers(m, &hdrs), 0);
                assert_int_equal(rd_kafka_header_get_last(hdrs, "trace", &hv, &hlen), 0);
                assert_int_equal(hlen, m->len);
                assert_memory_equal(hv, m->payload, m->len);
                per_part[m->partition]++;
                got++;
                te_consumer_store(c, m);
                rd_kafka_message_destroy(m);
        }
        assert_int_equal(got, 100);
        assert_true(rb1.assigned_calls >= 1);
        assert_int_equal(te_consumer_assigned_count(c), N_PARTS);
        assert_int_equal(te_consumer_commit(c, 1), 0);
        te_consumer_destroy(c);
        assert_true(rb1.revoked_calls >= 1);

        /* second consumer in the same group: joins, gets every partition, and sees
         * nothing new for ~3 s */
        rebalance_t rb2 = {0};
        c = new_consumer("g1", topics, 1, &rb2);
        int extra = 0;
        deadline = te_proc_mono_ms() + 30000;
        while (te_consumer_assigned_count(c) < N_PARTS && te_proc_mono_ms() < deadline) {
                rd_kafka_message_t *m = te_consumer_poll(c, 100);
                if (m) {
                        extra++;
                        rd_kafka_message_destroy(m);
                }
        }
        assert_int_equal(te_consumer_assigned_count(c), N_PARTS);
        deadline = te_proc_mono_ms() + 3000;
        while (te_proc_mono_ms() < deadline) {
                rd_kafka_message_t *m = te_consumer_poll(c, 100);
                if (m) {
                        extra++;
                        rd_kafka_message_destroy(m);
                }
        }
        assert_int_equal(extra, 0);

        rd_kafka_topic_partition_list_t *parts =
            rd_kafka_topic_partition_list_new(N_PARTS);
        for (int i = 0; i < N_PARTS; i++)
                rd_kafka_topic_partition_list_add(parts, "t", i);
        assert_int_equal(rd_kafka_committed(te_consumer_handle(c), parts, 10000), 0);
        int64_t sum = 0;
        for (int i = 0; i < N_PARTS; i++) {
                const rd_kafka_topic_partition_t *tp = &parts->elems[i];
                assert_int_equal(tp->err, 0);
                assert_int_equal(tp->offset, per_part[tp->partition]);
                sum += tp->offset;
        }
        assert_int_equal(sum, 100);
        rd_kafka_topic_partition_list_destroy(parts);
        te_consumer_destroy(c);

        /* a new group whose rebalance callback sets the start offsets (what the sink
         * does with the offsets kept in PostgreSQL): half of each partition */
        rebalance_t rb3 = {0};
        rb3.set_start = 1;
        int expect = 0;
        for (int i = 0; i < N_PARTS; i++) {
                rb3.start[i] = per_part[i] / 2;
                expect += (int)(per_part[i] - per_part[i] / 2);
        }
        c = new_consumer("g-start", topics, 1, &rb3);
        got = 0;
        deadline = te_proc_mono_ms() + 30000;
        while (got < expect && te_proc_mono_ms() < deadline) {
                rd_kafka_message_t *m = te_consumer_poll(c, 100);
                if (!m)
                        continue;
                assert_true(m->offset >= rb3.start[m->partition]);
                got++;
                rd_kafka_message_destroy(m);
        }
        assert_int_equal(got, expect);
        assert_true(rb3.assigned_calls >= 1);
        te_consumer_destroy(c);
}

/* Kafka's (Java client's) murmur2 partitioner, written out from its definition:
 * seed 0x9747b28c, m 0x5bd1e995, r 24; partition = (hash & 0x7fffffff) % n. */
static uint32_t java_murmur2(const unsigned char *d, size_t len)
{
        const uint32_t m = 0x5bd1e995;
        uint32_t h = 0x9747b28cu ^ (uint32_t)len;
        size_t i = 0;
        for (; i + 4 <= len; i += 4) {
                uint32_t k = (uint32_t)d[i] | (uint32_t)d[i + 1] << 8 |
                             (uint32_t)d[i + 2] << 16 | (uint32_t)d[i + 3] << 24;
                k *= m;
                k ^= k >> 24;
                k *= m;
                h *= m;
                h ^= k;
        }
        switch (len & 3) {
        case 3:
                h ^= (uint32_t)d[i + 2] << 16;
                /* fall through */
        case 2:
                h ^= (uint32_t)d[i + 1] << 8;
                /* fall through */
        case 1:
                h ^= d[i];
                h *= m;
        }
        h ^= h >> 13;
        h *= m;
        h ^= h >> 15;
        return h;
}

static int java_partition(const char *key, int n)
{
        return (
            int)((java_murmur2((const unsigned char *)key, strlen(key)) & 0x7fffffff) %
                 (uint32_t)n);
}

static void test_kafka_java_murmur2_vectors(void **state)
{
        /* vectors from the Kafka client's own tests (signed 32-bit results) */
        static const struct {
                const char *key;
                int32_t hash;
        } cases[] = {
            {"21", -973932308},
            {"foobar", -790332482},
            {"a-little-bit-long-string", -985981536},
            {"a-little-bit-longer-string", -1486304829},
            {"lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8", -58897971},
            {"abc", 479470107},
        };
        (void)state;
        for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
                assert_int_equal(
                    (int32_t)java_murmur2((const unsigned char *)cases[i].key,
                                          strlen(cases[i].key)),
                    cases[i].hash);
}

static void test_kafka_copartitioning(void **state)
{
        static const char *const topics[] = {"cp_a", "cp_b"};
        enum { N_KEYS = 20 };
        char errstr[512] = "";
        int part[2][N_KEYS];
        (void)state;

        te_cfg_t *pcfg = cfg_with(NULL);
        te_producer_t *p = te_producer_new(pcfg, bootstrap, errstr, sizeof errstr);
        assert_non_null(p);
        te_cfg_destroy(pcfg);
        for (int t = 0; t < 2; t++) {
                for (int k = 0; k < N_KEYS; k++) {
                        char key[16];
                        snprintf(key, sizeof key, "pf-%02d", k);
                        part[t][k] = -1;
                        assert_int_equal(te_producer_send(p, topics[t], key, strlen(key),
                                                          key, strlen(key), NULL, 0,
                                                          errstr, sizeof errstr),
                                         0);
                }
        }
        assert_int_equal(te_producer_flush(p, 10000, errstr, sizeof errstr), 0);
        assert_int_equal(te_producer_delivered(p), 2 * N_KEYS);
        te_producer_destroy(p);

        rebalance_t rb = {0};
        te_consumer_t *c = new_consumer("g-cp", topics, 2, &rb);
        int got = 0;
        int64_t deadline = te_proc_mono_ms() + 30000;
        while (got < 2 * N_KEYS && te_proc_mono_ms() < deadline) {
                rd_kafka_message_t *m = te_consumer_poll(c, 100);
                if (!m)
                        continue;
                int t = strcmp(rd_kafka_topic_name(m->rkt), "cp_a") == 0 ? 0 : 1;
                int k = -1;
                assert_true(m->key_len == 5);
                char kbuf[8];
                memcpy(kbuf, m->key, 5);
                kbuf[5] = '\0';
                assert_int_equal(sscanf(kbuf, "pf-%2d", &k), 1);
                assert_true(k >= 0 && k < N_KEYS);
                part[t][k] = m->partition;
                got++;
                rd_kafka_message_destroy(m);
        }
        te_consumer_destroy(c);
        assert_int_equal(got, 2 * N_KEYS);

        int used[N_PARTS] = {0};
        for (int k = 0; k < N_KEYS; k++) {
                char key[16];
                snprintf(key, sizeof key, "pf-%02d", k);
                assert_int_equal(part[0][k], part[1][k]); /* co-partitioned */
                assert_int_equal(part[0][k],
                                 java_partition(key, N_PARTS)); /* Java-compatible */
                used[part[0][k]] = 1;
        }
        int n_used = 0;
        for (int i = 0; i < N_PARTS; i++)
                n_used += used[i];
        assert_true(n_used >= 2);
}

typedef struct seen_s {
        int n;
        int64_t end[N_PARTS]; /* after the last offset delivered per partition */
        int in_order;
} seen_t;

static void on_delivered(void *opaque, const rd_kafka_message_t *m, uint64_t seq)
{
        seen_t *s = opaque;
        s->n++;
        assert_true(seq >= 1 && seq <= 3000);
        assert_true(m->partition >= 0 && m->partition < N_PARTS);
        if (m->offset != s->end[m->partition])
                s->in_order = 0;
        s->end[m->partition] = m->offset + 1;
}

/* Delivery sequence numbers: one per message queued, the delivered one never ahead of
 * a message without its report; the hook sees every delivery with its offset. More
 * messages than the first ring holds, so it grows with numbers in flight. */
static void test_kafka_delivery_seq(void **state)
{
        enum { N = 3000 };
        char errstr[512] = "";
        seen_t seen = {.in_order = 1};
        (void)state;
        te_cfg_t *pcfg = cfg_with(NULL);
        te_producer_t *p = te_producer_new(pcfg, bootstrap, errstr, sizeof errstr);
        assert_non_null(p);
        te_cfg_destroy(pcfg);
        te_producer_set_delivery_hook(p, on_delivered, &seen);
        assert_int_equal(te_producer_sent_seq(p), 0);
        assert_int_equal(te_producer_delivered_seq(p), 0);
        for (int i = 0; i < N; i++) {
                char key[16];
                snprintf(key, sizeof key, "pf-%d", i % 10);
                assert_int_equal(te_producer_send(p, "seq", key, strlen(key), key,
                                                  strlen(key), NULL, 0, errstr,
                                                  sizeof errstr),
                                 0);
                assert_int_equal(te_producer_sent_seq(p), (uint64_t)i + 1);
                /* never past what has its delivery report */
                assert_true(te_producer_delivered_seq(p) <= (uint64_t)seen.n);
        }
        assert_int_equal(te_producer_flush(p, 10000, errstr, sizeof errstr), 0);
        assert_int_equal(te_producer_delivered_seq(p), N);
        assert_int_equal(seen.n, N);
        assert_true(seen.in_order);
        int64_t total = 0;
        for (int i = 0; i < N_PARTS; i++)
                total += seen.end[i];
        assert_int_equal(total, N); /* a fresh topic: offsets from 0, none missing */
        te_producer_destroy(p);
}

/* te_producer_kick sends what linger.ms holds back and returns once it is delivered;
 * without it (or with timeout 0) a message waits out linger.ms (10 s here, longer
 * than the kick waits). */
static void test_kafka_kick(void **state)
{
        static const char *const linger10s[] = {"kafka.linger.ms", "10000", NULL};
        char errstr[512] = "";
        (void)state;
        te_cfg_t *pcfg = cfg_with(linger10s);
        te_producer_t *p = te_producer_new(pcfg, bootstrap, errstr, sizeof errstr);
        assert_non_null(p);
        te_cfg_destroy(pcfg);
        for (int i = 1; i <= 2; i++) {
                assert_int_equal(te_producer_send(p, "seq", "k", 1, "v", 1, NULL, 0,
                                                  errstr, sizeof errstr),
                                 0);
                /* held back by linger.ms: neither a poll nor a kick of 0 ms sends it */
                te_producer_poll(p, 300);
                te_producer_kick(p, 0);
                te_producer_poll(p, 300);
                assert_int_equal(te_producer_delivered_seq(p), (uint64_t)i - 1);
                int64_t t0 = te_proc_mono_ms();
                te_producer_kick(p, 2500);
                int64_t took = te_proc_mono_ms() - t0;
                assert_int_equal(te_producer_delivered_seq(p), (uint64_t)i);
                assert_true(took < 2500); /* delivered, not timed out */
        }
        /* nothing new since the last kick: nothing to wait for */
        int64_t t0 = te_proc_mono_ms();
        te_producer_kick(p, 2500);
        assert_true(te_proc_mono_ms() - t0 < 2500);
        assert_int_equal(te_producer_failed(p), 0);
        te_producer_destroy(p);
}

int main(void)
{
        const struct CMUnitTest plain[] = {
            cmocka_unit_test(test_kafka_conf_build),
            cmocka_unit_test(test_kafka_prop_roles),
            cmocka_unit_test(test_kafka_conf_build_for_role),
            cmocka_unit_test(test_kafka_wait_bootstrap_file),
            cmocka_unit_test(test_kafka_java_murmur2_vectors),
        };
        const struct CMUnitTest on_mock[] = {
            cmocka_unit_test(test_kafka_produce_consume_commit),
            cmocka_unit_test(test_kafka_copartitioning),
            cmocka_unit_test(test_kafka_delivery_seq),
            cmocka_unit_test(test_kafka_kick),
        };
        te_log_init("test_kafka", TE_LOG_WARN);
        int rc = cmocka_run_group_tests_name("plain", plain, NULL, NULL);
        rc |= cmocka_run_group_tests_name("mock", on_mock, mock_setup, mock_teardown);
        return rc;
}
