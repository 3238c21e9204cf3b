/*
 * te_codec_encode: the encoders. The struct is checked field by field as it fills the
 * type's reused avro-c value (the same field checks as the readers, plus C-side checks:
 * strings NUL-terminated within their array, enums in range, targets count), then by
 * te_codec_validate; the value is sized with avro_value_sizeof and written with
 * avro_value_write into `out` behind the Confluent header.
 */
#include "te_codec_int.h"

#include <string.h>

static te_codec_err_t write_targets(avro_value_t *arr, const te_target_portfolio_t *tp,
                                    char *errstr, size_t errsz);

/* Check the struct at `base` and set the fields of `rec`. */
static te_codec_err_t write_record(const fd_t *fd, size_t n, avro_value_t *rec,
                                   const char *base, long idx, char *errstr, size_t errsz)
{
        for (size_t i = 0; i < n; i++) {
                const fd_t *f = &fd[i];
                avro_value_t fv, br;
                te_codec_err_t rc;
                if (avro_value_get_by_index(rec, i, &fv, NULL))
                        return te_codec_avro_fail(errstr, errsz, "get_by_index");
                switch (f->kind) {
                case FD_STR: {
                        const char *s = base + f->off;
                        size_t len = strnlen(s, f->size);
                        if (len == f->size)
                                return te_codec_field_err(
                                    errstr, errsz, idx, f->name,
                                    "not NUL-terminated within %zu bytes", f->size);
                        if ((rc = te_codec_check_text(f, s, len, idx, errstr, errsz)))
                                return rc;
                        if (avro_value_set_string_len(&fv, s, len + 1))
                                return te_codec_avro_fail(errstr, errsz,
                                                          "set_string_len");
                        break;
                }
                case FD_ENUM: {
                        int e;
                        memcpy(&e, base + f->off, sizeof e);
                        if (e < 0 || (size_t)e >= f->size)
                                return te_codec_field_err(
                                    errstr, errsz, idx, f->name,
                                    "enum value %d out of range [0, %zu)", e, f->size);
                        if (avro_value_set_enum(&fv, e))
                                return te_codec_avro_fail(errstr, errsz, "set_enum");
                        break;
                }
                case FD_TS: {
                        int64_t v;
                        memcpy(&v, base + f->off, sizeof v);
                        if ((rc = check_ts(f, v, errstr, errsz)))
                                return rc;
                        if (avro_value_set_long(&fv, v))
                                return te_codec_avro_fail(errstr, errsz, "set_long");
                        break;
                }
                case FD_DOUBLE: {
                        double d;
                        memcpy(&d, base + f->off, sizeof d);
                        if ((rc = check_finite(f, d, idx, errstr, errsz)))
                                return rc;
                        if (avro_value_set_double(&fv, d))
                                return te_codec_avro_fail(errstr, errsz, "set_double");
                        break;
                }
                case FD_OPT_DOUBLE: {
                        int has;
                        double d;
                        memcpy(&has, base + f->has_off, sizeof has);
                        memcpy(&d, base + f->off, sizeof d);
                        if (has) {
                                if ((rc = check_finite(f, d, idx, errstr, errsz)))
                                        return rc;
                                if (avro_value_set_branch(&fv, 1, &br) ||
                                    avro_value_set_double(&br, d))
                                        return te_codec_avro_fail(errstr, errsz,
                                                                  "set_double");
                        } else {
                                if (avro_value_set_branch(&fv, 0, &br) ||
                                    avro_value_set_null(&br))
                                        return te_codec_avro_fail(errstr, errsz,
                                                                  "set_null");
                        }
                        break;
                }
                case FD_BOOL: {
                        int b;
                        memcpy(&b, base + f->off, sizeof b);
                        if (avro_value_set_boolean(&fv, b != 0))
                                return te_codec_avro_fail(errstr, errsz, "set_boolean");
                        break;
                }
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
        if (tp->n_targets > TE_TARGETS_MAX) {
                te_codec_seterr(errstr, errsz,
                                "field 'targets': %zu entries exceed the maximum %d",
                                tp->n_targets, TE_TARGETS_MAX);
                return TE_CODEC_ERR_INVALID;
        }
        if (tp->n_targets && !tp->targets) {
                te_codec_seterr(errstr, errsz,
                                "field 'targets': n_targets %zu but no array",
                                tp->n_targets);
                return TE_CODEC_ERR_INVALID;
        }
        if (avro_value_reset(arr))
                return te_codec_avro_fail(errstr, errsz, "reset");
        for (size_t k = 0; k < tp->n_targets; k++) {
                avro_value_t ev;
                if (avro_value_append(arr, &ev, NULL))
                        return te_codec_avro_fail(errstr, errsz, "append");
                te_codec_err_t rc =
                    write_record(te_codec_target_fd.fd, te_codec_target_fd.n, &ev,
                                 (const char *)&tp->targets[k], (long)k, errstr, errsz);
                if (rc)
                        return rc;
        }
        return TE_CODEC_OK;
}

/* Fill the type's value from `m` (checked), then frame and write it into `out`. */
static te_codec_err_t encode(te_codec_t *c, te_msg_type_t t, const void *m, te_buf_t *out,
                             char *errstr, size_t errsz)
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
        if (sz > TE_CODEC_MAX_MESSAGE - TE_CODEC_HEADER_LEN ||
            sz + TE_CODEC_HEADER_LEN > out->max) {
                te_codec_seterr(errstr, errsz, "%s of %zu bytes exceeds the bound of %zu",
                                te_codec_type_name(t), sz + TE_CODEC_HEADER_LEN,
                                out->max < TE_CODEC_MAX_MESSAGE
                                    ? out->max
                                    : (size_t)TE_CODEC_MAX_MESSAGE);
                rc = TE_CODEC_ERR_TOO_LARGE;
                goto done;
        }
        if (te_buf_reserve(out, sz + TE_CODEC_HEADER_LEN)) {
                te_codec_seterr(errstr, errsz, "out of memory for %zu bytes",
                                sz + TE_CODEC_HEADER_LEN);
                rc = TE_CODEC_ERR_INTERNAL;
                goto done;
        }
        uint32_t id = (uint32_t)te_codec_schema_id(t);
        out->data[0] = 0x00;
        out->data[1] = (uint8_t)(id >> 24);
        out->data[2] = (uint8_t)(id >> 16);
        out->data[3] = (uint8_t)(id >> 8);
        out->data[4] = (uint8_t)id;
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
