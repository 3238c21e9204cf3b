/*
 * fuzz_target_portfolio: libFuzzer target for the TargetPortfolio walker, reader and
 * validator: the input is an Avro body, framed with schema id 1001 (fuzz_framed.h).
 * Seeds: tests/fuzz/corpus/target_portfolio/.
 */
#define FZ_SCHEMA_ID 1001
#include "fuzz_framed.h"
