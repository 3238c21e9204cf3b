/*
 * te_buf: bounded growable byte buffer, JSON string escaping, exact double formatting.
 */
#include "te_buf.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void te_buf_init(te_buf_t *b, size_t max)
{
        b->data = NULL;
        b->len = 0;
        b->cap = 0;
        b->max = max;
}

void te_buf_free(te_buf_t *b)
{
        if (!b)
                return;
        free(b->data);
        b->data = NULL;
        b->len = b->cap = 0;
}

void te_buf_reset(te_buf_t *b)
{
        b->len = 0;
}

int te_buf_reserve(te_buf_t *b, size_t n)
{
        /* +1 keeps room for the NUL of te_buf_cstr */
        if (n > b->max || b->len > b->max - n)
                return -1;
        size_t need = b->len + n + 1;
        if (need <= b->cap)
                return 0;
        size_t ncap = b->cap ? b->cap : 64;
        while (ncap < need)
                ncap = ncap > SIZE_MAX / 2 ? need : ncap * 2;
        uint8_t *nd = realloc(b->data, ncap);
        if (!nd)
                return -1;
        b->data = nd;
        b->cap = ncap;
        return 0;
}

int te_grow(void **p, size_t *cap, size_t need, size_t elem, size_t first)
{
        if (need <= *cap)
                return 0;
        size_t nc = *cap ? *cap : (first ? first : 1);
        if (*cap && nc <= SIZE_MAX / 2)
                nc *= 2;
        while (nc < need && nc <= SIZE_MAX / 2)
                nc *= 2;
        if (nc < need || !elem || nc > SIZE_MAX / elem)
                return -1; /* the size in bytes would not fit a size_t */
        void *np = realloc(*p, nc * elem);
        if (!np)
                return -1;
        *p = np;
        *cap = nc;
        return 0;
}

int te_buf_append(te_buf_t *b, const void *p, size_t n)
{
        if (n == 0)
                return 0;
        if (te_buf_reserve(b, n) != 0)
                return -1;
        memcpy(b->data + b->len, p, n);
        b->len += n;
        return 0;
}

int te_buf_puts(te_buf_t *b, const char *s)
{
        return te_buf_append(b, s, strlen(s));
}

int te_buf_printf(te_buf_t *b, const char *fmt, ...)
{
        va_list ap;
        char small[256];
        va_start(ap, fmt);
        int n = vsnprintf(small, sizeof small, fmt, ap);
        va_end(ap);
        if (n < 0)
                return -1;
        if ((size_t)n < sizeof small)
                return te_buf_append(b, small, (size_t)n);
        if (te_buf_reserve(b, (size_t)n) != 0)
                return -1;
        va_start(ap, fmt);
        vsnprintf((char *)b->data + b->len, (size_t)n + 1, fmt, ap);
        va_end(ap);
        b->len += (size_t)n;
        return 0;
}

int te_buf_json_str(te_buf_t *b, const char *s)
{
        static const char hex[] = "0123456789abcdef";
        static const char two[] = "\"\\\n\r\t", two_esc[] = "\"\\nrt";
        if (te_buf_append(b, "\"", 1) != 0)
                return -1;
        const unsigned char *p = (const unsigned char *)s;
        const unsigned char *run = p;
        for (; *p; p++) {
                /* the two-character escapes, else \u00XX for a control character */
                const char *k = strchr(two, *p);
                char esc[7] = {'\\', k ? two_esc[k - two] : 0};
                size_t elen = k ? 2 : 0;
                if (!k && (*p < 0x20 || *p == 0x7f)) {
                        memcpy(esc, "\\u00", 4);
                        esc[4] = hex[*p >> 4];
                        esc[5] = hex[*p & 0xf];
                        elen = 6;
                }
                if (elen) {
                        if (te_buf_append(b, run, (size_t)(p - run)) != 0 ||
                            te_buf_append(b, esc, elen) != 0)
                                return -1;
                        run = p + 1;
                }
        }
        if (te_buf_append(b, run, (size_t)(p - run)) != 0)
                return -1;
        return te_buf_append(b, "\"", 1);
}

const char *te_buf_cstr(te_buf_t *b)
{
        if (!b->data && te_buf_reserve(b, 0) != 0)
                return NULL;
        b->data[b->len] = '\0';
        return (const char *)b->data;
}

void te_verrf(char *errstr, size_t errsz, const char *fmt, va_list ap)
{
        if (!errstr || errsz == 0)
                return;
        vsnprintf(errstr, errsz, fmt, ap);
}

void te_errf(char *errstr, size_t errsz, const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        te_verrf(errstr, errsz, fmt, ap);
        va_end(ap);
}

int te_strlcpy(char *dst, const char *src, size_t dstsz)
{
        size_t n = strlen(src);
        if (dstsz == 0)
                return -1;
        if (n >= dstsz) {
                memcpy(dst, src, dstsz - 1);
                dst[dstsz - 1] = '\0';
                return -1;
        }
        memcpy(dst, src, n + 1);
        return 0;
}

int te_fmt_double(char *dst, size_t dstsz, double v)
{
        int n;
        if (isnan(v))
                n = snprintf(dst, dstsz, "NaN");
        else if (isinf(v))
                n = snprintf(dst, dstsz, v > 0 ? "Infinity" : "-Infinity");
        else {
                static const int prec[] = {15, 16, 17};
                n = -1;
                for (size_t i = 0; i < sizeof prec / sizeof prec[0]; i++) {
                        n = snprintf(dst, dstsz, "%.*g", prec[i], v);
                        if (n < 0 || (size_t)n >= dstsz)
                                return -1;
                        if (strtod(dst, NULL) == v)
                                break;
                }
        }
        if (n < 0 || (size_t)n >= dstsz)
                return -1;
        return n;
}
