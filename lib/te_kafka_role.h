/*
 * te_kafka_role: which kind of client a librdkafka property is for.
 *
 * Every process takes one set of kafka.* keys (te_config) for its producer and its
 * consumers alike, so a consumer's fetch.wait.max.ms reaches the producer and the
 * producer's linger.ms the consumer; librdkafka ignores such a property and logs a
 * CONFWARN line for each. The roles come from librdkafka's own property table
 * (rd_kafka_conf_properties_show: C, P or * per global and topic property), read once.
 */
#ifndef TE_KAFKA_ROLE_H
#define TE_KAFKA_ROLE_H

#include <librdkafka/rdkafka.h>

typedef enum {
        TE_KAFKA_ROLE_ANY = 0, /* both kinds, or not in librdkafka's table */
        TE_KAFKA_ROLE_CONSUMER,
        TE_KAFKA_ROLE_PRODUCER,
} te_kafka_role_t;

/** The role of property `name` (as set with rd_kafka_conf_set). Thread-safe. */
te_kafka_role_t te_kafka_prop_role(const char *name);

/** @returns 1 if a handle of `type` ignores property `name` (it is documented for the
 *  other kind of client only), else 0. */
int te_kafka_prop_ignored_by(const char *name, rd_kafka_type_t type);

#endif
