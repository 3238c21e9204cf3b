/*
 * te_kafka_meta: what the cluster knows about a topic, asked the same way by every
 * process and tool (partition count, a group's committed offsets, watermarks), and a
 * consumer outside any subscription that reads a set of partitions up to the end they
 * had when it started.
 *
 * Every call takes the handle to ask through and a timeout, and returns 0 (or a count)
 * or -1 with errstr.
 */
#ifndef TE_KAFKA_META_H
#define TE_KAFKA_META_H

#include <stddef.h>
#include <stdint.h>
#include <librdkafka/rdkafka.h>

#include "te_config.h"

/** te_kafka_partition_count flag: ask for the topic by name instead of for every
 *  topic. That also loads it into the handle's metadata cache (a producer's first send
 *  to it does not wait for metadata), but a cluster with auto-creation on creates a
 *  missing topic when a producer asks (the mock cluster also when a consumer asks). */
#define TE_KAFKA_META_BY_NAME 1u

/** The number of partitions of `topic`, from the metadata of every topic (which
 *  creates none) unless `flags` has TE_KAFKA_META_BY_NAME.
 *  @returns 0 with *n >= 1, or -1 with errstr: "topic T does not exist", the topic's
 *  own error, or the request's (e.g. a timeout). */
int te_kafka_partition_count(rd_kafka_t *rk, const char *topic, unsigned flags,
                             int timeout_ms, int32_t *n, char *errstr, size_t errsz);

/** The offsets the group of `rk` (its group.id) committed on `topic`: for partitions
 *  parts[0..n-1] (parts NULL: partitions 0..n-1), off[i] is the committed offset, or
 *  -1 where the group committed nothing.
 *  @returns how many of the n have a committed offset, or -1 with errstr. */
int te_kafka_committed(rd_kafka_t *rk, const char *topic, const int32_t *parts, int n,
                       int timeout_ms, int64_t *off, char *errstr, size_t errsz);

/** The low and high watermarks of `topic`'s partitions parts[0..n-1] (parts NULL:
 *  partitions 0..n-1), asked from their leaders, into lo[i] and hi[i] (either may be
 *  NULL). @returns 0, or -1 with errstr naming the partition that failed. */
int te_kafka_watermarks(rd_kafka_t *rk, const char *topic, const int32_t *parts, int n,
                        int timeout_ms, int64_t *lo, int64_t *hi, char *errstr,
                        size_t errsz);

/** A consumer in `group` that never subscribes: its partitions are assigned by hand
 *  (te_kafka_read_to_end, rd_kafka_assign); it commits and stores nothing by itself
 *  and sees no partition-EOF events. Properties from the config's
 *  kafka.* keys apply (consumer ones only, as te_kafka_conf_build_for). Free it with
 *  rd_kafka_consumer_close and rd_kafka_destroy. @returns NULL with errstr. */
rd_kafka_t *te_kafka_aux_consumer(const te_cfg_t *cfg, const char *bootstrap,
                                  const char *group, char *errstr, size_t errsz);

/** What te_kafka_read_to_end hands each message to (the caller keeps no reference:
 *  it is destroyed afterwards). */
typedef void(te_kafka_msg_fn_t)(void *opaque, rd_kafka_message_t *m);

/** Assign `list` (topic, partition and start offset each: an offset, or
 *  RD_KAFKA_OFFSET_BEGINNING; below the low watermark counts from it) to `rk` (a
 *  te_kafka_aux_consumer) and read until every partition has reached the high
 *  watermark it had when the call began, handing each message to fn. Partitions
 *  already there are not waited for. The assignment stays in place.
 *  @returns 0, or -1 with errstr: a watermark that could not be read (each is given
 *  10 s), the assignment refused, or timeout_ms passed after the assignment (or
 *  te_proc_stop was set) before the end. */
int te_kafka_read_to_end(rd_kafka_t *rk, rd_kafka_topic_partition_list_t *list,
                         int timeout_ms, te_kafka_msg_fn_t *fn, void *opaque,
                         char *errstr, size_t errsz);

#endif
