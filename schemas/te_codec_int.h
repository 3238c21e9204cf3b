/*
 * te_codec_int.h: declarations shared by the modules of te_codec (not part of its API;
 * include te_codec.h to use the codec).
 *
 *   te_codec.c         manifest (schema ids), codec object, framing and the walk
 *   te_codec_fields.c  the field tables: Avro fields <-> te_msg.h struct members, and
 *                      the start-up check of each schema against its table
 *   te_codec_valid.c   value validation, identical for encode and decode
 *   te_codec_decode.c  the direct reader and avro-c's generic reader
 *   te_codec_encode.c  the encoders: the direct writer (default) and avro-c's generic
 *                      writer (te_codec_use_avro_writer)
 *
 * Names with static linkage are unique across these files: the fuzz targets compile
 * them all into one translation unit (tests/fuzz/fuzz_codec.c).
 */
#ifndef TE_CODEC_INT_H
#define TE_CODEC_INT_H

#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <avro.h>

#include "avro_walk.h"
#include "te_codec.h"

#define TS_MIN 0LL
#define TS_MAX 253402300799999LL /* 9999-12-31T23:59:59.999Z */

#define NFD(a) (sizeof(a) / sizeof((a)[0]))

/* ------------------------------------------------------------------ field tables */

typedef enum {
        FD_STR,
        FD_ENUM,
        FD_TS,
        FD_DOUBLE,
        FD_OPT_DOUBLE,
        FD_BOOL,
        FD_TARGETS
} fd_kind_t;

/* One Avro field <-> one struct member. */
typedef struct fd_s {
        const char *name;
        fd_kind_t kind;
        size_t off;              /* the member */
        size_t size;             /* FD_STR: array size; FD_ENUM: number of symbols */
        size_t has_off;          /* FD_OPT_DOUBLE: the has_<name> flag */
        const char *const *syms; /* FD_ENUM: te_*_names */
} fd_t;

/* The fields of a record, in schema order. */
typedef struct fd_table_s {
        const fd_t *fd;
        size_t n;
} fd_table_t;

/* te_codec_fields.c: the table of each message type, and of a Target (the items of
 * TargetPortfolio.targets). */
extern const fd_table_t te_codec_msg_fd[TE_MSG__CNT];
extern const fd_table_t te_codec_target_fd;

/** Check that the schema record `rec` matches the table `fd` (field order, names,
 *  types, enum symbols) and set the walker caps below `node` (strings at their C field
 *  size, targets at TE_TARGETS_MAX). `where` names the schema in errors.
 *  @returns 0, or -1 with errstr. */
int te_codec_check_record(avro_schema_t rec, const fd_t *fd, size_t n, te_avro_walk_t *w,
                          int node, const char *where, char *errstr, size_t errsz);

/* ------------------------------------------------------------------ codec object */

struct te_codec_s {
        struct {
                avro_schema_t schema;
                avro_value_iface_t *iface;
                avro_value_t value;
                int have_value;
                te_avro_walk_t *walk;
        } t[TE_MSG__CNT];
        avro_reader_t reader;
        avro_writer_t writer;
        int avro_reader; /* decode through avro-c's generic reader
                            (te_codec_use_avro_reader) */
        int avro_writer; /* encode through avro-c's generic writer
                            (te_codec_use_avro_writer) */
};

/** snprintf into errstr (NULL or size 0: nothing). */
__attribute__((format(printf, 3, 4))) void te_codec_seterr(char *errstr, size_t errsz,
                                                           const char *fmt, ...);

/** errstr "avro-c <what> failed: <avro_strerror()>". @returns TE_CODEC_ERR_INTERNAL. */
te_codec_err_t te_codec_avro_fail(char *errstr, size_t errsz, const char *what);

/** Size cap, header and walk. `want` is a type, or -1 for any; the type found goes to
 *  `type` (may be NULL). @returns OK or the error with errstr. */
te_codec_err_t te_codec_check_bytes(te_codec_t *c, const void *buf, size_t len, int want,
                                    te_msg_type_t *type, char *errstr, size_t errsz);

/* ------------------------------------------------------------------ value checks */

/** errstr for a field of a record, or of targets[idx] when idx >= 0.
 *  @returns TE_CODEC_ERR_INVALID. */
__attribute__((format(printf, 5, 6))) te_codec_err_t
te_codec_field_err(char *errstr, size_t errsz, long idx, const char *field,
                   const char *fmt, ...);

/** A string's bytes: valid UTF-8 without NUL. @returns OK or INVALID with errstr. */
te_codec_err_t te_codec_check_text(const fd_t *f, const char *s, size_t len, long idx,
                                   char *errstr, size_t errsz);

/** Encode side: the targets of a TargetPortfolio (count within TE_TARGETS_MAX, an
 *  array when the count is not 0). @returns OK or INVALID with errstr. */
te_codec_err_t te_codec_check_targets(const te_target_portfolio_t *tp, char *errstr,
                                      size_t errsz);

/** The per-message rules of te_codec_valid.c on a filled struct.
 *  @returns OK or INVALID with errstr naming the field. */
te_codec_err_t te_codec_validate(te_msg_type_t t, const void *m, char *errstr,
                                 size_t errsz);

/* Inline: called for every timestamp and double the readers read. */
static inline te_codec_err_t check_ts(const fd_t *f, int64_t v, char *errstr,
                                      size_t errsz)
{
        if (v < TS_MIN || v > TS_MAX)
                return te_codec_field_err(errstr, errsz, -1, f->name,
                                          "timestamp %lld ms out of range [0, %lld]",
                                          (long long)v, TS_MAX);
        return TE_CODEC_OK;
}

static inline te_codec_err_t check_finite(const fd_t *f, double v, long idx, char *errstr,
                                          size_t errsz)
{
        if (!isfinite(v))
                return te_codec_field_err(errstr, errsz, idx, f->name,
                                          "%g is not a finite number", v);
        return TE_CODEC_OK;
}

/* Encode side: a C string field, NUL-terminated within its array, then valid text.
 * Its length goes to *len. */
static inline te_codec_err_t check_cstr(const fd_t *f, const char *s, long idx,
                                        size_t *len, char *errstr, size_t errsz)
{
        size_t n = strnlen(s, f->size);
        *len = n;
        if (n == f->size)
                return te_codec_field_err(errstr, errsz, idx, f->name,
                                          "not NUL-terminated within %zu bytes", f->size);
        return te_codec_check_text(f, s, n, idx, errstr, errsz);
}

/* Encode side: an enum member within the symbols of its field. */
static inline te_codec_err_t check_enum(const fd_t *f, int e, long idx, char *errstr,
                                        size_t errsz)
{
        if (e < 0 || (size_t)e >= f->size)
                return te_codec_field_err(errstr, errsz, idx, f->name,
                                          "enum value %d out of range [0, %zu)", e,
                                          f->size);
        return TE_CODEC_OK;
}

/* ------------------------------------------------------------------ Avro primitives */

#define TE_CODEC_VARINT_MAX 10 /* bytes of the longest zigzag varint (64 bits) */

/** Avro's int/long encoding: zigzag, then little-endian base-128 varint. Writes at most
 *  TE_CODEC_VARINT_MAX bytes at p. @returns the number of bytes written. */
static inline size_t te_codec_put_long(uint8_t *p, int64_t v)
{
        uint64_t u = (uint64_t)v;
        uint64_t z = (u << 1) ^ (0 - (u >> 63));
        size_t n = 0;
        while (z >= 0x80) {
                p[n++] = (uint8_t)(z | 0x80);
                z >>= 7;
        }
        p[n++] = (uint8_t)z;
        return n;
}

/** Avro's double encoding: the 8 bytes of IEEE 754 binary64, little-endian. */
static inline void te_codec_put_double(uint8_t *p, double d)
{
        uint64_t u;
        memcpy(&u, &d, sizeof u);
        for (int i = 0; i < 8; i++)
                p[i] = (uint8_t)(u >> (8 * i));
}

#endif
