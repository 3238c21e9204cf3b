/*
 * order_ledger: the broker worker's exec.orders offsets, what it may commit, and the
 * replay floor of the open orders (order_ledger.h).
 */
#include "order_ledger.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "te_buf.h"
#include "te_dlog.h"
#include "te_log.h"
#include "te_map.h"

struct te_ledger_s {
        char topic[256];
        te_dlog_t *dlog; /* orders finished, waiting for their reports' delivery */
        /* Replay ledgers only: `floor` is a second ledger where a NEW is finished only
         * when its order is terminal, so its position is the oldest order still open. */
        te_dlog_t *floor;  /* NULL unless replay */
        te_map_t *resting; /* order_id -> resting_t: open orders' NEW offsets */
        int64_t pos[TE_DLOG_MAX_PARTS];          /* last committed offset, or -1 */
        int64_t floor_at[TE_DLOG_MAX_PARTS];     /* last committed replay floor */
        int64_t replay_until[TE_DLOG_MAX_PARTS]; /* below: rebuild, publish nothing */
};

typedef struct resting_s {
        int32_t partition;
        int64_t offset;
} resting_t;

static void forget_positions(te_ledger_t *l)
{
        for (size_t i = 0; i < TE_DLOG_MAX_PARTS; i++)
                l->pos[i] = l->floor_at[i] = l->replay_until[i] = -1;
}

te_ledger_t *te_ledger_new(const char *topic, int replay)
{
        te_ledger_t *l = calloc(1, sizeof *l);
        if (!l || strlen(topic) >= sizeof l->topic)
                goto err;
        te_strlcpy(l->topic, topic, sizeof l->topic);
        forget_positions(l);
        l->dlog = te_dlog_new();
        if (!l->dlog)
                goto err;
        if (replay) {
                l->floor = te_dlog_new();
                l->resting = te_map_new();
                if (!l->floor || !l->resting)
                        goto err;
        }
        return l;
err:
        te_ledger_destroy(l);
        return NULL;
}

void te_ledger_destroy(te_ledger_t *l)
{
        if (!l)
                return;
        te_dlog_destroy(l->dlog);
        te_dlog_destroy(l->floor);
        te_map_destroy(l->resting, free);
        free(l);
}

int te_ledger_reset(te_ledger_t *l)
{
        te_dlog_clear(l->dlog);
        forget_positions(l);
        if (!l->floor)
                return 0;
        te_dlog_clear(l->floor);
        te_map_destroy(l->resting, free);
        l->resting = te_map_new();
        return l->resting ? 0 : -1;
}

/* The replay floor a commit stored with the offset ("replay_from=N"), or -1. */
static int64_t parse_floor(const rd_kafka_topic_partition_t *t)
{
        static const char key[] = "replay_from=";
        char text[64];
        if (!t->metadata || t->metadata_size == 0 || t->metadata_size >= sizeof text)
                return -1;
        memcpy(text, t->metadata, t->metadata_size);
        text[t->metadata_size] = '\0';
        if (strncmp(text, key, sizeof key - 1) != 0)
                return -1;
        char *end = NULL;
        long long v = strtoll(text + sizeof key - 1, &end, 10);
        return end && *end == '\0' && end != text + sizeof key - 1 && v >= 0 ? v : -1;
}

int te_ledger_replay_start(te_ledger_t *l, rd_kafka_t *rk,
                           rd_kafka_topic_partition_list_t *parts)
{
        rd_kafka_topic_partition_list_t *c = rd_kafka_topic_partition_list_copy(parts);
        rd_kafka_resp_err_t err = rd_kafka_committed(rk, c, 10000);
        int rc = 0;
        if (err) {
                TE_LOG(TE_LOG_ERROR, NULL, "broker.rebuild",
                       "committed offsets and replay floors: %s", rd_kafka_err2str(err));
                rd_kafka_topic_partition_list_destroy(c);
                return -1;
        }
        for (int i = 0; i < c->cnt; i++) {
                const rd_kafka_topic_partition_t *t = &c->elems[i];
                int32_t p = t->partition;
                if (p < 0 || p >= TE_DLOG_MAX_PARTS)
                        continue;
                if (t->err) {
                        TE_LOG(TE_LOG_ERROR, NULL, "broker.rebuild", "%s[%d]: %s",
                               t->topic, (int)p, rd_kafka_err2str(t->err));
                        rc = -1;
                        continue;
                }
                if (t->offset < 0) /* nothing committed: everything is read anyway */
                        continue;
                int64_t from = parse_floor(t);
                l->pos[p] = t->offset;
                l->floor_at[p] = from >= 0 && from <= t->offset ? from : t->offset;
                if (from < 0 || from >= t->offset)
                        continue;
                l->replay_until[p] = t->offset;
                rd_kafka_topic_partition_t *a =
                    rd_kafka_topic_partition_list_find(parts, t->topic, p);
                if (a)
                        a->offset = from;
                TE_LOG(TE_LOG_INFO, NULL, "broker.rebuild",
                       "%s[%d]: replaying offsets %lld..%lld to rebuild the open orders",
                       t->topic, (int)p, (long long)from, (long long)t->offset - 1);
        }
        rd_kafka_topic_partition_list_destroy(c);
        return rc;
}

int te_ledger_rebuilding(const te_ledger_t *l, int32_t partition, int64_t offset)
{
        return partition >= 0 && partition < TE_DLOG_MAX_PARTS &&
               offset < l->replay_until[partition];
}

static int terminal(const te_exec_report_t *r)
{
        if (r->exec_type == TE_EXEC_CLOCK_ACK || r->exec_type == TE_EXEC_BROKER_STATE)
                return 0;
        return r->order_status == TE_OS_FILLED || r->order_status == TE_OS_CANCELED ||
               r->order_status == TE_OS_EXPIRED || r->order_status == TE_OS_REJECTED;
}

/* Orders of `reports` that ended (except `skip`): their NEW is finished in the floor
 * once these reports (queued up to `seq`) are delivered. @returns 0 or -1. */
static int settle(te_ledger_t *l, const te_reports_t *reports, const char *skip,
                  uint64_t seq)
{
        int rc = 0;
        for (size_t i = 0; i < reports->n; i++) {
                const te_exec_report_t *r = &reports->items[i];
                if (!terminal(r) || (skip && strcmp(r->order_id, skip) == 0))
                        continue;
                resting_t *e = te_map_del(l->resting, r->order_id);
                if (e && te_dlog_done(l->floor, e->partition, e->offset, seq) != 0)
                        rc = -1;
                free(e);
        }
        return rc;
}

int te_ledger_settle(te_ledger_t *l, const te_reports_t *reports, uint64_t seq)
{
        return l->floor ? settle(l, reports, NULL, seq) : 0;
}

/* 1 when the reports leave the order `id` resting: ACKed and not terminal. */
static int rests(const te_reports_t *reports, const char *id)
{
        int acked = 0;
        for (size_t i = 0; i < reports->n; i++) {
                const te_exec_report_t *r = &reports->items[i];
                if (strcmp(r->order_id, id) != 0)
                        continue;
                if (terminal(r))
                        return 0;
                if (r->exec_type == TE_EXEC_ACK)
                        acked = 1;
        }
        return acked;
}

int te_ledger_record(te_ledger_t *l, int32_t p, int64_t offset, const char *new_order_id,
                     const te_reports_t *reports, uint64_t seq)
{
        if (te_dlog_consumed(l->dlog, p, offset) != 0 ||
            te_dlog_done(l->dlog, p, offset, seq) != 0)
                return -1;
        if (!l->floor)
                return 0;
        if (te_dlog_consumed(l->floor, p, offset) != 0)
                return -1;
        const char *own =
            new_order_id && rests(reports, new_order_id) ? new_order_id : NULL;
        if (settle(l, reports, own, seq) != 0)
                return -1;
        if (own && !te_map_get(l->resting, own)) {
                resting_t *e = malloc(sizeof *e);
                if (!e)
                        return -1;
                *e = (resting_t){.partition = p, .offset = offset};
                if (te_map_put(l->resting, own, e) != 0) {
                        free(e);
                        return -1;
                }
                return 0;
        }
        return te_dlog_done(l->floor, p, offset, seq);
}

/* Commit with the replay floor as metadata (see te_ledger_commit). */
static int commit_with_floor(te_ledger_t *l, te_consumer_t *c, uint64_t delivered)
{
        rd_kafka_topic_partition_list_t *list = NULL;
        for (int32_t p = 0; p < TE_DLOG_MAX_PARTS; p++) {
                int64_t next = te_dlog_committable(l->dlog, p, delivered);
                (void)te_dlog_committable(l->floor, p, delivered);
                if (next > l->pos[p]) /* a rebuild never moves it back */
                        l->pos[p] = next;
                else
                        next = -1;
                if (l->pos[p] < 0)
                        continue;
                int64_t fl = te_dlog_first(l->floor, p);
                if (fl < 0 || fl > l->pos[p])
                        fl = l->pos[p];
                if (next < 0 && fl == l->floor_at[p])
                        continue;
                char meta[64];
                int n = snprintf(meta, sizeof meta, "replay_from=%lld", (long long)fl);
                if (!list)
                        list = rd_kafka_topic_partition_list_new(8);
                rd_kafka_topic_partition_t *t =
                    rd_kafka_topic_partition_list_add(list, l->topic, p);
                t->offset = l->pos[p];
                t->metadata = malloc((size_t)n); /* freed with the list */
                if (!t->metadata) {
                        rd_kafka_topic_partition_list_destroy(list);
                        return -1;
                }
                memcpy(t->metadata, meta, (size_t)n);
                t->metadata_size = (size_t)n;
                l->floor_at[p] = fl;
        }
        if (!list)
                return 0;
        rd_kafka_resp_err_t err = rd_kafka_commit(te_consumer_handle(c), list, 0);
        rd_kafka_topic_partition_list_destroy(list);
        if (err) {
                TE_LOG(TE_LOG_ERROR, NULL, "kafka.commit_failed", "orders: %s",
                       rd_kafka_err2str(err));
                return -1;
        }
        return 0;
}

int te_ledger_commit(te_ledger_t *l, te_consumer_t *c, uint64_t delivered)
{
        if (l->floor)
                return commit_with_floor(l, c, delivered);
        rd_kafka_topic_partition_list_t *list = NULL;
        for (int32_t p = 0; p < TE_DLOG_MAX_PARTS; p++) {
                int64_t next = te_dlog_committable(l->dlog, p, delivered);
                if (next < 0)
                        continue;
                if (!list)
                        list = rd_kafka_topic_partition_list_new(8);
                rd_kafka_topic_partition_list_add(list, l->topic, p)->offset = next;
        }
        if (!list)
                return 0;
        rd_kafka_resp_err_t err = rd_kafka_offsets_store(te_consumer_handle(c), list);
        rd_kafka_topic_partition_list_destroy(list);
        if (err)
                TE_LOG(TE_LOG_WARN, NULL, "broker.store", "%s", rd_kafka_err2str(err));
        return te_consumer_commit(c, 1);
}

int te_ledger_pending(const te_ledger_t *l)
{
        return te_dlog_total(l->dlog) > 0 ||
               (l->floor && te_dlog_total(l->floor) > te_map_count(l->resting));
}

size_t te_ledger_resting(const te_ledger_t *l)
{
        return l->resting ? te_map_count(l->resting) : 0;
}
