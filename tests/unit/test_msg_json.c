/*
 * Unit tests for msg_json_in (JSON -> structs) and msg_json_out (structs/records ->
 * JSON): table-driven good and malformed inputs with the expected error text written
 * out, exact renderings, and TargetPortfolio round trips (JSON -> struct -> JSON ->
 * struct, and through Avro).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "msg_json_in.h"
#include "msg_json_out.h"
#include "te_buf.h"
#include "te_codec.h"
#include "te_msg.h"

/* A valid target line with every field; cases below vary one thing at a time. */
#define IDS                                                                              \
        "\"decision_id\":\"d1\",\"portfolio_id\":\"p1\",\"strategy_id\":\"s1\","         \
        "\"profile_version_id\":\"v1\",\"regime_id\":\"r1\",\"universe_id\":\"u1\""
#define HEAD       IDS ",\"mode\":\"TRAINING\",\"as_of\":\"2024-01-02\",\"unit\":\"QUANTITY\""
#define ONE_TARGET "\"targets\":[{\"ticker\":\"AAPL\",\"value\":100,\"ref_price\":190.5}]"

static int parse_tp(const char *json, te_target_portfolio_t *tp, char *errstr,
                    size_t errsz)
{
        return te_json_in_target_portfolio(json, strlen(json), tp, errstr, errsz);
}

static char *render_tp(const te_target_portfolio_t *tp)
{
        te_buf_t b;
        te_buf_init(&b, 64u * 1024u * 1024u);
        assert_int_equal(te_json_out_msg(&b, TE_MSG_TARGET_PORTFOLIO, tp), 0);
        char *s = strdup(te_buf_cstr(&b));
        te_buf_free(&b);
        assert_non_null(s);
        return s;
}

/* ---- times ------------------------------------------------------------------------ */

static void test_msg_json_time(void **state)
{
        static const struct {
                const char *text;
                int rc;
                int64_t ms;
        } cases[] = {
            {"1970-01-01", 0, 0},
            {"2000-02-29", 0, INT64_C(951782400000)},
            {"2000-03-01", 0, INT64_C(951868800000)},
            {"2024-01-02", 0, INT64_C(1704153600000)},
            {"2024-02-29", 0, INT64_C(1709164800000)},
            {"2024-01-02T14:30:00Z", 0, INT64_C(1704205800000)},
            {"2024-02-29T13:45:10.123Z", 0, INT64_C(1709214310123)},
            {"9999-12-31T23:59:59.999Z", 0, INT64_C(253402300799999)},
            {"2024-13-40", -1, 0},
            {"2024-00-10", -1, 0},
            {"2024-01-00", -1, 0},
            {"2023-02-29", -1, 0},
            {"2100-02-29", -1, 0},
            {"2024-04-31", -1, 0},
            {"1969-12-31", -1, 0},
            {"2024-1-02", -1, 0},
            {"2024/01/02", -1, 0},
            {"2024-01-02T24:00:00Z", -1, 0},
            {"2024-01-02T23:60:00Z", -1, 0},
            {"2024-01-02T23:59:60Z", -1, 0},
            {"2024-01-02T10:00:00", -1, 0},
            {"2024-01-02 10:00:00Z", -1, 0},
            {"2024-01-02T10:00:00+01", -1, 0},
            {"2024-01-02T10:00:00.5Z", -1, 0},
            {"2024-01-02T10:00:00.500", -1, 0},
            {"", -1, 0},
            {"20240102", -1, 0},
        };
        (void)state;
        for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
                int64_t ms = -42;
                int rc = te_json_in_parse_time(cases[i].text, &ms);
                if (rc != cases[i].rc)
                        fail_msg("\"%s\": rc %d, want %d", cases[i].text, rc,
                                 cases[i].rc);
                if (rc == 0 && ms != cases[i].ms)
                        fail_msg("\"%s\": %lld ms, want %lld", cases[i].text,
                                 (long long)ms, (long long)cases[i].ms);
        }
}

/* ---- good target lines ------------------------------------------------------------ */

static void test_msg_json_target_good(void **state)
{
        static const struct {
                const char *name;
                const char *json;
                te_mode_t mode;
                int64_t as_of;
                te_unit_t unit;
                int has_nav;
                double nav;
                int full_replace;
                size_t n_targets;
                const char *ticker0;
                double value0;
                int has_ref0;
                double ref0;
        } cases[] = {
            {"all fields, date",
             "{" HEAD ",\"nav\":1000000.5,\"full_replace\":true," ONE_TARGET "}",
             TE_MODE_TRAINING, INT64_C(1704153600000), TE_UNIT_QUANTITY, 1, 1000000.5, 1,
             1, "AAPL", 100, 1, 190.5},
            {"as_of in ms, no nav",
             "{" IDS
             ",\"mode\":\"PRODUCTION\",\"as_of\":1704205800000,\"unit\":\"WEIGHT\","
             "\"full_replace\":false,\"targets\":[{\"ticker\":\"MSFT\",\"value\":-0.25}]"
             "}",
             TE_MODE_PRODUCTION, INT64_C(1704205800000), TE_UNIT_WEIGHT, 0, 0, 0, 1,
             "MSFT", -0.25, 0, 0},
            {"as_of date-time, nulls",
             "{" IDS ",\"mode\":\"TRAINING\",\"as_of\":\"2024-01-02T14:30:00Z\","
             "\"unit\":\"WEIGHT\",\"nav\":null,\"full_replace\":true,"
             "\"targets\":[{\"ticker\":\"X\",\"value\":0.5,\"ref_price\":null},"
             "{\"ticker\":\"Y\",\"value\":0.5,\"ref_price\":12}]}",
             TE_MODE_TRAINING, INT64_C(1704205800000), TE_UNIT_WEIGHT, 0, 0, 1, 2, "X",
             0.5, 0, 0},
            {"empty targets, keys in any order, whitespace",
             " { \"targets\" : [ ] , \"full_replace\" : true , \"nav\" : 5 , " IDS
             " , \"unit\":\"QUANTITY\",\"as_of\":0,\"mode\":\"TRAINING\" } \n",
             TE_MODE_TRAINING, 0, TE_UNIT_QUANTITY, 1, 5, 1, 0, NULL, 0, 0, 0},
            {"empty attribution ids",
             "{\"decision_id\":\"d\",\"portfolio_id\":\"p\",\"strategy_id\":\"\","
             "\"profile_version_id\":\"\",\"regime_id\":\"\",\"universe_id\":\"\","
             "\"mode\":\"TRAINING\",\"as_of\":\"2024-02-29T13:45:10.123Z\","
             "\"unit\":\"QUANTITY\",\"full_replace\":false,"
             "\"targets\":[{\"ticker\":\"A\",\"value\":1e3}]}",
             TE_MODE_TRAINING, INT64_C(1709214310123), TE_UNIT_QUANTITY, 0, 0, 0, 1, "A",
             1000, 0, 0},
        };
        (void)state;
        for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
                te_target_portfolio_t tp;
                char errstr[512] = "";
                memset(&tp, 0, sizeof tp);
                if (parse_tp(cases[i].json, &tp, errstr, sizeof errstr) != 0)
                        fail_msg("%s: %s", cases[i].name, errstr);
                assert_int_equal(tp.mode, cases[i].mode);
                assert_int_equal(tp.as_of, cases[i].as_of);
                assert_int_equal(tp.unit, cases[i].unit);
                assert_int_equal(tp.has_nav, cases[i].has_nav);
                assert_true(tp.nav == cases[i].nav);
                assert_int_equal(tp.full_replace, cases[i].full_replace);
                assert_int_equal(tp.n_targets, cases[i].n_targets);
                if (cases[i].ticker0) {
                        assert_string_equal(tp.targets[0].ticker, cases[i].ticker0);
                        assert_true(tp.targets[0].value == cases[i].value0);
                        assert_int_equal(tp.targets[0].has_ref_price, cases[i].has_ref0);
                        assert_true(tp.targets[0].ref_price == cases[i].ref0);
                }
                te_target_portfolio_free(&tp);
        }
}

static void test_msg_json_target_ids(void **state)
{
        te_target_portfolio_t tp;
        char errstr[512] = "";
        (void)state;
        memset(&tp, 0, sizeof tp);
        assert_int_equal(parse_tp("{" HEAD ",\"full_replace\":true," ONE_TARGET "}", &tp,
                                  errstr, sizeof errstr),
                         0);
        assert_string_equal(tp.ids.decision_id, "d1");
        assert_string_equal(tp.ids.portfolio_id, "p1");
        assert_string_equal(tp.ids.strategy_id, "s1");
        assert_string_equal(tp.ids.profile_version_id, "v1");
        assert_string_equal(tp.ids.regime_id, "r1");
        assert_string_equal(tp.ids.universe_id, "u1");

        /* the targets array is reused by the next parse */
        te_target_t *arr = tp.targets;
        assert_int_equal(parse_tp("{" HEAD ",\"full_replace\":false," ONE_TARGET "}", &tp,
                                  errstr, sizeof errstr),
                         0);
        assert_ptr_equal(tp.targets, arr);
        assert_int_equal(tp.n_targets, 1);
        assert_int_equal(tp.full_replace, 0);
        te_target_portfolio_free(&tp);
}

/* ---- malformed target lines ------------------------------------------------------- */

static void test_msg_json_target_bad(void **state)
{
        static const struct {
                const char *name;
                const char *json;
                const char *want; /* substring of errstr */
        } cases[] = {
            {"not JSON", "hello", "invalid JSON at byte 5: '[' or '{' expected"},
            {"empty", "", "invalid JSON at byte 0"},
            {"truncated", "{" IDS ",\"mode\":", "invalid JSON"},
            {"truncated string", "{\"decision_id\":\"d1", "invalid JSON"},
            {"trailing garbage", "{" HEAD ",\"full_replace\":true," ONE_TARGET "} x",
             "end of file expected"},
            {"array", "[1,2]", "expected a JSON object, got array"},
            {"string", "\"x\"", "invalid JSON"},
            {"missing decision_id",
             "{\"portfolio_id\":\"p1\",\"strategy_id\":\"s1\",\"profile_version_id\":"
             "\"v1\","
             "\"regime_id\":\"r1\",\"universe_id\":\"u1\",\"mode\":\"TRAINING\","
             "\"as_of\":0,\"unit\":\"QUANTITY\",\"full_replace\":true," ONE_TARGET "}",
             "decision_id: missing"},
            {"decision_id number",
             "{\"decision_id\":7,\"portfolio_id\":\"p1\",\"strategy_id\":\"s1\","
             "\"profile_version_id\":\"v1\",\"regime_id\":\"r1\",\"universe_id\":\"u1\","
             "\"mode\":\"TRAINING\",\"as_of\":0,\"unit\":\"QUANTITY\",\"full_replace\":"
             "true," ONE_TARGET "}",
             "decision_id: expected string, got integer"},
            {"empty portfolio_id",
             "{\"decision_id\":\"d\",\"portfolio_id\":\"\",\"strategy_id\":\"s1\","
             "\"profile_version_id\":\"v1\",\"regime_id\":\"r1\",\"universe_id\":\"u1\","
             "\"mode\":\"TRAINING\",\"as_of\":0,\"unit\":\"QUANTITY\",\"full_replace\":"
             "true," ONE_TARGET "}",
             "portfolio_id: must not be empty"},
            {"decision_id 64 bytes",
             "{\"decision_id\":"
             "\"0123456789012345678901234567890123456789012345678901234567890123\","
             "\"portfolio_id\":\"p1\",\"strategy_id\":\"s1\",\"profile_version_id\":"
             "\"v1\","
             "\"regime_id\":\"r1\",\"universe_id\":\"u1\",\"mode\":\"TRAINING\",\"as_"
             "of\":0,"
             "\"unit\":\"QUANTITY\",\"full_replace\":true," ONE_TARGET "}",
             "decision_id: too long (64 bytes, max 63)"},
            {"as_of boolean",
             "{" IDS ",\"mode\":\"TRAINING\",\"as_of\":true,\"unit\":\"QUANTITY\","
             "\"full_replace\":true," ONE_TARGET "}",
             "as_of: expected integer ms or date string, got boolean"},
            {"as_of real",
             "{" IDS ",\"mode\":\"TRAINING\",\"as_of\":1.5e12,\"unit\":\"QUANTITY\","
             "\"full_replace\":true," ONE_TARGET "}",
             "as_of: expected integer ms or date string, got real"},
            {"as_of bad date",
             "{" IDS
             ",\"mode\":\"TRAINING\",\"as_of\":\"2024-13-40\",\"unit\":\"QUANTITY\","
             "\"full_replace\":true," ONE_TARGET "}",
             "as_of: invalid date \"2024-13-40\""},
            {"as_of negative",
             "{" IDS ",\"mode\":\"TRAINING\",\"as_of\":-1,\"unit\":\"QUANTITY\","
             "\"full_replace\":true," ONE_TARGET "}",
             "as_of: -1 ms is outside 1970..9999"},
            {"as_of past 9999",
             "{" IDS
             ",\"mode\":\"TRAINING\",\"as_of\":253402300800000,\"unit\":\"QUANTITY\","
             "\"full_replace\":true," ONE_TARGET "}",
             "as_of: 253402300800000 ms is outside 1970..9999"},
            {"as_of integer overflow",
             "{" IDS ",\"mode\":\"TRAINING\",\"as_of\":99999999999999999999,"
             "\"unit\":\"QUANTITY\",\"full_replace\":true," ONE_TARGET "}",
             "too big integer"},
            {"unknown mode",
             "{" IDS ",\"mode\":\"SIMULATION\",\"as_of\":0,\"unit\":\"QUANTITY\","
             "\"full_replace\":true," ONE_TARGET "}",
             "mode: unknown symbol \"SIMULATION\" (expected PRODUCTION|TRAINING)"},
            {"lower-case mode",
             "{" IDS ",\"mode\":\"training\",\"as_of\":0,\"unit\":\"QUANTITY\","
             "\"full_replace\":true," ONE_TARGET "}",
             "mode: unknown symbol \"training\""},
            {"mode number",
             "{" IDS ",\"mode\":1,\"as_of\":0,\"unit\":\"QUANTITY\","
             "\"full_replace\":true," ONE_TARGET "}",
             "mode: expected string, got integer"},
            {"unknown unit",
             "{" IDS ",\"mode\":\"TRAINING\",\"as_of\":0,\"unit\":\"SHARES\","
             "\"full_replace\":true," ONE_TARGET "}",
             "unit: unknown symbol \"SHARES\" (expected WEIGHT|QUANTITY)"},
            {"missing unit",
             "{" IDS
             ",\"mode\":\"TRAINING\",\"as_of\":0,\"full_replace\":true," ONE_TARGET "}",
             "unit: missing"},
            {"NaN literal", "{" HEAD ",\"nav\":NaN,\"full_replace\":true," ONE_TARGET "}",
             "invalid JSON at byte"},
            {"Infinity literal",
             "{" HEAD ",\"full_replace\":true,\"targets\":[{\"ticker\":\"A\",\"value\":"
             "Infinity}]}",
             "invalid token near 'Infinity'"},
            {"1e400 value",
             "{" HEAD
             ",\"full_replace\":true,\"targets\":[{\"ticker\":\"A\",\"value\":1e400}]}",
             "real number overflow"},
            {"-1e400 nav",
             "{" HEAD ",\"nav\":-1e400,\"full_replace\":true," ONE_TARGET "}",
             "real number overflow"},
            {"nav zero", "{" HEAD ",\"nav\":0,\"full_replace\":true," ONE_TARGET "}",
             "nav: must be > 0"},
            {"nav string",
             "{" HEAD ",\"nav\":\"1e6\",\"full_replace\":true," ONE_TARGET "}",
             "nav: expected number, got string"},
            {"full_replace string", "{" HEAD ",\"full_replace\":\"yes\"," ONE_TARGET "}",
             "full_replace: expected true or false, got string"},
            {"full_replace missing", "{" HEAD "," ONE_TARGET "}",
             "full_replace: missing"},
            {"targets missing", "{" HEAD ",\"full_replace\":true}", "targets: missing"},
            {"targets object", "{" HEAD ",\"full_replace\":true,\"targets\":{}}",
             "targets: expected array, got object"},
            {"target not object",
             "{" HEAD
             ",\"full_replace\":true,\"targets\":[{\"ticker\":\"A\",\"value\":1},\"B\"]}",
             "targets[1]: expected object, got string"},
            {"target value missing",
             "{" HEAD ",\"full_replace\":true,\"targets\":[{\"ticker\":\"A\"}]}",
             "targets[0].value: missing"},
            {"target value string",
             "{" HEAD
             ",\"full_replace\":true,\"targets\":[{\"ticker\":\"A\",\"value\":\"1\"}]}",
             "targets[0].value: expected number, got string"},
            {"target value null",
             "{" HEAD
             ",\"full_replace\":true,\"targets\":[{\"ticker\":\"A\",\"value\":null}]}",
             "targets[0].value: expected number, got null"},
            {"ticker empty",
             "{" HEAD
             ",\"full_replace\":true,\"targets\":[{\"ticker\":\"\",\"value\":1}]}",
             "targets[0].ticker: must not be empty"},
            {"ticker 24 bytes",
             "{" HEAD
             ",\"full_replace\":true,\"targets\":[{\"ticker\":\"A\",\"value\":1},"
             "{\"ticker\":\"ABCDEFGHIJKLMNOPQRSTUVWX\",\"value\":1}]}",
             "targets[1].ticker: too long (24 bytes, max 23)"},
            {"ref_price negative",
             "{" HEAD ",\"full_replace\":true,\"targets\":[{\"ticker\":\"A\",\"value\":1,"
             "\"ref_price\":-3}]}",
             "targets[0].ref_price: must be > 0"},
            {"duplicate ticker",
             "{" HEAD
             ",\"full_replace\":true,\"targets\":[{\"ticker\":\"AAPL\",\"value\":1},"
             "{\"ticker\":\"B\",\"value\":1},{\"ticker\":\"AAPL\",\"value\":2}]}",
             "targets[2].ticker: duplicate of targets[0] (\"AAPL\")"},
            {"duplicate key",
             "{" HEAD ",\"as_of\":0,\"full_replace\":true," ONE_TARGET "}",
             "duplicate object key"},
            {"duplicate key in target",
             "{" HEAD ",\"full_replace\":true,\"targets\":[{\"ticker\":\"A\",\"value\":1,"
             "\"value\":2}]}",
             "duplicate object key"},
            {"unknown key", "{" HEAD ",\"full_replace\":true,\"extra\":1," ONE_TARGET "}",
             "unknown key \"extra\""},
            {"unknown key in target",
             "{" HEAD ",\"full_replace\":true,\"targets\":[{\"ticker\":\"A\",\"value\":1,"
             "\"ref_prcie\":2}]}",
             "targets[0]: unknown key \"ref_prcie\""},
            {"NUL escape", "{\"decision_id\":\"a\\u0000b\"}", "JSON_ALLOW_NUL"},
            {"invalid UTF-8", "{\"decision_id\":\"\xff\"}", "unable to decode byte 0xff"},
        };
        (void)state;
        for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
                te_target_portfolio_t tp;
                char errstr[512] = "";
                memset(&tp, 0, sizeof tp);
                int rc = parse_tp(cases[i].json, &tp, errstr, sizeof errstr);
                if (rc != -1)
                        fail_msg("%s: accepted", cases[i].name);
                if (!strstr(errstr, cases[i].want))
                        fail_msg("%s: errstr \"%s\" lacks \"%s\"", cases[i].name, errstr,
                                 cases[i].want);
                te_target_portfolio_free(&tp);
        }
}

static void test_msg_json_ticker_bound(void **state)
{
        char ticker[TE_TICKER_MAX + 1];
        char json[512];
        char errstr[512] = "";
        te_target_portfolio_t tp;
        (void)state;
        memset(&tp, 0, sizeof tp);

        memset(ticker, 'T', TE_TICKER_MAX - 1);
        ticker[TE_TICKER_MAX - 1] = '\0';
        snprintf(json, sizeof json,
                 "{" HEAD
                 ",\"full_replace\":true,\"targets\":[{\"ticker\":\"%s\",\"value\":1}]}",
                 ticker);
        assert_int_equal(parse_tp(json, &tp, errstr, sizeof errstr), 0);
        assert_string_equal(tp.targets[0].ticker, ticker);

        ticker[TE_TICKER_MAX - 1] = 'T';
        ticker[TE_TICKER_MAX] = '\0';
        snprintf(json, sizeof json,
                 "{" HEAD
                 ",\"full_replace\":true,\"targets\":[{\"ticker\":\"%s\",\"value\":1}]}",
                 ticker);
        assert_int_equal(parse_tp(json, &tp, errstr, sizeof errstr), -1);
        assert_string_equal(errstr, "targets[0].ticker: too long (24 bytes, max 23)");
        te_target_portfolio_free(&tp);
}

/* A line with n targets T0..T(n-1). */
static char *many_targets(size_t n)
{
        te_buf_t b;
        te_buf_init(&b, 64u * 1024u * 1024u);
        assert_int_equal(te_buf_puts(&b, "{" HEAD ",\"full_replace\":true,\"targets\":["),
                         0);
        for (size_t i = 0; i < n; i++)
                assert_int_equal(te_buf_printf(&b, "%s{\"ticker\":\"T%zu\",\"value\":1}",
                                               i ? "," : "", i),
                                 0);
        assert_int_equal(te_buf_puts(&b, "]}"), 0);
        char *s = strdup(te_buf_cstr(&b));
        te_buf_free(&b);
        assert_non_null(s);
        return s;
}

static void test_msg_json_targets_max(void **state)
{
        char errstr[512] = "";
        te_target_portfolio_t tp;
        (void)state;
        memset(&tp, 0, sizeof tp);

        char *at_max = many_targets(TE_TARGETS_MAX);
        assert_int_equal(parse_tp(at_max, &tp, errstr, sizeof errstr), 0);
        assert_int_equal(tp.n_targets, TE_TARGETS_MAX);
        assert_string_equal(tp.targets[TE_TARGETS_MAX - 1].ticker, "T99999");
        free(at_max);

        char *over = many_targets(TE_TARGETS_MAX + 1);
        assert_int_equal(parse_tp(over, &tp, errstr, sizeof errstr), -1);
        assert_string_equal(errstr, "targets: too many (100001, max 100000)");
        free(over);
        te_target_portfolio_free(&tp);
}

static void test_msg_json_huge_input(void **state)
{
        char errstr[512] = "";
        te_target_portfolio_t tp;
        te_exec_mode_t m;
        (void)state;
        memset(&tp, 0, sizeof tp);

        size_t len = (size_t)TE_JSON_IN_MAX + 1;
        char *buf = malloc(len);
        assert_non_null(buf);
        memset(buf, ' ', len);
        buf[0] = '{';
        buf[len - 1] = '}';
        assert_int_equal(
            te_json_in_target_portfolio(buf, len, &tp, errstr, sizeof errstr), -1);
        assert_string_equal(errstr, "input too large (16777217 bytes, max 16777216)");
        assert_int_equal(te_json_in_exec_mode(buf, len, &m, errstr, sizeof errstr), -1);
        assert_non_null(strstr(errstr, "input too large"));
        free(buf);
        te_target_portfolio_free(&tp);
}

/* ---- mode lines ------------------------------------------------------------------- */

static void test_msg_json_mode(void **state)
{
        static const struct {
                const char *name;
                const char *json;
                const char *want; /* NULL: must parse */
                const char *scope;
                te_level_t level;
                int64_t from;
        } cases[] = {
            {"halt all",
             "{\"scope\":\"*\",\"level\":\"HALT\",\"effective_from\":\"2024-01-02\","
             "\"reason\":\"black swan\"}",
             NULL, "*", TE_LEVEL_HALT, INT64_C(1704153600000)},
            {"reduce one, ms, empty reason",
             "{\"reason\":\"\",\"effective_from\":5,\"level\":\"REDUCE_ONLY\","
             "\"scope\":\"p1\"}",
             NULL, "p1", TE_LEVEL_REDUCE_ONLY, 5},
            {"unknown level",
             "{\"scope\":\"*\",\"level\":\"PANIC\",\"effective_from\":0,\"reason\":"
             "\"x\"}",
             "level: unknown symbol \"PANIC\" (expected "
             "NORMAL|REDUCE_ONLY|EMERGENCY|HALT)",
             NULL, 0, 0},
            {"missing reason",
             "{\"scope\":\"*\",\"level\":\"HALT\",\"effective_from\":0}",
             "reason: missing", NULL, 0, 0},
            {"empty scope",
             "{\"scope\":\"\",\"level\":\"HALT\",\"effective_from\":0,\"reason\":\"x\"}",
             "scope: must not be empty", NULL, 0, 0},
            {"bad time",
             "{\"scope\":\"*\",\"level\":\"HALT\",\"effective_from\":\"yesterday\","
             "\"reason\":\"x\"}",
             "effective_from: invalid date \"yesterday\"", NULL, 0, 0},
            {"unknown key",
             "{\"scope\":\"*\",\"level\":\"HALT\",\"effective_from\":0,\"reason\":\"x\","
             "\"until\":1}",
             "unknown key \"until\"", NULL, 0, 0},
            {"duplicate key",
             "{\"scope\":\"*\",\"scope\":\"p\",\"level\":\"HALT\",\"effective_from\":0,"
             "\"reason\":\"x\"}",
             "duplicate object key", NULL, 0, 0},
            {"array", "[]", "expected a JSON object, got array", NULL, 0, 0},
        };
        (void)state;
        for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
                te_exec_mode_t m;
                char errstr[512] = "";
                int rc = te_json_in_exec_mode(cases[i].json, strlen(cases[i].json), &m,
                                              errstr, sizeof errstr);
                if (!cases[i].want) {
                        if (rc != 0)
                                fail_msg("%s: %s", cases[i].name, errstr);
                        assert_string_equal(m.scope, cases[i].scope);
                        assert_int_equal(m.level, cases[i].level);
                        assert_int_equal(m.effective_from, cases[i].from);
                        continue;
                }
                if (rc != -1)
                        fail_msg("%s: accepted", cases[i].name);
                if (!strstr(errstr, cases[i].want))
                        fail_msg("%s: errstr \"%s\" lacks \"%s\"", cases[i].name, errstr,
                                 cases[i].want);
        }

        /* reason: TE_TEXT_MAX - 1 bytes fit, TE_TEXT_MAX do not */
        char json[TE_TEXT_MAX + 128];
        char reason[TE_TEXT_MAX + 1];
        char errstr[512];
        te_exec_mode_t m;
        memset(reason, 'r', TE_TEXT_MAX);
        reason[TE_TEXT_MAX] = '\0';
        snprintf(
            json, sizeof json,
            "{\"scope\":\"*\",\"level\":\"HALT\",\"effective_from\":0,\"reason\":\"%s\"}",
            reason);
        assert_int_equal(
            te_json_in_exec_mode(json, strlen(json), &m, errstr, sizeof errstr), -1);
        assert_string_equal(errstr, "reason: too long (512 bytes, max 511)");
        reason[TE_TEXT_MAX - 1] = '\0';
        snprintf(
            json, sizeof json,
            "{\"scope\":\"*\",\"level\":\"HALT\",\"effective_from\":0,\"reason\":\"%s\"}",
            reason);
        assert_int_equal(
            te_json_in_exec_mode(json, strlen(json), &m, errstr, sizeof errstr), 0);
        assert_int_equal(strlen(m.reason), TE_TEXT_MAX - 1);
}

/* ---- lines ------------------------------------------------------------------------ */

static void test_msg_json_lines(void **state)
{
        static const char input[] = "a\n\n# comment\n  \t\r\n  # indented\n"
                                    "this-line-is-too-long\n{\"x\":1}\r\nlast";
        static const struct {
                te_line_rc_t rc;
                const char *text;
                int skippable;
        } want[] = {
            {TE_LINE_OK, "a", 0},
            {TE_LINE_OK, "", 1},
            {TE_LINE_OK, "# comment", 1},
            {TE_LINE_OK, "  \t\r", 1},
            {TE_LINE_OK, "  # indented", 1},
            {TE_LINE_TOO_LONG, "", 0},
            {TE_LINE_OK, "{\"x\":1}\r", 0},
            {TE_LINE_OK, "last", 0},
            {TE_LINE_EOF, "", 0},
            {TE_LINE_EOF, "", 0},
        };
        te_buf_t line;
        (void)state;
        FILE *fp = fmemopen((void *)input, sizeof input - 1, "r");
        assert_non_null(fp);
        te_buf_init(&line, 16);
        for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
                te_line_rc_t rc = te_json_in_read_line(fp, &line);
                if (rc != want[i].rc)
                        fail_msg("line %zu: rc %d, want %d", i, (int)rc, (int)want[i].rc);
                if (rc != TE_LINE_OK)
                        continue;
                assert_int_equal(line.len, strlen(want[i].text));
                assert_memory_equal(te_buf_cstr(&line), want[i].text, line.len);
                assert_int_equal(te_json_in_line_skippable(te_buf_cstr(&line), line.len),
                                 want[i].skippable);
        }
        fclose(fp);
        te_buf_free(&line);

        /* lines longer than the reader's 4 KiB chunk, on both sides of the bound */
        size_t n = 12000;
        char *big = malloc(n);
        assert_non_null(big);
        memset(big, 'x', n);
        big[5000] = '\n';  /* line 1: 5000 bytes */
        big[n - 1] = '\n'; /* line 2: 6998 bytes */
        fp = fmemopen(big, n, "r");
        assert_non_null(fp);
        te_buf_init(&line, 6000);
        assert_int_equal(te_json_in_read_line(fp, &line), TE_LINE_OK);
        assert_int_equal(line.len, 5000);
        assert_int_equal(te_json_in_read_line(fp, &line), TE_LINE_TOO_LONG);
        assert_int_equal(te_json_in_read_line(fp, &line), TE_LINE_EOF);
        fclose(fp);
        te_buf_free(&line);
        free(big);
}

/* ---- rendering -------------------------------------------------------------------- */

static void fill_ids(te_attrib_t *ids)
{
        te_strlcpy(ids->decision_id, "d1", sizeof ids->decision_id);
        te_strlcpy(ids->portfolio_id, "p1", sizeof ids->portfolio_id);
        te_strlcpy(ids->strategy_id, "s1", sizeof ids->strategy_id);
        te_strlcpy(ids->profile_version_id, "v1", sizeof ids->profile_version_id);
        te_strlcpy(ids->regime_id, "r1", sizeof ids->regime_id);
        te_strlcpy(ids->universe_id, "u1", sizeof ids->universe_id);
}

#define IDS_OUT                                                                          \
        "\"decision_id\":\"d1\",\"portfolio_id\":\"p1\",\"strategy_id\":\"s1\","         \
        "\"profile_version_id\":\"v1\",\"regime_id\":\"r1\",\"universe_id\":\"u1\""

static void sample_order(te_order_cmd_t *o)
{
        memset(o, 0, sizeof *o);
        o->command = TE_CMD_NEW;
        te_strlcpy(o->order_id, "o1", sizeof o->order_id);
        fill_ids(&o->ids);
        te_strlcpy(o->ticker, "AAPL", sizeof o->ticker);
        o->side = TE_SIDE_BUY;
        o->quantity = 100;
        o->order_type = TE_OT_LIMIT;
        o->has_limit_price = 1;
        o->limit_price = 190.25;
        o->tif = TE_TIF_DAY;
        o->aggressiveness = TE_AGGR_NORMAL;
        o->intent = TE_INTENT_OPEN;
        o->mode = TE_MODE_TRAINING;
        te_strlcpy(o->route, "sim", sizeof o->route);
        o->event_time = INT64_C(1704205800000);
        o->has_ref_price = 1;
        o->ref_price = 190.1;
}

static void sample_report(te_exec_report_t *r)
{
        memset(r, 0, sizeof *r);
        te_strlcpy(r->report_id, "r1", sizeof r->report_id);
        te_strlcpy(r->order_id, "o1", sizeof r->order_id);
        r->exec_type = TE_EXEC_PARTIAL_FILL;
        r->order_status = TE_OS_PARTIALLY_FILLED;
        te_strlcpy(r->ticker, "BRK.B", sizeof r->ticker);
        r->side = TE_SIDE_SELL;
        r->last_qty = 40;
        r->last_price = 410.5;
        r->cum_qty = 40;
        r->leaves_qty = 60;
        r->avg_price = 410.5;
        r->commission = 0.2;
        te_strlcpy(r->reason, "partial \"x\"\n\ttab", sizeof r->reason);
        te_strlcpy(r->broker, "sim", sizeof r->broker);
        te_strlcpy(r->account, "ACC1", sizeof r->account);
        r->event_time = INT64_C(1704205860000);
        fill_ids(&r->ids);
        r->mode = TE_MODE_PRODUCTION;
}

static void sample_alert(te_alert_t *a)
{
        memset(a, 0, sizeof *a);
        a->severity = TE_SEV_CRITICAL;
        te_strlcpy(a->source, "exec-planner", sizeof a->source);
        te_strlcpy(a->code, "deadletter", sizeof a->code);
        te_strlcpy(a->message, "bad \xce\xb1 \xff", sizeof a->message);
        a->event_time = 5;
        te_strlcpy(a->portfolio_id, "p1", sizeof a->portfolio_id);
}

static void test_msg_json_render(void **state)
{
        te_order_cmd_t o;
        te_exec_report_t r;
        te_alert_t a;
        te_exec_mode_t m;
        te_buf_t b;
        (void)state;
        te_buf_init(&b, 1 << 20);

        sample_order(&o);
        assert_int_equal(te_json_out_msg(&b, TE_MSG_ORDER_COMMAND, &o), 0);
        assert_string_equal(
            te_buf_cstr(&b),
            "{\"command\":\"NEW\",\"order_id\":\"o1\"," IDS_OUT
            ",\"ticker\":\"AAPL\",\"side\":\"BUY\",\"quantity\":100,\"order_type\":"
            "\"LIMIT\","
            "\"limit_price\":190.25,\"stop_price\":null,\"tif\":\"DAY\","
            "\"aggressiveness\":\"NORMAL\",\"intent\":\"OPEN\",\"mode\":\"TRAINING\","
            "\"route\":\"sim\",\"event_time\":1704205800000,\"ref_price\":190.1}");

        te_buf_reset(&b);
        sample_report(&r);
        assert_int_equal(te_json_out_msg(&b, TE_MSG_EXECUTION_REPORT, &r), 0);
        assert_string_equal(
            te_buf_cstr(&b),
            "{\"report_id\":\"r1\",\"order_id\":\"o1\",\"exec_type\":\"PARTIAL_FILL\","
            "\"order_status\":\"PARTIALLY_FILLED\",\"ticker\":\"BRK.B\",\"side\":"
            "\"SELL\","
            "\"last_qty\":40,\"last_price\":410.5,\"cum_qty\":40,\"leaves_qty\":60,"
            "\"avg_price\":410.5,\"commission\":0.2,"
            "\"reason\":\"partial \\\"x\\\"\\n\\ttab\",\"broker\":\"sim\","
            "\"account\":\"ACC1\",\"event_time\":1704205860000," IDS_OUT
            ",\"mode\":\"PRODUCTION\"}");

        /* invalid UTF-8 becomes U+FFFD so the line stays valid JSON */
        te_buf_reset(&b);
        sample_alert(&a);
        assert_int_equal(te_json_out_msg(&b, TE_MSG_ALERT, &a), 0);
        assert_string_equal(
            te_buf_cstr(&b),
            "{\"severity\":\"CRITICAL\",\"source\":\"exec-planner\","
            "\"code\":\"deadletter\",\"message\":\"bad \xce\xb1 \xef\xbf\xbd\","
            "\"event_time\":5,\"decision_id\":\"\",\"portfolio_id\":\"p1\","
            "\"order_id\":\"\"}");

        te_buf_reset(&b);
        memset(&m, 0, sizeof m);
        te_strlcpy(m.scope, "*", sizeof m.scope);
        m.level = TE_LEVEL_HALT;
        m.effective_from = INT64_C(1704153600000);
        te_strlcpy(m.reason, "black swan", sizeof m.reason);
        assert_int_equal(te_json_out_msg(&b, TE_MSG_EXECUTION_MODE, &m), 0);
        assert_string_equal(te_buf_cstr(&b), "{\"scope\":\"*\",\"level\":\"HALT\","
                                             "\"effective_from\":1704153600000,"
                                             "\"reason\":\"black swan\"}");

        /* non-finite doubles stay valid JSON */
        te_buf_reset(&b);
        o.quantity = NAN;
        o.has_limit_price = 1;
        o.limit_price = -INFINITY;
        assert_int_equal(te_json_out_msg(&b, TE_MSG_ORDER_COMMAND, &o), 0);
        assert_non_null(strstr(te_buf_cstr(&b), "\"quantity\":\"NaN\","));
        assert_non_null(strstr(te_buf_cstr(&b), "\"limit_price\":\"-Infinity\","));
        te_buf_free(&b);

        /* out of room: -1 and the buffer keeps what it had */
        te_buf_init(&b, 40);
        assert_int_equal(te_buf_puts(&b, "xy"), 0);
        assert_int_equal(te_json_out_msg(&b, TE_MSG_EXECUTION_REPORT, &r), -1);
        assert_int_equal(b.len, 2);
        assert_int_equal(te_json_out_msg(&b, TE_MSG_EXECUTION_MODE, &m), -1);
        assert_string_equal(te_buf_cstr(&b), "xy");
        te_buf_free(&b);
}

/* ---- round trips ------------------------------------------------------------------ */

static void assert_tp_equal(const te_target_portfolio_t *x,
                            const te_target_portfolio_t *y)
{
        assert_memory_equal(&x->ids, &y->ids, sizeof x->ids);
        assert_int_equal(x->mode, y->mode);
        assert_int_equal(x->as_of, y->as_of);
        assert_int_equal(x->unit, y->unit);
        assert_int_equal(x->has_nav, y->has_nav);
        assert_true(x->nav == y->nav);
        assert_int_equal(x->full_replace, y->full_replace);
        assert_int_equal(x->n_targets, y->n_targets);
        for (size_t i = 0; i < x->n_targets; i++) {
                assert_string_equal(x->targets[i].ticker, y->targets[i].ticker);
                if (x->targets[i].value != y->targets[i].value)
                        fail_msg("targets[%zu].value %.17g != %.17g", i,
                                 x->targets[i].value, y->targets[i].value);
                assert_int_equal(x->targets[i].has_ref_price,
                                 y->targets[i].has_ref_price);
                assert_true(x->targets[i].ref_price == y->targets[i].ref_price);
        }
}

static const char round_trip_in[] =
    "{\"decision_id\":\"d-42\",\"portfolio_id\":\"pf/\xce\xb1\",\"strategy_id\":\"s\","
    "\"profile_version_id\":\"v7\",\"regime_id\":\"\",\"universe_id\":\"u \\\"q\\\"\","
    "\"mode\":\"PRODUCTION\",\"as_of\":\"2024-02-29T13:45:10.123Z\",\"unit\":\"WEIGHT\","
    "\"nav\":1234567.89,\"full_replace\":false,\"targets\":["
    "{\"ticker\":\"AAPL\",\"value\":0.1},"
    "{\"ticker\":\"MSFT\",\"value\":-0.3333333333333333,\"ref_price\":401.17},"
    "{\"ticker\":\"X\",\"value\":1e-7,\"ref_price\":1e21},"
    "{\"ticker\":\"Y\",\"value\":123456789012345678,\"ref_price\":5e-324},"
    "{\"ticker\":\"Z\",\"value\":0}]}";

static const char round_trip_out[] =
    "{\"decision_id\":\"d-42\",\"portfolio_id\":\"pf/\xce\xb1\",\"strategy_id\":\"s\","
    "\"profile_version_id\":\"v7\",\"regime_id\":\"\",\"universe_id\":\"u \\\"q\\\"\","
    "\"mode\":\"PRODUCTION\",\"as_of\":1709214310123,\"unit\":\"WEIGHT\","
    "\"nav\":1234567.89,\"full_replace\":false,\"targets\":["
    "{\"ticker\":\"AAPL\",\"value\":0.1,\"ref_price\":null},"
    "{\"ticker\":\"MSFT\",\"value\":-0.3333333333333333,\"ref_price\":401.17},"
    "{\"ticker\":\"X\",\"value\":1e-07,\"ref_price\":1e+21},"
    "{\"ticker\":\"Y\",\"value\":1.2345678901234568e+17,"
    "\"ref_price\":4.94065645841247e-324},"
    "{\"ticker\":\"Z\",\"value\":0,\"ref_price\":null}]}";

static void test_msg_json_round_trip(void **state)
{
        te_target_portfolio_t a, b;
        char errstr[512] = "";
        (void)state;
        memset(&a, 0, sizeof a);
        memset(&b, 0, sizeof b);

        if (parse_tp(round_trip_in, &a, errstr, sizeof errstr) != 0)
                fail_msg("parse: %s", errstr);
        char *s1 = render_tp(&a);
        assert_string_equal(s1, round_trip_out);
        if (parse_tp(s1, &b, errstr, sizeof errstr) != 0)
                fail_msg("parse back: %s", errstr);
        assert_tp_equal(&a, &b);
        char *s2 = render_tp(&b);
        assert_string_equal(s1, s2);

        free(s1);
        free(s2);
        te_target_portfolio_free(&a);
        te_target_portfolio_free(&b);
}

/* JSON -> struct -> Avro -> record rendering: the "value" is the struct's JSON. */
static void test_msg_json_record_avro(void **state)
{
        te_target_portfolio_t tp, scratch;
        char errstr[512] = "";
        te_buf_t avro, out, want;
        (void)state;
        memset(&tp, 0, sizeof tp);
        memset(&scratch, 0, sizeof scratch);
        te_buf_init(&avro, TE_CODEC_MAX_MESSAGE);
        te_buf_init(&out, 1 << 20);
        te_buf_init(&want, 1 << 20);

        te_codec_t *codec = te_codec_new(errstr, sizeof errstr);
        if (!codec)
                fail_msg("codec: %s", errstr);
        if (parse_tp(round_trip_in, &tp, errstr, sizeof errstr) != 0)
                fail_msg("parse: %s", errstr);
        te_codec_err_t e =
            te_codec_encode_target_portfolio(codec, &tp, &avro, errstr, sizeof errstr);
        if (e != TE_CODEC_OK)
                fail_msg("encode: %s: %s", te_codec_err_name(e), errstr);

        te_json_record_t r = {
            .topic = "exec.targets",
            .partition = 3,
            .offset = 42,
            .key = "pf/\xce\xb1",
            .key_len = 5,
            .value = avro.data,
            .value_len = avro.len,
        };
        assert_int_equal(te_json_out_record(&out, codec, &scratch, &r), 0);
        assert_int_equal(te_buf_puts(&want,
                                     "{\"topic\":\"exec.targets\",\"partition\":3,"
                                     "\"offset\":42,\"key\":\"pf/\xce\xb1\",\"value\":"),
                         0);
        assert_int_equal(te_buf_puts(&want, round_trip_out), 0);
        assert_int_equal(te_buf_puts(&want, "}"), 0);
        assert_string_equal(te_buf_cstr(&out), te_buf_cstr(&want));

        /* an alert, with headers */
        te_alert_t a;
        te_kafka_header_t h[] = {{"te.source.topic", "exec.orders", 11}};
        sample_alert(&a);
        te_strlcpy(a.message, "m", sizeof a.message);
        e = te_codec_encode_alert(codec, &a, &avro, errstr, sizeof errstr);
        if (e != TE_CODEC_OK)
                fail_msg("encode alert: %s: %s", te_codec_err_name(e), errstr);
        r.topic = "exec.alerts";
        r.partition = 0;
        r.offset = 0;
        r.key = NULL;
        r.key_len = 0;
        r.value = avro.data;
        r.value_len = avro.len;
        r.headers = h;
        r.n_headers = 1;
        te_buf_reset(&out);
        assert_int_equal(te_json_out_record(&out, codec, &scratch, &r), 0);
        assert_string_equal(
            te_buf_cstr(&out),
            "{\"topic\":\"exec.alerts\",\"partition\":0,\"offset\":0,"
            "\"key\":null,\"headers\":{\"te.source.topic\":\"exec.orders\"},"
            "\"value\":{\"severity\":\"CRITICAL\",\"source\":\"exec-planner\","
            "\"code\":\"deadletter\",\"message\":\"m\",\"event_time\":5,"
            "\"decision_id\":\"\",\"portfolio_id\":\"p1\",\"order_id\":\"\"}}");

        /* the same bytes with a truncated body: an error record */
        r.value_len = avro.len - 1;
        te_buf_reset(&out);
        assert_int_equal(te_json_out_record(&out, codec, &scratch, &r), 1);
        assert_non_null(strstr(te_buf_cstr(&out), "\"error\":\""));
        assert_non_null(strstr(te_buf_cstr(&out), "\"value_hex\":\"00000003ed"));

        te_codec_destroy(codec);
        te_target_portfolio_free(&tp);
        te_target_portfolio_free(&scratch);
        te_buf_free(&avro);
        te_buf_free(&out);
        te_buf_free(&want);
}

/* Records whose value does not decode, tombstones, binary keys and header values. */
static void test_msg_json_record_errors(void **state)
{
        te_target_portfolio_t scratch;
        char errstr[512] = "";
        char want[1024];
        unsigned char ff[100];
        te_buf_t out;
        (void)state;
        memset(&scratch, 0, sizeof scratch);
        memset(ff, 0xff, sizeof ff);
        te_buf_init(&out, 1 << 20);
        te_codec_t *codec = te_codec_new(errstr, sizeof errstr);
        if (!codec)
                fail_msg("codec: %s", errstr);

        te_kafka_header_t dl[] = {
            {"te.reason", "decode failed", 13},
            {"te.source.partition", "3", 1},
            {"bin", "\x00\x01", 2},
            {"empty", NULL, 0},
        };
        static const unsigned char unknown_id[] = {0x00, 0x00, 0x00, 0x27, 0x0f, 0x02};
        static const struct {
                const char *name;
                const void *key;
                size_t key_len;
                const void *value;
                size_t value_len;
                size_t n_headers;
                int rc;
                const char *want_fmt; /* %s: the te_codec_err_name of want_err */
                te_codec_err_t want_err;
        } cases[] = {
            {"bad magic, dead-letter headers", "p1", 2, "ABC", 3, 4, 1,
             "{\"topic\":\"t\",\"partition\":1,\"offset\":7,\"key\":\"p1\",\"headers\":{"
             "\"te.reason\":\"decode failed\",\"te.source.partition\":\"3\","
             "\"bin\":{\"hex\":\"0001\"},\"empty\":null},"
             "\"error\":\"%s: first byte 0x41, expected 0x00\",\"value_hex\":\"414243\"}",
             TE_CODEC_ERR_MAGIC},
            {"short header", NULL, 0, "\x00\x00", 2, 0, 1,
             "{\"topic\":\"t\",\"partition\":1,\"offset\":7,\"key\":null,"
             "\"error\":\"%s: 2 bytes, shorter than the 5-byte header\","
             "\"value_hex\":\"0000\"}",
             TE_CODEC_ERR_TRUNCATED},
            {"unknown schema id", "\x00\x01", 2, unknown_id, sizeof unknown_id, 0, 1,
             "{\"topic\":\"t\",\"partition\":1,\"offset\":7,\"key\":{\"hex\":\"0001\"},"
             "\"error\":\"%s: unknown schema id 9999\",\"value_hex\":\"000000270f02\"}",
             TE_CODEC_ERR_SCHEMA_ID},
            {"empty value", "k", 1, "", 0, 0, 1,
             "{\"topic\":\"t\",\"partition\":1,\"offset\":7,\"key\":\"k\","
             "\"error\":\"%s: empty value\",\"value_hex\":\"\"}",
             TE_CODEC_ERR_EMPTY},
            {"tombstone", "p1", 2, NULL, 0, 0, 0,
             "{\"topic\":\"t\",\"partition\":1,\"offset\":7,\"key\":\"p1\",\"value\":"
             "null}",
             TE_CODEC_OK},
        };
        for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
                te_json_record_t r = {
                    .topic = "t",
                    .partition = 1,
                    .offset = 7,
                    .key = cases[i].key,
                    .key_len = cases[i].key_len,
                    .value = cases[i].value,
                    .value_len = cases[i].value_len,
                    .headers = dl,
                    .n_headers = cases[i].n_headers,
                };
                te_buf_reset(&out);
                int rc = te_json_out_record(&out, codec, &scratch, &r);
                if (rc != cases[i].rc)
                        fail_msg("%s: rc %d, want %d", cases[i].name, rc, cases[i].rc);
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
                snprintf(want, sizeof want, cases[i].want_fmt,
                         te_codec_err_name(cases[i].want_err));
#pragma GCC diagnostic pop
                if (strcmp(te_buf_cstr(&out), want) != 0)
                        fail_msg("%s:\n got  %s\n want %s", cases[i].name,
                                 te_buf_cstr(&out), want);
        }

        /* a long undecodable value: only the first 64 bytes are shown */
        te_json_record_t r = {.topic = "t", .value = ff, .value_len = sizeof ff};
        te_buf_reset(&out);
        assert_int_equal(te_json_out_record(&out, codec, &scratch, &r), 1);
        const char *hex = strstr(te_buf_cstr(&out), "\"value_hex\":\"");
        assert_non_null(hex);
        hex += strlen("\"value_hex\":\"");
        assert_int_equal(strlen(hex), 64 * 2 + 2); /* hex digits, quote, brace */

        /* out of room: -1, buffer unchanged */
        te_buf_t small;
        te_buf_init(&small, 30);
        assert_int_equal(te_buf_puts(&small, "z"), 0);
        assert_int_equal(te_json_out_record(&small, codec, &scratch, &r), -1);
        assert_string_equal(te_buf_cstr(&small), "z");
        te_buf_free(&small);

        te_codec_destroy(codec);
        te_target_portfolio_free(&scratch);
        te_buf_free(&out);
}

/* show_meta (exec-tail): the Kafka timestamp and the wire format's schema id after the
 * offset; null when there is no timestamp or the bytes do not start with the magic. */
static void test_msg_json_record_meta(void **state)
{
        te_target_portfolio_t scratch;
        char errstr[512] = "";
        te_buf_t out, avro;
        te_alert_t a;
        (void)state;
        memset(&scratch, 0, sizeof scratch);
        te_buf_init(&out, 1 << 20);
        te_buf_init(&avro, TE_CODEC_MAX_MESSAGE);
        te_codec_t *codec = te_codec_new(errstr, sizeof errstr);
        if (!codec)
                fail_msg("codec: %s", errstr);
        sample_alert(&a);
        te_strlcpy(a.message, "m", sizeof a.message);
        if (te_codec_encode_alert(codec, &a, &avro, errstr, sizeof errstr) != TE_CODEC_OK)
                fail_msg("encode alert: %s", errstr);
        te_json_record_t r = {.topic = "exec.alerts",
                              .offset = 7,
                              .value = avro.data,
                              .value_len = avro.len,
                              .show_meta = 1,
                              .timestamp = 1735689600123};
        assert_int_equal(te_json_out_record(&out, codec, &scratch, &r), 0);
        assert_non_null(strstr(te_buf_cstr(&out),
                               "\"offset\":7,\"timestamp\":1735689600123,"
                               "\"schema_id\":1005,\"key\":null,"));
        /* no timestamp; bytes without the magic byte */
        unsigned char ff[8];
        memset(ff, 0xff, sizeof ff);
        r.timestamp = -1;
        r.value = ff;
        r.value_len = sizeof ff;
        te_buf_reset(&out);
        assert_int_equal(te_json_out_record(&out, codec, &scratch, &r), 1);
        assert_non_null(strstr(te_buf_cstr(&out),
                               "\"offset\":7,\"timestamp\":null,\"schema_id\":null,"));
        /* without show_meta: the fields are not there */
        r.show_meta = 0;
        te_buf_reset(&out);
        assert_int_equal(te_json_out_record(&out, codec, &scratch, &r), 1);
        assert_null(strstr(te_buf_cstr(&out), "timestamp"));
        te_codec_destroy(codec);
        te_target_portfolio_free(&scratch);
        te_buf_free(&avro);
        te_buf_free(&out);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_msg_json_time),
            cmocka_unit_test(test_msg_json_target_good),
            cmocka_unit_test(test_msg_json_target_ids),
            cmocka_unit_test(test_msg_json_target_bad),
            cmocka_unit_test(test_msg_json_ticker_bound),
            cmocka_unit_test(test_msg_json_targets_max),
            cmocka_unit_test(test_msg_json_huge_input),
            cmocka_unit_test(test_msg_json_mode),
            cmocka_unit_test(test_msg_json_lines),
            cmocka_unit_test(test_msg_json_render),
            cmocka_unit_test(test_msg_json_round_trip),
            cmocka_unit_test(test_msg_json_record_avro),
            cmocka_unit_test(test_msg_json_record_errors),
            cmocka_unit_test(test_msg_json_record_meta),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
