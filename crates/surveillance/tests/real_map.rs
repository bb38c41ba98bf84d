//! The maps of the real division drawn at 720 px wide: every municipality outlined in few enough
//! bytes that a whole page, map and table, stays under 100 KB.

use std::path::PathBuf;

use ceiba_surveillance::map::{Frame, outline_path};
use ceiba_surveillance::{Geography, MultiPolygon};

const WIDTH_PX: u32 = 720;
const HEIGHT_PX_MAX: u32 = 360;
const MARGIN_PX: u32 = 8;
/// At 720 px a pixel is about 1.6 km of Cuba: the coast keeps its bays and cays.
const TOLERANCE_PX: f64 = 1.0;

fn data(file: &str) -> String {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/data/cuba")
        .join(file);
    std::fs::read_to_string(&path).unwrap_or_else(|error| panic!("{}: {error}", path.display()))
}

fn geography() -> Geography {
    Geography::from_sources(
        &data("provincias.geojson"),
        &data("municipios.geojson"),
        &data("municipality-population.json"),
    )
    .unwrap_or_else(|error| panic!("{error}"))
}

/// The outlines of `boundaries` fitted together into one frame.
fn outlines(boundaries: &[&MultiPolygon]) -> (Frame, Vec<String>) {
    let frame = Frame::fit(
        boundaries.iter().copied(),
        WIDTH_PX,
        HEIGHT_PX_MAX,
        MARGIN_PX,
    );
    let paths = boundaries
        .iter()
        .map(|boundary| outline_path(boundary, &frame, TOLERANCE_PX))
        .collect();
    (frame, paths)
}

fn bytes(paths: &[String]) -> usize {
    paths.iter().map(String::len).sum()
}

/// The absolute points of path data written as `M x y l dx dy … z`, ring after ring.
fn points(path: &str) -> Vec<(i64, i64)> {
    let mut points = Vec::new();
    for ring in path.split('M').filter(|ring| !ring.is_empty()) {
        let ring = ring
            .strip_suffix('z')
            .unwrap_or_else(|| panic!("a ring ends in z: {ring}"));
        let (start, steps) = ring
            .split_once('l')
            .unwrap_or_else(|| panic!("a ring has steps: {ring}"));
        let mut numbers = numbers(start).chain(numbers(steps));
        let mut at = (0, 0);
        let mut first = true;
        while let (Some(x), Some(y)) = (numbers.next(), numbers.next()) {
            at = if first { (x, y) } else { (at.0 + x, at.1 + y) };
            first = false;
            points.push(at);
        }
    }
    points
}

/// The integers of `text`, where a space or a minus sign starts each.
fn numbers(text: &str) -> impl Iterator<Item = i64> {
    text.replace('-', " -")
        .split_whitespace()
        .map(|number| number.parse().unwrap_or_else(|_| panic!("{number}")))
        .collect::<Vec<_>>()
        .into_iter()
}

/// Whether every drawn point lies in the frame, inside its margin but for rounding.
fn inside(frame: &Frame, path: &str) -> bool {
    let margin = i64::from(MARGIN_PX) - 1;
    points(path).iter().all(|&(x, y)| {
        (margin..=i64::from(frame.width_px()) - margin).contains(&x)
            && (margin..=i64::from(frame.height_px()) - margin).contains(&y)
    })
}

/// The width and height, in pixels, of the box around a boundary once projected.
fn extent_px(frame: &Frame, boundary: &MultiPolygon) -> (f64, f64) {
    let projected: Vec<_> = boundary
        .iter()
        .flatten()
        .flatten()
        .map(|&position| frame.project(position))
        .collect();
    let spread = |coordinate: fn(&(f64, f64)) -> f64| {
        let values = projected.iter().map(coordinate);
        values.clone().fold(f64::NEG_INFINITY, f64::max) - values.fold(f64::INFINITY, f64::min)
    };
    (spread(|point| point.0), spread(|point| point.1))
}

#[test]
fn all_municipalities_fit_in_45_kb_and_each_can_be_seen() {
    let geography = geography();
    let boundaries: Vec<_> = geography
        .municipalities
        .iter()
        .map(|municipality| &municipality.boundary)
        .collect();
    let (frame, paths) = outlines(&boundaries);
    assert_eq!(boundaries.len(), 169);
    assert_eq!(frame.width_px(), WIDTH_PX);
    assert!(
        frame.height_px() < HEIGHT_PX_MAX,
        "the island is more than twice as wide as tall"
    );
    let total = bytes(&paths);
    assert!(total < 45_000, "{total} bytes");
    for (municipality, path) in geography.municipalities.iter().zip(&paths) {
        assert!(
            inside(&frame, path),
            "{} leaves the frame",
            municipality.code
        );
        if path.is_empty() {
            // Only one under 2 px across may vanish; Cerro, 2.6 × 4.0 px here, must not.
            let (width_px, height_px) = extent_px(&frame, &municipality.boundary);
            assert!(
                width_px.max(height_px) < 2.0,
                "{} {} ({width_px:.1}×{height_px:.1} px) has no outline",
                municipality.code,
                municipality.name
            );
        }
    }
}

#[test]
fn the_provinces_fit_in_20_kb() {
    let geography = geography();
    let boundaries: Vec<_> = geography
        .provinces
        .iter()
        .map(|province| &province.boundary)
        .collect();
    let (frame, paths) = outlines(&boundaries);
    let total = bytes(&paths);
    assert!(total < 20_000, "{total} bytes");
    for (province, path) in geography.provinces.iter().zip(&paths) {
        assert!(!path.is_empty(), "{} has no outline", province.code);
        assert!(inside(&frame, path), "{} leaves the frame", province.code);
    }
}

#[test]
fn la_habana_alone_fits_in_25_kb_with_every_municipality() {
    let geography = geography();
    let boundaries: Vec<_> = geography
        .municipalities
        .iter()
        .filter(|municipality| municipality.province_code == "23")
        .map(|municipality| &municipality.boundary)
        .collect();
    assert_eq!(boundaries.len(), 15);
    let (frame, paths) = outlines(&boundaries);
    let total = bytes(&paths);
    assert!(total < 25_000, "{total} bytes");
    assert!(paths.iter().all(|path| !path.is_empty()));
    assert!(paths.iter().all(|path| inside(&frame, path)));
}
