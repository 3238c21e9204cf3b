/*
 * bench_ibkr: order -> ACK -> FILL round trips of the ibkr adapter against the fake
 * TWS (tests/fake_tws, scenario "fill") on loopback, and the adapter's sustained
 * order rate under its pacing limit.
 *
 *   bench_ibkr FAKE_TWS_BINARY [N]
 *
 * Prints three lines:
 *   ibkr.roundtrip             p50 submit -> FILL report (us), one order at a time,
 *                              spaced under the pacing limit; baseline: p50 of the
 *                              same placeOrder -> execDetails exchange done by a bare
 *                              blocking client (same codec, no adapter, no pacer)
 *   ibkr.roundtrip.p99         the same at p99
 *   ibkr.roundtrip.orders_per_sec  FILL reports received in the first 3 s after a
 *                              burst of 500 orders, per second; baseline: the
 *                              configured pacing limit (45 messages/s)
 */
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../broker_defaults.h"
#include "broker_ibkr.h"
#include "te_buf.h"
#include "te_log.h"
#include "te_proc.h"
#include "tws_proto.h"

#define MAX_N 2000

static pid_t fake_pid;

static int start_fake(const char *bin)
{
        char pf[64];
        snprintf(pf, sizeof pf, "/tmp/te-bench-ibkr.%d.port", (int)getpid());
        unlink(pf);
        fake_pid = fork();
        if (fake_pid == 0) {
                (void)freopen("/dev/null", "w", stderr);
                execl(bin, bin, "--port-file", pf, "--scenario", "fill", (char *)NULL);
                _exit(127);
        }
        for (int i = 0; i < 500; i++) {
                FILE *f = fopen(pf, "r");
                int port = 0;
                if (f) {
                        int ok = fscanf(f, "%d", &port) == 1;
                        fclose(f);
                        if (ok) {
                                unlink(pf);
                                return port;
                        }
                }
                usleep(10000);
        }
        return -1;
}

static int cmp_i64(const void *a, const void *b)
{
        int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
        return (x > y) - (x < y);
}

static int64_t pct(int64_t *v, int n, double p)
{
        qsort(v, (size_t)n, sizeof *v, cmp_i64);
        int i = (int)(p * (n - 1) + 0.5);
        return v[i];
}

/* Read frames until one satisfies want(); @returns 0 or -1. */
static int read_until(int fd, te_buf_t *rb, int type, int64_t order_id)
{
        for (;;) {
                const uint8_t *pl;
                size_t plen, used;
                char err[200];
                while (te_tws_frame_next(rb->data, rb->len, TE_TWS_MAX_FRAME, &pl, &plen,
                                         &used, err, sizeof err) == TE_TWS_OK) {
                        te_tws_msg_t m;
                        int hit = 0;
                        if (type == 0) {
                                hit = 1; /* server version */
                        } else if (te_tws_dec_message(pl, plen, &m, err, sizeof err) ==
                                       TE_TWS_OK &&
                                   (int)m.type == type) {
                                hit = type != TE_TWS_IN_EXEC_DETAILS ||
                                      m.u.exec.order_id == order_id;
                        }
                        memmove(rb->data, rb->data + used, rb->len - used);
                        rb->len -= used;
                        if (hit)
                                return 0;
                }
                if (te_buf_reserve(rb, 65536) != 0)
                        return -1;
                ssize_t n = recv(fd, rb->data + rb->len, rb->cap - rb->len, 0);
                if (n <= 0)
                        return -1;
                rb->len += (size_t)n;
        }
}

static int baseline(int port, int n, int64_t *lat)
{
        int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1;
        struct sockaddr_in sa = {.sin_family = AF_INET,
                                 .sin_port = htons((uint16_t)port)};
        sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        if (connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0)
                return -1;
        te_buf_t wb, rb;
        te_buf_init(&wb, 1 << 20);
        te_buf_init(&rb, 1 << 22);
        int rc = -1;
        if (te_tws_enc_handshake(&wb, TE_TWS_VER_MIN, TE_TWS_VER_MAX) != 0 ||
            send(fd, wb.data, wb.len, 0) != (ssize_t)wb.len || read_until(fd, &rb, 0, 0))
                goto out;
        te_buf_reset(&wb);
        if (te_tws_enc_start_api(&wb, 99) != 0 ||
            send(fd, wb.data, wb.len, 0) != (ssize_t)wb.len ||
            read_until(fd, &rb, TE_TWS_IN_NEXT_VALID_ID, 0))
                goto out;
        for (int i = 0; i < n; i++) {
                te_tws_order_t o;
                memset(&o, 0, sizeof o);
                o.order_id = 100000 + i;
                memcpy(o.symbol, "AAA", 4);
                memcpy(o.sec_type, "STK", 4);
                memcpy(o.exchange, "SMART", 6);
                memcpy(o.currency, "USD", 4);
                memcpy(o.action, "BUY", 4);
                o.total_qty = 10;
                memcpy(o.order_type, "MKT", 4);
                memcpy(o.tif, "DAY", 4);
                memcpy(o.account, "DU111111", 9);
                snprintf(o.order_ref, sizeof o.order_ref, "base-%d", i);
                te_buf_reset(&wb);
                int64_t t0 = te_proc_mono_ns();
                if (te_tws_enc_place_order(&wb, &o) != 0 ||
                    send(fd, wb.data, wb.len, 0) != (ssize_t)wb.len ||
                    read_until(fd, &rb, TE_TWS_IN_EXEC_DETAILS, o.order_id))
                        goto out;
                lat[i] = (te_proc_mono_ns() - t0) / 1000;
                usleep(25000);
        }
        rc = 0;
out:
        close(fd);
        te_buf_free(&wb);
        te_buf_free(&rb);
        return rc;
}

static te_order_cmd_t order(int i)
{
        te_order_cmd_t c;
        memset(&c, 0, sizeof c);
        c.command = TE_CMD_NEW;
        snprintf(c.order_id, sizeof c.order_id, "bench-%d", i);
        te_strlcpy(c.ids.portfolio_id, "pf-bench", sizeof c.ids.portfolio_id);
        te_strlcpy(c.ticker, "AAA", sizeof c.ticker);
        c.quantity = 10;
        c.order_type = TE_OT_MARKET;
        c.tif = TE_TIF_DAY;
        c.mode = TE_MODE_PRODUCTION;
        te_strlcpy(c.route, "ibkr", sizeof c.route);
        return c;
}

static int count_fills(te_reports_t *r, size_t *seen)
{
        int n = 0;
        for (; *seen < r->n; (*seen)++)
                n += r->items[*seen].exec_type == TE_EXEC_FILL;
        return n;
}

int main(int argc, char **argv)
{
        if (argc < 2) {
                fprintf(stderr, "usage: bench_ibkr FAKE_TWS [N]\n");
                return 2;
        }
        int n = argc > 2 ? (int)strtol(argv[2], NULL, 10) : 100;
        if (n < 2 || n > MAX_N)
                n = 100;
        signal(SIGPIPE, SIG_IGN);
        te_log_init("bench_ibkr", TE_LOG_ERROR);
        static int64_t lat[MAX_N], base[MAX_N];
        int port = start_fake(argv[1]);
        int rc = 1;
        te_broker_t *b = NULL;
        te_reports_t rep = {0};
        if (port < 0 || baseline(port, n, base) != 0) {
                fprintf(stderr, "bench_ibkr: baseline failed\n");
                goto out;
        }
        te_ibkr_cfg_t cfg;
        te_ibkr_cfg_defaults(&cfg);
        cfg.port = port;
        cfg.client_id = 5;
        cfg.use_db = 0;
        te_strlcpy(cfg.accounts, "DU111111", sizeof cfg.accounts);
        char errstr[256];
        b = te_ibkr_new(&cfg, errstr, sizeof errstr);
        if (!b)
                goto out;
        int64_t end = te_proc_mono_ms() + 10000;
        while (!b->ops->connected(b) && te_proc_mono_ms() < end)
                (void)b->ops->poll(b, &rep);
        size_t seen = 0;
        for (int i = 0; i < n; i++) {
                te_order_cmd_t c = order(i);
                int64_t t0 = te_proc_mono_ns();
                if (te_broker_handle(b, &c, &rep) != TE_BROKER_OK)
                        goto out;
                int got = count_fills(&rep, &seen);
                end = te_proc_mono_ms() + 5000;
                while (!got && te_proc_mono_ms() < end) {
                        usleep(20); /* yield like an event loop; a spin starves the
                                       fake TWS on a busy 2-core machine */
                        (void)b->ops->poll(b, &rep);
                        got = count_fills(&rep, &seen);
                }
                if (!got) {
                        fprintf(stderr, "bench_ibkr: no FILL for order %d\n", i);
                        goto out;
                }
                lat[i] = (te_proc_mono_ns() - t0) / 1000;
                usleep(25000); /* 40 orders/s: under the pacing limit */
        }
        /* sustained rate: a burst of 500, FILLs counted over the first 3 s */
        int64_t t0 = te_proc_mono_ms();
        for (int i = 0; i < 500; i++) {
                te_order_cmd_t c = order(n + i);
                if (te_broker_handle(b, &c, &rep) != TE_BROKER_OK)
                        goto out;
        }
        int fills = count_fills(&rep, &seen);
        while (te_proc_mono_ms() - t0 < 3000) {
                usleep(20);
                (void)b->ops->poll(b, &rep);
                fills += count_fills(&rep, &seen);
        }
        double rate = fills / 3.0;
        int64_t p50 = pct(lat, n, 0.5), p99 = pct(lat, n, 0.99);
        int64_t b50 = pct(base, n, 0.5), b99 = pct(base, n, 0.99);
        printf("BENCH name=ibkr.roundtrip value=%lld unit=us baseline=%lld ratio=%.3f\n",
               (long long)p50, (long long)b50, (double)p50 / (double)(b50 ? b50 : 1));
        printf(
            "BENCH name=ibkr.roundtrip.p99 value=%lld unit=us baseline=%lld ratio=%.3f\n",
            (long long)p99, (long long)b99, (double)p99 / (double)(b99 ? b99 : 1));
        printf("BENCH name=ibkr.roundtrip.orders_per_sec value=%.1f unit=orders/s "
               "baseline=%d ratio=%.3f\n",
               rate, cfg.max_msgs_per_sec, rate / cfg.max_msgs_per_sec);
        rc = 0;
out:
        te_broker_destroy(b);
        te_reports_free(&rep);
        if (fake_pid > 0) {
                kill(fake_pid, SIGTERM);
                waitpid(fake_pid, NULL, 0);
        }
        return rc;
}
