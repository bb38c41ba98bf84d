//! Outbreak detection per municipality, each day: EARS C1, C2 and C3 and the crossing of a
//! 14-day incidence threshold (`ceiba_surveillance::alerts`) over every municipality's daily
//! series. Every signal is stored once (municipality, day, method); a new one about a recent
//! day is also sent, by SMS through the outbox, to the epidemiologists who work in its
//! province, in the same transaction. Signals about old days (an archive loaded today) are
//! stored and shown on the dashboards, never sent.
//!
//! `ceiba serve` runs it whenever the records' revision moves (see `serve.rs`); `ceiba salud
//! alerts` runs it once.

use ceiba_store::{AlertRow, Db, StoreError};
use ceiba_surveillance::alerts::{AlertSettings, detect};
use ceiba_surveillance::covid19cubadata::Date;

use crate::salud_dashboard::SaludCache;

/// What one run found.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AlertRun {
    /// The revision of the records it looked at.
    pub revision: u64,
    /// Signals over the whole series.
    pub signals: u64,
    /// Signals not stored before.
    pub new: u64,
}

/// Cuba's standard time, hours behind UTC: the day a health worker calls "today".
const CUBA_UTC_OFFSET_H: i64 = -5;

/// The day in Cuba at `now_ms` (milliseconds since 1970, UTC).
pub fn cuba_day(now_ms: i64) -> Date {
    let local_ms = now_ms + CUBA_UTC_OFFSET_H * 3_600_000;
    Date::from_days_since_epoch(local_ms.div_euclid(86_400_000))
}

/// Looks for outbreaks in every municipality, stores the signals not stored before, and sends
/// those from `notify_from` on to the province's epidemiologists.
pub async fn run(
    db: &Db,
    cache: &SaludCache,
    settings: &AlertSettings,
    notify_from: Date,
    now_ms: i64,
) -> Result<AlertRun, StoreError> {
    let data = cache.current(db).await?;
    let Some(first_day) = data.overview.first_day else {
        return Ok(AlertRun {
            revision: data.revision,
            ..AlertRun::default()
        });
    };
    let mut rows = Vec::new();
    for municipality in &data.municipalities {
        let Some(figures) = data.overview.area(&municipality.code) else {
            continue;
        };
        let province = data
            .area(&municipality.province_code)
            .map_or_else(String::new, |(area, _)| area.name.clone());
        for signal in detect(
            first_day,
            &figures.new_cases,
            municipality.population,
            settings,
        ) {
            rows.push(AlertRow {
                municipality_code: municipality.code.clone(),
                province_code: municipality.province_code.clone(),
                day: signal.day.to_string(),
                method: signal.method.as_str().to_owned(),
                cases: signal.cases,
                value: signal.value,
                threshold: signal.threshold,
                explanation: format!("{} ({province}): {}", municipality.name, signal.explanation),
            });
        }
    }
    let new = db
        .record_salud_alerts(&rows, &notify_from.to_string(), now_ms)
        .await?;
    Ok(AlertRun {
        revision: data.revision,
        signals: rows.len() as u64,
        new,
    })
}
