//! What a person reads about their money besides the balance: limits and what is left of them,
//! the lower limits they set themselves, a statement for a date range as CSV, and the check of
//! a receipt's verification code.

use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use ceiba_payments::{Currency, Money, OperationKind, PersonalLimits, ReceiptCode};
use ceiba_store::{OperationRow, OperationStatus};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::AppState;
use crate::auth::Authenticated;
use crate::json::ApiJson;
use crate::payments::{AmountInput, Counterparties, sent_by};
use crate::problem::{ApiError, ErrorCode, Problem};

/// Most operations in one statement; a longer period is asked for in parts.
const STATEMENT_ROWS_MAX: usize = 5_000;
/// Rows read per page while building a statement.
const STATEMENT_PAGE: u32 = 500;

fn bad_request(detail: impl Into<String>) -> ApiError {
    ApiError::with_detail(ErrorCode::BadRequest, detail)
}

/// One limit, what was used of it and what is left, in minor units.
#[derive(Debug, Serialize, ToSchema)]
pub struct LimitView {
    pub limit_minor: u64,
    pub used_minor: u64,
    pub remaining_minor: u64,
    /// Who set it: `banco_central` or `personal`.
    pub source: &'static str,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CurrencyLimitsView {
    pub currency: &'static str,
    /// The binding daily limit (the lower of the Central Bank's and the person's own).
    pub daily: LimitView,
    pub monthly: LimitView,
}

fn limit_view(central: u64, personal: Option<u64>, used: u64) -> LimitView {
    let (limit_minor, source) = match personal {
        Some(personal) if personal < central => (personal, "personal"),
        _ => (central, "banco_central"),
    };
    LimitView {
        limit_minor,
        used_minor: used,
        remaining_minor: limit_minor.saturating_sub(used),
        source,
    }
}

/// The person-to-person limits of the signed-in person, per currency, with what is left today
/// and this month. Payments to businesses and bills are not capped.
#[utoipa::path(get, path = "/api/v1/payments/limits", tag = "pagos",
    security(("bearer" = [])),
    responses((status = 200, description = "Límites y lo que queda", body = [CurrencyLimitsView])))]
pub async fn limits(
    who: Authenticated,
    State(state): State<AppState>,
) -> Result<Json<Vec<CurrencyLimitsView>>, ApiError> {
    let windows = state.payments.windows(state.clock.now_ms());
    let mut views = Vec::new();
    for currency in Currency::ALL {
        let central = state.payments.limits.for_currency(currency);
        let personal = state
            .db
            .personal_limits(&who.user.id, currency.code())
            .await?
            .unwrap_or_default();
        let used = state
            .db
            .sent_usage(&who.user.id, currency.code(), windows)
            .await?;
        views.push(CurrencyLimitsView {
            currency: currency.code(),
            daily: limit_view(central.daily_minor, personal.daily_minor, used.today_minor),
            monthly: limit_view(
                central.monthly_minor,
                personal.monthly_minor,
                used.month_minor,
            ),
        });
    }
    Ok(Json(views))
}

/// Lower limits a person sets on their own transfers in one currency; `null` leaves the
/// Central Bank's. "0" stops transfers in that currency (after losing a phone, say).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PersonalLimitsBody {
    pub currency: String,
    #[schema(value_type = Option<String>)]
    pub daily: Option<AmountInput>,
    #[schema(value_type = Option<String>)]
    pub monthly: Option<AmountInput>,
}

fn limit_amount(input: Option<&AmountInput>, currency: Currency) -> Result<Option<u64>, ApiError> {
    let Some(input) = input else {
        return Ok(None);
    };
    let text = input.text();
    if text.trim() == "0" {
        return Ok(Some(0));
    }
    Money::parse(&text, currency)
        .map(|money| Some(money.minor))
        .map_err(|error| ApiError::with_detail(ErrorCode::PaymentInvalidAmount, error.to_string()))
}

/// Sets the signed-in person's own lower limits for one currency.
#[utoipa::path(put, path = "/api/v1/payments/limits", tag = "pagos",
    security(("bearer" = [])),
    request_body = PersonalLimitsBody,
    responses(
        (status = 200, description = "Límites tras el cambio", body = [CurrencyLimitsView]),
        (status = 422, description = "Moneda o importe no válidos, o más alto que el del Banco Central", body = Problem,
            content_type = "application/problem+json"),
    ))]
pub async fn set_limits(
    who: Authenticated,
    State(state): State<AppState>,
    ApiJson(body): ApiJson<PersonalLimitsBody>,
) -> Result<Json<Vec<CurrencyLimitsView>>, ApiError> {
    let currency = Currency::parse(&body.currency).map_err(|error| {
        ApiError::with_detail(ErrorCode::PaymentInvalidCurrency, error.to_string())
    })?;
    let daily = limit_amount(body.daily.as_ref(), currency)?;
    let monthly = limit_amount(body.monthly.as_ref(), currency)?;
    let personal = PersonalLimits::new(
        daily,
        monthly,
        &state.payments.limits.for_currency(currency),
    )
    .map_err(|error| ApiError::with_detail(ErrorCode::ValidationFailed, error.to_string()))?;
    state
        .db
        .set_personal_limits(
            &who.user.id,
            currency.code(),
            personal.daily_minor,
            personal.monthly_minor,
        )
        .await?;
    limits(who, State(state)).await
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct StatementQuery {
    /// First day, YYYY-MM-DD (Havana time).
    #[param(format = Date)]
    pub from: String,
    /// Last day included, YYYY-MM-DD.
    #[param(format = Date)]
    pub to: String,
}

fn day_start_ms(state: &AppState, text: &str) -> Result<i64, ApiError> {
    let date: jiff::civil::Date = text
        .parse()
        .map_err(|_| bad_request(format!("«{text}» no es una fecha AAAA-MM-DD")))?;
    date.to_zoned(state.payments.time_zone.clone())
        .map(|zoned| zoned.timestamp().as_millisecond())
        .map_err(|_| bad_request(format!("«{text}» no es una fecha válida")))
}

/// The instants a statement from day `from` to day `to` (both included, `AAAA-MM-DD`, in the
/// configured time zone) covers: from the start of the first day to the start of the day after
/// the last.
pub(crate) fn statement_period(
    state: &AppState,
    from: &str,
    to: &str,
) -> Result<(i64, i64), ApiError> {
    let from_ms = day_start_ms(state, from.trim())?;
    let last_day: jiff::civil::Date = to
        .trim()
        .parse()
        .map_err(|_| bad_request(format!("«{}» no es una fecha AAAA-MM-DD", to.trim())))?;
    let to_ms = day_start_ms(
        state,
        &last_day
            .tomorrow()
            .map_err(|_| bad_request("la fecha final no es válida"))?
            .to_string(),
    )?;
    if to_ms <= from_ms {
        return Err(bad_request("la fecha final es anterior a la inicial"));
    }
    Ok((from_ms, to_ms))
}

/// A person's operations created in `[from_ms, to_ms)`, oldest first; a period with more than
/// `rows_max` (at most [`STATEMENT_ROWS_MAX`]) is refused, to be asked for in parts.
pub(crate) async fn statement_rows(
    state: &AppState,
    user_id: &str,
    from_ms: i64,
    to_ms: i64,
    rows_max: usize,
) -> Result<Vec<OperationRow>, ApiError> {
    let rows_max = rows_max.min(STATEMENT_ROWS_MAX);
    let page_size = u32::try_from(rows_max + 1)
        .unwrap_or(STATEMENT_PAGE)
        .min(STATEMENT_PAGE);
    let mut rows = Vec::new();
    let mut before: Option<(i64, String)> = None;
    loop {
        let page = state
            .db
            .payment_operations_of(
                user_id,
                from_ms,
                to_ms,
                before.as_ref().map(|(at, id)| (*at, id.as_str())),
                page_size,
            )
            .await?;
        let full = page.len() == usize::try_from(page_size).unwrap_or(usize::MAX);
        before = page.last().map(|row| (row.created_at_ms, row.id.clone()));
        rows.extend(page);
        if rows.len() > rows_max {
            return Err(bad_request(format!(
                "el periodo tiene más de {rows_max} operaciones; pídalo por partes"
            )));
        }
        if !full {
            break;
        }
    }
    rows.reverse();
    Ok(rows)
}

/// A field of a CSV row: quoted when it holds a separator, quote or line break, and kept from
/// being read as a formula by spreadsheets.
fn csv_field(text: &str) -> String {
    let text = if text.starts_with(['=', '+', '-', '@']) {
        format!("'{text}")
    } else {
        text.to_owned()
    };
    if text.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text
    }
}

/// The signed-in person's operations between two dates as CSV (UTF-8, comma-separated, one
/// header line), oldest first: for their records or a spreadsheet.
#[utoipa::path(get, path = "/api/v1/payments/statement.csv", tag = "pagos",
    security(("bearer" = [])),
    params(StatementQuery),
    responses(
        (status = 200, description = "Extracto en CSV", content_type = "text/csv"),
        (status = 400, description = "Fechas no válidas o periodo demasiado largo", body = Problem,
            content_type = "application/problem+json"),
    ))]
pub async fn statement_csv(
    who: Authenticated,
    State(state): State<AppState>,
    query: Result<Query<StatementQuery>, QueryRejection>,
) -> Result<Response, ApiError> {
    let Query(query) = query.map_err(|rejection| bad_request(rejection.body_text()))?;
    let (from_ms, to_ms) = statement_period(&state, &query.from, &query.to)?;
    let rows = statement_rows(&state, &who.user.id, from_ms, to_ms, STATEMENT_ROWS_MAX).await?;
    let mut csv = String::from(
        "fecha,operacion,tipo,sentido,contraparte,importe,comision,moneda,estado,recibo,nota\n",
    );
    let mut counterparties = Counterparties::default();
    for row in &rows {
        let when = jiff::Timestamp::from_millisecond(row.created_at_ms)
            .map(|at| {
                at.to_zoned(state.payments.time_zone.clone())
                    .strftime("%Y-%m-%d %H:%M:%S")
                    .to_string()
            })
            .unwrap_or_default();
        let sent = sent_by(row, &who.user.id);
        let counterparty = counterparties.of(&state, row, &who.user.id).await?;
        let currency = Currency::parse(&row.currency).unwrap_or(Currency::Cup);
        let kind = OperationKind::parse(&row.kind)
            .map_or_else(|| row.kind.clone(), |kind| kind.label_es().to_owned());
        let fields = [
            when,
            row.id.clone(),
            kind,
            if sent { "enviada" } else { "recibida" }.to_owned(),
            counterparty,
            Money::from_minor(row.amount_minor, currency).ascii(),
            if sent { row.fee_minor } else { 0 }.to_string(),
            row.currency.clone(),
            match row.status {
                OperationStatus::Completed => "completada",
                OperationStatus::Pending => "en curso",
                OperationStatus::Refused => "rechazada",
            }
            .to_owned(),
            row.receipt_code.clone().unwrap_or_default(),
            row.note.clone(),
        ];
        let line: Vec<String> = fields.iter().map(|field| csv_field(field)).collect();
        csv.push_str(&line.join(","));
        csv.push('\n');
    }
    let filename = format!("extracto-{}-{}.csv", query.from, query.to);
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{filename}\""),
            ),
        ],
        csv,
    )
        .into_response())
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ReceiptQuery {
    /// The operation's id, as printed on the receipt.
    pub operation: String,
    /// The verification code printed on the receipt.
    pub code: String,
}

/// What a genuine receipt says, for whoever holds it.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReceiptView {
    pub genuine: bool,
    pub operation: String,
    pub kind: Option<String>,
    pub amount: Option<String>,
    pub created_at_ms: Option<i64>,
}

/// Checks a receipt: whether the verification code matches the operation. Public, so a
/// merchant or a relative can check a receipt shown to them; it reveals the amount and kind
/// only when the code is right.
#[utoipa::path(get, path = "/api/v1/payments/receipts", tag = "pagos",
    params(ReceiptQuery),
    responses((status = 200, description = "Si el recibo es auténtico", body = ReceiptView)))]
pub async fn verify_receipt(
    State(state): State<AppState>,
    query: Result<Query<ReceiptQuery>, QueryRejection>,
) -> Result<Json<ReceiptView>, ApiError> {
    let Query(query) = query.map_err(|rejection| bad_request(rejection.body_text()))?;
    let refused = ReceiptView {
        genuine: false,
        operation: query.operation.chars().take(40).collect(),
        kind: None,
        amount: None,
        created_at_ms: None,
    };
    let Some(row) = state
        .db
        .payment_operation(&query.operation)
        .await?
        .filter(|row| row.status == OperationStatus::Completed)
    else {
        return Ok(Json(refused));
    };
    let (Ok(id), Ok(currency), Some(kind)) = (
        row.id.parse::<u128>(),
        Currency::parse(&row.currency),
        OperationKind::parse(&row.kind),
    ) else {
        return Ok(Json(refused));
    };
    let amount = Money::from_minor(row.amount_minor, currency);
    let genuine = ReceiptCode::verify(
        &state.payments.receipt_key,
        id,
        kind,
        amount,
        row.created_at_ms,
        &query.code,
    );
    if !genuine {
        return Ok(Json(refused));
    }
    Ok(Json(ReceiptView {
        genuine,
        operation: row.id,
        kind: Some(kind.label_es().to_owned()),
        amount: Some(amount.to_string()),
        created_at_ms: Some(row.created_at_ms),
    }))
}
