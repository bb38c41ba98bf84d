//! Writes a complete ZIM file (format 6.1, new namespace scheme) that openZIM's `zimcheck -A`
//! passes and Kiwix opens.
//!
//! Layout: header, MIME list, directory entries (path order), clusters, path pointer list,
//! cluster pointer list, MD5 checksum. User entries go under `C/`, metadata under `M/`, the
//! main page is the redirect `W/mainPage`, and `X/listing/titleOrdered/v0` (all entries) and
//! `v1` (front articles) sit in an uncompressed cluster; the header's title pointer points
//! into `v0`, as libzim does. Text is grouped into zstd clusters of about 1 MiB, media
//! (already compressed) into uncompressed ones.
//!
//! The output is deterministic: the same input gives the same bytes, and the UUID is taken
//! from a SHA-256 of the file itself, so two exports of the same content are identical.

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};
use std::io::Write;

use md5::Md5;
use sha2::{Digest, Sha256};

use crate::reader::{
    COMPRESSION_NONE, COMPRESSION_ZSTD, HEADER_LEN, Header, REDIRECT_MIME, TITLE_LISTING_V1, to_u64,
};

/// Most entries one file may hold (user entries; metadata and listings come on top).
pub const MAX_ENTRIES: usize = 10_000_000;
/// Largest content of one entry.
pub const MAX_CONTENT_BYTES: usize = 64 * 1024 * 1024;
/// Longest path or title (bytes).
pub const MAX_NAME_BYTES: usize = 4 * 1024;
/// Longest MIME type (bytes).
pub const MAX_MIME_BYTES: usize = 255;
/// A cluster is closed once its blobs reach this size.
pub const CLUSTER_TARGET_BYTES: usize = 1024 * 1024;

const LISTING_MIME: &str = "application/octet-stream+zimlisting";
const METADATA_MIME: &str = "text/plain;charset=utf-8";
const PNG_SIGNATURE: &[u8] = b"\x89PNG\r\n\x1a\n";

/// Why a ZIM file could not be written.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum WriteError {
    /// Two entries share a path.
    #[error("la ruta «{path}» está repetida")]
    Duplicate {
        /// The path.
        path: String,
    },
    /// A path is empty.
    #[error("una entrada tiene la ruta vacía")]
    EmptyPath,
    /// A path, title, MIME type or metadata value is too long.
    #[error("{what} de «{path}» ocupa {size} bytes; el máximo es {limit}")]
    TooLarge {
        /// What is too large.
        what: &'static str,
        /// Path of the entry (or metadata name).
        path: String,
        /// Its size.
        size: usize,
        /// The limit.
        limit: usize,
    },
    /// A text holds a NUL byte, which the format uses as terminator.
    #[error("{what} de «{path}» contiene un byte nulo")]
    NulByte {
        /// Which text.
        what: &'static str,
        /// Path of the entry (or metadata name).
        path: String,
    },
    /// More entries than [`MAX_ENTRIES`].
    #[error("el archivo tendría más de {MAX_ENTRIES} entradas")]
    TooManyEntries,
    /// A redirect points at a path that is not in the file.
    #[error("la redirección «{path}» apunta a «{target}», que no existe")]
    MissingTarget {
        /// The redirect.
        path: String,
        /// Its target.
        target: String,
    },
    /// Redirects form a cycle.
    #[error("las redirecciones desde «{path}» forman un ciclo")]
    RedirectLoop {
        /// Where the cycle was found.
        path: String,
    },
    /// The main page is not an entry of the file.
    #[error("la página principal «{path}» no es una entrada del archivo")]
    MissingMainPage {
        /// The path given.
        path: String,
    },
    /// A metadata value is missing or malformed.
    #[error("el metadato {name} no es válido: {reason}")]
    Metadata {
        /// Metadata name.
        name: String,
        /// What is wrong.
        reason: String,
    },
    /// Writing the output failed.
    #[error("no se pudo escribir el archivo ZIM: {0}")]
    Io(#[from] std::io::Error),
}

/// The metadata every ZIM file carries (`M/` namespace); all are required by `zimcheck`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Metadata {
    /// Stable identifier of the content, e.g. `ecured_es_all`.
    pub name: String,
    /// Title shown by Kiwix (at most 30 characters).
    pub title: String,
    /// Who made the content.
    pub creator: String,
    /// Who made the file.
    pub publisher: String,
    /// Date of the file, `YYYY-MM-DD`.
    pub date: String,
    /// One-line description (at most 80 characters).
    pub description: String,
    /// ISO 639-3 language codes, comma separated, e.g. `spa`.
    pub language: String,
    /// A 48×48 PNG shown as the file's icon.
    pub illustration_48x48_png: Vec<u8>,
    /// Further metadata (`Tags`, `Source`, `LongDescription`…), written as given.
    pub extra: BTreeMap<String, String>,
}

#[derive(Debug, Clone)]
enum Item {
    Content { mime: String, data: Vec<u8> },
    Redirect { target: String },
}

#[derive(Debug, Clone)]
struct UserEntry {
    title: String,
    item: Item,
}

/// Collects entries, redirects and metadata, then writes one ZIM file.
#[derive(Debug, Clone)]
pub struct ZimWriter {
    metadata: Metadata,
    entries: BTreeMap<String, UserEntry>,
    main_page: Option<String>,
}

impl ZimWriter {
    /// A writer with the file's metadata and no entries yet.
    #[must_use]
    pub fn new(metadata: Metadata) -> ZimWriter {
        ZimWriter {
            metadata,
            entries: BTreeMap::new(),
            main_page: None,
        }
    }

    /// Adds an entry (stored under `C/path`).
    ///
    /// # Errors
    /// A repeated or empty path, a NUL byte, or a size over the limits.
    pub fn add_entry(
        &mut self,
        path: &str,
        title: &str,
        mime: &str,
        content: Vec<u8>,
    ) -> Result<(), WriteError> {
        check_name("el tipo MIME", path, mime, MAX_MIME_BYTES)?;
        if mime.is_empty() {
            return Err(WriteError::TooLarge {
                what: "el tipo MIME",
                path: path.to_owned(),
                size: 0,
                limit: MAX_MIME_BYTES,
            });
        }
        if content.len() > MAX_CONTENT_BYTES {
            return Err(WriteError::TooLarge {
                what: "el contenido",
                path: path.to_owned(),
                size: content.len(),
                limit: MAX_CONTENT_BYTES,
            });
        }
        self.insert(
            path,
            title,
            Item::Content {
                mime: mime.to_owned(),
                data: content,
            },
        )
    }

    /// Adds a redirect from `C/path` to `C/target` (checked when writing).
    ///
    /// # Errors
    /// A repeated or empty path, a NUL byte, or a size over the limits.
    pub fn add_redirect(
        &mut self,
        path: &str,
        title: &str,
        target: &str,
    ) -> Result<(), WriteError> {
        check_name("el destino", path, target, MAX_NAME_BYTES)?;
        self.insert(
            path,
            title,
            Item::Redirect {
                target: target.to_owned(),
            },
        )
    }

    /// Names the main page (a path added with [`ZimWriter::add_entry`] or a redirect).
    pub fn set_main_page(&mut self, path: &str) {
        self.main_page = Some(path.to_owned());
    }

    /// Writes the whole file to `out`; returns its length.
    ///
    /// # Errors
    /// Broken redirects, a missing main page, invalid metadata, or a failed write.
    pub fn write_to<W: Write>(&self, out: &mut W) -> Result<u64, WriteError> {
        let bytes = self.to_bytes()?;
        out.write_all(&bytes)?;
        Ok(to_u64(bytes.len()))
    }

    /// The whole file as bytes.
    ///
    /// # Errors
    /// Broken redirects, a missing main page or invalid metadata.
    pub fn to_bytes(&self) -> Result<Vec<u8>, WriteError> {
        self.validate()?;
        let plans = self.plan_entries()?;
        Ok(assemble(&plans))
    }

    fn insert(&mut self, path: &str, title: &str, item: Item) -> Result<(), WriteError> {
        if path.is_empty() {
            return Err(WriteError::EmptyPath);
        }
        check_name("la ruta", path, path, MAX_NAME_BYTES)?;
        check_name("el título", path, title, MAX_NAME_BYTES)?;
        if self.entries.len() >= MAX_ENTRIES {
            return Err(WriteError::TooManyEntries);
        }
        if self.entries.contains_key(path) {
            return Err(WriteError::Duplicate {
                path: path.to_owned(),
            });
        }
        self.entries.insert(
            path.to_owned(),
            UserEntry {
                title: title.to_owned(),
                item,
            },
        );
        Ok(())
    }

    fn validate(&self) -> Result<(), WriteError> {
        validate_metadata(&self.metadata)?;
        for path in self.entries.keys() {
            let mut current = path;
            let mut hops = 0usize;
            while let Item::Redirect { target } = &self.entries[current].item {
                if !self.entries.contains_key(target) {
                    return Err(WriteError::MissingTarget {
                        path: current.clone(),
                        target: target.clone(),
                    });
                }
                hops += 1;
                if hops > self.entries.len() {
                    return Err(WriteError::RedirectLoop { path: path.clone() });
                }
                current = target;
            }
        }
        if let Some(main) = &self.main_page
            && !self.entries.contains_key(main)
        {
            return Err(WriteError::MissingMainPage { path: main.clone() });
        }
        Ok(())
    }

    /// Every entry of the file, sorted by (namespace, path).
    fn plan_entries(&self) -> Result<Vec<Plan<'_>>, WriteError> {
        let mut plans = Vec::with_capacity(self.entries.len() + 16);
        let mut counter: BTreeMap<&str, usize> = BTreeMap::new();
        for (path, entry) in &self.entries {
            let body = match &entry.item {
                Item::Content { mime, data } => {
                    *counter.entry(mime.as_str()).or_default() += 1;
                    PlanBody::Content {
                        mime: Cow::Borrowed(mime),
                        data: Cow::Borrowed(data),
                    }
                }
                Item::Redirect { target } => PlanBody::Redirect {
                    namespace: b'C',
                    path: target.clone(),
                },
            };
            plans.push(Plan::new(b'C', path, &entry.title, body));
        }
        let meta = &self.metadata;
        let counter_text = counter
            .iter()
            .map(|(mime, count)| format!("{mime}={count}"))
            .collect::<Vec<_>>()
            .join(";");
        let mut texts: BTreeMap<&str, &str> = meta
            .extra
            .iter()
            .map(|(name, value)| (name.as_str(), value.as_str()))
            .collect();
        for (name, value) in [
            ("Counter", counter_text.as_str()),
            ("Creator", &meta.creator),
            ("Date", &meta.date),
            ("Description", &meta.description),
            ("Language", &meta.language),
            ("Name", &meta.name),
            ("Publisher", &meta.publisher),
            ("Title", &meta.title),
        ] {
            texts.insert(name, value);
        }
        for (name, value) in texts {
            check_name("el metadato", name, name, MAX_NAME_BYTES)?;
            plans.push(Plan::new(
                b'M',
                name,
                "",
                PlanBody::Content {
                    mime: Cow::Borrowed(METADATA_MIME),
                    data: Cow::Owned(value.as_bytes().to_vec()),
                },
            ));
        }
        plans.push(Plan::new(
            b'M',
            "Illustration_48x48@1",
            "",
            PlanBody::Content {
                mime: Cow::Borrowed("image/png"),
                data: Cow::Borrowed(&meta.illustration_48x48_png),
            },
        ));
        if let Some(main) = &self.main_page {
            plans.push(Plan::new(
                b'W',
                "mainPage",
                "",
                PlanBody::Redirect {
                    namespace: b'C',
                    path: main.clone(),
                },
            ));
        }
        plans.push(Plan::new(
            b'X',
            "listing/titleOrdered/v0",
            "",
            PlanBody::FullListing,
        ));
        plans.push(Plan::new(
            b'X',
            TITLE_LISTING_V1,
            "",
            PlanBody::FrontListing,
        ));
        plans.sort_by(|a, b| {
            (a.namespace, a.path.as_bytes()).cmp(&(b.namespace, b.path.as_bytes()))
        });
        if let Some(pair) = plans
            .windows(2)
            .find(|pair| pair[0].namespace == pair[1].namespace && pair[0].path == pair[1].path)
        {
            return Err(WriteError::Duplicate {
                path: format!("{}/{}", char::from(pair[0].namespace), pair[0].path),
            });
        }
        Ok(plans)
    }
}

/// One entry of the file being written.
#[derive(Debug)]
struct Plan<'a> {
    namespace: u8,
    path: String,
    /// Title as shown; stored empty when it equals the path.
    title: String,
    body: PlanBody<'a>,
}

#[derive(Debug)]
enum PlanBody<'a> {
    Content {
        mime: Cow<'a, str>,
        data: Cow<'a, [u8]>,
    },
    Redirect {
        namespace: u8,
        path: String,
    },
    FullListing,
    FrontListing,
}

impl<'a> Plan<'a> {
    fn new(namespace: u8, path: &str, title: &str, body: PlanBody<'a>) -> Plan<'a> {
        let title = if title.is_empty() { path } else { title };
        Plan {
            namespace,
            path: path.to_owned(),
            title: title.to_owned(),
            body,
        }
    }

    fn title_key(&self) -> (u8, &[u8]) {
        (self.namespace, self.title.as_bytes())
    }

    fn mime(&self) -> Option<&str> {
        match &self.body {
            PlanBody::Content { mime, .. } => Some(mime),
            PlanBody::FullListing | PlanBody::FrontListing => Some(LISTING_MIME),
            PlanBody::Redirect { .. } => None,
        }
    }
}

/// Where an entry's content lands.
#[derive(Debug, Clone, Copy)]
struct BlobPlace {
    cluster: u32,
    blob: u32,
}

struct ClusterPlan<'a> {
    compressed: bool,
    blobs: Vec<&'a [u8]>,
}

/// Builds the file from the sorted entry plans.
fn assemble(plans: &[Plan<'_>]) -> Vec<u8> {
    let index_of: HashMap<(u8, &str), u32> = plans
        .iter()
        .zip(0u32..)
        .map(|(plan, index)| ((plan.namespace, plan.path.as_str()), index))
        .collect();
    let count = u32::try_from(plans.len()).unwrap_or(u32::MAX);

    let mut mimes: Vec<&str> = plans.iter().filter_map(Plan::mime).collect();
    mimes.sort_unstable();
    mimes.dedup();
    let mime_index: HashMap<&str, u16> = mimes
        .iter()
        .zip(0u16..)
        .map(|(mime, index)| (*mime, index))
        .collect();

    // Title listings: all entries, and the front articles (HTML pages and redirects of C/).
    let mut full_order: Vec<u32> = (0..count).collect();
    full_order.sort_by(|&a, &b| plans[pos(a)].title_key().cmp(&plans[pos(b)].title_key()));
    let front_order: Vec<u32> = full_order
        .iter()
        .copied()
        .filter(|&index| {
            let plan = &plans[pos(index)];
            plan.namespace == b'C'
                && match &plan.body {
                    PlanBody::Content { mime, .. } => mime.starts_with("text/html"),
                    PlanBody::Redirect { .. } => true,
                    _ => false,
                }
        })
        .collect();
    let full_listing: Vec<u8> = full_order.iter().flat_map(|i| i.to_le_bytes()).collect();
    let front_listing: Vec<u8> = front_order.iter().flat_map(|i| i.to_le_bytes()).collect();

    // Clusters: text (zstd) in path order, then media (stored), then the listings (stored,
    // since the header points straight into v0).
    let mut clusters: Vec<ClusterPlan<'_>> = Vec::new();
    let mut places: Vec<Option<BlobPlace>> = vec![None; plans.len()];
    for compressed in [true, false] {
        let mut current: Option<(usize, usize)> = None; // (cluster index, bytes so far)
        for (index, plan) in plans.iter().enumerate() {
            let PlanBody::Content { mime, data } = &plan.body else {
                continue;
            };
            if is_compressible(mime) != compressed {
                continue;
            }
            let (cluster, size) = match current {
                Some((cluster, size)) if size < CLUSTER_TARGET_BYTES => (cluster, size),
                _ => {
                    clusters.push(ClusterPlan {
                        compressed,
                        blobs: Vec::new(),
                    });
                    (clusters.len() - 1, 0)
                }
            };
            places[index] = Some(BlobPlace {
                cluster: u32::try_from(cluster).unwrap_or(u32::MAX),
                blob: u32::try_from(clusters[cluster].blobs.len()).unwrap_or(u32::MAX),
            });
            clusters[cluster].blobs.push(data);
            current = Some((cluster, size + data.len()));
        }
    }
    let listing_cluster = clusters.len();
    clusters.push(ClusterPlan {
        compressed: false,
        blobs: Vec::new(),
    });
    for (index, plan) in plans.iter().enumerate() {
        let data: &[u8] = match plan.body {
            PlanBody::FullListing => &full_listing,
            PlanBody::FrontListing => &front_listing,
            _ => continue,
        };
        let cluster = &mut clusters[listing_cluster];
        places[index] = Some(BlobPlace {
            cluster: u32::try_from(listing_cluster).unwrap_or(u32::MAX),
            blob: u32::try_from(cluster.blobs.len()).unwrap_or(u32::MAX),
        });
        cluster.blobs.push(data);
    }

    let mime_list: Vec<u8> = mimes
        .iter()
        .flat_map(|mime| mime.bytes().chain([0]))
        .chain([0])
        .collect();

    // Directory entries, path order.
    let mut dirents = Vec::new();
    let mut dirent_offsets = Vec::with_capacity(plans.len());
    let dirents_start = HEADER_LEN + mime_list.len();
    for (index, plan) in plans.iter().enumerate() {
        dirent_offsets.push(to_u64(dirents_start + dirents.len()));
        match &plan.body {
            PlanBody::Redirect { namespace, path } => {
                dirents.extend_from_slice(&REDIRECT_MIME.to_le_bytes());
                dirents.extend_from_slice(&[0, plan.namespace]);
                dirents.extend_from_slice(&0u32.to_le_bytes());
                // `validate` made sure every target exists.
                let target = index_of
                    .get(&(*namespace, path.as_str()))
                    .copied()
                    .unwrap_or(u32::MAX);
                dirents.extend_from_slice(&target.to_le_bytes());
            }
            _ => {
                let mime = plan
                    .mime()
                    .and_then(|m| mime_index.get(m))
                    .copied()
                    .unwrap_or(0);
                let place = places[index].unwrap_or(BlobPlace {
                    cluster: 0,
                    blob: 0,
                });
                dirents.extend_from_slice(&mime.to_le_bytes());
                dirents.extend_from_slice(&[0, plan.namespace]);
                dirents.extend_from_slice(&0u32.to_le_bytes());
                dirents.extend_from_slice(&place.cluster.to_le_bytes());
                dirents.extend_from_slice(&place.blob.to_le_bytes());
            }
        }
        dirents.extend_from_slice(plan.path.as_bytes());
        dirents.push(0);
        if plan.title != plan.path {
            dirents.extend_from_slice(plan.title.as_bytes());
        }
        dirents.push(0);
    }

    let mut file = Vec::new();
    file.extend_from_slice(&[0u8; HEADER_LEN]);
    file.extend_from_slice(&mime_list);
    file.extend_from_slice(&dirents);
    let mut cluster_offsets = Vec::with_capacity(clusters.len());
    let mut title_ptr_pos = 0u64;
    for (number, cluster) in clusters.iter().enumerate() {
        let start = file.len();
        cluster_offsets.push(to_u64(start));
        let body = cluster_body(&cluster.blobs);
        if cluster.compressed {
            file.push(COMPRESSION_ZSTD);
            file.extend(ruzstd::encoding::compress_to_vec(
                body.as_slice(),
                ruzstd::encoding::CompressionLevel::Fastest,
            ));
        } else {
            file.push(COMPRESSION_NONE);
            file.extend_from_slice(&body);
        }
        if number == listing_cluster {
            // v0 is the first blob of the listing cluster ("X/…/v0" sorts before "…/v1").
            title_ptr_pos = to_u64(start + 1 + 4 * (cluster.blobs.len() + 1));
        }
    }
    let path_ptr_pos = to_u64(file.len());
    for offset in &dirent_offsets {
        file.extend_from_slice(&offset.to_le_bytes());
    }
    let cluster_ptr_pos = to_u64(file.len());
    for offset in &cluster_offsets {
        file.extend_from_slice(&offset.to_le_bytes());
    }
    let checksum_pos = to_u64(file.len());

    let mut header = Header {
        major_version: 6,
        minor_version: 1,
        uuid: [0; 16],
        entry_count: count,
        cluster_count: u32::try_from(clusters.len()).unwrap_or(u32::MAX),
        path_ptr_pos,
        title_ptr_pos,
        cluster_ptr_pos,
        mime_list_pos: to_u64(HEADER_LEN),
        main_page: index_of.get(&(b'W', "mainPage")).copied(),
        layout_page: None,
        checksum_pos,
    };
    file[..HEADER_LEN].copy_from_slice(&header.to_bytes());
    // The UUID comes from the content, so the same export always gives the same file.
    let digest = Sha256::digest(&file);
    header.uuid.copy_from_slice(&digest[..16]);
    // Mark it as a version-8 (custom) RFC 9562 UUID.
    header.uuid[6] = (header.uuid[6] & 0x0f) | 0x80;
    header.uuid[8] = (header.uuid[8] & 0x3f) | 0x80;
    file[..HEADER_LEN].copy_from_slice(&header.to_bytes());
    let checksum = Md5::digest(&file);
    file.extend_from_slice(&checksum);
    file
}

/// Blob offset table (4-byte offsets) followed by the blobs.
fn cluster_body(blobs: &[&[u8]]) -> Vec<u8> {
    let table_len = 4 * (blobs.len() + 1);
    let total: usize = table_len + blobs.iter().map(|blob| blob.len()).sum::<usize>();
    let mut body = Vec::with_capacity(total);
    let mut offset = table_len;
    body.extend_from_slice(&u32::try_from(offset).unwrap_or(u32::MAX).to_le_bytes());
    for blob in blobs {
        offset += blob.len();
        // Blobs are at most 64 MiB and clusters close after 1 MiB, so offsets fit in u32.
        body.extend_from_slice(&u32::try_from(offset).unwrap_or(u32::MAX).to_le_bytes());
    }
    for blob in blobs {
        body.extend_from_slice(blob);
    }
    body
}

/// Text compresses well; images, audio, video and archives are compressed already.
fn is_compressible(mime: &str) -> bool {
    let base = mime.split(';').next().unwrap_or_default().trim();
    base.starts_with("text/")
        || base.ends_with("+xml")
        || base.ends_with("+json")
        || matches!(
            base,
            "application/javascript" | "application/json" | "application/xml"
        )
}

fn check_name(what: &'static str, path: &str, text: &str, limit: usize) -> Result<(), WriteError> {
    if text.len() > limit {
        return Err(WriteError::TooLarge {
            what,
            path: path.to_owned(),
            size: text.len(),
            limit,
        });
    }
    if text.contains('\0') {
        return Err(WriteError::NulByte {
            what,
            path: path.to_owned(),
        });
    }
    Ok(())
}

fn validate_metadata(meta: &Metadata) -> Result<(), WriteError> {
    let bad = |name: &str, reason: &str| WriteError::Metadata {
        name: name.to_owned(),
        reason: reason.to_owned(),
    };
    for (name, value) in [
        ("Name", &meta.name),
        ("Title", &meta.title),
        ("Creator", &meta.creator),
        ("Publisher", &meta.publisher),
        ("Date", &meta.date),
        ("Description", &meta.description),
        ("Language", &meta.language),
    ] {
        if value.trim().is_empty() {
            return Err(bad(name, "está vacío y es obligatorio"));
        }
        check_name("el metadato", name, value, 64 * 1024)?;
    }
    if meta.title.chars().count() > 30 {
        return Err(bad("Title", "pasa de 30 caracteres"));
    }
    if meta.description.chars().count() > 80 {
        return Err(bad("Description", "pasa de 80 caracteres"));
    }
    let date = meta.date.as_bytes();
    let date_ok = date.len() == 10
        && date[4] == b'-'
        && date[7] == b'-'
        && date
            .iter()
            .enumerate()
            .all(|(i, b)| i == 4 || i == 7 || b.is_ascii_digit());
    if !date_ok {
        return Err(bad("Date", "no tiene la forma AAAA-MM-DD"));
    }
    if !meta
        .language
        .split(',')
        .all(|code| code.len() == 3 && code.bytes().all(|b| b.is_ascii_lowercase()))
    {
        return Err(bad(
            "Language",
            "debe ser uno o varios códigos ISO 639-3 separados por comas (p. ej. «spa»)",
        ));
    }
    if !meta.illustration_48x48_png.starts_with(PNG_SIGNATURE) {
        return Err(bad("Illustration_48x48@1", "no es una imagen PNG"));
    }
    if meta.illustration_48x48_png.len() > MAX_CONTENT_BYTES {
        return Err(bad("Illustration_48x48@1", "pasa de 64 MiB"));
    }
    for name in meta.extra.keys() {
        if name.is_empty() {
            return Err(bad("(sin nombre)", "un metadato extra no tiene nombre"));
        }
    }
    Ok(())
}

fn pos(index: u32) -> usize {
    usize::try_from(index).unwrap_or(usize::MAX)
}
