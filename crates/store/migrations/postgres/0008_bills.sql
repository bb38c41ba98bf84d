-- Billers, their bills, and the payments made to them (bills, taxes, fines, top-ups). Money
-- itself is in the ledger, in each biller's account (derived from its code); these rows say
-- what is owed, who operates each biller, and which operation paid what.
CREATE TABLE billers (
    -- Stable machine name; the biller's ledger accounts derive from it, so never change one.
    code TEXT PRIMARY KEY NOT NULL,
    name TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('servicios', 'impuestos', 'telecomunicaciones')),
    -- The account (role `biller`) that uploads bills and reconciles; none until one is named.
    user_id TEXT REFERENCES users (id)
);

INSERT INTO billers (code, name, kind) VALUES
    ('une', 'UNE Empresa Eléctrica', 'servicios'),
    ('aguas-habana', 'Aguas de La Habana', 'servicios'),
    ('gas-manufacturado', 'Empresa de Gas Manufacturado', 'servicios'),
    ('etecsa-fija', 'ETECSA Telefonía fija', 'telecomunicaciones'),
    ('onat', 'ONAT Oficina Nacional de Administración Tributaria', 'impuestos'),
    ('contravenciones', 'Multas por contravenciones', 'impuestos'),
    ('etecsa-movil', 'ETECSA Recargas móvil', 'telecomunicaciones'),
    ('etecsa-nauta', 'ETECSA Nauta', 'telecomunicaciones');

CREATE TABLE bills (
    biller_code TEXT NOT NULL REFERENCES billers (code),
    -- As printed on the bill; upper case.
    reference TEXT NOT NULL,
    customer_name TEXT NOT NULL,
    amount_minor BIGINT NOT NULL CHECK (amount_minor > 0),
    currency TEXT NOT NULL,
    -- AAAA-MM-DD.
    due_date TEXT NOT NULL,
    period TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('open', 'paid')),
    -- The operation paying it now (its hold is in the ledger); at most one at a time, so a bill
    -- is never paid twice, not even by two requests at once.
    held_by_operation TEXT REFERENCES payment_operations (id),
    paid_by_operation TEXT REFERENCES payment_operations (id),
    paid_at_ms BIGINT,
    uploaded_at_ms BIGINT NOT NULL,
    PRIMARY KEY (biller_code, reference),
    CHECK ((status = 'paid') = (paid_by_operation IS NOT NULL))
);

-- What each payment to a biller is for: a bill, or the account a top-up goes to.
CREATE TABLE biller_payments (
    operation_id TEXT PRIMARY KEY NOT NULL REFERENCES payment_operations (id),
    biller_code TEXT NOT NULL REFERENCES billers (code),
    bill_reference TEXT,
    top_up_account TEXT,
    -- The hold's timeout, kept so a retry rebuilds exactly the same ledger transfers.
    hold_timeout_s BIGINT NOT NULL CHECK (hold_timeout_s > 0),
    created_at_ms BIGINT NOT NULL,
    CHECK ((bill_reference IS NULL) <> (top_up_account IS NULL))
);
CREATE INDEX biller_payments_by_biller ON biller_payments (biller_code, created_at_ms);
