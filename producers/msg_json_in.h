/*
 * msg_json_in: JSON text -> message structs, for the publisher and for tests.
 *
 * One JSON object becomes one te_target_portfolio_t or te_exec_mode_t. Parsing is
 * strict: every required field must be present with the right JSON type, enum symbols
 * must be spelled as in the schema, strings must fit their C fields, numbers must be
 * finite, and unknown keys are errors (a misspelt "ref_prcie" must not silently drop a
 * price). Every error names the field and says why, e.g.
 * "targets[3].ticker: too long (31 bytes, max 23)".
 *
 * Target line:
 *   {"decision_id":"d1","portfolio_id":"p1","strategy_id":"s","profile_version_id":"v",
 *    "regime_id":"r","universe_id":"u","mode":"TRAINING","as_of":"2024-01-02",
 *    "unit":"QUANTITY","nav":1e6,"full_replace":true,
 *    "targets":[{"ticker":"AAPL","value":100,"ref_price":190.5}]}
 * nav and ref_price are optional (absent or null) and > 0 when present; everything else
 * is required. decision_id, portfolio_id and ticker must not be empty, tickers must be
 * unique within a line, target values may be negative (short).
 *
 * Mode line:
 *   {"scope":"*","level":"HALT","effective_from":1704153600000,"reason":"black swan"}
 *
 * Times (as_of, effective_from) are integer ms since the epoch, "YYYY-MM-DD" (00:00 UTC),
 * "YYYY-MM-DDTHH:MM:SSZ" or "YYYY-MM-DDTHH:MM:SS.mmmZ", between 1970 and 9999.
 */
#ifndef MSG_JSON_IN_H
#define MSG_JSON_IN_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "te_buf.h"
#include "te_msg.h"

/** Longest JSON text (one line) we parse: 16 MiB. */
#define TE_JSON_IN_MAX (16u * 1024u * 1024u)

/** Parse one TargetPortfolio object from `buf` (`len` bytes, need not be NUL-terminated).
 *  `tp` must be zero-initialised or hold a previous result: its targets array is reused
 *  (and grown) and everything else is overwritten. Free with te_target_portfolio_free().
 *  @returns 0, or -1 with errstr naming the field and why; on error `tp` still owns its
 *  targets array but its contents are unspecified. */
int te_json_in_target_portfolio(const char *buf, size_t len, te_target_portfolio_t *tp,
                                char *errstr, size_t errsz);

/** Parse one ExecutionMode object. @returns 0, or -1 with errstr (m unspecified). */
int te_json_in_exec_mode(const char *buf, size_t len, te_exec_mode_t *m, char *errstr,
                         size_t errsz);

/** Parse a time string: "YYYY-MM-DD", "YYYY-MM-DDTHH:MM:SSZ" or
 *  "YYYY-MM-DDTHH:MM:SS.mmmZ" (UTC) into ms since the epoch.
 *  @returns 0, or -1 if the text is not one of those forms, a field is out of range
 *  (month 13, 30 February, hour 24, second 60) or the year is outside 1970..9999. */
int te_json_in_parse_time(const char *s, int64_t *ms);

/** @returns 1 if the line is blank (only spaces, tabs, CR) or its first non-blank
 *  character is '#', so the publisher skips it; else 0. */
int te_json_in_line_skippable(const char *line, size_t len);

typedef enum {
        TE_LINE_OK = 0,   /* a line is in `out` (without its '\n') */
        TE_LINE_EOF,      /* no more input */
        TE_LINE_TOO_LONG, /* the line passed out->max; it was consumed and discarded */
        TE_LINE_ERROR,    /* read error (errno is set) */
} te_line_rc_t;

/** Read one '\n'-terminated line (the last may lack it) into `out` (reset first), never
 *  holding more than out->max bytes. A NUL byte in the line is kept (the JSON parser
 *  rejects it). @returns a te_line_rc_t. */
te_line_rc_t te_json_in_read_line(FILE *fp, te_buf_t *out);

#endif
