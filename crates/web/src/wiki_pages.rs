//! The Enciclopedia's pages under `/wiki`: reading (redirects followed once, red links,
//! categories), editing with conflicts shown as merges, history and diffs, rollback, review,
//! protection, watchlists, recent changes, what links here and search. Small pages that work
//! without JavaScript; every change is a form with the session's `_csrf`.
//!
//! The body of each page is built here, every piece of text escaped on the way in (titles,
//! summaries, names) and the wiki's HTML taken only from the renderer and the diff, which
//! escape all text themselves; `wiki.html` puts it in the site's frame.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{Redirect, Response};
use ceiba_audit::{AuditEvent, EventKind};
use ceiba_store::{WikiPageRow, WikiRevisionRow};
use ceiba_wiki::markup::{Namespace, Title};
use ceiba_wiki::revision::{self, Merge, RevisionMeta};
use ceiba_wiki::rules::{Action, EditMode};
use serde::Deserialize;

use crate::AppState;
use crate::account_pages::{PageForm, iso_utc, see_other, signed_in};
use crate::auth::Authenticated;
use crate::pages::{Frame, html, page_lang};
use crate::problem::{ApiError, ErrorCode, OwnErrorPage};
use crate::wiki::{
    self, EditError, EditOutcome, EditRequest, Viewer, page_state, parse_title, stored_key,
    title_of, visible_revision_id,
};

pub const WIKI_PATH: &str = "/wiki";
pub const WIKI_PAGE_PATH: &str = "/wiki/{*title}";
const SPECIAL: &str = "Especial:";
/// Rows of history, recent changes, watchlists and lists of pages shown at once.
const ROWS_SHOWN_MAX: u64 = 100;
/// Results a search page shows.
const SEARCH_HITS_SHOWN: usize = 20;
/// Longest protection an administrator may set with an end (ten years); longer is indefinite.
const PROTECTION_HOURS_MAX: i64 = 10 * 365 * 24;

#[derive(Template)]
#[template(path = "wiki.html")]
struct WikiPage<'a> {
    frame: Frame,
    heading: &'a str,
    tabs: &'a str,
    body: &'a str,
}

/// The query of a wiki page.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct WikiQuery {
    accion: Option<String>,
    diff: Option<String>,
    oldid: Option<String>,
    revision: Option<String>,
    redirect: Option<String>,
    q: Option<String>,
    lang: Option<String>,
}

/// The fields of the wiki's forms (each form sends the ones it has).
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct WikiForm {
    texto: String,
    resumen: String,
    base: String,
    confirmar: String,
    nivel: String,
    horas: String,
    pendientes: String,
    vigilar: String,
}

/// Text escaped for HTML, attributes included.
pub fn esc(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

fn link(title: &Title) -> String {
    format!(
        "<a href=\"{}\">{}</a>",
        esc(&title.url_path()),
        esc(&title.text())
    )
}

fn stored_link(namespace: i64, name: &str) -> String {
    title_of(namespace, name).map_or_else(|| esc(name), |title| link(&title))
}

fn when(ms: i64) -> String {
    iso_utc(u64::try_from(ms / 1000).unwrap_or(0))
}

fn respond(
    status: StatusCode,
    headers: &HeaderMap,
    lang_query: Option<&str>,
    heading: &str,
    tabs: &str,
    body: &str,
) -> Response {
    let lang = page_lang(lang_query, headers);
    let rendered = WikiPage {
        frame: Frame::for_request(lang, headers),
        heading,
        tabs,
        body,
    }
    .render();
    let mut response = html(status, lang, rendered);
    if status != StatusCode::OK {
        // The page is the answer: the error pages must not replace it.
        response.extensions_mut().insert(OwnErrorPage);
    }
    response
}

/// The tabs above a page: the page and its talk page, edit, history, what links here.
fn tabs(title: &Title) -> String {
    let path = esc(&title.url_path());
    let mut out = String::from("<nav class=\"pestanas\" id=\"pestanas\">");
    match title.namespace() {
        Namespace::Talk => {
            if let Some(article) = wiki::talk_pair(title) {
                out.push_str(&format!(
                    "<a href=\"{}\">Artículo</a> ",
                    esc(&article.url_path())
                ));
            }
            out.push_str(&format!("<a href=\"{path}\">Discusión</a> "));
        }
        _ => {
            out.push_str(&format!("<a href=\"{path}\">Artículo</a> "));
            if let Some(talk) = wiki::talk_pair(title) {
                out.push_str(&format!(
                    "<a id=\"pestana-discusion\" href=\"{}\">Discusión</a> ",
                    esc(&talk.url_path())
                ));
            }
        }
    }
    out.push_str(&format!(
        "<a id=\"pestana-editar\" href=\"{path}?accion=editar\">Editar</a> \
         <a id=\"pestana-historial\" href=\"{path}?accion=historial\">Historial</a> \
         <a href=\"/wiki/Especial:LoQueEnlazaAquí/{}\">Lo que enlaza aquí</a> \
         <a href=\"/wiki/Especial:Buscar\">Buscar</a></nav>",
        esc(title.url_path().trim_start_matches("/wiki/"))
    ));
    out
}

fn optional_who(who: Result<Authenticated, ApiError>) -> Option<Authenticated> {
    who.ok()
}

/// `/wiki`: the main page.
pub async fn main_page() -> Redirect {
    Redirect::to(&format!("{WIKI_PATH}/{}", wiki::MAIN_PAGE))
}

/// `GET /wiki/{title}` and its actions in the query.
pub async fn show(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(raw): Path<String>,
    Query(query): Query<WikiQuery>,
    who: Result<Authenticated, ApiError>,
) -> Result<Response, ApiError> {
    let who = optional_who(who);
    let viewer = wiki::viewer(&state, who.as_ref()).await?;
    if let Some(special) = raw.strip_prefix(SPECIAL) {
        return special_page(&state, &headers, &query, who.as_ref(), special).await;
    }
    let title = parse_title(&raw)?;
    let (namespace, name) = stored_key(&title);
    let page = state.db.wiki_page(namespace, &name).await?;
    let context = Shown {
        state: &state,
        headers: &headers,
        query: &query,
        viewer: &viewer,
        who: who.as_ref(),
        title: &title,
        page: page.as_ref(),
    };
    match (query.accion.as_deref(), &query.diff, &query.oldid) {
        (Some("editar"), _, _) => context.edit_form(None).await,
        (Some("historial"), _, _) => context.history().await,
        (Some("proteger"), _, _) => context.protect_form(),
        (_, Some(diff), _) => context.diff(diff, query.oldid.as_deref()).await,
        (_, None, Some(old)) => context.read(Some(old)).await,
        _ => context.read(None).await,
    }
}

/// What a wiki page's handlers share.
struct Shown<'a> {
    state: &'a AppState,
    headers: &'a HeaderMap,
    query: &'a WikiQuery,
    viewer: &'a Viewer,
    who: Option<&'a Authenticated>,
    title: &'a Title,
    page: Option<&'a WikiPageRow>,
}

impl Shown<'_> {
    fn respond(&self, status: StatusCode, heading: &str, body: &str) -> Response {
        respond(
            status,
            self.headers,
            self.query.lang.as_deref(),
            heading,
            &tabs(self.title),
            body,
        )
    }

    fn csrf(&self) -> String {
        self.who
            .map(|who| esc(who.csrf_token().expose()))
            .unwrap_or_default()
    }

    /// A form that posts one action to this page.
    fn action_form(&self, action: &str, extra_query: &str, fields: &str, button: &str) -> String {
        format!(
            "<form class=\"accion\" method=\"post\" action=\"{}?accion={action}{extra_query}\">\
             <input type=\"hidden\" name=\"_csrf\" value=\"{}\">{fields}\
             <button type=\"submit\" id=\"boton-{action}\">{button}</button></form>",
            esc(&self.title.url_path()),
            self.csrf()
        )
    }

    async fn read(&self, old: Option<&str>) -> Result<Response, ApiError> {
        let now_ms = self.state.clock.now_ms();
        let heading = self.title.text();
        let Some(page) = self.page else {
            return self.missing(&heading).await;
        };
        let mut body = String::new();
        let mut shown_page = page.clone();
        let mut shown_title = self.title.clone();
        // A redirect is followed once, unless asked not to, and only to a page that exists.
        if old.is_none()
            && self.query.redirect.as_deref() != Some("no")
            && let Some(target) = page
                .redirect_to
                .as_deref()
                .and_then(|target| ceiba_wiki::markup::normalize_title(target).ok())
        {
            let (namespace, name) = stored_key(&target);
            if let Some(target_page) = self.state.db.wiki_page(namespace, &name).await? {
                body.push_str(&format!(
                    "<p class=\"nota\" id=\"redirigido\">(Redirigido desde <a href=\"{}?redirect=no\">{}</a>)</p>",
                    esc(&self.title.url_path()),
                    esc(&self.title.text())
                ));
                shown_page = target_page;
                shown_title = target;
            }
        }
        let revision_id = match old {
            Some(old) => Some(old.to_owned()),
            None => visible_revision_id(&shown_page, self.viewer.role, now_ms),
        };
        let revision = match revision_id {
            Some(id) => self
                .state
                .db
                .wiki_revision(&id)
                .await?
                .filter(|revision| revision.page_id == shown_page.id),
            None => None,
        };
        let Some(revision) = revision else {
            return Err(ApiError::with_detail(
                ErrorCode::NotFound,
                "esta página no tiene esa revisión",
            ));
        };
        if old.is_some() {
            body.push_str(&format!(
                "<p class=\"nota\" id=\"revision-antigua\">Revisión {} de {}, por {}.</p>",
                revision.number,
                when(revision.timestamp_ms),
                esc(&revision.author_name)
            ));
        }
        let state = page_state(Some(&shown_page));
        let pending = state.under_review(now_ms)
            && shown_page.latest_revision_id != shown_page.reviewed_revision_id;
        if pending && self.viewer.may(Action::Review) && old.is_none() {
            body.push_str("<p class=\"aviso\" id=\"pendiente\">Esta revisión espera revisión.</p>");
            if let Some(latest) = &shown_page.latest_revision_id {
                body.push_str(&self.action_form(
                    "revisar",
                    &format!("&amp;revision={}", esc(latest)),
                    "",
                    "Aceptar la revisión",
                ));
            }
        }
        let rendered = wiki::render_page(self.state, Some(&shown_title), &revision.text).await?;
        body.push_str("<div class=\"articulo\" id=\"contenido\">");
        body.push_str(&rendered.html);
        body.push_str("</div>");
        if shown_title.namespace() == Namespace::Category {
            body.push_str(&self.members(&shown_title).await?);
        }
        if !rendered.categories.is_empty() {
            body.push_str("<p class=\"categorias\" id=\"categorias\">Categorías: ");
            let links: Vec<String> = rendered
                .categories
                .iter()
                .map(|category| stored_link(Namespace::Category.number(), category))
                .collect();
            body.push_str(&links.join(" · "));
            body.push_str("</p>");
        }
        body.push_str(&self.watch_form(&shown_page).await?);
        Ok(self.respond(StatusCode::OK, &shown_title.text(), &body))
    }

    async fn members(&self, category: &Title) -> Result<String, ApiError> {
        let members = self.state.db.wiki_category_members(category.name()).await?;
        let mut out = format!(
            "<h2>Páginas en la categoría «{}»</h2><ul id=\"miembros\">",
            esc(category.name())
        );
        for (namespace, name) in members.iter().take(page_rows()) {
            out.push_str(&format!("<li>{}</li>", stored_link(*namespace, name)));
        }
        out.push_str("</ul>");
        Ok(out)
    }

    async fn watch_form(&self, page: &WikiPageRow) -> Result<String, ApiError> {
        let Some(user_id) = self.viewer.user_id.as_deref() else {
            return Ok(String::new());
        };
        let watched = self
            .state
            .db
            .wiki_watchlist(user_id, ceiba_store::WIKI_LIST_MAX)
            .await?
            .iter()
            .any(|(_, _, revision)| revision.page_id == page.id);
        Ok(if watched {
            self.action_form(
                "vigilar",
                "",
                "<input type=\"hidden\" name=\"vigilar\" value=\"0\">",
                "Dejar de vigilar",
            )
        } else {
            self.action_form(
                "vigilar",
                "",
                "<input type=\"hidden\" name=\"vigilar\" value=\"1\">",
                "Vigilar",
            )
        })
    }

    async fn missing(&self, heading: &str) -> Result<Response, ApiError> {
        let mut body = String::from(
            "<p id=\"no-existe\">La Enciclopedia aún no tiene una página con este título.</p>",
        );
        if wiki::edit_mode(self.viewer, None, self.state.clock.now_ms()).is_ok() {
            body.push_str(&format!(
                "<p><a id=\"crear\" href=\"{}?accion=editar\">Crear esta página</a></p>",
                esc(&self.title.url_path())
            ));
        }
        if self.title.namespace() == Namespace::Category {
            body.push_str(&self.members(self.title).await?);
        }
        Ok(self.respond(StatusCode::NOT_FOUND, heading, &body))
    }

    /// The edit form, with the latest text (or `draft`: a merge, a warned edit, a refused one).
    async fn edit_form(&self, draft: Option<Draft<'_>>) -> Result<Response, ApiError> {
        let now_ms = self.state.clock.now_ms();
        let heading = format!("Editando «{}»", self.title.text());
        let mode = match wiki::edit_mode(self.viewer, self.page, now_ms) {
            Ok(mode) => mode,
            Err(refusal) => {
                let mut body = format!(
                    "<p class=\"error\" id=\"error\" role=\"alert\">No puede editar esta página: {}.</p>",
                    esc(&refusal.to_string())
                );
                if self.who.is_none() {
                    body.push_str("<p><a href=\"/cuenta/entrar\">Iniciar sesión</a></p>");
                }
                return Ok(self.respond(StatusCode::FORBIDDEN, &heading, &body));
            }
        };
        let (text, base, summary, status, notice) = match draft {
            Some(draft) => (
                draft.text.to_owned(),
                draft.base.to_owned(),
                draft.summary.to_owned(),
                draft.status,
                draft.notice,
            ),
            None => {
                let latest = match self
                    .page
                    .and_then(|page| page.latest_revision_id.as_deref())
                {
                    Some(id) => self.state.db.wiki_revision(id).await?,
                    None => None,
                };
                (
                    latest.as_ref().map(|r| r.text.clone()).unwrap_or_default(),
                    latest.map(|r| r.id).unwrap_or_default(),
                    String::new(),
                    StatusCode::OK,
                    String::new(),
                )
            }
        };
        let mut body = notice;
        if mode == EditMode::Pending {
            body.push_str(
                "<p class=\"nota\" id=\"nota-pendiente\">Esta página está bajo revisión: su \
                 edición se guardará y los lectores la verán cuando un revisor la acepte.</p>",
            );
        }
        body.push_str(&format!(
            "<form class=\"edicion\" method=\"post\" action=\"{}\">\
             <input type=\"hidden\" name=\"_csrf\" value=\"{}\">\
             <input type=\"hidden\" name=\"base\" value=\"{}\">\
             <label for=\"texto\">Texto</label>\
             <textarea id=\"texto\" name=\"texto\" rows=\"25\" cols=\"80\">{}</textarea>\
             <label for=\"resumen\">Resumen de la edición</label>\
             <input id=\"resumen\" name=\"resumen\" maxlength=\"{}\" value=\"{}\">\
             <button type=\"submit\" id=\"guardar\">Guardar</button></form>",
            esc(&self.title.url_path()),
            self.csrf(),
            esc(&base),
            esc(&text),
            wiki::SUMMARY_CHARS_MAX,
            esc(&summary),
        ));
        Ok(self.respond(status, &heading, &body))
    }

    async fn history(&self) -> Result<Response, ApiError> {
        let heading = format!("Historial de «{}»", self.title.text());
        let Some(page) = self.page else {
            return self.missing(&heading).await;
        };
        let rows = self.state.db.wiki_history(&page.id, ROWS_SHOWN_MAX).await?;
        let path = esc(&self.title.url_path());
        let mut body = String::from("<ul class=\"historial\" id=\"historial\">");
        for revision in &rows {
            let diff = revision.parent_id.as_deref().map_or_else(
                || "anterior".to_owned(),
                |parent| {
                    format!(
                        "<a href=\"{path}?diff={}&amp;oldid={}\">anterior</a>",
                        esc(&revision.id),
                        esc(parent)
                    )
                },
            );
            body.push_str(&format!(
                "<li>({diff}) <a href=\"{path}?oldid={}\"><time>{}</time></a> {} · {} bytes{}{} <span class=\"resumen\">{}</span>",
                esc(&revision.id),
                when(revision.timestamp_ms),
                esc(&revision.author_name),
                revision.bytes,
                if revision.reviewed_by.is_none() {
                    " · <span class=\"pendiente\">sin revisar</span>"
                } else {
                    ""
                },
                if revision.tags.is_empty() {
                    String::new()
                } else {
                    format!(" · <span class=\"etiquetas\">{}</span>", esc(&revision.tags))
                },
                esc(&revision.summary),
            ));
            if revision.reviewed_by.is_none() && self.viewer.may(Action::Review) {
                body.push_str(&self.action_form(
                    "revisar",
                    &format!("&amp;revision={}", esc(&revision.id)),
                    "",
                    "Aceptar",
                ));
            }
            body.push_str("</li>");
        }
        body.push_str("</ul>");
        if self.viewer.may(Action::Rollback) && rows.len() > 1 {
            body.push_str(&self.action_form(
                "revertir",
                "",
                "",
                "Revertir las últimas ediciones de su autor",
            ));
        }
        if self.viewer.may(Action::Protect) {
            body.push_str(&format!(
                "<p><a id=\"proteger\" href=\"{path}?accion=proteger\">Proteger</a></p>"
            ));
        }
        Ok(self.respond(StatusCode::OK, &heading, &body))
    }

    async fn diff(&self, diff: &str, old: Option<&str>) -> Result<Response, ApiError> {
        let heading = format!("Diferencias en «{}»", self.title.text());
        let Some(page) = self.page else {
            return self.missing(&heading).await;
        };
        let of_page = |revision: Option<WikiRevisionRow>| {
            revision
                .filter(|revision| revision.page_id == page.id)
                .ok_or_else(|| {
                    ApiError::with_detail(ErrorCode::NotFound, "esta página no tiene esa revisión")
                })
        };
        let new = of_page(self.state.db.wiki_revision(diff).await?)?;
        let old_id = old.map(str::to_owned).or_else(|| new.parent_id.clone());
        let old_text = match old_id {
            Some(id) => of_page(self.state.db.wiki_revision(&id).await?)?.text,
            None => String::new(),
        };
        let changes = revision::diff(&old_text, &new.text);
        let body = format!(
            "<p>Revisión de {} por {}: <span class=\"resumen\">{}</span></p>{}",
            when(new.timestamp_ms),
            esc(&new.author_name),
            esc(&new.summary),
            changes.to_html()
        );
        Ok(self.respond(StatusCode::OK, &heading, &body))
    }

    fn protect_form(&self) -> Result<Response, ApiError> {
        let heading = format!("Proteger «{}»", self.title.text());
        if !self.viewer.may(Action::Protect) {
            return Err(ApiError::with_detail(
                ErrorCode::Forbidden,
                "solo los administradores protegen páginas",
            ));
        }
        let Some(page) = self.page else {
            return Err(ApiError::with_detail(
                ErrorCode::NotFound,
                "la página no existe",
            ));
        };
        let checked = if page.pending_changes { " checked" } else { "" };
        let fields = format!(
            "<label for=\"nivel\">Nivel</label><select id=\"nivel\" name=\"nivel\">\
             <option value=\"ninguna\">Sin protección</option>\
             <option value=\"semi\">Semiprotegida (cuentas autoconfirmadas)</option>\
             <option value=\"total\">Protegida (administradores)</option></select>\
             <label for=\"horas\">Duración en horas (vacío: indefinida)</label>\
             <input id=\"horas\" name=\"horas\" inputmode=\"numeric\" value=\"\">\
             <label><input type=\"checkbox\" name=\"pendientes\" value=\"1\"{checked}> \
             Cambios pendientes: revisar las ediciones de cuentas sin rol</label>"
        );
        let body = self.action_form("proteger", "", &fields, "Guardar la protección");
        Ok(self.respond(StatusCode::OK, &heading, &body))
    }
}

fn page_rows() -> usize {
    usize::try_from(ROWS_SHOWN_MAX).unwrap_or(usize::MAX)
}

/// An edit shown again in its form.
struct Draft<'a> {
    text: &'a str,
    base: &'a str,
    summary: &'a str,
    status: StatusCode,
    notice: String,
}

/// `POST /wiki/{title}`: saves an edit, or does the action the query names.
pub async fn act(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(raw): Path<String>,
    Query(query): Query<WikiQuery>,
    who: Result<Authenticated, ApiError>,
    PageForm(form): PageForm<WikiForm>,
) -> Result<Response, ApiError> {
    let who = match signed_in(&state, &headers, who)? {
        Ok(who) => who,
        Err(redirect) => return Ok(redirect),
    };
    let viewer = wiki::viewer(&state, Some(&who)).await?;
    let title = parse_title(&raw)?;
    let (namespace, name) = stored_key(&title);
    let page = state.db.wiki_page(namespace, &name).await?;
    let shown = Shown {
        state: &state,
        headers: &headers,
        query: &query,
        viewer: &viewer,
        who: Some(&who),
        title: &title,
        page: page.as_ref(),
    };
    match query.accion.as_deref() {
        None | Some("editar") => save(&shown, &form).await,
        Some("revertir") => rollback(&shown).await,
        Some("revisar") => review(&shown).await,
        Some("proteger") => protect(&shown, &form).await,
        Some("vigilar") => watch(&shown, &form).await,
        Some(other) => Err(ApiError::with_detail(
            ErrorCode::BadRequest,
            format!(
                "acción desconocida: {}",
                other.chars().take(40).collect::<String>()
            ),
        )),
    }
}

async fn save(shown: &Shown<'_>, form: &WikiForm) -> Result<Response, ApiError> {
    let base = (!form.base.is_empty()).then_some(form.base.as_str());
    // Browsers send the textarea's line ends as CRLF.
    let text = form.texto.replace("\r\n", "\n");
    let edit = EditRequest {
        title: shown.title,
        text: &text,
        summary: &form.resumen,
        base_revision_id: base,
        warnings_confirmed: form.confirmar == "1",
    };
    let draft = |status, notice| Draft {
        text: &text,
        base: &form.base,
        summary: &form.resumen,
        status,
        notice,
    };
    match wiki::save_edit(shown.state, shown.viewer, &edit).await {
        Ok(EditOutcome::Saved { .. }) => Ok(see_other(&shown.title.url_path(), None)),
        Ok(EditOutcome::Warned(warnings)) => {
            let mut notice = String::from(
                "<div class=\"aviso\" id=\"advertencia\" role=\"alert\"><p>Antes de guardar, \
                 tenga en cuenta:</p><ul>",
            );
            for warning in &warnings {
                notice.push_str(&format!("<li>{}</li>", esc(warning)));
            }
            notice.push_str("</ul><p>Si aun así quiere guardar, pulse Guardar otra vez.</p></div>");
            let mut response = shown.edit_form(Some(draft(StatusCode::OK, notice))).await?;
            // The second send confirms: the form carries the flag from now on.
            confirm_in_form(&mut response).await;
            Ok(response)
        }
        Ok(EditOutcome::Conflict {
            latest_revision_id,
            merge,
        }) => {
            let latest_id = latest_revision_id.unwrap_or_default();
            let (merged, notice) = match &merge {
                Merge::Clean(merged) => (
                    merged.clone(),
                    "<p class=\"aviso\" id=\"conflicto\" role=\"alert\">Alguien guardó la página \
                     mientras usted la editaba. Sus cambios y los suyos se combinaron sin \
                     conflictos: revise el texto y pulse Guardar para confirmar. Nada se ha \
                     guardado todavía.</p>"
                        .to_owned(),
                ),
                Merge::Conflict {
                    text_with_markers,
                    conflicts,
                } => {
                    let mut notice = String::from(
                        "<div class=\"error\" id=\"conflicto\" role=\"alert\"><p>Alguien guardó \
                         la página mientras usted la editaba y ambos cambiaron las mismas \
                         líneas. Nada se ha guardado. Resuelva cada conflicto (entre las marcas \
                         <code>&lt;&lt;&lt;&lt;&lt;&lt;&lt;</code> y \
                         <code>&gt;&gt;&gt;&gt;&gt;&gt;&gt;</code>) y guarde.</p><ol id=\"conflictos\">",
                    );
                    for conflict in conflicts {
                        notice.push_str(&format!(
                            "<li>Línea {}: su versión <pre>{}</pre> la versión actual <pre>{}</pre></li>",
                            conflict.line,
                            esc(&conflict.mine),
                            esc(&conflict.theirs)
                        ));
                    }
                    notice.push_str("</ol></div>");
                    (text_with_markers.clone(), notice)
                }
            };
            let draft = Draft {
                text: &merged,
                base: &latest_id,
                summary: &form.resumen,
                status: StatusCode::CONFLICT,
                notice,
            };
            shown.edit_form(Some(draft)).await
        }
        Err(error) => {
            let (status, detail, retry) = match &error {
                EditError::Refused(error) => (
                    error.code.entry().status,
                    error.detail.clone().unwrap_or_default(),
                    None,
                ),
                EditError::RetryLater {
                    detail,
                    retry_after_ms,
                } => (
                    StatusCode::TOO_MANY_REQUESTS,
                    detail.clone(),
                    Some(retry_after_ms.saturating_add(999) / 1000),
                ),
            };
            if matches!(&error, EditError::Refused(e) if e.code.entry().status.is_server_error()) {
                return Err(match error {
                    EditError::Refused(error) => error,
                    EditError::RetryLater { .. } => ApiError::new(ErrorCode::Internal),
                });
            }
            let notice = format!(
                "<p class=\"error\" id=\"error\" role=\"alert\">No se guardó: {}.</p>",
                esc(&detail)
            );
            let mut response = shown.edit_form(Some(draft(status, notice))).await?;
            if let Some(seconds) = retry
                && let Ok(value) = axum::http::HeaderValue::from_str(&seconds.max(1).to_string())
            {
                response
                    .headers_mut()
                    .insert(axum::http::header::RETRY_AFTER, value);
            }
            Ok(response)
        }
    }
}

/// Adds the hidden `confirmar` field to a warned edit's form.
async fn confirm_in_form(response: &mut Response) {
    let body = std::mem::take(response.body_mut());
    let Ok(bytes) = axum::body::to_bytes(body, usize::MAX).await else {
        return;
    };
    let text = String::from_utf8_lossy(&bytes).replacen(
        "<input type=\"hidden\" name=\"base\"",
        "<input type=\"hidden\" name=\"confirmar\" value=\"1\"><input type=\"hidden\" name=\"base\"",
        1,
    );
    *response.body_mut() = axum::body::Body::from(text);
    response
        .headers_mut()
        .remove(axum::http::header::CONTENT_LENGTH);
}

fn forbidden(detail: &str) -> ApiError {
    ApiError::with_detail(ErrorCode::Forbidden, detail)
}

fn existing<'a>(shown: &Shown<'a>) -> Result<&'a WikiPageRow, ApiError> {
    shown
        .page
        .ok_or_else(|| ApiError::with_detail(ErrorCode::NotFound, "la página no existe"))
}

async fn rollback(shown: &Shown<'_>) -> Result<Response, ApiError> {
    if !shown.viewer.may(Action::Rollback) {
        return Err(forbidden("solo los revisores y administradores revierten"));
    }
    let page = existing(shown)?;
    let state = shown.state;
    let mut rows = state
        .db
        .wiki_history(&page.id, ceiba_store::WIKI_LIST_MAX)
        .await?;
    rows.reverse();
    let author_key = |revision: &WikiRevisionRow| {
        revision
            .author_id
            .clone()
            .unwrap_or_else(|| revision.author_name.clone())
    };
    let history: Vec<RevisionMeta> = rows
        .iter()
        .map(|revision| RevisionMeta {
            id: revision.number,
            parent: None,
            author: author_key(revision),
            timestamp_ms: revision.timestamp_ms,
            summary: revision.summary.clone(),
            bytes: usize::try_from(revision.bytes).unwrap_or(usize::MAX),
            minor: revision.minor,
        })
        .collect();
    let Some(latest) = rows.last() else {
        return Err(ApiError::with_detail(
            ErrorCode::NotFound,
            "la página no tiene revisiones",
        ));
    };
    let undone = author_key(latest);
    let target = revision::rollback_target(&history, &undone)
        .and_then(|number| rows.iter().find(|revision| revision.number == number))
        .ok_or_else(|| {
            ApiError::with_detail(
                ErrorCode::Conflict,
                "no hay a qué revertir: todas las revisiones son del mismo autor",
            )
        })?;
    let target = state
        .db
        .wiki_revision(&target.id)
        .await?
        .ok_or_else(|| ApiError::new(ErrorCode::Internal))?;
    let summary = format!(
        "Revertidas las ediciones de {} a la última versión de {}",
        latest.author_name, target.author_name
    );
    let edit = EditRequest {
        title: shown.title,
        text: &target.text,
        summary: &summary,
        base_revision_id: Some(&latest.id),
        warnings_confirmed: true,
    };
    match wiki::save_edit(state, shown.viewer, &edit).await {
        Ok(EditOutcome::Saved { revision_id, .. }) => {
            wiki::audit(
                state,
                AuditEvent::new(EventKind::WikiRollback, state.clock.now_ms())
                    .actor(shown.viewer.user_id.clone().unwrap_or_default())
                    .subject(shown.title.text())
                    .detail("revision", revision_id)
                    .detail("undone_author", undone)
                    .detail("restored_revision", target.id.clone()),
            )
            .await;
            Ok(see_other(
                &format!("{}?accion=historial", shown.title.url_path()),
                None,
            ))
        }
        Ok(_) => Err(ApiError::with_detail(
            ErrorCode::Conflict,
            "la página cambió mientras se revertía; vuelva a intentarlo",
        )),
        Err(EditError::Refused(error)) => Err(error),
        Err(EditError::RetryLater { detail, .. }) => {
            Err(ApiError::with_detail(ErrorCode::RateLimited, detail))
        }
    }
}

async fn review(shown: &Shown<'_>) -> Result<Response, ApiError> {
    if !shown.viewer.may(Action::Review) {
        return Err(forbidden("solo los revisores aceptan revisiones"));
    }
    let page = existing(shown)?;
    let state = shown.state;
    let id = shown.query.revision.as_deref().unwrap_or_default();
    let revision = state
        .db
        .wiki_revision(id)
        .await?
        .filter(|revision| revision.page_id == page.id)
        .ok_or_else(|| {
            ApiError::with_detail(ErrorCode::NotFound, "esta página no tiene esa revisión")
        })?;
    let reviewer = shown.viewer.user_id.clone().unwrap_or_default();
    let now_ms = state.clock.now_ms();
    state
        .db
        .review_wiki_revision(&revision.id, &reviewer, now_ms)
        .await?;
    wiki::audit(
        state,
        AuditEvent::new(EventKind::WikiRevisionReviewed, now_ms)
            .actor(reviewer)
            .subject(shown.title.text())
            .detail("revision", revision.id),
    )
    .await;
    if let Some(page) = state.db.wiki_page(page.namespace, &page.title).await? {
        wiki::reindex_page(state, &page).await;
    }
    Ok(see_other(&shown.title.url_path(), None))
}

async fn protect(shown: &Shown<'_>, form: &WikiForm) -> Result<Response, ApiError> {
    if !shown.viewer.may(Action::Protect) {
        return Err(forbidden(
            "solo los administradores (con segundo factor) protegen páginas",
        ));
    }
    let page = existing(shown)?;
    let state = shown.state;
    let now_ms = state.clock.now_ms();
    let level = match form.nivel.as_str() {
        "ninguna" | "" => None,
        "semi" => Some("semi"),
        "total" => Some("full"),
        _ => {
            return Err(ApiError::with_detail(
                ErrorCode::ValidationFailed,
                "nivel: ninguna, semi o total",
            ));
        }
    };
    let expires_ms = match form.horas.trim() {
        "" => None,
        hours => {
            let hours: i64 = hours
                .parse()
                .ok()
                .filter(|hours| (1..=PROTECTION_HOURS_MAX).contains(hours))
                .ok_or_else(|| {
                    ApiError::with_detail(
                        ErrorCode::ValidationFailed,
                        format!("horas: de 1 a {PROTECTION_HOURS_MAX}, o vacío"),
                    )
                })?;
            Some(now_ms.saturating_add(hours.saturating_mul(3_600_000)))
        }
    };
    let pending = form.pendientes == "1";
    state
        .db
        .set_wiki_protection(&page.id, level.map(|level| (level, expires_ms)), pending)
        .await?;
    wiki::audit(
        state,
        AuditEvent::new(EventKind::WikiPageProtected, now_ms)
            .actor(shown.viewer.user_id.clone().unwrap_or_default())
            .subject(shown.title.text())
            .detail("level", level.unwrap_or("none"))
            .detail(
                "expires_ms",
                expires_ms.map_or_else(|| "never".to_owned(), |ms| ms.to_string()),
            )
            .detail("pending_changes", pending.to_string()),
    )
    .await;
    if let Some(page) = state.db.wiki_page(page.namespace, &page.title).await? {
        wiki::reindex_page(state, &page).await;
    }
    Ok(see_other(&shown.title.url_path(), None))
}

async fn watch(shown: &Shown<'_>, form: &WikiForm) -> Result<Response, ApiError> {
    let page = existing(shown)?;
    let user_id = shown.viewer.user_id.clone().unwrap_or_default();
    shown
        .state
        .db
        .set_wiki_watch(
            &user_id,
            &page.id,
            form.vigilar != "0",
            shown.state.clock.now_ms(),
        )
        .await?;
    Ok(see_other(&shown.title.url_path(), None))
}

// ---------------------------------------------------------------------------------------------
// Special pages
// ---------------------------------------------------------------------------------------------

async fn special_page(
    state: &AppState,
    headers: &HeaderMap,
    query: &WikiQuery,
    who: Option<&Authenticated>,
    special: &str,
) -> Result<Response, ApiError> {
    let lang = query.lang.as_deref();
    let special_tabs = "<nav class=\"pestanas\"><a href=\"/wiki\">Portada</a> \
        <a href=\"/wiki/Especial:CambiosRecientes\">Cambios recientes</a> \
        <a href=\"/wiki/Especial:Buscar\">Buscar</a> \
        <a href=\"/wiki/Especial:Seguimiento\">Seguimiento</a></nav>";
    if let Some(target) = special
        .strip_prefix("LoQueEnlazaAquí/")
        .or_else(|| special.strip_prefix("LoQueEnlazaAqui/"))
    {
        let target = parse_title(target)?;
        let (namespace, name) = stored_key(&target);
        let pages = state.db.wiki_links_here(namespace, &name).await?;
        let mut body = format!(
            "<p>Páginas que enlazan a {}:</p><ul id=\"enlaces\">",
            link(&target)
        );
        for (namespace, name) in pages.iter().take(page_rows()) {
            body.push_str(&format!("<li>{}</li>", stored_link(*namespace, name)));
        }
        body.push_str("</ul>");
        if pages.is_empty() {
            body.push_str("<p id=\"ninguna\">Ninguna página enlaza a esta.</p>");
        }
        let heading = format!("Lo que enlaza a «{}»", target.text());
        return Ok(respond(
            StatusCode::OK,
            headers,
            lang,
            &heading,
            special_tabs,
            &body,
        ));
    }
    match special {
        "CambiosRecientes" => {
            let rows = state.db.wiki_recent_changes(ROWS_SHOWN_MAX).await?;
            let body = change_list(&rows);
            Ok(respond(
                StatusCode::OK,
                headers,
                lang,
                "Cambios recientes",
                special_tabs,
                &body,
            ))
        }
        "Seguimiento" => {
            let Some(who) = who else {
                return Ok(see_other("/cuenta/entrar", None));
            };
            let rows = state
                .db
                .wiki_watchlist(&who.user.id, ROWS_SHOWN_MAX)
                .await?;
            let mut body = change_list(&rows);
            if rows.is_empty() {
                body.push_str("<p id=\"vacia\">Aún no vigila ninguna página.</p>");
            }
            Ok(respond(
                StatusCode::OK,
                headers,
                lang,
                "Seguimiento",
                special_tabs,
                &body,
            ))
        }
        "Buscar" => {
            let q = query.q.as_deref().unwrap_or_default().trim().to_owned();
            let mut body = format!(
                "<form class=\"busqueda\" method=\"get\" action=\"/wiki/Especial:Buscar\">\
                 <label for=\"q\">Buscar en la Enciclopedia</label>\
                 <input id=\"q\" name=\"q\" type=\"search\" maxlength=\"{}\" value=\"{}\">\
                 <button type=\"submit\" id=\"buscar\">Buscar</button></form>",
                ceiba_search::MAX_QUERY_CHARS,
                esc(&q)
            );
            if !q.is_empty() {
                let index = state.wiki_index.clone();
                let found =
                    tokio::task::spawn_blocking(move || index.search(&q, SEARCH_HITS_SHOWN))
                        .await
                        .map_err(|_| ApiError::new(ErrorCode::Internal))?;
                match found {
                    Ok(hits) if hits.is_empty() => {
                        body.push_str("<p id=\"sin-resultados\">No hay resultados.</p>");
                    }
                    Ok(hits) => {
                        body.push_str("<ol class=\"resultados\" id=\"resultados\">");
                        for hit in hits {
                            let title = ceiba_wiki::markup::normalize_title(&hit.title).ok();
                            let head = title.map_or_else(|| esc(&hit.title), |t| link(&t));
                            // The index escapes the snippet and adds only <b>.
                            body.push_str(&format!(
                                "<li>{head}<p class=\"fragmento\">{}</p></li>",
                                hit.snippet_html
                            ));
                        }
                        body.push_str("</ol>");
                    }
                    Err(error) => {
                        body.push_str(&format!(
                            "<p class=\"error\" id=\"error\" role=\"alert\">{}</p>",
                            esc(&error.to_string())
                        ));
                    }
                }
            }
            Ok(respond(
                StatusCode::OK,
                headers,
                lang,
                "Buscar",
                special_tabs,
                &body,
            ))
        }
        _ => Err(ApiError::with_detail(
            ErrorCode::NotFound,
            "no existe esa página especial",
        )),
    }
}

fn change_list(rows: &[(i64, String, WikiRevisionRow)]) -> String {
    let mut body = String::from("<ul class=\"cambios\" id=\"cambios\">");
    for (namespace, name, revision) in rows {
        let diff = title_of(*namespace, name).map_or_else(String::new, |title| {
            format!(
                "(<a href=\"{}?diff={}\">dif</a>) ",
                esc(&title.url_path()),
                esc(&revision.id)
            )
        });
        body.push_str(&format!(
            "<li>{diff}{} <time>{}</time> {} <span class=\"resumen\">{}</span>{}</li>",
            stored_link(*namespace, name),
            when(revision.timestamp_ms),
            esc(&revision.author_name),
            esc(&revision.summary),
            if revision.reviewed_by.is_none() {
                " · <span class=\"pendiente\">sin revisar</span>"
            } else {
                ""
            }
        ));
    }
    body.push_str("</ul>");
    body
}
