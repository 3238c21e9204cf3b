/*
 * Unit tests for te_pg that need no server: password detection in conninfo strings,
 * refusal without echoing the conninfo, and the compiled-in migration list. The
 * migration runner itself is tested against a real server in
 * tests/integration/test_pg_migrate.sh.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "te_log.h"
#include "te_pg.h"

static void test_pg_conninfo_has_password(void **state)
{
        static const struct {
                const char *conninfo;
                int has;
        } cases[] = {
            {"", 0},
            {NULL, 0},
            {"host=/tmp dbname=exec", 0},
            {"password=x", 1},
            {"host=a password='s p' dbname=exec", 1},
            {"password=", 1},
            {"postgresql://u:secret@h/db", 1},
            {"postgresql://u@h/db?password=x", 1},
            {"postgresql://u@h/db", 0},
            {"dbname='password'", 0}, /* a value, not the keyword */
            {"host=a passfile=/tmp/pgpass", 0},
            {"PASSWORD=x", 1},         /* unparseable: judged by the text */
            {"host='unterminated", 0}, /* unparseable, no password in it */
        };
        (void)state;
        for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
                assert_int_equal(te_pg_conninfo_has_password(cases[i].conninfo),
                                 cases[i].has);
}

static void test_pg_connect_refuses_without_echo(void **state)
{
        static const struct {
                const char *conninfo;
                const char *err_prefix;
                const char *secret; /* must not appear in errstr */
        } cases[] = {
            {"host=/nonexistent password=hunter2", "conninfo must not contain a password",
             "hunter2"},
            {"postgresql://alice:hunter2@db.example/exec",
             "conninfo must not contain a password", "hunter2"},
            {"host='db.example dbname=s3cr3t", "invalid conninfo", "s3cr3t"},
            {"nosuchkey=s3cr3t", "invalid conninfo", "s3cr3t"},
            {"host=/nonexistent-te-test-dir port=1 dbname=s3cr3t connect_timeout=1",
             "connect failed: ", "dbname"},
        };
        (void)state;
        te_log_init("test_pg", TE_LOG_ERROR);
        for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
                char errstr[512] = "";
                PGconn *conn = te_pg_connect(cases[i].conninfo, errstr, sizeof errstr);
                assert_null(conn);
                assert_memory_equal(errstr, cases[i].err_prefix,
                                    strlen(cases[i].err_prefix));
                assert_null(strstr(errstr, cases[i].secret));
                assert_null(strstr(errstr, cases[i].conninfo));
                assert_true(strlen(errstr) > 0 && errstr[strlen(errstr) - 1] != '\n');
        }
}

static void test_pg_migrations_embedded(void **state)
{
        (void)state;
        size_t n = te_pg_migration_count();
        assert_true(n >= 1);
        const te_pg_migration_t *first = te_pg_migration_get(0);
        assert_non_null(first);
        assert_string_equal(first->name, "0001_init.sql");
        for (size_t i = 0; i < n; i++) {
                const te_pg_migration_t *m = te_pg_migration_get(i);
                assert_non_null(m);
                assert_non_null(m->sql);
                assert_null(strchr(m->name, '/'));
                assert_true(strlen(m->name) > 4);
                assert_string_equal(m->name + strlen(m->name) - 4, ".sql");
                /* every migration changes the schema */
                assert_true(strstr(m->sql, "CREATE") || strstr(m->sql, "ALTER"));
                if (i > 0)
                        assert_true(strcmp(te_pg_migration_get(i - 1)->name, m->name) <
                                    0);
        }
        assert_null(te_pg_migration_get(n));
        assert_int_equal(te_pg_migration_count(), n);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_pg_conninfo_has_password),
            cmocka_unit_test(test_pg_connect_refuses_without_echo),
            cmocka_unit_test(test_pg_migrations_embedded),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
