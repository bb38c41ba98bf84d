//! Ceiba's HTTP edge: the JSON API, the HTML pages, errors as RFC 9457 problems, metrics and
//! the OpenAPI document. Architecture Invariant: this is the only crate that knows the wire
//! format; the crates below it know nothing of HTTP.

mod account_pages;
mod accounts;
mod api;
mod audit_api;
pub mod auth;
pub mod bank_accounts;
pub mod bills;
pub mod checkouts;
pub mod clock;
pub mod i18n;
mod json;
pub mod ledger_api;
pub mod merchant_api;
pub mod merchant_payments;
pub mod merchant_refunds;
pub mod merchants;
pub mod metrics;
mod openapi_shared;
mod pages;
mod payment_pages;
pub mod payment_requests;
pub mod payments;
pub mod payouts;
pub mod problem;
pub mod ratelimit;
pub mod salud;
pub mod salud_alerts;
pub mod salud_case_form;
pub mod salud_cases;
pub mod salud_charts;
pub mod salud_dashboard;
pub mod salud_followup;
pub mod salud_imports;
pub mod salud_models;
pub mod salud_persons;
pub mod salud_places;
pub mod salud_runs;
pub mod salud_scenarios;
pub mod settlement;
pub mod statements;
pub mod ussd;
pub mod webhooks;
pub mod wiki;
pub mod wiki_api;
pub mod wiki_pages;

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::extract::{DefaultBodyLimit, Extension, Request};
use axum::http::{HeaderName, HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use ceiba_store::Db;
use tower::ServiceBuilder;
use tower_http::compression::CompressionLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::{DefaultOnResponse, TraceLayer};
use tracing::Level;
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub use crate::metrics::Metrics;
use crate::problem::{ApiError, ErrorCode, Problem};

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    pub db: Db,
    pub metrics: Arc<Metrics>,
    /// The Ed25519 key that verifies the audit log's checkpoints.
    pub audit_public_key: [u8; 32],
    /// Argon2id for passwords (OWASP's parameters unless a test asks for cheaper ones).
    pub hasher: Arc<ceiba_identity::CredentialHasher>,
    pub session_policy: ceiba_identity::SessionPolicy,
    pub throttle_policy: ceiba_identity::ThrottlePolicy,
    pub clock: clock::Clock,
    /// Whether browsers reach this server over TLS (directly or through a proxy): cookies are
    /// then marked `Secure`.
    pub tls: bool,
    pub rate_limits: Arc<ratelimit::RateLimits>,
    /// Seals the secrets the server must read back (TOTP); its key lives outside the database.
    pub sealer: Arc<ceiba_identity::SecretSealer>,
    /// The ledger, when this server runs one (`ceiba serve` always does; some tests do not).
    pub ledger: Option<ceiba_store::LedgerEngine>,
    /// Pagos' limits, caps, fees and receipt key.
    pub payments: Arc<payments::PaymentSettings>,
    /// The USSD channel: the gateway's key (closed without one), session and PIN limits.
    pub ussd: Arc<ussd::UssdSettings>,
    /// Where payments to billers are confirmed (see `bills.rs`); the built-in billers unless a
    /// real connection is plugged in.
    pub biller_connector: Arc<dyn bills::BillerConnector>,
    /// Where deposits from and withdrawals to people's linked bank accounts are confirmed (see
    /// `bank_accounts.rs`); the simulated banks unless a real connection is plugged in.
    pub bank_connector: Arc<dyn bank_accounts::BankConnector>,
    /// Salud's dashboards' figures, held in memory and built again when the records change.
    pub salud: Arc<salud_dashboard::SaludCache>,
    /// Salud's model runs of this process (one at a time).
    pub model_runs: Arc<salud_runs::ModelRunner>,
    /// The Enciclopedia's full-text index: in memory unless [`AppState::with_wiki_index`]
    /// gives one kept on disk. Every saved edit is in it before the save answers.
    pub wiki_index: Arc<ceiba_search::ArticleIndex>,
}

impl std::fmt::Debug for AppState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppState")
            .field("db", &self.db)
            .finish_non_exhaustive()
    }
}

impl AppState {
    /// The state with the default policies and the system clock.
    pub fn new(
        db: Db,
        metrics: Arc<Metrics>,
        audit_public_key: [u8; 32],
        hasher: ceiba_identity::CredentialHasher,
        sealer: ceiba_identity::SecretSealer,
    ) -> AppState {
        AppState {
            db,
            metrics,
            audit_public_key,
            hasher: Arc::new(hasher),
            sealer: Arc::new(sealer),
            session_policy: ceiba_identity::SessionPolicy::default(),
            throttle_policy: ceiba_identity::ThrottlePolicy::default(),
            clock: clock::Clock::system(),
            tls: false,
            rate_limits: Arc::new(ratelimit::RateLimits::new(
                &ratelimit::RateLimitSettings::default(),
            )),
            ledger: None,
            payments: Arc::new(payments::PaymentSettings::standard(rand::random())),
            ussd: Arc::new(ussd::UssdSettings::closed(rand::random())),
            biller_connector: Arc::new(bills::BuiltInConnector::new()),
            bank_connector: Arc::new(bank_accounts::SimulatedBank::new()),
            salud: Arc::new(salud_dashboard::SaludCache::default()),
            model_runs: Arc::new(salud_runs::ModelRunner::default()),
            wiki_index: Arc::new(
                ceiba_search::ArticleIndex::in_memory()
                    .expect("an in-memory index needs only a writer thread"),
            ),
        }
    }

    /// The state with the Enciclopedia's search index kept elsewhere (`ceiba serve` opens it
    /// in the data folder with `ceiba_search::ArticleIndex::open`). Pages already stored are
    /// put in it by [`wiki::rebuild_index`].
    #[must_use]
    pub fn with_wiki_index(mut self, index: Arc<ceiba_search::ArticleIndex>) -> AppState {
        self.wiki_index = index;
        self
    }
}

/// The limits the server puts on every request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ServerLimits {
    pub body_bytes_max: usize,
    pub header_bytes_max: usize,
    pub request_timeout: Duration,
}

impl Default for ServerLimits {
    fn default() -> Self {
        ServerLimits {
            body_bytes_max: 1024 * 1024,
            header_bytes_max: 16 * 1024,
            request_timeout: Duration::from_secs(30),
        }
    }
}

pub const REQUEST_ID_HEADER: &str = "x-request-id";

/// The Content-Security-Policy of every response: nothing but our own styles and images, no
/// script at all, no framing, forms only to ourselves.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; style-src 'self'; img-src 'self'; \
     form-action 'self'; frame-ancestors 'none'; base-uri 'none'; report-uri /api/v1/csp-reports";

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Ceiba API",
        description = "API de Ceiba, plataforma de servicios digitales públicos. Los errores son \
            documentos RFC 9457 (application/problem+json) con un `code` estable; la tabla \
            completa está en /api/problems.",
        license(name = "AGPL-3.0-or-later", identifier = "AGPL-3.0-or-later")
    ),
    components(schemas(Problem)),
    modifiers(&BearerScheme)
)]
struct ApiDoc;

/// Declares the `bearer` security scheme the account routes refer to.
struct BearerScheme;

impl utoipa::Modify for BearerScheme {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

#[derive(Clone)]
struct OpenApiJson(Arc<str>);

/// This document: every JSON route Ceiba serves, in OpenAPI 3.1.
#[utoipa::path(get, path = "/api/openapi.json", tag = "operación",
    responses((status = 200, description = "El documento OpenAPI 3.1", body = Object)))]
async fn openapi_json(Extension(document): Extension<OpenApiJson>) -> Response {
    (
        [(header::CONTENT_TYPE, "application/json")],
        document.0.to_string(),
    )
        .into_response()
}

/// The routes and their OpenAPI document, built together so neither can miss a route.
fn api_routes() -> (Router<AppState>, utoipa::openapi::OpenApi) {
    let (router, mut document) = OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(api::healthz))
        .routes(routes!(api::readyz))
        .routes(routes!(api::metrics))
        .routes(routes!(api::problems))
        .merge(
            // Browsers send small reports: refuse a large body before reading it.
            OpenApiRouter::new()
                .routes(routes!(api::csp_report))
                .layer(DefaultBodyLimit::max(api::CSP_REPORT_BYTES_MAX)),
        )
        .routes(routes!(ledger_api::create_accounts))
        .routes(routes!(ledger_api::create_transfers))
        .routes(routes!(ledger_api::account))
        .routes(routes!(ledger_api::transfer))
        .routes(routes!(ledger_api::account_transfers))
        .routes(routes!(ledger_api::balances_at))
        .routes(routes!(ledger_api::pending_transfers))
        .routes(routes!(ledger_api::changes))
        .routes(routes!(statements::limits, statements::set_limits))
        .routes(routes!(statements::statement_csv))
        .routes(routes!(statements::verify_receipt))
        .routes(routes!(payments::wallet))
        .routes(routes!(payments::find_recipient))
        .routes(routes!(payments::send_to_person))
        .routes(routes!(payments::cash_in))
        .routes(routes!(payments::cash_out))
        .routes(routes!(payments::operation))
        .routes(routes!(payments::operations))
        .routes(routes!(bills::list_billers))
        .routes(routes!(bills::lookup_bill))
        .routes(routes!(bills::pay_bill_handler))
        .routes(routes!(bills::top_up_handler))
        .routes(routes!(
            bank_accounts::list_bank_accounts,
            bank_accounts::link_bank_account
        ))
        .routes(routes!(bank_accounts::unlink_bank_account))
        .routes(routes!(merchants::apply, merchants::mine))
        .routes(routes!(merchants::one))
        .routes(routes!(merchants::by_status))
        .routes(routes!(merchants::approve))
        .routes(routes!(merchants::reject))
        .routes(routes!(merchant_api::create_client, merchant_api::clients))
        .routes(routes!(merchant_api::revoke_client))
        .routes(routes!(merchant_api::token))
        .routes(routes!(webhooks::set_webhook))
        .routes(routes!(webhooks::deliveries))
        .routes(routes!(webhooks::replay))
        .routes(routes!(merchant_payments::create_qr_code))
        .routes(routes!(merchant_payments::qr_svg))
        .routes(routes!(merchant_payments::qr_png))
        .routes(routes!(settlement::settlement))
        .routes(routes!(settlement::settlement_csv))
        .routes(routes!(merchant_payments::payments))
        .routes(routes!(merchant_payments::reconciliation))
        .routes(routes!(merchant_payments::scan_code))
        .routes(routes!(merchant_payments::pay))
        .routes(routes!(payment_requests::create, payment_requests::list))
        .routes(routes!(payment_requests::accept))
        .routes(routes!(payment_requests::decline))
        .routes(routes!(merchant_refunds::refund))
        .routes(routes!(merchant_refunds::refunds))
        .routes(routes!(salud::geography))
        .routes(routes!(salud::area_series))
        .routes(routes!(salud::area_series_csv))
        .routes(routes!(salud::national_series))
        .routes(routes!(salud::national_series_csv))
        .routes(routes!(salud::group_series))
        .routes(routes!(salud::group_series_csv))
        .routes(routes!(salud_models::models))
        .routes(routes!(salud_runs::start, salud_runs::list))
        .routes(routes!(salud_runs::show, salud_runs::cancel))
        .routes(routes!(salud::area_profile))
        .routes(routes!(salud::area_profile_csv))
        .routes(routes!(salud_cases::list_cases))
        .routes(routes!(salud_cases::get_case))
        .routes(routes!(salud_cases::admin_set_staff_provinces))
        .routes(routes!(salud_imports::import))
        .routes(routes!(salud_persons::record_person))
        .routes(routes!(salud_persons::duplicates))
        .routes(routes!(salud_persons::get_person))
        .routes(routes!(salud_persons::merge))
        .routes(routes!(
            salud_followup::add_lab_test,
            salud_followup::lab_tests
        ))
        .routes(routes!(
            salud_followup::add_contact,
            salud_followup::case_contacts
        ))
        .routes(routes!(salud_followup::update_contact))
        .routes(routes!(salud_places::open_centres))
        .routes(routes!(salud_places::report_centre))
        .routes(routes!(salud_places::open_event))
        .routes(routes!(salud_places::link_cases))
        .routes(routes!(salud_places::get_event))
        .routes(routes!(checkouts::create, checkouts::list))
        .routes(routes!(checkouts::get))
        .routes(routes!(checkouts::cancel))
        .routes(routes!(checkouts::create_link, checkouts::links))
        .routes(routes!(checkouts::deactivate_link))
        .merge(
            // A payout file may have 100,000 rows.
            OpenApiRouter::new()
                .routes(routes!(payouts::upload, payouts::mine))
                .layer(DefaultBodyLimit::max(payouts::FILE_BYTES_MAX)),
        )
        .routes(routes!(payouts::one))
        .routes(routes!(payouts::start))
        .routes(routes!(payouts::result))
        .routes(routes!(bank_accounts::deposit))
        .routes(routes!(bank_accounts::withdraw))
        .routes(routes!(bills::upload_bills))
        .routes(routes!(bills::biller_payments))
        .routes(routes!(bills::reconciliation))
        .routes(routes!(bills::set_biller_operator))
        .merge(
            // A gateway's request is a few short fields.
            OpenApiRouter::new()
                .routes(routes!(ussd::ussd))
                .layer(DefaultBodyLimit::max(ussd::BODY_BYTES_MAX)),
        )
        .routes(routes!(accounts::register))
        .routes(routes!(accounts::confirm))
        .routes(routes!(accounts::sign_in))
        .routes(routes!(accounts::sign_out))
        .routes(routes!(accounts::me))
        .routes(routes!(accounts::my_sessions))
        .routes(routes!(accounts::revoke_my_session))
        .routes(routes!(accounts::begin_second_factor))
        .routes(routes!(accounts::confirm_second_factor))
        .routes(routes!(accounts::change_password))
        .routes(routes!(accounts::set_national_id))
        .routes(routes!(accounts::set_pin))
        .routes(routes!(accounts::begin_phone_change))
        .routes(routes!(accounts::confirm_phone_change))
        .routes(routes!(accounts::admin_user))
        .routes(routes!(accounts::admin_set_roles))
        .routes(routes!(accounts::admin_disable_user))
        .routes(routes!(audit_api::latest_checkpoint))
        .routes(routes!(audit_api::inclusion_proof))
        .routes(routes!(audit_api::consistency_proof))
        .merge(
            // A page's text may be 2 MiB, JSON-escaped.
            OpenApiRouter::new()
                .routes(routes!(wiki_api::get_page, wiki_api::put_page))
                .layer(DefaultBodyLimit::max(wiki::BODY_BYTES_MAX)),
        )
        .routes(routes!(wiki_api::history))
        .routes(routes!(wiki_api::search))
        .routes(routes!(wiki_api::suggest))
        .routes(routes!(wiki_api::filters))
        .routes(routes!(wiki_api::set_filter))
        .routes(routes!(openapi_json))
        .split_for_parts();
    openapi_shared::document_shared_answers(&mut document);
    (router, document)
}

/// The OpenAPI document, as `/api/openapi.json` serves it.
pub fn openapi_document() -> utoipa::openapi::OpenApi {
    api_routes().1
}

/// The Enciclopedia's pages: forms as large as a page's text, their `_csrf` read before the
/// handler like the account pages'.
fn wiki_pages_router() -> Router<AppState> {
    Router::new()
        .route(wiki_pages::WIKI_PATH, get(wiki_pages::main_page))
        .route(
            wiki_pages::WIKI_PAGE_PATH,
            get(wiki_pages::show).post(wiki_pages::act),
        )
        .route_layer(middleware::from_fn(|request: Request, next: Next| {
            auth::read_form_csrf_up_to(wiki::BODY_BYTES_MAX, request, next)
        }))
        .route_layer(DefaultBodyLimit::max(wiki::BODY_BYTES_MAX))
}

/// The whole application: routes, pages and every layer.
pub fn router(state: AppState, limits: ServerLimits) -> Router {
    let (api, document) = api_routes();
    let document_json: Arc<str> = document
        .to_json()
        .expect("the OpenAPI document serializes")
        .into();
    // The account pages are never stored by a browser or proxy, and a form's `_csrf` field is
    // read before the handler so that `auth::Authenticated` can check it (see auth.rs).
    let account_pages = Router::new()
        .route(
            salud_case_form::FORM_PATH,
            get(salud_case_form::form).post(salud_case_form::save),
        )
        .route(
            account_pages::SIGN_UP_PATH,
            get(account_pages::sign_up_form).post(account_pages::sign_up),
        )
        .route(
            account_pages::CONFIRM_PATH,
            get(account_pages::confirm_form).post(account_pages::confirm),
        )
        .route(
            account_pages::SIGN_IN_PATH,
            get(account_pages::sign_in_form).post(account_pages::sign_in),
        )
        .route(account_pages::ACCOUNT_PATH, get(account_pages::account))
        .route(
            account_pages::REVOKE_PATH,
            post(account_pages::revoke_session),
        )
        .route(account_pages::SIGN_OUT_PATH, post(account_pages::sign_out))
        // Pagos for people: the same session cookie, `_csrf` and no-store as the account pages.
        .route(payment_pages::PAGOS_PATH, get(payment_pages::home))
        .route(
            payment_pages::SEND_PATH,
            get(payment_pages::send_form).post(payment_pages::send_check),
        )
        .route(payment_pages::SEND_CONFIRM_PATH, post(payment_pages::send))
        .route(payment_pages::BILLS_PATH, get(payment_pages::bills_form))
        .route(payment_pages::BILL_PAY_PATH, post(payment_pages::pay_bill))
        .route(
            payment_pages::TOP_UP_PATH,
            get(payment_pages::top_up_form).post(payment_pages::top_up),
        )
        .route(
            payment_pages::requests::REQUESTS_PATH,
            get(payment_pages::requests::requests),
        )
        .route(
            payment_pages::requests::PAY_PATH,
            post(payment_pages::requests::pay),
        )
        .route(
            payment_pages::requests::DECLINE_PATH,
            post(payment_pages::requests::decline),
        )
        .route(
            payment_pages::settlement::SETTLEMENT_PATH,
            get(payment_pages::settlement::settlement),
        )
        .route(
            payment_pages::merchant::MERCHANT_PATH,
            get(payment_pages::merchant::merchant),
        )
        .route(
            payment_pages::merchant::CHARGE_PATH,
            post(payment_pages::merchant::charge),
        )
        .route(
            payment_pages::merchant::REFUND_PATH,
            post(payment_pages::merchant::refund),
        )
        .route(
            payment_pages::merchant::QR_PATH,
            get(payment_pages::merchant::qr_form).post(payment_pages::merchant::qr_check),
        )
        .route(
            payment_pages::merchant::QR_CONFIRM_PATH,
            post(payment_pages::merchant::qr_pay),
        )
        .route(
            payment_pages::merchant_admin::APPLY_PATH,
            get(payment_pages::merchant_admin::apply_form)
                .post(payment_pages::merchant_admin::apply),
        )
        .route(
            payment_pages::merchant_admin::SHOP_PATH,
            get(payment_pages::merchant_admin::shop).post(payment_pages::merchant_admin::shop_post),
        )
        .route(
            payment_pages::merchant_admin::ADMIN_PATH,
            get(payment_pages::merchant_admin::admin),
        )
        .route(
            payment_pages::merchant_admin::ADMIN_DECIDE_PATH,
            post(payment_pages::merchant_admin::admin_decide),
        )
        .route(
            payment_pages::payouts::PAYOUTS_PATH,
            get(payment_pages::payouts::payouts)
                .post(payment_pages::payouts::upload)
                .layer(DefaultBodyLimit::max(payouts::FILE_BYTES_MAX)),
        )
        .route(
            payment_pages::payouts::PAYOUT_START_PATH,
            post(payment_pages::payouts::start),
        )
        .route(
            payment_pages::checkout::CHECKOUT_PATH,
            get(payment_pages::checkout::checkout),
        )
        .route(
            payment_pages::checkout::CHECKOUT_PAY_PATH,
            post(payment_pages::checkout::pay),
        )
        .route(
            payment_pages::checkout::CHECKOUT_CANCEL_PATH,
            post(payment_pages::checkout::cancel),
        )
        .route(
            payment_pages::checkout::CHECKOUT_QR_PATH,
            get(payment_pages::checkout::qr_image),
        )
        .route(
            payment_pages::checkout::LINK_PATH,
            get(payment_pages::checkout::link).post(payment_pages::checkout::use_link),
        )
        .route(
            payment_pages::bank_accounts::ACCOUNTS_PATH,
            get(payment_pages::bank_accounts::accounts).post(payment_pages::bank_accounts::link),
        )
        .route(
            payment_pages::bank_accounts::UNLINK_PATH,
            post(payment_pages::bank_accounts::unlink),
        )
        .route(
            payment_pages::bank_accounts::MOVE_PATH,
            post(payment_pages::bank_accounts::move_money),
        )
        .route(payment_pages::STATEMENT_PATH, get(payment_pages::statement))
        .route(payment_pages::RECEIPT_PATH, get(payment_pages::receipt))
        .route_layer(middleware::from_fn(auth::read_form_csrf))
        .route_layer(SetResponseHeaderLayer::overriding(
            header::CACHE_CONTROL,
            HeaderValue::from_static("no-store"),
        ));
    let pages = Router::new()
        .route("/", get(pages::home))
        .route(pages::STYLESHEET_PATH.as_str(), get(pages::stylesheet))
        .route(salud_dashboard::NATION_PATH, get(salud_dashboard::nation))
        .route(salud_models::MODELS_PATH, get(salud_models::page))
        .route(
            &format!("{}/{{id}}", salud_runs::SCENARIOS_PATH),
            get(salud_runs::scenarios_page),
        )
        .route(
            salud_dashboard::PROVINCE_PATH,
            get(salud_dashboard::province),
        )
        .route(
            salud_dashboard::MUNICIPALITY_PATH,
            get(salud_dashboard::municipality),
        )
        .route(salud_cases::CASES_PAGE_PATH, get(salud_cases::cases_page))
        .route(salud::DOWNLOADS_PATH, get(salud::downloads))
        .route(
            salud_followup::CONTACTS_PAGE_PATH,
            get(salud_followup::follow_up_page),
        )
        .merge(account_pages)
        .merge(wiki_pages_router());

    let security_headers = ServiceBuilder::new()
        .layer(SetResponseHeaderLayer::if_not_present(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(CONTENT_SECURITY_POLICY),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::REFERRER_POLICY,
            HeaderValue::from_static("no-referrer"),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::X_FRAME_OPTIONS,
            HeaderValue::from_static("DENY"),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            HeaderName::from_static("cross-origin-opener-policy"),
            HeaderValue::from_static("same-origin"),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            HeaderName::from_static("permissions-policy"),
            HeaderValue::from_static("camera=(), microphone=(), geolocation=()"),
        ));

    let request_id = HeaderName::from_static(REQUEST_ID_HEADER);
    let metrics = state.metrics.clone();
    let header_bytes_max = limits.header_bytes_max;
    let body_bytes_max = limits.body_bytes_max;

    // Listed innermost first; each `layer` wraps all before it. So a request gets its id, is
    // traced, and every answer, errors included, carries the id and the security headers, is
    // counted and rendered from the error table.
    api.merge(pages)
        .layer(Extension(OpenApiJson(document_json)))
        .with_state(state.clone())
        .layer(DefaultBodyLimit::max(limits.body_bytes_max))
        .layer(middleware::from_fn(move |request: Request, next: Next| {
            limit_body(body_bytes_max, request, next)
        }))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            limits.request_timeout,
        ))
        .layer(middleware::from_fn(move |request: Request, next: Next| {
            limit_header_bytes(header_bytes_max, request, next)
        }))
        .layer(middleware::from_fn_with_state(state, ratelimit::limit))
        .layer(middleware::from_fn(render_errors))
        .layer(middleware::from_fn_with_state(metrics, metrics::track))
        .layer(CompressionLayer::new())
        .layer(security_headers)
        .layer(PropagateRequestIdLayer::new(request_id.clone()))
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(|request: &Request<Body>| {
                    let id = request
                        .headers()
                        .get(REQUEST_ID_HEADER)
                        .and_then(|value| value.to_str().ok())
                        .unwrap_or("");
                    tracing::info_span!("http", method = %request.method(),
                        path = %request.uri().path(), request_id = %id)
                })
                .on_response(DefaultOnResponse::new().level(Level::INFO)),
        )
        .layer(SetRequestIdLayer::new(request_id, MakeRequestUuid))
}

/// Serves plain HTTP until `shutdown` completes, then stops taking connections and lets the
/// requests in flight finish, waiting at most `limits.request_timeout` and a little more.
///
/// The accept loop is ours rather than `axum::serve` because it must put a deadline on reading
/// request headers: a client that opens a connection and never finishes its headers would
/// otherwise hold the connection, and a graceful shutdown, forever.
pub async fn serve(
    listener: tokio::net::TcpListener,
    app: Router,
    limits: ServerLimits,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    serve_with(listener, app, limits, None, shutdown).await
}

/// Like [`serve`], over TLS (rustls: TLS 1.2 and 1.3 only).
pub async fn serve_tls(
    listener: tokio::net::TcpListener,
    app: Router,
    limits: ServerLimits,
    tls: Arc<rustls::ServerConfig>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let acceptor = tokio_rustls::TlsAcceptor::from(tls);
    serve_with(listener, app, limits, Some(acceptor), shutdown).await
}

async fn serve_with(
    listener: tokio::net::TcpListener,
    app: Router,
    limits: ServerLimits,
    tls: Option<tokio_rustls::TlsAcceptor>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    let mut http1 = hyper::server::conn::http1::Builder::new();
    http1
        .timer(hyper_util::rt::TokioTimer::new())
        .header_read_timeout(limits.request_timeout);
    tokio::pin!(shutdown);
    loop {
        let stream = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _peer)) => stream,
                Err(error) => {
                    // Out of file descriptors and the like: wait rather than spin.
                    tracing::warn!(%error, "could not accept a connection");
                    tokio::time::sleep(ACCEPT_RETRY_DELAY).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let peer = stream.peer_addr().map(|address| address.ip()).ok();
        let with_peer = tower::ServiceExt::map_request(
            app.clone(),
            move |mut request: axum::http::Request<hyper::body::Incoming>| {
                if let Some(peer) = peer {
                    request.extensions_mut().insert(ratelimit::PeerAddr(peer));
                }
                request
            },
        );
        let service = hyper_util::service::TowerToHyperService::new(with_peer);
        let watcher = graceful.watcher();
        let http1 = http1.clone();
        let tls = tls.clone();
        let handshake_timeout = limits.request_timeout;
        tokio::spawn(async move {
            let outcome = match tls {
                None => {
                    let io = hyper_util::rt::TokioIo::new(stream);
                    watcher.watch(http1.serve_connection(io, service)).await
                }
                Some(acceptor) => {
                    // The handshake gets the same deadline as headers, for the same reason.
                    match tokio::time::timeout(handshake_timeout, acceptor.accept(stream)).await {
                        Ok(Ok(stream)) => {
                            let io = hyper_util::rt::TokioIo::new(stream);
                            watcher.watch(http1.serve_connection(io, service)).await
                        }
                        Ok(Err(error)) => {
                            tracing::debug!(%error, "TLS handshake refused");
                            return;
                        }
                        Err(_elapsed) => return,
                    }
                }
            };
            if let Err(error) = outcome {
                tracing::debug!(%error, "connection ended with an error");
            }
        });
    }
    drop(listener);
    let grace = limits.request_timeout + SHUTDOWN_GRACE_EXTRA;
    tokio::select! {
        () = graceful.shutdown() => {}
        () = tokio::time::sleep(grace) => {
            tracing::warn!(grace_s = grace.as_secs(), "connections still open after the grace period were dropped");
        }
    }
    Ok(())
}

const ACCEPT_RETRY_DELAY: Duration = Duration::from_millis(50);
/// Beyond the request timeout, time for a response that was ready to be written out.
const SHUTDOWN_GRACE_EXTRA: Duration = Duration::from_secs(2);

/// Caps a request's body at `bytes_max` (payout files, on the API and the page, at
/// [`payouts::FILE_BYTES_MAX`]; line lists at [`salud_imports::FILE_BYTES_MAX`]): a
/// declared length over the cap is refused at once, any other body is cut where it passes it
/// (its reader then answers 413).
async fn limit_body(bytes_max: usize, request: Request, next: Next) -> Response {
    let path = request.uri().path();
    let bytes_max = if path == payouts::UPLOAD_PATH || path == payment_pages::payouts::PAYOUTS_PATH
    {
        payouts::FILE_BYTES_MAX
    } else if path == salud_imports::IMPORTS_PATH {
        salud_imports::FILE_BYTES_MAX
    } else if path.starts_with("/wiki/") || path.starts_with(wiki_api::PAGES_PATH_PREFIX) {
        wiki::BODY_BYTES_MAX
    } else {
        bytes_max
    };
    let declared = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.parse::<usize>().ok());
    if declared.is_some_and(|length| length > bytes_max) {
        return ApiError::new(ErrorCode::PayloadTooLarge).into_response();
    }
    let (parts, body) = request.into_parts();
    let body = Body::new(http_body_util::Limited::new(body, bytes_max));
    next.run(Request::from_parts(parts, body)).await
}

/// Refuses a request whose headers, all together, pass the limit.
async fn limit_header_bytes(bytes_max: usize, request: Request, next: Next) -> Response {
    let bytes: usize = request
        .headers()
        .iter()
        .map(|(name, value)| name.as_str().len() + value.len() + 4)
        .sum();
    if bytes > bytes_max {
        return ApiError::with_detail(
            ErrorCode::HeadersTooLarge,
            format!("las cabeceras suman {bytes} bytes; el límite es {bytes_max}"),
        )
        .into_response();
    }
    next.run(request).await
}

/// Whether a path answers in JSON (errors as problem+json) rather than with HTML pages.
fn is_machine_path(path: &str) -> bool {
    path == "/api"
        || path.starts_with("/api/")
        || path == ussd::USSD_PATH
        || matches!(path, "/healthz" | "/readyz" | "/metrics")
}

/// Turns every error answer into the one shape the table gives it: an RFC 9457 problem on
/// machine paths, a page in the reader's language elsewhere. It takes both the errors
/// handlers return ([`ApiError`]) and the bare statuses that layers and the router produce
/// (404, 405, 408, 413 …), so no error leaves without its code, message and request id.
async fn render_errors(request: Request, next: Next) -> Response {
    let path = request.uri().path().to_owned();
    let query_lang = request.uri().query().and_then(|query| {
        query
            .split('&')
            .find_map(|pair| pair.strip_prefix("lang="))
            .map(str::to_owned)
    });
    let lang = pages::page_lang(query_lang.as_deref(), request.headers());
    let request_id = request
        .headers()
        .get(REQUEST_ID_HEADER)
        .and_then(|value| value.to_str().ok())
        .map(str::to_owned);

    let response = next.run(request).await;
    let status = response.status();
    let members = response
        .extensions()
        .get::<problem::ProblemMembers>()
        .cloned();
    let error = match response.extensions().get::<ApiError>() {
        Some(error) => error.clone(),
        None if response
            .extensions()
            .get::<problem::OwnErrorPage>()
            .is_some() =>
        {
            return response;
        }
        None if status.is_client_error() || status.is_server_error() => {
            ApiError::new(ErrorCode::for_status(status))
        }
        None => return response,
    };
    if error.code.entry().status.is_server_error() {
        tracing::error!(code = error.code.entry().name, detail = ?error.detail, "answered with a server error");
    }
    let (parts, _body) = response.into_parts();
    let mut rendered = if is_machine_path(&path) {
        let entry = error.code.entry();
        let problem = Problem {
            type_uri: format!("/api/problems#{}", entry.name),
            title: match lang {
                i18n::Lang::Es => entry.title_es,
                i18n::Lang::En => entry.title_en,
            }
            .to_owned(),
            status: entry.status.as_u16(),
            detail: error.detail.clone(),
            instance: path,
            code: entry.name.to_owned(),
            request_id: request_id.clone(),
            error: error.code.oauth_error().map(str::to_owned),
        };
        let mut document = serde_json::to_value(&problem).unwrap_or_default();
        if let (Some(members), Some(object)) = (members, document.as_object_mut()) {
            for (name, value) in members.0 {
                object.entry(name).or_insert(value);
            }
        }
        let mut response = (entry.status, Json(document)).into_response();
        response.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        response.headers_mut().insert(
            header::CONTENT_LANGUAGE,
            HeaderValue::from_static(lang.code()),
        );
        response.headers_mut().insert(
            header::VARY,
            HeaderValue::from_static("Accept-Language, Cookie"),
        );
        response
    } else {
        pages::error_page(&error, lang, request_id.as_deref())
    };
    // Keep what the original answer said beside its body (Allow on a 405, for one).
    for (name, value) in &parts.headers {
        if name != header::CONTENT_TYPE
            && name != header::CONTENT_LENGTH
            && name != header::CONTENT_LANGUAGE
            && name != header::VARY
        {
            rendered.headers_mut().append(name, value.clone());
        }
    }
    rendered
}
