-- 0004_exactly_once: the sink's set-based apply path and the checks behind invariants 2
-- and 4. Idempotent like every migration (CREATE OR REPLACE, IF NOT EXISTS).
--
-- The sink COPYs a batch of reports into the session's temp table te_stage (created by
-- te_stage_open()), then calls te_apply_stage() once, then stores its offsets and
-- commits: one transaction per batch. te_apply_stage() has the semantics of calling
-- te_apply_report() (migration 0001) for every staged row in `seq` order:
--   - control reports (CLOCK_ACK, BROKER_STATE) change nothing;
--   - a report_id already in order_events changes nothing (idempotent replays);
--   - every other report is appended to order_events; unknown_order is set when the
--     orders table has no row for its order and it is not an ACK;
--   - the orders row takes status, leaves and reason from the last applied report,
--     cum_qty is the maximum, commission the sum, avg_price the last non-zero one;
--     once an order is in a terminal state, later reports are kept in order_events
--     but only counted in orders.illegal_transitions;
--   - fills become trades (idempotent on trade_id = report_id) and move positions
--     (average cost, realized P&L, folded in report order by te_pos_fold) and cash.

-- The order in which the sink applied reports (position_cost_check replays fills in
-- it; Kafka offsets alone do not give it when one portfolio's reports span partitions).
CREATE SEQUENCE IF NOT EXISTS te_apply_seq;
ALTER TABLE order_events ADD COLUMN IF NOT EXISTS apply_seq bigint;

-- One step of a position: state {quantity, avg_cost, realized} and a signed fill of d
-- shares at price p. Opening or increasing moves the weighted average cost; reducing
-- realizes (p - avg) per closed share; crossing zero opens the rest at p. With
-- p_init not NULL the row is the starting state (quantity d, average cost p_init).
CREATE OR REPLACE FUNCTION te_pos_step(s numeric[], d numeric, p numeric, p_init numeric)
RETURNS numeric[] LANGUAGE plpgsql IMMUTABLE AS $$
DECLARE
    q numeric := s[1];
    nq numeric;
BEGIN
    IF p_init IS NOT NULL THEN
        RETURN ARRAY[d, p_init, 0::numeric];
    END IF;
    nq := q + d;
    IF q = 0 OR sign(q) = sign(d) THEN
        RETURN ARRAY[nq, (abs(q) * s[2] + abs(d) * p) / abs(nq), s[3]];
    END IF;
    RETURN ARRAY[nq,
                 CASE WHEN nq = 0 THEN 0::numeric
                      WHEN sign(nq) <> sign(q) THEN p
                      ELSE s[2] END,
                 s[3] + least(abs(q), abs(d)) * (p - s[2]) * sign(q)];
END $$;

CREATE OR REPLACE AGGREGATE te_pos_fold(numeric, numeric, numeric) (
    SFUNC = te_pos_step, STYPE = numeric[], INITCOND = '{0,0,0}');

-- Create this session's staging tables (temp, emptied at every commit). Call once per
-- connection, after every reconnect.
CREATE OR REPLACE FUNCTION te_stage_open() RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    SET LOCAL client_min_messages = warning;
    CREATE TEMP TABLE IF NOT EXISTS te_stage (
        seq integer NOT NULL, report_id text NOT NULL, order_id text NOT NULL,
        exec_type text NOT NULL, order_status text NOT NULL, ticker text, side text,
        last_qty numeric NOT NULL, last_price numeric NOT NULL, cum_qty numeric NOT NULL,
        leaves_qty numeric NOT NULL, avg_price numeric NOT NULL,
        commission numeric NOT NULL, reason text, broker text, account text,
        event_ms bigint NOT NULL, decision_id text, portfolio_id text, strategy_id text,
        profile_version_id text, regime_id text, universe_id text, mode text,
        kafka_topic text, kafka_partition integer, kafka_offset bigint
    ) ON COMMIT DELETE ROWS;
    CREATE TEMP TABLE IF NOT EXISTS te_fresh (
        seq integer NOT NULL, report_id text NOT NULL, order_id text NOT NULL,
        exec_type text NOT NULL, order_status text NOT NULL, ticker text, side text,
        last_qty numeric NOT NULL, last_price numeric NOT NULL, cum_qty numeric NOT NULL,
        leaves_qty numeric NOT NULL, avg_price numeric NOT NULL,
        commission numeric NOT NULL, reason text, broker text, account text,
        event_time timestamptz NOT NULL, decision_id text, portfolio_id text,
        strategy_id text, profile_version_id text, regime_id text, universe_id text,
        mode text
    ) ON COMMIT DELETE ROWS;
    CREATE TEMP TABLE IF NOT EXISTS te_fills (
        seq integer NOT NULL, portfolio_id text NOT NULL, ticker text NOT NULL,
        d numeric NOT NULL, price numeric NOT NULL, commission numeric NOT NULL,
        event_time timestamptz NOT NULL
    ) ON COMMIT DELETE ROWS;
    CREATE TEMP TABLE IF NOT EXISTS te_order_agg (
        order_id text PRIMARY KEY, existed boolean, status text, cum_qty numeric,
        leaves_qty numeric, avg_price numeric, commission numeric, reason text,
        last_time timestamptz, illegal integer
    ) ON COMMIT DELETE ROWS;
END $$;

-- Apply everything in te_stage (see the top of this file). Returns the number of
-- reports that changed the database (new, non-control reports).
CREATE OR REPLACE FUNCTION te_apply_stage() RETURNS integer LANGUAGE plpgsql AS $$
DECLARE
    v_n integer;
BEGIN
    -- 1. the event log: first occurrence of each report_id, new ones only
    WITH d AS (
        SELECT DISTINCT ON (report_id) * FROM te_stage
        WHERE exec_type NOT IN ('CLOCK_ACK', 'BROKER_STATE')
        ORDER BY report_id, seq),
    f AS (
        SELECT d.*, to_timestamp(d.event_ms / 1000.0) AS event_time,
               (o.order_id IS NULL AND d.exec_type <> 'ACK' AND
                row_number() OVER (PARTITION BY d.order_id ORDER BY d.seq) = 1) AS unknown
        FROM d LEFT JOIN orders o ON o.order_id = d.order_id),
    ins AS (
        INSERT INTO order_events (report_id, order_id, exec_type, order_status, ticker,
            side, last_qty, last_price, cum_qty, leaves_qty, avg_price, commission,
            reason, broker, account, event_time, decision_id, portfolio_id, mode,
            unknown_order, kafka_topic, kafka_partition, kafka_offset, apply_seq)
        SELECT report_id, order_id, exec_type, order_status, ticker, side, last_qty,
            last_price, cum_qty, leaves_qty, avg_price, commission, reason, broker,
            account, event_time, decision_id, portfolio_id, mode, unknown, kafka_topic,
            kafka_partition, kafka_offset, nextval('te_apply_seq')
        FROM (SELECT * FROM f ORDER BY seq) fs
        ON CONFLICT (report_id) DO NOTHING
        RETURNING report_id)
    INSERT INTO te_fresh
    SELECT f.seq, f.report_id, f.order_id, f.exec_type, f.order_status, f.ticker, f.side,
           f.last_qty, f.last_price, f.cum_qty, f.leaves_qty, f.avg_price, f.commission,
           f.reason, f.broker, f.account, f.event_time, f.decision_id, f.portfolio_id,
           f.strategy_id, f.profile_version_id, f.regime_id, f.universe_id, f.mode
    FROM f JOIN ins USING (report_id);
    GET DIAGNOSTICS v_n = ROW_COUNT;
    IF v_n = 0 THEN
        RETURN 0;
    END IF;

    -- 2. orders: a report is blocked when the order was already terminal before it
    INSERT INTO te_order_agg
    SELECT order_id, bool_or(existed),
        (array_agg(order_status ORDER BY seq DESC) FILTER (WHERE NOT blocked))[1],
        max(cum_qty) FILTER (WHERE NOT blocked),
        (array_agg(leaves_qty ORDER BY seq DESC) FILTER (WHERE NOT blocked))[1],
        (array_agg(avg_price ORDER BY seq DESC)
            FILTER (WHERE NOT blocked AND avg_price <> 0))[1],
        coalesce(sum(commission) FILTER (WHERE NOT blocked), 0),
        (array_agg(reason ORDER BY seq DESC)
            FILTER (WHERE NOT blocked AND coalesce(reason, '') <> ''))[1],
        max(event_time) FILTER (WHERE NOT blocked),
        count(*) FILTER (WHERE blocked)
    FROM (
        SELECT f.order_id, f.seq, f.order_status, f.cum_qty, f.leaves_qty, f.avg_price,
            f.commission, f.reason, f.event_time, o.order_id IS NOT NULL AS existed,
            coalesce(o.status IN ('FILLED', 'CANCELED', 'REJECTED', 'EXPIRED', 'REPLACED'),
                     false)
            OR coalesce(bool_or(f.order_status IN ('FILLED', 'CANCELED', 'REJECTED',
                                                   'EXPIRED', 'REPLACED'))
                OVER (PARTITION BY f.order_id ORDER BY f.seq
                      ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), false) AS blocked
        FROM te_fresh f LEFT JOIN orders o ON o.order_id = f.order_id) e
    GROUP BY order_id;

    UPDATE orders o SET
        status = coalesce(a.status, o.status),
        cum_qty = GREATEST(o.cum_qty, a.cum_qty),
        leaves_qty = coalesce(a.leaves_qty, o.leaves_qty),
        avg_price = coalesce(a.avg_price, o.avg_price),
        commission = o.commission + a.commission,
        reason = coalesce(a.reason, o.reason),
        last_event_time = GREATEST(o.last_event_time, a.last_time),
        illegal_transitions = o.illegal_transitions + a.illegal
    FROM te_order_agg a
    WHERE a.existed AND o.order_id = a.order_id;

    INSERT INTO orders (order_id, decision_id, portfolio_id, ticker, side, status,
        cum_qty, leaves_qty, avg_price, commission, mode, broker, account, strategy_id,
        profile_version_id, regime_id, universe_id, reason, first_event_time,
        last_event_time, illegal_transitions)
    SELECT a.order_id, f.decision_id, f.portfolio_id, f.ticker, f.side, a.status,
        a.cum_qty, a.leaves_qty, a.avg_price, a.commission, f.mode, f.broker, f.account,
        f.strategy_id, f.profile_version_id, f.regime_id, f.universe_id, a.reason,
        f.event_time, a.last_time, a.illegal
    FROM te_order_agg a
    JOIN (SELECT DISTINCT ON (order_id) * FROM te_fresh ORDER BY order_id, seq) f
      ON f.order_id = a.order_id
    WHERE NOT a.existed;

    -- 3. fills: decisions, trades, then positions and cash from the new trades
    INSERT INTO pipeline_decisions (decision_id, portfolio_id, strategy_id,
        profile_version_id, regime_id, universe_id)
    SELECT DISTINCT ON (decision_id) decision_id, portfolio_id, strategy_id,
        profile_version_id, regime_id, universe_id
    FROM te_fresh
    WHERE exec_type IN ('FILL', 'PARTIAL_FILL') AND last_qty > 0
    ORDER BY decision_id, seq
    ON CONFLICT (decision_id) DO NOTHING;

    WITH t AS (
        INSERT INTO trades (trade_id, "timestamp", ticker, direction, size, price,
            order_id, strategy_id, profile_version_id, regime_id, universe_id,
            decision_id, commission, mode, broker)
        SELECT report_id, event_time, ticker, side, last_qty, last_price, order_id,
            strategy_id, profile_version_id, regime_id, universe_id, decision_id,
            commission, mode, broker
        FROM te_fresh
        WHERE exec_type IN ('FILL', 'PARTIAL_FILL') AND last_qty > 0
        ORDER BY seq
        ON CONFLICT (trade_id) DO NOTHING
        RETURNING trade_id)
    INSERT INTO te_fills
    SELECT f.seq, f.portfolio_id, f.ticker,
           CASE WHEN f.side = 'BUY' THEN f.last_qty ELSE -f.last_qty END,
           f.last_price, f.commission, f.event_time
    FROM te_fresh f JOIN t ON t.trade_id = f.report_id;

    INSERT INTO positions (portfolio_id, ticker, quantity, avg_cost, realized_pnl,
        last_event_time)
    SELECT portfolio_id, ticker, st[1], st[2], st[3], lt
    FROM (
        SELECT k.portfolio_id, k.ticker,
               te_pos_fold(k.d, k.price, k.init ORDER BY k.seq) AS st,
               max(k.t) AS lt
        FROM (
            SELECT p.portfolio_id, p.ticker, p.quantity AS d, NULL::numeric AS price,
                   p.avg_cost AS init, -1 AS seq, NULL::timestamptz AS t
            FROM positions p
            WHERE (p.portfolio_id, p.ticker) IN (SELECT portfolio_id, ticker FROM te_fills)
            UNION ALL
            SELECT portfolio_id, ticker, d, price, NULL, seq, event_time FROM te_fills) k
        GROUP BY k.portfolio_id, k.ticker) x
    ON CONFLICT (portfolio_id, ticker) DO UPDATE SET
        quantity = EXCLUDED.quantity,
        avg_cost = EXCLUDED.avg_cost,
        realized_pnl = positions.realized_pnl + EXCLUDED.realized_pnl,
        last_event_time = GREATEST(positions.last_event_time, EXCLUDED.last_event_time);

    INSERT INTO cash (portfolio_id, balance, commissions, last_event_time)
    SELECT portfolio_id, sum(-d * price - commission), sum(commission), max(event_time)
    FROM te_fills GROUP BY portfolio_id
    ON CONFLICT (portfolio_id) DO UPDATE SET
        balance = cash.balance + EXCLUDED.balance,
        commissions = cash.commissions + EXCLUDED.commissions,
        last_event_time = GREATEST(cash.last_event_time, EXCLUDED.last_event_time);
    RETURN v_n;
END $$;

-- Invariant 4, average cost and realized P&L: every position recomputed from its trades
-- in the order the sink applied them (order_events.apply_seq; Kafka partition and offset
-- for events booked without it, e.g. by te_apply_report).
-- Empty when everything adds up.
CREATE OR REPLACE VIEW position_cost_check AS
WITH fills AS (
    SELECT o.portfolio_id, t.ticker,
           CASE WHEN t.direction = 'BUY' THEN t.size ELSE -t.size END AS d, t.price,
           e.apply_seq, e.kafka_partition, e.kafka_offset, t.trade_id
    FROM trades t
    JOIN orders o ON o.order_id = t.order_id
    JOIN order_events e ON e.report_id = t.trade_id),
rec AS (
    SELECT portfolio_id, ticker,
           te_pos_fold(d, price, NULL ORDER BY apply_seq, kafka_partition, kafka_offset,
                                                trade_id) AS st
    FROM fills GROUP BY portfolio_id, ticker)
SELECT coalesce(p.portfolio_id, r.portfolio_id) AS portfolio_id,
       coalesce(p.ticker, r.ticker) AS ticker,
       p.quantity, r.st[1] AS trades_quantity,
       p.avg_cost, r.st[2] AS trades_avg_cost,
       p.realized_pnl, r.st[3] AS trades_realized_pnl
FROM positions p FULL JOIN rec r ON r.portfolio_id = p.portfolio_id AND r.ticker = p.ticker
WHERE coalesce(p.quantity, 0) <> coalesce(r.st[1], 0)
   OR coalesce(p.avg_cost, 0) <> coalesce(r.st[2], 0)
   OR coalesce(p.realized_pnl, 0) <> coalesce(r.st[3], 0);

-- Invariant 2 at the DB: every fill event has exactly one trade and every trade one
-- fill event (the keys make duplicates impossible; this finds losses and strays), and
-- cash commissions equal the trades' commissions. Empty when everything adds up.
CREATE OR REPLACE VIEW exactly_once_check AS
SELECT 'fill_without_trade' AS problem, e.report_id AS id
FROM order_events e LEFT JOIN trades t ON t.trade_id = e.report_id
WHERE e.exec_type IN ('FILL', 'PARTIAL_FILL') AND e.last_qty > 0 AND t.trade_id IS NULL
UNION ALL
SELECT 'trade_without_fill', t.trade_id
FROM trades t LEFT JOIN order_events e ON e.report_id = t.trade_id
WHERE e.report_id IS NULL
UNION ALL
SELECT 'order_cum_qty_differs', o.order_id
FROM orders o
LEFT JOIN (SELECT order_id, sum(size) AS q FROM trades GROUP BY order_id) t
  ON t.order_id = o.order_id
WHERE o.illegal_transitions = 0 AND o.cum_qty <> coalesce(t.q, 0)
UNION ALL
SELECT 'cash_commissions_differ', c.portfolio_id
FROM cash c
LEFT JOIN (SELECT o.portfolio_id, sum(t.commission) AS cm FROM trades t
           JOIN orders o ON o.order_id = t.order_id GROUP BY o.portfolio_id) x
  ON x.portfolio_id = c.portfolio_id
WHERE c.commissions <> coalesce(x.cm, 0);
