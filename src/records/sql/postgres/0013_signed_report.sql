-- PostgreSQL form of sql/sqlite/0013_signed_report.sql.
ALTER TABLE dossiers ADD COLUMN signed_component BIGINT NOT NULL DEFAULT 0;
ALTER TABLE dossiers ADD COLUMN signed_result    BIGINT NOT NULL DEFAULT 0;
ALTER TABLE dossiers ADD COLUMN all_signed       BIGINT NOT NULL DEFAULT 0;

UPDATE dossiers SET
    signed_component = CASE WHEN EXISTS(SELECT 1 FROM documents x WHERE x.dossier_id = dossiers.id AND x.kind = 'thanh_phan'
        AND x.current = 1 AND EXISTS(SELECT 1 FROM pages p WHERE p.document_id = x.id AND p.blank = 0)
        AND EXISTS(SELECT 1 FROM signatures g WHERE g.document_id = x.id AND g.role = 'officer' AND g.state = 'signed' AND g.check_valid = 1))
        THEN 1 ELSE 0 END,
    signed_result = CASE WHEN EXISTS(SELECT 1 FROM documents x WHERE x.dossier_id = dossiers.id AND x.kind = 'ket_qua'
        AND x.current = 1 AND EXISTS(SELECT 1 FROM pages p WHERE p.document_id = x.id AND p.blank = 0)
        AND EXISTS(SELECT 1 FROM signatures g WHERE g.document_id = x.id AND g.role = 'officer' AND g.state = 'signed' AND g.check_valid = 1))
        THEN 1 ELSE 0 END,
    all_signed = CASE WHEN has_component = 1 AND NOT EXISTS(SELECT 1 FROM documents x WHERE x.dossier_id = dossiers.id
        AND x.current = 1 AND EXISTS(SELECT 1 FROM pages p WHERE p.document_id = x.id AND p.blank = 0)
        AND NOT EXISTS(SELECT 1 FROM signatures g WHERE g.document_id = x.id AND g.role = 'officer' AND g.state = 'signed' AND g.check_valid = 1))
        THEN 1 ELSE 0 END;

DROP INDEX dossiers_report;
ALTER TABLE dossiers DROP COLUMN report_flags;
ALTER TABLE dossiers ADD COLUMN report_flags BIGINT GENERATED ALWAYS AS (
    has_component | (has_result << 1)
    | (CASE WHEN paper_result = 1 THEN 4 ELSE 0 END)
    | (CASE WHEN resolved_on IS NOT NULL THEN 8 ELSE 0 END)
    | (CASE WHEN full_online = 1 THEN 16 ELSE 0 END)
    | (CASE WHEN channel = 'truc_tuyen' THEN 32 ELSE 0 END)
    | (CASE WHEN has_fee = 1 THEN 64 ELSE 0 END)
    | (CASE WHEN paid_online = 1 THEN 128 ELSE 0 END)
    | (CASE WHEN registered_at IS NOT NULL THEN 256 ELSE 0 END)
    | (signed_component << 9) | (signed_result << 10) | (all_signed << 11)) STORED;
CREATE INDEX dossiers_report ON dossiers (received_on, unit_code, report_flags, procedure_code, field);

-- A signature's time-stamp (PAdES B-T, `[sign] tsa_url`): the time the
-- authority certifies, RFC 3339 UTC, and the authority's name; NULL without one.
ALTER TABLE signatures ADD COLUMN time_stamped_at TEXT;
ALTER TABLE signatures ADD COLUMN time_stamp_authority TEXT;
