//! Salud's charts and maps, drawn on the server as SVG put straight into the page: no script,
//! no image request, nothing the Content-Security-Policy would stop (colours are attributes,
//! never `style`). Curves are drawn with `plotters`; choropleth maps are paths made by
//! `ceiba_surveillance::map` from the stored boundaries, each a link to its area's page.
//!
//! Every chart is a few kilobytes: a day's series is one path, not one element a day.

use std::fmt::Write as _;

use ceiba_surveillance::covid19cubadata::Date;
use plotters::coord::types::{RangedCoordf64, RangedCoordu32};
use plotters::prelude::*;

/// The width and height of a chart, in pixels (it scales down with the page).
pub const CHART_WIDTH_PX: u32 = 720;
pub const CHART_HEIGHT_PX: u32 = 260;

const AXIS: RGBColor = RGBColor(0x44, 0x44, 0x44);
/// The colours of the curves, in the order [`Curve`]s are usually given.
pub const CASES_COLOUR: RGBColor = RGBColor(0x9e, 0xca, 0xe1);
pub const AVERAGE_COLOUR: RGBColor = RGBColor(0x08, 0x45, 0x94);
pub const ACTIVE_COLOUR: RGBColor = RGBColor(0xd9, 0x47, 0x01);
pub const SUPPRESSED_COLOUR: RGBColor = RGBColor(0xcc, 0xcc, 0xcc);

const MONTHS_ES: [&str; 12] = [
    "ene", "feb", "mar", "abr", "may", "jun", "jul", "ago", "sep", "oct", "nov", "dic",
];

/// `mar 2020`.
pub fn month_label(date: Date) -> String {
    let month = MONTHS_ES
        .get(usize::try_from(date.month).unwrap_or(1).saturating_sub(1))
        .copied()
        .unwrap_or("");
    format!("{month} {}", date.year)
}

/// One curve of a chart over days.
#[derive(Debug)]
pub struct Curve<'a> {
    pub values: &'a [f64],
    pub colour: RGBColor,
    /// Filled down to zero (an area), or a line.
    pub filled: bool,
}

fn y_top(values: impl Iterator<Item = f64>) -> f64 {
    let top = values.fold(0.0_f64, f64::max);
    if top <= 0.0 { 1.0 } else { top * 1.08 }
}

/// A count on an axis: `1.500`. Axis values are never negative nor beyond counts.
#[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
fn axis_count(value: &f64) -> String {
    ceiba_surveillance::count_es(value.max(0.0).round() as u64)
}

type Chart<'a, 'b> = ChartContext<'a, SVGBackend<'b>, Cartesian2d<RangedCoordu32, RangedCoordf64>>;
type Drawn<'b> = Result<(), DrawingAreaErrorKind<<SVGBackend<'b> as DrawingBackend>::ErrorType>>;

/// The frame every chart shares (axes labelled with Spanish months and counts, light
/// horizontal lines) over days `0..=x_end` and counts `0..top`, with what `draw` puts in it.
fn chart(
    first_day: Date,
    x_end: u32,
    top: f64,
    draw: impl FnOnce(&mut Chart<'_, '_>) -> Drawn<'static>,
) -> String {
    let mut svg = String::new();
    let drawn = (|| -> Result<(), Box<dyn std::error::Error + '_>> {
        let root = SVGBackend::with_string(&mut svg, (CHART_WIDTH_PX, CHART_HEIGHT_PX))
            .into_drawing_area();
        let mut chart = ChartBuilder::on(&root)
            .margin(8)
            .x_label_area_size(22)
            .y_label_area_size(52)
            .build_cartesian_2d(0..x_end.max(1), 0.0..top)?;
        let label = |index: &u32| month_label(first_day.plus_days(i64::from(*index)));
        chart
            .configure_mesh()
            .disable_x_mesh()
            .x_labels(8)
            .y_labels(5)
            .light_line_style(TRANSPARENT)
            .bold_line_style(RGBColor(0xe4, 0xe4, 0xe4))
            .axis_style(AXIS)
            .x_label_formatter(&label)
            .y_label_formatter(&axis_count)
            .label_style(("sans-serif", 12).into_font().color(&AXIS))
            .draw()?;
        draw(&mut chart).map_err(|error| error.to_string())?;
        root.present()?;
        Ok(())
    })();
    match drawn {
        Ok(()) => svg,
        Err(error) => {
            tracing::error!(%error, "a chart failed to draw");
            String::new()
        }
    }
}

/// A chart of curves over the days from `first_day` (all curves as long as the first).
/// An empty string when there is nothing to draw or drawing fails (logged).
pub fn daily_chart(first_day: Date, curves: &[Curve<'_>]) -> String {
    let days = curves.first().map_or(0, |curve| curve.values.len());
    if days == 0 {
        return String::new();
    }
    let top = y_top(curves.iter().flat_map(|curve| curve.values.iter().copied()));
    let x_end = u32::try_from(days - 1).unwrap_or(u32::MAX);
    chart(first_day, x_end, top, |chart| {
        for curve in curves {
            let points = curve
                .values
                .iter()
                .enumerate()
                .map(|(index, value)| (u32::try_from(index).unwrap_or(u32::MAX), *value));
            if curve.filled {
                chart.draw_series(AreaSeries::new(points, 0.0, curve.colour.filled()))?;
            } else {
                chart.draw_series(LineSeries::new(points, curve.colour.stroke_width(2)))?;
            }
        }
        Ok(())
    })
}

/// A curve that starts `start` days after the chart's first day.
#[derive(Debug)]
pub struct Segment<'a> {
    pub start: usize,
    pub values: &'a [f64],
    pub colour: RGBColor,
}

/// An interval drawn as a shaded band, from `start` days after the chart's first day.
#[derive(Debug)]
pub struct Band<'a> {
    pub start: usize,
    pub lower: &'a [f64],
    pub upper: &'a [f64],
    pub colour: RGBColor,
    /// 0 (invisible) to 1 (solid).
    pub opacity: f64,
}

/// A chart of `days` days of intervals (bands) and curves (segments), with a dashed
/// horizontal line at `reference` (1 on a chart of the reproduction number). Empty when there
/// is nothing to draw.
pub fn band_chart(
    first_day: Date,
    days: usize,
    bands: &[Band<'_>],
    segments: &[Segment<'_>],
    reference: Option<f64>,
) -> String {
    if days == 0 || (bands.is_empty() && segments.is_empty()) {
        return String::new();
    }
    let top = y_top(
        bands
            .iter()
            .flat_map(|band| band.upper.iter().copied())
            .chain(
                segments
                    .iter()
                    .flat_map(|segment| segment.values.iter().copied()),
            )
            .chain(reference)
            .filter(|value| value.is_finite()),
    );
    let x_end = u32::try_from(days - 1).unwrap_or(u32::MAX);
    let at = |start: usize, index: usize| u32::try_from(start + index).unwrap_or(u32::MAX);
    chart(first_day, x_end, top, |chart| {
        for band in bands {
            let mut outline: Vec<(u32, f64)> = band
                .upper
                .iter()
                .enumerate()
                .map(|(index, value)| (at(band.start, index), value.min(top)))
                .collect();
            outline.extend(
                band.lower
                    .iter()
                    .enumerate()
                    .rev()
                    .map(|(index, value)| (at(band.start, index), value.max(0.0))),
            );
            if outline.len() > 2 {
                chart.draw_series(std::iter::once(Polygon::new(
                    outline,
                    band.colour.mix(band.opacity).filled(),
                )))?;
            }
        }
        if let Some(level) = reference {
            chart.draw_series(DashedLineSeries::new(
                [(0, level), (x_end, level)],
                6,
                4,
                AXIS.stroke_width(1),
            ))?;
        }
        for segment in segments {
            chart.draw_series(LineSeries::new(
                segment
                    .values
                    .iter()
                    .enumerate()
                    .map(|(index, value)| (at(segment.start, index), *value)),
                segment.colour.stroke_width(2),
            ))?;
        }
        Ok(())
    })
}

/// One bar of a chart of periods: its first day's index and its count, `None` where the count
/// is suppressed (drawn as a grey bar to [`SUPPRESSED_HEIGHT`]).
pub type PeriodBar = (usize, Option<u64>);
/// The height of a suppressed bar: the smallest count published.
pub const SUPPRESSED_HEIGHT: u64 = ceiba_surveillance::analytics::SMALL_COUNT;

/// Bars of `period_days` days each over the days from `first_day`.
pub fn period_chart(
    first_day: Date,
    days: usize,
    period_days: usize,
    bars: &[PeriodBar],
) -> String {
    if bars.is_empty() || days == 0 {
        return String::new();
    }
    let top = y_top(
        bars.iter()
            .map(|(_, count)| count.unwrap_or(SUPPRESSED_HEIGHT) as f64),
    );
    let width = u32::try_from(period_days).unwrap_or(1);
    chart(
        first_day,
        u32::try_from(days).unwrap_or(u32::MAX),
        top,
        |chart| {
            chart.draw_series(bars.iter().filter(|(_, count)| count != &Some(0)).map(
                |(start, count)| {
                    let start = u32::try_from(*start).unwrap_or(0);
                    let (height, colour) = match count {
                        Some(count) => (*count as f64, AVERAGE_COLOUR),
                        None => (SUPPRESSED_HEIGHT as f64, SUPPRESSED_COLOUR),
                    };
                    Rectangle::new([(start, 0.0), (start + width, height)], colour.filled())
                },
            ))?;
            Ok(())
        },
    )
}

/// The mean of the 7 days ending on each day (fewer at the start).
pub fn seven_day_mean(values: &[u64]) -> Vec<f64> {
    let mut sum = 0_u64;
    values
        .iter()
        .enumerate()
        .map(|(index, value)| {
            sum += value;
            if index >= 7 {
                sum -= values[index - 7];
            }
            sum as f64 / (index + 1).min(7) as f64
        })
        .collect()
}

/// One area of a choropleth map.
#[derive(Debug)]
pub struct MapArea {
    /// Path data from `ceiba_surveillance::map::outline_path`.
    pub path: String,
    pub fill: &'static str,
    /// Its page.
    pub href: String,
    /// What a pointer over it reads: name and figure.
    pub title: String,
    /// Drawn with a heavy outline (the area the page is about).
    pub highlighted: bool,
}

/// A choropleth map of `areas` in a `width`×`height` frame.
pub fn choropleth(width: u32, height: u32, label: &str, areas: &[MapArea]) -> String {
    let mut svg = String::with_capacity(areas.iter().map(|area| area.path.len() + 120).sum());
    let _ = write!(
        svg,
        "<svg class=\"mapa\" viewBox=\"0 0 {width} {height}\" width=\"{width}\" \
         height=\"{height}\" role=\"img\" aria-label=\"{}\" xmlns=\"http://www.w3.org/2000/svg\">\
         <g stroke=\"#ffffff\" stroke-width=\"0.6\">",
        escape(label)
    );
    let mut highlighted = String::new();
    for area in areas {
        let _ = write!(
            svg,
            "<a href=\"{}\"><path d=\"{}\" fill=\"{}\"><title>{}</title></path></a>",
            escape(&area.href),
            area.path,
            area.fill,
            escape(&area.title)
        );
        if area.highlighted {
            let _ = write!(
                highlighted,
                "<path d=\"{}\" fill=\"none\" stroke=\"#111111\" stroke-width=\"2\"/>",
                area.path
            );
        }
    }
    svg.push_str("</g>");
    svg.push_str(&highlighted);
    svg.push_str("</svg>");
    svg
}

/// Text put in SVG markup: `&`, `<`, `>` and `"` escaped.
fn escape(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for character in text.chars() {
        match character {
            '&' => escaped.push_str("&amp;"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            '"' => escaped.push_str("&quot;"),
            other => escaped.push(other),
        }
    }
    escaped
}

/// The classes of 14-day incidence per 100,000 on the maps: upper bound and colour (a
/// sequential scale, light to dark), with the class for areas whose count is withheld.
pub const INCIDENCE_CLASSES: [(f64, &str); 7] = [
    (0.0, "#f7f7f7"),
    (25.0, "#fee5d9"),
    (50.0, "#fcbba1"),
    (100.0, "#fc9272"),
    (200.0, "#fb6a4a"),
    (500.0, "#de2d26"),
    (f64::INFINITY, "#a50f15"),
];
pub const WITHHELD_FILL: &str = "#d9d9e8";

/// The colour of an incidence (its class).
pub fn incidence_fill(rate: f64) -> &'static str {
    INCIDENCE_CLASSES
        .iter()
        .find(|(bound, _)| rate <= *bound)
        .map_or(INCIDENCE_CLASSES[6].1, |(_, fill)| *fill)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_daily_chart_is_small_svg_with_spanish_months() {
        let first = Date::parse("2020-03-11").expect("day");
        let counts: Vec<u64> = (0..511).map(|day| day % 97).collect();
        let values: Vec<f64> = counts.iter().map(|count| *count as f64).collect();
        let mean = seven_day_mean(&counts);
        let svg = daily_chart(
            first,
            &[
                Curve {
                    values: &values,
                    colour: CASES_COLOUR,
                    filled: true,
                },
                Curve {
                    values: &mean,
                    colour: AVERAGE_COLOUR,
                    filled: false,
                },
            ],
        );
        assert!(svg.starts_with("<svg"), "{}", &svg[..svg.len().min(80)]);
        assert!(svg.contains("mar 2020"), "Spanish month labels");
        assert!(
            !svg.contains("style="),
            "no style attributes: the CSP forbids them"
        );
        assert!(svg.len() < 20_000, "{} bytes", svg.len());
        assert_eq!(daily_chart(first, &[]), "");
    }

    #[test]
    fn suppressed_periods_are_grey_bars() {
        let first = Date::parse("2020-03-11").expect("day");
        let svg = period_chart(first, 21, 7, &[(0, Some(12)), (7, None), (14, Some(0))]);
        assert!(
            svg.contains("fill=\"#CCCCCC\""),
            "a grey bar for the withheld week"
        );
        assert!(
            svg.contains("fill=\"#084594\""),
            "a blue bar for the published one"
        );
    }

    #[test]
    fn the_mean_of_seven_days_slides() {
        assert_eq!(
            seven_day_mean(&[7, 7, 0, 0, 0, 0, 0, 14]),
            vec![7.0, 7.0, 14.0 / 3.0, 3.5, 2.8, 14.0 / 6.0, 2.0, 3.0]
        );
    }

    #[test]
    fn maps_escape_titles_and_outline_the_chosen_area() {
        let svg = choropleth(
            100,
            50,
            "Mapa",
            &[MapArea {
                path: "M0 0l10 0 0 10z".to_owned(),
                fill: incidence_fill(30.0),
                href: "/salud/provincia/23".to_owned(),
                title: "A & B <c>".to_owned(),
                highlighted: true,
            }],
        );
        assert!(svg.contains("A &amp; B &lt;c&gt;"));
        assert!(svg.contains("fill=\"#fcbba1\""));
        assert!(
            svg.contains("stroke-width=\"2\""),
            "the chosen area is outlined"
        );
        assert_eq!(incidence_fill(0.0), "#f7f7f7");
        assert_eq!(incidence_fill(10_000.0), "#a50f15");
    }
}
