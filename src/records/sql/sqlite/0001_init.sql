-- Dossiers (hồ sơ), created on first sight from their code.
CREATE TABLE dossiers (
    id            INTEGER PRIMARY KEY,
    code          TEXT NOT NULL UNIQUE,
    unit_code     TEXT NOT NULL,
    received_on   TEXT,             -- YYYY-MM-DD from the code; NULL for opaque codes
    standard_code INTEGER NOT NULL, -- 1 when the code follows Circular 01/2018
    first_seen_at TEXT NOT NULL
);
CREATE INDEX dossiers_unit ON dossiers (unit_code);

-- One row per stored PDF version of a component (thanh_phan) or result (ket_qua).
CREATE TABLE documents (
    id              INTEGER PRIMARY KEY,
    dossier_id      INTEGER NOT NULL REFERENCES dossiers (id),
    kind            TEXT NOT NULL CHECK (kind IN ('thanh_phan', 'ket_qua')),
    name            TEXT NOT NULL,
    version         INTEGER NOT NULL,
    current         INTEGER NOT NULL DEFAULT 1,
    archive_path    TEXT NOT NULL,    -- relative to the data directory
    page_count      INTEGER NOT NULL,
    bytes           INTEGER NOT NULL,
    sha256          TEXT NOT NULL,    -- of the PDF
    input_sha256    TEXT NOT NULL,    -- of the input (digest of all files for folders)
    ocr_engine      TEXT NOT NULL,
    ocr_version     TEXT NOT NULL,
    ocr_languages   TEXT NOT NULL,
    mean_confidence REAL,
    created_at      TEXT NOT NULL,
    UNIQUE (dossier_id, kind, name, version)
);
CREATE INDEX documents_current ON documents (dossier_id, kind, name) WHERE current = 1;

CREATE TABLE pages (
    document_id     INTEGER NOT NULL REFERENCES documents (id),
    page_no         INTEGER NOT NULL,
    width_px        INTEGER NOT NULL,
    height_px       INTEGER NOT NULL,
    dpi_x           REAL,
    dpi_y           REAL,
    color           TEXT NOT NULL,    -- bilevel | gray | rgb | cmyk
    turn            INTEGER NOT NULL, -- clockwise degrees applied to show it upright
    deskew_deg      REAL NOT NULL,
    blank           INTEGER NOT NULL,
    low_dpi         INTEGER NOT NULL, -- under 200 dpi or unknown (rule: ≥ 200 dpi)
    not_color       INTEGER NOT NULL, -- not captured in colour (rule: colour)
    mean_confidence REAL,
    words           INTEGER NOT NULL,
    PRIMARY KEY (document_id, page_no)
);

CREATE TABLE input_files (
    document_id INTEGER NOT NULL REFERENCES documents (id),
    path        TEXT NOT NULL,
    sha256      TEXT NOT NULL,
    bytes       INTEGER NOT NULL
);
CREATE INDEX input_files_doc ON input_files (document_id);

-- Inputs that could not become a document, with the reason shown to operators.
CREATE TABLE failures (
    id            INTEGER PRIMARY KEY,
    dossier_code  TEXT NOT NULL,
    kind          TEXT,
    name          TEXT NOT NULL,
    input_path    TEXT NOT NULL,
    input_sha256  TEXT,
    error_code    TEXT NOT NULL,
    message       TEXT NOT NULL,
    created_at    TEXT NOT NULL,
    resolved      INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX failures_dossier ON failures (dossier_code);
