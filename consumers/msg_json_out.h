/*
 * msg_json_out: message structs -> one compact JSON object each, for exec-tail, logs
 * and tests.
 *
 * Field names are the schema's; the attribution ids are flat keys (decision_id,
 * portfolio_id, ...) exactly as in the publisher's input, so a rendered
 * TargetPortfolio parses back with te_json_in_target_portfolio() into an equal struct.
 * Enums are written as their schema symbols, timestamps as integer ms, doubles with the
 * shortest text that reads back to the same value. Optional fields (the schema's
 * ["null", double] unions, has_<field> == 0) are written as null; plain string fields
 * are always strings ("" stays ""). A non-finite double,
 * which a decoded message never holds, is written as the string "NaN", "Infinity" or
 * "-Infinity" so that the line stays valid JSON.
 *
 * Every function appends to `b`. On failure (b->max would be passed, or OOM) the
 * buffer is restored to its length before the call and -1 is returned.
 */
#ifndef MSG_JSON_OUT_H
#define MSG_JSON_OUT_H

#include <stddef.h>
#include <stdint.h>

#include "te_buf.h"
#include "te_codec.h"
#include "te_kafka.h"
#include "te_msg.h"

/** Render the message of `type` at `m` (te_target_portfolio_t for
 *  TE_MSG_TARGET_PORTFOLIO, te_exec_mode_t, ...), its fields in the schema's order.
 * @returns 0, or -1 (buffer unchanged). */
int te_json_out_msg(te_buf_t *b, te_msg_type_t type, const void *m);

/** Append `len` bytes as a JSON value: a string if they are valid UTF-8 without NUL,
 *  else {"hex":"<lower-case hex>"}; NULL `p` gives null. @returns 0 or -1. */
int te_json_out_bytes(te_buf_t *b, const void *p, size_t len);

/** One Kafka record as exec-tail prints it. */
typedef struct te_json_record_s {
        const char *topic;
        int32_t partition;
        int64_t offset;
        const void *key; /* NULL: no key */
        size_t key_len;
        const void *value; /* NULL: tombstone */
        size_t value_len;
        const te_kafka_header_t *headers; /* n_headers of them; value NULL = null */
        size_t n_headers;
        int show_meta;     /* also "timestamp" and "schema_id" after "offset" */
        int64_t timestamp; /* Kafka timestamp in ms; < 0: none (null) */
} te_json_record_t;

/** Decode `r->value` with `codec` (te_codec_peek picks the type) and append
 *    {"topic":..,"partition":..,"offset":..,"key":..,"headers":{..},"value":{..}}
 *  (with show_meta: "timestamp":ms|null,"schema_id":N|null after "offset"; the schema
 *  id is the wire format's bytes 1..4 when byte 0 is the magic 0, else null)
 *  ("headers" only when there are some; "value":null for a tombstone), or, when the
 *  value does not decode,
 *    {"topic":..,"partition":..,"offset":..,"key":..,"headers":{..},
 *     "error":"<te_codec_err_name>: <errstr>","value_hex":"<first 64 bytes>"}.
 *  `tp_scratch` holds the targets array reused across TargetPortfolio records (start
 *  zeroed; the caller frees it with te_target_portfolio_free()).
 *  @returns 0 (decoded or tombstone), 1 (rendered as an error record), or -1 (the
 *  buffer bound was hit; buffer unchanged). */
int te_json_out_record(te_buf_t *b, te_codec_t *codec, te_target_portfolio_t *tp_scratch,
                       const te_json_record_t *r);

#endif
