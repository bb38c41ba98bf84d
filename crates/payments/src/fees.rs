//! What an operation costs: a fixed part plus a proportion, rounded half up to the centavo and
//! held between a minimum and a maximum.

use crate::money::{Currency, Money};
use crate::operation::OperationKind;

/// Basis points in one whole: 10,000 basis points are 100 %.
const BASIS_POINTS_PER_WHOLE: u128 = 10_000;

/// How a fee is computed, in the minor units of the amount's currency.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct FeeRule {
    pub fixed_minor: u64,
    /// Hundredths of a percent of the amount: 150 is 1.5 %.
    pub basis_points: u32,
    pub min_minor: u64,
    /// `None`: no maximum. When a maximum is below the minimum, the maximum wins.
    pub max_minor: Option<u64>,
}

impl FeeRule {
    /// No fee at all.
    pub const FREE: FeeRule = FeeRule {
        fixed_minor: 0,
        basis_points: 0,
        min_minor: 0,
        max_minor: None,
    };

    /// `fixed + amount × basis_points / 10,000` (the proportion rounded half up to the centavo),
    /// then raised to the minimum and lowered to the maximum.
    pub fn fee_minor(&self, amount_minor: u64) -> u64 {
        let scaled = u128::from(amount_minor) * u128::from(self.basis_points);
        let proportional = (scaled + BASIS_POINTS_PER_WHOLE / 2) / BASIS_POINTS_PER_WHOLE;
        let mut fee = u128::from(self.fixed_minor) + proportional;
        fee = fee.max(u128::from(self.min_minor));
        if let Some(max_minor) = self.max_minor {
            fee = fee.min(u128::from(max_minor));
        }
        u64::try_from(fee).unwrap_or(u64::MAX)
    }
}

/// A fee rule per operation kind and currency. A fixed fee of 500 minor units is 5 CUP or 5 USD,
/// which are not the same thing, so a rule can be set for one currency
/// ([`FeeSchedule::with_currency`]) as well as for all ([`FeeSchedule::with`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct FeeSchedule {
    rules: [[FeeRule; 3]; OperationKind::ALL.len()],
}

impl FeeSchedule {
    /// Every operation free, as Transfermóvil's transfers between people are.
    pub fn none() -> FeeSchedule {
        FeeSchedule {
            rules: [[FeeRule::FREE; 3]; OperationKind::ALL.len()],
        }
    }

    /// The same schedule with `kind`'s rule replaced in every currency.
    #[must_use]
    pub fn with(mut self, kind: OperationKind, rule: FeeRule) -> FeeSchedule {
        self.rules[kind.index()] = [rule; 3];
        self
    }

    /// The same schedule with `kind`'s rule replaced in `currency` only.
    #[must_use]
    pub fn with_currency(
        mut self,
        kind: OperationKind,
        currency: Currency,
        rule: FeeRule,
    ) -> FeeSchedule {
        self.rules[kind.index()][currency.index()] = rule;
        self
    }

    pub fn rule(&self, kind: OperationKind, currency: Currency) -> FeeRule {
        self.rules[kind.index()][currency.index()]
    }

    /// The fee of an operation of `kind` for `amount`, in the amount's currency.
    pub fn fee(&self, kind: OperationKind, amount: Money) -> Money {
        let rule = self.rule(kind, amount.currency);
        Money::from_minor(rule.fee_minor(amount.minor), amount.currency)
    }
}

impl Default for FeeSchedule {
    fn default() -> FeeSchedule {
        FeeSchedule::none()
    }
}
