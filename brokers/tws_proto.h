/*
 * tws_proto: the TWS / IB Gateway API socket protocol (the text protocol of server
 * versions 100..200; from 201 on IB switched to protobuf, which we do not speak).
 *
 * Wire format. The client opens with "API\0" followed by one length-prefixed string
 * "v<min>..<max>" (the server versions it accepts; TWS's own clients write it so,
 * and "v<min>..v<max>" is accepted too). Every later message, in both
 * directions, is a frame: a 4-byte big-endian payload length, then the payload, a
 * list of fields each terminated by NUL. The first field is the message id. The
 * server's first frame is "<server version>\0<connection time>\0"; the client answers
 * with START_API (71) carrying its client id, and the server sends nextValidId and
 * managedAccounts.
 *
 * We implement server versions TE_TWS_VER_MIN..TE_TWS_VER_MAX (170..176): across that
 * range every message below has one layout, given field by field in
 * tws_proto.c and tws_proto_order.c (module list in tws_proto_int.h).
 *
 * Decoding is defensive: a frame length of 0 or over TE_TWS_MAX_FRAME, a payload not
 * ending in NUL, more than TE_TWS_MAX_FIELDS fields, a field longer than its
 * destination, too few fields for the message, a non-numeric or out-of-range number:
 * each is an error (TE_TWS_EMALFORMED) with a reason, never a crash. The caller closes
 * the connection. Unknown message ids decode as TE_TWS_IN_UNKNOWN (ignored).
 *
 * Our client encodes requests and decodes events; the other direction (the fake TWS
 * used in tests: it decodes requests and encodes events) is tests/fake_tws/tws_server.h,
 * on the same field readers and frame writer (tws_proto_int.h).
 */
#ifndef TE_TWS_PROTO_H
#define TE_TWS_PROTO_H

#include <stddef.h>
#include <stdint.h>

#include "te_buf.h"

#define TE_TWS_VER_MIN    170
#define TE_TWS_VER_MAX    176
#define TE_TWS_MAX_FRAME  65536 /* payload bytes; larger frames are malformed */
#define TE_TWS_MAX_FIELDS 512
#define TE_TWS_STR        64  /* symbols, accounts, order refs, exec ids, statuses */
#define TE_TWS_TEXT       512 /* error text, account lists */

/* Outgoing (client -> server) message ids. */
enum {
        TE_TWS_OUT_PLACE_ORDER = 3,
        TE_TWS_OUT_CANCEL_ORDER = 4,
        TE_TWS_OUT_REQ_OPEN_ORDERS = 5,
        TE_TWS_OUT_REQ_EXECUTIONS = 7,
        TE_TWS_OUT_REQ_IDS = 8,
        TE_TWS_OUT_REQ_POSITIONS = 61,
        TE_TWS_OUT_CANCEL_POSITIONS = 64,
        TE_TWS_OUT_START_API = 71,
};

/* Incoming (server -> client) message ids. */
typedef enum {
        TE_TWS_IN_UNKNOWN = 0,
        TE_TWS_IN_ORDER_STATUS = 3,
        TE_TWS_IN_ERROR = 4,
        TE_TWS_IN_OPEN_ORDER = 5,
        TE_TWS_IN_NEXT_VALID_ID = 9,
        TE_TWS_IN_EXEC_DETAILS = 11,
        TE_TWS_IN_MANAGED_ACCTS = 15,
        TE_TWS_IN_OPEN_ORDER_END = 53,
        TE_TWS_IN_EXEC_DETAILS_END = 55,
        TE_TWS_IN_COMMISSION_REPORT = 59,
        TE_TWS_IN_POSITION = 61,
        TE_TWS_IN_POSITION_END = 62,
} te_tws_in_t;

typedef enum {
        TE_TWS_OK = 0,
        TE_TWS_EAGAIN = 1,    /* need more bytes */
        TE_TWS_EMALFORMED = 2 /* close the connection */
} te_tws_rc_t;

/* An order as placeOrder carries it (stocks, SMART routing). */
typedef struct te_tws_order_s {
        int64_t order_id;
        char symbol[TE_TWS_STR];
        char sec_type[8];  /* "STK" */
        char exchange[16]; /* "SMART" */
        char currency[8];  /* "USD" */
        char action[8];    /* BUY | SELL */
        double total_qty;
        char order_type[16]; /* MKT | LMT | STP | STP LMT */
        int has_lmt_price;
        double lmt_price;
        int has_aux_price; /* stop price */
        double aux_price;
        char tif[8]; /* DAY | GTC | IOC | FOK | OPG */
        char account[TE_TWS_STR];
        char order_ref[TE_TWS_STR];
} te_tws_order_t;

/* openOrder: the order, and what we read of its state and attributes. */
typedef struct te_tws_open_order_s {
        te_tws_order_t order;
        int64_t client_id, perm_id, parent_id;
        char status[TE_TWS_STR]; /* the order state: PreSubmitted, Submitted, ... */
} te_tws_open_order_t;

typedef struct te_tws_order_status_s {
        int64_t order_id;
        char status[TE_TWS_STR]; /* PreSubmitted, Submitted, Filled, Cancelled, ... */
        double filled, remaining, avg_fill_price;
        int64_t perm_id, parent_id;
        double last_fill_price;
        int64_t client_id;
        char why_held[TE_TWS_STR];
        double mkt_cap_price;
} te_tws_order_status_t;

typedef struct te_tws_exec_s {
        int64_t req_id; /* -1 for unsolicited */
        int64_t order_id;
        int64_t con_id;
        char symbol[TE_TWS_STR];
        char sec_type[8];
        char currency[8];
        char exec_id[TE_TWS_STR];
        char time[TE_TWS_STR];
        char account[TE_TWS_STR];
        char exchange[16];
        char side[8]; /* BOT | SLD */
        double shares, price;
        int64_t perm_id, client_id, liquidation;
        double cum_qty, avg_price;
        char order_ref[TE_TWS_STR];
} te_tws_exec_t;

typedef struct te_tws_commission_s {
        char exec_id[TE_TWS_STR];
        double commission;
        char currency[8];
        double realized_pnl; /* 0 when unset */
} te_tws_commission_t;

typedef struct te_tws_error_s {
        int64_t id; /* order id, request id, or -1 */
        int64_t code;
        char text[TE_TWS_TEXT];
} te_tws_error_t;

typedef struct te_tws_position_s {
        char account[TE_TWS_STR];
        int64_t con_id;
        char symbol[TE_TWS_STR];
        char sec_type[8];
        char currency[8];
        double position, avg_cost;
} te_tws_position_t;

/* One decoded server message. Only the member named by `type` is filled. */
typedef struct te_tws_msg_s {
        te_tws_in_t type;
        int64_t raw_id; /* the message id as received (also for UNKNOWN) */
        union {
                int64_t next_valid_id;
                char accounts[TE_TWS_TEXT]; /* managedAccounts: comma separated */
                te_tws_order_status_t status;
                te_tws_open_order_t open_order;
                te_tws_exec_t exec;
                te_tws_commission_t commission;
                te_tws_error_t error;
                te_tws_position_t position;
                int64_t end_req_id; /* execDetailsEnd */
        } u;
} te_tws_msg_t;

/* ---- framing --------------------------------------------------------------- */

/** Look for one complete frame at the start of `data`. On TE_TWS_OK sets *payload,
 *  *payload_len and *consumed (4 + payload). @returns TE_TWS_EAGAIN when more bytes
 *  are needed, TE_TWS_EMALFORMED (reason in errstr) for a length of 0 or over
 *  `max_payload`. */
te_tws_rc_t te_tws_frame_next(const uint8_t *data, size_t len, size_t max_payload,
                              const uint8_t **payload, size_t *payload_len,
                              size_t *consumed, char *errstr, size_t errsz);

/* Field cursor over one payload. */
typedef struct te_tws_fields_s {
        const char *f[TE_TWS_MAX_FIELDS];
        size_t flen[TE_TWS_MAX_FIELDS];
        size_t n, pos;
        char err[160]; /* first error */
} te_tws_fields_t;

/** Split a payload into NUL-terminated fields. @returns 0, or -1 (reason in
 *  fs->err) when the payload does not end in NUL or has too many fields. */
int te_tws_fields_split(te_tws_fields_t *fs, const uint8_t *payload, size_t len);

/* ---- encoding (each appends one whole frame to `out`; @returns 0, or -1 when a
 *      string does not fit the buffer's bound) ------------------------------------ */

/** "API\0" + length + "v<min>..<max>" (no frame of its own). */
int te_tws_enc_handshake(te_buf_t *out, int min_ver, int max_ver);
int te_tws_enc_start_api(te_buf_t *out, int64_t client_id);
int te_tws_enc_place_order(te_buf_t *out, const te_tws_order_t *o);
int te_tws_enc_cancel_order(te_buf_t *out, int64_t order_id);
int te_tws_enc_req_open_orders(te_buf_t *out);
int te_tws_enc_req_executions(te_buf_t *out, int64_t req_id, int64_t client_id,
                              const char *account);
int te_tws_enc_req_positions(te_buf_t *out);
int te_tws_enc_cancel_positions(te_buf_t *out);

/* ---- decoding ------------------------------------------------------------------ */

/** Decode the server's first frame. @returns TE_TWS_OK or TE_TWS_EMALFORMED. */
te_tws_rc_t te_tws_dec_server_version(const uint8_t *payload, size_t len, int *version,
                                      char *conn_time, size_t conn_time_size,
                                      char *errstr, size_t errsz);
/** Decode one server message payload. @returns TE_TWS_OK (msg->type may be
 *  TE_TWS_IN_UNKNOWN) or TE_TWS_EMALFORMED with the reason. */
te_tws_rc_t te_tws_dec_message(const uint8_t *payload, size_t len, te_tws_msg_t *msg,
                               char *errstr, size_t errsz);

#endif
