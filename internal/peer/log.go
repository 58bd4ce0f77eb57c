package peer

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"

	"golang.org/x/mod/sumdb/tlog"

	"detente"
)

// The log endpoints (docs/log.md, "Witnessing between partner nodes"):
//
//	GET  /detente/v1/log/checkpoint              the latest signed checkpoint, with its cosignatures (text)
//	GET  /detente/v1/log/consistency?old=A&new=B a consistency proof, base64 hashes (JSON array)
//	GET  /detente/v1/log/proof?seq=N&size=S      the inclusion proof of entry N (JSON)
//	GET  /detente/v1/log/receipts?after=N&size=S the release entries about the caller, with proofs (JSON)
//	POST /detente/v1/log/cosignature             the caller's cosignature of a checkpoint (JSON), 204
//	GET  /detente/v1/log/witnessed?origin=O      the last checkpoint of log O the node accepted (text), 204 if none
const (
	pathCheckpoint  = Prefix + "log/checkpoint"
	pathConsistency = Prefix + "log/consistency"
	pathProof       = Prefix + "log/proof"
	pathReceipts    = Prefix + "log/receipts"
	pathCosignature = Prefix + "log/cosignature"
	pathWitnessed   = Prefix + "log/witnessed"
)

// Bounds of the log endpoints.
const (
	// MaxNote bounds a checkpoint note, cosignatures included.
	MaxNote = 64 << 10
	// maxCosignatureBody bounds the body of a cosignature.
	maxCosignatureBody = 64 << 10
)

// Cosignature is a witness's cosignature of one of the log's checkpoints,
// returned to the log's node.
type Cosignature struct {
	Witness string `json:"witness"` // the witness's key name
	Size    int64  `json:"size"`    // the checkpoint's tree size
	Line    string `json:"line"`    // the signature line, "— name base64\n"
}

// Receipt is one release entry of a node's log about the partner asking,
// with its inclusion proof in the tree of Size.
type Receipt struct {
	Event *detente.Event `json:"event"`
	Size  int64          `json:"size"`
	Proof []tlog.Hash    `json:"proof"` // base64, RFC 6962 audit path
}

// InclusionProof is the answer of the proof endpoint. Its fields are in
// the order the endpoint has always written them.
type InclusionProof struct {
	Proof []tlog.Hash `json:"proof"` // base64, RFC 6962 audit path
	Seq   int64       `json:"seq"`
	Size  int64       `json:"size"`
}

// LogService answers the log endpoints: for the node's own log
// (checkpoints, proofs, receipts, cosignatures returned by its witnesses),
// and as a witness of other logs (what it accepted).
type LogService interface {
	// SignedCheckpoint returns the log's latest signed checkpoint note,
	// with the cosignatures collected for it, signing one of the current
	// size first if the log grew.
	SignedCheckpoint(ctx context.Context) ([]byte, error)
	// ConsistencyProof proves that the tree of size oldSize is a prefix of
	// the tree of size newSize.
	ConsistencyProof(ctx context.Context, oldSize, newSize int64) (tlog.TreeProof, error)
	// InclusionProof proves that entry seq is in the tree of size size.
	InclusionProof(ctx context.Context, seq, size int64) (tlog.RecordProof, error)
	// ReleaseReceipts returns the log's release entries about partner
	// after seq after, each with its inclusion proof in the tree of size
	// size.
	ReleaseReceipts(ctx context.Context, partner string, after, size int64) ([]Receipt, error)
	// AddCosignature verifies from's cosignature of one of the log's
	// checkpoints against from's pinned key, and stores it.
	AddCosignature(ctx context.Context, from *detente.Partner, c Cosignature) error
	// WitnessedCheckpoint returns the last checkpoint note of the log
	// origin that the node accepted as a witness, nil if it witnesses no
	// such log.
	WitnessedCheckpoint(ctx context.Context, origin string) ([]byte, error)
}

// LogRoutes registers the log endpoints, answered by l.
func (s *Server) LogRoutes(l LogService) {
	s.handle("GET "+pathCheckpoint, func(w http.ResponseWriter, r *http.Request, _ *detente.Partner) error {
		note, err := l.SignedCheckpoint(r.Context())
		if err != nil {
			return err
		}
		writeText(w, note)
		return nil
	})
	s.handle("GET "+pathConsistency, func(w http.ResponseWriter, r *http.Request, _ *detente.Partner) error {
		old, err1 := treeSize(r, "old")
		nw, err2 := treeSize(r, "new")
		if err := errors.Join(err1, err2); err != nil {
			return err
		}
		proof, err := l.ConsistencyProof(r.Context(), old, nw)
		if err != nil {
			return err
		}
		return writeJSON(w, hashes(proof))
	})
	s.handle("GET "+pathProof, func(w http.ResponseWriter, r *http.Request, _ *detente.Partner) error {
		seq, err1 := treeSize(r, "seq")
		sz, err2 := treeSize(r, "size")
		if err := errors.Join(err1, err2); err != nil {
			return err
		}
		proof, err := l.InclusionProof(r.Context(), seq, sz)
		if err != nil {
			return err
		}
		return writeJSON(w, InclusionProof{Seq: seq, Size: sz, Proof: hashes(proof)})
	})
	s.handle("GET "+pathReceipts, func(w http.ResponseWriter, r *http.Request, p *detente.Partner) error {
		after, err := strconv.ParseInt(r.URL.Query().Get("after"), 10, 64)
		if err != nil || after < -1 {
			return detente.Errorf(detente.EINVALID, "parameter after must be a sequence number or -1")
		}
		sz, err := treeSize(r, "size")
		if err != nil {
			return err
		}
		rs, err := l.ReleaseReceipts(r.Context(), p.Name, after, sz)
		if err != nil {
			return err
		}
		if rs == nil {
			rs = []Receipt{}
		}
		return writeJSON(w, rs)
	})
	s.handle("POST "+pathCosignature, func(w http.ResponseWriter, r *http.Request, p *detente.Partner) error {
		// Unknown fields are ignored, as they always were: a newer witness
		// may say more.
		var c Cosignature
		if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxCosignatureBody)).Decode(&c); err != nil {
			return detente.Errorf(detente.EINVALID, "cosignature: %v", err)
		}
		if err := l.AddCosignature(r.Context(), p, c); err != nil {
			return err
		}
		w.WriteHeader(http.StatusNoContent)
		return nil
	})
	s.handle("GET "+pathWitnessed, func(w http.ResponseWriter, r *http.Request, _ *detente.Partner) error {
		note, err := l.WitnessedCheckpoint(r.Context(), r.URL.Query().Get("origin"))
		if err != nil {
			return err
		}
		if note == nil {
			w.WriteHeader(http.StatusNoContent)
			return nil
		}
		writeText(w, note)
		return nil
	})
}

// treeSize returns the tree size (or sequence number) in parameter name.
func treeSize(r *http.Request, name string) (int64, error) {
	v, err := strconv.ParseInt(r.URL.Query().Get(name), 10, 64)
	if err != nil || v < 0 {
		return 0, detente.Errorf(detente.EINVALID, "parameter %s must be a tree size", name)
	}
	return v, nil
}

// hashes returns proof as a non-nil slice, so that an empty proof is
// written as [] and not null.
func hashes(proof []tlog.Hash) []tlog.Hash {
	if proof == nil {
		return []tlog.Hash{}
	}
	return proof
}

// writeText answers with a signed note.
func writeText(w http.ResponseWriter, note []byte) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Write(note) // the client may have gone; nothing to do about it
}

// ---- the client half ----

// Checkpoint returns the partner's latest signed checkpoint note, with the
// cosignatures it collected (the partner signs a fresh one if its log
// grew).
func (c *Client) Checkpoint(ctx context.Context) ([]byte, error) {
	_, b, err := c.do(ctx, http.MethodGet, pathCheckpoint, nil, "", nil)
	if err != nil {
		return nil, err
	}
	if len(b) > MaxNote {
		return nil, detente.Errorf(detente.EUNAVAILABLE, "partner %s: its checkpoint is over %d bytes", c.Partner, MaxNote)
	}
	return b, nil
}

// ConsistencyProof returns the partner's proof that its tree of size
// oldSize is a prefix of its tree of size newSize. The caller checks it.
func (c *Client) ConsistencyProof(ctx context.Context, oldSize, newSize int64) (tlog.TreeProof, error) {
	var proof tlog.TreeProof
	q := url.Values{"old": {strconv.FormatInt(oldSize, 10)}, "new": {strconv.FormatInt(newSize, 10)}}
	if err := c.getJSON(ctx, pathConsistency, q, &proof); err != nil {
		return nil, fmt.Errorf("consistency proof: %w", err)
	}
	return proof, nil
}

// InclusionProof returns the partner's proof that entry seq is in its
// tree of size size. The caller checks it.
func (c *Client) InclusionProof(ctx context.Context, seq, size int64) (tlog.RecordProof, error) {
	var p InclusionProof
	q := url.Values{"seq": {strconv.FormatInt(seq, 10)}, "size": {strconv.FormatInt(size, 10)}}
	if err := c.getJSON(ctx, pathProof, q, &p); err != nil {
		return nil, fmt.Errorf("inclusion proof: %w", err)
	}
	return p.Proof, nil
}

// Receipts returns the partner's release entries about this node after
// seq after (-1 for all), each with its inclusion proof in the partner's
// tree of size size; at most a page of them, oldest first. The caller
// checks them.
func (c *Client) Receipts(ctx context.Context, after, size int64) ([]Receipt, error) {
	var rs []Receipt
	q := url.Values{"after": {strconv.FormatInt(after, 10)}, "size": {strconv.FormatInt(size, 10)}}
	if err := c.getJSON(ctx, pathReceipts, q, &rs); err != nil {
		return nil, err
	}
	return rs, nil
}

// Cosign returns this node's cosignature of one of the partner's
// checkpoints to it.
func (c *Client) Cosign(ctx context.Context, cs Cosignature) error {
	return c.postJSON(ctx, pathCosignature, cs, nil)
}

// Witnessed returns the last checkpoint of the log origin that the
// partner accepted as a witness, nil if it witnesses no such log.
func (c *Client) Witnessed(ctx context.Context, origin string) ([]byte, error) {
	status, b, err := c.do(ctx, http.MethodGet, pathWitnessed, url.Values{"origin": {origin}}, "", nil)
	if err != nil {
		return nil, err
	}
	if status == http.StatusNoContent || len(b) == 0 {
		return nil, nil
	}
	if len(b) > MaxNote {
		return nil, detente.Errorf(detente.EUNAVAILABLE, "partner %s: its witnessed checkpoint is over %d bytes", c.Partner, MaxNote)
	}
	return b, nil
}
