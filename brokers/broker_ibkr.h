/*
 * broker_ibkr: the PRODUCTION adapter for Interactive Brokers (TWS or IB Gateway)
 * over the TWS API socket protocol (tws_proto.h), behind te_broker_ops_t.
 *
 * Single-threaded: one non-blocking socket driven from the ops' calls, chiefly
 * poll(). Outgoing messages pass through a pacer (tws_pacer.h): at most
 * `max_msgs_per_sec`, cancels first, slowed down after error 100.
 *
 * Identity. Our order_id travels in orderRef. The TWS order id comes from
 * nextValidId and a high-water mark persisted in the runtime DB (table
 * ibkr_order_ids, migration 0005) before each placeOrder goes out, so a restart never
 * reuses an id; the orderRef <-> TWS id map and the order's attribution live in
 * ibkr_orders. A NEW for an order_id already known (memory or DB) is ignored.
 *
 * Fills come only from execDetails, deduplicated by execId; report_id is derived from
 * the execId ("r" + digest("ibkr", "exec", execId)). A fill is held until its
 * commissionReport arrives (or `commission_wait_ms` passes; then commission 0 and a
 * commission_missing Alert; a commissionReport after that is recorded in ibkr_execs
 * with a commission_late Alert, the booked trade is not changed: broker_ibkr_comm.c),
 * and reports leave in the order their causes arrived. orderStatus is a
 * hint: it produces ACK and CANCELED (after any fills it counts have arrived as
 * execDetails), never a fill. IB errors on an order: 202 -> CANCELED, informational
 * codes (399, 161, 10147, 10148, 2100-2199) are logged, any other code -> REJECTED
 * with "IB <code>: <text>" (CANCELED with that reason if the order had fills).
 *
 * REPLACE is placeOrder again with the same TWS order id and the new quantity and
 * limit/stop price; REPLACED goes out when TWS confirms it with openOrder. A refused
 * modification leaves the order unchanged with a replace_refused Alert
 * (broker_ibkr_replace.c). Alerts go to cfg.alert (the worker publishes them).
 *
 * Connection. Socket loss, a malformed frame, or error 1100 stops submitting: new
 * orders wait in the adapter (persisted, no TWS id yet). The adapter reconnects with
 * exponential backoff, and on every (re)connect and on 1101/1102 reconciles:
 * reqOpenOrders, reqExecutions (own client id), reqPositions. Executions it has not
 * published are published (once); orders that were sent but that IB neither lists
 * as open nor has executions for are resolved as CANCELED with a reason. Only then
 * are waiting orders sent. The worker learns the state through ops->connected.
 *
 * Positions. After each reconciliation the positions IB reported (allowed accounts,
 * stocks; fills arriving later are added) are compared with the runtime DB's
 * positions table, per account and ticker (broker_ibkr_pos.c). The DB may take up
 * to `position_check_ms` to book the fills IB already counts; a difference that
 * outlasts it raises a CRITICAL Alert `position_mismatch` naming account, ticker, IB
 * and DB quantity, counted in te_ibkr_position_mismatches_total{account}. Nothing is
 * ever corrected automatically.
 *
 * Delivery. Executions handed out to the worker are recorded in ibkr_execs only when
 * the worker calls ops->delivered (after its producer flush succeeded), so a crash in
 * between re-publishes them (same report ids) instead of losing them.
 *
 * Accounts: orders go to the account named by the route "ibkr:<ACCOUNT>", else to the
 * first of `accounts`; an account not in the allow-list is REJECTED, and so is one
 * that the gateway's managedAccounts does not list. TRAINING orders never get here
 * (te_broker_handle's mode gate; ops->mode is PRODUCTION).
 */
#ifndef TE_BROKER_IBKR_H
#define TE_BROKER_IBKR_H

#include <stddef.h>
#include <stdint.h>

#include "broker.h"

/* An alert the adapter raises (the worker publishes it on exec.alerts): severity, a
 * stable code, the related ids ("" when none) and a message for humans. */
typedef void (*te_ibkr_alert_fn)(void *ctx, te_severity_t sev, const char *code,
                                 const char *decision_id, const char *portfolio_id,
                                 const char *order_id, const char *message);

/* After IB error 100 (pacing violation) the pacer pauses this long, then runs at half
 * rate (tws_pacer.h). */
#define TE_IBKR_PACING_BACKOFF_MS 1000

/* The adapter's settings; their defaults are exec-broker's (ibkr.*: broker_conf.c). */
typedef struct te_ibkr_cfg_s {
        char host[256];
        int port;
        int client_id;
        char accounts[512]; /* allow-list, comma separated; required */
        int max_msgs_per_sec;
        int64_t reconnect_min_ms;
        int64_t reconnect_max_ms;
        int64_t commission_wait_ms;
        int64_t connect_timeout_ms; /* handshake and reconcile too */
        int64_t position_check_ms;  /* 0 = positions not compared */
        char broker_name[64];
        int use_db;             /* persist ids and executions */
        char db_conninfo[512];  /* "" = PG* environment */
        te_ibkr_alert_fn alert; /* NULL: alerts are only logged */
        void *alert_ctx;
} te_ibkr_cfg_t;

/** Create the adapter. With cfg->use_db it connects to the runtime DB, applies
 *  migrations and loads its open orders and id high-water mark (startup
 *  reconciliation then runs on the first connection). The TWS connection is opened
 *  from the first poll(). @returns NULL with errstr on a config or DB error. */
te_broker_t *te_ibkr_new(const te_ibkr_cfg_t *cfg, char *errstr, size_t errsz);

/** Connection state names, for logs and tests. */
typedef enum {
        TE_IBKR_DISCONNECTED = 0,
        TE_IBKR_CONNECTING,
        TE_IBKR_HANDSHAKE,
        TE_IBKR_STARTING,
        TE_IBKR_RECONCILING,
        TE_IBKR_READY,
        TE_IBKR_DEGRADED /* socket up, TWS lost IB (1100) */
} te_ibkr_state_t;
te_ibkr_state_t te_ibkr_state(te_broker_t *b);

/* Counters for tests and logs. */
typedef struct te_ibkr_stats_s {
        uint64_t connects, disconnects, malformed, reconciles;
        uint64_t orders_sent, cancels_sent, fills, dup_execs, rejects;
        uint64_t resolved_unknown, pacing_errors;
        uint64_t replaces_sent, replaced, replaces_refused;
        uint64_t position_checks, position_mismatches;
        uint64_t commission_missing, commission_late;
} te_ibkr_stats_t;
void te_ibkr_stats(te_broker_t *b, te_ibkr_stats_t *out);

#endif
