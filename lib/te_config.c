/*
 * te_config: table-driven settings from defaults, a key=value file, EXEC_* environment
 * variables and -o overrides, plus the kafka.* pass-through list for librdkafka.
 *
 * Every value is parsed against its table entry (strtoll/strtod with end and ERANGE
 * checks, ranges, enum names, string bounds) and every error names where it came
 * from as "where: key: why".
 */
#include "te_config.h"

#include "te_buf.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define TE_CFG_LINE_MAX    16384 /* one line of a config file, newline included */
#define TE_CFG_KEY_MAX     128   /* a key name */
#define TE_CFG_KVAL_MAX    8192  /* a kafka.* value (PEM blobs fit) */
#define TE_CFG_KAFKA_MAX   256   /* number of kafka.* properties */
#define TE_CFG_KAFKA_PFX   "kafka."
#define TE_CFG_ENV_PFX     "EXEC_"
#define TE_CFG_ENV_KAFKA   "EXEC_KAFKA_"
#define TE_CFG_SHOW_MAX    64 /* how much of a bad value an error message quotes */
#define TE_CFG_IGNORED_MAX 16 /* EXEC_* names of other processes remembered */

typedef struct te_cfg_kv_s {
        char *name; /* without the kafka. prefix */
        char *value;
} te_cfg_kv_t;

struct te_cfg_s {
        const te_cfg_item_t *items;
        size_t n_items;
        void *target;
        te_cfg_kv_t *kafka;
        size_t n_kafka;
        size_t cap_kafka;
        char ignored[TE_CFG_IGNORED_MAX][TE_CFG_KEY_MAX]; /* EXEC_* not ours */
        size_t n_ignored;
};

/* A short, printable copy of a bad value for an error message. */
static void te_cfg_show(char *dst, size_t dstsz, const char *v)
{
        size_t i = 0;
        for (; v[i] && i + 1 < dstsz; i++)
                dst[i] = isprint((unsigned char)v[i]) ? v[i] : '?';
        dst[i] = '\0';
        if (v[i] && dstsz > 4)
                memcpy(dst + dstsz - 4, "...", 4);
}

static const te_cfg_item_t *te_cfg_find(const te_cfg_t *cfg, const char *key)
{
        for (size_t i = 0; i < cfg->n_items; i++)
                if (strcmp(cfg->items[i].name, key) == 0)
                        return &cfg->items[i];
        return NULL;
}

/* 1 if min == max == 0, which a table uses to say "no range". */
static int te_cfg_unbounded(const te_cfg_item_t *it)
{
        return it->min == 0 && it->max == 0;
}

static void te_cfg_range_text(char *dst, size_t dstsz, const te_cfg_item_t *it)
{
        char lo[32], hi[32];
        if (te_fmt_double(lo, sizeof lo, it->min) < 0)
                te_strlcpy(lo, "?", sizeof lo);
        if (te_fmt_double(hi, sizeof hi, it->max) < 0)
                te_strlcpy(hi, "?", sizeof hi);
        snprintf(dst, dstsz, "[%s, %s]", lo, hi);
}

/* A comma-separated list of enum_names ("" = none) as a bit set in an unsigned field.
 * @returns 0, or -1 with why naming the unknown name. */
static int te_cfg_parse_flags(const te_cfg_item_t *it, const char *value, char *field,
                              char *why, size_t whysz)
{
        unsigned bits = 0;
        const char *p = value;
        while (it->enum_names && *p) {
                size_t n = strcspn(p, ", "), k = 0;
                for (; n && it->enum_names[k]; k++)
                        if (strlen(it->enum_names[k]) == n &&
                            !strncmp(p, it->enum_names[k], n))
                                break;
                if (n && (!it->enum_names[k] || k >= sizeof bits * 8)) {
                        snprintf(why, whysz, "unknown name '%.*s'",
                                 (int)(n < 64 ? n : 64), p);
                        return -1;
                }
                bits |= n ? 1u << k : 0u;
                p += n + (p[n] != '\0');
        }
        if (!it->enum_names) {
                snprintf(why, whysz, "flags without names");
                return -1;
        }
        memcpy(field, &bits, sizeof bits);
        return 0;
}

/* Parse `value` for `it` and store it in the target. On failure write the "why" part
 * into why and return -1; the target is unchanged. */
/* A string that fits the field. @returns 0 or -1 with why. */
static int te_cfg_parse_string(const te_cfg_item_t *it, const char *value,
                               const char *show, char *field, char *why, size_t whysz)
{
        (void)show;
        size_t n = strlen(value);
        if (it->size == 0 || n > it->size - 1) {
                snprintf(why, whysz, "too long (%zu bytes, max %zu)", n,
                         it->size ? it->size - 1 : 0);
                return -1;
        }
        memcpy(field, value, n + 1);
        return 0;
}

/* A whole number in the item's range, stored as int or int64_t by its size. @returns 0 or
 * -1 with why. */
static int te_cfg_parse_int(const te_cfg_item_t *it, const char *value, const char *show,
                            char *field, char *why, size_t whysz)
{
        char range[80];
        char *end;
        errno = 0;
        long long v = strtoll(value, &end, 10);
        if (end == value || *end != '\0' || isspace((unsigned char)*value)) {
                snprintf(why, whysz, "invalid integer '%s'", show);
                return -1;
        }
        te_cfg_range_text(range, sizeof range, it);
        if (errno == ERANGE) {
                snprintf(why, whysz, "out of range '%s'", show);
                return -1;
        }
        if (!te_cfg_unbounded(it) && ((double)v < it->min || (double)v > it->max)) {
                snprintf(why, whysz, "out of range %s: %lld", range, v);
                return -1;
        }
        if (it->size == sizeof(int)) {
                if (v < INT_MIN || v > INT_MAX) {
                        snprintf(why, whysz, "out of range '%s'", show);
                        return -1;
                }
                int i32 = (int)v;
                memcpy(field, &i32, sizeof i32);
                return 0;
        }
        int64_t iv = (int64_t)v;
        memcpy(field, &iv, sizeof iv);
        return 0;
}

/* A finite number in the item's range. @returns 0 or -1 with why. */
static int te_cfg_parse_double(const te_cfg_item_t *it, const char *value,
                               const char *show, char *field, char *why, size_t whysz)
{
        char range[80];
        char *end;
        errno = 0;
        double v = strtod(value, &end);
        if (end == value || *end != '\0' || isspace((unsigned char)*value)) {
                snprintf(why, whysz, "invalid number '%s'", show);
                return -1;
        }
        if (!isfinite(v)) {
                snprintf(why, whysz, "not a finite number '%s'", show);
                return -1;
        }
        if (errno == ERANGE) {
                snprintf(why, whysz, "out of range '%s'", show);
                return -1;
        }
        te_cfg_range_text(range, sizeof range, it);
        if (!te_cfg_unbounded(it) && (v < it->min || v > it->max)) {
                snprintf(why, whysz, "out of range %s: %s", range, show);
                return -1;
        }
        memcpy(field, &v, sizeof v);
        return 0;
}

/* true/false, yes/no, on/off, 1/0 (any case). @returns 0 or -1 with why. */
static int te_cfg_parse_bool(const te_cfg_item_t *it, const char *value, const char *show,
                             char *field, char *why, size_t whysz)
{
        (void)it;
        static const struct {
                const char *s;
                int v;
        } words[] = {{"true", 1}, {"false", 0}, {"1", 1},  {"0", 0},
                     {"yes", 1},  {"no", 0},    {"on", 1}, {"off", 0}};
        for (size_t i = 0; i < sizeof words / sizeof words[0]; i++) {
                if (strcasecmp(value, words[i].s) == 0) {
                        memcpy(field, &words[i].v, sizeof(int));
                        return 0;
                }
        }
        snprintf(why, whysz, "invalid boolean '%s' (true/false, yes/no, on/off, 1/0)",
                 show);
        return -1;
}

/* One of the item's names, stored as its index; the error lists them. @returns 0 or -1
 * with why. */
static int te_cfg_parse_enum(const te_cfg_item_t *it, const char *value, const char *show,
                             char *field, char *why, size_t whysz)
{
        if (!it->enum_names) {
                snprintf(why, whysz, "enum without names");
                return -1;
        }
        for (int i = 0; it->enum_names[i]; i++) {
                if (strcmp(value, it->enum_names[i]) == 0) {
                        memcpy(field, &i, sizeof i);
                        return 0;
                }
        }
        te_buf_t b;
        te_buf_init(&b, whysz > 1 ? whysz - 1 : 0);
        int ok = te_buf_printf(&b, "invalid value '%s' (one of:", show) == 0;
        for (int i = 0; ok && it->enum_names[i]; i++)
                ok = te_buf_printf(&b, " %s", it->enum_names[i]) == 0;
        ok = ok && te_buf_puts(&b, ")") == 0;
        if (ok && te_buf_cstr(&b))
                te_strlcpy(why, (const char *)b.data, whysz);
        else
                snprintf(why, whysz, "invalid value '%s'", show);
        te_buf_free(&b);
        return -1;
}

static int te_cfg_parse_item(const te_cfg_t *cfg, const te_cfg_item_t *it,
                             const char *value, char *why, size_t whysz)
{
        char *field = (char *)cfg->target + it->offset;
        char show[TE_CFG_SHOW_MAX];

        te_cfg_show(show, sizeof show, value);
        switch (it->type) {
        case TE_CFG_RENAMED:
                if (it->help && *it->help)
                        snprintf(why, whysz, "renamed: use %s (%s)",
                                 it->def ? it->def : "?", it->help);
                else
                        snprintf(why, whysz, "renamed: use %s", it->def ? it->def : "?");
                return -1;
        case TE_CFG_STRING:
                return te_cfg_parse_string(it, value, show, field, why, whysz);
        case TE_CFG_INT:
                return te_cfg_parse_int(it, value, show, field, why, whysz);
        case TE_CFG_DOUBLE:
                return te_cfg_parse_double(it, value, show, field, why, whysz);
        case TE_CFG_BOOL:
                return te_cfg_parse_bool(it, value, show, field, why, whysz);
        case TE_CFG_ENUM:
                return te_cfg_parse_enum(it, value, show, field, why, whysz);
        case TE_CFG_FLAGS:
                return te_cfg_parse_flags(it, value, field, why, whysz);
        }
        snprintf(why, whysz, "unknown type %d", (int)it->type);
        return -1;
}

/* Zero value for a NULL default. */
static void te_cfg_zero_item(const te_cfg_t *cfg, const te_cfg_item_t *it)
{
        char *field = (char *)cfg->target + it->offset;
        switch (it->type) {
        case TE_CFG_STRING:
                if (it->size)
                        field[0] = '\0';
                break;
        case TE_CFG_INT: {
                int64_t z = 0;
                memcpy(field, &z, it->size == sizeof(int) ? sizeof(int) : sizeof z);
                break;
        }
        case TE_CFG_DOUBLE: {
                double z = 0;
                memcpy(field, &z, sizeof z);
                break;
        }
        case TE_CFG_BOOL:
        case TE_CFG_ENUM:
        case TE_CFG_FLAGS: {
                int z = 0;
                memcpy(field, &z, sizeof z);
                break;
        }
        case TE_CFG_RENAMED:
                break;
        }
}

/* 0 if the item's field size fits its type (a table written with the TE_CFG_* macros of
 * te_cfgtab.h records it); a mismatch would write past or short of the field. */
static int te_cfg_size_ok(const te_cfg_item_t *it)
{
        switch (it->type) {
        case TE_CFG_INT:
                return it->size == 0 || it->size == sizeof(int) ||
                       it->size == sizeof(int64_t);
        case TE_CFG_DOUBLE:
                return it->size == 0 || it->size == sizeof(double);
        case TE_CFG_BOOL:
        case TE_CFG_ENUM:
        case TE_CFG_FLAGS:
                return it->size == 0 || it->size == sizeof(int);
        case TE_CFG_STRING:
        case TE_CFG_RENAMED:
                return 1;
        }
        return 0;
}

te_cfg_t *te_cfg_new(const te_cfg_item_t *items, size_t n_items, void *target,
                     char *errstr, size_t errsz)
{
        char why[256];
        te_cfg_t *cfg = calloc(1, sizeof *cfg);
        if (!cfg) {
                te_errf(errstr, errsz, "out of memory");
                return NULL;
        }
        cfg->items = items;
        cfg->n_items = n_items;
        cfg->target = target;

        for (size_t i = 0; i < n_items; i++) {
                const te_cfg_item_t *it = &items[i];
                if (!it->name || !*it->name || strlen(it->name) >= TE_CFG_KEY_MAX ||
                    strncmp(it->name, TE_CFG_KAFKA_PFX, strlen(TE_CFG_KAFKA_PFX)) == 0) {
                        te_errf(errstr, errsz, "table: %s: invalid key name",
                                it->name ? it->name : "(null)");
                        goto err;
                }
                for (size_t j = 0; j < i; j++) {
                        if (strcmp(items[j].name, it->name) == 0) {
                                te_errf(errstr, errsz, "table: %s: duplicate key",
                                        it->name);
                                goto err;
                        }
                }
                if (it->type == TE_CFG_RENAMED)
                        continue; /* no field, no default */
                if (!te_cfg_size_ok(it)) {
                        te_errf(errstr, errsz, "table: %s: field of %zu bytes", it->name,
                                it->size);
                        goto err;
                }
                if (!it->def) {
                        te_cfg_zero_item(cfg, it);
                        continue;
                }
                if (te_cfg_parse_item(cfg, it, it->def, why, sizeof why) != 0) {
                        te_errf(errstr, errsz, "default: %s: %s", it->name, why);
                        goto err;
                }
        }
        return cfg;

err:
        te_cfg_destroy(cfg);
        return NULL;
}

int te_cfg_defaults(const te_cfg_item_t *items, size_t n_items, void *target,
                    char *errstr, size_t errsz)
{
        te_cfg_t *cfg = te_cfg_new(items, n_items, target, errstr, errsz);
        int rc = cfg ? 0 : -1;
        te_cfg_destroy(cfg);
        return rc;
}

void te_cfg_destroy(te_cfg_t *cfg)
{
        if (!cfg)
                return;
        for (size_t i = 0; i < cfg->n_kafka; i++) {
                free(cfg->kafka[i].name);
                free(cfg->kafka[i].value);
        }
        free(cfg->kafka);
        free(cfg);
}

static ssize_t te_cfg_kafka_index(const te_cfg_t *cfg, const char *name)
{
        for (size_t i = 0; i < cfg->n_kafka; i++)
                if (strcmp(cfg->kafka[i].name, name) == 0)
                        return (ssize_t)i;
        return -1;
}

/* Set a pass-through property; a key set again moves to the end with its new value. */
static int te_cfg_kafka_set(te_cfg_t *cfg, const char *name, const char *value, char *why,
                            size_t whysz)
{
        if (!*name) {
                snprintf(why, whysz, "empty librdkafka property name");
                return -1;
        }
        if (strlen(value) > TE_CFG_KVAL_MAX) {
                snprintf(why, whysz, "too long (%zu bytes, max %d)", strlen(value),
                         TE_CFG_KVAL_MAX);
                return -1;
        }
        char *n = strdup(name);
        char *v = strdup(value);
        if (!n || !v)
                goto oom;

        ssize_t idx = te_cfg_kafka_index(cfg, name);
        if (idx >= 0) {
                free(cfg->kafka[idx].name);
                free(cfg->kafka[idx].value);
                memmove(&cfg->kafka[idx], &cfg->kafka[idx + 1],
                        (cfg->n_kafka - (size_t)idx - 1) * sizeof cfg->kafka[0]);
                cfg->n_kafka--;
        } else if (cfg->n_kafka >= TE_CFG_KAFKA_MAX) {
                free(n);
                free(v);
                snprintf(why, whysz, "too many kafka.* properties (max %d)",
                         TE_CFG_KAFKA_MAX);
                return -1;
        }
        if (te_grow((void **)&cfg->kafka, &cfg->cap_kafka, cfg->n_kafka + 1,
                    sizeof *cfg->kafka, 16) != 0)
                goto oom;
        cfg->kafka[cfg->n_kafka].name = n;
        cfg->kafka[cfg->n_kafka].value = v;
        cfg->n_kafka++;
        return 0;

oom:
        free(n);
        free(v);
        snprintf(why, whysz, "out of memory");
        return -1;
}

int te_cfg_set(te_cfg_t *cfg, const char *key, const char *value, const char *where,
               char *errstr, size_t errsz)
{
        char why[512];
        size_t pfx = strlen(TE_CFG_KAFKA_PFX);
        int rc;

        if (strlen(key) >= TE_CFG_KEY_MAX) {
                te_errf(errstr, errsz, "%s: %.*s...: key too long", where, 32, key);
                return -1;
        }
        if (strncmp(key, TE_CFG_KAFKA_PFX, pfx) == 0) {
                rc = te_cfg_kafka_set(cfg, key + pfx, value, why, sizeof why);
        } else {
                const te_cfg_item_t *it = te_cfg_find(cfg, key);
                if (!it) {
                        te_errf(errstr, errsz, "%s: %s: unknown key", where, key);
                        return -1;
                }
                rc = te_cfg_parse_item(cfg, it, value, why, sizeof why);
        }
        if (rc != 0)
                te_errf(errstr, errsz, "%s: %s: %s", where, key, why);
        return rc;
}

/* Trim leading and trailing whitespace in place; returns the new start. */
static char *te_cfg_trim(char *s)
{
        while (isspace((unsigned char)*s))
                s++;
        size_t n = strlen(s);
        while (n > 0 && isspace((unsigned char)s[n - 1]))
                s[--n] = '\0';
        return s;
}

/* Split "key = value" into trimmed key and value. @returns -1 if there is no '='. */
static int te_cfg_split(char *line, char **key, char **value)
{
        char *eq = strchr(line, '=');
        if (!eq)
                return -1;
        *eq = '\0';
        *key = te_cfg_trim(line);
        *value = te_cfg_trim(eq + 1);
        return 0;
}

/* A file value: "text" or 'text' keep everything between the quotes (no escapes; a
 * '#' inside is text), then only blanks or a `# comment` may follow. Unquoted, a '#'
 * at the start or after a blank starts a comment (`a#b` stays a#b). `v` is trimmed.
 * @returns the value (in place), or NULL with why. */
static char *te_cfg_file_value(char *v, char *why, size_t whysz)
{
        if (*v == '"' || *v == '\'') {
                char *close = strchr(v + 1, *v);
                if (!close) {
                        snprintf(why, whysz, "unterminated %c quote", *v);
                        return NULL;
                }
                *close = '\0';
                char *rest = close + 1;
                while (isspace((unsigned char)*rest))
                        rest++;
                if (*rest && *rest != '#') {
                        snprintf(why, whysz, "text after the closing quote");
                        return NULL;
                }
                return v + 1;
        }
        for (char *p = v; *p; p++) {
                if (*p == '#' && (p == v || isspace((unsigned char)p[-1]))) {
                        *p = '\0';
                        break;
                }
        }
        return te_cfg_trim(v);
}

/* The first word of a line without '=', for the error message. */
static void te_cfg_first_word(char *dst, size_t dstsz, const char *line)
{
        size_t i = 0;
        while (line[i] && !isspace((unsigned char)line[i]) && i + 1 < dstsz &&
               i < TE_CFG_SHOW_MAX) {
                dst[i] = line[i];
                i++;
        }
        dst[i] = '\0';
}

int te_cfg_load_file(te_cfg_t *cfg, const char *path, char *errstr, size_t errsz)
{
        char line[TE_CFG_LINE_MAX];
        char where[512];
        int lineno = 0;
        int rc = -1;

        FILE *fp = fopen(path, "r");
        if (!fp) {
                te_errf(errstr, errsz, "%s: cannot open: %s", path, strerror(errno));
                return -1;
        }
        while (fgets(line, sizeof line, fp)) {
                lineno++;
                size_t n = strlen(line);
                if (n == sizeof line - 1 && line[n - 1] != '\n' && !feof(fp)) {
                        te_errf(errstr, errsz, "%s:%d: line too long (max %d bytes)",
                                path, lineno, TE_CFG_LINE_MAX - 2);
                        goto out;
                }
                char *s = te_cfg_trim(line);
                if (*s == '\0' || *s == '#')
                        continue;
                char *key, *value;
                if (te_cfg_split(s, &key, &value) != 0) {
                        char word[TE_CFG_SHOW_MAX + 1];
                        te_cfg_first_word(word, sizeof word, s);
                        te_errf(errstr, errsz, "%s:%d: %s: missing '='", path, lineno,
                                word);
                        goto out;
                }
                if (*key == '\0') {
                        te_errf(errstr, errsz, "%s:%d: : missing key before '='", path,
                                lineno);
                        goto out;
                }
                snprintf(where, sizeof where, "%s:%d", path, lineno);
                char why[128];
                value = te_cfg_file_value(value, why, sizeof why);
                if (!value) {
                        te_errf(errstr, errsz, "%s: %s: %s", where, key, why);
                        goto out;
                }
                if (te_cfg_set(cfg, key, value, where, errstr, errsz) != 0)
                        goto out;
        }
        if (ferror(fp)) {
                te_errf(errstr, errsz, "%s: read error", path);
                goto out;
        }
        rc = 0;
out:
        fclose(fp);
        return rc;
}

/* "EXEC_A_B_C" for table key "a.b-c". @returns -1 if it does not fit. */
static int te_cfg_env_name(char *dst, size_t dstsz, const char *key)
{
        size_t pfx = strlen(TE_CFG_ENV_PFX);
        size_t n = strlen(key);
        if (pfx + n + 1 > dstsz)
                return -1;
        memcpy(dst, TE_CFG_ENV_PFX, pfx);
        for (size_t i = 0; i < n; i++) {
                char c = key[i];
                dst[pfx + i] =
                    (c == '.' || c == '-') ? '_' : (char)toupper((unsigned char)c);
        }
        dst[pfx + n] = '\0';
        return 0;
}

int te_cfg_apply_env(te_cfg_t *cfg, char *const *envp, char *errstr, size_t errsz)
{
        size_t pfx = strlen(TE_CFG_ENV_PFX);
        size_t kpfx = strlen(TE_CFG_ENV_KAFKA);

        if (!envp)
                return 0;
        for (size_t e = 0; envp[e]; e++) {
                const char *var = envp[e];
                if (strncmp(var, TE_CFG_ENV_PFX, pfx) != 0)
                        continue;
                const char *eq = strchr(var, '=');
                if (!eq)
                        continue;
                size_t nlen = (size_t)(eq - var);
                const char *value = eq + 1;
                char vname[TE_CFG_KEY_MAX + 16];
                char where[TE_CFG_KEY_MAX + 32];
                if (nlen >= sizeof vname) {
                        te_errf(errstr, errsz, "env %.*s...: name too long", 32, var);
                        return -1;
                }
                memcpy(vname, var, nlen);
                vname[nlen] = '\0';
                snprintf(where, sizeof where, "env %s", vname);

                /* a table key wins over the kafka pass-through (EXEC_KAFKA_TOPIC could
                 * be a table key "kafka_topic") */
                const te_cfg_item_t *it = NULL;
                for (size_t i = 0; i < cfg->n_items && !it; i++) {
                        char ename[TE_CFG_KEY_MAX + 16];
                        if (te_cfg_env_name(ename, sizeof ename, cfg->items[i].name) ==
                                0 &&
                            strcmp(ename, vname) == 0)
                                it = &cfg->items[i];
                }
                if (it) {
                        if (te_cfg_set(cfg, it->name, value, where, errstr, errsz) != 0)
                                return -1;
                        continue;
                }

                char key[TE_CFG_KEY_MAX + 16];
                if (strncmp(vname, TE_CFG_ENV_KAFKA, kpfx) == 0) {
                        /* EXEC_KAFKA_BOOTSTRAP_SERVERS -> kafka.bootstrap.servers */
                        size_t o = strlen(TE_CFG_KAFKA_PFX);
                        memcpy(key, TE_CFG_KAFKA_PFX, o);
                        for (const char *p = vname + kpfx; *p; p++)
                                key[o++] =
                                    *p == '_' ? '.' : (char)tolower((unsigned char)*p);
                        key[o] = '\0';
                        if (te_cfg_set(cfg, key, value, where, errstr, errsz) != 0)
                                return -1;
                        continue;
                }

                /* another process's setting (one env file for every process):
                 * not ours, so not an error; remembered for a debug line */
                if (cfg->n_ignored < TE_CFG_IGNORED_MAX)
                        te_strlcpy(cfg->ignored[cfg->n_ignored], vname,
                                   sizeof cfg->ignored[0]);
                if (cfg->n_ignored < SIZE_MAX)
                        cfg->n_ignored++;
        }
        return 0;
}

size_t te_cfg_env_ignored_count(const te_cfg_t *cfg)
{
        return cfg->n_ignored;
}

const char *te_cfg_env_ignored_name(const te_cfg_t *cfg, size_t i)
{
        return i < cfg->n_ignored && i < TE_CFG_IGNORED_MAX ? cfg->ignored[i] : NULL;
}

int te_cfg_apply_override(te_cfg_t *cfg, const char *kv, char *errstr, size_t errsz)
{
        size_t n = strlen(kv);
        if (n >= TE_CFG_LINE_MAX) {
                te_errf(errstr, errsz, "override: too long (max %d bytes)",
                        TE_CFG_LINE_MAX - 1);
                return -1;
        }
        char *copy = malloc(n + 1);
        if (!copy) {
                te_errf(errstr, errsz, "override: out of memory");
                return -1;
        }
        memcpy(copy, kv, n + 1);
        int rc = -1;
        char *s = te_cfg_trim(copy);
        char *key, *value;
        if (te_cfg_split(s, &key, &value) != 0) {
                char word[TE_CFG_SHOW_MAX + 1];
                te_cfg_first_word(word, sizeof word, s);
                te_errf(errstr, errsz, "override: %s: missing '='", word);
                goto out;
        }
        if (*key == '\0') {
                te_errf(errstr, errsz, "override: : missing key before '='");
                goto out;
        }
        rc = te_cfg_set(cfg, key, value, "override", errstr, errsz);
out:
        free(copy);
        return rc;
}

size_t te_cfg_kafka_count(const te_cfg_t *cfg)
{
        return cfg->n_kafka;
}

const char *te_cfg_kafka_name(const te_cfg_t *cfg, size_t i)
{
        return i < cfg->n_kafka ? cfg->kafka[i].name : NULL;
}

const char *te_cfg_kafka_value(const te_cfg_t *cfg, size_t i)
{
        return i < cfg->n_kafka ? cfg->kafka[i].value : NULL;
}

const char *te_cfg_kafka_get(const te_cfg_t *cfg, const char *name)
{
        ssize_t i = te_cfg_kafka_index(cfg, name);
        return i >= 0 ? cfg->kafka[i].value : NULL;
}

static int te_cfg_is_secret(const char *key)
{
        return strcasestr(key, "password") || strcasestr(key, "secret") ||
               strcasestr(key, "sasl");
}

void te_cfg_dump(const te_cfg_t *cfg, FILE *fp)
{
        for (size_t i = 0; i < cfg->n_items; i++) {
                const te_cfg_item_t *it = &cfg->items[i];
                const char *field = (const char *)cfg->target + it->offset;
                if (it->type == TE_CFG_RENAMED)
                        continue;
                if (te_cfg_is_secret(it->name)) {
                        fprintf(fp, "%s = ***\n", it->name);
                        continue;
                }
                switch (it->type) {
                case TE_CFG_STRING:
                        fprintf(fp, "%s = %.*s\n", it->name,
                                (int)(it->size ? strnlen(field, it->size) : 0), field);
                        break;
                case TE_CFG_INT: {
                        int64_t v;
                        int i32;
                        if (it->size == sizeof(int)) {
                                memcpy(&i32, field, sizeof i32);
                                v = i32;
                        } else {
                                memcpy(&v, field, sizeof v);
                        }
                        fprintf(fp, "%s = %lld\n", it->name, (long long)v);
                        break;
                }
                case TE_CFG_FLAGS: {
                        unsigned v;
                        memcpy(&v, field, sizeof v);
                        fprintf(fp, "%s = ", it->name);
                        for (unsigned k = 0, n = 0; it->enum_names && it->enum_names[k];
                             k++)
                                if (v & (1u << k))
                                        fprintf(fp, "%s%s", n++ ? "," : "",
                                                it->enum_names[k]);
                        fputc('\n', fp);
                        break;
                }
                case TE_CFG_DOUBLE: {
                        double v;
                        char num[40];
                        memcpy(&v, field, sizeof v);
                        if (te_fmt_double(num, sizeof num, v) < 0)
                                te_strlcpy(num, "?", sizeof num);
                        fprintf(fp, "%s = %s\n", it->name, num);
                        break;
                }
                case TE_CFG_BOOL: {
                        int v;
                        memcpy(&v, field, sizeof v);
                        fprintf(fp, "%s = %s\n", it->name, v ? "true" : "false");
                        break;
                }
                case TE_CFG_ENUM: {
                        int v;
                        memcpy(&v, field, sizeof v);
                        const char *name = "?";
                        for (int k = 0; it->enum_names && it->enum_names[k]; k++)
                                if (k == v)
                                        name = it->enum_names[k];
                        fprintf(fp, "%s = %s\n", it->name, name);
                        break;
                }
                case TE_CFG_RENAMED:
                        break;
                }
        }
        for (size_t i = 0; i < cfg->n_kafka; i++) {
                int secret = te_cfg_is_secret(cfg->kafka[i].name);
                fprintf(fp, "%s%s = %s\n", TE_CFG_KAFKA_PFX, cfg->kafka[i].name,
                        secret ? "***" : cfg->kafka[i].value);
        }
}

int te_cfg_load_all(te_cfg_t *cfg, const char *path, char *const *envp,
                    char *const *overrides, size_t n_overrides, char *errstr,
                    size_t errsz)
{
        if (path && *path && te_cfg_load_file(cfg, path, errstr, errsz) != 0)
                return -1;
        if (te_cfg_apply_env(cfg, envp, errstr, errsz) != 0)
                return -1;
        for (size_t i = 0; i < n_overrides; i++)
                if (te_cfg_apply_override(cfg, overrides[i], errstr, errsz) != 0)
                        return -1;
        return 0;
}

int te_parse_i64(const char *s, int64_t min, int64_t max, int64_t *out)
{
        char *end = NULL;
        if (!s || *s == '\0' || *s == ' ' || *s == '+')
                return -1;
        errno = 0;
        long long v = strtoll(s, &end, 10);
        if (errno || *end != '\0' || v < min || v > max)
                return -1;
        *out = v;
        return 0;
}
