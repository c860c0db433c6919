-- The digital signatures of documents (issue 13): the officer's on the copy
-- (role 'officer', Circular 01/2023/TT-VPCP Art. 8.1) and the agency's SAO Y
-- copy made from it (role 'sao_y', Decree 30/2020/NĐ-CP). Each signed form is
-- its own archive file beside the unsigned one, whose bytes are its prefix.
-- A row 'unsigned' says a run meant to sign the document and could not (the
-- token was removed): it is signed by the next run; a row 'signed' is never
-- replaced.
CREATE TABLE signatures (
    id             INTEGER PRIMARY KEY,
    document_id    INTEGER NOT NULL REFERENCES documents (id),
    role           TEXT NOT NULL CHECK (role IN ('officer', 'sao_y')),
    state          TEXT NOT NULL CHECK (state IN ('signed', 'unsigned')),
    archive_path   TEXT UNIQUE,      -- the signed file, relative to the data directory
    bytes          INTEGER,
    sha256         TEXT,
    signer_name    TEXT,             -- the certificate's common name
    signer_subject TEXT,
    signer_serial  TEXT,
    signer_issuer  TEXT,
    officer        TEXT,             -- as shown in the block: the officer's name and position,
    position       TEXT,             -- or the agency (SAO Y)
    agency         TEXT,
    signed_at      TEXT,             -- RFC 3339, +07:00, as in /M
    check_valid    INTEGER,          -- the last verification: 1 valid, 0 not
    check_problems TEXT,             -- its problems (JSON, verify::Problem)
    checked_at     TEXT,
    note           TEXT,             -- why a row is 'unsigned'
    created_at     TEXT NOT NULL,
    UNIQUE (document_id, role)
);
