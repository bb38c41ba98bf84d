//! The USSD channel over HTTP, on each engine, driven screen by screen as a gateway drives it:
//! balance; a transfer with the recipient's name to confirm and the PIN; bills and top-ups;
//! the last five operations; a PIN change after which the old PIN fails; three wrong PINs that
//! lock and move nothing; an idle session that expires; invalid choices and going back; a
//! gateway's retry of the final request (also two at once) that moves money once; the gateway's
//! key; and no screen over 182 characters, ever (every request checks it). After each scenario
//! the ledger is sound and the money is where it should be.

use std::sync::Arc;
use std::time::Duration;

use ceiba_identity::{Argon2Config, CredentialHasher, Pin, Role};
use ceiba_payments::Currency;
use ceiba_store::{Db, InsertBills, LedgerEngine, NewBill, OperationStatus};
use ceiba_testkit::each_engine;
use ceiba_testkit::http::{Response, send};
use ceiba_testkit::{Suite, TestDatabase, TestResult};
use ceiba_web::ServerLimits;
use ceiba_web::ratelimit::{RateLimitSettings, RateLimits};
use ceiba_web::ussd::UssdSettings;
use serde_json::json;

mod support;
use support::{
    TestServer, active_user, assert_ledger_sound, assert_problem, available_minor, cash_in_cup,
    ledger_state, openapi_document, pagos_sms_to, post_json_as, second_factor_token, set_pin,
    signed_in_user, test_state,
};

fn main() {
    let mut suite = Suite::new();
    each_engine!(suite:
        the_balance_needs_the_pin,
        a_transfer_shows_the_name_and_needs_the_pin,
        a_gateway_retry_of_the_final_request_moves_money_once,
        three_wrong_pins_lock_and_nothing_moves,
        an_idle_session_expires,
        invalid_choices_re_prompt_and_zero_goes_back,
        the_last_five_operations,
        a_changed_pin_replaces_the_old_one,
        bills_and_top_ups,
        only_the_gateway_may_call_and_callers_need_an_account_and_a_pin,
        long_names_never_make_a_screen_too_long,
        the_gateway_is_not_limited_per_address_but_others_are,
        a_service_that_is_away_is_a_screen_not_an_error,
        requests_to_pay_are_paid_or_declined_from_a_basic_phone,
    );
    suite.run()
}

const KEY: &str = "clave-de-la-pasarela-de-pruebas";
const SERVICE_CODE: &str = "*234#";
const OPERATOR_PHONE: &str = "+5352220000";
const PIN: &str = "2468";
const ANA: (&str, &str) = ("+5352001001", "Ana Pérez");
const BETO: (&str, &str) = ("+5352001002", "Roberto Díaz");

/// A served app with a running ledger, the USSD channel open to the gateway with [`KEY`], and
/// a bank operator signed in with a second factor.
struct Ussd {
    server: TestServer,
    engine: LedgerEngine,
    db: Db,
    operator: String,
}

/// A citizen with a USSD PIN.
struct Person {
    id: String,
    phone: &'static str,
    token: String,
}

impl Ussd {
    async fn start(db: &Db) -> Result<Ussd, String> {
        Ussd::with_settings(db, |settings| settings.with_gateway_key(KEY)).await
    }

    async fn with_settings(
        db: &Db,
        configure: impl FnOnce(UssdSettings) -> UssdSettings,
    ) -> Result<Ussd, String> {
        let mut state = ledger_state(db).await?;
        state.ussd = Arc::new(configure(UssdSettings::closed([3; 32])));
        let engine = state.ledger.clone().ok_or("the state has no ledger")?;
        let server = TestServer::with_state(state, ServerLimits::default())
            .await
            .map_err(|e| e.to_string())?;
        let operator =
            second_factor_token(&server, db, OPERATOR_PHONE, &[Role::BankOperator]).await?;
        Ok(Ussd {
            server,
            engine,
            db: db.clone(),
            operator,
        })
    }

    async fn stop(mut self) {
        self.server.shut_down();
        self.engine.stop().await;
    }

    /// A citizen with [`PIN`] and, when `cup` is given, that much in the wallet.
    async fn person(
        &self,
        (phone, name): (&'static str, &str),
        cup: Option<&str>,
    ) -> Result<Person, String> {
        let (id, token) =
            signed_in_user(&self.server, &self.db, phone, name, &[Role::Citizen]).await?;
        set_pin(&self.server, &token, PIN).await?;
        if let Some(amount) = cup {
            cash_in_cup(
                &self.server,
                &self.operator,
                phone,
                amount,
                &format!("deposito-{phone}"),
            )
            .await?;
        }
        Ok(Person { id, phone, token })
    }

    fn cup(&self, person: &Person) -> u64 {
        available_minor(&self.engine, &person.id, Currency::Cup)
    }

    /// One gateway request, as a form with the gateway's key.
    async fn post(
        &self,
        session: &str,
        phone: &str,
        text: &str,
        key: Option<&str>,
    ) -> Result<Response, String> {
        let body = form(&[
            ("sessionId", session),
            ("serviceCode", SERVICE_CODE),
            ("phoneNumber", phone),
            ("text", text),
            ("networkCode", "36801"),
        ]);
        let mut headers = vec![("content-type", "application/x-www-form-urlencoded")];
        headers.extend(key.map(|key| ("x-ceiba-ussd-key", key)));
        send(
            "POST",
            &self.server.url("/ussd"),
            &headers,
            body.into_bytes(),
        )
        .await
    }

    /// A new session of `phone`, not yet dialled.
    fn dial(&self, phone: &str) -> Dial<'_> {
        Dial {
            ussd: self,
            session: format!("ATUid_{}", uuid::Uuid::new_v4().simple()),
            phone: phone.to_owned(),
            inputs: Vec::new(),
        }
    }

    /// Completed operations of `person` (sent or received, newest first).
    async fn completed(&self, person: &Person) -> Result<usize, String> {
        let rows = self
            .db
            .payment_operations_of(&person.id, 0, i64::MAX, None, 500)
            .await
            .map_err(|e| e.to_string())?;
        Ok(rows
            .iter()
            .filter(|row| row.status == OperationStatus::Completed)
            .count())
    }
}

/// `application/x-www-form-urlencoded`, as gateways send it.
fn form(fields: &[(&str, &str)]) -> String {
    let encode = |text: &str| {
        text.bytes()
            .map(|byte| match byte {
                b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                    char::from(byte).to_string()
                }
                b' ' => "+".to_owned(),
                other => format!("%{other:02X}"),
            })
            .collect::<String>()
    };
    fields
        .iter()
        .map(|(name, value)| format!("{}={}", encode(name), encode(value)))
        .collect::<Vec<_>>()
        .join("&")
}

/// The screen of an answer, checked as every answer must be: 200, plain text, `CON ` or `END `
/// and at most 182 characters after it.
fn screen(response: &Response) -> String {
    assert_eq!(response.status, 200, "{}", response.text());
    assert_eq!(
        response.header("content-type"),
        Some("text/plain; charset=utf-8")
    );
    let text = response.text();
    let shown = text
        .strip_prefix("CON ")
        .or_else(|| text.strip_prefix("END "))
        .unwrap_or_else(|| panic!("neither CON nor END: {text}"));
    assert!(
        shown.chars().count() <= ceiba_ussd::SCREEN_CHARS_MAX,
        "{} characters: {text}",
        shown.chars().count()
    );
    text
}

/// One dial: each `send` adds an input and posts the whole text, as a gateway does.
struct Dial<'a> {
    ussd: &'a Ussd,
    session: String,
    phone: String,
    inputs: Vec<String>,
}

impl Dial<'_> {
    fn text(&self) -> String {
        self.inputs.join("*")
    }

    /// The first request (empty text): the main menu.
    async fn open(&mut self) -> Result<String, String> {
        let answer = self.resend().await?;
        assert!(answer.starts_with("CON Ceiba Pagos\n1 Saldo"), "{answer}");
        Ok(answer)
    }

    /// Types `input` and sends.
    async fn send(&mut self, input: &str) -> Result<String, String> {
        self.inputs.push(input.to_owned());
        self.resend().await
    }

    /// Sends the current text again, as a gateway's retry does.
    async fn resend(&self) -> Result<String, String> {
        let response = self
            .ussd
            .post(&self.session, &self.phone, &self.text(), Some(KEY))
            .await?;
        Ok(screen(&response))
    }
}

fn assert_has(screen: &str, part: &str) {
    assert!(screen.contains(part), "«{part}» not in:\n{screen}");
}

async fn the_balance_needs_the_pin(database: TestDatabase) -> TestResult {
    let ussd = Ussd::start(&database.db).await?;
    let ana = ussd.person(ANA, Some("1234.50")).await?;
    let mut dial = ussd.dial(ana.phone);
    dial.open().await?;
    assert_eq!(dial.send("1").await?, "CON Saldo\nEscriba su PIN:\n0 Atrás");
    assert_has(&dial.send("12").await?, "El PIN tiene 4 cifras.");
    assert_eq!(
        dial.send(PIN).await?,
        "END Saldo disponible:\n1.234,50 CUP\n0,00 USD"
    );
    // The session is over: more input is refused, the last answer is kept for a retry.
    assert_has(&dial.resend().await?, "Saldo disponible");
    assert_has(&dial.send("1").await?, "END Esta sesión ya terminó.");
    assert_ledger_sound(&ussd.engine);
    ussd.stop().await;
    Ok(())
}

/// Ana sends 150 CUP to Roberto through every screen of the transfer.
async fn transfer_to_beto(dial: &mut Dial<'_>) -> Result<String, String> {
    dial.open().await?;
    assert_eq!(
        dial.send("2").await?,
        "CON Transferir\nNúmero del destinatario:\n0 Atrás"
    );
    assert_eq!(
        dial.send("5200 1002").await?,
        "CON Para: Roberto Díaz\nMoneda:\n1 CUP\n2 USD\n0 Atrás"
    );
    assert_has(&dial.send("1").await?, "Importe en CUP:");
    assert_eq!(
        dial.send("150").await?,
        "CON ¿Enviar 150,00 CUP a Roberto Díaz (+5352001002)?\n1 Confirmar\n0 Atrás"
    );
    assert_eq!(
        dial.send("1").await?,
        "CON Enviar 150,00 CUP a Roberto Díaz\nEscriba su PIN para confirmar:\n0 Atrás"
    );
    dial.send(PIN).await
}

async fn a_transfer_shows_the_name_and_needs_the_pin(database: TestDatabase) -> TestResult {
    let ussd = Ussd::start(&database.db).await?;
    let ana = ussd.person(ANA, Some("1000")).await?;
    let beto = ussd.person(BETO, None).await?;
    let mut dial = ussd.dial(ana.phone);
    let done = transfer_to_beto(&mut dial).await?;
    assert!(
        done.starts_with("END Enviado 150,00 CUP a Roberto Díaz.\nRecibo: "),
        "{done}"
    );
    assert_has(&done, "Saldo: 850,00 CUP");
    assert_eq!(ussd.cup(&ana), 85_000);
    assert_eq!(ussd.cup(&beto), 15_000);
    // The receipt on the screen is the operation's, and both people got their SMS.
    let rows = ussd
        .db
        .payment_operations_of(&ana.id, 0, i64::MAX, None, 10)
        .await?;
    let sent = rows
        .iter()
        .find(|row| row.kind == "person_to_person")
        .ok_or("no transfer recorded")?;
    let receipt = sent.receipt_code.clone().ok_or("no receipt")?;
    assert_has(&done, &format!("Recibo: {receipt}"));
    assert!(
        sent.idempotency_key
            .as_deref()
            .is_some_and(|key| key.starts_with("ussd-")),
        "{sent:?}"
    );
    let to_ana = pagos_sms_to(&ussd.db, ana.phone).await?;
    assert!(
        to_ana.iter().any(|sms| sms.contains(&receipt)),
        "{to_ana:?}"
    );
    let to_beto = pagos_sms_to(&ussd.db, beto.phone).await?;
    assert!(
        to_beto
            .iter()
            .any(|sms| sms.contains("recibio 150.00 CUP de Ana")),
        "{to_beto:?}"
    );
    assert!(
        to_ana.iter().chain(&to_beto).all(|sms| !sms.contains(PIN)),
        "no SMS carries the PIN"
    );
    // Money is conserved: what left Ana is what reached Roberto.
    assert_eq!(ussd.cup(&ana) + ussd.cup(&beto), 100_000);
    assert_ledger_sound(&ussd.engine);
    ussd.stop().await;
    Ok(())
}

async fn a_gateway_retry_of_the_final_request_moves_money_once(
    database: TestDatabase,
) -> TestResult {
    let ussd = Ussd::start(&database.db).await?;
    let ana = ussd.person(ANA, Some("1000")).await?;
    let beto = ussd.person(BETO, None).await?;

    // The answer to the final request is lost; the gateway sends it again.
    let mut dial = ussd.dial(ana.phone);
    let done = transfer_to_beto(&mut dial).await?;
    assert_eq!(dial.resend().await?, done);
    assert_eq!(dial.resend().await?, done);
    assert_eq!(ussd.cup(&ana), 85_000);
    assert_eq!(ussd.completed(&beto).await?, 1);

    // Two copies of the final request at once (a retry racing the first, perhaps on another
    // process): the same answer, one transfer.
    let mut racing = ussd.dial(ana.phone);
    racing.open().await?;
    for input in ["2", "52001002", "1", "150", "1"] {
        racing.send(input).await?;
    }
    racing.inputs.push(PIN.to_owned());
    let (first, second) = tokio::join!(racing.resend(), racing.resend());
    let (first, second) = (first?, second?);
    assert!(first.starts_with("END Enviado 150,00 CUP"), "{first}");
    let receipt = |screen: &str| {
        screen
            .lines()
            .find(|line| line.starts_with("Recibo: "))
            .map(str::to_owned)
    };
    assert_eq!(receipt(&first), receipt(&second), "{first}\n{second}");
    assert_eq!(ussd.cup(&ana), 70_000);
    assert_eq!(ussd.cup(&beto), 30_000);
    assert_eq!(ussd.completed(&beto).await?, 2);
    assert_ledger_sound(&ussd.engine);
    ussd.stop().await;
    Ok(())
}

async fn three_wrong_pins_lock_and_nothing_moves(database: TestDatabase) -> TestResult {
    let ussd = Ussd::start(&database.db).await?;
    let ana = ussd.person(ANA, Some("1000")).await?;
    let beto = ussd.person(BETO, None).await?;
    let mut dial = ussd.dial(ana.phone);
    dial.open().await?;
    for input in ["2", "52001002", "1", "150", "1"] {
        dial.send(input).await?;
    }
    assert_has(
        &dial.send("1357").await?,
        "CON PIN incorrecto. Le quedan 2 intentos.",
    );
    // A guessable PIN is nobody's: it is wrong like any other.
    assert_has(
        &dial.send("1234").await?,
        "CON PIN incorrecto. Le queda 1 intento.",
    );
    let locked = dial.send("9753").await?;
    assert!(
        locked.starts_with(
            "END PIN bloqueado en USSD por intentos fallidos. Pruebe de nuevo en 15 min."
        ),
        "{locked}"
    );
    assert_has(&locked, "No se movió dinero.");
    assert_eq!(ussd.cup(&ana), 100_000);
    assert_eq!(ussd.cup(&beto), 0);
    assert_eq!(ussd.completed(&beto).await?, 0);
    // The owner hears of it; nothing in the message asks for the PIN.
    let notices = pagos_sms_to(&ussd.db, ana.phone).await?;
    assert!(
        notices
            .iter()
            .any(|sms| sms.contains("queda bloqueado 15 min")),
        "{notices:?}"
    );

    // The lock holds in another session, even with the right PIN, and for the balance too.
    let mut again = ussd.dial(ana.phone);
    again.open().await?;
    again.send("1").await?;
    assert_has(&again.send(PIN).await?, "END PIN bloqueado");
    let mut transfer = ussd.dial(ana.phone);
    transfer.open().await?;
    for input in ["2", "52001002", "1", "150", "1"] {
        transfer.send(input).await?;
    }
    assert_has(&transfer.send(PIN).await?, "END PIN bloqueado");
    assert_eq!(ussd.cup(&ana), 100_000);

    // Fifteen minutes later the right PIN works again, and the counter starts afresh.
    ussd.server.clock.advance(Duration::from_secs(15 * 60 + 1));
    let mut later = ussd.dial(ana.phone);
    later.open().await?;
    later.send("1").await?;
    assert_has(
        &later.send(PIN).await?,
        "END Saldo disponible:\n1.000,00 CUP",
    );
    let entries = ussd.db.audit_entries(0, 1000).await?;
    assert!(
        entries.iter().any(|entry| {
            let text = String::from_utf8_lossy(&entry.data);
            text.contains("account_locked") && text.contains("ussd")
        }),
        "the lock is in the audit log"
    );
    assert_ledger_sound(&ussd.engine);
    ussd.stop().await;
    Ok(())
}

async fn an_idle_session_expires(database: TestDatabase) -> TestResult {
    let ussd = Ussd::start(&database.db).await?;
    let ana = ussd.person(ANA, Some("1000")).await?;
    let mut dial = ussd.dial(ana.phone);
    dial.open().await?;
    dial.send("2").await?;
    dial.send("52001002").await?;
    // 180 s is still fine; a little more is not.
    ussd.server.clock.advance(Duration::from_secs(170));
    dial.send("1").await?;
    ussd.server.clock.advance(Duration::from_secs(181));
    let expired = dial.send("150").await?;
    assert_eq!(
        expired,
        "END Su sesión expiró por falta de respuesta. No se movió dinero. Marque de nuevo para \
         empezar."
    );
    assert_eq!(dial.resend().await?, expired, "a retry hears the same");
    assert_has(&dial.send("1").await?, "END Esta sesión ya terminó.");
    assert_eq!(ussd.cup(&ana), 100_000);
    ussd.stop().await;
    Ok(())
}

async fn invalid_choices_re_prompt_and_zero_goes_back(database: TestDatabase) -> TestResult {
    let ussd = Ussd::start(&database.db).await?;
    let ana = ussd.person(ANA, Some("1000")).await?;
    ussd.person(BETO, None).await?;
    let mut dial = ussd.dial(ana.phone);
    let menu = dial.open().await?;
    let invalid = dial.send("9").await?;
    assert_eq!(invalid, menu.replacen("CON ", "CON Opción no válida.\n", 1));
    assert_eq!(dial.send("").await?, invalid);
    assert_has(&dial.send("2").await?, "Número del destinatario:");
    assert_eq!(dial.send("0").await?, menu);
    dial.send("2").await?;
    assert_has(&dial.send("123").await?, "CON Número no válido");
    // Refusals of the recipient ask again, under the service's reason.
    let unknown = dial.send("52009999").await?;
    assert!(
        unknown.starts_with("CON No hay ninguna cuenta activa"),
        "{unknown}"
    );
    assert!(
        unknown.ends_with("\nTransferir\nNúmero del destinatario:\n0 Atrás"),
        "{unknown}"
    );
    let own = dial.send(ana.phone).await?;
    assert!(
        own.ends_with("\nTransferir\nNúmero del destinatario:\n0 Atrás") && own != unknown,
        "{own}"
    );
    let currency = dial.send("52001002").await?;
    assert_has(&currency, "Para: Roberto Díaz");
    assert_has(
        &dial.send("3").await?,
        "CON Opción no válida.\nPara: Roberto Díaz",
    );
    assert_has(&dial.send("1").await?, "Importe en CUP:");
    assert_has(&dial.send("12,345").await?, "Como mucho dos decimales.");
    assert_has(
        &dial.send("0,00").await?,
        "El importe debe ser mayor que cero.",
    );
    assert_eq!(dial.send("0").await?, currency, "back to the currency");
    dial.send("1").await?;
    dial.send("2000").await?;
    assert_has(&dial.send("1").await?, "Escriba su PIN para confirmar:");
    assert_has(
        &dial.send("0").await?,
        "¿Enviar 2.000,00 CUP a Roberto Díaz",
    );
    dial.send("1").await?;
    // More than she has: refused by the ledger, said in Spanish, nothing moved.
    let refused = dial.send(PIN).await?;
    assert!(refused.starts_with("END No se pudo enviar:"), "{refused}");
    assert_has(&refused, "No se movió dinero.");
    assert_eq!(ussd.cup(&ana), 100_000);
    assert_ledger_sound(&ussd.engine);
    ussd.stop().await;
    Ok(())
}

async fn the_last_five_operations(database: TestDatabase) -> TestResult {
    let ussd = Ussd::start(&database.db).await?;
    let ana = ussd.person(ANA, Some("1000")).await?;
    let beto = ussd.person(BETO, None).await?;
    for amount in 1..=6 {
        let body =
            json!({"to_phone": beto.phone, "currency": "CUP", "amount": format!("{amount}0")});
        let response = post_json_as(
            &ussd.server,
            "/api/v1/payments/transfers",
            &ana.token,
            Some(&format!("envio-{amount}")),
            &body,
        )
        .await?;
        assert_eq!(response.status, 201, "{}", response.text());
    }
    let mut dial = ussd.dial(ana.phone);
    dial.open().await?;
    dial.send("5").await?;
    let list = dial.send(PIN).await?;
    let lines: Vec<&str> = list.lines().collect();
    assert_eq!(lines[0], "END Últimas operaciones:", "{list}");
    assert_eq!(lines.len(), 6, "five operations: {list}");
    assert!(lines[1].ends_with("-60,00 CUP Roberto Díaz"), "{list}");
    assert!(lines[5].ends_with("-20,00 CUP Roberto Díaz"), "{list}");
    // Roberto sees them as money in, from Ana.
    let mut his = ussd.dial(beto.phone);
    his.open().await?;
    his.send("5").await?;
    assert_has(&his.send(PIN).await?, "+60,00 CUP Ana Pérez");
    // Someone with nothing yet.
    let carla = ussd.person(("+5352001003", "Carla"), None).await?;
    let mut hers = ussd.dial(carla.phone);
    hers.open().await?;
    hers.send("5").await?;
    assert_eq!(hers.send(PIN).await?, "END Aún no tiene operaciones.");
    assert_ledger_sound(&ussd.engine);
    ussd.stop().await;
    Ok(())
}

async fn a_changed_pin_replaces_the_old_one(database: TestDatabase) -> TestResult {
    let ussd = Ussd::start(&database.db).await?;
    let ana = ussd.person(ANA, Some("1000")).await?;
    let mut dial = ussd.dial(ana.phone);
    dial.open().await?;
    assert_has(&dial.send("6").await?, "Escriba su PIN actual:");
    assert_has(&dial.send(PIN).await?, "Nuevo PIN (4 cifras):");
    assert_has(&dial.send("1111").await?, "Ese PIN es fácil de adivinar.");
    assert_has(&dial.send(PIN).await?, "distinto del actual");
    assert_has(&dial.send("1357").await?, "Repita el nuevo PIN:");
    assert_has(&dial.send("1358").await?, "Los PIN no coinciden.");
    dial.send("1357").await?;
    assert_eq!(
        dial.send("1357").await?,
        "END Su PIN se cambió. Úselo desde ahora en USSD. Le enviamos un SMS de aviso."
    );
    let notices = pagos_sms_to(&ussd.db, ana.phone).await?;
    assert!(
        notices
            .iter()
            .any(|sms| sms.contains("PIN de USSD se cambio")),
        "{notices:?}"
    );

    // The old PIN is wrong now (and counts); the new one works.
    let mut old = ussd.dial(ana.phone);
    old.open().await?;
    old.send("1").await?;
    assert_has(
        &old.send(PIN).await?,
        "PIN incorrecto. Le quedan 2 intentos.",
    );
    assert_has(
        &old.send("1357").await?,
        "END Saldo disponible:\n1.000,00 CUP",
    );
    // A right PIN forgets the wrong ones.
    let counter = ussd.db.ussd_pin_failures(&ana.id).await?;
    assert_eq!(counter.failures, 0);
    ussd.stop().await;
    Ok(())
}

async fn bills_and_top_ups(database: TestDatabase) -> TestResult {
    let ussd = Ussd::start(&database.db).await?;
    let ana = ussd.person(ANA, Some("1000")).await?;
    let inserted = ussd
        .db
        .insert_bills(
            "une",
            &[NewBill {
                reference: "F-2026-0001",
                customer_name: "Ana Pérez Gómez",
                amount_minor: 24_530,
                currency: "CUP",
                due_date: "2026-12-31",
                period: "noviembre de 2026",
            }],
            0,
        )
        .await?;
    assert_eq!(inserted, InsertBills::Inserted(1));

    let mut dial = ussd.dial(ana.phone);
    dial.open().await?;
    let list = dial.send("3").await?;
    assert!(list.starts_with("CON Pagar factura\n1 "), "{list}");
    let une = list
        .lines()
        .find(|line| line.contains("UNE"))
        .and_then(|line| line.split(' ').next())
        .ok_or_else(|| format!("no UNE in {list}"))?
        .to_owned();
    assert!(
        !list.contains("Recargas"),
        "top-ups have their own entry: {list}"
    );
    assert_has(&dial.send(&une).await?, "Referencia de la factura:");
    assert_has(
        &dial.send("F-2026-9999").await?,
        "no tiene ninguna factura «F-2026-9999»",
    );
    let bill = dial.send("f-2026-0001").await?;
    assert_has(&bill, "A** P**** G****");
    assert_has(&bill, "Importe: 245,30 CUP\n1 Pagar\n0 Atrás");
    assert_has(&dial.send("1").await?, "Pagar 245,30 CUP a UNE");
    let paid = dial.send(PIN).await?;
    assert!(
        paid.starts_with("END Pagado 245,30 CUP a UNE Empresa Eléctrica.\nRecibo: "),
        "{paid}"
    );
    assert_eq!(ussd.cup(&ana), 100_000 - 24_530);
    // Paid once: a second look says so.
    let mut again = ussd.dial(ana.phone);
    again.open().await?;
    again.send("3").await?;
    again.send(&une).await?;
    assert_has(&again.send("F-2026-0001").await?, "ya está pagada");

    // A mobile top-up of a denomination on sale, then one of another amount.
    let mut top_up = ussd.dial(ana.phone);
    top_up.open().await?;
    assert_has(&top_up.send("4").await?, "1 Móvil\n2 Nauta");
    top_up.send("1").await?;
    top_up.send("52223333").await?;
    assert_has(
        &top_up.send("100").await?,
        "¿Recargar 100,00 CUP a +5352223333?",
    );
    top_up.send("1").await?;
    let done = top_up.send(PIN).await?;
    assert!(done.starts_with("END Recargado 100,00 CUP a "), "{done}");
    assert_eq!(ussd.cup(&ana), 100_000 - 24_530 - 10_000);
    let mut odd = ussd.dial(ana.phone);
    odd.open().await?;
    for input in ["4", "2", "pepe", "1", "1"] {
        odd.send(input).await?;
    }
    let refused = odd.send(PIN).await?;
    assert!(refused.starts_with("END No se pudo recargar:"), "{refused}");
    assert_eq!(ussd.cup(&ana), 100_000 - 24_530 - 10_000);
    assert_ledger_sound(&ussd.engine);
    ussd.stop().await;
    Ok(())
}

async fn only_the_gateway_may_call_and_callers_need_an_account_and_a_pin(
    database: TestDatabase,
) -> TestResult {
    let ussd = Ussd::start(&database.db).await?;
    let ana = ussd.person(ANA, Some("10")).await?;
    for key in [None, Some("otra-clave-cualquiera-de-prueba")] {
        let response = ussd.post("s1", ana.phone, "", key).await?;
        assert_problem(&response, 403, "ussd_gateway_rejected", "/ussd");
    }
    // JSON is accepted too; other media types are not; fields are required.
    let body = json!({"sessionId": "s2", "serviceCode": SERVICE_CODE, "phoneNumber": ana.phone,
        "text": "1"});
    let response = ussd
        .server
        .send_json("POST", "/ussd", &body, &[("x-ceiba-ussd-key", KEY)])
        .await?;
    assert_eq!(screen(&response), "CON Saldo\nEscriba su PIN:\n0 Atrás");
    let response = send(
        "POST",
        &ussd.server.url("/ussd"),
        &[("content-type", "text/plain"), ("x-ceiba-ussd-key", KEY)],
        b"sessionId=s3".to_vec(),
    )
    .await?;
    assert_problem(&response, 415, "unsupported_media_type", "/ussd");
    let response = send(
        "POST",
        &ussd.server.url("/ussd"),
        &[
            ("content-type", "application/x-www-form-urlencoded"),
            ("x-ceiba-ussd-key", KEY),
        ],
        b"sessionId=s3&text=1".to_vec(),
    )
    .await?;
    assert_problem(&response, 400, "bad_request", "/ussd");
    let response = send(
        "POST",
        &ussd.server.url("/ussd"),
        &[
            ("content-type", "application/x-www-form-urlencoded"),
            ("x-ceiba-ussd-key", KEY),
        ],
        format!("sessionId=s3&text={}", "1".repeat(5_000)).into_bytes(),
    )
    .await?;
    assert_problem(&response, 413, "payload_too_large", "/ussd");

    // A number without an account, and an account without a PIN, are told what to do.
    let unknown = ussd.post("s4", "+5352999999", "", Some(KEY)).await?;
    assert_has(
        &screen(&unknown),
        "END Este número no tiene una cuenta activa",
    );
    signed_in_user(
        &ussd.server,
        &ussd.db,
        "+5352001009",
        "Sin PIN",
        &[Role::Citizen],
    )
    .await?;
    let no_pin = ussd.post("s5", "+5352001009", "", Some(KEY)).await?;
    assert_has(&screen(&no_pin), "END Aún no tiene PIN para USSD.");
    // A session belongs to the number that began it.
    ussd.post("s6", ana.phone, "", Some(KEY)).await?;
    let other = ussd.person(BETO, None).await?;
    let hijack = ussd.post("s6", other.phone, "1", Some(KEY)).await?;
    assert_has(&screen(&hijack), "END La sesión no es válida.");
    // The plain-ASCII fallback, for handsets without accents.
    let body = json!({"sessionId": "s7", "serviceCode": SERVICE_CODE, "phoneNumber": ana.phone,
        "text": "", "ascii": "1"});
    let response = ussd
        .server
        .send_json("POST", "/ussd", &body, &[("x-ceiba-ussd-key", KEY)])
        .await?;
    let ascii = screen(&response);
    assert!(
        ascii.is_ascii() && ascii.contains("5 Ultimas operaciones"),
        "{ascii}"
    );
    ussd.stop().await;

    // A server with no gateway key configured refuses everyone; /ussd is in the OpenAPI document.
    let mut closed = TestServer::start(&database.db).await?;
    let body = form(&[
        ("sessionId", "s8"),
        ("phoneNumber", ana.phone),
        ("text", ""),
    ]);
    let response = send(
        "POST",
        &closed.url("/ussd"),
        &[
            ("content-type", "application/x-www-form-urlencoded"),
            ("x-ceiba-ussd-key", KEY),
        ],
        body.into_bytes(),
    )
    .await?;
    let problem = assert_problem(&response, 403, "ussd_gateway_rejected", "/ussd");
    assert!(
        problem["detail"]
            .as_str()
            .is_some_and(|detail| detail.contains("ussd.gateway_key")),
        "{problem}"
    );
    let document = openapi_document(&closed).await?;
    let operation = &document["paths"]["/ussd"]["post"];
    assert_eq!(operation["tags"], json!(["pagos"]), "{operation}");
    assert!(
        operation["requestBody"]["content"]["application/x-www-form-urlencoded"].is_object(),
        "{operation}"
    );
    closed.shut_down();
    Ok(())
}

async fn long_names_never_make_a_screen_too_long(database: TestDatabase) -> TestResult {
    let ussd = Ussd::start(&database.db).await?;
    let ana = ussd.person(ANA, Some("1000")).await?;
    let long = "María de los Ángeles Hernández Rodríguez de la Caridad Peñalver y Güell \
                Fernández-Castellanos del Monte";
    let beto = ussd.person((BETO.0, long), None).await?;
    let mut dial = ussd.dial(ana.phone);
    dial.open().await?;
    dial.send("2").await?;
    // `screen` checks the length of every answer; these are the ones with the name.
    assert_has(&dial.send(beto.phone).await?, "Para: María de los Ángeles");
    dial.send("1").await?;
    assert_has(&dial.send("999999").await?, "...");
    dial.send("1").await?;
    let refused = dial.send(PIN).await?;
    assert!(refused.starts_with("END "), "{refused}");
    let mut small = ussd.dial(ana.phone);
    small.open().await?;
    for input in ["2", beto.phone, "1", "1", "1"] {
        small.send(input).await?;
    }
    assert_has(&small.send(PIN).await?, "END Enviado 1,00 CUP a María");
    let mut his = ussd.dial(beto.phone);
    his.open().await?;
    his.send("5").await?;
    assert_has(&his.send(PIN).await?, "+1,00 CUP Ana Pérez");
    assert_ledger_sound(&ussd.engine);
    ussd.stop().await;
    Ok(())
}

/// The gateway speaks for every basic phone from one address: the per-address limit would stop
/// the whole channel, so requests with its key pass; anyone else at that address is limited.
async fn the_gateway_is_not_limited_per_address_but_others_are(
    database: TestDatabase,
) -> TestResult {
    let mut server = without_ledger(&database.db, 3).await?;
    let post = |key: Option<&'static str>, session: String| {
        let url = server.url("/ussd");
        async move {
            let body = form(&[
                ("sessionId", &session),
                ("serviceCode", SERVICE_CODE),
                ("phoneNumber", ANA.0),
                ("text", ""),
            ]);
            let mut headers = vec![("content-type", "application/x-www-form-urlencoded")];
            headers.extend(key.map(|key| ("x-ceiba-ussd-key", key)));
            send("POST", &url, &headers, body.into_bytes()).await
        }
    };
    for index in 0..10 {
        let response = post(Some(KEY), format!("g{index}")).await?;
        assert!(screen(&response).starts_with("CON Ceiba Pagos"));
    }
    let mut statuses = Vec::new();
    for index in 0..5 {
        statuses.push(post(None, format!("x{index}")).await?.status);
    }
    assert_eq!(statuses, [403, 403, 403, 429, 429]);
    server.shut_down();
    Ok(())
}

/// A server without a ledger, allowing `per_minute` requests per address, where Ana has [`PIN`]
/// (set in storage: a sign-in would spend the small quota).
async fn without_ledger(db: &Db, per_minute: u32) -> Result<TestServer, String> {
    let mut state = test_state(db);
    state.ussd = Arc::new(UssdSettings::closed([3; 32]).with_gateway_key(KEY));
    state.rate_limits = Arc::new(RateLimits::new(&RateLimitSettings {
        requests_per_minute: per_minute,
        sensitive_requests_per_minute: per_minute,
        trusted_proxies: Vec::new(),
    }));
    let id = active_user(db, ANA.0, &[Role::Citizen]).await?;
    let hasher =
        CredentialHasher::new(Argon2Config::INSECURE_FOR_TESTS).map_err(|e| e.to_string())?;
    let hash = hasher.hash(
        &Pin::parse(PIN).map_err(|e| e.to_string())?,
        &mut rand::rng(),
    );
    db.set_pin_hash(&id, &hash)
        .await
        .map_err(|e| e.to_string())?;
    TestServer::with_state(state, ServerLimits::default())
        .await
        .map_err(|e| e.to_string())
}

async fn a_service_that_is_away_is_a_screen_not_an_error(database: TestDatabase) -> TestResult {
    let mut server = without_ledger(&database.db, 1_000).await?;
    let body = form(&[
        ("sessionId", "sin-libro"),
        ("serviceCode", SERVICE_CODE),
        ("phoneNumber", ANA.0),
        ("text", &format!("1*{PIN}")),
    ]);
    let response = send(
        "POST",
        &server.url("/ussd"),
        &[
            ("content-type", "application/x-www-form-urlencoded"),
            ("x-ceiba-ussd-key", KEY),
        ],
        body.into_bytes(),
    )
    .await?;
    assert_eq!(
        screen(&response),
        "END El servicio no está disponible ahora. Pruebe más tarde. Si se movió dinero, \
         recibirá un SMS."
    );
    server.shut_down();
    Ok(())
}

async fn requests_to_pay_are_paid_or_declined_from_a_basic_phone(
    database: TestDatabase,
) -> TestResult {
    let ussd = Ussd::start(&database.db).await?;
    let ana = ussd.person(ANA, None).await?;
    let beto = ussd.person(BETO, Some("500")).await?;
    for (amount, note) in [("80", "Almuerzo"), ("30", "Taxi")] {
        let asked = post_json_as(
            &ussd.server,
            "/api/v1/payment-requests",
            &ana.token,
            None,
            &serde_json::json!({"to_phone": BETO.0, "currency": "CUP", "amount": amount,
                "note": note}),
        )
        .await?;
        assert_eq!(asked.status, 201, "{}", asked.text());
    }

    // Roberto pays the lunch from his basic phone, with his PIN.
    let mut dial = ussd.dial(beto.phone);
    dial.open().await?;
    let list = dial.send("7").await?;
    assert_has(&list, "Le piden que pague");
    let lunch = if list.contains("1 Ana Pérez 80,00 CUP") {
        "1"
    } else {
        "2"
    };
    assert_has(&list, "Ana Pérez 30,00 CUP");
    let chosen = dial.send(lunch).await?;
    assert_has(
        &chosen,
        "Ana Pérez le pide 80,00 CUP\nAlmuerzo\n1 Pagar\n2 Rechazar",
    );
    assert_has(&dial.send("1").await?, "Escriba su PIN para confirmar");
    let paid = dial.send(PIN).await?;
    assert!(
        paid.starts_with("END Pagado 80,00 CUP a Ana Pérez."),
        "{paid}"
    );
    assert_has(&paid, "Saldo: 420,00 CUP");
    assert_has(&dial.resend().await?, "Pagado 80,00 CUP");
    assert_eq!(ussd.cup(&ana), 8_000, "paid once, the retry included");

    // He declines the taxi; nothing moves and the list is empty after.
    let mut dial = ussd.dial(beto.phone);
    dial.open().await?;
    let list = dial.send("7").await?;
    assert_has(&list, "1 Ana Pérez 30,00 CUP");
    dial.send("1").await?;
    assert_has(&dial.send("2").await?, "Rechazar lo que pide Ana Pérez");
    assert_has(&dial.send("1111").await?, "PIN incorrecto");
    let declined = dial.send(PIN).await?;
    assert_eq!(
        declined,
        "END Rechazó la solicitud de Ana Pérez. No se movió dinero."
    );
    let mut dial = ussd.dial(beto.phone);
    dial.open().await?;
    assert_eq!(
        dial.send("7").await?,
        "END No tiene solicitudes de pago pendientes."
    );
    assert_eq!(ussd.cup(&beto), 42_000);
    assert_ledger_sound(&ussd.engine);
    ussd.stop().await;
    Ok(())
}
