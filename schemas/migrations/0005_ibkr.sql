-- 0005_ibkr: state of the Interactive Brokers adapter (brokers/broker_ibkr.c).
-- Every statement is idempotent.

-- The next TWS order id to use per client id and account, written before each
-- placeOrder leaves, so a restarted adapter never reuses (nor skips back over) an id.
CREATE TABLE IF NOT EXISTS ibkr_order_ids (
    client_id          integer NOT NULL,
    account            text NOT NULL,
    next_order_id      bigint NOT NULL CHECK (next_order_id > 0),
    updated_at         timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (client_id, account)
);

-- One row per order the adapter accepted: our order_id (sent as orderRef) <-> the
-- TWS order id (NULL while the order waits for a connection), the command's fields
-- needed to build reports after a restart, and whether the order reached a final state.
CREATE TABLE IF NOT EXISTS ibkr_orders (
    order_id           text PRIMARY KEY,
    client_id          integer NOT NULL,
    account            text NOT NULL,
    tws_order_id       bigint,
    decision_id        text NOT NULL,
    portfolio_id       text NOT NULL,
    strategy_id        text NOT NULL,
    profile_version_id text NOT NULL,
    regime_id          text NOT NULL,
    universe_id        text NOT NULL,
    ticker             text NOT NULL,
    side               text NOT NULL,
    quantity           double precision NOT NULL,
    order_type         text NOT NULL,
    limit_price        double precision,
    stop_price         double precision,
    tif                text NOT NULL,
    event_time         bigint NOT NULL,
    terminal           boolean NOT NULL DEFAULT false,
    status             text NOT NULL DEFAULT 'PENDING_NEW',
    created_at         timestamptz NOT NULL DEFAULT now(),
    updated_at         timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX IF NOT EXISTS ibkr_orders_tws_id
    ON ibkr_orders (client_id, tws_order_id) WHERE tws_order_id IS NOT NULL;
CREATE INDEX IF NOT EXISTS ibkr_orders_open ON ibkr_orders (client_id) WHERE NOT terminal;

-- Executions whose reports the broker worker delivered to exec.reports (deduplication
-- by IB's execId across restarts).
CREATE TABLE IF NOT EXISTS ibkr_execs (
    exec_id            text PRIMARY KEY,
    order_id           text NOT NULL,
    shares             double precision NOT NULL,
    price              double precision NOT NULL,
    commission         double precision NOT NULL DEFAULT 0,
    recorded_at        timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS ibkr_execs_order ON ibkr_execs (order_id);
