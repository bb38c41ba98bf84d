//! `ceiba admin …`: what an operator does before anyone can sign in.

use std::io::BufRead;

use anyhow::{Context, bail};
use ceiba_audit::{AuditEvent, EventKind};
use ceiba_identity::{Argon2Config, CredentialHasher, Password, PhoneNumber, Role};
use ceiba_store::{NewUser, Registration, UserStatus};

use crate::config::Config;
use crate::print_line;
use crate::serve::{now_ms, open_database};

/// Creates an active account with the given roles; the password comes on standard input.
pub async fn create_user(
    config: &Config,
    phone: &str,
    name: &str,
    roles: &[String],
) -> anyhow::Result<()> {
    let phone = PhoneNumber::parse(phone).context("--phone no es válido")?;
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 100 || name.chars().any(char::is_control) {
        bail!("--name debe tener entre 1 y 100 caracteres, sin caracteres de control");
    }
    let roles = roles
        .iter()
        .map(|role| Role::parse(role).with_context(|| format!("--role «{role}» no existe")))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .context("no se pudo leer la contraseña de la entrada estándar")?;
    let password = Password::parse(line.trim_end_matches(['\r', '\n']))
        .context("la contraseña leída de la entrada estándar no es válida")?;

    let db = open_database(config).await?;
    db.migrate()
        .await
        .context("no se pudo migrar la base de datos")?;
    let hasher = CredentialHasher::new(Argon2Config::default())
        .context("los parámetros de Argon2 no son válidos")?;
    let hash = hasher.hash(&password, &mut rand::rng());
    let id = uuid::Uuid::new_v4().to_string();
    let outcome = db
        .register_user(
            &NewUser {
                id: &id,
                phone: &phone,
                display_name: name,
                password_hash: &hash,
                status: UserStatus::Active,
                roles: &roles,
            },
            None,
            None,
            now_ms(),
        )
        .await?;
    if outcome == Registration::PhoneTaken {
        db.close().await;
        bail!("ya existe una cuenta con el número {}", phone.masked());
    }
    let role_names: Vec<&str> = roles.iter().map(|role| role.as_str()).collect();
    let event = AuditEvent::new(EventKind::RoleChanged, now_ms())
        .actor("sistema")
        .subject(&id)
        .detail("roles", role_names.join(","))
        .detail("canal", "cli");
    db.append_audit(&[event.to_bytes()], now_ms()).await?;
    db.close().await;
    print_line(&format!(
        "Cuenta creada: {id} ({}) con los roles {}.",
        phone.masked(),
        role_names.join(", ")
    ))
}
