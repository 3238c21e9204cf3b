/*
 * sink_dec: exact sums of decimal strings, as PostgreSQL's numeric type adds them.
 *
 * The sink sums an order's commissions of a batch in memory and writes the sum as text.
 * A numeric sum is exact and its display scale is the largest scale of its terms
 * ('0.5' + '1.25' = '1.75', '1.5' + '1' = '2.5', '1e-05' has scale 5); so is this one,
 * for values of at most 18 significant digits and scales up to 18. Anything else
 * (NaN, Infinity, more digits, bad text) is refused and the caller lets the database
 * do the arithmetic.
 */
#ifndef TE_SINK_DEC_H
#define TE_SINK_DEC_H

#include <stddef.h>
#include <stdint.h>

typedef struct sink_dec_s {
        int64_t m; /* value = m / 10^scale */
        int scale; /* numeric's display scale */
} sink_dec_t;

/** Parse numeric input text ("-12.50", "1e-05", "3E+2"). @returns 0 or -1 (refused). */
int sink_dec_parse(const char *s, sink_dec_t *out);
/** acc += v, exactly. @returns 0, or -1 on overflow (acc unchanged). */
int sink_dec_add(sink_dec_t *acc, const sink_dec_t *v);
/** Write as numeric's output text (plain digits, `scale` fraction digits).
 *  @returns the length, or -1 if dst is too small. */
int sink_dec_fmt(const sink_dec_t *d, char *dst, size_t dstsz);

#endif
