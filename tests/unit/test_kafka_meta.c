/*
 * Unit tests for te_kafka_meta: partition counts, a group's committed offsets,
 * watermarks and reading partitions to their end, against librdkafka's in-process
 * mock cluster, each with its failure (unknown topic or partition, a cluster that does
 * not answer, a deadline, a stop).
 *
 * The topic "m" gets a known pattern once, before the tests: partition p holds
 * (p + 1) * 5 messages for p < 3, and partition 3 none.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>
#include <librdkafka/rdkafka.h>

#include "te_config.h"
#include "te_kafka.h"
#include "te_kafka_meta.h"
#include "te_log.h"
#include "te_proc.h"

#include "mock_cluster.h"

#define N_PARTS        4
#define WAIT_MS        30000
#define DEAD_MS        300           /* timeout against a cluster that is not there */
#define DEAD_BOOTSTRAP "127.0.0.1:1" /* nothing listens on port 1 */

static const int64_t pattern[N_PARTS] = {5, 10, 15, 0};
static int config_target;

static te_cfg_t *empty_cfg(void)
{
        char errstr[256] = "";
        te_cfg_t *cfg = te_cfg_new(NULL, 0, &config_target, errstr, sizeof errstr);
        assert_non_null(cfg);
        return cfg;
}

static rd_kafka_t *aux(const char *group, const char *at)
{
        char errstr[512] = "";
        te_cfg_t *cfg = empty_cfg();
        rd_kafka_t *rk = te_kafka_aux_consumer(cfg, at, group, errstr, sizeof errstr);
        te_cfg_destroy(cfg);
        if (!rk)
                fail_msg("te_kafka_aux_consumer: %s", errstr);
        return rk;
}

static void aux_destroy(rd_kafka_t *rk)
{
        rd_kafka_consumer_close(rk);
        rd_kafka_destroy(rk);
}

static int setup(void **state)
{
        static const char *const topics[] = {"m"};
        char errstr[512] = "";
        (void)state;
        te_log_init("test_kafka_meta", TE_LOG_WARN);
        if (mock_cluster_start(topics, 1, N_PARTS) != 0)
                return -1;
        te_cfg_t *cfg = empty_cfg();
        te_producer_t *p = te_producer_new(cfg, bootstrap, errstr, sizeof errstr);
        te_cfg_destroy(cfg);
        if (!p)
                return -1;
        int rc = 0;
        for (int32_t part = 0; part < N_PARTS; part++)
                for (int64_t i = 0; rc == 0 && i < pattern[part]; i++) {
                        char v[32];
                        snprintf(v, sizeof v, "%d/%d", (int)part, (int)i);
                        rc = te_producer_send_to(p, "m", part, "k", 1, v, strlen(v), NULL,
                                                 0, errstr, sizeof errstr);
                }
        if (rc == 0)
                rc = te_producer_flush(p, WAIT_MS, errstr, sizeof errstr);
        te_producer_destroy(p);
        return rc;
}

static int teardown(void **state)
{
        (void)state;
        mock_cluster_stop();
        return 0;
}

/* ---- partition count ------------------------------------------------------------ */

static void test_partition_count(void **state)
{
        char errstr[512] = "";
        int32_t n = -7;
        (void)state;
        rd_kafka_t *rk = aux("g-count", bootstrap);

        assert_int_equal(
            te_kafka_partition_count(rk, "m", 0, WAIT_MS, &n, errstr, sizeof errstr), 0);
        assert_int_equal(n, N_PARTS);
        n = -7;
        assert_int_equal(te_kafka_partition_count(rk, "m", TE_KAFKA_META_BY_NAME, WAIT_MS,
                                                  &n, errstr, sizeof errstr),
                         0);
        assert_int_equal(n, N_PARTS);

        /* a missing topic: an error, n untouched, and asking did not create it */
        n = -7;
        for (int i = 0; i < 2; i++) {
                errstr[0] = '\0';
                assert_int_equal(te_kafka_partition_count(rk, "nosuch", 0, WAIT_MS, &n,
                                                          errstr, sizeof errstr),
                                 -1);
                assert_string_equal(errstr, "topic nosuch does not exist");
                assert_int_equal(n, -7);
        }
        aux_destroy(rk);

        /* nobody answers: the request's timeout */
        rk = aux("g-count", DEAD_BOOTSTRAP);
        errstr[0] = '\0';
        assert_int_equal(
            te_kafka_partition_count(rk, "m", 0, DEAD_MS, &n, errstr, sizeof errstr), -1);
        assert_non_null(strstr(errstr, "metadata: "));
        assert_int_equal(n, -7);
        aux_destroy(rk);
}

/* A producer asking by name has the mock cluster create the topic (which is why the
 * default asks for every topic instead). */
static void test_partition_count_by_name_creates(void **state)
{
        char errstr[512] = "";
        int32_t n = -7;
        (void)state;
        te_cfg_t *cfg = empty_cfg();
        te_producer_t *p = te_producer_new(cfg, bootstrap, errstr, sizeof errstr);
        te_cfg_destroy(cfg);
        assert_non_null(p);
        rd_kafka_t *rk = te_producer_handle(p);
        assert_int_equal(
            te_kafka_partition_count(rk, "made", 0, WAIT_MS, &n, errstr, sizeof errstr),
            -1);
        assert_int_equal(te_kafka_partition_count(rk, "made", TE_KAFKA_META_BY_NAME,
                                                  WAIT_MS, &n, errstr, sizeof errstr),
                         0);
        assert_true(n >= 1);
        int32_t again = -7;
        assert_int_equal(te_kafka_partition_count(rk, "made", 0, WAIT_MS, &again, errstr,
                                                  sizeof errstr),
                         0);
        assert_int_equal(again, n);
        te_producer_destroy(p);
}

/* ---- committed offsets ---------------------------------------------------------- */

static void commit(rd_kafka_t *rk, int32_t p0, int64_t o0, int32_t p1, int64_t o1)
{
        rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(2);
        rd_kafka_topic_partition_list_add(l, "m", p0)->offset = o0;
        rd_kafka_topic_partition_list_add(l, "m", p1)->offset = o1;
        assert_int_equal(rd_kafka_commit(rk, l, 0), 0);
        rd_kafka_topic_partition_list_destroy(l);
}

static void test_committed(void **state)
{
        char errstr[512] = "";
        int64_t off[N_PARTS];
        (void)state;
        rd_kafka_t *rk = aux("g-committed", bootstrap);

        /* before any commit: none, every offset -1 */
        for (int i = 0; i < N_PARTS; i++)
                off[i] = 99;
        assert_int_equal(te_kafka_committed(rk, "m", NULL, N_PARTS, WAIT_MS, off, errstr,
                                            sizeof errstr),
                         0);
        for (int i = 0; i < N_PARTS; i++)
                assert_int_equal(off[i], -1);

        commit(rk, 0, 3, 2, 7);
        assert_int_equal(te_kafka_committed(rk, "m", NULL, N_PARTS, WAIT_MS, off, errstr,
                                            sizeof errstr),
                         2);
        assert_int_equal(off[0], 3);
        assert_int_equal(off[1], -1);
        assert_int_equal(off[2], 7);
        assert_int_equal(off[3], -1);

        /* chosen partitions, in the caller's order */
        const int32_t parts[] = {2, 1, 0};
        assert_int_equal(
            te_kafka_committed(rk, "m", parts, 3, WAIT_MS, off, errstr, sizeof errstr),
            2);
        assert_int_equal(off[0], 7);
        assert_int_equal(off[1], -1);
        assert_int_equal(off[2], 3);
        aux_destroy(rk);

        /* another group sees none of it */
        rk = aux("g-other", bootstrap);
        assert_int_equal(te_kafka_committed(rk, "m", NULL, N_PARTS, WAIT_MS, off, errstr,
                                            sizeof errstr),
                         0);
        aux_destroy(rk);

        /* nobody answers: an error naming the group and topic */
        rk = aux("g-dead", DEAD_BOOTSTRAP);
        errstr[0] = '\0';
        assert_int_equal(te_kafka_committed(rk, "m", NULL, N_PARTS, DEAD_MS, off, errstr,
                                            sizeof errstr),
                         -1);
        assert_non_null(strstr(errstr, "committed offsets of g-dead on m: "));
        aux_destroy(rk);
}

/* ---- watermarks ----------------------------------------------------------------- */

static void test_watermarks(void **state)
{
        char errstr[512] = "";
        int64_t lo[N_PARTS], hi[N_PARTS];
        (void)state;
        rd_kafka_t *rk = aux("g-wm", bootstrap);

        assert_int_equal(te_kafka_watermarks(rk, "m", NULL, N_PARTS, WAIT_MS, lo, hi,
                                             errstr, sizeof errstr),
                         0);
        for (int p = 0; p < N_PARTS; p++) {
                assert_int_equal(lo[p], 0);
                assert_int_equal(hi[p], pattern[p]);
        }
        /* chosen partitions, high only */
        const int32_t parts[] = {2, 0};
        assert_int_equal(te_kafka_watermarks(rk, "m", parts, 2, WAIT_MS, NULL, hi, errstr,
                                             sizeof errstr),
                         0);
        assert_int_equal(hi[0], pattern[2]);
        assert_int_equal(hi[1], pattern[0]);

        /* a partition the topic does not have */
        const int32_t bad[] = {1, 99};
        errstr[0] = '\0';
        assert_int_equal(
            te_kafka_watermarks(rk, "m", bad, 2, WAIT_MS, lo, hi, errstr, sizeof errstr),
            -1);
        assert_non_null(strstr(errstr, "watermarks m[99]: "));
        aux_destroy(rk);

        /* nobody answers */
        rk = aux("g-wm", DEAD_BOOTSTRAP);
        errstr[0] = '\0';
        assert_int_equal(te_kafka_watermarks(rk, "m", NULL, N_PARTS, DEAD_MS, lo, hi,
                                             errstr, sizeof errstr),
                         -1);
        assert_non_null(strstr(errstr, "watermarks m[0]: "));
        aux_destroy(rk);
}

/* ---- read to end ---------------------------------------------------------------- */

typedef struct seen_s {
        int64_t count[N_PARTS];
        int64_t next[N_PARTS]; /* the offset expected next */
        int out_of_order;
} seen_t;

static void on_message(void *opaque, rd_kafka_message_t *m)
{
        seen_t *s = opaque;
        if (m->partition < 0 || m->partition >= N_PARTS ||
            m->offset != s->next[m->partition]) {
                s->out_of_order++;
                return;
        }
        s->count[m->partition]++;
        s->next[m->partition] = m->offset + 1;
}

/* Read "m" from `start` (per partition) to the end with a new aux consumer. */
static int read_from(const int64_t *start, int timeout_ms, seen_t *s, char *errstr,
                     size_t errsz)
{
        rd_kafka_t *rk = aux("g-read", bootstrap);
        rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(N_PARTS);
        memset(s, 0, sizeof *s);
        for (int p = 0; p < N_PARTS; p++) {
                rd_kafka_topic_partition_list_add(l, "m", p)->offset = start[p];
                s->next[p] = start[p] < 0 ? 0 : start[p];
        }
        int rc = te_kafka_read_to_end(rk, l, timeout_ms, on_message, s, errstr, errsz);
        rd_kafka_topic_partition_list_destroy(l);
        aux_destroy(rk);
        return rc;
}

static void test_read_to_end(void **state)
{
        char errstr[512] = "";
        seen_t s;
        (void)state;

        /* everything, from the beginning: each partition's messages in order, partition
         * 3 (empty) not waited for */
        const int64_t all[N_PARTS] = {
            RD_KAFKA_OFFSET_BEGINNING, RD_KAFKA_OFFSET_BEGINNING,
            RD_KAFKA_OFFSET_BEGINNING, RD_KAFKA_OFFSET_BEGINNING};
        assert_int_equal(read_from(all, WAIT_MS, &s, errstr, sizeof errstr), 0);
        assert_int_equal(s.out_of_order, 0);
        for (int p = 0; p < N_PARTS; p++)
                assert_int_equal(s.count[p], pattern[p]);

        /* from offsets: partition 1 from 3, partition 2 already at its end */
        const int64_t mid[N_PARTS] = {RD_KAFKA_OFFSET_BEGINNING, 3, 15,
                                      RD_KAFKA_OFFSET_BEGINNING};
        assert_int_equal(read_from(mid, WAIT_MS, &s, errstr, sizeof errstr), 0);
        assert_int_equal(s.out_of_order, 0);
        assert_int_equal(s.count[0], 5);
        assert_int_equal(s.count[1], 7);
        assert_int_equal(s.count[2], 0);
        assert_int_equal(s.count[3], 0);
}

static void test_read_to_end_fails(void **state)
{
        char errstr[512] = "";
        seen_t s;
        (void)state;
        const int64_t all[N_PARTS] = {
            RD_KAFKA_OFFSET_BEGINNING, RD_KAFKA_OFFSET_BEGINNING,
            RD_KAFKA_OFFSET_BEGINNING, RD_KAFKA_OFFSET_BEGINNING};

        /* the deadline passed before the end (a negative timeout: already passed) */
        assert_int_equal(read_from(all, -1, &s, errstr, sizeof errstr), -1);
        assert_string_equal(errstr, "catching up: 3 partitions not read to the end");
        assert_int_equal(s.count[0] + s.count[1] + s.count[2], 0);

        /* a stop request */
        te_proc_stop = 1;
        errstr[0] = '\0';
        int rc = read_from(all, WAIT_MS, &s, errstr, sizeof errstr);
        te_proc_stop = 0;
        assert_int_equal(rc, -1);
        assert_string_equal(errstr, "catching up: 3 partitions not read to the end");

        /* a partition the topic does not have: its watermarks fail, nothing is read */
        rd_kafka_t *rk = aux("g-read", bootstrap);
        rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(2);
        rd_kafka_topic_partition_list_add(l, "m", 0)->offset = RD_KAFKA_OFFSET_BEGINNING;
        rd_kafka_topic_partition_list_add(l, "m", 99)->offset = RD_KAFKA_OFFSET_BEGINNING;
        memset(&s, 0, sizeof s);
        errstr[0] = '\0';
        assert_int_equal(
            te_kafka_read_to_end(rk, l, WAIT_MS, on_message, &s, errstr, sizeof errstr),
            -1);
        assert_non_null(strstr(errstr, "watermarks m[99]: "));
        assert_int_equal(s.count[0], 0);
        rd_kafka_topic_partition_list_destroy(l);
        aux_destroy(rk);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_partition_count),
            cmocka_unit_test(test_partition_count_by_name_creates),
            cmocka_unit_test(test_committed),
            cmocka_unit_test(test_watermarks),
            cmocka_unit_test(test_read_to_end),
            cmocka_unit_test(test_read_to_end_fails),
        };
        return cmocka_run_group_tests_name("kafka_meta", tests, setup, teardown);
}
