//! The business side in the browser, beyond charging (`merchant.rs`):
//!
//! - `/comercio/solicitud`: a person applies for a business (name, NIT, MCC, city, settlement
//!   account), as `POST /api/v1/merchants` does;
//! - `/comercio/tienda?comercio=…`: an approved merchant's online shop — the OAuth clients of
//!   its server (a new client's secret is shown on the answer to the form that made it, once),
//!   its webhook (a new signing key, shown once), the latest deliveries with a button that sends
//!   one again, and its payment links;
//! - `/admin/comercios`: administrators (with a second factor) approve or reject applications.
//!
//! The shop page's forms all post to `/comercio/tienda` with an `accion`. Every form calls the
//! service the API calls; secrets are never put in an address.

use askama::Template;
use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::response::Response;
use ceiba_store::{MerchantDecision, MerchantRow, MerchantStatus};
use serde::Deserialize;

use super::{error_sentence, frame, is_refusal, local_time};
use crate::AppState;
use crate::account_pages::{PageForm, page, see_other, signed_in};
use crate::auth::{Administrator, Authenticated, Authorized};
use crate::i18n::Lang;
use crate::merchants::{MerchantApplicationBody, SettlementBody, apply_for_merchant, decide};
use crate::pages::{Frame, page_lang};
use crate::problem::{ApiError, ErrorCode};

pub const APPLY_PATH: &str = "/comercio/solicitud";
pub const SHOP_PATH: &str = "/comercio/tienda";
pub const ADMIN_PATH: &str = "/admin/comercios";
pub const ADMIN_DECIDE_PATH: &str = "/admin/comercios/decidir";
/// Deliveries shown.
const DELIVERIES_SHOWN: usize = 10;

/// The words of these pages in one language.
pub(crate) struct Words {
    apply_title: &'static str,
    apply_intro: &'static str,
    name_label: &'static str,
    nit_label: &'static str,
    category_label: &'static str,
    category_hint: &'static str,
    city_label: &'static str,
    bank_label: &'static str,
    currency_label: &'static str,
    account_label: &'static str,
    apply_button: &'static str,
    shop_title: &'static str,
    shop_intro: &'static str,
    clients_heading: &'static str,
    client_name_label: &'static str,
    client_button: &'static str,
    revoke_button: &'static str,
    secret_once: &'static str,
    no_clients: &'static str,
    webhook_heading: &'static str,
    webhook_label: &'static str,
    webhook_button: &'static str,
    webhook_none: &'static str,
    deliveries_heading: &'static str,
    replay_button: &'static str,
    delivered: &'static str,
    waiting: &'static str,
    gave_up: &'static str,
    links_heading: &'static str,
    link_description_label: &'static str,
    link_amount_label: &'static str,
    link_amount_hint: &'static str,
    link_button: &'static str,
    admin_title: &'static str,
    admin_none: &'static str,
    approve_button: &'static str,
    reject_button: &'static str,
    reason_label: &'static str,
    back_link: &'static str,
}

const SPANISH: Words = Words {
    apply_title: "Solicitar un comercio",
    apply_intro: "Para cobrar con Ceiba: un administrador revisa la solicitud (NIT, actividad, \
                  cuenta de liquidación) antes de que pueda cobrar.",
    name_label: "Nombre del negocio",
    nit_label: "NIT (11 cifras)",
    category_label: "Actividad (código MCC, 4 cifras)",
    category_hint: "Por ejemplo 5812 restaurantes, 5411 tiendas de alimentos, 5814 cafeterías.",
    city_label: "Ciudad",
    bank_label: "Banco de la cuenta de liquidación",
    currency_label: "Moneda",
    account_label: "Número de cuenta (16 cifras)",
    apply_button: "Enviar la solicitud",
    shop_title: "Tienda en línea",
    shop_intro: "Lo que el servidor de su tienda necesita para cobrar con Ceiba: credenciales \
                 OAuth, el webhook que le avisa de cada cambio y sus enlaces de pago.",
    clients_heading: "Clientes OAuth de su servidor",
    client_name_label: "Nombre del cliente",
    client_button: "Registrar un cliente",
    revoke_button: "Revocar",
    secret_once: "Guárdelo ahora: no se vuelve a mostrar.",
    no_clients: "Aún no tiene clientes.",
    webhook_heading: "Webhook",
    webhook_label: "Dirección (https://…)",
    webhook_button: "Guardar y generar una clave de firma",
    webhook_none: "Sin webhook.",
    deliveries_heading: "Últimas entregas",
    replay_button: "Reenviar",
    delivered: "entregada",
    waiting: "pendiente",
    gave_up: "abandonada",
    links_heading: "Enlaces de pago",
    link_description_label: "Concepto",
    link_amount_label: "Importe (CUP)",
    link_amount_hint: "Vacío: quien paga escribe el importe.",
    link_button: "Crear el enlace",
    admin_title: "Solicitudes de comercios",
    admin_none: "No hay solicitudes pendientes.",
    approve_button: "Aprobar",
    reject_button: "Rechazar",
    reason_label: "Motivo del rechazo",
    back_link: "Volver a Comercio",
};

const ENGLISH: Words = Words {
    apply_title: "Apply for a merchant",
    apply_intro: "To take payments with Ceiba: an administrator reviews the application (tax \
                  id, activity, settlement account) before you can charge.",
    name_label: "Business name",
    nit_label: "Tax id (NIT, 11 digits)",
    category_label: "Activity (MCC, 4 digits)",
    category_hint: "For example 5812 restaurants, 5411 grocery stores, 5814 cafés.",
    city_label: "City",
    bank_label: "Bank of the settlement account",
    currency_label: "Currency",
    account_label: "Account number (16 digits)",
    apply_button: "Send the application",
    shop_title: "Online shop",
    shop_intro: "What your shop's server needs to take payments with Ceiba: OAuth credentials, \
                 the webhook that tells it of every change, and its payment links.",
    clients_heading: "OAuth clients of your server",
    client_name_label: "Client name",
    client_button: "Register a client",
    revoke_button: "Revoke",
    secret_once: "Keep it now: it is not shown again.",
    no_clients: "No clients yet.",
    webhook_heading: "Webhook",
    webhook_label: "Address (https://…)",
    webhook_button: "Save and make a signing key",
    webhook_none: "No webhook.",
    deliveries_heading: "Latest deliveries",
    replay_button: "Send again",
    delivered: "delivered",
    waiting: "pending",
    gave_up: "given up",
    links_heading: "Payment links",
    link_description_label: "For",
    link_amount_label: "Amount (CUP)",
    link_amount_hint: "Empty: the payer types the amount.",
    link_button: "Make the link",
    admin_title: "Merchant applications",
    admin_none: "No applications are waiting.",
    approve_button: "Approve",
    reject_button: "Reject",
    reason_label: "Why it is rejected",
    back_link: "Back to Merchant",
};

fn words(lang: Lang) -> &'static Words {
    match lang {
        Lang::Es => &SPANISH,
        Lang::En => &ENGLISH,
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct LangQuery {
    lang: Option<String>,
    comercio: String,
}

fn langs(query: &LangQuery, headers: &HeaderMap) -> (Lang, Option<Lang>) {
    (
        page_lang(query.lang.as_deref(), headers),
        query.lang.as_deref().and_then(Lang::parse),
    )
}

// ---------------------------------------------------------------------------------------------
// Applying
// ---------------------------------------------------------------------------------------------

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct ApplyForm {
    nombre: String,
    nit: String,
    mcc: String,
    ciudad: String,
    banco: String,
    moneda: String,
    cuenta: String,
}

#[derive(Template)]
#[template(path = "comercio_solicitud.html")]
struct ApplyPage<'a> {
    frame: Frame,
    w: &'static Words,
    csrf: &'a str,
    error: Option<String>,
    form: &'a ApplyForm,
}

fn apply_page(
    lang: Lang,
    chosen: Option<Lang>,
    csrf: &str,
    form: &ApplyForm,
    error: Option<String>,
) -> Response {
    let body = ApplyPage {
        frame: frame(lang),
        w: words(lang),
        csrf,
        error,
        form,
    }
    .render();
    page(lang, body, None, chosen)
}

pub async fn apply_form(
    State(state): State<AppState>,
    Query(query): Query<LangQuery>,
    headers: HeaderMap,
    who: Result<Authenticated, ApiError>,
) -> Result<Response, ApiError> {
    let who = signed_in_or_return!(state, headers, who);
    let (lang, chosen) = langs(&query, &headers);
    let form = ApplyForm {
        moneda: "CUP".to_owned(),
        ..ApplyForm::default()
    };
    Ok(apply_page(
        lang,
        chosen,
        who.csrf_token().expose(),
        &form,
        None,
    ))
}

pub async fn apply(
    State(state): State<AppState>,
    headers: HeaderMap,
    who: Result<Authenticated, ApiError>,
    PageForm(form): PageForm<ApplyForm>,
) -> Result<Response, ApiError> {
    let who = signed_in_or_return!(state, headers, who);
    let lang = page_lang(None, &headers);
    let body = MerchantApplicationBody {
        business_name: form.nombre.clone(),
        nit: form.nit.clone(),
        category_code: form.mcc.clone(),
        city: form.ciudad.clone(),
        settlement: SettlementBody {
            bank: form.banco.clone(),
            currency: form.moneda.clone(),
            account_number: form.cuenta.clone(),
        },
    };
    match apply_for_merchant(&state, &who.user, &body).await {
        Ok(_) => Ok(see_other(super::merchant::MERCHANT_PATH, None)),
        Err(error) if is_refusal(&error) => {
            let sentence = error_sentence(&error, lang);
            Ok(apply_page(
                lang,
                None,
                who.csrf_token().expose(),
                &form,
                Some(sentence),
            ))
        }
        Err(error) => Err(error),
    }
}

// ---------------------------------------------------------------------------------------------
// The online shop's settings
// ---------------------------------------------------------------------------------------------

#[derive(Debug)]
struct ClientLine {
    id: String,
    name: String,
    created: String,
}

#[derive(Debug)]
struct DeliveryLine {
    id: String,
    event: String,
    when: String,
    state: &'static str,
    attempts: u64,
    last: String,
}

#[derive(Debug)]
struct LinkLine {
    url: String,
    description: String,
    amount: String,
}

#[derive(Template)]
#[template(path = "comercio_tienda.html")]
struct ShopPage<'a> {
    frame: Frame,
    w: &'static Words,
    csrf: &'a str,
    error: Option<String>,
    merchant_id: &'a str,
    merchant_name: &'a str,
    /// A secret just made, with what it is: shown on this answer only.
    secret: Option<(String, String)>,
    clients: Vec<ClientLine>,
    webhook: Option<String>,
    deliveries: Vec<DeliveryLine>,
    links: Vec<LinkLine>,
}

/// One of the caller's approved merchants, or 404.
async fn owned_approved(
    state: &AppState,
    who: &Authenticated,
    id: &str,
) -> Result<MerchantRow, ApiError> {
    let merchant = crate::merchant_payments::owned_merchant(state, &who.user, id).await?;
    if merchant.status != MerchantStatus::Approved {
        return Err(ApiError::new(ErrorCode::MerchantNotApproved));
    }
    Ok(merchant)
}

async fn shop_page(
    state: &AppState,
    who: &Authenticated,
    lang: Lang,
    chosen: Option<Lang>,
    merchant: &MerchantRow,
    secret: Option<(String, String)>,
    error: Option<String>,
) -> Result<Response, ApiError> {
    let w = words(lang);
    let clients = state
        .db
        .merchant_clients(&merchant.id)
        .await?
        .into_iter()
        .filter(|client| client.revoked_at_ms.is_none())
        .map(|client| ClientLine {
            created: local_time(state, client.created_at_ms),
            id: client.client_id,
            name: client.name,
        })
        .collect();
    let deliveries = state
        .db
        .webhook_deliveries_of(&merchant.id, ceiba_store::WEBHOOK_LOG_PAGE_MAX)
        .await?
        .into_iter()
        .take(DELIVERIES_SHOWN)
        .map(|delivery| DeliveryLine {
            state: if delivery.delivered_at_ms.is_some() {
                w.delivered
            } else if delivery.gave_up_at_ms.is_some() {
                w.gave_up
            } else {
                w.waiting
            },
            when: local_time(state, delivery.created_at_ms),
            attempts: delivery.attempts,
            last: delivery
                .last_status
                .map(|status| status.to_string())
                .or(delivery.last_error)
                .unwrap_or_default(),
            event: delivery.event_type,
            id: delivery.id,
        })
        .collect();
    let links = state
        .db
        .payment_links_of(&merchant.id)
        .await?
        .into_iter()
        .filter(|link| link.deactivated_at_ms.is_none())
        .map(|link| LinkLine {
            url: format!("{}{}", crate::checkouts::LINK_PAGE_PREFIX, link.id),
            amount: link.amount_minor.map_or_else(String::new, |minor| {
                ceiba_payments::Currency::parse(&link.currency)
                    .map(|currency| ceiba_payments::Money::from_minor(minor, currency).to_string())
                    .unwrap_or_default()
            }),
            description: link.description,
        })
        .collect();
    let body = ShopPage {
        frame: frame(lang),
        w,
        csrf: who.csrf_token().expose(),
        error,
        merchant_id: &merchant.id,
        merchant_name: &merchant.business_name,
        secret,
        clients,
        webhook: state.db.merchant_webhook_url(&merchant.id).await?,
        deliveries,
        links,
    }
    .render();
    Ok(page(lang, body, None, chosen))
}

pub async fn shop(
    State(state): State<AppState>,
    Query(query): Query<LangQuery>,
    headers: HeaderMap,
    who: Result<Authenticated, ApiError>,
) -> Result<Response, ApiError> {
    let who = signed_in_or_return!(state, headers, who);
    let (lang, chosen) = langs(&query, &headers);
    let merchant = owned_approved(&state, &who, &query.comercio).await?;
    shop_page(&state, &who, lang, chosen, &merchant, None, None).await
}

/// The form of every action on the shop page: the merchant and what the action needs.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct ShopForm {
    comercio: String,
    /// `cliente`, `revocar`, `webhook`, `reenviar` or `enlace`.
    accion: String,
    nombre: String,
    cliente: String,
    url: String,
    entrega: String,
    concepto: String,
    importe: String,
}

fn shop_path(merchant: &str) -> String {
    format!("{SHOP_PATH}?comercio={merchant}")
}

/// What a shop action did: a secret to show once, or nothing (back to the page).
enum Done {
    Secret(String, String),
    Back,
}

/// Does what the form's `accion` names on one of the caller's approved merchants.
async fn shop_action(
    state: &AppState,
    merchant: &MerchantRow,
    form: &ShopForm,
) -> Result<Done, ApiError> {
    let now_ms = state.clock.now_ms();
    match form.accion.as_str() {
        "cliente" => {
            let (client, secret) =
                crate::merchant_api::register_client(state, merchant, &form.nombre).await?;
            Ok(Done::Secret(
                format!("client_id {} · client_secret", client.client_id),
                secret,
            ))
        }
        "revocar" => {
            state
                .db
                .revoke_merchant_client(&merchant.id, &form.cliente, now_ms)
                .await?;
            Ok(Done::Back)
        }
        "webhook" => {
            let hook = crate::webhooks::set_webhook_of(state, merchant, &form.url).await?;
            Ok(Done::Secret(
                format!("{} · Ceiba-Signature", hook.url),
                hook.signing_secret,
            ))
        }
        "reenviar" => {
            state
                .db
                .replay_webhook(&merchant.id, &form.entrega, now_ms)
                .await?;
            Ok(Done::Back)
        }
        "enlace" => {
            let body = crate::checkouts::PaymentLinkBody {
                description: form.concepto.clone(),
                currency: None,
                amount: Some(form.importe.trim().to_owned()).filter(|amount| !amount.is_empty()),
            };
            crate::checkouts::make_payment_link(state, merchant, &body).await?;
            Ok(Done::Back)
        }
        _ => Err(ApiError::with_detail(
            ErrorCode::BadRequest,
            "accion es cliente, revocar, webhook, reenviar o enlace",
        )),
    }
}

/// Every form of the shop page: registers or revokes a client, sets the webhook, sends a
/// delivery again or makes a payment link; a new secret is shown on the answer, once.
pub async fn shop_post(
    State(state): State<AppState>,
    headers: HeaderMap,
    who: Result<Authenticated, ApiError>,
    PageForm(form): PageForm<ShopForm>,
) -> Result<Response, ApiError> {
    let who = signed_in_or_return!(state, headers, who);
    let lang = page_lang(None, &headers);
    let merchant = owned_approved(&state, &who, &form.comercio).await?;
    match shop_action(&state, &merchant, &form).await {
        Ok(Done::Back) => Ok(see_other(&shop_path(&merchant.id), None)),
        Ok(Done::Secret(what, secret)) => {
            shop_page(
                &state,
                &who,
                lang,
                None,
                &merchant,
                Some((what, secret)),
                None,
            )
            .await
        }
        Err(error) if is_refusal(&error) => {
            let sentence = error_sentence(&error, lang);
            shop_page(&state, &who, lang, None, &merchant, None, Some(sentence)).await
        }
        Err(error) => Err(error),
    }
}

// ---------------------------------------------------------------------------------------------
// Administrators
// ---------------------------------------------------------------------------------------------

#[derive(Debug)]
struct ApplicationLine {
    id: String,
    name: String,
    nit: String,
    category: String,
    city: String,
    settlement: String,
    owner: String,
    when: String,
}

#[derive(Template)]
#[template(path = "admin_comercios.html")]
struct AdminPage<'a> {
    frame: Frame,
    w: &'static Words,
    csrf: &'a str,
    error: Option<String>,
    applications: Vec<ApplicationLine>,
}

async fn admin_page(
    state: &AppState,
    who: &Authenticated,
    lang: Lang,
    chosen: Option<Lang>,
    error: Option<String>,
) -> Result<Response, ApiError> {
    let mut applications = Vec::new();
    for row in state
        .db
        .merchants_with_status(MerchantStatus::Pending, ceiba_store::MERCHANTS_PAGE_MAX)
        .await?
    {
        let owner = state
            .db
            .user_by_id(&row.owner_user_id)
            .await?
            .map(|owner| format!("{} ({})", owner.display_name, owner.phone))
            .unwrap_or_default();
        applications.push(ApplicationLine {
            settlement: format!(
                "{} {} {}",
                row.settlement_bank_code, row.settlement_currency, row.settlement_masked_number
            ),
            when: local_time(state, row.created_at_ms),
            id: row.id,
            name: row.business_name,
            nit: row.nit,
            category: row.category_code,
            city: row.city,
            owner,
        });
    }
    let body = AdminPage {
        frame: frame(lang),
        w: words(lang),
        csrf: who.csrf_token().expose(),
        error,
        applications,
    }
    .render();
    Ok(page(lang, body, None, chosen))
}

pub async fn admin(
    State(state): State<AppState>,
    Query(query): Query<LangQuery>,
    headers: HeaderMap,
    who: Result<Authenticated, ApiError>,
) -> Result<Response, ApiError> {
    let who = signed_in_or_return!(state, headers, who);
    let admin = Authorized::<Administrator>::of(who)?;
    let (lang, chosen) = langs(&query, &headers);
    admin_page(&state, &admin.who, lang, chosen, None).await
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct DecideForm {
    comercio: String,
    /// `aprobar` or `rechazar`.
    decision: String,
    motivo: String,
}

pub async fn admin_decide(
    State(state): State<AppState>,
    headers: HeaderMap,
    who: Result<Authenticated, ApiError>,
    PageForm(form): PageForm<DecideForm>,
) -> Result<Response, ApiError> {
    let who = signed_in_or_return!(state, headers, who);
    let admin = Authorized::<Administrator>::of(who)?;
    let lang = page_lang(None, &headers);
    let decided = async {
        let decision = match form.decision.as_str() {
            "aprobar" => MerchantDecision::Approve,
            "rechazar" => MerchantDecision::Reject {
                reason: crate::merchants::rejection_reason(&form.motivo)?,
            },
            _ => {
                return Err(ApiError::with_detail(
                    ErrorCode::BadRequest,
                    "la decisión es «aprobar» o «rechazar»",
                ));
            }
        };
        decide(&state, Some(&admin.who.user), &form.comercio, decision).await
    };
    match decided.await {
        Ok(_) => Ok(see_other(ADMIN_PATH, None)),
        Err(error) if is_refusal(&error) => {
            let sentence = error_sentence(&error, lang);
            admin_page(&state, &admin.who, lang, None, Some(sentence)).await
        }
        Err(error) => Err(error),
    }
}
