-- The log's secondary indexes by type and by partner cost 37 bytes per
-- entry, more than half the storage budget of an entry (docs/benchmarks.md).
-- Views of recent events by type or partner scan newest-first with a limit,
-- which stays cheap; the indexes go.
DROP INDEX events_type;
DROP INDEX events_partner;
