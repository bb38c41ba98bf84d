//! People, one record each: the match rule that finds a person already recorded, so a second
//! case, test or contact of the same person does not make a second record.
//!
//! The rule, in order:
//! 1. the same carné de identidad (national id) is the same person;
//! 2. otherwise, the same given names, surnames and date of birth — compared in lower case,
//!    without accents and with single spaces — are the same person, unless both records carry
//!    national ids and they differ (then they are two people who share a name and a birthday).
//!
//! Without a date of birth there is no match by name: a name alone is too common. What the
//! rule cannot tell (a misspelt name, a mistyped id) is left to people: records sharing a
//! name and a date of birth are listed as possible duplicates, and a merge joins two records
//! into one, keeping the other with a pointer to the survivor and the history of the merge.

use crate::covid19cubadata::Date;
use crate::line_list::fold;

/// Why a person was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MatchRule {
    NationalId,
    NameAndBirthDate,
}

impl MatchRule {
    pub fn as_str(self) -> &'static str {
        match self {
            MatchRule::NationalId => "national_id",
            MatchRule::NameAndBirthDate => "name_and_birth_date",
        }
    }
}

/// A recorded person, as far as matching goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate {
    pub id: String,
    pub national_id: Option<String>,
    pub match_key: Option<String>,
}

/// Names folded for comparison: lower case, no accents, single spaces.
pub fn fold_name(name: &str) -> String {
    fold(name).split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The key of the name rule: folded given names, surnames and the date of birth; none
/// without a date of birth or a name.
pub fn match_key(given_names: &str, surnames: &str, birth_date: Option<Date>) -> Option<String> {
    let (given, surnames) = (fold_name(given_names), fold_name(surnames));
    if given.is_empty() || surnames.is_empty() {
        return None;
    }
    birth_date.map(|birth| format!("{given}|{surnames}|{birth}"))
}

/// The recorded person the new record is, among `candidates` (those sharing its national id
/// or its key), and by which rule.
pub fn find_match<'a>(
    national_id: Option<&str>,
    key: Option<&str>,
    candidates: &'a [Candidate],
) -> Option<(&'a Candidate, MatchRule)> {
    if let Some(national_id) = national_id
        && let Some(found) = candidates
            .iter()
            .find(|candidate| candidate.national_id.as_deref() == Some(national_id))
    {
        return Some((found, MatchRule::NationalId));
    }
    let key = key?;
    candidates
        .iter()
        .find(|candidate| {
            candidate.match_key.as_deref() == Some(key)
                && (national_id.is_none() || candidate.national_id.is_none())
        })
        .map(|found| (found, MatchRule::NameAndBirthDate))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn candidate(id: &str, national_id: Option<&str>, key: Option<&str>) -> Candidate {
        Candidate {
            id: id.to_owned(),
            national_id: national_id.map(str::to_owned),
            match_key: key.map(str::to_owned),
        }
    }

    #[test]
    fn names_fold_without_case_accents_or_extra_spaces() {
        assert_eq!(fold_name("  José  MARÍA "), "jose maria");
        let birth = Date::parse("1980-05-02");
        assert_eq!(
            match_key("José María", "Pérez  Núñez", birth).as_deref(),
            Some("jose maria|perez nunez|1980-05-02")
        );
        assert_eq!(
            match_key("José", "Pérez", None),
            None,
            "no birth date, no key"
        );
        assert_eq!(match_key(" ", "Pérez", birth), None);
    }

    #[test]
    fn the_national_id_wins_then_the_name_and_birth_date() {
        let key = match_key("Ana", "Gómez", Date::parse("1990-01-01"));
        let candidates = [
            candidate("a", Some("90010112345"), None),
            candidate("b", None, key.as_deref()),
        ];
        let (found, rule) =
            find_match(Some("90010112345"), key.as_deref(), &candidates).expect("a match");
        assert_eq!((found.id.as_str(), rule), ("a", MatchRule::NationalId));
        let (found, rule) = find_match(None, key.as_deref(), &candidates).expect("a match");
        assert_eq!(
            (found.id.as_str(), rule),
            ("b", MatchRule::NameAndBirthDate)
        );
        let (found, _) =
            find_match(Some("90010199999"), key.as_deref(), &candidates).expect("b has no id");
        assert_eq!(found.id, "b");
    }

    #[test]
    fn two_national_ids_that_differ_are_two_people() {
        let key = match_key("Ana", "Gómez", Date::parse("1990-01-01"));
        let candidates = [candidate("a", Some("90010112345"), key.as_deref())];
        assert_eq!(
            find_match(Some("90010154321"), key.as_deref(), &candidates),
            None
        );
        assert_eq!(
            find_match(None, None, &candidates),
            None,
            "no key, no id: no match"
        );
    }
}
