use std::collections::HashSet;
use std::fmt;
use std::sync::LazyLock;

use unicode_normalization::UnicodeNormalization;
use zeroize::Zeroizing;

use crate::hashing::{NewSecret, Secret};
use crate::sealed::Sealed;

/// Fewest characters (Unicode scalar values, after NFKC) a new password may have
/// (NIST SP 800-63B; ASVS 5.0 6.2.1).
pub const PASSWORD_CHARS_MIN: usize = 8;
/// Most characters a password may have: long enough for any passphrase (ASVS 5.0 asks for at
/// least 64), short enough that nobody sends a novel to the hasher.
pub const PASSWORD_CHARS_MAX: usize = 128;
/// Longest input normalised at all; beyond it a text is refused before any work is done.
const INPUT_CHARS_MAX: usize = 4 * PASSWORD_CHARS_MAX;

/// The 3,000 most used passwords, lower-cased, loaded once. The file's first line names its
/// source; no password in it starts with `#`.
static COMMON_PASSWORDS: LazyLock<HashSet<String>> = LazyLock::new(|| {
    include_str!("../data/common-passwords.txt")
        .lines()
        .filter(|line| !line.is_empty() && !line.starts_with('#'))
        .map(str::to_lowercase)
        .collect()
});

/// Whether a text is among the 3,000 most used passwords, ignoring case (after NFKC).
pub fn is_common_password(text: &str) -> bool {
    let lowered: Zeroizing<String> = Zeroizing::new(text.nfkc().collect::<String>().to_lowercase());
    COMMON_PASSWORDS.contains(lowered.as_str())
}

/// A password that meets the policy for a new password: NFKC-normalised, 8 to 128 characters,
/// not among the most common. No composition rules (no "one digit, one capital"): they make
/// passwords harder to remember, not to guess.
///
/// There is no `Display`, and `Debug` shows nothing of it; the memory is zeroed on drop.
pub struct Password {
    normalised: Zeroizing<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PasswordError {
    #[error(
        "la contraseña es demasiado corta: tiene {length} caracteres y hacen falta al menos \
         {minimum}"
    )]
    TooShort { length: usize, minimum: usize },
    #[error("la contraseña es demasiado larga: se admiten {maximum} caracteres como mucho")]
    TooLong { maximum: usize },
    #[error(
        "esa contraseña está entre las más usadas, y es de las primeras que prueba un atacante: \
         elija otra, por ejemplo una frase de varias palabras"
    )]
    Common,
}

impl Password {
    /// Checks a new password against the policy (see the type's documentation).
    pub fn parse(text: &str) -> Result<Password, PasswordError> {
        let normalised = normalise(text)?;
        let length = normalised.chars().count();
        if length < PASSWORD_CHARS_MIN {
            return Err(PasswordError::TooShort {
                length,
                minimum: PASSWORD_CHARS_MIN,
            });
        }
        if is_common_password(&normalised) {
            return Err(PasswordError::Common);
        }
        Ok(Password { normalised })
    }

    /// Length in Unicode scalar values, after normalisation.
    pub fn char_count(&self) -> usize {
        self.normalised.chars().count()
    }
}

/// NFKC, refusing a text too long before and after.
fn normalise(text: &str) -> Result<Zeroizing<String>, PasswordError> {
    let too_long = PasswordError::TooLong {
        maximum: PASSWORD_CHARS_MAX,
    };
    if text.chars().count() > INPUT_CHARS_MAX {
        return Err(too_long);
    }
    let normalised = Zeroizing::new(text.nfkc().collect::<String>());
    if normalised.chars().count() > PASSWORD_CHARS_MAX {
        return Err(too_long);
    }
    Ok(normalised)
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password(<oculta>)")
    }
}

impl Sealed for Password {
    fn secret_bytes(&self) -> &[u8] {
        self.normalised.as_bytes()
    }
}
impl Secret for Password {}
impl NewSecret for Password {}

/// A password or PIN as typed at sign-in: normalised like a new one (NFKC) so that it matches
/// what was stored, and bounded in length, but not held to the policy, so that a password that
/// was acceptable when it was chosen still signs in after the list of common ones grows. It can
/// be verified, never hashed.
pub struct PresentedSecret {
    normalised: Zeroizing<String>,
}

impl PresentedSecret {
    pub fn parse(text: &str) -> Result<PresentedSecret, PasswordError> {
        Ok(PresentedSecret {
            normalised: normalise(text)?,
        })
    }
}

impl fmt::Debug for PresentedSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PresentedSecret(<oculto>)")
    }
}

impl Sealed for PresentedSecret {
    fn secret_bytes(&self) -> &[u8] {
        self.normalised.as_bytes()
    }
}
impl Secret for PresentedSecret {}

/// Digits in a PIN.
const PIN_DIGITS: usize = 4;

/// PINs refused by name besides the patterns [`Pin::parse`] detects: lines on the keypad
/// (2580 down the middle column, and the other columns), and PINs that surveys of leaked PINs
/// rank near the top (1004, 2000, 2001, 1984, 0007, 1230).
const COMMON_PINS: &[&str] = &[
    "2580", "0852", "1470", "0741", "3690", "0963", "1004", "2000", "2001", "1984", "0007", "1230",
];

/// A four-digit PIN (for USSD and the point of sale), refusing the most guessable: one digit
/// four times (7777), a run up or down (1234, 4321, 7890, 0987), a repeated pair (1212), a
/// doubled pair (1122), a mirrored pair (1221), and a short list of others (2580, 1004 …).
/// About 3% of the 10,000 PINs are refused.
///
/// There is no `Display`, and `Debug` shows nothing of it.
pub struct Pin {
    digits: Zeroizing<[u8; PIN_DIGITS]>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PinError {
    #[error("el PIN tiene 4 cifras, y aquí hay {length} caracteres")]
    WrongLength { length: usize },
    #[error("el PIN solo lleva cifras")]
    NotDigits,
    #[error("un PIN de una sola cifra repetida es de los primeros que se prueban")]
    SameDigit,
    #[error(
        "un PIN de cifras seguidas, hacia arriba o hacia abajo, es de los primeros que se prueban"
    )]
    Sequence,
    #[error("un PIN hecho de un par de cifras repetido es de los primeros que se prueban")]
    RepeatedPair,
    #[error("ese PIN está entre los más usados: elija otro")]
    Common,
}

impl Pin {
    pub fn parse(text: &str) -> Result<Pin, PinError> {
        let length = text.chars().count();
        if length != PIN_DIGITS {
            return Err(PinError::WrongLength { length });
        }
        if !text.bytes().all(|byte| byte.is_ascii_digit()) {
            return Err(PinError::NotDigits);
        }
        let mut digits = Zeroizing::new([0u8; PIN_DIGITS]);
        digits.copy_from_slice(text.as_bytes());
        let [a, b, c, d] = digits.map(|byte| byte - b'0');
        if a == b && b == c && c == d {
            return Err(PinError::SameDigit);
        }
        let step = |from: u8, to: u8| (to + 10 - from) % 10;
        let steps = [step(a, b), step(b, c), step(c, d)];
        if steps == [1, 1, 1] || steps == [9, 9, 9] {
            return Err(PinError::Sequence);
        }
        // ABAB (1212), AABB (1122), ABBA (1221).
        if (a == c && b == d) || (a == b && c == d) || (a == d && b == c) {
            return Err(PinError::RepeatedPair);
        }
        if COMMON_PINS.contains(&text) {
            return Err(PinError::Common);
        }
        Ok(Pin { digits })
    }
}

impl fmt::Debug for Pin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Pin(••••)")
    }
}

impl Sealed for Pin {
    fn secret_bytes(&self) -> &[u8] {
        &self.digits[..]
    }
}
impl Secret for Pin {}
impl NewSecret for Pin {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_list_holds_three_thousand_lines_of_its_source() {
        let data = include_str!("../data/common-passwords.txt");
        let mut lines = data.lines();
        assert!(lines.next().is_some_and(|header| header.starts_with("# ")));
        assert_eq!(lines.clone().count(), 3_000);
        assert!(lines.all(|line| !line.is_empty() && !line.starts_with('#')));
        // Lower-casing folds a few entries together ("Password" and "password").
        assert!(COMMON_PASSWORDS.len() > 2_900);
    }

    #[test]
    fn about_three_percent_of_pins_are_refused() {
        let refused = (0..10_000)
            .filter(|n| Pin::parse(&format!("{n:04}")).is_err())
            .count();
        assert!((250..=350).contains(&refused), "{refused} refused");
    }
}
