/*
 * sink_dec: exact decimal sums (sink_dec.h).
 */
#include "sink_dec.h"

#include <stdio.h>
#include <string.h>

#define DEC_MAX_SCALE  18
#define DEC_MAX_DIGITS 18

static int mul_pow10(int64_t *m, int k)
{
        for (; k > 0; k--)
                if (__builtin_mul_overflow(*m, (int64_t)10, m))
                        return -1;
        return 0;
}

int sink_dec_parse(const char *s, sink_dec_t *out)
{
        const char *p = s;
        int neg = 0, digits = 0, frac = 0, seen_point = 0, any = 0;
        int64_t m = 0;
        if (*p == '+' || *p == '-')
                neg = *p++ == '-';
        for (;; p++) {
                if (*p == '.' && !seen_point) {
                        seen_point = 1;
                        continue;
                }
                if (*p < '0' || *p > '9')
                        break;
                any = 1;
                if (seen_point)
                        frac++;
                if (m == 0 && *p == '0')
                        continue; /* leading zeros are not significant */
                if (++digits > DEC_MAX_DIGITS)
                        return -1;
                m = m * 10 + (*p - '0');
        }
        if (!any)
                return -1;
        long exp = 0;
        if (*p == 'e' || *p == 'E') {
                p++;
                int eneg = 0, edigits = 0;
                if (*p == '+' || *p == '-')
                        eneg = *p++ == '-';
                for (; *p >= '0' && *p <= '9'; p++) {
                        if (++edigits > 4)
                                return -1;
                        exp = exp * 10 + (*p - '0');
                }
                if (!edigits)
                        return -1;
                if (eneg)
                        exp = -exp;
        }
        if (*p)
                return -1;
        /* value = m * 10^(exp - frac); numeric keeps max(0, frac - exp) digits */
        long scale = frac - exp < 0 ? 0 : frac - exp;
        if (scale > DEC_MAX_SCALE)
                return -1;
        long up = scale + exp - frac; /* >= 0 */
        if (up > DEC_MAX_DIGITS || mul_pow10(&m, (int)up) != 0)
                return -1;
        out->m = neg ? -m : m;
        out->scale = (int)scale;
        return 0;
}

int sink_dec_add(sink_dec_t *acc, const sink_dec_t *v)
{
        int64_t a = acc->m, b = v->m;
        int scale = acc->scale > v->scale ? acc->scale : v->scale;
        if (mul_pow10(&a, scale - acc->scale) != 0 ||
            mul_pow10(&b, scale - v->scale) != 0 || __builtin_add_overflow(a, b, &a))
                return -1;
        acc->m = a;
        acc->scale = scale;
        return 0;
}

int sink_dec_fmt(const sink_dec_t *d, char *dst, size_t dstsz)
{
        char digits[32];
        uint64_t u = d->m < 0 ? (uint64_t)0 - (uint64_t)d->m : (uint64_t)d->m;
        int n = snprintf(digits, sizeof digits, "%0*llu", d->scale + 1,
                         (unsigned long long)u);
        if (n < 0 || (size_t)n >= sizeof digits)
                return -1;
        int ip = n - d->scale; /* integer digits, >= 1 */
        int len = snprintf(dst, dstsz, "%s%.*s%s%s", d->m < 0 ? "-" : "", ip, digits,
                           d->scale ? "." : "", digits + ip);
        return len < 0 || (size_t)len >= dstsz ? -1 : len;
}
