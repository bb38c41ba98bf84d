-- What health workers' line lists record beyond the archive, and the bulk imports themselves.
ALTER TABLE salud_cases ADD COLUMN onset_on TEXT;
ALTER TABLE salud_cases ADD COLUMN sampled_on TEXT;
ALTER TABLE salud_cases ADD COLUMN admitted_on TEXT;
ALTER TABLE salud_cases ADD COLUMN residence_municipality_code TEXT;
-- 'stable', 'serious', 'critical' (checked by ceiba-surveillance's line_list).
ALTER TABLE salud_cases ADD COLUMN severity TEXT;

-- One bulk import of a line list: the same file sent again by the same person is the same
-- import (its id is the hash of both), which goes on from the rows already written or, when
-- finished, answers its report again.
CREATE TABLE salud_imports (
    id TEXT PRIMARY KEY NOT NULL,
    user_id TEXT NOT NULL REFERENCES users (id),
    rows_total BIGINT NOT NULL,
    -- Good rows written so far, in file order.
    rows_done BIGINT NOT NULL,
    created BIGINT NOT NULL,
    updated BIGINT NOT NULL,
    -- The refused rows as a JSON array of {line, id, reason}.
    rejected TEXT NOT NULL,
    started_at_ms BIGINT NOT NULL,
    finished_at_ms BIGINT
);
