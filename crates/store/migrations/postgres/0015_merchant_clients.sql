-- OAuth 2.0 clients of merchants' servers (client credentials grant, RFC 6749 §4.4). The secret
-- is 256 random bits shown once; only its SHA-256 is kept, like a session token's.
CREATE TABLE merchant_clients (
    client_id TEXT PRIMARY KEY NOT NULL,
    merchant_id TEXT NOT NULL REFERENCES merchants (id),
    name TEXT NOT NULL,
    secret_hash TEXT NOT NULL,
    created_at_ms BIGINT NOT NULL,
    revoked_at_ms BIGINT
);
CREATE INDEX merchant_clients_by_merchant ON merchant_clients (merchant_id, created_at_ms);

-- Access tokens issued to those clients: short-lived and scoped; only their SHA-256 is kept.
CREATE TABLE merchant_tokens (
    token_hash TEXT PRIMARY KEY NOT NULL,
    client_id TEXT NOT NULL REFERENCES merchant_clients (client_id),
    -- Space-separated, as OAuth writes scopes.
    scopes TEXT NOT NULL,
    created_at_ms BIGINT NOT NULL,
    expires_at_ms BIGINT NOT NULL
);
CREATE INDEX merchant_tokens_by_expiry ON merchant_tokens (expires_at_ms);
