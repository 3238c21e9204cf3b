/*
 * bt_stages: the stage breakdown of one backtest run (see bt_stages.h).
 */
#include "bt_stages.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "te_proc.h"

#define PAGE_MAX (1u << 20)

int te_bt_stages_free_port(void)
{
        int fd = socket(AF_INET, SOCK_STREAM, 0);
        if (fd < 0)
                return 0;
        struct sockaddr_in a;
        memset(&a, 0, sizeof a);
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        socklen_t len = sizeof a;
        int port = 0;
        if (bind(fd, (struct sockaddr *)&a, sizeof a) == 0 &&
            getsockname(fd, (struct sockaddr *)&a, &len) == 0)
                port = ntohs(a.sin_port);
        close(fd);
        return port;
}

double te_bt_stages_proc_cpu(pid_t pid)
{
        char path[64], buf[2048];
        snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
        FILE *fp = fopen(path, "r");
        if (!fp)
                return -1;
        size_t n = fread(buf, 1, sizeof buf - 1, fp);
        fclose(fp);
        buf[n] = '\0';
        /* fields after the command (which may hold spaces): state is field 3,
         * utime 14, stime 15 */
        char *p = strrchr(buf, ')');
        if (!p)
                return -1;
        p++;
        unsigned long long ut = 0, st = 0;
        for (int field = 3; field <= 15 && p; field++) {
                while (*p == ' ')
                        p++;
                if (field == 14)
                        ut = strtoull(p, NULL, 10);
                else if (field == 15)
                        st = strtoull(p, NULL, 10);
                p = strchr(p, ' ');
        }
        long hz = sysconf(_SC_CLK_TCK);
        return hz > 0 ? (double)(ut + st) / (double)hz : -1;
}

double te_bt_stages_self_cpu(void)
{
        struct rusage ru;
        if (getrusage(RUSAGE_SELF, &ru) != 0)
                return 0;
        return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
               (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

/* GET /metrics from 127.0.0.1:port into a malloc'ed string (HTTP/1.0: the server
 * closes after the body). @returns NULL on any failure. */
static char *fetch_metrics(int port)
{
        int fd = socket(AF_INET, SOCK_STREAM, 0);
        if (fd < 0)
                return NULL;
        struct sockaddr_in a;
        memset(&a, 0, sizeof a);
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        a.sin_port = htons((uint16_t)port);
        char *page = NULL;
        size_t len = 0;
        static const char req[] = "GET /metrics HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n";
        if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0 ||
            write(fd, req, sizeof req - 1) != (ssize_t)(sizeof req - 1))
                goto fail;
        page = malloc(PAGE_MAX + 1);
        if (!page)
                goto fail;
        int64_t deadline = te_proc_mono_ms() + 5000;
        for (;;) {
                struct pollfd pf = {fd, POLLIN, 0};
                int64_t left = deadline - te_proc_mono_ms();
                if (left <= 0 || poll(&pf, 1, (int)left) <= 0)
                        goto fail;
                ssize_t k = read(fd, page + len, PAGE_MAX - len);
                if (k < 0 && errno == EINTR)
                        continue;
                if (k < 0)
                        goto fail;
                if (k == 0)
                        break;
                len += (size_t)k;
                if (len == PAGE_MAX)
                        break; /* bounded: a longer page is cut */
        }
        page[len] = '\0';
        close(fd);
        return page;
fail:
        free(page);
        close(fd);
        return NULL;
}

/* sum of the samples of `metric` (name followed by ' ' or '{') in the page */
static int sample_sum(const char *page, const char *metric, double *out)
{
        size_t ml = strlen(metric);
        int found = 0;
        double sum = 0;
        for (const char *line = page; line && *line;) {
                const char *nl = strchr(line, '\n');
                if (strncmp(line, metric, ml) == 0 &&
                    (line[ml] == ' ' || line[ml] == '{')) {
                        const char *v = line + ml;
                        if (*v == '{') {
                                v = strchr(v, '}');
                                v = v && (!nl || v < nl) ? v + 1 : NULL;
                        }
                        if (v) {
                                sum += strtod(v, NULL);
                                found = 1;
                        }
                }
                line = nl ? nl + 1 : NULL;
        }
        *out = sum;
        return found ? 0 : -1;
}

int te_bt_stages_hist(const char *page, const char *name, te_bt_hist_t *h)
{
        char m[200];
        h->sum = h->count = 0;
        snprintf(m, sizeof m, "%s_sum", name);
        if (sample_sum(page, m, &h->sum) != 0)
                return -1;
        snprintf(m, sizeof m, "%s_count", name);
        return sample_sum(page, m, &h->count);
}

void te_bt_stages_collect(te_bt_stages_t *st, const pid_t pid[TE_BT_NPROC])
{
        for (int i = 0; i < TE_BT_NPROC; i++) {
                st->cpu_s[i] = pid[i] > 0 ? te_bt_stages_proc_cpu(pid[i]) : -1;
                char *page = st->port[i] > 0 ? fetch_metrics(st->port[i]) : NULL;
                if (!page)
                        continue;
                if (i == TE_BT_PLANNER)
                        te_bt_stages_hist(page, "te_planner_target_to_order_seconds",
                                          &st->target_to_order);
                else if (i == TE_BT_BROKER)
                        te_bt_stages_hist(page, "te_order_to_ack_seconds",
                                          &st->order_to_ack);
                else {
                        te_bt_stages_hist(page, "te_sink_report_to_commit_seconds",
                                          &st->report_to_commit);
                        te_bt_stages_hist(page, "te_sink_db_commit_seconds",
                                          &st->db_commit);
                }
                free(page);
        }
}

static double secs(int64_t a, int64_t b)
{
        return a > 0 && b >= a ? (double)(b - a) / 1000.0 : 0;
}

static double pos(double x)
{
        return x > 0 ? x : 0;
}

static double per(double x, double n)
{
        return n > 0 ? x / n * 1000.0 : 0;
}

static double mean_ms(const te_bt_hist_t *h)
{
        return h->count > 0 ? h->sum / h->count * 1000.0 : 0;
}

void te_bt_stages_print(const te_bt_stages_t *st, FILE *fp)
{
        double n = (double)st->targets;
        double plan = secs(st->t_first_plan, st->t_planned);
        double pl = pos(st->cpu_s[TE_BT_PLANNER]), br = pos(st->cpu_s[TE_BT_BROKER]);
        double clock = pos(plan - pl - br);
        double floor = n * st->clock_rtt_ms / 1000.0;
        fprintf(fp, "stage wall=%.2f s targets=%.0f\n", secs(st->t_start, st->t_end), n);
        fprintf(fp,
                "stage setup=%.2f s (run database, topics %.2f s; process start, "
                "group joins, the runner's bars %.2f s)\n",
                secs(st->t_start, st->t_first_plan), secs(st->t_start, st->t_spawn),
                secs(st->t_spawn, st->t_first_plan));
        fprintf(fp,
                "stage publish cpu=%.2f s held=%.2f s (runner; held back by flow "
                "control)\n",
                st->runner_cpu_s, st->flow_wait_s);
        fprintf(fp,
                "stage planning=%.2f s per_target=%.2f ms (first target planned -> all "
                "planned; target_to_order_mean=%.0f ms incl. the wait in its lane)\n",
                plan, per(plan, n), mean_ms(&st->target_to_order));
        fprintf(fp, "stage   planner cpu=%.2f s per_target=%.2f ms\n", pl, per(pl, n));
        fprintf(fp,
                "stage   broker cpu=%.2f s per_target=%.2f ms orders=%.0f "
                "order_to_ack_mean=%.2f ms\n",
                br, per(br, n), st->order_to_ack.count, mean_ms(&st->order_to_ack));
        fprintf(fp,
                "stage   clock=%.2f s per_target=%.2f ms (round trips and poll waits) "
                "floor=%.2f s (%.1f ms per target) x%.1f\n",
                clock, per(clock, n), floor, st->clock_rtt_ms,
                floor > 0 ? clock / floor : 0);
        fprintf(fp, "stage sink cpu=%.2f s report_to_commit_mean=%.0f ms\n",
                pos(st->cpu_s[TE_BT_SINK]), mean_ms(&st->report_to_commit));
        fprintf(fp, "stage db_commit=%.2f s batches=%.0f mean=%.2f ms\n",
                st->db_commit.sum, st->db_commit.count, mean_ms(&st->db_commit));
        fprintf(fp, "stage drain=%.2f s (final CLOCKs, cancels, sink catching up)\n",
                secs(st->t_planned, st->t_drained));
        fprintf(fp, "stage stop=%.2f s\n", secs(st->t_drained, st->t_stopped));
        fprintf(fp, "stage report=%.2f s (queries, figures, charts, files)\n",
                secs(st->t_stopped, st->t_end));
}
