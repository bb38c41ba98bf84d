//! MediaWiki XML export files (`Special:Export`, `dumpBackup.php`; schema 0.x, 0.10 and 0.11
//! included) read as a stream, one page with its whole revision history at a time.
//!
//! A page that cannot be imported (no title, a bad timestamp, a text over the limit, a
//! repeated revision id…) is reported as [`ImportError::Page`] and reading goes on with the
//! next page; a document that is not well-formed XML stops with an error naming the line and
//! byte. [`MediaWikiReader::bytes_read`] tells how far the import has got.

use std::collections::{HashSet, VecDeque};
use std::io::{self, BufRead, Read};

use quick_xml::Reader;
use quick_xml::escape::resolve_predefined_entity;
use quick_xml::events::{BytesStart, Event};
use serde::{Deserialize, Serialize};
use thiserror::Error;

/// Limits on what an export may contain; beyond them a page (or the import) is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// Largest revision text, in bytes once unescaped (default 4 MiB).
    pub max_text_bytes: usize,
    /// Largest title, comment, user name or other short field, in bytes (default 64 KiB).
    pub max_field_bytes: usize,
    /// Most revisions in one page (default 100 000).
    pub max_revisions_per_page: usize,
    /// Largest single XML token (a text run, a tag), in bytes (default 32 MiB): bounds the
    /// memory the XML reader itself may take.
    pub max_token_bytes: usize,
    /// Deepest element nesting (default 64).
    pub max_depth: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_text_bytes: 4 * 1024 * 1024,
            max_field_bytes: 64 * 1024,
            max_revisions_per_page: 100_000,
            max_token_bytes: 32 * 1024 * 1024,
            max_depth: 64,
        }
    }
}

/// A namespace declared in `<siteinfo>`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Namespace {
    /// Its number (0: articles, 10: templates…).
    pub key: i32,
    /// Its name, the prefix of its titles (empty for the main namespace).
    pub name: String,
    /// Its capitalisation rule (`first-letter` or `case-sensitive`).
    pub case: String,
}

/// The wiki an export comes from.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct SiteInfo {
    /// The wiki's name (`EcuRed`).
    pub sitename: String,
    /// Its database name.
    pub dbname: String,
    /// Its main page URL.
    pub base: String,
    /// The MediaWiki version that wrote the export.
    pub generator: String,
    /// Title capitalisation rule.
    pub case: String,
    /// Its namespaces.
    pub namespaces: Vec<Namespace>,
}

impl SiteInfo {
    /// The name of namespace `key` (empty when unknown or the main namespace).
    #[must_use]
    pub fn namespace_name(&self, key: i32) -> &str {
        self.namespaces
            .iter()
            .find(|n| n.key == key)
            .map_or("", |n| n.name.as_str())
    }
}

/// Who made a revision.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Contributor {
    /// A registered user.
    User {
        /// The account name.
        name: String,
        /// The account id in the source wiki, when given.
        id: Option<u64>,
    },
    /// An anonymous edit, by IP address.
    Ip(String),
    /// Hidden by the source wiki (`deleted="deleted"`), or absent.
    Hidden,
}

/// One revision of a page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Revision {
    /// Revision id in the source wiki.
    pub id: u64,
    /// The revision it was edited from.
    pub parent_id: Option<u64>,
    /// When it was saved, in milliseconds since the Unix epoch.
    pub timestamp_ms: i64,
    /// Who saved it.
    pub contributor: Contributor,
    /// The edit summary (`None`: absent or hidden).
    pub comment: Option<String>,
    /// Whether it was marked minor.
    pub minor: bool,
    /// Content model (`wikitext`, `css`, `Scribunto`…), when given.
    pub model: Option<String>,
    /// Content format (`text/x-wiki`…), when given.
    pub format: Option<String>,
    /// The text (`None`: hidden by the source wiki, `deleted="deleted"`).
    pub text: Option<String>,
    /// The SHA-1 the source wiki gives (base 36), when given.
    pub sha1: Option<String>,
}

/// One page with its revisions, in the order the export lists them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Page {
    /// Full title, namespace prefix included (`Plantilla:Ficha`).
    pub title: String,
    /// Namespace number.
    pub ns: i32,
    /// The namespace's name from `<siteinfo>` (empty for articles).
    pub namespace_prefix: String,
    /// Page id in the source wiki.
    pub id: u64,
    /// The redirect target, if the page is a redirect.
    pub redirect: Option<String>,
    /// Its revisions.
    pub revisions: Vec<Revision>,
}

/// A page that could not be imported; the rest of the export still is.
#[derive(Debug, Clone, PartialEq, Eq, Error, Serialize, Deserialize)]
#[error("página {} (línea {line}, byte {byte}): {reason}", title_text(.title.as_deref()))]
pub struct PageError {
    /// Its title, if it had a readable one.
    pub title: Option<String>,
    /// Line of its `<page>` tag (1-based).
    pub line: u64,
    /// Byte offset of its `<page>` tag.
    pub byte: u64,
    /// What is wrong with it.
    pub reason: String,
}

fn title_text(title: Option<&str>) -> String {
    title.map_or_else(|| "sin título".to_owned(), |t| format!("«{t}»"))
}

/// An import problem: a bad page (the import goes on) or a fatal one (it stops).
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum ImportError {
    /// One page could not be imported; the next ones will be read.
    #[error("{0}")]
    Page(PageError),
    /// The document is not well-formed XML.
    #[error("XML mal formado en la línea {line} (byte {byte}): {detail}")]
    Xml {
        /// Line (1-based).
        line: u64,
        /// Byte offset.
        byte: u64,
        /// The XML reader's description.
        detail: String,
    },
    /// The document ends before its root element closes.
    #[error("el archivo termina antes de tiempo en la línea {line} (byte {byte}): ¿está truncado?")]
    Truncated {
        /// Line (1-based).
        line: u64,
        /// Byte offset.
        byte: u64,
    },
    /// The root element is not `<mediawiki>`.
    #[error("no es una exportación de MediaWiki: el elemento raíz es «{found}»")]
    NotAnExport {
        /// What was found instead.
        found: String,
    },
    /// The export schema version is not a 0.x one.
    #[error(
        "versión de exportación «{version}» no admitida (se admiten las 0.x, como 0.10 y 0.11)"
    )]
    UnsupportedVersion {
        /// The version found.
        version: String,
    },
    /// Elements nested deeper than [`Limits::max_depth`].
    #[error("elementos anidados a más de {max} niveles en la línea {line} (byte {byte})")]
    TooDeep {
        /// The limit.
        max: usize,
        /// Line (1-based).
        line: u64,
        /// Byte offset.
        byte: u64,
    },
    /// One XML token larger than [`Limits::max_token_bytes`].
    #[error("un fragmento de XML supera los {max} bytes cerca de la línea {line} (byte {byte})")]
    TokenTooLarge {
        /// The limit.
        max: usize,
        /// Line (1-based).
        line: u64,
        /// Byte offset.
        byte: u64,
    },
    /// The source could not be read.
    #[error("no se pudo leer el archivo (byte {byte}): {detail}")]
    Io {
        /// Byte offset.
        byte: u64,
        /// The system's description.
        detail: String,
    },
}

impl ImportError {
    /// Whether reading stops here (everything but a bad page).
    #[must_use]
    pub fn is_fatal(&self) -> bool {
        !matches!(self, Self::Page(_))
    }
}

/// Newline offsets kept to turn an error's byte offset back into a line number.
const NEWLINE_WINDOW: u64 = 64 * 1024;

/// Counts bytes and lines as the XML reader consumes them, and refuses tokens over a limit
/// (the XML reader buffers a whole token, so this bounds its memory).
#[derive(Debug)]
struct Counting<R> {
    inner: R,
    consumed: u64,
    newlines: u64,
    recent_newlines: VecDeque<u64>,
    since_mark: usize,
    max_token: usize,
    over_limit: bool,
}

impl<R: BufRead> Counting<R> {
    fn mark(&mut self) {
        self.since_mark = 0;
    }

    /// The 1-based line of byte offset `at` (exact within the last [`NEWLINE_WINDOW`]
    /// bytes consumed).
    fn line_of(&self, at: u64) -> u64 {
        let after = self.recent_newlines.iter().filter(|n| **n >= at).count();
        let after = u64::try_from(after).unwrap_or(u64::MAX);
        self.newlines.saturating_sub(after) + 1
    }
}

impl<R: BufRead> Read for Counting<R> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        let available = self.fill_buf()?;
        let n = available.len().min(out.len());
        out[..n].copy_from_slice(&available[..n]);
        self.consume(n);
        Ok(n)
    }
}

impl<R: BufRead> BufRead for Counting<R> {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        if self.since_mark > self.max_token {
            self.over_limit = true;
            return Err(io::Error::other("token too large"));
        }
        // Hand out no more than the token may still grow by, so a reader that takes a whole
        // in-memory source in one go comes back here before exceeding the limit.
        let allowed = self.max_token - self.since_mark + 1;
        let buffer = self.inner.fill_buf()?;
        Ok(&buffer[..buffer.len().min(allowed)])
    }

    fn consume(&mut self, amount: usize) {
        // The inner buffer still holds the bytes being consumed, so this does not read.
        if let Ok(buffer) = self.inner.fill_buf() {
            let taken = &buffer[..amount.min(buffer.len())];
            for (offset, byte) in taken.iter().enumerate() {
                if *byte == b'\n' {
                    self.newlines += 1;
                    let at = self.consumed + u64::try_from(offset).unwrap_or(0);
                    self.recent_newlines.push_back(at);
                }
            }
        }
        self.consumed += u64::try_from(amount).unwrap_or(0);
        self.since_mark = self.since_mark.saturating_add(amount);
        while self
            .recent_newlines
            .front()
            .is_some_and(|n| n + NEWLINE_WINDOW < self.consumed)
        {
            self.recent_newlines.pop_front();
        }
        self.inner.consume(amount);
    }
}

/// An XML event, owned and simplified for the parser.
#[derive(Debug)]
enum Ev {
    Start(String, Vec<(String, String)>),
    Empty(String, Vec<(String, String)>),
    End,
    /// Character data (entities resolved), or why it could not be decoded.
    Text(Result<String, String>),
    Eof,
}

/// Reads a MediaWiki export one page at a time.
#[derive(Debug)]
pub struct MediaWikiReader<R: BufRead> {
    xml: Reader<Counting<R>>,
    buffer: Vec<u8>,
    depth: usize,
    limits: Limits,
    site: SiteInfo,
    version: String,
    pending_page: Option<u64>,
    finished: bool,
}

impl<R: BufRead> MediaWikiReader<R> {
    /// Opens an export with the default [`Limits`], reading up to the first page: the root
    /// element, its version and `<siteinfo>`.
    ///
    /// # Errors
    /// [`ImportError`] when the document is not a MediaWiki export of a 0.x version, or is
    /// broken before its first page.
    pub fn new(reader: R) -> Result<Self, ImportError> {
        Self::with_limits(reader, Limits::default())
    }

    /// Like [`MediaWikiReader::new`] with the given limits.
    ///
    /// # Errors
    /// As [`MediaWikiReader::new`].
    pub fn with_limits(reader: R, limits: Limits) -> Result<Self, ImportError> {
        let counting = Counting {
            inner: reader,
            consumed: 0,
            newlines: 0,
            recent_newlines: VecDeque::new(),
            since_mark: 0,
            max_token: limits.max_token_bytes,
            over_limit: false,
        };
        let mut xml = Reader::from_reader(counting);
        xml.config_mut().check_end_names = true;
        let mut this = Self {
            xml,
            buffer: Vec::new(),
            depth: 0,
            limits,
            site: SiteInfo::default(),
            version: String::new(),
            pending_page: None,
            finished: false,
        };
        this.read_header()?;
        Ok(this)
    }

    /// The wiki the export comes from.
    #[must_use]
    pub fn site_info(&self) -> &SiteInfo {
        &self.site
    }

    /// The export schema version (`0.11`).
    #[must_use]
    pub fn export_version(&self) -> &str {
        &self.version
    }

    /// Bytes of the source read so far, for showing progress.
    #[must_use]
    pub fn bytes_read(&self) -> u64 {
        self.xml.get_ref().consumed
    }

    fn here(&self) -> (u64, u64) {
        let byte = self.xml.buffer_position();
        (self.xml.get_ref().line_of(byte), byte)
    }

    fn xml_error(&self, error: &quick_xml::Error) -> ImportError {
        let byte = self.xml.error_position();
        let line = self.xml.get_ref().line_of(byte);
        match error {
            quick_xml::Error::Io(_) if self.xml.get_ref().over_limit => {
                ImportError::TokenTooLarge {
                    max: self.limits.max_token_bytes,
                    line,
                    byte,
                }
            }
            quick_xml::Error::Io(e) => ImportError::Io {
                byte,
                detail: e.to_string(),
            },
            other => ImportError::Xml {
                line,
                byte,
                detail: other.to_string(),
            },
        }
    }

    fn next_event(&mut self) -> Result<Ev, ImportError> {
        self.buffer.clear();
        self.xml.get_mut().mark();
        let event = match self.xml.read_event_into(&mut self.buffer) {
            Ok(event) => event,
            Err(error) => return Err(self.xml_error(&error)),
        };
        let simplified = match event {
            Event::Start(start) => {
                let (name, attributes) = element(&start).map_err(|e| self.xml_error(&e))?;
                Ev::Start(name, attributes)
            }
            Event::Empty(start) => {
                let (name, attributes) = element(&start).map_err(|e| self.xml_error(&e))?;
                Ev::Empty(name, attributes)
            }
            Event::End(_) => Ev::End,
            Event::Text(text) => Ev::Text(
                text.xml_content()
                    .map(|t| t.into_owned())
                    .map_err(|e| format!("texto con codificación no válida: {e}")),
            ),
            Event::CData(data) => Ev::Text(
                data.xml_content()
                    .map(|t| t.into_owned())
                    .map_err(|e| format!("texto con codificación no válida: {e}")),
            ),
            Event::GeneralRef(reference) => Ev::Text(match reference.resolve_char_ref() {
                Ok(Some(c)) => Ok(c.to_string()),
                Ok(None) => {
                    let name = reference
                        .decode()
                        .map(|n| n.into_owned())
                        .unwrap_or_default();
                    resolve_predefined_entity(&name)
                        .map(str::to_owned)
                        .ok_or_else(|| format!("entidad desconocida «&{name};»"))
                }
                Err(e) => Err(format!("referencia de carácter no válida: {e}")),
            }),
            Event::Eof => Ev::Eof,
            Event::Comment(_) | Event::Decl(_) | Event::PI(_) | Event::DocType(_) => {
                Ev::Text(Ok(String::new()))
            }
        };
        match &simplified {
            Ev::Start(..) => {
                self.depth += 1;
                if self.depth > self.limits.max_depth {
                    let (line, byte) = self.here();
                    return Err(ImportError::TooDeep {
                        max: self.limits.max_depth,
                        line,
                        byte,
                    });
                }
            }
            Ev::End => self.depth = self.depth.saturating_sub(1),
            Ev::Eof if self.depth > 0 => {
                let (line, byte) = self.here();
                return Err(ImportError::Truncated { line, byte });
            }
            _ => {}
        }
        Ok(simplified)
    }

    /// Consumes events up to the end of the element just started.
    fn skip_element(&mut self) -> Result<(), ImportError> {
        let target = self.depth - 1;
        while self.depth > target {
            self.next_event()?;
        }
        Ok(())
    }

    /// Reads the text of the element just started, up to `max` bytes; nested elements are
    /// skipped. The inner `Err` is why the text is unusable (the element is consumed anyway).
    fn read_text(&mut self, max: usize) -> Result<Result<String, String>, ImportError> {
        let target = self.depth - 1;
        let mut text = String::new();
        let mut problem = None;
        while self.depth > target {
            match self.next_event()? {
                Ev::Text(Ok(piece)) if problem.is_none() => {
                    if text.len() + piece.len() > max {
                        problem = Some(format!("texto de más de {max} bytes"));
                        text = String::new();
                    } else {
                        text.push_str(&piece);
                    }
                }
                Ev::Text(Err(reason)) if problem.is_none() => problem = Some(reason),
                Ev::Start(..) => self.skip_element()?,
                _ => {}
            }
        }
        Ok(problem.map_or(Ok(text), Err))
    }

    fn read_header(&mut self) -> Result<(), ImportError> {
        let attributes = loop {
            match self.next_event()? {
                Ev::Start(name, attributes) if name == "mediawiki" => break attributes,
                Ev::Start(name, _) | Ev::Empty(name, _) => {
                    return Err(ImportError::NotAnExport { found: name });
                }
                Ev::Text(Ok(text)) if text.trim().is_empty() => {}
                Ev::Text(_) | Ev::End => {
                    return Err(ImportError::NotAnExport {
                        found: "texto".to_owned(),
                    });
                }
                Ev::Eof => {
                    return Err(ImportError::NotAnExport {
                        found: "un documento vacío".to_owned(),
                    });
                }
            }
        };
        self.version = export_version(&attributes)?;
        loop {
            match self.next_event()? {
                Ev::Start(name, _) if name == "siteinfo" => self.read_siteinfo()?,
                Ev::Start(name, _) if name == "page" => {
                    self.pending_page = Some(self.page_start());
                    return Ok(());
                }
                Ev::Start(..) => self.skip_element()?,
                Ev::End => {
                    self.finish_document()?;
                    return Ok(());
                }
                Ev::Eof => {
                    let (line, byte) = self.here();
                    return Err(ImportError::Truncated { line, byte });
                }
                Ev::Empty(..) | Ev::Text(_) => {}
            }
        }
    }

    /// After `</mediawiki>`: only whitespace and comments may follow.
    fn finish_document(&mut self) -> Result<(), ImportError> {
        self.finished = true;
        loop {
            match self.next_event()? {
                Ev::Eof => return Ok(()),
                Ev::Text(Ok(text)) if text.trim().is_empty() => {}
                _ => {
                    let (line, byte) = self.here();
                    return Err(ImportError::Xml {
                        line,
                        byte,
                        detail: "contenido después del elemento raíz".to_owned(),
                    });
                }
            }
        }
    }

    fn read_siteinfo(&mut self) -> Result<(), ImportError> {
        let target = self.depth - 1;
        let max = self.limits.max_field_bytes;
        while self.depth > target {
            match self.next_event()? {
                Ev::Start(name, _) => match name.as_str() {
                    "sitename" => self.site.sitename = self.read_text(max)?.unwrap_or_default(),
                    "dbname" => self.site.dbname = self.read_text(max)?.unwrap_or_default(),
                    "base" => self.site.base = self.read_text(max)?.unwrap_or_default(),
                    "generator" => self.site.generator = self.read_text(max)?.unwrap_or_default(),
                    "case" => self.site.case = self.read_text(max)?.unwrap_or_default(),
                    "namespaces" => self.read_namespaces()?,
                    _ => self.skip_element()?,
                },
                Ev::Empty(..) | Ev::Text(_) | Ev::End | Ev::Eof => {}
            }
        }
        Ok(())
    }

    fn read_namespaces(&mut self) -> Result<(), ImportError> {
        let target = self.depth - 1;
        let max = self.limits.max_field_bytes;
        while self.depth > target {
            let (attributes, name) = match self.next_event()? {
                Ev::Start(tag, attributes) if tag == "namespace" => {
                    (attributes, self.read_text(max)?.unwrap_or_default())
                }
                Ev::Empty(tag, attributes) if tag == "namespace" => (attributes, String::new()),
                Ev::Start(..) => {
                    self.skip_element()?;
                    continue;
                }
                _ => continue,
            };
            // A namespace without a readable key cannot be referred to: leave it out.
            if let Some(key) = attribute(&attributes, "key").and_then(|k| k.trim().parse().ok()) {
                self.site.namespaces.push(Namespace {
                    key,
                    name,
                    case: attribute(&attributes, "case")
                        .unwrap_or_default()
                        .to_owned(),
                });
            }
        }
        Ok(())
    }

    fn page_start(&self) -> u64 {
        // The `<page>` tag ends at the current position; its start is before.
        self.xml
            .buffer_position()
            .saturating_sub(u64::try_from("<page>".len()).unwrap_or(0))
    }

    /// Reads the page just started. The outer error is fatal; the inner one is this page's.
    fn read_page(&mut self, byte: u64) -> Result<Result<Page, PageError>, ImportError> {
        let line = self.xml.get_ref().line_of(byte);
        let target = self.depth - 1;
        let max = self.limits.max_field_bytes;
        let mut problem: Option<String> = None;
        let note = |problem: &mut Option<String>, reason: String| {
            if problem.is_none() {
                *problem = Some(reason);
            }
        };
        let mut title = None;
        let mut ns = None;
        let mut id = None;
        let mut redirect = None;
        let mut revisions: Vec<Revision> = Vec::new();
        let mut revision_ids = HashSet::new();
        while self.depth > target {
            match self.next_event()? {
                Ev::Start(name, attributes) => match name.as_str() {
                    "title" => match self.read_text(max)? {
                        Ok(text) if !text.trim().is_empty() => title = Some(text.trim().to_owned()),
                        Ok(_) => note(&mut problem, "el título está vacío".to_owned()),
                        Err(reason) => note(&mut problem, format!("título ilegible: {reason}")),
                    },
                    "ns" => match self.read_number::<i32>("ns")? {
                        Ok(value) => ns = Some(value),
                        Err(reason) => note(&mut problem, reason),
                    },
                    "id" => match self.read_number::<u64>("id")? {
                        Ok(value) => id = Some(value),
                        Err(reason) => note(&mut problem, reason),
                    },
                    "redirect" => {
                        redirect = attribute(&attributes, "title").map(str::to_owned);
                        self.skip_element()?;
                    }
                    "revision" => {
                        let revision = self.read_revision()?;
                        if problem.is_some() {
                            continue;
                        }
                        match revision {
                            Ok(revision) if !revision_ids.insert(revision.id) => note(
                                &mut problem,
                                format!("la revisión {} aparece dos veces", revision.id),
                            ),
                            Ok(_) if revisions.len() >= self.limits.max_revisions_per_page => {
                                note(
                                    &mut problem,
                                    format!(
                                        "más de {} revisiones",
                                        self.limits.max_revisions_per_page
                                    ),
                                );
                                revisions = Vec::new();
                            }
                            Ok(revision) => revisions.push(revision),
                            Err(reason) => {
                                note(&mut problem, reason);
                                revisions = Vec::new();
                            }
                        }
                    }
                    _ => self.skip_element()?,
                },
                Ev::Empty(name, attributes) if name == "redirect" => {
                    redirect = attribute(&attributes, "title").map(str::to_owned);
                }
                _ => {}
            }
        }
        let fail = |title: Option<String>, reason: String| PageError {
            title,
            line,
            byte,
            reason,
        };
        if let Some(reason) = problem {
            return Ok(Err(fail(title, reason)));
        }
        let Some(title) = title else {
            return Ok(Err(fail(None, "falta el título (<title>)".to_owned())));
        };
        let Some(id) = id else {
            return Ok(Err(fail(
                Some(title),
                "falta el identificador (<id>)".to_owned(),
            )));
        };
        let ns = ns.unwrap_or_else(|| self.namespace_of_title(&title));
        Ok(Ok(Page {
            namespace_prefix: self.site.namespace_name(ns).to_owned(),
            title,
            ns,
            id,
            redirect,
            revisions,
        }))
    }

    /// The namespace a title's prefix names (for exports without `<ns>`), else 0.
    fn namespace_of_title(&self, title: &str) -> i32 {
        title
            .split_once(':')
            .and_then(|(prefix, _)| {
                self.site
                    .namespaces
                    .iter()
                    .find(|n| !n.name.is_empty() && n.name == prefix)
            })
            .map_or(0, |n| n.key)
    }

    fn read_number<T: std::str::FromStr>(
        &mut self,
        field: &str,
    ) -> Result<Result<T, String>, ImportError> {
        Ok(match self.read_text(64)? {
            Ok(text) => text
                .trim()
                .parse()
                .map_err(|_| format!("<{field}> no es un número válido: «{}»", text.trim())),
            Err(reason) => Err(format!("<{field}> ilegible: {reason}")),
        })
    }

    /// Reads the revision just started. The outer error is fatal; the inner one is why the
    /// revision (and so its page) cannot be imported.
    fn read_revision(&mut self) -> Result<Result<Revision, String>, ImportError> {
        let target = self.depth - 1;
        let max = self.limits.max_field_bytes;
        let mut problem: Option<String> = None;
        let mut id = None;
        let mut parent_id = None;
        let mut timestamp_ms = None;
        let mut contributor = Contributor::Hidden;
        let mut comment = None;
        let mut minor = false;
        let mut model = None;
        let mut format = None;
        let mut text = None;
        let mut sha1 = None;
        while self.depth > target {
            let (name, attributes, empty) = match self.next_event()? {
                Ev::Start(name, attributes) => (name, attributes, false),
                Ev::Empty(name, attributes) => (name, attributes, true),
                _ => continue,
            };
            let read =
                |this: &mut Self, limit: usize| -> Result<Result<String, String>, ImportError> {
                    if empty {
                        Ok(Ok(String::new()))
                    } else {
                        this.read_text(limit)
                    }
                };
            let outcome: Result<(), String> = match name.as_str() {
                "id" if !empty => self.read_number::<u64>("id")?.map(|v| id = Some(v)),
                "parentid" if !empty => self
                    .read_number::<u64>("parentid")?
                    .map(|v| parent_id = Some(v)),
                "timestamp" => read(self, 64)?
                    .and_then(|t| parse_timestamp(&t).map(|ms| timestamp_ms = Some(ms))),
                "contributor" => {
                    if attribute(&attributes, "deleted").is_some() || empty {
                        if !empty {
                            self.skip_element()?;
                        }
                        contributor = Contributor::Hidden;
                        Ok(())
                    } else {
                        self.read_contributor()?.map(|c| contributor = c)
                    }
                }
                "minor" => {
                    minor = true;
                    if !empty {
                        self.skip_element()?;
                    }
                    Ok(())
                }
                "comment" => {
                    let value = read(self, max)?;
                    if attribute(&attributes, "deleted").is_none() {
                        value.map(|c| comment = Some(c))
                    } else {
                        Ok(())
                    }
                }
                "model" => read(self, max)?.map(|m| model = Some(m)),
                "format" => read(self, max)?.map(|f| format = Some(f)),
                "sha1" => read(self, max)?.map(|s| sha1 = Some(s).filter(|s| !s.is_empty())),
                "text" => {
                    let value = read(self, self.limits.max_text_bytes)?;
                    if attribute(&attributes, "deleted").is_some() {
                        text = None;
                        Ok(())
                    } else {
                        value
                            .map(|t| text = Some(t))
                            .map_err(|reason| format!("texto de la revisión no admitido: {reason}"))
                    }
                }
                _ => {
                    if !empty {
                        self.skip_element()?;
                    }
                    Ok(())
                }
            };
            if let Err(reason) = outcome {
                problem.get_or_insert(reason);
            }
        }
        if let Some(reason) = problem {
            return Ok(Err(match id {
                Some(id) => format!("revisión {id}: {reason}"),
                None => reason,
            }));
        }
        let Some(id) = id else {
            return Ok(Err("una revisión no tiene identificador (<id>)".to_owned()));
        };
        let Some(timestamp_ms) = timestamp_ms else {
            return Ok(Err(format!(
                "la revisión {id} no tiene fecha (<timestamp>)"
            )));
        };
        Ok(Ok(Revision {
            id,
            parent_id,
            timestamp_ms,
            contributor,
            comment,
            minor,
            model,
            format,
            text,
            sha1,
        }))
    }

    fn read_contributor(&mut self) -> Result<Result<Contributor, String>, ImportError> {
        let target = self.depth - 1;
        let max = self.limits.max_field_bytes;
        let mut name = None;
        let mut id = None;
        let mut ip = None;
        let mut problem = None;
        while self.depth > target {
            if let Ev::Start(tag, _) = self.next_event()? {
                let outcome = match tag.as_str() {
                    "username" => self.read_text(max)?.map(|n| name = Some(n)),
                    "ip" => self.read_text(max)?.map(|n| ip = Some(n)),
                    "id" => self.read_number::<u64>("id")?.map(|n| id = Some(n)),
                    _ => self.skip_element().map(|()| Ok(()))?,
                };
                if let Err(reason) = outcome {
                    problem.get_or_insert(format!("autor ilegible: {reason}"));
                }
            }
        }
        if let Some(reason) = problem {
            return Ok(Err(reason));
        }
        Ok(Ok(match (name, ip) {
            (Some(name), _) => Contributor::User { name, id },
            (None, Some(ip)) => Contributor::Ip(ip),
            (None, None) => Contributor::Hidden,
        }))
    }
}

impl<R: BufRead> Iterator for MediaWikiReader<R> {
    type Item = Result<Page, ImportError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.finished {
            return None;
        }
        let start = match self.pending_page.take() {
            Some(start) => start,
            None => loop {
                match self.next_event() {
                    Ok(Ev::Start(name, _)) if name == "page" && self.depth == 2 => {
                        break self.page_start();
                    }
                    Ok(Ev::Start(..)) => {
                        if let Err(error) = self.skip_element() {
                            self.finished = true;
                            return Some(Err(error));
                        }
                    }
                    Ok(Ev::End) => {
                        return match self.finish_document() {
                            Ok(()) => None,
                            Err(error) => Some(Err(error)),
                        };
                    }
                    Ok(Ev::Eof) => {
                        // Unreachable while inside the root (next_event reports it), kept
                        // for safety.
                        self.finished = true;
                        return None;
                    }
                    Ok(Ev::Empty(..) | Ev::Text(_)) => {}
                    Err(error) => {
                        self.finished = true;
                        return Some(Err(error));
                    }
                }
            },
        };
        match self.read_page(start) {
            Ok(Ok(page)) => Some(Ok(page)),
            Ok(Err(bad)) => Some(Err(ImportError::Page(bad))),
            Err(fatal) => {
                self.finished = true;
                Some(Err(fatal))
            }
        }
    }
}

type Element = (String, Vec<(String, String)>);

fn element(start: &BytesStart<'_>) -> Result<Element, quick_xml::Error> {
    let name = String::from_utf8_lossy(start.local_name().as_ref()).into_owned();
    let mut attributes = Vec::new();
    for attribute in start.attributes() {
        let attribute = attribute?;
        let key = String::from_utf8_lossy(attribute.key.local_name().as_ref()).into_owned();
        let value = attribute.unescape_value()?.into_owned();
        attributes.push((key, value));
    }
    Ok((name, attributes))
}

fn attribute<'a>(attributes: &'a [(String, String)], key: &str) -> Option<&'a str> {
    attributes
        .iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
}

/// The export version, from the `version` attribute or the namespace URI; only 0.x.
fn export_version(attributes: &[(String, String)]) -> Result<String, ImportError> {
    let version = attribute(attributes, "version")
        .map(str::to_owned)
        .or_else(|| {
            attribute(attributes, "xmlns").and_then(|ns| {
                ns.trim_end_matches('/')
                    .rsplit_once("export-")
                    .map(|(_, v)| v.to_owned())
            })
        })
        .ok_or_else(|| ImportError::UnsupportedVersion {
            version: "(sin versión)".to_owned(),
        })?;
    let supported = version
        .split_once('.')
        .is_some_and(|(major, minor)| major == "0" && minor.parse::<u32>().is_ok());
    if supported {
        Ok(version)
    } else {
        Err(ImportError::UnsupportedVersion { version })
    }
}

/// ISO 8601 UTC (`2004-08-09T09:04:08Z`) to milliseconds since the epoch.
fn parse_timestamp(text: &str) -> Result<i64, String> {
    text.trim()
        .parse::<jiff::Timestamp>()
        .map(|t| t.as_millisecond())
        .map_err(|_| format!("fecha no válida: «{}»", text.trim()))
}
