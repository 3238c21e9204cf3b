/*
 * exec-devstack-ctl: client of exec-devstack's control socket.
 *
 *   exec-devstack-ctl --ctl CTL_SOCKET [-t TIMEOUT_MS] COMMAND [ARG...]
 *       sends "COMMAND ARG..." as one line, prints the reply line;
 *   exec-devstack-ctl --ctl CTL_SOCKET [-t TIMEOUT_MS]
 *       sends stdin as it is, and prints one reply line for every line sent
 *       (a last line without a newline is terminated).
 *
 * Settings as every tool: ctl.socket (--ctl) and timeout.ms (-t) from -c FILE, EXEC_*
 * variables, -o KEY=VALUE, then the flags. -c once named the control socket: a -c that
 * is not a regular file is refused with a line naming --ctl.
 *
 * Exit status: 0 if every reply was "ok ...", 1 if any was "err ...", 2 on usage,
 * connection or timeout errors.
 */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
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

/* Settings: a config table like every tool's (-c FILE, -o KEY=VALUE, EXEC_*). */
typedef struct ctl_conf_s {
        char socket[108]; /* sun_path */
        int64_t timeout_ms;
} ctl_conf_t;

static const te_cfg_item_t ctl_items[] = {
    TE_CFG_S(ctl_conf_t, "ctl.socket", socket, "",
             "exec-devstack's control socket; required (--ctl)"),
    TE_CFG_I(ctl_conf_t, "timeout.ms", timeout_ms, "5000", 1, 600000,
             "wait this long for each reply (-t)"),
};
#define CTL_N_ITEMS (sizeof ctl_items / sizeof ctl_items[0])

static void usage(FILE *fp)
{
        fprintf(fp,
                "usage: " CTL_PROC " [-c CONFIG] [-o KEY=VALUE]... --ctl CTL_SOCKET "
                "[-t TIMEOUT_MS]\n"
                "                         [COMMAND [ARG...]]\n"
                "  without COMMAND, stdin lines are sent and one reply per line printed\n"
                "  -c CONFIG      key = value file (the keys below)\n"
                "  -o KEY=VALUE   set one key (repeatable); --ctl and -t win over it\n"
                "  -h, --help     this help;  --version  version and build commit\n"
                "settings (defaults < -c file < environment EXEC_<KEY> < -o < flags):\n");
        te_cfgtab_usage_keys(fp, ctl_items, CTL_N_ITEMS);
        fprintf(fp, "  exit: 0 all ok, 1 an err reply, 2 usage/connection/timeout "
                    "error\n");
}

/* -c once named the control socket: an old command line is refused with the new
 * spelling. @returns 0 for a regular file, else -1 (printed). */
static int check_config_path(const char *arg)
{
        struct stat st;
        int found = stat(arg, &st) == 0;
        if (found && S_ISREG(st.st_mode))
                return 0;
        fprintf(stderr,
                CTL_PROC ": -c %s: not a config file (%s); the control socket is "
                         "--ctl PATH\n",
                arg, found ? "not a regular file" : strerror(errno));
        return -1;
}

/* Parse the options before COMMAND into `c`. @returns 0, 1 after -h / --version (exit
 * 0), or -1 (printed: exit 2). */
static int ctl_args(int argc, char **argv, ctl_conf_t *c)
{
        enum { OPT_CTL = 256, OPT_VERSION };
        static const struct option longopts[] = {
            {"ctl", required_argument, NULL, OPT_CTL},
            {"config", required_argument, NULL, 'c'},
            {"help", no_argument, NULL, 'h'},
            {"version", no_argument, NULL, OPT_VERSION},
            {NULL, 0, NULL, 0}};
        const char *sock = NULL, *tmo = NULL;
        char errstr[512];
        te_tool_args_t a = {0};
        int opt;
        opterr = 0; /* te_tool_bad_opt names a bad flag in one line */
        while ((opt = getopt_long(argc, argv, "+c:o:t:h", longopts, NULL)) != -1) {
                if (opt == OPT_CTL) {
                        sock = optarg;
                } else if (opt == 't') {
                        tmo = optarg;
                } else if (opt == 'c' || opt == 'o') {
                        if ((opt == 'c' && check_config_path(optarg) != 0) ||
                            te_tool_opt(&a, CTL_PROC, opt, optarg) < 0)
                                return -1;
                } else if (opt == 'h' || opt == OPT_VERSION) {
                        if (opt == 'h')
                                usage(stdout);
                        else
                                te_proc_print_version(stdout, CTL_PROC);
                        return fflush(stdout) == 0 ? 1 : -1;
                } else {
                        te_tool_bad_opt(CTL_PROC, argv, "c:o:t:h");
                        return -1;
                }
        }
        te_cfg_t *cfg =
            te_tool_cfg_load(ctl_items, CTL_N_ITEMS, c, &a, errstr, sizeof errstr);
        int ok = cfg != NULL;
        ok = ok && (!sock || te_cfg_set(cfg, "ctl.socket", sock, "--ctl", errstr,
                                        sizeof errstr) == 0);
        ok = ok && (!tmo ||
                    te_cfg_set(cfg, "timeout.ms", tmo, "-t", errstr, sizeof errstr) == 0);
        ok = ok && te_tool_no_kafka(cfg, errstr, sizeof errstr) == 0;
        if (ok && !c->socket[0]) {
                snprintf(errstr, sizeof errstr,
                         "ctl.socket is required (--ctl PATH or -o ctl.socket=PATH)");
                ok = 0;
        }
        te_cfg_destroy(cfg);
        if (!ok) {
                fprintf(stderr, CTL_PROC ": config: %s\n", errstr);
                return -1;
        }
        return 0;
}

int main(int argc, char **argv)
{
        static ctl_conf_t c;
        ctl_conn_t conn = {.fd = -1};
        char errstr[512];
        int rc = ctl_args(argc, argv, &c);
        const char *path = c.socket;

        if (rc != 0)
                return rc > 0 ? 0 : 2;
        conn.timeout_ms = (int)c.timeout_ms;
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
