-- Station side of `sohoa sync`: every document, in id order, until the district
-- server has acknowledged it. Rows are added from `documents` by each sync pass
-- (ids only grow), so a document recorded while offline is never forgotten.
CREATE TABLE outbox (
    document_id        INTEGER PRIMARY KEY REFERENCES documents (id),
    queued_at          TEXT NOT NULL,    -- when the document was recorded
    state              TEXT NOT NULL DEFAULT 'waiting' CHECK (state IN ('waiting', 'sent', 'refused')),
    attempts           INTEGER NOT NULL DEFAULT 0,
    next_try_at        TEXT,             -- not before, after a failure of this document alone
    last_error         TEXT,             -- what the operator reads
    sent_at            TEXT,
    server_document_id INTEGER
);
CREATE INDEX outbox_state ON outbox (state, document_id);

-- Small facts of the sync (the register cursor, the last pass and its error).
CREATE TABLE sync_state (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

-- Server side: which station sent a document.
CREATE TABLE uploads (
    document_id INTEGER PRIMARY KEY REFERENCES documents (id),
    station_id  INTEGER NOT NULL REFERENCES stations (id),
    received_at TEXT NOT NULL
);

-- Register rows change in numbered imports, so stations pull what changed after
-- the last (import, code) they saw.
ALTER TABLE dossiers ADD COLUMN register_seq INTEGER;
CREATE INDEX dossiers_register_seq ON dossiers (register_seq, code) WHERE register_seq IS NOT NULL;

-- Seconds Tesseract spent on a page (orientation and recognition), for /metrics.
ALTER TABLE pages ADD COLUMN ocr_seconds REAL;

-- A revoked station's token is refused from then on; its uploads stay.
ALTER TABLE stations ADD COLUMN revoked_at TEXT;

-- Watchers on several machines share the records: each recovers only its own jobs and moves.
ALTER TABLE watch_jobs ADD COLUMN host TEXT;
