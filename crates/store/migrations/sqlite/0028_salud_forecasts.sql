-- Each forecast the product made, once per area and last day of data, so that it is scored
-- against what happened once its days have passed.
CREATE TABLE salud_forecasts (
    area TEXT NOT NULL,
    -- The last day of data it knew (YYYY-MM-DD).
    origin_day TEXT NOT NULL,
    data_revision BIGINT NOT NULL,
    made_at_ms BIGINT NOT NULL,
    -- JSON: its days (ensemble and naive baseline) and parameters.
    forecast TEXT NOT NULL,
    PRIMARY KEY (area, origin_day)
);
