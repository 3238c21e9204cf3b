/*
 * fix_app: the FIX 4.4 application messages of our orders, as pure functions
 * (no session, no socket, no clock: times are passed in).
 *
 * Out: NewOrderSingle (35=D) for a NEW command, OrderCancelRequest (35=F) for a
 * CANCEL, OrderCancelReplaceRequest (35=G) for a REPLACE and OrderStatusRequest
 * (35=H) for reconciliation, written with te_fix_enc_* into a frame the session has
 * begun. Field by field:
 *   D: 11 ClOrdID, 1 Account (when configured), 21 HandlInst=1, 55 Symbol, 54 Side,
 *      60 TransactTime, 38 OrderQty, 40 OrdType, 44 Price (LIMIT, STOP_LIMIT),
 *      99 StopPx (STOP, STOP_LIMIT), 59 TimeInForce
 *   F: 41 OrigClOrdID, 11 ClOrdID, 55, 54, 60, 38 (the order's quantity)
 *   G: 41, 11, then the fields of D from 1 on, with the new quantity and prices
 *   H: 11, 55, 54
 *   AF (OrderMassStatusRequest, FIX 4.4 only): 584 MassStatusReqID, 585
 *      MassStatusReqType (7 all orders, or 9 orders of the account with 1 Account)
 * Values: Side BUY=1 SELL=2; OrdType MARKET=1 LIMIT=2 STOP=3 STOP_LIMIT=4;
 * TimeInForce DAY=0 GTC=1 OPG=2 IOC=3 FOK=4 CLS=7.
 *
 * ClOrdID. FIX wants a new ClOrdID for every request on an order. The order's first
 * ClOrdID is our order_id; its k-th cancel request is "<order_id>:c<k>" and its k-th
 * replace request "<order_id>:r<k>" (k from 1). OrigClOrdID is the ClOrdID the order
 * lives under at the counterparty: order_id, or the last accepted replace's. Every
 * ClOrdID we made reads back to its order_id (te_fix_clordid_order).
 *
 * In: ExecutionReport (35=8) and OrderCancelReject (35=9) are decoded with every
 * required field checked, then an ExecutionReport is mapped to our report:
 *   ExecType 150        our exec_type          order_status from OrdStatus 39
 *   0 New, A PendingNew ACK                    NEW, PENDING_NEW
 *   6 PendingCancel     ACK                    PENDING_CANCEL
 *   E PendingReplace    ACK                    PENDING_REPLACE
 *   D Restated          ACK                    as 39 says
 *   F Trade             FILL (39=2) or PARTIAL_FILL, LastQty/LastPx set
 *   4 Canceled          CANCELED               CANCELED
 *   5 Replaced          REPLACED               the live status (NEW/PARTIALLY_FILLED)
 *   8 Rejected          REJECTED               REJECTED
 *   C Expired           EXPIRED                EXPIRED
 *   3 DoneForDay        EXPIRED                EXPIRED (the order will not trade on)
 *   I OrderStatus       nothing published: a status for reconciliation (also
 *                       each answer to an OrderMassStatusRequest, which carries
 *                       MassStatusReqID 584, TotNumReports 911 and, on the last
 *                       one, LastRptRequested 912=Y)
 *   G/H TradeCorrect/Cancel  nothing applied: an alert for a human
 * CumQty, LeavesQty and AvgPx are the counterparty's (leaves 0 when the status is
 * terminal). report_id = "r" + digest("fix", order_id, ExecID): a resent report
 * gives the same id, and te_fix_execids drops it before it is published twice.
 *
 * FIX 4.2 (te_fix_app_cfg_t.fix42, and a report whose BeginString is FIX.4.2). Out:
 * the same fields (4.2 has every one we send), but no TimeInForce CLS (7 is 4.3 on).
 * In: an ExecutionReport also carries ExecTransType 20 and its ExecType is read as
 * the 4.4 one it stands for before the table above applies: 20=0 with 150=1 (Partial
 * fill) or 150=2 (Fill) is a Trade (F), LastShares being tag 32 as LastQty is;
 * 20=3 (Status) is an OrderStatus answer (I); 20=1 (Cancel) and 20=2 (Correct) are a
 * TradeCancel (H) / TradeCorrect (G). OrdStatus means the same in both versions.
 */
#ifndef TE_FIX_APP_H
#define TE_FIX_APP_H

#include <stddef.h>
#include <stdint.h>

#include "fix_proto.h"
#include "te_msg.h"

#define TE_FIX_CLORDID_MAX 80
#define TE_FIX_EXECID_MAX  64
#define TE_FIX_EXECIDS_MAX (1 << 20) /* ExecIDs remembered by one adapter */
#define TE_FIX_MASSID_MAX  64        /* MassStatusReqID */

typedef struct te_fix_app_cfg_s {
        char account[TE_NAME_MAX]; /* Account 1, "" to leave it out */
        unsigned order_types;      /* bit (1u << te_order_type_t) per type allowed */
        unsigned tifs;             /* bit (1u << te_tif_t) per TimeInForce allowed */
        int fix42;                 /* FIX 4.2: no TimeInForce CLS (7) */
} te_fix_app_cfg_t;

/** ClOrdID of an order's request: kind 'n' (the order itself, k ignored), 'c' (k-th
 *  cancel) or 'r' (k-th replace). @returns 0, or -1 if it does not fit. */
int te_fix_clordid(char *out, size_t outsz, const char *order_id, char kind, int k);
/** The order_id a ClOrdID of ours belongs to. @returns 0, or -1 if it is not one. */
int te_fix_clordid_order(const char *clordid, char *order_id, size_t outsz);

/** NewOrderSingle body for `cmd`. @returns 0, or -1 with errstr (order type or TIF
 *  not allowed, price missing for its type, bad quantity or price). */
int te_fix_app_enc_new(te_fix_enc_t *e, const te_fix_app_cfg_t *cfg,
                       const te_order_cmd_t *cmd, int64_t now_ms, char *errstr,
                       size_t errsz);
/** OrderCancelRequest body for `order` (the order's current terms). @returns 0 or -1. */
int te_fix_app_enc_cancel(te_fix_enc_t *e, const te_order_cmd_t *order,
                          const char *orig_clordid, const char *clordid, int64_t now_ms);
/** OrderCancelReplaceRequest: `order` with the quantity and prices of `repl`. Side,
 *  ticker, order type and TIF may not change. @returns 0, or -1 with errstr. */
int te_fix_app_enc_replace(te_fix_enc_t *e, const te_fix_app_cfg_t *cfg,
                           const te_order_cmd_t *order, const te_order_cmd_t *repl,
                           const char *orig_clordid, const char *clordid, int64_t now_ms,
                           char *errstr, size_t errsz);
/** OrderStatusRequest body for `order` under `clordid`. @returns 0 or -1. */
int te_fix_app_enc_status(te_fix_enc_t *e, const te_order_cmd_t *order,
                          const char *clordid);

/** OrderMassStatusRequest body: every order (585=7), or those of `account` (585=9
 *  with 1 Account) when it is not "". @returns 0, or -1 (empty or too long id). */
int te_fix_app_enc_mass_status(te_fix_enc_t *e, const char *mass_id, const char *account);

/* An ExecutionReport as read from the wire. */
typedef struct te_fix_exec_s {
        char clordid[TE_FIX_CLORDID_MAX];
        char orig_clordid[TE_FIX_CLORDID_MAX];   /* "" when absent */
        char order_id[TE_ID_MAX];                /* ours, from clordid */
        char broker_order_id[TE_FIX_EXECID_MAX]; /* OrderID 37 */
        char exec_id[TE_FIX_EXECID_MAX];
        char exec_type;       /* 150 as FIX 4.4 means it (a 4.2 report's is translated) */
        char exec_trans_type; /* 20 of a FIX 4.2 report, 0 in 4.4 */
        char ord_status;      /* 39 */
        te_side_t side;
        char symbol[TE_TICKER_MAX];
        char account[TE_NAME_MAX];
        double cum_qty, leaves_qty, avg_px, last_qty, last_px;
        int poss_dup;
        char text[TE_TEXT_MAX];          /* Text 58, "" when absent */
        char mass_id[TE_FIX_MASSID_MAX]; /* MassStatusReqID 584, "" when absent */
        int last_rpt;    /* LastRptRequested 912=Y: the last answer to that request */
        int tot_reports; /* TotNumReports 911, -1 when absent */
} te_fix_exec_t;

/** Read an ExecutionReport. @returns 0, or -1 with errstr (a required field missing
 *  or malformed, a ClOrdID that is not ours, negative quantities, a Trade without a
 *  positive LastQty and a LastPx). */
int te_fix_app_dec_exec(const te_fix_msg_t *m, te_fix_exec_t *x, char *errstr,
                        size_t errsz);

typedef enum {
        TE_FIX_MAP_REPORT = 0, /* *r is a report to publish */
        TE_FIX_MAP_STATUS = 1, /* an OrderStatus answer: r->order_status, cum, leaves */
        TE_FIX_MAP_ALERT = 2,  /* not applied: why says what a human must look at */
} te_fix_map_t;

/** Map an ExecutionReport on `order` (the command that created it) to our report
 *  (see the table at the top). `broker` goes into r->broker. */
te_fix_map_t te_fix_app_map_exec(const te_fix_exec_t *x, const te_order_cmd_t *order,
                                 const char *broker, int64_t now_ms, te_exec_report_t *r,
                                 char *why, size_t whysz);

/** Our order status for an OrdStatus (39) value, given the cum quantity (for the
 *  statuses that only say "still live"). @returns -1 for an unknown value. */
int te_fix_app_ord_status(char ord_status, double cum_qty);

/* An OrderCancelReject. */
typedef struct te_fix_cxl_rej_s {
        char clordid[TE_FIX_CLORDID_MAX];
        char orig_clordid[TE_FIX_CLORDID_MAX];
        char order_id[TE_ID_MAX]; /* ours */
        char ord_status;          /* the order's status now */
        int is_replace;           /* CxlRejResponseTo 434: 2 replace, 1 cancel */
        int reason;               /* CxlRejReason 102, -1 when absent */
        char text[TE_TEXT_MAX];
} te_fix_cxl_rej_t;

/** Read an OrderCancelReject. @returns 0, or -1 with errstr. */
int te_fix_app_dec_cancel_reject(const te_fix_msg_t *m, te_fix_cxl_rej_t *c, char *errstr,
                                 size_t errsz);
/** The alert text for a refused cancel or replace. */
void te_fix_app_cancel_reject_text(const te_fix_cxl_rej_t *c, char *out, size_t outsz);

/* The ExecIDs already published: a resent ExecutionReport is not booked twice. */
typedef struct te_fix_execids_s te_fix_execids_t;
/** @returns an empty set, or NULL on OOM. */
te_fix_execids_t *te_fix_execids_new(void);
void te_fix_execids_destroy(te_fix_execids_t *s); /* accepts NULL */
/** Remember `exec_id` of `order_id`. @returns 1 if it was new, 0 if already there,
 *  -1 on OOM or when the set holds TE_FIX_EXECIDS_MAX ids. */
int te_fix_execids_add(te_fix_execids_t *s, const char *order_id, const char *exec_id);

#endif
