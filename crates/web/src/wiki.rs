//! The Enciclopedia's core on the web: who the viewer is to the wiki, which revision they see,
//! rendering against the store, saving an edit (rules, rate limits, abuse filters, conflicts as
//! three-way merges) and keeping the search index current. The pages (`wiki_pages.rs`) and the
//! JSON API (`wiki_api.rs`) both go through here, so they refuse and save alike.

use std::cell::RefCell;
use std::collections::{HashMap, HashSet};
use std::time::Duration;

use ceiba_audit::AuditEvent;
use ceiba_identity::Role;
use ceiba_store::{NewRevision, SaveOutcome, WikiPageRow};
use ceiba_wiki::markup::{self, Namespace, RenderContext, Rendered, Title, normalize_title};
use ceiba_wiki::revision::{self, Merge};
use ceiba_wiki::rules::{
    self, Action, Condition, EditFacts, EditMode, Editor, Filter, FilterAction, FilterHit,
    PageState, Pattern, Policy, Protection, ProtectionLevel, RevisionState, WikiRole,
};
use serde::{Deserialize, Serialize};

use crate::AppState;
use crate::auth::Authenticated;
use crate::problem::{ApiError, ErrorCode};

/// Largest page text accepted (the renderer's own limit).
pub const TEXT_BYTES_MAX: usize = markup::MAX_INPUT_BYTES;
/// Largest request body on the wiki's edit routes: the text percent- or JSON-encoded.
pub const BODY_BYTES_MAX: usize = 8 * 1024 * 1024;
/// Longest edit summary, in characters.
pub const SUMMARY_CHARS_MAX: usize = 500;
/// Most distinct templates one page may include (each is read from the store).
const TEMPLATES_PER_PAGE_MAX: usize = 200;
/// The longest window an abuse filter may throttle over: older hits are not read.
const THROTTLE_WINDOW_MS_MAX: i64 = rules::DAY_MS;
/// The main page, where `/wiki` leads.
pub const MAIN_PAGE: &str = "Portada";

/// The index id of a page: the first 16 hex digits of its UUID. An id that is not a UUID (an
/// import from elsewhere) is hashed instead, so every page has one.
pub fn index_id(page_id: &str) -> u64 {
    let hex: String = page_id.chars().filter(|c| *c != '-').take(16).collect();
    if hex.len() == 16
        && let Ok(id) = u64::from_str_radix(&hex, 16)
    {
        return id;
    }
    page_id.bytes().fold(0xcbf2_9ce4_8422_2325, |hash, byte| {
        (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// The store's key of a title: MediaWiki's namespace number and the name without prefix.
pub fn stored_key(title: &Title) -> (i64, String) {
    (title.namespace().number(), title.name().to_owned())
}

/// The title of a stored page.
pub fn title_of(namespace: i64, name: &str) -> Option<Title> {
    let namespace = Namespace::from_number(namespace)?;
    match namespace {
        Namespace::Main => normalize_title(name).ok(),
        other => normalize_title(&format!("{}:{name}", other.prefix())).ok(),
    }
}

/// A title from a request, or 422 saying why it is not one.
pub fn parse_title(text: &str) -> Result<Title, ApiError> {
    normalize_title(text).map_err(|error| {
        ApiError::with_detail(
            ErrorCode::ValidationFailed,
            format!("título no válido: {error}"),
        )
    })
}

/// The talk page of a page, or the page of a talk page.
pub fn talk_pair(title: &Title) -> Option<Title> {
    match title.namespace() {
        Namespace::Main => normalize_title(&format!("Discusión:{}", title.name())).ok(),
        Namespace::Talk => normalize_title(title.name()).ok(),
        _ => None,
    }
}

/// Whoever looks at or edits the wiki, as its rules see them.
#[derive(Debug, Clone)]
pub struct Viewer {
    pub editor: Editor,
    pub user_id: Option<String>,
    pub name: String,
    pub role: WikiRole,
}

impl Viewer {
    pub fn may(&self, action: Action) -> bool {
        rules::allows(self.role, action)
    }
}

/// The wiki role of a platform role; a role that needs a second factor counts only in a
/// session that proved one.
fn granted_role(role: Role, second_factor: bool) -> Option<WikiRole> {
    if role.requires_second_factor() && !second_factor {
        return None;
    }
    match role {
        Role::Editor => Some(WikiRole::Editor),
        Role::Reviewer => Some(WikiRole::Reviewer),
        Role::Administrator => Some(WikiRole::Administrator),
        _ => None,
    }
}

/// The viewer behind a request: anonymous readers, or a signed-in account (an active account
/// has confirmed its phone: confirmed), autoconfirmed by age and edits, with granted roles.
pub async fn viewer(state: &AppState, who: Option<&Authenticated>) -> Result<Viewer, ApiError> {
    let now_ms = state.clock.now_ms();
    let Some(who) = who else {
        return Ok(Viewer {
            editor: Editor::anonymous(),
            user_id: None,
            name: String::new(),
            role: WikiRole::Reader,
        });
    };
    let edit_count = state.db.wiki_edit_count(&who.user.id).await?;
    let editor = Editor {
        registered: true,
        confirmed: who.user.status == ceiba_store::UserStatus::Active,
        account_created_ms: who.user.created_at_ms,
        edit_count,
        granted: who
            .user
            .roles
            .iter()
            .filter_map(|role| granted_role(*role, who.second_factor))
            .collect(),
        block: None,
    };
    let role = editor.role(&Policy::default(), now_ms);
    Ok(Viewer {
        editor,
        user_id: Some(who.user.id.clone()),
        name: who.user.display_name.clone(),
        role,
    })
}

/// The page's facts for the rules.
pub fn page_state(page: Option<&WikiPageRow>) -> PageState {
    let Some(page) = page else {
        return PageState::default();
    };
    let level = match page.protection.as_deref() {
        Some("semi") => Some(ProtectionLevel::Semi),
        Some("full") => Some(ProtectionLevel::Full),
        _ => None,
    };
    PageState {
        exists: true,
        protection: level.map(|level| Protection {
            level,
            expires_ms: page.protection_expires_ms,
        }),
        pending_changes: page.pending_changes,
    }
}

/// The id of the revision `role` sees of `page` (`rules::visible_revision` over the last
/// reviewed and the latest revision: all it needs of the history).
pub fn visible_revision_id(page: &WikiPageRow, role: WikiRole, now_ms: i64) -> Option<String> {
    let latest = page.latest_revision_id.clone()?;
    let reviewed = page.reviewed_revision_id.clone();
    let mut revisions = Vec::with_capacity(2);
    if let Some(reviewed) = &reviewed
        && *reviewed != latest
    {
        revisions.push(RevisionState {
            id: 1,
            reviewed: true,
        });
    }
    revisions.push(RevisionState {
        id: 2,
        reviewed: reviewed.as_deref() == Some(latest.as_str()),
    });
    match rules::visible_revision(&revisions, &page_state(Some(page)), role, now_ms)? {
        1 => reviewed,
        _ => Some(latest),
    }
}

// ---------------------------------------------------------------------------------------------
// Rendering against the store
// ---------------------------------------------------------------------------------------------

/// What is known from the store while a page renders: the templates read so far and, once
/// asked, which linked pages exist.
#[derive(Default)]
struct Known {
    templates: HashMap<Title, Option<String>>,
    existing: Option<HashSet<(i64, String)>>,
    page: Option<Title>,
}

/// A render pass that notes the templates it lacks and the pages it links to.
struct Collecting<'a> {
    known: &'a Known,
    wanted: RefCell<Vec<Title>>,
    linked: RefCell<Vec<Title>>,
}

impl RenderContext for Collecting<'_> {
    fn page_exists(&self, title: &Title) -> bool {
        self.linked.borrow_mut().push(title.clone());
        self.known
            .existing
            .as_ref()
            .is_none_or(|existing| existing.contains(&stored_key(title)))
    }

    fn template(&self, title: &Title) -> Option<String> {
        match self.known.templates.get(title) {
            Some(text) => text.clone(),
            None => {
                self.wanted.borrow_mut().push(title.clone());
                None
            }
        }
    }

    fn page_title(&self) -> Option<Title> {
        self.known.page.clone()
    }
}

fn render_pass(text: &str, known: &Known) -> (Rendered, Vec<Title>, Vec<Title>) {
    let context = Collecting {
        known,
        wanted: RefCell::new(Vec::new()),
        linked: RefCell::new(Vec::new()),
    };
    let rendered = markup::render(text, &context);
    (
        rendered,
        context.wanted.into_inner(),
        context.linked.into_inner(),
    )
}

/// Renders a page's text with its templates (namespace 10, as readers see them) and red links
/// for missing pages: passes that read the templates each one lacks, then one query per
/// namespace for the links, then the last pass.
pub async fn render_page(
    state: &AppState,
    title: Option<&Title>,
    text: &str,
) -> Result<Rendered, ApiError> {
    let mut known = Known {
        page: title.cloned(),
        ..Known::default()
    };
    let now_ms = state.clock.now_ms();
    for _ in 0..=markup::MAX_TEMPLATE_DEPTH {
        let (_, wanted, _) = render_pass(text, &known);
        let wanted: Vec<Title> = wanted
            .into_iter()
            .filter(|title| !known.templates.contains_key(title))
            .collect::<HashSet<_>>()
            .into_iter()
            .collect();
        if wanted.is_empty() {
            break;
        }
        for template in wanted {
            let body = if known.templates.len() >= TEMPLATES_PER_PAGE_MAX {
                None
            } else {
                let (namespace, name) = stored_key(&template);
                match state.db.wiki_page(namespace, &name).await? {
                    Some(page) => match visible_revision_id(&page, WikiRole::Reader, now_ms) {
                        Some(id) => state.db.wiki_revision(&id).await?.map(|r| r.text),
                        None => None,
                    },
                    None => None,
                }
            };
            known.templates.insert(template, body);
        }
    }
    let (_, _, linked) = render_pass(text, &known);
    let mut by_namespace: HashMap<i64, Vec<String>> = HashMap::new();
    for title in linked {
        let (namespace, name) = stored_key(&title);
        by_namespace.entry(namespace).or_default().push(name);
    }
    let mut existing = HashSet::new();
    for (namespace, mut names) in by_namespace {
        names.sort();
        names.dedup();
        for name in state.db.wiki_existing(namespace, &names).await? {
            existing.insert((namespace, name));
        }
    }
    known.existing = Some(existing);
    Ok(render_pass(text, &known).0)
}

/// The text of rendered HTML, for the search index: tags dropped, entities decoded.
pub fn plain_text(html: &str) -> String {
    let mut text = String::with_capacity(html.len());
    let mut in_tag = false;
    for c in html.chars() {
        match c {
            '<' => in_tag = true,
            '>' if in_tag => {
                in_tag = false;
                text.push(' ');
            }
            _ if !in_tag => text.push(c),
            _ => {}
        }
    }
    let decoded = text
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&#x27;", "'")
        .replace("&nbsp;", " ")
        .replace("&amp;", "&");
    decoded.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Puts what readers now see of a page in the search index (articles only; a redirect or a
/// page without revisions leaves it), and commits so the next search finds it.
pub async fn reindex_page(state: &AppState, page: &WikiPageRow) {
    if page.namespace != Namespace::Main.number() {
        return;
    }
    let id = index_id(&page.id);
    let article = match article_of(state, page).await {
        Ok(article) => article,
        Err(error) => {
            tracing::error!(?error, page = %page.id, "could not read a page to index it");
            return;
        }
    };
    let index = state.wiki_index.clone();
    let done = tokio::task::spawn_blocking(move || {
        match &article {
            Some(article) => index.upsert(article)?,
            None => index.delete(id),
        }
        index.commit()
    })
    .await;
    match done {
        Ok(Ok(())) => {}
        Ok(Err(error)) => tracing::error!(%error, "could not update the search index"),
        Err(error) => tracing::error!(%error, "the search index's task failed"),
    }
}

async fn article_of(
    state: &AppState,
    page: &WikiPageRow,
) -> Result<Option<ceiba_search::Article>, ApiError> {
    if page.redirect_to.is_some() {
        return Ok(None);
    }
    let Some(title) = title_of(page.namespace, &page.title) else {
        return Ok(None);
    };
    let Some(id) = visible_revision_id(page, WikiRole::Reader, state.clock.now_ms()) else {
        return Ok(None);
    };
    let Some(revision) = state.db.wiki_revision(&id).await? else {
        return Ok(None);
    };
    let rendered = render_page(state, Some(&title), &revision.text).await?;
    let mut text = plain_text(&rendered.html);
    if text.len() > ceiba_search::MAX_ARTICLE_TEXT_BYTES {
        let mut end = ceiba_search::MAX_ARTICLE_TEXT_BYTES;
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        text.truncate(end);
    }
    Ok(Some(ceiba_search::Article {
        id: index_id(&page.id),
        title: title.text(),
        text,
    }))
}

// ---------------------------------------------------------------------------------------------
// Abuse filters
// ---------------------------------------------------------------------------------------------

/// A filter's conditions and action as administrators write them (and as stored).
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FilterSpec {
    pub conditions: Vec<ConditionSpec>,
    pub action: ActionSpec,
}

/// One condition; all of a filter's must hold.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum ConditionSpec {
    /// The edit adds more than this many bytes.
    SizeDeltaOver(i64),
    /// The edit changes the size by less than this (negative: removes more than).
    SizeDeltaUnder(i64),
    /// Anonymous, or an account with fewer edits and younger than these.
    NewAccount { max_edits: u64, max_age_ms: i64 },
    /// The added text matches this regular expression.
    Matches(String),
    /// The page is in this namespace (MediaWiki's number).
    PageNamespace(i32),
}

/// What a filter does when it matches.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum ActionSpec {
    Warn,
    Disallow,
    Throttle { max: u32, per_ms: i64 },
    Tag(String),
}

/// The filter a spec describes, or why it cannot be one.
pub fn filter_of(id: u32, description: &str, spec: &FilterSpec) -> Result<Filter, String> {
    let conditions = spec
        .conditions
        .iter()
        .map(|condition| {
            Ok(match condition {
                ConditionSpec::SizeDeltaOver(limit) => Condition::SizeDeltaOver(*limit),
                ConditionSpec::SizeDeltaUnder(limit) => Condition::SizeDeltaUnder(*limit),
                ConditionSpec::NewAccount {
                    max_edits,
                    max_age_ms,
                } => Condition::NewAccount {
                    max_edits: *max_edits,
                    max_age_ms: *max_age_ms,
                },
                ConditionSpec::Matches(pattern) => {
                    Condition::Matches(Pattern::new(pattern).map_err(|e| e.to_string())?)
                }
                ConditionSpec::PageNamespace(namespace) => Condition::PageNamespace(*namespace),
            })
        })
        .collect::<Result<Vec<_>, String>>()?;
    let action = match &spec.action {
        ActionSpec::Warn => FilterAction::Warn,
        ActionSpec::Disallow => FilterAction::Disallow,
        ActionSpec::Throttle { max, per_ms } => {
            if !(1..=THROTTLE_WINDOW_MS_MAX).contains(per_ms) {
                return Err(format!(
                    "throttle.per_ms: de 1 a {THROTTLE_WINDOW_MS_MAX} ms"
                ));
            }
            FilterAction::Throttle {
                max: *max,
                per_ms: *per_ms,
            }
        }
        ActionSpec::Tag(tag) => {
            let tag = tag.trim();
            if tag.is_empty() || tag.len() > 64 || tag.contains(',') {
                return Err("tag: de 1 a 64 caracteres, sin comas".to_owned());
            }
            FilterAction::Tag(tag.to_owned())
        }
    };
    Ok(Filter {
        id,
        description: description.to_owned(),
        conditions,
        action,
    })
}

/// The enabled filters, as checked when written; one that no longer reads is skipped.
async fn enabled_filters(state: &AppState) -> Result<Vec<Filter>, ApiError> {
    let rows = state.db.wiki_filters().await?;
    Ok(rows
        .into_iter()
        .filter(|row| row.enabled)
        .filter_map(|row| {
            let id = u32::try_from(row.id).ok()?;
            let spec: FilterSpec = serde_json::from_str(&row.spec).ok()?;
            match filter_of(id, &row.description, &spec) {
                Ok(filter) => Some(filter),
                Err(error) => {
                    tracing::error!(filter = id, %error, "a stored abuse filter does not read");
                    None
                }
            }
        })
        .collect())
}

// ---------------------------------------------------------------------------------------------
// Saving an edit
// ---------------------------------------------------------------------------------------------

/// An edit as a person sends it.
#[derive(Debug)]
pub struct EditRequest<'a> {
    pub title: &'a Title,
    pub text: &'a str,
    pub summary: &'a str,
    pub base_revision_id: Option<&'a str>,
    /// The editor saw the abuse filters' warnings and saves anyway.
    pub warnings_confirmed: bool,
}

/// What became of an edit.
#[derive(Debug)]
pub enum EditOutcome {
    Saved {
        revision_id: String,
        created: bool,
        /// Saved as a pending change: readers see the last reviewed revision until a reviewer
        /// accepts it.
        pending: bool,
    },
    /// Someone saved the page since the editor's base: nothing was saved.
    Conflict {
        latest_revision_id: Option<String>,
        merge: Merge,
    },
    /// Abuse filters warn: saved only when the editor confirms.
    Warned(Vec<String>),
}

/// Why an edit was refused.
#[derive(Debug)]
pub enum EditError {
    Refused(ApiError),
    /// A rate limit or a throttling filter: try again after this long.
    RetryLater {
        detail: String,
        retry_after_ms: i64,
    },
}

impl From<ApiError> for EditError {
    fn from(error: ApiError) -> Self {
        EditError::Refused(error)
    }
}

impl axum::response::IntoResponse for EditError {
    fn into_response(self) -> axum::response::Response {
        match self {
            EditError::Refused(error) => error.into_response(),
            EditError::RetryLater {
                detail,
                retry_after_ms,
            } => {
                let seconds = retry_after_ms.saturating_add(999) / 1000;
                let mut response =
                    ApiError::with_detail(ErrorCode::RateLimited, detail).into_response();
                if let Ok(value) = axum::http::HeaderValue::from_str(&seconds.max(1).to_string()) {
                    response
                        .headers_mut()
                        .insert(axum::http::header::RETRY_AFTER, value);
                }
                response
            }
        }
    }
}

fn refused(code: ErrorCode, detail: impl Into<String>) -> EditError {
    EditError::Refused(ApiError::with_detail(code, detail))
}

/// Whether `viewer` may edit the page, and how the edit would be saved.
pub fn edit_mode(
    viewer: &Viewer,
    page: Option<&WikiPageRow>,
    now_ms: i64,
) -> Result<EditMode, rules::Refusal> {
    rules::can_edit(
        &viewer.editor,
        &page_state(page),
        &Policy::default(),
        now_ms,
    )
}

/// Checks, filters and saves an edit (see the module's note).
pub async fn save_edit(
    state: &AppState,
    viewer: &Viewer,
    edit: &EditRequest<'_>,
) -> Result<EditOutcome, EditError> {
    let now_ms = state.clock.now_ms();
    if edit.text.len() > TEXT_BYTES_MAX {
        return Err(refused(
            ErrorCode::ValidationFailed,
            format!(
                "el texto ocupa {} bytes; el máximo es {TEXT_BYTES_MAX}",
                edit.text.len()
            ),
        ));
    }
    if edit.summary.chars().count() > SUMMARY_CHARS_MAX {
        return Err(refused(
            ErrorCode::ValidationFailed,
            format!("el resumen tiene más de {SUMMARY_CHARS_MAX} caracteres"),
        ));
    }
    let (namespace, name) = stored_key(edit.title);
    let page = state
        .db
        .wiki_page(namespace, &name)
        .await
        .map_err(ApiError::from)?;
    let mode = edit_mode(viewer, page.as_ref(), now_ms)
        .map_err(|refusal| refused(ErrorCode::Forbidden, refusal.to_string()))?;
    let Some(user_id) = viewer.user_id.as_deref() else {
        return Err(refused(
            ErrorCode::Forbidden,
            rules::Refusal::NotLoggedIn.to_string(),
        ));
    };
    // Rate limits per action: creating a page counts among creations, any edit among edits.
    let action = if page.is_some() {
        Action::Edit
    } else {
        Action::CreatePage
    };
    for action in [Action::Edit, action] {
        if let Some(limit) = rules::default_rate_limit(action, viewer.role) {
            let recent = state
                .db
                .wiki_author_edits(user_id, now_ms.saturating_sub(limit.per_ms))
                .await
                .map_err(ApiError::from)?;
            let times: Vec<i64> = recent
                .iter()
                .filter(|(_, created)| action != Action::CreatePage || *created)
                .map(|(at, _)| *at)
                .collect();
            if let Err(rules::RetryAfterMs(retry_after_ms)) = limit.check(&times, now_ms) {
                let what = if action == Action::CreatePage {
                    "páginas nuevas"
                } else {
                    "ediciones"
                };
                return Err(EditError::RetryLater {
                    detail: format!(
                        "demasiadas {what} seguidas (como mucho {} por minuto); espere {} s",
                        limit.max,
                        retry_after_ms.saturating_add(999) / 1000
                    ),
                    retry_after_ms,
                });
            }
        }
    }
    let base_text = match edit.base_revision_id {
        Some(base) => {
            let revision = state
                .db
                .wiki_revision(base)
                .await
                .map_err(ApiError::from)?
                .filter(|revision| {
                    page.as_ref()
                        .is_some_and(|page| page.id == revision.page_id)
                })
                .ok_or_else(|| {
                    refused(
                        ErrorCode::ValidationFailed,
                        "la revisión de partida no es de esta página",
                    )
                })?;
            revision.text
        }
        None => String::new(),
    };
    // Abuse filters, on what the edit adds to the text it started from.
    let changes = revision::diff(&base_text, edit.text);
    let added = changes.added_text();
    let facts = EditFacts {
        editor: &viewer.editor,
        namespace: i32::try_from(namespace).unwrap_or(i32::MAX),
        size_delta: changes.size_delta(),
        added_text: &added,
        now_ms,
    };
    let filters = enabled_filters(state).await?;
    let hits: Vec<FilterHit> = state
        .db
        .wiki_filter_hits(user_id, now_ms.saturating_sub(THROTTLE_WINDOW_MS_MAX))
        .await
        .map_err(ApiError::from)?
        .into_iter()
        .filter_map(|(filter_id, at_ms)| {
            Some(FilterHit {
                filter_id: u32::try_from(filter_id).ok()?,
                at_ms,
            })
        })
        .collect();
    let verdict = rules::evaluate(&filters, &facts, &hits);
    if !verdict.matched.is_empty() {
        let matched: Vec<i64> = verdict.matched.iter().map(|id| i64::from(*id)).collect();
        state
            .db
            .record_wiki_filter_hits(user_id, &matched, now_ms)
            .await
            .map_err(ApiError::from)?;
    }
    if let Some(reason) = verdict.disallowed {
        return Err(refused(ErrorCode::Forbidden, reason));
    }
    if let Some(throttled) = verdict.throttled {
        return Err(EditError::RetryLater {
            detail: format!(
                "el filtro {} limita estas ediciones; espere {} s",
                throttled.filter_id,
                throttled.retry_after_ms.saturating_add(999) / 1000
            ),
            retry_after_ms: throttled.retry_after_ms,
        });
    }
    if !verdict.warnings.is_empty() && !edit.warnings_confirmed {
        return Ok(EditOutcome::Warned(verdict.warnings));
    }
    let rendered = render_page(state, Some(edit.title), edit.text).await?;
    let links: Vec<(i64, String)> = rendered
        .links
        .iter()
        .filter_map(|link| normalize_title(link).ok())
        .map(|title| stored_key(&title))
        .collect();
    let redirect = markup::redirect_target(edit.text);
    let revision_id = uuid::Uuid::new_v4().to_string();
    let new_page_id = uuid::Uuid::new_v4().to_string();
    let tags = verdict.tags.join(",");
    let outcome = state
        .db
        .save_wiki_revision(&NewRevision {
            revision_id: &revision_id,
            new_page_id: &new_page_id,
            namespace,
            title: &name,
            base_revision_id: edit.base_revision_id,
            author_id: Some(user_id),
            author_name: &viewer.name,
            timestamp_ms: now_ms,
            summary: edit.summary.trim(),
            text: edit.text,
            minor: false,
            tags: &tags,
            reviewed_by: (mode == EditMode::Publish).then_some(user_id),
            links: &links,
            categories: &rendered.categories,
            redirect_to: redirect.as_deref(),
            external_id: None,
        })
        .await
        .map_err(ApiError::from)?;
    match outcome {
        SaveOutcome::Saved { revision_id, .. } => {
            if let Some(page) = state
                .db
                .wiki_page(namespace, &name)
                .await
                .map_err(ApiError::from)?
            {
                reindex_page(state, &page).await;
            }
            Ok(EditOutcome::Saved {
                revision_id,
                created: page.is_none(),
                pending: mode == EditMode::Pending,
            })
        }
        SaveOutcome::Conflict { latest_revision_id } => {
            let latest = match latest_revision_id {
                Some(id) => state.db.wiki_revision(&id).await.map_err(ApiError::from)?,
                None => None,
            };
            let theirs = latest
                .as_ref()
                .map_or("", |revision| revision.text.as_str());
            let merge = revision::merge3(&base_text, edit.text, theirs);
            Ok(EditOutcome::Conflict {
                latest_revision_id: latest.map(|revision| revision.id),
                merge,
            })
        }
        SaveOutcome::AlreadyImported { .. } => Err(refused(
            ErrorCode::Internal,
            "una edición no puede ser una importación",
        )),
    }
}

/// Writes a moderation event to the audit log.
pub async fn audit(state: &AppState, event: AuditEvent) {
    crate::accounts::audit(state, event).await;
}

/// How long until `at_ms`, in words, for a protection's end.
pub fn until_text(now_ms: i64, at_ms: i64) -> String {
    let left = Duration::from_millis(u64::try_from(at_ms.saturating_sub(now_ms)).unwrap_or(0));
    let hours = left.as_secs() / 3600;
    if hours >= 48 {
        format!("{} días", hours / 24)
    } else {
        format!("{hours} h")
    }
}

/// Puts every article already stored in the search index (after opening an index on disk
/// that may be older than the database); returns how many were indexed.
pub async fn rebuild_index(state: &AppState) -> Result<u64, ApiError> {
    let mut indexed = 0_u64;
    for page in state.db.wiki_pages_in(Namespace::Main.number()).await? {
        if let Some(article) = article_of(state, &page).await? {
            let index = state.wiki_index.clone();
            tokio::task::spawn_blocking(move || index.upsert(&article))
                .await
                .map_err(|_| ApiError::new(ErrorCode::Internal))?
                .map_err(|error| ApiError::with_detail(ErrorCode::Internal, error.to_string()))?;
            indexed += 1;
        }
    }
    let index = state.wiki_index.clone();
    tokio::task::spawn_blocking(move || index.commit())
        .await
        .map_err(|_| ApiError::new(ErrorCode::Internal))?
        .map_err(|error| ApiError::with_detail(ErrorCode::Internal, error.to_string()))?;
    Ok(indexed)
}
