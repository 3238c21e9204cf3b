/*
 * bt_chart: cairo line charts with dated x axes (see bt_chart.h).
 */
#include "bt_chart.h"

#include <cairo.h>
#include <fontconfig/fontconfig.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "bt_metrics.h"

#define FONT "DejaVu Sans"

static const double palette[TE_CHART_MAX_SERIES][3] = {
    {0.12, 0.47, 0.71}, {0.85, 0.37, 0.01}, {0.17, 0.63, 0.17}, {0.84, 0.15, 0.16},
    {0.58, 0.40, 0.74}, {0.55, 0.34, 0.29}, {0.89, 0.47, 0.76}, {0.50, 0.50, 0.50},
    {0.74, 0.74, 0.13}, {0.09, 0.75, 0.81},
};

static const char *const month_abbr[12] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                           "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

double te_chart_nice_step(double span, int target)
{
        if (!(span > 0) || !isfinite(span) || target < 1)
                return 1;
        double raw = span / target;
        double p = pow(10, floor(log10(raw)));
        double f = raw / p;
        double nf = f < 1.5 ? 1 : f < 2.25 ? 2 : f < 3.5 ? 2.5 : f < 7.5 ? 5 : 10;
        return nf * p;
}

/* decimals needed to tell ticks `step` apart */
static int decimals(double step)
{
        int d = 0;
        while (d < 6 && fabs(step * pow(10, d) - round(step * pow(10, d))) > 1e-6)
                d++;
        return d;
}

void te_chart_fmt_tick(double v, double step, double mag, te_chart_fmt_t fmt, char *out,
                       size_t outsz)
{
        if (fabs(v) < step * 1e-9)
                v = 0;
        if (fmt == TE_CHART_PCT) {
                snprintf(out, outsz, "%.*f%%", decimals(step * 100), v * 100);
                return;
        }
        mag = fabs(mag);
        if (v == 0)
                snprintf(out, outsz, "0");
        else if (mag >= 1e6)
                snprintf(out, outsz, "%.*fM", decimals(step / 1e6), v / 1e6);
        else if (mag >= 1e4)
                snprintf(out, outsz, "%.*fk", decimals(step / 1e3), v / 1e3);
        else
                snprintf(out, outsz, "%.*f", decimals(step), v);
}

static void text_at(cairo_t *cr, const char *s, double x, double y, double ax, double ay)
{
        cairo_text_extents_t te;
        cairo_text_extents(cr, s, &te);
        cairo_move_to(cr, x - te.x_advance * ax, y + te.height * ay);
        cairo_show_text(cr, s);
}

typedef struct {
        double x0, x1, y0, y1; /* plot area */
        int32_t d0, d1;
        double lo, hi;
} frame_t;

static double fx(const frame_t *f, int32_t day)
{
        if (f->d1 == f->d0)
                return (f->x0 + f->x1) / 2;
        return f->x0 + (f->x1 - f->x0) * (double)(day - f->d0) / (double)(f->d1 - f->d0);
}

static double fy(const frame_t *f, double v)
{
        return f->y1 - (f->y1 - f->y0) * (v - f->lo) / (f->hi - f->lo);
}

/* date ticks: months, quarters, half-years or years, labelled "Mar 2024" or "2024" */
static void date_ticks(cairo_t *cr, const frame_t *f)
{
        int y0, m0, dd, y1, m1;
        te_bt_civil(f->d0, &y0, &m0, &dd);
        te_bt_civil(f->d1, &y1, &m1, &dd);
        int months = (y1 - y0) * 12 + (m1 - m0) + 1;
        int step = months <= 8 ? 1 : months <= 24 ? 3 : months <= 48 ? 6 : 12;
        if (months > 12 * 12)
                step = 12 * ((months / 12 + 9) / 10);
        cairo_set_font_size(cr, 10);
        double last_right = -1e9;
        for (int k = y0 * 12 + (m0 - 1) + 1; k <= y1 * 12 + (m1 - 1); k++) {
                int y = k / 12, m = k % 12 + 1;
                if ((k % step) != 0)
                        continue;
                int32_t day = te_bt_day_of(y, m, 1);
                if (day < f->d0 || day > f->d1)
                        continue;
                double x = fx(f, day);
                cairo_set_source_rgb(cr, 0.88, 0.88, 0.88);
                cairo_set_line_width(cr, 0.6);
                cairo_move_to(cr, x, f->y0);
                cairo_line_to(cr, x, f->y1);
                cairo_stroke(cr);
                cairo_set_source_rgb(cr, 0.2, 0.2, 0.2);
                cairo_move_to(cr, x, f->y1);
                cairo_line_to(cr, x, f->y1 + 4);
                cairo_stroke(cr);
                char lab[24];
                if (step >= 12)
                        snprintf(lab, sizeof lab, "%d", y);
                else
                        snprintf(lab, sizeof lab, "%s %d", month_abbr[m - 1], y);
                cairo_text_extents_t te;
                cairo_text_extents(cr, lab, &te);
                if (x - te.x_advance / 2 < last_right + 4)
                        continue;
                cairo_font_extents_t fe;
                cairo_font_extents(cr, &fe);
                cairo_move_to(cr, x - te.x_advance / 2, f->y1 + 6 + fe.ascent);
                cairo_show_text(cr, lab);
                last_right = x + te.x_advance / 2;
        }
}

/* The panel's value range (every series, the reference, 0 when filled), widened to
 * whole steps into f->lo..f->hi. @returns the step. */
static double y_range(const te_chart_t *c, const te_chart_panel_t *p, frame_t *f)
{
        double lo = INFINITY, hi = -INFINITY;
        for (size_t s = 0; s < p->n_series; s++)
                for (size_t i = 0; i < c->n; i++) {
                        lo = p->series[s].y[i] < lo ? p->series[s].y[i] : lo;
                        hi = p->series[s].y[i] > hi ? p->series[s].y[i] : hi;
                }
        if (p->has_ref) {
                lo = p->ref < lo ? p->ref : lo;
                hi = p->ref > hi ? p->ref : hi;
        }
        if (p->fill) {
                lo = lo > 0 ? 0 : lo;
                hi = hi < 0 ? 0 : hi;
        }
        if (hi - lo < 1e-12 * (fabs(hi) + 1)) {
                double pad = fabs(hi) > 0 ? fabs(hi) * 0.01 : 0.01;
                lo -= pad;
                hi += pad;
        }
        double step = te_chart_nice_step(hi - lo, 5);
        f->lo = floor(lo / step) * step;
        f->hi = ceil(hi / step) * step;
        return step;
}

/* Title, y grid with its labels, date ticks, y label and the reference line. */
static void draw_frame(cairo_t *cr, const te_chart_panel_t *p, const frame_t *f,
                       double step, double top)
{
        /* title */
        cairo_select_font_face(cr, FONT, CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_BOLD);
        cairo_set_font_size(cr, 13);
        cairo_set_source_rgb(cr, 0.1, 0.1, 0.1);
        text_at(cr, p->title, f->x0, top + 8, 0, 1.0);
        cairo_select_font_face(cr, FONT, CAIRO_FONT_SLANT_NORMAL,
                               CAIRO_FONT_WEIGHT_NORMAL);
        /* y grid and ticks */
        cairo_set_font_size(cr, 10);
        for (double v = f->lo; v <= f->hi + step * 1e-6; v += step) {
                double y = fy(f, v);
                cairo_set_source_rgb(cr, 0.88, 0.88, 0.88);
                cairo_set_line_width(cr, 0.6);
                cairo_move_to(cr, f->x0, y);
                cairo_line_to(cr, f->x1, y);
                cairo_stroke(cr);
                char lab[32];
                te_chart_fmt_tick(v, step, fmax(fabs(f->lo), fabs(f->hi)), p->fmt, lab,
                                  sizeof lab);
                cairo_set_source_rgb(cr, 0.2, 0.2, 0.2);
                text_at(cr, lab, f->x0 - 6, y - 4, 1.0, 0.8);
        }
        date_ticks(cr, f);
        /* y label, rotated */
        cairo_save(cr);
        cairo_set_font_size(cr, 10);
        cairo_text_extents_t te;
        cairo_text_extents(cr, p->y_label, &te);
        cairo_move_to(cr, 14, (f->y0 + f->y1) / 2 + te.x_advance / 2);
        cairo_rotate(cr, -M_PI / 2);
        cairo_show_text(cr, p->y_label);
        cairo_restore(cr);
        /* reference line */
        if (p->has_ref) {
                double dash[] = {4, 3};
                cairo_save(cr);
                cairo_set_dash(cr, dash, 2, 0);
                cairo_set_source_rgb(cr, 0.45, 0.45, 0.45);
                cairo_set_line_width(cr, 0.8);
                cairo_move_to(cr, f->x0, fy(f, p->ref));
                cairo_line_to(cr, f->x1, fy(f, p->ref));
                cairo_stroke(cr);
                cairo_restore(cr);
        }
}

/* The series, clipped to the frame; the first one filled down to 0 when p->fill. */
static void draw_series(cairo_t *cr, const te_chart_t *c, const te_chart_panel_t *p,
                        const frame_t *f)
{
        cairo_save(cr);
        cairo_rectangle(cr, f->x0, f->y0 - 1, f->x1 - f->x0, f->y1 - f->y0 + 2);
        cairo_clip(cr);
        for (size_t s = 0; s < p->n_series; s++) {
                const double *rgb = palette[s % TE_CHART_MAX_SERIES];
                const double *y = p->series[s].y;
                if (p->fill && s == 0) {
                        cairo_move_to(cr, fx(f, c->days[0]), fy(f, 0));
                        for (size_t i = 0; i < c->n; i++)
                                cairo_line_to(cr, fx(f, c->days[i]), fy(f, y[i]));
                        cairo_line_to(cr, fx(f, c->days[c->n - 1]), fy(f, 0));
                        cairo_close_path(cr);
                        cairo_set_source_rgba(cr, rgb[0], rgb[1], rgb[2], 0.25);
                        cairo_fill(cr);
                }
                cairo_set_source_rgb(cr, rgb[0], rgb[1], rgb[2]);
                cairo_set_line_width(cr, 1.4);
                cairo_set_line_join(cr, CAIRO_LINE_JOIN_ROUND);
                cairo_move_to(cr, fx(f, c->days[0]), fy(f, y[0]));
                if (c->n == 1)
                        cairo_line_to(cr, fx(f, c->days[0]) + 1, fy(f, y[0]));
                for (size_t i = 1; i < c->n; i++)
                        cairo_line_to(cr, fx(f, c->days[i]), fy(f, y[i]));
                cairo_stroke(cr);
        }
        cairo_restore(cr);
}

/* The legend, top right. */
static void draw_legend(cairo_t *cr, const te_chart_panel_t *p, const frame_t *f,
                        double top)
{
        cairo_text_extents_t te;
        cairo_set_font_size(cr, 10);
        double x = f->x1;
        for (size_t s = p->n_series; s-- > 0;) {
                const char *name = p->series[s].name ? p->series[s].name : "";
                cairo_text_extents(cr, name, &te);
                x -= te.x_advance + 4;
                cairo_set_source_rgb(cr, 0.15, 0.15, 0.15);
                cairo_move_to(cr, x, top + 18);
                cairo_show_text(cr, name);
                x -= 16;
                const double *rgb = palette[s % TE_CHART_MAX_SERIES];
                cairo_set_source_rgb(cr, rgb[0], rgb[1], rgb[2]);
                cairo_rectangle(cr, x, top + 11, 12, 6);
                cairo_fill(cr);
                x -= 12;
        }
}

static void draw_panel(cairo_t *cr, const te_chart_t *c, const te_chart_panel_t *p,
                       double top, double height)
{
        frame_t f = {
            .x0 = 72, .x1 = c->width - 20, .y0 = top + 26, .y1 = top + height - 26};
        f.d0 = c->days[0];
        f.d1 = c->days[c->n - 1];
        double step = y_range(c, p, &f);
        draw_frame(cr, p, &f, step, top);
        draw_series(cr, c, p, &f);
        /* axes */
        cairo_set_source_rgb(cr, 0.2, 0.2, 0.2);
        cairo_set_line_width(cr, 1);
        cairo_move_to(cr, f.x0, f.y0);
        cairo_line_to(cr, f.x0, f.y1);
        cairo_line_to(cr, f.x1, f.y1);
        cairo_stroke(cr);
        if (p->n_series > 1) /* legend, top right, when there are several series */
                draw_legend(cr, p, &f, top);
}

static int check(const te_chart_t *c, char *errstr, size_t errsz)
{
        if (!c->days || c->n < 1 || !c->panels || c->n_panels < 1) {
                snprintf(errstr, errsz, "chart: no data");
                return -1;
        }
        if (c->width < 200 || c->width > 4000 || c->height < 100 || c->height > 4000 ||
            !(c->scale >= 1 && c->scale <= 4)) {
                snprintf(errstr, errsz, "chart: size %dx%d x%.1f out of range", c->width,
                         c->height, c->scale);
                return -1;
        }
        for (size_t i = 1; i < c->n; i++)
                if (c->days[i] < c->days[i - 1]) {
                        snprintf(errstr, errsz, "chart: days not ascending");
                        return -1;
                }
        for (size_t k = 0; k < c->n_panels; k++) {
                const te_chart_panel_t *p = &c->panels[k];
                if (!p->series || p->n_series < 1 || p->n_series > TE_CHART_MAX_SERIES ||
                    !p->title || !p->y_label || !(p->weight > 0)) {
                        snprintf(errstr, errsz, "chart: panel %zu incomplete", k);
                        return -1;
                }
                for (size_t s = 0; s < p->n_series; s++)
                        for (size_t i = 0; i < c->n; i++)
                                if (!isfinite(p->series[s].y[i])) {
                                        snprintf(errstr, errsz,
                                                 "chart: panel %zu series %zu: value %zu "
                                                 "is not finite",
                                                 k, s, i);
                                        return -1;
                                }
        }
        return 0;
}

static cairo_surface_t *render(const te_chart_t *c, char *errstr, size_t errsz)
{
        if (check(c, errstr, errsz) != 0)
                return NULL;
        cairo_surface_t *sf = cairo_image_surface_create(
            CAIRO_FORMAT_RGB24, (int)(c->width * c->scale), (int)(c->height * c->scale));
        if (cairo_surface_status(sf) != CAIRO_STATUS_SUCCESS) {
                snprintf(errstr, errsz, "chart: %s",
                         cairo_status_to_string(cairo_surface_status(sf)));
                cairo_surface_destroy(sf);
                return NULL;
        }
        cairo_t *cr = cairo_create(sf);
        cairo_scale(cr, c->scale, c->scale);
        cairo_set_source_rgb(cr, 1, 1, 1);
        cairo_paint(cr);
        double total = 0, top = 0;
        for (size_t k = 0; k < c->n_panels; k++)
                total += c->panels[k].weight;
        for (size_t k = 0; k < c->n_panels; k++) {
                double h = c->height * c->panels[k].weight / total;
                draw_panel(cr, c, &c->panels[k], top, h);
                top += h;
        }
        cairo_status_t st = cairo_status(cr);
        cairo_destroy(cr);
        if (st != CAIRO_STATUS_SUCCESS) {
                snprintf(errstr, errsz, "chart: %s", cairo_status_to_string(st));
                cairo_surface_destroy(sf);
                return NULL;
        }
        cairo_surface_flush(sf);
        return sf;
}

int te_chart_png_file(const te_chart_t *c, const char *path, char *errstr, size_t errsz)
{
        cairo_surface_t *sf = render(c, errstr, errsz);
        if (!sf)
                return -1;
        cairo_status_t st = cairo_surface_write_to_png(sf, path);
        cairo_surface_destroy(sf);
        if (st != CAIRO_STATUS_SUCCESS) {
                snprintf(errstr, errsz, "%s: %s", path, cairo_status_to_string(st));
                return -1;
        }
        return 0;
}

static cairo_status_t to_buf(void *closure, const unsigned char *data, unsigned int len)
{
        return te_buf_append(closure, data, len) == 0 ? CAIRO_STATUS_SUCCESS
                                                      : CAIRO_STATUS_WRITE_ERROR;
}

int te_chart_png_buf(const te_chart_t *c, te_buf_t *out, char *errstr, size_t errsz)
{
        cairo_surface_t *sf = render(c, errstr, errsz);
        if (!sf)
                return -1;
        cairo_status_t st = cairo_surface_write_to_png_stream(sf, to_buf, out);
        cairo_surface_destroy(sf);
        if (st != CAIRO_STATUS_SUCCESS) {
                snprintf(errstr, errsz, "chart: png: %s", cairo_status_to_string(st));
                return -1;
        }
        return 0;
}

void te_chart_release(void)
{
        cairo_debug_reset_static_data();
        FcFini();
}
