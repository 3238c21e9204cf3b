/*
 * backtest_report: metrics, equity curve CSV and PNG of a run (see backtest_report.h).
 */
#include "backtest_report.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "png_plot.h"
#include "te_buf.h"
#include "te_map.h"

#define MS_PER_DAY INT64_C(86400000)

void te_bt_day_str(int32_t day, char *out, size_t outsz)
{
        /* civil from days (proleptic Gregorian) */
        int64_t z = (int64_t)day + 719468;
        int64_t era = (z >= 0 ? z : z - 146096) / 146097;
        int64_t doe = z - era * 146097;
        int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
        int64_t y = yoe + era * 400;
        int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        int64_t mp = (5 * doy + 2) / 153;
        int64_t d = doy - (153 * mp + 2) / 5 + 1;
        int64_t m = mp < 10 ? mp + 3 : mp - 9;
        snprintf(out, outsz, "%04d-%02d-%02d", (int)(y + (m <= 2)), (int)m, (int)d);
}

static PGresult *query(PGconn *db, const char *sql, char *errstr, size_t errstr_size)
{
        PGresult *r = PQexec(db, sql);
        if (PQresultStatus(r) != PGRES_TUPLES_OK) {
                snprintf(errstr, errstr_size, "report query: %s",
                         PQresultErrorMessage(r));
                PQclear(r);
                return NULL;
        }
        return r;
}

static double num(PGresult *r, int row, int col)
{
        return PQgetisnull(r, row, col) ? 0 : strtod(PQgetvalue(r, row, col), NULL);
}

typedef struct pos_s {
        double qty;
} pos_t;

static double mark(te_map_t *pos, te_bars_t *bars, int32_t day)
{
        size_t it = 0;
        const char *tk;
        void *v;
        double sum = 0;
        while (te_map_next(pos, &it, &tk, &v)) {
                pos_t *p = v;
                if (p->qty == 0)
                        continue;
                const te_bar_t *b = te_bars_at_or_before(bars, tk, day);
                if (b)
                        sum += p->qty * b->close;
        }
        return sum;
}

static int any_bar(te_map_t *pos, te_bars_t *bars, int32_t day)
{
        size_t it = 0;
        const char *tk;
        void *v;
        const te_bar_t *f;
        while (te_map_next(pos, &it, &tk, &v))
                if (te_bars_range(bars, tk, day - 1, day, &f) > 0)
                        return 1;
        return 0;
}

int te_bt_report(PGconn *db, te_bars_t *bars, double capital, int32_t first_day,
                 int32_t last_day, const char *out_dir, te_bt_summary_t *s, char *errstr,
                 size_t errstr_size)
{
        PGresult *r = NULL;
        te_map_t *pos = te_map_new();
        double *eq = NULL;
        size_t n_eq = 0, cap_eq = 0;
        FILE *csv = NULL, *txt = NULL;
        char path[1200];
        int rc = -1;
        memset(s, 0, sizeof *s);
        s->capital = capital;
        if (!pos) {
                snprintf(errstr, errstr_size, "out of memory");
                goto out;
        }
        /* orders by final state */
        if (!(r = query(
                  db,
                  "SELECT status, count(*) FROM orders GROUP BY status ORDER BY status",
                  errstr, errstr_size)))
                goto out;
        for (int i = 0; i < PQntuples(r); i++) {
                size_t l = strlen(s->states);
                snprintf(s->states + l, sizeof s->states - l, "%s%s=%s", l ? " " : "",
                         PQgetvalue(r, i, 0), PQgetvalue(r, i, 1));
                s->orders += atol(PQgetvalue(r, i, 1));
        }
        PQclear(r);
        /* fill ratio over accepted orders */
        if (!(r = query(
                  db,
                  "SELECT coalesce(sum(o.cum_qty), 0), coalesce(sum(q.ordered), 0) "
                  "FROM orders o JOIN (SELECT order_id, max(cum_qty + leaves_qty) "
                  "AS ordered FROM order_events GROUP BY order_id) q USING (order_id) "
                  "WHERE o.status <> 'REJECTED'",
                  errstr, errstr_size)))
                goto out;
        s->fill_ratio = num(r, 0, 1) > 0 ? num(r, 0, 0) / num(r, 0, 1) : 0;
        PQclear(r);
        /* determinism hash */
        if (!(r = query(
                  db,
                  "SELECT md5(coalesce(string_agg(concat_ws('|', trade_id, "
                  "(\"timestamp\" AT TIME ZONE 'UTC')::text, ticker, direction, size, "
                  "price, order_id, decision_id, commission, mode, broker), "
                  "E'\\n' ORDER BY trade_id), '')) FROM trades",
                  errstr, errstr_size)))
                goto out;
        te_strlcpy(s->trades_md5, PQgetvalue(r, 0, 0), sizeof s->trades_md5);
        PQclear(r);
        /* trades in time order, with the order's arrival time */
        if (!(r = query(
                  db,
                  "SELECT (extract(epoch FROM t.\"timestamp\") * 1000)::bigint, "
                  "t.ticker, t.direction, t.size, t.price, t.commission, "
                  "(extract(epoch FROM coalesce(o.first_event_time, t.\"timestamp\")) "
                  "* 1000)::bigint FROM trades t LEFT JOIN orders o USING (order_id) "
                  "ORDER BY t.\"timestamp\", t.trade_id",
                  errstr, errstr_size)))
                goto out;
        int nt = PQntuples(r);
        s->trades = nt;
        double cash = capital, slip_num = 0, slip_den = 0;
        if (nt > 0) {
                int32_t d0 =
                    (int32_t)(strtoll(PQgetvalue(r, 0, 0), NULL, 10) / MS_PER_DAY);
                if (d0 < first_day)
                        first_day = d0;
                int32_t dl =
                    (int32_t)(strtoll(PQgetvalue(r, nt - 1, 0), NULL, 10) / MS_PER_DAY);
                if (dl > last_day)
                        last_day = dl;
        }
        snprintf(path, sizeof path, "%s/equity.csv", out_dir);
        csv = fopen(path, "w");
        if (!csv) {
                snprintf(errstr, errstr_size, "%s: %s", path, strerror(errno));
                goto out;
        }
        fprintf(csv, "date,equity,cash,positions_value,return\n");
        int ti = 0;
        double sum_eq = 0;
        for (int32_t day = first_day; day <= last_day; day++) {
                int traded = 0;
                for (; ti < nt; ti++) {
                        int64_t ms = strtoll(PQgetvalue(r, ti, 0), NULL, 10);
                        if (ms / MS_PER_DAY > day)
                                break;
                        const char *tk = PQgetvalue(r, ti, 1);
                        int buy = strcmp(PQgetvalue(r, ti, 2), "BUY") == 0;
                        double q = num(r, ti, 3), px = num(r, ti, 4), c = num(r, ti, 5);
                        pos_t *p = te_map_get(pos, tk);
                        if (!p) {
                                p = calloc(1, sizeof *p);
                                if (!p || te_map_put(pos, tk, p) != 0) {
                                        free(p);
                                        snprintf(errstr, errstr_size, "out of memory");
                                        goto out;
                                }
                        }
                        p->qty += buy ? q : -q;
                        cash -= (buy ? q * px : -q * px) + c;
                        s->traded_value += q * px;
                        s->commissions += c;
                        int64_t arr_ms = strtoll(PQgetvalue(r, ti, 6), NULL, 10);
                        int32_t aday = (int32_t)(arr_ms / MS_PER_DAY);
                        const te_bar_t *ab = te_bars_at_or_before(bars, tk, aday);
                        if (ab) {
                                double cost = buy ? px - ab->close : ab->close - px;
                                slip_num += cost * q;
                                slip_den += ab->close * q;
                        }
                        traded = 1;
                }
                if (!traded && !any_bar(pos, bars, day))
                        continue; /* no market that day */
                double pv = mark(pos, bars, day);
                double e = cash + pv;
                if (n_eq == cap_eq) {
                        size_t nc = cap_eq ? cap_eq * 2 : 1024;
                        double *ne = realloc(eq, nc * sizeof *ne);
                        if (!ne) {
                                snprintf(errstr, errstr_size, "out of memory");
                                goto out;
                        }
                        eq = ne;
                        cap_eq = nc;
                }
                eq[n_eq++] = e;
                sum_eq += e;
                char ds[16];
                te_bt_day_str(day, ds, sizeof ds);
                fprintf(csv, "%s,%.2f,%.2f,%.2f,%.6f\n", ds, e, cash, pv,
                        e / capital - 1);
        }
        PQclear(r);
        r = NULL;
        if (fclose(csv) != 0) {
                csv = NULL;
                snprintf(errstr, errstr_size, "%s: write error", path);
                goto out;
        }
        csv = NULL;
        s->days = (long)n_eq;
        s->final_equity = n_eq ? eq[n_eq - 1] : capital;
        s->total_return = s->final_equity / capital - 1;
        s->turnover = n_eq && sum_eq > 0 ? s->traded_value / (sum_eq / (double)n_eq) : 0;
        s->slippage_bps = slip_den > 0 ? slip_num / slip_den * 10000.0 : 0;
        snprintf(path, sizeof path, "%s/equity.png", out_dir);
        if (te_png_line_plot(path, eq, n_eq, capital, 900, 400, errstr, errstr_size) != 0)
                goto out;
        snprintf(path, sizeof path, "%s/report.txt", out_dir);
        txt = fopen(path, "w");
        if (!txt) {
                snprintf(errstr, errstr_size, "%s: %s", path, strerror(errno));
                goto out;
        }
        te_bt_summary_print(s, NULL, txt);
        if (fclose(txt) != 0) {
                txt = NULL;
                snprintf(errstr, errstr_size, "%s: write error", path);
                goto out;
        }
        txt = NULL;
        rc = 0;
out:
        PQclear(r);
        if (csv)
                fclose(csv);
        if (txt)
                fclose(txt);
        free(eq);
        te_map_destroy(pos, free);
        return rc;
}

void te_bt_summary_print(const te_bt_summary_t *s, const char *run_id, FILE *fp)
{
        if (run_id)
                fprintf(fp, "run: %s\n", run_id);
        fprintf(fp, "capital: %.2f\n", s->capital);
        fprintf(fp, "final equity: %.2f\n", s->final_equity);
        fprintf(fp, "total return: %.4f%%\n", s->total_return * 100);
        fprintf(fp, "traded value: %.2f\n", s->traded_value);
        fprintf(fp, "turnover: %.4f\n", s->turnover);
        fprintf(fp, "commissions: %.4f\n", s->commissions);
        fprintf(fp, "slippage vs arrival: %.3f bps\n", s->slippage_bps);
        fprintf(fp, "fill ratio: %.4f\n", s->fill_ratio);
        fprintf(fp, "trades: %ld\n", s->trades);
        fprintf(fp, "orders: %ld (%s)\n", s->orders, s->states);
        fprintf(fp, "days: %ld\n", s->days);
        fprintf(fp, "trades md5: %s\n", s->trades_md5);
}
