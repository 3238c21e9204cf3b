/*
 * msg_json_in: strict JSON -> TargetPortfolio / ExecutionMode parsing (jansson).
 *
 * The document is loaded whole with json_loadb (length-bounded, duplicate keys
 * rejected), then walked along the codec's field table of the message. Unknown keys are
 * errors on purpose: a typo in an optional field name ("ref_prcie") would otherwise
 * publish a target without the price the author meant to send.
 */
#include "msg_json_in.h"

#include "te_codec_int.h" /* the codec's field tables */

#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

/* 9999-12-31T23:59:59.999Z */
#define TIME_MS_MAX INT64_C(253402300799999)

typedef struct pctx_s {
        char *errstr;
        size_t errsz;
        const char *prefix; /* "" or "targets[12]." for nested fields */
} pctx_t;

static int fail(pctx_t *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int fail(pctx_t *c, const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(c->errstr, c->errsz, fmt, ap);
        va_end(ap);
        return -1;
}

static const char *jtype(const json_t *v)
{
        switch (json_typeof(v)) {
        case JSON_OBJECT:
                return "object";
        case JSON_ARRAY:
                return "array";
        case JSON_STRING:
                return "string";
        case JSON_INTEGER:
                return "integer";
        case JSON_REAL:
                return "real";
        case JSON_TRUE:
        case JSON_FALSE:
                return "boolean";
        case JSON_NULL:
                return "null";
        }
        return "?";
}

/* ---- times ------------------------------------------------------------------------ */

static int fixed_digits(const char *s, int n, int *out)
{
        int v = 0;
        for (int i = 0; i < n; i++) {
                if (s[i] < '0' || s[i] > '9')
                        return -1;
                v = v * 10 + (s[i] - '0');
        }
        *out = v;
        return 0;
}

static int is_leap(int y)
{
        return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

/* Leap years in [1, y]. */
static int64_t leaps_upto(int y)
{
        return y / 4 - y / 100 + y / 400;
}

/* Days from 1970-01-01 to y-m-d (y >= 1970, fields already range-checked). */
static int64_t days_since_epoch(int y, int m, int d)
{
        static const int before_month[12] = {0,   31,  59,  90,  120, 151,
                                             181, 212, 243, 273, 304, 334};
        int64_t days = (int64_t)365 * (y - 1970) + (leaps_upto(y - 1) - leaps_upto(1969));
        days += before_month[m - 1] + (m > 2 && is_leap(y) ? 1 : 0);
        return days + d - 1;
}

int te_json_in_parse_time(const char *s, int64_t *ms)
{
        static const int mdays[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
        size_t len = strlen(s);
        int y, mo, d, h = 0, mi = 0, sec = 0, milli = 0;

        if (len != 10 && len != 20 && len != 24)
                return -1;
        if (fixed_digits(s, 4, &y) || s[4] != '-' || fixed_digits(s + 5, 2, &mo) ||
            s[7] != '-' || fixed_digits(s + 8, 2, &d))
                return -1;
        if (len >= 20) {
                if (s[10] != 'T' || fixed_digits(s + 11, 2, &h) || s[13] != ':' ||
                    fixed_digits(s + 14, 2, &mi) || s[16] != ':' ||
                    fixed_digits(s + 17, 2, &sec))
                        return -1;
                if (len == 20 && s[19] != 'Z')
                        return -1;
                if (len == 24 &&
                    (s[19] != '.' || fixed_digits(s + 20, 3, &milli) || s[23] != 'Z'))
                        return -1;
        }
        if (y < 1970 || mo < 1 || mo > 12 || d < 1 || h > 23 || mi > 59 || sec > 59)
                return -1;
        if (d > mdays[mo - 1] + (mo == 2 && is_leap(y) ? 1 : 0))
                return -1;
        int64_t days = days_since_epoch(y, mo, d);
        *ms = ((days * 24 + h) * 60 + mi) * 60000 + (int64_t)sec * 1000 + milli;
        return 0;
}

/* ---- fields ----------------------------------------------------------------------- */

static int check_keys(pctx_t *c, json_t *obj, const char *const *allowed)
{
        const char *key;
        json_t *v;
        json_object_foreach(obj, key, v)
        {
                (void)v;
                int known = 0;
                for (size_t i = 0; allowed[i] && !known; i++)
                        known = strcmp(key, allowed[i]) == 0;
                if (!known) {
                        /* "targets[3]." -> "targets[3]: unknown key ..." */
                        size_t plen = strlen(c->prefix);
                        if (plen == 0)
                                return fail(c, "unknown key \"%.64s\"", key);
                        return fail(c, "%.*s: unknown key \"%.64s\"", (int)(plen - 1),
                                    c->prefix, key);
                }
        }
        return 0;
}

/* The value `v` (NULL: absent) of field `f` into the struct at `base`. The strings below
 * must not be empty and an optional number must be > 0, as the codec's validation
 * wants (an absent or null one is has_<name> = 0). */
static int get_value(pctx_t *c, const fd_t *f, json_t *v, char *base)
{
        static const char *const nonempty[] = {"decision_id", "portfolio_id", "ticker",
                                               "scope", NULL};
        const char *key = f->name, *s = json_string_value(v);
        void *p = base + f->off;
        int i = f->kind != FD_OPT_DOUBLE || (v && !json_is_null(v));
        size_t n = json_string_length(v);
        double d = 0.0;
        if (f->kind == FD_OPT_DOUBLE && !i) {
                memcpy(base + f->has_off, &i, sizeof i);
                memcpy(p, &d, sizeof d);
                return 0;
        }
        if (!v)
                return fail(c, "%s%s: missing", c->prefix, key);
        if ((f->kind == FD_STR || f->kind == FD_ENUM) && !s)
                return fail(c, "%s%s: expected string, got %s", c->prefix, key, jtype(v));
        switch (f->kind) {
        case FD_STR:
                if (n >= f->size)
                        return fail(c, "%s%s: too long (%zu bytes, max %zu)", c->prefix,
                                    key, n, f->size - 1);
                for (size_t k = 0; n == 0 && nonempty[k]; k++)
                        if (strcmp(key, nonempty[k]) == 0)
                                return fail(c, "%s%s: must not be empty", c->prefix, key);
                memcpy(p, s, n);
                ((char *)p)[n] = '\0';
                return 0;
        case FD_ENUM:
                if ((i = te_enum_parse(f->syms, (int)f->size, s)) < 0) {
                        char list[256] = "";
                        size_t used = 0;
                        for (size_t k = 0; k < f->size; k++) {
                                int w = snprintf(list + used, sizeof list - used, "%s%s",
                                                 k ? "|" : "", f->syms[k]);
                                if (w < 0 || (size_t)w >= sizeof list - used)
                                        break;
                                used += (size_t)w;
                        }
                        return fail(c, "%s%s: unknown symbol \"%.64s\" (expected %s)",
                                    c->prefix, key, s, list);
                }
                memcpy(p, &i, sizeof i);
                return 0;
        case FD_TS: {
                int64_t ms;
                if (json_is_integer(v)) {
                        json_int_t ti = json_integer_value(v);
                        if (ti < 0 || ti > TIME_MS_MAX)
                                return fail(c, "%s%s: %lld ms is outside 1970..9999",
                                            c->prefix, key, (long long)ti);
                        ms = (int64_t)ti;
                } else if (!s) {
                        return fail(c, "%s%s: expected integer ms or date string, got %s",
                                    c->prefix, key, jtype(v));
                } else if (te_json_in_parse_time(s, &ms) != 0) {
                        return fail(c,
                                    "%s%s: invalid date \"%.40s\" (expected YYYY-MM-DD, "
                                    "YYYY-MM-DDTHH:MM:SSZ or integer ms since the epoch)",
                                    c->prefix, key, s);
                }
                memcpy(p, &ms, sizeof ms);
                return 0;
        }
        case FD_DOUBLE:
        case FD_OPT_DOUBLE:
                if (!json_is_number(v))
                        return fail(c, "%s%s: expected number, got %s", c->prefix, key,
                                    jtype(v));
                d = json_number_value(v);
                if (!isfinite(d))
                        return fail(c, "%s%s: not a finite number", c->prefix, key);
                if (f->kind == FD_OPT_DOUBLE && !(d > 0))
                        return fail(c, "%s%s: must be > 0", c->prefix, key);
                if (f->kind == FD_OPT_DOUBLE)
                        memcpy(base + f->has_off, &i, sizeof i);
                memcpy(p, &d, sizeof d);
                return 0;
        case FD_BOOL:
                if (!json_is_boolean(v))
                        return fail(c, "%s%s: expected true or false, got %s", c->prefix,
                                    key, jtype(v));
                i = json_is_true(v);
                memcpy(p, &i, sizeof i);
                return 0;
        case FD_TARGETS:
                break;
        }
        return 0;
}

/* ---- documents -------------------------------------------------------------------- */

static json_t *load_object(pctx_t *c, const char *buf, size_t len)
{
        if (len > TE_JSON_IN_MAX) {
                fail(c, "input too large (%zu bytes, max %u)", len, TE_JSON_IN_MAX);
                return NULL;
        }
        json_error_t e;
        json_t *root = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &e);
        if (!root) {
                fail(c, "invalid JSON at byte %d: %s", e.position, e.text);
                return NULL;
        }
        if (!json_is_object(root)) {
                fail(c, "expected a JSON object, got %s", jtype(root));
                json_decref(root);
                return NULL;
        }
        return root;
}

static int cmp_ticker(const void *a, const void *b)
{
        const te_target_t *x = *(const te_target_t *const *)a;
        const te_target_t *y = *(const te_target_t *const *)b;
        int r = strcmp(x->ticker, y->ticker);
        if (r)
                return r;
        return x < y ? -1 : x > y;
}

static int check_unique_tickers(pctx_t *c, const te_target_portfolio_t *tp)
{
        if (tp->n_targets < 2)
                return 0;
        const te_target_t **v = malloc(tp->n_targets * sizeof *v);
        if (!v)
                return fail(c, "targets: out of memory");
        for (size_t i = 0; i < tp->n_targets; i++)
                v[i] = &tp->targets[i];
        qsort(v, tp->n_targets, sizeof *v, cmp_ticker);
        int rc = 0;
        for (size_t i = 1; i < tp->n_targets; i++) {
                if (strcmp(v[i - 1]->ticker, v[i]->ticker) == 0) {
                        rc = fail(
                            c, "targets[%zu].ticker: duplicate of targets[%zu] (\"%s\")",
                            (size_t)(v[i] - tp->targets),
                            (size_t)(v[i - 1] - tp->targets), v[i]->ticker);
                        break;
                }
        }
        free(v);
        return rc;
}

static int get_fields(pctx_t *c, json_t *obj, void *m, const fd_table_t *t);

static int parse_targets(pctx_t *c, json_t *root, te_target_portfolio_t *tp)
{
        json_t *arr = json_object_get(root, "targets");
        if (!arr)
                return fail(c, "targets: missing");
        if (!json_is_array(arr))
                return fail(c, "targets: expected array, got %s", jtype(arr));
        size_t n = json_array_size(arr);
        if (n > TE_TARGETS_MAX)
                return fail(c, "targets: too many (%zu, max %d)", n, TE_TARGETS_MAX);

        char prefix[48];
        pctx_t ec = *c;
        ec.prefix = prefix;
        for (size_t i = 0; i < n; i++) {
                json_t *o = json_array_get(arr, i);
                snprintf(prefix, sizeof prefix, "targets[%zu].", i);
                if (!json_is_object(o))
                        return fail(c, "targets[%zu]: expected object, got %s", i,
                                    jtype(o));
                te_target_t t;
                memset(&t, 0, sizeof t);
                if (get_fields(&ec, o, &t, &te_codec_target_fd))
                        return -1;
                if (te_target_portfolio_add(tp, &t) != 0)
                        return fail(c, "targets[%zu]: cannot add (out of memory)", i);
        }
        return check_unique_tickers(c, tp);
}

/* The fields of the codec's table `t` (te_codec_fields.c: the schema's names, kinds and
 * order) from `obj` into the struct at `m`, no other key allowed. */
static int get_fields(pctx_t *c, json_t *obj, void *m, const fd_table_t *t)
{
        const char *keys[16];
        if (t->n >= sizeof keys / sizeof keys[0])
                return fail(c, "%stoo many fields", c->prefix);
        for (size_t k = 0; k < t->n; k++)
                keys[k] = t->fd[k].name;
        keys[t->n] = NULL;
        if (check_keys(c, obj, keys))
                return -1;
        for (size_t k = 0; k < t->n; k++) {
                const fd_t *f = &t->fd[k];
                if (f->kind == FD_TARGETS
                        ? parse_targets(c, obj, m)
                        : get_value(c, f, json_object_get(obj, f->name), m))
                        return -1;
        }
        return 0;
}

int te_json_in_target_portfolio(const char *buf, size_t len, te_target_portfolio_t *tp,
                                char *errstr, size_t errsz)
{
        pctx_t c = {errstr, errsz, ""};
        te_target_t *keep = tp->targets;
        size_t keep_cap = tp->cap_targets;
        memset(tp, 0, sizeof *tp);
        tp->targets = keep;
        tp->cap_targets = keep_cap;

        json_t *root = load_object(&c, buf, len);
        if (!root)
                return -1;
        int rc = get_fields(&c, root, tp, &te_codec_msg_fd[TE_MSG_TARGET_PORTFOLIO]);
        json_decref(root);
        return rc;
}

int te_json_in_exec_mode(const char *buf, size_t len, te_exec_mode_t *m, char *errstr,
                         size_t errsz)
{
        pctx_t c = {errstr, errsz, ""};
        memset(m, 0, sizeof *m);
        json_t *root = load_object(&c, buf, len);
        if (!root)
                return -1;
        int rc = get_fields(&c, root, m, &te_codec_msg_fd[TE_MSG_EXECUTION_MODE]);
        json_decref(root);
        return rc;
}

/* ---- lines ------------------------------------------------------------------------ */

int te_json_in_line_skippable(const char *line, size_t len)
{
        for (size_t i = 0; i < len; i++) {
                if (line[i] == ' ' || line[i] == '\t' || line[i] == '\r')
                        continue;
                return line[i] == '#';
        }
        return 1;
}

te_line_rc_t te_json_in_read_line(FILE *fp, te_buf_t *out)
{
        char chunk[4096];
        size_t n = 0;
        int any = 0, too_long = 0, ch;

        te_buf_reset(out);
        while ((ch = getc_unlocked(fp)) != EOF) {
                any = 1;
                if (ch == '\n')
                        break;
                if (too_long)
                        continue;
                chunk[n++] = (char)ch;
                if (n == sizeof chunk) {
                        if (out->len + n > out->max)
                                too_long = 1;
                        else if (te_buf_append(out, chunk, n) != 0)
                                goto oom;
                        n = 0;
                }
        }
        if (ch == EOF && ferror(fp))
                return TE_LINE_ERROR;
        if (!too_long && n) {
                if (out->len + n > out->max)
                        too_long = 1;
                else if (te_buf_append(out, chunk, n) != 0)
                        goto oom;
        }
        if (!any)
                return TE_LINE_EOF;
        if (too_long) {
                te_buf_reset(out);
                return TE_LINE_TOO_LONG;
        }
        return TE_LINE_OK;
oom:
        errno = ENOMEM;
        return TE_LINE_ERROR;
}
