/*
 * tws_server.h: the server side of the TWS API text protocol, for the fake TWS and the
 * codec's tests (the client side, and the message layouts, are brokers/tws_proto.h).
 * Encoders append one whole frame to `out` and return 0, or -1 when a string does
 * not fit the buffer's bound.
 */
#ifndef TE_TWS_SERVER_H
#define TE_TWS_SERVER_H

#include "tws_proto.h"

/* A decoded client request (for the fake TWS). */
typedef struct te_tws_req_s {
        int id; /* TE_TWS_OUT_* or another number */
        union {
                te_tws_order_t place; /* PLACE_ORDER */
                int64_t cancel_id;    /* CANCEL_ORDER */
                int64_t client_id;    /* START_API */
                struct {              /* REQ_EXECUTIONS */
                        int64_t req_id, client_id;
                        char account[TE_TWS_STR];
                } exec_filter;
                int64_t num_ids; /* REQ_IDS */
        } u;
} te_tws_req_t;

int te_tws_enc_req_ids(te_buf_t *out, int num_ids);
int te_tws_enc_server_version(te_buf_t *out, int version, const char *conn_time);
int te_tws_enc_next_valid_id(te_buf_t *out, int64_t id);
int te_tws_enc_managed_accts(te_buf_t *out, const char *accounts);
int te_tws_enc_order_status(te_buf_t *out, const te_tws_order_status_t *s);
/** The full openOrder of server versions 170..176 for a plain order (128 fields). */
int te_tws_enc_open_order(te_buf_t *out, const te_tws_open_order_t *oo);
int te_tws_enc_open_order_end(te_buf_t *out);
int te_tws_enc_exec_details(te_buf_t *out, const te_tws_exec_t *e);
int te_tws_enc_exec_details_end(te_buf_t *out, int64_t req_id);
int te_tws_enc_commission(te_buf_t *out, const te_tws_commission_t *c);
int te_tws_enc_error(te_buf_t *out, int64_t id, int64_t code, const char *text);
int te_tws_enc_position(te_buf_t *out, const te_tws_position_t *p);
int te_tws_enc_position_end(te_buf_t *out);

/** Parse the client's handshake at the start of `data` ("API\0", length, version
 *  range). On TE_TWS_OK sets *min_ver, *max_ver, *consumed. */
te_tws_rc_t te_tws_dec_handshake(const uint8_t *data, size_t len, int *min_ver,
                                 int *max_ver, size_t *consumed, char *errstr,
                                 size_t errsz);
/** Decode one client request payload (fake TWS side). Unknown ids are returned with
 *  only `id` set. @returns TE_TWS_OK or TE_TWS_EMALFORMED. */
te_tws_rc_t te_tws_dec_request(const uint8_t *payload, size_t len, te_tws_req_t *req,
                               char *errstr, size_t errsz);

#endif
