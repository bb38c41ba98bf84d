//! The figures decision-makers read every morning, from the cases confirmed each day in an
//! area: new and cumulative cases, incidence per 100,000 people over the last 7 and 14 days,
//! and the doubling time of the cumulative count.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::covid19cubadata::Date;

/// Counts smaller than this are not published below the province (open data).
pub const SMALL_COUNT: u64 = 5;

/// One day of an area's series.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SeriesDay {
    pub date: String,
    pub new_cases: u64,
    pub cumulative: u64,
    /// Cases of the last 7 days (this one included) per 100,000 people.
    pub incidence_7d: Option<f64>,
    pub incidence_14d: Option<f64>,
    /// Days since the cumulative count was half of today's; `None` until it has doubled once.
    pub doubling_days: Option<u32>,
}

/// The series of an area from its first to its last day with cases, every day present (a day
/// without cases counts zero). `population` 0 leaves the incidences out.
pub fn series(new_by_day: &BTreeMap<Date, u64>, population: u64) -> Vec<SeriesDay> {
    let (Some(first), Some(last)) = (new_by_day.keys().next(), new_by_day.keys().last()) else {
        return Vec::new();
    };
    let (first, last) = (first.days_since_epoch(), last.days_since_epoch());
    let new: Vec<u64> = (first..=last)
        .map(|day| {
            new_by_day
                .get(&Date::from_days_since_epoch(day))
                .copied()
                .unwrap_or(0)
        })
        .collect();
    let mut cumulative = Vec::with_capacity(new.len());
    let mut total = 0_u64;
    for count in &new {
        total += count;
        cumulative.push(total);
    }
    let per_100k = |cases: u64| {
        (population > 0).then(|| {
            let rate = cases as f64 * 100_000.0 / population as f64;
            (rate * 100.0).round() / 100.0
        })
    };
    let window = |index: usize, days: usize| -> u64 {
        new[index.saturating_sub(days - 1)..=index].iter().sum()
    };
    // The last earlier day whose cumulative count was at most half of each day's: it only
    // moves forward, so the whole series takes one pass.
    let mut half_at = 0_usize;
    new.iter()
        .enumerate()
        .map(|(index, count)| {
            let today = cumulative[index];
            while half_at + 1 < index && cumulative[half_at + 1] * 2 <= today {
                half_at += 1;
            }
            let doubling_days =
                (half_at < index && cumulative[half_at] > 0 && cumulative[half_at] * 2 <= today)
                    .then(|| u32::try_from(index - half_at).ok())
                    .flatten();
            SeriesDay {
                date: Date::from_days_since_epoch(first + index as i64).to_string(),
                new_cases: *count,
                cumulative: today,
                incidence_7d: per_100k(window(index, 7)),
                incidence_14d: per_100k(window(index, 14)),
                doubling_days,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(text: &str) -> Date {
        Date::parse(text).expect("a day")
    }

    #[test]
    fn series_fill_gaps_and_count_windows_and_doubling() {
        let mut new = BTreeMap::new();
        new.insert(day("2020-03-11"), 2);
        new.insert(day("2020-03-13"), 2);
        new.insert(day("2020-03-14"), 4);
        let days = series(&new, 200_000);
        assert_eq!(days.len(), 4, "the 12th is there with zero");
        assert_eq!(days[1].new_cases, 0);
        assert_eq!(
            days.iter().map(|d| d.cumulative).collect::<Vec<_>>(),
            vec![2, 2, 4, 8]
        );
        assert_eq!(
            days[3].incidence_7d,
            Some(4.0),
            "8 cases per 200,000 = 4 per 100,000"
        );
        assert_eq!(days[0].doubling_days, None);
        assert_eq!(
            days[2].doubling_days,
            Some(1),
            "4 on the 13th, 2 on the 12th"
        );
        assert_eq!(
            days[3].doubling_days,
            Some(1),
            "8 on the 14th, 4 on the 13th"
        );
        assert!(series(&BTreeMap::new(), 10).is_empty());
        assert_eq!(series(&new, 0)[0].incidence_14d, None);
    }

    #[test]
    fn windows_reach_back_seven_and_fourteen_days() {
        let mut new = BTreeMap::new();
        for offset in 0..20 {
            new.insert(day("2021-01-01").plus_days(offset), 1);
        }
        let days = series(&new, 100_000);
        assert_eq!(days[19].incidence_7d, Some(7.0));
        assert_eq!(days[19].incidence_14d, Some(14.0));
        assert_eq!(days[3].incidence_14d, Some(4.0));
        // 20 cumulative on day 20; 10 on day 10: doubled in 10 days.
        assert_eq!(days[19].doubling_days, Some(10));
    }
}
