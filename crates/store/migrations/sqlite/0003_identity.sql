-- People, their roles, sessions and devices; the SMS outbox; sign-in throttling.
CREATE TABLE users (
    id TEXT PRIMARY KEY NOT NULL,
    -- E.164, parsed by ceiba-identity's PhoneNumber before it gets here.
    phone TEXT NOT NULL UNIQUE,
    display_name TEXT NOT NULL,
    -- Argon2id PHC string; never the password.
    password_hash TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('pending', 'active', 'disabled')),
    created_at_ms BIGINT NOT NULL
);

CREATE TABLE user_roles (
    user_id TEXT NOT NULL REFERENCES users (id),
    role TEXT NOT NULL,
    PRIMARY KEY (user_id, role)
);

-- The one-time code that confirms a phone number; only its hash is kept.
CREATE TABLE phone_confirmations (
    user_id TEXT PRIMARY KEY NOT NULL REFERENCES users (id),
    code_hash TEXT NOT NULL,
    expires_at_ms BIGINT NOT NULL,
    attempts INTEGER NOT NULL
);

-- Keyed by the phone number typed, not by account, so unknown numbers are throttled exactly
-- like known ones and the lock reveals nothing about who has an account.
CREATE TABLE login_throttle (
    phone TEXT PRIMARY KEY NOT NULL,
    unknown_failures INTEGER NOT NULL,
    unknown_window_started_at_s BIGINT NOT NULL,
    unknown_locked_until_s BIGINT,
    known_failures INTEGER NOT NULL,
    known_window_started_at_s BIGINT NOT NULL,
    known_locked_until_s BIGINT
);

CREATE TABLE sessions (
    -- SHA-256 of the bearer token, hexadecimal; the token itself is never stored.
    token_hash TEXT PRIMARY KEY NOT NULL,
    -- A public name for the session, to list and revoke it without revealing the hash.
    id TEXT NOT NULL UNIQUE,
    user_id TEXT NOT NULL REFERENCES users (id),
    created_at_s BIGINT NOT NULL,
    last_seen_at_s BIGINT NOT NULL,
    revoked_at_s BIGINT,
    client TEXT NOT NULL
);
CREATE INDEX sessions_by_user ON sessions (user_id);

CREATE TABLE known_devices (
    user_id TEXT NOT NULL REFERENCES users (id),
    device_hash TEXT NOT NULL,
    created_at_ms BIGINT NOT NULL,
    PRIMARY KEY (user_id, device_hash)
);

CREATE TABLE sms_outbox (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    phone TEXT NOT NULL,
    body TEXT NOT NULL,
    created_at_ms BIGINT NOT NULL,
    sent_at_ms BIGINT,
    attempts INTEGER NOT NULL,
    next_attempt_at_ms BIGINT NOT NULL,
    last_error TEXT
);
CREATE INDEX sms_outbox_pending ON sms_outbox (sent_at_ms, next_attempt_at_ms);
