-- Optional carné de identidad, the USSD PIN, and changes of phone number waiting for their code.
ALTER TABLE users ADD COLUMN national_id TEXT;
CREATE UNIQUE INDEX users_national_id ON users (national_id);
-- Argon2id PHC string of the 4-digit PIN that the USSD channel asks for.
ALTER TABLE users ADD COLUMN pin_hash TEXT;

CREATE TABLE phone_changes (
    user_id TEXT PRIMARY KEY NOT NULL REFERENCES users (id),
    new_phone TEXT NOT NULL,
    code_hash TEXT NOT NULL,
    expires_at_ms BIGINT NOT NULL,
    attempts INTEGER NOT NULL
);
