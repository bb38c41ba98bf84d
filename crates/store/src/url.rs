use std::fmt;
use std::path::Path;
use std::str::FromStr;

use crate::db::Engine;
use crate::error::StoreError;

/// A database URL that has been parsed and is known to name an engine Ceiba supports.
///
/// `Display` hides the password, so the value is safe to log and to put in error messages.
#[derive(Clone, PartialEq, Eq)]
pub struct DatabaseUrl {
    url: url::Url,
    engine: Engine,
}

impl DatabaseUrl {
    pub fn parse(text: &str) -> Result<DatabaseUrl, StoreError> {
        let invalid = |reason: &str| StoreError::InvalidUrl {
            url: redact_text(text),
            reason: reason.to_owned(),
        };
        let url = url::Url::parse(text).map_err(|error| invalid(&error.to_string()))?;
        let engine = match url.scheme() {
            "postgres" | "postgresql" => Engine::Postgres,
            "sqlite" => Engine::Sqlite,
            other => {
                return Err(invalid(&format!(
                    "el esquema «{other}» no está admitido; use postgres:// o sqlite://"
                )));
            }
        };
        if engine == Engine::Postgres && url.host_str().is_none_or(str::is_empty) {
            return Err(invalid("falta el servidor (host) de PostgreSQL"));
        }
        Ok(DatabaseUrl { url, engine })
    }

    /// The URL of an SQLite database file, created when missing.
    pub fn sqlite_file(path: &Path) -> Result<DatabaseUrl, StoreError> {
        let mut url = url::Url::parse("sqlite://").expect("constant URL parses");
        let text = path.to_str().ok_or_else(|| StoreError::InvalidUrl {
            url: path.display().to_string(),
            reason: "la ruta no es UTF-8 válido".to_owned(),
        })?;
        url.set_path(text);
        url.query_pairs_mut().append_pair("mode", "rwc");
        Ok(DatabaseUrl {
            url,
            engine: Engine::Sqlite,
        })
    }

    pub fn engine(&self) -> Engine {
        self.engine
    }

    /// The database file of an SQLite URL.
    pub fn sqlite_path(&self) -> Option<std::path::PathBuf> {
        (self.engine == Engine::Sqlite && !self.url.path().is_empty())
            .then(|| std::path::PathBuf::from(self.url.path()))
    }

    /// The full URL, password included: for the driver only, never for logs.
    pub(crate) fn expose(&self) -> &str {
        self.url.as_str()
    }

    /// A copy with one more query parameter (PostgreSQL's `options`, for a test's search path).
    pub(crate) fn with_query_pair(&self, key: &str, value: &str) -> DatabaseUrl {
        let mut url = self.url.clone();
        url.query_pairs_mut().append_pair(key, value);
        DatabaseUrl {
            url,
            engine: self.engine,
        }
    }
}

impl FromStr for DatabaseUrl {
    type Err = StoreError;
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        DatabaseUrl::parse(text)
    }
}

impl fmt::Display for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut shown = self.url.clone();
        if shown.password().is_some() {
            let _ = shown.set_password(Some("***"));
        }
        f.write_str(shown.as_str())
    }
}

impl fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DatabaseUrl({self})")
    }
}

/// Hides a password in a URL that did not parse, as well as text allows.
fn redact_text(text: &str) -> String {
    match (text.find("://"), text.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            let credentials = &text[scheme_end + 3..at];
            match credentials.find(':') {
                Some(colon) => format!(
                    "{}{}:***{}",
                    &text[..scheme_end + 3],
                    &credentials[..colon],
                    &text[at..]
                ),
                None => text.to_owned(),
            }
        }
        _ => text.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_supported_engines_and_refuses_others() {
        let pg = DatabaseUrl::parse("postgres://ceiba:secreto@db.example:5432/ceiba").unwrap();
        assert_eq!(pg.engine(), Engine::Postgres);
        assert_eq!(pg.to_string(), "postgres://ceiba:***@db.example:5432/ceiba");
        assert_eq!(
            DatabaseUrl::parse("postgresql://localhost/test")
                .unwrap()
                .engine(),
            Engine::Postgres
        );
        assert_eq!(
            DatabaseUrl::parse("sqlite:///tmp/x.db").unwrap().engine(),
            Engine::Sqlite
        );
        let refused = DatabaseUrl::parse("mysql://root:pw@localhost/test").unwrap_err();
        let message = refused.to_string();
        assert!(message.contains("mysql"), "{message}");
        assert!(!message.contains("pw"), "password leaked: {message}");
        assert!(DatabaseUrl::parse("no es una url").is_err());
        assert!(DatabaseUrl::parse("postgres:///sin-servidor").is_err());
    }

    #[test]
    fn redacts_passwords_in_unparsable_text() {
        assert_eq!(redact_text("pg://u:p@h/d"), "pg://u:***@h/d");
        assert_eq!(redact_text("pg://h/d"), "pg://h/d");
    }
}
