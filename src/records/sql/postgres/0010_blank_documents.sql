-- A document whose every page is blank is archived but is no digitized copy
-- (`rules::counts_as_digitized`): the flags reports count by say so from now on.
UPDATE dossiers SET
    has_component = CASE WHEN EXISTS(SELECT 1 FROM documents x JOIN pages p ON p.document_id = x.id
        WHERE x.dossier_id = dossiers.id AND x.kind = 'thanh_phan' AND x.current = 1 AND p.blank = 0) THEN 1 ELSE 0 END,
    has_result    = CASE WHEN EXISTS(SELECT 1 FROM documents x JOIN pages p ON p.document_id = x.id
        WHERE x.dossier_id = dossiers.id AND x.kind = 'ket_qua' AND x.current = 1 AND p.blank = 0) THEN 1 ELSE 0 END;
