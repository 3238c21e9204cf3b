-- 0001_init: the runtime database of the execution service (docs/DESIGN.md "The runtime database").
-- Every statement is idempotent so that applying the file twice is harmless; the
-- migration runner also records applied files in schema_migrations.

-- Decisions come from the upstream pipeline. The sink inserts the decision_id it sees
-- (ON CONFLICT DO NOTHING) so that a trade's foreign key always resolves.
CREATE TABLE IF NOT EXISTS pipeline_decisions (
    decision_id        text PRIMARY KEY,
    portfolio_id       text,
    strategy_id        text,
    profile_version_id text,
    regime_id          text,
    universe_id        text,
    created_at         timestamptz NOT NULL DEFAULT now()
);

-- One row per order, updated by every report for it (status, cumulative quantity,
-- average price). Terminal statuses are never left.
CREATE TABLE IF NOT EXISTS orders (
    order_id           text PRIMARY KEY,
    decision_id        text,
    portfolio_id       text NOT NULL,
    ticker             text NOT NULL,
    side               text NOT NULL CHECK (side IN ('BUY', 'SELL')),
    status             text NOT NULL,
    cum_qty            numeric NOT NULL DEFAULT 0,
    leaves_qty         numeric NOT NULL DEFAULT 0,
    avg_price          numeric,
    commission         numeric NOT NULL DEFAULT 0,
    mode               text NOT NULL,
    broker             text NOT NULL,
    account            text,
    strategy_id        text,
    profile_version_id text,
    regime_id          text,
    universe_id        text,
    reason             text,
    first_event_time   timestamptz NOT NULL,
    last_event_time    timestamptz NOT NULL,
    illegal_transitions integer NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS orders_portfolio_status ON orders (portfolio_id, status);

-- Append-only log of every execution report, keyed by its deterministic report_id.
CREATE TABLE IF NOT EXISTS order_events (
    report_id          text PRIMARY KEY,
    order_id           text NOT NULL,
    exec_type          text NOT NULL,
    order_status       text NOT NULL,
    ticker             text,
    side               text,
    last_qty           numeric NOT NULL,
    last_price         numeric NOT NULL,
    cum_qty            numeric NOT NULL,
    leaves_qty         numeric NOT NULL,
    avg_price          numeric NOT NULL,
    commission         numeric NOT NULL,
    reason             text,
    broker             text,
    account            text,
    event_time         timestamptz NOT NULL,
    decision_id        text,
    portfolio_id       text,
    mode               text,
    unknown_order      boolean NOT NULL DEFAULT false,
    kafka_topic        text,
    kafka_partition    integer,
    kafka_offset       bigint,
    recorded_at        timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS order_events_order ON order_events (order_id);

-- Fills. Exactly the columns of docs/DESIGN.md plus commission, mode and broker.
CREATE TABLE IF NOT EXISTS trades (
    trade_id           text PRIMARY KEY,
    "timestamp"        timestamptz NOT NULL,
    ticker             text NOT NULL,
    direction          text NOT NULL CHECK (direction IN ('BUY', 'SELL')),
    size               numeric NOT NULL CHECK (size > 0),
    price              numeric NOT NULL CHECK (price > 0),
    order_id           text NOT NULL,
    strategy_id        text,
    profile_version_id text,
    regime_id          text,
    universe_id        text,
    decision_id        text NOT NULL REFERENCES pipeline_decisions (decision_id),
    commission         numeric NOT NULL DEFAULT 0 CHECK (commission >= 0),
    mode               text NOT NULL CHECK (mode IN ('PRODUCTION', 'TRAINING')),
    broker             text NOT NULL
);
CREATE INDEX IF NOT EXISTS trades_order ON trades (order_id);

-- Positions per portfolio and ticker, with average cost and realized P&L, moved only by
-- fills (in the same transaction as the trade row).
CREATE TABLE IF NOT EXISTS positions (
    portfolio_id       text NOT NULL,
    ticker             text NOT NULL,
    quantity           numeric NOT NULL DEFAULT 0,
    avg_cost           numeric NOT NULL DEFAULT 0,
    realized_pnl       numeric NOT NULL DEFAULT 0,
    last_event_time    timestamptz,
    PRIMARY KEY (portfolio_id, ticker)
);

-- Cash per portfolio: moves by -(side * qty * price) - commission for every fill.
-- `balance` starts at 0: it is the cash flow of trading, to which a portfolio's
-- initial capital is added outside (deposits are not modelled yet).
CREATE TABLE IF NOT EXISTS cash (
    portfolio_id       text PRIMARY KEY,
    balance            numeric NOT NULL DEFAULT 0,
    commissions        numeric NOT NULL DEFAULT 0,
    last_event_time    timestamptz
);

-- Kafka offsets consumed by a group, written in the same transaction as what they
-- produced (docs/DESIGN.md invariant 2). next_offset is the next offset to read.
CREATE TABLE IF NOT EXISTS consumer_offsets (
    consumer_group     text NOT NULL,
    topic              text NOT NULL,
    kafka_partition    integer NOT NULL,
    next_offset        bigint NOT NULL CHECK (next_offset >= 0),
    updated_at         timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (consumer_group, topic, kafka_partition)
);

-- Daily bars for the simulator and the planner's reference prices.
CREATE TABLE IF NOT EXISTS prices_daily (
    ticker             text NOT NULL,
    date               date NOT NULL,
    open               double precision NOT NULL,
    high               double precision NOT NULL,
    low                double precision NOT NULL,
    close              double precision NOT NULL,
    volume             double precision NOT NULL,
    PRIMARY KEY (ticker, date)
);

-- Apply one execution report. Returns false (and changes nothing) when report_id was
-- already applied, so replaying reports is harmless. Fills write the trade row and move
-- the position and cash. A report for an order the DB has never seen an ACK for is kept
-- in order_events with unknown_order = true; its fill is still booked.
CREATE OR REPLACE FUNCTION te_apply_report(
    p_report_id text, p_order_id text, p_exec_type text, p_order_status text,
    p_ticker text, p_side text, p_last_qty numeric, p_last_price numeric,
    p_cum_qty numeric, p_leaves_qty numeric, p_avg_price numeric, p_commission numeric,
    p_reason text, p_broker text, p_account text, p_event_time timestamptz,
    p_decision_id text, p_portfolio_id text, p_strategy_id text,
    p_profile_version_id text, p_regime_id text, p_universe_id text, p_mode text,
    p_topic text, p_partition integer, p_offset bigint)
RETURNS boolean LANGUAGE plpgsql AS $$
DECLARE
    v_known boolean;
    v_status text;
    v_sign numeric;
    v_q numeric;
    v_avg numeric;
    v_new_q numeric;
    v_closed numeric;
    v_realized numeric := 0;
BEGIN
    IF p_exec_type IN ('CLOCK_ACK', 'BROKER_STATE') THEN
        RETURN false;  -- control reports carry no order state
    END IF;
    SELECT status INTO v_status FROM orders WHERE order_id = p_order_id FOR UPDATE;
    v_known := FOUND;

    INSERT INTO order_events (report_id, order_id, exec_type, order_status, ticker, side,
        last_qty, last_price, cum_qty, leaves_qty, avg_price, commission, reason, broker,
        account, event_time, decision_id, portfolio_id, mode, unknown_order,
        kafka_topic, kafka_partition, kafka_offset)
    VALUES (p_report_id, p_order_id, p_exec_type, p_order_status, p_ticker, p_side,
        p_last_qty, p_last_price, p_cum_qty, p_leaves_qty, p_avg_price, p_commission,
        p_reason, p_broker, p_account, p_event_time, p_decision_id, p_portfolio_id, p_mode,
        NOT v_known AND p_exec_type <> 'ACK', p_topic, p_partition, p_offset)
    ON CONFLICT (report_id) DO NOTHING;
    IF NOT FOUND THEN
        RETURN false;  -- duplicate report
    END IF;

    IF NOT v_known THEN
        INSERT INTO orders (order_id, decision_id, portfolio_id, ticker, side, status,
            cum_qty, leaves_qty, avg_price, commission, mode, broker, account, strategy_id,
            profile_version_id, regime_id, universe_id, reason, first_event_time,
            last_event_time)
        VALUES (p_order_id, p_decision_id, p_portfolio_id, p_ticker, p_side,
            p_order_status, p_cum_qty, p_leaves_qty, NULLIF(p_avg_price, 0), p_commission,
            p_mode, p_broker, p_account, p_strategy_id, p_profile_version_id, p_regime_id,
            p_universe_id, NULLIF(p_reason, ''), p_event_time, p_event_time);
    ELSIF v_status IN ('FILLED', 'CANCELED', 'REJECTED', 'EXPIRED', 'REPLACED') THEN
        -- terminal: the state is final; count the attempt, keep the event
        UPDATE orders SET illegal_transitions = illegal_transitions + 1
        WHERE order_id = p_order_id;
    ELSE
        UPDATE orders SET status = p_order_status,
            cum_qty = GREATEST(cum_qty, p_cum_qty), leaves_qty = p_leaves_qty,
            avg_price = COALESCE(NULLIF(p_avg_price, 0), avg_price),
            commission = commission + p_commission,
            reason = COALESCE(NULLIF(p_reason, ''), reason),
            last_event_time = GREATEST(last_event_time, p_event_time)
        WHERE order_id = p_order_id;
    END IF;

    IF p_exec_type IN ('FILL', 'PARTIAL_FILL') AND p_last_qty > 0 THEN
        INSERT INTO pipeline_decisions (decision_id, portfolio_id, strategy_id,
            profile_version_id, regime_id, universe_id)
        VALUES (p_decision_id, p_portfolio_id, p_strategy_id, p_profile_version_id,
            p_regime_id, p_universe_id)
        ON CONFLICT (decision_id) DO NOTHING;

        INSERT INTO trades (trade_id, "timestamp", ticker, direction, size, price,
            order_id, strategy_id, profile_version_id, regime_id, universe_id,
            decision_id, commission, mode, broker)
        VALUES (p_report_id, p_event_time, p_ticker, p_side, p_last_qty, p_last_price,
            p_order_id, p_strategy_id, p_profile_version_id, p_regime_id, p_universe_id,
            p_decision_id, p_commission, p_mode, p_broker)
        ON CONFLICT (trade_id) DO NOTHING;
        IF NOT FOUND THEN
            RETURN true;
        END IF;

        v_sign := CASE WHEN p_side = 'BUY' THEN 1 ELSE -1 END;
        SELECT quantity, avg_cost INTO v_q, v_avg FROM positions
        WHERE portfolio_id = p_portfolio_id AND ticker = p_ticker FOR UPDATE;
        IF NOT FOUND THEN
            v_q := 0;
            v_avg := 0;
        END IF;
        v_new_q := v_q + v_sign * p_last_qty;
        IF v_q = 0 OR sign(v_q) = v_sign THEN
            -- opening or increasing: weighted average cost
            v_avg := (abs(v_q) * v_avg + p_last_qty * p_last_price) / abs(v_new_q);
        ELSE
            -- reducing, possibly through zero
            v_closed := LEAST(abs(v_q), p_last_qty);
            v_realized := v_closed * (p_last_price - v_avg) * sign(v_q);
            IF v_new_q = 0 THEN
                v_avg := 0;
            ELSIF sign(v_new_q) <> sign(v_q) THEN
                v_avg := p_last_price;
            END IF;
        END IF;
        INSERT INTO positions (portfolio_id, ticker, quantity, avg_cost, realized_pnl,
            last_event_time)
        VALUES (p_portfolio_id, p_ticker, v_new_q, v_avg, v_realized, p_event_time)
        ON CONFLICT (portfolio_id, ticker) DO UPDATE SET quantity = EXCLUDED.quantity,
            avg_cost = EXCLUDED.avg_cost,
            realized_pnl = positions.realized_pnl + EXCLUDED.realized_pnl,
            last_event_time = GREATEST(positions.last_event_time, EXCLUDED.last_event_time);

        INSERT INTO cash (portfolio_id, balance, commissions, last_event_time)
        VALUES (p_portfolio_id, -v_sign * p_last_qty * p_last_price - p_commission,
            p_commission, p_event_time)
        ON CONFLICT (portfolio_id) DO UPDATE SET
            balance = cash.balance + EXCLUDED.balance,
            commissions = cash.commissions + EXCLUDED.commissions,
            last_event_time = GREATEST(cash.last_event_time, EXCLUDED.last_event_time);
    END IF;
    RETURN true;
END $$;

-- Invariant 4: positions and cash recomputed from trades. Both views are empty when
-- everything adds up.
CREATE OR REPLACE VIEW position_check AS
WITH from_trades AS (
    SELECT o.portfolio_id, t.ticker,
           sum(CASE WHEN t.direction = 'BUY' THEN t.size ELSE -t.size END) AS quantity
    FROM trades t JOIN orders o ON o.order_id = t.order_id
    GROUP BY o.portfolio_id, t.ticker)
SELECT coalesce(p.portfolio_id, f.portfolio_id) AS portfolio_id,
       coalesce(p.ticker, f.ticker) AS ticker,
       coalesce(p.quantity, 0) AS position_quantity,
       coalesce(f.quantity, 0) AS trades_quantity
FROM positions p FULL JOIN from_trades f
  ON f.portfolio_id = p.portfolio_id AND f.ticker = p.ticker
WHERE coalesce(p.quantity, 0) <> coalesce(f.quantity, 0);

CREATE OR REPLACE VIEW cash_check AS
WITH from_trades AS (
    SELECT o.portfolio_id,
           sum(CASE WHEN t.direction = 'BUY' THEN -t.size * t.price
                    ELSE t.size * t.price END - t.commission) AS balance
    FROM trades t JOIN orders o ON o.order_id = t.order_id
    GROUP BY o.portfolio_id)
SELECT coalesce(c.portfolio_id, f.portfolio_id) AS portfolio_id,
       coalesce(c.balance, 0) AS cash_balance,
       coalesce(f.balance, 0) AS trades_balance
FROM cash c FULL JOIN from_trades f ON f.portfolio_id = c.portfolio_id
WHERE coalesce(c.balance, 0) <> coalesce(f.balance, 0);
