/*
 * exec-tail: print one of our topics as JSON lines on stdout.
 *
 *   exec-tail [-b BOOTSTRAP | --bootstrap-file PATH] [-c CONFIG] [-o KEY=VALUE]...
 *             -t TOPIC [--offset POS | --from-beginning] [-n COUNT] [--exit-at-end]
 *             [--partition P]
 *
 * A plain consumer assigned to every partition of TOPIC (or only P); it joins no group
 * and never commits, so it disturbs no process. It starts, in each partition, at
 * --offset POS as kcat's -o does: beginning, end (the default), an absolute offset N
 * (clamped to the partition's low and high watermarks), -N (N records before the end)
 * or @TIME (the first record whose Kafka timestamp is >= TIME, in ms since the epoch
 * or as YYYY-MM-DD[THH:MM:SS[.mmm]Z] UTC). For @TIME the broker's offsets_for_times
 * answer is used; where it has none (-1: the embedded mock cluster always answers so)
 * the partition is read from its beginning and records older than TIME are skipped.
 * Each record is decoded with te_codec and printed by te_json_out_record():
 *   {"topic":..,"partition":..,"offset":..,"timestamp":..,"schema_id":..,"key":..,
 *    "headers":{..},"value":{..}}
 * or, for bytes that do not decode, {..,"error":"<code>: <why>","value_hex":".."}.
 * --exit-at-end stops once every assigned partition reached the high watermark seen
 * at start; -n stops after COUNT records; SIGINT/SIGTERM stop cleanly.
 * Exit status: 0 ok (also when stdout is closed early), 1 run-time error,
 * 2 bad usage or configuration.
 *
 * Settings (te_config): log.level (default warn), bootstrap.file, bootstrap.wait.ms,
 * topic and kafka.* pass-through, from -c FILE, then EXEC_* environment variables,
 * then -o, then the flags.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <librdkafka/rdkafka.h>

#include "msg_json_in.h"
#include "msg_json_out.h"
#include "te_buf.h"
#include "te_cfgtab.h"
#include "te_codec.h"
#include "te_config.h"
#include "te_kafka.h"
#include "te_kafka_meta.h"
#include "te_log.h"
#include "te_proc.h"

#define PROC            "exec-tail"
#define MAX_HEADERS     64
#define POLL_MS         100
#define META_TIMEOUT_MS 10000
#define OUT_MAX         (64u * 1024u * 1024u) /* one printed record */

typedef struct tail_conf_s {
        te_tool_conf_t tool; /* log.level, bootstrap.file, bootstrap.wait.ms */
        char topic[250];
} tail_conf_t;

static const te_cfg_item_t tail_items[] = {
    TE_CFG_TOOL(tail_conf_t, "warn"),
    TE_CFG_S(tail_conf_t, "topic", topic, "", "topic to print"),
};

/* Our consumer never commits and never joins a group (assign, not subscribe);
 * group.id is only there because rd_kafka_consumer_poll needs one. */
static const char *const tail_defaults[] = {
    "group.id", "exec-tail", "auto.offset.reset", "earliest", "fetch.wait.max.ms",
    "100",      NULL};
static const char *const tail_fixed[] = {"enable.auto.commit",
                                         "false",
                                         "enable.auto.offset.store",
                                         "false",
                                         "enable.partition.eof",
                                         "true",
                                         NULL};

typedef enum {
        START_END,
        START_BEGINNING,
        START_OFFSET, /* start_val: absolute offset */
        START_TAIL,   /* start_val: records before the end */
        START_TIME,   /* start_val: timestamp, ms */
} start_kind_t;

typedef struct tail_args_s {
        te_tool_args_t tool; /* -c, -o, -b, --bootstrap-file */
        const char *topic;
        start_kind_t start;
        int64_t start_val;
        int exit_at_end;
        int64_t count;     /* 0: no limit */
        int32_t partition; /* -1: all */
} tail_args_t;

typedef struct tail_part_s {
        int assigned;
        int done;           /* reached end[] (only with --exit-at-end) */
        int64_t end;        /* high watermark at start */
        int skip_before_ts; /* @TIME by scanning: skip records older than skip_ts */
} tail_part_t;

typedef struct tail_s {
        tail_conf_t conf;
        te_cfg_t *cfg;
        te_codec_t *codec;
        rd_kafka_t *rk;
        tail_part_t *parts; /* indexed by partition id */
        int32_t n_parts;    /* size of parts[] */
        te_buf_t out;
        te_target_portfolio_t tp_scratch;
        int64_t printed;
        int64_t skip_ts;
} tail_t;

static void usage(FILE *fp)
{
        fprintf(
            fp,
            "usage: " PROC " [-b BOOTSTRAP | --bootstrap-file PATH] [-c CONFIG] "
            "[-o KEY=VALUE]...\n"
            "                 -t TOPIC [--offset POS] [-n COUNT] [--exit-at-end] "
            "[--partition P]\n"
            "  -b BOOTSTRAP          bootstrap.servers (wins over the config)\n"
            "  --bootstrap-file PATH wait for PATH and read bootstrap.servers from it\n"
            "  -c CONFIG             key = value file (log.level, bootstrap.file,\n"
            "                        bootstrap.wait.ms, topic, kafka.*)\n"
            "  -o KEY=VALUE          override one config key (repeatable)\n"
            "  -t TOPIC              topic to print\n"
            "  --offset POS          where to start in each partition (default end):\n"
            "                          beginning | end | N (offset N) | -N (N records\n"
            "                          before the end) | @TIME (first record with a\n"
            "                          timestamp >= TIME: ms since the epoch or\n"
            "                          YYYY-MM-DD[THH:MM:SS[.mmm]Z]; a broker without "
            "an\n"
            "                          answer, e.g. the mock cluster, is scanned)\n"
            "  --from-beginning      --offset beginning\n"
            "  -n COUNT              exit after COUNT records\n"
            "  --exit-at-end         exit once the high watermarks seen at start are "
            "reached\n"
            "  --partition P         only partition P\n"
            "  -h, --help            this help;  --version  version and commit\n"
            "each line: {\"topic\",\"partition\",\"offset\",\"timestamp\" (ms),"
            "\"schema_id\",\"key\",\"headers\",\"value\"}\n"
            "exit status: 0 ok, 1 run-time error, 2 usage or configuration error\n");
}

/* --offset POS. @returns 0 or -1. */
static int parse_start(const char *s, tail_args_t *a)
{
        if (strcmp(s, "beginning") == 0) {
                a->start = START_BEGINNING;
                return 0;
        }
        if (strcmp(s, "end") == 0) {
                a->start = START_END;
                return 0;
        }
        if (s[0] == '@' || (s[0] == 's' && s[1] == '@')) {
                const char *t = s[0] == '@' ? s + 1 : s + 2;
                a->start = START_TIME;
                if (te_parse_i64(t, 0, INT64_MAX, &a->start_val) == 0)
                        return 0;
                return te_json_in_parse_time(t, &a->start_val);
        }
        if (s[0] == '-') {
                a->start = START_TAIL;
                return te_parse_i64(s + 1, 1, INT64_MAX, &a->start_val);
        }
        a->start = START_OFFSET;
        return te_parse_i64(s, 0, INT64_MAX, &a->start_val);
}

/* @returns 0, 1 after -h (exit 0), or -1 on a usage error (message printed). */
static int parse_args(int argc, char **argv, tail_args_t *a)
{
        enum { OPT_BEGIN = 256, OPT_END, OPT_PART, OPT_OFFSET };
        static const struct option longopts[] = {
            TE_TOOL_LONGOPTS,
            {"topic", required_argument, NULL, 't'},
            {"count", required_argument, NULL, 'n'},
            {"from-beginning", no_argument, NULL, OPT_BEGIN},
            {"offset", required_argument, NULL, OPT_OFFSET},
            {"exit-at-end", no_argument, NULL, OPT_END},
            {"partition", required_argument, NULL, OPT_PART},
            {"help", no_argument, NULL, 'h'},
            {NULL, 0, NULL, 0},
        };
        int64_t v;
        int ch;
        opterr = 0; /* te_tool_bad_opt says it in one line */
        memset(a, 0, sizeof *a);
        a->start = START_END;
        a->partition = -1;
        while ((ch = getopt_long(argc, argv, TE_TOOL_SHORTOPTS "t:n:h", longopts,
                                 NULL)) != -1) {
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
                case 'n':
                        if (te_parse_i64(optarg, 1, INT64_MAX, &a->count) != 0) {
                                fprintf(stderr, PROC ": -n: expected a count >= 1\n");
                                return -1;
                        }
                        break;
                case OPT_BEGIN:
                        a->start = START_BEGINNING;
                        break;
                case OPT_OFFSET:
                        if (parse_start(optarg, a) != 0) {
                                fprintf(stderr,
                                        PROC ": --offset %s: expected beginning, end, N, "
                                             "-N or @TIME (see -h)\n",
                                        optarg);
                                return -1;
                        }
                        break;
                case OPT_END:
                        a->exit_at_end = 1;
                        break;
                case OPT_PART:
                        if (te_parse_i64(optarg, 0, INT32_MAX, &v) != 0) {
                                fprintf(stderr,
                                        PROC ": --partition: expected a number\n");
                                return -1;
                        }
                        a->partition = (int32_t)v;
                        break;
                case 'h':
                        usage(stdout);
                        return 1;
                default:
                        te_tool_bad_opt(PROC, argv, TE_TOOL_SHORTOPTS "t:n:h");
                        return -1;
                }
        }
        if (optind < argc) {
                fprintf(stderr, PROC ": unexpected argument '%s' (see -h)\n",
                        argv[optind]);
                return -1;
        }
        return te_tool_args_check(&a->tool, PROC);
}

/* Config: defaults < file < EXEC_* env < -o < command-line flags; then the bootstrap
 * file if any. @returns 0, -1 (config error) or -2 (bootstrap error), with errstr. */
static int load_config(tail_t *t, const tail_args_t *a, char *errstr, size_t errsz)
{
        t->cfg = te_tool_cfg_load(tail_items, sizeof tail_items / sizeof tail_items[0],
                                  &t->conf, &a->tool, errstr, errsz);
        if (!t->cfg)
                return -1;
        if (a->topic && te_cfg_set(t->cfg, "topic", a->topic, "-t", errstr, errsz) != 0)
                return -1;
        if (!t->conf.topic[0]) {
                snprintf(errstr, errsz, "no topic: use -t TOPIC");
                return -1;
        }
        if (te_tool_need_bootstrap(t->cfg, &t->conf.tool, errstr, errsz) != 0)
                return -1;
        te_log_init(PROC, (te_log_level_t)t->conf.tool.log_level);
        return te_tool_resolve_bootstrap(t->cfg, &t->conf.tool, errstr, errsz) == 0 ? 0
                                                                                    : -2;
}

/* The first offset to read in partition `id` (watermarks lo, hi) for --offset.
 * @returns it, or -1 with errstr. */
static int64_t start_offset(tail_t *t, const tail_args_t *a, int32_t id, int64_t lo,
                            int64_t hi, tail_part_t *p, char *errstr, size_t errsz)
{
        switch (a->start) {
        case START_BEGINNING:
                return lo;
        case START_END:
                return hi;
        case START_OFFSET:
                return a->start_val < lo ? lo : a->start_val > hi ? hi : a->start_val;
        case START_TAIL:
                return hi - lo > a->start_val ? hi - a->start_val : lo;
        case START_TIME:
                break;
        }
        rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(1);
        if (!l) {
                snprintf(errstr, errsz, "out of memory");
                return -1;
        }
        rd_kafka_topic_partition_list_add(l, t->conf.topic, id)->offset = a->start_val;
        rd_kafka_resp_err_t err = rd_kafka_offsets_for_times(t->rk, l, META_TIMEOUT_MS);
        int64_t off = l->elems[0].offset;
        rd_kafka_resp_err_t perr = l->elems[0].err;
        rd_kafka_topic_partition_list_destroy(l);
        if (err || perr) {
                snprintf(
                    errstr, errsz, "%s [%" PRId32 "]: offsets for time %" PRId64 ": %s",
                    t->conf.topic, id, a->start_val, rd_kafka_err2str(err ? err : perr));
                return -1;
        }
        t->skip_ts = a->start_val;
        if (off >= lo && off <= hi)
                return off;
        /* -1: no answer (or no record that new): read the partition, skip older ones */
        p->skip_before_ts = 1;
        return lo;
}

/* Create the consumer, find the topic's partitions (without creating the topic),
 * read the watermarks and assign. @returns 0 or -1. */
static int start_consumer(tail_t *t, const tail_args_t *a, char *errstr, size_t errsz)
{
        rd_kafka_topic_partition_list_t *list = NULL;
        rd_kafka_resp_err_t err;
        char why[512];
        int rc = -1;

        rd_kafka_conf_t *conf = te_kafka_conf_build_for(
            RD_KAFKA_CONSUMER, t->cfg, NULL, tail_defaults, tail_fixed, errstr, errsz);
        if (!conf)
                return -1;
        t->rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, why, sizeof why);
        if (!t->rk) {
                rd_kafka_conf_destroy(conf);
                snprintf(errstr, errsz, "consumer: %s", why);
                return -1;
        }
        /* conf is now owned by rk */
        rd_kafka_poll_set_consumer(t->rk);

        if (te_kafka_partition_count(t->rk, t->conf.topic, 0, META_TIMEOUT_MS,
                                     &t->n_parts, errstr, errsz) != 0)
                return -1;
        if (a->partition >= t->n_parts) {
                snprintf(errstr, errsz, "topic %s has no partition %" PRId32,
                         t->conf.topic, a->partition);
                return -1;
        }
        t->parts = calloc((size_t)t->n_parts, sizeof *t->parts);
        list = rd_kafka_topic_partition_list_new(t->n_parts);
        if (!t->parts || !list) {
                snprintf(errstr, errsz, "out of memory");
                goto out;
        }
        for (int32_t id = 0; id < t->n_parts; id++) {
                int64_t lo = 0, hi = 0;
                if (a->partition >= 0 && id != a->partition)
                        continue;
                if (te_kafka_watermarks(t->rk, t->conf.topic, &id, 1, META_TIMEOUT_MS,
                                        &lo, &hi, errstr, errsz) != 0)
                        goto out;
                tail_part_t *p = &t->parts[id];
                int64_t from = start_offset(t, a, id, lo, hi, p, errstr, errsz);
                if (from < 0)
                        goto out;
                p->assigned = 1;
                p->end = hi;
                p->done = from >= hi;
                rd_kafka_topic_partition_list_add(list, t->conf.topic, id)->offset = from;
                TE_LOG(TE_LOG_DEBUG, NULL, "tail.assign",
                       "%s [%" PRId32 "]: low %" PRId64 " high %" PRId64 " from %" PRId64
                       "%s",
                       t->conf.topic, id, lo, hi, from,
                       p->skip_before_ts ? " (scanning for the timestamp)" : "");
        }
        err = rd_kafka_assign(t->rk, list);
        if (err) {
                snprintf(errstr, errsz, "assign: %s", rd_kafka_err2str(err));
                goto out;
        }
        rc = 0;
out:
        if (list)
                rd_kafka_topic_partition_list_destroy(list);
        return rc;
}

static int all_done(const tail_t *t)
{
        for (int32_t i = 0; i < t->n_parts; i++)
                if (t->parts[i].assigned && !t->parts[i].done)
                        return 0;
        return 1;
}

static tail_part_t *part_of(tail_t *t, int32_t id)
{
        return id >= 0 && id < t->n_parts && t->parts[id].assigned ? &t->parts[id] : NULL;
}

/* Render and print one record. @returns 0, 1 if stdout is gone (stop quietly), or -1. */
static int print_record(tail_t *t, const rd_kafka_message_t *m)
{
        te_kafka_header_t hdrs[MAX_HEADERS];
        size_t n_hdrs = 0;
        rd_kafka_headers_t *rh = NULL;

        if (rd_kafka_message_headers(m, &rh) == RD_KAFKA_RESP_ERR_NO_ERROR) {
                const char *name;
                const void *val;
                size_t size;
                while (n_hdrs < MAX_HEADERS &&
                       rd_kafka_header_get_all(rh, n_hdrs, &name, &val, &size) ==
                           RD_KAFKA_RESP_ERR_NO_ERROR) {
                        hdrs[n_hdrs].name = name;
                        hdrs[n_hdrs].value = val;
                        hdrs[n_hdrs].len = size;
                        n_hdrs++;
                }
        }
        te_json_record_t r = {
            .topic = rd_kafka_topic_name(m->rkt),
            .partition = m->partition,
            .offset = m->offset,
            .key = m->key,
            .key_len = m->key_len,
            .value = m->payload,
            .value_len = m->len,
            .headers = hdrs,
            .n_headers = n_hdrs,
            .show_meta = 1,
            .timestamp = rd_kafka_message_timestamp(m, NULL),
        };
        te_buf_reset(&t->out);
        int rc = te_json_out_record(&t->out, t->codec, &t->tp_scratch, &r);
        if (rc < 0) {
                TE_LOG(TE_LOG_ERROR, NULL, "tail.too_large",
                       "%s [%" PRId32 "] offset %" PRId64 ": rendering passed %u bytes",
                       r.topic, r.partition, r.offset, OUT_MAX);
                return -1;
        }
        if (te_buf_append(&t->out, "\n", 1) != 0)
                return -1;
        if (fwrite(t->out.data, 1, t->out.len, stdout) != t->out.len)
                return errno == EPIPE ? 1 : -1;
        return 0;
}

/* Consume until a stop condition. @returns 0, or -1 on an error that ends the run. */
static int run(tail_t *t, const tail_args_t *a)
{
        while (!te_proc_stop) {
                if (a->exit_at_end && all_done(t))
                        return 0;
                rd_kafka_message_t *m = rd_kafka_consumer_poll(t->rk, POLL_MS);
                if (!m) {
                        if (fflush(stdout) != 0)
                                return errno == EPIPE ? 0 : -1;
                        continue;
                }
                tail_part_t *p = part_of(t, m->partition);
                if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
                        if (p)
                                p->done = 1;
                        rd_kafka_message_destroy(m);
                        continue;
                }
                if (m->err) {
                        int fatal =
                            m->err == RD_KAFKA_RESP_ERR__FATAL ||
                            m->err == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART ||
                            m->err == RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED;
                        TE_LOG(fatal ? TE_LOG_ERROR : TE_LOG_WARN, NULL,
                               "tail.consume_error", "%s [%" PRId32 "]: %s",
                               t->conf.topic, m->partition, rd_kafka_message_errstr(m));
                        rd_kafka_message_destroy(m);
                        if (fatal)
                                return -1;
                        continue;
                }
                if (p && p->skip_before_ts) {
                        if (rd_kafka_message_timestamp(m, NULL) < t->skip_ts) {
                                if (m->offset + 1 >= p->end)
                                        p->done = 1;
                                rd_kafka_message_destroy(m);
                                continue;
                        }
                        p->skip_before_ts = 0; /* from here on, every record */
                }
                int rc = print_record(t, m);
                if (p && m->offset + 1 >= p->end)
                        p->done = 1;
                rd_kafka_message_destroy(m);
                if (rc != 0)
                        return rc > 0 ? 0 : -1;
                t->printed++;
                if (a->count && t->printed >= a->count)
                        return 0;
        }
        return 0;
}

int main(int argc, char **argv)
{
        tail_args_t a;
        tail_t t;
        char errstr[1024];
        int status = 1;

        te_log_init(PROC, TE_LOG_WARN);
        memset(&t, 0, sizeof t);
        te_buf_init(&t.out, OUT_MAX);
        switch (parse_args(argc, argv, &a)) {
        case 1:
                return 0;
        case -1:
                return 2;
        }
        te_proc_install_signals();
        int crc = load_config(&t, &a, errstr, sizeof errstr);
        if (crc != 0) {
                /* one plain line, as every process's config errors */
                fprintf(stderr, PROC ": %s%s\n", crc == -1 ? "config: " : "", errstr);
                status = crc == -1 ? 2 : 1;
                goto out;
        }
        t.codec = te_codec_new(errstr, sizeof errstr);
        if (!t.codec) {
                TE_LOG(TE_LOG_ERROR, NULL, "tail.codec", "%s", errstr);
                goto out;
        }
        if (start_consumer(&t, &a, errstr, sizeof errstr) != 0) {
                TE_LOG(TE_LOG_ERROR, NULL, "tail.start", "%s", errstr);
                goto out;
        }
        status = run(&t, &a) == 0 ? 0 : 1;
        if (fflush(stdout) != 0 && errno != EPIPE)
                status = 1;
        TE_LOG(TE_LOG_DEBUG, NULL, "tail.done", "%" PRId64 " records", t.printed);

out:
        if (t.rk) {
                rd_kafka_consumer_close(t.rk);
                rd_kafka_destroy(t.rk);
        }
        te_codec_destroy(t.codec);
        te_target_portfolio_free(&t.tp_scratch);
        te_buf_free(&t.out);
        free(t.parts);
        te_cfg_destroy(t.cfg);
        return status;
}
