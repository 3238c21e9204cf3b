/*
 * fuzz_exec_mode: libFuzzer target for ExecutionMode. The input is an Avro body,
 * framed here with schema id 1002 (as fuzz_framed.h does), and goes through every
 * check of fuzz_codec.c. A message the codec accepts then goes through the planner's
 * own rule (exec_mode.h): te_exec_mode_check either accepts it or names a known reason
 * code with details, te_exec_mode_apply agrees with it (1 accepted, -1 refused), and a
 * refused message leaves the level of its scope and of "*" as they were. Seeds:
 * tests/fuzz/corpus/exec_mode/.
 *
 * exec_mode.c is compiled into the target so that libFuzzer sees its coverage.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* fuzz_framed.h frames the input, runs fuzz_codec.c's checks, then fz_mode_rules */
#define FZ_SCHEMA_ID 1002
static void fz_mode_rules(const uint8_t *buf, size_t len);
#define FZ_AFTER(buf, len) fz_mode_rules(buf, len)
#include "fuzz_framed.h"

#include "../../planner/exec_mode.c"

static void fz_mode_die(const char *what, const te_exec_mode_t *m, const char *code)
{
        fprintf(stderr, "fuzz_exec_mode: %s: scope \"%.63s\" level %d from %lld: %s\n",
                what, m->scope, (int)m->level, (long long)m->effective_from,
                code ? code : "(accepted)");
        abort();
}

static void fz_mode_rules(const uint8_t *framed, size_t len)
{
        static te_exec_mode_levels_t *levels;
        static te_exec_mode_t m;
        static unsigned n_inputs;
        char err[256], why[256];
        if (levels && ++n_inputs % 4096 == 0) { /* bound the table's growth */
                te_exec_mode_destroy(levels);
                levels = NULL;
        }
        if (!levels) {
                levels = te_exec_mode_new();
                if (!levels)
                        abort();
        }
        if (te_codec_decode_exec_mode(fz_codec[0], framed, len, &m, err, sizeof err) !=
            TE_CODEC_OK)
                return;
        te_level_t own = te_exec_mode_level(levels, m.scope),
                   all = te_exec_mode_level(levels, "*");
        why[0] = '\0';
        const char *code = te_exec_mode_check(&m, why, sizeof why);
        if (code && strcmp(code, "invalid_scope") != 0 &&
            strcmp(code, "invalid_level") != 0 &&
            strcmp(code, "invalid_effective_from") != 0)
                fz_mode_die("unknown reason code", &m, code);
        if (code && !why[0])
                fz_mode_die("refused without details", &m, code);
        int r = te_exec_mode_apply(levels, &m);
        if (r != (code ? -1 : 1))
                fz_mode_die("check and apply disagree", &m, code);
        if (code && (te_exec_mode_level(levels, m.scope) != own ||
                     te_exec_mode_level(levels, "*") != all))
                fz_mode_die("a refused message changed a level", &m, code);
}
