/*
 * exec-gen-sample: deterministic SYNTHETIC market data and target portfolios for demos
 * and tests. Not real prices.
 *
 *   exec-gen-sample [-c CONFIG] [-o KEY=VALUE]... --out DIR [--seed S] [--tickers N]
 *                   [--start YYYY-MM-DD] [--days N] [--portfolios 1|2]
 *
 * Settings as every tool: the keys out, seed, tickers, start, days and portfolios from
 * -c FILE, EXEC_* variables, -o KEY=VALUE, then the flags of the same names. -o once
 * named the output directory: `-o DIR` is refused with a line naming --out.
 *
 * Writes DIR/bars.csv (daily bars, trading days Monday to Friday from --start, sorted by
 * date then ticker) and DIR/targets.jsonl (one TargetPortfolio per portfolio on the first
 * trading day of every week, as_of that day 21:00 UTC in ms).
 *
 * Same arguments, same bytes, on any IEEE-754 machine: the generator is its own
 * xoshiro256** seeded through splitmix64, normal draws are Irwin-Hall sums (no libm),
 * prices are kept as integer ticks of 0.0001 and targets are integer quantities.
 *
 * Prices: per ticker a start price, a daily drift and a volatility; each day
 * close = previous close * (1 + drift + vol * z), the open gaps from the previous close,
 * high/low extend beyond max/min(open, close), so low <= open, close <= high always.
 * Targets (momentum): tickers whose close rose over the lookback are ranked by that
 * rise; the best `top` of them get notional/close shares, rounded down to a multiple of
 * 10 and capped at 2000; every other ticker gets 0 (full_replace).
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bars.h"
#include "bt_metrics.h"
#include "te_cfgtab.h"
#include "te_proc.h"

#define GS_PROC        "exec-gen-sample"
#define GS_TICKERS_MAX 500
#define GS_DAYS_MAX    5000
#define GS_TICK        10000 /* price ticks per currency unit (4 decimals) */
#define GS_QTY_MAX     2000
#define GS_SYM_MAX     16

/* ---- PRNG: splitmix64 seeds xoshiro256** ------------------------------------------ */

typedef struct gs_rng_s {
        uint64_t s[4];
} gs_rng_t;

static uint64_t splitmix64(uint64_t *x)
{
        uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
        return z ^ (z >> 31);
}

static void rng_seed(gs_rng_t *r, uint64_t seed)
{
        for (int i = 0; i < 4; i++)
                r->s[i] = splitmix64(&seed);
}

static uint64_t rotl(uint64_t x, int k)
{
        return (x << k) | (x >> (64 - k));
}

static uint64_t rng_next(gs_rng_t *r)
{
        uint64_t *s = r->s;
        uint64_t out = rotl(s[1] * 5, 7) * 9;
        uint64_t t = s[1] << 17;

        s[2] ^= s[0];
        s[3] ^= s[1];
        s[1] ^= s[2];
        s[0] ^= s[3];
        s[2] ^= t;
        s[3] = rotl(s[3], 45);
        return out;
}

/** Uniform in [0, 1). */
static double rng_unit(gs_rng_t *r)
{
        return (double)(rng_next(r) >> 11) * (1.0 / 9007199254740992.0);
}

/** Uniform in [lo, hi). */
static double rng_range(gs_rng_t *r, double lo, double hi)
{
        return lo + (hi - lo) * rng_unit(r);
}

/** Approximately standard normal (Irwin-Hall: sum of 12 uniforms - 6), in [-6, 6]. */
static double rng_normal(gs_rng_t *r)
{
        double sum = 0;

        for (int i = 0; i < 12; i++)
                sum += rng_unit(r);
        return sum - 6.0;
}

/* ---- calendar ---------------------------------------------------------------------- */

/** Monday = 0 ... Sunday = 6 (1970-01-01 was a Thursday). */
static int weekday(int64_t days)
{
        return (int)(((days % 7) + 7 + 3) % 7);
}

/** Parse YYYY-MM-DD (a real date, years 1971..2999). @returns 0 or -1. */
static int parse_date(const char *s, int64_t *days)
{
        int32_t day;
        /* the year's four digits compare as text once the date is known to be real */
        if (te_bars_parse_date(s, &day) != 0 || strncmp(s, "1971", 4) < 0 ||
            strncmp(s, "2999", 4) > 0)
                return -1;
        *days = day;
        return 0;
}

/* ---- generation -------------------------------------------------------------------- */

typedef struct gs_opts_s {
        uint64_t seed;
        int tickers;
        int64_t start;
        int days;
        int portfolios;
        const char *outdir;
} gs_opts_t;

typedef struct gs_portfolio_s {
        const char *id;
        int lookback; /* trading days */
        int top;      /* how many tickers at most hold a position */
        int64_t notional_ticks;
} gs_portfolio_t;

typedef struct gs_data_s {
        int n_tickers, n_days;
        char (*sym)[GS_SYM_MAX];
        int64_t *day;   /* [n_days] days since epoch */
        int64_t *close; /* [n_days * n_tickers] ticks */
} gs_data_t;

/** A non-negative amount in ticks, rounded to nearest. */
static int64_t amount_ticks(double x)
{
        return (int64_t)(x * GS_TICK + 0.5);
}

/** A price in ticks, never below 0.01. */
static int64_t to_ticks(double price)
{
        int64_t t = amount_ticks(price);
        return t < 100 ? 100 : t;
}

static void put_price(FILE *fp, int64_t ticks)
{
        fprintf(fp, "%" PRId64 ".%04" PRId64, ticks / GS_TICK, ticks % GS_TICK);
}

/** Generate the bars, write bars.csv to `fp` and keep the closes in `g`. */
static long gen_bars(const gs_opts_t *o, gs_data_t *g, FILE *fp)
{
        gs_rng_t rng;
        double drift[GS_TICKERS_MAX], vol[GS_TICKERS_MAX], base_vol[GS_TICKERS_MAX];
        int64_t prev[GS_TICKERS_MAX];
        int64_t day = o->start;

        rng_seed(&rng, o->seed);
        for (int t = 0; t < g->n_tickers; t++) {
                prev[t] = to_ticks(rng_range(&rng, 20.0, 300.0));
                drift[t] = rng_range(&rng, -0.0003, 0.0008);
                vol[t] = rng_range(&rng, 0.008, 0.03);
                base_vol[t] = rng_range(&rng, 2e5, 2e6);
        }
        fprintf(fp,
                "# SYNTHETIC market data generated by " GS_PROC " --seed %" PRIu64
                "; not real prices\n",
                o->seed);
        fprintf(fp, "date,ticker,open,high,low,close,volume\n");
        for (int i = 0; i < g->n_days; i++) {
                int y, m, d;
                while (weekday(day) >= 5)
                        day++;
                g->day[i] = day;
                te_bt_civil((int32_t)day, &y, &m, &d);
                for (int t = 0; t < g->n_tickers; t++) {
                        double p = (double)prev[t] / GS_TICK;
                        double r = drift[t] + vol[t] * rng_normal(&rng);
                        double gap = 0.3 * vol[t] * rng_normal(&rng);
                        int64_t open = to_ticks(p * (1.0 + gap));
                        int64_t close = to_ticks(p * (1.0 + r));
                        int64_t hi = open > close ? open : close;
                        int64_t lo = open < close ? open : close;
                        int64_t up = amount_ticks((double)hi / GS_TICK * 0.4 * vol[t] *
                                                  rng_unit(&rng));
                        int64_t down = amount_ticks((double)lo / GS_TICK * 0.4 * vol[t] *
                                                    rng_unit(&rng));
                        double vf = rng_range(&rng, 0.5, 2.5);
                        int64_t volume = (int64_t)(base_vol[t] * vf);

                        hi += up;
                        lo -= down;
                        if (lo < 100)
                                lo = 100;
                        if (volume < 100000)
                                volume = 100000;
                        if (volume > 5000000)
                                volume = 5000000;
                        fprintf(fp, "%04d-%02d-%02d,%s,", y, m, d, g->sym[t]);
                        put_price(fp, open);
                        fputc(',', fp);
                        put_price(fp, hi);
                        fputc(',', fp);
                        put_price(fp, lo);
                        fputc(',', fp);
                        put_price(fp, close);
                        fprintf(fp, ",%" PRId64 "\n", volume);
                        g->close[(size_t)i * (size_t)g->n_tickers + (size_t)t] = close;
                        prev[t] = close;
                }
                day++;
        }
        return (long)g->n_days * g->n_tickers;
}

/** Quantities of one portfolio on trading day `i` (uses closes of days <= i only). */
static void momentum_targets(const gs_data_t *g, const gs_portfolio_t *pf, int i,
                             int64_t *qty)
{
        double mom[GS_TICKERS_MAX];
        int order[GS_TICKERS_MAX];
        int from = i - pf->lookback < 0 ? 0 : i - pf->lookback;
        int n = 0;
        const int64_t *now = &g->close[(size_t)i * (size_t)g->n_tickers];
        const int64_t *then = &g->close[(size_t)from * (size_t)g->n_tickers];

        for (int t = 0; t < g->n_tickers; t++) {
                qty[t] = 0;
                mom[t] = (double)now[t] / (double)then[t] - 1.0;
                if (mom[t] > 0)
                        order[n++] = t;
        }
        /* insertion sort by momentum, descending; ties by ticker order */
        for (int a = 1; a < n; a++) {
                int v = order[a], b = a;
                while (b > 0 && mom[order[b - 1]] < mom[v]) {
                        order[b] = order[b - 1];
                        b--;
                }
                order[b] = v;
        }
        for (int k = 0; k < n && k < pf->top; k++) {
                int t = order[k];
                int64_t q = pf->notional_ticks / now[t];
                q = q / 10 * 10;
                qty[t] = q > GS_QTY_MAX ? GS_QTY_MAX : q;
        }
}

/** Write targets.jsonl to `fp`. @returns the number of lines. */
static long gen_targets(const gs_opts_t *o, const gs_data_t *g, FILE *fp)
{
        const gs_portfolio_t pfs[2] = {
            {"pf-demo", 20, (g->n_tickers + 1) / 2, (int64_t)50000 * GS_TICK},
            {"pf-alt", 60, (g->n_tickers + 2) / 3, (int64_t)30000 * GS_TICK},
        };
        int64_t qty[GS_TICKERS_MAX];
        long lines = 0;

        for (int i = 0; i < g->n_days; i++) {
                int y, m, d;
                /* first trading day of its week: Monday, or after a weekday later in
                 * the previous week (the very first day counts too) */
                if (i > 0 && weekday(g->day[i]) > weekday(g->day[i - 1]) &&
                    g->day[i] - g->day[i - 1] < 7)
                        continue;
                te_bt_civil((int32_t)g->day[i], &y, &m, &d);
                for (int p = 0; p < o->portfolios; p++) {
                        momentum_targets(g, &pfs[p], i, qty);
                        fprintf(fp,
                                "{\"decision_id\":\"dec-%s-%04d%02d%02d\","
                                "\"portfolio_id\":\"%s\",\"strategy_id\":\"strat-momo\","
                                "\"profile_version_id\":\"pv-1\","
                                "\"regime_id\":\"rg-normal\","
                                "\"universe_id\":\"univ-syn%d\",\"mode\":\"TRAINING\","
                                "\"as_of\":%" PRId64 ",\"unit\":\"QUANTITY\","
                                "\"full_replace\":true,\"targets\":[",
                                pfs[p].id, y, m, d, pfs[p].id, g->n_tickers,
                                (g->day[i] * 86400 + 21 * 3600) * 1000);
                        for (int t = 0; t < g->n_tickers; t++)
                                fprintf(fp, "%s{\"ticker\":\"%s\",\"value\":%" PRId64 "}",
                                        t ? "," : "", g->sym[t], qty[t]);
                        fprintf(fp, "]}\n");
                        lines++;
                }
        }
        return lines;
}

/* ---- output ------------------------------------------------------------------------ */

typedef struct gs_out_s {
        char path[PATH_MAX];
        char tmp[PATH_MAX];
        FILE *fp;
} gs_out_t;

/** Open DIR/name.tmp for writing. @returns 0, or -1 (reported). */
static int out_open(gs_out_t *out, const char *dir, const char *name)
{
        int n1 = snprintf(out->path, sizeof out->path, "%s/%s", dir, name);
        int n2 = snprintf(out->tmp, sizeof out->tmp, "%s/%s.tmp", dir, name);

        if (n1 < 0 || n2 < 0 || (size_t)n2 >= sizeof out->tmp) {
                fprintf(stderr, GS_PROC ": %s: path too long\n", dir);
                return -1;
        }
        out->fp = fopen(out->tmp, "w");
        if (out->fp == NULL) {
                fprintf(stderr, GS_PROC ": %s: %s\n", out->tmp, strerror(errno));
                return -1;
        }
        return 0;
}

/** Close and rename into place. @returns 0, or -1 (reported; the tmp file removed). */
static int out_commit(gs_out_t *out)
{
        int bad = ferror(out->fp);

        if (fclose(out->fp) != 0 || bad) {
                fprintf(stderr, GS_PROC ": %s: write error\n", out->tmp);
                unlink(out->tmp);
                return -1;
        }
        out->fp = NULL;
        if (rename(out->tmp, out->path) != 0) {
                fprintf(stderr, GS_PROC ": %s: %s\n", out->path, strerror(errno));
                unlink(out->tmp);
                return -1;
        }
        return 0;
}

static void out_abort(gs_out_t *out)
{
        if (out->fp != NULL) {
                fclose(out->fp);
                unlink(out->tmp);
                out->fp = NULL;
        }
}

/* ---- main -------------------------------------------------------------------------- */

/* Settings: a config table like every tool's (-c FILE, -o KEY=VALUE, EXEC_*), each key
 * also a flag of its own name (--seed ...), the flags winning. */
typedef struct gs_conf_s {
        char seed[32]; /* an unsigned 64-bit integer, parsed by gs_settle */
        int tickers;
        char start[16];
        int days;
        int portfolios;
        char out[1024];
} gs_conf_t;

static const te_cfg_item_t gs_items[] = {
    TE_CFG_S(gs_conf_t, "out", out, "",
             "write DIR/bars.csv and DIR/targets.jsonl here; required"),
    TE_CFG_S(gs_conf_t, "seed", seed, "42", "generator seed (unsigned integer)"),
    TE_CFG_I(gs_conf_t, "tickers", tickers, "20", 1, GS_TICKERS_MAX, "tickers"),
    TE_CFG_S(gs_conf_t, "start", start, "2024-01-02", "first day, YYYY-MM-DD"),
    TE_CFG_I(gs_conf_t, "days", days, "504", 1, GS_DAYS_MAX,
             "trading days (Monday to Friday) from start"),
    TE_CFG_I(gs_conf_t, "portfolios", portfolios, "1", 1, 2, "portfolios, 1 or 2"),
};
#define GS_N_ITEMS (sizeof gs_items / sizeof gs_items[0])

static void usage(FILE *fp)
{
        fprintf(fp,
                "usage: " GS_PROC " [-c CONFIG] [-o KEY=VALUE]... --out DIR [--seed S] "
                "[--tickers N]\n"
                "                       [--start YYYY-MM-DD] [--days N] "
                "[--portfolios 1|2]\n"
                "  writes DIR/bars.csv and DIR/targets.jsonl (SYNTHETIC data)\n"
                "  -c CONFIG      key = value file (the keys below)\n"
                "  -o KEY=VALUE   set one key (repeatable); --KEY VALUE sets it too and "
                "wins\n"
                "  -h, --help     this help;  --version  version and build commit\n"
                "settings (defaults < -c file < environment EXEC_<KEY> < -o < flags):\n");
        te_cfgtab_usage_keys(fp, gs_items, GS_N_ITEMS);
        fprintf(fp, "exit status: 0 written, 1 a write failed, 2 usage or configuration "
                    "error\n");
}

/* The settings as the generator's options. @returns 0, or -1 with errstr. */
static int gs_settle(const gs_conf_t *c, gs_opts_t *o, char *errstr, size_t errsz)
{
        char *end = NULL;
        errno = 0;
        o->seed = strtoull(c->seed, &end, 10);
        if (errno != 0 || end == c->seed || *end != '\0' || c->seed[0] == '-') {
                snprintf(errstr, errsz, "seed: need an unsigned integer");
                return -1;
        }
        if (parse_date(c->start, &o->start) != 0) {
                snprintf(errstr, errsz, "start: need a YYYY-MM-DD date");
                return -1;
        }
        if (!c->out[0]) {
                snprintf(errstr, errsz, "out is required (--out DIR or -o out=DIR)");
                return -1;
        }
        o->tickers = c->tickers;
        o->days = c->days;
        o->portfolios = c->portfolios;
        o->outdir = c->out;
        return 0;
}

/* Parse argv into `o` (its strings point into `c`). @returns 0, or the exit status:
 * 0 after -h / --version is returned as 1 in *done, 2 on an error (printed). */
static int gs_args(int argc, char **argv, gs_conf_t *c, gs_opts_t *o, int *done)
{
        enum { OPT_VERSION = 256 };
        static const struct option longopts[] = {
            {"out", required_argument, NULL, 0},
            {"seed", required_argument, NULL, 0},
            {"tickers", required_argument, NULL, 0},
            {"start", required_argument, NULL, 0},
            {"days", required_argument, NULL, 0},
            {"portfolios", required_argument, NULL, 0},
            {"config", required_argument, NULL, 'c'},
            {"help", no_argument, NULL, 'h'},
            {"version", no_argument, NULL, OPT_VERSION},
            {NULL, 0, NULL, 0},
        };
        const char *flag_val[6] = {NULL};
        char errstr[1200];
        te_tool_args_t a = {0};
        int opt, idx;
        *done = 0;
        opterr = 0; /* te_tool_bad_opt names a bad flag in one line */
        while ((opt = getopt_long(argc, argv, "c:o:h", longopts, &idx)) != -1) {
                if (opt == 0) {
                        flag_val[idx] = optarg; /* longopts[0..5]: the keys' flags */
                } else if (opt == 'c' || opt == 'o') {
                        if (opt == 'o' && !strchr(optarg, '=')) {
                                fprintf(stderr,
                                        GS_PROC ": -o takes KEY=VALUE; the output "
                                                "directory is --out %s (or -o out=%s)\n",
                                        optarg, optarg);
                                return 2;
                        }
                        if (te_tool_opt(&a, GS_PROC, opt, optarg) < 0)
                                return 2;
                } else if (opt == 'h' || opt == OPT_VERSION) {
                        if (opt == 'h')
                                usage(stdout);
                        else
                                te_proc_print_version(stdout, GS_PROC);
                        *done = 1;
                        return fflush(stdout) == 0 ? 0 : 1;
                } else {
                        te_tool_bad_opt(GS_PROC, argv, "c:o:h");
                        return 2;
                }
        }
        if (optind != argc) {
                fprintf(stderr, GS_PROC ": unexpected argument '%s' (see -h)\n",
                        argv[optind]);
                return 2;
        }
        te_cfg_t *cfg =
            te_tool_cfg_load(gs_items, GS_N_ITEMS, c, &a, errstr, sizeof errstr);
        int ok = cfg != NULL;
        for (int k = 0; ok && k < 6; k++)
                ok = !flag_val[k] || te_cfg_set(cfg, longopts[k].name, flag_val[k],
                                                "flag", errstr, sizeof errstr) == 0;
        ok = ok && te_tool_no_kafka(cfg, errstr, sizeof errstr) == 0;
        ok = ok && gs_settle(c, o, errstr, sizeof errstr) == 0;
        te_cfg_destroy(cfg);
        if (!ok) {
                fprintf(stderr, GS_PROC ": config: %s\n", errstr);
                return 2;
        }
        return 0;
}

int main(int argc, char **argv)
{
        static gs_conf_t c;
        gs_opts_t o = {0};
        gs_data_t g = {0};
        gs_out_t bars = {.fp = NULL}, targets = {.fp = NULL};
        struct stat st;
        int width = 2, rc = 1, done;
        long n_bars, n_targets;

        rc = gs_args(argc, argv, &c, &o, &done);
        if (rc != 0 || done)
                return rc;
        rc = 1;
        if (stat(o.outdir, &st) != 0 && mkdir(o.outdir, 0755) != 0) {
                fprintf(stderr, GS_PROC ": %s: %s\n", o.outdir, strerror(errno));
                return 2;
        }

        g.n_tickers = o.tickers;
        g.n_days = o.days;
        g.sym = calloc((size_t)o.tickers, sizeof *g.sym);
        g.day = calloc((size_t)o.days, sizeof *g.day);
        g.close = calloc((size_t)o.days * (size_t)o.tickers, sizeof *g.close);
        if (g.sym == NULL || g.day == NULL || g.close == NULL) {
                fprintf(stderr, GS_PROC ": out of memory\n");
                goto out;
        }
        if (o.tickers > 99)
                width = 3;
        for (int t = 0; t < o.tickers; t++)
                snprintf(g.sym[t], GS_SYM_MAX, "SYN%0*d", width, t + 1);

        if (out_open(&bars, o.outdir, "bars.csv") != 0)
                goto out;
        n_bars = gen_bars(&o, &g, bars.fp);
        if (out_open(&targets, o.outdir, "targets.jsonl") != 0)
                goto out;
        n_targets = gen_targets(&o, &g, targets.fp);
        if (out_commit(&bars) != 0 || out_commit(&targets) != 0)
                goto out;
        printf("%s: %ld bars; %s: %ld targets\n", bars.path, n_bars, targets.path,
               n_targets);
        rc = 0;
out:
        out_abort(&bars);
        out_abort(&targets);
        free(g.sym);
        free(g.day);
        free(g.close);
        return rc;
}
