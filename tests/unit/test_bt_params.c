/*
 * test_bt_params: the run parameters the tear sheet shows and backtest_runs stores —
 * secrets masked in the options (table), the targets and bars sources as written for
 * each kind of run, and the JSON object (options as an object, capital and where it
 * came from, risk-free rate, build commit).
 */
#include <jansson.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "bt_params.h"
#include "te_buf.h"

static void test_masked(void **state)
{
        (void)state;
        const struct {
                const char *in, *want;
        } cases[] = {
            {"", ""},
            {"run.id = a\n", "run.id = a\n"},
            {"db.conninfo = host=/tmp dbname=x password=s3cret\n", "db.conninfo = ***\n"},
            {"db.conninfo = host=db PASSWORD=x", "db.conninfo = ***"},
            {"sink.opts = db.url=postgresql://me:s3cret@db/x\nb = 1\n",
             "sink.opts = ***\nb = 1\n"},
            {"x = postgresql://me@db/x\n", "x = postgresql://me@db/x\n"}, /* no secret */
            {"x = http://host:8080/a@b\n", "x = http://host:8080/a@b\n"}, /* @ in path */
            {"kafka.sasl.password = ***\n", "kafka.sasl.password = ***\n"},
            {"no equals sign password\n", "no equals sign password\n"},
        };
        for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
                char *got = te_bt_params_masked(cases[i].in);
                assert_non_null(got);
                if (strcmp(got, cases[i].want) != 0)
                        fail_msg("case %zu: \"%s\", want \"%s\"", i, got, cases[i].want);
                free(got);
        }
}

static void test_sources(void **state)
{
        (void)state;
        te_bt_conf_t c;
        te_bt_params_t p;
        memset(&c, 0, sizeof c);
        te_strlcpy(c.run_id, "r1", sizeof c.run_id);
        te_strlcpy(c.targets_file, "t.jsonl", sizeof c.targets_file);
        te_strlcpy(c.bars_csv, "bars.csv", sizeof c.bars_csv);
        c.risk_free = 0.02;
        assert_int_equal(te_bt_params_init(&p, &c, NULL), 0);
        assert_string_equal(p.source, "targets file t.jsonl");
        assert_string_equal(p.bars_source, "CSV bars.csv");
        assert_string_equal(p.capital_source, "not yet known");
        assert_null(p.options);
        assert_true(p.build_commit[0] != '\0');
        te_bt_params_free(&p);

        memset(&c, 0, sizeof c);
        te_strlcpy(c.run_id, "r2", sizeof c.run_id);
        te_strlcpy(c.source_topic, "exec.targets", sizeof c.source_topic);
        c.from_offset = 10;
        c.to_offset = -1;
        te_strlcpy(c.to_asof, "2025-06-30", sizeof c.to_asof);
        c.bars_db = 1;
        c.capital = 5e5;
        assert_int_equal(te_bt_params_init(&p, &c, NULL), 0);
        assert_string_equal(
            p.source, "topic exec.targets offsets 10..end at start, as_of -..2025-06-30");
        assert_string_equal(p.bars_source, "prices_daily (main database)");
        assert_string_equal(p.capital_source, "capital option");
        te_bt_params_free(&p);
}

static void test_json(void **state)
{
        (void)state;
        te_bt_conf_t c;
        te_bt_params_t p;
        memset(&c, 0, sizeof c);
        te_strlcpy(c.run_id, "r3", sizeof c.run_id);
        te_strlcpy(c.targets_file, "t.jsonl", sizeof c.targets_file);
        te_strlcpy(c.bars_csv, "b.csv", sizeof c.bars_csv);
        c.risk_free = 0.015;
        assert_int_equal(te_bt_params_init(&p, &c, NULL), 0);
        te_bt_params_capital(&p, 1234567.5, "sum of each portfolio's first target nav");
        p.options = strdup("run.id = r3\nbroker.opts = sim.market_at=next_open x=1\n"
                           "empty =\nkafka.sasl.password = ***\n");
        assert_non_null(p.options);
        char *js = te_bt_params_json(&p);
        assert_non_null(js);
        json_error_t e;
        json_t *o = json_loads(js, 0, &e);
        assert_non_null(o);
        assert_string_equal(json_string_value(json_object_get(o, "run_id")), "r3");
        assert_true(json_real_value(json_object_get(o, "capital")) == 1234567.5);
        assert_true(json_real_value(json_object_get(o, "risk_free")) == 0.015);
        assert_string_equal(json_string_value(json_object_get(o, "capital_source")),
                            "sum of each portfolio's first target nav");
        assert_string_equal(json_string_value(json_object_get(o, "bars_source")),
                            "CSV b.csv");
        assert_string_equal(json_string_value(json_object_get(o, "build_commit")),
                            te_bt_build_commit());
        json_t *opts = json_object_get(o, "options");
        assert_true(json_is_object(opts));
        assert_int_equal(json_object_size(opts), 4);
        assert_string_equal(json_string_value(json_object_get(opts, "broker.opts")),
                            "sim.market_at=next_open x=1");
        assert_string_equal(json_string_value(json_object_get(opts, "empty")), "");
        assert_string_equal(
            json_string_value(json_object_get(opts, "kafka.sasl.password")), "***");
        json_decref(o);
        free(js);
        te_bt_params_free(&p);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_masked),
            cmocka_unit_test(test_sources),
            cmocka_unit_test(test_json),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
