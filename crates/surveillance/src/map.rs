//! The geometry of a choropleth map drawn as SVG: a [`Frame`] that fits longitude and latitude
//! into a pixel box, and [`outline_path`], the `d` attribute of one area's boundary, simplified
//! so that a whole page of 169 municipalities stays small (tens of kilobytes, not the megabyte
//! of the GeoJSON).
//!
//! The projection is equirectangular: fine for a country the size of Cuba, where the scale of a
//! degree of longitude changes by a few per cent from south to north. Positions are assumed
//! finite: a position with a NaN or infinite coordinate is left out of the fit and out of the
//! path, never a panic.

use std::fmt::Write as _;

use crate::geography::{MultiPolygon, Position, Ring};

/// Fits lon/lat into a width×height pixel box: equirectangular, x scaled by the cosine of the
/// middle latitude, y down, keeping the aspect ratio, centred, with a margin.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Frame {
    width_px: u32,
    height_px: u32,
    /// The middle of the fitted box, drawn at the middle of the frame.
    middle: Position,
    /// Pixels per degree of longitude (already scaled by the cosine of the middle latitude).
    x_px_per_degree: f64,
    /// Pixels per degree of latitude; y grows downwards, so north is up.
    y_px_per_degree: f64,
}

impl Frame {
    /// The frame `width_px` wide that shows every position of `boundaries`, `margin_px` from
    /// each edge. Its height follows the boundaries' aspect ratio and never exceeds
    /// `height_px_max`; where that is the tighter bound, the map is narrower than the frame and
    /// centred in it.
    ///
    /// Degenerate input gives a frame that still projects: with no (finite) position at all,
    /// the frame is `width_px × height_px_max` and everything projects to its centre; with a
    /// single point, or a box smaller than its margins, the same centre.
    pub fn fit<'a>(
        boundaries: impl IntoIterator<Item = &'a MultiPolygon>,
        width_px: u32,
        height_px_max: u32,
        margin_px: u32,
    ) -> Frame {
        let Some([[lon_min, lat_min], [lon_max, lat_max]]) = bounds(
            boundaries
                .into_iter()
                .flatten()
                .flatten()
                .flatten()
                .copied(),
        ) else {
            return Frame {
                width_px,
                height_px: height_px_max,
                middle: [0.0, 0.0],
                x_px_per_degree: 0.0,
                y_px_per_degree: 0.0,
            };
        };
        let middle = [(lon_min + lon_max) / 2.0, (lat_min + lat_max) / 2.0];
        let lon_scale = middle[1].to_radians().cos();
        let width_degrees = (lon_max - lon_min) * lon_scale;
        let height_degrees = lat_max - lat_min;
        let margins_px = 2.0 * f64::from(margin_px);
        let inner_width_px = (f64::from(width_px) - margins_px).max(0.0);
        let inner_height_px_max = (f64::from(height_px_max) - margins_px).max(0.0);
        // A zero extent does not bound the scale; two zero extents (one point) leave it at 0.
        let bound = |inner_px: f64, degrees: f64| {
            if degrees > 0.0 {
                inner_px / degrees
            } else {
                f64::INFINITY
            }
        };
        let px_per_degree =
            bound(inner_width_px, width_degrees).min(bound(inner_height_px_max, height_degrees));
        let px_per_degree = if px_per_degree.is_finite() {
            px_per_degree
        } else {
            0.0
        };
        let height_px = whole_px(
            (height_degrees * px_per_degree + margins_px)
                .ceil()
                .min(f64::from(height_px_max)),
        );
        Frame {
            width_px,
            height_px,
            middle,
            x_px_per_degree: px_per_degree * lon_scale,
            y_px_per_degree: px_per_degree,
        }
    }

    pub fn width_px(&self) -> u32 {
        self.width_px
    }

    pub fn height_px(&self) -> u32 {
        self.height_px
    }

    /// The pixel `(x, y)` of a position, from the top left corner of the frame.
    pub fn project(&self, position: Position) -> (f64, f64) {
        let [lon, lat] = position;
        (
            f64::from(self.width_px) / 2.0 + (lon - self.middle[0]) * self.x_px_per_degree,
            f64::from(self.height_px) / 2.0 - (lat - self.middle[1]) * self.y_px_per_degree,
        )
    }
}

/// The south-west and north-east corners of the finite positions, if there is one.
fn bounds(positions: impl Iterator<Item = Position>) -> Option<[Position; 2]> {
    positions
        .filter(|position| position.iter().all(|coordinate| coordinate.is_finite()))
        .fold(None, |bounds, [lon, lat]| {
            let [[lon_min, lat_min], [lon_max, lat_max]] = bounds.unwrap_or([[lon, lat]; 2]);
            Some([
                [lon_min.min(lon), lat_min.min(lat)],
                [lon_max.max(lon), lat_max.max(lat)],
            ])
        })
}

/// A count of pixels between 0 and `u32::MAX`, from a whole number in that range.
#[expect(
    clippy::cast_possible_truncation,
    clippy::cast_sign_loss,
    reason = "the callers pass whole numbers between 0 and a u32; `as` saturates anything else"
)]
fn whole_px(value: f64) -> u32 {
    value as u32
}

/// A point snapped to whole pixels.
type Pixel = [i64; 2];

/// Rings whose area, once snapped and simplified, is under this are too small to see.
const AREA_PX2_MIN: i64 = 1;

/// SVG path data (the `d` attribute) for one boundary.
///
/// Each ring is projected through `frame`, snapped to whole pixels and simplified with
/// Douglas–Peucker at `tolerance_px`. A ring that simplifying would flatten keeps its snapped
/// corners; one that even so has fewer than 3 distinct points or under 1 px² of area is too
/// small to see and is dropped, and a polygon whose outer ring is dropped goes with its holes.
/// Outer rings are written counter-clockwise as seen and holes clockwise, so the path fills the
/// same under SVG's `nonzero` and `evenodd` rules.
///
/// The text is compact: each ring is its first point, absolute, then relative steps, then `z`,
/// with no space that a sign already separates: `M12 30l3-1 2 0z`. An empty boundary, or one
/// too small to see, gives the empty string.
pub fn outline_path(boundary: &MultiPolygon, frame: &Frame, tolerance_px: f64) -> String {
    let mut path = String::new();
    for polygon in boundary {
        let mut rings = polygon.iter();
        let Some(outer) = rings
            .next()
            .and_then(|ring| pixel_ring(ring, frame, tolerance_px))
        else {
            continue;
        };
        write_ring(&mut path, &oriented(outer, Orientation::Outer));
        for hole in rings.filter_map(|ring| pixel_ring(ring, frame, tolerance_px)) {
            write_ring(&mut path, &oriented(hole, Orientation::Hole));
        }
    }
    path
}

/// A ring in pixels, open (its first point not repeated at the end), simplified; `None` where
/// it is too small to see.
fn pixel_ring(ring: &Ring, frame: &Frame, tolerance_px: f64) -> Option<Vec<Pixel>> {
    let mut pixels: Vec<Pixel> = Vec::with_capacity(ring.len());
    for &position in ring {
        let (x, y) = frame.project(position);
        if !(x.is_finite() && y.is_finite()) {
            continue;
        }
        let pixel = [snap(x), snap(y)];
        if pixels.last() != Some(&pixel) {
            pixels.push(pixel);
        }
    }
    while pixels.len() > 1 && pixels.first() == pixels.last() {
        pixels.pop();
    }
    // Douglas–Peucker can flatten a ring of a few pixels (a small municipality at country
    // scale) that covers a pixel once snapped: such a ring keeps its corners instead.
    [tolerance_px, 0.0]
        .into_iter()
        .map(|tolerance_px| simplified(&pixels, tolerance_px))
        .find(|ring| visible(ring))
}

/// Whether a ring has the 3 distinct points and the area to be seen.
fn visible(ring: &[Pixel]) -> bool {
    ring.len() >= 3 && twice_signed_area(ring).abs() >= 2 * AREA_PX2_MIN
}

/// How far from the frame a point may be drawn: one farther (a boundary far outside the fitted
/// ones) is pinned there, so that the integer arithmetic on pixels cannot overflow.
const PX_FAR: f64 = 1e6;

/// The nearest whole pixel.
#[expect(
    clippy::cast_possible_truncation,
    reason = "rounded and clamped to ±PX_FAR first"
)]
fn snap(px: f64) -> i64 {
    px.round().clamp(-PX_FAR, PX_FAR) as i64
}

/// Douglas–Peucker on a closed ring given open: the points that lie farther than
/// `tolerance_px` from the simplified outline are kept, the first point always.
fn simplified(ring: &[Pixel], tolerance_px: f64) -> Vec<Pixel> {
    let count = ring.len();
    if count < 3 {
        return ring.to_vec();
    }
    // The ring as a polyline from its first point back to it (index `count`); an explicit
    // stack, because a coastline of thousands of points could recurse that deep.
    let point = |index: usize| ring[index % count];
    let mut kept = vec![false; count + 1];
    kept[0] = true;
    kept[count] = true;
    let mut spans = vec![(0, count)];
    while let Some((start, end)) = spans.pop() {
        let farthest = (start + 1..end)
            .map(|index| (index, distance_px(point(index), point(start), point(end))))
            .max_by(|(_, a), (_, b)| a.total_cmp(b));
        if let Some((index, distance)) = farthest
            && distance > tolerance_px
        {
            kept[index] = true;
            spans.push((start, index));
            spans.push((index, end));
        }
    }
    ring.iter()
        .zip(kept)
        .filter_map(|(&pixel, kept)| kept.then_some(pixel))
        .collect()
}

/// The distance from `point` to the segment from `start` to `end`.
#[expect(
    clippy::cast_precision_loss,
    reason = "pixel coordinates are far below 2^52"
)]
fn distance_px(point: Pixel, start: Pixel, end: Pixel) -> f64 {
    let [px, py] = point.map(|c| c as f64);
    let [sx, sy] = start.map(|c| c as f64);
    let [ex, ey] = end.map(|c| c as f64);
    let (dx, dy) = (ex - sx, ey - sy);
    let length_squared = dx * dx + dy * dy;
    let along = if length_squared > 0.0 {
        (((px - sx) * dx + (py - sy) * dy) / length_squared).clamp(0.0, 1.0)
    } else {
        0.0
    };
    (px - (sx + along * dx)).hypot(py - (sy + along * dy))
}

/// Twice the signed area (shoelace); positive for a ring clockwise as seen, y being down.
fn twice_signed_area(ring: &[Pixel]) -> i64 {
    ring.iter()
        .zip(ring.iter().cycle().skip(1))
        .map(|([x0, y0], [x1, y1])| x0 * y1 - x1 * y0)
        .sum()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Orientation {
    /// Counter-clockwise as seen, as RFC 7946 writes outer rings.
    Outer,
    /// Clockwise as seen.
    Hole,
}

/// The ring turned, if need be, to `orientation`, from the same first point.
fn oriented(mut ring: Vec<Pixel>, orientation: Orientation) -> Vec<Pixel> {
    let clockwise = twice_signed_area(&ring) > 0;
    if clockwise != (orientation == Orientation::Hole) {
        ring[1..].reverse();
    }
    ring
}

/// `M x y`, then `l dx dy …`, then `z`.
fn write_ring(path: &mut String, ring: &[Pixel]) {
    let Some((&[x, y], rest)) = ring.split_first() else {
        return;
    };
    path.push('M');
    write_number(path, x, false);
    write_number(path, y, true);
    path.push('l');
    let mut previous = [x, y];
    for (index, &[x, y]) in rest.iter().enumerate() {
        write_number(path, x - previous[0], index > 0);
        write_number(path, y - previous[1], true);
        previous = [x, y];
    }
    path.push('z');
}

/// A number, with a space before it only where it follows another and has no sign.
fn write_number(path: &mut String, number: i64, follows_number: bool) {
    if follows_number && number >= 0 {
        path.push(' ');
    }
    write!(path, "{number}").expect("writing to a String cannot fail");
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A frame where a position `[x, y]` is the pixel `(x, y)`.
    fn pixels() -> Frame {
        Frame {
            width_px: 0,
            height_px: 0,
            middle: [0.0, 0.0],
            x_px_per_degree: 1.0,
            y_px_per_degree: -1.0,
        }
    }

    fn ring(points: &[(i32, i32)]) -> Ring {
        let mut ring: Ring = points
            .iter()
            .map(|&(x, y)| [f64::from(x), f64::from(y)])
            .collect();
        ring.push(ring[0]);
        ring
    }

    fn all_projected(boundary: &MultiPolygon, frame: &Frame) -> Vec<(f64, f64)> {
        boundary
            .iter()
            .flatten()
            .flatten()
            .map(|&position| frame.project(position))
            .collect()
    }

    #[test]
    fn the_projection_keeps_the_aspect_ratio_and_the_margin() {
        // One degree of latitude by two of longitude at 60° N, where a degree of longitude is
        // half as long: a square.
        let square: MultiPolygon = vec![vec![vec![
            [0.0, 59.5],
            [2.0, 59.5],
            [2.0, 60.5],
            [0.0, 60.5],
            [0.0, 59.5],
        ]]];
        let frame = Frame::fit([&square], 200, 100, 10);
        assert_eq!((frame.width_px(), frame.height_px()), (200, 100));
        let projected = all_projected(&square, &frame);
        let [x_min, x_max, y_min, y_max] = extent(&projected);
        assert!(
            ((x_max - x_min) - (y_max - y_min)).abs() < 0.01,
            "{projected:?}"
        );
        // Height bound: the margin top and bottom, centred left to right.
        assert!((y_min - 10.0).abs() < 1e-9 && (y_max - 90.0).abs() < 1e-9);
        assert!(((x_min + x_max) / 2.0 - 100.0).abs() < 1e-9);

        // Four times wider than tall at the equator: width bound, and the height shrinks.
        let strip: MultiPolygon = vec![vec![vec![
            [-2.0, -0.5],
            [2.0, -0.5],
            [2.0, 0.5],
            [-2.0, 0.5],
            [-2.0, -0.5],
        ]]];
        let frame = Frame::fit([&strip], 200, 100, 10);
        assert_eq!((frame.width_px(), frame.height_px()), (200, 65));
        let [x_min, x_max, y_min, y_max] = extent(&all_projected(&strip, &frame));
        assert!((x_min - 10.0).abs() < 1e-9 && (x_max - 190.0).abs() < 1e-9);
        assert!(y_min >= 10.0 && y_max <= 55.0);
        assert!(((x_max - x_min) / (y_max - y_min) - 4.0).abs() < 1e-9);
        assert!((frame.project([0.0, 0.0]).1 - 32.5).abs() < 1e-9);
    }

    fn extent(points: &[(f64, f64)]) -> [f64; 4] {
        points.iter().fold(
            [
                f64::INFINITY,
                f64::NEG_INFINITY,
                f64::INFINITY,
                f64::NEG_INFINITY,
            ],
            |[x_min, x_max, y_min, y_max], &(x, y)| {
                [x_min.min(x), x_max.max(x), y_min.min(y), y_max.max(y)]
            },
        )
    }

    #[test]
    fn degenerate_input_projects_somewhere_and_never_panics() {
        let frame = Frame::fit([], 300, 200, 10);
        assert_eq!((frame.width_px(), frame.height_px()), (300, 200));
        assert_eq!(frame.project([-80.0, 22.0]), (150.0, 100.0));

        let point: MultiPolygon = vec![vec![vec![[-80.0, 22.0]]]];
        let frame = Frame::fit([&point], 300, 200, 10);
        assert_eq!(frame.project([-75.0, 20.0]), (150.0, 10.0));
        assert_eq!(outline_path(&point, &frame, 1.0), "");

        // Far outside a frame fitted to a few metres: pinned a million pixels out.
        let small: MultiPolygon = vec![vec![vec![[0.0, 0.0], [0.001, 0.001]]]];
        let frame = Frame::fit([&small], 300, 200, 10);
        let far: MultiPolygon = vec![vec![vec![[1e300, 0.0], [0.0, 1e300], [-1e300, 0.0]]]];
        assert_eq!(
            outline_path(&far, &frame, 1.0),
            "M1000000 190l-999940-1000190-1000060 1000190z"
        );

        let nan: MultiPolygon = vec![vec![vec![[f64::NAN, 22.0], [f64::INFINITY, 0.0]]]];
        let frame = Frame::fit([&nan], 300, 200, 10);
        assert_eq!(frame.height_px(), 200);
        assert_eq!(outline_path(&nan, &frame, 1.0), "");
    }

    #[test]
    fn a_square_is_written_compactly() {
        let square: MultiPolygon = vec![vec![vec![
            [0.0, 0.0],
            [1.0, 0.0],
            [1.0, 1.0],
            [0.0, 1.0],
            [0.0, 0.0],
        ]]];
        let frame = Frame::fit([&square], 100, 100, 10);
        assert_eq!(outline_path(&square, &frame, 1.0), "M10 90l80 0 0-80-80 0z");
        assert_eq!(outline_path(&Vec::new(), &frame, 1.0), "");
    }

    #[test]
    fn a_zig_zag_within_the_tolerance_is_a_straight_line() {
        // The top edge zig-zags by one pixel.
        let zig_zag: MultiPolygon = vec![vec![ring(&[
            (0, 0),
            (0, 20),
            (40, 20),
            (40, 0),
            (30, 1),
            (20, 0),
            (10, 1),
        ])]];
        assert_eq!(
            outline_path(&zig_zag, &pixels(), 1.0),
            "M0 0l0 20 40 0 0-20z"
        );
        assert_eq!(
            outline_path(&zig_zag, &pixels(), 0.5),
            "M0 0l0 20 40 0 0-20-10 1-10-1-10 1z"
        );
    }

    #[test]
    fn rings_too_small_to_see_are_dropped() {
        let outline: MultiPolygon = vec![
            vec![ring(&[(0, 0), (0, 10), (10, 10), (10, 0)])],
            // Half a pixel of area.
            vec![ring(&[(20, 0), (21, 0), (21, 1)])],
            // All in one pixel once snapped.
            vec![vec![[30.1, 0.1], [30.3, 0.2], [29.8, 0.4], [30.1, 0.1]]],
            // A sliver: 3 distinct points on one line, its hole goes with it.
            vec![
                ring(&[(40, 0), (50, 0), (60, 0)]),
                ring(&[(45, 0), (55, 0), (50, 1)]),
            ],
        ];
        assert_eq!(
            outline_path(&outline, &pixels(), 0.0),
            "M0 0l0 10 10 0 0-10z"
        );
        assert_eq!(outline_path(&outline[1..].to_vec(), &pixels(), 0.0), "");
    }

    #[test]
    fn a_small_ring_that_simplifying_would_flatten_keeps_its_corners() {
        // At 1 px, Douglas–Peucker keeps only the diagonal of this 2 × 1 rectangle.
        let small: MultiPolygon = vec![vec![ring(&[(0, 0), (2, 0), (2, 1), (0, 1)])]];
        assert_eq!(outline_path(&small, &pixels(), 1.0), "M0 0l0 1 2 0 0-1z");
    }

    #[test]
    fn holes_are_kept_and_turned_against_their_outer_ring() {
        // Both rings given clockwise as seen: the outer ring is turned, the hole is not.
        let with_hole: MultiPolygon = vec![vec![
            ring(&[(0, 0), (20, 0), (20, 20), (0, 20)]),
            ring(&[(5, 5), (15, 5), (15, 15), (5, 15)]),
        ]];
        assert_eq!(
            outline_path(&with_hole, &pixels(), 1.0),
            "M0 0l0 20 20 0 0-20zM5 5l10 0 0 10-10 0z"
        );
    }
}
