/*
 * te_kafka_seek: rd_kafka_seek_partitions() with its timeout honoured on every
 * librdkafka version we build against.
 *
 * librdkafka before 2.1.0 took that timeout as microseconds: a call asking for 10 s
 * waited 10 ms for the seeks to be served by the partitions' broker threads, and on a
 * busy machine returned RD_KAFKA_RESP_ERR__TIMED_OUT while the seeks went on behind
 * it. A caller that took the error at its word (the position unchanged) was wrong
 * either way. This wrapper scales the timeout for those versions.
 */
#ifndef TE_KAFKA_SEEK_H
#define TE_KAFKA_SEEK_H

#include <librdkafka/rdkafka.h>

/** The value to pass to rd_kafka_seek_partitions() for a wait of `timeout_ms` with the
 *  librdkafka version `version` (rd_kafka_version()): -1 and 0 as they are. */
int te_kafka_seek_timeout_arg(int version, int timeout_ms);

/** Seek every partition of `l` to its .offset, waiting up to `timeout_ms` (-1: until
 *  done) for the seeks to take effect. Per-partition errors are in l->elems[i].err.
 *  @returns NULL, or an error the caller must destroy (timed out: the seeks not yet
 *  served still happen). */
rd_kafka_error_t *te_kafka_seek_partitions(rd_kafka_t *rk,
                                           rd_kafka_topic_partition_list_t *l,
                                           int timeout_ms);

#endif
