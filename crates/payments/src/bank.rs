//! The banks whose accounts feed and drain wallets.

/// A bank that settles cash-in and cash-out with Ceiba.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Bank {
    /// The short name people and the banks use: `BPA`, `BANDEC`, `BANMET`.
    pub code: &'static str,
    pub name: &'static str,
}

/// The banks of Transfermóvil.
pub const BANKS: &[Bank] = &[
    Bank {
        code: "BPA",
        name: "Banco Popular de Ahorro",
    },
    Bank {
        code: "BANDEC",
        name: "Banco de Crédito y Comercio",
    },
    Bank {
        code: "BANMET",
        name: "Banco Metropolitano",
    },
];

/// The bank with this code, in any case.
pub fn bank(code: &str) -> Option<&'static Bank> {
    let code = code.trim();
    BANKS
        .iter()
        .find(|bank| bank.code.eq_ignore_ascii_case(code))
}
