-- PostgreSQL form of sql/sqlite/0008_resumable.sql.
ALTER TABLE outbox ADD COLUMN upload_url TEXT;
ALTER TABLE outbox ADD COLUMN upload_offset BIGINT;
