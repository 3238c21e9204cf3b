/*
 * test_fix_proto: golden FIX 4.4 frames and malformed input for brokers/fix_proto.c.
 *
 * The expected frames are written out in full, with '|' standing for SOH; their
 * BodyLength and CheckSum were computed outside this code (summing the bytes of each
 * frame, SOH as 0x01, modulo 256). The encoder must produce exactly these bytes for
 * every message kind we send, and the decoder must accept each of them whole, ask for
 * more bytes on every proper prefix, and read the fields back. Then tables of frames
 * that must be refused: as garbled (not a frame: wrong BeginString, BodyLength or
 * CheckSum, missing SOH, non-digit or oversized lengths) or as a Reject with the
 * SessionRejectReason FIX prescribes (duplicate tag, tag without value, bad tag).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "fix_proto.h"

#define T0    1765000000123LL /* 20251206-05:46:40.123 */
#define T0STR "20251206-05:46:40.123"

/* '|' -> SOH into dst; @returns the length. */
static size_t soh(char *dst, size_t cap, const char *s)
{
        size_t n = strlen(s);
        assert_true(n < cap);
        for (size_t i = 0; i < n; i++)
                dst[i] = s[i] == '|' ? '\x01' : s[i];
        dst[n] = '\0';
        return n;
}

typedef struct {
        int tag;
        char kind; /* 's' string, 'i' integer, 'n' number, 't' time (T0) */
        const char *s;
        double d;
} fld_t;

typedef struct {
        const char *name;
        const char *msg_type;
        int64_t seq;
        int poss_dup;
        fld_t f[14];
        const char *want;
} golden_t;

static const golden_t GOLDEN[] = {
    {"Logon",
     "A",
     1,
     0,
     {{98, 'i', NULL, 0}, {108, 'i', NULL, 30}, {141, 's', "Y", 0}},
     "8=FIX.4.4|9=66|35=A|49=TE|56=QFX|34=1|52=20251206-05:46:40.123|98=0|108=30|141=Y|"
     "10=178|"},
    {"Heartbeat",
     "0",
     2,
     0,
     {{112, 's', "TR1", 0}},
     "8=FIX.4.4|9=56|35=0|49=TE|56=QFX|34=2|52=20251206-05:46:40.123|112=TR1|10=004|"},
    {"TestRequest",
     "1",
     3,
     0,
     {{112, 's', "TR2", 0}},
     "8=FIX.4.4|9=56|35=1|49=TE|56=QFX|34=3|52=20251206-05:46:40.123|112=TR2|10=007|"},
    {"ResendRequest",
     "2",
     4,
     0,
     {{7, 'i', NULL, 5}, {16, 'i', NULL, 0}},
     "8=FIX.4.4|9=57|35=2|49=TE|56=QFX|34=4|52=20251206-05:46:40.123|7=5|16=0|10=223|"},
    {"Reject",
     "3",
     5,
     0,
     {{45, 'i', NULL, 7},
      {371, 'i', NULL, 44},
      {372, 's', "D", 0},
      {373, 'i', NULL, 5},
      {58, 's', "bad price", 0}},
     "8=FIX.4.4|9=85|35=3|49=TE|56=QFX|34=5|52=20251206-05:46:40.123|45=7|371=44|372=D|"
     "373=5|58=bad price|10=181|"},
    {"SequenceReset-GapFill (PossDup)",
     "4",
     6,
     1,
     {{123, 's', "Y", 0}, {36, 'i', NULL, 9}},
     "8=FIX.4.4|9=90|35=4|49=TE|56=QFX|34=6|43=Y|52=20251206-05:46:40.123|"
     "122=20251206-05:46:40.123|123=Y|36=9|10=105|"},
    {"Logout",
     "5",
     7,
     0,
     {{58, 's', "bye", 0}},
     "8=FIX.4.4|9=55|35=5|49=TE|56=QFX|34=7|52=20251206-05:46:40.123|58=bye|10=079|"},
    {"NewOrderSingle",
     "D",
     8,
     0,
     {{11, 's', "ORD-1", 0},
      {1, 's', "ACC1", 0},
      {21, 's', "1", 0},
      {55, 's', "AAPL", 0},
      {54, 's', "1", 0},
      {60, 't', NULL, 0},
      {38, 'n', NULL, 100},
      {40, 's', "2", 0},
      {44, 'n', NULL, 187.25},
      {59, 's', "0", 0}},
     "8=FIX.4.4|9=134|35=D|49=TE|56=QFX|34=8|52=20251206-05:46:40.123|11=ORD-1|1=ACC1|"
     "21=1|55=AAPL|54=1|60=20251206-05:46:40.123|38=100|40=2|44=187.25|59=0|10=239|"},
    {"OrderCancelRequest",
     "F",
     9,
     0,
     {{41, 's', "ORD-1", 0},
      {11, 's', "ORD-1.c", 0},
      {55, 's', "AAPL", 0},
      {54, 's', "1", 0},
      {60, 't', NULL, 0},
      {38, 'n', NULL, 100}},
     "8=FIX.4.4|9=113|35=F|49=TE|56=QFX|34=9|52=20251206-05:46:40.123|41=ORD-1|"
     "11=ORD-1.c|55=AAPL|54=1|60=20251206-05:46:40.123|38=100|10=162|"},
    {"OrderCancelReplaceRequest",
     "G",
     10,
     0,
     {{41, 's', "ORD-1", 0},
      {11, 's', "ORD-1.r1", 0},
      {1, 's', "ACC1", 0},
      {21, 's', "1", 0},
      {55, 's', "AAPL", 0},
      {54, 's', "1", 0},
      {60, 't', NULL, 0},
      {38, 'n', NULL, 150},
      {40, 's', "4", 0},
      {44, 'n', NULL, 187.5},
      {99, 'n', NULL, 187},
      {59, 's', "1", 0}},
     "8=FIX.4.4|9=153|35=G|49=TE|56=QFX|34=10|52=20251206-05:46:40.123|41=ORD-1|"
     "11=ORD-1.r1|1=ACC1|21=1|55=AAPL|54=1|60=20251206-05:46:40.123|38=150|40=4|"
     "44=187.5|99=187|59=1|10=249|"},
    {"OrderStatusRequest",
     "H",
     11,
     0,
     {{11, 's', "ORD-1", 0}, {55, 's', "AAPL", 0}, {54, 's', "2", 0}},
     "8=FIX.4.4|9=71|35=H|49=TE|56=QFX|34=11|52=20251206-05:46:40.123|11=ORD-1|55=AAPL|"
     "54=2|10=034|"},
};

static long encode(const golden_t *g, char *buf, size_t cap)
{
        te_fix_hdr_t h = {.msg_type = g->msg_type,
                          .sender = "TE",
                          .target = "QFX",
                          .seq = g->seq,
                          .sending_ms = T0,
                          .poss_dup = g->poss_dup,
                          .orig_sending_ms = T0};
        te_fix_enc_t e;
        te_fix_enc_begin_v(&e, buf, cap, &h, NULL);
        for (size_t i = 0; i < 14 && g->f[i].tag; i++) {
                const fld_t *f = &g->f[i];
                switch (f->kind) {
                case 's':
                        te_fix_enc_str(&e, f->tag, f->s);
                        break;
                case 'i':
                        te_fix_enc_int(&e, f->tag, (int64_t)f->d);
                        break;
                case 'n':
                        te_fix_enc_num(&e, f->tag, f->d);
                        break;
                default:
                        te_fix_enc_time(&e, f->tag, T0);
                }
        }
        return te_fix_enc_end(&e);
}

static void test_fix_golden_encode(void **state)
{
        (void)state;
        for (size_t i = 0; i < sizeof GOLDEN / sizeof GOLDEN[0]; i++) {
                const golden_t *g = &GOLDEN[i];
                char want[512], buf[512];
                size_t wn = soh(want, sizeof want, g->want);
                long n = encode(g, buf, sizeof buf);
                if (n != (long)wn || memcmp(buf, want, wn) != 0) {
                        print_error("%s: got %.*s\n", g->name, n > 0 ? (int)n : 0, buf);
                        fail();
                }
                /* a buffer one byte short fails the whole frame; while a frame is
                 * built the buffer needs TE_FIX_ENC_SLACK bytes beyond it */
                char small[512];
                assert_int_equal(encode(g, small, wn - 1), -1);
                assert_int_equal(encode(g, small, wn + TE_FIX_ENC_SLACK), (long)wn);
        }
}

static void test_fix_golden_decode(void **state)
{
        (void)state;
        for (size_t i = 0; i < sizeof GOLDEN / sizeof GOLDEN[0]; i++) {
                const golden_t *g = &GOLDEN[i];
                char fr[600], err[128];
                size_t n = soh(fr, sizeof fr, g->want);
                size_t flen = 0;
                /* every proper prefix needs more bytes */
                for (size_t k = 0; k < n; k++)
                        assert_int_equal(te_fix_frame_next_v((const uint8_t *)fr, k, NULL,
                                                             &flen, err, sizeof err),
                                         TE_FIX_EAGAIN);
                /* the whole frame, also with the next frame's start behind it */
                memcpy(fr + n, "8=FIX", 5);
                assert_int_equal(te_fix_frame_next_v((const uint8_t *)fr, n + 5, NULL,
                                                     &flen, err, sizeof err),
                                 TE_FIX_OK);
                assert_int_equal(flen, n);
                te_fix_msg_t m;
                assert_int_equal(te_fix_parse(fr, n, &m), TE_FIX_OK);
                assert_string_equal(m.msg_type, g->msg_type);
                assert_int_equal(m.seq, g->seq);
                char v[64];
                assert_int_equal(te_fix_get_str(&m, 49, v, sizeof v), 0);
                assert_string_equal(v, "TE");
                assert_int_equal(te_fix_get_str(&m, 52, v, sizeof v), 0);
                assert_string_equal(v, T0STR);
                assert_int_equal(te_fix_get_bool(&m, 43), g->poss_dup);
                for (size_t j = 0; j < 14 && g->f[j].tag; j++) {
                        const fld_t *f = &g->f[j];
                        if (f->kind == 's') {
                                assert_int_equal(te_fix_get_str(&m, f->tag, v, sizeof v),
                                                 0);
                                assert_string_equal(v, f->s);
                        } else if (f->kind == 'i') {
                                int64_t x = -1;
                                assert_int_equal(te_fix_get_int(&m, f->tag, &x), 0);
                                assert_int_equal(x, (int64_t)f->d);
                        } else if (f->kind == 'n') {
                                double x = -1;
                                assert_int_equal(te_fix_get_num(&m, f->tag, &x), 0);
                                assert_true(x == f->d);
                        } else {
                                size_t tl;
                                const char *t = te_fix_get(&m, f->tag, &tl);
                                int64_t ms = 0;
                                assert_non_null(t);
                                assert_int_equal(te_fix_parse_time(t, tl, &ms), 0);
                                assert_int_equal(ms, T0);
                        }
                }
        }
}

/* An execution report as a counterparty sends it, read field by field. */
static void test_fix_decode_exec_report(void **state)
{
        (void)state;
        const char *s =
            "8=FIX.4.4|9=139|35=8|49=QFX|56=TE|34=2|52=20251206-05:46:40.123|37=O1|"
            "11=ORD-1|17=E1|150=F|39=2|55=AAPL|54=1|38=100|32=100|31=187.25|151=0|"
            "14=100|6=187.25|10=119|";
        char fr[300], v[8];
        size_t n = soh(fr, sizeof fr, s), flen;
        char err[128];
        assert_int_equal(
            te_fix_frame_next_v((const uint8_t *)fr, n, NULL, &flen, err, sizeof err),
            TE_FIX_OK);
        te_fix_msg_t m;
        assert_int_equal(te_fix_parse(fr, n, &m), TE_FIX_OK);
        assert_string_equal(m.msg_type, "8");
        assert_int_equal(m.n, 21);
        double px = 0, q = 0;
        assert_int_equal(te_fix_get_num(&m, 31, &px), 0);
        assert_true(px == 187.25);
        assert_int_equal(te_fix_get_num(&m, 151, &q), 0);
        assert_true(q == 0);
        assert_int_equal(te_fix_get_str(&m, 150, v, sizeof v), 0);
        assert_string_equal(v, "F");
        assert_int_equal(te_fix_get_str(&m, 11, v, 4), -2); /* "ORD-1" does not fit */
        assert_int_equal(te_fix_get_str(&m, 41, v, sizeof v), -1);
        int64_t x;
        assert_int_equal(te_fix_get_int(&m, 11, &x), -2);
        assert_int_equal(te_fix_get_num(&m, 55, &px), -2);
        assert_int_equal(te_fix_get_bool(&m, 54), -2);
}

typedef struct {
        const char *why;
        const char *in; /* '|' is SOH */
        te_fix_rc_t rc;
} frame_case_t;

#define LOGON_BODY "35=A|49=TE|56=QFX|34=1|52=20251206-05:46:40.123|98=0|108=30|141=Y|"

static const frame_case_t FRAMES[] = {
    {"empty", "", TE_FIX_EAGAIN},
    {"BeginString prefix", "8=FIX.4", TE_FIX_EAGAIN},
    {"FIX.4.2", "8=FIX.4.2|9=66|" LOGON_BODY "10=176|", TE_FIX_EGARBLED},
    {"garbage first", "x8=FIX.4.4|9=66|" LOGON_BODY "10=178|", TE_FIX_EGARBLED},
    {"no SOH after BeginString", "8=FIX.4.4 9=66|" LOGON_BODY "10=178|", TE_FIX_EGARBLED},
    {"BodyLength missing", "8=FIX.4.4|35=A|", TE_FIX_EGARBLED},
    {"BodyLength prefix", "8=FIX.4.4|9", TE_FIX_EAGAIN},
    {"BodyLength digits so far", "8=FIX.4.4|9=66", TE_FIX_EAGAIN},
    {"BodyLength not digits", "8=FIX.4.4|9=6a|" LOGON_BODY "10=178|", TE_FIX_EGARBLED},
    {"BodyLength negative", "8=FIX.4.4|9=-66|" LOGON_BODY "10=178|", TE_FIX_EGARBLED},
    {"BodyLength empty", "8=FIX.4.4|9=|" LOGON_BODY "10=178|", TE_FIX_EGARBLED},
    {"BodyLength leading zero", "8=FIX.4.4|9=066|" LOGON_BODY "10=178|", TE_FIX_EGARBLED},
    {"BodyLength without SOH", "8=FIX.4.4|9=66 35=A|", TE_FIX_EGARBLED},
    {"BodyLength 6 digits", "8=FIX.4.4|9=100000", TE_FIX_EGARBLED},
    {"oversized frame (refused before its bytes arrive)", "8=FIX.4.4|9=99999|35=A|",
     TE_FIX_EGARBLED},
    {"just over the bound", "8=FIX.4.4|9=8169|35=A|", TE_FIX_EGARBLED},
    {"at the bound: wait", "8=FIX.4.4|9=8168|35=A|", TE_FIX_EAGAIN},
    {"BodyLength one short", "8=FIX.4.4|9=65|" LOGON_BODY "10=178|", TE_FIX_EGARBLED},
    {"BodyLength one long", "8=FIX.4.4|9=67|" LOGON_BODY "10=178|8=FIX.4.4|",
     TE_FIX_EGARBLED},
    {"MsgType not third", "8=FIX.4.4|9=66|49=TE|", TE_FIX_EGARBLED},
    {"body too short for MsgType", "8=FIX.4.4|9=4|35=A|10=000|", TE_FIX_EGARBLED},
    {"CheckSum wrong", "8=FIX.4.4|9=66|" LOGON_BODY "10=179|", TE_FIX_EGARBLED},
    {"CheckSum not digits", "8=FIX.4.4|9=66|" LOGON_BODY "10=1a8|", TE_FIX_EGARBLED},
    {"CheckSum without SOH", "8=FIX.4.4|9=66|" LOGON_BODY "10=178x", TE_FIX_EGARBLED},
    {"CheckSum tag missing", "8=FIX.4.4|9=66|" LOGON_BODY "11=178|", TE_FIX_EGARBLED},
    {"last body field without SOH",
     "8=FIX.4.4|9=66|35=A|49=TE|56=QFX|34=1|52=20251206-05:46:40.123|98=0|108=30|141=Y "
     "10=178|",
     TE_FIX_EGARBLED},
    {"valid", "8=FIX.4.4|9=66|" LOGON_BODY "10=178|", TE_FIX_OK},
};

/* A FIX 4.2 frame is garbled to the 4.4 decoder and whole to the 4.2 one, and the
 * other way round; te_fix_parse reads either and says which; resync finds the next
 * frame of the version asked for. */
static void test_fix_frame_42(void **state)
{
        (void)state;
        char f42[300], f44[300], err[128];
        size_t n42 = soh(f42, sizeof f42, "8=FIX.4.2|9=66|" LOGON_BODY "10=176|");
        size_t n44 = soh(f44, sizeof f44, "8=FIX.4.4|9=66|" LOGON_BODY "10=178|");
        size_t flen = 0;
        assert_int_equal(te_fix_frame_next_v((const uint8_t *)f42, n42, TE_FIX_BEGIN42,
                                             &flen, err, sizeof err),
                         TE_FIX_OK);
        assert_int_equal(flen, n42);
        assert_int_equal(te_fix_frame_next_v((const uint8_t *)f44, n44, TE_FIX_BEGIN42,
                                             &flen, err, sizeof err),
                         TE_FIX_EGARBLED);
        assert_int_equal(
            te_fix_frame_next_v((const uint8_t *)f44, n44, NULL, &flen, err, sizeof err),
            TE_FIX_OK);
        assert_int_equal(te_fix_frame_next_v((const uint8_t *)f44, n44, "FIX.5.0", &flen,
                                             err, sizeof err),
                         TE_FIX_EGARBLED);
        /* a 4.2 frame with the 4.4 checksum is garbled to both */
        char bad[300];
        size_t nb = soh(bad, sizeof bad, "8=FIX.4.2|9=66|" LOGON_BODY "10=178|");
        assert_int_equal(te_fix_frame_next_v((const uint8_t *)bad, nb, TE_FIX_BEGIN42,
                                             &flen, err, sizeof err),
                         TE_FIX_EGARBLED);
        static te_fix_msg_t m;
        assert_int_equal(te_fix_parse(f42, n42, &m), TE_FIX_OK);
        assert_string_equal(m.begin, TE_FIX_BEGIN42);
        assert_string_equal(m.msg_type, "A");
        assert_int_equal(te_fix_parse(f44, n44, &m), TE_FIX_OK);
        assert_string_equal(m.begin, TE_FIX_BEGIN);
        char two[700];
        memcpy(two, "junk", 4);
        memcpy(two + 4, f44, n44);
        memcpy(two + 4 + n44, f42, n42);
        assert_int_equal(
            te_fix_resync_v((const uint8_t *)two, 4 + n44 + n42, TE_FIX_BEGIN42),
            4 + n44);
        assert_int_equal(te_fix_resync_v((const uint8_t *)two, 4 + n44 + n42, NULL), 4);
        assert_string_equal(te_fix_begin_known(""), TE_FIX_BEGIN);
        assert_string_equal(te_fix_begin_known("FIX.4.2"), TE_FIX_BEGIN42);
        assert_null(te_fix_begin_known("FIX.4.3"));
}

static void test_fix_frame_table(void **state)
{
        (void)state;
        for (size_t i = 0; i < sizeof FRAMES / sizeof FRAMES[0]; i++) {
                char fr[300], err[128] = "";
                size_t n = soh(fr, sizeof fr, FRAMES[i].in), flen = 0;
                te_fix_rc_t rc = te_fix_frame_next_v((const uint8_t *)fr, n, NULL, &flen,
                                                     err, sizeof err);
                if (rc != FRAMES[i].rc) {
                        print_error("%s: rc %d, want %d (%s)\n", FRAMES[i].why, rc,
                                    FRAMES[i].rc, err);
                        fail();
                }
                if (rc == TE_FIX_EGARBLED)
                        assert_true(err[0] != '\0');
                /* te_fix_parse refuses anything that is not one whole frame */
                te_fix_msg_t m;
                if (rc != TE_FIX_OK && strcmp(FRAMES[i].why, "FIX.4.2") != 0)
                        assert_int_equal(te_fix_parse(fr, n, &m), TE_FIX_EGARBLED);
        }
}

typedef struct {
        const char *why;
        const char *in;
        te_fix_rc_t rc;
        int reason, tag;
        int64_t seq;
} parse_case_t;

static const parse_case_t PARSES[] = {
    {"duplicate tag",
     "8=FIX.4.4|9=60|35=0|49=QFX|56=TE|34=2|52=20251206-05:46:40.123|112=A|112=B|"
     "10=125|",
     TE_FIX_EREJECT, 13, 112, 2},
    {"CheckSum tag inside the body",
     "8=FIX.4.4|9=60|35=0|49=QFX|56=TE|34=2|52=20251206-05:46:40.123|58=a|10=000|"
     "10=145|",
     TE_FIX_EREJECT, 13, 10, 2},
    {"tag without value",
     "8=FIX.4.4|9=53|35=0|49=QFX|56=TE|34=2|52=20251206-05:46:40.123|112=|10=042|",
     TE_FIX_EREJECT, 4, 112, 2},
    {"tag not a number",
     "8=FIX.4.4|9=54|35=0|49=QFX|56=TE|34=2|52=20251206-05:46:40.123|abc=1|10=238|",
     TE_FIX_EREJECT, 0, 0, 2},
    {"tag with leading zero",
     "8=FIX.4.4|9=55|35=0|49=QFX|56=TE|34=2|52=20251206-05:46:40.123|0112=x|10=212|",
     TE_FIX_EREJECT, 0, 0, 2},
    {"tag out of range",
     "8=FIX.4.4|9=57|35=0|49=QFX|56=TE|34=2|52=20251206-05:46:40.123|999999=1|10=033|",
     TE_FIX_EREJECT, 0, 0, 2},
    {"field without '='",
     "8=FIX.4.4|9=53|35=0|49=QFX|56=TE|34=2|52=20251206-05:46:40.123|112x|10=101|",
     TE_FIX_EREJECT, 0, 0, 2},
    {"MsgSeqNum not a number",
     "8=FIX.4.4|9=49|35=0|49=QFX|56=TE|34=x1|52=20251206-05:46:40.123|10=212|",
     TE_FIX_EREJECT, 6, 34, 0},
    {"MsgSeqNum missing (the session decides)",
     "8=FIX.4.4|9=43|35=0|49=QFX|56=TE|52=20251206-05:46:40.123|10=128|", TE_FIX_OK, -1,
     0, 0},
};

static void test_fix_parse_table(void **state)
{
        (void)state;
        for (size_t i = 0; i < sizeof PARSES / sizeof PARSES[0]; i++) {
                const parse_case_t *c = &PARSES[i];
                char fr[300];
                size_t n = soh(fr, sizeof fr, c->in);
                te_fix_msg_t m;
                te_fix_rc_t rc = te_fix_parse(fr, n, &m);
                if (rc != c->rc || m.reject_reason != c->reason ||
                    m.reject_tag != c->tag || m.seq != c->seq) {
                        print_error("%s: rc %d reason %d tag %d seq %lld\n", c->why, rc,
                                    m.reject_reason, m.reject_tag, (long long)m.seq);
                        fail();
                }
                assert_string_equal(m.msg_type, "0");
        }
}

/* More fields than TE_FIX_MAX_FIELDS in a well-formed frame: refused, no overflow. */
static void test_fix_too_many_fields(void **state)
{
        (void)state;
        char buf[TE_FIX_MAX_FRAME];
        te_fix_hdr_t h = {"0", "QFX", "TE", 3, T0, 0, 0};
        te_fix_enc_t e;
        te_fix_enc_begin_v(&e, buf, sizeof buf, &h, NULL);
        for (int t = 1000; t < 1000 + TE_FIX_MAX_FIELDS; t++)
                te_fix_enc_str(&e, t, "x");
        long n = te_fix_enc_end(&e);
        assert_true(n > 0);
        te_fix_msg_t m;
        assert_int_equal(te_fix_parse(buf, (size_t)n, &m), TE_FIX_EREJECT);
        assert_int_equal(m.reject_reason, 99);
        assert_int_equal(m.n, TE_FIX_MAX_FIELDS);
        assert_int_equal(m.seq, 3);
}

static void test_fix_encoder_refuses(void **state)
{
        (void)state;
        char buf[TE_FIX_MAX_FRAME + 64];
        te_fix_hdr_t h = {"0", "TE", "QFX", 1, T0, 0, 0};
        te_fix_enc_t e;

        te_fix_enc_begin_v(&e, buf, sizeof buf, &h, NULL);
        te_fix_enc_str(&e, 58,
                       "a\x01"
                       "b");
        assert_int_equal(te_fix_enc_end(&e), -1);

        te_fix_enc_begin_v(&e, buf, sizeof buf, &h, NULL);
        te_fix_enc_str(&e, 58, "");
        assert_int_equal(te_fix_enc_end(&e), -1);

        te_fix_enc_begin_v(&e, buf, sizeof buf, &h, NULL);
        te_fix_enc_num(&e, 44, 0.0 / 0.0);
        assert_int_equal(te_fix_enc_end(&e), -1);

        te_fix_enc_begin_v(&e, buf, sizeof buf, &h, NULL);
        te_fix_enc_num(&e, 44, 1e15);
        assert_int_equal(te_fix_enc_end(&e), -1);

        te_fix_enc_begin_v(&e, buf, sizeof buf, &h, NULL);
        te_fix_enc_time(&e, 60, -1);
        assert_int_equal(te_fix_enc_end(&e), -1);

        te_fix_hdr_t h0 = h;
        h0.seq = 0;
        te_fix_enc_begin_v(&e, buf, sizeof buf, &h0, NULL);
        assert_int_equal(te_fix_enc_end(&e), -1);

        /* a body that would pass TE_FIX_MAX_FRAME even in a larger buffer */
        char big[1001];
        memset(big, 'x', 1000);
        big[1000] = '\0';
        te_fix_enc_begin_v(&e, buf, sizeof buf, &h, NULL);
        for (int i = 0; i < 9; i++)
                te_fix_enc_str(&e, 58 + i, big);
        assert_int_equal(te_fix_enc_end(&e), -1);

        /* numbers: no exponent either way */
        const struct {
                double v;
                const char *want;
        } nums[] = {{0.00001, "0.00001"},
                    {-2.5, "-2.5"},
                    {123456789012345, "123456789012345"},
                    {0.1, "0.1"},
                    {0, "0"}};
        for (size_t i = 0; i < sizeof nums / sizeof nums[0]; i++) {
                te_fix_enc_begin_v(&e, buf, sizeof buf, &h, NULL);
                te_fix_enc_num(&e, 44, nums[i].v);
                long n = te_fix_enc_end(&e);
                assert_true(n > 0);
                te_fix_msg_t m;
                assert_int_equal(te_fix_parse(buf, (size_t)n, &m), TE_FIX_OK);
                char v[32];
                assert_int_equal(te_fix_get_str(&m, 44, v, sizeof v), 0);
                assert_string_equal(v, nums[i].want);
        }
}

static void test_fix_time(void **state)
{
        (void)state;
        char s[TE_FIX_TIME_LEN];
        int64_t ms;
        assert_int_equal(te_fix_fmt_time(s, T0), 0);
        assert_string_equal(s, T0STR);
        assert_int_equal(te_fix_fmt_time(s, 0), 0);
        assert_string_equal(s, "19700101-00:00:00.000");
        assert_int_equal(te_fix_fmt_time(s, -5), -1);
        assert_int_equal(te_fix_parse_time("20251206-05:46:40", 17, &ms), 0);
        assert_int_equal(ms, T0 - 123);
        const char *bad[] = {"20251206-05:46:4x", "20251306-05:46:40",
                             "20251206 05:46:40", "20251206-05:46:40,123",
                             "2025120-05:46:40.12"};
        for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
                assert_int_equal(te_fix_parse_time(bad[i], strlen(bad[i]), &ms), -1);
}

static void test_fix_resync(void **state)
{
        (void)state;
        char fr[300];
        size_t n = soh(fr, sizeof fr, "xx8=FIX.4.4|9=5|");
        assert_int_equal(te_fix_resync_v((const uint8_t *)fr, n, NULL), 2);
        n = soh(fr, sizeof fr, "8=FIX.4.4|9=abc|junk8=FI");
        assert_int_equal(te_fix_resync_v((const uint8_t *)fr, n, NULL), n - 4);
        n = soh(fr, sizeof fr, "garbage");
        assert_int_equal(te_fix_resync_v((const uint8_t *)fr, n, NULL), n);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_fix_golden_encode),
            cmocka_unit_test(test_fix_golden_decode),
            cmocka_unit_test(test_fix_decode_exec_report),
            cmocka_unit_test(test_fix_frame_table),
            cmocka_unit_test(test_fix_frame_42),
            cmocka_unit_test(test_fix_parse_table),
            cmocka_unit_test(test_fix_too_many_fields),
            cmocka_unit_test(test_fix_encoder_refuses),
            cmocka_unit_test(test_fix_time),
            cmocka_unit_test(test_fix_resync),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
