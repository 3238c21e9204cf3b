/*
 * test_broker_fix: the fix adapter (brokers/broker_fix.c) against a scripted FIX
 * acceptor written here on loopback TCP (frames made and read with fix_proto).
 *
 * The acceptor answers Logon and TestRequest by itself; everything else is the
 * script: what it expects the adapter to send (message type and fields) and what it
 * answers. Checked: a partial fill, the same ExecutionReport resent with PossDupFlag
 * published once, the fill; a cancel (ClOrdID "<id>:c1", OrigClOrdID the order's);
 * a replace accepted (terms taken, the next replace's OrigClOrdID is the accepted
 * one) and one refused (OrderCancelReject: an alert and a REJECTED report with the
 * order's live status, which settles the request for the planner); a session Reject of a
 * NewOrderSingle (REJECTED with the counterparty's text); a garbled frame (alert, the
 * session goes on); and a lost connection: the adapter says it is down, reconnects,
 * asks the status of its open orders, publishes a fill that happened meanwhile once
 * and resolves an order the counterparty does not know as CANCELED, then says it is
 * up again; sequence numbers continue over the reconnect. Ended orders dropped from
 * memory, requests on orders never had answered; fix.begin_string checked.
 */
#include <errno.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "../broker_defaults.h"
#include "broker_fix.h"
#include "te_buf.h"
#include "te_proc.h"

#define NF 32

typedef struct {
        int lfd, fd, port;
        char rbuf[65536];
        size_t rlen;
        int64_t seq_out, last_in;
        char fr[NF][2048];
        size_t flen[NF];
        size_t nf;
} acc_t;

static acc_t A;
static int acc_quiet_logon; /* 1: a Logon of the adapter gets no automatic answer */
static te_broker_t *B;
static te_reports_t R;
static char alerts[4096];

static void on_alert(void *ctx, te_severity_t sev, const char *code, const char *d,
                     const char *p, const char *o, const char *msg)
{
        (void)ctx;
        (void)sev;
        (void)d;
        (void)p;
        size_t n = strlen(alerts);
        snprintf(alerts + n, sizeof alerts - n, "%s[%s]%s;", code, o, msg);
}

static void acc_listen(void)
{
        memset(&A, 0, sizeof A);
        A.fd = -1;
        A.lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
        assert_true(A.lfd >= 0);
        struct sockaddr_in sa = {.sin_family = AF_INET,
                                 .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
        assert_int_equal(bind(A.lfd, (struct sockaddr *)&sa, sizeof sa), 0);
        assert_int_equal(listen(A.lfd, 4), 0);
        socklen_t l = sizeof sa;
        assert_int_equal(getsockname(A.lfd, (struct sockaddr *)&sa, &l), 0);
        A.port = ntohs(sa.sin_port);
}

/* Send "35=X|tag=v|..." (the header is added). */
static void acc_send(const char *spec)
{
        char tmp[1024], buf[2048];
        snprintf(tmp, sizeof tmp, "%s", spec);
        char *sv, *p = strtok_r(tmp, "|", &sv);
        te_fix_hdr_t h = {p + 3, "QFX", "TE", ++A.seq_out, te_proc_wall_ms(), 0, 0};
        te_fix_enc_t e;
        te_fix_enc_begin_v(&e, buf, sizeof buf, &h, NULL);
        while ((p = strtok_r(NULL, "|", &sv)) != NULL)
                te_fix_enc_str(&e, (int)strtol(p, NULL, 10), strchr(p, '=') + 1);
        long n = te_fix_enc_end(&e);
        assert_true(n > 0);
        assert_int_equal(send(A.fd, buf, (size_t)n, MSG_NOSIGNAL), n);
}

static void acc_drop(void)
{
        close(A.fd);
        A.fd = -1;
        A.rlen = 0;
        A.nf = 0;
}

static void acc_poll(void)
{
        if (A.fd < 0) {
                A.fd = accept4(A.lfd, NULL, NULL, SOCK_NONBLOCK);
                if (A.fd < 0)
                        return;
        }
        ssize_t n = recv(A.fd, A.rbuf + A.rlen, sizeof A.rbuf - A.rlen, 0);
        if (n == 0) {
                acc_drop();
                return;
        }
        if (n > 0)
                A.rlen += (size_t)n;
        for (;;) {
                size_t flen;
                char err[128];
                if (te_fix_frame_next_v((const uint8_t *)A.rbuf, A.rlen, NULL, &flen, err,
                                        sizeof err) != TE_FIX_OK)
                        break;
                static te_fix_msg_t m;
                assert_int_equal(te_fix_parse(A.rbuf, flen, &m), TE_FIX_OK);
                assert_true(m.seq > A.last_in); /* the adapter's numbers only go up */
                A.last_in = m.seq;
                if (strcmp(m.msg_type, "A") == 0 && !acc_quiet_logon) {
                        acc_send("35=A|98=0|108=30");
                } else if (strcmp(m.msg_type, "1") == 0) {
                        char id[64];
                        char spec[96];
                        assert_int_equal(te_fix_get_str(&m, 112, id, sizeof id), 0);
                        snprintf(spec, sizeof spec, "35=0|112=%s", id);
                        acc_send(spec);
                } else if (strcmp(m.msg_type, "0") != 0 && A.nf < NF) {
                        memcpy(A.fr[A.nf], A.rbuf, flen);
                        A.flen[A.nf++] = flen;
                }
                memmove(A.rbuf, A.rbuf + flen, A.rlen - flen);
                A.rlen -= flen;
        }
}

static void step(void)
{
        assert_int_equal(B->ops->poll(B, &R), TE_BROKER_OK);
        acc_poll();
        struct timespec ts = {0, 500 * 1000};
        nanosleep(&ts, NULL); /* pacing only; every wait has a condition and deadline */
}

/* Wait until the acceptor got a message of `type` carrying every "tag=value" of
 * `want` ('|' separated); other messages stay for a later expect. */
static int matches(const te_fix_msg_t *m, const char *type, const char *want)
{
        if (strcmp(m->msg_type, type) != 0)
                return 0;
        char w[256];
        snprintf(w, sizeof w, "%s", want);
        char *sv;
        for (char *p = strtok_r(w, "|", &sv); p; p = strtok_r(NULL, "|", &sv)) {
                char v[128] = "";
                (void)te_fix_get_str(m, (int)strtol(p, NULL, 10), v, sizeof v);
                if (strcmp(v, strchr(p, '=') + 1) != 0)
                        return 0;
        }
        return 1;
}

static int64_t got_seq;   /* MsgSeqNum of the message expect() found */
static char got_mass[64]; /* and its MassStatusReqID 584 ("" if none) */

static void expect(const char *type, const char *want)
{
        int64_t deadline = te_proc_mono_ms() + 5000;
        static te_fix_msg_t m;
        while (te_proc_mono_ms() < deadline) {
                for (size_t i = 0; i < A.nf; i++) {
                        assert_int_equal(te_fix_parse(A.fr[i], A.flen[i], &m), TE_FIX_OK);
                        if (!matches(&m, type, want))
                                continue;
                        got_seq = m.seq;
                        if (te_fix_get_str(&m, 584, got_mass, sizeof got_mass) != 0)
                                got_mass[0] = '\0';
                        memmove(&A.fr[i], &A.fr[i + 1], (A.nf - i - 1) * sizeof A.fr[0]);
                        memmove(&A.flen[i], &A.flen[i + 1],
                                (A.nf - i - 1) * sizeof A.flen[0]);
                        A.nf--;
                        return;
                }
                step();
        }
        print_error("no 35=%s with %s from the adapter; it sent:\n", type, want);
        for (size_t i = 0; i < A.nf; i++)
                print_error("  %.*s\n", (int)A.flen[i], A.fr[i]);
        fail();
}

static void wait_connected(int want)
{
        int64_t deadline = te_proc_mono_ms() + 5000;
        while (B->ops->connected(B) != want && te_proc_mono_ms() < deadline)
                step();
        assert_int_equal(B->ops->connected(B), want);
}

/* Wait for `n` reports in R (and a little more: none may follow). */
static void wait_reports(size_t n)
{
        int64_t deadline = te_proc_mono_ms() + 5000;
        while (R.n < n && te_proc_mono_ms() < deadline)
                step();
        for (int i = 0; i < 50; i++)
                step();
        if (R.n != n) {
                print_error("%zu reports, want %zu\n", R.n, n);
                for (size_t i = 0; i < R.n; i++)
                        print_error("  %s %s %s\n", R.items[i].order_id,
                                    te_exec_type_name(R.items[i].exec_type),
                                    te_order_status_name(R.items[i].order_status));
                fail();
        }
}

static void check(size_t i, const char *order_id, te_exec_type_t et, te_order_status_t os,
                  double cum, double leaves, double last_qty, double last_px)
{
        const te_exec_report_t *r = &R.items[i];
        if (strcmp(r->order_id, order_id) != 0 || r->exec_type != et ||
            r->order_status != os || r->cum_qty != cum || r->leaves_qty != leaves ||
            r->last_qty != last_qty || r->last_price != last_px) {
                print_error("report %zu: %s %s %s cum %g leaves %g last %g@%g\n", i,
                            r->order_id, te_exec_type_name(r->exec_type),
                            te_order_status_name(r->order_status), r->cum_qty,
                            r->leaves_qty, r->last_qty, r->last_price);
                fail();
        }
        assert_string_equal(r->broker, "fix");
        assert_string_equal(r->ids.portfolio_id, "P1");
}

static te_order_cmd_t cmd(te_command_t c, const char *id, double qty, double lim)
{
        te_order_cmd_t o;
        memset(&o, 0, sizeof o);
        o.command = c;
        te_strlcpy(o.order_id, id, sizeof o.order_id);
        te_strlcpy(o.ticker, "AAPL", sizeof o.ticker);
        te_strlcpy(o.ids.portfolio_id, "P1", sizeof o.ids.portfolio_id);
        o.side = TE_SIDE_BUY;
        o.quantity = qty;
        o.order_type = TE_OT_LIMIT;
        o.has_limit_price = 1;
        o.limit_price = lim;
        o.tif = TE_TIF_DAY;
        o.mode = TE_MODE_PRODUCTION;
        return o;
}

static void handle(te_order_cmd_t c)
{
        assert_int_equal(te_broker_handle(B, &c, &R), TE_BROKER_OK);
}

#define ER(id, rest) "35=8|37=B" id "|11=" id "|55=AAPL|54=1|38=100|" rest

static void test_fix_adapter_scripted(void **state)
{
        (void)state;
        acc_listen();
        te_fix_cfg_t cfg;
        te_fix_cfg_defaults(&cfg);
        cfg.use_db = 0; /* exec-broker's default keeps the session in the runtime DB */
        cfg.port = A.port;
        te_strlcpy(cfg.sender, "TE", sizeof cfg.sender);
        te_strlcpy(cfg.target, "QFX", sizeof cfg.target);
        cfg.reconnect_min_ms = 20;
        cfg.reconnect_max_ms = 40;
        cfg.alert = on_alert;
        char err[128];
        B = te_fix_new(&cfg, err, sizeof err);
        assert_non_null(B);

        /* down until logged on: orders wait */
        te_order_cmd_t o1 = cmd(TE_CMD_NEW, "O1", 100, 10);
        assert_int_equal(te_broker_handle(B, &o1, &R), TE_BROKER_ERR_RETRIABLE);
        wait_connected(1);

        /* partial fill, the same report resent with PossDupFlag, the fill */
        handle(o1);
        expect("D", "11=O1|38=100|40=2|44=10|59=0|54=1|55=AAPL");
        acc_send(ER("O1", "17=E1|150=0|39=0|151=100|14=0|6=0"));
        acc_send(ER("O1", "17=E2|150=F|39=1|151=60|14=40|6=10|32=40|31=10"));
        acc_send(ER("O1", "17=E2|150=F|39=1|151=60|14=40|6=10|32=40|31=10|43=Y|"
                          "122=20000101-00:00:00.000"));
        acc_send(ER("O1", "17=E3|150=F|39=2|151=0|14=100|6=10|32=60|31=10"));
        wait_reports(3);
        check(0, "O1", TE_EXEC_ACK, TE_OS_NEW, 0, 100, 0, 0);
        check(1, "O1", TE_EXEC_PARTIAL_FILL, TE_OS_PARTIALLY_FILLED, 40, 60, 40, 10);
        check(2, "O1", TE_EXEC_FILL, TE_OS_FILLED, 100, 0, 60, 10);
        te_fix_stats_t st;
        te_fix_stats(B, &st);
        assert_int_equal(st.dup_execs, 1);
        te_reports_clear(&R);

        /* cancel */
        handle(cmd(TE_CMD_NEW, "O2", 100, 10));
        expect("D", "11=O2");
        handle(cmd(TE_CMD_CANCEL, "O2", 100, 10));
        expect("F", "41=O2|11=O2:c1|38=100");
        acc_send(ER("O2", "17=E4|150=4|39=4|151=0|14=0|6=0|41=O2"));
        wait_reports(1);
        check(0, "O2", TE_EXEC_CANCELED, TE_OS_CANCELED, 0, 0, 0, 0);
        te_reports_clear(&R);

        /* replace accepted, then one refused */
        handle(cmd(TE_CMD_NEW, "O3", 100, 10));
        expect("D", "11=O3");
        handle(cmd(TE_CMD_REPLACE, "O3", 150, 10.5));
        expect("G", "41=O3|11=O3:r1|38=150|44=10.5");
        acc_send("35=8|37=BO3|11=O3:r1|41=O3|55=AAPL|54=1|38=150|17=E5|150=5|39=0|"
                 "151=150|14=0|6=0");
        wait_reports(1);
        check(0, "O3", TE_EXEC_REPLACED, TE_OS_NEW, 0, 150, 0, 0);
        te_reports_clear(&R);
        handle(cmd(TE_CMD_REPLACE, "O3", 120, 10.25));
        expect("G", "41=O3:r1|11=O3:r2|38=120");
        acc_send("35=9|37=BO3|11=O3:r2|41=O3:r1|39=0|434=2|102=0|58=too late");
        wait_reports(1); /* settled for the planner: the order keeps its terms */
        check(0, "O3", TE_EXEC_REJECTED, TE_OS_NEW, 0, 150, 0, 0);
        assert_non_null(strstr(R.items[0].reason, "replace refused: "));
        assert_non_null(strstr(R.items[0].reason, "too late"));
        assert_non_null(strstr(alerts, "replace_refused[O3]replace of order O3 refused"));
        te_reports_clear(&R);

        /* a NewOrderSingle the counterparty rejects at session level */
        handle(cmd(TE_CMD_NEW, "O4", 5, 10));
        expect("D", "11=O4");
        char spec[128];
        snprintf(spec, sizeof spec, "35=3|45=%lld|371=40|372=D|373=5|58=no such type",
                 (long long)A.last_in);
        acc_send(spec);
        wait_reports(1);
        check(0, "O4", TE_EXEC_REJECTED, TE_OS_REJECTED, 0, 0, 0, 0);
        assert_non_null(strstr(R.items[0].reason, "no such type"));
        te_reports_clear(&R);

        /* a garbled frame: alert, the session goes on */
        const char junk[] = "8=FIX.4.4\x01"
                            "9=5\x01"
                            "35=0\x01"
                            "10=000\x01";
        assert_int_equal(send(A.fd, junk, sizeof junk - 1, MSG_NOSIGNAL),
                         (ssize_t)(sizeof junk - 1));
        handle(cmd(TE_CMD_NEW, "O5", 100, 10));
        expect("D", "11=O5");
        assert_non_null(strstr(alerts, "garbled"));

        /* a cancel of O3 goes out, and the connection drops before its answer, with
         * O3 and O5 open; meanwhile O3 got 30, O5 vanished */
        handle(cmd(TE_CMD_CANCEL, "O3", 150, 10.5));
        expect("F", "41=O3:r1|11=O3:c1");
        acc_drop();
        wait_connected(0);
        assert_int_equal(te_broker_handle(B, &o1, &R), TE_BROKER_OK); /* known: ignored */
        te_order_cmd_t o6 = cmd(TE_CMD_NEW, "O6", 1, 10);
        assert_int_equal(te_broker_handle(B, &o6, &R), TE_BROKER_ERR_RETRIABLE);
        expect("H", "11=O3:r1");
        expect("H", "11=O5");
        assert_int_equal(B->ops->connected(B), 0); /* reconciling */
        acc_send("35=8|37=BO3|11=O3:r1|55=AAPL|54=1|38=150|17=S1|150=I|39=1|151=120|"
                 "14=30|6=10.5");
        acc_send(ER("O5", "17=S2|150=I|39=8|151=0|14=0|6=0|58=unknown order"));
        wait_connected(1);
        wait_reports(2);
        check(0, "O3", TE_EXEC_PARTIAL_FILL, TE_OS_PARTIALLY_FILLED, 30, 120, 30, 10.5);
        check(1, "O5", TE_EXEC_CANCELED, TE_OS_CANCELED, 0, 0, 0, 0);
        assert_string_equal(R.items[1].reason, "unknown order");
        te_reports_clear(&R);

        /* the same status again (a repeat) publishes nothing new */
        acc_send("35=8|37=BO3|11=O3:r1|55=AAPL|54=1|38=150|17=S3|150=I|39=1|151=120|"
                 "14=30|6=10.5");
        wait_reports(0);
        te_fix_stats(B, &st);
        assert_int_equal(st.logons, 2);
        assert_int_equal(st.reconciles, 2);

        /* the cancel lost with the connection may be asked again */
        handle(cmd(TE_CMD_CANCEL, "O3", 150, 10.5));
        expect("F", "41=O3:r1|11=O3:c2");
        acc_send("35=8|37=BO3|11=O3:c2|41=O3:r1|55=AAPL|54=1|38=150|17=E9|150=4|39=4|"
                 "151=0|14=30|6=10.5");
        wait_reports(1);
        check(0, "O3", TE_EXEC_CANCELED, TE_OS_CANCELED, 30, 0, 0, 0);
        te_reports_clear(&R);

        te_reports_free(&R);
        te_broker_destroy(B);
        close(A.fd);
        close(A.lfd);
}

/* At 1 message per second the second order waits in the queue; cancelled there, it
 * ends at once and never reaches the counterparty. */
static void test_fix_adapter_cancel_queued(void **state)
{
        (void)state;
        acc_listen();
        te_fix_cfg_t cfg;
        te_fix_cfg_defaults(&cfg);
        cfg.use_db = 0; /* exec-broker's default keeps the session in the runtime DB */
        cfg.port = A.port;
        te_strlcpy(cfg.sender, "TE", sizeof cfg.sender);
        te_strlcpy(cfg.target, "QFX", sizeof cfg.target);
        cfg.max_msgs_per_sec = 1;
        char err[128];
        B = te_fix_new(&cfg, err, sizeof err);
        assert_non_null(B);
        wait_connected(1);
        handle(cmd(TE_CMD_NEW, "Q1", 10, 10));
        handle(cmd(TE_CMD_NEW, "Q2", 10, 10));
        expect("D", "11=Q1");
        handle(cmd(TE_CMD_CANCEL, "Q2", 10, 10));
        assert_int_equal(R.n, 1);
        check(0, "Q2", TE_EXEC_CANCELED, TE_OS_CANCELED, 0, 0, 0, 0);
        assert_string_equal(R.items[0].reason, "canceled before it was sent");
        te_reports_clear(&R);
        /* past the rate window: still nothing for Q2 */
        int64_t until = te_proc_mono_ms() + 1300;
        while (te_proc_mono_ms() < until)
                step();
        for (size_t i = 0; i < A.nf; i++)
                assert_null(memmem(A.fr[i], A.flen[i],
                                   "\x01"
                                   "11=Q2\x01",
                                   7));
        assert_int_equal(R.n, 0);
        te_reports_free(&R);
        te_broker_destroy(B);
        close(A.fd);
        close(A.lfd);
}

/* Refused CANCELs and REPLACEs always reach the planner: a REJECTED report with the
 * order's live status and "cancel refused: ..."/"replace refused: ...", whether the
 * counterparty refuses with an OrderCancelReject (35=9) or a BusinessMessageReject
 * (35=j), or the adapter refuses the terms itself; an OrderCancelReject saying the
 * order is unknown or done makes the adapter ask its status (35=H), and the answer is
 * what is final: a fill found, an order unknown to the counterparty ended CANCELED,
 * or, still working, the REJECTED with its live status. */
static void test_fix_adapter_refusals(void **state)
{
        (void)state;
        acc_listen();
        te_fix_cfg_t cfg;
        te_fix_cfg_defaults(&cfg);
        cfg.use_db = 0; /* exec-broker's default keeps the session in the runtime DB */
        cfg.port = A.port;
        te_strlcpy(cfg.sender, "TE", sizeof cfg.sender);
        te_strlcpy(cfg.target, "QFX", sizeof cfg.target);
        cfg.alert = on_alert;
        alerts[0] = '\0';
        char err[128];
        B = te_fix_new(&cfg, err, sizeof err);
        assert_non_null(B);
        wait_connected(1);

        /* a cancel refused while the order works, part-filled */
        handle(cmd(TE_CMD_NEW, "K1", 100, 10));
        expect("D", "11=K1");
        acc_send(ER("K1", "17=K1a|150=0|39=0|151=100|14=0|6=0"));
        acc_send(ER("K1", "17=K1b|150=F|39=1|151=60|14=40|6=10|32=40|31=10"));
        wait_reports(2);
        te_reports_clear(&R);
        handle(cmd(TE_CMD_CANCEL, "K1", 100, 10));
        expect("F", "41=K1|11=K1:c1");
        acc_send("35=9|37=BK1|11=K1:c1|41=K1|39=1|434=1|102=0|58=too late to cancel");
        wait_reports(1);
        check(0, "K1", TE_EXEC_REJECTED, TE_OS_PARTIALLY_FILLED, 40, 60, 0, 0);
        assert_non_null(strstr(R.items[0].reason, "cancel refused: "));
        assert_non_null(strstr(R.items[0].reason, "too late to cancel"));
        char ids[3][TE_ID_MAX];
        te_strlcpy(ids[0], R.items[0].report_id, sizeof ids[0]);
        te_reports_clear(&R);

        /* a replace refused by a BusinessMessageReject naming the 35=G */
        handle(cmd(TE_CMD_REPLACE, "K1", 120, 10));
        expect("G", "41=K1|11=K1:r1|38=120");
        char spec[160];
        snprintf(spec, sizeof spec, "35=j|45=%lld|372=G|380=3|58=not authorized",
                 (long long)A.last_in);
        acc_send(spec);
        wait_reports(1);
        check(0, "K1", TE_EXEC_REJECTED, TE_OS_PARTIALLY_FILLED, 40, 60, 0, 0);
        assert_non_null(strstr(R.items[0].reason, "replace refused: "));
        assert_non_null(strstr(R.items[0].reason, "not authorized"));
        te_strlcpy(ids[1], R.items[0].report_id, sizeof ids[1]);
        te_reports_clear(&R);

        /* a replace the adapter refuses itself (another ticker): never sent */
        te_order_cmd_t other = cmd(TE_CMD_REPLACE, "K1", 120, 10);
        te_strlcpy(other.ticker, "MSFT", sizeof other.ticker);
        handle(other);
        assert_int_equal(R.n, 1);
        check(0, "K1", TE_EXEC_REJECTED, TE_OS_PARTIALLY_FILLED, 40, 60, 0, 0);
        assert_non_null(strstr(R.items[0].reason, "replace refused: "));
        te_strlcpy(ids[2], R.items[0].report_id, sizeof ids[2]);
        /* each refusal has its own report id (the sink books each once) */
        assert_string_not_equal(ids[0], ids[1]);
        assert_string_not_equal(ids[0], ids[2]);
        assert_string_not_equal(ids[1], ids[2]);
        te_reports_clear(&R);

        /* too late: the counterparty says K1 is filled, and its fill never came: the
         * status answer books it */
        handle(cmd(TE_CMD_CANCEL, "K1", 100, 10));
        expect("F", "41=K1|11=K1:c2");
        acc_send("35=9|37=BK1|11=K1:c2|41=K1|39=2|434=1|102=0|58=filled");
        expect("H", "11=K1");
        acc_send(ER("K1", "17=S1|150=I|39=2|151=0|14=100|6=10"));
        wait_reports(1);
        check(0, "K1", TE_EXEC_FILL, TE_OS_FILLED, 100, 0, 60, 10);
        te_reports_clear(&R);

        /* unknown to the counterparty: the status answer says so, the order ends
         * CANCELED (nothing can fill it) */
        handle(cmd(TE_CMD_NEW, "K2", 50, 10));
        expect("D", "11=K2");
        acc_send(ER("K2", "17=K2a|150=0|39=0|151=50|14=0|6=0"));
        wait_reports(1);
        te_reports_clear(&R);
        handle(cmd(TE_CMD_CANCEL, "K2", 50, 10));
        expect("F", "41=K2|11=K2:c1");
        acc_send("35=9|37=NONE|11=K2:c1|41=K2|39=8|434=1|102=1|58=unknown order");
        expect("H", "11=K2");
        acc_send(ER("K2", "17=S2|150=I|39=8|151=0|14=0|6=0|58=unknown order"));
        wait_reports(1);
        check(0, "K2", TE_EXEC_CANCELED, TE_OS_CANCELED, 0, 0, 0, 0);
        te_reports_clear(&R);

        /* "unknown" while the status answer says it works: REJECTED, live */
        handle(cmd(TE_CMD_NEW, "K3", 50, 10));
        expect("D", "11=K3");
        acc_send(ER("K3", "17=K3a|150=0|39=0|151=50|14=0|6=0"));
        wait_reports(1);
        te_reports_clear(&R);
        handle(cmd(TE_CMD_CANCEL, "K3", 50, 10));
        expect("F", "41=K3|11=K3:c1");
        acc_send("35=9|37=BK3|11=K3:c1|41=K3|39=0|434=1|102=1|58=not yet");
        expect("H", "11=K3");
        acc_send(ER("K3", "17=S3|150=I|39=0|151=50|14=0|6=0"));
        wait_reports(1);
        check(0, "K3", TE_EXEC_REJECTED, TE_OS_NEW, 0, 50, 0, 0);
        assert_non_null(strstr(R.items[0].reason, "cancel refused: "));
        assert_non_null(strstr(R.items[0].reason, "unknown order"));
        te_reports_clear(&R);

        te_reports_free(&R);
        te_broker_destroy(B);
        close(A.fd);
        close(A.lfd);
}

/* Ended orders leave memory once their final report is out, and are still told
 * apart from orders never had: a resent ExecutionReport of one is dropped as a
 * duplicate, a new one is an alert, a CANCEL of one needs no answer (its final report
 * gave it) and a redelivered NEW is not sent again. A CANCEL or REPLACE of an order
 * the adapter never had gets a final REJECTED report ("unknown order"), so that the
 * planner does not wait for a confirmation that would never come. */
static void test_fix_adapter_ended(void **state)
{
        (void)state;
        acc_listen();
        te_fix_cfg_t cfg;
        te_fix_cfg_defaults(&cfg);
        cfg.use_db = 0; /* exec-broker's default keeps the session in the runtime DB */
        cfg.port = A.port;
        te_strlcpy(cfg.sender, "TE", sizeof cfg.sender);
        te_strlcpy(cfg.target, "QFX", sizeof cfg.target);
        cfg.alert = on_alert;
        alerts[0] = '\0';
        char err[128];
        B = te_fix_new(&cfg, err, sizeof err);
        assert_non_null(B);
        wait_connected(1);
        te_fix_stats_t st;

        handle(cmd(TE_CMD_NEW, "E1", 100, 10));
        handle(cmd(TE_CMD_NEW, "E2", 100, 10));
        expect("D", "11=E1");
        expect("D", "11=E2");
        te_fix_stats(B, &st);
        assert_int_equal(st.orders_held, 2);
        acc_send(ER("E1", "17=E1a|150=0|39=0|151=100|14=0|6=0"));
        acc_send(ER("E1", "17=E1b|150=F|39=2|151=0|14=100|6=10|32=100|31=10"));
        acc_send(ER("E2", "17=E2a|150=8|39=8|151=0|14=0|6=0|58=no"));
        wait_reports(3);
        check(1, "E1", TE_EXEC_FILL, TE_OS_FILLED, 100, 0, 100, 10);
        check(2, "E2", TE_EXEC_REJECTED, TE_OS_REJECTED, 0, 0, 0, 0);
        te_reports_clear(&R);
        te_fix_stats(B, &st);
        assert_int_equal(st.orders_held, 0); /* both ended: dropped */

        /* the fill resent: a duplicate; a new report on the ended order: an alert */
        acc_send(ER("E1", "17=E1b|43=Y|150=F|39=2|151=0|14=100|6=10|32=100|31=10|"
                          "122=20000101-00:00:00.000"));
        acc_send(ER("E1", "17=E1c|150=F|39=2|151=0|14=100|6=10|32=100|31=10"));
        wait_reports(0);
        te_fix_stats(B, &st);
        assert_int_equal(st.dup_execs, 1);
        assert_non_null(strstr(alerts, "fix_report_after_end"));
        assert_null(strstr(alerts, "fix_unknown_order"));

        /* a CANCEL and a REPLACE of the ended order, a redelivered NEW: nothing */
        handle(cmd(TE_CMD_CANCEL, "E1", 100, 10));
        handle(cmd(TE_CMD_REPLACE, "E2", 120, 10));
        handle(cmd(TE_CMD_NEW, "E1", 100, 10));
        wait_reports(0);
        for (size_t i = 0; i < A.nf; i++)
                assert_null(memmem(A.fr[i], A.flen[i], "E1", 2));

        /* a CANCEL and a REPLACE of an order never had: final REJECTED each */
        handle(cmd(TE_CMD_CANCEL, "NOPE", 100, 10));
        handle(cmd(TE_CMD_REPLACE, "NOPE2", 120, 10));
        assert_int_equal(R.n, 2);
        check(0, "NOPE", TE_EXEC_REJECTED, TE_OS_REJECTED, 0, 0, 0, 0);
        check(1, "NOPE2", TE_EXEC_REJECTED, TE_OS_REJECTED, 0, 0, 0, 0);
        assert_string_equal(R.items[0].reason, "cancel refused: unknown order");
        assert_string_equal(R.items[1].reason, "replace refused: unknown order");
        assert_string_not_equal(R.items[0].report_id, R.items[1].report_id);
        wait_reports(2); /* and nothing else follows, nothing was sent */
        for (size_t i = 0; i < A.nf; i++)
                assert_null(memmem(A.fr[i], A.flen[i], "NOPE", 4));
        te_fix_stats(B, &st);
        assert_int_equal(st.orders_held, 0);

        te_reports_free(&R);
        te_broker_destroy(B);
        close(A.fd);
        close(A.lfd);
}

/* A counterparty reset mid-session (Logon 141=Y at 1): our MsgSeqNums restart, so a
 * session Reject naming a number of the new sequence is matched to what that number
 * carried after the reset, never to the order message the same number carried
 * before it. */
static void test_fix_adapter_reset_forgets_sent(void **state)
{
        (void)state;
        acc_listen();
        acc_quiet_logon = 0;
        te_fix_cfg_t cfg;
        te_fix_cfg_defaults(&cfg);
        cfg.use_db = 0; /* exec-broker's default keeps the session in the runtime DB */
        cfg.port = A.port;
        te_strlcpy(cfg.sender, "TE", sizeof cfg.sender);
        te_strlcpy(cfg.target, "QFX", sizeof cfg.target);
        cfg.alert = on_alert;
        alerts[0] = '\0';
        char err[128];
        B = te_fix_new(&cfg, err, sizeof err);
        assert_non_null(B);
        wait_connected(1); /* our Logon is 1 */

        handle(cmd(TE_CMD_NEW, "S1", 100, 10));
        expect("D", "11=S1|34=2");
        handle(cmd(TE_CMD_NEW, "S2", 100, 10));
        expect("D", "11=S2|34=3");
        acc_send(ER("S1", "17=S1a|150=F|39=2|151=0|14=100|6=10|32=100|31=10"));
        acc_send(ER("S2", "17=S2a|150=0|39=0|151=100|14=0|6=0"));
        wait_reports(2);
        te_reports_clear(&R);

        /* they reset: our Logon 141=Y at 1, the status of S2 (open) at 2 */
        A.seq_out = 0;
        A.last_in = 0;
        acc_quiet_logon = 1;
        acc_send("35=A|98=0|108=30|141=Y");
        expect("A", "34=1|141=Y");
        expect("H", "11=S2|34=2");
        acc_send(ER("S2", "17=S2s|150=I|39=0|151=100|14=0|6=0"));
        wait_connected(1);
        /* a TestRequest: our Heartbeat takes 3, the number S2's order had before */
        acc_send("35=1|112=T1");
        int64_t deadline = te_proc_mono_ms() + 5000;
        while (A.last_in < 3 && te_proc_mono_ms() < deadline)
                step();
        assert_int_equal(A.last_in, 3);
        /* they reject our message 3 (the Heartbeat): S2 is not touched */
        acc_send("35=3|45=3|372=0|373=5|58=bad heartbeat");
        wait_reports(0);
        assert_non_null(strstr(alerts, "bad heartbeat"));
        /* and a Reject of an order message of the new sequence still applies */
        handle(cmd(TE_CMD_NEW, "S3", 5, 10));
        expect("D", "11=S3|34=4");
        acc_send("35=3|45=4|371=40|372=D|373=5|58=no such type");
        wait_reports(1);
        check(0, "S3", TE_EXEC_REJECTED, TE_OS_REJECTED, 0, 0, 0, 0);
        te_reports_clear(&R);
        acc_quiet_logon = 0;

        te_reports_free(&R);
        te_broker_destroy(B);
        close(A.fd);
        close(A.lfd);
}

/* No frame of `type` mentioning `needle` is waiting at the acceptor. */
static void none_sent(const char *type, const char *needle)
{
        static te_fix_msg_t m;
        for (size_t i = 0; i < A.nf; i++) {
                assert_int_equal(te_fix_parse(A.fr[i], A.flen[i], &m), TE_FIX_OK);
                if (strcmp(m.msg_type, type) == 0 &&
                    memmem(A.fr[i], A.flen[i], needle, strlen(needle)))
                        fail_msg("unexpected 35=%s about %s", type, needle);
        }
}

/* fix.mass_status: after a reconnect one OrderMassStatusRequest (585=7) instead of an
 * OrderStatusRequest per open order; its answers (MassStatusReqID echoed, the last one
 * LastRptRequested=Y) book the fills missed and end what ended, and an open order it
 * does not list gets its own OrderStatusRequest. A BusinessMessageReject of the 35=AF
 * falls back to OrderStatusRequests, then and at every later reconnect. */
static void test_fix_adapter_mass_status(void **state)
{
        (void)state;
        acc_listen();
        acc_quiet_logon = 0;
        te_fix_cfg_t cfg;
        te_fix_cfg_defaults(&cfg);
        cfg.use_db = 0; /* exec-broker's default keeps the session in the runtime DB */
        cfg.port = A.port;
        te_strlcpy(cfg.sender, "TE", sizeof cfg.sender);
        te_strlcpy(cfg.target, "QFX", sizeof cfg.target);
        cfg.reconnect_min_ms = 20;
        cfg.reconnect_max_ms = 40;
        cfg.mass_status = 1;
        cfg.alert = on_alert;
        alerts[0] = '\0';
        char err[128];
        B = te_fix_new(&cfg, err, sizeof err);
        assert_non_null(B);
        wait_connected(1); /* no open order: nothing to ask */
        te_fix_stats_t st;
        te_fix_stats(B, &st);
        assert_int_equal(st.mass_sent, 0);

        handle(cmd(TE_CMD_NEW, "M1", 100, 10));
        handle(cmd(TE_CMD_NEW, "M2", 100, 10));
        handle(cmd(TE_CMD_NEW, "M3", 100, 10));
        expect("D", "11=M1");
        expect("D", "11=M2");
        expect("D", "11=M3");
        acc_send(ER("M1", "17=M1a|150=F|39=1|151=90|14=10|6=10|32=10|31=10"));
        wait_reports(1);
        te_reports_clear(&R);

        /* lost; meanwhile M1 got 30 more, M2 filled, M3 vanished */
        acc_drop();
        wait_connected(0);
        expect("AF", "585=7");
        char id[64], spec[256];
        te_strlcpy(id, got_mass, sizeof id);
        assert_true(id[0] != '\0');
        assert_int_equal(B->ops->connected(B), 0); /* reconciling */
        snprintf(spec, sizeof spec,
                 ER("M1", "17=S1|150=I|39=1|151=60|14=40|6=10|584=%s|911=2"), id);
        acc_send(spec);
        /* an answer to another request is a plain status, not the end of ours */
        acc_send(ER("M1", "17=S0|150=I|39=1|151=60|14=40|6=10|584=OLD|911=1|912=Y"));
        snprintf(spec, sizeof spec,
                 ER("M2", "17=S2|150=I|39=2|151=0|14=100|6=10|584=%s|911=2|912=Y"), id);
        acc_send(spec);
        expect("H", "11=M3"); /* not listed: asked by itself */
        none_sent("H", "M1");
        none_sent("H", "M2");
        assert_int_equal(B->ops->connected(B), 0);
        acc_send(ER("M3", "17=S3|150=I|39=8|151=0|14=0|6=0|58=unknown order"));
        wait_connected(1);
        wait_reports(3);
        check(0, "M1", TE_EXEC_PARTIAL_FILL, TE_OS_PARTIALLY_FILLED, 40, 60, 30, 10);
        check(1, "M2", TE_EXEC_FILL, TE_OS_FILLED, 100, 0, 100, 10);
        check(2, "M3", TE_EXEC_CANCELED, TE_OS_CANCELED, 0, 0, 0, 0);
        te_reports_clear(&R);
        te_fix_stats(B, &st);
        assert_int_equal(st.mass_sent, 1);
        assert_int_equal(st.mass_answers, 2);
        assert_int_equal(st.status_sent, 1);

        /* lost again, M1 open: the counterparty refuses 35=AF; M1 is asked by itself */
        acc_drop();
        wait_connected(0);
        expect("AF", "585=7");
        snprintf(spec, sizeof spec,
                 "35=j|45=%lld|372=AF|380=3|58=Unsupported Message Type",
                 (long long)got_seq);
        acc_send(spec);
        expect("H", "11=M1");
        acc_send(ER("M1", "17=S4|150=I|39=1|151=60|14=40|6=10"));
        wait_connected(1);
        wait_reports(0);
        assert_non_null(strstr(alerts, "mass_status_refused"));

        /* and from now on order by order */
        acc_drop();
        wait_connected(0);
        expect("H", "11=M1");
        acc_send(ER("M1", "17=S5|150=I|39=1|151=60|14=40|6=10"));
        wait_connected(1);
        none_sent("AF", "585");
        te_fix_stats(B, &st);
        assert_int_equal(st.mass_sent, 2);

        te_reports_free(&R);
        te_broker_destroy(B);
        close(A.fd);
        close(A.lfd);
}

/* fix.begin_string: FIX.4.4 or FIX.4.2 only; what FIX 4.2 cannot say is refused at
 * construction (a Password, TimeInForce CLS). */
static void test_fix_adapter_begin_string(void **state)
{
        (void)state;
        te_fix_cfg_t cfg;
        char err[160];
        te_fix_cfg_defaults(&cfg);
        cfg.use_db = 0; /* exec-broker's default keeps the session in the runtime DB */
        te_strlcpy(cfg.sender, "TE", sizeof cfg.sender);
        te_strlcpy(cfg.target, "OM", sizeof cfg.target);
        te_strlcpy(cfg.begin_string, "FIX.4.3", sizeof cfg.begin_string);
        assert_null(te_fix_new(&cfg, err, sizeof err));
        assert_non_null(strstr(err, "FIX.4.3"));
        te_strlcpy(cfg.begin_string, "FIX.4.2", sizeof cfg.begin_string);
        assert_null(te_fix_new(&cfg, err, sizeof err)); /* the default TIFs have CLS */
        assert_non_null(strstr(err, "CLS"));
        cfg.tifs &= ~(1u << TE_TIF_CLS);
        te_strlcpy(cfg.password, "secret", sizeof cfg.password);
        assert_null(te_fix_new(&cfg, err, sizeof err));
        assert_non_null(strstr(err, "Password"));
        assert_null(strstr(err, "secret"));
        cfg.password[0] = '\0';
        cfg.mass_status = 1; /* no OrderMassStatusRequest in FIX 4.2 */
        assert_null(te_fix_new(&cfg, err, sizeof err));
        assert_non_null(strstr(err, "mass_status"));
        cfg.mass_status = 0;
        te_broker_t *b = te_fix_new(&cfg, err, sizeof err);
        assert_non_null(b);
        te_broker_destroy(b);
        te_strlcpy(cfg.begin_string, "", sizeof cfg.begin_string); /* FIX.4.4 */
        te_strlcpy(cfg.password, "secret", sizeof cfg.password);
        cfg.tifs = (1u << TE_TIF__CNT) - 1;
        b = te_fix_new(&cfg, err, sizeof err);
        assert_non_null(b);
        te_broker_destroy(b);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_fix_adapter_scripted),
            cmocka_unit_test(test_fix_adapter_cancel_queued),
            cmocka_unit_test(test_fix_adapter_refusals),
            cmocka_unit_test(test_fix_adapter_ended),
            cmocka_unit_test(test_fix_adapter_begin_string),
            cmocka_unit_test(test_fix_adapter_reset_forgets_sent),
            cmocka_unit_test(test_fix_adapter_mass_status),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
