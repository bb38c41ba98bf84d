use std::fmt;

use crate::MASK;

/// Cuba's country calling code.
const COUNTRY_CODE: &str = "53";
/// Cuban mobile numbers have 8 national digits, the first a 5.
const NATIONAL_DIGITS: usize = 8;
/// Longest writing looked at: a number with generous punctuation fits well within it.
const INPUT_CHARS_MAX: usize = 32;

/// A Cuban mobile number, held in E.164 form: `+53` and 8 national digits starting with 5.
///
/// `Display` writes the E.164 form; `Debug` writes the masked form, so that logs do not collect
/// phone numbers by accident.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PhoneNumber {
    e164: String,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PhoneNumberError {
    #[error("el número de teléfono está vacío")]
    Empty,
    #[error("el número de teléfono es demasiado largo: se admiten {maximum} caracteres como mucho")]
    TooLong { maximum: usize },
    #[error(
        "el número de teléfono contiene «{0}», que no se admite: escriba solo cifras, y si quiere \
         espacios, guiones, puntos o paréntesis"
    )]
    InvalidCharacter(char),
    #[error("el signo «+» solo puede ir una vez, delante del prefijo +53")]
    MisplacedPlus,
    #[error("el número no es cubano: el prefijo internacional de Cuba es +53")]
    NotCuban,
    #[error("un número móvil cubano tiene 8 cifras sin el prefijo +53, y este tiene {digits}")]
    WrongLength { digits: usize },
    #[error("no es un número móvil: los móviles cubanos empiezan por 5")]
    NotMobile,
}

impl PhoneNumber {
    /// Reads a Cuban mobile number as people write it: `+53 5123 4567`, `+5351234567`,
    /// `0053 51234567`, `53 51234567` or `51234567`, with spaces, dashes, dots or parentheses
    /// anywhere between the digits.
    pub fn parse(text: &str) -> Result<PhoneNumber, PhoneNumberError> {
        let text = text.trim();
        if text.is_empty() {
            return Err(PhoneNumberError::Empty);
        }
        if text.chars().count() > INPUT_CHARS_MAX {
            return Err(PhoneNumberError::TooLong {
                maximum: INPUT_CHARS_MAX,
            });
        }
        let mut digits = String::with_capacity(INPUT_CHARS_MAX);
        let mut plus = false;
        for character in text.chars() {
            match character {
                '0'..='9' => digits.push(character),
                // Before any digit, as in `+53 …` or `(+53) …`.
                '+' if digits.is_empty() && !plus => plus = true,
                '+' => return Err(PhoneNumberError::MisplacedPlus),
                ' ' | '-' | '.' | '(' | ')' => {}
                other => return Err(PhoneNumberError::InvalidCharacter(other)),
            }
        }
        let national = if plus {
            digits
                .strip_prefix(COUNTRY_CODE)
                .ok_or(PhoneNumberError::NotCuban)?
        } else if let Some(rest) = digits.strip_prefix("00") {
            // The international prefix dialled from Cuba and most of the world.
            rest.strip_prefix(COUNTRY_CODE)
                .ok_or(PhoneNumberError::NotCuban)?
        } else if digits.len() == COUNTRY_CODE.len() + NATIONAL_DIGITS {
            // Ten digits can only be the country code and a national number; eight digits
            // starting with 53 are a national number (53 is a mobile block).
            digits
                .strip_prefix(COUNTRY_CODE)
                .ok_or(PhoneNumberError::NotCuban)?
        } else {
            &digits
        };
        if national.len() != NATIONAL_DIGITS {
            return Err(PhoneNumberError::WrongLength {
                digits: national.len(),
            });
        }
        if !national.starts_with('5') {
            return Err(PhoneNumberError::NotMobile);
        }
        Ok(PhoneNumber {
            e164: format!("+{COUNTRY_CODE}{national}"),
        })
    }

    /// `+53` followed by the 8 national digits, for storage and for SMS gateways.
    pub fn as_e164(&self) -> &str {
        &self.e164
    }

    /// The number as shown to someone who must recognise it but not learn it:
    /// `+53 5••• ••67`.
    pub fn masked(&self) -> String {
        let national = &self.e164[1 + COUNTRY_CODE.len()..];
        let first = &national[..1];
        let last_two = &national[NATIONAL_DIGITS - 2..];
        format!("+{COUNTRY_CODE} {first}{MASK}{MASK}{MASK} {MASK}{MASK}{last_two}")
    }
}

impl fmt::Display for PhoneNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.e164)
    }
}

impl fmt::Debug for PhoneNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("PhoneNumber").field(&self.masked()).finish()
    }
}
