/*
 * test_fix_session: scripted exchanges with the FIX session state machine
 * (brokers/fix_session.c).
 *
 * Each script is a list of steps: connect, an inbound frame (written as its fields,
 * the test adds 49=QFX, 56=TE and SendingTime and encodes it), a raw inbound frame,
 * garbled bytes, a timer tick, an application message we send, or our Logout. After
 * every step the test checks the frames the session queued (each written as the
 * tag=value pairs it must contain, ';' between frames, in order), what it told the
 * caller (a = application message, o = logged on, r = resend asked, d = disconnect,
 * w = an alert, z = our MsgSeqNum refused as too low, s = they reset the sequences),
 * its state and both sequence numbers. In an inbound spec 43=Y makes a possible
 * duplicate with OrigSendingTime = SendingTime (as the encoder writes it); 43=y puts
 * PossDupFlag=Y in without OrigSendingTime, for a 122=... of the script's own.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "fix_session.h"

#define T0 1765000000000LL

enum {
        DOWN = TE_FIX_ST_DOWN,
        LOGON = TE_FIX_ST_LOGON_SENT,
        ACT = TE_FIX_ST_ACTIVE,
        LOUT = TE_FIX_ST_LOGOUT_SENT
};

typedef struct {
        char op;        /* c connect, i inbound, r raw inbound, g garbled, t tick,
                           a send 35=D, l our Logout, x disconnected */
        int64_t t;      /* ms after T0 */
        const char *in; /* i: "35=..|34=..|..."; r: a whole frame, '|' for SOH */
        const char *out;
        const char *ev;
        int st;
        int64_t next_out, next_in;
} step_t;

typedef struct {
        const char *name;
        int reset;
        int64_t out0, in0;
        step_t s[14];
} script_t;

#define LOGON_OK                                                                         \
        {'c', 0, NULL, "35=A|34=1|98=0|108=30", "", LOGON, 2, 1},                        \
        {                                                                                \
                'i', 10, "35=A|34=1|98=0|108=30", "", "o", ACT, 2, 2                     \
        }

static const script_t SCRIPTS[] = {
    {"logon, heartbeat, test request answered, then unanswered",
     0,
     1,
     1,
     {LOGON_OK,
      {'t', 29999, NULL, "", "", ACT, 2, 2},
      {'t', 30000, NULL, "35=0|34=2", "", ACT, 3, 2},
      {'t', 36010, NULL, "35=1|34=3|112=TEST1", "", ACT, 4, 2},
      {'i', 37000, "35=0|34=2|112=TEST1", "", "", ACT, 4, 3},
      {'t', 66010, NULL, "35=0|34=4", "", ACT, 5, 3},
      {'t', 73000, NULL, "35=1|34=5|112=TEST2", "", ACT, 6, 3},
      {'t', 102999, NULL, "", "", ACT, 6, 3},
      {'t', 103000, NULL, "", "dw", ACT, 6, 3}}},
    {"their TestRequest is answered with its TestReqID; without one it is rejected",
     0,
     1,
     1,
     {LOGON_OK,
      {'i', 20, "35=1|34=2|112=abc", "35=0|34=2|112=abc", "", ACT, 3, 3},
      {'i', 30, "35=1|34=3", "35=3|34=3|45=3|371=112|372=1|373=1", "", ACT, 4, 4},
      {'i', 40, "35=3|34=4|45=2|373=5|58=bad", "", "w", ACT, 4, 5}}},
    {"gap: one ResendRequest, gap fill and resent messages, then a later gap",
     0,
     1,
     1,
     {LOGON_OK,
      {'i', 20, "35=8|34=5|17=E5", "35=2|34=2|7=2|16=0", "rw", ACT, 3, 2},
      {'i', 30, "35=8|34=6|17=E6", "", "", ACT, 3, 2},
      {'i', 40, "35=4|34=2|43=Y|123=Y|36=5", "", "", ACT, 3, 5},
      {'i', 50, "35=8|34=5|43=Y|17=E5", "", "a", ACT, 3, 6},
      {'i', 60, "35=8|34=6|43=Y|17=E6", "", "a", ACT, 3, 7},
      {'i', 70, "35=0|34=9", "35=2|34=3|7=7|16=0", "rw", ACT, 4, 7}}},
    {"duplicate below the expected number: ignored with PossDupFlag, fatal without",
     0,
     1,
     1,
     {LOGON_OK,
      {'i', 20, "35=8|34=2|17=E2", "", "a", ACT, 2, 3},
      {'i', 30, "35=8|34=2|43=Y|17=E2", "", "", ACT, 2, 3},
      {'i', 40, "35=0|34=1", "35=5|34=2|58=MsgSeqNum too low, expecting 3 but received 1",
       "dw", LOUT, 3, 3},
      {'x', 50, NULL, "", "", DOWN, 3, 3}}},
    {"their ResendRequest: one gap fill over what we sent, orders not resent",
     0,
     1,
     1,
     {LOGON_OK,
      {'a', 20, NULL, "35=D|34=2|11=O1", "", ACT, 3, 2},
      {'a', 30, NULL, "35=D|34=3|11=O1", "", ACT, 4, 2},
      {'i', 40, "35=2|34=2|7=2|16=0", "35=4|34=2|43=Y|123=Y|36=4", "", ACT, 4, 3},
      {'i', 50, "35=2|34=3|7=9|16=0", "35=3|34=4|45=3|371=7|373=5", "", ACT, 5, 4}}},
    {"their ResendRequest above the expected number is answered, then ours",
     0,
     1,
     1,
     {LOGON_OK,
      {'a', 20, NULL, "35=D|34=2", "", ACT, 3, 2},
      {'i', 30, "35=2|34=4|7=1|16=0", "35=4|34=1|43=Y|123=Y|36=3;35=2|34=3|7=2|16=0",
       "rw", ACT, 4, 2}}},
    {"SequenceReset without gap fill moves next_in up, never down",
     0,
     1,
     1,
     {LOGON_OK,
      {'i', 20, "35=4|34=1|36=10", "", "", ACT, 2, 10},
      {'i', 30, "35=4|34=1|36=5", "35=3|34=2|45=1|371=36|372=4|373=5", "w", ACT, 3, 10},
      {'i', 40, "35=4|34=10|123=Y|36=10", "35=3|34=3|45=10|371=36|373=5", "w", ACT, 4,
       10}}},
    {"a field fails a check: Reject with the reason, the number is consumed",
     0,
     1,
     1,
     {LOGON_OK,
      {'r', 20,
       "8=FIX.4.4|9=60|35=0|49=QFX|56=TE|34=2|52=20251206-05:46:40.123|112=A|112=B|"
       "10=125|",
       "35=3|34=2|45=2|371=112|372=0|373=13", "w", ACT, 3, 3},
      {'r', 30,
       "8=FIX.4.4|9=53|35=0|49=QFX|56=TE|34=2|52=20251206-05:46:40.123|112=|10=042|",
       "35=5|34=3", "dw", LOUT, 4, 3}}},
    {"garbled bytes are ignored, no number consumed; missing MsgSeqNum ends it",
     0,
     1,
     1,
     {LOGON_OK,
      {'g', 20, NULL, "", "w", ACT, 2, 2},
      {'r', 30,
       "8=FIX.4.4|9=66|35=A|49=TE|56=QFX|34=1|52=20251206-05:46:40.123|98=0|"
       "108=30|141=Y|10=179|",
       "", "w", ACT, 2, 2},
      {'r', 40, "8=FIX.4.4|9=43|35=0|49=QFX|56=TE|52=20251206-05:46:40.123|10=128|",
       "35=5|34=2|58=MsgSeqNum missing or not a number", "dw", LOUT, 3, 2}}},
    {"wrong CompID: Reject 373=9 and Logout",
     0,
     1,
     1,
     {LOGON_OK,
      {'i', 20, "35=0|34=2|49=EVIL", "35=3|34=2|45=2|373=9;35=5|34=3", "dw", LOUT, 4,
       2}}},
    {"anything before their Logon ends the session",
     0,
     1,
     1,
     {{'c', 0, NULL, "35=A|34=1", "", LOGON, 2, 1},
      {'a', 5, NULL, "", "", LOGON, 2, 1},
      {'i', 10, "35=0|34=1", "35=5|34=2|58=first message is not a Logon", "dw", LOUT, 3,
       1}}},
    {"our Logon refused (their numbers ahead of ours): their reason, no answer",
     0,
     5,
     1,
     {{'c', 0, NULL, "35=A|34=5", "", LOGON, 6, 1},
      {'i', 10, "35=5|34=13|58=MsgSeqNum too low, expecting 9 but received 5", "", "dwz",
       LOGON, 6, 1},
      {'x', 20, NULL, "", "", DOWN, 6, 1}}},
    {"our Logon refused for another reason: no z, the caller may try again",
     0,
     1,
     1,
     {{'c', 0, NULL, "35=A|34=1", "", LOGON, 2, 1},
      {'i', 10, "35=5|34=1|58=Rejected Logon Attempt: not today", "", "dw", LOGON, 2, 1},
      {'x', 20, NULL, "", "", DOWN, 2, 1},
      {'c', 30, NULL, "35=A|34=2", "", LOGON, 3, 1}}},
    {"their Logout in session saying our MsgSeqNum is too low: z, no answer",
     0,
     1,
     1,
     {LOGON_OK,
      {'i', 20, "35=5|34=2|58=MsgSeqNum too low, expecting 7 but received 2", "", "dwz",
       ACT, 2, 3},
      {'x', 30, NULL, "", "", DOWN, 2, 3}}},
    {"their Logon with ResetSeqNumFlag=Y mid-session: both restart, we answer at 1",
     0,
     1,
     1,
     {LOGON_OK,
      {'a', 20, NULL, "35=D|34=2", "", ACT, 3, 2},
      {'i', 30, "35=8|34=2|17=E2", "", "a", ACT, 3, 3},
      {'i', 35, "35=8|34=9|17=E9", "35=2|34=3|7=3|16=0", "rw", ACT, 4, 3},
      {'i', 40, "35=A|34=1|98=0|108=30|141=Y", "35=A|34=1|141=Y|108=30", "ows", ACT, 2,
       2},
      {'i', 45, "35=A|34=2|98=0|108=30|141=Y", "", "", ACT, 2, 3},
      {'i', 50, "35=8|34=3|17=E3", "", "a", ACT, 2, 4},
      {'i', 55, "35=8|34=4|17=E4", "", "a", ACT, 2, 5},
      {'a', 60, NULL, "35=D|34=2", "", ACT, 3, 5}}},
    {"a Logon 141=Y mid-session not at MsgSeqNum 1 is no reset: the number rules",
     0,
     1,
     1,
     {LOGON_OK,
      {'i', 40, "35=A|34=2|98=0|108=30|141=Y", "", "", ACT, 2, 3},
      {'i', 50, "35=A|34=1|98=0|108=30|141=N", "35=5|34=2", "dw", LOUT, 3, 3}}},
    {"PossDupFlag=Y without OrigSendingTime: Reject 373=1, not handed on",
     0,
     1,
     1,
     {LOGON_OK,
      {'i', 20, "35=8|34=2|43=y|17=E2", "35=3|34=2|45=2|371=122|372=8|373=1", "w", ACT, 3,
       3},
      {'i', 30, "35=8|34=3|43=Y|17=E3", "", "a", ACT, 3, 4},
      {'i', 40, "35=8|34=3|43=y|17=E3", "35=3|34=3|45=3|371=122|373=1", "w", ACT, 4, 4},
      {'i', 50, "35=8|34=4|17=E4", "", "a", ACT, 4, 5}}},
    {"OrigSendingTime later than SendingTime: Reject 373=5; unreadable: 373=6",
     0,
     1,
     1,
     {LOGON_OK,
      {'i', 20, "35=8|34=2|43=y|122=20991231-23:59:59.000|17=E2",
       "35=3|34=2|45=2|371=122|372=8|373=5", "w", ACT, 3, 3},
      {'i', 30, "35=8|34=3|43=y|122=yesterday|17=E3", "35=3|34=3|45=3|371=122|373=6", "w",
       ACT, 4, 4},
      {'i', 40, "35=8|34=4|43=y|122=20000101-00:00:00.000|17=E4", "", "a", ACT, 4, 5}}},
    {"a gap fill with PossDupFlag=Y needs no OrigSendingTime",
     0,
     1,
     1,
     {LOGON_OK, {'i', 20, "35=4|34=2|43=y|123=Y|36=5", "", "", ACT, 2, 5}}},
    {"their Logon without HeartBtInt ends the session",
     0,
     1,
     1,
     {{'c', 0, NULL, "35=A|34=1", "", LOGON, 2, 1},
      {'i', 10, "35=A|34=1", "35=5|34=2", "dw", LOUT, 3, 2}}},
    {"no Logon answer within the timeout",
     0,
     1,
     1,
     {{'c', 0, NULL, "35=A|34=1", "", LOGON, 2, 1},
      {'t', 9999, NULL, "", "", LOGON, 2, 1},
      {'t', 10000, NULL, "", "dw", LOGON, 2, 1}}},
    {"they log out: we answer and close",
     0,
     1,
     1,
     {LOGON_OK, {'i', 20, "35=5|34=2|58=bye", "35=5|34=2", "dw", LOUT, 3, 3}}},
    {"we log out: their Logout closes, silence times out",
     0,
     1,
     1,
     {LOGON_OK,
      {'l', 20, NULL, "35=5|34=2|58=done", "", LOUT, 3, 2},
      {'i', 30, "35=5|34=2", "", "d", LOUT, 3, 3},
      {'x', 40, NULL, "", "", DOWN, 3, 3},
      {'c', 50, NULL, "35=A|34=3", "", LOGON, 4, 3},
      {'i', 60, "35=A|34=3|108=30", "", "o", ACT, 4, 4},
      {'l', 70, NULL, "35=5|34=4", "", LOUT, 5, 4},
      {'t', 2069, NULL, "", "", LOUT, 5, 4},
      {'t', 2070, NULL, "", "d", LOUT, 5, 4}}},
    {"a restart resumes the saved numbers; their Logon ahead asks a resend",
     0,
     5,
     7,
     {{'c', 0, NULL, "35=A|34=5|98=0|108=30", "", LOGON, 6, 7},
      {'i', 10, "35=A|34=9|108=30", "35=2|34=6|7=7|16=0", "orw", ACT, 7, 7},
      {'i', 20, "35=4|34=7|43=Y|123=Y|36=10", "", "", ACT, 7, 10},
      {'i', 30, "35=8|34=10|17=E10", "", "a", ACT, 7, 11}}},
    {"a Logon below the expected number ends the session",
     0,
     5,
     7,
     {{'c', 0, NULL, "35=A|34=5", "", LOGON, 6, 7},
      {'i', 10, "35=A|34=3|108=30", "35=5|34=6", "dw", LOUT, 7, 7}}},
    {"reset_on_logon: 141=Y and both numbers restart at 1",
     1,
     50,
     60,
     {{'c', 0, NULL, "35=A|34=1|141=Y", "", LOGON, 2, 1},
      {'i', 10, "35=A|34=1|108=30|141=Y", "", "o", ACT, 2, 2}}},
};

static const te_fix_session_cfg_t CFG = {
    .sender = "TE", .target = "QFX", .heartbt_int = 30};

/* Encode "35=X|34=N|tag=v|..." as QFX -> TE (49/56 may be overridden in the list). */
static size_t build(char *buf, size_t cap, const char *spec, int64_t now)
{
        char tmp[512];
        snprintf(tmp, sizeof tmp, "%s", spec);
        char *fields[32];
        size_t n = 0;
        for (char *sv, *p = strtok_r(tmp, "|", &sv); p; p = strtok_r(NULL, "|", &sv))
                fields[n++] = p;
        te_fix_hdr_t h = {
            .sender = "QFX", .target = "TE", .sending_ms = now, .orig_sending_ms = now};
        for (size_t i = 0; i < n; i++) {
                char *v = strchr(fields[i], '=') + 1;
                int tag = (int)strtol(fields[i], NULL, 10);
                if (tag == 35)
                        h.msg_type = v;
                else if (tag == 34)
                        h.seq = strtoll(v, NULL, 10);
                else if (tag == 43 && strcmp(v, "Y") == 0)
                        h.poss_dup = 1; /* with OrigSendingTime */
                else if (tag == 49)
                        h.sender = v;
                else if (tag == 56)
                        h.target = v;
        }
        te_fix_enc_t e;
        te_fix_enc_begin_v(&e, buf, cap, &h, NULL);
        for (size_t i = 0; i < n; i++) {
                int tag = (int)strtol(fields[i], NULL, 10);
                const char *v = strchr(fields[i], '=') + 1;
                if (tag == 43 && strcmp(v, "y") == 0)
                        te_fix_enc_str(&e, 43, "Y"); /* no OrigSendingTime added */
                else if (tag != 35 && tag != 34 && tag != 43 && tag != 49 && tag != 56)
                        te_fix_enc_str(&e, tag, v);
        }
        long len = te_fix_enc_end(&e);
        assert_true(len > 0);
        return (size_t)len;
}

/* Every frame queued must match the next expected one, and no frame may be left. */
static void check_out(te_fix_session_t *s, const char *want, const char *ctx)
{
        const char *data;
        size_t len;
        te_fix_session_out(s, &data, &len);
        char w[512];
        snprintf(w, sizeof w, "%s", want);
        char *sv1 = NULL;
        char *frame_want = w[0] ? strtok_r(w, ";", &sv1) : NULL;
        size_t off = 0;
        while (off < len || frame_want) {
                if (!frame_want || off >= len) {
                        print_error("%s: frames differ: want %s, got %.*s\n", ctx,
                                    frame_want ? frame_want : "(no more)",
                                    (int)(len - off), data + off);
                        fail();
                }
                size_t flen;
                char err[128];
                assert_int_equal(te_fix_frame_next_v((const uint8_t *)data + off,
                                                     len - off, NULL, &flen, err,
                                                     sizeof err),
                                 TE_FIX_OK);
                te_fix_msg_t m;
                assert_int_equal(te_fix_parse(data + off, flen, &m), TE_FIX_OK);
                char fw[256];
                snprintf(fw, sizeof fw, "%s", frame_want);
                char *sv2;
                for (char *p = strtok_r(fw, "|", &sv2); p;
                     p = strtok_r(NULL, "|", &sv2)) {
                        int tag = (int)strtol(p, NULL, 10);
                        const char *v = strchr(p, '=') + 1;
                        char got[128] = "";
                        if (te_fix_get_str(&m, tag, got, sizeof got) != 0 ||
                            strcmp(got, v) != 0) {
                                print_error("%s: field %d is '%s', want '%s' in %.*s\n",
                                            ctx, tag, got, v, (int)flen, data + off);
                                fail();
                        }
                }
                off += flen;
                frame_want = strtok_r(NULL, ";", &sv1);
        }
        te_fix_session_out_consume(s, len);
}

static void check_ev(const te_fix_sev_t *ev, const char *want, const char *ctx)
{
        char got[8];
        size_t n = 0;
        if (ev->app)
                got[n++] = 'a';
        if (ev->logged_on)
                got[n++] = 'o';
        if (ev->resend)
                got[n++] = 'r';
        if (ev->disconnect)
                got[n++] = 'd';
        if (ev->alert[0])
                got[n++] = 'w';
        if (ev->seq_too_low)
                got[n++] = 'z';
        if (ev->reset)
                got[n++] = 's';
        got[n] = '\0';
        if (strcmp(got, want) != 0) {
                print_error("%s: events '%s', want '%s' (alert: %s)\n", ctx, got, want,
                            ev->alert);
                fail();
        }
}

static void run_script(const script_t *sc)
{
        te_fix_session_cfg_t cfg = CFG;
        cfg.reset_on_logon = sc->reset;
        char err[128];
        te_fix_session_t *s =
            te_fix_session_new(&cfg, sc->out0, sc->in0, err, sizeof err);
        assert_non_null(s);
        static char frame[TE_FIX_MAX_FRAME];
        static te_fix_msg_t m;
        for (size_t i = 0; i < 14 && sc->s[i].op; i++) {
                const step_t *st = &sc->s[i];
                char ctx[160];
                snprintf(ctx, sizeof ctx, "%s, step %zu", sc->name, i + 1);
                te_fix_sev_t ev;
                memset(&ev, 0, sizeof ev);
                int64_t now = T0 + st->t;
                size_t n;
                switch (st->op) {
                case 'c':
                        assert_int_equal(te_fix_session_connected(s, now, &ev), 0);
                        break;
                case 'i':
                        n = build(frame, sizeof frame, st->in, now);
                        te_fix_session_on_frame(s, frame, n, now, &m, &ev);
                        break;
                case 'r':
                        n = strlen(st->in);
                        for (size_t k = 0; k < n; k++)
                                frame[k] = st->in[k] == '|' ? '\x01' : st->in[k];
                        te_fix_session_on_frame(s, frame, n, now, &m, &ev);
                        break;
                case 'g':
                        te_fix_session_on_garbled(s, "CheckSum wrong", &ev);
                        break;
                case 't':
                        te_fix_session_tick(s, now, &ev);
                        break;
                case 'l':
                        te_fix_session_logout(s, "done", now, &ev);
                        break;
                case 'x':
                        te_fix_session_disconnected(s);
                        break;
                case 'a': {
                        te_fix_enc_t e;
                        if (te_fix_session_app_begin(s, &e, "D", now) == 0) {
                                te_fix_enc_str(&e, 11, "O1");
                                assert_int_equal(te_fix_session_app_end(s, &e),
                                                 st->next_out - 1);
                        }
                        break;
                }
                }
                check_out(s, st->out, ctx);
                check_ev(&ev, st->ev, ctx);
                if (ev.app)
                        assert_string_equal(m.msg_type, "8");
                /* their Reject names the message of ours it refers to */
                if (st->op == 'i' && strncmp(st->in, "35=3|", 5) == 0)
                        assert_int_equal(ev.rejected_seq, 2);
                else
                        assert_int_equal(ev.rejected_seq, 0);
                int64_t o, in;
                te_fix_session_seqs(s, &o, &in);
                if ((int)te_fix_session_state(s) != st->st || o != st->next_out ||
                    in != st->next_in) {
                        print_error("%s: state %d out %lld in %lld, want %d %lld %lld\n",
                                    ctx, te_fix_session_state(s), (long long)o,
                                    (long long)in, st->st, (long long)st->next_out,
                                    (long long)st->next_in);
                        fail();
                }
        }
        te_fix_session_destroy(s);
}

static void test_fix_session_scripts(void **state)
{
        (void)state;
        for (size_t i = 0; i < sizeof SCRIPTS / sizeof SCRIPTS[0]; i++)
                run_script(&SCRIPTS[i]);
}

/* A password goes into the Logon (554) and nowhere else; bad configs are refused. */
static void test_fix_session_config(void **state)
{
        (void)state;
        char err[128];
        te_fix_session_cfg_t cfg = CFG;
        snprintf(cfg.password, sizeof cfg.password, "%s", "s3cret");
        te_fix_session_t *s = te_fix_session_new(&cfg, 1, 1, err, sizeof err);
        assert_non_null(s);
        te_fix_sev_t ev;
        assert_int_equal(te_fix_session_connected(s, T0, &ev), 0);
        check_out(s, "35=A|34=1|554=s3cret", "password");
        te_fix_session_destroy(s);

        cfg = CFG;
        cfg.heartbt_int = 0;
        assert_null(te_fix_session_new(&cfg, 1, 1, err, sizeof err));
        cfg = CFG;
        cfg.target[0] = '\0';
        assert_null(te_fix_session_new(&cfg, 1, 1, err, sizeof err));
        assert_null(te_fix_session_new(&CFG, 0, 1, err, sizeof err));
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_fix_session_scripts),
            cmocka_unit_test(test_fix_session_config),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
