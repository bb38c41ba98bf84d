-- Pagos for people: wallets on the ledger and the operations people ask for. Money itself
-- lives in the ledger; these rows record who asked for what, its idempotency key and its
-- outcome, so a retry is answered from here and limits count what was already sent.
CREATE TABLE wallets (
    user_id TEXT NOT NULL REFERENCES users (id),
    currency TEXT NOT NULL,
    -- The ledger account (decimal 128-bit id), derived from user and currency.
    account_id TEXT NOT NULL,
    opened_at_ms BIGINT NOT NULL,
    PRIMARY KEY (user_id, currency)
);

CREATE TABLE payment_operations (
    -- Decimal 128-bit id; the ledger transfer ids of the operation derive from it.
    id TEXT PRIMARY KEY NOT NULL,
    user_id TEXT NOT NULL REFERENCES users (id),
    idempotency_key TEXT,
    -- SHA-256 of the request, so a key reused for another request is refused.
    request_hash BLOB NOT NULL,
    kind TEXT NOT NULL,
    currency TEXT NOT NULL,
    amount_minor BIGINT NOT NULL CHECK (amount_minor > 0),
    fee_minor BIGINT NOT NULL CHECK (fee_minor >= 0),
    counterparty_user_id TEXT REFERENCES users (id),
    counterparty_label TEXT NOT NULL,
    note TEXT NOT NULL,
    -- 1 when it counts toward the person-to-person limits of user_id.
    counts_toward_limits INTEGER NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('pending', 'completed', 'refused')),
    refusal_code TEXT,
    refusal_detail TEXT,
    receipt_code TEXT,
    created_at_ms BIGINT NOT NULL,
    finished_at_ms BIGINT
);
CREATE UNIQUE INDEX payment_operations_by_key ON payment_operations (user_id, idempotency_key);
CREATE INDEX payment_operations_by_user ON payment_operations (user_id, created_at_ms);
CREATE INDEX payment_operations_by_counterparty ON payment_operations (counterparty_user_id, created_at_ms);
CREATE INDEX payment_operations_pending ON payment_operations (status, created_at_ms);

-- Lower limits a person sets for themself (minor units; NULL: the Central Bank's).
CREATE TABLE personal_limits (
    user_id TEXT NOT NULL REFERENCES users (id),
    currency TEXT NOT NULL,
    daily_minor BIGINT,
    monthly_minor BIGINT,
    PRIMARY KEY (user_id, currency)
);
