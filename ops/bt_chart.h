/*
 * bt_chart: the backtest's charts drawn with cairo — line panels over a dated x axis,
 * with a title, a y-axis label, "nice" y ticks, date ticks (months, quarters or years
 * depending on the span), a grid, a legend when there are several series, and an
 * optional shaded area under zero (the drawdown panel). Panels stack vertically in one
 * image, written as a PNG file or into memory (for the HTML tear sheet).
 */
#ifndef TE_BT_CHART_H
#define TE_BT_CHART_H

#include <stddef.h>
#include <stdint.h>

#include "te_buf.h"

#define TE_CHART_MAX_SERIES 10

typedef enum { TE_CHART_NUM, TE_CHART_PCT } te_chart_fmt_t;

typedef struct te_chart_series_s {
        const char *name;
        const double *y; /* n values, finite */
} te_chart_series_t;

typedef struct te_chart_panel_s {
        const char *title;
        const char *y_label;
        te_chart_fmt_t fmt; /* tick labels: numbers (k/M) or percentages */
        double weight;      /* share of the image height (relative) */
        int fill;           /* shade between the first series and zero */
        int has_ref;        /* a dashed reference line at y = ref */
        double ref;
        const te_chart_series_t *series;
        size_t n_series; /* 1..TE_CHART_MAX_SERIES */
} te_chart_panel_t;

typedef struct te_chart_s {
        const int32_t *days; /* n ascending day numbers (days since 1970-01-01) */
        size_t n;            /* >= 1 */
        const te_chart_panel_t *panels;
        size_t n_panels;
        int width, height; /* in points; 200..4000 x 100..4000 */
        double scale;      /* pixels per point (1 or 2) */
} te_chart_t;

/** Draw the chart as a PNG file at path. @returns 0, or -1 with errstr. */
int te_chart_png_file(const te_chart_t *c, const char *path, char *errstr, size_t errsz);

/** Draw the chart as PNG bytes appended to out. @returns 0, or -1 with errstr. */
int te_chart_png_buf(const te_chart_t *c, te_buf_t *out, char *errstr, size_t errsz);

/** Free what cairo and fontconfig keep between charts (font caches, configuration) so
 *  that leak checkers see a clean exit; call when no chart is being drawn. Charts drawn
 *  afterwards load them again. */
void te_chart_release(void);

/** Tick label of v for format fmt: the step decides the decimals, mag (the largest
 *  |value| on the axis) the unit shared by every tick of the axis (k, M or none). */
void te_chart_fmt_tick(double v, double step, double mag, te_chart_fmt_t fmt, char *out,
                       size_t outsz);

/** A "nice" tick step (1, 2, 2.5 or 5 x 10^k) giving about `target` ticks over span. */
double te_chart_nice_step(double span, int target);

#endif
