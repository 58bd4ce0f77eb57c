// Package view serves a node's store as TAXII 2.1 collections (the
// taxii.Source the node's TAXII server reads): to each partner what the
// egress policy releases to it, as that partner's copies, with the
// predefined definitions every view opens with (self-describing views); to
// local tools everything the node holds. What a partner's page serves is
// recorded as releases and logged, one entry per page; what is pushed or
// posted goes to the node's receive or ingest. The node supplies the
// policy's graph, the copies and the log through Config: the package
// never imports the node.
package view

import (
	"context"
	"encoding/json"
	"log/slog"
	"slices"
	"sync"
	"time"

	"detente"
	"detente/internal/leak"
	"detente/internal/peer"
	"detente/internal/policy"
	"detente/internal/taxii"
)

// TAXII collection ids. Every caller sees only the collections for its
// kind, so the list reveals nothing about other partners.
const (
	// CollectionShared is, for a partner, what the egress policy releases
	// to that partner (the partner protocol fixes its id).
	CollectionShared = peer.CollectionShared
	// CollectionInbound is where a partner pushes objects; the ingress
	// policy checks each (the partner protocol fixes its id).
	CollectionInbound = peer.CollectionInbound
	// CollectionLocal is, for local users and tools (OpenCTI, MISP
	// connectors), everything the node holds that is not quarantined.
	CollectionLocal = "5f0c2e61-7c1a-4b8e-9d3f-1a2b3c4d5e03"
)

// Graph is the egress policy's view of the store over one transaction,
// as the node builds it.
type Graph interface {
	policy.Graph
	// Err is the first store error a lookup met: a decision made after
	// one is discarded.
	Err() error
}

// Outcome is what a caller is told of one object it pushed or posted.
type Outcome struct {
	ID       string
	Modified time.Time
	OK       bool
	Message  string
}

// Config is what a view needs of the node.
type Config struct {
	Store  detente.Store
	Self   detente.PublicKey // the node's key
	Now    func() time.Time
	Logger *slog.Logger
	// Graph returns the egress policy's view of the store over tx.
	Graph func(tx detente.Tx) Graph
	// Held returns the words of a reciprocity hold on partner, "" when
	// releases to it are not held.
	Held func(ctx context.Context, tx detente.Tx, partner string) (string, error)
	// Serve returns the bytes partner receives of o, which d allows: the
	// stored bytes, a projection or a fingerprinted copy (with the copy
	// to record). bad is set when they would not be valid STIX: o is then
	// withheld from the partner; err is any other failure.
	Serve func(ctx context.Context, tx detente.Tx, o *detente.ObjectVersion, p *detente.Partner, d detente.Decision) (raw []byte, c *leak.Copy, bad, err error)
	// Local returns the bytes local callers receive of o: the stored
	// bytes, or what the node makes of them for its own tools (a
	// fingerprinted version's display form).
	Local func(ctx context.Context, tx detente.Tx, o *detente.ObjectVersion) ([]byte, error)
	// Sign signs p, a projection of o, as this node (relayed when o is
	// another originator's).
	Sign func(o *detente.ObjectVersion, p []byte) ([]byte, error)
	// Record logs one page's release to partner, body the entry and
	// copies the fingerprinted copies it carried, in tx.
	Record func(ctx context.Context, tx detente.Tx, partner string, body map[string]any, copies []*leak.Copy) error
	// Receive stores what a partner pushes, and says of each object only
	// what depends on the bytes it sent.
	Receive func(ctx context.Context, partner string, objects []json.RawMessage) ([]Outcome, error)
	// Ingest stores the valid objects of a bundle a local tool posts and
	// says why each other one was refused.
	Ingest func(ctx context.Context, bundle []byte) ([]Outcome, error)
}

// New returns the node's TAXII source.
func New(cfg Config) taxii.Source {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return &taxiiSource{cfg: cfg, statuses: map[string]statusEntry{}}
}

type taxiiSource struct {
	cfg      Config
	mu       sync.Mutex
	statuses map[string]statusEntry // recent add requests, by status id
}

type statusEntry struct {
	caller taxii.Caller
	status taxii.Status
	at     time.Time
}

var _ taxii.Source = (*taxiiSource)(nil)

func (s *taxiiSource) Collections(ctx context.Context, c taxii.Caller) ([]taxii.Collection, error) {
	stix := []string{taxii.STIXMediaType}
	if c.Partner != "" {
		return []taxii.Collection{
			{ID: CollectionShared, Title: "Released to you", Description: "Intelligence this node releases to you under your agreements.",
				CanRead: c.CanRead, MediaTypes: stix},
			{ID: CollectionInbound, Title: "Inbound", Description: "Push intelligence to this node; it is checked against the agreement on arrival.",
				CanWrite: c.CanWrite, MediaTypes: stix},
		}, nil
	}
	if !c.CanRead && !c.CanWrite {
		return nil, nil
	}
	return []taxii.Collection{{ID: CollectionLocal, Title: "Local", Description: "Everything this node holds, for local tools.",
		CanRead: c.CanRead, CanWrite: c.CanWrite, MediaTypes: stix}}, nil
}

func (s *taxiiSource) visible(c taxii.Caller, collection string) bool {
	if c.Partner != "" {
		return collection == CollectionShared || collection == CollectionInbound
	}
	return collection == CollectionLocal && (c.CanRead || c.CanWrite)
}

// Records returns the caller's view of a collection. For a partner every
// version is decided by the egress policy and projected; what is served is
// recorded as releases, with one log entry per page.
func (s *taxiiSource) Records(ctx context.Context, c taxii.Caller, collection string, q taxii.Query) ([]taxii.Record, bool, error) {
	if !s.visible(c, collection) || collection == CollectionInbound {
		return nil, false, detente.Errorf(detente.ENOTFOUND, "collection not found")
	}
	var (
		recs []taxii.Record
		more bool
		rec  *recorder
	)
	if c.Partner != "" && !q.WithoutRaw {
		// What a partner's page serves is recorded while it is read.
		rec = s.recorder(ctx, c.Partner)
		defer rec.abandon() // a no-op once finished; never leaves the writer waiting
	}
	err := s.cfg.Store.View(ctx, func(tx detente.Tx) error {
		v := &viewer{cfg: &s.cfg, tx: tx, partner: c.Partner, g: s.cfg.Graph(tx), seen: map[string]*verdict{}, now: s.cfg.Now().UTC(),
			versions: map[string][]*detente.ObjectVersion{}, rec: rec}
		var err error
		if c.Partner != "" {
			if v.held, err = s.cfg.Held(ctx, tx, c.Partner); err != nil {
				return err
			}
		}
		if recs, more, err = v.records(ctx, q); err != nil {
			return err
		}
		rec.flush()
		return nil
	})
	if err != nil {
		return nil, false, err
	}
	if err := rec.finish(); err != nil {
		return nil, false, err
	}
	return recs, more, nil
}

// verdict is whether one version is in the caller's view, and as what.
type verdict struct {
	ok   bool
	raw  []byte
	d    detente.Decision
	copy *leak.Copy // the partner's fingerprinted copy, to record with the release
}

// viewer computes one caller's view over one transaction.
type viewer struct {
	cfg     *Config
	tx      detente.Tx
	partner string
	g       Graph
	now     time.Time
	seen    map[string]*verdict // by StoreKey: never shared between two signers' versions
	// rec records what the page serves to a partner, and the refusals of
	// the versions the policy allows whose projection is not valid STIX,
	// as the page is read; nil for local callers and manifests.
	rec *recorder
	// versions caches every non-quarantined version of the objects seen.
	versions map[string][]*detente.ObjectVersion
	// held is the partner's reciprocity hold, in words; "" when not held.
	held string
}

// see decides whether version o is in the view.
func (v *viewer) see(ctx context.Context, o *detente.ObjectVersion) (*verdict, error) {
	if vd, ok := v.seen[o.StoreKey()]; ok {
		return vd, nil
	}
	vd := &verdict{ok: true, raw: o.Raw}
	if v.partner == "" && v.cfg.Local != nil {
		var err error
		if vd.raw, err = v.cfg.Local(ctx, v.tx, o); err != nil {
			return nil, err
		}
	}
	if v.partner != "" {
		vd.d = policy.Egress(ctx, v.g, policy.Request{Self: v.cfg.Self, Partner: v.partner, Now: v.now, Object: o, Held: v.held})
		if err := v.g.Err(); err != nil {
			return nil, err
		}
		if p, ok := v.g.Partner(ctx, v.partner); vd.d.Allowed && ok {
			raw, c, bad, err := v.cfg.Serve(ctx, v.tx, o, p, vd.d)
			if err != nil {
				return nil, err
			}
			if bad != nil {
				// Withheld from this partner alone; the page goes on, and
				// the reason is recorded with the page's releases.
				Withhold(&vd.d, o.ID, bad)
				v.rec.withhold(o, vd.d)
			}
			vd.raw, vd.copy = raw, c
		}
		vd.ok = vd.d.Allowed
		if err := v.withoutHidden(ctx, o, vd); err != nil {
			return nil, err
		}
	}
	v.seen[o.StoreKey()] = vd
	return vd, nil
}

// selected applies match[version] to o among the versions of its object in
// the view, as taxii.Select does.
func (v *viewer) selected(ctx context.Context, o *detente.ObjectVersion, q taxii.Query) (bool, error) {
	vs := q.Versions
	if vs.All {
		return true, nil
	}
	if vs.IsZero() {
		vs.Last = true
	}
	for _, at := range vs.At {
		if at.Equal(recordVersion(o)) {
			return true, nil
		}
	}
	if !vs.First && !vs.Last {
		return false, nil
	}
	all, ok := v.versions[o.ID]
	if !ok {
		var err error
		if all, err = v.tx.ObjectVersions(ctx, o.ID); err != nil {
			return false, err
		}
	}
	var first, last *detente.ObjectVersion
	for _, w := range all {
		if w.Quarantine != "" && v.partner == "" {
			continue // local callers see no quarantined version; partners' views are the policy's to decide
		}
		vd, err := v.see(ctx, w)
		if err != nil {
			return false, err
		}
		if !vd.ok {
			continue
		}
		if first == nil || recordVersion(w).Before(recordVersion(first)) {
			first = w
		}
		if last == nil || recordVersion(w).After(recordVersion(last)) {
			last = w
		}
	}
	return (vs.First && first != nil && first.Seq == o.Seq) || (vs.Last && last != nil && last.Seq == o.Seq), nil
}

// versionText returns the version of the object raw as it spells it: its
// modified property, else its created property, else "" (an SCO's version
// is its date_added).
func versionText(raw []byte) string {
	var v struct{ Modified, Created string }
	if json.Unmarshal(raw, &v) != nil {
		return ""
	}
	if v.Modified != "" {
		return v.Modified
	}
	return v.Created
}

func recordVersion(o *detente.ObjectVersion) time.Time {
	switch {
	case !o.Modified.IsZero():
		return o.Modified
	case !o.Created.IsZero():
		return o.Created
	}
	return o.Added
}

// loadVersions learns every version of the objects of one batch, for
// match[version] first/last. Most ids have a single version, the one in
// the batch, so it first asks which of the batch's versions have others
// (the batch's own filter, bounded by its first and last seq: one range
// of the primary key or of the type index, with no list of ids to parse)
// and reads every version of those ids alone.
func (v *viewer) loadVersions(ctx context.Context, objs []*detente.ObjectVersion, q taxii.Query) error {
	if len(objs) == 0 {
		return nil
	}
	quarantined := v.partner != ""
	multi, err := v.tx.Objects(ctx, detente.ObjectFilter{IDs: q.IDs, Types: q.Types, AfterSeq: objs[0].Seq - 1, BeforeSeq: objs[len(objs)-1].Seq + 1,
		MultiVersion: true, WithQuarantined: quarantined})
	if err != nil {
		return err
	}
	var ids []string
	asked := map[string]bool{}
	for _, o := range multi {
		if _, ok := v.versions[o.ID]; !ok && !asked[o.ID] {
			ids, asked[o.ID] = append(ids, o.ID), true
		}
	}
	if len(ids) > 0 {
		vs, err := v.tx.Objects(ctx, detente.ObjectFilter{IDs: ids, WithQuarantined: quarantined})
		if err != nil {
			return err
		}
		for _, o := range vs {
			v.versions[o.ID] = append(v.versions[o.ID], o)
		}
	}
	for _, o := range objs {
		if _, ok := v.versions[o.ID]; !ok {
			v.versions[o.ID] = []*detente.ObjectVersion{o}
		}
	}
	return nil
}

// storedRecords returns the page q asks for among the stored objects
// (records adds the view's definitions).
func (v *viewer) storedRecords(ctx context.Context, q taxii.Query) ([]taxii.Record, bool, error) {
	if len(q.SpecVersions) > 0 && !slices.Contains(q.SpecVersions, "2.1") {
		return nil, false, nil // the node holds STIX 2.1 only
	}
	limit := max(q.Limit, 1)
	batch := limit + limit/8 + 1 // one query when most of the store is released to the caller
	if v.rec != nil {
		// Smaller queries, so that the releases of one part are stored
		// while the next part is read.
		batch = min(batch, recordPart+recordPart/8+1)
	}
	after := q.AfterSeq
	var out []taxii.Record
	for {
		// A partner's view is decided version by version by the egress
		// policy, quarantined ones included: a partner's own version, kept
		// apart because another node owns its id, goes back to it like
		// any of its own, so that whether it comes back never says
		// whether this node held the id.
		objs, err := v.tx.Objects(ctx, detente.ObjectFilter{IDs: q.IDs, Types: q.Types, AfterSeq: after, AddedAfter: q.AddedAfter, Limit: batch,
			WithQuarantined: v.partner != ""})
		if err != nil {
			return nil, false, err
		}
		if !q.Versions.All {
			if err := v.loadVersions(ctx, objs, q); err != nil {
				return nil, false, err
			}
		}
		for _, o := range objs {
			after = o.Seq
			vd, err := v.see(ctx, o)
			if err != nil {
				return nil, false, err
			}
			if !vd.ok {
				continue
			}
			if ok, err := v.selected(ctx, o, q); err != nil {
				return nil, false, err
			} else if !ok {
				continue
			}
			if len(out) == limit {
				return out, true, nil
			}
			r := taxii.Record{Seq: o.Seq, DateAdded: o.Added, ID: o.ID, Version: recordVersion(o), SpecVersion: "2.1", MediaType: taxii.STIXMediaType}
			if !q.WithoutRaw {
				r.Raw = vd.raw
			} else {
				r.VersionText = versionText(vd.raw) // manifests and versions spell it as the object does
			}
			out = append(out, r)
			v.rec.serve(o, vd.d, vd.copy)
		}
		if len(objs) < batch {
			return out, false, nil
		}
	}
}

func (s *taxiiSource) Add(ctx context.Context, c taxii.Caller, collection string, objects []json.RawMessage) (taxii.Status, error) {
	if !s.visible(c, collection) || collection == CollectionShared {
		return taxii.Status{}, detente.Errorf(detente.ENOTFOUND, "collection not found")
	}
	st := taxii.Status{ID: detente.NewUUID(), Status: taxii.StatusComplete, TotalCount: len(objects)}
	var (
		outs []Outcome
		err  error
	)
	if c.Partner != "" {
		outs, err = s.cfg.Receive(ctx, c.Partner, objects)
	} else {
		b := append([]byte(nil), `{"type":"bundle","id":"bundle--`+detente.NewUUID()+`","objects":[`...)
		for i, o := range objects {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, o...)
		}
		b = append(b, "]}"...)
		// A local tool's envelope: the valid objects are stored, each
		// other one is a failure with its reason (TAXII 2.1 §4.3.1).
		outs, err = s.cfg.Ingest(ctx, b)
	}
	if err != nil {
		return taxii.Status{}, err
	}
	spelt := map[string]string{} // each posted object's version as it spells it
	for _, raw := range objects {
		var head struct{ ID string }
		if json.Unmarshal(raw, &head) == nil && head.ID != "" {
			spelt[head.ID] = versionText(raw)
		}
	}
	for _, o := range outs {
		d := taxii.StatusDetail{ID: o.ID, Version: taxii.VersionStamp{Time: o.Modified}, Message: o.Message}
		if d.Version.IsZero() {
			// A failure before the version was read: the version is the
			// one the object spells (TAXII 2.1 §4.3.1 asks for it), when
			// it spells one that can be read.
			d.Version.Time, _ = taxii.ParseTime(spelt[o.ID])
		}
		if !d.Version.IsZero() {
			d.Version.Text = spelt[o.ID]
		}
		if o.OK {
			st.Successes = append(st.Successes, d)
		} else {
			st.Failures = append(st.Failures, d)
		}
	}
	st.SuccessCount, st.FailureCount = len(st.Successes), len(st.Failures)
	s.remember(c, st)
	return st, nil
}

// maxStatuses bounds the add-request statuses kept in memory.
const maxStatuses = 1000

func (s *taxiiSource) remember(c taxii.Caller, st taxii.Status) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.statuses) >= maxStatuses {
		var oldest string
		for id, e := range s.statuses {
			if oldest == "" || e.at.Before(s.statuses[oldest].at) {
				oldest = id
			}
		}
		delete(s.statuses, oldest)
	}
	s.statuses[st.ID] = statusEntry{caller: c, status: st, at: time.Now()}
}

func (s *taxiiSource) Status(ctx context.Context, c taxii.Caller, id string) (taxii.Status, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := s.statuses[id]
	if !ok || e.caller != c {
		return taxii.Status{}, detente.Errorf(detente.ENOTFOUND, "status not found")
	}
	return e.status, nil
}
