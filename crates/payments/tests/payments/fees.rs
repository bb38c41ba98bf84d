//! Fees: a fixed part plus a proportion rounded half up, between a minimum and a maximum.

use ceiba_payments::{Currency, FeeRule, FeeSchedule, Money, OperationKind};

#[test]
fn rounding_and_clamps() {
    let proportional = |basis_points| FeeRule {
        basis_points,
        ..FeeRule::FREE
    };
    // (rule, amount in minor units, fee in minor units)
    let table: &[(FeeRule, u64, u64)] = &[
        (FeeRule::FREE, 1_000_000, 0),
        (proportional(100), 10_000, 100),
        // 1 % of 0,50 is 0,005: half a centavo rounds up.
        (proportional(100), 50, 1),
        // 1 % of 0,49 is 0,0049: rounds down.
        (proportional(100), 49, 0),
        // 1,5 % of 0,99 is 0,01485.
        (proportional(150), 99, 1),
        // 0,25 % of 2,00 is 0,005: up to 0,01.
        (proportional(25), 200, 1),
        (proportional(25), 199, 0),
        (proportional(10_000), 12_345, 12_345),
        (
            FeeRule {
                fixed_minor: 25,
                basis_points: 50,
                min_minor: 0,
                max_minor: None,
            },
            10_000,
            75,
        ),
        // Raised to the minimum.
        (
            FeeRule {
                fixed_minor: 0,
                basis_points: 10,
                min_minor: 100,
                max_minor: None,
            },
            1_000,
            100,
        ),
        // Lowered to the maximum.
        (
            FeeRule {
                fixed_minor: 0,
                basis_points: 100,
                min_minor: 0,
                max_minor: Some(5_000),
            },
            10_000_000,
            5_000,
        ),
        // A maximum below the minimum wins.
        (
            FeeRule {
                fixed_minor: 0,
                basis_points: 0,
                min_minor: 500,
                max_minor: Some(300),
            },
            1,
            300,
        ),
        // Never overflows.
        (
            FeeRule {
                fixed_minor: u64::MAX,
                basis_points: u32::MAX,
                min_minor: 0,
                max_minor: None,
            },
            u64::MAX,
            u64::MAX,
        ),
    ];
    for (rule, amount_minor, fee_minor) in table {
        assert_eq!(
            rule.fee_minor(*amount_minor),
            *fee_minor,
            "{rule:?} of {amount_minor}"
        );
    }
}

#[test]
fn schedule_per_kind_and_currency() {
    let none = FeeSchedule::none();
    for kind in OperationKind::ALL {
        for currency in Currency::ALL {
            assert_eq!(
                none.fee(kind, Money::from_minor(1_000_000, currency)),
                Money::zero(currency)
            );
        }
    }
    let cash_out = FeeRule {
        fixed_minor: 0,
        basis_points: 100,
        min_minor: 0,
        max_minor: None,
    };
    let dollars = FeeRule {
        fixed_minor: 50,
        ..FeeRule::FREE
    };
    let schedule = FeeSchedule::none()
        .with(OperationKind::CashOut, cash_out)
        .with_currency(OperationKind::CashOut, Currency::Usd, dollars);
    assert_eq!(
        schedule.fee(
            OperationKind::CashOut,
            Money::from_minor(10_000, Currency::Cup)
        ),
        Money::from_minor(100, Currency::Cup)
    );
    assert_eq!(
        schedule.fee(
            OperationKind::CashOut,
            Money::from_minor(10_000, Currency::Mlc)
        ),
        Money::from_minor(100, Currency::Mlc)
    );
    assert_eq!(
        schedule.fee(
            OperationKind::CashOut,
            Money::from_minor(10_000, Currency::Usd)
        ),
        Money::from_minor(50, Currency::Usd)
    );
    assert_eq!(
        schedule.fee(
            OperationKind::PersonToPerson,
            Money::from_minor(10_000, Currency::Cup)
        ),
        Money::zero(Currency::Cup)
    );
    assert_eq!(
        schedule.rule(OperationKind::CashOut, Currency::Usd),
        dollars
    );
}

#[test]
fn operation_kinds() {
    let names: Vec<&str> = OperationKind::ALL
        .iter()
        .map(|kind| kind.as_str())
        .collect();
    assert_eq!(
        names,
        [
            "person_to_person",
            "cash_in",
            "cash_out",
            "bill_payment",
            "tax_payment",
            "top_up",
            "merchant_payment",
            "refund",
            "payout"
        ]
    );
    for kind in OperationKind::ALL {
        assert_eq!(OperationKind::parse(kind.as_str()), Some(kind));
        assert!(!kind.label_es().is_empty());
        assert_eq!(
            kind.is_person_to_person(),
            kind == OperationKind::PersonToPerson
        );
        let json = serde_json::to_string(&kind).expect("serialises");
        assert_eq!(json, format!("\"{}\"", kind.as_str()));
        assert_eq!(
            serde_json::from_str::<OperationKind>(&json).expect("deserialises"),
            kind
        );
    }
    assert_eq!(OperationKind::parse("p2p"), None);
}
