//! Bulk payouts: payroll and social assistance from a file.
//!
//! A bank operator (with a second factor) pays from the bank's settlement account; the owner of
//! an approved merchant pays from the merchant's account. The file (`text/csv`, up to 100,000
//! rows, header `destino,importe,referencia`) names each recipient by phone number or by the
//! 16-digit number of a bank account they linked in Ceiba (the money reaches their wallet).
//! Every row is checked before anything is paid — the number, an active person, the amount, the
//! reference, a row repeated — and the batch is kept with each row's error; a batch with any
//! bad row is never paid. A checked batch is paid when ordered (`POST …/start`): the
//! ledger-writing process pays its waiting rows in file order, a few at a time, each as a
//! payment operation of its own keyed `pago-masivo:<batch>:<line>`, so a row is paid at most
//! once whatever crashes and restarts. Progress is read any time; the result file lists every
//! row with its outcome and operation.

use std::collections::HashMap;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{FromRequest, Path, Query, Request, State};
use axum::http::{StatusCode, header};
use axum::response::Response;
use ceiba_payments::files::{self, PayoutDestination};
use ceiba_payments::{Currency, Money, OperationKind, accounts};
use ceiba_store::{
    MerchantStatus, NewOperation, NewPayoutRow, OperationStatus, PAYOUT_ROWS_MAX, PayoutBatchRow,
    PayoutOutcome, PayoutProgress, PayoutRowRow,
};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::AppState;
use crate::auth::Authenticated;
use crate::bank_accounts::number_hash;
use crate::payments::{
    engine, ensure_operator_accounts, ensure_wallet, parse_currency, request_hash, run_operation,
};
use crate::problem::{ApiError, ErrorCode, Problem};

/// Where files are uploaded (its body may be larger than any other request's).
pub const UPLOAD_PATH: &str = "/api/v1/payouts";
/// The largest file: 100,000 rows of a long reference each.
pub const FILE_BYTES_MAX: usize = 16 * 1024 * 1024;
/// Longest name a file may be given.
const FILE_NAME_CHARS_MAX: usize = 100;
/// Row errors an answer lists; the result file has them all.
const ERRORS_SHOWN_MAX: usize = 1_000;
/// Rows being paid at once: enough to fill the ledger's and the database's group commits.
const CONCURRENCY: usize = 128;
/// Row outcomes recorded per transaction.
const OUTCOMES_PER_WRITE: usize = 64;
/// Waiting rows read at a time.
const ROWS_PER_FETCH: usize = 512;
/// Rows of the result file read at a time.
const RESULT_PAGE_ROWS: u32 = 5_000;

/// Whose money pays a batch.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Source {
    Bank(&'static ceiba_payments::Bank),
    Merchant(String),
}

impl Source {
    fn stored(&self) -> String {
        match self {
            Source::Bank(bank) => format!("banco:{}", bank.code),
            Source::Merchant(id) => format!("comercio:{id}"),
        }
    }

    fn parse_stored(text: &str) -> Option<Source> {
        if let Some(code) = text.strip_prefix("banco:") {
            return ceiba_payments::bank(code).map(Source::Bank);
        }
        text.strip_prefix("comercio:")
            .map(|id| Source::Merchant(id.to_owned()))
    }

    /// What the operation records as the other party: the bank's code, or the merchant.
    fn label(&self) -> String {
        match self {
            Source::Bank(bank) => bank.code.to_owned(),
            Source::Merchant(id) => format!("comercio:{id}"),
        }
    }
}

/// The account a payout operation recorded with `label` pays from.
pub(crate) fn source_account(label: &str, currency: Currency) -> Option<ceiba_ledger::AccountId> {
    if let Some(bank) = ceiba_payments::bank(label) {
        return Some(accounts::bank_settlement(bank, currency));
    }
    label
        .strip_prefix("comercio:")
        .map(|merchant| accounts::merchant(merchant, currency))
}

/// The name a recipient knows a payout's payer by: the bank's code or the merchant's name.
pub(crate) async fn payer_name(state: &AppState, label: &str) -> String {
    match label.strip_prefix("comercio:") {
        Some(id) => state
            .db
            .merchant(id)
            .await
            .ok()
            .flatten()
            .map_or_else(|| label.to_owned(), |merchant| merchant.business_name),
        None => label.to_owned(),
    }
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(default, deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct UploadQuery {
    /// A bank's code (BPA, BANDEC, BANMET: a bank operator) or the id of one of the caller's
    /// approved merchants.
    pub source: String,
    /// CUP (the default), USD or MLC.
    pub currency: Option<String>,
    /// The file's name, as the uploader knows it.
    pub file_name: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RowError {
    /// The file's line (the header is line 1).
    pub line: u64,
    pub error: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PayoutView {
    pub id: String,
    /// `banco:<code>` or `comercio:<merchant id>`.
    pub source: String,
    pub currency: String,
    pub file_name: String,
    /// `invalid` (rows with errors: never paid), `ready`, `running` or `finished`.
    pub status: String,
    pub rows: u64,
    /// What the valid rows add up to.
    pub total_minor: u64,
    pub invalid_rows: u64,
    pub waiting_rows: u64,
    pub paid_rows: u64,
    pub refused_rows: u64,
    pub paid_minor: u64,
    pub created_at_ms: i64,
    pub started_at_ms: Option<i64>,
    pub finished_at_ms: Option<i64>,
    /// Where every row's outcome can be read, as CSV.
    pub result_url: String,
    /// The first row errors (all of them are in the result file).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<RowError>,
}

fn view(batch: &PayoutBatchRow, progress: PayoutProgress, errors: Vec<RowError>) -> PayoutView {
    PayoutView {
        id: batch.id.clone(),
        source: batch.source.clone(),
        currency: batch.currency.clone(),
        file_name: batch.file_name.clone(),
        status: batch.status.clone(),
        rows: batch.row_count,
        total_minor: batch.total_minor,
        invalid_rows: progress.invalid,
        waiting_rows: progress.waiting,
        paid_rows: progress.paid,
        refused_rows: progress.refused,
        paid_minor: progress.paid_minor,
        created_at_ms: batch.created_at_ms,
        started_at_ms: batch.started_at_ms,
        finished_at_ms: batch.finished_at_ms,
        result_url: format!("{UPLOAD_PATH}/{}/result.csv", batch.id),
        errors,
    }
}

fn bad_file(detail: impl Into<String>) -> ApiError {
    ApiError::with_detail(ErrorCode::PayoutInvalid, detail)
}

/// Whose money the caller may pay with: a bank as its operator (second factor), or one of
/// their approved merchants.
async fn source_for(state: &AppState, who: &Authenticated, text: &str) -> Result<Source, ApiError> {
    let text = text.trim();
    if let Some(bank) = ceiba_payments::bank(&text.to_ascii_uppercase()) {
        crate::auth::Authorized::<crate::auth::BankOperator>::of(who.clone())?;
        return Ok(Source::Bank(bank));
    }
    let merchant = state
        .db
        .merchant(text)
        .await?
        .filter(|merchant| merchant.owner_user_id == who.user.id)
        .ok_or_else(|| {
            ApiError::with_detail(
                ErrorCode::ValidationFailed,
                "source debe ser un banco (BPA, BANDEC, BANMET) o el id de uno de sus comercios",
            )
        })?;
    if merchant.status != MerchantStatus::Approved {
        return Err(ApiError::new(ErrorCode::MerchantNotApproved));
    }
    Ok(Source::Merchant(merchant.id))
}

/// A row as read, its destination as the database knows it: an account number becomes its hash.
struct ReadRow {
    line: u64,
    recipient: String,
    key: Option<Destination>,
    amount: Option<Money>,
    reference: String,
    error: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Destination {
    Phone(String),
    Account(Vec<u8>),
}

/// Reads the file ([`files::read_payout_csv`]): its header, then every row as far as it can be
/// read without the database.
fn read_file(state: &AppState, body: &[u8], currency: Currency) -> Result<Vec<ReadRow>, ApiError> {
    let rows = files::read_payout_csv(body, currency, PAYOUT_ROWS_MAX).map_err(bad_file)?;
    Ok(rows
        .into_iter()
        .map(|row| ReadRow {
            line: row.line,
            recipient: row.recipient,
            key: row.destination.map(|destination| match destination {
                PayoutDestination::Phone(phone) => Destination::Phone(phone),
                PayoutDestination::Account(digits) => {
                    Destination::Account(number_hash(&state.payments.receipt_key, &digits))
                }
            }),
            amount: row.amount,
            reference: row.reference,
            error: row.error,
        })
        .collect())
}

/// Looks every recipient up, names the rows nobody receives and the repeated ones, and
/// gives the rows to store.
async fn resolve(
    state: &AppState,
    rows: Vec<ReadRow>,
    currency: Currency,
) -> Result<Vec<NewPayoutRow>, ApiError> {
    let phones: Vec<&str> = rows
        .iter()
        .filter_map(|row| match &row.key {
            Some(Destination::Phone(phone)) if row.error.is_none() => Some(phone.as_str()),
            _ => None,
        })
        .collect();
    let hashes: Vec<&[u8]> = rows
        .iter()
        .filter_map(|row| match &row.key {
            Some(Destination::Account(hash)) if row.error.is_none() => Some(hash.as_slice()),
            _ => None,
        })
        .collect();
    let people = state.db.active_user_ids_by_phone(&phones).await?;
    let owners = state
        .db
        .linked_account_owners(&hashes, currency.code())
        .await?;
    // (recipient, amount, reference) → the line that first had it.
    let mut seen: HashMap<(String, u64, String), u64> = HashMap::new();
    let mut resolved = Vec::with_capacity(rows.len());
    for row in rows {
        let mut error = row.error;
        let user_id = match (&error, &row.key) {
            (None, Some(Destination::Phone(phone))) => {
                let found = people.get(phone).cloned();
                if found.is_none() {
                    error = Some(format!(
                        "no hay ninguna cuenta activa con el teléfono {phone}"
                    ));
                }
                found
            }
            (None, Some(Destination::Account(hash))) => {
                let found = owners.get(hash).cloned();
                if found.is_none() {
                    error = Some(format!(
                        "ninguna persona vinculó esa cuenta bancaria en {} a Ceiba",
                        currency.code()
                    ));
                }
                found
            }
            _ => None,
        };
        if let (None, Some(user), Some(amount)) = (&error, &user_id, row.amount) {
            let key = (user.clone(), amount.minor, row.reference.clone());
            if let Some(first) = seen.insert(key, row.line) {
                error = Some(format!(
                    "repite la línea {first} (el mismo destino, importe y referencia)"
                ));
            }
        }
        resolved.push(NewPayoutRow {
            line: row.line,
            recipient: row.recipient,
            user_id: if error.is_none() { user_id } else { None },
            amount_minor: row.amount.map(|amount| amount.minor),
            reference: row.reference,
            error,
        });
    }
    Ok(resolved)
}

/// Uploads a payout file (`text/csv`: `destino,importe,referencia`; a phone number or a linked
/// bank account's 16 digits, an amount, a reference). Every row is checked first: the answer
/// says whether the batch is `ready` to pay or `invalid`, with the rows' errors.
#[utoipa::path(post, path = "/api/v1/payouts", tag = "pagos",
    security(("bearer" = [])),
    params(UploadQuery),
    request_body(content = String, content_type = "text/csv", description = "destino,importe,referencia"),
    responses(
        (status = 201, description = "Lote guardado: listo para pagar, o con errores por fila", body = PayoutView),
        (status = 403, description = "No opera ese banco (o le falta el segundo factor)", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "Archivo demasiado grande", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "No es text/csv", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Archivo vacío, sin cabecera o de más de 100.000 filas; o un origen no válido", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn upload(
    who: Authenticated,
    State(state): State<AppState>,
    query: Result<Query<UploadQuery>, axum::extract::rejection::QueryRejection>,
    request: Request,
) -> Result<(StatusCode, Json<PayoutView>), ApiError> {
    let Query(query) = query
        .map_err(|rejection| ApiError::with_detail(ErrorCode::BadRequest, rejection.body_text()))?;
    let csv_type = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.split(';').next())
        .is_some_and(|value| value.trim().eq_ignore_ascii_case("text/csv"));
    if !csv_type {
        return Err(ApiError::with_detail(
            ErrorCode::UnsupportedMediaType,
            "se espera Content-Type: text/csv",
        ));
    }
    let body = Bytes::from_request(request, &state)
        .await
        .map_err(|rejection| {
            if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::new(ErrorCode::PayloadTooLarge)
            } else {
                ApiError::with_detail(ErrorCode::BadRequest, rejection.body_text())
            }
        })?;
    let file = PayoutFile {
        source: &query.source,
        currency: query.currency.as_deref(),
        file_name: query.file_name.as_deref(),
        body: &body,
    };
    let (batch, errors) = upload_file(&state, &who, &file).await?;
    let progress = state.db.payout_progress(&batch.id).await?;
    Ok((StatusCode::CREATED, Json(view(&batch, progress, errors))))
}

/// A payout file as the API or the page received it.
#[derive(Debug, Clone, Copy)]
pub struct PayoutFile<'a> {
    /// A bank's code or a merchant's id.
    pub source: &'a str,
    pub currency: Option<&'a str>,
    pub file_name: Option<&'a str>,
    pub body: &'a [u8],
}

/// Checks and stores a payout file of `who`; the batch and its first row errors. For every
/// channel.
pub async fn upload_file(
    state: &AppState,
    who: &Authenticated,
    file: &PayoutFile<'_>,
) -> Result<(PayoutBatchRow, Vec<RowError>), ApiError> {
    let source = source_for(state, who, file.source).await?;
    let currency = parse_currency(file.currency.unwrap_or("CUP"))?;
    let file_name = file
        .file_name
        .map(str::trim)
        .filter(|name| !name.is_empty())
        .unwrap_or("pagos.csv");
    if file_name.chars().count() > FILE_NAME_CHARS_MAX || file_name.chars().any(char::is_control) {
        return Err(ApiError::with_detail(
            ErrorCode::ValidationFailed,
            format!("el nombre del archivo tiene más de {FILE_NAME_CHARS_MAX} caracteres"),
        ));
    }
    let rows = read_file(state, file.body, currency)?;
    let rows = resolve(state, rows, currency).await?;
    let invalid = rows.iter().filter(|row| row.error.is_some()).count();
    let total_minor = rows
        .iter()
        .filter(|row| row.error.is_none())
        .filter_map(|row| row.amount_minor)
        .try_fold(0_u64, u64::checked_add)
        .ok_or_else(|| bad_file("el archivo suma demasiado"))?;
    let batch = PayoutBatchRow {
        id: format!("pm_{:032x}", rand::random::<u128>()),
        created_by_user_id: who.user.id.clone(),
        source: source.stored(),
        currency: currency.code().to_owned(),
        file_name: file_name.to_owned(),
        row_count: u64::try_from(rows.len()).unwrap_or(u64::MAX),
        total_minor,
        status: if invalid == 0 { "ready" } else { "invalid" }.to_owned(),
        created_at_ms: state.clock.now_ms(),
        started_at_ms: None,
        finished_at_ms: None,
    };
    state.db.create_payout_batch(&batch, &rows).await?;
    let errors = rows
        .iter()
        .filter_map(|row| {
            row.error.as_ref().map(|error| RowError {
                line: row.line,
                error: error.clone(),
            })
        })
        .take(ERRORS_SHOWN_MAX)
        .collect();
    Ok((batch, errors))
}

/// The caller's own batch, or 404.
pub(crate) async fn own_batch(
    state: &AppState,
    who: &Authenticated,
    id: &str,
) -> Result<PayoutBatchRow, ApiError> {
    state
        .db
        .payout_batch(id)
        .await?
        .filter(|batch| batch.created_by_user_id == who.user.id)
        .ok_or_else(|| ApiError::with_detail(ErrorCode::NotFound, "no existe ese lote de pagos"))
}

/// Orders a checked batch paid. The rows are paid in the background, in file order; read the
/// progress with `GET /api/v1/payouts/{id}`.
#[utoipa::path(post, path = "/api/v1/payouts/{id}/start", tag = "pagos",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "El lote")),
    responses(
        (status = 202, description = "Se está pagando", body = PayoutView),
        (status = 404, description = "No existe o no es suyo", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Ya se ordenó", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "El lote tiene filas con errores, o el comercio no tiene saldo para todo", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn start(
    who: Authenticated,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<(StatusCode, Json<PayoutView>), ApiError> {
    let batch = start_batch(&state, &who, &id).await?;
    let progress = state.db.payout_progress(&batch.id).await?;
    Ok((
        StatusCode::ACCEPTED,
        Json(view(&batch, progress, Vec::new())),
    ))
}

/// Orders `who`'s checked batch `id` paid; for every channel.
pub async fn start_batch(
    state: &AppState,
    who: &Authenticated,
    id: &str,
) -> Result<PayoutBatchRow, ApiError> {
    let batch = own_batch(state, who, id).await?;
    match batch.status.as_str() {
        "ready" => {}
        "invalid" => return Err(ApiError::new(ErrorCode::PayoutInvalid)),
        _ => {
            return Err(ApiError::with_detail(
                ErrorCode::Conflict,
                "ese lote ya se ordenó pagar",
            ));
        }
    }
    let source =
        Source::parse_stored(&batch.source).ok_or_else(|| ApiError::new(ErrorCode::Internal))?;
    // Still the bank's operator, or the merchant's owner.
    let source_text = match &source {
        Source::Bank(bank) => bank.code.to_owned(),
        Source::Merchant(id) => id.clone(),
    };
    source_for(state, who, &source_text).await?;
    if let Source::Merchant(merchant) = &source {
        let currency = parse_currency(&batch.currency)?;
        let engine = engine(state)?;
        let available = crate::payments::available(engine, accounts::merchant(merchant, currency));
        if batch.total_minor > available {
            return Err(ApiError::with_detail(
                ErrorCode::PaymentInsufficientFunds,
                format!(
                    "el comercio tiene {} y el lote suma {}",
                    Money::from_minor(available, currency),
                    Money::from_minor(batch.total_minor, currency)
                ),
            ));
        }
    }
    if !state
        .db
        .start_payout_batch(&batch.id, state.clock.now_ms())
        .await?
    {
        return Err(ApiError::with_detail(
            ErrorCode::Conflict,
            "ese lote ya se ordenó pagar",
        ));
    }
    own_batch(state, who, id).await
}

/// A batch and its progress.
#[utoipa::path(get, path = "/api/v1/payouts/{id}", tag = "pagos",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "El lote")),
    responses(
        (status = 200, description = "El lote y cuántas filas van pagadas", body = PayoutView),
        (status = 404, description = "No existe o no es suyo", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn one(
    who: Authenticated,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<PayoutView>, ApiError> {
    let batch = own_batch(&state, &who, &id).await?;
    let progress = state.db.payout_progress(&batch.id).await?;
    Ok(Json(view(&batch, progress, Vec::new())))
}

/// The caller's batches, newest first.
#[utoipa::path(get, path = "/api/v1/payouts", tag = "pagos",
    security(("bearer" = [])),
    responses((status = 200, description = "Lotes", body = [PayoutView])))]
pub async fn mine(
    who: Authenticated,
    State(state): State<AppState>,
) -> Result<Json<Vec<PayoutView>>, ApiError> {
    let mut views = Vec::new();
    for batch in state.db.payout_batches_of(&who.user.id).await? {
        let progress = state.db.payout_progress(&batch.id).await?;
        views.push(view(&batch, progress, Vec::new()));
    }
    Ok(Json(views))
}

/// Every row of a batch with its outcome, as CSV: `linea,destino,importe,referencia,estado,
/// operacion,motivo` (`estado`: `invalida`, `pendiente`, `pagada` or `rechazada`).
#[utoipa::path(get, path = "/api/v1/payouts/{id}/result.csv", tag = "pagos",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "El lote")),
    responses(
        (status = 200, description = "Resultado por fila", content_type = "text/csv"),
        (status = 404, description = "No existe o no es suyo", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn result(
    who: Authenticated,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let batch = own_batch(&state, &who, &id).await?;
    let write_error = |error: csv::Error| {
        tracing::error!(%error, "could not write a payout result file");
        ApiError::new(ErrorCode::Internal)
    };
    let mut writer = csv::Writer::from_writer(Vec::new());
    writer
        .write_record([
            "linea",
            "destino",
            "importe",
            "referencia",
            "estado",
            "operacion",
            "motivo",
        ])
        .map_err(write_error)?;
    let mut after = 0;
    loop {
        let rows = state
            .db
            .payout_rows(&batch.id, after, RESULT_PAGE_ROWS)
            .await?;
        let Some(last) = rows.last() else { break };
        after = last.line;
        for row in &rows {
            writer
                .write_record([
                    row.line.to_string(),
                    crate::bills::spreadsheet_safe(&row.recipient),
                    row.amount_minor
                        .map(crate::bills::plain_amount)
                        .unwrap_or_default(),
                    crate::bills::spreadsheet_safe(&row.reference),
                    match row.status.as_str() {
                        "invalid" => "invalida",
                        "waiting" => "pendiente",
                        "paid" => "pagada",
                        _ => "rechazada",
                    }
                    .to_owned(),
                    row.operation_id.clone().unwrap_or_default(),
                    crate::bills::spreadsheet_safe(row.error.as_deref().unwrap_or_default()),
                ])
                .map_err(write_error)?;
        }
    }
    let body = writer
        .into_inner()
        .map_err(|error| write_error(error.into_error().into()))?;
    Ok(crate::bills::csv_file(
        &format!("resultado-{}.csv", batch.id),
        body,
    ))
}

// ---------------------------------------------------------------------------------------------
// Paying
// ---------------------------------------------------------------------------------------------

/// What a turn of paying did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct RunReport {
    pub paid: usize,
    pub refused: usize,
    /// Batches that finished in this turn.
    pub finished: usize,
}

/// Pays one row: its operation, begun or found by its key, and how it ended (recorded by the
/// caller, a few rows at a time). A row left waiting (the ledger away, or its outcome not yet
/// recorded when the process stopped) is paid by a later turn with the same key, which finds
/// the operation instead of making another.
async fn pay_row(
    state: &AppState,
    batch: &PayoutBatchRow,
    source: &Source,
    row: &PayoutRowRow,
) -> Result<Option<PayoutOutcome>, ApiError> {
    let engine = engine(state)?;
    let corrupt = || {
        tracing::error!(batch = %batch.id, line = row.line, "a payout row cannot be paid");
        ApiError::new(ErrorCode::Internal)
    };
    let currency = Currency::parse(&batch.currency).map_err(|_| corrupt())?;
    let recipient = row.user_id.as_deref().ok_or_else(corrupt)?;
    let amount = Money::from_minor(row.amount_minor.ok_or_else(corrupt)?, currency);
    ensure_wallet(state, engine, recipient, currency).await?;
    let key = format!("pago-masivo:{}:{}", batch.id, row.line);
    let id = rand::random::<u128>().max(1).to_string();
    let minor = amount.minor.to_string();
    let line = row.line.to_string();
    let label = source.label();
    let hash = request_hash(&[
        OperationKind::Payout.as_str(),
        &batch.id,
        &line,
        recipient,
        &minor,
    ]);
    let new = NewOperation {
        id: &id,
        user_id: &batch.created_by_user_id,
        idempotency_key: Some(&key),
        request_hash: &hash,
        kind: OperationKind::Payout.as_str(),
        currency: currency.code(),
        amount_minor: amount.minor,
        fee_minor: 0,
        counterparty_user_id: Some(recipient),
        counterparty_label: &label,
        note: &row.reference,
        counts_toward_limits: false,
        created_at_ms: state.clock.now_ms(),
    };
    let (paid, operation_id, error) =
        match run_operation(state, engine, &new, &[], |_| Ok(())).await {
            Ok(operation) => match operation.status {
                OperationStatus::Pending => return Ok(None),
                OperationStatus::Completed => (true, Some(operation.id), None),
                OperationStatus::Refused => (
                    false,
                    Some(operation.id),
                    Some(
                        operation
                            .refusal_detail
                            .or(operation.refusal_code)
                            .unwrap_or_default(),
                    ),
                ),
            },
            Err(error) if error.code.entry().status == StatusCode::SERVICE_UNAVAILABLE => {
                return Err(error);
            }
            Err(error) => (
                false,
                None,
                Some(
                    error
                        .detail
                        .clone()
                        .unwrap_or_else(|| error.code.entry().title_es.to_owned()),
                ),
            ),
        };
    Ok(Some(PayoutOutcome {
        line: row.line,
        paid,
        operation_id,
        error,
    }))
}

/// Pays up to `rows_max` waiting rows of a running batch in file order, [`CONCURRENCY`] at a
/// time, and marks
/// it finished when none is left.
pub async fn run_batch(
    state: &AppState,
    batch: &PayoutBatchRow,
    rows_max: usize,
) -> Result<RunReport, ApiError> {
    let source = Source::parse_stored(&batch.source).ok_or_else(|| {
        tracing::error!(batch = %batch.id, "a payout batch's source cannot be read");
        ApiError::new(ErrorCode::Internal)
    })?;
    if let Source::Bank(_) = source {
        ensure_operator_accounts(engine(state)?).await?;
    }
    let mut report = RunReport::default();
    let mut left = rows_max;
    let mut after = 0;
    let mut queue = std::collections::VecDeque::new();
    let mut running = tokio::task::JoinSet::new();
    let mut unavailable = None;
    let mut outcomes = Vec::with_capacity(OUTCOMES_PER_WRITE);
    loop {
        if queue.is_empty() && left > 0 && unavailable.is_none() {
            let take = u32::try_from(left.min(ROWS_PER_FETCH)).unwrap_or(u32::MAX);
            let rows = state.db.waiting_payout_rows(&batch.id, after, take).await?;
            if let Some(last) = rows.last() {
                after = last.line;
            }
            left = left.saturating_sub(rows.len());
            if rows.is_empty() {
                left = 0;
            }
            queue.extend(rows);
        }
        while running.len() < CONCURRENCY && unavailable.is_none() {
            let Some(row) = queue.pop_front() else { break };
            let (state, batch, source) = (state.clone(), batch.clone(), source.clone());
            running.spawn(async move { pay_row(&state, &batch, &source, &row).await });
        }
        let Some(done) = running.join_next().await else {
            break;
        };
        match done.map_err(|error| {
            tracing::error!(%error, "a payout row's task failed");
            ApiError::new(ErrorCode::Internal)
        })? {
            Ok(Some(outcome)) => {
                if outcome.paid {
                    report.paid += 1;
                } else {
                    report.refused += 1;
                }
                outcomes.push(outcome);
            }
            Ok(None) => {}
            // The ledger is away: stop taking rows, let those under way end, and say so.
            Err(error) => unavailable = Some(error),
        }
        if outcomes.len() >= OUTCOMES_PER_WRITE || running.is_empty() {
            state
                .db
                .finish_payout_rows(&batch.id, &outcomes, state.clock.now_ms())
                .await?;
            outcomes.clear();
        }
    }
    state
        .db
        .finish_payout_rows(&batch.id, &outcomes, state.clock.now_ms())
        .await?;
    if let Some(error) = unavailable {
        return Err(error);
    }
    if state
        .db
        .finish_payout_batch(&batch.id, state.clock.now_ms())
        .await?
    {
        report.finished += 1;
    }
    Ok(report)
}

/// Pays every running batch, up to `rows_max` rows each; for the process that writes the
/// ledger, every second or so. A crash between turns (or inside one) loses nothing: the rows
/// still waiting are paid by the next turn, those paid meanwhile are found by their keys.
pub async fn run_due(state: &AppState, rows_max: usize) -> Result<RunReport, ApiError> {
    let mut total = RunReport::default();
    for batch in state.db.running_payout_batches().await? {
        let report = run_batch(state, &batch, rows_max).await?;
        total.paid += report.paid;
        total.refused += report.refused;
        total.finished += report.finished;
    }
    Ok(total)
}
