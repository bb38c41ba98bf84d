-- TOTP second factor and its recovery codes.
CREATE TABLE second_factors (
    user_id TEXT PRIMARY KEY NOT NULL REFERENCES users (id),
    -- Base32 TOTP secret. The server must compute codes from it, so it cannot be hashed.
    totp_secret TEXT NOT NULL,
    confirmed_at_ms BIGINT,
    -- The last accepted time step: a code of that step or an earlier one is a replay.
    last_used_step BIGINT
);

CREATE TABLE recovery_codes (
    user_id TEXT NOT NULL REFERENCES users (id),
    -- SHA-256 of a 120-bit code, hexadecimal.
    code_hash TEXT NOT NULL,
    used_at_ms BIGINT,
    PRIMARY KEY (user_id, code_hash)
);

-- When this session proved the second factor; roles that require one need it set.
ALTER TABLE sessions ADD COLUMN second_factor_at_s BIGINT;
