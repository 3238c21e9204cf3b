-- 0010_backtest_params: the parameters of each backtest run next to its headline
-- figures in backtest_runs — the starting capital, the bars source, the build commit of
-- the runner and every option (a JSON object: options, source, capital and where it
-- came from, risk-free rate, build commit). Idempotent.
ALTER TABLE backtest_runs ADD COLUMN IF NOT EXISTS capital double precision;
ALTER TABLE backtest_runs ADD COLUMN IF NOT EXISTS bars_source text;
ALTER TABLE backtest_runs ADD COLUMN IF NOT EXISTS build_commit text;
ALTER TABLE backtest_runs ADD COLUMN IF NOT EXISTS params jsonb;
