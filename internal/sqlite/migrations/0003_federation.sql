-- Federation: when each version was added (TAXII date_added: unique and
-- strictly increasing with seq, microseconds), and each partner's sync state.

ALTER TABLE objects ADD COLUMN added INTEGER NOT NULL DEFAULT 0;
UPDATE objects SET added = received + seq * 1000;

CREATE TABLE sync_state (
	partner      TEXT PRIMARY KEY,
	cursor       TEXT    NOT NULL, -- the partner's last X-TAXII-Date-Added-Last, RFC 3339
	last_attempt INTEGER NOT NULL,
	last_success INTEGER NOT NULL,
	received     INTEGER NOT NULL, -- objects stored from this partner
	quarantined  INTEGER NOT NULL,
	rejected     INTEGER NOT NULL,
	errors       INTEGER NOT NULL, -- failed passes in a row
	last_error   TEXT    NOT NULL
);

-- Partners page by date_added: without this every page scans the table.
CREATE INDEX objects_added ON objects (added);
