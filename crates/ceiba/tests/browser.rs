//! A person's view: headless Chromium (Debian's `chromium` driven through `chromedriver`)
//! opens the home page of a real `ceiba serve`, in Spanish and in English.

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
