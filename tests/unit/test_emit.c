/*
 * te_emit's dead letters on librdkafka's mock cluster, and te_sha256: a copy too large
 * for the producer's message.max.bytes is cut to fit with its original length and hash;
 * a copy that cannot be queued even cut is skipped with a CRITICAL alert naming its
 * source; a side-channel delivery that fails never stops the delivery sequence nor
 * fails the flush, and is raised as an alert by the next te_emit call. te_emit_reject:
 * one dead letter with the te.* headers and one Alert per rejected message, and a
 * dead letter that fails (skipped, or lost in delivery) never stops its caller.
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

#include "te_codec.h"
#include "te_config.h"
#include "te_emit.h"
#include "te_kafka.h"
#include "te_log.h"
#include "te_sha256.h"

#include "mock_cluster.h"

static int config_target;

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

static void test_sha256_vectors(void **state)
{
        char hex[TE_SHA256_HEX];
        (void)state;
        te_sha256_hex("", 0, hex);
        assert_string_equal(
            hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
        te_sha256_hex("abc", 3, hex);
        assert_string_equal(
            hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
        /* 56 bytes: the length goes into a second padding block */
        const char *two = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
        te_sha256_hex(two, strlen(two), hex);
        assert_string_equal(
            hex, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
        char *a = malloc(1000000);
        assert_non_null(a);
        memset(a, 'a', 1000000);
        te_sha256_hex(a, 1000000, hex);
        assert_string_equal(
            hex, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
        free(a);
}

static int mock_setup(void **state)
{
        static const char *const topics[] = {"src",  "dl",        "alerts",    "dark",
                                             "t",    "rj.dl",     "rj.alerts", "rj.dark",
                                             "rj.t", "rj.alerts2"};
        (void)state;
        te_log_init("test_emit", TE_LOG_ERROR);
        return mock_cluster_start(topics, sizeof topics / sizeof topics[0], 1);
}

static int mock_teardown(void **state)
{
        (void)state;
        mock_cluster_stop();
        return 0;
}

/* A consumed message, copied: its value and the headers the tests look at. */
typedef struct got_s {
        unsigned char *val;
        size_t len;
        char orig_len[32], sha[80], offset[32], reason[128];
        char key[160], src_topic[64], partition[16], pid[64], did[64], src_key[64];
        int truncated;
} got_t;

static int hdr(const rd_kafka_message_t *m, const char *name, char *buf, size_t bufsz)
{
        rd_kafka_headers_t *h = NULL;
        const void *v;
        size_t len;
        buf[0] = '\0';
        if (rd_kafka_message_headers(m, &h) || !h ||
            rd_kafka_header_get_last(h, name, &v, &len) || len >= bufsz)
                return 0;
        memcpy(buf, v, len);
        buf[len] = '\0';
        return 1;
}

/* Every message of `topic` (one partition) from the beginning, until none for 1 s. */
static size_t read_all(const char *topic, got_t *out, size_t cap)
{
        char errstr[512];
        rd_kafka_conf_t *conf = rd_kafka_conf_new();
        assert_int_equal(rd_kafka_conf_set(conf, "bootstrap.servers", bootstrap, errstr,
                                           sizeof errstr),
                         RD_KAFKA_CONF_OK);
        assert_int_equal(
            rd_kafka_conf_set(conf, "group.id", "test_emit", errstr, sizeof errstr),
            RD_KAFKA_CONF_OK);
        rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, errstr, sizeof errstr);
        assert_non_null(rk);
        rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(1);
        rd_kafka_topic_partition_list_add(l, topic, 0)->offset =
            RD_KAFKA_OFFSET_BEGINNING;
        assert_int_equal(rd_kafka_assign(rk, l), 0);
        rd_kafka_topic_partition_list_destroy(l);
        size_t n = 0;
        for (int idle = 0; idle < 10 && n < cap;) {
                rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, 100);
                if (!m) {
                        idle++;
                        continue;
                }
                if (!m->err) {
                        got_t *g = &out[n++];
                        memset(g, 0, sizeof *g);
                        g->len = m->len;
                        g->val = malloc(m->len ? m->len : 1);
                        assert_non_null(g->val);
                        if (m->len)
                                memcpy(g->val, m->payload, m->len);
                        g->truncated = hdr(m, "te.truncated.original_len", g->orig_len,
                                           sizeof g->orig_len);
                        hdr(m, "te.truncated.sha256", g->sha, sizeof g->sha);
                        hdr(m, "te.source.offset", g->offset, sizeof g->offset);
                        hdr(m, "te.reason", g->reason, sizeof g->reason);
                        hdr(m, "te.source.topic", g->src_topic, sizeof g->src_topic);
                        hdr(m, "te.source.partition", g->partition, sizeof g->partition);
                        hdr(m, "te.portfolio_id", g->pid, sizeof g->pid);
                        hdr(m, "te.decision_id", g->did, sizeof g->did);
                        hdr(m, "te.source.key", g->src_key, sizeof g->src_key);
                        if (m->key && m->key_len < sizeof g->key)
                                memcpy(g->key, m->key, m->key_len);
                        idle = 0;
                }
                rd_kafka_message_destroy(m);
        }
        rd_kafka_assign(rk, NULL);
        rd_kafka_destroy_flags(rk, RD_KAFKA_DESTROY_F_NO_CONSUMER_CLOSE);
        return n;
}

static void got_free(got_t *g, size_t n)
{
        for (size_t i = 0; i < n; i++)
                free(g[i].val);
}

/* A consumed-looking message of topic "src" partition 3 offset 42 (the name comes from
 * a topic handle of `rk`). */
static rd_kafka_message_t fake_src(rd_kafka_t *rk, rd_kafka_topic_t **rkt, void *key,
                                   size_t keylen, void *val, size_t vallen)
{
        rd_kafka_message_t m;
        memset(&m, 0, sizeof m);
        *rkt = rd_kafka_topic_new(rk, "src", NULL);
        m.rkt = *rkt;
        m.partition = 3;
        m.offset = 42;
        m.key = key;
        m.key_len = keylen;
        m.payload = val;
        m.len = vallen;
        return m;
}

static void test_emit_cut_and_skip(void **state)
{
        enum { MAX = 20000, BIG = 100000 };
        char errstr[512] = "";
        (void)state;
        static const char *const kv[] = {"kafka.message.max.bytes", "20000", NULL};
        te_cfg_t *cfg = cfg_with(kv);
        te_producer_t *p = te_producer_new(cfg, bootstrap, errstr, sizeof errstr);
        te_cfg_destroy(cfg);
        assert_non_null(p);
        assert_int_equal(te_producer_max_message(p), MAX);
        te_codec_t *codec = te_codec_new(errstr, sizeof errstr);
        assert_non_null(codec);
        unsigned char *val = malloc(BIG);
        char *bigkey = malloc(MAX);
        assert_non_null(val);
        assert_non_null(bigkey);
        for (size_t i = 0; i < BIG; i++)
                val[i] = (unsigned char)(i * 7 + 3);
        memset(bigkey, 'k', MAX);
        rd_kafka_topic_t *rkt;

        /* too large: cut, with the original length and hash */
        rd_kafka_message_t src =
            fake_src(te_producer_handle(p), &rkt, "pf-1", 4, val, BIG);
        assert_int_equal(te_emit_deadletter(p, codec, "dl", "alerts", "test", &src,
                                            "malformed: too big", errstr, sizeof errstr),
                         0);
        /* small: whole */
        src.len = 100;
        src.offset = 43;
        assert_int_equal(te_emit_deadletter(p, codec, "dl", "alerts", "test", &src,
                                            "malformed: small", errstr, sizeof errstr),
                         0);
        /* a key that alone exceeds the limit: skipped, with a CRITICAL alert */
        src.key = bigkey;
        src.key_len = MAX;
        src.offset = 44;
        assert_int_equal(te_emit_deadletter(p, codec, "dl", "alerts", "test", &src,
                                            "malformed: key", errstr, sizeof errstr),
                         1);
        /* just under the limit with its headers: whole, not cut */
        src.key = "pf-1";
        src.key_len = 4;
        src.len = MAX - 400;
        src.offset = 45;
        assert_int_equal(te_emit_deadletter(p, codec, "dl", "alerts", "test", &src,
                                            "malformed: near", errstr, sizeof errstr),
                         0);
        rd_kafka_topic_destroy(rkt);
        assert_int_equal(te_producer_flush(p, 10000, errstr, sizeof errstr), 0);
        assert_int_equal(te_producer_failed(p), 0);

        got_t got[8];
        size_t n = read_all("dl", got, 8);
        assert_int_equal(n, 3);
        char sha[TE_SHA256_HEX];
        te_sha256_hex(val, BIG, sha);
        assert_true(got[0].len > 0 && got[0].len < MAX);
        assert_memory_equal(got[0].val, val, got[0].len); /* the first bytes */
        assert_true(got[0].truncated);
        assert_string_equal(got[0].orig_len, "100000");
        assert_string_equal(got[0].sha, sha);
        assert_string_equal(got[0].offset, "42");
        assert_string_equal(got[0].reason, "malformed: too big");
        assert_int_equal(got[1].len, 100);
        assert_false(got[1].truncated);
        assert_string_equal(got[1].offset, "43");
        assert_int_equal(got[2].len, MAX - 400);
        assert_false(got[2].truncated);
        assert_memory_equal(got[2].val, val, MAX - 400);
        got_free(got, n);

        n = read_all("alerts", got, 8);
        assert_int_equal(n, 1);
        te_alert_t a;
        assert_int_equal(te_codec_decode_alert(codec, got[0].val, got[0].len, &a, errstr,
                                               sizeof errstr),
                         TE_CODEC_OK);
        assert_int_equal(a.severity, TE_SEV_CRITICAL);
        assert_string_equal(a.code, "deadletter_skipped");
        assert_non_null(strstr(a.message, "src[3]@44"));
        got_free(got, n);

        te_codec_destroy(codec);
        te_producer_destroy(p);
        free(val);
        free(bigkey);
}

/* A side-channel delivery that fails (no leader until the message times out): the
 * sequence passes it, the flush succeeds, nothing counts as failed, and the next
 * te_emit call raises it as an alert with its source. */
static void test_emit_side_failure_not_fatal(void **state)
{
        char errstr[512] = "";
        (void)state;
        static const char *const kv[] = {"kafka.message.timeout.ms", "5000", NULL};
        te_cfg_t *cfg = cfg_with(kv);
        te_producer_t *p = te_producer_new(cfg, bootstrap, errstr, sizeof errstr);
        te_cfg_destroy(cfg);
        assert_non_null(p);
        te_codec_t *codec = te_codec_new(errstr, sizeof errstr);
        assert_non_null(codec);
        /* the alerts topic's metadata first: the alert below must not time out too */
        assert_int_equal(te_producer_send(p, "alerts", "k", 1, "warm-up", 7, NULL, 0,
                                          errstr, sizeof errstr),
                         0);
        assert_int_equal(te_producer_flush(p, 10000, errstr, sizeof errstr), 0);
        assert_int_equal(rd_kafka_mock_partition_set_leader(mock, "dark", 0, -1), 0);
        rd_kafka_topic_t *rkt;
        char v[] = "junk";
        rd_kafka_message_t src = fake_src(te_producer_handle(p), &rkt, "pf-2", 4, v, 4);
        assert_int_equal(te_emit_deadletter(p, codec, "dark", "alerts", "test", &src,
                                            "malformed: x", errstr, sizeof errstr),
                         0);
        rd_kafka_topic_destroy(rkt);
        assert_int_equal(
            te_producer_send(p, "t", "k", 1, "v", 1, NULL, 0, errstr, sizeof errstr), 0);
        uint64_t sent = te_producer_sent_seq(p);
        assert_int_equal(te_producer_flush(p, 10000, errstr, sizeof errstr), 0);
        assert_int_equal(te_producer_delivered_seq(p), sent);
        assert_int_equal(te_producer_failed(p), 0);
        assert_int_equal(te_producer_side_failed(p), 1);
        assert_int_equal(te_emit_lost(p, codec, "alerts", "test"), 1);
        assert_int_equal(te_emit_lost(p, codec, "alerts", "test"), 0);
        assert_int_equal(te_producer_flush(p, 10000, errstr, sizeof errstr), 0);
        got_t got[8];
        size_t n = read_all("alerts", got, 8);
        assert_true(n >= 1);
        te_alert_t a;
        assert_int_equal(te_codec_decode_alert(codec, got[n - 1].val, got[n - 1].len, &a,
                                               errstr, sizeof errstr),
                         TE_CODEC_OK);
        assert_string_equal(a.code, "deadletter_lost");
        assert_int_equal(a.severity, TE_SEV_CRITICAL);
        assert_non_null(strstr(a.message, "src[3]@42"));
        got_free(got, n);
        te_codec_destroy(codec);
        te_producer_destroy(p);
}

static te_alert_t decode_alert(te_codec_t *codec, const got_t *g)
{
        char errstr[256];
        te_alert_t a;
        assert_int_equal(
            te_codec_decode_alert(codec, g->val, g->len, &a, errstr, sizeof errstr),
            TE_CODEC_OK);
        return a;
}

/* Two rejects: one of bytes that did not decode (the dead letter under the original
 * key), one of a message that decoded (keyed by its ids). Each gives exactly one dead
 * letter, whole, with its te.* headers, and one WARNING Alert naming it. */
static void test_reject_dead_letter_and_alert(void **state)
{
        char errstr[512] = "";
        (void)state;
        te_cfg_t *cfg = cfg_with(NULL);
        te_producer_t *p = te_producer_new(cfg, bootstrap, errstr, sizeof errstr);
        te_cfg_destroy(cfg);
        assert_non_null(p);
        te_codec_t *codec = te_codec_new(errstr, sizeof errstr);
        assert_non_null(codec);
        const te_emitter_t em = {.producer = p,
                                 .codec = codec,
                                 .topics = {"rj.dl", "rj.alerts"},
                                 .proc = "test"};
        rd_kafka_topic_t *rkt;
        unsigned char v[] = {0x00, 0x00, 0x00, 0x00, 0x07, 0xff};
        rd_kafka_message_t src = fake_src(te_producer_handle(p), &rkt, "pf-1", 4, v, 6);
        assert_int_equal(te_emit_reject(&em, &src, "truncated", "3 bytes short",
                                        &(te_reject_ctx_t){.what = "order",
                                                           .alert_code = "bad_order"}),
                         0);
        src.offset = 43;
        assert_int_equal(te_emit_reject(&em, &src, "unknown_ticker", "ZZZZ",
                                        &(te_reject_ctx_t){.what = "target",
                                                           .keyed = 1,
                                                           .portfolio_id = "pf-1",
                                                           .decision_id = "d-7"}),
                         0);
        rd_kafka_topic_destroy(rkt);
        assert_int_equal(te_producer_flush(p, 10000, errstr, sizeof errstr), 0);
        assert_int_equal(te_producer_failed(p), 0);

        got_t got[8];
        size_t n = read_all("rj.dl", got, 8);
        assert_int_equal(n, 2);
        for (size_t i = 0; i < n; i++) {
                assert_int_equal(got[i].len, sizeof v); /* the original bytes, whole */
                assert_memory_equal(got[i].val, v, sizeof v);
                assert_false(got[i].truncated);
                assert_string_equal(got[i].src_topic, "src");
                assert_string_equal(got[i].partition, "3");
        }
        assert_string_equal(got[0].key, "pf-1"); /* its own key */
        assert_string_equal(got[0].offset, "42");
        assert_string_equal(got[0].reason, "truncated: 3 bytes short");
        assert_string_equal(got[0].pid, "");
        assert_string_equal(got[1].key, "pf-1/d-7"); /* keyed by its ids */
        assert_string_equal(got[1].offset, "43");
        assert_string_equal(got[1].reason, "unknown_ticker: ZZZZ");
        assert_string_equal(got[1].pid, "pf-1");
        assert_string_equal(got[1].did, "d-7");
        assert_string_equal(got[1].src_key, "pf-1");
        got_free(got, n);

        n = read_all("rj.alerts", got, 8);
        assert_int_equal(n, 2);
        te_alert_t a = decode_alert(codec, &got[0]);
        assert_int_equal(a.severity, TE_SEV_WARNING);
        assert_string_equal(a.source, "test");
        assert_string_equal(a.code, "bad_order");
        assert_string_equal(a.message,
                            "order dead-lettered (src[3]@42): truncated: 3 bytes short");
        assert_string_equal(a.portfolio_id, "");
        a = decode_alert(codec, &got[1]);
        assert_int_equal(a.severity, TE_SEV_WARNING);
        assert_string_equal(a.code, "unknown_ticker"); /* the reject's code */
        assert_string_equal(a.message,
                            "target dead-lettered (src[3]@43): unknown_ticker: ZZZZ");
        assert_string_equal(a.portfolio_id, "pf-1");
        assert_string_equal(a.decision_id, "d-7");
        got_free(got, n);
        te_codec_destroy(codec);
        te_producer_destroy(p);
}

/* Dead letters that fail do not stop the caller: one skipped at once (a key larger
 * than message.max.bytes) returns 1 with a CRITICAL alert and no WARNING one; one
 * whose delivery fails later (the topic has no leader) returns 0, and the producer's
 * own messages after it are delivered and flushed; the loss is raised by te_emit_lost. */
static void test_reject_failing_dead_letter(void **state)
{
        enum { MAX = 20000 };
        char errstr[512] = "";
        (void)state;
        static const char *const kv[] = {"kafka.message.timeout.ms", "5000",
                                         "kafka.message.max.bytes", "20000", NULL};
        te_cfg_t *cfg = cfg_with(kv);
        te_producer_t *p = te_producer_new(cfg, bootstrap, errstr, sizeof errstr);
        te_cfg_destroy(cfg);
        assert_non_null(p);
        te_codec_t *codec = te_codec_new(errstr, sizeof errstr);
        assert_non_null(codec);
        /* the alerts topic's metadata first: the alerts below must not time out too */
        assert_int_equal(te_producer_send(p, "rj.alerts2", "k", 1, "warm-up", 7, NULL, 0,
                                          errstr, sizeof errstr),
                         0);
        assert_int_equal(te_producer_flush(p, 10000, errstr, sizeof errstr), 0);
        assert_int_equal(rd_kafka_mock_partition_set_leader(mock, "rj.dark", 0, -1), 0);
        char *bigkey = malloc(MAX);
        assert_non_null(bigkey);
        memset(bigkey, 'k', MAX);
        rd_kafka_topic_t *rkt;
        char v[] = "junk";
        rd_kafka_message_t src = fake_src(te_producer_handle(p), &rkt, bigkey, MAX, v, 4);
        te_emitter_t em = {.producer = p,
                           .codec = codec,
                           .topics = {"rj.dl", "rj.alerts2"},
                           .proc = "test"};
        assert_int_equal(te_emit_reject(&em, &src, "malformed", "x", NULL), 1);
        src.key = "pf-2";
        src.key_len = 4;
        src.offset = 43;
        em.topics.deadletter = "rj.dark";
        assert_int_equal(te_emit_reject(&em, &src, "malformed", "y", NULL), 0);
        rd_kafka_topic_destroy(rkt);
        /* the caller goes on: its next message is sent and the flush succeeds */
        assert_int_equal(
            te_producer_send(p, "rj.t", "k", 1, "v", 1, NULL, 0, errstr, sizeof errstr),
            0);
        uint64_t sent = te_producer_sent_seq(p);
        assert_int_equal(te_producer_flush(p, 10000, errstr, sizeof errstr), 0);
        assert_int_equal(te_producer_delivered_seq(p), sent);
        assert_int_equal(te_producer_failed(p), 0);
        assert_int_equal(te_producer_side_failed(p), 1);
        assert_int_equal(te_emit_lost(p, codec, "rj.alerts2", "test"), 1);
        assert_int_equal(te_producer_flush(p, 10000, errstr, sizeof errstr), 0);

        got_t got[8];
        size_t n = read_all("rj.alerts2", got, 8);
        /* the warm-up, then: skipped (CRITICAL), y dead-lettered (WARNING), y lost */
        assert_int_equal(n, 4);
        te_alert_t a = decode_alert(codec, &got[1]);
        assert_int_equal(a.severity, TE_SEV_CRITICAL);
        assert_string_equal(a.code, "deadletter_skipped");
        assert_non_null(strstr(a.message, "src[3]@42"));
        a = decode_alert(codec, &got[2]);
        assert_int_equal(a.severity, TE_SEV_WARNING);
        assert_string_equal(a.code, "malformed");
        assert_string_equal(a.message, "message dead-lettered (src[3]@43): malformed: y");
        a = decode_alert(codec, &got[3]);
        assert_int_equal(a.severity, TE_SEV_CRITICAL);
        assert_string_equal(a.code, "deadletter_lost");
        assert_non_null(strstr(a.message, "src[3]@43"));
        got_free(got, n);
        te_codec_destroy(codec);
        te_producer_destroy(p);
        free(bigkey);
}

int main(void)
{
        const struct CMUnitTest plain[] = {
            cmocka_unit_test(test_sha256_vectors),
        };
        const struct CMUnitTest on_mock[] = {
            cmocka_unit_test(test_emit_cut_and_skip),
            cmocka_unit_test(test_emit_side_failure_not_fatal),
            cmocka_unit_test(test_reject_dead_letter_and_alert),
            cmocka_unit_test(test_reject_failing_dead_letter),
        };
        int rc = cmocka_run_group_tests_name("plain", plain, NULL, NULL);
        rc |= cmocka_run_group_tests_name("mock", on_mock, mock_setup, mock_teardown);
        return rc;
}
