package translog

import (
	"crypto/ed25519"
	"errors"
	"fmt"
	"time"

	"golang.org/x/mod/sumdb/tlog"
)

// InconsistencyKind says how two checkpoints of one log disagree.
type InconsistencyKind string

// Kinds of inconsistency a witness detects.
const (
	// Fork: two checkpoints of the same size with different roots, both
	// validly signed by the log. This alone proves a split view.
	Fork InconsistencyKind = "fork"
	// Shrink: a checkpoint smaller than one already seen. Proof of a fork
	// only if the two are not consistent; it may also be a replay of an old
	// checkpoint. Either way a witness must not cosign it.
	Shrink InconsistencyKind = "shrink"
	// Rewrite: a larger checkpoint whose consistency proof with the one
	// already seen fails. The log owes a valid proof; it rewrote history or
	// sent a wrong proof.
	Rewrite InconsistencyKind = "rewrite"
)

// InconsistencyError is returned by Witness.Update when a new checkpoint
// is inconsistent with the last one the witness accepted. It carries both
// signed notes as evidence, to be kept and shown to the log's partners.
type InconsistencyError struct {
	Kind InconsistencyKind
	Old  *Checkpoint // the last checkpoint accepted; Old.Note is its signed note
	New  *Checkpoint // the checkpoint rejected; New.Note is its signed note
	Err  error       // why the consistency proof failed, for Rewrite
}

// Error implements the error interface. It names both checkpoints by size
// and root, so that an alert made of it says which two disagree.
func (e *InconsistencyError) Error() string {
	switch e.Kind {
	case Fork:
		return fmt.Sprintf("log %s forked: two signed checkpoints of size %d with roots %s and %s",
			e.New.Origin, e.New.Size, e.Old.Root, e.New.Root)
	case Shrink:
		return fmt.Sprintf("log %s shrank: it signed size %d (root %s) after size %d (root %s) was accepted: rolled back, truncated or replayed",
			e.New.Origin, e.New.Size, e.New.Root, e.Old.Size, e.Old.Root)
	default:
		return fmt.Sprintf("log %s rewrote history: size %d (root %s) is not consistent with size %d (root %s) accepted before: %v",
			e.New.Origin, e.New.Size, e.New.Root, e.Old.Size, e.Old.Root, e.Err)
	}
}

// Unwrap returns the underlying proof error, if any.
func (e *InconsistencyError) Unwrap() error { return e.Err }

// Witness is the pure logic of a witness (a C2SP tlog-cosignature/v1
// cosigner): it checks that each new checkpoint of a log extends the last
// one it accepted and cosigns it. It keeps no state: the caller stores the
// accepted checkpoint note per log and passes it back.
type Witness struct {
	Name string             // the cosigner's key name, e.g. Origin(node, pub)+"/witness"
	Key  ed25519.PrivateKey // the cosigner's key, distinct from the log key
}

// Update verifies the checkpoint note next of the log origin, signed by
// logKey, against last, the note of the last checkpoint this witness
// accepted for that log (nil if none), with proof, a consistency proof
// from last's size to next's (empty if either is empty or sizes are equal).
// On success it returns the parsed checkpoint, which the caller stores as
// the new last, and a cosignature line for it timestamped now. A note that
// does not parse or verify is an error wrapping ErrMalformed or
// ErrSignature; a valid note inconsistent with last is an
// *InconsistencyError.
func (w *Witness) Update(origin string, logKey ed25519.PublicKey, last, next []byte, proof tlog.TreeProof, now time.Time) (*Checkpoint, []byte, error) {
	c, err := ParseCheckpoint(next, origin, logKey)
	if err != nil {
		return nil, nil, fmt.Errorf("witness %s: %w", origin, err)
	}
	if last != nil {
		old, err := ParseCheckpoint(last, origin, logKey)
		if err != nil {
			return nil, nil, fmt.Errorf("witness %s: last checkpoint: %w", origin, err)
		}
		if ie := checkExtends(old, c, proof); ie != nil {
			return nil, nil, ie
		}
	}
	sig, err := Cosign(next, w.Name, w.Key, now)
	if err != nil {
		return nil, nil, fmt.Errorf("witness %s: %w", origin, err)
	}
	return c, sig, nil
}

// checkExtends returns the inconsistency between old and c, if any.
func checkExtends(old, c *Checkpoint, proof tlog.TreeProof) *InconsistencyError {
	switch {
	case c.Size < old.Size:
		return &InconsistencyError{Kind: Shrink, Old: old, New: c}
	case c.Size == old.Size && c.Root != old.Root:
		return &InconsistencyError{Kind: Fork, Old: old, New: c}
	case c.Size == old.Size || old.Size == 0:
		return nil
	}
	if len(proof) > maxProof {
		return &InconsistencyError{Kind: Rewrite, Old: old, New: c, Err: errors.New("proof too long")}
	}
	if err := tlog.CheckTree(proof, c.Size, c.Root, old.Size, old.Root); err != nil {
		return &InconsistencyError{Kind: Rewrite, Old: old, New: c, Err: err}
	}
	return nil
}
