/*
 * bench_codec: OrderCommand decodes and encodes per second, in process.
 *
 *   codec.decode  validated decodes (te_codec_decode_order_cmd: header, walk, direct
 *                 read into the struct, value checks) against raw avro-c generic
 *                 decodes of the same Avro bytes (reused value and reader, no walk, no
 *                 copy).
 *   codec.encode  validated encodes (te_codec_encode_order_cmd with the default direct
 *                 writer: field checks, value checks, header, Avro body) against the
 *                 same call with avro-c's generic writer (te_codec_use_avro_writer: the
 *                 same checks, the message set into a reused avro-c generic value,
 *                 avro_value_sizeof, avro_value_write), the encoder used before the
 *                 direct writer. Both give the same bytes (checked before timing).
 *
 *   bench_codec [N]      N decodes per timed round (default 5,000,000), N/5 encodes of
 *                        each kind; 3 rounds each, the best round counts.
 *
 * stdout, two lines:
 *   BENCH name=codec.decode value=<msgs/s> unit=msgs/s baseline=<msgs/s> ratio=<x.xxx>
 *   BENCH name=codec.encode value=<msgs/s> unit=msgs/s baseline=<msgs/s> ratio=<x.xxx>
 * stderr: details, and avro_value_write alone on an already filled value (avro-c's
 * serialisation without the filling or any check) for reference.
 */
#include "te_codec.h"

#include <avro.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define ROUNDS 3

static double now_s(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void realistic_order(te_order_cmd_t *o)
{
        memset(o, 0, sizeof *o);
        o->command = TE_CMD_NEW;
        te_strlcpy(o->order_id, "ord-7f3a9c21e4b05d18-AAPL-0", sizeof o->order_id);
        te_strlcpy(o->ids.decision_id, "dec-20240603-1530-momentum-us-0042",
                   sizeof o->ids.decision_id);
        te_strlcpy(o->ids.portfolio_id, "pf-core-us-eq-01", sizeof o->ids.portfolio_id);
        te_strlcpy(o->ids.strategy_id, "momentum-us", sizeof o->ids.strategy_id);
        te_strlcpy(o->ids.profile_version_id, "risk-v12",
                   sizeof o->ids.profile_version_id);
        te_strlcpy(o->ids.regime_id, "bull-lowvol", sizeof o->ids.regime_id);
        te_strlcpy(o->ids.universe_id, "sp500", sizeof o->ids.universe_id);
        te_strlcpy(o->ticker, "AAPL", sizeof o->ticker);
        o->side = TE_SIDE_BUY;
        o->quantity = 1250;
        o->order_type = TE_OT_LIMIT;
        o->has_limit_price = 1;
        o->limit_price = 189.37;
        o->tif = TE_TIF_DAY;
        o->aggressiveness = TE_AGGR_NORMAL;
        o->intent = TE_INTENT_INCREASE;
        o->mode = TE_MODE_TRAINING;
        te_strlcpy(o->route, "sim", sizeof o->route);
        o->event_time = 1717428600000;
        o->has_ref_price = 1;
        o->ref_price = 189.21;
}

int main(int argc, char **argv)
{
        long n = argc > 1 ? strtol(argv[1], NULL, 10) : 5000000;
        char err[256];
        te_buf_t buf;
        te_order_cmd_t o, d;
        avro_schema_t schema = NULL;
        avro_value_iface_t *iface = NULL;
        avro_value_t raw;
        avro_reader_t reader = NULL;
        te_codec_t *c = NULL, *ca = NULL;
        te_buf_t abuf;
        int have_raw = 0, rc = 1;

        if (n <= 0)
                n = 5000000;
        te_buf_init(&buf, 4096);
        te_buf_init(&abuf, 4096);
        c = te_codec_new(err, sizeof err);
        ca = c ? te_codec_new(err, sizeof err) : NULL;
        if (!c || !ca) {
                fprintf(stderr, "bench_codec: %s\n", err);
                goto out;
        }
        te_codec_use_avro_writer(ca, 1);
        realistic_order(&o);

        /* encode: the direct writer against avro-c's generic writer, same bytes */
        long ne = n / 5 > 0 ? n / 5 : 1;
        double t0, best_enc = 0, best_aenc = 0;
        if (te_codec_encode_order_cmd(c, &o, &buf, err, sizeof err) != TE_CODEC_OK ||
            te_codec_encode_order_cmd(ca, &o, &abuf, err, sizeof err) != TE_CODEC_OK) {
                fprintf(stderr, "bench_codec: encode: %s\n", err);
                goto out;
        }
        if (buf.len != abuf.len || memcmp(buf.data, abuf.data, buf.len) != 0) {
                fprintf(stderr, "bench_codec: the two writers give different bytes\n");
                goto out;
        }
        for (int r = 0; r < ROUNDS; r++) {
                long bad = 0;
                t0 = now_s();
                for (long i = 0; i < ne; i++)
                        bad += te_codec_encode_order_cmd(c, &o, &buf, err, sizeof err) !=
                               TE_CODEC_OK;
                double s = now_s() - t0;
                if ((double)ne / s > best_enc)
                        best_enc = (double)ne / s;
                t0 = now_s();
                for (long i = 0; i < ne; i++)
                        bad += te_codec_encode_order_cmd(ca, &o, &abuf, err,
                                                         sizeof err) != TE_CODEC_OK;
                s = now_s() - t0;
                if ((double)ne / s > best_aenc)
                        best_aenc = (double)ne / s;
                if (bad) {
                        fprintf(stderr, "bench_codec: %ld failed encodes\n", bad);
                        goto out;
                }
        }
        if (buf.len != abuf.len || memcmp(buf.data, abuf.data, buf.len) != 0) {
                fprintf(stderr, "bench_codec: the two writers give different bytes\n");
                goto out;
        }
        fprintf(stderr,
                "bench_codec: %ld encodes x %d rounds (%zu bytes each), %.1f ns direct, "
                "%.1f ns through avro-c's generic writer\n",
                ne, ROUNDS, buf.len, 1e9 / best_enc, 1e9 / best_aenc);

        /* the raw avro-c baseline decodes the same bytes, after the header */
        const char *json = te_codec_schema_json(TE_MSG_ORDER_COMMAND);
        if (avro_schema_from_json_length(json, strlen(json), &schema) ||
            !(iface = avro_generic_class_from_schema(schema)) ||
            avro_generic_value_new(iface, &raw)) {
                fprintf(stderr, "bench_codec: avro: %s\n", avro_strerror());
                goto out;
        }
        have_raw = 1;
        const char *body = (const char *)buf.data + TE_CODEC_HEADER_LEN;
        int64_t blen = (int64_t)(buf.len - TE_CODEC_HEADER_LEN);
        reader = avro_reader_memory(body, blen);

        double best_dec = 0, best_raw = 0;
        long failures = 0;
        for (int r = 0; r < ROUNDS; r++) {
                t0 = now_s();
                for (long i = 0; i < n; i++)
                        failures +=
                            te_codec_decode_order_cmd(c, buf.data, buf.len, &d, err,
                                                      sizeof err) != TE_CODEC_OK;
                double s = now_s() - t0;
                if ((double)n / s > best_dec)
                        best_dec = (double)n / s;

                t0 = now_s();
                for (long i = 0; i < n; i++) {
                        avro_reader_memory_set_source(reader, body, blen);
                        failures += avro_value_read(reader, &raw) != 0;
                }
                s = now_s() - t0;
                if ((double)n / s > best_raw)
                        best_raw = (double)n / s;
        }
        /* the codec's avro-c reader path, for comparison (stderr only) */
        te_codec_use_avro_reader(c, 1);
        t0 = now_s();
        for (long i = 0; i < ne; i++)
                failures += te_codec_decode_order_cmd(c, buf.data, buf.len, &d, err,
                                                      sizeof err) != TE_CODEC_OK;
        fprintf(stderr,
                "bench_codec: validated decode through the avro-c reader %.0f msgs/s\n",
                (double)ne / (now_s() - t0));
        te_codec_use_avro_reader(c, 0);

        if (failures || memcmp(&d, &o, sizeof d) != 0) {
                fprintf(stderr, "bench_codec: %ld failed decodes or a wrong result\n",
                        failures);
                goto out;
        }
        fprintf(stderr,
                "bench_codec: %ld decodes x %d rounds, %.1f ns validated, %.1f ns raw\n",
                n, ROUNDS, 1e9 / best_dec, 1e9 / best_raw);

        /* for reference: avro-c's serialisation alone, of the value it just read */
        {
                char wb[4096];
                avro_writer_t w = avro_writer_memory(wb, sizeof wb);
                size_t sz = 0;
                long bad = 0;
                if (!w)
                        goto out;
                t0 = now_s();
                for (long i = 0; i < ne; i++) {
                        avro_writer_reset(w);
                        bad += avro_value_sizeof(&raw, &sz) != 0 ||
                               avro_value_write(w, &raw) != 0;
                }
                double s = now_s() - t0;
                int same = !bad && avro_writer_tell(w) == blen &&
                           memcmp(wb, body, (size_t)blen) == 0;
                avro_writer_free(w);
                if (!same) {
                        fprintf(stderr, "bench_codec: avro_value_write failed or "
                                        "differs\n");
                        goto out;
                }
                fprintf(stderr,
                        "bench_codec: avro_value_sizeof + avro_value_write alone %.0f "
                        "msgs/s (%.1f ns)\n",
                        (double)ne / s, 1e9 * s / (double)ne);
        }
        printf(
            "BENCH name=codec.decode value=%.0f unit=msgs/s baseline=%.0f ratio=%.3f\n",
            best_dec, best_raw, best_dec / best_raw);
        printf(
            "BENCH name=codec.encode value=%.0f unit=msgs/s baseline=%.0f ratio=%.3f\n",
            best_enc, best_aenc, best_enc / best_aenc);
        rc = 0;
out:
        if (reader)
                avro_reader_free(reader);
        if (have_raw)
                avro_value_decref(&raw);
        if (iface)
                avro_value_iface_decref(iface);
        if (schema)
                avro_schema_decref(schema);
        te_codec_destroy(c);
        te_codec_destroy(ca);
        te_buf_free(&buf);
        te_buf_free(&abuf);
        return rc;
}
