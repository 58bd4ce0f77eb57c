-- Id ownership (docs/threat-model.md). An object id belongs to the origin
-- of its first stored version; versions the rule forbids are quarantined,
-- never deleted. Ids are compared in lower case (RFC 4122 reads UUIDs
-- case-insensitively); objects keep their bytes.

-- The key that originated a version when it is not its signer: a redacted
-- projection relayed by another node names its original signer.
ALTER TABLE objects ADD COLUMN origin BLOB;

-- Ids in one case. A version whose lower-case key is already taken keeps
-- its spelling and is quarantined: it was never reachable as that object.
UPDATE objects SET id = lower(id)
 WHERE id <> lower(id)
   AND seq = (SELECT min(seq) FROM objects o2 WHERE lower(o2.id) = lower(objects.id) AND o2.modified = objects.modified);
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
 WHERE coalesce(origin, signer, x'') <> (SELECT owner FROM owners WHERE owners.id = objects.id);
UPDATE objects SET quarantine = 'immutable-marking: a marking-definition has one version; this is not the first'
 WHERE type = 'marking-definition' AND quarantine = ''
   AND seq > (SELECT min(seq) FROM objects o2 WHERE o2.id = objects.id);
