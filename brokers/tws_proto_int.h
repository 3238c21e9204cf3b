/*
 * tws_proto_int: helpers shared by the modules of the TWS codec (not a public
 * interface; see tws_proto.h).
 *
 *   tws_proto_wire.c   framing, the field cursor, number/string readers, the frame
 *                      encoder, the handshake
 *   tws_proto.c        the short messages and the dispatch of te_tws_dec_message
 *   tws_proto_order.c  the long order layouts: placeOrder and openOrder
 *
 * The server side (tests/fake_tws/tws_server.c) is written on the same helpers.
 *
 * Readers record the first error in fs->err and return 0 / "" after it, so a decoder
 * reads its whole layout and checks once at the end (tws_finish).
 */
#ifndef TE_TWS_PROTO_INT_H
#define TE_TWS_PROTO_INT_H

#include <stddef.h>
#include <stdint.h>

#include "te_buf.h"
#include "tws_proto.h"

/* ---- reading (fields of one payload) ------------------------------------------ */

/** Record `why` for the current field unless an error is recorded already. */
void tws_ferr(te_tws_fields_t *fs, const char *what, const char *why);
/** The next field (its length in *flen), or NULL (error recorded) at the end. */
const char *tws_fnext(te_tws_fields_t *fs, const char *what, size_t *flen);
void tws_rd_str(te_tws_fields_t *fs, const char *what, char *dst, size_t dstsz);
void tws_rd_skip(te_tws_fields_t *fs, const char *what);
/** Decimal integer; "" reads as 0. */
int64_t tws_rd_int(te_tws_fields_t *fs, const char *what);
/** Decimal number; "" and the "unset" sentinels read as 0. */
double tws_rd_dbl(te_tws_fields_t *fs, const char *what);
/** As tws_rd_dbl; *has = 0 for "" and the sentinels, else 1. */
double tws_rd_dbl_opt(te_tws_fields_t *fs, const char *what, int *has);
/** Skip the fields of a layout "t:name,t:name,..." (t: i integer, d number, s any
 *  string), each read as its type so a malformed one is reported by name. */
void tws_rd_skips(te_tws_fields_t *fs, const char *layout);
/** TE_TWS_OK, or TE_TWS_EMALFORMED with fs->err copied to errstr. */
te_tws_rc_t tws_finish(te_tws_fields_t *fs, char *errstr, size_t errsz);

/* ---- writing (one frame appended to a buffer) ---------------------------------- */

typedef struct tws_enc_s {
        te_buf_t *out;
        size_t start;
        int err;
} tws_enc_t;

void tws_e_begin(tws_enc_t *e, te_buf_t *out);
void tws_e_str(tws_enc_t *e, const char *s);
void tws_e_int(tws_enc_t *e, int64_t v);
void tws_e_dbl(tws_enc_t *e, double v);
/** The number, or an empty field when !has. */
void tws_e_dbl_opt(tws_enc_t *e, int has, double v);
/** Write the placeholder fields of a layout "t:name,t:name,...": t is s (an empty
 *  string), i (0) or x (-1); the names only document the layout. */
void tws_e_blanks(tws_enc_t *e, const char *layout);
/** Write the length prefix. @returns 0, or -1 (frame dropped) on any earlier error
 *  or a payload over TE_TWS_MAX_FRAME. */
int tws_e_end(tws_enc_t *e);
/** One whole frame of integer fields only (begin, the ints, end). @returns as tws_e_end.
 */
int tws_e_ints(te_buf_t *out, const int64_t *v, size_t n);

/* ---- tws_proto_order.c --------------------------------------------------------- */

/** openOrder after its message id: the whole layout of server versions 170..176. */
void tws_dec_open_order(te_tws_fields_t *fs, te_tws_open_order_t *oo);

#endif
