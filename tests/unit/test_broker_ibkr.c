/*
 * test_broker_ibkr: the ibkr adapter in process (no DB: use_db = 0) against the
 * scripted fake TWS (tests/fake_tws, started per test on an ephemeral loopback port).
 * Each test drives the adapter's ops the way the broker worker does and checks the
 * reports, in order, with quantities and prices worked out by hand from the fake's
 * script (price 100.5, commission 1 per execution).
 */
#include "ibkr_fixture.h"
#include "te_metrics.h"
#include "te_obs.h"

static void test_ibkr_fill_and_refusals(void **state)
{
        fx_t *fx = *state;
        const char *args[] = {"--scenario", "fill", "--accounts", "DU111111,DU222222",
                              NULL};
        setup_fx(fx, args, 0);
        assert_true(poll_until(fx, is_ready));
        te_order_cmd_t a = cmd(TE_CMD_NEW, "o1", "AAA", TE_SIDE_BUY, 100, TE_OT_MARKET, 0,
                               0, TE_TIF_DAY);
        te_order_cmd_t t = a;
        te_strlcpy(t.order_id, "o2", sizeof t.order_id);
        t.mode = TE_MODE_TRAINING;
        te_order_cmd_t l = cmd(TE_CMD_NEW, "o3", "BBB", TE_SIDE_SELL, 10, TE_OT_LIMIT, 0,
                               0, TE_TIF_GTC); /* LIMIT without a price */
        te_order_cmd_t acct = a;
        te_strlcpy(acct.order_id, "o4", sizeof acct.order_id);
        te_strlcpy(acct.route, "ibkr:DU222222", sizeof acct.route); /* allowed */
        te_order_cmd_t bad = a;
        te_strlcpy(bad.order_id, "o5", sizeof bad.order_id);
        te_strlcpy(bad.route, "ibkr:DU333333", sizeof bad.route);
        handle(fx, &a);
        handle(fx, &a); /* duplicate delivery: ignored */
        handle(fx, &t);
        handle(fx, &l);
        handle(fx, &bad);
        want_n = 5;
        assert_true(poll_until(fx, have_n));
        char s[512];
        summary(fx, s, sizeof s);
        assert_string_equal(s, "o2:REJECTED o3:REJECTED o5:REJECTED o1:ACK o1:FILL");
        assert_string_equal(
            rep(fx, 2)->reason,
            "ibkr: account of route 'ibkr:DU333333' not in ibkr.accounts");
        handle(fx, &acct);
        want_n = 7;
        assert_true(poll_until(fx, have_n));
        assert_string_equal(rep(fx, 6)->account, "DU222222");
}

static void test_ibkr_partial(void **state)
{
        fx_t *fx = *state;
        const char *args[] = {"--scenario", "partial", "--fill-delay-ms", "30", NULL};
        te_order_cmd_t a = cmd(TE_CMD_NEW, "p1", "AAA", TE_SIDE_BUY, 100, TE_OT_MARKET, 0,
                               0, TE_TIF_DAY);
        start_and_send(fx, args, &a, 4);
        char s[512];
        summary(fx, s, sizeof s);
        assert_string_equal(s, "p1:ACK p1:PARTIAL_FILL p1:PARTIAL_FILL p1:FILL");
        static const struct {
                double last, cum, leaves;
                te_order_status_t os;
        } want[] = {{30, 30, 70, TE_OS_PARTIALLY_FILLED},
                    {30, 60, 40, TE_OS_PARTIALLY_FILLED},
                    {40, 100, 0, TE_OS_FILLED}};
        for (size_t i = 0; i < 3; i++) {
                const te_exec_report_t *r = rep(fx, i + 1);
                assert_true(r->last_qty == want[i].last);
                assert_true(r->cum_qty == want[i].cum);
                assert_true(r->leaves_qty == want[i].leaves);
                assert_int_equal(r->order_status, want[i].os);
                assert_true(r->last_price == 100.5);
                assert_true(r->commission == 1.0);
                assert_string_equal(r->account, "DU111111");
                assert_string_equal(r->broker, "ibkr");
        }
}

static void test_ibkr_reject(void **state)
{
        fx_t *fx = *state;
        const char *args[] = {"--scenario", "reject", NULL};
        te_order_cmd_t a = cmd(TE_CMD_NEW, "j1", "AAA", TE_SIDE_BUY, 100, TE_OT_MARKET, 0,
                               0, TE_TIF_DAY);
        start_and_send(fx, args, &a, 1);
        const te_exec_report_t *r = rep(fx, 0);
        assert_int_equal(r->exec_type, TE_EXEC_REJECTED);
        assert_string_equal(
            r->reason, "IB 201: Order rejected - reason:YOUR ORDER IS NOT ACCEPTED.");
}

static void test_ibkr_cancel_race(void **state)
{
        fx_t *fx = *state;
        const char *args[] = {"--scenario", "cancel_race", NULL};
        te_order_cmd_t a = cmd(TE_CMD_NEW, "c1", "AAA", TE_SIDE_BUY, 100, TE_OT_LIMIT, 99,
                               0, TE_TIF_DAY);
        start_and_send(fx, args, &a, 2);
        te_order_cmd_t c = a;
        c.command = TE_CMD_CANCEL;
        handle(fx, &c);
        want_n = 4;
        assert_true(poll_until(fx, have_n));
        char s[512];
        summary(fx, s, sizeof s);
        /* the Cancelled status counted 70 filled: CANCELED waits for the 30 */
        assert_string_equal(s, "c1:ACK c1:PARTIAL_FILL c1:PARTIAL_FILL c1:CANCELED");
        assert_true(rep(fx, 2)->cum_qty == 70);
        assert_true(rep(fx, 3)->cum_qty == 70);
        assert_true(rep(fx, 3)->leaves_qty == 0);
}

static void test_ibkr_disconnect_reconcile(void **state)
{
        fx_t *fx = *state;
        const char *args[] = {
            "--scenario", "disconnect", "--drop-after", "3", "--outage-ms", "300", NULL};
        setup_fx(fx, args, 0);
        assert_true(poll_until(fx, is_ready));
        te_order_cmd_t a = cmd(TE_CMD_NEW, "d1", "AAA", TE_SIDE_BUY, 100, TE_OT_LIMIT, 50,
                               0, TE_TIF_DAY);
        te_order_cmd_t b = cmd(TE_CMD_NEW, "d2", "BBB", TE_SIDE_SELL, 40, TE_OT_LIMIT, 60,
                               0, TE_TIF_DAY);
        te_order_cmd_t c =
            cmd(TE_CMD_NEW, "d3", "CCC", TE_SIDE_BUY, 10, TE_OT_MARKET, 0, 0, TE_TIF_DAY);
        handle(fx, &a);
        handle(fx, &b);
        want_n = 2;
        assert_true(poll_until(fx, have_n)); /* both ACKed (resting) */
        handle(fx, &c); /* lost in transit; the fake drops the connection */
        want_n = 5;
        assert_true(poll_until(fx, have_n));
        assert_true(poll_until(fx, is_ready));
        char s[512];
        summary(fx, s, sizeof s);
        assert_string_equal(s, "d1:ACK d2:ACK d1:FILL d2:FILL d3:CANCELED");
        assert_true(strstr(rep(fx, 4)->reason, "unknown to IB at reconciliation") !=
                    NULL);
        te_ibkr_stats_t st;
        te_ibkr_stats(fx->b, &st);
        assert_true(st.disconnects >= 1);
        assert_true(st.reconciles >= 2);
        assert_int_equal(st.orders_sent, 3);
        /* a new order after the reconnect fills, and nothing is resent */
        te_order_cmd_t d =
            cmd(TE_CMD_NEW, "d4", "DDD", TE_SIDE_BUY, 5, TE_OT_MARKET, 0, 0, TE_TIF_DAY);
        handle(fx, &d);
        want_n = 7;
        assert_true(poll_until(fx, have_n));
        summary(fx, s, sizeof s);
        assert_string_equal(s,
                            "d1:ACK d2:ACK d1:FILL d2:FILL d3:CANCELED d4:ACK d4:FILL");
        te_ibkr_stats(fx->b, &st);
        assert_int_equal(st.orders_sent, 4);
}

static void test_ibkr_dup_exec(void **state)
{
        fx_t *fx = *state;
        const char *args[] = {"--scenario", "dup_exec", NULL};
        te_order_cmd_t a = cmd(TE_CMD_NEW, "x1", "AAA", TE_SIDE_BUY, 100, TE_OT_MARKET, 0,
                               0, TE_TIF_DAY);
        start_and_send(fx, args, &a, 2);
        /* give the duplicate time to arrive, then check nothing more was reported */
        int64_t end = te_proc_mono_ms() + 200;
        while (te_proc_mono_ms() < end) {
                assert_int_equal(fx->b->ops->poll(fx->b, &fx->got), TE_BROKER_OK);
                usleep(2000);
        }
        char s[256];
        summary(fx, s, sizeof s);
        assert_string_equal(s, "x1:ACK x1:FILL");
        te_ibkr_stats_t st;
        te_ibkr_stats(fx->b, &st);
        assert_int_equal(st.dup_execs, 1);
}

static void test_ibkr_malformed(void **state)
{
        (void)state;
        static const char *const kinds[] = {"badint", "biglen", "fewfields"};
        for (size_t k = 0; k < 3; k++) {
                fx_t *fx = *state;
                const char *args[] = {"--scenario", "malformed", "--malformed", kinds[k],
                                      NULL};
                te_order_cmd_t a = cmd(TE_CMD_NEW, "m1", "AAA", TE_SIDE_BUY, 10,
                                       TE_OT_MARKET, 0, 0, TE_TIF_DAY);
                start_and_send(fx, args, &a, 2);
                char s[256];
                summary(fx, s, sizeof s);
                assert_string_equal(s, "m1:ACK m1:FILL");
                te_ibkr_stats_t st;
                te_ibkr_stats(fx->b, &st);
                assert_int_equal(st.malformed, 1);
                assert_int_equal(st.orders_sent, 1);
                teardown_fx(fx);
        }
}

static int is_degraded(fx_t *fx)
{
        return te_ibkr_state(fx->b) == TE_IBKR_DEGRADED;
}

/* TWS loses IB (1100): the adapter stops submitting; an order placed meanwhile waits
 * and goes out after 1102 and the reconciliation that follows it. */
static void test_ibkr_ib_connectivity(void **state)
{
        fx_t *fx = *state;
        const char *args[] = {"--scenario", "ib_lost", "--outage-ms", "300", NULL};
        setup_fx(fx, args, 0);
        assert_true(poll_until(fx, is_ready));
        te_order_cmd_t a = cmd(TE_CMD_NEW, "i1", "AAA", TE_SIDE_BUY, 100, TE_OT_MARKET, 0,
                               0, TE_TIF_DAY);
        handle(fx, &a);
        assert_true(poll_until(fx, is_degraded));
        assert_int_equal(fx->b->ops->connected(fx->b), 0);
        te_order_cmd_t b = cmd(TE_CMD_NEW, "i2", "BBB", TE_SIDE_SELL, 10, TE_OT_MARKET, 0,
                               0, TE_TIF_DAY);
        handle(fx, &b);
        te_ibkr_stats_t st;
        te_ibkr_stats(fx->b, &st);
        assert_int_equal(st.orders_sent, 1); /* i2 waits */
        assert_int_equal(st.reconciles, 1);
        assert_true(poll_until(fx, is_ready));
        want_n = 4;
        assert_true(poll_until(fx, have_n));
        char s[256];
        summary(fx, s, sizeof s);
        assert_string_equal(s, "i1:ACK i1:FILL i2:ACK i2:FILL");
        te_ibkr_stats(fx->b, &st);
        assert_int_equal(st.orders_sent, 2);
        assert_int_equal(st.reconciles, 2);
        assert_int_equal(st.disconnects, 0); /* the socket stayed up */
}

static double counter(const char *name)
{
        te_metric_t *m = te_metrics_counter(te_obs_registry(), name, NULL, NULL);
        double v = 0;
        assert_non_null(m);
        (void)te_metric_get(m, NULL, &v);
        return v;
}

/* A commissionReport 200 ms after its execDetails, within the 500 ms the fill may wait
 * for it: the FILL carries it. */
static void test_ibkr_commission_waited_for(void **state)
{
        fx_t *fx = *state;
        const char *args[] = {"--scenario", "fill", "--commission-delay-ms", "200", NULL};
        te_order_cmd_t a = cmd(TE_CMD_NEW, "w1", "AAA", TE_SIDE_BUY, 100, TE_OT_MARKET, 0,
                               0, TE_TIF_DAY);
        start_and_send(fx, args, &a, 2);
        char s[256];
        summary(fx, s, sizeof s);
        assert_string_equal(s, "w1:ACK w1:FILL");
        assert_true(rep(fx, 1)->commission == 1.0);
        assert_int_equal(fx->n_alerts, 0);
}

static int two_alerts(fx_t *fx)
{
        return fx->n_alerts >= 2;
}

static int reconciled_twice(fx_t *fx)
{
        te_ibkr_stats_t st;
        te_ibkr_stats(fx->b, &st);
        return st.reconciles >= 2 && fx->b->ops->connected(fx->b);
}

/* A commissionReport 900 ms late: the FILL leaves after 500 ms with commission 0
 * (commission_missing); the report, when it comes, changes no trade and is reported
 * (commission_late); IB sending it again after a reconnect is not. */
static void test_ibkr_commission_late(void **state)
{
        fx_t *fx = *state;
        const char *args[] = {"--scenario", "ib_lost",     "--commission-delay-ms",
                              "900",        "--outage-ms", "1500",
                              NULL};
        double missing0 = counter("te_ibkr_commission_missing_total");
        double late0 = counter("te_ibkr_commission_late_total");
        te_order_cmd_t a = cmd(TE_CMD_NEW, "l1", "AAA", TE_SIDE_BUY, 100, TE_OT_MARKET, 0,
                               0, TE_TIF_DAY);
        start_and_send(fx, args, &a, 2);
        assert_true(rep(fx, 1)->exec_type == TE_EXEC_FILL);
        assert_true(rep(fx, 1)->commission == 0);
        assert_true(poll_until(fx, two_alerts));
        assert_string_equal(fx->alerts[0].code, "commission_missing");
        assert_string_equal(fx->alerts[0].order_id, "l1");
        assert_string_equal(fx->alerts[1].code, "commission_late");
        assert_non_null(strstr(fx->alerts[1].message, "commission 1 USD for execution "));
        assert_non_null(strstr(fx->alerts[1].message,
                               "published with commission 0: the trade keeps 0"));
        assert_true(poll_until(fx, reconciled_twice)); /* IB sends it again: known */
        int64_t end = te_proc_mono_ms() + 200;
        while (te_proc_mono_ms() < end) {
                assert_int_equal(fx->b->ops->poll(fx->b, &fx->got), TE_BROKER_OK);
                usleep(2000);
        }
        assert_int_equal(fx->n_alerts, 2);
        assert_int_equal(fx->got.n, 2);
        te_ibkr_stats_t st;
        te_ibkr_stats(fx->b, &st);
        assert_int_equal(st.commission_missing, 1);
        assert_int_equal(st.commission_late, 1);
        assert_true(counter("te_ibkr_commission_missing_total") == missing0 + 1);
        assert_true(counter("te_ibkr_commission_late_total") == late0 + 1);
}

int main(void)
{
        signal(SIGPIPE, SIG_IGN);
        const struct CMUnitTest tests[] = {
            cmocka_unit_test_setup_teardown(test_ibkr_fill_and_refusals, fx_new, fx_free),
            cmocka_unit_test_setup_teardown(test_ibkr_partial, fx_new, fx_free),
            cmocka_unit_test_setup_teardown(test_ibkr_reject, fx_new, fx_free),
            cmocka_unit_test_setup_teardown(test_ibkr_cancel_race, fx_new, fx_free),
            cmocka_unit_test_setup_teardown(test_ibkr_disconnect_reconcile, fx_new,
                                            fx_free),
            cmocka_unit_test_setup_teardown(test_ibkr_dup_exec, fx_new, fx_free),
            cmocka_unit_test_setup_teardown(test_ibkr_malformed, fx_new, fx_free),
            cmocka_unit_test_setup_teardown(test_ibkr_ib_connectivity, fx_new, fx_free),
            cmocka_unit_test_setup_teardown(test_ibkr_commission_waited_for, fx_new,
                                            fx_free),
            cmocka_unit_test_setup_teardown(test_ibkr_commission_late, fx_new, fx_free),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
