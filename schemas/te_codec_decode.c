/*
 * te_codec_decode: the decoders. Header -> walk (te_codec_check_bytes: no allocation;
 * rejects everything avro-c would mishandle) -> read into the zeroed struct -> value
 * validation (te_codec_validate).
 *
 * The read is done by a direct reader over the walked bytes (no allocation, ~3x
 * avro-c's generic decode: avro-c alone reaches only ~1.9M OrderCommands/s here, below
 * the 2.5M/s we need). avro-c's generic reader (one reused value per type,
 * avro_value_reset + avro_reader_memory_set_source, fields copied by index) remains as
 * the reference path: the unit tests and the fuzz target decode everything through
 * both and require identical results, and te_codec_use_avro_reader() selects it.
 */
#include "te_codec_int.h"

#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------ avro-c reader */

static te_codec_err_t read_targets(avro_value_t *arr, te_target_portfolio_t *tp,
                                   char *errstr, size_t errsz);

/* Copy the fields of `rec` into the struct at `base` (generic checks included). */
static te_codec_err_t read_record(const fd_t *fd, size_t n, avro_value_t *rec, char *base,
                                  long idx, char *errstr, size_t errsz)
{
        for (size_t i = 0; i < n; i++) {
                const fd_t *f = &fd[i];
                avro_value_t fv;
                te_codec_err_t rc;
                if (avro_value_get_by_index(rec, i, &fv, NULL))
                        return te_codec_avro_fail(errstr, errsz, "get_by_index");
                switch (f->kind) {
                case FD_STR: {
                        const char *s;
                        size_t sz;
                        if (avro_value_get_string(&fv, &s, &sz))
                                return te_codec_avro_fail(errstr, errsz, "get_string");
                        size_t len = sz ? sz - 1 : 0;
                        if (len >= f->size) /* the walk caps lengths: cannot happen */
                                return te_codec_avro_fail(errstr, errsz, "string cap");
                        if ((rc = te_codec_check_text(f, s, len, idx, errstr, errsz)))
                                return rc;
                        memcpy(base + f->off, s, len);
                        base[f->off + len] = '\0';
                        break;
                }
                case FD_ENUM: {
                        int e;
                        if (avro_value_get_enum(&fv, &e))
                                return te_codec_avro_fail(errstr, errsz, "get_enum");
                        if (e < 0 || (size_t)e >= f->size)
                                return te_codec_avro_fail(errstr, errsz, "enum range");
                        memcpy(base + f->off, &e, sizeof e);
                        break;
                }
                case FD_TS: {
                        int64_t v;
                        if (avro_value_get_long(&fv, &v))
                                return te_codec_avro_fail(errstr, errsz, "get_long");
                        if ((rc = check_ts(f, v, errstr, errsz)))
                                return rc;
                        memcpy(base + f->off, &v, sizeof v);
                        break;
                }
                case FD_DOUBLE: {
                        double d;
                        if (avro_value_get_double(&fv, &d))
                                return te_codec_avro_fail(errstr, errsz, "get_double");
                        if ((rc = check_finite(f, d, idx, errstr, errsz)))
                                return rc;
                        memcpy(base + f->off, &d, sizeof d);
                        break;
                }
                case FD_OPT_DOUBLE: {
                        int disc, has = 0;
                        double d = 0;
                        avro_value_t br;
                        if (avro_value_get_discriminant(&fv, &disc))
                                return te_codec_avro_fail(errstr, errsz,
                                                          "get_discriminant");
                        if (disc == 1) {
                                if (avro_value_get_current_branch(&fv, &br) ||
                                    avro_value_get_double(&br, &d))
                                        return te_codec_avro_fail(errstr, errsz,
                                                                  "get_double");
                                if ((rc = check_finite(f, d, idx, errstr, errsz)))
                                        return rc;
                                has = 1;
                        }
                        memcpy(base + f->has_off, &has, sizeof has);
                        memcpy(base + f->off, &d, sizeof d);
                        break;
                }
                case FD_BOOL: {
                        int b;
                        if (avro_value_get_boolean(&fv, &b))
                                return te_codec_avro_fail(errstr, errsz, "get_boolean");
                        b = b != 0;
                        memcpy(base + f->off, &b, sizeof b);
                        break;
                }
                case FD_TARGETS:
                        if ((rc = read_targets(&fv, (te_target_portfolio_t *)(void *)base,
                                               errstr, errsz)))
                                return rc;
                        break;
                }
        }
        return TE_CODEC_OK;
}

static te_codec_err_t read_targets(avro_value_t *arr, te_target_portfolio_t *tp,
                                   char *errstr, size_t errsz)
{
        size_t cnt;
        if (avro_value_get_size(arr, &cnt))
                return te_codec_avro_fail(errstr, errsz, "get_size");
        if (cnt > TE_TARGETS_MAX) /* the walk caps it: cannot happen */
                return te_codec_avro_fail(errstr, errsz, "targets cap");
        if (cnt > tp->cap_targets) {
                te_target_t *nt = realloc(tp->targets, cnt * sizeof *nt);
                if (!nt) {
                        te_codec_seterr(errstr, errsz, "out of memory for %zu targets",
                                        cnt);
                        return TE_CODEC_ERR_INTERNAL;
                }
                tp->targets = nt;
                tp->cap_targets = cnt;
        }
        for (size_t k = 0; k < cnt; k++) {
                avro_value_t ev;
                te_target_t *t = &tp->targets[k];
                memset(t, 0, sizeof *t);
                if (avro_value_get_by_index(arr, k, &ev, NULL))
                        return te_codec_avro_fail(errstr, errsz, "get_by_index");
                te_codec_err_t rc =
                    read_record(te_codec_target_fd.fd, te_codec_target_fd.n, &ev,
                                (char *)t, (long)k, errstr, errsz);
                if (rc)
                        return rc;
                tp->n_targets = k + 1;
        }
        return TE_CODEC_OK;
}

/* ------------------------------------------------------------------ direct reader */

/* The direct reader: reads a body the walk has accepted, straight into the struct.
 * The walk has checked every varint, length, index and count, so these reads cannot
 * fail; they still check bounds, so a disagreement between the two could only ever
 * give TE_CODEC_ERR_INTERNAL, never a memory error. */
typedef struct rd_s {
        const uint8_t *p, *end;
        int bad;
} rd_t;

static inline int64_t rd_long(rd_t *r)
{
        uint64_t v = 0;
        for (unsigned shift = 0; shift < 70; shift += 7) {
                if (r->p >= r->end)
                        break;
                uint8_t b = *r->p++;
                v |= (uint64_t)(b & 0x7f) << shift;
                if (!(b & 0x80))
                        return (int64_t)(v >> 1) ^ -(int64_t)(v & 1);
        }
        r->bad = 1;
        return 0;
}

static inline double rd_double(rd_t *r)
{
        uint64_t u = 0;
        double d;
        if (r->end - r->p < 8) {
                r->bad = 1;
                return 0;
        }
        for (int i = 7; i >= 0; i--) /* Avro doubles are little-endian IEEE 754 */
                u = (u << 8) | r->p[i];
        r->p += 8;
        memcpy(&d, &u, sizeof d);
        return d;
}

static te_codec_err_t rd_fail(rd_t *r, const uint8_t *start, char *errstr, size_t errsz)
{
        te_codec_seterr(errstr, errsz, "reader out of step with the walk at byte %zu",
                        (size_t)(r->p - start) + TE_CODEC_HEADER_LEN);
        return TE_CODEC_ERR_INTERNAL;
}

static te_codec_err_t direct_targets(rd_t *r, const uint8_t *start,
                                     te_target_portfolio_t *tp, char *errstr,
                                     size_t errsz);

static te_codec_err_t direct_record(const fd_t *fd, size_t n, rd_t *r,
                                    const uint8_t *start, char *base, long idx,
                                    char *errstr, size_t errsz)
{
        for (size_t i = 0; i < n; i++) {
                const fd_t *f = &fd[i];
                te_codec_err_t rc;
                switch (f->kind) {
                case FD_STR: {
                        int64_t len = rd_long(r);
                        if (r->bad || len < 0 || (uint64_t)len >= f->size ||
                            (uint64_t)len > (uint64_t)(r->end - r->p))
                                return rd_fail(r, start, errstr, errsz);
                        const char *s = (const char *)r->p;
                        if ((rc = te_codec_check_text(f, s, (size_t)len, idx, errstr,
                                                      errsz)))
                                return rc;
                        memcpy(base + f->off, s, (size_t)len);
                        base[f->off + (size_t)len] = '\0';
                        r->p += len;
                        break;
                }
                case FD_ENUM: {
                        int64_t e = rd_long(r);
                        if (r->bad || e < 0 || (uint64_t)e >= f->size)
                                return rd_fail(r, start, errstr, errsz);
                        int ei = (int)e;
                        memcpy(base + f->off, &ei, sizeof ei);
                        break;
                }
                case FD_TS: {
                        int64_t v = rd_long(r);
                        if (r->bad)
                                return rd_fail(r, start, errstr, errsz);
                        if ((rc = check_ts(f, v, errstr, errsz)))
                                return rc;
                        memcpy(base + f->off, &v, sizeof v);
                        break;
                }
                case FD_DOUBLE: {
                        double d = rd_double(r);
                        if (r->bad)
                                return rd_fail(r, start, errstr, errsz);
                        if ((rc = check_finite(f, d, idx, errstr, errsz)))
                                return rc;
                        memcpy(base + f->off, &d, sizeof d);
                        break;
                }
                case FD_OPT_DOUBLE: {
                        int64_t br = rd_long(r);
                        int has = br == 1;
                        double d = 0;
                        if (has)
                                d = rd_double(r);
                        if (r->bad || br < 0 || br > 1)
                                return rd_fail(r, start, errstr, errsz);
                        if (has && (rc = check_finite(f, d, idx, errstr, errsz)))
                                return rc;
                        memcpy(base + f->has_off, &has, sizeof has);
                        memcpy(base + f->off, &d, sizeof d);
                        break;
                }
                case FD_BOOL: {
                        if (r->p >= r->end || *r->p > 1)
                                return rd_fail(r, start, errstr, errsz);
                        int b = *r->p++;
                        memcpy(base + f->off, &b, sizeof b);
                        break;
                }
                case FD_TARGETS:
                        if ((rc = direct_targets(r, start,
                                                 (te_target_portfolio_t *)(void *)base,
                                                 errstr, errsz)))
                                return rc;
                        break;
                }
        }
        return TE_CODEC_OK;
}

static te_codec_err_t direct_targets(rd_t *r, const uint8_t *start,
                                     te_target_portfolio_t *tp, char *errstr,
                                     size_t errsz)
{
        size_t k = 0;
        for (;;) {
                int64_t cnt = rd_long(r);
                if (r->bad)
                        return rd_fail(r, start, errstr, errsz);
                if (cnt == 0)
                        return TE_CODEC_OK;
                if (cnt < 0) {
                        if (cnt == INT64_MIN)
                                return rd_fail(r, start, errstr, errsz);
                        cnt = -cnt;
                        (void)rd_long(r); /* block byte size, checked by the walk */
                }
                if (r->bad || (uint64_t)cnt > TE_TARGETS_MAX - k)
                        return rd_fail(r, start, errstr, errsz);
                if (k + (size_t)cnt > tp->cap_targets) {
                        size_t ncap = tp->cap_targets ? tp->cap_targets : 16;
                        while (ncap < k + (size_t)cnt)
                                ncap *= 2;
                        if (ncap > TE_TARGETS_MAX)
                                ncap = TE_TARGETS_MAX;
                        te_target_t *nt = realloc(tp->targets, ncap * sizeof *nt);
                        if (!nt) {
                                te_codec_seterr(errstr, errsz,
                                                "out of memory for %zu targets", ncap);
                                return TE_CODEC_ERR_INTERNAL;
                        }
                        tp->targets = nt;
                        tp->cap_targets = ncap;
                }
                for (int64_t j = 0; j < cnt; j++, k++) {
                        te_target_t *t = &tp->targets[k];
                        memset(t, 0, sizeof *t);
                        te_codec_err_t rc =
                            direct_record(te_codec_target_fd.fd, te_codec_target_fd.n, r,
                                          start, (char *)t, (long)k, errstr, errsz);
                        if (rc)
                                return rc;
                        tp->n_targets = k + 1;
                }
        }
}

/* ------------------------------------------------------------------ decoders */

/* Header, walk, read (direct or through avro-c) into the zeroed struct `m`, validate. */
static te_codec_err_t decode(te_codec_t *c, te_msg_type_t t, const void *buf, size_t len,
                             void *m, char *errstr, size_t errsz)
{
        te_codec_err_t rc =
            te_codec_check_bytes(c, buf, len, (int)t, NULL, errstr, errsz);
        if (rc != TE_CODEC_OK)
                return rc;
        const uint8_t *body = (const uint8_t *)buf + TE_CODEC_HEADER_LEN;
        size_t blen = len - TE_CODEC_HEADER_LEN;
        if (!c->avro_reader) {
                rd_t r = {body, body + blen, 0};
                rc = direct_record(te_codec_msg_fd[t].fd, te_codec_msg_fd[t].n, &r, body,
                                   m, -1, errstr, errsz);
                if (rc == TE_CODEC_OK && r.p != r.end)
                        rc = rd_fail(&r, body, errstr, errsz);
        } else {
                avro_value_t *v = &c->t[t].value;
                avro_value_reset(v);
                avro_reader_memory_set_source(c->reader, (const char *)body,
                                              (int64_t)blen);
                if (avro_value_read(c->reader, v) != 0) {
                        avro_value_reset(v);
                        return te_codec_avro_fail(errstr, errsz, "read");
                }
                rc = read_record(te_codec_msg_fd[t].fd, te_codec_msg_fd[t].n, v, m, -1,
                                 errstr, errsz);
        }
        if (rc != TE_CODEC_OK)
                return rc;
        return te_codec_validate(t, m, errstr, errsz);
}

void te_codec_use_avro_reader(te_codec_t *c, int on)
{
        c->avro_reader = on != 0;
}

te_codec_err_t te_codec_decode_target_portfolio(te_codec_t *c, const void *buf,
                                                size_t len, te_target_portfolio_t *m,
                                                char *errstr, size_t errsz)
{
        te_target_t *keep = m->targets;
        size_t keep_cap = m->cap_targets;
        memset(m, 0, sizeof *m);
        m->targets = keep;
        m->cap_targets = keep_cap;
        te_codec_err_t rc =
            decode(c, TE_MSG_TARGET_PORTFOLIO, buf, len, m, errstr, errsz);
        if (rc != TE_CODEC_OK) {
                m->n_targets = 0;
                if (!keep) /* nothing was allocated before: leave nothing allocated */
                        te_target_portfolio_free(m);
        }
        return rc;
}

te_codec_err_t te_codec_decode_exec_mode(te_codec_t *c, const void *buf, size_t len,
                                         te_exec_mode_t *m, char *errstr, size_t errsz)
{
        memset(m, 0, sizeof *m);
        return decode(c, TE_MSG_EXECUTION_MODE, buf, len, m, errstr, errsz);
}

te_codec_err_t te_codec_decode_order_cmd(te_codec_t *c, const void *buf, size_t len,
                                         te_order_cmd_t *m, char *errstr, size_t errsz)
{
        memset(m, 0, sizeof *m);
        return decode(c, TE_MSG_ORDER_COMMAND, buf, len, m, errstr, errsz);
}

te_codec_err_t te_codec_decode_exec_report(te_codec_t *c, const void *buf, size_t len,
                                           te_exec_report_t *m, char *errstr,
                                           size_t errsz)
{
        memset(m, 0, sizeof *m);
        return decode(c, TE_MSG_EXECUTION_REPORT, buf, len, m, errstr, errsz);
}

te_codec_err_t te_codec_decode_alert(te_codec_t *c, const void *buf, size_t len,
                                     te_alert_t *m, char *errstr, size_t errsz)
{
        memset(m, 0, sizeof *m);
        return decode(c, TE_MSG_ALERT, buf, len, m, errstr, errsz);
}
