/*
 * exec-devstack: the embedded Kafka of the dev stack.
 *
 * Runs librdkafka's mock cluster in this process, creates every topic of the topics
 * manifest inside it (the admin API's CreateTopics does not work against the mock),
 * then publishes the bootstrap list atomically to a file that clients wait for: the file
 * appears only once every topic exists and the control socket listens. Runs until
 * SIGTERM/SIGINT, then removes the bootstrap file, the socket and the pidfile and exits 0
 * (1 if start-up failed, 2 on usage errors).
 *
 * A unix stream control socket (--ctl) injects faults while clients stay connected; its
 * line protocol and commands are devstack_ctl.h's.
 *
 *   exec-devstack [-c CONFIG] [-o KEY=VALUE]... [--out BOOTSTRAP_FILE] [-m MANIFEST]
 *                 [-b BROKERS] [--ctl CTL_SOCKET] [-p PIDFILE] [-l LEVEL]
 * Settings as every process: a config table (bootstrap.out, topics.manifest, brokers,
 * ctl.socket, pid.file, log.level) from -c FILE, EXEC_* variables, -o KEY=VALUE, then
 * the flags. The manifest comes from topics.manifest, else $TE_TOPICS_MANIFEST; one of
 * them is required. -c and -o once named the control socket and the bootstrap file: such
 * a command line is refused with the new spelling.
 */
#include <errno.h>
#include <getopt.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include "devstack_ctl.h"
#include "te_buf.h"
#include "te_cfgtab.h"
#include "te_log.h"
#include "te_proc.h"

#define DS_PROC           "exec-devstack"
#define DS_MAX_BROKERS    16
#define DS_MAX_TOPICS     256
#define DS_MAX_CLIENTS    16
#define DS_CLIENT_IDLE_MS 60000
#define DS_POLL_MS        100
#define DS_MANIFEST_LINE  512

typedef struct ds_topic_s {
        char name[TE_DSCTL_TOPIC_MAX + 1];
        int partitions;
} ds_topic_t;

typedef struct ds_client_s {
        int fd; /* -1 when the slot is free */
        int64_t last_ms;
        te_dsctl_line_t in;
} ds_client_t;

typedef struct ds_s {
        rd_kafka_t *rk;
        rd_kafka_mock_cluster_t *mc; /* owned; destroyed before rk */
        int n_brokers;
        ds_topic_t topics[DS_MAX_TOPICS]; /* created by us: manifest + create_topic */
        size_t n_topics;
        int listen_fd;
        ds_client_t clients[DS_MAX_CLIENTS];
} ds_t;

static const ds_topic_t *topic_find(const ds_t *ds, const char *name)
{
        for (size_t i = 0; i < ds->n_topics; i++)
                if (strcmp(ds->topics[i].name, name) == 0)
                        return &ds->topics[i];
        return NULL;
}

/* ---- topics --------------------------------------------------------------------- */

/** Create one topic in the mock cluster and remember it.
 *  @returns 0, or -1 with errstr. */
static int topic_create(ds_t *ds, const char *name, int partitions, char *errstr,
                        size_t errsz)
{
        rd_kafka_resp_err_t err;

        if (topic_find(ds, name) != NULL) {
                snprintf(errstr, errsz, "topic %s already exists", name);
                return -1;
        }
        if (ds->n_topics == DS_MAX_TOPICS) {
                snprintf(errstr, errsz, "too many topics (max %d)", DS_MAX_TOPICS);
                return -1;
        }
        err = rd_kafka_mock_topic_create(ds->mc, name, partitions, 1);
        if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
                snprintf(errstr, errsz, "creating topic %s: %s", name,
                         rd_kafka_err2name(err));
                return -1;
        }
        te_strlcpy(ds->topics[ds->n_topics].name, name, sizeof ds->topics[0].name);
        ds->topics[ds->n_topics].partitions = partitions;
        ds->n_topics++;
        return 0;
}

/** Read `path` (`<topic> <partitions>` lines, '#' comments) and create every topic.
 *  @returns 0, or -1 with errstr "path:line: why". */
static int manifest_apply(ds_t *ds, const char *path, char *errstr, size_t errsz)
{
        char line[DS_MANIFEST_LINE];
        char why[256];
        FILE *fp;
        int lineno = 0;

        fp = fopen(path, "r");
        if (fp == NULL) {
                snprintf(errstr, errsz, "%s: %s", path, strerror(errno));
                return -1;
        }
        while (fgets(line, sizeof line, fp) != NULL) {
                char *save = NULL, *topic, *parts, *extra, *hash;
                long n;

                lineno++;
                if (strchr(line, '\n') == NULL && !feof(fp)) {
                        snprintf(errstr, errsz, "%s:%d: line too long", path, lineno);
                        goto err;
                }
                hash = strchr(line, '#');
                if (hash != NULL)
                        *hash = '\0';
                topic = strtok_r(line, " \t\r\n", &save);
                if (topic == NULL)
                        continue;
                parts = strtok_r(NULL, " \t\r\n", &save);
                extra = strtok_r(NULL, " \t\r\n", &save);
                if (parts == NULL || extra != NULL) {
                        snprintf(errstr, errsz, "%s:%d: expected `<topic> <partitions>`",
                                 path, lineno);
                        goto err;
                }
                if (!te_dsctl_topic_name_ok(topic)) {
                        snprintf(errstr, errsz, "%s:%d: bad topic name", path, lineno);
                        goto err;
                }
                if (te_dsctl_parse_long(parts, 1, TE_DSCTL_MAX_PARTS, &n) != 0) {
                        snprintf(errstr, errsz,
                                 "%s:%d: %s: partitions must be an integer in 1..%d",
                                 path, lineno, topic, TE_DSCTL_MAX_PARTS);
                        goto err;
                }
                if (topic_create(ds, topic, (int)n, why, sizeof why) != 0) {
                        snprintf(errstr, errsz, "%s:%d: %s", path, lineno, why);
                        goto err;
                }
                TE_LOG(TE_LOG_INFO, NULL, "topic.created", "%s partitions=%ld", topic, n);
        }
        if (ferror(fp)) {
                snprintf(errstr, errsz, "%s: read error", path);
                goto err;
        }
        fclose(fp);
        if (ds->n_topics == 0) {
                snprintf(errstr, errsz, "%s: no topics", path);
                return -1;
        }
        return 0;
err:
        fclose(fp);
        return -1;
}

/* ---- files ---------------------------------------------------------------------- */

/** Write `data` to `path` through `path.tmp` + rename, so readers never see a partial
 *  file. @returns 0, or -1 with errstr. */
static int write_file_atomic(const char *path, const char *data, char *errstr,
                             size_t errsz)
{
        char tmp[PATH_MAX];
        size_t len = strlen(data), off = 0;
        int fd, n;

        n = snprintf(tmp, sizeof tmp, "%s.tmp", path);
        if (n < 0 || (size_t)n >= sizeof tmp) {
                snprintf(errstr, errsz, "%s: path too long", path);
                return -1;
        }
        fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (fd < 0) {
                snprintf(errstr, errsz, "%s.tmp: %s", path, strerror(errno));
                return -1;
        }
        while (off < len) {
                ssize_t w = write(fd, data + off, len - off);
                if (w < 0 && errno == EINTR)
                        continue;
                if (w < 0) {
                        snprintf(errstr, errsz, "%s.tmp: %s", path, strerror(errno));
                        goto err;
                }
                off += (size_t)w;
        }
        if (fsync(fd) != 0) {
                snprintf(errstr, errsz, "%s.tmp: fsync: %s", path, strerror(errno));
                goto err;
        }
        close(fd);
        if (rename(tmp, path) != 0) {
                snprintf(errstr, errsz, "rename %s: %s", path, strerror(errno));
                unlink(tmp);
                return -1;
        }
        return 0;
err:
        close(fd);
        unlink(tmp);
        return -1;
}

/* ---- control socket ------------------------------------------------------------- */

/** Bind and listen on `path`. A stale socket file (nobody accepting) is replaced; a
 *  live one or a non-socket file is an error. @returns the fd, or -1 with errstr. */
static int ctl_listen(const char *path, char *errstr, size_t errsz)
{
        struct sockaddr_un sa;
        struct stat st;
        int fd;

        memset(&sa, 0, sizeof sa);
        sa.sun_family = AF_UNIX;
        if (te_strlcpy(sa.sun_path, path, sizeof sa.sun_path) != 0) {
                snprintf(errstr, errsz, "%s: socket path longer than %zu bytes", path,
                         sizeof sa.sun_path - 1);
                return -1;
        }
        if (lstat(path, &st) == 0) {
                int probe;
                if (!S_ISSOCK(st.st_mode)) {
                        snprintf(errstr, errsz, "%s: exists and is not a socket", path);
                        return -1;
                }
                probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
                if (probe >= 0 &&
                    connect(probe, (struct sockaddr *)&sa, sizeof sa) == 0) {
                        close(probe);
                        snprintf(errstr, errsz, "%s: in use by another process", path);
                        return -1;
                }
                if (probe >= 0)
                        close(probe);
                unlink(path);
        }
        fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        if (fd < 0) {
                snprintf(errstr, errsz, "socket: %s", strerror(errno));
                return -1;
        }
        if (bind(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
                snprintf(errstr, errsz, "%s: bind: %s", path, strerror(errno));
                goto err;
        }
        if (chmod(path, 0600) != 0 || listen(fd, 8) != 0) {
                snprintf(errstr, errsz, "%s: %s", path, strerror(errno));
                unlink(path);
                goto err;
        }
        return fd;
err:
        close(fd);
        return -1;
}

static void reply_result(rd_kafka_resp_err_t err, const char *what, char *reply,
                         size_t replysz)
{
        if (err == RD_KAFKA_RESP_ERR_NO_ERROR)
                snprintf(reply, replysz, "ok %s", what);
        else
                snprintf(reply, replysz, "err %s: %s", what, rd_kafka_err2name(err));
}

static void cmd_request_errors(ds_t *ds, const te_dsctl_req_t *rq, char *reply,
                               size_t replysz)
{
        rd_kafka_resp_err_t errs[TE_DSCTL_MAX_ERR_PUSH];

        for (int i = 0; i < rq->count; i++)
                errs[i] = rq->err;
        rd_kafka_mock_push_request_errors_array(ds->mc, (int16_t)rq->api_key,
                                                (size_t)rq->count, errs);
        snprintf(reply, replysz, "ok request_errors %d %s %d", rq->api_key,
                 rd_kafka_err2name(rq->err), rq->count);
}

static void cmd_topic_error(ds_t *ds, const te_dsctl_req_t *rq, char *reply,
                            size_t replysz)
{
        /* The mock would auto-create an unknown topic here: only ours are allowed. */
        if (topic_find(ds, rq->topic) == NULL) {
                snprintf(reply, replysz,
                         "err unknown topic (not in the manifest nor created here)");
                return;
        }
        rd_kafka_mock_topic_set_error(ds->mc, rq->topic, rq->err);
        snprintf(reply, replysz, "ok topic_error %s %s", rq->topic,
                 rd_kafka_err2name(rq->err));
}

/** Execute one request line (no newline) and write the reply (no newline). */
static void ctl_execute(ds_t *ds, char *line, size_t len, char *reply, size_t replysz)
{
        te_dsctl_req_t rq;
        char what[64], why[TE_DSCTL_REPLY_MAX - 16];

        if (te_dsctl_parse(line, len, ds->n_brokers, &rq, reply, replysz) != 0)
                return;
        switch (rq.cmd) {
        case TE_DSCTL_PING:
                snprintf(reply, replysz, "ok pong");
                break;
        case TE_DSCTL_HELP:
                te_dsctl_help(reply, replysz);
                break;
        case TE_DSCTL_BROKER_DOWN:
        case TE_DSCTL_BROKER_UP:
                snprintf(what, sizeof what, "%s %d", te_dsctl_cmds[rq.cmd].name,
                         rq.broker);
                reply_result(rq.cmd == TE_DSCTL_BROKER_UP
                                 ? rd_kafka_mock_broker_set_up(ds->mc, rq.broker)
                                 : rd_kafka_mock_broker_set_down(ds->mc, rq.broker),
                             what, reply, replysz);
                break;
        case TE_DSCTL_RTT:
                snprintf(what, sizeof what, "rtt %d %d", rq.broker, rq.ms);
                reply_result(rd_kafka_mock_broker_set_rtt(ds->mc, rq.broker, rq.ms), what,
                             reply, replysz);
                break;
        case TE_DSCTL_REQUEST_ERRORS:
                cmd_request_errors(ds, &rq, reply, replysz);
                break;
        case TE_DSCTL_TOPIC_ERROR:
                cmd_topic_error(ds, &rq, reply, replysz);
                break;
        default: /* TE_DSCTL_CREATE_TOPIC */
                if (topic_create(ds, rq.topic, rq.partitions, why, sizeof why) != 0)
                        snprintf(reply, replysz, "err %s", why);
                else
                        snprintf(reply, replysz, "ok create_topic %s %d", rq.topic,
                                 rq.partitions);
                break;
        }
}

static void client_close(ds_client_t *c)
{
        if (c->fd >= 0)
                close(c->fd);
        c->fd = -1;
        te_dsctl_line_reset(&c->in);
}

/** Send one reply line. @returns 0, or -1 if the client must be dropped. */
static int client_reply(ds_client_t *c, const char *reply)
{
        char out[TE_DSCTL_REPLY_MAX + 1];
        size_t n = strlen(reply);

        if (n > TE_DSCTL_REPLY_MAX - 1)
                n = TE_DSCTL_REPLY_MAX - 1;
        memcpy(out, reply, n);
        out[n++] = '\n';
        /* Replies are short; a client that lets its receive buffer fill is dropped. */
        return send(c->fd, out, n, MSG_NOSIGNAL | MSG_DONTWAIT) == (ssize_t)n ? 0 : -1;
}

static int client_line(ds_t *ds, ds_client_t *c)
{
        char reply[TE_DSCTL_REPLY_MAX];
        char shown[TE_DSCTL_LINE_MAX + 1];

        if (c->in.overflow) {
                snprintf(reply, sizeof reply, "err line too long (max %d bytes)",
                         TE_DSCTL_LINE_MAX);
                TE_LOG(TE_LOG_WARN, NULL, "ctl.rejected", "line longer than %d bytes",
                       TE_DSCTL_LINE_MAX);
        } else {
                memcpy(shown, c->in.buf, c->in.len);
                shown[c->in.len] = '\0';
                ctl_execute(ds, c->in.buf, c->in.len, reply, sizeof reply);
                if (strncmp(reply, "err non-printable", 17) == 0)
                        TE_LOG(TE_LOG_WARN, NULL, "ctl.rejected", "%s", reply);
                else
                        TE_LOG(reply[0] == 'o' ? TE_LOG_INFO : TE_LOG_WARN, NULL,
                               "ctl.command", "%s -> %s", shown, reply);
        }
        te_dsctl_line_reset(&c->in);
        return client_reply(c, reply);
}

/** Read what the client sent and answer every complete line. */
static void client_read(ds_t *ds, ds_client_t *c)
{
        char buf[1024];
        ssize_t n;

        n = recv(c->fd, buf, sizeof buf, MSG_DONTWAIT);
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
                return;
        if (n <= 0) {
                /* EOF: a last line without its newline still gets an answer. */
                if (n == 0 && (c->in.len > 0 || c->in.overflow))
                        client_line(ds, c);
                client_close(c);
                return;
        }
        c->last_ms = te_proc_mono_ms();
        for (ssize_t i = 0; i < n; i++) {
                if (te_dsctl_line_feed(&c->in, buf[i]) && client_line(ds, c) != 0) {
                        client_close(c);
                        return;
                }
        }
}

static void ctl_accept(ds_t *ds)
{
        ds_client_t *slot = NULL;
        int fd;

        fd = accept4(ds->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0)
                return;
        for (size_t i = 0; i < DS_MAX_CLIENTS && slot == NULL; i++)
                if (ds->clients[i].fd < 0)
                        slot = &ds->clients[i];
        if (slot == NULL) {
                static const char busy[] = "err too many clients\n";
                (void)send(fd, busy, sizeof busy - 1, MSG_NOSIGNAL | MSG_DONTWAIT);
                close(fd);
                TE_LOG(TE_LOG_WARN, NULL, "ctl.busy", "refused a client: %d connected",
                       DS_MAX_CLIENTS);
                return;
        }
        slot->fd = fd;
        te_dsctl_line_reset(&slot->in);
        slot->last_ms = te_proc_mono_ms();
}

/** One round of the main loop: wait up to DS_POLL_MS for control traffic. */
static void ds_poll_once(ds_t *ds)
{
        struct pollfd pfds[1 + DS_MAX_CLIENTS];
        ds_client_t *owners[1 + DS_MAX_CLIENTS];
        nfds_t n = 0;
        int64_t now;

        if (ds->listen_fd >= 0) {
                pfds[n].fd = ds->listen_fd;
                pfds[n].events = POLLIN;
                owners[n++] = NULL;
        }
        for (size_t i = 0; i < DS_MAX_CLIENTS; i++) {
                if (ds->clients[i].fd < 0)
                        continue;
                pfds[n].fd = ds->clients[i].fd;
                pfds[n].events = POLLIN;
                owners[n++] = &ds->clients[i];
        }
        if (poll(pfds, n, DS_POLL_MS) > 0) {
                for (nfds_t i = 0; i < n; i++) {
                        if (pfds[i].revents == 0)
                                continue;
                        if (owners[i] == NULL)
                                ctl_accept(ds);
                        else
                                client_read(ds, owners[i]);
                }
        }
        now = te_proc_mono_ms();
        for (size_t i = 0; i < DS_MAX_CLIENTS; i++)
                if (ds->clients[i].fd >= 0 &&
                    now - ds->clients[i].last_ms > DS_CLIENT_IDLE_MS)
                        client_close(&ds->clients[i]);
}

/* ---- main ----------------------------------------------------------------------- */

static void kafka_log_cb(const rd_kafka_t *rk, int level, const char *fac,
                         const char *buf)
{
        te_log_level_t lvl = level <= 3   ? TE_LOG_ERROR
                             : level == 4 ? TE_LOG_WARN
                             : level <= 6 ? TE_LOG_INFO
                                          : TE_LOG_DEBUG;
        (void)rk;
        /* The handle that hosts the mock cluster has no brokers of its own, by design. */
        if (strcmp(fac, "CONFWARN") == 0 && strstr(buf, "bootstrap.servers") != NULL)
                lvl = TE_LOG_DEBUG;
        TE_LOG(lvl, NULL, "kafka.log", "%s: %s", fac, buf);
}

/* Settings: a config table like every process's (-c FILE, -o KEY=VALUE, EXEC_*). */
typedef struct ds_conf_s {
        int log_level;            /* te_cfg_log_levels */
        char bootstrap_out[1024]; /* required */
        char manifest[1024];      /* "" = $TE_TOPICS_MANIFEST */
        int64_t brokers;
        char ctl_socket[108]; /* sun_path */
        char pid_file[1024];
} ds_conf_t;

static const te_cfg_item_t ds_items[] = {
    TE_CFG_E(ds_conf_t, "log.level", log_level, "info", te_cfg_log_levels,
             "minimum log level (-l)"),
    TE_CFG_S(ds_conf_t, "bootstrap.out", bootstrap_out, "",
             "write the bootstrap list here once every topic exists; required (--out)"),
    TE_CFG_S(ds_conf_t, "topics.manifest", manifest, "",
             "topics manifest; empty: $TE_TOPICS_MANIFEST (-m)"),
    TE_CFG_I(ds_conf_t, "brokers", brokers, "1", 1, DS_MAX_BROKERS, "mock brokers (-b)"),
    TE_CFG_S(ds_conf_t, "ctl.socket", ctl_socket, "",
             "serve the control socket here (unix stream, line protocol; --ctl)"),
    TE_CFG_S(ds_conf_t, "pid.file", pid_file, "", "write our pid here (-p)"),
};
#define DS_N_ITEMS (sizeof ds_items / sizeof ds_items[0])

static void usage(FILE *fp)
{
        fprintf(fp,
                "usage: " DS_PROC " [-c CONFIG] [-o KEY=VALUE]... [--out BOOTSTRAP_FILE] "
                "[-m MANIFEST]\n"
                "                     [-b BROKERS] [--ctl CTL_SOCKET] [-p PIDFILE] "
                "[-l LEVEL]\n"
                "  -c CONFIG       key = value file (the keys below)\n"
                "  -o KEY=VALUE    set one key (repeatable; wins over the file and the "
                "environment)\n"
                "  --out FILE      bootstrap.out: write the bootstrap list here once "
                "every topic\n"
                "                  exists (required)\n"
                "  -m FILE         topics.manifest (default: $TE_TOPICS_MANIFEST)\n"
                "  -b N            brokers: mock brokers, 1..%d (default 1)\n"
                "  --ctl PATH      ctl.socket: serve the control socket (unix stream, "
                "line protocol)\n"
                "  -p FILE         pid.file: write our pid here\n"
                "  -l LEVEL        log.level: debug, info, warn, error (default info)\n"
                "  -h, --help      this help;  --version  version and build commit\n"
                "settings (defaults < -c file < environment EXEC_<KEY> < -o < flags):\n",
                DS_MAX_BROKERS);
        te_cfgtab_usage_keys(fp, ds_items, DS_N_ITEMS);
        fprintf(fp, "exit status: 0 stopped cleanly, 1 start-up failed, 2 usage or "
                    "configuration error\n");
}

/* The flags that set a key: getopt_long code, key. */
enum { DS_OPT_OUT = 256, DS_OPT_CTL, DS_OPT_VERSION };
static const struct {
        int opt;
        const char *key;
} ds_flag_keys[] = {
    {DS_OPT_OUT, "bootstrap.out"}, {'m', "topics.manifest"}, {'b', "brokers"},
    {DS_OPT_CTL, "ctl.socket"},    {'p', "pid.file"},        {'l', "log.level"}};
#define DS_SHORTOPTS "c:o:m:b:p:l:h"

/* -c and -o meant other things once (the control socket, the bootstrap file): an old
 * command line is refused with the new spelling. @returns 0, or -1 (printed). */
static int ds_check_old_use(int opt, const char *arg)
{
        struct stat st;
        if (opt == 'o' && !strchr(arg, '=')) {
                fprintf(stderr,
                        DS_PROC ": -o takes KEY=VALUE; the bootstrap file is --out %s "
                                "(or -o bootstrap.out=%s)\n",
                        arg, arg);
                return -1;
        }
        if (opt != 'c')
                return 0;
        int found = stat(arg, &st) == 0;
        if (!found || !S_ISREG(st.st_mode)) {
                fprintf(stderr,
                        DS_PROC ": -c %s: not a config file (%s); the control socket "
                                "is --ctl PATH\n",
                        arg, found ? "not a regular file" : strerror(errno));
                return -1;
        }
        return 0;
}

/* Parse argv into `c`. @returns the config (caller destroys), or NULL with *rc: 0
 * after -h / --version, 2 on a usage or config error (printed). */
static te_cfg_t *ds_args(int argc, char **argv, ds_conf_t *c, int *rc)
{
        static const struct option longopts[] = {
            {"out", required_argument, NULL, DS_OPT_OUT},
            {"ctl", required_argument, NULL, DS_OPT_CTL},
            {"config", required_argument, NULL, 'c'},
            {"help", no_argument, NULL, 'h'},
            {"version", no_argument, NULL, DS_OPT_VERSION},
            {NULL, 0, NULL, 0}};
        const char *flag_val[sizeof ds_flag_keys / sizeof ds_flag_keys[0]] = {NULL};
        char errstr[512];
        te_tool_args_t a = {0};
        int opt;
        *rc = 2;
        opterr = 0; /* te_tool_bad_opt names a bad flag in one line */
        while ((opt = getopt_long(argc, argv, DS_SHORTOPTS, longopts, NULL)) != -1) {
                size_t k = 0;
                while (k < sizeof ds_flag_keys / sizeof ds_flag_keys[0] &&
                       ds_flag_keys[k].opt != opt)
                        k++;
                if (k < sizeof ds_flag_keys / sizeof ds_flag_keys[0]) {
                        flag_val[k] = optarg;
                } else if (opt == 'c' || opt == 'o') {
                        if (ds_check_old_use(opt, optarg) != 0 ||
                            te_tool_opt(&a, DS_PROC, opt, optarg) < 0)
                                return NULL;
                } else if (opt == 'h' || opt == DS_OPT_VERSION) {
                        if (opt == 'h')
                                usage(stdout);
                        else
                                te_proc_print_version(stdout, DS_PROC);
                        *rc = fflush(stdout) == 0 ? 0 : 1;
                        return NULL;
                } else {
                        te_tool_bad_opt(DS_PROC, argv, DS_SHORTOPTS);
                        return NULL;
                }
        }
        if (optind != argc) {
                fprintf(stderr, DS_PROC ": unexpected argument '%s' (see -h)\n",
                        argv[optind]);
                return NULL;
        }
        te_cfg_t *cfg =
            te_tool_cfg_load(ds_items, DS_N_ITEMS, c, &a, errstr, sizeof errstr);
        int ok = cfg != NULL;
        for (size_t k = 0; ok && k < sizeof ds_flag_keys / sizeof ds_flag_keys[0]; k++)
                ok = !flag_val[k] || te_cfg_set(cfg, ds_flag_keys[k].key, flag_val[k],
                                                "flag", errstr, sizeof errstr) == 0;
        ok = ok && te_tool_no_kafka(cfg, errstr, sizeof errstr) == 0;
        if (ok && !c->manifest[0] && getenv("TE_TOPICS_MANIFEST"))
                te_strlcpy(c->manifest, getenv("TE_TOPICS_MANIFEST"), sizeof c->manifest);
        if (ok && !c->bootstrap_out[0]) {
                snprintf(
                    errstr, sizeof errstr,
                    "bootstrap.out is required (--out FILE or -o bootstrap.out=FILE)");
                ok = 0;
        }
        if (ok && !c->manifest[0]) {
                snprintf(errstr, sizeof errstr,
                         "a manifest is required: -m FILE, "
                         "topics.manifest or TE_TOPICS_MANIFEST");
                ok = 0;
        }
        if (!ok) {
                fprintf(stderr, DS_PROC ": config: %s\n", errstr);
                te_cfg_destroy(cfg);
                return NULL;
        }
        return cfg;
}

int main(int argc, char **argv)
{
        static ds_conf_t c;
        const char *bootstrap_path, *manifest, *ctl_path, *pid_path;
        char errstr[2048]; /* a path of up to 1023 bytes and why */
        char pidbuf[32];
        rd_kafka_conf_t *conf = NULL;
        ds_t *ds = NULL;
        int published = 0, listening = 0, pid_written = 0;
        int rc = 1;

        te_log_init(DS_PROC, TE_LOG_INFO);
        te_cfg_t *cfg = ds_args(argc, argv, &c, &rc);
        if (!cfg)
                return rc;
        te_cfg_destroy(cfg); /* everything is in c */
        te_log_init(DS_PROC, (te_log_level_t)c.log_level);
        bootstrap_path = c.bootstrap_out;
        manifest = c.manifest;
        ctl_path = c.ctl_socket[0] ? c.ctl_socket : NULL;
        pid_path = c.pid_file[0] ? c.pid_file : NULL;
        rc = 1;
        ds = calloc(1, sizeof *ds);
        if (ds == NULL)
                return 1;
        ds->n_brokers = (int)c.brokers;
        ds->listen_fd = -1;
        for (size_t i = 0; i < DS_MAX_CLIENTS; i++)
                ds->clients[i].fd = -1;

        te_proc_install_signals();
        if (pid_path != NULL) {
                snprintf(pidbuf, sizeof pidbuf, "%ld\n", (long)getpid());
                if (write_file_atomic(pid_path, pidbuf, errstr, sizeof errstr) != 0)
                        goto fail;
                pid_written = 1;
        }

        conf = rd_kafka_conf_new();
        rd_kafka_conf_set_log_cb(conf, kafka_log_cb);
        ds->rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof errstr);
        if (ds->rk == NULL) {
                rd_kafka_conf_destroy(conf);
                goto fail;
        }
        conf = NULL; /* owned by rk now */
        ds->mc = rd_kafka_mock_cluster_new(ds->rk, ds->n_brokers);
        if (ds->mc == NULL) {
                snprintf(errstr, sizeof errstr, "rd_kafka_mock_cluster_new failed");
                goto fail;
        }
        if (manifest_apply(ds, manifest, errstr, sizeof errstr) != 0)
                goto fail;
        if (ctl_path != NULL) {
                ds->listen_fd = ctl_listen(ctl_path, errstr, sizeof errstr);
                if (ds->listen_fd < 0)
                        goto fail;
                listening = 1;
        }
        /* Last: the bootstrap file tells clients that everything is ready. */
        if (write_file_atomic(bootstrap_path, rd_kafka_mock_cluster_bootstraps(ds->mc),
                              errstr, sizeof errstr) != 0)
                goto fail;
        published = 1;
        TE_LOG(TE_LOG_INFO, NULL, "devstack.ready",
               "bootstrap=%s brokers=%d topics=%zu file=%s ctl=%s",
               rd_kafka_mock_cluster_bootstraps(ds->mc), ds->n_brokers, ds->n_topics,
               bootstrap_path, ctl_path != NULL ? ctl_path : "-");

        while (!te_proc_stop) {
                ds_poll_once(ds);
                rd_kafka_poll(ds->rk, 0);
        }
        TE_LOG(TE_LOG_INFO, NULL, "devstack.stopping", "signal received");
        rc = 0;
        goto out;

fail:
        TE_LOG(TE_LOG_ERROR, NULL, "devstack.failed", "%s", errstr);
out:
        if (published)
                unlink(bootstrap_path);
        for (size_t i = 0; i < DS_MAX_CLIENTS; i++)
                client_close(&ds->clients[i]);
        if (ds->listen_fd >= 0)
                close(ds->listen_fd);
        if (listening)
                unlink(ctl_path);
        if (ds->mc != NULL)
                rd_kafka_mock_cluster_destroy(ds->mc);
        if (ds->rk != NULL)
                rd_kafka_destroy(ds->rk);
        if (pid_written)
                unlink(pid_path);
        free(ds);
        return rc;
}
