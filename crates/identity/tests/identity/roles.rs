use std::collections::HashSet;

use ceiba_identity::{Role, RoleError};

#[test]
fn machine_names_are_stable_and_round_trip() {
    let expected = [
        (Role::Citizen, "citizen"),
        (Role::Merchant, "merchant"),
        (Role::Biller, "biller"),
        (Role::BankOperator, "bank_operator"),
        (Role::HealthWorker, "health_worker"),
        (Role::Epidemiologist, "epidemiologist"),
        (Role::Editor, "editor"),
        (Role::Reviewer, "reviewer"),
        (Role::Administrator, "administrator"),
        (Role::Auditor, "auditor"),
    ];
    assert_eq!(Role::ALL.len(), expected.len());
    for (role, name) in expected {
        assert_eq!(role.as_str(), name);
        assert_eq!(role.to_string(), name);
        assert_eq!(Role::parse(name), Ok(role));
        assert_eq!(name.parse::<Role>(), Ok(role));
    }
    for role in Role::ALL {
        assert_eq!(Role::parse(role.as_str()), Ok(role));
    }
}

#[test]
fn labels_in_both_languages() {
    assert_eq!(Role::HealthWorker.label_es(), "Trabajador de la salud");
    assert_eq!(Role::HealthWorker.label_en(), "Health worker");
    assert_eq!(Role::Epidemiologist.label_es(), "Epidemiólogo");
    let spanish: HashSet<&str> = Role::ALL.iter().map(|r| r.label_es()).collect();
    let english: HashSet<&str> = Role::ALL.iter().map(|r| r.label_en()).collect();
    assert_eq!(spanish.len(), Role::ALL.len());
    assert_eq!(english.len(), Role::ALL.len());
}

#[test]
fn who_needs_a_second_factor() {
    let needing: Vec<Role> = Role::ALL
        .into_iter()
        .filter(|role| role.requires_second_factor())
        .collect();
    assert_eq!(
        needing,
        [
            Role::Merchant,
            Role::Biller,
            Role::BankOperator,
            Role::HealthWorker,
            Role::Epidemiologist,
            Role::Administrator
        ]
    );
}

#[test]
fn unknown_names_are_refused() {
    for name in [
        "",
        "Citizen",
        "CITIZEN",
        "bank-operator",
        "root",
        " citizen",
    ] {
        assert_eq!(
            Role::parse(name),
            Err(RoleError::Unknown {
                name: name.to_owned()
            }),
            "{name:?}"
        );
    }
    let long = "x".repeat(1_000);
    let Err(RoleError::Unknown { name }) = Role::parse(&long) else {
        panic!("a long name is no role");
    };
    assert_eq!(name.len(), 40);
    assert_eq!(
        Role::parse("root").unwrap_err().to_string(),
        "«root» no es un rol conocido"
    );
}
