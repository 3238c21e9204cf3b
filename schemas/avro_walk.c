/*
 * avro_walk: a schema-driven, allocation-free validator for Avro binary (see
 * avro_walk.h for what it checks and why).
 *
 * Compilation flattens the avro-c schema into an array of nodes plus an array of
 * "kids" (record fields with their names, union branches). Named types are compiled
 * once and shared, which also makes recursive schemas finite graphs; the walk's depth
 * cap keeps hostile input from recursing through them without bound.
 *
 * The walk keeps a small stack of path frames (field name or array index) so that the
 * error text can name the field; nothing is formatted unless a check fails.
 */
#include "avro_walk.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "te_buf.h"

#define AW_MAX_NODES 4096 /* compiled nodes per schema: far above any message of ours */

enum aw_kind {
        AW_NULL,
        AW_BOOLEAN,
        AW_INT,
        AW_LONG,
        AW_FLOAT,
        AW_DOUBLE,
        AW_BYTES,
        AW_STRING,
        AW_FIXED,
        AW_ENUM,
        AW_ARRAY,
        AW_MAP,
        AW_UNION,
        AW_RECORD
};

typedef struct aw_node_s {
        uint8_t kind;
        uint32_t n;    /* RECORD fields, UNION branches, ENUM symbols, FIXED size */
        uint32_t kids; /* RECORD/UNION: first entry in kids[]; ARRAY/MAP: item node */
        uint64_t max;  /* STRING/BYTES: longest length; ARRAY/MAP: most items */
} aw_node_t;

typedef struct aw_kid_s {
        uint32_t node;
        char *name; /* record field name (owned), NULL for union branches */
} aw_kid_t;

typedef struct aw_memo_s {
        avro_schema_t schema; /* a named type (record, enum, fixed) already compiled */
        uint32_t node;
} aw_memo_t;

struct te_avro_walk_s {
        aw_node_t *nodes;
        size_t n_nodes, cap_nodes;
        aw_kid_t *kids;
        size_t n_kids, cap_kids;
        uint32_t root;
};

/* Compilation state (only during te_avro_walk_compile). */
typedef struct aw_build_s {
        te_avro_walk_t *w;
        aw_memo_t *memo;
        size_t n_memo, cap_memo;
        char *errstr;
        size_t errsz;
} aw_build_t;

__attribute__((format(printf, 2, 3))) static void build_err(aw_build_t *b,
                                                            const char *fmt, ...)
{
        if (!b->errstr || b->errsz == 0)
                return;
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(b->errstr, b->errsz, fmt, ap);
        va_end(ap);
}

static int new_node(aw_build_t *b, uint8_t kind, uint32_t *out)
{
        te_avro_walk_t *w = b->w;
        if (w->n_nodes >= AW_MAX_NODES) {
                build_err(b, "schema has more than %d nodes", AW_MAX_NODES);
                return -1;
        }
        if (te_grow((void **)&w->nodes, &w->cap_nodes, w->n_nodes + 1, sizeof *w->nodes,
                    32)) {
                build_err(b, "out of memory");
                return -1;
        }
        aw_node_t *n = &w->nodes[w->n_nodes];
        memset(n, 0, sizeof *n);
        n->kind = kind;
        n->max = UINT64_MAX;
        *out = (uint32_t)w->n_nodes++;
        return 0;
}

/* Reserve `n` consecutive kid slots; @returns the first index or -1. */
static int64_t new_kids(aw_build_t *b, size_t n)
{
        te_avro_walk_t *w = b->w;
        if (w->n_kids + n > AW_MAX_NODES) {
                build_err(b, "schema has more than %d fields/branches", AW_MAX_NODES);
                return -1;
        }
        if (te_grow((void **)&w->kids, &w->cap_kids, w->n_kids + n, sizeof *w->kids,
                    32)) {
                build_err(b, "out of memory");
                return -1;
        }
        int64_t first = (int64_t)w->n_kids;
        for (size_t i = 0; i < n; i++) {
                w->kids[w->n_kids + i].node = 0;
                w->kids[w->n_kids + i].name = NULL;
        }
        w->n_kids += n;
        return first;
}

static int memo_find(const aw_build_t *b, avro_schema_t s, uint32_t *out)
{
        for (size_t i = 0; i < b->n_memo; i++)
                if (b->memo[i].schema == s) {
                        *out = b->memo[i].node;
                        return 1;
                }
        return 0;
}

static int memo_add(aw_build_t *b, avro_schema_t s, uint32_t node)
{
        if (te_grow((void **)&b->memo, &b->cap_memo, b->n_memo + 1, sizeof *b->memo,
                    32)) {
                build_err(b, "out of memory");
                return -1;
        }
        b->memo[b->n_memo].schema = s;
        b->memo[b->n_memo].node = node;
        b->n_memo++;
        return 0;
}

static int compile(aw_build_t *b, avro_schema_t s, unsigned depth, uint32_t *out);

/* The node kind of a primitive Avro type, or -1. */
static int primitive_kind(avro_type_t t)
{
        static const struct {
                avro_type_t type;
                uint8_t kind;
        } map[] = {{AVRO_NULL, AW_NULL},   {AVRO_BOOLEAN, AW_BOOLEAN},
                   {AVRO_INT32, AW_INT},   {AVRO_INT64, AW_LONG},
                   {AVRO_FLOAT, AW_FLOAT}, {AVRO_DOUBLE, AW_DOUBLE},
                   {AVRO_BYTES, AW_BYTES}, {AVRO_STRING, AW_STRING}};
        for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
                if (map[i].type == t)
                        return map[i].kind;
        return -1;
}

/* A node of `kind` with count n; a named schema's node is remembered (memo) before
 * anything below it is compiled, so a recursive type refers back to it. */
static int counted_node(aw_build_t *b, avro_schema_t named, uint8_t kind, uint32_t n,
                        uint32_t *out)
{
        if (new_node(b, kind, out) || (named && memo_add(b, named, *out)))
                return -1;
        b->w->nodes[*out].n = n;
        return 0;
}

/* A union or a record: its n kids (branches, or fields with their names). */
static int compile_kids(aw_build_t *b, avro_schema_t s, unsigned depth, uint32_t *out)
{
        int rec = avro_typeof(s) == AVRO_RECORD;
        size_t n = rec ? avro_schema_record_size(s) : avro_schema_union_size(s);
        if (!rec && n == 0) {
                build_err(b, "empty union");
                return -1;
        }
        uint32_t id;
        if (counted_node(b, rec ? s : NULL, rec ? AW_RECORD : AW_UNION, (uint32_t)n, &id))
                return -1;
        int64_t first = new_kids(b, n);
        if (first < 0)
                return -1;
        b->w->nodes[id].kids = (uint32_t)first;
        for (size_t i = 0; i < n; i++) {
                aw_kid_t *k = &b->w->kids[first + (int64_t)i];
                uint32_t kid;
                if (rec) {
                        const char *fname = avro_schema_record_field_name(s, (int)i);
                        if (!fname) {
                                build_err(b, "record %s: field %zu has no name",
                                          avro_schema_name(s), i);
                                return -1;
                        }
                        if (!(k->name = strdup(fname))) {
                                build_err(b, "out of memory");
                                return -1;
                        }
                }
                if (compile(b,
                            rec ? avro_schema_record_field_get_by_index(s, (int)i)
                                : avro_schema_union_branch(s, (int)i),
                            depth + 1, &kid))
                        return -1;
                b->w->kids[first + (int64_t)i].node = kid; /* kids may have moved */
        }
        *out = id;
        return 0;
}

static int compile(aw_build_t *b, avro_schema_t s, unsigned depth, uint32_t *out)
{
        uint32_t id;
        if (!s) {
                build_err(b, "missing schema");
                return -1;
        }
        if (depth > 2 * TE_AVRO_WALK_MAX_DEPTH) {
                build_err(b, "schema nested deeper than %d", 2 * TE_AVRO_WALK_MAX_DEPTH);
                return -1;
        }
        if (is_avro_link(s))
                s = avro_schema_link_target(s);
        if (!s) {
                build_err(b, "unresolved named type");
                return -1;
        }
        if (is_avro_named_type(s) && memo_find(b, s, out))
                return 0;
        int prim = primitive_kind(avro_typeof(s));
        if (prim >= 0)
                return new_node(b, (uint8_t)prim, out);

        switch (avro_typeof(s)) {
        case AVRO_FIXED: {
                int64_t sz = avro_schema_fixed_size(s);
                if (sz < 0 || sz > INT32_MAX) {
                        build_err(b, "fixed size %" PRId64 " out of range", sz);
                        return -1;
                }
                return counted_node(b, s, AW_FIXED, (uint32_t)sz, out);
        }
        case AVRO_ENUM: {
                int n = avro_schema_enum_number_of_symbols(s);
                if (n <= 0) {
                        build_err(b, "enum %s has no symbols", avro_schema_name(s));
                        return -1;
                }
                return counted_node(b, s, AW_ENUM, (uint32_t)n, out);
        }
        case AVRO_ARRAY:
        case AVRO_MAP: {
                uint32_t item;
                int arr = avro_typeof(s) == AVRO_ARRAY;
                if (new_node(b, arr ? AW_ARRAY : AW_MAP, &id))
                        return -1;
                if (compile(b,
                            arr ? avro_schema_array_items(s) : avro_schema_map_values(s),
                            depth + 1, &item))
                        return -1;
                b->w->nodes[id].kids = item;
                b->w->nodes[id].max = TE_AVRO_WALK_DEFAULT_MAX_ITEMS;
                *out = id;
                return 0;
        }
        case AVRO_UNION:
        case AVRO_RECORD:
                return compile_kids(b, s, depth, out);
        default:
                build_err(b, "unsupported Avro type %d", (int)avro_typeof(s));
                return -1;
        }
}

te_avro_walk_t *te_avro_walk_compile(avro_schema_t schema, char *errstr, size_t errsz)
{
        aw_build_t b = {.errstr = errstr, .errsz = errsz};
        b.w = calloc(1, sizeof *b.w);
        if (!b.w) {
                build_err(&b, "out of memory");
                return NULL;
        }
        if (compile(&b, schema, 0, &b.w->root))
                goto err;
        free(b.memo);
        return b.w;
err:
        free(b.memo);
        te_avro_walk_destroy(b.w);
        return NULL;
}

void te_avro_walk_destroy(te_avro_walk_t *w)
{
        if (!w)
                return;
        for (size_t i = 0; i < w->n_kids; i++)
                free(w->kids[i].name);
        free(w->kids);
        free(w->nodes);
        free(w);
}

int te_avro_walk_root(const te_avro_walk_t *w)
{
        return (int)w->root;
}

int te_avro_walk_child(const te_avro_walk_t *w, int node, size_t i)
{
        if (node < 0 || (size_t)node >= w->n_nodes)
                return -1;
        const aw_node_t *n = &w->nodes[node];
        switch (n->kind) {
        case AW_RECORD:
        case AW_UNION:
                return i < n->n ? (int)w->kids[n->kids + i].node : -1;
        case AW_ARRAY:
        case AW_MAP:
                return (int)n->kids;
        default:
                return -1;
        }
}

int te_avro_walk_set_max(te_avro_walk_t *w, int node, uint64_t max)
{
        if (node < 0 || (size_t)node >= w->n_nodes)
                return -1;
        aw_node_t *n = &w->nodes[node];
        switch (n->kind) {
        case AW_STRING:
        case AW_BYTES:
        case AW_ARRAY:
        case AW_MAP:
                n->max = max;
                return 0;
        default:
                return -1;
        }
}

/* ------------------------------------------------------------------ the walk */

typedef struct aw_frame_s {
        const char *name; /* field name, or NULL for an array/map item */
        uint64_t idx;     /* item index when name is NULL */
} aw_frame_t;

typedef struct aw_walk_s {
        const te_avro_walk_t *w;
        const uint8_t *start, *p, *end;
        size_t base;
        unsigned npath;
        aw_frame_t path[TE_AVRO_WALK_MAX_DEPTH + 2];
        char *errstr;
        size_t errsz;
} aw_walk_t;

/* Format "field '<path>' at byte N: <why>" and return `code`. */
__attribute__((format(printf, 4, 5))) static te_avro_walk_err_t
fail(aw_walk_t *c, te_avro_walk_err_t code, const uint8_t *at, const char *fmt, ...)
{
        if (!c->errstr || c->errsz == 0)
                return code;
        char path[256];
        size_t pl = 0;
        path[0] = '\0';
        for (unsigned i = 0; i < c->npath && pl < sizeof path; i++) {
                int n;
                if (c->path[i].name)
                        n = snprintf(path + pl, sizeof path - pl, "%s%s", i ? "." : "",
                                     c->path[i].name);
                else
                        n = snprintf(path + pl, sizeof path - pl, "[%" PRIu64 "]",
                                     c->path[i].idx);
                if (n < 0)
                        break;
                pl += (size_t)n;
        }
        char why[160];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(why, sizeof why, fmt, ap);
        va_end(ap);
        size_t off = c->base + (size_t)(at - c->start);
        if (c->npath)
                snprintf(c->errstr, c->errsz, "field '%s' at byte %zu: %s", path, off,
                         why);
        else
                snprintf(c->errstr, c->errsz, "at byte %zu: %s", off, why);
        return code;
}

static inline size_t remaining(const aw_walk_t *c)
{
        return (size_t)(c->end - c->p);
}

/* Zigzag varint of at most `maxb` bytes (10 for long, 5 for int). In the last byte only
 * the bits that still fit may be set (1 for long, 4 for int). */
static te_avro_walk_err_t read_varint(aw_walk_t *c, unsigned maxb, uint8_t last_max,
                                      int64_t *out)
{
        const uint8_t *at = c->p;
        const uint8_t *p = c->p;
        uint64_t v = 0;
        if (p < c->end && !(*p & 0x80)) { /* one-byte fast path */
                v = *p;
                c->p = p + 1;
                *out = (int64_t)(v >> 1) ^ -(int64_t)(v & 1);
                return TE_AVRO_WALK_OK;
        }
        for (unsigned i = 0; i < maxb; i++) {
                if (p >= c->end)
                        return fail(c, TE_AVRO_WALK_TRUNCATED, at,
                                    "bytes end inside a varint");
                uint8_t byte = *p++;
                if (i == maxb - 1 && byte > last_max)
                        return fail(c, TE_AVRO_WALK_MALFORMED, at,
                                    "over-long or overflowing varint (%u+ bytes)", maxb);
                v |= (uint64_t)(byte & 0x7f) << (7 * i);
                if (!(byte & 0x80)) {
                        c->p = p;
                        *out = (int64_t)(v >> 1) ^ -(int64_t)(v & 1);
                        return TE_AVRO_WALK_OK;
                }
        }
        return fail(c, TE_AVRO_WALK_MALFORMED, at, "over-long varint");
}

static inline te_avro_walk_err_t read_long(aw_walk_t *c, int64_t *out)
{
        return read_varint(c, 10, 0x01, out);
}

static inline te_avro_walk_err_t read_int(aw_walk_t *c, int64_t *out)
{
        return read_varint(c, 5, 0x0f, out);
}

static te_avro_walk_err_t skip_fixed(aw_walk_t *c, size_t n, const char *what)
{
        if (remaining(c) < n)
                return fail(c, TE_AVRO_WALK_TRUNCATED, c->p,
                            "bytes end inside %s (need %zu, have %zu)", what, n,
                            remaining(c));
        c->p += n;
        return TE_AVRO_WALK_OK;
}

static te_avro_walk_err_t walk(aw_walk_t *c, uint32_t ni, unsigned depth);

static te_avro_walk_err_t walk_length(aw_walk_t *c, const aw_node_t *n)
{
        const uint8_t *at = c->p;
        int64_t len;
        te_avro_walk_err_t rc = read_long(c, &len);
        if (rc)
                return rc;
        if (len < 0)
                return fail(c, TE_AVRO_WALK_MALFORMED, at, "negative length %" PRId64,
                            len);
        if ((uint64_t)len > remaining(c))
                return fail(c, TE_AVRO_WALK_TRUNCATED, at,
                            "length %" PRId64 " exceeds remaining %zu", len,
                            remaining(c));
        if ((uint64_t)len > n->max)
                return fail(c, TE_AVRO_WALK_TOO_LARGE, at,
                            "length %" PRId64 " exceeds the maximum %" PRIu64, len,
                            n->max);
        c->p += len;
        return TE_AVRO_WALK_OK;
}

static te_avro_walk_err_t walk_blocks(aw_walk_t *c, const aw_node_t *n, unsigned depth)
{
        const aw_node_t key = {.kind = AW_STRING, .max = UINT64_MAX};
        uint64_t total = 0;
        for (;;) {
                const uint8_t *at = c->p;
                int64_t count, bsize = -1;
                te_avro_walk_err_t rc = read_long(c, &count);
                if (rc)
                        return rc;
                if (count == 0)
                        return TE_AVRO_WALK_OK;
                if (count < 0) {
                        /* Avro spec: a negative count is followed by the block's size in
                         * bytes; we check that it matches the items we walk. */
                        if (count == INT64_MIN)
                                return fail(c, TE_AVRO_WALK_MALFORMED, at,
                                            "bad block count");
                        count = -count;
                        const uint8_t *bat = c->p;
                        rc = read_long(c, &bsize);
                        if (rc)
                                return rc;
                        if (bsize < 0)
                                return fail(c, TE_AVRO_WALK_MALFORMED, bat,
                                            "negative block byte size %" PRId64, bsize);
                        if ((uint64_t)bsize > remaining(c))
                                return fail(c, TE_AVRO_WALK_TRUNCATED, bat,
                                            "block byte size %" PRId64
                                            " exceeds remaining %zu",
                                            bsize, remaining(c));
                }
                if ((uint64_t)count > n->max - total)
                        return fail(c, TE_AVRO_WALK_TOO_LARGE, at,
                                    "more than %" PRIu64 " items (block of %" PRId64
                                    " after %" PRIu64 ")",
                                    n->max, count, total);
                const uint8_t *bstart = c->p;
                unsigned frame = c->npath++;
                c->path[frame].name = NULL;
                for (int64_t i = 0; i < count; i++) {
                        c->path[frame].idx = total + (uint64_t)i;
                        if (n->kind == AW_MAP) {
                                rc = walk_length(c, &key);
                                if (rc)
                                        return rc;
                        }
                        rc = walk(c, n->kids, depth + 1);
                        if (rc)
                                return rc;
                }
                c->npath--;
                if (bsize >= 0 && (uint64_t)bsize != (uint64_t)(c->p - bstart))
                        return fail(c, TE_AVRO_WALK_MALFORMED, at,
                                    "block byte size %" PRId64
                                    " does not match its %" PRId64 " items (%zu bytes)",
                                    bsize, count, (size_t)(c->p - bstart));
                total += (uint64_t)count;
        }
}

static te_avro_walk_err_t walk(aw_walk_t *c, uint32_t ni, unsigned depth)
{
        const aw_node_t *n = &c->w->nodes[ni];
        const uint8_t *at = c->p;
        int64_t v;
        te_avro_walk_err_t rc;

        switch (n->kind) {
        case AW_NULL:
                return TE_AVRO_WALK_OK;
        case AW_BOOLEAN:
                if (c->p >= c->end)
                        return fail(c, TE_AVRO_WALK_TRUNCATED, at,
                                    "bytes end before a boolean");
                if (*c->p > 1)
                        return fail(c, TE_AVRO_WALK_MALFORMED, at,
                                    "boolean byte %u is not 0 or 1", (unsigned)*c->p);
                c->p++;
                return TE_AVRO_WALK_OK;
        case AW_INT:
                return read_int(c, &v);
        case AW_LONG:
                return read_long(c, &v);
        case AW_FLOAT:
                return skip_fixed(c, 4, "a float");
        case AW_DOUBLE:
                return skip_fixed(c, 8, "a double");
        case AW_FIXED:
                return skip_fixed(c, n->n, "a fixed");
        case AW_BYTES:
        case AW_STRING:
                return walk_length(c, n);
        case AW_ENUM:
                rc = read_int(c, &v);
                if (rc)
                        return rc;
                if (v < 0 || v >= (int64_t)n->n)
                        return fail(c, TE_AVRO_WALK_MALFORMED, at,
                                    "enum index %" PRId64 " out of range [0, %u)", v,
                                    n->n);
                return TE_AVRO_WALK_OK;
        case AW_UNION:
                rc = read_int(c, &v);
                if (rc)
                        return rc;
                if (v < 0 || v >= (int64_t)n->n)
                        return fail(c, TE_AVRO_WALK_MALFORMED, at,
                                    "union index %" PRId64 " out of range [0, %u)", v,
                                    n->n);
                if (depth >= TE_AVRO_WALK_MAX_DEPTH)
                        return fail(c, TE_AVRO_WALK_TOO_LARGE, at,
                                    "nested deeper than %d", TE_AVRO_WALK_MAX_DEPTH);
                return walk(c, c->w->kids[n->kids + (uint32_t)v].node, depth + 1);
        case AW_ARRAY:
        case AW_MAP:
                if (depth >= TE_AVRO_WALK_MAX_DEPTH)
                        return fail(c, TE_AVRO_WALK_TOO_LARGE, at,
                                    "nested deeper than %d", TE_AVRO_WALK_MAX_DEPTH);
                return walk_blocks(c, n, depth);
        case AW_RECORD: {
                if (depth >= TE_AVRO_WALK_MAX_DEPTH)
                        return fail(c, TE_AVRO_WALK_TOO_LARGE, at,
                                    "nested deeper than %d", TE_AVRO_WALK_MAX_DEPTH);
                unsigned frame = c->npath++;
                const aw_kid_t *k = &c->w->kids[n->kids];
                for (uint32_t i = 0; i < n->n; i++) {
                        c->path[frame].name = k[i].name;
                        rc = walk(c, k[i].node, depth + 1);
                        if (rc)
                                return rc;
                }
                c->npath--;
                return TE_AVRO_WALK_OK;
        }
        default:
                return fail(c, TE_AVRO_WALK_MALFORMED, at, "corrupt walker node %u", ni);
        }
}

te_avro_walk_err_t te_avro_walk_walk(const te_avro_walk_t *w, const void *buf, size_t len,
                                     size_t base_off, char *errstr, size_t errsz)
{
        aw_walk_t c;
        c.w = w;
        c.start = c.p = buf;
        c.end = c.start + len;
        c.base = base_off;
        c.npath = 0;
        c.errstr = errstr;
        c.errsz = errsz;
        te_avro_walk_err_t rc = walk(&c, w->root, 0);
        if (rc)
                return rc;
        if (c.p != c.end) {
                c.npath = 0;
                return fail(&c, TE_AVRO_WALK_TRAILING, c.p,
                            "%zu trailing bytes after the record", remaining(&c));
        }
        return TE_AVRO_WALK_OK;
}
