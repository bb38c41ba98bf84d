-- Leases elect the one `ceiba serve` process that runs singleton work (see ARCHITECTURE.md).
-- Times are milliseconds since the Unix epoch, passed in by the caller.
CREATE TABLE leases (
    name TEXT PRIMARY KEY NOT NULL,
    holder TEXT NOT NULL,
    expires_at_ms BIGINT NOT NULL,
    -- Grows by one each time the lease changes hands, so work fenced by it can refuse a stale holder.
    fencing_token BIGINT NOT NULL
);
