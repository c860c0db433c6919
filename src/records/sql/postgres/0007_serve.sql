-- A token may read the server's own figures (/metrics) only with this scope.
ALTER TABLE stations ADD COLUMN monitor BIGINT NOT NULL DEFAULT 0;
-- One archive file per document, whatever a client sends.
CREATE UNIQUE INDEX documents_archive_path ON documents (archive_path);
