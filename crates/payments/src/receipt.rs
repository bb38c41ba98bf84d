//! Receipt codes: ten characters a person can read out over the phone, which prove that Ceiba
//! recorded this operation, with this amount, at this time. Anyone holding the key recomputes
//! the code from the stored operation and compares.

use std::fmt;

use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::money::Money;
use crate::operation::OperationKind;

/// Crockford's base32 alphabet: no I, L, O or U, so nothing reads as another symbol.
const ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";
/// Characters in a code, without the dash: 50 bits of the MAC.
const CODE_CHARS: usize = 10;
/// Characters before the dash.
const GROUP_CHARS: usize = 5;
/// Longest candidate looked at: a code with generous spacing fits well within it.
const CANDIDATE_CHARS_MAX: usize = 32;

/// A receipt code, `XXXXX-XXXXX`: Crockford base32 of the first 50 bits of
/// HMAC-SHA256(key, canonical text of the operation).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ReceiptCode(String);

impl ReceiptCode {
    /// The code of an operation. The canonical text is
    /// `ceiba-receipt-v1\n{operation id}\n{kind}\n{currency}\n{minor}\n{at_ms}`, numbers in
    /// decimal and names as [`OperationKind::as_str`] and [`crate::Currency::code`] write them.
    pub fn compute(
        key: &[u8; 32],
        operation_id: u128,
        kind: OperationKind,
        amount: Money,
        at_ms: i64,
    ) -> ReceiptCode {
        let symbols = symbols(key, operation_id, kind, amount, at_ms);
        let mut text = String::with_capacity(CODE_CHARS + 1);
        for (index, symbol) in symbols.iter().enumerate() {
            if index == GROUP_CHARS {
                text.push('-');
            }
            text.push(char::from(*symbol));
        }
        ReceiptCode(text)
    }

    /// `XXXXX-XXXXX`.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether `candidate` is the code of this operation. Case does not matter; dashes and
    /// spaces are ignored; as Crockford's base32 says, `O` reads as `0` and `I` and `L` as `1`.
    /// The comparison takes the same time wherever the first difference is.
    pub fn verify(
        key: &[u8; 32],
        operation_id: u128,
        kind: OperationKind,
        amount: Money,
        at_ms: i64,
        candidate: &str,
    ) -> bool {
        if candidate.len() > CANDIDATE_CHARS_MAX {
            return false;
        }
        let mut given = [0u8; CODE_CHARS];
        let mut count = 0;
        for character in candidate.chars() {
            let symbol = match character.to_ascii_uppercase() {
                '-' | ' ' => continue,
                'O' => b'0',
                'I' | 'L' => b'1',
                other => match u8::try_from(other) {
                    Ok(symbol) if ALPHABET.contains(&symbol) => symbol,
                    _ => return false,
                },
            };
            if count == CODE_CHARS {
                return false;
            }
            given[count] = symbol;
            count += 1;
        }
        if count != CODE_CHARS {
            return false;
        }
        let expected = symbols(key, operation_id, kind, amount, at_ms);
        let difference = expected
            .iter()
            .zip(given.iter())
            .fold(0u8, |difference, (a, b)| difference | (a ^ b));
        difference == 0
    }
}

impl fmt::Display for ReceiptCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The ten symbols of the code, without the dash.
fn symbols(
    key: &[u8; 32],
    operation_id: u128,
    kind: OperationKind,
    amount: Money,
    at_ms: i64,
) -> [u8; CODE_CHARS] {
    let canonical = format!(
        "ceiba-receipt-v1\n{operation_id}\n{}\n{}\n{}\n{at_ms}",
        kind.as_str(),
        amount.currency.code(),
        amount.minor
    );
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes a key of any length");
    mac.update(canonical.as_bytes());
    let tag = mac.finalize().into_bytes();
    let mut first = [0u8; 8];
    first.copy_from_slice(&tag[..8]);
    let bits = u64::from_be_bytes(first);
    let mut out = [0u8; CODE_CHARS];
    for (index, symbol) in out.iter_mut().enumerate() {
        let shift = 64 - 5 * (index + 1);
        let value = usize::try_from((bits >> shift) & 0x1f).expect("five bits fit");
        *symbol = ALPHABET[value];
    }
    out
}
