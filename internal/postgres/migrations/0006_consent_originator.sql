-- A consent is keyed by (id, originator): another node's consent under
-- the same id is another consent, so no partner can occupy the id of a
-- consent it did not issue (the red team's consent-id squatting).
ALTER TABLE consents ADD COLUMN originator TEXT COLLATE "C" NOT NULL DEFAULT '';
UPDATE consents SET originator = coalesce(doc::json->>'originator', '');
ALTER TABLE consents ALTER COLUMN originator DROP DEFAULT;
ALTER TABLE consents DROP CONSTRAINT consents_pkey;
ALTER TABLE consents ADD PRIMARY KEY (id, originator);
