//! `/salud/casos/nuevo`: the line-listing form, one case at a time, for health workers on a
//! page that works without JavaScript. It goes through the same checks and writing as a line
//! list sent in bulk (`salud_imports.rs`), as a list of one row: the same form sent twice
//! writes once.

use askama::Template;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::Response;
use serde::{Deserialize, Serialize};

use crate::AppState;
use crate::account_pages::{PageForm, page, signed_in};
use crate::auth::Authenticated;
use crate::pages::{Frame, page_lang};
use crate::problem::ApiError;
use crate::salud_cases::case_scope;

pub const FORM_PATH: &str = "/salud/casos/nuevo";

/// The form's fields: the line list's columns.
#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(default)]
pub struct CaseForm {
    id: String,
    estado: String,
    fecha_confirmacion: String,
    fecha_inicio_sintomas: String,
    fecha_muestra: String,
    fecha_ingreso: String,
    edad: String,
    sexo: String,
    municipio: String,
    municipio_residencia: String,
    fuente: String,
    pais: String,
    centro_aislamiento: String,
    gravedad: String,
    desenlace: String,
    fecha_desenlace: String,
    comorbilidades: String,
    persona: String,
}

#[derive(Template)]
#[template(path = "salud_caso_nuevo.html")]
struct FormPage<'a> {
    frame: Frame,
    csrf: &'a str,
    form: &'a CaseForm,
    error: Option<String>,
    saved: Option<String>,
}

fn render(
    headers: &HeaderMap,
    who: &Authenticated,
    form: &CaseForm,
    error: Option<String>,
    saved: Option<String>,
) -> Response {
    let lang = page_lang(None, headers);
    let body = FormPage {
        frame: Frame::for_request(lang, headers),
        csrf: who.csrf_token().expose(),
        form,
        error,
        saved,
    }
    .render();
    page(lang, body, None, None)
}

pub async fn form(
    State(state): State<AppState>,
    headers: HeaderMap,
    who: Result<Authenticated, ApiError>,
) -> Result<Response, ApiError> {
    let who = match signed_in(&state, &headers, who)? {
        Ok(who) => who,
        Err(redirect) => return Ok(redirect),
    };
    case_scope(&state, &who).await?;
    let form = CaseForm {
        estado: "confirmado".to_owned(),
        ..CaseForm::default()
    };
    Ok(render(&headers, &who, &form, None, None))
}

pub async fn save(
    State(state): State<AppState>,
    headers: HeaderMap,
    who: Result<Authenticated, ApiError>,
    PageForm(form): PageForm<CaseForm>,
) -> Result<Response, ApiError> {
    let who = match signed_in(&state, &headers, who)? {
        Ok(who) => who,
        Err(redirect) => return Ok(redirect),
    };
    let scope = case_scope(&state, &who).await?;
    // One row of a JSON line list: the empty fields left out.
    let row: serde_json::Map<String, serde_json::Value> = serde_json::to_value(&form)
        .ok()
        .and_then(|value| value.as_object().cloned())
        .unwrap_or_default()
        .into_iter()
        .filter(|(_, value)| value.as_str().is_some_and(|text| !text.trim().is_empty()))
        .collect();
    let text = serde_json::Value::Array(vec![serde_json::Value::Object(row)]).to_string();
    let report = match crate::salud_imports::import_text(&state, &who, &scope, true, &text).await {
        Ok(report) => report,
        Err(error) if error.code == crate::problem::ErrorCode::ValidationFailed => {
            let reason = error.detail.clone().unwrap_or_default();
            return Ok(render(&headers, &who, &form, Some(reason), None));
        }
        Err(error) => return Err(error),
    };
    if let Some(refused) = report.rejected.first() {
        return Ok(render(
            &headers,
            &who,
            &form,
            Some(refused.reason.clone()),
            None,
        ));
    }
    let what = if report.created > 0 {
        "registrado"
    } else {
        "actualizado"
    };
    let saved = format!("Caso {} {what}.", form.id.trim());
    let blank = CaseForm {
        estado: form.estado.clone(),
        municipio: form.municipio.clone(),
        ..CaseForm::default()
    };
    Ok(render(&headers, &who, &blank, None, Some(saved)))
}
