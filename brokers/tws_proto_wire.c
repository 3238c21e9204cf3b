/*
 * tws_proto_wire: framing, field reading and frame writing of the TWS API text
 * protocol (see tws_proto.h and tws_proto_int.h). Numbers: ints are plain decimal;
 * doubles are written in their shortest round-trip form; an unset double is an empty
 * field; booleans are "0"/"1". On input an empty numeric field reads as 0 (as TWS
 * itself does), and the "unset" sentinels (DBL_MAX, the unset Decimal) read as 0.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tws_proto_int.h"

/* The next field of a layout "t:name,t:name,...": its type letter and its name
 * (bounded); NULL after the last one. */
static const char *layout_next(const char *spec, char *type, char *name, size_t namesz)
{
        spec += strspn(spec, ", ");
        if (!spec[0] || !spec[1])
                return NULL;
        *type = spec[0];
        spec += 2; /* "t:" */
        size_t n = strcspn(spec, ",");
        snprintf(name, namesz, "%.*s", (int)n, spec);
        return spec + n;
}

/* ---- framing --------------------------------------------------------------- */

te_tws_rc_t te_tws_frame_next(const uint8_t *data, size_t len, size_t max_payload,
                              const uint8_t **payload, size_t *payload_len,
                              size_t *consumed, char *errstr, size_t errsz)
{
        if (len < 4)
                return TE_TWS_EAGAIN;
        uint32_t n = ((uint32_t)data[0] << 24) | ((uint32_t)data[1] << 16) |
                     ((uint32_t)data[2] << 8) | (uint32_t)data[3];
        if (n == 0 || n > max_payload) {
                snprintf(errstr, errsz, "frame length %u outside 1..%zu", n, max_payload);
                return TE_TWS_EMALFORMED;
        }
        if (len - 4 < n)
                return TE_TWS_EAGAIN;
        *payload = data + 4;
        *payload_len = n;
        *consumed = 4 + (size_t)n;
        return TE_TWS_OK;
}

int te_tws_fields_split(te_tws_fields_t *fs, const uint8_t *payload, size_t len)
{
        fs->n = fs->pos = 0;
        fs->err[0] = '\0';
        if (len == 0 || payload[len - 1] != '\0') {
                snprintf(fs->err, sizeof fs->err, "payload does not end with NUL");
                return -1;
        }
        size_t start = 0;
        for (size_t i = 0; i < len; i++) {
                if (payload[i] != '\0')
                        continue;
                if (fs->n == TE_TWS_MAX_FIELDS) {
                        snprintf(fs->err, sizeof fs->err, "more than %d fields",
                                 TE_TWS_MAX_FIELDS);
                        return -1;
                }
                fs->f[fs->n] = (const char *)payload + start;
                fs->flen[fs->n] = i - start;
                fs->n++;
                start = i + 1;
        }
        return 0;
}

void tws_ferr(te_tws_fields_t *fs, const char *what, const char *why)
{
        if (!fs->err[0])
                snprintf(fs->err, sizeof fs->err, "field %zu (%s): %s", fs->pos, what,
                         why);
}

/* The next field, or NULL (error recorded) when there are no more. */
const char *tws_fnext(te_tws_fields_t *fs, const char *what, size_t *flen)
{
        if (fs->pos >= fs->n) {
                tws_ferr(fs, what, "missing (too few fields)");
                return NULL;
        }
        *flen = fs->flen[fs->pos];
        return fs->f[fs->pos++];
}

void tws_rd_str(te_tws_fields_t *fs, const char *what, char *dst, size_t dstsz)
{
        size_t n;
        const char *s = tws_fnext(fs, what, &n);
        if (!s) {
                dst[0] = '\0';
                return;
        }
        if (n >= dstsz) {
                tws_ferr(fs, what, "string too long");
                dst[0] = '\0';
                return;
        }
        memcpy(dst, s, n);
        dst[n] = '\0';
}

void tws_rd_skip(te_tws_fields_t *fs, const char *what)
{
        size_t n;
        (void)tws_fnext(fs, what, &n);
}

int64_t tws_rd_int(te_tws_fields_t *fs, const char *what)
{
        size_t n;
        const char *s = tws_fnext(fs, what, &n);
        if (!s || n == 0)
                return 0;
        if (n > 20) {
                tws_ferr(fs, what, "integer too long");
                return 0;
        }
        char tmp[24];
        memcpy(tmp, s, n);
        tmp[n] = '\0';
        const char *p = tmp;
        if (*p == '-')
                p++;
        if (!*p) {
                tws_ferr(fs, what, "not an integer");
                return 0;
        }
        for (; *p; p++)
                if (*p < '0' || *p > '9') {
                        tws_ferr(fs, what, "not an integer");
                        return 0;
                }
        errno = 0;
        long long v = strtoll(tmp, NULL, 10);
        if (errno == ERANGE) {
                tws_ferr(fs, what, "integer out of range");
                return 0;
        }
        return (int64_t)v;
}

/* A number; *unset = 1 for "" and the "unset" sentinels (which read as 0). */
static double rd_dbl_u(te_tws_fields_t *fs, const char *what, int *unset)
{
        size_t n;
        const char *s = tws_fnext(fs, what, &n);
        *unset = 1;
        if (!s || n == 0)
                return 0;
        if (n > 48) {
                tws_ferr(fs, what, "number too long");
                return 0;
        }
        char tmp[56];
        memcpy(tmp, s, n);
        tmp[n] = '\0';
        for (const char *p = tmp; *p; p++)
                if (!((*p >= '0' && *p <= '9') || *p == '.' || *p == '-' || *p == '+' ||
                      *p == 'e' || *p == 'E')) {
                        tws_ferr(fs, what, "not a number");
                        return 0;
                }
        char *end;
        errno = 0;
        double v = strtod(tmp, &end);
        if (end != tmp + n || !isfinite(v)) {
                tws_ferr(fs, what, "not a number");
                return 0;
        }
        if (v >= 1e300 || v <= -1e300 || v >= 1e38)
                return 0; /* TWS "unset" sentinels (DBL_MAX, unset Decimal) */
        *unset = 0;
        return v;
}

double tws_rd_dbl(te_tws_fields_t *fs, const char *what)
{
        int unset;
        return rd_dbl_u(fs, what, &unset);
}

double tws_rd_dbl_opt(te_tws_fields_t *fs, const char *what, int *has)
{
        int unset;
        double v = rd_dbl_u(fs, what, &unset);
        *has = !unset;
        return v;
}

/* ---- encoding -------------------------------------------------------------- */

void tws_e_begin(tws_enc_t *e, te_buf_t *out)
{
        e->out = out;
        e->start = out->len;
        e->err = te_buf_append(out, "\0\0\0\0", 4);
}

void tws_e_str(tws_enc_t *e, const char *s)
{
        if (!e->err)
                e->err = te_buf_append(e->out, s, strlen(s) + 1);
}

void tws_e_int(tws_enc_t *e, int64_t v)
{
        char tmp[32];
        snprintf(tmp, sizeof tmp, "%lld", (long long)v);
        tws_e_str(e, tmp);
}

void tws_e_dbl(tws_enc_t *e, double v)
{
        char tmp[40];
        if (te_fmt_double(tmp, sizeof tmp, v) < 0 || !isfinite(v)) {
                e->err = -1;
                return;
        }
        tws_e_str(e, tmp);
}

void tws_e_dbl_opt(tws_enc_t *e, int has, double v)
{
        if (has)
                tws_e_dbl(e, v);
        else
                tws_e_str(e, "");
}

void tws_e_blanks(tws_enc_t *e, const char *layout)
{
        char type, name[64];
        while ((layout = layout_next(layout, &type, name, sizeof name)))
                if (type == 's')
                        tws_e_str(e, "");
                else
                        tws_e_int(e, type == 'x' ? -1 : 0);
}

int tws_e_end(tws_enc_t *e)
{
        if (e->err) {
                e->out->len = e->start;
                return -1;
        }
        size_t n = e->out->len - e->start - 4;
        if (n > TE_TWS_MAX_FRAME) {
                e->out->len = e->start;
                return -1;
        }
        uint8_t *p = e->out->data + e->start;
        p[0] = (uint8_t)(n >> 24);
        p[1] = (uint8_t)(n >> 16);
        p[2] = (uint8_t)(n >> 8);
        p[3] = (uint8_t)n;
        return 0;
}

int tws_e_ints(te_buf_t *out, const int64_t *v, size_t n)
{
        tws_enc_t e;
        tws_e_begin(&e, out);
        for (size_t i = 0; i < n; i++)
                tws_e_int(&e, v[i]);
        return tws_e_end(&e);
}

int te_tws_enc_handshake(te_buf_t *out, int min_ver, int max_ver)
{
        char v[48];
        int n = snprintf(v, sizeof v, "v%d..%d", min_ver, max_ver);
        size_t start = out->len;
        uint8_t len[4] = {0, 0, (uint8_t)(n >> 8), (uint8_t)n};
        if (te_buf_append(out, "API", 4) || te_buf_append(out, len, 4) ||
            te_buf_append(out, v, (size_t)n)) {
                out->len = start;
                return -1;
        }
        return 0;
}

/* ---- decoding -------------------------------------------------------------- */

void tws_rd_skips(te_tws_fields_t *fs, const char *layout)
{
        char type, name[64];
        while ((layout = layout_next(layout, &type, name, sizeof name)))
                if (type == 'i')
                        (void)tws_rd_int(fs, name);
                else if (type == 'd')
                        (void)tws_rd_dbl(fs, name);
                else
                        tws_rd_skip(fs, name);
}

te_tws_rc_t tws_finish(te_tws_fields_t *fs, char *errstr, size_t errsz)
{
        if (fs->err[0]) {
                snprintf(errstr, errsz, "%s", fs->err);
                return TE_TWS_EMALFORMED;
        }
        return TE_TWS_OK;
}
