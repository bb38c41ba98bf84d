//! Top-ups: the telecom operator sells mobile credit in fixed denominations and Nauta (internet)
//! credit in any amount between two bounds. Which denominations and bounds hold is
//! configuration ([`TopUpRules`]), not code; what an account looks like is parsed here.

use std::fmt;

use crate::money::{Currency, MINOR_PER_UNIT, Money, format_minor_es};

/// What is topped up.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TopUpService {
    /// A mobile line's prepaid balance, by phone number.
    Mobile,
    /// A Nauta internet account, by its address (`usuario@nauta.com.cu`).
    Nauta,
}

impl TopUpService {
    pub const ALL: [TopUpService; 2] = [TopUpService::Mobile, TopUpService::Nauta];

    /// The stable machine name: `movil` or `nauta`. Never change one.
    pub fn as_str(self) -> &'static str {
        match self {
            TopUpService::Mobile => "movil",
            TopUpService::Nauta => "nauta",
        }
    }

    /// Reads `movil` (also `móvil`) or `nauta`, in any case, with surrounding spaces.
    pub fn parse(text: &str) -> Result<TopUpService, TopUpError> {
        let text = text.trim().to_lowercase();
        match text.as_str() {
            "movil" | "móvil" => Ok(TopUpService::Mobile),
            "nauta" => Ok(TopUpService::Nauta),
            _ => Err(TopUpError::UnknownService(
                text.chars().take(ECHO_CHARS_MAX).collect(),
            )),
        }
    }

    /// The name a person reads.
    pub fn label_es(self) -> &'static str {
        match self {
            TopUpService::Mobile => "Recarga móvil",
            TopUpService::Nauta => "Recarga Nauta",
        }
    }
}

impl fmt::Display for TopUpService {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Longest text echoed back in an error.
const ECHO_CHARS_MAX: usize = 40;
/// Longest user part of a Nauta account.
const NAUTA_USER_CHARS_MAX: usize = 64;
/// The domains of Nauta accounts: international (`.com.cu`) and national (`.co.cu`).
pub const NAUTA_DOMAINS: [&str; 2] = ["nauta.com.cu", "nauta.co.cu"];

/// Why a top-up was refused before anything was recorded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TopUpError {
    #[error("el servicio «{0}» no existe: use «movil» o «nauta»")]
    UnknownService(String),
    #[error("las recargas se pagan en {expected}, no en {given}")]
    WrongCurrency {
        expected: &'static str,
        given: &'static str,
    },
    #[error("la recarga móvil admite solo estos importes: {allowed}")]
    NotADenomination { allowed: String },
    #[error("la recarga Nauta debe estar entre {min} y {max}")]
    OutOfBounds { min: String, max: String },
    #[error("«{0}» no es una cuenta Nauta: escriba usuario@nauta.com.cu o usuario@nauta.co.cu")]
    NotANautaAccount(String),
}

/// What the operator sells: mobile denominations and the Nauta bounds, in one currency.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TopUpRules {
    pub currency: Currency,
    /// The amounts a mobile top-up may have, in minor units, ascending.
    pub mobile_denominations_minor: Vec<u64>,
    pub nauta_min_minor: u64,
    pub nauta_max_minor: u64,
}

impl TopUpRules {
    /// ETECSA's offer as configured at launch: mobile 100, 250 and 500 CUP; Nauta any amount
    /// from 25 to 2,000 CUP.
    pub fn standard() -> TopUpRules {
        TopUpRules {
            currency: Currency::Cup,
            mobile_denominations_minor: [100, 250, 500]
                .into_iter()
                .map(|units| units * MINOR_PER_UNIT)
                .collect(),
            nauta_min_minor: 25 * MINOR_PER_UNIT,
            nauta_max_minor: 2_000 * MINOR_PER_UNIT,
        }
    }

    /// Whether `amount` may be sold for `service`.
    pub fn check(&self, service: TopUpService, amount: Money) -> Result<(), TopUpError> {
        if amount.currency != self.currency {
            return Err(TopUpError::WrongCurrency {
                expected: self.currency.code(),
                given: amount.currency.code(),
            });
        }
        match service {
            TopUpService::Mobile => {
                if self.mobile_denominations_minor.contains(&amount.minor) {
                    Ok(())
                } else {
                    Err(TopUpError::NotADenomination {
                        allowed: self.denominations_es(),
                    })
                }
            }
            TopUpService::Nauta => {
                if (self.nauta_min_minor..=self.nauta_max_minor).contains(&amount.minor) {
                    Ok(())
                } else {
                    Err(TopUpError::OutOfBounds {
                        min: Money::from_minor(self.nauta_min_minor, self.currency).to_string(),
                        max: Money::from_minor(self.nauta_max_minor, self.currency).to_string(),
                    })
                }
            }
        }
    }

    /// `100,00, 250,00 y 500,00 CUP`.
    pub fn denominations_es(&self) -> String {
        let amounts: Vec<String> = self
            .mobile_denominations_minor
            .iter()
            .map(|minor| format_minor_es(*minor))
            .collect();
        let listed = match amounts.split_last() {
            None => String::from("ninguno"),
            Some((last, [])) => last.clone(),
            Some((last, rest)) => format!("{} y {last}", rest.join("; ")),
        };
        format!("{listed} {}", self.currency.code())
    }
}

/// A Nauta account address, lower case, with its domain (`@nauta.com.cu` when none was typed).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct NautaAccount(String);

impl NautaAccount {
    /// Reads `usuario@nauta.com.cu`, `usuario@nauta.co.cu` or a bare `usuario`: letters, digits,
    /// `.`, `_` and `-`, starting with a letter or digit, at most 64 characters before the `@`.
    pub fn parse(text: &str) -> Result<NautaAccount, TopUpError> {
        let trimmed = text.trim().to_ascii_lowercase();
        let refuse =
            || TopUpError::NotANautaAccount(text.trim().chars().take(ECHO_CHARS_MAX).collect());
        let (user, domain) = match trimmed.split_once('@') {
            Some((user, domain)) => (user, domain),
            None => (trimmed.as_str(), NAUTA_DOMAINS[0]),
        };
        let user_ok = !user.is_empty()
            && user.len() <= NAUTA_USER_CHARS_MAX
            && user
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b))
            && user
                .bytes()
                .next()
                .is_some_and(|b| b.is_ascii_alphanumeric());
        if !user_ok || !NAUTA_DOMAINS.contains(&domain) {
            return Err(refuse());
        }
        Ok(NautaAccount(format!("{user}@{domain}")))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for NautaAccount {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}
