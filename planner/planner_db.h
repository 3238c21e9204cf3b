/*
 * planner_db: rebuild the planner's book from the runtime DB, and reference prices
 * from its market-data table.
 *
 * The load reads, in one REPEATABLE READ snapshot, every position, cash balance and
 * order (with its cumulative quantity and status) of the portfolios the caller owns,
 * and the offsets the sink has committed for the reports topic. Those offsets are
 * where the planner starts reading exec.reports: the DB already reflects every report
 * before them, and the book applies the rest by cumulative quantity, so nothing counts
 * twice.
 *
 * The price cache answers "latest close at or before as_of" from prices_daily: one
 * query loads every ticker's close for a day the first time that day is asked for.
 * A price lookup whose query failed (PostgreSQL unreachable) is not "no price": the
 * cache records the failure and the planner retries the target later (planner_target.c).
 */
#ifndef TE_PLANNER_DB_H
#define TE_PLANNER_DB_H

#include <libpq-fe.h>
#include <stddef.h>
#include <stdint.h>

#include "book.h"

/** Load positions, cash and orders of the portfolios for which `owned` returns 1
 *  (owned NULL: all) into `book` and, for partitions 0..n_parts-1 of `reports_topic`,
 *  the sink group's next offsets into offsets[] (-1 where the DB has none).
 *  @returns 0, or -1 with errstr. */
int te_planner_db_load(PGconn *conn, const char *sink_group, const char *reports_topic,
                       int (*owned)(void *opaque, const char *portfolio_id), void *opaque,
                       te_book_t *book, int64_t *offsets, size_t n_parts, char *errstr,
                       size_t errsz);

/** Load the planner's own state (0002_planner.sql) of `group`: the last planned
 *  as_of of every owned portfolio into `book` (te_book_learn_as_of), and the end of its
 *  writes to partitions 0..n_parts-1 of `orders_topic` into orders_offsets[] (-1 where
 *  none). @returns 0, or -1 with errstr. */
int te_planner_db_state_load(PGconn *conn, const char *group, const char *orders_topic,
                             int (*owned)(void *opaque, const char *portfolio_id),
                             void *opaque, te_book_t *book, int64_t *orders_offsets,
                             size_t n_parts, char *errstr, size_t errsz);

/** Save, in one transaction, the last planned as_of of `n_pf` portfolios and the end of
 *  the planner's writes to `n_off` orders partitions. @returns 0, or -1 with errstr. */
int te_planner_db_state_save(PGconn *conn, const char *group, const char *orders_topic,
                             const char *const *portfolio_ids, const int64_t *as_ofs,
                             size_t n_pf, const int32_t *parts, const int64_t *offsets,
                             size_t n_off, char *errstr, size_t errsz);

/** The last date of the market data the planner reads (max(date) of prices_daily), as
 *  the ms at the end of that UTC day (the start of the next one) in *end_ms.
 *  @returns 1 (rows), 0 (the table is empty), or -1 with errstr (the query failed). */
int te_planner_db_bars_end(PGconn *conn, int64_t *end_ms, char *errstr, size_t errsz);

/** Record a dead-lettered target in planner_dead_letters (0010): its ids, as_of, the
 *  dead-letter code and its source message; the same source again is a no-op.
 *  @returns 0, or -1 with errstr. */
int te_planner_db_dead_letter(PGconn *conn, const char *topic, int32_t partition,
                              int64_t offset, const char *portfolio_id,
                              const char *decision_id, int64_t as_of, const char *code,
                              char *errstr, size_t errsz);

typedef struct te_planner_db_prices_s te_planner_db_prices_t;

/** @returns a cache over `conn` (not owned), or NULL on OOM. */
te_planner_db_prices_t *te_planner_db_prices_new(PGconn *conn);
void te_planner_db_prices_destroy(te_planner_db_prices_t *pc); /* accepts NULL */
/** Latest close of `ticker` at or before the UTC day of as_of_ms.
 *  @returns 1 and *px, or 0 if none. 0 also when the DB read failed: the failure is
 *  recorded (te_planner_db_prices_failure), and the caller must not take that 0 as "no
 *  price". */
int te_planner_db_prices_get(void *pc, const char *ticker, int64_t as_of_ms, double *px);
/** @returns 1 if prices_daily has any row for `ticker`, or if the table is empty
 *  (no market data: every ticker is accepted); else 0. The ticker list is read once
 *  and again on a miss at most every 60 s. A failed read answers 1 and is recorded
 *  (te_planner_db_prices_failure). */
int te_planner_db_prices_known(void *pc, const char *ticker);
/** Whether a DB read of the cache failed since the last call (the answers given
 *  meanwhile mean "unknown now", not "none"); clears it. With a failure and errstr,
 *  the first failure's message goes there. @returns 1 (failed) or 0. */
int te_planner_db_prices_failure(te_planner_db_prices_t *pc, char *errstr, size_t errsz);

#endif
