/*
 * fuzz_fix_proto: libFuzzer target for the FIX 4.4 frame decoder (brokers/fix_proto.c),
 * the parser of every byte a FIX counterparty sends us.
 *
 * The input is read as a stream the way the adapter reads its socket: frames are split
 * off with te_fix_frame_next_v; a garbled frame is skipped with te_fix_resync_v (which
 * must always make progress); each frame found is parsed, and every field it reports must
 * lie inside the frame, with no tag twice. Field accessors are called on the tags the
 * session and application layers read. ASan/UBSan catch any out-of-bounds access. The
 * source is compiled in so libFuzzer sees its coverage. Seeds:
 * tests/fuzz/corpus/fix_proto/ (a logon, an execution report, two frames back to
 * back, a frame with a duplicate tag, a garbled frame before a good one).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../brokers/fix_proto.c"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static te_fix_msg_t msg; /* large: keep it off the stack */

static void check_msg(const te_fix_msg_t *m, size_t frame_len)
{
        for (size_t i = 0; i < m->n; i++) {
                if ((size_t)m->f[i].off + m->f[i].len > frame_len || m->f[i].len == 0)
                        __builtin_trap();
                for (size_t j = 0; j < i; j++)
                        if (m->f[j].tag == m->f[i].tag)
                                __builtin_trap();
        }
        if (!memchr(m->msg_type, '\0', sizeof m->msg_type))
                __builtin_trap();
        static const int tags[] = {11, 14, 31,  32,  34,  36, 43,
                                   45, 58, 108, 112, 123, 151};
        char s[64];
        int64_t v;
        double d;
        for (size_t i = 0; i < sizeof tags / sizeof tags[0]; i++) {
                (void)te_fix_get_str(m, tags[i], s, sizeof s);
                (void)te_fix_get_int(m, tags[i], &v);
                (void)te_fix_get_num(m, tags[i], &d);
                (void)te_fix_get_bool(m, tags[i]);
        }
        size_t tl;
        const char *t = te_fix_get(m, 52, &tl);
        if (t)
                (void)te_fix_parse_time(t, tl, &v);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        char err[128];
        size_t off = 0;
        while (off < size) {
                size_t flen = 0;
                te_fix_rc_t rc = te_fix_frame_next_v(data + off, size - off, NULL, &flen,
                                                     err, sizeof err);
                if (rc == TE_FIX_EAGAIN)
                        break;
                if (rc == TE_FIX_EGARBLED) {
                        size_t skip = te_fix_resync_v(data + off, size - off, NULL);
                        if (skip == 0 || skip > size - off)
                                __builtin_trap();
                        off += skip;
                        continue;
                }
                if (flen == 0 || flen > size - off || flen > TE_FIX_MAX_FRAME)
                        __builtin_trap();
                rc = te_fix_parse((const char *)data + off, flen, &msg);
                if (rc == TE_FIX_EGARBLED)
                        __builtin_trap(); /* frame_next accepted it */
                check_msg(&msg, flen);
                off += flen;
        }
        return 0;
}
