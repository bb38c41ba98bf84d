//! The encyclopedia in and out: `ceiba wiki import mediawiki FILE` reads a MediaWiki XML export
//! (every revision, stored once however often it runs; a bad page reported, the rest kept), and
//! `ceiba wiki export zim OUT.zim` writes what readers see of every article — the reviewed
//! revision of a page under review, else the latest — as a ZIM file Kiwix opens, signed with
//! the key kept in the data folder.

use std::collections::{HashMap, HashSet};
use std::io::{BufReader, IsTerminal, Write as _};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use ceiba_store::{Db, NewRevision, SaveOutcome, WikiPageRow};
use ceiba_wiki::markup::{
    Namespace, RenderContext, Title, normalize_title, redirect_target, render,
};
use ceiba_wiki::mediawiki::{Contributor, MediaWikiReader, Page};
use ceiba_wiki::rules::{PageState, Protection, ProtectionLevel, RevisionState, WikiRole};

use crate::config::Config;
use crate::print_line;
use crate::serve::open_database;

/// The file in the data folder holding the seed of the key that signs exports.
pub const EXPORT_KEY_FILE: &str = "enciclopedia-firma.key";
/// The article a ZIM file opens on, when it exists.
const MAIN_PAGE: &str = "Portada";
/// Bad pages listed by name after an import; the rest are counted.
const BAD_PAGES_SHOWN: usize = 50;

/// How a page's title is stored: its name without the namespace prefix, normalized.
fn stored_title(page: &Page) -> Option<String> {
    let name = if page.namespace_prefix.is_empty() {
        page.title.as_str()
    } else {
        page.title
            .strip_prefix(&page.namespace_prefix)
            .and_then(|rest| rest.strip_prefix(':'))
            .unwrap_or(&page.title)
    };
    match normalize_title(name) {
        Ok(title) if title.namespace() == Namespace::Main => Some(title.name().to_owned()),
        // A name that looks namespaced ("Plantilla:X" in the main namespace) keeps its text.
        Ok(title) => Some(title.text()),
        Err(_) => None,
    }
}

/// Reads the links, categories and redirect of a text: every page counts as existing (only
/// the names are wanted) and templates are not expanded.
struct Analysis;

impl RenderContext for Analysis {
    fn page_exists(&self, _: &Title) -> bool {
        true
    }

    fn template(&self, _: &Title) -> Option<String> {
        None
    }
}

pub(crate) type Analysed = (Vec<(i64, String)>, Vec<String>, Option<String>);

/// The links, categories and redirect of a text, as the store keeps them.
pub(crate) fn analyse(text: &str) -> Analysed {
    let rendered = render(text, &Analysis);
    let links = rendered
        .links
        .iter()
        .filter_map(|link| normalize_title(link).ok())
        .map(|title| (title.namespace().number(), title.name().to_owned()))
        .collect();
    (links, rendered.categories, redirect_target(text))
}

fn author_name(contributor: &Contributor) -> String {
    match contributor {
        Contributor::User { name, .. } => name.clone(),
        Contributor::Ip(address) => address.clone(),
        _ => "(oculto)".to_owned(),
    }
}

/// What importing one page did.
#[derive(Debug, Default)]
struct PageImport {
    added: u64,
    present: u64,
}

async fn import_page(db: &Db, origin: &str, page: &Page) -> anyhow::Result<PageImport> {
    let Some(title) = stored_title(page) else {
        bail!("«{}» no es un título válido", page.title);
    };
    let namespace = i64::from(page.ns);
    let mut base = db
        .wiki_page(namespace, &title)
        .await?
        .and_then(|page| page.latest_revision_id);
    let mut done = PageImport::default();
    let last = page.revisions.len().saturating_sub(1);
    for (index, revision) in page.revisions.iter().enumerate() {
        let text = revision.text.clone().unwrap_or_default();
        // Links and categories are kept for the latest revision only.
        let (links, categories, redirect) = if index == last {
            analyse(&text)
        } else {
            (Vec::new(), Vec::new(), redirect_target(&text))
        };
        let external = format!("{origin}:{}", revision.id);
        let revision_id = uuid::Uuid::new_v4().to_string();
        let page_id = uuid::Uuid::new_v4().to_string();
        let author = author_name(&revision.contributor);
        let outcome = db
            .save_wiki_revision(&NewRevision {
                revision_id: &revision_id,
                new_page_id: &page_id,
                namespace,
                title: &title,
                base_revision_id: base.as_deref(),
                author_id: None,
                author_name: &author,
                timestamp_ms: revision.timestamp_ms,
                summary: revision.comment.as_deref().unwrap_or(""),
                text: &text,
                minor: revision.minor,
                tags: "importado",
                reviewed_by: None,
                links: &links,
                categories: &categories,
                redirect_to: redirect.as_deref(),
                external_id: Some(&external),
            })
            .await?;
        match outcome {
            SaveOutcome::Saved { revision_id, .. } => {
                base = Some(revision_id);
                done.added += 1;
            }
            SaveOutcome::AlreadyImported { .. } => done.present += 1,
            SaveOutcome::Conflict { .. } => bail!(
                "«{}» cambió aquí después de importarse: la revisión {} no se puede añadir \
                 encima sin perder esas ediciones",
                page.title,
                revision.id
            ),
        }
    }
    Ok(done)
}

pub async fn import_mediawiki(config: &Config, path: &Path) -> anyhow::Result<()> {
    let started = Instant::now();
    let file =
        std::fs::File::open(path).with_context(|| format!("no se pudo leer {}", path.display()))?;
    let size = file.metadata().map(|metadata| metadata.len()).unwrap_or(0);
    let mut reader = MediaWikiReader::new(BufReader::new(file))
        .with_context(|| format!("{} no es una exportación de MediaWiki", path.display()))?;
    let site = reader.site_info();
    let origin = [site.dbname.as_str(), site.sitename.as_str()]
        .into_iter()
        .find(|name| !name.is_empty())
        .unwrap_or("mediawiki")
        .to_owned();
    let db = open_database(config).await?;
    db.migrate()
        .await
        .context("no se pudo migrar la base de datos")?;
    let terminal = std::io::stderr().is_terminal();
    let mut shown_at = Instant::now();
    let (mut pages, mut added, mut present) = (0_u64, 0_u64, 0_u64);
    let mut bad: Vec<String> = Vec::new();
    let outcome: anyhow::Result<()> = async {
        while let Some(item) = reader.next() {
            match item {
                Ok(page) => match import_page(&db, &origin, &page).await {
                    Ok(done) => {
                        pages += 1;
                        added += done.added;
                        present += done.present;
                    }
                    Err(error) => bad.push(format!("{error:#}")),
                },
                Err(error) if error.is_fatal() => {
                    return Err(anyhow::Error::new(error)
                        .context(format!("la importación se detuvo en {}", path.display())));
                }
                Err(error) => bad.push(error.to_string()),
            }
            if terminal && shown_at.elapsed() > Duration::from_millis(250) {
                shown_at = Instant::now();
                let percent = reader.bytes_read() * 100 / size.max(1);
                let mut stderr = std::io::stderr().lock();
                let _ = write!(stderr, "\r{percent:3} % · {pages} páginas");
                let _ = stderr.flush();
            }
        }
        Ok(())
    }
    .await;
    db.close().await;
    if terminal {
        let _ = writeln!(std::io::stderr().lock());
    }
    outcome?;
    print_line(&format!(
        "Importado de {} en {:.1} s: {pages} páginas, {added} revisiones nuevas, {present} ya \
         estaban, {} páginas con problemas.",
        path.display(),
        started.elapsed().as_secs_f64(),
        bad.len()
    ))?;
    for problem in bad.iter().take(BAD_PAGES_SHOWN) {
        print_line(&format!("  - {problem}"))?;
    }
    if bad.len() > BAD_PAGES_SHOWN {
        print_line(&format!("  … y {} más", bad.len() - BAD_PAGES_SHOWN))?;
    }
    Ok(())
}

/// What readers see of a page: the rule of `ceiba_wiki::rules::visible_revision` over its
/// reviewed and latest revisions.
fn visible_revision(page: &WikiPageRow, now_ms: i64) -> Option<String> {
    let latest = page.latest_revision_id.clone()?;
    let reviewed = page.reviewed_revision_id.clone();
    let state = PageState {
        exists: true,
        protection: page.protection.as_deref().map(|level| Protection {
            level: if level == "full" {
                ProtectionLevel::Full
            } else {
                ProtectionLevel::Semi
            },
            expires_ms: page.protection_expires_ms,
        }),
        pending_changes: page.pending_changes,
    };
    // Id 0 the reviewed revision (if any), 1 the latest.
    let mut revisions = Vec::new();
    if reviewed.is_some() {
        revisions.push(RevisionState {
            id: 0,
            reviewed: true,
        });
    }
    revisions.push(RevisionState {
        id: 1,
        reviewed: reviewed.as_deref() == Some(latest.as_str()),
    });
    match ceiba_wiki::rules::visible_revision(&revisions, &state, WikiRole::Reader, now_ms) {
        Some(0) => reviewed,
        _ => Some(latest),
    }
}

/// Renders for the ZIM file: relative links to the articles in it, plain text for the rest.
struct ZimContext<'a> {
    articles: &'a HashSet<String>,
    templates: &'a HashMap<String, String>,
    title: Title,
}

/// The path of an article inside the file (under `C/`): its title with underscores.
fn zim_path(name: &str) -> String {
    name.replace(' ', "_")
}

impl RenderContext for ZimContext<'_> {
    fn page_exists(&self, title: &Title) -> bool {
        title.namespace() == Namespace::Main && self.articles.contains(title.name())
    }

    fn template(&self, title: &Title) -> Option<String> {
        self.templates.get(title.name()).cloned()
    }

    fn page_url(&self, title: &Title) -> String {
        percent_encode(&zim_path(title.name()))
    }

    fn page_title(&self) -> Option<Title> {
        Some(self.title.clone())
    }

    fn site_name(&self) -> String {
        "Enciclopedia Ceiba".to_owned()
    }

    fn offline(&self) -> bool {
        true
    }
}

/// Percent-encodes a path inside the file (everything but unreserved characters and `_`).
fn percent_encode(path: &str) -> String {
    let mut encoded = String::with_capacity(path.len());
    for byte in path.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'_' | b'-' | b'.' | b'~') {
            encoded.push(char::from(byte));
        } else {
            encoded.push_str(&format!("%{byte:02X}"));
        }
    }
    encoded
}

fn escape_html(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// A 48×48 PNG: the encyclopedia's green, for Kiwix's library.
fn illustration() -> anyhow::Result<Vec<u8>> {
    let mut bytes = Vec::new();
    {
        let mut encoder = png::Encoder::new(&mut bytes, 48, 48);
        encoder.set_color(png::ColorType::Rgb);
        encoder.set_depth(png::BitDepth::Eight);
        let mut writer = encoder.write_header().context("PNG")?;
        let pixels: Vec<u8> = (0..48 * 48).flat_map(|_| [0x1b, 0x5e, 0x3b]).collect();
        writer.write_image_data(&pixels).context("PNG")?;
    }
    Ok(bytes)
}

/// The export's signing key, made (32 random bytes, readable by its owner only) on first use.
fn signing_key(data_dir: &Path) -> anyhow::Result<ed25519_dalek::SigningKey> {
    let path = data_dir.join(EXPORT_KEY_FILE);
    if let Ok(bytes) = std::fs::read(&path) {
        let seed: [u8; 32] = bytes.as_slice().try_into().map_err(|_| {
            anyhow::anyhow!(
                "{} debe tener 32 bytes y tiene {}",
                path.display(),
                bytes.len()
            )
        })?;
        return Ok(ed25519_dalek::SigningKey::from_bytes(&seed));
    }
    std::fs::create_dir_all(data_dir)
        .with_context(|| format!("no se pudo crear {}", data_dir.display()))?;
    let seed: [u8; 32] = rand::random();
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options
        .open(&path)
        .and_then(|mut file| file.write_all(&seed))
        .with_context(|| format!("no se pudo guardar la clave en {}", path.display()))?;
    Ok(ed25519_dalek::SigningKey::from_bytes(&seed))
}

pub async fn export_zim(config: &Config, out: &Path) -> anyhow::Result<()> {
    let started = Instant::now();
    let db = open_database(config).await?;
    db.migrate()
        .await
        .context("no se pudo migrar la base de datos")?;
    let now = jiff::Zoned::now();
    let now_ms = now.timestamp().as_millisecond();
    let read = async {
        let text_of = |page: WikiPageRow| {
            let db = &db;
            async move {
                let text = match visible_revision(&page, now_ms) {
                    Some(id) => db.wiki_revision(&id).await?.map(|revision| revision.text),
                    None => None,
                };
                Ok::<_, ceiba_store::StoreError>((page, text.unwrap_or_default()))
            }
        };
        let mut articles = Vec::new();
        for page in db.wiki_pages_in(Namespace::Main.number()).await? {
            articles.push(text_of(page).await?);
        }
        let mut templates = HashMap::new();
        for page in db.wiki_pages_in(Namespace::Template.number()).await? {
            let (page, text) = text_of(page).await?;
            templates.insert(page.title, text);
        }
        Ok::<_, ceiba_store::StoreError>((articles, templates))
    }
    .await;
    db.close().await;
    let (articles, templates) = read.context("no se pudieron leer los artículos")?;
    let names: HashSet<String> = articles
        .iter()
        .map(|(page, _)| page.title.clone())
        .collect();
    let mut writer = ceiba_zim::writer::ZimWriter::new(ceiba_zim::writer::Metadata {
        name: "ceiba_enciclopedia_es_all".to_owned(),
        title: "Enciclopedia Ceiba".to_owned(),
        creator: "Ceiba".to_owned(),
        publisher: "Ceiba".to_owned(),
        date: now.date().to_string(),
        description: "Los artículos revisados de la Enciclopedia de Ceiba".to_owned(),
        language: "spa".to_owned(),
        illustration_48x48_png: illustration()?,
        extra: std::collections::BTreeMap::new(),
    });
    let (mut written, mut redirects) = (0_u64, 0_u64);
    for (page, text) in &articles {
        let path = zim_path(&page.title);
        if let Some(target) = &page.redirect_to {
            // A redirect to a missing article is left out: it would point nowhere.
            if let Ok(target) = normalize_title(target)
                && target.namespace() == Namespace::Main
                && names.contains(target.name())
                && target.name() != page.title
            {
                writer.add_redirect(&path, &page.title, &zim_path(target.name()))?;
                redirects += 1;
            }
            continue;
        }
        let Ok(title) = normalize_title(&page.title) else {
            continue;
        };
        let context = ZimContext {
            articles: &names,
            templates: &templates,
            title,
        };
        let rendered = render(text, &context);
        let html = format!(
            "<!DOCTYPE html>\n<html lang=\"es\"><head><meta charset=\"utf-8\"><title>{title}\
             </title></head><body><h1>{title}</h1>\n{body}\n</body></html>\n",
            title = escape_html(&page.title),
            body = rendered.html
        );
        writer.add_entry(&path, &page.title, "text/html", html.into_bytes())?;
        written += 1;
    }
    let main = if names.contains(MAIN_PAGE) {
        MAIN_PAGE.to_owned()
    } else {
        match articles.iter().find(|(page, _)| page.redirect_to.is_none()) {
            Some((page, _)) => page.title.clone(),
            None => bail!("no hay artículos que exportar: importe o escriba alguno primero"),
        }
    };
    writer.set_main_page(&zim_path(&main));
    let mut file = std::fs::File::create(out)
        .with_context(|| format!("no se pudo crear {}", out.display()))?;
    let bytes = writer
        .write_to(&mut file)
        .with_context(|| format!("no se pudo escribir {}", out.display()))?;
    file.sync_all()
        .with_context(|| format!("no se pudo escribir {}", out.display()))?;
    drop(file);
    let key = signing_key(config.data_dir())?;
    let signature = ceiba_zim::sign::sign_reader(
        BufReader::new(
            std::fs::File::open(out)
                .with_context(|| format!("no se pudo leer {}", out.display()))?,
        ),
        &key,
    )?;
    let mut signature_path = PathBuf::from(out.as_os_str());
    signature_path.as_mut_os_string().push(".firma");
    std::fs::write(&signature_path, signature.to_text())
        .with_context(|| format!("no se pudo escribir {}", signature_path.display()))?;
    let published = ceiba_zim::sign::PublicKey::from_signing_key(&key);
    print_line(&format!(
        "Exportado {} en {:.1} s: {written} artículos, {redirects} redirecciones, {bytes} bytes; \
         portada «{main}».",
        out.display(),
        started.elapsed().as_secs_f64()
    ))?;
    print_line(&format!(
        "Firma: {} · clave publicada {} (huella {}).",
        signature_path.display(),
        published.to_text(),
        published.fingerprint()
    ))
}
