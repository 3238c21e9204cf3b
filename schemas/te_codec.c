/*
 * te_codec: our five messages <-> Confluent-framed Avro, safe on hostile bytes.
 *
 * This file: the manifest, the codec object and the framing. Ids and schema files come
 * from the embedded schemas/manifest (parsed once, on first use, under pthread_once).
 * te_codec_new parses each schema with avro-c, checks it against its field table
 * (te_codec_fields.c: same field order, names, types, enum symbols as the C structs in
 * te_msg.h: a schema edit that breaks the mapping fails at start-up, not on the wire),
 * compiles it for the walker (avro_walk.h) with every string capped at its C field size
 * and targets capped at TE_TARGETS_MAX, and makes one reusable generic value per type.
 * te_codec_check_bytes checks the header and walks the body: every decode starts there.
 *
 * The other parts (te_codec_int.h): te_codec_decode.c (the direct reader and avro-c's
 * generic reader), te_codec_encode.c (the direct writer and avro-c's generic writer),
 * te_codec_valid.c (value validation, identical for encode and decode).
 */
#include "te_codec_int.h"

#include "te_embed.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TE_NAMESPACE "trading.execution.v1"

static const char *const type_names[TE_MSG__CNT] = {
    "TargetPortfolio", "ExecutionMode", "OrderCommand", "ExecutionReport", "Alert"};

static const char *const err_names[TE_CODEC_ERR__CNT] = {
    "ok",        "empty",    "magic",     "schema_id", "truncated",
    "malformed", "trailing", "too_large", "invalid",   "internal"};

__attribute__((format(printf, 3, 4))) void te_codec_seterr(char *errstr, size_t errsz,
                                                           const char *fmt, ...)
{
        if (!errstr || errsz == 0)
                return;
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(errstr, errsz, fmt, ap);
        va_end(ap);
}

const char *te_codec_err_name(te_codec_err_t err)
{
        return (unsigned)err < TE_CODEC_ERR__CNT ? err_names[err] : "unknown";
}

const char *te_codec_type_name(te_msg_type_t type)
{
        return (unsigned)type < TE_MSG__CNT ? type_names[type] : "?";
}

te_codec_err_t te_codec_avro_fail(char *errstr, size_t errsz, const char *what)
{
        te_codec_seterr(errstr, errsz, "avro-c %s failed: %.120s", what, avro_strerror());
        return TE_CODEC_ERR_INTERNAL;
}

/* ------------------------------------------------------------------ manifest */

#define MANIFEST_PATH "schemas/manifest"

static struct {
        int ok;
        int32_t id[TE_MSG__CNT];
        char file[TE_MSG__CNT][128]; /* "schemas/<file>" */
        const char *json[TE_MSG__CNT];
        size_t json_len[TE_MSG__CNT];
        char err[256];
} g_mf;
static pthread_once_t g_mf_once = PTHREAD_ONCE_INIT;

static int parse_id(const char *s, int32_t *out)
{
        int64_t v = 0;
        if (!*s)
                return -1;
        for (; *s; s++) {
                if (*s < '0' || *s > '9')
                        return -1;
                v = v * 10 + (*s - '0');
                if (v > INT32_MAX)
                        return -1;
        }
        if (v <= 0)
                return -1;
        *out = (int32_t)v;
        return 0;
}

static void manifest_load(void)
{
        size_t len;
        const char *text = te_embed_get(MANIFEST_PATH, &len);
        int seen[TE_MSG__CNT] = {0};
        int lineno = 0;
        if (!text) {
                te_codec_seterr(g_mf.err, sizeof g_mf.err, "%s is not compiled in",
                                MANIFEST_PATH);
                return;
        }
        const char *p = text, *end = text + len;
        while (p < end) {
                const char *eol = memchr(p, '\n', (size_t)(end - p));
                if (!eol)
                        eol = end;
                lineno++;
                char line[512];
                size_t ll = (size_t)(eol - p);
                if (ll >= sizeof line) {
                        te_codec_seterr(g_mf.err, sizeof g_mf.err, "%s:%d: line too long",
                                        MANIFEST_PATH, lineno);
                        return;
                }
                memcpy(line, p, ll);
                line[ll] = '\0';
                p = eol + 1;
                char *hash = strchr(line, '#');
                if (hash)
                        *hash = '\0';
                char *tok[5], *save = NULL;
                int nt = 0;
                for (char *t = strtok_r(line, " \t\r", &save); t && nt < 5;
                     t = strtok_r(NULL, " \t\r", &save))
                        tok[nt++] = t;
                if (nt == 0)
                        continue;
                if (nt != 4) {
                        te_codec_seterr(
                            g_mf.err, sizeof g_mf.err,
                            "%s:%d: expected <RecordName> <schema_id> <subject> <file>",
                            MANIFEST_PATH, lineno);
                        return;
                }
                int type = -1;
                for (int t = 0; t < TE_MSG__CNT; t++)
                        if (strcmp(tok[0], type_names[t]) == 0)
                                type = t;
                int32_t id;
                if (type < 0) {
                        te_codec_seterr(g_mf.err, sizeof g_mf.err,
                                        "%s:%d: unknown record %s", MANIFEST_PATH, lineno,
                                        tok[0]);
                        return;
                }
                if (seen[type]) {
                        te_codec_seterr(g_mf.err, sizeof g_mf.err,
                                        "%s:%d: %s listed twice", MANIFEST_PATH, lineno,
                                        tok[0]);
                        return;
                }
                if (parse_id(tok[1], &id)) {
                        te_codec_seterr(g_mf.err, sizeof g_mf.err,
                                        "%s:%d: bad schema id '%s'", MANIFEST_PATH,
                                        lineno, tok[1]);
                        return;
                }
                for (int t = 0; t < TE_MSG__CNT; t++)
                        if (seen[t] && g_mf.id[t] == id) {
                                te_codec_seterr(g_mf.err, sizeof g_mf.err,
                                                "%s:%d: schema id %d already used by %s",
                                                MANIFEST_PATH, lineno, (int)id,
                                                type_names[t]);
                                return;
                        }
                int n = snprintf(g_mf.file[type], sizeof g_mf.file[type], "schemas/%s",
                                 tok[3]);
                if (n < 0 || (size_t)n >= sizeof g_mf.file[type]) {
                        te_codec_seterr(g_mf.err, sizeof g_mf.err,
                                        "%s:%d: file name too long", MANIFEST_PATH,
                                        lineno);
                        return;
                }
                g_mf.json[type] = te_embed_get(g_mf.file[type], &g_mf.json_len[type]);
                if (!g_mf.json[type]) {
                        te_codec_seterr(g_mf.err, sizeof g_mf.err,
                                        "%s:%d: %s is not compiled in", MANIFEST_PATH,
                                        lineno, g_mf.file[type]);
                        return;
                }
                g_mf.id[type] = id;
                seen[type] = 1;
        }
        for (int t = 0; t < TE_MSG__CNT; t++)
                if (!seen[t]) {
                        te_codec_seterr(g_mf.err, sizeof g_mf.err, "%s: no line for %s",
                                        MANIFEST_PATH, type_names[t]);
                        return;
                }
        g_mf.ok = 1;
}

static int manifest(void)
{
        pthread_once(&g_mf_once, manifest_load);
        return g_mf.ok;
}

int32_t te_codec_schema_id(te_msg_type_t type)
{
        if (!manifest() || (unsigned)type >= TE_MSG__CNT)
                return -1;
        return g_mf.id[type];
}

const char *te_codec_schema_json(te_msg_type_t type)
{
        if (!manifest() || (unsigned)type >= TE_MSG__CNT)
                return NULL;
        return g_mf.json[type];
}

/* ------------------------------------------------------------------ codec object */

void te_codec_destroy(te_codec_t *c)
{
        if (!c)
                return;
        for (int t = 0; t < TE_MSG__CNT; t++) {
                if (c->t[t].have_value)
                        avro_value_decref(&c->t[t].value);
                if (c->t[t].iface)
                        avro_value_iface_decref(c->t[t].iface);
                if (c->t[t].schema)
                        avro_schema_decref(c->t[t].schema);
                te_avro_walk_destroy(c->t[t].walk);
        }
        if (c->reader)
                avro_reader_free(c->reader);
        if (c->writer)
                avro_writer_free(c->writer);
        free(c);
}

te_codec_t *te_codec_new(char *errstr, size_t errsz)
{
        static const char empty[1] = {0};
        te_codec_t *c = NULL;
        if (!manifest()) {
                te_codec_seterr(errstr, errsz, "%s", g_mf.err);
                return NULL;
        }
        c = calloc(1, sizeof *c);
        if (!c) {
                te_codec_seterr(errstr, errsz, "out of memory");
                return NULL;
        }
        for (int t = 0; t < TE_MSG__CNT; t++) {
                const char *file = g_mf.file[t];
                if (avro_schema_from_json_length(g_mf.json[t], g_mf.json_len[t],
                                                 &c->t[t].schema)) {
                        c->t[t].schema = NULL;
                        te_codec_seterr(errstr, errsz, "%s: %.160s", file,
                                        avro_strerror());
                        goto err;
                }
                avro_schema_t s = c->t[t].schema;
                const char *ns = avro_schema_namespace(s);
                if (!is_avro_record(s) ||
                    strcmp(avro_schema_name(s), type_names[t]) != 0 || !ns ||
                    strcmp(ns, TE_NAMESPACE) != 0) {
                        te_codec_seterr(errstr, errsz, "%s: expected record %s.%s", file,
                                        TE_NAMESPACE, type_names[t]);
                        goto err;
                }
                char werr[200];
                c->t[t].walk = te_avro_walk_compile(s, werr, sizeof werr);
                if (!c->t[t].walk) {
                        te_codec_seterr(errstr, errsz, "%s: %s", file, werr);
                        goto err;
                }
                if (te_codec_check_record(s, te_codec_msg_fd[t].fd, te_codec_msg_fd[t].n,
                                          c->t[t].walk, te_avro_walk_root(c->t[t].walk),
                                          file, errstr, errsz))
                        goto err;
                c->t[t].iface = avro_generic_class_from_schema(s);
                if (!c->t[t].iface ||
                    avro_generic_value_new(c->t[t].iface, &c->t[t].value) != 0) {
                        te_codec_seterr(errstr, errsz, "%s: avro generic class: %.160s",
                                        file, avro_strerror());
                        goto err;
                }
                c->t[t].have_value = 1;
        }
        c->reader = avro_reader_memory(empty, 0);
        c->writer = avro_writer_memory(empty, 0);
        if (!c->reader || !c->writer) {
                te_codec_seterr(errstr, errsz, "out of memory");
                goto err;
        }
        return c;
err:
        te_codec_destroy(c);
        return NULL;
}

/* ------------------------------------------------------------------ framing */

te_codec_err_t te_codec_peek(const void *buf, size_t len, te_msg_type_t *type)
{
        const uint8_t *b = buf;
        if (!b || len == 0)
                return TE_CODEC_ERR_EMPTY;
        if (b[0] != 0x00)
                return TE_CODEC_ERR_MAGIC;
        if (len < TE_CODEC_HEADER_LEN)
                return TE_CODEC_ERR_TRUNCATED;
        if (!manifest())
                return TE_CODEC_ERR_SCHEMA_ID;
        int32_t id = (int32_t)(((uint32_t)b[1] << 24) | ((uint32_t)b[2] << 16) |
                               ((uint32_t)b[3] << 8) | (uint32_t)b[4]);
        for (int t = 0; t < TE_MSG__CNT; t++)
                if (g_mf.id[t] == id) {
                        if (type)
                                *type = (te_msg_type_t)t;
                        return TE_CODEC_OK;
                }
        return TE_CODEC_ERR_SCHEMA_ID;
}

static te_codec_err_t from_walk(te_avro_walk_err_t e)
{
        switch (e) {
        case TE_AVRO_WALK_OK:
                return TE_CODEC_OK;
        case TE_AVRO_WALK_TRUNCATED:
                return TE_CODEC_ERR_TRUNCATED;
        case TE_AVRO_WALK_TRAILING:
                return TE_CODEC_ERR_TRAILING;
        case TE_AVRO_WALK_TOO_LARGE:
                return TE_CODEC_ERR_TOO_LARGE;
        case TE_AVRO_WALK_MALFORMED:
        default:
                return TE_CODEC_ERR_MALFORMED;
        }
}

/* Header and walk. `want` is a type, or -1 for any. */
te_codec_err_t te_codec_check_bytes(te_codec_t *c, const void *buf, size_t len, int want,
                                    te_msg_type_t *type, char *errstr, size_t errsz)
{
        te_msg_type_t t = TE_MSG__CNT;
        if (len > TE_CODEC_MAX_MESSAGE && buf) {
                te_codec_seterr(errstr, errsz,
                                "message of %zu bytes exceeds the maximum %u", len,
                                TE_CODEC_MAX_MESSAGE);
                return TE_CODEC_ERR_TOO_LARGE;
        }
        te_codec_err_t rc = te_codec_peek(buf, len, &t);
        if (rc != TE_CODEC_OK) {
                const uint8_t *b = buf;
                switch (rc) {
                case TE_CODEC_ERR_EMPTY:
                        te_codec_seterr(errstr, errsz, "empty message");
                        break;
                case TE_CODEC_ERR_MAGIC:
                        te_codec_seterr(errstr, errsz,
                                        "first byte 0x%02x is not the magic byte 0x00",
                                        (unsigned)b[0]);
                        break;
                case TE_CODEC_ERR_TRUNCATED:
                        te_codec_seterr(errstr, errsz,
                                        "message of %zu bytes ends inside the header",
                                        len);
                        break;
                default:
                        te_codec_seterr(errstr, errsz, "unknown schema id %u",
                                        ((unsigned)b[1] << 24) | ((unsigned)b[2] << 16) |
                                            ((unsigned)b[3] << 8) | (unsigned)b[4]);
                        break;
                }
                return rc;
        }
        if (want >= 0 && (int)t != want) {
                te_codec_seterr(errstr, errsz, "schema id %d is %s, expected %s (%d)",
                                (int)g_mf.id[t], type_names[t], type_names[want],
                                (int)g_mf.id[want]);
                return TE_CODEC_ERR_SCHEMA_ID;
        }
        if (type)
                *type = t;
        return from_walk(te_avro_walk_walk(
            c->t[t].walk, (const uint8_t *)buf + TE_CODEC_HEADER_LEN,
            len - TE_CODEC_HEADER_LEN, TE_CODEC_HEADER_LEN, errstr, errsz));
}

te_codec_err_t te_codec_check(te_codec_t *c, const void *buf, size_t len,
                              te_msg_type_t *type, char *errstr, size_t errsz)
{
        return te_codec_check_bytes(c, buf, len, -1, type, errstr, errsz);
}
