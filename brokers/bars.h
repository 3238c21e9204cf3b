/*
 * bars: daily OHLCV bars in memory, by ticker, sorted by date, for the simulator.
 *
 * CSV format (the one exec-gen-sample writes and exec-dbtool load-bars reads):
 *   lines starting with '#' are comments; a header line "date,ticker,open,high,low,
 *   close,volume"; then one bar per line, date as YYYY-MM-DD. Every row is validated
 *   (7 fields, a real date, finite prices > 0, low <= open,close <= high, volume >= 0);
 *   a bad row is an error naming file:line.
 *
 * The same bars can come from PostgreSQL's prices_daily (te_bars_load_pg).
 *
 * What the data may lack, and what the simulator then does (documented behaviour):
 *   - a missing bar (no row for a ticker on a day: holiday, halt, delisting) is a day
 *     on which that ticker does not trade: resting orders wait, a DAY order whose
 *     session bar is missing expires unfilled;
 *   - a bar with volume 0 is a halted day: it fills nothing (and a new order whose
 *     reference bar has no volume is rejected as halted);
 *   - a reference bar more than the simulator's max_stale_days old counts as missing
 *     (no market data: the order is rejected);
 *   - splits: prices and volumes must be split-adjusted (back-adjusted) before loading;
 *     te_bars_check_splits flags overnight jumps that look like an unadjusted split so
 *     the loader and the broker can warn. Resting orders are not adjusted.
 */
#ifndef TE_BARS_H
#define TE_BARS_H

#include <stddef.h>
#include <stdint.h>

typedef struct te_bar_s {
        int32_t day; /* days since 1970-01-01 (UTC) */
        double open, high, low, close, volume;
} te_bar_t;

typedef struct te_bars_s te_bars_t;

/** Load a CSV file. @returns the bars, or NULL with errstr "path:line: why". */
te_bars_t *te_bars_load_csv(const char *path, char *errstr, size_t errsz);
/** An empty set, to add bars to (tests, the DB loader). NULL on OOM. */
te_bars_t *te_bars_new(void);
/** Add one bar (bars of a ticker may come in any order; they are sorted on first
 *  lookup). @returns 0, or -1 with errstr for an invalid bar. */
int te_bars_add(te_bars_t *b, const char *ticker, const te_bar_t *bar, char *errstr,
                size_t errsz);
void te_bars_destroy(te_bars_t *b); /* accepts NULL */

/** The latest bar of `ticker` on or before `day`. @returns NULL if none. */
const te_bar_t *te_bars_at_or_before(te_bars_t *b, const char *ticker, int32_t day);
/** The bars of `ticker` with after < day <= upto, in date order: sets *first and
 *  returns how many (0 and *first = NULL when none). The pointer stays valid until
 *  the next te_bars_add. */
size_t te_bars_range(te_bars_t *b, const char *ticker, int32_t after, int32_t upto,
                     const te_bar_t **first);
/** @returns 1 if `ticker` has any bar. */
int te_bars_has(te_bars_t *b, const char *ticker);

/** Load bars from the prices_daily table (ticker, date, open, high, low, close, volume)
 *  through an open libpq connection (a PGconn *, void * here so that users of bars.h
 *  need not include libpq), optionally for dates from..to (inclusive, YYYY-MM-DD;
 *  NULL or "" for no bound). Rows are streamed in single-row mode.
 *  @returns the bars, or NULL with errstr. */
te_bars_t *te_bars_load_pg(void *pgconn, const char *from, const char *to, char *errstr,
                           size_t errsz);

/** Open the simulator's bars: the CSV at `csv_path` when it is non-NULL and non-empty,
 *  else prices_daily through `conninfo` (libpq; "" = PG* environment) for from..to.
 *  Logs a warning per suspected unadjusted split (ratio 1.8).
 *  @returns the bars, or NULL with errstr. */
te_bars_t *te_bars_open(const char *csv_path, const char *conninfo, const char *from,
                        const char *to, char *errstr, size_t errsz);

/** Count overnight moves that look like an unadjusted split (close-to-next-open ratio
 *  outside [1/split_ratio, split_ratio], e.g. 1.8): such data must be split-adjusted
 *  before a backtest. Calls `cb` (may be NULL) for each. @returns the count. */
size_t te_bars_check_splits(te_bars_t *b, double split_ratio,
                            void (*cb)(void *ctx, const char *ticker, int32_t day,
                                       double ratio),
                            void *ctx);

/** Number of tickers and bars loaded. */
size_t te_bars_ticker_count(const te_bars_t *b);
size_t te_bars_count(const te_bars_t *b);

/** Parse YYYY-MM-DD into days since the epoch. @returns 0 or -1 (not a real date). */
int te_bars_parse_date(const char *s, int32_t *day);
/** Days since the epoch of a UTC millisecond timestamp (floor). */
int32_t te_bars_day_of_ms(int64_t ms);

#endif
