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
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "devstack_ctl.h"
#include "te_cfgtab.h"
#include "te_proc.h"

#define CTL_PROC    "exec-devstack-ctl"
#define CTL_CMD_MAX 4096

/** Wait for and print one reply. @returns 0 (ok), 1 (err reply) or 2 (failure). */
static int expect_reply(te_dsctl_conn_t *c)
{
        char reply[TE_DSCTL_CLIENT_REPLY];
        char errstr[256];

        if (te_dsctl_read_line(c, reply, sizeof reply, errstr, sizeof errstr) != 0) {
                fprintf(stderr, CTL_PROC ": %s\n", errstr);
                return 2;
        }
        printf("%s\n", reply);
        fflush(stdout);
        return te_dsctl_reply_ok(reply) ? 0 : 1;
}

/** Forward stdin byte for byte; one reply per newline. @returns the exit status. */
static int run_stdin(te_dsctl_conn_t *c)
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
                        if (te_dsctl_send(c, buf + start, i + 1 - start, errstr,
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
                        if (te_dsctl_send(c, buf + start, (size_t)n - start, errstr,
                                          sizeof errstr) != 0) {
                                fprintf(stderr, CTL_PROC ": %s\n", errstr);
                                return 2;
                        }
                        pending = 1;
                }
        }
        if (pending) {
                int r;
                if (te_dsctl_send(c, "\n", 1, errstr, sizeof errstr) != 0) {
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
        te_dsctl_conn_t conn = {.fd = -1};
        char errstr[512];
        int rc = ctl_args(argc, argv, &c);
        const char *path = c.socket;

        if (rc != 0)
                return rc > 0 ? 0 : 2;
        if (te_dsctl_connect(&conn, path, (int)c.timeout_ms, errstr, sizeof errstr) !=
            0) {
                fprintf(stderr, CTL_PROC ": %s\n", errstr);
                return 2;
        }
        if (optind == argc) {
                rc = run_stdin(&conn);
        } else {
                char line[CTL_CMD_MAX + 1];
                int n = te_dsctl_format(line, sizeof line, argc - optind,
                                        (const char *const *)argv + optind);
                if (n < 0) {
                        fprintf(stderr, CTL_PROC ": command longer than %d bytes\n",
                                CTL_CMD_MAX);
                        rc = 2;
                } else if (te_dsctl_send(&conn, line, (size_t)n, errstr, sizeof errstr) !=
                           0) {
                        fprintf(stderr, CTL_PROC ": %s\n", errstr);
                        rc = 2;
                } else {
                        rc = expect_reply(&conn);
                }
        }
        te_dsctl_close(&conn);
        return rc;
}
