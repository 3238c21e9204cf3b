/*
 * fuzz_json_in: libFuzzer target for the publisher's JSON parser (producers/
 * msg_json_in.c), the one parser of outside text in the service.
 *
 * Every input is parsed as a TargetPortfolio line, as an ExecutionMode line and as a
 * time string. The target traps when a parse that succeeded produced a message the
 * codec's validation refuses (the parser let an invalid value through: NaN, a too long
 * string, an empty id, a bad time), and ASan/UBSan catch any out-of-bounds read or
 * undefined behaviour on the way. The parser reuses the targets array between inputs,
 * as the publisher does. The parser source is compiled in (as fuzz_codec does with the
 * codec) so that libFuzzer sees its coverage. Seeds: tests/fuzz/corpus/json_in/.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../producers/msg_json_in.c"
#include "te_buf.h"
#include "te_codec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
const char *__lsan_default_suppressions(void);

/* see fuzz_codec.c: avro-c's unaligned generic records hide pointers from LSan */
const char *__lsan_default_suppressions(void)
{
        return "leak:libavro.so\n";
}

static te_target_portfolio_t fz_tp;
static te_exec_mode_t fz_mode;
static te_codec_t *fz_codec;
static te_buf_t fz_out;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        char err[512];
        if (!fz_codec) {
                fz_codec = te_codec_new(err, sizeof err);
                if (!fz_codec)
                        abort();
                te_buf_init(&fz_out, TE_CODEC_MAX_MESSAGE);
        }
        if (size > 1u << 20)
                return 0;
        const char *s = (const char *)data;
        if (te_json_in_target_portfolio(s, size, &fz_tp, err, sizeof err) == 0 &&
            te_codec_encode_target_portfolio(fz_codec, &fz_tp, &fz_out, err,
                                             sizeof err) != TE_CODEC_OK) {
                fprintf(stderr, "parsed target refused by the codec: %s\n", err);
                abort();
        }
        memset(&fz_mode, 0, sizeof fz_mode);
        if (te_json_in_exec_mode(s, size, &fz_mode, err, sizeof err) == 0 &&
            te_codec_encode_exec_mode(fz_codec, &fz_mode, &fz_out, err, sizeof err) !=
                TE_CODEC_OK) {
                fprintf(stderr, "parsed mode refused by the codec: %s\n", err);
                abort();
        }
        char t[64];
        if (size < sizeof t) {
                int64_t ms;
                memcpy(t, data, size);
                t[size] = '\0';
                if (te_json_in_parse_time(t, &ms) == 0 &&
                    (ms < 0 || ms > 253402300799999LL)) {
                        fprintf(stderr, "time %s parsed to %lld\n", t, (long long)ms);
                        abort();
                }
        }
        return 0;
}
