/*
 * bench_fix: NewOrderSingle -> fill ExecutionReport round trips of the fix adapter
 * against QuickFIX's `executor` example on loopback (FIX 4.4, SenderCompID EXECUTOR,
 * TargetCompID TE; started by ops/bench with tests/integration/fix_lib.sh).
 *
 *   bench_fix PORT [N]
 *
 * Both sides log on with ResetSeqNumFlag=Y (the executor keeps its numbers in a file
 * store) and send N LIMIT orders one at a time, 5 ms apart. Prints:
 *   fix.roundtrip      p50 (us) from te_broker_handle(NEW) to its FILL report through
 *                      the adapter (fix_session, fix_app, request queue, poll loop);
 *                      baseline: p50 of the same NewOrderSingle -> ExecutionReport
 *                      exchange by a bare blocking client (plain socket, frames made
 *                      and read with fix_proto, no session or order logic)
 *   fix.roundtrip.p99  the same at p99
 */
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../broker_defaults.h"
#include "broker_fix.h"
#include "fix_proto.h"
#include "te_buf.h"
#include "te_log.h"
#include "te_proc.h"

#define MAX_N 5000

static int cmp_i64(const void *a, const void *b)
{
        int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
        return (x > y) - (x < y);
}

static int64_t pct(int64_t *v, int n, double p)
{
        qsort(v, (size_t)n, sizeof *v, cmp_i64);
        return v[(int)(p * (n - 1) + 0.5)];
}

/* ---- the bare client ------------------------------------------------------ */

typedef struct {
        int fd;
        int64_t seq;
        char rbuf[65536];
        size_t rlen;
} bare_t;

static int bare_send(bare_t *c, const char *type, const char *const *fields)
{
        char buf[1024];
        te_fix_hdr_t h = {type, "TE", "EXECUTOR", ++c->seq, te_proc_wall_ms(), 0, 0};
        te_fix_enc_t e;
        te_fix_enc_begin_v(&e, buf, sizeof buf, &h, NULL);
        for (; *fields; fields += 2)
                te_fix_enc_str(&e, (int)strtol(fields[0], NULL, 10), fields[1]);
        long n = te_fix_enc_end(&e);
        return n > 0 && send(c->fd, buf, (size_t)n, MSG_NOSIGNAL) == n ? 0 : -1;
}

/* Read frames until one of `type` (with ClOrdID `clordid` when not NULL). */
static int bare_wait(bare_t *c, const char *type, const char *clordid)
{
        static te_fix_msg_t m;
        for (;;) {
                size_t flen;
                char err[128];
                while (te_fix_frame_next_v((const uint8_t *)c->rbuf, c->rlen, NULL, &flen,
                                           err, sizeof err) == TE_FIX_OK) {
                        int hit = te_fix_parse(c->rbuf, flen, &m) == TE_FIX_OK &&
                                  strcmp(m.msg_type, type) == 0;
                        if (hit && clordid) {
                                char id[64] = "";
                                (void)te_fix_get_str(&m, TE_FIX_T_CLORDID, id, sizeof id);
                                hit = strcmp(id, clordid) == 0;
                        }
                        memmove(c->rbuf, c->rbuf + flen, c->rlen - flen);
                        c->rlen -= flen;
                        if (hit)
                                return 0;
                }
                if (c->rlen == sizeof c->rbuf)
                        return -1;
                ssize_t n = recv(c->fd, c->rbuf + c->rlen, sizeof c->rbuf - c->rlen, 0);
                if (n <= 0)
                        return -1;
                c->rlen += (size_t)n;
        }
}

static int baseline(int port, int n, int64_t *lat)
{
        static bare_t c;
        int one = 1, rc = -1;
        memset(&c, 0, sizeof c);
        c.fd = socket(AF_INET, SOCK_STREAM, 0);
        struct sockaddr_in sa = {.sin_family = AF_INET,
                                 .sin_port = htons((uint16_t)port)};
        sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        setsockopt(c.fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        if (connect(c.fd, (struct sockaddr *)&sa, sizeof sa) != 0)
                goto out;
        static const char *const logon[] = {"98", "0", "108", "30", "141", "Y", NULL};
        if (bare_send(&c, "A", logon) != 0 || bare_wait(&c, "A", NULL) != 0)
                goto out;
        for (int i = 0; i < n; i++) {
                char id[32], now[TE_FIX_TIME_LEN];
                snprintf(id, sizeof id, "base-%d", i);
                (void)te_fix_fmt_time(now, te_proc_wall_ms());
                const char *const d[] = {"11", id,   "21", "1",  "55", "AAA", "54",
                                         "1",  "60", now,  "38", "10", "40",  "2",
                                         "44", "10", "59", "0",  NULL};
                int64_t t0 = te_proc_mono_ns();
                if (bare_send(&c, "D", d) != 0 || bare_wait(&c, "8", id) != 0)
                        goto out;
                lat[i] = (te_proc_mono_ns() - t0) / 1000;
                usleep(5000);
        }
        static const char *const none[] = {NULL};
        if (bare_send(&c, "5", none) == 0)
                (void)bare_wait(&c, "5", NULL);
        rc = 0;
out:
        close(c.fd);
        return rc;
}

/* ---- the adapter ------------------------------------------------------------ */

static te_order_cmd_t order(int i)
{
        te_order_cmd_t c;
        memset(&c, 0, sizeof c);
        c.command = TE_CMD_NEW;
        snprintf(c.order_id, sizeof c.order_id, "bench-%d", i);
        te_strlcpy(c.ids.portfolio_id, "pf-bench", sizeof c.ids.portfolio_id);
        te_strlcpy(c.ticker, "AAA", sizeof c.ticker);
        c.quantity = 10;
        c.order_type = TE_OT_LIMIT;
        c.has_limit_price = 1;
        c.limit_price = 10;
        c.tif = TE_TIF_DAY;
        c.mode = TE_MODE_PRODUCTION;
        te_strlcpy(c.route, "fix", sizeof c.route);
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
                fprintf(stderr, "usage: bench_fix PORT [N]\n");
                return 2;
        }
        int port = (int)strtol(argv[1], NULL, 10);
        int n = argc > 2 ? (int)strtol(argv[2], NULL, 10) : 200;
        if (n < 2 || n > MAX_N)
                n = 200;
        signal(SIGPIPE, SIG_IGN);
        te_log_init("bench_fix", TE_LOG_ERROR);
        static int64_t lat[MAX_N], base[MAX_N];
        int rc = 1;
        te_broker_t *b = NULL;
        te_reports_t rep = {0};
        /* the executor may still be starting: retry the bare client's connection */
        int64_t end = te_proc_mono_ms() + 10000;
        int brc;
        while ((brc = baseline(port, n, base)) != 0 && te_proc_mono_ms() < end)
                usleep(100000);
        if (brc != 0) {
                fprintf(stderr, "bench_fix: baseline failed\n");
                goto out;
        }
        te_fix_cfg_t cfg;
        te_fix_cfg_defaults(&cfg);
        cfg.use_db = 0; /* exec-broker's default keeps the session in the runtime DB */
        cfg.port = port;
        te_strlcpy(cfg.sender, "TE", sizeof cfg.sender);
        te_strlcpy(cfg.target, "EXECUTOR", sizeof cfg.target);
        cfg.reset_on_logon = 1;
        cfg.max_msgs_per_sec = 1000;
        cfg.use_db = 0;
        char errstr[256];
        b = te_fix_new(&cfg, errstr, sizeof errstr);
        if (!b) {
                fprintf(stderr, "bench_fix: %s\n", errstr);
                goto out;
        }
        end = te_proc_mono_ms() + 10000;
        while (!b->ops->connected(b) && te_proc_mono_ms() < end) {
                usleep(200);
                (void)b->ops->poll(b, &rep);
        }
        if (!b->ops->connected(b)) {
                fprintf(stderr, "bench_fix: adapter not logged on\n");
                goto out;
        }
        size_t seen = 0;
        for (int i = 0; i < n; i++) {
                te_order_cmd_t c = order(i);
                int64_t t0 = te_proc_mono_ns();
                if (te_broker_handle(b, &c, &rep) != TE_BROKER_OK)
                        goto out;
                int got = count_fills(&rep, &seen);
                end = te_proc_mono_ms() + 5000;
                while (!got && te_proc_mono_ms() < end) {
                        usleep(20); /* yield like an event loop */
                        (void)b->ops->poll(b, &rep);
                        got = count_fills(&rep, &seen);
                }
                if (!got) {
                        fprintf(stderr, "bench_fix: no FILL for order %d\n", i);
                        goto out;
                }
                lat[i] = (te_proc_mono_ns() - t0) / 1000;
                usleep(5000);
        }
        te_fix_logout(b, 2000, &rep);
        int64_t p50 = pct(lat, n, 0.5), p99 = pct(lat, n, 0.99);
        int64_t b50 = pct(base, n, 0.5), b99 = pct(base, n, 0.99);
        printf("BENCH name=fix.roundtrip value=%lld unit=us baseline=%lld ratio=%.3f\n",
               (long long)p50, (long long)b50, (double)p50 / (double)(b50 ? b50 : 1));
        printf(
            "BENCH name=fix.roundtrip.p99 value=%lld unit=us baseline=%lld ratio=%.3f\n",
            (long long)p99, (long long)b99, (double)p99 / (double)(b99 ? b99 : 1));
        rc = 0;
out:
        te_broker_destroy(b);
        te_reports_free(&rep);
        return rc;
}
