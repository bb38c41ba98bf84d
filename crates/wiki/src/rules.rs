//! The editorial model as pure functions of given facts (times are parameters, never read
//! from a clock): who may do what ([`allows`]), whether an edit is published or waits for
//! review ([`can_edit`]), which revision a reader sees ([`visible_revision`]), abuse filters
//! ([`evaluate`]) and rate limits ([`RateLimit`], [`default_rate_limit`]).
//!
//! Reading is open. Editing needs a confirmed account. Pending changes: on a page flagged for
//! review, or protected, readers see the last reviewed revision; edits by roles with
//! [`Action::Autoreview`] (editor, reviewer, administrator) are accepted at once, every other
//! edit waits for a reviewer ([`EditMode::Pending`]).

use regex::{Regex, RegexBuilder};
use serde::{Deserialize, Serialize};
use thiserror::Error;

/// Milliseconds in a day.
pub const DAY_MS: i64 = 24 * 60 * 60 * 1000;
/// Milliseconds in a minute.
pub const MINUTE_MS: i64 = 60 * 1000;

/// A role, from least to most trusted; each role may do everything the previous ones may.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum WikiRole {
    /// Anonymous, or an account whose e-mail or phone is not confirmed: reads only.
    Reader,
    /// A confirmed account: edits and creates pages.
    Confirmed,
    /// A confirmed account old and active enough ([`Policy`]): also moves pages, uploads
    /// files and edits semi-protected pages.
    Autoconfirmed,
    /// A trusted editor (granted): their edits need no review.
    Editor,
    /// Reviews pending changes and rolls back vandalism (granted).
    Reviewer,
    /// Protects, deletes, blocks, manages abuse filters and roles (granted).
    Administrator,
}

/// Everything someone may try to do on the wiki.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[non_exhaustive]
pub enum Action {
    /// Read pages and their history.
    Read,
    /// Edit an existing page.
    Edit,
    /// Create a page.
    CreatePage,
    /// Rename a page.
    Move,
    /// Upload a file.
    Upload,
    /// Edit a semi-protected page.
    EditSemiProtected,
    /// Have one's own edits accepted without review.
    Autoreview,
    /// Accept (or reject) pending changes.
    Review,
    /// Revert a run of edits by one author in one step.
    Rollback,
    /// Protect and unprotect pages, and flag them for review.
    Protect,
    /// Edit a fully protected page.
    EditFullyProtected,
    /// Delete pages and revisions.
    Delete,
    /// Block accounts.
    Block,
    /// Create and change abuse filters.
    ManageFilters,
    /// Grant and remove roles.
    AssignRoles,
}

impl Action {
    /// Every action, for tables and tests.
    pub const ALL: [Self; 15] = [
        Self::Read,
        Self::Edit,
        Self::CreatePage,
        Self::Move,
        Self::Upload,
        Self::EditSemiProtected,
        Self::Autoreview,
        Self::Review,
        Self::Rollback,
        Self::Protect,
        Self::EditFullyProtected,
        Self::Delete,
        Self::Block,
        Self::ManageFilters,
        Self::AssignRoles,
    ];

    /// The least trusted role allowed to do this.
    #[must_use]
    pub const fn minimum_role(self) -> WikiRole {
        match self {
            Self::Read => WikiRole::Reader,
            Self::Edit | Self::CreatePage => WikiRole::Confirmed,
            Self::Move | Self::Upload | Self::EditSemiProtected => WikiRole::Autoconfirmed,
            Self::Autoreview => WikiRole::Editor,
            Self::Review | Self::Rollback => WikiRole::Reviewer,
            Self::Protect
            | Self::EditFullyProtected
            | Self::Delete
            | Self::Block
            | Self::ManageFilters
            | Self::AssignRoles => WikiRole::Administrator,
        }
    }
}

/// The permission matrix: whether `role` may do `action` (roles are cumulative).
#[must_use]
pub fn allows(role: WikiRole, action: Action) -> bool {
    role >= action.minimum_role()
}

/// The thresholds of the editorial model.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Policy {
    /// Minimum account age to become autoconfirmed (default 4 days, as Wikipedia).
    pub autoconfirm_age_ms: i64,
    /// Minimum number of edits to become autoconfirmed (default 10).
    pub autoconfirm_edits: u64,
}

impl Default for Policy {
    fn default() -> Self {
        Self {
            autoconfirm_age_ms: 4 * DAY_MS,
            autoconfirm_edits: 10,
        }
    }
}

/// A block on an account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BlockState {
    /// When it ends (`None`: indefinite).
    pub expires_ms: Option<i64>,
    /// Why, as the administrator wrote it.
    pub reason: String,
}

/// The facts about whoever acts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Editor {
    /// Whether they are logged in to an account.
    pub registered: bool,
    /// Whether the account's e-mail or phone is confirmed.
    pub confirmed: bool,
    /// When the account was created (ms since the epoch; ignored for anonymous readers).
    pub account_created_ms: i64,
    /// Edits saved so far.
    pub edit_count: u64,
    /// Roles granted by an administrator (editor, reviewer, administrator).
    pub granted: Vec<WikiRole>,
    /// An active or expired block, if any.
    pub block: Option<BlockState>,
}

impl Editor {
    /// An anonymous reader.
    #[must_use]
    pub fn anonymous() -> Self {
        Self {
            registered: false,
            confirmed: false,
            account_created_ms: 0,
            edit_count: 0,
            granted: Vec::new(),
            block: None,
        }
    }

    /// A confirmed account created at `created_ms` with `edit_count` edits and no granted role.
    #[must_use]
    pub fn confirmed(created_ms: i64, edit_count: u64) -> Self {
        Self {
            registered: true,
            confirmed: true,
            account_created_ms: created_ms,
            edit_count,
            granted: Vec::new(),
            block: None,
        }
    }

    /// The role they act with at `now_ms`: the highest granted role, or the one their account
    /// earns — reader (anonymous or unconfirmed), confirmed, or autoconfirmed (account at
    /// least `policy.autoconfirm_age_ms` old with at least `policy.autoconfirm_edits` edits).
    #[must_use]
    pub fn role(&self, policy: &Policy, now_ms: i64) -> WikiRole {
        let earned = if !self.registered || !self.confirmed {
            WikiRole::Reader
        } else if now_ms.saturating_sub(self.account_created_ms) >= policy.autoconfirm_age_ms
            && self.edit_count >= policy.autoconfirm_edits
        {
            WikiRole::Autoconfirmed
        } else {
            WikiRole::Confirmed
        };
        let granted = if self.registered {
            self.granted.iter().copied().max()
        } else {
            None
        };
        granted.map_or(earned, |g| g.max(earned))
    }

    /// The block in force at `now_ms`, if any.
    #[must_use]
    pub fn active_block(&self, now_ms: i64) -> Option<&BlockState> {
        self.block
            .as_ref()
            .filter(|b| b.expires_ms.is_none_or(|end| now_ms < end))
    }
}

/// How strongly a page is protected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ProtectionLevel {
    /// Only autoconfirmed accounts and above may edit.
    Semi,
    /// Only administrators may edit.
    Full,
}

/// A page's protection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Protection {
    /// Semi or full.
    pub level: ProtectionLevel,
    /// When it lapses (`None`: indefinite).
    pub expires_ms: Option<i64>,
}

impl Protection {
    /// Whether it is in force at `now_ms` (it lapses at `expires_ms` exactly).
    #[must_use]
    pub fn is_active(&self, now_ms: i64) -> bool {
        self.expires_ms.is_none_or(|end| now_ms < end)
    }
}

/// The facts about the page being edited.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct PageState {
    /// Whether the page exists (editing a missing page creates it).
    pub exists: bool,
    /// Its protection, if any (possibly expired).
    pub protection: Option<Protection>,
    /// Whether it is flagged for pending-changes review.
    pub pending_changes: bool,
}

impl PageState {
    /// Whether readers see the last reviewed revision rather than the latest: the page is
    /// flagged for review or under a protection in force.
    #[must_use]
    pub fn under_review(&self, now_ms: i64) -> bool {
        self.pending_changes || self.protection.is_some_and(|p| p.is_active(now_ms))
    }
}

/// How an allowed edit is saved.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum EditMode {
    /// Published: readers see it at once.
    Publish,
    /// Saved as a pending change: readers keep seeing the last reviewed revision.
    Pending,
}

/// Why an edit is refused.
#[derive(Debug, Clone, PartialEq, Eq, Error, Serialize, Deserialize)]
#[non_exhaustive]
pub enum Refusal {
    /// Anonymous.
    #[error("para editar hay que iniciar sesión con una cuenta confirmada")]
    NotLoggedIn,
    /// The account is not confirmed.
    #[error("para editar hay que confirmar la cuenta (correo o teléfono)")]
    AccountNotConfirmed,
    /// The account is blocked.
    #[error("la cuenta está bloqueada{}: {reason}", until_text(*.expires_ms))]
    Blocked {
        /// When the block ends (`None`: indefinite).
        expires_ms: Option<i64>,
        /// The block's reason.
        reason: String,
    },
    /// The role may not create pages.
    #[error("su cuenta no puede crear páginas")]
    CannotCreate,
    /// The page is protected beyond the editor's role.
    #[error("la página está protegida ({}){}", level_text(*.level), until_text(*.expires_ms))]
    Protected {
        /// The protection's level.
        level: ProtectionLevel,
        /// When it lapses (`None`: indefinite).
        expires_ms: Option<i64>,
    },
}

fn until_text(expires_ms: Option<i64>) -> String {
    expires_ms.map_or_else(
        || " indefinidamente".to_owned(),
        |end| format!(" hasta {end} (ms desde 1970)"),
    )
}

fn level_text(level: ProtectionLevel) -> &'static str {
    match level {
        ProtectionLevel::Semi => "solo cuentas autoconfirmadas",
        ProtectionLevel::Full => "solo administradores",
    }
}

/// Whether `editor` may edit `page` at `now_ms`, and if so whether the edit is published or
/// waits for review.
///
/// # Errors
/// A [`Refusal`] saying why, in Spanish.
pub fn can_edit(
    editor: &Editor,
    page: &PageState,
    policy: &Policy,
    now_ms: i64,
) -> Result<EditMode, Refusal> {
    if let Some(block) = editor.active_block(now_ms) {
        return Err(Refusal::Blocked {
            expires_ms: block.expires_ms,
            reason: block.reason.clone(),
        });
    }
    let role = editor.role(policy, now_ms);
    if !allows(role, Action::Edit) {
        return Err(if editor.registered {
            Refusal::AccountNotConfirmed
        } else {
            Refusal::NotLoggedIn
        });
    }
    if !page.exists && !allows(role, Action::CreatePage) {
        return Err(Refusal::CannotCreate);
    }
    if let Some(protection) = page.protection.filter(|p| p.is_active(now_ms)) {
        let needed = match protection.level {
            ProtectionLevel::Semi => Action::EditSemiProtected,
            ProtectionLevel::Full => Action::EditFullyProtected,
        };
        if !allows(role, needed) {
            return Err(Refusal::Protected {
                level: protection.level,
                expires_ms: protection.expires_ms,
            });
        }
    }
    if page.under_review(now_ms) && !allows(role, Action::Autoreview) {
        Ok(EditMode::Pending)
    } else {
        Ok(EditMode::Publish)
    }
}

/// One revision of a page, for choosing what a viewer sees.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct RevisionState {
    /// Revision id.
    pub id: u64,
    /// Whether a reviewer accepted it (or its author's edits need no review).
    pub reviewed: bool,
}

/// The revision a viewer with `viewer` role sees of a page, `revisions` in chronological
/// order. On a page under review, roles that may [`Action::Review`] see the latest revision
/// and everyone else the last reviewed one; when none was ever reviewed, the latest (as
/// MediaWiki's FlaggedRevs does, so flagging a page never hides it). `None` when there are no
/// revisions.
#[must_use]
pub fn visible_revision(
    revisions: &[RevisionState],
    page: &PageState,
    viewer: WikiRole,
    now_ms: i64,
) -> Option<u64> {
    let latest = revisions.last()?;
    if !page.under_review(now_ms) || allows(viewer, Action::Review) {
        return Some(latest.id);
    }
    revisions
        .iter()
        .rev()
        .find(|r| r.reviewed)
        .map_or(Some(latest.id), |r| Some(r.id))
}

// ---------------------------------------------------------------------------------------
// Abuse filters.

/// Longest pattern accepted in a filter, in bytes.
pub const MAX_PATTERN_LEN: usize = 2_000;
/// Compiled size limit for a pattern, so a filter cannot exhaust memory.
const PATTERN_SIZE_LIMIT: usize = 1 << 20;

/// A filter that cannot be built.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum FilterError {
    /// The pattern is not a valid regular expression, or too complex.
    #[error("el patrón «{pattern}» no es válido: {reason}")]
    InvalidPattern {
        /// The pattern as given.
        pattern: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The pattern is too long.
    #[error("el patrón mide {len} bytes; el máximo es {max}")]
    PatternTooLong {
        /// Its length.
        len: usize,
        /// The limit.
        max: usize,
    },
}

/// A compiled regular expression for [`Condition::Matches`].
#[derive(Debug, Clone)]
pub struct Pattern {
    regex: Regex,
}

impl Pattern {
    /// Compiles `source` (Rust `regex` syntax, linear-time matching; `(?i)` for
    /// case-insensitive), refusing overlong or overcomplex patterns.
    ///
    /// # Errors
    /// [`FilterError`] when the pattern is too long, invalid or too large once compiled.
    pub fn new(source: &str) -> Result<Self, FilterError> {
        if source.len() > MAX_PATTERN_LEN {
            return Err(FilterError::PatternTooLong {
                len: source.len(),
                max: MAX_PATTERN_LEN,
            });
        }
        RegexBuilder::new(source)
            .size_limit(PATTERN_SIZE_LIMIT)
            .dfa_size_limit(PATTERN_SIZE_LIMIT)
            .nest_limit(64)
            .build()
            .map(|regex| Self { regex })
            .map_err(|e| FilterError::InvalidPattern {
                pattern: source.to_owned(),
                reason: e.to_string(),
            })
    }

    /// The pattern's source text.
    #[must_use]
    pub fn as_str(&self) -> &str {
        self.regex.as_str()
    }

    /// Whether it matches somewhere in `text`.
    #[must_use]
    pub fn is_match(&self, text: &str) -> bool {
        self.regex.is_match(text)
    }
}

impl PartialEq for Pattern {
    fn eq(&self, other: &Self) -> bool {
        self.as_str() == other.as_str()
    }
}

/// One condition of a filter; a filter matches when all its conditions hold.
#[derive(Debug, Clone, PartialEq)]
pub enum Condition {
    /// The edit grows the page by more than this many bytes.
    SizeDeltaOver(i64),
    /// The edit changes the page size by less than this (e.g. `-5000`: blanking).
    SizeDeltaUnder(i64),
    /// The editor is anonymous, or has fewer than `max_edits` edits and an account younger
    /// than `max_age_ms`.
    NewAccount {
        /// Edit count below which an account is new.
        max_edits: u64,
        /// Account age below which an account is new.
        max_age_ms: i64,
    },
    /// The text the edit adds matches the pattern.
    Matches(Pattern),
    /// The page is in this namespace (0: articles).
    PageNamespace(i32),
}

/// What a matching filter does.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum FilterAction {
    /// Shows the filter's description as a warning; the editor may save anyway.
    Warn,
    /// Refuses the edit.
    Disallow,
    /// Refuses the edit when the filter matched this editor more than `max` times within
    /// `per_ms`, this edit included.
    Throttle {
        /// Matches allowed in the window.
        max: u32,
        /// The window's length.
        per_ms: i64,
    },
    /// Saves the edit with this tag, for patrollers.
    Tag(String),
}

/// An abuse filter.
#[derive(Debug, Clone, PartialEq)]
pub struct Filter {
    /// Its id, shown in the log.
    pub id: u32,
    /// What it catches, shown to the editor (in Spanish).
    pub description: String,
    /// All must hold for it to match (an empty list matches every edit).
    pub conditions: Vec<Condition>,
    /// What it does when it matches.
    pub action: FilterAction,
}

/// The facts about an edit that filters look at.
#[derive(Debug, Clone, Copy)]
pub struct EditFacts<'a> {
    /// Who edits.
    pub editor: &'a Editor,
    /// The page's namespace number.
    pub namespace: i32,
    /// New size minus old size, in bytes.
    pub size_delta: i64,
    /// The text the edit adds (see `revision::Diff::added_text`).
    pub added_text: &'a str,
    /// When the edit is made.
    pub now_ms: i64,
}

/// An earlier match of a filter by the same editor, for throttling.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct FilterHit {
    /// The filter that matched.
    pub filter_id: u32,
    /// When.
    pub at_ms: i64,
}

/// A throttle in force.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Throttled {
    /// The throttling filter.
    pub filter_id: u32,
    /// How long until the editor may try again.
    pub retry_after_ms: i64,
}

/// What the filters decided about an edit.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Verdict {
    /// Ids of every filter that matched, to record as hits.
    pub matched: Vec<u32>,
    /// Warnings to show (the descriptions of warning filters).
    pub warnings: Vec<String>,
    /// Tags to add to the saved revision.
    pub tags: Vec<String>,
    /// Why the edit is refused, if a disallowing filter matched.
    pub disallowed: Option<String>,
    /// The throttle in force, if a throttling filter went over its limit.
    pub throttled: Option<Throttled>,
}

impl Verdict {
    /// Whether the edit may be saved (warnings aside).
    #[must_use]
    pub fn may_save(&self) -> bool {
        self.disallowed.is_none() && self.throttled.is_none()
    }
}

fn condition_holds(condition: &Condition, edit: &EditFacts<'_>) -> bool {
    match condition {
        Condition::SizeDeltaOver(limit) => edit.size_delta > *limit,
        Condition::SizeDeltaUnder(limit) => edit.size_delta < *limit,
        Condition::NewAccount {
            max_edits,
            max_age_ms,
        } => {
            !edit.editor.registered
                || (edit.editor.edit_count < *max_edits
                    && edit.now_ms.saturating_sub(edit.editor.account_created_ms) < *max_age_ms)
        }
        Condition::Matches(pattern) => pattern.is_match(edit.added_text),
        Condition::PageNamespace(ns) => edit.namespace == *ns,
    }
}

/// Runs every filter over an edit. `recent_hits` are this editor's earlier matches (any
/// filter, any age: only those inside a throttle's window count).
#[must_use]
pub fn evaluate(filters: &[Filter], edit: &EditFacts<'_>, recent_hits: &[FilterHit]) -> Verdict {
    let mut verdict = Verdict::default();
    for filter in filters {
        if !filter.conditions.iter().all(|c| condition_holds(c, edit)) {
            continue;
        }
        verdict.matched.push(filter.id);
        match &filter.action {
            FilterAction::Warn => verdict.warnings.push(filter.description.clone()),
            FilterAction::Tag(tag) => {
                if !verdict.tags.contains(tag) {
                    verdict.tags.push(tag.clone());
                }
            }
            FilterAction::Disallow => {
                if verdict.disallowed.is_none() {
                    verdict.disallowed = Some(format!(
                        "el filtro {} impidió la edición: {}",
                        filter.id, filter.description
                    ));
                }
            }
            FilterAction::Throttle { max, per_ms } => {
                let history: Vec<i64> = recent_hits
                    .iter()
                    .filter(|h| h.filter_id == filter.id)
                    .map(|h| h.at_ms)
                    .collect();
                let limit = RateLimit {
                    max: *max,
                    per_ms: *per_ms,
                };
                if let Err(RetryAfterMs(retry_after_ms)) = limit.check(&history, edit.now_ms) {
                    let longer = verdict
                        .throttled
                        .is_none_or(|t| t.retry_after_ms < retry_after_ms);
                    if longer {
                        verdict.throttled = Some(Throttled {
                            filter_id: filter.id,
                            retry_after_ms,
                        });
                    }
                }
            }
        }
    }
    verdict
}

// ---------------------------------------------------------------------------------------
// Rate limits.

/// How long to wait before the action is allowed again, in milliseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct RetryAfterMs(pub i64);

/// At most `max` actions in any sliding window of `per_ms` milliseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct RateLimit {
    /// Actions allowed per window.
    pub max: u32,
    /// The window's length.
    pub per_ms: i64,
}

impl RateLimit {
    /// Whether one more action at `now_ms` is allowed, given the times of earlier ones (any
    /// order). An action at `t` counts while `now_ms < t + per_ms`. With `max` 0 the action
    /// is never allowed (retry after a whole window).
    ///
    /// # Errors
    /// [`RetryAfterMs`]: how long until the oldest action that counts leaves the window.
    pub fn check(&self, history: &[i64], now_ms: i64) -> Result<(), RetryAfterMs> {
        let window_start = now_ms.saturating_sub(self.per_ms);
        let mut in_window: Vec<i64> = history
            .iter()
            .copied()
            .filter(|t| *t > window_start)
            .collect();
        let max = usize::try_from(self.max).unwrap_or(usize::MAX);
        if in_window.len() < max {
            return Ok(());
        }
        if max == 0 {
            return Err(RetryAfterMs(self.per_ms.max(1)));
        }
        in_window.sort_unstable();
        // Once the (len - max)th oldest leaves, fewer than `max` remain.
        let leaving = in_window[in_window.len() - max];
        Err(RetryAfterMs(
            leaving
                .saturating_add(self.per_ms)
                .saturating_sub(now_ms)
                .max(1),
        ))
    }
}

/// The default limit for `action` by `role` (`None`: unlimited).
///
/// | action      | confirmed | autoconfirmed | editor | reviewer | administrator |
/// |-------------|-----------|---------------|--------|----------|---------------|
/// | Edit        | 8/min     | 90/min        | —      | —        | —             |
/// | CreatePage  | 3/min     | 10/min        | —      | —        | —             |
/// | Move        |           | 8/min         | 8/min  | 8/min    | —             |
/// | Upload      |           | 8/min         | 8/min  | 8/min    | —             |
/// | Rollback    |           |               |        | 100/min  | —             |
///
/// MediaWiki's defaults (newbie 8 edits a minute, user 90) inspired the numbers; reading and
/// administrators' actions are not limited.
#[must_use]
pub fn default_rate_limit(action: Action, role: WikiRole) -> Option<RateLimit> {
    let per_minute = |max| {
        Some(RateLimit {
            max,
            per_ms: MINUTE_MS,
        })
    };
    if role == WikiRole::Administrator || !allows(role, action) {
        return None;
    }
    match (action, role) {
        (Action::Edit, WikiRole::Confirmed) => per_minute(8),
        (Action::Edit, WikiRole::Autoconfirmed) => per_minute(90),
        (Action::CreatePage, WikiRole::Confirmed) => per_minute(3),
        (Action::CreatePage, WikiRole::Autoconfirmed) => per_minute(10),
        (Action::Move | Action::Upload, _) => per_minute(8),
        (Action::Rollback, _) => per_minute(100),
        _ => None,
    }
}
