//! Metapopulation SEIR model: one set of compartments per territory (municipality or
//! province), coupled by mobility, in a deterministic (ODE, fixed-step RK4) and a stochastic
//! (binomial chain) version, with vaccination, interventions, calibration to observed
//! incidence and user-defined scenarios.
//!
//! # Model
//!
//! Each patch `i` holds its residents in five compartments: susceptible `S`, exposed `E`
//! (infected, not yet infectious), infectious `I`, recovered `R` and vaccinated `V` (immune
//! without having been infected in this run: effective vaccinations and `initial_immune`).
//! Residents never change patch: mobility only says where they spend their contact time, so
//! `S + E + I + R + V = N_i` holds in every patch at every moment.
//!
//! Coupling is the "commuting" (time-sharing) formulation of Keeling & Rohani, *Modeling
//! Infectious Diseases* (2008), §7.2, in the effective-population form of Balcan et al.,
//! *J. Comput. Sci.* 1 (2010) 132–145. With `M` the row-stochastic mobility matrix (`M_ij` =
//! share of the contact time of residents of `i` spent in `j`):
//!
//! ```text
//! N_j^eff = Σ_k M_kj N_k                  people present in j
//! I_j^eff = Σ_k M_kj I_k                  infectious people present in j
//! λ_i(t)  = β Σ_j M_ij c_j(t) I_j^eff / N_j^eff
//! ```
//!
//! where `c_j(t) = Π (1 − contact_reduction)` over the interventions active in `j` on that day:
//! an intervention reduces the contacts made *in* its patches, by residents and visitors alike.
//! The flows are
//!
//! ```text
//! S → E  λ_i S      (new infections)
//! E → I  σ E        (new cases: what surveillance can see; σ = 1 / latent period)
//! I → R  γ I        (γ = 1 / infectious period)
//! S → V  u_i(t) S   (effective vaccinations)
//! ```
//!
//! and `R0 = β / γ`, the basic reproduction number of one well-mixed patch.
//!
//! # Outputs
//!
//! Every series has `days + 1` entries, index `d` being day `d`: stocks are the state at time
//! `t = d` (index 0 is the initial state); flows (`new_infections`, `new_cases`) are the
//! totals over `(d − 1, d]`, so index 0 is always 0; `cumulative_cases` counts the cases
//! (E → I) since the start, not the initially infectious.
//!
//! # Cost
//!
//! The mobility matrix is kept as sparse rows, so a step costs `O(P + nnz(M))`: a dense
//! 168 × 168 matrix is fine, and [`GravityModel::max_destinations`] keeps only the strongest
//! links when a sparser coupling is wanted.

mod calibration;
mod chain;
mod mobility;
mod ode;

use serde::{Deserialize, Serialize};

use crate::EpiError;

pub use calibration::{
    Calibration, CalibrationSettings, MIN_OBSERVED_DAYS, ObservedIncidence, ReportingFraction,
    calibrate,
};
pub use mobility::mobility_matrix;

/// Most patches in one model (Cuba has 168 municipalities).
pub const MAX_PATCHES: usize = 1_000;
/// Longest horizon, in days (ten years).
pub const MAX_DAYS: u32 = 3_650;
/// Most patches × days in one run: bounds the memory of the output (about 64 bytes each).
pub const MAX_PATCH_DAYS: usize = 1_000_000;
/// Most integration steps per day.
pub const MAX_STEPS_PER_DAY: u32 = 1_000;
/// Largest population of one patch.
pub const MAX_POPULATION: u64 = 2_000_000_000;
/// Largest basic reproduction number accepted.
pub const MAX_R0: f64 = 50.0;
/// Longest latent or infectious period, in days.
pub const MAX_PERIOD_DAYS: f64 = 365.0;
/// Most interventions in one model or scenario.
pub const MAX_INTERVENTIONS: usize = 1_000;
/// Most scenarios in one comparison.
pub const MAX_SCENARIOS: usize = 20;
/// Longest scenario name, in characters (it labels a chart).
pub const MAX_SCENARIO_NAME_CHARS: usize = 80;
/// Most patch-days summed over all the scenarios of one comparison.
pub const MAX_SCENARIO_PATCH_DAYS: usize = 2_000_000;
/// Largest per-capita vaccination rate of susceptibles (per day): doses cannot be given faster
/// than this, however many are available, which also keeps the equations non-stiff.
pub const MAX_VACCINATION_RATE_PER_DAY: f64 = 0.5;
/// Largest `rate × step` accepted: beyond it the fixed step is too coarse for the fastest
/// rate of the model (RK4 loses accuracy, the chain's probabilities saturate).
const MAX_RATE_TIMES_STEP: f64 = 1.0;

/// One territory: its residents and the infection seeded in them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Patch {
    /// Unique code (e.g. the municipality's DPA code); interventions name patches by it.
    pub code: String,
    /// Name shown to people.
    pub name: String,
    /// Residents, at least 1 and at most [`MAX_POPULATION`].
    pub population: u64,
    /// Centroid, needed only by the gravity model.
    #[serde(default)]
    pub centroid: Option<Centroid>,
    /// Exposed residents at day 0.
    #[serde(default)]
    pub initial_exposed: u64,
    /// Infectious residents at day 0.
    #[serde(default)]
    pub initial_infectious: u64,
    /// Residents immune at day 0 (vaccinated or previously infected); they start in `V`.
    #[serde(default)]
    pub initial_immune: u64,
}

/// A point on the Earth, in degrees.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Centroid {
    /// Latitude in [−90, 90] degrees.
    pub latitude_deg: f64,
    /// Longitude in [−180, 180] degrees.
    pub longitude_deg: f64,
}

/// How patches mix.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Mobility {
    /// Every patch mixes only with itself (the identity matrix).
    None,
    /// A gravity model from populations and great-circle distances.
    Gravity(GravityModel),
    /// A supplied row-stochastic matrix, `matrix[i][j]` = share of the contact time of the
    /// residents of patch `i` spent in patch `j` (rows in the order of the patches).
    Matrix(Vec<Vec<f64>>),
}

/// Gravity model: the weight of the link `i → j` (`i ≠ j`) is
/// `N_i^origin_exponent · N_j^destination_exponent / d_ij^distance_exponent`, with `d_ij` the
/// great-circle distance between centroids in km (at least [`MIN_DISTANCE_KM`], so patches
/// with nearly the same centroid do not dominate). The weights are then scaled by
/// [`GravityScaling`] into the shares of time spent away; the rest is spent at home.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GravityModel {
    /// Share of contact time spent outside the home patch, in [0, 1).
    pub mobile_fraction: f64,
    /// Exponent of the origin's population, in [0, 3]. It cancels out with
    /// [`GravityScaling::SameFractionPerPatch`].
    pub origin_exponent: f64,
    /// Exponent of the destination's population, in [0, 3].
    pub destination_exponent: f64,
    /// Exponent of the distance, in [0, 4].
    pub distance_exponent: f64,
    /// Keep only the strongest links of each patch (at least 1); `None` keeps them all.
    #[serde(default)]
    pub max_destinations: Option<usize>,
    /// How weights become shares of time.
    #[serde(default)]
    pub scaling: GravityScaling,
}

/// Shortest distance used by the gravity model, in km.
pub const MIN_DISTANCE_KM: f64 = 1.0;

impl Default for GravityModel {
    fn default() -> Self {
        GravityModel {
            mobile_fraction: 0.1,
            origin_exponent: 1.0,
            destination_exponent: 1.0,
            distance_exponent: 2.0,
            max_destinations: None,
            scaling: GravityScaling::default(),
        }
    }
}

/// How gravity weights become the shares of time spent away.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GravityScaling {
    /// Each patch spends exactly `mobile_fraction` of its time away, split in proportion to
    /// its weights: always valid, but person flows `N_i M_ij` are symmetric only when the
    /// patches' total weights are equal too.
    #[default]
    SameFractionPerPatch,
    /// Person flows are `κ × weight`, with one `κ` for the whole territory chosen so that
    /// `mobile_fraction` of all contact time is spent away: flows are symmetric whenever the
    /// two exponents are equal (or populations are), but well-connected patches travel more,
    /// and a patch that would spend more than all its time away is refused.
    SameTotal,
}

/// How fast infection spreads.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Transmission {
    /// Basic reproduction number `R0`, in [0, [`MAX_R0`]]; `β = R0 / infectious period`.
    BasicReproductionNumber(f64),
    /// Transmission rate `β` per day, non-negative, with `β × infectious period ≤ MAX_R0`.
    RatePerDay(f64),
}

/// The natural history of the disease.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Disease {
    /// Transmission, as `R0` or `β`.
    pub transmission: Transmission,
    /// Mean latent period `1/σ`, in (0, [`MAX_PERIOD_DAYS`]] days.
    pub latent_period_days: f64,
    /// Mean infectious period `1/γ`, in (0, [`MAX_PERIOD_DAYS`]] days.
    pub infectious_period_days: f64,
}

/// A contact reduction over a window of days, multiplying `β` by `1 − contact_reduction` for
/// contacts made in its patches. Overlapping interventions multiply.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Intervention {
    /// First day it applies (the day running from `t = start_day` to `start_day + 1`).
    pub start_day: u32,
    /// First day it no longer applies; greater than `start_day`. A window past the horizon
    /// just lasts to the end.
    pub end_day: u32,
    /// Share of contacts removed, in [0, 1].
    pub contact_reduction: f64,
    /// Codes of the patches it applies to; `None` means all of them.
    #[serde(default)]
    pub patch_codes: Option<Vec<String>>,
}

/// A vaccination campaign moving susceptibles to `V`. An all-or-nothing vaccine: a share
/// `efficacy` of the vaccinated susceptibles become immune, the rest stay susceptible.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Vaccination {
    /// First day of the campaign.
    pub start_day: u32,
    /// First day without vaccination; `None` runs to the end of the horizon.
    #[serde(default)]
    pub end_day: Option<u32>,
    /// Share of vaccinated susceptibles that become immune, in [0, 1].
    pub efficacy: f64,
    /// How many are vaccinated.
    pub rate: VaccinationRate,
}

/// The pace of a vaccination campaign.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum VaccinationRate {
    /// Susceptibles vaccinated per susceptible per day, in every patch, in
    /// [0, [`MAX_VACCINATION_RATE_PER_DAY`]] (0.01 ≈ 1 % a day).
    FractionOfSusceptiblesPerDay(f64),
    /// Doses given per day in each patch (one entry per patch, in patch order), to residents
    /// not yet in `V` without regard to their infection history, so the share reaching
    /// susceptibles is `S / (N − V)`. The per-capita rate is capped at
    /// [`MAX_VACCINATION_RATE_PER_DAY`], so a campaign slows down as it runs out of people.
    DosesPerDay(Vec<f64>),
}

fn default_steps_per_day() -> u32 {
    10
}

/// Everything a run needs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SeirModel {
    /// The territories, at least one and at most [`MAX_PATCHES`], with unique codes.
    pub patches: Vec<Patch>,
    /// How they mix.
    pub mobility: Mobility,
    /// The disease.
    pub disease: Disease,
    /// Contact reductions, at most [`MAX_INTERVENTIONS`].
    #[serde(default)]
    pub interventions: Vec<Intervention>,
    /// An optional vaccination campaign.
    #[serde(default)]
    pub vaccination: Option<Vaccination>,
    /// Horizon in days, in 1..=[`MAX_DAYS`].
    pub days: u32,
    /// Integration steps per day, in 1..=[`MAX_STEPS_PER_DAY`] (10 by default); the step must
    /// be short against the fastest rate (`max(β, σ, γ) / steps_per_day ≤ 1`).
    #[serde(default = "default_steps_per_day")]
    pub steps_per_day: u32,
}

/// Daily series of one patch or of the whole territory (see the module docs for indexing).
/// `T` is `f64` for the deterministic model and `u64` (people) for the stochastic one.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DailySeries<T> {
    /// Susceptible.
    pub susceptible: Vec<T>,
    /// Exposed (latent).
    pub exposed: Vec<T>,
    /// Infectious.
    pub infectious: Vec<T>,
    /// Recovered.
    pub recovered: Vec<T>,
    /// Immune by vaccination (or immune from the start).
    pub vaccinated: Vec<T>,
    /// New infections (S → E) during the day.
    pub new_infections: Vec<T>,
    /// New cases (E → I) during the day: the onsets surveillance can see.
    pub new_cases: Vec<T>,
    /// Cases (E → I) since day 0.
    pub cumulative_cases: Vec<T>,
}

impl<T> DailySeries<T> {
    fn with_capacity(len: usize) -> Self {
        DailySeries {
            susceptible: Vec::with_capacity(len),
            exposed: Vec::with_capacity(len),
            infectious: Vec::with_capacity(len),
            recovered: Vec::with_capacity(len),
            vaccinated: Vec::with_capacity(len),
            new_infections: Vec::with_capacity(len),
            new_cases: Vec::with_capacity(len),
            cumulative_cases: Vec::with_capacity(len),
        }
    }
}

impl<T: Copy + std::iter::Sum<T>> DailySeries<T> {
    /// Day-by-day sums of `len`-day series.
    fn sum_of(series: &[DailySeries<T>], len: usize) -> Self {
        let sum = |pick: fn(&DailySeries<T>) -> &Vec<T>| -> Vec<T> {
            (0..len)
                .map(|d| series.iter().map(|s| pick(s)[d]).sum())
                .collect()
        };
        DailySeries {
            susceptible: sum(|s| &s.susceptible),
            exposed: sum(|s| &s.exposed),
            infectious: sum(|s| &s.infectious),
            recovered: sum(|s| &s.recovered),
            vaccinated: sum(|s| &s.vaccinated),
            new_infections: sum(|s| &s.new_infections),
            new_cases: sum(|s| &s.new_cases),
            cumulative_cases: sum(|s| &s.cumulative_cases),
        }
    }
}

/// The series of one patch.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PatchRun<T> {
    /// The patch's code.
    pub code: String,
    /// Its series.
    pub series: DailySeries<T>,
}

/// The result of one run.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SeirRun<T> {
    /// Transmission rate used, per day.
    pub beta_per_day: f64,
    /// Basic reproduction number used (`β × infectious period`).
    pub r0: f64,
    /// Horizon in days (each series has `days + 1` entries).
    pub days: u32,
    /// One entry per patch, in the order given.
    pub patches: Vec<PatchRun<T>>,
    /// Sums over all patches.
    pub total: DailySeries<T>,
}

/// A scenario run on the same territory and disease as a base model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Scenario {
    /// The user's name for it (e.g. "favorable"), unique and non-empty.
    pub name: String,
    /// Replaces the base transmission by this `R0` when given.
    #[serde(default)]
    pub r0: Option<f64>,
    /// Interventions added to the base model's.
    #[serde(default)]
    pub interventions: Vec<Intervention>,
    /// Replaces the base vaccination campaign when given.
    #[serde(default)]
    pub vaccination: Option<Vaccination>,
}

/// The deterministic run of one scenario.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ScenarioRun {
    /// The scenario's name.
    pub name: String,
    /// Its run.
    pub run: SeirRun<f64>,
}

/// Runs the deterministic model (fixed-step RK4).
pub fn run_deterministic(model: &SeirModel) -> Result<SeirRun<f64>, EpiError> {
    let prepared = Prepared::new(model)?;
    Ok(ode::integrate(&prepared, model))
}

/// Runs the stochastic binomial chain with the given seed: the same model and seed give the
/// same run on every platform. Each step of `Δt = 1 / steps_per_day` draws, per patch and from
/// the counts at the start of the step, `Binomial(S, 1 − e^{−(λ+u)Δt})` leaving `S` (split
/// between infection and vaccination in proportion to `λ` and `u`),
/// `Binomial(E, 1 − e^{−σΔt})` and `Binomial(I, 1 − e^{−γΔt})`. Counted this way, an infectious
/// person exerts `βΔt / (1 − e^{−γΔt})` instead of `β/γ` infection pressure, so `R0` is biased
/// up by the factor `γΔt / (1 − e^{−γΔt}) ≈ 1 + γΔt/2`: use several steps per day.
pub fn run_stochastic(model: &SeirModel, seed: u64) -> Result<SeirRun<u64>, EpiError> {
    let prepared = Prepared::new(model)?;
    Ok(chain::simulate(&prepared, model, seed))
}

/// Runs each scenario deterministically on `base` (see [`Scenario`] for what it changes),
/// returning the runs in the order given, for one chart.
pub fn run_scenarios(
    base: &SeirModel,
    scenarios: &[Scenario],
) -> Result<Vec<ScenarioRun>, EpiError> {
    if scenarios.is_empty() {
        return Err(EpiError::invalid(
            "scenarios",
            "no se dio ningún escenario; se necesita al menos uno",
        ));
    }
    if scenarios.len() > MAX_SCENARIOS {
        return Err(EpiError::invalid(
            "scenarios",
            format!(
                "se dieron {} escenarios; el máximo es {MAX_SCENARIOS}",
                scenarios.len()
            ),
        ));
    }
    let patch_days = base
        .patches
        .len()
        .saturating_mul(day_count(base.days))
        .saturating_mul(scenarios.len());
    if patch_days > MAX_SCENARIO_PATCH_DAYS {
        return Err(EpiError::invalid(
            "scenarios",
            format!(
                "{} escenarios × {} municipios × {} días pasan del máximo de \
                 {MAX_SCENARIO_PATCH_DAYS} municipio-días",
                scenarios.len(),
                base.patches.len(),
                base.days
            ),
        ));
    }
    for (index, scenario) in scenarios.iter().enumerate() {
        if scenario.name.trim().is_empty() {
            return Err(EpiError::invalid(
                "name",
                format!("el escenario n.º {} no tiene nombre", index + 1),
            ));
        }
        let characters = scenario.name.chars().count();
        if characters > MAX_SCENARIO_NAME_CHARS {
            return Err(EpiError::invalid(
                "name",
                format!(
                    "el nombre del escenario n.º {} tiene {characters} caracteres; el máximo es \
                     {MAX_SCENARIO_NAME_CHARS}",
                    index + 1
                ),
            ));
        }
        if scenarios[..index].iter().any(|s| s.name == scenario.name) {
            return Err(EpiError::invalid(
                "name",
                format!("el nombre de escenario «{}» está repetido", scenario.name),
            ));
        }
    }
    scenarios
        .iter()
        .map(|scenario| {
            let model = scenario_model(base, scenario);
            let run = run_deterministic(&model).map_err(|error| in_scenario(error, scenario))?;
            Ok(ScenarioRun {
                name: scenario.name.clone(),
                run,
            })
        })
        .collect()
}

/// Says which scenario a refusal comes from.
fn in_scenario(error: EpiError, scenario: &Scenario) -> EpiError {
    match error {
        EpiError::InvalidParameter { name, reason } => EpiError::InvalidParameter {
            name,
            reason: format!("en el escenario «{}»: {reason}", scenario.name),
        },
        EpiError::InsufficientData(reason) => {
            EpiError::InsufficientData(format!("en el escenario «{}»: {reason}", scenario.name))
        }
    }
}

fn scenario_model(base: &SeirModel, scenario: &Scenario) -> SeirModel {
    let mut model = base.clone();
    if let Some(r0) = scenario.r0 {
        model.disease.transmission = Transmission::BasicReproductionNumber(r0);
    }
    model
        .interventions
        .extend(scenario.interventions.iter().cloned());
    if let Some(vaccination) = &scenario.vaccination {
        model.vaccination = Some(vaccination.clone());
    }
    model
}

fn day_count(days: u32) -> usize {
    usize::try_from(days).unwrap_or(usize::MAX)
}

/// A validated model in the shape the integrators want.
#[derive(Debug)]
struct Prepared {
    populations: Vec<f64>,
    mobility: mobility::Coupling,
    /// `N_j^eff`: constant, since residents never move.
    present_population: Vec<f64>,
    beta_per_day: f64,
    sigma_per_day: f64,
    gamma_per_day: f64,
    days: usize,
    steps_per_day: usize,
    interventions: Vec<PreparedIntervention>,
    vaccination: Option<PreparedVaccination>,
}

#[derive(Debug)]
struct PreparedIntervention {
    start_day: usize,
    end_day: usize,
    contact_factor: f64,
    /// `None`: every patch.
    patches: Option<Vec<usize>>,
}

#[derive(Debug)]
struct PreparedVaccination {
    start_day: usize,
    end_day: usize,
    efficacy: f64,
    rate: VaccinationRate,
}

impl<T: Copy + std::iter::Sum<T>> SeirRun<T> {
    /// A run from each patch's series, in the model's patch order, with their sums.
    fn assemble(prepared: &Prepared, model: &SeirModel, series: Vec<DailySeries<T>>) -> Self {
        let total = DailySeries::sum_of(&series, prepared.days + 1);
        SeirRun {
            beta_per_day: prepared.beta_per_day,
            r0: prepared.r0(),
            days: model.days,
            patches: model
                .patches
                .iter()
                .zip(series)
                .map(|(patch, series)| PatchRun {
                    code: patch.code.clone(),
                    series,
                })
                .collect(),
            total,
        }
    }
}

impl Prepared {
    fn new(model: &SeirModel) -> Result<Prepared, EpiError> {
        validate_patches(&model.patches)?;
        let days = validate_horizon(model.days, model.patches.len())?;
        let (sigma_per_day, gamma_per_day) = validate_periods(&model.disease)?;
        let beta_per_day = beta_from(model.disease.transmission, gamma_per_day)?;
        let steps_per_day = validate_steps(
            model.steps_per_day,
            beta_per_day.max(sigma_per_day).max(gamma_per_day),
        )?;
        let mobility =
            mobility::Coupling::new(mobility::sparse_rows(&model.patches, &model.mobility)?);
        let populations: Vec<f64> = model.patches.iter().map(|p| p.population as f64).collect();
        let mut present_population = vec![0.0; populations.len()];
        mobility.spread(populations.iter().copied(), &mut present_population);
        let interventions = validate_interventions(&model.interventions, &model.patches)?;
        let vaccination = model
            .vaccination
            .as_ref()
            .map(|v| validate_vaccination(v, model.patches.len(), days))
            .transpose()?;
        Ok(Prepared {
            populations,
            mobility,
            present_population,
            beta_per_day,
            sigma_per_day,
            gamma_per_day,
            days,
            steps_per_day,
            interventions,
            vaccination,
        })
    }

    fn r0(&self) -> f64 {
        self.beta_per_day / self.gamma_per_day
    }

    /// `c_j` for every patch on `day`.
    fn contact_factors(&self, day: usize, factors: &mut [f64]) {
        factors.fill(1.0);
        for intervention in &self.interventions {
            if day < intervention.start_day || day >= intervention.end_day {
                continue;
            }
            match &intervention.patches {
                None => factors
                    .iter_mut()
                    .for_each(|f| *f *= intervention.contact_factor),
                Some(patches) => patches
                    .iter()
                    .for_each(|&j| factors[j] *= intervention.contact_factor),
            }
        }
    }

    /// Per-capita rate `u` at which susceptibles of `patch` become immune on `day`.
    fn vaccination_rate(&self, day: usize, patch: usize, vaccinated: f64) -> f64 {
        let Some(vaccination) = &self.vaccination else {
            return 0.0;
        };
        if day < vaccination.start_day || day >= vaccination.end_day {
            return 0.0;
        }
        let per_capita = match &vaccination.rate {
            VaccinationRate::FractionOfSusceptiblesPerDay(rate) => *rate,
            VaccinationRate::DosesPerDay(doses) => {
                let not_vaccinated = self.populations[patch] - vaccinated;
                if not_vaccinated <= 0.0 {
                    0.0
                } else {
                    (doses[patch] / not_vaccinated).min(MAX_VACCINATION_RATE_PER_DAY)
                }
            }
        };
        vaccination.efficacy * per_capita
    }

    /// Forces of infection `λ_i` from the infectious counts.
    fn forces_of_infection(
        &self,
        contact_factors: &[f64],
        infectious: impl Iterator<Item = f64>,
        present_infectious: &mut [f64],
        forces: &mut [f64],
    ) {
        // Reused in place: infectious present in each patch, then the force felt there.
        self.mobility.spread(infectious, present_infectious);
        for ((present, population), factor) in present_infectious
            .iter_mut()
            .zip(&self.present_population)
            .zip(contact_factors)
        {
            *present = if *population > 0.0 {
                self.beta_per_day * factor * *present / population
            } else {
                0.0
            };
        }
        self.mobility.gather(present_infectious, forces);
    }
}

pub(crate) fn validate_patches(patches: &[Patch]) -> Result<(), EpiError> {
    if patches.is_empty() {
        return Err(EpiError::InsufficientData(
            "el territorio está vacío: no se dio ningún municipio".into(),
        ));
    }
    if patches.len() > MAX_PATCHES {
        return Err(EpiError::invalid(
            "patches",
            format!(
                "se dieron {} municipios; el máximo es {MAX_PATCHES}",
                patches.len()
            ),
        ));
    }
    for (index, patch) in patches.iter().enumerate() {
        if patch.code.trim().is_empty() {
            return Err(EpiError::invalid(
                "code",
                format!("el municipio n.º {} no tiene código", index + 1),
            ));
        }
        if patches[..index].iter().any(|p| p.code == patch.code) {
            return Err(EpiError::invalid(
                "code",
                format!("el código «{}» está repetido", patch.code),
            ));
        }
        if patch.population == 0 || patch.population > MAX_POPULATION {
            return Err(EpiError::invalid(
                "population",
                format!(
                    "«{}» tiene {} habitantes; debe tener entre 1 y {MAX_POPULATION}",
                    patch.code, patch.population
                ),
            ));
        }
        let seeded = patch
            .initial_exposed
            .saturating_add(patch.initial_infectious)
            .saturating_add(patch.initial_immune);
        if seeded > patch.population {
            return Err(EpiError::invalid(
                "initial_infectious",
                format!(
                    "en «{}» los expuestos ({}), infecciosos ({}) e inmunes ({}) iniciales suman \
                     más que su población ({})",
                    patch.code,
                    patch.initial_exposed,
                    patch.initial_infectious,
                    patch.initial_immune,
                    patch.population
                ),
            ));
        }
    }
    Ok(())
}

fn validate_horizon(days: u32, patch_count: usize) -> Result<usize, EpiError> {
    if days == 0 || days > MAX_DAYS {
        return Err(EpiError::invalid(
            "days",
            format!("se pidieron {days} días; deben ser entre 1 y {MAX_DAYS}"),
        ));
    }
    let days = day_count(days);
    if patch_count.saturating_mul(days) > MAX_PATCH_DAYS {
        return Err(EpiError::invalid(
            "days",
            format!(
                "{patch_count} municipios × {days} días pasan del máximo de {MAX_PATCH_DAYS} \
                 municipio-días por corrida"
            ),
        ));
    }
    Ok(days)
}

fn validate_period(name: &'static str, days: f64) -> Result<f64, EpiError> {
    if !days.is_finite() || days <= 0.0 || days > MAX_PERIOD_DAYS {
        return Err(EpiError::invalid(
            name,
            format!(
                "se dio {days}; debe ser un número de días mayor que 0 y hasta {MAX_PERIOD_DAYS}"
            ),
        ));
    }
    Ok(1.0 / days)
}

/// `(σ, γ)` per day.
fn validate_periods(disease: &Disease) -> Result<(f64, f64), EpiError> {
    Ok((
        validate_period("latent_period_days", disease.latent_period_days)?,
        validate_period("infectious_period_days", disease.infectious_period_days)?,
    ))
}

fn validate_r0(name: &'static str, r0: f64) -> Result<f64, EpiError> {
    if !r0.is_finite() || !(0.0..=MAX_R0).contains(&r0) {
        return Err(EpiError::invalid(
            name,
            format!("se dio {r0}; debe estar entre 0 y {MAX_R0}"),
        ));
    }
    Ok(r0)
}

fn beta_from(transmission: Transmission, gamma_per_day: f64) -> Result<f64, EpiError> {
    match transmission {
        Transmission::BasicReproductionNumber(r0) => Ok(validate_r0("r0", r0)? * gamma_per_day),
        Transmission::RatePerDay(beta) => {
            if !beta.is_finite() || beta < 0.0 || beta > MAX_R0 * gamma_per_day {
                return Err(EpiError::invalid(
                    "beta_per_day",
                    format!(
                        "se dio {beta}; debe estar entre 0 y {} por día (R0 hasta {MAX_R0})",
                        MAX_R0 * gamma_per_day
                    ),
                ));
            }
            Ok(beta)
        }
    }
}

fn validate_steps(steps_per_day: u32, fastest_rate_per_day: f64) -> Result<usize, EpiError> {
    if steps_per_day == 0 || steps_per_day > MAX_STEPS_PER_DAY {
        return Err(EpiError::invalid(
            "steps_per_day",
            format!(
                "se dieron {steps_per_day} pasos por día; deben ser entre 1 y {MAX_STEPS_PER_DAY}"
            ),
        ));
    }
    if fastest_rate_per_day / f64::from(steps_per_day) > MAX_RATE_TIMES_STEP {
        return Err(EpiError::invalid(
            "steps_per_day",
            format!(
                "{steps_per_day} pasos por día son pocos para una tasa de {} por día; se \
                 necesitan al menos {}",
                // Two decimals at most: "40.000" would read as forty thousand.
                (fastest_rate_per_day * 100.0).round() / 100.0,
                (fastest_rate_per_day / MAX_RATE_TIMES_STEP).ceil()
            ),
        ));
    }
    Ok(day_count(steps_per_day))
}

fn validate_interventions(
    interventions: &[Intervention],
    patches: &[Patch],
) -> Result<Vec<PreparedIntervention>, EpiError> {
    if interventions.len() > MAX_INTERVENTIONS {
        return Err(EpiError::invalid(
            "interventions",
            format!(
                "se dieron {} intervenciones; el máximo es {MAX_INTERVENTIONS}",
                interventions.len()
            ),
        ));
    }
    interventions
        .iter()
        .map(|intervention| {
            let reduction = intervention.contact_reduction;
            if !(0.0..=1.0).contains(&reduction) {
                return Err(EpiError::invalid(
                    "contact_reduction",
                    format!("se dio {reduction}; debe estar entre 0 y 1"),
                ));
            }
            if intervention.end_day <= intervention.start_day {
                return Err(EpiError::invalid(
                    "end_day",
                    format!(
                        "la intervención termina el día {} pero empieza el día {}; debe terminar \
                         después de empezar",
                        intervention.end_day, intervention.start_day
                    ),
                ));
            }
            let patches = intervention
                .patch_codes
                .as_ref()
                .map(|codes| patch_indices(codes, patches))
                .transpose()?;
            Ok(PreparedIntervention {
                start_day: day_count(intervention.start_day),
                end_day: day_count(intervention.end_day),
                contact_factor: 1.0 - reduction,
                patches,
            })
        })
        .collect()
}

fn patch_indices(codes: &[String], patches: &[Patch]) -> Result<Vec<usize>, EpiError> {
    if codes.is_empty() {
        return Err(EpiError::invalid(
            "patch_codes",
            "la lista de municipios está vacía; omítala para aplicar a todos",
        ));
    }
    let mut indices = Vec::with_capacity(codes.len());
    for code in codes {
        let index = patches
            .iter()
            .position(|p| &p.code == code)
            .ok_or_else(|| {
                EpiError::invalid("patch_codes", format!("no hay ningún municipio «{code}»"))
            })?;
        // A repeated code would apply the reduction twice.
        if !indices.contains(&index) {
            indices.push(index);
        }
    }
    Ok(indices)
}

fn validate_vaccination(
    vaccination: &Vaccination,
    patch_count: usize,
    days: usize,
) -> Result<PreparedVaccination, EpiError> {
    let efficacy = vaccination.efficacy;
    if !(0.0..=1.0).contains(&efficacy) {
        return Err(EpiError::invalid(
            "efficacy",
            format!("se dio {efficacy}; la eficacia debe estar entre 0 y 1"),
        ));
    }
    let start_day = day_count(vaccination.start_day);
    let end_day = match vaccination.end_day {
        None => days,
        Some(end) if end > vaccination.start_day => day_count(end),
        Some(end) => {
            return Err(EpiError::invalid(
                "end_day",
                format!(
                    "la vacunación termina el día {end} pero empieza el día {start_day}; debe \
                     terminar después de empezar"
                ),
            ));
        }
    };
    match &vaccination.rate {
        VaccinationRate::FractionOfSusceptiblesPerDay(rate) => {
            if !(0.0..=MAX_VACCINATION_RATE_PER_DAY).contains(rate) {
                return Err(EpiError::invalid(
                    "rate_per_day",
                    format!(
                        "se dio {rate}; la fracción diaria de susceptibles vacunados debe estar \
                         entre 0 y {MAX_VACCINATION_RATE_PER_DAY}"
                    ),
                ));
            }
        }
        VaccinationRate::DosesPerDay(doses) => {
            if doses.len() != patch_count {
                return Err(EpiError::invalid(
                    "doses_per_day",
                    format!(
                        "se dieron dosis para {} municipios pero hay {patch_count}",
                        doses.len()
                    ),
                ));
            }
            if let Some((index, dose)) = doses
                .iter()
                .enumerate()
                .find(|(_, d)| !d.is_finite() || **d < 0.0 || **d > MAX_POPULATION as f64)
            {
                return Err(EpiError::invalid(
                    "doses_per_day",
                    format!(
                        "el municipio n.º {} tiene {dose} dosis por día; deben ser entre 0 y \
                         {MAX_POPULATION}",
                        index + 1
                    ),
                ));
            }
        }
    }
    Ok(PreparedVaccination {
        start_day,
        end_day,
        efficacy,
        rate: vaccination.rate.clone(),
    })
}
