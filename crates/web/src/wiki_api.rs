//! The Enciclopedia's JSON API: a page as readers see it, edits with conflicts answered as
//! merges, histories, search and title suggestions, and abuse filters for administrators.

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use ceiba_audit::{AuditEvent, EventKind};
use ceiba_wiki::revision::Merge;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::AppState;
use crate::auth::{Administrator, Authenticated, Authorized};
use crate::json::ApiJson;
use crate::problem::{ApiError, ErrorCode, ProblemMembers};
use crate::wiki::{
    self, EditError, EditOutcome, EditRequest, FilterSpec, parse_title, stored_key,
    visible_revision_id,
};

/// Where the page routes start (their bodies may hold a whole page).
pub const PAGES_PATH_PREFIX: &str = "/api/v1/wiki/pages/";
/// Most hits or suggestions one request returns.
const RESULTS_MAX: usize = 50;

fn not_found() -> ApiError {
    ApiError::with_detail(ErrorCode::NotFound, "no existe una página con ese título")
}

/// A page as readers see it.
#[derive(Debug, Serialize, ToSchema)]
pub struct PageView {
    pub title: String,
    pub page_id: String,
    /// The revision shown: on a page under review, the last reviewed one (reviewers see the
    /// latest).
    pub revision_id: String,
    pub latest_revision_id: Option<String>,
    pub text: String,
    /// Safe HTML.
    pub html: String,
    pub categories: Vec<String>,
    pub links: Vec<String>,
    pub redirect: Option<String>,
}

/// `GET /api/v1/wiki/pages/{title}`.
#[utoipa::path(get, path = "/api/v1/wiki/pages/{title}", tag = "enciclopedia",
    params(("title" = String, Path, description = "El título (espacios o guiones bajos)")),
    responses(
        (status = 200, description = "La revisión visible de la página", body = PageView),
        (status = 404, description = "No existe", body = crate::problem::Problem, content_type = "application/problem+json"),
        (status = 422, description = "Título no válido", body = crate::problem::Problem, content_type = "application/problem+json"),
    ))]
pub async fn get_page(
    State(state): State<AppState>,
    Path(raw): Path<String>,
    who: Result<Authenticated, ApiError>,
) -> Result<Json<PageView>, ApiError> {
    let who = who.ok();
    let viewer = wiki::viewer(&state, who.as_ref()).await?;
    let title = parse_title(&raw)?;
    let (namespace, name) = stored_key(&title);
    let page = state
        .db
        .wiki_page(namespace, &name)
        .await?
        .ok_or_else(not_found)?;
    let id = visible_revision_id(&page, viewer.role, state.clock.now_ms()).ok_or_else(not_found)?;
    let revision = state.db.wiki_revision(&id).await?.ok_or_else(not_found)?;
    let rendered = wiki::render_page(&state, Some(&title), &revision.text).await?;
    Ok(Json(PageView {
        title: title.text(),
        page_id: page.id,
        revision_id: revision.id,
        latest_revision_id: page.latest_revision_id,
        text: revision.text,
        html: rendered.html,
        categories: rendered.categories,
        links: rendered.links,
        redirect: rendered.redirect,
    }))
}

/// An edit.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PageEdit {
    pub text: String,
    #[serde(default)]
    pub summary: String,
    /// The revision the edit was made on; absent to create the page.
    pub base_revision_id: Option<String>,
    /// Save although abuse filters warn (after showing their warnings).
    #[serde(default)]
    pub confirm_warnings: bool,
}

/// A saved edit.
#[derive(Debug, Serialize, ToSchema)]
pub struct SavedEdit {
    pub revision_id: String,
    pub created: bool,
    /// Waits for a reviewer before readers see it.
    pub pending: bool,
}

/// The merge a 409 carries (as the member `merge` of its problem document).
#[derive(Debug, Serialize, ToSchema)]
pub struct MergeView {
    /// Whether the two edits merged without conflicts: `text` can be sent as is.
    pub clean: bool,
    /// The merged text; with conflict markers when not clean.
    pub text: String,
    pub conflicts: Vec<ConflictView>,
    /// The base to send with the merged text.
    pub latest_revision_id: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ConflictView {
    pub line: usize,
    pub base: String,
    pub mine: String,
    pub theirs: String,
}

/// `PUT /api/v1/wiki/pages/{title}`.
#[utoipa::path(put, path = "/api/v1/wiki/pages/{title}", tag = "enciclopedia",
    security(("bearer" = [])), request_body = PageEdit,
    params(("title" = String, Path, description = "El título")),
    responses(
        (status = 201, description = "Página creada", body = SavedEdit),
        (status = 200, description = "Edición guardada", body = SavedEdit),
        (status = 403, description = "No puede editar esta página (el motivo en detail)", body = crate::problem::Problem, content_type = "application/problem+json"),
        (status = 409, description = "La página cambió desde base_revision_id: nada guardado; el miembro merge trae la combinación", body = crate::problem::Problem, content_type = "application/problem+json"),
        (status = 422, description = "Título o texto no válidos (más de 2 MiB), o advertencias de los filtros (miembro warnings)", body = crate::problem::Problem, content_type = "application/problem+json"),
        (status = 429, description = "Demasiadas ediciones seguidas", body = crate::problem::Problem, content_type = "application/problem+json"),
    ))]
pub async fn put_page(
    State(state): State<AppState>,
    who: Authenticated,
    Path(raw): Path<String>,
    ApiJson(edit): ApiJson<PageEdit>,
) -> Result<Response, EditError> {
    let viewer = wiki::viewer(&state, Some(&who)).await?;
    let title = parse_title(&raw)?;
    let request = EditRequest {
        title: &title,
        text: &edit.text,
        summary: &edit.summary,
        base_revision_id: edit.base_revision_id.as_deref(),
        warnings_confirmed: edit.confirm_warnings,
    };
    match wiki::save_edit(&state, &viewer, &request).await? {
        EditOutcome::Saved {
            revision_id,
            created,
            pending,
        } => {
            let status = if created {
                StatusCode::CREATED
            } else {
                StatusCode::OK
            };
            Ok((
                status,
                Json(SavedEdit {
                    revision_id,
                    created,
                    pending,
                }),
            )
                .into_response())
        }
        EditOutcome::Warned(warnings) => {
            let mut members = serde_json::Map::new();
            members.insert("warnings".to_owned(), serde_json::json!(warnings));
            Ok(with_members(
                ApiError::with_detail(
                    ErrorCode::ValidationFailed,
                    format!(
                        "los filtros advierten: {}; envíe confirm_warnings: true para guardar",
                        warnings.join("; ")
                    ),
                ),
                members,
            ))
        }
        EditOutcome::Conflict {
            latest_revision_id,
            merge,
        } => {
            let view = match merge {
                Merge::Clean(text) => MergeView {
                    clean: true,
                    text,
                    conflicts: Vec::new(),
                    latest_revision_id,
                },
                Merge::Conflict {
                    text_with_markers,
                    conflicts,
                } => MergeView {
                    clean: false,
                    text: text_with_markers,
                    conflicts: conflicts
                        .into_iter()
                        .map(|c| ConflictView {
                            line: c.line,
                            base: c.base,
                            mine: c.mine,
                            theirs: c.theirs,
                        })
                        .collect(),
                    latest_revision_id,
                },
            };
            let mut members = serde_json::Map::new();
            members.insert(
                "merge".to_owned(),
                serde_json::to_value(&view).unwrap_or_default(),
            );
            let detail = if view.clean {
                "la página cambió desde su revisión de partida; nada se guardó. merge.text combina \
                 ambas ediciones sin conflictos: envíelo con base_revision_id = \
                 merge.latest_revision_id para guardarlo"
            } else {
                "la página cambió desde su revisión de partida y ambas ediciones tocan las mismas \
                 líneas; nada se guardó. Resuelva los conflictos de merge.text y envíelo con \
                 base_revision_id = merge.latest_revision_id"
            };
            Ok(with_members(
                ApiError::with_detail(ErrorCode::Conflict, detail),
                members,
            ))
        }
    }
}

fn with_members(error: ApiError, members: serde_json::Map<String, serde_json::Value>) -> Response {
    let mut response = error.into_response();
    response.extensions_mut().insert(ProblemMembers(members));
    response
}

/// One revision in a history.
#[derive(Debug, Serialize, ToSchema)]
pub struct RevisionView {
    pub id: String,
    pub number: u64,
    pub parent_id: Option<String>,
    pub author: String,
    pub timestamp_ms: i64,
    pub summary: String,
    pub bytes: u64,
    pub tags: Vec<String>,
    pub reviewed: bool,
}

/// `GET /api/v1/wiki/pages/{title}/history`.
#[utoipa::path(get, path = "/api/v1/wiki/pages/{title}/history", tag = "enciclopedia",
    params(("title" = String, Path, description = "El título")),
    responses(
        (status = 200, description = "Las revisiones, de la más nueva a la más antigua (500 como mucho)", body = Vec<RevisionView>),
        (status = 404, description = "No existe", body = crate::problem::Problem, content_type = "application/problem+json"),
        (status = 422, description = "El título no es válido", body = crate::problem::Problem, content_type = "application/problem+json"),
    ))]
pub async fn history(
    State(state): State<AppState>,
    Path(raw): Path<String>,
) -> Result<Json<Vec<RevisionView>>, ApiError> {
    let title = parse_title(&raw)?;
    let (namespace, name) = stored_key(&title);
    let page = state
        .db
        .wiki_page(namespace, &name)
        .await?
        .ok_or_else(not_found)?;
    let rows = state
        .db
        .wiki_history(&page.id, ceiba_store::WIKI_LIST_MAX)
        .await?;
    Ok(Json(
        rows.into_iter()
            .map(|revision| RevisionView {
                id: revision.id,
                number: revision.number,
                parent_id: revision.parent_id,
                author: revision.author_name,
                timestamp_ms: revision.timestamp_ms,
                summary: revision.summary,
                bytes: revision.bytes,
                tags: revision
                    .tags
                    .split(',')
                    .filter(|tag| !tag.is_empty())
                    .map(str::to_owned)
                    .collect(),
                reviewed: revision.reviewed_by.is_some(),
            })
            .collect(),
    ))
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct SearchQuery {
    /// What to look for.
    pub q: String,
    /// How many results (1 to 50; 10 by default).
    #[param(minimum = 1, maximum = 50)]
    pub limit: Option<usize>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SearchHit {
    pub title: String,
    pub url: String,
    /// HTML: escaped text with the matched words in `<b>`.
    pub snippet_html: String,
    pub score: f32,
}

fn bad_query(error: &ceiba_search::SearchError) -> ApiError {
    ApiError::with_detail(ErrorCode::ValidationFailed, error.to_string())
}

fn url_of(title: &str) -> String {
    ceiba_wiki::markup::normalize_title(title)
        .map(|title| title.url_path())
        .unwrap_or_default()
}

/// Runs a search or suggestion on the index, off the request threads, after checking the
/// limit.
async fn ask_index<T: Send + 'static>(
    state: &AppState,
    query: SearchQuery,
    ask: impl FnOnce(&ceiba_search::ArticleIndex, &str, usize) -> Result<T, ceiba_search::SearchError>
    + Send
    + 'static,
) -> Result<T, ApiError> {
    let limit = query.limit.unwrap_or(10);
    if !(1..=RESULTS_MAX).contains(&limit) {
        return Err(ApiError::with_detail(
            ErrorCode::ValidationFailed,
            format!("limit: de 1 a {RESULTS_MAX}"),
        ));
    }
    let index = state.wiki_index.clone();
    tokio::task::spawn_blocking(move || ask(&index, &query.q, limit))
        .await
        .map_err(|_| ApiError::new(ErrorCode::Internal))?
        .map_err(|error| bad_query(&error))
}

/// `GET /api/v1/wiki/search`.
#[utoipa::path(get, path = "/api/v1/wiki/search", tag = "enciclopedia",
    params(SearchQuery),
    responses(
        (status = 200, description = "Los artículos que mejor responden, el mejor primero", body = Vec<SearchHit>),
        (status = 422, description = "Consulta demasiado larga o límite fuera de rango", body = crate::problem::Problem, content_type = "application/problem+json"),
    ))]
pub async fn search(
    State(state): State<AppState>,
    Query(query): Query<SearchQuery>,
) -> Result<Json<Vec<SearchHit>>, ApiError> {
    let hits = ask_index(&state, query, |index, q, limit| index.search(q, limit)).await?;
    Ok(Json(
        hits.into_iter()
            .map(|hit| SearchHit {
                url: url_of(&hit.title),
                title: hit.title,
                snippet_html: hit.snippet_html,
                score: hit.score,
            })
            .collect(),
    ))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SuggestionView {
    pub title: String,
    pub url: String,
}

/// `GET /api/v1/wiki/suggest`.
#[utoipa::path(get, path = "/api/v1/wiki/suggest", tag = "enciclopedia",
    params(SearchQuery),
    responses(
        (status = 200, description = "Títulos que empiezan así (sin distinguir mayúsculas ni tildes)", body = Vec<SuggestionView>),
        (status = 422, description = "Prefijo demasiado largo o límite fuera de rango", body = crate::problem::Problem, content_type = "application/problem+json"),
    ))]
pub async fn suggest(
    State(state): State<AppState>,
    Query(query): Query<SearchQuery>,
) -> Result<Json<Vec<SuggestionView>>, ApiError> {
    let found = ask_index(&state, query, |index, q, limit| index.suggest(q, limit)).await?;
    Ok(Json(
        found
            .into_iter()
            .map(|suggestion| SuggestionView {
                url: url_of(&suggestion.title),
                title: suggestion.title,
            })
            .collect(),
    ))
}

/// An abuse filter.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FilterView {
    pub description: String,
    pub enabled: bool,
    pub spec: FilterSpec,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct StoredFilter {
    pub id: i64,
    pub description: String,
    pub enabled: bool,
    pub spec: serde_json::Value,
    pub changed_at_ms: i64,
}

/// `GET /api/v1/wiki/filters`.
#[utoipa::path(get, path = "/api/v1/wiki/filters", tag = "enciclopedia",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Los filtros", body = Vec<StoredFilter>),
        (status = 403, description = "Solo administradores con segundo factor", body = crate::problem::Problem, content_type = "application/problem+json"),
    ))]
pub async fn filters(
    State(state): State<AppState>,
    _admin: Authorized<Administrator>,
) -> Result<Json<Vec<StoredFilter>>, ApiError> {
    let rows = state.db.wiki_filters().await?;
    Ok(Json(
        rows.into_iter()
            .map(|row| StoredFilter {
                id: row.id,
                description: row.description,
                enabled: row.enabled,
                spec: serde_json::from_str(&row.spec).unwrap_or_default(),
                changed_at_ms: row.changed_at_ms,
            })
            .collect(),
    ))
}

/// `PUT /api/v1/wiki/filters/{id}`: creates or replaces an abuse filter.
#[utoipa::path(put, path = "/api/v1/wiki/filters/{id}", tag = "enciclopedia",
    security(("bearer" = [])), request_body = FilterView,
    params(("id" = u32, Path, description = "El número del filtro (1 a 10000)")),
    responses(
        (status = 204, description = "Filtro guardado"),
        (status = 403, description = "Solo administradores con segundo factor", body = crate::problem::Problem, content_type = "application/problem+json"),
        (status = 422, description = "Patrón o acción no válidos", body = crate::problem::Problem, content_type = "application/problem+json"),
    ))]
pub async fn set_filter(
    State(state): State<AppState>,
    admin: Authorized<Administrator>,
    Path(id): Path<u32>,
    ApiJson(filter): ApiJson<FilterView>,
) -> Result<StatusCode, ApiError> {
    let invalid = |detail: String| ApiError::with_detail(ErrorCode::ValidationFailed, detail);
    if !(1..=10_000).contains(&id) {
        return Err(invalid("id: de 1 a 10000".to_owned()));
    }
    let description = filter.description.trim();
    if description.is_empty() || description.chars().count() > 200 {
        return Err(invalid("description: de 1 a 200 caracteres".to_owned()));
    }
    wiki::filter_of(id, description, &filter.spec).map_err(invalid)?;
    let spec = serde_json::to_string(&filter.spec).map_err(|e| invalid(e.to_string()))?;
    let now_ms = state.clock.now_ms();
    state
        .db
        .set_wiki_filter(
            i64::from(id),
            description,
            &spec,
            filter.enabled,
            &admin.who.user.id,
            now_ms,
        )
        .await?;
    wiki::audit(
        &state,
        AuditEvent::new(EventKind::WikiFilterChanged, now_ms)
            .actor(&admin.who.user.id)
            .subject(id.to_string())
            .detail("enabled", filter.enabled.to_string())
            .detail("spec", spec),
    )
    .await;
    Ok(StatusCode::NO_CONTENT)
}
