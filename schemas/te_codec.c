/*
 * te_codec: our five messages <-> Confluent-framed Avro, safe on hostile bytes.
 *
 * Ids and schema files come from the embedded schemas/manifest (parsed once, on first
 * use, under pthread_once). te_codec_new parses each schema with avro-c, checks it
 * against the field tables below (same field order, names, types, enum symbols as the
 * C structs in te_msg.h: a schema edit that breaks the mapping fails at start-up, not on
 * the wire), compiles it for the walker (avro_walk.h) with every string capped at its
 * C field size and targets capped at TE_TARGETS_MAX, and makes one reusable generic
 * value per type.
 *
 * Decoding: header -> walk (no allocation; rejects everything avro-c would mishandle)
 * -> read into the zeroed struct -> value validation. The read is done by a direct
 * reader over the walked bytes (no allocation, ~3x avro-c's generic decode: avro-c
 * alone reaches only ~1.9M OrderCommands/s here, below the 2.5M/s we need). avro-c's
 * generic reader (one reused value per type, avro_value_reset + avro_reader_memory_set_
 * source, fields copied by index) remains as the reference path: the unit tests and the
 * fuzz target decode everything through both and require identical results, and
 * te_codec_use_avro_reader() selects it.
 * Encoding runs the same validation on the struct, fills the reused avro-c value,
 * sizes it with avro_value_sizeof and writes it with avro_value_write into `out`.
 *
 * Value validation (TE_CODEC_ERR_INVALID, errstr names the field), identical for
 * encode and decode:
 *   every message
 *     - strings: valid UTF-8 without NUL bytes (the database and JSON tools downstream
 *       reject them); on encode, NUL-terminated within their C array;
 *     - doubles finite; timestamps (as_of, effective_from, event_time) in
 *       [0, 253402300799999] (year 9999); enums in range (encode).
 *   TargetPortfolio: decision_id and portfolio_id non-empty; nav > 0 when present;
 *     every target: ticker non-empty, value finite, ref_price > 0 when present;
 *     at most TE_TARGETS_MAX targets.
 *   ExecutionMode: scope non-empty ("*" or a portfolio id).
 *   OrderCommand: order_id and portfolio_id non-empty (all commands, CLOCK included);
 *     NEW: ticker non-empty; NEW and REPLACE: quantity > 0, limit_price required for
 *     LIMIT/STOP_LIMIT and stop_price for STOP/STOP_LIMIT; CANCEL/CLOCK: quantity >= 0;
 *     limit_price, stop_price, ref_price > 0 when present.
 *   ExecutionReport: report_id non-empty; order_id and portfolio_id non-empty except
 *     for BROKER_STATE; last_qty, cum_qty, leaves_qty, commission >= 0; last_price >= 0
 *     and > 0 when last_qty > 0; avg_price >= 0 and > 0 when cum_qty > 0; PARTIAL_FILL
 *     and FILL: last_qty > 0 and ticker non-empty.
 *   Alert: source and code non-empty.
 * Cross-message checks (duplicate tickers in a target list, cum_qty consistency, order
 * state transitions) belong to the planner/broker/sink, not here.
 */
#include "te_codec.h"

#include "avro_walk.h"
#include "te_embed.h"

#include <avro.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TE_NAMESPACE "trading.execution.v1"
#define TS_MIN       0LL
#define TS_MAX       253402300799999LL /* 9999-12-31T23:59:59.999Z */

_Static_assert(sizeof(te_mode_t) == sizeof(int), "enums are stored as int");
_Static_assert(sizeof(te_unit_t) == sizeof(int), "enums are stored as int");
_Static_assert(sizeof(te_level_t) == sizeof(int), "enums are stored as int");
_Static_assert(sizeof(te_command_t) == sizeof(int), "enums are stored as int");
_Static_assert(sizeof(te_side_t) == sizeof(int), "enums are stored as int");
_Static_assert(sizeof(te_order_type_t) == sizeof(int), "enums are stored as int");
_Static_assert(sizeof(te_tif_t) == sizeof(int), "enums are stored as int");
_Static_assert(sizeof(te_aggr_t) == sizeof(int), "enums are stored as int");
_Static_assert(sizeof(te_intent_t) == sizeof(int), "enums are stored as int");
_Static_assert(sizeof(te_exec_type_t) == sizeof(int), "enums are stored as int");
_Static_assert(sizeof(te_order_status_t) == sizeof(int), "enums are stored as int");
_Static_assert(sizeof(te_severity_t) == sizeof(int), "enums are stored as int");

static const char *const type_names[TE_MSG__CNT] = {
    "TargetPortfolio", "ExecutionMode", "OrderCommand", "ExecutionReport", "Alert"};

static const char *const err_names[TE_CODEC_ERR__CNT] = {
    "ok",        "empty",    "magic",     "schema_id", "truncated",
    "malformed", "trailing", "too_large", "invalid",   "internal"};

__attribute__((format(printf, 3, 4))) static void seterr(char *errstr, size_t errsz,
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
                seterr(g_mf.err, sizeof g_mf.err, "%s is not compiled in", MANIFEST_PATH);
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
                        seterr(g_mf.err, sizeof g_mf.err, "%s:%d: line too long",
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
                        seterr(
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
                        seterr(g_mf.err, sizeof g_mf.err, "%s:%d: unknown record %s",
                               MANIFEST_PATH, lineno, tok[0]);
                        return;
                }
                if (seen[type]) {
                        seterr(g_mf.err, sizeof g_mf.err, "%s:%d: %s listed twice",
                               MANIFEST_PATH, lineno, tok[0]);
                        return;
                }
                if (parse_id(tok[1], &id)) {
                        seterr(g_mf.err, sizeof g_mf.err, "%s:%d: bad schema id '%s'",
                               MANIFEST_PATH, lineno, tok[1]);
                        return;
                }
                for (int t = 0; t < TE_MSG__CNT; t++)
                        if (seen[t] && g_mf.id[t] == id) {
                                seterr(g_mf.err, sizeof g_mf.err,
                                       "%s:%d: schema id %d already used by %s",
                                       MANIFEST_PATH, lineno, (int)id, type_names[t]);
                                return;
                        }
                int n = snprintf(g_mf.file[type], sizeof g_mf.file[type], "schemas/%s",
                                 tok[3]);
                if (n < 0 || (size_t)n >= sizeof g_mf.file[type]) {
                        seterr(g_mf.err, sizeof g_mf.err, "%s:%d: file name too long",
                               MANIFEST_PATH, lineno);
                        return;
                }
                g_mf.json[type] = te_embed_get(g_mf.file[type], &g_mf.json_len[type]);
                if (!g_mf.json[type]) {
                        seterr(g_mf.err, sizeof g_mf.err, "%s:%d: %s is not compiled in",
                               MANIFEST_PATH, lineno, g_mf.file[type]);
                        return;
                }
                g_mf.id[type] = id;
                seen[type] = 1;
        }
        for (int t = 0; t < TE_MSG__CNT; t++)
                if (!seen[t]) {
                        seterr(g_mf.err, sizeof g_mf.err, "%s: no line for %s",
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

#define MEMBER_SIZE(T, m) sizeof(((T *)0)->m)
#define F_STR(T, m)                                                                      \
        {                                                                                \
#m, FD_STR, offsetof(T, m), MEMBER_SIZE(T, m), 0, NULL                   \
        }
#define F_ID(T, m)                                                                       \
        {                                                                                \
#m, FD_STR, offsetof(T, ids.m), MEMBER_SIZE(T, ids.m), 0, NULL           \
        }
#define F_ENUM(T, m, names, cnt)                                                         \
        {                                                                                \
#m, FD_ENUM, offsetof(T, m), cnt, 0, names                               \
        }
#define F_TS(T, m)                                                                       \
        {                                                                                \
#m, FD_TS, offsetof(T, m), 0, 0, NULL                                    \
        }
#define F_DBL(T, m)                                                                      \
        {                                                                                \
#m, FD_DOUBLE, offsetof(T, m), 0, 0, NULL                                \
        }
#define F_OPT(T, m)                                                                      \
        {                                                                                \
#m, FD_OPT_DOUBLE, offsetof(T, m), 0, offsetof(T, has_##m), NULL         \
        }
#define F_BOOL(T, m)                                                                     \
        {                                                                                \
#m, FD_BOOL, offsetof(T, m), 0, 0, NULL                                  \
        }
#define F_IDS(T)                                                                         \
        F_ID(T, decision_id), F_ID(T, portfolio_id), F_ID(T, strategy_id),               \
            F_ID(T, profile_version_id), F_ID(T, regime_id), F_ID(T, universe_id)

static const fd_t fd_target[] = {
    F_STR(te_target_t, ticker),
    F_DBL(te_target_t, value),
    F_OPT(te_target_t, ref_price),
};

static const fd_t fd_tp[] = {
    F_IDS(te_target_portfolio_t),
    F_ENUM(te_target_portfolio_t, mode, te_mode_names, TE_MODE__CNT),
    F_TS(te_target_portfolio_t, as_of),
    F_ENUM(te_target_portfolio_t, unit, te_unit_names, TE_UNIT__CNT),
    F_OPT(te_target_portfolio_t, nav),
    F_BOOL(te_target_portfolio_t, full_replace),
    {"targets", FD_TARGETS, offsetof(te_target_portfolio_t, targets), 0, 0, NULL},
};

static const fd_t fd_mode[] = {
    F_STR(te_exec_mode_t, scope),
    F_ENUM(te_exec_mode_t, level, te_level_names, TE_LEVEL__CNT),
    F_TS(te_exec_mode_t, effective_from),
    F_STR(te_exec_mode_t, reason),
};

static const fd_t fd_order[] = {
    F_ENUM(te_order_cmd_t, command, te_command_names, TE_CMD__CNT),
    F_STR(te_order_cmd_t, order_id),
    F_IDS(te_order_cmd_t),
    F_STR(te_order_cmd_t, ticker),
    F_ENUM(te_order_cmd_t, side, te_side_names, TE_SIDE__CNT),
    F_DBL(te_order_cmd_t, quantity),
    F_ENUM(te_order_cmd_t, order_type, te_order_type_names, TE_OT__CNT),
    F_OPT(te_order_cmd_t, limit_price),
    F_OPT(te_order_cmd_t, stop_price),
    F_ENUM(te_order_cmd_t, tif, te_tif_names, TE_TIF__CNT),
    F_ENUM(te_order_cmd_t, aggressiveness, te_aggr_names, TE_AGGR__CNT),
    F_ENUM(te_order_cmd_t, intent, te_intent_names, TE_INTENT__CNT),
    F_ENUM(te_order_cmd_t, mode, te_mode_names, TE_MODE__CNT),
    F_STR(te_order_cmd_t, route),
    F_TS(te_order_cmd_t, event_time),
    F_OPT(te_order_cmd_t, ref_price),
};

static const fd_t fd_report[] = {
    F_STR(te_exec_report_t, report_id),
    F_STR(te_exec_report_t, order_id),
    F_ENUM(te_exec_report_t, exec_type, te_exec_type_names, TE_EXEC__CNT),
    F_ENUM(te_exec_report_t, order_status, te_order_status_names, TE_OS__CNT),
    F_STR(te_exec_report_t, ticker),
    F_ENUM(te_exec_report_t, side, te_side_names, TE_SIDE__CNT),
    F_DBL(te_exec_report_t, last_qty),
    F_DBL(te_exec_report_t, last_price),
    F_DBL(te_exec_report_t, cum_qty),
    F_DBL(te_exec_report_t, leaves_qty),
    F_DBL(te_exec_report_t, avg_price),
    F_DBL(te_exec_report_t, commission),
    F_STR(te_exec_report_t, reason),
    F_STR(te_exec_report_t, broker),
    F_STR(te_exec_report_t, account),
    F_TS(te_exec_report_t, event_time),
    F_IDS(te_exec_report_t),
    F_ENUM(te_exec_report_t, mode, te_mode_names, TE_MODE__CNT),
};

static const fd_t fd_alert[] = {
    F_ENUM(te_alert_t, severity, te_severity_names, TE_SEV__CNT),
    F_STR(te_alert_t, source),
    F_STR(te_alert_t, code),
    F_STR(te_alert_t, message),
    F_TS(te_alert_t, event_time),
    F_STR(te_alert_t, decision_id),
    F_STR(te_alert_t, portfolio_id),
    F_STR(te_alert_t, order_id),
};

#define NFD(a) (sizeof(a) / sizeof((a)[0]))

static const struct {
        const fd_t *fd;
        size_t n;
} msg_fd[TE_MSG__CNT] = {
    {fd_tp, NFD(fd_tp)},         {fd_mode, NFD(fd_mode)},   {fd_order, NFD(fd_order)},
    {fd_report, NFD(fd_report)}, {fd_alert, NFD(fd_alert)},
};

/* ------------------------------------------------------------------ codec object */

struct te_codec_s {
        struct {
                avro_schema_t schema;
                avro_value_iface_t *iface;
                avro_value_t value;
                int have_value;
                te_aw_t *walk;
        } t[TE_MSG__CNT];
        avro_reader_t reader;
        avro_writer_t writer;
        int avro_reader; /* decode through avro-c's generic reader
                            (te_codec_use_avro_reader) */
};

static avro_schema_t resolve(avro_schema_t s)
{
        return s && is_avro_link(s) ? avro_schema_link_target(s) : s;
}

/* Check that `rec` matches the table and set the walker caps below `node`. */
static int check_record(avro_schema_t rec, const fd_t *fd, size_t n, te_aw_t *w, int node,
                        const char *where, char *errstr, size_t errsz)
{
        if (!is_avro_record(rec) || avro_schema_record_size(rec) != n) {
                seterr(errstr, errsz, "%s: expected a record of %zu fields", where, n);
                return -1;
        }
        for (size_t i = 0; i < n; i++) {
                const fd_t *f = &fd[i];
                const char *name = avro_schema_record_field_name(rec, (int)i);
                avro_schema_t fs =
                    resolve(avro_schema_record_field_get_by_index(rec, (int)i));
                int fnode = te_aw_child(w, node, i);
                int ok = name && fs && fnode >= 0 && strcmp(name, f->name) == 0;
                if (ok) {
                        switch (f->kind) {
                        case FD_STR:
                                ok = is_avro_string(fs) &&
                                     te_aw_set_max(w, fnode, f->size - 1) == 0;
                                break;
                        case FD_ENUM:
                                ok = is_avro_enum(fs) &&
                                     avro_schema_enum_number_of_symbols(fs) ==
                                         (int)f->size;
                                for (size_t k = 0; ok && k < f->size; k++) {
                                        const char *sym =
                                            avro_schema_enum_get(fs, (int)k);
                                        ok = sym && strcmp(sym, f->syms[k]) == 0;
                                }
                                break;
                        case FD_TS:
                                ok = is_avro_int64(fs);
                                break;
                        case FD_DOUBLE:
                                ok = is_avro_double(fs);
                                break;
                        case FD_OPT_DOUBLE:
                                ok = is_avro_union(fs) &&
                                     avro_schema_union_size(fs) == 2 &&
                                     is_avro_null(
                                         resolve(avro_schema_union_branch(fs, 0))) &&
                                     is_avro_double(
                                         resolve(avro_schema_union_branch(fs, 1)));
                                break;
                        case FD_BOOL:
                                ok = is_avro_boolean(fs);
                                break;
                        case FD_TARGETS:
                                ok = is_avro_array(fs) &&
                                     te_aw_set_max(w, fnode, TE_TARGETS_MAX) == 0;
                                if (ok &&
                                    check_record(resolve(avro_schema_array_items(fs)),
                                                 fd_target, NFD(fd_target), w,
                                                 te_aw_child(w, fnode, 0), "Target",
                                                 errstr, errsz))
                                        return -1;
                                break;
                        }
                }
                if (!ok) {
                        seterr(errstr, errsz,
                               "%s: field %zu is '%s', expected '%s' matching te_msg.h",
                               where, i, name ? name : "?", f->name);
                        return -1;
                }
        }
        return 0;
}

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
                te_aw_destroy(c->t[t].walk);
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
                seterr(errstr, errsz, "%s", g_mf.err);
                return NULL;
        }
        c = calloc(1, sizeof *c);
        if (!c) {
                seterr(errstr, errsz, "out of memory");
                return NULL;
        }
        for (int t = 0; t < TE_MSG__CNT; t++) {
                const char *file = g_mf.file[t];
                if (avro_schema_from_json_length(g_mf.json[t], g_mf.json_len[t],
                                                 &c->t[t].schema)) {
                        c->t[t].schema = NULL;
                        seterr(errstr, errsz, "%s: %.160s", file, avro_strerror());
                        goto err;
                }
                avro_schema_t s = c->t[t].schema;
                const char *ns = avro_schema_namespace(s);
                if (!is_avro_record(s) ||
                    strcmp(avro_schema_name(s), type_names[t]) != 0 || !ns ||
                    strcmp(ns, TE_NAMESPACE) != 0) {
                        seterr(errstr, errsz, "%s: expected record %s.%s", file,
                               TE_NAMESPACE, type_names[t]);
                        goto err;
                }
                char werr[200];
                c->t[t].walk = te_aw_compile(s, werr, sizeof werr);
                if (!c->t[t].walk) {
                        seterr(errstr, errsz, "%s: %s", file, werr);
                        goto err;
                }
                if (check_record(s, msg_fd[t].fd, msg_fd[t].n, c->t[t].walk,
                                 te_aw_root(c->t[t].walk), file, errstr, errsz))
                        goto err;
                c->t[t].iface = avro_generic_class_from_schema(s);
                if (!c->t[t].iface ||
                    avro_generic_value_new(c->t[t].iface, &c->t[t].value) != 0) {
                        seterr(errstr, errsz, "%s: avro generic class: %.160s", file,
                               avro_strerror());
                        goto err;
                }
                c->t[t].have_value = 1;
        }
        c->reader = avro_reader_memory(empty, 0);
        c->writer = avro_writer_memory(empty, 0);
        if (!c->reader || !c->writer) {
                seterr(errstr, errsz, "out of memory");
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

static te_codec_err_t from_walk(te_aw_err_t e)
{
        switch (e) {
        case TE_AW_OK:
                return TE_CODEC_OK;
        case TE_AW_TRUNCATED:
                return TE_CODEC_ERR_TRUNCATED;
        case TE_AW_TRAILING:
                return TE_CODEC_ERR_TRAILING;
        case TE_AW_TOO_LARGE:
                return TE_CODEC_ERR_TOO_LARGE;
        case TE_AW_MALFORMED:
        default:
                return TE_CODEC_ERR_MALFORMED;
        }
}

/* Header and walk. `want` is a type, or -1 for any. */
static te_codec_err_t check_bytes(te_codec_t *c, const void *buf, size_t len, int want,
                                  te_msg_type_t *type, char *errstr, size_t errsz)
{
        te_msg_type_t t = TE_MSG__CNT;
        if (len > TE_CODEC_MAX_MESSAGE && buf) {
                seterr(errstr, errsz, "message of %zu bytes exceeds the maximum %u", len,
                       TE_CODEC_MAX_MESSAGE);
                return TE_CODEC_ERR_TOO_LARGE;
        }
        te_codec_err_t rc = te_codec_peek(buf, len, &t);
        if (rc != TE_CODEC_OK) {
                const uint8_t *b = buf;
                switch (rc) {
                case TE_CODEC_ERR_EMPTY:
                        seterr(errstr, errsz, "empty message");
                        break;
                case TE_CODEC_ERR_MAGIC:
                        seterr(errstr, errsz,
                               "first byte 0x%02x is not the magic byte 0x00",
                               (unsigned)b[0]);
                        break;
                case TE_CODEC_ERR_TRUNCATED:
                        seterr(errstr, errsz,
                               "message of %zu bytes ends inside the header", len);
                        break;
                default:
                        seterr(errstr, errsz, "unknown schema id %u",
                               ((unsigned)b[1] << 24) | ((unsigned)b[2] << 16) |
                                   ((unsigned)b[3] << 8) | (unsigned)b[4]);
                        break;
                }
                return rc;
        }
        if (want >= 0 && (int)t != want) {
                seterr(errstr, errsz, "schema id %d is %s, expected %s (%d)",
                       (int)g_mf.id[t], type_names[t], type_names[want],
                       (int)g_mf.id[want]);
                return TE_CODEC_ERR_SCHEMA_ID;
        }
        if (type)
                *type = t;
        return from_walk(
            te_aw_walk(c->t[t].walk, (const uint8_t *)buf + TE_CODEC_HEADER_LEN,
                       len - TE_CODEC_HEADER_LEN, TE_CODEC_HEADER_LEN, errstr, errsz));
}

te_codec_err_t te_codec_check(te_codec_t *c, const void *buf, size_t len,
                              te_msg_type_t *type, char *errstr, size_t errsz)
{
        return check_bytes(c, buf, len, -1, type, errstr, errsz);
}

/* ------------------------------------------------------------------ value checks */

/* 0: fine; 1: contains NUL; 2: not UTF-8 (overlongs, surrogates, > U+10FFFF refused). */
static int text_check(const char *s, size_t len)
{
        const uint8_t *p = (const uint8_t *)s;
        size_t i = 0;
        while (len - i >= 8) { /* 8 ASCII non-NUL bytes at a time */
                uint64_t w;
                memcpy(&w, p + i, 8);
                if ((w & 0x8080808080808080ULL) ||
                    ((w - 0x0101010101010101ULL) & ~w & 0x8080808080808080ULL))
                        break;
                i += 8;
        }
        while (i < len) {
                uint8_t b = p[i];
                if (b == 0)
                        return 1;
                if (b < 0x80) {
                        i++;
                        continue;
                }
                size_t need;
                uint8_t lo = 0x80, hi = 0xbf;
                if (b >= 0xc2 && b <= 0xdf) {
                        need = 1;
                } else if (b >= 0xe0 && b <= 0xef) {
                        need = 2;
                        if (b == 0xe0)
                                lo = 0xa0;
                        else if (b == 0xed)
                                hi = 0x9f;
                } else if (b >= 0xf0 && b <= 0xf4) {
                        need = 3;
                        if (b == 0xf0)
                                lo = 0x90;
                        else if (b == 0xf4)
                                hi = 0x8f;
                } else {
                        return 2;
                }
                if (len - i - 1 < need)
                        return 2;
                if (p[i + 1] < lo || p[i + 1] > hi)
                        return 2;
                for (size_t k = 2; k <= need; k++)
                        if (p[i + k] < 0x80 || p[i + k] > 0xbf)
                                return 2;
                i += need + 1;
        }
        return 0;
}

/* errstr for a field of a record, or of targets[idx] when idx >= 0. */
__attribute__((format(printf, 5, 6))) static te_codec_err_t
field_err(char *errstr, size_t errsz, long idx, const char *field, const char *fmt, ...)
{
        if (!errstr || errsz == 0)
                return TE_CODEC_ERR_INVALID;
        char why[160];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(why, sizeof why, fmt, ap);
        va_end(ap);
        if (idx >= 0)
                snprintf(errstr, errsz, "field 'targets[%ld].%s': %s", idx, field, why);
        else
                snprintf(errstr, errsz, "field '%s': %s", field, why);
        return TE_CODEC_ERR_INVALID;
}

static te_codec_err_t check_text(const fd_t *f, const char *s, size_t len, long idx,
                                 char *errstr, size_t errsz)
{
        int r = text_check(s, len);
        if (r == 1)
                return field_err(errstr, errsz, idx, f->name, "contains a NUL byte");
        if (r == 2)
                return field_err(errstr, errsz, idx, f->name, "is not valid UTF-8");
        return TE_CODEC_OK;
}

static te_codec_err_t check_ts(const fd_t *f, int64_t v, char *errstr, size_t errsz)
{
        if (v < TS_MIN || v > TS_MAX)
                return field_err(errstr, errsz, -1, f->name,
                                 "timestamp %lld ms out of range [0, %lld]", (long long)v,
                                 TS_MAX);
        return TE_CODEC_OK;
}

static te_codec_err_t check_finite(const fd_t *f, double v, long idx, char *errstr,
                                   size_t errsz)
{
        if (!isfinite(v))
                return field_err(errstr, errsz, idx, f->name, "%g is not a finite number",
                                 v);
        return TE_CODEC_OK;
}

#define NEED(cond, field, ...)                                                           \
        do {                                                                             \
                if (!(cond))                                                             \
                        return field_err(errstr, errsz, -1, field, __VA_ARGS__);         \
        } while (0)

static te_codec_err_t valid_target_portfolio(const te_target_portfolio_t *m, char *errstr,
                                             size_t errsz)
{
        NEED(m->ids.decision_id[0], "decision_id", "must not be empty");
        NEED(m->ids.portfolio_id[0], "portfolio_id", "must not be empty");
        NEED(!m->has_nav || m->nav > 0, "nav", "must be > 0 when present (got %g)",
             m->nav);
        for (size_t i = 0; i < m->n_targets; i++) {
                const te_target_t *t = &m->targets[i];
                if (!t->ticker[0])
                        return field_err(errstr, errsz, (long)i, "ticker",
                                         "must not be empty");
                if (t->has_ref_price && !(t->ref_price > 0))
                        return field_err(errstr, errsz, (long)i, "ref_price",
                                         "must be > 0 when present (got %g)",
                                         t->ref_price);
        }
        return TE_CODEC_OK;
}

static te_codec_err_t valid_exec_mode(const te_exec_mode_t *m, char *errstr, size_t errsz)
{
        NEED(m->scope[0], "scope", "must not be empty (a portfolio_id or \"*\")");
        return TE_CODEC_OK;
}

static te_codec_err_t valid_order_cmd(const te_order_cmd_t *m, char *errstr, size_t errsz)
{
        int sized = m->command == TE_CMD_NEW || m->command == TE_CMD_REPLACE;
        NEED(m->order_id[0], "order_id", "must not be empty");
        NEED(m->ids.portfolio_id[0], "portfolio_id", "must not be empty");
        if (m->command == TE_CMD_NEW)
                NEED(m->ticker[0], "ticker", "must not be empty for NEW");
        if (sized)
                NEED(m->quantity > 0, "quantity", "must be > 0 for %s (got %g)",
                     te_command_name(m->command), m->quantity);
        else
                NEED(m->quantity >= 0, "quantity", "must be >= 0 (got %g)", m->quantity);
        NEED(!m->has_limit_price || m->limit_price > 0, "limit_price",
             "must be > 0 when present (got %g)", m->limit_price);
        NEED(!m->has_stop_price || m->stop_price > 0, "stop_price",
             "must be > 0 when present (got %g)", m->stop_price);
        NEED(!m->has_ref_price || m->ref_price > 0, "ref_price",
             "must be > 0 when present (got %g)", m->ref_price);
        if (sized) {
                int lim =
                    m->order_type == TE_OT_LIMIT || m->order_type == TE_OT_STOP_LIMIT;
                int stp =
                    m->order_type == TE_OT_STOP || m->order_type == TE_OT_STOP_LIMIT;
                NEED(!lim || m->has_limit_price, "limit_price", "required for %s orders",
                     te_order_type_name(m->order_type));
                NEED(!stp || m->has_stop_price, "stop_price", "required for %s orders",
                     te_order_type_name(m->order_type));
        }
        return TE_CODEC_OK;
}

static te_codec_err_t valid_exec_report(const te_exec_report_t *m, char *errstr,
                                        size_t errsz)
{
        int state = m->exec_type == TE_EXEC_BROKER_STATE;
        int fill = m->exec_type == TE_EXEC_PARTIAL_FILL || m->exec_type == TE_EXEC_FILL;
        NEED(m->report_id[0], "report_id", "must not be empty");
        NEED(state || m->order_id[0], "order_id", "must not be empty for %s",
             te_exec_type_name(m->exec_type));
        NEED(state || m->ids.portfolio_id[0], "portfolio_id", "must not be empty for %s",
             te_exec_type_name(m->exec_type));
        NEED(m->last_qty >= 0, "last_qty", "must be >= 0 (got %g)", m->last_qty);
        NEED(m->cum_qty >= 0, "cum_qty", "must be >= 0 (got %g)", m->cum_qty);
        NEED(m->leaves_qty >= 0, "leaves_qty", "must be >= 0 (got %g)", m->leaves_qty);
        NEED(m->commission >= 0, "commission", "must be >= 0 (got %g)", m->commission);
        if (m->last_qty > 0)
                NEED(m->last_price > 0, "last_price",
                     "must be > 0 when last_qty > 0 (got %g)", m->last_price);
        else
                NEED(m->last_price >= 0, "last_price", "must be >= 0 (got %g)",
                     m->last_price);
        if (m->cum_qty > 0)
                NEED(m->avg_price > 0, "avg_price",
                     "must be > 0 when cum_qty > 0 (got %g)", m->avg_price);
        else
                NEED(m->avg_price >= 0, "avg_price", "must be >= 0 (got %g)",
                     m->avg_price);
        if (fill) {
                NEED(m->last_qty > 0, "last_qty", "must be > 0 for %s",
                     te_exec_type_name(m->exec_type));
                NEED(m->ticker[0], "ticker", "must not be empty for %s",
                     te_exec_type_name(m->exec_type));
        }
        return TE_CODEC_OK;
}

static te_codec_err_t valid_alert(const te_alert_t *m, char *errstr, size_t errsz)
{
        NEED(m->source[0], "source", "must not be empty");
        NEED(m->code[0], "code", "must not be empty");
        return TE_CODEC_OK;
}

/* ------------------------------------------------------------------ decode */

static te_codec_err_t internal(char *errstr, size_t errsz, const char *what)
{
        seterr(errstr, errsz, "avro-c %s failed: %.120s", what, avro_strerror());
        return TE_CODEC_ERR_INTERNAL;
}

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
                        return internal(errstr, errsz, "get_by_index");
                switch (f->kind) {
                case FD_STR: {
                        const char *s;
                        size_t sz;
                        if (avro_value_get_string(&fv, &s, &sz))
                                return internal(errstr, errsz, "get_string");
                        size_t len = sz ? sz - 1 : 0;
                        if (len >= f->size) /* the walk caps lengths: cannot happen */
                                return internal(errstr, errsz, "string cap");
                        if ((rc = check_text(f, s, len, idx, errstr, errsz)))
                                return rc;
                        memcpy(base + f->off, s, len);
                        base[f->off + len] = '\0';
                        break;
                }
                case FD_ENUM: {
                        int e;
                        if (avro_value_get_enum(&fv, &e))
                                return internal(errstr, errsz, "get_enum");
                        if (e < 0 || (size_t)e >= f->size)
                                return internal(errstr, errsz, "enum range");
                        memcpy(base + f->off, &e, sizeof e);
                        break;
                }
                case FD_TS: {
                        int64_t v;
                        if (avro_value_get_long(&fv, &v))
                                return internal(errstr, errsz, "get_long");
                        if ((rc = check_ts(f, v, errstr, errsz)))
                                return rc;
                        memcpy(base + f->off, &v, sizeof v);
                        break;
                }
                case FD_DOUBLE: {
                        double d;
                        if (avro_value_get_double(&fv, &d))
                                return internal(errstr, errsz, "get_double");
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
                                return internal(errstr, errsz, "get_discriminant");
                        if (disc == 1) {
                                if (avro_value_get_current_branch(&fv, &br) ||
                                    avro_value_get_double(&br, &d))
                                        return internal(errstr, errsz, "get_double");
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
                                return internal(errstr, errsz, "get_boolean");
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
                return internal(errstr, errsz, "get_size");
        if (cnt > TE_TARGETS_MAX) /* the walk caps it: cannot happen */
                return internal(errstr, errsz, "targets cap");
        if (cnt > tp->cap_targets) {
                te_target_t *nt = realloc(tp->targets, cnt * sizeof *nt);
                if (!nt) {
                        seterr(errstr, errsz, "out of memory for %zu targets", cnt);
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
                        return internal(errstr, errsz, "get_by_index");
                te_codec_err_t rc = read_record(fd_target, NFD(fd_target), &ev, (char *)t,
                                                (long)k, errstr, errsz);
                if (rc)
                        return rc;
                tp->n_targets = k + 1;
        }
        return TE_CODEC_OK;
}

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
        seterr(errstr, errsz, "reader out of step with the walk at byte %zu",
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
                        if ((rc = check_text(f, s, (size_t)len, idx, errstr, errsz)))
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
                                seterr(errstr, errsz, "out of memory for %zu targets",
                                       ncap);
                                return TE_CODEC_ERR_INTERNAL;
                        }
                        tp->targets = nt;
                        tp->cap_targets = ncap;
                }
                for (int64_t j = 0; j < cnt; j++, k++) {
                        te_target_t *t = &tp->targets[k];
                        memset(t, 0, sizeof *t);
                        te_codec_err_t rc =
                            direct_record(fd_target, NFD(fd_target), r, start, (char *)t,
                                          (long)k, errstr, errsz);
                        if (rc)
                                return rc;
                        tp->n_targets = k + 1;
                }
        }
}

static te_codec_err_t validate(te_msg_type_t t, const void *m, char *errstr, size_t errsz)
{
        switch (t) {
        case TE_MSG_TARGET_PORTFOLIO:
                return valid_target_portfolio(m, errstr, errsz);
        case TE_MSG_EXECUTION_MODE:
                return valid_exec_mode(m, errstr, errsz);
        case TE_MSG_ORDER_COMMAND:
                return valid_order_cmd(m, errstr, errsz);
        case TE_MSG_EXECUTION_REPORT:
                return valid_exec_report(m, errstr, errsz);
        default:
                return valid_alert(m, errstr, errsz);
        }
}

/* Header, walk, read (direct or through avro-c) into the zeroed struct `m`, validate. */
static te_codec_err_t decode(te_codec_t *c, te_msg_type_t t, const void *buf, size_t len,
                             void *m, char *errstr, size_t errsz)
{
        te_codec_err_t rc = check_bytes(c, buf, len, (int)t, NULL, errstr, errsz);
        if (rc != TE_CODEC_OK)
                return rc;
        const uint8_t *body = (const uint8_t *)buf + TE_CODEC_HEADER_LEN;
        size_t blen = len - TE_CODEC_HEADER_LEN;
        if (!c->avro_reader) {
                rd_t r = {body, body + blen, 0};
                rc = direct_record(msg_fd[t].fd, msg_fd[t].n, &r, body, m, -1, errstr,
                                   errsz);
                if (rc == TE_CODEC_OK && r.p != r.end)
                        rc = rd_fail(&r, body, errstr, errsz);
        } else {
                avro_value_t *v = &c->t[t].value;
                avro_value_reset(v);
                avro_reader_memory_set_source(c->reader, (const char *)body,
                                              (int64_t)blen);
                if (avro_value_read(c->reader, v) != 0) {
                        avro_value_reset(v);
                        return internal(errstr, errsz, "read");
                }
                rc = read_record(msg_fd[t].fd, msg_fd[t].n, v, m, -1, errstr, errsz);
        }
        if (rc != TE_CODEC_OK)
                return rc;
        return validate(t, m, errstr, errsz);
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

/* ------------------------------------------------------------------ encode */

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
                        return internal(errstr, errsz, "get_by_index");
                switch (f->kind) {
                case FD_STR: {
                        const char *s = base + f->off;
                        size_t len = strnlen(s, f->size);
                        if (len == f->size)
                                return field_err(errstr, errsz, idx, f->name,
                                                 "not NUL-terminated within %zu bytes",
                                                 f->size);
                        if ((rc = check_text(f, s, len, idx, errstr, errsz)))
                                return rc;
                        if (avro_value_set_string_len(&fv, s, len + 1))
                                return internal(errstr, errsz, "set_string_len");
                        break;
                }
                case FD_ENUM: {
                        int e;
                        memcpy(&e, base + f->off, sizeof e);
                        if (e < 0 || (size_t)e >= f->size)
                                return field_err(errstr, errsz, idx, f->name,
                                                 "enum value %d out of range [0, %zu)", e,
                                                 f->size);
                        if (avro_value_set_enum(&fv, e))
                                return internal(errstr, errsz, "set_enum");
                        break;
                }
                case FD_TS: {
                        int64_t v;
                        memcpy(&v, base + f->off, sizeof v);
                        if ((rc = check_ts(f, v, errstr, errsz)))
                                return rc;
                        if (avro_value_set_long(&fv, v))
                                return internal(errstr, errsz, "set_long");
                        break;
                }
                case FD_DOUBLE: {
                        double d;
                        memcpy(&d, base + f->off, sizeof d);
                        if ((rc = check_finite(f, d, idx, errstr, errsz)))
                                return rc;
                        if (avro_value_set_double(&fv, d))
                                return internal(errstr, errsz, "set_double");
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
                                        return internal(errstr, errsz, "set_double");
                        } else {
                                if (avro_value_set_branch(&fv, 0, &br) ||
                                    avro_value_set_null(&br))
                                        return internal(errstr, errsz, "set_null");
                        }
                        break;
                }
                case FD_BOOL: {
                        int b;
                        memcpy(&b, base + f->off, sizeof b);
                        if (avro_value_set_boolean(&fv, b != 0))
                                return internal(errstr, errsz, "set_boolean");
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
                seterr(errstr, errsz,
                       "field 'targets': %zu entries exceed the maximum %d",
                       tp->n_targets, TE_TARGETS_MAX);
                return TE_CODEC_ERR_INVALID;
        }
        if (tp->n_targets && !tp->targets) {
                seterr(errstr, errsz, "field 'targets': n_targets %zu but no array",
                       tp->n_targets);
                return TE_CODEC_ERR_INVALID;
        }
        if (avro_value_reset(arr))
                return internal(errstr, errsz, "reset");
        for (size_t k = 0; k < tp->n_targets; k++) {
                avro_value_t ev;
                if (avro_value_append(arr, &ev, NULL))
                        return internal(errstr, errsz, "append");
                te_codec_err_t rc =
                    write_record(fd_target, NFD(fd_target), &ev,
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
        rc = write_record(msg_fd[t].fd, msg_fd[t].n, v, m, -1, errstr, errsz);
        if (rc == TE_CODEC_OK)
                rc = validate(t, m, errstr, errsz);
        if (rc != TE_CODEC_OK)
                goto done;
        if (avro_value_sizeof(v, &sz)) {
                rc = internal(errstr, errsz, "sizeof");
                goto done;
        }
        if (sz > TE_CODEC_MAX_MESSAGE - TE_CODEC_HEADER_LEN ||
            sz + TE_CODEC_HEADER_LEN > out->max) {
                seterr(errstr, errsz, "%s of %zu bytes exceeds the bound of %zu",
                       type_names[t], sz + TE_CODEC_HEADER_LEN,
                       out->max < TE_CODEC_MAX_MESSAGE ? out->max
                                                       : (size_t)TE_CODEC_MAX_MESSAGE);
                rc = TE_CODEC_ERR_TOO_LARGE;
                goto done;
        }
        if (te_buf_reserve(out, sz + TE_CODEC_HEADER_LEN)) {
                seterr(errstr, errsz, "out of memory for %zu bytes",
                       sz + TE_CODEC_HEADER_LEN);
                rc = TE_CODEC_ERR_INTERNAL;
                goto done;
        }
        uint32_t id = (uint32_t)g_mf.id[t];
        out->data[0] = 0x00;
        out->data[1] = (uint8_t)(id >> 24);
        out->data[2] = (uint8_t)(id >> 16);
        out->data[3] = (uint8_t)(id >> 8);
        out->data[4] = (uint8_t)id;
        avro_writer_memory_set_dest(
            c->writer, (const char *)out->data + TE_CODEC_HEADER_LEN, (int64_t)sz);
        if (avro_value_write(c->writer, v) != 0 ||
            avro_writer_tell(c->writer) != (int64_t)sz) {
                rc = internal(errstr, errsz, "write");
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
