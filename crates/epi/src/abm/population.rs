//! The synthetic population: agents sorted by municipality, then by household, so a
//! household is a run of consecutive agents and a municipality a range of them. Classes and
//! workplaces ("groups") are lists of members in compressed-row form.
//!
//! Each agent is one 8-byte [`AgentRecord`] (what the simulation reads of a contact at once)
//! plus its age byte, and 4 bytes per pupil or worker in the member lists: about 125 MB for
//! Cuba's 11.2 M.

use std::collections::HashSet;
use std::fmt;
use std::ops::Range;

use serde::{Deserialize, Serialize};

use super::params::PopulationParams;
use super::rng::{Alias, Keyed, ix, prob_threshold, to_u16, to_u32};
use super::{MAX_AGENTS, MAX_HOUSEHOLD_SIZE, MAX_MUNICIPALITIES, check_threads};
use crate::EpiError;

/// `group_of` of an agent without class or workplace.
pub(crate) const NO_GROUP: u32 = u32::MAX;
/// Agents per municipality of [`Population::synthetic`]: Cuba's mean (11.2 M / 168).
pub const SYNTHETIC_MUNICIPALITY_AGENTS: u64 = 66_700;
/// Purpose key of the population's random draws.
const PURPOSE_BUILD: u64 = 1;
/// Layer kinds in the composition table: no group, school, work.
pub(crate) const KINDS: usize = 3;

/// One municipality as the caller reads it (e.g. from `municipality-population.json` joined
/// with the map's codes).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MunicipalityPopulation {
    /// DPA code, e.g. `23.04`; the part before the first `.` is the province.
    pub code: String,
    /// Name, for the output.
    pub name: String,
    /// Residents: one agent each.
    pub population: u64,
}

/// What a group is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GroupKind {
    /// A class: pupils of one age and municipality.
    School,
    /// A workplace.
    Work,
}

/// A municipality of a built population.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MunicipalityInfo {
    /// DPA code.
    pub code: String,
    /// Name.
    pub name: String,
    /// Province key: the code up to its first `.`.
    pub province: String,
    /// Index of its first agent.
    pub first_agent: u32,
    /// Its agents (exactly the population given).
    pub agents: u32,
    /// Its households.
    pub households: u32,
    /// Its classes.
    pub classes: u32,
    /// Its workplaces.
    pub workplaces: u32,
}

/// The municipalities of one province, to draw travel contacts.
#[derive(Debug, Clone)]
pub(crate) struct Province {
    /// Municipality indices.
    pub(crate) municipalities: Vec<u16>,
    /// Running total of their agents, ending at `agents`.
    pub(crate) cumulative_agents: Vec<u32>,
    pub(crate) agents: u32,
}

/// What the model keeps of one agent, packed in 8 bytes so that one cache line read gives it
/// all: where its class or workplace's members start in the member list ([`NO_GROUP`] if it
/// has none), and in `packed` its age (bits 0–6), position in the household (7–11),
/// household size (12–16), group size (17–26) and group kind (27–28: 0 none, 1 school,
/// 2 work).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct AgentRecord {
    pub(crate) member_start: u32,
    packed: u32,
}

impl AgentRecord {
    fn new(age: u8, household_offset: u8, household_size: u8, group: (u32, u32, u32)) -> Self {
        let (member_start, group_len, kind) = group;
        AgentRecord {
            member_start,
            packed: u32::from(age.min(127))
                | u32::from(household_offset) << 7
                | u32::from(household_size) << 12
                | group_len << 17
                | kind << 27,
        }
    }

    #[inline]
    pub(crate) fn household_offset(self) -> u8 {
        field8(self.packed, 7, 5)
    }

    #[inline]
    pub(crate) fn household_size(self) -> u8 {
        field8(self.packed, 12, 5)
    }

    #[inline]
    pub(crate) fn group_len(self) -> u16 {
        field16(self.packed, 17, 10)
    }

    /// 0 no group, 1 school, 2 work.
    #[inline]
    pub(crate) fn kind(self) -> u8 {
        field8(self.packed, 27, 2)
    }
}

/// The `bits`-bit field at `shift` (`bits` ≤ 8: the cast keeps it whole).
#[allow(clippy::cast_possible_truncation)]
#[inline]
fn field8(packed: u32, shift: u32, bits: u32) -> u8 {
    ((packed >> shift) & ((1 << bits) - 1)) as u8
}

/// The `bits`-bit field at `shift` (`bits` ≤ 16: the cast keeps it whole).
#[allow(clippy::cast_possible_truncation)]
#[inline]
fn field16(packed: u32, shift: u32, bits: u32) -> u16 {
    ((packed >> shift) & ((1 << bits) - 1)) as u16
}

/// A synthetic population, built once and reused by any number of simulations.
pub struct Population {
    pub(crate) ages: Vec<u8>,
    pub(crate) records: Vec<AgentRecord>,
    /// Members of group `g`: `group_members[group_start[g]..group_start[g + 1]]`.
    pub(crate) group_start: Vec<u32>,
    pub(crate) group_members: Vec<u32>,
    pub(crate) group_kind: Vec<GroupKind>,
    pub(crate) municipalities: Vec<MunicipalityInfo>,
    /// First agent of each municipality, then the total.
    pub(crate) municipality_start: Vec<u32>,
    pub(crate) municipality_province: Vec<u16>,
    pub(crate) provinces: Vec<Province>,
    /// Agents by `(age, kind, household size)`: see [`Population::composition_index`].
    pub(crate) composition: Vec<u64>,
    /// Per kind (school, work): Σ size and Σ size × (size − 1) over groups.
    pub(crate) group_size_moments: [(u64, u64); 2],
    params: PopulationParams,
}

impl fmt::Debug for Population {
    // The arrays hold millions of entries: show the shape, not the contents.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Population")
            .field("agents", &self.ages.len())
            .field("municipalities", &self.municipalities.len())
            .field("provinces", &self.provinces.len())
            .field("groups", &self.group_kind.len())
            .finish_non_exhaustive()
    }
}

/// The slices of the population arrays that belong to one municipality.
struct Slices<'a> {
    index: usize,
    first_agent: u32,
    ages: &'a mut [u8],
    offset: &'a mut [u8],
    size: &'a mut [u8],
    group: &'a mut [u32],
}

/// What building one municipality gives besides the arrays.
struct Built {
    households: u32,
    /// Sizes of its groups, classes first.
    group_sizes: Vec<u32>,
    classes: u32,
    /// Members of its groups, global agent indices, group after group.
    members: Vec<u32>,
}

/// Sampling tables shared by all municipalities.
struct Tables {
    age: Alias,
    household: Alias,
    workplace: Alias,
}

impl Population {
    /// Builds the population of these municipalities with these parameters. The same
    /// `(municipalities, params, seed)` gives the same population for any `threads`.
    pub fn build(
        municipalities: &[MunicipalityPopulation],
        params: &PopulationParams,
        seed: u64,
        threads: usize,
    ) -> Result<Population, EpiError> {
        params.validate()?;
        check_threads(threads)?;
        let total = check_municipalities(municipalities)?;
        let agents = usize::try_from(total)
            .map_err(|_| EpiError::invalid("population", "no cabe en memoria"))?;

        let mut municipality_start = Vec::with_capacity(municipalities.len() + 1);
        let mut next = 0u32;
        for m in municipalities {
            municipality_start.push(next);
            // Bounded by MAX_AGENTS < 2^32.
            next += u32::try_from(m.population).unwrap_or(u32::MAX);
        }
        municipality_start.push(next);

        let tables = Tables::new(params);
        let key = Keyed::new(seed, PURPOSE_BUILD);
        let mut ages = vec![0u8; agents];
        let mut household_offset = vec![0u8; agents];
        let mut household_size = vec![0u8; agents];
        let mut group_of = vec![NO_GROUP; agents];

        let slices = split_by_municipality(
            &municipality_start,
            &mut ages,
            &mut household_offset,
            &mut household_size,
            &mut group_of,
        );
        let (built, composition) = build_parallel(slices, &tables, params, key, threads);

        // Groups: municipality after municipality, so global ids are local ids + offset.
        let groups: usize = built.iter().map(|b| b.group_sizes.len()).sum();
        let mut group_start = Vec::with_capacity(groups + 1);
        let mut group_kind = Vec::with_capacity(groups);
        let mut group_members = Vec::with_capacity(built.iter().map(|b| b.members.len()).sum());
        group_start.push(0u32);
        let mut infos = Vec::with_capacity(municipalities.len());
        for (m, b) in built.iter().enumerate() {
            let offset = to_u32(group_kind.len());
            let range = ix(municipality_start[m])..ix(municipality_start[m + 1]);
            for g in &mut group_of[range] {
                if *g != NO_GROUP {
                    *g += offset;
                }
            }
            for (i, &size) in b.group_sizes.iter().enumerate() {
                let last = group_start.last().copied().unwrap_or(0);
                group_start.push(last + size);
                group_kind.push(if i < ix(b.classes) {
                    GroupKind::School
                } else {
                    GroupKind::Work
                });
            }
            group_members.extend_from_slice(&b.members);
            let given = &municipalities[m];
            infos.push(MunicipalityInfo {
                code: given.code.clone(),
                name: given.name.clone(),
                province: province_key(&given.code).to_owned(),
                first_agent: municipality_start[m],
                agents: municipality_start[m + 1] - municipality_start[m],
                households: b.households,
                classes: b.classes,
                workplaces: to_u32(b.group_sizes.len()) - b.classes,
            });
        }
        let mut group_size_moments = [(0u64, 0u64); 2];
        for (g, kind) in group_kind.iter().enumerate() {
            let size = u64::from(group_start[g + 1] - group_start[g]);
            let slot = &mut group_size_moments[usize::from(*kind == GroupKind::Work)];
            slot.0 += size;
            slot.1 += size * size.saturating_sub(1);
        }
        let (provinces, municipality_province) = provinces_of(&infos);
        let records = ages
            .iter()
            .zip(&household_offset)
            .zip(&household_size)
            .zip(&group_of)
            .map(|(((&age, &offset), &size), &g)| {
                let group = if g == NO_GROUP {
                    (NO_GROUP, 0, 0)
                } else {
                    let start = group_start[ix(g)];
                    let kind = if group_kind[ix(g)] == GroupKind::School {
                        1
                    } else {
                        2
                    };
                    (start, group_start[ix(g) + 1] - start, kind)
                };
                AgentRecord::new(age, offset, size, group)
            })
            .collect();

        Ok(Population {
            ages,
            records,
            group_start,
            group_members,
            group_kind,
            municipalities: infos,
            municipality_start,
            municipality_province,
            provinces,
            composition,
            group_size_moments,
            params: params.clone(),
        })
    }

    /// Cuba from its municipalities, with [`PopulationParams::cuba`].
    pub fn cuba(
        municipalities: &[MunicipalityPopulation],
        seed: u64,
        threads: usize,
    ) -> Result<Population, EpiError> {
        Self::build(municipalities, &PopulationParams::cuba(), seed, threads)
    }

    /// `agents` people with Cuba's parameters, in synthetic municipalities of about
    /// [`SYNTHETIC_MUNICIPALITY_AGENTS`] (codes `S001`, `S002`…, each its own province).
    pub fn synthetic(agents: u64, seed: u64, threads: usize) -> Result<Population, EpiError> {
        if agents == 0 {
            return Err(EpiError::InsufficientData(
                "la población sintética no tiene habitantes (se pidieron 0)".to_owned(),
            ));
        }
        if agents > MAX_AGENTS {
            return Err(too_many_agents(agents));
        }
        let count = agents.div_ceil(SYNTHETIC_MUNICIPALITY_AGENTS);
        let (base, extra) = (agents / count, agents % count);
        let municipalities: Vec<MunicipalityPopulation> = (0..count)
            .map(|i| MunicipalityPopulation {
                code: format!("S{:03}", i + 1),
                name: format!("Sintético {}", i + 1),
                population: base + u64::from(i < extra),
            })
            .collect();
        Self::cuba(&municipalities, seed, threads)
    }

    /// Number of agents.
    pub fn agents(&self) -> usize {
        self.ages.len()
    }

    /// Age of every agent, in years.
    pub fn ages(&self) -> &[u8] {
        &self.ages
    }

    /// The municipalities, in the order given.
    pub fn municipalities(&self) -> &[MunicipalityInfo] {
        &self.municipalities
    }

    /// The agents of the household of `agent` (which includes it).
    ///
    /// # Panics
    /// If `agent` is not below [`Population::agents`].
    pub fn household(&self, agent: usize) -> Range<usize> {
        let record = self.records[agent];
        let start = agent - usize::from(record.household_offset());
        start..start + usize::from(record.household_size())
    }

    /// Number of households.
    pub fn households(&self) -> usize {
        self.municipalities.iter().map(|m| ix(m.households)).sum()
    }

    /// The class or workplace of `agent`, if any: its kind and its members (`agent`
    /// among them).
    ///
    /// # Panics
    /// If `agent` is not below [`Population::agents`].
    pub fn group_of(&self, agent: usize) -> Option<(GroupKind, &[u32])> {
        let record = self.records[agent];
        let kind = match record.kind() {
            1 => GroupKind::School,
            2 => GroupKind::Work,
            _ => return None,
        };
        let start = ix(record.member_start);
        Some((
            kind,
            &self.group_members[start..start + usize::from(record.group_len())],
        ))
    }

    /// Number of classes and workplaces.
    pub fn groups(&self) -> usize {
        self.group_kind.len()
    }

    /// What group `group` is.
    ///
    /// # Panics
    /// If `group` is not below [`Population::groups`].
    pub fn group_kind(&self, group: u32) -> GroupKind {
        self.group_kind[ix(group)]
    }

    /// The members of group `group`.
    ///
    /// # Panics
    /// If `group` is not below [`Population::groups`].
    pub fn group_members(&self, group: u32) -> &[u32] {
        let g = ix(group);
        &self.group_members[ix(self.group_start[g])..ix(self.group_start[g + 1])]
    }

    /// The parameters it was built with.
    pub fn params(&self) -> &PopulationParams {
        &self.params
    }

    /// Index of `(age, kind, household size)` in `composition`.
    pub(crate) fn composition_index(age: usize, kind: usize, household_size: usize) -> usize {
        (age * KINDS + kind) * MAX_HOUSEHOLD_SIZE + household_size - 1
    }

    /// Municipality of `agent`.
    pub(crate) fn municipality_of(&self, agent: u32) -> usize {
        self.municipality_start.partition_point(|&s| s <= agent) - 1
    }
}

impl Tables {
    fn new(params: &PopulationParams) -> Tables {
        let ages: Vec<f64> = (0..=params.max_age())
            .map(|age| params.age_band_shares[age / 5] / 5.0)
            .collect();
        // Sizes 2, 3, … with geometric weights of mean `workplace_mean_size`.
        let stay = 1.0 - 1.0 / (params.workplace_mean_size - 1.0);
        let workplace: Vec<f64> = (0..=params.workplace_max_size - 2)
            .map(|extra| stay.powf(f64::from(extra)))
            .collect();
        Tables {
            age: Alias::new(&ages),
            household: Alias::new(&params.household_size_shares),
            workplace: Alias::new(&workplace),
        }
    }
}

/// Total population, after refusing an empty, oversized or ambiguous list.
fn check_municipalities(municipalities: &[MunicipalityPopulation]) -> Result<u64, EpiError> {
    if municipalities.is_empty() {
        return Err(EpiError::InsufficientData(
            "no se dio ningún municipio: el territorio está vacío".to_owned(),
        ));
    }
    if municipalities.len() > MAX_MUNICIPALITIES {
        return Err(EpiError::invalid(
            "municipalities",
            format!(
                "se admiten hasta {MAX_MUNICIPALITIES} municipios; se recibieron {}",
                municipalities.len()
            ),
        ));
    }
    let mut codes = HashSet::new();
    let mut total = 0u64;
    for m in municipalities {
        if m.code.trim().is_empty() {
            return Err(EpiError::invalid(
                "municipalities.code",
                format!("el municipio «{}» no tiene código", m.name),
            ));
        }
        if !codes.insert(m.code.as_str()) {
            return Err(EpiError::invalid(
                "municipalities.code",
                format!("el código {} aparece más de una vez", m.code),
            ));
        }
        if m.population == 0 {
            return Err(EpiError::InsufficientData(format!(
                "el municipio {} ({}) no tiene habitantes: territorio vacío",
                m.code, m.name
            )));
        }
        total = total.saturating_add(m.population);
    }
    if total > MAX_AGENTS {
        return Err(too_many_agents(total));
    }
    Ok(total)
}

fn too_many_agents(agents: u64) -> EpiError {
    EpiError::invalid(
        "population",
        format!("se admiten hasta {MAX_AGENTS} habitantes; se pidieron {agents}"),
    )
}

fn province_key(code: &str) -> &str {
    code.split('.').next().unwrap_or(code)
}

fn provinces_of(infos: &[MunicipalityInfo]) -> (Vec<Province>, Vec<u16>) {
    let mut keys: Vec<&str> = Vec::new();
    let mut provinces: Vec<Province> = Vec::new();
    let mut of = Vec::with_capacity(infos.len());
    for (m, info) in infos.iter().enumerate() {
        let p = match keys.iter().position(|k| *k == info.province) {
            Some(p) => p,
            None => {
                keys.push(&info.province);
                provinces.push(Province {
                    municipalities: Vec::new(),
                    cumulative_agents: Vec::new(),
                    agents: 0,
                });
                provinces.len() - 1
            }
        };
        let province = &mut provinces[p];
        province.agents += info.agents;
        province.municipalities.push(to_u16(m));
        province.cumulative_agents.push(province.agents);
        of.push(to_u16(p));
    }
    (provinces, of)
}

fn split_by_municipality<'a>(
    starts: &[u32],
    mut ages: &'a mut [u8],
    mut offset: &'a mut [u8],
    mut size: &'a mut [u8],
    mut group: &'a mut [u32],
) -> Vec<Slices<'a>> {
    let mut out = Vec::with_capacity(starts.len() - 1);
    for (index, pair) in starts.windows(2).enumerate() {
        let n = ix(pair[1] - pair[0]);
        let (a, rest_a) = ages.split_at_mut(n);
        let (o, rest_o) = offset.split_at_mut(n);
        let (s, rest_s) = size.split_at_mut(n);
        let (g, rest_g) = group.split_at_mut(n);
        (ages, offset, size, group) = (rest_a, rest_o, rest_s, rest_g);
        out.push(Slices {
            index,
            first_agent: pair[0],
            ages: a,
            offset: o,
            size: s,
            group: g,
        });
    }
    out
}

/// Builds the municipalities on `threads` threads, each taking a run of municipalities
/// with about the same number of agents. Each municipality draws from its own stream, so
/// the split does not change the result.
fn build_parallel(
    slices: Vec<Slices<'_>>,
    tables: &Tables,
    params: &PopulationParams,
    key: Keyed,
    threads: usize,
) -> (Vec<Built>, Vec<u64>) {
    let composition_len = (params.max_age() + 1) * KINDS * MAX_HOUSEHOLD_SIZE;
    let run = |part: Vec<Slices<'_>>| {
        let mut composition = vec![0u64; composition_len];
        let built: Vec<Built> = part
            .into_iter()
            .map(|mut s| build_municipality(&mut s, tables, params, key, &mut composition))
            .collect();
        (built, composition)
    };
    let total: usize = slices.iter().map(|s| s.ages.len()).sum();
    let mut parts: Vec<Vec<Slices<'_>>> = Vec::new();
    let mut done = 0usize;
    for s in slices {
        // A new part whenever the agents so far pass the next 1/threads of the total.
        let wanted_parts = (done * threads / total.max(1)) + 1;
        done += s.ages.len();
        if parts.len() < wanted_parts {
            parts.push(Vec::new());
        }
        if let Some(last) = parts.last_mut() {
            last.push(s);
        }
    }
    let results: Vec<(Vec<Built>, Vec<u64>)> = if parts.len() <= 1 {
        parts.into_iter().map(run).collect()
    } else {
        std::thread::scope(|scope| {
            let handles: Vec<_> = parts
                .into_iter()
                .map(|part| scope.spawn(move || run(part)))
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().unwrap_or_else(|e| std::panic::resume_unwind(e)))
                .collect()
        })
    };
    let mut composition = vec![0u64; composition_len];
    let mut built = Vec::new();
    for (b, c) in results {
        built.extend(b);
        for (sum, x) in composition.iter_mut().zip(c) {
            *sum += x;
        }
    }
    (built, composition)
}

fn shuffle<T>(items: &mut [T], rng: &mut super::rng::Stream) {
    for i in (1..items.len()).rev() {
        let j = ix(rng.below(to_u32(i + 1)));
        items.swap(i, j);
    }
}

fn build_municipality(
    s: &mut Slices<'_>,
    tables: &Tables,
    params: &PopulationParams,
    key: Keyed,
    composition: &mut [u64],
) -> Built {
    let n = s.ages.len();
    let mut rng = key.stream(to_u32(s.index), 0);

    // Household sizes until everyone has one; the last is cut to fit.
    let mut sizes: Vec<usize> = Vec::with_capacity(n / 2 + 1);
    let mut placed = 0;
    while placed < n {
        let size = (tables.household.sample(rng.next_u64()) + 1).min(n - placed);
        sizes.push(size);
        placed += size;
    }

    // Ages; one adult heads each household, the others are shuffled into the remaining places.
    let mut adults: Vec<u8> = Vec::with_capacity(n);
    let mut others: Vec<u8> = Vec::with_capacity(n / 4);
    for _ in 0..n {
        let age = u8::try_from(tables.age.sample(rng.next_u64())).unwrap_or(u8::MAX);
        if age >= params.adult_min_age {
            adults.push(age);
        } else {
            others.push(age);
        }
    }
    let heads = sizes.len().min(adults.len());
    let mut rest = adults.split_off(heads);
    rest.extend_from_slice(&others);
    shuffle(&mut rest, &mut rng);
    let mut heads = adults.into_iter();
    let mut rest = rest.into_iter();
    let mut pos = 0;
    for &size in &sizes {
        for j in 0..size {
            // Both iterators together hold exactly n ages: one always has the next.
            let age = if j == 0 {
                heads.next().or_else(|| rest.next())
            } else {
                rest.next().or_else(|| heads.next())
            };
            s.ages[pos] = age.unwrap_or(0);
            s.offset[pos] = u8::try_from(j).unwrap_or(u8::MAX);
            s.size[pos] = u8::try_from(size).unwrap_or(u8::MAX);
            pos += 1;
        }
    }

    // Classes: enrolled children by single year of age, split into equal classes.
    let mut group_sizes = Vec::new();
    let mut members: Vec<u32> = Vec::new();
    let school_min = usize::from(params.school_min_age);
    let mut by_age: Vec<Vec<u32>> =
        vec![Vec::new(); usize::from(params.school_max_age) - school_min + 1];
    let enrolled = prob_threshold(params.school_enrollment);
    for (i, &age) in s.ages.iter().enumerate() {
        if (params.school_min_age..=params.school_max_age).contains(&age) && rng.chance(enrolled) {
            by_age[usize::from(age) - school_min].push(to_u32(i));
        }
    }
    let class_size = ix(params.class_size);
    for pupils in by_age.iter().filter(|p| !p.is_empty()) {
        let classes = pupils.len().div_ceil(class_size);
        let (base, extra) = (pupils.len() / classes, pupils.len() % classes);
        let mut rest = pupils.as_slice();
        for c in 0..classes {
            let (class, tail) = rest.split_at(base + usize::from(c < extra));
            rest = tail;
            let id = to_u32(group_sizes.len());
            for &local in class {
                s.group[ix(local)] = id;
                members.push(s.first_agent + local);
            }
            group_sizes.push(to_u32(class.len()));
        }
    }
    let classes = to_u32(group_sizes.len());

    // Workplaces: employed people in random order, cut into workplaces of random size.
    let employed = prob_threshold(params.employment_rate);
    let mut workers: Vec<u32> = Vec::new();
    for (i, &age) in s.ages.iter().enumerate() {
        if s.group[i] == NO_GROUP
            && (params.work_min_age..=params.work_max_age).contains(&age)
            && rng.chance(employed)
        {
            workers.push(to_u32(i));
        }
    }
    shuffle(&mut workers, &mut rng);
    let mut rest = workers.as_slice();
    while !rest.is_empty() {
        let size = (tables.workplace.sample(rng.next_u64()) + 2).min(rest.len());
        let (place, tail) = rest.split_at(size);
        rest = tail;
        let id = to_u32(group_sizes.len());
        for &local in place {
            s.group[ix(local)] = id;
            members.push(s.first_agent + local);
        }
        group_sizes.push(to_u32(place.len()));
    }

    for i in 0..n {
        let kind = match s.group[i] {
            NO_GROUP => 0,
            g if g < classes => 1,
            _ => 2,
        };
        let index =
            Population::composition_index(usize::from(s.ages[i]), kind, usize::from(s.size[i]));
        composition[index] += 1;
    }
    Built {
        households: to_u32(sizes.len()),
        group_sizes,
        classes,
        members,
    }
}

/// The mean of `(size − 1)` over group members, i.e. the mean number of other members a
/// member has (size-biased).
pub(crate) fn mean_other_members(moments: (u64, u64)) -> f64 {
    if moments.0 == 0 {
        0.0
    } else {
        super::rng::u64_to_f64(moments.1) / super::rng::u64_to_f64(moments.0)
    }
}
