/*
 * png_plot: PNG writer (palette, stored deflate) and a polyline chart on top of it.
 */
#include "png_plot.h"

#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { C_BG = 0, C_GRID = 1, C_AXIS = 2, C_LINE = 3, C_BASE = 4 };

static const unsigned char palette[] = {
    255, 255, 255, /* background */
    225, 225, 225, /* grid */
    0,   0,   0,   /* axes */
    31,  90,  200, /* series */
    160, 160, 160, /* baseline */
};

unsigned long te_png_crc32(unsigned long crc, const unsigned char *buf, size_t len)
{
        static uint32_t table[256];
        static int ready;
        if (!ready) {
                for (uint32_t n = 0; n < 256; n++) {
                        uint32_t c = n;
                        for (int k = 0; k < 8; k++)
                                c = c & 1 ? 0xedb88320u ^ (c >> 1) : c >> 1;
                        table[n] = c;
                }
                ready = 1;
        }
        uint32_t c = (uint32_t)crc ^ 0xffffffffu;
        for (size_t i = 0; i < len; i++)
                c = table[(c ^ buf[i]) & 0xff] ^ (c >> 8);
        return c ^ 0xffffffffu;
}

static void put32(unsigned char *p, uint32_t v)
{
        p[0] = (unsigned char)(v >> 24);
        p[1] = (unsigned char)(v >> 16);
        p[2] = (unsigned char)(v >> 8);
        p[3] = (unsigned char)v;
}

static int chunk(FILE *fp, const char *type, const unsigned char *data, size_t len)
{
        unsigned char hdr[8];
        put32(hdr, (uint32_t)len);
        memcpy(hdr + 4, type, 4);
        unsigned long crc = te_png_crc32(0, hdr + 4, 4);
        crc = te_png_crc32(crc, data, len);
        unsigned char tail[4];
        put32(tail, (uint32_t)crc);
        return fwrite(hdr, 1, 8, fp) == 8 &&
                       (len == 0 || fwrite(data, 1, len, fp) == len) &&
                       fwrite(tail, 1, 4, fp) == 4
                   ? 0
                   : -1;
}

/* zlib stream of stored blocks around raw (filter byte + row) scanlines */
static unsigned char *zlib_stored(const unsigned char *raw, size_t len, size_t *out_len)
{
        size_t nblocks = len / 65535 + 1;
        size_t cap = 2 + len + nblocks * 5 + 4;
        unsigned char *z = malloc(cap), *p = z;
        if (!z)
                return NULL;
        *p++ = 0x78;
        *p++ = 0x01;
        size_t off = 0;
        uint32_t a = 1, b = 0;
        for (size_t i = 0; i < len; i++) {
                a = (a + raw[i]) % 65521;
                b = (b + a) % 65521;
        }
        do {
                size_t n = len - off > 65535 ? 65535 : len - off;
                *p++ = off + n == len ? 1 : 0;
                *p++ = (unsigned char)(n & 0xff);
                *p++ = (unsigned char)(n >> 8);
                *p++ = (unsigned char)(~n & 0xff);
                *p++ = (unsigned char)((~n >> 8) & 0xff);
                memcpy(p, raw + off, n);
                p += n;
                off += n;
        } while (off < len);
        put32(p, (b << 16) | a);
        p += 4;
        *out_len = (size_t)(p - z);
        return z;
}

static void plot(unsigned char *px, int w, int h, int x, int y, unsigned char c)
{
        if (x >= 0 && x < w && y >= 0 && y < h)
                px[(size_t)y * (size_t)w + (size_t)x] = c;
}

static void line(unsigned char *px, int w, int h, int x0, int y0, int x1, int y1,
                 unsigned char c)
{
        int dx = abs(x1 - x0), sx = x0 < x1 ? 1 : -1;
        int dy = -abs(y1 - y0), sy = y0 < y1 ? 1 : -1;
        int err = dx + dy;
        for (;;) {
                plot(px, w, h, x0, y0, c);
                plot(px, w, h, x0, y0 + 1, c); /* 2 px thick */
                if (x0 == x1 && y0 == y1)
                        break;
                int e2 = 2 * err;
                if (e2 >= dy) {
                        err += dy;
                        x0 += sx;
                }
                if (e2 <= dx) {
                        err += dx;
                        y0 += sy;
                }
        }
}

int te_png_line_plot(const char *path, const double *y, size_t n, double baseline,
                     int width, int height, char *errstr, size_t errstr_size)
{
        if (width < 64 || height < 64 || width > 8192 || height > 8192) {
                snprintf(errstr, errstr_size, "png: size %dx%d out of range", width,
                         height);
                return -1;
        }
        double lo = INFINITY, hi = -INFINITY;
        for (size_t i = 0; i < n; i++) {
                if (!isfinite(y[i])) {
                        snprintf(errstr, errstr_size, "png: value %zu is not finite", i);
                        return -1;
                }
                lo = fmin(lo, y[i]);
                hi = fmax(hi, y[i]);
        }
        if (n == 0)
                lo = hi = baseline;
        if (hi - lo < 1e-12) {
                lo -= 1;
                hi += 1;
        }
        double pad = (hi - lo) * 0.05;
        lo -= pad;
        hi += pad;
        size_t w = (size_t)width, h = (size_t)height;
        unsigned char *px = malloc(w * h);
        unsigned char *raw = malloc((w + 1) * h);
        unsigned char *z = NULL;
        FILE *fp = NULL;
        int rc = -1;
        if (!px || !raw) {
                snprintf(errstr, errstr_size, "png: out of memory");
                goto out;
        }
        memset(px, C_BG, w * h);
        const int ml = 40, mr = 20, mt = 20, mb = 30; /* margins */
        int pw = width - ml - mr, ph = height - mt - mb;
        for (int i = 0; i <= 5; i++)
                line(px, width, height, ml, mt + ph * i / 5, ml + pw, mt + ph * i / 5,
                     C_GRID);
        for (int i = 0; i <= 10; i++)
                line(px, width, height, ml + pw * i / 10, mt, ml + pw * i / 10, mt + ph,
                     C_GRID);
        if (baseline > lo && baseline < hi) {
                int yb = mt + (int)lround((hi - baseline) / (hi - lo) * ph);
                line(px, width, height, ml, yb, ml + pw, yb, C_BASE);
        }
        line(px, width, height, ml, mt, ml, mt + ph, C_AXIS);
        line(px, width, height, ml, mt + ph, ml + pw, mt + ph, C_AXIS);
        int px0 = 0, py0 = 0;
        for (size_t i = 0; i < n; i++) {
                int xi = ml + (n > 1 ? (int)lround((double)i * pw / (double)(n - 1)) : 0);
                int yi = mt + (int)lround((hi - y[i]) / (hi - lo) * ph);
                if (i > 0)
                        line(px, width, height, px0, py0, xi, yi, C_LINE);
                px0 = xi;
                py0 = yi;
        }
        for (size_t r = 0; r < h; r++) {
                raw[r * (w + 1)] = 0; /* filter: none */
                memcpy(raw + r * (w + 1) + 1, px + r * w, w);
        }
        size_t zlen = 0;
        z = zlib_stored(raw, (w + 1) * h, &zlen);
        if (!z) {
                snprintf(errstr, errstr_size, "png: out of memory");
                goto out;
        }
        fp = fopen(path, "wb");
        if (!fp) {
                snprintf(errstr, errstr_size, "%s: %s", path, strerror(errno));
                goto out;
        }
        static const unsigned char sig[8] = {137, 80, 78, 71, 13, 10, 26, 10};
        unsigned char ihdr[13];
        put32(ihdr, (uint32_t)width);
        put32(ihdr + 4, (uint32_t)height);
        ihdr[8] = 8;  /* bit depth */
        ihdr[9] = 3;  /* palette */
        ihdr[10] = 0; /* deflate */
        ihdr[11] = 0;
        ihdr[12] = 0;
        if (fwrite(sig, 1, 8, fp) != 8 || chunk(fp, "IHDR", ihdr, 13) ||
            chunk(fp, "PLTE", palette, sizeof palette) || chunk(fp, "IDAT", z, zlen) ||
            chunk(fp, "IEND", NULL, 0)) {
                snprintf(errstr, errstr_size, "%s: write error", path);
                goto out;
        }
        rc = 0;
out:
        if (fp && fclose(fp) != 0 && rc == 0) {
                snprintf(errstr, errstr_size, "%s: close error", path);
                rc = -1;
        }
        free(z);
        free(raw);
        free(px);
        return rc;
}
