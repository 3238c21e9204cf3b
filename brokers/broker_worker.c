/*
 * broker_worker: the exec-broker's loop (broker_worker.h): watch the adapter, take an
 * order, publish its reports, commit what is delivered (order_ledger.h).
 */
#include "broker_worker.h"

#include <librdkafka/rdkafka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "broker_guard.h"
#include "broker_sim.h"
#include "order_ledger.h"
#include "te_buf.h"
#include "te_codec.h"
#include "te_emit.h"
#include "te_kafka.h"
#include "te_kafka_seek.h"
#include "te_log.h"
#include "te_obs_msg.h"
#include "te_proc.h"

#define PROC "exec-broker"

struct te_broker_worker_s {
        te_broker_worker_conf_t conf;
        te_codec_t *codec;
        te_producer_t *producer;
        te_consumer_t *consumer;
        te_emitter_t emit; /* dead letters and alerts: producer, codec, topics */
        te_adapter_t adapter;
        te_broker_t *broker; /* adapter.broker */
        const char *name;    /* the adapter's setting name, for metrics */
        te_ledger_t *ledger;
        te_reports_t reports;
        te_order_cmd_t cmd;
        te_buf_t buf;
        te_guard_t guard;
        te_broker_worker_stats_t n;
        int up;               /* adapter connected (last seen) */
        int64_t last_repause; /* while down: re-pause new assignments this often */
        int announce;         /* partitions assigned: publish the state to them */
        int rebuilding;       /* the message in hand is replayed (order_ledger.h) */
        int decoded;          /* the message in hand was decoded */
        int fatal;            /* set by the rebalance callback */
        int dirty;            /* recorded or published since the last commit */
        int kick;             /* a CLOCK_ACK is queued: te_producer_kick when idle */
        int64_t last_commit;  /* monotonic */
};

/* Pause (or resume) every partition currently assigned. */
static void pause_all(te_broker_worker_t *w, int pause)
{
        rd_kafka_t *rk = te_consumer_handle(w->consumer);
        rd_kafka_topic_partition_list_t *a = NULL;
        if (rd_kafka_assignment(rk, &a) != RD_KAFKA_RESP_ERR_NO_ERROR || !a)
                return;
        if (a->cnt)
                (void)(pause ? rd_kafka_pause_partitions(rk, a)
                             : rd_kafka_resume_partitions(rk, a));
        rd_kafka_topic_partition_list_destroy(a);
}

/* Send the encoded report in w->buf to every exec.reports partition whose exec.orders
 * partition this worker owns. @returns how many were sent (0: none owned), or -1. */
static int send_to_owned(te_broker_worker_t *w, const char *key)
{
        rd_kafka_t *prk = te_producer_handle(w->producer);
        rd_kafka_topic_partition_list_t *a = NULL;
        if (rd_kafka_assignment(te_consumer_handle(w->consumer), &a) !=
                RD_KAFKA_RESP_ERR_NO_ERROR ||
            !a)
                return 0;
        int sent = 0, failed = 0;
        for (int i = 0; i < a->cnt; i++) {
                rd_kafka_resp_err_t err = rd_kafka_producev(
                    prk, RD_KAFKA_V_TOPIC(w->conf.topic_reports),
                    RD_KAFKA_V_PARTITION(a->elems[i].partition),
                    RD_KAFKA_V_KEY(key, strlen(key)),
                    RD_KAFKA_V_VALUE(w->buf.data, w->buf.len),
                    RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END);
                if (err) {
                        TE_LOG(TE_LOG_ERROR, NULL, "broker.send", "broker state: %s",
                               rd_kafka_err2str(err));
                        failed = 1;
                }
                sent++;
        }
        rd_kafka_topic_partition_list_destroy(a);
        return failed ? -1 : sent;
}

/* Publish a BROKER_STATE report to every exec.reports partition whose exec.orders
 * partition this worker owns (co-partitioning: the planner of those portfolios reads
 * it), or keyed by broker name when it owns none; and an Alert if `alert`.
 * @returns 0 or -1. */
static int publish_state(te_broker_worker_t *w, int up, const char *why, int alert)
{
        char errstr[256];
        te_exec_report_t r;
        memset(&r, 0, sizeof r);
        int64_t now = te_proc_wall_ms();
        snprintf(r.report_id, sizeof r.report_id, "bs-%s-%s-%lld", w->broker->ops->name,
                 up ? "up" : "down", (long long)now);
        r.exec_type = TE_EXEC_BROKER_STATE;
        r.order_status = TE_OS_NEW;
        snprintf(r.reason, sizeof r.reason, "%s: %s", up ? "UP" : "DOWN", why);
        te_strlcpy(r.broker, w->broker->ops->name, sizeof r.broker);
        te_strlcpy(r.account, w->conf.account, sizeof r.account);
        r.mode = w->broker->ops->mode;
        r.event_time = now;
        if (te_codec_encode_exec_report(w->codec, &r, &w->buf, errstr, sizeof errstr) !=
            TE_CODEC_OK) {
                TE_LOG(TE_LOG_ERROR, NULL, "broker.encode", "%s", errstr);
                return -1;
        }
        const char *key = w->broker->ops->name;
        int sent = send_to_owned(w, key), rc = sent < 0 ? -1 : 0;
        if (!sent && te_producer_send(w->producer, w->conf.topic_reports, key,
                                      strlen(key), w->buf.data, w->buf.len, NULL, 0,
                                      errstr, sizeof errstr) != 0) {
                TE_LOG(TE_LOG_ERROR, NULL, "broker.send", "broker state: %s", errstr);
                rc = -1;
        }
        if (alert)
                te_emitter_alert(&w->emit, up ? TE_SEV_INFO : TE_SEV_CRITICAL,
                                 up ? "broker_up" : "broker_down", NULL, NULL, NULL,
                                 "broker %s %s: %s", w->broker->ops->name,
                                 up ? "up" : "down", why);
        return rc;
}

static void on_rebalance(te_consumer_t *c, rd_kafka_topic_partition_list_t *parts,
                         int assigned, void *opaque)
{
        te_broker_worker_t *w = opaque;
        /* eager rebalance: every partition is revoked, then some assigned; what was not
         * committed is read again by whoever owns it now (replays are recognised); a
         * replay adapter's book is rebuilt from the floors of what we own now */
        if (te_ledger_reset(w->ledger) != 0 ||
            (w->adapter.sim && te_sim_reset(w->adapter.sim) != 0)) {
                TE_LOG(TE_LOG_ERROR, NULL, "broker.rebuild", "out of memory");
                w->fatal = 1;
        }
        if (!assigned)
                return;
        w->announce = 1; /* once the assignment is in effect (the loop) */
        if (w->adapter.sim &&
            te_ledger_replay_start(w->ledger, te_consumer_handle(c), parts) != 0)
                w->fatal = 1;
}

/* Follow the adapter's connection: when it goes down, stop taking orders (pause every
 * partition), publish BROKER_STATE and an Alert; when it is back (the adapter has
 * reconciled; its findings come out of its poll, published by the loop), publish
 * BROKER_STATE UP and resume. @returns 0 or -1 (fatal). */
static int watch_broker(te_broker_worker_t *w)
{
        int up = !w->broker->ops->connected || w->broker->ops->connected(w->broker);
        int64_t now = te_proc_mono_ms();
        if (!up && w->up) {
                w->up = 0;
                w->n.outages++;
                w->last_repause = now;
                pause_all(w, 1);
                te_obs_broker_up(w->name, 0);
                te_obs_ready("broker", 0);
                TE_LOG(TE_LOG_ERROR, NULL, "broker.down",
                       "adapter %s disconnected: partitions paused, no orders taken",
                       w->broker->ops->name);
                return publish_state(w, 0, "not taking orders; partitions paused", 1);
        }
        if (!up && now - w->last_repause >= 250) { /* new assignments while down */
                w->last_repause = now;
                pause_all(w, 1);
        }
        if (up && !w->up) {
                w->up = 1;
                te_obs_broker_up(w->name, 1);
                te_obs_ready("broker", 1);
                /* the adapter reconciled before it said connected; what it found comes
                 * out of its poll, which the loop publishes (publish_polled): polling
                 * here would drop those reports */
                TE_LOG(TE_LOG_WARN, NULL, "broker.up",
                       "adapter %s back: reconciled, partitions resumed",
                       w->broker->ops->name);
                int rc = publish_state(w, 1, "reconciled; taking orders again", 1);
                pause_all(w, 0);
                return rc;
        }
        return 0;
}

/* The adapter could not take `m` (went down): put it back so that it is read again
 * after the outage, and stop taking orders. */
static void put_back(te_broker_worker_t *w, const rd_kafka_message_t *m)
{
        rd_kafka_t *rk = te_consumer_handle(w->consumer);
        rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(1);
        rd_kafka_topic_partition_list_add(l, rd_kafka_topic_name(m->rkt), m->partition)
            ->offset = m->offset;
        pause_all(w, 1);
        rd_kafka_error_t *e = te_kafka_seek_partitions(rk, l, 5000);
        if (e) {
                TE_LOG(TE_LOG_ERROR, NULL, "broker.seek",
                       "%s[%d] back to %lld: %s (re-read after a restart: not committed)",
                       rd_kafka_topic_name(m->rkt), (int)m->partition,
                       (long long)m->offset, rd_kafka_error_string(e));
                rd_kafka_error_destroy(e);
        }
        rd_kafka_topic_partition_list_destroy(l);
}

/* te_orders_tif_expired_total: orders the broker expired at the end of their time in
 * force (not an Alert: te_orders_final_total{state="EXPIRED"} counts every expiry). */
static void order_expired_event(const te_exec_report_t *r)
{
        static te_metric_t *expired;
        if (!expired && te_obs_registry())
                expired = te_metrics_counter(
                    te_obs_registry(), "te_orders_tif_expired_total",
                    "Orders the broker expired at the end of their time in force (DAY "
                    "at the session end, OPG/CLS not filled): a normal outcome.",
                    NULL);
        if (expired)
                te_metric_add(expired, NULL, 1);
        te_log_ids_t ids = {.decision_id = r->ids.decision_id,
                            .portfolio_id = r->ids.portfolio_id,
                            .order_id = r->order_id};
        TE_LOG(TE_LOG_INFO, &ids, "order.expired", "%s %s cum=%.10g leaves=%.10g: %s",
               r->ticker, te_side_name(r->side), r->cum_qty, r->leaves_qty, r->reason);
}

/* Encode one report and queue it keyed by its portfolio (the order's partition
 * number). @returns 0 or -1 (logged). */
static int send_report(te_broker_worker_t *w, const te_exec_report_t *r)
{
        char errstr[512];
        if (te_codec_encode_exec_report(w->codec, r, &w->buf, errstr, sizeof errstr) !=
            TE_CODEC_OK) {
                TE_LOG(TE_LOG_ERROR, NULL, "broker.encode", "%s", errstr);
                return -1;
        }
        if (te_producer_send(w->producer, w->conf.topic_reports, r->ids.portfolio_id,
                             strlen(r->ids.portfolio_id), w->buf.data, w->buf.len, NULL,
                             0, errstr, sizeof errstr) != 0) {
                TE_LOG(TE_LOG_ERROR, NULL, "broker.send", "%s", errstr);
                return -1;
        }
        return 0;
}

/* Decode `m` into w->cmd within the value bounds; a bad one is dead-lettered with an
 * alert (not when replayed: it was the first time). @returns 1 when decoded, else 0. */
static int decode(te_broker_worker_t *w, const rd_kafka_message_t *m)
{
        char errstr[512];
        te_codec_err_t cerr = te_codec_decode_order_cmd(w->codec, m->payload, m->len,
                                                        &w->cmd, errstr, sizeof errstr);
        if (cerr == TE_CODEC_OK) /* within the value bounds (te_msg.h) */
                cerr = te_codec_check_bounds(TE_MSG_ORDER_COMMAND, &w->cmd, errstr,
                                             sizeof errstr);
        if (cerr == TE_CODEC_OK)
                return 1;
        if (w->rebuilding)
                return 0;
        w->n.dead_lettered++;
        /* skipped (alerted) when even a cut copy cannot be queued: never a stop on this
         * offset */
        te_emit_reject(&w->emit, m, te_codec_err_name(cerr), errstr,
                       &(te_reject_ctx_t){.what = "order", .alert_code = "bad_order"});
        return 0;
}

/* Publish the reports of the order in hand, with the alert or event each deserves.
 * @returns 0 or -1 (fatal). */
static int publish_reports(te_broker_worker_t *w, const rd_kafka_message_t *m,
                           te_guard_verdict_t gv, int mode_refused)
{
        for (size_t i = 0; i < w->reports.n; i++) {
                te_exec_report_t *r = &w->reports.items[i];
                if (send_report(w, r) != 0)
                        return -1;
                /* an order the broker expired at the end of its time in force (a DAY
                 * order at the session end, OPG/CLS not filled) is a normal outcome:
                 * an event and a metric, no Alert. One the worker expired because it
                 * waited too long to be sent (order.max_age.ms) asks for a look. */
                int tif_end = r->exec_type == TE_EXEC_EXPIRED && !mode_refused &&
                              gv != TE_GUARD_EXPIRED;
                if (tif_end)
                        order_expired_event(r);
                else if (r->exec_type == TE_EXEC_REJECTED ||
                         r->exec_type == TE_EXEC_EXPIRED)
                        te_emitter_alert(
                            &w->emit, mode_refused ? TE_SEV_CRITICAL : TE_SEV_WARNING,
                            mode_refused                      ? "mode_refused"
                            : r->exec_type == TE_EXEC_EXPIRED ? "order_expired"
                            : gv == TE_GUARD_REJECTED         ? "limit_rejected"
                                                              : "order_rejected",
                            r->ids.decision_id, r->ids.portfolio_id, r->order_id, "%s",
                            r->reason);
                te_log_ids_t ids = {.decision_id = r->ids.decision_id,
                                    .portfolio_id = r->ids.portfolio_id,
                                    .order_id = r->order_id,
                                    .report_id = r->report_id};
                TE_LOG(TE_LOG_DEBUG, &ids, "report.sent", "%s %s qty=%.10g px=%.10g",
                       te_exec_type_name(r->exec_type), r->ticker, r->last_qty,
                       r->last_price);
                te_obs_report_sent(r, &w->cmd, rd_kafka_message_timestamp(m, NULL));
        }
        w->n.reports += w->reports.n;
        return 0;
}

/* @returns 0 when the message is done, 1 when the adapter is down (the message is put
 * back, not done), -1 on a fatal error. */
static int on_order(te_broker_worker_t *w, rd_kafka_message_t *m)
{
        w->rebuilding = te_ledger_rebuilding(w->ledger, m->partition, m->offset);
        te_reports_clear(&w->reports);
        /* dead letters whose delivery failed since: CRITICAL alerts */
        te_emitter_lost(&w->emit);
        w->decoded = decode(w, m);
        if (!w->decoded)
                return 0;
        w->n.commands++;
        if (w->cmd.command == TE_CMD_NEW && !w->rebuilding)
                te_obs_order_received();
        int oom = 0;
        te_guard_verdict_t gv =
            te_guard_check(&w->guard, &w->cmd, rd_kafka_message_timestamp(m, NULL),
                           te_proc_wall_ms(), w->broker->ops->name, &w->reports, &oom);
        int mode_refused =
            w->cmd.command != TE_CMD_CLOCK && w->cmd.mode != w->broker->ops->mode;
        te_broker_err_t berr = oom ? TE_BROKER_ERR_FATAL
                               : gv == TE_GUARD_PASS
                                   ? te_broker_handle(w->broker, &w->cmd, &w->reports)
                                   : TE_BROKER_OK;
        w->n.expired += gv == TE_GUARD_EXPIRED;
        w->n.limit_rejects += gv == TE_GUARD_REJECTED;
        if (berr == TE_BROKER_ERR_RETRIABLE) {
                put_back(w, m);
                return 1;
        }
        if (berr != TE_BROKER_OK) {
                TE_LOG(TE_LOG_ERROR, NULL, "broker.adapter_error", "adapter error %d",
                       berr);
                return -1;
        }
        if (w->rebuilding) { /* its reports were delivered before the offset moved */
                w->n.replayed++;
                return 0;
        }
        /* the planner waits for this CLOCK's ACK before it sends anything more */
        w->kick |= w->cmd.command == TE_CMD_CLOCK;
        return publish_reports(w, m, gv, mode_refused);
}

/* Handle one order message and record it in the ledger once done; `m` is destroyed.
 * @returns 0 or -1 (fatal). */
static int take(te_broker_worker_t *w, rd_kafka_message_t *m)
{
        int r = on_order(w, m);
        if (r == 0) { /* finished: its reports are queued up to sent_seq */
                const char *new_id =
                    w->decoded && w->cmd.command == TE_CMD_NEW ? w->cmd.order_id : NULL;
                if (te_ledger_record(w->ledger, m->partition, m->offset, new_id,
                                     &w->reports,
                                     te_producer_sent_seq(w->producer)) != 0) {
                        TE_LOG(TE_LOG_ERROR, NULL, "broker.ledger",
                               "cannot record %s[%d] offset %lld",
                               rd_kafka_topic_name(m->rkt), (int)m->partition,
                               (long long)m->offset);
                        r = -1;
                }
                w->dirty = 1;
        }
        rd_kafka_message_destroy(m);
        return r < 0 ? -1 : 0;
}

/* Reports the adapter produced on its own (live brokers: fills, cancels, rejects).
 * @returns how many were published, or -1 on a fatal error. */
static int publish_polled(te_broker_worker_t *w)
{
        te_reports_clear(&w->reports);
        if (w->broker->ops->poll(w->broker, &w->reports) != TE_BROKER_OK) {
                TE_LOG(TE_LOG_ERROR, NULL, "broker.adapter_error", "poll failed");
                return -1;
        }
        for (size_t i = 0; i < w->reports.n; i++) {
                te_exec_report_t *r = &w->reports.items[i];
                if (send_report(w, r) != 0)
                        return -1;
                if (r->exec_type == TE_EXEC_REJECTED)
                        te_emitter_alert(&w->emit, TE_SEV_WARNING, "order_rejected",
                                         r->ids.decision_id, r->ids.portfolio_id,
                                         r->order_id, "%s", r->reason);
                te_obs_report_sent(r, NULL, 0);
        }
        w->n.reports += w->reports.n;
        return (int)w->reports.n;
}

/* Commit the offsets of the orders whose reports are all delivered (order_ledger.h). An
 * adapter that must learn when its reports are delivered (ops->delivered: the ibkr
 * adapter records IB's executions as delivered) and the final commit flush first, so
 * that everything is delivered. A failed delivery is fatal, as it was for the flush:
 * the offsets never move past it, and a restart reads those orders again.
 * @returns 0 or -1 (fatal). */
static int commit(te_broker_worker_t *w, int final)
{
        char errstr[256];
        uint64_t delivered;
        if (final || w->broker->ops->delivered) {
                if (te_producer_flush(w->producer, 30000, errstr, sizeof errstr) != 0) {
                        TE_LOG(TE_LOG_ERROR, NULL, "broker.flush", "%s", errstr);
                        return -1;
                }
                if (w->broker->ops->delivered) /* every report so far is delivered */
                        w->broker->ops->delivered(w->broker);
                delivered = UINT64_MAX;
        } else { /* delivery reports: served by the loop's te_producer_poll */
                delivered = te_producer_delivered_seq(w->producer);
        }
        uint64_t failed = te_producer_failed(w->producer);
        if (failed != 0) { /* the first one already stops the worker */
                TE_LOG(TE_LOG_ERROR, NULL, "broker.delivery",
                       "%llu report deliveries failed: orders not committed",
                       (unsigned long long)failed);
                return -1;
        }
        return te_ledger_commit(w->ledger, w->consumer, delivered);
}

int te_broker_worker_poll(te_broker_worker_t *w, int timeout_ms)
{
        if (watch_broker(w) != 0)
                return -1;
        /* with a CLOCK_ACK queued, look for more orders without waiting; when none
         * is there, the ACK and the reports before it go out at once (linger.ms
         * would only delay the planner's round trip) */
        int kick = w->kick && w->conf.clock_flush_ms > 0;
        rd_kafka_message_t *m = te_consumer_poll(w->consumer, kick ? 0 : timeout_ms);
        if (!m && kick) {
                w->kick = 0;
                te_producer_kick(w->producer, (int)w->conf.clock_flush_ms);
        }
        if (w->fatal) {
                if (m)
                        rd_kafka_message_destroy(m);
                return -1;
        }
        if (w->announce && te_consumer_assigned_count(w->consumer) > 0) {
                w->announce = 0; /* a failure is logged; the next change says it */
                (void)publish_state(
                    w, w->up,
                    w->up ? "assigned; taking orders" : "assigned; not taking orders", 0);
        }
        if (m && !w->up) { /* fetched before the pause: read it again later */
                put_back(w, m);
                rd_kafka_message_destroy(m);
                m = NULL;
        }
        if (m && take(w, m) != 0)
                return -1;
        int np = publish_polled(w);
        if (np < 0)
                return -1;
        if (np > 0) {
                w->dirty = 1;
                if (te_ledger_settle(w->ledger, &w->reports,
                                     te_producer_sent_seq(w->producer)) != 0)
                        return -1;
        }
        te_producer_poll(w->producer, 0);
        int64_t now = te_proc_mono_ms();
        if (w->dirty && now - w->last_commit >= w->conf.commit_interval_ms) {
                if (commit(w, 0) != 0)
                        return -1;
                w->dirty = te_ledger_pending(w->ledger);
                w->last_commit = now;
        }
        return 0;
}

int te_broker_worker_run(te_broker_worker_t *w)
{
        int rc = 0;
        while (!te_proc_stop && rc == 0)
                rc = te_broker_worker_poll(w, 50);
        if (rc == 0 && w->dirty && commit(w, 1) != 0)
                rc = -1;
        te_broker_worker_stats_t s;
        te_broker_worker_stats(w, &s);
        TE_LOG(TE_LOG_INFO, NULL, "broker.stop",
               "commands=%llu reports=%llu dead_lettered=%llu expired=%llu "
               "limit_rejects=%llu outages=%llu replayed=%llu resting=%zu",
               (unsigned long long)s.commands, (unsigned long long)s.reports,
               (unsigned long long)s.dead_lettered, (unsigned long long)s.expired,
               (unsigned long long)s.limit_rejects, (unsigned long long)s.outages,
               (unsigned long long)s.replayed, s.resting);
        return rc;
}

/* Alerts a live adapter raises (ibkr: REPLACE refused, position mismatch, commission
 * missing or late; fix: its own) go to exec.alerts like the worker's own. */
static void adapter_alert(void *ctx, te_severity_t sev, const char *code,
                          const char *decision_id, const char *portfolio_id,
                          const char *order_id, const char *message)
{
        te_broker_worker_t *w = ctx;
        if (w->producer)
                te_emitter_alert(&w->emit, sev, code, decision_id, portfolio_id, order_id,
                                 "%s", message);
}

/* The consumer, subscribed before the adapter is made: the group join (which the mock
 * cluster holds 3 s for a new group) then overlaps the simulator's bar loading. Its
 * rebalance callback runs only inside te_consumer_poll, once everything is in place.
 * @returns 0 or -1 with errstr. */
static int subscribe(te_broker_worker_t *w, const te_cfg_t *cfg, char *errstr,
                     size_t errsz)
{
        const char *topics[] = {w->conf.topic_orders};
        w->consumer = te_consumer_new(cfg, w->conf.common.bootstrap, w->conf.group_id,
                                      topics, 1, on_rebalance, w, errstr, errsz);
        return w->consumer ? 0 : -1;
}

/* Producer, guard and ledger around the adapter in place. @returns 0 or -1 with
 * errstr. */
static int start(te_broker_worker_t *w, const te_cfg_t *cfg, char *errstr, size_t errsz)
{
        w->producer = te_producer_new(cfg, w->conf.common.bootstrap, errstr, errsz);
        if (!w->producer)
                return -1;
        w->emit =
            (te_emitter_t){.producer = w->producer,
                           .codec = w->codec,
                           .topics = {w->conf.topic_deadletter, w->conf.topic_alerts},
                           .proc = PROC};
        te_guard_init(&w->guard, &w->conf.guard);
        w->ledger = te_ledger_new(w->conf.topic_orders, w->adapter.sim != NULL);
        if (!w->ledger) {
                snprintf(errstr, errsz, "out of memory");
                return -1;
        }
        /* a live adapter may still be connecting: take no orders until it is up */
        w->up = !w->broker->ops->connected || w->broker->ops->connected(w->broker);
        return 0;
}

te_broker_worker_t *te_broker_worker_new(const te_broker_worker_conf_t *conf,
                                         const te_cfg_t *cfg, te_adapter_t *adapter,
                                         int *bad_setting, char *errstr, size_t errsz)
{
        *bad_setting = 0;
        te_broker_worker_t *w = calloc(1, sizeof *w);
        if (w && adapter) { /* handed over, also on failure */
                w->adapter = *adapter;
                memset(adapter, 0, sizeof *adapter);
        }
        if (!w) {
                if (adapter)
                        te_adapter_term(adapter);
                snprintf(errstr, errsz, "out of memory");
                return NULL;
        }
        w->conf = *conf;
        te_buf_init(&w->buf, TE_CODEC_MAX_MESSAGE);
        w->codec = te_codec_new(errstr, errsz);
        if (!w->codec || subscribe(w, cfg, errstr, errsz) != 0)
                goto err;
        if (!adapter) {
                te_adapter_err_t aerr = te_adapter_make(&w->conf, adapter_alert, w,
                                                        &w->adapter, errstr, errsz);
                if (aerr != TE_ADAPTER_OK) {
                        *bad_setting = aerr == TE_ADAPTER_ERR_CONFIG;
                        goto err;
                }
        }
        w->broker = w->adapter.broker;
        w->name = w->adapter.name ? w->adapter.name : w->broker->ops->name;
        if (start(w, cfg, errstr, errsz) != 0)
                goto err;
        w->last_commit = te_proc_mono_ms();
        const te_bars_t *bars = w->adapter.bars;
        TE_LOG(TE_LOG_INFO, NULL, "broker.start",
               "adapter=%s bars=%zu tickers=%zu group=%s", w->name,
               bars ? te_bars_count(bars) : 0, bars ? te_bars_ticker_count(bars) : 0,
               w->conf.group_id);
        te_obs_msg_declare();
        te_obs_broker_up(w->name, 1);
        te_obs_ready("broker", 1);
        return w;
err:
        te_broker_worker_destroy(w);
        return NULL;
}

void te_broker_worker_destroy(te_broker_worker_t *w)
{
        if (!w)
                return;
        te_consumer_destroy(w->consumer);
        te_producer_destroy(w->producer);
        te_adapter_term(&w->adapter);
        te_ledger_destroy(w->ledger);
        te_reports_free(&w->reports);
        te_codec_destroy(w->codec);
        te_buf_free(&w->buf);
        free(w);
}

void te_broker_worker_stats(const te_broker_worker_t *w, te_broker_worker_stats_t *out)
{
        *out = w->n;
        out->resting = te_ledger_resting(w->ledger);
}
