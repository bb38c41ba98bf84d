//! `/pagos/cuentas`: the bank accounts a person links to the wallet, and deposits and
//! withdrawals with them. The same services as the JSON API (`crate::bank_accounts`): linking
//! again the same account gives the one already linked, and every deposit or withdrawal form
//! carries its own idempotency key, so a double click moves money once.

use askama::Template;
use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::response::Response;
use ceiba_payments::{Currency, OperationKind};
use serde::Deserialize;

use super::{
    Choice, PagosQuery, choices, error_sentence, form_key, frame, fresh_key, is_refusal,
    receipt_or_refusal,
};
use crate::AppState;
use crate::account_pages::{PageForm, page, see_other, signed_in};
use crate::auth::Authenticated;
use crate::bank_accounts;
use crate::i18n::{Lang, PagosTexts};
use crate::pages::{Frame, page_lang};
use crate::problem::ApiError;

pub const ACCOUNTS_PATH: &str = "/pagos/cuentas";
pub const UNLINK_PATH: &str = "/pagos/cuentas/desvincular";
pub const MOVE_PATH: &str = "/pagos/cuentas/mover";

/// One linked account as the page shows it, with the key of its money form.
#[derive(Debug)]
struct AccountLine {
    id: String,
    alias: String,
    bank_name: String,
    currency: String,
    number: String,
    key: String,
}

#[derive(Template)]
#[template(path = "pagos_cuentas.html")]
struct AccountsPage<'a> {
    frame: Frame,
    p: &'static PagosTexts,
    csrf: &'a str,
    error: Option<String>,
    accounts: Vec<AccountLine>,
    banks: Vec<Choice>,
    currencies: Vec<Choice>,
    alias: &'a str,
}

/// The link form as posted. The number is never shown again, not even after a refusal.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct LinkForm {
    banco: String,
    moneda: String,
    alias: String,
    numero: String,
}

/// A deposit or withdrawal as posted.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct MoveForm {
    cuenta: String,
    sentido: String,
    importe: String,
    clave: String,
}

/// An unlink as posted.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct UnlinkForm {
    cuenta: String,
}

async fn accounts_page(
    state: &AppState,
    who: &Authenticated,
    lang: Lang,
    chosen: Option<Lang>,
    form: &LinkForm,
    error: Option<String>,
) -> Result<Response, ApiError> {
    let rows = state.db.bank_accounts_of(&who.user.id).await?;
    let accounts = rows
        .iter()
        .map(|row| AccountLine {
            id: row.id.clone(),
            alias: row.alias.clone(),
            bank_name: ceiba_payments::bank(&row.bank_code)
                .map_or_else(|| row.bank_code.clone(), |bank| bank.name.to_owned()),
            currency: row.currency.clone(),
            number: row.masked_number.clone(),
            key: fresh_key(),
        })
        .collect();
    let banks = choices(
        ceiba_payments::BANKS
            .iter()
            .map(|bank| (bank.code, bank.name)),
        &form.banco,
    );
    let currencies = choices(
        Currency::ALL.map(|currency| (currency.code(), currency.code())),
        &form.moneda,
    );
    let body = AccountsPage {
        frame: frame(lang),
        p: lang.pagos(),
        csrf: who.csrf_token().expose(),
        error,
        accounts,
        banks,
        currencies,
        alias: &form.alias,
    }
    .render();
    Ok(page(lang, body, None, chosen))
}

pub async fn accounts(
    State(state): State<AppState>,
    Query(query): Query<PagosQuery>,
    headers: HeaderMap,
    who: Result<Authenticated, ApiError>,
) -> Result<Response, ApiError> {
    let who = signed_in_or_return!(state, headers, who);
    let (lang, chosen) = query.lang(&headers);
    accounts_page(&state, &who, lang, chosen, &LinkForm::default(), None).await
}

/// Links an account and shows the list again; a refusal shows the form with the reason.
pub async fn link(
    State(state): State<AppState>,
    headers: HeaderMap,
    who: Result<Authenticated, ApiError>,
    PageForm(form): PageForm<LinkForm>,
) -> Result<Response, ApiError> {
    let who = signed_in_or_return!(state, headers, who);
    let lang = page_lang(None, &headers);
    match bank_accounts::link_account(
        &state,
        &who.user,
        &form.banco,
        &form.moneda,
        &form.alias,
        &form.numero,
    )
    .await
    {
        Ok(_) => Ok(see_other(ACCOUNTS_PATH, None)),
        Err(error) if is_refusal(&error) => {
            let sentence = error_sentence(&error, lang);
            accounts_page(&state, &who, lang, None, &form, Some(sentence)).await
        }
        Err(error) => Err(error),
    }
}

pub async fn unlink(
    State(state): State<AppState>,
    headers: HeaderMap,
    who: Result<Authenticated, ApiError>,
    PageForm(form): PageForm<UnlinkForm>,
) -> Result<Response, ApiError> {
    let who = signed_in_or_return!(state, headers, who);
    let lang = page_lang(None, &headers);
    match bank_accounts::unlink_account(&state, &who.user, &form.cuenta).await {
        Ok(()) => Ok(see_other(ACCOUNTS_PATH, None)),
        Err(error) if is_refusal(&error) => {
            let sentence = error_sentence(&error, lang);
            accounts_page(
                &state,
                &who,
                lang,
                None,
                &LinkForm::default(),
                Some(sentence),
            )
            .await
        }
        Err(error) => Err(error),
    }
}

/// Deposits into the wallet or withdraws to the account, once per key, and shows the receipt.
pub async fn move_money(
    State(state): State<AppState>,
    headers: HeaderMap,
    who: Result<Authenticated, ApiError>,
    PageForm(form): PageForm<MoveForm>,
) -> Result<Response, ApiError> {
    let who = signed_in_or_return!(state, headers, who);
    let lang = page_lang(None, &headers);
    let key = form_key(&form.clave)?;
    let kind = if form.sentido == "extraer" {
        OperationKind::CashOut
    } else {
        OperationKind::CashIn
    };
    let outcome = bank_accounts::move_with_bank_account(
        &state,
        &who.user,
        &form.cuenta,
        kind,
        &form.importe,
        Some(&key),
    )
    .await;
    let refusal = match receipt_or_refusal(outcome, lang)? {
        Ok(receipt) => return Ok(receipt),
        Err(refusal) => refusal,
    };
    accounts_page(
        &state,
        &who,
        lang,
        None,
        &LinkForm::default(),
        Some(refusal),
    )
    .await
}
