-- The node's first schema. Times are Unix nanoseconds (UTC); ids are STIX ids.

CREATE TABLE meta (
	key   TEXT PRIMARY KEY,
	value TEXT NOT NULL
);

-- Every version of every object, never updated except to quarantine.
CREATE TABLE objects (
	seq          INTEGER PRIMARY KEY AUTOINCREMENT,
	id           TEXT    NOT NULL,
	type         TEXT    NOT NULL,
	modified     INTEGER NOT NULL,
	created      INTEGER NOT NULL,
	spec_version TEXT    NOT NULL,
	originator   TEXT    NOT NULL,
	signer       BLOB,
	signature    BLOB,
	markings     TEXT    NOT NULL, -- JSON array of marking-definition ids
	granular     TEXT    NOT NULL, -- JSON array of granular markings
	refs         TEXT    NOT NULL, -- JSON array of {path, id}
	grading      TEXT    NOT NULL,
	received     INTEGER NOT NULL,
	quarantine   TEXT    NOT NULL,
	raw          BLOB    NOT NULL,
	UNIQUE (id, modified)
);
CREATE INDEX objects_type_seq ON objects (type, seq);
CREATE INDEX objects_originator_seq ON objects (originator, seq);

CREATE TABLE partners (
	name         TEXT PRIMARY KEY,
	key          BLOB    NOT NULL UNIQUE,
	url          TEXT    NOT NULL,
	state        TEXT    NOT NULL,
	state_reason TEXT    NOT NULL,
	created      INTEGER NOT NULL,
	updated      INTEGER NOT NULL
);

-- Every version of every agreement; the latest is the one in force.
CREATE TABLE agreements (
	id      TEXT    NOT NULL,
	version INTEGER NOT NULL,
	doc     TEXT    NOT NULL, -- JSON of detente.Agreement
	PRIMARY KEY (id, version)
);

CREATE TABLE agreement_partners (
	id      TEXT NOT NULL,
	partner TEXT NOT NULL,
	PRIMARY KEY (partner, id)
);

CREATE TABLE consents (
	id             TEXT PRIMARY KEY,
	object         TEXT    NOT NULL,
	doc            TEXT    NOT NULL, -- the signed consent, JSON
	revoked        INTEGER NOT NULL,
	revoked_reason TEXT    NOT NULL,
	received       INTEGER NOT NULL
);
CREATE INDEX consents_object ON consents (object);

CREATE TABLE releases (
	id       INTEGER PRIMARY KEY AUTOINCREMENT,
	object   TEXT    NOT NULL,
	modified INTEGER NOT NULL,
	partner  TEXT    NOT NULL,
	allowed  INTEGER NOT NULL,
	reasons  TEXT    NOT NULL, -- JSON array of detente.Reason
	time     INTEGER NOT NULL
);
CREATE INDEX releases_object ON releases (object, id);
CREATE INDEX releases_partner ON releases (partner, id);

CREATE TABLE tokens (
	id      TEXT PRIMARY KEY,
	hash    BLOB    NOT NULL UNIQUE,
	role    TEXT    NOT NULL,
	label   TEXT    NOT NULL,
	created INTEGER NOT NULL,
	revoked INTEGER NOT NULL
);

-- The transparency log's entries; seq is the 0-based leaf index.
CREATE TABLE events (
	seq     INTEGER PRIMARY KEY,
	time    INTEGER NOT NULL,
	type    TEXT    NOT NULL,
	partner TEXT    NOT NULL,
	body    BLOB    NOT NULL
);
CREATE INDEX events_type ON events (type, seq);
CREATE INDEX events_partner ON events (partner, seq);
