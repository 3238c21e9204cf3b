/*
 * te_log: one JSON object per line on stderr.
 *
 *   {"ts":"2026-11-25T17:00:00.123Z","level":"info","proc":"exec-planner",
 *    "event":"order.sent","decision_id":"d1","order_id":"...","msg":"..."}
 *
 * The ids carried by te_log_ids_t are emitted as their own keys when non-empty, so
 * one decision can be followed through every process with grep/jq.
 * TE_LOG checks the level before any formatting happens.
 */
#ifndef TE_LOG_H
#define TE_LOG_H

typedef enum {
        TE_LOG_DEBUG = 0,
        TE_LOG_INFO = 1,
        TE_LOG_WARN = 2,
        TE_LOG_ERROR = 3,
} te_log_level_t;

typedef struct te_log_ids_s {
        const char *decision_id;
        const char *portfolio_id;
        const char *order_id;
        const char *report_id;
} te_log_ids_t;

extern te_log_level_t te_log_min_level;

/** Set the process name and the minimum level. Safe to call again. */
void te_log_init(const char *proc_name, te_log_level_t min_level);
/** Write one line (thread-safe, one write(2) per line). `ids` may be NULL. */
void te_log_write(te_log_level_t lvl, const te_log_ids_t *ids, const char *event,
                  const char *fmt, ...) __attribute__((format(printf, 4, 5)));

#define TE_LOG(lvl, ids, event, ...)                                                     \
        do {                                                                             \
                if ((lvl) >= te_log_min_level)                                           \
                        te_log_write((lvl), (ids), (event), __VA_ARGS__);                \
        } while (0)

#endif
