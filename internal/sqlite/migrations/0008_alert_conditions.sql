-- One alert per condition (detente.Alert.Key): an alert raised again
-- while its condition lasts (an acknowledgement still overdue, a line
-- still silent, an object quarantined again) updates the stored one in
-- place, keeping when it was first raised and counting how often.
-- Existing alerts keep no key: each stands alone, as before.
ALTER TABLE alerts ADD COLUMN key TEXT NOT NULL DEFAULT '';
ALTER TABLE alerts ADD COLUMN first INTEGER NOT NULL DEFAULT 0;
ALTER TABLE alerts ADD COLUMN count INTEGER NOT NULL DEFAULT 1;
UPDATE alerts SET first = time;
CREATE UNIQUE INDEX alerts_key ON alerts (kind, key) WHERE key <> '';
CREATE INDEX alerts_kind_time ON alerts (kind, time);

-- What references an object (Tx.Referrers): one row per version and id
-- it references, kept by a trigger so that every way of storing a version
-- fills it, and filled now for the versions stored before. Versions are
-- never deleted, and their references never change.
CREATE TABLE object_refs (
	ref TEXT    NOT NULL,
	seq INTEGER NOT NULL,
	PRIMARY KEY (ref, seq)
) WITHOUT ROWID;
INSERT OR IGNORE INTO object_refs (ref, seq)
	SELECT json_extract(r.value, '$.id'), o.seq FROM objects o, json_each(o.refs) r;
CREATE TRIGGER objects_refs AFTER INSERT ON objects BEGIN
	INSERT OR IGNORE INTO object_refs (ref, seq)
		SELECT json_extract(value, '$.id'), NEW.seq FROM json_each(NEW.refs);
END;
