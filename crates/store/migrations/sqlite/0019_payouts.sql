-- Bulk payouts: a file of rows (a phone number or a linked bank account's number, an amount, a
-- reference) that a bank operator pays from the bank's settlement account, or a merchant's
-- owner from the merchant's account (payroll, social assistance). Every row is checked before
-- anything is paid; a file with a bad row is kept, with its errors, and never paid.
CREATE TABLE payout_batches (
    id TEXT PRIMARY KEY NOT NULL,
    created_by_user_id TEXT NOT NULL REFERENCES users (id),
    -- 'banco:BPA' or 'comercio:<merchant id>': whose money pays.
    source TEXT NOT NULL,
    currency TEXT NOT NULL CHECK (currency IN ('CUP', 'USD', 'MLC')),
    file_name TEXT NOT NULL,
    row_count BIGINT NOT NULL,
    total_minor BIGINT NOT NULL,
    -- invalid: rows with errors, never paid; ready: checked, waiting for the order to pay;
    -- running: being paid; finished: every row paid or refused.
    status TEXT NOT NULL CHECK (status IN ('invalid', 'ready', 'running', 'finished')),
    created_at_ms BIGINT NOT NULL,
    started_at_ms BIGINT,
    finished_at_ms BIGINT
);
CREATE INDEX payout_batches_by_creator ON payout_batches (created_by_user_id, created_at_ms);
CREATE INDEX payout_batches_by_status ON payout_batches (status, created_at_ms);

-- One row of a file, as read and as it ended. A row is paid by the operation whose idempotency
-- key is 'pago-masivo:<batch>:<line>' of the batch's creator: at most once, whatever restarts.
CREATE TABLE payout_rows (
    batch_id TEXT NOT NULL REFERENCES payout_batches (id),
    line BIGINT NOT NULL,
    -- The destination as written in the file.
    recipient TEXT NOT NULL,
    -- Whose wallet it reaches, when the row is valid.
    user_id TEXT REFERENCES users (id),
    amount_minor BIGINT,
    reference TEXT NOT NULL,
    -- invalid (error says why), waiting, paid or refused (error says why).
    status TEXT NOT NULL CHECK (status IN ('invalid', 'waiting', 'paid', 'refused')),
    error TEXT,
    operation_id TEXT,
    finished_at_ms BIGINT,
    PRIMARY KEY (batch_id, line)
);
CREATE INDEX payout_rows_by_status ON payout_rows (batch_id, status, line);
