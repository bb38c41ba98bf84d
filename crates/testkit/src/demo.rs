//! What end-to-end drills do with `ceiba demo seed`'s people: run the binary without the test's
//! own `CEIBA_*` variables, sign a demo person in, and send a transfer with an idempotency key.

use std::path::Path;

use serde_json::json;
use tokio::process::Command;

use crate::http::{Response, send};

/// The password of every demo account (`crates/ceiba/src/demo.rs`).
pub const DEMO_PASSWORD: &str = "ceiba-demo-2025";
/// Two demo people with money in CUP.
pub const DEMO_PAYERS: [&str; 2] = ["+53 5000 0001", "+53 5000 0002"];

/// `binary`, with none of the test's `CEIBA_*` variables (they must not reach the
/// configuration under test), killed if the test drops it.
pub fn ceiba_command(binary: &Path) -> Command {
    let mut command = Command::new(binary);
    for (name, _) in std::env::vars() {
        if name.starts_with("CEIBA_") {
            command.env_remove(name);
        }
    }
    command.kill_on_drop(true);
    command
}

/// Signs a demo person in over the API; the bearer token.
pub async fn sign_in(base_url: &str, phone: &str) -> Result<String, String> {
    let body = json!({"phone": phone, "password": DEMO_PASSWORD}).to_string();
    let response = send(
        "POST",
        &format!("{base_url}/api/v1/sessions"),
        &[("content-type", "application/json")],
        body.into_bytes(),
    )
    .await?;
    response.json()?["token"]
        .as_str()
        .map(str::to_owned)
        .ok_or_else(|| {
            format!(
                "sign-in of {phone}: {} {}",
                response.status,
                response.text()
            )
        })
}

/// A transfer of 1 CUP to `to` with the `Idempotency-Key` `key`, answered as it comes.
pub async fn transfer_one_peso(
    base_url: &str,
    token: &str,
    to: &str,
    key: &str,
) -> Result<Response, String> {
    let body = json!({"to_phone": to, "currency": "CUP", "amount": "1"}).to_string();
    let authorization = format!("Bearer {token}");
    send(
        "POST",
        &format!("{base_url}/api/v1/payments/transfers"),
        &[
            ("authorization", authorization.as_str()),
            ("content-type", "application/json"),
            ("idempotency-key", key),
        ],
        body.into_bytes(),
    )
    .await
}
