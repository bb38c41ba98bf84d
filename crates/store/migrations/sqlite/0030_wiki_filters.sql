-- Enciclopedia's abuse filters, as administrators write them, and when each matched whom (for
-- filters that throttle: how many matches in the window).
CREATE TABLE wiki_filters (
    id BIGINT PRIMARY KEY NOT NULL,
    description TEXT NOT NULL,
    -- JSON: the filter's conditions and action, as the web layer reads and checks them.
    spec TEXT NOT NULL,
    enabled BIGINT NOT NULL CHECK (enabled IN (0, 1)),
    changed_by TEXT REFERENCES users (id),
    changed_at_ms BIGINT NOT NULL
);

CREATE TABLE wiki_filter_hits (
    filter_id BIGINT NOT NULL REFERENCES wiki_filters (id),
    -- The user id of the editor whose edit matched.
    editor TEXT NOT NULL,
    at_ms BIGINT NOT NULL
);
CREATE INDEX wiki_filter_hits_by_editor ON wiki_filter_hits (editor, at_ms);
