-- 0003_backtest: the registry of backtest runs (exec-backtest). Each run writes its
-- trades, orders, positions and cash into its own database bt_<run_id> (same schema);
-- this table, in the main database, maps run ids to those databases and keeps the
-- headline figures. Idempotent.
CREATE TABLE IF NOT EXISTS backtest_runs (
    run_id             text PRIMARY KEY,
    database           text NOT NULL,
    source             text NOT NULL,
    status             text NOT NULL CHECK (status IN ('running', 'done', 'failed')),
    started_at         timestamptz NOT NULL DEFAULT now(),
    finished_at        timestamptz,
    targets_published  bigint,
    targets_planned    bigint,
    total_return       double precision,
    trades_md5         text
);
