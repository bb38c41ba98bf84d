//! Parameters of the synthetic population and of the epidemic, with their defaults and
//! their checks.

use serde::{Deserialize, Serialize};

use super::{
    MAX_CONTACTS_PER_DAY, MAX_DAYS, MAX_DELAY_DAYS, MAX_GROUP_SIZE, MAX_HOUSEHOLD_SIZE,
    MAX_MEAN_DAYS, MAX_PROGNOSIS_BANDS, MAX_PYRAMID_BANDS, MAX_QUARANTINE_DAYS, MAX_R0, MAX_WEIGHT,
};
use crate::EpiError;

/// How the synthetic population is made: age pyramid, households, schools, workplaces.
///
/// The defaults describe Cuba around 2020:
/// - **Ages.** Five-year bands `0–4, 5–9, …, 85–89, 90–94` (the last band stands for 90+).
///   The broad shares are published facts: 0–14 years 16.0 %, 65+ 15.6 % (World Bank /
///   UN World Population Prospects 2019, Cuba 2019), 60+ about 21 % (ONEI, Anuario
///   Demográfico de Cuba). The split inside them follows the shape of Cuba's birth cohorts
///   (the 1960s baby boom, now 50–59, and small cohorts since 1990) and is an approximation
///   made for this model: a caller with ONEI's table by age passes it here.
/// - **Households.** Mean 3.0 persons (Censo de Población y Viviendas 2012, ONEI: about
///   3 persons per household); the shares by size are an assumption with that mean. Each
///   household has one adult (18+) as reference person; the other members are drawn at
///   random from the rest of the municipality's ages (no finer family structure).
/// - **Schools.** Ages 5–18, 95 % enrolled, classes of at most 30 of one age, in the
///   municipality of residence.
/// - **Work.** 63 % of those aged 19–64 and not at school work (Cuba: about 4.6 M employed
///   of about 7.3 M aged 19–64, ONEI 2019), in workplaces of the municipality of residence
///   whose size is `2 + geometric`, mean 15, at most 200 (an assumption).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PopulationParams {
    /// Relative size of each five-year age band, youngest first (normalised to sum 1).
    pub age_band_shares: Vec<f64>,
    /// Relative frequency of households of 1, 2, 3… persons (normalised to sum 1).
    pub household_size_shares: Vec<f64>,
    /// Youngest age of a household's reference person.
    pub adult_min_age: u8,
    /// Youngest school age.
    pub school_min_age: u8,
    /// Oldest school age.
    pub school_max_age: u8,
    /// Share of school-age children enrolled.
    pub school_enrollment: f64,
    /// Largest class (children of one age and municipality are split into equal classes).
    pub class_size: u32,
    /// Youngest working age.
    pub work_min_age: u8,
    /// Oldest working age.
    pub work_max_age: u8,
    /// Share of working-age people not at school who have a workplace.
    pub employment_rate: f64,
    /// Mean workplace size (workers).
    pub workplace_mean_size: f64,
    /// Largest workplace.
    pub workplace_max_size: u32,
}

impl Default for PopulationParams {
    fn default() -> Self {
        PopulationParams {
            age_band_shares: vec![
                5.0, 5.4, 5.6, // 0–14: 16.0 %
                5.6, 6.0, 6.7, 6.4, 6.0, 6.8, 8.0, 9.0, 8.4, 5.5, // 15–64: 68.4 %
                4.9, 3.9, 2.9, 2.1, 1.2, 0.6, // 65+: 15.6 %
            ],
            household_size_shares: vec![0.15, 0.25, 0.26, 0.19, 0.09, 0.04, 0.02],
            adult_min_age: 18,
            school_min_age: 5,
            school_max_age: 18,
            school_enrollment: 0.95,
            class_size: 30,
            work_min_age: 19,
            work_max_age: 64,
            employment_rate: 0.63,
            workplace_mean_size: 15.0,
            workplace_max_size: 200,
        }
    }
}

impl PopulationParams {
    /// Cuba's defaults (the same as [`Default`]).
    pub fn cuba() -> Self {
        Self::default()
    }

    /// The oldest age an agent can have: the last band's five years.
    pub fn max_age(&self) -> usize {
        self.age_band_shares.len() * 5 - 1
    }

    /// Mean household size of the configured distribution.
    pub fn mean_household_size(&self) -> f64 {
        let total: f64 = self.household_size_shares.iter().sum();
        (1..)
            .zip(&self.household_size_shares)
            .map(|(size, share)| f64::from(size) * share)
            .sum::<f64>()
            / total
    }

    /// Refuses what the population builder cannot honour.
    pub fn validate(&self) -> Result<(), EpiError> {
        check_shares(
            "population.age_band_shares",
            &self.age_band_shares,
            MAX_PYRAMID_BANDS,
        )?;
        check_shares(
            "population.household_size_shares",
            &self.household_size_shares,
            MAX_HOUSEHOLD_SIZE,
        )?;
        let max_age = self.max_age();
        let ages = [
            ("population.adult_min_age", self.adult_min_age),
            ("population.school_min_age", self.school_min_age),
            ("population.school_max_age", self.school_max_age),
            ("population.work_min_age", self.work_min_age),
            ("population.work_max_age", self.work_max_age),
        ];
        for (name, age) in ages {
            if usize::from(age) > max_age {
                return Err(EpiError::invalid(
                    name,
                    format!(
                        "la edad {age} supera la mayor de la pirámide ({max_age} años, \
                         {} franjas de 5 años)",
                        self.age_band_shares.len()
                    ),
                ));
            }
        }
        let adults: f64 = self
            .age_band_shares
            .iter()
            .enumerate()
            .filter(|(band, _)| band * 5 >= usize::from(self.adult_min_age))
            .map(|(_, share)| share)
            .sum();
        if adults <= 0.0 {
            return Err(EpiError::invalid(
                "population.adult_min_age",
                format!(
                    "ninguna franja de la pirámide empieza a los {} años o después: no habría \
                     adultos que encabecen los hogares",
                    self.adult_min_age
                ),
            ));
        }
        if self.school_min_age > self.school_max_age {
            return Err(EpiError::invalid(
                "population.school_min_age",
                format!(
                    "la edad escolar mínima ({}) supera la máxima ({})",
                    self.school_min_age, self.school_max_age
                ),
            ));
        }
        if self.work_min_age > self.work_max_age {
            return Err(EpiError::invalid(
                "population.work_min_age",
                format!(
                    "la edad laboral mínima ({}) supera la máxima ({})",
                    self.work_min_age, self.work_max_age
                ),
            ));
        }
        check_probability("population.school_enrollment", self.school_enrollment)?;
        check_probability("population.employment_rate", self.employment_rate)?;
        if self.class_size == 0 || self.class_size > MAX_GROUP_SIZE {
            return Err(EpiError::invalid(
                "population.class_size",
                format!(
                    "debe estar entre 1 y {MAX_GROUP_SIZE}; se recibió {}",
                    self.class_size
                ),
            ));
        }
        if self.workplace_max_size < 2 || self.workplace_max_size > MAX_GROUP_SIZE {
            return Err(EpiError::invalid(
                "population.workplace_max_size",
                format!(
                    "debe estar entre 2 y {MAX_GROUP_SIZE}; se recibió {}",
                    self.workplace_max_size
                ),
            ));
        }
        let mean = self.workplace_mean_size;
        if !mean.is_finite() || mean < 2.0 || mean > f64::from(self.workplace_max_size) {
            return Err(EpiError::invalid(
                "population.workplace_mean_size",
                format!(
                    "debe estar entre 2 y el tamaño máximo ({}); se recibió {mean}",
                    self.workplace_max_size
                ),
            ));
        }
        Ok(())
    }
}

/// A duration in days, lognormal with this mean and standard deviation, rounded to whole
/// days (Covasim's `lognormal_int`).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LognormalDays {
    /// Mean, in days.
    pub mean_days: f64,
    /// Standard deviation, in days (0: always the mean, rounded).
    pub sd_days: f64,
}

impl LognormalDays {
    const fn new(mean_days: f64, sd_days: f64) -> Self {
        LognormalDays { mean_days, sd_days }
    }

    fn validate(self, name: &'static str) -> Result<(), EpiError> {
        if !self.mean_days.is_finite() || self.mean_days <= 0.0 || self.mean_days > MAX_MEAN_DAYS {
            return Err(EpiError::invalid(
                name,
                format!(
                    "la duración media debe ser mayor que 0 y no pasar de {MAX_MEAN_DAYS} días; \
                     se recibió {}",
                    self.mean_days
                ),
            ));
        }
        if !self.sd_days.is_finite() || self.sd_days < 0.0 || self.sd_days > MAX_MEAN_DAYS {
            return Err(EpiError::invalid(
                name,
                format!(
                    "la desviación típica debe estar entre 0 y {MAX_MEAN_DAYS} días; se recibió {}",
                    self.sd_days
                ),
            ));
        }
        Ok(())
    }
}

/// Risks of one age band. Probabilities are *per infection* (absolute, as in Covasim's
/// `get_prognoses` before it makes them conditional), so they must not increase along
/// `symptomatic ≥ severe ≥ critical ≥ death`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AgeBandRisk {
    /// Youngest age of the band (the band ends where the next begins).
    pub min_age: u8,
    /// Susceptibility relative to the other bands (scaled so the largest is 1).
    pub relative_susceptibility: f64,
    /// Probability that an infection becomes symptomatic.
    pub symptomatic: f64,
    /// Probability that an infection becomes severe (hospitalised).
    pub severe: f64,
    /// Probability that an infection becomes critical (intensive care).
    pub critical: f64,
    /// Probability that an infection ends in death.
    pub death: f64,
}

/// Natural history of the infection.
///
/// Defaults: Covasim 3.1 / 4.0 (`covasim/parameters.py`, `make_pars` and `get_prognoses`):
/// durations from Lauer et al. 2020, Linton et al. 2020, Wölfel et al. 2020 and Verity et al.
/// 2020; symptomatic shares by decade from Davies et al.'s preprint, scaled; severe and
/// critical from Ferguson et al. (Imperial College Report 9, Table 1); deaths from O'Driscoll
/// et al. 2021 and Brazeau et al. (Report 34); relative susceptibility from Zhang et al. 2020.
/// Asymptomatic infections are half as infectious (Davies et al., *Nat. Med.* 26, 2020,
/// assumed subclinical infectiousness of 50 %; Covasim's own default is 1).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DiseaseParams {
    /// Infection to infectiousness.
    pub latent: LognormalDays,
    /// Infectiousness to symptoms, for those who will have symptoms.
    pub presymptomatic: LognormalDays,
    /// Infectiousness to recovery without symptoms.
    pub asymptomatic_to_recovered: LognormalDays,
    /// Symptoms to recovery, mild cases.
    pub mild_to_recovered: LognormalDays,
    /// Symptoms to severe disease (hospital admission).
    pub symptomatic_to_severe: LognormalDays,
    /// Severe to critical.
    pub severe_to_critical: LognormalDays,
    /// Severe to recovery, for those who do not become critical.
    pub severe_to_recovered: LognormalDays,
    /// Critical to recovery.
    pub critical_to_recovered: LognormalDays,
    /// Critical to death.
    pub critical_to_death: LognormalDays,
    /// Infectiousness of an asymptomatic infection relative to a symptomatic one.
    pub asymptomatic_relative_infectiousness: f64,
    /// Risks by age band, youngest first; the first band starts at 0.
    pub age_bands: Vec<AgeBandRisk>,
}

impl Default for DiseaseParams {
    fn default() -> Self {
        // Covasim's get_prognoses(), absolute probabilities per infection, by decade.
        const MIN_AGE: [u8; 10] = [0, 10, 20, 30, 40, 50, 60, 70, 80, 90];
        const SUSCEPTIBILITY: [f64; 10] = [0.34, 0.67, 1.0, 1.0, 1.0, 1.0, 1.24, 1.47, 1.47, 1.47];
        const SYMPTOMATIC: [f64; 10] = [0.50, 0.55, 0.60, 0.65, 0.70, 0.75, 0.80, 0.85, 0.90, 0.90];
        const SEVERE: [f64; 10] = [
            0.00050, 0.00165, 0.00720, 0.02080, 0.03430, 0.07650, 0.13280, 0.20655, 0.24570,
            0.24570,
        ];
        const CRITICAL: [f64; 10] = [
            0.00003, 0.00008, 0.00036, 0.00104, 0.00216, 0.00933, 0.03639, 0.08923, 0.17420,
            0.17420,
        ];
        const DEATH: [f64; 10] = [
            0.00002, 0.00002, 0.00010, 0.00032, 0.00098, 0.00265, 0.00766, 0.02439, 0.08292,
            0.16190,
        ];
        let age_bands = (0..10)
            .map(|i| AgeBandRisk {
                min_age: MIN_AGE[i],
                relative_susceptibility: SUSCEPTIBILITY[i],
                symptomatic: SYMPTOMATIC[i],
                severe: SEVERE[i],
                critical: CRITICAL[i],
                death: DEATH[i],
            })
            .collect();
        DiseaseParams {
            latent: LognormalDays::new(4.5, 1.5),
            presymptomatic: LognormalDays::new(1.1, 0.9),
            asymptomatic_to_recovered: LognormalDays::new(8.0, 2.0),
            mild_to_recovered: LognormalDays::new(8.0, 2.0),
            symptomatic_to_severe: LognormalDays::new(6.6, 4.9),
            severe_to_critical: LognormalDays::new(1.5, 2.0),
            severe_to_recovered: LognormalDays::new(18.1, 6.3),
            critical_to_recovered: LognormalDays::new(18.1, 6.3),
            critical_to_death: LognormalDays::new(10.7, 4.8),
            asymptomatic_relative_infectiousness: 0.5,
            age_bands,
        }
    }
}

impl DiseaseParams {
    /// The durations with their parameter names, in the order the model keeps them.
    pub(crate) fn durations(&self) -> [(&'static str, LognormalDays); 9] {
        [
            ("disease.latent", self.latent),
            ("disease.presymptomatic", self.presymptomatic),
            (
                "disease.asymptomatic_to_recovered",
                self.asymptomatic_to_recovered,
            ),
            ("disease.mild_to_recovered", self.mild_to_recovered),
            ("disease.symptomatic_to_severe", self.symptomatic_to_severe),
            ("disease.severe_to_critical", self.severe_to_critical),
            ("disease.severe_to_recovered", self.severe_to_recovered),
            ("disease.critical_to_recovered", self.critical_to_recovered),
            ("disease.critical_to_death", self.critical_to_death),
        ]
    }

    /// The index of the band of `age`.
    pub fn band_of(&self, age: u8) -> usize {
        self.age_bands
            .partition_point(|band| band.min_age <= age)
            .saturating_sub(1)
    }

    fn validate(&self) -> Result<(), EpiError> {
        for (name, duration) in self.durations() {
            duration.validate(name)?;
        }
        check_probability(
            "disease.asymptomatic_relative_infectiousness",
            self.asymptomatic_relative_infectiousness,
        )?;
        let bands = &self.age_bands;
        if bands.is_empty() || bands.len() > MAX_PROGNOSIS_BANDS {
            return Err(EpiError::invalid(
                "disease.age_bands",
                format!(
                    "hacen falta entre 1 y {MAX_PROGNOSIS_BANDS} franjas de edad; se recibieron {}",
                    bands.len()
                ),
            ));
        }
        if bands[0].min_age != 0 {
            return Err(EpiError::invalid(
                "disease.age_bands",
                format!(
                    "la primera franja debe empezar a los 0 años; empieza a los {}",
                    bands[0].min_age
                ),
            ));
        }
        for pair in bands.windows(2) {
            if pair[1].min_age <= pair[0].min_age {
                return Err(EpiError::invalid(
                    "disease.age_bands",
                    format!(
                        "las franjas deben ir de menor a mayor edad: {} no sigue a {}",
                        pair[1].min_age, pair[0].min_age
                    ),
                ));
            }
        }
        let mut any_susceptible = false;
        for band in bands {
            let s = band.relative_susceptibility;
            if !s.is_finite() || !(0.0..=MAX_WEIGHT).contains(&s) {
                return Err(EpiError::invalid(
                    "disease.age_bands.relative_susceptibility",
                    format!(
                        "debe estar entre 0 y {MAX_WEIGHT} (franja desde {} años); se recibió {s}",
                        band.min_age
                    ),
                ));
            }
            any_susceptible |= s > 0.0;
            let probabilities = [
                ("disease.age_bands.symptomatic", band.symptomatic),
                ("disease.age_bands.severe", band.severe),
                ("disease.age_bands.critical", band.critical),
                ("disease.age_bands.death", band.death),
            ];
            for (name, p) in probabilities {
                check_probability(name, p)?;
            }
            for pair in probabilities.windows(2) {
                if pair[1].1 > pair[0].1 {
                    return Err(EpiError::invalid(
                        pair[1].0,
                        format!(
                            "es una probabilidad por infección y no puede superar la del estado \
                             anterior ({} = {} < {}, franja desde {} años)",
                            pair[0].0, pair[0].1, pair[1].1, band.min_age
                        ),
                    ));
                }
            }
        }
        if !any_susceptible {
            return Err(EpiError::invalid(
                "disease.age_bands.relative_susceptibility",
                "todas las franjas tienen susceptibilidad 0: nadie podría infectarse",
            ));
        }
        Ok(())
    }
}

/// Contact layers. Defaults: Covasim's "hybrid" population (`reset_layer_pars`): contacts per
/// day household all members, school 20, work 16, community 20, with relative
/// transmissibility per contact 3.0, 0.6, 0.6 and 0.3 (in part from Zhang et al. 2020,
/// *Science*, Table S14). The absolute transmissibility is not a parameter: it is solved so
/// that the basic reproduction number is [`AbmParams::r0`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LayerParams {
    /// Relative transmissibility of a household contact (every member, every day).
    pub household_weight: f64,
    /// Contacts per day of a pupil with classmates (drawn from the class each day).
    pub school_contacts_per_day: f64,
    /// Relative transmissibility of a school contact.
    pub school_weight: f64,
    /// Contacts per day of a worker with colleagues (drawn from the workplace each day).
    pub work_contacts_per_day: f64,
    /// Relative transmissibility of a work contact.
    pub work_weight: f64,
    /// Community contacts per day, drawn among all residents of the municipality.
    pub community_contacts_per_day: f64,
    /// Relative transmissibility of a community contact.
    pub community_weight: f64,
    /// Share of community contacts made outside the municipality.
    pub travel_share: f64,
    /// Of those, the share made in the same province (the rest anywhere in the country).
    /// The province is the part of the municipality code before the first `.`
    /// (`23.04` is in province `23`); a code without `.` is its own province.
    pub travel_within_province_share: f64,
}

impl Default for LayerParams {
    fn default() -> Self {
        LayerParams {
            household_weight: 3.0,
            school_contacts_per_day: 20.0,
            school_weight: 0.6,
            work_contacts_per_day: 16.0,
            work_weight: 0.6,
            community_contacts_per_day: 20.0,
            community_weight: 0.3,
            travel_share: 0.05,
            travel_within_province_share: 0.75,
        }
    }
}

impl LayerParams {
    fn validate(&self) -> Result<(), EpiError> {
        let weights = [
            ("layers.household_weight", self.household_weight),
            ("layers.school_weight", self.school_weight),
            ("layers.work_weight", self.work_weight),
            ("layers.community_weight", self.community_weight),
        ];
        for (name, w) in weights {
            check_range(name, w, MAX_WEIGHT)?;
        }
        let contacts = [
            (
                "layers.school_contacts_per_day",
                self.school_contacts_per_day,
            ),
            ("layers.work_contacts_per_day", self.work_contacts_per_day),
            (
                "layers.community_contacts_per_day",
                self.community_contacts_per_day,
            ),
        ];
        for (name, c) in contacts {
            check_range(name, c, MAX_CONTACTS_PER_DAY)?;
        }
        check_probability("layers.travel_share", self.travel_share)?;
        check_probability(
            "layers.travel_within_province_share",
            self.travel_within_province_share,
        )?;
        Ok(())
    }
}

/// Multipliers of transmission while a person is isolated or quarantined: one for household
/// contacts, one for all others (school, work, community). They apply both to what the
/// person transmits and to what they can catch (Covasim's `iso_factor` / `quar_factor`).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ContactFactors {
    /// Multiplier of household transmission, in `[0, 1]`.
    pub household: f64,
    /// Multiplier of transmission outside the household, in `[0, 1]`.
    pub other: f64,
}

impl ContactFactors {
    fn validate(self, household: &'static str, other: &'static str) -> Result<(), EpiError> {
        check_probability(household, self.household)?;
        check_probability(other, self.other)
    }
}

/// Testing of people with symptoms.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TestingParams {
    /// Probability per day that a person with symptoms, not yet tested, is tested.
    pub symptomatic_test_prob_per_day: f64,
    /// The same for people in quarantine (they are followed more closely).
    pub quarantined_test_prob_per_day: f64,
    /// Days from the test to its result (the diagnosis). A result due after the infection
    /// has ended is not counted.
    pub result_delay_days: u16,
}

/// Tracing of the contacts of each diagnosed person.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TracingParams {
    /// Probability that each household member is traced.
    pub household_prob: f64,
    /// Probability that each classmate or colleague is traced.
    pub group_prob: f64,
    /// Days from the diagnosis to the tracing (and the start of quarantine).
    pub delay_days: u16,
}

/// Quarantine of traced contacts.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QuarantineParams {
    /// Days in quarantine from the day of tracing.
    pub duration_days: u16,
    /// Transmission multipliers while in quarantine.
    pub factors: ContactFactors,
}

/// Testing, isolation, contact tracing and quarantine; each `None` is off. Isolation and
/// tracing act on diagnoses, so they need testing; quarantine acts on traced contacts, so it
/// needs tracing (and tracing without quarantine changes nothing). [`Default`] is everything off; [`InterventionParams::standard`] is
/// everything on with typical values.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct InterventionParams {
    /// First day (0-based) on which people are tested.
    pub start_day: u32,
    /// Testing of symptomatic people.
    pub testing: Option<TestingParams>,
    /// Isolation of diagnosed people until their infection ends.
    pub isolation: Option<ContactFactors>,
    /// Tracing of household members, classmates and colleagues of diagnosed people.
    pub tracing: Option<TracingParams>,
    /// Quarantine of traced contacts.
    pub quarantine: Option<QuarantineParams>,
}

impl InterventionParams {
    /// Everything on: a symptomatic person is tested with probability 0.3 a day (0.8 in
    /// quarantine), with the result the next day; diagnosed people isolate (household
    /// transmission × 0.3, other × 0.05); 90 % of household members and 50 % of classmates
    /// and colleagues are traced two days after the diagnosis and quarantined 14 days
    /// (household × 0.6, other × 0.2: Covasim's `quar_factor`).
    pub fn standard() -> Self {
        InterventionParams {
            start_day: 0,
            testing: Some(TestingParams {
                symptomatic_test_prob_per_day: 0.3,
                quarantined_test_prob_per_day: 0.8,
                result_delay_days: 1,
            }),
            isolation: Some(ContactFactors {
                household: 0.3,
                other: 0.05,
            }),
            tracing: Some(TracingParams {
                household_prob: 0.9,
                group_prob: 0.5,
                delay_days: 2,
            }),
            quarantine: Some(QuarantineParams {
                duration_days: 14,
                factors: ContactFactors {
                    household: 0.6,
                    other: 0.2,
                },
            }),
        }
    }

    fn validate(&self) -> Result<(), EpiError> {
        if self.start_day > MAX_DAYS {
            return Err(EpiError::invalid(
                "interventions.start_day",
                format!(
                    "no puede pasar de {MAX_DAYS} días; se recibió {}",
                    self.start_day
                ),
            ));
        }
        if let Some(testing) = &self.testing {
            check_probability(
                "interventions.testing.symptomatic_test_prob_per_day",
                testing.symptomatic_test_prob_per_day,
            )?;
            check_probability(
                "interventions.testing.quarantined_test_prob_per_day",
                testing.quarantined_test_prob_per_day,
            )?;
            check_delay(
                "interventions.testing.result_delay_days",
                testing.result_delay_days,
            )?;
        }
        if let Some(isolation) = &self.isolation {
            isolation.validate(
                "interventions.isolation.household",
                "interventions.isolation.other",
            )?;
            if self.testing.is_none() {
                return Err(EpiError::invalid(
                    "interventions.isolation",
                    "el aislamiento se aplica a los diagnosticados: necesita `testing`",
                ));
            }
        }
        if let Some(tracing) = &self.tracing {
            check_probability(
                "interventions.tracing.household_prob",
                tracing.household_prob,
            )?;
            check_probability("interventions.tracing.group_prob", tracing.group_prob)?;
            check_delay("interventions.tracing.delay_days", tracing.delay_days)?;
            if self.testing.is_none() {
                return Err(EpiError::invalid(
                    "interventions.tracing",
                    "el rastreo parte de los diagnosticados: necesita `testing`",
                ));
            }
        }
        if let Some(quarantine) = &self.quarantine {
            if quarantine.duration_days == 0 || quarantine.duration_days > MAX_QUARANTINE_DAYS {
                return Err(EpiError::invalid(
                    "interventions.quarantine.duration_days",
                    format!(
                        "debe estar entre 1 y {MAX_QUARANTINE_DAYS} días; se recibió {}",
                        quarantine.duration_days
                    ),
                ));
            }
            quarantine.factors.validate(
                "interventions.quarantine.factors.household",
                "interventions.quarantine.factors.other",
            )?;
            if self.tracing.is_none() {
                return Err(EpiError::invalid(
                    "interventions.quarantine",
                    "la cuarentena se aplica a los contactos rastreados: necesita `tracing`",
                ));
            }
        }
        Ok(())
    }
}

/// Everything that defines an epidemic on a [`super::Population`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AbmParams {
    /// Basic reproduction number: expected secondary infections of one case in a fully
    /// susceptible population without interventions (how it sets transmissibility: see the
    /// module documentation).
    pub r0: f64,
    /// Infections on day 0.
    pub initial_infected: u32,
    /// Municipality code where the initial infections are; `None`: anywhere, at random.
    pub initial_municipality: Option<String>,
    /// Share of the population immune on day 0 (vaccinated or recovered), at random.
    pub initial_immune_share: f64,
    /// Contact layers.
    pub layers: LayerParams,
    /// Natural history.
    pub disease: DiseaseParams,
    /// Interventions.
    pub interventions: InterventionParams,
}

impl Default for AbmParams {
    fn default() -> Self {
        AbmParams {
            r0: 2.5,
            initial_infected: 100,
            initial_municipality: None,
            initial_immune_share: 0.0,
            layers: LayerParams::default(),
            disease: DiseaseParams::default(),
            interventions: InterventionParams::default(),
        }
    }
}

impl AbmParams {
    /// Refuses parameters outside their domain (what does not depend on the population;
    /// [`super::simulate`] checks the rest).
    pub fn validate(&self) -> Result<(), EpiError> {
        if !self.r0.is_finite() || self.r0 <= 0.0 || self.r0 > MAX_R0 {
            return Err(EpiError::invalid(
                "r0",
                format!(
                    "debe ser mayor que 0 y no pasar de {MAX_R0}; se recibió {}",
                    self.r0
                ),
            ));
        }
        if self.initial_infected == 0 {
            return Err(EpiError::invalid(
                "initial_infected",
                "hace falta al menos una infección inicial; se recibió 0",
            ));
        }
        if !self.initial_immune_share.is_finite()
            || self.initial_immune_share < 0.0
            || self.initial_immune_share >= 1.0
        {
            return Err(EpiError::invalid(
                "initial_immune_share",
                format!(
                    "debe estar en [0, 1) (con 1 nadie podría infectarse); se recibió {}",
                    self.initial_immune_share
                ),
            ));
        }
        self.layers.validate()?;
        self.disease.validate()?;
        self.interventions.validate()
    }
}

fn check_probability(name: &'static str, p: f64) -> Result<(), EpiError> {
    if p.is_finite() && (0.0..=1.0).contains(&p) {
        Ok(())
    } else {
        Err(EpiError::invalid(
            name,
            format!("debe ser una proporción entre 0 y 1; se recibió {p}"),
        ))
    }
}

fn check_range(name: &'static str, value: f64, max: f64) -> Result<(), EpiError> {
    if value.is_finite() && (0.0..=max).contains(&value) {
        Ok(())
    } else {
        Err(EpiError::invalid(
            name,
            format!("debe estar entre 0 y {max}; se recibió {value}"),
        ))
    }
}

fn check_delay(name: &'static str, days: u16) -> Result<(), EpiError> {
    if days > MAX_DELAY_DAYS {
        Err(EpiError::invalid(
            name,
            format!("no puede pasar de {MAX_DELAY_DAYS} días; se recibió {days}"),
        ))
    } else {
        Ok(())
    }
}

fn check_shares(name: &'static str, shares: &[f64], max_len: usize) -> Result<(), EpiError> {
    if shares.is_empty() || shares.len() > max_len {
        return Err(EpiError::invalid(
            name,
            format!(
                "hacen falta entre 1 y {max_len} valores; se recibieron {}",
                shares.len()
            ),
        ));
    }
    if let Some(bad) = shares.iter().find(|s| !s.is_finite() || **s < 0.0) {
        return Err(EpiError::invalid(
            name,
            format!("los pesos deben ser números no negativos; se recibió {bad}"),
        ));
    }
    if shares.iter().sum::<f64>() <= 0.0 {
        return Err(EpiError::invalid(name, "todos los pesos son 0"));
    }
    Ok(())
}
