/*
 * te_metrics: registry of counters, gauges and histograms, and the Prometheus text
 * exposition (see te_metrics.h).
 */
#include "te_metrics.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TE_METRICS_NAME_MAX 128

typedef struct te_series_s {
        char *values[TE_METRICS_MAX_LABELS];
        double value;     /* counter / gauge */
        uint64_t *counts; /* histogram: per bucket (not cumulative), n_bounds + 1 */
        double sum;
        uint64_t count;
} te_series_t;

struct te_metric_s {
        te_metrics_t *reg;
        te_metric_type_t type;
        char name[TE_METRICS_NAME_MAX];
        char *help;
        size_t n_labels;
        char labels[TE_METRICS_MAX_LABELS][TE_METRICS_NAME_MAX];
        double bounds[TE_METRICS_MAX_BUCKETS];
        size_t n_bounds;
        te_series_t **series;
        size_t n_series, cap_series;
        te_metric_t *next;
};

struct te_metrics_s {
        pthread_mutex_t lock;
        te_metric_t *first, *last;
        uint64_t dropped;
        void (*collect)(void *arg);
        void *collect_arg;
};

te_metrics_t *te_metrics_new(void)
{
        te_metrics_t *r = calloc(1, sizeof *r);
        if (!r)
                return NULL;
        pthread_mutex_init(&r->lock, NULL);
        return r;
}

static void te_series_free(te_series_t *s)
{
        if (!s)
                return;
        for (size_t i = 0; i < TE_METRICS_MAX_LABELS; i++)
                free(s->values[i]);
        free(s->counts);
        free(s);
}

void te_metrics_destroy(te_metrics_t *r)
{
        if (!r)
                return;
        te_metric_t *m = r->first;
        while (m) {
                te_metric_t *next = m->next;
                for (size_t i = 0; i < m->n_series; i++)
                        te_series_free(m->series[i]);
                free(m->series);
                free(m->help);
                free(m);
                m = next;
        }
        pthread_mutex_destroy(&r->lock);
        free(r);
}

/* [a-zA-Z_:][a-zA-Z0-9_:]* (metric) or [a-zA-Z_][a-zA-Z0-9_]* (label, not "__..."). */
static int te_valid_name(const char *s, size_t len, int is_label)
{
        if (len == 0 || len >= TE_METRICS_NAME_MAX)
                return 0;
        if (is_label && len >= 2 && s[0] == '_' && s[1] == '_')
                return 0;
        for (size_t i = 0; i < len; i++) {
                char c = s[i];
                int ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
                         (!is_label && c == ':') || (i > 0 && c >= '0' && c <= '9');
                if (!ok)
                        return 0;
        }
        return 1;
}

/* Split "a,b" into m->labels. @returns 0 or -1. */
static int te_parse_labels(te_metric_t *m, const char *labels)
{
        m->n_labels = 0;
        if (!labels || !*labels)
                return 0;
        const char *p = labels;
        for (;;) {
                const char *comma = strchr(p, ',');
                size_t len = comma ? (size_t)(comma - p) : strlen(p);
                if (m->n_labels >= TE_METRICS_MAX_LABELS || !te_valid_name(p, len, 1))
                        return -1;
                memcpy(m->labels[m->n_labels], p, len);
                m->labels[m->n_labels][len] = '\0';
                if (m->type == TE_METRIC_HISTOGRAM &&
                    strcmp(m->labels[m->n_labels], "le") == 0)
                        return -1;
                for (size_t i = 0; i < m->n_labels; i++)
                        if (strcmp(m->labels[i], m->labels[m->n_labels]) == 0)
                                return -1;
                m->n_labels++;
                if (!comma)
                        return 0;
                p = comma + 1;
        }
}

static int te_same_family(const te_metric_t *a, const te_metric_t *b)
{
        if (a->type != b->type || a->n_labels != b->n_labels ||
            a->n_bounds != b->n_bounds)
                return 0;
        for (size_t i = 0; i < a->n_labels; i++)
                if (strcmp(a->labels[i], b->labels[i]) != 0)
                        return 0;
        for (size_t i = 0; i < a->n_bounds; i++)
                if (a->bounds[i] != b->bounds[i])
                        return 0;
        return 1;
}

static te_metric_t *te_register(te_metrics_t *r, te_metric_type_t type, const char *name,
                                const char *help, const char *labels,
                                const double *bounds, size_t n_bounds)
{
        if (!name || !te_valid_name(name, strlen(name), 0))
                return NULL;
        if (type == TE_METRIC_HISTOGRAM) {
                if (n_bounds > TE_METRICS_MAX_BUCKETS || (n_bounds && !bounds))
                        return NULL;
                for (size_t i = 0; i < n_bounds; i++)
                        if (!isfinite(bounds[i]) || (i > 0 && bounds[i] <= bounds[i - 1]))
                                return NULL;
        }
        te_metric_t *m = calloc(1, sizeof *m);
        if (!m)
                return NULL;
        m->reg = r;
        m->type = type;
        memcpy(m->name, name, strlen(name) + 1);
        m->n_bounds = type == TE_METRIC_HISTOGRAM ? n_bounds : 0;
        for (size_t i = 0; i < m->n_bounds; i++)
                m->bounds[i] = bounds[i];
        if (te_parse_labels(m, labels) != 0)
                goto err;
        if (help && !(m->help = strdup(help)))
                goto err;

        pthread_mutex_lock(&r->lock);
        for (te_metric_t *o = r->first; o; o = o->next) {
                if (strcmp(o->name, name) != 0)
                        continue;
                pthread_mutex_unlock(&r->lock);
                int same = te_same_family(o, m);
                free(m->help);
                free(m);
                return same ? o : NULL;
        }
        if (r->last)
                r->last->next = m;
        else
                r->first = m;
        r->last = m;
        pthread_mutex_unlock(&r->lock);
        return m;
err:
        free(m->help);
        free(m);
        return NULL;
}

te_metric_t *te_metrics_counter(te_metrics_t *r, const char *name, const char *help,
                                const char *labels)
{
        return te_register(r, TE_METRIC_COUNTER, name, help, labels, NULL, 0);
}

te_metric_t *te_metrics_gauge(te_metrics_t *r, const char *name, const char *help,
                              const char *labels)
{
        return te_register(r, TE_METRIC_GAUGE, name, help, labels, NULL, 0);
}

te_metric_t *te_metrics_histogram(te_metrics_t *r, const char *name, const char *help,
                                  const char *labels, const double *bounds, size_t n)
{
        return te_register(r, TE_METRIC_HISTOGRAM, name, help, labels, bounds, n);
}

/* Compare a stored (truncated) value with a caller's value. */
static int te_value_eq(const char *stored, const char *given)
{
        if (!given)
                given = "";
        size_t n = strlen(given);
        if (n > TE_METRICS_VALUE_MAX - 1)
                n = TE_METRICS_VALUE_MAX - 1;
        return strncmp(stored, given, n) == 0 && stored[n] == '\0';
}

static te_series_t *te_find(te_metric_t *m, const char *const *values)
{
        for (size_t i = 0; i < m->n_series; i++) {
                te_series_t *s = m->series[i];
                size_t k = 0;
                while (k < m->n_labels && te_value_eq(s->values[k], values[k]))
                        k++;
                if (k == m->n_labels)
                        return s;
        }
        return NULL;
}

/* Find or create the series (lock held). @returns NULL at the series limit or OOM. */
static te_series_t *te_get(te_metric_t *m, const char *const *values)
{
        te_series_t *s = te_find(m, values);
        if (s)
                return s;
        if (m->n_series >= TE_METRICS_MAX_SERIES)
                goto drop;
        if (te_grow((void **)&m->series, &m->cap_series, m->n_series + 1,
                    sizeof *m->series, 4) != 0)
                goto drop;
        s = calloc(1, sizeof *s);
        if (!s)
                goto drop;
        for (size_t i = 0; i < m->n_labels; i++) {
                const char *v = values[i] ? values[i] : "";
                size_t n = strnlen(v, TE_METRICS_VALUE_MAX - 1);
                s->values[i] = malloc(n + 1);
                if (!s->values[i])
                        goto drop_s;
                memcpy(s->values[i], v, n);
                s->values[i][n] = '\0';
        }
        if (m->type == TE_METRIC_HISTOGRAM &&
            !(s->counts = calloc(m->n_bounds + 1, sizeof *s->counts)))
                goto drop_s;
        m->series[m->n_series++] = s;
        return s;
drop_s:
        te_series_free(s);
drop:
        m->reg->dropped++;
        return NULL;
}

int te_metric_add(te_metric_t *m, const char *const *values, double v)
{
        if (!m || m->type == TE_METRIC_HISTOGRAM || isnan(v) ||
            (m->type == TE_METRIC_COUNTER && v < 0))
                return -1;
        pthread_mutex_lock(&m->reg->lock);
        te_series_t *s = te_get(m, values);
        if (s)
                s->value += v;
        pthread_mutex_unlock(&m->reg->lock);
        return s ? 0 : -1;
}

int te_metric_set(te_metric_t *m, const char *const *values, double v)
{
        if (!m || m->type != TE_METRIC_GAUGE)
                return -1;
        pthread_mutex_lock(&m->reg->lock);
        te_series_t *s = te_get(m, values);
        if (s)
                s->value = v;
        pthread_mutex_unlock(&m->reg->lock);
        return s ? 0 : -1;
}

int te_metric_observe(te_metric_t *m, const char *const *values, double v)
{
        if (!m || m->type != TE_METRIC_HISTOGRAM || isnan(v))
                return -1;
        size_t b = 0;
        while (b < m->n_bounds && v > m->bounds[b])
                b++;
        pthread_mutex_lock(&m->reg->lock);
        te_series_t *s = te_get(m, values);
        if (s) {
                s->counts[b]++;
                s->count++;
                s->sum += v;
        }
        pthread_mutex_unlock(&m->reg->lock);
        return s ? 0 : -1;
}

int te_metric_get(te_metric_t *m, const char *const *values, double *out)
{
        if (!m)
                return -1;
        pthread_mutex_lock(&m->reg->lock);
        te_series_t *s = te_find(m, values);
        if (s)
                *out = m->type == TE_METRIC_HISTOGRAM ? (double)s->count : s->value;
        pthread_mutex_unlock(&m->reg->lock);
        return s ? 0 : -1;
}

size_t te_metric_remove(te_metric_t *m, size_t label_index, const char *value)
{
        size_t removed = 0, keep = 0;
        if (!m || (value && label_index >= m->n_labels))
                return 0;
        pthread_mutex_lock(&m->reg->lock);
        for (size_t i = 0; i < m->n_series; i++) {
                te_series_t *s = m->series[i];
                if (!value || te_value_eq(s->values[label_index], value)) {
                        te_series_free(s);
                        removed++;
                } else {
                        m->series[keep++] = s;
                }
        }
        m->n_series = keep;
        pthread_mutex_unlock(&m->reg->lock);
        return removed;
}

size_t te_metric_each(te_metric_t *m,
                      void (*fn)(const char *const *values, double v, void *arg),
                      void *arg)
{
        if (!m || m->type == TE_METRIC_HISTOGRAM)
                return 0;
        pthread_mutex_lock(&m->reg->lock);
        size_t n = m->n_series;
        for (size_t i = 0; i < n; i++)
                fn((const char *const *)m->series[i]->values, m->series[i]->value, arg);
        pthread_mutex_unlock(&m->reg->lock);
        return n;
}

uint64_t te_metrics_dropped(const te_metrics_t *r)
{
        te_metrics_t *w = (te_metrics_t *)r;
        pthread_mutex_lock(&w->lock);
        uint64_t n = w->dropped;
        pthread_mutex_unlock(&w->lock);
        return n;
}

int te_metrics_fmt_value(char *dst, size_t dstsz, double v)
{
        if (isnan(v) || isinf(v)) {
                const char *s = isnan(v) ? "NaN" : v > 0 ? "+Inf" : "-Inf";
                size_t n = strlen(s);
                if (n >= dstsz)
                        return -1;
                memcpy(dst, s, n + 1);
                return (int)n;
        }
        if (v == 0)
                v = 0; /* -0 prints as 0 */
        return te_fmt_double(dst, dstsz, v);
}

/* Append s escaped: label values escape \ " and newline; HELP text \ and newline. */
static int te_put_escaped(te_buf_t *b, const char *s, int quote)
{
        for (const char *p = s; *p; p++) {
                int rc;
                if (*p == '\\')
                        rc = te_buf_puts(b, "\\\\");
                else if (*p == '\n')
                        rc = te_buf_puts(b, "\\n");
                else if (quote && *p == '"')
                        rc = te_buf_puts(b, "\\\"");
                else
                        rc = te_buf_append(b, p, 1);
                if (rc != 0)
                        return -1;
        }
        return 0;
}

/* name{l1="v1",...[,le="x"]} value\n */
static int te_put_sample(te_buf_t *b, const te_metric_t *m, const char *suffix,
                         const te_series_t *s, const char *le, double v)
{
        char num[64];
        if (te_buf_puts(b, m->name) != 0 || te_buf_puts(b, suffix) != 0)
                return -1;
        if (m->n_labels || le) {
                if (te_buf_puts(b, "{") != 0)
                        return -1;
                for (size_t i = 0; i < m->n_labels; i++) {
                        if (te_buf_printf(b, "%s%s=\"", i ? "," : "", m->labels[i]) !=
                                0 ||
                            te_put_escaped(b, s->values[i], 1) != 0 ||
                            te_buf_puts(b, "\"") != 0)
                                return -1;
                }
                if (le &&
                    te_buf_printf(b, "%sle=\"%s\"", m->n_labels ? "," : "", le) != 0)
                        return -1;
                if (te_buf_puts(b, "}") != 0)
                        return -1;
        }
        if (te_metrics_fmt_value(num, sizeof num, v) < 0)
                return -1;
        return te_buf_printf(b, " %s\n", num);
}

static int te_put_family(te_buf_t *b, const te_metric_t *m)
{
        static const char *const types[] = {"counter", "gauge", "histogram"};
        if (m->help) {
                if (te_buf_printf(b, "# HELP %s ", m->name) != 0 ||
                    te_put_escaped(b, m->help, 0) != 0 || te_buf_puts(b, "\n") != 0)
                        return -1;
        }
        if (te_buf_printf(b, "# TYPE %s %s\n", m->name, types[m->type]) != 0)
                return -1;
        for (size_t i = 0; i < m->n_series; i++) {
                const te_series_t *s = m->series[i];
                if (m->type != TE_METRIC_HISTOGRAM) {
                        if (te_put_sample(b, m, "", s, NULL, s->value) != 0)
                                return -1;
                        continue;
                }
                uint64_t cum = 0;
                char le[64];
                for (size_t k = 0; k <= m->n_bounds; k++) {
                        cum += s->counts[k];
                        if (k < m->n_bounds) {
                                if (te_metrics_fmt_value(le, sizeof le, m->bounds[k]) < 0)
                                        return -1;
                        } else {
                                memcpy(le, "+Inf", 5);
                        }
                        if (te_put_sample(b, m, "_bucket", s, le, (double)cum) != 0)
                                return -1;
                }
                if (te_put_sample(b, m, "_sum", s, NULL, s->sum) != 0 ||
                    te_put_sample(b, m, "_count", s, NULL, (double)s->count) != 0)
                        return -1;
        }
        return 0;
}

void te_metrics_set_collect(te_metrics_t *r, void (*fn)(void *arg), void *arg)
{
        pthread_mutex_lock(&r->lock);
        r->collect = fn;
        r->collect_arg = arg;
        pthread_mutex_unlock(&r->lock);
}

int te_metrics_render(te_metrics_t *r, te_buf_t *out)
{
        int rc = 0;
        pthread_mutex_lock(&r->lock);
        void (*collect)(void *) = r->collect;
        void *arg = r->collect_arg;
        pthread_mutex_unlock(&r->lock);
        if (collect)
                collect(arg);
        pthread_mutex_lock(&r->lock);
        for (te_metric_t *m = r->first; m && rc == 0; m = m->next)
                rc = te_put_family(out, m);
        pthread_mutex_unlock(&r->lock);
        return rc;
}
