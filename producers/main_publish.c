/*
 * exec-publish: JSON lines -> Avro TargetPortfolio (or ExecutionMode) messages on a
 * topic.
 *
 *   exec-publish [-c CONFIG] [-o KEY=VALUE]... [-b BOOTSTRAP | --bootstrap-file PATH]
 *                [-t TOPIC] [--type target|mode] [--max-in-flight N] [--skip-invalid]
 *                [--check] [FILE | -]
 *
 * Reads one JSON object per line (FILE, or stdin when absent or "-"), skips blank lines
 * and lines starting with '#', encodes each object (msg_json_in.h, te_codec.h) and
 * produces it keyed by portfolio_id (mode lines: by scope) to exec.targets (exec.mode
 * with --type mode). At most --max-in-flight messages are produced but not yet
 * delivered at any time. A bad line stops the run ("file:line: why", exit 1) unless
 * --skip-invalid, which reports it and goes on. --check parses and encodes only,
 * without connecting to Kafka. At the end it waits for every delivery and prints
 *   published N messages to TOPIC (M skipped)
 * on stdout. The topic must already exist (checked in the cluster's metadata).
 * Exit status: 0 ok, 1 a bad line, a failed delivery or an error at run time, 2 bad
 * usage or configuration.
 *
 * Settings (te_config): log.level, bootstrap.file, bootstrap.wait.ms, topic,
 * max.in.flight and kafka.* pass-through, from -c FILE, then EXEC_* environment
 * variables (EXEC_TOPIC, EXEC_KAFKA_BOOTSTRAP_SERVERS, ...), then -o, then the flags.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "msg_json_in.h"
#include "te_buf.h"
#include "te_cfgtab.h"
#include "te_codec.h"
#include "te_config.h"
#include "te_kafka.h"
#include "te_kafka_meta.h"
#include "te_log.h"
#include "te_proc.h"

#define PROC                "exec-publish"
#define IDLE_POLL_MS        100
#define STOP_FLUSH_MS       10000
#define METADATA_TIMEOUT_MS 10000
#define DEFAULT_TOPIC       "exec.targets"
#define DEFAULT_MODE_TOPIC  "exec.mode"

typedef struct pub_conf_s {
        te_tool_conf_t tool; /* log.level, bootstrap.file, bootstrap.wait.ms */
        char topic[250];
        int64_t max_in_flight;
} pub_conf_t;

static const te_cfg_item_t pub_items[] = {
    TE_CFG_TOOL(pub_conf_t, "info"),
    TE_CFG_S(pub_conf_t, "topic", topic, "",
             "topic to publish to (default exec.targets, exec.mode with --type mode)"),
    TE_CFG_I(pub_conf_t, "max.in.flight", max_in_flight, "10000", 1, 1000000,
             "messages produced but not yet delivered, at most"),
};

typedef struct pub_args_s {
        te_tool_args_t tool; /* -c, -o, -b, --bootstrap-file */
        const char *topic;
        const char *max_in_flight;
        const char *input; /* NULL or "-": stdin */
        int mode;          /* 0: TargetPortfolio, 1: ExecutionMode */
        int skip_invalid;
        int check;
} pub_args_t;

typedef struct pub_s {
        pub_conf_t conf;
        te_cfg_t *cfg;
        te_codec_t *codec;
        te_producer_t *producer; /* NULL with --check */
        size_t max_msg;          /* key + value bound of the producer */
        FILE *in;
        const char *in_name;
        te_buf_t line;
        te_buf_t value;
        te_target_portfolio_t tp;
        te_exec_mode_t em;
        uint64_t sent, checked, skipped;
} pub_t;

static void usage(FILE *fp)
{
        fprintf(
            fp,
            "usage: " PROC " [-c CONFIG] [-o KEY=VALUE]... [-b BOOTSTRAP | "
            "--bootstrap-file PATH]\n"
            "                    [-t TOPIC] [--type target|mode] [--max-in-flight N]\n"
            "                    [--skip-invalid] [--check] [FILE | -]\n"
            "  -c CONFIG             key = value file (log.level, bootstrap.file,\n"
            "                        bootstrap.wait.ms, topic, max.in.flight, kafka.*)\n"
            "  -o KEY=VALUE          override one config key (repeatable)\n"
            "  -b BOOTSTRAP          bootstrap.servers (wins over the config)\n"
            "  --bootstrap-file PATH wait for PATH and read bootstrap.servers from it\n"
            "  -t TOPIC              topic (default " DEFAULT_TOPIC
            ", or " DEFAULT_MODE_TOPIC " for --type mode)\n"
            "  --type target|mode    TargetPortfolio (default) or ExecutionMode lines\n"
            "  --max-in-flight N     at most N messages awaiting delivery (default "
            "10000)\n"
            "  --skip-invalid        report bad lines and go on (default: stop, exit 1)\n"
            "  --check               parse and encode only; do not connect to Kafka\n");
}

/* @returns 0, 1 after -h (exit 0), or -1 on a usage error (message printed). */
static int parse_args(int argc, char **argv, pub_args_t *a)
{
        enum { OPT_TYPE = 256, OPT_MIF, OPT_SKIP, OPT_CHECK };
        static const struct option longopts[] = {
            TE_TOOL_LONGOPTS,
            {"topic", required_argument, NULL, 't'},
            {"type", required_argument, NULL, OPT_TYPE},
            {"max-in-flight", required_argument, NULL, OPT_MIF},
            {"skip-invalid", no_argument, NULL, OPT_SKIP},
            {"check", no_argument, NULL, OPT_CHECK},
            {"help", no_argument, NULL, 'h'},
            {NULL, 0, NULL, 0},
        };
        int ch;
        memset(a, 0, sizeof *a);
        opterr = 0; /* te_tool_bad_opt says it in one line */
        while ((ch = getopt_long(argc, argv, TE_TOOL_SHORTOPTS "t:h", longopts, NULL)) !=
               -1) {
                int taken = te_tool_opt(&a->tool, PROC, ch, optarg);
                if (taken < 0)
                        return -1;
                if (taken == 2)
                        return 1; /* --version */
                if (taken)
                        continue;
                switch (ch) {
                case 't':
                        a->topic = optarg;
                        break;
                case OPT_TYPE:
                        if (strcmp(optarg, "target") == 0)
                                a->mode = 0;
                        else if (strcmp(optarg, "mode") == 0)
                                a->mode = 1;
                        else {
                                fprintf(stderr,
                                        PROC ": --type: expected target or mode\n");
                                return -1;
                        }
                        break;
                case OPT_MIF:
                        a->max_in_flight = optarg;
                        break;
                case OPT_SKIP:
                        a->skip_invalid = 1;
                        break;
                case OPT_CHECK:
                        a->check = 1;
                        break;
                case 'h':
                        usage(stdout);
                        return 1;
                default:
                        te_tool_bad_opt(PROC, argv, TE_TOOL_SHORTOPTS "t:h");
                        return -1;
                }
        }
        if (argc - optind > 1) {
                fprintf(stderr, PROC ": at most one input file\n");
                usage(stderr);
                return -1;
        }
        if (optind < argc && strcmp(argv[optind], "-") != 0)
                a->input = argv[optind];
        return te_tool_args_check(&a->tool, PROC);
}

/* Config: defaults < file < EXEC_* env < -o < command-line flags.
 * @returns 0, or -1 with errstr. */
static int load_config(pub_t *p, const pub_args_t *a, char *errstr, size_t errsz)
{
        p->cfg = te_tool_cfg_load(pub_items, sizeof pub_items / sizeof pub_items[0],
                                  &p->conf, &a->tool, errstr, errsz);
        if (!p->cfg)
                return -1;
        if (a->topic && te_cfg_set(p->cfg, "topic", a->topic, "-t", errstr, errsz) != 0)
                return -1;
        if (a->max_in_flight && te_cfg_set(p->cfg, "max.in.flight", a->max_in_flight,
                                           "--max-in-flight", errstr, errsz) != 0)
                return -1;
        if (!p->conf.topic[0])
                te_strlcpy(p->conf.topic, a->mode ? DEFAULT_MODE_TOPIC : DEFAULT_TOPIC,
                           sizeof p->conf.topic);
        if (!a->check &&
            te_tool_need_bootstrap(p->cfg, &p->conf.tool, errstr, errsz) != 0)
                return -1;
        return 0;
}

/* Wait for the bootstrap file if one is configured, create the producer and check
 * that the topic exists. @returns 0, or -1 with errstr. */
static int connect_producer(pub_t *p, char *errstr, size_t errsz)
{
        char buf[64];
        size_t sz = sizeof buf;

        if (te_tool_resolve_bootstrap(p->cfg, &p->conf.tool, errstr, errsz) != 0)
                return -1;
        p->producer = te_producer_new(p->cfg, NULL, errstr, errsz);
        /* the topic must exist: a cluster that auto-creates topics (the mock cluster
         * always does) would otherwise swallow a misspelt -t silently */
        int32_t np;
        if (!p->producer ||
            te_kafka_partition_count(te_producer_handle(p->producer), p->conf.topic, 0,
                                     METADATA_TIMEOUT_MS, &np, errstr, errsz) != 0)
                return -1;
        /* librdkafka refuses key + value above message.max.bytes: check per line so
         * that an oversized line is reported as a bad line, not a failed run */
        p->max_msg = 1000000;
        if (rd_kafka_conf_get(rd_kafka_conf(te_producer_handle(p->producer)),
                              "message.max.bytes", buf, &sz) == RD_KAFKA_CONF_OK)
                p->max_msg = (size_t)strtoull(buf, NULL, 10);
        return 0;
}

/* Parse and encode one line into p->value; *key points into p->tp / p->em.
 * @returns 0, or -1 with errstr saying why the line is bad. */
static int encode_line(pub_t *p, int mode, const char **key, char *errstr, size_t errsz)
{
        const char *text = (const char *)p->line.data;
        char why[512];
        te_codec_err_t e;

        if (!mode) {
                if (te_json_in_target_portfolio(text, p->line.len, &p->tp, errstr, errsz))
                        return -1;
                e = te_codec_encode_target_portfolio(p->codec, &p->tp, &p->value, why,
                                                     sizeof why);
                *key = p->tp.ids.portfolio_id;
        } else {
                if (te_json_in_exec_mode(text, p->line.len, &p->em, errstr, errsz))
                        return -1;
                e = te_codec_encode_exec_mode(p->codec, &p->em, &p->value, why,
                                              sizeof why);
                *key = p->em.scope;
        }
        if (e != TE_CODEC_OK) {
                snprintf(errstr, errsz, "encode: %s: %s", te_codec_err_name(e), why);
                return -1;
        }
        if (p->producer && p->value.len + strlen(*key) > p->max_msg) {
                snprintf(errstr, errsz,
                         "encoded message is %zu bytes, over message.max.bytes %zu "
                         "(raise kafka.message.max.bytes)",
                         p->value.len + strlen(*key), p->max_msg);
                return -1;
        }
        return 0;
}

/* Keep at most max.in.flight messages awaiting delivery. */
static void wait_in_flight(pub_t *p)
{
        for (;;) {
                uint64_t done =
                    te_producer_delivered(p->producer) + te_producer_failed(p->producer);
                if (p->sent - done < (uint64_t)p->conf.max_in_flight || te_proc_stop)
                        return;
                te_producer_poll(p->producer, IDLE_POLL_MS);
        }
}

/* Read, parse, encode and produce every line.
 * @returns 0, or -1 (a bad line without --skip-invalid, or a read/produce error). */
static int run(pub_t *p, const pub_args_t *a)
{
        char errstr[1024];
        unsigned long lineno = 0;

        for (;;) {
                const char *key = NULL;
                te_line_rc_t lrc = te_json_in_read_line(p->in, &p->line);
                if (lrc == TE_LINE_EOF)
                        return 0;
                if (lrc == TE_LINE_ERROR) {
                        if (te_proc_stop)
                                return -1;
                        TE_LOG(TE_LOG_ERROR, NULL, "publish.read_failed", "%s: %s",
                               p->in_name, strerror(errno));
                        return -1;
                }
                lineno++;
                int bad = 0;
                if (lrc == TE_LINE_TOO_LONG) {
                        snprintf(errstr, sizeof errstr, "line too long (max %u bytes)",
                                 TE_JSON_IN_MAX);
                        bad = 1;
                } else if (te_json_in_line_skippable((const char *)p->line.data,
                                                     p->line.len)) {
                        continue;
                } else {
                        bad = encode_line(p, a->mode, &key, errstr, sizeof errstr) != 0;
                }
                if (bad) {
                        TE_LOG(TE_LOG_ERROR, NULL, "publish.bad_line", "%s:%lu: %s",
                               p->in_name, lineno, errstr);
                        if (!a->skip_invalid)
                                return -1;
                        p->skipped++;
                        continue;
                }
                if (!p->producer) {
                        p->checked++;
                        continue;
                }
                wait_in_flight(p);
                if (te_proc_stop)
                        return -1;
                if (te_producer_send(p->producer, p->conf.topic, key, strlen(key),
                                     p->value.data, p->value.len, NULL, 0, errstr,
                                     sizeof errstr) != 0) {
                        TE_LOG(TE_LOG_ERROR, NULL, "publish.send_failed", "%s:%lu: %s",
                               p->in_name, lineno, errstr);
                        return -1;
                }
                p->sent++;
                if (te_proc_stop)
                        return -1;
        }
}

/* Wait until every message is delivered or failed (interruptible), then collect the
 * delivery status. @returns 0, or -1 with errstr. */
static int drain(pub_t *p, char *errstr, size_t errsz)
{
        rd_kafka_t *rk = te_producer_handle(p->producer);
        while (rd_kafka_outq_len(rk) > 0 && !te_proc_stop)
                te_producer_poll(p->producer, IDLE_POLL_MS);
        return te_producer_flush(p->producer, te_proc_stop ? STOP_FLUSH_MS : 1000, errstr,
                                 errsz);
}

int main(int argc, char **argv)
{
        pub_args_t a;
        pub_t p;
        char errstr[1024];
        int status = 1;

        te_log_init(PROC, TE_LOG_INFO);
        memset(&p, 0, sizeof p);
        te_buf_init(&p.line, TE_JSON_IN_MAX);
        te_buf_init(&p.value, TE_CODEC_MAX_MESSAGE);
        switch (parse_args(argc, argv, &a)) {
        case 1:
                return 0;
        case -1:
                return 2;
        }
        te_proc_install_signals();
        if (load_config(&p, &a, errstr, sizeof errstr) != 0) {
                fprintf(stderr, PROC ": config: %s\n", errstr); /* one plain line */
                status = 2;
                goto out;
        }
        te_log_init(PROC, (te_log_level_t)p.conf.tool.log_level);

        p.in_name = a.input ? a.input : "stdin";
        p.in = a.input ? fopen(a.input, "r") : stdin;
        if (!p.in) {
                TE_LOG(TE_LOG_ERROR, NULL, "publish.open", "%s: %s", a.input,
                       strerror(errno));
                goto out;
        }
        p.codec = te_codec_new(errstr, sizeof errstr);
        if (!p.codec) {
                TE_LOG(TE_LOG_ERROR, NULL, "publish.codec", "%s", errstr);
                goto out;
        }
        if (!a.check && connect_producer(&p, errstr, sizeof errstr) != 0) {
                TE_LOG(TE_LOG_ERROR, NULL, "publish.connect", "%s", errstr);
                goto out;
        }

        int run_rc = run(&p, &a);
        if (te_proc_stop)
                TE_LOG(TE_LOG_WARN, NULL, "publish.interrupted",
                       "stopped by signal after %" PRIu64 " messages", p.sent);
        if (a.check) {
                printf("checked %" PRIu64 " messages (%" PRIu64 " skipped)\n", p.checked,
                       p.skipped);
                status = run_rc == 0 ? 0 : 1;
                goto out;
        }
        int drain_rc = drain(&p, errstr, sizeof errstr);
        if (drain_rc != 0)
                TE_LOG(TE_LOG_ERROR, NULL, "publish.delivery_failed", "%s", errstr);
        printf("published %" PRIu64 " messages to %s (%" PRIu64 " skipped)\n",
               te_producer_delivered(p.producer), p.conf.topic, p.skipped);
        status = run_rc == 0 && drain_rc == 0 && !te_proc_stop ? 0 : 1;

out:
        te_producer_destroy(p.producer);
        te_codec_destroy(p.codec);
        if (p.in && p.in != stdin)
                fclose(p.in);
        te_target_portfolio_free(&p.tp);
        te_buf_free(&p.line);
        te_buf_free(&p.value);
        te_cfg_destroy(p.cfg);
        if (fflush(stdout) != 0 && status == 0)
                status = 1;
        return status;
}
