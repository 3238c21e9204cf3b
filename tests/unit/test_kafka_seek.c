/*
 * Unit tests for te_kafka_seek: a seek waits for as long as it was asked to.
 *
 * A seek is served by librdkafka's main thread. The test holds that thread inside an
 * interceptor (on_commit, the result of an asynchronous offset commit) while it
 * seeks, as a busy machine can keep it from running, so the seek cannot finish before
 * the thread is let go: with a 10 s timeout the seek
 * must wait for it and succeed, with a 300 ms timeout it must fail after about 300 ms.
 * librdkafka 2.0 read the timeout as microseconds (10 s -> 10 ms): both fail there
 * without the wrapper. The hold ends on a signal from the test or after a bounded
 * wait; nothing sleeps to synchronise.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include "te_kafka_seek.h"
#include "te_proc.h"

#include "mock_cluster.h"

#define TOPIC "seek.t"

/* the gate librdkafka's main thread waits at while `armed` */
static struct {
        pthread_mutex_t mu;
        pthread_cond_t cv;
        int armed;   /* the next commit result waits until released */
        int blocked; /* the main thread is waiting */
        int release; /* let it go */
} gate = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, 0, 0};

static void abs_in(struct timespec *ts, int64_t ms)
{
        clock_gettime(CLOCK_REALTIME, ts);
        ts->tv_sec += (time_t)(ms / 1000);
        ts->tv_nsec += (long)(ms % 1000) * 1000000L;
        if (ts->tv_nsec >= 1000000000L) {
                ts->tv_sec++;
                ts->tv_nsec -= 1000000000L;
        }
}

/* the gate: called on librdkafka's main thread with an offset commit's result */
static rd_kafka_resp_err_t on_commit(rd_kafka_t *rk,
                                     const rd_kafka_topic_partition_list_t *offsets,
                                     rd_kafka_resp_err_t err, void *opaque)
{
        (void)rk, (void)offsets, (void)err, (void)opaque;
        pthread_mutex_lock(&gate.mu);
        if (gate.armed) {
                gate.armed = 0;
                gate.blocked = 1;
                pthread_cond_broadcast(&gate.cv);
                struct timespec until;
                abs_in(&until, 30000); /* bounded: a broken test cannot hang */
                while (!gate.release &&
                       pthread_cond_timedwait(&gate.cv, &gate.mu, &until) == 0)
                        ;
                gate.blocked = 0;
                pthread_cond_broadcast(&gate.cv);
        }
        pthread_mutex_unlock(&gate.mu);
        return RD_KAFKA_RESP_ERR_NO_ERROR;
}

static rd_kafka_resp_err_t on_new(rd_kafka_t *rk, const rd_kafka_conf_t *conf,
                                  void *opaque, char *errstr, size_t errsz)
{
        (void)conf, (void)opaque, (void)errstr, (void)errsz;
        return rd_kafka_interceptor_add_on_commit(rk, "seek-gate", on_commit, NULL);
}

/* Hold librdkafka's main thread, which serves seeks: commit `rk`'s position
 * asynchronously and hold the thread where it hands over the result.
 * @returns once it is held (or fails the test). */
static void hold_main_thread(rd_kafka_t *rk)
{
        rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(1);
        rd_kafka_topic_partition_list_add(l, TOPIC, 0)->offset = 3;
        pthread_mutex_lock(&gate.mu);
        gate.release = 0;
        gate.armed = 1;
        pthread_mutex_unlock(&gate.mu);
        assert_int_equal(rd_kafka_commit(rk, l, 1), 0);
        rd_kafka_topic_partition_list_destroy(l);
        pthread_mutex_lock(&gate.mu);
        struct timespec until;
        abs_in(&until, 30000);
        int rc = 0;
        while (!gate.blocked && rc == 0)
                rc = pthread_cond_timedwait(&gate.cv, &gate.mu, &until);
        int held = gate.blocked;
        pthread_mutex_unlock(&gate.mu);
        assert_true(held);
}

static void let_go(void)
{
        pthread_mutex_lock(&gate.mu);
        gate.armed = 0;
        gate.release = 1;
        pthread_cond_broadcast(&gate.cv);
        while (gate.blocked)
                pthread_cond_wait(&gate.cv, &gate.mu);
        pthread_mutex_unlock(&gate.mu);
}

/* Lets the held thread go `ms` after the seek has started (the delay is the length of
 * the held period, not a synchronisation: the seek waits on its own reply). */
static int64_t release_after_ms;
static void *releaser(void *arg)
{
        (void)arg;
        struct timespec ts = {.tv_sec = (time_t)(release_after_ms / 1000),
                              .tv_nsec = (long)(release_after_ms % 1000) * 1000000L};
        nanosleep(&ts, NULL);
        let_go();
        return NULL;
}

static rd_kafka_t *consumer_new(void)
{
        char errstr[512];
        rd_kafka_conf_t *conf = rd_kafka_conf_new();
        static const char *const kv[] = {"bootstrap.servers",
                                         bootstrap,
                                         "group.id",
                                         "seek-test",
                                         "enable.auto.commit",
                                         "false",
                                         "fetch.wait.max.ms",
                                         "10",
                                         "enable.partition.eof",
                                         "false",
                                         NULL};
        for (size_t i = 0; kv[i]; i += 2)
                assert_int_equal(
                    rd_kafka_conf_set(conf, kv[i], kv[i + 1], errstr, sizeof errstr),
                    RD_KAFKA_CONF_OK);
        assert_int_equal(
            rd_kafka_conf_interceptor_add_on_new(conf, "seek-gate", on_new, NULL), 0);
        rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, errstr, sizeof errstr);
        assert_non_null(rk);
        rd_kafka_poll_set_consumer(rk);
        return rk;
}

/* Poll until a message of offset `want` comes (deadline 30 s). */
static void consume_offset(rd_kafka_t *rk, int64_t want)
{
        int64_t deadline = te_proc_mono_ms() + 30000;
        while (te_proc_mono_ms() < deadline) {
                rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, 100);
                if (!m)
                        continue;
                int64_t off = m->err ? -1 : m->offset;
                rd_kafka_message_destroy(m);
                if (off == want)
                        return;
        }
        fail_msg("offset %lld not consumed within 30 s", (long long)want);
}

static int setup(void **state)
{
        (void)state;
        static const char *const topics[] = {TOPIC};
        if (mock_cluster_start(topics, 1, 1) != 0)
                return -1;
        char errstr[512];
        rd_kafka_conf_t *conf = rd_kafka_conf_new();
        if (rd_kafka_conf_set(conf, "bootstrap.servers", bootstrap, errstr,
                              sizeof errstr) != RD_KAFKA_CONF_OK)
                return -1;
        rd_kafka_t *p = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof errstr);
        if (!p)
                return -1;
        for (int i = 0; i < 3; i++)
                rd_kafka_producev(p, RD_KAFKA_V_TOPIC(TOPIC), RD_KAFKA_V_PARTITION(0),
                                  RD_KAFKA_V_VALUE("m", 1), RD_KAFKA_V_END);
        int left = rd_kafka_flush(p, 30000) == 0 ? 0 : 1;
        rd_kafka_destroy(p);
        return left ? -1 : 0;
}

static int teardown(void **state)
{
        (void)state;
        mock_cluster_stop();
        return 0;
}

static void test_seek_timeout_arg(void **state)
{
        (void)state;
        /* 2.0.x reads microseconds, 2.1.0 on milliseconds */
        assert_int_equal(te_kafka_seek_timeout_arg(0x020002ff, 10000), 10000000);
        assert_int_equal(te_kafka_seek_timeout_arg(0x020100ff, 10000), 10000);
        assert_int_equal(te_kafka_seek_timeout_arg(0x020300ff, 5000), 5000);
        /* -1 (wait until done) and 0 (do not wait) mean the same in every version */
        assert_int_equal(te_kafka_seek_timeout_arg(0x020002ff, -1), -1);
        assert_int_equal(te_kafka_seek_timeout_arg(0x020002ff, 0), 0);
        /* no overflow */
        assert_int_equal(te_kafka_seek_timeout_arg(0x020002ff, 3000000), 2147483647);
}

static void test_seek_waits_for_a_busy_main_thread(void **state)
{
        (void)state;
        rd_kafka_t *rk = consumer_new();
        rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(1);
        rd_kafka_topic_partition_list_add(l, TOPIC, 0)->offset =
            RD_KAFKA_OFFSET_BEGINNING;
        assert_int_equal(rd_kafka_assign(rk, l), 0);
        consume_offset(rk, 2); /* fetching: the partition is served by its broker */

        /* held for 300 ms against a 10 s timeout: the seek waits and succeeds */
        hold_main_thread(rk);
        release_after_ms = 300;
        pthread_t t;
        assert_int_equal(pthread_create(&t, NULL, releaser, NULL), 0);
        int64_t t0 = te_proc_mono_ms();
        l->elems[0].offset = 1;
        rd_kafka_error_t *e = te_kafka_seek_partitions(rk, l, 10000);
        int64_t waited = te_proc_mono_ms() - t0;
        pthread_join(t, NULL);
        if (e) {
                fail_msg("seek failed after %lld ms: %s", (long long)waited,
                         rd_kafka_error_string(e));
        }
        assert_int_equal(l->elems[0].err, RD_KAFKA_RESP_ERR_NO_ERROR);
        assert_true(waited >= 250);
        consume_offset(rk, 1); /* it took effect: offset 1 again */

        /* held for longer than a 300 ms timeout: a timeout, after about 300 ms */
        hold_main_thread(rk);
        t0 = te_proc_mono_ms();
        l->elems[0].offset = 0;
        e = te_kafka_seek_partitions(rk, l, 300);
        waited = te_proc_mono_ms() - t0;
        let_go();
        assert_non_null(e);
        assert_int_equal(rd_kafka_error_code(e), RD_KAFKA_RESP_ERR__TIMED_OUT);
        rd_kafka_error_destroy(e);
        assert_true(waited >= 250);
        consume_offset(rk, 0); /* the seek still happened */

        rd_kafka_topic_partition_list_destroy(l);
        rd_kafka_consumer_close(rk);
        rd_kafka_destroy(rk);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_seek_timeout_arg),
            cmocka_unit_test(test_seek_waits_for_a_busy_main_thread),
        };
        return cmocka_run_group_tests(tests, setup, teardown);
}
