//! The figures of the dashboards, for every area at once: daily confirmed cases and deaths,
//! and the cases' profile (age band, sex, source), per municipality, province and the whole
//! country. Built in one pass from aggregate counts (never from case rows), so a server can
//! hold it in memory and answer any dashboard from it.
//!
//! Active cases below the nation are an estimate, said so wherever shown: the source records
//! no recovery per case, so a case counts as active for the 14 days after its confirmation
//! unless its death is recorded in them. The nation's active cases come from the published
//! series (confirmed − recovered − deaths − evacuated).

use std::collections::HashMap;

use crate::covid19cubadata::{Date, DayFigures};

/// The code of the whole country among the areas.
pub const NATION: &str = "cu";
/// Days a case counts as active when its recovery is not recorded.
pub const ACTIVE_DAYS: usize = 14;
/// Age bands: nine decades (the last, 80 and over) and one for an unknown age.
pub const AGE_BANDS: usize = 10;
/// Most days an overview spans (about 27 years): a bound on memory, far beyond any epidemic.
pub const DAYS_MAX: usize = 10_000;

/// The age bands' labels, in order.
pub const AGE_BAND_LABELS: [&str; AGE_BANDS] = [
    "0–9",
    "10–19",
    "20–29",
    "30–39",
    "40–49",
    "50–59",
    "60–69",
    "70–79",
    "80 y más",
    "sin edad",
];
/// The sexes' labels, in order: female, male, not recorded.
pub const SEX_LABELS: [&str; 3] = ["Femenino", "Masculino", "Sin dato"];
/// The sources' labels, in order: imported, introduced, autochthonous, unknown.
pub const SOURCE_LABELS: [&str; 4] = ["Importado", "Introducido", "Autóctono", "Desconocida"];

/// How an area's confirmed cases are made up.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Profile {
    /// By [`AGE_BAND_LABELS`].
    pub age: [u64; AGE_BANDS],
    /// By [`SEX_LABELS`].
    pub sex: [u64; 3],
    /// By [`SOURCE_LABELS`].
    pub source: [u64; 4],
}

/// One group of confirmed cases of a municipality with the same age band, sex and source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProfileGroup<'a> {
    pub municipality_code: &'a str,
    /// Decades, `0`…`8` (80 and over); `None` for an unknown age.
    pub age_band: Option<u8>,
    /// `female`, `male`, or anything else for not recorded.
    pub sex: Option<&'a str>,
    /// `imported`, `introduced`, `autochthonous`; anything else is unknown.
    pub source: &'a str,
    pub count: u64,
}

/// One area's figures, day by day from the overview's first day.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AreaFigures {
    pub new_cases: Vec<u64>,
    pub deaths: Vec<u64>,
    pub profile: Profile,
}

impl AreaFigures {
    fn with_days(days: usize) -> AreaFigures {
        AreaFigures {
            new_cases: vec![0; days],
            deaths: vec![0; days],
            profile: Profile::default(),
        }
    }

    fn add(&mut self, other: &AreaFigures) {
        for (mine, theirs) in self.new_cases.iter_mut().zip(&other.new_cases) {
            *mine += theirs;
        }
        for (mine, theirs) in self.deaths.iter_mut().zip(&other.deaths) {
            *mine += theirs;
        }
        for (mine, theirs) in self.profile.age.iter_mut().zip(other.profile.age) {
            *mine += theirs;
        }
        for (mine, theirs) in self.profile.sex.iter_mut().zip(other.profile.sex) {
            *mine += theirs;
        }
        for (mine, theirs) in self.profile.source.iter_mut().zip(other.profile.source) {
            *mine += theirs;
        }
    }

    pub fn cases_total(&self) -> u64 {
        self.new_cases.iter().sum()
    }

    pub fn deaths_total(&self) -> u64 {
        self.deaths.iter().sum()
    }

    /// Confirmed cases up to each day.
    pub fn cumulative(&self) -> Vec<u64> {
        running_sum(&self.new_cases)
    }

    /// The estimate of active cases each day (see the module's note).
    pub fn active_estimate(&self) -> Vec<u64> {
        (0..self.new_cases.len())
            .map(|index| {
                let cases = window_sum(&self.new_cases, index, ACTIVE_DAYS);
                cases.saturating_sub(window_sum(&self.deaths, index, ACTIVE_DAYS))
            })
            .collect()
    }

    /// Cases of the `days` days that end on day `index` (those before the first day count 0).
    pub fn cases_in_window(&self, index: usize, days: usize) -> u64 {
        window_sum(&self.new_cases, index, days)
    }

    /// The sums of each run of `days` days from the first day (the last run may be shorter),
    /// with the index of its first day.
    pub fn in_periods(&self, days: usize) -> Vec<(usize, u64)> {
        let days = days.max(1);
        self.new_cases
            .chunks(days)
            .enumerate()
            .map(|(period, counts)| (period * days, counts.iter().sum()))
            .collect()
    }
}

/// A municipality's figures, made on its first count.
fn place<'m>(
    municipalities: &'m mut HashMap<String, AreaFigures>,
    code: &str,
    days: usize,
) -> &'m mut AreaFigures {
    municipalities
        .entry(code.to_owned())
        .or_insert_with(|| AreaFigures::with_days(days))
}

fn running_sum(counts: &[u64]) -> Vec<u64> {
    let mut total = 0;
    counts
        .iter()
        .map(|count| {
            total += count;
            total
        })
        .collect()
}

fn window_sum(counts: &[u64], index: usize, days: usize) -> u64 {
    if counts.is_empty() || days == 0 {
        return 0;
    }
    let end = index.min(counts.len() - 1);
    counts[(end + 1).saturating_sub(days)..=end].iter().sum()
}

/// Every area's figures over the same days.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Overview {
    /// The first day with a case (or a death); `None` when there are none.
    pub first_day: Option<Date>,
    /// How many days, to the last with a case or a death.
    pub days: usize,
    areas: HashMap<String, AreaFigures>,
}

impl Overview {
    /// Joins the counts: `confirmed` and `deaths` as `(day, municipality, count)`, the profile
    /// groups, and the province of every municipality (`province_of`); a municipality it does
    /// not know still counts for the nation. Days beyond [`DAYS_MAX`] after the first are left
    /// out (they cannot happen in real data).
    pub fn build<'a>(
        confirmed: &[(Date, &'a str, u64)],
        deaths: &[(Date, &'a str, u64)],
        profiles: &[ProfileGroup<'a>],
        province_of: &dyn Fn(&str) -> Option<&'a str>,
    ) -> Overview {
        let first = confirmed.iter().chain(deaths).map(|(day, _, _)| *day).min();
        let last = confirmed.iter().chain(deaths).map(|(day, _, _)| *day).max();
        let (Some(first), Some(last)) = (first, last) else {
            return Overview {
                first_day: None,
                days: 0,
                areas: HashMap::new(),
            };
        };
        let span = last.days_since_epoch() - first.days_since_epoch() + 1;
        let days = usize::try_from(span).unwrap_or(1).min(DAYS_MAX);
        let mut municipalities: HashMap<String, AreaFigures> = HashMap::new();
        let index_of = |day: Date| {
            usize::try_from(day.days_since_epoch() - first.days_since_epoch())
                .ok()
                .filter(|index| *index < days)
        };
        for (day, code, count) in confirmed {
            if let Some(index) = index_of(*day) {
                place(&mut municipalities, code, days).new_cases[index] += count;
            }
        }
        for (day, code, count) in deaths {
            if let Some(index) = index_of(*day) {
                place(&mut municipalities, code, days).deaths[index] += count;
            }
        }
        for group in profiles {
            let profile = &mut place(&mut municipalities, group.municipality_code, days).profile;
            let age = group
                .age_band
                .map_or(AGE_BANDS - 1, |band| usize::from(band).min(AGE_BANDS - 2));
            profile.age[age] += group.count;
            let sex = match group.sex {
                Some("female") => 0,
                Some("male") => 1,
                _ => 2,
            };
            profile.sex[sex] += group.count;
            let source = match group.source {
                "imported" => 0,
                "introduced" => 1,
                "autochthonous" => 2,
                _ => 3,
            };
            profile.source[source] += group.count;
        }
        let mut areas: HashMap<String, AreaFigures> = HashMap::new();
        let mut nation = AreaFigures::with_days(days);
        for (code, figures) in &municipalities {
            nation.add(figures);
            if let Some(province) = province_of(code) {
                areas
                    .entry(province.to_owned())
                    .or_insert_with(|| AreaFigures::with_days(days))
                    .add(figures);
            }
        }
        areas.extend(municipalities);
        areas.insert(NATION.to_owned(), nation);
        Overview {
            first_day: Some(first),
            days,
            areas,
        }
    }

    /// An area's figures by code (a municipality's, a province's, or [`NATION`]); an area
    /// without cases has none.
    pub fn area(&self, code: &str) -> Option<&AreaFigures> {
        self.areas.get(code)
    }

    /// The day at `index`.
    pub fn day(&self, index: usize) -> Option<Date> {
        let first = self.first_day?;
        (index < self.days).then(|| first.plus_days(i64::try_from(index).unwrap_or(0)))
    }

    /// The index of the last day, when there is one.
    pub fn last_index(&self) -> Option<usize> {
        self.days.checked_sub(1)
    }
}

/// The nation's headline figures on the last day of the published series.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct NationalHeadline {
    pub date: Option<Date>,
    pub confirmed_total: u64,
    pub confirmed_today: u64,
    pub tests_total: Option<u64>,
    pub tests_today: Option<u64>,
    /// Confirmed cases per test over the last 7 days with tests, in percent.
    pub positivity_7d: Option<f64>,
    pub recovered_total: u64,
    pub deaths_total: u64,
    pub evacuated_total: u64,
    /// Confirmed − recovered − deaths − evacuated, all to date.
    pub active: u64,
    pub serious: Option<u64>,
    pub critical: Option<u64>,
}

/// One day of the nation's published series, with what follows from it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct NationalDay {
    pub date: Option<Date>,
    /// This day's confirmed cases, recoveries and deaths.
    pub confirmed_today: u64,
    pub recovered_today: u64,
    pub deaths_today: u64,
    pub confirmed_total: u64,
    pub recovered_total: u64,
    pub deaths_total: u64,
    pub evacuated_total: u64,
    /// Tests since the last day with a cumulative count (none where this day lacks one).
    pub tests_today: Option<u64>,
    /// Tests to date, as published (the last count carried over a day without one).
    pub tests_total: Option<u64>,
    /// Confirmed cases per test over the 7 days that end this one, counting only days with a
    /// test count, in percent; `None` without tests.
    pub positivity_7d: Option<f64>,
    pub active: u64,
    /// Patients in serious and critical condition this day.
    pub serious: Option<u64>,
    pub critical: Option<u64>,
}

/// The published series day by day, to date: the source gives each day's confirmed cases,
/// recoveries, deaths and evacuations (a day without a figure counts none) and the cumulative
/// count of tests.
pub fn national_days(series: &[DayFigures]) -> Vec<NationalDay> {
    let mut today = NationalDay::default();
    let mut previous_tests: Option<u64> = None;
    // (confirmed, tests) of the last 7 days, for the positivity.
    let mut week: std::collections::VecDeque<(u64, Option<u64>)> =
        std::collections::VecDeque::with_capacity(8);
    series
        .iter()
        .map(|day| {
            today.date = day.date;
            today.confirmed_today = day.confirmed;
            today.recovered_today = day.recovered.unwrap_or(0);
            today.deaths_today = day.deaths.unwrap_or(0);
            today.confirmed_total += day.confirmed;
            today.recovered_total += today.recovered_today;
            today.deaths_total += today.deaths_today;
            today.evacuated_total += day.evacuated.unwrap_or(0);
            today.tests_today = match (day.tests_total, previous_tests) {
                (Some(total), Some(before)) => total.checked_sub(before),
                _ => None,
            };
            previous_tests = day.tests_total.or(previous_tests);
            today.tests_total = previous_tests;
            week.push_back((day.confirmed, today.tests_today));
            if week.len() > 7 {
                week.pop_front();
            }
            let (confirmed, tests) = week
                .iter()
                .filter_map(|(confirmed, tests)| Some((*confirmed, (*tests)?)))
                .fold((0, 0), |(c, t), (confirmed, tests)| {
                    (c + confirmed, t + tests)
                });
            today.positivity_7d = (tests > 0).then(|| confirmed as f64 * 100.0 / tests as f64);
            today.active = today
                .confirmed_total
                .saturating_sub(today.recovered_total + today.deaths_total + today.evacuated_total);
            today.serious = day.serious;
            today.critical = day.critical;
            today.clone()
        })
        .collect()
}

/// The headline of the last day of the published series (`series` in day order).
pub fn national_headline(series: &[DayFigures]) -> NationalHeadline {
    let days = national_days(series);
    let (Some(last), Some(figures)) = (days.last(), series.last()) else {
        return NationalHeadline::default();
    };
    NationalHeadline {
        date: last.date,
        confirmed_total: last.confirmed_total,
        confirmed_today: figures.confirmed,
        tests_total: figures.tests_total,
        tests_today: last.tests_today,
        positivity_7d: last.positivity_7d,
        recovered_total: last.recovered_total,
        deaths_total: last.deaths_total,
        evacuated_total: last.evacuated_total,
        active: last.active,
        serious: figures.serious,
        critical: figures.critical,
    }
}

/// Per 100,000 people; `None` for no population.
pub fn per_100k(cases: u64, population: u64) -> Option<f64> {
    (population > 0).then(|| cases as f64 * 100_000.0 / population as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(text: &str) -> Date {
        Date::parse(text).expect("a day")
    }

    fn province_of(code: &str) -> Option<&'static str> {
        match code {
            "23.01" | "23.02" => Some("23"),
            "21.01" => Some("21"),
            _ => None,
        }
    }

    fn overview() -> Overview {
        let confirmed = [
            (day("2020-03-11"), "23.01", 3),
            (day("2020-03-12"), "23.02", 2),
            (day("2020-03-12"), "21.01", 1),
            (day("2020-03-20"), "23.01", 4),
            (day("2020-03-20"), "99.99", 1),
        ];
        let deaths = [(day("2020-03-21"), "23.01", 1)];
        let profiles = [
            ProfileGroup {
                municipality_code: "23.01",
                age_band: Some(3),
                sex: Some("female"),
                source: "imported",
                count: 5,
            },
            ProfileGroup {
                municipality_code: "23.01",
                age_band: Some(12),
                sex: None,
                source: "autochthonous",
                count: 1,
            },
            ProfileGroup {
                municipality_code: "23.01",
                age_band: None,
                sex: Some("male"),
                source: "whatever",
                count: 1,
            },
        ];
        Overview::build(&confirmed, &deaths, &profiles, &province_of)
    }

    #[test]
    fn areas_add_up_to_their_province_and_the_nation() {
        let overview = overview();
        assert_eq!(overview.first_day, Some(day("2020-03-11")));
        assert_eq!(overview.days, 11, "to the last death");
        let province = overview.area("23").expect("La Habana");
        assert_eq!(province.cases_total(), 9);
        assert_eq!(province.new_cases[..2], [3, 2]);
        assert_eq!(province.new_cases[9], 4);
        assert_eq!(province.deaths_total(), 1);
        assert_eq!(overview.area("21").map(AreaFigures::cases_total), Some(1));
        let nation = overview.area(NATION).expect("the nation");
        assert_eq!(
            nation.cases_total(),
            11,
            "an unknown municipality still counts"
        );
        assert_eq!(overview.area("99"), None);
        assert_eq!(overview.day(10), Some(day("2020-03-21")));
        assert_eq!(overview.day(11), None);
    }

    #[test]
    fn profiles_fall_into_bands_and_unknowns() {
        let overview = overview();
        let profile = &overview.area("23").expect("La Habana").profile;
        assert_eq!(profile.age[3], 5);
        assert_eq!(profile.age[8], 1, "a band past 80 is 80 and over");
        assert_eq!(profile.age[9], 1, "unknown age");
        assert_eq!(profile.sex, [5, 1, 1]);
        assert_eq!(profile.source, [5, 0, 1, 1]);
    }

    #[test]
    fn active_cases_last_fourteen_days_less_deaths() {
        let mut figures = AreaFigures::with_days(20);
        figures.new_cases[0] = 10;
        figures.new_cases[5] = 4;
        figures.deaths[6] = 1;
        let active = figures.active_estimate();
        assert_eq!(active[0], 10);
        assert_eq!(active[6], 13);
        assert_eq!(active[13], 13);
        assert_eq!(active[14], 3, "the first day's cases are over");
        assert_eq!(active[18], 3);
        assert_eq!(active[19], 0, "the day-5 cases are over too");
        assert_eq!(figures.cumulative()[19], 14);
        assert_eq!(figures.cases_in_window(6, 7), 14);
        assert_eq!(
            figures.cases_in_window(99, 7),
            0,
            "past the end: the last window"
        );
        assert_eq!(figures.in_periods(7), vec![(0, 14), (7, 0), (14, 0)]);
    }

    #[test]
    fn an_empty_overview_has_no_days() {
        let overview = Overview::build(&[], &[], &[], &province_of);
        assert_eq!(overview.days, 0);
        assert_eq!(overview.last_index(), None);
        assert_eq!(overview.area(NATION), None);
    }

    #[test]
    fn the_national_headline_follows_the_published_series() {
        let figures = |date: &str, confirmed, tests, recovered, deaths| DayFigures {
            date: Some(day(date)),
            confirmed,
            tests_total: tests,
            recovered,
            deaths,
            evacuated: Some(1),
            serious: Some(2),
            critical: Some(1),
            ..DayFigures::default()
        };
        let series = [
            figures("2020-03-11", 3, Some(100), Some(0), Some(0)),
            figures("2020-03-12", 5, Some(150), Some(1), Some(0)),
            figures("2020-03-13", 2, None, None, Some(1)),
            figures("2020-03-14", 10, Some(250), Some(3), None),
        ];
        let headline = national_headline(&series);
        assert_eq!(headline.confirmed_total, 20);
        assert_eq!(headline.confirmed_today, 10);
        assert_eq!(
            headline.tests_today,
            Some(100),
            "since the last day that had a count"
        );
        assert_eq!(headline.recovered_total, 4, "the day's recoveries add up");
        assert_eq!(headline.deaths_total, 1);
        assert_eq!(headline.evacuated_total, 4);
        assert_eq!(headline.active, 20 - 4 - 1 - 4);
        // Days with a count of the day's tests: 50 (5 confirmed) and 100 (10): 15 of 150.
        let positivity = headline.positivity_7d.expect("tests");
        assert!((positivity - 10.0).abs() < 1e-9, "{positivity}");
        assert_eq!(national_headline(&[]), NationalHeadline::default());
        assert_eq!(per_100k(5, 0), None);
        assert_eq!(per_100k(5, 100_000), Some(5.0));
    }

    #[test]
    fn national_days_carry_daily_figures_and_a_sliding_positivity() {
        // Day n (1…10) confirms n cases and runs 100 tests; day 1 has no count before it.
        let series: Vec<DayFigures> = (1..=10_u64)
            .map(|n| DayFigures {
                date: Some(day("2020-03-10").plus_days(i64::try_from(n).expect("small"))),
                confirmed: n,
                tests_total: Some(100 * n),
                recovered: (n % 2 == 0).then_some(n / 2),
                deaths: Some(u64::from(n == 7)),
                serious: Some(n + 1),
                ..DayFigures::default()
            })
            .collect();
        let days = national_days(&series);
        assert_eq!(days.len(), 10);
        assert_eq!(days[0].tests_today, None);
        assert_eq!(days[0].positivity_7d, None, "no day with a test count yet");
        assert_eq!(days[1].positivity_7d, Some(2.0), "2 of 100");
        // The last 7 days (4…10): 49 confirmed, 700 tests.
        let last = &days[9];
        assert!((last.positivity_7d.expect("tests") - 7.0).abs() < 1e-9);
        assert_eq!(last.tests_total, Some(1_000));
        assert_eq!(
            (
                last.confirmed_today,
                last.recovered_today,
                last.deaths_today
            ),
            (10, 5, 0)
        );
        assert_eq!(days[6].deaths_today, 1);
        assert_eq!(last.recovered_total, 1 + 2 + 3 + 4 + 5);
        assert_eq!(last.serious, Some(11));
    }
}
