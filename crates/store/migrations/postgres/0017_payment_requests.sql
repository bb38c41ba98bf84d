-- Requests to pay: a person (or a merchant, through its owner) asks a phone number for an
-- amount; the payer accepts (the money moves as a transfer or a payment to the merchant) or
-- declines, within a day.
CREATE TABLE payment_requests (
    id TEXT PRIMARY KEY NOT NULL,
    requester_user_id TEXT NOT NULL REFERENCES users (id),
    -- When the request is a merchant's: the money goes to the merchant's account.
    merchant_id TEXT REFERENCES merchants (id),
    payer_user_id TEXT NOT NULL REFERENCES users (id),
    currency TEXT NOT NULL CHECK (currency IN ('CUP', 'USD', 'MLC')),
    amount_minor BIGINT NOT NULL CHECK (amount_minor > 0),
    note TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('pending', 'accepted', 'declined')),
    -- The operation that paid it.
    operation_id TEXT,
    created_at_ms BIGINT NOT NULL,
    expires_at_ms BIGINT NOT NULL,
    decided_at_ms BIGINT
);
CREATE INDEX payment_requests_by_payer ON payment_requests (payer_user_id, created_at_ms);
CREATE INDEX payment_requests_by_requester ON payment_requests (requester_user_id, created_at_ms);
