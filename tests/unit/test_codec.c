/*
 * test_codec: te_codec and avro_walk.
 *
 * Round trips of every message type (optional fields present and absent), the wire
 * layout against bytes written by hand, value validation on encode and decode, and
 * hostile input: every malformed message is written byte by byte here (zigzag varints,
 * lengths, indexes, blocks), so the expected error is known. Every decode runs through
 * both readers of the codec (the direct reader and avro-c's generic reader), which
 * must agree; the encoder checks (refusals, buffer bound, the targets cap) run through
 * both writers (direct and avro-c's generic writer), which must give the same bytes or
 * the same refusal (test_codec_write has the randomised comparison). Random buffers and
 * random single-byte mutations use a fixed seed.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../codec_msg.h"
#include "avro_walk.h"
#include "te_codec.h"

#define NS 2 /* codecs: [0] direct reader and writer, [1] avro-c reader and writer */
static te_codec_t *g_codec[NS];

/* ------------------------------------------------------------------ byte builder */

typedef struct mb_s {
        uint8_t *b;
        size_t n, cap;
} mb_t;

static void mb_raw(mb_t *m, const void *p, size_t n)
{
        if (m->n + n > m->cap) {
                size_t ncap = m->cap ? m->cap : 256;
                while (ncap < m->n + n)
                        ncap *= 2;
                m->b = realloc(m->b, ncap);
                assert_non_null(m->b);
                m->cap = ncap;
        }
        if (n)
                memcpy(m->b + m->n, p, n);
        m->n += n;
}

static void mb_byte(mb_t *m, uint8_t b)
{
        mb_raw(m, &b, 1);
}

static void mb_varint(mb_t *m, uint64_t v)
{
        while (v >= 0x80) {
                mb_byte(m, (uint8_t)(v | 0x80));
                v >>= 7;
        }
        mb_byte(m, (uint8_t)v);
}

static void mb_long(mb_t *m, int64_t v)
{
        mb_varint(m, ((uint64_t)v << 1) ^ (uint64_t)(v >> 63));
}

static void mb_strn(mb_t *m, const char *s, size_t n)
{
        mb_long(m, (int64_t)n);
        mb_raw(m, s, n);
}

static void mb_str(mb_t *m, const char *s)
{
        mb_strn(m, s, strlen(s));
}

static void mb_double(mb_t *m, double d)
{
        uint64_t u;
        uint8_t le[8];
        memcpy(&u, &d, 8);
        for (int i = 0; i < 8; i++)
                le[i] = (uint8_t)(u >> (8 * i));
        mb_raw(m, le, 8);
}

static void mb_opt(mb_t *m, int has, double d)
{
        mb_long(m, has ? 1 : 0);
        if (has)
                mb_double(m, d);
}

static void mb_header(mb_t *m, int32_t id)
{
        uint8_t h[5] = {0, (uint8_t)(id >> 24), (uint8_t)(id >> 16), (uint8_t)(id >> 8),
                        (uint8_t)id};
        mb_raw(m, h, 5);
}

static void mb_free(mb_t *m)
{
        free(m->b);
        m->b = NULL;
        m->n = m->cap = 0;
}

/* One field written differently from the valid message. */
typedef enum { OV_NONE, OV_LONG, OV_DBL, OV_OPT, OV_STRN, OV_RAW, OV_FN } ov_kind_t;
typedef struct ov_s {
        ov_kind_t kind;
        int64_t l;       /* OV_LONG value, OV_OPT branch, OV_STRN length prefix */
        double d;        /* OV_DBL, OV_OPT */
        const char *raw; /* OV_RAW bytes, OV_STRN bytes after the prefix */
        size_t rawlen;
        void (*fn)(mb_t *m);
} ov_t;

static void mb_ov(mb_t *m, const ov_t *ov)
{
        switch (ov->kind) {
        case OV_LONG:
                mb_long(m, ov->l);
                break;
        case OV_DBL:
                mb_double(m, ov->d);
                break;
        case OV_OPT:
                mb_long(m, ov->l);
                if (ov->l == 1)
                        mb_double(m, ov->d);
                break;
        case OV_STRN:
                mb_long(m, ov->l);
                mb_raw(m, ov->raw, ov->rawlen);
                break;
        case OV_RAW:
                mb_raw(m, ov->raw, ov->rawlen);
                break;
        case OV_FN:
                ov->fn(m);
                break;
        case OV_NONE:
                break;
        }
}

/* ------------------------------------------------------------------ samples */

#define CPY(dst, s) te_strlcpy(dst, s, sizeof(dst))

static void sample_ids(te_attrib_t *ids, int full)
{
        CPY(ids->decision_id, "dec-20240603-momentum-0042");
        CPY(ids->portfolio_id, "pf-core-01");
        if (full) {
                CPY(ids->strategy_id, "momentum-us");
                CPY(ids->profile_version_id, "risk-v12");
                CPY(ids->regime_id, "bull-lowvol");
                CPY(ids->universe_id, "sp500");
        }
}

static void sample_tp(te_target_portfolio_t *m, int full)
{
        te_target_t t;
        memset(m, 0, sizeof *m);
        sample_ids(&m->ids, full);
        m->mode = TE_MODE_TRAINING;
        m->as_of = 1717428600000;
        m->unit = full ? TE_UNIT_WEIGHT : TE_UNIT_QUANTITY;
        if (full) {
                m->has_nav = 1;
                m->nav = 1250000.5;
                m->full_replace = 1;
                memset(&t, 0, sizeof t);
                CPY(t.ticker, "AAPL");
                t.value = 0.125;
                t.has_ref_price = 1;
                t.ref_price = 189.37;
                assert_int_equal(te_target_portfolio_add(m, &t), 0);
                memset(&t, 0, sizeof t);
                CPY(t.ticker, "MSFT");
                t.value = -0.05;
                assert_int_equal(te_target_portfolio_add(m, &t), 0);
                memset(&t, 0, sizeof t);
                CPY(t.ticker, "BRK.B");
                t.value = 0;
                t.has_ref_price = 1;
                t.ref_price = 412.5;
                assert_int_equal(te_target_portfolio_add(m, &t), 0);
        }
}

static void sample_em(te_exec_mode_t *m, int full)
{
        memset(m, 0, sizeof *m);
        CPY(m->scope, full ? "pf-core-01" : "*");
        m->level = full ? TE_LEVEL_REDUCE_ONLY : TE_LEVEL_HALT;
        m->effective_from = 1717428600000;
        if (full)
                CPY(m->reason,
                    "drawdown 5.2% \xe2\x80\x94 reduce only (\xe2\x82\xac book)");
}

static void sample_oc(te_order_cmd_t *m, int full)
{
        memset(m, 0, sizeof *m);
        m->command = TE_CMD_NEW;
        CPY(m->order_id, "ord-7f3a9c21-AAPL-0");
        sample_ids(&m->ids, full);
        CPY(m->ticker, "AAPL");
        m->side = full ? TE_SIDE_SELL : TE_SIDE_BUY;
        m->quantity = 1250;
        if (full) {
                m->order_type = TE_OT_STOP_LIMIT;
                m->has_limit_price = 1;
                m->limit_price = 188.5;
                m->has_stop_price = 1;
                m->stop_price = 189.0;
                m->tif = TE_TIF_GTC;
                m->aggressiveness = TE_AGGR_EMERGENCY;
                m->intent = TE_INTENT_REDUCE;
                m->mode = TE_MODE_PRODUCTION;
                CPY(m->route, "ibkr");
                m->has_ref_price = 1;
                m->ref_price = 189.21;
        }
        m->event_time = 1717428600123;
}

static void sample_er(te_exec_report_t *m, int full)
{
        memset(m, 0, sizeof *m);
        CPY(m->report_id, "rep-ord-7f3a9c21-AAPL-0-1");
        CPY(m->order_id, "ord-7f3a9c21-AAPL-0");
        m->exec_type = full ? TE_EXEC_PARTIAL_FILL : TE_EXEC_ACK;
        m->order_status = full ? TE_OS_PARTIALLY_FILLED : TE_OS_NEW;
        sample_ids(&m->ids, full);
        if (full) {
                CPY(m->ticker, "AAPL");
                m->side = TE_SIDE_SELL;
                m->last_qty = 500;
                m->last_price = 188.75;
                m->cum_qty = 750;
                m->leaves_qty = 250;
                m->avg_price = 188.8;
                m->commission = 1.25;
                CPY(m->reason, "partial fill, participation cap");
                CPY(m->broker, "sim");
                CPY(m->account, "DU1234567");
                m->mode = TE_MODE_TRAINING;
        }
        m->event_time = 1717428600456;
}

static void sample_al(te_alert_t *m, int full)
{
        memset(m, 0, sizeof *m);
        m->severity = full ? TE_SEV_CRITICAL : TE_SEV_INFO;
        CPY(m->source, "exec-planner");
        CPY(m->code, full ? "deadletter" : "started");
        m->event_time = 1717428600789;
        if (full) {
                CPY(m->message, "exec.targets[3]@1234: field 'nav': must be > 0");
                CPY(m->decision_id, "dec-20240603-momentum-0042");
                CPY(m->portfolio_id, "pf-core-01");
                CPY(m->order_id, "ord-7f3a9c21-AAPL-0");
        }
}

static void sample(te_msg_type_t t, int full, msg_u *m)
{
        switch (t) {
        case TE_MSG_TARGET_PORTFOLIO:
                sample_tp(&m->tp, full);
                break;
        case TE_MSG_EXECUTION_MODE:
                sample_em(&m->em, full);
                break;
        case TE_MSG_ORDER_COMMAND:
                sample_oc(&m->oc, full);
                break;
        case TE_MSG_EXECUTION_REPORT:
                sample_er(&m->er, full);
                break;
        default:
                sample_al(&m->al, full);
                break;
        }
}

/* Decode with both readers; they must agree (code, and the message when OK).
 * Leaves the direct reader's result in *out (caller frees a TargetPortfolio). */
static te_codec_err_t dec_both(te_msg_type_t t, const void *b, size_t n, msg_u *out,
                               char *err, size_t errsz)
{
        msg_u other;
        char err2[256] = "";
        memset(out, 0, sizeof *out);
        memset(&other, 0, sizeof other);
        te_codec_err_t rc = msg_decode(g_codec[0], t, b, n, out, err, errsz);
        te_codec_err_t rc2 = msg_decode(g_codec[1], t, b, n, &other, err2, sizeof err2);
        if (rc != rc2 || (rc == TE_CODEC_OK && !msg_equal(t, out, &other)))
                fail_msg("%s: direct reader %s (%s) vs avro-c reader %s (%s)",
                         te_codec_type_name(t), te_codec_err_name(rc), err,
                         te_codec_err_name(rc2), err2);
        msg_free(t, &other);
        return rc;
}

/* Encode with both writers; they must agree (code and errstr, the bytes when OK, an
 * empty `out` otherwise). Leaves the direct writer's bytes in *out. */
static te_codec_err_t enc_both(te_msg_type_t t, const msg_u *m, te_buf_t *out, char *err,
                               size_t errsz)
{
        te_buf_t other;
        te_codec_err_t rc;
        char why[512];
        te_buf_init(&other, out->max);
        int differ = msg_encode_both(g_codec[0], g_codec[1], t, m, out, &other, &rc, err,
                                     errsz, why, sizeof why);
        te_buf_free(&other);
        if (differ)
                fail_msg("direct writer vs avro-c writer: %s", why);
        return rc;
}

static void expect(te_codec_err_t rc, te_codec_err_t want, const char *err,
                   const char *sub, const char *what)
{
        if (rc != want)
                fail_msg("%s: got %s (%s), want %s", what, te_codec_err_name(rc), err,
                         te_codec_err_name(want));
        if (sub && want != TE_CODEC_OK && !strstr(err, sub))
                fail_msg("%s: errstr '%s' does not mention '%s'", what, err, sub);
}

/* ------------------------------------------------------------------ hand-written wire */

enum {
        OC_COMMAND,
        OC_ORDER_ID,
        OC_DECISION_ID,
        OC_PORTFOLIO_ID,
        OC_STRATEGY_ID,
        OC_PROFILE_VERSION_ID,
        OC_REGIME_ID,
        OC_UNIVERSE_ID,
        OC_TICKER,
        OC_SIDE,
        OC_QUANTITY,
        OC_ORDER_TYPE,
        OC_LIMIT_PRICE,
        OC_STOP_PRICE,
        OC_TIF,
        OC_AGGRESSIVENESS,
        OC_INTENT,
        OC_MODE,
        OC_ROUTE,
        OC_EVENT_TIME,
        OC_REF_PRICE,
        OC__CNT
};

static void mb_ids(mb_t *m, const te_attrib_t *ids, int first_field, int bad,
                   const ov_t *ov)
{
        const char *s[6] = {ids->decision_id,        ids->portfolio_id, ids->strategy_id,
                            ids->profile_version_id, ids->regime_id,    ids->universe_id};
        for (int i = 0; i < 6; i++) {
                if (first_field + i == bad)
                        mb_ov(m, ov);
                else
                        mb_str(m, s[i]);
        }
}

/* OrderCommand `o` in Avro written by hand, field `bad` replaced by `ov`. */
static void mb_order(mb_t *m, const te_order_cmd_t *o, int bad, const ov_t *ov)
{
        mb_header(m, te_codec_schema_id(TE_MSG_ORDER_COMMAND));
        for (int f = 0; f < OC__CNT; f++) {
                if (f == OC_DECISION_ID) { /* the six attribution ids */
                        mb_ids(m, &o->ids, OC_DECISION_ID, bad, ov);
                        f = OC_UNIVERSE_ID;
                        continue;
                }
                if (f == bad) {
                        mb_ov(m, ov);
                        continue;
                }
                switch (f) {
                case OC_COMMAND:
                        mb_long(m, o->command);
                        break;
                case OC_ORDER_ID:
                        mb_str(m, o->order_id);
                        break;
                case OC_TICKER:
                        mb_str(m, o->ticker);
                        break;
                case OC_SIDE:
                        mb_long(m, o->side);
                        break;
                case OC_QUANTITY:
                        mb_double(m, o->quantity);
                        break;
                case OC_ORDER_TYPE:
                        mb_long(m, o->order_type);
                        break;
                case OC_LIMIT_PRICE:
                        mb_opt(m, o->has_limit_price, o->limit_price);
                        break;
                case OC_STOP_PRICE:
                        mb_opt(m, o->has_stop_price, o->stop_price);
                        break;
                case OC_TIF:
                        mb_long(m, o->tif);
                        break;
                case OC_AGGRESSIVENESS:
                        mb_long(m, o->aggressiveness);
                        break;
                case OC_INTENT:
                        mb_long(m, o->intent);
                        break;
                case OC_MODE:
                        mb_long(m, o->mode);
                        break;
                case OC_ROUTE:
                        mb_str(m, o->route);
                        break;
                case OC_EVENT_TIME:
                        mb_long(m, o->event_time);
                        break;
                case OC_REF_PRICE:
                        mb_opt(m, o->has_ref_price, o->ref_price);
                        break;
                default:
                        break;
                }
        }
}

enum {
        TP_DECISION_ID,
        TP_UNIVERSE_ID = 5,
        TP_MODE,
        TP_AS_OF,
        TP_UNIT,
        TP_NAV,
        TP_FULL_REPLACE,
        TP_TARGETS,
        TP__CNT
};

static void mb_target(mb_t *m, const char *ticker, double value, int has_ref, double ref)
{
        mb_str(m, ticker);
        mb_double(m, value);
        mb_opt(m, has_ref, ref);
}

/* TargetPortfolio `tp` in Avro written by hand, field `bad` replaced by `ov`. */
static void mb_tp(mb_t *m, const te_target_portfolio_t *tp, int bad, const ov_t *ov)
{
        mb_header(m, te_codec_schema_id(TE_MSG_TARGET_PORTFOLIO));
        mb_ids(m, &tp->ids, TP_DECISION_ID, bad, ov);
        for (int f = TP_MODE; f < TP__CNT; f++) {
                if (f == bad) {
                        mb_ov(m, ov);
                        continue;
                }
                switch (f) {
                case TP_MODE:
                        mb_long(m, tp->mode);
                        break;
                case TP_AS_OF:
                        mb_long(m, tp->as_of);
                        break;
                case TP_UNIT:
                        mb_long(m, tp->unit);
                        break;
                case TP_NAV:
                        mb_opt(m, tp->has_nav, tp->nav);
                        break;
                case TP_FULL_REPLACE:
                        mb_byte(m, tp->full_replace ? 1 : 0);
                        break;
                case TP_TARGETS:
                        if (tp->n_targets)
                                mb_long(m, (int64_t)tp->n_targets);
                        for (size_t i = 0; i < tp->n_targets; i++)
                                mb_target(m, tp->targets[i].ticker, tp->targets[i].value,
                                          tp->targets[i].has_ref_price,
                                          tp->targets[i].ref_price);
                        mb_long(m, 0);
                        break;
                default:
                        break;
                }
        }
}

/* ------------------------------------------------------------------ fixtures */

static int setup(void **state)
{
        char err[256];
        (void)state;
        for (int i = 0; i < NS; i++) {
                g_codec[i] = te_codec_new(err, sizeof err);
                if (!g_codec[i]) {
                        fprintf(stderr, "te_codec_new: %s\n", err);
                        return -1;
                }
        }
        te_codec_use_avro_reader(g_codec[1], 1);
        te_codec_use_avro_writer(g_codec[1], 1);
        return 0;
}

static int teardown(void **state)
{
        (void)state;
        for (int i = 0; i < NS; i++) {
                te_codec_destroy(g_codec[i]);
                g_codec[i] = NULL;
        }
        return 0;
}

/* ------------------------------------------------------------------ static parts */

static void test_codec_manifest_ids_before_any_codec(void **state)
{
        static const struct {
                te_msg_type_t t;
                int32_t id;
                const char *name;
        } cases[] = {
            {TE_MSG_TARGET_PORTFOLIO, 1001, "TargetPortfolio"},
            {TE_MSG_EXECUTION_MODE, 1002, "ExecutionMode"},
            {TE_MSG_ORDER_COMMAND, 1003, "OrderCommand"},
            {TE_MSG_EXECUTION_REPORT, 1004, "ExecutionReport"},
            {TE_MSG_ALERT, 1005, "Alert"},
        };
        (void)state;
        for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
                assert_int_equal(te_codec_schema_id(cases[i].t), cases[i].id);
                assert_string_equal(te_codec_type_name(cases[i].t), cases[i].name);
                const char *json = te_codec_schema_json(cases[i].t);
                assert_non_null(json);
                assert_non_null(strstr(json, cases[i].name));
                assert_non_null(strstr(json, "trading.execution.v1"));
        }
        assert_int_equal(te_codec_schema_id(TE_MSG__CNT), -1);
        assert_null(te_codec_schema_json(TE_MSG__CNT));
}

static void test_codec_err_names(void **state)
{
        static const struct {
                te_codec_err_t e;
                const char *name;
        } cases[] = {
            {TE_CODEC_OK, "ok"},
            {TE_CODEC_ERR_EMPTY, "empty"},
            {TE_CODEC_ERR_MAGIC, "magic"},
            {TE_CODEC_ERR_SCHEMA_ID, "schema_id"},
            {TE_CODEC_ERR_TRUNCATED, "truncated"},
            {TE_CODEC_ERR_MALFORMED, "malformed"},
            {TE_CODEC_ERR_TRAILING, "trailing"},
            {TE_CODEC_ERR_TOO_LARGE, "too_large"},
            {TE_CODEC_ERR_INVALID, "invalid"},
            {TE_CODEC_ERR_INTERNAL, "internal"},
            {TE_CODEC_ERR__CNT, "unknown"},
        };
        (void)state;
        for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
                assert_string_equal(te_codec_err_name(cases[i].e), cases[i].name);
}

static void test_codec_peek_header(void **state)
{
        static const struct {
                const char *name;
                const uint8_t b[6];
                size_t n;
                te_codec_err_t want;
                te_msg_type_t type;
        } cases[] = {
            {"empty", {0}, 0, TE_CODEC_ERR_EMPTY, 0},
            {"wrong magic", {0x01, 0, 0, 0x03, 0xeb}, 5, TE_CODEC_ERR_MAGIC, 0},
            {"magic only", {0x00}, 1, TE_CODEC_ERR_TRUNCATED, 0},
            {"4 header bytes", {0x00, 0, 0, 0x03}, 4, TE_CODEC_ERR_TRUNCATED, 0},
            {"unknown id 77", {0x00, 0, 0, 0, 77}, 5, TE_CODEC_ERR_SCHEMA_ID, 0},
            {"id -1", {0x00, 0xff, 0xff, 0xff, 0xff}, 5, TE_CODEC_ERR_SCHEMA_ID, 0},
            {"id 1001",
             {0x00, 0, 0, 0x03, 0xe9},
             5,
             TE_CODEC_OK,
             TE_MSG_TARGET_PORTFOLIO},
            {"id 1003",
             {0x00, 0, 0, 0x03, 0xeb, 0x00},
             6,
             TE_CODEC_OK,
             TE_MSG_ORDER_COMMAND},
            {"id 1005", {0x00, 0, 0, 0x03, 0xed}, 5, TE_CODEC_OK, TE_MSG_ALERT},
        };
        (void)state;
        for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
                te_msg_type_t t = TE_MSG__CNT;
                te_codec_err_t rc = te_codec_peek(cases[i].b, cases[i].n, &t);
                expect(rc, cases[i].want, "", NULL, cases[i].name);
                if (rc == TE_CODEC_OK)
                        assert_int_equal(t, cases[i].type);
        }
        assert_int_equal(te_codec_peek(NULL, 5, NULL), TE_CODEC_ERR_EMPTY);
}

/* ------------------------------------------------------------------ round trips */

static void test_codec_round_trip_all_types(void **state)
{
        static const struct {
                te_msg_type_t t;
                int full;
        } cases[] = {
            {TE_MSG_TARGET_PORTFOLIO, 0},
            {TE_MSG_TARGET_PORTFOLIO, 1},
            {TE_MSG_EXECUTION_MODE, 0},
            {TE_MSG_EXECUTION_MODE, 1},
            {TE_MSG_ORDER_COMMAND, 0},
            {TE_MSG_ORDER_COMMAND, 1},
            {TE_MSG_EXECUTION_REPORT, 0},
            {TE_MSG_EXECUTION_REPORT, 1},
            {TE_MSG_ALERT, 0},
            {TE_MSG_ALERT, 1},
        };
        (void)state;
        for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
                te_msg_type_t t = cases[i].t;
                msg_u m, d;
                te_buf_t b1, b2;
                char err[256] = "", what[64];
                snprintf(what, sizeof what, "%s full=%d", te_codec_type_name(t),
                         cases[i].full);
                te_buf_init(&b1, 1 << 20);
                te_buf_init(&b2, 1 << 20);
                sample(t, cases[i].full, &m);
                expect(msg_encode(g_codec[0], t, &m, &b1, err, sizeof err), TE_CODEC_OK,
                       err, NULL, what);
                assert_int_equal(b1.data[0], 0);
                te_msg_type_t pt;
                assert_int_equal(te_codec_peek(b1.data, b1.len, &pt), TE_CODEC_OK);
                assert_int_equal(pt, t);
                assert_int_equal(
                    te_codec_check(g_codec[0], b1.data, b1.len, &pt, err, sizeof err),
                    TE_CODEC_OK);
                assert_int_equal(pt, t);
                expect(dec_both(t, b1.data, b1.len, &d, err, sizeof err), TE_CODEC_OK,
                       err, NULL, what);
                if (!msg_equal(t, &m, &d))
                        fail_msg("%s: decoded message differs", what);
                /* re-encoding the decoded message gives the same bytes */
                expect(msg_encode(g_codec[1], t, &d, &b2, err, sizeof err), TE_CODEC_OK,
                       err, NULL, what);
                assert_int_equal(b1.len, b2.len);
                assert_memory_equal(b1.data, b2.data, b1.len);
                msg_free(t, &m);
                msg_free(t, &d);
                te_buf_free(&b1);
                te_buf_free(&b2);
        }
}

/* The encoder's bytes equal the wire layout written by hand from the schema. */
static void test_codec_wire_layout_matches_hand_written(void **state)
{
        char err[256] = "";
        te_buf_t b;
        mb_t m = {0};
        msg_u s;
        (void)state;
        te_buf_init(&b, 1 << 16);
        for (int full = 0; full < 2; full++) {
                sample_oc(&s.oc, full);
                assert_int_equal(
                    te_codec_encode_order_cmd(g_codec[0], &s.oc, &b, err, sizeof err),
                    TE_CODEC_OK);
                m.n = 0;
                mb_order(&m, &s.oc, -1, NULL);
                assert_int_equal(m.n, b.len);
                assert_memory_equal(m.b, b.data, b.len);

                sample_tp(&s.tp, full);
                assert_int_equal(te_codec_encode_target_portfolio(g_codec[0], &s.tp, &b,
                                                                  err, sizeof err),
                                 TE_CODEC_OK);
                m.n = 0;
                mb_tp(&m, &s.tp, -1, NULL);
                assert_int_equal(m.n, b.len);
                assert_memory_equal(m.b, b.data, b.len);
                te_target_portfolio_free(&s.tp);
        }
        mb_free(&m);
        te_buf_free(&b);
}

static void test_codec_target_array_reused_and_freed(void **state)
{
        char err[256] = "";
        te_buf_t b;
        te_target_portfolio_t s, d;
        (void)state;
        te_buf_init(&b, 1 << 16);
        sample_tp(&s, 1);
        assert_int_equal(
            te_codec_encode_target_portfolio(g_codec[0], &s, &b, err, sizeof err),
            TE_CODEC_OK);
        for (int r = 0; r < NS; r++) {
                memset(&d, 0, sizeof d);
                assert_int_equal(te_codec_decode_target_portfolio(
                                     g_codec[r], b.data, b.len, &d, err, sizeof err),
                                 TE_CODEC_OK);
                te_target_t *first = d.targets;
                assert_non_null(first);
                assert_int_equal(d.n_targets, 3);
                assert_true(d.cap_targets >= 3);
                assert_int_equal(te_codec_decode_target_portfolio(
                                     g_codec[r], b.data, b.len, &d, err, sizeof err),
                                 TE_CODEC_OK);
                assert_ptr_equal(d.targets, first);
                assert_int_equal(d.n_targets, 3);
                /* an error keeps the existing array and reports no targets */
                assert_int_equal(te_codec_decode_target_portfolio(
                                     g_codec[r], b.data, b.len - 1, &d, err, sizeof err),
                                 TE_CODEC_ERR_TRUNCATED);
                assert_ptr_equal(d.targets, first);
                assert_int_equal(d.n_targets, 0);
                te_target_portfolio_free(&d);
                assert_null(d.targets);
                assert_int_equal(d.cap_targets, 0);
        }
        /* an error on a fresh struct leaves nothing allocated, even after the targets
         * were read (NaN in the last target) */
        s.targets[2].value = NAN;
        mb_t m = {0};
        mb_tp(&m, &s, -1, NULL);
        for (int r = 0; r < NS; r++) {
                memset(&d, 0, sizeof d);
                expect(te_codec_decode_target_portfolio(g_codec[r], m.b, m.n, &d, err,
                                                        sizeof err),
                       TE_CODEC_ERR_INVALID, err, "targets[2].value", "NaN target");
                assert_null(d.targets);
                assert_int_equal(d.n_targets, 0);
        }
        mb_free(&m);
        te_target_portfolio_free(&s);
        te_buf_free(&b);
}

static void test_codec_targets_at_and_over_the_cap(void **state)
{
        char err[256] = "";
        te_buf_t b;
        te_target_portfolio_t s, d;
        (void)state;
        sample_tp(&s, 0);
        s.targets = calloc(TE_TARGETS_MAX + 1, sizeof *s.targets);
        assert_non_null(s.targets);
        s.cap_targets = TE_TARGETS_MAX + 1;
        for (size_t i = 0; i <= TE_TARGETS_MAX; i++) {
                snprintf(s.targets[i].ticker, sizeof s.targets[i].ticker, "T%zu", i);
                s.targets[i].value = (double)i;
        }
        te_buf_init(&b, TE_CODEC_MAX_MESSAGE);
        msg_u u;
        s.n_targets = TE_TARGETS_MAX + 1;
        u.tp = s;
        expect(enc_both(TE_MSG_TARGET_PORTFOLIO, &u, &b, err, sizeof err),
               TE_CODEC_ERR_INVALID, err, "targets", "encode 100001 targets");
        assert_int_equal(b.len, 0);
        s.n_targets = TE_TARGETS_MAX; /* both writers, the same bytes */
        u.tp = s;
        expect(enc_both(TE_MSG_TARGET_PORTFOLIO, &u, &b, err, sizeof err), TE_CODEC_OK,
               err, NULL, "encode 100000 targets");
        memset(&d, 0, sizeof d);
        expect(te_codec_decode_target_portfolio(g_codec[0], b.data, b.len, &d, err,
                                                sizeof err),
               TE_CODEC_OK, err, NULL, "decode 100000 targets");
        assert_int_equal(d.n_targets, TE_TARGETS_MAX);
        assert_string_equal(d.targets[TE_TARGETS_MAX - 1].ticker, "T99999");
        te_target_portfolio_free(&d);

        /* two blocks that together pass the cap: 60000 valid items, then 50000 more */
        mb_t m = {0};
        s.n_targets = 0;
        mb_tp(&m, &s, TP_TARGETS, &(ov_t){.kind = OV_NONE});
        mb_long(&m, 60000);
        for (int i = 0; i < 60000; i++)
                mb_target(&m, "A", 1.0, 0, 0);
        mb_long(&m, 50000);
        for (int i = 0; i < 10; i++)
                mb_target(&m, "B", 1.0, 0, 0);
        for (int r = 0; r < NS; r++) {
                memset(&d, 0, sizeof d);
                expect(te_codec_decode_target_portfolio(g_codec[r], m.b, m.n, &d, err,
                                                        sizeof err),
                       TE_CODEC_ERR_TOO_LARGE, err, "more than 100000", "two blocks");
                assert_null(d.targets);
        }
        mb_free(&m);
        te_target_portfolio_free(&s);
        te_buf_free(&b);
}

/* ------------------------------------------------------------------ framing errors */

static void test_codec_framing_errors(void **state)
{
        char err[256];
        te_buf_t b;
        msg_u s, d;
        (void)state;
        te_buf_init(&b, 1 << 16);
        sample_oc(&s.oc, 1);
        assert_int_equal(
            te_codec_encode_order_cmd(g_codec[0], &s.oc, &b, err, sizeof err),
            TE_CODEC_OK);
        uint8_t *copy = malloc(b.len);
        assert_non_null(copy);

        /* empty */
        expect(dec_both(TE_MSG_ORDER_COMMAND, NULL, 0, &d, err, sizeof err),
               TE_CODEC_ERR_EMPTY, err, "empty", "NULL buffer");
        expect(dec_both(TE_MSG_ORDER_COMMAND, b.data, 0, &d, err, sizeof err),
               TE_CODEC_ERR_EMPTY, err, "empty", "zero length");
        /* wrong magic */
        memcpy(copy, b.data, b.len);
        copy[0] = 0x01;
        expect(dec_both(TE_MSG_ORDER_COMMAND, copy, b.len, &d, err, sizeof err),
               TE_CODEC_ERR_MAGIC, err, "magic", "wrong magic");
        /* unknown schema id */
        memcpy(copy, b.data, b.len);
        copy[4] = 77;
        expect(dec_both(TE_MSG_ORDER_COMMAND, copy, b.len, &d, err, sizeof err),
               TE_CODEC_ERR_SCHEMA_ID, err, "unknown schema id", "unknown id");
        /* the id of another type: OrderCommand bytes given to every other decoder */
        for (int t = 0; t < TE_MSG__CNT; t++) {
                if (t == TE_MSG_ORDER_COMMAND)
                        continue;
                expect(dec_both((te_msg_type_t)t, b.data, b.len, &d, err, sizeof err),
                       TE_CODEC_ERR_SCHEMA_ID, err, "is OrderCommand",
                       "another type's id");
                msg_free((te_msg_type_t)t, &d);
        }
        /* header only */
        expect(dec_both(TE_MSG_ORDER_COMMAND, b.data, TE_CODEC_HEADER_LEN, &d, err,
                        sizeof err),
               TE_CODEC_ERR_TRUNCATED, err, "field 'command' at byte 5", "header only");
        /* trailing bytes */
        uint8_t *longer = malloc(b.len + 3);
        assert_non_null(longer);
        memcpy(longer, b.data, b.len);
        memset(longer + b.len, 0, 3);
        expect(dec_both(TE_MSG_ORDER_COMMAND, longer, b.len + 1, &d, err, sizeof err),
               TE_CODEC_ERR_TRAILING, err, "1 trailing bytes", "1 trailing byte");
        expect(dec_both(TE_MSG_ORDER_COMMAND, longer, b.len + 3, &d, err, sizeof err),
               TE_CODEC_ERR_TRAILING, err, "3 trailing bytes", "3 trailing bytes");
        expect(te_codec_check(g_codec[0], longer, b.len + 3, NULL, err, sizeof err),
               TE_CODEC_ERR_TRAILING, err, NULL, "check: trailing");
        /* errstr is optional */
        assert_int_equal(
            te_codec_decode_order_cmd(g_codec[0], longer, b.len + 3, &d.oc, NULL, 0),
            TE_CODEC_ERR_TRAILING);
        free(longer);

        /* oversize: a valid header and 16 MiB + 1 bytes */
        size_t big = TE_CODEC_MAX_MESSAGE + 1;
        uint8_t *huge = calloc(1, big);
        assert_non_null(huge);
        memcpy(huge, b.data, TE_CODEC_HEADER_LEN);
        expect(dec_both(TE_MSG_ORDER_COMMAND, huge, big, &d, err, sizeof err),
               TE_CODEC_ERR_TOO_LARGE, err, "exceeds the maximum", "oversize");
        expect(te_codec_check(g_codec[0], huge, big, NULL, err, sizeof err),
               TE_CODEC_ERR_TOO_LARGE, err, NULL, "check: oversize");
        free(huge);
        free(copy);
        te_buf_free(&b);
}

/* Every proper prefix of a valid message of every type is EMPTY (0 bytes) or
 * TRUNCATED, through both readers and te_codec_check. */
static void test_codec_truncated_at_every_offset(void **state)
{
        char err[256];
        (void)state;
        for (int t = 0; t < TE_MSG__CNT; t++) {
                for (int full = 0; full < 2; full++) {
                        msg_u s, d;
                        te_buf_t b;
                        te_buf_init(&b, 1 << 16);
                        sample((te_msg_type_t)t, full, &s);
                        assert_int_equal(msg_encode(g_codec[0], (te_msg_type_t)t, &s, &b,
                                                    err, sizeof err),
                                         TE_CODEC_OK);
                        for (size_t n = 0; n < b.len; n++) {
                                /* a private copy, so reading past n is caught by ASan */
                                uint8_t *p = malloc(n ? n : 1);
                                assert_non_null(p);
                                memcpy(p, b.data, n);
                                te_codec_err_t want =
                                    n == 0 ? TE_CODEC_ERR_EMPTY : TE_CODEC_ERR_TRUNCATED;
                                char what[64];
                                snprintf(what, sizeof what, "%s full=%d cut at %zu",
                                         te_codec_type_name((te_msg_type_t)t), full, n);
                                expect(
                                    dec_both((te_msg_type_t)t, p, n, &d, err, sizeof err),
                                    want, err, NULL, what);
                                expect(te_codec_check(g_codec[0], p, n, NULL, err,
                                                      sizeof err),
                                       want, err, NULL, what);
                                msg_free((te_msg_type_t)t, &d);
                                free(p);
                        }
                        msg_free((te_msg_type_t)t, &s);
                        te_buf_free(&b);
                }
        }
}

/* ------------------------------------------------------------------ hostile fields */

static void fn_huge_ticker_in_targets(mb_t *m)
{
        mb_long(m, 2);
        mb_target(m, "AAPL", 0.5, 0, 0);
        mb_long(m, 100000); /* targets[1].ticker */
        mb_raw(m, "MSFT", 4);
        mb_double(m, 0.5);
        mb_long(m, 0);
        mb_long(m, 0);
}

static void fn_targets_over_cap(mb_t *m)
{
        mb_long(m, TE_TARGETS_MAX + 1);
        mb_target(m, "AAPL", 0.5, 0, 0);
        mb_long(m, 0);
}

static void fn_neg_block_bogus_size(mb_t *m)
{
        mb_long(m, -1);
        mb_long(m, 3); /* the item takes 1 + 1 + 8 + 1 = 11 bytes */
        mb_target(m, "A", 1.0, 0, 0);
        mb_long(m, 0);
}

static void fn_neg_block_neg_size(mb_t *m)
{
        mb_long(m, -1);
        mb_long(m, -11);
        mb_target(m, "A", 1.0, 0, 0);
        mb_long(m, 0);
}

static void fn_neg_block_size_past_end(mb_t *m)
{
        mb_long(m, -1);
        mb_long(m, 1000);
        mb_target(m, "A", 1.0, 0, 0);
        mb_long(m, 0);
}

static void fn_neg_block_good(mb_t *m)
{
        mb_long(m, -2);
        mb_long(m, 30); /* 11 + 19 bytes */
        mb_target(m, "A", 1.0, 0, 0);
        mb_target(m, "B", -1.0, 1, 20.0);
        mb_long(m, 1);
        mb_target(m, "C", 0.5, 0, 0);
        mb_long(m, 0);
}

static void fn_target_nan(mb_t *m)
{
        mb_long(m, 1);
        mb_target(m, "A", NAN, 0, 0);
        mb_long(m, 0);
}

static void fn_target_empty_ticker(mb_t *m)
{
        mb_long(m, 1);
        mb_target(m, "", 1.0, 0, 0);
        mb_long(m, 0);
}

static void fn_target_bad_union(mb_t *m)
{
        mb_long(m, 1);
        mb_str(m, "A");
        mb_double(m, 1.0);
        mb_long(m, 3);
        mb_long(m, 0);
}

static void fn_target_neg_ref(mb_t *m)
{
        mb_long(m, 3);
        mb_target(m, "A", 1.0, 1, 10.0);
        mb_target(m, "B", 1.0, 0, 0);
        mb_target(m, "C", 1.0, 1, -10.0);
        mb_long(m, 0);
}

static void fn_targets_unterminated(mb_t *m)
{
        mb_long(m, 1);
        mb_target(m, "A", 1.0, 0, 0);
}

#define LONGV(v)                                                                         \
        {                                                                                \
                .kind = OV_LONG, .l = (v)                                                \
        }
#define DBLV(v)                                                                          \
        {                                                                                \
                .kind = OV_DBL, .d = (v)                                                 \
        }
#define OPTV(br, v)                                                                      \
        {                                                                                \
                .kind = OV_OPT, .l = (br), .d = (v)                                      \
        }
#define STRN(n, s)                                                                       \
        {                                                                                \
                .kind = OV_STRN, .l = (n), .raw = (s), .rawlen = sizeof(s) - 1           \
        }
#define STRS(s) STRN((int64_t)sizeof(s) - 1, s)
#define RAW(s)                                                                           \
        {                                                                                \
                .kind = OV_RAW, .raw = (s), .rawlen = sizeof(s) - 1                      \
        }
#define FN(f)                                                                            \
        {                                                                                \
                .kind = OV_FN, .fn = (f)                                                 \
        }
#define A24 "AAAAAAAAAAAAAAAAAAAAAAAA"
#define A23 "AAAAAAAAAAAAAAAAAAAAAAA"

typedef struct wire_case_s {
        const char *name;
        int field;
        ov_t ov;
        te_codec_err_t want;
        const char *sub;
} wire_case_t;

static const wire_case_t oc_cases[] = {
    {"valid", -1, {0}, TE_CODEC_OK, NULL},
    {"negative string length", OC_ORDER_ID, LONGV(-1), TE_CODEC_ERR_MALFORMED,
     "field 'order_id' at byte 6: negative length -1"},
    {"string length past the end", OC_ROUTE, LONGV(1000), TE_CODEC_ERR_TRUNCATED,
     "field 'route'"},
    {"string longer than its C field", OC_TICKER, STRN(24, A24), TE_CODEC_ERR_TOO_LARGE,
     "field 'ticker'"},
    {"string at its C field limit", OC_TICKER, STRN(23, A23), TE_CODEC_OK, NULL},
    {"reason-size string in route", OC_ROUTE, STRN(64, A24 A24 "AAAAAAAAAAAAAAAA"),
     TE_CODEC_ERR_TOO_LARGE, "field 'route'"},
    {"enum index -1", OC_SIDE, LONGV(-1), TE_CODEC_ERR_MALFORMED,
     "field 'side' at byte 108: enum index -1 out of range [0, 2)"},
    {"enum index 2", OC_SIDE, LONGV(2), TE_CODEC_ERR_MALFORMED, "enum index 2"},
    {"enum index 1000000", OC_SIDE, LONGV(1000000), TE_CODEC_ERR_MALFORMED,
     "enum index 1000000"},
    {"enum index beyond int32", OC_TIF, LONGV(5000000000LL), TE_CODEC_ERR_MALFORMED,
     "field 'tif'"},
    {"enum index as a 6-byte varint", OC_TIF, RAW("\x80\x80\x80\x80\x80\x00"),
     TE_CODEC_ERR_MALFORMED, "varint"},
    {"union index 2", OC_LIMIT_PRICE, LONGV(2), TE_CODEC_ERR_MALFORMED,
     "field 'limit_price'"},
    {"union index -1", OC_STOP_PRICE, LONGV(-1), TE_CODEC_ERR_MALFORMED,
     "union index -1"},
    {"over-long varint (11 bytes)", OC_EVENT_TIME,
     RAW("\x80\x80\x80\x80\x80\x80\x80\x80\x80\x80\x00"), TE_CODEC_ERR_MALFORMED,
     "field 'event_time'"},
    {"varint overflowing 64 bits", OC_EVENT_TIME,
     RAW("\xff\xff\xff\xff\xff\xff\xff\xff\xff\x02"), TE_CODEC_ERR_MALFORMED, "varint"},
    {"largest 10-byte varint is INT64_MIN", OC_EVENT_TIME,
     RAW("\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01"), TE_CODEC_ERR_INVALID,
     "field 'event_time'"},
    {"negative timestamp", OC_EVENT_TIME, LONGV(-1), TE_CODEC_ERR_INVALID, "event_time"},
    {"double cut short", OC_REF_PRICE, RAW("\x02\x01\x02\x03"), TE_CODEC_ERR_TRUNCATED,
     "field 'ref_price'"},
    {"NaN quantity", OC_QUANTITY, DBLV(NAN), TE_CODEC_ERR_INVALID, "field 'quantity'"},
    {"negative quantity", OC_QUANTITY, DBLV(-5), TE_CODEC_ERR_INVALID,
     "field 'quantity'"},
    {"zero quantity for NEW", OC_QUANTITY, DBLV(0), TE_CODEC_ERR_INVALID, "quantity"},
    {"NaN limit price", OC_LIMIT_PRICE, OPTV(1, NAN), TE_CODEC_ERR_INVALID,
     "limit_price"},
    {"+Inf limit price", OC_LIMIT_PRICE, OPTV(1, INFINITY), TE_CODEC_ERR_INVALID,
     "limit_price"},
    {"-Inf limit price", OC_LIMIT_PRICE, OPTV(1, -INFINITY), TE_CODEC_ERR_INVALID,
     "limit_price"},
    {"negative limit price", OC_LIMIT_PRICE, OPTV(1, -1), TE_CODEC_ERR_INVALID,
     "limit_price"},
    {"zero limit price", OC_LIMIT_PRICE, OPTV(1, 0), TE_CODEC_ERR_INVALID, "limit_price"},
    {"limit price missing for STOP_LIMIT", OC_LIMIT_PRICE, OPTV(0, 0),
     TE_CODEC_ERR_INVALID, "limit_price"},
    {"negative stop price", OC_STOP_PRICE, OPTV(1, -189), TE_CODEC_ERR_INVALID,
     "stop_price"},
    {"infinite ref price", OC_REF_PRICE, OPTV(1, INFINITY), TE_CODEC_ERR_INVALID,
     "ref_price"},
    {"ref price absent", OC_REF_PRICE, OPTV(0, 0), TE_CODEC_OK, NULL},
    {"empty order_id", OC_ORDER_ID, STRN(0, ""), TE_CODEC_ERR_INVALID, "order_id"},
    {"empty portfolio_id", OC_PORTFOLIO_ID, STRN(0, ""), TE_CODEC_ERR_INVALID,
     "portfolio_id"},
    {"empty ticker for NEW", OC_TICKER, STRN(0, ""), TE_CODEC_ERR_INVALID, "ticker"},
    {"NUL inside ticker", OC_TICKER, STRN(3, "A\0B"), TE_CODEC_ERR_INVALID, "NUL"},
    {"invalid UTF-8", OC_ROUTE, STRN(2, "\xc3\x28"), TE_CODEC_ERR_INVALID, "UTF-8"},
    {"overlong UTF-8", OC_ROUTE, STRN(2, "\xc0\xaf"), TE_CODEC_ERR_INVALID, "UTF-8"},
    {"UTF-16 surrogate", OC_ROUTE, STRN(3, "\xed\xa0\x80"), TE_CODEC_ERR_INVALID,
     "UTF-8"},
    {"code point above U+10FFFF", OC_ROUTE, STRN(4, "\xf4\x90\x80\x80"),
     TE_CODEC_ERR_INVALID, "UTF-8"},
    {"UTF-8 cut inside a character", OC_ROUTE, STRN(2, "\xe2\x82"), TE_CODEC_ERR_INVALID,
     "UTF-8"},
    {"valid multi-byte UTF-8", OC_ROUTE, STRS("\xe2\x82\xac-\xf0\x9f\x93\x88-ibkr"),
     TE_CODEC_OK, NULL},
};

static const wire_case_t tp_cases[] = {
    {"valid", -1, {0}, TE_CODEC_OK, NULL},
    {"boolean byte 2", TP_FULL_REPLACE, RAW("\x02"), TE_CODEC_ERR_MALFORMED,
     "field 'full_replace'"},
    {"boolean byte 0xff", TP_FULL_REPLACE, RAW("\xff"), TE_CODEC_ERR_MALFORMED,
     "is not 0 or 1"},
    {"unit index 2", TP_UNIT, LONGV(2), TE_CODEC_ERR_MALFORMED, "field 'unit'"},
    {"mode index 1000000", TP_MODE, LONGV(1000000), TE_CODEC_ERR_MALFORMED,
     "field 'mode'"},
    {"zero nav", TP_NAV, OPTV(1, 0), TE_CODEC_ERR_INVALID, "field 'nav'"},
    {"NaN nav", TP_NAV, OPTV(1, NAN), TE_CODEC_ERR_INVALID, "field 'nav'"},
    {"nav absent", TP_NAV, OPTV(0, 0), TE_CODEC_OK, NULL},
    {"empty decision_id", TP_DECISION_ID, STRN(0, ""), TE_CODEC_ERR_INVALID,
     "decision_id"},
    {"array count over the cap", TP_TARGETS, FN(fn_targets_over_cap),
     TE_CODEC_ERR_TOO_LARGE, "field 'targets'"},
    {"negative block count, bogus byte size", TP_TARGETS, FN(fn_neg_block_bogus_size),
     TE_CODEC_ERR_MALFORMED, "block byte size 3 does not match"},
    {"negative block count, negative byte size", TP_TARGETS, FN(fn_neg_block_neg_size),
     TE_CODEC_ERR_MALFORMED, "negative block byte size"},
    {"negative block count, byte size past the end", TP_TARGETS,
     FN(fn_neg_block_size_past_end), TE_CODEC_ERR_TRUNCATED, "exceeds remaining"},
    {"negative block count, right byte size", TP_TARGETS, FN(fn_neg_block_good),
     TE_CODEC_OK, NULL},
    {"huge string length in targets[1]", TP_TARGETS, FN(fn_huge_ticker_in_targets),
     TE_CODEC_ERR_TRUNCATED, "field 'targets[1].ticker' at byte"},
    {"NaN target value", TP_TARGETS, FN(fn_target_nan), TE_CODEC_ERR_INVALID,
     "field 'targets[0].value'"},
    {"empty target ticker", TP_TARGETS, FN(fn_target_empty_ticker), TE_CODEC_ERR_INVALID,
     "field 'targets[0].ticker'"},
    {"target union index 3", TP_TARGETS, FN(fn_target_bad_union), TE_CODEC_ERR_MALFORMED,
     "field 'targets[0].ref_price'"},
    {"negative target ref price", TP_TARGETS, FN(fn_target_neg_ref), TE_CODEC_ERR_INVALID,
     "field 'targets[2].ref_price'"},
    {"array without its end block", TP_TARGETS, FN(fn_targets_unterminated),
     TE_CODEC_ERR_TRUNCATED, "field 'targets'"},
};

static void run_wire_cases(te_msg_type_t t, const wire_case_t *cases, size_t n)
{
        for (size_t i = 0; i < n; i++) {
                const wire_case_t *wc = &cases[i];
                mb_t m = {0};
                msg_u s, d;
                char err[256] = "";
                sample(t, 1, &s);
                if (t == TE_MSG_ORDER_COMMAND)
                        mb_order(&m, &s.oc, wc->field, &wc->ov);
                else
                        mb_tp(&m, &s.tp, wc->field, &wc->ov);
                /* exact-size private copy: any read past the end is an ASan error */
                uint8_t *p = malloc(m.n);
                assert_non_null(p);
                memcpy(p, m.b, m.n);
                te_codec_err_t rc = dec_both(t, p, m.n, &d, err, sizeof err);
                expect(rc, wc->want, err, wc->sub, wc->name);
                /* te_codec_check stops before value validation */
                te_codec_err_t crc =
                    te_codec_check(g_codec[0], p, m.n, NULL, err, sizeof err);
                expect(crc, wc->want == TE_CODEC_ERR_INVALID ? TE_CODEC_OK : wc->want,
                       err, NULL, wc->name);
                msg_free(t, &d);
                msg_free(t, &s);
                free(p);
                mb_free(&m);
        }
}

static void test_codec_hostile_order_fields(void **state)
{
        (void)state;
        run_wire_cases(TE_MSG_ORDER_COMMAND, oc_cases,
                       sizeof oc_cases / sizeof oc_cases[0]);
}

static void test_codec_hostile_target_fields(void **state)
{
        (void)state;
        run_wire_cases(TE_MSG_TARGET_PORTFOLIO, tp_cases,
                       sizeof tp_cases / sizeof tp_cases[0]);
}

/* A 40-byte message whose order_id claims 100,000,000 bytes. */
static void test_codec_huge_length_prefix_in_small_message(void **state)
{
        mb_t m = {0};
        msg_u d;
        char err[256] = "";
        (void)state;
        mb_header(&m, te_codec_schema_id(TE_MSG_ORDER_COMMAND));
        mb_long(&m, TE_CMD_NEW);
        mb_long(&m, 100000000);
        while (m.n < 40)
                mb_byte(&m, 'x');
        assert_int_equal(m.n, 40);
        expect(dec_both(TE_MSG_ORDER_COMMAND, m.b, m.n, &d, err, sizeof err),
               TE_CODEC_ERR_TRUNCATED, err,
               "field 'order_id' at byte 6: length 100000000 exceeds remaining 30",
               "100 MB");
        mb_free(&m);
}

/* Value checks on wire bytes the encoder would refuse to write: patch one double of a
 * valid message. */
static void patch_double(te_buf_t *b, double from, double to)
{
        uint8_t f[8], t[8];
        memcpy(f, &from, 8);
        memcpy(t, &to, 8);
        int found = 0;
        for (size_t i = TE_CODEC_HEADER_LEN; i + 8 <= b->len; i++)
                if (memcmp(b->data + i, f, 8) == 0) {
                        memcpy(b->data + i, t, 8);
                        found++;
                }
        assert_int_equal(found, 1);
}

static void test_codec_hostile_report_values(void **state)
{
        static const struct {
                const char *name;
                double from, to;
                te_codec_err_t want;
                const char *sub;
        } cases[] = {
            {"negative commission", 1.25, -1.25, TE_CODEC_ERR_INVALID, "commission"},
            {"NaN last_price", 188.75, NAN, TE_CODEC_ERR_INVALID, "last_price"},
            {"zero last_price with a fill", 188.75, 0, TE_CODEC_ERR_INVALID,
             "last_price"},
            {"negative avg_price", 188.8, -188.8, TE_CODEC_ERR_INVALID, "avg_price"},
            {"negative last_qty", 500, -3, TE_CODEC_ERR_INVALID, "last_qty"},
            {"infinite cum_qty", 750, INFINITY, TE_CODEC_ERR_INVALID, "cum_qty"},
            {"negative leaves_qty", 250, -1, TE_CODEC_ERR_INVALID, "leaves_qty"},
            {"zero commission", 1.25, 0, TE_CODEC_OK, NULL},
        };
        (void)state;
        for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
                te_exec_report_t s;
                msg_u d;
                te_buf_t b;
                char err[256] = "";
                te_buf_init(&b, 1 << 16);
                sample_er(&s, 1); /* its doubles are all different */
                assert_int_equal(
                    te_codec_encode_exec_report(g_codec[0], &s, &b, err, sizeof err),
                    TE_CODEC_OK);
                patch_double(&b, cases[i].from, cases[i].to);
                expect(
                    dec_both(TE_MSG_EXECUTION_REPORT, b.data, b.len, &d, err, sizeof err),
                    cases[i].want, err, cases[i].sub, cases[i].name);
                te_buf_free(&b);
        }
}

/* ------------------------------------------------------------------ encoder checks */

static void test_codec_encode_refuses_invalid_values(void **state)
{
        enum { M_TP, M_EM, M_OC, M_ER, M_AL };
        static const struct {
                const char *name;
                int type;
                int mutation;
                te_codec_err_t want;
                const char *sub;
        } cases[] = {
            {"OC zero quantity NEW", M_OC, 1, TE_CODEC_ERR_INVALID, "quantity"},
            {"OC NaN quantity", M_OC, 2, TE_CODEC_ERR_INVALID, "quantity"},
            {"OC negative quantity CANCEL", M_OC, 3, TE_CODEC_ERR_INVALID, "quantity"},
            {"OC CANCEL, zero quantity, no ticker", M_OC, 4, TE_CODEC_OK, NULL},
            {"OC LIMIT without limit_price", M_OC, 5, TE_CODEC_ERR_INVALID,
             "limit_price"},
            {"OC STOP without stop_price", M_OC, 6, TE_CODEC_ERR_INVALID, "stop_price"},
            {"OC empty order_id", M_OC, 7, TE_CODEC_ERR_INVALID, "order_id"},
            {"OC ticker not terminated", M_OC, 8, TE_CODEC_ERR_INVALID, "NUL-terminated"},
            {"OC command out of range", M_OC, 9, TE_CODEC_ERR_INVALID, "command"},
            {"OC bad UTF-8 route", M_OC, 10, TE_CODEC_ERR_INVALID, "route"},
            {"OC negative event_time", M_OC, 11, TE_CODEC_ERR_INVALID, "event_time"},
            {"OC CLOCK minimal", M_OC, 12, TE_CODEC_OK, NULL},
            {"OC empty ticker NEW", M_OC, 13, TE_CODEC_ERR_INVALID, "ticker"},
            {"OC -Inf ref price", M_OC, 14, TE_CODEC_ERR_INVALID, "ref_price"},
            {"ER FILL with zero last_qty", M_ER, 1, TE_CODEC_ERR_INVALID, "last_qty"},
            {"ER fill at price 0", M_ER, 2, TE_CODEC_ERR_INVALID, "last_price"},
            {"ER avg_price 0 with cum_qty", M_ER, 3, TE_CODEC_ERR_INVALID, "avg_price"},
            {"ER negative commission", M_ER, 4, TE_CODEC_ERR_INVALID, "commission"},
            {"ER empty report_id", M_ER, 5, TE_CODEC_ERR_INVALID, "report_id"},
            {"ER BROKER_STATE without order", M_ER, 6, TE_CODEC_OK, NULL},
            {"ER ACK without order_id", M_ER, 7, TE_CODEC_ERR_INVALID, "order_id"},
            {"ER FILL without ticker", M_ER, 8, TE_CODEC_ERR_INVALID, "ticker"},
            {"ER exec_type out of range", M_ER, 9, TE_CODEC_ERR_INVALID, "exec_type"},
            {"TP nav 0", M_TP, 1, TE_CODEC_ERR_INVALID, "nav"},
            {"TP negative ref_price", M_TP, 2, TE_CODEC_ERR_INVALID,
             "targets[1].ref_price"},
            {"TP targets missing", M_TP, 3, TE_CODEC_ERR_INVALID, "targets"},
            {"TP infinite value", M_TP, 4, TE_CODEC_ERR_INVALID, "targets[0].value"},
            {"TP empty portfolio_id", M_TP, 5, TE_CODEC_ERR_INVALID, "portfolio_id"},
            {"TP unit out of range", M_TP, 6, TE_CODEC_ERR_INVALID, "unit"},
            {"EM empty scope", M_EM, 1, TE_CODEC_ERR_INVALID, "scope"},
            {"EM level out of range", M_EM, 2, TE_CODEC_ERR_INVALID, "level"},
            {"AL empty code", M_AL, 1, TE_CODEC_ERR_INVALID, "code"},
            {"AL empty source", M_AL, 2, TE_CODEC_ERR_INVALID, "source"},
            {"AL severity out of range", M_AL, 3, TE_CODEC_ERR_INVALID, "severity"},
        };
        (void)state;
        for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
                msg_u m;
                te_buf_t b;
                char err[256] = "";
                te_msg_type_t t = (te_msg_type_t)cases[i].type;
                te_buf_init(&b, 1 << 16);
                sample(t, 1, &m);
                switch (cases[i].type * 100 + cases[i].mutation) {
                case M_OC * 100 + 1:
                        m.oc.quantity = 0;
                        break;
                case M_OC * 100 + 2:
                        m.oc.quantity = NAN;
                        break;
                case M_OC * 100 + 3:
                        m.oc.command = TE_CMD_CANCEL;
                        m.oc.quantity = -1;
                        break;
                case M_OC * 100 + 4:
                        m.oc.command = TE_CMD_CANCEL;
                        m.oc.quantity = 0;
                        m.oc.ticker[0] = '\0';
                        m.oc.has_limit_price = 0;
                        break;
                case M_OC * 100 + 5:
                        m.oc.order_type = TE_OT_LIMIT;
                        m.oc.has_limit_price = 0;
                        break;
                case M_OC * 100 + 6:
                        m.oc.order_type = TE_OT_STOP;
                        m.oc.has_stop_price = 0;
                        break;
                case M_OC * 100 + 7:
                        m.oc.order_id[0] = '\0';
                        break;
                case M_OC * 100 + 8:
                        memset(m.oc.ticker, 'A', sizeof m.oc.ticker);
                        break;
                case M_OC * 100 + 9:
                        m.oc.command = (te_command_t)7;
                        break;
                case M_OC * 100 + 10:
                        CPY(m.oc.route, "ib\xffkr");
                        break;
                case M_OC * 100 + 11:
                        m.oc.event_time = -1;
                        break;
                case M_OC * 100 + 12:
                        memset(&m.oc, 0, sizeof m.oc);
                        m.oc.command = TE_CMD_CLOCK;
                        CPY(m.oc.order_id, "clock-pf-core-01-1717428600000");
                        CPY(m.oc.ids.portfolio_id, "pf-core-01");
                        m.oc.event_time = 1717428600000;
                        break;
                case M_OC * 100 + 13:
                        m.oc.ticker[0] = '\0';
                        break;
                case M_OC * 100 + 14:
                        m.oc.ref_price = -INFINITY;
                        break;
                case M_ER * 100 + 1:
                        m.er.exec_type = TE_EXEC_FILL;
                        m.er.last_qty = 0;
                        break;
                case M_ER * 100 + 2:
                        m.er.last_price = 0;
                        break;
                case M_ER * 100 + 3:
                        m.er.avg_price = 0;
                        break;
                case M_ER * 100 + 4:
                        m.er.commission = -0.01;
                        break;
                case M_ER * 100 + 5:
                        m.er.report_id[0] = '\0';
                        break;
                case M_ER * 100 + 6:
                        sample_er(&m.er, 0);
                        m.er.exec_type = TE_EXEC_BROKER_STATE;
                        m.er.order_id[0] = '\0';
                        m.er.ids.portfolio_id[0] = '\0';
                        CPY(m.er.reason, "disconnected");
                        break;
                case M_ER * 100 + 7:
                        sample_er(&m.er, 0);
                        m.er.order_id[0] = '\0';
                        break;
                case M_ER * 100 + 8:
                        m.er.exec_type = TE_EXEC_FILL;
                        m.er.ticker[0] = '\0';
                        break;
                case M_ER * 100 + 9:
                        m.er.exec_type = (te_exec_type_t)9;
                        break;
                case M_TP * 100 + 1:
                        m.tp.nav = 0;
                        break;
                case M_TP * 100 + 2:
                        m.tp.targets[1].has_ref_price = 1;
                        m.tp.targets[1].ref_price = -3;
                        break;
                case M_TP * 100 + 3:
                        te_target_portfolio_free(&m.tp);
                        m.tp.n_targets = 2;
                        break;
                case M_TP * 100 + 4:
                        m.tp.targets[0].value = INFINITY;
                        break;
                case M_TP * 100 + 5:
                        m.tp.ids.portfolio_id[0] = '\0';
                        break;
                case M_TP * 100 + 6:
                        m.tp.unit = (te_unit_t)2;
                        break;
                case M_EM * 100 + 1:
                        m.em.scope[0] = '\0';
                        break;
                case M_EM * 100 + 2:
                        m.em.level = (te_level_t)4;
                        break;
                case M_AL * 100 + 1:
                        m.al.code[0] = '\0';
                        break;
                case M_AL * 100 + 2:
                        m.al.source[0] = '\0';
                        break;
                case M_AL * 100 + 3:
                        m.al.severity = (te_severity_t)3;
                        break;
                default:
                        fail_msg("no mutation for %s", cases[i].name);
                }
                /* both writers refuse alike (code, errstr, nothing in b) */
                te_codec_err_t rc = enc_both(t, &m, &b, err, sizeof err);
                expect(rc, cases[i].want, err, cases[i].sub, cases[i].name);
                if (rc != TE_CODEC_OK) {
                        assert_int_equal(b.len, 0); /* nothing invalid goes on the wire */
                } else {
                        msg_u d;
                        expect(dec_both(t, b.data, b.len, &d, err, sizeof err),
                               TE_CODEC_OK, err, NULL, cases[i].name);
                        msg_free(t, &d);
                }
                if (t == TE_MSG_TARGET_PORTFOLIO && cases[i].mutation == 3)
                        m.tp.n_targets = 0;
                msg_free(t, &m);
                te_buf_free(&b);
        }
}

static void test_codec_encode_respects_buffer_bound(void **state)
{
        te_order_cmd_t o;
        te_buf_t b;
        char err[256] = "";
        (void)state;
        sample_oc(&o, 1);
        te_buf_init(&b, 16);
        msg_u u;
        u.oc = o;
        expect(enc_both(TE_MSG_ORDER_COMMAND, &u, &b, err, sizeof err),
               TE_CODEC_ERR_TOO_LARGE, err, "exceeds", "16-byte bound");
        assert_int_equal(b.len, 0);
        te_buf_free(&b);
}

/* ------------------------------------------------------------------ random input */

static uint64_t g_rng = 0x9e3779b97f4a7c15ULL;

static uint64_t rng(void)
{
        uint64_t x = g_rng;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        g_rng = x;
        return x * 0x2545f4914f6cdd1dULL;
}

/* Decode `p` as every type through both readers and te_codec_check; whatever decodes
 * must be valid, i.e. encode again. @returns how many decodes succeeded. */
static int decode_everything(const uint8_t *p, size_t n)
{
        char err[256];
        int ok = 0;
        te_msg_type_t ct;
        te_codec_err_t crc = te_codec_check(g_codec[0], p, n, &ct, err, sizeof err);
        for (int t = 0; t < TE_MSG__CNT; t++) {
                msg_u d;
                te_codec_err_t rc = dec_both((te_msg_type_t)t, p, n, &d, err, sizeof err);
                assert_true(rc >= TE_CODEC_OK && rc < TE_CODEC_ERR__CNT);
                assert_int_not_equal(rc, TE_CODEC_ERR_INTERNAL);
                if (rc == TE_CODEC_OK) {
                        te_buf_t b;
                        te_buf_init(&b, TE_CODEC_MAX_MESSAGE);
                        assert_int_equal(crc, TE_CODEC_OK);
                        assert_int_equal(ct, t);
                        expect(msg_encode(g_codec[0], (te_msg_type_t)t, &d, &b, err,
                                          sizeof err),
                               TE_CODEC_OK, err, NULL, "re-encode a decoded message");
                        te_buf_free(&b);
                        ok++;
                } else if (rc != TE_CODEC_ERR_INVALID && rc != TE_CODEC_ERR_SCHEMA_ID) {
                        assert_int_equal(crc, rc); /* check stops where decode stops */
                }
                msg_free((te_msg_type_t)t, &d);
        }
        return ok;
}

static void test_codec_random_bytes(void **state)
{
        uint8_t buf[256];
        int ok = 0;
        (void)state;
        g_rng = 0x9e3779b97f4a7c15ULL;
        for (int i = 0; i < 10000; i++) {
                size_t n = (size_t)(rng() % sizeof buf);
                for (size_t k = 0; k < n; k++)
                        buf[k] = (uint8_t)rng();
                if (n >= TE_CODEC_HEADER_LEN && (i & 1)) { /* half get a real header */
                        int32_t id =
                            te_codec_schema_id((te_msg_type_t)(rng() % TE_MSG__CNT));
                        buf[0] = 0;
                        buf[1] = (uint8_t)(id >> 24);
                        buf[2] = (uint8_t)(id >> 16);
                        buf[3] = (uint8_t)(id >> 8);
                        buf[4] = (uint8_t)id;
                }
                uint8_t *p = malloc(n ? n : 1);
                assert_non_null(p);
                memcpy(p, buf, n);
                ok += decode_everything(p, n);
                free(p);
        }
        print_message("random bytes: %d of 10000 decoded\n", ok);
}

static void test_codec_random_mutations(void **state)
{
        te_buf_t valid[TE_MSG__CNT];
        char err[256];
        int ok = 0;
        (void)state;
        g_rng = 0x2545f4914f6cdd1dULL;
        for (int t = 0; t < TE_MSG__CNT; t++) {
                msg_u s;
                te_buf_init(&valid[t], 1 << 16);
                sample((te_msg_type_t)t, 1, &s);
                assert_int_equal(msg_encode(g_codec[0], (te_msg_type_t)t, &s, &valid[t],
                                            err, sizeof err),
                                 TE_CODEC_OK);
                msg_free((te_msg_type_t)t, &s);
        }
        for (int i = 0; i < 10000; i++) {
                const te_buf_t *v = &valid[i % TE_MSG__CNT];
                uint8_t *p = malloc(v->len);
                assert_non_null(p);
                memcpy(p, v->data, v->len);
                size_t at = (size_t)(rng() % v->len);
                p[at] =
                    (uint8_t)(p[at] ^ (1 + rng() % 255)); /* always a different byte */
                ok += decode_everything(p, v->len);
                free(p);
        }
        print_message("mutations: %d of 10000 still decoded\n", ok);
        for (int t = 0; t < TE_MSG__CNT; t++)
                te_buf_free(&valid[t]);
}

/* ------------------------------------------------------------------ avro_walk */

static te_avro_walk_t *walker(const char *json, avro_schema_t *schema)
{
        char err[256];
        assert_int_equal(avro_schema_from_json_length(json, strlen(json), schema), 0);
        te_avro_walk_t *w = te_avro_walk_compile(*schema, err, sizeof err);
        if (!w)
                fail_msg("te_avro_walk_compile: %s", err);
        return w;
}

/* Kinds our messages do not use: int, float, bytes, fixed, map; recursion. */
static void test_codec_walk_other_avro_kinds(void **state)
{
        static const char json[] =
            "{\"type\":\"record\",\"name\":\"X\",\"fields\":["
            "{\"name\":\"i\",\"type\":\"int\"},"
            "{\"name\":\"f\",\"type\":\"float\"},"
            "{\"name\":\"b\",\"type\":\"bytes\"},"
            "{\"name\":\"x\",\"type\":{\"type\":\"fixed\",\"name\":\"F\",\"size\":3}},"
            "{\"name\":\"m\",\"type\":{\"type\":\"map\",\"values\":\"long\"}}]}";
#define BYTES(lit) lit, sizeof(lit) - 1
        static const struct {
                const char *name;
                const char *bytes;
                size_t n;
                te_avro_walk_err_t want;
                const char *sub;
        } cases[] = {
            {"valid",
             BYTES("\x02"
                   "abcd"
                   "\x04xy"
                   "FFF"
                   "\x02\x02k\x06\x00"),
             TE_AVRO_WALK_OK, NULL},
            {"int in 6 bytes", BYTES("\x80\x80\x80\x80\x80\x00"), TE_AVRO_WALK_MALFORMED,
             "field 'i' at byte 0"},
            {"int above 32 bits", BYTES("\x80\x80\x80\x80\x10"), TE_AVRO_WALK_MALFORMED,
             "field 'i'"},
            {"float cut short",
             BYTES("\x02"
                   "ab"),
             TE_AVRO_WALK_TRUNCATED, "field 'f' at byte 1"},
            {"bytes past the end",
             BYTES("\x02"
                   "abcd"
                   "\x40xy"),
             TE_AVRO_WALK_TRUNCATED,
             "field 'b' at byte 5: length 32 exceeds remaining 2"},
            {"fixed cut short",
             BYTES("\x02"
                   "abcd"
                   "\x04xy"
                   "FF"),
             TE_AVRO_WALK_TRUNCATED, "field 'x'"},
            {"map key past the end",
             BYTES("\x02"
                   "abcd"
                   "\x04xy"
                   "FFF"
                   "\x02\x10k"),
             TE_AVRO_WALK_TRUNCATED, "field 'm[0]'"},
            {"map value bad varint",
             BYTES("\x02"
                   "abcd"
                   "\x04xy"
                   "FFF"
                   "\x02\x02k"
                   "\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff"),
             TE_AVRO_WALK_MALFORMED, "field 'm[0]'"},
            {"map block over the default cap",
             BYTES("\x02"
                   "abcd"
                   "\x04xy"
                   "FFF"
                   "\x82\x80\x80\x01"),
             TE_AVRO_WALK_TOO_LARGE, "field 'm'"},
            {"trailing",
             BYTES("\x02"
                   "abcd"
                   "\x04xy"
                   "FFF"
                   "\x00"
                   "Z"),
             TE_AVRO_WALK_TRAILING, "at byte 12: 1 trailing"},
        };
#undef BYTES
        avro_schema_t s;
        char err[256];
        (void)state;
        te_avro_walk_t *w = walker(json, &s);
        for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
                err[0] = '\0';
                te_avro_walk_err_t rc =
                    te_avro_walk_walk(w, cases[i].bytes, cases[i].n, 0, err, sizeof err);
                if (rc != cases[i].want || (cases[i].sub && !strstr(err, cases[i].sub)))
                        fail_msg("%s: got %d (%s), want %d '%s'", cases[i].name, rc, err,
                                 cases[i].want, cases[i].sub ? cases[i].sub : "");
        }
        te_avro_walk_destroy(w);
        avro_schema_decref(s);
}

static void test_codec_walk_depth_cap_on_recursive_schema(void **state)
{
        static const char json[] = "{\"type\":\"record\",\"name\":\"Node\",\"fields\":["
                                   "{\"name\":\"v\",\"type\":\"long\"},"
                                   "{\"name\":\"next\",\"type\":[\"null\",\"Node\"]}]}";
        avro_schema_t s;
        char err[256];
        mb_t m = {0};
        (void)state;
        te_avro_walk_t *w = walker(json, &s);
        /* a list of 10 nodes is fine; 100 nested nodes pass the depth cap */
        for (int depth = 0; depth < 2; depth++) {
                int nodes = depth ? 100 : 10;
                m.n = 0;
                for (int i = 0; i < nodes; i++) {
                        mb_long(&m, i);
                        mb_long(&m, i + 1 < nodes ? 1 : 0);
                }
                te_avro_walk_err_t rc =
                    te_avro_walk_walk(w, m.b, m.n, 0, err, sizeof err);
                assert_int_equal(rc, depth ? TE_AVRO_WALK_TOO_LARGE : TE_AVRO_WALK_OK);
                if (depth)
                        assert_non_null(strstr(err, "nested deeper"));
        }
        /* caps can only be set on string/bytes/array/map nodes */
        assert_int_equal(te_avro_walk_set_max(w, te_avro_walk_root(w), 1), -1);
        assert_int_equal(te_avro_walk_child(w, te_avro_walk_root(w), 5), -1);
        mb_free(&m);
        te_avro_walk_destroy(w);
        avro_schema_decref(s);
}

/* A well-formed target whose values are refused (INVALID) still names itself: its ids
 * are as decoded (the planner's dead letter and Alert carry them), with both readers. */
static void test_codec_invalid_target_keeps_ids(void **state)
{
        (void)state;
        te_target_portfolio_t tp;
        sample_tp(&tp, 1);
        static const ov_t nan_values = FN(fn_target_nan);
        mb_t m = {0};
        mb_tp(&m, &tp, TP_TARGETS, &nan_values);
        for (int k = 0; k < NS; k++) {
                te_target_portfolio_t got;
                char err[256];
                memset(&got, 0, sizeof got);
                assert_int_equal(te_codec_decode_target_portfolio(g_codec[k], m.b, m.n,
                                                                  &got, err, sizeof err),
                                 TE_CODEC_ERR_INVALID);
                assert_string_equal(got.ids.portfolio_id, "pf-core-01");
                assert_string_equal(got.ids.decision_id, "dec-20240603-momentum-0042");
                assert_string_equal(got.ids.strategy_id, "momentum-us");
                assert_true(got.n_targets == 0);
                te_target_portfolio_free(&got);
        }
        mb_free(&m);
        te_target_portfolio_free(&tp);
}

/* te_codec_check_bounds: each bounded field at its bound passes, just above it (and NaN)
 * fails naming the field; the unit decides the bound of a target's value. */
static void test_codec_value_bounds(void **state)
{
        char err[256];
        (void)state;
        te_exec_report_t r;
        memset(&r, 0, sizeof r);
        r.last_qty = r.cum_qty = TE_QTY_MAX;
        r.last_price = r.avg_price = TE_PRICE_MAX;
        r.commission = TE_NOTIONAL_MAX;
        assert_int_equal(
            te_codec_check_bounds(TE_MSG_EXECUTION_REPORT, &r, err, sizeof err),
            TE_CODEC_OK);
        r.last_qty = 1e308;
        assert_int_equal(
            te_codec_check_bounds(TE_MSG_EXECUTION_REPORT, &r, err, sizeof err),
            TE_CODEC_ERR_INVALID);
        assert_non_null(strstr(err, "field 'last_qty': out of range"));
        r.last_qty = 1;
        r.avg_price = NAN;
        assert_int_equal(
            te_codec_check_bounds(TE_MSG_EXECUTION_REPORT, &r, err, sizeof err),
            TE_CODEC_ERR_INVALID);
        assert_non_null(strstr(err, "field 'avg_price'"));

        te_order_cmd_t o;
        memset(&o, 0, sizeof o);
        o.quantity = 1000;
        o.has_ref_price = 1;
        o.ref_price = TE_NOTIONAL_MAX / 1000;
        assert_int_equal(te_codec_check_bounds(TE_MSG_ORDER_COMMAND, &o, err, sizeof err),
                         TE_CODEC_ERR_INVALID); /* ref_price above the price bound */
        o.ref_price = TE_PRICE_MAX;
        o.quantity = TE_NOTIONAL_MAX / TE_PRICE_MAX * 2;
        assert_int_equal(te_codec_check_bounds(TE_MSG_ORDER_COMMAND, &o, err, sizeof err),
                         TE_CODEC_ERR_INVALID);
        assert_non_null(strstr(err, "notional out of range"));
        o.quantity = TE_NOTIONAL_MAX / TE_PRICE_MAX;
        assert_int_equal(te_codec_check_bounds(TE_MSG_ORDER_COMMAND, &o, err, sizeof err),
                         TE_CODEC_OK);
        o.has_limit_price = 1;
        o.limit_price = TE_PRICE_MAX * 1.5;
        assert_int_equal(te_codec_check_bounds(TE_MSG_ORDER_COMMAND, &o, err, sizeof err),
                         TE_CODEC_ERR_INVALID);
        assert_non_null(strstr(err, "field 'limit_price'"));

        te_target_portfolio_t tp;
        te_target_t t;
        memset(&tp, 0, sizeof tp);
        memset(&t, 0, sizeof t);
        te_strlcpy(t.ticker, "AAA", sizeof t.ticker);
        tp.targets = &t;
        tp.n_targets = 1;
        tp.unit = TE_UNIT_WEIGHT;
        tp.has_nav = 1;
        tp.nav = TE_NOTIONAL_MAX;
        t.value = -TE_WEIGHT_MAX;
        assert_int_equal(
            te_codec_check_bounds(TE_MSG_TARGET_PORTFOLIO, &tp, err, sizeof err),
            TE_CODEC_OK);
        t.value = 1e200;
        assert_int_equal(
            te_codec_check_bounds(TE_MSG_TARGET_PORTFOLIO, &tp, err, sizeof err),
            TE_CODEC_ERR_INVALID);
        assert_non_null(strstr(err, "field 'targets[0].value': out of range"));
        tp.unit = TE_UNIT_QUANTITY; /* 1e200 shares: still out */
        assert_int_equal(
            te_codec_check_bounds(TE_MSG_TARGET_PORTFOLIO, &tp, err, sizeof err),
            TE_CODEC_ERR_INVALID);
        t.value = 5000; /* a quantity, not a weight */
        assert_int_equal(
            te_codec_check_bounds(TE_MSG_TARGET_PORTFOLIO, &tp, err, sizeof err),
            TE_CODEC_OK);
        tp.nav = 1e200;
        assert_int_equal(
            te_codec_check_bounds(TE_MSG_TARGET_PORTFOLIO, &tp, err, sizeof err),
            TE_CODEC_ERR_INVALID);
        assert_non_null(strstr(err, "field 'nav'"));
        tp.nav = 1;
        t.has_ref_price = 1;
        t.ref_price = 2e9;
        assert_int_equal(
            te_codec_check_bounds(TE_MSG_TARGET_PORTFOLIO, &tp, err, sizeof err),
            TE_CODEC_ERR_INVALID);
        assert_non_null(strstr(err, "field 'targets[0].ref_price'"));
}

int main(void)
{
        /* before any codec exists: the manifest is parsed on demand */
        const struct CMUnitTest statics[] = {
            cmocka_unit_test(test_codec_manifest_ids_before_any_codec),
            cmocka_unit_test(test_codec_err_names),
            cmocka_unit_test(test_codec_peek_header),
            cmocka_unit_test(test_codec_walk_other_avro_kinds),
            cmocka_unit_test(test_codec_walk_depth_cap_on_recursive_schema),
            cmocka_unit_test(test_codec_value_bounds),
        };
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_codec_round_trip_all_types),
            cmocka_unit_test(test_codec_wire_layout_matches_hand_written),
            cmocka_unit_test(test_codec_target_array_reused_and_freed),
            cmocka_unit_test(test_codec_targets_at_and_over_the_cap),
            cmocka_unit_test(test_codec_framing_errors),
            cmocka_unit_test(test_codec_invalid_target_keeps_ids),
            cmocka_unit_test(test_codec_truncated_at_every_offset),
            cmocka_unit_test(test_codec_hostile_order_fields),
            cmocka_unit_test(test_codec_hostile_target_fields),
            cmocka_unit_test(test_codec_huge_length_prefix_in_small_message),
            cmocka_unit_test(test_codec_hostile_report_values),
            cmocka_unit_test(test_codec_encode_refuses_invalid_values),
            cmocka_unit_test(test_codec_encode_respects_buffer_bound),
            cmocka_unit_test(test_codec_random_bytes),
            cmocka_unit_test(test_codec_random_mutations),
        };
        int failed = cmocka_run_group_tests_name("codec_static", statics, NULL, NULL);
        failed += cmocka_run_group_tests_name("codec", tests, setup, teardown);
        return failed ? 1 : 0;
}
