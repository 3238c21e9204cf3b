/*
 * plan_rules: rules keyed by "strategy\x1fticker", each with a mask of the fields it
 * sets, merged over the base rule in precedence order.
 */
#include "plan_rules.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "te_buf.h"
#include "te_map.h"

enum {
        F_LOT = 1 << 0,
        F_MIN_QTY = 1 << 1,
        F_MIN_NOTIONAL = 1 << 2,
        F_MAX_QTY = 1 << 3,
        F_MAX_NOTIONAL = 1 << 4,
        F_FRACTIONAL = 1 << 5,
        F_ORDER_TYPE = 1 << 6,
        F_TIF = 1 << 7,
        F_LIMIT_OFF = 1 << 8,
        F_STOP_OFF = 1 << 9,
};

#define WHERE_MAX 320

typedef struct entry_s {
        unsigned mask;
        te_plan_rules_rule_t v;
        char where[WHERE_MAX]; /* "file:line" of the last line that set it */
} entry_t;

struct te_plan_rules_s {
        te_map_t *entries;  /* "strategy\x1fticker" -> entry_t */
        te_map_t *universe; /* ticker -> (void *)1 */
        int has_tickers;
};

#define KEY_MAX (TE_ID_MAX + TE_TICKER_MAX + 2)

static void make_key(char *key, const char *strategy, const char *ticker)
{
        size_t ls = strnlen(strategy, TE_ID_MAX - 1),
               lt = strnlen(ticker, TE_TICKER_MAX - 1);
        memcpy(key, strategy, ls);
        key[ls] = '\x1f';
        memcpy(key + ls + 1, ticker, lt);
        key[ls + 1 + lt] = '\0';
}

te_plan_rules_t *te_plan_rules_new(void)
{
        te_plan_rules_t *r = calloc(1, sizeof *r);
        if (!r)
                return NULL;
        r->entries = te_map_new();
        r->universe = te_map_new();
        if (!r->entries || !r->universe) {
                te_plan_rules_destroy(r);
                return NULL;
        }
        return r;
}

void te_plan_rules_destroy(te_plan_rules_t *r)
{
        if (!r)
                return;
        te_map_destroy(r->entries, free);
        te_map_destroy(r->universe, NULL);
        free(r);
}

static int parse_num(const char *s, double lo, double hi, double *out)
{
        char *end;
        errno = 0;
        double v = strtod(s, &end);
        if (errno || end == s || *end || !isfinite(v) || v < lo || v > hi)
                return -1;
        *out = v;
        return 0;
}

static int parse_bool(const char *s, int *out)
{
        if (!strcmp(s, "true") || !strcmp(s, "1") || !strcmp(s, "yes")) {
                *out = 1;
                return 0;
        }
        if (!strcmp(s, "false") || !strcmp(s, "0") || !strcmp(s, "no")) {
                *out = 0;
                return 0;
        }
        return -1;
}

/* Apply key=value to e. @returns 0, or -1 with why set. */
static int set_field(entry_t *e, const char *key, const char *val, const char **why)
{
        double d;
        int i;
        *why = "not a number in range";
        /* the spellings before the keys took the config's names: refused, never
         * taken silently */
        if (!strcmp(key, "lot")) {
                *why = "renamed: use lot_size (the name of the config key plan.lot_size)";
                return -1;
        }
        if (!strcmp(key, "lot_size")) {
                if (parse_num(val, 1e-9, 1e9, &d))
                        return -1;
                e->v.lot_size = d;
                e->mask |= F_LOT;
        } else if (!strcmp(key, "min_qty")) {
                if (parse_num(val, 0, 1e12, &d))
                        return -1;
                e->v.min_qty = d;
                e->mask |= F_MIN_QTY;
        } else if (!strcmp(key, "min_notional")) {
                if (parse_num(val, 0, 1e15, &d))
                        return -1;
                e->v.min_notional = d;
                e->mask |= F_MIN_NOTIONAL;
        } else if (!strcmp(key, "max_qty")) {
                if (parse_num(val, 0, 1e12, &d))
                        return -1;
                e->v.max_qty = d;
                e->mask |= F_MAX_QTY;
        } else if (!strcmp(key, "max_notional")) {
                if (parse_num(val, 0, 1e15, &d))
                        return -1;
                e->v.max_notional = d;
                e->mask |= F_MAX_NOTIONAL;
        } else if (!strcmp(key, "fractional")) {
                *why = "expected true or false";
                if (parse_bool(val, &i))
                        return -1;
                e->v.fractional = i;
                e->mask |= F_FRACTIONAL;
        } else if (!strcmp(key, "order_type")) {
                *why = "expected MARKET, LIMIT, STOP or STOP_LIMIT";
                if ((i = te_enum_parse(te_order_type_names, TE_OT__CNT, val)) < 0)
                        return -1;
                e->v.order_type = (te_order_type_t)i;
                e->mask |= F_ORDER_TYPE;
        } else if (!strcmp(key, "tif")) {
                *why = "expected DAY, GTC, IOC, FOK, OPG or CLS";
                if ((i = te_enum_parse(te_tif_names, TE_TIF__CNT, val)) < 0)
                        return -1;
                e->v.tif = (te_tif_t)i;
                e->mask |= F_TIF;
        } else if (!strcmp(key, "limit_offset_bps")) {
                if (parse_num(val, -10000, 10000, &d))
                        return -1;
                e->v.limit_offset_bps = d;
                e->mask |= F_LIMIT_OFF;
        } else if (!strcmp(key, "stop_offset_bps")) {
                if (parse_num(val, -10000, 10000, &d))
                        return -1;
                e->v.stop_offset_bps = d;
                e->mask |= F_STOP_OFF;
        } else {
                *why = "unknown key";
                return -1;
        }
        return 0;
}

static void merge(te_plan_rules_rule_t *dst, const entry_t *e)
{
        if (!e)
                return;
        unsigned m = e->mask;
        if (m & F_LOT)
                dst->lot_size = e->v.lot_size;
        if (m & F_MIN_QTY)
                dst->min_qty = e->v.min_qty;
        if (m & F_MIN_NOTIONAL)
                dst->min_notional = e->v.min_notional;
        if (m & F_MAX_QTY)
                dst->max_qty = e->v.max_qty;
        if (m & F_MAX_NOTIONAL)
                dst->max_notional = e->v.max_notional;
        if (m & F_FRACTIONAL)
                dst->fractional = e->v.fractional;
        if (m & F_ORDER_TYPE)
                dst->order_type = e->v.order_type;
        if (m & F_TIF)
                dst->tif = e->v.tif;
        if (m & F_LIMIT_OFF)
                dst->limit_offset_bps = e->v.limit_offset_bps;
        if (m & F_STOP_OFF)
                dst->stop_offset_bps = e->v.stop_offset_bps;
}

int te_plan_rules_check_rule(const te_plan_rules_rule_t *rule, char *errstr, size_t errsz)
{
        if (!(rule->lot_size > 0) || !isfinite(rule->lot_size)) {
                snprintf(errstr, errsz, "lot_size: must be > 0");
                return -1;
        }
        if (!rule->fractional &&
            fabs(rule->lot_size - nearbyint(rule->lot_size)) > 1e-9) {
                snprintf(errstr, errsz,
                         "lot_size: %g is fractional but fractional quantities are not "
                         "allowed",
                         rule->lot_size);
                return -1;
        }
        if (rule->max_qty > 0 && rule->max_qty < rule->lot_size * (1 - 1e-9)) {
                snprintf(errstr, errsz,
                         "max_qty: %g is below the lot size %g: no order can be sent",
                         rule->max_qty, rule->lot_size);
                return -1;
        }
        if (rule->max_qty > 0) {
                /* the largest order: max_qty rounded down to a whole number of lots */
                double biggest =
                    floor(rule->max_qty / rule->lot_size + 1e-9) * rule->lot_size;
                if (biggest < rule->min_qty * (1 - 1e-9)) {
                        snprintf(errstr, errsz,
                                 "max_qty: %g (%g in lots of %g) is below min_qty %g: no "
                                 "order can be sent",
                                 rule->max_qty, biggest, rule->lot_size, rule->min_qty);
                        return -1;
                }
        }
        if (rule->max_notional > 0 && rule->min_notional > rule->max_notional) {
                snprintf(
                    errstr, errsz,
                    "min_notional: %g is above max_notional %g: no order can be sent",
                    rule->min_notional, rule->max_notional);
                return -1;
        }
        return 0;
}

/* "strategy\x1fticker" -> its two parts (bounded by the key's own limits). */
static void split_key(const char *key, char *strategy, char *ticker)
{
        const char *us = strchr(key, '\x1f');
        size_t ls = us ? (size_t)(us - key) : strlen(key);
        if (ls > TE_ID_MAX - 1)
                ls = TE_ID_MAX - 1;
        memcpy(strategy, key, ls);
        strategy[ls] = '\0';
        te_strlcpy(ticker, us ? us + 1 : "*", TE_TICKER_MAX);
}

/* The rule in force for (strategy, ticker) ("*": any). */
static void effective(const te_plan_rules_t *r, const te_plan_rules_rule_t *base,
                      const char *strategy, const char *ticker, te_plan_rules_rule_t *out)
{
        te_plan_rules_rule_t s;
        te_plan_rules_strategy(r, base, strategy, &s);
        if (strcmp(ticker, "*") == 0) {
                *out = s;
                return;
        }
        te_plan_rules_ticker(r, &s, strategy, ticker, out);
}

int te_plan_rules_check(const te_plan_rules_t *r, const te_plan_rules_rule_t *base,
                        char *errstr, size_t errsz)
{
        char why[256], strategy[TE_ID_MAX], ticker[TE_TICKER_MAX];
        char s2[TE_ID_MAX], t2[TE_TICKER_MAX];
        te_plan_rules_rule_t rule;
        size_t it = 0;
        const char *key;
        void *v;
        /* every line, as it applies to its own (strategy, ticker) */
        while (te_map_next(r->entries, &it, &key, &v)) {
                const entry_t *e = v;
                split_key(key, strategy, ticker);
                effective(r, base, strategy, ticker, &rule);
                if (te_plan_rules_check_rule(&rule, why, sizeof why) != 0) {
                        snprintf(errstr, errsz, "%s: %s", e->where, why);
                        return -1;
                }
        }
        /* a (strategy *) line meets every (* ticker) line where no (strategy ticker)
         * line settles it */
        it = 0;
        while (te_map_next(r->entries, &it, &key, &v)) {
                const entry_t *se = v;
                split_key(key, strategy, ticker);
                if (strcmp(strategy, "*") == 0 || strcmp(ticker, "*") != 0)
                        continue;
                size_t jt = 0;
                const char *k2;
                void *v2;
                while (te_map_next(r->entries, &jt, &k2, &v2)) {
                        const entry_t *te = v2;
                        split_key(k2, s2, t2);
                        if (strcmp(s2, "*") != 0 || strcmp(t2, "*") == 0)
                                continue;
                        effective(r, base, strategy, t2, &rule);
                        if (te_plan_rules_check_rule(&rule, why, sizeof why) != 0) {
                                snprintf(errstr, errsz,
                                         "%s: %s (strategy %s on ticker %s, with %s)",
                                         te->where, why, strategy, t2, se->where);
                                return -1;
                        }
                }
        }
        return 0;
}

/* Split a line into at most `cap` whitespace-separated words (in place). */
static size_t split_words(char *s, char **w, size_t cap)
{
        size_t n = 0;
        while (*s) {
                while (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\n')
                        *s++ = '\0';
                if (!*s || *s == '#')
                        break;
                if (n == cap)
                        return cap + 1;
                w[n++] = s;
                while (*s && *s != ' ' && *s != '\t' && *s != '\r' && *s != '\n')
                        s++;
        }
        if (*s == '#')
                *s = '\0';
        return n;
}

int te_plan_rules_parse_line(te_plan_rules_t *r, const char *line, const char *where,
                             char *errstr, size_t errsz)
{
        char buf[4096];
        char *w[256];
        if (te_strlcpy(buf, line, sizeof buf) != 0) {
                snprintf(errstr, errsz, "%s: line too long", where);
                return -1;
        }
        size_t n = split_words(buf, w, 256);
        if (n == 0)
                return 0;
        if (n > 256) {
                snprintf(errstr, errsz, "%s: too many words", where);
                return -1;
        }
        if (!strcmp(w[0], "universe")) {
                for (size_t i = 1; i < n; i++) {
                        if (strlen(w[i]) >= TE_TICKER_MAX) {
                                snprintf(errstr, errsz,
                                         "%s: universe: ticker %.40s too long", where,
                                         w[i]);
                                return -1;
                        }
                        if (te_map_put(r->universe, w[i], (void *)1) != 0) {
                                snprintf(errstr, errsz, "%s: out of memory", where);
                                return -1;
                        }
                }
                return 0;
        }
        if (n < 3) {
                snprintf(errstr, errsz,
                         "%s: expected \"<strategy|*> <ticker|*> key=value ...\"", where);
                return -1;
        }
        if (strlen(w[0]) >= TE_ID_MAX || strlen(w[1]) >= TE_TICKER_MAX) {
                snprintf(errstr, errsz, "%s: strategy or ticker too long", where);
                return -1;
        }
        char key[KEY_MAX];
        make_key(key, w[0], w[1]);
        entry_t *e = te_map_get(r->entries, key);
        entry_t tmp = e ? *e : (entry_t){0};
        for (size_t i = 2; i < n; i++) {
                char *eq = strchr(w[i], '=');
                const char *why;
                if (!eq || eq == w[i]) {
                        snprintf(errstr, errsz, "%s: %s: expected key=value", where,
                                 w[i]);
                        return -1;
                }
                *eq = '\0';
                if (set_field(&tmp, w[i], eq + 1, &why) != 0) {
                        snprintf(errstr, errsz, "%s: %s: %s", where, w[i], why);
                        return -1;
                }
        }
        if ((tmp.mask & F_LOT) && !(tmp.mask & F_FRACTIONAL) && tmp.v.lot_size < 1) {
                /* a fractional lot only makes sense with fractional=true on the line */
                snprintf(
                    errstr, errsz,
                    "%s: lot_size: %g below 1 needs fractional=true on the same line",
                    where, tmp.v.lot_size);
                return -1;
        }
        te_strlcpy(tmp.where, where, sizeof tmp.where);
        if (!e) {
                e = malloc(sizeof *e);
                if (!e || te_map_put(r->entries, key, e) != 0) {
                        free(e);
                        snprintf(errstr, errsz, "%s: out of memory", where);
                        return -1;
                }
        }
        *e = tmp;
        if (strcmp(w[1], "*") != 0)
                r->has_tickers = 1;
        return 0;
}

int te_plan_rules_load(te_plan_rules_t *r, const char *path, char *errstr, size_t errsz)
{
        FILE *fp = fopen(path, "r");
        if (!fp) {
                snprintf(errstr, errsz, "%s: %s", path, strerror(errno));
                return -1;
        }
        char line[4096], where[1100];
        int lineno = 0, rc = 0;
        while (fgets(line, sizeof line, fp)) {
                lineno++;
                snprintf(where, sizeof where, "%s:%d", path, lineno);
                size_t len = strlen(line);
                if (len == sizeof line - 1 && line[len - 1] != '\n') {
                        snprintf(errstr, errsz, "%s: line too long", where);
                        rc = -1;
                        break;
                }
                if (te_plan_rules_parse_line(r, line, where, errstr, errsz) != 0) {
                        rc = -1;
                        break;
                }
        }
        fclose(fp);
        return rc;
}

void te_plan_rules_strategy(const te_plan_rules_t *r, const te_plan_rules_rule_t *base,
                            const char *strategy_id, te_plan_rules_rule_t *out)
{
        char key[KEY_MAX];
        *out = *base;
        if (!r)
                return;
        merge(out, te_map_get(r->entries, "*\x1f*"));
        make_key(key, strategy_id, "*");
        merge(out, te_map_get(r->entries, key));
}

int te_plan_rules_has_tickers(const te_plan_rules_t *r)
{
        return r && r->has_tickers;
}

void te_plan_rules_ticker(const te_plan_rules_t *r, const te_plan_rules_rule_t *srule,
                          const char *strategy_id, const char *ticker,
                          te_plan_rules_rule_t *out)
{
        char key[KEY_MAX];
        *out = *srule;
        if (!r || !r->has_tickers)
                return;
        make_key(key, "*", ticker);
        merge(out, te_map_get(r->entries, key));
        make_key(key, strategy_id, ticker);
        merge(out, te_map_get(r->entries, key));
}

int te_plan_rules_unknown(const te_plan_rules_t *r, const char *ticker)
{
        if (!r || te_map_count(r->universe) == 0)
                return 0;
        return te_map_get(r->universe, ticker) == NULL;
}
