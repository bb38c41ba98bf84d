//! Top-up rules: fixed mobile denominations, Nauta bounds, accounts as people type them.

use ceiba_payments::{Currency, Money, NautaAccount, TopUpError, TopUpRules, TopUpService};

fn cup(text: &str) -> Money {
    Money::parse(text, Currency::Cup).expect("a valid amount")
}

#[test]
fn services_parse_by_their_names() {
    for (text, service) in [
        ("movil", Some(TopUpService::Mobile)),
        (" Móvil ", Some(TopUpService::Mobile)),
        ("MOVIL", Some(TopUpService::Mobile)),
        ("nauta", Some(TopUpService::Nauta)),
        ("fijo", None),
        ("", None),
    ] {
        assert_eq!(TopUpService::parse(text).ok(), service, "{text:?}");
    }
    for service in TopUpService::ALL {
        assert_eq!(TopUpService::parse(service.as_str()), Ok(service));
    }
    assert_eq!(
        TopUpService::parse("fijo").map_err(|error| error.to_string()),
        Err("el servicio «fijo» no existe: use «movil» o «nauta»".to_owned())
    );
}

#[test]
fn mobile_takes_only_its_denominations_and_nauta_any_amount_within_bounds() {
    let rules = TopUpRules::standard();
    let table = [
        (TopUpService::Mobile, "100", true),
        (TopUpService::Mobile, "250", true),
        (TopUpService::Mobile, "500.00", true),
        (TopUpService::Mobile, "150", false),
        (TopUpService::Mobile, "100.01", false),
        (TopUpService::Mobile, "1000", false),
        (TopUpService::Nauta, "25", true),
        (TopUpService::Nauta, "37,50", true),
        (TopUpService::Nauta, "2000", true),
        (TopUpService::Nauta, "24.99", false),
        (TopUpService::Nauta, "2000.01", false),
    ];
    for (service, amount, allowed) in table {
        assert_eq!(
            rules.check(service, cup(amount)).is_ok(),
            allowed,
            "{service} {amount}"
        );
    }
    assert_eq!(
        rules
            .check(TopUpService::Mobile, cup("150"))
            .map_err(|error| error.to_string()),
        Err("la recarga móvil admite solo estos importes: 100,00; 250,00 y 500,00 CUP".to_owned())
    );
    assert_eq!(
        rules
            .check(TopUpService::Nauta, cup("5"))
            .map_err(|error| error.to_string()),
        Err("la recarga Nauta debe estar entre 25,00 CUP y 2.000,00 CUP".to_owned())
    );
    assert!(matches!(
        rules.check(
            TopUpService::Mobile,
            Money::from_minor(10_000, Currency::Usd)
        ),
        Err(TopUpError::WrongCurrency { .. })
    ));
}

#[test]
fn denominations_are_configuration() {
    let rules = TopUpRules {
        mobile_denominations_minor: vec![5_000],
        ..TopUpRules::standard()
    };
    assert!(rules.check(TopUpService::Mobile, cup("50")).is_ok());
    assert!(rules.check(TopUpService::Mobile, cup("100")).is_err());
    assert_eq!(rules.denominations_es(), "50,00 CUP");
}

#[test]
fn nauta_accounts_as_people_type_them() {
    for (text, account) in [
        ("ana.perez@nauta.com.cu", Some("ana.perez@nauta.com.cu")),
        (" Ana.Perez@Nauta.Co.Cu ", Some("ana.perez@nauta.co.cu")),
        ("ana_perez-2", Some("ana_perez-2@nauta.com.cu")),
        ("ana@gmail.com", None),
        ("@nauta.com.cu", None),
        (".ana@nauta.com.cu", None),
        ("ana perez@nauta.com.cu", None),
        ("añá@nauta.com.cu", None),
        ("", None),
    ] {
        assert_eq!(
            NautaAccount::parse(text)
                .ok()
                .as_ref()
                .map(NautaAccount::as_str),
            account,
            "{text:?}"
        );
    }
    let long = format!("{}@nauta.com.cu", "a".repeat(65));
    assert!(NautaAccount::parse(&long).is_err());
}
