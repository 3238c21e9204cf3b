/*
 * test_bt_chart: the cairo charts of the backtest report — tick steps and labels, a
 * two-panel chart written as a PNG and read back (size, the series' colour in the plot
 * area, text in the title strip and under the date axis, the legend of a multi-series
 * panel), the in-memory PNG at twice the scale, and the refusals (no data, values that
 * are not finite, days out of order, sizes out of range, too many series, a path that
 * cannot be written).
 */
#include <cairo.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "bt_chart.h"
#include "bt_metrics.h"

static void test_nice_step(void **state)
{
        (void)state;
        const struct {
                double span;
                int target;
                double step;
        } cases[] = {{100, 5, 20},       {1, 5, 0.2}, {0.05, 5, 0.01},
                     {125000, 5, 25000}, {7, 5, 1},   {0.3, 5, 0.05},
                     {12, 5, 2.5},       {0, 5, 1},   {NAN, 5, 1}};
        for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
                double got = te_chart_nice_step(cases[i].span, cases[i].target);
                if (fabs(got - cases[i].step) > 1e-12 * cases[i].step)
                        fail_msg("case %zu: step %g, want %g", i, got, cases[i].step);
        }
}

static void test_fmt_tick(void **state)
{
        (void)state;
        const struct {
                double v, step, mag;
                te_chart_fmt_t fmt;
                const char *want;
        } cases[] = {
            {1025000, 25000, 1.1e6, TE_CHART_NUM, "1.025M"},
            {975000, 25000, 1.1e6, TE_CHART_NUM, "0.975M"}, /* the axis' unit */
            {20000, 20000, 80000, TE_CHART_NUM, "20k"},
            {-20000, 20000, 80000, TE_CHART_NUM, "-20k"},
            {5, 2.5, 10, TE_CHART_NUM, "5.0"},
            {0, 0.2, 1, TE_CHART_NUM, "0"},
            {0, 20000, 80000, TE_CHART_NUM, "0"},
            {0.4, 0.2, 1, TE_CHART_NUM, "0.4"},
            {-0.03, 0.01, 0.05, TE_CHART_PCT, "-3%"},
            {0.025, 0.005, 0.05, TE_CHART_PCT, "2.5%"},
            {1e-17, 0.01, 0.05, TE_CHART_PCT, "0%"}, /* rounding noise is zero */
        };
        for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
                char out[32];
                te_chart_fmt_tick(cases[i].v, cases[i].step, cases[i].mag, cases[i].fmt,
                                  out, sizeof out);
                if (strcmp(out, cases[i].want) != 0)
                        fail_msg("case %zu: \"%s\", want \"%s\"", i, out, cases[i].want);
        }
}

#define N 400

typedef struct {
        int32_t days[N];
        double eq[N], dd[N], a[N], b[N];
        te_chart_series_t s_eq, s_dd, s2[2];
        te_chart_panel_t panels[3];
        te_chart_t c;
} fixture_t;

static void fixture(fixture_t *f)
{
        memset(f, 0, sizeof *f);
        int32_t d0 = te_bt_day_of(2024, 1, 2);
        for (int i = 0; i < N; i++) {
                f->days[i] = d0 + i + i / 5 * 2; /* weekdays only */
                f->eq[i] = 1e6 * (1 + 0.05 * sin(i / 40.0) + 0.0002 * i);
                f->a[i] = 1000 * i;
                f->b[i] = -500.0 * i;
        }
        te_bt_drawdown(f->eq, N, 1e6, f->dd);
        f->s_eq = (te_chart_series_t){"equity", f->eq};
        f->s_dd = (te_chart_series_t){"drawdown", f->dd};
        f->s2[0] = (te_chart_series_t){"pf-a", f->a};
        f->s2[1] = (te_chart_series_t){"pf-b", f->b};
        f->panels[0] = (te_chart_panel_t){.title = "Equity of run t",
                                          .y_label = "equity",
                                          .weight = 2,
                                          .has_ref = 1,
                                          .ref = 1e6,
                                          .series = &f->s_eq,
                                          .n_series = 1};
        f->panels[1] = (te_chart_panel_t){.title = "Drawdown",
                                          .y_label = "drawdown",
                                          .fmt = TE_CHART_PCT,
                                          .weight = 1,
                                          .fill = 1,
                                          .series = &f->s_dd,
                                          .n_series = 1};
        f->panels[2] = (te_chart_panel_t){.title = "P&L",
                                          .y_label = "P&L",
                                          .weight = 1,
                                          .series = f->s2,
                                          .n_series = 2};
        f->c = (te_chart_t){.days = f->days,
                            .n = N,
                            .panels = f->panels,
                            .n_panels = 3,
                            .width = 960,
                            .height = 700,
                            .scale = 1};
}

/* pixels in [x0,x1) x [y0,y1) within `tol` of an RGB colour (tol < 0: not white) */
static long count(cairo_surface_t *s, int x0, int y0, int x1, int y1, int r, int g, int b,
                  int tol)
{
        const unsigned char *d = cairo_image_surface_get_data(s);
        int stride = cairo_image_surface_get_stride(s);
        long n = 0;
        for (int y = y0; y < y1; y++)
                for (int x = x0; x < x1; x++) {
                        uint32_t px;
                        memcpy(&px, d + y * stride + x * 4, 4);
                        int pr = (px >> 16) & 255, pg = (px >> 8) & 255, pb = px & 255;
                        if (tol < 0 ? (pr < 200 || pg < 200 || pb < 200)
                                    : (abs(pr - r) <= tol && abs(pg - g) <= tol &&
                                       abs(pb - b) <= tol))
                                n++;
                }
        return n;
}

static void test_png_file(void **state)
{
        (void)state;
        fixture_t *f = malloc(sizeof *f);
        assert_non_null(f);
        fixture(f);
        char dir[] = "/tmp/test_bt_chart.XXXXXX", path[64], err[256] = "";
        assert_non_null(mkdtemp(dir));
        snprintf(path, sizeof path, "%s/c.png", dir);
        assert_int_equal(te_chart_png_file(&f->c, path, err, sizeof err), 0);
        cairo_surface_t *s = cairo_image_surface_create_from_png(path);
        assert_int_equal(cairo_surface_status(s), CAIRO_STATUS_SUCCESS);
        assert_int_equal(cairo_image_surface_get_width(s), 960);
        assert_int_equal(cairo_image_surface_get_height(s), 700);
        cairo_surface_flush(s);
        /* panel 0 spans 0..350: plot area x 72..940, y 26..324 */
        long blue = count(s, 72, 26, 940, 324, 31, 120, 181, 40);
        long dark_title = count(s, 72, 4, 300, 22, 0, 0, 0, -1);
        long dark_dates = count(s, 72, 326, 940, 348, 0, 0, 0, -1);
        long dark_yticks = count(s, 20, 26, 70, 324, 0, 0, 0, -1);
        /* panel 2 (525..700): both series' colours, the legend top right */
        long orange = count(s, 72, 551, 940, 674, 217, 94, 3, 40);
        long legend = count(s, 700, 530, 940, 548, 0, 0, 0, -1);
        /* a blank strip right of the plot area stays white */
        long margin = count(s, 945, 30, 958, 320, 0, 0, 0, -1);
        cairo_surface_destroy(s);
        unlink(path);
        rmdir(dir);
        free(f);
        if (blue < 800 || dark_title < 60 || dark_dates < 60 || dark_yticks < 60 ||
            orange < 300 || legend < 40 || margin != 0)
                fail_msg("blue %ld title %ld dates %ld yticks %ld orange %ld legend %ld "
                         "margin %ld",
                         blue, dark_title, dark_dates, dark_yticks, orange, legend,
                         margin);
}

typedef struct {
        const te_buf_t *b;
        size_t at;
} reader_t;

static cairo_status_t read_buf(void *closure, unsigned char *data, unsigned int len)
{
        reader_t *r = closure;
        if (r->at + len > r->b->len)
                return CAIRO_STATUS_READ_ERROR;
        memcpy(data, r->b->data + r->at, len);
        r->at += len;
        return CAIRO_STATUS_SUCCESS;
}

static void test_png_buf(void **state)
{
        (void)state;
        fixture_t *f = malloc(sizeof *f);
        assert_non_null(f);
        fixture(f);
        f->c.scale = 2;
        te_buf_t b;
        char err[256] = "";
        te_buf_init(&b, 16u << 20);
        assert_int_equal(te_chart_png_buf(&f->c, &b, err, sizeof err), 0);
        assert_true(b.len > 1000);
        assert_memory_equal(b.data, "\x89PNG\r\n\x1a\n", 8);
        reader_t rd = {&b, 0};
        cairo_surface_t *s = cairo_image_surface_create_from_png_stream(read_buf, &rd);
        assert_int_equal(cairo_surface_status(s), CAIRO_STATUS_SUCCESS);
        assert_int_equal(cairo_image_surface_get_width(s), 1920);
        assert_int_equal(cairo_image_surface_get_height(s), 1400);
        cairo_surface_destroy(s);
        /* a one-point chart is drawn (a dot), not refused */
        f->c.n = 1;
        te_buf_reset(&b);
        assert_int_equal(te_chart_png_buf(&f->c, &b, err, sizeof err), 0);
        te_buf_free(&b);
        free(f);
}

static void test_refused(void **state)
{
        (void)state;
        fixture_t *f = malloc(sizeof *f);
        assert_non_null(f);
        char err[256];
        te_buf_t b;
        te_buf_init(&b, 16u << 20);
        const struct {
                const char *what, *msg;
        } cases[] = {
            {"nan", "not finite"},     {"inf", "not finite"},
            {"empty", "no data"},      {"order", "ascending"},
            {"small", "out of range"}, {"scale", "out of range"},
            {"series", "incomplete"},  {"noseries", "incomplete"},
            {"weight", "incomplete"},
        };
        for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
                fixture(f);
                const char *w = cases[i].what;
                if (!strcmp(w, "nan"))
                        f->eq[17] = NAN;
                else if (!strcmp(w, "inf"))
                        f->b[3] = INFINITY;
                else if (!strcmp(w, "empty"))
                        f->c.n = 0;
                else if (!strcmp(w, "order"))
                        f->days[10] = f->days[9] - 1;
                else if (!strcmp(w, "small"))
                        f->c.width = 50;
                else if (!strcmp(w, "scale"))
                        f->c.scale = 0;
                else if (!strcmp(w, "series"))
                        f->panels[2].n_series = TE_CHART_MAX_SERIES + 1;
                else if (!strcmp(w, "noseries"))
                        f->panels[1].n_series = 0;
                else if (!strcmp(w, "weight"))
                        f->panels[0].weight = 0;
                err[0] = '\0';
                if (te_chart_png_buf(&f->c, &b, err, sizeof err) != -1 ||
                    !strstr(err, cases[i].msg))
                        fail_msg("case %s: accepted or wrong error \"%s\"", w, err);
        }
        fixture(f);
        assert_int_equal(
            te_chart_png_file(&f->c, "/nonexistent-dir/c.png", err, sizeof err), -1);
        assert_non_null(strstr(err, "/nonexistent-dir/c.png"));
        te_buf_free(&b);
        free(f);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_nice_step), cmocka_unit_test(test_fmt_tick),
            cmocka_unit_test(test_png_file),  cmocka_unit_test(test_png_buf),
            cmocka_unit_test(test_refused),
        };
        int rc = cmocka_run_group_tests(tests, NULL, NULL);
        te_chart_release(); /* for valgrind: cairo's and fontconfig's caches */
        return rc;
}
