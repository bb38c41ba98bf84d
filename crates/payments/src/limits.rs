//! How much a person may send and hold. The Central Bank of Cuba's Instruction 26/2022 caps
//! person-to-person transfers per day and per month (payments to businesses are not capped); a
//! person may set lower limits of their own; each wallet has a cap on its balance.
//!
//! The person-to-person limits are checked here, before the operation reaches the ledger, from
//! the amounts the caller has already counted ([`Usage`]). The wallet cap is enforced by the
//! ledger itself through the headroom accounts (see [`crate::plan`]); [`check_wallet_cap`] only
//! gives an early, friendlier answer.

use std::fmt;

use crate::money::{Currency, MINOR_PER_UNIT, Money, format_minor_es};

/// `whole` units in minor units, to write limits as the regulations do.
const fn units(whole: u64) -> u64 {
    whole * MINOR_PER_UNIT
}

/// Which limit an operation ran into.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LimitKind {
    DailyCentralBank,
    MonthlyCentralBank,
    DailyPersonal,
    MonthlyPersonal,
    WalletCap,
}

impl LimitKind {
    pub const ALL: [LimitKind; 5] = [
        LimitKind::DailyCentralBank,
        LimitKind::MonthlyCentralBank,
        LimitKind::DailyPersonal,
        LimitKind::MonthlyPersonal,
        LimitKind::WalletCap,
    ];

    /// The stable machine name, for error codes. Never change one.
    pub fn as_str(self) -> &'static str {
        match self {
            LimitKind::DailyCentralBank => "daily_central_bank",
            LimitKind::MonthlyCentralBank => "monthly_central_bank",
            LimitKind::DailyPersonal => "daily_personal",
            LimitKind::MonthlyPersonal => "monthly_personal",
            LimitKind::WalletCap => "wallet_cap",
        }
    }

    /// The limit's name in a Spanish sentence: «Supera el {label}».
    pub fn label_es(self) -> &'static str {
        match self {
            LimitKind::DailyCentralBank => "límite diario del Banco Central",
            LimitKind::MonthlyCentralBank => "límite mensual del Banco Central",
            LimitKind::DailyPersonal => "límite diario que usted fijó",
            LimitKind::MonthlyPersonal => "límite mensual que usted fijó",
            LimitKind::WalletCap => "tope de saldo de la billetera",
        }
    }

    pub fn label_en(self) -> &'static str {
        match self {
            LimitKind::DailyCentralBank => "Central Bank's daily limit",
            LimitKind::MonthlyCentralBank => "Central Bank's monthly limit",
            LimitKind::DailyPersonal => "daily limit you set",
            LimitKind::MonthlyPersonal => "monthly limit you set",
            LimitKind::WalletCap => "wallet's balance cap",
        }
    }
}

/// A day's and a month's person-to-person limit in one currency, in minor units.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct CurrencyLimits {
    pub daily_minor: u64,
    pub monthly_minor: u64,
}

/// Person-to-person limits for every currency.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Limits {
    per_currency: [CurrencyLimits; 3],
}

impl Limits {
    /// Instruction 26/2022 of the Central Bank of Cuba: 80,000 CUP a day and 120,000 CUP a
    /// month; 1,000 USD a day and 5,000 a month; MLC as USD.
    pub fn central_bank() -> Limits {
        let dollars = CurrencyLimits {
            daily_minor: units(1_000),
            monthly_minor: units(5_000),
        };
        Limits {
            per_currency: [
                CurrencyLimits {
                    daily_minor: units(80_000),
                    monthly_minor: units(120_000),
                },
                dollars,
                dollars,
            ],
        }
    }

    pub fn for_currency(&self, currency: Currency) -> CurrencyLimits {
        self.per_currency[currency.index()]
    }

    /// The same limits with `currency`'s replaced, for configuration.
    #[must_use]
    pub fn with(mut self, currency: Currency, limits: CurrencyLimits) -> Limits {
        self.per_currency[currency.index()] = limits;
        self
    }
}

impl Default for Limits {
    fn default() -> Limits {
        Limits::central_bank()
    }
}

/// The most each wallet may hold, per currency, in minor units.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct WalletCaps {
    per_currency: [u64; 3],
}

impl WalletCaps {
    /// 80,000.00 CUP, 5,000.00 USD, 5,000.00 MLC.
    pub fn default_caps() -> WalletCaps {
        WalletCaps {
            per_currency: [units(80_000), units(5_000), units(5_000)],
        }
    }

    /// The cap of `currency`, in minor units.
    pub fn cap(&self, currency: Currency) -> u64 {
        self.per_currency[currency.index()]
    }

    /// The same caps with `currency`'s replaced, for configuration. A changed cap applies to
    /// wallets opened afterwards: an open wallet's headroom was funded with the cap of its day.
    #[must_use]
    pub fn with(mut self, currency: Currency, cap_minor: u64) -> WalletCaps {
        self.per_currency[currency.index()] = cap_minor;
        self
    }
}

impl Default for WalletCaps {
    fn default() -> WalletCaps {
        WalletCaps::default_caps()
    }
}

/// Lower limits a person sets on their own person-to-person transfers in one currency; `None`
/// leaves the Central Bank's. Build with [`PersonalLimits::new`], which refuses a limit above the
/// Central Bank's; a value built by hand that is higher is harmless, as the Central Bank's limit
/// is checked first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct PersonalLimits {
    pub daily_minor: Option<u64>,
    pub monthly_minor: Option<u64>,
}

/// Why a personal limit was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum LimitError {
    #[error(
        "su límite diario ({}) no puede ser mayor que el del Banco Central ({})",
        format_minor_es(*.personal_minor),
        format_minor_es(*.central_bank_minor)
    )]
    DailyAboveCentralBank {
        personal_minor: u64,
        central_bank_minor: u64,
    },
    #[error(
        "su límite mensual ({}) no puede ser mayor que el del Banco Central ({})",
        format_minor_es(*.personal_minor),
        format_minor_es(*.central_bank_minor)
    )]
    MonthlyAboveCentralBank {
        personal_minor: u64,
        central_bank_minor: u64,
    },
}

impl PersonalLimits {
    /// Personal limits no higher than `central_bank`'s. Zero is allowed: it stops the person's
    /// transfers in that currency, a choice some make after losing a phone.
    pub fn new(
        daily_minor: Option<u64>,
        monthly_minor: Option<u64>,
        central_bank: &CurrencyLimits,
    ) -> Result<PersonalLimits, LimitError> {
        if let Some(personal_minor) = daily_minor
            && personal_minor > central_bank.daily_minor
        {
            return Err(LimitError::DailyAboveCentralBank {
                personal_minor,
                central_bank_minor: central_bank.daily_minor,
            });
        }
        if let Some(personal_minor) = monthly_minor
            && personal_minor > central_bank.monthly_minor
        {
            return Err(LimitError::MonthlyAboveCentralBank {
                personal_minor,
                central_bank_minor: central_bank.monthly_minor,
            });
        }
        Ok(PersonalLimits {
            daily_minor,
            monthly_minor,
        })
    }
}

/// Person-to-person amounts a person has already sent in the currency of the operation, in the
/// current day and the current month, including operations still in flight.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Usage {
    pub today_minor: u64,
    pub month_minor: u64,
}

/// An operation refused by a limit: which one, the limit and what is left under it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct LimitRefusal {
    pub kind: LimitKind,
    pub limit_minor: u64,
    pub remaining_minor: u64,
    pub currency: Currency,
}

impl fmt::Display for LimitRefusal {
    /// «Supera el límite diario del Banco Central (80.000,00 CUP); le quedan 1.500,00 CUP hoy.»
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let limit = Money::from_minor(self.limit_minor, self.currency);
        let remaining = Money::from_minor(self.remaining_minor, self.currency);
        let label = self.kind.label_es();
        match self.kind {
            LimitKind::DailyCentralBank | LimitKind::DailyPersonal => {
                write!(f, "Supera el {label} ({limit}); le quedan {remaining} hoy.")
            }
            LimitKind::MonthlyCentralBank | LimitKind::MonthlyPersonal => {
                write!(
                    f,
                    "Supera el {label} ({limit}); le quedan {remaining} este mes."
                )
            }
            LimitKind::WalletCap => write!(
                f,
                "Supera el {label} ({limit}); la billetera puede recibir {remaining} más."
            ),
        }
    }
}

impl LimitRefusal {
    /// The refusal for English pages: «Over the Central Bank's daily limit (80,000.00 CUP);
    /// 1,500.00 CUP left today.»
    pub fn english(&self) -> String {
        let limit = Money::from_minor(self.limit_minor, self.currency).english();
        let remaining = Money::from_minor(self.remaining_minor, self.currency).english();
        let label = self.kind.label_en();
        match self.kind {
            LimitKind::DailyCentralBank | LimitKind::DailyPersonal => {
                format!("Over the {label} ({limit}); {remaining} left today.")
            }
            LimitKind::MonthlyCentralBank | LimitKind::MonthlyPersonal => {
                format!("Over the {label} ({limit}); {remaining} left this month.")
            }
            LimitKind::WalletCap => {
                format!("Over the {label} ({limit}); the wallet can take {remaining} more.")
            }
        }
    }
}

impl std::error::Error for LimitRefusal {}

/// Refuses a person-to-person transfer of `amount` that, added to `usage`, would pass a limit.
/// Checked in this order: the Central Bank's daily limit, its monthly limit, then the person's
/// daily and monthly limits. Reaching a limit exactly is allowed.
pub fn check_person_to_person(
    limits: &Limits,
    personal: Option<&PersonalLimits>,
    usage: Usage,
    amount: Money,
) -> Result<(), LimitRefusal> {
    let central_bank = limits.for_currency(amount.currency);
    let personal = personal.copied().unwrap_or_default();
    let checks = [
        (
            LimitKind::DailyCentralBank,
            Some(central_bank.daily_minor),
            usage.today_minor,
        ),
        (
            LimitKind::MonthlyCentralBank,
            Some(central_bank.monthly_minor),
            usage.month_minor,
        ),
        (
            LimitKind::DailyPersonal,
            personal.daily_minor,
            usage.today_minor,
        ),
        (
            LimitKind::MonthlyPersonal,
            personal.monthly_minor,
            usage.month_minor,
        ),
    ];
    for (kind, limit_minor, used_minor) in checks {
        if let Some(limit_minor) = limit_minor {
            check_one(kind, limit_minor, used_minor, amount)?;
        }
    }
    Ok(())
}

/// Refuses a credit of `amount` to a wallet holding `balance` that would pass its cap. The
/// ledger enforces the cap regardless; this answers before the operation is submitted.
pub fn check_wallet_cap(
    caps: &WalletCaps,
    balance: Money,
    amount: Money,
) -> Result<(), LimitRefusal> {
    check_one(
        LimitKind::WalletCap,
        caps.cap(amount.currency),
        balance.minor,
        amount,
    )
}

fn check_one(
    kind: LimitKind,
    limit_minor: u64,
    used_minor: u64,
    amount: Money,
) -> Result<(), LimitRefusal> {
    if used_minor.saturating_add(amount.minor) <= limit_minor {
        return Ok(());
    }
    Err(LimitRefusal {
        kind,
        limit_minor,
        remaining_minor: limit_minor.saturating_sub(used_minor),
        currency: amount.currency,
    })
}
