-- PostgreSQL form of sql/sqlite/0009_register_note.sql.
ALTER TABLE dossiers ADD COLUMN register_note TEXT;
