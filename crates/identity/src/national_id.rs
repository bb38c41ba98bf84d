use std::fmt;

use crate::MASK;
use crate::date::CalendarDate;

/// The carné de identidad has exactly this many digits.
const DIGITS: usize = 11;
/// How many trailing digits [`NationalId::masked`] shows.
const SHOWN_DIGITS: usize = 2;

/// A Cuban carné de identidad (número de identidad permanente): 11 digits, the first six the
/// date of birth as YYMMDD and the seventh the century of birth (9: the 1800s; 0 to 5: the
/// 1900s; 6 to 8: the 2000s).
///
/// It has no `Display`: the full number is personal data and leaves this type only through
/// [`NationalId::reveal`], for the owner's own pages and the administrators' paths. `Debug` and
/// [`NationalId::masked`] show the last two digits.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct NationalId {
    digits: String,
    birth_date: CalendarDate,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum NationalIdError {
    #[error("el número de carné de identidad está vacío")]
    Empty,
    #[error("el carné de identidad solo lleva cifras, y aquí hay «{0}»")]
    NotDigit(char),
    #[error("el carné de identidad tiene 11 cifras, y aquí hay {length}")]
    WrongLength { length: usize },
    #[error(
        "las seis primeras cifras del carné no forman una fecha de nacimiento válida \
         (año {year:04}, mes {month:02}, día {day:02})"
    )]
    InvalidBirthDate { year: u16, month: u8, day: u8 },
    #[error("la fecha de nacimiento del carné, {birth_date}, es posterior a hoy, {today}")]
    BirthDateInFuture {
        birth_date: CalendarDate,
        today: CalendarDate,
    },
}

impl NationalId {
    /// Reads a carné de identidad: exactly 11 digits (surrounding spaces are ignored) whose date
    /// of birth exists and is not after `today`, the caller's date (this crate has no clock).
    pub fn parse(text: &str, today: CalendarDate) -> Result<NationalId, NationalIdError> {
        let text = text.trim();
        if text.is_empty() {
            return Err(NationalIdError::Empty);
        }
        if let Some(other) = text.chars().find(|c| !c.is_ascii_digit()) {
            return Err(NationalIdError::NotDigit(other));
        }
        // Only ASCII digits remain, so bytes are characters.
        if text.len() != DIGITS {
            return Err(NationalIdError::WrongLength { length: text.len() });
        }
        let digit = |index: usize| text.as_bytes()[index] - b'0';
        let two = |index: usize| digit(index) * 10 + digit(index + 1);
        let century: u16 = match digit(6) {
            9 => 1800,
            0..=5 => 1900,
            _ => 2000,
        };
        let year = century + u16::from(two(0));
        let (month, day) = (two(2), two(4));
        let birth_date = CalendarDate::new(year, month, day)
            .map_err(|_| NationalIdError::InvalidBirthDate { year, month, day })?;
        if birth_date > today {
            return Err(NationalIdError::BirthDateInFuture { birth_date, today });
        }
        Ok(NationalId {
            digits: text.to_owned(),
            birth_date,
        })
    }

    pub fn birth_date(&self) -> CalendarDate {
        self.birth_date
    }

    /// The last two digits behind nine masks: `•••••••••12`.
    pub fn masked(&self) -> String {
        let mut masked: String = std::iter::repeat_n(MASK, DIGITS - SHOWN_DIGITS).collect();
        masked.push_str(&self.digits[DIGITS - SHOWN_DIGITS..]);
        masked
    }

    /// The full 11 digits. Only for the owner's own view and the administrators' paths; a call
    /// of this is a place to look at in a review.
    pub fn reveal(&self) -> &str {
        &self.digits
    }
}

impl fmt::Debug for NationalId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("NationalId").field(&self.masked()).finish()
    }
}
