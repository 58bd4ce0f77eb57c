package leak

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"

	"detente"
	"detente/internal/stix"
	"detente/internal/trace"
)

// Prepared is a STIX document about to be ingested with fingerprint
// markup, its markup checked.
type Prepared struct {
	// Data is the document with every marked object in its display form
	// (each position's first wording, each canary's declared value): what
	// STIX validation sees, as partners will receive it.
	Data   []byte
	marked map[string]*marked // by id, "\x00" and modified as written
}

type marked struct {
	id        string
	obj       map[string]any
	marks     int
	positions int // marks that are positions of the code (not subdomain canaries)
	subs      int // subdomain canaries
}

// Prepare checks the fingerprint markup of every object in data, a STIX
// object or bundle. It refuses markup in observables (their ids derive
// from their values), in marking-definitions (they must stay exact) and
// in objects already signed (their signer's words are not this node's to
// vary), and every markup error (trace.MarkupError, naming the property
// and the offset). Objects without markup are left as they are.
func (s *Service) Prepare(data []byte) (*Prepared, error) {
	p := &Prepared{Data: data, marked: map[string]*marked{}}
	if !MayHoldMarkup(data) {
		return p, nil
	}
	v, err := decode(data)
	if err != nil {
		return p, nil // not JSON: STIX validation says why
	}
	top, ok := v.(map[string]any)
	if !ok {
		return p, nil
	}
	changed := false
	check := func(o map[string]any) (map[string]any, error) {
		id, _ := o["id"].(string)
		mod, _ := o["modified"].(string)
		if id == "" || mod == "" {
			if id != "" && hasMarks(o, id) {
				return nil, detente.Errorf(detente.EINVALID, "%s: fingerprint markup needs an object with a modified time: observables cannot carry it (their ids derive from their values)", id)
			}
			return o, nil
		}
		t, err := trace.Parse(o, id, mod)
		if err != nil {
			return nil, detente.Errorf(detente.EINVALID, "%s: %v", id, err)
		}
		marks := t.Marks()
		if len(marks) == 0 {
			return o, nil
		}
		if typ, _ := o["type"].(string); typ == "marking-definition" {
			return nil, detente.Errorf(detente.EINVALID, "%s: a marking-definition cannot carry fingerprint markup: markings must stay exact", id)
		}
		if exts, ok := o["extensions"].(map[string]any); ok {
			if _, signed := exts[stix.ExtensionID]; signed {
				return nil, detente.Errorf(detente.EINVALID, "%s: an object already signed cannot carry fingerprint markup: only this node's own, unsigned objects can be marked", id)
			}
		}
		m := &marked{id: id, obj: o, marks: len(marks)}
		for _, mk := range marks {
			if mk.Kind == trace.KindSubdomain {
				m.subs++
			} else {
				m.positions++
			}
		}
		p.marked[id+"\x00"+mod] = m
		changed = true
		return t.Strip(), nil
	}
	if top["type"] == "bundle" {
		list, _ := top["objects"].([]any)
		for i, e := range list {
			o, ok := e.(map[string]any)
			if !ok {
				continue
			}
			d, err := check(o)
			if err != nil {
				return nil, err
			}
			list[i] = d
		}
	} else {
		d, err := check(top)
		if err != nil {
			return nil, err
		}
		top = d
	}
	if changed {
		if p.Data, err = json.Marshal(top); err != nil {
			return nil, fmt.Errorf("prepare: %w", err)
		}
	}
	return p, nil
}

// hasMarks reports whether o, parsed as a template, has marks.
func hasMarks(o map[string]any, id string) bool {
	t, err := trace.Parse(o, id, "unversioned")
	return err == nil && len(t.Marks()) > 0
}

// Local returns the local copy of o, a validated object of Data: the
// object with its markup, and the number of its marks; ok is false when o
// carries no markup.
func (p *Prepared) Local(o *stix.Object) (local *stix.Object, marks int, ok bool) {
	if p == nil {
		return nil, 0, false
	}
	id, _ := o.Fields["id"].(string)
	mod, _ := o.Fields["modified"].(string)
	m := p.marked[id+"\x00"+mod]
	if m == nil {
		return nil, 0, false
	}
	raw, err := json.Marshal(m.obj)
	if err != nil {
		return nil, 0, false
	}
	if raw, err = stix.Canonicalize(raw); err != nil {
		return nil, 0, false
	}
	c := *o
	c.Fields, c.Raw = m.obj, raw
	return &c, m.marks, true
}

// Warnings returns what the operator should know of the marked objects
// of p: those with too few positions for one leaked copy to name its
// holder alone.
func (p *Prepared) Warnings() []string {
	var out []string
	for _, m := range p.marked {
		if m.subs == 0 && m.positions < weakPositions {
			out = append(out, fmt.Sprintf("%s has %d fingerprint positions and no subdomain canary: one leaked copy will rarely name its holder alone (scores add up over several leaked reports)", m.id, m.positions))
		}
	}
	slices.Sort(out)
	return out
}

// weakPositions is the number of positions under which a single copy is
// unlikely to accuse a single leaker (docs/trace.md: about 60 binary
// positions name a single leaker in 99% of cases).
const weakPositions = 60

// NoteMarked records, in tx, that the stored version v was ingested with
// markup (Prepared.Local).
func (s *Service) NoteMarked(ctx context.Context, tx detente.Tx, v *detente.ObjectVersion) error {
	b, _ := json.Marshal(map[string]string{"id": v.ID, "modified": versionText(v.Modified)})
	err := tx.PutDoc(ctx, docMarked, versionKey(v.ID, v.Modified), b, false)
	if err != nil {
		return fmt.Errorf("note marked version: %w", err)
	}
	return nil
}
