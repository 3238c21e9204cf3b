-- 0008_fix: state of the FIX adapter (brokers/broker_fix.c). Idempotent.

-- The FIX session's sequence numbers per SenderCompID/TargetCompID pair: our next
-- outgoing MsgSeqNum and the next one we expect. The adapter writes them before the
-- bytes carrying a new number leave, so a restarted adapter continues the numbers
-- (no reuse of one of ours, no ResendRequest of everything it had).
CREATE TABLE IF NOT EXISTS fix_sessions (
    sender_comp_id     text NOT NULL,
    target_comp_id     text NOT NULL,
    next_out           bigint NOT NULL CHECK (next_out > 0),
    next_in            bigint NOT NULL CHECK (next_in > 0),
    updated_at         timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (sender_comp_id, target_comp_id)
);

-- One row per order the adapter accepted: the command's fields (to build reports after
-- a restart), the ClOrdID it lives under at the counterparty, how many cancel and
-- replace requests it made (their ClOrdIDs), whether its NewOrderSingle left, the
-- quantity and value booked, and whether it ended. Open rows are loaded at start and
-- reconciled after the Logon; one not sent yet is sent then.
CREATE TABLE IF NOT EXISTS fix_orders (
    order_id           text PRIMARY KEY,
    sender_comp_id     text NOT NULL,
    target_comp_id     text NOT NULL,
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
    live_clordid       text NOT NULL,
    n_cancel           integer NOT NULL DEFAULT 0,
    n_replace          integer NOT NULL DEFAULT 0,
    sent               boolean NOT NULL DEFAULT false,
    terminal           boolean NOT NULL DEFAULT false,
    cum_qty            double precision NOT NULL DEFAULT 0,
    cum_value          double precision NOT NULL DEFAULT 0,
    updated_at         timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS fix_orders_open ON fix_orders (sender_comp_id, target_comp_id)
    WHERE NOT terminal;

-- ExecIDs whose reports the broker worker delivered to exec.reports (a resent
-- ExecutionReport after a restart is not published again).
CREATE TABLE IF NOT EXISTS fix_execs (
    order_id           text NOT NULL,
    exec_id            text NOT NULL,
    recorded_at        timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (order_id, exec_id)
);
