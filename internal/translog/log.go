package translog

import (
	"context"
	"crypto/ed25519"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"detente"

	"golang.org/x/mod/sumdb/tlog"
)

// Log is a node's transparency log over its store: it signs checkpoints
// (never two for one size, never one that does not extend the last),
// proves entries and exports bundles for offline verification. Events are
// appended by whoever changes the store, in the same transaction as the
// change; Log only reads them and their hashes.
type Log struct {
	// Store holds the events, their hashes and the checkpoints.
	Store detente.Store
	// Name is the node's name; the log's origin line derives from it and
	// the key.
	Name string
	// Key signs checkpoints.
	Key ed25519.PrivateKey
	// Now returns the current time.
	Now func() time.Time
	// Logger receives failures of the background checkpointer.
	Logger *slog.Logger
}

// Origin is the name of this node's log in its checkpoints.
func (l *Log) Origin() string {
	return Origin(l.Name, l.Key.Public().(ed25519.PublicKey))
}

// Checkpoint returns a signed checkpoint of the log at its current size,
// signing and storing a new one only when the log has grown. The store
// keeps one checkpoint per size, signed and stored in one transaction
// before anyone can see it, so the node never issues two different
// checkpoints for the same size, even across a crash.
func (l *Log) Checkpoint(ctx context.Context) (*detente.Checkpoint, error) {
	var cp *detente.Checkpoint
	err := l.Store.Update(ctx, func(tx detente.Tx) error {
		size, err := tx.CountEvents(ctx)
		if err != nil {
			return err
		}
		if cp, err = tx.Checkpoint(ctx, size); err == nil {
			return nil
		} else if detente.ErrorCode(err) != detente.ENOTFOUND {
			return err
		}
		root, err := TreeHash(ctx, TxHashes(tx), size)
		if err != nil {
			return fmt.Errorf("tree hash: %w", err)
		}
		if err := l.checkGrowth(ctx, tx, size); err != nil {
			return err
		}
		note, err := Sign(l.Origin(), size, root, l.Key)
		if err != nil {
			return fmt.Errorf("sign checkpoint: %w", err)
		}
		cp = &detente.Checkpoint{Size: size, Note: note, Time: l.Now().UTC()}
		return tx.PutCheckpoint(ctx, cp)
	})
	if err != nil {
		return nil, fmt.Errorf("checkpoint: %w", err)
	}
	return cp, nil
}

// checkGrowth refuses to sign a tree of size that is not an extension of
// the last checkpoint this node signed: a log that shrank or whose earlier
// entries or hashes changed means the database was altered, and signing
// would launder the change.
func (l *Log) checkGrowth(ctx context.Context, tx detente.Tx, size int64) error {
	last, err := tx.Checkpoint(ctx, -1)
	if detente.ErrorCode(err) == detente.ENOTFOUND {
		return nil
	}
	if err != nil {
		return err
	}
	if last.Size > size {
		return detente.Errorf(detente.ECONFLICT, "log integrity: a checkpoint of size %d was signed but the log has %d entries: entries %d..%d are missing from the database",
			last.Size, size, size, last.Size-1)
	}
	prev, err := ParseCheckpoint(last.Note, l.Origin(), l.Key.Public().(ed25519.PublicKey))
	if err != nil {
		return fmt.Errorf("stored checkpoint %d: %w", last.Size, err)
	}
	if last.Size == 0 {
		return nil
	}
	proof, err := ProveConsistency(ctx, TxHashes(tx), last.Size, size)
	if err == nil {
		var root tlog.Hash
		if root, err = TreeHash(ctx, TxHashes(tx), size); err == nil {
			err = (&Checkpoint{Origin: prev.Origin, Size: size, Root: root, Key: prev.Key}).VerifyConsistency(prev, proof)
		}
	}
	if err != nil {
		return detente.Errorf(detente.ECONFLICT, "log integrity: the log's first %d entries no longer match the checkpoint signed for them: the database was altered (%v)", last.Size, err)
	}
	return nil
}

// LatestCheckpoint returns the newest stored checkpoint with the
// cosignatures partners returned for it, without signing a new one.
func (l *Log) LatestCheckpoint(ctx context.Context) ([]byte, *detente.Checkpoint, error) {
	var (
		cp    *detente.Checkpoint
		lines map[string][]byte
	)
	err := l.Store.View(ctx, func(tx detente.Tx) (err error) {
		if cp, err = tx.Checkpoint(ctx, -1); err != nil {
			return err
		}
		lines, err = tx.Cosignatures(ctx, cp.Size)
		return err
	})
	if err != nil {
		return nil, nil, err
	}
	note := cp.Note
	if len(lines) > 0 {
		var ls [][]byte
		for _, l := range lines {
			ls = append(ls, l)
		}
		if note, err = AddSignatures(cp.Note, ls...); err != nil {
			return nil, nil, fmt.Errorf("publish checkpoint: %w", err)
		}
	}
	return note, cp, nil
}

// InclusionProof proves that entry seq is in the tree of the given size.
func (l *Log) InclusionProof(ctx context.Context, seq, size int64) (tlog.RecordProof, error) {
	var p tlog.RecordProof
	err := l.Store.View(ctx, func(tx detente.Tx) (err error) {
		if err := checkSize(ctx, tx, size); err != nil {
			return err
		}
		if seq < 0 || seq >= size {
			return detente.Errorf(detente.EINVALID, "entry %d is not in a tree of size %d", seq, size)
		}
		p, err = ProveInclusion(ctx, TxHashes(tx), size, seq)
		return err
	})
	return p, err
}

// ConsistencyProof proves that the tree of size oldSize is a prefix of the
// tree of size newSize.
func (l *Log) ConsistencyProof(ctx context.Context, oldSize, newSize int64) (tlog.TreeProof, error) {
	var p tlog.TreeProof
	err := l.Store.View(ctx, func(tx detente.Tx) (err error) {
		if err := checkSize(ctx, tx, newSize); err != nil {
			return err
		}
		if oldSize < 0 || oldSize > newSize {
			return detente.Errorf(detente.EINVALID, "size %d is not between 0 and %d", oldSize, newSize)
		}
		p, err = ProveConsistency(ctx, TxHashes(tx), oldSize, newSize)
		return err
	})
	return p, err
}

func checkSize(ctx context.Context, tx detente.Tx, size int64) error {
	have, err := tx.CountEvents(ctx)
	if err != nil {
		return err
	}
	if size < 1 || size > have {
		return detente.Errorf(detente.EINVALID, "tree size %d is not between 1 and the log's size %d", size, have)
	}
	return nil
}

// maxExportCheckpoints bounds the earlier checkpoints an export carries.
const maxExportCheckpoints = 512

// Export returns a bundle of the log's entries [from, to) proven against
// a fresh checkpoint, with earlier checkpoints so a verifier can locate a
// rewrite (docs/log.md). to <= 0 means the whole log.
func (l *Log) Export(ctx context.Context, from, to int64) (*Bundle, error) {
	cp, err := l.Checkpoint(ctx)
	if err != nil {
		return nil, err
	}
	if to <= 0 || to > cp.Size {
		to = cp.Size
	}
	if from < 0 || from >= to {
		return nil, detente.Errorf(detente.EINVALID, "nothing to export between %d and %d (the log has %d entries)", from, to, cp.Size)
	}
	var b *Bundle
	err = l.Store.View(ctx, func(tx detente.Tx) error {
		events, err := tx.Events(ctx, detente.EventFilter{FromSeq: from, Limit: int(to - from)})
		if err != nil {
			return err
		}
		for i, e := range events {
			if want := from + int64(i); e.Seq != want {
				return detente.Errorf(detente.ECONFLICT, "log integrity: entry %d is missing from the database", want)
			}
		}
		if int64(len(events)) != to-from {
			return detente.Errorf(detente.ECONFLICT, "log integrity: entries %d..%d are missing from the database", from+int64(len(events)), to-1)
		}
		parsed, err := ParseCheckpoint(cp.Note, l.Origin(), l.Key.Public().(ed25519.PublicKey))
		if err != nil {
			return fmt.Errorf("own checkpoint: %w", err)
		}
		if b, err = Export(ctx, TxHashes(tx), parsed, events); err != nil {
			return err
		}
		earlier, err := tx.Checkpoints(ctx)
		if err != nil {
			return err
		}
		step := max(1, len(earlier)/maxExportCheckpoints)
		for i := 0; i < len(earlier); i += step {
			if c := earlier[i]; c.Size < cp.Size && c.Size > 0 {
				b.Checkpoints = append(b.Checkpoints, string(c.Note))
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("export log: %w", err)
	}
	return b, nil
}

// maxSelection bounds the entries a selection export names.
const maxSelection = 10000

// ExportSelection returns the log entries at seqs, each with its inclusion
// proof against a fresh checkpoint: a partner pins individual events
// without receiving the rest of the log (docs/log.md).
func (l *Log) ExportSelection(ctx context.Context, seqs []int64) (*Bundle, error) {
	if len(seqs) == 0 || len(seqs) > maxSelection {
		return nil, detente.Errorf(detente.EINVALID, "a selection names between 1 and %d entries, not %d", maxSelection, len(seqs))
	}
	cp, err := l.Checkpoint(ctx)
	if err != nil {
		return nil, err
	}
	var b *Bundle
	err = l.Store.View(ctx, func(tx detente.Tx) error {
		events := make([]*detente.Event, 0, len(seqs))
		for _, seq := range seqs {
			if seq < 0 || seq >= cp.Size {
				return detente.Errorf(detente.EINVALID, "entry %d is not in the log (it has %d entries)", seq, cp.Size)
			}
			got, err := tx.Events(ctx, detente.EventFilter{FromSeq: seq, Limit: 1})
			if err != nil {
				return err
			}
			if len(got) != 1 || got[0].Seq != seq {
				return detente.Errorf(detente.ECONFLICT, "log integrity: entry %d is missing from the database", seq)
			}
			events = append(events, got[0])
		}
		parsed, err := ParseCheckpoint(cp.Note, l.Origin(), l.Key.Public().(ed25519.PublicKey))
		if err != nil {
			return fmt.Errorf("own checkpoint: %w", err)
		}
		b, err = ExportProofs(ctx, TxHashes(tx), parsed, events)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("export log selection: %w", err)
	}
	return b, nil
}

// RunCheckpointer signs a checkpoint every interval while the log grows,
// until ctx ends. Failures are logged and retried at the next tick.
func (l *Log) RunCheckpointer(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if _, err := l.Checkpoint(ctx); err != nil && ctx.Err() == nil {
				l.Logger.WarnContext(ctx, "checkpoint failed", "err", err)
			}
		}
	}
}

// ---- reading the log ----

// LogSize returns how many entries the log holds.
func (l *Log) LogSize(ctx context.Context) (int64, error) {
	var size int64
	err := l.Store.View(ctx, func(tx detente.Tx) (err error) { size, err = tx.CountEvents(ctx); return })
	return size, err
}

// Events returns the log entries f selects.
func (l *Log) Events(ctx context.Context, f detente.EventFilter) ([]*detente.Event, error) {
	var es []*detente.Event
	err := l.Store.View(ctx, func(tx detente.Tx) (err error) { es, err = tx.Events(ctx, f); return })
	return es, err
}

// StoredEntry is an entry of the log with the leaf hash the log stored for
// it when it was appended (not a recomputation: comparing the two shows
// whether the entry changed since).
type StoredEntry struct {
	Event    *detente.Event
	LeafHash tlog.Hash
}

// LogEntries returns the log's entries from seq from up to, not
// including, seq to or the end of the log, with their stored leaf
// hashes, and the log's size, read together. Entries missing from the
// database are missing from the result: callers that need one entry check
// its Seq.
func (l *Log) LogEntries(ctx context.Context, from, to int64) (size int64, entries []StoredEntry, err error) {
	err = l.Store.View(ctx, func(tx detente.Tx) error {
		var err error
		if size, err = tx.CountEvents(ctx); err != nil {
			return err
		}
		end := min(to, size)
		if end <= from {
			return nil
		}
		events, err := tx.Events(ctx, detente.EventFilter{FromSeq: from, Limit: int(end - from)})
		if err != nil {
			return err
		}
		nodes := make([]detente.LogNode, len(events))
		for i, e := range events {
			nodes[i] = detente.LogNode{Level: 0, Index: e.Seq}
		}
		leaves, err := tx.LogHashes(ctx, nodes)
		if err != nil {
			return fmt.Errorf("leaf hashes: %w", err)
		}
		entries = make([]StoredEntry, len(events))
		for i, e := range events {
			entries[i] = StoredEntry{Event: e, LeafHash: tlog.Hash(leaves[i])}
		}
		return nil
	})
	return size, entries, err
}

// CosignedCheckpoint returns the checkpoint the node signed for size, with
// the cosignatures collected for it (in the order of the witnesses'
// names), or nil if it signed none of that size.
func (l *Log) CosignedCheckpoint(ctx context.Context, size int64) ([]byte, error) {
	var (
		cp    *detente.Checkpoint
		lines map[string][]byte
	)
	err := l.Store.View(ctx, func(tx detente.Tx) error {
		var err error
		cp, err = tx.Checkpoint(ctx, size)
		if detente.ErrorCode(err) == detente.ENOTFOUND {
			cp = nil
			return nil
		}
		if err != nil {
			return err
		}
		lines, err = tx.Cosignatures(ctx, size)
		return err
	})
	if err != nil || cp == nil {
		return nil, err
	}
	if len(lines) == 0 {
		return cp.Note, nil
	}
	witnesses := make([]string, 0, len(lines))
	for w := range lines {
		witnesses = append(witnesses, w)
	}
	slices.Sort(witnesses)
	ls := make([][]byte, len(witnesses))
	for i, w := range witnesses {
		ls[i] = lines[w]
	}
	note, err := AddSignatures(cp.Note, ls...)
	if err != nil {
		return nil, fmt.Errorf("checkpoint %d with cosignatures: %w", size, err)
	}
	return note, nil
}
