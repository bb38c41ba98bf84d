-- The ledger's journal: one row per durable batch, numbered 1, 2, 3 … without gaps. The record
-- is the ledger crate's binary encoding (operations and the time they were applied at, behind a
-- checksum); the ledger's state is rebuilt by replaying the rows in order. The primary key is
-- also the fence between writers: of two processes that believe they write, only one can add
-- the next number.
CREATE TABLE ledger_journal (
    sequence BIGINT PRIMARY KEY NOT NULL,
    record BYTEA NOT NULL
);
-- Records are large and already dense; storing them uncompressed saves CPU on the write path.
ALTER TABLE ledger_journal ALTER COLUMN record SET STORAGE EXTERNAL;

CREATE TRIGGER ledger_journal_append_only BEFORE UPDATE OR DELETE ON ledger_journal
    FOR EACH ROW EXECUTE FUNCTION audit_append_only();
