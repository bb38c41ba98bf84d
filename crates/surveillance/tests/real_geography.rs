//! The real files of `shared/data/cuba`: 16 provinces (15 and Isla de la Juventud) and 168
//! municipalities with their 11.2 million people, every name of the population list placed.

use std::path::PathBuf;

use ceiba_surveillance::{Geography, UNKNOWN_MUNICIPALITY};

fn data(file: &str) -> String {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/data/cuba")
        .join(file);
    std::fs::read_to_string(&path).unwrap_or_else(|error| panic!("{}: {error}", path.display()))
}

#[test]
fn the_real_division_has_every_municipality_and_its_people() {
    let geography = Geography::from_sources(
        &data("provincias.geojson"),
        &data("municipios.geojson"),
        &data("municipality-population.json"),
    )
    .unwrap_or_else(|error| panic!("{error}"));
    let known: Vec<_> = geography
        .municipalities
        .iter()
        .filter(|municipality| municipality.code != UNKNOWN_MUNICIPALITY)
        .collect();
    assert_eq!(known.len(), 168);
    assert_eq!(
        geography.provinces.len(),
        17,
        "15, Isla de la Juventud and «Desconocida»"
    );
    assert_eq!(geography.population(), 11_211_060);
    let habana = geography.province("23").expect("La Habana");
    assert_eq!(habana.name, "La Habana");
    assert_eq!(
        habana.population,
        geography
            .municipalities
            .iter()
            .filter(|municipality| municipality.province_code == "23")
            .map(|municipality| municipality.population)
            .sum::<u64>()
    );
    assert_eq!(
        geography
            .municipalities
            .iter()
            .filter(|municipality| municipality.province_code == "23")
            .count(),
        15
    );
    // Same name, two provinces: each got its own figure.
    assert_eq!(
        geography.municipality("21.09").map(|m| m.population),
        Some(32_229)
    );
    assert_eq!(
        geography.municipality("34.03").map(|m| m.population),
        Some(79_700)
    );
    assert_eq!(
        geography
            .municipality("40.01")
            .map(|m| (m.province_code.as_str(), m.population)),
        Some(("40.01", 84_013))
    );
    // The names as Spanish writes them, and none abbreviated.
    assert_eq!(
        geography.municipality("21.07").map(|m| m.name.as_str()),
        Some("Consolación del Sur")
    );
    assert_eq!(
        geography.municipality("25.10").map(|m| m.name.as_str()),
        Some("Ciénaga de Zapata")
    );
    assert_eq!(
        geography.municipality("30.01").map(|m| m.name.as_str()),
        Some("Carlos Manuel de Céspedes")
    );
    // Matanzas' municipalities come in many pieces (cays): joined.
    assert!(
        geography
            .municipality("25.03")
            .is_some_and(|m| m.boundary.len() == 20)
    );
    for spelled in [
        "Consolación del Sur",
        "Ciénaga de Zapata",
        "Carlos M. de Céspedes",
        "Sagua la Grande",
    ] {
        assert!(
            geography.notes.iter().any(|note| note.contains(spelled)),
            "{spelled} is reported: {:?}",
            geography.notes
        );
    }
}
