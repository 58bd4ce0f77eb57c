-- Id ownership (docs/threat-model.md), as internal/sqlite's migration
-- 0007. An object id belongs to the origin of its first stored version;
-- versions the rule forbids are quarantined, never deleted. Ids are
-- compared in lower case; objects keep their bytes.

-- The key that originated a version when it is not its signer.
ALTER TABLE objects ADD COLUMN origin BYTEA;

-- A version is (id, modified, signer): another node's version never
-- occupies the key of the owner's, and a relayed copy never blocks the
-- original.
ALTER TABLE objects DROP CONSTRAINT objects_id_modified_key;
CREATE INDEX objects_id_modified ON objects (id, modified);

UPDATE objects SET id = lower(id)
 WHERE id <> lower(id)
   AND seq = (SELECT min(seq) FROM objects o2 WHERE lower(o2.id) = lower(objects.id) AND o2.modified = objects.modified
                                               AND coalesce(o2.signer, '\x'::bytea) = coalesce(objects.signer, '\x'::bytea));
CREATE UNIQUE INDEX objects_version ON objects (id, modified, coalesce(signer, '\x'::bytea));
UPDATE objects SET quarantine = 'foreign-version: another version with this id in another letter case is stored'
                               || CASE WHEN quarantine <> '' THEN '; ' || quarantine ELSE '' END
 WHERE id <> lower(id);
UPDATE objects SET refs = (SELECT coalesce(json_agg(json_build_object('path', e->>'path', 'id', lower(e->>'id')) ORDER BY n), '[]'::json)::text
                             FROM json_array_elements(objects.refs::json) WITH ORDINALITY AS x(e, n))
 WHERE refs <> lower(refs);
UPDATE objects SET markings = lower(markings) WHERE markings <> lower(markings);
UPDATE objects SET granular = (SELECT coalesce(json_agg(jsonb_set(e::jsonb, '{marking_ref}', to_jsonb(lower(e->>'marking_ref'))) ORDER BY n), '[]'::json)::text
                                 FROM json_array_elements(objects.granular::json) WITH ORDINALITY AS x(e, n))
 WHERE granular <> '[]';
UPDATE consents SET object = lower(object) WHERE object <> lower(object);
UPDATE releases SET object = lower(object) WHERE object <> lower(object);

-- The owner of each id: the origin of its first version.
CREATE TABLE owners (
	id    TEXT COLLATE "C" PRIMARY KEY,
	owner BYTEA NOT NULL
);
INSERT INTO owners (id, owner)
SELECT DISTINCT ON (id) id, coalesce(origin, signer, '\x'::bytea) FROM objects ORDER BY id, seq;

UPDATE objects SET quarantine = 'foreign-version: another node owns this id (found when id ownership was introduced)'
                               || CASE WHEN quarantine <> '' THEN '; ' || quarantine ELSE '' END
  FROM owners w
 WHERE w.id = objects.id AND coalesce(objects.origin, objects.signer, '\x'::bytea) <> w.owner
   AND objects.created <> 0; -- observables (SCOs: no created time) derive their ids from their values: each originator's is its own
UPDATE objects SET quarantine = 'immutable-marking: a marking-definition has one version; this is not the first'
 WHERE type = 'marking-definition' AND quarantine = ''
   AND seq > (SELECT min(seq) FROM objects o2 WHERE o2.id = objects.id);
