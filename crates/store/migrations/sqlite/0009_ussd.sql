-- The USSD channel. A session is what a gateway's sessionId names: the number that dialled,
-- how many inputs it has sent, a keyed digest of its text (to know a retry of the last request
-- without storing the text, which carries PINs), the answers to the actions performed so far
-- (JSON, no secrets) and the last screen, so that a retry is answered without acting again.
CREATE TABLE ussd_sessions (
    session_id TEXT PRIMARY KEY NOT NULL,
    phone TEXT NOT NULL,
    service_code TEXT NOT NULL,
    inputs_count INTEGER NOT NULL CHECK (inputs_count >= 0),
    text_digest BLOB NOT NULL,
    answers TEXT NOT NULL,
    last_screen TEXT NOT NULL,
    -- 1 once an END screen was sent: the session takes no more inputs.
    ended INTEGER NOT NULL,
    created_at_ms BIGINT NOT NULL,
    updated_at_ms BIGINT NOT NULL
);
CREATE INDEX ussd_sessions_by_update ON ussd_sessions (updated_at_ms);

-- Wrong USSD PINs per person, counted across sessions and processes (a lock stops every USSD
-- action that needs the PIN until it ends).
CREATE TABLE ussd_pin_failures (
    user_id TEXT PRIMARY KEY NOT NULL REFERENCES users (id),
    failures INTEGER NOT NULL CHECK (failures >= 0),
    window_started_at_s BIGINT NOT NULL,
    locked_until_s BIGINT
);
