/*
 * te_obs: the metrics every process exposes, on one process-wide registry.
 *
 * A process calls te_obs_start right after te_cfgtab_start (before it creates Kafka
 * handles; it installs Kafka's counting hooks, te_kafka_set_counters) and te_obs_stop
 * at the end. What is counted per message of the wire contract (te_obs_report_sent) is
 * in te_obs_msg.h, a layer up. In between, modules count what they do with the
 * te_obs_* calls below; each is cheap, thread-safe, and a no-op for the caller's work
 * when metrics are disabled (metrics.port = 0: nothing is served, counting goes on).
 *
 * Families (Prometheus naming: base units, counters end in _total):
 *   process_start_time_seconds                     gauge
 *   process_cpu_seconds_total                      counter (user + system, /proc)
 *   process_resident_memory_bytes, process_virtual_memory_bytes,
 *   process_open_fds, process_max_fds              gauges, read at each scrape
 *   te_build_info{proc,version,commit}             gauge, 1 (commit: te_proc_commit)
 *   te_messages_consumed_total{topic}              counter (messages handed to the app)
 *   te_messages_produced_total{topic}              counter (delivery confirmed)
 *   te_produce_failures_total{topic}               counter (delivery failed)
 *   te_deadletters_total{reason}                   counter (reason code, not free text)
 *   te_alerts_total{code}                          counter
 *   te_orders_received_total                       counter (NEW commands at a broker)
 *   te_orders_final_total{state}                   counter (FILLED, CANCELED, ...)
 *   te_broker_up{adapter}                          gauge 1/0 (trading broker connection)
 *   te_kafka_consumer_lag_messages{group,topic,partition}
 *                                                  gauge, from librdkafka statistics:
 *                                                  high watermark - committed offset
 *                                                  (asked once per rebalance while
 *                                                  librdkafka does not know it yet;
 *                                                  - low watermark if never
 *                                                  committed), for the partitions
 *                                                  assigned by the group protocol
 *   te_kafka_brokers_up{client}, te_kafka_brokers{client}
 *                                                  gauges: Kafka brokers UP / known
 *   te_kafka_assigned_partitions{group}            gauge
 *   te_planner_target_to_order_seconds             histogram: target consumed -> its
 *                                                  orders produced
 *   te_order_to_ack_seconds                        histogram: order produced (Kafka
 *                                                  timestamp) -> ACK report sent
 *   te_order_to_first_fill_seconds                 histogram: order produced -> first
 *                                                  fill report sent
 *   te_fill_slippage_bps                           histogram: fill price vs the order's
 *                                                  arrival (reference) price, signed so
 *                                                  that positive = worse for us
 *   te_sink_report_to_commit_seconds               histogram: report produced (Kafka
 *                                                  timestamp) -> its DB commit
 *   te_sink_db_commit_seconds                      histogram: one batch transaction
 *   te_ready{check}                                gauge 1/0, the /readyz checks
 *
 * /readyz is 200 when every te_ready check is 1: "kafka" (every Kafka handle sees a
 * broker UP and, for consumers in a group, partitions are assigned), and those the
 * process declares with TE_OBS_NEED_DB / TE_OBS_NEED_BROKER and sets with te_obs_ready
 * ("offsets" turns 0 when a consumer stopped a partition: retention gap, or stored
 * offsets beyond the high watermark).
 *
 * Under a service manager (NOTIFY_SOCKET set, systemd Type=notify) te_obs_start also
 * starts a thread that sends READY=1 the first time /readyz would answer 200, STATUS=
 * lines as readiness changes, and STOPPING=1 when a stop signal arrives (te_sdnotify.h).
 */
#ifndef TE_OBS_H
#define TE_OBS_H

#include <stddef.h>
#include <librdkafka/rdkafka.h>

#include "te_cfgtab.h"
#include "te_http.h"
#include "te_metrics.h"

#define TE_OBS_NEED_KAFKA  1u
#define TE_OBS_NEED_DB     2u
#define TE_OBS_NEED_BROKER 4u

typedef enum {
        TE_OBS_TARGET_TO_ORDER,
        TE_OBS_ORDER_TO_ACK,
        TE_OBS_ORDER_TO_FIRST_FILL,
        TE_OBS_REPORT_TO_COMMIT,
        TE_OBS_DB_COMMIT,
        TE_OBS_HIST_COUNT
} te_obs_hist_t;

/** Register the families, set the start time, declare the readiness checks in `needs`
 *  (initially 0), install the librdkafka statistics hook (every metrics.kafka_stats.ms)
 *  and, if metrics.port > 0, serve /metrics, /healthz, /readyz on
 *  metrics.listen:metrics.port (*http; NULL when disabled).
 *  @returns 0, or -1 with errstr (the server could not start). */
int te_obs_start(const te_common_conf_t *common, const char *proc, unsigned needs,
                 te_http_t **http, char *errstr, size_t errsz);
/** Stop the server (accepts NULL) and the statistics hook. Counting still works. */
void te_obs_stop(te_http_t *http);

/** The process registry (created on first use; lives until exit). */
te_metrics_t *te_obs_registry(void);

void te_obs_consumed(const char *topic);
void te_obs_produced(const char *topic, int ok);
/** `reason` is "code: details": only the code (up to the first ':' or space, at most
 *  63 bytes) becomes the label, so the series stay few. */
void te_obs_deadletter(const char *reason);
void te_obs_alert(const char *code);
void te_obs_order_received(void);
void te_obs_order_final(const char *state);
/** Create te_orders_final_total{state} at 0 (rate() then sees its first increase). */
void te_obs_order_final_declare(const char *state);
void te_obs_broker_up(const char *adapter, int up);
void te_obs_ready(const char *check, int ok);
void te_obs_latency(te_obs_hist_t which, double seconds);
void te_obs_slippage_bps(double bps);

/** Wall-clock seconds since `ts_ms` (a Kafka message timestamp, ms since the epoch);
 *  @returns a negative value if the timestamp is unknown. */
double te_obs_since_ms(int64_t ts_ms);

/** Apply one librdkafka statistics JSON document (type "consumer" or "producer",
 *  consumer group `group`, "" for none) to the Kafka families. Without a handle the
 *  committed offsets cannot be asked for: a partition whose consumer_lag is -1 gets
 *  no lag series.
 *  @returns 0, or -1 if the JSON is not a statistics object (nothing changed). Public
 *  for tests; the statistics hook calls it. */
int te_obs_kafka_stats(const char *group, const char *json, size_t len);

/** The /readyz check over te_ready (te_http_ready_fn). */
int te_obs_is_ready(void *arg, te_buf_t *why);

#endif
