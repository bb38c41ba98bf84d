use std::fmt;
use std::str::FromStr;

/// What a person may do on Ceiba. A person may hold several roles; each is granted separately.
///
/// Deliberately not `#[non_exhaustive]`: a new role must break every `match` on roles, so that
/// each permission check is revisited rather than falling into a wildcard arm.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Role {
    /// Everyone with an account: pays, tops up, reads public health data.
    Citizen,
    /// Accepts payments at a point of sale or online.
    Merchant,
    /// Issues bills that citizens pay (electricity, water, telephone).
    Biller,
    /// Works at a bank: reconciles transfers, answers disputes.
    BankOperator,
    /// Reports cases and laboratory results.
    HealthWorker,
    /// Reads case records to analyse outbreaks.
    Epidemiologist,
    /// Writes wiki pages.
    Editor,
    /// Reviews wiki edits before they are published.
    Reviewer,
    /// Grants roles and manages the platform.
    Administrator,
    /// Reads the audit log.
    Auditor,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RoleError {
    #[error("«{name}» no es un rol conocido")]
    Unknown { name: String },
}

/// Longest unknown name echoed back in an error.
const ECHO_CHARS_MAX: usize = 40;

impl Role {
    /// Every role, in a stable order.
    pub const ALL: [Role; 10] = [
        Role::Citizen,
        Role::Merchant,
        Role::Biller,
        Role::BankOperator,
        Role::HealthWorker,
        Role::Epidemiologist,
        Role::Editor,
        Role::Reviewer,
        Role::Administrator,
        Role::Auditor,
    ];

    /// The stable machine name, as stored and as used in the API. Never change one.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Citizen => "citizen",
            Role::Merchant => "merchant",
            Role::Biller => "biller",
            Role::BankOperator => "bank_operator",
            Role::HealthWorker => "health_worker",
            Role::Epidemiologist => "epidemiologist",
            Role::Editor => "editor",
            Role::Reviewer => "reviewer",
            Role::Administrator => "administrator",
            Role::Auditor => "auditor",
        }
    }

    /// Reads a machine name (exactly as [`Role::as_str`] writes it).
    pub fn parse(name: &str) -> Result<Role, RoleError> {
        Role::ALL
            .into_iter()
            .find(|role| role.as_str() == name)
            .ok_or_else(|| RoleError::Unknown {
                name: name.chars().take(ECHO_CHARS_MAX).collect(),
            })
    }

    /// The name shown to Spanish readers.
    pub fn label_es(self) -> &'static str {
        match self {
            Role::Citizen => "Ciudadano",
            Role::Merchant => "Comerciante",
            Role::Biller => "Emisor de facturas",
            Role::BankOperator => "Operador bancario",
            Role::HealthWorker => "Trabajador de la salud",
            Role::Epidemiologist => "Epidemiólogo",
            Role::Editor => "Editor",
            Role::Reviewer => "Revisor",
            Role::Administrator => "Administrador",
            Role::Auditor => "Auditor",
        }
    }

    /// The name shown to English readers.
    pub fn label_en(self) -> &'static str {
        match self {
            Role::Citizen => "Citizen",
            Role::Merchant => "Merchant",
            Role::Biller => "Biller",
            Role::BankOperator => "Bank operator",
            Role::HealthWorker => "Health worker",
            Role::Epidemiologist => "Epidemiologist",
            Role::Editor => "Editor",
            Role::Reviewer => "Reviewer",
            Role::Administrator => "Administrator",
            Role::Auditor => "Auditor",
        }
    }

    /// Whether signing in with this role needs a second factor (TOTP or a recovery code): the
    /// roles that move other people's money, read health records, or grant roles.
    pub fn requires_second_factor(self) -> bool {
        match self {
            Role::Merchant
            | Role::Biller
            | Role::BankOperator
            | Role::HealthWorker
            | Role::Epidemiologist
            | Role::Administrator => true,
            Role::Citizen | Role::Editor | Role::Reviewer | Role::Auditor => false,
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Role {
    type Err = RoleError;

    fn from_str(name: &str) -> Result<Role, RoleError> {
        Role::parse(name)
    }
}
