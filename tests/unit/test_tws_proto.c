/*
 * test_tws_proto: golden frames of the TWS API codec and pacer.
 *
 * Every frame below is written out byte by byte (4-byte big-endian length, then
 * NUL-terminated fields) from the field lists of server version 176. The encoders
 * must produce exactly these bytes, and the decoders must read them back into the
 * values written beside each test. Then a table of malformed input: truncated
 * lengths, lengths of 0 or over the cap, payloads without the final NUL, too few or
 * too many fields, non-numeric and out-of-range numbers, overlong strings; each must
 * be refused with an error, never crash (the ASan/UBSan build runs this file too).
 * The long openOrder layout has its own file, test_tws_proto_order.c.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "te_buf.h"
#include "tws_pacer.h"
#include "tws_proto.h"
#include "tws_server.h"

/* start_api: 12 bytes */
static const char G_START_API[] = "\x00\x00\x00\x08"
                                  "71\0"
                                  "2\0"
                                  "7\0\0";
/* cancel: 12 bytes */
static const char G_CANCEL[] = "\x00\x00\x00\x08"
                               "4\0"
                               "1\0"
                               "42\0\0";
/* req_open: 8 bytes */
static const char G_REQ_OPEN[] = "\x00\x00\x00\x04"
                                 "5\0"
                                 "1\0";
/* req_exec: 18 bytes */
static const char G_REQ_EXEC[] = "\x00\x00\x00\x0e"
                                 "7\0"
                                 "3\0"
                                 "3\0"
                                 "7\0\0\0\0\0\0\0";
/* req_pos: 9 bytes */
static const char G_REQ_POS[] = "\x00\x00\x00\x05"
                                "61\0"
                                "1\0";
/* cancel_pos: 9 bytes */
static const char G_CANCEL_POS[] = "\x00\x00\x00\x05"
                                   "64\0"
                                   "1\0";
/* req_ids: 10 bytes */
static const char G_REQ_IDS[] = "\x00\x00\x00\x06"
                                "8\0"
                                "1\0"
                                "1\0";
/* srv_ver: 30 bytes */
static const char G_SRV_VER[] = "\x00\x00\x00\x1a"
                                "176\0"
                                "20250102 10:00:00 EST\0";
/* next_id: 13 bytes */
static const char G_NEXT_ID[] = "\x00\x00\x00\x09"
                                "9\0"
                                "1\0"
                                "1001\0";
/* managed: 27 bytes */
static const char G_MANAGED[] = "\x00\x00\x00\x17"
                                "15\0"
                                "1\0DU111111,DU222222\0";
/* status: 54 bytes */
static const char G_STATUS[] = "\x00\x00\x00\x32"
                               "3\0"
                               "42\0Submitted\0"
                               "30\0"
                               "70\0"
                               "187.25\0"
                               "1000001\0"
                               "0\0"
                               "187.25\0"
                               "7\0\0"
                               "0\0";
/* exec: 146 bytes */
static const char G_EXEC[] = "\x00\x00\x00\x8e"
                             "11\0-1\0"
                             "42\0"
                             "0\0AAPL\0STK\0\0"
                             "0\0\0\0NYSE\0USD\0AAPL\0\0"
                             "0001f4e8.6571a3b2.01.01\0"
                             "20250102  10:00:00\0DU111111\0NYSE\0BOT\0"
                             "30\0"
                             "187.25\0"
                             "1000001\0"
                             "7\0"
                             "0\0"
                             "30\0"
                             "187.25\0o-1\0\0\0\0"
                             "0\0";
/* comm: 89 bytes */
static const char G_COMM[] = "\x00\x00\x00\x55"
                             "59\0"
                             "1\0"
                             "0001f4e8.6571a3b2.01.01\0"
                             "1.25\0USD\0"
                             "1.7976931348623157E308\0"
                             "1.7976931348623157E308\0\0";
/* error: 43 bytes */
static const char G_ERROR[] = "\x00\x00\x00\x27"
                              "4\0"
                              "2\0"
                              "42\0"
                              "201\0Order rejected - reason:NO\0\0";
/* position: 55 bytes */
static const char G_POSITION[] = "\x00\x00\x00\x33"
                                 "61\0"
                                 "3\0DU111111\0"
                                 "0\0AAPL\0STK\0\0"
                                 "0\0\0\0\0USD\0AAPL\0\0"
                                 "130\0"
                                 "187.5\0";
/* open_end: 9 bytes */
static const char G_OPEN_END[] = "\x00\x00\x00\x05"
                                 "53\0"
                                 "1\0";
/* exec_end: 11 bytes */
static const char G_EXEC_END[] = "\x00\x00\x00\x07"
                                 "55\0"
                                 "1\0"
                                 "3\0";
/* pos_end: 9 bytes */
static const char G_POS_END[] = "\x00\x00\x00\x05"
                                "62\0"
                                "1\0";
/* place: 201 bytes */
static const char G_PLACE[] = "\x00\x00\x00\xc5"
                              "3\0"
                              "42\0"
                              "0\0AAPL\0STK\0\0"
                              "0\0\0\0SMART\0\0USD\0\0\0\0\0BUY\0"
                              "100\0LMT\0"
                              "187.25\0\0GTC\0\0DU111111\0\0"
                              "0\0o-1\0"
                              "1\0"
                              "0\0"
                              "0\0"
                              "0\0"
                              "0\0"
                              "0\0"
                              "0\0"
                              "0\0\0"
                              "0\0\0\0\0\0\0\0\0"
                              "0\0\0-1\0"
                              "0\0\0\0"
                              "0\0\0\0"
                              "0\0"
                              "0\0\0"
                              "0\0\0\0\0\0\0"
                              "0\0\0\0\0\0"
                              "0\0\0\0\0\0\0\0\0\0\0\0"
                              "0\0\0\0"
                              "0\0"
                              "0\0\0\0"
                              "0\0\0"
                              "0\0"
                              "0\0"
                              "0\0"
                              "0\0\0\0\0\0\0\0"
                              "0\0\0\0\0\0\0\0\0\0"
                              "0\0"
                              "0\0"
                              "0\0\0\0\0"
                              "0\0\0\0";
static const char G_HANDSHAKE[] = "API\0"
                                  "\x00\x00\x00\x09"
                                  "v170..176";

#define GLEN(g) (sizeof(g) - 1)

static void assert_frame(te_buf_t *b, const char *want, size_t want_len)
{
        assert_int_equal(b->len, want_len);
        assert_memory_equal(b->data, want, want_len);
        te_buf_reset(b);
}

static te_tws_order_t sample_order(void)
{
        te_tws_order_t o;
        memset(&o, 0, sizeof o);
        o.order_id = 42;
        strcpy(o.symbol, "AAPL"); /* NOLINT: test literal fits */
        memcpy(o.sec_type, "STK", 4);
        memcpy(o.exchange, "SMART", 6);
        memcpy(o.currency, "USD", 4);
        memcpy(o.action, "BUY", 4);
        o.total_qty = 100;
        memcpy(o.order_type, "LMT", 4);
        o.has_lmt_price = 1;
        o.lmt_price = 187.25;
        memcpy(o.tif, "GTC", 4);
        memcpy(o.account, "DU111111", 9);
        memcpy(o.order_ref, "o-1", 4);
        return o;
}

static void test_tws_encode_client_frames(void **state)
{
        (void)state;
        te_buf_t b;
        te_buf_init(&b, 1 << 20);
        assert_int_equal(te_tws_enc_handshake(&b, 170, 176), 0);
        assert_frame(&b, G_HANDSHAKE, GLEN(G_HANDSHAKE));
        assert_int_equal(te_tws_enc_start_api(&b, 7), 0);
        assert_frame(&b, G_START_API, GLEN(G_START_API));
        te_tws_order_t o = sample_order();
        assert_int_equal(te_tws_enc_place_order(&b, &o), 0);
        assert_frame(&b, G_PLACE, GLEN(G_PLACE));
        assert_int_equal(te_tws_enc_cancel_order(&b, 42), 0);
        assert_frame(&b, G_CANCEL, GLEN(G_CANCEL));
        assert_int_equal(te_tws_enc_req_open_orders(&b), 0);
        assert_frame(&b, G_REQ_OPEN, GLEN(G_REQ_OPEN));
        assert_int_equal(te_tws_enc_req_executions(&b, 3, 7, ""), 0);
        assert_frame(&b, G_REQ_EXEC, GLEN(G_REQ_EXEC));
        assert_int_equal(te_tws_enc_req_positions(&b), 0);
        assert_frame(&b, G_REQ_POS, GLEN(G_REQ_POS));
        assert_int_equal(te_tws_enc_cancel_positions(&b), 0);
        assert_frame(&b, G_CANCEL_POS, GLEN(G_CANCEL_POS));
        assert_int_equal(te_tws_enc_req_ids(&b, 1), 0);
        assert_frame(&b, G_REQ_IDS, GLEN(G_REQ_IDS));
        te_buf_free(&b);
}

/* The fake TWS's side: the same golden client frames decode as requests. */
static void test_tws_decode_requests(void **state)
{
        (void)state;
        char err[160];
        te_tws_req_t r;
        int a, b;
        size_t used;
        assert_int_equal(te_tws_dec_handshake((const uint8_t *)G_HANDSHAKE,
                                              GLEN(G_HANDSHAKE), &a, &b, &used, err,
                                              sizeof err),
                         TE_TWS_OK);
        assert_int_equal(a, 170);
        assert_int_equal(b, 176);
        assert_int_equal(used, GLEN(G_HANDSHAKE));
        assert_int_equal(te_tws_dec_request((const uint8_t *)G_PLACE + 4,
                                            GLEN(G_PLACE) - 4, &r, err, sizeof err),
                         TE_TWS_OK);
        assert_int_equal(r.id, TE_TWS_OUT_PLACE_ORDER);
        assert_int_equal(r.u.place.order_id, 42);
        assert_string_equal(r.u.place.symbol, "AAPL");
        assert_string_equal(r.u.place.action, "BUY");
        assert_true(r.u.place.total_qty == 100);
        assert_string_equal(r.u.place.order_type, "LMT");
        assert_true(r.u.place.has_lmt_price && r.u.place.lmt_price == 187.25);
        assert_false(r.u.place.has_aux_price);
        assert_string_equal(r.u.place.tif, "GTC");
        assert_string_equal(r.u.place.account, "DU111111");
        assert_string_equal(r.u.place.order_ref, "o-1");
        assert_int_equal(te_tws_dec_request((const uint8_t *)G_START_API + 4,
                                            GLEN(G_START_API) - 4, &r, err, sizeof err),
                         TE_TWS_OK);
        assert_int_equal(r.u.client_id, 7);
        assert_int_equal(te_tws_dec_request((const uint8_t *)G_CANCEL + 4,
                                            GLEN(G_CANCEL) - 4, &r, err, sizeof err),
                         TE_TWS_OK);
        assert_int_equal(r.u.cancel_id, 42);
        assert_int_equal(te_tws_dec_request((const uint8_t *)G_REQ_EXEC + 4,
                                            GLEN(G_REQ_EXEC) - 4, &r, err, sizeof err),
                         TE_TWS_OK);
        assert_int_equal(r.u.exec_filter.req_id, 3);
        assert_int_equal(r.u.exec_filter.client_id, 7);
}

static void test_tws_encode_server_frames(void **state)
{
        (void)state;
        te_buf_t b;
        te_buf_init(&b, 1 << 20);
        assert_int_equal(te_tws_enc_server_version(&b, 176, "20250102 10:00:00 EST"), 0);
        assert_frame(&b, G_SRV_VER, GLEN(G_SRV_VER));
        assert_int_equal(te_tws_enc_next_valid_id(&b, 1001), 0);
        assert_frame(&b, G_NEXT_ID, GLEN(G_NEXT_ID));
        assert_int_equal(te_tws_enc_managed_accts(&b, "DU111111,DU222222"), 0);
        assert_frame(&b, G_MANAGED, GLEN(G_MANAGED));
        te_tws_order_status_t s = {.order_id = 42,
                                   .status = "Submitted",
                                   .filled = 30,
                                   .remaining = 70,
                                   .avg_fill_price = 187.25,
                                   .perm_id = 1000001,
                                   .last_fill_price = 187.25,
                                   .client_id = 7};
        assert_int_equal(te_tws_enc_order_status(&b, &s), 0);
        assert_frame(&b, G_STATUS, GLEN(G_STATUS));
        te_tws_exec_t x = {.req_id = -1,
                           .order_id = 42,
                           .symbol = "AAPL",
                           .sec_type = "STK",
                           .currency = "USD",
                           .exec_id = "0001f4e8.6571a3b2.01.01",
                           .time = "20250102  10:00:00",
                           .account = "DU111111",
                           .exchange = "NYSE",
                           .side = "BOT",
                           .shares = 30,
                           .price = 187.25,
                           .perm_id = 1000001,
                           .client_id = 7,
                           .cum_qty = 30,
                           .avg_price = 187.25,
                           .order_ref = "o-1"};
        assert_int_equal(te_tws_enc_exec_details(&b, &x), 0);
        assert_frame(&b, G_EXEC, GLEN(G_EXEC));
        te_tws_commission_t c = {
            .exec_id = "0001f4e8.6571a3b2.01.01", .commission = 1.25, .currency = "USD"};
        assert_int_equal(te_tws_enc_commission(&b, &c), 0);
        assert_frame(&b, G_COMM, GLEN(G_COMM));
        assert_int_equal(te_tws_enc_error(&b, 42, 201, "Order rejected - reason:NO"), 0);
        assert_frame(&b, G_ERROR, GLEN(G_ERROR));
        te_tws_position_t p = {.account = "DU111111",
                               .symbol = "AAPL",
                               .sec_type = "STK",
                               .currency = "USD",
                               .position = 130,
                               .avg_cost = 187.5};
        assert_int_equal(te_tws_enc_position(&b, &p), 0);
        assert_frame(&b, G_POSITION, GLEN(G_POSITION));
        assert_int_equal(te_tws_enc_open_order_end(&b), 0);
        assert_frame(&b, G_OPEN_END, GLEN(G_OPEN_END));
        assert_int_equal(te_tws_enc_exec_details_end(&b, 3), 0);
        assert_frame(&b, G_EXEC_END, GLEN(G_EXEC_END));
        assert_int_equal(te_tws_enc_position_end(&b), 0);
        assert_frame(&b, G_POS_END, GLEN(G_POS_END));
        te_buf_free(&b);
}

/* Split a golden frame with te_tws_frame_next and decode it. */
static te_tws_msg_t dec(const char *g, size_t glen)
{
        const uint8_t *pl;
        size_t plen, used;
        char err[200];
        te_tws_msg_t m;
        assert_int_equal(te_tws_frame_next((const uint8_t *)g, glen, TE_TWS_MAX_FRAME,
                                           &pl, &plen, &used, err, sizeof err),
                         TE_TWS_OK);
        assert_int_equal(used, glen);
        assert_int_equal(te_tws_dec_message(pl, plen, &m, err, sizeof err), TE_TWS_OK);
        return m;
}

static void test_tws_decode_server_frames(void **state)
{
        (void)state;
        int v;
        char ct[64], err[200];
        assert_int_equal(te_tws_dec_server_version((const uint8_t *)G_SRV_VER + 4,
                                                   GLEN(G_SRV_VER) - 4, &v, ct, sizeof ct,
                                                   err, sizeof err),
                         TE_TWS_OK);
        assert_int_equal(v, 176);
        assert_string_equal(ct, "20250102 10:00:00 EST");
        te_tws_msg_t m = dec(G_NEXT_ID, GLEN(G_NEXT_ID));
        assert_int_equal(m.type, TE_TWS_IN_NEXT_VALID_ID);
        assert_int_equal(m.u.next_valid_id, 1001);
        m = dec(G_MANAGED, GLEN(G_MANAGED));
        assert_int_equal(m.type, TE_TWS_IN_MANAGED_ACCTS);
        assert_string_equal(m.u.accounts, "DU111111,DU222222");
        m = dec(G_STATUS, GLEN(G_STATUS));
        assert_int_equal(m.type, TE_TWS_IN_ORDER_STATUS);
        assert_int_equal(m.u.status.order_id, 42);
        assert_string_equal(m.u.status.status, "Submitted");
        assert_true(m.u.status.filled == 30 && m.u.status.remaining == 70);
        assert_true(m.u.status.avg_fill_price == 187.25);
        assert_int_equal(m.u.status.perm_id, 1000001);
        assert_int_equal(m.u.status.client_id, 7);
        m = dec(G_EXEC, GLEN(G_EXEC));
        assert_int_equal(m.type, TE_TWS_IN_EXEC_DETAILS);
        assert_int_equal(m.u.exec.req_id, -1);
        assert_int_equal(m.u.exec.order_id, 42);
        assert_string_equal(m.u.exec.exec_id, "0001f4e8.6571a3b2.01.01");
        assert_string_equal(m.u.exec.side, "BOT");
        assert_true(m.u.exec.shares == 30 && m.u.exec.price == 187.25);
        assert_true(m.u.exec.cum_qty == 30);
        assert_string_equal(m.u.exec.order_ref, "o-1");
        assert_string_equal(m.u.exec.account, "DU111111");
        m = dec(G_COMM, GLEN(G_COMM));
        assert_int_equal(m.type, TE_TWS_IN_COMMISSION_REPORT);
        assert_string_equal(m.u.commission.exec_id, "0001f4e8.6571a3b2.01.01");
        assert_true(m.u.commission.commission == 1.25);
        assert_true(m.u.commission.realized_pnl == 0); /* unset sentinel */
        m = dec(G_ERROR, GLEN(G_ERROR));
        assert_int_equal(m.type, TE_TWS_IN_ERROR);
        assert_int_equal(m.u.error.id, 42);
        assert_int_equal(m.u.error.code, 201);
        assert_string_equal(m.u.error.text, "Order rejected - reason:NO");
        m = dec(G_POSITION, GLEN(G_POSITION));
        assert_int_equal(m.type, TE_TWS_IN_POSITION);
        assert_string_equal(m.u.position.account, "DU111111");
        assert_string_equal(m.u.position.symbol, "AAPL");
        assert_true(m.u.position.position == 130 && m.u.position.avg_cost == 187.5);
        assert_int_equal(dec(G_OPEN_END, GLEN(G_OPEN_END)).type,
                         TE_TWS_IN_OPEN_ORDER_END);
        m = dec(G_EXEC_END, GLEN(G_EXEC_END));
        assert_int_equal(m.type, TE_TWS_IN_EXEC_DETAILS_END);
        assert_int_equal(m.u.end_req_id, 3);
        assert_int_equal(dec(G_POS_END, GLEN(G_POS_END)).type, TE_TWS_IN_POSITION_END);
        /* an unknown message id is skipped, not an error */
        m = dec("\x00\x00\x00\x05"
                "49\0"
                "1\0",
                9);
        assert_int_equal(m.type, TE_TWS_IN_UNKNOWN);
        assert_int_equal(m.raw_id, 49);
}

/* Malformed input: framing (frame_next) and payloads (dec_message). */
typedef struct bad_s {
        const char *name;
        const char *bytes;
        size_t len;
        te_tws_rc_t frame_rc; /* from te_tws_frame_next */
        const char *why;      /* substring of the error (frame or decode) */
} bad_t;

#define B(s) s, sizeof(s) - 1
static const bad_t bad[] = {
    {"empty", B(""), TE_TWS_EAGAIN, NULL},
    {"truncated length", B("\x00\x00\x00"), TE_TWS_EAGAIN, NULL},
    {"truncated payload",
     B("\x00\x00\x00\x08"
       "3\0"
       "42\0"),
     TE_TWS_EAGAIN, NULL},
    {"length zero",
     B("\x00\x00\x00\x00"
       "3\0"),
     TE_TWS_EMALFORMED, "outside"},
    {"length over cap",
     B("\x00\x01\x00\x01"
       "3\0"),
     TE_TWS_EMALFORMED, "outside"},
    {"length negative",
     B("\xff\xff\xff\xfe"
       "3\0"),
     TE_TWS_EMALFORMED, "outside"},
    {"no final NUL",
     B("\x00\x00\x00\x04"
       "9\0"
       "1x"),
     TE_TWS_OK, "NUL"},
    {"too few fields (orderStatus)",
     B("\x00\x00\x00\x07"
       "3\0"
       "42\0"
       "S\0"),
     TE_TWS_OK, "missing"},
    {"too few fields (execDetails)",
     B("\x00\x00\x00\x06"
       "11\0"
       "-1\0"),
     TE_TWS_OK, "missing"},
    {"non-numeric message id",
     B("\x00\x00\x00\x03"
       "x9\0"),
     TE_TWS_OK, "not an integer"},
    {"non-numeric order id",
     B("\x00\x00\x00\x09"
       "9\0"
       "1\0"
       "12a4\0"),
     TE_TWS_OK, "not an integer"},
    {"lone minus",
     B("\x00\x00\x00\x06"
       "9\0"
       "1\0"
       "-\0"),
     TE_TWS_OK, "not an integer"},
    {"integer overflow",
     B("\x00\x00\x00\x19"
       "9\0"
       "1\0"
       "99999999999999999999\0"),
     TE_TWS_OK, "out of range"},
    {"integer too long",
     B("\x00\x00\x00\x1b"
       "9\0"
       "1\0"
       "1234567890123456789012\0"),
     TE_TWS_OK, "too long"},
    {"non-numeric double",
     B("\x00\x00\x00\x15"
       "3\0"
       "42\0"
       "Filled\0"
       "1e\0"
       "0\0"
       "0\0"
       "0\0"),
     TE_TWS_OK, "not a number"},
    {"nan double",
     B("\x00\x00\x00\x12"
       "3\0"
       "42\0"
       "Filled\0"
       "nan\0"
       "0\0"),
     TE_TWS_OK, "not a number"},
    {"negative message id",
     B("\x00\x00\x00\x03"
       "-4\0"),
     TE_TWS_OK, "invalid"},
    {"overlong managedAccounts",
     B("\x00\x00\x02\x5e"
       "15\0"
       "1\0"
       "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
       "AAAAAAAAAAAAAAAAAAA"
       "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
       "AAAAAAAAAAAAAAAAAAA"
       "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
       "AAAAAAAAAAAAAAAAAAA"
       "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
       "AAAAAAAAAAAAAAAAAAA"
       "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
       "AAAAAAAAAAAAAAAAAAA"
       "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
       "AAAAAAAAAAAAAAAAAAA"
       "\0"),
     TE_TWS_OK, "too long"},
    {"overlong execId",
     B("\x00\x00\x00\x8d"
       "11\0"
       "-1\0"
       "42\0"
       "0\0"
       "AAPL\0"
       "STK\0"
       "\0"
       "0\0"
       "\0"
       "\0"
       "NYSE\0"
       "USD\0"
       "AAPL\0"
       "\0"
       "XXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX"
       "XXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX"
       "\0"),
     TE_TWS_OK, "too long"},
    {"execDetails with zero shares",
     B("\x00\x00\x00\x4a"
       "11\0"
       "-1\0"
       "42\0"
       "0\0"
       "A\0"
       "STK\0"
       "\0"
       "0\0"
       "\0"
       "\0"
       "N\0"
       "USD\0"
       "A\0"
       "\0"
       "e1\0"
       "t\0"
       "DU1\0"
       "N\0"
       "BOT\0"
       "0\0"
       "187.25\0"
       "1\0"
       "7\0"
       "0\0"
       "0\0"
       "0\0"
       "o-1\0"
       "\0"
       "\0"
       "\0"
       "0\0"),
     TE_TWS_OK, "non-positive"},
};

static void test_tws_malformed_table(void **state)
{
        (void)state;
        for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
                const bad_t *t = &bad[i];
                const uint8_t *pl = NULL;
                size_t plen = 0, used = 0;
                char err[200] = "";
                te_tws_rc_t rc =
                    te_tws_frame_next((const uint8_t *)t->bytes, t->len, TE_TWS_MAX_FRAME,
                                      &pl, &plen, &used, err, sizeof err);
                if (rc != t->frame_rc)
                        fail_msg("%s: frame rc %d, want %d", t->name, rc, t->frame_rc);
                if (rc == TE_TWS_OK) {
                        te_tws_msg_t m;
                        rc = te_tws_dec_message(pl, plen, &m, err, sizeof err);
                        if (rc != TE_TWS_EMALFORMED)
                                fail_msg("%s: decoded although malformed", t->name);
                }
                if (t->why && !strstr(err, t->why))
                        fail_msg("%s: error '%s' lacks '%s'", t->name, err, t->why);
        }
}

static void test_tws_too_many_fields(void **state)
{
        (void)state;
        size_t n = TE_TWS_MAX_FIELDS + 1;
        uint8_t *p = malloc(2 * n);
        assert_non_null(p);
        for (size_t i = 0; i < n; i++) {
                p[2 * i] = '5';
                p[2 * i + 1] = '\0';
        }
        te_tws_msg_t m;
        char err[200];
        assert_int_equal(te_tws_dec_message(p, 2 * n, &m, err, sizeof err),
                         TE_TWS_EMALFORMED);
        assert_non_null(strstr(err, "more than"));
        /* exactly the maximum is fine (an openOrder with a long tail) */
        assert_int_equal(te_tws_dec_message(p, 2 * (n - 1), &m, err, sizeof err),
                         TE_TWS_OK);
        free(p);
}

static void test_tws_bad_handshake(void **state)
{
        (void)state;
        static const struct {
                const char *bytes;
                size_t len;
                te_tws_rc_t rc;
        } t[] = {
            {B("APX\0"
               "\x00\x00\x00\x04"
               "v176"),
             TE_TWS_EMALFORMED},
            {B("API\0"
               "\x00\x00\x00\x04"
               "v17"),
             TE_TWS_EAGAIN},
            {B("API\0"
               "\x00\x00\x00\x04"
               "x176"),
             TE_TWS_EMALFORMED},
            {B("API\0"
               "\x00\x00\x00\x0a"
               "v176..v170"),
             TE_TWS_EMALFORMED},
            {B("API\0"
               "\x00\x00\x00\x09"
               "v176..170"),
             TE_TWS_EMALFORMED},
            {B("API\0"
               "\x00\x00\x00\x09"
               "v100..193"),
             TE_TWS_OK},
            {B("API\0"
               "\x00\x00\x00\x0a"
               "v100..v193"),
             TE_TWS_OK},
            {B("API\0"
               "\x00\x00\x10\x00"
               "v176"),
             TE_TWS_EMALFORMED},
            {B("API\0"
               "\x00\x00\x00\x04"
               "v176"),
             TE_TWS_OK},
        };
        for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
                int a, b;
                size_t used;
                char err[160];
                assert_int_equal(te_tws_dec_handshake((const uint8_t *)t[i].bytes,
                                                      t[i].len, &a, &b, &used, err,
                                                      sizeof err),
                                 t[i].rc);
        }
}

/* Pacer: 3 per second, urgent first, back-off on error 100. */
static void test_tws_pacer(void **state)
{
        (void)state;
        te_tws_pacer_t *p = te_tws_pacer_new(3, 1000, 16);
        assert_non_null(p);
        te_buf_t out;
        te_buf_init(&out, 1 << 16);
        assert_int_equal(te_tws_pacer_push(p, 0, (const uint8_t *)"n1", 2), 0);
        assert_int_equal(te_tws_pacer_push(p, 0, (const uint8_t *)"n2", 2), 0);
        assert_int_equal(te_tws_pacer_push(p, 0, (const uint8_t *)"n3", 2), 0);
        assert_int_equal(te_tws_pacer_push(p, 1, (const uint8_t *)"c1", 2), 0);
        assert_int_equal(te_tws_pacer_push(p, 0, (const uint8_t *)"n4", 2), 0);
        /* t=0: three go, the cancel first */
        assert_int_equal(te_tws_pacer_release(p, 10000, &out), 3);
        assert_memory_equal(out.data, "c1n1n2", 6);
        te_buf_reset(&out);
        /* still inside the same second: nothing */
        assert_int_equal(te_tws_pacer_release(p, 10999, &out), 0);
        /* one second later: the rest */
        assert_int_equal(te_tws_pacer_release(p, 11000, &out), 2);
        assert_memory_equal(out.data, "n3n4", 4);
        te_buf_reset(&out);
        /* error 100 at t=11500: pause 1 s, then half rate (1/s) until t=13500 */
        te_tws_pacer_backoff(p, 11500);
        for (int i = 0; i < 4; i++)
                assert_int_equal(te_tws_pacer_push(p, 0, (const uint8_t *)"xx", 2), 0);
        assert_int_equal(te_tws_pacer_release(p, 12499, &out), 0);
        assert_int_equal(te_tws_pacer_rate(p, 12500), 1);
        assert_int_equal(te_tws_pacer_release(p, 12500, &out), 1);
        assert_int_equal(te_tws_pacer_release(p, 13499, &out), 0);
        assert_int_equal(te_tws_pacer_release(p, 13500, &out), 3); /* full rate again */
        assert_int_equal(te_tws_pacer_queued(p), 0);
        assert_int_equal(te_tws_pacer_push(p, 0, (const uint8_t *)"yy", 2), 0);
        assert_int_equal(te_tws_pacer_release(p, 13600, &out), 0); /* window full */
        te_tws_pacer_clear(p);
        assert_int_equal(te_tws_pacer_queued(p), 0);
        /* bounded queue; bad rates refused */
        for (int i = 0; i < 16; i++)
                assert_int_equal(te_tws_pacer_push(p, 1, (const uint8_t *)"c", 1), 0);
        assert_int_equal(te_tws_pacer_push(p, 1, (const uint8_t *)"c", 1), -1);
        assert_null(te_tws_pacer_new(0, 1000, 16));
        assert_null(te_tws_pacer_new(TE_TWS_PACER_MAX_RATE + 1, 1000, 16));
        te_tws_pacer_destroy(p);
        te_tws_pacer_destroy(NULL);
        te_buf_free(&out);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_tws_encode_client_frames),
            cmocka_unit_test(test_tws_decode_requests),
            cmocka_unit_test(test_tws_encode_server_frames),
            cmocka_unit_test(test_tws_decode_server_frames),
            cmocka_unit_test(test_tws_malformed_table),
            cmocka_unit_test(test_tws_too_many_fields),
            cmocka_unit_test(test_tws_bad_handshake),
            cmocka_unit_test(test_tws_pacer),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
