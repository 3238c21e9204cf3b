/*
 * bars: daily OHLCV bars in memory, by ticker, sorted by date, for the simulator.
 *
 * CSV format (the one exec-gen-sample writes and exec-dbtool load-bars reads):
 *   lines starting with '#' are comments; a header line "date,ticker,open,high,low,
 *   close,volume"; then one bar per line, date as YYYY-MM-DD. Every row is validated
 *   (7 fields, a real date, finite prices > 0, low <= open,close <= high, volume >= 0);
 *   a bad row is an error naming file:line.
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
te_bars_t *te_bars_load_csv(const char *path, char *errstr, size_t errstr_size);
/** An empty set, to add bars to (tests, the DB loader). NULL on OOM. */
te_bars_t *te_bars_new(void);
/** Add one bar (bars of a ticker may come in any order; they are sorted on first
 *  lookup). @returns 0, or -1 with errstr for an invalid bar. */
int te_bars_add(te_bars_t *b, const char *ticker, const te_bar_t *bar, char *errstr,
                size_t errstr_size);
void te_bars_destroy(te_bars_t *b); /* accepts NULL */

/** The latest bar of `ticker` on or before `day`. @returns NULL if none. */
const te_bar_t *te_bars_at_or_before(te_bars_t *b, const char *ticker, int32_t day);
/** Number of tickers and bars loaded. */
size_t te_bars_ticker_count(const te_bars_t *b);
size_t te_bars_count(const te_bars_t *b);

/** Parse YYYY-MM-DD into days since the epoch. @returns 0 or -1 (not a real date). */
int te_bars_parse_date(const char *s, int32_t *day);
/** Days since the epoch of a UTC millisecond timestamp (floor). */
int32_t te_bars_day_of_ms(int64_t ms);

#endif
