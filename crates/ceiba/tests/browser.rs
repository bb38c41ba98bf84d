//! A person's view: headless Chromium (Debian's `chromium` driven through `chromedriver`)
//! opens the home page of a real `ceiba serve`, in Spanish and in English, and goes through
//! the account pages: sign-up, confirmation with the SMS code, sign-in, sessions, sign-out.

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
