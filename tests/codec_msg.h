/*
 * codec_msg.h: helpers of the codec tests (tests/unit/test_codec.c) and the codec fuzz
 * targets (tests/fuzz/fuzz_codec.c): any of the five message types in one union, encode
 * and decode by type, encode with two codecs and compare (the direct writer against
 * avro-c's), compare two decoded messages, free one.
 */
#ifndef TE_TESTS_CODEC_MSG_H
#define TE_TESTS_CODEC_MSG_H

#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "te_codec.h"

typedef union {
        te_target_portfolio_t tp;
        te_exec_mode_t em;
        te_order_cmd_t oc;
        te_exec_report_t er;
        te_alert_t al;
} msg_u;

static inline te_codec_err_t msg_encode(te_codec_t *c, te_msg_type_t t, const msg_u *m,
                                        te_buf_t *out, char *err, size_t errsz)
{
        switch (t) {
        case TE_MSG_TARGET_PORTFOLIO:
                return te_codec_encode_target_portfolio(c, &m->tp, out, err, errsz);
        case TE_MSG_EXECUTION_MODE:
                return te_codec_encode_exec_mode(c, &m->em, out, err, errsz);
        case TE_MSG_ORDER_COMMAND:
                return te_codec_encode_order_cmd(c, &m->oc, out, err, errsz);
        case TE_MSG_EXECUTION_REPORT:
                return te_codec_encode_exec_report(c, &m->er, out, err, errsz);
        default:
                return te_codec_encode_alert(c, &m->al, out, err, errsz);
        }
}

/* Encode `m` with codec `a` into `out` and with codec `b` into `out2` (one on the direct
 * writer, one on avro-c's) and compare: the same code; on refusal the same errstr and
 * both buffers empty; when OK the same bytes. *rc gets a's code, err a's errstr.
 * @returns 0 when the two agree, else -1 with `why` saying how they differ. */
static inline int msg_encode_both(te_codec_t *a, te_codec_t *b, te_msg_type_t t,
                                  const msg_u *m, te_buf_t *out, te_buf_t *out2,
                                  te_codec_err_t *rc, char *err, size_t errsz, char *why,
                                  size_t whysz)
{
        char err2[512] = "";
        size_t e2 = errsz < sizeof err2 ? errsz : sizeof err2;
        if (errsz)
                err[0] = '\0';
        te_codec_err_t ra = msg_encode(a, t, m, out, err, errsz);
        te_codec_err_t rb = msg_encode(b, t, m, out2, err2, e2);
        *rc = ra;
        if (ra != rb) {
                snprintf(why, whysz, "%s: codes differ: %s (%s) vs %s (%s)",
                         te_codec_type_name(t), te_codec_err_name(ra), errsz ? err : "",
                         te_codec_err_name(rb), err2);
                return -1;
        }
        if (ra != TE_CODEC_OK) {
                if (e2 && strncmp(err, err2, e2) != 0) {
                        snprintf(why, whysz, "%s: %s, errstrs differ: '%s' vs '%s'",
                                 te_codec_type_name(t), te_codec_err_name(ra), err, err2);
                        return -1;
                }
                if (out->len || out2->len) {
                        snprintf(why, whysz, "%s: %s, yet %zu / %zu bytes in out",
                                 te_codec_type_name(t), te_codec_err_name(ra), out->len,
                                 out2->len);
                        return -1;
                }
                return 0;
        }
        if (out->len != out2->len || memcmp(out->data, out2->data, out->len) != 0) {
                size_t at = 0;
                while (at < out->len && at < out2->len && out->data[at] == out2->data[at])
                        at++;
                snprintf(why, whysz, "%s: %zu vs %zu bytes, first difference at byte %zu",
                         te_codec_type_name(t), out->len, out2->len, at);
                return -1;
        }
        return 0;
}

/* `m` must be zeroed or hold a previous TargetPortfolio decode. */
static inline te_codec_err_t msg_decode(te_codec_t *c, te_msg_type_t t, const void *b,
                                        size_t n, msg_u *m, char *err, size_t errsz)
{
        switch (t) {
        case TE_MSG_TARGET_PORTFOLIO:
                return te_codec_decode_target_portfolio(c, b, n, &m->tp, err, errsz);
        case TE_MSG_EXECUTION_MODE:
                return te_codec_decode_exec_mode(c, b, n, &m->em, err, errsz);
        case TE_MSG_ORDER_COMMAND:
                return te_codec_decode_order_cmd(c, b, n, &m->oc, err, errsz);
        case TE_MSG_EXECUTION_REPORT:
                return te_codec_decode_exec_report(c, b, n, &m->er, err, errsz);
        default:
                return te_codec_decode_alert(c, b, n, &m->al, err, errsz);
        }
}

/* Same values, bit for bit (doubles by their bytes: NaN equals the same NaN, 0.0 and
 * -0.0 differ). Fixed-size messages compare whole: both must have been zeroed before
 * they were filled, so that padding and string tails compare equal. */
static inline int msg_equal(te_msg_type_t t, const msg_u *a, const msg_u *b)
{
        if (t != TE_MSG_TARGET_PORTFOLIO) {
                size_t sz = t == TE_MSG_EXECUTION_MODE     ? sizeof a->em
                            : t == TE_MSG_ORDER_COMMAND    ? sizeof a->oc
                            : t == TE_MSG_EXECUTION_REPORT ? sizeof a->er
                                                           : sizeof a->al;
                return memcmp(a, b, sz) == 0;
        }
        const te_target_portfolio_t *x = &a->tp, *y = &b->tp;
        if (memcmp(&x->ids, &y->ids, sizeof x->ids) || x->mode != y->mode ||
            x->as_of != y->as_of || x->unit != y->unit || x->has_nav != y->has_nav ||
            memcmp(&x->nav, &y->nav, sizeof x->nav) ||
            x->full_replace != y->full_replace || x->n_targets != y->n_targets)
                return 0;
        for (size_t i = 0; i < x->n_targets; i++) {
                const te_target_t *p = &x->targets[i], *q = &y->targets[i];
                if (memcmp(p->ticker, q->ticker, sizeof p->ticker) ||
                    memcmp(&p->value, &q->value, sizeof p->value) ||
                    p->has_ref_price != q->has_ref_price ||
                    memcmp(&p->ref_price, &q->ref_price, sizeof p->ref_price))
                        return 0;
        }
        return 1;
}

static inline void msg_free(te_msg_type_t t, msg_u *m)
{
        if (t == TE_MSG_TARGET_PORTFOLIO)
                te_target_portfolio_free(&m->tp);
}

#endif
