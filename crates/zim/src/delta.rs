//! Binary deltas between two exports, in the manner of rsync: a delta carries only what
//! changed and, applied to the older file, gives the newer one byte for byte.
//!
//! The older file is cut into fixed blocks, each indexed by a weak rolling checksum
//! (Adler-32-like, cheap to slide one byte along) and a strong one (the first 16 bytes of its
//! SHA-256). The newer file is scanned with the rolling checksum; every window that matches a
//! block becomes a copy of that block, and the bytes in between travel as literals.
//!
//! # Format (integers little-endian)
//!
//! ```text
//! "CEIBADELTA1"                      11 bytes
//! length of the whole delta          u64
//! block size                         u32, 16 ..= 1 MiB
//! SHA-256 of the old file            32 bytes
//! SHA-256 of the new file            32 bytes
//! length of the old file             u64, at most 4 GiB
//! length of the new file             u64, at most 4 GiB
//! number of operations               u32
//! operations, each one of:
//!   0x01 first block u32, block count u32     copy from the old file
//!   0x02 length u32, bytes                    literal, 1 ..= 16 MiB
//! SHA-256 of everything above        32 bytes
//! ```
//!
//! The length up front tells a truncated delta from a damaged one; the trailing SHA-256 tells a delta damaged in transit ("el parche está dañado") apart from
//! a sound delta applied to the wrong file ("este parche es para otra versión"). The op stream
//! is not compressed: the bulk of a ZIM export is already-compressed clusters, and literals of
//! those would not shrink.

use std::collections::HashMap;
use std::fmt;

use sha2::{Digest as _, Sha256};

/// First bytes of every delta.
pub const MAGIC: &[u8; 11] = b"CEIBADELTA1";

/// Block size [`make_delta`] uses: small enough that a changed article costs a few KiB,
/// large enough that the block index of a 4 GiB file stays around a million entries.
pub const DEFAULT_BLOCK_SIZE: u32 = 4096;

/// Smallest block size accepted: below this the weak checksum matches almost everywhere.
pub const MIN_BLOCK_SIZE: u32 = 16;

/// Largest block size accepted.
pub const MAX_BLOCK_SIZE: u32 = 1 << 20;

/// Largest old or new file a delta may describe (4 GiB).
pub const MAX_FILE_LEN: u64 = 1 << 32;

/// Largest single literal; longer runs of new bytes are split into several literals.
pub const MAX_LITERAL_LEN: u32 = 16 << 20;

/// Most operations one delta may hold.
pub const MAX_OPS: u32 = 1 << 26;

const HEADER_LEN: usize = MAGIC.len() + 8 + 4 + 32 + 32 + 8 + 8 + 4;
const TRAILER_LEN: usize = 32;
const TAG_COPY: u8 = 0x01;
const TAG_LITERAL: u8 = 0x02;
/// A copy op: tag and two u32.
const COPY_OP_LEN: usize = 9;
/// The shortest op: a literal of one byte (tag, u32 length, the byte).
const MIN_OP_LEN: usize = 6;

/// Why a delta could not be made or applied.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DeltaError {
    /// The delta ends before its structure does.
    #[error("el parche está truncado: tiene {len} bytes y necesita al menos {needed}")]
    Truncated {
        /// Bytes the delta has.
        len: usize,
        /// Bytes it would need.
        needed: usize,
    },
    /// The delta does not start with [`MAGIC`].
    #[error("no es un parche de Ceiba: no empieza por «CEIBADELTA1»")]
    NotADelta,
    /// The trailing checksum does not match: the delta was damaged.
    #[error("el parche está dañado: su suma de control SHA-256 no coincide")]
    Damaged,
    /// The block size is outside [`MIN_BLOCK_SIZE`] ..= [`MAX_BLOCK_SIZE`].
    #[error("tamaño de bloque inválido: {size} bytes (debe estar entre 16 y 1048576)")]
    InvalidBlockSize {
        /// The size found or asked for.
        size: u32,
    },
    /// A file is larger than [`MAX_FILE_LEN`].
    #[error("el archivo {which} tiene {len} bytes; el máximo es {max}")]
    FileTooLarge {
        /// "viejo" or "nuevo".
        which: &'static str,
        /// Its length.
        len: u64,
        /// The limit.
        max: u64,
    },
    /// The delta announces more operations than allowed or than it can hold.
    #[error("el parche anuncia {count} operaciones; caben como mucho {max}")]
    TooManyOps {
        /// Announced count.
        count: u32,
        /// The most that is acceptable here.
        max: u32,
    },
    /// An operation cannot be carried out.
    #[error("operación {index} inválida (byte {offset} del parche): {reason}")]
    InvalidOp {
        /// Index of the op, from 0.
        index: u32,
        /// Offset of the op in the delta.
        offset: usize,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// Bytes follow the last operation.
    #[error("sobran {extra} bytes después de la última operación del parche")]
    TrailingBytes {
        /// How many.
        extra: usize,
    },
    /// The operations build a file of another length than announced.
    #[error("las operaciones del parche dan {actual} bytes y anuncia {expected}")]
    LengthMismatch {
        /// Announced length of the new file.
        expected: u64,
        /// Length the operations give.
        actual: u64,
    },
    /// The delta was made against another old file.
    #[error(
        "este parche es para otra versión: espera un archivo de {expected_len} bytes con \
         SHA-256 {expected_sha256}, y el dado tiene {actual_len} bytes con SHA-256 {actual_sha256}"
    )]
    WrongOldFile {
        /// Length the delta expects.
        expected_len: u64,
        /// Digest the delta expects, lowercase hex.
        expected_sha256: String,
        /// Length of the file given.
        actual_len: u64,
        /// Digest of the file given, lowercase hex (empty when the lengths already differ).
        actual_sha256: String,
    },
    /// The rebuilt file is not the announced new version.
    #[error(
        "el resultado no es la versión anunciada: su SHA-256 es {actual} y debía ser {expected}"
    )]
    ResultMismatch {
        /// Announced digest, lowercase hex.
        expected: String,
        /// Digest of what was rebuilt, lowercase hex.
        actual: String,
    },
}

/// One step of rebuilding the new file.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Op {
    /// Copy `count` consecutive blocks of the old file from `first`.
    Copy { first: u32, count: u32 },
    /// New bytes, as a range of the delta or of the new file.
    Literal { start: usize, len: usize },
}

/// What a delta says about itself, read without the old file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeltaStats {
    /// Block size the old file was cut into.
    pub block_size: u32,
    /// Length of the old file.
    pub old_len: u64,
    /// Length of the new file.
    pub new_len: u64,
    /// SHA-256 of the old file.
    pub old_sha256: [u8; 32],
    /// SHA-256 of the new file.
    pub new_sha256: [u8; 32],
    /// Number of copy operations.
    pub copy_ops: u64,
    /// Number of literal operations.
    pub literal_ops: u64,
    /// Bytes of the new file taken from the old one.
    pub copied_bytes: u64,
    /// Bytes of the new file carried in the delta.
    pub literal_bytes: u64,
    /// Length of the delta itself.
    pub delta_len: u64,
}

impl fmt::Display for DeltaStats {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "parche de {} bytes: {} bytes copiados del archivo viejo ({} copias), {} bytes nuevos \
             ({} literales)",
            self.delta_len, self.copied_bytes, self.copy_ops, self.literal_bytes, self.literal_ops
        )
    }
}

/// Makes the delta that turns `old` into `new`, with [`DEFAULT_BLOCK_SIZE`] blocks.
///
/// # Errors
/// [`DeltaError::FileTooLarge`] when either file is over [`MAX_FILE_LEN`].
pub fn make_delta(old: &[u8], new: &[u8]) -> Result<Vec<u8>, DeltaError> {
    make_delta_with_block_size(old, new, DEFAULT_BLOCK_SIZE)
}

/// Makes a delta with a chosen block size: smaller blocks find smaller common runs at the
/// cost of a larger index.
///
/// # Errors
/// [`DeltaError::InvalidBlockSize`] or [`DeltaError::FileTooLarge`].
pub fn make_delta_with_block_size(
    old: &[u8],
    new: &[u8],
    block_size: u32,
) -> Result<Vec<u8>, DeltaError> {
    check_block_size(block_size)?;
    check_file_len("viejo", old.len() as u64)?;
    check_file_len("nuevo", new.len() as u64)?;
    let block = usize::try_from(block_size)
        .map_err(|_| DeltaError::InvalidBlockSize { size: block_size })?;
    let ops = diff(old, new, block);
    let op_count = u32::try_from(ops.len()).map_err(|_| DeltaError::TooManyOps {
        count: u32::MAX,
        max: MAX_OPS,
    })?;
    if op_count > MAX_OPS {
        return Err(DeltaError::TooManyOps {
            count: op_count,
            max: MAX_OPS,
        });
    }

    let literal_total: usize = ops
        .iter()
        .map(|op| match op {
            Op::Literal { len, .. } => *len + 5,
            Op::Copy { .. } => COPY_OP_LEN,
        })
        .sum();
    let total_len = HEADER_LEN + literal_total + TRAILER_LEN;
    let mut out = Vec::with_capacity(total_len);
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&(total_len as u64).to_le_bytes());
    out.extend_from_slice(&block_size.to_le_bytes());
    out.extend_from_slice(&Sha256::digest(old));
    out.extend_from_slice(&Sha256::digest(new));
    out.extend_from_slice(&(old.len() as u64).to_le_bytes());
    out.extend_from_slice(&(new.len() as u64).to_le_bytes());
    out.extend_from_slice(&op_count.to_le_bytes());
    for op in &ops {
        match *op {
            Op::Copy { first, count } => {
                out.push(TAG_COPY);
                out.extend_from_slice(&first.to_le_bytes());
                out.extend_from_slice(&count.to_le_bytes());
            }
            Op::Literal { start, len } => {
                // `diff` splits literals at MAX_LITERAL_LEN, so this always fits.
                let len_u32 = u32::try_from(len).unwrap_or(MAX_LITERAL_LEN);
                out.push(TAG_LITERAL);
                out.extend_from_slice(&len_u32.to_le_bytes());
                out.extend_from_slice(&new[start..start + len]);
            }
        }
    }
    let checksum = Sha256::digest(&out);
    out.extend_from_slice(&checksum);
    debug_assert_eq!(out.len(), total_len);
    Ok(out)
}

/// Rebuilds the new file from the old one and a delta.
///
/// # Errors
/// [`DeltaError::WrongOldFile`] ("este parche es para otra versión") when `old` is not the
/// file the delta was made from; [`DeltaError::Damaged`], [`DeltaError::Truncated`] and the
/// other structural errors for a broken delta; [`DeltaError::ResultMismatch`] when the result
/// is not the announced new file.
pub fn apply_delta(old: &[u8], delta: &[u8]) -> Result<Vec<u8>, DeltaError> {
    let parsed = parse(delta)?;
    let header = &parsed.header;
    let old_len = old.len() as u64;
    if old_len != header.old_len {
        return Err(wrong_old_file(header, old_len, String::new()));
    }
    let old_sha256: [u8; 32] = Sha256::digest(old).into();
    if old_sha256 != header.old_sha256 {
        return Err(wrong_old_file(header, old_len, to_hex(&old_sha256)));
    }

    let block = usize::try_from(header.block_size).map_err(|_| DeltaError::InvalidBlockSize {
        size: header.block_size,
    })?;
    // The announced length is trusted for the allocation only up to a modest size, so a
    // short hostile delta cannot make us reserve gigabytes before an op proves them.
    let reserve = usize::try_from(header.new_len.min(64 << 20)).unwrap_or(0);
    let mut out = Vec::with_capacity(reserve);
    for op in &parsed.ops {
        match *op {
            Op::Copy { first, count } => {
                // `parse` checked the range against the old length.
                let (start, end) = copy_range(first, count, block, old.len());
                out.extend_from_slice(&old[start..end]);
            }
            Op::Literal { start, len } => out.extend_from_slice(&delta[start..start + len]),
        }
    }
    let new_sha256: [u8; 32] = Sha256::digest(&out).into();
    if new_sha256 != header.new_sha256 {
        return Err(DeltaError::ResultMismatch {
            expected: to_hex(&header.new_sha256),
            actual: to_hex(&new_sha256),
        });
    }
    Ok(out)
}

/// Reads a delta's header and operations without the old file: sizes, hashes, and how much
/// of the new file is copied rather than carried.
///
/// # Errors
/// The structural errors of [`apply_delta`].
pub fn delta_stats(delta: &[u8]) -> Result<DeltaStats, DeltaError> {
    let parsed = parse(delta)?;
    let header = parsed.header;
    let mut stats = DeltaStats {
        block_size: header.block_size,
        old_len: header.old_len,
        new_len: header.new_len,
        old_sha256: header.old_sha256,
        new_sha256: header.new_sha256,
        copy_ops: 0,
        literal_ops: 0,
        copied_bytes: 0,
        literal_bytes: 0,
        delta_len: delta.len() as u64,
    };
    for op in &parsed.ops {
        match *op {
            Op::Copy { first, count } => {
                stats.copy_ops += 1;
                stats.copied_bytes += copy_len(&header, first, count);
            }
            Op::Literal { len, .. } => {
                stats.literal_ops += 1;
                stats.literal_bytes += len as u64;
            }
        }
    }
    Ok(stats)
}

#[derive(Debug, Clone, Copy)]
struct Header {
    block_size: u32,
    old_sha256: [u8; 32],
    new_sha256: [u8; 32],
    old_len: u64,
    new_len: u64,
}

#[derive(Debug)]
struct ParsedDelta {
    header: Header,
    ops: Vec<Op>,
}

/// Checks the whole structure: checksum, header limits, every op's range, and that the ops
/// build exactly the announced length. After this, applying cannot go out of bounds.
fn parse(delta: &[u8]) -> Result<ParsedDelta, DeltaError> {
    let min_len = HEADER_LEN + TRAILER_LEN;
    if delta.len() < MAGIC.len() || !delta.starts_with(MAGIC) {
        if delta.len() < MAGIC.len() && MAGIC.starts_with(delta) {
            return Err(DeltaError::Truncated {
                len: delta.len(),
                needed: min_len,
            });
        }
        return Err(DeltaError::NotADelta);
    }
    if delta.len() < min_len {
        return Err(DeltaError::Truncated {
            len: delta.len(),
            needed: min_len,
        });
    }
    let mut declared = [0u8; 8];
    declared.copy_from_slice(&delta[MAGIC.len()..MAGIC.len() + 8]);
    let declared = u64::from_le_bytes(declared);
    if declared > delta.len() as u64 {
        return Err(DeltaError::Truncated {
            len: delta.len(),
            needed: usize::try_from(declared).unwrap_or(usize::MAX),
        });
    }
    if declared < delta.len() as u64 {
        // Either bytes were appended or the length field itself is damaged.
        return Err(DeltaError::Damaged);
    }
    let (body, trailer) = delta.split_at(delta.len() - TRAILER_LEN);
    if Sha256::digest(body).as_slice() != trailer {
        return Err(DeltaError::Damaged);
    }

    let mut cursor = Cursor {
        bytes: body,
        pos: MAGIC.len() + 8,
    };
    let block_size = cursor.u32()?;
    check_block_size(block_size)?;
    let old_sha256 = cursor.array32()?;
    let new_sha256 = cursor.array32()?;
    let old_len = cursor.u64()?;
    let new_len = cursor.u64()?;
    check_file_len("viejo", old_len)?;
    check_file_len("nuevo", new_len)?;
    let op_count = cursor.u32()?;
    // Every op takes at least MIN_OP_LEN bytes, so the body bounds the count it can hold.
    let room = (body.len() - cursor.pos) / MIN_OP_LEN;
    let max_ops = MAX_OPS.min(u32::try_from(room).unwrap_or(u32::MAX));
    if op_count > max_ops {
        return Err(DeltaError::TooManyOps {
            count: op_count,
            max: max_ops,
        });
    }
    let header = Header {
        block_size,
        old_sha256,
        new_sha256,
        old_len,
        new_len,
    };
    let block_count = old_len.div_ceil(u64::from(block_size));

    let mut ops = Vec::with_capacity(usize::try_from(op_count).unwrap_or(0));
    let mut built = 0u64;
    for index in 0..op_count {
        let offset = cursor.pos;
        let invalid = |reason| DeltaError::InvalidOp {
            index,
            offset,
            reason,
        };
        let op = match cursor.u8()? {
            TAG_COPY => {
                let first = cursor.u32()?;
                let count = cursor.u32()?;
                if count == 0 {
                    return Err(invalid("copia de cero bloques"));
                }
                if u64::from(first) + u64::from(count) > block_count {
                    return Err(invalid("copia bloques que el archivo viejo no tiene"));
                }
                built += copy_len(&header, first, count);
                Op::Copy { first, count }
            }
            TAG_LITERAL => {
                let len = cursor.u32()?;
                if len == 0 {
                    return Err(invalid("literal vacío"));
                }
                if len > MAX_LITERAL_LEN {
                    return Err(invalid("literal de más de 16 MiB"));
                }
                let len = usize::try_from(len).map_err(|_| invalid("literal demasiado largo"))?;
                let start = cursor.pos;
                cursor.skip(len)?;
                built += len as u64;
                Op::Literal { start, len }
            }
            _ => return Err(invalid("tipo de operación desconocido")),
        };
        if built > new_len {
            return Err(invalid(
                "las operaciones pasan del tamaño anunciado del archivo nuevo",
            ));
        }
        ops.push(op);
    }
    if cursor.pos != body.len() {
        return Err(DeltaError::TrailingBytes {
            extra: body.len() - cursor.pos,
        });
    }
    if built != new_len {
        return Err(DeltaError::LengthMismatch {
            expected: new_len,
            actual: built,
        });
    }
    Ok(ParsedDelta { header, ops })
}

/// Bytes a copy yields: whole blocks, except that the old file's last block may be short.
fn copy_len(header: &Header, first: u32, count: u32) -> u64 {
    let block = u64::from(header.block_size);
    let start = u64::from(first) * block;
    let end = ((u64::from(first) + u64::from(count)) * block).min(header.old_len);
    end.saturating_sub(start)
}

fn copy_range(first: u32, count: u32, block: usize, old_len: usize) -> (usize, usize) {
    let first = usize::try_from(first).unwrap_or(usize::MAX);
    let count = usize::try_from(count).unwrap_or(usize::MAX);
    let start = first.saturating_mul(block).min(old_len);
    let end = first
        .saturating_add(count)
        .saturating_mul(block)
        .min(old_len);
    (start, end)
}

fn check_block_size(size: u32) -> Result<(), DeltaError> {
    if (MIN_BLOCK_SIZE..=MAX_BLOCK_SIZE).contains(&size) {
        Ok(())
    } else {
        Err(DeltaError::InvalidBlockSize { size })
    }
}

fn check_file_len(which: &'static str, len: u64) -> Result<(), DeltaError> {
    if len > MAX_FILE_LEN {
        return Err(DeltaError::FileTooLarge {
            which,
            len,
            max: MAX_FILE_LEN,
        });
    }
    Ok(())
}

fn wrong_old_file(header: &Header, actual_len: u64, actual_sha256: String) -> DeltaError {
    DeltaError::WrongOldFile {
        expected_len: header.old_len,
        expected_sha256: to_hex(&header.old_sha256),
        actual_len,
        actual_sha256,
    }
}

fn to_hex(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}

/// Reads little-endian fields, reporting truncation instead of panicking.
struct Cursor<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl Cursor<'_> {
    fn take(&mut self, len: usize) -> Result<&[u8], DeltaError> {
        let end = self
            .pos
            .checked_add(len)
            .filter(|end| *end <= self.bytes.len())
            .ok_or(DeltaError::Truncated {
                len: self.bytes.len() + TRAILER_LEN,
                needed: self.pos.saturating_add(len).saturating_add(TRAILER_LEN),
            })?;
        let slice = &self.bytes[self.pos..end];
        self.pos = end;
        Ok(slice)
    }

    fn skip(&mut self, len: usize) -> Result<(), DeltaError> {
        self.take(len).map(|_| ())
    }

    fn u8(&mut self) -> Result<u8, DeltaError> {
        Ok(self.take(1)?[0])
    }

    fn u32(&mut self) -> Result<u32, DeltaError> {
        let mut bytes = [0u8; 4];
        bytes.copy_from_slice(self.take(4)?);
        Ok(u32::from_le_bytes(bytes))
    }

    fn u64(&mut self) -> Result<u64, DeltaError> {
        let mut bytes = [0u8; 8];
        bytes.copy_from_slice(self.take(8)?);
        Ok(u64::from_le_bytes(bytes))
    }

    fn array32(&mut self) -> Result<[u8; 32], DeltaError> {
        let mut bytes = [0u8; 32];
        bytes.copy_from_slice(self.take(32)?);
        Ok(bytes)
    }
}

/// Adler-32-like checksum of a window, slid one byte at a time. Sums are kept modulo 2^16;
/// working in wrapping u32 arithmetic and masking at the end gives the same result.
#[derive(Debug, Clone, Copy)]
struct Rolling {
    a: u32,
    b: u32,
    window: u32,
}

impl Rolling {
    fn new(window: &[u8]) -> Self {
        let mut a = 0u32;
        let mut b = 0u32;
        for &byte in window {
            a = a.wrapping_add(u32::from(byte));
            b = b.wrapping_add(a);
        }
        Self {
            a,
            b,
            // Windows are at most MAX_BLOCK_SIZE long.
            window: u32::try_from(window.len()).unwrap_or(u32::MAX),
        }
    }

    fn roll(&mut self, out: u8, into: u8) {
        self.a = self
            .a
            .wrapping_sub(u32::from(out))
            .wrapping_add(u32::from(into));
        self.b = self
            .b
            .wrapping_sub(self.window.wrapping_mul(u32::from(out)))
            .wrapping_add(self.a);
    }

    fn value(&self) -> u32 {
        (self.a & 0xffff) | (self.b << 16)
    }
}

fn strong_hash(bytes: &[u8]) -> [u8; 16] {
    let digest = Sha256::digest(bytes);
    let mut out = [0u8; 16];
    out.copy_from_slice(&digest[..16]);
    out
}

/// Index of the old file's full blocks.
struct BlockIndex {
    weak: Vec<u32>,
    strong: Vec<[u8; 16]>,
    /// Weak checksum → blocks with that checksum, one per distinct strong hash (identical
    /// blocks collapse to the first, so a file of zeros does not make lookups quadratic).
    by_weak: HashMap<u32, Vec<u32>>,
}

impl BlockIndex {
    fn new(old: &[u8], block: usize) -> Self {
        let full_blocks = old.len() / block;
        let mut index = Self {
            weak: Vec::with_capacity(full_blocks),
            strong: Vec::with_capacity(full_blocks),
            by_weak: HashMap::with_capacity(full_blocks),
        };
        for (number, chunk) in old.chunks_exact(block).enumerate() {
            let weak = Rolling::new(chunk).value();
            let strong = strong_hash(chunk);
            index.weak.push(weak);
            index.strong.push(strong);
            // Block numbers fit u32: old is at most 4 GiB and blocks at least 16 bytes.
            let Ok(number) = u32::try_from(number) else {
                break;
            };
            let same_weak = index.by_weak.entry(weak).or_default();
            if !same_weak
                .iter()
                .any(|&other| index.strong[other as usize] == strong)
            {
                same_weak.push(number);
            }
        }
        index
    }

    /// The block matching `window`, preferring `preferred` so that runs of copies continue.
    fn find(&self, weak: u32, window: &[u8], preferred: Option<u32>) -> Option<u32> {
        let candidates = self.by_weak.get(&weak)?;
        let strong = strong_hash(window);
        if let Some(preferred) = preferred {
            let at = preferred as usize;
            if self.weak.get(at) == Some(&weak) && self.strong[at] == strong {
                return Some(preferred);
            }
        }
        candidates
            .iter()
            .copied()
            .find(|&number| self.strong[number as usize] == strong)
    }
}

/// Appends a copy, merging it into the previous one when the blocks follow on.
fn push_copy(ops: &mut Vec<Op>, number: u32) {
    if let Some(Op::Copy { first, count }) = ops.last_mut()
        && first.checked_add(*count) == Some(number)
    {
        *count += 1;
        return;
    }
    ops.push(Op::Copy {
        first: number,
        count: 1,
    });
}

fn push_literal(ops: &mut Vec<Op>, start: usize, end: usize) {
    let max = MAX_LITERAL_LEN as usize;
    let mut start = start;
    while start < end {
        let len = (end - start).min(max);
        ops.push(Op::Literal { start, len });
        start += len;
    }
}

/// The rsync scan: ops that rebuild `new` from blocks of `old` and literal ranges of `new`.
fn diff(old: &[u8], new: &[u8], block: usize) -> Vec<Op> {
    let mut ops = Vec::new();
    let index = BlockIndex::new(old, block);
    let full_blocks = old.len() / block;

    // The old file's short last block can only be matched where the new file ends too.
    let tail_len = old.len() % block;
    let tail_matches = tail_len > 0 && new.ends_with(&old[old.len() - tail_len..]);
    let scan_end = if tail_matches {
        new.len() - tail_len
    } else {
        new.len()
    };

    let mut literal_start = 0;
    let mut pos = 0;
    if full_blocks > 0 && scan_end >= block {
        let mut rolling = Rolling::new(&new[..block]);
        loop {
            let preferred = match ops.last() {
                Some(Op::Copy { first, count }) if literal_start == pos => {
                    first.checked_add(*count)
                }
                _ => None,
            };
            if let Some(number) = index.find(rolling.value(), &new[pos..pos + block], preferred) {
                push_literal(&mut ops, literal_start, pos);
                push_copy(&mut ops, number);
                pos += block;
                literal_start = pos;
                if pos + block > scan_end {
                    break;
                }
                rolling = Rolling::new(&new[pos..pos + block]);
                continue;
            }
            if pos + block >= scan_end {
                break;
            }
            rolling.roll(new[pos], new[pos + block]);
            pos += 1;
        }
    }
    push_literal(&mut ops, literal_start, scan_end);
    if tail_matches {
        // Block numbers fit u32 (see BlockIndex::new).
        if let Ok(number) = u32::try_from(full_blocks) {
            push_copy(&mut ops, number);
        }
    }
    ops
}
