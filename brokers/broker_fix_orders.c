/*
 * broker_fix_orders: the fix adapter's order book-keeping (broker_fix_int.h):
 * ExecutionReports, OrderCancelRejects and refusals as our reports, and ended orders
 * dropped from memory once their final report is out and their row saved.
 */
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "broker_fix_int.h"
#include "te_ids.h"
#include "te_log.h"
#include "te_net.h"
#include "te_order_state.h"
#include "te_proc.h"

/* ---- orders and reports ---------------------------------------------------- */

/* A report on `cmd` in `out`: its fields from the command, the adapter's broker name
 * and account, its id a digest of ("fix", order id, what, detail). NULL: out of
 * memory. */
static te_exec_report_t *fx_report(fix_t *b, const te_order_cmd_t *cmd, const char *what,
                                   const char *detail, te_reports_t *out)
{
        te_exec_report_t *r = te_reports_push(out);
        if (!r)
                return NULL;
        te_broker_report_from_cmd(r, cmd, b->cfg.broker_name);
        const char *parts[] = {"fix", cmd->order_id, what, detail};
        r->report_id[0] = 'r';
        te_id_digest(r->report_id + 1, sizeof r->report_id - 1, parts, 4);
        te_strlcpy(r->account, b->cfg.account, sizeof r->account);
        return r;
}

void fx_report_fill_diff(fix_t *b, forder_t *o, double cum, double avg,
                         te_order_status_t st, te_reports_t *out)
{
        double diff = cum - o->cum;
        if (!(diff > 1e-9))
                return;
        double value = cum * avg;
        double px = (value - o->value) / diff;
        char cum_s[48];
        te_fmt_double(cum_s, sizeof cum_s, cum);
        te_exec_report_t *r = fx_report(b, &o->cmd, "cum", cum_s, out);
        if (!r)
                return;
        r->exec_type = st == TE_OS_FILLED ? TE_EXEC_FILL : TE_EXEC_PARTIAL_FILL;
        r->order_status = st == TE_OS_FILLED ? TE_OS_FILLED : TE_OS_PARTIALLY_FILLED;
        r->last_qty = diff;
        r->last_price = px;
        r->cum_qty = cum;
        r->avg_price = avg;
        r->leaves_qty = st == TE_OS_FILLED ? 0 : o->cmd.quantity - cum;
        if (r->leaves_qty < 0)
                r->leaves_qty = 0;
        r->event_time = te_proc_wall_ms();
        te_strlcpy(r->reason, "fill found at reconciliation", sizeof r->reason);
        o->cum = cum;
        o->value = value;
        o->status = r->order_status;
        if (st == TE_OS_FILLED) {
                o->terminal = 1;
                fx_mark_ended(b, o);
        }
        b->st.fills++;
        fx_dirty(b, o);
}

void fx_end_order(fix_t *b, forder_t *o, te_exec_type_t et, te_order_status_t st,
                  const char *reason, te_reports_t *out)
{
        if (o->terminal)
                return;
        te_exec_report_t *r = fx_report(b, &o->cmd, "end", te_exec_type_name(et), out);
        if (!r)
                return;
        r->exec_type = et;
        r->order_status = st;
        r->cum_qty = o->cum;
        r->avg_price = o->cum > 0 ? o->value / o->cum : 0;
        r->leaves_qty = 0;
        r->event_time = te_proc_wall_ms();
        te_strlcpy(r->reason, reason, sizeof r->reason);
        o->terminal = 1;
        fx_mark_ended(b, o);
        o->status = st;
        fx_dirty(b, o);
}

/* An ExecutionReport; `mass` is 1 when it answers our OrderMassStatusRequest. */
static void on_exec(fix_t *b, int mass, te_reports_t *out)
{
        te_fix_exec_t x;
        char err[256];
        if (te_fix_app_dec_exec(&b->msg, &x, err, sizeof err) != 0) {
                if (mass) /* e.g. the one answer saying there is no order */
                        TE_LOG(TE_LOG_DEBUG, NULL, "fix.mass_empty",
                               "mass status answer without an order of ours: %s", err);
                else
                        fx_alert(b, TE_SEV_WARNING, "fix_bad_report", NULL, "%s", err);
                return;
        }
        forder_t *o = fx_find(b, x.order_id);
        if (!o && fx_ended(b, x.order_id) && x.exec_type == 'I')
                return; /* the status of an order that ended: nothing to learn */
        if (!o && fx_ended(b, x.order_id)) {
                if (te_fix_execids_add(b->execs, x.order_id, x.exec_id) == 0) {
                        b->st.dup_execs++;
                        return;
                }
                fx_alert(b, TE_SEV_WARNING, "fix_report_after_end", NULL,
                         "ExecutionReport %s (ExecType %c) after order %s ended: ignored",
                         x.exec_id, x.exec_type, x.order_id);
                return;
        }
        if (!o) {
                fx_alert(b, TE_SEV_WARNING, "fix_unknown_order", NULL,
                         "ExecutionReport %s for order %s we do not know", x.exec_id,
                         x.order_id);
                return;
        }
        te_exec_report_t r;
        char why[256] = "";
        te_fix_map_t k = te_fix_app_map_exec(&x, &o->cmd, b->cfg.broker_name,
                                             te_proc_wall_ms(), &r, why, sizeof why);
        if (k == TE_FIX_MAP_STATUS) {
                if (!o->terminal) /* an ended order's status changes nothing */
                        fx_on_status(b, o, &x, out);
                return;
        }
        if (k == TE_FIX_MAP_ALERT) {
                fx_alert(b, TE_SEV_CRITICAL, "fix_trade_correction", o, "%s", why);
                return;
        }
        int fresh = te_fix_execids_add(b->execs, x.order_id, x.exec_id);
        if (fresh == 0) {
                b->st.dup_execs++;
                return;
        }
        if (fresh < 0)
                fx_alert(
                    b, TE_SEV_WARNING, "fix_execid_set_full", o,
                    "ExecID %s not remembered: a resend of it would be published again",
                    x.exec_id);
        if (o->terminal) {
                fx_alert(
                    b, TE_SEV_WARNING, "fix_report_after_end", o,
                    "ExecutionReport %s (ExecType %c) after the order ended: ignored",
                    x.exec_id, x.exec_type);
                return;
        }
        if (!r.account[0])
                te_strlcpy(r.account, b->cfg.account, sizeof r.account);
        if (x.exec_type == 'F') {
                b->st.fills++;
                o->cum = x.cum_qty;
                o->value = x.cum_qty * x.avg_px;
        }
        if (x.exec_type == '5' && o->repl_pending) {
                o->cmd.quantity = o->repl.quantity;
                o->cmd.has_limit_price = o->repl.has_limit_price;
                o->cmd.limit_price = o->repl.limit_price;
                o->cmd.has_stop_price = o->repl.has_stop_price;
                o->cmd.stop_price = o->repl.stop_price;
                o->repl_pending = 0;
                te_strlcpy(o->live_clordid, x.clordid, sizeof o->live_clordid);
                te_broker_report_from_cmd(&r, &o->cmd, b->cfg.broker_name);
                r.event_time = te_proc_wall_ms();
        }
        o->status = r.order_status;
        if (te_os_is_terminal(r.order_status)) {
                o->terminal = 1;
                fx_mark_ended(b, o);
        }
        if (x.exec_type == '4')
                o->cancel_pending = 0;
        fx_dirty(b, o);
        te_exec_report_t *slot = te_reports_push(out);
        if (slot)
                *slot = r;
        if (b->store && fresh == 1) {
                if (b->cap_xpend < FIX_XPEND_MAX) /* else a full array drops it */
                        (void)te_grow((void **)&b->xpend, &b->cap_xpend, b->n_xpend + 1,
                                      sizeof *b->xpend, 64);
                if (b->n_xpend < b->cap_xpend) {
                        te_strlcpy(b->xpend[b->n_xpend][0], x.order_id, TE_ID_MAX);
                        te_strlcpy(b->xpend[b->n_xpend][1], x.exec_id, TE_ID_MAX);
                        b->n_xpend++;
                }
        }
}

/* An ExecutionReport: one answering our OrderMassStatusRequest (its MassStatusReqID)
 * is a status like any other; the one flagged last ends the answer. */
static void fx_on_exec(fix_t *b, te_reports_t *out)
{
        char mid[TE_FIX_MASSID_MAX];
        int mass =
            b->mass_pending &&
            te_fix_get_str(&b->msg, TE_FIX_T_MASSSTATUSREQID, mid, sizeof mid) == 0 &&
            strcmp(mid, b->mass_id) == 0;
        int last = mass && te_fix_get_bool(&b->msg, TE_FIX_T_LASTRPTREQUESTED) == 1;
        if (mass)
                b->st.mass_answers++;
        on_exec(b, mass, out);
        if (last)
                fx_mass_done(b);
}

/* The order's status while it works (no request of ours pending). */
te_order_status_t fx_live_status(const forder_t *o)
{
        return o->cum > 1e-9 ? TE_OS_PARTIALLY_FILLED : TE_OS_NEW;
}

/* A CANCEL or REPLACE of a working order was refused and the order keeps its terms: a
 * REJECTED report carrying its live status tells whoever waits for the answer that the
 * request is settled (as the sim and ibkr adapters answer). `n` tells the refused
 * request apart in the report id. Nothing for an order that has ended: its own final
 * report settled it. */
void fx_refused_report(fix_t *b, forder_t *o, int is_replace, int n, const char *why,
                       te_reports_t *out)
{
        o->refused_kind = 0;
        if (o->terminal)
                return;
        char n_s[16];
        snprintf(n_s, sizeof n_s, "%d", n);
        te_exec_report_t *r = fx_report(
            b, &o->cmd, is_replace ? "replace_refused" : "cancel_refused", n_s, out);
        if (!r)
                return;
        r->exec_type = TE_EXEC_REJECTED;
        r->order_status = fx_live_status(o);
        r->cum_qty = o->cum;
        r->avg_price = o->cum > 0 ? o->value / o->cum : 0;
        r->leaves_qty = o->cmd.quantity - o->cum > 0 ? o->cmd.quantity - o->cum : 0;
        r->event_time = te_proc_wall_ms();
        te_errf(r->reason, sizeof r->reason, "%s refused: %s",
                is_replace ? "replace" : "cancel", why);
        o->status = r->order_status;
        fx_dirty(b, o);
}

/* An OrderCancelReject (35=9). The order working on (OrdStatus live): REJECTED with
 * its live status. The counterparty saying the order is unknown (CxlRejReason 1) or
 * done (OrdStatus filled, canceled, rejected, expired, done for day) while it is open
 * for us: what is final is asked with an OrderStatusRequest (35=H), whose answer books
 * a fill we missed and ends the order (FILLED, CANCELED, EXPIRED; an order unknown to
 * the counterparty ends CANCELED, as at reconciliation) or, if it still works, gives
 * the REJECTED with its live status. */
void fx_on_cancel_reject(fix_t *b, te_reports_t *out)
{
        te_fix_cxl_rej_t c;
        char err[256], text[512];
        if (te_fix_app_dec_cancel_reject(&b->msg, &c, err, sizeof err) != 0) {
                fx_alert(b, TE_SEV_WARNING, "fix_bad_report", NULL, "%s", err);
                return;
        }
        forder_t *o = fx_find(b, c.order_id);
        if (o) {
                if (c.is_replace)
                        o->repl_pending = 0;
                else
                        o->cancel_pending = 0;
        }
        te_fix_app_cancel_reject_text(&c, text, sizeof text);
        fx_alert(b, TE_SEV_WARNING, c.is_replace ? "replace_refused" : "cancel_refused",
                 o, "%s", text);
        if (!o || o->terminal)
                return;
        int done = c.reason == 1 || c.ord_status == '2' || c.ord_status == '3' ||
                   c.ord_status == '4' || c.ord_status == '8' || c.ord_status == 'C';
        if (done &&
            te_fix_reqq_push(b->reqq, TE_FIX_Q_STATUS, o->cmd.order_id, 'H') == 0) {
                o->refused_kind = c.is_replace ? 2 : 1;
                te_strlcpy(o->refused_why, text, sizeof o->refused_why);
                fx_release(b, te_proc_wall_ms());
                return;
        }
        fx_refused_report(b, o, c.is_replace, c.is_replace ? o->n_replace : o->n_cancel,
                          text, out);
}

/* The counterparty refused one of our messages (session Reject 35=3 or
 * BusinessMessageReject 35=j naming its MsgSeqNum). A refused CANCEL or REPLACE
 * leaves the order as it was: REJECTED with its live status. */
void fx_on_refused(fix_t *b, int64_t seq, const char *text, te_reports_t *out)
{
        const te_fix_req_t *sr = te_fix_reqq_by_seq(b->reqq, seq);
        if (sr && sr->kind == 'A') {
                char why[TE_TEXT_MAX];
                te_errf(why, sizeof why, "refused by the counterparty: %s", text);
                fx_mass_refused(b, why);
                return;
        }
        forder_t *o = sr ? fx_find(b, sr->order_id) : NULL;
        if (!o)
                return; /* not an order message, or too old to know */
        char why[TE_TEXT_MAX];
        te_errf(why, sizeof why, "refused by the counterparty: %s", text);
        switch (sr->kind) {
        case 'D':
                b->st.rejects++;
                fx_end_order(b, o, TE_EXEC_REJECTED, TE_OS_REJECTED, why, out);
                break;
        case 'F':
                o->cancel_pending = 0;
                fx_alert(b, TE_SEV_WARNING, "cancel_refused", o, "cancel %s", why);
                fx_refused_report(b, o, 0, o->n_cancel, why, out);
                break;
        case 'G':
                o->repl_pending = 0;
                fx_alert(b, TE_SEV_WARNING, "replace_refused", o, "replace %s", why);
                fx_refused_report(b, o, 1, o->n_replace, why, out);
                break;
        default:
                /* a status request asked after a refused CANCEL/REPLACE: the order
                 * stays as we know it */
                if (o->refused_kind)
                        fx_refused_report(b, o, o->refused_kind == 2,
                                          o->refused_kind == 2 ? o->n_replace
                                                               : o->n_cancel,
                                          o->refused_why, out);
                fx_recon_done(b, 0); /* it does not answer status requests */
        }
}

void fx_on_app(fix_t *b, te_reports_t *out)
{
        const char *t = b->msg.msg_type;
        if (strcmp(t, "8") == 0) {
                fx_on_exec(b, out);
        } else if (strcmp(t, "9") == 0) {
                fx_on_cancel_reject(b, out);
        } else if (strcmp(t, "j") == 0) {
                char text[256] = "", ref[8] = "";
                int64_t seq = 0;
                (void)te_fix_get_str(&b->msg, TE_FIX_T_TEXT, text, sizeof text);
                (void)te_fix_get_str(&b->msg, TE_FIX_T_REFMSGTYPE, ref, sizeof ref);
                fx_alert(b, TE_SEV_WARNING, "fix_business_reject", NULL,
                         "counterparty refused a 35=%s message: %s", ref, text);
                if (te_fix_get_int(&b->msg, TE_FIX_T_REFSEQNUM, &seq) == 0 && seq > 0)
                        fx_on_refused(b, seq, text[0] ? text : "business reject", out);
        } else {
                TE_LOG(TE_LOG_DEBUG, NULL, "fix.ignored", "message type %s ignored", t);
        }
}

/* ---- ended orders ----------------------------------------------------------- */

static char ended_mark;

forder_t *fx_find(fix_t *b, const char *order_id)
{
        return te_map_get(b->orders, order_id);
}

int fx_ended(fix_t *b, const char *order_id)
{
        return te_map_get(b->ended, order_id) != NULL;
}

int fx_remember_ended(fix_t *b, const char *order_id)
{
        if (te_map_count(b->ended) >= FIX_ENDED_MAX)
                return 0;
        return te_map_put(b->ended, order_id, &ended_mark) == 0 ? 0 : -1;
}

void fx_mark_ended(fix_t *b, forder_t *o)
{
        if (o->end_queued)
                return;
        if (te_grow((void **)&b->endv, &b->cap_endv, b->n_endv + 1, sizeof *b->endv,
                    16) != 0)
                return; /* kept in memory; nothing is lost */
        b->endv[b->n_endv++] = o;
        o->end_queued = 1;
}

void fx_sweep(fix_t *b)
{
        size_t keep = 0;
        for (size_t i = 0; i < b->n_endv; i++) {
                forder_t *o = b->endv[i];
                if (o->dirty) { /* its final row is not saved yet */
                        b->endv[keep++] = o;
                        continue;
                }
                (void)fx_remember_ended(b, o->cmd.order_id);
                te_map_del(b->orders, o->cmd.order_id);
                free(o);
        }
        b->n_endv = keep;
}

void fx_unknown_report(fix_t *b, const te_order_cmd_t *cmd, const char *what,
                       te_reports_t *out)
{
        fx_alert(b, TE_SEV_WARNING,
                 strcmp(what, "cancel") ? "replace_refused" : "cancel_refused", NULL,
                 "%s of order %s refused: unknown order", what, cmd->order_id);
        te_exec_report_t *r = fx_report(b, cmd, "unknown", what, out);
        if (!r)
                return;
        r->exec_type = TE_EXEC_REJECTED;
        r->order_status = TE_OS_REJECTED;
        r->last_qty = r->cum_qty = r->leaves_qty = 0;
        r->event_time = te_proc_wall_ms();
        te_errf(r->reason, sizeof r->reason, "%s refused: unknown order", what);
}
