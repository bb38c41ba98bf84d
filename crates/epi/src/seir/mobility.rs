//! The mobility matrix: identity, gravity model or supplied, validated and stored as sparse rows.

use super::{GravityModel, GravityScaling, MAX_PATCHES, MIN_DISTANCE_KM, Mobility, Patch};
use crate::EpiError;

/// Mean Earth radius (IUGG), in km.
const EARTH_RADIUS_KM: f64 = 6_371.008_8;
/// How far a supplied row may sum from 1.
const ROW_SUM_TOLERANCE: f64 = 1e-6;

/// The dense mobility matrix `M` the model would use for these patches: `M[i][j]` is the
/// share of the contact time of the residents of `i` spent in `j`; every row sums to 1.
pub fn mobility_matrix(patches: &[Patch], mobility: &Mobility) -> Result<Vec<Vec<f64>>, EpiError> {
    super::validate_patches(patches)?;
    let rows = sparse_rows(patches, mobility)?;
    Ok(rows
        .iter()
        .map(|row| {
            let mut dense = vec![0.0; patches.len()];
            for &(j, share) in row {
                dense[j] += share;
            }
            dense
        })
        .collect())
}

/// Rows of `M` as `(j, M_ij)` with `M_ij > 0`. Callers have checked the patches.
pub(super) fn sparse_rows(
    patches: &[Patch],
    mobility: &Mobility,
) -> Result<Vec<Vec<(usize, f64)>>, EpiError> {
    match mobility {
        Mobility::None => Ok((0..patches.len()).map(|i| vec![(i, 1.0)]).collect()),
        Mobility::Matrix(matrix) => supplied(matrix, patches.len()),
        Mobility::Gravity(gravity) => gravity_rows(patches, gravity),
    }
}

fn supplied(matrix: &[Vec<f64>], patch_count: usize) -> Result<Vec<Vec<(usize, f64)>>, EpiError> {
    if matrix.len() != patch_count {
        return Err(EpiError::invalid(
            "mobility_matrix",
            format!(
                "la matriz tiene {} filas pero hay {patch_count} municipios",
                matrix.len()
            ),
        ));
    }
    matrix
        .iter()
        .enumerate()
        .map(|(i, row)| {
            if row.len() != patch_count {
                return Err(EpiError::invalid(
                    "mobility_matrix",
                    format!(
                        "la fila {} tiene {} columnas pero hay {patch_count} municipios; la \
                         matriz debe ser cuadrada",
                        i + 1,
                        row.len()
                    ),
                ));
            }
            if let Some((j, value)) = row
                .iter()
                .enumerate()
                .find(|(_, v)| !v.is_finite() || **v < 0.0)
            {
                return Err(EpiError::invalid(
                    "mobility_matrix",
                    format!(
                        "el elemento ({}, {}) vale {value}; debe ser un número no negativo",
                        i + 1,
                        j + 1
                    ),
                ));
            }
            let sum: f64 = row.iter().sum();
            if (sum - 1.0).abs() > ROW_SUM_TOLERANCE {
                return Err(EpiError::invalid(
                    "mobility_matrix",
                    format!(
                        "la fila {} suma {sum}; cada fila debe sumar 1 (±{ROW_SUM_TOLERANCE})",
                        i + 1
                    ),
                ));
            }
            Ok(row
                .iter()
                .enumerate()
                .filter(|(_, v)| **v > 0.0)
                .map(|(j, v)| (j, *v))
                .collect())
        })
        .collect()
}

fn check_range(
    name: &'static str,
    value: f64,
    low: f64,
    high: f64,
    high_inclusive: bool,
) -> Result<(), EpiError> {
    let inside = value.is_finite()
        && value >= low
        && if high_inclusive {
            value <= high
        } else {
            value < high
        };
    if inside {
        Ok(())
    } else {
        let bracket = if high_inclusive { ']' } else { ')' };
        Err(EpiError::invalid(
            name,
            format!("se dio {value}; debe estar en [{low}, {high}{bracket}"),
        ))
    }
}

fn gravity_rows(
    patches: &[Patch],
    gravity: &GravityModel,
) -> Result<Vec<Vec<(usize, f64)>>, EpiError> {
    check_range("mobile_fraction", gravity.mobile_fraction, 0.0, 1.0, false)?;
    check_range("origin_exponent", gravity.origin_exponent, 0.0, 3.0, true)?;
    check_range(
        "destination_exponent",
        gravity.destination_exponent,
        0.0,
        3.0,
        true,
    )?;
    check_range(
        "distance_exponent",
        gravity.distance_exponent,
        0.0,
        4.0,
        true,
    )?;
    if let Some(k) = gravity.max_destinations
        && !(1..=MAX_PATCHES).contains(&k)
    {
        return Err(EpiError::invalid(
            "max_destinations",
            format!("se dio {k}; debe estar entre 1 y {MAX_PATCHES}"),
        ));
    }
    let centroids = patches
        .iter()
        .map(|patch| {
            let centroid = patch.centroid.ok_or_else(|| {
                EpiError::invalid(
                    "centroid",
                    format!(
                        "«{}» no tiene centroide; el modelo de gravedad lo necesita",
                        patch.code
                    ),
                )
            })?;
            check_range("latitude_deg", centroid.latitude_deg, -90.0, 90.0, true)?;
            check_range("longitude_deg", centroid.longitude_deg, -180.0, 180.0, true)?;
            Ok(centroid)
        })
        .collect::<Result<Vec<_>, EpiError>>()?;

    // Weights of the links out of each patch, strongest kept.
    let mut weights: Vec<Vec<(usize, f64)>> = (0..patches.len())
        .map(|i| {
            let origin = (patches[i].population as f64).powf(gravity.origin_exponent);
            let mut row: Vec<(usize, f64)> = (0..patches.len())
                .filter(|&j| j != i)
                .map(|j| {
                    let distance_km = great_circle_km(
                        centroids[i].latitude_deg,
                        centroids[i].longitude_deg,
                        centroids[j].latitude_deg,
                        centroids[j].longitude_deg,
                    )
                    .max(MIN_DISTANCE_KM);
                    let destination =
                        (patches[j].population as f64).powf(gravity.destination_exponent);
                    (
                        j,
                        origin * destination / distance_km.powf(gravity.distance_exponent),
                    )
                })
                .collect();
            if let Some(k) = gravity.max_destinations
                && row.len() > k
            {
                // Ties broken by index so the result does not depend on the sort.
                row.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
                row.truncate(k);
                row.sort_by_key(|&(j, _)| j);
            }
            row
        })
        .collect();

    // Shares of time away from home, per patch.
    let fraction = gravity.mobile_fraction;
    match gravity.scaling {
        GravityScaling::SameFractionPerPatch => {
            for row in &mut weights {
                let total: f64 = row.iter().map(|(_, w)| w).sum();
                for (_, w) in row.iter_mut() {
                    *w = if total > 0.0 {
                        fraction * *w / total
                    } else {
                        0.0
                    };
                }
            }
        }
        GravityScaling::SameTotal => {
            let total_weight: f64 = weights.iter().flatten().map(|(_, w)| w).sum();
            let total_population: f64 = patches.iter().map(|p| p.population as f64).sum();
            let scale = if total_weight > 0.0 {
                fraction * total_population / total_weight
            } else {
                0.0
            };
            for (row, patch) in weights.iter_mut().zip(patches) {
                let population = patch.population as f64;
                for (_, w) in row.iter_mut() {
                    *w *= scale / population;
                }
                let away: f64 = row.iter().map(|(_, w)| w).sum();
                if away > 1.0 {
                    return Err(EpiError::invalid(
                        "mobile_fraction",
                        format!(
                            "con escala total los habitantes de «{}» pasarían el {:.0} % de su \
                             tiempo fuera; reduzca la fracción móvil o use la escala por municipio",
                            patch.code,
                            100.0 * away
                        ),
                    ));
                }
            }
        }
    }
    Ok(weights
        .into_iter()
        .enumerate()
        .map(|(i, mut row)| {
            let away: f64 = row.iter().map(|(_, w)| w).sum();
            row.retain(|&(_, w)| w > 0.0);
            let home = 1.0 - away;
            if home > 0.0 {
                let at = row.partition_point(|&(j, _)| j < i);
                row.insert(at, (i, home));
            }
            row
        })
        .collect())
}

/// The mobility matrix in the layout that multiplies fastest: dense rows when at least a third
/// of the entries are non-zero (contiguous loops vectorise; a dense 168 × 168 matrix runs
/// several times faster so), sparse rows otherwise.
#[derive(Debug)]
pub(super) enum Coupling {
    Dense { size: usize, shares: Vec<f64> },
    Sparse(Vec<Vec<(usize, f64)>>),
}

impl Coupling {
    pub(super) fn new(rows: Vec<Vec<(usize, f64)>>) -> Coupling {
        let size = rows.len();
        let non_zero: usize = rows.iter().map(Vec::len).sum();
        if non_zero.saturating_mul(3) < size.saturating_mul(size) {
            return Coupling::Sparse(rows);
        }
        let mut shares = vec![0.0; size * size];
        for (row, dense) in rows.iter().zip(shares.chunks_exact_mut(size)) {
            for &(j, share) in row {
                dense[j] += share;
            }
        }
        Coupling::Dense { size, shares }
    }

    /// `out_j = Σ_k M_kj x_k`: where the people counted by `x` spend their time.
    pub(super) fn spread(&self, x: impl Iterator<Item = f64>, out: &mut [f64]) {
        out.fill(0.0);
        match self {
            Coupling::Dense { size, shares } => {
                for (row, x) in shares.chunks_exact(*size).zip(x) {
                    if x != 0.0 {
                        for (o, m) in out.iter_mut().zip(row) {
                            *o += m * x;
                        }
                    }
                }
            }
            Coupling::Sparse(rows) => {
                for (row, x) in rows.iter().zip(x) {
                    if x != 0.0 {
                        for &(j, m) in row {
                            out[j] += m * x;
                        }
                    }
                }
            }
        }
    }

    /// `out_i = Σ_j M_ij y_j`: what the residents of each patch meet where they go.
    pub(super) fn gather(&self, y: &[f64], out: &mut [f64]) {
        match self {
            Coupling::Dense { size, shares } => {
                for (row, o) in shares.chunks_exact(*size).zip(out.iter_mut()) {
                    *o = dot(row, y);
                }
            }
            Coupling::Sparse(rows) => {
                for (row, o) in rows.iter().zip(out.iter_mut()) {
                    *o = row.iter().map(|&(j, m)| m * y[j]).sum();
                }
            }
        }
    }
}

/// Dot product with independent partial sums, so the compiler can use vector instructions.
fn dot(a: &[f64], b: &[f64]) -> f64 {
    const LANES: usize = 4;
    let (a_chunks, b_chunks) = (a.chunks_exact(LANES), b.chunks_exact(LANES));
    let tail: f64 = a_chunks
        .remainder()
        .iter()
        .zip(b_chunks.remainder())
        .map(|(x, y)| x * y)
        .sum();
    let mut partial = [0.0; LANES];
    for (x, y) in a_chunks.zip(b_chunks) {
        for ((p, x), y) in partial.iter_mut().zip(x).zip(y) {
            *p += x * y;
        }
    }
    partial.iter().sum::<f64>() + tail
}

/// Haversine distance, in km.
fn great_circle_km(lat1_deg: f64, lon1_deg: f64, lat2_deg: f64, lon2_deg: f64) -> f64 {
    let (lat1, lat2) = (lat1_deg.to_radians(), lat2_deg.to_radians());
    let half_dlat = (lat2 - lat1) / 2.0;
    let half_dlon = (lon2_deg - lon1_deg).to_radians() / 2.0;
    let h = half_dlat.sin().powi(2) + lat1.cos() * lat2.cos() * half_dlon.sin().powi(2);
    2.0 * EARTH_RADIUS_KM * h.sqrt().min(1.0).asin()
}
