/*
 * test_fix_app: our orders as FIX application messages and FIX execution reports as
 * our reports (brokers/fix_app.c).
 *
 * Golden frames ('|' for SOH, BodyLength and CheckSum computed outside this code) for
 * a NewOrderSingle of every order type and TimeInForce, a cancel, a replace and a
 * status request; the commands each is refused for; the ClOrdID scheme both ways; a
 * table of ExecutionReports (written as their fields) with the report each must
 * become, one table of those that must be refused; OrderCancelReject; ExecID dedup.
 * FIX 4.2: golden NewOrderSingle and OrderCancelRequest frames, TimeInForce CLS
 * refused, and 4.2 ExecutionReports (ExecTransType 20, ExecType 1/2 for fills) read
 * as the 4.4 ones they stand for. OrderMassStatusRequest frames and its answers.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "fix_app.h"
#include "te_buf.h"

#define T0 1765000000123LL /* 20251206-05:46:40.123 */

static const te_fix_app_cfg_t CFG = {.account = "ACC1", .order_types = 0xf, .tifs = 0x3f};

static te_order_cmd_t order(te_side_t side, double qty, te_order_type_t type, double lim,
                            double stp, te_tif_t tif)
{
        te_order_cmd_t c;
        memset(&c, 0, sizeof c);
        te_strlcpy(c.order_id, "ORD-1", sizeof c.order_id);
        te_strlcpy(c.ticker, "AAPL", sizeof c.ticker);
        te_strlcpy(c.ids.portfolio_id, "P1", sizeof c.ids.portfolio_id);
        c.side = side;
        c.quantity = qty;
        c.order_type = type;
        c.has_limit_price = lim > 0;
        c.limit_price = lim;
        c.has_stop_price = stp > 0;
        c.stop_price = stp;
        c.tif = tif;
        return c;
}

typedef struct {
        const char *name;
        char kind; /* D F G H */
        te_side_t side;
        double qty;
        te_order_type_t type;
        double lim, stp;
        te_tif_t tif;
        const char *orig, *clordid;
        const char *want;
} golden_t;

static const golden_t GOLDEN[] = {
    {"MARKET DAY", 'D', TE_SIDE_BUY, 100, TE_OT_MARKET, 0, 0, TE_TIF_DAY, NULL, NULL,
     "8=FIX.4.4|9=124|35=D|49=TE|56=QFX|34=1|52=20251206-05:46:40.123|11=ORD-1|1=ACC1|"
     "21=1|55=AAPL|54=1|60=20251206-05:46:40.123|38=100|40=1|59=0|10=011|"},
    {"LIMIT GTC sell", 'D', TE_SIDE_SELL, 50, TE_OT_LIMIT, 187.25, 0, TE_TIF_GTC, NULL,
     NULL,
     "8=FIX.4.4|9=133|35=D|49=TE|56=QFX|34=2|52=20251206-05:46:40.123|11=ORD-1|1=ACC1|"
     "21=1|55=AAPL|54=2|60=20251206-05:46:40.123|38=50|40=2|44=187.25|59=1|10=190|"},
    {"STOP IOC", 'D', TE_SIDE_BUY, 10, TE_OT_STOP, 0, 190, TE_TIF_IOC, NULL, NULL,
     "8=FIX.4.4|9=130|35=D|49=TE|56=QFX|34=3|52=20251206-05:46:40.123|11=ORD-1|1=ACC1|"
     "21=1|55=AAPL|54=1|60=20251206-05:46:40.123|38=10|40=3|99=190|59=3|10=041|"},
    {"STOP_LIMIT FOK", 'D', TE_SIDE_BUY, 10, TE_OT_STOP_LIMIT, 191.5, 190, TE_TIF_FOK,
     NULL, NULL,
     "8=FIX.4.4|9=139|35=D|49=TE|56=QFX|34=4|52=20251206-05:46:40.123|11=ORD-1|1=ACC1|"
     "21=1|55=AAPL|54=1|60=20251206-05:46:40.123|38=10|40=4|44=191.5|99=190|59=4|"
     "10=217|"},
    {"LIMIT OPG", 'D', TE_SIDE_BUY, 10, TE_OT_LIMIT, 187.25, 0, TE_TIF_OPG, NULL, NULL,
     "8=FIX.4.4|9=133|35=D|49=TE|56=QFX|34=5|52=20251206-05:46:40.123|11=ORD-1|1=ACC1|"
     "21=1|55=AAPL|54=1|60=20251206-05:46:40.123|38=10|40=2|44=187.25|59=2|10=189|"},
    {"MARKET CLS", 'D', TE_SIDE_SELL, 10, TE_OT_MARKET, 0, 0, TE_TIF_CLS, NULL, NULL,
     "8=FIX.4.4|9=123|35=D|49=TE|56=QFX|34=6|52=20251206-05:46:40.123|11=ORD-1|1=ACC1|"
     "21=1|55=AAPL|54=2|60=20251206-05:46:40.123|38=10|40=1|59=7|10=231|"},
    {"cancel", 'F', TE_SIDE_BUY, 100, TE_OT_LIMIT, 187.25, 0, TE_TIF_DAY, "ORD-1",
     "ORD-1:c1",
     "8=FIX.4.4|9=114|35=F|49=TE|56=QFX|34=7|52=20251206-05:46:40.123|41=ORD-1|"
     "11=ORD-1:c1|55=AAPL|54=1|60=20251206-05:46:40.123|38=100|10=222|"},
    {"replace after a replace", 'G', TE_SIDE_SELL, 75, TE_OT_LIMIT, 187.5, 0, TE_TIF_GTC,
     "ORD-1:r1", "ORD-1:r2",
     "8=FIX.4.4|9=147|35=G|49=TE|56=QFX|34=8|52=20251206-05:46:40.123|41=ORD-1:r1|"
     "11=ORD-1:r2|1=ACC1|21=1|55=AAPL|54=2|60=20251206-05:46:40.123|38=75|40=2|"
     "44=187.5|59=1|10=066|"},
    {"status", 'H', TE_SIDE_SELL, 75, TE_OT_LIMIT, 187.5, 0, TE_TIF_GTC, NULL, "ORD-1:r2",
     "8=FIX.4.4|9=73|35=H|49=TE|56=QFX|34=9|52=20251206-05:46:40.123|11=ORD-1:r2|"
     "55=AAPL|54=2|10=217|"},
};

static void test_fix_app_golden(void **state)
{
        (void)state;
        for (size_t i = 0; i < sizeof GOLDEN / sizeof GOLDEN[0]; i++) {
                const golden_t *g = &GOLDEN[i];
                char mt[2] = {g->kind, '\0'};
                te_fix_hdr_t h = {mt, "TE", "QFX", (int64_t)i + 1, T0, 0, 0};
                char buf[1024], err[128] = "";
                te_fix_enc_t e;
                te_fix_enc_begin_v(&e, buf, sizeof buf, &h, NULL);
                te_order_cmd_t c =
                    order(g->side, g->qty, g->type, g->lim, g->stp, g->tif);
                int rc = -1;
                if (g->kind == 'D') {
                        rc = te_fix_app_enc_new(&e, &CFG, &c, T0, err, sizeof err);
                } else if (g->kind == 'F') {
                        rc = te_fix_app_enc_cancel(&e, &c, g->orig, g->clordid, T0);
                } else if (g->kind == 'G') {
                        te_order_cmd_t old = c;
                        old.quantity = 100;
                        old.limit_price = 187.25;
                        rc = te_fix_app_enc_replace(&e, &CFG, &old, &c, g->orig,
                                                    g->clordid, T0, err, sizeof err);
                } else {
                        rc = te_fix_app_enc_status(&e, &c, g->clordid);
                }
                assert_int_equal(rc, 0);
                long n = te_fix_enc_end(&e);
                char want[512];
                size_t wn = strlen(g->want);
                for (size_t k = 0; k <= wn; k++)
                        want[k] = g->want[k] == '|' ? '\x01' : g->want[k];
                if (n != (long)wn || memcmp(buf, want, wn) != 0) {
                        print_error("%s: got %.*s\n", g->name, n > 0 ? (int)n : 0, buf);
                        fail();
                }
        }
}

static void test_fix_app_refused(void **state)
{
        (void)state;
        const struct {
                const char *why;
                te_order_cmd_t c;
                unsigned types, tifs;
        } cases[] = {
            {"type not allowed", order(TE_SIDE_BUY, 1, TE_OT_STOP, 0, 5, TE_TIF_DAY), 0x3,
             0x3f},
            {"TIF not allowed", order(TE_SIDE_BUY, 1, TE_OT_MARKET, 0, 0, TE_TIF_OPG),
             0xf, 0x0f},
            {"LIMIT without price", order(TE_SIDE_BUY, 1, TE_OT_LIMIT, 0, 0, TE_TIF_DAY),
             0xf, 0x3f},
            {"STOP_LIMIT without stop",
             order(TE_SIDE_BUY, 1, TE_OT_STOP_LIMIT, 5, 0, TE_TIF_DAY), 0xf, 0x3f},
            {"zero quantity", order(TE_SIDE_BUY, 0, TE_OT_MARKET, 0, 0, TE_TIF_DAY), 0xf,
             0x3f},
            {"NaN quantity", order(TE_SIDE_BUY, NAN, TE_OT_MARKET, 0, 0, TE_TIF_DAY), 0xf,
             0x3f},
            {"negative limit", order(TE_SIDE_BUY, 1, TE_OT_LIMIT, -3, 0, TE_TIF_DAY), 0xf,
             0x3f},
        };
        for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
                te_fix_app_cfg_t cfg = CFG;
                cfg.order_types = cases[i].types;
                cfg.tifs = cases[i].tifs;
                char buf[1024], err[128] = "";
                te_fix_hdr_t h = {"D", "TE", "QFX", 1, T0, 0, 0};
                te_fix_enc_t e;
                te_fix_enc_begin_v(&e, buf, sizeof buf, &h, NULL);
                if (te_fix_app_enc_new(&e, &cfg, &cases[i].c, T0, err, sizeof err) !=
                        -1 ||
                    !err[0]) {
                        print_error("%s: accepted\n", cases[i].why);
                        fail();
                }
        }
        /* an order id that cannot be a ClOrdID of ours */
        te_order_cmd_t c = order(TE_SIDE_BUY, 1, TE_OT_MARKET, 0, 0, TE_TIF_DAY);
        te_strlcpy(c.order_id, "a:b", sizeof c.order_id);
        char buf[1024], err[128];
        te_fix_hdr_t h = {"D", "TE", "QFX", 1, T0, 0, 0};
        te_fix_enc_t e;
        te_fix_enc_begin_v(&e, buf, sizeof buf, &h, NULL);
        assert_int_equal(te_fix_app_enc_new(&e, &CFG, &c, T0, err, sizeof err), -1);
        /* a replace may not change the side */
        te_order_cmd_t old = order(TE_SIDE_BUY, 10, TE_OT_LIMIT, 5, 0, TE_TIF_DAY);
        te_order_cmd_t rep = order(TE_SIDE_SELL, 10, TE_OT_LIMIT, 6, 0, TE_TIF_DAY);
        te_fix_enc_begin_v(&e, buf, sizeof buf, &h, NULL);
        assert_int_equal(te_fix_app_enc_replace(&e, &CFG, &old, &rep, "ORD-1", "ORD-1:r1",
                                                T0, err, sizeof err),
                         -1);
}

static void test_fix_app_clordid(void **state)
{
        (void)state;
        char id[TE_FIX_CLORDID_MAX], oid[TE_ID_MAX];
        assert_int_equal(te_fix_clordid(id, sizeof id, "o12ab", 'n', 0), 0);
        assert_string_equal(id, "o12ab");
        assert_int_equal(te_fix_clordid(id, sizeof id, "o12ab", 'c', 3), 0);
        assert_string_equal(id, "o12ab:c3");
        assert_int_equal(te_fix_clordid(id, sizeof id, "o12ab", 'r', 12), 0);
        assert_string_equal(id, "o12ab:r12");
        assert_int_equal(te_fix_clordid(id, sizeof id, "o12ab", 'r', 0), -1);
        assert_int_equal(te_fix_clordid(id, sizeof id, "o12ab", 'x', 1), -1);
        assert_int_equal(te_fix_clordid(id, 6, "o12ab", 'c', 1), -1);
        const struct {
                const char *in;
                int rc;
                const char *out;
        } back[] = {
            {"o12ab", 0, "o12ab"},   {"o12ab:c3", 0, "o12ab"}, {"o12ab:r12", 0, "o12ab"},
            {"o12ab:x1", -1, NULL},  {"o12ab:c", -1, NULL},    {"o12ab:c0", -1, NULL},
            {"o12ab:c1x", -1, NULL}, {":c1", -1, NULL},        {"", -1, NULL}};
        for (size_t i = 0; i < sizeof back / sizeof back[0]; i++) {
                int rc = te_fix_clordid_order(back[i].in, oid, sizeof oid);
                assert_int_equal(rc, back[i].rc);
                if (rc == 0)
                        assert_string_equal(oid, back[i].out);
        }
}

/* An inbound message QFX -> TE from "tag=value|..." (35 first). */
static void build(char *buf, size_t cap, const char *spec, te_fix_msg_t *m)
{
        char tmp[512];
        snprintf(tmp, sizeof tmp, "%s", spec);
        char *sv, *p = strtok_r(tmp, "|", &sv);
        te_fix_hdr_t h = {p + 3, "QFX", "TE", 5, T0, 0, 0};
        te_fix_enc_t e;
        te_fix_enc_begin_v(&e, buf, cap, &h, NULL);
        while ((p = strtok_r(NULL, "|", &sv)) != NULL)
                te_fix_enc_str(&e, (int)strtol(p, NULL, 10), strchr(p, '=') + 1);
        long n = te_fix_enc_end(&e);
        assert_true(n > 0);
        assert_int_equal(te_fix_parse(buf, (size_t)n, m), TE_FIX_OK);
}

#define ERX "35=8|37=B1|17=E1|55=AAPL|54=1|38=100|"
#define ER  ERX "11=ORD-1|"

typedef struct {
        const char *name;
        const char *in;
        te_fix_map_t kind;
        te_exec_type_t et;
        te_order_status_t os;
        double cum, leaves, avg, last_qty, last_px;
} map_case_t;

static const map_case_t MAPS[] = {
    {"new", ER "150=0|39=0|151=100|14=0|6=0", TE_FIX_MAP_REPORT, TE_EXEC_ACK, TE_OS_NEW,
     0, 100, 0, 0, 0},
    {"pending new", ER "150=A|39=A|151=100|14=0|6=0", TE_FIX_MAP_REPORT, TE_EXEC_ACK,
     TE_OS_PENDING_NEW, 0, 100, 0, 0, 0},
    {"partial fill", ER "150=F|39=1|151=60|14=40|6=10.5|32=40|31=10.5", TE_FIX_MAP_REPORT,
     TE_EXEC_PARTIAL_FILL, TE_OS_PARTIALLY_FILLED, 40, 60, 10.5, 40, 10.5},
    {"fill", ER "150=F|39=2|151=0|14=100|6=10.6|32=60|31=10.6667", TE_FIX_MAP_REPORT,
     TE_EXEC_FILL, TE_OS_FILLED, 100, 0, 10.6, 60, 10.6667},
    {"fill while a cancel is pending", ER "150=F|39=6|151=50|14=50|6=10|32=50|31=10",
     TE_FIX_MAP_REPORT, TE_EXEC_PARTIAL_FILL, TE_OS_PENDING_CANCEL, 50, 50, 10, 50, 10},
    {"pending cancel", ERX "150=6|39=6|151=100|14=0|6=0|11=ORD-1:c1|41=ORD-1",
     TE_FIX_MAP_REPORT, TE_EXEC_ACK, TE_OS_PENDING_CANCEL, 0, 100, 0, 0, 0},
    {"canceled (leaves forced to 0)",
     ERX "150=4|39=4|151=60|14=40|6=10|11=ORD-1:c1|41=ORD-1", TE_FIX_MAP_REPORT,
     TE_EXEC_CANCELED, TE_OS_CANCELED, 40, 0, 10, 0, 0},
    {"pending replace", ERX "150=E|39=E|151=100|14=0|6=0|11=ORD-1:r1|41=ORD-1",
     TE_FIX_MAP_REPORT, TE_EXEC_ACK, TE_OS_PENDING_REPLACE, 0, 100, 0, 0, 0},
    {"replaced, partially filled",
     ERX "150=5|39=1|151=35|14=40|6=10|11=ORD-1:r1|41=ORD-1", TE_FIX_MAP_REPORT,
     TE_EXEC_REPLACED, TE_OS_PARTIALLY_FILLED, 40, 35, 10, 0, 0},
    {"replaced with the old 39=5", ERX "150=5|39=5|151=75|14=0|6=0|11=ORD-1:r1|41=ORD-1",
     TE_FIX_MAP_REPORT, TE_EXEC_REPLACED, TE_OS_NEW, 0, 75, 0, 0, 0},
    {"rejected", ER "150=8|39=8|151=0|14=0|6=0|58=unknown symbol", TE_FIX_MAP_REPORT,
     TE_EXEC_REJECTED, TE_OS_REJECTED, 0, 0, 0, 0, 0},
    {"expired", ER "150=C|39=C|151=0|14=20|6=10", TE_FIX_MAP_REPORT, TE_EXEC_EXPIRED,
     TE_OS_EXPIRED, 20, 0, 10, 0, 0},
    {"done for day", ER "150=3|39=3|151=80|14=20|6=10", TE_FIX_MAP_REPORT,
     TE_EXEC_EXPIRED, TE_OS_EXPIRED, 20, 0, 10, 0, 0},
    {"restated", ER "150=D|39=0|151=100|14=0|6=0", TE_FIX_MAP_REPORT, TE_EXEC_ACK,
     TE_OS_NEW, 0, 100, 0, 0, 0},
    {"order status answer", ER "150=I|39=1|151=60|14=40|6=10", TE_FIX_MAP_STATUS,
     TE_EXEC_ACK, TE_OS_PARTIALLY_FILLED, 40, 60, 10, 0, 0},
    {"trade cancel", ER "150=H|39=0|151=100|14=0|6=0", TE_FIX_MAP_ALERT, TE_EXEC_ACK,
     TE_OS_NEW, 0, 100, 0, 0, 0},
};

static void test_fix_app_map_table(void **state)
{
        (void)state;
        te_order_cmd_t c = order(TE_SIDE_BUY, 100, TE_OT_LIMIT, 10, 0, TE_TIF_DAY);
        for (size_t i = 0; i < sizeof MAPS / sizeof MAPS[0]; i++) {
                const map_case_t *mc = &MAPS[i];
                char buf[1024], err[128] = "", why[256] = "";
                static te_fix_msg_t m;
                build(buf, sizeof buf, mc->in, &m);
                te_fix_exec_t x;
                if (te_fix_app_dec_exec(&m, &x, err, sizeof err) != 0) {
                        print_error("%s: %s\n", mc->name, err);
                        fail();
                }
                assert_string_equal(x.order_id, "ORD-1");
                te_exec_report_t r;
                te_fix_map_t k =
                    te_fix_app_map_exec(&x, &c, "fix", T0, &r, why, sizeof why);
                if (k != mc->kind) {
                        print_error("%s: kind %d, want %d\n", mc->name, k, mc->kind);
                        fail();
                }
                if (k == TE_FIX_MAP_ALERT) {
                        assert_true(why[0] != '\0');
                        continue;
                }
                if ((k == TE_FIX_MAP_REPORT && r.exec_type != mc->et) ||
                    r.order_status != mc->os || r.cum_qty != mc->cum ||
                    r.leaves_qty != mc->leaves || r.avg_price != mc->avg ||
                    r.last_qty != mc->last_qty || r.last_price != mc->last_px) {
                        print_error("%s: %s %s cum %g leaves %g avg %g last %g@%g\n",
                                    mc->name, te_exec_type_name(r.exec_type),
                                    te_order_status_name(r.order_status), r.cum_qty,
                                    r.leaves_qty, r.avg_price, r.last_qty, r.last_price);
                        fail();
                }
                assert_string_equal(r.order_id, "ORD-1");
                assert_string_equal(r.ids.portfolio_id, "P1");
                assert_string_equal(r.broker, "fix");
                assert_int_equal(r.event_time, T0);
                assert_true(r.report_id[0] == 'r' && strlen(r.report_id) == 33);
        }
        /* the same ExecID gives the same report id; another ExecID another one */
        char buf[1024], err[128], why[64];
        static te_fix_msg_t m;
        te_fix_exec_t x;
        te_exec_report_t r1, r2, r3;
        build(buf, sizeof buf, ER "150=0|39=0|151=100|14=0|6=0", &m);
        assert_int_equal(te_fix_app_dec_exec(&m, &x, err, sizeof err), 0);
        te_fix_app_map_exec(&x, &c, "fix", T0, &r1, why, sizeof why);
        build(buf, sizeof buf, ER "150=0|39=0|151=100|14=0|6=0|43=Y", &m);
        assert_int_equal(te_fix_app_dec_exec(&m, &x, err, sizeof err), 0);
        te_fix_app_map_exec(&x, &c, "fix", T0 + 5, &r2, why, sizeof why);
        assert_string_equal(r1.report_id, r2.report_id);
        te_strlcpy(x.exec_id, "E2", sizeof x.exec_id);
        te_fix_app_map_exec(&x, &c, "fix", T0, &r3, why, sizeof why);
        assert_string_not_equal(r1.report_id, r3.report_id);
        /* the rejection text travels in the reason */
        build(buf, sizeof buf, ER "150=8|39=8|151=0|14=0|6=0|58=unknown symbol", &m);
        assert_int_equal(te_fix_app_dec_exec(&m, &x, err, sizeof err), 0);
        te_fix_app_map_exec(&x, &c, "fix", T0, &r1, why, sizeof why);
        assert_string_equal(r1.reason, "unknown symbol");
}

static void test_fix_app_exec_refused(void **state)
{
        (void)state;
        const char *bad[] = {
            "35=8|37=B1|17=E1|150=0|39=0|55=AAPL|54=1|151=1|14=0|6=0",     /* no 11 */
            "35=8|11=ORD-1|17=E1|150=0|39=0|55=AAPL|54=1|151=1|14=0|6=0",  /* no 37 */
            "35=8|37=B1|11=ORD-1|150=0|39=0|55=AAPL|54=1|151=1|14=0|6=0",  /* no 17 */
            "35=8|37=B1|11=ORD-1|17=E1|39=0|55=AAPL|54=1|151=1|14=0|6=0",  /* no 150 */
            "35=8|37=B1|11=ORD-1|17=E1|150=0|55=AAPL|54=1|151=1|14=0|6=0", /* no 39 */
            "35=8|37=B1|11=ORD-1|17=E1|150=0|39=Z|55=AAPL|54=1|151=1|14=0|6=0", /* bad 39
                                                                                 */
            "35=8|37=B1|11=ORD-1|17=E1|150=0|39=0|55=AAPL|54=7|151=1|14=0|6=0", /* bad 54
                                                                                 */
            "35=8|37=B1|11=ORD-1|17=E1|150=0|39=0|54=1|151=1|14=0|6=0",     /* no 55 */
            "35=8|37=B1|11=ORD-1|17=E1|150=0|39=0|55=AAPL|54=1|14=0|6=0",   /* no 151 */
            "35=8|37=B1|11=ORD-1|17=E1|150=0|39=0|55=AAPL|54=1|151=1|6=0",  /* no 14 */
            "35=8|37=B1|11=ORD-1|17=E1|150=0|39=0|55=AAPL|54=1|151=1|14=0", /* no 6 */
            "35=8|37=B1|11=ORD-1|17=E1|150=0|39=0|55=AAPL|54=1|151=-1|14=0|6=0", /* < 0 */
            "35=8|37=B1|11=ORD-1|17=E1|150=0|39=0|55=AAPL|54=1|151=1|14=x|6=0", /* not num
                                                                                 */
            "35=8|37=B1|11=ORD-1|17=E1|150=F|39=1|55=AAPL|54=1|151=1|14=1|6=1|31=1",
            "35=8|37=B1|11=ORD-1|17=E1|150=F|39=1|55=AAPL|54=1|151=1|14=1|6=1|32=1",
            "35=8|37=B1|11=ORD-1|17=E1|150=F|39=1|55=AAPL|54=1|151=1|14=1|6=1|32=0|31=1",
            "35=8|37=B1|11=ORD-1:z9|17=E1|150=0|39=0|55=AAPL|54=1|151=1|14=0|6=0",
            "35=8|37=B1|11=ORD-1|17=E1|150=00|39=0|55=AAPL|54=1|151=1|14=0|6=0",
        };
        for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
                char buf[1024], err[128] = "";
                static te_fix_msg_t m;
                te_fix_exec_t x;
                build(buf, sizeof buf, bad[i], &m);
                if (te_fix_app_dec_exec(&m, &x, err, sizeof err) != -1 || !err[0]) {
                        print_error("accepted: %s\n", bad[i]);
                        fail();
                }
        }
}

static void test_fix_app_cancel_reject(void **state)
{
        (void)state;
        char buf[1024], err[128], text[256];
        static te_fix_msg_t m;
        te_fix_cxl_rej_t c;
        build(buf, sizeof buf,
              "35=9|37=B1|11=ORD-1:r2|41=ORD-1:r1|39=1|434=2|102=0|58=too late", &m);
        assert_int_equal(te_fix_app_dec_cancel_reject(&m, &c, err, sizeof err), 0);
        assert_string_equal(c.order_id, "ORD-1");
        assert_string_equal(c.orig_clordid, "ORD-1:r1");
        assert_int_equal(c.is_replace, 1);
        assert_int_equal(c.reason, 0);
        assert_true(c.ord_status == '1');
        te_fix_app_cancel_reject_text(&c, text, sizeof text);
        assert_string_equal(text, "replace of order ORD-1 refused by the counterparty: "
                                  "too late to cancel: too late");
        build(buf, sizeof buf, "35=9|37=B1|11=ORD-1:c1|41=ORD-1|39=2|434=1", &m);
        assert_int_equal(te_fix_app_dec_cancel_reject(&m, &c, err, sizeof err), 0);
        assert_int_equal(c.is_replace, 0);
        assert_int_equal(c.reason, -1);
        te_fix_app_cancel_reject_text(&c, text, sizeof text);
        assert_string_equal(text,
                            "cancel of order ORD-1 refused by the counterparty: other");
        const char *bad[] = {"35=9|37=B1|41=ORD-1|39=2|434=1",
                             "35=9|37=B1|11=ORD-1:c1|39=2|434=1",
                             "35=9|37=B1|11=ORD-1:c1|41=ORD-1|434=1",
                             "35=9|37=B1|11=ORD-1:c1|41=ORD-1|39=2",
                             "35=9|37=B1|11=ORD-1:c1|41=ORD-1|39=2|434=3"};
        for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
                build(buf, sizeof buf, bad[i], &m);
                assert_int_equal(te_fix_app_dec_cancel_reject(&m, &c, err, sizeof err),
                                 -1);
        }
}

static void test_fix_app_execids(void **state)
{
        (void)state;
        te_fix_execids_t *s = te_fix_execids_new();
        assert_non_null(s);
        assert_int_equal(te_fix_execids_add(s, "ORD-1", "E1"), 1);
        assert_int_equal(te_fix_execids_add(s, "ORD-1", "E1"), 0);
        assert_int_equal(te_fix_execids_add(s, "ORD-1", "E2"), 1);
        assert_int_equal(te_fix_execids_add(s, "ORD-2", "E1"), 1);
        /* the separator keeps ("ab","c") and ("a","bc") apart */
        assert_int_equal(te_fix_execids_add(s, "ab", "c"), 1);
        assert_int_equal(te_fix_execids_add(s, "a", "bc"), 1);
        char big[200];
        memset(big, 'x', sizeof big - 1);
        big[sizeof big - 1] = '\0';
        assert_int_equal(te_fix_execids_add(s, "ORD-1", big), -1);
        te_fix_execids_destroy(s);
        te_fix_execids_destroy(NULL);
}

/* ---- FIX 4.2 ---------------------------------------------------------------- */

static const te_fix_app_cfg_t CFG42 = {.order_types = 0xf, .tifs = 0x1f, .fix42 = 1};

static void unbar(char *dst, const char *src)
{
        size_t n = strlen(src);
        for (size_t k = 0; k <= n; k++)
                dst[k] = src[k] == '|' ? '\x01' : src[k];
}

static void test_fix_app_golden42(void **state)
{
        (void)state;
        static const char *const want[] = {
            "8=FIX.4.2|9=126|35=D|49=TE|56=OM|34=1|52=20251206-05:46:40.123|11=ORD-1|"
            "21=1|55=AAPL|54=1|60=20251206-05:46:40.123|38=100|40=2|44=187.25|59=0|"
            "10=045|",
            "8=FIX.4.2|9=113|35=F|49=TE|56=OM|34=2|52=20251206-05:46:40.123|41=ORD-1|"
            "11=ORD-1:c1|55=AAPL|54=1|60=20251206-05:46:40.123|38=100|10=131|",
            "8=FIX.4.2|9=133|35=D|49=TE|56=OM|34=3|52=20251206-05:46:40.123|11=ORD-1|"
            "21=1|55=AAPL|54=2|60=20251206-05:46:40.123|38=100|40=4|44=187.25|99=190|"
            "59=1|10=123|",
        };
        for (int i = 0; i < 3; i++) {
                te_fix_hdr_t h = {i == 1 ? "F" : "D", "TE", "OM", i + 1, T0, 0, 0};
                char buf[1024], w[512], err[128] = "";
                te_fix_enc_t e;
                te_fix_enc_begin_v(&e, buf, sizeof buf, &h, TE_FIX_BEGIN42);
                te_order_cmd_t c =
                    i == 2 ? order(TE_SIDE_SELL, 100, TE_OT_STOP_LIMIT, 187.25, 190,
                                   TE_TIF_GTC)
                           : order(TE_SIDE_BUY, 100, TE_OT_LIMIT, 187.25, 0, TE_TIF_DAY);
                int rc = i == 1 ? te_fix_app_enc_cancel(&e, &c, "ORD-1", "ORD-1:c1", T0)
                                : te_fix_app_enc_new(&e, &CFG42, &c, T0, err, sizeof err);
                assert_int_equal(rc, 0);
                long n = te_fix_enc_end(&e);
                unbar(w, want[i]);
                if (n != (long)strlen(w) || memcmp(buf, w, strlen(w)) != 0) {
                        print_error("4.2 frame %d: got %.*s\n", i, n > 0 ? (int)n : 0,
                                    buf);
                        fail();
                }
                /* our decoder reads it back as a 4.2 frame, and only as one */
                size_t flen;
                static te_fix_msg_t m;
                assert_int_equal(te_fix_frame_next_v((const uint8_t *)buf, (size_t)n,
                                                     TE_FIX_BEGIN42, &flen, err,
                                                     sizeof err),
                                 TE_FIX_OK);
                assert_int_equal(te_fix_frame_next_v((const uint8_t *)buf, (size_t)n,
                                                     NULL, &flen, err, sizeof err),
                                 TE_FIX_EGARBLED);
                assert_int_equal(te_fix_parse(buf, (size_t)n, &m), TE_FIX_OK);
                assert_string_equal(m.begin, TE_FIX_BEGIN42);
        }
        /* TimeInForce CLS (7) does not exist before 4.3 */
        te_fix_hdr_t h = {"D", "TE", "OM", 1, T0, 0, 0};
        char buf[1024], err[128] = "";
        te_fix_enc_t e;
        te_fix_app_cfg_t all = CFG42;
        all.tifs = 0x3f;
        te_fix_enc_begin_v(&e, buf, sizeof buf, &h, TE_FIX_BEGIN42);
        te_order_cmd_t c = order(TE_SIDE_BUY, 100, TE_OT_LIMIT, 10, 0, TE_TIF_CLS);
        assert_int_equal(te_fix_app_enc_new(&e, &all, &c, T0, err, sizeof err), -1);
        assert_non_null(strstr(err, "CLS"));
        /* a BeginString we do not speak fails the frame */
        te_fix_enc_begin_v(&e, buf, sizeof buf, &h, "FIX.4.0");
        assert_true(te_fix_enc_end(&e) < 0);
}

/* An inbound FIX 4.2 message QFX -> TE from "tag=value|..." (35 first). */
static void build42(char *buf, size_t cap, const char *spec, te_fix_msg_t *m)
{
        char tmp[512];
        snprintf(tmp, sizeof tmp, "%s", spec);
        char *sv, *p = strtok_r(tmp, "|", &sv);
        te_fix_hdr_t h = {p + 3, "QFX", "TE", 5, T0, 0, 0};
        te_fix_enc_t e;
        te_fix_enc_begin_v(&e, buf, cap, &h, TE_FIX_BEGIN42);
        while ((p = strtok_r(NULL, "|", &sv)) != NULL)
                te_fix_enc_str(&e, (int)strtol(p, NULL, 10), strchr(p, '=') + 1);
        long n = te_fix_enc_end(&e);
        assert_true(n > 0);
        assert_int_equal(te_fix_parse(buf, (size_t)n, m), TE_FIX_OK);
}

/* As QuickFIX's ordermatch writes them: OrderID = ClOrdID, ExecType = OrdStatus. */
#define ER42 "35=8|37=ORD-1|11=ORD-1|17=E1|55=AAPL|54=1|38=100|"

static const map_case_t MAPS42[] = {
    {"4.2 new", ER42 "20=0|150=0|39=0|151=100|14=0|6=0", TE_FIX_MAP_REPORT, TE_EXEC_ACK,
     TE_OS_NEW, 0, 100, 0, 0, 0},
    {"4.2 partial fill", ER42 "20=0|150=1|39=1|151=60|14=40|6=10.5|32=40|31=10.5",
     TE_FIX_MAP_REPORT, TE_EXEC_PARTIAL_FILL, TE_OS_PARTIALLY_FILLED, 40, 60, 10.5, 40,
     10.5},
    {"4.2 fill", ER42 "20=0|150=2|39=2|151=0|14=100|6=10.6|32=60|31=10.6667",
     TE_FIX_MAP_REPORT, TE_EXEC_FILL, TE_OS_FILLED, 100, 0, 10.6, 60, 10.6667},
    {"4.2 canceled", ER42 "20=0|150=4|39=4|151=0|14=40|6=10", TE_FIX_MAP_REPORT,
     TE_EXEC_CANCELED, TE_OS_CANCELED, 40, 0, 10, 0, 0},
    {"4.2 rejected", ER42 "20=0|150=8|39=8|151=0|14=0|6=0|58=Unsupported TIF, use Day",
     TE_FIX_MAP_REPORT, TE_EXEC_REJECTED, TE_OS_REJECTED, 0, 0, 0, 0, 0},
    {"4.2 replaced", ER42 "20=0|150=5|39=0|151=120|14=0|6=0", TE_FIX_MAP_REPORT,
     TE_EXEC_REPLACED, TE_OS_NEW, 0, 120, 0, 0, 0},
    {"4.2 status answer", ER42 "20=3|150=1|39=1|151=60|14=40|6=10", TE_FIX_MAP_STATUS,
     TE_EXEC_ACK, TE_OS_PARTIALLY_FILLED, 40, 60, 10, 0, 0},
    {"4.2 trade correct", ER42 "20=2|150=2|39=2|151=0|14=100|6=10|32=100|31=10",
     TE_FIX_MAP_ALERT, TE_EXEC_ACK, TE_OS_NEW, 0, 0, 0, 0, 0},
    {"4.2 trade cancel", ER42 "20=1|150=1|39=1|151=60|14=40|6=10|32=40|31=10",
     TE_FIX_MAP_ALERT, TE_EXEC_ACK, TE_OS_NEW, 0, 0, 0, 0, 0},
};

static void test_fix_app_exec42(void **state)
{
        (void)state;
        te_order_cmd_t c = order(TE_SIDE_BUY, 100, TE_OT_LIMIT, 10, 0, TE_TIF_DAY);
        for (size_t i = 0; i < sizeof MAPS42 / sizeof MAPS42[0]; i++) {
                const map_case_t *mc = &MAPS42[i];
                char buf[1024], err[128] = "", why[256] = "";
                static te_fix_msg_t m;
                build42(buf, sizeof buf, mc->in, &m);
                te_fix_exec_t x;
                if (te_fix_app_dec_exec(&m, &x, err, sizeof err) != 0) {
                        print_error("%s: %s\n", mc->name, err);
                        fail();
                }
                te_exec_report_t r;
                te_fix_map_t k =
                    te_fix_app_map_exec(&x, &c, "fix", T0, &r, why, sizeof why);
                if (k != mc->kind) {
                        print_error("%s: kind %d, want %d\n", mc->name, k, mc->kind);
                        fail();
                }
                if (k == TE_FIX_MAP_ALERT) {
                        assert_true(why[0] != '\0');
                        continue;
                }
                if ((k == TE_FIX_MAP_REPORT && r.exec_type != mc->et) ||
                    r.order_status != mc->os || r.cum_qty != mc->cum ||
                    r.leaves_qty != mc->leaves || r.avg_price != mc->avg ||
                    r.last_qty != mc->last_qty || r.last_price != mc->last_px) {
                        print_error("%s: %s %s cum %g leaves %g avg %g last %g@%g\n",
                                    mc->name, te_exec_type_name(r.exec_type),
                                    te_order_status_name(r.order_status), r.cum_qty,
                                    r.leaves_qty, r.avg_price, r.last_qty, r.last_price);
                        fail();
                }
        }
        /* refused: no ExecTransType, an unknown one, 4.4's Trade (F) in a 4.2 report,
         * a 4.2 fill without LastShares */
        static const char *const bad[] = {
            ER42 "150=0|39=0|151=100|14=0|6=0",
            ER42 "20=9|150=0|39=0|151=100|14=0|6=0",
            ER42 "20=0|150=F|39=2|151=0|14=100|6=10|32=100|31=10",
            ER42 "20=0|150=2|39=2|151=0|14=100|6=10|31=10",
        };
        for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
                char buf[1024], err[128] = "";
                static te_fix_msg_t m;
                te_fix_exec_t x;
                build42(buf, sizeof buf, bad[i], &m);
                if (te_fix_app_dec_exec(&m, &x, err, sizeof err) != -1) {
                        print_error("4.2 report %zu accepted: %s\n", i, bad[i]);
                        fail();
                }
                assert_true(err[0] != '\0');
        }
        /* the same fields in a 4.4 frame: 150=1 is no Trade there (no LastQty needed,
         * no fill booked) */
        char buf[1024], err[128] = "", why[128];
        static te_fix_msg_t m;
        te_fix_exec_t x;
        te_exec_report_t r;
        build(buf, sizeof buf, ER42 "150=1|39=1|151=60|14=40|6=10", &m);
        assert_int_equal(te_fix_app_dec_exec(&m, &x, err, sizeof err), 0);
        assert_int_equal(te_fix_app_map_exec(&x, &c, "fix", T0, &r, why, sizeof why),
                         TE_FIX_MAP_ALERT);
}

/* OrderMassStatusRequest (35=AF): golden frames for every order and for one account;
 * an answer to it decodes as an OrderStatus with its MassStatusReqID, TotNumReports and
 * LastRptRequested, and maps to a status (nothing published). */
static void test_fix_app_mass_status(void **state)
{
        (void)state;
        static const struct {
                const char *account, *want;
        } G[] = {
            {"", "8=FIX.4.4|9=77|35=AF|49=TE|56=QFX|34=10|52=20251206-05:46:40.123|"
                 "584=M1765000000123-2|585=7|10=015|"},
            {"ACC1", "8=FIX.4.4|9=84|35=AF|49=TE|56=QFX|34=10|52=20251206-05:46:40.123|"
                     "584=M1765000000123-2|585=9|1=ACC1|10=118|"},
        };
        for (size_t i = 0; i < sizeof G / sizeof G[0]; i++) {
                te_fix_hdr_t h = {"AF", "TE", "QFX", 10, T0, 0, 0};
                char buf[512], want[512];
                te_fix_enc_t e;
                te_fix_enc_begin_v(&e, buf, sizeof buf, &h, NULL);
                assert_int_equal(
                    te_fix_app_enc_mass_status(&e, "M1765000000123-2", G[i].account), 0);
                long n = te_fix_enc_end(&e);
                size_t wn = strlen(G[i].want);
                for (size_t k = 0; k <= wn; k++)
                        want[k] = G[i].want[k] == '|' ? '\x01' : G[i].want[k];
                if (n != (long)wn || memcmp(buf, want, wn) != 0) {
                        print_error("AF %zu: got %.*s\n", i, n > 0 ? (int)n : 0, buf);
                        fail();
                }
        }
        /* an id is required and bounded */
        te_fix_hdr_t h = {"AF", "TE", "QFX", 10, T0, 0, 0};
        char buf[512], big[TE_FIX_MASSID_MAX + 1];
        te_fix_enc_t e;
        te_fix_enc_begin_v(&e, buf, sizeof buf, &h, NULL);
        assert_int_equal(te_fix_app_enc_mass_status(&e, "", ""), -1);
        memset(big, 'x', sizeof big - 1);
        big[sizeof big - 1] = '\0';
        assert_int_equal(te_fix_app_enc_mass_status(&e, big, ""), -1);

        /* the answers */
        te_order_cmd_t c = order(TE_SIDE_BUY, 100, TE_OT_LIMIT, 10, 0, TE_TIF_DAY);
        static te_fix_msg_t m;
        te_fix_exec_t x;
        te_exec_report_t r;
        char err[128], why[64];
        build(buf, sizeof buf, ER "150=I|39=1|151=60|14=40|6=10|584=M7|911=2", &m);
        assert_int_equal(te_fix_app_dec_exec(&m, &x, err, sizeof err), 0);
        assert_string_equal(x.mass_id, "M7");
        assert_int_equal(x.tot_reports, 2);
        assert_int_equal(x.last_rpt, 0);
        assert_int_equal(te_fix_app_map_exec(&x, &c, "fix", T0, &r, why, sizeof why),
                         TE_FIX_MAP_STATUS);
        assert_int_equal(r.order_status, TE_OS_PARTIALLY_FILLED);
        assert_true(r.cum_qty == 40 && r.leaves_qty == 60);
        build(buf, sizeof buf, ER "150=I|39=2|151=0|14=100|6=10|584=M7|911=2|912=Y", &m);
        assert_int_equal(te_fix_app_dec_exec(&m, &x, err, sizeof err), 0);
        assert_int_equal(x.last_rpt, 1);
        assert_int_equal(te_fix_app_map_exec(&x, &c, "fix", T0, &r, why, sizeof why),
                         TE_FIX_MAP_STATUS);
        assert_int_equal(r.order_status, TE_OS_FILLED);
        /* a plain status answer: none of those */
        build(buf, sizeof buf, ER "150=I|39=0|151=100|14=0|6=0", &m);
        assert_int_equal(te_fix_app_dec_exec(&m, &x, err, sizeof err), 0);
        assert_string_equal(x.mass_id, "");
        assert_int_equal(x.tot_reports, -1);
        assert_int_equal(x.last_rpt, 0);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_fix_app_golden),
            cmocka_unit_test(test_fix_app_refused),
            cmocka_unit_test(test_fix_app_clordid),
            cmocka_unit_test(test_fix_app_map_table),
            cmocka_unit_test(test_fix_app_exec_refused),
            cmocka_unit_test(test_fix_app_cancel_reject),
            cmocka_unit_test(test_fix_app_execids),
            cmocka_unit_test(test_fix_app_golden42),
            cmocka_unit_test(test_fix_app_exec42),
            cmocka_unit_test(test_fix_app_mass_status),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
