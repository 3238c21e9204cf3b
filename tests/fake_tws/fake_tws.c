/*
 * fake_tws: a scripted TWS / IB Gateway for tests, speaking the same wire protocol
 * (brokers/tws_proto.h): "API\0" + version range, server version, START_API,
 * nextValidId/managedAccounts, then placeOrder, cancelOrder, reqOpenOrders,
 * reqExecutions, reqPositions and reqIds.
 *
 *   fake_tws --port-file FILE [--port N] [--scenario NAME] [--accounts DU1,DU2]
 *            [--next-id N] [--price P] [--commission C] [--pace-limit N]
 *            [--fill-delay-ms N] [--outage-ms N] [--drop-after N]
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
 * Executions are at --price (limit/stop price when the order has one), with
 * --commission per execution. openOrder is the full message of the negotiated server
 * version (te_tws_enc_open_order), sent with each new order and for reqOpenOrders.
 *
 * On stderr one line per event: "PLACE id=.. ref=.. BUY 100 AAA MKT", "CANCEL id=..",
 * "EXEC id=.. exec=.. qty=..", "CONNECT ver=..", "DROP", "MALFORMED"; on SIGTERM a
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

#include "te_buf.h"
#include "tws_proto.h"

#define MAX_ORDERS 20000
#define MAX_EXECS  60000
#define MAX_SCHED  60000

typedef struct order_s {
        te_tws_order_t o;
        int64_t client_id;
        double filled;
        int open; /* resting at "IB" */
        int cancelled;
        int pending_race_qty_x10; /* unused marker */
} order_t;

typedef struct exec_s {
        int64_t order_idx;
        char exec_id[32];
        double qty, price, commission;
        double cum;
} exec_t;

typedef struct sched_s {
        int64_t due;
        int order_idx;
        double qty;
        int kind; /* 0 exec, 1 cancel-race tail, 2 error 1102 */
} sched_t;

static volatile sig_atomic_t stop_flag;
static void on_sig(int s)
{
        (void)s;
        stop_flag = 1;
}

static struct {
        char scenario[32];
        char accounts[256];
        char malformed[16];
        double price, commission;
        int pace_limit;
        int64_t fill_delay_ms, outage_ms;
        int drop_after;
} opt = {"fill", "DU111111", "badint", 100.5, 1.0, 50, 100, 1500, 3};

static order_t orders[MAX_ORDERS];
static int n_orders;
static exec_t execs[MAX_EXECS];
static int n_execs;
static sched_t sched[MAX_SCHED];
static int n_sched;
static int64_t next_id = 1;
static int cfd = -1;
static int64_t client_id = -1;
static int started, version;
static te_buf_t rbuf, wbuf;
static int64_t outage_until;
static int n_places, n_cancels, pacing_errors, malformed_sent;
static int64_t msg_times[4096];
static int msg_head, msg_n, max_window;
static int64_t last_100;

static int64_t mono_ms(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int is(const char *s)
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

static void drop_client(const char *why)
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

static double exec_price(const order_t *od)
{
        if (od->o.has_lmt_price && od->o.lmt_price > 0)
                return od->o.lmt_price;
        if (od->o.has_aux_price && od->o.aux_price > 0)
                return od->o.aux_price;
        return opt.price;
}

static void send_status(int idx, const char *status)
{
        order_t *od = &orders[idx];
        te_tws_order_status_t s;
        memset(&s, 0, sizeof s);
        s.order_id = od->o.order_id;
        snprintf(s.status, sizeof s.status, "%s", status);
        s.filled = od->filled;
        s.remaining = od->open ? od->o.total_qty - od->filled : 0;
        s.avg_fill_price = od->filled > 0 ? exec_price(od) : 0;
        s.perm_id = 1000000 + idx;
        s.client_id = od->client_id;
        (void)te_tws_enc_order_status(&wbuf, &s);
}

/* openOrder (the full form of the negotiated server version) for order idx. */
static void send_open_order(int idx, const char *status)
{
        te_tws_open_order_t oo;
        memset(&oo, 0, sizeof oo);
        oo.order = orders[idx].o;
        oo.client_id = orders[idx].client_id;
        oo.perm_id = 1000000 + idx;
        snprintf(oo.status, sizeof oo.status, "%s", status);
        (void)te_tws_enc_open_order(&wbuf, &oo);
}

static void enc_exec(const exec_t *x, int64_t req_id)
{
        const order_t *od = &orders[x->order_idx];
        te_tws_exec_t e;
        memset(&e, 0, sizeof e);
        e.req_id = req_id;
        e.order_id = od->o.order_id;
        e.con_id = 0;
        snprintf(e.symbol, sizeof e.symbol, "%s", od->o.symbol);
        snprintf(e.sec_type, sizeof e.sec_type, "STK");
        snprintf(e.currency, sizeof e.currency, "USD");
        snprintf(e.exec_id, sizeof e.exec_id, "%s", x->exec_id);
        snprintf(e.time, sizeof e.time, "20250102  10:00:00");
        snprintf(e.account, sizeof e.account, "%s", od->o.account);
        snprintf(e.exchange, sizeof e.exchange, "NYSE");
        snprintf(e.side, sizeof e.side, "%s",
                 strcmp(od->o.action, "BUY") ? "SLD" : "BOT");
        e.shares = x->qty;
        e.price = x->price;
        e.perm_id = 1000000 + x->order_idx;
        e.client_id = od->client_id;
        e.cum_qty = x->cum;
        e.avg_price = x->price;
        snprintf(e.order_ref, sizeof e.order_ref, "%s", od->o.order_ref);
        (void)te_tws_enc_exec_details(&wbuf, &e);
        te_tws_commission_t c;
        memset(&c, 0, sizeof c);
        snprintf(c.exec_id, sizeof c.exec_id, "%s", x->exec_id);
        c.commission = x->commission;
        snprintf(c.currency, sizeof c.currency, "USD");
        (void)te_tws_enc_commission(&wbuf, &c);
}

static void schedule(int idx, int64_t due, double qty, int kind);

/* Execute qty of order idx now; send it when a client is connected. */
static void execute(int idx, double qty, int send_it)
{
        order_t *od = &orders[idx];
        if (!od->open || qty <= 0 || n_execs == MAX_EXECS)
                return;
        if (qty > od->o.total_qty - od->filled)
                qty = od->o.total_qty - od->filled;
        exec_t *x = &execs[n_execs];
        x->order_idx = idx;
        /* IB exec ids are unique across sessions: make ours unique per fake process */
        snprintf(x->exec_id, sizeof x->exec_id, "%08x.%08x.01.01", (unsigned)getpid(),
                 (unsigned)(n_execs + 1));
        n_execs++;
        x->qty = qty;
        x->price = exec_price(od);
        x->commission = opt.commission;
        od->filled += qty;
        x->cum = od->filled;
        if (od->filled >= od->o.total_qty - 1e-9)
                od->open = 0;
        fprintf(stderr, "EXEC id=%lld exec=%s qty=%g price=%g ref=%s sent=%d\n",
                (long long)od->o.order_id, x->exec_id, qty, x->price, od->o.order_ref,
                send_it && cfd >= 0 && started);
        if (!send_it || cfd < 0 || !started)
                return;
        if (is("malformed") && !malformed_sent) {
                malformed_sent = 1;
                fprintf(stderr, "MALFORMED %s\n", opt.malformed);
                if (!strcmp(opt.malformed, "biglen")) {
                        (void)te_buf_append(&wbuf,
                                            "\x7f\xff\xff\xff"
                                            "11\0",
                                            7);
                } else if (!strcmp(opt.malformed, "fewfields")) {
                        (void)te_buf_append(&wbuf,
                                            "\0\0\0\x04"
                                            "3\0"
                                            "7\0",
                                            8);
                } else {
                        /* execDetails with shares "abc" */
                        size_t start = wbuf.len;
                        enc_exec(x, -1);
                        char *p = (char *)wbuf.data + start;
                        size_t len = wbuf.len - start;
                        char *q = memmem(p, len, "\0BOT\0", 5);
                        if (!q)
                                q = memmem(p, len, "\0SLD\0", 5);
                        if (q && q + 5 < p + len)
                                q[5] = 'x'; /* the shares field now starts with 'x' */
                }
                return;
        }
        enc_exec(x, -1);
        if (is("dup_exec"))
                enc_exec(x, -1);
        send_status(idx, od->open ? "Submitted" : "Filled");
        if (is("ib_lost") && n_execs == 1) {
                fprintf(stderr, "IBLOST\n");
                (void)te_tws_enc_error(&wbuf, -1, 1100,
                                       "Connectivity between IB and Trader Workstation "
                                       "has been lost.");
                schedule(idx, mono_ms() + opt.outage_ms, 0, 2);
        }
}

static void schedule(int idx, int64_t due, double qty, int kind)
{
        if (n_sched == MAX_SCHED)
                return;
        sched[n_sched++] = (sched_t){due, idx, qty, kind};
}

static void on_place(const te_tws_order_t *o)
{
        n_places++;
        fprintf(stderr, "PLACE id=%lld ref=%s %s %g %s %s tif=%s acct=%s\n",
                (long long)o->order_id, o->order_ref, o->action, o->total_qty, o->symbol,
                o->order_type, o->tif, o->account);
        if (o->order_id >= next_id)
                next_id = o->order_id + 1;
        if (is("disconnect") && n_places == opt.drop_after) {
                /* the order is lost; everything resting fills during the outage */
                fprintf(stderr, "LOST id=%lld\n", (long long)o->order_id);
                drop_client("outage");
                for (int i = 0; i < n_orders; i++)
                        if (orders[i].open)
                                execute(i, orders[i].o.total_qty, 0);
                outage_until = mono_ms() + opt.outage_ms;
                return;
        }
        if (n_orders == MAX_ORDERS)
                return;
        int idx = n_orders++;
        order_t *od = &orders[idx];
        memset(od, 0, sizeof *od);
        od->o = *o;
        od->client_id = client_id;
        od->open = 1;
        if (is("reject")) {
                od->open = 0;
                (void)te_tws_enc_error(
                    &wbuf, o->order_id, 201,
                    "Order rejected - reason:YOUR ORDER IS NOT ACCEPTED.");
                send_status(idx, "Inactive");
                return;
        }
        send_open_order(idx, "Submitted");
        send_status(idx, "Submitted");
        int64_t now = mono_ms();
        if (is("partial")) {
                double q1 = (double)(long long)(o->total_qty * 0.3);
                schedule(idx, now + opt.fill_delay_ms, q1, 0);
                schedule(idx, now + 2 * opt.fill_delay_ms, q1, 0);
                schedule(idx, now + 3 * opt.fill_delay_ms, o->total_qty - 2 * q1, 0);
        } else if (is("cancel_race")) {
                execute(idx, (double)(long long)(o->total_qty * 0.4), 1);
        } else if (is("disconnect") && n_places < opt.drop_after) {
                /* rests */
        } else {
                schedule(idx, now + (is("malformed") ? 0 : 0), o->total_qty, 0);
        }
}

static int find_order(int64_t id)
{
        for (int i = n_orders - 1; i >= 0; i--)
                if (orders[i].o.order_id == id)
                        return i;
        return -1;
}

static void on_cancel(int64_t id)
{
        n_cancels++;
        fprintf(stderr, "CANCEL id=%lld\n", (long long)id);
        int idx = find_order(id);
        if (idx < 0) {
                (void)te_tws_enc_error(
                    &wbuf, id, 10147, "OrderId that needs to be cancelled is not found.");
                return;
        }
        order_t *od = &orders[idx];
        if (!od->open) {
                (void)te_tws_enc_error(&wbuf, id, 10148,
                                       "OrderId that needs to be cancelled cannot be "
                                       "cancelled, state: Filled.");
                return;
        }
        if (is("cancel_race")) {
                /* 30% more fills at IB before the cancel takes effect; the status and
                 * 202 overtake its execDetails */
                double q = (double)(long long)(od->o.total_qty * 0.3);
                double keep = od->filled;
                od->filled += q;
                od->open = 0;
                send_status(idx, "Cancelled");
                (void)te_tws_enc_error(&wbuf, id, 202, "Order Canceled - reason:");
                od->filled = keep;
                od->open = 1;
                schedule(idx, mono_ms() + 50, q, 1);
                return;
        }
        od->open = 0;
        od->cancelled = 1;
        send_status(idx, "Cancelled");
        (void)te_tws_enc_error(&wbuf, id, 202, "Order Canceled - reason:");
}

static void on_req_open_orders(void)
{
        for (int i = 0; i < n_orders; i++) {
                order_t *od = &orders[i];
                if (!od->open || od->client_id != client_id)
                        continue;
                send_open_order(i, "Submitted");
                send_status(i, "Submitted");
        }
        (void)te_tws_enc_open_order_end(&wbuf);
}

static void on_req_executions(int64_t req_id, int64_t filter_client)
{
        for (int i = 0; i < n_execs; i++) {
                const order_t *od = &orders[execs[i].order_idx];
                if (filter_client > 0 && od->client_id != filter_client)
                        continue;
                enc_exec(&execs[i], req_id);
        }
        (void)te_tws_enc_exec_details_end(&wbuf, req_id);
}

static void on_req_positions(void)
{
        /* one position line per symbol of the first account */
        for (int i = 0; i < n_orders; i++) {
                int first = 1;
                for (int j = 0; j < i; j++)
                        if (!strcmp(orders[j].o.symbol, orders[i].o.symbol))
                                first = 0;
                if (!first)
                        continue;
                te_tws_position_t p;
                memset(&p, 0, sizeof p);
                snprintf(p.account, sizeof p.account, "%s", orders[i].o.account);
                snprintf(p.symbol, sizeof p.symbol, "%s", orders[i].o.symbol);
                snprintf(p.sec_type, sizeof p.sec_type, "STK");
                snprintf(p.currency, sizeof p.currency, "USD");
                for (int j = i; j < n_orders; j++)
                        if (!strcmp(orders[j].o.symbol, orders[i].o.symbol))
                                p.position += strcmp(orders[j].o.action, "BUY")
                                                  ? -orders[j].filled
                                                  : orders[j].filled;
                p.avg_cost = opt.price;
                (void)te_tws_enc_position(&wbuf, &p);
        }
        (void)te_tws_enc_position_end(&wbuf);
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
                        on_place(&req.u.place);
                        if (cfd < 0)
                                return 0;
                        break;
                case TE_TWS_OUT_CANCEL_ORDER:
                        on_cancel(req.u.cancel_id);
                        break;
                case TE_TWS_OUT_REQ_OPEN_ORDERS:
                        on_req_open_orders();
                        break;
                case TE_TWS_OUT_REQ_EXECUTIONS:
                        on_req_executions(req.u.exec_filter.req_id,
                                          req.u.exec_filter.client_id);
                        break;
                case TE_TWS_OUT_REQ_POSITIONS:
                        on_req_positions();
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

static void run_sched(void)
{
        int64_t now = mono_ms();
        for (int i = 0; i < n_sched;) {
                if (sched[i].due > now) {
                        i++;
                        continue;
                }
                sched_t s = sched[i];
                sched[i] = sched[--n_sched];
                if (s.kind == 2) {
                        fprintf(stderr, "IBRESTORED\n");
                        (void)te_tws_enc_error(&wbuf, -1, 1102,
                                               "Connectivity between IB and Trader "
                                               "Workstation has been restored - data "
                                               "maintained.");
                } else if (s.kind == 1) {
                        /* cancel race tail: the late execution, then the order ends */
                        execute(s.order_idx, s.qty, 1);
                        orders[s.order_idx].open = 0;
                        orders[s.order_idx].cancelled = 1;
                } else {
                        execute(s.order_idx, s.qty, 1);
                }
        }
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
                else if (!strcmp(a, "--outage-ms"))
                        opt.outage_ms = strtoll(v, NULL, 10);
                else if (!strcmp(a, "--drop-after"))
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
                run_sched();
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
