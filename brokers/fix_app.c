/*
 * fix_app: our orders as FIX 4.4 (or 4.2) application messages and FIX execution reports
 * as our reports (see fix_app.h for the field lists and the mapping table).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "broker.h"
#include "fix_app.h"
#include "te_buf.h"
#include "te_ids.h"
#include "te_map.h"
#include "te_order_state.h"

int te_fix_clordid(char *out, size_t outsz, const char *order_id, char kind, int k)
{
        int n;
        if (!order_id[0] || strchr(order_id, ':'))
                return -1;
        if (kind == 'n')
                n = snprintf(out, outsz, "%s", order_id);
        else if ((kind == 'c' || kind == 'r') && k >= 1)
                n = snprintf(out, outsz, "%s:%c%d", order_id, kind, k);
        else
                return -1;
        return n < 0 || (size_t)n >= outsz ? -1 : 0;
}

int te_fix_clordid_order(const char *clordid, char *order_id, size_t outsz)
{
        const char *colon = strchr(clordid, ':');
        size_t n = colon ? (size_t)(colon - clordid) : strlen(clordid);
        if (colon) {
                const char *k = colon + 2;
                if ((colon[1] != 'c' && colon[1] != 'r') || *k < '1' || *k > '9' ||
                    strspn(k, "0123456789") != strlen(k) || strlen(k) > 9)
                        return -1;
        }
        if (n == 0 || n >= outsz)
                return -1;
        memcpy(order_id, clordid, n);
        order_id[n] = '\0';
        return 0;
}

/* ---- out ------------------------------------------------------------------ */

static const char *const side_fix[TE_SIDE__CNT] = {"1", "2"};
static const char *const type_fix[TE_OT__CNT] = {"1", "2", "3", "4"};
static const char *const tif_fix[TE_TIF__CNT] = {"0", "1", "3", "4", "2", "7"};

static int has_limit(te_order_type_t t)
{
        return t == TE_OT_LIMIT || t == TE_OT_STOP_LIMIT;
}

static int has_stop(te_order_type_t t)
{
        return t == TE_OT_STOP || t == TE_OT_STOP_LIMIT;
}

static int positive(double v)
{
        return isfinite(v) && v > 0;
}

/* The order terms D and G share: 1, 21, 55, 54, 60, 38, 40, 44, 99, 59. */
static int enc_terms(te_fix_enc_t *e, const te_fix_app_cfg_t *cfg,
                     const te_order_cmd_t *c, double qty, int64_t now_ms, char *errstr,
                     size_t errsz)
{
        if ((unsigned)c->order_type >= TE_OT__CNT || (unsigned)c->tif >= TE_TIF__CNT ||
            (unsigned)c->side >= TE_SIDE__CNT) {
                te_errf(errstr, errsz, "order type, TIF or side out of range");
                return -1;
        }
        if (!(cfg->order_types & (1u << c->order_type))) {
                te_errf(errstr, errsz, "order type %s not allowed on this session",
                        te_order_type_name(c->order_type));
                return -1;
        }
        if (!(cfg->tifs & (1u << c->tif)) || (cfg->fix42 && c->tif == TE_TIF_CLS)) {
                te_errf(errstr, errsz, "TIF %s not allowed on this session",
                        te_tif_name(c->tif));
                return -1;
        }
        if (!positive(qty)) {
                te_errf(errstr, errsz, "quantity must be positive");
                return -1;
        }
        if (has_limit(c->order_type) &&
            !(c->has_limit_price && positive(c->limit_price))) {
                te_errf(errstr, errsz, "%s needs a positive limit price",
                        te_order_type_name(c->order_type));
                return -1;
        }
        if (has_stop(c->order_type) && !(c->has_stop_price && positive(c->stop_price))) {
                te_errf(errstr, errsz, "%s needs a positive stop price",
                        te_order_type_name(c->order_type));
                return -1;
        }
        if (!c->ticker[0]) {
                te_errf(errstr, errsz, "ticker missing");
                return -1;
        }
        if (cfg->account[0])
                te_fix_enc_str(e, TE_FIX_T_ACCOUNT, cfg->account);
        te_fix_enc_str(e, TE_FIX_T_HANDLINST, "1");
        te_fix_enc_str(e, TE_FIX_T_SYMBOL, c->ticker);
        te_fix_enc_str(e, TE_FIX_T_SIDE, side_fix[c->side]);
        te_fix_enc_time(e, TE_FIX_T_TRANSACTTIME, now_ms);
        te_fix_enc_num(e, TE_FIX_T_ORDERQTY, qty);
        te_fix_enc_str(e, TE_FIX_T_ORDTYPE, type_fix[c->order_type]);
        if (has_limit(c->order_type))
                te_fix_enc_num(e, TE_FIX_T_PRICE, c->limit_price);
        if (has_stop(c->order_type))
                te_fix_enc_num(e, TE_FIX_T_STOPPX, c->stop_price);
        te_fix_enc_str(e, TE_FIX_T_TIMEINFORCE, tif_fix[c->tif]);
        return 0;
}

int te_fix_app_enc_new(te_fix_enc_t *e, const te_fix_app_cfg_t *cfg,
                       const te_order_cmd_t *cmd, int64_t now_ms, char *errstr,
                       size_t errsz)
{
        char id[TE_FIX_CLORDID_MAX];
        if (te_fix_clordid(id, sizeof id, cmd->order_id, 'n', 0) != 0) {
                te_errf(errstr, errsz, "order id unusable as ClOrdID");
                return -1;
        }
        te_fix_enc_str(e, TE_FIX_T_CLORDID, id);
        return enc_terms(e, cfg, cmd, cmd->quantity, now_ms, errstr, errsz);
}

int te_fix_app_enc_cancel(te_fix_enc_t *e, const te_order_cmd_t *order,
                          const char *orig_clordid, const char *clordid, int64_t now_ms)
{
        if ((unsigned)order->side >= TE_SIDE__CNT || !positive(order->quantity))
                return -1;
        te_fix_enc_str(e, TE_FIX_T_ORIGCLORDID, orig_clordid);
        te_fix_enc_str(e, TE_FIX_T_CLORDID, clordid);
        te_fix_enc_str(e, TE_FIX_T_SYMBOL, order->ticker);
        te_fix_enc_str(e, TE_FIX_T_SIDE, side_fix[order->side]);
        te_fix_enc_time(e, TE_FIX_T_TRANSACTTIME, now_ms);
        te_fix_enc_num(e, TE_FIX_T_ORDERQTY, order->quantity);
        return 0;
}

int te_fix_app_enc_replace(te_fix_enc_t *e, const te_fix_app_cfg_t *cfg,
                           const te_order_cmd_t *order, const te_order_cmd_t *repl,
                           const char *orig_clordid, const char *clordid, int64_t now_ms,
                           char *errstr, size_t errsz)
{
        if (repl->side != order->side || repl->order_type != order->order_type ||
            repl->tif != order->tif || strcmp(repl->ticker, order->ticker) != 0) {
                te_errf(errstr, errsz, "a replace may change quantity and prices only");
                return -1;
        }
        te_order_cmd_t t = *order;
        t.has_limit_price = repl->has_limit_price;
        t.limit_price = repl->limit_price;
        t.has_stop_price = repl->has_stop_price;
        t.stop_price = repl->stop_price;
        te_fix_enc_str(e, TE_FIX_T_ORIGCLORDID, orig_clordid);
        te_fix_enc_str(e, TE_FIX_T_CLORDID, clordid);
        return enc_terms(e, cfg, &t, repl->quantity, now_ms, errstr, errsz);
}

int te_fix_app_enc_status(te_fix_enc_t *e, const te_order_cmd_t *order,
                          const char *clordid)
{
        if ((unsigned)order->side >= TE_SIDE__CNT)
                return -1;
        te_fix_enc_str(e, TE_FIX_T_CLORDID, clordid);
        te_fix_enc_str(e, TE_FIX_T_SYMBOL, order->ticker);
        te_fix_enc_str(e, TE_FIX_T_SIDE, side_fix[order->side]);
        return 0;
}

int te_fix_app_enc_mass_status(te_fix_enc_t *e, const char *mass_id, const char *account)
{
        if (!mass_id[0] || strlen(mass_id) >= TE_FIX_MASSID_MAX)
                return -1;
        te_fix_enc_str(e, TE_FIX_T_MASSSTATUSREQID, mass_id);
        te_fix_enc_int(e, TE_FIX_T_MASSSTATUSREQTYPE, account[0] ? 9 : 7);
        if (account[0])
                te_fix_enc_str(e, TE_FIX_T_ACCOUNT, account);
        return 0;
}

/* ---- in ------------------------------------------------------------------- */

static int get_char(const te_fix_msg_t *m, int tag, char *c)
{
        size_t n;
        const char *v = te_fix_get(m, tag, &n);
        if (!v || n != 1)
                return -1;
        *c = v[0];
        return 0;
}

static int get_qty(const te_fix_msg_t *m, int tag, double *v, int required)
{
        int rc = te_fix_get_num(m, tag, v);
        if (rc == -1 && !required) {
                *v = 0;
                return 0;
        }
        return rc == 0 && isfinite(*v) && *v >= 0 ? 0 : -1;
}

/* The ExecType of FIX 4.4 for what the report says: a FIX 4.2 ExecTransType of Status
 * is 4.4's OrderStatus (I), Cancel and Correct its TradeCancel (H) and TradeCorrect
 * (G); a 4.2 Partial fill (1) or Fill (2) its Trade (F). A 4.4 report is as it came. */
static char exec_type_44(const te_fix_exec_t *x)
{
        switch (x->exec_trans_type) {
        case '3':
                return 'I';
        case '1':
                return 'H';
        case '2':
                return 'G';
        case '0':
                return x->exec_type == '1' || x->exec_type == '2' ? 'F' : x->exec_type;
        default:
                return x->exec_type;
        }
}

int te_fix_app_dec_exec(const te_fix_msg_t *m, te_fix_exec_t *x, char *errstr,
                        size_t errsz)
{
        memset(x, 0, sizeof *x);
        int fix42 = m->begin && strcmp(m->begin, TE_FIX_BEGIN42) == 0;
        char side;
        size_t lpx_len;
        const char *bad = NULL;
        if (te_fix_get_str(m, TE_FIX_T_CLORDID, x->clordid, sizeof x->clordid) != 0)
                bad = "ClOrdID (11)";
        else if (te_fix_clordid_order(x->clordid, x->order_id, sizeof x->order_id) != 0)
                bad = "ClOrdID (11) not one of ours";
        else if (te_fix_get_str(m, TE_FIX_T_ORIGCLORDID, x->orig_clordid,
                                sizeof x->orig_clordid) == -2)
                bad = "OrigClOrdID (41)";
        else if (te_fix_get_str(m, TE_FIX_T_ORDERID, x->broker_order_id,
                                sizeof x->broker_order_id) != 0)
                bad = "OrderID (37)";
        else if (te_fix_get_str(m, TE_FIX_T_EXECID, x->exec_id, sizeof x->exec_id) != 0)
                bad = "ExecID (17)";
        else if (get_char(m, TE_FIX_T_EXECTYPE, &x->exec_type) != 0)
                bad = "ExecType (150)";
        else if (fix42 &&
                 (get_char(m, TE_FIX_T_EXECTRANSTYPE, &x->exec_trans_type) != 0 ||
                  !strchr("0123", x->exec_trans_type)))
                bad = "ExecTransType (20)";
        else if (get_char(m, TE_FIX_T_ORDSTATUS, &x->ord_status) != 0 ||
                 te_fix_app_ord_status(x->ord_status, 0) < 0)
                bad = "OrdStatus (39)";
        else if (get_char(m, TE_FIX_T_SIDE, &side) != 0 || (side != '1' && side != '2'))
                bad = "Side (54)";
        else if (te_fix_get_str(m, TE_FIX_T_SYMBOL, x->symbol, sizeof x->symbol) != 0)
                bad = "Symbol (55)";
        else if (get_qty(m, TE_FIX_T_CUMQTY, &x->cum_qty, 1) != 0)
                bad = "CumQty (14)";
        else if (get_qty(m, TE_FIX_T_LEAVESQTY, &x->leaves_qty, 1) != 0)
                bad = "LeavesQty (151)";
        else if (get_qty(m, TE_FIX_T_AVGPX, &x->avg_px, 1) != 0)
                bad = "AvgPx (6)";
        else if (get_qty(m, TE_FIX_T_LASTQTY, &x->last_qty, 0) != 0)
                bad = "LastQty (32)";
        else if (get_qty(m, TE_FIX_T_LASTPX, &x->last_px, 0) != 0)
                bad = "LastPx (31)";
        else if (fix42 && x->exec_type == 'F')
                bad = "ExecType (150) of FIX 4.2";
        else if ((x->exec_type = exec_type_44(x)) == 'F' &&
                 (!(x->last_qty > 0) || te_fix_get(m, TE_FIX_T_LASTPX, &lpx_len) == NULL))
                bad = "LastQty (32) and LastPx (31) of a Trade";
        if (bad) {
                te_errf(errstr, errsz, "ExecutionReport: %s missing or invalid", bad);
                return -1;
        }
        x->side = side == '1' ? TE_SIDE_BUY : TE_SIDE_SELL;
        if (te_fix_get_str(m, TE_FIX_T_ACCOUNT, x->account, sizeof x->account) != 0)
                x->account[0] = '\0';
        size_t tl;
        const char *t = te_fix_get(m, TE_FIX_T_TEXT, &tl);
        if (t) {
                if (tl >= sizeof x->text)
                        tl = sizeof x->text - 1; /* free text: cut, not refused */
                memcpy(x->text, t, tl);
                x->text[tl] = '\0';
        }
        x->poss_dup = te_fix_get_bool(m, TE_FIX_T_POSSDUPFLAG) == 1;
        if (te_fix_get_str(m, TE_FIX_T_MASSSTATUSREQID, x->mass_id, sizeof x->mass_id) !=
            0)
                x->mass_id[0] = '\0';
        x->last_rpt = te_fix_get_bool(m, TE_FIX_T_LASTRPTREQUESTED) == 1;
        int64_t tot;
        x->tot_reports = te_fix_get_int(m, TE_FIX_T_TOTNUMREPORTS, &tot) == 0 && tot >= 0
                             ? (int)tot
                             : -1;
        return 0;
}

int te_fix_app_ord_status(char s, double cum_qty)
{
        te_order_status_t live = cum_qty > 0 ? TE_OS_PARTIALLY_FILLED : TE_OS_NEW;
        switch (s) {
        case '0':
                return TE_OS_NEW;
        case '1':
                return TE_OS_PARTIALLY_FILLED;
        case '2':
                return TE_OS_FILLED;
        case '3': /* DoneForDay: will not trade on */
        case 'C':
                return TE_OS_EXPIRED;
        case '4':
                return TE_OS_CANCELED;
        case '6':
                return TE_OS_PENDING_CANCEL;
        case '8':
                return TE_OS_REJECTED;
        case 'A':
                return TE_OS_PENDING_NEW;
        case 'E':
                return TE_OS_PENDING_REPLACE;
        case '5': /* Replaced (no longer used in 4.4), Stopped, Suspended, Calculated,
                     AcceptedForBidding: the order is live */
        case '7':
        case '9':
        case 'B':
        case 'D':
                return (int)live;
        default:
                return -1;
        }
}

te_fix_map_t te_fix_app_map_exec(const te_fix_exec_t *x, const te_order_cmd_t *order,
                                 const char *broker, int64_t now_ms, te_exec_report_t *r,
                                 char *why, size_t whysz)
{
        memset(r, 0, sizeof *r);
        te_broker_report_from_cmd(r, order, broker);
        r->event_time = now_ms;
        const char *parts[] = {"fix", order->order_id, x->exec_id};
        r->report_id[0] = 'r';
        te_id_digest(r->report_id + 1, sizeof r->report_id - 1, parts, 3);
        if (x->account[0])
                te_strlcpy(r->account, x->account, sizeof r->account);
        te_strlcpy(r->reason, x->text, sizeof r->reason);
        r->cum_qty = x->cum_qty;
        r->leaves_qty = x->leaves_qty;
        r->avg_price = x->avg_px;
        int st = te_fix_app_ord_status(x->ord_status, x->cum_qty);
        r->order_status = (te_order_status_t)(st < 0 ? TE_OS_NEW : st);
        switch (x->exec_type) {
        case '0':
        case 'A':
        case '6':
        case 'E':
        case 'D':
                r->exec_type = TE_EXEC_ACK;
                break;
        case 'F':
                r->exec_type = x->ord_status == '2' ? TE_EXEC_FILL : TE_EXEC_PARTIAL_FILL;
                r->last_qty = x->last_qty;
                r->last_price = x->last_px;
                break;
        case '4':
                r->exec_type = TE_EXEC_CANCELED;
                r->order_status = TE_OS_CANCELED;
                break;
        case '5':
                r->exec_type = TE_EXEC_REPLACED;
                if (te_os_is_terminal(r->order_status) && r->order_status != TE_OS_FILLED)
                        r->order_status =
                            x->cum_qty > 0 ? TE_OS_PARTIALLY_FILLED : TE_OS_NEW;
                break;
        case '8':
                r->exec_type = TE_EXEC_REJECTED;
                r->order_status = TE_OS_REJECTED;
                break;
        case 'C':
                r->exec_type = TE_EXEC_EXPIRED;
                r->order_status = TE_OS_EXPIRED;
                break;
        case '3':
                r->exec_type = TE_EXEC_EXPIRED;
                r->order_status = TE_OS_EXPIRED;
                if (!r->reason[0])
                        te_strlcpy(r->reason, "done for day", sizeof r->reason);
                break;
        case 'I':
                return TE_FIX_MAP_STATUS;
        default:
                te_errf(why, whysz,
                        "ExecutionReport %s on order %s: ExecType %c not applied "
                        "(a trade correction or cancel needs a human)",
                        x->exec_id, order->order_id, x->exec_type);
                return TE_FIX_MAP_ALERT;
        }
        if (te_os_is_terminal(r->order_status))
                r->leaves_qty = 0;
        return TE_FIX_MAP_REPORT;
}

int te_fix_app_dec_cancel_reject(const te_fix_msg_t *m, te_fix_cxl_rej_t *c, char *errstr,
                                 size_t errsz)
{
        memset(c, 0, sizeof *c);
        char to;
        int64_t reason;
        const char *bad = NULL;
        if (te_fix_get_str(m, TE_FIX_T_CLORDID, c->clordid, sizeof c->clordid) != 0)
                bad = "ClOrdID (11)";
        else if (te_fix_get_str(m, TE_FIX_T_ORIGCLORDID, c->orig_clordid,
                                sizeof c->orig_clordid) != 0)
                bad = "OrigClOrdID (41)";
        else if (te_fix_clordid_order(c->clordid, c->order_id, sizeof c->order_id) != 0)
                bad = "ClOrdID (11) not one of ours";
        else if (get_char(m, TE_FIX_T_ORDSTATUS, &c->ord_status) != 0 ||
                 te_fix_app_ord_status(c->ord_status, 0) < 0)
                bad = "OrdStatus (39)";
        else if (get_char(m, TE_FIX_T_CXLREJRESPONSETO, &to) != 0 ||
                 (to != '1' && to != '2'))
                bad = "CxlRejResponseTo (434)";
        if (bad) {
                te_errf(errstr, errsz, "OrderCancelReject: %s missing or invalid", bad);
                return -1;
        }
        c->is_replace = to == '2';
        int rc = te_fix_get_int(m, TE_FIX_T_CXLREJREASON, &reason);
        c->reason = rc == 0 && reason < 100000 ? (int)reason : -1;
        size_t tl;
        const char *t = te_fix_get(m, TE_FIX_T_TEXT, &tl);
        if (t) {
                if (tl >= sizeof c->text)
                        tl = sizeof c->text - 1;
                memcpy(c->text, t, tl);
                c->text[tl] = '\0';
        }
        return 0;
}

void te_fix_app_cancel_reject_text(const te_fix_cxl_rej_t *c, char *out, size_t outsz)
{
        static const char *const reasons[] = {"too late to cancel", "unknown order",
                                              "broker option",
                                              "already pending cancel or replace"};
        const char *why = c->reason >= 0 && c->reason < 4 ? reasons[c->reason] : "other";
        te_errf(out, outsz, "%s of order %s refused by the counterparty: %s%s%s",
                c->is_replace ? "replace" : "cancel", c->order_id, why,
                c->text[0] ? ": " : "", c->text);
}

/* ---- ExecID set ----------------------------------------------------------- */

struct te_fix_execids_s {
        te_map_t *m;
};

te_fix_execids_t *te_fix_execids_new(void)
{
        te_fix_execids_t *s = calloc(1, sizeof *s);
        if (!s)
                return NULL;
        s->m = te_map_new();
        if (!s->m) {
                free(s);
                return NULL;
        }
        return s;
}

void te_fix_execids_destroy(te_fix_execids_t *s)
{
        if (!s)
                return;
        te_map_destroy(s->m, NULL);
        free(s);
}

int te_fix_execids_add(te_fix_execids_t *s, const char *order_id, const char *exec_id)
{
        static char present;
        char key[TE_ID_MAX + TE_FIX_EXECID_MAX + 2];
        int n = snprintf(key, sizeof key, "%s\x1f%s", order_id, exec_id);
        if (n < 0 || (size_t)n >= sizeof key)
                return -1;
        if (te_map_get(s->m, key))
                return 0;
        if (te_map_count(s->m) >= TE_FIX_EXECIDS_MAX || te_map_put(s->m, key, &present))
                return -1;
        return 1;
}
