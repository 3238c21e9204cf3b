/*
 * test_tws_proto_order: the openOrder layout of server versions 170..176.
 *
 * G_OPEN_ORDER is the full message for a plain order, written out field by field
 * from the TWS API's openOrder layout (no version field since 145; faProfile until
 * 177; the PEGBEST_PEGMID_OFFSETS attributes of 170 last): the encoder must produce
 * exactly these bytes and the decoder must read them back. A second message carries
 * every optional group a real TWS can send (delta-neutral order, combo legs, smart
 * routing parameters, scale parameters, hedge, delta-neutral contract, algo
 * parameters, PEG BENCH fields, conditions of every type), built from field arrays:
 * the decoder must consume exactly its fields. Then every truncation of both
 * messages, and bad counts and types, must be refused with an error.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "te_buf.h"
#include "tws_proto.h"
#include "tws_proto_int.h"
#include "tws_server.h"

/* G_OPEN_ORDER: 128 fields, 238 bytes */
static const char G_OPEN_ORDER[] =
    "\x00\x00\x00\xea"
    /* message id, order id */
    "5\0"
    "42\0"
    /* contract: conId symbol secType lastTradeDate strike right multiplier exchange
       currency localSymbol tradingClass */
    "0\0"
    "AAPL\0"
    "STK\0"
    "\0"
    "0\0"
    "\0"
    "\0"
    "SMART\0"
    "USD\0"
    "AAPL\0"
    "\0"
    /* action totalQuantity orderType lmtPrice auxPrice tif ocaGroup account openClose
       origin orderRef */
    "BUY\0"
    "100\0"
    "LMT\0"
    "187.25\0"
    "\0"
    "GTC\0"
    "\0"
    "DU111111\0"
    "\0"
    "0\0"
    "o-1\0"
    /* clientId permId outsideRth hidden discretionaryAmt goodAfterTime sharesAllocation
     */
    "7\0"
    "1000001\0"
    "0\0"
    "0\0"
    "0\0"
    "\0"
    "\0"
    /* faGroup faMethod faPercentage faProfile modelCode goodTillDate rule80A
       percentOffset settlingFirm */
    "\0"
    "\0"
    "\0"
    "\0"
    "\0"
    "\0"
    "\0"
    "\0"
    "\0"
    /* shortSaleSlot designatedLocation exemptCode auctionStrategy */
    "0\0"
    "\0"
    "-1\0"
    "0\0"
    /* startingPrice stockRefPrice delta stockRangeLower stockRangeUpper displaySize */
    "\0"
    "\0"
    "\0"
    "\0"
    "\0"
    "\0"
    /* blockOrder sweepToFill allOrNone minQty ocaType eTradeOnly firmQuoteOnly
       nbboPriceCap */
    "0\0"
    "0\0"
    "0\0"
    "\0"
    "0\0"
    "0\0"
    "0\0"
    "\0"
    /* parentId triggerMethod */
    "0\0"
    "0\0"
    /* volatility volatilityType deltaNeutralOrderType deltaNeutralAuxPrice
       continuousUpdate referencePriceType */
    "\0"
    "0\0"
    "\0"
    "\0"
    "0\0"
    "0\0"
    /* trailStopPrice trailingPercent basisPoints basisPointsType */
    "\0"
    "\0"
    "\0"
    "\0"
    /* comboLegsDescrip, comboLegs, orderComboLegs, smartComboRoutingParams counts */
    "\0"
    "0\0"
    "0\0"
    "0\0"
    /* scaleInitLevelSize scaleSubsLevelSize scalePriceIncrement hedgeType */
    "\0"
    "\0"
    "\0"
    "\0"
    /* optOutSmartRouting clearingAccount clearingIntent notHeld deltaNeutralContract
       algoStrategy solicited whatIf */
    "0\0"
    "\0"
    "\0"
    "0\0"
    "0\0"
    "\0"
    "0\0"
    "0\0"
    /* status, 9 margin fields */
    "Submitted\0"
    "\0"
    "\0"
    "\0"
    "\0"
    "\0"
    "\0"
    "\0"
    "\0"
    "\0"
    /* commission minCommission maxCommission commissionCurrency warningText */
    "\0"
    "\0"
    "\0"
    "\0"
    "\0"
    /* randomizeSize randomizePrice conditions */
    "0\0"
    "0\0"
    "0\0"
    /* adjustedOrderType triggerPrice trailStopPrice lmtPriceOffset adjustedStopPrice
       adjustedStopLimitPrice adjustedTrailingAmount adjustableTrailingUnit */
    "\0"
    "\0"
    "\0"
    "\0"
    "\0"
    "\0"
    "\0"
    "0\0"
    /* softDollarTier name value displayName, cashQty */
    "\0"
    "\0"
    "\0"
    "\0"
    /* dontUseAutoPriceForHedge isOmsContainer discretionaryUpToLimitPrice
       usePriceMgmtAlgo duration postToAts autoCancelParent */
    "0\0"
    "0\0"
    "0\0"
    "0\0"
    "\0"
    "\0"
    "0\0"
    /* minTradeQty minCompeteSize competeAgainstBestOffset midOffsetAtWhole
       midOffsetAtHalf */
    "\0"
    "\0"
    "\0"
    "\0"
    "\0";

#define GLEN(g) (sizeof(g) - 1)

static te_tws_open_order_t sample_open_order(void)
{
        te_tws_open_order_t oo;
        memset(&oo, 0, sizeof oo);
        te_tws_order_t *o = &oo.order;
        o->order_id = 42;
        te_strlcpy(o->symbol, "AAPL", sizeof o->symbol);
        te_strlcpy(o->sec_type, "STK", sizeof o->sec_type);
        te_strlcpy(o->exchange, "SMART", sizeof o->exchange);
        te_strlcpy(o->currency, "USD", sizeof o->currency);
        te_strlcpy(o->action, "BUY", sizeof o->action);
        o->total_qty = 100;
        te_strlcpy(o->order_type, "LMT", sizeof o->order_type);
        o->has_lmt_price = 1;
        o->lmt_price = 187.25;
        te_strlcpy(o->tif, "GTC", sizeof o->tif);
        te_strlcpy(o->account, "DU111111", sizeof o->account);
        te_strlcpy(o->order_ref, "o-1", sizeof o->order_ref);
        oo.client_id = 7;
        oo.perm_id = 1000001;
        te_strlcpy(oo.status, "Submitted", sizeof oo.status);
        return oo;
}

static void test_tws_open_order_encode(void **state)
{
        (void)state;
        te_buf_t b;
        te_buf_init(&b, 1 << 20);
        te_tws_open_order_t oo = sample_open_order();
        assert_int_equal(te_tws_enc_open_order(&b, &oo), 0);
        assert_int_equal(b.len, GLEN(G_OPEN_ORDER));
        assert_memory_equal(b.data, G_OPEN_ORDER, GLEN(G_OPEN_ORDER));
        te_buf_free(&b);
}

static void test_tws_open_order_decode(void **state)
{
        (void)state;
        const uint8_t *pl;
        size_t plen, used;
        char err[200];
        te_tws_msg_t m;
        assert_int_equal(te_tws_frame_next((const uint8_t *)G_OPEN_ORDER,
                                           GLEN(G_OPEN_ORDER), TE_TWS_MAX_FRAME, &pl,
                                           &plen, &used, err, sizeof err),
                         TE_TWS_OK);
        assert_int_equal(used, GLEN(G_OPEN_ORDER));
        assert_int_equal(te_tws_dec_message(pl, plen, &m, err, sizeof err), TE_TWS_OK);
        assert_int_equal(m.type, TE_TWS_IN_OPEN_ORDER);
        const te_tws_open_order_t *oo = &m.u.open_order;
        const te_tws_order_t *o = &oo->order;
        assert_int_equal(o->order_id, 42);
        assert_string_equal(o->symbol, "AAPL");
        assert_string_equal(o->sec_type, "STK");
        assert_string_equal(o->exchange, "SMART");
        assert_string_equal(o->currency, "USD");
        assert_string_equal(o->action, "BUY");
        assert_true(o->total_qty == 100);
        assert_string_equal(o->order_type, "LMT");
        assert_true(o->has_lmt_price && o->lmt_price == 187.25);
        assert_false(o->has_aux_price);
        assert_string_equal(o->tif, "GTC");
        assert_string_equal(o->account, "DU111111");
        assert_string_equal(o->order_ref, "o-1");
        assert_int_equal(oo->client_id, 7);
        assert_int_equal(oo->perm_id, 1000001);
        assert_int_equal(oo->parent_id, 0);
        assert_string_equal(oo->status, "Submitted");
        /* the decoder reads every field, no more */
        te_tws_fields_t fs;
        te_tws_open_order_t back;
        memset(&back, 0, sizeof back);
        assert_int_equal(te_tws_fields_split(&fs, pl, plen), 0);
        assert_int_equal(fs.n, 128);
        fs.pos = 1;
        tws_dec_open_order(&fs, &back);
        assert_string_equal(fs.err, "");
        assert_int_equal(fs.pos, fs.n);
}

/* Every optional group, with values a TWS could send. */
static const char *const RICH[] = {
    "5", "43",
    /* contract */
    "265598", "AAPL", "STK", "", "0", "?", "", "SMART", "USD", "AAPL", "NMS",
    /* order: lmtPrice is the unset sentinel */
    "SELL", "250", "PEG BENCH", "1.7976931348623157E308", "0.5", "DAY", "g1", "DU222222",
    "O", "0", "ref-rich", "9", "123456789", "1", "0", "0", "", "", "", "", "", "", "", "",
    "", "", "", "0", "", "-1", "0", "", "", "", "", "", "2147483647", "0", "0", "0", "",
    "3", "0", "0", "", "17", "0",
    /* volatility, delta-neutral order with its 8 fields */
    "", "0", "LMT", "1.5", "12", "", "", "", "", "0", "0", "", "0", "0",
    /* trail, basis points */
    "", "", "", "",
    /* two combo legs, one order combo leg, one smart routing parameter */
    "x", "2", "1", "1", "BUY", "SMART", "0", "0", "", "-1", "2", "1", "SELL", "SMART",
    "0", "0", "", "-1", "1", "1.25", "1", "NonGuaranteed", "1",
    /* scale with a price increment: 7 more */
    "", "", "0.05", "0.01", "60", "0.1", "1", "", "", "0",
    /* hedge with its parameter, clearing, delta-neutral contract, algo with 1 param */
    "D", "0.5", "0", "", "IB", "0", "1", "12", "0.5", "100", "Adaptive", "1",
    "adaptivePriority", "Normal", "0",
    /* whatIf, state */
    "0", "PreSubmitted", "1.7976931348623157E308", "1.7976931348623157E308",
    "1.7976931348623157E308", "1.7976931348623157E308", "1.7976931348623157E308",
    "1.7976931348623157E308", "1.7976931348623157E308", "1.7976931348623157E308",
    "1.7976931348623157E308", "1.7976931348623157E308", "1.7976931348623157E308",
    "1.7976931348623157E308", "", "", "0", "0",
    /* PEG BENCH */
    "756733", "0", "0.1", "0.2", "SMART",
    /* conditions: price, time */
    "2", "1", "a", "1", "200.5", "265598", "SMART", "0", "3", "o", "1",
    "20250102 15:00:00", "0", "0",
    /* adjusted, soft dollar tier, cashQty, flags, peg-mid offsets */
    "", "", "", "", "", "", "", "0", "", "", "", "", "0", "0", "0", "0", "", "", "0", "",
    "", "", "", ""};
#define N_RICH       (sizeof RICH / sizeof RICH[0])
#define I_CONDITIONS 149 /* index of the conditions count in RICH */

static void payload(te_buf_t *b, const char *const *f, size_t n)
{
        te_buf_reset(b);
        for (size_t i = 0; i < n; i++)
                assert_int_equal(te_buf_append(b, f[i], strlen(f[i]) + 1), 0);
}

/* Decode `n` fields; @returns the error ("" when none) and checks consumption. */
static const char *dec_fields(const char *const *f, size_t n, te_tws_open_order_t *oo,
                              int *exact)
{
        static char err[200];
        te_buf_t b;
        te_buf_init(&b, 1 << 16);
        payload(&b, f, n);
        te_tws_msg_t m;
        err[0] = '\0';
        if (te_tws_dec_message(b.data, b.len, &m, err, sizeof err) == TE_TWS_OK) {
                assert_int_equal(m.type, TE_TWS_IN_OPEN_ORDER);
                *oo = m.u.open_order;
                te_tws_fields_t fs;
                te_tws_open_order_t tmp;
                assert_int_equal(te_tws_fields_split(&fs, b.data, b.len), 0);
                fs.pos = 1;
                tws_dec_open_order(&fs, &tmp);
                *exact = fs.pos == fs.n;
        }
        te_buf_free(&b);
        return err;
}

static void test_tws_open_order_every_group(void **state)
{
        (void)state;
        assert_string_equal(RICH[I_CONDITIONS], "2");
        te_tws_open_order_t oo;
        int exact = 0;
        assert_string_equal(dec_fields(RICH, N_RICH, &oo, &exact), "");
        assert_true(exact);
        assert_int_equal(oo.order.order_id, 43);
        assert_string_equal(oo.order.action, "SELL");
        assert_true(oo.order.total_qty == 250);
        assert_string_equal(oo.order.order_type, "PEG BENCH");
        assert_false(oo.order.has_lmt_price); /* the sentinel means unset */
        assert_true(oo.order.has_aux_price && oo.order.aux_price == 0.5);
        assert_string_equal(oo.order.account, "DU222222");
        assert_string_equal(oo.order.order_ref, "ref-rich");
        assert_int_equal(oo.client_id, 9);
        assert_int_equal(oo.perm_id, 123456789);
        assert_int_equal(oo.parent_id, 17);
        assert_string_equal(oo.status, "PreSubmitted");

        /* the other condition types, each in place of the time condition */
        static const struct {
                const char *name;
                const char *f[6];
                size_t n;
        } conds[] = {
            {"margin", {"4", "a", "1", "30"}, 4},
            {"execution", {"5", "a", "STK", "SMART", "AAPL"}, 5},
            {"volume", {"6", "o", "1", "1000", "265598", "SMART"}, 6},
            {"percent change", {"7", "a", "0", "2.5", "265598", "SMART"}, 6},
        };
        for (size_t c = 0; c < sizeof conds / sizeof conds[0]; c++) {
                const char *f[N_RICH + 8];
                size_t n = 0;
                for (size_t i = 0; i < I_CONDITIONS + 8;
                     i++) /* up to the 2nd condition */
                        f[n++] = RICH[i];
                for (size_t i = 0; i < conds[c].n; i++)
                        f[n++] = conds[c].f[i];
                for (size_t i = I_CONDITIONS + 12; i < N_RICH; i++)
                        f[n++] = RICH[i];
                exact = 0;
                const char *e = dec_fields(f, n, &oo, &exact);
                if (e[0] || !exact)
                        fail_msg("condition %s: '%s' exact=%d", conds[c].name, e, exact);
                assert_string_equal(oo.status, "PreSubmitted");
        }
}

static void test_tws_open_order_truncated(void **state)
{
        (void)state;
        const char *plain[128];
        te_tws_fields_t fs;
        assert_int_equal(te_tws_fields_split(&fs, (const uint8_t *)G_OPEN_ORDER + 4,
                                             GLEN(G_OPEN_ORDER) - 4),
                         0);
        assert_int_equal(fs.n, 128);
        char *copy[128];
        for (size_t i = 0; i < 128; i++) {
                copy[i] = calloc(1, fs.flen[i] + 1);
                assert_non_null(copy[i]);
                memcpy(copy[i], fs.f[i], fs.flen[i]);
                plain[i] = copy[i];
        }
        te_tws_open_order_t oo;
        int exact;
        for (size_t k = 1; k < 128; k++) {
                const char *e = dec_fields(plain, k, &oo, &exact);
                if (!strstr(e, "missing"))
                        fail_msg("plain openOrder cut to %zu fields: '%s'", k, e);
        }
        for (size_t k = 1; k < N_RICH; k++) {
                const char *e = dec_fields(RICH, k, &oo, &exact);
                if (!strstr(e, "missing") && !strstr(e, "count out of range"))
                        fail_msg("rich openOrder cut to %zu fields: '%s'", k, e);
        }
        for (size_t i = 0; i < 128; i++)
                free(copy[i]);
}

/* One field of RICH replaced: each must be refused with the reason named. */
static void test_tws_open_order_bad_fields(void **state)
{
        (void)state;
        static const struct {
                size_t index;
                const char *value;
                const char *why;
        } bad[] = {
            {1, "4x", "not an integer"},                  /* orderId */
            {14, "many", "not a number"},                 /* totalQuantity */
            {24, "seven", "not an integer"},              /* clientId */
            {79, "-1", "count out of range"},             /* comboLegs count */
            {79, "1000000", "count out of range"},        /* comboLegs count */
            {96, "2147483647", "count out of range"},     /* orderComboLegs count */
            {I_CONDITIONS, "-2", "count out of range"},   /* conditions count */
            {I_CONDITIONS + 1, "2", "unknown condition"}, /* condition type */
            {I_CONDITIONS + 1, "", "unknown condition"},  /* condition type */
            {I_CONDITIONS + 4, "high", "not a number"},   /* price condition value */
        };
        char name[TE_TWS_STR];
        for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
                const char *f[N_RICH];
                memcpy(f, RICH, sizeof f);
                f[bad[i].index] = bad[i].value;
                te_tws_open_order_t oo;
                int exact;
                const char *e = dec_fields(f, N_RICH, &oo, &exact);
                snprintf(name, sizeof name, "field %zu = '%s'", bad[i].index,
                         bad[i].value);
                if (!strstr(e, bad[i].why))
                        fail_msg("%s: want '%s' in '%s'", name, bad[i].why, e);
        }
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_tws_open_order_encode),
            cmocka_unit_test(test_tws_open_order_decode),
            cmocka_unit_test(test_tws_open_order_every_group),
            cmocka_unit_test(test_tws_open_order_truncated),
            cmocka_unit_test(test_tws_open_order_bad_fields),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
