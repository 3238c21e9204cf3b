/*
 * te_codec_valid: value validation (TE_CODEC_ERR_INVALID, errstr names the field),
 * identical for encode and decode:
 *   every message
 *     - strings: valid UTF-8 without NUL bytes (the database and JSON tools downstream
 *       reject them); on encode, NUL-terminated within their C array;
 *     - doubles finite; timestamps (as_of, effective_from, event_time) in
 *       [0, 253402300799999] (year 9999); enums in range (encode).
 *   TargetPortfolio: decision_id and portfolio_id non-empty; nav > 0 when present;
 *     every target: ticker non-empty, value finite, ref_price > 0 when present;
 *     at most TE_TARGETS_MAX targets.
 *   ExecutionMode: scope non-empty ("*" or a portfolio id).
 *   OrderCommand: order_id and portfolio_id non-empty (all commands, CLOCK included);
 *     NEW: ticker non-empty; NEW and REPLACE: quantity > 0, limit_price required for
 *     LIMIT/STOP_LIMIT and stop_price for STOP/STOP_LIMIT; CANCEL/CLOCK: quantity >= 0;
 *     limit_price, stop_price, ref_price > 0 when present.
 *   ExecutionReport: report_id non-empty; order_id and portfolio_id non-empty except
 *     for BROKER_STATE; last_qty, cum_qty, leaves_qty, commission >= 0; last_price >= 0
 *     and > 0 when last_qty > 0; avg_price >= 0 and > 0 when cum_qty > 0; PARTIAL_FILL
 *     and FILL: last_qty > 0 and ticker non-empty.
 *   Alert: source and code non-empty.
 * Cross-message checks (duplicate tickers in a target list, cum_qty consistency, order
 * state transitions) belong to the planner/broker/sink, not here.
 *
 * The checks of single fields (text, timestamps, finite doubles) run as each field is
 * read or written (te_codec_decode.c, te_codec_encode.c); the rules of each message
 * run on the filled struct (te_codec_validate).
 */
#include "te_codec_int.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* 0: fine; 1: contains NUL; 2: not UTF-8 (overlongs, surrogates, > U+10FFFF refused). */
static int text_check(const char *s, size_t len)
{
        const uint8_t *p = (const uint8_t *)s;
        size_t i = 0;
        while (len - i >= 8) { /* 8 ASCII non-NUL bytes at a time */
                uint64_t w;
                memcpy(&w, p + i, 8);
                if ((w & 0x8080808080808080ULL) ||
                    ((w - 0x0101010101010101ULL) & ~w & 0x8080808080808080ULL))
                        break;
                i += 8;
        }
        while (i < len) {
                uint8_t b = p[i];
                if (b == 0)
                        return 1;
                if (b < 0x80) {
                        i++;
                        continue;
                }
                size_t need;
                uint8_t lo = 0x80, hi = 0xbf;
                if (b >= 0xc2 && b <= 0xdf) {
                        need = 1;
                } else if (b >= 0xe0 && b <= 0xef) {
                        need = 2;
                        if (b == 0xe0)
                                lo = 0xa0;
                        else if (b == 0xed)
                                hi = 0x9f;
                } else if (b >= 0xf0 && b <= 0xf4) {
                        need = 3;
                        if (b == 0xf0)
                                lo = 0x90;
                        else if (b == 0xf4)
                                hi = 0x8f;
                } else {
                        return 2;
                }
                if (len - i - 1 < need)
                        return 2;
                if (p[i + 1] < lo || p[i + 1] > hi)
                        return 2;
                for (size_t k = 2; k <= need; k++)
                        if (p[i + k] < 0x80 || p[i + k] > 0xbf)
                                return 2;
                i += need + 1;
        }
        return 0;
}

/* errstr for a field of a record, or of targets[idx] when idx >= 0. */
__attribute__((format(printf, 5, 6))) te_codec_err_t
te_codec_field_err(char *errstr, size_t errsz, long idx, const char *field,
                   const char *fmt, ...)
{
        if (!errstr || errsz == 0)
                return TE_CODEC_ERR_INVALID;
        char why[160];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(why, sizeof why, fmt, ap);
        va_end(ap);
        if (idx >= 0)
                snprintf(errstr, errsz, "field 'targets[%ld].%s': %s", idx, field, why);
        else
                snprintf(errstr, errsz, "field '%s': %s", field, why);
        return TE_CODEC_ERR_INVALID;
}

te_codec_err_t te_codec_check_text(const fd_t *f, const char *s, size_t len, long idx,
                                   char *errstr, size_t errsz)
{
        int r = text_check(s, len);
        if (r == 1)
                return te_codec_field_err(errstr, errsz, idx, f->name,
                                          "contains a NUL byte");
        if (r == 2)
                return te_codec_field_err(errstr, errsz, idx, f->name,
                                          "is not valid UTF-8");
        return TE_CODEC_OK;
}

te_codec_err_t te_codec_check_targets(const te_target_portfolio_t *tp, char *errstr,
                                      size_t errsz)
{
        if (tp->n_targets > TE_TARGETS_MAX) {
                te_codec_seterr(errstr, errsz,
                                "field 'targets': %zu entries exceed the maximum %d",
                                tp->n_targets, TE_TARGETS_MAX);
                return TE_CODEC_ERR_INVALID;
        }
        if (tp->n_targets && !tp->targets) {
                te_codec_seterr(errstr, errsz,
                                "field 'targets': n_targets %zu but no array",
                                tp->n_targets);
                return TE_CODEC_ERR_INVALID;
        }
        return TE_CODEC_OK;
}

#define NEED(cond, field, ...)                                                           \
        do {                                                                             \
                if (!(cond))                                                             \
                        return te_codec_field_err(errstr, errsz, -1, field,              \
                                                  __VA_ARGS__);                          \
        } while (0)

static te_codec_err_t valid_target_portfolio(const te_target_portfolio_t *m, char *errstr,
                                             size_t errsz)
{
        NEED(m->ids.decision_id[0], "decision_id", "must not be empty");
        NEED(m->ids.portfolio_id[0], "portfolio_id", "must not be empty");
        NEED(!m->has_nav || m->nav > 0, "nav", "must be > 0 when present (got %g)",
             m->nav);
        for (size_t i = 0; i < m->n_targets; i++) {
                const te_target_t *t = &m->targets[i];
                if (!t->ticker[0])
                        return te_codec_field_err(errstr, errsz, (long)i, "ticker",
                                                  "must not be empty");
                if (t->has_ref_price && !(t->ref_price > 0))
                        return te_codec_field_err(errstr, errsz, (long)i, "ref_price",
                                                  "must be > 0 when present (got %g)",
                                                  t->ref_price);
        }
        return TE_CODEC_OK;
}

static te_codec_err_t valid_exec_mode(const te_exec_mode_t *m, char *errstr, size_t errsz)
{
        NEED(m->scope[0], "scope", "must not be empty (a portfolio_id or \"*\")");
        return TE_CODEC_OK;
}

static te_codec_err_t valid_order_cmd(const te_order_cmd_t *m, char *errstr, size_t errsz)
{
        int sized = m->command == TE_CMD_NEW || m->command == TE_CMD_REPLACE;
        NEED(m->order_id[0], "order_id", "must not be empty");
        NEED(m->ids.portfolio_id[0], "portfolio_id", "must not be empty");
        if (m->command == TE_CMD_NEW)
                NEED(m->ticker[0], "ticker", "must not be empty for NEW");
        if (sized)
                NEED(m->quantity > 0, "quantity", "must be > 0 for %s (got %g)",
                     te_command_name(m->command), m->quantity);
        else
                NEED(m->quantity >= 0, "quantity", "must be >= 0 (got %g)", m->quantity);
        NEED(!m->has_limit_price || m->limit_price > 0, "limit_price",
             "must be > 0 when present (got %g)", m->limit_price);
        NEED(!m->has_stop_price || m->stop_price > 0, "stop_price",
             "must be > 0 when present (got %g)", m->stop_price);
        NEED(!m->has_ref_price || m->ref_price > 0, "ref_price",
             "must be > 0 when present (got %g)", m->ref_price);
        if (sized) {
                int lim =
                    m->order_type == TE_OT_LIMIT || m->order_type == TE_OT_STOP_LIMIT;
                int stp =
                    m->order_type == TE_OT_STOP || m->order_type == TE_OT_STOP_LIMIT;
                NEED(!lim || m->has_limit_price, "limit_price", "required for %s orders",
                     te_order_type_name(m->order_type));
                NEED(!stp || m->has_stop_price, "stop_price", "required for %s orders",
                     te_order_type_name(m->order_type));
        }
        return TE_CODEC_OK;
}

static te_codec_err_t valid_exec_report(const te_exec_report_t *m, char *errstr,
                                        size_t errsz)
{
        int state = m->exec_type == TE_EXEC_BROKER_STATE;
        int fill = m->exec_type == TE_EXEC_PARTIAL_FILL || m->exec_type == TE_EXEC_FILL;
        NEED(m->report_id[0], "report_id", "must not be empty");
        NEED(state || m->order_id[0], "order_id", "must not be empty for %s",
             te_exec_type_name(m->exec_type));
        NEED(state || m->ids.portfolio_id[0], "portfolio_id", "must not be empty for %s",
             te_exec_type_name(m->exec_type));
        NEED(m->last_qty >= 0, "last_qty", "must be >= 0 (got %g)", m->last_qty);
        NEED(m->cum_qty >= 0, "cum_qty", "must be >= 0 (got %g)", m->cum_qty);
        NEED(m->leaves_qty >= 0, "leaves_qty", "must be >= 0 (got %g)", m->leaves_qty);
        NEED(m->commission >= 0, "commission", "must be >= 0 (got %g)", m->commission);
        if (m->last_qty > 0)
                NEED(m->last_price > 0, "last_price",
                     "must be > 0 when last_qty > 0 (got %g)", m->last_price);
        else
                NEED(m->last_price >= 0, "last_price", "must be >= 0 (got %g)",
                     m->last_price);
        if (m->cum_qty > 0)
                NEED(m->avg_price > 0, "avg_price",
                     "must be > 0 when cum_qty > 0 (got %g)", m->avg_price);
        else
                NEED(m->avg_price >= 0, "avg_price", "must be >= 0 (got %g)",
                     m->avg_price);
        if (fill) {
                NEED(m->last_qty > 0, "last_qty", "must be > 0 for %s",
                     te_exec_type_name(m->exec_type));
                NEED(m->ticker[0], "ticker", "must not be empty for %s",
                     te_exec_type_name(m->exec_type));
        }
        return TE_CODEC_OK;
}

static te_codec_err_t valid_alert(const te_alert_t *m, char *errstr, size_t errsz)
{
        NEED(m->source[0], "source", "must not be empty");
        NEED(m->code[0], "code", "must not be empty");
        return TE_CODEC_OK;
}

te_codec_err_t te_codec_validate(te_msg_type_t t, const void *m, char *errstr,
                                 size_t errsz)
{
        switch (t) {
        case TE_MSG_TARGET_PORTFOLIO:
                return valid_target_portfolio(m, errstr, errsz);
        case TE_MSG_EXECUTION_MODE:
                return valid_exec_mode(m, errstr, errsz);
        case TE_MSG_ORDER_COMMAND:
                return valid_order_cmd(m, errstr, errsz);
        case TE_MSG_EXECUTION_REPORT:
                return valid_exec_report(m, errstr, errsz);
        default:
                return valid_alert(m, errstr, errsz);
        }
}

/* ---- value bounds (te_codec_check_bounds) ------------------------------------------
 * What the service accepts, on top of the codec's rules above (README "Value bounds"):
 *   TargetPortfolio: nav <= TE_NOTIONAL_MAX; every target: |value| <= TE_WEIGHT_MAX
 *     for WEIGHT, <= TE_QTY_MAX for QUANTITY; ref_price <= TE_PRICE_MAX.
 *   OrderCommand: quantity <= TE_QTY_MAX; limit, stop and ref price <= TE_PRICE_MAX;
 *     quantity x ref_price (when present) <= TE_NOTIONAL_MAX.
 *   ExecutionReport: last_qty, cum_qty, leaves_qty <= TE_QTY_MAX; last_price,
 *     avg_price <= TE_PRICE_MAX; commission <= TE_NOTIONAL_MAX.
 * NaN fails every check (the comparisons are written to be false for NaN). */

#define BOUND(v, max, field)                                                             \
        do {                                                                             \
                if (!(fabs(v) <= (max)))                                                 \
                        return te_codec_field_err(errstr, errsz, -1, field,              \
                                                  "out of range: |%g| > %g", (v),        \
                                                  (double)(max));                        \
        } while (0)

static te_codec_err_t bounds_target_portfolio(const te_target_portfolio_t *m,
                                              char *errstr, size_t errsz)
{
        if (m->has_nav)
                BOUND(m->nav, TE_NOTIONAL_MAX, "nav");
        double vmax = m->unit == TE_UNIT_WEIGHT ? TE_WEIGHT_MAX : TE_QTY_MAX;
        for (size_t i = 0; i < m->n_targets; i++) {
                const te_target_t *t = &m->targets[i];
                if (!(fabs(t->value) <= vmax))
                        return te_codec_field_err(errstr, errsz, (long)i, "value",
                                                  "out of range: |%g| > %g for %s",
                                                  t->value, vmax, te_unit_name(m->unit));
                if (t->has_ref_price && !(fabs(t->ref_price) <= TE_PRICE_MAX))
                        return te_codec_field_err(errstr, errsz, (long)i, "ref_price",
                                                  "out of range: |%g| > %g", t->ref_price,
                                                  (double)TE_PRICE_MAX);
        }
        return TE_CODEC_OK;
}

static te_codec_err_t bounds_order_cmd(const te_order_cmd_t *m, char *errstr,
                                       size_t errsz)
{
        BOUND(m->quantity, TE_QTY_MAX, "quantity");
        if (m->has_limit_price)
                BOUND(m->limit_price, TE_PRICE_MAX, "limit_price");
        if (m->has_stop_price)
                BOUND(m->stop_price, TE_PRICE_MAX, "stop_price");
        if (m->has_ref_price) {
                BOUND(m->ref_price, TE_PRICE_MAX, "ref_price");
                if (!(m->quantity * m->ref_price <= TE_NOTIONAL_MAX))
                        return te_codec_field_err(errstr, errsz, -1, "quantity",
                                                  "notional out of range: %g x %g > %g",
                                                  m->quantity, m->ref_price,
                                                  (double)TE_NOTIONAL_MAX);
        }
        return TE_CODEC_OK;
}

static te_codec_err_t bounds_exec_report(const te_exec_report_t *m, char *errstr,
                                         size_t errsz)
{
        BOUND(m->last_qty, TE_QTY_MAX, "last_qty");
        BOUND(m->cum_qty, TE_QTY_MAX, "cum_qty");
        BOUND(m->leaves_qty, TE_QTY_MAX, "leaves_qty");
        BOUND(m->last_price, TE_PRICE_MAX, "last_price");
        BOUND(m->avg_price, TE_PRICE_MAX, "avg_price");
        BOUND(m->commission, TE_NOTIONAL_MAX, "commission");
        return TE_CODEC_OK;
}

te_codec_err_t te_codec_check_bounds(te_msg_type_t t, const void *m, char *errstr,
                                     size_t errsz)
{
        switch (t) {
        case TE_MSG_TARGET_PORTFOLIO:
                return bounds_target_portfolio(m, errstr, errsz);
        case TE_MSG_ORDER_COMMAND:
                return bounds_order_cmd(m, errstr, errsz);
        case TE_MSG_EXECUTION_REPORT:
                return bounds_exec_report(m, errstr, errsz);
        default:
                return TE_CODEC_OK;
        }
}
