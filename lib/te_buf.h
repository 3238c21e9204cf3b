/*
 * te_buf: a growable byte buffer with a hard upper bound.
 *
 * Every buffer that holds bytes from the wire or bytes we are about to put
 * on the wire is a te_buf_t. Growth past `max` fails instead of allocating.
 */
#ifndef TE_BUF_H
#define TE_BUF_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

typedef struct te_buf_s {
        uint8_t *data; /* owned; NULL until the first append */
        size_t len;
        size_t cap;
        size_t max; /* hard bound on len */
} te_buf_t;

/** Initialise an empty buffer that may grow up to `max` bytes. */
void te_buf_init(te_buf_t *b, size_t max);
/** Free the storage; the buffer may be re-initialised afterwards. Accepts NULL. */
void te_buf_free(te_buf_t *b);
/** Drop the contents, keep the storage. */
void te_buf_reset(te_buf_t *b);
/** Make room for `n` more bytes. @returns 0, or -1 if that would pass `max` or OOM. */
int te_buf_reserve(te_buf_t *b, size_t n);
/** Grow the array `*p` of `*cap` elements of `elem` bytes to hold `need`: its capacity
 *  doubles, from `first` when empty. @returns 0, or -1 (out of memory, or a size that
 *  does not fit a size_t: unchanged). */
int te_grow(void **p, size_t *cap, size_t need, size_t elem, size_t first);
/** Append bytes. @returns 0, or -1 (too big / OOM; buffer unchanged). */
int te_buf_append(te_buf_t *b, const void *p, size_t n);
/** Append a NUL-terminated string without its NUL. @returns 0 or -1. */
int te_buf_puts(te_buf_t *b, const char *s);
/** printf-style append. @returns 0 or -1. */
int te_buf_printf(te_buf_t *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/** Append `s` as a JSON string literal (with quotes, escaped). @returns 0 or -1. */
int te_buf_json_str(te_buf_t *b, const char *s);
/** Ensure data[len] == '\0' (not counted in len) and return data as a C string, or NULL.
 */
const char *te_buf_cstr(te_buf_t *b);

/** Format an error message into a caller's errstr buffer (bounded, always
 *  NUL-terminated); does nothing when errstr is NULL or errsz is 0. */
void te_errf(char *errstr, size_t errsz, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/** te_errf with a va_list. */
void te_verrf(char *errstr, size_t errsz, const char *fmt, va_list ap)
    __attribute__((format(printf, 3, 0)));

/** Copy `src` into `dst` of size `dstsz` (always NUL-terminated).
 *  @returns 0, or -1 if it was truncated. */
int te_strlcpy(char *dst, const char *src, size_t dstsz);

/** Format a double so that strtod() gives the same value back, as short as possible
 *  (tries %.15g, then %.16g, then %.17g). NaN/Inf are written as "NaN"/"Infinity"/
 *  "-Infinity". @returns the length written (< dstsz), or -1 if dst is too small. */
int te_fmt_double(char *dst, size_t dstsz, double v);

#endif
