-- One row whose lock every new operation takes before its idempotency key is looked up and its
-- limits are counted (`crates/store/src/payment_batches.rs`): operations begin one batch at a
-- time across every process sharing the database, so two cannot both slip under a limit or
-- both claim a key. A batch holds many operations, so the turn costs one statement per batch.
CREATE TABLE payment_turn (
    id INTEGER PRIMARY KEY NOT NULL CHECK (id = 1),
    turns BIGINT NOT NULL
);
INSERT INTO payment_turn (id, turns) VALUES (1, 0);
