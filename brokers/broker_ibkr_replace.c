/*
 * broker_ibkr_replace: REPLACE in the ibkr adapter, done the way TWS modifies an
 * order: placeOrder again with the same TWS order id and the new terms.
 *
 * A REPLACE may change the quantity (the new total, above what has filled) and the
 * limit and/or stop price its order type has; side, ticker, order type, TIF and account
 * stay. It is sent only while the connection is READY (otherwise the worker gets
 * TE_BROKER_ERR_RETRIABLE and retries it after the reconciliation), one modification
 * per order at a time.
 *
 * TWS confirms a modification with an openOrder carrying the new terms: the order
 * then takes them (in memory and in ibkr_orders) and a REPLACED report goes out with
 * the order's live status (NEW or PARTIALLY_FILLED), its cum and the new leaves; its
 * report_id is derived from the command (order id, event time, new terms). An
 * execution beyond the old quantity shows the modification took effect too.
 *
 * Nothing changes when IB refuses the modification (an error on the order: 104 already
 * filled, 103, 105 does not match, 201, ...), when the order ends first, or when a
 * reconciliation does not show the new terms: the order keeps its previous terms and
 * an Alert `replace_refused` says why. A REPLACE the adapter cannot send (unknown or
 * ended order, cancel pending, another modification pending, a change of anything but
 * quantity and prices, bad values) is refused the same way. Unless the order is
 * unknown, has ended (its final report says so) or has a cancel or another modification
 * pending (whose outcome will say), a refusal also goes out as a report the planner acts
 * on: exec_type REJECTED with the order's live status (NEW or
 * PARTIALLY_FILLED), its cum and leaves on the old terms, reason "replace refused: ...";
 * its report_id is derived from the refused terms. A REPLACE equal to the current (or
 * pending) terms is a redelivered command: ignored.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "broker_ibkr_int.h"
#include "te_ids.h"
#include "te_log.h"

static int has_lmt(te_order_type_t t)
{
        return t == TE_OT_LIMIT || t == TE_OT_STOP_LIMIT;
}

static int has_stp(te_order_type_t t)
{
        return t == TE_OT_STOP || t == TE_OT_STOP_LIMIT;
}

static int same(double a, double b)
{
        return fabs(a - b) <= 1e-9 * (fabs(a) > 1 ? fabs(a) : 1);
}

/* Quantity and the prices the order type has are equal. */
static int same_terms(const te_order_cmd_t *a, const te_order_cmd_t *b)
{
        return same(a->quantity, b->quantity) &&
               (!has_lmt(a->order_type) || same(a->limit_price, b->limit_price)) &&
               (!has_stp(a->order_type) || same(a->stop_price, b->stop_price));
}

/* The refusal of a REPLACE to `terms` as a report on the working order `o` (none when
 * `o` is unknown, has ended, or has a cancel or a modification pending). */
static void emit_refused(te_ibkr_t *b, te_ibkr_order_t *o, const te_order_cmd_t *terms,
                         const char *why)
{
        char et[32], q[40], l[40], s[40], rid[TE_ID_MAX];
        if (!o || o->terminal || o->replace_pending || o->cancel_sent ||
            o->cancel_waiting)
                return; /* ended, or what is pending will say */
        snprintf(et, sizeof et, "%lld", (long long)terms->event_time);
        te_fmt_double(q, sizeof q, terms->quantity);
        te_fmt_double(l, sizeof l, terms->has_limit_price ? terms->limit_price : 0);
        te_fmt_double(s, sizeof s, terms->has_stop_price ? terms->stop_price : 0);
        const char *parts[] = {
            "ibkr", "replace_refused",         o->cmd.order_id,         et,          q, l,
            s,      te_side_name(terms->side), te_tif_name(terms->tif), terms->route};
        rid[0] = 'r';
        te_id_digest(rid + 1, sizeof rid - 1, parts, sizeof parts / sizeof parts[0]);
        te_ibkr_pend_t *p = te_ibkr_orders_push_report(
            b, o, TE_EXEC_REJECTED, o->cum > 0 ? TE_OS_PARTIALLY_FILLED : TE_OS_NEW, rid);
        if (p)
                snprintf(p->r.reason, sizeof p->r.reason, "replace refused: %s", why);
}

static te_broker_err_t refuse(te_ibkr_t *b, te_ibkr_order_t *o, const te_order_cmd_t *cmd,
                              const char *why)
{
        emit_refused(b, o, cmd, why);
        b->st.replaces_refused++;
        te_ibkr_util_alert(b, TE_SEV_WARNING, "replace_refused", cmd,
                           "REPLACE of order %s refused: %s; the order keeps its terms",
                           cmd->order_id, why);
        return TE_BROKER_OK;
}

te_broker_err_t te_ibkr_replace(te_ibkr_t *b, const te_order_cmd_t *cmd)
{
        te_log_ids_t ids = {.decision_id = cmd->ids.decision_id,
                            .portfolio_id = cmd->ids.portfolio_id,
                            .order_id = cmd->order_id};
        if (b->state != TE_IBKR_READY) {
                TE_LOG(TE_LOG_WARN, &ids, "ibkr.replace_waits",
                       "broker connection %s: REPLACE retried after reconciliation",
                       te_ibkr_util_state_name(b->state));
                return TE_BROKER_ERR_RETRIABLE;
        }
        te_ibkr_order_t *o = te_ibkr_orders_find_ref(b, cmd->order_id);
        if (!o)
                return refuse(b, NULL, cmd, "unknown order");
        const te_order_cmd_t *c = &o->cmd;
        const char *acct = te_ibkr_util_pick_account(b, cmd);
        if (cmd->side != c->side || strcmp(cmd->ticker, c->ticker) != 0 ||
            cmd->order_type != c->order_type || cmd->tif != c->tif || !acct ||
            strcmp(acct, o->account) != 0)
                return refuse(b, o, cmd,
                              "only the quantity and the limit/stop price can change");
        if (same_terms(cmd, o->replace_pending ? &o->repl : c)) {
                TE_LOG(TE_LOG_INFO, &ids, "ibkr.replace_same",
                       "REPLACE equal to the order's %s terms: ignored",
                       o->replace_pending ? "pending" : "current");
                return TE_BROKER_OK;
        }
        if (o->terminal)
                return refuse(b, o, cmd, "the order already ended");
        if (o->cancel_sent || o->cancel_waiting)
                return refuse(b, o, cmd, "a cancel is pending");
        if (!(cmd->quantity > o->cum + TE_IBKR_EPS) || cmd->quantity > 1e9)
                return refuse(b, o, cmd,
                              "the quantity must be above the filled quantity");
        if (has_lmt(c->order_type) && !(cmd->has_limit_price && cmd->limit_price > 0))
                return refuse(b, o, cmd, "limit price required");
        if (has_stp(c->order_type) && !(cmd->has_stop_price && cmd->stop_price > 0))
                return refuse(b, o, cmd, "stop price required");
        if (o->replace_pending)
                return refuse(b, o, cmd, "another modification is pending");
        if (o->tws_id == 0) /* not released yet: cannot happen while READY */
                return TE_BROKER_ERR_RETRIABLE;
        o->repl = *c;
        o->repl.quantity = cmd->quantity;
        o->repl.has_limit_price = has_lmt(c->order_type);
        o->repl.limit_price = has_lmt(c->order_type) ? cmd->limit_price : 0;
        o->repl.has_stop_price = has_stp(c->order_type);
        o->repl.stop_price = has_stp(c->order_type) ? cmd->stop_price : 0;
        o->repl.event_time = cmd->event_time;
        if (te_ibkr_orders_send_terms(b, o, &o->repl) != 0)
                return TE_BROKER_ERR_FATAL;
        o->replace_pending = 1;
        b->st.replaces_sent++;
        TE_LOG(TE_LOG_INFO, &ids, "ibkr.replace_sent",
               "tws_id=%lld quantity %.10g -> %.10g, limit %.10g -> %.10g, stop %.10g -> "
               "%.10g",
               (long long)o->tws_id, c->quantity, o->repl.quantity, c->limit_price,
               o->repl.limit_price, c->stop_price, o->repl.stop_price);
        return TE_BROKER_OK;
}

/* IB took the modification: the order has its new terms; report REPLACED. */
static void apply(te_ibkr_t *b, te_ibkr_order_t *o)
{
        char errstr[512], et[32], q[40], l[40], s[40];
        te_order_cmd_t *c = &o->cmd;
        double old_qty = c->quantity;
        c->quantity = o->repl.quantity;
        c->has_limit_price = o->repl.has_limit_price;
        c->limit_price = o->repl.limit_price;
        c->has_stop_price = o->repl.has_stop_price;
        c->stop_price = o->repl.stop_price;
        o->replace_pending = 0;
        b->st.replaced++;
        if (b->store && te_ibkr_store_set_terms(b->store, c, errstr, sizeof errstr) != 0)
                TE_LOG(TE_LOG_ERROR, NULL, "ibkr.store", "%s", errstr);
        snprintf(et, sizeof et, "%lld", (long long)o->repl.event_time);
        te_fmt_double(q, sizeof q, c->quantity);
        te_fmt_double(l, sizeof l, c->limit_price);
        te_fmt_double(s, sizeof s, c->stop_price);
        const char *parts[] = {"ibkr", "replace", c->order_id, et, q, l, s};
        char rid[TE_ID_MAX];
        rid[0] = 'r';
        te_id_digest(rid + 1, sizeof rid - 1, parts, sizeof parts / sizeof parts[0]);
        int done = o->cum + TE_IBKR_EPS >= c->quantity;
        if (done)
                o->terminal = 1;
        te_ibkr_pend_t *p =
            te_ibkr_orders_push_report(b, o, TE_EXEC_REPLACED,
                                       done         ? TE_OS_FILLED
                                       : o->cum > 0 ? TE_OS_PARTIALLY_FILLED
                                                    : TE_OS_NEW,
                                       rid);
        if (p)
                p->terminal = done;
        te_log_ids_t ids = {.decision_id = c->ids.decision_id,
                            .portfolio_id = c->ids.portfolio_id,
                            .order_id = c->order_id};
        TE_LOG(TE_LOG_INFO, &ids, "ibkr.replaced",
               "IB confirmed the modification: quantity %.10g -> %.10g (filled %.10g)",
               old_qty, c->quantity, o->cum);
}

void te_ibkr_replace_seen(te_ibkr_t *b, te_ibkr_order_t *o, const te_tws_order_t *w)
{
        const te_order_cmd_t *r = &o->repl;
        if (!o->replace_pending)
                return;
        if (same(w->total_qty, r->quantity) &&
            (!has_lmt(r->order_type) ||
             (w->has_lmt_price && same(w->lmt_price, r->limit_price))) &&
            (!has_stp(r->order_type) ||
             (w->has_aux_price && same(w->aux_price, r->stop_price))))
                apply(b, o);
        else
                TE_LOG(TE_LOG_DEBUG, NULL, "ibkr.replace_not_yet",
                       "order %s: openOrder still shows quantity %.10g", o->cmd.order_id,
                       w->total_qty);
}

void te_ibkr_replace_on_exec(te_ibkr_t *b, te_ibkr_order_t *o, double shares)
{
        if (o->replace_pending && o->cum + shares > o->cmd.quantity + TE_IBKR_EPS &&
            o->cum + shares <= o->repl.quantity + TE_IBKR_EPS)
                apply(b, o);
}

void te_ibkr_replace_refused(te_ibkr_t *b, te_ibkr_order_t *o, const char *why)
{
        if (!o->replace_pending)
                return;
        o->replace_pending = 0;
        b->st.replaces_refused++;
        emit_refused(b, o, &o->repl, why);
        te_ibkr_util_alert(
            b, TE_SEV_WARNING, "replace_refused", &o->cmd,
            "modification of order %s (quantity %.10g -> %.10g) not done: %s; the "
            "order keeps its terms",
            o->cmd.order_id, o->cmd.quantity, o->repl.quantity, why);
}
