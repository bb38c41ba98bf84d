//! Ceiba's identity model: who a person is (phone number, carné de identidad), how they prove it
//! (password or PIN, second factor, recovery codes), how a proof is remembered (session and device
//! tokens), what they may do (roles), and how guessing is slowed down (sign-in throttling).
//! Written for OWASP ASVS 5.0 levels 2 and 3.
//!
//! # A pure crate
//! No IO, no clock, no async runtime (ARCHITECTURE.md: a domain crate). Time comes in as Unix
//! seconds (`now_s`, `unix_s`) or as a [`CalendarDate`]; randomness comes from a caller-supplied
//! `rand_core` generator (`CryptoRng + RngCore`), the operating system's in production and a
//! seeded one in tests, so every test is deterministic. Storage persists what this crate returns
//! (PHC strings, token hashes, [`ThrottleState`]) and hands it back; nothing here reads it.
//!
//! # Parse, don't validate
//! Every value that comes from outside has one constructor, a parser that refuses with a reason
//! (a `#[non_exhaustive]` error whose Display is a Spanish sentence): [`PhoneNumber::parse`],
//! [`NationalId::parse`], [`Password::parse`], [`Pin::parse`], [`RecoveryCode::parse`],
//! [`SessionToken::parse`], [`Role::parse`]. Holding the type is the proof that the value is
//! well formed.
//!
//! # Secrets do not leak through formatting
//! Passwords, PINs, TOTP secrets, recovery codes and tokens have a `Debug` that masks them and
//! no `Display`; their memory is zeroed when they are dropped. The carné de identidad and the
//! phone number are personal data rather than secrets: their `Debug` is masked too, so a stray
//! `{:?}` in a log line shows `•••••••••12`; the full carné is reached only through the explicit
//! [`NationalId::reveal`].
//!
//! # Passwords
//! [`Password::parse`] applies NIST SP 800-63B's rules: 8 to 128 characters (Unicode scalar
//! values, counted after normalisation), no composition rules, and a refusal when the password
//! is among the 3,000 most used (case-insensitively; the list ships in `data/`). The text is
//! normalised to **NFKC** first, as SP 800-63B recommends, so that the same passphrase typed on
//! two keyboards (a precomposed `ñ`, or `n` followed by a combining tilde) is the same password.
//! At sign-in, what the person typed goes through [`PresentedSecret::parse`]: the same
//! normalisation, none of the policy, so a password that was acceptable when it was chosen still
//! signs in after the list grows.
//!
//! # Sign-in throttling and known devices
//! Counting failures per account and locking the account lets anyone lock anyone out: an
//! attacker who knows a person's phone number types ten wrong passwords and the person cannot
//! pay the electricity bill. So the lock ([`ThrottleState`]) applies only to attempts from
//! devices the account has not signed in from:
//!
//! - After a successful sign-in (with the second factor where the role requires one), the
//!   server sets a long-lived, `HttpOnly` device cookie holding a fresh [`DeviceToken`] and
//!   stores only its [`TokenHash`] with the account.
//! - At each sign-in attempt the caller hashes the device cookie, if any, and looks the hash up
//!   among the account's devices: found, the attempt is [`DeviceTrust::Known`]; otherwise
//!   [`DeviceTrust::Unknown`].
//! - Failures are counted separately for the two kinds. Ten failures from unknown devices
//!   within [`ThrottlePolicy::window_s`] lock unknown devices out for 30 minutes; the person's
//!   own phone, which holds a device cookie, still signs in. Failures from known devices have a
//!   counter and a lock of their own, so a stolen device cookie still gives only ten guesses
//!   per half hour.
//! - Addresses are deliberately not the proof of a known device: Cuban mobile data goes out
//!   through carrier-grade NAT, so thousands of people share an address, and an attacker can
//!   borrow one. Per-address rate limits belong to the HTTP edge, in addition to this.
//!
//! Timing does not reveal whether an account exists: for an unknown phone number the caller runs
//! [`CredentialHasher::verify_dummy`], which costs the same as a real verification.

mod confirmation;
mod date;
mod hashing;
mod national_id;
mod password;
mod phone;
mod recovery;
mod role;
mod sealing;
mod throttle;
mod token;
mod totp;

pub use confirmation::{CONFIRMATION_CODE_DIGITS, ConfirmationCode};
pub use date::{CalendarDate, DateError};
pub use hashing::{
    Argon2Config, CredentialError, CredentialHasher, NewSecret, PhcString, Secret, Verification,
};
pub use national_id::{NationalId, NationalIdError};
pub use password::{
    PASSWORD_CHARS_MAX, PASSWORD_CHARS_MIN, Password, PasswordError, Pin, PinError,
    PresentedSecret, is_common_password,
};
pub use phone::{PhoneNumber, PhoneNumberError};
pub use recovery::{
    RECOVERY_CODE_BITS, RECOVERY_CODES_MAX, RecoveryCode, RecoveryCodeError, RecoveryCodeHash,
    RecoveryCodes, find_recovery_code, redeem_recovery_code,
};
pub use role::{Role, RoleError};
pub use sealing::{SealError, SecretSealer};
pub use throttle::{DeviceTrust, FailureCounter, ThrottleDecision, ThrottlePolicy, ThrottleState};
pub use token::{
    CsrfToken, DeviceToken, SessionPolicy, SessionToken, TOKEN_CHARS, TokenError, TokenHash,
};
pub use totp::{TOTP_DIGITS, TOTP_STEP_S, TotpError, TotpSecret, totp_step};

/// Characters used to mask what must not be shown in full.
const MASK: char = '•';

mod sealed {
    /// Seals [`crate::Secret`]: only this crate's secret types can be hashed or verified, and
    /// their bytes cannot be read from outside, because this trait cannot be named there.
    pub trait Sealed {
        fn secret_bytes(&self) -> &[u8];
    }
}
