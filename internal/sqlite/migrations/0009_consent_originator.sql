-- A consent is keyed by (id, originator): another node's consent under
-- the same id is another consent, so no partner can occupy the id of a
-- consent it did not issue (the red team's consent-id squatting).
CREATE TABLE consents_new (
	id             TEXT    NOT NULL,
	originator     TEXT    NOT NULL, -- detente-node:… of the signer
	object         TEXT    NOT NULL,
	doc            TEXT    NOT NULL, -- the signed consent, JSON
	revoked        INTEGER NOT NULL,
	revoked_reason TEXT    NOT NULL,
	received       INTEGER NOT NULL,
	PRIMARY KEY (id, originator)
);
INSERT INTO consents_new (id, originator, object, doc, revoked, revoked_reason, received)
	SELECT id, coalesce(json_extract(doc, '$.originator'), ''), object, doc, revoked, revoked_reason, received FROM consents;
DROP TABLE consents;
ALTER TABLE consents_new RENAME TO consents;
CREATE INDEX consents_object ON consents (object);
