//! Salud's mathematical models, fed by the surveillance data and run by the platform: the
//! reproduction number by the method of Cori et al. ([`rt`]), short-term forecasts from an
//! ensemble of growth models with their scores ([`growth`], [`forecast`]), a metapopulation
//! SEIR model ([`seir`]) and an agent-based model of the whole population ([`abm`]).
//!
//! Architecture Invariant: pure numerics. No IO, no clock, no async runtime, no SQL, no HTTP;
//! every random draw comes from a seed the caller gives, so a run is reproduced from its
//! parameters. Bad parameters are refused with an [`EpiError`] that names them, in Spanish.

pub mod abm;
pub mod forecast;
pub mod growth;
pub mod rt;
pub mod seir;

/// Why a model refused to run.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum EpiError {
    /// A parameter outside its domain: `name` is the parameter as the caller knows it.
    #[error("el parámetro «{name}» no es válido: {reason}")]
    InvalidParameter { name: &'static str, reason: String },
    /// The data cannot support the model (an empty territory, too few days).
    #[error("los datos no bastan: {0}")]
    InsufficientData(String),
}

impl EpiError {
    /// Shorthand for [`EpiError::InvalidParameter`].
    pub fn invalid(name: &'static str, reason: impl Into<String>) -> EpiError {
        EpiError::InvalidParameter {
            name,
            reason: reason.into(),
        }
    }
}
