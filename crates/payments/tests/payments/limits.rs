//! The Central Bank's person-to-person limits, a person's own limits and wallet caps.

use ceiba_payments::{
    Currency, CurrencyLimits, LimitError, LimitKind, LimitRefusal, Limits, Money, PersonalLimits,
    Usage, WalletCaps, check_person_to_person, check_wallet_cap,
};

fn cup(units: u64) -> Money {
    Money::from_minor(units * 100, Currency::Cup)
}

fn usage(today_units: u64, month_units: u64) -> Usage {
    Usage {
        today_minor: today_units * 100,
        month_minor: month_units * 100,
    }
}

#[test]
fn central_bank_figures() {
    let limits = Limits::central_bank();
    assert_eq!(
        limits.for_currency(Currency::Cup),
        CurrencyLimits {
            daily_minor: 8_000_000,
            monthly_minor: 12_000_000
        }
    );
    for currency in [Currency::Usd, Currency::Mlc] {
        assert_eq!(
            limits.for_currency(currency),
            CurrencyLimits {
                daily_minor: 100_000,
                monthly_minor: 500_000
            }
        );
    }
    let caps = WalletCaps::default_caps();
    assert_eq!(caps.cap(Currency::Cup), 8_000_000);
    assert_eq!(caps.cap(Currency::Usd), 500_000);
    assert_eq!(caps.cap(Currency::Mlc), 500_000);
    let configured = caps.with(Currency::Usd, 1);
    assert_eq!(configured.cap(Currency::Usd), 1);
    assert_eq!(configured.cap(Currency::Cup), 8_000_000);
    let lower = CurrencyLimits {
        daily_minor: 10,
        monthly_minor: 20,
    };
    let configured = limits.with(Currency::Mlc, lower);
    assert_eq!(configured.for_currency(Currency::Mlc), lower);
    assert_eq!(
        configured.for_currency(Currency::Usd),
        limits.for_currency(Currency::Usd)
    );
}

/// Each limit reached, with the exact amount left in the refusal and its message.
#[test]
fn each_limit_names_itself_and_what_is_left() {
    let limits = Limits::central_bank();
    let personal = PersonalLimits::new(
        Some(500_000),
        Some(2_000_000),
        &limits.for_currency(Currency::Cup),
    )
    .expect("below the Central Bank's");
    // (personal limits, usage, amount, the limit reached, what is left in minor units, message)
    type Case<'a> = (
        Option<&'a PersonalLimits>,
        Usage,
        Money,
        LimitKind,
        u64,
        &'a str,
    );
    let cases: &[Case] = &[
        (
            None,
            usage(78_500, 78_500),
            cup(1_501),
            LimitKind::DailyCentralBank,
            150_000,
            "Supera el límite diario del Banco Central (80.000,00 CUP); le quedan 1.500,00 CUP hoy.",
        ),
        (
            None,
            usage(0, 119_000),
            cup(2_000),
            LimitKind::MonthlyCentralBank,
            100_000,
            "Supera el límite mensual del Banco Central (120.000,00 CUP); le quedan 1.000,00 CUP \
             este mes.",
        ),
        (
            Some(&personal),
            usage(4_999, 4_999),
            cup(2),
            LimitKind::DailyPersonal,
            100,
            "Supera el límite diario que usted fijó (5.000,00 CUP); le quedan 1,00 CUP hoy.",
        ),
        (
            Some(&personal),
            usage(0, 19_000),
            cup(1_000)
                .checked_add(Money::from_minor(1, Currency::Cup))
                .expect("small"),
            LimitKind::MonthlyPersonal,
            100_000,
            "Supera el límite mensual que usted fijó (20.000,00 CUP); le quedan 1.000,00 CUP este \
             mes.",
        ),
        // Already past a limit (a lowered configuration): nothing left, never an underflow.
        (
            None,
            usage(90_000, 90_000),
            cup(1),
            LimitKind::DailyCentralBank,
            0,
            "Supera el límite diario del Banco Central (80.000,00 CUP); le quedan 0,00 CUP hoy.",
        ),
    ];
    for (personal, usage, amount, kind, remaining_minor, message) in cases {
        let refusal =
            check_person_to_person(&limits, *personal, *usage, *amount).expect_err("over a limit");
        assert_eq!(refusal.kind, *kind);
        assert_eq!(refusal.remaining_minor, *remaining_minor, "{kind:?}");
        assert_eq!(refusal.currency, Currency::Cup);
        assert_eq!(refusal.to_string(), *message);
    }
    // The same refusals for English pages, with English number formats.
    let english = [
        (
            usage(78_500, 78_500),
            cup(1_501),
            "Over the Central Bank's daily limit (80,000.00 CUP); 1,500.00 CUP left today.",
        ),
        (
            usage(0, 119_000),
            cup(2_000),
            "Over the Central Bank's monthly limit (120,000.00 CUP); 1,000.00 CUP left this \
             month.",
        ),
    ];
    for (usage, amount, message) in english {
        let refusal =
            check_person_to_person(&limits, None, usage, amount).expect_err("over a limit");
        assert_eq!(refusal.english(), message);
    }
}

#[test]
fn the_central_bank_is_checked_before_the_person_and_the_day_before_the_month() {
    let limits = Limits::central_bank();
    let personal = PersonalLimits::new(Some(100), Some(100), &limits.for_currency(Currency::Cup))
        .expect("low limits are fine");
    let refusal = check_person_to_person(&limits, Some(&personal), usage(80_000, 120_000), cup(1))
        .expect_err("everything is exceeded");
    assert_eq!(refusal.kind, LimitKind::DailyCentralBank);
    let refusal = check_person_to_person(&limits, Some(&personal), usage(0, 0), cup(2))
        .expect_err("the personal limits are exceeded");
    assert_eq!(refusal.kind, LimitKind::DailyPersonal);
}

#[test]
fn reaching_a_limit_exactly_is_allowed() {
    let limits = Limits::central_bank();
    assert_eq!(
        check_person_to_person(&limits, None, usage(0, 0), cup(80_000)),
        Ok(())
    );
    assert_eq!(
        check_person_to_person(&limits, None, usage(79_000, 119_000), cup(1_000)),
        Ok(())
    );
    let dollars = Money::from_minor(100_000, Currency::Usd);
    assert_eq!(
        check_person_to_person(&limits, None, Usage::default(), dollars),
        Ok(())
    );
    let one_cent_more = Money::from_minor(100_001, Currency::Mlc);
    let refusal = check_person_to_person(&limits, None, Usage::default(), one_cent_more)
        .expect_err("a cent over");
    assert_eq!(
        refusal.to_string(),
        "Supera el límite diario del Banco Central (1.000,00 MLC); le quedan 1.000,00 MLC hoy."
    );
    let personal =
        PersonalLimits::new(Some(1_000), None, &limits.for_currency(Currency::Cup)).expect("lower");
    assert_eq!(
        check_person_to_person(&limits, Some(&personal), usage(0, 0), cup(10)),
        Ok(())
    );
}

#[test]
fn huge_usage_saturates() {
    let limits = Limits::central_bank();
    let refusal = check_person_to_person(
        &limits,
        None,
        Usage {
            today_minor: u64::MAX,
            month_minor: u64::MAX,
        },
        Money::from_minor(u64::MAX, Currency::Cup),
    )
    .expect_err("far over");
    assert_eq!(refusal.remaining_minor, 0);
}

#[test]
fn personal_limits_above_the_central_bank_are_refused() {
    let central_bank = Limits::central_bank().for_currency(Currency::Cup);
    assert_eq!(
        PersonalLimits::new(Some(8_000_001), None, &central_bank),
        Err(LimitError::DailyAboveCentralBank {
            personal_minor: 8_000_001,
            central_bank_minor: 8_000_000
        })
    );
    assert_eq!(
        PersonalLimits::new(None, Some(12_000_001), &central_bank),
        Err(LimitError::MonthlyAboveCentralBank {
            personal_minor: 12_000_001,
            central_bank_minor: 12_000_000
        })
    );
    assert_eq!(
        PersonalLimits::new(Some(8_000_001), None, &central_bank)
            .expect_err("higher")
            .to_string(),
        "su límite diario (80.000,01) no puede ser mayor que el del Banco Central (80.000,00)"
    );
    let equal = PersonalLimits::new(Some(8_000_000), Some(12_000_000), &central_bank)
        .expect("equal is allowed");
    assert_eq!(equal.daily_minor, Some(8_000_000));
    assert_eq!(
        PersonalLimits::new(None, None, &central_bank),
        Ok(PersonalLimits::default())
    );
    assert!(PersonalLimits::new(Some(0), Some(0), &central_bank).is_ok());
}

#[test]
fn wallet_cap() {
    let caps = WalletCaps::default_caps();
    let balance = cup(78_000);
    assert_eq!(check_wallet_cap(&caps, balance, cup(2_000)), Ok(()));
    let refusal = check_wallet_cap(&caps, balance, cup(2_001)).expect_err("past the cap");
    assert_eq!(
        refusal,
        LimitRefusal {
            kind: LimitKind::WalletCap,
            limit_minor: 8_000_000,
            remaining_minor: 200_000,
            currency: Currency::Cup,
        }
    );
    assert_eq!(
        refusal.to_string(),
        "Supera el tope de saldo de la billetera (80.000,00 CUP); la billetera puede recibir \
         2.000,00 CUP más."
    );
}

#[test]
fn limit_kinds_have_names() {
    let mut names = std::collections::BTreeSet::new();
    for kind in LimitKind::ALL {
        assert!(names.insert(kind.as_str()));
        assert!(kind.label_es().starts_with("límite") || kind.label_es().starts_with("tope"));
    }
    assert_eq!(
        LimitKind::DailyCentralBank.label_es(),
        "límite diario del Banco Central"
    );
}
