-- Watch mode (`sohoa watch`): one row per dossier folder taken from an inbox.
CREATE TABLE watch_jobs (
    id           INTEGER PRIMARY KEY,
    inbox        TEXT NOT NULL,
    folder       TEXT NOT NULL,   -- the dossier folder's name in the inbox (NFC)
    dossier_code TEXT NOT NULL,
    state        TEXT NOT NULL CHECK (state IN ('in_progress', 'done', 'failed', 'interrupted')),
    files        INTEGER NOT NULL DEFAULT 0, -- input files moved to processed/
    documents    INTEGER NOT NULL DEFAULT 0, -- documents archived by this job
    failed_files INTEGER NOT NULL DEFAULT 0, -- input files moved to failed/
    started_at   TEXT NOT NULL,
    finished_at  TEXT,
    finished_on  TEXT             -- local date (YYYY-MM-DD), for "done today"
);
CREATE INDEX watch_jobs_inbox ON watch_jobs (inbox, state, finished_on);

-- The moves of input files a job decided on, written in one transaction before the
-- first is made and deleted as each completes: a crash midway is finished at the
-- next start, before the inbox is looked at again (write-ahead).
CREATE TABLE watch_moves (
    id     INTEGER PRIMARY KEY,
    job_id INTEGER NOT NULL REFERENCES watch_jobs (id),
    src    TEXT NOT NULL,
    dst    TEXT NOT NULL,
    note   TEXT                   -- for failed files: the .loi.txt written beside dst
);

-- The inboxes the running (or last) watcher serves, for `sohoa status`.
CREATE TABLE watch_inboxes (
    path         TEXT PRIMARY KEY,
    mode         TEXT NOT NULL CHECK (mode IN ('events', 'polling')),
    settle_secs  REAL NOT NULL,
    last_scan_at TEXT
);
