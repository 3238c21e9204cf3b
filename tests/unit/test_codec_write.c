/*
 * test_codec_write: the codec's direct writer against avro-c's generic writer.
 *
 * Messages of every type are generated from the codec's field tables with a fixed-seed
 * generator: empty, maximum-length and multi-byte UTF-8 strings, enum symbols,
 * timestamps at the varint boundaries and the ends of their range, doubles including
 * -0.0, subnormals and DBL_MAX, optional fields present and absent (with garbage behind
 * an absent one), booleans stored as any int, target arrays from empty to thousands.
 * Some fields are made invalid on purpose (unterminated or non-UTF-8 strings, enums,
 * timestamps and doubles out of range). Each message is encoded by both writers, which
 * must give the same bytes, or the same refusal with the same errstr and nothing in
 * `out`; a refused message is then repaired field by field, the field named by the
 * errstr, until it encodes, each step compared again. Every accepted message decodes
 * through both readers to the values encoded, and re-encodes to the same bytes.
 *
 * The Avro primitives (zigzag varints over the whole int64 range, doubles) are compared
 * with avro-c's encoding of plain long and double values, and the buffer handling
 * (growth from nothing, a bound at exactly the message size) with both writers.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <float.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../codec_msg.h"
#include "te_codec_int.h"

static te_codec_t *g_direct, *g_avro;

/* ------------------------------------------------------------------ generator */

static uint64_t g_rng;

static uint64_t rng(void)
{
        uint64_t x = g_rng;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        g_rng = x;
        return x * 0x2545f4914f6cdd1dULL;
}

static size_t rng_below(size_t n)
{
        return n ? (size_t)(rng() % n) : 0;
}

/* 1 in n */
static int one_in(size_t n)
{
        return rng_below(n) == 0;
}

/* UTF-8 units of 1 to 4 bytes, control characters included (they are valid text). */
static const char *const g_units[] = {
    "A",
    "z",
    "0",
    "-",
    ".",
    " ",
    "_",
    "\t",
    "\n",
    "\x7f",
    "\xc3\xa9" /* é */,
    "\xc3\x9f" /* ß */,
    "\xe2\x82\xac" /* € */,
    "\xe4\xb8\xad" /* 中 */,
    "\xef\xbf\xbd" /* U+FFFD */,
    "\xf0\x9f\x98\x80" /* 😀 */,
    "\xf4\x8f\xbf\xbf" /* U+10FFFF */,
};

/* Byte sequences that are not UTF-8. */
static const char *const g_bad_utf8[] = {
    "\xff", "\xc0\x80", "\xed\xa0\x80", "\xf4\x90\x80\x80", "\xe2\x82", "\x80",
};

/* A string in the zeroed field `dst` of `size` bytes: empty, the maximum length
 * (size - 1 bytes) or in between, made of random units. */
static void gen_str(char *dst, size_t size, int bad)
{
        size_t room = size - 1, len, n = 0;
        size_t mode = rng_below(8);
        if (bad && one_in(2)) { /* no NUL within the array */
                memset(dst, 'N', size);
                return;
        }
        len = mode == 0 ? 0 : mode <= 2 ? room : 1 + rng_below(room);
        while (n < len) {
                const char *u = g_units[rng_below(NFD(g_units))];
                size_t ul = strlen(u);
                if (ul > len - n)
                        u = "x", ul = 1; /* fill the last bytes exactly */
                memcpy(dst + n, u, ul);
                n += ul;
        }
        if (bad) { /* not UTF-8, somewhere */
                const char *b = g_bad_utf8[rng_below(NFD(g_bad_utf8))];
                size_t bl = strlen(b);
                if (bl > room)
                        bl = room;
                size_t at = n >= bl ? rng_below(n - bl + 1) : 0;
                memcpy(dst + at, b, bl);
                if (at + bl > n)
                        n = at + bl;
        }
        dst[n] = '\0';
}

static int64_t gen_ts(int bad)
{
        static const int64_t edges[] = {
            0,       1,       63,         64,         8191,          8192,
            1048575, 1048576, 2147483647, 2147483648, 1717428600000, TS_MAX - 1,
            TS_MAX};
        static const int64_t out[] = {-1,        TS_MAX + 1, INT64_MIN,
                                      INT64_MAX, -64,        INT32_MIN};
        if (bad)
                return out[rng_below(NFD(out))];
        if (one_in(2))
                return edges[rng_below(NFD(edges))];
        return (int64_t)(rng() % (uint64_t)(TS_MAX + 1));
}

static double gen_double(int bad)
{
        static const double edges[] = {
            0.0,      -0.0,   1.0,    0.5,     1250,
            189.37,   1e-300, 5e-324, DBL_MIN, DBL_MAX,
            -DBL_MAX, 1e15,   -1.5,   -250.25, 4503599627370497.0};
        if (bad) {
                int k = (int)rng_below(3);
                return k == 0 ? NAN : k == 1 ? INFINITY : -INFINITY;
        }
        switch (rng_below(4)) {
        case 0:
                return edges[rng_below(NFD(edges))];
        case 1: { /* any finite bit pattern */
                for (;;) {
                        uint64_t u = rng();
                        double d;
                        memcpy(&d, &u, sizeof d);
                        if (isfinite(d))
                                return d;
                }
        }
        case 2:
                return (double)(rng() % 1000000) / 100.0;
        default:
                return (double)(rng() >> 11) * 0x1p-53 * 1e6;
        }
}

static void gen_targets(te_target_portfolio_t *tp, int bad);

/* Fill the zeroed struct at `base` from the table. `bad`: make about one field in
 * `bad` invalid (0: none). */
static void gen_record(const fd_t *fd, size_t n, char *base, size_t bad)
{
        for (size_t i = 0; i < n; i++) {
                const fd_t *f = &fd[i];
                int b = bad && one_in(bad);
                switch (f->kind) {
                case FD_STR:
                        gen_str(base + f->off, f->size, b);
                        break;
                case FD_ENUM: {
                        static const int out[] = {-1, INT_MIN, INT_MAX};
                        int e = (int)rng_below(f->size);
                        if (b)
                                e = one_in(2) ? (int)f->size : out[rng_below(NFD(out))];
                        memcpy(base + f->off, &e, sizeof e);
                        break;
                }
                case FD_TS: {
                        int64_t v = gen_ts(b);
                        memcpy(base + f->off, &v, sizeof v);
                        break;
                }
                case FD_DOUBLE: {
                        double d = gen_double(b);
                        memcpy(base + f->off, &d, sizeof d);
                        break;
                }
                case FD_OPT_DOUBLE: {
                        /* absent: any value behind it, NaN included, is not encoded */
                        static const int flags[] = {1, 1, 2, -1};
                        int has = one_in(3) ? 0 : flags[rng_below(NFD(flags))];
                        double d = has ? gen_double(b) : gen_double(one_in(2));
                        memcpy(base + f->has_off, &has, sizeof has);
                        memcpy(base + f->off, &d, sizeof d);
                        break;
                }
                case FD_BOOL: {
                        static const int vals[] = {0, 1, 0, 1, 2, -1, INT_MIN};
                        int v = vals[rng_below(NFD(vals))];
                        memcpy(base + f->off, &v, sizeof v);
                        break;
                }
                case FD_TARGETS:
                        gen_targets((te_target_portfolio_t *)(void *)base, (int)bad);
                        break;
                }
        }
}

static void gen_targets(te_target_portfolio_t *tp, int bad)
{
        size_t k = rng_below(40), cnt;
        cnt = k < 6 ? 0 : k < 12 ? 1 : k < 39 ? 2 + rng_below(40) : 100 + rng_below(3000);
        tp->targets = NULL;
        tp->n_targets = tp->cap_targets = 0;
        if (!cnt)
                return;
        tp->targets = calloc(cnt, sizeof *tp->targets);
        assert_non_null(tp->targets);
        tp->n_targets = tp->cap_targets = cnt;
        for (size_t i = 0; i < cnt; i++) {
                te_target_t *x = &tp->targets[i];
                gen_record(te_codec_target_fd.fd, te_codec_target_fd.n, (char *)x,
                           bad ? (size_t)bad * cnt : 0);
                /* an empty ticker or a ref_price <= 0 is refused: in a long list,
                 * one repair per target would take long, so only short lists keep
                 * them */
                if (cnt > 50 && !x->ticker[0])
                        snprintf(x->ticker, sizeof x->ticker, "T%zu", i);
                if (cnt > 50 && x->has_ref_price && !(x->ref_price > 0))
                        x->ref_price = 1.25;
        }
}

/* The field (and targets index, or -1) an errstr names: "field 'x': ..." or
 * "field 'targets[k].x': ...". */
static const fd_t *named_field(te_msg_type_t t, const char *err, long *idx)
{
        const char *p = strstr(err, "field '");
        const fd_table_t *tab = &te_codec_msg_fd[t];
        char name[64];
        size_t n = 0;
        if (!p)
                return NULL;
        p += 7;
        *idx = -1;
        if (strncmp(p, "targets[", 8) == 0) {
                *idx = strtol(p + 8, (char **)&p, 10);
                if (strncmp(p, "].", 2) != 0)
                        return NULL;
                p += 2;
                tab = &te_codec_target_fd;
        }
        while (p[n] && p[n] != '\'' && n < sizeof name - 1) {
                name[n] = p[n];
                n++;
        }
        name[n] = '\0';
        for (size_t i = 0; i < tab->n; i++)
                if (strcmp(tab->fd[i].name, name) == 0)
                        return &tab->fd[i];
        return NULL;
}

/* Give the field named by a refusal a value every rule accepts. */
static void repair(te_msg_type_t t, msg_u *m, const char *err)
{
        long idx;
        const fd_t *f = named_field(t, err, &idx);
        char *base = (char *)m;
        if (!f)
                fail_msg("%s: cannot repair after '%s'", te_codec_type_name(t), err);
        if (idx >= 0) {
                assert_true((size_t)idx < m->tp.n_targets);
                base = (char *)&m->tp.targets[idx];
        }
        switch (f->kind) {
        case FD_STR:
                memset(base + f->off, 0, f->size);
                memcpy(base + f->off, "R\xc3\xa9", 3);
                break;
        case FD_ENUM:
                memset(base + f->off, 0, sizeof(int));
                break;
        case FD_TS: {
                int64_t v = 1717428600000;
                memcpy(base + f->off, &v, sizeof v);
                break;
        }
        case FD_OPT_DOUBLE: {
                int has = 1;
                memcpy(base + f->has_off, &has, sizeof has);
        } /* fall through */
        case FD_DOUBLE: {
                double d;
                memcpy(&d, base + f->off, sizeof d);
                d = isfinite(d) && fabs(d) > 0 ? fabs(d) : 1.25;
                memcpy(base + f->off, &d, sizeof d);
                break;
        }
        default:
                fail_msg("%s: no repair for '%s'", te_codec_type_name(t), err);
        }
}

/* What a decode gives back for `m`: absent optionals hold 0, flags and booleans 0 or
 * 1. Does not change the encoding. */
static void normalise(const fd_t *fd, size_t n, char *base)
{
        for (size_t i = 0; i < n; i++) {
                const fd_t *f = &fd[i];
                int v;
                if (f->kind == FD_OPT_DOUBLE) {
                        memcpy(&v, base + f->has_off, sizeof v);
                        v = v != 0;
                        memcpy(base + f->has_off, &v, sizeof v);
                        if (!v)
                                memset(base + f->off, 0, sizeof(double));
                } else if (f->kind == FD_BOOL) {
                        memcpy(&v, base + f->off, sizeof v);
                        v = v != 0;
                        memcpy(base + f->off, &v, sizeof v);
                } else if (f->kind == FD_TARGETS) {
                        te_target_portfolio_t *tp = (te_target_portfolio_t *)(void *)base;
                        for (size_t k = 0; k < tp->n_targets; k++)
                                normalise(te_codec_target_fd.fd, te_codec_target_fd.n,
                                          (char *)&tp->targets[k]);
                }
        }
}

/* ------------------------------------------------------------------ checks */

typedef struct stats_s {
        size_t ok, refused, bytes, max_len, targets_max;
} stats_t;

static te_codec_err_t both(te_msg_type_t t, const msg_u *m, te_buf_t *out, te_buf_t *out2,
                           char *err, size_t errsz)
{
        te_codec_err_t rc;
        char why[600];
        if (msg_encode_both(g_direct, g_avro, t, m, out, out2, &rc, err, errsz, why,
                            sizeof why))
                fail_msg("direct writer vs avro-c writer: %s", why);
        return rc;
}

/* An accepted message: both readers give back the (normalised) values, and the decoded
 * message encodes to the same bytes. */
static void check_round_trip(te_msg_type_t t, msg_u *m, const te_buf_t *enc)
{
        msg_u d[2];
        te_buf_t re;
        char err[256] = "";
        te_codec_t *readers[2] = {g_direct, g_avro};
        normalise(te_codec_msg_fd[t].fd, te_codec_msg_fd[t].n, (char *)m);
        te_buf_init(&re, TE_CODEC_MAX_MESSAGE);
        for (int i = 0; i < 2; i++) {
                memset(&d[i], 0, sizeof d[i]);
                te_codec_err_t rc = msg_decode(readers[i], t, enc->data, enc->len, &d[i],
                                               err, sizeof err);
                if (rc != TE_CODEC_OK)
                        fail_msg("%s: reader %d: %s (%s)", te_codec_type_name(t), i,
                                 te_codec_err_name(rc), err);
                if (!msg_equal(t, m, &d[i]))
                        fail_msg("%s: reader %d decodes other values than encoded",
                                 te_codec_type_name(t), i);
        }
        assert_int_equal(msg_encode(g_direct, t, &d[0], &re, err, sizeof err),
                         TE_CODEC_OK);
        assert_int_equal(re.len, enc->len);
        assert_memory_equal(re.data, enc->data, enc->len);
        /* the normalised original encodes the same, too */
        assert_int_equal(msg_encode(g_direct, t, m, &re, err, sizeof err), TE_CODEC_OK);
        assert_int_equal(re.len, enc->len);
        assert_memory_equal(re.data, enc->data, enc->len);
        te_buf_free(&re);
        msg_free(t, &d[0]);
        msg_free(t, &d[1]);
}

/* Generate `count` messages of type t, compare both writers on each, repair each
 * refusal until the message encodes. */
static void run_type(te_msg_type_t t, size_t count, uint64_t seed, stats_t *st)
{
        te_buf_t out, out2;
        char err[256];
        g_rng = seed;
        memset(st, 0, sizeof *st);
        te_buf_init(&out, TE_CODEC_MAX_MESSAGE);
        te_buf_init(&out2, TE_CODEC_MAX_MESSAGE);
        for (size_t i = 0; i < count; i++) {
                msg_u m;
                int steps = 0;
                memset(&m, 0, sizeof m);
                /* a third of the messages get invalid fields on purpose */
                gen_record(te_codec_msg_fd[t].fd, te_codec_msg_fd[t].n, (char *)&m,
                           i % 3 == 0 ? 6 : 0);
                if (one_in(16)) { /* now and then, a buffer that must grow from nothing */
                        te_buf_free(&out);
                        te_buf_init(&out, TE_CODEC_MAX_MESSAGE);
                }
                for (;;) {
                        te_codec_err_t rc = both(t, &m, &out, &out2, err, sizeof err);
                        if (rc == TE_CODEC_OK)
                                break;
                        if (rc != TE_CODEC_ERR_INVALID)
                                fail_msg("%s #%zu: %s (%s)", te_codec_type_name(t), i,
                                         te_codec_err_name(rc), err);
                        st->refused++;
                        if (++steps > 200)
                                fail_msg("%s #%zu: still refused after %d repairs: %s",
                                         te_codec_type_name(t), i, steps, err);
                        repair(t, &m, err);
                }
                st->ok++;
                st->bytes += out.len;
                if (out.len > st->max_len)
                        st->max_len = out.len;
                if (t == TE_MSG_TARGET_PORTFOLIO && m.tp.n_targets > st->targets_max)
                        st->targets_max = m.tp.n_targets;
                check_round_trip(t, &m, &out);
                msg_free(t, &m);
        }
        te_buf_free(&out);
        te_buf_free(&out2);
}

static void test_codec_write_random_messages_match_avro(void **state)
{
        (void)state;
        for (int t = 0; t < TE_MSG__CNT; t++) {
                stats_t st;
                size_t count = t == TE_MSG_TARGET_PORTFOLIO ? 1500 : 5000;
                run_type((te_msg_type_t)t, count, 0x5eed0000ULL + (uint64_t)t, &st);
                printf("%s: %zu encoded alike by both writers (%zu bytes, largest %zu), "
                       "%zu refused alike\n",
                       te_codec_type_name((te_msg_type_t)t), st.ok, st.bytes, st.max_len,
                       st.refused);
                assert_int_equal(st.ok, count);
                /* the invalid third: refusals of every type are compared too */
                assert_true(st.refused >= count / 6);
                if (t == TE_MSG_TARGET_PORTFOLIO)
                        assert_true(st.targets_max >= 1000);
        }
}

/* ------------------------------------------------------------------ primitives */

/* avro-c's encoding of one value of a primitive schema ("long" or "double"). */
typedef struct prim_s {
        avro_schema_t schema;
        avro_value_iface_t *iface;
        avro_value_t value;
        avro_writer_t writer;
        char buf[16];
} prim_t;

static void prim_init(prim_t *p, const char *json)
{
        assert_int_equal(avro_schema_from_json_length(json, strlen(json), &p->schema), 0);
        p->iface = avro_generic_class_from_schema(p->schema);
        assert_non_null(p->iface);
        assert_int_equal(avro_generic_value_new(p->iface, &p->value), 0);
        p->writer = avro_writer_memory(p->buf, sizeof p->buf);
        assert_non_null(p->writer);
}

static size_t prim_write(prim_t *p)
{
        avro_writer_reset(p->writer);
        assert_int_equal(avro_value_write(p->writer, &p->value), 0);
        return (size_t)avro_writer_tell(p->writer);
}

static void prim_free(prim_t *p)
{
        avro_writer_free(p->writer);
        avro_value_decref(&p->value);
        avro_value_iface_decref(p->iface);
        avro_schema_decref(p->schema);
}

static void check_long(prim_t *p, int64_t v)
{
        uint8_t mine[TE_CODEC_VARINT_MAX + 6];
        memset(mine, 0xee, sizeof mine);
        size_t n = te_codec_put_long(mine, v);
        assert_int_equal(avro_value_set_long(&p->value, v), 0);
        size_t an = prim_write(p);
        if (n != an || memcmp(mine, p->buf, n) != 0)
                fail_msg("long %lld: %zu bytes vs avro-c's %zu", (long long)v, n, an);
        assert_true(n <= TE_CODEC_VARINT_MAX);
        assert_int_equal(mine[n], 0xee); /* nothing written past n */
}

static void check_double(prim_t *p, double d)
{
        uint8_t mine[8];
        te_codec_put_double(mine, d);
        assert_int_equal(avro_value_set_double(&p->value, d), 0);
        assert_int_equal(prim_write(p), 8);
        if (memcmp(mine, p->buf, 8) != 0)
                fail_msg("double %a: bytes differ from avro-c's", d);
}

static void test_codec_write_primitives_match_avro(void **state)
{
        prim_t pl, pd;
        (void)state;
        prim_init(&pl, "\"long\"");
        prim_init(&pd, "\"double\"");
        for (int s = 0; s < 64; s++) { /* every power of two, its neighbours, negated */
                uint64_t p = 1ULL << s;
                for (int64_t dlt = -1; dlt <= 1; dlt++) {
                        int64_t v = (int64_t)(p + (uint64_t)dlt);
                        check_long(&pl, v);
                        check_long(&pl, (int64_t)(0 - (uint64_t)v));
                }
        }
        check_long(&pl, 0);
        check_long(&pl, INT64_MIN);
        check_long(&pl, INT64_MAX);
        check_long(&pl, INT32_MIN);
        check_long(&pl, INT32_MAX);
        check_long(&pl, TS_MAX);
        g_rng = 0x1046ULL;
        for (int i = 0; i < 20000; i++) { /* every length of varint, both signs */
                int64_t v = (int64_t)(rng() >> rng_below(64));
                check_long(&pl, v);
                check_long(&pl, (int64_t)(0 - (uint64_t)v));
        }
        static const double ds[] = {
            0.0,       -0.0,    1.0,    -1.0,      0.1,
            DBL_MIN,   DBL_MAX, 5e-324, -5e-324,   INFINITY,
            -INFINITY, 189.37,  1e300,  -2.5e-310, 1717428600000.0};
        for (size_t i = 0; i < NFD(ds); i++)
                check_double(&pd, ds[i]);
        check_double(&pd, NAN);
        for (int i = 0; i < 20000; i++) { /* any bit pattern, NaN payloads included */
                uint64_t u = rng();
                double d;
                memcpy(&d, &u, sizeof d);
                check_double(&pd, d);
        }
        prim_free(&pl);
        prim_free(&pd);
}

/* ------------------------------------------------------------------ buffers */

/* Both writers at a bound of exactly the message size, one byte less, from an
 * unallocated buffer and from one too small that must grow; and without an errstr. */
static void test_codec_write_buffer_bounds_match_avro(void **state)
{
        size_t grown = 0;
        (void)state;
        g_rng = 0xb0b0ULL;
        for (int t = 0; t < TE_MSG__CNT; t++) {
                for (int i = 0; i < 50; i++) {
                        msg_u m;
                        te_buf_t big, a, b;
                        char err[256];
                        memset(&m, 0, sizeof m);
                        gen_record(te_codec_msg_fd[t].fd, te_codec_msg_fd[t].n,
                                   (char *)&m, 0);
                        te_buf_init(&big, TE_CODEC_MAX_MESSAGE);
                        te_buf_init(&b, TE_CODEC_MAX_MESSAGE);
                        te_codec_err_t rc;
                        while ((rc = both((te_msg_type_t)t, &m, &big, &b, err,
                                          sizeof err)) != TE_CODEC_OK)
                                repair((te_msg_type_t)t, &m, err);
                        size_t len = big.len;
                        for (int k = 0; k < 2; k++) {
                                /* exactly the size: OK; one byte less: TOO_LARGE */
                                te_buf_init(&a, len - (size_t)k);
                                te_buf_free(&b);
                                te_buf_init(&b, len - (size_t)k);
                                rc = both((te_msg_type_t)t, &m, &a, &b, err, sizeof err);
                                assert_int_equal(rc, k ? TE_CODEC_ERR_TOO_LARGE
                                                       : TE_CODEC_OK);
                                if (!k) {
                                        assert_int_equal(a.len, len);
                                        assert_memory_equal(a.data, big.data, len);
                                } else {
                                        assert_non_null(strstr(err, "exceeds"));
                                }
                                te_buf_free(&a);
                        }
                        /* a buffer allocated too small grows on the second pass */
                        te_buf_init(&a, TE_CODEC_MAX_MESSAGE);
                        assert_int_equal(te_buf_reserve(&a, len / 2 + 1), 0);
                        int small = a.cap < len + 1;
                        te_buf_free(&b);
                        te_buf_init(&b, TE_CODEC_MAX_MESSAGE);
                        assert_int_equal(
                            both((te_msg_type_t)t, &m, &a, &b, err, sizeof err),
                            TE_CODEC_OK);
                        assert_int_equal(a.len, len);
                        assert_memory_equal(a.data, big.data, len);
                        grown += small;
                        /* refusals without an errstr: spoil the first field */
                        const fd_t *f0 = &te_codec_msg_fd[t].fd[0];
                        if (f0->kind == FD_STR)
                                ((char *)&m)[f0->off] = (char)0xff;
                        else if (f0->kind == FD_ENUM)
                                memset((char *)&m + f0->off, 0xff, sizeof(int));
                        else
                                fail_msg("first field of %s: no way to spoil it",
                                         f0->name);
                        te_codec_err_t ra =
                            msg_encode(g_direct, (te_msg_type_t)t, &m, &a, NULL, 0);
                        te_codec_err_t rb =
                            msg_encode(g_avro, (te_msg_type_t)t, &m, &b, NULL, 0);
                        assert_int_equal(ra, TE_CODEC_ERR_INVALID);
                        assert_int_equal(rb, TE_CODEC_ERR_INVALID);
                        assert_int_equal(a.len, 0);
                        msg_free((te_msg_type_t)t, &m);
                        te_buf_free(&a);
                        te_buf_free(&b);
                        te_buf_free(&big);
                }
        }
        assert_true(grown >= 50); /* the second pass did run */
}

/* ------------------------------------------------------------------ fixtures */

static int setup(void **state)
{
        char err[256];
        (void)state;
        g_direct = te_codec_new(err, sizeof err);
        g_avro = te_codec_new(err, sizeof err);
        if (!g_direct || !g_avro) {
                fprintf(stderr, "te_codec_new: %s\n", err);
                return -1;
        }
        te_codec_use_avro_writer(g_avro, 1);
        te_codec_use_avro_reader(g_avro, 1);
        return 0;
}

static int teardown(void **state)
{
        (void)state;
        te_codec_destroy(g_direct);
        te_codec_destroy(g_avro);
        g_direct = g_avro = NULL;
        return 0;
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_codec_write_primitives_match_avro),
            cmocka_unit_test(test_codec_write_random_messages_match_avro),
            cmocka_unit_test(test_codec_write_buffer_bounds_match_avro),
        };
        return cmocka_run_group_tests(tests, setup, teardown);
}
