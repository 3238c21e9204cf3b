/*
 * mock_cluster.h: librdkafka's mock cluster inside a unit test's process, for the tests
 * that drive our Kafka code against a real protocol peer (test_kafka, test_emit,
 * test_broker_worker, test_sink_worker). Include it in one test file: it defines the
 * file's `mock`, `mock_rk` and `bootstrap` and the two functions below.
 */
#ifndef TE_TEST_MOCK_CLUSTER_H
#define TE_TEST_MOCK_CLUSTER_H

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include "te_buf.h"
#include "te_config.h"
#include "te_kafka.h"

static rd_kafka_t *mock_rk;           /* the handle the cluster lives in */
static rd_kafka_mock_cluster_t *mock; /* one broker */
static char bootstrap[256];           /* its bootstrap address, once started */

/* Start a one-broker cluster and create `n` topics of `partitions` each.
 * @returns 0, or -1 (the caller's teardown, mock_cluster_stop, cleans up). */
static int mock_cluster_start(const char *const *topics, size_t n, int partitions)
{
        char errstr[512];
        rd_kafka_conf_t *conf =
            te_kafka_conf_build(NULL, NULL, NULL, NULL, errstr, sizeof errstr);
        if (!conf)
                return -1;
        mock_rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof errstr);
        if (!mock_rk) {
                rd_kafka_conf_destroy(conf);
                return -1;
        }
        mock = rd_kafka_mock_cluster_new(mock_rk, 1);
        if (!mock)
                return -1;
        for (size_t i = 0; i < n; i++)
                if (rd_kafka_mock_topic_create(mock, topics[i], partitions, 1))
                        return -1;
        te_strlcpy(bootstrap, rd_kafka_mock_cluster_bootstraps(mock), sizeof bootstrap);
        return 0;
}

/* Stop the cluster and wait for librdkafka's handles to go. Accepts a partial start. */
static void mock_cluster_stop(void)
{
        if (mock)
                rd_kafka_mock_cluster_destroy(mock);
        if (mock_rk)
                rd_kafka_destroy(mock_rk);
        mock = NULL;
        mock_rk = NULL;
        rd_kafka_wait_destroyed(10000);
}

/* session.timeout.ms of every consumer group member a test puts on the mock cluster.
 * Not 3000 (KAFKA-MOCK.md's figure): librdkafka 2.0's mock answers the JoinGroup of a
 * group's first member 3000 ms after the join, and its session check (once a second)
 * drops a member whose last request is session.timeout.ms old, even one still waiting
 * for that answer, which is then never sent: the consumer waits max.poll.interval.ms
 * (5 min) for it and gets no partitions. At 3000 both fall due at the same instant, so
 * a mock thread a few milliseconds late (valgrind, a loaded machine) ran the session
 * check first; at 6000 it would have to be 3 s late. */
#define MOCK_SESSION_TIMEOUT_MS "6000"

/* A config with the kafka.* settings tests use against the mock cluster
 * (KAFKA-MOCK.md "Timing settings for tests", the session timeout above), or NULL with
 * errstr. */
static inline te_cfg_t *mock_kafka_cfg(char *errstr, size_t errsz)
{
        static int target; /* the settings live in the config's own table */
        static const char *const kv[] = {"kafka.session.timeout.ms",
                                         MOCK_SESSION_TIMEOUT_MS,
                                         "kafka.heartbeat.interval.ms",
                                         "500",
                                         "kafka.fetch.wait.max.ms",
                                         "10",
                                         NULL};
        te_cfg_t *cfg = te_cfg_new(NULL, 0, &target, errstr, errsz);
        for (size_t i = 0; cfg && kv[i]; i += 2)
                if (te_cfg_set(cfg, kv[i], kv[i + 1], "test", errstr, errsz) != 0) {
                        te_cfg_destroy(cfg);
                        cfg = NULL;
                }
        return cfg;
}

#endif
