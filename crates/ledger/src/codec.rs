//! The journal record: one batch of operations with the time it was applied at, in a fixed
//! little-endian layout behind a CRC-32 (IEEE) checksum. Records are checked when
//! written and again when read back; a torn or altered record is refused, never half-applied.

use crate::state::Operation;
use crate::types::{
    AccountFlags, AccountId, BATCH_EVENTS_MAX, LedgerId, NewAccount, NewTransfer, Timestamp,
    TransferFlags, TransferId,
};

const MAGIC: u32 = u32::from_le_bytes(*b"CLJ1");
const HEADER_BYTES: usize = 4 + 4 + 8 + 8 + 4;
const ACCOUNT_BYTES: usize = 16 + 16 + 4 + 2 + 2;
const TRANSFER_BYTES: usize = 16 * 6 + 4 + 4 + 2 + 2;
const KIND_ACCOUNTS: u8 = 1;
const KIND_TRANSFERS: u8 = 2;

/// One durable unit: what the writer applied at `now`, numbered `sequence` (1, 2, 3 … with no
/// gaps).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    pub sequence: u64,
    pub now: Timestamp,
    pub operations: Vec<Operation>,
}

impl Record {
    pub fn events(&self) -> usize {
        self.operations.iter().map(Operation::len).sum()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CodecError {
    #[error("registro del diario truncado")]
    Truncated,
    #[error("registro del diario con suma de control errónea")]
    Checksum,
    #[error("registro del diario de formato desconocido")]
    Magic,
    #[error("registro del diario con una operación desconocida ({0})")]
    UnknownKind(u8),
    #[error("registro del diario con más de {BATCH_EVENTS_MAX} operaciones")]
    TooManyEvents,
    #[error("registro del diario con bytes de más al final")]
    TrailingBytes,
}

pub fn encode(record: &Record) -> Vec<u8> {
    assert!(
        record.events() <= BATCH_EVENTS_MAX,
        "a record holds one batch"
    );
    let event_bytes: usize = record
        .operations
        .iter()
        .map(|operation| match operation {
            Operation::CreateAccounts(events) => 5 + events.len() * ACCOUNT_BYTES,
            Operation::CreateTransfers(events) => 5 + events.len() * TRANSFER_BYTES,
        })
        .sum();
    let mut out = Vec::with_capacity(HEADER_BYTES + event_bytes);
    out.extend_from_slice(&[0; 4]);
    out.extend_from_slice(&MAGIC.to_le_bytes());
    out.extend_from_slice(&record.sequence.to_le_bytes());
    out.extend_from_slice(&record.now.to_le_bytes());
    put_len(&mut out, record.operations.len());
    for operation in &record.operations {
        match operation {
            Operation::CreateAccounts(events) => {
                out.push(KIND_ACCOUNTS);
                put_len(&mut out, events.len());
                for event in events {
                    out.extend_from_slice(&event.id.0.to_le_bytes());
                    out.extend_from_slice(&event.owner.to_le_bytes());
                    out.extend_from_slice(&event.ledger.0.to_le_bytes());
                    out.extend_from_slice(&event.code.to_le_bytes());
                    out.extend_from_slice(&event.flags.0.to_le_bytes());
                }
            }
            Operation::CreateTransfers(events) => {
                out.push(KIND_TRANSFERS);
                put_len(&mut out, events.len());
                for event in events {
                    out.extend_from_slice(&event.id.0.to_le_bytes());
                    out.extend_from_slice(&event.debit_account_id.0.to_le_bytes());
                    out.extend_from_slice(&event.credit_account_id.0.to_le_bytes());
                    out.extend_from_slice(&event.amount.to_le_bytes());
                    out.extend_from_slice(&event.pending_id.0.to_le_bytes());
                    out.extend_from_slice(&event.user_data.to_le_bytes());
                    out.extend_from_slice(&event.timeout_seconds.to_le_bytes());
                    out.extend_from_slice(&event.ledger.0.to_le_bytes());
                    out.extend_from_slice(&event.code.to_le_bytes());
                    out.extend_from_slice(&event.flags.0.to_le_bytes());
                }
            }
        }
    }
    let checksum = crc32fast::hash(&out[4..]);
    out[..4].copy_from_slice(&checksum.to_le_bytes());
    out
}

fn put_len(out: &mut Vec<u8>, len: usize) {
    let len = u32::try_from(len).expect("a batch is far below 2^32 events");
    out.extend_from_slice(&len.to_le_bytes());
}

pub fn decode(bytes: &[u8]) -> Result<Record, CodecError> {
    if bytes.len() < HEADER_BYTES {
        return Err(CodecError::Truncated);
    }
    let mut reader = Reader { bytes, at: 0 };
    let checksum = reader.u32()?;
    if crc32fast::hash(&bytes[4..]) != checksum {
        return Err(CodecError::Checksum);
    }
    if reader.u32()? != MAGIC {
        return Err(CodecError::Magic);
    }
    let sequence = reader.u64()?;
    let now = reader.u64()?;
    let operation_count = reader.len()?;
    let mut operations = Vec::with_capacity(operation_count.min(BATCH_EVENTS_MAX));
    let mut total = 0usize;
    for _ in 0..operation_count {
        let kind = reader.u8()?;
        let count = reader.len()?;
        total = total.saturating_add(count);
        if total > BATCH_EVENTS_MAX {
            return Err(CodecError::TooManyEvents);
        }
        match kind {
            KIND_ACCOUNTS => {
                let mut events = Vec::with_capacity(count);
                for _ in 0..count {
                    events.push(NewAccount {
                        id: AccountId(reader.u128()?),
                        owner: reader.u128()?,
                        ledger: LedgerId(reader.u32()?),
                        code: reader.u16()?,
                        flags: AccountFlags(reader.u16()?),
                    });
                }
                operations.push(Operation::CreateAccounts(events));
            }
            KIND_TRANSFERS => {
                let mut events = Vec::with_capacity(count);
                for _ in 0..count {
                    events.push(NewTransfer {
                        id: TransferId(reader.u128()?),
                        debit_account_id: AccountId(reader.u128()?),
                        credit_account_id: AccountId(reader.u128()?),
                        amount: reader.u128()?,
                        pending_id: TransferId(reader.u128()?),
                        user_data: reader.u128()?,
                        timeout_seconds: reader.u32()?,
                        ledger: LedgerId(reader.u32()?),
                        code: reader.u16()?,
                        flags: TransferFlags(reader.u16()?),
                    });
                }
                operations.push(Operation::CreateTransfers(events));
            }
            other => return Err(CodecError::UnknownKind(other)),
        }
    }
    if reader.at != bytes.len() {
        return Err(CodecError::TrailingBytes);
    }
    Ok(Record {
        sequence,
        now,
        operations,
    })
}

struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl Reader<'_> {
    fn take<const N: usize>(&mut self) -> Result<[u8; N], CodecError> {
        let end = self.at.checked_add(N).ok_or(CodecError::Truncated)?;
        let slice = self.bytes.get(self.at..end).ok_or(CodecError::Truncated)?;
        self.at = end;
        Ok(slice.try_into().expect("slice of N bytes"))
    }

    fn u8(&mut self) -> Result<u8, CodecError> {
        Ok(self.take::<1>()?[0])
    }

    fn u16(&mut self) -> Result<u16, CodecError> {
        Ok(u16::from_le_bytes(self.take()?))
    }

    fn u32(&mut self) -> Result<u32, CodecError> {
        Ok(u32::from_le_bytes(self.take()?))
    }

    fn len(&mut self) -> Result<usize, CodecError> {
        usize::try_from(self.u32()?).map_err(|_| CodecError::TooManyEvents)
    }

    fn u64(&mut self) -> Result<u64, CodecError> {
        Ok(u64::from_le_bytes(self.take()?))
    }

    fn u128(&mut self) -> Result<u128, CodecError> {
        Ok(u128::from_le_bytes(self.take()?))
    }
}
