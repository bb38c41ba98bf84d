-- Salud's records: cases, deaths, the daily national series, centres and transmission events,
-- and the report of every import. Dates are ISO days (YYYY-MM-DD) as text.
CREATE TABLE salud_cases (
    id TEXT PRIMARY KEY NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('suspected', 'probable', 'confirmed', 'discarded')),
    confirmed_on TEXT,
    country TEXT,
    age BIGINT CHECK (age IS NULL OR (age >= 0 AND age <= 120)),
    sex TEXT CHECK (sex IS NULL OR sex IN ('female', 'male')),
    -- Where it was detected.
    municipality_code TEXT NOT NULL,
    province_code TEXT NOT NULL,
    source TEXT NOT NULL CHECK (source IN ('imported', 'introduced', 'autochthonous', 'unknown')),
    consulted_on TEXT,
    arrived_on TEXT,
    isolation_centre TEXT,
    diagnostic_centre TEXT,
    contacts BIGINT,
    outcome TEXT CHECK (outcome IS NULL OR outcome IN ('recovered', 'deceased', 'evacuated')),
    outcome_on TEXT,
    -- Where the record came from: 'covid19cubadata' or 'ceiba'.
    origin TEXT NOT NULL
);
CREATE INDEX salud_cases_by_day ON salud_cases (confirmed_on);
CREATE INDEX salud_cases_by_place ON salud_cases (municipality_code, confirmed_on);
CREATE INDEX salud_cases_by_province ON salud_cases (province_code, confirmed_on);

CREATE TABLE salud_deaths (
    id TEXT PRIMARY KEY NOT NULL,
    case_id TEXT,
    died_on TEXT NOT NULL,
    -- A JSON array of names.
    comorbidities TEXT NOT NULL
);
CREATE INDEX salud_deaths_by_case ON salud_deaths (case_id);

-- The national figures of each day as the source published them.
CREATE TABLE salud_daily_national (
    day TEXT PRIMARY KEY NOT NULL,
    confirmed BIGINT NOT NULL,
    tests_total BIGINT,
    recovered BIGINT,
    deaths BIGINT,
    serious BIGINT,
    critical BIGINT,
    evacuated BIGINT,
    asymptomatic BIGINT,
    at_risk BIGINT
);

CREATE TABLE salud_centres (
    kind TEXT NOT NULL CHECK (kind IN ('isolation', 'diagnosis')),
    id TEXT NOT NULL,
    name TEXT NOT NULL,
    province_code TEXT,
    PRIMARY KEY (kind, id)
);

CREATE TABLE salud_events (
    id TEXT PRIMARY KEY NOT NULL,
    place TEXT NOT NULL,
    municipality_code TEXT,
    province_code TEXT,
    longitude DOUBLE PRECISION,
    latitude DOUBLE PRECISION,
    open BIGINT NOT NULL
);

CREATE TABLE salud_import_reports (
    id TEXT PRIMARY KEY NOT NULL,
    source TEXT NOT NULL,
    imported_at_ms BIGINT NOT NULL,
    cases_added BIGINT NOT NULL,
    deaths_added BIGINT NOT NULL,
    days_added BIGINT NOT NULL,
    -- The quality report as people read it.
    report TEXT NOT NULL
);
