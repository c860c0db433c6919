-- Stations (commune offices, workers) allowed to call `sohoa serve`: a token each, kept only as
-- its SHA-256; a station writes only the dossiers of its unit and the units under it.
CREATE TABLE stations (
    id           INTEGER PRIMARY KEY,
    name         TEXT NOT NULL UNIQUE,
    unit_code    TEXT NOT NULL,
    token_sha256 TEXT NOT NULL UNIQUE,
    created_at   TEXT NOT NULL
);
