/*
 * broker_fix: a PRODUCTION adapter for a FIX 4.4 (or 4.2) counterparty (initiator) behind
 * te_broker_ops_t, on one non-blocking TCP socket driven from the ops' calls, chiefly
 * poll(). The frame layer is fix_proto.h, the session rules fix_session.h, the
 * order <-> message mapping fix_app.h; this file owns the socket, the orders and the
 * order of things.
 *
 * Orders. A NEW is checked (order type and TIF allowed, prices present) and queued;
 * a refused one is REJECTED at once with the reason. CANCEL and REPLACE are queued for
 * a known live order (a CANCEL of an order still queued ends it at once, CANCELED,
 * and it is never sent; one cancel or replace in flight per order; a REPLACE that would
 * change anything but quantity and prices, or arrives while another request is in
 * flight, is refused with an Alert `replace_refused`, and with a REJECTED report in
 * the order's live status unless another request is in flight). Queued requests leave at
 * most `max_msgs_per_sec` per second, cancels first; each gets its MsgSeqNum only when it
 * leaves, so the counterparty always sees our numbers in order. While the session is
 * not logged on and reconciled, submit/cancel/replace answer TE_BROKER_ERR_RETRIABLE
 * (the worker pauses and hands the command again later) and connected() is 0.
 *
 * Ended orders. Once an order's final report is out (FILLED, CANCELED, REJECTED,
 * EXPIRED) and its row saved, the order leaves memory; its id is remembered (up to
 * 2^20 of them) so that a late request on it is told from one on an order never had:
 * a CANCEL or REPLACE of an ended order needs no answer (the final report gave it), a
 * redelivered NEW is not sent again, a late ExecutionReport is dropped (resent) or
 * raises `fix_report_after_end`. A CANCEL or REPLACE of an order the adapter does not
 * know gets a final REJECTED report ("cancel refused: unknown order" / "replace
 * refused: unknown order") with an Alert, as a broker answers one, so that the planner
 * does not wait for a confirmation that would never come. With use_db the ids of the
 * orders that ended within the last `ended_days` days (up to 2^20, newest first) are
 * loaded from fix_orders at start, so an order that ended before a restart is still
 * known as ended: a late CANCEL or REPLACE of it needs no answer, as above, rather
 * than a REJECTED after its final report (which the sink would count as an illegal
 * transition).
 *
 * FIX 4.2. With begin_string FIX.4.2 every frame carries that BeginString, a frame of
 * another version is garbled, ExecutionReports are read the 4.2 way (fix_app.h), no
 * OrderMassStatusRequest exists (reconciliation asks order by order), and what 4.2
 * cannot say is refused at construction: a Password (554 is 4.3 on), TimeInForce CLS
 * among the allowed ones, or mass_status.
 *
 * Reports come from ExecutionReports only (fix_app.h's mapping); an ExecID already
 * seen is dropped (a resent report is never booked twice). An OrderCancelReject
 * raises `cancel_refused` / `replace_refused`; the order keeps its terms, and a
 * REJECTED report with its live status ("cancel refused: ..." / "replace refused:
 * ...") settles the request for the planner. When it says the order is unknown
 * (CxlRejReason 1) or done, an OrderStatusRequest asks what is final, and its answer
 * settles it (a fill found, the order ended, or the REJECTED if it still works). A
 * session Reject (35=3) or BusinessMessageReject (35=j) naming the MsgSeqNum of one of
 * our NewOrderSingles makes that order REJECTED with the counterparty's text; naming a
 * cancel or replace, it raises `cancel_refused` / `replace_refused` with the same
 * REJECTED live report.
 *
 * Connection. The adapter connects at the first poll, logs on (fix_session.h) and
 * reconnects with exponential backoff (reconnect_min_ms doubling to
 * reconnect_max_ms) after any loss. After every Logon it reconciles: an
 * OrderStatusRequest for every order that was sent and is not final. An answer with
 * more CumQty than we booked publishes the difference as one fill (report id from
 * the order and the cum quantity, so it is the same on a repeat), a final status ends
 * the order, and an order the counterparty does not know (OrdStatus Rejected on the
 * status request) is resolved as CANCELED with the reason. Orders not answered
 * within `reconcile_timeout_ms` (or when the counterparty refuses OrderStatusRequest)
 * stay open with an Alert `reconcile_incomplete`. With mass_status (FIX 4.4) one
 * OrderMassStatusRequest (MassStatusReqType 7, or 9 with the account) takes the place
 * of the OrderStatusRequests: the ExecutionReports echoing its MassStatusReqID are
 * their answers, the one with LastRptRequested=Y ends them, and each open order not
 * listed then gets its own OrderStatusRequest. A Reject or BusinessMessageReject of
 * it raises `mass_status_refused` and reconciliation goes order by order from then on.
 *
 * Sequence numbers. With use_db they live in the runtime DB (fix_store.h, table
 * fix_sessions): loaded at start (unless reset_on_logon), and saved whenever they
 * changed before any bytes are written to the socket (so a number of ours is never
 * used twice, even after a crash) and after each poll. When the save fails nothing is
 * written until it succeeds (an Alert `fix_db`). Without use_db they start from
 * cfg next_out/next_in (1 when 0) and are kept across reconnects only.
 *
 * Orders. With use_db every order's row (fix_orders: its terms, the ClOrdID it lives
 * under, its cancel/replace counters, whether it was sent, booked quantity and value,
 * whether it ended) is saved with the numbers, before the bytes that change it leave;
 * the ExecIDs of published reports are recorded (fix_execs) when the worker says they
 * were delivered (ops->delivered). At start the open orders and their ExecIDs are
 * loaded: they are reconciled after the Logon like any open order, and one whose
 * NewOrderSingle never left is sent then.
 */
#ifndef TE_BROKER_FIX_H
#define TE_BROKER_FIX_H

#include <stddef.h>
#include <stdint.h>

#include "broker.h"
#include "fix_session.h"

typedef void (*te_fix_alert_fn)(void *ctx, te_severity_t sev, const char *code,
                                const char *decision_id, const char *portfolio_id,
                                const char *order_id, const char *message);

/* The adapter's settings; their defaults are exec-broker's (fix.*: broker_conf.c). */
typedef struct te_fix_cfg_s {
        char host[256];
        int port;
        char begin_string[16]; /* FIX.4.4 (or "") or FIX.4.2 */
        char sender[TE_FIX_COMPID_MAX];
        char target[TE_FIX_COMPID_MAX];
        int heartbt_int;           /* seconds */
        char account[TE_NAME_MAX]; /* Account 1, "" for none */
        unsigned order_types;      /* bit per te_order_type_t allowed */
        unsigned tifs;             /* bit per te_tif_t allowed */
        int reset_on_logon;        /* ResetSeqNumFlag on every Logon */
        int mass_status;    /* reconcile with one OrderMassStatusRequest (FIX 4.4 only) */
        int ended_days;     /* with use_db: orders ended within this many days are known
                             * as ended after a restart (0: none) */
        char password[128]; /* Password 554, "" for none; never logged */
        int max_msgs_per_sec; /* application messages, cancels first */
        int64_t reconnect_min_ms;
        int64_t reconnect_max_ms;
        int64_t reconcile_timeout_ms;
        int64_t next_out, next_in; /* sequence numbers when none are saved (0: 1) */
        int use_db;                /* keep the sequence numbers in the runtime DB */
        char db_conninfo[512];     /* "" = PG* environment */
        char broker_name[64];
        te_fix_alert_fn alert; /* NULL: alerts are only logged */
        void *alert_ctx;
} te_fix_cfg_t;

/** Create the adapter (no connection yet: the first poll opens it); with use_db,
 *  connect to the runtime DB, apply migrations and load the saved sequence numbers.
 *  @returns NULL with errstr on a config or DB error, or OOM. */
te_broker_t *te_fix_new(const te_fix_cfg_t *cfg, char *errstr, size_t errsz);

typedef struct te_fix_stats_s {
        uint64_t connects, disconnects, logons, reconciles;
        uint64_t orders_sent, cancels_sent, replaces_sent, status_sent;
        uint64_t fills, dup_execs, rejects, garbled, alerts;
        uint64_t mass_sent, mass_answers; /* OrderMassStatusRequests, their answers */
        uint64_t orders_held; /* orders in memory: not ended, or ended and unsaved */
} te_fix_stats_t;
void te_fix_stats(te_broker_t *b, te_fix_stats_t *out);
/** Log out: send Logout and wait up to timeout_ms for the counterparty's (reports
 *  arriving meanwhile go to out), then close. The adapter reconnects at the next
 *  poll; call before te_broker_destroy for a clean stop. */
void te_fix_logout(te_broker_t *b, int64_t timeout_ms, te_reports_t *out);
/** The sequence numbers now (to persist). */
void te_fix_seqs(te_broker_t *b, int64_t *next_out, int64_t *next_in);

#endif
