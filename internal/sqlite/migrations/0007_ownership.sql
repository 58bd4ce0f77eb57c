-- Id ownership (docs/threat-model.md). An object id belongs to the origin
-- of its first stored version; versions the rule forbids are quarantined,
-- never deleted. Ids are compared in lower case (RFC 4122 reads UUIDs
-- case-insensitively); objects keep their bytes.

-- A version is (id, modified, signer): another node's version never
-- occupies the key of the owner's (a squatted key would block the owner's
-- real version, a revocation say), and a relayed copy never blocks the
-- original. SQLite cannot change a table's UNIQUE constraint, so the table
-- is rebuilt, keeping every row and its seq. origin is the key that
-- originated a version when it is not its signer: a redacted projection
-- relayed by another node names its original signer.
CREATE TABLE objects_v7 (
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
	added        INTEGER NOT NULL DEFAULT 0,
	origin       BLOB
);
INSERT INTO objects_v7 (seq, id, type, modified, created, spec_version, originator, signer, signature,
                        markings, granular, refs, grading, received, quarantine, raw, added)
SELECT seq, id, type, modified, created, spec_version, originator, signer, signature,
       markings, granular, refs, grading, received, quarantine, raw, added FROM objects;
DROP TABLE objects;
ALTER TABLE objects_v7 RENAME TO objects;
CREATE INDEX objects_type_seq ON objects (type, seq);
CREATE INDEX objects_originator_seq ON objects (originator, seq);
CREATE INDEX objects_added ON objects (added);

-- Ids in one case. A version whose lower-case key is already taken keeps
-- its spelling and is quarantined: it was never reachable as that object.
UPDATE objects SET id = lower(id)
 WHERE id <> lower(id)
   AND seq = (SELECT min(seq) FROM objects o2 WHERE lower(o2.id) = lower(objects.id) AND o2.modified = objects.modified
                                               AND coalesce(o2.signer, x'') = coalesce(objects.signer, x''));
CREATE UNIQUE INDEX objects_version ON objects (id, modified, coalesce(signer, x''));
UPDATE objects SET quarantine = 'foreign-version: another version with this id in another letter case is stored'
                               || CASE WHEN quarantine <> '' THEN '; ' || quarantine ELSE '' END
 WHERE id <> lower(id);
UPDATE objects SET refs = (SELECT json_group_array(json_object('path', json_extract(value, '$.path'), 'id', lower(json_extract(value, '$.id'))))
                             FROM json_each(objects.refs))
 WHERE refs <> lower(refs);
UPDATE objects SET markings = lower(markings) WHERE markings <> lower(markings);
UPDATE objects SET granular = (SELECT json_group_array(json(json_set(value, '$.marking_ref', lower(json_extract(value, '$.marking_ref')))))
                                 FROM json_each(objects.granular))
 WHERE granular <> '[]';
UPDATE consents SET object = lower(object) WHERE object <> lower(object);
UPDATE releases SET object = lower(object) WHERE object <> lower(object);

-- The owner of each id: the origin of its first version.
CREATE TABLE owners (
	id    TEXT PRIMARY KEY,
	owner BLOB NOT NULL
);
INSERT INTO owners (id, owner)
SELECT o.id, coalesce(o.origin, o.signer, x'') FROM objects o
 WHERE o.seq = (SELECT min(seq) FROM objects o2 WHERE o2.id = o.id);

UPDATE objects SET quarantine = 'foreign-version: another node owns this id (found when id ownership was introduced)'
                               || CASE WHEN quarantine <> '' THEN '; ' || quarantine ELSE '' END
 WHERE coalesce(origin, signer, x'') <> (SELECT owner FROM owners WHERE owners.id = objects.id)
   AND created <> 0; -- observables (SCOs: no created time) derive their ids from their values: each originator's is its own
UPDATE objects SET quarantine = 'immutable-marking: a marking-definition has one version; this is not the first'
 WHERE type = 'marking-definition' AND quarantine = ''
   AND seq > (SELECT min(seq) FROM objects o2 WHERE o2.id = objects.id);
