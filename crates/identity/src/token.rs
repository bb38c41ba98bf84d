use std::fmt;

use data_encoding::{BASE64URL_NOPAD, HEXLOWER};
use rand_core::{CryptoRng, RngCore};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use zeroize::Zeroizing;

/// Random bytes in a token: 256 bits.
const TOKEN_BYTES: usize = 32;
/// Characters of a token in base64url without padding: ⌈256 / 6⌉.
pub const TOKEN_CHARS: usize = 43;

/// SHA-256 of a token's 32 bytes: the only form in which storage keeps a token, so that a copy
/// of the database holds nothing that signs anyone in. A 256-bit random secret needs no salt
/// and no slow hash.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct TokenHash([u8; 32]);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TokenError {
    #[error("un token tiene 43 caracteres, y este tiene {length}")]
    WrongLength { length: usize },
    #[error("el token no está escrito en base64url canónico")]
    NotBase64Url,
    #[error("el hash de token guardado no tiene 64 cifras hexadecimales")]
    MalformedHash,
}

/// Defines a 256-bit random bearer token type; the kinds differ in purpose, not in shape, and
/// are distinct types so that a device cookie can never be taken for a session.
macro_rules! bearer_token {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        pub struct $name {
            bytes: Zeroizing<[u8; TOKEN_BYTES]>,
            text: Zeroizing<String>,
        }

        impl $name {
            /// 256 fresh random bits.
            pub fn generate<R>(rng: &mut R) -> $name
            where
                R: CryptoRng + RngCore + ?Sized,
            {
                let mut bytes = Zeroizing::new([0u8; TOKEN_BYTES]);
                rng.fill_bytes(&mut bytes[..]);
                let text = Zeroizing::new(BASE64URL_NOPAD.encode(&bytes[..]));
                $name { bytes, text }
            }

            /// Reads a token presented by a client: exactly 43 characters of canonical base64url
            /// without padding (the last character's unused bits zero), nothing else.
            pub fn parse(text: &str) -> Result<$name, TokenError> {
                if text.len() != TOKEN_CHARS {
                    return Err(TokenError::WrongLength {
                        length: text.chars().count(),
                    });
                }
                let decoded = Zeroizing::new(
                    BASE64URL_NOPAD
                        .decode(text.as_bytes())
                        .map_err(|_| TokenError::NotBase64Url)?,
                );
                let mut bytes = Zeroizing::new([0u8; TOKEN_BYTES]);
                if decoded.len() != TOKEN_BYTES {
                    return Err(TokenError::NotBase64Url);
                }
                bytes.copy_from_slice(&decoded);
                Ok($name {
                    bytes,
                    text: Zeroizing::new(text.to_owned()),
                })
            }

            /// The token's text, to hand to the client (a cookie, a response body) once.
            pub fn expose(&self) -> &str {
                &self.text
            }

            /// What storage keeps, and looks the token up by.
            pub fn hash(&self) -> TokenHash {
                TokenHash(Sha256::digest(&self.bytes[..]).into())
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(concat!(stringify!($name), "(<oculto>)"))
            }
        }
    };
}

bearer_token! {
    /// A session token (also used as an API token): 256 random bits, written as 43 characters
    /// of base64url. The client holds the token; the server holds only its [`TokenHash`].
    SessionToken
}

bearer_token! {
    /// A device token: set in a long-lived cookie after a successful sign-in, it makes that
    /// device a known one for sign-in throttling (see the crate documentation). Stored only as
    /// its [`TokenHash`].
    DeviceToken
}

bearer_token! {
    /// An anti-CSRF token: the value a form carries in a hidden field and the server compares
    /// with what only the cookie holder's session can produce. Before sign-in it is a fresh
    /// random value, set in a cookie as well (double submit); within a session it is
    /// [`SessionToken::csrf_token`]. Never stored.
    CsrfToken
}

/// Domain separation for [`SessionToken::csrf_token`]: the same token never hashes to the same
/// value for two purposes (storage keeps SHA-256 of the bare token).
const CSRF_DOMAIN: &[u8] = b"ceiba-csrf\0";

impl SessionToken {
    /// The anti-CSRF token of this session: SHA-256(`ceiba-csrf\0` ‖ the token's 32 bytes),
    /// in base64url. Any process that holds the session cookie's value can compute it, so it
    /// needs no storage and no key shared between processes; nobody else can, not even with a
    /// copy of the database (which keeps SHA-256 of the bare token, a different value), and
    /// it reveals nothing of the session token.
    pub fn csrf_token(&self) -> CsrfToken {
        let mut hasher = Sha256::new();
        hasher.update(CSRF_DOMAIN);
        hasher.update(&self.bytes[..]);
        let bytes: Zeroizing<[u8; TOKEN_BYTES]> = Zeroizing::new(hasher.finalize().into());
        let text = Zeroizing::new(BASE64URL_NOPAD.encode(&bytes[..]));
        CsrfToken { bytes, text }
    }
}

impl CsrfToken {
    /// Whether what a form or header presented is this token, compared in constant time so
    /// that the time of a refusal says nothing about how much of a guess was right.
    pub fn matches(&self, presented: &str) -> bool {
        let presented = presented.trim().as_bytes();
        presented.len() == self.text.len() && bool::from(presented.ct_eq(self.text.as_bytes()))
    }
}

impl Clone for CsrfToken {
    fn clone(&self) -> CsrfToken {
        CsrfToken {
            bytes: self.bytes.clone(),
            text: self.text.clone(),
        }
    }
}

impl TokenHash {
    pub fn from_bytes(bytes: [u8; 32]) -> TokenHash {
        TokenHash(bytes)
    }

    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// 64 lower-case hexadecimal digits.
    pub fn to_hex(&self) -> String {
        HEXLOWER.encode(&self.0)
    }

    pub fn parse_hex(text: &str) -> Result<TokenHash, TokenError> {
        let bytes = HEXLOWER
            .decode(text.to_ascii_lowercase().as_bytes())
            .map_err(|_| TokenError::MalformedHash)?;
        let bytes: [u8; 32] = bytes.try_into().map_err(|_| TokenError::MalformedHash)?;
        Ok(TokenHash(bytes))
    }
}

impl fmt::Debug for TokenHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "TokenHash({}…)", &self.to_hex()[..8])
    }
}

/// How long a session lasts. Defaults follow NIST SP 800-63B for AAL2, the level of a wallet
/// and of health records: sign in again after 30 minutes without activity, and at least every
/// 12 hours however active (a working day), so that a session left open on a shared computer
/// in a Joven Club or an office does not outlive its owner's attention.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionPolicy {
    pub idle_timeout_s: u64,
    pub absolute_timeout_s: u64,
}

impl Default for SessionPolicy {
    fn default() -> Self {
        SessionPolicy {
            idle_timeout_s: 30 * 60,
            absolute_timeout_s: 12 * 60 * 60,
        }
    }
}

impl SessionPolicy {
    /// Whether a session created at `created_at_s` and last used at `last_seen_at_s` is still
    /// valid at `now_s` (all Unix seconds). A `now_s` slightly before the others (clocks of two
    /// processes disagree by a second or two) counts as no time elapsed.
    pub fn is_valid(&self, created_at_s: u64, last_seen_at_s: u64, now_s: u64) -> bool {
        now_s < self.expires_at_s(created_at_s, last_seen_at_s)
    }

    /// The first second at which the session is no longer valid, unless it is used before: the
    /// earlier of the idle and the absolute deadline. For a cookie's lifetime.
    pub fn expires_at_s(&self, created_at_s: u64, last_seen_at_s: u64) -> u64 {
        let last_seen_at_s = last_seen_at_s.max(created_at_s);
        let idle_deadline = last_seen_at_s.saturating_add(self.idle_timeout_s);
        let absolute_deadline = created_at_s.saturating_add(self.absolute_timeout_s);
        idle_deadline.min(absolute_deadline)
    }
}
