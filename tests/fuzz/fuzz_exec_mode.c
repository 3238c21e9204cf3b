/*
 * fuzz_exec_mode: libFuzzer target for the ExecutionMode walker, reader and validator:
 * the input is an Avro body, framed with schema id 1002 (fuzz_framed.h). Seeds:
 * tests/fuzz/corpus/exec_mode/.
 */
#define FZ_SCHEMA_ID 1002
#include "fuzz_framed.h"
