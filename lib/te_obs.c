/*
 * te_obs: the process-wide metric families, the librdkafka statistics parser and the
 * readiness checks (see te_obs.h).
 */
#include "te_obs.h"

#include <inttypes.h>
#include <jansson.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "te_kafka.h"
#include "te_log.h"
#include "te_proc.h"
#include "te_procstat.h"
#include "te_sdnotify.h"

#ifndef TE_VERSION
#define TE_VERSION "0.1.0"
#endif

#define TE_OBS_MAX_HANDLES 16
#define TE_OBS_CODE_MAX    64

static const double te_obs_latency_bounds[] = {
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30};
static const double te_obs_bps_bounds[] = {-100, -50, -20, -10, -5, -2, -1, 0,
                                           1,    2,   5,   10,  20, 50, 100};

typedef struct te_obs_handle_s {
        char name[128];
        int consumer_in_group;
        int brokers_up;
        int assigned;
        int64_t updated_ms; /* monotonic: a handle silent for a while was destroyed */
} te_obs_handle_t;

static struct {
        pthread_once_t once;
        pthread_mutex_t lock; /* protects handles */
        te_metrics_t *reg;
        te_metric_t *start_time, *cpu, *rss, *vsize, *open_fds, *max_fds, *build,
            *consumed, *produced, *produce_failed, *dead, *alerts, *orders_received,
            *orders_final, *broker_up, *lag, *kbrokers_up, *kbrokers, *assigned, *ready,
            *slippage;
        te_metric_t *hist[TE_OBS_HIST_COUNT];
        te_obs_handle_t handles[TE_OBS_MAX_HANDLES];
        size_t n_handles;
        int64_t stats_ms;          /* statistics interval, for handle expiry */
        pthread_mutex_t proc_lock; /* protects cpu_last */
        double cpu_last;           /* CPU seconds already added to the counter */
} g = {.once = PTHREAD_ONCE_INIT,
       .lock = PTHREAD_MUTEX_INITIALIZER,
       .proc_lock = PTHREAD_MUTEX_INITIALIZER};

/* At each scrape: the process figures from /proc/self (te_procstat.h). */
static void te_obs_collect_proc(void *arg)
{
        te_procstat_t ps;
        (void)arg;
        if (te_procstat_read(&ps) != 0)
                return;
        pthread_mutex_lock(&g.proc_lock);
        /* a counter: add what was spent since the last scrape (the series exists
         * from the first scrape on, 0 included) */
        double spent = ps.cpu_seconds > g.cpu_last ? ps.cpu_seconds - g.cpu_last : 0;
        te_metric_add(g.cpu, NULL, spent);
        g.cpu_last += spent;
        pthread_mutex_unlock(&g.proc_lock);
        te_metric_set(g.rss, NULL, ps.resident_bytes);
        te_metric_set(g.vsize, NULL, ps.virtual_bytes);
        if (ps.open_fds >= 0)
                te_metric_set(g.open_fds, NULL, ps.open_fds);
        if (ps.max_fds >= 0)
                te_metric_set(g.max_fds, NULL, ps.max_fds);
}

static void te_obs_init_once(void)
{
        te_metrics_t *r = te_metrics_new();
        if (!r)
                return;
        g.start_time =
            te_metrics_gauge(r, "process_start_time_seconds",
                             "Start time of the process since the epoch.", NULL);
        g.cpu = te_metrics_counter(r, "process_cpu_seconds_total",
                                   "User and system CPU time spent, in seconds.", NULL);
        g.rss = te_metrics_gauge(r, "process_resident_memory_bytes",
                                 "Resident memory size in bytes.", NULL);
        g.vsize = te_metrics_gauge(r, "process_virtual_memory_bytes",
                                   "Virtual memory size in bytes.", NULL);
        g.open_fds = te_metrics_gauge(r, "process_open_fds",
                                      "Number of open file descriptors.", NULL);
        g.max_fds = te_metrics_gauge(r, "process_max_fds",
                                     "Maximum number of open file descriptors.", NULL);
        te_metrics_set_collect(r, te_obs_collect_proc, NULL);
        g.build = te_metrics_gauge(r, "te_build_info",
                                   "Process name, version and build commit.",
                                   "proc,version,commit");
        g.consumed =
            te_metrics_counter(r, "te_messages_consumed_total",
                               "Messages consumed and handed to the process.", "topic");
        g.produced =
            te_metrics_counter(r, "te_messages_produced_total",
                               "Messages produced, delivery confirmed.", "topic");
        g.produce_failed = te_metrics_counter(r, "te_produce_failures_total",
                                              "Messages whose delivery failed.", "topic");
        g.dead = te_metrics_counter(r, "te_deadletters_total",
                                    "Messages sent to the dead-letter topic, by reason.",
                                    "reason");
        g.alerts = te_metrics_counter(r, "te_alerts_total", "Alerts published, by code.",
                                      "code");
        g.orders_received =
            te_metrics_counter(r, "te_orders_received_total",
                               "NEW order commands received by a broker worker.", NULL);
        g.orders_final = te_metrics_counter(
            r, "te_orders_final_total", "Orders that reached a final state.", "state");
        g.broker_up = te_metrics_gauge(r, "te_broker_up",
                                       "1 when the trading broker adapter is connected.",
                                       "adapter");
        g.lag = te_metrics_gauge(r, "te_kafka_consumer_lag_messages",
                                 "High watermark minus committed offset (librdkafka "
                                 "statistics), per assigned partition.",
                                 "group,topic,partition");
        g.kbrokers_up =
            te_metrics_gauge(r, "te_kafka_brokers_up",
                             "Kafka brokers in state UP, per client handle.", "client");
        g.kbrokers = te_metrics_gauge(
            r, "te_kafka_brokers", "Kafka brokers known, per client handle.", "client");
        g.assigned = te_metrics_gauge(r, "te_kafka_assigned_partitions",
                                      "Partitions assigned to the consumer group member.",
                                      "group");
#define LAT te_obs_latency_bounds, sizeof te_obs_latency_bounds / sizeof(double)
        const struct {
                te_metric_t **m;
                const char *name, *help;
                const double *bounds;
                size_t n;
        } hists[] = {
            {&g.hist[TE_OBS_TARGET_TO_ORDER], "te_planner_target_to_order_seconds",
             "Target consumed to its orders produced (includes the TRAINING clock "
             "barrier).",
             LAT},
            {&g.hist[TE_OBS_ORDER_TO_ACK], "te_order_to_ack_seconds",
             "Order produced to its ACK report sent.", LAT},
            {&g.hist[TE_OBS_ORDER_TO_FIRST_FILL], "te_order_to_first_fill_seconds",
             "Order produced to its first fill report sent.", LAT},
            {&g.slippage, "te_fill_slippage_bps",
             "Fill price against the order's arrival price in basis points (positive = "
             "worse).",
             te_obs_bps_bounds, sizeof te_obs_bps_bounds / sizeof(double)},
            {&g.hist[TE_OBS_REPORT_TO_COMMIT], "te_sink_report_to_commit_seconds",
             "Report produced to its database commit.", LAT},
            {&g.hist[TE_OBS_DB_COMMIT], "te_sink_db_commit_seconds",
             "Duration of one sink batch transaction (BEGIN to COMMIT).", LAT}};
#undef LAT
        for (size_t i = 0; i < sizeof hists / sizeof hists[0]; i++)
                *hists[i].m = te_metrics_histogram(r, hists[i].name, hists[i].help, NULL,
                                                   hists[i].bounds, hists[i].n);
        g.ready = te_metrics_gauge(r, "te_ready", "Readiness checks (1 = ok).", "check");
        g.reg = r;
}

te_metrics_t *te_obs_registry(void)
{
        pthread_once(&g.once, te_obs_init_once);
        return g.reg;
}

#define TE_OBS_READY() (te_obs_registry() != NULL)

void te_obs_consumed(const char *topic)
{
        if (TE_OBS_READY())
                te_metric_add(g.consumed, TE_LV(topic), 1);
}

void te_obs_produced(const char *topic, int ok)
{
        if (TE_OBS_READY())
                te_metric_add(ok ? g.produced : g.produce_failed, TE_LV(topic), 1);
}

void te_obs_deadletter(const char *reason)
{
        char code[TE_OBS_CODE_MAX];
        size_t n = 0;
        if (!TE_OBS_READY())
                return;
        while (reason && reason[n] && reason[n] != ':' && reason[n] != ' ' &&
               n < sizeof code - 1) {
                code[n] = reason[n];
                n++;
        }
        code[n] = '\0';
        te_metric_add(g.dead, TE_LV(n ? code : "unknown"), 1);
}

void te_obs_alert(const char *code)
{
        if (TE_OBS_READY())
                te_metric_add(g.alerts, TE_LV(code ? code : "unknown"), 1);
}

void te_obs_order_received(void)
{
        if (TE_OBS_READY())
                te_metric_add(g.orders_received, NULL, 1);
}

void te_obs_order_final(const char *state)
{
        if (TE_OBS_READY())
                te_metric_add(g.orders_final, TE_LV(state), 1);
}

void te_obs_order_final_declare(const char *state)
{
        if (TE_OBS_READY())
                te_metric_add(g.orders_final, TE_LV(state), 0);
}

void te_obs_broker_up(const char *adapter, int up)
{
        if (TE_OBS_READY())
                te_metric_set(g.broker_up, TE_LV(adapter), up ? 1 : 0);
}

void te_obs_ready(const char *check, int ok)
{
        if (TE_OBS_READY())
                te_metric_set(g.ready, TE_LV(check), ok ? 1 : 0);
}

void te_obs_latency(te_obs_hist_t which, double seconds)
{
        if (TE_OBS_READY() && which < TE_OBS_HIST_COUNT && seconds >= 0)
                te_metric_observe(g.hist[which], NULL, seconds);
}

void te_obs_slippage_bps(double bps)
{
        if (TE_OBS_READY())
                te_metric_observe(g.slippage, NULL, bps);
}

double te_obs_since_ms(int64_t ts_ms)
{
        if (ts_ms <= 0)
                return -1;
        return (double)(te_proc_wall_ms() - ts_ms) / 1000.0;
}

/* ---- readiness ------------------------------------------------------------------ */

typedef struct te_obs_ready_acc_s {
        int ok;
        te_buf_t *why;
} te_obs_ready_acc_t;

static void te_obs_ready_one(const char *const *values, double v, void *arg)
{
        te_obs_ready_acc_t *acc = arg;
        if (v == 1)
                return;
        acc->ok = 0;
        te_buf_printf(acc->why, "%s: not ok\n", values[0]);
}

int te_obs_is_ready(void *arg, te_buf_t *why)
{
        (void)arg;
        te_obs_ready_acc_t acc = {1, why};
        if (!TE_OBS_READY())
                return 0;
        te_metric_each(g.ready, te_obs_ready_one, &acc);
        return acc.ok;
}

/* Recompute the "kafka" check from every handle seen (g.lock held). */
/* A handle that sent no statistics for 3 intervals (and 2 s) is gone (a short-lived
 * helper consumer, say): it no longer counts for readiness and its slot is reused. */
static int te_obs_handle_stale(const te_obs_handle_t *h, int64_t now)
{
        int64_t iv = g.stats_ms > 0 ? g.stats_ms : 1000;
        return now - h->updated_ms > 3 * iv + 2000;
}

static void te_obs_kafka_ready_update(void)
{
        int brokers_ok = 1, any_group = 0, assigned = 0;
        int64_t now = te_proc_mono_ms();
        for (size_t i = 0; i < g.n_handles; i++) {
                const te_obs_handle_t *h = &g.handles[i];
                if (te_obs_handle_stale(h, now))
                        continue;
                if (h->brokers_up <= 0)
                        brokers_ok = 0;
                if (h->consumer_in_group) {
                        any_group = 1;
                        assigned += h->assigned;
                }
        }
        double have;
        /* only when the process declared the check (te_obs_start with NEED_KAFKA) */
        if (te_metric_get(g.ready, TE_LV("kafka"), &have) == 0)
                te_metric_set(g.ready, TE_LV("kafka"),
                              brokers_ok && (!any_group || assigned > 0));
}

/* ---- librdkafka statistics -------------------------------------------------------- */

static int64_t te_obs_json_int(json_t *obj, const char *key, int64_t def)
{
        json_t *v = json_object_get(obj, key);
        return json_is_integer(v) ? (int64_t)json_integer_value(v) : def;
}

/* Committed offsets that librdkafka's statistics do not show until this process
 * commits (after a restart they read -1001): asked once per rebalance with
 * rd_kafka_committed and remembered (g.lock). offset -1: the group never committed
 * that partition; -2: the query failed (retried after TE_OBS_COMMITTED_RETRY_MS). */
#define TE_OBS_MAX_COMMITTED      1024
#define TE_OBS_COMMITTED_RETRY_MS 30000
#define TE_OBS_COMMITTED_WAIT_MS  1000

typedef struct te_obs_committed_s {
        char group[128];
        char topic[128];
        int32_t partition;
        int64_t offset;
        int64_t generation; /* the group's rebalance count when asked */
        int64_t asked_ms;
} te_obs_committed_t;

static te_obs_committed_t te_obs_committed[TE_OBS_MAX_COMMITTED];
static size_t te_obs_n_committed;

static te_obs_committed_t *te_obs_committed_find(const char *group, const char *topic,
                                                 int32_t partition, int64_t generation)
{
        for (size_t i = 0; i < te_obs_n_committed; i++) {
                te_obs_committed_t *c = &te_obs_committed[i];
                if (c->partition == partition && c->generation == generation &&
                    strcmp(c->group, group) == 0 && strcmp(c->topic, topic) == 0)
                        return c;
        }
        return NULL;
}

static void te_obs_committed_put(const char *group, const char *topic, int32_t partition,
                                 int64_t generation, int64_t offset)
{
        te_obs_committed_t *c =
            te_obs_committed_find(group, topic, partition, generation);
        if (!c) {
                /* drop this group's entries of older generations first */
                size_t keep = 0;
                for (size_t i = 0; i < te_obs_n_committed; i++)
                        if (strcmp(te_obs_committed[i].group, group) != 0 ||
                            te_obs_committed[i].generation == generation)
                                te_obs_committed[keep++] = te_obs_committed[i];
                te_obs_n_committed = keep;
                if (te_obs_n_committed >= TE_OBS_MAX_COMMITTED)
                        return;
                c = &te_obs_committed[te_obs_n_committed++];
                snprintf(c->group, sizeof c->group, "%s", group);
                snprintf(c->topic, sizeof c->topic, "%s", topic);
                c->partition = partition;
                c->generation = generation;
        }
        c->offset = offset;
        c->asked_ms = te_proc_mono_ms();
}

/* Ask the group coordinator for the committed offsets of the assigned partitions whose
 * committed offset the statistics do not know yet. */
static void te_obs_committed_query(rd_kafka_t *rk, const char *group, json_t *topics,
                                   int64_t generation)
{
        rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(8);
        const char *tname, *pname;
        json_t *t, *p;
        int64_t now = te_proc_mono_ms();
        pthread_mutex_lock(&g.lock);
        json_object_foreach(topics, tname, t)
        {
                json_object_foreach(json_object_get(t, "partitions"), pname, p)
                {
                        int64_t part = te_obs_json_int(p, "partition", -1);
                        const char *fs =
                            json_string_value(json_object_get(p, "fetch_state"));
                        if (part < 0 || (fs && strcmp(fs, "none") == 0) ||
                            te_obs_json_int(p, "consumer_lag", -1) >= 0)
                                continue;
                        te_obs_committed_t *c = te_obs_committed_find(
                            group, tname, (int32_t)part, generation);
                        if (c && (c->offset != -2 ||
                                  now - c->asked_ms < TE_OBS_COMMITTED_RETRY_MS))
                                continue;
                        rd_kafka_topic_partition_list_add(l, tname, (int32_t)part);
                }
        }
        pthread_mutex_unlock(&g.lock);
        if (l->cnt) {
                rd_kafka_resp_err_t err =
                    rd_kafka_committed(rk, l, TE_OBS_COMMITTED_WAIT_MS);
                pthread_mutex_lock(&g.lock);
                for (int i = 0; i < l->cnt; i++) {
                        const rd_kafka_topic_partition_t *e = &l->elems[i];
                        int64_t off = err || e->err    ? -2
                                      : e->offset >= 0 ? e->offset
                                                       : -1;
                        te_obs_committed_put(group, e->topic, e->partition, generation,
                                             off);
                }
                pthread_mutex_unlock(&g.lock);
        }
        rd_kafka_topic_partition_list_destroy(l);
}

/* Lag of one partition: librdkafka's consumer_lag (high watermark - committed) when it
 * knows the committed offset, else from the offset asked for, else (never committed)
 * from the low watermark as exec-lag counts. @returns -1 when unknown. */
static int64_t te_obs_partition_lag(const char *group, const char *topic, json_t *p,
                                    int64_t generation)
{
        int64_t lag = te_obs_json_int(p, "consumer_lag", -1);
        int64_t hi = te_obs_json_int(p, "hi_offset", -1);
        int64_t lo = te_obs_json_int(p, "lo_offset", -1);
        int64_t part = te_obs_json_int(p, "partition", -1);
        if (lag >= 0 || hi < 0)
                return lag;
        pthread_mutex_lock(&g.lock);
        te_obs_committed_t *c =
            te_obs_committed_find(group, topic, (int32_t)part, generation);
        int64_t committed = c ? c->offset : -2;
        pthread_mutex_unlock(&g.lock);
        if (committed >= 0)
                return hi > committed ? hi - committed : 0;
        if (committed == -1 && lo >= 0 && hi >= lo)
                return hi - lo;
        return -1;
}

static int te_obs_kafka_stats_rk(rd_kafka_t *rk, const char *group, const char *json,
                                 size_t len)
{
        json_error_t jerr;
        if (!TE_OBS_READY())
                return -1;
        json_t *root = json_loadb(json, len, 0, &jerr);
        if (!json_is_object(root)) {
                json_decref(root);
                return -1;
        }
        const char *name = json_string_value(json_object_get(root, "name"));
        const char *type = json_string_value(json_object_get(root, "type"));
        if (!name || !type) {
                json_decref(root);
                return -1;
        }
        int is_consumer = strcmp(type, "consumer") == 0;
        int in_group = is_consumer && group && *group;

        /* brokers: count the real ones (nodeid >= 0; bootstrap entries are -1) */
        int known = 0, up = 0;
        const char *bkey;
        json_t *b;
        json_object_foreach(json_object_get(root, "brokers"), bkey, b)
        {
                if (te_obs_json_int(b, "nodeid", -1) < 0)
                        continue;
                known++;
                const char *st = json_string_value(json_object_get(b, "state"));
                if (st && strcmp(st, "UP") == 0)
                        up++;
        }
        te_metric_set(g.kbrokers_up, TE_LV(name), up);
        te_metric_set(g.kbrokers, TE_LV(name), known);

        int assigned = 0;
        if (in_group) {
                json_t *cgrp = json_object_get(root, "cgrp");
                assigned = (int)te_obs_json_int(cgrp, "assignment_size", 0);
                te_metric_set(g.assigned, TE_LV(group), assigned);
                int64_t gen = te_obs_json_int(cgrp, "rebalance_cnt", 0);
                if (rk && assigned > 0)
                        te_obs_committed_query(rk, group, json_object_get(root, "topics"),
                                               gen);
                /* lag: replace this group's series with the partitions reported now */
                te_metric_remove(g.lag, 0, group);
                const char *tname, *pname;
                json_t *t, *p;
                /* only partitions the group protocol assigned: a manually assigned
                 * consumer (the planner's exec.reports reader) never commits */
                json_object_foreach(assigned > 0 ? json_object_get(root, "topics") : NULL,
                                    tname, t)
                {
                        json_object_foreach(json_object_get(t, "partitions"), pname, p)
                        {
                                int64_t part = te_obs_json_int(p, "partition", -1);
                                int64_t lag = te_obs_partition_lag(group, tname, p, gen);
                                const char *fs =
                                    json_string_value(json_object_get(p, "fetch_state"));
                                if (part < 0 || lag < 0 ||
                                    (fs && strcmp(fs, "none") == 0))
                                        continue;
                                te_metric_set(g.lag, TE_LV(group, tname, pname),
                                              (double)lag);
                        }
                }
        }

        pthread_mutex_lock(&g.lock);
        te_obs_handle_t *h = NULL;
        for (size_t i = 0; i < g.n_handles && !h; i++)
                if (strcmp(g.handles[i].name, name) == 0)
                        h = &g.handles[i];
        int64_t now = te_proc_mono_ms();
        for (size_t i = 0; i < g.n_handles && !h; i++)
                if (te_obs_handle_stale(&g.handles[i], now))
                        h = &g.handles[i]; /* reuse the slot of a handle gone */
        if (!h && g.n_handles < TE_OBS_MAX_HANDLES)
                h = &g.handles[g.n_handles++];
        if (h && strcmp(h->name, name) != 0)
                snprintf(h->name, sizeof h->name, "%s", name);
        if (h) {
                h->consumer_in_group = in_group;
                h->brokers_up = up;
                h->assigned = assigned;
                h->updated_ms = now;
        }
        te_obs_kafka_ready_update();
        pthread_mutex_unlock(&g.lock);
        json_decref(root);
        return 0;
}

int te_obs_kafka_stats(const char *group, const char *json, size_t len)
{
        return te_obs_kafka_stats_rk(NULL, group, json, len);
}

static void te_obs_stats_hook(rd_kafka_t *rk, const char *json, size_t len)
{
        char group[256] = "";
        size_t gsz = sizeof group;
        if (rd_kafka_type(rk) == RD_KAFKA_CONSUMER &&
            rd_kafka_conf_get(rd_kafka_conf(rk), "group.id", group, &gsz) !=
                RD_KAFKA_CONF_OK)
                group[0] = '\0';
        if (te_obs_kafka_stats_rk(rk, group, json, len) != 0)
                TE_LOG(TE_LOG_WARN, NULL, "metrics.kafka_stats",
                       "%s: unreadable statistics", rd_kafka_name(rk));
}

/* ---- service manager notification ------------------------------------------------ */

/* Under systemd (Type=notify, NOTIFY_SOCKET set) a thread tells the service manager
 * READY=1 the first time /readyz would answer 200, STATUS= whenever the readiness
 * verdict changes, and STOPPING=1 once a stop signal arrived (or at te_obs_stop). */
static struct {
        pthread_t thread;
        int running;
        atomic_int quit;
        int stopping_sent;
} te_obs_sd;

static void te_obs_sd_send(const char *state)
{
        char errstr[256];
        if (te_sd_notify(state, errstr, sizeof errstr) < 0)
                TE_LOG(TE_LOG_WARN, NULL, "sd_notify", "%s", errstr);
}

static void *te_obs_sd_main(void *arg)
{
        (void)arg;
        int ready_sent = 0;
        char last[512] = "";
        te_buf_t why;
        te_buf_init(&why, 400);
        while (!atomic_load(&te_obs_sd.quit) && !te_proc_stop) {
                te_buf_reset(&why);
                int ok = te_obs_is_ready(NULL, &why);
                char status[512];
                if (ok)
                        snprintf(status, sizeof status, "STATUS=ready");
                else
                        snprintf(status, sizeof status, "STATUS=not ready: %s",
                                 te_buf_cstr(&why) ? te_buf_cstr(&why) : "");
                /* one line per check in /readyz, one line here: "a: not ok, b: ..." */
                size_t n = strlen(status);
                while (n > 0 && status[n - 1] == '\n')
                        status[--n] = '\0';
                for (char *nl = strchr(status, '\n'); nl; nl = strchr(nl, '\n'))
                        *nl = ',';
                if (ok && !ready_sent) {
                        char msg[600];
                        snprintf(msg, sizeof msg, "READY=1\n%s", status);
                        te_obs_sd_send(msg);
                        ready_sent = 1;
                        te_strlcpy(last, status, sizeof last);
                } else if (strcmp(status, last) != 0) {
                        te_obs_sd_send(status);
                        te_strlcpy(last, status, sizeof last);
                }
                struct timespec ts = {0, 100 * 1000 * 1000};
                nanosleep(&ts, NULL);
        }
        te_buf_free(&why);
        if (te_proc_stop) {
                te_obs_sd_send("STOPPING=1\nSTATUS=stopping");
                te_obs_sd.stopping_sent = 1;
        }
        return NULL;
}

/* ---- Kafka's counters ------------------------------------------------------------ */

/* a consumer stopped a partition (retention gap, stored offsets beyond the end) */
static void te_obs_offsets_stopped(void)
{
        te_obs_ready("offsets", 0);
}

static const te_kafka_counters_t te_obs_kafka_counters = {
    .consumed = te_obs_consumed,
    .produced = te_obs_produced,
    .stopped = te_obs_offsets_stopped,
};

/* ---- start / stop ------------------------------------------------------------------ */

int te_obs_start(const te_common_conf_t *common, const char *proc, unsigned needs,
                 te_http_t **http, char *errstr, size_t errsz)
{
        *http = NULL;
        if (!TE_OBS_READY()) {
                snprintf(errstr, errsz, "metrics: out of memory");
                return -1;
        }
        te_kafka_set_counters(&te_obs_kafka_counters);
        te_metric_set(g.start_time, NULL, (double)te_proc_wall_ms() / 1000.0);
        te_metric_set(g.build, TE_LV(proc, TE_VERSION, te_proc_commit()), 1);
        if (needs & TE_OBS_NEED_KAFKA)
                te_obs_ready("kafka", 0);
        if (needs & TE_OBS_NEED_DB)
                te_obs_ready("db", 0);
        if (needs & TE_OBS_NEED_BROKER) {
                te_obs_ready("broker", 0);
                /* a series that exists from the start: rate() sees its first increase
                 * (the final states' series: te_obs_msg_declare) */
                te_metric_add(g.orders_received, NULL, 0);
        }
        const char *ns = getenv("NOTIFY_SOCKET");
        if (ns && *ns && !te_obs_sd.running) {
                /* readiness needs the Kafka statistics, served port or not */
                g.stats_ms = common->metrics_stats_ms;
                te_kafka_set_stats_hook(te_obs_stats_hook, (int)common->metrics_stats_ms);
                atomic_store(&te_obs_sd.quit, 0);
                te_obs_sd.stopping_sent = 0;
                if (pthread_create(&te_obs_sd.thread, NULL, te_obs_sd_main, NULL) == 0)
                        te_obs_sd.running = 1;
                else
                        TE_LOG(TE_LOG_WARN, NULL, "sd_notify",
                               "no notification thread: READY=1 will not be sent");
        }
        if (common->metrics_port <= 0)
                return 0;
        g.stats_ms = common->metrics_stats_ms;
        te_kafka_set_stats_hook(te_obs_stats_hook, (int)common->metrics_stats_ms);
        *http = te_http_start(common->metrics_listen, (int)common->metrics_port, g.reg,
                              te_obs_is_ready, NULL, errstr, errsz);
        if (!*http) {
                te_kafka_set_stats_hook(NULL, 0);
                return -1;
        }
        TE_LOG(TE_LOG_INFO, NULL, "metrics.listen", "http://%s:%d/metrics",
               common->metrics_listen, te_http_port(*http));
        return 0;
}

void te_obs_stop(te_http_t *http)
{
        if (te_obs_sd.running) {
                atomic_store(&te_obs_sd.quit, 1);
                pthread_join(te_obs_sd.thread, NULL);
                te_obs_sd.running = 0;
                if (!te_obs_sd.stopping_sent)
                        te_obs_sd_send("STOPPING=1\nSTATUS=stopping");
        }
        te_http_stop(http);
}
