-- Salud's geography: Cuba's provinces and municipalities by DPA code, with the population
-- every rate is computed over and the boundary (GeoJSON MultiPolygon coordinates) the maps
-- are drawn from. Loaded from shared/data/cuba by `ceiba salud geography`.
CREATE TABLE salud_provinces (
    code TEXT PRIMARY KEY NOT NULL,
    name TEXT NOT NULL,
    population BIGINT NOT NULL CHECK (population >= 0),
    boundary TEXT NOT NULL
);

CREATE TABLE salud_municipalities (
    code TEXT PRIMARY KEY NOT NULL,
    province_code TEXT NOT NULL REFERENCES salud_provinces (code),
    name TEXT NOT NULL,
    population BIGINT NOT NULL CHECK (population >= 0),
    boundary TEXT NOT NULL
);
CREATE INDEX salud_municipalities_by_province ON salud_municipalities (province_code, code);
