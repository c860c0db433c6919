-- Several `sohoa batch` workers sharing one database and archive: each dossier folder is a
-- queue item, claimed with a lease that its worker renews (heartbeat) while it works; an item
-- whose lease ran out (its worker died) is claimed again. `fingerprint` (names, sizes and times
-- of the folder's files) makes a changed folder a new item.
CREATE TABLE work_queue (
    id          INTEGER PRIMARY KEY,
    inbox       TEXT NOT NULL,
    folder      TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    state       TEXT NOT NULL CHECK (state IN ('queued', 'claimed', 'done', 'failed')),
    worker      TEXT,
    lease_until INTEGER,             -- Unix seconds
    attempts    INTEGER NOT NULL DEFAULT 0,
    finished_at TEXT,
    UNIQUE (inbox, folder, fingerprint)
);
CREATE INDEX work_queue_state ON work_queue (state, lease_until);
