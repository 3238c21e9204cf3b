-- 0010_planner_dead_letters: the targets the planner dead-lettered, and the view
-- `exec-dbtool check` uses to see a portfolio the planner cannot plan any more. Every
-- statement is idempotent.
--
-- planner_dead_letters: one row per target exec-planner dead-lettered whose ids could
-- be read (a message that does not decode names no portfolio and is only on
-- exec.deadletter). The planner inserts the row when it dead-letters the target, as a
-- best-effort write (one INSERT on its connection): only while that connection is up;
-- a failed insert is logged (planner.dead_letter_record) and the target is
-- dead-lettered and committed all the same; the dead letter on exec.deadletter is the
-- record of truth. A target consumed again after a restart is
-- the same row (its source offset).
CREATE TABLE IF NOT EXISTS planner_dead_letters (
    source_topic       text NOT NULL,
    source_partition   integer NOT NULL,
    source_offset      bigint NOT NULL,
    portfolio_id       text NOT NULL,
    decision_id        text NOT NULL,
    as_of              bigint NOT NULL,
    reason             text NOT NULL,
    recorded_at        timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (source_topic, source_partition, source_offset)
);
CREATE INDEX IF NOT EXISTS planner_dead_letters_portfolio
    ON planner_dead_letters (portfolio_id, recorded_at);

-- Portfolios whose targets are all dead-lettered since their last planned one: at
-- least 3 dead letters recorded after the planner last saved a planned as_of for the
-- portfolio (planner_portfolios.updated_at, written at the planner's commit, after the
-- orders of that target were delivered). A target dead-lettered between two planned
-- ones is older than the second one's save and does not count. Portfolios never
-- planned are not listed (nothing says they ever could be). Rows: the portfolio, how
-- many dead letters since, the first and the last of them, and when it was last planned.
CREATE OR REPLACE VIEW planner_deadletter_check AS
WITH planned AS (
    SELECT portfolio_id, max(updated_at) AS planned_at
    FROM planner_portfolios
    GROUP BY portfolio_id),
since AS (
    SELECT d.portfolio_id, count(*) AS dead_letters,
           min(d.recorded_at) AS first_at, max(d.recorded_at) AS last_at,
           p.planned_at
    FROM planner_dead_letters d
    JOIN planned p ON p.portfolio_id = d.portfolio_id
    WHERE d.recorded_at > p.planned_at
    GROUP BY d.portfolio_id, p.planned_at)
SELECT s.portfolio_id, s.dead_letters,
       (SELECT decision_id || ' ' || reason FROM planner_dead_letters f
         WHERE f.portfolio_id = s.portfolio_id AND f.recorded_at = s.first_at
         ORDER BY source_offset LIMIT 1) AS first_dead_letter,
       (SELECT decision_id || ' ' || reason FROM planner_dead_letters l
         WHERE l.portfolio_id = s.portfolio_id AND l.recorded_at = s.last_at
         ORDER BY source_offset DESC LIMIT 1) AS last_dead_letter,
       s.planned_at AS last_planned_at
FROM since s
WHERE s.dead_letters >= 3;
