/*
 * te_kafka_seek: rd_kafka_seek_partitions() with a timeout in milliseconds on every
 * librdkafka version (see te_kafka_seek.h for why).
 */
#include "te_kafka_seek.h"

#include <limits.h>

/* the first release whose seek timeout is in milliseconds, as rd_kafka_version() */
#define TE_RDK_SEEK_TIMEOUT_MS_SINCE 0x02010000

int te_kafka_seek_timeout_arg(int version, int timeout_ms)
{
        if (timeout_ms <= 0 || version >= TE_RDK_SEEK_TIMEOUT_MS_SINCE)
                return timeout_ms;
        /* read as microseconds: ask for a thousand times as many */
        return timeout_ms > INT_MAX / 1000 ? INT_MAX : timeout_ms * 1000;
}

rd_kafka_error_t *te_kafka_seek_partitions(rd_kafka_t *rk,
                                           rd_kafka_topic_partition_list_t *l,
                                           int timeout_ms)
{
        return rd_kafka_seek_partitions(
            rk, l, te_kafka_seek_timeout_arg(rd_kafka_version(), timeout_ms));
}
