// fidelity.js PORT: connect @stoqey/ib (an independent TWS API client) to the fake
// TWS, place two orders, wait for their fills, request the executions and then the
// open orders again, and print what the client decoded, one line per event, for
// test_ibkr_fidelity.sh to compare with what the fake logged. Exits 1 on a client
// error or after 20 s.
"use strict";
const { IBApi, EventName, OrderAction, OrderType, SecType, TimeInForce } = require("@stoqey/ib");

const port = parseInt(process.argv[2], 10);
const ib = new IBApi({ host: "127.0.0.1", port });
const out = (s) => process.stdout.write(s + "\n");
const filled = new Set();
let placed = false;
let done = false;
const timer = setTimeout(() => { out("TIMEOUT"); process.exit(1); }, 20000);

ib.on(EventName.error, (err, code, reqId) => {
  // 2100-2199 are informational; anything else is a decoding or protocol problem
  if (code >= 2100 && code < 2200) return;
  out(`ERROR code=${code} id=${reqId} ${err && err.message ? err.message : err}`);
});
ib.on(EventName.server, (v) => out(`SERVER version=${v}`));
ib.on(EventName.managedAccounts, (a) => out(`ACCOUNTS ${a}`));
ib.on(EventName.nextValidId, (id) => {
  out(`NEXTID ${id}`);
  if (placed) return;
  placed = true;
  const stk = (symbol) => ({ symbol, secType: SecType.STK, exchange: "SMART", currency: "USD" });
  ib.placeOrder(id, stk("AAA"), { action: OrderAction.BUY, orderType: OrderType.MKT,
    totalQuantity: 100, tif: TimeInForce.DAY, account: "DU111111", orderRef: "fid-1", transmit: true });
  ib.placeOrder(id + 1, stk("BBB"), { action: OrderAction.SELL, orderType: OrderType.LMT,
    lmtPrice: 20.5, totalQuantity: 50, tif: TimeInForce.GTC, account: "DU111111",
    orderRef: "fid-2", transmit: true });
});
ib.on(EventName.orderStatus, (id, status, filledQty, remaining, avgFillPrice) => {
  out(`STATUS id=${id} ${status} filled=${filledQty} remaining=${remaining} avg=${avgFillPrice}`);
  if (status === "Filled") filled.add(id);
  if (filled.size === 2 && !done) {
    done = true;
    ib.reqExecutions(7, { clientId: 3 });
  }
});
ib.on(EventName.execDetails, (reqId, contract, e) => {
  out(`EXEC req=${reqId} id=${e.orderId} exec=${e.execId} ${contract.symbol} ${e.side} ` +
      `${e.shares} @ ${e.price} acct=${e.acctNumber} ref=${e.orderRef} cum=${e.cumQty}`);
});
ib.on(EventName.openOrder, (id, contract, order, state) => {
  out(`OPEN id=${id} ref=${order.orderRef} ${order.action} ${order.totalQuantity} ` +
      `${contract.symbol} ${order.orderType} tif=${order.tif} acct=${order.account} ` +
      `lmt=${order.lmtPrice} aux=${order.auxPrice} client=${order.clientId} ` +
      `perm=${order.permId} status=${state.status}`);
});
ib.on(EventName.commissionReport, (c) => out(`COMMISSION exec=${c.execId} ${c.commission} ${c.currency}`));
ib.on(EventName.execDetailsEnd, (reqId) => {
  out(`EXECEND req=${reqId}`);
  ib.reqOpenOrders();
});
ib.on(EventName.openOrderEnd, () => {
  out("OPENEND");
  clearTimeout(timer);
  ib.disconnect();
  setTimeout(() => process.exit(0), 100);
});
ib.connect(3);
