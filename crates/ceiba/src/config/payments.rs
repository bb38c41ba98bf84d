//! The `[payments]` section: the Central Bank's person-to-person limits, wallet caps, fees per
//! operation kind and currency, and how long a payment to a biller is held.
//!
//! Amounts are decimal text in pesos (or dollars) as `ceiba_payments::Money::parse` reads them:
//! `"80000"`, `"12.50"` or `"12,50"`, never a thousands separator (`"80.000"` is refused, not
//! read as 80). A bare TOML number (`cup_daily = 80000`) is read the same way. Percentages have
//! at most two decimals (`"0.5"` is half a percent).
//!
//! ```toml
//! [payments]
//! hold_timeout_s = 300
//! settlement_window_s = 3600   # banks settle with Ceiba once per window (a divisor of a day)
//!
//! [payments.limits]            # person to person, per day and per month
//! cup_daily = "80000"
//! cup_monthly = "120000"
//!
//! [payments.caps]              # the most a wallet may hold
//! cup = "80000"
//!
//! [payments.fees.person_to_person]
//! cup = { fixed = "1", percent = "0.5", min = "0", max = "50" }   # max "": no maximum
//! ```

use std::fmt;

use ceiba_payments::{
    AmountError, Currency, CurrencyLimits, FeeRule, FeeSchedule, Limits, MINOR_PER_UNIT, Money,
    OperationKind, WalletCaps, format_minor_es,
};
use serde::{Deserialize, Serialize};

/// The longest a payment to a biller may stay held: a day. A biller answers within seconds;
/// beyond a day the person's money would be out of reach for no reason.
pub const HOLD_TIMEOUT_S_CAP: u64 = 24 * 60 * 60;
/// The largest fee proportion: the whole amount. Anything above is a typo.
const PERCENT_BASIS_POINTS_MAX: u64 = 10_000;

/// The operation kinds that may carry a fee, with their configuration key. Cash in and out at a
/// bank's counter are free (the bank charges, if anyone does), so they have none.
pub const FEE_KINDS: [OperationKind; 4] = [
    OperationKind::PersonToPerson,
    OperationKind::BillPayment,
    OperationKind::TaxPayment,
    OperationKind::TopUp,
];

/// The path of every amount and percentage of the section, for reading them from the
/// environment as written (see the `config` module).
pub fn decimal_paths() -> Vec<Vec<String>> {
    let path = |parts: &[&str]| parts.iter().map(|part| (*part).to_owned()).collect();
    let mut paths = Vec::new();
    for currency in Currency::ALL {
        let currency = key_of(currency);
        for window in ["daily", "monthly"] {
            paths.push(path(&[
                "payments",
                "limits",
                &format!("{currency}_{window}"),
            ]));
        }
        paths.push(path(&["payments", "caps", &currency]));
        for kind in FEE_KINDS {
            for part in ["fixed", "percent", "min", "max"] {
                paths.push(path(&["payments", "fees", kind.as_str(), &currency, part]));
            }
        }
    }
    paths
}

/// Decimal text as written; a number in TOML or an environment variable is taken as its text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct DecimalText(pub String);

impl<'de> Deserialize<'de> for DecimalText {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<DecimalText, D::Error> {
        struct Visitor;
        impl serde::de::Visitor<'_> for Visitor {
            type Value = DecimalText;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("un importe como \"80000\" o \"12.50\"")
            }
            fn visit_str<E: serde::de::Error>(self, text: &str) -> Result<DecimalText, E> {
                Ok(DecimalText(text.to_owned()))
            }
            fn visit_u64<E: serde::de::Error>(self, number: u64) -> Result<DecimalText, E> {
                Ok(DecimalText(number.to_string()))
            }
            fn visit_i64<E: serde::de::Error>(self, number: i64) -> Result<DecimalText, E> {
                Ok(DecimalText(number.to_string()))
            }
            fn visit_f64<E: serde::de::Error>(self, number: f64) -> Result<DecimalText, E> {
                // Rust writes the shortest text that reads back as the same number: 12.5, 0.1.
                Ok(DecimalText(number.to_string()))
            }
        }
        deserializer.deserialize_any(Visitor)
    }
}

impl DecimalText {
    fn minor(minor: u64) -> DecimalText {
        DecimalText(plain(minor))
    }
}

/// `80000.00`: minor units as plain decimal text, readable back by `Money::parse`.
fn plain(minor: u64) -> String {
    format!("{}.{:02}", minor / MINOR_PER_UNIT, minor % MINOR_PER_UNIT)
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawPayments {
    /// Seconds a payment to a biller stays held for the biller's answer before the ledger gives
    /// the money back.
    pub hold_timeout_s: u64,
    /// Seconds of one settlement window between the banks and Ceiba; a day is a whole number
    /// of them.
    pub settlement_window_s: u64,
    pub limits: RawLimits,
    pub caps: RawCaps,
    pub fees: RawFees,
}

/// Person-to-person limits per currency, per day and per month.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawLimits {
    pub cup_daily: DecimalText,
    pub cup_monthly: DecimalText,
    pub usd_daily: DecimalText,
    pub usd_monthly: DecimalText,
    pub mlc_daily: DecimalText,
    pub mlc_monthly: DecimalText,
}

/// The most each wallet may hold.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawCaps {
    pub cup: DecimalText,
    pub usd: DecimalText,
    pub mlc: DecimalText,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawFees {
    pub person_to_person: RawFeeByCurrency,
    pub bill_payment: RawFeeByCurrency,
    pub tax_payment: RawFeeByCurrency,
    pub top_up: RawFeeByCurrency,
}

/// A fee rule per currency: a fixed 1.00 is one peso or one dollar, which are not alike.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawFeeByCurrency {
    pub cup: RawFeeRule,
    pub usd: RawFeeRule,
    pub mlc: RawFeeRule,
}

/// `fixed + percent × amount`, then raised to `min` and lowered to `max` (empty: no maximum).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawFeeRule {
    pub fixed: DecimalText,
    pub percent: DecimalText,
    pub min: DecimalText,
    pub max: DecimalText,
}

impl RawFeeRule {
    fn from_rule(rule: FeeRule) -> RawFeeRule {
        RawFeeRule {
            fixed: DecimalText::minor(rule.fixed_minor),
            percent: DecimalText::minor(u64::from(rule.basis_points)),
            min: DecimalText::minor(rule.min_minor),
            max: DecimalText(rule.max_minor.map(plain).unwrap_or_default()),
        }
    }
}

impl RawFees {
    fn kind_mut(&mut self, kind: OperationKind) -> Option<&mut RawFeeByCurrency> {
        match kind {
            OperationKind::PersonToPerson => Some(&mut self.person_to_person),
            OperationKind::BillPayment => Some(&mut self.bill_payment),
            OperationKind::TaxPayment => Some(&mut self.tax_payment),
            OperationKind::TopUp => Some(&mut self.top_up),
            _ => None,
        }
    }

    fn kind(&self, kind: OperationKind) -> Option<&RawFeeByCurrency> {
        match kind {
            OperationKind::PersonToPerson => Some(&self.person_to_person),
            OperationKind::BillPayment => Some(&self.bill_payment),
            OperationKind::TaxPayment => Some(&self.tax_payment),
            OperationKind::TopUp => Some(&self.top_up),
            _ => None,
        }
    }
}

impl RawFeeByCurrency {
    fn currency(&self, currency: Currency) -> &RawFeeRule {
        match currency {
            Currency::Cup => &self.cup,
            Currency::Usd => &self.usd,
            Currency::Mlc => &self.mlc,
        }
    }

    fn currency_mut(&mut self, currency: Currency) -> &mut RawFeeRule {
        match currency {
            Currency::Cup => &mut self.cup,
            Currency::Usd => &mut self.usd,
            Currency::Mlc => &mut self.mlc,
        }
    }
}

/// The lower-case key of a currency: `cup`, `usd`, `mlc`.
fn key_of(currency: Currency) -> String {
    currency.code().to_ascii_lowercase()
}

/// The `[payments]` section, parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PaymentsConfig {
    pub limits: Limits,
    pub caps: WalletCaps,
    pub fees: FeeSchedule,
    pub hold_timeout_s: u32,
    pub settlement_window_s: u32,
}

impl Default for PaymentsConfig {
    /// Instruction 26/2022 of the Central Bank, the launch caps (80,000 CUP, 5,000 USD and MLC),
    /// no fees, five minutes' hold: what `PaymentSettings::standard` has.
    fn default() -> PaymentsConfig {
        let standard = ceiba_web::payments::PaymentSettings::standard([0; 32]);
        PaymentsConfig {
            limits: standard.limits,
            caps: standard.caps,
            fees: standard.fees,
            hold_timeout_s: standard.hold_timeout_s,
            settlement_window_s: standard.settlement_window_s,
        }
    }
}

impl Default for RawPayments {
    fn default() -> RawPayments {
        PaymentsConfig::default().to_raw()
    }
}

impl PaymentsConfig {
    /// The configuration as it would be written, for the defaults and `ceiba config`.
    pub fn to_raw(&self) -> RawPayments {
        let limit = |currency: Currency| self.limits.for_currency(currency);
        let free = RawFeeRule::from_rule(FeeRule::FREE);
        let free_everywhere = RawFeeByCurrency {
            cup: free.clone(),
            usd: free.clone(),
            mlc: free,
        };
        let mut fees = RawFees {
            person_to_person: free_everywhere.clone(),
            bill_payment: free_everywhere.clone(),
            tax_payment: free_everywhere.clone(),
            top_up: free_everywhere,
        };
        for kind in FEE_KINDS {
            for currency in Currency::ALL {
                if let Some(by_currency) = fees.kind_mut(kind) {
                    *by_currency.currency_mut(currency) =
                        RawFeeRule::from_rule(self.fees.rule(kind, currency));
                }
            }
        }
        RawPayments {
            hold_timeout_s: u64::from(self.hold_timeout_s),
            settlement_window_s: u64::from(self.settlement_window_s),
            limits: RawLimits {
                cup_daily: DecimalText::minor(limit(Currency::Cup).daily_minor),
                cup_monthly: DecimalText::minor(limit(Currency::Cup).monthly_minor),
                usd_daily: DecimalText::minor(limit(Currency::Usd).daily_minor),
                usd_monthly: DecimalText::minor(limit(Currency::Usd).monthly_minor),
                mlc_daily: DecimalText::minor(limit(Currency::Mlc).daily_minor),
                mlc_monthly: DecimalText::minor(limit(Currency::Mlc).monthly_minor),
            },
            caps: RawCaps {
                cup: DecimalText::minor(self.caps.cap(Currency::Cup)),
                usd: DecimalText::minor(self.caps.cap(Currency::Usd)),
                mlc: DecimalText::minor(self.caps.cap(Currency::Mlc)),
            },
            fees,
        }
    }

    /// Pagos' settings for the web crate, with the key that makes receipt codes.
    pub fn settings(&self, receipt_key: [u8; 32]) -> ceiba_web::payments::PaymentSettings {
        let mut settings = ceiba_web::payments::PaymentSettings::standard(receipt_key);
        settings.limits = self.limits;
        settings.caps = self.caps;
        settings.fees = self.fees;
        settings.hold_timeout_s = self.hold_timeout_s;
        settings.settlement_window_s = self.settlement_window_s;
        settings
    }

    /// The section as TOML, every value shown (fees as one inline table per currency).
    pub fn to_toml(&self) -> String {
        let raw = self.to_raw();
        let quote = |text: &DecimalText| format!("{:?}", text.0);
        let mut toml = format!(
            "[payments]\nhold_timeout_s = {}\nsettlement_window_s = {}\n\n\
             [payments.limits]\ncup_daily = {}\ncup_monthly = {}\nusd_daily = {}\n\
             usd_monthly = {}\nmlc_daily = {}\nmlc_monthly = {}\n\n\
             [payments.caps]\ncup = {}\nusd = {}\nmlc = {}\n",
            raw.hold_timeout_s,
            raw.settlement_window_s,
            quote(&raw.limits.cup_daily),
            quote(&raw.limits.cup_monthly),
            quote(&raw.limits.usd_daily),
            quote(&raw.limits.usd_monthly),
            quote(&raw.limits.mlc_daily),
            quote(&raw.limits.mlc_monthly),
            quote(&raw.caps.cup),
            quote(&raw.caps.usd),
            quote(&raw.caps.mlc),
        );
        for kind in FEE_KINDS {
            let Some(by_currency) = raw.fees.kind(kind) else {
                continue;
            };
            toml.push_str(&format!("\n[payments.fees.{}]\n", kind.as_str()));
            for currency in Currency::ALL {
                let rule = by_currency.currency(currency);
                toml.push_str(&format!(
                    "{} = {{ fixed = {}, percent = {}, min = {}, max = {} }}\n",
                    key_of(currency),
                    quote(&rule.fixed),
                    quote(&rule.percent),
                    quote(&rule.min),
                    quote(&rule.max),
                ));
            }
        }
        toml
    }
}

/// Parses the section; `refuse(key, reason)` builds the one-sentence refusal naming the key and
/// its source.
pub fn parse(
    raw: &RawPayments,
    refuse: &dyn Fn(&str, String) -> anyhow::Error,
) -> anyhow::Result<PaymentsConfig> {
    let hold_timeout_s = match u32::try_from(raw.hold_timeout_s) {
        Ok(seconds) if (1..=HOLD_TIMEOUT_S_CAP).contains(&raw.hold_timeout_s) => seconds,
        _ => {
            return Err(refuse(
                "payments.hold_timeout_s",
                format!(
                    "debe estar entre 1 y {HOLD_TIMEOUT_S_CAP} segundos, no {}",
                    raw.hold_timeout_s
                ),
            ));
        }
    };
    // Windows must tile a day, so every day's windows start at the same hours.
    let settlement_window_s = match u32::try_from(raw.settlement_window_s) {
        Ok(seconds) if seconds >= 60 && 86_400 % seconds == 0 => seconds,
        _ => {
            return Err(refuse(
                "payments.settlement_window_s",
                format!(
                    "debe dividir un día (86400) en ventanas de al menos 60 segundos, como 3600; \
                     no {}",
                    raw.settlement_window_s
                ),
            ));
        }
    };

    let positive = |key: &str, text: &DecimalText, currency: Currency| -> anyhow::Result<u64> {
        Money::parse(&text.0, currency)
            .map(|money| money.minor)
            .map_err(|error| {
                refuse(
                    key,
                    format!("no es un importe válido («{}»): {error}", text.0),
                )
            })
    };
    let mut limits = Limits::central_bank();
    let mut caps = WalletCaps::default_caps();
    for currency in Currency::ALL {
        let (daily, monthly) = match currency {
            Currency::Cup => (&raw.limits.cup_daily, &raw.limits.cup_monthly),
            Currency::Usd => (&raw.limits.usd_daily, &raw.limits.usd_monthly),
            Currency::Mlc => (&raw.limits.mlc_daily, &raw.limits.mlc_monthly),
        };
        let daily_key = format!("payments.limits.{}_daily", key_of(currency));
        let monthly_key = format!("payments.limits.{}_monthly", key_of(currency));
        let daily_minor = positive(&daily_key, daily, currency)?;
        let monthly_minor = positive(&monthly_key, monthly, currency)?;
        if daily_minor > monthly_minor {
            return Err(refuse(
                &daily_key,
                format!(
                    "es mayor ({}) que el límite mensual «{monthly_key}» ({}): en un día no \
                     puede permitirse más que en el mes",
                    format_minor_es(daily_minor),
                    format_minor_es(monthly_minor)
                ),
            ));
        }
        limits = limits.with(
            currency,
            CurrencyLimits {
                daily_minor,
                monthly_minor,
            },
        );
        let cap = match currency {
            Currency::Cup => &raw.caps.cup,
            Currency::Usd => &raw.caps.usd,
            Currency::Mlc => &raw.caps.mlc,
        };
        caps = caps.with(
            currency,
            positive(
                &format!("payments.caps.{}", key_of(currency)),
                cap,
                currency,
            )?,
        );
    }

    // Fee amounts may be zero (no fixed part, no minimum).
    let amount = |key: &str, text: &DecimalText, currency: Currency| -> anyhow::Result<u64> {
        match Money::parse(&text.0, currency) {
            Ok(money) => Ok(money.minor),
            Err(AmountError::Zero) => Ok(0),
            Err(error) => Err(refuse(
                key,
                format!("no es un importe válido («{}»): {error}", text.0),
            )),
        }
    };
    let mut fees = FeeSchedule::none();
    for kind in FEE_KINDS {
        let Some(by_currency) = raw.fees.kind(kind) else {
            continue;
        };
        for currency in Currency::ALL {
            let rule = by_currency.currency(currency);
            let prefix = format!("payments.fees.{}.{}", kind.as_str(), key_of(currency));
            let fixed_minor = amount(&format!("{prefix}.fixed"), &rule.fixed, currency)?;
            let min_minor = amount(&format!("{prefix}.min"), &rule.min, currency)?;
            let max_minor = if rule.max.0.trim().is_empty() {
                None
            } else {
                Some(amount(&format!("{prefix}.max"), &rule.max, currency)?)
            };
            // Hundredths of a percent are basis points: "0.5" (%) is 50, as Money reads
            // "0.5" (pesos) as 50 centavos.
            let basis_points = match Money::parse(&rule.percent.0, currency) {
                Ok(money) if money.minor <= PERCENT_BASIS_POINTS_MAX => Some(money.minor),
                Err(AmountError::Zero) => Some(0),
                _ => None,
            }
            .and_then(|points| u32::try_from(points).ok())
            .ok_or_else(|| {
                refuse(
                    &format!("{prefix}.percent"),
                    format!(
                        "no es un porcentaje válido («{}»): escriba de 0 a 100, con dos \
                         decimales como mucho, por ejemplo «0.5»",
                        rule.percent.0
                    ),
                )
            })?;
            if let Some(max) = max_minor
                && max < min_minor
            {
                return Err(refuse(
                    &format!("{prefix}.max"),
                    format!(
                        "es menor ({}) que el mínimo «{prefix}.min» ({})",
                        format_minor_es(max),
                        format_minor_es(min_minor)
                    ),
                ));
            }
            fees = fees.with_currency(
                kind,
                currency,
                FeeRule {
                    fixed_minor,
                    basis_points,
                    min_minor,
                    max_minor,
                },
            );
        }
    }
    Ok(PaymentsConfig {
        limits,
        caps,
        fees,
        hold_timeout_s,
        settlement_window_s,
    })
}
