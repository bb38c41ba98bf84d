-- The audit log: an append-only RFC 6962 Merkle tree (see crates/audit).
CREATE TABLE audit_entries (
    entry_index BIGINT PRIMARY KEY NOT NULL,
    recorded_at_ms BIGINT NOT NULL,
    -- The canonical bytes of the event; the leaf hash is SHA-256(0x00 || data).
    data BYTEA NOT NULL,
    leaf_hash BYTEA NOT NULL,
    -- The tree root once this entry was appended, so verification can name the first bad entry.
    root_after BYTEA NOT NULL
);

-- One row: the tree's size and its compact frontier, updated in the same transaction as the
-- entries it covers. Appenders lock it first, which serialises them across processes.
CREATE TABLE audit_head (
    id INTEGER PRIMARY KEY NOT NULL CHECK (id = 1),
    tree_size BIGINT NOT NULL,
    frontier BYTEA NOT NULL
);
INSERT INTO audit_head (id, tree_size, frontier) VALUES (1, 0, ''::bytea);

CREATE TABLE audit_checkpoints (
    tree_size BIGINT PRIMARY KEY NOT NULL,
    signed_text TEXT NOT NULL,
    recorded_at_ms BIGINT NOT NULL
);

-- Defence in depth: the application never changes or removes an entry or a checkpoint.
CREATE FUNCTION audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% is append-only', TG_TABLE_NAME;
END;
$$;
CREATE TRIGGER audit_entries_append_only BEFORE UPDATE OR DELETE ON audit_entries
    FOR EACH ROW EXECUTE FUNCTION audit_append_only();
CREATE TRIGGER audit_checkpoints_append_only BEFORE UPDATE OR DELETE ON audit_checkpoints
    FOR EACH ROW EXECUTE FUNCTION audit_append_only();
