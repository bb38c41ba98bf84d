//! The line list health workers send in bulk: one case per CSV row or JSON object, created or
//! updated by its id. Every row is checked on its own; a bad one is reported with its line
//! (the CSV's line, or the object's position in the JSON array, from 1) and the reason, and the
//! rest go on.
//!
//! The columns (CSV header, JSON keys), all text, Spanish as health workers write them:
//!
//! | column | |
//! |---|---|
//! | `id` | required, 1–64 of `A-Z a-z 0-9 . _ -` |
//! | `estado` | `sospechoso`, `probable`, `confirmado`, `descartado` (required) |
//! | `fecha_confirmacion` | `AAAA-MM-DD`; required for a confirmed case |
//! | `fecha_inicio_sintomas`, `fecha_muestra`, `fecha_ingreso` | `AAAA-MM-DD` |
//! | `edad` | whole years, 0–120 |
//! | `sexo` | `F`, `M` |
//! | `municipio` | DPA code of the municipality of detection (required) |
//! | `municipio_residencia` | DPA code |
//! | `fuente` | `importado` (then `pais`, ISO 3166 alpha-2), `introducido`, `autoctono`, `desconocida` |
//! | `centro_aislamiento` | text, up to 120 characters |
//! | `gravedad` | `estable`, `grave`, `critico` |
//! | `desenlace`, `fecha_desenlace` | `recuperado`, `fallecido`, `evacuado`, with its day |
//! | `comorbilidades` | of a death: names separated by `;` (up to 10, 60 characters each) |
//! | `persona` | the id of the person's record (see [`crate::persons`]) |
//!
//! Impossible dates are refused: any day after today, onset or sampling after confirmation,
//! admission before onset, an outcome before confirmation. An id written twice in one file is
//! refused on every line it is on (which of them is right cannot be told).

use std::collections::HashMap;

use crate::covid19cubadata::{Date, Sex, Source};

/// Most rows one file may hold.
pub const ROWS_MAX: usize = 100_000;
/// Longest free text kept (a centre's name).
const TEXT_CHARS_MAX: usize = 120;
const AGE_MAX: u64 = 120;
/// Most comorbidities of one death, and longest name of one.
const COMORBIDITIES_MAX: usize = 10;
const COMORBIDITY_CHARS_MAX: usize = 60;

/// The columns, in the order a template lists them.
pub const COLUMNS: [&str; 18] = [
    "id",
    "estado",
    "fecha_confirmacion",
    "fecha_inicio_sintomas",
    "fecha_muestra",
    "fecha_ingreso",
    "edad",
    "sexo",
    "municipio",
    "municipio_residencia",
    "fuente",
    "pais",
    "centro_aislamiento",
    "gravedad",
    "desenlace",
    "fecha_desenlace",
    "comorbilidades",
    "persona",
];

/// One case as a line list gives it, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaseEntry {
    pub id: String,
    /// `suspected`, `probable`, `confirmed`, `discarded`.
    pub status: &'static str,
    pub confirmed_on: Option<Date>,
    pub onset_on: Option<Date>,
    pub sampled_on: Option<Date>,
    pub admitted_on: Option<Date>,
    pub age: Option<u8>,
    pub sex: Option<Sex>,
    pub municipality_code: String,
    /// The municipality's province.
    pub province_code: String,
    pub residence_municipality_code: Option<String>,
    pub source: Source,
    /// ISO 3166 alpha-2, lower case, for an imported case.
    pub country: Option<String>,
    pub isolation_centre: Option<String>,
    /// `stable`, `serious`, `critical`.
    pub severity: Option<&'static str>,
    /// `recovered`, `deceased`, `evacuated`.
    pub outcome: Option<&'static str>,
    pub outcome_on: Option<Date>,
    /// A death's comorbidities, by name.
    pub comorbidities: Vec<String>,
    /// The person's record, as the sender names it (the caller checks it exists).
    pub person_id: Option<String>,
}

/// A row refused, and why (Spanish).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct RowError {
    /// The CSV line (the header is line 1), or the object's position in the JSON array.
    pub line: u64,
    pub id: Option<String>,
    pub reason: String,
}

/// What a file held: the good rows with their lines, and the refused ones.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LineList {
    pub entries: Vec<(u64, CaseEntry)>,
    pub errors: Vec<RowError>,
}

/// A file that cannot be read at all.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum LineListError {
    #[error("el archivo está vacío")]
    Empty,
    #[error("falta la columna «{0}» en la cabecera")]
    MissingColumn(&'static str),
    #[error("la cabecera trae una columna desconocida: «{0}»")]
    UnknownColumn(String),
    #[error("el archivo tiene más de {ROWS_MAX} filas")]
    TooManyRows,
    #[error("no es JSON válido: {0}")]
    NotJson(String),
    #[error("el JSON debe ser una lista de objetos, uno por caso")]
    NotAList,
    #[error("la cabecera no se pudo leer: {0}")]
    BadHeader(String),
}

/// What checking a row needs to know: the province of a municipality (`None`: no such
/// municipality), and today.
pub struct Context<'a> {
    pub province_of: &'a (dyn Fn(&str) -> Option<String> + Sync),
    pub today: Date,
}

impl std::fmt::Debug for Context<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Context")
            .field("today", &self.today)
            .finish_non_exhaustive()
    }
}

/// Reads a CSV line list (UTF-8, comma-separated, with the header of [`COLUMNS`]; columns
/// may come in any order and optional ones may be left out).
pub fn read_csv(text: &str, context: &Context<'_>) -> Result<LineList, LineListError> {
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(text.as_bytes());
    let header: Vec<String> = reader
        .headers()
        .map_err(|error| LineListError::BadHeader(error.to_string()))?
        .iter()
        .map(|name| name.trim_start_matches('\u{feff}').to_lowercase())
        .collect();
    if header.iter().all(String::is_empty) {
        return Err(LineListError::Empty);
    }
    check_header(&header)?;
    let mut rows = Vec::new();
    for (index, record) in reader.records().enumerate() {
        if index >= ROWS_MAX {
            return Err(LineListError::TooManyRows);
        }
        // The header is line 1 (a quoted cell holding a line break is not counted apart).
        let line = u64::try_from(index).unwrap_or(u64::MAX).saturating_add(2);
        let row = match record {
            Ok(record) if record.len() != header.len() => Err(format!(
                "la fila tiene {} columnas y la cabecera {}",
                record.len(),
                header.len()
            )),
            Ok(record) => Ok(header
                .iter()
                .cloned()
                .zip(record.iter().map(str::to_owned))
                .collect::<HashMap<_, _>>()),
            Err(error) => Err(format!("la fila no se pudo leer: {error}")),
        };
        rows.push((line, row));
    }
    Ok(check_rows(rows, context))
}

/// Reads a JSON line list: an array of objects with the keys of [`COLUMNS`] (strings; `edad`
/// may be a number; a missing key or `null` is an empty cell).
pub fn read_json(text: &str, context: &Context<'_>) -> Result<LineList, LineListError> {
    let value: serde_json::Value =
        serde_json::from_str(text).map_err(|error| LineListError::NotJson(error.to_string()))?;
    let serde_json::Value::Array(items) = value else {
        return Err(LineListError::NotAList);
    };
    if items.len() > ROWS_MAX {
        return Err(LineListError::TooManyRows);
    }
    let rows = items
        .into_iter()
        .enumerate()
        .map(|(index, item)| {
            let line = u64::try_from(index).unwrap_or(u64::MAX).saturating_add(1);
            let row = match item {
                serde_json::Value::Object(fields) => fields
                    .into_iter()
                    .map(|(key, value)| {
                        let key = key.to_lowercase();
                        if !COLUMNS.contains(&key.as_str()) {
                            return Err(format!("campo desconocido «{}»", cut(&key)));
                        }
                        let text = match value {
                            serde_json::Value::Null => String::new(),
                            serde_json::Value::String(text) => text.trim().to_owned(),
                            serde_json::Value::Number(number) => number.to_string(),
                            _ => return Err(format!("{key}: debe ser texto")),
                        };
                        Ok((key, text))
                    })
                    .collect::<Result<HashMap<_, _>, _>>(),
                _ => Err("no es un objeto".to_owned()),
            };
            (line, row)
        })
        .collect();
    Ok(check_rows(rows, context))
}

fn check_header(header: &[String]) -> Result<(), LineListError> {
    for name in header {
        if !COLUMNS.contains(&name.as_str()) {
            return Err(LineListError::UnknownColumn(cut(name)));
        }
    }
    for required in ["id", "estado", "municipio"] {
        if !header.iter().any(|name| name == required) {
            return Err(LineListError::MissingColumn(required));
        }
    }
    Ok(())
}

fn cut(text: &str) -> String {
    text.chars().take(40).collect()
}

type RawRow = (u64, Result<HashMap<String, String>, String>);

/// Checks every row, then refuses every line of an id written more than once.
fn check_rows(rows: Vec<RawRow>, context: &Context<'_>) -> LineList {
    let mut list = LineList::default();
    let mut lines_of: HashMap<String, Vec<u64>> = HashMap::new();
    let mut checked = Vec::with_capacity(rows.len());
    for (line, row) in rows {
        let id = row
            .as_ref()
            .ok()
            .and_then(|fields| fields.get("id"))
            .map(|id| id.trim().to_owned())
            .filter(|id| !id.is_empty());
        if let Some(id) = &id {
            lines_of.entry(id.clone()).or_default().push(line);
        }
        checked.push((line, id, row.and_then(|fields| entry(&fields, context))));
    }
    for (line, id, outcome) in checked {
        let repeated = id
            .as_ref()
            .and_then(|id| lines_of.get(id))
            .filter(|lines| lines.len() > 1);
        match (outcome, repeated) {
            (_, Some(lines)) => list.errors.push(RowError {
                line,
                id: id.clone(),
                reason: format!(
                    "el id está repetido en el archivo (líneas {})",
                    lines
                        .iter()
                        .map(u64::to_string)
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            }),
            (Ok(entry), None) => list.entries.push((line, entry)),
            (Err(reason), None) => list.errors.push(RowError {
                line,
                id: id.map(|id| cut(&id)),
                reason,
            }),
        }
    }
    list
}

fn day(fields: &HashMap<String, String>, column: &str) -> Result<Option<Date>, String> {
    let text = fields.get(column).map_or("", String::as_str);
    if text.is_empty() {
        return Ok(None);
    }
    match Date::parse(text) {
        Some(date) if text.len() == 10 && text.as_bytes()[4] == b'-' => Ok(Some(date)),
        _ => Err(format!("{column}: «{}» no es un día AAAA-MM-DD", cut(text))),
    }
}

fn word<T: Copy>(
    fields: &HashMap<String, String>,
    column: &str,
    words: &[(&str, T)],
) -> Result<Option<T>, String> {
    let text = fields.get(column).map_or("", String::as_str);
    if text.is_empty() {
        return Ok(None);
    }
    let folded = fold(text);
    words
        .iter()
        .find(|(name, _)| *name == folded)
        .map(|(_, value)| Some(*value))
        .ok_or_else(|| {
            let names: Vec<&str> = words.iter().map(|(name, _)| *name).collect();
            format!(
                "{column}: «{}» no es uno de {}",
                cut(text),
                names.join(", ")
            )
        })
}

/// Lower case without accents (nor the tilde of ñ): `Autóctono` → `autoctono`.
pub(crate) fn fold(text: &str) -> String {
    text.trim()
        .to_lowercase()
        .chars()
        .map(|c| match c {
            'á' => 'a',
            'é' => 'e',
            'í' => 'i',
            'ó' => 'o',
            'ú' | 'ü' => 'u',
            // Keyboards without it write «n»: «Nuñez» and «Nunez» are one name.
            'ñ' => 'n',
            other => other,
        })
        .collect()
}

/// One row checked into a case.
fn entry(fields: &HashMap<String, String>, context: &Context<'_>) -> Result<CaseEntry, String> {
    let text = |column: &str| {
        fields
            .get(column)
            .map(|value| value.trim().to_owned())
            .filter(|value| !value.is_empty())
    };
    let id = text("id").ok_or("id: falta")?;
    if !is_id(&id) {
        return Err("id: de 1 a 64 letras, cifras, «.», «_» o «-»".to_owned());
    }
    let person_id = text("persona");
    if person_id.as_deref().is_some_and(|person| !is_id(person)) {
        return Err("persona: de 1 a 64 letras, cifras, «.», «_» o «-»".to_owned());
    }
    let status = word(
        fields,
        "estado",
        &[
            ("sospechoso", "suspected"),
            ("probable", "probable"),
            ("confirmado", "confirmed"),
            ("descartado", "discarded"),
        ],
    )?
    .ok_or("estado: falta")?;
    let municipality_code = text("municipio").ok_or("municipio: falta")?;
    let province_code = (context.province_of)(&municipality_code).ok_or_else(|| {
        format!(
            "municipio: «{}» no es un código DPA conocido",
            cut(&municipality_code)
        )
    })?;
    let residence_municipality_code = text("municipio_residencia");
    if let Some(code) = &residence_municipality_code
        && (context.province_of)(code).is_none()
    {
        return Err(format!(
            "municipio_residencia: «{}» no es un código DPA conocido",
            cut(code)
        ));
    }
    let age = match text("edad") {
        None => None,
        Some(age) => match age.parse::<u64>() {
            Ok(years) if years <= AGE_MAX => u8::try_from(years).ok(),
            _ => {
                return Err(format!(
                    "edad: «{}» no es una edad entre 0 y {AGE_MAX}",
                    cut(&age)
                ));
            }
        },
    };
    let sex = word(
        fields,
        "sexo",
        &[
            ("f", Sex::Female),
            ("femenino", Sex::Female),
            ("m", Sex::Male),
            ("masculino", Sex::Male),
        ],
    )?;
    let source = word(
        fields,
        "fuente",
        &[
            ("importado", Source::Imported),
            ("introducido", Source::Introduced),
            ("autoctono", Source::Autochthonous),
            ("desconocida", Source::Unknown),
        ],
    )?
    .unwrap_or(Source::Unknown);
    let country = text("pais").map(|country| country.to_lowercase());
    match (&source, &country) {
        (Source::Imported, None) => {
            return Err("pais: un caso importado dice de qué país (ISO, dos letras)".to_owned());
        }
        (_, Some(country))
            if country.len() != 2 || !country.chars().all(|c| c.is_ascii_lowercase()) =>
        {
            return Err(format!(
                "pais: «{}» no es un código ISO de dos letras",
                cut(country)
            ));
        }
        _ => {}
    }
    let isolation_centre = text("centro_aislamiento");
    if isolation_centre
        .as_ref()
        .is_some_and(|name| name.chars().count() > TEXT_CHARS_MAX)
    {
        return Err(format!(
            "centro_aislamiento: más de {TEXT_CHARS_MAX} caracteres"
        ));
    }
    let severity = word(
        fields,
        "gravedad",
        &[
            ("estable", "stable"),
            ("grave", "serious"),
            ("critico", "critical"),
        ],
    )?;
    let outcome = word(
        fields,
        "desenlace",
        &[
            ("recuperado", "recovered"),
            ("fallecido", "deceased"),
            ("evacuado", "evacuated"),
        ],
    )?;
    let comorbidities: Vec<String> = text("comorbilidades")
        .map(|names| {
            names
                .split(';')
                .map(|name| name.split_whitespace().collect::<Vec<_>>().join(" "))
                .filter(|name| !name.is_empty())
                .collect()
        })
        .unwrap_or_default();
    if comorbidities.len() > COMORBIDITIES_MAX
        || comorbidities
            .iter()
            .any(|name| name.chars().count() > COMORBIDITY_CHARS_MAX)
    {
        return Err(format!(
            "comorbilidades: hasta {COMORBIDITIES_MAX}, de {COMORBIDITY_CHARS_MAX} caracteres \
             cada una"
        ));
    }
    if !comorbidities.is_empty() && outcome != Some("deceased") {
        return Err("comorbilidades: solo de un fallecido".to_owned());
    }
    let confirmed_on = day(fields, "fecha_confirmacion")?;
    let onset_on = day(fields, "fecha_inicio_sintomas")?;
    let sampled_on = day(fields, "fecha_muestra")?;
    let admitted_on = day(fields, "fecha_ingreso")?;
    let outcome_on = day(fields, "fecha_desenlace")?;
    check_dates(
        status,
        confirmed_on,
        onset_on,
        sampled_on,
        admitted_on,
        outcome,
        outcome_on,
        context.today,
    )?;
    Ok(CaseEntry {
        id,
        status,
        confirmed_on,
        onset_on,
        sampled_on,
        admitted_on,
        age,
        sex,
        municipality_code,
        province_code,
        residence_municipality_code,
        source,
        country,
        isolation_centre,
        severity,
        outcome,
        outcome_on,
        comorbidities,
        person_id,
    })
}

/// An id as records carry them: 1 to 64 of `A-Z a-z 0-9 . _ -`.
pub fn is_id(text: &str) -> bool {
    (1..=64).contains(&text.len())
        && text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
}

#[allow(clippy::too_many_arguments)]
fn check_dates(
    status: &str,
    confirmed_on: Option<Date>,
    onset_on: Option<Date>,
    sampled_on: Option<Date>,
    admitted_on: Option<Date>,
    outcome: Option<&str>,
    outcome_on: Option<Date>,
    today: Date,
) -> Result<(), String> {
    for (column, date) in [
        ("fecha_confirmacion", confirmed_on),
        ("fecha_inicio_sintomas", onset_on),
        ("fecha_muestra", sampled_on),
        ("fecha_ingreso", admitted_on),
        ("fecha_desenlace", outcome_on),
    ] {
        if let Some(date) = date
            && date > today
        {
            return Err(format!("{column}: {date} es posterior a hoy ({today})"));
        }
    }
    if status == "confirmed" && confirmed_on.is_none() {
        return Err("fecha_confirmacion: falta en un caso confirmado".to_owned());
    }
    if let Some(confirmed) = confirmed_on {
        if let Some(onset) = onset_on
            && onset > confirmed
        {
            return Err(format!(
                "fecha_inicio_sintomas: {onset} es posterior a la confirmación ({confirmed})"
            ));
        }
        if let Some(sampled) = sampled_on
            && sampled > confirmed
        {
            return Err(format!(
                "fecha_muestra: el resultado ({confirmed}) es anterior a la muestra ({sampled})"
            ));
        }
        if let Some(ended) = outcome_on
            && ended < confirmed
        {
            return Err(format!(
                "fecha_desenlace: {ended} es anterior a la confirmación ({confirmed})"
            ));
        }
    }
    if let (Some(onset), Some(admitted)) = (onset_on, admitted_on)
        && admitted < onset
    {
        return Err(format!(
            "fecha_ingreso: {admitted} es anterior al inicio de síntomas ({onset})"
        ));
    }
    match (outcome, outcome_on) {
        (Some(_), None) => Err("fecha_desenlace: falta el día del desenlace".to_owned()),
        (None, Some(_)) => Err("desenlace: hay día pero no desenlace".to_owned()),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn context_today() -> Date {
        Date::parse("2021-08-01").expect("day")
    }

    fn province_of(code: &str) -> Option<String> {
        ["23.01", "23.04", "24.01"]
            .contains(&code)
            .then(|| code[..2].to_owned())
    }

    fn csv(text: &str) -> LineList {
        let context = Context {
            province_of: &province_of,
            today: context_today(),
        };
        read_csv(text, &context).expect("a readable file")
    }

    const HEADER: &str = "id,estado,fecha_confirmacion,fecha_inicio_sintomas,fecha_muestra,edad,sexo,municipio,fuente,pais,desenlace,fecha_desenlace\n";

    #[test]
    fn good_rows_become_cases() {
        let list = csv(&format!(
            "{HEADER}a-1,confirmado,2021-07-20,2021-07-15,2021-07-18,34,F,23.04,Autóctono,,,\n\
             a-2,Sospechoso,,,,,,24.01,,,,\n\
             a-3,confirmado,2021-07-01,,,70,m,23.01,importado,ES,fallecido,2021-07-09\n"
        ));
        assert_eq!(list.errors, Vec::new());
        assert_eq!(list.entries.len(), 3);
        let (line, first) = &list.entries[0];
        assert_eq!(*line, 2);
        assert_eq!(first.status, "confirmed");
        assert_eq!(first.province_code, "23");
        assert_eq!(first.age, Some(34));
        assert_eq!(first.sex, Some(Sex::Female));
        assert_eq!(first.source, Source::Autochthonous);
        assert_eq!(list.entries[1].1.status, "suspected");
        assert_eq!(list.entries[1].1.source, Source::Unknown);
        let imported = &list.entries[2].1;
        assert_eq!(imported.country.as_deref(), Some("es"));
        assert_eq!(imported.outcome, Some("deceased"));
        let deceased = csv(
            "id,estado,fecha_confirmacion,municipio,desenlace,fecha_desenlace,comorbilidades\n\
             f-1,confirmado,2021-07-01,23.04,fallecido,2021-07-09,diabetes; hipertensión arterial\n\
             f-2,confirmado,2021-07-01,23.04,recuperado,2021-07-09,asma\n",
        );
        assert_eq!(
            deceased.entries[0].1.comorbidities,
            ["diabetes", "hipertensión arterial"]
        );
        assert!(deceased.errors[0].reason.contains("solo de un fallecido"));
    }

    #[test]
    fn each_bad_row_is_refused_with_its_line_and_reason() {
        let list = csv(&format!(
            "{HEADER}b-1,confirmado,2021-07-20,,,121,F,23.04,,,,\n\
             b-2,confirmado,2021-07-20,,,30,F,99.99,,,,\n\
             b-3,confirmado,2021-07-20,,2021-07-25,30,F,23.04,,,,\n\
             b-4,confirmado,2021-09-01,,,30,F,23.04,,,,\n\
             b-5,confirmado,2021-07-20,2021-07-22,,30,F,23.04,,,,\n\
             b-6,confirmado,20/07/2021,,,30,F,23.04,,,,\n\
             b-7,curado,2021-07-20,,,30,F,23.04,,,,\n\
             b-8,confirmado,2021-07-20,,,30,F,23.04,importado,,,\n\
             b-9,confirmado,2021-07-20\n\
             b-10,confirmado,,,,30,F,23.04,,,,\n\
             ok-1,confirmado,2021-07-20,,,-1,F,23.04,,,,\n\
             ok-2,confirmado,2021-07-20,,,30,F,23.04,,,,\n"
        ));
        let reasons: Vec<(u64, &str)> = list
            .errors
            .iter()
            .map(|error| (error.line, error.reason.as_str()))
            .collect();
        let expect = [
            (2, "edad"),
            (3, "no es un código DPA"),
            (4, "anterior a la muestra"),
            (5, "posterior a hoy"),
            (6, "posterior a la confirmación"),
            (7, "no es un día"),
            (8, "estado"),
            (9, "importado dice de qué país"),
            (10, "columnas"),
            (11, "falta en un caso confirmado"),
            (12, "edad"),
        ];
        assert_eq!(reasons.len(), expect.len(), "{reasons:?}");
        for ((line, reason), (expected_line, part)) in reasons.iter().zip(expect) {
            assert_eq!(*line, expected_line);
            assert!(reason.contains(part), "line {line}: {reason}");
        }
        assert_eq!(list.entries.len(), 1, "the good row goes in");
        assert_eq!(list.entries[0].0, 13);
    }

    #[test]
    fn an_id_twice_in_a_file_is_refused_on_every_line() {
        let list = csv(&format!(
            "{HEADER}d-1,confirmado,2021-07-20,,,30,F,23.04,,,,\n\
             d-2,confirmado,2021-07-20,,,30,F,23.04,,,,\n\
             d-1,confirmado,2021-07-21,,,31,F,23.04,,,,\n"
        ));
        assert_eq!(list.entries.len(), 1);
        assert_eq!(list.errors.len(), 2);
        assert!(
            list.errors
                .iter()
                .all(|error| error.reason.contains("líneas 2, 4"))
        );
    }

    #[test]
    fn a_file_without_the_needed_columns_is_refused_whole() {
        let context = Context {
            province_of: &province_of,
            today: context_today(),
        };
        assert_eq!(
            read_csv("id,estado\nx,confirmado\n", &context),
            Err(LineListError::MissingColumn("municipio"))
        );
        assert_eq!(
            read_csv("id,estado,municipio,color\n", &context),
            Err(LineListError::UnknownColumn("color".to_owned()))
        );
        assert_eq!(read_csv("", &context), Err(LineListError::Empty));
        assert!(matches!(
            read_json("{\"id\": 1}", &context),
            Err(LineListError::NotAList)
        ));
        assert!(matches!(
            read_json("[{", &context),
            Err(LineListError::NotJson(_))
        ));
    }

    #[test]
    fn json_objects_are_rows_numbered_from_one() {
        let context = Context {
            province_of: &province_of,
            today: context_today(),
        };
        let list = read_json(
            r#"[{"id": "j-1", "estado": "confirmado", "fecha_confirmacion": "2021-07-20",
                 "edad": 40, "sexo": "M", "municipio": "23.04"},
                "no",
                {"id": "j-3", "estado": "probable", "municipio": "23.04", "color": "rojo"},
                {"id": "j-4", "estado": "probable", "municipio": "23.04", "edad": [1]}]"#,
            &context,
        )
        .expect("a list");
        assert_eq!(list.entries.len(), 1);
        assert_eq!(list.entries[0].1.age, Some(40));
        let lines: Vec<u64> = list.errors.iter().map(|error| error.line).collect();
        assert_eq!(lines, [2, 3, 4]);
        assert!(list.errors[1].reason.contains("color"));
    }
}
