package node

import (
	"context"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"detente"
	"detente/internal/leak"
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
	// Fingerprint accepts fingerprint markup ([[a|b]] wordings and
	// {{canary:…}} facts, docs/trace.md) in this node's own unsigned
	// objects: the node keeps the markup and every partner gets a copy of
	// its own. Without it, markup is stored and sent as plain text.
	Fingerprint bool
	// Partial stores the valid objects of the bundle and reports the others
	// (IngestRejected, with the reason) instead of refusing the whole
	// bundle: invalid, badly signed, dated in the future or conflicting
	// objects are left out one by one. A document that is not a bundle or
	// an object at all is still an error.
	Partial bool
}

// Statuses of an ingested object.
const (
	IngestAdded       = "added"       // stored
	IngestUnchanged   = "unchanged"   // already held
	IngestQuarantined = "quarantined" // stored apart: id ownership refused it (Reason says why)
	IngestPredefined  = "predefined"  // a predefined TLP marking-definition: the node has its own, never stored
	IngestRejected    = "rejected"    // not stored (IngestOptions.Partial): Reason says why
)

// IngestedObject is the outcome for one object of an ingest.
type IngestedObject struct {
	ID         string    `json:"id"`
	Modified   time.Time `json:"modified,omitzero"`
	Status     string    `json:"status"` // one of the Ingest… statuses
	Originator string    `json:"originator"`
	Reason     string    `json:"reason,omitempty"` // why it was quarantined or rejected
	Marks      int       `json:"marks,omitempty"`  // fingerprint marks, with IngestOptions.Fingerprint
	// Index is the object's position in the bundle, for a rejected object
	// (whose id may be missing or unusable).
	Index *int `json:"index,omitempty"`
}

// IngestResult is the outcome of an ingest.
type IngestResult struct {
	Added       int `json:"added"`
	Unchanged   int `json:"unchanged"`
	Quarantined int `json:"quarantined,omitempty"`
	// Rejected counts the objects left out (IngestOptions.Partial only).
	Rejected int              `json:"rejected,omitempty"`
	Objects  []IngestedObject `json:"objects"`
	// Warnings name what was stored but cannot go where the agreements in
	// force would otherwise send it, e.g. an object whose granular markings
	// leave an invalid projection for a partner.
	Warnings []string `json:"warnings,omitempty"`
}

// Ingest validates a STIX object or bundle and stores every version in it,
// atomically: if any object is invalid, carries a signature that does not
// verify, is dated beyond the allowed clock skew, or conflicts with a
// stored version, nothing is stored and the error names the object.
// Unsigned objects are signed by this node, which becomes their
// originator. Id ownership applies as on every path: a version of an id
// another node owns is stored quarantined (a foreign-version), reported
// and raised as an alert. Predefined TLP marking-definitions are never
// stored. Each new version is logged with a hash commitment to its
// content, not the content.
func (n *Node) Ingest(ctx context.Context, data []byte, opts IngestOptions) (*IngestResult, error) {
	var prep *leak.Prepared
	if opts.Fingerprint {
		var err error
		if prep, err = n.Leak.Prepare(data); err != nil {
			return nil, err
		}
		data = prep.Data // validated in its display form, as partners receive it
	}
	var (
		objs     []*stix.Object
		rejected []IngestedObject // left out before the store (Partial)
		pos      map[*stix.Object]int
		err      error
	)
	if opts.Partial {
		var bad []stix.ObjectError
		objs, bad = stix.ParseBundlePartial(data)
		for _, b := range bad {
			if b.Index < 0 {
				return nil, b.Err
			}
			rejected = append(rejected, rejectedObject(b.ID, b.Index, b.Err))
		}
		// The position of each valid object in the bundle: the ones the
		// invalid objects leave.
		pos = make(map[*stix.Object]int, len(objs))
		skip := make(map[int]bool, len(bad))
		for _, b := range bad {
			skip[b.Index] = true
		}
		i := 0
		for _, o := range objs {
			for skip[i] {
				i++
			}
			pos[o] = i
			i++
		}
	} else if objs, err = stix.ParseBundle(data); err != nil {
		return nil, err
	}
	marks := map[*stix.Object]int{}
	for i, o := range objs {
		if local, k, ok := prep.Local(o); ok {
			objs[i], marks[local] = local, k
		}
	}
	var partners []*detente.Partner
	if err := n.Store.View(ctx, func(tx detente.Tx) (err error) { partners, err = tx.Partners(ctx); return }); err != nil {
		return nil, fmt.Errorf("ingest: %w", err)
	}
	self := n.PublicKey()
	now := n.now()
	var predefined []*stix.Object
	kept := objs[:0:0]
	for _, o := range objs {
		if stix.IsPredefined(o.ID) {
			predefined = append(predefined, o)
			continue
		}
		kept = append(kept, o)
	}
	objs = kept
	unsigned := map[*detente.ObjectVersion]*stix.Object{} // versions this node signed here
	versions, errs := n.prepareAll(objs, self, partners, now, opts)
	if !opts.Partial {
		for _, err := range errs {
			if err != nil {
				return nil, err
			}
		}
	} else {
		keptObjs, keptVersions := objs[:0:0], versions[:0:0]
		for i, err := range errs {
			if err != nil {
				rejected = append(rejected, rejectedObject(objs[i].ID, pos[objs[i]], err))
				continue
			}
			keptObjs, keptVersions = append(keptObjs, objs[i]), append(keptVersions, versions[i])
		}
		objs, versions = keptObjs, keptVersions
	}
	for i, v := range versions {
		v.Received = now
		if v.Originator == detente.OriginSelf && !v.Signer.Equal(signerOf(objs[i])) {
			unsigned[v] = objs[i]
		}
	}
	res := &IngestResult{Objects: make([]IngestedObject, 0, len(versions)+len(predefined))}
	var stored []*detente.ObjectVersion // added and not quarantined
	var noted corroborationNotes        // added, quarantined or not
	err = n.Store.Update(ctx, func(tx detente.Tx) error {
		*res = IngestResult{Objects: res.Objects[:0]} // fn may be retried
		stored = stored[:0]
		noted.reset()
		// What a retired partner key signed is foreign here too: a local
		// tool may hand over what a thief of the key made.
		if err := detente.QuarantineRetired(ctx, tx, versions); err != nil {
			return err
		}
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
			if detente.ErrorCode(err) == detente.ECONFLICT && opts.Partial {
				res.Rejected++
				res.Objects = append(res.Objects, rejectedObject(v.ID, pos[objs[i]], err))
				continue
			}
			if err != nil {
				return err
			}
			if added {
				noted.add(v, objs[i].Fields)
			}
			out := IngestedObject{ID: v.ID, Modified: v.Modified, Status: IngestUnchanged, Originator: v.Originator, Reason: v.Quarantine,
				Marks: marks[objs[i]]}
			switch {
			case added && v.Quarantine != "":
				out.Status = IngestQuarantined
				res.Quarantined++
				body := map[string]string{"id": v.ID, "modified": fmtTime(v.Modified), "originator": v.Originator,
					"sha256": commit(v.Raw), "reason": v.Quarantine}
				if err := n.logEvent(ctx, tx, detente.EventObjectQuarantined, "", body); err != nil {
					return err
				}
				alert := &detente.Alert{Key: detente.NormalID(v.ID), Time: now, Kind: detente.AlertQuarantine,
					Message: fmt.Sprintf("%s ingested locally, quarantined: %s", v.Key(), detente.NameKeys(v.Quarantine, self, partners, nil))}
				if err := tx.PutAlert(ctx, alert); err != nil {
					return err
				}
			case added:
				designation, err := n.Screening.NoteDesignation(ctx, tx, v, objs[i].Fields)
				if err != nil {
					return err
				}
				if err := n.Screening.LogDesignation(ctx, tx, designation); err != nil {
					return err
				}
				if out.Marks > 0 {
					if err := n.Leak.NoteMarked(ctx, tx, v); err != nil {
						return err
					}
				}
				out.Status = IngestAdded
				res.Added++
				stored = append(stored, v)
				body := map[string]string{"id": v.ID, "type": v.Type, "modified": fmtTime(v.Modified),
					"originator": v.Originator, "sha256": commit(v.Raw)}
				if err := n.logEvent(ctx, tx, detente.EventObjectIngested, "", body); err != nil {
					return err
				}
			default:
				res.Unchanged++
			}
			res.Objects = append(res.Objects, out)
			if opts.Progress != nil && (i+1)%10000 == 0 {
				opts.Progress(len(versions)+i+1, 2*len(versions))
			}
		}
		for _, o := range predefined {
			res.Unchanged++
			res.Objects = append(res.Objects, IngestedObject{ID: o.ID, Modified: o.Version(), Status: IngestPredefined})
		}
		res.Rejected += len(rejected)
		res.Objects = append(res.Objects, rejected...)
		return nil
	})
	if err != nil {
		return nil, err
	}
	n.noteStored(noted)
	res.Warnings, err = n.unreleasable(ctx, stored)
	if err != nil {
		return nil, err
	}
	if prep != nil {
		res.Warnings = append(res.Warnings, prep.Warnings()...)
	}
	n.Logger.InfoContext(ctx, "ingested", "added", res.Added, "unchanged", res.Unchanged, "quarantined", res.Quarantined, "rejected", res.Rejected)
	return res, nil
}

// rejectedObject is the outcome of an object a partial ingest left out.
func rejectedObject(id string, index int, err error) IngestedObject {
	// The id is the object's own field: the reason need not repeat it.
	reason := detente.ErrorMessage(err)
	if id != "" {
		reason = strings.TrimPrefix(reason, id+": ")
	}
	return IngestedObject{ID: id, Status: IngestRejected, Reason: reason, Index: &index}
}

// prepareAll verifies or signs every object, on all cores: signatures
// are most of the cost of an ingest. It returns each object's version or
// error; callers take the first error in bundle order, so the message does
// not depend on scheduling.
func (n *Node) prepareAll(objs []*stix.Object, self detente.PublicKey, partners []*detente.Partner, now time.Time, opts IngestOptions) ([]*detente.ObjectVersion, []error) {
	versions := make([]*detente.ObjectVersion, len(objs))
	errs := make([]error, len(objs))
	var done atomic.Int64
	parallel(len(objs), func(i int) {
		versions[i], errs[i] = n.prepare(objs[i], self, partners, now, opts.Grading)
		if d := done.Add(1); opts.Progress != nil && d%10000 == 0 {
			opts.Progress(int(d), 2*len(objs))
		}
	})
	return versions, errs
}

// prepare verifies or signs one parsed object and returns its version.
func (n *Node) prepare(o *stix.Object, self detente.PublicKey, partners []*detente.Partner, now time.Time, grading detente.Grading) (*detente.ObjectVersion, error) {
	signer, signed, err := o.Verify() // o is parsed and validated: a marked local copy may not be STIX until stripped
	if err != nil {
		return nil, err
	}
	if err := n.checkTimes(o.ToVersion(), now); err != nil {
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
	v.Signer = signer
	if v.Relayed() && v.Origin.Equal(self) {
		return nil, detente.Errorf(detente.EINVALID, "%s: a relayed copy naming this node as its originator: this node holds its own versions", o.ID)
	}
	v.Originator = detente.OriginatorOf(v.OriginKey(), self, partners)
	return v, nil
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
	return false, detente.ConflictError(v)
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

// CountObjects returns how many object versions the node holds,
// quarantined ones included.
func (n *Node) CountObjects(ctx context.Context) (int64, error) {
	var c int64
	err := n.Store.View(ctx, func(tx detente.Tx) (err error) { c, err = tx.CountObjects(ctx); return })
	return c, err
}
