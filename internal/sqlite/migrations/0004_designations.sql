-- Designations, kept per authority and never merged. An entry removed from
-- a newer issue of its list stays, with delisted_on set: delisting matters
-- as much as listing.
CREATE TABLE designations (
	authority TEXT NOT NULL,
	entity_id TEXT NOT NULL,
	delisted  INTEGER NOT NULL, -- 1 when delisted_on is set
	doc       TEXT NOT NULL,    -- JSON of detente.Designation
	PRIMARY KEY (authority, entity_id)
);
