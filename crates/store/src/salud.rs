//! Salud's tables: the geography every count and rate stands on.

use sqlx::Row;
use sqlx::any::AnyRow;

use crate::db::Db;
use crate::error::StoreError;
use crate::payments::{to_i64, to_u64};

/// A province or municipality as stored (the boundary as GeoJSON coordinates text).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AreaRow {
    pub code: String,
    /// For a municipality, its province; for a province, itself.
    pub province_code: String,
    pub name: String,
    pub population: u64,
    pub boundary: String,
}

/// What loading the geography changed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct GeographyLoad {
    pub provinces_changed: u64,
    pub municipalities_changed: u64,
}

fn area_row(row: &AnyRow) -> Result<AreaRow, StoreError> {
    Ok(AreaRow {
        code: row.try_get("code")?,
        province_code: row.try_get("province_code")?,
        name: row.try_get("name")?,
        population: to_u64(row.try_get("population")?, "población")?,
        boundary: row.try_get("boundary")?,
    })
}

impl Db {
    /// Writes provinces and municipalities in one transaction: new ones are added, changed ones
    /// updated, the same ones left alone (loading twice changes nothing).
    pub async fn load_geography(
        &self,
        provinces: &[AreaRow],
        municipalities: &[AreaRow],
    ) -> Result<GeographyLoad, StoreError> {
        let (_turn, mut transaction) = self.begin_write().await?;
        let mut load = GeographyLoad::default();
        for province in provinces {
            load.provinces_changed += sqlx::query(
                "INSERT INTO salud_provinces (code, name, population, boundary) \
                 VALUES ($1, $2, $3, $4) ON CONFLICT (code) DO UPDATE \
                 SET name = excluded.name, population = excluded.population, \
                 boundary = excluded.boundary \
                 WHERE salud_provinces.name <> excluded.name \
                 OR salud_provinces.population <> excluded.population \
                 OR salud_provinces.boundary <> excluded.boundary",
            )
            .bind(&province.code)
            .bind(&province.name)
            .bind(to_i64(province.population, "población")?)
            .bind(&province.boundary)
            .execute(&mut *transaction)
            .await?
            .rows_affected();
        }
        for municipality in municipalities {
            load.municipalities_changed += sqlx::query(
                "INSERT INTO salud_municipalities (code, province_code, name, population, \
                 boundary) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (code) DO UPDATE \
                 SET province_code = excluded.province_code, name = excluded.name, \
                 population = excluded.population, boundary = excluded.boundary \
                 WHERE salud_municipalities.province_code <> excluded.province_code \
                 OR salud_municipalities.name <> excluded.name \
                 OR salud_municipalities.population <> excluded.population \
                 OR salud_municipalities.boundary <> excluded.boundary",
            )
            .bind(&municipality.code)
            .bind(&municipality.province_code)
            .bind(&municipality.name)
            .bind(to_i64(municipality.population, "población")?)
            .bind(&municipality.boundary)
            .execute(&mut *transaction)
            .await?
            .rows_affected();
        }
        transaction.commit().await?;
        Ok(load)
    }

    /// The provinces, in code order.
    pub async fn salud_provinces(&self) -> Result<Vec<AreaRow>, StoreError> {
        let rows = sqlx::query(
            "SELECT code, code AS province_code, name, population, boundary \
             FROM salud_provinces ORDER BY code",
        )
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(area_row).collect()
    }

    /// The municipalities, in code order.
    pub async fn salud_municipalities(&self) -> Result<Vec<AreaRow>, StoreError> {
        let rows = sqlx::query(
            "SELECT code, province_code, name, population, boundary \
             FROM salud_municipalities ORDER BY code",
        )
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(area_row).collect()
    }
}
