/*
 * Unit tests for te_sdnotify: a datagram reaches a listener bound to a path and to an
 * abstract name; unset/empty NOTIFY_SOCKET is a no-op; a relative or too-long address
 * and a socket with no listener are errors with a message.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cmocka.h>

#include "te_sdnotify.h"

/* Bind a datagram socket at `name` ("/path" or "@abstract"). @returns the fd. */
static int listener(const char *name)
{
        struct sockaddr_un sa;
        memset(&sa, 0, sizeof sa);
        sa.sun_family = AF_UNIX;
        size_t n = strlen(name);
        assert_true(n < sizeof sa.sun_path);
        memcpy(sa.sun_path, name, n);
        socklen_t len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n);
        if (name[0] == '@')
                sa.sun_path[0] = '\0';
        else
                len++;
        int fd = socket(AF_UNIX, SOCK_DGRAM, 0);
        assert_true(fd >= 0);
        assert_int_equal(bind(fd, (struct sockaddr *)&sa, len), 0);
        return fd;
}

static void expect_datagram(int fd, const char *want)
{
        char buf[256];
        ssize_t n = recv(fd, buf, sizeof buf - 1, MSG_DONTWAIT);
        assert_true(n >= 0);
        buf[n] = '\0';
        assert_string_equal(buf, want);
}

static void test_path(void **state)
{
        (void)state;
        char dir[] = "/tmp/te-sdnotify.XXXXXX";
        assert_non_null(mkdtemp(dir));
        char path[128];
        snprintf(path, sizeof path, "%s/notify", dir);
        int fd = listener(path);
        setenv("NOTIFY_SOCKET", path, 1);
        char errstr[256] = "";
        assert_int_equal(te_sd_notify("READY=1\nSTATUS=ready", errstr, sizeof errstr), 1);
        expect_datagram(fd, "READY=1\nSTATUS=ready");
        assert_int_equal(te_sd_notify("STOPPING=1", errstr, sizeof errstr), 1);
        expect_datagram(fd, "STOPPING=1");
        close(fd);
        /* the listener is gone: an error, not a crash or a hang */
        assert_int_equal(te_sd_notify("READY=1", errstr, sizeof errstr), -1);
        assert_non_null(strstr(errstr, path));
        unlink(path);
        rmdir(dir);
        unsetenv("NOTIFY_SOCKET");
}

static void test_abstract(void **state)
{
        (void)state;
        char name[64];
        snprintf(name, sizeof name, "@te-sdnotify-test-%ld", (long)getpid());
        int fd = listener(name);
        setenv("NOTIFY_SOCKET", name, 1);
        char errstr[256] = "";
        assert_int_equal(te_sd_notify("READY=1", errstr, sizeof errstr), 1);
        expect_datagram(fd, "READY=1");
        close(fd);
        unsetenv("NOTIFY_SOCKET");
}

static void test_unset_and_bad(void **state)
{
        (void)state;
        char errstr[256] = "";
        unsetenv("NOTIFY_SOCKET");
        assert_int_equal(te_sd_notify("READY=1", errstr, sizeof errstr), 0);
        setenv("NOTIFY_SOCKET", "", 1);
        assert_int_equal(te_sd_notify("READY=1", errstr, sizeof errstr), 0);
        setenv("NOTIFY_SOCKET", "relative/sock", 1);
        assert_int_equal(te_sd_notify("READY=1", errstr, sizeof errstr), -1);
        assert_non_null(strstr(errstr, "relative/sock"));
        char longname[200];
        memset(longname, 'x', sizeof longname - 1);
        longname[0] = '/';
        longname[sizeof longname - 1] = '\0';
        setenv("NOTIFY_SOCKET", longname, 1);
        errstr[0] = '\0';
        assert_int_equal(te_sd_notify("READY=1", errstr, sizeof errstr), -1);
        assert_true(errstr[0] != '\0');
        unsetenv("NOTIFY_SOCKET");
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_path),
            cmocka_unit_test(test_abstract),
            cmocka_unit_test(test_unset_and_bad),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
