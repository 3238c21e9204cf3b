/*
 * Unit tests for te_config: defaults, the file format, every error message
 * ("file:line: key: why"), the EXEC_* environment mapping, override precedence, the
 * kafka.* pass-through list and secret masking in te_cfg_dump; a renamed key is refused
 * from every origin with a message naming the new key; rows into the int, enum and
 * flag-set members of a module's struct nested in the conf.
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

#include "te_config.h"

typedef struct sample_s {
        char name[8];
        int64_t port;
        int64_t listen_port;
        double ratio;
        int verbose;
        int mode;
        char db_password[32];
        int64_t anything; /* min == max == 0: no range */
} sample_t;

static const char *const modes[] = {"PRODUCTION", "TRAINING", NULL};

static const te_cfg_item_t sample_items[] = {
    {"name", TE_CFG_STRING, offsetof(sample_t, name), sizeof(((sample_t *)0)->name),
     "svc", 0, 0, NULL, "a string of at most 7 bytes"},
    {"port", TE_CFG_INT, offsetof(sample_t, port), 0, "8080", 1, 65535, NULL, "port"},
    {"http.listen-port", TE_CFG_INT, offsetof(sample_t, listen_port), 0, "9100", 0, 65535,
     NULL, "dots and dashes in the name"},
    {"ratio", TE_CFG_DOUBLE, offsetof(sample_t, ratio), 0, "0.5", 0, 1, NULL, "ratio"},
    {"verbose", TE_CFG_BOOL, offsetof(sample_t, verbose), 0, "false", 0, 0, NULL, "bool"},
    {"mode", TE_CFG_ENUM, offsetof(sample_t, mode), 0, "TRAINING", 0, 0, modes, "mode"},
    {"db.password", TE_CFG_STRING, offsetof(sample_t, db_password),
     sizeof(((sample_t *)0)->db_password), NULL, 0, 0, NULL, "a secret"},
    {"anything", TE_CFG_INT, offsetof(sample_t, anything), 0, "-5", 0, 0, NULL, "free"},
};
#define N_ITEMS (sizeof sample_items / sizeof sample_items[0])

static te_cfg_t *new_cfg(sample_t *s)
{
        char errstr[256] = "";
        memset(s, 0x5a, sizeof *s);
        te_cfg_t *cfg = te_cfg_new(sample_items, N_ITEMS, s, errstr, sizeof errstr);
        assert_non_null(cfg);
        assert_string_equal(errstr, "");
        return cfg;
}

/* Write `content` to a new temp file; path receives its name. */
static void write_temp(char *path, size_t pathsz, const char *content)
{
        snprintf(path, pathsz, "/tmp/test_config_XXXXXX");
        int fd = mkstemp(path);
        assert_true(fd >= 0);
        size_t n = strlen(content);
        assert_int_equal(write(fd, content, n), (ssize_t)n);
        close(fd);
}

static void test_config_defaults(void **state)
{
        sample_t s;
        (void)state;
        te_cfg_t *cfg = new_cfg(&s);
        assert_string_equal(s.name, "svc");
        assert_int_equal(s.port, 8080);
        assert_int_equal(s.listen_port, 9100);
        assert_true(s.ratio == 0.5);
        assert_int_equal(s.verbose, 0);
        assert_int_equal(s.mode, 1);
        assert_string_equal(s.db_password, "");
        assert_int_equal(s.anything, -5);
        assert_int_equal(te_cfg_kafka_count(cfg), 0);
        assert_null(te_cfg_kafka_get(cfg, "bootstrap.servers"));
        te_cfg_destroy(cfg);
        te_cfg_destroy(NULL);
}

static void test_config_bad_default(void **state)
{
        static const struct {
                te_cfg_item_t item;
                const char *err;
        } cases[] = {
            {{"p", TE_CFG_INT, 0, 0, "70000", 1, 65535, NULL, NULL},
             "default: p: out of range [1, 65535]: 70000"},
            {{"r", TE_CFG_DOUBLE, 0, 0, "x", 0, 1, NULL, NULL},
             "default: r: invalid number 'x'"},
            {{"kafka.x", TE_CFG_INT, 0, 0, "1", 0, 0, NULL, NULL},
             "table: kafka.x: invalid key name"},
        };
        (void)state;
        for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
                char errstr[256] = "";
                union {
                        int64_t i;
                        double d;
                } target;
                assert_null(
                    te_cfg_new(&cases[i].item, 1, &target, errstr, sizeof errstr));
                assert_string_equal(errstr, cases[i].err);
        }
}

static void test_config_good_file(void **state)
{
        char path[64], errstr[256] = "";
        sample_t s;
        (void)state;
        write_temp(path, sizeof path,
                   "# a comment\n"
                   "\n"
                   "   # an indented comment\n"
                   "name = exec\n"
                   "port=9092\n"
                   "  http.listen-port   =   0  \n"
                   "ratio = 1e-3\n"
                   "verbose = Yes\n"
                   "mode = PRODUCTION\r\n"
                   "db.password = a=b#c\n"
                   "anything = -9223372036854775808\n"
                   "kafka.bootstrap.servers = 127.0.0.1:9092\n"
                   "kafka.linger.ms = 0");
        te_cfg_t *cfg = new_cfg(&s);
        assert_int_equal(te_cfg_load_file(cfg, path, errstr, sizeof errstr), 0);
        assert_string_equal(s.name, "exec");
        assert_int_equal(s.port, 9092);
        assert_int_equal(s.listen_port, 0);
        assert_true(s.ratio == 1e-3);
        assert_int_equal(s.verbose, 1);
        assert_int_equal(s.mode, 0);
        assert_string_equal(s.db_password, "a=b#c"); /* value keeps '=' and '#' */
        assert_true(s.anything == INT64_MIN);
        assert_int_equal(te_cfg_kafka_count(cfg), 2);
        assert_string_equal(te_cfg_kafka_name(cfg, 0), "bootstrap.servers");
        assert_string_equal(te_cfg_kafka_value(cfg, 0), "127.0.0.1:9092");
        assert_string_equal(te_cfg_kafka_name(cfg, 1), "linger.ms");
        assert_string_equal(te_cfg_kafka_value(cfg, 1), "0");
        assert_null(te_cfg_kafka_name(cfg, 2));
        te_cfg_destroy(cfg);
        unlink(path);
}

static void test_config_file_errors(void **state)
{
        static const struct {
                const char *content;
                int line;
                const char *key;
                const char *why;
        } cases[] = {
            {"bogus = 1\n", 1, "bogus", "unknown key"},
            {"# c\nport = 80x\n", 2, "port", "invalid integer '80x'"},
            {"port = \n", 1, "port", "invalid integer ''"},
            {"port = 0x10\n", 1, "port", "invalid integer '0x10'"},
            {"port = 70000\n", 1, "port", "out of range [1, 65535]: 70000"},
            {"port = 0\n", 1, "port", "out of range [1, 65535]: 0"},
            {"port = 99999999999999999999\n", 1, "port",
             "out of range '99999999999999999999'"},
            {"ratio = abc\n", 1, "ratio", "invalid number 'abc'"},
            {"ratio = 0.5x\n", 1, "ratio", "invalid number '0.5x'"},
            {"ratio = 1.5\n", 1, "ratio", "out of range [0, 1]: 1.5"},
            {"ratio = nan\n", 1, "ratio", "not a finite number 'nan'"},
            {"ratio = inf\n", 1, "ratio", "not a finite number 'inf'"},
            {"ratio = 1e999\n", 1, "ratio", "not a finite number '1e999'"},
            {"ratio = 1e-400\n", 1, "ratio", "out of range '1e-400'"},
            {"verbose = maybe\n", 1, "verbose",
             "invalid boolean 'maybe' (true/false, yes/no, on/off, 1/0)"},
            {"mode = LIVE\n", 1, "mode",
             "invalid value 'LIVE' (one of: PRODUCTION TRAINING)"},
            {"mode = training\n", 1, "mode",
             "invalid value 'training' (one of: PRODUCTION TRAINING)"},
            {"name = 12345678\n", 1, "name", "too long (8 bytes, max 7)"},
            {"\n\nport 8080\n", 3, "port", "missing '='"},
            {"name = ok\nratio = 0.1\nverbose\n", 3, "verbose", "missing '='"},
            {"= 5\n", 1, "", "missing key before '='"},
            {"kafka. = 5\n", 1, "kafka.", "empty librdkafka property name"},
        };
        (void)state;
        for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
                char path[64], errstr[256] = "", want[512];
                sample_t s;
                write_temp(path, sizeof path, cases[i].content);
                te_cfg_t *cfg = new_cfg(&s);
                assert_int_equal(te_cfg_load_file(cfg, path, errstr, sizeof errstr), -1);
                snprintf(want, sizeof want, "%s:%d: %s: %s", path, cases[i].line,
                         cases[i].key, cases[i].why);
                assert_string_equal(errstr, want);
                te_cfg_destroy(cfg);
                unlink(path);
        }
}

static void test_config_file_missing(void **state)
{
        char errstr[256] = "";
        sample_t s;
        (void)state;
        te_cfg_t *cfg = new_cfg(&s);
        assert_int_equal(
            te_cfg_load_file(cfg, "/nonexistent/te.conf", errstr, sizeof errstr), -1);
        assert_string_equal(
            errstr, "/nonexistent/te.conf: cannot open: No such file or directory");
        te_cfg_destroy(cfg);
}

static void test_config_file_long_line(void **state)
{
        char path[64], errstr[256] = "", want[256];
        sample_t s;
        (void)state;
        size_t n = 20000;
        char *content = malloc(n + 16);
        assert_non_null(content);
        memcpy(content, "name = ", 7);
        memset(content + 7, 'a', n);
        memcpy(content + 7 + n, "\n", 2);
        write_temp(path, sizeof path, content);
        free(content);
        te_cfg_t *cfg = new_cfg(&s);
        assert_int_equal(te_cfg_load_file(cfg, path, errstr, sizeof errstr), -1);
        snprintf(want, sizeof want, "%s:1: line too long (max 16382 bytes)", path);
        assert_string_equal(errstr, want);
        te_cfg_destroy(cfg);
        unlink(path);
}

static void test_config_env_mapping(void **state)
{
        char *envp[] = {
            "PATH=/usr/bin",
            "HOME=/root",
            "TE_BUILD_DIR=/tmp/build", /* our scripts' variables are not config */
            "TE_PORT=1",
            "EXEC_PORT=9090",
            "EXEC_HTTP_LISTEN_PORT=81",
            "EXEC_VERBOSE=on",
            "EXEC_KAFKA_BOOTSTRAP_SERVERS=127.0.0.1:9092",
            "EXEC_KAFKA_SASL_PASSWORD=hunter2",
            "EXEC_KAFKA_SESSION_TIMEOUT_MS=3000",
            NULL,
        };
        char errstr[256] = "";
        sample_t s;
        (void)state;
        te_cfg_t *cfg = new_cfg(&s);
        assert_int_equal(te_cfg_apply_env(cfg, envp, errstr, sizeof errstr), 0);
        assert_string_equal(errstr, "");
        assert_int_equal(s.port, 9090);
        assert_int_equal(s.listen_port, 81);
        assert_int_equal(s.verbose, 1);
        assert_string_equal(te_cfg_kafka_get(cfg, "bootstrap.servers"), "127.0.0.1:9092");
        assert_string_equal(te_cfg_kafka_get(cfg, "sasl.password"), "hunter2");
        assert_string_equal(te_cfg_kafka_get(cfg, "session.timeout.ms"), "3000");
        assert_int_equal(te_cfg_kafka_count(cfg), 3);
        assert_int_equal(te_cfg_apply_env(cfg, NULL, errstr, sizeof errstr), 0);
        te_cfg_destroy(cfg);
}

static void test_config_env_errors(void **state)
{
        static const struct {
                const char *var;
                const char *err;
        } cases[] = {
            {"EXEC_PORT=abc", "env EXEC_PORT: port: invalid integer 'abc'"},
            {"EXEC_RATIO=7", "env EXEC_RATIO: ratio: out of range [0, 1]: 7"},
            {"EXEC_MODE=LIVE",
             "env EXEC_MODE: mode: invalid value 'LIVE' (one of: PRODUCTION TRAINING)"},
            {"EXEC_HTTP_LISTEN_PORT=-1",
             "env EXEC_HTTP_LISTEN_PORT: http.listen-port: out of range [0, 65535]: -1"},
        };
        (void)state;
        for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
                char errstr[256] = "";
                char var[64];
                char *envp[] = {"OTHER=1", var, NULL};
                sample_t s;
                snprintf(var, sizeof var, "%s", cases[i].var);
                te_cfg_t *cfg = new_cfg(&s);
                assert_int_equal(te_cfg_apply_env(cfg, envp, errstr, sizeof errstr), -1);
                assert_string_equal(errstr, cases[i].err);
                te_cfg_destroy(cfg);
        }
}

static void test_config_override_precedence(void **state)
{
        static const struct {
                int with_file, with_env, with_override;
                int64_t port;
                const char *linger;
        } cases[] = {
            {0, 0, 0, 8080, NULL}, {1, 0, 0, 1000, "10"}, {1, 1, 0, 2000, "20"},
            {1, 1, 1, 3000, "30"}, {0, 1, 1, 3000, "30"}, {1, 0, 1, 3000, "30"},
            {0, 1, 0, 2000, "20"},
        };
        char path[64];
        char *envp[] = {"EXEC_PORT=2000", "EXEC_KAFKA_LINGER_MS=20", NULL};
        char *overrides[] = {"port=3000", " kafka.linger.ms = 30 "};
        (void)state;
        write_temp(path, sizeof path, "port = 1000\nkafka.linger.ms = 10\n");
        for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
                char errstr[256] = "";
                sample_t s;
                te_cfg_t *cfg = new_cfg(&s);
                assert_int_equal(
                    te_cfg_load_all(cfg, cases[i].with_file ? path : NULL,
                                    cases[i].with_env ? envp : NULL,
                                    cases[i].with_override ? overrides : NULL,
                                    cases[i].with_override ? 2 : 0, errstr,
                                    sizeof errstr),
                    0);
                assert_int_equal(s.port, cases[i].port);
                if (cases[i].linger)
                        assert_string_equal(te_cfg_kafka_get(cfg, "linger.ms"),
                                            cases[i].linger);
                else
                        assert_null(te_cfg_kafka_get(cfg, "linger.ms"));
                te_cfg_destroy(cfg);
        }
        unlink(path);
}

static void test_config_override_errors(void **state)
{
        static const struct {
                const char *kv;
                const char *err;
        } cases[] = {
            {"port", "override: port: missing '='"},
            {"port=x", "override: port: invalid integer 'x'"},
            {"nope=1", "override: nope: unknown key"},
            {"=1", "override: : missing key before '='"},
            {"verbose=2", "override: verbose: invalid boolean '2' (true/false, yes/no, "
                          "on/off, 1/0)"},
        };
        (void)state;
        for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
                char errstr[256] = "";
                sample_t s;
                te_cfg_t *cfg = new_cfg(&s);
                assert_int_equal(
                    te_cfg_apply_override(cfg, cases[i].kv, errstr, sizeof errstr), -1);
                assert_string_equal(errstr, cases[i].err);
                te_cfg_destroy(cfg);
        }
}

static void test_config_kafka_duplicate_keeps_latest(void **state)
{
        static const struct {
                const char *key, *value;
        } sets[] = {
            {"kafka.a", "1"}, {"kafka.b", "2"}, {"kafka.a", "3"},
            {"kafka.c", "4"}, {"kafka.b", "5"},
        };
        static const struct {
                const char *name, *value;
        } want[] = {{"a", "3"}, {"c", "4"}, {"b", "5"}};
        char errstr[256] = "";
        sample_t s;
        (void)state;
        te_cfg_t *cfg = new_cfg(&s);
        for (size_t i = 0; i < sizeof sets / sizeof sets[0]; i++)
                assert_int_equal(te_cfg_set(cfg, sets[i].key, sets[i].value, "test",
                                            errstr, sizeof errstr),
                                 0);
        assert_int_equal(te_cfg_kafka_count(cfg), sizeof want / sizeof want[0]);
        for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
                assert_string_equal(te_cfg_kafka_name(cfg, i), want[i].name);
                assert_string_equal(te_cfg_kafka_value(cfg, i), want[i].value);
                assert_string_equal(te_cfg_kafka_get(cfg, want[i].name), want[i].value);
        }
        assert_null(te_cfg_kafka_get(cfg, "d"));
        te_cfg_destroy(cfg);
}

static void test_config_dump_masks_secrets(void **state)
{
        static const char *const present[] = {
            "name = svc\n",
            "port = 8080\n",
            "ratio = 0.5\n",
            "verbose = false\n",
            "mode = TRAINING\n",
            "db.password = ***\n",
            "anything = -5\n",
            "kafka.bootstrap.servers = 127.0.0.1:9092\n",
            "kafka.sasl.password = ***\n",
            "kafka.sasl.username = ***\n",
            "kafka.ssl.key.password = ***\n",
            "kafka.client.secret = ***\n",
        };
        char errstr[256] = "";
        char *text = NULL;
        size_t len = 0;
        sample_t s;
        (void)state;
        te_cfg_t *cfg = new_cfg(&s);
        assert_int_equal(
            te_cfg_apply_override(cfg, "db.password=pgsecret", errstr, sizeof errstr), 0);
        assert_int_equal(te_cfg_apply_override(cfg,
                                               "kafka.bootstrap.servers=127.0.0.1:9092",
                                               errstr, sizeof errstr),
                         0);
        assert_int_equal(te_cfg_apply_override(cfg, "kafka.sasl.password=hunter2", errstr,
                                               sizeof errstr),
                         0);
        assert_int_equal(te_cfg_apply_override(cfg, "kafka.sasl.username=alice", errstr,
                                               sizeof errstr),
                         0);
        assert_int_equal(te_cfg_apply_override(cfg, "kafka.ssl.key.password=k3y", errstr,
                                               sizeof errstr),
                         0);
        assert_int_equal(te_cfg_apply_override(cfg, "kafka.client.secret=s3cr3t", errstr,
                                               sizeof errstr),
                         0);
        FILE *fp = open_memstream(&text, &len);
        assert_non_null(fp);
        te_cfg_dump(cfg, fp);
        fclose(fp);
        for (size_t i = 0; i < sizeof present / sizeof present[0]; i++)
                assert_non_null(strstr(text, present[i]));
        assert_null(strstr(text, "hunter2"));
        assert_null(strstr(text, "pgsecret"));
        assert_null(strstr(text, "alice"));
        assert_null(strstr(text, "k3y"));
        assert_null(strstr(text, "s3cr3t"));
        free(text);
        te_cfg_destroy(cfg);
}

/* A renamed key (TE_CFG_RENAMED) is refused from a file, the environment and an
 * override, with the new name in the message; it has no default and no dump line. */
typedef struct renamed_s {
        double frac;
} renamed_t;

static const te_cfg_item_t renamed_items[] = {
    {"fee.max_frac", TE_CFG_DOUBLE, offsetof(renamed_t, frac), 0, "0.01", 0, 0.1, NULL,
     "a fraction"},
    {"fee.max_pct", TE_CFG_RENAMED, 0, 0, "fee.max_frac", 0, 0, NULL,
     "a fraction, 0.01 = 1%"},
    {"fee.old", TE_CFG_RENAMED, 0, 0, "fee.max_frac", 0, 0, NULL, NULL},
};

static void test_config_renamed_key_refused(void **state)
{
        char errstr[256] = "", path[64];
        renamed_t r = {-1};
        (void)state;
        te_cfg_t *cfg = te_cfg_new(renamed_items, 3, &r, errstr, sizeof errstr);
        assert_non_null(cfg);
        assert_true(r.frac == 0.01);

        assert_int_equal(
            te_cfg_apply_override(cfg, "fee.max_pct=0.01", errstr, sizeof errstr), -1);
        assert_string_equal(errstr, "override: fee.max_pct: renamed: use fee.max_frac "
                                    "(a fraction, 0.01 = 1%)");
        assert_int_equal(
            te_cfg_apply_override(cfg, "fee.old=0.01", errstr, sizeof errstr), -1);
        assert_string_equal(errstr, "override: fee.old: renamed: use fee.max_frac");

        write_temp(path, sizeof path, "# fees\nfee.max_pct = 0.5\n");
        assert_int_equal(te_cfg_load_file(cfg, path, errstr, sizeof errstr), -1);
        assert_non_null(strstr(errstr, ":2: fee.max_pct: renamed: use fee.max_frac"));
        unlink(path);

        char *env[] = {"EXEC_FEE_MAX_PCT=0.01", NULL};
        assert_int_equal(te_cfg_apply_env(cfg, env, errstr, sizeof errstr), -1);
        assert_non_null(strstr(errstr, "fee.max_pct: renamed: use fee.max_frac"));

        /* the new key keeps its range: above 0.1 is refused */
        assert_int_equal(
            te_cfg_apply_override(cfg, "fee.max_frac=0.5", errstr, sizeof errstr), -1);
        assert_non_null(strstr(errstr, "fee.max_frac: out of range"));
        assert_int_equal(
            te_cfg_apply_override(cfg, "fee.max_frac=0.02", errstr, sizeof errstr), 0);
        assert_true(r.frac == 0.02);

        char *buf = NULL;
        size_t len = 0;
        FILE *fp = open_memstream(&buf, &len);
        assert_non_null(fp);
        te_cfg_dump(cfg, fp);
        fclose(fp);
        assert_non_null(strstr(buf, "fee.max_frac = 0.02"));
        assert_null(strstr(buf, "fee.max_pct"));
        assert_null(strstr(buf, "fee.old"));
        free(buf);
        te_cfg_destroy(cfg);
}

/* Trailing comments and quoted values in a file; -o takes its value literally. */
static void test_config_file_comments_quotes(void **state)
{
        char path[64], errstr[256] = "";
        sample_t s;
        (void)state;
        write_temp(path, sizeof path,
                   "name = svc2   # the service name\n"
                   "db.password = \"x # y\"   # quoted: the '#' is text\n"
                   "mode = 'PRODUCTION'\n"
                   "port = 9093# no blank before '#': part of the value? no: an int\n");
        te_cfg_t *cfg = new_cfg(&s);
        /* "9093# ..." is not a comment (no blank before '#'): a bad integer */
        assert_int_equal(te_cfg_load_file(cfg, path, errstr, sizeof errstr), -1);
        assert_non_null(strstr(errstr, ":4: port: invalid integer"));
        assert_string_equal(s.name, "svc2");
        assert_string_equal(s.db_password, "x # y");
        assert_int_equal(s.mode, 0);
        te_cfg_destroy(cfg);
        unlink(path);

        write_temp(path, sizeof path,
                   "name = # nothing but a comment\n"
                   "db.password = ''\n"
                   "verbose = \"on\"\n"
                   "port = 1 #x\n");
        cfg = new_cfg(&s);
        assert_int_equal(te_cfg_load_file(cfg, path, errstr, sizeof errstr), 0);
        assert_string_equal(s.name, "");
        assert_string_equal(s.db_password, "");
        assert_int_equal(s.verbose, 1);
        assert_int_equal(s.port, 1);
        /* -o values are literal: the shell already removed its quotes */
        assert_int_equal(
            te_cfg_apply_override(cfg, "db.password=\"q\" #", errstr, sizeof errstr), 0);
        assert_string_equal(s.db_password, "\"q\" #");
        te_cfg_destroy(cfg);
        unlink(path);

        static const struct {
                const char *content;
                const char *err;
        } bad[] = {
            {"name = \"abc\n", ":1: name: unterminated \" quote"},
            {"name = 'abc\n", ":1: name: unterminated ' quote"},
            {"name = \"a\" b\n", ":1: name: text after the closing quote"},
        };
        for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
                write_temp(path, sizeof path, bad[i].content);
                cfg = new_cfg(&s);
                assert_int_equal(te_cfg_load_file(cfg, path, errstr, sizeof errstr), -1);
                assert_non_null(strstr(errstr, bad[i].err));
                te_cfg_destroy(cfg);
                unlink(path);
        }
}

/* One env file for every process: another process's EXEC_* is skipped, not fatal. */
static void test_config_env_other_process(void **state)
{
        char *envp[] = {"EXEC_NOPE=1", "EXEC_PORT=9091", "EXEC_SIM_SLIPPAGE_BPS=3", NULL};
        char *bad[] = {"EXEC_NOPE=1", "EXEC_PORT=x", NULL};
        char errstr[256] = "";
        sample_t s;
        (void)state;
        te_cfg_t *cfg = new_cfg(&s);
        assert_int_equal(te_cfg_apply_env(cfg, envp, errstr, sizeof errstr), 0);
        assert_int_equal(s.port, 9091);
        assert_int_equal(te_cfg_env_ignored_count(cfg), 2);
        assert_string_equal(te_cfg_env_ignored_name(cfg, 0), "EXEC_NOPE");
        assert_string_equal(te_cfg_env_ignored_name(cfg, 1), "EXEC_SIM_SLIPPAGE_BPS");
        assert_null(te_cfg_env_ignored_name(cfg, 2));
        assert_int_equal(te_cfg_kafka_count(cfg), 0);
        te_cfg_destroy(cfg);
        /* a bad value of one of ours is still an error */
        cfg = new_cfg(&s);
        assert_int_equal(te_cfg_apply_env(cfg, bad, errstr, sizeof errstr), -1);
        assert_string_equal(errstr, "env EXEC_PORT: port: invalid integer 'x'");
        te_cfg_destroy(cfg);
        /* unknown keys in a file or -o stay errors */
        cfg = new_cfg(&s);
        assert_int_equal(te_cfg_apply_override(cfg, "nope=1", errstr, sizeof errstr), -1);
        te_cfg_destroy(cfg);
}

/* A module's own config struct: int and enum members, a set of names, nested. */
typedef struct module_s {
        int port; /* an int, not an int64_t */
        unsigned kinds;
        struct {
                int count;
                int64_t big;
        } inner;
} module_t;
typedef struct proc_s {
        char name[8];
        module_t mod;
} proc_t;

static const char *const kinds[] = {"A", "B", "C", NULL};

static const te_cfg_item_t proc_items[] = {
    {"mod.port", TE_CFG_INT, offsetof(proc_t, mod.port), sizeof(int), "4002", 1, 65535,
     NULL, "an int field"},
    {"mod.kinds", TE_CFG_FLAGS, offsetof(proc_t, mod.kinds), sizeof(unsigned), "A,C", 0,
     0, kinds, "a set"},
    {"mod.count", TE_CFG_INT, offsetof(proc_t, mod.inner.count), sizeof(int), "-3", 0, 0,
     NULL, "an int without a range"},
    {"mod.big", TE_CFG_INT, offsetof(proc_t, mod.inner.big), sizeof(int64_t),
     "5000000000", 0, 0, NULL, "an int64_t"},
};
#define N_PROC (sizeof proc_items / sizeof proc_items[0])

/* Rows point into members of members; an INT row writes exactly its int field, a
 * FLAGS row a bit per name; the neighbours are untouched. */
static void test_config_nested_module_fields(void **state)
{
        (void)state;
        char errstr[256] = "";
        proc_t p;
        memset(&p, 0x5a, sizeof p);
        te_cfg_t *cfg = te_cfg_new(proc_items, N_PROC, &p, errstr, sizeof errstr);
        assert_non_null(cfg);
        assert_int_equal(p.mod.port, 4002);
        assert_int_equal(p.mod.kinds, 0x5u);
        assert_int_equal(p.mod.inner.count, -3);
        assert_true(p.mod.inner.big == INT64_C(5000000000));
        assert_int_equal((unsigned char)p.name[0], 0x5a);
        assert_int_equal(
            te_cfg_apply_override(cfg, "mod.port=4001", errstr, sizeof errstr), 0);
        assert_int_equal(p.mod.port, 4001);
        assert_int_equal(te_cfg_set(cfg, "mod.kinds", "B, C", "t", errstr, sizeof errstr),
                         0);
        assert_int_equal(p.mod.kinds, 0x6u);
        assert_int_equal(te_cfg_set(cfg, "mod.kinds", "", "t", errstr, sizeof errstr), 0);
        assert_int_equal(p.mod.kinds, 0u);
        assert_int_equal(
            te_cfg_set(cfg, "mod.count", "2147483647", "t", errstr, sizeof errstr), 0);
        assert_int_equal(p.mod.inner.count, 2147483647);
        /* refused, the field unchanged */
        assert_int_equal(
            te_cfg_set(cfg, "mod.count", "2147483648", "t", errstr, sizeof errstr), -1);
        assert_string_equal(errstr, "t: mod.count: out of range '2147483648'");
        assert_int_equal(p.mod.inner.count, 2147483647);
        assert_int_equal(te_cfg_set(cfg, "mod.kinds", "A,D", "t", errstr, sizeof errstr),
                         -1);
        assert_string_equal(errstr, "t: mod.kinds: unknown name 'D'");
        assert_int_equal(p.mod.kinds, 0u);
        assert_int_equal(te_cfg_set(cfg, "mod.kinds", "C,A", "t", errstr, sizeof errstr),
                         0);
        char *buf = NULL;
        size_t len = 0;
        FILE *fp = open_memstream(&buf, &len);
        assert_non_null(fp);
        te_cfg_dump(cfg, fp);
        assert_int_equal(fclose(fp), 0);
        assert_string_equal(buf, "mod.port = 4001\nmod.kinds = A,C\n"
                                 "mod.count = 2147483647\nmod.big = 5000000000\n");
        free(buf);
        te_cfg_destroy(cfg);
}

/* te_cfg_defaults applies the defaults alone; a row whose field size does not fit its
 * type is refused (it would write past the field or short of it). */
static void test_config_defaults_only_and_sizes(void **state)
{
        (void)state;
        char errstr[256] = "";
        proc_t p;
        memset(&p, 0, sizeof p);
        assert_int_equal(te_cfg_defaults(proc_items, N_PROC, &p, errstr, sizeof errstr),
                         0);
        assert_int_equal(p.mod.port, 4002);
        assert_int_equal(p.mod.kinds, 0x5u);
        static const te_cfg_item_t bad[][1] = {
            {{"d", TE_CFG_DOUBLE, 0, sizeof(float), "1", 0, 0, NULL, "a float"}},
            {{"i", TE_CFG_INT, 0, sizeof(short), "1", 0, 0, NULL, "a short"}},
            {{"b", TE_CFG_BOOL, 0, sizeof(char), "true", 0, 0, NULL, "a char"}},
            {{"f", TE_CFG_FLAGS, 0, sizeof(uint64_t), "", 0, 0, kinds, "64 bits"}},
        };
        for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
                errstr[0] = '\0';
                assert_int_equal(te_cfg_defaults(bad[i], 1, &p, errstr, sizeof errstr),
                                 -1);
                assert_non_null(strstr(errstr, "bytes"));
        }
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_config_defaults),
            cmocka_unit_test(test_config_bad_default),
            cmocka_unit_test(test_config_good_file),
            cmocka_unit_test(test_config_file_errors),
            cmocka_unit_test(test_config_file_missing),
            cmocka_unit_test(test_config_file_long_line),
            cmocka_unit_test(test_config_env_mapping),
            cmocka_unit_test(test_config_env_errors),
            cmocka_unit_test(test_config_file_comments_quotes),
            cmocka_unit_test(test_config_env_other_process),
            cmocka_unit_test(test_config_override_precedence),
            cmocka_unit_test(test_config_override_errors),
            cmocka_unit_test(test_config_kafka_duplicate_keeps_latest),
            cmocka_unit_test(test_config_dump_masks_secrets),
            cmocka_unit_test(test_config_renamed_key_refused),
            cmocka_unit_test(test_config_nested_module_fields),
            cmocka_unit_test(test_config_defaults_only_and_sizes),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
