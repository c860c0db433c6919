-- Flags of a register row that contradict each other (e.g. paid online but no fee): the row is
-- imported as given and the contradictions kept here, as keys joined by ',' (`register::note_of`);
-- NULL when the row has none. Reports count by the flags alone (`report_flags` is unchanged).
ALTER TABLE dossiers ADD COLUMN register_note TEXT;
