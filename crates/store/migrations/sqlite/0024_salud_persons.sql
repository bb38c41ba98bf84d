-- The people cases happen to: one record per person, found again by national id or by the
-- match rule (ceiba-surveillance's persons.rs), merged when two records turn out to be one.
CREATE TABLE salud_persons (
    id TEXT PRIMARY KEY NOT NULL,
    -- The carné de identidad (11 digits), when known; one person per number.
    national_id TEXT UNIQUE,
    given_names TEXT NOT NULL,
    surnames TEXT NOT NULL,
    birth_date TEXT,
    sex TEXT CHECK (sex IS NULL OR sex IN ('female', 'male')),
    -- Where they live (DPA), and its province: what decides who may read them.
    municipality_code TEXT NOT NULL,
    province_code TEXT NOT NULL,
    -- Folded names and birth date: the match rule's key, when there is a birth date.
    match_key TEXT,
    -- Set when merged into another record, which carries on; the record itself is kept.
    merged_into TEXT REFERENCES salud_persons (id),
    created_at_ms BIGINT NOT NULL
);
CREATE INDEX salud_persons_by_key ON salud_persons (match_key);
CREATE INDEX salud_persons_by_province ON salud_persons (province_code);

-- Every merge, with the merged record as it was and the cases it moved.
CREATE TABLE salud_person_merges (
    id TEXT PRIMARY KEY NOT NULL,
    survivor_id TEXT NOT NULL REFERENCES salud_persons (id),
    merged_id TEXT NOT NULL REFERENCES salud_persons (id),
    merged_by TEXT NOT NULL REFERENCES users (id),
    merged_at_ms BIGINT NOT NULL,
    -- JSON: the merged record's fields and the ids of the cases moved.
    snapshot TEXT NOT NULL
);
CREATE INDEX salud_person_merges_by_survivor ON salud_person_merges (survivor_id);

ALTER TABLE salud_cases ADD COLUMN person_id TEXT;
CREATE INDEX salud_cases_by_person ON salud_cases (person_id);
