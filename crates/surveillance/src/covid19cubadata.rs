//! The open COVID-19 data of Cuba as the covid19cubadata project publishes it (schema version
//! 7): `covid19-cuba.json` (2020-03-11 to 2021-07-04) and `covid19-cuba-1.json` (from
//! 2021-07-05), each a list of numbered days with the cases confirmed that day and the
//! national figures of the day, and `covid19-fallecidos.json`, the deaths by day.
//!
//! [`Archive::read`] turns them into typed cases, deaths, centres, transmission events and the
//! daily national series, and writes a [`QualityReport`] of what the source gets wrong: keys
//! misspelled (`centro_aislamient5o`), fields missing (sex, age), codes the map does not know,
//! dates that contradict each other, ages outside 0–120, a case listed twice, days out of
//! sequence, and the notes in which the source itself admits errors (a month written wrong).
//! Nothing is thrown away silently: a case with a bad field keeps the rest and the report says
//! what was dropped; only a case without an id or a place is left out, and counted.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::geography::Geography;

/// The first day of the series: the first cases were confirmed on 11 March 2020.
pub const FIRST_DAY: Date = Date {
    year: 2020,
    month: 3,
    day: 11,
};

/// Examples a report line keeps of what it counts.
const EXAMPLES_MAX: usize = 5;
/// The oldest age taken as real.
const AGE_MAX: u64 = 120;

/// A calendar day.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Date {
    pub year: i32,
    pub month: u32,
    pub day: u32,
}

impl Date {
    /// `2020/03/11` or `2020-03-11`, a real day.
    pub fn parse(text: &str) -> Option<Date> {
        let mut parts = text.trim().split(['/', '-']);
        let year: i32 = parts.next()?.parse().ok()?;
        let month: u32 = parts.next()?.parse().ok()?;
        let day: u32 = parts.next()?.parse().ok()?;
        if parts.next().is_some() {
            return None;
        }
        let date = Date { year, month, day };
        (1..=12)
            .contains(&month)
            .then_some(())
            .and((1..=date.days_in_month()).contains(&day).then_some(date))
    }

    fn is_leap(year: i32) -> bool {
        (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
    }

    fn days_in_month(self) -> u32 {
        match self.month {
            1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
            4 | 6 | 9 | 11 => 30,
            _ if Date::is_leap(self.year) => 29,
            _ => 28,
        }
    }

    /// Days since 1970-01-01 (the civil calendar, as in Howard Hinnant's algorithm).
    pub fn days_since_epoch(self) -> i64 {
        let (year, month) = if self.month <= 2 {
            (i64::from(self.year) - 1, i64::from(self.month) + 9)
        } else {
            (i64::from(self.year), i64::from(self.month) - 3)
        };
        let era = year.div_euclid(400);
        let year_of_era = year - era * 400;
        let day_of_year = (153 * month + 2) / 5 + i64::from(self.day) - 1;
        let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
        era * 146_097 + day_of_era - 719_468
    }

    /// The day `days` after 1970-01-01.
    pub fn from_days_since_epoch(days: i64) -> Date {
        let z = days + 719_468;
        let era = z.div_euclid(146_097);
        let day_of_era = z - era * 146_097;
        let year_of_era =
            (day_of_era - day_of_era / 1_460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
        let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
        let mp = (5 * day_of_year + 2) / 153;
        let day = day_of_year - (153 * mp + 2) / 5 + 1;
        let month = if mp < 10 { mp + 3 } else { mp - 9 };
        let year = year_of_era + era * 400 + i64::from(month <= 2);
        Date {
            year: i32::try_from(year).unwrap_or(i32::MAX),
            month: u32::try_from(month).unwrap_or(1),
            day: u32::try_from(day).unwrap_or(1),
        }
    }

    pub fn plus_days(self, days: i64) -> Date {
        Date::from_days_since_epoch(self.days_since_epoch() + days)
    }
}

impl std::fmt::Display for Date {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Sex {
    Female,
    Male,
}

impl Sex {
    pub fn as_str(self) -> &'static str {
        match self {
            Sex::Female => "female",
            Sex::Male => "male",
        }
    }
}

/// How a case got the virus.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Source {
    /// Infected abroad.
    Imported,
    /// Infected in Cuba by a known case.
    Introduced,
    /// Infected in Cuba, the source not found.
    Autochthonous,
    Unknown,
}

impl Source {
    pub fn as_str(self) -> &'static str {
        match self {
            Source::Imported => "imported",
            Source::Introduced => "introduced",
            Source::Autochthonous => "autochthonous",
            Source::Unknown => "unknown",
        }
    }
}

/// A confirmed case.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Case {
    /// The source's id: `cu-5366`, `it-1`.
    pub id: String,
    pub confirmed_on: Date,
    /// ISO 3166 alpha-2 of the nationality, lower case: `cu`.
    pub country: Option<String>,
    pub age: Option<u8>,
    pub sex: Option<Sex>,
    /// Where it was detected (DPA codes).
    pub municipality_code: String,
    pub province_code: String,
    pub source: Source,
    /// When the person saw a doctor (the closest the source has to onset).
    pub consulted_on: Option<Date>,
    /// For imported cases: when they arrived.
    pub arrived_on: Option<Date>,
    pub isolation_centre: Option<String>,
    pub diagnostic_centre: Option<String>,
    /// Contacts kept under watch.
    pub contacts: Option<u32>,
}

/// A death.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Death {
    pub id: String,
    pub case_id: Option<String>,
    pub died_on: Date,
    /// Comorbidities, by name.
    pub comorbidities: Vec<String>,
}

/// The national figures of one day, as the source gives them (each may be missing).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct DayFigures {
    pub date: Option<Date>,
    /// Cases confirmed that day (the length of its list).
    pub confirmed: u64,
    /// Tests to date (cumulative, unlike the rest).
    pub tests_total: Option<u64>,
    /// That day's recoveries, deaths and evacuations.
    pub recovered: Option<u64>,
    pub deaths: Option<u64>,
    pub serious: Option<u64>,
    pub critical: Option<u64>,
    pub evacuated: Option<u64>,
    /// Patients serious and critical, and asymptomatic cases, that day.
    pub asymptomatic: Option<u64>,
    /// People under watch at primary care.
    pub at_risk: Option<u64>,
}

/// An isolation or diagnostic centre.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Centre {
    pub id: String,
    /// `isolation` or `diagnosis`.
    pub kind: &'static str,
    pub name: String,
    pub province_code: Option<String>,
}

/// A transmission event (a cluster).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Event {
    pub id: String,
    pub place: String,
    pub municipality_code: Option<String>,
    pub province_code: Option<String>,
    pub longitude: Option<f64>,
    pub latitude: Option<f64>,
    pub open: bool,
}

/// One kind of problem the source has, how often, and a few places where.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReportLine {
    /// A stable key: `clave_mal_escrita`, `sin_sexo` …
    pub key: String,
    /// What it is, in Spanish.
    pub what: String,
    pub count: u64,
    pub examples: Vec<String>,
}

/// What the source gets wrong, in the order the kinds were first met.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct QualityReport {
    pub lines: Vec<ReportLine>,
    /// The notes in which the source admits its own errors, with where they are.
    pub source_notes: Vec<String>,
}

impl QualityReport {
    fn add(&mut self, key: &str, what: &str, example: impl FnOnce() -> String) {
        let line = match self.lines.iter().position(|line| line.key == key) {
            Some(index) => &mut self.lines[index],
            None => {
                self.lines.push(ReportLine {
                    key: key.to_owned(),
                    what: what.to_owned(),
                    count: 0,
                    examples: Vec::new(),
                });
                self.lines.last_mut().expect("just pushed")
            }
        };
        line.count += 1;
        if line.examples.len() < EXAMPLES_MAX {
            line.examples.push(example());
        }
    }

    pub fn count(&self, key: &str) -> u64 {
        self.lines
            .iter()
            .find(|line| line.key == key)
            .map_or(0, |line| line.count)
    }

    /// The report as people read it: a line a kind, with its examples, then the source's notes.
    pub fn text(&self) -> String {
        let mut text = String::new();
        for line in &self.lines {
            text.push_str(&format!(
                "- {} ({}): {}. Por ejemplo: {}\n",
                line.what,
                line.key,
                crate::count_es(line.count),
                line.examples.join("; ")
            ));
        }
        for note in &self.source_notes {
            text.push_str(&format!("- Nota de la fuente: {note}\n"));
        }
        text
    }
}

/// Everything the three files hold.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Archive {
    /// In the order of the files, each id once.
    pub cases: Vec<Case>,
    pub deaths: Vec<Death>,
    /// One per day of the series, from [`FIRST_DAY`], by day number.
    pub days: BTreeMap<u32, DayFigures>,
    pub centres: Vec<Centre>,
    pub events: Vec<Event>,
    pub report: QualityReport,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ArchiveError {
    #[error("{file}: no es JSON válido: {detail}")]
    NotJson { file: String, detail: String },
    #[error("{file}: falta «{what}»")]
    Missing { file: String, what: String },
}

/// The keys a case may carry, as the source spells them.
const CASE_KEYS: &[&str] = &[
    "id",
    "pais",
    "edad",
    "sexo",
    "arribo_a_cuba_foco",
    "consulta_medico",
    "municipio_detección",
    "provincia_detección",
    "dpacode_municipio_deteccion",
    "dpacode_provincia_deteccion",
    "contagio",
    "centro_aislamiento",
    "centro_diagnostico",
    "posible_procedencia_contagio",
    "info",
    "dpacode_provincias_visitadas",
    "provincias_visitadas",
    "contacto_focal",
    "sintomas",
    "nota",
];

fn text_of<'a>(value: &'a Value, key: &str) -> Option<&'a str> {
    value
        .get(key)
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|text| !text.is_empty())
}

fn count_of(value: &Value, key: &str) -> Option<u64> {
    value.get(key).and_then(Value::as_u64)
}

impl Archive {
    /// Reads the three files. `geography`, when given, is what codes are checked against.
    pub fn read(
        cuba: &[u8],
        cuba_1: &[u8],
        deaths: &[u8],
        geography: Option<&Geography>,
    ) -> Result<Archive, ArchiveError> {
        let mut archive = Archive::default();
        let mut seen: BTreeSet<String> = BTreeSet::new();
        for (file, bytes) in [("covid19-cuba.json", cuba), ("covid19-cuba-1.json", cuba_1)] {
            let document: Value =
                serde_json::from_slice(bytes).map_err(|error| ArchiveError::NotJson {
                    file: file.to_owned(),
                    detail: error.to_string(),
                })?;
            archive.read_days(file, &document, &mut seen, geography)?;
            archive.read_centres(&document);
            archive.read_events(&document);
            if let Some(note) = text_of(&document, "note-text") {
                archive
                    .report
                    .source_notes
                    .push(format!("{file}: «{note}»"));
            }
        }
        archive.read_deaths(deaths, &seen)?;
        archive.check_series();
        Ok(archive)
    }

    fn read_days(
        &mut self,
        file: &str,
        document: &Value,
        seen: &mut BTreeSet<String>,
        geography: Option<&Geography>,
    ) -> Result<(), ArchiveError> {
        let days = document
            .pointer("/casos/dias")
            .and_then(Value::as_object)
            .ok_or_else(|| ArchiveError::Missing {
                file: file.to_owned(),
                what: "casos.dias".to_owned(),
            })?;
        for (number, day) in days {
            let Ok(number) = number.parse::<u32>() else {
                self.report.add("dia_sin_numero", "Días sin número", || {
                    format!("{file}: «{number}»")
                });
                continue;
            };
            let expected = FIRST_DAY.plus_days(i64::from(number) - 1);
            let date = text_of(day, "fecha").and_then(Date::parse);
            match date {
                None => self
                    .report
                    .add("dia_sin_fecha", "Días sin fecha válida", || {
                        format!("{file}: día {number}")
                    }),
                Some(date) if date != expected => self.report.add(
                    "dia_fuera_de_orden",
                    "Días cuya fecha no sigue a la anterior (se toma la que les toca)",
                    || format!("{file}: día {number} dice {date}, le toca {expected}"),
                ),
                Some(_) => {}
            }
            for key in ["nota", "note-text", "nota_general", "nota-general"] {
                if let Some(note) = text_of(day, key) {
                    self.report
                        .source_notes
                        .push(format!("{file}, {expected}: «{note}»"));
                }
            }
            let diagnosed = day
                .get("diagnosticados")
                .and_then(Value::as_array)
                .map(Vec::as_slice)
                .unwrap_or_default();
            let figures = DayFigures {
                date: Some(expected),
                confirmed: u64::try_from(diagnosed.len()).unwrap_or(u64::MAX),
                tests_total: count_of(day, "tests_total"),
                recovered: count_of(day, "recuperados_numero"),
                deaths: count_of(day, "muertes_numero"),
                serious: count_of(day, "graves_numero"),
                critical: count_of(day, "criticos_numero"),
                evacuated: count_of(day, "evacuados_numero"),
                asymptomatic: count_of(day, "asintomaticos_numero"),
                at_risk: count_of(day, "sujetos_riesgo"),
            };
            self.days.insert(number, figures);
            for case in diagnosed {
                if let Some(case) = self.read_case(file, expected, case, geography) {
                    if seen.insert(case.id.clone()) {
                        self.cases.push(case);
                    } else {
                        self.report.add(
                            "caso_repetido",
                            "Casos listados dos veces (se toma el primero)",
                            || format!("{} ({expected})", case.id),
                        );
                    }
                }
            }
        }
        Ok(())
    }

    fn read_case(
        &mut self,
        file: &str,
        confirmed_on: Date,
        case: &Value,
        geography: Option<&Geography>,
    ) -> Option<Case> {
        let report = &mut self.report;
        let Some(id) = text_of(case, "id") else {
            report.add("caso_sin_id", "Casos sin id (no se importan)", || {
                format!("{file}, {confirmed_on}")
            });
            return None;
        };
        if let Some(object) = case.as_object() {
            for key in object.keys() {
                if !CASE_KEYS.contains(&key.as_str()) {
                    report.add(
                        "clave_mal_escrita",
                        "Campos con el nombre mal escrito (se ignoran)",
                        || format!("{id}: «{}»", key.chars().take(40).collect::<String>()),
                    );
                }
            }
        }
        let Some(municipality_code) = text_of(case, "dpacode_municipio_deteccion") else {
            report.add(
                "caso_sin_lugar",
                "Casos sin municipio de detección (no se importan)",
                || id.to_owned(),
            );
            return None;
        };
        let province_code = text_of(case, "dpacode_provincia_deteccion")
            .map(str::to_owned)
            .unwrap_or_else(|| {
                municipality_code
                    .split('.')
                    .next()
                    .unwrap_or_default()
                    .to_owned()
            });
        if let Some(geography) = geography
            && geography.municipality(municipality_code).is_none()
        {
            report.add(
                "municipio_desconocido",
                "Códigos de municipio que el mapa no tiene",
                || format!("{id}: {municipality_code}"),
            );
        }
        let sex = match text_of(case, "sexo") {
            Some("mujer") => Some(Sex::Female),
            Some("hombre") => Some(Sex::Male),
            Some(other) => {
                report.add(
                    "sexo_desconocido",
                    "Sexos que no son «mujer» ni «hombre»",
                    || format!("{id}: «{other}»"),
                );
                None
            }
            None => {
                report.add("sin_sexo", "Casos sin sexo", || id.to_owned());
                None
            }
        };
        let age = match case.get("edad") {
            None | Some(Value::Null) => {
                report.add("sin_edad", "Casos sin edad", || id.to_owned());
                None
            }
            Some(value) => match value.as_u64().filter(|age| *age <= AGE_MAX) {
                Some(age) => u8::try_from(age).ok(),
                None => {
                    report.add(
                        "edad_imposible",
                        "Edades fuera de 0 a 120 (se dejan sin edad)",
                        || format!("{id}: {value}"),
                    );
                    None
                }
            },
        };
        let source = match text_of(case, "contagio") {
            Some("importado") => Source::Imported,
            Some("introducido") => Source::Introduced,
            Some("autoctono" | "autóctono") => Source::Autochthonous,
            Some(other) => {
                report.add(
                    "fuente_desconocida",
                    "Fuentes de contagio desconocidas",
                    || format!("{id}: «{other}»"),
                );
                Source::Unknown
            }
            None => {
                report.add("sin_fuente", "Casos sin fuente de contagio", || {
                    id.to_owned()
                });
                Source::Unknown
            }
        };
        let mut date = |key: &str, label: &'static str| -> Option<Date> {
            let text = text_of(case, key)?;
            let Some(date) = Date::parse(text) else {
                report.add(
                    "fecha_mal_escrita",
                    "Fechas mal escritas (se ignoran)",
                    || format!("{id}: {key} «{text}»"),
                );
                return None;
            };
            if date > confirmed_on {
                report.add(
                    "fechas_contradictorias",
                    "Fechas posteriores a la confirmación (se ignoran)",
                    || format!("{id}: {label} {date}, confirmado {confirmed_on}"),
                );
                return None;
            }
            Some(date)
        };
        let consulted_on = date("consulta_medico", "consulta");
        let arrived_on = date("arribo_a_cuba_foco", "arribo");
        Some(Case {
            id: id.to_owned(),
            confirmed_on,
            country: text_of(case, "pais").map(str::to_lowercase),
            age,
            sex,
            municipality_code: municipality_code.to_owned(),
            province_code,
            source,
            consulted_on,
            arrived_on,
            isolation_centre: text_of(case, "centro_aislamiento").map(str::to_owned),
            diagnostic_centre: text_of(case, "centro_diagnostico").map(str::to_owned),
            contacts: case
                .get("contacto_focal")
                .and_then(Value::as_u64)
                .and_then(|contacts| u32::try_from(contacts).ok()),
        })
    }

    fn read_centres(&mut self, document: &Value) {
        for (key, kind) in [
            ("centros_aislamiento", "isolation"),
            ("centros_diagnostico", "diagnosis"),
        ] {
            let Some(centres) = document.get(key).and_then(Value::as_object) else {
                continue;
            };
            for (id, centre) in centres {
                if self
                    .centres
                    .iter()
                    .any(|known| known.id == *id && known.kind == kind)
                {
                    continue;
                }
                self.centres.push(Centre {
                    id: id.clone(),
                    kind,
                    name: text_of(centre, "nombre").unwrap_or(id).to_owned(),
                    province_code: text_of(centre, "dpacode_provincia").map(str::to_owned),
                });
            }
        }
    }

    fn read_events(&mut self, document: &Value) {
        let Some(events) = document.get("eventos").and_then(Value::as_object) else {
            return;
        };
        for (id, event) in events {
            if self.events.iter().any(|known| known.id == *id) {
                continue;
            }
            self.events.push(Event {
                id: id.clone(),
                place: text_of(event, "identificador").unwrap_or(id).to_owned(),
                municipality_code: text_of(event, "dpacode_municipio").map(str::to_owned),
                province_code: text_of(event, "dpacode_provincia").map(str::to_owned),
                longitude: event.get("lon").and_then(Value::as_f64),
                latitude: event.get("lat").and_then(Value::as_f64),
                open: event
                    .get("abierto")
                    .and_then(Value::as_bool)
                    .unwrap_or(false),
            });
        }
    }

    fn read_deaths(&mut self, bytes: &[u8], cases: &BTreeSet<String>) -> Result<(), ArchiveError> {
        const FILE: &str = "covid19-fallecidos.json";
        let document: Value =
            serde_json::from_slice(bytes).map_err(|error| ArchiveError::NotJson {
                file: FILE.to_owned(),
                detail: error.to_string(),
            })?;
        let diseases: BTreeMap<String, String> = document
            .get("enfermedades")
            .and_then(Value::as_object)
            .map(|names| {
                names
                    .iter()
                    .filter_map(|(code, name)| Some((code.clone(), name.as_str()?.to_owned())))
                    .collect()
            })
            .unwrap_or_default();
        let days = document
            .pointer("/casos/dias")
            .and_then(Value::as_object)
            .ok_or_else(|| ArchiveError::Missing {
                file: FILE.to_owned(),
                what: "casos.dias".to_owned(),
            })?;
        let mut listed: BTreeSet<String> = BTreeSet::new();
        for (number, day) in days {
            let Ok(number) = number.parse::<u32>() else {
                continue;
            };
            let died_on = FIRST_DAY.plus_days(i64::from(number) - 1);
            for death in day
                .get("fallecidos")
                .and_then(Value::as_array)
                .map(Vec::as_slice)
                .unwrap_or_default()
            {
                let Some(id) = text_of(death, "id") else {
                    self.report
                        .add("fallecido_sin_id", "Fallecidos sin id", || {
                            died_on.to_string()
                        });
                    continue;
                };
                if !listed.insert(id.to_owned()) {
                    self.report.add(
                        "fallecido_repetido",
                        "Fallecidos listados dos veces (se toma el primero)",
                        || format!("{id} ({died_on})"),
                    );
                    continue;
                }
                let case_id = text_of(death, "id_caso").map(str::to_owned);
                if let Some(case) = &case_id
                    && !cases.contains(case)
                {
                    self.report.add(
                        "fallecido_sin_caso",
                        "Fallecidos cuyo caso no está en los archivos de casos",
                        || format!("{id}: {case}"),
                    );
                }
                let comorbidities = death
                    .get("enfermedades")
                    .and_then(Value::as_array)
                    .map(Vec::as_slice)
                    .unwrap_or_default()
                    .iter()
                    .filter_map(Value::as_str)
                    .map(|code| {
                        diseases
                            .get(code)
                            .cloned()
                            .unwrap_or_else(|| code.to_owned())
                    })
                    .collect();
                self.deaths.push(Death {
                    id: id.to_owned(),
                    case_id,
                    died_on,
                    comorbidities,
                });
            }
        }
        Ok(())
    }

    /// The daily deaths the series reports against the deaths listed one by one.
    fn check_series(&mut self) {
        let reported: u64 = self.days.values().filter_map(|day| day.deaths).sum();
        let listed = u64::try_from(self.deaths.len()).unwrap_or(u64::MAX);
        if reported != listed {
            self.report.add(
                "serie_y_lista_de_fallecidos",
                "La serie diaria de fallecidos no suma lo mismo que la lista de fallecidos",
                || format!("la serie suma {reported}, la lista tiene {listed}"),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_parse_check_and_count() {
        assert_eq!(
            Date::parse("2020/03/11"),
            Some(Date {
                year: 2020,
                month: 3,
                day: 11
            })
        );
        assert_eq!(Date::parse("2021/02/29"), None);
        assert_eq!(
            Date::parse("2020/02/29").map(|d| d.to_string()),
            Some("2020-02-29".into())
        );
        assert_eq!(Date::parse("2020/13/01"), None);
        assert_eq!(Date::parse("ayer"), None);
        assert_eq!(FIRST_DAY.plus_days(480).to_string(), "2021-07-04");
        assert_eq!(FIRST_DAY.plus_days(481).to_string(), "2021-07-05");
        for days in [-1_000_000, -1, 0, 1, 18_000, 2_000_000] {
            assert_eq!(Date::from_days_since_epoch(days).days_since_epoch(), days);
        }
    }

    fn archive(cases: &str, deaths: &str) -> Archive {
        let cuba = format!(
            r#"{{"note-text": "el mes está mal", "casos": {{"dias": {{
                "1": {{"fecha": "2020/03/11", "diagnosticados": [{cases}], "muertes_numero": 1}},
                "2": {{"fecha": "2020/04/12", "diagnosticados": [], "tests_total": 10}}
            }}}}}}"#
        );
        let cuba_1 = r#"{"casos": {"dias": {"3": {"fecha": "2020/03/13", "diagnosticados": [
            {"id": "cu-1", "dpacode_municipio_deteccion": "23.04", "contagio": "introducido"}]}}}}"#;
        Archive::read(cuba.as_bytes(), cuba_1.as_bytes(), deaths.as_bytes(), None)
            .unwrap_or_else(|error| panic!("{error}"))
    }

    #[test]
    fn every_problem_is_counted_and_the_rest_kept() {
        let archive = archive(
            r#"{"id": "cu-1", "sexo": "mujer", "edad": 130, "dpacode_municipio_deteccion": "23.04",
                "dpacode_provincia_deteccion": "23", "contagio": "importado",
                "consulta_medico": "2020/03/20", "centro_aislamient5o": "x"},
               {"id": "cu-2", "sexo": "hombre", "edad": 40, "dpacode_municipio_deteccion": "23.02"},
               {"sexo": "hombre"},
               {"id": "cu-3", "sexo": "hombre", "edad": 40}"#,
            r#"{"enfermedades": {"ab": "asma bronquial"}, "casos": {"dias": {
                "1": {"fecha": "2020/03/11", "fallecidos": [
                    {"id": "f-1", "id_caso": "cu-2", "enfermedades": ["ab"]},
                    {"id": "f-2", "id_caso": "cu-9"}]}}}}"#,
        );
        assert_eq!(archive.cases.len(), 2, "{:?}", archive.cases);
        let first = &archive.cases[0];
        assert_eq!(first.age, None, "130 is no age");
        assert_eq!(first.sex, Some(Sex::Female));
        assert_eq!(first.source, Source::Imported);
        assert_eq!(first.consulted_on, None, "after the confirmation");
        assert_eq!(archive.cases[1].source, Source::Unknown);
        let report = &archive.report;
        for (key, count) in [
            ("edad_imposible", 1),
            ("clave_mal_escrita", 1),
            ("fechas_contradictorias", 1),
            ("caso_sin_id", 1),
            ("caso_sin_lugar", 1),
            ("sin_fuente", 1),
            ("caso_repetido", 1),
            ("dia_fuera_de_orden", 1),
            ("fallecido_sin_caso", 1),
            ("serie_y_lista_de_fallecidos", 1),
        ] {
            assert_eq!(report.count(key), count, "{key}: {}", report.text());
        }
        assert_eq!(
            archive.deaths[0].comorbidities,
            vec!["asma bronquial".to_owned()]
        );
        assert!(
            report
                .source_notes
                .iter()
                .any(|note| note.contains("el mes está mal"))
        );
        assert_eq!(archive.days.len(), 3);
        assert_eq!(
            archive
                .days
                .get(&2)
                .and_then(|day| day.date)
                .map(|date| date.to_string()),
            Some("2020-03-12".to_owned()),
            "a day's date is the one its number gives"
        );
        assert!(report.text().contains("Casos listados dos veces"));
    }

    #[test]
    fn a_file_that_is_no_json_is_refused_by_name() {
        assert_eq!(
            Archive::read(b"{", b"{}", b"{}", None).map(|_| ()),
            Err(ArchiveError::NotJson {
                file: "covid19-cuba.json".to_owned(),
                detail: "EOF while parsing an object at line 1 column 1".to_owned()
            })
        );
        assert!(matches!(
            Archive::read(b"{}", b"{}", b"{}", None),
            Err(ArchiveError::Missing { .. })
        ));
    }
}
