//! Natural history in whole days, and the transmissibility that gives the configured R0.

use serde::Serialize;

use super::params::{AbmParams, LognormalDays};
use super::population::{KINDS, Population, mean_other_members};
use super::rng::{to_f64, u64_to_f64};
use super::{MAX_DURATION_DAYS, MAX_HOUSEHOLD_SIZE};
use crate::EpiError;

/// Indices of the durations, in [`super::params::DiseaseParams::durations`] order.
pub(crate) const LATENT: usize = 0;
pub(crate) const PRESYMPTOMATIC: usize = 1;
pub(crate) const ASYMPTOMATIC_TO_RECOVERED: usize = 2;
pub(crate) const MILD_TO_RECOVERED: usize = 3;
pub(crate) const SYMPTOMATIC_TO_SEVERE: usize = 4;
pub(crate) const SEVERE_TO_CRITICAL: usize = 5;
pub(crate) const SEVERE_TO_RECOVERED: usize = 6;
pub(crate) const CRITICAL_TO_RECOVERED: usize = 7;
pub(crate) const CRITICAL_TO_DEATH: usize = 8;
/// Shortest value of each duration. Latency and the stays that end an infectious or a
/// hospital stage last at least a day; presymptomatic and severe-to-critical may take 0
/// days (symptoms, or intensive care, the same day), as in Covasim.
const MIN_DAYS: [usize; 9] = [1, 0, 1, 1, 1, 0, 1, 1, 1];

/// Probabilities of each whole number of days `0..=MAX_DURATION_DAYS`: a lognormal with the
/// given mean and standard deviation, rounded to the nearest day, the tail beyond the
/// maximum put on the maximum and what falls below `min_days` put on `min_days`.
pub(crate) fn duration_pmf(d: LognormalDays, min_days: usize) -> Vec<f64> {
    let max = usize::from(MAX_DURATION_DAYS);
    let mut pmf = vec![0.0; max + 1];
    if d.sd_days == 0.0 {
        let day = rounded_days(d.mean_days).clamp(min_days, max);
        pmf[day] = 1.0;
        return pmf;
    }
    let sigma2 = (1.0 + (d.sd_days / d.mean_days).powi(2)).ln();
    let (mu, sigma) = (d.mean_days.ln() - sigma2 / 2.0, sigma2.sqrt());
    let cdf = |x: f64| {
        if x <= 0.0 {
            0.0
        } else {
            0.5 * statrs::function::erf::erfc(-(x.ln() - mu) / (sigma * std::f64::consts::SQRT_2))
        }
    };
    let mut below = 0.0;
    for (day, p) in pmf.iter_mut().enumerate() {
        let upper = cdf(to_f64(day) + 0.5);
        *p = upper - below;
        below = upper;
    }
    pmf[max] += 1.0 - below;
    let early: f64 = pmf[..min_days].iter().sum();
    pmf[..min_days].fill(0.0);
    pmf[min_days] += early;
    pmf
}

#[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
fn rounded_days(mean_days: f64) -> usize {
    // Validated finite, positive and at most MAX_MEAN_DAYS: the cast is exact after round().
    mean_days.round() as usize
}

/// The distribution of the sum of two independent durations.
pub(crate) fn convolve(a: &[f64], b: &[f64]) -> Vec<f64> {
    let mut out = vec![0.0; a.len() + b.len() - 1];
    for (i, pa) in a.iter().enumerate().filter(|(_, p)| **p > 0.0) {
        for (j, pb) in b.iter().enumerate() {
            out[i + j] += pa * pb;
        }
    }
    out
}

/// All nine duration distributions.
pub(crate) fn duration_pmfs(params: &AbmParams) -> Vec<Vec<f64>> {
    params
        .disease
        .durations()
        .iter()
        .zip(MIN_DAYS)
        .map(|((_, d), min)| duration_pmf(*d, min))
        .collect()
}

/// `E[q^D]` for a duration distribution: the Laplace transform at `−ln q` (Horner).
fn generating(pmf: &[f64], q: f64) -> f64 {
    pmf.iter().rev().fold(0.0, |acc, p| acc * q + p)
}

fn mean(pmf: &[f64]) -> f64 {
    pmf.iter().enumerate().map(|(d, p)| to_f64(d) * p).sum()
}

/// Expected secondary infections of an index case, by layer, in a fully susceptible
/// population without interventions.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct LayerR0 {
    /// Household members infected.
    pub household: f64,
    /// Classmates infected.
    pub school: f64,
    /// Colleagues infected.
    pub work: f64,
    /// Community contacts infected.
    pub community: f64,
}

impl LayerR0 {
    /// The basic reproduction number: the sum over layers.
    pub fn total(&self) -> f64 {
        self.household + self.school + self.work + self.community
    }
}

/// The solved transmissibility.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Calibration {
    /// Transmission rate per contact-day of relative weight 1.
    pub(crate) beta: f64,
    pub(crate) by_layer: LayerR0,
}

/// The three kinds of infectious period: asymptomatic, mild, and symptomatic until
/// hospital admission (hospitalised patients do not transmit in the model).
struct InfectiousPeriods {
    pmf: [Vec<f64>; 3],
    mean_days: [f64; 3],
    infectiousness: [f64; 3],
}

/// What the calibration needs from the population, by prognosis band.
struct Mix {
    /// Index-case weight (agents × susceptibility) by `(band, kind)`, normalised; and the
    /// same weighted by the number of other household members.
    index_weight: Vec<[f64; KINDS]>,
    index_household_others: Vec<[f64; KINDS]>,
    /// Share of each band among all agents, pupils, workers.
    share: [Vec<f64>; KINDS],
    /// Mean number of other members of a pupil's class and a worker's workplace.
    group_others: [f64; 2],
}

/// Solves the transmission rate `β` for which the expected number of secondary infections
/// of an index case equals `params.r0`.
///
/// The model's transmission is a hazard: an infectious person exerts `β·w_H·ι` per day on
/// each household member, `β·w_G·k_G·ι / (G − 1)` on each other member of a class or
/// workplace of size `G` (`k_G` contacts a day among them), and makes `β·w_C·k_C·ι`
/// community contacts a day with random residents; `ι` is the relative infectiousness and a
/// contact infects a susceptible of band `a` with probability `s_a` (susceptibility scaled to
/// at most 1). Over an infectious period of `D` days a given household member escapes with
/// probability `E[exp(−β·w_H·ι·s_a·D)]`, computed exactly from the whole-day distribution of
/// `D`, so households (and groups) saturate as they do in the simulation. The index case is an
/// agent drawn with probability proportional to its susceptibility (whom an epidemic reaches
/// first); its household size, group and age are its own, its contacts' ages those of the
/// population, of pupils or of workers. The group size is replaced by its size-biased mean.
/// `R(β)` increases with `β`, so bisection finds it.
pub(crate) fn calibrate(
    population: &Population,
    params: &AbmParams,
    pmfs: &[Vec<f64>],
) -> Result<Calibration, EpiError> {
    let disease = &params.disease;
    let periods = InfectiousPeriods {
        pmf: [
            pmfs[ASYMPTOMATIC_TO_RECOVERED].clone(),
            convolve(&pmfs[PRESYMPTOMATIC], &pmfs[MILD_TO_RECOVERED]),
            convolve(&pmfs[PRESYMPTOMATIC], &pmfs[SYMPTOMATIC_TO_SEVERE]),
        ],
        mean_days: [0.0; 3],
        infectiousness: [disease.asymptomatic_relative_infectiousness, 1.0, 1.0],
    };
    let periods = InfectiousPeriods {
        mean_days: [
            mean(&periods.pmf[0]),
            mean(&periods.pmf[1]),
            mean(&periods.pmf[2]),
        ],
        ..periods
    };
    let susceptibility = scaled_susceptibility(params);
    let mix = mix_of(population, params, &susceptibility);
    // P(asymptomatic), P(mild), P(severe) by band.
    let course: Vec<[f64; 3]> = disease
        .age_bands
        .iter()
        .map(|b| [1.0 - b.symptomatic, b.symptomatic - b.severe, b.severe])
        .collect();

    let layers = &params.layers;
    let mean_susceptibility: f64 = mix.share[0]
        .iter()
        .zip(&susceptibility)
        .map(|(p, s)| p * s)
        .sum();
    let r_of = |beta: f64| -> LayerR0 {
        let escape = |share: &[f64], hazard: f64, t: usize| -> f64 {
            share
                .iter()
                .zip(&susceptibility)
                .map(|(p, s)| {
                    let q = (-hazard * s * periods.infectiousness[t]).exp();
                    p * (1.0 - generating(&periods.pmf[t], q))
                })
                .sum()
        };
        let mut r = LayerR0 {
            household: 0.0,
            school: 0.0,
            work: 0.0,
            community: 0.0,
        };
        for t in 0..3 {
            let household = escape(&mix.share[0], beta * layers.household_weight, t);
            let group = |g: usize, weight: f64, contacts: f64| {
                let others = mix.group_others[g];
                if others > 0.0 {
                    others * escape(&mix.share[g + 1], beta * weight * contacts / others, t)
                } else {
                    0.0
                }
            };
            let school = group(0, layers.school_weight, layers.school_contacts_per_day);
            let work = group(1, layers.work_weight, layers.work_contacts_per_day);
            let community = beta
                * layers.community_weight
                * layers.community_contacts_per_day
                * mean_susceptibility
                * periods.infectiousness[t]
                * periods.mean_days[t];
            for (band, p_course) in course.iter().enumerate() {
                let p = p_course[t];
                let [w_none, w_school, w_work] = mix.index_weight[band];
                let others = mix.index_household_others[band];
                r.household += p * (others[0] + others[1] + others[2]) * household;
                r.school += p * w_school * school;
                r.work += p * w_work * work;
                r.community += p * (w_none + w_school + w_work) * community;
            }
        }
        r
    };

    let target = params.r0;
    let mut high = 0.01;
    while r_of(high).total() < target {
        high *= 2.0;
        if high > 1e6 {
            return Err(EpiError::invalid(
                "r0",
                format!(
                    "con estas capas de contacto y esta población el R0 no puede llegar a \
                     {target} (los hogares y grupos se agotan; el máximo es ≈ {:.2})",
                    r_of(high).total()
                ),
            ));
        }
    }
    let mut low = 0.0;
    for _ in 0..200 {
        let mid = 0.5 * (low + high);
        if r_of(mid).total() < target {
            low = mid;
        } else {
            high = mid;
        }
        if high - low <= 1e-15 * high {
            break;
        }
    }
    let beta = 0.5 * (low + high);
    Ok(Calibration {
        beta,
        by_layer: r_of(beta),
    })
}

/// Relative susceptibility by band, scaled so the largest is 1 (it is a probability per
/// contact).
pub(crate) fn scaled_susceptibility(params: &AbmParams) -> Vec<f64> {
    let bands = &params.disease.age_bands;
    let max = bands
        .iter()
        .map(|b| b.relative_susceptibility)
        .fold(0.0, f64::max);
    bands
        .iter()
        .map(|b| b.relative_susceptibility / max)
        .collect()
}

fn mix_of(population: &Population, params: &AbmParams, susceptibility: &[f64]) -> Mix {
    let bands = params.disease.age_bands.len();
    let mut index_weight = vec![[0.0; KINDS]; bands];
    let mut index_household_others = vec![[0.0; KINDS]; bands];
    let mut counts = [vec![0.0; bands], vec![0.0; bands], vec![0.0; bands]];
    let max_age = population.params().max_age();
    for age in 0..=max_age {
        let band = params.disease.band_of(u8::try_from(age).unwrap_or(u8::MAX));
        for kind in 0..KINDS {
            for size in 1..=MAX_HOUSEHOLD_SIZE {
                let n = u64_to_f64(
                    population.composition[Population::composition_index(age, kind, size)],
                );
                if n == 0.0 {
                    continue;
                }
                index_weight[band][kind] += n * susceptibility[band];
                index_household_others[band][kind] += n * susceptibility[band] * to_f64(size - 1);
                counts[0][band] += n;
                if kind > 0 {
                    counts[kind][band] += n;
                }
            }
        }
    }
    let total_weight: f64 = index_weight.iter().flatten().sum();
    for w in index_weight
        .iter_mut()
        .chain(index_household_others.iter_mut())
        .flatten()
    {
        *w /= total_weight;
    }
    let share = counts.map(|c| {
        let total: f64 = c.iter().sum();
        c.iter()
            .map(|x| if total > 0.0 { x / total } else { 0.0 })
            .collect()
    });
    Mix {
        index_weight,
        index_household_others,
        share,
        group_others: [
            mean_other_members(population.group_size_moments[0]),
            mean_other_members(population.group_size_moments[1]),
        ],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pmf_of_a_fixed_duration_is_a_point_mass() {
        let pmf = duration_pmf(
            LognormalDays {
                mean_days: 4.4,
                sd_days: 0.0,
            },
            1,
        );
        assert_eq!(pmf[4], 1.0);
        assert!((pmf.iter().sum::<f64>() - 1.0).abs() < 1e-12);
    }

    #[test]
    fn pmf_matches_the_lognormal_moments() {
        // Rounding to whole days keeps the mean (symmetric error) and adds about 1/12 to the
        // variance (Sheppard's correction).
        let pmf = duration_pmf(
            LognormalDays {
                mean_days: 8.0,
                sd_days: 2.0,
            },
            0,
        );
        let m = mean(&pmf);
        let var: f64 = pmf
            .iter()
            .enumerate()
            .map(|(d, p)| (to_f64(d) - m).powi(2) * p)
            .sum();
        assert!((pmf.iter().sum::<f64>() - 1.0).abs() < 1e-9);
        assert!((m - 8.0).abs() < 0.01, "{m}");
        assert!((var - (4.0 + 1.0 / 12.0)).abs() < 0.05, "{var}");
    }

    #[test]
    fn convolution_adds_means() {
        let a = [0.5, 0.5];
        let b = [0.0, 0.25, 0.75];
        let c = convolve(&a, &b);
        assert!((mean(&c) - (mean(&a) + mean(&b))).abs() < 1e-12);
        assert!((c.iter().sum::<f64>() - 1.0).abs() < 1e-12);
        assert_eq!(c, vec![0.0, 0.125, 0.5, 0.375]);
    }

    #[test]
    fn generating_function_of_a_known_distribution() {
        // E[q^D] for D uniform on {1, 2}: (q + q²)/2.
        let pmf = [0.0, 0.5, 0.5];
        let q: f64 = 0.3;
        assert!((generating(&pmf, q) - (q + q * q) / 2.0).abs() < 1e-15);
    }
}
