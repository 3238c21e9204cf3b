/*
 * fuzz_codec: libFuzzer target for te_codec.
 *
 * Every input goes through te_codec_check and all five decoders, each with both readers
 * of the codec (the direct reader and avro-c's generic reader). The target traps when
 * the two readers disagree, when a decoder reports INTERNAL (the walk let through bytes
 * a reader could not read), when check and decode disagree about well-formedness, or
 * when a decoded message cannot be encoded again (a decode returned values the
 * validation would refuse). Each decoded message is re-encoded by both writers (the
 * direct writer and avro-c's generic writer), which must give the same bytes; and the
 * input's bytes, taken as the struct of each type (any values, mostly invalid), are
 * encoded by both writers, which must give the same bytes or the same refusal with the
 * same errstr. Seeds: tests/fuzz/corpus/codec/.
 *
 * The codec sources are compiled into this target so that libFuzzer sees their
 * coverage (the libraries are built without -fsanitize=fuzzer-no-link); the linker
 * then takes no codec object from the archive.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../schemas/avro_walk.c"
#include "../../schemas/te_codec.c"
#include "../../schemas/te_codec_decode.c"
#include "../../schemas/te_codec_encode.c"
#include "../../schemas/te_codec_fields.c"
#include "../../schemas/te_codec_valid.c"
#include "../../schemas/te_msg.c"
#include "../codec_msg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
const char *__lsan_default_suppressions(void);

/* avro-c's generic records pack their fields without alignment, so the string buffers
 * of a field after an enum sit behind misaligned pointers that LeakSanitizer cannot
 * see: the buffers the codecs keep between inputs would be reported as leaks. They are
 * freed by te_codec_destroy (the unit tests check that under valgrind and ASan). */
const char *__lsan_default_suppressions(void)
{
        return "leak:libavro.so\n";
}

static te_codec_t *fz_codec[2]; /* [0] direct reader and writer, [1] avro-c's */
static te_buf_t fz_out, fz_out2;

static void fz_die(const char *what, te_msg_type_t t, te_codec_err_t a, te_codec_err_t b,
                   const char *err)
{
        fprintf(stderr, "fuzz_codec: %s: type %s: %s / %s: %s\n", what,
                te_codec_type_name(t), te_codec_err_name(a), te_codec_err_name(b), err);
        abort();
}

/* The input's bytes as a struct of type t (a TargetPortfolio's targets from the bytes
 * after the struct): both writers must agree on whatever values they hold. */
static void fz_encode_raw(te_msg_type_t t, const uint8_t *data, size_t size)
{
        static te_target_t tg[64];
        char err[256], why[600];
        size_t sz = t == TE_MSG_TARGET_PORTFOLIO   ? sizeof(te_target_portfolio_t)
                    : t == TE_MSG_EXECUTION_MODE   ? sizeof(te_exec_mode_t)
                    : t == TE_MSG_ORDER_COMMAND    ? sizeof(te_order_cmd_t)
                    : t == TE_MSG_EXECUTION_REPORT ? sizeof(te_exec_report_t)
                                                   : sizeof(te_alert_t);
        size_t n = size < sz ? size : sz;
        te_codec_err_t re;
        msg_u m;
        memset(&m, 0, sizeof m);
        if (n)
                memcpy(&m, data, n);
        if (t == TE_MSG_TARGET_PORTFOLIO) {
                size_t cnt = (size - n) / sizeof tg[0];
                if (cnt > sizeof tg / sizeof tg[0])
                        cnt = sizeof tg / sizeof tg[0];
                if (cnt)
                        memcpy(tg, data + n, cnt * sizeof tg[0]);
                m.tp.targets = cnt ? tg : NULL;
                m.tp.n_targets = m.tp.cap_targets = cnt;
        }
        if (msg_encode_both(fz_codec[0], fz_codec[1], t, &m, &fz_out, &fz_out2, &re, err,
                            sizeof err, why, sizeof why))
                fz_die("writers disagree on raw values", t, re, re, why);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        char err[256], err2[256];
        if (!fz_codec[0]) {
                for (int i = 0; i < 2; i++) {
                        fz_codec[i] = te_codec_new(err, sizeof err);
                        if (!fz_codec[i]) {
                                fprintf(stderr, "fuzz_codec: te_codec_new: %s\n", err);
                                abort();
                        }
                }
                te_codec_use_avro_reader(fz_codec[1], 1);
                te_codec_use_avro_writer(fz_codec[1], 1);
                te_buf_init(&fz_out, TE_CODEC_MAX_MESSAGE);
                te_buf_init(&fz_out2, TE_CODEC_MAX_MESSAGE);
        }
        te_msg_type_t ct = TE_MSG__CNT;
        te_codec_err_t crc =
            te_codec_check(fz_codec[0], data, size, &ct, err, sizeof err);
        for (int ti = 0; ti < TE_MSG__CNT; ti++) {
                te_msg_type_t t = (te_msg_type_t)ti;
                msg_u a, b;
                memset(&a, 0, sizeof a);
                memset(&b, 0, sizeof b);
                te_codec_err_t ra =
                    msg_decode(fz_codec[0], t, data, size, &a, err, sizeof err);
                te_codec_err_t rb =
                    msg_decode(fz_codec[1], t, data, size, &b, err2, sizeof err2);
                if (ra != rb)
                        fz_die("readers disagree", t, ra, rb, err);
                if (ra == TE_CODEC_ERR_INTERNAL)
                        fz_die("internal error", t, ra, rb, err);
                if (ra == TE_CODEC_OK) {
                        if (!msg_equal(t, &a, &b))
                                fz_die("readers decode different values", t, ra, rb, err);
                        if (crc != TE_CODEC_OK || ct != t)
                                fz_die("check refuses what decode accepts", t, crc, ra,
                                       err);
                        te_codec_err_t re;
                        char why[600];
                        if (msg_encode_both(fz_codec[0], fz_codec[1], t, &a, &fz_out,
                                            &fz_out2, &re, err, sizeof err, why,
                                            sizeof why))
                                fz_die("writers disagree", t, re, ra, why);
                        if (re != TE_CODEC_OK)
                                fz_die("decoded message does not encode", t, re, ra, err);
                        /* and its encoding decodes to the same values */
                        msg_free(t, &b);
                        memset(&b, 0, sizeof b);
                        rb = msg_decode(fz_codec[0], t, fz_out.data, fz_out.len, &b, err2,
                                        sizeof err2);
                        if (rb != TE_CODEC_OK || !msg_equal(t, &a, &b))
                                fz_die("re-encoded message decodes differently", t, ra,
                                       rb, err2);
                        /* the consumers' value bounds: OK, or INVALID naming a field */
                        err2[0] = '\0';
                        te_codec_err_t rv =
                            te_codec_check_bounds(t, &a, err2, sizeof err2);
                        if (rv != TE_CODEC_OK &&
                            (rv != TE_CODEC_ERR_INVALID || !strstr(err2, "field '")))
                                fz_die("bounds check", t, rv, ra, err2);
                } else if (ra != TE_CODEC_ERR_INVALID && ra != TE_CODEC_ERR_SCHEMA_ID &&
                           ra != crc) {
                        fz_die("check and decode disagree", t, crc, ra, err);
                }
                msg_free(t, &a);
                msg_free(t, &b);
                fz_encode_raw(t, data, size);
        }
        return 0;
}
