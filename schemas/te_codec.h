/*
 * te_codec: Avro binary in the Confluent wire format for our five message types.
 *
 *   byte 0      0x00 (magic)
 *   bytes 1..4  schema id, big-endian (fixed per message type by schemas/manifest)
 *   bytes 5..   Avro binary of the record (schemas/<type>.avsc)
 *
 * Decoding is safe on hostile bytes: before avro-c sees a message, the bytes are walked
 * against the schema without allocating (every length within the remaining bytes, enum
 * and union indexes in range, array counts and nesting capped, the record ending
 * exactly at the end of the message). Decoded values are then validated (finite,
 * non-negative prices and quantities, strings that fit their C fields, ...).
 *
 * A codec is not thread-safe: use one per thread. It reuses its avro values, so
 * decoding allocates nothing per message in the steady state.
 */
#ifndef TE_CODEC_H
#define TE_CODEC_H

#include <stddef.h>
#include <stdint.h>

#include "te_buf.h"
#include "te_msg.h"

typedef enum {
        TE_MSG_TARGET_PORTFOLIO = 0,
        TE_MSG_EXECUTION_MODE = 1,
        TE_MSG_ORDER_COMMAND = 2,
        TE_MSG_EXECUTION_REPORT = 3,
        TE_MSG_ALERT = 4,
        TE_MSG__CNT
} te_msg_type_t;

typedef enum {
        TE_CODEC_OK = 0,
        TE_CODEC_ERR_EMPTY,     /* zero-length or NULL message */
        TE_CODEC_ERR_MAGIC,     /* first byte is not 0x00 */
        TE_CODEC_ERR_SCHEMA_ID, /* unknown id, or the id of another message type */
        TE_CODEC_ERR_TRUNCATED, /* bytes end inside the record */
        TE_CODEC_ERR_MALFORMED, /* bad varint, length, enum/union index, boolean ... */
        TE_CODEC_ERR_TRAILING,  /* bytes left after the record */
        TE_CODEC_ERR_TOO_LARGE, /* message, string, array or nesting above our caps */
        TE_CODEC_ERR_INVALID,   /* well-formed Avro whose values we refuse (NaN ...) */
        TE_CODEC_ERR_INTERNAL,  /* avro-c failed on bytes the walker accepted, OOM */
        TE_CODEC_ERR__CNT
} te_codec_err_t;

/** Short stable name of an error ("truncated", "schema_id", ...), for metrics labels
 *  and dead-letter reasons. */
const char *te_codec_err_name(te_codec_err_t err);

#define TE_CODEC_MAX_MESSAGE (16u * 1024u * 1024u) /* larger messages: TOO_LARGE */
#define TE_CODEC_HEADER_LEN  5

typedef struct te_codec_s te_codec_t;

/** Load the compiled-in schemas. @returns NULL with errstr on failure. */
te_codec_t *te_codec_new(char *errstr, size_t errsz);
void te_codec_destroy(te_codec_t *c); /* accepts NULL */

/** Schema id of a message type (from schemas/manifest). */
int32_t te_codec_schema_id(te_msg_type_t type);
/** The schema JSON text of a message type (compiled in from schemas/<type>.avsc). */
const char *te_codec_schema_json(te_msg_type_t type);
/** Name of a message type: "TargetPortfolio", ... */
const char *te_codec_type_name(te_msg_type_t type);

/** Read the header only. @returns OK and the type, or EMPTY/MAGIC/TRUNCATED/SCHEMA_ID. */
te_codec_err_t te_codec_peek(const void *buf, size_t len, te_msg_type_t *type);

/* Encoders append header + Avro to `out` (which is reset first).
 * @returns OK, INVALID (a value that must not go on the wire, errstr says which field),
 * TOO_LARGE (out's bound) or INTERNAL. */
te_codec_err_t te_codec_encode_target_portfolio(te_codec_t *c,
                                                const te_target_portfolio_t *m,
                                                te_buf_t *out, char *errstr,
                                                size_t errsz);
te_codec_err_t te_codec_encode_exec_mode(te_codec_t *c, const te_exec_mode_t *m,
                                         te_buf_t *out, char *errstr, size_t errsz);
te_codec_err_t te_codec_encode_order_cmd(te_codec_t *c, const te_order_cmd_t *m,
                                         te_buf_t *out, char *errstr, size_t errsz);
te_codec_err_t te_codec_encode_exec_report(te_codec_t *c, const te_exec_report_t *m,
                                           te_buf_t *out, char *errstr, size_t errsz);
te_codec_err_t te_codec_encode_alert(te_codec_t *c, const te_alert_t *m, te_buf_t *out,
                                     char *errstr, size_t errsz);

/* Decoders fill `m` (zeroed first; for TargetPortfolio the targets array is reused if
 * already allocated, else allocated: free with te_target_portfolio_free).
 * @returns OK, or an error with errstr saying where (field name, byte offset). On error
 * `m` holds no allocation beyond what it held before. On TE_CODEC_ERR_INVALID the
 * message was well-formed and its scalar and string fields (the ids) are as decoded, so
 * a dead letter can name them; after any other error they are unspecified. */
te_codec_err_t te_codec_decode_target_portfolio(te_codec_t *c, const void *buf,
                                                size_t len, te_target_portfolio_t *m,
                                                char *errstr, size_t errsz);
te_codec_err_t te_codec_decode_exec_mode(te_codec_t *c, const void *buf, size_t len,
                                         te_exec_mode_t *m, char *errstr, size_t errsz);
te_codec_err_t te_codec_decode_order_cmd(te_codec_t *c, const void *buf, size_t len,
                                         te_order_cmd_t *m, char *errstr, size_t errsz);
te_codec_err_t te_codec_decode_exec_report(te_codec_t *c, const void *buf, size_t len,
                                           te_exec_report_t *m, char *errstr,
                                           size_t errsz);
te_codec_err_t te_codec_decode_alert(te_codec_t *c, const void *buf, size_t len,
                                     te_alert_t *m, char *errstr, size_t errsz);

/** Decode through avro-c's generic value API (1) instead of the default reader (0).
 *  Both run after the same no-allocation walk and give identical results (the unit
 *  and fuzz tests decode every input both ways and compare); the default reads the
 *  walked bytes straight into the struct and is about 3x faster than avro-c here. */
void te_codec_use_avro_reader(te_codec_t *c, int on);

/** Encode through avro-c's generic writer (1) instead of the default direct writer (0).
 *  Both run the same checks in the same order and give the same bytes, or the same
 *  refusal with the same errstr (the unit and fuzz tests encode both ways and compare);
 *  the default encodes the struct straight into `out` from the field tables, without
 *  avro-c's generic value. */
void te_codec_use_avro_writer(te_codec_t *c, int on);

/** Range check of a decoded (or about to be encoded) message of type `t` against the
 *  value bounds of te_msg.h (TE_QTY_MAX, TE_PRICE_MAX, TE_NOTIONAL_MAX, TE_WEIGHT_MAX):
 *  a value that is finite and well-formed but out of the range the service and its DB
 *  handle. Not part of decode (the codec's contract is the wire); every consumer calls it
 *  after decode and dead-letters what fails (reason "out_of_range: <field> ..."), and
 *  the planner calls it on each order before it is sent.
 *  @returns OK, or TE_CODEC_ERR_INVALID with errstr naming the field. */
te_codec_err_t te_codec_check_bounds(te_msg_type_t t, const void *m, char *errstr,
                                     size_t errsz);

/** Validate only (header, walk, no avro-c decode). Used by tools and the fuzz target.
 *  @returns OK or the error the decoder would return before value validation. */
te_codec_err_t te_codec_check(te_codec_t *c, const void *buf, size_t len,
                              te_msg_type_t *type, char *errstr, size_t errsz);

#endif
