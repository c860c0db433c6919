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

-- Every column a report reads, so a period is answered from the index alone.
CREATE INDEX dossiers_report ON dossiers (received_on, unit_code, has_component, has_result, paper_result,
    resolved_on, channel, full_online, has_fee, paid_online, procedure_code, field);

-- The unit tree reports roll up on; replaced whole by `sohoa units import`.
CREATE TABLE units (
    code       TEXT NOT NULL,
    name       TEXT NOT NULL,
    level      TEXT NOT NULL CHECK (level IN ('tinh', 'huyen', 'xa')),
    parent     TEXT,
    valid_from TEXT,
    valid_to   TEXT
);
