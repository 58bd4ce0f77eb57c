-- One alert per condition (detente.Alert.Key), as internal/sqlite's
-- migration 0008: an alert raised again while its condition lasts
-- updates the stored one in place, keeping when it was first raised and
-- counting how often. Existing alerts keep no key: each stands alone.
ALTER TABLE alerts ADD COLUMN key TEXT COLLATE "C" NOT NULL DEFAULT '';
ALTER TABLE alerts ADD COLUMN first BIGINT NOT NULL DEFAULT 0;
ALTER TABLE alerts ADD COLUMN count BIGINT NOT NULL DEFAULT 1;
UPDATE alerts SET first = time;
CREATE UNIQUE INDEX alerts_key ON alerts (kind, key) WHERE key <> '';
CREATE INDEX alerts_kind_time ON alerts (kind, time);

-- What references an object (Tx.Referrers): the references are JSON
-- ([{"path", "id"}, ...]); a GIN index over them answers "which versions
-- hold {"id": X}" without reading the table.
CREATE INDEX objects_refs ON objects USING gin ((refs::jsonb) jsonb_path_ops);
