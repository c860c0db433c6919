-- The receipt register (sổ theo dõi hồ sơ) imported from one-stop systems, on
-- the dossier rows; NULL = not known (a dossier seen only through its scans).
ALTER TABLE dossiers ADD COLUMN procedure_code TEXT;
ALTER TABLE dossiers ADD COLUMN procedure_name TEXT;
ALTER TABLE dossiers ADD COLUMN field          TEXT;
ALTER TABLE dossiers ADD COLUMN channel        TEXT;    -- truc_tiep | truc_tuyen | buu_chinh
ALTER TABLE dossiers ADD COLUMN full_online    INTEGER; -- procedure eligible for full online service
ALTER TABLE dossiers ADD COLUMN has_fee        INTEGER;
ALTER TABLE dossiers ADD COLUMN paid_online    INTEGER;
ALTER TABLE dossiers ADD COLUMN due_on         TEXT;
ALTER TABLE dossiers ADD COLUMN resolved_on    TEXT;    -- result returned: the dossier is resolved
ALTER TABLE dossiers ADD COLUMN paper_result   INTEGER; -- the procedure returns a paper result
ALTER TABLE dossiers ADD COLUMN registered_at  TEXT;    -- last register import that changed the row
-- Kept by insert_document, so reports over millions of dossiers read one table.
ALTER TABLE dossiers ADD COLUMN has_component  INTEGER NOT NULL DEFAULT 0;
ALTER TABLE dossiers ADD COLUMN has_result     INTEGER NOT NULL DEFAULT 0;

UPDATE dossiers SET
    has_component = EXISTS(SELECT 1 FROM documents x WHERE x.dossier_id = dossiers.id AND x.kind = 'thanh_phan' AND x.current = 1),
    has_result    = EXISTS(SELECT 1 FROM documents x WHERE x.dossier_id = dossiers.id AND x.kind = 'ket_qua' AND x.current = 1);

-- A dossier's facts for reports as bits (read by `Counts::add` in records/register.rs). Virtual, so
-- it is always right; stored in the index below, so a report reads one narrow index and no table row.
ALTER TABLE dossiers ADD COLUMN report_flags INTEGER GENERATED ALWAYS AS (
    has_component | (has_result << 1) | ((paper_result IS 1) << 2) | ((resolved_on IS NOT NULL) << 3)
    | ((full_online IS 1) << 4) | ((channel IS 'truc_tuyen') << 5) | ((has_fee IS 1) << 6)
    | ((paid_online IS 1) << 7) | ((registered_at IS NOT NULL) << 8)) VIRTUAL;
CREATE INDEX dossiers_report ON dossiers (received_on, unit_code, report_flags, procedure_code, field);

-- Procedure names as the register gives them, for report lines by procedure.
CREATE TABLE procedures (
    code  TEXT PRIMARY KEY,
    name  TEXT,
    field TEXT
);

-- The unit tree reports roll up on; replaced whole by `sohoa units import`.
CREATE TABLE units (
    id         INTEGER PRIMARY KEY,
    code       TEXT NOT NULL,
    name       TEXT NOT NULL,
    level      TEXT NOT NULL CHECK (level IN ('tinh', 'huyen', 'xa')),
    parent     TEXT,
    valid_from TEXT,
    valid_to   TEXT
);
