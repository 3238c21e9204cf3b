/*
 * bench_latency: the publisher side of the latency.e2e benchmark (ops/bench).
 *
 *   bench_latency -b BOOTSTRAP -o OUT [-r RATE] [-s SECONDS] [-p PORTFOLIOS]
 *                 [-m TRAINING|PRODUCTION] [-x ID_PREFIX] [-v BASE] [--hop TOPIC]
 *
 * Publishes RATE targets per second for SECONDS on exec.targets, paced against the
 * monotonic clock (a late tick sends at once, it does not skip). Each target is one
 * QUANTITY target of one ticker that differs from the portfolio's current position, so
 * it yields exactly one order (value BASE + n, default 100 + n; use another BASE for a
 * second run on the same stack); its decision_id is "<ID_PREFIX>-<n>" (default "lat")
 * and its as_of is the wall
 * clock at publication (TRAINING: the simulator fills at the close of the latest bar
 * on or before it). OUT gets one line per target: "<decision_id> <wall_us>", the wall
 * clock (microseconds) just before the message was handed to librdkafka.
 *
 * --hop TOPIC: the baseline instead: publish the same pacing of small messages to
 * TOPIC and consume them back in this process (one Kafka hop on the same cluster with
 * the same client settings); OUT gets "hop <latency_us>" per message.
 *
 * Exit status 0, or 1 on an error (printed).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <librdkafka/rdkafka.h>

#include "te_buf.h"
#include "te_codec.h"
#include "te_kafka.h"
#include "te_proc.h"

#define MAX_SENT 2000000

static int64_t wall_us(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static void sleep_until_ns(int64_t t)
{
        int64_t now = te_proc_mono_ns();
        if (t <= now)
                return;
        struct timespec ts = {(t - now) / 1000000000, (t - now) % 1000000000};
        nanosleep(&ts, NULL);
}

static rd_kafka_conf_t *conf_with(const char *bootstrap, const char *const *pairs,
                                  char *errstr, size_t errsz)
{
        rd_kafka_conf_t *c = rd_kafka_conf_new();
        if (rd_kafka_conf_set(c, "bootstrap.servers", bootstrap, errstr, errsz))
                goto err;
        for (size_t i = 0; pairs[i]; i += 2)
                if (rd_kafka_conf_set(c, pairs[i], pairs[i + 1], errstr, errsz))
                        goto err;
        return c;
err:
        rd_kafka_conf_destroy(c);
        return NULL;
}

/* One hop: produce to `topic` and read it back, latency per message. */
static int run_hop(const char *bootstrap, const char *topic, long rate, long seconds,
                   FILE *out)
{
        char errstr[512];
        static const char *const pcfg[] = {"linger.ms", "0", NULL};
        static const char *const ccfg[] = {"group.id",
                                           "bench-hop",
                                           "fetch.wait.max.ms",
                                           "1",
                                           "auto.offset.reset",
                                           "latest",
                                           "enable.partition.eof",
                                           "false",
                                           NULL};
        rd_kafka_conf_t *pc = conf_with(bootstrap, pcfg, errstr, sizeof errstr);
        rd_kafka_conf_t *cc = conf_with(bootstrap, ccfg, errstr, sizeof errstr);
        rd_kafka_t *p =
            pc ? rd_kafka_new(RD_KAFKA_PRODUCER, pc, errstr, sizeof errstr) : NULL;
        rd_kafka_t *c =
            cc ? rd_kafka_new(RD_KAFKA_CONSUMER, cc, errstr, sizeof errstr) : NULL;
        int rc = 1;
        if (!p || !c) {
                fprintf(stderr, "bench_latency: %s\n", errstr);
                goto out;
        }
        rd_kafka_poll_set_consumer(c);
        rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(1);
        rd_kafka_topic_partition_list_add(l, topic, RD_KAFKA_PARTITION_UA);
        rd_kafka_subscribe(c, l);
        rd_kafka_topic_partition_list_destroy(l);
        /* wait for the assignment before timing anything */
        for (int i = 0; i < 200; i++) {
                rd_kafka_message_t *m = rd_kafka_consumer_poll(c, 50);
                if (m)
                        rd_kafka_message_destroy(m);
                rd_kafka_topic_partition_list_t *a = NULL;
                int n = rd_kafka_assignment(c, &a) == 0 && a ? a->cnt : 0;
                if (a)
                        rd_kafka_topic_partition_list_destroy(a);
                if (n > 0)
                        break;
        }
        /* a probe until one comes back: the consumer is positioned and fetching */
        for (int i = 0; i < 100; i++) {
                int64_t probe = 0;
                rd_kafka_producev(
                    p, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_VALUE(&probe, sizeof probe),
                    RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END);
                rd_kafka_flush(p, 1000);
                rd_kafka_message_t *m = rd_kafka_consumer_poll(c, 100);
                int back = m && !m->err;
                if (m)
                        rd_kafka_message_destroy(m);
                if (back)
                        break;
        }
        for (rd_kafka_message_t *m; (m = rd_kafka_consumer_poll(c, 50)) != NULL;)
                rd_kafka_message_destroy(m);
        long total = rate * seconds, got = 0;
        int64_t period = 1000000000 / rate, start = te_proc_mono_ns();
        for (long i = 0; i < total || got < total;) {
                if (i < total && te_proc_mono_ns() >= start + i * period) {
                        int64_t t = wall_us();
                        if (rd_kafka_producev(p, RD_KAFKA_V_TOPIC(topic),
                                              RD_KAFKA_V_VALUE(&t, sizeof t),
                                              RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                                              RD_KAFKA_V_END) == 0)
                                i++;
                        rd_kafka_poll(p, 0);
                        continue;
                }
                rd_kafka_message_t *m = rd_kafka_consumer_poll(c, 0);
                if (m) {
                        int64_t t;
                        if (!m->err && m->len == sizeof t) {
                                memcpy(&t, m->payload, sizeof t);
                                fprintf(out, "hop %" PRId64 "\n", wall_us() - t);
                                got++;
                        }
                        rd_kafka_message_destroy(m);
                } else if (i >= total) {
                        m = rd_kafka_consumer_poll(c, 100);
                        if (m) {
                                int64_t t;
                                if (!m->err && m->len == sizeof t) {
                                        memcpy(&t, m->payload, sizeof t);
                                        fprintf(out, "hop %" PRId64 "\n", wall_us() - t);
                                        got++;
                                }
                                rd_kafka_message_destroy(m);
                        } else if (te_proc_mono_ns() >
                                   start + (seconds + 30) * 1000000000LL) {
                                fprintf(stderr, "bench_latency: %ld of %ld came back\n",
                                        got, total);
                                goto out;
                        }
                }
        }
        rc = 0;
out:
        if (c) {
                rd_kafka_consumer_close(c);
                rd_kafka_destroy(c);
        } else if (cc) {
                rd_kafka_conf_destroy(cc);
        }
        if (p) {
                rd_kafka_flush(p, 5000);
                rd_kafka_destroy(p);
        } else if (pc) {
                rd_kafka_conf_destroy(pc);
        }
        return rc;
}

static int run_targets(const char *bootstrap, long rate, long seconds, long portfolios,
                       te_mode_t mode, const char *prefix, long base, FILE *out)
{
        char errstr[512];
        te_producer_t *p = NULL;
        te_codec_t *codec = te_codec_new(errstr, sizeof errstr);
        te_buf_t buf;
        te_target_portfolio_t tp;
        int rc = 1;
        te_buf_init(&buf, TE_CODEC_MAX_MESSAGE);
        memset(&tp, 0, sizeof tp);
        if (!codec)
                goto err;
        te_cfg_item_t none[1];
        te_cfg_t *cfg = te_cfg_new(none, 0, NULL, errstr, sizeof errstr);
        if (!cfg || te_cfg_set(cfg, "kafka.linger.ms", "0", "bench", errstr,
                               sizeof errstr) != 0) {
                te_cfg_destroy(cfg);
                goto err;
        }
        p = te_producer_new(cfg, bootstrap, errstr, sizeof errstr);
        te_cfg_destroy(cfg);
        if (!p)
                goto err;
        te_target_t t;
        memset(&t, 0, sizeof t);
        if (te_target_portfolio_add(&tp, &t) != 0) {
                snprintf(errstr, sizeof errstr, "out of memory");
                goto err;
        }
        tp.mode = mode;
        tp.unit = TE_UNIT_QUANTITY;
        tp.full_replace = 0;
        te_strlcpy(tp.ids.strategy_id, "bench", sizeof tp.ids.strategy_id);
        te_strlcpy(tp.ids.profile_version_id, "pv", sizeof tp.ids.profile_version_id);
        te_strlcpy(tp.ids.regime_id, "r", sizeof tp.ids.regime_id);
        te_strlcpy(tp.ids.universe_id, "u", sizeof tp.ids.universe_id);

        long total = rate * seconds;
        int64_t period = 1000000000 / rate, start = te_proc_mono_ns();
        for (long i = 0; i < total && i < MAX_SENT; i++) {
                sleep_until_ns(start + i * period);
                snprintf(tp.ids.decision_id, sizeof tp.ids.decision_id, "%s-%ld", prefix,
                         i);
                snprintf(tp.ids.portfolio_id, sizeof tp.ids.portfolio_id, "pf-%ld",
                         i % portfolios);
                /* one ticker per target of a portfolio, a new quantity each time */
                snprintf(tp.targets[0].ticker, sizeof tp.targets[0].ticker, "T%ld",
                         (i / portfolios) % 50);
                tp.targets[0].value = (double)(base + i);
                int64_t now = wall_us();
                tp.as_of = now / 1000;
                if (te_codec_encode_target_portfolio(codec, &tp, &buf, errstr,
                                                     sizeof errstr) != TE_CODEC_OK)
                        goto err;
                if (te_producer_send(p, "exec.targets", tp.ids.portfolio_id,
                                     strlen(tp.ids.portfolio_id), buf.data, buf.len, NULL,
                                     0, errstr, sizeof errstr) != 0)
                        goto err;
                fprintf(out, "%s %" PRId64 "\n", tp.ids.decision_id, now);
        }
        if (te_producer_flush(p, 30000, errstr, sizeof errstr) != 0)
                goto err;
        rc = 0;
err:
        if (rc)
                fprintf(stderr, "bench_latency: %s\n", errstr);
        te_producer_destroy(p);
        te_target_portfolio_free(&tp);
        te_codec_destroy(codec);
        te_buf_free(&buf);
        return rc;
}

int main(int argc, char **argv)
{
        const char *bootstrap = NULL, *out_path = NULL, *hop = NULL, *prefix = "lat";
        long rate = 1000, seconds = 10, portfolios = 200, base = 100;
        te_mode_t mode = TE_MODE_TRAINING;
        for (int i = 1; i + 1 < argc; i += 2) {
                const char *a = argv[i], *v = argv[i + 1];
                char *end = NULL;
                if (strcmp(a, "-b") == 0)
                        bootstrap = v;
                else if (strcmp(a, "-o") == 0)
                        out_path = v;
                else if (strcmp(a, "--hop") == 0)
                        hop = v;
                else if (strcmp(a, "-x") == 0)
                        prefix = v;
                else if (strcmp(a, "-v") == 0)
                        base = strtol(v, &end, 10);
                else if (strcmp(a, "-m") == 0 && strcmp(v, "PRODUCTION") == 0)
                        mode = TE_MODE_PRODUCTION;
                else if (strcmp(a, "-m") == 0 && strcmp(v, "TRAINING") == 0)
                        mode = TE_MODE_TRAINING;
                else if (strcmp(a, "-r") == 0)
                        rate = strtol(v, &end, 10);
                else if (strcmp(a, "-s") == 0)
                        seconds = strtol(v, &end, 10);
                else if (strcmp(a, "-p") == 0)
                        portfolios = strtol(v, &end, 10);
                else
                        end = (char *)"x";
                if (end && *end) {
                        fprintf(stderr, "bench_latency: bad argument %s %s\n", a, v);
                        return 1;
                }
        }
        if (!bootstrap || !out_path || rate <= 0 || rate > 100000 || seconds <= 0 ||
            portfolios <= 0) {
                fprintf(stderr, "usage: bench_latency -b BOOTSTRAP -o OUT [-r RATE] "
                                "[-s SECONDS] [-p PORTFOLIOS] [-m TRAINING|PRODUCTION] "
                                "[-x ID_PREFIX] [-v BASE] [--hop TOPIC]\n");
                return 1;
        }
        FILE *out = fopen(out_path, "w");
        if (!out) {
                perror(out_path);
                return 1;
        }
        int rc = hop ? run_hop(bootstrap, hop, rate, seconds, out)
                     : run_targets(bootstrap, rate, seconds, portfolios, mode, prefix,
                                   base, out);
        if (fclose(out) != 0)
                rc = 1;
        return rc;
}
