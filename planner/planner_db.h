/*
 * planner_db: rebuild the planner's book from the runtime DB.
 *
 * Reads, in one REPEATABLE READ snapshot, every position, every order (with its
 * cumulative quantity and status) and the offsets the sink has committed for the
 * reports topic. Those offsets are where the planner starts reading exec.reports: the
 * DB already reflects every report before them, and the book applies the rest by
 * cumulative quantity, so nothing counts twice.
 */
#ifndef TE_PLANNER_DB_H
#define TE_PLANNER_DB_H

#include <libpq-fe.h>
#include <stddef.h>
#include <stdint.h>

#include "book.h"

/** Load positions and orders into `book` and, for partitions 0..n_parts-1 of
 *  `reports_topic`, the sink group's next offsets into offsets[] (-1 where the DB has
 *  none). @returns 0, or -1 with errstr. */
int te_planner_db_load(PGconn *conn, const char *sink_group, const char *reports_topic,
                       te_book_t *book, int64_t *offsets, size_t n_parts, char *errstr,
                       size_t errstr_size);

#endif
