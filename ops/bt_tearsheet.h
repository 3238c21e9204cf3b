/*
 * bt_tearsheet: one self-contained HTML page per backtest run (no scripts, no external
 * resources: the charts are PNGs inlined as data: URLs, the style is inline).
 *
 * Sections, top to bottom: the title (run id, period, trading days); the headline
 * metrics (total return, CAGR, annualized volatility, Sharpe, Sortino, max drawdown
 * with its peak, trough and recovery dates, turnover, commissions, slippage vs
 * arrival, fill ratio, trades, orders by final state); the equity and drawdown chart;
 * the per-portfolio P&L chart; the monthly returns table (a row per year, a column
 * per month and the year's return); the run's parameters (source, bars, capital and
 * where it came from, risk-free rate, build commit, every option); the trades hash;
 * the definitions of the figures. Elements carry ids (metrics, chart-equity,
 * chart-portfolios, monthly-returns, parameters, trades-hash) for tests.
 */
#ifndef TE_BT_TEARSHEET_H
#define TE_BT_TEARSHEET_H

#include <stddef.h>

#include "backtest_report.h"
#include "te_buf.h"

typedef struct te_bt_sheet_s {
        const te_bt_params_t *params;
        const te_bt_summary_t *s;
        const te_bt_month_t *months;
        size_t n_months;
        const unsigned char *equity_png, *pf_png;
        size_t equity_png_len, pf_png_len;
        const char *pf_note; /* which portfolios the P&L chart shows */
} te_bt_sheet_t;

/** Write the page to path. @returns 0, or -1 with errstr. */
int te_bt_tearsheet_write(const te_bt_sheet_t *sh, const char *path, char *errstr,
                          size_t errsz);

/** Append the HTML-escaped text s to b (& < > " '). @returns 0 or -1 (full). */
int te_html_escape(te_buf_t *b, const char *s);

/** Append the base64 (RFC 4648, padded) of data to b. @returns 0 or -1 (full). */
int te_base64(te_buf_t *b, const unsigned char *data, size_t len);

#endif
