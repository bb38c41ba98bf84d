//! `/pagos/solicitudes`: what others ask the signed-in person to pay, each with a form that
//! pays it (its own idempotency key) and one that declines it.

use askama::Template;
use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::response::Response;
use serde::Deserialize;

use super::{
    PagosQuery, error_sentence, form_key, frame, fresh_key, is_refusal, receipt_or_refusal,
};
use crate::AppState;
use crate::account_pages::{PageForm, page, see_other, signed_in};
use crate::auth::Authenticated;
use crate::i18n::{Lang, PagosTexts};
use crate::pages::{Frame, page_lang};
use crate::payment_requests::{accept_request, decline_request, view};
use crate::problem::ApiError;

pub const REQUESTS_PATH: &str = "/pagos/solicitudes";
pub const PAY_PATH: &str = "/pagos/solicitudes/pagar";
pub const DECLINE_PATH: &str = "/pagos/solicitudes/rechazar";

#[derive(Debug)]
struct Line {
    id: String,
    from: String,
    amount: String,
    note: String,
    key: String,
}

#[derive(Template)]
#[template(path = "pagos_solicitudes.html")]
struct RequestsPage<'a> {
    frame: Frame,
    p: &'static PagosTexts,
    csrf: &'a str,
    error: Option<String>,
    requests: Vec<Line>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct RequestForm {
    solicitud: String,
    clave: String,
}

async fn requests_page(
    state: &AppState,
    who: &Authenticated,
    lang: Lang,
    chosen: Option<Lang>,
    error: Option<String>,
) -> Result<Response, ApiError> {
    let mut requests = Vec::new();
    for row in state.db.payment_requests_of(&who.user.id).await? {
        if row.payer_user_id != who.user.id {
            continue;
        }
        let shown = view(state, &row).await?;
        if shown.status != "pending" {
            continue;
        }
        requests.push(Line {
            id: shown.id,
            from: shown.from,
            amount: shown.amount,
            note: shown.note,
            key: fresh_key(),
        });
    }
    let body = RequestsPage {
        frame: frame(lang),
        p: lang.pagos(),
        csrf: who.csrf_token().expose(),
        error,
        requests,
    }
    .render();
    Ok(page(lang, body, None, chosen))
}

pub async fn requests(
    State(state): State<AppState>,
    Query(query): Query<PagosQuery>,
    headers: HeaderMap,
    who: Result<Authenticated, ApiError>,
) -> Result<Response, ApiError> {
    let who = signed_in_or_return!(state, headers, who);
    let (lang, chosen) = query.lang(&headers);
    requests_page(&state, &who, lang, chosen, None).await
}

/// Pays a request, once per key, and shows the receipt; a refusal stays on the list.
pub async fn pay(
    State(state): State<AppState>,
    headers: HeaderMap,
    who: Result<Authenticated, ApiError>,
    PageForm(form): PageForm<RequestForm>,
) -> Result<Response, ApiError> {
    let who = signed_in_or_return!(state, headers, who);
    let lang = page_lang(None, &headers);
    let key = form_key(&form.clave)?;
    let outcome = accept_request(&state, &who.user, &form.solicitud, Some(&key)).await;
    match receipt_or_refusal(outcome, lang)? {
        Ok(receipt) => Ok(receipt),
        Err(refusal) => requests_page(&state, &who, lang, None, Some(refusal)).await,
    }
}

pub async fn decline(
    State(state): State<AppState>,
    headers: HeaderMap,
    who: Result<Authenticated, ApiError>,
    PageForm(form): PageForm<RequestForm>,
) -> Result<Response, ApiError> {
    let who = signed_in_or_return!(state, headers, who);
    let lang = page_lang(None, &headers);
    match decline_request(&state, &who.user, &form.solicitud).await {
        Ok(_) => Ok(see_other(REQUESTS_PATH, None)),
        Err(error) if is_refusal(&error) => {
            let sentence = error_sentence(&error, lang);
            requests_page(&state, &who, lang, None, Some(sentence)).await
        }
        Err(error) => Err(error),
    }
}
