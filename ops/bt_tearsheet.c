/*
 * bt_tearsheet: the HTML tear sheet of a backtest run (see bt_tearsheet.h).
 */
#include "bt_tearsheet.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "te_buf.h"

int te_html_escape(te_buf_t *b, const char *s)
{
        for (; *s; s++) {
                const char *rep = NULL;
                switch (*s) {
                case '&':
                        rep = "&amp;";
                        break;
                case '<':
                        rep = "&lt;";
                        break;
                case '>':
                        rep = "&gt;";
                        break;
                case '"':
                        rep = "&quot;";
                        break;
                case '\'':
                        rep = "&#39;";
                        break;
                }
                if (rep ? te_buf_puts(b, rep) != 0 : te_buf_append(b, s, 1) != 0)
                        return -1;
        }
        return 0;
}

int te_base64(te_buf_t *b, const unsigned char *d, size_t len)
{
        static const char al[] =
            "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        if (te_buf_reserve(b, (len + 2) / 3 * 4) != 0)
                return -1;
        for (size_t i = 0; i < len; i += 3) {
                unsigned v = (unsigned)d[i] << 16;
                if (i + 1 < len)
                        v |= (unsigned)d[i + 1] << 8;
                if (i + 2 < len)
                        v |= d[i + 2];
                char q[4] = {al[(v >> 18) & 63], al[(v >> 12) & 63],
                             i + 1 < len ? al[(v >> 6) & 63] : '=',
                             i + 2 < len ? al[v & 63] : '='};
                if (te_buf_append(b, q, 4) != 0)
                        return -1;
        }
        return 0;
}

static const char *const css =
    "body{font-family:'DejaVu Sans',Helvetica,Arial,sans-serif;color:#222;margin:24px "
    "auto;max-width:1000px;padding:0 16px;font-size:14px}"
    "h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:28px 0 8px;"
    "border-bottom:1px solid #ddd;padding-bottom:4px}"
    ".sub{color:#666;margin-bottom:16px}"
    "table{border-collapse:collapse}td,th{padding:4px 8px;border-bottom:1px solid #eee;"
    "text-align:right;font-variant-numeric:tabular-nums}"
    "th{background:#f6f6f6;font-weight:600}td.k,th.k{text-align:left;color:#444}"
    "#metrics{display:grid;grid-template-columns:repeat(4,1fr);gap:8px}"
    ".m{border:1px solid #e2e2e2;border-radius:4px;padding:8px}"
    ".m .l{color:#666;font-size:12px}.m .v{font-size:18px;font-weight:600;margin-top:2px}"
    ".m .n{color:#888;font-size:11px;margin-top:2px}"
    "img{width:100%;height:auto;border:1px solid #eee}"
    ".note{color:#777;font-size:12px}"
    "pre{background:#f8f8f8;padding:8px;font-size:12px;overflow-x:auto}"
    "code{font-size:12px}dl{font-size:13px}dt{font-weight:600;margin-top:6px}"
    "dd{margin-left:16px;color:#444}";

static void day_or(char *out, size_t outsz, int32_t day, const char *none)
{
        if (day >= 0)
                te_bt_day_str(day, out, outsz);
        else
                te_strlcpy(out, none, outsz);
}

/* one metric card; v is printed with `decimals` places and its unit, or "n/a" when
 * NaN */
static int card(te_buf_t *b, const char *label, int decimals, const char *unit, double v,
                const char *note)
{
        char val[64];
        if (isnan(v))
                te_strlcpy(val, "n/a", sizeof val);
        else
                snprintf(val, sizeof val, "%.*f%s", decimals, v, unit);
        int rc = te_buf_puts(b, "<div class=\"m\"><div class=\"l\">");
        rc |= te_html_escape(b, label);
        rc |= te_buf_puts(b, "</div><div class=\"v\">");
        rc |= te_html_escape(b, val);
        rc |= te_buf_puts(b, "</div><div class=\"n\">");
        rc |= te_html_escape(b, note ? note : "");
        rc |= te_buf_puts(b, "</div></div>\n");
        return rc;
}

static int img(te_buf_t *b, const char *id, const char *alt, const unsigned char *png,
               size_t len)
{
        int rc = te_buf_printf(b, "<img id=\"%s\" alt=\"", id);
        rc |= te_html_escape(b, alt);
        rc |= te_buf_puts(b, "\" src=\"data:image/png;base64,");
        rc |= te_base64(b, png, len);
        rc |= te_buf_puts(b, "\">\n");
        return rc;
}

/* background of a monthly return: green for gains, red for losses, stronger with size
 * (full at 5%) */
static void cell_color(double r, char *out, size_t outsz)
{
        double a = fabs(r) / 0.05;
        a = a > 1 ? 1 : a;
        int lo = (int)(255 - 120 * a);
        if (r >= 0)
                snprintf(out, outsz, "rgb(%d,255,%d)", lo, lo);
        else
                snprintf(out, outsz, "rgb(255,%d,%d)", lo, lo);
}

static int monthly(te_buf_t *b, const te_bt_sheet_t *sh)
{
        static const char *const mn[12] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                           "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
        int rc =
            te_buf_puts(b, "<table id=\"monthly-returns\"><tr><th class=\"k\">Year</th>");
        for (int m = 0; m < 12; m++)
                rc |= te_buf_printf(b, "<th>%s</th>", mn[m]);
        rc |= te_buf_puts(b, "<th>Year</th></tr>\n");
        size_t i = 0;
        while (i < sh->n_months) {
                int y = sh->months[i].year;
                double year = 1;
                rc |= te_buf_printf(b, "<tr><td class=\"k\">%d</td>", y);
                for (int m = 1; m <= 12; m++) {
                        if (i < sh->n_months && sh->months[i].year == y &&
                            sh->months[i].month == m) {
                                double r = sh->months[i].ret;
                                char bg[40];
                                cell_color(r, bg, sizeof bg);
                                rc |= te_buf_printf(
                                    b, "<td style=\"background:%s\">%.2f%%</td>", bg,
                                    r * 100);
                                year *= 1 + r;
                                i++;
                        } else {
                                rc |= te_buf_puts(b, "<td></td>");
                        }
                }
                char bg[40];
                cell_color(year - 1, bg, sizeof bg);
                rc |= te_buf_printf(
                    b, "<td style=\"background:%s\"><b>%.2f%%</b></td></tr>\n", bg,
                    (year - 1) * 100);
        }
        rc |= te_buf_puts(b, "</table>\n");
        return rc;
}

static int param_row(te_buf_t *b, const char *k, const char *v)
{
        int rc = te_buf_puts(b, "<tr><td class=\"k\">");
        rc |= te_html_escape(b, k);
        rc |= te_buf_puts(b, "</td><td class=\"k\">");
        rc |= te_html_escape(b, v);
        rc |= te_buf_puts(b, "</td></tr>\n");
        return rc;
}

static const char *const definitions =
    "<dl>"
    "<dt>Equity</dt><dd>Capital plus the cash flows of every trade (price &times; size, "
    "commissions) plus open positions marked at the close of the latest bar on or "
    "before the day; one point per day with a bar.</dd>"
    "<dt>Daily return</dt><dd>r<sub>i</sub> = E<sub>i</sub> / E<sub>i-1</sub> &minus; "
    "1, the first one against the capital.</dd>"
    "<dt>CAGR</dt><dd>(final equity / capital)<sup>252 / n</sup> &minus; 1, n the "
    "number of daily returns (252 trading days a year).</dd>"
    "<dt>Annualized volatility</dt><dd>Sample standard deviation of the daily returns "
    "&times; &radic;252.</dd>"
    "<dt>Sharpe</dt><dd>(mean daily return &minus; rf / 252) / standard deviation "
    "&times; &radic;252; rf is the annual risk-free rate shown under "
    "parameters.</dd>"
    "<dt>Sortino</dt><dd>The same excess mean over the downside deviation "
    "&radic;(&Sigma; min(0, r &minus; rf / 252)<sup>2</sup> / n), &times; "
    "&radic;252.</dd>"
    "<dt>Max drawdown</dt><dd>The lowest equity / running peak &minus; 1 (the peak "
    "starts at the capital), with the day of that peak, of the trough and of the first "
    "day back at the peak.</dd>"
    "<dt>Turnover</dt><dd>Traded value (buys plus sells) / mean daily equity: how many "
    "times the mean equity was traded over the run; per year scales it by 252 / "
    "n.</dd>"
    "<dt>Slippage vs arrival</dt><dd>Value-weighted (fill price &minus; arrival) / "
    "arrival in basis points, positive = cost; arrival is the close of the latest bar "
    "on or before the order's first event (the target's as_of).</dd>"
    "<dt>Fill ratio</dt><dd>Filled / ordered quantity over the orders the broker "
    "accepted.</dd>"
    "<dt>Monthly return</dt><dd>Equity at the month's last point / equity at the "
    "previous month's last point (the capital for the first) &minus; 1; the year "
    "column compounds the months.</dd>"
    "<dt>Trades hash</dt><dd>md5 of the trades ordered by trade_id: equal inputs give "
    "equal hashes.</dd>"
    "</dl>\n";

static int page(te_buf_t *b, const te_bt_sheet_t *sh)
{
        const te_bt_summary_t *s = sh->s;
        const te_bt_params_t *p = sh->params;
        const te_bt_metrics_t *m = &s->m;
        char d0[16], d1[16], pk[16], tr[16], rec[16], note[160], num[128];
        day_or(d0, sizeof d0, s->first_day, "-");
        day_or(d1, sizeof d1, s->last_day, "-");
        day_or(pk, sizeof pk, m->dd_peak_day, "start");
        day_or(tr, sizeof tr, m->dd_trough_day, "-");
        day_or(rec, sizeof rec, m->dd_recovery_day, "not recovered");
        int rc = te_buf_puts(b, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta "
                                "charset=\"utf-8\"><title>Backtest ");
        rc |= te_html_escape(b, p->run_id);
        rc |=
            te_buf_printf(b, " tear sheet</title><style>%s</style></head><body>\n", css);
        rc |= te_buf_puts(b, "<h1 id=\"title\">Backtest tear sheet: ");
        rc |= te_html_escape(b, p->run_id);
        rc |=
            te_buf_printf(b,
                          "</h1>\n<div class=\"sub\">%s to %s &middot; %ld trading days "
                          "&middot; %ld portfolios &middot; capital %.2f</div>\n",
                          d0, d1, s->days, s->portfolios, s->capital);

        rc |= te_buf_puts(b, "<h2>Metrics</h2>\n<div id=\"metrics\">\n");
        snprintf(note, sizeof note, "final equity %.2f", s->final_equity);
        rc |= card(b, "Total return", 2, "%", s->total_return * 100, note);
        rc |= card(b, "CAGR", 2, "%", m->cagr * 100, "252 trading days a year");
        rc |= card(b, "Annualized volatility", 2, "%", m->vol * 100,
                   "stdev of daily returns x sqrt(252)");
        snprintf(note, sizeof note, "risk-free %.2f%% a year", p->risk_free * 100);
        rc |= card(b, "Sharpe", 2, "", m->sharpe, note);
        rc |= card(b, "Sortino", 2, "", m->sortino, note);
        snprintf(note, sizeof note, "peak %s, trough %s, recovered %s", pk, tr, rec);
        rc |= card(b, "Max drawdown", 2, "%", m->max_dd * 100, note);
        snprintf(note, sizeof note, "x mean equity over the run; %.2fx per year",
                 s->turnover_annual);
        rc |= card(b, "Turnover", 2, "x", s->turnover, note);
        snprintf(note, sizeof note, "%.2f bps of the traded value (%.0f)",
                 s->commission_bps, s->traded_value);
        rc |= card(b, "Commissions", 2, "", s->commissions, note);
        rc |= card(b, "Slippage vs arrival", 2, " bps", s->slippage_bps,
                   "value-weighted, positive = cost");
        rc |= card(b, "Fill ratio", 2, "%", s->fill_ratio * 100,
                   "filled / ordered quantity");
        snprintf(note, sizeof note, "best day %.2f%%, worst %.2f%%", m->best_day * 100,
                 m->worst_day * 100);
        rc |= card(b, "Trades", 0, "", (double)s->trades, note);
        rc |= card(b, "Orders", 0, "", (double)s->orders, s->states);
        rc |= te_buf_puts(b, "</div>\n");

        rc |= te_buf_puts(b, "<h2>Equity and drawdown</h2>\n");
        rc |=
            img(b, "chart-equity", "Equity curve over the drawdown from its running peak",
                sh->equity_png, sh->equity_png_len);
        rc |= te_buf_puts(b, "<h2>Per-portfolio P&amp;L</h2>\n<div class=\"note\">");
        rc |= te_html_escape(b, sh->pf_note ? sh->pf_note : "");
        rc |= te_buf_puts(b, "; P&amp;L = the portfolio's trade cash flows plus its "
                             "positions at the close.</div>\n");
        rc |= img(b, "chart-portfolios", "Cumulative P&L per portfolio", sh->pf_png,
                  sh->pf_png_len);

        rc |= te_buf_puts(b, "<h2>Monthly returns</h2>\n");
        rc |= monthly(b, sh);

        rc |= te_buf_puts(b, "<h2>Parameters</h2>\n<table id=\"parameters\">\n");
        rc |= param_row(b, "run id", p->run_id);
        rc |= param_row(b, "targets source", p->source);
        rc |= param_row(b, "bars source", p->bars_source);
        snprintf(num, sizeof num, "%.2f (%s)", p->capital, p->capital_source);
        rc |= param_row(b, "capital", num);
        snprintf(num, sizeof num, "%.4f", p->risk_free);
        rc |= param_row(b, "risk-free rate (annual)", num);
        rc |= param_row(b, "build commit", p->build_commit);
        rc |= te_buf_puts(b, "</table>\n<div class=\"note\">Every option of the run "
                             "(secrets masked):</div>\n<pre id=\"options\">");
        rc |= te_html_escape(b, p->options ? p->options : "(not recorded)\n");
        rc |= te_buf_puts(b, "</pre>\n");

        rc |= te_buf_puts(b, "<h2>Trades hash</h2>\n<p>md5 of the ordered trades: <code "
                             "id=\"trades-hash\">");
        rc |= te_html_escape(b, s->trades_md5);
        rc |= te_buf_puts(b, "</code></p>\n<h2>Definitions</h2>\n");
        rc |= te_buf_puts(b, definitions);
        rc |= te_buf_puts(b, "</body></html>\n");
        return rc;
}

int te_bt_tearsheet_write(const te_bt_sheet_t *sh, const char *path, char *errstr,
                          size_t errsz)
{
        te_buf_t b;
        te_buf_init(&b, 256u << 20);
        if (page(&b, sh) != 0) {
                te_buf_free(&b);
                snprintf(errstr, errsz, "%s: page too large", path);
                return -1;
        }
        FILE *fp = fopen(path, "w");
        if (!fp) {
                snprintf(errstr, errsz, "%s: %s", path, strerror(errno));
                te_buf_free(&b);
                return -1;
        }
        size_t w = fwrite(b.data, 1, b.len, fp);
        int bad = fclose(fp) != 0 || w != b.len;
        te_buf_free(&b);
        if (bad) {
                snprintf(errstr, errsz, "%s: write error", path);
                return -1;
        }
        return 0;
}
