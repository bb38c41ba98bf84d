//! `ceiba ussd`: a basic phone in a terminal. It speaks to a running server's `POST /ussd` the
//! way a USSD gateway does (the whole text of the session on every request, with the gateway's
//! key), prints each screen, and reads the next input from standard input, one line each, until
//! the server ends the session. For demos, and for tests that pipe the inputs in.

use std::time::Duration;

use anyhow::{Context, anyhow, bail};
use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;

use crate::print_line;

/// What `ceiba ussd` was asked to do.
#[derive(Debug)]
pub struct Dial {
    pub phone: String,
    /// `http://host:port` of the server.
    pub server: String,
    pub service_code: String,
    pub key: Option<String>,
    pub ascii: bool,
}

/// How long one screen may take to arrive.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
/// Longest answer read: a screen is 182 characters, a refusal a short JSON document.
const ANSWER_BYTES_MAX: usize = 16 * 1024;

type Client = hyper_util::client::legacy::Client<
    hyper_util::client::legacy::connect::HttpConnector,
    Full<Bytes>,
>;

/// The `/ussd` address of `server`, or why it cannot be used.
fn ussd_url(server: &str) -> anyhow::Result<url::Url> {
    let base = url::Url::parse(server.trim()).with_context(|| {
        format!("--server «{server}» no es una dirección como http://127.0.0.1:8080")
    })?;
    match base.scheme() {
        "http" => {}
        "https" => bail!(
            "--server usa HTTPS, que este cliente no habla: use la dirección http:// del \
             servidor en la red local"
        ),
        scheme => bail!("--server debe empezar por http://, no por «{scheme}:»"),
    }
    base.join("/ussd")
        .context("--server no admite la ruta /ussd")
}

pub async fn run(dial: Dial) -> anyhow::Result<()> {
    let url = ussd_url(&dial.server)?;
    let client: Client =
        hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
            .build_http();
    let session_id = format!("ceiba-cli-{}", uuid::Uuid::new_v4().simple());
    let mut inputs: Vec<String> = Vec::new();
    loop {
        let text = inputs.join("*");
        let answer = post(&client, &url, &dial, &session_id, &text).await?;
        let (screen, ends) = if let Some(screen) = answer.strip_prefix("END ") {
            (screen, true)
        } else if let Some(screen) = answer.strip_prefix("CON ") {
            (screen, false)
        } else {
            bail!("el servidor no contestó como una pasarela USSD espera: «{answer}»");
        };
        print_line(screen)?;
        if ends {
            return Ok(());
        }
        print_line("")?;
        let Some(line) = read_line().await? else {
            bail!("la entrada terminó antes que la sesión USSD");
        };
        inputs.push(line.trim().to_owned());
    }
}

/// The next line of standard input (`None` at its end), read off the async threads.
async fn read_line() -> anyhow::Result<Option<String>> {
    tokio::task::spawn_blocking(|| {
        let mut line = String::new();
        let read = std::io::stdin().read_line(&mut line)?;
        Ok::<_, std::io::Error>((read > 0).then_some(line))
    })
    .await
    .context("no se pudo leer la entrada estándar")?
    .context("no se pudo leer la entrada estándar")
}

async fn post(
    client: &Client,
    url: &url::Url,
    dial: &Dial,
    session_id: &str,
    text: &str,
) -> anyhow::Result<String> {
    let mut form = url::form_urlencoded::Serializer::new(String::new());
    form.append_pair("sessionId", session_id)
        .append_pair("serviceCode", &dial.service_code)
        .append_pair("phoneNumber", &dial.phone)
        .append_pair("text", text);
    if dial.ascii {
        form.append_pair("ascii", "1");
    }
    let mut request = hyper::Request::post(url.as_str())
        .header("content-type", "application/x-www-form-urlencoded");
    if let Some(key) = &dial.key {
        request = request.header("x-ceiba-ussd-key", key.as_str());
    }
    let request = request
        .body(Full::new(Bytes::from(form.finish())))
        .context("la petición USSD no se pudo formar")?;
    let exchange = async {
        let response = client.request(request).await?;
        let status = response.status();
        let body = http_body_util::Limited::new(response.into_body(), ANSWER_BYTES_MAX)
            .collect()
            .await
            .map_err(|error| anyhow!("{error}"))?
            .to_bytes();
        anyhow::Ok((status, body))
    };
    let (status, body) = tokio::time::timeout(REQUEST_TIMEOUT, exchange)
        .await
        .map_err(|_| {
            anyhow!(
                "el servidor {url} no contestó en {} s",
                REQUEST_TIMEOUT.as_secs()
            )
        })?
        .with_context(|| format!("no se pudo hablar con {url}"))?;
    let body = String::from_utf8_lossy(&body).into_owned();
    if !status.is_success() {
        // A refusal is a problem document: its detail says why (the gateway key, most often).
        let why = serde_json::from_str::<serde_json::Value>(&body)
            .ok()
            .and_then(|problem| {
                problem["detail"]
                    .as_str()
                    .or_else(|| problem["title"].as_str())
                    .map(str::to_owned)
            })
            .unwrap_or(body);
        bail!("el servidor rechazó la sesión USSD ({status}): {why}");
    }
    Ok(body)
}
