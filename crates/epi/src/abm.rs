//! Agent-based model of an epidemic in the whole population of Cuba (11.2 M agents), one
//! agent per resident, fast enough to run the country for half a year in seconds.
//!
//! # Population ([`Population`])
//!
//! Built from the municipalities' populations (the caller reads them; this crate does no
//! IO) or synthetically ([`Population::synthetic`]). Every municipality gets exactly its
//! population, in households (one adult as reference person), with ages drawn from the age
//! pyramid, classes of one age for the enrolled school-age children and workplaces for the
//! employed. Agents are stored sorted by municipality and household, so a household is a
//! run of consecutive agents; each agent is an age byte and one packed 8-byte record (its
//! class or workplace, household position and size), what the simulation reads of a contact
//! in one cache line. See [`PopulationParams`] for the data behind the defaults.
//!
//! # Transmission
//!
//! Four layers: household (every member, every day), school class and workplace (`k`
//! contacts a day drawn among the group's members), and community (`k` contacts a day with
//! random residents of the municipality; a share [`LayerParams::travel_share`] with residents
//! of the same province or of the whole country — a gravity model would need distances the
//! caller does not give). An infectious person makes, each day, a Poisson number of
//! *transmission events* of mean `λ = β·ι·Σ_layers w_l·k_l` (`w_l` the layer's relative
//! transmissibility, `ι` the relative infectiousness, reduced by isolation or quarantine);
//! each event picks its layer in proportion to its share of `λ` and a contact in that layer
//! at random, and infects the contact, if susceptible, with the contact's relative
//! susceptibility (also reduced in quarantine). This is exactly a per-contact hazard, so
//! only infectious people are visited and the work of a day is proportional to the number
//! infected, not to the population.
//!
//! `β` is not a parameter: it is solved (by bisection; `R` increases with `β`) so that the
//! expected number of secondary infections of an index case in a fully susceptible
//! population without interventions is [`AbmParams::r0`]:
//!
//! ```text
//! R(β) = Σ_c π_c Σ_t P(t | c) [ (n_c − 1) Σ_a p_a (1 − E_t[e^{−β w_H ι_t s_a D_t}])
//!                              + m_g Σ_a p^g_a (1 − E_t[e^{−β w_g k_g ι_t s_a D_t / m_g}])
//!                              + β w_C k_C ι_t s̄ E_t[D_t] ]
//! ```
//!
//! over index cases `c` (age band, household size `n_c`, group `g`: none, class or
//! workplace) weighted by count × susceptibility `π_c` (whom an epidemic reaches first), their
//! courses `t` (asymptomatic, mild, severe until admission) with infectiousness `ι_t` and
//! infectious period `D_t` in whole days (its exact distribution, so households and groups
//! saturate as in the simulation), contacts' age bands `a` with susceptibility `s_a` among all
//! agents (`p_a`) or the group's kind (`p^g_a`), `m_g` the mean number of other members of a
//! group (size-biased) and `s̄` the mean susceptibility. [`AbmResult::r0_by_layer`] gives the
//! split. The test suite checks that the simulated early growth rate is the one this R0 and
//! the model's own generation intervals imply (Euler–Lotka), and that subcritical chains and
//! household pairs have the sizes R0 predicts.
//!
//! # Course of the infection
//!
//! At infection each agent's prognosis is drawn from its age band (asymptomatic,
//! symptomatic-mild, severe, critical, death: [`DiseaseParams`], Covasim's defaults) and
//! the time to its next stage from whole-day lognormal distributions; stages: exposed →
//! infectious (asymptomatic, or presymptomatic → symptomatic) → recovered, or → severe
//! (hospitalised, no longer transmitting) → critical → recovered or dead. Recovery gives
//! immunity for the rest of the run.
//!
//! # Interventions ([`InterventionParams`])
//!
//! Symptomatic people are tested with a daily probability and diagnosed after a delay;
//! diagnosed people isolate until their infection ends; their household members, classmates
//! and colleagues are traced with given probabilities after a delay and quarantined for a
//! number of days.
//!
//! # Reproducibility and threads
//!
//! Every random draw is a function of `(seed, purpose, agent, day)` (counter-based: a
//! SplitMix64 mix of the key), the active infections are split into contiguous chunks and the
//! chunks' results merged in order, an agent proposed for infection by several infectors the
//! same day being infected by the first in that order. So the same seed gives the same
//! result, bit for bit, with any number of threads. Tracing is split by ranges of
//! municipalities (contacts live in the case's municipality) and does not depend on the
//! order of the cases. The population is built municipality by municipality, each from its
//! own stream, so it too is the same for any number of threads.
//!
//! # Simplifications
//!
//! No weekly rhythm (schools and workplaces every day); everyone studies or works in the
//! municipality of residence; no teachers in classes; hospitalised patients do not transmit
//! and hospitals have no capacity limit; tests are perfect and a result due after the
//! infection ended is not counted; immunity, from infection or from the start, lasts the
//! whole run; one agent per resident (no scaling).
//!
//! # Cost
//!
//! Per day `O(active infections + transmission events)`, plus a sequential merge; memory
//! about 9 bytes per agent for the population (plus 4 per pupil or worker), 3 more during a
//! run (status and quarantine), and 24 bytes per active infection. The active infections are
//! kept as one run per infection day, each sorted by agent, and the contacts of a batch of
//! events are read together: the random reads into the population arrays are what bounds
//! the speed. Measured on a shared 2-core machine: Cuba's 11.2 M for 180 days, with 85 % of
//! them infected, builds in about 0.5 s and runs in about 4 s on one thread, 2.5 s on two,
//! in 260 MB.

mod disease;
mod output;
mod params;
mod population;
mod rng;
mod sim;

pub use disease::LayerR0;
pub use output::{AbmResult, AgeBandTotals, AreaSeries, DayRow, LayerCounts, MunicipalitySeries};
pub use params::{
    AbmParams, AgeBandRisk, ContactFactors, DiseaseParams, InterventionParams, LayerParams,
    LognormalDays, PopulationParams, QuarantineParams, TestingParams, TracingParams,
};
pub use population::{
    GroupKind, MunicipalityInfo, MunicipalityPopulation, Population, SYNTHETIC_MUNICIPALITY_AGENTS,
};
pub use sim::simulate;

use crate::EpiError;

/// Most agents in one population (Cuba has 11.2 M).
pub const MAX_AGENTS: u64 = 20_000_000;
/// Most municipalities (Cuba has 168).
pub const MAX_MUNICIPALITIES: usize = 500;
/// Longest run, in days (ten years).
pub const MAX_DAYS: u32 = 3_650;
/// Most threads.
pub const MAX_THREADS: usize = 256;
/// Largest household, and most household-size classes.
pub const MAX_HOUSEHOLD_SIZE: usize = 20;
/// Largest class or workplace.
pub const MAX_GROUP_SIZE: u32 = 1_000;
/// Most five-year bands in the age pyramid (ages up to 104).
pub const MAX_PYRAMID_BANDS: usize = 21;
/// Most prognosis age bands.
pub const MAX_PROGNOSIS_BANDS: usize = 20;
/// Largest R0 accepted.
pub const MAX_R0: f64 = 20.0;
/// Largest relative transmissibility or susceptibility.
pub const MAX_WEIGHT: f64 = 100.0;
/// Most contacts per day in a layer.
pub const MAX_CONTACTS_PER_DAY: f64 = 200.0;
/// Largest mean or standard deviation of a duration, in days.
pub const MAX_MEAN_DAYS: f64 = 60.0;
/// Longest duration drawn, in days (the lognormal tail beyond is put here).
pub const MAX_DURATION_DAYS: u16 = 150;
/// Longest test or tracing delay, in days.
pub const MAX_DELAY_DAYS: u16 = 30;
/// Longest quarantine, in days.
pub const MAX_QUARANTINE_DAYS: u16 = 90;
/// Cumulative infections, as a share of the population, up to which a day belongs to the
/// early phase ([`AbmResult::early_generation_interval_counts`]).
pub const EARLY_PHASE_SHARE: f64 = 0.02;

fn check_threads(threads: usize) -> Result<(), EpiError> {
    if threads == 0 || threads > MAX_THREADS {
        Err(EpiError::invalid(
            "threads",
            format!("debe estar entre 1 y {MAX_THREADS}; se recibió {threads}"),
        ))
    } else {
        Ok(())
    }
}
