-- Where a merchant wants to hear of its payments and refunds, and the key that signs what it
-- hears, sealed with the server's secrets key (the signature needs the key itself).
CREATE TABLE merchant_webhooks (
    merchant_id TEXT PRIMARY KEY NOT NULL REFERENCES merchants (id),
    url TEXT NOT NULL,
    sealed_secret TEXT NOT NULL,
    updated_at_ms BIGINT NOT NULL
);

-- Every event to deliver, written in the transaction that ends the operation it tells of, and
-- its delivery: attempts, the next one, the last answer, and when it arrived or was given up
-- (after a day of retries with exponential backoff).
CREATE TABLE webhook_deliveries (
    id TEXT PRIMARY KEY NOT NULL,
    merchant_id TEXT NOT NULL REFERENCES merchants (id),
    event_type TEXT NOT NULL,
    payload TEXT NOT NULL,
    created_at_ms BIGINT NOT NULL,
    attempts BIGINT NOT NULL,
    next_attempt_at_ms BIGINT NOT NULL,
    last_status BIGINT,
    last_error TEXT,
    delivered_at_ms BIGINT,
    gave_up_at_ms BIGINT
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at_ms);
CREATE INDEX webhook_deliveries_by_merchant ON webhook_deliveries (merchant_id, created_at_ms);
