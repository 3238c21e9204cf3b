/*
 * fuzz_order_cmd: libFuzzer target for the OrderCommand walker, reader and validator: the
 * input is an Avro body, framed with schema id 1003 (fuzz_framed.h). Seeds:
 * tests/fuzz/corpus/order_cmd/.
 */
#define FZ_SCHEMA_ID 1003
#include "fuzz_framed.h"
