//! `/pagos/masivos`: bulk payouts in the browser, for a bank's operator or a merchant's owner
//! (see `payouts.rs`, whose services these forms call). The page uploads a file
//! (`multipart/form-data`: the session's `_csrf` first, then the source, the currency and the
//! file), lists the caller's batches with their progress — refreshing itself while one is being
//! paid — shows the row errors of a batch just checked, orders a ready batch paid, and links to
//! each batch's result file.
//!
//! A file upload is not a urlencoded form, so its `_csrf` is read here, from the first part of
//! the body, before the session is looked up and before the file is read.

use askama::Template;
use axum::extract::{FromRequest, FromRequestParts, Multipart, Query, Request, State};
use axum::http::HeaderMap;
use axum::response::Response;
use serde::Deserialize;

use super::{error_sentence, frame, is_refusal, local_time};
use crate::AppState;
use crate::account_pages::{PageForm, page, see_other, signed_in};
use crate::auth::{Authenticated, PresentedCsrf};
use crate::i18n::Lang;
use crate::pages::{Frame, page_lang};
use crate::payouts::{PayoutFile, start_batch, upload_file};
use crate::problem::{ApiError, ErrorCode};

pub const PAYOUTS_PATH: &str = "/pagos/masivos";
pub const PAYOUT_START_PATH: &str = "/pagos/masivos/pagar";
/// Row errors the page lists for a batch just checked; the result file has them all.
const ERRORS_SHOWN: u32 = 20;
/// Batches listed.
const BATCHES_SHOWN: usize = 20;

/// The page's words in one language.
struct Words {
    title: &'static str,
    intro: &'static str,
    source_label: &'static str,
    currency_label: &'static str,
    file_label: &'static str,
    file_hint: &'static str,
    upload_button: &'static str,
    no_source: &'static str,
    batches_heading: &'static str,
    none: &'static str,
    col_file: &'static str,
    col_status: &'static str,
    col_rows: &'static str,
    col_total: &'static str,
    col_progress: &'static str,
    pay_button: &'static str,
    result_link: &'static str,
    errors_heading: &'static str,
    line_label: &'static str,
    statuses: [(&'static str, &'static str); 4],
}

const SPANISH: Words = Words {
    title: "Pagos masivos",
    intro: "Nómina o asistencia social desde un archivo CSV: cada fila se comprueba antes de \
            pagar nada, y cada una se paga una sola vez.",
    source_label: "Se paga desde",
    currency_label: "Moneda",
    file_label: "Archivo CSV (destino,importe,referencia)",
    file_hint: "Destino: un teléfono o los 16 dígitos de una cuenta vinculada en Ceiba. Hasta \
                100.000 filas.",
    upload_button: "Comprobar el archivo",
    no_source: "Esta página es para operadores de banco (con segundo factor) y dueños de \
                comercios aprobados.",
    batches_heading: "Sus lotes",
    none: "Aún no subió ningún archivo.",
    col_file: "Archivo",
    col_status: "Estado",
    col_rows: "Filas",
    col_total: "Total",
    col_progress: "Pagadas / rechazadas",
    pay_button: "Pagar",
    result_link: "Resultado (CSV)",
    errors_heading: "Filas con errores (no se pagó ninguna)",
    line_label: "Línea",
    statuses: [
        ("invalid", "con errores"),
        ("ready", "listo para pagar"),
        ("running", "pagándose"),
        ("finished", "terminado"),
    ],
};

const ENGLISH: Words = Words {
    title: "Bulk payouts",
    intro: "Payroll or social assistance from a CSV file: every row is checked before anything \
            is paid, and each is paid once.",
    source_label: "Paid from",
    currency_label: "Currency",
    file_label: "CSV file (destino,importe,referencia)",
    file_hint: "Destination: a phone number or the 16 digits of an account linked in Ceiba. Up \
                to 100,000 rows.",
    upload_button: "Check the file",
    no_source: "This page is for bank operators (with a second factor) and owners of approved \
                merchants.",
    batches_heading: "Your batches",
    none: "You have not uploaded a file yet.",
    col_file: "File",
    col_status: "Status",
    col_rows: "Rows",
    col_total: "Total",
    col_progress: "Paid / refused",
    pay_button: "Pay",
    result_link: "Result (CSV)",
    errors_heading: "Rows with errors (none was paid)",
    line_label: "Line",
    statuses: [
        ("invalid", "with errors"),
        ("ready", "ready to pay"),
        ("running", "being paid"),
        ("finished", "finished"),
    ],
};

fn words(lang: Lang) -> &'static Words {
    match lang {
        Lang::Es => &SPANISH,
        Lang::En => &ENGLISH,
    }
}

#[derive(Debug)]
struct SourceChoice {
    value: String,
    label: String,
}

#[derive(Debug)]
struct BatchLine {
    id: String,
    file_name: String,
    when: String,
    status: &'static str,
    status_label: &'static str,
    rows: u64,
    total: String,
    paid: u64,
    refused: u64,
    done: u64,
    ready: bool,
}

#[derive(Debug)]
struct ErrorLine {
    line: u64,
    error: String,
}

#[derive(Template)]
#[template(path = "pagos_masivos.html")]
struct PayoutsPage<'a> {
    frame: Frame,
    w: &'static Words,
    csrf: &'a str,
    error: Option<String>,
    sources: Vec<SourceChoice>,
    batches: Vec<BatchLine>,
    errors: Vec<ErrorLine>,
    refresh: bool,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct PayoutsQuery {
    lang: Option<String>,
    /// The batch just uploaded, whose errors to show.
    lote: String,
}

async fn payouts_page(
    state: &AppState,
    who: &Authenticated,
    lang: Lang,
    chosen: Option<Lang>,
    shown_batch: &str,
    error: Option<String>,
) -> Result<Response, ApiError> {
    let w = words(lang);
    let mut sources = Vec::new();
    if who.has_role(ceiba_identity::Role::BankOperator) && who.second_factor {
        for bank in ["BPA", "BANDEC", "BANMET"] {
            sources.push(SourceChoice {
                value: bank.to_owned(),
                label: bank.to_owned(),
            });
        }
    }
    for merchant in state.db.merchants_of(&who.user.id).await? {
        if merchant.status == ceiba_store::MerchantStatus::Approved {
            sources.push(SourceChoice {
                value: merchant.id,
                label: merchant.business_name,
            });
        }
    }
    let mut batches = Vec::new();
    for batch in state
        .db
        .payout_batches_of(&who.user.id)
        .await?
        .into_iter()
        .take(BATCHES_SHOWN)
    {
        let progress = state.db.payout_progress(&batch.id).await?;
        let currency = ceiba_payments::Currency::parse(&batch.currency)
            .unwrap_or(ceiba_payments::Currency::Cup);
        let status = w
            .statuses
            .iter()
            .find(|(status, _)| *status == batch.status)
            .copied()
            .unwrap_or(("finished", ""));
        batches.push(BatchLine {
            when: local_time(state, batch.created_at_ms),
            file_name: batch.file_name.clone(),
            status: status.0,
            status_label: status.1,
            rows: batch.row_count,
            total: ceiba_payments::Money::from_minor(batch.total_minor, currency).to_string(),
            paid: progress.paid,
            refused: progress.refused,
            done: progress.paid + progress.refused,
            ready: batch.status == "ready",
            id: batch.id,
        });
    }
    let mut errors = Vec::new();
    if !shown_batch.is_empty()
        && let Ok(batch) = crate::payouts::own_batch(state, who, shown_batch).await
        && batch.status == "invalid"
    {
        let mut after = 0;
        while errors.len() < ERRORS_SHOWN as usize {
            let rows = state.db.payout_rows(&batch.id, after, 1_000).await?;
            let Some(last) = rows.last() else { break };
            after = last.line;
            errors.extend(
                rows.into_iter()
                    .filter(|row| row.status == "invalid")
                    .map(|row| ErrorLine {
                        line: row.line,
                        error: row.error.unwrap_or_default(),
                    }),
            );
        }
        errors.truncate(ERRORS_SHOWN as usize);
    }
    let refresh = batches.iter().any(|batch| batch.status == "running");
    let body = PayoutsPage {
        frame: frame(lang),
        w,
        csrf: who.csrf_token().expose(),
        error,
        sources,
        batches,
        errors,
        refresh,
    }
    .render();
    Ok(page(lang, body, None, chosen))
}

pub async fn payouts(
    State(state): State<AppState>,
    Query(query): Query<PayoutsQuery>,
    headers: HeaderMap,
    who: Result<Authenticated, ApiError>,
) -> Result<Response, ApiError> {
    let who = signed_in_or_return!(state, headers, who);
    let lang = page_lang(query.lang.as_deref(), &headers);
    let chosen = query.lang.as_deref().and_then(Lang::parse);
    payouts_page(&state, &who, lang, chosen, &query.lote, None).await
}

fn bad_upload(detail: &str) -> ApiError {
    ApiError::with_detail(ErrorCode::BadRequest, detail)
}

async fn next_field(
    multipart: &mut Multipart,
) -> Result<Option<axum::extract::multipart::Field<'_>>, ApiError> {
    multipart
        .next_field()
        .await
        .map_err(|error| bad_upload(&error.body_text()))
}

/// Checks an uploaded file and shows its batch (with its errors, if any).
pub async fn upload(State(state): State<AppState>, request: Request) -> Result<Response, ApiError> {
    let headers = request.headers().clone();
    let lang = page_lang(None, &headers);
    let (parts, body) = request.into_parts();
    // The session is looked up with the form's `_csrf`, which comes first, before the rest of
    // the body is read.
    let mut auth_parts = {
        let (mut fresh, ()) = axum::http::Request::new(()).into_parts();
        fresh.method = parts.method.clone();
        fresh.uri = parts.uri.clone();
        fresh.headers = parts.headers.clone();
        fresh
    };
    let mut multipart = Multipart::from_request(Request::from_parts(parts, body), &state)
        .await
        .map_err(|rejection| bad_upload(&rejection.body_text()))?;
    let first = next_field(&mut multipart).await?;
    if let Some(field) = first
        && field.name() == Some("_csrf")
    {
        let token = field
            .text()
            .await
            .map_err(|error| bad_upload(&error.body_text()))?;
        auth_parts.extensions.insert(PresentedCsrf(token));
    }
    let who = Authenticated::from_request_parts(&mut auth_parts, &state).await;
    let who = signed_in_or_return!(state, headers, who);
    let (mut source, mut currency, mut file_name, mut file) =
        (String::new(), String::new(), String::new(), Vec::new());
    while let Some(field) = next_field(&mut multipart).await? {
        let name = field.name().unwrap_or_default().to_owned();
        if name == "archivo" {
            file_name = field.file_name().unwrap_or_default().to_owned();
            file = field
                .bytes()
                .await
                .map_err(|error| {
                    if error.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
                        ApiError::new(ErrorCode::PayloadTooLarge)
                    } else {
                        bad_upload(&error.body_text())
                    }
                })?
                .to_vec();
            continue;
        }
        let text = field
            .text()
            .await
            .map_err(|error| bad_upload(&error.body_text()))?;
        match name.as_str() {
            "origen" => source = text,
            "moneda" => currency = text,
            _ => {}
        }
    }
    let uploaded = PayoutFile {
        source: &source,
        currency: Some(currency.as_str()).filter(|text| !text.is_empty()),
        file_name: Some(file_name.as_str()),
        body: &file,
    };
    match upload_file(&state, &who, &uploaded).await {
        Ok((batch, _)) => Ok(see_other(
            &format!("{PAYOUTS_PATH}?lote={}", batch.id),
            None,
        )),
        Err(error) if is_refusal(&error) || error.code == ErrorCode::Forbidden => {
            let sentence = error_sentence(&error, lang);
            payouts_page(&state, &who, lang, None, "", Some(sentence)).await
        }
        Err(error) => Err(error),
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct StartForm {
    lote: String,
}

/// Orders a checked batch paid.
pub async fn start(
    State(state): State<AppState>,
    headers: HeaderMap,
    who: Result<Authenticated, ApiError>,
    PageForm(form): PageForm<StartForm>,
) -> Result<Response, ApiError> {
    let who = signed_in_or_return!(state, headers, who);
    let lang = page_lang(None, &headers);
    match start_batch(&state, &who, &form.lote).await {
        Ok(_) => Ok(see_other(PAYOUTS_PATH, None)),
        Err(error) if is_refusal(&error) || error.code == ErrorCode::Forbidden => {
            let sentence = error_sentence(&error, lang);
            payouts_page(&state, &who, lang, None, "", Some(sentence)).await
        }
        Err(error) => Err(error),
    }
}
