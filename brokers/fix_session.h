/*
 * fix_session: the FIX 4.4 session layer of an initiator, as a pure state machine.
 *
 * No sockets and no clock: the caller says when the connection is up
 * (te_fix_session_connected), hands over every frame it reads
 * (te_fix_session_on_frame, or te_fix_session_on_garbled for bytes that were not a
 * frame), calls te_fix_session_tick with the time now, and writes whatever the
 * session queued (te_fix_session_out / _out_consume) to the socket. Times are ms since
 * the epoch (UTC), always passed in.
 *
 * Sequence numbers. next_out is the MsgSeqNum of our next message, next_in the one we
 * expect. Both start where the caller says (read from its store) and the caller saves
 * them after each call (te_fix_session_seqs); with reset_on_logon the Logon carries
 * ResetSeqNumFlag 141=Y and both restart at 1.
 *
 * What an inbound frame does (the FIX session rules, in the order they are checked):
 *  - not a frame (garbled): ignored, no sequence number consumed, an alert;
 *  - SenderCompID/TargetCompID not ours: Reject 373=9, Logout, disconnect;
 *  - MsgSeqNum missing: Logout, disconnect;
 *  - before we are logged on, a Logout is our Logon refused (alert with their
 *    Text, disconnect, no answer); anything else but a Logon: Logout, disconnect;
 *  - a field fails a check (te_fix_parse's TE_FIX_EREJECT) and its MsgSeqNum is the
 *    one expected: Reject (35=3) with RefSeqNum, RefTagID, RefMsgType and
 *    SessionRejectReason, and the number is consumed;
 *  - SequenceReset: with GapFillFlag=Y it obeys the MsgSeqNum rules below and moves
 *    next_in to NewSeqNo; without, NewSeqNo applies whatever MsgSeqNum says. A
 *    NewSeqNo below next_in is rejected (373=5, 371=36);
 *  - a Logout whose Text says "MsgSeqNum too low" (QuickFIX's words, and the spec's
 *    example) refuses our number: ev->seq_too_low and an alert naming the fix (set
 *    fix_sessions.next_out to the number they expect, or agree a reset), disconnect.
 *    The caller must not log on again by itself: each refused Logon would consume a
 *    number and so walk ours up to theirs, hiding the messages in between;
 *  - a Logon with ResetSeqNumFlag=Y and MsgSeqNum 1 while ACTIVE (the counterparty
 *    resets the session): we answer with our own Logon 141=Y at MsgSeqNum 1,
 *    next_out becomes 2 and next_in 2, any outstanding ResendRequest is forgotten,
 *    and ev->reset and ev->logged_on are set (the caller reconciles its open orders:
 *    messages around a reset may be lost). A Logon 141=Y at any other number is no
 *    reset and follows the number rules below (QuickFIX, having reset, answers our
 *    acknowledgement with one more Logon 141=Y at 2: in order, it changes nothing);
 *  - PossDupFlag=Y on anything but a SequenceReset, at or below the expected
 *    MsgSeqNum: OrigSendingTime 122 must be there (else Reject 373=1, 371=122) and
 *    not later than SendingTime (else Reject 373=5; unreadable: 373=6); a rejected
 *    message is not handed on, and its number is consumed when it was the expected
 *    one;
 *  - MsgSeqNum lower than expected: with PossDupFlag=Y a duplicate, ignored; without,
 *    Logout ("MsgSeqNum too low") and disconnect;
 *  - MsgSeqNum higher than expected: one ResendRequest from next_in to infinity
 *    (no second one while the first is outstanding) and the message is dropped, to
 *    arrive again in order. A Logon, Logout or ResendRequest still takes effect.
 *  - in order: next_in moves on; Heartbeat clears our TestRequest, TestRequest is
 *    answered with a Heartbeat carrying its TestReqID, ResendRequest is answered with
 *    one SequenceReset-GapFill (PossDupFlag=Y) over the range asked (we never resend
 *    orders: a stale order is worse than a gap, reconciliation settles their state),
 *    Logout is answered (unless we started it) and ends the session, Reject is an
 *    alert and names the message it refers to (ev->rejected_seq); any other message
 *    type is handed to the caller (ev->app).
 * Timers (tick): a Heartbeat when we sent nothing for HeartBtInt; a TestRequest when
 * nothing came for HeartBtInt plus 20%; disconnect when that TestRequest gets no
 * answer within another HeartBtInt, when the Logon is not answered within
 * logon_timeout_ms, or when our Logout is not answered within logout_timeout_ms.
 *
 * Not thread-safe; one session per connection attempt (te_fix_session_connected
 * starts over on the same object).
 */
#ifndef TE_FIX_SESSION_H
#define TE_FIX_SESSION_H

#include <stddef.h>
#include <stdint.h>

#include "fix_proto.h"

#define TE_FIX_COMPID_MAX 64
#define TE_FIX_OUT_MAX    (256 * 1024) /* queued bytes; more is an error */

typedef struct te_fix_session_cfg_s {
        char sender[TE_FIX_COMPID_MAX]; /* our SenderCompID */
        char target[TE_FIX_COMPID_MAX]; /* their CompID */
        int heartbt_int;                /* seconds, 1..3600 */
        int reset_on_logon;             /* 1: Logon with 141=Y, sequences restart at 1 */
        char password[128];             /* Password 554 in the Logon, "" for none */
        int64_t logon_timeout_ms;       /* 0: 10 s */
        int64_t logout_timeout_ms;      /* 0: 2 s */
        char begin_string[16];          /* "" (FIX.4.4) or FIX.4.2 */
} te_fix_session_cfg_t;

typedef enum {
        TE_FIX_ST_DOWN = 0,       /* no connection */
        TE_FIX_ST_LOGON_SENT = 1, /* connected, waiting for their Logon */
        TE_FIX_ST_ACTIVE = 2,     /* logged on: application messages may flow */
        TE_FIX_ST_LOGOUT_SENT = 3 /* waiting for their Logout */
} te_fix_state_t;

/* What one call did, for the caller to act on. */
typedef struct te_fix_sev_s {
        int app;        /* the frame is an application message: read it from the msg */
        int logged_on;  /* the session just became active */
        int resend;     /* we just asked for a resend (a gap in their numbers) */
        int disconnect; /* write what is queued, then close the connection */
        int64_t rejected_seq; /* > 0: they rejected (35=3) our message of this number */
        int seq_too_low;      /* they refused our MsgSeqNum as too low: do not reconnect
                               * (alert says what to fix); the session is over */
        int reset;            /* they reset both sequences mid-session (Logon 141=Y) */
        char alert[256]; /* non-empty: raise this as an Alert (never holds secrets) */
} te_fix_sev_t;

typedef struct te_fix_session_s te_fix_session_t;

/** @returns a session in state DOWN, or NULL (bad config: errstr says why, or OOM).
 *  next_out / next_in: the numbers saved from the last session (1, 1 for none). */
te_fix_session_t *te_fix_session_new(const te_fix_session_cfg_t *cfg, int64_t next_out,
                                     int64_t next_in, char *errstr, size_t errsz);
void te_fix_session_destroy(te_fix_session_t *s); /* accepts NULL */

/** The connection is up: queue our Logon. @returns 0, or -1 if it could not be
 *  encoded (ev->alert says why). */
int te_fix_session_connected(te_fix_session_t *s, int64_t now_ms, te_fix_sev_t *ev);
/** The connection was lost or closed: back to DOWN (sequence numbers kept, output
 *  dropped). */
void te_fix_session_disconnected(te_fix_session_t *s);
/** One whole frame as te_fix_frame_next_v returned it. On ev->app, *m holds the parsed
 *  message (pointing into `frame`) for the caller to read before the next call. */
void te_fix_session_on_frame(te_fix_session_t *s, const char *frame, size_t len,
                             int64_t now_ms, te_fix_msg_t *m, te_fix_sev_t *ev);
/** Bytes te_fix_frame_next_v called garbled (already skipped by the caller). */
void te_fix_session_on_garbled(te_fix_session_t *s, const char *why, te_fix_sev_t *ev);
/** Timers: heartbeat, test request, logon and logout timeouts. */
void te_fix_session_tick(te_fix_session_t *s, int64_t now_ms, te_fix_sev_t *ev);
/** Start our Logout (state LOGOUT_SENT). No-op unless connected. */
void te_fix_session_logout(te_fix_session_t *s, const char *text, int64_t now_ms,
                           te_fix_sev_t *ev);

/** Begin an application message of `msg_type` with the next MsgSeqNum; the caller adds
 *  the body with te_fix_enc_* on `e` and calls te_fix_session_app_end. @returns 0, or
 *  -1 when the session is not ACTIVE. */
int te_fix_session_app_begin(te_fix_session_t *s, te_fix_enc_t *e, const char *msg_type,
                             int64_t now_ms);
/** Finish it: queue the frame and consume the MsgSeqNum. @returns the MsgSeqNum used,
 *  or -1 when the frame failed (nothing queued, number not consumed). */
int64_t te_fix_session_app_end(te_fix_session_t *s, te_fix_enc_t *e);

/** The bytes queued for the socket (may be empty). */
void te_fix_session_out(const te_fix_session_t *s, const char **data, size_t *len);
/** The first n queued bytes were written. */
void te_fix_session_out_consume(te_fix_session_t *s, size_t n);

te_fix_state_t te_fix_session_state(const te_fix_session_t *s);
/** The numbers to save: our next MsgSeqNum and the one we expect. */
void te_fix_session_seqs(const te_fix_session_t *s, int64_t *next_out, int64_t *next_in);

#endif
