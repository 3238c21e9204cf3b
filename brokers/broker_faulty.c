/*
 * broker_faulty: scripted outages, rejects, late cancels and fills that race cancels in
 * front of a real adapter. For the last two it follows the orders it has passed on
 * (quantity, fills, whether still working) from the adapter's reports.
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
#include "te_map.h"
#include "te_order_state.h"
#include "te_proc.h"

#define FAULT_MAX_DELAYED 65536 /* cancels held at once; more are passed on at once */

/* An order passed on to the adapter, as its reports tell. */
typedef struct track_s {
        te_order_cmd_t cmd; /* its NEW */
        double qty, cum, avg, last_px;
        int live;
} track_t;

typedef struct delayed_s {
        te_order_cmd_t cmd;
        int64_t due;
} delayed_t;

typedef struct faulty_s {
        te_broker_t base; /* first: the worker sees a te_broker_t */
        te_broker_ops_t ops;
        te_broker_t *inner;
        int64_t (*now_ms)(void);
        long down_after, reject_every;
        int64_t down_ms;
        char reject_ticker[TE_TICKER_MAX];
        long cancel_delay_ms, fill_before_cancel;
        te_map_t *orders;   /* order_id -> track_t (only with the two options above) */
        delayed_t *delayed; /* cancels waiting, oldest first (a ring) */
        size_t d_head, d_n, d_cap;
        te_reports_t scratch; /* adapter reports not published */
        char up_file[256];    /* "": none */
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

static int tracking(const faulty_t *f)
{
        return f->cancel_delay_ms > 0 || f->fill_before_cancel;
}

/* Follow the orders named by the reports out->items[from..]. */
static void track_reports(faulty_t *f, const te_reports_t *out, size_t from)
{
        for (size_t i = from; f->orders && i < out->n; i++) {
                const te_exec_report_t *r = &out->items[i];
                track_t *t = te_map_get(f->orders, r->order_id);
                if (!t)
                        continue;
                if (r->cum_qty > t->cum)
                        t->cum = r->cum_qty;
                if (r->avg_price > 0)
                        t->avg = r->avg_price;
                if (r->last_price > 0)
                        t->last_px = r->last_price;
                if (r->exec_type == TE_EXEC_REPLACED && r->cum_qty + r->leaves_qty > 0)
                        t->qty = r->cum_qty + r->leaves_qty;
                if (te_os_is_terminal(r->order_status))
                        t->live = 0;
        }
}

static te_broker_err_t track_new(faulty_t *f, const te_order_cmd_t *cmd)
{
        if (!f->orders || te_map_get(f->orders, cmd->order_id))
                return TE_BROKER_OK;
        track_t *t = calloc(1, sizeof *t);
        if (!t || te_map_put(f->orders, cmd->order_id, t) != 0) {
                free(t);
                return TE_BROKER_ERR_FATAL;
        }
        t->cmd = *cmd;
        t->qty = cmd->quantity;
        t->live = 1;
        return TE_BROKER_OK;
}

/* A CANCEL reaches the adapter; with fill_before_cancel a working order fills first and
 * the adapter's answer is not published. */
static te_broker_err_t do_cancel(faulty_t *f, const te_order_cmd_t *cmd,
                                 te_reports_t *out)
{
        track_t *t = f->orders ? te_map_get(f->orders, cmd->order_id) : NULL;
        double px = 0;
        if (t)
                px = t->cmd.has_ref_price && t->cmd.ref_price > 0 ? t->cmd.ref_price
                                                                  : t->last_px;
        if (!f->fill_before_cancel || !t || !t->live || t->qty - t->cum <= 0 || px <= 0) {
                size_t from = out->n;
                te_broker_err_t rc = f->inner->ops->cancel(f->inner, cmd, out);
                track_reports(f, out, from);
                return rc;
        }
        double leaves = t->qty - t->cum;
        te_exec_report_t *r = te_reports_push(out);
        if (!r)
                return TE_BROKER_ERR_FATAL;
        te_broker_report_from_cmd(r, &t->cmd, f->inner->ops->name);
        r->event_time = cmd->event_time;
        te_id_sim_report(r->report_id, sizeof r->report_id, cmd->order_id, "faultfill",
                         0);
        r->exec_type = TE_EXEC_FILL;
        r->order_status = TE_OS_FILLED;
        r->last_qty = leaves;
        r->last_price = px;
        r->avg_price = (t->cum * (t->avg > 0 ? t->avg : px) + leaves * px) / t->qty;
        r->cum_qty = t->qty;
        r->leaves_qty = 0;
        snprintf(r->reason, sizeof r->reason, "fault: filled before the cancel");
        t->cum = t->qty;
        t->live = 0;
        TE_LOG(TE_LOG_WARN, NULL, "fault.fill_before_cancel",
               "%s: %g filled at %g before its cancel", cmd->order_id, leaves, px);
        /* the adapter stops working it; its CANCELED is not published */
        te_reports_clear(&f->scratch);
        te_broker_err_t rc = f->inner->ops->cancel(f->inner, cmd, &f->scratch);
        return rc == TE_BROKER_ERR_FATAL ? rc : TE_BROKER_OK;
}

/* Pass on the delayed cancels that are due (all of them when `all`). */
static te_broker_err_t release_due(faulty_t *f, te_reports_t *out, int all)
{
        int64_t now = f->now_ms();
        while (f->d_n > 0) {
                delayed_t *d = &f->delayed[f->d_head];
                if (!all && d->due > now)
                        break;
                te_broker_err_t rc = do_cancel(f, &d->cmd, out);
                if (rc == TE_BROKER_ERR_RETRIABLE)
                        return TE_BROKER_OK; /* kept: tried again at the next poll */
                f->d_head = (f->d_head + 1) % f->d_cap;
                f->d_n--;
                if (rc != TE_BROKER_OK)
                        return rc;
        }
        return TE_BROKER_OK;
}

static te_broker_err_t f_cancel(te_broker_t *b, const te_order_cmd_t *cmd,
                                te_reports_t *out)
{
        faulty_t *f = (faulty_t *)b;
        if (is_down(f))
                return TE_BROKER_ERR_RETRIABLE;
        if (f->cancel_delay_ms <= 0 || f->d_n == FAULT_MAX_DELAYED)
                return do_cancel(f, cmd, out);
        if (f->d_n == f->d_cap) {
                size_t ncap = f->d_cap ? f->d_cap * 2 : 64;
                delayed_t *nd = malloc(ncap * sizeof *nd);
                if (!nd)
                        return TE_BROKER_ERR_FATAL;
                for (size_t i = 0; i < f->d_n; i++)
                        nd[i] = f->delayed[(f->d_head + i) % f->d_cap];
                free(f->delayed);
                f->delayed = nd;
                f->d_cap = ncap;
                f->d_head = 0;
        }
        delayed_t *d = &f->delayed[(f->d_head + f->d_n) % f->d_cap];
        d->cmd = *cmd;
        d->due = f->now_ms() + f->cancel_delay_ms;
        f->d_n++;
        TE_LOG(TE_LOG_INFO, NULL, "fault.cancel_delayed", "%s: cancel held %ld ms",
               cmd->order_id, f->cancel_delay_ms);
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
        else {
                size_t from = out->n;
                rc = f->inner->ops->submit(f->inner, cmd, out);
                if (rc == TE_BROKER_OK && tracking(f) &&
                    track_new(f, cmd) != TE_BROKER_OK)
                        return TE_BROKER_ERR_FATAL;
                track_reports(f, out, from);
        }
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
                size_t from = out->n;                                                    \
                te_broker_err_t rc = f->inner->ops->fn(f->inner, cmd, out);              \
                track_reports(f, out, from);                                             \
                return rc;                                                               \
        }
FORWARD(replace)
FORWARD(clock)

static te_broker_err_t f_poll(te_broker_t *b, te_reports_t *out)
{
        faulty_t *f = (faulty_t *)b;
        if (is_down(f))
                return TE_BROKER_OK;
        te_broker_err_t rc = release_due(f, out, 0);
        if (rc != TE_BROKER_OK || !f->inner->ops->poll)
                return rc;
        size_t from = out->n;
        rc = f->inner->ops->poll(f->inner, out);
        track_reports(f, out, from);
        return rc;
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
        if (f->d_n)
                TE_LOG(TE_LOG_WARN, NULL, "fault.cancels_lost",
                       "%zu delayed cancels never reached the adapter", f->d_n);
        te_broker_destroy(f->inner);
        te_map_destroy(f->orders, free);
        free(f->delayed);
        te_reports_free(&f->scratch);
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
                } else if (kl == 15 && strncmp(s, "cancel_delay_ms", kl) == 0)
                        bad = parse_num(v, vl, &f->cancel_delay_ms);
                else if (kl == 18 && strncmp(s, "fill_before_cancel", kl) == 0)
                        bad = parse_num(v, vl, &f->fill_before_cancel) ||
                              f->fill_before_cancel > 1;
                else if (kl == 12 && strncmp(s, "reject_every", kl) == 0)
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
        if (tracking(f) && !(f->orders = te_map_new())) {
                snprintf(errstr, errsz, "out of memory");
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
