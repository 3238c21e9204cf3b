/*
 * fuzz_alert: libFuzzer target for the Alert walker, reader and validator: the input
 * is an Avro body, framed with schema id 1005 (fuzz_framed.h). Seeds:
 * tests/fuzz/corpus/alert/.
 */
#define FZ_SCHEMA_ID 1005
#include "fuzz_framed.h"
