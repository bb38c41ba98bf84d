//! Settlement between the banks and Ceiba, per window (`PaymentSettings::settlement_window_s`,
//! an hour unless configured; windows start at Havana's midnight and tile the day).
//!
//! A window's report is each bank's net position per currency, and Ceiba's (the wallets,
//! merchants, billers and the operator's accounts), from the transfers the ledger posted in it
//! (`ceiba_payments::settlement`): double entry makes every currency's positions sum to zero,
//! and the report shows that total. The ledger's history never changes, so a closed window's
//! report is computed when asked and is the same every time; a window still open is refused.

use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::response::Response;
use ceiba_payments::settlement::{Position, net_positions};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::AppState;
use crate::auth::{Authorized, BankOperator};
use crate::payments::engine;
use crate::problem::{ApiError, ErrorCode, Problem};

/// Transfers read from the ledger at a time.
const TRANSFERS_PER_READ: usize = 8_192;
const NANOS_PER_MILLI: i64 = 1_000_000;

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SettlementQuery {
    /// Any instant of the window wanted, in milliseconds since 1970; the last closed window when
    /// absent.
    pub at_ms: Option<i64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PositionView {
    pub currency: String,
    /// BPA, BANDEC, BANMET, or CEIBA.
    pub participant: String,
    pub name: String,
    /// Into its accounts, in minor units.
    pub credits_minor: u64,
    /// Out of its accounts, in minor units.
    pub debits_minor: u64,
    /// Credits less debits: positive, it receives; negative, it pays.
    pub net_minor: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TotalView {
    pub currency: String,
    /// The sum of the positions: always zero.
    pub net_minor: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SettlementView {
    pub window_start_ms: i64,
    pub window_end_ms: i64,
    pub positions: Vec<PositionView>,
    pub totals: Vec<TotalView>,
}

/// The window holding `at_ms`: from Havana's midnight in steps of the configured length, the
/// last one of a day ending at the next midnight (a day of 23 or 25 hours keeps its windows).
pub(crate) fn window_of(state: &AppState, at_ms: i64) -> (i64, i64) {
    let settings = &state.payments;
    let day_start = settings.windows(at_ms).day_start_ms;
    let next_day = settings
        .windows(day_start.saturating_add(26 * 3_600_000))
        .day_start_ms;
    let length = i64::from(settings.settlement_window_s) * 1_000;
    let start = day_start + (at_ms - day_start).div_euclid(length) * length;
    (start, start.saturating_add(length).min(next_day))
}

/// The report of the window holding `at_ms` (the last closed one when `None`), refused while
/// the window is open.
pub fn report(state: &AppState, at_ms: Option<i64>) -> Result<SettlementView, ApiError> {
    let engine = engine(state)?;
    let now_ms = state.clock.now_ms();
    let length = i64::from(state.payments.settlement_window_s) * 1_000;
    let (start_ms, end_ms) = window_of(state, at_ms.unwrap_or(now_ms - length));
    if end_ms > now_ms {
        return Err(ApiError::with_detail(
            ErrorCode::SettlementWindowOpen,
            format!(
                "la ventana termina dentro de {} s; su liquidación se calcula al cerrar",
                (end_ms - now_ms + 999) / 1_000
            ),
        ));
    }
    let to_ns = |ms: i64| u64::try_from(ms.saturating_mul(NANOS_PER_MILLI)).unwrap_or(0);
    let (from_ns, until_ns) = (to_ns(start_ms), to_ns(end_ms));
    let mut transfers = Vec::new();
    let mut cursor = from_ns.saturating_sub(1);
    loop {
        let page = engine
            .read()
            .state
            .changes_after(cursor, TRANSFERS_PER_READ);
        let Some(last) = page.last() else { break };
        cursor = last.timestamp;
        let done = page.len() < TRANSFERS_PER_READ || cursor >= until_ns;
        transfers.extend(page.into_iter().filter(|t| t.timestamp < until_ns));
        if done {
            break;
        }
    }
    let positions = net_positions(&transfers);
    Ok(view(start_ms, end_ms, &positions))
}

fn view(start_ms: i64, end_ms: i64, positions: &[Position]) -> SettlementView {
    let clamp_u = |value: u128| u64::try_from(value).unwrap_or(u64::MAX);
    let clamp_i = |value: i128| i64::try_from(value).unwrap_or(i64::MAX);
    let mut totals: Vec<TotalView> = Vec::new();
    for position in positions {
        match totals
            .iter_mut()
            .find(|total| total.currency == position.currency.code())
        {
            Some(total) => total.net_minor += clamp_i(position.net_minor),
            None => totals.push(TotalView {
                currency: position.currency.code().to_owned(),
                net_minor: clamp_i(position.net_minor),
            }),
        }
    }
    SettlementView {
        window_start_ms: start_ms,
        window_end_ms: end_ms,
        positions: positions
            .iter()
            .map(|position| PositionView {
                currency: position.currency.code().to_owned(),
                participant: position.participant.code().to_owned(),
                name: position.participant.name().to_owned(),
                credits_minor: clamp_u(position.credits_minor),
                debits_minor: clamp_u(position.debits_minor),
                net_minor: clamp_i(position.net_minor),
            })
            .collect(),
        totals,
    }
}

fn query_of(
    query: Result<Query<SettlementQuery>, QueryRejection>,
) -> Result<SettlementQuery, ApiError> {
    query
        .map(|Query(query)| query)
        .map_err(|rejection| ApiError::with_detail(ErrorCode::BadRequest, rejection.body_text()))
}

/// Net positions of the banks and Ceiba over one closed settlement window. Bank operators.
#[utoipa::path(get, path = "/api/v1/settlement", tag = "liquidación",
    security(("bearer" = [])),
    params(SettlementQuery),
    responses(
        (status = 200, description = "Posiciones netas; cada moneda suma cero", body = SettlementView),
        (status = 403, description = "Solo operadores de banco con segundo factor", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "La ventana aún no cerró", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn settlement(
    _operator: Authorized<BankOperator>,
    State(state): State<AppState>,
    query: Result<Query<SettlementQuery>, QueryRejection>,
) -> Result<Json<SettlementView>, ApiError> {
    Ok(Json(report(&state, query_of(query)?.at_ms)?))
}

/// The same report as CSV (`moneda,participante,nombre,entradas,salidas,neto`, then a `total`
/// line per currency). Bank operators.
#[utoipa::path(get, path = "/api/v1/settlement.csv", tag = "liquidación",
    security(("bearer" = [])),
    params(SettlementQuery),
    responses(
        (status = 403, description = "Sin el rol «Operador bancario» o sin segundo factor en la sesión", body = Problem, content_type = "application/problem+json"),
        (status = 200, description = "Liquidación en CSV", content_type = "text/csv"),
        (status = 409, description = "La ventana aún no cerró", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn settlement_csv(
    _operator: Authorized<BankOperator>,
    State(state): State<AppState>,
    query: Result<Query<SettlementQuery>, QueryRejection>,
) -> Result<Response, ApiError> {
    let report = report(&state, query_of(query)?.at_ms)?;
    let write_error = |error: csv::Error| {
        tracing::error!(%error, "could not write a settlement file");
        ApiError::new(ErrorCode::Internal)
    };
    let signed = |minor: i64| {
        let text = crate::bills::plain_amount(minor.unsigned_abs());
        if minor < 0 { format!("-{text}") } else { text }
    };
    let mut writer = csv::Writer::from_writer(Vec::new());
    writer
        .write_record([
            "moneda",
            "participante",
            "nombre",
            "entradas",
            "salidas",
            "neto",
        ])
        .map_err(write_error)?;
    for position in &report.positions {
        writer
            .write_record([
                position.currency.clone(),
                position.participant.clone(),
                position.name.clone(),
                crate::bills::plain_amount(position.credits_minor),
                crate::bills::plain_amount(position.debits_minor),
                signed(position.net_minor),
            ])
            .map_err(write_error)?;
    }
    for total in &report.totals {
        writer
            .write_record([
                total.currency.clone(),
                "total".to_owned(),
                String::new(),
                String::new(),
                String::new(),
                signed(total.net_minor),
            ])
            .map_err(write_error)?;
    }
    let body = writer
        .into_inner()
        .map_err(|error| write_error(error.into_error().into()))?;
    let start = crate::bills::local_timestamp(&state.payments.time_zone, report.window_start_ms)
        .replace([' ', ':'], "-");
    Ok(crate::bills::csv_file(
        &format!("liquidacion-{start}.csv"),
        body,
    ))
}
