use std::fmt;

/// The last second this crate represents as a date, 9999-12-31T23:59:59Z; later instants are
/// clamped to it (a four-digit year is all a date of birth or a "today" ever needs).
const UNIX_S_MAX: u64 = 253_402_300_799;
const SECONDS_PER_DAY: u64 = 86_400;

/// A day of the proleptic Gregorian calendar, in UTC. Only real days exist: 2023-02-29 does not.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CalendarDate {
    // Field order matters: the derived `Ord` compares year, then month, then day.
    year: u16,
    month: u8,
    day: u8,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DateError {
    #[error("la fecha {year:04}-{month:02}-{day:02} no existe en el calendario")]
    NotInCalendar { year: u16, month: u8, day: u8 },
}

impl CalendarDate {
    /// The date `year-month-day`, refused when that day does not exist (month 13, 31 April,
    /// 29 February outside a leap year) or the year is 0 or above 9999.
    pub fn new(year: u16, month: u8, day: u8) -> Result<CalendarDate, DateError> {
        let exists = (1..=9999).contains(&year)
            && (1..=12).contains(&month)
            && day >= 1
            && day <= days_in_month(year, month);
        if exists {
            Ok(CalendarDate { year, month, day })
        } else {
            Err(DateError::NotInCalendar { year, month, day })
        }
    }

    /// The UTC date of an instant given in Unix seconds (the caller's clock: this crate has none).
    pub fn from_unix_seconds(unix_s: u64) -> CalendarDate {
        let days = unix_s.min(UNIX_S_MAX) / SECONDS_PER_DAY;
        civil_from_days(days)
    }

    pub fn year(self) -> u16 {
        self.year
    }

    pub fn month(self) -> u8 {
        self.month
    }

    pub fn day(self) -> u8 {
        self.day
    }
}

impl fmt::Display for CalendarDate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
}

fn is_leap_year(year: u16) -> bool {
    (year.is_multiple_of(4) && !year.is_multiple_of(100)) || year.is_multiple_of(400)
}

fn days_in_month(year: u16, month: u8) -> u8 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if is_leap_year(year) => 29,
        2 => 28,
        _ => 0,
    }
}

/// Days since 1970-01-01 to a date: Howard Hinnant's `civil_from_days`, for days >= 0.
fn civil_from_days(days: u64) -> CalendarDate {
    let z = days + 719_468;
    let era = z / 146_097;
    let day_of_era = z - era * 146_097;
    let year_of_era =
        (day_of_era - day_of_era / 1_460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_from_march = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * month_from_march + 2) / 5 + 1;
    let month = if month_from_march < 10 {
        month_from_march + 3
    } else {
        month_from_march - 9
    };
    let year = year_of_era + era * 400 + u64::from(month <= 2);
    // In range by construction: days <= UNIX_S_MAX / 86,400 gives a year <= 9999, and month and
    // day come out as 1..=12 and 1..=31.
    CalendarDate {
        year: u16::try_from(year).unwrap_or(9999),
        month: u8::try_from(month).unwrap_or(12),
        day: u8::try_from(day).unwrap_or(31),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unix_seconds_to_dates() {
        let check = |unix_s: u64, expected: &str| {
            assert_eq!(
                CalendarDate::from_unix_seconds(unix_s).to_string(),
                expected
            );
        };
        check(0, "1970-01-01");
        check(86_399, "1970-01-01");
        check(86_400, "1970-01-02");
        check(951_782_400, "2000-02-29");
        check(1_234_567_890, "2009-02-13");
        check(1_709_164_800, "2024-02-29");
        check(UNIX_S_MAX, "9999-12-31");
        check(u64::MAX, "9999-12-31");
    }

    #[test]
    fn every_day_of_four_centuries_round_trips_through_new() {
        let mut previous: Option<CalendarDate> = None;
        for day in 0..(400 * 366) {
            let date = civil_from_days(day);
            assert_eq!(CalendarDate::new(date.year, date.month, date.day), Ok(date));
            if let Some(previous) = previous {
                assert!(previous < date, "{previous} then {date}");
            }
            previous = Some(date);
        }
    }
}
