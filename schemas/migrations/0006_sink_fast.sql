-- 0006_sink_fast: a faster apply path for the sink, with the semantics of te_apply_stage()
-- (migration 0004) and so of te_apply_report() (migration 0001).
--
-- te_apply_stage() spends most of its time on work the sink can do in memory while it
-- stages a batch: dropping duplicate report_ids within the batch, finding the first
-- report of every order and decision, and folding each order's reports into one
-- aggregate (array_agg ... ORDER BY per group). It also hash-joins the whole orders
-- table once per batch. The sink (consumers/pg_sink.c) now stages:
--   te_stage   one row per distinct non-control report of the batch, in consumption
--              order, with three flags computed in memory:
--                first_of_order     first report of its order in the batch
--                first_of_decision  first fill (FILL/PARTIAL_FILL, last_qty > 0) of its
--                                   decision in the batch
--                blocked            an earlier report of its order in the batch was
--                                   terminal (FILLED, CANCELED, REJECTED, EXPIRED,
--                                   REPLACED)
--   te_ostage  one row per order of the batch: the fold of its reports that are not
--              blocked in the batch (last status, max cum_qty, last leaves_qty, last
--              non-zero avg_price, last non-empty reason, latest event time), the number
--              of reports and of blocked ones, and the seq of its first report.
-- and calls te_apply_stage_fast(). When any staged report_id is already in order_events
-- (a replay: the in-memory fold then counts reports the DB already has) or a key
-- conflicts, it runs te_apply_stage() on the same te_stage instead, so the result is
-- always the one te_apply_stage() would give.

-- The staging tables are temp tables that keep their rows at commit (ON COMMIT PRESERVE
-- ROWS); the apply functions empty them before they return (te_stage_clear). With ON
-- COMMIT DELETE ROWS (migration 0004) every commit of a transaction that touched a
-- temp table truncated all of them, tables, TOAST tables and indexes alike: 5-25 ms
-- per commit here, most of a small batch's time. te_stage_clear deletes the rows
-- instead, and truncates once the tables have grown past 8 MiB of dead rows.

CREATE OR REPLACE FUNCTION te_terminal(s text) RETURNS boolean LANGUAGE sql IMMUTABLE AS $$
    SELECT s IN ('FILLED', 'CANCELED', 'REJECTED', 'EXPIRED', 'REPLACED')
$$;

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
        kafka_topic text, kafka_partition integer, kafka_offset bigint,
        first_of_order boolean, first_of_decision boolean, blocked boolean
    ) ON COMMIT PRESERVE ROWS;
    -- a session that staged with migration 0004's definition
    ALTER TABLE te_stage ADD COLUMN IF NOT EXISTS first_of_order boolean,
        ADD COLUMN IF NOT EXISTS first_of_decision boolean,
        ADD COLUMN IF NOT EXISTS blocked boolean;
    CREATE TEMP TABLE IF NOT EXISTS te_ostage (
        order_id text NOT NULL, first_seq integer NOT NULL, n integer NOT NULL,
        n_blocked integer NOT NULL, status text NOT NULL, cum_qty numeric NOT NULL,
        leaves_qty numeric NOT NULL, avg_price numeric, reason text,
        last_ms bigint NOT NULL
    ) ON COMMIT PRESERVE ROWS;
    CREATE TEMP TABLE IF NOT EXISTS te_known (
        order_id text NOT NULL, status text NOT NULL
    ) ON COMMIT PRESERVE ROWS;
    CREATE TEMP TABLE IF NOT EXISTS te_fresh (
        seq integer NOT NULL, report_id text NOT NULL, order_id text NOT NULL,
        exec_type text NOT NULL, order_status text NOT NULL, ticker text, side text,
        last_qty numeric NOT NULL, last_price numeric NOT NULL, cum_qty numeric NOT NULL,
        leaves_qty numeric NOT NULL, avg_price numeric NOT NULL,
        commission numeric NOT NULL, reason text, broker text, account text,
        event_time timestamptz NOT NULL, decision_id text, portfolio_id text,
        strategy_id text, profile_version_id text, regime_id text, universe_id text,
        mode text
    ) ON COMMIT PRESERVE ROWS;
    CREATE TEMP TABLE IF NOT EXISTS te_fills (
        seq integer NOT NULL, portfolio_id text NOT NULL, ticker text NOT NULL,
        d numeric NOT NULL, price numeric NOT NULL, commission numeric NOT NULL,
        event_time timestamptz NOT NULL
    ) ON COMMIT PRESERVE ROWS;
    CREATE TEMP TABLE IF NOT EXISTS te_order_agg (
        order_id text PRIMARY KEY, existed boolean, status text, cum_qty numeric,
        leaves_qty numeric, avg_price numeric, commission numeric, reason text,
        last_time timestamptz, illegal integer
    ) ON COMMIT PRESERVE ROWS;
END $$;

CREATE OR REPLACE FUNCTION te_stage_clear() RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    IF pg_relation_size('te_stage') + pg_relation_size('te_fresh') > 8388608 THEN
        TRUNCATE te_stage, te_ostage, te_known, te_fresh, te_fills, te_order_agg;
    ELSE
        DELETE FROM te_stage;
        DELETE FROM te_ostage;
        DELETE FROM te_known;
        DELETE FROM te_fresh;
        DELETE FROM te_fills;
        DELETE FROM te_order_agg;
    END IF;
END $$;

-- Migration 0004's te_apply_stage() becomes te_apply_stage_general(); te_apply_stage()
-- keeps its meaning and empties the staging tables afterwards.
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_proc WHERE proname = 'te_apply_stage_general') THEN
        ALTER FUNCTION te_apply_stage() RENAME TO te_apply_stage_general;
    END IF;
END $$;

CREATE OR REPLACE FUNCTION te_apply_stage() RETURNS integer LANGUAGE plpgsql AS $$
DECLARE
    v_n integer;
BEGIN
    v_n := te_apply_stage_general();
    PERFORM te_stage_clear();
    RETURN v_n;
END $$;

-- The fast path proper: te_stage holds no report already booked (checked by the caller).
CREATE OR REPLACE FUNCTION te_apply_stage_new() RETURNS integer LANGUAGE plpgsql AS $$
DECLARE
    v_n integer;
BEGIN
    -- 0. the batch's orders that have a row already: one index scan over the keys, so
    --    that no statement below reads the whole orders table
    INSERT INTO te_known
    SELECT order_id, status FROM orders
    WHERE order_id = ANY ((SELECT array_agg(order_id) FROM te_ostage)::text[]);

    -- 1. the event log, in staging order; unknown = first report of an order that has
    --    no row yet and is not its ACK
    INSERT INTO order_events (report_id, order_id, exec_type, order_status, ticker,
        side, last_qty, last_price, cum_qty, leaves_qty, avg_price, commission,
        reason, broker, account, event_time, decision_id, portfolio_id, mode,
        unknown_order, kafka_topic, kafka_partition, kafka_offset, apply_seq)
    SELECT report_id, order_id, exec_type, order_status, ticker, side, last_qty,
        last_price, cum_qty, leaves_qty, avg_price, commission, reason, broker, account,
        to_timestamp(event_ms / 1000.0), decision_id, portfolio_id, mode,
        CASE WHEN first_of_order AND exec_type <> 'ACK'
             THEN NOT EXISTS (SELECT 1 FROM te_known k WHERE k.order_id = s.order_id)
             ELSE false END,
        kafka_topic, kafka_partition, kafka_offset, nextval('te_apply_seq')
    FROM (SELECT * FROM te_stage ORDER BY seq) s;
    GET DIAGNOSTICS v_n = ROW_COUNT;
    IF v_n = 0 THEN
        PERFORM te_stage_clear();
        RETURN 0;
    END IF;

    -- 2. orders: a terminal order takes nothing more and counts every report as illegal;
    --    otherwise the batch's fold applies (update first, then insert the new ones)
    WITH c AS (SELECT order_id, sum(commission) AS cm FROM te_stage WHERE NOT blocked
               GROUP BY order_id)
    UPDATE orders o SET
        status = CASE WHEN te_terminal(o.status) THEN o.status ELSE a.status END,
        cum_qty = CASE WHEN te_terminal(o.status) THEN o.cum_qty
                       ELSE GREATEST(o.cum_qty, a.cum_qty) END,
        leaves_qty = CASE WHEN te_terminal(o.status) THEN o.leaves_qty
                          ELSE a.leaves_qty END,
        avg_price = CASE WHEN te_terminal(o.status) THEN o.avg_price
                         ELSE coalesce(a.avg_price, o.avg_price) END,
        commission = o.commission + CASE WHEN te_terminal(o.status) THEN 0
                                         ELSE coalesce(c.cm, 0) END,
        reason = CASE WHEN te_terminal(o.status) THEN o.reason
                      ELSE coalesce(a.reason, o.reason) END,
        last_event_time = CASE WHEN te_terminal(o.status) THEN o.last_event_time
                               ELSE GREATEST(o.last_event_time,
                                             to_timestamp(a.last_ms / 1000.0)) END,
        illegal_transitions = o.illegal_transitions +
            CASE WHEN te_terminal(o.status) THEN a.n ELSE a.n_blocked END
    FROM te_ostage a LEFT JOIN c ON c.order_id = a.order_id
    WHERE o.order_id = a.order_id
      AND o.order_id = ANY ((SELECT array_agg(order_id) FROM te_known)::text[]);

    WITH c AS (SELECT order_id, sum(commission) AS cm FROM te_stage WHERE NOT blocked
               GROUP BY order_id)
    INSERT INTO orders (order_id, decision_id, portfolio_id, ticker, side, status,
        cum_qty, leaves_qty, avg_price, commission, mode, broker, account, strategy_id,
        profile_version_id, regime_id, universe_id, reason, first_event_time,
        last_event_time, illegal_transitions)
    SELECT a.order_id, s.decision_id, s.portfolio_id, s.ticker, s.side, a.status,
        a.cum_qty, a.leaves_qty, a.avg_price, coalesce(c.cm, 0), s.mode, s.broker,
        s.account, s.strategy_id, s.profile_version_id, s.regime_id, s.universe_id,
        a.reason, to_timestamp(s.event_ms / 1000.0), to_timestamp(a.last_ms / 1000.0),
        a.n_blocked
    FROM te_ostage a
    JOIN te_stage s ON s.seq = a.first_seq
    LEFT JOIN c ON c.order_id = a.order_id
    WHERE NOT EXISTS (SELECT 1 FROM te_known k WHERE k.order_id = a.order_id);

    -- 3. fills: decisions, trades, then positions and cash
    INSERT INTO pipeline_decisions (decision_id, portfolio_id, strategy_id,
        profile_version_id, regime_id, universe_id)
    SELECT decision_id, portfolio_id, strategy_id, profile_version_id, regime_id,
        universe_id
    FROM te_stage WHERE first_of_decision
    ON CONFLICT (decision_id) DO NOTHING;

    INSERT INTO trades (trade_id, "timestamp", ticker, direction, size, price,
        order_id, strategy_id, profile_version_id, regime_id, universe_id,
        decision_id, commission, mode, broker)
    SELECT report_id, to_timestamp(event_ms / 1000.0), ticker, side, last_qty,
        last_price, order_id, strategy_id, profile_version_id, regime_id, universe_id,
        decision_id, commission, mode, broker
    FROM te_stage
    WHERE exec_type IN ('FILL', 'PARTIAL_FILL') AND last_qty > 0
    ORDER BY seq;

    -- positions (average cost and realized P&L folded in staging order) and cash, read
    -- straight from te_stage: every staged fill is new here
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
            WHERE (p.portfolio_id, p.ticker) IN (
                SELECT portfolio_id, ticker FROM te_stage
                WHERE exec_type IN ('FILL', 'PARTIAL_FILL') AND last_qty > 0)
            UNION ALL
            SELECT portfolio_id, ticker,
                   CASE WHEN side = 'BUY' THEN last_qty ELSE -last_qty END, last_price,
                   NULL, seq, to_timestamp(event_ms / 1000.0)
            FROM te_stage
            WHERE exec_type IN ('FILL', 'PARTIAL_FILL') AND last_qty > 0) k
        GROUP BY k.portfolio_id, k.ticker) x
    ON CONFLICT (portfolio_id, ticker) DO UPDATE SET
        quantity = EXCLUDED.quantity,
        avg_cost = EXCLUDED.avg_cost,
        realized_pnl = positions.realized_pnl + EXCLUDED.realized_pnl,
        last_event_time = GREATEST(positions.last_event_time, EXCLUDED.last_event_time);

    INSERT INTO cash (portfolio_id, balance, commissions, last_event_time)
    SELECT portfolio_id,
           sum(CASE WHEN side = 'BUY' THEN -last_qty ELSE last_qty END * last_price
               - commission),
           sum(commission), max(to_timestamp(event_ms / 1000.0))
    FROM te_stage
    WHERE exec_type IN ('FILL', 'PARTIAL_FILL') AND last_qty > 0
    GROUP BY portfolio_id
    ON CONFLICT (portfolio_id) DO UPDATE SET
        balance = cash.balance + EXCLUDED.balance,
        commissions = cash.commissions + EXCLUDED.commissions,
        last_event_time = GREATEST(cash.last_event_time, EXCLUDED.last_event_time);
    PERFORM te_stage_clear();
    RETURN v_n;
END $$;

-- Entry point of the sink. Returns the number of reports that changed the database.
-- enable_seqscan is off while it runs: PL/pgSQL keeps the plans it made on the first
-- batch, when order_events and orders may have been empty and a sequential scan with
-- `= ANY (keys)` looked free; on a grown table that plan costs rows x keys per batch.
-- With it off, the big tables are only read through their primary keys (the temp
-- tables have no index, so they are scanned as before).
--
-- jit is off too: with costs that high every statement crosses jit_above_cost, and
-- compiling them takes seconds per batch (the statements themselves take milliseconds).
CREATE OR REPLACE FUNCTION te_apply_stage_fast() RETURNS integer LANGUAGE plpgsql
SET enable_seqscan = off SET jit = off AS $$
DECLARE
    v_n integer;
BEGIN
    -- a replay of a report already booked: the general path (an index probe per key)
    IF EXISTS (SELECT 1 FROM order_events e
               WHERE e.report_id = ANY ((SELECT array_agg(report_id) FROM te_stage)::text[]))
    THEN
        RETURN te_apply_stage();
    END IF;
    BEGIN
        v_n := te_apply_stage_new();
    EXCEPTION WHEN unique_violation THEN
        -- e.g. a trade row without its event: let the general path decide
        v_n := te_apply_stage();
    END;
    RETURN v_n;
END $$;
