/*
 * fuzz_framed.h: one libFuzzer target per message type (fuzz_<type>.c defines
 * FZ_SCHEMA_ID and includes this file). The input is the Avro body only; the target
 * prepends the Confluent framing of that type's schema id and runs every check of
 * fuzz_codec.c on it (both readers agree, check and decode agree, a decoded message
 * passes validation on encode and re-decodes to the same values). With the header
 * fixed, the fuzzer spends its time in that type's walker, reader and validator.
 * A target may define FZ_AFTER(buf, len) to run its own checks on the framed input
 * after the codec's.
 */
#ifndef FZ_SCHEMA_ID
#error "define FZ_SCHEMA_ID before including fuzz_framed.h"
#endif

#include <stdint.h>
#include <stdlib.h>

#ifndef FZ_AFTER
#define FZ_AFTER(buf, len) ((void)0)
#endif
#include <string.h>

#define LLVMFuzzerTestOneInput fz_codec_one
#include "fuzz_codec.c"
#undef LLVMFuzzerTestOneInput

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        static uint8_t *framed;
        static size_t cap;
        if (size > (1u << 20))
                return 0;
        if (cap < size + 5) {
                uint8_t *n = realloc(framed, size + 5);
                if (!n)
                        abort();
                framed = n;
                cap = size + 5;
        }
        framed[0] = 0;
        framed[1] = (uint8_t)(FZ_SCHEMA_ID >> 24);
        framed[2] = (uint8_t)(FZ_SCHEMA_ID >> 16);
        framed[3] = (uint8_t)(FZ_SCHEMA_ID >> 8);
        framed[4] = (uint8_t)FZ_SCHEMA_ID;
        if (size)
                memcpy(framed + 5, data, size);
        int rc = fz_codec_one(framed, size + 5);
        FZ_AFTER(framed, size + 5);
        return rc;
}
