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
