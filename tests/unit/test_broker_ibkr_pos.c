/*
 * test_broker_ibkr_pos: the comparison of IB's positions with the runtime DB's after
 * each reconciliation (broker_ibkr_pos.c). The fake TWS reports its positions plus
 * --pos-adjust quantities; the DB side is a table in the test put in place of the
 * store (the adapter runs without DB), so the tests choose what the DB shows and when.
 * The last test drives the check alone through its functions (no adapter, no TWS, a
 * clock of its own).
 */
#include "broker_ibkr_int.h"
#include "ibkr_fixture.h"
#include "te_metrics.h"
#include "te_obs.h"

/* What the "DB" holds per account and ticker; `from_call` delays a row (the sink has
 * not booked it yet). */
typedef struct db_row_s {
        const char *account, *ticker;
        double qty;
        int from_call;
} db_row_t;

static struct {
        const db_row_t *rows;
        size_t n;
        int calls; /* of account DU111111: one per comparison */
} db;

static int test_db(void *ctx, const char *account, te_ibkr_pos_cb cb, void *cb_ctx)
{
        (void)ctx;
        if (!strcmp(account, "DU111111"))
                db.calls++;
        for (size_t i = 0; i < db.n; i++)
                if (!strcmp(db.rows[i].account, account) &&
                    db.calls >= db.rows[i].from_call &&
                    cb(cb_ctx, db.rows[i].ticker, db.rows[i].qty) != 0)
                        return -1;
        return 0;
}

static int64_t check_ms;
static void tweak(te_ibkr_cfg_t *c)
{
        c->position_check_ms = check_ms;
}

static void setup_pos(fx_t *fx, const char *const *args, const db_row_t *rows, size_t n,
                      int64_t ms)
{
        db.rows = rows;
        db.n = n;
        db.calls = 0;
        check_ms = ms;
        fx_tweak = tweak;
        setup_fx(fx, args, 0);
        fx_tweak = NULL;
        te_ibkr_t *ib = (te_ibkr_t *)fx->b;
        te_ibkr_pos_set_db(ib->pos, test_db, NULL);
}

static size_t want_checks;
static int checks_done(fx_t *fx)
{
        te_ibkr_stats_t st;
        te_ibkr_stats(fx->b, &st);
        return st.position_checks >= want_checks;
}

static double mismatch_metric(const char *account)
{
        te_metric_t *m = te_metrics_counter(
            te_obs_registry(), "te_ibkr_position_mismatches_total", NULL, "account");
        double v = 0;
        assert_non_null(m);
        (void)te_metric_get(m, TE_LV(account), &v);
        return v;
}

static int has_alert(const fx_t *fx, const char *text)
{
        for (size_t i = 0; i < fx->n_alerts; i++)
                if (!strcmp(fx->alerts[i].code, "position_mismatch") &&
                    strstr(fx->alerts[i].message, text))
                        return 1;
        return 0;
}

/* Startup: a position only IB has, one only the DB has, one they agree on; another
 * account's position is not ours. Each difference is one CRITICAL alert, counted. */
static void test_ibkr_positions_mismatch(void **state)
{
        fx_t *fx = *state;
        const char *args[] = {"--scenario",
                              "fill",
                              "--accounts",
                              "DU111111,DU222222",
                              "--pos-adjust",
                              "DU111111:AAA:5",
                              "--pos-adjust",
                              "DU222222:ZZZ:7",
                              "--pos-adjust",
                              "DU333333:QQQ:1",
                              NULL};
        static const db_row_t rows[] = {{"DU111111", "AAA", 5, 0},
                                        {"DU222222", "BBB", 3, 0}};
        double before = mismatch_metric("DU222222");
        setup_pos(fx, args, rows, 2, 300);
        want_checks = 1;
        assert_true(poll_until(fx, checks_done));
        assert_int_equal(fx_alerts(fx, "position_mismatch"), 2);
        assert_true(has_alert(fx, "account DU222222 ticker ZZZ: IB 7, DB 0"));
        assert_true(has_alert(fx, "account DU222222 ticker BBB: IB 0, DB 3"));
        for (size_t i = 0; i < fx->n_alerts; i++)
                assert_int_equal(fx->alerts[i].sev, TE_SEV_CRITICAL);
        te_ibkr_stats_t st;
        te_ibkr_stats(fx->b, &st);
        assert_int_equal(st.position_mismatches, 2);
        assert_int_equal(st.orders_sent, 0); /* never corrected */
        assert_true(mismatch_metric("DU222222") == before + 2);
        assert_true(db.calls >= 2); /* retried within the grace period */
}

/* The DB books what IB counts a little later (the sink lags), and a fill arrives
 * during the comparison: no alert. */
static void test_ibkr_positions_db_catches_up(void **state)
{
        fx_t *fx = *state;
        const char *args[] = {"--scenario", "fill", "--pos-adjust", "DU111111:ZZZ:7",
                              NULL};
        static const db_row_t rows[] = {{"DU111111", "ZZZ", 7, 3},
                                        {"DU111111", "AAA", 100, 3}};
        setup_pos(fx, args, rows, 2, 5000);
        assert_true(poll_until(fx, is_ready));
        te_order_cmd_t a = cmd(TE_CMD_NEW, "p1", "AAA", TE_SIDE_BUY, 100, TE_OT_MARKET, 0,
                               0, TE_TIF_DAY);
        handle(fx, &a);
        want_checks = 1;
        assert_true(poll_until(fx, checks_done));
        assert_int_equal(fx->n_alerts, 0);
        assert_true(db.calls >= 3);
        te_ibkr_stats_t st;
        te_ibkr_stats(fx->b, &st);
        assert_int_equal(st.position_mismatches, 0);
}

/* Every reconciliation compares again: after TWS loses and regains IB (1100/1102)
 * the order's fill is on both sides, the extra IB position is reported again. */
static void test_ibkr_positions_after_reconnect(void **state)
{
        fx_t *fx = *state;
        const char *args[] = {"--scenario",   "ib_lost",        "--outage-ms", "300",
                              "--pos-adjust", "DU111111:ZZZ:7", NULL};
        static const db_row_t rows[] = {{"DU111111", "AAA", 100, 0}};
        setup_pos(fx, args, rows, 1, 300);
        want_checks = 1;
        assert_true(poll_until(fx, checks_done));
        assert_int_equal(fx_alerts(fx, "position_mismatch"), 2); /* AAA 0/100, ZZZ */
        assert_true(has_alert(fx, "ticker AAA: IB 0, DB 100"));
        te_order_cmd_t a = cmd(TE_CMD_NEW, "p2", "AAA", TE_SIDE_BUY, 100, TE_OT_MARKET, 0,
                               0, TE_TIF_DAY);
        handle(fx, &a);
        want_checks = 2;
        assert_true(poll_until(fx, checks_done));
        assert_int_equal(fx_alerts(fx, "position_mismatch"), 3);
        assert_true(has_alert(fx, "account DU111111 ticker ZZZ: IB 7, DB 0"));
        assert_string_equal(fx->alerts[2].message,
                            "account DU111111 ticker ZZZ: IB 7, DB 0 (difference 7); not "
                            "corrected");
        te_ibkr_stats_t st;
        te_ibkr_stats(fx->b, &st);
        assert_int_equal(st.reconciles, 2);
        assert_int_equal(st.orders_sent, 1);
}

/* ---- the check alone ---------------------------------------------------------- */

static struct {
        double aaa; /* what the "DB" shows for DU1 AAA */
        int fail;   /* the DB query fails */
        int n_bad;  /* positions reported different at the end */
        double bad_ib, bad_db;
} alone;

static int alone_db(void *ctx, const char *account, te_ibkr_pos_cb cb, void *cb_ctx)
{
        (void)ctx;
        if (alone.fail)
                return -1;
        return strcmp(account, "DU1") ? 0 : cb(cb_ctx, "AAA", alone.aaa);
}

static void alone_bad(void *ctx, const te_ibkr_pos_t *e)
{
        (void)ctx;
        assert_string_equal(e->account, "DU1");
        assert_string_equal(e->ticker, "AAA");
        alone.n_bad++;
        alone.bad_ib = e->ib;
        alone.bad_db = e->db;
}

static te_tws_position_t position(const char *account, const char *symbol,
                                  const char *sec_type, double qty)
{
        te_tws_position_t p;
        memset(&p, 0, sizeof p);
        te_strlcpy(p.account, account, sizeof p.account);
        te_strlcpy(p.symbol, symbol, sizeof p.symbol);
        te_strlcpy(p.sec_type, sec_type, sizeof p.sec_type);
        p.position = qty;
        return p;
}

static int compare(te_ibkr_pos_check_t *pc, int64_t now, int busy)
{
        return te_ibkr_pos_compare(pc, now, busy, alone_bad, NULL);
}

/* Snapshot, live fills before and after positionEnd, waiting for the reports, the DB
 * catching up, the deadline, a DB error; no check without a DB. */
static void test_ibkr_pos_check_alone(void **state)
{
        (void)state;
        memset(&alone, 0, sizeof alone);
        te_ibkr_pos_check_t *pc = te_ibkr_pos_new(1000);
        assert_non_null(pc);
        assert_int_equal(te_ibkr_pos_add_account(pc, "DU1"), 0);
        te_tws_position_t p = position("DU1", "AAA", "STK", 10);
        /* no DB: nothing collected, nothing compared */
        te_ibkr_pos_begin(pc);
        assert_int_equal(te_ibkr_pos_on_position(pc, &p), 0);
        te_ibkr_pos_on_end(pc, 0);
        assert_int_equal(compare(pc, 0, 0), TE_IBKR_POS_WAIT);
        te_ibkr_pos_set_db(pc, alone_db, NULL);
        /* round 1: only allowed accounts' stocks count; a fill on a position already
         * received counts, one on a position IB has not sent yet is IB's to count */
        te_ibkr_pos_begin(pc);
        assert_int_equal(te_ibkr_pos_on_position(pc, &p), 0);
        te_tws_position_t other = position("DU9", "AAA", "STK", 50);
        te_tws_position_t opt = position("DU1", "AAA", "OPT", 50);
        assert_int_equal(te_ibkr_pos_on_position(pc, &other), 0);
        assert_int_equal(te_ibkr_pos_on_position(pc, &opt), 0);
        assert_int_equal(te_ibkr_pos_on_fill(pc, "DU1", "AAA", 5), 0);
        assert_int_equal(te_ibkr_pos_on_fill(pc, "DU1", "BBB", 3), 0);
        te_ibkr_pos_on_end(pc, 1000);
        alone.aaa = 15;
        assert_int_equal(compare(pc, 999, 0), TE_IBKR_POS_WAIT); /* not due yet */
        assert_int_equal(compare(pc, 1000, 1),
                         TE_IBKR_POS_WAIT); /* reports on their way */
        assert_int_equal(compare(pc, 1020, 0), TE_IBKR_POS_DONE);
        assert_int_equal(alone.n_bad, 0);
        assert_int_equal(compare(pc, 1040, 0),
                         TE_IBKR_POS_WAIT); /* done until the next */
        /* round 2: a fill after positionEnd moves IB's side; the DB never books it */
        te_ibkr_pos_begin(pc);
        assert_int_equal(te_ibkr_pos_on_position(pc, &p), 0);
        te_ibkr_pos_on_end(pc, 2000);
        assert_int_equal(te_ibkr_pos_on_fill(pc, "DU1", "AAA", 2), 0);
        alone.aaa = 10;
        assert_int_equal(compare(pc, 2000, 0),
                         TE_IBKR_POS_WAIT); /* differs: again later */
        assert_int_equal(te_ibkr_pos_mismatches(pc), 1);
        assert_int_equal(compare(pc, 2499, 0), TE_IBKR_POS_WAIT);
        assert_int_equal(alone.n_bad, 0);
        assert_int_equal(compare(pc, 3000, 1),
                         TE_IBKR_POS_DONE); /* deadline: busy or not */
        assert_int_equal(alone.n_bad, 1);
        assert_true(alone.bad_ib == 12 && alone.bad_db == 10);
        /* round 3: the DB cannot answer until the deadline: nothing reported */
        te_ibkr_pos_begin(pc);
        assert_int_equal(te_ibkr_pos_on_position(pc, &p), 0);
        te_ibkr_pos_on_end(pc, 4000);
        alone.fail = 1;
        assert_int_equal(compare(pc, 4000, 0), TE_IBKR_POS_WAIT);
        assert_int_equal(compare(pc, 5000, 0), TE_IBKR_POS_WAIT);
        alone.fail = 0;
        assert_int_equal(compare(pc, 5600, 0), TE_IBKR_POS_WAIT); /* given up */
        assert_int_equal(alone.n_bad, 1);
        te_ibkr_pos_destroy(pc);
        te_ibkr_pos_destroy(NULL);
}

int main(void)
{
        signal(SIGPIPE, SIG_IGN);
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_ibkr_pos_check_alone),
            cmocka_unit_test_setup_teardown(test_ibkr_positions_mismatch, fx_new,
                                            fx_free),
            cmocka_unit_test_setup_teardown(test_ibkr_positions_db_catches_up, fx_new,
                                            fx_free),
            cmocka_unit_test_setup_teardown(test_ibkr_positions_after_reconnect, fx_new,
                                            fx_free),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
