-- Bank accounts people link to their wallet. The money is simulated by each bank's settlement
-- account on the ledger; a real bank connection plugs in behind `BankConnector` (crates/web).
-- The full account number is never stored: only its last four digits (masked) and a hash.
CREATE TABLE linked_bank_accounts (
    id TEXT PRIMARY KEY NOT NULL,
    user_id TEXT NOT NULL REFERENCES users (id),
    -- BPA, BANDEC, BANMET.
    bank_code TEXT NOT NULL,
    currency TEXT NOT NULL CHECK (currency IN ('CUP', 'USD', 'MLC')),
    alias TEXT NOT NULL,
    -- «************1234».
    masked_number TEXT NOT NULL,
    -- SHA-256 of the full number, to recognise the same account linked again.
    number_hash BLOB NOT NULL,
    created_at_ms BIGINT NOT NULL,
    removed_at_ms BIGINT
);
CREATE INDEX linked_bank_accounts_by_user ON linked_bank_accounts (user_id, created_at_ms);

-- Which linked account each deposit or withdrawal moves money with, and its hold's timeout,
-- kept so a retry rebuilds exactly the same ledger transfers.
CREATE TABLE bank_account_operations (
    operation_id TEXT PRIMARY KEY NOT NULL REFERENCES payment_operations (id),
    bank_account_id TEXT NOT NULL REFERENCES linked_bank_accounts (id),
    hold_timeout_s BIGINT NOT NULL CHECK (hold_timeout_s > 0),
    created_at_ms BIGINT NOT NULL
);
