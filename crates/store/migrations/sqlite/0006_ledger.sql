-- The ledger's journal: one row per durable batch, numbered 1, 2, 3 … without gaps. The record
-- is the ledger crate's binary encoding (operations and the time they were applied at, behind a
-- checksum); the ledger's state is rebuilt by replaying the rows in order. The primary key is
-- also the fence between writers: of two processes that believe they write, only one can add
-- the next number.
CREATE TABLE ledger_journal (
    sequence BIGINT PRIMARY KEY NOT NULL,
    record BLOB NOT NULL
);

CREATE TRIGGER ledger_journal_append_only_update BEFORE UPDATE ON ledger_journal
BEGIN SELECT RAISE(ABORT, 'ledger_journal is append-only'); END;
CREATE TRIGGER ledger_journal_append_only_delete BEFORE DELETE ON ledger_journal
BEGIN SELECT RAISE(ABORT, 'ledger_journal is append-only'); END;
