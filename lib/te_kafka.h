/*
 * te_kafka: the producer wrapper and consumer loop every process uses.
 *
 * Producer: idempotent (enable.idempotence=true), Java-compatible partitioning
 * (partitioner=murmur2_random) so that a portfolio_id key lands on the same partition
 * number in every co-partitioned topic, whatever client produced it. Every delivery
 * report is checked; failures are counted and make the next flush fail, except for
 * side-channel messages (TE_SEND_SIDE: dead letters, alerts), whose failures are only
 * counted and reported (te_producer_take_lost).
 *
 * Consumer: a high-level consumer in a group with the range assignor, auto commit and
 * auto offset store off: the caller stores the offset of each message it has finished
 * (te_consumer_store) and commits (te_consumer_commit). On assignment a callback may
 * set a start offset per partition (the sink uses the offsets kept in PostgreSQL).
 *
 * Properties set from the config's kafka.* keys override our defaults, except the
 * ones listed as fixed in te_kafka_producer.c and te_kafka_consumer.c (idempotence,
 * partitioner, auto commit, offset store, assignor). Configuration and the bootstrap
 * file are in te_kafka_conf.c; metadata, offsets and reading partitions to their end in
 * te_kafka_meta.h.
 */
#ifndef TE_KAFKA_H
#define TE_KAFKA_H

#include <stddef.h>
#include <stdint.h>
#include <librdkafka/rdkafka.h>

#include "te_config.h"

/** If `path` is non-empty, wait until the file exists and holds a bootstrap list
 *  (the dev stack writes it once its cluster is up), then copy it to `out`.
 *  @returns 0, or -1 with errstr if it did not appear within timeout_ms. */
int te_kafka_wait_bootstrap_file(const char *path, int timeout_ms, char *out,
                                 size_t outsz, char *errstr, size_t errsz);

/** Statistics hook (metrics, te_obs.h): called with librdkafka's statistics JSON on
 *  the thread that polls the handle. */
typedef void(te_kafka_stats_hook_t)(rd_kafka_t *rk, const char *json, size_t len);
/** Install (NULL: remove) the process-wide hook. Handles built afterwards by
 *  te_kafka_conf_build emit statistics every interval_ms (a kafka.statistics.interval.ms
 *  key overrides it). Call before creating handles. */
void te_kafka_set_stats_hook(te_kafka_stats_hook_t *hook, int interval_ms);

/** Counting hooks (metrics, te_obs.h installs them): each member may be NULL.
 *  consumed: a message handed to the application (te_consumer_poll); produced: a
 *  delivery report, ok 1 when delivered; stopped: a consumer paused a partition it
 *  cannot read on from (retention gap, stored offset beyond the high watermark). Called
 *  on the thread that polls the handle. */
typedef struct te_kafka_counters_s {
        void (*consumed)(const char *topic);
        void (*produced)(const char *topic, int ok);
        void (*stopped)(void);
} te_kafka_counters_t;
/** Install (NULL: remove) the process-wide counting hooks; `c` must outlive the
 *  handles. Call before creating handles. */
void te_kafka_set_counters(const te_kafka_counters_t *c);

/** Build an rd_kafka_conf_t from the config's kafka.* keys on top of `defaults`
 *  (NULL-terminated name/value pairs) and then `fixed` (pairs that always win).
 *  `bootstrap` (may be NULL) sets bootstrap.servers unless a kafka.* key did.
 *  @returns the conf, or NULL with errstr naming the property. Caller owns it. */
rd_kafka_conf_t *te_kafka_conf_build(const te_cfg_t *cfg, const char *bootstrap,
                                     const char *const *defaults,
                                     const char *const *fixed, char *errstr,
                                     size_t errsz);
/** te_kafka_conf_build for a handle of `type`: kafka.* keys that librdkafka documents
 *  for the other kind of client only (a consumer's fetch.wait.max.ms on a producer, a
 *  producer's linger.ms on a consumer) are left out, instead of being ignored by
 *  librdkafka with a CONFWARN log line each (te_kafka_role.h). te_producer_new and
 *  te_consumer_new use it. */
rd_kafka_conf_t *te_kafka_conf_build_for(rd_kafka_type_t type, const te_cfg_t *cfg,
                                         const char *bootstrap,
                                         const char *const *defaults,
                                         const char *const *fixed, char *errstr,
                                         size_t errsz);

/** The partition a producer with the Java client's default partitioner (murmur2 of
 *  the key, positive mask, modulo the partition count) puts `key` on: the one every
 *  producer of a co-partitioned topic must use. @returns it, or -1 if n_partitions <= 0
 *  or key is NULL. */
int32_t te_kafka_partition_of(const void *key, size_t keylen, int32_t n_partitions);

typedef struct te_kafka_header_s {
        const char *name;
        const void *value;
        size_t len;
} te_kafka_header_t;

typedef struct te_producer_s te_producer_t;

/** Create an idempotent producer. @returns NULL with errstr on failure. */
te_producer_t *te_producer_new(const te_cfg_t *cfg, const char *bootstrap, char *errstr,
                               size_t errsz);
/** Send a copy of key/value (with optional headers) to `topic`, partition chosen by key.
 *  Serves delivery reports every 64 sends (poll in the caller's loop too); waits
 *  (serving them) while the local queue is full, up to 30 s.
 *  @returns 0, or -1 with errstr (the message was not queued). */
int te_producer_send(te_producer_t *p, const char *topic, const void *key, size_t keylen,
                     const void *value, size_t vallen, const te_kafka_header_t *hdrs,
                     size_t n_hdrs, char *errstr, size_t errsz);
/** te_producer_send to an explicit `partition` of `topic` (RD_KAFKA_PARTITION_UA: by
 *  key, as te_producer_send). */
int te_producer_send_to(te_producer_t *p, const char *topic, int32_t partition,
                        const void *key, size_t keylen, const void *value, size_t vallen,
                        const te_kafka_header_t *hdrs, size_t n_hdrs, char *errstr,
                        size_t errsz);
/** te_producer_send flags. TE_SEND_SIDE: a side-channel message (a dead letter, an
 *  alert, te_emit.h). It takes a sequence number like any other, but a failed delivery
 *  of it does not stop te_producer_delivered_seq, is not counted by te_producer_failed
 *  and does not fail te_producer_flush: it is counted by te_producer_side_failed and
 *  kept for te_producer_take_lost, so the caller raises an alert and moves on instead
 *  of stopping on a message it cannot deliver. */
#define TE_SEND_SIDE 1u
/** te_producer_send_to with `flags` (TE_SEND_*); `errp` (may be NULL) gets librdkafka's
 *  error when the message was not queued (RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE: above
 *  te_producer_max_message). */
int te_producer_send_ex(te_producer_t *p, const char *topic, int32_t partition,
                        const void *key, size_t keylen, const void *value, size_t vallen,
                        const te_kafka_header_t *hdrs, size_t n_hdrs, unsigned flags,
                        rd_kafka_resp_err_t *errp, char *errstr, size_t errsz);
/** The producer's message.max.bytes: the largest key + value + headers (plus a record's
 *  framing) it queues. */
size_t te_producer_max_message(const te_producer_t *p);
/** Side-channel deliveries that failed since creation (TE_SEND_SIDE). */
uint64_t te_producer_side_failed(const te_producer_t *p);
/** A side-channel message whose delivery failed: its destination, the error, and the
 *  te.source.topic/partition/offset headers it carried (empty/-1 when absent). */
typedef struct te_kafka_lost_s {
        char dst[128];
        char error[128];
        char src_topic[128];
        int32_t src_partition;
        int64_t src_offset;
} te_kafka_lost_t;
/** Take the oldest side-channel failure not taken yet (up to 64 are kept; more are only
 *  counted and logged). @returns 1 with *out, or 0 if none. */
int te_producer_take_lost(te_producer_t *p, te_kafka_lost_t *out);
/** Serve delivery reports. */
void te_producer_poll(te_producer_t *p, int timeout_ms);
/** The caller's batch is complete and it now waits for an answer to it (a CLOCK and its
 *  CLOCK_ACK): send what is queued at once instead of after linger.ms, and wait at most
 *  `timeout_ms` for its delivery, serving delivery reports meanwhile. Nothing happens
 *  when nothing was sent since the previous kick or when timeout_ms <= 0. A timeout is
 *  not an error: what is still queued goes out as usual and failures are reported as
 *  usual (te_producer_failed, te_producer_flush). */
void te_producer_kick(te_producer_t *p, int timeout_ms);
/** Wait until everything queued is delivered. @returns 0, or -1 if the timeout passed or
 *  any delivery failed since the previous flush (errstr says which and how many). */
int te_producer_flush(te_producer_t *p, int timeout_ms, char *errstr, size_t errsz);
/** Delivery sequence: every message te_producer_send queues gets the next number,
 *  from 1. @returns the number of the last message queued (0: none yet). */
uint64_t te_producer_sent_seq(te_producer_t *p);
/** @returns the highest n such that every message numbered 1..n has a successful
 *  delivery report (delivery reports are served by te_producer_poll/send/flush). A
 *  failed delivery stops it there for good (te_producer_failed counts it), so a caller
 *  that waits for n to pass its messages never takes a lost message as delivered. */
uint64_t te_producer_delivered_seq(te_producer_t *p);
/** Called with every successfully delivered message (its topic, partition and offset)
 *  and its sequence number, on the thread that serves delivery reports. */
typedef void(te_delivery_hook_t)(void *opaque, const rd_kafka_message_t *m, uint64_t seq);
/** Install (NULL: remove) the delivery hook. */
void te_producer_set_delivery_hook(te_producer_t *p, te_delivery_hook_t *hook,
                                   void *opaque);
/** Counters: messages delivered and failed since creation. */
uint64_t te_producer_delivered(const te_producer_t *p);
uint64_t te_producer_failed(const te_producer_t *p);
rd_kafka_t *te_producer_handle(te_producer_t *p);
/** Flush (10 s) and destroy. Accepts NULL. */
void te_producer_destroy(te_producer_t *p);

typedef struct te_consumer_s te_consumer_t;

/** Called on every rebalance before the assignment takes effect. On assign
 *  (`assigned`=1) the callback may set parts->elems[i].offset to where consumption of
 *  that partition must start (RD_KAFKA_OFFSET_INVALID keeps the committed offset).
 *  On revoke (`assigned`=0) the consumer has already committed what was stored. */
typedef void(te_rebalance_cb_t)(te_consumer_t *c, rd_kafka_topic_partition_list_t *parts,
                                int assigned, void *opaque);

/** Create a consumer in `group_id` subscribed to `topics`. `cb` may be NULL.
 *  @returns NULL with errstr on failure. */
te_consumer_t *te_consumer_new(const te_cfg_t *cfg, const char *bootstrap,
                               const char *group_id, const char *const *topics,
                               size_t n_topics, te_rebalance_cb_t *cb, void *opaque,
                               char *errstr, size_t errsz);
/** Called when a partition's fetch offset fell out of the topic's retention (offset out
 *  of range). The partition is already paused (it stays paused until the operator
 *  moves its stored offset); `lost` = low watermark - offset, or -1 if unknown.
 *  Also called, with offset > high and lost -1, for a start offset the rebalance
 *  callback set beyond the partition's high watermark (the cluster lost the data it
 *  refers to): that partition is left out of the assignment, never reset. Either way
 *  the process's readiness check "offsets" turns 0 (te_obs.h). */
typedef void(te_gap_cb_t)(te_consumer_t *c, const char *topic, int32_t partition,
                          int64_t offset, int64_t low, int64_t high, int64_t lost,
                          void *opaque);
/** Set the retention-gap callback (NULL: log only). */
void te_consumer_set_gap_cb(te_consumer_t *c, te_gap_cb_t *cb, void *opaque);
/** Poll for the next message. @returns a message the caller must destroy with
 *  rd_kafka_message_destroy(), or NULL on timeout. Errors (other than partition EOF)
 *  are logged and returned as NULL; an offset out of range (retention dropped
 *  unconsumed messages) pauses the partition and calls the gap callback. */
rd_kafka_message_t *te_consumer_poll(te_consumer_t *c, int timeout_ms);
/** Mark `m` done: its offset+1 will be committed by the next commit. */
void te_consumer_store(te_consumer_t *c, const rd_kafka_message_t *m);
/** Commit stored offsets (sync if `sync`). @returns 0 (also when nothing to commit) or
 * -1. */
int te_consumer_commit(te_consumer_t *c, int sync);
/** Current assignment size. */
int te_consumer_assigned_count(te_consumer_t *c);
rd_kafka_t *te_consumer_handle(te_consumer_t *c);
/** Commit stored offsets, leave the group, destroy. Accepts NULL. */
void te_consumer_destroy(te_consumer_t *c);

#endif
