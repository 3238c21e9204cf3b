/*
 * msg_json_out: compact JSON rendering of our five messages and of Kafka records.
 *
 * A small writer (jw_t) keeps the "first key" state of the object being written and a
 * sticky error flag, so each renderer is a flat list of fields; the public functions
 * roll the buffer back to its starting length when anything failed.
 */
#include "msg_json_out.h"

#include "te_codec_int.h" /* the codec's field tables */

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#define HEX_PREVIEW 64 /* bytes of an undecodable value shown as value_hex */

typedef struct jw_s {
        te_buf_t *b;
        int err;
        int first; /* no key written yet in the current object */
} jw_t;

/* ---- text ------------------------------------------------------------------------- */

/* Length of the valid UTF-8 sequence at p (n bytes available), or 0 if invalid. */
static size_t utf8_seq(const unsigned char *p, size_t n)
{
        unsigned c = p[0], cp, min;
        size_t len;
        if (c < 0x80)
                return 1;
        if (c >= 0xc2 && c <= 0xdf) {
                len = 2;
                cp = c & 0x1f;
                min = 0x80;
        } else if ((c & 0xf0) == 0xe0) {
                len = 3;
                cp = c & 0x0f;
                min = 0x800;
        } else if (c >= 0xf0 && c <= 0xf4) {
                len = 4;
                cp = c & 0x07;
                min = 0x10000;
        } else {
                return 0;
        }
        if (n < len)
                return 0;
        for (size_t i = 1; i < len; i++) {
                if ((p[i] & 0xc0) != 0x80)
                        return 0;
                cp = (cp << 6) | (p[i] & 0x3f);
        }
        if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
                return 0;
        return len;
}

/* 1 if p[0..n) is valid UTF-8 with no NUL byte. */
static int utf8_text(const void *p, size_t n)
{
        const unsigned char *s = p;
        size_t i = 0;
        while (i < n) {
                size_t k = utf8_seq(s + i, n - i);
                if (k == 0 || s[i] == '\0')
                        return 0;
                i += k;
        }
        return 1;
}

/* Append n bytes of text as a JSON string: invalid UTF-8 and NUL bytes become U+FFFD. */
static int put_text(te_buf_t *b, const void *p, size_t n)
{
        const unsigned char *s = p;
        char small[256];
        te_buf_t tmp;
        int rc = -1;

        if (n < sizeof small && utf8_text(p, n)) {
                memcpy(small, p, n);
                small[n] = '\0';
                return te_buf_json_str(b, small);
        }
        te_buf_init(&tmp, 3 * n + 1);
        for (size_t i = 0; i < n;) {
                size_t k = s[i] ? utf8_seq(s + i, n - i) : 0;
                if (k == 0) {
                        if (te_buf_append(&tmp, "\xef\xbf\xbd", 3) != 0)
                                goto out;
                        i++;
                } else {
                        if (te_buf_append(&tmp, s + i, k) != 0)
                                goto out;
                        i += k;
                }
        }
        const char *cs = te_buf_cstr(&tmp);
        if (cs)
                rc = te_buf_json_str(b, cs);
out:
        te_buf_free(&tmp);
        return rc;
}

static int put_hex(te_buf_t *b, const void *p, size_t n)
{
        static const char hex[] = "0123456789abcdef";
        const unsigned char *s = p;
        char chunk[128];
        size_t used = 0;
        if (te_buf_append(b, "\"", 1) != 0)
                return -1;
        for (size_t i = 0; i < n; i++) {
                chunk[used++] = hex[s[i] >> 4];
                chunk[used++] = hex[s[i] & 0xf];
                if (used == sizeof chunk) {
                        if (te_buf_append(b, chunk, used) != 0)
                                return -1;
                        used = 0;
                }
        }
        if (te_buf_append(b, chunk, used) != 0)
                return -1;
        return te_buf_append(b, "\"", 1);
}

/* ---- writer ----------------------------------------------------------------------- */

static void jw_raw(jw_t *w, const char *s)
{
        if (!w->err && te_buf_puts(w->b, s) != 0)
                w->err = 1;
}

static void jw_open(jw_t *w)
{
        jw_raw(w, "{");
        w->first = 1;
}

static void jw_close(jw_t *w)
{
        jw_raw(w, "}");
        w->first = 0;
}

/* Key names are our own constants: no escaping needed. */
static void jw_key(jw_t *w, const char *k)
{
        if (!w->first)
                jw_raw(w, ",");
        w->first = 0;
        jw_raw(w, "\"");
        jw_raw(w, k);
        jw_raw(w, "\":");
}

static void jw_strval(jw_t *w, const char *v)
{
        if (w->err)
                return;
        size_t n = strlen(v);
        int rc = utf8_text(v, n) ? te_buf_json_str(w->b, v) : put_text(w->b, v, n);
        if (rc != 0)
                w->err = 1;
}

static void jw_str(jw_t *w, const char *k, const char *v)
{
        jw_key(w, k);
        jw_strval(w, v);
}

static void jw_int(jw_t *w, const char *k, int64_t v)
{
        jw_key(w, k);
        if (!w->err && te_buf_printf(w->b, "%" PRId64, v) != 0)
                w->err = 1;
}

static void jw_dblval(jw_t *w, double v)
{
        char tmp[40];
        if (w->err)
                return;
        if (te_fmt_double(tmp, sizeof tmp, v) < 0) {
                w->err = 1;
                return;
        }
        if (isfinite(v))
                jw_raw(w, tmp);
        else
                jw_strval(w, tmp);
}

static void jw_dbl(jw_t *w, const char *k, double v)
{
        jw_key(w, k);
        jw_dblval(w, v);
}

static void jw_null(jw_t *w, const char *k)
{
        jw_key(w, k);
        jw_raw(w, "null");
}

static void jw_opt_dbl(jw_t *w, const char *k, int has, double v)
{
        if (has)
                jw_dbl(w, k, v);
        else
                jw_null(w, k);
}

static void jw_bool(jw_t *w, const char *k, int v)
{
        jw_key(w, k);
        jw_raw(w, v ? "true" : "false");
}

static int jw_end(jw_t *w, size_t start)
{
        if (w->err) {
                w->b->len = start;
                return -1;
        }
        return 0;
}

/* ---- messages --------------------------------------------------------------------- */

/* The object at `m` as the codec's field table `t` lists it (te_codec_fields.c: the
 * schema's order, names and kinds; the targets of a TargetPortfolio as an array). */
static void jw_fields(jw_t *w, const void *m, const fd_table_t *t)
{
        const char *base = m;
        int i;
        int64_t l;
        double d;
        jw_open(w);
        for (size_t k = 0; k < t->n && !w->err; k++) {
                const fd_t *f = &t->fd[k];
                switch (f->kind) {
                case FD_STR:
                        jw_str(w, f->name, base + f->off);
                        break;
                case FD_ENUM:
                        memcpy(&i, base + f->off, sizeof i);
                        jw_str(w, f->name,
                               i >= 0 && (size_t)i < f->size ? f->syms[i] : "?");
                        break;
                case FD_TS:
                        memcpy(&l, base + f->off, sizeof l);
                        jw_int(w, f->name, l);
                        break;
                case FD_DOUBLE:
                case FD_OPT_DOUBLE:
                        i = 1;
                        if (f->kind == FD_OPT_DOUBLE)
                                memcpy(&i, base + f->has_off, sizeof i);
                        memcpy(&d, base + f->off, sizeof d);
                        jw_opt_dbl(w, f->name, i, d);
                        break;
                case FD_BOOL:
                        memcpy(&i, base + f->off, sizeof i);
                        jw_bool(w, f->name, i);
                        break;
                case FD_TARGETS: {
                        const te_target_portfolio_t *tp = m;
                        jw_key(w, f->name);
                        jw_raw(w, "[");
                        for (size_t n = 0; n < tp->n_targets && !w->err; n++) {
                                if (n)
                                        jw_raw(w, ",");
                                jw_fields(w, &tp->targets[n], &te_codec_target_fd);
                        }
                        jw_raw(w, "]");
                        break;
                }
                }
        }
        jw_close(w);
}

int te_json_out_msg(te_buf_t *b, te_msg_type_t type, const void *m)
{
        jw_t w = {b, 0, 1};
        size_t start = b->len;
        if ((unsigned)type >= TE_MSG__CNT)
                return -1;
        jw_fields(&w, m, &te_codec_msg_fd[type]);
        return jw_end(&w, start);
}

int te_json_out_bytes(te_buf_t *b, const void *p, size_t len)
{
        size_t start = b->len;
        int rc;
        if (!p)
                rc = te_buf_puts(b, "null");
        else if (utf8_text(p, len))
                rc = put_text(b, p, len);
        else
                rc = te_buf_puts(b, "{\"hex\":") || put_hex(b, p, len) ||
                     te_buf_puts(b, "}");
        if (rc != 0)
                b->len = start;
        return rc ? -1 : 0;
}

/* ---- records ---------------------------------------------------------------------- */

/* The codec's peek gives no text: say what was wrong with the header. */
static void peek_errstr(te_codec_err_t e, const unsigned char *p, size_t len,
                        char *errstr, size_t errsz)
{
        switch (e) {
        case TE_CODEC_ERR_EMPTY:
                snprintf(errstr, errsz, "empty value");
                break;
        case TE_CODEC_ERR_MAGIC:
                snprintf(errstr, errsz, "first byte 0x%02x, expected 0x00", p[0]);
                break;
        case TE_CODEC_ERR_TRUNCATED:
                snprintf(errstr, errsz, "%zu bytes, shorter than the %d-byte header", len,
                         TE_CODEC_HEADER_LEN);
                break;
        case TE_CODEC_ERR_SCHEMA_ID:
                if (len >= TE_CODEC_HEADER_LEN) {
                        uint32_t id = (uint32_t)p[1] << 24 | (uint32_t)p[2] << 16 |
                                      (uint32_t)p[3] << 8 | p[4];
                        snprintf(errstr, errsz, "unknown schema id %" PRIu32, id);
                        break;
                }
                /* fall through */
        default:
                snprintf(errstr, errsz, "cannot read the message header");
        }
}

/* "timestamp" (null when the record has none) and "schema_id" (the value's header id,
 * null when it has no header). */
static void jw_meta(jw_t *w, const te_json_record_t *r)
{
        const unsigned char *v = r->value;
        if (r->timestamp >= 0)
                jw_int(w, "timestamp", r->timestamp);
        else
                jw_null(w, "timestamp");
        if (v && r->value_len >= 5 && v[0] == 0)
                jw_int(w, "schema_id",
                       ((int64_t)v[1] << 24) | ((int64_t)v[2] << 16) |
                           ((int64_t)v[3] << 8) | (int64_t)v[4]);
        else
                jw_null(w, "schema_id");
}

/* "headers": {name: bytes, ...} */
static void jw_headers(jw_t *w, const te_json_record_t *r)
{
        jw_key(w, "headers");
        jw_open(w);
        for (size_t i = 0; i < r->n_headers && !w->err; i++) {
                const te_kafka_header_t *h = &r->headers[i];
                if (i)
                        jw_raw(w, ",");
                if (!w->err && (put_text(w->b, h->name, strlen(h->name)) != 0 ||
                                te_buf_puts(w->b, ":") != 0 ||
                                te_json_out_bytes(w->b, h->value, h->len) != 0))
                        w->err = 1;
        }
        jw_close(w);
}

typedef union any_msg_u {
        te_exec_mode_t mode;
        te_order_cmd_t order;
        te_exec_report_t report;
        te_alert_t alert;
} any_msg_t;

/* Decode the value of `r` as the type its header names (a target portfolio into
 * `tp`, the others into `u`). */
static te_codec_err_t decode_value(te_codec_t *codec, const te_json_record_t *r,
                                   te_msg_type_t *type, te_target_portfolio_t *tp,
                                   any_msg_t *u, char *errstr, size_t errsz)
{
        const void *v = r->value;
        size_t n = r->value_len;
        te_codec_err_t e = te_codec_peek(v, n, type);
        if (e != TE_CODEC_OK) {
                peek_errstr(e, v, n, errstr, errsz);
                return e;
        }
        switch (*type) {
        case TE_MSG_TARGET_PORTFOLIO:
                return te_codec_decode_target_portfolio(codec, v, n, tp, errstr, errsz);
        case TE_MSG_EXECUTION_MODE:
                return te_codec_decode_exec_mode(codec, v, n, &u->mode, errstr, errsz);
        case TE_MSG_ORDER_COMMAND:
                return te_codec_decode_order_cmd(codec, v, n, &u->order, errstr, errsz);
        case TE_MSG_EXECUTION_REPORT:
                return te_codec_decode_exec_report(codec, v, n, &u->report, errstr,
                                                   errsz);
        case TE_MSG_ALERT:
                return te_codec_decode_alert(codec, v, n, &u->alert, errstr, errsz);
        default:
                snprintf(errstr, errsz, "message type %d", (int)*type);
                return TE_CODEC_ERR_SCHEMA_ID;
        }
}

int te_json_out_record(te_buf_t *b, te_codec_t *codec, te_target_portfolio_t *tp_scratch,
                       const te_json_record_t *r)
{
        jw_t w = {b, 0, 1};
        size_t start = b->len;
        char errstr[512] = "";
        te_msg_type_t type = TE_MSG_TARGET_PORTFOLIO;
        any_msg_t u;

        jw_open(&w);
        jw_str(&w, "topic", r->topic);
        jw_int(&w, "partition", r->partition);
        jw_int(&w, "offset", r->offset);
        if (r->show_meta)
                jw_meta(&w, r);
        jw_key(&w, "key");
        if (!w.err && te_json_out_bytes(b, r->key, r->key_len) != 0)
                w.err = 1;
        if (r->n_headers > 0)
                jw_headers(&w, r);
        if (!r->value) {
                jw_null(&w, "value");
                jw_close(&w);
                return jw_end(&w, start);
        }
        if (w.err)
                return jw_end(&w, start);

        te_codec_err_t e =
            decode_value(codec, r, &type, tp_scratch, &u, errstr, sizeof errstr);
        if (e == TE_CODEC_OK) {
                jw_key(&w, "value");
                if (!w.err && te_json_out_msg(b, type,
                                              type == TE_MSG_TARGET_PORTFOLIO
                                                  ? (const void *)tp_scratch
                                                  : (const void *)&u) != 0)
                        w.err = 1;
                jw_close(&w);
                return jw_end(&w, start);
        }

        char msg[600];
        snprintf(msg, sizeof msg, "%s: %s", te_codec_err_name(e), errstr);
        jw_str(&w, "error", msg);
        jw_key(&w, "value_hex");
        if (!w.err &&
            put_hex(b, r->value,
                    r->value_len < HEX_PREVIEW ? r->value_len : HEX_PREVIEW) != 0)
                w.err = 1;
        jw_close(&w);
        return jw_end(&w, start) == 0 ? 1 : -1;
}
