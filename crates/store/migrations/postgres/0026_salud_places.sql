-- Centres' beds as their staff report them, and the cases each transmission event (cluster)
-- is known to hold.
ALTER TABLE salud_centres ADD COLUMN capacity BIGINT;
ALTER TABLE salud_centres ADD COLUMN occupied BIGINT;
ALTER TABLE salud_centres ADD COLUMN reported_at_ms BIGINT;

CREATE TABLE salud_event_cases (
    event_id TEXT NOT NULL REFERENCES salud_events (id),
    case_id TEXT NOT NULL REFERENCES salud_cases (id),
    linked_by TEXT NOT NULL REFERENCES users (id),
    linked_at_ms BIGINT NOT NULL,
    PRIMARY KEY (event_id, case_id)
);
CREATE INDEX salud_event_cases_by_case ON salud_event_cases (case_id);
