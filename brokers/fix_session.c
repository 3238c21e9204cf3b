/*
 * fix_session: the FIX 4.4 initiator session state machine (see fix_session.h for
 * the rules it follows). Pure: frames in, frames out, time passed in.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fix_session.h"
#include "te_buf.h"

struct te_fix_session_s {
        te_fix_session_cfg_t cfg;
        te_fix_state_t st;
        int64_t next_out, next_in;
        int64_t now; /* the time of the current call */
        int64_t last_sent, last_recv;
        int64_t state_since; /* entering LOGON_SENT or LOGOUT_SENT */
        int test_pending;    /* our TestRequest is unanswered */
        int64_t test_sent, test_n;
        char test_id[32];
        int resend_pending;  /* our ResendRequest is outstanding */
        int64_t resend_upto; /* ...until next_in passes this */
        char frame[TE_FIX_MAX_FRAME + TE_FIX_ENC_SLACK]; /* encoding scratch */
        te_buf_t out;
};

static void ev_clear(te_fix_sev_t *ev)
{
        memset(ev, 0, sizeof *ev);
}

static void alertf(te_fix_sev_t *ev, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void alertf(te_fix_sev_t *ev, const char *fmt, ...)
{
        if (ev->alert[0])
                return; /* the first cause is the one reported */
        va_list ap;
        va_start(ap, fmt);
        te_verrf(ev->alert, sizeof ev->alert, fmt, ap);
        va_end(ap);
}

te_fix_session_t *te_fix_session_new(const te_fix_session_cfg_t *cfg, int64_t next_out,
                                     int64_t next_in, char *errstr, size_t errsz)
{
        if (!cfg->sender[0] || !cfg->target[0]) {
                te_errf(errstr, errsz, "SenderCompID and TargetCompID are required");
                return NULL;
        }
        if (cfg->heartbt_int < 1 || cfg->heartbt_int > 3600) {
                te_errf(errstr, errsz, "HeartBtInt %d outside 1..3600", cfg->heartbt_int);
                return NULL;
        }
        if (next_out < 1 || next_in < 1) {
                te_errf(errstr, errsz, "sequence numbers must be >= 1");
                return NULL;
        }
        te_fix_session_t *s = calloc(1, sizeof *s);
        if (!s) {
                te_errf(errstr, errsz, "out of memory");
                return NULL;
        }
        s->cfg = *cfg;
        if (s->cfg.logon_timeout_ms <= 0)
                s->cfg.logon_timeout_ms = 10000;
        if (s->cfg.logout_timeout_ms <= 0)
                s->cfg.logout_timeout_ms = 2000;
        s->next_out = next_out;
        s->next_in = next_in;
        te_buf_init(&s->out, TE_FIX_OUT_MAX);
        return s;
}

void te_fix_session_destroy(te_fix_session_t *s)
{
        if (!s)
                return;
        te_buf_free(&s->out);
        memset(s->cfg.password, 0, sizeof s->cfg.password);
        free(s);
}

/* ---- sending -------------------------------------------------------------- */

static void begin_seq(te_fix_session_t *s, te_fix_enc_t *e, const char *msg_type,
                      int64_t seq, int poss_dup)
{
        te_fix_hdr_t h = {.msg_type = msg_type,
                          .sender = s->cfg.sender,
                          .target = s->cfg.target,
                          .seq = seq,
                          .sending_ms = s->now,
                          .poss_dup = poss_dup,
                          .orig_sending_ms = s->now};
        te_fix_enc_begin_v(e, s->frame, sizeof s->frame, &h, s->cfg.begin_string);
}

static void begin(te_fix_session_t *s, te_fix_enc_t *e, const char *msg_type)
{
        begin_seq(s, e, msg_type, s->next_out, 0);
}

/* Queue the frame; consume a MsgSeqNum unless it reused an old one (gap fill). */
static int queue(te_fix_session_t *s, te_fix_enc_t *e, int consume, te_fix_sev_t *ev)
{
        long n = te_fix_enc_end(e);
        if (n < 0) {
                alertf(ev, "FIX: an outgoing message could not be encoded");
                return -1;
        }
        if (te_buf_append(&s->out, s->frame, (size_t)n) != 0) {
                alertf(ev, "FIX: output queue over %d bytes, disconnecting",
                       TE_FIX_OUT_MAX);
                ev->disconnect = 1;
                return -1;
        }
        if (consume)
                s->next_out++;
        s->last_sent = s->now;
        return 0;
}

static void send_logout(te_fix_session_t *s, const char *text, te_fix_sev_t *ev)
{
        te_fix_enc_t e;
        begin(s, &e, "5");
        if (text && text[0])
                te_fix_enc_str(&e, TE_FIX_T_TEXT, text);
        (void)queue(s, &e, 1, ev);
        s->st = TE_FIX_ST_LOGOUT_SENT;
        s->state_since = s->now;
}

/* Logout with a reason and close: the session cannot go on. */
static void fail_session(te_fix_session_t *s, const char *text, te_fix_sev_t *ev)
{
        send_logout(s, text, ev);
        alertf(ev, "FIX session ended: %s", text);
        ev->disconnect = 1;
}

static void send_reject(te_fix_session_t *s, int64_t ref_seq, int ref_tag,
                        const char *ref_type, int reason, const char *text,
                        te_fix_sev_t *ev)
{
        te_fix_enc_t e;
        begin(s, &e, "3");
        te_fix_enc_int(&e, TE_FIX_T_REFSEQNUM, ref_seq);
        if (ref_tag > 0)
                te_fix_enc_int(&e, TE_FIX_T_REFTAGID, ref_tag);
        if (ref_type && ref_type[0])
                te_fix_enc_str(&e, TE_FIX_T_REFMSGTYPE, ref_type);
        te_fix_enc_int(&e, TE_FIX_T_SESSIONREJECTREASON, reason);
        if (text && text[0])
                te_fix_enc_str(&e, TE_FIX_T_TEXT, text);
        (void)queue(s, &e, 1, ev);
}

static void send_heartbeat(te_fix_session_t *s, const char *test_id, size_t idlen,
                           te_fix_sev_t *ev)
{
        te_fix_enc_t e;
        begin(s, &e, "0");
        if (test_id) {
                char id[128];
                if (idlen >= sizeof id)
                        idlen = sizeof id - 1;
                memcpy(id, test_id, idlen);
                id[idlen] = '\0';
                te_fix_enc_str(&e, TE_FIX_T_TESTREQID, id);
        }
        (void)queue(s, &e, 1, ev);
}

/* Ask for everything from next_in on, once: a second gap while the first request
 * is outstanding only widens what we wait for. */
static void request_resend(te_fix_session_t *s, int64_t seen, te_fix_sev_t *ev)
{
        if (seen > s->resend_upto)
                s->resend_upto = seen;
        if (s->resend_pending)
                return;
        te_fix_enc_t e;
        begin(s, &e, "2");
        te_fix_enc_int(&e, TE_FIX_T_BEGINSEQNO, s->next_in);
        te_fix_enc_int(&e, TE_FIX_T_ENDSEQNO, 0);
        if (queue(s, &e, 1, ev) == 0) {
                s->resend_pending = 1;
                ev->resend = 1;
                alertf(ev,
                       "FIX: MsgSeqNum gap, expected %lld, received %lld; "
                       "ResendRequest sent",
                       (long long)s->next_in, (long long)seen);
        }
}

/* Their ResendRequest: one gap fill over the whole range (see fix_session.h). */
static void answer_resend(te_fix_session_t *s, const te_fix_msg_t *m, te_fix_sev_t *ev)
{
        int64_t from, to;
        if (te_fix_get_int(m, TE_FIX_T_BEGINSEQNO, &from) != 0 ||
            te_fix_get_int(m, TE_FIX_T_ENDSEQNO, &to) != 0) {
                send_reject(s, m->seq, TE_FIX_T_BEGINSEQNO, "2",
                            TE_FIX_RR_REQUIRED_MISSING,
                            "BeginSeqNo and EndSeqNo must be integers", ev);
                return;
        }
        if (from < 1 || from >= s->next_out || (to != 0 && to < from)) {
                send_reject(s, m->seq, TE_FIX_T_BEGINSEQNO, "2", TE_FIX_RR_BAD_VALUE,
                            "BeginSeqNo outside the messages sent", ev);
                return;
        }
        te_fix_enc_t e;
        begin_seq(s, &e, "4", from, 1);
        te_fix_enc_str(&e, TE_FIX_T_GAPFILLFLAG, "Y");
        te_fix_enc_int(&e, TE_FIX_T_NEWSEQNO, s->next_out);
        (void)queue(s, &e, 0, ev);
}

/* ---- connection ------------------------------------------------------------ */

int te_fix_session_connected(te_fix_session_t *s, int64_t now_ms, te_fix_sev_t *ev)
{
        ev_clear(ev);
        s->now = now_ms;
        te_buf_reset(&s->out);
        s->test_pending = s->resend_pending = 0;
        s->resend_upto = 0;
        s->last_recv = s->last_sent = now_ms;
        if (s->cfg.reset_on_logon)
                s->next_out = s->next_in = 1;
        te_fix_enc_t e;
        begin(s, &e, "A");
        te_fix_enc_int(&e, TE_FIX_T_ENCRYPTMETHOD, 0);
        te_fix_enc_int(&e, TE_FIX_T_HEARTBTINT, s->cfg.heartbt_int);
        if (s->cfg.reset_on_logon)
                te_fix_enc_str(&e, TE_FIX_T_RESETSEQNUMFLAG, "Y");
        if (s->cfg.password[0])
                te_fix_enc_str(&e, TE_FIX_T_PASSWORD, s->cfg.password);
        s->st = TE_FIX_ST_LOGON_SENT;
        s->state_since = now_ms;
        if (queue(s, &e, 1, ev) != 0) {
                ev->disconnect = 1;
                return -1;
        }
        return 0;
}

void te_fix_session_disconnected(te_fix_session_t *s)
{
        s->st = TE_FIX_ST_DOWN;
        te_buf_reset(&s->out);
        s->test_pending = s->resend_pending = 0;
}

static int field_is(const te_fix_msg_t *m, int tag, const char *want)
{
        size_t n;
        const char *v = te_fix_get(m, tag, &n);
        return v && n == strlen(want) && memcmp(v, want, n) == 0;
}

static void on_logon(te_fix_session_t *s, const te_fix_msg_t *m, te_fix_sev_t *ev)
{
        int64_t hb;
        if (te_fix_get_int(m, TE_FIX_T_HEARTBTINT, &hb) != 0) {
                fail_session(s, "Logon without a valid HeartBtInt", ev);
                return;
        }
        if (s->st != TE_FIX_ST_LOGON_SENT)
                return; /* a second Logon changes nothing */
        s->st = TE_FIX_ST_ACTIVE;
        ev->logged_on = 1;
}

/* Their Logout says our MsgSeqNum is too low: logging on again would only consume
 * one more number per refused Logon. Say what to do instead. */
static int logout_seq_too_low(te_fix_session_t *s, const char *text, te_fix_sev_t *ev)
{
        if (!strstr(text, "MsgSeqNum too low"))
                return 0;
        ev->seq_too_low = 1;
        ev->disconnect = 1;
        alertf(ev,
               "FIX: %s by the counterparty: %s; not retrying: set fix_sessions.next_out "
               "for %s/%s to the number it expects, or agree a reset "
               "(fix.reset_seq_on_logon)",
               s->st == TE_FIX_ST_LOGON_SENT ? "Logon refused" : "logged out", text,
               s->cfg.sender, s->cfg.target);
        return 1;
}

static void on_logout(te_fix_session_t *s, const te_fix_msg_t *m, te_fix_sev_t *ev)
{
        char t[160] = "";
        (void)te_fix_get_str(m, TE_FIX_T_TEXT, t, sizeof t);
        if (logout_seq_too_low(s, t, ev))
                return;
        if (s->st != TE_FIX_ST_LOGOUT_SENT) {
                char text[128] = "";
                (void)te_fix_get_str(m, TE_FIX_T_TEXT, text, sizeof text);
                send_logout(s, NULL, ev);
                alertf(ev, "FIX: counterparty logged out%s%s", text[0] ? ": " : "", text);
        }
        ev->disconnect = 1;
}

static void seq_too_low(te_fix_session_t *s, const te_fix_msg_t *m, te_fix_sev_t *ev)
{
        char text[128];
        snprintf(text, sizeof text, "MsgSeqNum too low, expecting %lld but received %lld",
                 (long long)s->next_in, (long long)m->seq);
        fail_session(s, text, ev);
}

static void in_order_done(te_fix_session_t *s)
{
        if (s->resend_pending && s->next_in > s->resend_upto)
                s->resend_pending = 0;
}

static void on_seq_reset(te_fix_session_t *s, const te_fix_msg_t *m, te_fix_sev_t *ev)
{
        int gap_fill = te_fix_get_bool(m, TE_FIX_T_GAPFILLFLAG) == 1;
        int poss_dup = te_fix_get_bool(m, TE_FIX_T_POSSDUPFLAG) == 1;
        if (gap_fill && m->seq < s->next_in) {
                if (!poss_dup)
                        seq_too_low(s, m, ev);
                return;
        }
        if (gap_fill && m->seq > s->next_in) {
                request_resend(s, m->seq, ev);
                return;
        }
        int64_t new_seq;
        int rc = te_fix_get_int(m, TE_FIX_T_NEWSEQNO, &new_seq);
        if (rc != 0 || new_seq < s->next_in || (gap_fill && new_seq == s->next_in)) {
                send_reject(s, m->seq, TE_FIX_T_NEWSEQNO, "4",
                            rc == -1 ? TE_FIX_RR_REQUIRED_MISSING : TE_FIX_RR_BAD_VALUE,
                            "NewSeqNo missing or not above the expected MsgSeqNum", ev);
                alertf(ev, "FIX: SequenceReset refused (NewSeqNo below %lld)",
                       (long long)s->next_in);
                return;
        }
        s->next_in = new_seq;
        in_order_done(s);
}

/* Their Logon with ResetSeqNumFlag=Y in an active session: both sides start over. */
static void on_reset_logon(te_fix_session_t *s, const te_fix_msg_t *m, te_fix_sev_t *ev)
{
        int64_t hb;
        if (te_fix_get_int(m, TE_FIX_T_HEARTBTINT, &hb) != 0) {
                fail_session(s, "Logon without a valid HeartBtInt", ev);
                return;
        }
        s->next_in = 2;
        s->next_out = 1;
        s->resend_pending = 0;
        s->resend_upto = 0;
        s->test_pending = 0;
        te_fix_enc_t e;
        begin(s, &e, "A");
        te_fix_enc_int(&e, TE_FIX_T_ENCRYPTMETHOD, 0);
        te_fix_enc_int(&e, TE_FIX_T_HEARTBTINT, s->cfg.heartbt_int);
        te_fix_enc_str(&e, TE_FIX_T_RESETSEQNUMFLAG, "Y");
        if (queue(s, &e, 1, ev) != 0) {
                ev->disconnect = 1;
                return;
        }
        ev->reset = 1;
        ev->logged_on = 1;
        alertf(ev, "FIX: the counterparty reset the sequence numbers (Logon with "
                   "ResetSeqNumFlag=Y); both restart at 1, open orders are reconciled");
}

/* PossDupFlag=Y: OrigSendingTime present and not later than SendingTime. @returns 1
 * when it passes; else the message was rejected (and its number consumed when it was
 * the expected one). */
static int poss_dup_ok(te_fix_session_t *s, const te_fix_msg_t *m, te_fix_sev_t *ev)
{
        size_t ol = 0, sl = 0;
        const char *orig = te_fix_get(m, TE_FIX_T_ORIGSENDINGTIME, &ol);
        const char *sent = te_fix_get(m, TE_FIX_T_SENDINGTIME, &sl);
        int64_t o_ms = 0, s_ms = 0;
        int reason = 0;
        const char *why = NULL;
        if (!orig) {
                reason = TE_FIX_RR_REQUIRED_MISSING;
                why = "PossDupFlag=Y without OrigSendingTime";
        } else if (te_fix_parse_time(orig, ol, &o_ms) != 0) {
                reason = TE_FIX_RR_BAD_FORMAT;
                why = "OrigSendingTime is not a UTC timestamp";
        } else if (sent && te_fix_parse_time(sent, sl, &s_ms) == 0 && o_ms > s_ms) {
                reason = TE_FIX_RR_BAD_VALUE;
                why = "OrigSendingTime later than SendingTime";
        }
        if (!why)
                return 1;
        send_reject(s, m->seq, TE_FIX_T_ORIGSENDINGTIME, m->msg_type, reason, why, ev);
        alertf(ev, "FIX: rejected message %lld (35=%s): %s", (long long)m->seq,
               m->msg_type, why);
        if (m->seq == s->next_in) {
                s->next_in++;
                in_order_done(s);
        }
        return 0;
}

void te_fix_session_on_garbled(te_fix_session_t *s, const char *why, te_fix_sev_t *ev)
{
        (void)s;
        ev_clear(ev);
        alertf(ev, "FIX: garbled frame ignored: %s", why);
}

void te_fix_session_on_frame(te_fix_session_t *s, const char *frame, size_t len,
                             int64_t now_ms, te_fix_msg_t *m, te_fix_sev_t *ev)
{
        ev_clear(ev);
        s->now = now_ms;
        if (s->st == TE_FIX_ST_DOWN)
                return;
        te_fix_rc_t rc = te_fix_parse(frame, len, m);
        if (rc == TE_FIX_EGARBLED) {
                alertf(ev, "FIX: garbled frame ignored: %s", m->reject_text);
                return;
        }
        s->last_recv = now_ms;
        int comp_ok = field_is(m, TE_FIX_T_SENDERCOMPID, s->cfg.target) &&
                      field_is(m, TE_FIX_T_TARGETCOMPID, s->cfg.sender);
        if (!comp_ok) {
                if (m->seq > 0)
                        send_reject(s, m->seq, TE_FIX_T_SENDERCOMPID, m->msg_type,
                                    TE_FIX_RR_COMPID, "CompID problem", ev);
                fail_session(s, "SenderCompID or TargetCompID is not ours", ev);
                return;
        }
        if (m->seq == 0) {
                fail_session(s, "MsgSeqNum missing or not a number", ev);
                return;
        }
        int is_logon = strcmp(m->msg_type, "A") == 0;
        if (s->st == TE_FIX_ST_LOGON_SENT && strcmp(m->msg_type, "5") == 0) {
                /* our Logon refused: their reason, no answer, close */
                char text[160] = "";
                (void)te_fix_get_str(m, TE_FIX_T_TEXT, text, sizeof text);
                if (logout_seq_too_low(s, text, ev))
                        return;
                alertf(ev, "FIX: Logon refused by the counterparty: %s",
                       text[0] ? text : "(no reason given)");
                ev->disconnect = 1;
                return;
        }
        if (s->st == TE_FIX_ST_LOGON_SENT && !is_logon) {
                fail_session(s, "first message is not a Logon", ev);
                return;
        }
        if (rc == TE_FIX_EREJECT) {
                if (m->seq > s->next_in) {
                        request_resend(s, m->seq, ev);
                } else if (m->seq == s->next_in) {
                        send_reject(s, m->seq, m->reject_tag, m->msg_type,
                                    m->reject_reason, m->reject_text, ev);
                        alertf(ev, "FIX: rejected message %lld (35=%s): %s",
                               (long long)m->seq, m->msg_type, m->reject_text);
                        s->next_in++;
                        in_order_done(s);
                } else if (te_fix_get_bool(m, TE_FIX_T_POSSDUPFLAG) != 1) {
                        seq_too_low(s, m, ev);
                }
                return;
        }
        if (is_logon && s->st == TE_FIX_ST_ACTIVE && m->seq == 1 &&
            te_fix_get_bool(m, TE_FIX_T_RESETSEQNUMFLAG) == 1) {
                on_reset_logon(s, m, ev);
                return;
        }
        if (strcmp(m->msg_type, "4") != 0 && m->seq <= s->next_in &&
            te_fix_get_bool(m, TE_FIX_T_POSSDUPFLAG) == 1 && !poss_dup_ok(s, m, ev))
                return;
        if (strcmp(m->msg_type, "4") == 0) {
                on_seq_reset(s, m, ev);
                return;
        }
        if (m->seq < s->next_in) {
                if (te_fix_get_bool(m, TE_FIX_T_POSSDUPFLAG) != 1)
                        seq_too_low(s, m, ev);
                return; /* a duplicate we already have */
        }
        if (m->seq > s->next_in) {
                if (is_logon)
                        on_logon(s, m, ev);
                else if (strcmp(m->msg_type, "5") == 0)
                        on_logout(s, m, ev);
                else if (strcmp(m->msg_type, "2") == 0)
                        answer_resend(s, m, ev);
                if (!ev->disconnect)
                        request_resend(s, m->seq, ev);
                return;
        }
        s->next_in++;
        in_order_done(s);
        const char *t = m->msg_type;
        if (is_logon) {
                on_logon(s, m, ev);
        } else if (strcmp(t, "0") == 0) {
                size_t n;
                const char *id = te_fix_get(m, TE_FIX_T_TESTREQID, &n);
                if (s->test_pending && id && n == strlen(s->test_id) &&
                    memcmp(id, s->test_id, n) == 0)
                        s->test_pending = 0;
        } else if (strcmp(t, "1") == 0) {
                size_t n;
                const char *id = te_fix_get(m, TE_FIX_T_TESTREQID, &n);
                if (id)
                        send_heartbeat(s, id, n, ev);
                else
                        send_reject(s, m->seq, TE_FIX_T_TESTREQID, "1",
                                    TE_FIX_RR_REQUIRED_MISSING, "TestReqID missing", ev);
        } else if (strcmp(t, "2") == 0) {
                answer_resend(s, m, ev);
        } else if (strcmp(t, "3") == 0) {
                int64_t ref = 0, reason = -1;
                char text[128] = "";
                (void)te_fix_get_int(m, TE_FIX_T_REFSEQNUM, &ref);
                (void)te_fix_get_int(m, TE_FIX_T_SESSIONREJECTREASON, &reason);
                (void)te_fix_get_str(m, TE_FIX_T_TEXT, text, sizeof text);
                alertf(ev,
                       "FIX: counterparty rejected our message %lld (reason %lld): %s",
                       (long long)ref, (long long)reason, text);
                ev->rejected_seq = ref;
        } else if (strcmp(t, "5") == 0) {
                on_logout(s, m, ev);
        } else {
                ev->app = 1;
        }
}

void te_fix_session_tick(te_fix_session_t *s, int64_t now_ms, te_fix_sev_t *ev)
{
        ev_clear(ev);
        s->now = now_ms;
        int64_t hb = (int64_t)s->cfg.heartbt_int * 1000;
        switch (s->st) {
        case TE_FIX_ST_DOWN:
                return;
        case TE_FIX_ST_LOGON_SENT:
                if (now_ms - s->state_since >= s->cfg.logon_timeout_ms) {
                        alertf(ev, "FIX: no Logon answer within %lld ms",
                               (long long)s->cfg.logon_timeout_ms);
                        ev->disconnect = 1;
                }
                return;
        case TE_FIX_ST_LOGOUT_SENT:
                if (now_ms - s->state_since >= s->cfg.logout_timeout_ms)
                        ev->disconnect = 1;
                return;
        case TE_FIX_ST_ACTIVE:
                break;
        }
        if (s->test_pending && s->last_recv > s->test_sent)
                s->test_pending = 0; /* something arrived: the line is alive */
        if (s->test_pending && now_ms - s->test_sent >= hb) {
                alertf(ev, "FIX: no answer to TestRequest %s within %d s", s->test_id,
                       s->cfg.heartbt_int);
                ev->disconnect = 1;
                return;
        }
        if (!s->test_pending && now_ms - s->last_recv >= hb + hb / 5) {
                te_fix_enc_t e;
                snprintf(s->test_id, sizeof s->test_id, "TEST%lld",
                         (long long)++s->test_n);
                begin(s, &e, "1");
                te_fix_enc_str(&e, TE_FIX_T_TESTREQID, s->test_id);
                if (queue(s, &e, 1, ev) == 0) {
                        s->test_pending = 1;
                        s->test_sent = now_ms;
                }
                return;
        }
        if (now_ms - s->last_sent >= hb)
                send_heartbeat(s, NULL, 0, ev);
}

void te_fix_session_logout(te_fix_session_t *s, const char *text, int64_t now_ms,
                           te_fix_sev_t *ev)
{
        ev_clear(ev);
        s->now = now_ms;
        if (s->st == TE_FIX_ST_ACTIVE || s->st == TE_FIX_ST_LOGON_SENT)
                send_logout(s, text, ev);
}

int te_fix_session_app_begin(te_fix_session_t *s, te_fix_enc_t *e, const char *msg_type,
                             int64_t now_ms)
{
        if (s->st != TE_FIX_ST_ACTIVE)
                return -1;
        s->now = now_ms;
        begin(s, e, msg_type);
        return 0;
}

int64_t te_fix_session_app_end(te_fix_session_t *s, te_fix_enc_t *e)
{
        te_fix_sev_t ev;
        ev_clear(&ev);
        int64_t seq = s->next_out;
        if (s->st != TE_FIX_ST_ACTIVE || queue(s, e, 1, &ev) != 0)
                return -1;
        return seq;
}

void te_fix_session_out(const te_fix_session_t *s, const char **data, size_t *len)
{
        *data = (const char *)s->out.data;
        *len = s->out.len;
}

void te_fix_session_out_consume(te_fix_session_t *s, size_t n)
{
        if (n >= s->out.len) {
                s->out.len = 0;
                return;
        }
        memmove(s->out.data, s->out.data + n, s->out.len - n);
        s->out.len -= n;
}

te_fix_state_t te_fix_session_state(const te_fix_session_t *s)
{
        return s->st;
}

void te_fix_session_seqs(const te_fix_session_t *s, int64_t *next_out, int64_t *next_in)
{
        *next_out = s->next_out;
        *next_in = s->next_in;
}
