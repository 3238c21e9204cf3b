/*
 * fake_tws_ib: the "IB" half of the scripted TWS (see fake_tws.c): orders placed,
 * modified and cancelled, executions and commissions, open orders and positions, and
 * what each scenario does over time.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fake_tws.h"

static double exec_price(const order_t *od)
{
        if (od->o.has_lmt_price && od->o.lmt_price > 0)
                return od->o.lmt_price;
        if (od->o.has_aux_price && od->o.aux_price > 0)
                return od->o.aux_price;
        return opt.price;
}

static void send_status(int idx, const char *status)
{
        order_t *od = &orders[idx];
        te_tws_order_status_t s;
        memset(&s, 0, sizeof s);
        s.order_id = od->o.order_id;
        snprintf(s.status, sizeof s.status, "%s", status);
        s.filled = od->filled;
        s.remaining = od->open ? od->o.total_qty - od->filled : 0;
        s.avg_fill_price = od->filled > 0 ? exec_price(od) : 0;
        s.perm_id = 1000000 + idx;
        s.client_id = od->client_id;
        (void)te_tws_enc_order_status(&wbuf, &s);
}

/* openOrder (the full form of the negotiated server version) for order idx. */
static void send_open_order(int idx, const char *status)
{
        te_tws_open_order_t oo;
        memset(&oo, 0, sizeof oo);
        oo.order = orders[idx].o;
        oo.client_id = orders[idx].client_id;
        oo.perm_id = 1000000 + idx;
        snprintf(oo.status, sizeof oo.status, "%s", status);
        (void)te_tws_enc_open_order(&wbuf, &oo);
}

static void schedule(int idx, int64_t due, double qty, int kind);

static void enc_commission(const exec_t *x)
{
        te_tws_commission_t c;
        memset(&c, 0, sizeof c);
        snprintf(c.exec_id, sizeof c.exec_id, "%s", x->exec_id);
        c.commission = x->commission;
        snprintf(c.currency, sizeof c.currency, "USD");
        (void)te_tws_enc_commission(&wbuf, &c);
}

/* execDetails and its commissionReport (a live one --commission-delay-ms later). */
static void enc_exec(const exec_t *x, int64_t req_id)
{
        const order_t *od = &orders[x->order_idx];
        te_tws_exec_t e;
        memset(&e, 0, sizeof e);
        e.req_id = req_id;
        e.order_id = od->o.order_id;
        e.con_id = 0;
        snprintf(e.symbol, sizeof e.symbol, "%s", od->o.symbol);
        snprintf(e.sec_type, sizeof e.sec_type, "STK");
        snprintf(e.currency, sizeof e.currency, "USD");
        snprintf(e.exec_id, sizeof e.exec_id, "%s", x->exec_id);
        snprintf(e.time, sizeof e.time, "20250102  10:00:00");
        snprintf(e.account, sizeof e.account, "%s", od->o.account);
        snprintf(e.exchange, sizeof e.exchange, "NYSE");
        snprintf(e.side, sizeof e.side, "%s",
                 strcmp(od->o.action, "BUY") ? "SLD" : "BOT");
        e.shares = x->qty;
        e.price = x->price;
        e.perm_id = 1000000 + x->order_idx;
        e.client_id = od->client_id;
        e.cum_qty = x->cum;
        e.avg_price = x->price;
        snprintf(e.order_ref, sizeof e.order_ref, "%s", od->o.order_ref);
        (void)te_tws_enc_exec_details(&wbuf, &e);
        if (req_id == -1 && opt.commission_delay_ms > 0)
                schedule((int)(x - execs), mono_ms() + opt.commission_delay_ms, 0,
                         SCHED_SEND_COMMISSION);
        else
                enc_commission(x);
}

/* Execute qty of order idx now; send it when a client is connected. */
static void execute(int idx, double qty, int send_it)
{
        order_t *od = &orders[idx];
        if (!od->open || qty <= 0 || n_execs == MAX_EXECS)
                return;
        if (qty > od->o.total_qty - od->filled)
                qty = od->o.total_qty - od->filled;
        exec_t *x = &execs[n_execs];
        x->order_idx = idx;
        /* IB exec ids are unique across sessions: make ours unique per fake process */
        snprintf(x->exec_id, sizeof x->exec_id, "%08x.%08x.01.01", (unsigned)getpid(),
                 (unsigned)(n_execs + 1));
        n_execs++;
        x->qty = qty;
        x->price = exec_price(od);
        x->commission = opt.commission;
        od->filled += qty;
        x->cum = od->filled;
        if (od->filled >= od->o.total_qty - 1e-9)
                od->open = 0;
        fprintf(stderr, "EXEC id=%lld exec=%s qty=%g price=%g ref=%s sent=%d\n",
                (long long)od->o.order_id, x->exec_id, qty, x->price, od->o.order_ref,
                send_it && cfd >= 0 && started);
        if (!send_it || cfd < 0 || !started)
                return;
        if (is("malformed") && !malformed_sent) {
                malformed_sent = 1;
                fprintf(stderr, "MALFORMED %s\n", opt.malformed);
                if (!strcmp(opt.malformed, "biglen")) {
                        (void)te_buf_append(&wbuf,
                                            "\x7f\xff\xff\xff"
                                            "11\0",
                                            7);
                } else if (!strcmp(opt.malformed, "fewfields")) {
                        (void)te_buf_append(&wbuf,
                                            "\0\0\0\x04"
                                            "3\0"
                                            "7\0",
                                            8);
                } else {
                        /* execDetails with shares "abc" */
                        size_t start = wbuf.len;
                        enc_exec(x, -1);
                        char *p = (char *)wbuf.data + start;
                        size_t len = wbuf.len - start;
                        char *q = memmem(p, len, "\0BOT\0", 5);
                        if (!q)
                                q = memmem(p, len, "\0SLD\0", 5);
                        if (q && q + 5 < p + len)
                                q[5] = 'x'; /* the shares field now starts with 'x' */
                }
                return;
        }
        enc_exec(x, -1);
        if (is("dup_exec"))
                enc_exec(x, -1);
        send_status(idx, od->open ? "Submitted" : "Filled");
        if (is("ib_lost") && n_execs == 1) {
                fprintf(stderr, "IBLOST\n");
                (void)te_tws_enc_error(&wbuf, -1, 1100,
                                       "Connectivity between IB and Trader Workstation "
                                       "has been lost.");
                schedule(idx, mono_ms() + opt.outage_ms, 0, SCHED_IB_RESTORED);
        }
}

static void schedule(int idx, int64_t due, double qty, int kind)
{
        if (n_sched == MAX_SCHED)
                return;
        sched[n_sched++] = (sched_t){due, idx, qty, kind};
}

static int find_order(int64_t id)
{
        for (int i = n_orders - 1; i >= 0; i--)
                if (orders[i].o.order_id == id)
                        return i;
        return -1;
}

/* placeOrder for an order id IB has: a modification. TWS rules: a filled order
 * cannot be modified (104), an order that is no longer working leaves its id used
 * (103), the contract, side, account and order type must stay (105); otherwise the
 * new quantity, prices and TIF apply, confirmed by openOrder and orderStatus. */
static void on_modify(int idx, const te_tws_order_t *o)
{
        order_t *od = &orders[idx];
        fprintf(stderr, "MODIFY id=%lld ref=%s qty=%g lmt=%g aux=%g tif=%s\n",
                (long long)o->order_id, o->order_ref, o->total_qty, o->lmt_price,
                o->aux_price, o->tif);
        int code = 0;
        const char *text = NULL;
        if (od->filled >= od->o.total_qty - 1e-9) {
                code = 104;
                text = "Can't modify a filled order.";
        } else if (!od->open) {
                code = 103;
                text = "Duplicate order id";
        } else if (strcmp(o->action, od->o.action) || strcmp(o->symbol, od->o.symbol) ||
                   strcmp(o->account, od->o.account) ||
                   strcmp(o->order_type, od->o.order_type)) {
                code = 105;
                text = "Order being modified does not match original order.";
        }
        if (code) {
                fprintf(stderr, "MODIFY_REFUSED id=%lld code=%d\n",
                        (long long)o->order_id, code);
                (void)te_tws_enc_error(&wbuf, o->order_id, code, text);
                return;
        }
        od->o.total_qty = o->total_qty;
        od->o.has_lmt_price = o->has_lmt_price;
        od->o.lmt_price = o->lmt_price;
        od->o.has_aux_price = o->has_aux_price;
        od->o.aux_price = o->aux_price;
        memcpy(od->o.tif, o->tif, sizeof od->o.tif);
        send_open_order(idx, "Submitted");
        send_status(idx, "Submitted");
        if (is("modify"))
                schedule(idx, mono_ms() + opt.fill_delay_ms, od->o.total_qty - od->filled,
                         SCHED_EXEC);
}

void ib_on_place(const te_tws_order_t *o)
{
        n_places++;
        fprintf(stderr, "PLACE id=%lld ref=%s %s %g %s %s tif=%s acct=%s\n",
                (long long)o->order_id, o->order_ref, o->action, o->total_qty, o->symbol,
                o->order_type, o->tif, o->account);
        int known = find_order(o->order_id);
        if (known >= 0) {
                on_modify(known, o);
                return;
        }
        if (o->order_id < next_id) {
                fprintf(stderr, "MODIFY_REFUSED id=%lld code=103\n",
                        (long long)o->order_id);
                (void)te_tws_enc_error(&wbuf, o->order_id, 103, "Duplicate order id");
                return;
        }
        next_id = o->order_id + 1;
        if (is("disconnect") && n_places == opt.drop_after) {
                /* the order is lost; everything resting fills during the outage */
                fprintf(stderr, "LOST id=%lld\n", (long long)o->order_id);
                drop_client("outage");
                for (int i = 0; i < n_orders; i++)
                        if (orders[i].open)
                                execute(i, orders[i].o.total_qty, 0);
                outage_until = mono_ms() + opt.outage_ms;
                return;
        }
        if (n_orders == MAX_ORDERS)
                return;
        int idx = n_orders++;
        order_t *od = &orders[idx];
        memset(od, 0, sizeof *od);
        od->o = *o;
        od->client_id = client_id;
        od->open = 1;
        if (is("reject")) {
                od->open = 0;
                (void)te_tws_enc_error(
                    &wbuf, o->order_id, 201,
                    "Order rejected - reason:YOUR ORDER IS NOT ACCEPTED.");
                send_status(idx, "Inactive");
                return;
        }
        send_open_order(idx, "Submitted");
        send_status(idx, "Submitted");
        int64_t now = mono_ms();
        if (is("partial")) {
                double q1 = (double)(long long)(o->total_qty * 0.3);
                schedule(idx, now + opt.fill_delay_ms, q1, 0);
                schedule(idx, now + 2 * opt.fill_delay_ms, q1, 0);
                schedule(idx, now + 3 * opt.fill_delay_ms, o->total_qty - 2 * q1, 0);
        } else if (is("cancel_race")) {
                execute(idx, (double)(long long)(o->total_qty * 0.4), 1);
        } else if (is("disconnect") && n_places < opt.drop_after) {
                /* rests */
        } else if (is("modify") && strcmp(o->order_type, "MKT") == 0) {
                /* filled at IB at once; the execution reaches the client later */
                int x = n_execs;
                execute(idx, o->total_qty, 0);
                if (x < n_execs)
                        schedule(x, now + opt.fill_delay_ms, 0, SCHED_SEND_EXEC);
        } else if (is("modify")) {
                /* rests until modified */
        } else {
                schedule(idx, now + (is("malformed") ? 0 : 0), o->total_qty, 0);
        }
}

void ib_on_cancel(int64_t id)
{
        n_cancels++;
        fprintf(stderr, "CANCEL id=%lld\n", (long long)id);
        int idx = find_order(id);
        if (idx < 0) {
                (void)te_tws_enc_error(
                    &wbuf, id, 10147, "OrderId that needs to be cancelled is not found.");
                return;
        }
        order_t *od = &orders[idx];
        if (!od->open) {
                (void)te_tws_enc_error(&wbuf, id, 10148,
                                       "OrderId that needs to be cancelled cannot be "
                                       "cancelled, state: Filled.");
                return;
        }
        if (is("cancel_race")) {
                /* 30% more fills at IB before the cancel takes effect; the status and
                 * 202 overtake its execDetails */
                double q = (double)(long long)(od->o.total_qty * 0.3);
                double keep = od->filled;
                od->filled += q;
                od->open = 0;
                send_status(idx, "Cancelled");
                (void)te_tws_enc_error(&wbuf, id, 202, "Order Canceled - reason:");
                od->filled = keep;
                od->open = 1;
                schedule(idx, mono_ms() + 50, q, SCHED_RACE_TAIL);
                return;
        }
        od->open = 0;
        od->cancelled = 1;
        send_status(idx, "Cancelled");
        (void)te_tws_enc_error(&wbuf, id, 202, "Order Canceled - reason:");
}

void ib_on_req_open_orders(void)
{
        for (int i = 0; i < n_orders; i++) {
                order_t *od = &orders[i];
                if (!od->open || od->client_id != client_id)
                        continue;
                send_open_order(i, "Submitted");
                send_status(i, "Submitted");
        }
        (void)te_tws_enc_open_order_end(&wbuf);
}

void ib_on_req_executions(int64_t req_id, int64_t filter_client)
{
        for (int i = 0; i < n_execs; i++) {
                const order_t *od = &orders[execs[i].order_idx];
                if (filter_client > 0 && od->client_id != filter_client)
                        continue;
                enc_exec(&execs[i], req_id);
        }
        (void)te_tws_enc_exec_details_end(&wbuf, req_id);
}

/* The position of every account and symbol: what the orders filled, plus the
 * --pos-adjust quantities (positions IB has and the client's books may not). */
void ib_on_req_positions(void)
{
        te_tws_position_t pos[MAX_POS_ADJ + 64];
        int n = 0;
        for (int i = 0; i < n_orders + opt.n_pos_adj; i++) {
                const char *acct = i < n_orders ? orders[i].o.account
                                                : opt.pos_adj[i - n_orders].account;
                const char *sym =
                    i < n_orders ? orders[i].o.symbol : opt.pos_adj[i - n_orders].symbol;
                double q = i < n_orders
                               ? (strcmp(orders[i].o.action, "BUY") ? -orders[i].filled
                                                                    : orders[i].filled)
                               : opt.pos_adj[i - n_orders].qty;
                int k = 0;
                while (k < n &&
                       (strcmp(pos[k].account, acct) || strcmp(pos[k].symbol, sym)))
                        k++;
                if (k == n) {
                        if (n == (int)(sizeof pos / sizeof pos[0]))
                                continue;
                        memset(&pos[n], 0, sizeof pos[n]);
                        snprintf(pos[n].account, sizeof pos[n].account, "%s", acct);
                        snprintf(pos[n].symbol, sizeof pos[n].symbol, "%s", sym);
                        snprintf(pos[n].sec_type, sizeof pos[n].sec_type, "STK");
                        snprintf(pos[n].currency, sizeof pos[n].currency, "USD");
                        pos[n].avg_cost = opt.price;
                        n++;
                }
                pos[k].position += q;
        }
        for (int k = 0; k < n; k++)
                (void)te_tws_enc_position(&wbuf, &pos[k]);
        (void)te_tws_enc_position_end(&wbuf);
}

void ib_run_sched(void)
{
        int64_t now = mono_ms();
        for (int i = 0; i < n_sched;) {
                if (sched[i].due > now) {
                        i++;
                        continue;
                }
                sched_t s = sched[i];
                sched[i] = sched[--n_sched];
                if (s.kind == SCHED_SEND_COMMISSION) {
                        if (cfd < 0 || !started)
                                continue;
                        fprintf(stderr, "COMMISSION exec=%s\n",
                                execs[s.order_idx].exec_id);
                        enc_commission(&execs[s.order_idx]);
                } else if (s.kind == SCHED_SEND_EXEC) {
                        /* modify: the execution in flight reaches the client */
                        const exec_t *x = &execs[s.order_idx];
                        if (cfd < 0 || !started)
                                continue;
                        fprintf(stderr, "EXECSENT exec=%s\n", x->exec_id);
                        enc_exec(x, -1);
                        send_status((int)x->order_idx, "Filled");
                } else if (s.kind == SCHED_IB_RESTORED) {
                        fprintf(stderr, "IBRESTORED\n");
                        (void)te_tws_enc_error(&wbuf, -1, 1102,
                                               "Connectivity between IB and Trader "
                                               "Workstation has been restored - data "
                                               "maintained.");
                } else if (s.kind == SCHED_RACE_TAIL) {
                        /* cancel race tail: the late execution, then the order ends */
                        execute(s.order_idx, s.qty, 1);
                        orders[s.order_idx].open = 0;
                        orders[s.order_idx].cancelled = 1;
                } else {
                        execute(s.order_idx, s.qty, 1);
                }
        }
}
