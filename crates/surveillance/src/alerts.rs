//! Outbreak detection on an area's daily counts of new confirmed cases: the three methods of the
//! CDC's Early Aberration Reporting System (EARS C1, C2 and C3), which compare a day with the
//! week before it, and the crossing of a 14-day incidence threshold per 100,000 people.
//!
//! Every signal carries a one-sentence explanation in Spanish with the numbers that crossed
//! which threshold, so that whoever reads the alert can check it without the method's paper.

use serde::Serialize;

use crate::count_es;
use crate::covid19cubadata::Date;

/// The most days [`detect`] examines: about eleven years of a daily series. Callers pass a few
/// thousand days at most; of a longer series only the last `DAYS_MAX` days are examined, which
/// bounds the work and the number of signals.
pub const DAYS_MAX: usize = 4_000;

/// Days in an EARS baseline.
const BASELINE_DAYS: usize = 7;
/// Days between the end of the C1 baseline and the day examined: none.
const C1_GUARD_DAYS: usize = 0;
/// Days between the end of the C2 baseline and the day examined, the day itself excluded: C2
/// leaves a guard band of two days so that an outbreak's first days do not inflate its own
/// baseline.
const C2_GUARD_DAYS: usize = 2;
/// Days of C2 that C3 adds up: the day and the two before it.
const C3_DAYS: usize = 3;
/// Days in the incidence window.
const INCIDENCE_DAYS: usize = 14;
/// Most decimals an explanation shows, when fewer would make a value look equal to its
/// threshold.
const DECIMALS_MAX: usize = 3;

/// A way of deciding that a day's count is unusual.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub enum Method {
    /// EARS C1 (mild): the day against the 7 days just before it.
    #[serde(rename = "ears_c1")]
    EarsC1,
    /// EARS C2 (medium): the day against the 7 days before a 2-day guard band.
    #[serde(rename = "ears_c2")]
    EarsC2,
    /// EARS C3 (ultra): the excess of C2 over 1, added up over the day and the two before.
    #[serde(rename = "ears_c3")]
    EarsC3,
    /// The 14-day incidence per 100,000 people crosses a threshold.
    #[serde(rename = "incidence_14d")]
    Incidence14,
}

impl Method {
    /// Every method, in the order signals of the same day are listed.
    pub const ALL: [Method; 4] = [
        Method::EarsC1,
        Method::EarsC2,
        Method::EarsC3,
        Method::Incidence14,
    ];

    /// The name in URLs, files and the database: `ears_c1`, `ears_c2`, `ears_c3`,
    /// `incidence_14d`.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Method::EarsC1 => "ears_c1",
            Method::EarsC2 => "ears_c2",
            Method::EarsC3 => "ears_c3",
            Method::Incidence14 => "incidence_14d",
        }
    }

    /// The method named by [`Method::as_str`]; `None` for any other text.
    #[must_use]
    pub fn parse(text: &str) -> Option<Method> {
        Method::ALL
            .into_iter()
            .find(|method| method.as_str() == text)
    }

    /// The name a person reads.
    #[must_use]
    pub fn name_es(self) -> &'static str {
        match self {
            Method::EarsC1 => "EARS C1",
            Method::EarsC2 => "EARS C2",
            Method::EarsC3 => "EARS C3",
            Method::Incidence14 => "Incidencia en 14 días",
        }
    }
}

/// The thresholds of [`detect`].
#[derive(Debug, Clone, PartialEq)]
pub struct AlertSettings {
    /// C1 and C2 signal above this many standard deviations over the baseline mean.
    pub ears_threshold: f64,
    /// C3 signals above this sum.
    pub c3_threshold: f64,
    /// Cases: the least standard deviation a baseline counts as, so that a week without spread
    /// (seven zeros, or seven twos) does not turn one extra case into an alarm. Must be
    /// positive: where neither the spread nor this floor is, EARS gives no signal.
    pub sd_floor: f64,
    /// No EARS signal on a day with fewer cases than this.
    pub min_cases: u64,
    /// The 14-day incidence per 100,000 people whose crossing is signalled.
    pub incidence_14d_per_100k: f64,
}

impl Default for AlertSettings {
    fn default() -> Self {
        AlertSettings {
            ears_threshold: 3.0,
            c3_threshold: 2.0,
            sd_floor: 1.0,
            min_cases: 3,
            incidence_14d_per_100k: 50.0,
        }
    }
}

/// One day on which one method found the count unusual.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Signal {
    pub day: Date,
    pub method: Method,
    /// The day's new cases; for [`Method::Incidence14`], the cases of the 14 days ending on it.
    pub cases: u64,
    /// The statistic: C1, C2, C3, or the incidence per 100,000.
    pub value: f64,
    /// The threshold `value` went over.
    pub threshold: f64,
    /// One sentence in Spanish: what crossed which threshold, with the numbers.
    pub explanation: String,
}

/// Every signal of every method on an area's series, ordered by day, then by method (in the
/// order of [`Method::ALL`]).
///
/// `daily_new[i]` is the count of new cases on `first_day.plus_days(i)`: contiguous days, a day
/// without cases counted as zero. `population` 0 leaves the incidence out. At most
/// [`DAYS_MAX`] days are examined: the last ones.
///
/// - C1: the baseline is the 7 days before the day; `C1 = (cases − mean) / max(sd, sd_floor)`,
///   with `sd` the sample standard deviation (n − 1). It signals above `ears_threshold`, from
///   the 8th day of the series.
/// - C2: the same, with a baseline 9 to 3 days before the day; from the 10th day.
/// - C3: `Σ max(0, C2 − 1)` over the day and the two before; it signals above `c3_threshold`,
///   from the 12th day.
/// - No EARS method signals on a day with fewer than `min_cases` cases.
/// - Incidence: the cases of the 14 days ending on the day, per 100,000 people. It signals on
///   the day it rises above `incidence_14d_per_100k`: once per crossing, and again only after
///   it has fallen back to the threshold or below. On the first day with 14 days of data, an
///   incidence already above the threshold counts as a crossing.
#[must_use]
pub fn detect(
    first_day: Date,
    daily_new: &[u64],
    population: u64,
    settings: &AlertSettings,
) -> Vec<Signal> {
    let skipped = daily_new.len().saturating_sub(DAYS_MAX);
    let first_day = day_at(first_day, skipped);
    let daily = &daily_new[skipped..];

    let c2: Vec<Option<Ears>> = (0..daily.len())
        .map(|day| Ears::compute(daily, day, C2_GUARD_DAYS, settings.sd_floor))
        .collect();
    let incidence: Vec<Option<f64>> = (0..daily.len())
        .map(|day| incidence_14d(daily, day, population))
        .collect();

    let mut signals = Vec::new();
    for (day, &cases) in daily.iter().enumerate() {
        let date = day_at(first_day, day);
        if cases >= settings.min_cases {
            if let Some(c1) = Ears::compute(daily, day, C1_GUARD_DAYS, settings.sd_floor)
                && c1.statistic > settings.ears_threshold
            {
                signals.push(c1.signal(Method::EarsC1, first_day, date, cases, settings));
            }
            if let Some(c2) = &c2[day]
                && c2.statistic > settings.ears_threshold
            {
                signals.push(c2.signal(Method::EarsC2, first_day, date, cases, settings));
            }
            if let Some(c3) = c3_on(&c2, day)
                && c3 > settings.c3_threshold
            {
                let window_first = day_at(first_day, day + 1 - C3_DAYS);
                signals.push(c3_signal(
                    window_first,
                    date,
                    cases,
                    c3,
                    settings.c3_threshold,
                ));
            }
        }
        if let Some(now) = incidence[day] {
            let threshold = settings.incidence_14d_per_100k;
            let before = day.checked_sub(1).and_then(|before| incidence[before]);
            if now > threshold && before.is_none_or(|before| before <= threshold) {
                let window_first = day + 1 - INCIDENCE_DAYS;
                signals.push(incidence_signal(
                    day_at(first_day, window_first),
                    date,
                    window_sum(daily, window_first, day),
                    population,
                    now,
                    threshold,
                ));
            }
        }
    }
    signals
}

/// C1 or C2 on one day: the statistic and the baseline it came from.
#[derive(Debug, Clone, Copy)]
struct Ears {
    /// Index of the baseline's first day.
    baseline_first: usize,
    mean: f64,
    sd: f64,
    /// The standard deviation divided by: `sd`, or the floor where that is larger.
    divisor: f64,
    statistic: f64,
}

impl Ears {
    /// The statistic on `day` with a baseline of 7 days ending `guard_days + 1` days before it
    /// (0 for C1, 2 for C2). `None` before there are 7 days of baseline, or where neither the
    /// spread nor the floor is positive.
    fn compute(daily: &[u64], day: usize, guard_days: usize, sd_floor: f64) -> Option<Ears> {
        let baseline_last = day.checked_sub(guard_days + 1)?;
        let baseline_first = baseline_last.checked_sub(BASELINE_DAYS - 1)?;
        let baseline = &daily[baseline_first..=baseline_last];
        let days = BASELINE_DAYS as f64;
        let mean = baseline.iter().map(|&count| count as f64).sum::<f64>() / days;
        let squares: f64 = baseline
            .iter()
            .map(|&count| (count as f64 - mean).powi(2))
            .sum();
        let sd = (squares / (days - 1.0)).sqrt();
        let divisor = sd.max(sd_floor);
        (divisor.is_finite() && divisor > 0.0).then(|| Ears {
            baseline_first,
            mean,
            sd,
            divisor,
            statistic: (daily[day] as f64 - mean) / divisor,
        })
    }

    fn signal(
        &self,
        method: Method,
        first_day: Date,
        date: Date,
        cases: u64,
        settings: &AlertSettings,
    ) -> Signal {
        let threshold = settings.ears_threshold;
        let baseline_first = day_at(first_day, self.baseline_first);
        let baseline_last = day_at(first_day, self.baseline_first + BASELINE_DAYS - 1);
        let floor = if self.sd < self.divisor {
            format!(" (se usa {})", decimal_es(self.divisor, 1))
        } else {
            String::new()
        };
        let short_name = match method {
            Method::EarsC1 => "C1",
            _ => "C2",
        };
        let (value, threshold_text) = above_es(self.statistic, threshold);
        Signal {
            day: date,
            method,
            cases,
            value: self.statistic,
            threshold,
            explanation: format!(
                "{}: {} casos el {date}; la media de referencia ({baseline_first} a \
                 {baseline_last}) fue {} con desviación {}{floor}; {short_name} = {value} \
                 supera {threshold_text}",
                method.name_es(),
                count_es(cases),
                decimal_es(self.mean, 1),
                decimal_es(self.sd, 1),
            ),
        }
    }
}

/// C3 on `day`: the excess of C2 over 1 added up over the day and the two before; `None` where
/// C2 is not known on all three.
fn c3_on(c2: &[Option<Ears>], day: usize) -> Option<f64> {
    let first = (day + 1).checked_sub(C3_DAYS)?;
    c2[first..=day]
        .iter()
        .map(|ears| ears.map(|ears| (ears.statistic - 1.0).max(0.0)))
        .sum()
}

/// The C3 signal on `date`, whose window began on `first`.
fn c3_signal(first: Date, date: Date, cases: u64, c3: f64, threshold: f64) -> Signal {
    let (value, threshold_text) = above_es(c3, threshold);
    Signal {
        day: date,
        method: Method::EarsC3,
        cases,
        value: c3,
        threshold,
        explanation: format!(
            "{}: {} casos el {date}; C3 = {value}, la suma de lo que C2 pasa de 1 del \
             {first} al {date}, supera {threshold_text}",
            Method::EarsC3.name_es(),
            count_es(cases),
        ),
    }
}

/// The cases of the 14 days ending on `day` per 100,000 people; `None` before there are 14
/// days, or without a population.
fn incidence_14d(daily: &[u64], day: usize, population: u64) -> Option<f64> {
    if population == 0 {
        return None;
    }
    let first = (day + 1).checked_sub(INCIDENCE_DAYS)?;
    Some(window_sum(daily, first, day) as f64 * 100_000.0 / population as f64)
}

/// The incidence signal on `date`, whose 14-day window began on `first`.
fn incidence_signal(
    first: Date,
    date: Date,
    window_cases: u64,
    population: u64,
    incidence: f64,
    threshold: f64,
) -> Signal {
    let (value, threshold_text) = above_es(incidence, threshold);
    Signal {
        day: date,
        method: Method::Incidence14,
        cases: window_cases,
        value: incidence,
        threshold,
        explanation: format!(
            "{}: {} casos del {first} al {date} en {} habitantes; {value} por 100.000 supera \
             {threshold_text}",
            Method::Incidence14.name_es(),
            count_es(window_cases),
            count_es(population),
        ),
    }
}

/// The cases of the days `first..=last`; a sum past `u64::MAX` stops there.
fn window_sum(daily: &[u64], first: usize, last: usize) -> u64 {
    daily[first..=last]
        .iter()
        .fold(0, |total, &count| total.saturating_add(count))
}

/// The day `index` days after `first_day`.
fn day_at(first_day: Date, index: usize) -> Date {
    first_day.plus_days(i64::try_from(index).expect("a series is shorter than i64::MAX days"))
}

/// A value and the threshold it went over, written with the fewest decimals (one to three) that
/// keep the value visibly above: `7,1` and `3`, but `3,04` and `3` rather than `3` and `3`.
fn above_es(value: f64, threshold: f64) -> (String, String) {
    let decimals = (1..=DECIMALS_MAX)
        .find(|&decimals| {
            let scale = 10_f64.powi(i32::try_from(decimals).unwrap_or(i32::MAX));
            (value * scale).round() > (threshold * scale).round()
        })
        .unwrap_or(DECIMALS_MAX);
    (decimal_es(value, decimals), decimal_es(threshold, decimals))
}

/// A number written the Spanish way, rounded to at most `decimals` decimals, without trailing
/// zeros: `2,1`, `3`, `1.234,5`.
fn decimal_es(value: f64, decimals: usize) -> String {
    if !value.is_finite() {
        return value.to_string();
    }
    let text = format!("{:.decimals$}", value.abs());
    let (whole, fraction) = text.split_once('.').unwrap_or((&text, ""));
    let fraction = fraction.trim_end_matches('0');
    let whole = whole
        .parse::<u64>()
        .map_or_else(|_| whole.to_owned(), count_es);
    let sign = if value.is_sign_negative() && (whole != "0" || !fraction.is_empty()) {
        "-"
    } else {
        ""
    };
    if fraction.is_empty() {
        format!("{sign}{whole}")
    } else {
        format!("{sign}{whole},{fraction}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(text: &str) -> Date {
        Date::parse(text).expect("a day")
    }

    /// `(day, method, value)` of each signal, values rounded to four decimals.
    fn summary(signals: &[Signal]) -> Vec<(String, Method, f64)> {
        signals
            .iter()
            .map(|signal| {
                (
                    signal.day.to_string(),
                    signal.method,
                    (signal.value * 10_000.0).round() / 10_000.0,
                )
            })
            .collect()
    }

    /// 2 cases a day for 20 days (1 to 20 July 2021), then 10, 15 and 25.
    fn outbreak() -> Vec<u64> {
        let mut daily = vec![2; 20];
        daily.extend([10, 15, 25]);
        daily
    }

    #[test]
    fn a_flat_series_gives_no_signal() {
        let settings = AlertSettings::default();
        for level in [0, 2, 5, 40] {
            let daily = vec![level; 60];
            let signals = detect(day("2021-01-01"), &daily, 10_000_000, &settings);
            assert!(signals.is_empty(), "{level} a day: {:?}", summary(&signals));
        }
    }

    #[test]
    fn no_input_no_population_and_short_series_give_nothing() {
        let settings = AlertSettings::default();
        assert!(detect(day("2021-01-01"), &[], 100_000, &settings).is_empty());
        assert!(detect(day("2021-01-01"), &[], 0, &settings).is_empty());
        // Seven days are not a baseline and a day: no EARS, and no 14-day window.
        let short = [0, 0, 0, 0, 0, 0, 50];
        assert!(detect(day("2021-01-01"), &short, 1_000, &settings).is_empty());
    }

    #[test]
    fn an_outbreak_raises_c1_c2_and_c3_on_the_right_days() {
        let signals = detect(
            day("2021-07-01"),
            &outbreak(),
            10_000_000,
            &AlertSettings::default(),
        );
        // By hand. 21 July (10 cases): both baselines are seven 2s, sd 0 → floor 1:
        // C1 = C2 = (10 − 2) / 1 = 8; C2 was 0 on the 19th and 20th: C3 = 0 + 0 + 7 = 7.
        // 22 July (15): the C1 baseline is six 2s and a 10, mean 22/7, sd √(448/49) = 3.0237:
        // C1 = (15 − 22/7) / 3.0237 = 3.9214; C2 = 15 − 2 = 13; C3 = 0 + 7 + 12 = 19.
        // 23 July (25): C1 baseline five 2s, 10, 15: mean 5, sd √(170/6) = 5.3229:
        // C1 = 20 / 5.3229 = 3.7573; C2 = 23; C3 = 7 + 12 + 22 = 41.
        let expected = vec![
            ("2021-07-21".to_owned(), Method::EarsC1, 8.0),
            ("2021-07-21".to_owned(), Method::EarsC2, 8.0),
            ("2021-07-21".to_owned(), Method::EarsC3, 7.0),
            ("2021-07-22".to_owned(), Method::EarsC1, 3.9214),
            ("2021-07-22".to_owned(), Method::EarsC2, 13.0),
            ("2021-07-22".to_owned(), Method::EarsC3, 19.0),
            ("2021-07-23".to_owned(), Method::EarsC1, 3.7573),
            ("2021-07-23".to_owned(), Method::EarsC2, 23.0),
            ("2021-07-23".to_owned(), Method::EarsC3, 41.0),
        ];
        assert_eq!(summary(&signals), expected);
        assert_eq!(
            signals.iter().map(|s| s.cases).collect::<Vec<_>>(),
            vec![10, 10, 10, 15, 15, 15, 25, 25, 25]
        );
        assert!(
            signals
                .iter()
                .all(|s| s.threshold == if s.method == Method::EarsC3 { 2.0 } else { 3.0 })
        );
    }

    #[test]
    fn a_stricter_threshold_drops_the_milder_signals() {
        let settings = AlertSettings {
            ears_threshold: 4.0,
            ..AlertSettings::default()
        };
        let signals = detect(day("2021-07-01"), &outbreak(), 0, &settings);
        let c1_days: Vec<String> = signals
            .iter()
            .filter(|s| s.method == Method::EarsC1)
            .map(|s| s.day.to_string())
            .collect();
        // C1 was 3.92 and 3.76 on the 22nd and 23rd.
        assert_eq!(c1_days, vec!["2021-07-21"]);
    }

    #[test]
    fn each_method_waits_for_its_baseline() {
        let settings = AlertSettings::default();
        // A jump on day 7 (index 6): only six days before it, no C1 yet.
        assert!(detect(day("2021-01-01"), &[0, 0, 0, 0, 0, 0, 10], 0, &settings).is_empty());
        // A jump on day 8: C1 has its seven days, C2 does not.
        let signals = detect(day("2021-01-01"), &[0, 0, 0, 0, 0, 0, 0, 10], 0, &settings);
        assert_eq!(
            summary(&signals),
            vec![("2021-01-08".to_owned(), Method::EarsC1, 10.0)]
        );
        // A jump on day 10: C1 and C2, but C3 needs C2 on days 8 to 10.
        let mut daily = vec![0; 9];
        daily.push(10);
        let signals = detect(day("2021-01-01"), &daily, 0, &settings);
        assert_eq!(
            summary(&signals),
            vec![
                ("2021-01-10".to_owned(), Method::EarsC1, 10.0),
                ("2021-01-10".to_owned(), Method::EarsC2, 10.0),
            ]
        );
        // A jump on day 12: all three.
        let mut daily = vec![0; 11];
        daily.push(10);
        let methods: Vec<Method> = detect(day("2021-01-01"), &daily, 0, &settings)
            .iter()
            .map(|s| s.method)
            .collect();
        assert_eq!(
            methods,
            vec![Method::EarsC1, Method::EarsC2, Method::EarsC3]
        );
    }

    #[test]
    fn min_cases_suppresses_a_jump_from_zero_to_two() {
        let mut daily = vec![0; 20];
        daily.push(2);
        // With a floor of 0.5, C1 = C2 = 2 / 0.5 = 4 and C3 = 3: all above their thresholds.
        let settings = AlertSettings {
            sd_floor: 0.5,
            ..AlertSettings::default()
        };
        assert!(
            detect(day("2021-01-01"), &daily, 0, &settings).is_empty(),
            "2 cases are fewer than 3"
        );
        let settings = AlertSettings {
            min_cases: 2,
            ..settings
        };
        assert_eq!(
            summary(&detect(day("2021-01-01"), &daily, 0, &settings)),
            vec![
                ("2021-01-21".to_owned(), Method::EarsC1, 4.0),
                ("2021-01-21".to_owned(), Method::EarsC2, 4.0),
                ("2021-01-21".to_owned(), Method::EarsC3, 3.0),
            ]
        );
    }

    #[test]
    fn a_baseline_without_spread_divides_by_the_floor() {
        let mut daily = vec![5; 10];
        daily.push(9);
        let c1 = |sd_floor: f64| {
            let settings = AlertSettings {
                sd_floor,
                ..AlertSettings::default()
            };
            detect(day("2021-01-01"), &daily, 0, &settings)
                .into_iter()
                .filter(|s| s.method == Method::EarsC1)
                .map(|s| s.value)
                .collect::<Vec<_>>()
        };
        assert_eq!(c1(1.0), vec![4.0], "(9 − 5) / 1");
        assert_eq!(c1(0.8), vec![5.0], "(9 − 5) / 0.8");
        assert_eq!(c1(2.0), Vec::<f64>::new(), "(9 − 5) / 2 = 2 is not above 3");
        assert_eq!(
            c1(0.0),
            Vec::<f64>::new(),
            "no spread and no floor: no statistic"
        );
        assert_eq!(
            c1(f64::NAN),
            Vec::<f64>::new(),
            "a floor that is not a number"
        );
    }

    #[test]
    fn a_floor_below_the_spread_changes_nothing() {
        // Baseline 0, 4, 0, 4, 0, 4, 0: mean 12/7, sd √(224/49) = 2.1381 > 1:
        // C1 = (20 − 12/7) / 2.1381 = 8.5524.
        let mut daily = vec![0, 4, 0, 4, 0, 4, 0];
        daily.push(20);
        let signals = detect(day("2021-01-01"), &daily, 0, &AlertSettings::default());
        assert_eq!(
            summary(&signals),
            vec![("2021-01-08".to_owned(), Method::EarsC1, 8.5524)]
        );
        assert!(!signals[0].explanation.contains("se usa"));
    }

    #[test]
    fn incidence_signals_once_per_crossing() {
        // Population 100,000: the incidence is the 14-day sum.
        let mut daily = vec![3; 14]; // to 14 Jan: 42
        daily.extend([5; 7]); // 44, 46, 48, 50 (not above), 52 on 19 Jan, 54, 56
        daily.extend([0; 14]); // 53, then 50 and below, down to 0
        daily.extend([10; 8]); // 10, 20, …, 50, 60 on 10 Feb, 70, 80
        let signals: Vec<Signal> = detect(
            day("2021-01-01"),
            &daily,
            100_000,
            &AlertSettings::default(),
        )
        .into_iter()
        .filter(|s| s.method == Method::Incidence14)
        .collect();
        assert_eq!(
            summary(&signals),
            vec![
                ("2021-01-19".to_owned(), Method::Incidence14, 52.0),
                ("2021-02-10".to_owned(), Method::Incidence14, 60.0),
            ]
        );
        assert_eq!(
            signals.iter().map(|s| s.cases).collect::<Vec<_>>(),
            vec![52, 60]
        );
        assert!(signals.iter().all(|s| s.threshold == 50.0));
    }

    #[test]
    fn incidence_above_on_the_first_full_window_is_a_crossing() {
        let signals = detect(
            day("2021-01-01"),
            &[4; 30],
            100_000,
            &AlertSettings::default(),
        );
        assert_eq!(
            summary(&signals),
            vec![("2021-01-14".to_owned(), Method::Incidence14, 56.0)]
        );
        assert!(
            detect(
                day("2021-01-01"),
                &[4; 13],
                100_000,
                &AlertSettings::default()
            )
            .is_empty(),
            "13 days are not a window"
        );
    }

    #[test]
    fn no_population_no_incidence() {
        let signals = detect(day("2021-01-01"), &[400; 30], 0, &AlertSettings::default());
        assert!(signals.is_empty());
    }

    #[test]
    fn explanations_give_the_numbers_with_decimal_commas() {
        let signals = detect(
            day("2021-07-01"),
            &outbreak(),
            10_000_000,
            &AlertSettings::default(),
        );
        let explanation = |date: &str, method: Method| {
            signals
                .iter()
                .find(|s| s.day.to_string() == date && s.method == method)
                .map(|s| s.explanation.clone())
                .expect("a signal")
        };
        assert_eq!(
            explanation("2021-07-22", Method::EarsC1),
            "EARS C1: 15 casos el 2021-07-22; la media de referencia (2021-07-15 a 2021-07-21) \
             fue 3,1 con desviación 3; C1 = 3,9 supera 3"
        );
        assert_eq!(
            explanation("2021-07-21", Method::EarsC2),
            "EARS C2: 10 casos el 2021-07-21; la media de referencia (2021-07-12 a 2021-07-18) \
             fue 2 con desviación 0 (se usa 1); C2 = 8 supera 3"
        );
        assert_eq!(
            explanation("2021-07-23", Method::EarsC3),
            "EARS C3: 25 casos el 2021-07-23; C3 = 41, la suma de lo que C2 pasa de 1 del \
             2021-07-21 al 2021-07-23, supera 2"
        );

        // 4 a day for 14 days in 1,234,567 people: 56 cases, 4.536 per 100,000.
        let settings = AlertSettings {
            incidence_14d_per_100k: 4.5,
            ..AlertSettings::default()
        };
        let signals = detect(day("2021-01-01"), &[4; 14], 1_234_567, &settings);
        assert_eq!(signals.len(), 1);
        assert_eq!(
            signals[0].explanation,
            "Incidencia en 14 días: 56 casos del 2021-01-01 al 2021-01-14 en 1.234.567 \
             habitantes; 4,54 por 100.000 supera 4,5",
            "one decimal would show 4,5 over 4,5: a second one is added"
        );
    }

    #[test]
    fn numbers_are_written_the_spanish_way() {
        assert_eq!(decimal_es(2.14, 1), "2,1");
        assert_eq!(decimal_es(3.0, 1), "3");
        assert_eq!(decimal_es(2.96, 1), "3");
        assert_eq!(decimal_es(1_234.56, 1), "1.234,6");
        assert_eq!(decimal_es(-0.5, 1), "-0,5");
        assert_eq!(decimal_es(-0.01, 1), "0");
        assert_eq!(above_es(3.04, 3.0), ("3,04".to_owned(), "3".to_owned()));
        assert_eq!(above_es(7.14, 3.0), ("7,1".to_owned(), "3".to_owned()));
    }

    #[test]
    fn a_long_series_is_examined_from_its_last_days() {
        let mut daily = vec![0; DAYS_MAX + 100];
        // An outbreak in the days left out, and one in the last days.
        daily[50] = 30;
        let last = daily.len() - 1;
        daily[last] = 30;
        let first_day = day("2000-01-01");
        let signals = detect(first_day, &daily, 0, &AlertSettings::default());
        let days: Vec<String> = signals.iter().map(|s| s.day.to_string()).collect();
        let last_day = first_day
            .plus_days(i64::try_from(last).expect("small"))
            .to_string();
        assert_eq!(days, vec![last_day.clone(), last_day.clone(), last_day]);
    }

    #[test]
    fn methods_parse_from_their_names() {
        for method in Method::ALL {
            assert_eq!(Method::parse(method.as_str()), Some(method));
            assert_eq!(
                serde_json::to_value(method).expect("a method serializes"),
                serde_json::Value::from(method.as_str())
            );
            assert!(!method.name_es().is_empty());
        }
        assert_eq!(Method::parse("EARS_C1"), None);
        assert_eq!(Method::parse(""), None);
        let mut sorted = Method::ALL;
        sorted.sort();
        assert_eq!(
            sorted,
            Method::ALL,
            "signals of a day are listed in this order"
        );
    }
}
