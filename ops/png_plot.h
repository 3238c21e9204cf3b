/*
 * png_plot: a line chart written as a PNG with no library (stored deflate blocks,
 * CRC-32 and Adler-32 computed here), for the backtest equity curve.
 *
 * The chart: white background, a light grid (5 horizontal, 10 vertical lines), black
 * axes, the series as a blue polyline scaled to its min..max, a grey zero-return line
 * at `baseline` when it lies inside the range. No text: the numbers are in the CSV.
 */
#ifndef TE_PNG_PLOT_H
#define TE_PNG_PLOT_H

#include <stddef.h>

/** Write `y[0..n)` as a `width` x `height` PNG (8-bit palette) at `path`.
 *  @returns 0, or -1 with errstr (n < 2 is drawn as a flat line; non-finite values
 *  are refused). */
int te_png_line_plot(const char *path, const double *y, size_t n, double baseline,
                     int width, int height, char *errstr, size_t errstr_size);

/** CRC-32 (PNG/zlib polynomial) of `len` bytes, continuing from `crc` (start 0). */
unsigned long te_png_crc32(unsigned long crc, const unsigned char *buf, size_t len);

#endif
