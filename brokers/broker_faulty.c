/*
 * broker_faulty: scripted outages and rejects in front of a real adapter.
 */
#include "broker_faulty.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "te_buf.h"
#include "te_ids.h"
#include "te_log.h"
#include "te_proc.h"

typedef struct faulty_s {
        te_broker_t base; /* first: the worker sees a te_broker_t */
        te_broker_ops_t ops;
        te_broker_t *inner;
        int64_t (*now_ms)(void);
        long down_after, reject_every;
        int64_t down_ms;
        char reject_ticker[TE_TICKER_MAX];
        char up_file[256]; /* "": none */
        long n_new;
        int64_t down_until; /* 0: not down (yet) */
        int went_down;
} faulty_t;

static int is_down(faulty_t *f)
{
        if (!f->down_until)
                return 0;
        int file_up = f->up_file[0] && access(f->up_file, F_OK) == 0;
        if (!file_up && f->now_ms() < f->down_until)
                return 1;
        f->down_until = 0;
        TE_LOG(TE_LOG_WARN, NULL, "fault.broker_up", "scripted outage over%s",
               file_up ? " (up_file exists)" : "");
        return 0;
}

static te_broker_err_t reject(faulty_t *f, const te_order_cmd_t *cmd, te_reports_t *out,
                              const char *why)
{
        te_exec_report_t *r = te_reports_push(out);
        if (!r)
                return TE_BROKER_ERR_FATAL;
        te_broker_report_from_cmd(r, cmd, f->inner->ops->name);
        te_id_sim_report(r->report_id, sizeof r->report_id, cmd->order_id, "faultreject",
                         0);
        r->exec_type = TE_EXEC_REJECTED;
        r->order_status = TE_OS_REJECTED;
        snprintf(r->reason, sizeof r->reason, "fault: rejected by broker (%s)", why);
        return TE_BROKER_OK;
}

static te_broker_err_t f_submit(te_broker_t *b, const te_order_cmd_t *cmd,
                                te_reports_t *out)
{
        faulty_t *f = (faulty_t *)b;
        if (is_down(f))
                return TE_BROKER_ERR_RETRIABLE;
        f->n_new++;
        te_broker_err_t rc;
        if (f->reject_ticker[0] && strcmp(cmd->ticker, f->reject_ticker) == 0)
                rc = reject(f, cmd, out, "ticker");
        else if (f->reject_every > 0 && f->n_new % f->reject_every == 0)
                rc = reject(f, cmd, out, "every k-th order");
        else
                rc = f->inner->ops->submit(f->inner, cmd, out);
        if (f->down_after > 0 && f->n_new == f->down_after && !f->went_down) {
                f->went_down = 1;
                f->down_until = f->now_ms() + f->down_ms;
                TE_LOG(TE_LOG_WARN, NULL, "fault.broker_down",
                       "scripted outage after order %ld for %lld ms", f->n_new,
                       (long long)f->down_ms);
        }
        return rc;
}

#define FORWARD(fn)                                                                      \
        static te_broker_err_t f_##fn(te_broker_t *b, const te_order_cmd_t *cmd,         \
                                      te_reports_t *out)                                 \
        {                                                                                \
                faulty_t *f = (faulty_t *)b;                                             \
                if (is_down(f))                                                          \
                        return TE_BROKER_ERR_RETRIABLE;                                  \
                return f->inner->ops->fn(f->inner, cmd, out);                            \
        }
FORWARD(cancel)
FORWARD(replace)
FORWARD(clock)

static te_broker_err_t f_poll(te_broker_t *b, te_reports_t *out)
{
        faulty_t *f = (faulty_t *)b;
        if (is_down(f) || !f->inner->ops->poll)
                return TE_BROKER_OK;
        return f->inner->ops->poll(f->inner, out);
}

static int f_connected(te_broker_t *b)
{
        faulty_t *f = (faulty_t *)b;
        if (is_down(f))
                return 0;
        return f->inner->ops->connected ? f->inner->ops->connected(f->inner) : 1;
}

static void f_delivered(te_broker_t *b)
{
        faulty_t *f = (faulty_t *)b;
        if (f->inner->ops->delivered)
                f->inner->ops->delivered(f->inner);
}

static void f_destroy(te_broker_t *b)
{
        faulty_t *f = (faulty_t *)b;
        te_broker_destroy(f->inner);
        free(f);
}

/* Parse one non-negative integer value. @returns 0 or -1. */
static int parse_num(const char *v, size_t n, long *out)
{
        char buf[24];
        if (n == 0 || n >= sizeof buf)
                return -1;
        memcpy(buf, v, n);
        buf[n] = '\0';
        char *end;
        errno = 0;
        long x = strtol(buf, &end, 10);
        if (*end || x < 0 || errno == ERANGE)
                return -1;
        *out = x;
        return 0;
}

static int parse_script(faulty_t *f, const char *s, char *errstr, size_t errsz)
{
        while (*s) {
                const char *end = strchr(s, ',');
                size_t len = end ? (size_t)(end - s) : strlen(s);
                const char *eq = memchr(s, '=', len);
                if (!eq) {
                        snprintf(errstr, errsz,
                                 "fault.script: '%.*s': expected key=value", (int)len, s);
                        return -1;
                }
                size_t kl = (size_t)(eq - s), vl = len - kl - 1;
                const char *v = eq + 1;
                long x = 0;
                int bad = 0;
                if (kl == 10 && strncmp(s, "down_after", kl) == 0)
                        bad = parse_num(v, vl, &f->down_after);
                else if (kl == 7 && strncmp(s, "down_ms", kl) == 0) {
                        bad = parse_num(v, vl, &x);
                        f->down_ms = x;
                } else if (kl == 12 && strncmp(s, "reject_every", kl) == 0)
                        bad = parse_num(v, vl, &f->reject_every);
                else if (kl == 13 && strncmp(s, "reject_ticker", kl) == 0) {
                        bad = vl == 0 || vl >= sizeof f->reject_ticker;
                        if (!bad) {
                                memcpy(f->reject_ticker, v, vl);
                                f->reject_ticker[vl] = '\0';
                        }
                } else if (kl == 7 && strncmp(s, "up_file", kl) == 0) {
                        bad = vl == 0 || vl >= sizeof f->up_file;
                        if (!bad) {
                                memcpy(f->up_file, v, vl);
                                f->up_file[vl] = '\0';
                        }
                } else {
                        snprintf(errstr, errsz, "fault.script: unknown key '%.*s'",
                                 (int)kl, s);
                        return -1;
                }
                if (bad) {
                        snprintf(errstr, errsz, "fault.script: %.*s: bad value '%.*s'",
                                 (int)kl, s, (int)vl, v);
                        return -1;
                }
                s = end ? end + 1 : s + len;
        }
        return 0;
}

te_broker_t *te_faulty_new(te_broker_t *inner, const char *script,
                           int64_t (*now_ms)(void), char *errstr, size_t errsz)
{
        faulty_t *f = calloc(1, sizeof *f);
        if (!f) {
                snprintf(errstr, errsz, "out of memory");
                te_broker_destroy(inner);
                return NULL;
        }
        f->inner = inner;
        f->now_ms = now_ms ? now_ms : te_proc_mono_ms;
        f->down_ms = 2000;
        if (parse_script(f, script ? script : "", errstr, errsz) != 0) {
                f_destroy(&f->base);
                return NULL;
        }
        f->ops = (te_broker_ops_t){
            .name = inner->ops->name,
            .mode = inner->ops->mode,
            .submit = f_submit,
            .cancel = f_cancel,
            .replace = f_replace,
            .clock = f_clock,
            .poll = f_poll,
            .destroy = f_destroy,
            .connected = f_connected,
            .delivered = f_delivered,
        };
        f->base.ops = &f->ops;
        return &f->base;
}
