//! `ceiba demo seed`: a database a newcomer can sign in to and move money in within a minute.
//!
//! What it makes, every piece idempotent so a second run adds nothing:
//! - six people with Cuban names and mobile numbers (+53 5000 0001 … 0006), active, with one
//!   demo password and one USSD PIN, printed at the end;
//! - a bank cashier (`bank_operator`) and a billing operator (`biller`, operating the four
//!   utilities). Both roles demand a second factor, so each gets a TOTP secret (printed, with its
//!   `otpauth://` URI) and single-use recovery codes (printed; a recovery code in the sign-in
//!   form's second-factor field is the quick way in). Only hashes of recovery codes are stored,
//!   so every run replaces them with new ones and prints those;
//! - money: one cash-in per person and currency at one of the banks, through the same saga as
//!   `POST /api/v1/payments/cash-in` (`payments::cash_at_bank`: the operation is recorded, the
//!   ledger moves the money as one chain, the SMS is queued), with a fixed `Idempotency-Key`, so a
//!   second run finds the operation and moves nothing;
//! - open bills of the utilities (and a tax and a fine), with fixed references, written only
//!   when the reference is new;
//! - a merchant, «Cafetería El Ceibón», owned by Osvaldo, approved, with a static QR code
//!   (printed) that any demo person can pay with `POST /api/v1/payments/qr`;
//! - an online shop, «Tienda La Ceiba», owned by Dayana, approved, with a payment link and an
//!   open order with items (a new one when the last was paid or expired), both printed as the
//!   addresses where a demo person signs in and pays.
//!
//! Demo accounts have ids `demo-…`. A database holding any other account is refused unless
//! `--force` (which still never touches those accounts, and refuses when one of them has a demo
//! phone number). Every run puts the demo password and PIN back on the demo accounts, so what is
//! printed always works.

use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, bail};
use ceiba_audit::{AuditEvent, EventKind};
use ceiba_identity::{
    Argon2Config, CredentialHasher, Password, PhoneNumber, Pin, RecoveryCodes, Role, SecretSealer,
    TotpSecret,
};
use ceiba_payments::{Currency, Money, OperationKind, accounts, format_minor_es};
use ceiba_store::{
    Db, InsertBills, LeaseHolder, LedgerEngine, NewBill, NewUser, OperationRow, OperationStatus,
    Registration, UserRow, UserStatus,
};
use ceiba_store::{MerchantDecision, MerchantStatus};
use ceiba_web::AppState;
use ceiba_web::checkouts;
use ceiba_web::merchant_payments::{self, QrCodeBody};
use ceiba_web::merchants::{self, MerchantApplicationBody, SettlementBody};
use ceiba_web::payments::{CashRequest, cash_at_bank, derive_receipt_key};

use crate::config::{Config, SmsSenderKind};
use crate::print_line;
use crate::serve::{now_ms, open_database};

/// Every demo account's id starts with this; any other id is someone's real account.
const ID_PREFIX: &str = "demo-";
/// The password of every demo account: long enough, and not among the common ones.
pub const PASSWORD: &str = "ceiba-demo-2025";
/// The USSD PIN of every demo person (not a guessable one such as 1234).
pub const PIN: &str = "2468";
/// Recovery codes printed per operator.
const RECOVERY_CODES: usize = 5;
/// How long to wait for the ledger's writer lease: a server that just stopped leaves it for up
/// to its lease time (10 s).
const LEDGER_WRITER_WAIT: Duration = Duration::from_secs(15);

/// A demo person: id suffix, phone, name, and deposits (bank, currency, amount in pesos).
struct Person {
    slug: &'static str,
    phone: &'static str,
    name: &'static str,
    deposits: &'static [(&'static str, Currency, &'static str)],
}

const PEOPLE: [Person; 6] = [
    Person {
        slug: "ana",
        phone: "+53 5000 0001",
        name: "Ana María Pérez Rodríguez",
        deposits: &[
            ("BPA", Currency::Cup, "5000"),
            ("BPA", Currency::Usd, "100"),
        ],
    },
    Person {
        slug: "roberto",
        phone: "+53 5000 0002",
        name: "Roberto Díaz Hernández",
        deposits: &[("BANDEC", Currency::Cup, "3000")],
    },
    Person {
        slug: "yolanda",
        phone: "+53 5000 0003",
        name: "Yolanda García Fernández",
        deposits: &[
            ("BANMET", Currency::Cup, "8000"),
            ("BANMET", Currency::Usd, "50"),
        ],
    },
    Person {
        slug: "ernesto",
        phone: "+53 5000 0004",
        name: "Ernesto Martínez Sosa",
        deposits: &[("BPA", Currency::Cup, "1500")],
    },
    Person {
        slug: "dayana",
        phone: "+53 5000 0005",
        name: "Dayana Rodríguez Castillo",
        deposits: &[("BANDEC", Currency::Cup, "12000")],
    },
    Person {
        slug: "osvaldo",
        phone: "+53 5000 0006",
        name: "Osvaldo Fernández Rivero",
        deposits: &[("BANMET", Currency::Cup, "2500")],
    },
];

/// An operator account: id suffix, phone, name, role, what they do (for the printout).
struct Operator {
    slug: &'static str,
    phone: &'static str,
    name: &'static str,
    role: Role,
    duty: &'static str,
}

const CASHIER: Operator = Operator {
    slug: "cajera-bpa",
    phone: "+53 5000 0090",
    name: "Mercedes Llanes (cajera del BPA)",
    role: Role::BankOperator,
    duty: "Rol bank_operator: depósitos y extracciones (POST /api/v1/payments/cash-in y \
           …/cash-out).",
};

const BILLING: Operator = Operator {
    slug: "facturacion",
    phone: "+53 5000 0091",
    name: "Jorge Valdés (facturación)",
    role: Role::Biller,
    duty: "Rol biller: opera une, aguas-habana, gas-manufacturado y etecsa-fija (subir \
           facturas, ver los pagos, conciliación).",
};

/// The demonstration's merchant: a fixed id, so a second run finds it.
const MERCHANT_ID: &str = "demo-cafeteria-el-ceibon";
/// Who owns it (index in `PEOPLE`).
const MERCHANT_OWNER: usize = 5;
/// The demonstration's online shop, and who owns it.
const SHOP_ID: &str = "demo-tienda-la-ceiba";
const SHOP_OWNER: usize = 4;
/// Where the printed addresses point: `ceiba serve`'s default.
const DEMO_BASE_URL: &str = "http://127.0.0.1:8080";

/// The billers the billing operator operates.
const OPERATED_BILLERS: [&str; 4] = ["une", "aguas-habana", "gas-manufacturado", "etecsa-fija"];

/// An open bill: biller, reference, whose (index in `PEOPLE`), amount in CUP.
const BILLS: [(&str, &str, usize, &str); 11] = [
    ("une", "DEMO-UNE-0001", 0, "245.60"),
    ("une", "DEMO-UNE-0002", 1, "312.00"),
    ("une", "DEMO-UNE-0003", 2, "189.40"),
    ("aguas-habana", "DEMO-AGUA-0001", 0, "35.00"),
    ("aguas-habana", "DEMO-AGUA-0004", 3, "28.50"),
    ("gas-manufacturado", "DEMO-GAS-0002", 1, "48.50"),
    ("gas-manufacturado", "DEMO-GAS-0005", 4, "52.00"),
    ("etecsa-fija", "DEMO-TEL-0003", 2, "120.00"),
    ("etecsa-fija", "DEMO-TEL-0006", 5, "95.75"),
    ("onat", "DEMO-ONAT-0005", 4, "1250.00"),
    ("contravenciones", "DEMO-MULTA-0004", 3, "500.00"),
];

fn id_of(slug: &str) -> String {
    format!("{ID_PREFIX}{slug}")
}

/// What one run did, for the summary line.
#[derive(Debug, Default)]
struct Tally {
    accounts_created: usize,
    deposits_made: usize,
    bills_created: usize,
    articles_created: usize,
}

/// A second factor as printed for an operator.
struct OperatorAccess {
    secret: TotpSecret,
    recovery_codes: Vec<String>,
}

pub async fn seed(config: &Config, force: bool) -> anyhow::Result<()> {
    if config.sms.sender == SmsSenderKind::Http {
        bail!(
            "la demostración no se siembra con sms.sender = «http»: sus SMS (los avisos de cada \
             depósito) saldrían hacia números de teléfono reales; siembre con \
             CEIBA_SMS__SENDER=file"
        );
    }
    // Parse everything the demo is made of before anything is written: a bad constant is a bug
    // and must change nothing.
    let password = Password::parse(PASSWORD).context("la contraseña de la demostración")?;
    let pin = Pin::parse(PIN).context("el PIN de la demostración")?;
    let mut phones = Vec::new();
    for phone in PEOPLE
        .iter()
        .map(|person| person.phone)
        .chain([CASHIER.phone, BILLING.phone])
    {
        phones.push(PhoneNumber::parse(phone).context("un número de la demostración")?);
    }

    let db = open_database(config).await?;
    let outcome = seed_in(config, &db, force, &password, &pin, &phones).await;
    db.close().await;
    outcome
}

async fn seed_in(
    config: &Config,
    db: &Db,
    force: bool,
    password: &Password,
    pin: &Pin,
    phones: &[PhoneNumber],
) -> anyhow::Result<()> {
    db.migrate()
        .await
        .context("no se pudo migrar la base de datos")?;
    let others = db.users_without_id_prefix(ID_PREFIX).await?;
    if others > 0 && !force {
        bail!(
            "la base de datos {} ya tiene {others} cuenta(s) que no son de la demostración, y \
             la demostración no se siembra sobre datos reales: use una base de datos nueva (otra \
             --data-dir u otra --database-url) o repita con --force, que la añade sin tocar esas \
             cuentas",
            db.url()
        );
    }
    for phone in phones {
        if let Some(user) = db.user_by_phone(phone).await?
            && !user.id.starts_with(ID_PREFIX)
        {
            bail!(
                "el número {} de la demostración ya pertenece a una cuenta que no es de la \
                 demostración; no se siembra nada",
                phone.masked()
            );
        }
    }

    std::fs::create_dir_all(config.data_dir()).with_context(|| {
        format!(
            "no se pudo crear la carpeta de datos «{}»",
            config.data_dir().display()
        )
    })?;
    let signer = crate::audit::load_or_create_signing_key(&config.audit_signing_key_file)?;
    let secrets_key =
        crate::audit::load_or_create_key(&config.secrets_key_file, "clave de secretos")?;
    let hasher = CredentialHasher::new(Argon2Config::default())
        .context("los parámetros de Argon2 no son válidos")?;
    // One hash of each for every demo account: they share the password and the PIN anyway, and
    // Argon2 at OWASP's parameters is the slow part of a run.
    let password_hash = hasher.hash(password, &mut rand::rng());
    let pin_hash = hasher.hash(pin, &mut rand::rng());

    let ledger = LedgerEngine::start(
        db.clone(),
        LeaseHolder::new(format!("demo-{}", uuid::Uuid::new_v4())),
        ceiba_store::system_clock(),
    )
    .await
    .context("no se pudo reconstruir el libro mayor desde su diario")?;
    if !ledger.wait_until_writer(LEDGER_WRITER_WAIT).await {
        ledger.stop().await;
        bail!(
            "otro proceso escribe en el libro mayor de esta base de datos (¿un «ceiba serve» en \
             marcha?); deténgalo y vuelva a sembrar"
        );
    }
    let mut state = AppState::new(
        db.clone(),
        ceiba_web::Metrics::new(),
        signer.public_key_bytes(),
        hasher,
        SecretSealer::from_key(&secrets_key),
    );
    state.ledger = Some(ledger.clone());
    state.payments = Arc::new(config.payments.settings(derive_receipt_key(&secrets_key)));
    let summary = match fill(&state, phones, &password_hash, &pin_hash).await {
        Ok((tally, cashier, billing)) => summary(&state, &tally, &cashier, &billing).await,
        Err(error) => Err(error),
    };
    ledger.stop().await;
    print_line(&summary?)
}

/// Creates what is missing and puts the credentials back on what exists.
async fn fill(
    state: &AppState,
    phones: &[PhoneNumber],
    password_hash: &ceiba_identity::PhcString,
    pin_hash: &ceiba_identity::PhcString,
) -> anyhow::Result<(Tally, OperatorAccess, OperatorAccess)> {
    let mut tally = Tally::default();
    let started_ms = now_ms();
    let db = &state.db;
    for (person, phone) in PEOPLE.iter().zip(phones) {
        let created = account(
            db,
            &id_of(person.slug),
            phone,
            person.name,
            &[Role::Citizen],
            password_hash,
        )
        .await?;
        tally.accounts_created += usize::from(created);
        db.set_pin_hash(&id_of(person.slug), pin_hash).await?;
    }
    let mut operator = async |operator: &Operator, phone: &PhoneNumber| {
        let id = id_of(operator.slug);
        let created = account(
            db,
            &id,
            phone,
            operator.name,
            &[operator.role],
            password_hash,
        )
        .await?;
        tally.accounts_created += usize::from(created);
        second_factor(state, &id, phone).await
    };
    let cashier_access = operator(&CASHIER, &phones[PEOPLE.len()]).await?;
    let billing_access = operator(&BILLING, &phones[PEOPLE.len() + 1]).await?;
    let billing_id = id_of(BILLING.slug);
    for code in OPERATED_BILLERS {
        let biller = db
            .biller(code)
            .await?
            .with_context(|| format!("falta el emisor «{code}» (¿migraciones incompletas?)"))?;
        match biller.user_id.as_deref() {
            None => {
                db.set_biller_user(code, Some(&billing_id)).await?;
            }
            Some(id) if id == billing_id => {}
            // Someone else operates it already (a database seeded with --force): leave it.
            Some(_) => {}
        }
    }

    let cashier = db
        .user_by_id(&id_of(CASHIER.slug))
        .await?
        .context("la cajera de la demostración no está en la base de datos")?;
    for person in &PEOPLE {
        for (bank, currency, amount) in person.deposits {
            let row = deposit(state, &cashier, person, bank, *currency, amount).await?;
            // An operation an earlier run made was created before this one started.
            if row.created_at_ms >= started_ms {
                tally.deposits_made += 1;
            }
        }
    }
    tally.bills_created = bills(db).await?;
    merchant(state).await?;
    shop(state).await?;
    tally.articles_created = articles(db).await?;

    Ok((tally, cashier_access, billing_access))
}

/// The encyclopedia's demo articles: (namespace, title, text). Written by "Ceiba" and kept by
/// their demo id, so seeding again adds nothing.
const ARTICLES: &[(i64, &str, &str)] = &[
    (
        0,
        "Portada",
        "'''Bienvenido a la Enciclopedia de Ceiba''', que se edita en línea y viaja sin \
         conexión.\n\n== Artículos ==\n* [[Cuba]]\n* [[La Habana]]\n* [[Trinidad]]\n* \
         [[Tecnología]]\n\nBusque un tema con el buscador, o escriba uno que falte, como \
         [[Viñales]].",
    ),
    (
        0,
        "Cuba",
        "'''Cuba''' es un país insular del mar Caribe. Su capital es [[La Habana]].\n\n\
         == Geografía ==\nTiene 15 provincias y el municipio especial Isla de la Juventud.\n\n\
         [[Categoría:Países]]",
    ),
    (
        0,
        "La Habana",
        "{{Ficha de ciudad|nombre=La Habana|provincia=La Habana|fundación=1519}}\n'''La \
         Habana''' es la capital de [[Cuba]] y su ciudad más poblada.<ref>Oficina Nacional \
         de Estadística e Información.</ref>\n\n== Historia ==\nFue fundada en 1519 por \
         los españoles.\n\n== Referencias ==\n<references/>\n\n[[Categoría:Ciudades de \
         Cuba]]",
    ),
    (
        0,
        "Trinidad",
        "{{Ficha de ciudad|nombre=Trinidad|provincia=Sancti Spíritus|fundación=1514}}\n\
         '''Trinidad''' es una ciudad colonial de [[Cuba]], declarada Patrimonio de la \
         Humanidad.\n\n[[Categoría:Ciudades de Cuba]]",
    ),
    (
        0,
        "Tecnología",
        "La '''tecnología''' es el conjunto de saberes que permiten fabricar objetos y \
         modificar el medio. En [[Cuba]] se estudia en las universidades del país.",
    ),
    (
        10,
        "Ficha de ciudad",
        "{| class=\"ficha\"\n|+ {{{nombre}}}\n|-\n! Provincia\n| {{{provincia}}}\n|-\n! \
         Fundación\n| {{{fundación|desconocida}}}\n|}",
    ),
];

async fn articles(db: &Db) -> anyhow::Result<usize> {
    let mut created = 0;
    for (namespace, title, text) in ARTICLES {
        let (links, categories, redirect) = crate::wiki_offline::analyse(text);
        let external = format!("demo:{namespace}:{title}");
        let revision_id = uuid::Uuid::new_v4().to_string();
        let page_id = uuid::Uuid::new_v4().to_string();
        let outcome = db
            .save_wiki_revision(&ceiba_store::NewRevision {
                revision_id: &revision_id,
                new_page_id: &page_id,
                namespace: *namespace,
                title,
                base_revision_id: None,
                author_id: None,
                author_name: "Ceiba",
                timestamp_ms: now_ms(),
                summary: "Artículo de demostración",
                text,
                minor: false,
                tags: "demostración",
                reviewed_by: None,
                links: &links,
                categories: &categories,
                redirect_to: redirect.as_deref(),
                external_id: Some(&external),
            })
            .await?;
        created += usize::from(matches!(outcome, ceiba_store::SaveOutcome::Saved { .. }));
    }
    Ok(created)
}

fn api_error(error: ceiba_web::problem::ApiError) -> anyhow::Error {
    anyhow::anyhow!(
        "{}",
        error
            .detail
            .unwrap_or_else(|| error.code.entry().title_es.to_owned())
    )
}

/// A demo merchant with a fixed id, applied for by `owner` (index in `PEOPLE`) and approved;
/// what exists is kept.
async fn approved_merchant(
    state: &AppState,
    id: &str,
    owner: usize,
    application: &MerchantApplicationBody,
) -> anyhow::Result<ceiba_store::MerchantRow> {
    let db = &state.db;
    let owner = db
        .user_by_id(&id_of(PEOPLE[owner].slug))
        .await?
        .context("el dueño de un comercio de la demostración no está en la base de datos")?;
    let mut row = match db.merchant(id).await? {
        Some(row) => row,
        None => merchants::apply_with_id(state, &owner, id, application)
            .await
            .map_err(api_error)?,
    };
    if row.status == MerchantStatus::Pending {
        row = merchants::decide(state, None, id, MerchantDecision::Approve)
            .await
            .map_err(api_error)?;
    }
    Ok(row)
}

/// The demonstration's merchant, approved, with one static QR code; what exists is kept.
async fn merchant(state: &AppState) -> anyhow::Result<()> {
    let application = MerchantApplicationBody {
        business_name: "Cafetería El Ceibón".to_owned(),
        nit: "90000000001".to_owned(),
        category_code: "5814".to_owned(),
        city: "La Habana".to_owned(),
        settlement: SettlementBody {
            bank: "BANMET".to_owned(),
            currency: "CUP".to_owned(),
            account_number: "9205 1299 0001 0006".to_owned(),
        },
    };
    let row = approved_merchant(state, MERCHANT_ID, MERCHANT_OWNER, &application).await?;
    if state.db.qr_codes_of(MERCHANT_ID, 1).await?.is_empty() {
        merchant_payments::make_qr_code(state, &row, &QrCodeBody::default())
            .await
            .map_err(api_error)?;
    }
    Ok(())
}

/// The demonstration's online shop, approved, with a payment link and an order waiting to be
/// paid (a new one whenever the last was paid, cancelled or expired).
async fn shop(state: &AppState) -> anyhow::Result<()> {
    let application = MerchantApplicationBody {
        business_name: "Tienda La Ceiba".to_owned(),
        nit: "90000000002".to_owned(),
        category_code: "5499".to_owned(),
        city: "Santa Clara".to_owned(),
        settlement: SettlementBody {
            bank: "BPA".to_owned(),
            currency: "CUP".to_owned(),
            account_number: "9205 1299 0001 0005".to_owned(),
        },
    };
    let row = approved_merchant(state, SHOP_ID, SHOP_OWNER, &application).await?;
    let db = &state.db;
    if db.payment_links_of(SHOP_ID).await?.is_empty() {
        let link = checkouts::PaymentLinkBody {
            description: "Caja de café Serrano, 250 g".to_owned(),
            currency: None,
            amount: Some("150.00".to_owned()),
        };
        checkouts::make_payment_link(state, &row, &link)
            .await
            .map_err(api_error)?;
    }
    if open_order(state).await?.is_none() {
        let order = checkouts::CheckoutBody {
            amount: "435.00".to_owned(),
            description: "Pedido DEMO-1001 de Tienda La Ceiba".to_owned(),
            items: vec![
                checkouts::ItemBody {
                    name: "Café Serrano 250 g".to_owned(),
                    quantity: 2,
                    unit_amount: "150.00".to_owned(),
                },
                checkouts::ItemBody {
                    name: "Miel de abejas 500 ml".to_owned(),
                    quantity: 1,
                    unit_amount: "135.00".to_owned(),
                },
            ],
            merchant_reference: Some("DEMO-1001".to_owned()),
            return_url: Some(format!("{DEMO_BASE_URL}/pagos")),
            cancel_url: Some(format!("{DEMO_BASE_URL}/")),
            expires_in_s: Some(86_400),
            ..checkouts::CheckoutBody::default()
        };
        checkouts::open_checkout(state, &row, &order, None)
            .await
            .map_err(api_error)?;
    }
    Ok(())
}

/// The shop's order still open, if any.
async fn open_order(state: &AppState) -> anyhow::Result<Option<ceiba_store::CheckoutRow>> {
    let filter = ceiba_store::CheckoutFilter {
        status: Some(ceiba_store::CheckoutStatus::Open),
        limit: 1,
        ..ceiba_store::CheckoutFilter::default()
    };
    Ok(state
        .db
        .checkouts_of(SHOP_ID, &filter, now_ms())
        .await?
        .into_iter()
        .next())
}

/// Creates a demo account unless it exists; either way it ends with the demo password.
/// Returns whether it was created.
async fn account(
    db: &Db,
    id: &str,
    phone: &PhoneNumber,
    name: &str,
    roles: &[Role],
    password_hash: &ceiba_identity::PhcString,
) -> anyhow::Result<bool> {
    if db.user_by_id(id).await?.is_some() {
        db.set_password_hash(id, password_hash).await?;
        return Ok(false);
    }
    let outcome = db
        .register_user(
            &NewUser {
                id,
                phone,
                display_name: name,
                password_hash,
                status: UserStatus::Active,
                roles,
            },
            None,
            None,
            now_ms(),
        )
        .await?;
    if outcome == Registration::PhoneTaken {
        bail!(
            "el número {} de la demostración ya tiene otra cuenta",
            phone.masked()
        );
    }
    let role_names: Vec<&str> = roles.iter().map(|role| role.as_str()).collect();
    let event = AuditEvent::new(EventKind::RoleChanged, now_ms())
        .actor("sistema")
        .subject(id)
        .detail("roles", role_names.join(","))
        .detail("canal", "demo");
    db.append_audit(&[event.to_bytes()], now_ms()).await?;
    Ok(true)
}

/// Enrols a TOTP second factor on first run (confirmed at once: the demo prints the secret),
/// or reads the enrolled one back; issues fresh recovery codes either way.
async fn second_factor(
    state: &AppState,
    user_id: &str,
    phone: &PhoneNumber,
) -> anyhow::Result<OperatorAccess> {
    let db = &state.db;
    let codes = RecoveryCodes::generate(&mut rand::rng(), RECOVERY_CODES);
    let hashes: Vec<String> = codes.hashes().iter().map(|hash| hash.to_hex()).collect();
    let recovery_codes = codes.codes().iter().map(|code| code.formatted()).collect();
    let secret = match db.second_factor(user_id).await? {
        Some(factor) if factor.confirmed => {
            let bytes = state
                .sealer
                .open(&factor.totp_secret, user_id)
                .map_err(|error| {
                    anyhow::anyhow!(
                        "el secreto TOTP de {} no se abre con la clave de secretos ({error}); \
                         ¿cambió secrets_key_file desde la primera siembra?",
                        phone.masked()
                    )
                })?;
            let bytes: [u8; 20] = bytes[..]
                .try_into()
                .context("un secreto TOTP guardado no tiene 20 bytes")?;
            anyhow::ensure!(
                db.replace_recovery_codes(user_id, &hashes).await?,
                "no se pudieron renovar los códigos de recuperación"
            );
            TotpSecret::from_bytes(bytes)
        }
        _ => {
            let secret = TotpSecret::generate(&mut rand::rng());
            let sealed = state
                .sealer
                .seal(secret.as_bytes(), user_id, &mut rand::rng());
            anyhow::ensure!(
                db.begin_second_factor(user_id, &sealed).await?,
                "no se pudo guardar el segundo factor"
            );
            // Confirmed as of the step before now, so the code an authenticator shows now is
            // still accepted once.
            let step = ceiba_identity::totp_step(u64::try_from(now_ms() / 1_000).unwrap_or(0));
            anyhow::ensure!(
                db.confirm_second_factor(user_id, step.saturating_sub(1), &hashes, now_ms())
                    .await?,
                "no se pudo confirmar el segundo factor"
            );
            let event = AuditEvent::new(EventKind::SecondFactorEnrolled, now_ms())
                .actor("sistema")
                .subject(user_id)
                .detail("canal", "demo");
            db.append_audit(&[event.to_bytes()], now_ms()).await?;
            secret
        }
    };
    Ok(OperatorAccess {
        secret,
        recovery_codes,
    })
}

/// One cash-in at `bank`, by the demo cashier, with a key fixed per person and currency: a
/// second run finds the operation and moves nothing.
async fn deposit(
    state: &AppState,
    cashier: &UserRow,
    person: &Person,
    bank: &str,
    currency: Currency,
    amount: &str,
) -> anyhow::Result<OperationRow> {
    let key = format!("demo-deposito-{}-{}", person.slug, currency.code());
    let request = CashRequest {
        phone: person.phone,
        bank,
        currency: currency.code(),
        amount,
        idempotency_key: Some(&key),
    };
    let row = cash_at_bank(state, cashier, &request, OperationKind::CashIn)
        .await
        .map_err(|error| {
            anyhow::anyhow!(
                "el depósito de {amount} {currency} para {} no se hizo: {}",
                person.name,
                error.detail.as_deref().unwrap_or(error.code.name())
            )
        })?;
    match row.status {
        OperationStatus::Completed => {}
        OperationStatus::Refused => bail!(
            "el depósito de {amount} {currency} para {} fue rechazado: {}",
            person.name,
            row.refusal_detail.unwrap_or_default()
        ),
        OperationStatus::Pending => bail!(
            "el depósito de {amount} {currency} para {} sigue en curso; vuelva a sembrar",
            person.name
        ),
    }
    Ok(row)
}

/// Writes the demo bills whose reference is new; returns how many.
async fn bills(db: &Db) -> anyhow::Result<usize> {
    let today = jiff::Zoned::now().with_time_zone(
        jiff::tz::TimeZone::get("America/Havana").context("la zona horaria de La Habana")?,
    );
    let period = format!("{:04}-{:02}", today.year(), today.month());
    let next_month = today
        .date()
        .first_of_month()
        .checked_add(jiff::ToSpan::months(1))
        .context("fecha")?;
    let due_date = format!("{:04}-{:02}-20", next_month.year(), next_month.month());
    let mut created = 0;
    for (biller, reference, person, amount) in BILLS {
        if db.bill(biller, reference).await?.is_some() {
            continue;
        }
        let amount = Money::parse(amount, Currency::Cup).context("importe de una factura")?;
        let bill = NewBill {
            reference,
            customer_name: PEOPLE[person].name,
            amount_minor: amount.minor,
            currency: Currency::Cup.code(),
            due_date: &due_date,
            period: &period,
        };
        match db.insert_bills(biller, &[bill], now_ms()).await? {
            InsertBills::Inserted(count) => created += count,
            // Written by a run at the same moment: already there is what we want.
            InsertBills::Duplicate(_) => {}
        }
    }
    Ok(created)
}

/// What the newcomer needs, as printed: credentials, balances, bills.
async fn summary(
    state: &AppState,
    tally: &Tally,
    cashier: &OperatorAccess,
    billing: &OperatorAccess,
) -> anyhow::Result<String> {
    let db = &state.db;
    let mut lines = vec![
        format!(
            "Demostración lista en {}: {} cuentas nuevas, {} depósitos nuevos, {} facturas \
             nuevas, {} artículos nuevos (repetir la siembra no duplica nada).",
            db.url(),
            tally.accounts_created,
            tally.deposits_made,
            tally.bills_created,
            tally.articles_created
        ),
        String::new(),
        "Enciclopedia: /wiki/Portada (léala sin cuenta; para editar, entre con cualquier \
         persona; búsquela en /wiki/Especial:Buscar)."
            .to_owned(),
        String::new(),
        format!("Contraseña de todas las cuentas: {PASSWORD}"),
        format!("PIN USSD de las personas: {PIN}"),
        String::new(),
        "Personas (entre en /cuenta/entrar con el teléfono y la contraseña):".to_owned(),
    ];
    for person in &PEOPLE {
        let balances = db.wallets_of(&id_of(person.slug)).await?;
        let mut shown = Vec::new();
        for currency in [Currency::Cup, Currency::Usd] {
            if balances.iter().any(|(code, _)| code == currency.code()) {
                shown.push(balance(state, &id_of(person.slug), currency));
            }
        }
        lines.push(format!(
            "  {}  {:<28} {}",
            person.phone,
            person.name,
            shown.join("  ")
        ));
    }
    for (operator, access) in [(&CASHIER, cashier), (&BILLING, billing)] {
        let label = PhoneNumber::parse(operator.phone)
            .map(|phone| phone.as_e164().to_owned())
            .unwrap_or_default();
        lines.push(String::new());
        lines.push(format!("{}  {}", operator.phone, operator.name));
        lines.push(format!("  {}", operator.duty));
        lines.push(
            "  Segundo factor obligatorio: escriba un código de recuperación en «segundo \
             factor» al entrar, o el código de su aplicación autenticadora."
                .to_owned(),
        );
        lines.push(format!(
            "  Códigos de recuperación (un solo uso; cada siembra los renueva): {}",
            access.recovery_codes.join(" ")
        ));
        lines.push(format!(
            "  Secreto TOTP: {} ({})",
            access.secret.to_base32(),
            access.secret.otpauth_uri(&label)
        ));
    }
    lines.push(String::new());
    lines.push("Facturas (Pagos → Pagar factura: emisor y referencia):".to_owned());
    for (biller, reference, person, _) in BILLS {
        if let Some(bill) = db.bill(biller, reference).await? {
            let status = match bill.status {
                ceiba_store::BillStatus::Open => "abierta",
                ceiba_store::BillStatus::Paid => "pagada",
            };
            lines.push(format!(
                "  {biller:<18} {reference:<16} {:>12} CUP  {:<8} {}",
                format_minor_es(bill.amount_minor),
                status,
                PEOPLE[person].name
            ));
        }
    }
    if let (Some(merchant), Some(code)) = (
        db.merchant(MERCHANT_ID).await?,
        db.qr_codes_of(MERCHANT_ID, 1).await?.first(),
    ) {
        lines.push(String::new());
        lines.push(format!(
            "Comercio: {} (de {}, {}; rol merchant). Su código QR estático: el pagador pone el \
             importe (POST /api/v1/payments/qr con {{payload, amount}}):",
            merchant.business_name, PEOPLE[MERCHANT_OWNER].name, PEOPLE[MERCHANT_OWNER].phone
        ));
        lines.push(format!("  {}", code.payload));
    }
    if let (Some(shop), Some(order)) = (db.merchant(SHOP_ID).await?, open_order(state).await?) {
        lines.push(String::new());
        lines.push(format!(
            "Tienda en línea: {} (de {}, {}). Una compra en línea: abra el pedido, entre y \
             pague; o use el enlace de pago:",
            shop.business_name, PEOPLE[SHOP_OWNER].name, PEOPLE[SHOP_OWNER].phone
        ));
        lines.push(format!(
            "  Pedido: {DEMO_BASE_URL}/pagar/pedido/{}",
            order.id
        ));
        for link in db.payment_links_of(SHOP_ID).await? {
            lines.push(format!(
                "  Enlace de pago: {DEMO_BASE_URL}/pagar/enlace/{}",
                link.id
            ));
        }
    }
    lines.push(String::new());
    lines.push(
        "Siga con «ceiba serve» (con las mismas opciones de datos) y abra \
         http://127.0.0.1:8080/cuenta/entrar. Por USSD: «ceiba ussd --phone +5350000001» contra \
         un servidor con ussd.gateway_key."
            .to_owned(),
    );
    Ok(lines.join("\n"))
}

/// "5.000,00 CUP": what the person may spend now.
fn balance(state: &AppState, user_id: &str, currency: Currency) -> String {
    let available = state.ledger.as_ref().map_or(0, |ledger| {
        ledger
            .read()
            .state
            .account(accounts::wallet(user_id, currency))
            .map_or(0, |account| {
                let b = account.balances;
                let minor = b
                    .credits_posted
                    .saturating_sub(b.debits_posted)
                    .saturating_sub(b.debits_pending);
                u64::try_from(minor).unwrap_or(u64::MAX)
            })
    });
    Money::from_minor(available, currency).to_string()
}
