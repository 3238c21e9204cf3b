/*
 * fake_tws: a scripted TWS / IB Gateway for tests, speaking the same wire protocol
 * (brokers/tws_proto.h): "API\0" + version range, server version, START_API,
 * nextValidId/managedAccounts, then placeOrder, cancelOrder, reqOpenOrders,
 * reqExecutions, reqPositions and reqIds.
 *
 *   fake_tws --port-file FILE [--port N] [--scenario NAME] [--accounts DU1,DU2]
 *            [--next-id N] [--price P] [--commission C] [--pace-limit N]
 *            [--fill-delay-ms N] [--outage-ms N] [--drop-after N]
 *            [--pos-adjust ACCOUNT:SYMBOL:QTY]... [--commission-delay-ms N]
 *            [--malformed badint|biglen|fewfields]
 *
 * It negotiates the highest server version both sides accept within 170..176 and
 * refuses a client whose range does not meet it. Every order and execution lives in
 * the process (across client connections), so a reconnecting client sees what
 * happened while it was away. Scenarios (what happens after a placeOrder):
 *   fill        openOrder + Submitted, then one execution for the whole quantity
 *   partial     three executions (30%, 30%, 40%) --fill-delay-ms apart
 *   reject      error 201 and status Inactive, no execution
 *   cancel_race 40% fills at once, the rest rests; on cancelOrder: status Cancelled
 *               counting 70% filled, error 202, and only then the 30% execution
 *   disconnect  orders rest; the --drop-after'th placeOrder is lost (never reaches
 *               "IB"), every resting order fills while the connection is down, and
 *               connections are refused for --outage-ms; later orders fill at once
 *   dup_exec    like fill, but every execDetails/commissionReport is sent twice
 *   pacing      like fill; more than --pace-limit client messages in one second
 *               get error 100 (once per second)
 *   ib_lost     like fill, but after the first execution TWS loses IB: error 1100,
 *               and --outage-ms later error 1102 (restored, data maintained)
 *   malformed   the first order's execution is sent as a malformed frame (kind
 *               --malformed), then executions are normal
 *   modify      LMT/STP orders rest until modified, then fill in full at the new
 *               terms --fill-delay-ms later; MKT orders fill at IB at once but their
 *               execution reaches the client --fill-delay-ms later (a fill in flight)
 * In every scenario a placeOrder for an order id IB has is a modification, as in TWS:
 * refused with error 104 if the order filled, 103 if it is no longer working, 105 if
 * contract, side, account or order type differ; else the new quantity, prices and TIF
 * apply, confirmed by openOrder and orderStatus. A new order id below the next valid
 * id gets 103.
 * Executions are at --price (limit/stop price when the order has one), with
 * --commission per execution, its commissionReport right after the execDetails (a live
 * one --commission-delay-ms later, if set). openOrder is the full message of the
 * negotiated server version (te_tws_enc_open_order), sent with each new order and for
 * reqOpenOrders. reqPositions answers, per account and symbol, what the orders filled
 * plus the
 * --pos-adjust quantities (positions the client's books do not have).
 *
 * On stderr one line per event: "PLACE id=.. ref=.. BUY 100 AAA MKT", "CANCEL id=..",
 * "MODIFY id=.. ref=.. qty=.. lmt=..", "MODIFY_REFUSED id=.. code=..",
 * "EXEC id=.. exec=.. qty=..", "CONNECT ver=..", "DROP", "MALFORMED",
 * "CANCEL_POSITIONS"; on SIGTERM a
 * final "STATS places=.. cancels=.. execs=.. max_msgs_per_1s=.. pacing_errors=..".
 */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "fake_tws.h"

static volatile sig_atomic_t stop_flag;
static void on_sig(int s)
{
        (void)s;
        stop_flag = 1;
}

fake_opt_t opt = {.scenario = "fill",
                  .accounts = "DU111111",
                  .malformed = "badint",
                  .price = 100.5,
                  .commission = 1.0,
                  .pace_limit = 50,
                  .fill_delay_ms = 100,
                  .outage_ms = 1500,
                  .drop_after = 3};
order_t orders[MAX_ORDERS];
int n_orders;
exec_t execs[MAX_EXECS];
int n_execs;
sched_t sched[MAX_SCHED];
int n_sched;
int64_t next_id = 1;
int cfd = -1;
int64_t client_id = -1;
int started;
te_buf_t wbuf;
int64_t outage_until;
int n_places, n_cancels, malformed_sent;
static int version;
static te_buf_t rbuf;
static int pacing_errors;
static int64_t msg_times[4096];
static int msg_head, msg_n, max_window;
static int64_t last_100;

int64_t mono_ms(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int is(const char *s)
{
        return strcmp(opt.scenario, s) == 0;
}

static void flush_out(void)
{
        while (cfd >= 0 && wbuf.len) {
                ssize_t n = send(cfd, wbuf.data, wbuf.len, MSG_NOSIGNAL);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        if (errno == EAGAIN) {
                                struct pollfd p = {cfd, POLLOUT, 0};
                                (void)poll(&p, 1, 100);
                                continue;
                        }
                        break;
                }
                memmove(wbuf.data, wbuf.data + n, wbuf.len - (size_t)n);
                wbuf.len -= (size_t)n;
        }
        te_buf_reset(&wbuf);
}

void drop_client(const char *why)
{
        if (cfd < 0)
                return;
        fprintf(stderr, "DROP %s\n", why);
        close(cfd);
        cfd = -1;
        started = 0;
        client_id = -1;
        te_buf_reset(&rbuf);
        te_buf_reset(&wbuf);
}

static void count_msg(void)
{
        int64_t now = mono_ms();
        while (msg_n && msg_times[msg_head] <= now - 1000) {
                msg_head = (msg_head + 1) % 4096;
                msg_n--;
        }
        if (msg_n < 4096) {
                msg_times[(msg_head + msg_n) % 4096] = now;
                msg_n++;
        }
        if (msg_n > max_window)
                max_window = msg_n;
        if (is("pacing") && msg_n > opt.pace_limit && now - last_100 >= 1000) {
                last_100 = now;
                pacing_errors++;
                fprintf(stderr, "PACING msgs=%d\n", msg_n);
                char text[128];
                snprintf(
                    text, sizeof text,
                    "Max rate of messages per second has been exceeded:max=%d rec=%d "
                    "(1)",
                    opt.pace_limit, msg_n);
                (void)te_tws_enc_error(&wbuf, -1, 100, text);
        }
}

/* @returns 0, or -1 to drop the client. */
static int on_bytes(void)
{
        size_t off = 0;
        char errstr[200];
        if (!version) {
                int a, b;
                size_t used;
                te_tws_rc_t rc = te_tws_dec_handshake(rbuf.data, rbuf.len, &a, &b, &used,
                                                      errstr, sizeof errstr);
                if (rc == TE_TWS_EAGAIN)
                        return 0;
                if (rc != TE_TWS_OK) {
                        fprintf(stderr, "BADHANDSHAKE %s\n", errstr);
                        return -1;
                }
                int v = b < TE_TWS_VER_MAX ? b : TE_TWS_VER_MAX;
                if (v < a || v < TE_TWS_VER_MIN) {
                        fprintf(stderr, "NOVERSION client v%d..v%d\n", a, b);
                        return -1;
                }
                version = v;
                fprintf(stderr, "CONNECT ver=%d client_range=v%d..v%d\n", v, a, b);
                (void)te_tws_enc_server_version(&wbuf, v, "20250102 10:00:00 EST");
                off = used;
        }
        for (;;) {
                const uint8_t *pl;
                size_t plen, used;
                te_tws_rc_t rc =
                    te_tws_frame_next(rbuf.data + off, rbuf.len - off, TE_TWS_MAX_FRAME,
                                      &pl, &plen, &used, errstr, sizeof errstr);
                if (rc == TE_TWS_EAGAIN)
                        break;
                if (rc != TE_TWS_OK) {
                        fprintf(stderr, "BADFRAME %s\n", errstr);
                        return -1;
                }
                off += used;
                te_tws_req_t req;
                if (te_tws_dec_request(pl, plen, &req, errstr, sizeof errstr) !=
                    TE_TWS_OK) {
                        fprintf(stderr, "BADREQUEST %s\n", errstr);
                        return -1;
                }
                if (started)
                        count_msg();
                switch (req.id) {
                case TE_TWS_OUT_START_API:
                        client_id = req.u.client_id;
                        started = 1;
                        (void)te_tws_enc_managed_accts(&wbuf, opt.accounts);
                        (void)te_tws_enc_next_valid_id(&wbuf, next_id);
                        fprintf(stderr, "START client_id=%lld\n", (long long)client_id);
                        break;
                case TE_TWS_OUT_PLACE_ORDER:
                        ib_on_place(&req.u.place);
                        if (cfd < 0)
                                return 0;
                        break;
                case TE_TWS_OUT_CANCEL_ORDER:
                        ib_on_cancel(req.u.cancel_id);
                        break;
                case TE_TWS_OUT_REQ_OPEN_ORDERS:
                        ib_on_req_open_orders();
                        break;
                case TE_TWS_OUT_REQ_EXECUTIONS:
                        ib_on_req_executions(req.u.exec_filter.req_id,
                                             req.u.exec_filter.client_id);
                        break;
                case TE_TWS_OUT_REQ_POSITIONS:
                        ib_on_req_positions();
                        break;
                case TE_TWS_OUT_CANCEL_POSITIONS:
                        fprintf(stderr, "CANCEL_POSITIONS\n");
                        break;
                case TE_TWS_OUT_REQ_IDS:
                        (void)te_tws_enc_next_valid_id(&wbuf, next_id);
                        break;
                default:
                        break;
                }
        }
        memmove(rbuf.data, rbuf.data + off, rbuf.len - off);
        rbuf.len -= off;
        return 0;
}

int main(int argc, char **argv)
{
        const char *port_file = NULL;
        int port = 0;
        for (int i = 1; i < argc; i++) {
                const char *a = argv[i];
                const char *v = i + 1 < argc ? argv[i + 1] : NULL;
                if (!v) {
                        fprintf(stderr, "fake_tws: %s needs a value\n", a);
                        return 2;
                }
                i++;
                if (!strcmp(a, "--port-file"))
                        port_file = v;
                else if (!strcmp(a, "--port"))
                        port = (int)strtol(v, NULL, 10);
                else if (!strcmp(a, "--scenario"))
                        snprintf(opt.scenario, sizeof opt.scenario, "%s", v);
                else if (!strcmp(a, "--accounts"))
                        snprintf(opt.accounts, sizeof opt.accounts, "%s", v);
                else if (!strcmp(a, "--malformed"))
                        snprintf(opt.malformed, sizeof opt.malformed, "%s", v);
                else if (!strcmp(a, "--next-id"))
                        next_id = strtoll(v, NULL, 10);
                else if (!strcmp(a, "--price"))
                        opt.price = strtod(v, NULL);
                else if (!strcmp(a, "--commission"))
                        opt.commission = strtod(v, NULL);
                else if (!strcmp(a, "--pace-limit"))
                        opt.pace_limit = (int)strtol(v, NULL, 10);
                else if (!strcmp(a, "--fill-delay-ms"))
                        opt.fill_delay_ms = strtoll(v, NULL, 10);
                else if (!strcmp(a, "--commission-delay-ms"))
                        opt.commission_delay_ms = strtoll(v, NULL, 10);
                else if (!strcmp(a, "--outage-ms"))
                        opt.outage_ms = strtoll(v, NULL, 10);
                else if (!strcmp(a, "--pos-adjust") && opt.n_pos_adj < MAX_POS_ADJ) {
                        int k = opt.n_pos_adj;
                        if (sscanf(v, "%31[^:]:%31[^:]:%lf", opt.pos_adj[k].account,
                                   opt.pos_adj[k].symbol, &opt.pos_adj[k].qty) != 3) {
                                fprintf(stderr,
                                        "fake_tws: --pos-adjust ACCOUNT:SYMBOL:QTY\n");
                                return 2;
                        }
                        opt.n_pos_adj++;
                } else if (!strcmp(a, "--drop-after"))
                        opt.drop_after = (int)strtol(v, NULL, 10);
                else {
                        fprintf(stderr, "fake_tws: unknown option %s\n", a);
                        return 2;
                }
        }
        signal(SIGTERM, on_sig);
        signal(SIGINT, on_sig);
        (void)prctl(PR_SET_PDEATHSIG,
                    SIGTERM); /* never outlive the test that started us */
        signal(SIGPIPE, SIG_IGN);
        te_buf_init(&rbuf, 4 * 1024 * 1024);
        te_buf_init(&wbuf, 256 * 1024 * 1024);
        int lfd = socket(AF_INET, SOCK_STREAM, 0);
        int one = 1;
        setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        struct sockaddr_in sa;
        memset(&sa, 0, sizeof sa);
        sa.sin_family = AF_INET;
        sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        sa.sin_port = htons((uint16_t)port);
        socklen_t sl = sizeof sa;
        if (bind(lfd, (struct sockaddr *)&sa, sizeof sa) != 0 || listen(lfd, 8) != 0 ||
            getsockname(lfd, (struct sockaddr *)&sa, &sl) != 0) {
                perror("fake_tws: listen");
                return 1;
        }
        if (port_file) {
                char tmp[1100];
                snprintf(tmp, sizeof tmp, "%s.tmp", port_file);
                FILE *f = fopen(tmp, "w");
                if (!f || fprintf(f, "%d\n", ntohs(sa.sin_port)) < 0 || fclose(f) != 0 ||
                    rename(tmp, port_file) != 0) {
                        perror("fake_tws: port file");
                        return 1;
                }
        }
        fprintf(stderr, "LISTEN port=%d scenario=%s\n", ntohs(sa.sin_port), opt.scenario);
        while (!stop_flag) {
                struct pollfd p[2] = {{lfd, POLLIN, 0}, {cfd, POLLIN, 0}};
                int n = poll(p, cfd >= 0 ? 2 : 1, 5);
                if (n < 0 && errno != EINTR)
                        break;
                if (p[0].revents & POLLIN) {
                        int fd = accept(lfd, NULL, NULL);
                        if (fd >= 0) {
                                if (mono_ms() < outage_until) {
                                        fprintf(stderr, "REFUSE outage\n");
                                        close(fd);
                                } else {
                                        if (cfd >= 0)
                                                drop_client("new client");
                                        cfd = fd;
                                        version = 0;
                                        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one,
                                                   sizeof one);
                                }
                        }
                }
                if (cfd >= 0 && (p[1].revents & (POLLIN | POLLHUP | POLLERR))) {
                        if (te_buf_reserve(&rbuf, 65536) != 0) {
                                drop_client("input too large");
                                continue;
                        }
                        ssize_t r =
                            recv(cfd, rbuf.data + rbuf.len, rbuf.cap - rbuf.len, 0);
                        if (r <= 0) {
                                if (r < 0 && errno == EINTR)
                                        continue;
                                drop_client("client closed");
                                continue;
                        }
                        rbuf.len += (size_t)r;
                        if (on_bytes() != 0) {
                                drop_client("protocol error");
                                continue;
                        }
                }
                ib_run_sched();
                flush_out();
        }
        fprintf(
            stderr,
            "STATS places=%d cancels=%d execs=%d max_msgs_per_1s=%d pacing_errors=%d\n",
            n_places, n_cancels, n_execs, max_window, pacing_errors);
        if (cfd >= 0)
                close(cfd);
        close(lfd);
        te_buf_free(&rbuf);
        te_buf_free(&wbuf);
        return 0;
}
