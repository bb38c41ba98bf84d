//! What may be published of small counts below the province, so that no count from 1 to
//! [`SMALL_COUNT`]` − 1` can be read, nor worked out by subtraction:
//!
//! - below the province, counts are published by complete weeks ([`Weekly`]) whatever day a
//!   page is asked for, so two days of one week cannot be subtracted;
//! - in each province, the table of its municipalities by week is protected as a whole
//!   ([`table_publishable`]): a small week is withheld, and so is the smallest other cell of
//!   its row or column while the withheld cells there hold fewer than [`SMALL_COUNT`] cases,
//!   since the province's weekly total and the municipality's total are public;
//! - a sum over weeks (a cumulative count, an incidence rate) is published only where every
//!   week inside it is;
//! - groups of a municipality's cases (age, sex, source) are not published at all.

use crate::analytics::SMALL_COUNT;

/// Whether one count may be published on its own: none, or at least [`SMALL_COUNT`].
pub fn publishable(count: u64) -> bool {
    count == 0 || count >= SMALL_COUNT
}

/// Days in a week of [`Weekly`].
pub const WEEK_DAYS: usize = 7;

/// The last day of the last complete week (weeks of 7 days from day 0) by day `at`.
pub fn week_end(at: usize) -> Option<usize> {
    ((at + 1) / WEEK_DAYS)
        .checked_sub(1)
        .map(|week| week * WEEK_DAYS + WEEK_DAYS - 1)
}

/// Which cells of a table may be published, rows being the municipalities of one province
/// and columns its weeks: the province's weekly totals (the columns' sums) are public, and a
/// municipality's total (a row's sum) can be too. A small cell is withheld (primary); then, as
/// long as the withheld cells of a row or a column hold 1 to 4 cases together — which the
/// public total less the published cells would give away — another cell of that row or
/// column is withheld too (secondary; see `protect`). Rows may have different lengths.
pub fn table_publishable(rows: &[Vec<u64>]) -> Vec<Vec<bool>> {
    let mut shown: Vec<Vec<bool>> = rows
        .iter()
        .map(|row| row.iter().map(|count| publishable(*count)).collect())
        .collect();
    let columns = rows.iter().map(Vec::len).max().unwrap_or(0);
    // Each pass withholds at least one more cell or ends: at most every cell once.
    loop {
        let mut changed = false;
        for row in 0..rows.len() {
            let cells: Vec<(usize, usize)> = (0..rows[row].len()).map(|col| (row, col)).collect();
            changed |= protect(rows, &mut shown, &cells);
        }
        for col in 0..columns {
            let cells: Vec<(usize, usize)> = (0..rows.len())
                .filter(|row| col < rows[*row].len())
                .map(|row| (row, col))
                .collect();
            changed |= protect(rows, &mut shown, &cells);
        }
        if !changed {
            return shown;
        }
    }
}

/// Withholds one more cell of `cells` when their withheld cells hold 1 to 4 cases: the
/// smallest published non-empty one, or, when none is left and only one cell is withheld, a
/// published empty one, so that the small count could be in either; whether it did.
fn protect(rows: &[Vec<u64>], shown: &mut [Vec<bool>], cells: &[(usize, usize)]) -> bool {
    let withheld = cells.iter().filter(|(row, col)| !shown[*row][*col]).count();
    let hidden: u64 = cells
        .iter()
        .filter(|(row, col)| !shown[*row][*col])
        .map(|(row, col)| rows[*row][*col])
        .sum();
    if hidden == 0 || hidden >= SMALL_COUNT {
        return false;
    }
    let smallest = cells
        .iter()
        .filter(|(row, col)| shown[*row][*col] && rows[*row][*col] > 0)
        .min_by_key(|(row, col)| (rows[*row][*col], *row, *col));
    let empty = || {
        cells
            .iter()
            .find(|(row, col)| shown[*row][*col])
            .filter(|_| withheld < 2)
    };
    match smallest.or_else(empty) {
        Some((row, col)) => {
            shown[*row][*col] = false;
            true
        }
        None => false,
    }
}

/// An area's counts as published below the province: by complete weeks from the first day,
/// whatever day is asked for, so that two days of one week show the same figures and no day's
/// count is the difference of two pages; each week as [`table_publishable`] allows it, and a
/// sum over weeks only where every week inside may be published.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Weekly {
    weeks: Vec<u64>,
    shown: Vec<bool>,
}

impl Weekly {
    /// The complete weeks by day `at` of an area whose every week's count is `weeks` and
    /// whose publishable weeks are `shown` (a week missing from `shown` is withheld).
    pub fn to_day(weeks: &[u64], shown: &[bool], at: usize) -> Weekly {
        let complete = week_end(at).map_or(0, |end| (end + 1) / WEEK_DAYS);
        let weeks = &weeks[..complete.min(weeks.len())];
        Weekly {
            weeks: weeks.to_vec(),
            shown: (0..weeks.len())
                .map(|week| shown.get(week).copied().unwrap_or(false))
                .collect(),
        }
    }

    /// How many complete weeks.
    pub fn weeks(&self) -> usize {
        self.weeks.len()
    }

    /// One week's count, when it may be published.
    pub fn week(&self, index: usize) -> Option<u64> {
        self.shown
            .get(index)
            .copied()
            .unwrap_or(false)
            .then(|| self.weeks[index])
    }

    /// The sum of the last `weeks` weeks, when every one of them may be published.
    pub fn last(&self, weeks: usize) -> Option<u64> {
        let start = self.weeks.len().saturating_sub(weeks);
        self.sum(start..self.weeks.len())
    }

    /// The sum of every week, when every one may be published.
    pub fn total(&self) -> Option<u64> {
        self.sum(0..self.weeks.len())
    }

    fn sum(&self, range: std::ops::Range<usize>) -> Option<u64> {
        let shown = self.shown.get(range.clone())?;
        shown
            .iter()
            .all(|shown| *shown)
            .then(|| self.weeks[range].iter().sum())
    }
}

/// Counts of each week (7 days from day 0) of a daily series, the last one possibly partial.
pub fn weekly_sums(daily: &[u64]) -> Vec<u64> {
    daily
        .chunks(WEEK_DAYS)
        .map(|week| week.iter().sum())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weekly_counts_only_change_when_a_week_is_complete() {
        assert_eq!(week_end(5), None);
        assert_eq!(week_end(6), Some(6));
        assert_eq!(week_end(12), Some(6));
        assert_eq!(week_end(13), Some(13));
        // Weeks of 7, 14 (two small days inside: the week is still published) and 3.
        let daily = [
            1, 1, 1, 1, 1, 1, 1, 2, 2, 2, 2, 2, 2, 2, 1, 1, 1, 0, 0, 0, 0, 9, 9,
        ];
        let weeks = weekly_sums(&daily);
        assert_eq!(weeks, [7, 14, 3, 18]);
        let shown = table_publishable(std::slice::from_ref(&weeks));
        let day_20 = Weekly::to_day(&weeks, &shown[0], 20);
        assert_eq!(day_20.weeks(), 3);
        assert_eq!(
            (day_20.week(0), day_20.week(1), day_20.week(2)),
            (None, Some(14), None),
            "3 withheld, and with it the smallest other week, 7"
        );
        assert_eq!(day_20.last(2), None, "a withheld week inside");
        assert_eq!(day_20.total(), None);
        // Any day of the fourth week shows what its first did: the third week's end.
        for at in 21..=22 {
            assert_eq!(Weekly::to_day(&weeks, &shown[0], at), day_20);
        }
        assert_eq!(Weekly::to_day(&weeks, &shown[0], 3).weeks(), 0);
        assert_eq!(Weekly::to_day(&weeks, &shown[0], 3).total(), Some(0));
    }

    #[test]
    fn a_small_cell_takes_a_partner_in_its_row_and_its_column() {
        // Two municipalities × three weeks; the province's weeks (columns) are public.
        let table = vec![vec![20, 3, 8], vec![15, 12, 0]];
        let shown = table_publishable(&table);
        // 3 is small; its column would give it away (15 published): 12 goes too. Its row
        // would too (20 and 8 published): 8 goes; then column 3 holds 8 withheld, enough.
        assert_eq!(
            shown,
            vec![vec![true, false, false], vec![true, false, true]]
        );
        // Whatever the table, every row and column withholds 0 or at least 5 cases.
        let tables = [
            vec![vec![1, 0, 0], vec![0, 0, 0]],
            vec![vec![0, 4], vec![0, 0], vec![0, 0]],
            vec![vec![4, 9, 9], vec![9, 1, 9], vec![9, 9, 2]],
            vec![vec![1, 1], vec![1, 1], vec![30, 30]],
            vec![vec![6, 2, 7, 0, 1], vec![0, 0, 3, 0, 0]],
        ];
        for table in tables {
            let shown = table_publishable(&table);
            let columns = table.iter().map(Vec::len).max().unwrap_or(0);
            let hidden = |cells: Vec<(usize, usize)>| -> (u64, bool) {
                let hidden: u64 = cells
                    .iter()
                    .filter(|(r, c)| !shown[*r][*c])
                    .map(|(r, c)| table[*r][*c])
                    .sum();
                // With no case left to withhold, at least two cells share the small count.
                let none_left = cells
                    .iter()
                    .all(|(r, c)| !shown[*r][*c] || table[*r][*c] == 0)
                    && cells.iter().filter(|(r, c)| !shown[*r][*c]).count() >= 2;
                (hidden, none_left)
            };
            for row in 0..table.len() {
                let (sum, none_left) = hidden((0..table[row].len()).map(|c| (row, c)).collect());
                assert!(
                    sum == 0 || sum >= SMALL_COUNT || none_left,
                    "{table:?} row {row}"
                );
            }
            for col in 0..columns {
                let cells = (0..table.len())
                    .filter(|r| col < table[*r].len())
                    .map(|r| (r, col));
                let (sum, none_left) = hidden(cells.collect());
                assert!(
                    sum == 0 || sum >= SMALL_COUNT || none_left,
                    "{table:?} column {col}"
                );
            }
        }
    }
}
