//! Errors on the wire: one table maps each stable machine code to its HTTP status and to the
//! sentence a person reads, in Spanish first and English second. Everything that answers with an
//! error, a handler or a layer, ends up rendered from this table by [`crate::render_errors`].

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;

/// Every error Ceiba's HTTP edge can answer with. New services add their codes here.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorCode {
    BadRequest,
    MalformedJson,
    ValidationFailed,
    NotFound,
    MethodNotAllowed,
    RequestTimeout,
    PayloadTooLarge,
    UnsupportedMediaType,
    HeadersTooLarge,
    Unauthenticated,
    InvalidCredentials,
    Forbidden,
    CsrfRejected,
    SecondFactorRequired,
    AccountNotActive,
    Conflict,
    TooManyAttempts,
    RateLimited,
    DatabaseUnavailable,
    StorageUnavailable,
    LedgerBatchEmpty,
    LedgerBatchTooLarge,
    LedgerHistoryNotEnabled,
    LedgerNotWriter,
    LedgerUnavailable,
    PaymentRecipientUnknown,
    PaymentRecipientIsSelf,
    PaymentInvalidAmount,
    PaymentInvalidCurrency,
    PaymentInsufficientFunds,
    PaymentLimitExceeded,
    PaymentRecipientWalletFull,
    PaymentIdempotencyKeyReused,
    PaymentInProgress,
    PaymentUnknownBank,
    PaymentRefused,
    PaymentBillerUnknown,
    PaymentBillUnknown,
    PaymentBillAlreadyPaid,
    PaymentBillInProgress,
    PaymentBillerRefused,
    PaymentReversed,
    PaymentTopUpAmount,
    PaymentTopUpAccount,
    PaymentBankAccountUnknown,
    PaymentBankAccountNumberInvalid,
    PaymentBankRefused,
    BillerBillsInvalid,
    MerchantUnknown,
    MerchantNitTaken,
    MerchantAlreadyDecided,
    MerchantNotApproved,
    PaymentQrInvalid,
    PaymentQrUnknown,
    PaymentQrAlreadyPaid,
    PaymentQrExpired,
    PaymentRefundTooLarge,
    CheckoutUnknown,
    CheckoutClosed,
    PayoutInvalid,
    SettlementWindowOpen,
    OauthInvalidRequest,
    OauthInvalidClient,
    OauthUnsupportedGrantType,
    OauthInvalidScope,
    InsufficientScope,
    UssdGatewayRejected,
    Internal,
}

/// One row of the table.
#[derive(Debug, Clone, Copy)]
pub struct ErrorEntry {
    pub code: ErrorCode,
    pub name: &'static str,
    pub status: StatusCode,
    pub title_es: &'static str,
    pub title_en: &'static str,
}

const fn entry(
    code: ErrorCode,
    name: &'static str,
    status: StatusCode,
    title_es: &'static str,
    title_en: &'static str,
) -> ErrorEntry {
    ErrorEntry {
        code,
        name,
        status,
        title_es,
        title_en,
    }
}

/// The table. Architecture Invariant: an error code appears here once, and nowhere else says
/// which status or message it has.
pub const ERROR_TABLE: &[ErrorEntry] = &[
    entry(
        ErrorCode::BadRequest,
        "bad_request",
        StatusCode::BAD_REQUEST,
        "La petición no es válida.",
        "The request is not valid.",
    ),
    entry(
        ErrorCode::MalformedJson,
        "malformed_json",
        StatusCode::BAD_REQUEST,
        "El cuerpo de la petición no es JSON válido.",
        "The request body is not valid JSON.",
    ),
    entry(
        ErrorCode::ValidationFailed,
        "validation_failed",
        StatusCode::UNPROCESSABLE_ENTITY,
        "Los datos enviados no son válidos.",
        "The data sent is not valid.",
    ),
    entry(
        ErrorCode::NotFound,
        "not_found",
        StatusCode::NOT_FOUND,
        "No existe lo que busca en esta dirección.",
        "Nothing exists at this address.",
    ),
    entry(
        ErrorCode::MethodNotAllowed,
        "method_not_allowed",
        StatusCode::METHOD_NOT_ALLOWED,
        "Esta dirección no admite ese método.",
        "This address does not accept that method.",
    ),
    entry(
        ErrorCode::RequestTimeout,
        "request_timeout",
        StatusCode::REQUEST_TIMEOUT,
        "La petición tardó demasiado y se canceló; no se aplicó nada.",
        "The request took too long and was cancelled; nothing was applied.",
    ),
    entry(
        ErrorCode::PayloadTooLarge,
        "payload_too_large",
        StatusCode::PAYLOAD_TOO_LARGE,
        "El cuerpo de la petición es demasiado grande.",
        "The request body is too large.",
    ),
    entry(
        ErrorCode::UnsupportedMediaType,
        "unsupported_media_type",
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "El tipo de contenido de la petición no está admitido.",
        "The request's content type is not supported.",
    ),
    entry(
        ErrorCode::HeadersTooLarge,
        "headers_too_large",
        StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
        "Las cabeceras de la petición son demasiado grandes.",
        "The request headers are too large.",
    ),
    entry(
        ErrorCode::Unauthenticated,
        "unauthenticated",
        StatusCode::UNAUTHORIZED,
        "Inicie sesión para continuar.",
        "Sign in to continue.",
    ),
    entry(
        ErrorCode::InvalidCredentials,
        "invalid_credentials",
        StatusCode::UNAUTHORIZED,
        "El número de teléfono o la contraseña no son correctos.",
        "The phone number or the password is not correct.",
    ),
    entry(
        ErrorCode::Forbidden,
        "forbidden",
        StatusCode::FORBIDDEN,
        "Su cuenta no tiene permiso para esto.",
        "Your account is not allowed to do this.",
    ),
    // After `Forbidden`, so a bare 403 from a layer still reads as `forbidden`.
    entry(
        ErrorCode::CsrfRejected,
        "csrf_rejected",
        StatusCode::FORBIDDEN,
        "El formulario caducó o no se envió desde Ceiba, y no se hizo nada: vuelva a cargar la \
         página e inténtelo de nuevo.",
        "The form expired or was not sent from Ceiba, and nothing was done: reload the page and \
         try again.",
    ),
    entry(
        ErrorCode::SecondFactorRequired,
        "second_factor_required",
        StatusCode::UNAUTHORIZED,
        "Hace falta el segundo factor: el código de su aplicación o un código de recuperación.",
        "The second factor is needed: the code from your app or a recovery code.",
    ),
    entry(
        ErrorCode::Conflict,
        "conflict",
        StatusCode::CONFLICT,
        "Eso choca con el estado actual.",
        "That conflicts with the current state.",
    ),
    entry(
        ErrorCode::AccountNotActive,
        "account_not_active",
        StatusCode::FORBIDDEN,
        "La cuenta no está activa: confirme su número de teléfono o contacte con soporte.",
        "The account is not active: confirm your phone number or contact support.",
    ),
    entry(
        ErrorCode::TooManyAttempts,
        "too_many_attempts",
        StatusCode::TOO_MANY_REQUESTS,
        "Demasiados intentos; espere antes de volver a intentarlo.",
        "Too many attempts; wait before trying again.",
    ),
    entry(
        ErrorCode::RateLimited,
        "rate_limited",
        StatusCode::TOO_MANY_REQUESTS,
        "Demasiadas peticiones; espere un poco antes de seguir.",
        "Too many requests; wait a little before going on.",
    ),
    entry(
        ErrorCode::DatabaseUnavailable,
        "database_unavailable",
        StatusCode::SERVICE_UNAVAILABLE,
        "La base de datos no está disponible; inténtelo de nuevo en unos minutos.",
        "The database is unavailable; try again in a few minutes.",
    ),
    entry(
        ErrorCode::StorageUnavailable,
        "storage_unavailable",
        StatusCode::SERVICE_UNAVAILABLE,
        "El servidor no puede guardar datos ahora (disco lleno o de solo lectura); no se aplicó \
         nada. Inténtelo de nuevo más tarde.",
        "The server cannot store data right now (disk full or read-only); nothing was applied. \
         Try again later.",
    ),
    entry(
        ErrorCode::LedgerBatchEmpty,
        "ledger_batch_empty",
        StatusCode::UNPROCESSABLE_ENTITY,
        "El lote no trae ninguna operación.",
        "The batch holds no events.",
    ),
    entry(
        ErrorCode::LedgerBatchTooLarge,
        "ledger_batch_too_large",
        StatusCode::UNPROCESSABLE_ENTITY,
        "El lote pasa de 8.190 operaciones; divídalo.",
        "The batch holds more than 8,190 events; split it.",
    ),
    entry(
        ErrorCode::LedgerHistoryNotEnabled,
        "ledger_history_not_enabled",
        StatusCode::UNPROCESSABLE_ENTITY,
        "La cuenta no guarda historial de saldos.",
        "The account keeps no balance history.",
    ),
    entry(
        ErrorCode::LedgerNotWriter,
        "ledger_not_writer",
        StatusCode::SERVICE_UNAVAILABLE,
        "Este servidor no escribe en el libro mayor ahora; reintente en unos segundos.",
        "This server does not write to the ledger now; retry in a few seconds.",
    ),
    entry(
        ErrorCode::LedgerUnavailable,
        "ledger_unavailable",
        StatusCode::SERVICE_UNAVAILABLE,
        "El libro mayor no está disponible; reintente con los mismos identificadores.",
        "The ledger is unavailable; retry with the same ids.",
    ),
    entry(
        ErrorCode::PaymentRecipientUnknown,
        "payment_recipient_unknown",
        StatusCode::UNPROCESSABLE_ENTITY,
        "No hay ninguna cuenta activa con ese número de teléfono.",
        "No active account has that phone number.",
    ),
    entry(
        ErrorCode::PaymentRecipientIsSelf,
        "payment_recipient_is_self",
        StatusCode::UNPROCESSABLE_ENTITY,
        "No puede enviarse dinero a sí mismo.",
        "You cannot send money to yourself.",
    ),
    entry(
        ErrorCode::PaymentInvalidAmount,
        "payment_invalid_amount",
        StatusCode::UNPROCESSABLE_ENTITY,
        "El importe no es válido.",
        "The amount is not valid.",
    ),
    entry(
        ErrorCode::PaymentInvalidCurrency,
        "payment_invalid_currency",
        StatusCode::UNPROCESSABLE_ENTITY,
        "La moneda no es válida para esta operación.",
        "The currency is not valid for this operation.",
    ),
    entry(
        ErrorCode::PaymentInsufficientFunds,
        "payment_insufficient_funds",
        StatusCode::UNPROCESSABLE_ENTITY,
        "Saldo insuficiente; no se movió dinero.",
        "Insufficient funds; no money moved.",
    ),
    entry(
        ErrorCode::PaymentLimitExceeded,
        "payment_limit_exceeded",
        StatusCode::UNPROCESSABLE_ENTITY,
        "La operación supera un límite; no se movió dinero.",
        "The operation exceeds a limit; no money moved.",
    ),
    entry(
        ErrorCode::PaymentRecipientWalletFull,
        "payment_recipient_wallet_full",
        StatusCode::UNPROCESSABLE_ENTITY,
        "El monedero del destinatario pasaría de su tope; no se movió dinero.",
        "The recipient's wallet would pass its cap; no money moved.",
    ),
    entry(
        ErrorCode::PaymentIdempotencyKeyReused,
        "payment_idempotency_key_reused",
        StatusCode::UNPROCESSABLE_ENTITY,
        "Esa Idempotency-Key ya se usó para otra operación distinta.",
        "That Idempotency-Key was already used for a different operation.",
    ),
    entry(
        ErrorCode::PaymentInProgress,
        "payment_in_progress",
        StatusCode::CONFLICT,
        "La operación con esa clave aún está en curso; consulte su estado en unos segundos.",
        "The operation with that key is still in progress; check its status in a few seconds.",
    ),
    entry(
        ErrorCode::PaymentUnknownBank,
        "payment_unknown_bank",
        StatusCode::UNPROCESSABLE_ENTITY,
        "Ese banco no participa en Ceiba Pagos.",
        "That bank does not take part in Ceiba Pagos.",
    ),
    entry(
        ErrorCode::PaymentRefused,
        "payment_refused",
        StatusCode::UNPROCESSABLE_ENTITY,
        "La operación fue rechazada; no se movió dinero.",
        "The operation was refused; no money moved.",
    ),
    entry(
        ErrorCode::PaymentBillerUnknown,
        "payment_biller_unknown",
        StatusCode::NOT_FOUND,
        "No hay ningún emisor de facturas con ese código.",
        "No biller has that code.",
    ),
    entry(
        ErrorCode::PaymentBillUnknown,
        "payment_bill_unknown",
        StatusCode::NOT_FOUND,
        "No hay ninguna factura con esa referencia; revise la referencia impresa en ella.",
        "No bill has that reference; check the reference printed on it.",
    ),
    entry(
        ErrorCode::PaymentBillAlreadyPaid,
        "payment_bill_already_paid",
        StatusCode::CONFLICT,
        "Esa factura ya está pagada; no se movió dinero.",
        "That bill is already paid; no money moved.",
    ),
    entry(
        ErrorCode::PaymentBillInProgress,
        "payment_bill_in_progress",
        StatusCode::CONFLICT,
        "Otro pago de esa factura está en curso; no se movió dinero. Consulte la factura en unos \
         minutos.",
        "Another payment of that bill is in progress; no money moved. Look the bill up again in \
         a few minutes.",
    ),
    entry(
        ErrorCode::PaymentBillerRefused,
        "payment_biller_refused",
        StatusCode::UNPROCESSABLE_ENTITY,
        "El emisor rechazó el pago; el dinero retenido volvió a su saldo.",
        "The biller refused the payment; the money held went back to your balance.",
    ),
    entry(
        ErrorCode::PaymentReversed,
        "payment_reversed",
        StatusCode::UNPROCESSABLE_ENTITY,
        "El emisor no confirmó el pago a tiempo y se anuló; el dinero retenido volvió a su saldo.",
        "The biller did not confirm the payment in time and it was reversed; the money held went \
         back to your balance.",
    ),
    entry(
        ErrorCode::PaymentTopUpAmount,
        "payment_top_up_amount",
        StatusCode::UNPROCESSABLE_ENTITY,
        "Ese importe no se vende para esta recarga; no se movió dinero.",
        "That amount is not sold for this top-up; no money moved.",
    ),
    entry(
        ErrorCode::PaymentTopUpAccount,
        "payment_top_up_account",
        StatusCode::UNPROCESSABLE_ENTITY,
        "El número o la cuenta a recargar no es válido; no se movió dinero.",
        "The number or account to top up is not valid; no money moved.",
    ),
    entry(
        ErrorCode::PaymentBankAccountUnknown,
        "payment_bank_account_unknown",
        StatusCode::NOT_FOUND,
        "No tiene ninguna cuenta bancaria vinculada con ese identificador (o la desvinculó).",
        "You have no linked bank account with that id (or you unlinked it).",
    ),
    entry(
        ErrorCode::PaymentBankAccountNumberInvalid,
        "payment_bank_account_number_invalid",
        StatusCode::UNPROCESSABLE_ENTITY,
        "El número de cuenta bancaria debe tener 16 dígitos.",
        "The bank account number must have 16 digits.",
    ),
    entry(
        ErrorCode::MerchantUnknown,
        "merchant_unknown",
        StatusCode::NOT_FOUND,
        "No existe ese comercio, o no es suyo.",
        "There is no such merchant, or it is not yours.",
    ),
    entry(
        ErrorCode::MerchantNitTaken,
        "merchant_nit_taken",
        StatusCode::CONFLICT,
        "Ya hay un comercio registrado con ese NIT.",
        "A merchant with that tax id (NIT) is already registered.",
    ),
    entry(
        ErrorCode::MerchantAlreadyDecided,
        "merchant_already_decided",
        StatusCode::CONFLICT,
        "La solicitud de ese comercio ya se decidió.",
        "That merchant's application was already decided.",
    ),
    entry(
        ErrorCode::MerchantNotApproved,
        "merchant_not_approved",
        StatusCode::CONFLICT,
        "El comercio aún no está aprobado para cobrar.",
        "The merchant is not approved to take payments yet.",
    ),
    entry(
        ErrorCode::PaymentQrInvalid,
        "payment_qr_invalid",
        StatusCode::UNPROCESSABLE_ENTITY,
        "El código QR no es válido; no se movió dinero.",
        "The QR code is not valid; no money moved.",
    ),
    entry(
        ErrorCode::PaymentQrUnknown,
        "payment_qr_unknown",
        StatusCode::NOT_FOUND,
        "Ese código QR no es de ningún comercio que cobre en Ceiba.",
        "That QR code belongs to no merchant taking payments in Ceiba.",
    ),
    entry(
        ErrorCode::PaymentQrAlreadyPaid,
        "payment_qr_already_paid",
        StatusCode::CONFLICT,
        "Ese código QR ya se pagó; no se movió dinero.",
        "That QR code was already paid; no money moved.",
    ),
    entry(
        ErrorCode::PaymentQrExpired,
        "payment_qr_expired",
        StatusCode::GONE,
        "Ese código QR caducó; pida otro al comercio.",
        "That QR code expired; ask the merchant for a new one.",
    ),
    entry(
        ErrorCode::PaymentRefundTooLarge,
        "payment_refund_too_large",
        StatusCode::UNPROCESSABLE_ENTITY,
        "La devolución pasa de lo que queda del pago; no se movió dinero.",
        "The refund is more than what is left of the payment; no money moved.",
    ),
    entry(
        ErrorCode::CheckoutUnknown,
        "checkout_unknown",
        StatusCode::NOT_FOUND,
        "No existe ese pedido.",
        "There is no such checkout.",
    ),
    entry(
        ErrorCode::CheckoutClosed,
        "checkout_closed",
        StatusCode::CONFLICT,
        "Ese pedido ya no se puede cambiar: se pagó, se está pagando, se canceló o caducó.",
        "That checkout can no longer change: it was paid, is being paid, was cancelled or expired.",
    ),
    entry(
        ErrorCode::PayoutInvalid,
        "payout_invalid",
        StatusCode::UNPROCESSABLE_ENTITY,
        "El archivo de pagos masivos tiene filas con errores; no se pagó ninguna.",
        "The bulk payout file has rows with errors; none was paid.",
    ),
    entry(
        ErrorCode::SettlementWindowOpen,
        "settlement_window_open",
        StatusCode::CONFLICT,
        "Esa ventana de liquidación aún no cerró.",
        "That settlement window has not closed yet.",
    ),
    entry(
        ErrorCode::OauthInvalidRequest,
        "oauth_invalid_request",
        StatusCode::BAD_REQUEST,
        "La petición de token está mal formada.",
        "The token request is malformed.",
    ),
    entry(
        ErrorCode::OauthInvalidClient,
        "oauth_invalid_client",
        StatusCode::UNAUTHORIZED,
        "Las credenciales del cliente no son válidas.",
        "The client's credentials are not valid.",
    ),
    entry(
        ErrorCode::OauthUnsupportedGrantType,
        "oauth_unsupported_grant_type",
        StatusCode::BAD_REQUEST,
        "Ese tipo de concesión no se admite; use client_credentials.",
        "That grant type is not supported; use client_credentials.",
    ),
    entry(
        ErrorCode::OauthInvalidScope,
        "oauth_invalid_scope",
        StatusCode::BAD_REQUEST,
        "Alguno de los alcances pedidos no existe.",
        "One of the scopes asked for does not exist.",
    ),
    entry(
        ErrorCode::InsufficientScope,
        "insufficient_scope",
        StatusCode::FORBIDDEN,
        "El token no tiene el alcance que esta operación pide.",
        "The token lacks the scope this operation needs.",
    ),
    entry(
        ErrorCode::PaymentBankRefused,
        "payment_bank_refused",
        StatusCode::UNPROCESSABLE_ENTITY,
        "El banco no confirmó la operación; no se movió dinero.",
        "The bank did not confirm the operation; no money moved.",
    ),
    entry(
        ErrorCode::BillerBillsInvalid,
        "biller_bills_invalid",
        StatusCode::UNPROCESSABLE_ENTITY,
        "El archivo de facturas tiene errores y no se guardó ninguna; corríjalo y envíelo de nuevo.",
        "The bills file has errors and none was saved; fix it and send it again.",
    ),
    entry(
        ErrorCode::UssdGatewayRejected,
        "ussd_gateway_rejected",
        StatusCode::FORBIDDEN,
        "Solo la pasarela USSD configurada puede usar esta dirección.",
        "Only the configured USSD gateway may use this address.",
    ),
    entry(
        ErrorCode::Internal,
        "internal",
        StatusCode::INTERNAL_SERVER_ERROR,
        "Ocurrió un error interno; no se aplicó nada.",
        "An internal error occurred; nothing was applied.",
    ),
];

impl ErrorCode {
    /// The stable machine name, as on the wire.
    pub fn name(self) -> &'static str {
        self.entry().name
    }

    /// The code with this machine name.
    /// The OAuth 2.0 error code (RFC 6749 §5.2) of the token endpoint's refusals, which their
    /// problem documents also carry as `error`.
    pub fn oauth_error(self) -> Option<&'static str> {
        match self {
            ErrorCode::OauthInvalidRequest => Some("invalid_request"),
            ErrorCode::OauthInvalidClient => Some("invalid_client"),
            ErrorCode::OauthUnsupportedGrantType => Some("unsupported_grant_type"),
            ErrorCode::OauthInvalidScope => Some("invalid_scope"),
            _ => None,
        }
    }

    pub fn from_name(name: &str) -> Option<ErrorCode> {
        ERROR_TABLE
            .iter()
            .find(|entry| entry.name == name)
            .map(|entry| entry.code)
    }

    pub fn entry(self) -> &'static ErrorEntry {
        ERROR_TABLE
            .iter()
            .find(|entry| entry.code == self)
            .expect("every error code has a row in ERROR_TABLE")
    }

    /// The code for a bare status that a layer (router, timeout, body limit) produced.
    pub fn for_status(status: StatusCode) -> ErrorCode {
        ERROR_TABLE
            .iter()
            .find(|entry| entry.status == status)
            .map_or_else(
                || {
                    if status.is_server_error() {
                        ErrorCode::Internal
                    } else {
                        ErrorCode::BadRequest
                    }
                },
                |entry| entry.code,
            )
    }
}

/// Members a problem document carries beyond the standard ones (RFC 9457 §3.2), such as the
/// merge a 409 of the wiki offers: put on the response as an extension beside its
/// [`ApiError`]. They never replace a standard member.
#[derive(Debug, Clone)]
pub struct ProblemMembers(pub serde_json::Map<String, serde_json::Value>);

/// Marks a page that answers with an error status and is itself the answer (a missing wiki
/// page offering to create it, an edit conflict with its merge): the error pages leave it.
#[derive(Debug, Clone, Copy)]
pub struct OwnErrorPage;

/// An error a handler returns. It becomes an RFC 9457 document (or an HTML page outside
/// `/api`) in [`crate::render_errors`], which knows the language and the request id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    pub code: ErrorCode,
    /// What exactly went wrong, for the person or program that sent the request.
    pub detail: Option<String>,
    /// The same in English, where a page in English should say more than the table's title
    /// (which limit and what is left of it). The API's documents carry `detail` only.
    pub detail_en: Option<String>,
}

impl ApiError {
    pub fn new(code: ErrorCode) -> ApiError {
        ApiError {
            code,
            detail: None,
            detail_en: None,
        }
    }

    pub fn with_detail(code: ErrorCode, detail: impl Into<String>) -> ApiError {
        ApiError {
            code,
            detail: Some(detail.into()),
            detail_en: None,
        }
    }

    /// Adds the English of `detail`.
    #[must_use]
    pub fn with_english(mut self, detail_en: impl Into<String>) -> ApiError {
        self.detail_en = Some(detail_en.into());
        self
    }
}

impl From<ErrorCode> for ApiError {
    fn from(code: ErrorCode) -> Self {
        ApiError::new(code)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut response = self.code.entry().status.into_response();
        response.extensions_mut().insert(self);
        response
    }
}

/// The answer to a storage failure: 404 for what does not exist, 503 when the database is
/// away, 500 (logged, detail withheld) for anything else.
pub fn store_error(error: &ceiba_store::StoreError) -> ApiError {
    use ceiba_store::ErrorKind;
    match error.kind() {
        ErrorKind::NotFound => ApiError::with_detail(ErrorCode::NotFound, error.to_string()),
        ErrorKind::Unavailable => {
            ApiError::with_detail(ErrorCode::DatabaseUnavailable, error.to_string())
        }
        ErrorKind::StorageFault => {
            tracing::error!(%error, "the storage refuses to write");
            ApiError::new(ErrorCode::StorageUnavailable)
        }
        _ => {
            tracing::error!(%error, "storage failed");
            ApiError::new(ErrorCode::Internal)
        }
    }
}

impl From<ceiba_store::StoreError> for ApiError {
    fn from(error: ceiba_store::StoreError) -> Self {
        store_error(&error)
    }
}

/// The RFC 9457 document, with Ceiba's extension members `code` and `request_id`.
#[derive(Debug, Serialize, ToSchema)]
pub struct Problem {
    /// A URI reference naming the kind of problem: `/api/problems#<code>`.
    #[serde(rename = "type")]
    pub type_uri: String,
    pub title: String,
    pub status: u16,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    /// The request path.
    pub instance: String,
    /// Stable machine code from the table at `/api/problems`.
    pub code: String,
    /// The `x-request-id` of the request, to quote when asking for help.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
    /// On the OAuth token endpoint's refusals: the RFC 6749 §5.2 code (`invalid_client` …).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// One row of the table as `/api/problems` lists it.
#[derive(Debug, Serialize, ToSchema)]
pub struct ProblemKind {
    pub code: &'static str,
    pub status: u16,
    pub title_es: &'static str,
    pub title_en: &'static str,
}

pub fn problem_kinds() -> Vec<ProblemKind> {
    ERROR_TABLE
        .iter()
        .map(|entry| ProblemKind {
            code: entry.name,
            status: entry.status.as_u16(),
            title_es: entry.title_es,
            title_en: entry.title_en,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_has_exactly_one_row_with_distinct_name() {
        let mut names: Vec<_> = ERROR_TABLE.iter().map(|entry| entry.name).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), ERROR_TABLE.len(), "duplicate code names");
        for entry in ERROR_TABLE {
            assert_eq!(entry.code.entry().name, entry.name);
            assert!(entry.status.is_client_error() || entry.status.is_server_error());
            assert!(entry.title_es.ends_with('.') && entry.title_en.ends_with('.'));
        }
    }

    #[test]
    fn bare_statuses_map_to_their_codes() {
        assert_eq!(
            ErrorCode::for_status(StatusCode::NOT_FOUND),
            ErrorCode::NotFound
        );
        assert_eq!(
            ErrorCode::for_status(StatusCode::PAYLOAD_TOO_LARGE),
            ErrorCode::PayloadTooLarge
        );
        assert_eq!(
            ErrorCode::for_status(StatusCode::IM_A_TEAPOT),
            ErrorCode::BadRequest
        );
        assert_eq!(
            ErrorCode::for_status(StatusCode::BAD_GATEWAY),
            ErrorCode::Internal
        );
    }
}
