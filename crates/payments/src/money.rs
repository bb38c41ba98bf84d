//! Currencies and amounts: what a person types, parsed once into centavos, and written back the
//! Spanish way (`1.234,50 CUP`) or in plain ASCII for SMS and USSD (`1234.50 CUP`).

use std::fmt;
use std::str::FromStr;

use ceiba_ledger::LedgerId;

/// The largest amount one operation may carry: 1,000,000,000.00 in minor units. Far above every
/// limit, it keeps sums of a few amounts well inside `u64`.
pub const AMOUNT_MINOR_MAX: u64 = 100_000_000_000;

/// Minor units (centavos) in one unit of every currency here.
pub const MINOR_PER_UNIT: u64 = 100;

/// Offset of the ledger that holds a currency's wallet headroom (see [`Currency::headroom_ledger`]).
const HEADROOM_LEDGER_OFFSET: u32 = 10_000;

/// A currency Ceiba moves. Each has its own ledger; money never crosses between them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Currency {
    /// Peso cubano.
    Cup,
    /// US dollar.
    Usd,
    /// Moneda libremente convertible: dollars held in Cuban bank accounts.
    Mlc,
}

/// Why a currency code was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CurrencyError {
    #[error("la moneda «{0}» no se admite: use CUP, USD o MLC")]
    Unknown(String),
}

/// Longest code echoed back in an error: enough to recognise a typo, not a place to store text.
const ECHO_CHARS_MAX: usize = 16;

impl Currency {
    pub const ALL: [Currency; 3] = [Currency::Cup, Currency::Usd, Currency::Mlc];

    /// Reads `CUP`, `USD` or `MLC`, in any case, with surrounding spaces.
    pub fn parse(code: &str) -> Result<Currency, CurrencyError> {
        let trimmed = code.trim();
        Currency::ALL
            .into_iter()
            .find(|currency| currency.code().eq_ignore_ascii_case(trimmed))
            .ok_or_else(|| CurrencyError::Unknown(trimmed.chars().take(ECHO_CHARS_MAX).collect()))
    }

    /// The three-letter code: `CUP`, `USD`, `MLC`.
    pub fn code(self) -> &'static str {
        match self {
            Currency::Cup => "CUP",
            Currency::Usd => "USD",
            Currency::Mlc => "MLC",
        }
    }

    /// The Spanish name, for pages.
    pub fn name_es(self) -> &'static str {
        match self {
            Currency::Cup => "peso cubano",
            Currency::Usd => "dólar estadounidense",
            Currency::Mlc => "moneda libremente convertible",
        }
    }

    /// The ledger that holds this currency's money.
    pub fn ledger(self) -> LedgerId {
        match self {
            Currency::Cup => LedgerId::CUP,
            Currency::Usd => LedgerId::USD,
            Currency::Mlc => LedgerId::MLC,
        }
    }

    /// The ledger that holds this currency's wallet headroom: `LedgerId(10_000 + ledger)`. A
    /// wallet's headroom account holds what the wallet may still receive before its cap, so the
    /// ledger itself refuses a credit past the cap (see [`crate::plan`]).
    pub fn headroom_ledger(self) -> LedgerId {
        LedgerId(HEADROOM_LEDGER_OFFSET + self.ledger().0)
    }

    /// The currency whose money ledger is `ledger`.
    pub fn from_ledger(ledger: LedgerId) -> Option<Currency> {
        Currency::ALL
            .into_iter()
            .find(|currency| currency.ledger() == ledger)
    }

    /// The currency whose headroom ledger is `ledger`.
    pub fn from_headroom_ledger(ledger: LedgerId) -> Option<Currency> {
        Currency::ALL
            .into_iter()
            .find(|currency| currency.headroom_ledger() == ledger)
    }

    /// Position in [`Currency::ALL`], for tables indexed by currency.
    pub(crate) fn index(self) -> usize {
        match self {
            Currency::Cup => 0,
            Currency::Usd => 1,
            Currency::Mlc => 2,
        }
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl FromStr for Currency {
    type Err = CurrencyError;

    fn from_str(code: &str) -> Result<Currency, CurrencyError> {
        Currency::parse(code)
    }
}

/// On the wire a currency is its code, `"CUP"`.
impl serde::Serialize for Currency {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.code())
    }
}

impl<'de> serde::Deserialize<'de> for Currency {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Currency, D::Error> {
        let code = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        Currency::parse(&code).map_err(serde::de::Error::custom)
    }
}

/// An amount of one currency, in minor units (centavos).
///
/// `Display` writes the Spanish form, `1.234,50 CUP`; [`Money::ascii`] the plain form for SMS
/// and USSD, `1234.50 CUP`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Money {
    pub currency: Currency,
    pub minor: u64,
}

/// Why an amount was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AmountError {
    #[error("falta el importe")]
    Empty,
    #[error(
        "el importe no es un número: escriba solo cifras, con coma o punto para los centavos, \
         por ejemplo 1234,50"
    )]
    NotANumber,
    #[error("el importe no puede ser negativo")]
    Negative,
    #[error("el importe debe ser mayor que cero")]
    Zero,
    #[error(
        "el importe admite como mucho dos decimales (por ejemplo 1234,50); no use separador de \
         miles"
    )]
    TooManyDecimals,
    #[error("el importe supera el máximo de 1.000.000.000,00 por operación")]
    TooLarge,
}

impl Money {
    /// Reads an amount as people type it: `12`, `12.5`, `12.50` or `12,50` (decimal comma),
    /// with surrounding spaces. Refuses a sign other than a leading `-` (reported as
    /// [`AmountError::Negative`]), exponents, thousands separators, digits other than ASCII, a
    /// separator without digits on both sides (`12.`, `.5`), more than two decimals, zero and
    /// more than [`AMOUNT_MINOR_MAX`].
    pub fn parse(text: &str, currency: Currency) -> Result<Money, AmountError> {
        let text = text.trim();
        if text.is_empty() {
            return Err(AmountError::Empty);
        }
        let (negative, unsigned) = match text.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, text),
        };
        let (whole, fraction) = match unsigned.find(['.', ',']) {
            Some(at) => (&unsigned[..at], Some(&unsigned[at + 1..])),
            None => (unsigned, None),
        };
        let all_digits = |part: &str| !part.is_empty() && part.bytes().all(|b| b.is_ascii_digit());
        // A second separator (`1.234,50`) makes the fraction fail `all_digits`.
        if !all_digits(whole) || fraction.is_some_and(|fraction| !all_digits(fraction)) {
            return Err(AmountError::NotANumber);
        }
        if negative {
            return Err(AmountError::Negative);
        }
        let fraction = fraction.unwrap_or("");
        if fraction.len() > 2 {
            return Err(AmountError::TooManyDecimals);
        }
        let mut units: u64 = 0;
        for digit in whole.bytes() {
            units = units
                .checked_mul(10)
                .and_then(|units| units.checked_add(u64::from(digit - b'0')))
                .ok_or(AmountError::TooLarge)?;
        }
        let mut cents: u64 = 0;
        for position in 0..2 {
            let digit = fraction.as_bytes().get(position).map_or(0, |b| b - b'0');
            cents = cents * 10 + u64::from(digit);
        }
        let minor = units
            .checked_mul(MINOR_PER_UNIT)
            .and_then(|minor| minor.checked_add(cents))
            .ok_or(AmountError::TooLarge)?;
        if minor == 0 {
            return Err(AmountError::Zero);
        }
        if minor > AMOUNT_MINOR_MAX {
            return Err(AmountError::TooLarge);
        }
        Ok(Money { currency, minor })
    }

    /// An amount already in minor units, as stored. Zero is allowed here (a fee of nothing).
    pub fn from_minor(minor: u64, currency: Currency) -> Money {
        Money { currency, minor }
    }

    /// Nothing, in `currency`.
    pub fn zero(currency: Currency) -> Money {
        Money { currency, minor: 0 }
    }

    pub fn is_zero(self) -> bool {
        self.minor == 0
    }

    /// The sum, or `None` when the currencies differ or the sum overflows.
    pub fn checked_add(self, other: Money) -> Option<Money> {
        if self.currency != other.currency {
            return None;
        }
        Some(Money {
            currency: self.currency,
            minor: self.minor.checked_add(other.minor)?,
        })
    }

    /// `1,234.50 CUP`, for English pages.
    pub fn english(&self) -> String {
        format!("{} {}", format_minor_en(self.minor), self.currency.code())
    }

    /// `1234.50 CUP`: no thousands separator, a decimal point, two decimals; plain ASCII for SMS
    /// and USSD screens.
    pub fn ascii(&self) -> String {
        format!(
            "{}.{:02} {}",
            self.minor / MINOR_PER_UNIT,
            self.minor % MINOR_PER_UNIT,
            self.currency.code()
        )
    }
}

/// `1.234,50 CUP`: thousands grouped with `.`, decimal comma, always two decimals.
impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {}",
            format_minor_es(self.minor),
            self.currency.code()
        )
    }
}

/// A minor-unit amount written the Spanish way without a currency: `80.000,00`.
pub fn format_minor_es(minor: u64) -> String {
    format_minor(minor, '.', ',')
}

/// A minor-unit amount written the English way without a currency: `80,000.00`.
pub fn format_minor_en(minor: u64) -> String {
    format_minor(minor, ',', '.')
}

fn format_minor(minor: u64, thousands: char, decimal: char) -> String {
    let units = (minor / MINOR_PER_UNIT).to_string();
    let mut grouped = String::with_capacity(units.len() + units.len() / 3 + 3);
    for (index, digit) in units.chars().enumerate() {
        if index > 0 && (units.len() - index).is_multiple_of(3) {
            grouped.push(thousands);
        }
        grouped.push(digit);
    }
    format!("{grouped}{decimal}{:02}", minor % MINOR_PER_UNIT)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grouping_of_every_length() {
        let cases = [
            (0, "0,00"),
            (5, "0,05"),
            (9_999, "99,99"),
            (99_900, "999,00"),
            (100_000, "1.000,00"),
            (1_234_567, "12.345,67"),
            (12_345_600, "123.456,00"),
            (123_456_789, "1.234.567,89"),
            (u64::MAX, "184.467.440.737.095.516,15"),
        ];
        for (minor, expected) in cases {
            assert_eq!(format_minor_es(minor), expected, "{minor}");
        }
    }

    #[test]
    fn ledgers_are_distinct_and_round_trip() {
        for currency in Currency::ALL {
            assert_eq!(Currency::from_ledger(currency.ledger()), Some(currency));
            assert_eq!(
                Currency::from_headroom_ledger(currency.headroom_ledger()),
                Some(currency)
            );
            assert_eq!(Currency::from_ledger(currency.headroom_ledger()), None);
            assert_eq!(currency.ledger().currency(), Some(currency.code()));
            assert_eq!(Currency::ALL[currency.index()], currency);
        }
    }
}
