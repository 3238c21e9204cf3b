/*
 * test_partition: te_kafka_partition_of, the partition every producer of exec.targets
 * must put a portfolio on, against reference values computed apart from librdkafka:
 * tests/unit/data/murmur2_ref.py writes out the Kafka Java client's default partitioner
 * in Python (it also reproduces the hashes the Java client's own tests list for "21"
 * and "foobar"). And the reason the planner checks it: librdkafka's default
 * partitioner (consistent_random, CRC32) puts some of the same keys elsewhere.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <librdkafka/rdkafka.h>

#include "te_kafka.h"

#define N_COUNTS 7
static const int32_t counts[N_COUNTS] = {1, 2, 3, 4, 7, 12, 64};

/* key, Java murmur2 hash (signed), partition for each of counts[] — the output of
 * tests/unit/data/murmur2_ref.py */
static const struct {
        const char *key;
        int32_t hash;
        int32_t part[N_COUNTS];
} ref[] = {
    {"pf-1", 935342921, {0, 1, 2, 1, 2, 5, 9}},
    {"pf-2", 1917732445, {0, 1, 1, 1, 6, 1, 29}},
    {"pf-3", 389392046, {0, 0, 2, 2, 1, 2, 46}},
    {"pf-4", 6860555, {0, 1, 2, 3, 2, 11, 11}},
    {"pf-5", 1283482464, {0, 0, 0, 0, 5, 0, 32}},
    {"pf-6", -1712209162, {0, 0, 1, 2, 3, 10, 54}},
    {"pf-7", -1649268619, {0, 1, 1, 1, 4, 1, 53}},
    {"pf-8", 1696241019, {0, 1, 0, 3, 4, 3, 59}},
    {"PF_GLOBAL_MACRO", 836191753, {0, 1, 1, 1, 5, 1, 9}},
    {"21", -973932308, {0, 0, 0, 0, 3, 0, 44}},
    {"foobar", -790332482, {0, 0, 0, 2, 0, 6, 62}},
    {"a-little-bit-long-string", -985981536, {0, 0, 2, 0, 1, 8, 32}},
    {"\xc3\xa9-portfolio", -934682197, {0, 1, 1, 3, 1, 7, 43}},
    {"x", 2121525046, {0, 0, 1, 2, 4, 10, 54}},
};
#define N_REF (sizeof ref / sizeof ref[0])

static void test_partition_matches_java_reference(void **state)
{
        (void)state;
        for (size_t i = 0; i < N_REF; i++) {
                size_t len = strlen(ref[i].key);
                for (int c = 0; c < N_COUNTS; c++) {
                        int32_t got = te_kafka_partition_of(ref[i].key, len, counts[c]);
                        if (got != ref[i].part[c]) {
                                print_error("%s mod %d: got %d, reference %d\n",
                                            ref[i].key, (int)counts[c], (int)got,
                                            (int)ref[i].part[c]);
                                fail();
                        }
                }
                /* the positive mask: a negative hash still gives hash&0x7fffffff % n */
                uint32_t masked = (uint32_t)ref[i].hash & 0x7fffffffu;
                assert_int_equal(te_kafka_partition_of(ref[i].key, len, 1000),
                                 (int32_t)(masked % 1000u));
        }
}

static void test_partition_bad_arguments(void **state)
{
        (void)state;
        assert_int_equal(te_kafka_partition_of("pf-1", 4, 0), -1);
        assert_int_equal(te_kafka_partition_of("pf-1", 4, -3), -1);
        assert_int_equal(te_kafka_partition_of(NULL, 0, 4), -1);
}

/* librdkafka's default partitioner disagrees on some of the reference keys: a
 * producer left on it puts those portfolios on another partition. */
static void test_partition_default_partitioner_differs(void **state)
{
        (void)state;
        int differ = 0;
        for (size_t i = 0; i < N_REF; i++) {
                size_t len = strlen(ref[i].key);
                int32_t crc = rd_kafka_msg_partitioner_consistent_random(
                    NULL, ref[i].key, len, 4, NULL, NULL);
                differ += crc != te_kafka_partition_of(ref[i].key, len, 4);
        }
        assert_true(differ > 0);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_partition_matches_java_reference),
            cmocka_unit_test(test_partition_bad_arguments),
            cmocka_unit_test(test_partition_default_partitioner_differs),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
