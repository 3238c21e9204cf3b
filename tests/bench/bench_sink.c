/*
 * bench_sink: the input of the sink.copy benchmark (ops/bench).
 *
 *   bench_sink BOOTSTRAP TOPIC N CSV
 *
 * Produces N distinct FILL execution reports (Avro, keyed by portfolio_id, 8
 * portfolios, 50 tickers, one order per report) to TOPIC and writes the trades rows the
 * sink must book for them to CSV (the trades table's columns, in order), so that
 * ops/bench can time exec-sink booking the reports against `psql \copy` of the same
 * rows. On success it prints, on stdout, when it sent the first report (ns since the
 * epoch, as `date +%s%N`): the benchmark's clock starts there, not at this process's
 * start. Exit status 0, or 1 with a message on stderr.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "te_buf.h"
#include "te_codec.h"
#include "te_config.h"
#include "te_kafka.h"

static int cfg_target;

static void fill_report(te_exec_report_t *r, long i)
{
        memset(r, 0, sizeof *r);
        snprintf(r->order_id, sizeof r->order_id, "bench-ord-%ld", i);
        snprintf(r->report_id, sizeof r->report_id, "bench-ord-%ld-f1", i);
        r->exec_type = TE_EXEC_FILL;
        r->order_status = TE_OS_FILLED;
        snprintf(r->ticker, sizeof r->ticker, "T%02ld", i % 50);
        r->side = i % 3 == 2 ? TE_SIDE_SELL : TE_SIDE_BUY;
        r->last_qty = (double)(10 + i % 90);
        r->last_price = 100.0 + (double)(i % 1000) / 100.0;
        r->cum_qty = r->last_qty;
        r->avg_price = r->last_price;
        r->commission = 1.0;
        te_strlcpy(r->broker, "sim", sizeof r->broker);
        te_strlcpy(r->account, "SIM-1", sizeof r->account);
        r->event_time = 1735689600000LL + i;
        snprintf(r->ids.decision_id, sizeof r->ids.decision_id, "bench-dec-%ld", i / 20);
        snprintf(r->ids.portfolio_id, sizeof r->ids.portfolio_id, "bench-pf-%ld", i % 8);
        te_strlcpy(r->ids.strategy_id, "s", sizeof r->ids.strategy_id);
        te_strlcpy(r->ids.profile_version_id, "pv", sizeof r->ids.profile_version_id);
        te_strlcpy(r->ids.regime_id, "rg", sizeof r->ids.regime_id);
        te_strlcpy(r->ids.universe_id, "u", sizeof r->ids.universe_id);
        r->mode = TE_MODE_TRAINING;
}

int main(int argc, char **argv)
{
        char errstr[512] = "";
        int rc = 1;
        te_buf_t buf;
        te_exec_report_t r;
        if (argc != 5) {
                fprintf(stderr, "usage: bench_sink BOOTSTRAP TOPIC N CSV\n");
                return 2;
        }
        char *end;
        long n = strtol(argv[3], &end, 10);
        if (*end || n <= 0 || n > 10000000) {
                fprintf(stderr, "bench_sink: N: expected 1..10000000\n");
                return 2;
        }
        te_buf_init(&buf, TE_CODEC_MAX_MESSAGE);
        te_cfg_t *cfg = te_cfg_new(NULL, 0, &cfg_target, errstr, sizeof errstr);
        te_codec_t *codec = te_codec_new(errstr, sizeof errstr);
        te_producer_t *p =
            cfg ? te_producer_new(cfg, argv[1], errstr, sizeof errstr) : NULL;
        FILE *csv = fopen(argv[4], "w");
        if (!cfg || !codec || !p || !csv) {
                fprintf(stderr, "bench_sink: %s\n", csv ? errstr : "cannot write CSV");
                goto out;
        }
        struct timespec first;
        clock_gettime(CLOCK_REALTIME, &first);
        for (long i = 0; i < n; i++) {
                fill_report(&r, i);
                if (te_codec_encode_exec_report(codec, &r, &buf, errstr, sizeof errstr) !=
                        TE_CODEC_OK ||
                    te_producer_send(p, argv[2], r.ids.portfolio_id,
                                     strlen(r.ids.portfolio_id), buf.data, buf.len, NULL,
                                     0, errstr, sizeof errstr) != 0) {
                        fprintf(stderr, "bench_sink: report %ld: %s\n", i, errstr);
                        goto out;
                }
                char px[40];
                te_fmt_double(px, sizeof px, r.last_price);
                time_t secs = (time_t)(r.event_time / 1000);
                struct tm tm;
                char ts[40];
                gmtime_r(&secs, &tm);
                strftime(ts, sizeof ts, "%Y-%m-%d %H:%M:%S", &tm);
                fprintf(
                    csv, "%s,%s.%03d+00,%s,%s,%.0f,%s,%s,s,pv,rg,u,%s,1,TRAINING,sim\n",
                    r.report_id, ts, (int)(r.event_time % 1000), r.ticker,
                    te_side_name(r.side), r.last_qty, px, r.order_id, r.ids.decision_id);
        }
        if (te_producer_flush(p, 60000, errstr, sizeof errstr) != 0) {
                fprintf(stderr, "bench_sink: flush: %s\n", errstr);
                goto out;
        }
        printf("%lld\n", (long long)first.tv_sec * 1000000000LL + first.tv_nsec);
        rc = 0;
out:
        if (csv && fclose(csv) != 0)
                rc = 1;
        te_producer_destroy(p);
        te_codec_destroy(codec);
        te_cfg_destroy(cfg);
        te_buf_free(&buf);
        return rc;
}
