//! What a run gives back: daily series for the country and each municipality, totals by age
//! band and by layer, and what the early phase says about transmission.

use serde::Serialize;

use super::disease::LayerR0;

/// Daily series of one area; entry `d` is day `d` (0-based). `new_*` are events of that
/// day, the others the state at the end of it. Day 0 holds the initial infections.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct AreaSeries {
    /// Infections (day 0: the initial ones).
    pub new_infections: Vec<u32>,
    /// Symptom onsets.
    pub new_symptomatic: Vec<u32>,
    /// Positive test results.
    pub new_diagnosed: Vec<u32>,
    /// Hospital admissions (severe disease).
    pub new_severe: Vec<u32>,
    /// Admissions to intensive care (critical disease).
    pub new_critical: Vec<u32>,
    /// Deaths.
    pub new_deaths: Vec<u32>,
    /// Recoveries.
    pub new_recoveries: Vec<u32>,
    /// Infectious people (presymptomatic, asymptomatic or symptomatic before admission).
    pub infectious: Vec<u32>,
    /// In hospital with severe disease.
    pub severe: Vec<u32>,
    /// In intensive care.
    pub critical: Vec<u32>,
    /// Diagnosed people isolated (0 when isolation is off).
    pub in_isolation: Vec<u32>,
    /// Traced contacts in quarantine.
    pub in_quarantine: Vec<u32>,
    /// Infections since day 0, initial ones included.
    pub cumulative_infections: Vec<u32>,
    /// Deaths since day 0.
    pub cumulative_deaths: Vec<u32>,
}

/// One day of an [`AreaSeries`], for writing rows (CSV).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct DayRow {
    /// Day, 0-based.
    pub day: u32,
    /// See [`AreaSeries::new_infections`].
    pub new_infections: u32,
    /// See [`AreaSeries::new_symptomatic`].
    pub new_symptomatic: u32,
    /// See [`AreaSeries::new_diagnosed`].
    pub new_diagnosed: u32,
    /// See [`AreaSeries::new_severe`].
    pub new_severe: u32,
    /// See [`AreaSeries::new_critical`].
    pub new_critical: u32,
    /// See [`AreaSeries::new_deaths`].
    pub new_deaths: u32,
    /// See [`AreaSeries::new_recoveries`].
    pub new_recoveries: u32,
    /// See [`AreaSeries::infectious`].
    pub infectious: u32,
    /// See [`AreaSeries::severe`].
    pub severe: u32,
    /// See [`AreaSeries::critical`].
    pub critical: u32,
    /// See [`AreaSeries::in_isolation`].
    pub in_isolation: u32,
    /// See [`AreaSeries::in_quarantine`].
    pub in_quarantine: u32,
    /// See [`AreaSeries::cumulative_infections`].
    pub cumulative_infections: u32,
    /// See [`AreaSeries::cumulative_deaths`].
    pub cumulative_deaths: u32,
}

impl AreaSeries {
    /// Number of days.
    pub fn days(&self) -> usize {
        self.new_infections.len()
    }

    /// The series as one row per day.
    pub fn rows(&self) -> Vec<DayRow> {
        (0..self.days())
            .map(|d| DayRow {
                day: u32::try_from(d).unwrap_or(u32::MAX),
                new_infections: self.new_infections[d],
                new_symptomatic: self.new_symptomatic[d],
                new_diagnosed: self.new_diagnosed[d],
                new_severe: self.new_severe[d],
                new_critical: self.new_critical[d],
                new_deaths: self.new_deaths[d],
                new_recoveries: self.new_recoveries[d],
                infectious: self.infectious[d],
                severe: self.severe[d],
                critical: self.critical[d],
                in_isolation: self.in_isolation[d],
                in_quarantine: self.in_quarantine[d],
                cumulative_infections: self.cumulative_infections[d],
                cumulative_deaths: self.cumulative_deaths[d],
            })
            .collect()
    }

    /// Infections over the whole run.
    pub fn total_infections(&self) -> u64 {
        self.new_infections.iter().map(|&x| u64::from(x)).sum()
    }

    /// Deaths over the whole run.
    pub fn total_deaths(&self) -> u64 {
        self.new_deaths.iter().map(|&x| u64::from(x)).sum()
    }
}

/// The series of one municipality.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MunicipalitySeries {
    /// DPA code.
    pub code: String,
    /// Name.
    pub name: String,
    /// Residents.
    pub agents: u32,
    /// Its daily series.
    pub series: AreaSeries,
}

/// Totals of one prognosis age band over the run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct AgeBandTotals {
    /// Youngest age of the band.
    pub min_age: u8,
    /// Agents of the band.
    pub agents: u64,
    /// Infected (initial infections included).
    pub infections: u64,
    /// Became symptomatic.
    pub symptomatic: u64,
    /// Became severe.
    pub severe: u64,
    /// Became critical.
    pub critical: u64,
    /// Died.
    pub deaths: u64,
}

/// Infections by where they happened.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct LayerCounts {
    /// Initial infections.
    pub initial: u64,
    /// In the household.
    pub household: u64,
    /// At school.
    pub school: u64,
    /// At work.
    pub work: u64,
    /// In the community (including travel).
    pub community: u64,
}

impl LayerCounts {
    /// All infections.
    pub fn total(&self) -> u64 {
        self.initial + self.household + self.school + self.work + self.community
    }
}

/// The result of [`super::simulate`].
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AbmResult {
    /// Agents in the population.
    pub agents: u64,
    /// Days simulated (fewer than asked if cancelled).
    pub days: u32,
    /// Whether the progress callback stopped the run.
    pub cancelled: bool,
    /// `agents × days`.
    pub person_days: u64,
    /// The solved transmission rate per contact-day of relative weight 1.
    pub beta_per_contact_day: f64,
    /// The configured R0 split by layer (sums to `r0`).
    pub r0_by_layer: LayerR0,
    /// Agents immune on day 0.
    pub initially_immune: u64,
    /// The whole country.
    pub national: AreaSeries,
    /// Each municipality, in the population's order.
    pub municipalities: Vec<MunicipalitySeries>,
    /// Totals by prognosis age band.
    pub age_bands: Vec<AgeBandTotals>,
    /// Infections by layer.
    pub infections_by_layer: LayerCounts,
    /// Size of the early cohort: everyone infected up to the last day on which cumulative
    /// infections were at most [`super::EARLY_PHASE_SHARE`] of the population.
    pub early_cohort_size: u64,
    /// Entry `τ`: infections caused by the early cohort `τ` days after the infector's own
    /// infection, over the whole run. Normalised, it is the generation-interval
    /// distribution near the start; its sum over `early_cohort_size` is the mean number of
    /// secondary infections per early case.
    pub early_generation_interval_counts: Vec<u64>,
}
