/*
 * exec-devstack-ctl: client of exec-devstack's control socket.
 *
 *   exec-devstack-ctl -c CTL_SOCKET [-t TIMEOUT_MS] COMMAND [ARG...]
 *       sends "COMMAND ARG..." as one line, prints the reply line;
 *   exec-devstack-ctl -c CTL_SOCKET [-t TIMEOUT_MS]
 *       sends stdin as it is, and prints one reply line for every line sent
 *       (a last line without a newline is terminated).
 *
 * Exit status: 0 if every reply was "ok ...", 1 if any was "err ...", 2 on usage,
 * connection or timeout errors.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "te_buf.h"
#include "te_cfgtab.h"
#include "te_proc.h"

#define CTL_PROC      "exec-devstack-ctl"
#define CTL_REPLY_MAX 1024
#define CTL_CMD_MAX   4096

typedef struct ctl_conn_s {
        int fd;
        int timeout_ms;
        char in[CTL_REPLY_MAX]; /* received, not yet returned */
        size_t in_len;
} ctl_conn_t;

/** @returns 0, or -1 with errstr. */
static int conn_open(ctl_conn_t *c, const char *path, char *errstr, size_t errstr_size)
{
        struct sockaddr_un sa;

        memset(&sa, 0, sizeof sa);
        sa.sun_family = AF_UNIX;
        if (te_strlcpy(sa.sun_path, path, sizeof sa.sun_path) != 0) {
                snprintf(errstr, errstr_size, "%s: socket path too long", path);
                return -1;
        }
        c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (c->fd < 0) {
                snprintf(errstr, errstr_size, "socket: %s", strerror(errno));
                return -1;
        }
        if (connect(c->fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
                snprintf(errstr, errstr_size, "%s: connect: %s", path, strerror(errno));
                close(c->fd);
                c->fd = -1;
                return -1;
        }
        return 0;
}

/** @returns 0, or -1 with errstr. */
static int conn_send(ctl_conn_t *c, const char *p, size_t n, char *errstr,
                     size_t errstr_size)
{
        while (n > 0) {
                ssize_t w = send(c->fd, p, n, MSG_NOSIGNAL);
                if (w < 0 && errno == EINTR)
                        continue;
                if (w < 0) {
                        snprintf(errstr, errstr_size, "send: %s", strerror(errno));
                        return -1;
                }
                p += w;
                n -= (size_t)w;
        }
        return 0;
}

/** Read one reply line (without newline) into `out`.
 *  @returns 0, or -1 with errstr on timeout, EOF or a line longer than outsz-1. */
static int conn_read_line(ctl_conn_t *c, char *out, size_t outsz, char *errstr,
                          size_t errstr_size)
{
        int64_t deadline = te_proc_mono_ms() + c->timeout_ms;

        for (;;) {
                char *nl = memchr(c->in, '\n', c->in_len);
                struct pollfd pfd = {.fd = c->fd, .events = POLLIN};
                int64_t left;
                ssize_t r;

                if (nl != NULL) {
                        size_t n = (size_t)(nl - c->in);
                        if (n >= outsz) {
                                snprintf(errstr, errstr_size, "reply too long");
                                return -1;
                        }
                        memcpy(out, c->in, n);
                        out[n] = '\0';
                        c->in_len -= n + 1;
                        memmove(c->in, nl + 1, c->in_len);
                        return 0;
                }
                if (c->in_len == sizeof c->in) {
                        snprintf(errstr, errstr_size, "reply too long");
                        return -1;
                }
                left = deadline - te_proc_mono_ms();
                if (left <= 0) {
                        snprintf(errstr, errstr_size, "no reply within %d ms",
                                 c->timeout_ms);
                        return -1;
                }
                if (poll(&pfd, 1, (int)left) <= 0)
                        continue;
                r = recv(c->fd, c->in + c->in_len, sizeof c->in - c->in_len, 0);
                if (r < 0 && errno == EINTR)
                        continue;
                if (r <= 0) {
                        snprintf(errstr, errstr_size, "connection closed before a reply");
                        return -1;
                }
                c->in_len += (size_t)r;
        }
}

/** Wait for and print one reply. @returns 0 (ok), 1 (err reply) or 2 (failure). */
static int expect_reply(ctl_conn_t *c)
{
        char reply[CTL_REPLY_MAX];
        char errstr[256];

        if (conn_read_line(c, reply, sizeof reply, errstr, sizeof errstr) != 0) {
                fprintf(stderr, CTL_PROC ": %s\n", errstr);
                return 2;
        }
        printf("%s\n", reply);
        fflush(stdout);
        return strncmp(reply, "ok", 2) == 0 && (reply[2] == '\0' || reply[2] == ' ') ? 0
                                                                                     : 1;
}

/** Forward stdin byte for byte; one reply per newline. @returns the exit status. */
static int run_stdin(ctl_conn_t *c)
{
        char buf[CTL_CMD_MAX];
        char errstr[256];
        int worst = 0, pending = 0;
        ssize_t n;

        while ((n = read(STDIN_FILENO, buf, sizeof buf)) != 0) {
                size_t start = 0;
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0) {
                        fprintf(stderr, CTL_PROC ": stdin: %s\n", strerror(errno));
                        return 2;
                }
                for (size_t i = 0; i < (size_t)n; i++) {
                        int r;
                        if (buf[i] != '\n')
                                continue;
                        if (conn_send(c, buf + start, i + 1 - start, errstr,
                                      sizeof errstr) != 0) {
                                fprintf(stderr, CTL_PROC ": %s\n", errstr);
                                return 2;
                        }
                        start = i + 1;
                        pending = 0;
                        r = expect_reply(c);
                        if (r == 2)
                                return 2;
                        if (r > worst)
                                worst = r;
                }
                if (start < (size_t)n) {
                        if (conn_send(c, buf + start, (size_t)n - start, errstr,
                                      sizeof errstr) != 0) {
                                fprintf(stderr, CTL_PROC ": %s\n", errstr);
                                return 2;
                        }
                        pending = 1;
                }
        }
        if (pending) {
                int r;
                if (conn_send(c, "\n", 1, errstr, sizeof errstr) != 0) {
                        fprintf(stderr, CTL_PROC ": %s\n", errstr);
                        return 2;
                }
                r = expect_reply(c);
                if (r > worst)
                        worst = r;
        }
        return worst;
}

static void usage(FILE *fp)
{
        fprintf(fp,
                "usage: " CTL_PROC " -c CTL_SOCKET [-t TIMEOUT_MS] [COMMAND [ARG...]]\n"
                "  without COMMAND, stdin lines are sent and one reply per line printed\n"
                "  exit: 0 all ok, 1 an err reply, 2 usage/connection/timeout error\n");
}

int main(int argc, char **argv)
{
        ctl_conn_t conn = {.fd = -1, .timeout_ms = 5000};
        const char *path = NULL;
        char errstr[512];
        int opt, rc;

        if (argc == 2 && strcmp(argv[1], "--version") == 0) {
                te_proc_print_version(stdout, CTL_PROC);
                return 0;
        }
        opterr = 0; /* te_tool_bad_opt names a bad flag in one line */
        while ((opt = getopt(argc, argv, "+c:t:h")) != -1) {
                switch (opt) {
                case 'c':
                        path = optarg;
                        break;
                case 't': {
                        char *end = NULL;
                        long v;
                        errno = 0;
                        v = strtol(optarg, &end, 10);
                        if (errno != 0 || end == optarg || *end != '\0' || v < 1 ||
                            v > 600000) {
                                fprintf(stderr, CTL_PROC ": -t: need ms in 1..600000\n");
                                return 2;
                        }
                        conn.timeout_ms = (int)v;
                        break;
                }
                case 'h':
                        usage(stdout);
                        return 0;
                default:
                        te_tool_bad_opt(CTL_PROC, argv, "c:t:h");
                        return 2;
                }
        }
        if (path == NULL) {
                usage(stderr);
                return 2;
        }
        if (conn_open(&conn, path, errstr, sizeof errstr) != 0) {
                fprintf(stderr, CTL_PROC ": %s\n", errstr);
                return 2;
        }
        if (optind == argc) {
                rc = run_stdin(&conn);
        } else {
                te_buf_t line;
                int too_long = 0;
                te_buf_init(&line, CTL_CMD_MAX);
                for (int i = optind; i < argc && !too_long; i++)
                        too_long = (i > optind && te_buf_puts(&line, " ") != 0) ||
                                   te_buf_puts(&line, argv[i]) != 0;
                if (too_long || te_buf_puts(&line, "\n") != 0) {
                        fprintf(stderr, CTL_PROC ": command longer than %d bytes\n",
                                CTL_CMD_MAX);
                        rc = 2;
                } else if (conn_send(&conn, (const char *)line.data, line.len, errstr,
                                     sizeof errstr) != 0) {
                        fprintf(stderr, CTL_PROC ": %s\n", errstr);
                        rc = 2;
                } else {
                        rc = expect_reply(&conn);
                }
                te_buf_free(&line);
        }
        close(conn.fd);
        return rc;
}
