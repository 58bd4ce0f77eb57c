-- The transparency log's Merkle tree and checkpoints (internal/translog).

-- Level-0 tree hashes live with their event: the hash of its leaf encoding.
ALTER TABLE events ADD COLUMN leaf_hash BLOB;

-- Higher stored levels (multiples of translog.TileHeight), keyed by tlog's
-- stored-hash index.
CREATE TABLE log_hashes (
	key  INTEGER PRIMARY KEY,
	hash BLOB NOT NULL
);

-- One signed checkpoint per tree size, never replaced.
CREATE TABLE checkpoints (
	size INTEGER PRIMARY KEY,
	note BLOB    NOT NULL,
	time INTEGER NOT NULL
);

CREATE TABLE cosignatures (
	size    INTEGER NOT NULL,
	witness TEXT    NOT NULL,
	line    BLOB    NOT NULL,
	PRIMARY KEY (size, witness)
);

CREATE TABLE alerts (
	id       INTEGER PRIMARY KEY AUTOINCREMENT,
	time     INTEGER NOT NULL,
	kind     TEXT    NOT NULL,
	partner  TEXT    NOT NULL,
	message  TEXT    NOT NULL,
	evidence BLOB    NOT NULL
);
CREATE INDEX alerts_time ON alerts (time);
