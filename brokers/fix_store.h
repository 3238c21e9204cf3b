/*
 * fix_store: the FIX adapter's durable state in the runtime DB (migration
 * 0008_fix.sql): the session's sequence numbers per SenderCompID/TargetCompID.
 * Synchronous libpq calls on the adapter's own connection; every call reports
 * failure as -1 with errstr.
 */
#ifndef TE_FIX_STORE_H
#define TE_FIX_STORE_H

#include <stddef.h>
#include <stdint.h>

typedef struct te_fix_store_s te_fix_store_t;

/** Connect (conninfo "" = PG* environment) and apply migrations. @returns NULL with
 *  errstr on failure. */
te_fix_store_t *te_fix_store_open(const char *conninfo, const char *sender,
                                  const char *target, char *errstr, size_t errstr_size);
void te_fix_store_close(te_fix_store_t *s); /* accepts NULL */

/** The saved numbers. @returns 1 found, 0 none saved yet, -1 error. */
int te_fix_store_load_seqs(te_fix_store_t *s, int64_t *next_out, int64_t *next_in,
                           char *errstr, size_t errstr_size);
/** Save the numbers (insert or update). @returns 0 or -1. */
int te_fix_store_save_seqs(te_fix_store_t *s, int64_t next_out, int64_t next_in,
                           char *errstr, size_t errstr_size);

#endif
