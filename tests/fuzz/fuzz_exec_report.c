/*
 * fuzz_exec_report: libFuzzer target for the ExecutionReport walker, reader and
 * validator: the input is an Avro body, framed with schema id 1004 (fuzz_framed.h).
 * Seeds: tests/fuzz/corpus/exec_report/.
 */
#define FZ_SCHEMA_ID 1004
#include "fuzz_framed.h"
