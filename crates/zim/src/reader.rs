//! Opens a ZIM file (openZIM format, what Kiwix reads) held in memory and refuses a broken one
//! with a clear error, never a panic.
//!
//! [`Archive::from_bytes`] checks eagerly everything that costs one pass over the directory:
//! the header, the MIME list, that the path, title and cluster pointer lists lie inside the
//! file, that every directory entry parses, names a MIME type of the list, a cluster that
//! exists and a redirect target that exists, and that the path list is sorted (zimcheck's
//! "integrity" checks on dirent pointers, dirent order, title index and MIME types).
//! [`Archive::check`] does the expensive rest: it decompresses every cluster, checks every
//! entry's blob and the `X/listing/titleOrdered/v1` listing, and verifies the MD5 checksum.

use std::io::Read;
use std::sync::{Arc, Mutex, PoisonError};

use md5::{Digest, Md5};

/// The magic number every ZIM file starts with (little-endian `u32`).
pub const MAGIC: u32 = 72_173_914;
/// Size of the fixed header.
pub(crate) const HEADER_LEN: usize = 80;
/// MIME code of a redirect entry.
pub(crate) const REDIRECT_MIME: u16 = 0xffff;
/// MIME code of a (deprecated) link-target entry.
pub(crate) const LINKTARGET_MIME: u16 = 0xfffe;
/// MIME code of a (deprecated) deleted entry.
pub(crate) const DELETED_MIME: u16 = 0xfffd;
/// Header value of "no main page" / "no layout page".
pub(crate) const NO_PAGE: u32 = u32::MAX;
/// Cluster compression byte: no compression.
pub(crate) const COMPRESSION_NONE: u8 = 1;
/// Cluster compression byte: xz (LZMA2).
pub(crate) const COMPRESSION_XZ: u8 = 4;
/// Cluster compression byte: zstd.
pub(crate) const COMPRESSION_ZSTD: u8 = 5;
/// Cluster info flag: blob offsets take 8 bytes instead of 4.
pub(crate) const EXTENDED_CLUSTER: u8 = 0x10;
/// Path of the listing of front articles sorted by title (new namespace scheme).
pub(crate) const TITLE_LISTING_V1: &str = "listing/titleOrdered/v1";

/// Largest decompressed cluster the reader accepts: a ZIM writer aims at ~1–2 MiB, so this
/// only stops a decompression bomb.
pub const MAX_CLUSTER_SIZE: usize = 256 * 1024 * 1024;
/// Longest MIME list accepted (bytes); libzim keeps it under 1 KiB.
const MAX_MIME_LIST_BYTES: usize = 64 * 1024;
/// Longest path + title (+ parameters) of one directory entry.
const MAX_DIRENT_BYTES: usize = 64 * 1024;
/// Redirect chains longer than this are taken for a loop.
pub const MAX_REDIRECT_HOPS: usize = 50;

/// Why a ZIM file was refused. Every message says what is wrong and where.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ZimError {
    /// The file is shorter than the fixed header.
    #[error("el archivo tiene {len} bytes: un ZIM empieza con una cabecera de 80")]
    TooSmall {
        /// File length in bytes.
        len: usize,
    },
    /// The first four bytes are not the ZIM magic number.
    #[error(
        "número mágico {found:#010x} en el byte 0: no es un archivo ZIM (se esperaba 0x044d495a)"
    )]
    BadMagic {
        /// The value found.
        found: u32,
    },
    /// A major version this reader does not know.
    #[error("versión {major}.{minor} del formato ZIM no soportada (se leen la 5 y la 6)")]
    UnsupportedVersion {
        /// Major version.
        major: u16,
        /// Minor version.
        minor: u16,
    },
    /// A section named by the header does not lie inside the file.
    #[error("la {section} (byte {pos}, {len} bytes) cae fuera del archivo de {file_len} bytes")]
    SectionOutOfBounds {
        /// Which section.
        section: &'static str,
        /// Where the header says it starts.
        pos: u64,
        /// Its length in bytes.
        len: u64,
        /// File length.
        file_len: usize,
    },
    /// The checksum is not where it must be (the last 16 bytes).
    #[error(
        "la suma MD5 está en el byte {pos}, pero debe ocupar los últimos 16 bytes del archivo de {file_len}"
    )]
    BadChecksumPosition {
        /// Position given by the header.
        pos: u64,
        /// File length.
        file_len: usize,
    },
    /// The MIME list is malformed.
    #[error("lista de tipos MIME dañada en el byte {offset}: {reason}")]
    MimeList {
        /// Byte offset of the problem.
        offset: usize,
        /// What is wrong.
        reason: &'static str,
    },
    /// A directory entry pointer leads outside the data area.
    #[error(
        "la entrada {index} apunta al byte {offset}, fuera de la zona de datos (bytes 80 a {end})"
    )]
    DirentOutOfBounds {
        /// Entry index (path order).
        index: u32,
        /// Byte offset it points at.
        offset: u64,
        /// End of the data area.
        end: usize,
    },
    /// A directory entry is cut short or its strings are unterminated.
    #[error("la entrada {index} (byte {offset}) está truncada o su ruta o título no termina")]
    DirentTruncated {
        /// Entry index (path order).
        index: u32,
        /// Byte offset of the entry.
        offset: usize,
    },
    /// A path or title is not UTF-8.
    #[error("la entrada {index} (byte {offset}) tiene un {field} que no es UTF-8")]
    NotUtf8 {
        /// Entry index (path order).
        index: u32,
        /// Byte offset of the entry.
        offset: usize,
        /// "ruta" or "título".
        field: &'static str,
    },
    /// A content entry names a MIME type beyond the list.
    #[error("tipo MIME {mime} fuera de la lista de {count} en la entrada {index} («{path}»)")]
    MimeOutOfRange {
        /// Entry index (path order).
        index: u32,
        /// Namespace and path of the entry.
        path: String,
        /// The MIME code found.
        mime: u16,
        /// Length of the MIME list.
        count: usize,
    },
    /// A content entry names a cluster that does not exist.
    #[error(
        "la entrada {index} («{path}») está en el clúster {cluster}, pero el archivo tiene {count}"
    )]
    ClusterOutOfRange {
        /// Entry index (path order).
        index: u32,
        /// Namespace and path of the entry.
        path: String,
        /// The cluster number found.
        cluster: u32,
        /// Number of clusters.
        count: u32,
    },
    /// A redirect points at an entry that does not exist.
    #[error(
        "la redirección {index} («{path}») apunta a la entrada {target}, pero el archivo tiene {count}"
    )]
    RedirectOutOfRange {
        /// Entry index (path order).
        index: u32,
        /// Namespace and path of the redirect.
        path: String,
        /// The target index found.
        target: u32,
        /// Number of entries.
        count: u32,
    },
    /// The path pointer list is not strictly sorted by (namespace, path).
    #[error(
        "la lista de rutas no está ordenada en la entrada {index}: «{previous}» no va antes de «{current}»"
    )]
    PathsUnsorted {
        /// Index of the entry out of order.
        index: u32,
        /// The entry before it.
        previous: String,
        /// The entry itself.
        current: String,
    },
    /// A title listing holds an index beyond the entries.
    #[error(
        "la {listing} tiene en la posición {position} la entrada {value}, pero el archivo tiene {count}"
    )]
    TitleIndexOutOfRange {
        /// Which listing.
        listing: &'static str,
        /// Position in the listing.
        position: u32,
        /// The index found.
        value: u32,
        /// Number of entries.
        count: u32,
    },
    /// A title listing is not sorted by (namespace, title).
    #[error(
        "la {listing} no está ordenada en la posición {position}: «{previous}» va después de «{current}»"
    )]
    TitlesUnsorted {
        /// Which listing.
        listing: &'static str,
        /// Position in the listing.
        position: u32,
        /// Title before.
        previous: String,
        /// Title at the position.
        current: String,
    },
    /// A cluster pointer leads outside the data area.
    #[error(
        "el clúster {cluster} empieza en el byte {offset}, fuera de la zona de datos (bytes 80 a {end})"
    )]
    ClusterPointerOutOfBounds {
        /// Cluster number.
        cluster: u32,
        /// Offset found.
        offset: u64,
        /// End of the data area.
        end: usize,
    },
    /// A cluster uses a compression this reader does not know.
    #[error(
        "el clúster {cluster} (byte {offset}) usa la compresión {kind}, que no se soporta (1 ninguna, 4 xz, 5 zstd)"
    )]
    UnsupportedCompression {
        /// Cluster number.
        cluster: u32,
        /// Byte offset of the cluster.
        offset: usize,
        /// Compression code found.
        kind: u8,
    },
    /// A cluster does not decompress or its blob table is inconsistent.
    #[error("el clúster {cluster} (byte {offset}) está dañado: {reason}")]
    BadCluster {
        /// Cluster number.
        cluster: u32,
        /// Byte offset of the cluster.
        offset: usize,
        /// What is wrong.
        reason: String,
    },
    /// A cluster decompresses to more than [`MAX_CLUSTER_SIZE`].
    #[error("el clúster {cluster} (byte {offset}) ocupa descomprimido más de {limit} bytes")]
    ClusterTooLarge {
        /// Cluster number.
        cluster: u32,
        /// Byte offset of the cluster.
        offset: usize,
        /// The limit.
        limit: usize,
    },
    /// An entry names a blob beyond its cluster's table.
    #[error("la entrada «{path}» pide el blob {blob} del clúster {cluster}, que tiene {count}")]
    BlobOutOfRange {
        /// Namespace and path of the entry.
        path: String,
        /// Cluster number.
        cluster: u32,
        /// Blob number asked.
        blob: u32,
        /// Blobs in the cluster.
        count: usize,
    },
    /// Following redirects from an entry never reaches content.
    #[error(
        "las redirecciones desde «{path}» forman un ciclo o pasan de {MAX_REDIRECT_HOPS} saltos"
    )]
    RedirectLoop {
        /// Namespace and path where the chain starts.
        path: String,
    },
    /// The entry has no content (deprecated link-target or deleted entry).
    #[error("la entrada «{path}» no tiene contenido (entrada obsoleta de tipo {mime:#06x})")]
    NoContent {
        /// Namespace and path of the entry.
        path: String,
        /// Its MIME code.
        mime: u16,
    },
    /// The file carries no checksum (old header without one).
    #[error("el archivo no lleva suma MD5 (cabecera antigua)")]
    NoChecksum,
    /// The MD5 of the file does not match the one stored at its end.
    #[error("la suma MD5 no coincide: el archivo dice {stored}, el contenido da {computed}")]
    ChecksumMismatch {
        /// Hex MD5 stored in the file.
        stored: String,
        /// Hex MD5 computed.
        computed: String,
    },
}

/// The fixed 80-byte header of a ZIM file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Header {
    /// Major version: 5 (old namespaces) or 6.
    pub major_version: u16,
    /// Minor version: from 6.1 on, the new namespace scheme (`C`, `M`, `W`, `X`).
    pub minor_version: u16,
    /// Unique id of the file.
    pub uuid: [u8; 16],
    /// Number of directory entries.
    pub entry_count: u32,
    /// Number of clusters.
    pub cluster_count: u32,
    /// Position of the path pointer list (`u64` per entry).
    pub path_ptr_pos: u64,
    /// Position of the full title pointer list (`u32` per entry); `u64::MAX` when absent.
    pub title_ptr_pos: u64,
    /// Position of the cluster pointer list (`u64` per cluster).
    pub cluster_ptr_pos: u64,
    /// Position of the MIME list (80 in every file with a checksum).
    pub mime_list_pos: u64,
    /// Entry index of the main page, if any.
    pub main_page: Option<u32>,
    /// Entry index of the layout page, if any (obsolete).
    pub layout_page: Option<u32>,
    /// Position of the 16-byte MD5 checksum.
    pub checksum_pos: u64,
}

impl Header {
    /// Parses the header from the start of a file.
    ///
    /// # Errors
    /// [`ZimError::TooSmall`], [`ZimError::BadMagic`] or [`ZimError::UnsupportedVersion`].
    pub fn parse(bytes: &[u8]) -> Result<Header, ZimError> {
        let head = bytes
            .get(..HEADER_LEN)
            .ok_or(ZimError::TooSmall { len: bytes.len() })?;
        let magic = le_u32(head, 0);
        if magic != MAGIC {
            return Err(ZimError::BadMagic { found: magic });
        }
        let major_version = le_u16(head, 4);
        let minor_version = le_u16(head, 6);
        if !(5..=6).contains(&major_version) {
            return Err(ZimError::UnsupportedVersion {
                major: major_version,
                minor: minor_version,
            });
        }
        let mut uuid = [0u8; 16];
        uuid.copy_from_slice(&head[8..24]);
        let page = |value: u32| (value != NO_PAGE).then_some(value);
        Ok(Header {
            major_version,
            minor_version,
            uuid,
            entry_count: le_u32(head, 24),
            cluster_count: le_u32(head, 28),
            path_ptr_pos: le_u64(head, 32),
            title_ptr_pos: le_u64(head, 40),
            cluster_ptr_pos: le_u64(head, 48),
            mime_list_pos: le_u64(head, 56),
            main_page: page(le_u32(head, 64)),
            layout_page: page(le_u32(head, 68)),
            checksum_pos: le_u64(head, 72),
        })
    }

    /// The 80 bytes of this header.
    #[must_use]
    pub fn to_bytes(&self) -> [u8; HEADER_LEN] {
        let mut out = [0u8; HEADER_LEN];
        out[0..4].copy_from_slice(&MAGIC.to_le_bytes());
        out[4..6].copy_from_slice(&self.major_version.to_le_bytes());
        out[6..8].copy_from_slice(&self.minor_version.to_le_bytes());
        out[8..24].copy_from_slice(&self.uuid);
        out[24..28].copy_from_slice(&self.entry_count.to_le_bytes());
        out[28..32].copy_from_slice(&self.cluster_count.to_le_bytes());
        out[32..40].copy_from_slice(&self.path_ptr_pos.to_le_bytes());
        out[40..48].copy_from_slice(&self.title_ptr_pos.to_le_bytes());
        out[48..56].copy_from_slice(&self.cluster_ptr_pos.to_le_bytes());
        out[56..64].copy_from_slice(&self.mime_list_pos.to_le_bytes());
        out[64..68].copy_from_slice(&self.main_page.unwrap_or(NO_PAGE).to_le_bytes());
        out[68..72].copy_from_slice(&self.layout_page.unwrap_or(NO_PAGE).to_le_bytes());
        out[72..80].copy_from_slice(&self.checksum_pos.to_le_bytes());
        out
    }

    /// Whether the file uses the new namespace scheme (6.1+: user content under `C`).
    #[must_use]
    pub fn uses_new_namespace_scheme(&self) -> bool {
        self.major_version >= 6 && self.minor_version >= 1
    }

    /// Whether the header announces an MD5 checksum (every header of 80 bytes does).
    #[must_use]
    pub fn has_checksum(&self) -> bool {
        self.mime_list_pos >= 80
    }
}

/// What a directory entry holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EntryKind {
    /// Content stored as a blob in a cluster.
    Content {
        /// Index into [`Archive::mime_types`].
        mime_index: u16,
        /// Cluster number.
        cluster: u32,
        /// Blob number inside the cluster.
        blob: u32,
    },
    /// A redirect to another entry.
    Redirect {
        /// Index (path order) of the target entry.
        target: u32,
    },
    /// Deprecated link-target entry (no content).
    LinkTarget,
    /// Deprecated deleted entry (no content).
    Deleted,
}

/// One directory entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// Index in path order.
    pub index: u32,
    /// Namespace character (`C`, `M`, `W`, `X`; `A`, `I`, `-`… in old files).
    pub namespace: char,
    /// Path inside the namespace.
    pub path: String,
    /// Title as stored: empty means "same as the path" (see [`Entry::title`]).
    pub stored_title: String,
    /// Revision (always 0 in practice).
    pub revision: u32,
    /// Content, redirect or obsolete kind.
    pub kind: EntryKind,
}

impl Entry {
    /// The title shown to readers: the stored one, or the path when none is stored.
    #[must_use]
    pub fn title(&self) -> &str {
        if self.stored_title.is_empty() {
            &self.path
        } else {
            &self.stored_title
        }
    }

    /// `namespace/path`, e.g. `C/main.html`.
    #[must_use]
    pub fn long_path(&self) -> String {
        format!("{}/{}", self.namespace, self.path)
    }

    /// Whether this entry is a redirect.
    #[must_use]
    pub fn is_redirect(&self) -> bool {
        matches!(self.kind, EntryKind::Redirect { .. })
    }
}

/// A whole ZIM file in memory, opened and checked.
#[derive(Debug)]
pub struct Archive {
    bytes: Vec<u8>,
    header: Header,
    mime_types: Vec<String>,
    entries: Vec<Entry>,
    /// Entry indexes in (namespace, title) order: the header's full list, or computed.
    title_order: Vec<u32>,
    cluster_offsets: Vec<u64>,
    /// Sorted offsets of every structure, so a cluster ends at the next one.
    boundaries: Vec<u64>,
    /// The last decompressed cluster: reading entries in order hits it again and again.
    cluster_cache: Mutex<Option<(u32, Arc<Vec<u8>>)>>,
}

impl Archive {
    /// Opens a ZIM file held in memory, checking its structure eagerly (see the module
    /// documentation for what is checked here and what [`Archive::check`] adds).
    ///
    /// # Errors
    /// A [`ZimError`] naming the first problem found.
    pub fn from_bytes(bytes: Vec<u8>) -> Result<Archive, ZimError> {
        let header = Header::parse(&bytes)?;
        let file_len = bytes.len();
        let data_end = if header.has_checksum() {
            if header.checksum_pos.checked_add(16) != Some(to_u64(file_len)) {
                return Err(ZimError::BadChecksumPosition {
                    pos: header.checksum_pos,
                    file_len,
                });
            }
            file_len - 16
        } else {
            file_len
        };

        let path_ptrs = section(
            &bytes,
            data_end,
            "lista de punteros de rutas",
            header.path_ptr_pos,
            u64::from(header.entry_count) * 8,
        )?;
        let cluster_ptrs = section(
            &bytes,
            data_end,
            "lista de punteros de clústeres",
            header.cluster_ptr_pos,
            u64::from(header.cluster_count) * 8,
        )?;
        let mime_types = parse_mime_list(&bytes, data_end, header.mime_list_pos)?;

        let mut entries = Vec::with_capacity(usize::try_from(header.entry_count).unwrap_or(0));
        let mut dirent_offsets = Vec::with_capacity(entries.capacity());
        for (index, chunk) in (0u32..).zip(path_ptrs.chunks_exact(8)) {
            let offset = le_u64(chunk, 0);
            let start = usize::try_from(offset)
                .ok()
                .filter(|&start| start >= HEADER_LEN && start < data_end)
                .ok_or(ZimError::DirentOutOfBounds {
                    index,
                    offset,
                    end: data_end,
                })?;
            let entry = parse_dirent(&bytes[start..data_end], index, start)?;
            check_entry_refs(&entry, &header, mime_types.len())?;
            if let Some(previous) = entries.last() {
                check_path_order(previous, &entry)?;
            }
            dirent_offsets.push(offset);
            entries.push(entry);
        }

        let mut cluster_offsets = Vec::with_capacity(cluster_ptrs.len() / 8);
        for (cluster, chunk) in (0u32..).zip(cluster_ptrs.chunks_exact(8)) {
            let offset = le_u64(chunk, 0);
            if offset < to_u64(HEADER_LEN) || offset >= to_u64(data_end) {
                return Err(ZimError::ClusterPointerOutOfBounds {
                    cluster,
                    offset,
                    end: data_end,
                });
            }
            cluster_offsets.push(offset);
        }

        let title_order = if header.title_ptr_pos == u64::MAX {
            computed_title_order(&entries)
        } else {
            let list = section(
                &bytes,
                data_end,
                "lista de punteros de títulos",
                header.title_ptr_pos,
                u64::from(header.entry_count) * 4,
            )?;
            let order: Vec<u32> = list.chunks_exact(4).map(|c| le_u32(c, 0)).collect();
            check_title_listing("lista de títulos de la cabecera", &order, &entries)?;
            order
        };

        let mut boundaries: Vec<u64> = cluster_offsets
            .iter()
            .chain(&dirent_offsets)
            .copied()
            // Not the title list: new files keep it inside the listing cluster.
            .chain([
                header.path_ptr_pos,
                header.cluster_ptr_pos,
                to_u64(data_end),
            ])
            .collect();
        boundaries.sort_unstable();
        boundaries.dedup();

        Ok(Archive {
            bytes,
            header,
            mime_types,
            entries,
            title_order,
            cluster_offsets,
            boundaries,
            cluster_cache: Mutex::new(None),
        })
    }

    /// Reads a whole ZIM file from a stream, then opens it as [`Archive::from_bytes`] does.
    ///
    /// # Errors
    /// The stream's error, or a [`ZimError`].
    pub fn from_reader<R: Read>(mut reader: R) -> Result<Archive, ReadError> {
        let mut bytes = Vec::new();
        reader.read_to_end(&mut bytes)?;
        Ok(Archive::from_bytes(bytes)?)
    }

    /// The checks too costly for opening: every cluster decompresses and has a sane blob
    /// table, every content entry's blob exists, the `X/listing/titleOrdered/v1` listing is
    /// valid and sorted, and the MD5 checksum matches.
    ///
    /// # Errors
    /// The first problem found.
    pub fn check(&self) -> Result<(), ZimError> {
        let mut blob_counts = Vec::with_capacity(self.cluster_offsets.len());
        for cluster in 0..self.header.cluster_count {
            blob_counts.push(self.with_cluster(cluster, |table| Ok(table.blob_count()))?);
        }
        for entry in &self.entries {
            if let EntryKind::Content { cluster, blob, .. } = entry.kind {
                let count = blob_counts
                    .get(usize::try_from(cluster).unwrap_or(usize::MAX))
                    .copied()
                    .unwrap_or(0);
                if usize::try_from(blob).map_or(true, |blob| blob >= count) {
                    return Err(ZimError::BlobOutOfRange {
                        path: entry.long_path(),
                        cluster,
                        blob,
                        count,
                    });
                }
            }
        }
        // Reading the listing checks it.
        self.front_article_order()?;
        if self.header.has_checksum() {
            self.verify_checksum()?;
        }
        Ok(())
    }

    /// Compares the MD5 of everything before the checksum with the checksum stored.
    ///
    /// # Errors
    /// [`ZimError::NoChecksum`] or [`ZimError::ChecksumMismatch`].
    pub fn verify_checksum(&self) -> Result<(), ZimError> {
        if !self.header.has_checksum() {
            return Err(ZimError::NoChecksum);
        }
        // `from_bytes` made sure the checksum is the last 16 bytes.
        let split = self.bytes.len() - 16;
        let computed = Md5::digest(&self.bytes[..split]);
        let stored = &self.bytes[split..];
        if computed.as_slice() == stored {
            Ok(())
        } else {
            Err(ZimError::ChecksumMismatch {
                stored: hex(stored),
                computed: hex(&computed),
            })
        }
    }

    /// The header.
    #[must_use]
    pub fn header(&self) -> &Header {
        &self.header
    }

    /// Number of directory entries (all namespaces).
    #[must_use]
    pub fn entry_count(&self) -> u32 {
        self.header.entry_count
    }

    /// Number of clusters.
    #[must_use]
    pub fn cluster_count(&self) -> u32 {
        self.header.cluster_count
    }

    /// The MIME list, in file order (entries refer to it by index).
    #[must_use]
    pub fn mime_types(&self) -> &[String] {
        &self.mime_types
    }

    /// The MIME type of a content entry; `None` for redirects and obsolete entries.
    #[must_use]
    pub fn mime_type(&self, entry: &Entry) -> Option<&str> {
        match entry.kind {
            EntryKind::Content { mime_index, .. } => self
                .mime_types
                .get(usize::from(mime_index))
                .map(String::as_str),
            _ => None,
        }
    }

    /// Every entry in path order.
    pub fn entries(&self) -> impl ExactSizeIterator<Item = &Entry> {
        self.entries.iter()
    }

    /// Every entry in (namespace, title) order.
    pub fn entries_by_title(&self) -> impl ExactSizeIterator<Item = &Entry> {
        self.title_order
            .iter()
            // Every index was checked in range when opening.
            .map(|&index| &self.entries[pos(index)])
    }

    /// The entry at an index (path order).
    #[must_use]
    pub fn entry_at(&self, index: u32) -> Option<&Entry> {
        self.entries.get(usize::try_from(index).ok()?)
    }

    /// Finds an entry by namespace and path (binary search on the sorted path list).
    #[must_use]
    pub fn entry_by_path(&self, namespace: char, path: &str) -> Option<&Entry> {
        self.entries
            .binary_search_by(|entry| {
                (entry.namespace, entry.path.as_str()).cmp(&(namespace, path))
            })
            .ok()
            .map(|position| &self.entries[position])
    }

    /// Finds a user entry by path: namespace `C` in the new scheme, `A` (articles) then any
    /// other namespace in the old one.
    #[must_use]
    pub fn user_entry(&self, path: &str) -> Option<&Entry> {
        if self.header.uses_new_namespace_scheme() {
            return self.entry_by_path('C', path);
        }
        ['A', 'I', '-', 'J']
            .into_iter()
            .find_map(|namespace| self.entry_by_path(namespace, path))
    }

    /// The main page, redirects followed; `None` when the file names none.
    ///
    /// # Errors
    /// [`ZimError::RedirectLoop`] when the redirects never end.
    pub fn main_page(&self) -> Result<Option<&Entry>, ZimError> {
        let Some(entry) = self.header.main_page.and_then(|index| self.entry_at(index)) else {
            return Ok(None);
        };
        self.resolve(entry).map(Some)
    }

    /// Follows redirects from an entry until a non-redirect (at most [`MAX_REDIRECT_HOPS`]).
    ///
    /// # Errors
    /// [`ZimError::RedirectLoop`].
    pub fn resolve<'a>(&'a self, entry: &'a Entry) -> Result<&'a Entry, ZimError> {
        let mut current = entry;
        for _ in 0..=MAX_REDIRECT_HOPS {
            match current.kind {
                EntryKind::Redirect { target } => {
                    // Targets were checked in range when opening.
                    current = self
                        .entry_at(target)
                        .ok_or_else(|| ZimError::RedirectLoop {
                            path: entry.long_path(),
                        })?;
                }
                _ => return Ok(current),
            }
        }
        Err(ZimError::RedirectLoop {
            path: entry.long_path(),
        })
    }

    /// The content of an entry, redirects followed.
    ///
    /// # Errors
    /// A redirect loop, an obsolete entry without content, or a broken cluster.
    pub fn content(&self, entry: &Entry) -> Result<Vec<u8>, ZimError> {
        let target = self.resolve(entry)?;
        match target.kind {
            EntryKind::Content { cluster, blob, .. } => self.with_cluster(cluster, |table| {
                table
                    .blob(blob)
                    .map(<[u8]>::to_vec)
                    .ok_or_else(|| ZimError::BlobOutOfRange {
                        path: target.long_path(),
                        cluster,
                        blob,
                        count: table.blob_count(),
                    })
            }),
            EntryKind::Redirect { .. } => Err(ZimError::RedirectLoop {
                path: entry.long_path(),
            }),
            EntryKind::LinkTarget => Err(ZimError::NoContent {
                path: target.long_path(),
                mime: LINKTARGET_MIME,
            }),
            EntryKind::Deleted => Err(ZimError::NoContent {
                path: target.long_path(),
                mime: DELETED_MIME,
            }),
        }
    }

    /// A metadata value (`M` namespace: `Name`, `Title`, `Creator`, `Publisher`, `Date`,
    /// `Description`, `Language`, `Counter`…) as text. `None` when absent, unreadable or
    /// not UTF-8; [`Archive::metadata_bytes`] tells those apart.
    #[must_use]
    pub fn metadata(&self, name: &str) -> Option<String> {
        String::from_utf8(self.metadata_bytes(name).ok()??).ok()
    }

    /// A metadata value as bytes (e.g. `Illustration_48x48@1`, a PNG).
    ///
    /// # Errors
    /// When the entry exists but its content cannot be read.
    pub fn metadata_bytes(&self, name: &str) -> Result<Option<Vec<u8>>, ZimError> {
        self.entry_by_path('M', name)
            .map(|entry| self.content(entry))
            .transpose()
    }

    /// Entry indexes of the front articles in title order, from `X/listing/titleOrdered/v1`;
    /// `None` when the file has no such listing.
    ///
    /// # Errors
    /// When the listing cannot be read, names an index of no entry or is out of title order.
    pub fn front_article_order(&self) -> Result<Option<Vec<u32>>, ZimError> {
        let Some(entry) = self.entry_by_path('X', TITLE_LISTING_V1) else {
            return Ok(None);
        };
        let data = self.content(entry)?;
        let order: Vec<u32> = data.chunks_exact(4).map(|c| le_u32(c, 0)).collect();
        // Found by fuzzing (ceiba-fuzzing's zim_built, regressions/zim_built/
        // title-listing-returned-unchecked): only `check` looked at the listing, so a damaged
        // file that opens returned "entry indexes" that named no entry.
        check_title_listing("lista de títulos v1", &order, &self.entries)?;
        Ok(Some(order))
    }

    /// Runs `use_table` on a cluster's blob table, decompressing it (or taking it from the
    /// one-cluster cache).
    fn with_cluster<T>(
        &self,
        cluster: u32,
        use_table: impl FnOnce(&BlobTable<'_>) -> Result<T, ZimError>,
    ) -> Result<T, ZimError> {
        let start = self
            .cluster_offsets
            .get(usize::try_from(cluster).unwrap_or(usize::MAX))
            .and_then(|&offset| usize::try_from(offset).ok())
            .ok_or(ZimError::ClusterPointerOutOfBounds {
                cluster,
                offset: u64::MAX,
                end: self.bytes.len(),
            })?;
        let info = self.bytes[start];
        // An uncompressed cluster delimits itself by its blob table; a compressed one is
        // cut at the next structure so the decoder never reads past it.
        let end = if info & 0x0f <= COMPRESSION_NONE {
            self.data_end()
        } else {
            self.cluster_end(start)
        };
        let bad = |reason: String| ZimError::BadCluster {
            cluster,
            offset: start,
            reason,
        };
        let extended = info & EXTENDED_CLUSTER != 0;
        let body = &self.bytes[start + 1..end];
        match info & 0x0f {
            0 | COMPRESSION_NONE => {
                let table = BlobTable::parse(body, extended).map_err(bad)?;
                use_table(&table)
            }
            kind @ (COMPRESSION_XZ | COMPRESSION_ZSTD) => {
                let data = self.decompressed(cluster, start, kind, body)?;
                let table = BlobTable::parse(&data, extended).map_err(bad)?;
                use_table(&table)
            }
            kind => Err(ZimError::UnsupportedCompression {
                cluster,
                offset: start,
                kind,
            }),
        }
    }

    fn decompressed(
        &self,
        cluster: u32,
        start: usize,
        kind: u8,
        body: &[u8],
    ) -> Result<Arc<Vec<u8>>, ZimError> {
        let mut cache = self
            .cluster_cache
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if let Some((cached, data)) = cache.as_ref()
            && *cached == cluster
        {
            return Ok(Arc::clone(data));
        }
        let data = Arc::new(decompress(kind, body).map_err(|problem| match problem {
            Decompress::TooLarge => ZimError::ClusterTooLarge {
                cluster,
                offset: start,
                limit: MAX_CLUSTER_SIZE,
            },
            Decompress::Broken(reason) => ZimError::BadCluster {
                cluster,
                offset: start,
                reason,
            },
        })?);
        *cache = Some((cluster, Arc::clone(&data)));
        Ok(data)
    }

    fn data_end(&self) -> usize {
        if self.header.has_checksum() {
            self.bytes.len() - 16
        } else {
            self.bytes.len()
        }
    }

    /// Where the cluster starting at `start` must end at the latest: the next structure.
    fn cluster_end(&self, start: usize) -> usize {
        let start = to_u64(start);
        let next = self
            .boundaries
            .partition_point(|&boundary| boundary <= start);
        self.boundaries
            .get(next)
            .and_then(|&end| usize::try_from(end).ok())
            .unwrap_or(self.bytes.len())
            .min(self.bytes.len())
    }
}

/// Error of [`Archive::from_reader`]: the stream failed, or the file is broken.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ReadError {
    /// Reading the stream failed.
    #[error("no se pudo leer el archivo ZIM: {0}")]
    Io(#[from] std::io::Error),
    /// The file is broken.
    #[error(transparent)]
    Zim(#[from] ZimError),
}

/// The blob offset table of a (decompressed) cluster body.
struct BlobTable<'a> {
    data: &'a [u8],
    offsets: Vec<usize>,
}

impl<'a> BlobTable<'a> {
    fn parse(data: &'a [u8], extended: bool) -> Result<BlobTable<'a>, String> {
        let width = if extended { 8 } else { 4 };
        let read = |at: usize| -> Option<u64> {
            let bytes = data.get(at..at + width)?;
            Some(if extended {
                le_u64(bytes, 0)
            } else {
                u64::from(le_u32(bytes, 0))
            })
        };
        let first = read(0)
            .ok_or_else(|| format!("{} bytes no bastan para la tabla de blobs", data.len()))?;
        let table_len = usize::try_from(first)
            .ok()
            .filter(|&len| len >= width && len % width == 0 && len <= data.len())
            .ok_or_else(|| {
                format!(
                    "la tabla de blobs dice ocupar {first} bytes de {} (múltiplo de {width})",
                    data.len()
                )
            })?;
        let mut offsets = Vec::with_capacity(table_len / width);
        for position in 0..table_len / width {
            let value = read(position * width).unwrap_or(u64::MAX);
            let offset = usize::try_from(value)
                .ok()
                .filter(|&offset| offset <= data.len())
                .ok_or_else(|| {
                    format!(
                        "el desplazamiento {position} ({value}) pasa del final del clúster ({} bytes)",
                        data.len()
                    )
                })?;
            if offsets.last().is_some_and(|&previous| offset < previous) {
                return Err(format!(
                    "el desplazamiento {position} ({value}) va hacia atrás"
                ));
            }
            offsets.push(offset);
        }
        Ok(BlobTable { data, offsets })
    }

    fn blob_count(&self) -> usize {
        self.offsets.len() - 1
    }

    fn blob(&self, blob: u32) -> Option<&'a [u8]> {
        let blob = usize::try_from(blob).ok()?;
        let start = *self.offsets.get(blob)?;
        let end = *self.offsets.get(blob.checked_add(1)?)?;
        self.data.get(start..end)
    }
}

enum Decompress {
    TooLarge,
    Broken(String),
}

/// A `Write` that refuses to grow past [`MAX_CLUSTER_SIZE`].
struct CappedWriter(Vec<u8>);

impl std::io::Write for CappedWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if self.0.len() + buf.len() > MAX_CLUSTER_SIZE {
            return Err(std::io::Error::other("demasiado grande"));
        }
        self.0.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn decompress(kind: u8, body: &[u8]) -> Result<Vec<u8>, Decompress> {
    if kind == COMPRESSION_ZSTD {
        let decoder = ruzstd::decoding::StreamingDecoder::new(body)
            .map_err(|e| Decompress::Broken(format!("zstd: {e}")))?;
        let mut out = Vec::new();
        decoder
            .take(to_u64(MAX_CLUSTER_SIZE) + 1)
            .read_to_end(&mut out)
            .map_err(|e| Decompress::Broken(format!("zstd: {e}")))?;
        if out.len() > MAX_CLUSTER_SIZE {
            return Err(Decompress::TooLarge);
        }
        Ok(out)
    } else {
        let mut input = body;
        let mut out = CappedWriter(Vec::new());
        match lzma_rs::xz_decompress(&mut input, &mut out) {
            Ok(()) => Ok(out.0),
            Err(_) if out.0.len() + 1 >= MAX_CLUSTER_SIZE => Err(Decompress::TooLarge),
            Err(e) => Err(Decompress::Broken(format!("xz: {e}"))),
        }
    }
}

fn parse_mime_list(bytes: &[u8], data_end: usize, pos: u64) -> Result<Vec<String>, ZimError> {
    let start = usize::try_from(pos)
        .ok()
        .filter(|&start| start >= HEADER_LEN - 8 && start < data_end)
        .ok_or(ZimError::SectionOutOfBounds {
            section: "lista de tipos MIME",
            pos,
            len: 1,
            file_len: bytes.len(),
        })?;
    let area = &bytes[start..data_end.min(start.saturating_add(MAX_MIME_LIST_BYTES))];
    let mut types = Vec::new();
    let mut at = 0;
    loop {
        let rest = area.get(at..).unwrap_or_default();
        let Some(len) = rest.iter().position(|&b| b == 0) else {
            return Err(ZimError::MimeList {
                offset: start + at,
                reason: "falta el cero que termina la lista (o pasa de 64 KiB)",
            });
        };
        if len == 0 {
            return Ok(types);
        }
        let text = std::str::from_utf8(&rest[..len]).map_err(|_| ZimError::MimeList {
            offset: start + at,
            reason: "un tipo MIME no es UTF-8",
        })?;
        types.push(text.to_owned());
        at += len + 1;
    }
}

/// Parses one directory entry from `data` (which starts at file offset `offset`).
fn parse_dirent(data: &[u8], index: u32, offset: usize) -> Result<Entry, ZimError> {
    let truncated = ZimError::DirentTruncated { index, offset };
    let fixed = data
        .get(..8)
        .ok_or(ZimError::DirentTruncated { index, offset })?;
    let mime = le_u16(fixed, 0);
    let parameter_len = usize::from(fixed[2]);
    let namespace = char::from(fixed[3]);
    let revision = le_u32(fixed, 4);
    let (kind, strings_at) = match mime {
        REDIRECT_MIME => {
            let target = data
                .get(8..12)
                .ok_or(ZimError::DirentTruncated { index, offset })?;
            (
                EntryKind::Redirect {
                    target: le_u32(target, 0),
                },
                12,
            )
        }
        LINKTARGET_MIME => (EntryKind::LinkTarget, 8),
        DELETED_MIME => (EntryKind::Deleted, 8),
        mime_index => {
            let numbers = data
                .get(8..16)
                .ok_or(ZimError::DirentTruncated { index, offset })?;
            (
                EntryKind::Content {
                    mime_index,
                    cluster: le_u32(numbers, 0),
                    blob: le_u32(numbers, 4),
                },
                16,
            )
        }
    };
    let window_end = data.len().min(strings_at + MAX_DIRENT_BYTES);
    let strings = data
        .get(strings_at..window_end)
        .ok_or(ZimError::DirentTruncated { index, offset })?;
    let path_len = strings
        .iter()
        .position(|&b| b == 0)
        .ok_or(ZimError::DirentTruncated { index, offset })?;
    let after_path = &strings[path_len + 1..];
    let title_len = after_path.iter().position(|&b| b == 0).ok_or(truncated)?;
    if after_path.len() < title_len + 1 + parameter_len {
        return Err(ZimError::DirentTruncated { index, offset });
    }
    let text = |raw: &[u8], field: &'static str| {
        std::str::from_utf8(raw)
            .map(str::to_owned)
            .map_err(|_| ZimError::NotUtf8 {
                index,
                offset,
                field,
            })
    };
    Ok(Entry {
        index,
        namespace,
        path: text(&strings[..path_len], "ruta")?,
        stored_title: text(&after_path[..title_len], "título")?,
        revision,
        kind,
    })
}

fn check_entry_refs(entry: &Entry, header: &Header, mime_count: usize) -> Result<(), ZimError> {
    match entry.kind {
        EntryKind::Content {
            mime_index,
            cluster,
            ..
        } => {
            if usize::from(mime_index) >= mime_count {
                return Err(ZimError::MimeOutOfRange {
                    index: entry.index,
                    path: entry.long_path(),
                    mime: mime_index,
                    count: mime_count,
                });
            }
            if cluster >= header.cluster_count {
                return Err(ZimError::ClusterOutOfRange {
                    index: entry.index,
                    path: entry.long_path(),
                    cluster,
                    count: header.cluster_count,
                });
            }
        }
        EntryKind::Redirect { target } if target >= header.entry_count => {
            return Err(ZimError::RedirectOutOfRange {
                index: entry.index,
                path: entry.long_path(),
                target,
                count: header.entry_count,
            });
        }
        _ => {}
    }
    Ok(())
}

fn check_path_order(previous: &Entry, current: &Entry) -> Result<(), ZimError> {
    if path_key(previous) < path_key(current) {
        Ok(())
    } else {
        Err(ZimError::PathsUnsorted {
            index: current.index,
            previous: previous.long_path(),
            current: current.long_path(),
        })
    }
}

/// Sort key of the path list: namespace byte, then path bytes.
pub(crate) fn path_key(entry: &Entry) -> (char, &[u8]) {
    (entry.namespace, entry.path.as_bytes())
}

/// Sort key of the title lists: namespace byte, then title bytes.
pub(crate) fn title_key(entry: &Entry) -> (char, &[u8]) {
    (entry.namespace, entry.title().as_bytes())
}

fn computed_title_order(entries: &[Entry]) -> Vec<u32> {
    let mut order: Vec<u32> = entries.iter().map(|entry| entry.index).collect();
    // Entry indexes equal positions, and the stable sort keeps path order among equal titles.
    order.sort_by(|&a, &b| title_key(&entries[pos(a)]).cmp(&title_key(&entries[pos(b)])));
    order
}

fn check_title_listing(
    listing: &'static str,
    order: &[u32],
    entries: &[Entry],
) -> Result<(), ZimError> {
    let count = u32::try_from(entries.len()).unwrap_or(u32::MAX);
    let mut previous: Option<&Entry> = None;
    for (position, &value) in (0u32..).zip(order) {
        let entry = entries
            .get(pos(value))
            .ok_or(ZimError::TitleIndexOutOfRange {
                listing,
                position,
                value,
                count,
            })?;
        if let Some(before) = previous
            && title_key(before) > title_key(entry)
        {
            return Err(ZimError::TitlesUnsorted {
                listing,
                position,
                previous: format!("{}/{}", before.namespace, before.title()),
                current: format!("{}/{}", entry.namespace, entry.title()),
            });
        }
        previous = Some(entry);
    }
    Ok(())
}

/// The bytes of a section named by the header, checked to lie inside the data area.
fn section<'a>(
    bytes: &'a [u8],
    data_end: usize,
    name: &'static str,
    pos: u64,
    len: u64,
) -> Result<&'a [u8], ZimError> {
    let out_of_bounds = ZimError::SectionOutOfBounds {
        section: name,
        pos,
        len,
        file_len: bytes.len(),
    };
    let start = usize::try_from(pos).map_err(|_| ZimError::SectionOutOfBounds {
        section: name,
        pos,
        len,
        file_len: bytes.len(),
    })?;
    let end = usize::try_from(len)
        .ok()
        .and_then(|len| start.checked_add(len))
        .filter(|&end| start >= HEADER_LEN && end <= data_end)
        .ok_or(out_of_bounds)?;
    Ok(&bytes[start..end])
}

fn pos(index: u32) -> usize {
    usize::try_from(index).unwrap_or(usize::MAX)
}

pub(crate) fn to_u64(n: usize) -> u64 {
    // usize is at most 64 bits on every target Rust supports.
    u64::try_from(n).unwrap_or(u64::MAX)
}

fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    bytes.iter().fold(String::new(), |mut out, byte| {
        let _ = write!(out, "{byte:02x}");
        out
    })
}

fn le_u16(bytes: &[u8], at: usize) -> u16 {
    u16::from_le_bytes([bytes[at], bytes[at + 1]])
}

fn le_u32(bytes: &[u8], at: usize) -> u32 {
    let mut raw = [0u8; 4];
    raw.copy_from_slice(&bytes[at..at + 4]);
    u32::from_le_bytes(raw)
}

fn le_u64(bytes: &[u8], at: usize) -> u64 {
    let mut raw = [0u8; 8];
    raw.copy_from_slice(&bytes[at..at + 8]);
    u64::from_le_bytes(raw)
}
