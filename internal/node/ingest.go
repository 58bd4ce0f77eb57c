package node

import (
	"context"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"detente"
	"detente/internal/stix"
)

// IngestOptions says how to record ingested objects.
type IngestOptions struct {
	// Grading is recorded on every object this node signs (those that came
	// unsigned); objects signed by someone else keep the grading they were
	// signed with.
	Grading detente.Grading
	// Progress, when set, is called as objects are prepared and stored.
	Progress func(done, total int)
}

// IngestedObject is the outcome for one object of an ingest.
type IngestedObject struct {
	ID         string    `json:"id"`
	Modified   time.Time `json:"modified,omitzero"`
	Status     string    `json:"status"` // "added" or "unchanged"
	Originator string    `json:"originator"`
}

// IngestResult is the outcome of an ingest.
type IngestResult struct {
	Added     int              `json:"added"`
	Unchanged int              `json:"unchanged"`
	Objects   []IngestedObject `json:"objects"`
}

// Ingest validates a STIX object or bundle and stores every version in it,
// atomically: if any object is invalid, carries a signature that does not
// verify, or conflicts with a stored version, nothing is stored and the
// error names the object. Unsigned objects are signed by this node, which
// becomes their originator. Each new version is logged with a hash
// commitment to its content, not the content.
func (n *Node) Ingest(ctx context.Context, data []byte, opts IngestOptions) (*IngestResult, error) {
	objs, err := stix.ParseBundle(data)
	if err != nil {
		return nil, err
	}
	var partners []*detente.Partner
	if err := n.Store.View(ctx, func(tx detente.Tx) (err error) { partners, err = tx.Partners(ctx); return }); err != nil {
		return nil, fmt.Errorf("ingest: %w", err)
	}
	self := n.PublicKey()
	now := n.now()
	unsigned := map[*detente.ObjectVersion]*stix.Object{} // versions this node signed here
	versions, err := n.prepareAll(objs, self, partners, opts)
	if err != nil {
		return nil, err
	}
	for i, v := range versions {
		v.Received = now
		if v.Originator == detente.OriginSelf && !v.Signer.Equal(signerOf(objs[i])) {
			unsigned[v] = objs[i]
		}
	}
	res := &IngestResult{Objects: make([]IngestedObject, 0, len(versions))}
	err = n.Store.Update(ctx, func(tx detente.Tx) error {
		res.Added, res.Unchanged, res.Objects = 0, 0, res.Objects[:0] // fn may be retried
		// One call for the bundle: one round trip on PostgreSQL.
		put, err := tx.PutObjects(ctx, versions)
		if err != nil {
			return err
		}
		for i, v := range versions {
			added, err := put[i].Added, put[i].Err
			if detente.ErrorCode(err) == detente.ECONFLICT && unsigned[v] != nil {
				added, err = n.resubmitted(ctx, tx, v, unsigned[v])
			}
			if err != nil {
				return err
			}
			status := "unchanged"
			if added {
				if err := n.noteDesignation(ctx, tx, v, objs[i].Fields); err != nil {
					return err
				}
				status = "added"
				res.Added++
				body := map[string]string{"id": v.ID, "type": v.Type, "modified": fmtTime(v.Modified),
					"originator": v.Originator, "sha256": commit(v.Raw)}
				if err := n.logEvent(ctx, tx, detente.EventObjectIngested, "", body); err != nil {
					return err
				}
			} else {
				res.Unchanged++
			}
			res.Objects = append(res.Objects, IngestedObject{ID: v.ID, Modified: v.Modified, Status: status, Originator: v.Originator})
			if opts.Progress != nil && (i+1)%10000 == 0 {
				opts.Progress(len(versions)+i+1, 2*len(versions))
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	n.Logger.InfoContext(ctx, "ingested", "added", res.Added, "unchanged", res.Unchanged)
	return res, nil
}

// prepareAll verifies or signs every object, on all cores: signatures
// are most of the cost of an ingest. The first error in bundle order wins,
// so the message does not depend on scheduling.
func (n *Node) prepareAll(objs []*stix.Object, self detente.PublicKey, partners []*detente.Partner, opts IngestOptions) ([]*detente.ObjectVersion, error) {
	versions := make([]*detente.ObjectVersion, len(objs))
	errs := make([]error, len(objs))
	var done atomic.Int64
	parallel(len(objs), func(i int) {
		versions[i], errs[i] = n.prepare(objs[i], self, partners, opts.Grading)
		if d := done.Add(1); opts.Progress != nil && d%10000 == 0 {
			opts.Progress(int(d), 2*len(objs))
		}
	})
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	return versions, nil
}

// prepare verifies or signs one parsed object and returns its version.
func (n *Node) prepare(o *stix.Object, self detente.PublicKey, partners []*detente.Partner, grading detente.Grading) (*detente.ObjectVersion, error) {
	signer, signed, err := stix.Verify(o.Raw)
	if err != nil {
		return nil, err
	}
	if !signed {
		g := grading
		if g.IsZero() {
			g = o.ToVersion().Grading
		}
		so, err := o.Sign(n.Key, g)
		if err != nil {
			return nil, fmt.Errorf("sign %s: %w", o.ID, err)
		}
		v := so.ToVersion()
		v.Originator = detente.OriginSelf
		return v, nil
	}
	v := o.ToVersion()
	v.Originator = originatorOf(signer, self, partners)
	return v, nil
}

// originatorOf names who signed: this node, a known partner, or "" for a
// key the node does not know.
func originatorOf(signer, self detente.PublicKey, partners []*detente.Partner) string {
	if signer.Equal(self) {
		return detente.OriginSelf
	}
	for _, p := range partners {
		if p.Key.Equal(signer) {
			return p.Name
		}
	}
	return ""
}

func fmtTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339Nano)
}

// signerOf returns the key an object arrived signed with, nil if unsigned.
func signerOf(o *stix.Object) detente.PublicKey {
	return o.ToVersion().Signer
}

// resubmitted handles an unsigned object whose version this node already
// signed and stored, perhaps with another grading: if signing it with the
// stored grading gives the stored bytes, the content is the same and
// nothing changes; otherwise it is a real conflict.
func (n *Node) resubmitted(ctx context.Context, tx detente.Tx, v *detente.ObjectVersion, o *stix.Object) (bool, error) {
	stored, err := tx.ObjectVersion(ctx, v.ID, v.Modified)
	if err != nil {
		return false, err
	}
	again, err := o.Sign(n.Key, stored.Grading)
	if err != nil {
		return false, err
	}
	if string(again.Raw) == string(stored.Raw) {
		v.Seq = stored.Seq
		return false, nil
	}
	return false, detente.Errorf(detente.ECONFLICT, "%s: a different version with modified %s is already stored",
		v.ID, fmtTime(v.Modified))
}

// parallel calls fn(0) … fn(n-1) on GOMAXPROCS goroutines (one for small
// n) and returns when all are done. fn must only touch index i's data.
func parallel(n int, fn func(i int)) {
	workers := min(runtime.GOMAXPROCS(0), max(1, n/64))
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < n; i += workers {
				fn(i)
			}
		}()
	}
	wg.Wait()
}
