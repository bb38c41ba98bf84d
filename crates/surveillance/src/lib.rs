//! Salud's epidemic surveillance domain: what is counted and where. No IO: callers read the
//! files and the database and hand the text or rows in.
//!
//! - [`alerts`]: outbreak detection on an area's daily series: EARS C1, C2 and C3, and the
//!   crossing of a 14-day incidence threshold, each signal explained in Spanish;
//! - [`analytics`]: an area's daily series: new and cumulative cases, 7- and 14-day incidence
//!   per 100,000, doubling time;
//! - [`dashboard`]: every area's daily cases and deaths and its cases' profile, held in memory
//!   to answer the dashboards, and the nation's headline figures;
//! - [`disclosure`]: what may be published of small counts below the province, so that no
//!   withheld count can be found again by subtraction;
//! - [`followup`]: laboratory tests and contacts of a case: possible days, quarantine's end,
//!   how a contact's follow-up may move;
//! - [`geography`]: provinces and municipalities with their DPA codes, population and
//!   boundaries, from the GeoJSON and population files in `shared/data/cuba`;
//! - [`line_list`]: the line list health workers send in bulk (CSV or JSON), every row
//!   checked on its own and refused with its line and reason;
//! - [`map`]: the geometry of choropleth maps drawn as SVG: a frame that fits longitude and
//!   latitude into pixels, and each boundary's outline as compact, simplified path data;
//! - [`persons`]: the rule that finds a person already recorded (national id, else folded
//!   names and date of birth), so one person has one record;
//! - [`covid19cubadata`]: the open COVID-19 data of Cuba (cases, deaths, centres, events, the
//!   daily national series) read into typed records, with a report of what the source gets
//!   wrong.

pub mod alerts;
pub mod analytics;
pub mod covid19cubadata;
pub mod dashboard;
pub mod disclosure;
pub mod followup;
pub mod geography;
pub mod line_list;
pub mod map;
pub mod persons;

pub use geography::{
    Geography, GeographyError, MultiPolygon, Municipality, Province, UNKNOWN_MUNICIPALITY,
    UNKNOWN_PROVINCE,
};

/// A count written the Spanish way: `11.211.060`.
pub fn count_es(count: u64) -> String {
    let digits = count.to_string();
    let mut grouped = String::with_capacity(digits.len() + digits.len() / 3);
    for (index, digit) in digits.chars().enumerate() {
        if index > 0 && (digits.len() - index).is_multiple_of(3) {
            grouped.push('.');
        }
        grouped.push(digit);
    }
    grouped
}

#[cfg(test)]
mod tests {
    #[test]
    fn counts_are_grouped_by_thousands() {
        assert_eq!(super::count_es(0), "0");
        assert_eq!(super::count_es(999), "999");
        assert_eq!(super::count_es(1_000), "1.000");
        assert_eq!(super::count_es(11_211_060), "11.211.060");
    }
}
