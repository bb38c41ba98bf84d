//! The real covid19cubadata archive of `shared/data/cuba`, read whole: every case once, the
//! deaths, the daily series, and a quality report that names the source's known faults.

use std::io::Read;
use std::path::PathBuf;

use ceiba_surveillance::covid19cubadata::{Archive, FIRST_DAY};
use ceiba_surveillance::{Geography, UNKNOWN_MUNICIPALITY};

fn data(file: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/data/cuba")
        .join(file)
}

fn text(file: &str) -> String {
    std::fs::read_to_string(data(file)).unwrap_or_else(|error| panic!("{file}: {error}"))
}

fn entry(zip: &mut zip::ZipArchive<std::fs::File>, name: &str) -> Vec<u8> {
    let mut file = zip
        .by_name(&format!("data/{name}"))
        .unwrap_or_else(|error| panic!("{name}: {error}"));
    let mut bytes = Vec::new();
    file.read_to_end(&mut bytes)
        .unwrap_or_else(|error| panic!("{name}: {error}"));
    bytes
}

#[test]
fn the_whole_archive_reads_with_its_faults_reported() {
    let geography = Geography::from_sources(
        &text("provincias.geojson"),
        &text("municipios.geojson"),
        &text("municipality-population.json"),
    )
    .unwrap_or_else(|error| panic!("{error}"));
    let file = std::fs::File::open(data("covid19cuba.zip")).expect("the archive");
    let mut zip = zip::ZipArchive::new(file).expect("a zip");
    let archive = Archive::read(
        &entry(&mut zip, "covid19-cuba.json"),
        &entry(&mut zip, "covid19-cuba-1.json"),
        &entry(&mut zip, "covid19-fallecidos.json"),
        Some(&geography),
    )
    .unwrap_or_else(|error| panic!("{error}"));
    let report = &archive.report;
    // 207,322 + 215,292 records, four of them listed twice.
    assert_eq!(archive.cases.len(), 422_610, "{}", report.text());
    assert_eq!(report.count("caso_repetido"), 4);
    let listed: u64 = archive.days.values().map(|day| day.confirmed).sum();
    assert_eq!(listed, 422_614, "the days list every record");
    assert_eq!(archive.days.len(), 511);
    assert_eq!(
        archive
            .days
            .keys()
            .last()
            .map(|n| FIRST_DAY.plus_days(i64::from(*n) - 1).to_string()),
        Some("2021-08-03".to_owned())
    );
    // 1,906 listed, 36 of them twice.
    assert_eq!(archive.deaths.len(), 1_870, "{}", report.text());
    assert_eq!(report.count("fallecido_repetido"), 36);
    // The faults the source is known for.
    assert!(report.count("clave_mal_escrita") >= 5, "{}", report.text());
    assert!(
        report.count("sin_sexo") > 400_000,
        "most cases have no sex after late 2020"
    );
    assert!(report.count("sin_fuente") > 1_000);
    assert!(
        report
            .source_notes
            .iter()
            .any(|note| note.contains("el mes de la fecha es incorrecto")),
        "{:?}",
        report.source_notes
    );
    // Every case has a place the map knows (or the map's «unknown»).
    let unknown = report.count("municipio_desconocido");
    assert!(unknown < 100, "{unknown}: {}", report.text());
    let habana = archive
        .cases
        .iter()
        .filter(|case| case.province_code == "23")
        .count();
    assert!(habana > 80_000, "{habana}");
    // 80 cases whose municipality the source did not know, most with their province.
    let placeless = archive
        .cases
        .iter()
        .filter(|case| case.municipality_code == UNKNOWN_MUNICIPALITY)
        .count();
    assert_eq!(placeless, 80);
    assert!(archive.centres.len() >= 30);
    assert!(archive.events.len() >= 90);
}
