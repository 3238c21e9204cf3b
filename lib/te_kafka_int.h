/*
 * te_kafka_int.h: what te_kafka_conf.c, te_kafka_producer.c and te_kafka_consumer.c
 * share and no other module uses.
 */
#ifndef TE_KAFKA_INT_H
#define TE_KAFKA_INT_H

#include <stddef.h>
#include <stdint.h>
#include <librdkafka/rdkafka.h>

#include "te_kafka.h"

/** rd_kafka_conf_set, its error as "kafka property NAME: why". @returns 0 or -1. */
int te_kafka_conf_set(rd_kafka_conf_t *conf, const char *name, const char *value,
                      char *errstr, size_t errsz);
/** @returns 1 and the offset librdkafka reset from if an offset reset is pending for
 *  rk/topic/partition (and forgets it), else 0 (te_kafka_conf.c records them from
 *  librdkafka's log). */
int te_kafka_take_gap(const rd_kafka_t *rk, const char *topic, int32_t partition,
                      int64_t *offset);

/** The counting hooks te_kafka_set_counters installed (NULL: none). */
extern const te_kafka_counters_t *te_kafka_counters;

/* the counting hooks, each a no-op when not installed */
#define TE_KAFKA_COUNT(hook, ...)                                                        \
        do {                                                                             \
                if (te_kafka_counters && te_kafka_counters->hook)                        \
                        te_kafka_counters->hook(__VA_ARGS__);                            \
        } while (0)

#endif
