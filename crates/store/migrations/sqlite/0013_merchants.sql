-- Businesses that take payments (QR at a counter, an online shop). A person applies; an
-- administrator approves (KYB) before the merchant may take payments. The settlement account
-- is kept like a linked bank account: masked, with a keyed hash, never the full number.
CREATE TABLE merchants (
    id TEXT PRIMARY KEY NOT NULL,
    owner_user_id TEXT NOT NULL REFERENCES users (id),
    business_name TEXT NOT NULL,
    -- Número de Identificación Tributaria: one merchant per NIT.
    nit TEXT NOT NULL UNIQUE,
    -- ISO 18245 merchant category code, four digits.
    category_code TEXT NOT NULL,
    city TEXT NOT NULL,
    settlement_bank_code TEXT NOT NULL,
    settlement_currency TEXT NOT NULL CHECK (settlement_currency IN ('CUP', 'USD', 'MLC')),
    settlement_masked_number TEXT NOT NULL,
    settlement_number_hash BLOB NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('pending', 'approved', 'rejected')),
    created_at_ms BIGINT NOT NULL,
    decided_at_ms BIGINT,
    decided_by_user_id TEXT REFERENCES users (id),
    -- Why an application was rejected, for its owner.
    decision_reason TEXT
);
CREATE INDEX merchants_by_owner ON merchants (owner_user_id, created_at_ms);
CREATE INDEX merchants_by_status ON merchants (status, created_at_ms);
