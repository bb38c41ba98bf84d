//! Cuba's political-administrative division (DPA) as Salud counts by it: 15 provinces and the
//! special municipality of Isla de la Juventud, 168 municipalities, each with its DPA code,
//! name, population and boundary.
//!
//! The sources are the files in `shared/data/cuba`: two GeoJSON feature collections
//! (provinces and municipalities; a municipality may come as several features, one per island
//! or piece, which are joined into one multipolygon) and a population list keyed by the
//! municipality's *name* only. That list spells some names otherwise than the map («Consolación
//! del Sur» / «Consolación del sur», «Carlos M. de Céspedes» / «Carlos Manuel de Céspedes») and
//! has one name twice («San Luis», in Pinar del Río and in Santiago de Cuba). The match rule:
//! names are compared without case, accents or repeated spaces, a word ending in a full stop
//! stands for any word it begins, and the list follows the DPA order, so of two municipalities
//! with the same name the first entry is the one with the lower code. Every match that needed
//! more than equal text is reported in [`Geography::notes`], and the name kept is the list's
//! (which writes accents and capitals as Spanish does) unless it abbreviates.
//!
//! The features with code `00` / `00.00` («Desconocida») are the map's place for cases whose
//! place is unknown: they are kept, as [`UNKNOWN_PROVINCE`] and [`UNKNOWN_MUNICIPALITY`], with
//! no population.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The code of the province and the municipality of cases whose place is unknown.
pub const UNKNOWN_PROVINCE: &str = "00";
pub const UNKNOWN_MUNICIPALITY: &str = "00.00";

/// A position: longitude, latitude (WGS 84).
pub type Position = [f64; 2];
/// A closed ring of positions.
pub type Ring = Vec<Position>;
/// An outer ring and its holes.
pub type Polygon = Vec<Ring>;
/// A boundary: one polygon per piece (mainland, cays, islands).
pub type MultiPolygon = Vec<Polygon>;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Province {
    /// `21` (Pinar del Río) … `35` (Guantánamo), `40.01` (Isla de la Juventud), `00`.
    pub code: String,
    pub name: String,
    /// The sum of its municipalities'.
    pub population: u64,
    pub boundary: MultiPolygon,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Municipality {
    /// `21.07` (Consolación del Sur); `40.01` for Isla de la Juventud.
    pub code: String,
    pub province_code: String,
    pub name: String,
    pub population: u64,
    pub boundary: MultiPolygon,
}

/// The country's division, read and checked.
#[derive(Debug, Clone, PartialEq)]
pub struct Geography {
    /// In code order.
    pub provinces: Vec<Province>,
    /// In code order.
    pub municipalities: Vec<Municipality>,
    /// What reading the sources had to resolve, one sentence each (Spanish).
    pub notes: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum GeographyError {
    #[error("{file}: no es JSON válido: {detail}")]
    NotJson { file: &'static str, detail: String },
    #[error("{file}: {detail}")]
    Shape { file: &'static str, detail: String },
    #[error("la población de «{0}» no corresponde a ningún municipio del mapa")]
    UnknownMunicipality(String),
    #[error("el municipio {code} ({name}) no tiene población en la lista")]
    MissingPopulation { code: String, name: String },
    #[error("el municipio {code} pertenece a la provincia {province}, que no está en el mapa")]
    UnknownProvince { code: String, province: String },
}

impl Geography {
    /// Reads the three source files (their text) and joins them.
    pub fn from_sources(
        provinces_geojson: &str,
        municipalities_geojson: &str,
        population_json: &str,
    ) -> Result<Geography, GeographyError> {
        let provinces = features(provinces_geojson, "provincias.geojson", "DPA_province_code")?;
        let municipalities = features(
            municipalities_geojson,
            "municipios.geojson",
            "DPA_municipality_code",
        )?;
        let population = population_list(population_json)?;
        let mut notes = Vec::new();

        let mut by_code: BTreeMap<String, Municipality> = BTreeMap::new();
        for piece in municipalities {
            let province_code = text(&piece.properties, "DPA_province_code")
                .ok_or_else(|| shape("municipios.geojson", "falta DPA_province_code"))?;
            let name = text(&piece.properties, "municipality")
                .ok_or_else(|| shape("municipios.geojson", "falta municipality"))?;
            let entry = by_code
                .entry(piece.code.clone())
                .or_insert_with(|| Municipality {
                    code: piece.code.clone(),
                    province_code: province_code.to_owned(),
                    name: name.to_owned(),
                    population: 0,
                    boundary: Vec::new(),
                });
            entry.boundary.extend(piece.boundary);
        }

        // The population list, in DPA order: each entry takes the first municipality (by code)
        // whose name matches and that no earlier entry took.
        let mut taken: BTreeMap<String, ()> = BTreeMap::new();
        for (name, population) in population {
            let found = by_code
                .values()
                .filter(|municipality| municipality.code != UNKNOWN_MUNICIPALITY)
                .filter(|municipality| !taken.contains_key(&municipality.code))
                .find(|municipality| same_name(&name, &municipality.name))
                .map(|municipality| municipality.code.clone())
                .ok_or_else(|| GeographyError::UnknownMunicipality(name.clone()))?;
            let municipality = by_code
                .get_mut(&found)
                .expect("the code was just found among them");
            if name != municipality.name {
                // The list writes the names with their accents and capitals; the map abbreviates
                // none. Of the two spellings, the list's, unless it abbreviates.
                let abbreviated = name.split_whitespace().any(|word| word.ends_with('.'));
                notes.push(format!(
                    "La población de «{name}» es la del municipio {} «{}» del mapa; se escribe «{}».",
                    municipality.code,
                    municipality.name,
                    if abbreviated { &municipality.name } else { &name }
                ));
                if !abbreviated {
                    municipality.name = name.clone();
                }
            }
            municipality.population = population;
            taken.insert(found, ());
        }
        let twice = {
            let mut names: BTreeMap<String, Vec<&str>> = BTreeMap::new();
            for municipality in by_code.values() {
                names
                    .entry(folded(&municipality.name))
                    .or_default()
                    .push(&municipality.code);
            }
            names
                .into_values()
                .filter(|codes| codes.len() > 1)
                .collect::<Vec<_>>()
        };
        for codes in twice {
            notes.push(format!(
                "Hay municipios con el mismo nombre ({}): la lista de población, en el orden de la \
                 DPA, se asignó por ese orden.",
                codes.join(", ")
            ));
        }
        for municipality in by_code.values() {
            if municipality.population == 0 && municipality.code != UNKNOWN_MUNICIPALITY {
                return Err(GeographyError::MissingPopulation {
                    code: municipality.code.clone(),
                    name: municipality.name.clone(),
                });
            }
        }

        let mut provinces_by_code: BTreeMap<String, Province> = BTreeMap::new();
        for piece in provinces {
            let name = text(&piece.properties, "province")
                .ok_or_else(|| shape("provincias.geojson", "falta province"))?;
            let entry = provinces_by_code
                .entry(piece.code.clone())
                .or_insert_with(|| Province {
                    code: piece.code.clone(),
                    name: name.to_owned(),
                    population: 0,
                    boundary: Vec::new(),
                });
            entry.boundary.extend(piece.boundary);
        }
        for municipality in by_code.values() {
            let province = provinces_by_code
                .get_mut(&municipality.province_code)
                .ok_or_else(|| GeographyError::UnknownProvince {
                    code: municipality.code.clone(),
                    province: municipality.province_code.clone(),
                })?;
            province.population += municipality.population;
        }
        if by_code.contains_key(UNKNOWN_MUNICIPALITY) {
            notes.push(format!(
                "El mapa trae la provincia {UNKNOWN_PROVINCE} y el municipio {UNKNOWN_MUNICIPALITY} \
                 «Desconocido», para los casos sin lugar conocido; no tienen población."
            ));
        }
        Ok(Geography {
            provinces: provinces_by_code.into_values().collect(),
            municipalities: by_code.into_values().collect(),
            notes,
        })
    }

    /// Everybody counted, in every municipality.
    pub fn population(&self) -> u64 {
        self.municipalities
            .iter()
            .map(|municipality| municipality.population)
            .sum()
    }

    pub fn province(&self, code: &str) -> Option<&Province> {
        self.provinces.iter().find(|province| province.code == code)
    }

    pub fn municipality(&self, code: &str) -> Option<&Municipality> {
        self.municipalities
            .iter()
            .find(|municipality| municipality.code == code)
    }
}

/// One feature of a collection: its code, its properties, and its pieces.
struct Piece {
    code: String,
    properties: serde_json::Map<String, Value>,
    boundary: MultiPolygon,
}

fn shape(file: &'static str, detail: impl Into<String>) -> GeographyError {
    GeographyError::Shape {
        file,
        detail: detail.into(),
    }
}

fn text<'a>(properties: &'a serde_json::Map<String, Value>, key: &str) -> Option<&'a str> {
    properties
        .get(key)
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|value| !value.is_empty())
}

fn features(
    source: &str,
    file: &'static str,
    code_key: &str,
) -> Result<Vec<Piece>, GeographyError> {
    let collection: Value =
        serde_json::from_str(source).map_err(|error| GeographyError::NotJson {
            file,
            detail: error.to_string(),
        })?;
    let features = collection
        .get("features")
        .and_then(Value::as_array)
        .ok_or_else(|| shape(file, "no es una FeatureCollection con «features»"))?;
    features
        .iter()
        .enumerate()
        .map(|(index, feature)| {
            let properties = feature
                .get("properties")
                .and_then(Value::as_object)
                .ok_or_else(|| shape(file, format!("la entidad {index} no tiene propiedades")))?
                .clone();
            let code = text(&properties, code_key)
                .ok_or_else(|| shape(file, format!("la entidad {index} no tiene {code_key}")))?
                .to_owned();
            let geometry = feature
                .get("geometry")
                .ok_or_else(|| shape(file, format!("la entidad {code} no tiene geometría")))?;
            let boundary = multipolygon(geometry)
                .ok_or_else(|| shape(file, format!("la geometría de {code} no es un polígono")))?;
            Ok(Piece {
                code,
                properties,
                boundary,
            })
        })
        .collect()
}

/// A `Polygon` or `MultiPolygon` geometry as a multipolygon.
fn multipolygon(geometry: &Value) -> Option<MultiPolygon> {
    let coordinates = geometry.get("coordinates")?;
    match geometry.get("type")?.as_str()? {
        "Polygon" => Some(vec![polygon(coordinates)?]),
        "MultiPolygon" => coordinates.as_array()?.iter().map(polygon).collect(),
        _ => None,
    }
}

fn polygon(value: &Value) -> Option<Polygon> {
    value
        .as_array()?
        .iter()
        .map(|ring| {
            let ring: Option<Ring> = ring
                .as_array()?
                .iter()
                .map(|position| {
                    let position = position.as_array()?;
                    Some([position.first()?.as_f64()?, position.get(1)?.as_f64()?])
                })
                .collect();
            ring.filter(|ring| ring.len() >= 4)
        })
        .collect()
}

fn population_list(source: &str) -> Result<Vec<(String, u64)>, GeographyError> {
    const FILE: &str = "municipality-population.json";
    let entries: Vec<BTreeMap<String, Value>> =
        serde_json::from_str(source).map_err(|error| GeographyError::NotJson {
            file: FILE,
            detail: error.to_string(),
        })?;
    entries
        .iter()
        .enumerate()
        .map(|(index, entry)| {
            let name = entry
                .get("municipality")
                .and_then(Value::as_str)
                .ok_or_else(|| shape(FILE, format!("la entrada {index} no tiene municipality")))?;
            let population = match entry.get("population") {
                Some(Value::String(text)) => text.trim().parse::<u64>().ok(),
                Some(Value::Number(number)) => number.as_u64(),
                _ => None,
            }
            .filter(|population| *population > 0)
            .ok_or_else(|| shape(FILE, format!("la población de «{name}» no es un número")))?;
            Ok((name.trim().to_owned(), population))
        })
        .collect()
}

/// Lower case, without accents, with single spaces.
fn folded(name: &str) -> String {
    name.chars()
        .flat_map(char::to_lowercase)
        .map(|c| match c {
            'á' | 'à' | 'ä' => 'a',
            'é' | 'è' | 'ë' => 'e',
            'í' | 'ì' | 'ï' => 'i',
            'ó' | 'ò' | 'ö' => 'o',
            'ú' | 'ù' | 'ü' => 'u',
            'ñ' => 'n',
            other => other,
        })
        .collect::<String>()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

/// Whether a name of the population list names the map's `name`: the same words once folded,
/// a word of the list that ends in a full stop standing for any word it begins.
fn same_name(listed: &str, name: &str) -> bool {
    let (listed, name) = (folded(listed), folded(name));
    let (listed, name): (Vec<&str>, Vec<&str>) =
        (listed.split(' ').collect(), name.split(' ').collect());
    listed.len() == name.len()
        && listed.iter().zip(&name).all(|(word, full)| {
            word == full
                || word
                    .strip_suffix('.')
                    .is_some_and(|stem| !stem.is_empty() && full.starts_with(stem))
        })
}

/// The centre of a boundary: the area-weighted centroid of its outer rings (holes ignored:
/// they are lakes and bays, a small correction), as longitude and latitude. Good enough for
/// distances between municipalities (a plane over Cuba's few degrees); `None` for a boundary
/// without area.
pub fn centroid(boundary: &MultiPolygon) -> Option<Position> {
    let (mut area_sum, mut x_sum, mut y_sum) = (0.0, 0.0, 0.0);
    for ring in boundary.iter().filter_map(|polygon| polygon.first()) {
        for pair in ring.windows(2) {
            let ([x0, y0], [x1, y1]) = (pair[0], pair[1]);
            let cross = x0 * y1 - x1 * y0;
            area_sum += cross;
            x_sum += (x0 + x1) * cross;
            y_sum += (y0 + y1) * cross;
        }
    }
    (area_sum.abs() > f64::EPSILON).then(|| [x_sum / (3.0 * area_sum), y_sum / (3.0 * area_sum)])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_centroid_weighs_each_piece_by_its_area() {
        let square = |x: f64, y: f64, side: f64| {
            vec![vec![
                [x, y],
                [x + side, y],
                [x + side, y + side],
                [x, y + side],
                [x, y],
            ]]
        };
        let one = vec![square(-82.0, 22.0, 2.0)];
        let [x, y] = centroid(&one).expect("an area");
        assert!(
            (x + 81.0).abs() < 1e-12 && (y - 23.0).abs() < 1e-12,
            "{x} {y}"
        );
        // A second piece of a quarter of the area pulls a fifth of the way toward it.
        let two = vec![square(0.0, 0.0, 2.0), square(10.0, 0.0, 1.0)];
        let [x, _] = centroid(&two).expect("an area");
        assert!((x - (1.0 * 4.0 + 10.5) / 5.0).abs() < 1e-12, "{x}");
        assert_eq!(centroid(&Vec::new()), None);
    }

    #[test]
    fn names_match_without_case_accents_or_abbreviations() {
        assert!(same_name("Consolación del Sur", "Consolación del sur"));
        assert!(same_name("Ciénaga de Zapata", "Cienaga de Zapata"));
        assert!(same_name(
            "Carlos M. de Céspedes",
            "Carlos Manuel de Céspedes"
        ));
        assert!(same_name("Sagua la Grande", "Sagua La Grande"));
        assert!(!same_name("San Luis", "San Juan y Martínez"));
        assert!(!same_name("Carlos M. de Céspedes", "Carlos Manuel"));
        assert!(!same_name(". de Céspedes", "Carlos de Céspedes"));
    }

    fn collection(features: &str) -> String {
        format!(r#"{{"type": "FeatureCollection", "features": [{features}]}}"#)
    }

    fn square(x: f64) -> String {
        format!(r#"{{"type": "Polygon", "coordinates": [[[{x}, 0], [{x}, 1], [1, 1], [{x}, 0]]]}}"#)
    }

    #[test]
    fn pieces_join_and_same_names_follow_the_lists_order() {
        let provinces = collection(&format!(
            r#"{{"properties": {{"DPA_province_code": "21", "province": "Pinar del Río"}}, "geometry": {}}},
               {{"properties": {{"DPA_province_code": "34", "province": "Santiago de Cuba"}}, "geometry": {}}}"#,
            square(0.0),
            square(2.0)
        ));
        let municipality = |code: &str, province: &str, name: &str, x: f64| {
            format!(
                r#"{{"properties": {{"DPA_municipality_code": "{code}", "DPA_province_code": "{province}", "municipality": "{name}"}}, "geometry": {}}}"#,
                square(x)
            )
        };
        let municipalities = collection(
            &[
                municipality("34.03", "34", "San Luis", 5.0),
                municipality("21.09", "21", "San Luis", 3.0),
                municipality("21.09", "21", "San Luis", 4.0),
            ]
            .join(","),
        );
        let population = r#"[{"municipality": "San Luis", "population": "32229"},
                             {"municipality": "san luis", "population": 79700}]"#;
        let geography = Geography::from_sources(&provinces, &municipalities, population)
            .map_err(|error| error.to_string())
            .unwrap_or_else(|error| panic!("{error}"));
        let pinar = geography.municipality("21.09").expect("21.09");
        assert_eq!(pinar.population, 32_229);
        assert_eq!(pinar.boundary.len(), 2, "two pieces, one municipality");
        assert_eq!(
            geography.municipality("34.03").map(|m| m.population),
            Some(79_700)
        );
        assert_eq!(geography.province("21").map(|p| p.population), Some(32_229));
        assert_eq!(geography.population(), 111_929);
        assert!(
            geography
                .notes
                .iter()
                .any(|note| note.contains("21.09, 34.03")),
            "{:?}",
            geography.notes
        );
    }

    #[test]
    fn a_name_nobody_has_and_a_municipality_without_people_are_refused() {
        let provinces = collection(&format!(
            r#"{{"properties": {{"DPA_province_code": "21", "province": "Pinar del Río"}}, "geometry": {}}}"#,
            square(0.0)
        ));
        let municipalities = collection(&format!(
            r#"{{"properties": {{"DPA_municipality_code": "21.01", "DPA_province_code": "21", "municipality": "Sandino"}}, "geometry": {}}}"#,
            square(0.0)
        ));
        assert_eq!(
            Geography::from_sources(
                &provinces,
                &municipalities,
                r#"[{"municipality": "Atlantis", "population": "5"}]"#
            ),
            Err(GeographyError::UnknownMunicipality("Atlantis".to_owned()))
        );
        assert!(matches!(
            Geography::from_sources(&provinces, &municipalities, "[]"),
            Err(GeographyError::MissingPopulation { .. })
        ));
        assert!(matches!(
            Geography::from_sources("{", &municipalities, "[]"),
            Err(GeographyError::NotJson {
                file: "provincias.geojson",
                ..
            })
        ));
    }
}
