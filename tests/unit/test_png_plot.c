/*
 * test_png_plot: the PNG writer behind the backtest's equity.png — CRC-32 against
 * known check values, and a written chart read back: signature, IHDR fields, chunk
 * CRCs, a stored-deflate IDAT whose Adler-32 and scanlines are consistent; bad input.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "png_plot.h"

static void test_png_crc32(void **state)
{
        (void)state;
        static const struct {
                const char *in;
                unsigned long crc;
        } cases[] = {
            {"", 0x00000000ul},
            {"123456789", 0xcbf43926ul}, /* the standard check value */
            {"IEND", 0xae426082ul},      /* the CRC every PNG ends with */
        };
        for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
                assert_true(te_png_crc32(0, (const unsigned char *)cases[i].in,
                                         strlen(cases[i].in)) == cases[i].crc);
}

static uint32_t be32(const unsigned char *p)
{
        return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void test_png_plot_roundtrip(void **state)
{
        (void)state;
        char path[] = "/tmp/test_png_plot.XXXXXX";
        int fd = mkstemp(path);
        assert_true(fd >= 0);
        fclose(fdopen(fd, "w"));
        const double y[] = {100, 101, 99, 104, 103};
        char err[256];
        assert_int_equal(te_png_line_plot(path, y, 5, 100, 120, 80, err, sizeof err), 0);
        FILE *fp = fopen(path, "rb");
        assert_non_null(fp);
        unsigned char buf[65536];
        size_t n = fread(buf, 1, sizeof buf, fp);
        fclose(fp);
        remove(path);
        static const unsigned char sig[8] = {137, 80, 78, 71, 13, 10, 26, 10};
        assert_memory_equal(buf, sig, 8);
        /* walk the chunks, checking every CRC */
        size_t off = 8;
        int seen_idat = 0, seen_iend = 0;
        while (off + 12 <= n) {
                uint32_t len = be32(buf + off);
                assert_true(off + 12 + len <= n);
                const unsigned char *type = buf + off + 4, *data = buf + off + 8;
                assert_true(te_png_crc32(0, type, 4 + len) == be32(data + len));
                if (memcmp(type, "IHDR", 4) == 0) {
                        assert_int_equal(be32(data), 120);
                        assert_int_equal(be32(data + 4), 80);
                        assert_int_equal(data[8], 8); /* bit depth */
                        assert_int_equal(data[9], 3); /* palette */
                } else if (memcmp(type, "IDAT", 4) == 0) {
                        /* zlib header, then one stored block per 65535 bytes: the raw
                         * image is 80 rows x (1 filter byte + 120) = 9680 bytes */
                        assert_int_equal(data[0], 0x78);
                        assert_int_equal(data[2], 1); /* final stored block */
                        assert_int_equal(data[3] | data[4] << 8, 9680);
                        assert_int_equal((data[5] | data[6] << 8) ^ 0xffff, 9680);
                        const unsigned char *raw = data + 7;
                        uint32_t a = 1, b = 0;
                        for (size_t i = 0; i < 9680; i++) {
                                a = (a + raw[i]) % 65521;
                                b = (b + a) % 65521;
                        }
                        assert_true(be32(raw + 9680) == (b << 16 | a));
                        int drawn = 0;
                        for (size_t r = 0; r < 80; r++) {
                                assert_int_equal(raw[r * 121], 0); /* filter none */
                                for (size_t x = 1; x < 121; x++)
                                        drawn += raw[r * 121 + x] == 3; /* series */
                        }
                        assert_true(drawn > 100); /* the line is there */
                        seen_idat = 1;
                } else if (memcmp(type, "IEND", 4) == 0) {
                        seen_iend = 1;
                }
                off += 12 + len;
        }
        assert_true(seen_idat && seen_iend && off == n);
}

static void test_png_plot_bad_input(void **state)
{
        (void)state;
        char err[256];
        const double nan_y[] = {1, NAN, 2};
        assert_int_equal(
            te_png_line_plot("/tmp/x.png", nan_y, 3, 0, 100, 100, err, sizeof err), -1);
        assert_string_equal(err, "png: value 1 is not finite");
        const double y[] = {1, 2};
        assert_int_equal(
            te_png_line_plot("/tmp/x.png", y, 2, 0, 10, 100, err, sizeof err), -1);
        assert_int_equal(te_png_line_plot("/nonexistent-dir/x.png", y, 2, 0, 100, 100,
                                          err, sizeof err),
                         -1);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_png_crc32),
            cmocka_unit_test(test_png_plot_roundtrip),
            cmocka_unit_test(test_png_plot_bad_input),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
