/*
 * broker: the interface every adapter implements (sim, ibkr; broker_adapter.c builds
 * the one a worker runs).
 *
 * A worker owns one adapter. It hands each OrderCommand to the matching call; the
 * adapter appends the reports that follow from it (ACK, fills, rejects, CLOCK_ACK)
 * to a te_reports_t. Adapters never produce to Kafka themselves, so they are tested
 * without it. Report ids are deterministic (invariant 1).
 *
 * What an adapter holds (open orders) must come back after any stop of its worker,
 * by one of two rules (README "Resting orders and broker restarts"):
 *   - rebuilt by replay (sim): the adapter is deterministic and an order's fate depends
 *     only on the commands from its NEW on; the worker commits, with each offset, the
 *     offset of the oldest order still open and replays from there on assignment;
 *   - rebuilt from the broker (ibkr, fix): the broker keeps the orders; after a restart
 *     the adapter reconciles with the broker's own state before it says connected, and
 *     the worker commits an order's offset once its reports are delivered.
 */
#ifndef TE_BROKER_H
#define TE_BROKER_H

#include <stddef.h>

#include "te_msg.h"

/* A growable list of reports the worker publishes in order. */
typedef struct te_reports_s {
        te_exec_report_t *items;
        size_t n, cap;
} te_reports_t;

/** @returns a new slot at the end (zeroed), or NULL on OOM. */
te_exec_report_t *te_reports_push(te_reports_t *r);
void te_reports_clear(te_reports_t *r);
void te_reports_free(te_reports_t *r);

typedef enum {
        TE_BROKER_OK = 0,
        TE_BROKER_ERR_RETRIABLE = 1, /* e.g. connection down: try again later */
        TE_BROKER_ERR_FATAL = 2,     /* configuration or programming error */
} te_broker_err_t;

typedef struct te_broker_s te_broker_t;

typedef struct te_broker_ops_s {
        const char *name; /* "sim", "ibkr" */
        te_mode_t mode;   /* the only mode this adapter accepts (invariant 5) */
        te_broker_err_t (*submit)(te_broker_t *b, const te_order_cmd_t *cmd,
                                  te_reports_t *out);
        te_broker_err_t (*cancel)(te_broker_t *b, const te_order_cmd_t *cmd,
                                  te_reports_t *out);
        te_broker_err_t (*replace)(te_broker_t *b, const te_order_cmd_t *cmd,
                                   te_reports_t *out);
        /* event time advances to cmd->event_time (TRAINING); reports CLOCK_ACK last */
        te_broker_err_t (*clock)(te_broker_t *b, const te_order_cmd_t *cmd,
                                 te_reports_t *out);
        /* events that arrived on their own (live brokers) */
        te_broker_err_t (*poll)(te_broker_t *b, te_reports_t *out);
        void (*destroy)(te_broker_t *b);
        /* Optional (may be NULL; sim leaves both NULL). connected: 1 when the adapter
         * can take orders now, 0 while its broker connection is down or reconciling.
         * delivered: the worker tells the adapter that every report it has been
         * handed so far was delivered to Kafka (called after a successful flush). */
        int (*connected)(te_broker_t *b);
        void (*delivered)(te_broker_t *b);
} te_broker_ops_t;

struct te_broker_s {
        const te_broker_ops_t *ops;
};

/** Dispatch one command to the adapter, refusing orders of the other mode with a
 *  REJECTED report (invariant 5). @returns the adapter's result. */
te_broker_err_t te_broker_handle(te_broker_t *b, const te_order_cmd_t *cmd,
                                 te_reports_t *out);
/** Fill a report's order-derived fields (ids, ticker, side, mode, event time). */
void te_broker_report_from_cmd(te_exec_report_t *r, const te_order_cmd_t *cmd,
                               const char *broker_name);
void te_broker_destroy(te_broker_t *b); /* accepts NULL */

#endif
