//! A person's view: headless Chromium (Debian's `chromium` driven through `chromedriver`)
//! opens the home page of a real `ceiba serve`, in Spanish and in English, and goes through
//! the account pages: sign-up, confirmation with the SMS code, sign-in, sessions, sign-out; and
//! Pagos as a person uses it: money sent to another person (checking their name first) and a
//! bill paid, with the balances right afterwards.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use ceiba_testkit::process::ServeProcess;
use ceiba_testkit::{Suite, TestResult};
use fantoccini::{Client, ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;

const PROGRAMS: &[&str] = &["chromium", "chromedriver"];

fn main() {
    let mut suite = Suite::new();
    suite.with_programs(
        "home_page_in_spanish_then_english",
        PROGRAMS,
        home_page_languages,
    );
    suite.with_programs(
        "sign_up_confirm_and_sign_in_through_the_forms_in_spanish",
        PROGRAMS,
        account_through_the_forms,
    );
    suite.with_programs(
        "send_money_and_pay_a_bill_through_the_pagos_pages",
        PROGRAMS,
        send_money_and_pay_a_bill,
    );
    suite.with_programs(
        "a_merchant_shows_a_dynamic_qr_a_buyer_pays_it_and_the_merchant_page_shows_it",
        PROGRAMS,
        pay_a_merchant_by_qr,
    );
    suite.with_programs(
        "salud_dashboards_draw_curves_and_a_map_and_lead_from_the_nation_to_a_municipality",
        PROGRAMS,
        salud_dashboards,
    );
    suite.with_programs(
        "the_encyclopedia_is_read_edited_compared_and_searched_in_chromium",
        PROGRAMS,
        encyclopedia,
    );
    suite.with_programs(
        "pages_load_over_a_2g_link_within_their_byte_budget",
        PROGRAMS,
        slow_link,
    );
    suite.run()
}

/// A chromedriver on a free port; killed when dropped.
struct Driver {
    process: tokio::process::Child,
    url: String,
}

impl Driver {
    async fn start(chromedriver: &Path) -> Result<Driver, String> {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|listener| listener.local_addr())
            .map_err(|error| error.to_string())?
            .port();
        let process = tokio::process::Command::new(chromedriver)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .map_err(|error| format!("chromedriver: {error}"))?;
        let started = Instant::now();
        while tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_err()
        {
            if started.elapsed() > Duration::from_secs(20) {
                return Err("chromedriver no abrió su puerto en 20 s".to_owned());
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        Ok(Driver {
            process,
            url: format!("http://127.0.0.1:{port}"),
        })
    }

    /// A fresh headless browser whose preferred language is `accept_language`.
    async fn browser(
        &self,
        chromium: &Path,
        profile: &Path,
        accept_language: &str,
    ) -> Result<Client, String> {
        let capabilities = serde_json::json!({
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": chromium.display().to_string(),
                "args": [
                    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                    "--disable-quic", "--no-first-run", "--disable-background-networking",
                    "--disable-component-update", "--disable-sync", "--window-size=800,900",
                    format!("--user-data-dir={}", profile.display()),
                ],
                "prefs": { "intl.accept_languages": accept_language },
            }
        });
        let serde_json::Value::Object(capabilities) = capabilities else {
            unreachable!("a JSON object literal")
        };
        ClientBuilder::new(HttpConnector::new())
            .capabilities(capabilities)
            .connect(&self.url)
            .await
            .map_err(|error| format!("no se pudo abrir Chromium: {error}"))
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.process.start_kill();
    }
}

async fn text_of(client: &Client, css: &str) -> Result<String, String> {
    client
        .find(Locator::Css(css))
        .await
        .map_err(|error| format!("{css}: {error}"))?
        .text()
        .await
        .map_err(|error| format!("{css}: {error}"))
}

async fn page_lang(client: &Client) -> Result<String, String> {
    client
        .find(Locator::Css("html"))
        .await
        .map_err(|error| error.to_string())?
        .attr("lang")
        .await
        .map_err(|error| error.to_string())?
        .ok_or_else(|| "html sin lang".to_owned())
}

async fn home_page_languages(programs: Vec<PathBuf>) -> TestResult {
    let (chromium, chromedriver) = (&programs[0], &programs[1]);
    let dir = tempfile::tempdir()?;
    let server = ServeProcess::start(
        Path::new(env!("CARGO_BIN_EXE_ceiba")),
        &[
            "--data-dir".to_owned(),
            dir.path().join("datos").display().to_string(),
        ],
        &[],
    )
    .await?;
    let driver = Driver::start(chromedriver).await?;

    // A browser set to Spanish sees Spanish, with the stylesheet applied.
    let spanish = driver
        .browser(chromium, &dir.path().join("perfil-es"), "es-ES,es")
        .await?;
    let outcome = async {
        spanish.goto(&server.url("/")).await?;
        assert_eq!(page_lang(&spanish).await?, "es");
        assert_eq!(spanish.title().await?, "Servicios · Ceiba");
        assert_eq!(text_of(&spanish, "#pagos h3").await?, "Pagos");
        assert_eq!(text_of(&spanish, "#salud h3").await?, "Salud");
        assert_eq!(text_of(&spanish, "#enciclopedia h3").await?, "Enciclopedia");
        assert!(text_of(&spanish, "#pagos p").await?.contains("USSD"));
        let header_color = spanish
            .find(Locator::Css("header.sitio"))
            .await?
            .css_value("background-color")
            .await?;
        assert_eq!(
            header_color, "rgba(31, 95, 58, 1)",
            "the stylesheet did not apply"
        );
        let screenshot = spanish.screenshot().await?;
        assert!(
            screenshot.starts_with(b"\x89PNG"),
            "the screenshot is not a PNG"
        );
        if let Ok(folder) = std::env::var("CEIBA_TEST_SCREENSHOTS") {
            std::fs::write(Path::new(&folder).join("inicio-es.png"), &screenshot)?;
        }

        // The visible toggle switches to English, and the choice is remembered.
        let toggle = spanish.find(Locator::Id("cambiar-idioma")).await?;
        assert_eq!(toggle.text().await?, "English");
        toggle.click().await?;
        assert_eq!(page_lang(&spanish).await?, "en");
        assert_eq!(text_of(&spanish, "#pagos h3").await?, "Payments");
        assert_eq!(text_of(&spanish, "#cambiar-idioma").await?, "Español");
        spanish.goto(&server.url("/")).await?;
        assert_eq!(text_of(&spanish, "#salud h3").await?, "Health");
        Ok::<(), Box<dyn std::error::Error + Send + Sync>>(())
    }
    .await;
    spanish.close().await?;
    outcome?;

    // A browser set to English sees English from the first page.
    let english = driver
        .browser(chromium, &dir.path().join("perfil-en"), "en-US,en")
        .await?;
    let outcome = async {
        english.goto(&server.url("/")).await?;
        assert_eq!(page_lang(&english).await?, "en");
        assert_eq!(text_of(&english, "#enciclopedia h3").await?, "Encyclopedia");
        assert!(
            text_of(&english, ".lema")
                .await?
                .contains("Public digital services")
        );
        Ok::<(), Box<dyn std::error::Error + Send + Sync>>(())
    }
    .await;
    english.close().await?;
    outcome?;

    let (code, _) = server.stop().await?;
    assert_eq!(code, Some(0));
    Ok(())
}

/// The file `ceiba serve`'s default SMS sender appends to, in the data folder (`SENT_LOG_FILE`).
const SENT_LOG_FILE: &str = "sms-enviados.log";
/// The SMS outbox is dispatched every 2 s; a code must have left within this.
const SMS_WAIT: Duration = Duration::from_secs(10);
/// A form that hashes a password runs Argon2 at the real parameters, slow in a debug build.
const SUBMIT_WAIT: Duration = Duration::from_secs(60);

/// The six digits of the first SMS sent to `phone_e164`, from the file sender's log
/// (`<ms>\t<id>\t<phone>\t<body>` per line), polled until it appears.
async fn code_from_sms_log(data_dir: &Path, phone_e164: &str) -> Result<String, String> {
    let started = Instant::now();
    loop {
        let log = std::fs::read_to_string(data_dir.join(SENT_LOG_FILE)).unwrap_or_default();
        let code = log.lines().find_map(|line| {
            let fields: Vec<&str> = line.splitn(4, '\t').collect();
            let [_, _, phone, body] = fields.as_slice() else {
                return None;
            };
            (*phone == phone_e164)
                .then(|| {
                    body.split(|c: char| !c.is_ascii_digit())
                        .find(|word| word.len() == 6)
                })
                .flatten()
                .map(str::to_owned)
        });
        if let Some(code) = code {
            return Ok(code);
        }
        if started.elapsed() > SMS_WAIT {
            return Err(format!(
                "ningún SMS a {phone_e164} en {SENT_LOG_FILE} tras {} s: «{log}»",
                SMS_WAIT.as_secs()
            ));
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Waits until the browser shows `path` (a form's redirect), and returns the query.
async fn wait_for_path(client: &Client, path: &str) -> Result<Option<String>, String> {
    let started = Instant::now();
    loop {
        let url = client
            .current_url()
            .await
            .map_err(|error| error.to_string())?;
        if url.path() == path {
            return Ok(url.query().map(str::to_owned));
        }
        if started.elapsed() > SUBMIT_WAIT {
            let shown = text_of(client, "main").await.unwrap_or_default();
            return Err(format!(
                "se esperaba {path}, y el navegador está en {url}: {shown}"
            ));
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Types into the fields of the page's account form, as a person would, and sends it.
async fn fill_and_send(client: &Client, fields: &[(&str, &str)]) -> Result<(), String> {
    for (id, value) in fields {
        let field = client
            .find(Locator::Id(id))
            .await
            .map_err(|error| format!("#{id}: {error}"))?;
        field
            .clear()
            .await
            .map_err(|error| format!("#{id}: {error}"))?;
        field
            .send_keys(value)
            .await
            .map_err(|error| format!("#{id}: {error}"))?;
    }
    client
        .find(Locator::Css("form.cuenta button[type=submit]"))
        .await
        .map_err(|error| error.to_string())?
        .click()
        .await
        .map_err(|error| error.to_string())
}

async fn account_through_the_forms(programs: Vec<PathBuf>) -> TestResult {
    let (chromium, chromedriver) = (&programs[0], &programs[1]);
    let dir = tempfile::tempdir()?;
    let data_dir = dir.path().join("datos");
    let server = ServeProcess::start(
        Path::new(env!("CARGO_BIN_EXE_ceiba")),
        &["--data-dir".to_owned(), data_dir.display().to_string()],
        &[],
    )
    .await?;
    let driver = Driver::start(chromedriver).await?;
    let client = driver
        .browser(chromium, &dir.path().join("perfil-cuenta"), "es-ES,es")
        .await?;
    let outcome = async {
        // The header leads to the sign-in form, and it to the sign-up form.
        client.goto(&server.url("/")).await?;
        let header_link = client.find(Locator::Id("enlace-cuenta")).await?;
        assert_eq!(header_link.text().await?, "Entrar");
        header_link.click().await?;
        wait_for_path(&client, "/cuenta/entrar").await?;
        client
            .find(Locator::Css("a[href='/cuenta/registro']"))
            .await?
            .click()
            .await?;
        wait_for_path(&client, "/cuenta/registro").await?;
        assert_eq!(page_lang(&client).await?, "es");
        assert_eq!(text_of(&client, "h1").await?, "Crear una cuenta");

        fill_and_send(
            &client,
            &[
                ("telefono", "+53 5123 4567"),
                ("nombre", "Ana Pérez"),
                ("contrasena", "caballo-correcto-bateria"),
            ],
        )
        .await?;
        wait_for_path(&client, "/cuenta/confirmar").await?;
        assert!(
            text_of(&client, "#aviso")
                .await?
                .contains("le enviamos un SMS con un código")
        );

        // The code arrives by SMS: here, the file sender's log in the data folder.
        let code = code_from_sms_log(&data_dir, "+5351234567").await?;
        fill_and_send(&client, &[("telefono", "5123 4567"), ("codigo", &code)]).await?;
        wait_for_path(&client, "/cuenta/entrar").await?;
        assert_eq!(
            text_of(&client, "#aviso").await?,
            "Su número quedó confirmado. Ya puede entrar."
        );
        assert!(
            text_of(&client, "#segundo-factor-ayuda")
                .await?
                .starts_with("Solo si activó el segundo factor")
        );

        fill_and_send(
            &client,
            &[
                ("telefono", "+53 5123 4567"),
                ("contrasena", "caballo-correcto-bateria"),
            ],
        )
        .await?;
        wait_for_path(&client, "/cuenta").await?;
        assert_eq!(text_of(&client, "h1").await?, "Mi cuenta");
        assert_eq!(text_of(&client, "#nombre").await?, "Ana Pérez");
        assert_eq!(text_of(&client, "#telefono").await?, "+53 5123 4567");
        assert_eq!(text_of(&client, "#roles").await?, "Ciudadano");
        assert_eq!(text_of(&client, "#enlace-cuenta").await?, "Mi cuenta");
        let this_session = text_of(&client, "#sesiones tr.actual").await?;
        assert!(this_session.contains("Navegador"), "{this_session}");
        assert!(this_session.contains("(esta sesión)"), "{this_session}");
        assert!(this_session.contains("hace un momento"), "{this_session}");
        let rows = client
            .find_all(Locator::Css("#sesiones tbody tr"))
            .await?
            .len();
        assert_eq!(rows, 1);
        // Script on the page could not read the session cookie, nor another site send it.
        let cookie = client.get_named_cookie("ceiba_sesion").await?;
        assert_eq!(cookie.http_only(), Some(true));
        assert_eq!(
            cookie.same_site().map(|same_site| same_site.to_string()),
            Some("Strict".to_owned())
        );
        if let Ok(folder) = std::env::var("CEIBA_TEST_SCREENSHOTS") {
            std::fs::write(
                Path::new(&folder).join("cuenta-es.png"),
                client.screenshot().await?,
            )?;
        }

        // Sign-out ends the session: the account page sends back to the sign-in form.
        client.find(Locator::Id("salir")).await?.click().await?;
        wait_for_path(&client, "/cuenta/entrar").await?;
        assert_eq!(text_of(&client, "#aviso").await?, "Cerró la sesión.");
        client.goto(&server.url("/cuenta")).await?;
        wait_for_path(&client, "/cuenta/entrar").await?;
        Ok::<(), Box<dyn std::error::Error + Send + Sync>>(())
    }
    .await;
    client.close().await?;
    outcome?;

    let (code, _) = server.stop().await?;
    assert_eq!(code, Some(0));
    Ok(())
}

/// The password every account of the Pagos test is created with.
const PASSWORD: &str = "caballo-correcto-bateria";

/// `ceiba admin create-user` on `data_dir`, the password on standard input, as an operator
/// creates accounts (the test's own CEIBA_* variables kept out).
fn create_user(data_dir: &Path, phone: &str, name: &str, roles: &[&str]) -> Result<(), String> {
    use std::io::Write;
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_ceiba"));
    command
        .args(["admin", "create-user", "--phone", phone, "--name", name])
        .args(roles.iter().flat_map(|role| ["--role", role]))
        .arg("--data-dir")
        .arg(data_dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (variable, _) in std::env::vars() {
        if variable.starts_with("CEIBA_") {
            command.env_remove(variable);
        }
    }
    let mut child = command.spawn().map_err(|error| error.to_string())?;
    child
        .stdin
        .take()
        .ok_or("no stdin")?
        .write_all(format!("{PASSWORD}\n").as_bytes())
        .map_err(|error| error.to_string())?;
    let output = child
        .wait_with_output()
        .map_err(|error| error.to_string())?;
    if !output.status.success() {
        return Err(format!(
            "admin create-user {phone}: {}",
            String::from_utf8_lossy(&output.stderr)
        ));
    }
    Ok(())
}

/// A request to the API with a bearer token and a body of `content_type`; the answer must have
/// status `expected`, and its JSON (null when empty) is returned.
async fn api(
    server: &ServeProcess,
    method: &str,
    path: &str,
    token: Option<&str>,
    (content_type, body): (&str, String),
    expected: u16,
) -> Result<serde_json::Value, String> {
    let authorization = token.map(|token| format!("Bearer {token}"));
    let mut headers = vec![("content-type", content_type)];
    headers.extend(
        authorization
            .as_deref()
            .map(|value| ("authorization", value)),
    );
    let response =
        ceiba_testkit::http::send(method, &server.url(path), &headers, body.into_bytes()).await?;
    if response.status != expected {
        return Err(format!(
            "{method} {path}: {} (se esperaba {expected}) {}",
            response.status,
            response.text()
        ));
    }
    if response.body.is_empty() {
        return Ok(serde_json::Value::Null);
    }
    response.json()
}

fn json_body(value: &serde_json::Value) -> (&'static str, String) {
    ("application/json", value.to_string())
}

/// A bearer session of `phone`, with a second-factor code when the role needs one.
async fn api_session(
    server: &ServeProcess,
    phone: &str,
    second_factor: Option<&str>,
) -> Result<String, String> {
    let mut body = serde_json::json!({"phone": phone, "password": PASSWORD});
    if let Some(code) = second_factor {
        body["second_factor_code"] = serde_json::json!(code);
    }
    let session = api(
        server,
        "POST",
        "/api/v1/sessions",
        None,
        json_body(&body),
        201,
    )
    .await?;
    Ok(session["token"].as_str().ok_or("no token")?.to_owned())
}

/// A session of `phone` that proved a second factor, as the roles that reach money need: an
/// authenticator enrolled, then a sign-in with one of its recovery codes (the code just used
/// to enrol may not serve twice).
async fn staff_session(server: &ServeProcess, phone: &str) -> Result<String, String> {
    let first = api_session(server, phone, None).await?;
    let password = json_body(&serde_json::json!({"password": PASSWORD}));
    let started = api(
        server,
        "POST",
        "/api/v1/me/second-factor",
        Some(&first),
        password,
        201,
    )
    .await?;
    let secret =
        ceiba_identity::TotpSecret::from_base32(started["secret"].as_str().ok_or("no secret")?)
            .map_err(|error| error.to_string())?;
    let now_s = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_err(|error| error.to_string())?
        .as_secs();
    let code = json_body(&serde_json::json!({"code": secret.code_at(now_s)}));
    let confirmed = api(
        server,
        "POST",
        "/api/v1/me/second-factor/confirmation",
        Some(&first),
        code,
        200,
    )
    .await?;
    let recovery = confirmed["recovery_codes"][0]
        .as_str()
        .ok_or("no recovery code")?;
    api_session(server, phone, Some(recovery)).await
}

/// What `token`'s wallet can spend in CUP, in centavos.
async fn cup_available(server: &ServeProcess, token: &str) -> Result<u64, String> {
    let wallet = api(
        server,
        "GET",
        "/api/v1/payments/wallet",
        Some(token),
        ("application/json", String::new()),
        200,
    )
    .await?;
    wallet["balances"]
        .as_array()
        .and_then(|balances| balances.iter().find(|balance| balance["currency"] == "CUP"))
        .and_then(|balance| balance["available_minor"].as_u64())
        .ok_or_else(|| format!("no CUP balance: {wallet}"))
}

/// Waits for an element that the page a form answered with shows (the address may not change:
/// a form that checks posts to its own address).
async fn wait_for(client: &Client, css: &str) -> Result<fantoccini::elements::Element, String> {
    client
        .wait()
        .at_most(SUBMIT_WAIT)
        .for_element(Locator::Css(css))
        .await
        .map_err(|error| format!("{css} no apareció: {error}"))
}

/// Waits until the browser shows a receipt and returns the operation's id.
async fn wait_for_receipt(client: &Client) -> Result<String, String> {
    let started = Instant::now();
    loop {
        let url = client
            .current_url()
            .await
            .map_err(|error| error.to_string())?;
        if let Some(id) = url.path().strip_prefix("/pagos/recibos/") {
            return Ok(id.to_owned());
        }
        if started.elapsed() > SUBMIT_WAIT {
            let shown = text_of(client, "main").await.unwrap_or_default();
            return Err(format!(
                "se esperaba un recibo, y el navegador está en {url}: {shown}"
            ));
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn screenshot(client: &Client, name: &str) -> TestResult {
    if let Ok(folder) = std::env::var("CEIBA_TEST_SCREENSHOTS") {
        std::fs::write(Path::new(&folder).join(name), client.screenshot().await?)?;
    }
    Ok(())
}

async fn send_money_and_pay_a_bill(programs: Vec<PathBuf>) -> TestResult {
    let (chromium, chromedriver) = (&programs[0], &programs[1]);
    let dir = tempfile::tempdir()?;
    let data_dir = dir.path().join("datos");
    // People and an office made the way an operator makes them: the CLI. The office is the
    // bank's cashier, the electricity company's biller and the administrator who names it.
    create_user(&data_dir, "+53 5123 4567", "Ana Pérez", &["citizen"])?;
    create_user(&data_dir, "+53 5234 5678", "Roberto Díaz", &["citizen"])?;
    create_user(
        &data_dir,
        "+53 5299 0000",
        "Oficina Ceiba",
        &["administrator", "bank_operator", "biller"],
    )?;
    let server = ServeProcess::start(
        Path::new(env!("CARGO_BIN_EXE_ceiba")),
        &["--data-dir".to_owned(), data_dir.display().to_string()],
        &[],
    )
    .await?;

    // Through the API: Ana gets 1.000 CUP at the bank's counter, the electricity company
    // issues her bill.
    let office = staff_session(&server, "+5352990000").await?;
    let cash = serde_json::json!({"phone": "+5351234567", "bank": "BPA", "currency": "CUP",
        "amount": "1000"});
    api(
        &server,
        "POST",
        "/api/v1/payments/cash-in",
        Some(&office),
        json_body(&cash),
        201,
    )
    .await?;
    let operator = json_body(&serde_json::json!({"phone": "+5352990000"}));
    api(
        &server,
        "PUT",
        "/api/v1/billers/une/operator",
        Some(&office),
        operator,
        200,
    )
    .await?;
    let bills = "referencia,cliente,importe,vencimiento,periodo\n\
                 F-2026-0001,Ana Pérez Gómez,245.30,2026-12-31,noviembre de 2026\n";
    api(
        &server,
        "POST",
        "/api/v1/billers/une/bills",
        Some(&office),
        ("text/csv", bills.to_owned()),
        201,
    )
    .await?;

    let driver = Driver::start(chromedriver).await?;
    let client = driver
        .browser(chromium, &dir.path().join("perfil-pagos"), "es-ES,es")
        .await?;
    let outcome = async {
        client.goto(&server.url("/cuenta/entrar")).await?;
        fill_and_send(
            &client,
            &[("telefono", "+53 5123 4567"), ("contrasena", PASSWORD)],
        )
        .await?;
        wait_for_path(&client, "/cuenta").await?;

        // Pagos, from the header: the balance the bank paid in.
        client
            .find(Locator::Id("enlace-pagos"))
            .await?
            .click()
            .await?;
        wait_for_path(&client, "/pagos").await?;
        assert_eq!(text_of(&client, "h1").await?, "Pagos");
        assert_eq!(text_of(&client, "#saldo-CUP").await?, "1.000,00 CUP");

        // Send money: the form, then the recipient's name to check, then the receipt.
        client.find(Locator::Id("ir-enviar")).await?.click().await?;
        wait_for_path(&client, "/pagos/enviar").await?;
        fill_and_send(
            &client,
            &[
                ("telefono", "5234 5678"),
                ("importe", "150"),
                ("nota", "Para el almuerzo"),
            ],
        )
        .await?;
        let name = wait_for(&client, "#destinatario").await?.text().await?;
        assert_eq!(name, "Roberto Díaz");
        assert_eq!(text_of(&client, "#importe").await?, "150,00 CUP");
        screenshot(&client, "pagos-confirmar-es.png").await?;
        client.find(Locator::Id("enviar")).await?.click().await?;
        wait_for_receipt(&client).await?;
        assert_eq!(text_of(&client, "h1").await?, "Recibo");
        assert_eq!(text_of(&client, "#para").await?, "Roberto Díaz");
        assert_eq!(text_of(&client, "#importe").await?, "150,00 CUP");
        assert_eq!(text_of(&client, "#saldo").await?, "850,00 CUP");
        assert!(!text_of(&client, "#codigo").await?.is_empty());
        screenshot(&client, "pagos-recibo-es.png").await?;

        // Pay the bill: choose the company, type the reference, check the amount, pay.
        client.goto(&server.url("/pagos")).await?;
        client
            .find(Locator::Id("ir-facturas"))
            .await?
            .click()
            .await?;
        wait_for_path(&client, "/pagos/facturas").await?;
        client
            .find(Locator::Id("emisor"))
            .await?
            .select_by_value("une")
            .await?;
        let reference = client.find(Locator::Id("referencia")).await?;
        reference.send_keys("F-2026-0001").await?;
        client.find(Locator::Id("buscar")).await?.click().await?;
        let amount = wait_for(&client, "#factura-importe").await?.text().await?;
        assert_eq!(amount, "245,30 CUP");
        assert_eq!(
            text_of(&client, "#factura-cliente").await?,
            "A** P**** G****"
        );
        screenshot(&client, "pagos-factura-es.png").await?;
        client.find(Locator::Id("pagar")).await?.click().await?;
        wait_for_receipt(&client).await?;
        assert_eq!(text_of(&client, "#tipo").await?, "Factura");
        assert_eq!(text_of(&client, "#importe").await?, "245,30 CUP");
        assert_eq!(text_of(&client, "#saldo").await?, "604,70 CUP");

        // The balances are right, on the page and for Roberto.
        client.find(Locator::Id("volver")).await?.click().await?;
        wait_for_path(&client, "/pagos").await?;
        assert_eq!(text_of(&client, "#saldo-CUP").await?, "604,70 CUP");
        let operations = client
            .find_all(Locator::Css("#operaciones tbody tr"))
            .await?
            .len();
        assert_eq!(operations, 3, "deposit, transfer and bill");
        screenshot(&client, "pagos-es.png").await?;
        Ok::<(), Box<dyn std::error::Error + Send + Sync>>(())
    }
    .await;
    client.close().await?;
    outcome?;

    let ana = api_session(&server, "+5351234567", None).await?;
    let roberto = api_session(&server, "+5352345678", None).await?;
    assert_eq!(cup_available(&server, &ana).await?, 60_470);
    assert_eq!(cup_available(&server, &roberto).await?, 15_000);
    let bill = api(
        &server,
        "GET",
        "/api/v1/payments/bills/une/F-2026-0001",
        Some(&ana),
        ("application/json", String::new()),
        200,
    )
    .await?;
    assert_eq!(bill["status"], "paid", "{bill}");

    let (code, logs) = server.stop().await?;
    assert_eq!(code, Some(0), "{logs}");
    Ok(())
}

async fn pay_a_merchant_by_qr(programs: Vec<PathBuf>) -> TestResult {
    let (chromium, chromedriver) = (&programs[0], &programs[1]);
    let dir = tempfile::tempdir()?;
    let data_dir = dir.path().join("datos");
    create_user(&data_dir, "+53 5123 4567", "Ana Pérez", &["citizen"])?;
    create_user(&data_dir, "+53 5345 6789", "Carla Gómez", &["citizen"])?;
    create_user(
        &data_dir,
        "+53 5299 0000",
        "Oficina Ceiba",
        &["administrator", "bank_operator"],
    )?;
    let server = ServeProcess::start(
        Path::new(env!("CARGO_BIN_EXE_ceiba")),
        &["--data-dir".to_owned(), data_dir.display().to_string()],
        &[],
    )
    .await?;
    // Through the API: Ana gets money at the bank; Carla's sweet shop is approved.
    let office = staff_session(&server, "+5352990000").await?;
    let cash = serde_json::json!({"phone": "+5351234567", "bank": "BPA", "currency": "CUP",
        "amount": "500"});
    api(
        &server,
        "POST",
        "/api/v1/payments/cash-in",
        Some(&office),
        json_body(&cash),
        201,
    )
    .await?;
    let carla = api_session(&server, "+5353456789", None).await?;
    let application = serde_json::json!({"business_name": "Dulcería Carla",
        "nit": "01234567890", "category_code": "5462", "city": "Camagüey",
        "settlement": {"bank": "BPA", "currency": "CUP", "account_number": "9205129900012345"}});
    let merchant = api(
        &server,
        "POST",
        "/api/v1/merchants",
        Some(&carla),
        json_body(&application),
        201,
    )
    .await?;
    let merchant = merchant["id"].as_str().ok_or("no merchant id")?.to_owned();
    api(
        &server,
        "POST",
        &format!("/api/v1/admin/merchants/{merchant}/approve"),
        Some(&office),
        json_body(&serde_json::json!({})),
        200,
    )
    .await?;

    let driver = Driver::start(chromedriver).await?;
    let shop = driver
        .browser(chromium, &dir.path().join("perfil-comercio"), "es-ES,es")
        .await?;
    let buyer = driver
        .browser(chromium, &dir.path().join("perfil-cliente"), "es-ES,es")
        .await?;
    let outcome = async {
        // Carla charges 45 pesos: her page shows the code (drawn, with its text) and waits.
        shop.goto(&server.url("/cuenta/entrar")).await?;
        fill_and_send(
            &shop,
            &[("telefono", "+53 5345 6789"), ("contrasena", PASSWORD)],
        )
        .await?;
        wait_for_path(&shop, "/cuenta").await?;
        shop.goto(&server.url("/comercio")).await?;
        fill_and_send(
            &shop,
            &[
                (&format!("importe-{merchant}"), "45"),
                (&format!("referencia-{merchant}"), "Mesa 2"),
            ],
        )
        .await?;
        let code = wait_for(&shop, "#codigo-qr").await?.text().await?;
        assert_eq!(text_of(&shop, "#qr-estado").await?, "Esperando el pago…");
        let drawn = shop
            .execute(
                "return document.getElementById('qr-imagen').naturalWidth",
                Vec::new(),
            )
            .await?;
        assert!(
            drawn.as_u64().is_some_and(|width| width > 0),
            "the image loaded: {drawn}"
        );
        screenshot(&shop, "comercio-qr-es.png").await?;

        // Ana pastes what her camera read, sees the shop and the amount, and pays.
        buyer.goto(&server.url("/cuenta/entrar")).await?;
        fill_and_send(
            &buyer,
            &[("telefono", "+53 5123 4567"), ("contrasena", PASSWORD)],
        )
        .await?;
        wait_for_path(&buyer, "/cuenta").await?;
        buyer.goto(&server.url("/pagos")).await?;
        buyer.find(Locator::Id("ir-qr")).await?.click().await?;
        wait_for_path(&buyer, "/pagos/qr").await?;
        fill_and_send(&buyer, &[("codigo", &code)]).await?;
        assert_eq!(
            wait_for(&buyer, "#comercio").await?.text().await?,
            "Dulcería Carla"
        );
        assert_eq!(text_of(&buyer, "#importe").await?, "45,00 CUP");
        assert_eq!(text_of(&buyer, "#referencia").await?, "Mesa 2");
        buyer.find(Locator::Id("pagar")).await?.click().await?;
        wait_for_receipt(&buyer).await?;
        assert_eq!(text_of(&buyer, "#importe").await?, "45,00 CUP");
        assert_eq!(text_of(&buyer, "#saldo").await?, "455,00 CUP");

        // Carla's page refreshes itself and shows the code paid and the payment.
        let started = Instant::now();
        while text_of(&shop, "#qr-estado").await.unwrap_or_default() != "Pagado." {
            if started.elapsed() > Duration::from_secs(20) {
                return Err(format!(
                    "the shop's page never showed the payment: {}",
                    text_of(&shop, "main").await.unwrap_or_default()
                )
                .into());
            }
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
        let payments = text_of(&shop, "#cobros").await?;
        assert!(
            payments.contains("45,00 CUP") && payments.contains("Mesa 2"),
            "{payments}"
        );
        screenshot(&shop, "comercio-pagado-es.png").await?;
        Ok::<(), Box<dyn std::error::Error + Send + Sync>>(())
    }
    .await;
    shop.close().await?;
    buyer.close().await?;
    outcome?;
    let ana = api_session(&server, "+5351234567", None).await?;
    assert_eq!(cup_available(&server, &ana).await?, 45_500);
    let (code, logs) = server.stop().await?;
    assert_eq!(code, Some(0), "{logs}");
    Ok(())
}

/// `ceiba ARGS…` on a data folder, to its end; its standard error on failure.
fn ceiba_on(data_dir: &Path, args: &[&str]) -> Result<(), String> {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_ceiba"))
        .args(args)
        .args(["--data-dir", &data_dir.display().to_string()])
        .output()
        .map_err(|error| error.to_string())?;
    if output.status.success() {
        Ok(())
    } else {
        Err(String::from_utf8_lossy(&output.stderr).into_owned())
    }
}

/// The real geography and the COVID-19 archive up to `until` (AAAA-MM-DD).
fn load_salud(data_dir: &Path, until: &str) -> Result<(), String> {
    let cuba = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/cuba");
    let archive = cuba.join("covid19cuba.zip").display().to_string();
    ceiba_on(
        data_dir,
        &["salud", "geography", "--dir", &cuba.display().to_string()],
    )?;
    ceiba_on(
        data_dir,
        &[
            "salud",
            "import",
            "covid19cubadata",
            &archive,
            "--until",
            until,
        ],
    )
}

/// Salud's dashboards on the real geography and the archive up to 30 April 2020: the nation's
/// page draws its curves and the provinces' map, a click on a province in the map leads to its
/// page, a click in its table to a municipality's, whose small counts are withheld.
async fn salud_dashboards(programs: Vec<PathBuf>) -> TestResult {
    let (chromium, chromedriver) = (&programs[0], &programs[1]);
    let dir = tempfile::tempdir()?;
    let data_dir = dir.path().join("datos");
    load_salud(&data_dir, "2020-04-30")?;
    let server = ServeProcess::start(
        Path::new(env!("CARGO_BIN_EXE_ceiba")),
        &["--data-dir".to_owned(), data_dir.display().to_string()],
        &[],
    )
    .await?;
    let driver = Driver::start(chromedriver).await?;
    let client = driver
        .browser(chromium, &dir.path().join("perfil"), "es-ES,es")
        .await?;
    let outcome = async {
        client.goto(&server.url("/salud")).await?;
        assert_eq!(
            client.title().await?,
            "Cuba: vigilancia de la COVID-19 · Ceiba"
        );
        assert_eq!(text_of(&client, "#cifra-confirmados").await?, "1.537");
        assert_eq!(
            text_of(&client, "#fecha-datos").await?,
            "Datos hasta el 2020-04-30"
        );
        // The curves and the map are drawn, at a size a person can read.
        for chart in [
            "#curva svg",
            "#acumulados svg",
            "#pruebas svg",
            "#positividad svg",
            "#fallecidos svg",
            "#graves svg",
            "#mapa svg",
        ] {
            let svg = client.find(Locator::Css(chart)).await?;
            let (_, _, width, height) = svg.rectangle().await?;
            assert!(width > 300.0 && height > 100.0, "{chart}: {width}×{height}");
        }
        let provinces = client.find_all(Locator::Css("#mapa svg a")).await?;
        assert_eq!(provinces.len(), 16, "every province but the unknown one");
        let screenshot = client.screenshot().await?;
        if let Ok(folder) = std::env::var("CEIBA_TEST_SCREENSHOTS") {
            std::fs::write(Path::new(&folder).join("salud-nacional.png"), &screenshot)?;
        }

        // La Habana from the map, then a municipality from its table.
        client
            .find(Locator::Css("#mapa a[href='/salud/provincia/23']"))
            .await?
            .click()
            .await?;
        wait_for_path(&client, "/salud/provincia/23").await?;
        assert_eq!(text_of(&client, "h1").await?, "Provincia La Habana");
        let municipalities = client.find_all(Locator::Css("#mapa svg a")).await?;
        assert_eq!(
            municipalities.len(),
            15,
            "La Habana's fifteen municipalities"
        );
        client
            .find(Locator::Css(
                "#territorios a[href='/salud/municipio/23.04']",
            ))
            .await?
            .click()
            .await?;
        wait_for_path(&client, "/salud/municipio/23.04").await?;
        assert!(text_of(&client, "h1").await?.starts_with("Municipio "));
        let caption = text_of(&client, "#curva figcaption").await?;
        assert!(caption.contains("por semana"), "{caption}");
        let highlighted = client
            .find_all(Locator::Css("#mapa svg path[stroke-width='2']"))
            .await?;
        assert_eq!(
            highlighted.len(),
            1,
            "the municipality is outlined on its province's map"
        );

        // The models of La Habana, from its dashboard: Rt with its band, and the forecast.
        client.goto(&server.url("/salud/provincia/23")).await?;
        client.find(Locator::Css("#modelos")).await?.click().await?;
        wait_for_path(&client, "/salud/modelos").await?;
        assert_eq!(text_of(&client, "h1").await?, "Modelos: La Habana");
        let now = text_of(&client, "#rt-actual").await?;
        assert!(now.starts_with("Rt al 2020-04-30: "), "{now}");
        for chart in ["#rt svg", "#pronostico svg"] {
            let svg = client.find(Locator::Css(chart)).await?;
            let (_, _, width, height) = svg.rectangle().await?;
            assert!(width > 300.0 && height > 100.0, "{chart}: {width}×{height}");
            let bands = client
                .find_all(Locator::Css(&format!("{chart} polygon")))
                .await?;
            assert!(!bands.is_empty(), "{chart}: an interval band");
        }
        // The nation's, from the list of territories: 51 days hold the forecast of a week
        // before, scored against the week that followed.
        client
            .find(Locator::Css("#territorios a[href='/salud/modelos']"))
            .await?
            .click()
            .await?;
        wait_for_path(&client, "/salud/modelos").await?;
        assert_eq!(text_of(&client, "h1").await?, "Modelos: Cuba");
        let rows = client
            .find_all(Locator::Css("#puntuaciones tbody tr"))
            .await?;
        assert_eq!(rows.len(), 1, "the forecast of a week before, scored");
        let screenshot = client.screenshot().await?;
        if let Ok(folder) = std::env::var("CEIBA_TEST_SCREENSHOTS") {
            std::fs::write(Path::new(&folder).join("salud-modelos.png"), &screenshot)?;
        }
        Ok::<(), Box<dyn std::error::Error + Send + Sync>>(())
    }
    .await;
    client.close().await?;
    outcome?;
    let (code, _) = server.stop().await?;
    assert_eq!(code, Some(0));
    Ok(())
}

/// The encyclopedia of the demo data in Chromium: a reader opens the main page and follows a
/// link; a person signs in, edits an article through the form, finds the edit in its history
/// and the search finds the new words, written without their accent.
async fn encyclopedia(programs: Vec<PathBuf>) -> TestResult {
    let (chromium, chromedriver) = (&programs[0], &programs[1]);
    let dir = tempfile::tempdir()?;
    let data_dir = dir.path().join("datos");
    ceiba_on(&data_dir, &["demo", "seed"])?;
    let server = ServeProcess::start(
        Path::new(env!("CARGO_BIN_EXE_ceiba")),
        &["--data-dir".to_owned(), data_dir.display().to_string()],
        &[],
    )
    .await?;
    let driver = Driver::start(chromedriver).await?;
    let client = driver
        .browser(chromium, &dir.path().join("perfil-wiki"), "es-ES,es")
        .await?;
    let outcome = async {
        client.goto(&server.url("/wiki")).await?;
        wait_for_path(&client, "/wiki/Portada").await?;
        assert!(text_of(&client, "#contenido").await?.contains("Bienvenido"));
        client
            .find(Locator::Css("#contenido a[href='/wiki/Trinidad']"))
            .await?
            .click()
            .await?;
        wait_for_path(&client, "/wiki/Trinidad").await?;
        assert!(
            text_of(&client, "#contenido")
                .await?
                .contains("Patrimonio de la Humanidad")
        );
        // A missing article is a red link.
        client.goto(&server.url("/wiki/Portada")).await?;
        let red = client.find(Locator::Css("#contenido a.nuevo")).await?;
        assert_eq!(red.text().await?, "Viñales");

        // Sign in (a demo person) and edit Trinidad through the form.
        client.goto(&server.url("/cuenta/entrar")).await?;
        fill_and_send(
            &client,
            &[
                ("telefono", "+53 5000 0001"),
                ("contrasena", "ceiba-demo-2025"),
            ],
        )
        .await?;
        wait_for_path(&client, "/cuenta").await?;
        client
            .goto(&server.url("/wiki/Trinidad?accion=editar"))
            .await?;
        let text = client.find(Locator::Id("texto")).await?;
        let old = text.prop("value").await?.unwrap_or_default();
        text.clear().await?;
        text.send_keys(&format!(
            "{old}\n\nSus calles empedradas guardan la arquitectura colonial."
        ))
        .await?;
        client
            .find(Locator::Id("resumen"))
            .await?
            .send_keys("Calles")
            .await?;
        client.find(Locator::Id("guardar")).await?.click().await?;
        wait_for_path(&client, "/wiki/Trinidad").await?;
        assert!(
            text_of(&client, "#contenido")
                .await?
                .contains("calles empedradas"),
            "the edit is shown"
        );
        client
            .goto(&server.url("/wiki/Trinidad?accion=historial"))
            .await?;
        let rows = client.find_all(Locator::Css("#historial li")).await?;
        assert_eq!(rows.len(), 2, "the demo's revision and the edit");
        assert!(text_of(&client, "#historial").await?.contains("Calles"));

        // The search finds the new words, typed without accents.
        client
            .goto(&server.url("/wiki/Especial:Buscar?q=arquitectura+colonial+empedradas"))
            .await?;
        let results = text_of(&client, "#resultados").await?;
        assert!(results.contains("Trinidad"), "{results}");
        screenshot(&client, "enciclopedia-busqueda").await?;
        Ok::<(), Box<dyn std::error::Error + Send + Sync>>(())
    }
    .await;
    client.close().await?;
    outcome?;
    let (code, _) = server.stop().await?;
    assert_eq!(code, Some(0));
    Ok(())
}

/// A Chrome DevTools command sent through chromedriver's own endpoint for them.
#[derive(Debug)]
struct DevTools {
    command: &'static str,
    params: serde_json::Value,
}

impl fantoccini::wd::WebDriverCompatibleCommand for DevTools {
    fn endpoint(
        &self,
        base_url: &url::Url,
        session_id: Option<&str>,
    ) -> Result<url::Url, url::ParseError> {
        base_url.join(&format!(
            "session/{}/goog/cdp/execute",
            session_id.unwrap_or_default()
        ))
    }

    fn method_and_body(&self, _: &url::Url) -> (hyper::http::Method, Option<String>) {
        let body = serde_json::json!({"cmd": self.command, "params": self.params});
        (hyper::http::Method::POST, Some(body.to_string()))
    }
}

async fn dev_tools(
    client: &Client,
    command: &'static str,
    params: serde_json::Value,
) -> Result<(), String> {
    client
        .issue_cmd(DevTools { command, params })
        .await
        .map(drop)
        .map_err(|error| format!("{command}: {error}"))
}

/// A 2G-like link: about 250 kbit/s each way and 300 ms of round trip.
const SLOW_LINK_BYTES_PER_S: u64 = 250_000 / 8;
const SLOW_LINK_LATENCY_MS: u64 = 300;
/// What a page may transfer: PRODUCT.md's goal for every page, people pay per megabyte.
const PAGE_BYTES_BUDGET: u64 = 30_000;

/// What one visit cost, as the browser's own timing saw it.
#[derive(Debug, serde::Deserialize)]
struct Visit {
    /// Milliseconds from the start of navigation until the document was parsed and its
    /// deferred scripts ran: when a person can read and use the page.
    usable_ms: f64,
    load_ms: f64,
    /// Bytes on the wire: headers and (compressed) bodies of the page and every resource.
    transferred_bytes: u64,
    resources: u64,
}

const VISIT_SCRIPT: &str = r"
const page = performance.getEntriesByType('navigation')[0];
const resources = performance.getEntriesByType('resource');
return {
  usable_ms: page.domContentLoadedEventEnd,
  load_ms: page.loadEventEnd,
  transferred_bytes: resources.reduce((sum, r) => sum + r.transferSize, page.transferSize),
  resources: resources.length,
};";

/// Home, wallet, an article and the national dashboard over an emulated 2G link with the cache
/// off (every visit is a first visit): each shows its content and stays within the byte budget;
/// the time to usable content is printed (figures, not assertions).
async fn slow_link(programs: Vec<PathBuf>) -> TestResult {
    let (chromium, chromedriver) = (&programs[0], &programs[1]);
    let dir = tempfile::tempdir()?;
    let data_dir = dir.path().join("datos");
    ceiba_on(&data_dir, &["demo", "seed"])?;
    load_salud(&data_dir, "2020-06-30")?;
    let server = ServeProcess::start(
        Path::new(env!("CARGO_BIN_EXE_ceiba")),
        &["--data-dir".to_owned(), data_dir.display().to_string()],
        &[],
    )
    .await?;
    let driver = Driver::start(chromedriver).await?;
    let client = driver
        .browser(chromium, &dir.path().join("perfil-2g"), "es-ES,es")
        .await?;
    let outcome = async {
        // Signed in on a fast link first: the wallet is a page of a signed-in person.
        client.goto(&server.url("/cuenta/entrar")).await?;
        fill_and_send(
            &client,
            &[
                ("telefono", "+53 5000 0001"),
                ("contrasena", "ceiba-demo-2025"),
            ],
        )
        .await?;
        wait_for_path(&client, "/cuenta").await?;

        dev_tools(&client, "Network.enable", serde_json::json!({})).await?;
        dev_tools(
            &client,
            "Network.setCacheDisabled",
            serde_json::json!({"cacheDisabled": true}),
        )
        .await?;
        dev_tools(
            &client,
            "Network.emulateNetworkConditions",
            serde_json::json!({
                "offline": false,
                "latency": SLOW_LINK_LATENCY_MS,
                "downloadThroughput": SLOW_LINK_BYTES_PER_S,
                "uploadThroughput": SLOW_LINK_BYTES_PER_S,
            }),
        )
        .await?;

        let pages = [
            ("inicio", "/", "#pagos h3", "Pagos"),
            ("monedero", "/pagos", "#saldo-CUP", "CUP"),
            (
                "artículo",
                "/wiki/Trinidad",
                "#contenido",
                "Patrimonio de la Humanidad",
            ),
            ("salud nacional", "/salud", "#cifra-confirmados", ""),
        ];
        for (name, path, css, expected) in pages {
            client.goto(&server.url(path)).await?;
            let shown = text_of(&client, css).await?;
            assert!(shown.contains(expected), "{name}: «{shown}»");
            let visit: Visit = serde_json::from_value(client.execute(VISIT_SCRIPT, vec![]).await?)?;
            // Figures for the person reading the run (`--nocapture`), not assertions.
            writeln!(
                std::io::stdout(),
                "2G ({} kbit/s, {SLOW_LINK_LATENCY_MS} ms): {name} {path}: usable in {:.0} ms, \
                 loaded in {:.0} ms, {} bytes in {} requests",
                SLOW_LINK_BYTES_PER_S * 8 / 1000,
                visit.usable_ms,
                visit.load_ms,
                visit.transferred_bytes,
                visit.resources + 1
            )?;
            // The emulation is on: no page arrives faster than a round trip.
            assert!(
                visit.usable_ms >= SLOW_LINK_LATENCY_MS as f64,
                "{name}: {visit:?}: the link is not throttled"
            );
            assert!(
                visit.transferred_bytes > 0 && visit.transferred_bytes <= PAGE_BYTES_BUDGET,
                "{name} {path}: {visit:?} is over the budget of {PAGE_BYTES_BUDGET} bytes"
            );
        }
        Ok::<(), Box<dyn std::error::Error + Send + Sync>>(())
    }
    .await;
    client.close().await?;
    outcome?;
    server.stop().await?;
    Ok(())
}
