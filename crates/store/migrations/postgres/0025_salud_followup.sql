-- Laboratory tests of a case's samples, and the contacts a case exposed, followed until
-- their quarantine ends (rules in ceiba-surveillance's followup.rs).
CREATE TABLE salud_lab_tests (
    id TEXT PRIMARY KEY NOT NULL,
    case_id TEXT NOT NULL REFERENCES salud_cases (id),
    -- The case's province when the test was recorded: who may read it.
    province_code TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('pcr', 'antigen', 'serology')),
    sampled_on TEXT NOT NULL,
    result TEXT NOT NULL CHECK (result IN ('pending', 'positive', 'negative', 'inconclusive')),
    result_on TEXT,
    laboratory TEXT NOT NULL,
    recorded_by TEXT NOT NULL REFERENCES users (id),
    recorded_at_ms BIGINT NOT NULL
);
CREATE INDEX salud_lab_tests_by_case ON salud_lab_tests (case_id);

CREATE TABLE salud_contacts (
    id TEXT PRIMARY KEY NOT NULL,
    index_case_id TEXT NOT NULL REFERENCES salud_cases (id),
    province_code TEXT NOT NULL,
    -- Who the contact is: a person's record.
    person_id TEXT NOT NULL REFERENCES salud_persons (id),
    first_contact_on TEXT,
    last_contact_on TEXT NOT NULL,
    quarantine_end_on TEXT NOT NULL,
    status TEXT NOT NULL
        CHECK (status IN ('pending', 'in_quarantine', 'became_case', 'completed', 'lost')),
    -- The case the contact became, for 'became_case'.
    became_case_id TEXT REFERENCES salud_cases (id),
    note TEXT NOT NULL,
    updated_at_ms BIGINT NOT NULL,
    UNIQUE (index_case_id, person_id)
);
CREATE INDEX salud_contacts_by_follow_up ON salud_contacts (province_code, status, quarantine_end_on);
