-- Station side of `sohoa sync` (issue 13): the SHA-256 of the file the server
-- acknowledged. A document signed after it was sent has a signed form the
-- server has not seen: it goes back in line, and its signed form is sent.
ALTER TABLE outbox ADD COLUMN sent_sha256 TEXT;
