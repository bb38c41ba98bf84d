//! Page titles normalized the way MediaWiki stores them, so that `[[josé_martí]]`,
//! `[[ José  Martí ]]` and `[[José Martí]]` all name the same page.

use std::fmt;

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};

/// Longest title accepted, in bytes of its key (MediaWiki's column size).
pub const MAX_TITLE_BYTES: usize = 255;

/// Raw input longer than this is refused before any work, whatever collapsing would leave.
const MAX_RAW_TITLE_BYTES: usize = 4 * 1024;

/// Characters MediaWiki never allows in a title: they are link or template syntax.
const FORBIDDEN: &[char] = &['#', '<', '>', '[', ']', '|', '{', '}', '\u{FFFD}'];

/// Bytes left readable in a page path; everything else is percent-encoded (`?`, `#`, `&`,
/// quotes, spaces and all non-ASCII among them).
const PATH_SET: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~')
    .remove(b':')
    .remove(b'/')
    .remove(b'(')
    .remove(b')')
    .remove(b',')
    .remove(b'!')
    .remove(b'*');

/// The namespaces the encyclopedia recognises; anything else is part of a main-namespace title.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum Namespace {
    /// Articles.
    Main,
    /// `Discusión:` / `Talk:`.
    Talk,
    /// `Usuario:` / `User:`.
    User,
    /// `Plantilla:` / `Template:`.
    Template,
    /// `Categoría:` / `Category:`.
    Category,
    /// `Archivo:` / `File:` (also `Imagen:` / `Image:`).
    File,
}

impl Namespace {
    /// The canonical (Spanish) prefix, without the colon; empty for articles.
    #[must_use]
    pub fn prefix(self) -> &'static str {
        match self {
            Self::Main => "",
            Self::Talk => "Discusión",
            Self::User => "Usuario",
            Self::Template => "Plantilla",
            Self::Category => "Categoría",
            Self::File => "Archivo",
        }
    }

    /// MediaWiki's number for the namespace (0 articles, 1 talk, 2 users, 6 files, 10
    /// templates, 14 categories): how pages are stored and exported.
    #[must_use]
    pub fn number(self) -> i64 {
        match self {
            Self::Main => 0,
            Self::Talk => 1,
            Self::User => 2,
            Self::File => 6,
            Self::Template => 10,
            Self::Category => 14,
        }
    }

    /// The namespace of a MediaWiki number, if the encyclopedia has it.
    #[must_use]
    pub fn from_number(number: i64) -> Option<Self> {
        [
            Self::Main,
            Self::Talk,
            Self::User,
            Self::File,
            Self::Template,
            Self::Category,
        ]
        .into_iter()
        .find(|namespace| namespace.number() == number)
    }

    /// The namespace a prefix names, in Spanish or English, in any letter case.
    #[must_use]
    pub fn from_prefix(prefix: &str) -> Option<Self> {
        let lower = prefix.trim().replace('_', " ").to_lowercase();
        Some(match lower.as_str() {
            "discusión" | "discusion" | "talk" => Self::Talk,
            "usuario" | "user" => Self::User,
            "plantilla" | "template" => Self::Template,
            "categoría" | "categoria" | "category" => Self::Category,
            "archivo" | "file" | "imagen" | "image" => Self::File,
            _ => return None,
        })
    }
}

/// A normalized page title: a namespace and a name with single spaces and an uppercase first
/// letter.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Title {
    namespace: Namespace,
    name: String,
}

impl Title {
    /// The namespace.
    #[must_use]
    pub fn namespace(&self) -> Namespace {
        self.namespace
    }

    /// The name without the namespace prefix, with spaces (`Historia de Cuba`).
    #[must_use]
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The full title as people read it (`Categoría:Historia de Cuba`).
    #[must_use]
    pub fn text(&self) -> String {
        match self.namespace {
            Namespace::Main => self.name.clone(),
            namespace => format!("{}:{}", namespace.prefix(), self.name),
        }
    }

    /// The storage key: the full title with underscores (`Categoría:Historia_de_Cuba`).
    #[must_use]
    pub fn key(&self) -> String {
        self.text().replace(' ', "_")
    }

    /// The default address of the page: `/wiki/` and the percent-encoded key.
    #[must_use]
    pub fn url_path(&self) -> String {
        format!("/wiki/{}", percent_encode_path(&self.key()))
    }

    /// The same name moved to another namespace (a template name written without prefix).
    pub(crate) fn with_namespace(mut self, namespace: Namespace) -> Self {
        self.namespace = namespace;
        self
    }
}

impl fmt::Display for Title {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text())
    }
}

/// Percent-encodes a path segment or fragment the way page addresses are written.
pub(crate) fn percent_encode_path(text: &str) -> String {
    utf8_percent_encode(text, PATH_SET).to_string()
}

/// Why a text cannot be a page title.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TitleError {
    /// Nothing but spaces or underscores.
    #[error("el título está vacío")]
    Empty,
    /// A namespace prefix with nothing after it.
    #[error("el título «{namespace}:» no tiene nombre después del espacio de nombres")]
    EmptyAfterNamespace {
        /// The canonical prefix.
        namespace: &'static str,
    },
    /// Longer than [`MAX_TITLE_BYTES`].
    #[error("el título ocupa {bytes} bytes; el máximo es {max}")]
    TooLong {
        /// Its length in bytes.
        bytes: usize,
        /// The limit.
        max: usize,
    },
    /// One of `#<>[]|{}`.
    #[error("el título contiene el carácter prohibido «{character}» en la posición {position}")]
    ForbiddenCharacter {
        /// The character.
        character: char,
        /// Its byte offset in the given text.
        position: usize,
    },
    /// A control character (line break, tab…).
    #[error("el título contiene un carácter de control en la posición {position}")]
    ControlCharacter {
        /// Its byte offset in the given text.
        position: usize,
    },
    /// A `%XX` sequence, which would make the address ambiguous.
    #[error("el título contiene una secuencia codificada con «%» en la posición {position}")]
    PercentEncoded {
        /// Its byte offset in the given text.
        position: usize,
    },
    /// A second colon at the start (`::x`): the first one already means "article".
    #[error("el título no puede empezar con «:»")]
    LeadingColon,
    /// `.`, `..` or a path through them.
    #[error("el título no puede ser una ruta relativa con «.» o «..»")]
    RelativePath,
}

/// Normalizes a title by MediaWiki's rules: underscores become spaces, spaces are trimmed and
/// collapsed, a leading colon is dropped, a known namespace prefix is recognised and written
/// canonically, and the first letter of the name is uppercased.
///
/// # Errors
/// [`TitleError`] when the text is empty, too long, or holds a forbidden character, a control
/// character, a `%XX` sequence or a relative path.
pub fn normalize_title(text: &str) -> Result<Title, TitleError> {
    if text.len() > MAX_RAW_TITLE_BYTES {
        return Err(TitleError::TooLong {
            bytes: text.len(),
            max: MAX_TITLE_BYTES,
        });
    }
    let bytes = text.as_bytes();
    for (position, character) in text.char_indices() {
        if character.is_control() {
            return Err(TitleError::ControlCharacter { position });
        }
        if FORBIDDEN.contains(&character) {
            return Err(TitleError::ForbiddenCharacter {
                character,
                position,
            });
        }
        if character == '%'
            && bytes.get(position + 1).is_some_and(u8::is_ascii_hexdigit)
            && bytes.get(position + 2).is_some_and(u8::is_ascii_hexdigit)
        {
            return Err(TitleError::PercentEncoded { position });
        }
    }
    let collapsed = collapse_spaces(text);
    let rest = collapsed
        .strip_prefix(':')
        .map_or(collapsed.as_str(), str::trim_start);
    let (namespace, name) = match rest.split_once(':') {
        Some((prefix, name)) => match Namespace::from_prefix(prefix) {
            Some(namespace) => (namespace, name.trim()),
            None => (Namespace::Main, rest),
        },
        None => (Namespace::Main, rest),
    };
    if namespace == Namespace::Main && name.starts_with(':') {
        return Err(TitleError::LeadingColon);
    }
    if name.is_empty() {
        return Err(match namespace {
            Namespace::Main => TitleError::Empty,
            namespace => TitleError::EmptyAfterNamespace {
                namespace: namespace.prefix(),
            },
        });
    }
    if is_relative_path(name) {
        return Err(TitleError::RelativePath);
    }
    let mut chars = name.chars();
    let name: String = chars
        .next()
        .into_iter()
        .flat_map(char::to_uppercase)
        .chain(chars)
        .collect();
    let title = Title { namespace, name };
    let bytes = title.key().len();
    if bytes > MAX_TITLE_BYTES {
        return Err(TitleError::TooLong {
            bytes,
            max: MAX_TITLE_BYTES,
        });
    }
    Ok(title)
}

/// Underscores and every kind of space become one space; none at either end.
fn collapse_spaces(text: &str) -> String {
    let mut collapsed = String::with_capacity(text.len());
    let mut pending_space = false;
    for character in text.chars() {
        if character == '_' || character.is_whitespace() {
            pending_space = true;
        } else {
            if pending_space && !collapsed.is_empty() {
                collapsed.push(' ');
            }
            pending_space = false;
            collapsed.push(character);
        }
    }
    collapsed
}

/// Titles become URL paths: `.`/`..` segments would point somewhere else.
fn is_relative_path(name: &str) -> bool {
    name == "."
        || name == ".."
        || name.starts_with("./")
        || name.starts_with("../")
        || name.contains("/./")
        || name.contains("/../")
        || name.ends_with("/.")
        || name.ends_with("/..")
}
