-- Documents: JSON records of capabilities that keep small typed state of
-- their own (channels and messages, watchlists, budgets), addressed by kind
-- and id, written in the same transactions as everything else.
CREATE TABLE docs (
	kind TEXT NOT NULL,
	id   TEXT NOT NULL,
	doc  BLOB NOT NULL,
	PRIMARY KEY (kind, id)
);
