//! The daily loop. Only infected agents are visited: the list of active infections is split
//! into contiguous chunks, one per thread, and each chunk's results are merged in chunk
//! order — which is the list's order, whatever the number of chunks.

use std::ops::Range;
use std::panic::resume_unwind;
use std::sync::atomic::{AtomicU64, Ordering};

use super::disease::{
    ASYMPTOMATIC_TO_RECOVERED, CRITICAL_TO_DEATH, CRITICAL_TO_RECOVERED, Calibration, LATENT,
    MILD_TO_RECOVERED, PRESYMPTOMATIC, SEVERE_TO_CRITICAL, SEVERE_TO_RECOVERED,
    SYMPTOMATIC_TO_SEVERE, calibrate, duration_pmfs, scaled_susceptibility,
};
use super::output::{AbmResult, AgeBandTotals, AreaSeries, LayerCounts, MunicipalitySeries};
use super::params::AbmParams;
use super::population::{AgentRecord, KINDS, NO_GROUP, Population};
use super::rng::{Alias, Keyed, Stream, ix, prob_threshold, to_f64, to_u16, to_u32};
use super::{EARLY_PHASE_SHARE, MAX_DAYS, MAX_HOUSEHOLD_SIZE, check_threads};
use crate::EpiError;

// The status byte of every agent: infection state, diagnosis, prognosis band.
const STATUS_MASK: u8 = 0b11;
const SUSCEPTIBLE: u8 = 0;
const INFECTED: u8 = 1;
const RECOVERED: u8 = 2;
const DEAD: u8 = 3;
const DIAGNOSED_BIT: u8 = 0b100;
const BAND_SHIFT: u8 = 3;

// States of an active infection.
const EXPOSED: u8 = 0;
const ASYMPTOMATIC: u8 = 1;
const PRESYMPTOMATIC_STATE: u8 = 2;
const SYMPTOMATIC: u8 = 3;
const SEVERE: u8 = 4;
const CRITICAL: u8 = 5;
const DONE: u8 = 6;

// Prognosis and testing flags of an active infection.
const WILL_SYMPTOMS: u8 = 1;
const WILL_SEVERE: u8 = 2;
const WILL_CRITICAL: u8 = 4;
const WILL_DIE: u8 = 8;
const TESTED: u8 = 16;
const DIAGNOSED: u8 = 32;

// Layers, as packed in a proposed infection.
const HOUSEHOLD: u8 = 0;
const SCHOOL: u8 = 1;
const WORK: u8 = 2;
const COMMUNITY: u8 = 3;
const INITIAL: u8 = 4;

// Daily counters per municipality.
const NEW_INFECTIONS: usize = 0;
const NEW_SYMPTOMATIC: usize = 1;
const NEW_DIAGNOSED: usize = 2;
const NEW_SEVERE: usize = 3;
const NEW_CRITICAL: usize = 4;
const NEW_DEATHS: usize = 5;
const NEW_RECOVERIES: usize = 6;
const INFECTIOUS: usize = 7;
const IN_SEVERE: usize = 8;
const IN_CRITICAL: usize = 9;
const IN_ISOLATION: usize = 10;
const SERIES: usize = 11;

// Per band totals.
const BAND_INFECTIONS: usize = 0;
const BAND_SYMPTOMATIC: usize = 1;
const BAND_SEVERE: usize = 2;
const BAND_CRITICAL: usize = 3;
const BAND_DEATHS: usize = 4;
const BAND_TOTALS: usize = 5;

// Purposes of random draws.
const PURPOSE_TRANSMIT: u64 = 2;
const PURPOSE_COURSE: u64 = 3;
const PURPOSE_TESTING: u64 = 4;
const PURPOSE_TRACING: u64 = 5;
const PURPOSE_INITIAL: u64 = 6;
const PURPOSE_IMMUNE: u64 = 7;
/// Stage key of the prognosis draw (durations use their own index as stage).
const STAGE_PROGNOSIS: u32 = 100;

/// Most transmission events of one person in one day (a guard: the mean is below 1).
const MAX_EVENTS_PER_DAY: u32 = 200;
/// Below this many items a phase runs on the calling thread: spawning would cost more.
const MIN_ITEMS_PER_THREAD: usize = 4_096;
/// Below this many diagnosed cases a day, tracing runs on the calling thread.
const MIN_CASES_PER_THREAD: usize = 256;
/// Candidate contacts resolved together (enough to overlap many cache misses, few enough
/// to stay in the first-level cache).
const CANDIDATE_BATCH: usize = 1_024;
/// Longest generation interval kept in the histogram; longer ones go in the last bin.
const MAX_GENERATION_DAYS: usize = 127;

/// One active infection: 24 bytes. It copies what transmission needs of the agent (group,
/// household position and size) so that an event reads no per-agent array but the contact's.
#[derive(Debug, Clone, Copy)]
struct Active {
    agent: u32,
    /// Where the members of its class or workplace start in the member list, or
    /// [`NO_GROUP`].
    member_start: u32,
    next_day: u16,
    infected_day: u16,
    result_day: u16,
    municipality: u16,
    /// Members of its class or workplace.
    group_len: u16,
    state: u8,
    flags: u8,
    /// `(household size − 1) × 3 + kind` (0 none, 1 school, 2 work).
    class: u8,
    band: u8,
    household_offset: u8,
}

/// Transmission of one kind of infectious person in one day.
#[derive(Debug, Clone, Copy, Default)]
struct Rate {
    /// Mean number of transmission events (Poisson).
    lambda: f64,
    /// `exp(−lambda)`: the probability of no event.
    p0: f64,
    /// `p0` as a threshold on a uniform `u64`.
    none: u64,
    /// An event is in the household if a uniform `u64` is below this, else in the group if
    /// below `group`, else in the community.
    household: u64,
    group: u64,
}

/// Everything precomputed for a run.
struct Tables {
    durations: Vec<Alias>,
    /// Per band: thresholds of dying, becoming critical, severe, symptomatic (absolute).
    prognosis: Vec<[u64; 4]>,
    /// Index: `(class × 2 + symptomatic) × 3 + intervention` (0 none, 1 quarantine,
    /// 2 isolation).
    rates: Vec<Rate>,
    /// Per band: infection probability of a contact, `[household, other]` outside and
    /// inside quarantine.
    susceptibility: Vec<[u64; 4]>,
    testing: bool,
    testing_start: u32,
    test: u64,
    test_quarantined: u64,
    test_delay_days: u16,
    isolation: bool,
    tracing: bool,
    trace_household: u64,
    trace_group: u64,
    trace_delay_days: u16,
    quarantine: bool,
    quarantine_days: u16,
    travel: u64,
    travel_within_province: u64,
}

#[derive(Debug, Clone, Copy)]
struct Keys {
    transmit: Keyed,
    course: Keyed,
    testing: Keyed,
    tracing: Keyed,
}

/// Read-only state shared by the threads within a phase.
struct Shared<'a> {
    population: &'a Population,
    status: &'a [u8],
    /// One bit per agent: in quarantine today.
    quarantined: &'a [AtomicU64],
    tables: &'a Tables,
    keys: Keys,
    day: u16,
    /// Infections by infectors infected up to this day count in the early histogram.
    early_last_day: Option<u16>,
}

/// What one thread produces; the per-day parts are cleared each day, the totals kept.
#[derive(Default)]
struct Scratch {
    candidates: Vec<Candidate>,
    records: Vec<AgentRecord>,
    targets: Vec<u32>,
    statuses: Vec<u8>,
    proposals: Vec<u64>,
    deaths: Vec<u32>,
    diagnosed: Vec<u32>,
    created: Vec<Active>,
    counts: Vec<u32>,
    done: usize,
    band_totals: Vec<u64>,
    layers: [u64; 5],
    generation: Vec<u64>,
}

impl Scratch {
    fn new(municipalities: usize, bands: usize) -> Scratch {
        Scratch {
            counts: vec![0; municipalities * SERIES],
            band_totals: vec![0; bands * BAND_TOTALS],
            generation: vec![0; MAX_GENERATION_DAYS + 1],
            ..Scratch::default()
        }
    }

    fn clear_day(&mut self) {
        self.proposals.clear();
        self.deaths.clear();
        self.diagnosed.clear();
        self.created.clear();
        self.counts.fill(0);
        self.done = 0;
    }

    #[inline]
    fn count(&mut self, municipality: u16, series: usize) {
        self.counts[usize::from(municipality) * SERIES + series] += 1;
    }

    #[inline]
    fn band(&mut self, band: u8, total: usize) {
        self.band_totals[usize::from(band) * BAND_TOTALS + total] += 1;
    }
}

#[inline]
fn pack(target: u32, infector_day: u16, layer: u8) -> u64 {
    (u64::from(target) << 32) | (u64::from(infector_day) << 8) | u64::from(layer)
}

#[inline]
#[allow(clippy::cast_possible_truncation)]
fn unpack(p: u64) -> (u32, u16, u8) {
    // The fields were packed from these widths: the casts only drop the other fields.
    ((p >> 32) as u32, (p >> 8) as u16, p as u8)
}

#[inline]
fn rate_index(class: u8, symptomatic: bool, intervention: usize) -> usize {
    (usize::from(class) * 2 + usize::from(symptomatic)) * 3 + intervention
}

/// Runs the epidemic for `days` days. See the module documentation for the model.
///
/// `progress` is called before each day with the number of days done; returning `false`
/// stops the run, which then returns what was simulated with `cancelled: true`.
pub fn simulate(
    population: &Population,
    params: &AbmParams,
    days: u32,
    seed: u64,
    threads: usize,
    progress: &mut dyn FnMut(u32) -> bool,
) -> Result<AbmResult, EpiError> {
    params.validate()?;
    check_threads(threads)?;
    if days == 0 || days > MAX_DAYS {
        return Err(EpiError::invalid(
            "days",
            format!("debe estar entre 1 y {MAX_DAYS}; se recibió {days}"),
        ));
    }
    let seeding_range = seeding_range(population, params)?;
    let pmfs = duration_pmfs(params);
    let calibration = calibrate(population, params, &pmfs)?;
    let tables = Tables::new(params, &pmfs, &calibration);
    let keys = Keys {
        transmit: Keyed::new(seed, PURPOSE_TRANSMIT),
        course: Keyed::new(seed, PURPOSE_COURSE),
        testing: Keyed::new(seed, PURPOSE_TESTING),
        tracing: Keyed::new(seed, PURPOSE_TRACING),
    };
    let agents = population.agents();
    let municipalities = population.municipalities.len();
    let bands = params.disease.age_bands.len();
    let days_len = ix(days);

    // The status byte of each agent starts with its prognosis band.
    let band_of_age: Vec<u8> = (0..=255u8)
        .map(|age| u8::try_from(params.disease.band_of(age)).unwrap_or(0) << BAND_SHIFT)
        .collect();
    let mut status: Vec<u8> = population
        .ages
        .iter()
        .map(|&a| band_of_age[usize::from(a)])
        .collect();
    let mut quarantine = Quarantine::new(tables.quarantine, agents, days_len, municipalities);
    let parts = municipality_parts(population, threads);

    let seeds = choose_seeds(&mut status, seeding_range, params.initial_infected, seed);
    let initially_immune = mark_immune(&mut status, params.initial_immune_share, seed);

    let mut scratch: Vec<Scratch> = (0..threads)
        .map(|_| Scratch::new(municipalities, bands))
        .collect();
    let mut active: Vec<Active> = Vec::new();
    let mut fresh: Vec<u64> = seeds;
    fresh.sort_unstable();
    let mut proposals: Vec<u64> = Vec::new();
    let mut radix_buffer: Vec<u64> = Vec::new();
    let target_bits = u32::BITS - to_u32(agents).leading_zeros();
    let mut daily = vec![0u32; days_len * municipalities * SERIES];
    let mut trace_queue: Vec<Vec<u32>> =
        vec![Vec::new(); if tables.tracing { days_len } else { 0 }];
    let early_limit = to_f64(agents) * EARLY_PHASE_SHARE;
    let mut early_last_day: Option<u16> = None;
    let mut early_cohort_size = 0u64;
    let mut cumulative = 0u64;
    let mut days_done = 0u32;
    let mut cancelled = false;

    for day_index in 0..days {
        if !progress(day_index) {
            cancelled = true;
            break;
        }
        let day = to_u16(ix(day_index));
        for s in &mut scratch {
            s.clear_day();
        }
        quarantine.begin_day(day);

        // 1. Progression, testing and transmission of every active infection.
        {
            let shared = Shared {
                population,
                status: &status,
                quarantined: &quarantine.bits,
                tables: &tables,
                keys,
                day,
                early_last_day,
            };
            run_chunks_mut(&mut active, &mut scratch, &|chunk, out| {
                step_chunk(chunk, &shared, out);
            });
        }

        // 2. Deaths and diagnoses reach the shared state; proposals become infections, the
        //    first proposal for an agent in list order winning.
        let mut done = 0;
        if day_index > 0 {
            fresh.clear();
        }
        for s in &scratch {
            done += s.done;
            for &a in &s.deaths {
                status[ix(a)] = (status[ix(a)] & !STATUS_MASK) | DEAD;
            }
            for &a in &s.diagnosed {
                status[ix(a)] |= DIAGNOSED_BIT;
                if tables.tracing {
                    let when = ix(day_index) + usize::from(tables.trace_delay_days);
                    if when < days_len {
                        trace_queue[when].push(a);
                    }
                }
            }
            proposals.extend_from_slice(&s.proposals);
        }
        // Sorted by target, the new infections form a run in agent order: tomorrow's visits
        // of this run then read the status, households and groups of nearby agents.
        sort_by_target(&mut proposals, &mut radix_buffer, target_bits);
        for &p in &proposals {
            let target = ix(unpack(p).0);
            if status[target] & STATUS_MASK == SUSCEPTIBLE {
                status[target] = (status[target] & !STATUS_MASK) | INFECTED;
                fresh.push(p);
            }
        }
        proposals.clear();
        let today =
            &mut daily[ix(day_index) * municipalities * SERIES..][..municipalities * SERIES];
        for s in &scratch {
            for (sum, x) in today.iter_mut().zip(&s.counts) {
                *sum += x;
            }
        }

        // 3. New infections become active.
        for s in &mut scratch {
            s.created.clear();
            s.counts.fill(0);
        }
        {
            let shared = Shared {
                population,
                status: &status,
                quarantined: &quarantine.bits,
                tables: &tables,
                keys,
                day,
                early_last_day,
            };
            run_chunks(&fresh, &mut scratch, &|chunk, out| {
                create_chunk(chunk, &shared, out);
            });
        }
        for s in &scratch {
            active.extend_from_slice(&s.created);
            for (sum, x) in today.iter_mut().zip(&s.counts) {
                *sum += x;
            }
        }
        cumulative += fresh.len() as u64;

        // 4. Contacts of those diagnosed `trace_delay_days` ago go into quarantine.
        if tables.tracing {
            let queue = std::mem::take(&mut trace_queue[ix(day_index)]);
            trace(
                &queue,
                &parts,
                population,
                &status,
                &mut quarantine,
                &tables,
                keys.tracing,
                day,
            );
        }

        if to_f64_u64(cumulative) <= early_limit {
            early_last_day = Some(day);
            early_cohort_size = cumulative;
        }
        // Finished infections stay in the list, skipped, until they are a quarter of it.
        if done * 4 > active.len() {
            active.retain(|e| e.state != DONE);
        }
        days_done = day_index + 1;
    }

    Ok(assemble(
        population,
        params,
        &calibration,
        &scratch,
        &daily,
        &quarantine.delta,
        days_done,
        cancelled,
        initially_immune,
        early_cohort_size,
    ))
}

/// Sorts packed proposals by target, stably (so among proposals for one agent the first in
/// list order stays first): least-significant-digit radix sort on the target's bits.
fn sort_by_target(items: &mut Vec<u64>, buffer: &mut Vec<u64>, target_bits: u32) {
    const MAX_DIGIT_BITS: u32 = 13;
    if items.len() < 512 {
        items.sort_by_key(|&p| unpack(p).0);
        return;
    }
    let passes = target_bits.div_ceil(MAX_DIGIT_BITS).max(1);
    let width = target_bits.div_ceil(passes);
    let mask = (1u64 << width) - 1;
    let mut offsets = vec![0usize; 1 << width];
    buffer.clear();
    buffer.resize(items.len(), 0);
    for pass in 0..passes {
        let shift = 32 + pass * width;
        let digit = |x: u64| usize::try_from((x >> shift) & mask).unwrap_or(0);
        offsets.fill(0);
        for &x in items.iter() {
            offsets[digit(x)] += 1;
        }
        let mut start = 0;
        for o in &mut offsets {
            let count = *o;
            *o = start;
            start += count;
        }
        for &x in items.iter() {
            let d = digit(x);
            buffer[offsets[d]] = x;
            offsets[d] += 1;
        }
        std::mem::swap(items, buffer);
    }
}

#[allow(clippy::cast_precision_loss)]
fn to_f64_u64(x: u64) -> f64 {
    // Counts of agents, below 2^53.
    x as f64
}

/// The agents among whom the initial infections are drawn.
fn seeding_range(population: &Population, params: &AbmParams) -> Result<Range<u32>, EpiError> {
    let range = match &params.initial_municipality {
        None => 0..to_u32(population.agents()),
        Some(code) => {
            let m = population
                .municipalities
                .iter()
                .find(|m| &m.code == code)
                .ok_or_else(|| {
                    EpiError::invalid(
                        "initial_municipality",
                        format!("no hay ningún municipio con el código {code} en la población"),
                    )
                })?;
            m.first_agent..m.first_agent + m.agents
        }
    };
    let available = range.end - range.start;
    if params.initial_infected > available {
        return Err(EpiError::invalid(
            "initial_infected",
            format!(
                "se pidieron {} infecciones iniciales pero solo hay {available} habitantes donde \
                 sembrarlas",
                params.initial_infected
            ),
        ));
    }
    Ok(range)
}

/// Draws `count` distinct agents of `range` (Floyd's algorithm, the status bytes serving as
/// the set) and marks them infected.
fn choose_seeds(status: &mut [u8], range: Range<u32>, count: u32, seed: u64) -> Vec<u64> {
    let mut rng = Keyed::new(seed, PURPOSE_INITIAL).stream(0, 0);
    let n = range.end - range.start;
    let mut seeds = Vec::with_capacity(ix(count));
    for j in n - count..n {
        let t = rng.below(j + 1);
        let pick = if status[ix(range.start + t)] & STATUS_MASK == INFECTED {
            j
        } else {
            t
        };
        let agent = range.start + pick;
        status[ix(agent)] = (status[ix(agent)] & !STATUS_MASK) | INFECTED;
        seeds.push(pack(agent, 0, INITIAL));
    }
    seeds
}

/// Marks a random share of the not-infected agents immune.
fn mark_immune(status: &mut [u8], share: f64, seed: u64) -> u64 {
    if share <= 0.0 {
        return 0;
    }
    let key = Keyed::new(seed, PURPOSE_IMMUNE);
    let threshold = prob_threshold(share);
    let mut immune = 0;
    for (agent, s) in status.iter_mut().enumerate() {
        if *s & STATUS_MASK == SUSCEPTIBLE && key.stream(to_u32(agent), 0).chance(threshold) {
            *s = (*s & !STATUS_MASK) | RECOVERED;
            immune += 1;
        }
    }
    immune
}

impl Tables {
    fn new(params: &AbmParams, pmfs: &[Vec<f64>], calibration: &Calibration) -> Tables {
        let disease = &params.disease;
        let layers = &params.layers;
        let interventions = &params.interventions;
        let beta = calibration.beta;
        let quarantine = interventions.quarantine;
        let isolation = interventions.isolation;
        let mut rates = Vec::with_capacity(MAX_HOUSEHOLD_SIZE * KINDS * 6);
        for class in 0..MAX_HOUSEHOLD_SIZE * KINDS {
            let others = to_f64(class / KINDS);
            let kind = class % KINDS;
            for symptomatic in [false, true] {
                let infectiousness = if symptomatic {
                    1.0
                } else {
                    disease.asymptomatic_relative_infectiousness
                };
                for intervention in 0..3 {
                    let (in_household, outside) = match intervention {
                        1 => quarantine
                            .map_or((1.0, 1.0), |q| (q.factors.household, q.factors.other)),
                        2 => isolation.map_or((1.0, 1.0), |f| (f.household, f.other)),
                        _ => (1.0, 1.0),
                    };
                    let scale = beta * infectiousness;
                    let household = scale * layers.household_weight * in_household * others;
                    let group = scale
                        * outside
                        * match kind {
                            1 => layers.school_weight * layers.school_contacts_per_day,
                            2 => layers.work_weight * layers.work_contacts_per_day,
                            _ => 0.0,
                        };
                    let community = scale
                        * outside
                        * layers.community_weight
                        * layers.community_contacts_per_day;
                    let lambda = household + group + community;
                    rates.push(if lambda > 0.0 {
                        Rate {
                            lambda,
                            p0: (-lambda).exp(),
                            none: prob_threshold((-lambda).exp()),
                            household: prob_threshold(household / lambda),
                            group: prob_threshold((household + group) / lambda),
                        }
                    } else {
                        Rate::default()
                    });
                }
            }
        }
        let (q_household, q_other) =
            quarantine.map_or((1.0, 1.0), |q| (q.factors.household, q.factors.other));
        let susceptibility = scaled_susceptibility(params)
            .into_iter()
            .map(|s| {
                [
                    prob_threshold(s),
                    prob_threshold(s),
                    prob_threshold(s * q_household),
                    prob_threshold(s * q_other),
                ]
            })
            .collect();
        let prognosis = disease
            .age_bands
            .iter()
            .map(|b| {
                [
                    prob_threshold(b.death),
                    prob_threshold(b.critical),
                    prob_threshold(b.severe),
                    prob_threshold(b.symptomatic),
                ]
            })
            .collect();
        let testing = interventions.testing;
        let tracing = interventions.tracing;
        Tables {
            durations: pmfs.iter().map(|p| Alias::new(p)).collect(),
            prognosis,
            rates,
            susceptibility,
            testing: testing.is_some(),
            testing_start: interventions.start_day,
            test: prob_threshold(testing.map_or(0.0, |t| t.symptomatic_test_prob_per_day)),
            test_quarantined: prob_threshold(
                testing.map_or(0.0, |t| t.quarantined_test_prob_per_day),
            ),
            test_delay_days: testing.map_or(0, |t| t.result_delay_days),
            isolation: isolation.is_some(),
            tracing: tracing.is_some(),
            trace_household: prob_threshold(tracing.map_or(0.0, |t| t.household_prob)),
            trace_group: prob_threshold(tracing.map_or(0.0, |t| t.group_prob)),
            trace_delay_days: tracing.map_or(0, |t| t.delay_days),
            quarantine: quarantine.is_some(),
            quarantine_days: quarantine.map_or(0, |q| q.duration_days),
            travel: prob_threshold(layers.travel_share),
            travel_within_province: prob_threshold(layers.travel_within_province_share),
        }
    }

    #[inline]
    fn duration(&self, keys: Keys, agent: u32, which: usize) -> u16 {
        let days =
            self.durations[which].sample(keys.course.stream(agent, to_u32(which)).next_u64());
        to_u16(days)
    }
}

/// Splits `items` into at most `scratch.len()` contiguous chunks and runs `f` on each, on
/// its own thread, with its own scratch; chunk `i` gets `scratch[i]`.
fn run_chunks_mut<T: Send>(
    items: &mut [T],
    scratch: &mut [Scratch],
    f: &(dyn Fn(&mut [T], &mut Scratch) + Sync),
) {
    let parts = scratch.len().min(items.len() / MIN_ITEMS_PER_THREAD).max(1);
    if parts == 1 {
        f(items, &mut scratch[0]);
        return;
    }
    let size = items.len().div_ceil(parts);
    std::thread::scope(|scope| {
        let mut work = items.chunks_mut(size).zip(scratch.iter_mut());
        let first = work.next();
        let handles: Vec<_> = work
            .map(|(chunk, out)| scope.spawn(move || f(chunk, out)))
            .collect();
        if let Some((chunk, out)) = first {
            f(chunk, out);
        }
        for h in handles {
            h.join().unwrap_or_else(|e| resume_unwind(e));
        }
    });
}

/// [`run_chunks_mut`] for read-only items.
fn run_chunks<T: Sync>(
    items: &[T],
    scratch: &mut [Scratch],
    f: &(dyn Fn(&[T], &mut Scratch) + Sync),
) {
    let parts = scratch.len().min(items.len() / MIN_ITEMS_PER_THREAD).max(1);
    if parts == 1 {
        f(items, &mut scratch[0]);
        return;
    }
    let size = items.len().div_ceil(parts);
    std::thread::scope(|scope| {
        let mut work = items.chunks(size).zip(scratch.iter_mut());
        let first = work.next();
        let handles: Vec<_> = work
            .map(|(chunk, out)| scope.spawn(move || f(chunk, out)))
            .collect();
        if let Some((chunk, out)) = first {
            f(chunk, out);
        }
        for h in handles {
            h.join().unwrap_or_else(|e| resume_unwind(e));
        }
    });
}

fn step_chunk(chunk: &mut [Active], sh: &Shared<'_>, out: &mut Scratch) {
    for e in chunk.iter_mut() {
        if e.state == DONE {
            out.done += 1;
            continue;
        }
        advance(e, sh, out);
        if e.state == DONE {
            out.done += 1;
            continue;
        }
        if sh.tables.testing {
            test(e, sh, out);
        }
        let infectious = matches!(e.state, ASYMPTOMATIC | PRESYMPTOMATIC_STATE | SYMPTOMATIC);
        match e.state {
            SEVERE => out.count(e.municipality, IN_SEVERE),
            CRITICAL => out.count(e.municipality, IN_CRITICAL),
            _ if infectious => out.count(e.municipality, INFECTIOUS),
            _ => {}
        }
        let isolated = sh.tables.isolation && e.flags & DIAGNOSED != 0;
        if isolated {
            out.count(e.municipality, IN_ISOLATION);
        }
        if infectious {
            transmit(e, isolated, sh, out);
            if out.candidates.len() >= CANDIDATE_BATCH {
                resolve(sh, out);
            }
        }
    }
    resolve(sh, out);
}

/// Moves an infection through every stage due by today.
fn advance(e: &mut Active, sh: &Shared<'_>, out: &mut Scratch) {
    let (t, keys) = (sh.tables, sh.keys);
    while e.state != DONE && e.next_day <= sh.day {
        let at = e.next_day;
        let agent = e.agent;
        let has = |flag: u8| e.flags & flag != 0;
        match e.state {
            EXPOSED if has(WILL_SYMPTOMS) => {
                e.state = PRESYMPTOMATIC_STATE;
                e.next_day = at + t.duration(keys, agent, PRESYMPTOMATIC);
            }
            EXPOSED => {
                e.state = ASYMPTOMATIC;
                e.next_day = at + t.duration(keys, agent, ASYMPTOMATIC_TO_RECOVERED);
            }
            PRESYMPTOMATIC_STATE => {
                e.state = SYMPTOMATIC;
                out.count(e.municipality, NEW_SYMPTOMATIC);
                out.band(e.band, BAND_SYMPTOMATIC);
                let next = if has(WILL_SEVERE) {
                    SYMPTOMATIC_TO_SEVERE
                } else {
                    MILD_TO_RECOVERED
                };
                e.next_day = at + t.duration(keys, agent, next);
            }
            SYMPTOMATIC if has(WILL_SEVERE) => {
                e.state = SEVERE;
                out.count(e.municipality, NEW_SEVERE);
                out.band(e.band, BAND_SEVERE);
                let next = if has(WILL_CRITICAL) {
                    SEVERE_TO_CRITICAL
                } else {
                    SEVERE_TO_RECOVERED
                };
                e.next_day = at + t.duration(keys, agent, next);
            }
            SEVERE if has(WILL_CRITICAL) => {
                e.state = CRITICAL;
                out.count(e.municipality, NEW_CRITICAL);
                out.band(e.band, BAND_CRITICAL);
                let next = if has(WILL_DIE) {
                    CRITICAL_TO_DEATH
                } else {
                    CRITICAL_TO_RECOVERED
                };
                e.next_day = at + t.duration(keys, agent, next);
            }
            CRITICAL if has(WILL_DIE) => {
                e.state = DONE;
                out.count(e.municipality, NEW_DEATHS);
                out.band(e.band, BAND_DEATHS);
                out.deaths.push(agent);
            }
            _ => {
                // Asymptomatic, mild, severe and critical cases that recover.
                e.state = DONE;
                out.count(e.municipality, NEW_RECOVERIES);
            }
        }
    }
}

/// Testing of symptomatic people; a result due today is a diagnosis.
fn test(e: &mut Active, sh: &Shared<'_>, out: &mut Scratch) {
    let t = sh.tables;
    if e.flags & DIAGNOSED != 0 || u32::from(sh.day) < t.testing_start {
        return;
    }
    if e.flags & TESTED == 0 {
        if !matches!(e.state, SYMPTOMATIC | SEVERE | CRITICAL) {
            return;
        }
        let quarantined = t.quarantine && in_quarantine(sh.quarantined, e.agent);
        let threshold = if quarantined {
            t.test_quarantined
        } else {
            t.test
        };
        if !sh
            .keys
            .testing
            .stream(e.agent, u32::from(sh.day))
            .chance(threshold)
        {
            return;
        }
        e.flags |= TESTED;
        e.result_day = sh.day + t.test_delay_days;
    }
    if e.result_day <= sh.day {
        e.flags |= DIAGNOSED;
        out.count(e.municipality, NEW_DIAGNOSED);
        out.diagnosed.push(e.agent);
    }
}

/// Draws today's transmission events of one infectious person as candidate contacts; they
/// are resolved in batches by [`resolve`].
fn transmit(e: &Active, isolated: bool, sh: &Shared<'_>, out: &mut Scratch) {
    let t = sh.tables;
    let intervention = if isolated {
        2
    } else if t.quarantine && in_quarantine(sh.quarantined, e.agent) {
        1
    } else {
        0
    };
    let rate = &t.rates[rate_index(e.class, e.state != ASYMPTOMATIC, intervention)];
    if rate.lambda <= 0.0 {
        return;
    }
    let mut rng = sh.keys.transmit.stream(e.agent, u32::from(sh.day));
    // Poisson by inversion: most days end at the first comparison, made on the raw draw.
    let x = rng.next_u64();
    if x < rate.none {
        return;
    }
    let u = super::rng::unit(x);
    let (mut events, mut p) = (1u32, rate.p0 * rate.lambda);
    let mut cdf = rate.p0 + p;
    while u >= cdf && events < MAX_EVENTS_PER_DAY {
        events += 1;
        p *= rate.lambda / f64::from(events);
        cdf += p;
    }
    for _ in 0..events {
        let which = rng.next_u64();
        let candidate = if which < rate.household {
            household_contact(e, &mut rng)
        } else if which < rate.group {
            group_contact(e, &mut rng)
        } else {
            Some(Candidate {
                index: community_contact(sh.population, e.municipality, t, &mut rng),
                infector: e.agent,
                redirect: 0,
                infected_day: e.infected_day,
                layer: COMMUNITY,
                accept: 0,
            })
        };
        if let Some(mut c) = candidate {
            c.accept = rng.next_u64();
            out.candidates.push(c);
        }
    }
}

/// A contact of a transmission event, before its status is known.
#[derive(Debug, Clone, Copy)]
struct Candidate {
    /// The contact; for school and work, its index in the group's member list.
    index: u32,
    infector: u32,
    /// For school and work: the member-list index that stands in for the infector itself.
    redirect: u32,
    infected_day: u16,
    layer: u8,
    /// The draw that decides infection.
    accept: u64,
}

/// Turns candidate contacts into proposed infections. The reads of member lists and status
/// bytes are gathered in loops without branches, so that the processor overlaps their cache
/// misses instead of waiting for each in turn; the order of the proposals is the order of the
/// candidates.
fn resolve(sh: &Shared<'_>, out: &mut Scratch) {
    let t = sh.tables;
    let members = &sh.population.group_members;
    let grouped = |c: &Candidate| c.layer == SCHOOL || c.layer == WORK;
    out.targets.clear();
    out.targets.extend(out.candidates.iter().map(|c| {
        if grouped(c) {
            members[ix(c.index)]
        } else {
            c.index
        }
    }));
    for (target, c) in out.targets.iter_mut().zip(&out.candidates) {
        if grouped(c) && *target == c.infector {
            *target = members[ix(c.redirect)];
        }
    }
    out.statuses.clear();
    out.statuses
        .extend(out.targets.iter().map(|&target| sh.status[ix(target)]));
    for ((c, &target), &status) in out.candidates.iter().zip(&out.targets).zip(&out.statuses) {
        if status & STATUS_MASK != SUSCEPTIBLE {
            continue;
        }
        let quarantined = t.quarantine && in_quarantine(sh.quarantined, target);
        let column = 2 * usize::from(quarantined) + usize::from(c.layer != HOUSEHOLD);
        if c.accept < t.susceptibility[usize::from(status >> BAND_SHIFT)][column] {
            out.proposals.push(pack(target, c.infected_day, c.layer));
        }
    }
    out.candidates.clear();
}

#[inline]
fn household_contact(e: &Active, rng: &mut Stream) -> Option<Candidate> {
    let size = e.class / 3 + 1;
    if size < 2 {
        return None;
    }
    let offset = u32::from(e.household_offset);
    let mut j = rng.below(u32::from(size - 1));
    if j >= offset {
        j += 1;
    }
    Some(Candidate {
        index: e.agent - offset + j,
        infector: e.agent,
        redirect: 0,
        infected_day: e.infected_day,
        layer: HOUSEHOLD,
        accept: 0,
    })
}

/// A member of the infector's class or workplace other than itself: a uniform index among
/// the first `len − 1` places, the infector's own place standing for the last.
#[inline]
fn group_contact(e: &Active, rng: &mut Stream) -> Option<Candidate> {
    if e.member_start == NO_GROUP || e.group_len < 2 {
        return None;
    }
    let j = rng.below(u32::from(e.group_len) - 1);
    Some(Candidate {
        index: e.member_start + j,
        infector: e.agent,
        redirect: e.member_start + u32::from(e.group_len) - 1,
        infected_day: e.infected_day,
        layer: if e.class % 3 == 1 { SCHOOL } else { WORK },
        accept: 0,
    })
}

#[inline]
fn community_contact(
    population: &Population,
    municipality: u16,
    t: &Tables,
    rng: &mut Stream,
) -> u32 {
    let m = usize::from(municipality);
    if rng.chance(t.travel) {
        if rng.chance(t.travel_within_province) {
            let province = &population.provinces[usize::from(population.municipality_province[m])];
            let r = rng.below(province.agents);
            let k = province.cumulative_agents.partition_point(|&c| c <= r);
            let before = if k == 0 {
                0
            } else {
                province.cumulative_agents[k - 1]
            };
            let other = usize::from(province.municipalities[k]);
            return population.municipality_start[other] + (r - before);
        }
        return rng.below(to_u32(population.agents()));
    }
    let start = population.municipality_start[m];
    start + rng.below(population.municipality_start[m + 1] - start)
}

/// Makes the active entries of today's new infections: prognosis and latent period. The
/// infections come sorted by agent, so the municipality is found by walking forward.
fn create_chunk(fresh: &[u64], sh: &Shared<'_>, out: &mut Scratch) {
    let population = sh.population;
    let t = sh.tables;
    let starts = &population.municipality_start;
    let mut m = fresh
        .first()
        .map_or(0, |&p| population.municipality_of(unpack(p).0));
    // Gathered first, without branches, so the cache misses overlap.
    let mut records = std::mem::take(&mut out.records);
    records.clear();
    records.extend(fresh.iter().map(|&p| population.records[ix(unpack(p).0)]));
    for (&p, &record) in fresh.iter().zip(&records) {
        let (agent, infector_day, layer) = unpack(p);
        let a = ix(agent);
        while starts[m + 1] <= agent {
            m += 1;
        }
        let municipality = to_u16(m);
        let band = sh.status[a] >> BAND_SHIFT;
        let class = (record.household_size() - 1) * 3 + record.kind();
        let draw = sh.keys.course.stream(agent, STAGE_PROGNOSIS).next_u64();
        let [death, critical, severe, symptomatic] = t.prognosis[usize::from(band)];
        let flags = if draw < death {
            WILL_SYMPTOMS | WILL_SEVERE | WILL_CRITICAL | WILL_DIE
        } else if draw < critical {
            WILL_SYMPTOMS | WILL_SEVERE | WILL_CRITICAL
        } else if draw < severe {
            WILL_SYMPTOMS | WILL_SEVERE
        } else if draw < symptomatic {
            WILL_SYMPTOMS
        } else {
            0
        };
        out.created.push(Active {
            agent,
            member_start: record.member_start,
            group_len: record.group_len(),
            next_day: sh.day + t.duration(sh.keys, agent, LATENT),
            infected_day: sh.day,
            result_day: u16::MAX,
            municipality,
            state: EXPOSED,
            flags,
            class,
            band,
            household_offset: record.household_offset(),
        });
        out.count(municipality, NEW_INFECTIONS);
        out.band(band, BAND_INFECTIONS);
        out.layers[usize::from(layer)] += 1;
        if layer != INITIAL && sh.early_last_day.is_some_and(|last| infector_day <= last) {
            let interval = usize::from(sh.day - infector_day).min(MAX_GENERATION_DAYS);
            out.generation[interval] += 1;
        }
    }
    out.records = records;
}

/// Who is in quarantine. The threads read only `bits`, one bit per agent (1.4 MB for Cuba,
/// so it stays in cache); `until` (the day each agent's quarantine ends) and the lists of
/// agents whose quarantine ends on each day keep the bits up to date. The bits are atomic
/// because tracing runs on several threads, each on its own municipalities, and a word of
/// 64 agents may straddle two of them.
struct Quarantine {
    until: Vec<u16>,
    bits: Vec<AtomicU64>,
    ending: Vec<Vec<u32>>,
    /// Change of the number in quarantine, by `[day][municipality]`.
    delta: Vec<i32>,
    municipalities: usize,
}

#[inline]
fn in_quarantine(bits: &[AtomicU64], agent: u32) -> bool {
    (bits[ix(agent >> 6)].load(Ordering::Relaxed) >> (agent & 63)) & 1 == 1
}

impl Quarantine {
    fn new(enabled: bool, agents: usize, days: usize, municipalities: usize) -> Quarantine {
        let (agents, days) = if enabled { (agents, days) } else { (0, 0) };
        Quarantine {
            until: vec![0; agents],
            bits: (0..agents.div_ceil(64))
                .map(|_| AtomicU64::new(0))
                .collect(),
            ending: vec![Vec::new(); days],
            delta: vec![0; days * municipalities],
            municipalities,
        }
    }

    /// Releases those whose quarantine ends today (unless it was extended since).
    fn begin_day(&mut self, day: u16) {
        let Some(ending) = self.ending.get_mut(usize::from(day)) else {
            return;
        };
        for agent in std::mem::take(ending) {
            if self.until[ix(agent)] == day {
                *self.bits[ix(agent >> 6)].get_mut() &= !(1u64 << (agent & 63));
            }
        }
    }
}

/// What tracing changed in one range of municipalities, to merge.
#[derive(Default)]
struct Traced {
    /// Agents put in quarantine (or kept longer) today: their quarantine ends together.
    quarantined: Vec<u32>,
    /// `(index into Quarantine::delta, change)`.
    delta: Vec<(usize, i32)>,
}

/// Quarantines the traced contacts of each person in `queue` (diagnosed
/// `trace_delay_days` ago). Contacts already dead or diagnosed are skipped.
///
/// Household members, classmates and colleagues live in the case's municipality, so the
/// cases are split by the ranges of municipalities in `parts` and each range is traced on
/// its own thread, writing only its own agents. The result does not depend on the order:
/// every quarantine begun today ends the same day, and the draws are keyed by case and day.
#[allow(clippy::too_many_arguments)]
fn trace(
    queue: &[u32],
    parts: &[Range<usize>],
    population: &Population,
    status: &[u8],
    quarantine: &mut Quarantine,
    t: &Tables,
    key: Keyed,
    day: u16,
) {
    if !t.quarantine || queue.is_empty() {
        return;
    }
    let end = day + t.quarantine_days;
    let starts = &population.municipality_start;
    let mut cases: Vec<Vec<u32>> = vec![Vec::new(); parts.len()];
    for &case in queue {
        let part = parts.partition_point(|p| starts[p.end] <= case);
        cases[part].push(case);
    }
    let mut slices = Vec::with_capacity(parts.len());
    let mut rest = quarantine.until.as_mut_slice();
    for p in parts {
        let (slice, tail) = rest.split_at_mut(ix(starts[p.end] - starts[p.start]));
        slices.push((starts[p.start], slice));
        rest = tail;
    }
    let bits = &quarantine.bits;
    let municipalities = quarantine.municipalities;
    let work = |cases: &[u32], first_agent: u32, until: &mut [u16]| -> Traced {
        let mut out = Traced::default();
        for &case in cases {
            let m = population.municipality_of(case);
            let mut rng = key.stream(case, u32::from(day));
            let mut put = |contact: u32| {
                let s = status[ix(contact)];
                if s & STATUS_MASK == DEAD || s & DIAGNOSED_BIT != 0 {
                    return;
                }
                let old = &mut until[ix(contact - first_agent)];
                if *old >= end {
                    return;
                }
                // The count is kept as +1 on the first day and −1 on the day it ends.
                let first = if *old > day { *old } else { day };
                out.delta.push((usize::from(first) * municipalities + m, 1));
                out.delta.push((usize::from(end) * municipalities + m, -1));
                *old = end;
                bits[ix(contact >> 6)].fetch_or(1u64 << (contact & 63), Ordering::Relaxed);
                out.quarantined.push(contact);
            };
            for member in population.household(ix(case)) {
                if member != ix(case) && rng.chance(t.trace_household) {
                    put(to_u32(member));
                }
            }
            if let Some((_, members)) = population.group_of(ix(case)) {
                for &member in members {
                    if member != case && rng.chance(t.trace_group) {
                        put(member);
                    }
                }
            }
        }
        out
    };
    let results: Vec<Traced> = if queue.len() < MIN_CASES_PER_THREAD || parts.len() == 1 {
        cases
            .iter()
            .zip(slices)
            .map(|(c, (first, until))| work(c, first, until))
            .collect()
    } else {
        std::thread::scope(|scope| {
            let handles: Vec<_> = cases
                .iter()
                .zip(slices)
                .map(|(c, (first, until))| scope.spawn(move || work(c, first, until)))
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().unwrap_or_else(|e| resume_unwind(e)))
                .collect()
        })
    };
    for r in results {
        for (index, change) in r.delta {
            if let Some(d) = quarantine.delta.get_mut(index) {
                *d += change;
            }
        }
        if let Some(list) = quarantine.ending.get_mut(usize::from(end)) {
            list.extend_from_slice(&r.quarantined);
        }
    }
}

/// Contiguous ranges of municipalities with about the same number of agents, one per
/// thread (fewer if there are fewer municipalities).
fn municipality_parts(population: &Population, threads: usize) -> Vec<Range<usize>> {
    let starts = &population.municipality_start;
    let total = ix(starts[starts.len() - 1]);
    let count = starts.len() - 1;
    let mut parts: Vec<Range<usize>> = Vec::new();
    let mut first = 0;
    for m in 0..count {
        // Close a part when the agents up to `m` reach its share of the total.
        let reached = ix(starts[m + 1]) * threads;
        if reached >= (parts.len() + 1) * total || m + 1 == count {
            parts.push(first..m + 1);
            first = m + 1;
        }
    }
    parts
}

#[allow(clippy::too_many_arguments)]
fn assemble(
    population: &Population,
    params: &AbmParams,
    calibration: &Calibration,
    scratch: &[Scratch],
    daily: &[u32],
    quarantine_delta: &[i32],
    days_done: u32,
    cancelled: bool,
    initially_immune: u64,
    early_cohort_size: u64,
) -> AbmResult {
    let municipalities = population.municipalities.len();
    let days = ix(days_done);
    let series_of = |m: usize| -> AreaSeries {
        let at = |d: usize, s: usize| daily[(d * municipalities + m) * SERIES + s];
        let column = |s: usize| (0..days).map(|d| at(d, s)).collect::<Vec<u32>>();
        let running = |v: &[u32]| {
            v.iter()
                .scan(0u32, |sum, x| {
                    *sum += x;
                    Some(*sum)
                })
                .collect::<Vec<u32>>()
        };
        let new_infections = column(NEW_INFECTIONS);
        let new_deaths = column(NEW_DEATHS);
        let in_quarantine = if quarantine_delta.is_empty() {
            vec![0; days]
        } else {
            (0..days)
                .scan(0i64, |sum, d| {
                    *sum += i64::from(quarantine_delta[d * municipalities + m]);
                    Some(u32::try_from(*sum).unwrap_or(0))
                })
                .collect()
        };
        AreaSeries {
            cumulative_infections: running(&new_infections),
            cumulative_deaths: running(&new_deaths),
            new_infections,
            new_symptomatic: column(NEW_SYMPTOMATIC),
            new_diagnosed: column(NEW_DIAGNOSED),
            new_severe: column(NEW_SEVERE),
            new_critical: column(NEW_CRITICAL),
            new_deaths,
            new_recoveries: column(NEW_RECOVERIES),
            infectious: column(INFECTIOUS),
            severe: column(IN_SEVERE),
            critical: column(IN_CRITICAL),
            in_isolation: column(IN_ISOLATION),
            in_quarantine,
        }
    };
    let per_municipality: Vec<MunicipalitySeries> = population
        .municipalities
        .iter()
        .enumerate()
        .map(|(m, info)| MunicipalitySeries {
            code: info.code.clone(),
            name: info.name.clone(),
            agents: info.agents,
            series: series_of(m),
        })
        .collect();
    let mut national = AreaSeries::default();
    for (i, m) in per_municipality.iter().enumerate() {
        let s = &m.series;
        let pairs: [(&mut Vec<u32>, &Vec<u32>); 14] = [
            (&mut national.new_infections, &s.new_infections),
            (&mut national.new_symptomatic, &s.new_symptomatic),
            (&mut national.new_diagnosed, &s.new_diagnosed),
            (&mut national.new_severe, &s.new_severe),
            (&mut national.new_critical, &s.new_critical),
            (&mut national.new_deaths, &s.new_deaths),
            (&mut national.new_recoveries, &s.new_recoveries),
            (&mut national.infectious, &s.infectious),
            (&mut national.severe, &s.severe),
            (&mut national.critical, &s.critical),
            (&mut national.in_isolation, &s.in_isolation),
            (&mut national.in_quarantine, &s.in_quarantine),
            (
                &mut national.cumulative_infections,
                &s.cumulative_infections,
            ),
            (&mut national.cumulative_deaths, &s.cumulative_deaths),
        ];
        for (sum, x) in pairs {
            if i == 0 {
                sum.clone_from(x);
            } else {
                for (a, b) in sum.iter_mut().zip(x) {
                    *a += b;
                }
            }
        }
    }

    let bands = params.disease.age_bands.len();
    let mut band_totals = vec![0u64; bands * BAND_TOTALS];
    let mut layers = [0u64; 5];
    let mut generation = vec![0u64; MAX_GENERATION_DAYS + 1];
    for s in scratch {
        for (a, b) in band_totals.iter_mut().zip(&s.band_totals) {
            *a += b;
        }
        for (a, b) in layers.iter_mut().zip(s.layers) {
            *a += b;
        }
        for (a, b) in generation.iter_mut().zip(&s.generation) {
            *a += b;
        }
    }
    while generation.last() == Some(&0) {
        generation.pop();
    }
    let mut band_agents = vec![0u64; bands];
    for (age, count) in population.ages_histogram().into_iter().enumerate() {
        band_agents[params.disease.band_of(u8::try_from(age).unwrap_or(u8::MAX))] += count;
    }
    let age_bands = params
        .disease
        .age_bands
        .iter()
        .enumerate()
        .map(|(b, band)| {
            let total = |k: usize| band_totals[b * BAND_TOTALS + k];
            AgeBandTotals {
                min_age: band.min_age,
                agents: band_agents[b],
                infections: total(BAND_INFECTIONS),
                symptomatic: total(BAND_SYMPTOMATIC),
                severe: total(BAND_SEVERE),
                critical: total(BAND_CRITICAL),
                deaths: total(BAND_DEATHS),
            }
        })
        .collect();
    let agents = population.agents() as u64;
    AbmResult {
        agents,
        days: days_done,
        cancelled,
        person_days: agents * u64::from(days_done),
        beta_per_contact_day: calibration.beta,
        r0_by_layer: calibration.by_layer,
        initially_immune,
        national,
        municipalities: per_municipality,
        age_bands,
        infections_by_layer: LayerCounts {
            household: layers[usize::from(HOUSEHOLD)],
            school: layers[usize::from(SCHOOL)],
            work: layers[usize::from(WORK)],
            community: layers[usize::from(COMMUNITY)],
            initial: layers[usize::from(INITIAL)],
        },
        early_cohort_size,
        early_generation_interval_counts: generation,
    }
}

impl Population {
    /// Agents by single year of age.
    fn ages_histogram(&self) -> Vec<u64> {
        let mut counts = vec![0u64; 256];
        for &a in &self.ages {
            counts[usize::from(a)] += 1;
        }
        counts
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn radix_sort_is_the_stable_sort_by_target() {
        let mut rng = Keyed::new(3, 9).stream(0, 0);
        for (len, bits) in [(100, 5), (5_000, 7), (20_000, 24)] {
            let items: Vec<u64> = (0..len)
                .map(|i| {
                    let target = rng.below(1 << bits);
                    pack(target, u16::try_from(i % 60_000).unwrap_or(0), 0)
                })
                .collect();
            let mut expected = items.clone();
            expected.sort_by_key(|&p| unpack(p).0);
            let (mut sorted, mut buffer) = (items, Vec::new());
            sort_by_target(&mut sorted, &mut buffer, bits);
            assert_eq!(sorted, expected);
        }
    }

    #[test]
    fn municipality_parts_cover_everything_in_order() {
        let population = Population::synthetic(1_000_000, 1, 1).unwrap();
        let municipalities = population.municipalities().len();
        for threads in [1, 2, 3, 7, 64] {
            let parts = municipality_parts(&population, threads);
            assert!(parts.len() <= threads.min(municipalities));
            assert_eq!(parts[0].start, 0);
            assert_eq!(parts[parts.len() - 1].end, municipalities);
            assert!(parts.windows(2).all(|w| w[0].end == w[1].start));
            assert!(parts.iter().all(|p| !p.is_empty()));
        }
        assert_eq!(municipality_parts(&population, 3).len(), 3);
    }
}
