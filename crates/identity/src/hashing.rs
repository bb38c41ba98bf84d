use std::fmt;

use argon2::password_hash::{self, PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use rand_core::{CryptoRng, RngCore};

use crate::sealed::Sealed;

/// Something this crate can verify against a stored hash: a [`crate::Password`], a
/// [`crate::Pin`] or a [`crate::PresentedSecret`]. Sealed: its bytes cannot be read outside.
pub trait Secret: Sealed {}

/// A secret that may be hashed for storage: one that met the policy, a [`crate::Password`] or a
/// [`crate::Pin`], never a [`crate::PresentedSecret`].
pub trait NewSecret: Secret {}

/// Bytes of random salt per hash (RFC 9106 recommends 16).
const SALT_BYTES: usize = 16;
/// Bytes of Argon2 output (the `argon2` crate's default, and what a stored hash should have).
const OUTPUT_BYTES: usize = 32;
/// Longest PHC string accepted from storage; ours are about 100 characters.
const PHC_CHARS_MAX: usize = 512;
/// Bounds on the cost a stored hash may ask for, so that a corrupted or planted row cannot make
/// one verification take minutes or gigabytes: 1 GiB, 64 passes, 16 lanes.
const STORED_MEMORY_KIB_MAX: u32 = 1 << 20;
const STORED_ITERATIONS_MAX: u32 = 64;
const STORED_PARALLELISM_MAX: u32 = 16;

/// Argon2id's cost parameters. The default is OWASP's minimum for Argon2id (Password Storage
/// Cheat Sheet): 19,456 KiB of memory, 2 passes, 1 lane. Raise them when the servers allow;
/// hashes made with other parameters are reported by [`CredentialHasher::verify`] as needing a
/// rehash, and upgraded at the next sign-in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Argon2Config {
    pub memory_kib: u32,
    pub iterations: u32,
    pub parallelism: u32,
}

impl Argon2Config {
    /// OWASP's recommended minimum for Argon2id (m = 19 MiB, t = 2, p = 1).
    pub const OWASP: Argon2Config = Argon2Config {
        memory_kib: 19_456,
        iterations: 2,
        parallelism: 1,
    };

    /// Far below any safe setting: for tests only, where a hash must take microseconds.
    pub const INSECURE_FOR_TESTS: Argon2Config = Argon2Config {
        memory_kib: 64,
        iterations: 1,
        parallelism: 1,
    };
}

impl Default for Argon2Config {
    fn default() -> Self {
        Argon2Config::OWASP
    }
}

/// A password hash in the PHC string format (`$argon2id$v=19$m=19456,t=2,p=1$salt$hash`), as
/// stored. `Debug` shows the algorithm and parameters, not the salt and hash.
#[derive(Clone, PartialEq, Eq)]
pub struct PhcString(String);

impl PhcString {
    /// Reads a PHC string back from storage.
    pub fn parse(text: &str) -> Result<PhcString, CredentialError> {
        if text.len() > PHC_CHARS_MAX {
            return Err(CredentialError::MalformedHash);
        }
        PasswordHash::new(text).map_err(|_| CredentialError::MalformedHash)?;
        Ok(PhcString(text.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for PhcString {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // "", algorithm, version, parameters; then salt and hash, hidden.
        let shown: Vec<&str> = self.0.split('$').take(4).collect();
        write!(f, "PhcString(\"{}$…\")", shown.join("$"))
    }
}

/// A successful verification.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[must_use]
pub struct Verification {
    /// The stored hash was made with another algorithm, version or parameters than the
    /// hasher's: hash the secret again now, while it is at hand, and store the new hash.
    pub needs_rehash: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CredentialError {
    #[error("la contraseña o el PIN no es correcto")]
    Mismatch,
    #[error("el hash guardado no es una cadena PHC válida")]
    MalformedHash,
    #[error("el hash guardado usa un algoritmo que no se admite: «{algorithm}»")]
    UnsupportedAlgorithm { algorithm: String },
    #[error(
        "el hash guardado pide un coste fuera de los límites admitidos (m = {memory_kib} KiB, \
         t = {iterations}, p = {parallelism})"
    )]
    CostOutOfBounds {
        memory_kib: u32,
        iterations: u32,
        parallelism: u32,
    },
    #[error("los parámetros de Argon2 no son válidos: {reason}")]
    InvalidParameters { reason: String },
}

/// Hashes and verifies passwords and PINs with Argon2id.
#[derive(Debug)]
pub struct CredentialHasher {
    config: Argon2Config,
    params: Params,
    /// A hash of a fixed secret under this hasher's parameters, verified against for unknown
    /// accounts so that they cost as much time as known ones.
    dummy: PhcString,
}

impl CredentialHasher {
    /// A hasher for the given parameters. Costs one hash, to prepare [`Self::verify_dummy`].
    pub fn new(config: Argon2Config) -> Result<CredentialHasher, CredentialError> {
        let params = Params::new(
            config.memory_kib,
            config.iterations,
            config.parallelism,
            Some(OUTPUT_BYTES),
        )
        .map_err(|error| CredentialError::InvalidParameters {
            reason: error.to_string(),
        })?;
        // Any fixed salt serves: this hash protects nothing, it only costs time.
        let dummy_salt = SaltString::encode_b64(b"ceiba-dummy-salt")
            .map_err(|error| invalid_parameters(&error))?;
        let dummy = argon2id(&params)
            .hash_password(b"ceiba: no account has this password", &dummy_salt)
            .map_err(|error| invalid_parameters(&error))?;
        let dummy = PhcString(dummy.to_string());
        Ok(CredentialHasher {
            config,
            params,
            dummy,
        })
    }

    pub fn config(&self) -> Argon2Config {
        self.config
    }

    /// Hashes a new password or PIN with a fresh 16-byte salt from `rng`.
    pub fn hash<S, R>(&self, secret: &S, rng: &mut R) -> PhcString
    where
        S: NewSecret + ?Sized,
        R: CryptoRng + RngCore + ?Sized,
    {
        let mut salt = [0u8; SALT_BYTES];
        rng.fill_bytes(&mut salt);
        let salt = SaltString::encode_b64(&salt).expect("16 bytes are a valid salt");
        let hash = argon2id(&self.params)
            .hash_password(secret.secret_bytes(), &salt)
            .expect("parameters were checked by new() and secrets are at most 512 bytes");
        PhcString(hash.to_string())
    }

    /// Verifies a secret against a stored hash, in the time the stored hash's parameters cost.
    /// Argon2i and Argon2d hashes verify too, and are reported as needing a rehash, like
    /// Argon2id hashes with other parameters than this hasher's.
    pub fn verify<S>(&self, secret: &S, stored: &PhcString) -> Result<Verification, CredentialError>
    where
        S: Secret + ?Sized,
    {
        let parsed =
            PasswordHash::new(stored.as_str()).map_err(|_| CredentialError::MalformedHash)?;
        let algorithm = Algorithm::try_from(parsed.algorithm).map_err(|_| {
            CredentialError::UnsupportedAlgorithm {
                algorithm: parsed.algorithm.as_str().to_owned(),
            }
        })?;
        let params = Params::try_from(&parsed).map_err(|_| CredentialError::MalformedHash)?;
        if params.m_cost() > STORED_MEMORY_KIB_MAX
            || params.t_cost() > STORED_ITERATIONS_MAX
            || params.p_cost() > STORED_PARALLELISM_MAX
        {
            return Err(CredentialError::CostOutOfBounds {
                memory_kib: params.m_cost(),
                iterations: params.t_cost(),
                parallelism: params.p_cost(),
            });
        }
        // Argon2's verifier recomputes with the stored algorithm, version and parameters, and
        // compares the outputs in constant time.
        match Argon2::default().verify_password(secret.secret_bytes(), &parsed) {
            Ok(()) => {}
            Err(password_hash::Error::Password) => return Err(CredentialError::Mismatch),
            Err(_) => return Err(CredentialError::MalformedHash),
        }
        let salt_bytes = parsed.salt.map_or(0, |salt| salt.len() * 3 / 4);
        let output_bytes = parsed.hash.map_or(0, |hash| hash.len());
        let needs_rehash = algorithm != Algorithm::Argon2id
            || parsed.version != Some(Version::V0x13.into())
            || params.m_cost() != self.params.m_cost()
            || params.t_cost() != self.params.t_cost()
            || params.p_cost() != self.params.p_cost()
            || salt_bytes < SALT_BYTES
            || output_bytes != OUTPUT_BYTES;
        Ok(Verification { needs_rehash })
    }

    /// For a sign-in to an account that does not exist: spends the time of a real
    /// verification, then fails as a wrong password would, so that neither the answer nor its
    /// timing tells whether the account exists.
    pub fn verify_dummy<S>(&self, secret: &S) -> Result<Verification, CredentialError>
    where
        S: Secret + ?Sized,
    {
        // black_box keeps the work from being optimised away; the answer is a failure whatever
        // the work found.
        let _ = std::hint::black_box(self.verify(secret, &self.dummy));
        Err(CredentialError::Mismatch)
    }
}

fn argon2id(params: &Params) -> Argon2<'static> {
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone())
}

fn invalid_parameters(error: &password_hash::Error) -> CredentialError {
    CredentialError::InvalidParameters {
        reason: error.to_string(),
    }
}
