/*
 * test_devstack_ctl: the dev stack's control protocol. Parsing, table-driven: every
 * command well formed, and malformed lines (unknown or empty, wrong argument counts,
 * numbers out of range or not whole, signs, overflow, unknown error names, bad topic
 * names, control bytes, a trailing CR) each with the exact "err" reply the server
 * sends. Line assembly: lines split over reads, a line without its newline, and an
 * oversized line skipped to its newline without losing the next one. Formatting of a
 * request (too long refused), reply classes, help from the one command table, and a
 * client reading replies over a socket pair (split, too long, closed, timed out) and
 * calling a forked one-request server.
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
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "devstack_ctl.h"
#include "te_buf.h"

static int parse(const char *text, int n_brokers, te_dsctl_req_t *rq, char *reply,
                 size_t replysz)
{
        static char line[TE_DSCTL_LINE_MAX + 1]; /* rq->topic points into it */
        size_t n = strlen(text);
        assert_true(n <= TE_DSCTL_LINE_MAX);
        memcpy(line, text, n);
        reply[0] = '\0';
        return te_dsctl_parse(line, n, n_brokers, rq, reply, replysz);
}

static void test_parse_good(void **state)
{
        (void)state;
        te_dsctl_req_t rq;
        char reply[TE_DSCTL_REPLY_MAX];

        assert_int_equal(parse("ping", 3, &rq, reply, sizeof reply), 0);
        assert_int_equal(rq.cmd, TE_DSCTL_PING);
        assert_int_equal(parse(" \thelp \r", 3, &rq, reply, sizeof reply), 0);
        assert_int_equal(rq.cmd, TE_DSCTL_HELP);
        assert_int_equal(parse("broker_down 3", 3, &rq, reply, sizeof reply), 0);
        assert_int_equal(rq.cmd, TE_DSCTL_BROKER_DOWN);
        assert_int_equal(rq.broker, 3);
        assert_int_equal(parse("broker_up\t1", 3, &rq, reply, sizeof reply), 0);
        assert_int_equal(rq.cmd, TE_DSCTL_BROKER_UP);
        assert_int_equal(rq.broker, 1);
        assert_int_equal(parse("rtt 2 60000", 3, &rq, reply, sizeof reply), 0);
        assert_int_equal(rq.cmd, TE_DSCTL_RTT);
        assert_int_equal(rq.broker, 2);
        assert_int_equal(rq.ms, 60000);
        assert_int_equal(parse("rtt 1 0", 1, &rq, reply, sizeof reply), 0);
        assert_int_equal(rq.ms, 0);
        assert_int_equal(parse("request_errors 0 NOT_LEADER_FOR_PARTITION 1000", 1, &rq,
                               reply, sizeof reply),
                         0);
        assert_int_equal(rq.cmd, TE_DSCTL_REQUEST_ERRORS);
        assert_int_equal(rq.api_key, 0);
        assert_int_equal(rq.err, RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION);
        assert_int_equal(rq.count, 1000);
        assert_int_equal(parse("request_errors 32767 6 1", 1, &rq, reply, sizeof reply),
                         0);
        assert_int_equal(rq.api_key, 32767);
        assert_int_equal(rq.err, 6);
        assert_int_equal(
            parse("request_errors 1 _TRANSPORT 2", 1, &rq, reply, sizeof reply), 0);
        assert_int_equal(rq.err, RD_KAFKA_RESP_ERR__TRANSPORT);
        assert_int_equal(parse("topic_error any.topic 0", 1, &rq, reply, sizeof reply),
                         0);
        assert_int_equal(rq.cmd, TE_DSCTL_TOPIC_ERROR);
        assert_string_equal(rq.topic, "any.topic");
        assert_int_equal(rq.err, RD_KAFKA_RESP_ERR_NO_ERROR);
        assert_int_equal(
            parse("create_topic bt.r-1_x.targets 1024", 1, &rq, reply, sizeof reply), 0);
        assert_int_equal(rq.cmd, TE_DSCTL_CREATE_TOPIC);
        assert_string_equal(rq.topic, "bt.r-1_x.targets");
        assert_int_equal(rq.partitions, 1024);
}

static void test_parse_malformed(void **state)
{
        (void)state;
        static const struct {
                const char *line;
                const char *reply;
        } cases[] = {
            {"", "err empty line"},
            {" \t ", "err empty line"},
            {"\r", "err empty line"},
            {"pong", "err unknown command (try help)"},
            {"PING", "err unknown command (try help)"},
            {"ping extra", "err usage: ping"},
            {"help me", "err usage: help"},
            {"broker_down", "err usage: broker_down <id>"},
            {"broker_up 1 2", "err usage: broker_up <id>"},
            {"rtt 1", "err usage: rtt <id> <ms>"},
            {"request_errors 0 6", "err usage: request_errors <api_key> <err> <count>"},
            {"request_errors 0 6 1 2 3 4", /* words past five are not even split */
             "err usage: request_errors <api_key> <err> <count>"},
            {"topic_error t", "err usage: topic_error <topic> <err>"},
            {"create_topic t", "err usage: create_topic <name> <partitions>"},
            {"broker_down 0", "err broker id must be an integer in 1..3"},
            {"broker_down 4", "err broker id must be an integer in 1..3"},
            {"broker_down +1", "err broker id must be an integer in 1..3"},
            {"broker_down 1x", "err broker id must be an integer in 1..3"},
            {"broker_down 0x1", "err broker id must be an integer in 1..3"},
            {"rtt 1 -1", "err rtt ms must be an integer in 0..60000"},
            {"rtt 1 60001", "err rtt ms must be an integer in 0..60000"},
            {"rtt 1 99999999999999999999", "err rtt ms must be an integer in 0..60000"},
            {"rtt x 5", "err broker id must be an integer in 1..3"},
            {"request_errors -1 6 1", "err api_key must be an integer in 0..32767"},
            {"request_errors 32768 6 1", "err api_key must be an integer in 0..32767"},
            {"request_errors 0 NOPE 1", "err unknown error code"},
            {"request_errors 0 123456 1", "err unknown error code"},
            {"request_errors 0 6 0", "err count must be an integer in 1..1000"},
            {"request_errors 0 6 1001", "err count must be an integer in 1..1000"},
            {"topic_error t NOPE", "err unknown error code"},
            {"create_topic bad/name 1", "err bad topic name"},
            {"create_topic .. 1", "err bad topic name"},
            {"create_topic t 0", "err partitions must be an integer in 1..1024"},
            {"create_topic t 1025", "err partitions must be an integer in 1..1024"},
            {"ping\x01", "err non-printable byte at offset 4"},
            {"\x7f", "err non-printable byte at offset 0"},
            {"rtt 1 5\r\r", "err non-printable byte at offset 7"},
            {"caf\xc3\xa9", "err non-printable byte at offset 3"},
        };
        for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
                te_dsctl_req_t rq;
                char reply[TE_DSCTL_REPLY_MAX];
                if (parse(cases[i].line, 3, &rq, reply, sizeof reply) != -1 ||
                    strcmp(reply, cases[i].reply) != 0)
                        fail_msg("case %zu '%s': \"%s\", want \"%s\"", i, cases[i].line,
                                 reply, cases[i].reply);
        }
}

static void test_parse_long_topic_and_small_reply(void **state)
{
        (void)state;
        te_dsctl_req_t rq;
        char reply[TE_DSCTL_REPLY_MAX], line[TE_DSCTL_LINE_MAX + 1];
        char name[TE_DSCTL_TOPIC_MAX + 2];
        memset(name, 'a', sizeof name - 1);
        name[TE_DSCTL_TOPIC_MAX] = '\0'; /* 249: the longest legal name */
        assert_int_equal(te_dsctl_topic_name_ok(name), 1);
        name[TE_DSCTL_TOPIC_MAX] = 'a'; /* 250 */
        name[TE_DSCTL_TOPIC_MAX + 1] = '\0';
        assert_int_equal(te_dsctl_topic_name_ok(name), 0);
        /* the longest that fits a request line: 256 - "create_topic " - " 1" */
        memset(line, 'b', sizeof line);
        memcpy(line, "create_topic ", 13);
        memcpy(line + TE_DSCTL_LINE_MAX - 2, " 1", 2);
        line[TE_DSCTL_LINE_MAX] = '\0';
        assert_int_equal(parse(line, 1, &rq, reply, sizeof reply), 0);
        assert_int_equal(strlen(rq.topic), TE_DSCTL_LINE_MAX - 15);
        /* a reply buffer too small is cut, never overrun */
        char tiny[8];
        memset(tiny, 'x', sizeof tiny);
        assert_int_equal(parse("nope", 1, &rq, tiny, sizeof tiny), -1);
        assert_string_equal(tiny, "err unk");
}

static void test_help(void **state)
{
        (void)state;
        char reply[TE_DSCTL_REPLY_MAX];
        te_dsctl_req_t rq;
        te_dsctl_help(reply, sizeof reply);
        assert_string_equal(reply, "ok ping; help; broker_down <id>; broker_up <id>; "
                                   "rtt <id> <ms>; request_errors <api_key> <err> "
                                   "<count>; topic_error <topic> <err>; create_topic "
                                   "<name> <partitions>");
        /* every usage line names its command and as many arguments as it takes */
        for (int i = 0; i < TE_DSCTL__CNT; i++) {
                const te_dsctl_def_t *d = &te_dsctl_cmds[i];
                size_t words = 1;
                for (const char *p = d->usage; *p; p++)
                        words += *p == ' ';
                assert_int_equal(words, strlen(d->args) + 1);
                assert_memory_equal(d->usage, d->name, strlen(d->name));
                char e[64];
                snprintf(e, sizeof e, "%s%s", d->name, d->args[0] ? "" : " x");
                assert_int_equal(parse(e, 1, &rq, reply, sizeof reply), -1);
                assert_non_null(strstr(reply, "err usage: "));
        }
        char small[20];
        te_dsctl_help(small, sizeof small);
        assert_string_equal(small, "ok ping; help; brok");
}

/* feed text; return the lines completed, joined by '|', overflowed lines as "<long>" */
static void feed(te_dsctl_line_t *l, const char *text, size_t n, char *out, size_t outsz)
{
        out[0] = '\0';
        for (size_t i = 0; i < n; i++) {
                if (!te_dsctl_line_feed(l, text[i]))
                        continue;
                char one[TE_DSCTL_LINE_MAX + 2];
                if (l->overflow)
                        snprintf(one, sizeof one, "<long>|");
                else
                        snprintf(one, sizeof one, "%.*s|", (int)l->len, l->buf);
                strncat(out, one, outsz - strlen(out) - 1);
                te_dsctl_line_reset(l);
        }
}

static void test_lines(void **state)
{
        (void)state;
        te_dsctl_line_t l;
        char out[2048];
        te_dsctl_line_reset(&l);
        feed(&l, "ping\nrtt 1", 10, out, sizeof out);
        assert_string_equal(out, "ping|");
        assert_int_equal(l.len, 5); /* the rest waits for its newline */
        feed(&l, " 5\n\n", 4, out, sizeof out);
        assert_string_equal(out, "rtt 1 5||");
        /* exactly TE_DSCTL_LINE_MAX bytes fit; one more is too long */
        char big[TE_DSCTL_LINE_MAX * 3];
        memset(big, 'x', sizeof big);
        big[TE_DSCTL_LINE_MAX] = '\n';
        feed(&l, big, TE_DSCTL_LINE_MAX + 1, out, sizeof out);
        assert_int_equal(strlen(out), TE_DSCTL_LINE_MAX + 1);
        assert_int_equal(l.overflow, 0);
        big[TE_DSCTL_LINE_MAX] = 'x';
        big[TE_DSCTL_LINE_MAX * 2 + 10] = '\n';
        memcpy(big + TE_DSCTL_LINE_MAX * 2 + 11, "ping\n", 5);
        feed(&l, big, TE_DSCTL_LINE_MAX * 2 + 16, out, sizeof out);
        assert_string_equal(out, "<long>|ping|"); /* one answer, the next line intact */
        /* an oversized line still unfinished keeps its flag until its newline */
        feed(&l, big, TE_DSCTL_LINE_MAX + 5, out, sizeof out);
        assert_string_equal(out, "");
        assert_int_equal(l.overflow, 1);
        assert_int_equal(l.len, TE_DSCTL_LINE_MAX);
        feed(&l, "tail\nhelp\n", 10, out, sizeof out);
        assert_string_equal(out, "<long>|help|");
}

static void test_format_and_replies(void **state)
{
        (void)state;
        char out[32];
        const char *w[] = {"create_topic", "bt.x.targets", "8"};
        assert_int_equal(te_dsctl_format(out, sizeof out, 3, w), 28);
        assert_string_equal(out, "create_topic bt.x.targets 8\n");
        assert_int_equal(te_dsctl_format(out, 29, 3, w), 28);
        assert_int_equal(te_dsctl_format(out, 28, 3, w), -1); /* no room for the NUL */
        assert_int_equal(te_dsctl_format(out, 10, 3, w), -1);
        assert_int_equal(te_dsctl_format(out, sizeof out, 0, w), 1);
        assert_string_equal(out, "\n");
        assert_int_equal(te_dsctl_reply_ok("ok"), 1);
        assert_int_equal(te_dsctl_reply_ok("ok pong"), 1);
        assert_int_equal(te_dsctl_reply_ok("okay"), 0);
        assert_int_equal(te_dsctl_reply_ok("err ok"), 0);
        assert_int_equal(te_dsctl_reply_ok(""), 0);
        assert_int_equal(te_dsctl_reply_ok("OK"), 0);
}

static void test_client_reads(void **state)
{
        (void)state;
        int sv[2];
        char out[64], err[128];
        te_dsctl_conn_t c;
        assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
        memset(&c, 0, sizeof c);
        c.fd = sv[0];
        c.timeout_ms = 200;
        /* two replies in one read, the second split over two */
        assert_int_equal(write(sv[1], "ok pong\nerr x", 13), 13);
        assert_int_equal(te_dsctl_read_line(&c, out, sizeof out, err, sizeof err), 0);
        assert_string_equal(out, "ok pong");
        assert_int_equal(write(sv[1], "y\n", 2), 2);
        assert_int_equal(te_dsctl_read_line(&c, out, sizeof out, err, sizeof err), 0);
        assert_string_equal(out, "err xy");
        /* nothing comes: timed out */
        assert_int_equal(te_dsctl_read_line(&c, out, sizeof out, err, sizeof err), -1);
        assert_string_equal(err, "no reply within 200 ms");
        /* longer than the caller's buffer */
        char lng[100];
        memset(lng, 'o', sizeof lng);
        lng[99] = '\n';
        assert_int_equal(write(sv[1], lng, sizeof lng), (ssize_t)sizeof lng);
        assert_int_equal(te_dsctl_read_line(&c, out, sizeof out, err, sizeof err), -1);
        assert_string_equal(err, "reply too long");
        c.in_len = 0;
        /* longer than the receive buffer, no newline */
        char huge[TE_DSCTL_CLIENT_REPLY + 10];
        memset(huge, 'h', sizeof huge);
        assert_int_equal(write(sv[1], huge, sizeof huge), (ssize_t)sizeof huge);
        char big[TE_DSCTL_CLIENT_REPLY * 2];
        assert_int_equal(te_dsctl_read_line(&c, big, sizeof big, err, sizeof err), -1);
        assert_string_equal(err, "reply too long");
        c.in_len = 0;
        /* closed before the newline of a reply */
        char drain[64];
        while (recv(sv[0], drain, sizeof drain, MSG_DONTWAIT) > 0)
                ;
        assert_int_equal(write(sv[1], "ok trunc", 8), 8);
        close(sv[1]);
        assert_int_equal(te_dsctl_read_line(&c, out, sizeof out, err, sizeof err), -1);
        assert_string_equal(err, "connection closed before a reply");
        te_dsctl_close(&c);
        assert_int_equal(c.fd, -1);
}

/* A one-request server in a child: read a line, answer `reply`, exit. */
static pid_t serve_once(const char *path, const char *reply, int *lfd)
{
        struct sockaddr_un sa;
        memset(&sa, 0, sizeof sa);
        sa.sun_family = AF_UNIX;
        te_strlcpy(sa.sun_path, path, sizeof sa.sun_path);
        *lfd = socket(AF_UNIX, SOCK_STREAM, 0);
        assert_true(*lfd >= 0);
        assert_int_equal(bind(*lfd, (struct sockaddr *)&sa, sizeof sa), 0);
        assert_int_equal(listen(*lfd, 1), 0);
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
                char buf[512], got[600];
                size_t n = 0;
                int fd = accept(*lfd, NULL, NULL);
                ssize_t r;
                while (fd >= 0 && n < sizeof buf && (r = read(fd, buf + n, 1)) == 1)
                        if (buf[n++] == '\n')
                                break;
                /* the answer says what arrived, so the test sees the request */
                int k = snprintf(got, sizeof got, "%s [%.*s]\n", reply,
                                 (int)(n ? n - 1 : 0), buf);
                if (fd >= 0 && k > 0)
                        (void)!write(fd, got, (size_t)k);
                _exit(0);
        }
        return pid;
}

static void test_call(void **state)
{
        (void)state;
        char dir[] = "/tmp/te-dsctl-XXXXXX", path[64], reply[256], err[256];
        int lfd, st;
        assert_non_null(mkdtemp(dir));
        snprintf(path, sizeof path, "%s/ctl", dir);
        const char *w[] = {"create_topic", "t.x", "3"};

        pid_t pid = serve_once(path, "ok create_topic t.x 3", &lfd);
        assert_int_equal(
            te_dsctl_call(path, 5000, 3, w, reply, sizeof reply, err, sizeof err), 1);
        assert_string_equal(reply, "ok create_topic t.x 3 [create_topic t.x 3]");
        assert_int_equal(waitpid(pid, &st, 0), pid);
        close(lfd);
        unlink(path);

        pid = serve_once(path, "err topic t.x already exists", &lfd);
        assert_int_equal(
            te_dsctl_call(path, 5000, 3, w, reply, sizeof reply, err, sizeof err), 0);
        assert_string_equal(reply, "err topic t.x already exists [create_topic t.x 3]");
        assert_int_equal(waitpid(pid, &st, 0), pid);
        close(lfd);
        unlink(path);

        /* nobody listens; a request over the line limit is not sent */
        assert_int_equal(
            te_dsctl_call(path, 100, 3, w, reply, sizeof reply, err, sizeof err), -1);
        assert_non_null(strstr(err, "connect"));
        char lng[TE_DSCTL_LINE_MAX];
        memset(lng, 'a', sizeof lng - 1);
        lng[sizeof lng - 1] = '\0';
        const char *w2[] = {"create_topic", lng, "1"};
        assert_int_equal(
            te_dsctl_call(path, 100, 3, w2, reply, sizeof reply, err, sizeof err), -1);
        assert_string_equal(err, "request longer than 256 bytes");
        rmdir(dir);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_parse_good),
            cmocka_unit_test(test_parse_malformed),
            cmocka_unit_test(test_parse_long_topic_and_small_reply),
            cmocka_unit_test(test_help),
            cmocka_unit_test(test_lines),
            cmocka_unit_test(test_format_and_replies),
            cmocka_unit_test(test_client_reads),
            cmocka_unit_test(test_call),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
