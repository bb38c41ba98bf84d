-- Enciclopedia: pages by namespace and normalized title, every revision of each, the links and
-- categories of each page's latest revision (for "what links here" and category pages), and
-- who watches what.
CREATE TABLE wiki_pages (
    id TEXT PRIMARY KEY NOT NULL,
    namespace BIGINT NOT NULL,
    -- Normalized (ceiba-wiki's `normalize_title`): spaces, first letter upper case.
    title TEXT NOT NULL,
    latest_revision_id TEXT,
    -- The last revision a reviewer accepted: what readers see of a page under pending changes.
    reviewed_revision_id TEXT,
    revisions BIGINT NOT NULL,
    -- NULL, 'semi' (autoconfirmed editors) or 'full' (administrators), until it expires.
    protection TEXT CHECK (protection IS NULL OR protection IN ('semi', 'full')),
    protection_expires_ms BIGINT,
    -- 1 when edits by editors who are not reviewers wait for review.
    pending_changes BIGINT NOT NULL CHECK (pending_changes IN (0, 1)),
    redirect_to TEXT,
    created_at_ms BIGINT NOT NULL,
    touched_at_ms BIGINT NOT NULL,
    UNIQUE (namespace, title)
);

CREATE TABLE wiki_revisions (
    id TEXT PRIMARY KEY NOT NULL,
    page_id TEXT NOT NULL REFERENCES wiki_pages (id),
    -- 1, 2, 3… within its page.
    number BIGINT NOT NULL,
    parent_id TEXT,
    -- NULL for revisions imported from another wiki (their author's name is kept).
    author_id TEXT REFERENCES users (id),
    author_name TEXT NOT NULL,
    timestamp_ms BIGINT NOT NULL,
    summary TEXT NOT NULL,
    text TEXT NOT NULL,
    bytes BIGINT NOT NULL,
    -- Hex SHA-256 of the text.
    sha256 TEXT NOT NULL,
    minor BIGINT NOT NULL CHECK (minor IN (0, 1)),
    -- Abuse filters' tags, comma separated.
    tags TEXT NOT NULL,
    reviewed_by TEXT REFERENCES users (id),
    reviewed_at_ms BIGINT,
    -- An imported revision's origin ("site:revision id"): importing twice adds nothing.
    external_id TEXT UNIQUE,
    UNIQUE (page_id, number)
);
CREATE INDEX wiki_revisions_by_time ON wiki_revisions (timestamp_ms);
CREATE INDEX wiki_revisions_by_author ON wiki_revisions (author_id, timestamp_ms);

CREATE TABLE wiki_links (
    page_id TEXT NOT NULL REFERENCES wiki_pages (id),
    target_namespace BIGINT NOT NULL,
    target_title TEXT NOT NULL,
    PRIMARY KEY (page_id, target_namespace, target_title)
);
CREATE INDEX wiki_links_by_target ON wiki_links (target_namespace, target_title);

CREATE TABLE wiki_categories (
    page_id TEXT NOT NULL REFERENCES wiki_pages (id),
    category TEXT NOT NULL,
    PRIMARY KEY (page_id, category)
);
CREATE INDEX wiki_categories_by_name ON wiki_categories (category);

CREATE TABLE wiki_watchlist (
    user_id TEXT NOT NULL REFERENCES users (id),
    page_id TEXT NOT NULL REFERENCES wiki_pages (id),
    since_ms BIGINT NOT NULL,
    PRIMARY KEY (user_id, page_id)
);
