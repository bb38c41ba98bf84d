-- Payment links: a reusable address a merchant shares (a chat, a poster, a web page) where
-- anyone pays it a fixed amount, or the amount they type; each use opens a checkout.
CREATE TABLE payment_links (
    id TEXT PRIMARY KEY NOT NULL,
    merchant_id TEXT NOT NULL REFERENCES merchants (id),
    description TEXT NOT NULL,
    currency TEXT NOT NULL CHECK (currency IN ('CUP', 'USD')),
    -- NULL: the payer types the amount.
    amount_minor BIGINT CHECK (amount_minor IS NULL OR amount_minor > 0),
    created_at_ms BIGINT NOT NULL,
    deactivated_at_ms BIGINT
);
CREATE INDEX payment_links_by_merchant ON payment_links (merchant_id, created_at_ms);

-- Online-shop checkouts: what a shop's server asks a buyer to pay, which the buyer confirms on
-- Ceiba's page (or pays by scanning its code). The money side is a dynamic QR code of the
-- merchant: its claim makes the checkout paid at most once and its expiry ends it; the
-- checkout adds the order (description, items, the shop's reference) and where the buyer goes
-- back to. Its state follows from the code and the paying operation, and from when it was
-- cancelled or its expiry announced.
CREATE TABLE checkouts (
    id TEXT PRIMARY KEY NOT NULL,
    merchant_id TEXT NOT NULL REFERENCES merchants (id),
    qr_code_id TEXT NOT NULL UNIQUE REFERENCES merchant_qr_codes (id),
    payment_link_id TEXT REFERENCES payment_links (id),
    description TEXT NOT NULL,
    -- A JSON array of {name, quantity, unit_amount_minor}.
    items TEXT NOT NULL,
    merchant_reference TEXT,
    return_url TEXT,
    cancel_url TEXT,
    created_at_ms BIGINT NOT NULL,
    expires_at_ms BIGINT NOT NULL,
    cancelled_at_ms BIGINT,
    -- When the expiry sweep announced it expired unpaid.
    expired_at_ms BIGINT
);
CREATE INDEX checkouts_by_merchant ON checkouts (merchant_id, created_at_ms);
CREATE INDEX checkouts_open_by_expiry ON checkouts (expires_at_ms)
    WHERE cancelled_at_ms IS NULL AND expired_at_ms IS NULL;
