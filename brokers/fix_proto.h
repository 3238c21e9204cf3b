/*
 * fix_proto: the FIX 4.4 tag=value frame layer (no session state, no sockets, no
 * allocation).
 *
 * A frame is "8=FIX.4.4<SOH>9=<BodyLength><SOH>" followed by BodyLength bytes of body
 * (starting with "35=<MsgType><SOH>" and ending with an SOH), then
 * "10=<CheckSum><SOH>", CheckSum being the sum of every byte before "10=" modulo 256,
 * written as three digits.
 *
 * Encoding (te_fix_enc_*): the caller gives a fixed buffer; the header fields
 * 8, 9, 35, 49, 56, 34, 52 (and 43/122 when a message is resent) are written in that
 * order, then the body fields in the order the caller adds them, then 10. BodyLength
 * and CheckSum are filled in by te_fix_enc_end. Any field that does not fit, a value
 * containing SOH, or an empty value makes the whole frame fail (te_fix_enc_end
 * returns -1); nothing partial is ever sent.
 *
 * BeginString. FIX.4.4 unless a function ending in _v names another: FIX.4.2 is the
 * only other one known (te_fix_begin_known); both are 7 bytes, so every bound below
 * holds for either. A frame of the other version is garbled to a _v function.
 *
 * Decoding is in two steps:
 *  - te_fix_frame_next_v finds one frame at the start of a byte stream: TE_FIX_EAGAIN
 *    when more bytes are needed, TE_FIX_OK with the frame length, or TE_FIX_EGARBLED
 *    when the bytes cannot be a valid frame (wrong BeginString, BodyLength not digits,
 *    too long or not ending at an SOH, frame over TE_FIX_MAX_FRAME, CheckSum wrong or
 *    malformed). FIX says a garbled frame is ignored without consuming a sequence
 *    number; the caller drops it (te_fix_resync_v tells how many bytes to skip to the
 *    next "8=FIX.4.4") or ends the session.
 *  - te_fix_parse splits a whole frame into fields (at most TE_FIX_MAX_FIELDS) and
 *    checks each: a tag of digits with no leading zero (1..TE_FIX_MAX_TAG), an '='
 *    and a non-empty value, no tag twice (we use no repeating groups), 35 the third
 *    field. TE_FIX_EREJECT with a SessionRejectReason (373) and the tag at fault
 *    means the frame was well delimited but a field is wrong: FIX answers it with a
 *    Reject (35=3) that refers to MsgSeqNum 34, which the parse still reports when
 *    it could read it.
 */
#ifndef TE_FIX_PROTO_H
#define TE_FIX_PROTO_H

#include <stddef.h>
#include <stdint.h>

#define TE_FIX_BEGIN      "FIX.4.4"
#define TE_FIX_BEGIN42    "FIX.4.2" /* the older dialect some counterparties speak */
#define TE_FIX_SOH        '\x01'
#define TE_FIX_MAX_FRAME  8192 /* whole frame, bytes; a longer frame is garbled */
#define TE_FIX_MAX_FIELDS 192  /* fields in one frame, 8, 9 and 10 included */
#define TE_FIX_MAX_TAG    99999
#define TE_FIX_TIME_LEN   22 /* "YYYYMMDD-HH:MM:SS.sss" plus NUL */
/* An encoder buffer needs this many bytes beyond the frame it will hold (the room
 * kept for a 5-digit BodyLength while the body is written). */
#define TE_FIX_ENC_SLACK 3

typedef enum {
        TE_FIX_OK = 0,
        TE_FIX_EAGAIN = 1,   /* need more bytes */
        TE_FIX_EGARBLED = 2, /* not a valid frame: ignore it (or close) */
        TE_FIX_EREJECT = 3,  /* well framed, a field is wrong: answer with 35=3 */
} te_fix_rc_t;

/* SessionRejectReason (373) values we produce. */
enum {
        TE_FIX_RR_INVALID_TAG = 0,
        TE_FIX_RR_REQUIRED_MISSING = 1,
        TE_FIX_RR_UNDEFINED_TAG = 3,
        TE_FIX_RR_NO_VALUE = 4,
        TE_FIX_RR_BAD_VALUE = 5,
        TE_FIX_RR_BAD_FORMAT = 6,
        TE_FIX_RR_COMPID = 9,
        TE_FIX_RR_SENDING_TIME = 10,
        TE_FIX_RR_INVALID_MSGTYPE = 11,
        TE_FIX_RR_DUP_TAG = 13,
        TE_FIX_RR_ORDER = 14,
        TE_FIX_RR_OTHER = 99,
};

/* Tags used by the session and application layers. */
enum {
        TE_FIX_T_ACCOUNT = 1,
        TE_FIX_T_AVGPX = 6,
        TE_FIX_T_BEGINSEQNO = 7,
        TE_FIX_T_BEGINSTRING = 8,
        TE_FIX_T_BODYLENGTH = 9,
        TE_FIX_T_CHECKSUM = 10,
        TE_FIX_T_CLORDID = 11,
        TE_FIX_T_CUMQTY = 14,
        TE_FIX_T_ENDSEQNO = 16,
        TE_FIX_T_EXECTRANSTYPE = 20, /* FIX 4.2 only */
        TE_FIX_T_EXECID = 17,
        TE_FIX_T_HANDLINST = 21,
        TE_FIX_T_MSGSEQNUM = 34,
        TE_FIX_T_MSGTYPE = 35,
        TE_FIX_T_NEWSEQNO = 36,
        TE_FIX_T_ORDERID = 37,
        TE_FIX_T_ORDERQTY = 38,
        TE_FIX_T_ORDSTATUS = 39,
        TE_FIX_T_ORDTYPE = 40,
        TE_FIX_T_ORIGCLORDID = 41,
        TE_FIX_T_POSSDUPFLAG = 43,
        TE_FIX_T_PRICE = 44,
        TE_FIX_T_REFSEQNUM = 45,
        TE_FIX_T_SENDERCOMPID = 49,
        TE_FIX_T_SENDINGTIME = 52,
        TE_FIX_T_SIDE = 54,
        TE_FIX_T_SYMBOL = 55,
        TE_FIX_T_TARGETCOMPID = 56,
        TE_FIX_T_TEXT = 58,
        TE_FIX_T_TIMEINFORCE = 59,
        TE_FIX_T_TRANSACTTIME = 60,
        TE_FIX_T_ENCRYPTMETHOD = 98,
        TE_FIX_T_STOPPX = 99,
        TE_FIX_T_CXLREJREASON = 102,
        TE_FIX_T_ORDREJREASON = 103,
        TE_FIX_T_HEARTBTINT = 108,
        TE_FIX_T_TESTREQID = 112,
        TE_FIX_T_ORIGSENDINGTIME = 122,
        TE_FIX_T_GAPFILLFLAG = 123,
        TE_FIX_T_RESETSEQNUMFLAG = 141,
        TE_FIX_T_EXECTYPE = 150,
        TE_FIX_T_LEAVESQTY = 151,
        TE_FIX_T_REFTAGID = 371,
        TE_FIX_T_REFMSGTYPE = 372,
        TE_FIX_T_SESSIONREJECTREASON = 373,
        TE_FIX_T_CXLREJRESPONSETO = 434,
        TE_FIX_T_PASSWORD = 554,
        TE_FIX_T_MASSSTATUSREQID = 584,
        TE_FIX_T_MASSSTATUSREQTYPE = 585,
        TE_FIX_T_TOTNUMREPORTS = 911,
        TE_FIX_T_LASTRPTREQUESTED = 912,
        TE_FIX_T_LASTQTY = 32,
        TE_FIX_T_LASTPX = 31,
};

/* ---- encoding ------------------------------------------------------------- */

/* The header fields every outgoing message carries. */
typedef struct te_fix_hdr_s {
        const char *msg_type; /* "A", "0", "D", ... */
        const char *sender;   /* SenderCompID 49 */
        const char *target;   /* TargetCompID 56 */
        int64_t seq;          /* MsgSeqNum 34, >= 1 */
        int64_t sending_ms;   /* SendingTime 52, ms since the epoch (UTC) */
        int poss_dup;         /* 1: add PossDupFlag 43=Y and OrigSendingTime 122 */
        int64_t orig_sending_ms;
} te_fix_hdr_t;

/* A frame under construction in a caller's buffer. */
typedef struct te_fix_enc_s {
        char *buf;
        size_t cap;
        size_t len;        /* bytes of body written so far, from body_off */
        size_t body_off;   /* the body is written from here, the 8/9 prefix before */
        int failed;        /* something did not fit or was invalid */
        const char *begin; /* BeginString written by te_fix_enc_end */
} te_fix_enc_t;

/** `s` if it is a BeginString we speak (TE_FIX_BEGIN or TE_FIX_BEGIN42), TE_FIX_BEGIN
 *  for NULL or "", else NULL. */
const char *te_fix_begin_known(const char *s);

/** Start a frame in buf[0..cap) with BeginString `begin` (NULL: FIX.4.4; one we do
 *  not speak fails the frame) and the header fields of `h`. A failure is remembered
 *  and reported by te_fix_enc_end. */
void te_fix_enc_begin_v(te_fix_enc_t *e, char *buf, size_t cap, const te_fix_hdr_t *h,
                        const char *begin);
/** Append tag=value (value non-empty, without SOH). */
void te_fix_enc_str(te_fix_enc_t *e, int tag, const char *value);
/** Append tag=<decimal integer>. */
void te_fix_enc_int(te_fix_enc_t *e, int tag, int64_t v);
/** Append tag=<decimal number> for a quantity or price: the shortest form that reads
 *  back as the same double, never an exponent. NaN, infinities and magnitudes of
 *  1e15 or more fail the frame. */
void te_fix_enc_num(te_fix_enc_t *e, int tag, double v);
/** Append tag=<UTC timestamp YYYYMMDD-HH:MM:SS.sss>. */
void te_fix_enc_time(te_fix_enc_t *e, int tag, int64_t ms);
/** Finish the frame: BeginString, BodyLength in front, CheckSum behind. @returns the
 *  frame length (the frame is buf[0..len)), or -1 if anything did not fit or was
 *  invalid. */
long te_fix_enc_end(te_fix_enc_t *e);

/** Format ms since the epoch as "YYYYMMDD-HH:MM:SS.sss". @returns 0, or -1 when the
 *  time is outside years 1970..9999. */
int te_fix_fmt_time(char out[TE_FIX_TIME_LEN], int64_t ms);
/** Parse "YYYYMMDD-HH:MM:SS" with optional ".sss" into ms. @returns 0 or -1. */
int te_fix_parse_time(const char *s, size_t len, int64_t *ms);

/* ---- decoding ------------------------------------------------------------- */

/** Find the frame of BeginString `begin` (NULL: FIX.4.4; one we do not speak:
 *  garbled) at the start of data[0..len). On TE_FIX_OK *frame_len is its length.
 *  TE_FIX_EAGAIN: a valid prefix of a frame, read more (the prefix is never longer
 *  than TE_FIX_MAX_FRAME). TE_FIX_EGARBLED: errstr says why. */
te_fix_rc_t te_fix_frame_next_v(const uint8_t *data, size_t len, const char *begin,
                                size_t *frame_len, char *errstr, size_t errsz);
/** After TE_FIX_EGARBLED: how many bytes to drop so that data starts at the next
 *  "8=<begin><SOH>" (begin NULL: FIX.4.4), or at a tail that could be its beginning.
 *  Always >= 1. */
size_t te_fix_resync_v(const uint8_t *data, size_t len, const char *begin);

typedef struct te_fix_field_s {
        int tag;
        uint16_t off; /* value offset in the frame */
        uint16_t len; /* value length */
} te_fix_field_t;

/* A parsed frame: the fields point into the caller's frame, which must outlive it. */
typedef struct te_fix_msg_s {
        const char *frame;
        size_t frame_len;
        te_fix_field_t f[TE_FIX_MAX_FIELDS];
        size_t n;
        const char *begin; /* TE_FIX_BEGIN or TE_FIX_BEGIN42 */
        char msg_type[8];  /* 35, "" if unreadable */
        int64_t seq;       /* 34, 0 if missing or unreadable */
        int reject_reason; /* on TE_FIX_EREJECT: 373 value */
        int reject_tag;    /* on TE_FIX_EREJECT: 371 value, 0 if none */
        char reject_text[96];
} te_fix_msg_t;

/** Split a frame that te_fix_frame_next_v accepted (either BeginString we speak;
 *  m->begin says which) into fields and check them (see the
 *  top of this file). @returns TE_FIX_OK, TE_FIX_EREJECT (m->reject_*, m->seq and
 *  m->msg_type as far as readable) or TE_FIX_EGARBLED (not a frame). */
te_fix_rc_t te_fix_parse(const char *frame, size_t frame_len, te_fix_msg_t *m);

/** The value of `tag` (not NUL-terminated; *len its length), or NULL if absent. */
const char *te_fix_get(const te_fix_msg_t *m, int tag, size_t *len);
/** Copy the value of `tag` into dst (NUL-terminated). @returns 0, -1 when absent,
 *  -2 when it does not fit. */
int te_fix_get_str(const te_fix_msg_t *m, int tag, char *dst, size_t dstsz);
/** The value of `tag` as a non-negative decimal integer (at most 18 digits).
 *  @returns 0, -1 when absent, -2 when not an integer. */
int te_fix_get_int(const te_fix_msg_t *m, int tag, int64_t *v);
/** The value of `tag` as a FIX float (optional '-', digits, optional '.digits').
 *  @returns 0, -1 when absent, -2 when malformed. */
int te_fix_get_num(const te_fix_msg_t *m, int tag, double *v);
/** The value of a Boolean tag: 1 for "Y", 0 for "N" or absent. @returns -2 when the
 *  value is anything else. */
int te_fix_get_bool(const te_fix_msg_t *m, int tag);

#endif
