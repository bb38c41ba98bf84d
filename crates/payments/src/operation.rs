//! The kinds of operation a wallet takes part in, with their stable names and ledger codes.

use std::fmt;
use std::str::FromStr;

/// What an operation does. Only [`OperationKind::PersonToPerson`] counts against the Central
/// Bank's limits; payments to businesses and the state are not capped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum OperationKind {
    /// From one person's wallet to another's.
    PersonToPerson,
    /// From a bank account into the wallet.
    CashIn,
    /// From the wallet back to a bank account.
    CashOut,
    /// Electricity, water, gas, telephone.
    BillPayment,
    /// Taxes and fees to the tax office (ONAT).
    TaxPayment,
    /// Mobile or Nauta account top-up.
    TopUp,
    /// To a shop, in person or online.
    MerchantPayment,
    /// A shop's money back to the wallet that paid it, in full or in part.
    Refund,
    /// One row of a bulk payout (payroll, social assistance) from a bank or a business.
    Payout,
}

/// Why an operation name was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum OperationKindError {
    #[error("la operación «{0}» no existe")]
    Unknown(String),
}

/// Longest name echoed back in an error.
const ECHO_CHARS_MAX: usize = 32;

impl OperationKind {
    pub const ALL: [OperationKind; 9] = [
        OperationKind::PersonToPerson,
        OperationKind::CashIn,
        OperationKind::CashOut,
        OperationKind::BillPayment,
        OperationKind::TaxPayment,
        OperationKind::TopUp,
        OperationKind::MerchantPayment,
        OperationKind::Refund,
        OperationKind::Payout,
    ];

    /// The stable machine name (`person_to_person`, `cash_in`, …). Never change one.
    pub fn as_str(self) -> &'static str {
        match self {
            OperationKind::PersonToPerson => "person_to_person",
            OperationKind::CashIn => "cash_in",
            OperationKind::CashOut => "cash_out",
            OperationKind::BillPayment => "bill_payment",
            OperationKind::TaxPayment => "tax_payment",
            OperationKind::TopUp => "top_up",
            OperationKind::MerchantPayment => "merchant_payment",
            OperationKind::Refund => "refund",
            OperationKind::Payout => "payout",
        }
    }

    /// Reads a machine name written by [`OperationKind::as_str`]; `None` for any other text.
    /// Names come from storage and from our own forms, not from people, so there is nothing to
    /// explain; [`FromStr`] gives an error with a message where one is wanted.
    pub fn parse(name: &str) -> Option<OperationKind> {
        OperationKind::ALL
            .into_iter()
            .find(|kind| kind.as_str() == name)
    }

    /// The name a person reads in a statement.
    pub fn label_es(self) -> &'static str {
        match self {
            OperationKind::PersonToPerson => "Transferencia entre personas",
            OperationKind::CashIn => "Depósito desde el banco",
            OperationKind::CashOut => "Extracción al banco",
            OperationKind::BillPayment => "Pago de factura",
            OperationKind::TaxPayment => "Pago de impuestos",
            OperationKind::TopUp => "Recarga",
            OperationKind::MerchantPayment => "Pago a comercio",
            OperationKind::Refund => "Devolución de un comercio",
            OperationKind::Payout => "Pago masivo (nómina o asistencia)",
        }
    }

    /// The ledger transfer code of this operation's legs. Never change one: the ledger keeps
    /// them for ever. Codes 8 and 9 are taken by [`crate::plan::TRANSFER_CODE_PAYMENT`] and
    /// [`crate::plan::TRANSFER_CODE_HEADROOM_FUNDING`].
    pub fn transfer_code(self) -> u16 {
        match self {
            OperationKind::PersonToPerson => 1,
            OperationKind::CashIn => 2,
            OperationKind::CashOut => 3,
            OperationKind::BillPayment => 4,
            OperationKind::TaxPayment => 5,
            OperationKind::TopUp => 6,
            OperationKind::MerchantPayment => 7,
            OperationKind::Refund => 10,
            OperationKind::Payout => 11,
        }
    }

    /// The kind whose legs carry `code`.
    pub fn from_transfer_code(code: u16) -> Option<OperationKind> {
        OperationKind::ALL
            .into_iter()
            .find(|kind| kind.transfer_code() == code)
    }

    /// Whether the Central Bank's person-to-person limits apply.
    pub fn is_person_to_person(self) -> bool {
        self == OperationKind::PersonToPerson
    }

    /// Position in [`OperationKind::ALL`], for tables indexed by kind.
    pub(crate) fn index(self) -> usize {
        match self {
            OperationKind::PersonToPerson => 0,
            OperationKind::CashIn => 1,
            OperationKind::CashOut => 2,
            OperationKind::BillPayment => 3,
            OperationKind::TaxPayment => 4,
            OperationKind::TopUp => 5,
            OperationKind::MerchantPayment => 6,
            OperationKind::Refund => 7,
            OperationKind::Payout => 8,
        }
    }
}

impl fmt::Display for OperationKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for OperationKind {
    type Err = OperationKindError;

    fn from_str(name: &str) -> Result<OperationKind, OperationKindError> {
        OperationKind::parse(name)
            .ok_or_else(|| OperationKindError::Unknown(name.chars().take(ECHO_CHARS_MAX).collect()))
    }
}

/// On the wire a kind is its machine name, `"person_to_person"`.
impl serde::Serialize for OperationKind {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> serde::Deserialize<'de> for OperationKind {
    fn deserialize<D: serde::Deserializer<'de>>(
        deserializer: D,
    ) -> Result<OperationKind, D::Error> {
        let name = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        name.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_codes_and_indexes_are_distinct_and_round_trip() {
        let mut codes = std::collections::BTreeSet::new();
        for (position, kind) in OperationKind::ALL.into_iter().enumerate() {
            assert_eq!(kind.index(), position);
            assert_eq!(OperationKind::parse(kind.as_str()), Some(kind));
            assert_eq!(kind.as_str().parse(), Ok(kind));
            assert_eq!(
                OperationKind::from_transfer_code(kind.transfer_code()),
                Some(kind)
            );
            assert_ne!(kind.transfer_code(), 0);
            assert!(codes.insert(kind.transfer_code()));
        }
        assert!(!codes.contains(&crate::plan::TRANSFER_CODE_PAYMENT));
        assert!(!codes.contains(&crate::plan::TRANSFER_CODE_HEADROOM_FUNDING));
        assert_eq!(OperationKind::parse("Cash_In"), None);
        assert_eq!(
            "pago"
                .parse::<OperationKind>()
                .map_err(|error| error.to_string()),
            Err("la operación «pago» no existe".to_owned())
        );
    }
}
