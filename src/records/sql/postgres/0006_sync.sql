-- PostgreSQL form of sql/sqlite/0006_sync.sql.
CREATE TABLE outbox (
    document_id        BIGINT PRIMARY KEY REFERENCES documents (id),
    queued_at          TEXT NOT NULL,
    state              TEXT NOT NULL DEFAULT 'waiting' CHECK (state IN ('waiting', 'sent', 'refused')),
    attempts           BIGINT NOT NULL DEFAULT 0,
    next_try_at        TEXT,
    last_error         TEXT,
    sent_at            TEXT,
    server_document_id BIGINT
);
CREATE INDEX outbox_state ON outbox (state, document_id);

CREATE TABLE sync_state (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

CREATE TABLE uploads (
    document_id BIGINT PRIMARY KEY REFERENCES documents (id),
    station_id  BIGINT NOT NULL REFERENCES stations (id),
    received_at TEXT NOT NULL
);

ALTER TABLE dossiers ADD COLUMN register_seq BIGINT;
CREATE INDEX dossiers_register_seq ON dossiers (register_seq, code) WHERE register_seq IS NOT NULL;

ALTER TABLE pages ADD COLUMN ocr_seconds DOUBLE PRECISION;

-- A revoked station's token is refused from then on; its uploads stay.
ALTER TABLE stations ADD COLUMN revoked_at TEXT;

-- Watchers on several machines share the records: each recovers only its own jobs and moves.
ALTER TABLE watch_jobs ADD COLUMN host TEXT;
