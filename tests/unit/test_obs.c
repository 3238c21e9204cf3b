/*
 * test_obs: the process metrics of te_obs: librdkafka statistics documents (brokers
 * up/known, consumer lag per assigned partition, assignment), the readiness checks,
 * dead-letter reason codes, and what a broker worker's report adds (final states,
 * order -> ACK / first fill observations, slippage in bps). Values are read back from
 * the exposition text of the process registry.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "te_obs_msg.h"
#include "te_proc.h"

static te_buf_t text; /* the last exposition rendered */

/* The exposition of the process registry (valid until the next call). */
static const char *render(void)
{
        te_buf_free(&text);
        te_buf_init(&text, 1 << 20);
        assert_int_equal(te_metrics_render(te_obs_registry(), &text), 0);
        const char *s = te_buf_cstr(&text);
        return s ? s : "";
}

static void free_render(void)
{
        te_buf_free(&text);
}

/* Does the exposition hold this exact sample line? */
static int has_line(const char *line)
{
        const char *all = render();
        size_t n = strlen(line);
        for (const char *p = all; (p = strstr(p, line)) != NULL; p++)
                if ((p == all || p[-1] == '\n') && p[n] == '\n')
                        return 1;
        return 0;
}

#define ASSERT_LINE(l)                                                                   \
        do {                                                                             \
                if (!has_line(l)) {                                                      \
                        print_error("missing line: %s\n%s", l, render());                \
                        fail();                                                          \
                }                                                                        \
        } while (0)
#define ASSERT_NO(prefix)                                                                \
        do {                                                                             \
                if (strstr(render(), prefix)) {                                          \
                        print_error("unexpected: %s\n", prefix);                         \
                        fail();                                                          \
                }                                                                        \
        } while (0)

/* A consumer statistics document shaped like librdkafka 2.0's (only the fields read). */
static const char consumer_stats[] =
    "{\"name\":\"rdkafka#consumer-7\",\"type\":\"consumer\","
    "\"brokers\":{"
    "\"127.0.0.1:1/bootstrap\":{\"nodeid\":-1,\"state\":\"UP\"},"
    "\"127.0.0.1:1/1\":{\"nodeid\":1,\"state\":\"UP\"},"
    "\"127.0.0.1:2/2\":{\"nodeid\":2,\"state\":\"DOWN\"}},"
    "\"topics\":{\"exec.orders\":{\"partitions\":{"
    "\"0\":{\"partition\":0,\"fetch_state\":\"active\",\"committed_offset\":10,"
    "\"hi_offset\":15,\"lo_offset\":0,\"consumer_lag\":5},"
    "\"1\":{\"partition\":1,\"fetch_state\":\"active\",\"committed_offset\":-1001,"
    "\"hi_offset\":7,\"lo_offset\":0,\"consumer_lag\":-1},"
    "\"2\":{\"partition\":2,\"fetch_state\":\"none\",\"committed_offset\":3,"
    "\"hi_offset\":9,\"lo_offset\":0,\"consumer_lag\":6},"
    "\"-1\":{\"partition\":-1,\"fetch_state\":\"none\",\"consumer_lag\":-1}}}},"
    "\"cgrp\":{\"state\":\"up\",\"assignment_size\":2,\"rebalance_cnt\":1}}";

static void test_obs_kafka_stats_consumer(void **state)
{
        (void)state;
        assert_int_equal(
            te_obs_kafka_stats("g-orders", consumer_stats, sizeof consumer_stats - 1), 0);
        /* bootstrap entries (nodeid -1) do not count; one of two real brokers is UP */
        ASSERT_LINE("te_kafka_brokers_up{client=\"rdkafka#consumer-7\"} 1");
        ASSERT_LINE("te_kafka_brokers{client=\"rdkafka#consumer-7\"} 2");
        ASSERT_LINE("te_kafka_assigned_partitions{group=\"g-orders\"} 2");
        /* partition 0: librdkafka's lag; 1: committed offset unknown and no handle to
         * ask, so no series; 2: not fetched (not assigned); -1: the topic entry */
        ASSERT_LINE(
            "te_kafka_consumer_lag_messages{group=\"g-orders\",topic=\"exec.orders\","
            "partition=\"0\"} 5");
        ASSERT_NO("partition=\"1\"");
        ASSERT_NO("partition=\"2\"");
        ASSERT_NO("partition=\"-1\"");

        /* the next document replaces the group's series */
        static const char next[] =
            "{\"name\":\"rdkafka#consumer-7\",\"type\":\"consumer\",\"brokers\":{},"
            "\"topics\":{\"exec.orders\":{\"partitions\":{"
            "\"3\":{\"partition\":3,\"fetch_state\":\"active\",\"consumer_lag\":0}}}},"
            "\"cgrp\":{\"assignment_size\":1,\"rebalance_cnt\":2}}";
        assert_int_equal(te_obs_kafka_stats("g-orders", next, sizeof next - 1), 0);
        ASSERT_NO("partition=\"0\"");
        ASSERT_LINE(
            "te_kafka_consumer_lag_messages{group=\"g-orders\",topic=\"exec.orders\","
            "partition=\"3\"} 0");
        ASSERT_LINE("te_kafka_brokers_up{client=\"rdkafka#consumer-7\"} 0");

        /* a consumer outside a group (manual assignment) never gets lag series */
        assert_int_equal(
            te_obs_kafka_stats("", consumer_stats, sizeof consumer_stats - 1), 0);
        ASSERT_NO("group=\"\"");
        free_render();
}

typedef struct bad_case_s {
        const char *json;
} bad_case_t;

static void test_obs_kafka_stats_bad_input(void **state)
{
        (void)state;
        static const bad_case_t cases[] = {
            {""},
            {"{"},
            {"[1,2]"},
            {"{\"type\":\"consumer\"}"}, /* no name */
            {"{\"name\":\"x\"}"},        /* no type */
            {"{\"name\":7,\"type\":\"producer\"}"},
        };
        for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
                if (te_obs_kafka_stats("g", cases[i].json, strlen(cases[i].json)) != -1) {
                        print_error("case %zu accepted: %s\n", i, cases[i].json);
                        fail();
                }
        /* wrong types inside are ignored, not trusted */
        static const char odd[] =
            "{\"name\":\"odd\",\"type\":\"consumer\",\"brokers\":[1],"
            "\"topics\":{\"t\":{\"partitions\":{\"0\":{\"partition\":\"0\","
            "\"consumer_lag\":\"5\"}}}},\"cgrp\":{\"assignment_size\":\"x\"}}";
        assert_int_equal(te_obs_kafka_stats("g-odd", odd, sizeof odd - 1), 0);
        ASSERT_LINE("te_kafka_brokers{client=\"odd\"} 0");
        ASSERT_LINE("te_kafka_assigned_partitions{group=\"g-odd\"} 0");
        ASSERT_NO("group=\"g-odd\",topic");
        free_render();
}

static void test_obs_readiness(void **state)
{
        (void)state;
        te_buf_t why;
        te_buf_init(&why, 4096);
        te_obs_ready("kafka", 0);
        te_obs_ready("db", 1);
        assert_int_equal(te_obs_is_ready(NULL, &why), 0);
        assert_non_null(strstr(te_buf_cstr(&why), "kafka: not ok"));
        /* a producer with a broker UP and a group member with partitions: kafka ok */
        static const char prod[] =
            "{\"name\":\"p-ready\",\"type\":\"producer\","
            "\"brokers\":{\"b/1\":{\"nodeid\":1,\"state\":\"UP\"}}}";
        static const char cons[] =
            "{\"name\":\"c-ready\",\"type\":\"consumer\","
            "\"brokers\":{\"b/1\":{\"nodeid\":1,\"state\":\"UP\"}},"
            "\"cgrp\":{\"assignment_size\":4}}";
        /* the handle consumer-7 of the test above has no broker UP any more: make it
         * recover too */
        static const char c7[] = "{\"name\":\"rdkafka#consumer-7\",\"type\":\"consumer\","
                                 "\"brokers\":{\"b/1\":{\"nodeid\":1,\"state\":\"UP\"}},"
                                 "\"cgrp\":{\"assignment_size\":1}}";
        static const char odd[] =
            "{\"name\":\"odd\",\"type\":\"consumer\","
            "\"brokers\":{\"b/1\":{\"nodeid\":1,\"state\":\"UP\"}}}";
        assert_int_equal(te_obs_kafka_stats("", prod, sizeof prod - 1), 0);
        assert_int_equal(te_obs_kafka_stats("g-ready", cons, sizeof cons - 1), 0);
        assert_int_equal(te_obs_kafka_stats("g-orders", c7, sizeof c7 - 1), 0);
        assert_int_equal(te_obs_kafka_stats("g-odd", odd, sizeof odd - 1), 0);
        te_buf_reset(&why);
        assert_int_equal(te_obs_is_ready(NULL, &why), 1);
        ASSERT_LINE("te_ready{check=\"kafka\"} 1");
        /* every broker of one handle down: not ready */
        static const char down[] =
            "{\"name\":\"p-ready\",\"type\":\"producer\","
            "\"brokers\":{\"b/1\":{\"nodeid\":1,\"state\":\"DOWN\"}}}";
        assert_int_equal(te_obs_kafka_stats("", down, sizeof down - 1), 0);
        assert_int_equal(te_obs_is_ready(NULL, &why), 0);
        ASSERT_LINE("te_ready{check=\"kafka\"} 0");
        assert_int_equal(te_obs_kafka_stats("", prod, sizeof prod - 1), 0);
        /* another check failing */
        te_obs_ready("db", 0);
        te_buf_reset(&why);
        assert_int_equal(te_obs_is_ready(NULL, &why), 0);
        assert_string_equal(te_buf_cstr(&why), "db: not ok\n");
        te_obs_ready("db", 1);
        assert_int_equal(te_obs_is_ready(NULL, &why), 1);
        te_buf_free(&why);
        free_render();
}

typedef struct dl_case_s {
        const char *label;
        const char *count;
} dl_case_t;

static void test_obs_deadletter_codes(void **state)
{
        (void)state;
        static const char *const reasons[] = {
            "TE_CODEC_TRUNCATED: 12 bytes left, 40 needed",
            "invalid_target: NaN price",
            "bare",
            "",
            ": starts with a colon",
            "invalid_target: negative quantity",
        };
        static const dl_case_t want[] = {
            {"TE_CODEC_TRUNCATED", "1"},
            {"invalid_target", "2"},
            {"bare", "1"},
            {"unknown", "2"},
        };
        char line[256];
        for (size_t i = 0; i < sizeof reasons / sizeof reasons[0]; i++)
                te_obs_deadletter(reasons[i]);
        for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
                snprintf(line, sizeof line, "te_deadletters_total{reason=\"%s\"} %s",
                         want[i].label, want[i].count);
                ASSERT_LINE(line);
        }
        /* a long code is cut at 63 bytes */
        char longr[200];
        memset(longr, 'A', 150);
        memcpy(longr + 150, ": x", 4);
        te_obs_deadletter(longr);
        char code[128];
        memset(code, 'A', 63);
        code[63] = '\0';
        snprintf(line, sizeof line, "te_deadletters_total{reason=\"%s\"} 1", code);
        ASSERT_LINE(line);
        free_render();
}

static void test_obs_report_sent(void **state)
{
        (void)state;
        te_order_cmd_t cmd;
        te_exec_report_t r;
        memset(&cmd, 0, sizeof cmd);
        memset(&r, 0, sizeof r);
        cmd.command = TE_CMD_NEW;
        te_strlcpy(cmd.order_id, "o-1", sizeof cmd.order_id);
        cmd.side = TE_SIDE_BUY;
        cmd.has_ref_price = 1;
        cmd.ref_price = 100;
        te_strlcpy(r.order_id, "o-1", sizeof r.order_id);
        int64_t ts = te_proc_wall_ms() - 5; /* produced 5 ms ago */

        r.exec_type = TE_EXEC_ACK;
        r.order_status = TE_OS_NEW;
        te_obs_report_sent(&r, &cmd, ts);
        /* a partial fill at 100.5 (buy: 50 bps worse), then the rest at 99.9
         * (10 bps better), which ends the order FILLED */
        r.exec_type = TE_EXEC_PARTIAL_FILL;
        r.order_status = TE_OS_PARTIALLY_FILLED;
        r.last_qty = 40;
        r.cum_qty = 40;
        r.last_price = 100.5;
        te_obs_report_sent(&r, &cmd, ts);
        r.exec_type = TE_EXEC_FILL;
        r.order_status = TE_OS_FILLED;
        r.last_qty = 60;
        r.cum_qty = 100;
        r.last_price = 99.9;
        te_obs_report_sent(&r, &cmd, ts);
        /* a sell filled at 99: 100 bps worse; a report without its command (async
         * event) counts only its final state; a CLOCK_ACK counts nothing */
        cmd.side = TE_SIDE_SELL;
        te_strlcpy(cmd.order_id, "o-2", sizeof cmd.order_id);
        te_strlcpy(r.order_id, "o-2", sizeof r.order_id);
        r.last_qty = r.cum_qty = 10;
        r.last_price = 99;
        te_obs_report_sent(&r, &cmd, ts);
        r.exec_type = TE_EXEC_REJECTED;
        r.order_status = TE_OS_REJECTED;
        te_obs_report_sent(&r, NULL, 0);
        r.exec_type = TE_EXEC_CLOCK_ACK;
        r.order_status = TE_OS_FILLED;
        te_obs_report_sent(&r, &cmd, ts);

        ASSERT_LINE("te_order_to_ack_seconds_count 1");
        ASSERT_LINE("te_order_to_first_fill_seconds_count 2");
        ASSERT_LINE("te_orders_final_total{state=\"FILLED\"} 2");
        ASSERT_LINE("te_orders_final_total{state=\"REJECTED\"} 1");
        ASSERT_LINE("te_fill_slippage_bps_count 3");
        /* 50 + (-10) + 100, each with its floating-point error: check the buckets */
        ASSERT_LINE("te_fill_slippage_bps_bucket{le=\"-20\"} 0");
        ASSERT_LINE("te_fill_slippage_bps_bucket{le=\"-5\"} 1");
        ASSERT_LINE("te_fill_slippage_bps_bucket{le=\"20\"} 1");
        ASSERT_LINE("te_fill_slippage_bps_bucket{le=\"50\"} 2");
        ASSERT_LINE("te_fill_slippage_bps_bucket{le=\"100\"} 3");
        /* the ACK latency is about 5 ms: in the 0.005 .. 0.025 s buckets, not below */
        ASSERT_LINE("te_order_to_ack_seconds_bucket{le=\"0.0025\"} 0");
        ASSERT_LINE("te_order_to_ack_seconds_bucket{le=\"1\"} 1");
        /* unknown timestamps are not observed */
        assert_true(te_obs_since_ms(0) < 0);
        te_obs_latency(TE_OBS_ORDER_TO_ACK, te_obs_since_ms(-1));
        ASSERT_LINE("te_order_to_ack_seconds_count 1");
        free_render();
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_obs_kafka_stats_consumer),
            cmocka_unit_test(test_obs_kafka_stats_bad_input),
            cmocka_unit_test(test_obs_readiness),
            cmocka_unit_test(test_obs_deadletter_codes),
            cmocka_unit_test(test_obs_report_sent),
        };
        int rc = cmocka_run_group_tests(tests, NULL, NULL);
        te_metrics_destroy(NULL);
        return rc;
}
