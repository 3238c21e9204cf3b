/*
 * te_metrics: a small metrics registry and its Prometheus text exposition.
 *
 * A registry holds metric families (counter, gauge, histogram with fixed buckets), each
 * with a fixed list of label names; a family holds one series per distinct set of label
 * values, created on first use. Families render in registration order, series in
 * creation order, in the text format Prometheus scrapes (version 0.0.4):
 *
 *   # HELP te_messages_consumed_total Messages consumed, by topic.
 *   # TYPE te_messages_consumed_total counter
 *   te_messages_consumed_total{topic="exec.targets"} 42
 *
 * Histograms render cumulative `_bucket{le="..."}` lines (ending with le="+Inf"), then
 * `_sum` and `_count`. Label values are escaped (\\, \", \n), HELP text too (\\, \n).
 * Numbers are written as short as round-trips (1, 0.25, 1e+20), +Inf, -Inf, NaN.
 *
 * Thread safety: one mutex per registry; updates (from the main thread or librdkafka
 * callbacks) and rendering (from the HTTP thread) may run concurrently.
 *
 * Bounds: at most TE_METRICS_MAX_LABELS labels per family, TE_METRICS_MAX_BUCKETS
 * buckets, TE_METRICS_MAX_SERIES series per family (updates to new series beyond it are
 * dropped and counted in te_metrics_dropped), label values truncated to
 * TE_METRICS_VALUE_MAX - 1 bytes. A metric update never fails the caller's work.
 */
#ifndef TE_METRICS_H
#define TE_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include "te_buf.h"

#define TE_METRICS_MAX_LABELS  4
#define TE_METRICS_MAX_BUCKETS 32
#define TE_METRICS_MAX_SERIES  1024
#define TE_METRICS_VALUE_MAX   128

typedef enum {
        TE_METRIC_COUNTER,
        TE_METRIC_GAUGE,
        TE_METRIC_HISTOGRAM,
} te_metric_type_t;

typedef struct te_metrics_s te_metrics_t;
typedef struct te_metric_s te_metric_t;

/** Label values in the order of the family's label names (compound literal helper):
 *  te_metric_add(m, TE_LV("exec.orders"), 1). */
#define TE_LV(...) ((const char *const[]){__VA_ARGS__})

/** @returns a new empty registry, or NULL when out of memory. */
te_metrics_t *te_metrics_new(void);
/** Free the registry and every family in it. Accepts NULL. */
void te_metrics_destroy(te_metrics_t *r);

/** Register a family, or return the existing one when a family of that name, type and
 *  label list is already registered. `labels` is a comma-separated list of label names
 *  ("topic,partition"), NULL or "" for none. `help` may be NULL.
 *  @returns the family (owned by the registry), or NULL when the name or a label name
 *  is invalid, too many labels, a family of that name exists with another type or
 *  labels, or out of memory. */
te_metric_t *te_metrics_counter(te_metrics_t *r, const char *name, const char *help,
                                const char *labels);
te_metric_t *te_metrics_gauge(te_metrics_t *r, const char *name, const char *help,
                              const char *labels);
/** As above, for a histogram with `n` finite, strictly increasing upper bounds (the
 *  +Inf bucket is implicit). @returns NULL also when the bounds are not valid or the
 *  label list contains `le`. */
te_metric_t *te_metrics_histogram(te_metrics_t *r, const char *name, const char *help,
                                  const char *labels, const double *bounds, size_t n);

/** Counter: add v (>= 0). Gauge: add v (any sign).
 *  @returns 0, or -1 (wrong type, negative counter increment, NaN, series limit). */
int te_metric_add(te_metric_t *m, const char *const *values, double v);
/** Gauge: set to v. @returns 0 or -1 (not a gauge, series limit). */
int te_metric_set(te_metric_t *m, const char *const *values, double v);
/** Histogram: count v in its bucket and add it to the sum. NaN is ignored.
 *  @returns 0 or -1 (not a histogram, NaN, series limit). */
int te_metric_observe(te_metric_t *m, const char *const *values, double v);
/** Read a series: the value of a counter/gauge, the count of a histogram.
 *  @returns 0, or -1 if the series does not exist. */
int te_metric_get(te_metric_t *m, const char *const *values, double *out);
/** Remove every series whose label number `label_index` equals `value` (all series when
 *  `value` is NULL). @returns the number removed. */
size_t te_metric_remove(te_metric_t *m, size_t label_index, const char *value);
/** Call fn for every series of a counter/gauge family (under the registry lock: fn
 *  must not call back into the registry). @returns the number of series. */
size_t te_metric_each(te_metric_t *m,
                      void (*fn)(const char *const *values, double v, void *arg),
                      void *arg);

/** Call fn(arg) at the start of every te_metrics_render, before the registry lock is
 *  taken (fn updates metrics computed on demand, e.g. from /proc). NULL: none. */
void te_metrics_set_collect(te_metrics_t *r, void (*fn)(void *arg), void *arg);
/** Append the exposition text of every family to `out`.
 *  @returns 0, or -1 if `out` reached its bound (its content is then incomplete). */
int te_metrics_render(te_metrics_t *r, te_buf_t *out);
/** Updates dropped because a family was at TE_METRICS_MAX_SERIES. */
uint64_t te_metrics_dropped(const te_metrics_t *r);

/** Format a sample value the way te_metrics_render does (+Inf, -Inf, NaN, shortest
 *  round-trip). @returns the length, or -1 if dst is too small. */
int te_metrics_fmt_value(char *dst, size_t dstsz, double v);

#endif
