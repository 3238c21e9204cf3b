/*
 * ibkr_fixture.h: the fixture of the ibkr adapter's unit tests (test_broker_ibkr*.c):
 * the scripted fake TWS (tests/fake_tws) started per test on an ephemeral loopback
 * port, an adapter without DB (use_db = 0) connected to it, everything it reported
 * and every alert it raised, and helpers that drive it the way the broker worker does.
 * Header-only: each test program includes it once.
 */
#ifndef TE_IBKR_FIXTURE_H
#define TE_IBKR_FIXTURE_H

#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "../broker_defaults.h"
#include "broker_ibkr.h"
#include "te_buf.h"
#include "te_log.h"
#include "te_proc.h"

#define FX_MAX_ALERTS 32

typedef struct fx_alert_s {
        te_severity_t sev;
        char code[64];
        char order_id[TE_ID_MAX];
        char message[TE_TEXT_MAX];
} fx_alert_t;

typedef struct fx_s {
        pid_t fake;
        int port;
        char port_file[64];
        te_broker_t *b;
        te_reports_t got; /* everything reported so far */
        fx_alert_t alerts[FX_MAX_ALERTS];
        size_t n_alerts;
} fx_t;

static inline void fx_on_alert(void *ctx, te_severity_t sev, const char *code,
                               const char *decision_id, const char *portfolio_id,
                               const char *order_id, const char *message)
{
        fx_t *fx = ctx;
        (void)decision_id;
        (void)portfolio_id;
        if (fx->n_alerts == FX_MAX_ALERTS)
                return;
        fx_alert_t *a = &fx->alerts[fx->n_alerts++];
        a->sev = sev;
        te_strlcpy(a->code, code, sizeof a->code);
        te_strlcpy(a->order_id, order_id, sizeof a->order_id);
        te_strlcpy(a->message, message, sizeof a->message);
}

/* How many alerts with `code` were raised. */
static inline size_t fx_alerts(const fx_t *fx, const char *code)
{
        size_t n = 0;
        for (size_t i = 0; i < fx->n_alerts; i++)
                n += strcmp(fx->alerts[i].code, code) == 0;
        return n;
}

static inline void start_fake(fx_t *fx, const char *const *args)
{
        snprintf(fx->port_file, sizeof fx->port_file, "/tmp/te-ibkr-ut.%d.port",
                 (int)getpid());
        unlink(fx->port_file);
        const char *argv[32];
        int n = 0;
        argv[n++] = TE_FAKE_TWS;
        argv[n++] = "--port-file";
        argv[n++] = fx->port_file;
        for (; args && *args && n < 30; args++)
                argv[n++] = *args;
        argv[n] = NULL;
        fx->fake = fork();
        assert_true(fx->fake >= 0);
        if (fx->fake == 0) {
                if (!getenv("TE_TEST_VERBOSE"))
                        (void)freopen("/dev/null", "w", stderr);
                execv(argv[0], (char *const *)argv);
                _exit(127);
        }
        for (int i = 0; i < 500; i++) {
                FILE *f = fopen(fx->port_file, "r");
                if (f) {
                        int ok = fscanf(f, "%d", &fx->port) == 1;
                        fclose(f);
                        if (ok)
                                return;
                }
                usleep(10000);
        }
        fail_msg("fake_tws did not start");
}

/* Set by a test before setup_fx to change the adapter's configuration further. */
static void (*fx_tweak)(te_ibkr_cfg_t *c);

static inline void setup_fx(fx_t *fx, const char *const *fake_args, int max_rate)
{
        memset(fx, 0, sizeof *fx);
        te_log_init("test", getenv("TE_TEST_VERBOSE") ? TE_LOG_DEBUG : TE_LOG_ERROR);
        start_fake(fx, fake_args);
        te_ibkr_cfg_t c;
        te_ibkr_cfg_defaults(&c);
        c.port = fx->port;
        c.client_id = 7;
        c.use_db = 0;
        c.reconnect_min_ms = 50;
        c.reconnect_max_ms = 200;
        c.commission_wait_ms = 500;
        if (max_rate)
                c.max_msgs_per_sec = max_rate;
        c.alert = fx_on_alert;
        c.alert_ctx = fx;
        if (fx_tweak)
                fx_tweak(&c);
        te_strlcpy(c.accounts, "DU111111,DU222222", sizeof c.accounts);
        char errstr[256];
        fx->b = te_ibkr_new(&c, errstr, sizeof errstr);
        assert_non_null(fx->b);
}

static inline void teardown_fx(fx_t *fx)
{
        te_broker_destroy(fx->b);
        fx->b = NULL;
        te_reports_free(&fx->got);
        if (fx->fake > 0) {
                kill(fx->fake, SIGTERM);
                waitpid(fx->fake, NULL, 0);
                fx->fake = 0;
        }
        if (fx->port_file[0])
                unlink(fx->port_file);
}

static inline int fx_new(void **state)
{
        *state = calloc(1, sizeof(fx_t));
        return *state ? 0 : -1;
}

static inline int fx_free(void **state)
{
        teardown_fx(*state);
        free(*state);
        return 0;
}

/* Poll (like the worker) until `pred` holds or 10 s pass. */
static inline int poll_until(fx_t *fx, int (*pred)(fx_t *))
{
        int64_t end = te_proc_mono_ms() + 10000;
        while (te_proc_mono_ms() < end) {
                assert_int_equal(fx->b->ops->poll(fx->b, &fx->got), TE_BROKER_OK);
                fx->b->ops->delivered(fx->b); /* as the worker after its flush */
                if (pred(fx))
                        return 1;
                usleep(2000);
        }
        return 0;
}

static inline int is_ready(fx_t *fx)
{
        return fx->b->ops->connected(fx->b);
}

static inline te_order_cmd_t cmd(te_command_t c, const char *id, const char *ticker,
                                 te_side_t side, double qty, te_order_type_t ot,
                                 double lmt, double stp, te_tif_t tif)
{
        te_order_cmd_t o;
        memset(&o, 0, sizeof o);
        o.command = c;
        te_strlcpy(o.order_id, id, sizeof o.order_id);
        te_strlcpy(o.ids.decision_id, "d1", sizeof o.ids.decision_id);
        te_strlcpy(o.ids.portfolio_id, "pf1", sizeof o.ids.portfolio_id);
        te_strlcpy(o.ticker, ticker, sizeof o.ticker);
        o.side = side;
        o.quantity = qty;
        o.order_type = ot;
        o.has_limit_price = lmt > 0;
        o.limit_price = lmt;
        o.has_stop_price = stp > 0;
        o.stop_price = stp;
        o.tif = tif;
        o.mode = TE_MODE_PRODUCTION;
        te_strlcpy(o.route, "ibkr", sizeof o.route);
        return o;
}

static inline void handle(fx_t *fx, const te_order_cmd_t *c)
{
        assert_int_equal(te_broker_handle(fx->b, c, &fx->got), TE_BROKER_OK);
}

/* "ORDER:TYPE" of every report, space separated */
static inline void summary(fx_t *fx, char *out, size_t outsz)
{
        out[0] = '\0';
        size_t len = 0;
        for (size_t i = 0; i < fx->got.n; i++) {
                int n = snprintf(out + len, outsz - len, "%s%s:%s", i ? " " : "",
                                 fx->got.items[i].order_id,
                                 te_exec_type_name(fx->got.items[i].exec_type));
                if (n < 0 || (size_t)n >= outsz - len)
                        break;
                len += (size_t)n;
        }
}

static size_t want_n;
static inline int have_n(fx_t *fx)
{
        return fx->got.n >= want_n;
}

static inline const te_exec_report_t *rep(fx_t *fx, size_t i)
{
        assert_true(i < fx->got.n);
        return &fx->got.items[i];
}

/* Fail the test at the caller's `file`:`line` with a message: the helpers below report
 * where in the test a step did not happen, not where in this header. */
static inline void fx_fail_at(const char *file, int line, const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        vprint_error(fmt, ap);
        va_end(ap);
        _fail(file, line);
}

/* The opening of most tests: start the fake TWS with `fake_args` and the adapter
 * (setup_fx, no rate limit), wait until it is connected, hand it the NEW order `o`
 * and wait until `n` reports in all have come (fx->got; want_n is left at n). */
#define start_and_send(fx, fake_args, o, n)                                              \
        fx_start_and_send((fx), (fake_args), (o), (n), __FILE__, __LINE__)

static inline void fx_start_and_send(fx_t *fx, const char *const *fake_args,
                                     const te_order_cmd_t *o, size_t n, const char *file,
                                     int line)
{
        char s[512];
        size_t len = 0;
        s[0] = '\0';
        for (const char *const *a = fake_args; a && *a && len < sizeof s; a++) {
                int k = snprintf(s + len, sizeof s - len, "%s%s", len ? " " : "", *a);
                if (k < 0)
                        break;
                len += (size_t)k;
        }
        setup_fx(fx, fake_args, 0);
        if (!poll_until(fx, is_ready))
                fx_fail_at(file, line,
                           "ERROR: the adapter did not connect to the fake TWS (%s) "
                           "within 10 s\n",
                           s);
        handle(fx, o);
        want_n = n;
        if (!poll_until(fx, have_n)) {
                size_t got = fx->got.n;
                summary(fx, s, sizeof s);
                fx_fail_at(file, line,
                           "ERROR: after NEW %s, %zu of the %zu reports wanted within "
                           "10 s: [%s]\n",
                           o->order_id, got, n, s);
        }
}

#endif
