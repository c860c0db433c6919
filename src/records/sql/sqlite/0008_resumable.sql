-- A station's upload in progress (tus): where the server keeps it and how much it holds.
ALTER TABLE outbox ADD COLUMN upload_url TEXT;
ALTER TABLE outbox ADD COLUMN upload_offset INTEGER;
