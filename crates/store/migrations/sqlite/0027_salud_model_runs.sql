-- Runs of Salud's models (metapopulation SEIR scenarios, the agent-based model): what was
-- asked, of which revision of the records, by whom, how far it got and what it found, so any
-- chart drawn from one can be made again.
CREATE TABLE salud_model_runs (
    id TEXT PRIMARY KEY NOT NULL,
    model TEXT NOT NULL CHECK (model IN ('seir', 'abm')),
    -- JSON, as the run read them (defaults filled in).
    parameters TEXT NOT NULL,
    data_revision BIGINT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('queued', 'running', 'done', 'failed', 'cancelled')),
    -- Per mille.
    progress BIGINT NOT NULL CHECK (progress >= 0 AND progress <= 1000),
    -- JSON, once done.
    result TEXT,
    error TEXT,
    created_by TEXT NOT NULL REFERENCES users (id),
    created_at_ms BIGINT NOT NULL,
    -- The runner writes it with its progress: a run not heard of for long was interrupted.
    updated_at_ms BIGINT NOT NULL,
    finished_at_ms BIGINT
);
CREATE INDEX salud_model_runs_by_time ON salud_model_runs (created_at_ms);
