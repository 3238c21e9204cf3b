/*
 * fix_proto: FIX 4.4 (and 4.2) tag=value framing, field encoding and field access (see
 * fix_proto.h). Everything works in caller buffers; nothing is allocated.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fix_proto.h"
#include "te_buf.h"

static const char fix_prefix[] = "8=" TE_FIX_BEGIN "\x01"; /* 10 bytes */
static const char fix_prefix42[] = "8=" TE_FIX_BEGIN42 "\x01";
#define FIX_PREFIX_LEN (sizeof fix_prefix - 1)
_Static_assert(sizeof fix_prefix == sizeof fix_prefix42, "BeginStrings of one length");

static const char begin44[] = TE_FIX_BEGIN, begin42[] = TE_FIX_BEGIN42;

const char *te_fix_begin_known(const char *s)
{
        if (!s || !s[0] || strcmp(s, TE_FIX_BEGIN) == 0)
                return begin44;
        return strcmp(s, TE_FIX_BEGIN42) == 0 ? begin42 : NULL;
}

/* "8=<begin><SOH>" for a known BeginString, NULL otherwise. */
static const char *prefix_of(const char *begin)
{
        const char *b = te_fix_begin_known(begin);
        return !b ? NULL : b == begin42 ? fix_prefix42 : fix_prefix;
}
/* "8=FIX.4.4|9=" + up to 5 digits + "|" */
#define FIX_HEAD_RESERVE (FIX_PREFIX_LEN + 2 + 5 + 1)
#define FIX_TRAILER_LEN  7 /* "10=nnn|" */

static int is_digit(int c)
{
        return c >= '0' && c <= '9';
}

/* ---- encoding ------------------------------------------------------------- */

static void enc_raw(te_fix_enc_t *e, const char *p, size_t n)
{
        if (e->failed)
                return;
        size_t at = e->body_off + e->len;
        /* room for the trailer must remain, and the body must stay within a frame
         * our own decoder would accept */
        if (at + n + FIX_TRAILER_LEN > e->cap ||
            FIX_HEAD_RESERVE + e->len + n + FIX_TRAILER_LEN > TE_FIX_MAX_FRAME) {
                e->failed = 1;
                return;
        }
        memcpy(e->buf + at, p, n);
        e->len += n;
}

void te_fix_enc_str(te_fix_enc_t *e, int tag, const char *value)
{
        size_t vlen = strlen(value);
        if (vlen == 0 || memchr(value, TE_FIX_SOH, vlen) || tag <= 0 ||
            tag > TE_FIX_MAX_TAG) {
                e->failed = 1;
                return;
        }
        char t[16];
        int n = snprintf(t, sizeof t, "%d=", tag);
        enc_raw(e, t, (size_t)n);
        enc_raw(e, value, vlen);
        enc_raw(e, "\x01", 1);
}

void te_fix_enc_int(te_fix_enc_t *e, int tag, int64_t v)
{
        char s[24];
        snprintf(s, sizeof s, "%lld", (long long)v);
        te_fix_enc_str(e, tag, s);
}

void te_fix_enc_num(te_fix_enc_t *e, int tag, double v)
{
        char s[48];
        if (!isfinite(v) || fabs(v) >= 1e15 || te_fmt_double(s, sizeof s, v) < 0) {
                e->failed = 1;
                return;
        }
        if (strpbrk(s, "eE")) {
                /* tiny magnitudes: fixed notation, trailing zeros trimmed */
                snprintf(s, sizeof s, "%.12f", v);
                size_t n = strlen(s);
                while (n > 1 && s[n - 1] == '0')
                        s[--n] = '\0';
                if (n > 1 && s[n - 1] == '.')
                        s[--n] = '\0';
                if (strcmp(s, "-0") == 0)
                        te_strlcpy(s, "0", sizeof s);
        }
        te_fix_enc_str(e, tag, s);
}

void te_fix_enc_time(te_fix_enc_t *e, int tag, int64_t ms)
{
        char s[TE_FIX_TIME_LEN];
        if (te_fix_fmt_time(s, ms) != 0) {
                e->failed = 1;
                return;
        }
        te_fix_enc_str(e, tag, s);
}

void te_fix_enc_begin_v(te_fix_enc_t *e, char *buf, size_t cap, const te_fix_hdr_t *h,
                        const char *begin)
{
        e->begin = prefix_of(begin);
        e->buf = buf;
        e->cap = cap;
        e->len = 0;
        e->body_off = FIX_HEAD_RESERVE;
        e->failed = cap < FIX_HEAD_RESERVE + FIX_TRAILER_LEN || h->seq < 1 || !e->begin;
        te_fix_enc_str(e, TE_FIX_T_MSGTYPE, h->msg_type);
        te_fix_enc_str(e, TE_FIX_T_SENDERCOMPID, h->sender);
        te_fix_enc_str(e, TE_FIX_T_TARGETCOMPID, h->target);
        te_fix_enc_int(e, TE_FIX_T_MSGSEQNUM, h->seq);
        if (h->poss_dup)
                te_fix_enc_str(e, TE_FIX_T_POSSDUPFLAG, "Y");
        te_fix_enc_time(e, TE_FIX_T_SENDINGTIME, h->sending_ms);
        if (h->poss_dup)
                te_fix_enc_time(e, TE_FIX_T_ORIGSENDINGTIME, h->orig_sending_ms);
}

long te_fix_enc_end(te_fix_enc_t *e)
{
        if (e->failed)
                return -1;
        char head[FIX_HEAD_RESERVE + 1];
        int hn = snprintf(head, sizeof head, "%s9=%zu\x01", e->begin, e->len);
        if (hn < 0 || (size_t)hn > FIX_HEAD_RESERVE)
                return -1;
        memmove(e->buf + hn, e->buf + e->body_off, e->len);
        memcpy(e->buf, head, (size_t)hn);
        size_t n = (size_t)hn + e->len;
        unsigned sum = 0;
        for (size_t i = 0; i < n; i++)
                sum += (unsigned char)e->buf[i];
        char tr[FIX_TRAILER_LEN + 1];
        snprintf(tr, sizeof tr, "10=%03u\x01", sum % 256);
        memcpy(e->buf + n, tr, FIX_TRAILER_LEN);
        e->failed = 1; /* a frame is ended once */
        return (long)(n + FIX_TRAILER_LEN);
}

int te_fix_fmt_time(char out[TE_FIX_TIME_LEN], int64_t ms)
{
        /* 9999-12-31T23:59:59.999Z */
        if (ms < 0 || ms > 253402300799999LL)
                return -1;
        time_t secs = (time_t)(ms / 1000);
        struct tm tm;
        if (!gmtime_r(&secs, &tm))
                return -1;
        char tmp[64]; /* gmtime_r's fields are in range; the copy below is exact */
        int n = snprintf(tmp, sizeof tmp, "%04d%02d%02d-%02d:%02d:%02d.%03d",
                         tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
                         tm.tm_min, tm.tm_sec, (int)(ms % 1000));
        if (n != TE_FIX_TIME_LEN - 1)
                return -1;
        memcpy(out, tmp, TE_FIX_TIME_LEN);
        return 0;
}

static int num_at(const char *s, size_t n)
{
        int v = 0;
        for (size_t i = 0; i < n; i++) {
                if (!is_digit((unsigned char)s[i]))
                        return -1;
                v = v * 10 + (s[i] - '0');
        }
        return v;
}

int te_fix_parse_time(const char *s, size_t len, int64_t *ms)
{
        /* YYYYMMDD-HH:MM:SS[.sss] */
        if ((len != 17 && len != 21) || s[8] != '-' || s[11] != ':' || s[14] != ':')
                return -1;
        int y = num_at(s, 4), mo = num_at(s + 4, 2), d = num_at(s + 6, 2);
        int h = num_at(s + 9, 2), mi = num_at(s + 12, 2), se = num_at(s + 15, 2);
        int frac = 0;
        if (len == 21) {
                if (s[17] != '.')
                        return -1;
                frac = num_at(s + 18, 3);
        }
        if (y < 1970 || mo < 1 || mo > 12 || d < 1 || d > 31 || h < 0 || h > 23 ||
            mi < 0 || mi > 59 || se < 0 || se > 60 || frac < 0)
                return -1;
        struct tm tm = {0};
        tm.tm_year = y - 1900;
        tm.tm_mon = mo - 1;
        tm.tm_mday = d;
        tm.tm_hour = h;
        tm.tm_min = mi;
        tm.tm_sec = se;
        time_t t = timegm(&tm);
        if (t == (time_t)-1)
                return -1;
        *ms = (int64_t)t * 1000 + frac;
        return 0;
}

/* ---- framing -------------------------------------------------------------- */

te_fix_rc_t te_fix_frame_next_v(const uint8_t *data, size_t len, const char *begin,
                                size_t *frame_len, char *errstr, size_t errsz)
{
        const char *prefix = prefix_of(begin);
        size_t n = len < FIX_PREFIX_LEN ? len : FIX_PREFIX_LEN;
        if (!prefix || memcmp(data, prefix, n) != 0) {
                te_errf(errstr, errsz, "frame does not start with 8=%s<SOH>",
                        prefix ? te_fix_begin_known(begin) : "(unknown version)");
                return TE_FIX_EGARBLED;
        }
        if (len < FIX_PREFIX_LEN + 2) {
                if (len > FIX_PREFIX_LEN &&
                    memcmp(data + FIX_PREFIX_LEN, "9=", len - FIX_PREFIX_LEN) != 0)
                        goto no_bodylen;
                return TE_FIX_EAGAIN;
        }
        if (memcmp(data + FIX_PREFIX_LEN, "9=", 2) != 0)
                goto no_bodylen;
        size_t i = FIX_PREFIX_LEN + 2, body_len = 0, digits = 0;
        for (; i < len && is_digit(data[i]); i++) {
                if (++digits > 5) {
                        te_errf(errstr, errsz, "BodyLength has over 5 digits");
                        return TE_FIX_EGARBLED;
                }
                body_len = body_len * 10 + (size_t)(data[i] - '0');
        }
        if (i == len)
                return TE_FIX_EAGAIN;
        if (data[i] != TE_FIX_SOH || digits == 0 || data[FIX_PREFIX_LEN + 2] == '0') {
                te_errf(errstr, errsz,
                        "BodyLength is not a positive decimal number ending at SOH");
                return TE_FIX_EGARBLED;
        }
        size_t head = i + 1;
        size_t total = head + body_len + FIX_TRAILER_LEN;
        if (total > TE_FIX_MAX_FRAME) {
                te_errf(errstr, errsz, "frame of %zu bytes over the %d-byte bound", total,
                        TE_FIX_MAX_FRAME);
                return TE_FIX_EGARBLED;
        }
        /* the body starts with MsgType: check it as soon as its bytes are here */
        size_t have = len - head < 3 ? len - head : 3;
        if (memcmp(data + head, "35=", have) != 0 || (body_len < 5 && have == 3)) {
                te_errf(errstr, errsz, "MsgType (35) is not the third field");
                return TE_FIX_EGARBLED;
        }
        if (len < total)
                return TE_FIX_EAGAIN;
        size_t tr = head + body_len;
        const uint8_t *t = data + tr;
        if (data[tr - 1] != TE_FIX_SOH || memcmp(t, "10=", 3) != 0 || !is_digit(t[3]) ||
            !is_digit(t[4]) || !is_digit(t[5]) || t[6] != TE_FIX_SOH) {
                te_errf(errstr, errsz,
                        "BodyLength %zu does not end where 10=nnn<SOH> starts", body_len);
                return TE_FIX_EGARBLED;
        }
        unsigned sum = 0;
        for (size_t k = 0; k < tr; k++)
                sum += data[k];
        unsigned want = (unsigned)((t[3] - '0') * 100 + (t[4] - '0') * 10 + (t[5] - '0'));
        if (sum % 256 != want) {
                te_errf(errstr, errsz, "CheckSum %03u, computed %03u", want, sum % 256);
                return TE_FIX_EGARBLED;
        }
        *frame_len = total;
        return TE_FIX_OK;
no_bodylen:
        te_errf(errstr, errsz, "BodyLength (9) is not the second field");
        return TE_FIX_EGARBLED;
}

size_t te_fix_resync_v(const uint8_t *data, size_t len, const char *begin)
{
        const char *prefix = prefix_of(begin);
        if (!prefix)
                return len > 0 ? len : 1;
        for (size_t i = 1; i < len; i++) {
                size_t n = len - i < FIX_PREFIX_LEN ? len - i : FIX_PREFIX_LEN;
                if (memcmp(data + i, prefix, n) == 0)
                        return i;
        }
        return len > 0 ? len : 1;
}

/* ---- fields --------------------------------------------------------------- */

static void msg_reject(te_fix_msg_t *m, int reason, int tag, const char *why)
{
        if (m->reject_reason >= 0)
                return; /* the first problem is the one reported */
        m->reject_reason = reason;
        m->reject_tag = tag;
        te_strlcpy(m->reject_text, why, sizeof m->reject_text);
}

te_fix_rc_t te_fix_parse(const char *frame, size_t frame_len, te_fix_msg_t *m)
{
        char err[96];
        size_t flen = 0;
        m->frame = frame;
        m->frame_len = frame_len;
        m->n = 0;
        m->msg_type[0] = '\0';
        m->seq = 0;
        m->reject_reason = -1;
        m->reject_tag = 0;
        m->reject_text[0] = '\0';
        m->begin = frame_len >= FIX_PREFIX_LEN &&
                           memcmp(frame, fix_prefix42, FIX_PREFIX_LEN) == 0
                       ? begin42
                       : begin44;
        if (te_fix_frame_next_v((const uint8_t *)frame, frame_len, m->begin, &flen, err,
                                sizeof err) != TE_FIX_OK ||
            flen != frame_len) {
                te_strlcpy(m->reject_text, "not one whole frame", sizeof m->reject_text);
                return TE_FIX_EGARBLED;
        }
        size_t pos = 0;
        while (pos < frame_len) {
                const char *soh = memchr(frame + pos, TE_FIX_SOH, frame_len - pos);
                size_t end = (size_t)(soh - frame); /* a frame ends with SOH */
                size_t k = pos;
                long tag = 0;
                while (k < end && is_digit((unsigned char)frame[k]) &&
                       tag <= TE_FIX_MAX_TAG)
                        tag = tag * 10 + (frame[k++] - '0');
                if (k == pos || frame[pos] == '0' || tag > TE_FIX_MAX_TAG || k == end ||
                    frame[k] != '=') {
                        msg_reject(m, TE_FIX_RR_INVALID_TAG, 0,
                                   "field without a valid tag=value");
                        pos = end + 1;
                        continue;
                }
                size_t voff = k + 1, vlen = end - voff;
                pos = end + 1;
                if (vlen == 0) {
                        msg_reject(m, TE_FIX_RR_NO_VALUE, (int)tag,
                                   "tag without a value");
                        continue;
                }
                int dup = 0;
                for (size_t j = 0; j < m->n; j++)
                        if (m->f[j].tag == (int)tag)
                                dup = 1;
                if (dup) {
                        msg_reject(m, TE_FIX_RR_DUP_TAG, (int)tag,
                                   "tag appears more than once");
                        continue;
                }
                if (m->n == TE_FIX_MAX_FIELDS) {
                        msg_reject(m, TE_FIX_RR_OTHER, 0, "too many fields");
                        break;
                }
                m->f[m->n].tag = (int)tag;
                m->f[m->n].off = (uint16_t)voff;
                m->f[m->n].len = (uint16_t)vlen;
                m->n++;
        }
        size_t tlen;
        const char *mt = te_fix_get(m, TE_FIX_T_MSGTYPE, &tlen);
        if (mt && tlen < sizeof m->msg_type) {
                memcpy(m->msg_type, mt, tlen);
                m->msg_type[tlen] = '\0';
        } else {
                msg_reject(m, TE_FIX_RR_INVALID_MSGTYPE, TE_FIX_T_MSGTYPE,
                           "MsgType too long");
        }
        int64_t seq;
        int rc = te_fix_get_int(m, TE_FIX_T_MSGSEQNUM, &seq);
        if (rc == 0 && seq > 0)
                m->seq = seq;
        else if (rc != -1)
                msg_reject(m, TE_FIX_RR_BAD_FORMAT, TE_FIX_T_MSGSEQNUM,
                           "MsgSeqNum is not a positive integer");
        return m->reject_reason >= 0 ? TE_FIX_EREJECT : TE_FIX_OK;
}

const char *te_fix_get(const te_fix_msg_t *m, int tag, size_t *len)
{
        for (size_t i = 0; i < m->n; i++)
                if (m->f[i].tag == tag) {
                        *len = m->f[i].len;
                        return m->frame + m->f[i].off;
                }
        return NULL;
}

int te_fix_get_str(const te_fix_msg_t *m, int tag, char *dst, size_t dstsz)
{
        size_t n;
        const char *v = te_fix_get(m, tag, &n);
        if (!v)
                return -1;
        if (n >= dstsz)
                return -2;
        memcpy(dst, v, n);
        dst[n] = '\0';
        return 0;
}

int te_fix_get_int(const te_fix_msg_t *m, int tag, int64_t *v)
{
        size_t n;
        const char *s = te_fix_get(m, tag, &n);
        if (!s)
                return -1;
        if (n == 0 || n > 18)
                return -2;
        int64_t x = 0;
        for (size_t i = 0; i < n; i++) {
                if (!is_digit((unsigned char)s[i]))
                        return -2;
                x = x * 10 + (s[i] - '0');
        }
        *v = x;
        return 0;
}

int te_fix_get_num(const te_fix_msg_t *m, int tag, double *v)
{
        size_t n;
        const char *s = te_fix_get(m, tag, &n);
        if (!s)
                return -1;
        char tmp[40];
        if (n == 0 || n >= sizeof tmp)
                return -2;
        size_t i = 0, digits = 0, dots = 0;
        if (s[0] == '-')
                i = 1;
        for (; i < n; i++) {
                if (is_digit((unsigned char)s[i]))
                        digits++;
                else if (s[i] == '.' && ++dots == 1)
                        continue;
                else
                        return -2;
        }
        if (digits == 0)
                return -2;
        memcpy(tmp, s, n);
        tmp[n] = '\0';
        *v = strtod(tmp, NULL);
        return 0;
}

int te_fix_get_bool(const te_fix_msg_t *m, int tag)
{
        size_t n;
        const char *s = te_fix_get(m, tag, &n);
        if (!s)
                return 0;
        if (n == 1 && s[0] == 'Y')
                return 1;
        if (n == 1 && s[0] == 'N')
                return 0;
        return -2;
}
