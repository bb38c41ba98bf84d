-- What the dashboards and alerts stand on.

-- A counter every write to cases or deaths raises in its own transaction: a server keeps the
-- dashboards' aggregates in memory and builds them again only when it has moved.
CREATE TABLE salud_revision (
    id BIGINT PRIMARY KEY NOT NULL CHECK (id = 1),
    revision BIGINT NOT NULL
);
INSERT INTO salud_revision (id, revision) VALUES (1, 0);

-- The provinces a health worker or epidemiologist works in: a health worker reads the cases
-- of these only; an epidemiologist receives these provinces' alerts.
CREATE TABLE salud_staff_provinces (
    user_id TEXT NOT NULL REFERENCES users (id),
    province_code TEXT NOT NULL REFERENCES salud_provinces (code),
    PRIMARY KEY (user_id, province_code)
);
CREATE INDEX salud_staff_by_province ON salud_staff_provinces (province_code);

-- Outbreak signals, one per municipality, day and method (see ceiba-surveillance's alerts).
CREATE TABLE salud_alerts (
    municipality_code TEXT NOT NULL,
    province_code TEXT NOT NULL,
    day TEXT NOT NULL,
    method TEXT NOT NULL CHECK (method IN ('ears_c1', 'ears_c2', 'ears_c3', 'incidence_14d')),
    cases BIGINT NOT NULL,
    value DOUBLE PRECISION NOT NULL,
    threshold DOUBLE PRECISION NOT NULL,
    explanation TEXT NOT NULL,
    detected_at_ms BIGINT NOT NULL,
    PRIMARY KEY (municipality_code, day, method)
);
CREATE INDEX salud_alerts_by_day ON salud_alerts (day);
CREATE INDEX salud_alerts_by_province ON salud_alerts (province_code, day);
