-- Reports count signed copies (issue 13): whether a dossier has a digitized
-- component (result) carrying a valid officer's signature, and whether every
-- digitized current document of it does. Kept by `refresh_dossier` (records/mod.rs)
-- with has_component and has_result; report_flags gains them as bits 9–11.
ALTER TABLE dossiers ADD COLUMN signed_component INTEGER NOT NULL DEFAULT 0;
ALTER TABLE dossiers ADD COLUMN signed_result    INTEGER NOT NULL DEFAULT 0;
ALTER TABLE dossiers ADD COLUMN all_signed       INTEGER NOT NULL DEFAULT 0;

UPDATE dossiers SET
    signed_component = EXISTS(SELECT 1 FROM documents x WHERE x.dossier_id = dossiers.id AND x.kind = 'thanh_phan'
        AND x.current = 1 AND EXISTS(SELECT 1 FROM pages p WHERE p.document_id = x.id AND p.blank = 0)
        AND EXISTS(SELECT 1 FROM signatures g WHERE g.document_id = x.id AND g.role = 'officer' AND g.state = 'signed' AND g.check_valid = 1)),
    signed_result = EXISTS(SELECT 1 FROM documents x WHERE x.dossier_id = dossiers.id AND x.kind = 'ket_qua'
        AND x.current = 1 AND EXISTS(SELECT 1 FROM pages p WHERE p.document_id = x.id AND p.blank = 0)
        AND EXISTS(SELECT 1 FROM signatures g WHERE g.document_id = x.id AND g.role = 'officer' AND g.state = 'signed' AND g.check_valid = 1)),
    all_signed = has_component = 1 AND NOT EXISTS(SELECT 1 FROM documents x WHERE x.dossier_id = dossiers.id
        AND x.current = 1 AND EXISTS(SELECT 1 FROM pages p WHERE p.document_id = x.id AND p.blank = 0)
        AND NOT EXISTS(SELECT 1 FROM signatures g WHERE g.document_id = x.id AND g.role = 'officer' AND g.state = 'signed' AND g.check_valid = 1));

DROP INDEX dossiers_report;
ALTER TABLE dossiers DROP COLUMN report_flags;
ALTER TABLE dossiers ADD COLUMN report_flags INTEGER GENERATED ALWAYS AS (
    has_component | (has_result << 1) | ((paper_result IS 1) << 2) | ((resolved_on IS NOT NULL) << 3)
    | ((full_online IS 1) << 4) | ((channel IS 'truc_tuyen') << 5) | ((has_fee IS 1) << 6)
    | ((paid_online IS 1) << 7) | ((registered_at IS NOT NULL) << 8)
    | (signed_component << 9) | (signed_result << 10) | (all_signed << 11)) VIRTUAL;
CREATE INDEX dossiers_report ON dossiers (received_on, unit_code, report_flags, procedure_code, field);

-- A signature's time-stamp (PAdES B-T, `[sign] tsa_url`): the time the
-- authority certifies, RFC 3339 UTC, and the authority's name; NULL without one.
ALTER TABLE signatures ADD COLUMN time_stamped_at TEXT;
ALTER TABLE signatures ADD COLUMN time_stamp_authority TEXT;
