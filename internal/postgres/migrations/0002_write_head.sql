-- The write head: one row holding where the log and the objects stand.
-- Every transaction that appends an event or stores an object version
-- locks it (LOCK TABLE … IN EXCLUSIVE MODE, then SELECT … FOR UPDATE) and
-- holds the lock until it commits, so that several processes on one
-- database never assign the same event seq, and object seqs and added
-- times become visible in the order they were assigned (docs/operations.md).
CREATE TABLE write_head (
	one     BOOLEAN PRIMARY KEY DEFAULT true CHECK (one),
	events  BIGINT NOT NULL, -- the log's size: the next event's seq
	objects BIGINT NOT NULL, -- the last object seq assigned, 0 for none
	added   BIGINT NOT NULL  -- the last object added time assigned (Unix ns), 0 for none
);
INSERT INTO write_head (one, events, objects, added) SELECT true,
	(SELECT coalesce(max(seq) + 1, 0) FROM events),
	(SELECT coalesce(max(seq), 0) FROM objects),
	(SELECT coalesce(max(added), 0) FROM objects);
