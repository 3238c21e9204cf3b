/*
 * test_broker_ibkr_replace: REPLACE in the ibkr adapter (broker_ibkr_replace.c)
 * against the fake TWS, and the fake's own modification rules seen by a raw client.
 *
 * Scenario `modify` of the fake: LMT/STP orders rest until modified and then fill in
 * full at the new terms --fill-delay-ms later; MKT orders fill at IB at once but
 * their execution reaches the client --fill-delay-ms later (a fill in flight), so a
 * REPLACE sent meanwhile meets error 104.
 */
#include <netinet/in.h>
#include <sys/socket.h>

#include "ibkr_fixture.h"
#include "tws_proto.h"

static te_order_cmd_t replace_of(const te_order_cmd_t *o, double qty, double lmt,
                                 double stp)
{
        te_order_cmd_t r = *o;
        r.command = TE_CMD_REPLACE;
        r.quantity = qty;
        r.has_limit_price = lmt > 0;
        r.limit_price = lmt;
        r.has_stop_price = stp > 0;
        r.stop_price = stp;
        r.event_time = o->event_time + 1000;
        return r;
}

/* A working order modified: REPLACED with the new leaves, then filled at the new
 * terms. */
static void test_ibkr_replace_working(void **state)
{
        fx_t *fx = *state;
        const char *args[] = {"--scenario", "modify", "--fill-delay-ms", "50", NULL};
        te_order_cmd_t a = cmd(TE_CMD_NEW, "e1", "AAA", TE_SIDE_BUY, 100, TE_OT_LIMIT, 50,
                               0, TE_TIF_DAY);
        start_and_send(fx, args, &a, 1);
        te_order_cmd_t r = replace_of(&a, 150, 51, 0);
        handle(fx, &r);
        want_n = 3;
        assert_true(poll_until(fx, have_n));
        char s[256];
        summary(fx, s, sizeof s);
        assert_string_equal(s, "e1:ACK e1:REPLACED e1:FILL");
        const te_exec_report_t *rr = rep(fx, 1);
        assert_int_equal(rr->order_status, TE_OS_NEW);
        assert_true(rr->cum_qty == 0 && rr->leaves_qty == 150);
        const te_exec_report_t *f = rep(fx, 2);
        assert_true(f->last_qty == 150 && f->last_price == 51);
        assert_true(f->cum_qty == 150 && f->leaves_qty == 0);
        assert_int_equal(f->order_status, TE_OS_FILLED);
        /* the same REPLACE delivered again changes nothing */
        handle(fx, &r);
        te_ibkr_stats_t st;
        te_ibkr_stats(fx->b, &st);
        assert_int_equal(st.orders_sent, 1);
        assert_int_equal(st.replaces_sent, 1);
        assert_int_equal(st.replaced, 1);
        assert_int_equal(st.replaces_refused, 0);
        assert_int_equal(fx->n_alerts, 0);
        assert_int_equal(fx->got.n, 3);
}

/* The REPLACE meets a fill in flight: IB answers 104, the order keeps its terms and
 * fills on them; no REPLACED, one alert, and the refusal as a REJECTED report in the
 * order's live status (the planner's signal). */
static void test_ibkr_replace_filled_in_flight(void **state)
{
        fx_t *fx = *state;
        const char *args[] = {"--scenario", "modify", "--fill-delay-ms", "1500", NULL};
        te_order_cmd_t a = cmd(TE_CMD_NEW, "e2", "BBB", TE_SIDE_SELL, 100, TE_OT_MARKET,
                               0, 0, TE_TIF_DAY);
        start_and_send(fx, args, &a, 1);
        te_order_cmd_t r = replace_of(&a, 120, 0, 0);
        handle(fx, &r);
        want_n = 3;
        assert_true(poll_until(fx, have_n));
        char s[256];
        summary(fx, s, sizeof s);
        assert_string_equal(s, "e2:ACK e2:REJECTED e2:FILL");
        assert_int_equal(rep(fx, 1)->order_status, TE_OS_NEW);
        assert_true(rep(fx, 1)->cum_qty == 0 && rep(fx, 1)->leaves_qty == 100);
        assert_non_null(strstr(rep(fx, 1)->reason, "replace refused: IB 104"));
        assert_true(rep(fx, 2)->cum_qty == 100 && rep(fx, 2)->leaves_qty == 0);
        assert_int_equal(fx_alerts(fx, "replace_refused"), 1);
        assert_string_equal(fx->alerts[0].order_id, "e2");
        assert_non_null(
            strstr(fx->alerts[0].message, "IB 104: Can't modify a filled order"));
        te_ibkr_stats_t st;
        te_ibkr_stats(fx->b, &st);
        assert_int_equal(st.replaces_sent, 1);
        assert_int_equal(st.replaced, 0);
        assert_int_equal(st.replaces_refused, 1);
}

/* A partially filled order modified: REPLACED keeps PARTIALLY_FILLED with cum and the
 * new leaves; a quantity below what filled is refused (REJECTED, still
 * PARTIALLY_FILLED on its old terms). */
static void test_ibkr_replace_partial(void **state)
{
        fx_t *fx = *state;
        const char *args[] = {"--scenario", "cancel_race", NULL};
        te_order_cmd_t a = cmd(TE_CMD_NEW, "c1", "AAA", TE_SIDE_BUY, 100, TE_OT_LIMIT, 99,
                               0, TE_TIF_DAY);
        start_and_send(fx, args, &a, 2);
        te_order_cmd_t low = replace_of(&a, 30, 99, 0);
        handle(fx, &low);
        assert_int_equal(fx_alerts(fx, "replace_refused"), 1);
        te_order_cmd_t r = replace_of(&a, 80, 98.5, 0);
        handle(fx, &r);
        want_n = 4;
        assert_true(poll_until(fx, have_n));
        char s[256];
        summary(fx, s, sizeof s);
        assert_string_equal(s, "c1:ACK c1:PARTIAL_FILL c1:REJECTED c1:REPLACED");
        const te_exec_report_t *rj = rep(fx, 2);
        assert_int_equal(rj->order_status, TE_OS_PARTIALLY_FILLED);
        assert_true(rj->cum_qty == 40 && rj->leaves_qty == 60);
        const te_exec_report_t *rr = rep(fx, 3);
        assert_int_equal(rr->order_status, TE_OS_PARTIALLY_FILLED);
        assert_true(rr->cum_qty == 40 && rr->leaves_qty == 40);
        assert_true(rr->avg_price == 99);
}

/* What the adapter refuses itself (nothing sent), and REPLACE while not connected.
 * Each refusal of a known working order is a REJECTED report too (not for an unknown
 * order, one with another modification pending, or one that ended). */
static void test_ibkr_replace_refused_locally(void **state)
{
        fx_t *fx = *state;
        const char *args[] = {"--scenario", "modify", "--fill-delay-ms", "50", NULL};
        setup_fx(fx, args, 0);
        te_order_cmd_t a = cmd(TE_CMD_NEW, "e3", "CCC", TE_SIDE_BUY, 100,
                               TE_OT_STOP_LIMIT, 20, 21, TE_TIF_GTC);
        te_order_cmd_t early = replace_of(&a, 120, 20, 21);
        /* not connected yet: the worker must retry it later */
        assert_int_equal(te_broker_handle(fx->b, &early, &fx->got),
                         TE_BROKER_ERR_RETRIABLE);
        assert_true(poll_until(fx, is_ready));
        handle(fx, &a);
        want_n = 1;
        assert_true(poll_until(fx, have_n));
        static const struct {
                const char *name;
                double qty, lmt, stp;
                int side_sell, tif_day, other_account, unknown;
        } bad[] = {
            {"side", 120, 20, 21, 1, 0, 0, 0},
            {"tif", 120, 20, 21, 0, 1, 0, 0},
            {"account", 120, 20, 21, 0, 0, 1, 0},
            {"unknown order", 120, 20, 21, 0, 0, 0, 1},
            {"zero quantity", 0, 20, 21, 0, 0, 0, 0},
            {"no limit price", 120, 0, 21, 0, 0, 0, 0},
            {"no stop price", 120, 20, 0, 0, 0, 0, 0},
        };
        size_t n_bad = sizeof bad / sizeof bad[0];
        for (size_t i = 0; i < n_bad; i++) {
                te_order_cmd_t r = replace_of(&a, bad[i].qty, bad[i].lmt, bad[i].stp);
                if (bad[i].side_sell)
                        r.side = TE_SIDE_SELL;
                if (bad[i].tif_day)
                        r.tif = TE_TIF_DAY;
                if (bad[i].other_account)
                        te_strlcpy(r.route, "ibkr:DU222222", sizeof r.route);
                if (bad[i].unknown)
                        te_strlcpy(r.order_id, "nope", sizeof r.order_id);
                handle(fx, &r);
                if (fx_alerts(fx, "replace_refused") != i + 1)
                        fail_msg("REPLACE changing %s not refused", bad[i].name);
        }
        /* the current terms again: a redelivered command, ignored */
        te_order_cmd_t same = replace_of(&a, 100, 20, 21);
        handle(fx, &same);
        assert_int_equal(fx_alerts(fx, "replace_refused"), n_bad);
        /* two modifications: the second waits for nothing, it is refused */
        te_order_cmd_t r1 = replace_of(&a, 120, 20.5, 21.5);
        te_order_cmd_t r2 = replace_of(&a, 130, 20.5, 21.5);
        handle(fx, &r1);
        handle(fx, &r2);
        assert_int_equal(fx_alerts(fx, "replace_refused"), n_bad + 1);
        want_n = 9;
        assert_true(poll_until(fx, have_n));
        char s[256];
        summary(fx, s, sizeof s);
        assert_string_equal(s, "e3:ACK e3:REJECTED e3:REJECTED e3:REJECTED e3:REJECTED "
                               "e3:REJECTED e3:REJECTED e3:REPLACED e3:FILL");
        for (size_t i = 1; i <= 6; i++) {
                assert_int_equal(rep(fx, i)->order_status, TE_OS_NEW);
                assert_non_null(strstr(rep(fx, i)->reason, "replace refused: "));
                for (size_t k = 1; k < i; k++) /* one report per refused command */
                        assert_string_not_equal(rep(fx, i)->report_id,
                                                rep(fx, k)->report_id);
        }
        assert_true(rep(fx, 8)->last_qty == 120 && rep(fx, 8)->last_price == 20.5);
        te_ibkr_stats_t st;
        te_ibkr_stats(fx->b, &st);
        assert_int_equal(st.replaces_sent, 1);
        /* the order has ended: a REPLACE now is refused */
        te_order_cmd_t late = replace_of(&a, 150, 20.5, 21.5);
        handle(fx, &late);
        assert_int_equal(fx_alerts(fx, "replace_refused"), n_bad + 2);
}

/* ---- the fake's modification rules, seen by a raw TWS API client ---------------- */

typedef struct raw_s {
        int fd;
        te_buf_t rb, wb;
} raw_t;

static void raw_send(raw_t *c)
{
        assert_int_equal(send(c->fd, c->wb.data, c->wb.len, 0), (ssize_t)c->wb.len);
        te_buf_reset(&c->wb);
}

/* The next server message (after the server-version frame). */
static te_tws_msg_t raw_next(raw_t *c)
{
        char err[200];
        for (int tries = 0; tries < 500; tries++) {
                const uint8_t *pl;
                size_t plen, used;
                if (te_tws_frame_next(c->rb.data, c->rb.len, TE_TWS_MAX_FRAME, &pl, &plen,
                                      &used, err, sizeof err) == TE_TWS_OK) {
                        te_tws_msg_t m;
                        assert_int_equal(
                            te_tws_dec_message(pl, plen, &m, err, sizeof err), TE_TWS_OK);
                        memmove(c->rb.data, c->rb.data + used, c->rb.len - used);
                        c->rb.len -= used;
                        return m;
                }
                assert_int_equal(te_buf_reserve(&c->rb, 65536), 0);
                ssize_t n = recv(c->fd, c->rb.data + c->rb.len, c->rb.cap - c->rb.len, 0);
                assert_true(n > 0);
                c->rb.len += (size_t)n;
        }
        fail_msg("no message");
        te_tws_msg_t none = {0};
        return none;
}

/* The next message that is not an orderStatus/openOrder echo. */
static te_tws_msg_t raw_next_not(raw_t *c, te_tws_in_t skip1, te_tws_in_t skip2)
{
        for (;;) {
                te_tws_msg_t m = raw_next(c);
                if (m.type != skip1 && m.type != skip2)
                        return m;
        }
}

static void raw_place(raw_t *c, int64_t id, const char *action, double qty,
                      const char *type, double lmt)
{
        te_tws_order_t o;
        memset(&o, 0, sizeof o);
        o.order_id = id;
        te_strlcpy(o.symbol, "AAA", sizeof o.symbol);
        te_strlcpy(o.sec_type, "STK", sizeof o.sec_type);
        te_strlcpy(o.exchange, "SMART", sizeof o.exchange);
        te_strlcpy(o.currency, "USD", sizeof o.currency);
        te_strlcpy(o.action, action, sizeof o.action);
        o.total_qty = qty;
        te_strlcpy(o.order_type, type, sizeof o.order_type);
        o.has_lmt_price = lmt > 0;
        o.lmt_price = lmt;
        te_strlcpy(o.tif, "DAY", sizeof o.tif);
        te_strlcpy(o.account, "DU111111", sizeof o.account);
        snprintf(o.order_ref, sizeof o.order_ref, "raw-%lld", (long long)id);
        assert_int_equal(te_tws_enc_place_order(&c->wb, &o), 0);
        raw_send(c);
}

static void expect_error(raw_t *c, int64_t id, int64_t code)
{
        te_tws_msg_t m = raw_next_not(c, TE_TWS_IN_ORDER_STATUS, TE_TWS_IN_OPEN_ORDER);
        assert_int_equal(m.type, TE_TWS_IN_ERROR);
        if (m.u.error.id != id || m.u.error.code != code)
                fail_msg("want error %lld for %lld, got %lld for %lld (%s)",
                         (long long)code, (long long)id, (long long)m.u.error.code,
                         (long long)m.u.error.id, m.u.error.text);
}

static void test_fake_tws_modification_rules(void **state)
{
        fx_t *fx = *state;
        const char *args[] = {"--scenario", "modify", "--fill-delay-ms", "5000", NULL};
        memset(fx, 0, sizeof *fx);
        te_log_init("test", TE_LOG_ERROR);
        start_fake(fx, args);
        raw_t c = {.fd = socket(AF_INET, SOCK_STREAM, 0)};
        te_buf_init(&c.rb, 1 << 20);
        te_buf_init(&c.wb, 1 << 20);
        struct sockaddr_in sa = {.sin_family = AF_INET,
                                 .sin_port = htons((uint16_t)fx->port),
                                 .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
        assert_int_equal(connect(c.fd, (struct sockaddr *)&sa, sizeof sa), 0);
        struct timeval tv = {.tv_sec = 5};
        (void)setsockopt(c.fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        assert_int_equal(te_tws_enc_handshake(&c.wb, TE_TWS_VER_MIN, TE_TWS_VER_MAX), 0);
        raw_send(&c);
        assert_int_equal(te_buf_reserve(&c.rb, 65536), 0);
        ssize_t n = recv(c.fd, c.rb.data, c.rb.cap, 0); /* server version frame */
        assert_true(n > 8);
        c.rb.len = (size_t)n;
        const uint8_t *pl;
        size_t plen, used;
        char err[200];
        assert_int_equal(te_tws_frame_next(c.rb.data, c.rb.len, TE_TWS_MAX_FRAME, &pl,
                                           &plen, &used, err, sizeof err),
                         TE_TWS_OK);
        memmove(c.rb.data, c.rb.data + used, c.rb.len - used);
        c.rb.len -= used;
        assert_int_equal(te_tws_enc_start_api(&c.wb, 5), 0);
        raw_send(&c);
        assert_int_equal(raw_next(&c).type, TE_TWS_IN_MANAGED_ACCTS);
        assert_int_equal(raw_next(&c).type, TE_TWS_IN_NEXT_VALID_ID);
        /* 1: MKT, filled at IB at once (its execution held back): 104 */
        raw_place(&c, 1, "BUY", 10, "MKT", 0);
        assert_int_equal(raw_next(&c).type, TE_TWS_IN_OPEN_ORDER);
        assert_int_equal(raw_next(&c).type, TE_TWS_IN_ORDER_STATUS);
        raw_place(&c, 1, "BUY", 20, "MKT", 0);
        expect_error(&c, 1, 104);
        /* 2: LMT, rests; a modification with another side: 105; a good one is
         * confirmed by openOrder with the new terms */
        raw_place(&c, 2, "BUY", 10, "LMT", 9.5);
        assert_int_equal(raw_next(&c).type, TE_TWS_IN_OPEN_ORDER);
        assert_int_equal(raw_next(&c).type, TE_TWS_IN_ORDER_STATUS);
        raw_place(&c, 2, "SELL", 10, "LMT", 9.5);
        expect_error(&c, 2, 105);
        raw_place(&c, 2, "BUY", 25, "LMT", 9.75);
        te_tws_msg_t m = raw_next(&c);
        assert_int_equal(m.type, TE_TWS_IN_OPEN_ORDER);
        assert_int_equal(m.u.open_order.order.order_id, 2);
        assert_true(m.u.open_order.order.total_qty == 25);
        assert_true(m.u.open_order.order.lmt_price == 9.75);
        m = raw_next(&c);
        assert_int_equal(m.type, TE_TWS_IN_ORDER_STATUS);
        assert_true(m.u.status.remaining == 25);
        /* an id below the next valid id that IB never saw: 103 */
        raw_place(&c, 7, "BUY", 10, "LMT", 9.5);
        assert_int_equal(raw_next(&c).type, TE_TWS_IN_OPEN_ORDER);
        assert_int_equal(raw_next(&c).type, TE_TWS_IN_ORDER_STATUS);
        raw_place(&c, 5, "BUY", 10, "LMT", 9.5);
        expect_error(&c, 5, 103);
        /* a cancelled order is no longer working: 103 */
        assert_int_equal(te_tws_enc_cancel_order(&c.wb, 7), 0);
        raw_send(&c);
        expect_error(&c, 7, 202);
        raw_place(&c, 7, "BUY", 12, "LMT", 9.5);
        expect_error(&c, 7, 103);
        close(c.fd);
        te_buf_free(&c.rb);
        te_buf_free(&c.wb);
}

int main(void)
{
        signal(SIGPIPE, SIG_IGN);
        const struct CMUnitTest tests[] = {
            cmocka_unit_test_setup_teardown(test_ibkr_replace_working, fx_new, fx_free),
            cmocka_unit_test_setup_teardown(test_ibkr_replace_filled_in_flight, fx_new,
                                            fx_free),
            cmocka_unit_test_setup_teardown(test_ibkr_replace_partial, fx_new, fx_free),
            cmocka_unit_test_setup_teardown(test_ibkr_replace_refused_locally, fx_new,
                                            fx_free),
            cmocka_unit_test_setup_teardown(test_fake_tws_modification_rules, fx_new,
                                            fx_free),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
