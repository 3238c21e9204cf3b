/*
 * backtest_report: metrics, equity curve CSV, charts and tear sheet of a run (see
 * backtest_report.h).
 */
#include "backtest_report.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "bt_chart.h"
#include "bt_tearsheet.h"
#include "te_buf.h"
#include "te_map.h"

#define MS_PER_DAY INT64_C(86400000)

void te_bt_day_str(int32_t day, char *out, size_t outsz)
{
        int y, m, d;
        te_bt_civil(day, &y, &m, &d);
        snprintf(out, outsz, "%04d-%02d-%02d", y, m, d);
}

static PGresult *query(PGconn *db, const char *sql, char *errstr, size_t errsz)
{
        PGresult *r = PQexec(db, sql);
        if (PQresultStatus(r) != PGRES_TUPLES_OK) {
                snprintf(errstr, errsz, "report query: %s", PQresultErrorMessage(r));
                PQclear(r);
                return NULL;
        }
        return r;
}

static double num(PGresult *r, int row, int col)
{
        return PQgetisnull(r, row, col) ? 0 : strtod(PQgetvalue(r, row, col), NULL);
}

/* one portfolio: its positions (ticker -> qty), cash flow and daily P&L */
typedef struct pf_s {
        char *id;
        te_map_t *pos;
        double cash;
        double *pnl;
        double final; /* |P&L| at the last point, to rank the portfolios */
} pf_t;

typedef struct curve_s {
        int32_t *days;
        double *eq;
        size_t n, cap;
        pf_t **pf;
        size_t n_pf, cap_pf;
} curve_t;

static void pf_free(pf_t *p)
{
        if (!p)
                return;
        free(p->id);
        te_map_destroy(p->pos, free);
        free(p->pnl);
        free(p);
}

static double mark(te_map_t *pos, te_bars_t *bars, int32_t day)
{
        size_t it = 0;
        const char *tk;
        void *v;
        double sum = 0;
        while (te_map_next(pos, &it, &tk, &v)) {
                double q = *(double *)v;
                if (q == 0)
                        continue;
                const te_bar_t *b = te_bars_at_or_before(bars, tk, day);
                if (b)
                        sum += q * b->close;
        }
        return sum;
}

static int any_bar(te_map_t *tickers, te_bars_t *bars, int32_t day)
{
        size_t it = 0;
        const char *tk;
        void *v;
        const te_bar_t *f;
        while (te_map_next(tickers, &it, &tk, &v))
                if (te_bars_range(bars, tk, day - 1, day, &f) > 0)
                        return 1;
        return 0;
}

/* the portfolio's record, created (with a zero P&L history) on first sight */
static pf_t *pf_get(curve_t *cv, te_map_t *by_id, const char *id)
{
        pf_t *p = te_map_get(by_id, id);
        if (p)
                return p;
        if (cv->n_pf == cv->cap_pf) {
                size_t nc = cv->cap_pf ? cv->cap_pf * 2 : 8;
                pf_t **np = realloc(cv->pf, nc * sizeof *np);
                if (!np)
                        return NULL;
                cv->pf = np;
                cv->cap_pf = nc;
        }
        p = calloc(1, sizeof *p);
        if (!p)
                return NULL;
        p->id = strdup(id);
        p->pos = te_map_new();
        p->pnl = cv->cap ? calloc(cv->cap, sizeof *p->pnl) : NULL;
        if (!p->id || !p->pos || (cv->cap && !p->pnl) || te_map_put(by_id, id, p) != 0) {
                pf_free(p);
                return NULL;
        }
        cv->pf[cv->n_pf++] = p;
        return p;
}

static int curve_grow(curve_t *cv)
{
        if (cv->n < cv->cap)
                return 0;
        size_t nc = cv->cap ? cv->cap * 2 : 1024;
        int32_t *nd = realloc(cv->days, nc * sizeof *nd);
        if (!nd)
                return -1;
        cv->days = nd;
        double *ne = realloc(cv->eq, nc * sizeof *ne);
        if (!ne)
                return -1;
        cv->eq = ne;
        for (size_t i = 0; i < cv->n_pf; i++) {
                double *np = realloc(cv->pf[i]->pnl, nc * sizeof *np);
                if (!np)
                        return -1;
                cv->pf[i]->pnl = np;
        }
        cv->cap = nc;
        return 0;
}

static int by_final_pnl(const void *a, const void *b)
{
        const pf_t *x = *(pf_t *const *)a, *y = *(pf_t *const *)b;
        if (x->final != y->final)
                return x->final < y->final ? 1 : -1;
        return strcmp(x->id, y->id);
}

/* Both charts: equity.png (equity over drawdown) and portfolios.png (P&L per
 * portfolio, the largest |final P&L| first, the rest summed as "others"); their PNG
 * bytes go to eq_png / pf_png for the tear sheet. */
static int charts(const curve_t *cv, const te_bt_params_t *p, const char *out_dir,
                  te_buf_t *eq_png, te_buf_t *pf_png, char *pf_note, size_t pf_note_size,
                  char *errstr, size_t errsz)
{
        int rc = -1;
        double *dd = malloc(cv->n * sizeof *dd);
        double *others = calloc(cv->n, sizeof *others);
        pf_t **order = malloc((cv->n_pf ? cv->n_pf : 1) * sizeof *order);
        char path[1200], title[200];
        if (!dd || !others || !order) {
                snprintf(errstr, errsz, "out of memory");
                goto out;
        }
        te_bt_drawdown(cv->eq, cv->n, p->capital, dd);
        snprintf(title, sizeof title, "Equity of run %s (capital %.2f, dashed)",
                 p->run_id, p->capital);
        te_chart_series_t s_eq = {"equity", cv->eq}, s_dd = {"drawdown", dd};
        te_chart_panel_t panels[2] = {
            {.title = title,
             .y_label = "equity",
             .fmt = TE_CHART_NUM,
             .weight = 2.2,
             .has_ref = 1,
             .ref = p->capital,
             .series = &s_eq,
             .n_series = 1},
            {.title = "Drawdown from the running peak",
             .y_label = "drawdown",
             .fmt = TE_CHART_PCT,
             .weight = 1,
             .fill = 1,
             .series = &s_dd,
             .n_series = 1},
        };
        te_chart_t c = {.days = cv->days,
                        .n = cv->n,
                        .panels = panels,
                        .n_panels = 2,
                        .width = 960,
                        .height = 520,
                        .scale = 1};
        snprintf(path, sizeof path, "%s/equity.png", out_dir);
        if (te_chart_png_file(&c, path, errstr, errsz) != 0)
                goto out;
        c.scale = 2; /* sharp on high-density screens */
        if (te_chart_png_buf(&c, eq_png, errstr, errsz) != 0)
                goto out;

        te_chart_series_t ser[TE_CHART_MAX_SERIES];
        size_t ns = 0;
        memcpy(order, cv->pf, cv->n_pf * sizeof *order);
        for (size_t i = 0; i < cv->n_pf; i++)
                order[i]->final = fabs(order[i]->pnl[cv->n - 1]);
        qsort(order, cv->n_pf, sizeof *order, by_final_pnl);
        size_t shown =
            cv->n_pf <= TE_CHART_MAX_SERIES ? cv->n_pf : TE_CHART_MAX_SERIES - 1;
        for (size_t i = 0; i < shown; i++)
                ser[ns++] = (te_chart_series_t){order[i]->id, order[i]->pnl};
        if (shown < cv->n_pf) {
                for (size_t i = shown; i < cv->n_pf; i++)
                        for (size_t d = 0; d < cv->n; d++)
                                others[d] += order[i]->pnl[d];
                ser[ns++] = (te_chart_series_t){"others", others};
                snprintf(pf_note, pf_note_size,
                         "the %zu portfolios with the largest final |P&L|; the other %zu "
                         "summed as \"others\"",
                         shown, cv->n_pf - shown);
        } else {
                snprintf(pf_note, pf_note_size, "all %zu portfolios", cv->n_pf);
        }
        if (ns == 0)
                ser[ns++] = (te_chart_series_t){"no trades", others};
        te_chart_panel_t pp = {.title = "Cumulative P&L per portfolio",
                               .y_label = "P&L",
                               .fmt = TE_CHART_NUM,
                               .weight = 1,
                               .has_ref = 1,
                               .ref = 0,
                               .series = ser,
                               .n_series = ns};
        te_chart_t cp = {.days = cv->days,
                         .n = cv->n,
                         .panels = &pp,
                         .n_panels = 1,
                         .width = 960,
                         .height = 340,
                         .scale = 1};
        snprintf(path, sizeof path, "%s/portfolios.png", out_dir);
        if (te_chart_png_file(&cp, path, errstr, errsz) != 0)
                goto out;
        cp.scale = 2;
        if (te_chart_png_buf(&cp, pf_png, errstr, errsz) != 0)
                goto out;
        rc = 0;
out:
        free(dd);
        free(others);
        free(order);
        return rc;
}

/* Orders by final state, the fill ratio over accepted orders and the determinism hash
 * of the trades, into s. @returns 0, or -1 with errstr. */
static int order_figures(PGconn *db, te_bt_summary_t *s, char *errstr, size_t errsz)
{
        PGresult *r = query(
            db, "SELECT status, count(*) FROM orders GROUP BY status ORDER BY status",
            errstr, errsz);
        if (!r)
                return -1;
        for (int i = 0; i < PQntuples(r); i++) {
                size_t l = strlen(s->states);
                snprintf(s->states + l, sizeof s->states - l, "%s%s=%s", l ? " " : "",
                         PQgetvalue(r, i, 0), PQgetvalue(r, i, 1));
                s->orders += strtol(PQgetvalue(r, i, 1), NULL, 10);
        }
        PQclear(r);
        if (!(r = query(
                  db,
                  "SELECT coalesce(sum(o.cum_qty), 0), coalesce(sum(q.ordered), 0) "
                  "FROM orders o JOIN (SELECT order_id, max(cum_qty + leaves_qty) "
                  "AS ordered FROM order_events GROUP BY order_id) q USING (order_id) "
                  "WHERE o.status <> 'REJECTED'",
                  errstr, errsz)))
                return -1;
        s->fill_ratio = num(r, 0, 1) > 0 ? num(r, 0, 0) / num(r, 0, 1) : 0;
        PQclear(r);
        if (!(r = query(
                  db,
                  "SELECT md5(coalesce(string_agg(concat_ws('|', trade_id, "
                  "(\"timestamp\" AT TIME ZONE 'UTC')::text, ticker, direction, size, "
                  "price, order_id, decision_id, commission, mode, broker), "
                  "E'\\n' ORDER BY trade_id), '')) FROM trades",
                  errstr, errsz)))
                return -1;
        te_strlcpy(s->trades_md5, PQgetvalue(r, 0, 0), sizeof s->trades_md5);
        PQclear(r);
        return 0;
}

/* The walk over the trades, day by day: the portfolios' positions and cash, the
 * curves, and the sums the summary's figures come from. */
typedef struct walk_s {
        curve_t cv;
        te_map_t *by_id;   /* portfolio id -> pf_t (owned by cv) */
        te_map_t *tickers; /* every ticker traded */
        te_bars_t *bars;
        te_bt_summary_t *s;
        double capital, sum_eq, slip_num, slip_den;
} walk_t;

/* trades in time order, with the order's arrival time and portfolio */
static const char trades_sql[] =
    "SELECT (extract(epoch FROM t.\"timestamp\") * 1000)::bigint, "
    "t.ticker, t.direction, t.size, t.price, t.commission, "
    "(extract(epoch FROM coalesce(o.first_event_time, t.\"timestamp\")) "
    "* 1000)::bigint, coalesce(o.portfolio_id, '(unknown)') "
    "FROM trades t LEFT JOIN orders o USING (order_id) "
    "ORDER BY t.\"timestamp\", t.trade_id";

/* Book trade row `ti` of trades_sql. @returns 0, or -1 out of memory. */
static int walk_trade(walk_t *w, PGresult *r, int ti)
{
        const char *tk = PQgetvalue(r, ti, 1);
        int buy = strcmp(PQgetvalue(r, ti, 2), "BUY") == 0;
        double q = num(r, ti, 3), px = num(r, ti, 4), c = num(r, ti, 5);
        pf_t *pf = pf_get(&w->cv, w->by_id, PQgetvalue(r, ti, 7));
        double *qty = pf ? te_map_get(pf->pos, tk) : NULL;
        if (pf && !qty) {
                qty = calloc(1, sizeof *qty);
                if (qty && te_map_put(pf->pos, tk, qty) != 0) {
                        free(qty);
                        qty = NULL;
                }
        }
        if (!qty || (!te_map_get(w->tickers, tk) &&
                     te_map_put(w->tickers, tk, (void *)w->tickers) != 0))
                return -1;
        *qty += buy ? q : -q;
        pf->cash -= (buy ? q * px : -q * px) + c;
        w->s->traded_value += q * px;
        w->s->commissions += c;
        int64_t arr_ms = strtoll(PQgetvalue(r, ti, 6), NULL, 10);
        const te_bar_t *ab =
            te_bars_at_or_before(w->bars, tk, (int32_t)(arr_ms / MS_PER_DAY));
        if (ab) {
                double cost = buy ? px - ab->close : ab->close - px;
                w->slip_num += cost * q;
                w->slip_den += ab->close * q;
        }
        return 0;
}

/* Close `day`: mark every portfolio, add the curves' point and the CSV row.
 * @returns 0, or -1 out of memory. */
static int walk_close_day(walk_t *w, int32_t day, FILE *csv)
{
        curve_t *cv = &w->cv;
        double cash = w->capital, pv = 0;
        char ds[16];
        if (curve_grow(cv) != 0)
                return -1;
        for (size_t k = 0; k < cv->n_pf; k++) {
                double m = mark(cv->pf[k]->pos, w->bars, day);
                cv->pf[k]->pnl[cv->n] = cv->pf[k]->cash + m;
                cash += cv->pf[k]->cash;
                pv += m;
        }
        double e = cash + pv;
        cv->days[cv->n] = day;
        cv->eq[cv->n++] = e;
        w->sum_eq += e;
        te_bt_day_str(day, ds, sizeof ds);
        fprintf(csv, "%s,%.2f,%.2f,%.2f,%.6f\n", ds, e, cash, pv, e / w->capital - 1);
        return 0;
}

/* Walk the days first_day..last_day (widened to the trades'), a point for every day
 * with a trade or a bar, into the curves and OUT/equity.csv; with no point at all, one
 * flat point at the capital. @returns 0, or -1 with errstr. */
static int walk(walk_t *w, PGconn *db, int32_t first_day, int32_t last_day,
                const char *out_dir, char *errstr, size_t errsz)
{
        char path[1200];
        FILE *csv = NULL;
        int rc = -1, ti = 0;
        PGresult *r = query(db, trades_sql, errstr, errsz);
        if (!r)
                return -1;
        int nt = PQntuples(r);
        w->s->trades = nt;
        if (nt > 0) {
                int32_t d0 =
                    (int32_t)(strtoll(PQgetvalue(r, 0, 0), NULL, 10) / MS_PER_DAY);
                int32_t dl =
                    (int32_t)(strtoll(PQgetvalue(r, nt - 1, 0), NULL, 10) / MS_PER_DAY);
                first_day = d0 < first_day ? d0 : first_day;
                last_day = dl > last_day ? dl : last_day;
        }
        snprintf(path, sizeof path, "%s/equity.csv", out_dir);
        csv = fopen(path, "w");
        if (!csv) {
                snprintf(errstr, errsz, "%s: %s", path, strerror(errno));
                goto out;
        }
        fprintf(csv, "date,equity,cash,positions_value,return\n");
        for (int32_t day = first_day; day <= last_day; day++) {
                int traded = 0;
                for (; ti < nt &&
                       strtoll(PQgetvalue(r, ti, 0), NULL, 10) / MS_PER_DAY <= day;
                     ti++) {
                        if (walk_trade(w, r, ti) != 0)
                                goto oom;
                        traded = 1;
                }
                if (!traded && !any_bar(w->tickers, w->bars, day))
                        continue; /* no market that day */
                if (walk_close_day(w, day, csv) != 0)
                        goto oom;
        }
        rc = fclose(csv) == 0 ? 0 : -1;
        csv = NULL;
        if (rc != 0)
                snprintf(errstr, errsz, "%s: write error", path);
        if (rc == 0 && w->cv.n == 0) { /* nothing traded, no bar */
                if (curve_grow(&w->cv) != 0)
                        goto oom;
                w->cv.days[0] = first_day;
                w->cv.eq[0] = w->capital;
                w->cv.n = 1;
                w->sum_eq = w->capital;
        }
        goto out;
oom:
        snprintf(errstr, errsz, "out of memory");
        rc = -1;
out:
        PQclear(r);
        if (csv)
                fclose(csv);
        return rc;
}

/* The summary's figures from the walk. @returns 0, or -1 with errstr. */
static int curve_figures(const walk_t *w, double risk_free, char *errstr, size_t errsz)
{
        const curve_t *cv = &w->cv;
        te_bt_summary_t *s = w->s;
        s->days = (long)cv->n;
        s->portfolios = (long)cv->n_pf;
        s->first_day = cv->days[0];
        s->last_day = cv->days[cv->n - 1];
        s->final_equity = cv->eq[cv->n - 1];
        s->total_return = s->final_equity / w->capital - 1;
        s->turnover = w->sum_eq > 0 ? s->traded_value / (w->sum_eq / (double)cv->n) : 0;
        s->turnover_annual = s->turnover * TE_BT_DAYS_PER_YEAR / (double)cv->n;
        s->commission_bps =
            s->traded_value > 0 ? s->commissions / s->traded_value * 10000.0 : 0;
        s->slippage_bps = w->slip_den > 0 ? w->slip_num / w->slip_den * 10000.0 : 0;
        if (te_bt_metrics(cv->days, cv->eq, cv->n, w->capital, risk_free, &s->m) != 0) {
                snprintf(errstr, errsz, "report: equity curve not finite");
                return -1;
        }
        return 0;
}

/* The charts, the tear sheet and report.txt of a walked run. @returns 0, or -1 with
 * errstr. */
static int write_outputs(const walk_t *w, const te_bt_params_t *prm, const char *out_dir,
                         char *errstr, size_t errsz)
{
        const te_bt_summary_t *s = w->s;
        size_t max_months = (size_t)(s->last_day - s->first_day) / 28 + 2;
        te_bt_month_t *months = calloc(max_months, sizeof *months);
        te_buf_t eq_png, pf_png;
        char path[1200], pf_note[200] = "";
        FILE *txt = NULL;
        int rc = -1;
        te_buf_init(&eq_png, 64u << 20);
        te_buf_init(&pf_png, 64u << 20);
        if (!months) {
                snprintf(errstr, errsz, "out of memory");
                goto out;
        }
        size_t n_months =
            te_bt_monthly(w->cv.days, w->cv.eq, w->cv.n, w->capital, months, max_months);
        if (charts(&w->cv, prm, out_dir, &eq_png, &pf_png, pf_note, sizeof pf_note,
                   errstr, errsz) != 0)
                goto out;
        te_bt_sheet_t sheet = {.params = prm,
                               .s = s,
                               .months = months,
                               .n_months = n_months,
                               .equity_png = eq_png.data,
                               .equity_png_len = eq_png.len,
                               .pf_png = pf_png.data,
                               .pf_png_len = pf_png.len,
                               .pf_note = pf_note};
        snprintf(path, sizeof path, "%s/tearsheet.html", out_dir);
        if (te_bt_tearsheet_write(&sheet, path, errstr, errsz) != 0)
                goto out;
        snprintf(path, sizeof path, "%s/report.txt", out_dir);
        txt = fopen(path, "w");
        if (!txt) {
                snprintf(errstr, errsz, "%s: %s", path, strerror(errno));
                goto out;
        }
        te_bt_summary_print(s, prm->run_id, txt);
        rc = fclose(txt) == 0 ? 0 : -1;
        if (rc != 0)
                snprintf(errstr, errsz, "%s: write error", path);
out:
        free(months);
        te_buf_free(&eq_png);
        te_buf_free(&pf_png);
        return rc;
}

int te_bt_report(PGconn *db, te_bars_t *bars, const te_bt_params_t *prm,
                 int32_t first_day, int32_t last_day, const char *out_dir,
                 te_bt_summary_t *s, char *errstr, size_t errsz)
{
        walk_t w;
        int rc = -1;
        memset(&w, 0, sizeof w);
        memset(s, 0, sizeof *s);
        w.by_id = te_map_new_borrowed();
        w.tickers = te_map_new();
        w.bars = bars;
        w.s = s;
        w.capital = prm->capital;
        s->capital = prm->capital;
        s->first_day = s->last_day = -1;
        if (!w.by_id || !w.tickers)
                snprintf(errstr, errsz, "out of memory");
        else if (!(w.capital > 0))
                snprintf(errstr, errsz, "report: capital must be > 0");
        else if (order_figures(db, s, errstr, errsz) == 0 &&
                 walk(&w, db, first_day, last_day, out_dir, errstr, errsz) == 0 &&
                 curve_figures(&w, prm->risk_free, errstr, errsz) == 0 &&
                 write_outputs(&w, prm, out_dir, errstr, errsz) == 0)
                rc = 0;
        free(w.cv.days);
        free(w.cv.eq);
        for (size_t k = 0; k < w.cv.n_pf; k++)
                pf_free(w.cv.pf[k]);
        free(w.cv.pf);
        te_chart_release();
        te_map_destroy(w.by_id, NULL);
        te_map_destroy(w.tickers, NULL);
        return rc;
}

/* "key: v unit" with `decimals` places, or "key: n/a" when v is NaN */
static void print_fig(FILE *fp, const char *key, double v, int decimals, const char *unit)
{
        if (isnan(v))
                fprintf(fp, "%s: n/a\n", key);
        else
                fprintf(fp, "%s: %.*f%s\n", key, decimals, v, unit);
}

void te_bt_summary_print(const te_bt_summary_t *s, const char *run_id, FILE *fp)
{
        if (run_id)
                fprintf(fp, "run: %s\n", run_id);
        fprintf(fp, "capital: %.2f\n", s->capital);
        fprintf(fp, "final equity: %.2f\n", s->final_equity);
        fprintf(fp, "total return: %.4f%%\n", s->total_return * 100);
        fprintf(fp, "traded value: %.2f\n", s->traded_value);
        fprintf(fp, "turnover: %.4f (x mean equity over the run; %.2f per year)\n",
                s->turnover, s->turnover_annual);
        fprintf(fp, "commissions: %.4f (%.3f bps of traded value)\n", s->commissions,
                s->commission_bps);
        fprintf(fp, "slippage vs arrival: %.3f bps\n", s->slippage_bps);
        fprintf(fp, "fill ratio: %.4f\n", s->fill_ratio);
        fprintf(fp, "trades: %ld\n", s->trades);
        fprintf(fp, "orders: %ld (%s)\n", s->orders, s->states);
        fprintf(fp, "days: %ld\n", s->days);
        print_fig(fp, "cagr", s->m.cagr * 100, 4, "%");
        print_fig(fp, "annualized volatility", s->m.vol * 100, 4, "%");
        print_fig(fp, "sharpe", s->m.sharpe, 4, "");
        print_fig(fp, "sortino", s->m.sortino, 4, "");
        char peak[16] = "start", trough[16] = "-", rec[16] = "not recovered";
        if (s->m.dd_peak_day >= 0)
                te_bt_day_str(s->m.dd_peak_day, peak, sizeof peak);
        if (s->m.dd_trough_day >= 0)
                te_bt_day_str(s->m.dd_trough_day, trough, sizeof trough);
        if (s->m.dd_recovery_day >= 0)
                te_bt_day_str(s->m.dd_recovery_day, rec, sizeof rec);
        fprintf(fp, "max drawdown: %.4f%% (peak %s, trough %s, recovered %s)\n",
                s->m.max_dd * 100, peak, trough, rec);
        fprintf(fp, "trades md5: %s\n", s->trades_md5);
}
