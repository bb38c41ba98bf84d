//! What may be published of small counts below the province: a count from 1 to
//! [`SMALL_COUNT`]` − 1` is withheld (primary suppression), and so is anything that would give
//! a withheld count away by subtraction:
//!
//! - a sum over a run of days (a cumulative count, an incidence rate over 7 or 14 days) is
//!   published only when every day in it is, since the difference of two consecutive sums is
//!   a day's count;
//! - among groups whose total is public (age bands of an area's cases), one withheld group
//!   would be the total less the others: more groups are withheld, smallest first, until the
//!   withheld groups together hold at least [`SMALL_COUNT`] cases (secondary suppression).

use crate::analytics::SMALL_COUNT;

/// Whether one count may be published on its own: none, or at least [`SMALL_COUNT`].
pub fn publishable(count: u64) -> bool {
    count == 0 || count >= SMALL_COUNT
}

/// For each day, whether the `days` days that end on it (those before the first day count as
/// published) are all publishable, so that a sum over them may be published too. `days = 0`
/// (from the first day on, as a cumulative count) looks at every day so far.
pub fn windows_publishable(counts: &[u64], days: usize) -> Vec<bool> {
    let mut withheld_before = Vec::with_capacity(counts.len() + 1);
    withheld_before.push(0_usize);
    for count in counts {
        let last = withheld_before.last().copied().unwrap_or(0);
        withheld_before.push(last + usize::from(!publishable(*count)));
    }
    (0..counts.len())
        .map(|index| {
            let start = if days == 0 {
                0
            } else {
                (index + 1).saturating_sub(days)
            };
            withheld_before[index + 1] == withheld_before[start]
        })
        .collect()
}

/// The groups of a total that is itself public, as they may be published: small groups
/// withheld, and then the smallest other non-empty groups too until the withheld ones hold
/// at least [`SMALL_COUNT`] cases together (or every non-empty group is withheld).
pub fn groups_publishable(counts: &[u64]) -> Vec<Option<u64>> {
    let mut shown: Vec<Option<u64>> = counts
        .iter()
        .map(|count| publishable(*count).then_some(*count))
        .collect();
    let withheld = |shown: &[Option<u64>]| -> (usize, u64) {
        counts
            .iter()
            .zip(shown)
            .filter(|(_, shown)| shown.is_none())
            .fold((0, 0), |(groups, cases), (count, _)| {
                (groups + 1, cases + count)
            })
    };
    loop {
        let (groups, cases) = withheld(&shown);
        if groups == 0 || cases >= SMALL_COUNT {
            return shown;
        }
        let next = counts
            .iter()
            .enumerate()
            .filter(|(index, count)| shown[*index].is_some() && **count > 0)
            .min_by_key(|(_, count)| **count)
            .map(|(index, _)| index);
        match next {
            Some(index) => shown[index] = None,
            None => return shown,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sum_is_published_only_where_every_day_in_it_is() {
        let counts = [0, 7, 2, 9, 0, 0, 0, 0, 5];
        assert_eq!(
            windows_publishable(&counts, 0),
            [true, true, false, false, false, false, false, false, false]
        );
        assert_eq!(
            windows_publishable(&counts, 3),
            [true, true, false, false, false, true, true, true, true]
        );
        assert_eq!(windows_publishable(&counts, 1), counts.map(publishable));
        assert!(windows_publishable(&[], 7).is_empty());
    }

    #[test]
    fn one_withheld_group_takes_the_smallest_other_with_it() {
        // 3 alone would be the total (60) less 50 and 7.
        assert_eq!(
            groups_publishable(&[50, 3, 7, 0]),
            [Some(50), None, None, Some(0)]
        );
        // Two small groups together hold 5: enough.
        assert_eq!(groups_publishable(&[40, 2, 3]), [Some(40), None, None]);
        // Nothing small: everything shown; everything small: everything withheld.
        assert_eq!(groups_publishable(&[5, 0, 9]), [Some(5), Some(0), Some(9)]);
        assert_eq!(groups_publishable(&[1, 2, 0]), [None, None, Some(0)]);
        // Whatever the counts, no withheld set is smaller than SMALL_COUNT unless it is all.
        for counts in [[1, 9, 9, 30], [4, 5, 6, 7], [1, 1, 1, 100], [0, 4, 0, 0]] {
            let shown = groups_publishable(&counts);
            let hidden: u64 = counts
                .iter()
                .zip(&shown)
                .filter(|(_, shown)| shown.is_none())
                .map(|(count, _)| count)
                .sum();
            let all_hidden = counts
                .iter()
                .zip(&shown)
                .all(|(count, shown)| *count == 0 || shown.is_none());
            assert!(
                hidden == 0 || hidden >= SMALL_COUNT || all_hidden,
                "{counts:?}"
            );
        }
    }
}
