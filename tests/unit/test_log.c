/*
 * Unit tests for te_log: stderr is captured through a pipe and each line is parsed
 * with jansson to check the keys, the escaping, level filtering and truncation.
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
#include <jansson.h>

#include "te_log.h"

#define CAPTURE_MAX 65536

static int saved_stderr = -1;
static int pipe_rd = -1;

/* Redirect stderr into a pipe (big enough for a few lines: the pipe buffer is 64 KiB). */
static void capture_start(void)
{
        int fds[2];
        assert_int_equal(pipe(fds), 0);
        saved_stderr = dup(STDERR_FILENO);
        assert_true(saved_stderr >= 0);
        assert_true(dup2(fds[1], STDERR_FILENO) >= 0);
        close(fds[1]);
        pipe_rd = fds[0];
}

/* Restore stderr and return everything written meanwhile (caller frees). */
static char *capture_stop(size_t *len)
{
        assert_true(dup2(saved_stderr, STDERR_FILENO) >= 0);
        close(saved_stderr);
        char *buf = malloc(CAPTURE_MAX + 1);
        assert_non_null(buf);
        size_t n = 0;
        ssize_t r;
        while (n < CAPTURE_MAX && (r = read(pipe_rd, buf + n, CAPTURE_MAX - n)) > 0)
                n += (size_t)r;
        close(pipe_rd);
        buf[n] = '\0';
        if (len)
                *len = n;
        return buf;
}

/* Parse exactly one JSON line; fails the test otherwise. */
static json_t *parse_one_line(const char *text, size_t len)
{
        assert_true(len > 0);
        assert_int_equal(text[len - 1], '\n');
        assert_ptr_equal(strchr(text, '\n'), text + len - 1);
        json_error_t jerr;
        json_t *j = json_loadb(text, len, 0, &jerr);
        if (!j)
                fail_msg("not JSON: %s: %s", jerr.text, text);
        assert_true(json_is_object(j));
        return j;
}

static const char *jstr(json_t *j, const char *key)
{
        json_t *v = json_object_get(j, key);
        return v && json_is_string(v) ? json_string_value(v) : NULL;
}

static void test_log_keys(void **state)
{
        static const struct {
                te_log_ids_t ids;
                int with_ids;
                const char *decision_id, *portfolio_id, *order_id, *report_id;
        } cases[] = {
            {{"d1", "p1", "o1", "r1"}, 1, "d1", "p1", "o1", "r1"},
            {{"d1", "", NULL, "r1"}, 1, "d1", NULL, NULL, "r1"},
            {{NULL, NULL, NULL, NULL}, 1, NULL, NULL, NULL, NULL},
            {{NULL, NULL, NULL, NULL}, 0, NULL, NULL, NULL, NULL},
        };
        (void)state;
        te_log_init("test-proc", TE_LOG_DEBUG);
        for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
                size_t len;
                capture_start();
                TE_LOG(TE_LOG_INFO, cases[i].with_ids ? &cases[i].ids : NULL,
                       "order.sent", "qty=%d px=%.2f", 5, 1.25);
                char *text = capture_stop(&len);
                json_t *j = parse_one_line(text, len);

                const char *ts = jstr(j, "ts");
                assert_non_null(ts);
                /* 2026-11-25T17:00:00.123Z */
                assert_int_equal(strlen(ts), 24);
                assert_int_equal(ts[4], '-');
                assert_int_equal(ts[10], 'T');
                assert_int_equal(ts[19], '.');
                assert_int_equal(ts[23], 'Z');
                assert_string_equal(jstr(j, "level"), "info");
                assert_string_equal(jstr(j, "proc"), "test-proc");
                assert_string_equal(jstr(j, "event"), "order.sent");
                assert_string_equal(jstr(j, "msg"), "qty=5 px=1.25");
                assert_null(json_object_get(j, "truncated"));

                static const char *const keys[] = {"decision_id", "portfolio_id",
                                                   "order_id", "report_id"};
                const char *want[] = {cases[i].decision_id, cases[i].portfolio_id,
                                      cases[i].order_id, cases[i].report_id};
                for (size_t k = 0; k < 4; k++) {
                        if (want[k])
                                assert_string_equal(jstr(j, keys[k]), want[k]);
                        else
                                assert_null(json_object_get(j, keys[k]));
                }
                /* ts, level, proc, event, msg and the ids present: nothing else */
                size_t n_ids = 0;
                for (size_t k = 0; k < 4; k++)
                        n_ids += want[k] != NULL;
                assert_int_equal(json_object_size(j), 5 + n_ids);
                json_decref(j);
                free(text);
        }
}

static void test_log_escaping(void **state)
{
        static const struct {
                const char *event;
                const char *msg;
                const char *proc;
        } cases[] = {
            {"e", "plain", "p"},
            {"e.quote", "say \"hi\"", "p\"q"},
            {"e\\b", "back\\slash", "p"},
            {"e", "two\nlines\r\n", "p"},
            {"e", "tab\there", "p"},
            {"e", "ctl\x01\x1f\x7f", "p"},
            {"e", "caf\xc3\xa9 \xe2\x82\xac", "p"},
            {"", "", ""},
        };
        (void)state;
        for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
                size_t len;
                te_log_init(cases[i].proc, TE_LOG_DEBUG);
                capture_start();
                te_log_write(TE_LOG_WARN, NULL, cases[i].event, "%s", cases[i].msg);
                char *text = capture_stop(&len);
                json_t *j = parse_one_line(text, len);
                assert_string_equal(jstr(j, "level"), "warn");
                assert_string_equal(jstr(j, "event"), cases[i].event);
                assert_string_equal(jstr(j, "msg"), cases[i].msg);
                assert_string_equal(jstr(j, "proc"), cases[i].proc);
                json_decref(j);
                free(text);
        }
}

static int calls;
static const char *count_call(void)
{
        calls++;
        return "x";
}

static void test_log_level_filtering(void **state)
{
        static const struct {
                te_log_level_t min, lvl;
                int emitted;
                const char *name;
        } cases[] = {
            {TE_LOG_DEBUG, TE_LOG_DEBUG, 1, "debug"},
            {TE_LOG_INFO, TE_LOG_DEBUG, 0, NULL},
            {TE_LOG_INFO, TE_LOG_INFO, 1, "info"},
            {TE_LOG_WARN, TE_LOG_INFO, 0, NULL},
            {TE_LOG_WARN, TE_LOG_ERROR, 1, "error"},
            {TE_LOG_ERROR, TE_LOG_WARN, 0, NULL},
            {TE_LOG_ERROR, TE_LOG_ERROR, 1, "error"},
            {TE_LOG_DEBUG, TE_LOG_WARN, 1, "warn"},
        };
        (void)state;
        for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
                size_t len;
                te_log_init("lvl", cases[i].min);
                calls = 0;
                capture_start();
                /* the arguments are evaluated only when the level passes */
                TE_LOG(cases[i].lvl, NULL, "lvl.test", "%s", count_call());
                char *text = capture_stop(&len);
                assert_int_equal(calls, cases[i].emitted);
                if (cases[i].emitted) {
                        json_t *j = parse_one_line(text, len);
                        assert_string_equal(jstr(j, "level"), cases[i].name);
                        json_decref(j);
                } else {
                        assert_int_equal(len, 0);
                }
                free(text);
        }
        te_log_init("test", TE_LOG_INFO);
}

static void test_log_truncation(void **state)
{
        static const struct {
                char fill;
                size_t n;
                int truncated;
        } cases[] = {
            {'a', 100, 0},     {'a', 4000, 0},
            {'a', 10000, 1},   /* longer than the message bound */
            {'\x01', 1000, 0}, /* escapes to 6000 bytes: still fits */
            {'\x01', 3000, 1}, /* escapes to 18000 bytes: cut */
            {'"', 4095, 1},    /* escapes to 8190 bytes: cut to fit the line */
        };
        (void)state;
        te_log_init("trunc", TE_LOG_DEBUG);
        for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
                size_t len;
                char *msg = malloc(cases[i].n + 1);
                assert_non_null(msg);
                memset(msg, cases[i].fill, cases[i].n);
                msg[cases[i].n] = '\0';
                capture_start();
                TE_LOG(TE_LOG_ERROR, NULL, "big", "%s", msg);
                char *text = capture_stop(&len);
                assert_true(len <= 8192);
                json_t *j = parse_one_line(text, len);
                const char *got = jstr(j, "msg");
                assert_non_null(got);
                json_t *t = json_object_get(j, "truncated");
                if (cases[i].truncated) {
                        assert_true(json_is_true(t));
                        assert_true(strlen(got) < cases[i].n);
                        assert_true(strlen(got) > 0);
                        /* what is kept is a prefix of the message */
                        assert_memory_equal(got, msg, strlen(got));
                } else {
                        assert_null(t);
                        assert_string_equal(got, msg);
                }
                json_decref(j);
                free(text);
                free(msg);
        }
        te_log_init("test", TE_LOG_INFO);
}

static void test_log_truncation_utf8(void **state)
{
        /* 2000 two-byte characters = 4000 bytes plus an ASCII tail: the cut at 4095
         * bytes must not split a character */
        size_t len;
        char msg[6001];
        (void)state;
        size_t n = 0;
        memset(msg, 'a', 1);
        n = 1;
        while (n + 2 <= 6000) {
                msg[n++] = '\xc3';
                msg[n++] = '\xa9';
        }
        msg[n] = '\0';
        te_log_init("utf8", TE_LOG_DEBUG);
        capture_start();
        TE_LOG(TE_LOG_INFO, NULL, "utf8", "%s", msg);
        char *text = capture_stop(&len);
        json_t *j = parse_one_line(text, len); /* jansson rejects broken UTF-8 */
        assert_true(json_is_true(json_object_get(j, "truncated")));
        const char *got = jstr(j, "msg");
        assert_int_equal(strlen(got) % 2, 1);
        assert_memory_equal(got, msg, strlen(got));
        json_decref(j);
        free(text);
        te_log_init("test", TE_LOG_INFO);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_log_keys),
            cmocka_unit_test(test_log_escaping),
            cmocka_unit_test(test_log_level_filtering),
            cmocka_unit_test(test_log_truncation),
            cmocka_unit_test(test_log_truncation_utf8),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
