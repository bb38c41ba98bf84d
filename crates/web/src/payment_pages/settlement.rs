//! `/liquidacion`: a settlement window's net positions for bank operators, as a page (the same
//! report as `GET /api/v1/settlement`, with links to the windows before and after and to its
//! CSV).

use askama::Template;
use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::response::Response;
use ceiba_payments::Currency;
use serde::Deserialize;

use super::{frame, local_time};
use crate::AppState;
use crate::account_pages::{page, signed_in};
use crate::auth::{Authenticated, Authorized, BankOperator};
use crate::i18n::Lang;
use crate::pages::{Frame, page_lang};
use crate::problem::{ApiError, ErrorCode};
use crate::settlement::report;

pub const SETTLEMENT_PATH: &str = "/liquidacion";

#[derive(Debug)]
struct Row {
    currency: String,
    name: String,
    credits: String,
    debits: String,
    net: String,
}

#[derive(Debug)]
struct Total {
    currency: String,
    net: String,
}

#[derive(Template)]
#[template(path = "liquidacion.html")]
struct SettlementPage {
    frame: Frame,
    title: &'static str,
    window: String,
    error: Option<String>,
    rows: Vec<Row>,
    totals: Vec<Total>,
    at_ms: i64,
    previous_ms: i64,
    next_ms: Option<i64>,
    col_currency: &'static str,
    col_participant: &'static str,
    col_in: &'static str,
    col_out: &'static str,
    col_net: &'static str,
    total_label: &'static str,
    nothing: &'static str,
    previous_label: &'static str,
    next_label: &'static str,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct SettlementQuery {
    lang: Option<String>,
    /// An instant of the window wanted, in milliseconds; the last closed one when absent.
    en: Option<i64>,
}

/// `1.234,50 CUP`, with a sign when negative.
fn signed(minor: i64, currency: &str) -> String {
    let currency = Currency::parse(currency).unwrap_or(Currency::Cup);
    let text = ceiba_payments::Money::from_minor(minor.unsigned_abs(), currency).to_string();
    if minor < 0 {
        format!("−{text}")
    } else {
        text
    }
}

pub async fn settlement(
    State(state): State<AppState>,
    Query(query): Query<SettlementQuery>,
    headers: HeaderMap,
    who: Result<Authenticated, ApiError>,
) -> Result<Response, ApiError> {
    let who = signed_in_or_return!(state, headers, who);
    let lang = page_lang(query.lang.as_deref(), &headers);
    let chosen = query.lang.as_deref().and_then(Lang::parse);
    Authorized::<BankOperator>::of(who)?;
    let length = i64::from(state.payments.settlement_window_s) * 1_000;
    let now_ms = state.clock.now_ms();
    let at_ms = query.en.unwrap_or(now_ms - length);
    let es = lang == Lang::Es;
    let (rows, totals, error, start_ms, end_ms) = match report(&state, Some(at_ms)) {
        Ok(view) => (
            view.positions
                .iter()
                .map(|position| Row {
                    currency: position.currency.clone(),
                    name: position.name.clone(),
                    credits: signed(
                        i64::try_from(position.credits_minor).unwrap_or(i64::MAX),
                        &position.currency,
                    ),
                    debits: signed(
                        i64::try_from(position.debits_minor).unwrap_or(i64::MAX),
                        &position.currency,
                    ),
                    net: signed(position.net_minor, &position.currency),
                })
                .collect(),
            view.totals
                .iter()
                .map(|total| Total {
                    currency: total.currency.clone(),
                    net: signed(total.net_minor, &total.currency),
                })
                .collect(),
            None,
            view.window_start_ms,
            view.window_end_ms,
        ),
        Err(error) if error.code == ErrorCode::SettlementWindowOpen => {
            let (start, end) = crate::settlement::window_of(&state, at_ms);
            (
                Vec::new(),
                Vec::new(),
                Some(if es {
                    "Esa ventana aún no cerró.".to_owned()
                } else {
                    "That window has not closed yet.".to_owned()
                }),
                start,
                end,
            )
        }
        Err(error) => return Err(error),
    };
    let body = SettlementPage {
        frame: Frame {
            signed_in: true,
            ..frame(lang)
        },
        title: if es {
            "Liquidación entre bancos"
        } else {
            "Settlement between banks"
        },
        window: format!(
            "{} — {}",
            local_time(&state, start_ms),
            local_time(&state, end_ms)
        ),
        error,
        rows,
        totals,
        at_ms: start_ms,
        previous_ms: start_ms - 1,
        next_ms: (end_ms + length <= now_ms).then_some(end_ms),
        col_currency: if es { "Moneda" } else { "Currency" },
        col_participant: if es { "Participante" } else { "Participant" },
        col_in: if es { "Entradas" } else { "In" },
        col_out: if es { "Salidas" } else { "Out" },
        col_net: if es { "Neto" } else { "Net" },
        total_label: "Total",
        nothing: if es {
            "Nada se movió en esta ventana."
        } else {
            "Nothing moved in this window."
        },
        previous_label: if es {
            "Ventana anterior"
        } else {
            "Previous window"
        },
        next_label: if es {
            "Ventana siguiente"
        } else {
            "Next window"
        },
    }
    .render();
    Ok(page(lang, body, None, chosen))
}
