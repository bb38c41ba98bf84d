//! The `[salud]` section: the thresholds of outbreak detection and how far back a new signal
//! is still sent to the province's epidemiologists.
//!
//! ```toml
//! [salud.alerts]
//! ears_threshold = 3.0          # C1 and C2: standard deviations over the baseline mean
//! c3_threshold = 2.0            # C3: the sum of the last three days' C2 excesses
//! sd_floor = 1.0                # the least standard deviation a baseline counts as (cases)
//! min_cases = 3                 # no EARS signal on a day with fewer cases
//! incidence_14d_per_100k = 50.0 # the 14-day incidence whose crossing is signalled
//! notify_days = 3               # signals about the last N days are sent by SMS
//! ```

use ceiba_surveillance::alerts::AlertSettings;
use serde::{Deserialize, Serialize};

/// Most days back a signal is still sent: a season. Older ones are only stored.
pub const NOTIFY_DAYS_CAP: u64 = 120;
/// The largest `min_cases`: beyond it no municipality could ever signal.
const MIN_CASES_CAP: u64 = 10_000;
/// The largest threshold in standard deviations or per 100,000 people worth writing.
const THRESHOLD_CAP: f64 = 100_000.0;

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSalud {
    pub alerts: RawAlerts,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawAlerts {
    pub ears_threshold: f64,
    pub c3_threshold: f64,
    pub sd_floor: f64,
    pub min_cases: u64,
    pub incidence_14d_per_100k: f64,
    pub notify_days: u64,
}

impl Default for RawSalud {
    fn default() -> RawSalud {
        SaludConfig::default().to_raw()
    }
}

/// The `[salud]` section, parsed.
#[derive(Debug, Clone, PartialEq)]
pub struct SaludConfig {
    pub alerts: AlertSettings,
    /// New signals about the last this many days are sent by SMS.
    pub notify_days: u32,
}

impl Default for SaludConfig {
    fn default() -> SaludConfig {
        SaludConfig {
            alerts: AlertSettings::default(),
            notify_days: 3,
        }
    }
}

impl SaludConfig {
    pub fn to_raw(&self) -> RawSalud {
        RawSalud {
            alerts: RawAlerts {
                ears_threshold: self.alerts.ears_threshold,
                c3_threshold: self.alerts.c3_threshold,
                sd_floor: self.alerts.sd_floor,
                min_cases: self.alerts.min_cases,
                incidence_14d_per_100k: self.alerts.incidence_14d_per_100k,
                notify_days: u64::from(self.notify_days),
            },
        }
    }

    /// The section as TOML, for `ceiba config`.
    pub fn to_toml(&self) -> String {
        let raw = self.to_raw().alerts;
        format!(
            "[salud.alerts]\nears_threshold = {:?}\nc3_threshold = {:?}\nsd_floor = {:?}\n\
             min_cases = {}\nincidence_14d_per_100k = {:?}\nnotify_days = {}\n",
            raw.ears_threshold,
            raw.c3_threshold,
            raw.sd_floor,
            raw.min_cases,
            raw.incidence_14d_per_100k,
            raw.notify_days
        )
    }
}

/// Checks the section; `refuse` names the key and where its value came from.
pub fn parse(
    raw: &RawSalud,
    refuse: &dyn Fn(&str, String) -> anyhow::Error,
) -> anyhow::Result<SaludConfig> {
    let alerts = &raw.alerts;
    let positive = |key: &str, value: f64| {
        if value.is_finite() && value > 0.0 && value <= THRESHOLD_CAP {
            Ok(value)
        } else {
            Err(refuse(
                key,
                format!(
                    "debe ser un número mayor que 0 y no mayor que {THRESHOLD_CAP}, no {value}"
                ),
            ))
        }
    };
    let min_cases = if (1..=MIN_CASES_CAP).contains(&alerts.min_cases) {
        alerts.min_cases
    } else {
        return Err(refuse(
            "salud.alerts.min_cases",
            format!(
                "debe estar entre 1 y {MIN_CASES_CAP} casos, no {}",
                alerts.min_cases
            ),
        ));
    };
    let notify_days = match u32::try_from(alerts.notify_days) {
        Ok(days) if alerts.notify_days <= NOTIFY_DAYS_CAP => days,
        _ => {
            return Err(refuse(
                "salud.alerts.notify_days",
                format!(
                    "debe estar entre 0 y {NOTIFY_DAYS_CAP} días, no {}",
                    alerts.notify_days
                ),
            ));
        }
    };
    Ok(SaludConfig {
        alerts: AlertSettings {
            ears_threshold: positive("salud.alerts.ears_threshold", alerts.ears_threshold)?,
            c3_threshold: positive("salud.alerts.c3_threshold", alerts.c3_threshold)?,
            sd_floor: positive("salud.alerts.sd_floor", alerts.sd_floor)?,
            min_cases,
            incidence_14d_per_100k: positive(
                "salud.alerts.incidence_14d_per_100k",
                alerts.incidence_14d_per_100k,
            )?,
        },
        notify_days,
    })
}
