/*
 * test_broker_guard: pre-trade limits and expiry (brokers/broker_guard.c), and the
 * fault-injection decorator (brokers/broker_faulty.c) over a stub adapter.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "broker.h"
#include "broker_faulty.h"
#include "broker_guard.h"
#include "te_buf.h"

static void order(te_order_cmd_t *c, te_command_t cmd, double qty, double limit,
                  double ref)
{
        memset(c, 0, sizeof *c);
        c->command = cmd;
        te_strlcpy(c->order_id, "o-1", sizeof c->order_id);
        te_strlcpy(c->ticker, "AAA", sizeof c->ticker);
        te_strlcpy(c->ids.portfolio_id, "pf", sizeof c->ids.portfolio_id);
        c->quantity = qty;
        c->has_limit_price = limit > 0;
        c->limit_price = limit;
        c->has_ref_price = ref > 0;
        c->ref_price = ref;
        c->mode = TE_MODE_TRAINING;
}

static void test_broker_guard_limits(void **state)
{
        static const struct {
                te_guard_cfg_t cfg;
                te_command_t cmd;
                double qty, limit, ref;
                int64_t produced, now;
                te_guard_verdict_t want;
                const char *reason; /* substring of the reason, or NULL */
        } cases[] = {
            /* no limits: everything passes */
            {{0, 0, 0, 0}, TE_CMD_NEW, 1e9, 0, 0, 1, 999999, TE_GUARD_PASS, NULL},
            /* quantity: 500 ok, 501 rejected */
            {{500, 0, 0, 0}, TE_CMD_NEW, 500, 0, 0, 0, 0, TE_GUARD_PASS, NULL},
            {{500, 0, 0, 0},
             TE_CMD_NEW,
             501,
             0,
             0,
             0,
             0,
             TE_GUARD_REJECTED,
             "quantity 501 above limits.max_qty 500"},
            {{500, 0, 0, 0},
             TE_CMD_REPLACE,
             501,
             0,
             0,
             0,
             0,
             TE_GUARD_REJECTED,
             "max_qty"},
            /* cancels always pass */
            {{500, 1, 0, 1}, TE_CMD_CANCEL, 501, 0, 0, 1, 99, TE_GUARD_PASS, NULL},
            /* notional: 100 x 10.5 = 1050 > 1000 by limit price, by ref price */
            {{0, 1000, 0, 0},
             TE_CMD_NEW,
             100,
             10.5,
             0,
             0,
             0,
             TE_GUARD_REJECTED,
             "notional 1050.00 (100 x 10.5)"},
            {{0, 1000, 0, 0},
             TE_CMD_NEW,
             100,
             0,
             10.5,
             0,
             0,
             TE_GUARD_REJECTED,
             "notional 1050.00"},
            {{0, 1000, 0, 0}, TE_CMD_NEW, 100, 10, 0, 0, 0, TE_GUARD_PASS, NULL},
            /* limit price wins over the reference price */
            {{0, 1000, 0, 0}, TE_CMD_NEW, 100, 9, 11, 0, 0, TE_GUARD_PASS, NULL},
            /* no price: notional cannot be checked */
            {{0, 1000, 0, 0}, TE_CMD_NEW, 1e6, 0, 0, 0, 0, TE_GUARD_PASS, NULL},
            /* expiry: 1500 ms old with max 1000 expires; 1000 ms old passes; unknown
             * produce time never expires; expiry is checked before the limits */
            {{1, 0, 0, 1000},
             TE_CMD_NEW,
             5,
             0,
             0,
             1000,
             2500,
             TE_GUARD_EXPIRED,
             "expired: order was 1500 ms old"},
            {{0, 0, 0, 1000}, TE_CMD_NEW, 5, 0, 0, 1000, 2000, TE_GUARD_PASS, NULL},
            {{0, 0, 0, 1000}, TE_CMD_NEW, 5, 0, 0, 0, 999999, TE_GUARD_PASS, NULL},
        };
        (void)state;
        for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
                te_guard_t g;
                te_order_cmd_t c;
                te_reports_t out = {0};
                int oom = -1;
                te_guard_init(&g, &cases[i].cfg);
                order(&c, cases[i].cmd, cases[i].qty, cases[i].limit, cases[i].ref);
                te_guard_verdict_t v = te_guard_check(&g, &c, cases[i].produced,
                                                      cases[i].now, "sim", &out, &oom);
                assert_int_equal(oom, 0);
                if (v != cases[i].want)
                        fail_msg("case %zu: verdict %d, want %d", i, v, cases[i].want);
                assert_int_equal(out.n, v == TE_GUARD_PASS ? 0 : 1);
                if (cases[i].reason) {
                        if (!strstr(out.items[0].reason, cases[i].reason))
                                fail_msg("case %zu: reason '%s' lacks '%s'", i,
                                         out.items[0].reason, cases[i].reason);
                        assert_int_equal(out.items[0].exec_type, v == TE_GUARD_EXPIRED
                                                                     ? TE_EXEC_EXPIRED
                                                                     : TE_EXEC_REJECTED);
                        assert_string_equal(out.items[0].order_id, "o-1");
                        assert_true(out.items[0].report_id[0] != '\0');
                }
                te_reports_free(&out);
        }
}

static void test_broker_guard_rate(void **state)
{
        /* 2 orders/s, burst 2: at t=0 two pass, the third is rejected; 500 ms later one
         * token is back; a CLOCK never uses a token */
        static const struct {
                te_command_t cmd;
                int64_t now;
                te_guard_verdict_t want;
        } steps[] = {
            {TE_CMD_NEW, 0, TE_GUARD_PASS},       {TE_CMD_NEW, 0, TE_GUARD_PASS},
            {TE_CMD_CLOCK, 0, TE_GUARD_PASS},     {TE_CMD_NEW, 0, TE_GUARD_REJECTED},
            {TE_CMD_NEW, 400, TE_GUARD_REJECTED}, {TE_CMD_NEW, 600, TE_GUARD_PASS},
            {TE_CMD_NEW, 600, TE_GUARD_REJECTED}, {TE_CMD_NEW, 5000, TE_GUARD_PASS},
            {TE_CMD_NEW, 5000, TE_GUARD_PASS},    {TE_CMD_NEW, 5000, TE_GUARD_REJECTED},
        };
        te_guard_cfg_t cfg = {0, 0, 2, 0};
        te_guard_t g;
        te_guard_init(&g, &cfg);
        (void)state;
        for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++) {
                te_order_cmd_t c;
                te_reports_t out = {0};
                int oom;
                order(&c, steps[i].cmd, 10, 0, 0);
                te_guard_verdict_t v =
                    te_guard_check(&g, &c, 0, steps[i].now, "sim", &out, &oom);
                if (v != steps[i].want)
                        fail_msg("step %zu: verdict %d, want %d", i, v, steps[i].want);
                if (v == TE_GUARD_REJECTED)
                        assert_non_null(
                            strstr(out.items[0].reason, "max_orders_per_sec 2"));
                te_reports_free(&out);
        }
}

/* ---- the fault decorator over a stub adapter that ACKs everything ----------------- */

static int stub_destroyed;
static int64_t fake_now;
static int64_t fake_clock(void)
{
        return fake_now;
}

static te_broker_err_t stub_ack(te_broker_t *b, const te_order_cmd_t *cmd,
                                te_reports_t *out)
{
        te_exec_report_t *r = te_reports_push(out);
        te_broker_report_from_cmd(r, cmd, b->ops->name);
        r->exec_type = TE_EXEC_ACK;
        return TE_BROKER_OK;
}
static te_broker_err_t stub_poll(te_broker_t *b, te_reports_t *out)
{
        (void)b;
        (void)out;
        return TE_BROKER_OK;
}
static void stub_destroy(te_broker_t *b)
{
        (void)b;
        stub_destroyed++;
}
static const te_broker_ops_t stub_ops = {.name = "stub",
                                         .mode = TE_MODE_TRAINING,
                                         .submit = stub_ack,
                                         .cancel = stub_ack,
                                         .replace = stub_ack,
                                         .clock = stub_ack,
                                         .poll = stub_poll,
                                         .destroy = stub_destroy};
static te_broker_t stub = {&stub_ops};

static void test_broker_faulty_script(void **state)
{
        char err[256];
        (void)state;
        stub_destroyed = 0;
        fake_now = 1000;
        te_broker_t *b = te_faulty_new(
            &stub, "down_after=3,down_ms=500,reject_every=4,reject_ticker=BAD",
            fake_clock, err, sizeof err);
        assert_non_null(b);
        assert_string_equal(b->ops->name, "stub");
        assert_int_equal(b->ops->mode, TE_MODE_TRAINING);
        /* orders: 1 ok, 2 BAD rejected, 3 ok then down */
        static const struct {
                const char *ticker;
                int64_t now;
                te_broker_err_t rc;
                te_exec_type_t type; /* when rc OK */
                int connected_after;
        } steps[] = {
            {"AAA", 1000, TE_BROKER_OK, TE_EXEC_ACK, 1},
            {"BAD", 1000, TE_BROKER_OK, TE_EXEC_REJECTED, 1},
            {"AAA", 1000, TE_BROKER_OK, TE_EXEC_ACK, 0},            /* 3rd: goes down */
            {"AAA", 1499, TE_BROKER_ERR_RETRIABLE, TE_EXEC_ACK, 0}, /* still down */
            {"AAA", 1500, TE_BROKER_OK, TE_EXEC_REJECTED, 1}, /* up; 4th: every 4th */
            {"AAA", 1500, TE_BROKER_OK, TE_EXEC_ACK, 1},      /* 5th */
        };
        for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++) {
                te_order_cmd_t c;
                te_reports_t out = {0};
                order(&c, TE_CMD_NEW, 10, 0, 0);
                te_strlcpy(c.ticker, steps[i].ticker, sizeof c.ticker);
                fake_now = steps[i].now;
                te_broker_err_t rc = te_broker_handle(b, &c, &out);
                if (rc != steps[i].rc)
                        fail_msg("step %zu: rc %d want %d", i, rc, steps[i].rc);
                if (rc == TE_BROKER_OK) {
                        assert_int_equal(out.n, 1);
                        assert_int_equal(out.items[0].exec_type, steps[i].type);
                        if (steps[i].type == TE_EXEC_REJECTED)
                                assert_non_null(strstr(out.items[0].reason, "fault:"));
                } else {
                        assert_int_equal(out.n, 0);
                }
                assert_int_equal(b->ops->connected(b), steps[i].connected_after);
                te_reports_free(&out);
        }
        te_broker_destroy(b);
        assert_int_equal(stub_destroyed, 1);
}

/* A stub that acknowledges NEW orders (status NEW, leaves = quantity) and answers a
 * CANCEL with CANCELED, counting the cancels it got. */
static int stub2_cancels;
static te_broker_err_t stub2_new(te_broker_t *b, const te_order_cmd_t *cmd,
                                 te_reports_t *out)
{
        te_exec_report_t *r = te_reports_push(out);
        te_broker_report_from_cmd(r, cmd, b->ops->name);
        r->exec_type = TE_EXEC_ACK;
        r->order_status = TE_OS_NEW;
        r->leaves_qty = cmd->quantity;
        return TE_BROKER_OK;
}
static te_broker_err_t stub2_cancel(te_broker_t *b, const te_order_cmd_t *cmd,
                                    te_reports_t *out)
{
        stub2_cancels++;
        te_exec_report_t *r = te_reports_push(out);
        te_broker_report_from_cmd(r, cmd, b->ops->name);
        r->exec_type = TE_EXEC_CANCELED;
        r->order_status = TE_OS_CANCELED;
        return TE_BROKER_OK;
}
static const te_broker_ops_t stub2_ops = {.name = "stub",
                                          .mode = TE_MODE_TRAINING,
                                          .submit = stub2_new,
                                          .cancel = stub2_cancel,
                                          .replace = stub_ack,
                                          .clock = stub_ack,
                                          .poll = stub_poll,
                                          .destroy = stub_destroy};
static te_broker_t stub2 = {&stub2_ops};

/* cancel_delay_ms holds a CANCEL until a poll after the delay; fill_before_cancel then
 * fills the order's leaves at its reference price and keeps the adapter's CANCELED
 * back; an order without a price is cancelled as usual. */
static void test_broker_faulty_cancel_race(void **state)
{
        char err[256];
        (void)state;
        stub2_cancels = 0;
        fake_now = 1000;
        te_broker_t *b = te_faulty_new(&stub2, "cancel_delay_ms=100,fill_before_cancel=1",
                                       fake_clock, err, sizeof err);
        assert_non_null(b);
        te_order_cmd_t c;
        te_reports_t out = {0};
        order(&c, TE_CMD_NEW, 10, 0, 50);
        assert_int_equal(te_broker_handle(b, &c, &out), TE_BROKER_OK);
        assert_int_equal(out.n, 1);
        te_reports_clear(&out);
        order(&c, TE_CMD_CANCEL, 10, 0, 0);
        assert_int_equal(te_broker_handle(b, &c, &out), TE_BROKER_OK);
        assert_int_equal(out.n, 0); /* held */
        assert_int_equal(stub2_cancels, 0);
        fake_now = 1099;
        assert_int_equal(b->ops->poll(b, &out), TE_BROKER_OK);
        assert_int_equal(out.n, 0);
        fake_now = 1100;
        assert_int_equal(b->ops->poll(b, &out), TE_BROKER_OK);
        assert_int_equal(out.n, 1);
        assert_int_equal(out.items[0].exec_type, TE_EXEC_FILL);
        assert_int_equal(out.items[0].order_status, TE_OS_FILLED);
        assert_string_equal(out.items[0].order_id, "o-1");
        assert_true(out.items[0].last_qty == 10 && out.items[0].cum_qty == 10);
        assert_true(out.items[0].last_price == 50 && out.items[0].avg_price == 50);
        assert_int_equal(stub2_cancels, 1); /* the adapter stopped working it */
        te_reports_clear(&out);
        /* no price: cancelled as usual, late */
        order(&c, TE_CMD_NEW, 5, 0, 0);
        te_strlcpy(c.order_id, "o-2", sizeof c.order_id);
        assert_int_equal(te_broker_handle(b, &c, &out), TE_BROKER_OK);
        te_reports_clear(&out);
        c.command = TE_CMD_CANCEL;
        assert_int_equal(te_broker_handle(b, &c, &out), TE_BROKER_OK);
        assert_int_equal(out.n, 0);
        fake_now = 1300;
        assert_int_equal(b->ops->poll(b, &out), TE_BROKER_OK);
        assert_int_equal(out.n, 1);
        assert_int_equal(out.items[0].exec_type, TE_EXEC_CANCELED);
        assert_int_equal(stub2_cancels, 2);
        te_reports_free(&out);
        te_broker_destroy(b);
}

/* up_file: the outage ends when the file appears, long before down_ms */
static void test_broker_faulty_up_file(void **state)
{
        char err[256], dir[] = "/tmp/te-faulty.XXXXXX", script[128], path[64];
        (void)state;
        fake_now = 1000;
        assert_non_null(mkdtemp(dir));
        snprintf(path, sizeof path, "%s/up", dir);
        snprintf(script, sizeof script, "down_after=1,down_ms=60000,up_file=%s", path);
        te_broker_t *b = te_faulty_new(&stub, script, fake_clock, err, sizeof err);
        assert_non_null(b);
        te_order_cmd_t c;
        te_reports_t out = {0};
        order(&c, TE_CMD_NEW, 10, 0, 0);
        assert_int_equal(te_broker_handle(b, &c, &out), TE_BROKER_OK); /* 1st: down */
        te_reports_free(&out);
        fake_now = 2000;
        assert_int_equal(b->ops->connected(b), 0);
        assert_int_equal(te_broker_handle(b, &c, &out), TE_BROKER_ERR_RETRIABLE);
        FILE *fp = fopen(path, "w");
        assert_non_null(fp);
        fclose(fp);
        assert_int_equal(b->ops->connected(b), 1); /* at 2000, not 61000 */
        assert_int_equal(te_broker_handle(b, &c, &out), TE_BROKER_OK);
        assert_int_equal(out.n, 1);
        te_reports_free(&out);
        te_broker_destroy(b);
        remove(path);
        rmdir(dir);
}

static void test_broker_faulty_bad_scripts(void **state)
{
        static const char *const bad[] = {"down_after",
                                          "down_after=-1",
                                          "nope=1",
                                          "down_ms=1x",
                                          "reject_ticker=",
                                          "reject_every=99999999999999999999999",
                                          "fill_before_cancel=2",
                                          "cancel_delay_ms=x",
                                          "up_file="};
        (void)state;
        for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
                char err[256] = "";
                stub_destroyed = 0;
                assert_null(te_faulty_new(&stub, bad[i], fake_clock, err, sizeof err));
                assert_non_null(strstr(err, "fault.script"));
                assert_int_equal(stub_destroyed,
                                 1); /* ownership passed even on failure */
        }
        char err[256];
        te_broker_t *b = te_faulty_new(&stub, "", fake_clock, err, sizeof err);
        assert_non_null(b);
        te_broker_destroy(b);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_broker_guard_limits),
            cmocka_unit_test(test_broker_guard_rate),
            cmocka_unit_test(test_broker_faulty_script),
            cmocka_unit_test(test_broker_faulty_cancel_race),
            cmocka_unit_test(test_broker_faulty_up_file),
            cmocka_unit_test(test_broker_faulty_bad_scripts),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
