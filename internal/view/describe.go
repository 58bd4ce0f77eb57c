package view

import (
	"context"
	"fmt"
	"strings"
	"time"

	"detente"
	"detente/internal/stix"
	"detente/internal/taxii"
)

// Every view is self-describing: it opens with the predefined objects
// (stix.Definitions: the TLP 1.0 and 2.0 marking-definitions as STIX and
// OASIS publish them, detente's extension-definitions and their creator
// identity), so a consumer can look up every marking and extension the
// objects it gets reference. They sit at fixed positions 1 to
// len(Definitions), before every stored object, which follows at its store
// position plus definitionsSeqOffset: the next values of a view stay
// valid as the store grows.
const definitionsSeqOffset = 64

// definitionsAdded is the date_added of the first definition in every
// view; the others follow a microsecond apart, before anything stored.
var definitionsAdded = time.Date(2017, 1, 20, 0, 0, 0, 0, time.UTC)

// definitionRecords are the view's first records.
var definitionRecords = func() []taxii.Record {
	var out []taxii.Record
	for i, raw := range stix.Definitions() {
		o, err := stix.ParseObject(raw)
		if err != nil {
			panic(err)
		}
		out = append(out, taxii.Record{Seq: int64(i + 1), DateAdded: definitionsAdded.Add(time.Duration(i) * time.Microsecond),
			ID: o.ID, Version: recordVersion(o.ToVersion()), VersionText: versionText(raw), SpecVersion: "2.1", MediaType: taxii.STIXMediaType, Raw: raw})
	}
	if len(out) >= definitionsSeqOffset {
		panic("more definitions than their positions")
	}
	return out
}()

// records returns the page q asks for: the definitions q selects, then
// the stored objects.
func (v *viewer) records(ctx context.Context, q taxii.Query) ([]taxii.Record, bool, error) {
	limit := max(q.Limit, 1)
	var out []taxii.Record
	if q.AfterSeq < definitionsSeqOffset {
		dq := q
		dq.Limit = len(definitionRecords)
		defs, _ := taxii.Select(definitionRecords, dq)
		for _, r := range defs {
			if !q.WithoutRaw {
				r.Raw = append([]byte(nil), r.Raw...)
			} else {
				r.Raw = nil
			}
			out = append(out, r)
		}
		if len(out) >= limit {
			return out[:limit], true, nil
		}
	}
	sq := q
	sq.AfterSeq = max(0, q.AfterSeq-definitionsSeqOffset)
	sq.Limit = limit - len(out)
	recs, more, err := v.storedRecords(ctx, sq)
	if err != nil {
		return nil, false, err
	}
	for _, r := range recs {
		r.Seq += definitionsSeqOffset
		out = append(out, r)
	}
	return out, more, nil
}

// withoutHidden removes from what the partner receives of o, allowed in
// its view, the references to marking-definitions that are not in that
// view (a caveat definition that must not leave the node), rather than
// leave them dangling, and signs the projection again (as project does).
// Marking-definitions are left as they are: STIX makes them immutable.
func (v *viewer) withoutHidden(ctx context.Context, o *detente.ObjectVersion, vd *verdict) error {
	if !vd.ok || o.Type == "marking-definition" || len(o.Markings)+len(o.Granular) == 0 {
		return nil
	}
	hidden := map[string]bool{}
	var binding string // a hidden definition that must travel with o
	check := func(id string) error {
		if hidden[id] || stix.IsPredefined(id) {
			return nil
		}
		m, err := v.tx.Object(ctx, id)
		if detente.ErrorCode(err) == detente.ENOTFOUND {
			hidden[id] = true
			return nil
		} else if err != nil {
			return err
		}
		mvd, err := v.see(ctx, m)
		if err != nil {
			return err
		}
		if !mvd.ok {
			hidden[id] = true
			// Only a local handling instruction (releasable-to,
			// fingerprint) is left out by design. Any other caveat or
			// statement binds whoever receives o: o never goes without it.
			if mk, held := v.g.Marking(ctx, id); held && mk.Caveat != detente.CaveatReleasableTo && mk.Caveat != detente.CaveatFingerprint && binding == "" {
				binding = id
			}
			if err := v.g.Err(); err != nil {
				return err
			}
		}
		return nil
	}
	for _, m := range o.Markings {
		if err := check(m); err != nil {
			return err
		}
	}
	for _, g := range o.Granular {
		if err := check(g.Marking); err != nil {
			return err
		}
	}
	if len(hidden) == 0 {
		return nil
	}
	if binding != "" {
		vd.d.Allowed, vd.d.Closure, vd.d.Redacted = false, nil, nil
		vd.d.Reasons = append(vd.d.Reasons, detente.Reason{Code: detente.ReasonProjectionInvalid, Object: o.ID, Deny: true,
			Detail: "the marking-definition " + binding + " it carries cannot go to the partner, and the object never goes without it"})
		vd.ok = false
		v.rec.withhold(o, vd.d)
		return nil
	}
	raw, err := WithoutMarkings(o, vd.raw, hidden, v.cfg.Sign)
	if err == nil {
		vd.raw = raw
	}
	if err != nil {
		Withhold(&vd.d, o.ID, err)
		vd.ok = false
		v.rec.withhold(o, vd.d)
	}
	return nil
}

// WithoutMarkings returns raw, what a partner receives of o, without its
// references to the marking-definitions in hidden, signed again with sign
// (a projection, as the node signs one). Marking-definitions themselves are
// left as they are: STIX makes them immutable.
func WithoutMarkings(o *detente.ObjectVersion, raw []byte, hidden map[string]bool, sign func(*detente.ObjectVersion, []byte) ([]byte, error)) ([]byte, error) {
	so, err := stix.ParseObject(raw)
	if err != nil {
		return nil, fmt.Errorf("copy of %s: %w", o.Key(), err)
	}
	set := map[string]any{"object_marking_refs": nil, "granular_markings": nil}
	var refs, granular []any
	ms, _ := so.Fields["object_marking_refs"].([]any)
	for _, m := range ms {
		if s, _ := m.(string); !hidden[detente.NormalID(s)] {
			refs = append(refs, m)
		}
	}
	gs, _ := so.Fields["granular_markings"].([]any)
	for _, g := range gs {
		gm, _ := g.(map[string]any)
		if s, _ := gm["marking_ref"].(string); !hidden[detente.NormalID(s)] {
			granular = append(granular, g)
		}
	}
	if len(refs) > 0 {
		set["object_marking_refs"] = refs
	}
	if len(granular) > 0 {
		set["granular_markings"] = granular
	}
	p, err := so.Amend(set)
	if err != nil {
		return nil, err
	}
	return sign(o, p.Raw)
}

// BundleDefinitions returns the predefined objects a release bundle of
// closure carries: the TLP definitions the closure names, then detente's
// extension-definitions and their creator identity.
func BundleDefinitions(closure []string) [][]byte {
	named := map[string]bool{}
	for _, id := range closure {
		named[detente.NormalID(id)] = true
	}
	var out [][]byte
	for _, r := range definitionRecords {
		if named[r.ID] || !strings.HasPrefix(r.ID, "marking-definition--") {
			out = append(out, r.Raw)
		}
	}
	return out
}

// Withhold turns d, which allowed an object, into the refusal of a copy
// that is not valid STIX (err says why) for object id: it is withheld from
// the partner alone, and the reason stays in the decision and the log.
func Withhold(d *detente.Decision, id string, err error) {
	d.Allowed, d.Closure, d.Redacted = false, nil, nil
	d.Reasons = append(d.Reasons, detente.Reason{Code: detente.ReasonProjectionInvalid, Object: id, Deny: true,
		Detail: "removing what the granular markings withhold leaves an object that is not valid STIX (" + detente.ErrorMessage(err) + ")"})
}
