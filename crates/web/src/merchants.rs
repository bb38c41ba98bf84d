//! Merchants (EnZona's businesses): a person applies for a business with its name, tax id (NIT),
//! category (ISO 18245 MCC), city and settlement bank account; an administrator approves or
//! rejects it (know your business), and only then may it take payments. Approval opens the
//! merchant's ledger account in its settlement currency and gives the owner the `merchant` role;
//! both decisions are written to the audit log.

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use ceiba_audit::{AuditEvent, EventKind};
use ceiba_identity::Role;
use ceiba_payments::{BusinessName, CategoryCode, City, Nit, accounts};
use ceiba_store::{
    ApplyMerchant, DecideMerchant, MERCHANTS_PAGE_MAX, MERCHANTS_PER_OWNER_MAX, MerchantDecision,
    MerchantRow, MerchantStatus, NewMerchant, UserRow,
};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::AppState;
use crate::accounts::audit;
use crate::auth::{Administrator, Authenticated, Authorized};
use crate::bank_accounts::{known_bank, masked, number_hash, parse_account_number};
use crate::json::ApiJson;
use crate::payments::{engine, ledger_unavailable, parse_currency};
use crate::problem::{ApiError, ErrorCode, Problem};

/// Longest reason an administrator may give for a rejection.
const REASON_CHARS_MAX: usize = 500;

/// The account a merchant's money is settled to.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SettlementBody {
    /// BPA, BANDEC or BANMET.
    pub bank: String,
    /// CUP, USD or MLC.
    pub currency: String,
    /// The account's 16 digits (spaces or dashes between them are ignored).
    pub account_number: String,
}

/// A business's application.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MerchantApplicationBody {
    /// As customers know it, up to 60 characters.
    pub business_name: String,
    /// Número de Identificación Tributaria: 11 digits.
    pub nit: String,
    /// ISO 18245 merchant category code, 4 digits ("5411": grocery stores).
    pub category_code: String,
    pub city: String,
    pub settlement: SettlementBody,
}

/// Named apart from the banks' settlement report (`settlement::SettlementView`): two schemas
/// of one name would overwrite each other in the OpenAPI document.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = MerchantSettlementView)]
pub struct SettlementView {
    pub bank: String,
    pub bank_name: String,
    pub currency: String,
    /// Only the last four digits: «************1234».
    pub account_number: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MerchantView {
    pub id: String,
    pub business_name: String,
    pub nit: String,
    pub category_code: String,
    /// The category's Spanish name, for the common ones.
    pub category_name: Option<String>,
    pub city: String,
    pub settlement: SettlementView,
    /// `pending`, `approved` or `rejected`.
    pub status: String,
    pub created_at_ms: i64,
    pub decided_at_ms: Option<i64>,
    /// Why it was rejected.
    pub decision_reason: Option<String>,
}

pub fn merchant_view(row: &MerchantRow) -> MerchantView {
    MerchantView {
        id: row.id.clone(),
        business_name: row.business_name.clone(),
        nit: row.nit.clone(),
        category_code: row.category_code.clone(),
        category_name: CategoryCode::parse(&row.category_code)
            .ok()
            .and_then(CategoryCode::name_es)
            .map(str::to_owned),
        city: row.city.clone(),
        settlement: SettlementView {
            bank: row.settlement_bank_code.clone(),
            bank_name: ceiba_payments::bank(&row.settlement_bank_code)
                .map(|bank| bank.name.to_owned())
                .unwrap_or_default(),
            currency: row.settlement_currency.clone(),
            account_number: row.settlement_masked_number.clone(),
        },
        status: row.status.as_str().to_owned(),
        created_at_ms: row.created_at_ms,
        decided_at_ms: row.decided_at_ms,
        decision_reason: row.decision_reason.clone(),
    }
}

fn invalid(error: &ceiba_payments::MerchantError) -> ApiError {
    ApiError::with_detail(ErrorCode::ValidationFailed, error.to_string())
}

fn unknown_merchant() -> ApiError {
    ApiError::new(ErrorCode::MerchantUnknown)
}

/// Records `owner`'s application for a business, as typed; for every channel. Every field is
/// checked before anything is written.
pub async fn apply_for_merchant(
    state: &AppState,
    owner: &UserRow,
    body: &MerchantApplicationBody,
) -> Result<MerchantRow, ApiError> {
    let id = format!("com-{:032x}", rand::random::<u128>());
    apply_with_id(state, owner, &id, body).await
}

/// [`apply_for_merchant`] with the merchant's id given (the demonstration's merchant has a
/// fixed one, so seeding twice finds it).
pub async fn apply_with_id(
    state: &AppState,
    owner: &UserRow,
    id: &str,
    body: &MerchantApplicationBody,
) -> Result<MerchantRow, ApiError> {
    let name = BusinessName::parse(&body.business_name).map_err(|e| invalid(&e))?;
    let nit = Nit::parse(&body.nit).map_err(|e| invalid(&e))?;
    let category = CategoryCode::parse(&body.category_code).map_err(|e| invalid(&e))?;
    let city = City::parse(&body.city).map_err(|e| invalid(&e))?;
    let bank = known_bank(&body.settlement.bank)?;
    let currency = parse_currency(&body.settlement.currency)?;
    let number = parse_account_number(&body.settlement.account_number)?;
    let category = category.to_string();
    let masked_number = masked(&number);
    let hash = number_hash(&state.payments.receipt_key, &number);
    let new = NewMerchant {
        id,
        owner_user_id: &owner.id,
        business_name: name.as_str(),
        nit: nit.as_str(),
        category_code: &category,
        city: city.as_str(),
        settlement_bank_code: bank.code,
        settlement_currency: currency.code(),
        settlement_masked_number: &masked_number,
        settlement_number_hash: &hash,
        created_at_ms: state.clock.now_ms(),
    };
    match state.db.apply_merchant(&new).await? {
        ApplyMerchant::Applied(row) => Ok(*row),
        ApplyMerchant::NitTaken => Err(ApiError::new(ErrorCode::MerchantNitTaken)),
        ApplyMerchant::TooMany => Err(ApiError::with_detail(
            ErrorCode::ValidationFailed,
            format!("una persona puede tener hasta {MERCHANTS_PER_OWNER_MAX} comercios"),
        )),
    }
}

/// Applies for a business to take payments; it may take them once an administrator approves.
#[utoipa::path(post, path = "/api/v1/merchants", tag = "comercios",
    security(("bearer" = [])),
    request_body = MerchantApplicationBody,
    responses(
        (status = 201, description = "Solicitud registrada, pendiente de aprobación", body = MerchantView),
        (status = 409, description = "Ya hay un comercio con ese NIT", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Nombre, NIT, categoría, ciudad o cuenta no válidos", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn apply(
    who: Authenticated,
    State(state): State<AppState>,
    ApiJson(body): ApiJson<MerchantApplicationBody>,
) -> Result<(StatusCode, Json<MerchantView>), ApiError> {
    let row = apply_for_merchant(&state, &who.user, &body).await?;
    Ok((StatusCode::CREATED, Json(merchant_view(&row))))
}

/// The caller's businesses, oldest first, whatever their status.
#[utoipa::path(get, path = "/api/v1/merchants", tag = "comercios",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Sus comercios", body = [MerchantView]),
        (status = 401, description = "Sin sesión", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn mine(
    who: Authenticated,
    State(state): State<AppState>,
) -> Result<Json<Vec<MerchantView>>, ApiError> {
    let rows = state.db.merchants_of(&who.user.id).await?;
    Ok(Json(rows.iter().map(merchant_view).collect()))
}

/// One business: for its owner and for administrators; anybody else gets 404.
#[utoipa::path(get, path = "/api/v1/merchants/{id}", tag = "comercios",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "El id del comercio")),
    responses(
        (status = 200, description = "El comercio", body = MerchantView),
        (status = 404, description = "No existe o no es suyo", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn one(
    who: Authenticated,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<MerchantView>, ApiError> {
    let row = state
        .db
        .merchant(&id)
        .await?
        .filter(|row| {
            row.owner_user_id == who.user.id
                || (who.user.roles.contains(&Role::Administrator) && who.second_factor)
        })
        .ok_or_else(unknown_merchant)?;
    Ok(Json(merchant_view(&row)))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct MerchantsQuery {
    /// `pending` (the default), `approved` or `rejected`.
    pub status: Option<String>,
    /// At most 200 (the default).
    pub limit: Option<u32>,
}

/// Businesses by status, oldest first: the queue of applications to decide. Administrators.
#[utoipa::path(get, path = "/api/v1/admin/merchants", tag = "comercios",
    security(("bearer" = [])),
    params(MerchantsQuery),
    responses(
        (status = 200, description = "Comercios", body = [MerchantView]),
        (status = 403, description = "Solo administradores con segundo factor", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn by_status(
    _admin: Authorized<Administrator>,
    State(state): State<AppState>,
    Query(query): Query<MerchantsQuery>,
) -> Result<Json<Vec<MerchantView>>, ApiError> {
    let status = match query.status.as_deref() {
        None => MerchantStatus::Pending,
        Some(text) => MerchantStatus::parse(text).ok_or_else(|| {
            ApiError::with_detail(
                ErrorCode::ValidationFailed,
                "status debe ser pending, approved o rejected",
            )
        })?,
    };
    let rows = state
        .db
        .merchants_with_status(status, query.limit.unwrap_or(MERCHANTS_PAGE_MAX))
        .await?;
    Ok(Json(rows.iter().map(merchant_view).collect()))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RejectBody {
    /// Why, for the applicant: what is missing or wrong.
    pub reason: String,
}

/// A rejection's reason, trimmed: 1 to [`REASON_CHARS_MAX`] characters, line breaks allowed.
pub(crate) fn rejection_reason(text: &str) -> Result<&str, ApiError> {
    let reason = text.trim();
    if reason.is_empty()
        || reason.chars().count() > REASON_CHARS_MAX
        || reason.chars().any(|c| c.is_control() && c != '\n')
    {
        return Err(ApiError::with_detail(
            ErrorCode::ValidationFailed,
            format!("el motivo debe tener de 1 a {REASON_CHARS_MAX} caracteres"),
        ));
    }
    Ok(reason)
}

/// Decides a pending application, once; the decision is audited. `admin` is who decides;
/// `None` only for the demonstration's own merchant, which `ceiba demo seed` approves.
pub async fn decide(
    state: &AppState,
    admin: Option<&UserRow>,
    id: &str,
    decision: MerchantDecision<'_>,
) -> Result<MerchantRow, ApiError> {
    if decision == MerchantDecision::Approve {
        // The ledger account first: approving twice (a retry) finds it open.
        let pending = state.db.merchant(id).await?.ok_or_else(unknown_merchant)?;
        if pending.status == MerchantStatus::Pending {
            let currency = parse_currency(&pending.settlement_currency)?;
            engine(state)?
                .create_accounts(vec![accounts::merchant_account(&pending.id, currency)])
                .await
                .map_err(|error| ledger_unavailable(&error))?;
        }
    }
    let now_ms = state.clock.now_ms();
    match state
        .db
        .decide_merchant(id, decision, admin.map(|admin| admin.id.as_str()), now_ms)
        .await?
    {
        DecideMerchant::Decided(row) => {
            audit(
                state,
                AuditEvent::new(EventKind::MerchantDecided, now_ms)
                    .actor(admin.map_or("ceiba-demo", |admin| admin.id.as_str()))
                    .subject(&row.id)
                    .detail("decision", row.status.as_str())
                    .detail("nit", &row.nit),
            )
            .await;
            Ok(*row)
        }
        DecideMerchant::AlreadyDecided(row) => Err(ApiError::with_detail(
            ErrorCode::MerchantAlreadyDecided,
            format!("el comercio ya está {}", status_es(row.status)),
        )),
        DecideMerchant::NotFound => Err(unknown_merchant()),
    }
}

fn status_es(status: MerchantStatus) -> &'static str {
    match status {
        MerchantStatus::Pending => "pendiente",
        MerchantStatus::Approved => "aprobado",
        MerchantStatus::Rejected => "rechazado",
    }
}

/// Approves an application: the merchant may take payments, its owner gets the `merchant`
/// role. Administrators.
#[utoipa::path(post, path = "/api/v1/admin/merchants/{id}/approve", tag = "comercios",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "El id del comercio")),
    responses(
        (status = 403, description = "Sin el rol «Administrador» o sin segundo factor en la sesión", body = Problem, content_type = "application/problem+json"),
        (status = 200, description = "Aprobado", body = MerchantView),
        (status = 404, description = "No existe", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Ya estaba decidido", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn approve(
    admin: Authorized<Administrator>,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<MerchantView>, ApiError> {
    let row = decide(
        &state,
        Some(&admin.who.user),
        &id,
        MerchantDecision::Approve,
    )
    .await?;
    Ok(Json(merchant_view(&row)))
}

/// Rejects an application with a reason its owner reads. Administrators.
#[utoipa::path(post, path = "/api/v1/admin/merchants/{id}/reject", tag = "comercios",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "El id del comercio")),
    request_body = RejectBody,
    responses(
        (status = 403, description = "Sin el rol «Administrador» o sin segundo factor en la sesión", body = Problem, content_type = "application/problem+json"),
        (status = 200, description = "Rechazado", body = MerchantView),
        (status = 404, description = "No existe", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Ya estaba decidido", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Falta el motivo", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn reject(
    admin: Authorized<Administrator>,
    State(state): State<AppState>,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<RejectBody>,
) -> Result<Json<MerchantView>, ApiError> {
    let reason = rejection_reason(&body.reason)?;
    let row = decide(
        &state,
        Some(&admin.who.user),
        &id,
        MerchantDecision::Reject { reason },
    )
    .await?;
    Ok(Json(merchant_view(&row)))
}
