-- The node's schema on PostgreSQL, the same tables as internal/sqlite's.
-- Times are Unix nanoseconds (UTC) in BIGINT, so they round-trip to the
-- nanosecond; identifiers use the "C" collation, so they sort byte by byte
-- as they do on SQLite.

CREATE TABLE meta (
	key   TEXT COLLATE "C" PRIMARY KEY,
	value TEXT NOT NULL
);

-- Every version of every object, never updated except to quarantine. seq
-- and added are assigned by the store under the write head (0002).
CREATE TABLE objects (
	seq          BIGINT PRIMARY KEY,
	id           TEXT COLLATE "C" NOT NULL,
	type         TEXT COLLATE "C" NOT NULL,
	modified     BIGINT NOT NULL,
	created      BIGINT NOT NULL,
	spec_version TEXT   NOT NULL,
	originator   TEXT COLLATE "C" NOT NULL,
	signer       BYTEA,
	signature    BYTEA,
	markings     TEXT   NOT NULL, -- JSON array of marking-definition ids
	granular     TEXT   NOT NULL, -- JSON array of granular markings
	refs         TEXT   NOT NULL, -- JSON array of {path, id}
	grading      TEXT   NOT NULL,
	received     BIGINT NOT NULL,
	quarantine   TEXT   NOT NULL,
	raw          BYTEA  NOT NULL,
	added        BIGINT NOT NULL, -- TAXII date_added: unique, whole microseconds, increasing with seq
	UNIQUE (id, modified)
);
CREATE INDEX objects_type_seq ON objects (type, seq);
CREATE INDEX objects_originator_seq ON objects (originator, seq);
CREATE UNIQUE INDEX objects_added ON objects (added);

CREATE TABLE partners (
	name         TEXT COLLATE "C" PRIMARY KEY,
	key          BYTEA  NOT NULL UNIQUE,
	url          TEXT   NOT NULL,
	state        TEXT   NOT NULL,
	state_reason TEXT   NOT NULL,
	created      BIGINT NOT NULL,
	updated      BIGINT NOT NULL
);

-- Every version of every agreement; the latest is the one in force.
CREATE TABLE agreements (
	id      TEXT COLLATE "C" NOT NULL,
	version INTEGER NOT NULL,
	doc     TEXT    NOT NULL, -- JSON of detente.Agreement
	PRIMARY KEY (id, version)
);

CREATE TABLE agreement_partners (
	id      TEXT COLLATE "C" NOT NULL,
	partner TEXT COLLATE "C" NOT NULL,
	PRIMARY KEY (partner, id)
);

CREATE TABLE consents (
	id             TEXT COLLATE "C" PRIMARY KEY,
	object         TEXT COLLATE "C" NOT NULL,
	doc            TEXT    NOT NULL, -- the signed consent, JSON
	revoked        BOOLEAN NOT NULL,
	revoked_reason TEXT    NOT NULL,
	received       BIGINT  NOT NULL
);
CREATE INDEX consents_object ON consents (object);

CREATE TABLE releases (
	id       BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	object   TEXT COLLATE "C" NOT NULL,
	modified BIGINT  NOT NULL,
	partner  TEXT COLLATE "C" NOT NULL,
	allowed  BOOLEAN NOT NULL,
	reasons  TEXT    NOT NULL, -- JSON array of detente.Reason
	time     BIGINT  NOT NULL
);
CREATE INDEX releases_object ON releases (object, id);
CREATE INDEX releases_partner ON releases (partner, id);

CREATE TABLE tokens (
	id      TEXT COLLATE "C" PRIMARY KEY,
	hash    BYTEA   NOT NULL UNIQUE,
	role    TEXT    NOT NULL,
	label   TEXT    NOT NULL,
	created BIGINT  NOT NULL,
	revoked BOOLEAN NOT NULL
);

-- The transparency log's entries; seq is the 0-based leaf index and
-- leaf_hash the hash of its leaf encoding (internal/translog).
CREATE TABLE events (
	seq       BIGINT PRIMARY KEY,
	time      BIGINT NOT NULL,
	type      TEXT COLLATE "C" NOT NULL,
	partner   TEXT COLLATE "C" NOT NULL,
	body      BYTEA  NOT NULL,
	leaf_hash BYTEA
);
-- No secondary indexes by type or partner: views of recent events scan
-- newest first with a limit (as on SQLite, whose 0005 dropped them).

-- Higher stored levels of the log's Merkle tree (multiples of
-- translog.TileHeight), keyed by tlog's stored-hash index.
CREATE TABLE log_hashes (
	key  BIGINT PRIMARY KEY,
	hash BYTEA NOT NULL
);

-- One signed checkpoint per tree size, never replaced.
CREATE TABLE checkpoints (
	size BIGINT PRIMARY KEY,
	note BYTEA  NOT NULL,
	time BIGINT NOT NULL
);

CREATE TABLE cosignatures (
	size    BIGINT NOT NULL,
	witness TEXT COLLATE "C" NOT NULL,
	line    BYTEA  NOT NULL,
	PRIMARY KEY (size, witness)
);

CREATE TABLE alerts (
	id       BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	time     BIGINT NOT NULL,
	kind     TEXT   NOT NULL,
	partner  TEXT   NOT NULL,
	message  TEXT   NOT NULL,
	evidence BYTEA  NOT NULL
);
CREATE INDEX alerts_time ON alerts (time);

CREATE TABLE sync_state (
	partner      TEXT COLLATE "C" PRIMARY KEY,
	cursor       TEXT   NOT NULL, -- the partner's last X-TAXII-Date-Added-Last, RFC 3339
	last_attempt BIGINT NOT NULL,
	last_success BIGINT NOT NULL,
	received     BIGINT NOT NULL, -- objects stored from this partner
	quarantined  BIGINT NOT NULL,
	rejected     BIGINT NOT NULL,
	errors       BIGINT NOT NULL, -- failed passes in a row
	last_error   TEXT   NOT NULL
);

-- Designations, kept per authority and never merged. An entry removed from
-- a newer issue of its list stays, with delisted set.
CREATE TABLE designations (
	authority TEXT COLLATE "C" NOT NULL,
	entity_id TEXT COLLATE "C" NOT NULL,
	delisted  BOOLEAN NOT NULL, -- true when the doc's delisted_on is set
	doc       TEXT    NOT NULL, -- JSON of detente.Designation
	PRIMARY KEY (authority, entity_id)
);

-- Documents: JSON records of capabilities that keep small typed state of
-- their own (channels and messages, watchlists, budgets), addressed by kind
-- and id, written in the same transactions as everything else.
CREATE TABLE docs (
	kind TEXT COLLATE "C" NOT NULL,
	id   TEXT COLLATE "C" NOT NULL,
	doc  BYTEA NOT NULL,
	PRIMARY KEY (kind, id)
);
