/*
 * bars: CSV loading with row validation, and at-or-before lookup by binary search.
 */
#include "bars.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "te_buf.h"
#include "te_log.h"
#include "te_pg.h"
#include "te_map.h"
#include "te_msg.h"

typedef struct series_s {
        te_bar_t *bars;
        size_t n, cap;
        int sorted;
} series_t;

struct te_bars_s {
        te_map_t *by_ticker; /* ticker -> series_t */
        size_t count;
};

static void series_free(void *p)
{
        series_t *s = p;
        if (!s)
                return;
        free(s->bars);
        free(s);
}

te_bars_t *te_bars_new(void)
{
        te_bars_t *b = calloc(1, sizeof *b);
        if (!b)
                return NULL;
        b->by_ticker = te_map_new();
        if (!b->by_ticker) {
                free(b);
                return NULL;
        }
        return b;
}

void te_bars_destroy(te_bars_t *b)
{
        if (!b)
                return;
        te_map_destroy(b->by_ticker, series_free);
        free(b);
}

/* days from civil date (proleptic Gregorian), valid for years 1..9999 */
static int32_t days_from_civil(int y, int m, int d)
{
        y -= m <= 2;
        int era = (y >= 0 ? y : y - 399) / 400;
        int yoe = y - era * 400;
        int doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
        int doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        return era * 146097 + doe - 719468;
}

int te_bars_parse_date(const char *s, int32_t *day)
{
        static const int mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
        int y, m, d;
        if (strlen(s) != 10 || s[4] != '-' || s[7] != '-')
                return -1;
        for (int i = 0; i < 10; i++)
                if (i != 4 && i != 7 && (s[i] < '0' || s[i] > '9'))
                        return -1;
        y = (s[0] - '0') * 1000 + (s[1] - '0') * 100 + (s[2] - '0') * 10 + (s[3] - '0');
        m = (s[5] - '0') * 10 + (s[6] - '0');
        d = (s[8] - '0') * 10 + (s[9] - '0');
        if (y < 1900 || m < 1 || m > 12 || d < 1)
                return -1;
        int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
        if (d > mdays[m - 1] + (m == 2 && leap))
                return -1;
        *day = days_from_civil(y, m, d);
        return 0;
}

int32_t te_bars_day_of_ms(int64_t ms)
{
        int64_t d = ms / 86400000;
        if (ms % 86400000 < 0)
                d--;
        return (int32_t)d;
}

int te_bars_add(te_bars_t *b, const char *ticker, const te_bar_t *bar, char *errstr,
                size_t errsz)
{
        if (ticker[0] == '\0' || strlen(ticker) >= TE_TICKER_MAX) {
                snprintf(errstr, errsz, "bad ticker");
                return -1;
        }
        if (!isfinite(bar->open) || !isfinite(bar->high) || !isfinite(bar->low) ||
            !isfinite(bar->close) || !isfinite(bar->volume) || bar->open <= 0 ||
            bar->high <= 0 || bar->low <= 0 || bar->close <= 0 || bar->volume < 0) {
                snprintf(errstr, errsz, "prices must be finite and > 0, volume >= 0");
                return -1;
        }
        if (bar->low > bar->open || bar->low > bar->close || bar->high < bar->open ||
            bar->high < bar->close) {
                snprintf(errstr, errsz, "need low <= open,close <= high");
                return -1;
        }
        series_t *s = te_map_get(b->by_ticker, ticker);
        if (!s) {
                s = calloc(1, sizeof *s);
                if (!s || te_map_put(b->by_ticker, ticker, s) != 0) {
                        free(s);
                        snprintf(errstr, errsz, "out of memory");
                        return -1;
                }
                s->sorted = 1;
        }
        if (te_grow((void **)&s->bars, &s->cap, s->n + 1, sizeof *s->bars, 256) != 0) {
                snprintf(errstr, errsz, "out of memory");
                return -1;
        }
        if (s->n > 0 && s->bars[s->n - 1].day >= bar->day)
                s->sorted = 0;
        s->bars[s->n++] = *bar;
        b->count++;
        return 0;
}

static int parse_num(const char *f, double *out)
{
        char *end;
        errno = 0;
        double v = strtod(f, &end);
        if (end == f || *end != '\0' || errno == ERANGE)
                return -1;
        *out = v;
        return 0;
}

te_bars_t *te_bars_load_csv(const char *path, char *errstr, size_t errsz)
{
        FILE *fp = fopen(path, "r");
        te_bars_t *b = NULL;
        char line[512];
        size_t lineno = 0;
        int seen_header = 0;
        if (!fp) {
                snprintf(errstr, errsz, "%s: %s", path, strerror(errno));
                return NULL;
        }
        b = te_bars_new();
        if (!b) {
                snprintf(errstr, errsz, "%s: out of memory", path);
                goto err;
        }
        while (fgets(line, sizeof line, fp)) {
                lineno++;
                size_t len = strlen(line);
                if (len == sizeof line - 1 && line[len - 1] != '\n') {
                        snprintf(errstr, errsz, "%s:%zu: line too long", path, lineno);
                        goto err;
                }
                while (len && (line[len - 1] == '\n' || line[len - 1] == '\r'))
                        line[--len] = '\0';
                if (len == 0 || line[0] == '#')
                        continue;
                if (!seen_header) {
                        seen_header = 1;
                        if (strcmp(line, "date,ticker,open,high,low,close,volume") != 0) {
                                snprintf(errstr, errsz,
                                         "%s:%zu: expected header "
                                         "date,ticker,open,high,low,close,volume",
                                         path, lineno);
                                goto err;
                        }
                        continue;
                }
                char *fields[8];
                int nf = 0;
                char *p = line;
                for (;;) {
                        if (nf == 8)
                                break;
                        fields[nf++] = p;
                        char *c = strchr(p, ',');
                        if (!c)
                                break;
                        *c = '\0';
                        p = c + 1;
                }
                if (nf != 7) {
                        snprintf(errstr, errsz, "%s:%zu: expected 7 fields", path,
                                 lineno);
                        goto err;
                }
                te_bar_t bar;
                char why[128];
                if (te_bars_parse_date(fields[0], &bar.day) != 0) {
                        snprintf(errstr, errsz, "%s:%zu: bad date '%.16s'", path, lineno,
                                 fields[0]);
                        goto err;
                }
                if (parse_num(fields[2], &bar.open) || parse_num(fields[3], &bar.high) ||
                    parse_num(fields[4], &bar.low) || parse_num(fields[5], &bar.close) ||
                    parse_num(fields[6], &bar.volume)) {
                        snprintf(errstr, errsz, "%s:%zu: bad number", path, lineno);
                        goto err;
                }
                if (te_bars_add(b, fields[1], &bar, why, sizeof why) != 0) {
                        snprintf(errstr, errsz, "%s:%zu: %s", path, lineno, why);
                        goto err;
                }
        }
        if (ferror(fp)) {
                snprintf(errstr, errsz, "%s: read error", path);
                goto err;
        }
        fclose(fp);
        return b;
err:
        fclose(fp);
        te_bars_destroy(b);
        return NULL;
}

static int cmp_bar(const void *a, const void *b)
{
        int32_t x = ((const te_bar_t *)a)->day, y = ((const te_bar_t *)b)->day;
        return (x > y) - (x < y);
}

static series_t *sorted_series(te_bars_t *b, const char *ticker)
{
        series_t *s = te_map_get(b->by_ticker, ticker);
        if (!s || s->n == 0)
                return NULL;
        if (!s->sorted) {
                qsort(s->bars, s->n, sizeof *s->bars, cmp_bar);
                s->sorted = 1;
        }
        return s;
}

/* first index with bar day > `day` */
static size_t upper_bound(const series_t *s, int32_t day)
{
        size_t lo = 0, hi = s->n;
        while (lo < hi) {
                size_t mid = lo + (hi - lo) / 2;
                if (s->bars[mid].day <= day)
                        lo = mid + 1;
                else
                        hi = mid;
        }
        return lo;
}

const te_bar_t *te_bars_at_or_before(te_bars_t *b, const char *ticker, int32_t day)
{
        series_t *s = sorted_series(b, ticker);
        if (!s)
                return NULL;
        size_t lo = upper_bound(s, day);
        return lo == 0 ? NULL : &s->bars[lo - 1];
}

size_t te_bars_range(te_bars_t *b, const char *ticker, int32_t after, int32_t upto,
                     const te_bar_t **first)
{
        *first = NULL;
        series_t *s = sorted_series(b, ticker);
        if (!s || upto <= after)
                return 0;
        size_t lo = upper_bound(s, after), hi = upper_bound(s, upto);
        if (hi <= lo)
                return 0;
        *first = &s->bars[lo];
        return hi - lo;
}

int te_bars_has(te_bars_t *b, const char *ticker)
{
        return sorted_series(b, ticker) != NULL;
}

size_t te_bars_check_splits(te_bars_t *b, double split_ratio,
                            void (*cb)(void *ctx, const char *ticker, int32_t day,
                                       double ratio),
                            void *ctx)
{
        size_t pos = 0, n = 0;
        const char *ticker;
        void *v;
        while (te_map_next(b->by_ticker, &pos, &ticker, &v)) {
                series_t *s = sorted_series(b, ticker);
                for (size_t i = 1; s && i < s->n; i++) {
                        double r = s->bars[i].open / s->bars[i - 1].close;
                        if (r > split_ratio || r < 1.0 / split_ratio) {
                                n++;
                                if (cb)
                                        cb(ctx, ticker, s->bars[i].day, r);
                        }
                }
        }
        return n;
}

te_bars_t *te_bars_load_pg(void *pgconn, const char *from, const char *to, char *errstr,
                           size_t errsz)
{
        PGconn *conn = pgconn;
        const char *params[2] = {from && from[0] ? from : NULL, to && to[0] ? to : NULL};
        te_bars_t *b = te_bars_new();
        PGresult *res = NULL;
        if (!b) {
                snprintf(errstr, errsz, "out of memory");
                return NULL;
        }
        if (!PQsendQueryParams(conn,
                               "SELECT ticker, to_char(date, 'YYYY-MM-DD'), open, high, "
                               "low, close, volume FROM prices_daily "
                               "WHERE ($1::date IS NULL OR date >= $1::date) "
                               "AND ($2::date IS NULL OR date <= $2::date)",
                               2, NULL, params, NULL, NULL, 0) ||
            !PQsetSingleRowMode(conn)) {
                snprintf(errstr, errsz, "prices_daily: %s", PQerrorMessage(conn));
                goto err;
        }
        int failed = 0;
        while ((res = PQgetResult(conn)) != NULL) {
                ExecStatusType st = PQresultStatus(res);
                if (st == PGRES_SINGLE_TUPLE && !failed) {
                        te_bar_t bar;
                        char why[128];
                        const char *tk = PQgetvalue(res, 0, 0);
                        if (te_bars_parse_date(PQgetvalue(res, 0, 1), &bar.day) != 0 ||
                            parse_num(PQgetvalue(res, 0, 2), &bar.open) ||
                            parse_num(PQgetvalue(res, 0, 3), &bar.high) ||
                            parse_num(PQgetvalue(res, 0, 4), &bar.low) ||
                            parse_num(PQgetvalue(res, 0, 5), &bar.close) ||
                            parse_num(PQgetvalue(res, 0, 6), &bar.volume)) {
                                snprintf(errstr, errsz,
                                         "prices_daily %.24s %.10s: bad value", tk,
                                         PQgetvalue(res, 0, 1));
                                failed = 1;
                        } else if (te_bars_add(b, tk, &bar, why, sizeof why) != 0) {
                                snprintf(errstr, errsz, "prices_daily %.24s %.10s: %s",
                                         tk, PQgetvalue(res, 0, 1), why);
                                failed = 1;
                        }
                } else if (st != PGRES_SINGLE_TUPLE && st != PGRES_TUPLES_OK && !failed) {
                        snprintf(errstr, errsz, "prices_daily: %s",
                                 PQresultErrorMessage(res));
                        failed = 1;
                }
                PQclear(res);
        }
        if (failed)
                goto err;
        return b;
err:
        te_bars_destroy(b);
        return NULL;
}

size_t te_bars_ticker_count(const te_bars_t *b)
{
        return te_map_count(b->by_ticker);
}

size_t te_bars_count(const te_bars_t *b)
{
        return b->count;
}

static void warn_split(void *ctx, const char *ticker, int32_t day, double ratio)
{
        (void)ctx;
        TE_LOG(TE_LOG_WARN, NULL, "bars.split_suspect",
               "%s day %d: open/previous close = %.4f; are the bars split-adjusted?",
               ticker, (int)day, ratio);
}

te_bars_t *te_bars_open(const char *csv_path, const char *conninfo, const char *from,
                        const char *to, char *errstr, size_t errsz)
{
        te_bars_t *b = NULL;
        if (csv_path && csv_path[0]) {
                b = te_bars_load_csv(csv_path, errstr, errsz);
        } else {
                PGconn *conn = te_pg_connect(conninfo, errstr, errsz);
                if (!conn)
                        return NULL;
                b = te_bars_load_pg(conn, from, to, errstr, errsz);
                PQfinish(conn);
        }
        if (b)
                te_bars_check_splits(b, 1.8, warn_split, NULL);
        return b;
}
