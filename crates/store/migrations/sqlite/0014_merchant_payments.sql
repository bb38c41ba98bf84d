-- The QR codes a merchant shows (EMVCo merchant-presented mode). A static code carries no
-- amount: the payer types it, and it serves any number of payments. A dynamic code carries the
-- amount and a reference, expires, and is paid once: the paying operation claims it.
CREATE TABLE merchant_qr_codes (
    id TEXT PRIMARY KEY NOT NULL,
    merchant_id TEXT NOT NULL REFERENCES merchants (id),
    kind TEXT NOT NULL CHECK (kind IN ('static', 'dynamic')),
    currency TEXT NOT NULL CHECK (currency IN ('CUP', 'USD', 'MLC')),
    amount_minor BIGINT CHECK (amount_minor IS NULL OR amount_minor > 0),
    -- The merchant's own reference (an order, a table), shown to the payer.
    reference TEXT,
    -- The payload the image encodes.
    payload TEXT NOT NULL,
    created_at_ms BIGINT NOT NULL,
    expires_at_ms BIGINT,
    -- A dynamic code's paying operation, while it is pending and after it completed.
    paid_by_operation TEXT
);
CREATE INDEX merchant_qr_codes_by_merchant ON merchant_qr_codes (merchant_id, created_at_ms);

-- What each payment to a merchant paid: the merchant, and the QR code scanned, if any.
CREATE TABLE merchant_payments (
    operation_id TEXT PRIMARY KEY NOT NULL REFERENCES payment_operations (id),
    merchant_id TEXT NOT NULL REFERENCES merchants (id),
    qr_code_id TEXT REFERENCES merchant_qr_codes (id),
    reference TEXT,
    created_at_ms BIGINT NOT NULL,
    -- What refunds of it took (pending and completed); never more than the payment's amount.
    refunded_minor BIGINT NOT NULL DEFAULT 0 CHECK (refunded_minor >= 0)
);
CREATE INDEX merchant_payments_by_merchant ON merchant_payments (merchant_id, created_at_ms);

-- Refunds, full or partial: each an operation of its own (money from the merchant back to the
-- payer's wallet) tied to the payment it returns.
CREATE TABLE merchant_refunds (
    operation_id TEXT PRIMARY KEY NOT NULL REFERENCES payment_operations (id),
    payment_operation_id TEXT NOT NULL REFERENCES merchant_payments (operation_id),
    merchant_id TEXT NOT NULL REFERENCES merchants (id),
    created_at_ms BIGINT NOT NULL
);
CREATE INDEX merchant_refunds_by_payment ON merchant_refunds (payment_operation_id);
