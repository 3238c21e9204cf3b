/*
 * test_bt_tearsheet: the HTML tear sheet's building blocks and page — base64 against
 * the RFC 4648 vectors, HTML escaping, and a page written from a made-up run: every
 * section is there, text from the run (a run id, options) is escaped, undefined ratios
 * read "n/a", the monthly table leaves months without data blank and compounds the
 * year, the charts are inline data: URLs and nothing is loaded from elsewhere.
 */
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

#include "bt_tearsheet.h"

static void test_base64(void **state)
{
        (void)state;
        const char *const in[] = {"", "f", "fo", "foo", "foob", "fooba", "foobar"};
        const char *const want[] = {"",         "Zg==",     "Zm8=",    "Zm9v",
                                    "Zm9vYg==", "Zm9vYmE=", "Zm9vYmFy"};
        for (size_t i = 0; i < 7; i++) {
                te_buf_t b;
                te_buf_init(&b, 64);
                assert_int_equal(
                    te_base64(&b, (const unsigned char *)in[i], strlen(in[i])), 0);
                assert_int_equal(b.len, strlen(want[i]));
                if (b.len)
                        assert_memory_equal(b.data, want[i], b.len);
                te_buf_free(&b);
        }
        /* the bound holds */
        te_buf_t small;
        te_buf_init(&small, 4);
        assert_int_equal(te_base64(&small, (const unsigned char *)"foob", 4), -1);
        te_buf_free(&small);
}

static void test_escape(void **state)
{
        (void)state;
        te_buf_t b;
        te_buf_init(&b, 256);
        assert_int_equal(te_html_escape(&b, "<a href=\"x\">&'ok"), 0);
        assert_string_equal(te_buf_cstr(&b), "&lt;a href=&quot;x&quot;&gt;&amp;&#39;ok");
        te_buf_free(&b);
}

static char *slurp(const char *path)
{
        FILE *fp = fopen(path, "r");
        if (!fp)
                return NULL;
        char *s = calloc(1, 1 << 20);
        size_t n = s ? fread(s, 1, (1 << 20) - 1, fp) : 0;
        (void)n;
        fclose(fp);
        return s;
}

static void test_page(void **state)
{
        (void)state;
        te_bt_params_t p;
        memset(&p, 0, sizeof p);
        te_strlcpy(p.run_id, "r<script>", sizeof p.run_id);
        p.capital = 1e6;
        te_strlcpy(p.capital_source, "capital option", sizeof p.capital_source);
        te_strlcpy(p.source, "targets file t.jsonl", sizeof p.source);
        te_strlcpy(p.bars_source, "CSV bars.csv", sizeof p.bars_source);
        te_strlcpy(p.build_commit, "abc123", sizeof p.build_commit);
        char opts[] = "run.id = r<script>\nkafka.sasl.password = ***\n";
        p.options = opts;
        te_bt_summary_t s;
        memset(&s, 0, sizeof s);
        s.capital = 1e6;
        s.first_day = 19814; /* 2024-04-01 */
        s.last_day = 20149;
        s.m.sharpe = NAN;
        s.m.sortino = NAN;
        s.m.cagr = 0.0512;
        s.m.max_dd = -0.0439;
        s.m.dd_peak_day = 19977;   /* 2024-09-11 */
        s.m.dd_trough_day = 20082; /* 2024-12-25 */
        s.m.dd_recovery_day = -1;
        s.slippage_bps = 5.0021;
        te_strlcpy(s.trades_md5, "ad7f94d715c0c55e009c8ff6eed1635b", sizeof s.trades_md5);
        te_strlcpy(s.states, "FILLED=3", sizeof s.states);
        const te_bt_month_t months[] = {
            {2024, 4, 0.10}, {2024, 5, -0.10}, {2025, 2, 0.0123}};
        const unsigned char png[] = {0x89, 'P', 'N', 'G'};
        te_bt_sheet_t sh = {.params = &p,
                            .s = &s,
                            .months = months,
                            .n_months = 3,
                            .equity_png = png,
                            .equity_png_len = 4,
                            .pf_png = png,
                            .pf_png_len = 4,
                            .pf_note = "all 2 portfolios"};
        char dir[] = "/tmp/test_bt_tearsheet.XXXXXX", path[80], err[256] = "";
        assert_non_null(mkdtemp(dir));
        snprintf(path, sizeof path, "%s/t.html", dir);
        assert_int_equal(te_bt_tearsheet_write(&sh, path, err, sizeof err), 0);
        char *h = slurp(path);
        unlink(path);
        rmdir(dir);
        assert_non_null(h);
        const char *const must[] = {
            "<!DOCTYPE html>",
            "id=\"metrics\"",
            "id=\"chart-equity\"",
            "id=\"chart-portfolios\"",
            "id=\"monthly-returns\"",
            "id=\"parameters\"",
            "id=\"trades-hash\">ad7f94d715c0c55e009c8ff6eed1635b<",
            "src=\"data:image/png;base64,iVBORw==\"",
            "r&lt;script&gt;",
            "kafka.sasl.password = ***",
            "CSV bars.csv",
            "abc123",
            "1000000.00 (capital option)",
            "<div class=\"v\">n/a</div>",   /* Sharpe undefined */
            "<div class=\"v\">5.12%</div>", /* CAGR */
            "<div class=\"v\">5.00 bps</div>",
            "peak 2024-09-11, trough 2024-12-25, recovered not recovered",
            /* 2024: Jan-Mar blank, Apr +10%, May -10%, year 1.1 x 0.9 - 1 = -1% */
            "<td class=\"k\">2024</td><td></td><td></td><td></td><td style=",
            ">10.00%</td><td style=",
            ">-10.00%</td><td></td>",
            "<b>-1.00%</b>",
            "<td class=\"k\">2025</td><td></td><td style=",
            "<b>1.23%</b>",
        };
        for (size_t i = 0; i < sizeof must / sizeof must[0]; i++)
                if (!strstr(h, must[i]))
                        fail_msg("page lacks %s", must[i]);
        const char *const never[] = {"<script",  "http://", "https://",
                                     "src=\"//", "@import", "url("};
        for (size_t i = 0; i < sizeof never / sizeof never[0]; i++)
                if (strstr(h, never[i]))
                        fail_msg("page has %s", never[i]);
        free(h);
        /* an unwritable path is an error naming it */
        assert_int_equal(
            te_bt_tearsheet_write(&sh, "/nonexistent-dir/t.html", err, sizeof err), -1);
        assert_non_null(strstr(err, "/nonexistent-dir/t.html"));
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_base64),
            cmocka_unit_test(test_escape),
            cmocka_unit_test(test_page),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
