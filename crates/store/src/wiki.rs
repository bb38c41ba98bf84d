//! Enciclopedia's pages and revisions. An edit names the revision it was made on; it is saved
//! only if that is still the page's latest, in the same transaction that moves the page, so two
//! editors of one version never overwrite each other: the second gets [`SaveOutcome::Conflict`]
//! with the revision that won, and merges. Imported revisions carry their origin's id and are
//! stored once however often the import runs.

use sha2::{Digest, Sha256};
use sqlx::Row;

use crate::db::Db;
use crate::error::StoreError;
use crate::payments::{to_i64, to_u64};

/// Most revisions one history, recent-changes or watchlist read returns.
pub const WIKI_LIST_MAX: u64 = 500;
/// Most pages one namespace listing returns: EcuRed holds about 236,000 articles.
pub const WIKI_PAGES_READ_MAX: u64 = 2_000_000;
/// Most links or categories one revision records (a page beyond is truncated there).
pub const WIKI_LINKS_MAX: usize = 5_000;

/// A page as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WikiPageRow {
    pub id: String,
    pub namespace: i64,
    pub title: String,
    pub latest_revision_id: Option<String>,
    pub reviewed_revision_id: Option<String>,
    pub revisions: u64,
    /// `semi` or `full`.
    pub protection: Option<String>,
    pub protection_expires_ms: Option<i64>,
    pub pending_changes: bool,
    pub redirect_to: Option<String>,
    pub created_at_ms: i64,
    pub touched_at_ms: i64,
}

/// A revision as stored, its text included or not.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WikiRevisionRow {
    pub id: String,
    pub page_id: String,
    pub number: u64,
    pub parent_id: Option<String>,
    pub author_id: Option<String>,
    pub author_name: String,
    pub timestamp_ms: i64,
    pub summary: String,
    /// Empty in lists (histories, recent changes).
    pub text: String,
    pub bytes: u64,
    pub sha256: String,
    pub minor: bool,
    pub tags: String,
    pub reviewed_by: Option<String>,
    pub external_id: Option<String>,
}

/// An edit to save.
#[derive(Debug, Clone)]
pub struct NewRevision<'a> {
    /// The new revision's id, and the page's should the edit create it (the caller makes
    /// them: UUIDs).
    pub revision_id: &'a str,
    pub new_page_id: &'a str,
    pub namespace: i64,
    /// Normalized.
    pub title: &'a str,
    /// The revision the editor started from; `None` to create the page.
    pub base_revision_id: Option<&'a str>,
    pub author_id: Option<&'a str>,
    pub author_name: &'a str,
    pub timestamp_ms: i64,
    pub summary: &'a str,
    pub text: &'a str,
    pub minor: bool,
    pub tags: &'a str,
    /// Accepted as it is saved (a reviewer's edit, or a page without pending changes).
    pub reviewed_by: Option<&'a str>,
    /// The internal links and categories of the text (from ceiba-wiki's renderer).
    pub links: &'a [(i64, String)],
    pub categories: &'a [String],
    pub redirect_to: Option<&'a str>,
    /// For an import: where it came from.
    pub external_id: Option<&'a str>,
}

/// What saving an edit did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SaveOutcome {
    Saved {
        page_id: String,
        revision_id: String,
    },
    /// The page moved on since the editor's base (or was created meanwhile): nothing saved.
    Conflict { latest_revision_id: Option<String> },
    /// An imported revision already stored.
    AlreadyImported { revision_id: String },
}

const PAGE_COLUMNS: &str = "id, namespace, title, latest_revision_id, reviewed_revision_id, \
                            revisions, protection, protection_expires_ms, pending_changes, \
                            redirect_to, created_at_ms, touched_at_ms";
const REVISION_COLUMNS: &str = "id, page_id, number, parent_id, author_id, author_name, \
                                timestamp_ms, summary, bytes, sha256, minor, tags, reviewed_by, \
                                external_id";

/// A revision with its page's namespace and title, for lists of changes.
const CHANGE_COLUMNS: &str = "p.namespace AS page_namespace, p.title AS page_title, r.id, \
                              r.page_id, r.number, r.parent_id, r.author_id, r.author_name, \
                              r.timestamp_ms, r.summary, r.bytes, r.sha256, r.minor, r.tags, \
                              r.reviewed_by, r.external_id";

/// Revisions of a list of changes, with their page's namespace and title.
type Changes = Vec<(i64, String, WikiRevisionRow)>;

fn change_rows(rows: &[sqlx::any::AnyRow]) -> Result<Changes, StoreError> {
    rows.iter()
        .map(|row| {
            Ok((
                row.try_get("page_namespace")?,
                row.try_get("page_title")?,
                revision_row(row, false)?,
            ))
        })
        .collect()
}

fn page_row(row: &sqlx::any::AnyRow) -> Result<WikiPageRow, StoreError> {
    Ok(WikiPageRow {
        id: row.try_get("id")?,
        namespace: row.try_get("namespace")?,
        title: row.try_get("title")?,
        latest_revision_id: row.try_get("latest_revision_id")?,
        reviewed_revision_id: row.try_get("reviewed_revision_id")?,
        revisions: to_u64(row.try_get("revisions")?, "revisiones")?,
        protection: row.try_get("protection")?,
        protection_expires_ms: row.try_get("protection_expires_ms")?,
        pending_changes: row.try_get::<i64, _>("pending_changes")? == 1,
        redirect_to: row.try_get("redirect_to")?,
        created_at_ms: row.try_get("created_at_ms")?,
        touched_at_ms: row.try_get("touched_at_ms")?,
    })
}

fn revision_row(row: &sqlx::any::AnyRow, with_text: bool) -> Result<WikiRevisionRow, StoreError> {
    Ok(WikiRevisionRow {
        id: row.try_get("id")?,
        page_id: row.try_get("page_id")?,
        number: to_u64(row.try_get("number")?, "número")?,
        parent_id: row.try_get("parent_id")?,
        author_id: row.try_get("author_id")?,
        author_name: row.try_get("author_name")?,
        timestamp_ms: row.try_get("timestamp_ms")?,
        summary: row.try_get("summary")?,
        text: if with_text {
            row.try_get("text")?
        } else {
            String::new()
        },
        bytes: to_u64(row.try_get("bytes")?, "bytes")?,
        sha256: row.try_get("sha256")?,
        minor: row.try_get::<i64, _>("minor")? == 1,
        tags: row.try_get("tags")?,
        reviewed_by: row.try_get("reviewed_by")?,
        external_id: row.try_get("external_id")?,
    })
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}

impl Db {
    /// A page by namespace and normalized title.
    pub async fn wiki_page(
        &self,
        namespace: i64,
        title: &str,
    ) -> Result<Option<WikiPageRow>, StoreError> {
        let row = sqlx::query(&format!(
            "SELECT {PAGE_COLUMNS} FROM wiki_pages WHERE namespace = $1 AND title = $2"
        ))
        .bind(namespace)
        .bind(title)
        .fetch_optional(self.pool())
        .await?;
        row.as_ref().map(page_row).transpose()
    }

    /// Every page of a namespace, by title (for exports), up to [`WIKI_PAGES_READ_MAX`].
    pub async fn wiki_pages_in(&self, namespace: i64) -> Result<Vec<WikiPageRow>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT {PAGE_COLUMNS} FROM wiki_pages WHERE namespace = $1 ORDER BY title LIMIT $2"
        ))
        .bind(namespace)
        .bind(to_i64(WIKI_PAGES_READ_MAX, "límite")?)
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(page_row).collect()
    }

    /// A revision with its text.
    pub async fn wiki_revision(&self, id: &str) -> Result<Option<WikiRevisionRow>, StoreError> {
        let row = sqlx::query(&format!(
            "SELECT {REVISION_COLUMNS}, text FROM wiki_revisions WHERE id = $1"
        ))
        .bind(id)
        .fetch_optional(self.pool())
        .await?;
        row.as_ref().map(|row| revision_row(row, true)).transpose()
    }

    /// Saves an edit if its base is still the page's latest revision (see the module's note).
    pub async fn save_wiki_revision(
        &self,
        edit: &NewRevision<'_>,
    ) -> Result<SaveOutcome, StoreError> {
        let (_turn, mut transaction) = self.begin_write().await?;
        if let Some(external) = edit.external_id {
            let found = sqlx::query("SELECT id FROM wiki_revisions WHERE external_id = $1")
                .bind(external)
                .fetch_optional(&mut *transaction)
                .await?;
            if let Some(row) = found {
                return Ok(SaveOutcome::AlreadyImported {
                    revision_id: row.try_get("id")?,
                });
            }
        }
        let page = sqlx::query(&format!(
            "SELECT {PAGE_COLUMNS} FROM wiki_pages WHERE namespace = $1 AND title = $2"
        ))
        .bind(edit.namespace)
        .bind(edit.title)
        .fetch_optional(&mut *transaction)
        .await?
        .as_ref()
        .map(page_row)
        .transpose()?;
        let revision_id = edit.revision_id.to_owned();
        let (page_id, number) = match &page {
            None if edit.base_revision_id.is_none() => {
                let page_id = edit.new_page_id.to_owned();
                sqlx::query(
                    "INSERT INTO wiki_pages (id, namespace, title, latest_revision_id, \
                     reviewed_revision_id, revisions, pending_changes, redirect_to, \
                     created_at_ms, touched_at_ms) \
                     VALUES ($1, $2, $3, $4, $5, 1, 0, $6, $7, $7)",
                )
                .bind(&page_id)
                .bind(edit.namespace)
                .bind(edit.title)
                .bind(&revision_id)
                .bind(edit.reviewed_by.map(|_| revision_id.as_str()))
                .bind(edit.redirect_to)
                .bind(edit.timestamp_ms)
                .execute(&mut *transaction)
                .await?;
                (page_id, 1_u64)
            }
            None => {
                return Ok(SaveOutcome::Conflict {
                    latest_revision_id: None,
                });
            }
            Some(page) if page.latest_revision_id.as_deref() != edit.base_revision_id => {
                return Ok(SaveOutcome::Conflict {
                    latest_revision_id: page.latest_revision_id.clone(),
                });
            }
            Some(page) => {
                // Moves only from the base read above: a concurrent save loses here.
                let moved = sqlx::query(
                    "UPDATE wiki_pages SET latest_revision_id = $1, revisions = revisions + 1, \
                     reviewed_revision_id = CASE WHEN $2 = 1 THEN $1 ELSE reviewed_revision_id \
                     END, redirect_to = $3, touched_at_ms = $4 \
                     WHERE id = $5 AND latest_revision_id = $6",
                )
                .bind(&revision_id)
                .bind(i64::from(edit.reviewed_by.is_some()))
                .bind(edit.redirect_to)
                .bind(edit.timestamp_ms)
                .bind(&page.id)
                .bind(edit.base_revision_id)
                .execute(&mut *transaction)
                .await?;
                if moved.rows_affected() != 1 {
                    return Ok(SaveOutcome::Conflict {
                        latest_revision_id: page.latest_revision_id.clone(),
                    });
                }
                (page.id.clone(), page.revisions + 1)
            }
        };
        sqlx::query(
            "INSERT INTO wiki_revisions (id, page_id, number, parent_id, author_id, author_name, \
             timestamp_ms, summary, text, bytes, sha256, minor, tags, reviewed_by, \
             reviewed_at_ms, external_id) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)",
        )
        .bind(&revision_id)
        .bind(&page_id)
        .bind(to_i64(number, "número")?)
        .bind(edit.base_revision_id)
        .bind(edit.author_id)
        .bind(edit.author_name)
        .bind(edit.timestamp_ms)
        .bind(edit.summary)
        .bind(edit.text)
        .bind(to_i64(edit.text.len() as u64, "bytes")?)
        .bind(hex(&Sha256::digest(edit.text.as_bytes())))
        .bind(i64::from(edit.minor))
        .bind(edit.tags)
        .bind(edit.reviewed_by)
        .bind(edit.reviewed_by.map(|_| edit.timestamp_ms))
        .bind(edit.external_id)
        .execute(&mut *transaction)
        .await?;
        // The links and categories are those of the latest revision.
        for table in ["wiki_links", "wiki_categories"] {
            sqlx::query(&format!("DELETE FROM {table} WHERE page_id = $1"))
                .bind(&page_id)
                .execute(&mut *transaction)
                .await?;
        }
        let mut links: Vec<&(i64, String)> = edit.links.iter().take(WIKI_LINKS_MAX).collect();
        links.sort();
        links.dedup();
        for (namespace, title) in links {
            sqlx::query(
                "INSERT INTO wiki_links (page_id, target_namespace, target_title) \
                 VALUES ($1, $2, $3)",
            )
            .bind(&page_id)
            .bind(*namespace)
            .bind(title)
            .execute(&mut *transaction)
            .await?;
        }
        let mut categories: Vec<&String> = edit.categories.iter().take(WIKI_LINKS_MAX).collect();
        categories.sort();
        categories.dedup();
        for category in categories {
            sqlx::query("INSERT INTO wiki_categories (page_id, category) VALUES ($1, $2)")
                .bind(&page_id)
                .bind(category)
                .execute(&mut *transaction)
                .await?;
        }
        transaction.commit().await?;
        Ok(SaveOutcome::Saved {
            page_id,
            revision_id,
        })
    }

    /// A page's revisions, newest first, without their text.
    pub async fn wiki_history(
        &self,
        page_id: &str,
        limit: u64,
    ) -> Result<Vec<WikiRevisionRow>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT {REVISION_COLUMNS} FROM wiki_revisions WHERE page_id = $1 \
             ORDER BY number DESC LIMIT $2"
        ))
        .bind(page_id)
        .bind(to_i64(limit.min(WIKI_LIST_MAX), "límite")?)
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(|row| revision_row(row, false)).collect()
    }

    /// The latest revisions of every page, newest first, with their page's namespace and
    /// title.
    pub async fn wiki_recent_changes(
        &self,
        limit: u64,
    ) -> Result<Vec<(i64, String, WikiRevisionRow)>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT {CHANGE_COLUMNS} FROM wiki_revisions r JOIN wiki_pages p ON p.id = r.page_id \
             ORDER BY r.timestamp_ms DESC, r.id LIMIT $1",
        ))
        .bind(to_i64(limit.min(WIKI_LIST_MAX), "límite")?)
        .fetch_all(self.pool())
        .await?;
        change_rows(&rows)
    }

    /// The pages whose latest revision links to this one, by namespace and title.
    pub async fn wiki_links_here(
        &self,
        namespace: i64,
        title: &str,
    ) -> Result<Vec<(i64, String)>, StoreError> {
        let rows = sqlx::query(
            "SELECT p.namespace, p.title FROM wiki_links l JOIN wiki_pages p ON p.id = l.page_id \
             WHERE l.target_namespace = $1 AND l.target_title = $2 \
             ORDER BY p.namespace, p.title LIMIT $3",
        )
        .bind(namespace)
        .bind(title)
        .bind(to_i64(WIKI_LIST_MAX, "límite")?)
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|row| Ok((row.try_get("namespace")?, row.try_get("title")?)))
            .collect()
    }

    /// The pages of a category, by namespace and title.
    pub async fn wiki_category_members(
        &self,
        category: &str,
    ) -> Result<Vec<(i64, String)>, StoreError> {
        let rows = sqlx::query(
            "SELECT p.namespace, p.title FROM wiki_categories c \
             JOIN wiki_pages p ON p.id = c.page_id WHERE c.category = $1 \
             ORDER BY p.namespace, p.title LIMIT $2",
        )
        .bind(category)
        .bind(to_i64(WIKI_LIST_MAX, "límite")?)
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|row| Ok((row.try_get("namespace")?, row.try_get("title")?)))
            .collect()
    }

    /// Which of these titles (in one namespace) exist: for red links.
    pub async fn wiki_existing(
        &self,
        namespace: i64,
        titles: &[String],
    ) -> Result<Vec<String>, StoreError> {
        let mut found = Vec::new();
        // In slices, so that one page with thousands of links stays a handful of queries.
        for chunk in titles.chunks(200) {
            let mut values: Vec<&str> = Vec::with_capacity(chunk.len());
            let list = crate::salud_views::in_list("title", chunk, &mut values);
            let sql = format!(
                "SELECT title FROM wiki_pages WHERE namespace = ${} AND {list}",
                values.len() + 1
            );
            let mut query = sqlx::query(&sql);
            for value in &values {
                query = query.bind(*value);
            }
            for row in query.bind(namespace).fetch_all(self.pool()).await? {
                found.push(row.try_get("title")?);
            }
        }
        Ok(found)
    }

    /// Accepts a revision as reviewed; the page shows it to readers if it is newer than the
    /// one they saw. False when there is no such revision.
    pub async fn review_wiki_revision(
        &self,
        revision_id: &str,
        reviewer_id: &str,
        now_ms: i64,
    ) -> Result<bool, StoreError> {
        let (_turn, mut transaction) = self.begin_write().await?;
        let marked = sqlx::query(
            "UPDATE wiki_revisions SET reviewed_by = $1, reviewed_at_ms = $2 WHERE id = $3",
        )
        .bind(reviewer_id)
        .bind(now_ms)
        .bind(revision_id)
        .execute(&mut *transaction)
        .await?;
        if marked.rows_affected() != 1 {
            return Ok(false);
        }
        sqlx::query(
            "UPDATE wiki_pages SET reviewed_revision_id = $1 WHERE id = \
             (SELECT page_id FROM wiki_revisions WHERE id = $1) AND (reviewed_revision_id IS NULL \
             OR (SELECT number FROM wiki_revisions WHERE id = reviewed_revision_id) < \
             (SELECT number FROM wiki_revisions WHERE id = $1))",
        )
        .bind(revision_id)
        .execute(&mut *transaction)
        .await?;
        transaction.commit().await?;
        Ok(true)
    }

    /// Sets (or with `None` lifts) a page's protection and its pending-changes flag.
    pub async fn set_wiki_protection(
        &self,
        page_id: &str,
        protection: Option<(&str, Option<i64>)>,
        pending_changes: bool,
    ) -> Result<bool, StoreError> {
        let _turn = self.write_turn().await;
        let done = sqlx::query(
            "UPDATE wiki_pages SET protection = $1, protection_expires_ms = $2, \
             pending_changes = $3 WHERE id = $4",
        )
        .bind(protection.map(|(level, _)| level))
        .bind(protection.and_then(|(_, expires)| expires))
        .bind(i64::from(pending_changes))
        .bind(page_id)
        .execute(self.write_pool())
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Starts or stops watching a page.
    pub async fn set_wiki_watch(
        &self,
        user_id: &str,
        page_id: &str,
        watch: bool,
        now_ms: i64,
    ) -> Result<(), StoreError> {
        let _turn = self.write_turn().await;
        if watch {
            sqlx::query(
                "INSERT INTO wiki_watchlist (user_id, page_id, since_ms) VALUES ($1, $2, $3) \
                 ON CONFLICT (user_id, page_id) DO NOTHING",
            )
            .bind(user_id)
            .bind(page_id)
            .bind(now_ms)
            .execute(self.write_pool())
            .await?;
        } else {
            sqlx::query("DELETE FROM wiki_watchlist WHERE user_id = $1 AND page_id = $2")
                .bind(user_id)
                .bind(page_id)
                .execute(self.write_pool())
                .await?;
        }
        Ok(())
    }

    /// The latest revisions of the pages a person watches, newest first.
    pub async fn wiki_watchlist(
        &self,
        user_id: &str,
        limit: u64,
    ) -> Result<Vec<(i64, String, WikiRevisionRow)>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT {CHANGE_COLUMNS} FROM wiki_watchlist w JOIN wiki_pages p ON p.id = w.page_id \
             JOIN wiki_revisions r ON r.page_id = p.id \
             WHERE w.user_id = $1 ORDER BY r.timestamp_ms DESC, r.id LIMIT $2",
        ))
        .bind(user_id)
        .bind(to_i64(limit.min(WIKI_LIST_MAX), "límite")?)
        .fetch_all(self.pool())
        .await?;
        change_rows(&rows)
    }
}

/// Most abuse filters the encyclopedia keeps: each edit is checked against all of them.
pub const WIKI_FILTERS_MAX: u64 = 200;

/// An abuse filter as stored; its conditions and action are JSON that the web layer checks
/// before writing and again after reading.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WikiFilterRow {
    pub id: i64,
    pub description: String,
    pub spec: String,
    pub enabled: bool,
    pub changed_at_ms: i64,
}

/// Editors' own edits and abuse filters: what rate limits, autoconfirmation and filters need.
impl Db {
    /// An author's edits since `since_ms`, newest first (at most [`WIKI_LIST_MAX`]): when, and
    /// whether the edit created its page.
    pub async fn wiki_author_edits(
        &self,
        author_id: &str,
        since_ms: i64,
    ) -> Result<Vec<(i64, bool)>, StoreError> {
        let rows = sqlx::query(
            "SELECT timestamp_ms, number FROM wiki_revisions \
             WHERE author_id = $1 AND timestamp_ms > $2 ORDER BY timestamp_ms DESC LIMIT $3",
        )
        .bind(author_id)
        .bind(since_ms)
        .bind(to_i64(WIKI_LIST_MAX, "límite")?)
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|row| {
                Ok((
                    row.try_get("timestamp_ms")?,
                    row.try_get::<i64, _>("number")? == 1,
                ))
            })
            .collect()
    }

    /// How many revisions an author saved, for autoconfirmation.
    pub async fn wiki_edit_count(&self, author_id: &str) -> Result<u64, StoreError> {
        let row = sqlx::query("SELECT COUNT(*) AS edits FROM wiki_revisions WHERE author_id = $1")
            .bind(author_id)
            .fetch_one(self.pool())
            .await?;
        to_u64(row.try_get("edits")?, "ediciones")
    }

    /// Every abuse filter, by id (at most [`WIKI_FILTERS_MAX`]).
    pub async fn wiki_filters(&self) -> Result<Vec<WikiFilterRow>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, description, spec, enabled, changed_at_ms FROM wiki_filters \
             ORDER BY id LIMIT $1",
        )
        .bind(to_i64(WIKI_FILTERS_MAX, "límite")?)
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|row| {
                Ok(WikiFilterRow {
                    id: row.try_get("id")?,
                    description: row.try_get("description")?,
                    spec: row.try_get("spec")?,
                    enabled: row.try_get::<i64, _>("enabled")? == 1,
                    changed_at_ms: row.try_get("changed_at_ms")?,
                })
            })
            .collect()
    }

    /// Creates or replaces an abuse filter.
    pub async fn set_wiki_filter(
        &self,
        id: i64,
        description: &str,
        spec: &str,
        enabled: bool,
        changed_by: &str,
        now_ms: i64,
    ) -> Result<(), StoreError> {
        let _turn = self.write_turn().await;
        sqlx::query(
            "INSERT INTO wiki_filters (id, description, spec, enabled, changed_by, changed_at_ms) \
             VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (id) DO UPDATE SET \
             description = excluded.description, spec = excluded.spec, \
             enabled = excluded.enabled, changed_by = excluded.changed_by, \
             changed_at_ms = excluded.changed_at_ms",
        )
        .bind(id)
        .bind(description)
        .bind(spec)
        .bind(i64::from(enabled))
        .bind(changed_by)
        .bind(now_ms)
        .execute(self.write_pool())
        .await?;
        Ok(())
    }

    /// Records that these filters matched an editor's edit.
    pub async fn record_wiki_filter_hits(
        &self,
        editor: &str,
        filter_ids: &[i64],
        at_ms: i64,
    ) -> Result<(), StoreError> {
        let (_turn, mut transaction) = self.begin_write().await?;
        for filter_id in filter_ids
            .iter()
            .take(usize::try_from(WIKI_FILTERS_MAX).unwrap_or(usize::MAX))
        {
            sqlx::query(
                "INSERT INTO wiki_filter_hits (filter_id, editor, at_ms) VALUES ($1, $2, $3)",
            )
            .bind(*filter_id)
            .bind(editor)
            .bind(at_ms)
            .execute(&mut *transaction)
            .await?;
        }
        transaction.commit().await?;
        Ok(())
    }

    /// The filters an editor's edits matched since `since_ms` (at most [`WIKI_LIST_MAX`]):
    /// filter id and when.
    pub async fn wiki_filter_hits(
        &self,
        editor: &str,
        since_ms: i64,
    ) -> Result<Vec<(i64, i64)>, StoreError> {
        let rows = sqlx::query(
            "SELECT filter_id, at_ms FROM wiki_filter_hits WHERE editor = $1 AND at_ms > $2 \
             ORDER BY at_ms DESC LIMIT $3",
        )
        .bind(editor)
        .bind(since_ms)
        .bind(to_i64(WIKI_LIST_MAX, "límite")?)
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|row| Ok((row.try_get("filter_id")?, row.try_get("at_ms")?)))
            .collect()
    }
}
