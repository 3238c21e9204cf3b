/*
 * backtest_sweep: run many targets files as one sweep (see backtest_sweep.h).
 *
 * Why child processes: a run owns process-wide things (its signal-driven stop, its
 * child processes, librdkafka and libpq handles, the report's drawing code); a fork
 * per variant keeps each variant exactly the run it would be alone, and a variant
 * that fails cannot take the others down. The child reports back over a pipe in
 * fixed-size records (progress, then the result with the report's summary), each one
 * write below PIPE_BUF so that it arrives whole.
 */
#include "backtest_sweep.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "backtest_report.h"
#include "te_buf.h"
#include "te_proc.h"

const char *const te_bt_sweep_columns[] = {
    "variant",      "return", "turnover", "commissions", "slippage",
    "max_drawdown", "sharpe", "trades",   "wall",        NULL};
/* best first: +1 highest first, -1 lowest first */
static const int col_best[] = {-1, 1, -1, -1, -1, 1, 1, -1, -1};

enum { REC_PROGRESS = 1, REC_RESULT = 2 };

typedef struct rec_s {
        int type;
        int rc;
        uint64_t planned, total;
        int32_t day;
        te_bt_summary_t sum;
        char err[2048];
} rec_t;

_Static_assert(sizeof(rec_t) <= PIPE_BUF, "a record must be one atomic pipe write");

typedef struct variant_s {
        char name[TE_BT_RUN_ID_MAX + 1];
        char file[1024];
        char run_id[64];
        char out_dir[1024];
        pid_t pid;
        int fd;    /* read end while running, else -1 */
        int state; /* 0 waiting, 1 running, 2 done */
        int rc;
        int have_result;
        uint64_t planned, total;
        int64_t t0, t1;
        te_bt_summary_t sum;
        char err[2048];
        unsigned char acc[sizeof(rec_t)];
        size_t acc_len;
} variant_t;

typedef struct sweep_s {
        const te_bt_conf_t *base;
        variant_t *v;
        int n;
        int sort_col, sort_dir;
        int64_t start_ms, last_print_ms;
        int tty;
} sweep_t;

/* ---- the child's side ------------------------------------------------------------ */

typedef struct child_s {
        int fd;
        int64_t last_ms;
} child_t;

static void child_write(int fd, const rec_t *r)
{
        const char *p = (const char *)r;
        size_t left = sizeof *r;
        while (left > 0) {
                ssize_t k = write(fd, p, left);
                if (k < 0 && errno == EINTR)
                        continue;
                if (k <= 0)
                        return; /* the sweep is gone: nothing to tell */
                p += k;
                left -= (size_t)k;
        }
}

static void child_progress(void *arg, size_t planned, size_t total, int32_t day)
{
        child_t *ch = arg;
        int64_t now = te_proc_mono_ms();
        if (now - ch->last_ms < 200 && planned < total)
                return;
        ch->last_ms = now;
        rec_t r;
        memset(&r, 0, sizeof r);
        r.type = REC_PROGRESS;
        r.planned = planned;
        r.total = total;
        r.day = day;
        child_write(ch->fd, &r);
}

/* In the forked child: run the variant, send the result, never return. */
static void child_main(const sweep_t *sw, const variant_t *v, int wfd,
                       const te_cfg_t *cfg, const char *self)
{
        /* the other variants' pipes are the parent's business */
        for (int i = 0; i < sw->n; i++)
                if (sw->v[i].fd >= 0)
                        close(sw->v[i].fd);
        fcntl(wfd, F_SETFD, FD_CLOEXEC); /* not for the run's own processes */
        char path[1100];
        snprintf(path, sizeof path, "%s/runner.log", v->out_dir);
        int lfd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (lfd >= 0) {
                dup2(lfd, 2);
                close(lfd);
        }
        snprintf(path, sizeof path, "%s/run.out", v->out_dir);
        FILE *out = fopen(path, "w");
        static te_bt_conf_t c;
        static te_bt_summary_t sum;
        child_t ch = {wfd, 0};
        memcpy(&c, sw->base, sizeof c);
        te_strlcpy(c.run_id, v->run_id, sizeof c.run_id);
        te_strlcpy(c.targets_file, v->file, sizeof c.targets_file);
        c.source_topic[0] = '\0';
        te_strlcpy(c.out_dir, v->out_dir, sizeof c.out_dir);
        c.on_progress = child_progress;
        c.progress_arg = &ch;
        c.summary_out = &sum;
        rec_t r;
        memset(&r, 0, sizeof r);
        r.type = REC_RESULT;
        if (!out) {
                snprintf(r.err, sizeof r.err, "%s: %s", path, strerror(errno));
                r.rc = 2;
        } else {
                r.rc = te_bt_run(&c, cfg, self, out, r.err, sizeof r.err);
                fclose(out);
        }
        memcpy(&r.sum, &sum, sizeof sum);
        child_write(wfd, &r);
        close(wfd);
        fflush(stderr);
        _exit(r.rc);
}

/* ---- inputs ---------------------------------------------------------------------- */

static int cmp_str(const void *a, const void *b)
{
        return strcmp(*(char *const *)a, *(char *const *)b);
}

static int add_variant(sweep_t *sw, const char *file, char *errstr, size_t errsz)
{
        if (sw->n >= TE_BT_SWEEP_MAX) {
                snprintf(errstr, errsz, "more than %d variants", TE_BT_SWEEP_MAX);
                return -1;
        }
        variant_t *v = &sw->v[sw->n];
        memset(v, 0, sizeof *v);
        v->fd = -1;
        const char *base = strrchr(file, '/');
        base = base ? base + 1 : file;
        size_t len = strlen(base);
        if (len > 6 && strcmp(base + len - 6, ".jsonl") == 0)
                len -= 6;
        else if (len > 5 && strcmp(base + len - 5, ".json") == 0)
                len -= 5;
        char db[80];
        if (len == 0 || len > TE_BT_RUN_ID_MAX ||
            snprintf(v->run_id, sizeof v->run_id, "%s-%.*s", sw->base->run_id, (int)len,
                     base) >= (int)sizeof v->run_id ||
            te_bt_db_name(v->run_id, db, sizeof db) != 0) {
                snprintf(errstr, errsz,
                         "%s: variant name '%.*s' with sweep id '%s' is not a run id "
                         "(1..%d characters of [A-Za-z0-9_.-] in all)",
                         file, (int)len, base, sw->base->run_id, TE_BT_RUN_ID_MAX);
                return -1;
        }
        memcpy(v->name, base, len);
        v->name[len] = '\0';
        for (int i = 0; i < sw->n; i++)
                if (strcmp(sw->v[i].name, v->name) == 0) {
                        snprintf(errstr, errsz, "two variants named '%s' (%s and %s)",
                                 v->name, sw->v[i].file, file);
                        return -1;
                }
        if (te_strlcpy(v->file, file, sizeof v->file) != 0 ||
            snprintf(v->out_dir, sizeof v->out_dir, "%s/%s", sw->base->out_dir,
                     v->name) >= (int)sizeof v->out_dir) {
                snprintf(errstr, errsz, "%s: path too long", file);
                return -1;
        }
        FILE *fp = fopen(file, "r");
        if (!fp) {
                snprintf(errstr, errsz, "%s: %s", file, strerror(errno));
                return -1;
        }
        for (int ch; (ch = getc(fp)) != EOF;)
                v->total += ch == '\n';
        fclose(fp);
        sw->n++;
        return 0;
}

static int add_input(sweep_t *sw, const char *in, char *errstr, size_t errsz)
{
        struct stat stt;
        if (stat(in, &stt) != 0) {
                snprintf(errstr, errsz, "%s: %s", in, strerror(errno));
                return -1;
        }
        if (!S_ISDIR(stt.st_mode))
                return add_variant(sw, in, errstr, errsz);
        DIR *d = opendir(in);
        if (!d) {
                snprintf(errstr, errsz, "%s: %s", in, strerror(errno));
                return -1;
        }
        char *names[TE_BT_SWEEP_MAX];
        int nn = 0, rc = 0;
        for (struct dirent *e; (e = readdir(d)) != NULL;) {
                size_t l = strlen(e->d_name);
                if (l <= 6 || strcmp(e->d_name + l - 6, ".jsonl") != 0)
                        continue;
                if (nn == TE_BT_SWEEP_MAX) {
                        snprintf(errstr, errsz, "%s: more than %d variants", in,
                                 TE_BT_SWEEP_MAX);
                        rc = -1;
                        break;
                }
                size_t pl = strlen(in) + l + 2;
                names[nn] = malloc(pl);
                if (!names[nn]) {
                        snprintf(errstr, errsz, "out of memory");
                        rc = -1;
                        break;
                }
                snprintf(names[nn], pl, "%s/%s", in, e->d_name);
                nn++;
        }
        closedir(d);
        qsort(names, (size_t)nn, sizeof names[0], cmp_str);
        if (rc == 0 && nn == 0) {
                snprintf(errstr, errsz, "%s: no *.jsonl targets files", in);
                rc = -1;
        }
        for (int i = 0; i < nn; i++) {
                if (rc == 0 && add_variant(sw, names[i], errstr, errsz) != 0)
                        rc = -1;
                free(names[i]);
        }
        return rc;
}

static int parse_sort(sweep_t *sw, const char *spec, char *errstr, size_t errsz)
{
        char col[40];
        te_strlcpy(col, spec, sizeof col);
        char *dir = strchr(col, ':');
        if (dir)
                *dir++ = '\0';
        for (int i = 0; te_bt_sweep_columns[i]; i++)
                if (strcmp(col, te_bt_sweep_columns[i]) == 0) {
                        sw->sort_col = i;
                        sw->sort_dir = col_best[i];
                        if (dir && strcmp(dir, "asc") == 0)
                                sw->sort_dir = -1;
                        else if (dir && strcmp(dir, "desc") == 0)
                                sw->sort_dir = 1;
                        else if (dir)
                                break;
                        return 0;
                }
        char list[256] = "";
        for (int i = 0; te_bt_sweep_columns[i]; i++) {
                size_t l = strlen(list);
                snprintf(list + l, sizeof list - l, "%s%s", i ? " " : "",
                         te_bt_sweep_columns[i]);
        }
        snprintf(errstr, errsz, "sweep.sort '%s': one of %s, optionally :asc or :desc",
                 spec, list);
        return -1;
}

/* ---- running --------------------------------------------------------------------- */

static int start_variant(sweep_t *sw, variant_t *v, const te_cfg_t *cfg, const char *self)
{
        int p[2];
        if (mkdir(v->out_dir, 0755) != 0 && errno != EEXIST) {
                snprintf(v->err, sizeof v->err, "%s: %s", v->out_dir, strerror(errno));
                return -1;
        }
        if (pipe(p) != 0) {
                snprintf(v->err, sizeof v->err, "pipe: %s", strerror(errno));
                return -1;
        }
        fflush(stdout);
        fflush(stderr);
        pid_t pid = fork();
        if (pid < 0) {
                snprintf(v->err, sizeof v->err, "fork: %s", strerror(errno));
                close(p[0]);
                close(p[1]);
                return -1;
        }
        if (pid == 0) {
                close(p[0]);
                child_main(sw, v, p[1], cfg, self);
        }
        close(p[1]);
        fcntl(p[0], F_SETFD, FD_CLOEXEC);
        v->pid = pid;
        v->fd = p[0];
        v->state = 1;
        v->t0 = te_proc_mono_ms();
        return 0;
}

static void on_record(variant_t *v, const rec_t *r)
{
        if (r->type == REC_PROGRESS) {
                v->planned = r->planned;
                if (r->total > 0)
                        v->total = r->total;
        } else if (r->type == REC_RESULT) {
                v->have_result = 1;
                v->rc = r->rc;
                memcpy(&v->sum, &r->sum, sizeof v->sum);
                te_strlcpy(v->err, r->err, sizeof v->err);
        }
}

/* Read what the child sent; at its end reap it. */
static void read_variant(variant_t *v)
{
        for (;;) {
                ssize_t k = read(v->fd, v->acc + v->acc_len, sizeof v->acc - v->acc_len);
                if (k < 0 && errno == EINTR)
                        continue;
                if (k > 0) {
                        v->acc_len += (size_t)k;
                        if (v->acc_len == sizeof v->acc) {
                                rec_t r;
                                memcpy(&r, v->acc, sizeof r);
                                on_record(v, &r);
                                v->acc_len = 0;
                        }
                        return; /* poll again before the next read */
                }
                break; /* end of the pipe (or an error): the child is done */
        }
        close(v->fd);
        v->fd = -1;
        int st = 0;
        while (waitpid(v->pid, &st, 0) < 0 && errno == EINTR)
                ;
        v->t1 = te_proc_mono_ms();
        v->state = 2;
        if (!v->have_result) {
                v->rc = 2;
                snprintf(v->err, sizeof v->err,
                         "the variant's process ended without a result (%s %d); see "
                         "%s/runner.log",
                         WIFSIGNALED(st) ? "signal" : "status",
                         WIFSIGNALED(st) ? WTERMSIG(st) : WEXITSTATUS(st), v->out_dir);
        }
}

static void print_progress(sweep_t *sw, int force)
{
        int64_t now = te_proc_mono_ms();
        if (!force && now - sw->last_print_ms < (sw->tty ? 250 : 10000))
                return;
        sw->last_print_ms = now;
        uint64_t planned = 0, total = 0;
        int done = 0, running = 0, failed = 0;
        for (int i = 0; i < sw->n; i++) {
                variant_t *v = &sw->v[i];
                total += v->total;
                planned += v->state == 2 && v->rc == 0 ? v->total : v->planned;
                done += v->state == 2;
                running += v->state == 1;
                failed += v->state == 2 && v->rc != 0;
        }
        double el = (double)(now - sw->start_ms) / 1000.0;
        char eta[32] = "?";
        if (planned > 0 && total >= planned)
                snprintf(eta, sizeof eta, "%.0fs",
                         el * (double)(total - planned) / (double)planned);
        fprintf(stderr,
                "%ssweep %s: %d/%d variants done (%d running, %d failed), planned "
                "%llu/%llu targets (%.0f%%), elapsed %.0fs, ETA %s%s",
                sw->tty ? "\r" : "", sw->base->run_id, done, sw->n, running, failed,
                (unsigned long long)planned, (unsigned long long)total,
                total ? 100.0 * (double)planned / (double)total : 0.0, el, eta,
                sw->tty ? "   " : "\n");
        fflush(stderr);
}

/* ---- the table ------------------------------------------------------------------- */

static double col_value(const variant_t *v, int col)
{
        const te_bt_summary_t *s = &v->sum;
        switch (col) {
        case 1:
                return s->total_return;
        case 2:
                return s->turnover;
        case 3:
                return s->commissions;
        case 4:
                return s->slippage_bps;
        case 5:
                return s->m.max_dd;
        case 6:
                return s->m.sharpe;
        case 7:
                return (double)s->trades;
        case 8:
                return (double)(v->t1 - v->t0) / 1000.0;
        default:
                return 0;
        }
}

static const sweep_t *sort_ctx;

static int cmp_variant(const void *a, const void *b)
{
        const variant_t *x = a, *y = b;
        /* failed variants last */
        int fx = !x->have_result || x->rc == 2, fy = !y->have_result || y->rc == 2;
        if (fx != fy)
                return fx - fy;
        int col = sort_ctx->sort_col, dir = sort_ctx->sort_dir;
        if (col != 0 && !fx) {
                double vx = col_value(x, col), vy = col_value(y, col);
                int nx = isnan(vx), ny = isnan(vy); /* n/a last */
                if (nx != ny)
                        return nx - ny;
                if (!nx && vx != vy)
                        return (vx < vy ? -1 : 1) * (dir > 0 ? -1 : 1);
        }
        int c = strcmp(x->name, y->name);
        return col == 0 && dir > 0 ? -c : c;
}

static const char *status_of(const variant_t *v)
{
        return !v->have_result ? "error"
               : v->rc == 0    ? "done"
               : v->rc == 1    ? "failed"
                               : "error";
}

static void fmt_num(char *out, size_t sz, int prec, double x, double scale)
{
        if (isnan(x))
                te_strlcpy(out, "n/a", sz);
        else
                snprintf(out, sz, "%.*f", prec, x * scale);
}

static int write_table(sweep_t *sw, FILE *out, char *errstr, size_t errsz)
{
        sort_ctx = sw;
        qsort(sw->v, (size_t)sw->n, sizeof sw->v[0], cmp_variant);
        char path[1100];
        snprintf(path, sizeof path, "%s/sweep.csv", sw->base->out_dir);
        FILE *csv = fopen(path, "w");
        if (!csv) {
                snprintf(errstr, errsz, "%s: %s", path, strerror(errno));
                return -1;
        }
        fprintf(csv,
                "variant,run_id,status,total_return,turnover,commissions,slippage_bps,"
                "max_drawdown,sharpe,trades,trades_md5,wall_s,targets_file\n");
        fprintf(out, "sweep %s: %d variants, sorted by %s (%s first)\n", sw->base->run_id,
                sw->n, te_bt_sweep_columns[sw->sort_col],
                sw->sort_dir > 0 ? "highest" : "lowest");
        fprintf(out, "%-20s %-6s %10s %9s %12s %9s %9s %7s %7s %s\n", "variant", "status",
                "return%", "turnover", "commissions", "slip_bps", "max_dd%", "sharpe",
                "trades", "trades_md5");
        for (int i = 0; i < sw->n; i++) {
                const variant_t *v = &sw->v[i];
                const te_bt_summary_t *s = &v->sum;
                int ok = v->have_result && v->rc != 2;
                char ret[32], sh[32], dd[32];
                fmt_num(ret, sizeof ret, 4, s->total_return, 100);
                fmt_num(dd, sizeof dd, 4, s->m.max_dd, 100);
                fmt_num(sh, sizeof sh, 3, s->m.sharpe, 1);
                double wall = (double)(v->t1 - v->t0) / 1000.0;
                if (ok) {
                        fprintf(out,
                                "%-20s %-6s %10s %9.4f %12.2f %9.3f %9s %7s %7ld %s\n",
                                v->name, status_of(v), ret, s->turnover, s->commissions,
                                s->slippage_bps, dd, sh, s->trades, s->trades_md5);
                        fprintf(
                            csv,
                            "%s,%s,%s,%.10g,%.10g,%.10g,%.10g,%.10g,%.10g,%ld,%s,%.1f,",
                            v->name, v->run_id, status_of(v), s->total_return,
                            s->turnover, s->commissions, s->slippage_bps, s->m.max_dd,
                            s->m.sharpe, s->trades, s->trades_md5, wall);
                } else {
                        fprintf(out, "%-20s %-6s %s\n", v->name, status_of(v), v->err);
                        fprintf(csv, "%s,%s,%s,,,,,,,,,%.1f,", v->name, v->run_id,
                                status_of(v), wall);
                }
                /* the file name as a CSV field: quoted, quotes doubled */
                fputc('"', csv);
                for (const char *p = v->file; *p; p++) {
                        if (*p == '"')
                                fputc('"', csv);
                        fputc(*p, csv);
                }
                fputs("\"\n", csv);
                if (v->rc == 1 && v->err[0])
                        fprintf(out, "  %s: %s\n", v->name, v->err);
        }
        fprintf(out, "table: %s\n", path);
        if (fclose(csv) != 0) {
                snprintf(errstr, errsz, "%s: write error", path);
                return -1;
        }
        return 0;
}

int te_bt_sweep(const te_bt_conf_t *base, const te_cfg_t *cfg, const char *self,
                char *const *inputs, int n_inputs, FILE *out, char *errstr, size_t errsz)
{
        sweep_t sw;
        memset(&sw, 0, sizeof sw);
        sw.base = base;
        sw.start_ms = te_proc_mono_ms();
        sw.tty = base->progress_tty < 0 ? isatty(2) : base->progress_tty;
        errstr[0] = '\0';
        int rc = 2;
        char db[80];
        if (te_bt_db_name(base->run_id, db, sizeof db) != 0) {
                snprintf(errstr, errsz,
                         "run.id (the sweep id): 1..%d characters of [A-Za-z0-9_.-]",
                         TE_BT_RUN_ID_MAX);
                return 2;
        }
        if (base->source_topic[0]) {
                snprintf(errstr, errsz, "a sweep reads targets files, not a topic");
                return 2;
        }
        sw.v = calloc(TE_BT_SWEEP_MAX, sizeof *sw.v);
        if (!sw.v) {
                snprintf(errstr, errsz, "out of memory");
                return 2;
        }
        if (parse_sort(&sw, base->sweep_sort, errstr, errsz) != 0)
                goto out;
        for (int i = 0; i < n_inputs; i++)
                if (add_input(&sw, inputs[i], errstr, errsz) != 0)
                        goto out;
        if (sw.n == 0) {
                snprintf(errstr, errsz, "no variants");
                goto out;
        }
        if (mkdir(base->out_dir, 0755) != 0 && errno != EEXIST) {
                snprintf(errstr, errsz, "%s: %s", base->out_dir, strerror(errno));
                goto out;
        }
        int parallel = (int)base->sweep_parallel, next = 0, running = 0, stopping = 0;
        for (;;) {
                if (te_proc_stop && !stopping) {
                        stopping = 1; /* each running variant stops its own processes */
                        for (int i = 0; i < sw.n; i++)
                                if (sw.v[i].state == 1)
                                        kill(sw.v[i].pid, SIGTERM);
                }
                while (!stopping && running < parallel && next < sw.n) {
                        variant_t *v = &sw.v[next++];
                        if (start_variant(&sw, v, cfg, self) != 0) {
                                v->state = 2;
                                v->rc = 2;
                                continue;
                        }
                        running++;
                }
                if (running == 0)
                        break;
                struct pollfd pf[TE_BT_SWEEP_MAX];
                int idx[TE_BT_SWEEP_MAX], np = 0;
                for (int i = 0; i < sw.n; i++)
                        if (sw.v[i].state == 1) {
                                pf[np].fd = sw.v[i].fd;
                                pf[np].events = POLLIN;
                                pf[np].revents = 0;
                                idx[np++] = i;
                        }
                int k = poll(pf, (nfds_t)np, 250);
                for (int j = 0; k > 0 && j < np; j++)
                        if (pf[j].revents) {
                                read_variant(&sw.v[idx[j]]);
                                if (sw.v[idx[j]].state == 2) {
                                        running--;
                                        print_progress(&sw, 1);
                                }
                        }
                print_progress(&sw, 0);
        }
        for (int i = 0; i < sw.n; i++)
                if (sw.v[i].state == 0)
                        snprintf(sw.v[i].err, sizeof sw.v[i].err,
                                 "not started (interrupted)");
        if (sw.tty) /* end the refreshed line */
                fputc('\n', stderr);
        if (write_table(&sw, out, errstr, errsz) != 0)
                goto out;
        rc = 0;
        for (int i = 0; i < sw.n; i++) {
                variant_t *v = &sw.v[i];
                int vrc = v->state != 2 ? 2 : v->rc;
                if (vrc > rc)
                        rc = vrc;
        }
        if (stopping) {
                snprintf(errstr, errsz, "interrupted");
                rc = 2;
        } else if (rc != 0) {
                snprintf(errstr, errsz,
                         "a variant did not pass (see the table and its runner.log)");
        }
out:
        free(sw.v);
        return rc;
}
