/*
 * te_codec_encode: the encoders. Every field of the struct is checked as it is encoded
 * (the same field checks as the readers, plus C-side checks: strings NUL-terminated
 * within their array, enums in range, targets count), then the message by
 * te_codec_validate, then the size against `out`'s bound; only then does `out` hold the
 * Confluent header and the Avro body. Any refusal leaves `out` empty.
 *
 * The direct writer (default) encodes the struct straight into `out`, driven by the
 * field tables of te_codec_fields.c: zigzag varints for longs, enum indexes, union
 * branches and array counts, 8 little-endian bytes for doubles, length-prefixed
 * strings, the targets as one block and the empty block. avro-c's generic writer (one
 * reused value per type filled with avro_value_set_*, sized with avro_value_sizeof and
 * written with avro_value_write) remains as the reference path, selected by
 * te_codec_use_avro_writer(): the unit tests and the fuzz target encode through both
 * and require the same result, byte for byte, or the same refusal.
 */
#include "te_codec_int.h"

#include <string.h>

/* One field of a struct, loaded and checked: what both writers encode. */
typedef struct fval_s {
        const char *s; /* FD_STR, with its length */
        size_t len;
        int64_t l; /* FD_ENUM, FD_TS, FD_BOOL (0 or 1) */
        double d;  /* FD_DOUBLE, FD_OPT_DOUBLE when `has` */
        int has;
} fval_t;

/* Load field `f` of the struct at `base` into `v` with its checks (a string
 * NUL-terminated within its array and valid text, an enum in range, a timestamp in
 * range, a double finite). */
static te_codec_err_t field_get(const fd_t *f, const char *base, long idx, fval_t *v,
                                char *errstr, size_t errsz)
{
        int i;
        switch (f->kind) {
        case FD_STR:
                v->s = base + f->off;
                return check_cstr(f, v->s, idx, &v->len, errstr, errsz);
        case FD_ENUM:
                memcpy(&i, base + f->off, sizeof i);
                v->l = i;
                return check_enum(f, i, idx, errstr, errsz);
        case FD_TS:
                memcpy(&v->l, base + f->off, sizeof v->l);
                return check_ts(f, v->l, errstr, errsz);
        case FD_DOUBLE:
        case FD_OPT_DOUBLE:
                v->has = 1;
                if (f->kind == FD_OPT_DOUBLE) {
                        memcpy(&i, base + f->has_off, sizeof i);
                        v->has = i != 0;
                }
                memcpy(&v->d, base + f->off, sizeof v->d);
                return v->has ? check_finite(f, v->d, idx, errstr, errsz) : TE_CODEC_OK;
        case FD_BOOL:
                memcpy(&i, base + f->off, sizeof i);
                v->l = i != 0;
                return TE_CODEC_OK;
        case FD_TARGETS:
                break;
        }
        return TE_CODEC_OK;
}

/* ------------------------------------------------------------------ avro-c writer */

static te_codec_err_t write_targets(avro_value_t *arr, const te_target_portfolio_t *tp,
                                    char *errstr, size_t errsz);

/* Check the struct at `base` and set the fields of `rec`. */
static te_codec_err_t write_record(const fd_t *fd, size_t n, avro_value_t *rec,
                                   const char *base, long idx, char *errstr, size_t errsz)
{
        for (size_t i = 0; i < n; i++) {
                const fd_t *f = &fd[i];
                avro_value_t fv, br;
                fval_t v;
                te_codec_err_t rc;
                if (avro_value_get_by_index(rec, i, &fv, NULL))
                        return te_codec_avro_fail(errstr, errsz, "get_by_index");
                if ((rc = field_get(f, base, idx, &v, errstr, errsz)))
                        return rc;
                switch (f->kind) {
                case FD_STR:
                        if (avro_value_set_string_len(&fv, v.s, v.len + 1))
                                return te_codec_avro_fail(errstr, errsz,
                                                          "set_string_len");
                        break;
                case FD_ENUM:
                        if (avro_value_set_enum(&fv, (int)v.l))
                                return te_codec_avro_fail(errstr, errsz, "set_enum");
                        break;
                case FD_TS:
                        if (avro_value_set_long(&fv, v.l))
                                return te_codec_avro_fail(errstr, errsz, "set_long");
                        break;
                case FD_DOUBLE:
                        if (avro_value_set_double(&fv, v.d))
                                return te_codec_avro_fail(errstr, errsz, "set_double");
                        break;
                case FD_OPT_DOUBLE:
                        if (v.has) {
                                if (avro_value_set_branch(&fv, 1, &br) ||
                                    avro_value_set_double(&br, v.d))
                                        return te_codec_avro_fail(errstr, errsz,
                                                                  "set_double");
                        } else {
                                if (avro_value_set_branch(&fv, 0, &br) ||
                                    avro_value_set_null(&br))
                                        return te_codec_avro_fail(errstr, errsz,
                                                                  "set_null");
                        }
                        break;
                case FD_BOOL:
                        if (avro_value_set_boolean(&fv, (int)v.l))
                                return te_codec_avro_fail(errstr, errsz, "set_boolean");
                        break;
                case FD_TARGETS:
                        if ((rc = write_targets(
                                 &fv, (const te_target_portfolio_t *)(const void *)base,
                                 errstr, errsz)))
                                return rc;
                        break;
                }
        }
        return TE_CODEC_OK;
}

static te_codec_err_t write_targets(avro_value_t *arr, const te_target_portfolio_t *tp,
                                    char *errstr, size_t errsz)
{
        te_codec_err_t rc = te_codec_check_targets(tp, errstr, errsz);
        if (rc)
                return rc;
        if (avro_value_reset(arr))
                return te_codec_avro_fail(errstr, errsz, "reset");
        for (size_t k = 0; k < tp->n_targets; k++) {
                avro_value_t ev;
                if (avro_value_append(arr, &ev, NULL))
                        return te_codec_avro_fail(errstr, errsz, "append");
                rc = write_record(te_codec_target_fd.fd, te_codec_target_fd.n, &ev,
                                  (const char *)&tp->targets[k], (long)k, errstr, errsz);
                if (rc)
                        return rc;
        }
        return TE_CODEC_OK;
}

/* The bound of a message of `sz` body bytes. @returns OK or TOO_LARGE with errstr. */
static te_codec_err_t out_check_size(te_msg_type_t t, size_t sz, const te_buf_t *out,
                                     char *errstr, size_t errsz)
{
        if (sz > TE_CODEC_MAX_MESSAGE - TE_CODEC_HEADER_LEN ||
            sz + TE_CODEC_HEADER_LEN > out->max) {
                te_codec_seterr(errstr, errsz, "%s of %zu bytes exceeds the bound of %zu",
                                te_codec_type_name(t), sz + TE_CODEC_HEADER_LEN,
                                out->max < TE_CODEC_MAX_MESSAGE
                                    ? out->max
                                    : (size_t)TE_CODEC_MAX_MESSAGE);
                return TE_CODEC_ERR_TOO_LARGE;
        }
        return TE_CODEC_OK;
}

static te_codec_err_t out_reserve(te_buf_t *out, size_t sz, char *errstr, size_t errsz)
{
        if (te_buf_reserve(out, sz + TE_CODEC_HEADER_LEN)) {
                te_codec_seterr(errstr, errsz, "out of memory for %zu bytes",
                                sz + TE_CODEC_HEADER_LEN);
                return TE_CODEC_ERR_INTERNAL;
        }
        return TE_CODEC_OK;
}

static void out_header(te_msg_type_t t, uint8_t *p)
{
        uint32_t id = (uint32_t)te_codec_schema_id(t);
        p[0] = 0x00;
        p[1] = (uint8_t)(id >> 24);
        p[2] = (uint8_t)(id >> 16);
        p[3] = (uint8_t)(id >> 8);
        p[4] = (uint8_t)id;
}

/* Fill the type's value from `m` (checked), then frame and write it into `out`. */
static te_codec_err_t encode_avro(te_codec_t *c, te_msg_type_t t, const void *m,
                                  te_buf_t *out, char *errstr, size_t errsz)
{
        avro_value_t *v = &c->t[t].value;
        size_t sz;
        te_codec_err_t rc;
        te_buf_reset(out);
        avro_value_reset(v);
        rc = write_record(te_codec_msg_fd[t].fd, te_codec_msg_fd[t].n, v, m, -1, errstr,
                          errsz);
        if (rc == TE_CODEC_OK)
                rc = te_codec_validate(t, m, errstr, errsz);
        if (rc != TE_CODEC_OK)
                goto done;
        if (avro_value_sizeof(v, &sz)) {
                rc = te_codec_avro_fail(errstr, errsz, "sizeof");
                goto done;
        }
        if ((rc = out_check_size(t, sz, out, errstr, errsz)) ||
            (rc = out_reserve(out, sz, errstr, errsz)))
                goto done;
        out_header(t, out->data);
        avro_writer_memory_set_dest(
            c->writer, (const char *)out->data + TE_CODEC_HEADER_LEN, (int64_t)sz);
        if (avro_value_write(c->writer, v) != 0 ||
            avro_writer_tell(c->writer) != (int64_t)sz) {
                rc = te_codec_avro_fail(errstr, errsz, "write");
                goto done;
        }
        out->len = sz + TE_CODEC_HEADER_LEN;
done:
        return rc;
}

/* ------------------------------------------------------------------ direct writer */

/* The direct writer's output: the body goes to buf[0..cap). Bytes that do not fit are
 * only counted, so that one pass gives the exact size even when `out` must grow (the
 * pass then runs again into the grown buffer). */
typedef struct wr_s {
        uint8_t *buf;
        size_t cap;
        size_t n; /* body bytes so far; > cap: the body did not fit */
} wr_t;

static inline void wr_byte(wr_t *w, uint8_t b)
{
        if (w->n < w->cap)
                w->buf[w->n] = b;
        w->n++;
}

static inline void wr_long(wr_t *w, int64_t v)
{
        if (w->n <= w->cap && w->cap - w->n >= TE_CODEC_VARINT_MAX) {
                w->n += te_codec_put_long(w->buf + w->n, v);
        } else {
                uint8_t tmp[TE_CODEC_VARINT_MAX];
                size_t k = te_codec_put_long(tmp, v);
                if (w->n <= w->cap && w->cap - w->n >= k)
                        memcpy(w->buf + w->n, tmp, k);
                w->n += k;
        }
}

static inline void wr_double(wr_t *w, double d)
{
        if (w->n <= w->cap && w->cap - w->n >= 8)
                te_codec_put_double(w->buf + w->n, d);
        w->n += 8;
}

static inline void wr_bytes(wr_t *w, const char *s, size_t len)
{
        wr_long(w, (int64_t)len);
        if (len && w->n <= w->cap && w->cap - w->n >= len)
                memcpy(w->buf + w->n, s, len);
        w->n += len;
}

static te_codec_err_t wr_targets(wr_t *w, const te_target_portfolio_t *tp, char *errstr,
                                 size_t errsz);

/* Check the struct at `base` field by field (field_get, as write_record) and append
 * each field's Avro encoding. */
static te_codec_err_t wr_record(const fd_t *fd, size_t n, wr_t *w, const char *base,
                                long idx, char *errstr, size_t errsz)
{
        for (size_t i = 0; i < n; i++) {
                const fd_t *f = &fd[i];
                fval_t v;
                te_codec_err_t rc;
                if ((rc = field_get(f, base, idx, &v, errstr, errsz)))
                        return rc;
                switch (f->kind) {
                case FD_STR:
                        wr_bytes(w, v.s, v.len);
                        break;
                case FD_ENUM:
                case FD_TS:
                        wr_long(w, v.l);
                        break;
                case FD_DOUBLE:
                        wr_double(w, v.d);
                        break;
                case FD_OPT_DOUBLE:
                        wr_long(w,
                                v.has); /* branch 1: double; branch 0: null, no bytes */
                        if (v.has)
                                wr_double(w, v.d);
                        break;
                case FD_BOOL:
                        wr_byte(w, (uint8_t)v.l);
                        break;
                case FD_TARGETS:
                        if ((rc = wr_targets(
                                 w, (const te_target_portfolio_t *)(const void *)base,
                                 errstr, errsz)))
                                return rc;
                        break;
                }
        }
        return TE_CODEC_OK;
}

/* One block of all the targets (none when empty), then the empty block. */
static te_codec_err_t wr_targets(wr_t *w, const te_target_portfolio_t *tp, char *errstr,
                                 size_t errsz)
{
        te_codec_err_t rc = te_codec_check_targets(tp, errstr, errsz);
        if (rc)
                return rc;
        if (tp->n_targets)
                wr_long(w, (int64_t)tp->n_targets);
        for (size_t k = 0; k < tp->n_targets; k++) {
                rc = wr_record(te_codec_target_fd.fd, te_codec_target_fd.n, w,
                               (const char *)&tp->targets[k], (long)k, errstr, errsz);
                if (rc)
                        return rc;
        }
        wr_long(w, 0);
        return TE_CODEC_OK;
}

/* Check and encode `m` straight into `out`, behind the header. In the steady state
 * (`out` already large enough) this is one pass; when `out` must grow, the first pass
 * gives the exact size and a second one writes into the grown buffer. The checks, their
 * order and their errors are those of encode_avro. */
static te_codec_err_t encode_direct(te_msg_type_t t, const void *m, te_buf_t *out,
                                    char *errstr, size_t errsz)
{
        const fd_table_t *tab = &te_codec_msg_fd[t];
        te_codec_err_t rc;
        te_buf_reset(out);
        for (int pass = 0; pass < 2; pass++) {
                /* te_buf keeps one byte after len for te_buf_cstr's NUL */
                wr_t w = {NULL, 0, 0};
                if (out->data && out->cap > TE_CODEC_HEADER_LEN + 1) {
                        w.buf = out->data + TE_CODEC_HEADER_LEN;
                        w.cap = out->cap - TE_CODEC_HEADER_LEN - 1;
                }
                rc = wr_record(tab->fd, tab->n, &w, m, -1, errstr, errsz);
                if (rc == TE_CODEC_OK && pass == 0)
                        rc = te_codec_validate(t, m, errstr, errsz);
                if (rc == TE_CODEC_OK)
                        rc = out_check_size(t, w.n, out, errstr, errsz);
                if (rc != TE_CODEC_OK)
                        return rc;
                if (w.n <= w.cap) {
                        out_header(t, out->data);
                        out->len = w.n + TE_CODEC_HEADER_LEN;
                        return TE_CODEC_OK;
                }
                if ((rc = out_reserve(out, w.n, errstr, errsz)))
                        return rc;
        }
        te_codec_seterr(errstr, errsz, "direct writer: %s did not fit after growing",
                        te_codec_type_name(t));
        return TE_CODEC_ERR_INTERNAL;
}

/* ------------------------------------------------------------------ encoders */

static te_codec_err_t encode(te_codec_t *c, te_msg_type_t t, const void *m, te_buf_t *out,
                             char *errstr, size_t errsz)
{
        if (c->avro_writer)
                return encode_avro(c, t, m, out, errstr, errsz);
        return encode_direct(t, m, out, errstr, errsz);
}

void te_codec_use_avro_writer(te_codec_t *c, int on)
{
        c->avro_writer = on != 0;
}

te_codec_err_t te_codec_encode_target_portfolio(te_codec_t *c,
                                                const te_target_portfolio_t *m,
                                                te_buf_t *out, char *errstr, size_t errsz)
{
        return encode(c, TE_MSG_TARGET_PORTFOLIO, m, out, errstr, errsz);
}

te_codec_err_t te_codec_encode_exec_mode(te_codec_t *c, const te_exec_mode_t *m,
                                         te_buf_t *out, char *errstr, size_t errsz)
{
        return encode(c, TE_MSG_EXECUTION_MODE, m, out, errstr, errsz);
}

te_codec_err_t te_codec_encode_order_cmd(te_codec_t *c, const te_order_cmd_t *m,
                                         te_buf_t *out, char *errstr, size_t errsz)
{
        return encode(c, TE_MSG_ORDER_COMMAND, m, out, errstr, errsz);
}

te_codec_err_t te_codec_encode_exec_report(te_codec_t *c, const te_exec_report_t *m,
                                           te_buf_t *out, char *errstr, size_t errsz)
{
        return encode(c, TE_MSG_EXECUTION_REPORT, m, out, errstr, errsz);
}

te_codec_err_t te_codec_encode_alert(te_codec_t *c, const te_alert_t *m, te_buf_t *out,
                                     char *errstr, size_t errsz)
{
        return encode(c, TE_MSG_ALERT, m, out, errstr, errsz);
}
