//! A small HTTP/1.1 client for tests, over hyper: what a test sends and receives, in full.

use std::collections::BTreeMap;

use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;

/// A whole response: status, headers (names lower-case, repeated values joined by ", ") and body.
#[derive(Debug, Clone)]
pub struct Response {
    pub status: u16,
    pub headers: BTreeMap<String, String>,
    pub body: Vec<u8>,
}

impl Response {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .get(&name.to_ascii_lowercase())
            .map(String::as_str)
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    pub fn json(&self) -> Result<serde_json::Value, String> {
        serde_json::from_slice(&self.body)
            .map_err(|error| format!("el cuerpo no es JSON ({error}): {}", self.text()))
    }
}

/// Sends one request and reads the whole answer.
pub async fn send(
    method: &str,
    url: &str,
    headers: &[(&str, &str)],
    body: impl Into<Bytes>,
) -> Result<Response, String> {
    let client = Client::builder(TokioExecutor::new()).build_http::<Full<Bytes>>();
    let mut request = hyper::Request::builder().method(method).uri(url);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let request = request
        .body(Full::new(body.into()))
        .map_err(|error| format!("petición mal formada: {error}"))?;
    let response = client
        .request(request)
        .await
        .map_err(|error| format!("{method} {url}: {error}"))?;
    let status = response.status().as_u16();
    let mut headers = BTreeMap::new();
    for (name, value) in response.headers() {
        let value = String::from_utf8_lossy(value.as_bytes()).into_owned();
        headers
            .entry(name.as_str().to_owned())
            .and_modify(|existing: &mut String| {
                existing.push_str(", ");
                existing.push_str(&value);
            })
            .or_insert(value);
    }
    let body = response
        .into_body()
        .collect()
        .await
        .map_err(|error| format!("{method} {url}: cuerpo incompleto: {error}"))?
        .to_bytes()
        .to_vec();
    Ok(Response {
        status,
        headers,
        body,
    })
}

pub async fn get(url: &str) -> Result<Response, String> {
    send("GET", url, &[], Bytes::new()).await
}
