//! What an audit entry says: a security event, encoded once into canonical bytes (the bytes
//! the leaf hash covers). The encoding is JSON with a fixed field order and sorted detail keys,
//! so the same event always gives the same bytes, and JSON escaping keeps control characters
//! (a forged log line, a terminal escape) out of anything that prints it.

use std::collections::BTreeMap;

/// Kinds of event, with stable machine names (they are part of the stored bytes).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum EventKind {
    ServerStarted,
    LeaseAcquired,
    UserRegistered,
    PhoneConfirmed,
    LoginSucceeded,
    LoginFailed,
    AccountLocked,
    PasswordChanged,
    SecondFactorEnrolled,
    RoleChanged,
    SessionRevoked,
    AccountDisabled,
    NationalIdSet,
    PinChanged,
    PhoneChanged,
    /// An administrator approved or rejected a merchant's application.
    MerchantDecided,
    /// A health role read a case record (one event per record, in a list too).
    CaseRead,
    /// An administrator changed the provinces a health worker or epidemiologist works in.
    StaffProvincesChanged,
    /// A health role sent a line list: cases created or updated in bulk.
    CasesImported,
    /// A health role read a person's record.
    PersonRead,
    /// A health role merged two records of one person.
    PersonsMerged,
    /// An administrator protected or unprotected a wiki page, or flagged it for review.
    WikiPageProtected,
    /// A reviewer accepted a pending revision of a wiki page.
    WikiRevisionReviewed,
    /// A reviewer rolled back a run of edits by one author.
    WikiRollback,
    /// An administrator created or changed an abuse filter.
    WikiFilterChanged,
}

impl EventKind {
    pub fn name(self) -> &'static str {
        match self {
            EventKind::ServerStarted => "server_started",
            EventKind::LeaseAcquired => "lease_acquired",
            EventKind::UserRegistered => "user_registered",
            EventKind::PhoneConfirmed => "phone_confirmed",
            EventKind::LoginSucceeded => "login_succeeded",
            EventKind::LoginFailed => "login_failed",
            EventKind::AccountLocked => "account_locked",
            EventKind::PasswordChanged => "password_changed",
            EventKind::SecondFactorEnrolled => "second_factor_enrolled",
            EventKind::RoleChanged => "role_changed",
            EventKind::SessionRevoked => "session_revoked",
            EventKind::AccountDisabled => "account_disabled",
            EventKind::NationalIdSet => "national_id_set",
            EventKind::PinChanged => "pin_changed",
            EventKind::PhoneChanged => "phone_changed",
            EventKind::MerchantDecided => "merchant_decided",
            EventKind::CaseRead => "salud_case_read",
            EventKind::StaffProvincesChanged => "salud_staff_provinces_changed",
            EventKind::CasesImported => "salud_cases_imported",
            EventKind::PersonRead => "salud_person_read",
            EventKind::PersonsMerged => "salud_persons_merged",
            EventKind::WikiPageProtected => "wiki_page_protected",
            EventKind::WikiRevisionReviewed => "wiki_revision_reviewed",
            EventKind::WikiRollback => "wiki_rollback",
            EventKind::WikiFilterChanged => "wiki_filter_changed",
        }
    }
}

/// Longest detail value kept, in characters; longer ones are cut (an entry is a record, not a
/// place to store documents).
pub const DETAIL_VALUE_CHARS_MAX: usize = 256;
/// Most detail fields an event may carry.
pub const DETAIL_FIELDS_MAX: usize = 16;

/// Words that name secrets. A detail key containing one is a bug in the caller: audit entries
/// never hold passwords, PINs, codes, tokens or keys.
const SECRET_WORDS: &[&str] = &[
    "password",
    "contrasena",
    "contraseña",
    "pin",
    "code",
    "codigo",
    "código",
    "token",
    "secret",
    "secreto",
    "clave",
    "key",
];

/// A security event about to be appended to the audit log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEvent {
    kind: EventKind,
    at_ms: i64,
    actor: Option<String>,
    subject: Option<String>,
    detail: BTreeMap<String, String>,
}

#[derive(serde::Serialize)]
struct Encoded<'a> {
    v: u8,
    kind: &'static str,
    at_ms: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    actor: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    subject: Option<&'a str>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    detail: &'a BTreeMap<String, String>,
}

impl AuditEvent {
    pub fn new(kind: EventKind, at_ms: i64) -> AuditEvent {
        AuditEvent {
            kind,
            at_ms,
            actor: None,
            subject: None,
            detail: BTreeMap::new(),
        }
    }

    /// Who did it (a user id, `sistema` for the platform itself).
    #[must_use]
    pub fn actor(mut self, actor: impl Into<String>) -> AuditEvent {
        self.actor = Some(cut(actor.into()));
        self
    }

    /// Whom or what it was done to.
    #[must_use]
    pub fn subject(mut self, subject: impl Into<String>) -> AuditEvent {
        self.subject = Some(cut(subject.into()));
        self
    }

    /// One more fact about the event.
    ///
    /// # Panics
    /// When `key` names a secret or is not `[a-z_]{1,32}`, or past [`DETAIL_FIELDS_MAX`]
    /// fields: those are bugs in the caller, never input.
    #[must_use]
    pub fn detail(mut self, key: &str, value: impl Into<String>) -> AuditEvent {
        assert!(
            (1..=32).contains(&key.len())
                && key.bytes().all(|b| b.is_ascii_lowercase() || b == b'_'),
            "audit detail keys are [a-z_]{{1,32}}: {key:?}"
        );
        assert!(
            !SECRET_WORDS.iter().any(|word| key.contains(word)),
            "audit entries never hold secrets: {key:?}"
        );
        assert!(
            self.detail.len() < DETAIL_FIELDS_MAX,
            "too many audit detail fields"
        );
        self.detail.insert(key.to_owned(), cut(value.into()));
        self
    }

    pub fn kind(&self) -> EventKind {
        self.kind
    }

    /// The canonical bytes stored and hashed.
    pub fn to_bytes(&self) -> Vec<u8> {
        serde_json::to_vec(&Encoded {
            v: 1,
            kind: self.kind.name(),
            at_ms: self.at_ms,
            actor: self.actor.as_deref(),
            subject: self.subject.as_deref(),
            detail: &self.detail,
        })
        .expect("an audit event always serializes")
    }
}

fn cut(text: String) -> String {
    if text.chars().count() <= DETAIL_VALUE_CHARS_MAX {
        text
    } else {
        text.chars().take(DETAIL_VALUE_CHARS_MAX).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encoding_is_canonical_and_escapes_control_characters() {
        let event = AuditEvent::new(EventKind::LoginFailed, 1_790_000_000_000)
            .actor("desconocido")
            .detail("motivo", "contraseña incorrecta\n2026 INFO falso")
            .detail("canal", "web");
        let text = String::from_utf8(event.to_bytes()).unwrap();
        assert_eq!(
            text,
            r#"{"v":1,"kind":"login_failed","at_ms":1790000000000,"actor":"desconocido","detail":{"canal":"web","motivo":"contraseña incorrecta\n2026 INFO falso"}}"#
        );
        assert!(
            !text.contains('\n'),
            "a raw newline would let a value forge a log line"
        );
        assert_eq!(event.to_bytes(), event.clone().to_bytes());
    }

    #[test]
    fn long_values_are_cut() {
        let event = AuditEvent::new(EventKind::ServerStarted, 0).detail("nota", "x".repeat(1000));
        let text = String::from_utf8(event.to_bytes()).unwrap();
        assert!(text.contains(&"x".repeat(DETAIL_VALUE_CHARS_MAX)));
        assert!(!text.contains(&"x".repeat(DETAIL_VALUE_CHARS_MAX + 1)));
    }

    #[test]
    #[should_panic(expected = "never hold secrets")]
    fn secret_keys_are_refused() {
        let _ = AuditEvent::new(EventKind::LoginFailed, 0).detail("password", "hunter2");
    }
}
