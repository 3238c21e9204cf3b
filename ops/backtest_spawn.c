/*
 * backtest_spawn: the command lines of a backtest's processes from one option table,
 * their start, watch and stop, and the run's topics (backtest_spawn.h).
 */
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>

#include "backtest_spawn.h"
#include "devstack_ctl.h"
#include "te_buf.h"
#include "te_proc.h"

extern char **environ;

/* clang-format off */
const char *const te_bt_kafka_defaults[] = {
    "fetch.wait.max.ms", "1", "session.timeout.ms", "6000",
    "heartbeat.interval.ms", "500", "reconnect.backoff.max.ms", "1000",
    "linger.ms", "1", NULL};
/* clang-format on */

static const char *const proc_names[TE_BT_NPROC] = {"sink", "broker", "planner"};

#define SINK    (1u << TE_BT_SINK)
#define BROKER  (1u << TE_BT_BROKER)
#define PLANNER (1u << TE_BT_PLANNER)
#define ALL     (SINK | BROKER | PLANNER)
#define N(f)    offsetof(te_bt_names_t, f), NULL /* a name of the run */
#define L(s)    0, s                             /* a literal */

/* {processes, key, value}; the log level, the metrics port and the simulator's bars
 * depend on the configuration and follow in te_bt_argv */
static const struct opt_row_s {
        unsigned procs;
        const char *key;
        size_t name;
        const char *literal;
} opt_rows[] = {
    {ALL, "bootstrap.servers", N(bootstrap)},
    /* the runner's cluster, not a bootstrap.file from the environment
     * (EXEC_BOOTSTRAP_FILE of a shell set up for another stack) */
    {ALL, "bootstrap.file", L("")},
    {SINK, "group.id", N(g_sink)},
    {BROKER, "group.id", N(g_broker)},
    {PLANNER, "group.id", N(g_planner)},
    {PLANNER, "sink.group", N(g_sink)},
    {PLANNER, "broker.group", N(g_broker)},
    {PLANNER, "topic.targets", N(t_targets)},
    {BROKER | PLANNER, "topic.orders", N(t_orders)},
    {ALL, "topic.reports", N(t_reports)},
    {BROKER | PLANNER, "commit.interval.ms", L("100")},
    {SINK | PLANNER, "db.conninfo", N(run_conninfo)},
};

void te_bt_names_init(te_bt_names_t *nm, const char *id)
{
        snprintf(nm->t_targets, sizeof nm->t_targets, "bt.%s.targets", id);
        snprintf(nm->t_orders, sizeof nm->t_orders, "bt.%s.orders", id);
        snprintf(nm->t_reports, sizeof nm->t_reports, "bt.%s.reports", id);
        snprintf(nm->g_planner, sizeof nm->g_planner, "bt-%s-planner", id);
        snprintf(nm->g_broker, sizeof nm->g_broker, "bt-%s-broker", id);
        snprintf(nm->g_sink, sizeof nm->g_sink, "bt-%s-sink", id);
}

void te_bt_bin_path(const te_bt_spawn_t *s, const char *bin, char *out, size_t outsz)
{
        char dir[1024];
        if (s->c->bin_dir[0]) {
                te_strlcpy(dir, s->c->bin_dir, sizeof dir);
        } else {
                te_strlcpy(dir, s->self, sizeof dir);
                char *sl = strrchr(dir, '/');
                if (sl)
                        *sl = '\0';
                else
                        te_strlcpy(dir, ".", sizeof dir);
        }
        snprintf(out, outsz, "%s/%s", dir, bin);
}

/* ---- command lines -------------------------------------------------------------- */

/* Append one argument, formatted. @returns 0, or -1 if it does not fit. */
__attribute__((format(printf, 2, 3))) static int push(te_bt_argv_t *a, const char *fmt,
                                                      ...)
{
        size_t cap = sizeof a->store - a->used;
        va_list ap;
        if (a->argc >= TE_BT_ARGV_MAX - 1)
                return -1;
        va_start(ap, fmt);
        int k = vsnprintf(a->store + a->used, cap, fmt, ap);
        va_end(ap);
        if (k < 0 || (size_t)k >= cap)
                return -1;
        a->argv[a->argc++] = a->store + a->used;
        a->used += (size_t)k + 1;
        a->argv[a->argc] = NULL;
        return 0;
}

/* "-o" then "<prefix><key>=<value>" */
static int push_opt(te_bt_argv_t *a, const char *prefix, const char *key,
                    const char *value)
{
        return push(a, "-o") || push(a, "%s%s=%s", prefix, key, value);
}

int te_bt_argv(te_bt_argv_t *a, int which, const char *bin, const te_bt_spawn_t *s)
{
        const te_bt_conf_t *c = s->c;
        const char *user[TE_BT_NPROC] = {c->sink_opts, c->broker_opts, c->planner_opts};
        const char *const *kd = te_bt_kafka_defaults;
        char tmp[1024];
        int bad;

        a->argc = 0;
        a->used = 0;
        bad = push(a, "%s", bin);
        for (size_t i = 0; i < sizeof opt_rows / sizeof opt_rows[0]; i++) {
                const struct opt_row_s *r = &opt_rows[i];
                if (r->procs & (1u << which))
                        bad |= push_opt(a, "", r->key,
                                        r->literal ? r->literal
                                                   : (const char *)s->nm + r->name);
        }
        bad |= push_opt(a, "", "log.level", te_cfg_log_levels[c->common.log_level]);
        if (c->stages && s->port && s->port[which] > 0)
                bad |= push(a, "-o") || push(a, "metrics.port=%d", s->port[which]);
        if (which == TE_BT_BROKER && c->bars_db) /* prices_daily of the main database */
                bad |= push_opt(a, "", "sim.bars_db", "true") ||
                       push_opt(a, "", "db.conninfo", c->common.db_conninfo);
        else if (which == TE_BT_BROKER)
                bad |= push_opt(a, "", "sim.bars_csv", c->bars_csv);
        for (size_t i = 0; kd[i]; i += 2) /* unless the user set them */
                if (!te_cfg_kafka_get(s->cfg, kd[i]))
                        bad |= push_opt(a, "kafka.", kd[i], kd[i + 1]);
        for (size_t i = 0; i < te_cfg_kafka_count(s->cfg); i++)
                bad |= push_opt(a, "kafka.", te_cfg_kafka_name(s->cfg, i),
                                te_cfg_kafka_value(s->cfg, i));
        te_strlcpy(tmp, user[which], sizeof tmp); /* the user's "k=v k=v" */
        for (char *save = NULL, *tok = strtok_r(tmp, " \t", &save); tok;
             tok = strtok_r(NULL, " \t", &save))
                bad |= !strchr(tok, '=') || push(a, "-o") || push(a, "%s", tok);
        return bad ? -1 : 0;
}

/* ---- processes ------------------------------------------------------------------ */

static int spawn_one(const te_bt_spawn_t *s, int which, pid_t *pid, char *errstr,
                     size_t errsz)
{
        char name[32], bin[1200], logp[1200];
        te_bt_argv_t a;

        snprintf(name, sizeof name, "exec-%s", proc_names[which]);
        te_bt_bin_path(s, name, bin, sizeof bin);
        snprintf(logp, sizeof logp, "%s/%s.log", s->c->out_dir, proc_names[which]);
        if (te_bt_argv(&a, which, bin, s) != 0) {
                snprintf(errstr, errsz, "%s: too many or too long options", name);
                return -1;
        }
        posix_spawn_file_actions_t fa;
        posix_spawn_file_actions_init(&fa);
        posix_spawn_file_actions_addopen(&fa, 2, logp, O_WRONLY | O_CREAT | O_APPEND,
                                         0644);
        posix_spawn_file_actions_adddup2(&fa, 2, 1);
        int e = posix_spawn(pid, bin, &fa, NULL, a.argv, environ);
        posix_spawn_file_actions_destroy(&fa);
        if (e != 0) {
                *pid = 0;
                snprintf(errstr, errsz, "%s: %s", bin, strerror(e));
                return -1;
        }
        return 0;
}

int te_bt_spawn(const te_bt_spawn_t *s, pid_t pid[TE_BT_NPROC], char *errstr,
                size_t errsz)
{
        for (int i = 0; i < TE_BT_NPROC; i++)
                if (spawn_one(s, i, &pid[i], errstr, errsz) != 0)
                        return -1;
        return 0;
}

int te_bt_procs_alive(pid_t pid[TE_BT_NPROC], const char *out_dir, char *errstr,
                      size_t errsz)
{
        for (int i = 0; i < TE_BT_NPROC; i++) {
                int st;
                if (pid[i] <= 0 || waitpid(pid[i], &st, WNOHANG) != pid[i])
                        continue;
                pid[i] = 0;
                snprintf(errstr, errsz, "exec-%s exited (status %d); see %s/%s.log",
                         proc_names[i], WIFEXITED(st) ? WEXITSTATUS(st) : -1, out_dir,
                         proc_names[i]);
                return -1;
        }
        return 0;
}

int te_bt_procs_stop(pid_t pid[TE_BT_NPROC])
{
        int rc = 0;
        for (int i = TE_BT_NPROC - 1; i >= 0; i--) {
                if (pid[i] <= 0)
                        continue;
                kill(pid[i], SIGTERM);
                int st = 0;
                int64_t deadline = te_proc_mono_ms() + 30000;
                pid_t r;
                while ((r = waitpid(pid[i], &st, WNOHANG)) == 0 &&
                       te_proc_mono_ms() < deadline) {
                        struct timespec ts = {0, 20 * 1000000L};
                        nanosleep(&ts, NULL);
                }
                if (r == 0) {
                        kill(pid[i], SIGKILL);
                        waitpid(pid[i], &st, 0);
                        rc = -1;
                } else if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
                        rc = -1;
                }
                pid[i] = 0;
        }
        return rc;
}

/* ---- topics --------------------------------------------------------------------- */

int te_bt_create_topics(const te_bt_spawn_t *s, int partitions, char *errstr,
                        size_t errsz)
{
        const char *topics[3] = {s->nm->t_targets, s->nm->t_orders, s->nm->t_reports};
        char parts[16], reply[TE_DSCTL_CLIENT_REPLY], why[256];

        if (!s->c->ctl_socket[0])
                return 0; /* a real cluster: the operator created them */
        snprintf(parts, sizeof parts, "%d", partitions);
        for (int i = 0; i < 3; i++) {
                const char *req[] = {"create_topic", topics[i], parts};
                int r = te_dsctl_call(s->c->ctl_socket, 5000, 3, req, reply, sizeof reply,
                                      why, sizeof why);
                if (r != 1) {
                        snprintf(errstr, errsz, "create_topic %s via %s: %s", topics[i],
                                 s->c->ctl_socket, r == 0 ? reply : why);
                        return -1;
                }
        }
        return 0;
}
