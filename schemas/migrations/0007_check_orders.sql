-- 0007_check_orders: three more views `exec-dbtool check` requires to be empty: what a
-- run that lost trades or forgot orders leaves behind. Every statement is idempotent.
--
-- Open means a status other than FILLED, CANCELED, EXPIRED, REJECTED and REPLACED (the
-- sink's terminal statuses).

-- Fills beyond an order's quantity. The quantity is what the broker acknowledged: the
-- largest cum_qty + leaves_qty of the order's ACK and REPLACED reports (a REPLACE may
-- raise it). Orders without such a report have nothing to compare with and are left
-- out, and so are orders the sink flagged with illegal transitions (a fill after
-- FILLED: orders.illegal_transitions, as in exactly_once_check). Rows: the order, its
-- quantity, what its trades add up to.
CREATE OR REPLACE VIEW order_overfill_check AS
WITH q AS (
    SELECT order_id, max(cum_qty + leaves_qty) AS quantity
    FROM order_events
    WHERE exec_type IN ('ACK', 'REPLACED')
    GROUP BY order_id),
f AS (
    SELECT order_id, sum(size) AS filled
    FROM trades
    GROUP BY order_id)
SELECT q.order_id, q.quantity, f.filled
FROM q
JOIN f ON f.order_id = q.order_id
JOIN orders o ON o.order_id = q.order_id
WHERE o.illegal_transitions = 0 AND f.filled > q.quantity * (1 + 1e-9) + 1e-9;

-- Orders open in the DB that their broker no longer works on.
--   unknown_to_broker: an open PRODUCTION order that the IB adapter's own table
--     (ibkr_orders, written before each order leaves) lists as finished or does not
--     list at all, while that table is in use. Only the IB adapter keeps such a record.
--   stale_training_order: an open TRAINING order with no report over more than
--     7 days of its portfolio's event time, while that portfolio had reports. The
--     simulator evaluates every open order at each CLOCK of its portfolio: a DAY, IOC,
--     FOK, OPG or CLS order has ended by then (expired at the latest), and a marketable
--     GTC order fills on every bar with volume. So this is an order the simulator lost
--     (what a broker restart that forgot its book left), or a ticker without bars for a
--     week (halted), or a GTC limit order far from the market for a week; the DB does
--     not record an order's TIF or type, so it cannot tell these apart.
CREATE OR REPLACE VIEW open_order_check AS
WITH open_orders AS (
    SELECT *
    FROM orders
    WHERE status NOT IN ('FILLED', 'CANCELED', 'EXPIRED', 'REJECTED', 'REPLACED')),
clock AS (
    SELECT portfolio_id, max(event_time) AS latest
    FROM order_events
    WHERE mode = 'TRAINING'
    GROUP BY portfolio_id)
SELECT 'unknown_to_broker' AS problem, o.order_id, o.portfolio_id, o.status, o.cum_qty,
       o.last_event_time, NULL::timestamptz AS portfolio_latest
FROM open_orders o
LEFT JOIN ibkr_orders i ON i.order_id = o.order_id
WHERE o.mode = 'PRODUCTION'
  AND EXISTS (SELECT 1 FROM ibkr_orders)
  AND (i.order_id IS NULL OR i.terminal)
UNION ALL
SELECT 'stale_training_order', o.order_id, o.portfolio_id, o.status, o.cum_qty,
       o.last_event_time, c.latest
FROM open_orders o
JOIN clock c ON c.portfolio_id = o.portfolio_id
WHERE o.mode = 'TRAINING'
  AND o.last_event_time < c.latest - interval '7 days';

-- Portfolios the planner cannot plan any more. The DB holds neither the targets nor
-- the dead letters (those are on exec.targets and exec.deadletter), so "every target
-- dead-lettered since a given one" cannot be seen here; what can: a portfolio whose
-- last planned as_of (planner_portfolios) lies more than a day after the wall clock. A
-- target from the future poisons its portfolio: every later, true target is older and
-- is dead-lettered as as_of_backwards.
CREATE OR REPLACE VIEW planner_portfolio_check AS
SELECT consumer_group, portfolio_id, last_decision_id,
       to_timestamp(last_as_of / 1000.0) AS last_as_of
FROM planner_portfolios
WHERE last_as_of > (extract(epoch FROM now()) * 1000)::bigint + 86400000;
