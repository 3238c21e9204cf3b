/*
 * test_http: te_http over a real loopback socket: /metrics returns the registry's
 * exposition with the Prometheus content type, /healthz, /readyz (200 and 503 with the
 * reason), 404 and 405; start-up errors (bad address, port out of range, port in use).
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "te_http.h"

/* A port that was free a moment ago (bind to 0, read it, close). */
static int free_port(void)
{
        struct sockaddr_in sa;
        socklen_t len = sizeof sa;
        int fd = socket(AF_INET, SOCK_STREAM, 0);
        assert_true(fd >= 0);
        memset(&sa, 0, sizeof sa);
        sa.sin_family = AF_INET;
        sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof sa), 0);
        assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
        close(fd);
        return ntohs(sa.sin_port);
}

/* One HTTP/1.0 request; the whole response into buf. @returns its length. */
static size_t request(int port, const char *method, const char *path, char *buf,
                      size_t bufsz)
{
        struct sockaddr_in sa;
        int fd = socket(AF_INET, SOCK_STREAM, 0);
        assert_true(fd >= 0);
        memset(&sa, 0, sizeof sa);
        sa.sin_family = AF_INET;
        sa.sin_port = htons((uint16_t)port);
        sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof sa), 0);
        char req[256];
        int n =
            snprintf(req, sizeof req, "%s %s HTTP/1.0\r\nHost: t\r\n\r\n", method, path);
        assert_int_equal(write(fd, req, (size_t)n), n);
        size_t got = 0;
        ssize_t r;
        while (got + 1 < bufsz && (r = read(fd, buf + got, bufsz - 1 - got)) > 0)
                got += (size_t)r;
        buf[got] = '\0';
        close(fd);
        return got;
}

static int ready_flag;

static int ready_cb(void *arg, te_buf_t *why)
{
        assert_ptr_equal(arg, &ready_flag);
        if (!ready_flag)
                te_buf_puts(why, "kafka: not ok\n");
        return ready_flag;
}

typedef struct http_case_s {
        const char *method;
        const char *path;
        const char *status; /* status line prefix */
        const char *ctype;  /* Content-Type header value, NULL: not checked */
        const char *body;   /* exact body */
} http_case_t;

static void test_http_endpoints(void **state)
{
        (void)state;
        char errstr[256];
        te_metrics_t *reg = te_metrics_new();
        te_metric_t *c = te_metrics_counter(reg, "te_x_total", "X.", "topic");
        te_metric_add(c, TE_LV("a"), 3);
        int port = free_port();
        te_http_t *h = te_http_start("127.0.0.1", port, reg, ready_cb, &ready_flag,
                                     errstr, sizeof errstr);
        assert_non_null(h);
        assert_int_equal(te_http_port(h), port);

        static const http_case_t cases[] = {
            {"GET", "/metrics", "200", "text/plain; version=0.0.4; charset=utf-8",
             "# HELP te_x_total X.\n# TYPE te_x_total counter\nte_x_total{topic=\"a\"} "
             "3\n"},
            {"GET", "/healthz", "200", "text/plain; charset=utf-8", "ok\n"},
            {"GET", "/readyz", "503", NULL, "not ready\nkafka: not ok\n"},
            {"GET", "/nope", "404", NULL, "not found\n"},
            {"POST", "/metrics", "405", NULL, "method not allowed\n"},
            {"DELETE", "/healthz", "405", NULL, "method not allowed\n"},
        };
        char buf[8192];
        for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
                const http_case_t *k = &cases[i];
                request(port, k->method, k->path, buf, sizeof buf);
                const char *body = strstr(buf, "\r\n\r\n");
                int ok = strncmp(buf, "HTTP/1.", 7) == 0 &&
                         strncmp(buf + 9, k->status, 3) == 0 && body &&
                         strcmp(body + 4, k->body) == 0;
                if (ok && k->ctype) {
                        char hdr[160];
                        snprintf(hdr, sizeof hdr, "Content-Type: %s\r\n", k->ctype);
                        ok = strstr(buf, hdr) != NULL;
                }
                if (!ok) {
                        print_error("case %zu (%s %s):\n%s\n", i, k->method, k->path,
                                    buf);
                        fail();
                }
        }
        ready_flag = 1;
        request(port, "GET", "/readyz", buf, sizeof buf);
        assert_int_equal(strncmp(buf + 9, "200", 3), 0);
        assert_non_null(strstr(buf, "\r\n\r\nready\n"));

        /* the same port again: refused, with a reason */
        te_http_t *h2 =
            te_http_start("127.0.0.1", port, reg, NULL, NULL, errstr, sizeof errstr);
        assert_null(h2);
        assert_non_null(strstr(errstr, "address in use"));
        te_http_stop(h);
        te_http_stop(NULL);
        te_metrics_destroy(reg);
}

typedef struct start_case_s {
        const char *listen;
        int port;
        const char *why;
} start_case_t;

static void test_http_bad_start(void **state)
{
        (void)state;
        static const start_case_t cases[] = {
            {"localhost", 9999, "not an IPv4/IPv6 address"},
            {"300.1.1.1", 9999, "not an IPv4/IPv6 address"},
            {"", 9999, "not an IPv4/IPv6 address"},
            {"127.0.0.1", 0, "out of range"},
            {"127.0.0.1", 65536, "out of range"},
            {"127.0.0.1", -1, "out of range"},
        };
        char errstr[256];
        te_metrics_t *reg = te_metrics_new();
        for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
                errstr[0] = '\0';
                te_http_t *h = te_http_start(cases[i].listen, cases[i].port, reg, NULL,
                                             NULL, errstr, sizeof errstr);
                if (h || !strstr(errstr, cases[i].why)) {
                        print_error("case %zu: %s\n", i, errstr);
                        te_http_stop(h);
                        fail();
                }
        }
        te_metrics_destroy(reg);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_http_endpoints),
            cmocka_unit_test(test_http_bad_start),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
