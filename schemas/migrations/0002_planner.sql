-- 0002_planner: what the planner needs to resume without re-sending after a crash.
--
-- Written by exec-planner in one transaction every time it commits its exec.targets
-- offsets (once the orders those targets produced are delivered, before the Kafka commit):
--   planner_portfolios: the as_of of the last target planned per portfolio; a target
--     consumed again after a restart with an earlier as_of was already planned and is
--     skipped instead of being planned against a newer book;
--   planner_orders_offsets: the end of the planner's own writes to each exec.orders
--     partition; on (re)assignment the planner reads exec.orders back from there (or
--     from the broker group's committed offset, whichever is earlier) to learn the
--     orders it sent after that point.

CREATE TABLE IF NOT EXISTS planner_portfolios (
    consumer_group     text NOT NULL,
    portfolio_id       text NOT NULL,
    last_as_of         bigint NOT NULL,
    last_decision_id   text NOT NULL DEFAULT '',
    updated_at         timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (consumer_group, portfolio_id)
);

CREATE TABLE IF NOT EXISTS planner_orders_offsets (
    consumer_group     text NOT NULL,
    topic              text NOT NULL,
    kafka_partition    integer NOT NULL,
    next_offset        bigint NOT NULL CHECK (next_offset >= 0),
    updated_at         timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (consumer_group, topic, kafka_partition)
);
