//! What follows a case: laboratory tests of its samples, and the contacts it exposed, each
//! watched until their quarantine ends. The rules (pure): which days are possible, when a
//! quarantine ends, and how a contact's follow-up may move.

use crate::covid19cubadata::Date;

/// Days a contact stays in quarantine after the last contact with the case.
pub const QUARANTINE_DAYS: i64 = 14;

/// A laboratory test's kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TestKind {
    Pcr,
    Antigen,
    Serology,
}

/// A laboratory test's result.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TestResult {
    Pending,
    Positive,
    Negative,
    Inconclusive,
}

/// Where a contact's follow-up stands. The last three end it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ContactStatus {
    /// Listed, not reached yet.
    Pending,
    InQuarantine,
    /// Fell ill and is a case now.
    BecameCase,
    /// Quarantine over, never ill.
    Completed,
    /// Could not be followed.
    Lost,
}

macro_rules! words {
    ($type:ident { $($variant:ident => $name:literal),+ $(,)? }) => {
        impl $type {
            pub const ALL: &'static [$type] = &[$($type::$variant),+];
            /// The stable machine name, as stored and in the API.
            pub fn as_str(self) -> &'static str {
                match self { $($type::$variant => $name),+ }
            }
            pub fn parse(text: &str) -> Option<$type> {
                $type::ALL.iter().copied().find(|value| value.as_str() == text)
            }
            /// Every machine name, for error messages.
            pub fn names() -> String {
                $type::ALL.iter().map(|value| value.as_str()).collect::<Vec<_>>().join(", ")
            }
        }
    };
}

words!(TestKind { Pcr => "pcr", Antigen => "antigen", Serology => "serology" });
words!(TestResult {
    Pending => "pending",
    Positive => "positive",
    Negative => "negative",
    Inconclusive => "inconclusive",
});
words!(ContactStatus {
    Pending => "pending",
    InQuarantine => "in_quarantine",
    BecameCase => "became_case",
    Completed => "completed",
    Lost => "lost",
});

impl ContactStatus {
    pub fn is_final(self) -> bool {
        matches!(
            self,
            ContactStatus::BecameCase | ContactStatus::Completed | ContactStatus::Lost
        )
    }

    pub fn name_es(self) -> &'static str {
        match self {
            ContactStatus::Pending => "Por localizar",
            ContactStatus::InQuarantine => "En cuarentena",
            ContactStatus::BecameCase => "Enfermó (caso)",
            ContactStatus::Completed => "Cuarentena cumplida",
            ContactStatus::Lost => "Sin seguimiento",
        }
    }
}

/// The last day of quarantine after the last contact.
pub fn quarantine_end(last_contact: Date) -> Date {
    last_contact.plus_days(QUARANTINE_DAYS)
}

/// Whether a follow-up may move from `from` to `to`: never out of an end, and
/// `completed` only once the quarantine is over (`today` after `quarantine_end`).
pub fn check_transition(
    from: ContactStatus,
    to: ContactStatus,
    quarantine_end: Date,
    today: Date,
) -> Result<(), String> {
    if from.is_final() && from != to {
        return Err(format!(
            "el seguimiento ya terminó ({}); no puede pasar a {}",
            from.as_str(),
            to.as_str()
        ));
    }
    if to == ContactStatus::Completed && today <= quarantine_end {
        return Err(format!(
            "la cuarentena termina el {quarantine_end}: no se da por cumplida antes"
        ));
    }
    Ok(())
}

/// A test's days are possible: none after today, the result not before the sample, a result
/// other than pending with its day and a pending one without.
pub fn check_test_days(
    sampled_on: Date,
    result: TestResult,
    result_on: Option<Date>,
    today: Date,
) -> Result<(), String> {
    if sampled_on > today {
        return Err(format!("sampled_on: {sampled_on} es posterior a hoy"));
    }
    match (result, result_on) {
        (TestResult::Pending, Some(_)) => {
            Err("result_on: un resultado pendiente no tiene día".to_owned())
        }
        (TestResult::Pending, None) => Ok(()),
        (_, None) => Err("result_on: falta el día del resultado".to_owned()),
        (_, Some(day)) if day < sampled_on => Err(format!(
            "result_on: el resultado ({day}) es anterior a la muestra ({sampled_on})"
        )),
        (_, Some(day)) if day > today => Err(format!("result_on: {day} es posterior a hoy")),
        _ => Ok(()),
    }
}

/// A contact's days are possible: the last contact not after today, nor before the first.
pub fn check_contact_days(
    first_contact: Option<Date>,
    last_contact: Date,
    today: Date,
) -> Result<(), String> {
    if last_contact > today {
        return Err(format!(
            "last_contact_on: {last_contact} es posterior a hoy"
        ));
    }
    if let Some(first) = first_contact
        && first > last_contact
    {
        return Err(format!(
            "first_contact_on: {first} es posterior al último contacto ({last_contact})"
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(text: &str) -> Date {
        Date::parse(text).expect("a day")
    }

    #[test]
    fn names_round_trip() {
        for status in ContactStatus::ALL {
            assert_eq!(ContactStatus::parse(status.as_str()), Some(*status));
        }
        assert_eq!(TestKind::parse("pcr"), Some(TestKind::Pcr));
        assert_eq!(TestResult::parse("maybe"), None);
        assert_eq!(TestKind::names(), "pcr, antigen, serology");
    }

    #[test]
    fn a_quarantine_lasts_fourteen_days_and_ends_only_after() {
        let end = quarantine_end(day("2021-07-01"));
        assert_eq!(end, day("2021-07-15"));
        let status = ContactStatus::InQuarantine;
        assert!(
            check_transition(status, ContactStatus::Completed, end, day("2021-07-15")).is_err()
        );
        assert!(check_transition(status, ContactStatus::Completed, end, day("2021-07-16")).is_ok());
        assert!(
            check_transition(status, ContactStatus::BecameCase, end, day("2021-07-03")).is_ok()
        );
        assert!(
            check_transition(
                ContactStatus::Lost,
                ContactStatus::Pending,
                end,
                day("2021-08-01")
            )
            .is_err(),
            "an end is an end"
        );
    }

    #[test]
    fn impossible_test_days_are_refused() {
        let today = day("2021-08-01");
        let sampled = day("2021-07-20");
        assert!(
            check_test_days(
                sampled,
                TestResult::Positive,
                Some(day("2021-07-21")),
                today
            )
            .is_ok()
        );
        assert!(check_test_days(sampled, TestResult::Pending, None, today).is_ok());
        let before = check_test_days(
            sampled,
            TestResult::Negative,
            Some(day("2021-07-19")),
            today,
        );
        assert!(before.is_err_and(|reason| reason.contains("anterior a la muestra")));
        assert!(check_test_days(day("2021-08-02"), TestResult::Pending, None, today).is_err());
        assert!(check_test_days(sampled, TestResult::Positive, None, today).is_err());
        assert!(check_test_days(sampled, TestResult::Pending, Some(sampled), today).is_err());
        assert!(check_contact_days(Some(day("2021-07-10")), day("2021-07-09"), today).is_err());
        assert!(check_contact_days(None, day("2021-08-02"), today).is_err());
    }
}
