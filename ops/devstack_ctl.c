/*
 * devstack_ctl: the dev stack's control protocol, its command table, the server's
 * parsing and line assembly, the clients' formatting and connection (devstack_ctl.h).
 */
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "devstack_ctl.h"
#include "te_buf.h"
#include "te_proc.h"

const te_dsctl_def_t te_dsctl_cmds[TE_DSCTL__CNT] = {
    [TE_DSCTL_PING] = {"ping", "", "ping"},
    [TE_DSCTL_HELP] = {"help", "", "help"},
    [TE_DSCTL_BROKER_DOWN] = {"broker_down", "b", "broker_down <id>"},
    [TE_DSCTL_BROKER_UP] = {"broker_up", "b", "broker_up <id>"},
    [TE_DSCTL_RTT] = {"rtt", "bm", "rtt <id> <ms>"},
    [TE_DSCTL_REQUEST_ERRORS] = {"request_errors", "aec",
                                 "request_errors <api_key> <err> <count>"},
    [TE_DSCTL_TOPIC_ERROR] = {"topic_error", "Te", "topic_error <topic> <err>"},
    [TE_DSCTL_CREATE_TOPIC] = {"create_topic", "tp", "create_topic <name> <partitions>"},
};

/* ---- server: parsing ------------------------------------------------------------ */

int te_dsctl_parse_long(const char *s, long min, long max, long *out)
{
        char *end = NULL;
        long v;

        if (*s == '\0' || *s == ' ' || *s == '\t' || *s == '+')
                return -1;
        errno = 0;
        v = strtol(s, &end, 10);
        if (errno != 0 || end == s || *end != '\0' || v < min || v > max)
                return -1;
        *out = v;
        return 0;
}

int te_dsctl_topic_name_ok(const char *s)
{
        size_t n = strlen(s);

        if (n == 0 || n > TE_DSCTL_TOPIC_MAX || strcmp(s, ".") == 0 ||
            strcmp(s, "..") == 0)
                return 0;
        for (size_t i = 0; i < n; i++) {
                char c = s[i];
                if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                      (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-'))
                        return 0;
        }
        return 1;
}

/* An error code given as a number or as librdkafka's name for it ("_TRANSPORT",
 * "NOT_LEADER_FOR_PARTITION"). @returns 0, or -1 if it names no known code. */
static int parse_err(const char *s, rd_kafka_resp_err_t *out)
{
        const struct rd_kafka_err_desc *descs;
        size_t cnt;
        long num;
        int by_num = te_dsctl_parse_long(s, INT_MIN, INT_MAX, &num) == 0;

        rd_kafka_get_err_descs(&descs, &cnt);
        for (size_t i = 0; i < cnt; i++) {
                if (descs[i].name == NULL)
                        continue;
                if ((by_num && (long)descs[i].code == num) ||
                    (!by_num && strcmp(descs[i].name, s) == 0)) {
                        *out = descs[i].code;
                        return 0;
                }
        }
        return -1;
}

/* Write "err " and the message. @returns -1. */
__attribute__((format(printf, 3, 4))) static int refuse(char *reply, size_t replysz,
                                                        const char *fmt, ...)
{
        va_list ap;
        int n = snprintf(reply, replysz, "err ");

        va_start(ap, fmt);
        if (n > 0 && (size_t)n < replysz)
                vsnprintf(reply + n, replysz - (size_t)n, fmt, ap);
        va_end(ap);
        return -1;
}

/* The numeric argument kinds: the name in the reply, the range (a broker id's top is
 * the cluster's broker count) and the field of the request. */
static const struct num_arg_s {
        char kind;
        const char *what;
        long min, max;
        size_t field;
} num_args[] = {
    {'b', "broker id", 1, 0, offsetof(te_dsctl_req_t, broker)},
    {'m', "rtt ms", 0, TE_DSCTL_RTT_MAX_MS, offsetof(te_dsctl_req_t, ms)},
    {'a', "api_key", 0, INT16_MAX, offsetof(te_dsctl_req_t, api_key)},
    {'c', "count", 1, TE_DSCTL_MAX_ERR_PUSH, offsetof(te_dsctl_req_t, count)},
    {'p', "partitions", 1, TE_DSCTL_MAX_PARTS, offsetof(te_dsctl_req_t, partitions)},
};

/* One argument of kind `kind` into req. @returns 0, or -1 with the reply. */
static int parse_arg(char kind, const char *s, int n_brokers, te_dsctl_req_t *req,
                     char *reply, size_t replysz)
{
        long v;

        if (kind == 'e' && parse_err(s, &req->err) != 0)
                return refuse(reply, replysz, "unknown error code");
        if (kind == 't' && !te_dsctl_topic_name_ok(s))
                return refuse(reply, replysz, "bad topic name");
        if (kind == 't' || kind == 'T') /* 'T': the server knows its topics */
                req->topic = s;
        for (size_t i = 0; i < sizeof num_args / sizeof num_args[0]; i++) {
                const struct num_arg_s *n = &num_args[i];
                long max = n->kind == 'b' ? n_brokers : n->max;
                if (n->kind != kind)
                        continue;
                if (te_dsctl_parse_long(s, n->min, max, &v) != 0)
                        return refuse(reply, replysz, "%s must be an integer in %ld..%ld",
                                      n->what, n->min, max);
                *(int *)((char *)req + n->field) = (int)v;
        }
        return 0;
}

int te_dsctl_parse(char *line, size_t len, int n_brokers, te_dsctl_req_t *req,
                   char *reply, size_t replysz)
{
        char *w[TE_DSCTL_MAX_WORDS];
        char *save = NULL, *tok;
        int n = 0;

        memset(req, 0, sizeof *req);
        if (len > 0 && line[len - 1] == '\r')
                len--;
        for (size_t i = 0; i < len; i++) {
                unsigned char c = (unsigned char)line[i];
                if ((c < 0x20 && c != '\t') || c >= 0x7f)
                        return refuse(reply, replysz, "non-printable byte at offset %zu",
                                      i);
        }
        line[len] = '\0';
        for (tok = strtok_r(line, " \t", &save); tok != NULL && n < TE_DSCTL_MAX_WORDS;
             tok = strtok_r(NULL, " \t", &save))
                w[n++] = tok;
        if (n == 0)
                return refuse(reply, replysz, "empty line");
        for (int i = 0; i < TE_DSCTL__CNT; i++) {
                const te_dsctl_def_t *d = &te_dsctl_cmds[i];
                if (strcmp(w[0], d->name) != 0)
                        continue;
                if ((size_t)n != strlen(d->args) + 1)
                        return refuse(reply, replysz, "usage: %s", d->usage);
                req->cmd = (te_dsctl_cmd_t)i;
                for (int k = 1; k < n; k++)
                        if (parse_arg(d->args[k - 1], w[k], n_brokers, req, reply,
                                      replysz) != 0)
                                return -1;
                return 0;
        }
        return refuse(reply, replysz, "unknown command (try help)");
}

void te_dsctl_help(char *reply, size_t replysz)
{
        size_t off = (size_t)snprintf(reply, replysz, "ok");

        for (int i = 0; i < TE_DSCTL__CNT && off < replysz; i++)
                off += (size_t)snprintf(reply + off, replysz - off, " %s%s",
                                        te_dsctl_cmds[i].usage,
                                        i + 1 < TE_DSCTL__CNT ? ";" : "");
}

/* ---- server: lines -------------------------------------------------------------- */

int te_dsctl_line_feed(te_dsctl_line_t *l, char ch)
{
        if (ch == '\n')
                return 1;
        if (l->overflow)
                return 0;
        if (l->len == TE_DSCTL_LINE_MAX)
                l->overflow = 1;
        else
                l->buf[l->len++] = ch;
        return 0;
}

void te_dsctl_line_reset(te_dsctl_line_t *l)
{
        l->len = 0;
        l->overflow = 0;
}

/* ---- clients -------------------------------------------------------------------- */

int te_dsctl_format(char *out, size_t outsz, int n, const char *const *words)
{
        size_t off = 0;

        for (int i = 0; i < n; i++) {
                int k = snprintf(out + off, outsz - off, "%s%s", i ? " " : "", words[i]);
                if (k < 0 || (size_t)k >= outsz - off)
                        return -1;
                off += (size_t)k;
        }
        if (off + 1 >= outsz)
                return -1;
        out[off++] = '\n';
        out[off] = '\0';
        return (int)off;
}

int te_dsctl_reply_ok(const char *reply)
{
        return strncmp(reply, "ok", 2) == 0 && (reply[2] == '\0' || reply[2] == ' ');
}

int te_dsctl_connect(te_dsctl_conn_t *c, const char *path, int timeout_ms, char *errstr,
                     size_t errsz)
{
        struct sockaddr_un sa;

        memset(c, 0, sizeof *c);
        c->timeout_ms = timeout_ms;
        memset(&sa, 0, sizeof sa);
        sa.sun_family = AF_UNIX;
        c->fd = -1;
        if (te_strlcpy(sa.sun_path, path, sizeof sa.sun_path) != 0) {
                snprintf(errstr, errsz, "%s: socket path too long", path);
                return -1;
        }
        c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (c->fd < 0) {
                snprintf(errstr, errsz, "socket: %s", strerror(errno));
                return -1;
        }
        if (connect(c->fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
                snprintf(errstr, errsz, "%s: connect: %s", path, strerror(errno));
                te_dsctl_close(c);
                return -1;
        }
        return 0;
}

int te_dsctl_send(te_dsctl_conn_t *c, const char *p, size_t n, char *errstr, size_t errsz)
{
        while (n > 0) {
                ssize_t w = send(c->fd, p, n, MSG_NOSIGNAL);
                if (w < 0 && errno == EINTR)
                        continue;
                if (w < 0) {
                        snprintf(errstr, errsz, "send: %s", strerror(errno));
                        return -1;
                }
                p += w;
                n -= (size_t)w;
        }
        return 0;
}

int te_dsctl_read_line(te_dsctl_conn_t *c, char *out, size_t outsz, char *errstr,
                       size_t errsz)
{
        int64_t deadline = te_proc_mono_ms() + c->timeout_ms;

        for (;;) {
                char *nl = memchr(c->in, '\n', c->in_len);
                struct pollfd pfd = {.fd = c->fd, .events = POLLIN};
                int64_t left = deadline - te_proc_mono_ms();
                ssize_t r;

                if (nl != NULL) {
                        size_t n = (size_t)(nl - c->in);
                        if (n >= outsz) {
                                snprintf(errstr, errsz, "reply too long");
                                return -1;
                        }
                        memcpy(out, c->in, n);
                        out[n] = '\0';
                        c->in_len -= n + 1;
                        memmove(c->in, nl + 1, c->in_len);
                        return 0;
                }
                if (c->in_len == sizeof c->in) {
                        snprintf(errstr, errsz, "reply too long");
                        return -1;
                }
                if (left <= 0) {
                        snprintf(errstr, errsz, "no reply within %d ms", c->timeout_ms);
                        return -1;
                }
                if (poll(&pfd, 1, (int)left) <= 0)
                        continue;
                r = recv(c->fd, c->in + c->in_len, sizeof c->in - c->in_len, 0);
                if (r < 0 && errno == EINTR)
                        continue;
                if (r <= 0) {
                        snprintf(errstr, errsz, "connection closed before a reply");
                        return -1;
                }
                c->in_len += (size_t)r;
        }
}

void te_dsctl_close(te_dsctl_conn_t *c)
{
        if (c->fd >= 0)
                close(c->fd);
        c->fd = -1;
}

int te_dsctl_call(const char *path, int timeout_ms, int n, const char *const *words,
                  char *reply, size_t replysz, char *errstr, size_t errsz)
{
        char line[TE_DSCTL_LINE_MAX + 2];
        te_dsctl_conn_t c;
        int len = te_dsctl_format(line, sizeof line, n, words);

        if (len < 0) {
                snprintf(errstr, errsz, "request longer than %d bytes",
                         TE_DSCTL_LINE_MAX);
                return -1;
        }
        if (te_dsctl_connect(&c, path, timeout_ms, errstr, errsz) != 0)
                return -1;
        int rc = te_dsctl_send(&c, line, (size_t)len, errstr, errsz) != 0 ||
                         te_dsctl_read_line(&c, reply, replysz, errstr, errsz) != 0
                     ? -1
                     : te_dsctl_reply_ok(reply);
        te_dsctl_close(&c);
        return rc;
}
