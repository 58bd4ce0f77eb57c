-- Commit barriers: one row per open store (process). A transaction that
-- holds the write head commits asynchronously, releasing the head at once,
-- then its store bumps its row here in a synchronous commit, which returns
-- only when the WAL holds everything before it: the head's transaction
-- included (early lock release; docs/operations.md).
CREATE TABLE commit_barrier (
	process TEXT PRIMARY KEY,
	n       BIGINT NOT NULL
);
