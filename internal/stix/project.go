package stix

import (
	"errors"
	"fmt"
	"maps"
)

// trie holds the selectors to remove, step by step.
type trie struct {
	remove bool
	keys   map[string]*trie
	idx    map[int]*trie
}

func (t *trie) add(segs []segment) {
	for _, s := range segs {
		if t.remove {
			return // an ancestor is removed already
		}
		var next *trie
		if s.isIdx {
			if t.idx == nil {
				t.idx = map[int]*trie{}
			}
			if next = t.idx[s.index]; next == nil {
				next = &trie{}
				t.idx[s.index] = next
			}
		} else {
			if t.keys == nil {
				t.keys = map[string]*trie{}
			}
			if next = t.keys[s.key]; next == nil {
				next = &trie{}
				t.keys[s.key] = next
			}
		}
		t = next
	}
	t.remove = true
	t.keys, t.idx = nil, nil
}

// prune returns a copy of v without what t removes. Lists left empty are
// reported as nil so that the caller drops the property holding them.
func prune(v any, t *trie) any {
	if t == nil {
		return v
	}
	switch v := v.(type) {
	case map[string]any:
		out := maps.Clone(v)
		for k, c := range t.keys {
			e, ok := out[k]
			if !ok {
				continue
			}
			if c.remove {
				delete(out, k)
				continue
			}
			ne := prune(e, c)
			if a, isList := ne.([]any); isList && len(a) == 0 {
				delete(out, k)
				continue
			}
			out[k] = ne
		}
		return out
	case []any:
		out := make([]any, 0, len(v))
		for i, e := range v {
			c := t.idx[i]
			if c != nil && c.remove {
				continue
			}
			out = append(out, prune(e, c))
		}
		return out
	}
	return v
}

// rewrite maps a selector of the original object to the same content in the
// pruned one: list indices shift down past removed elements. It returns
// false when the selector names removed content.
func rewrite(segs []segment, t *trie) ([]segment, bool) {
	out := make([]segment, len(segs))
	for i, s := range segs {
		out[i] = s
		if t == nil {
			continue
		}
		var next *trie
		if s.isIdx {
			next = t.idx[s.index]
			shift := 0
			for j, c := range t.idx {
				if j < s.index && c.remove {
					shift++
				}
			}
			out[i].index -= shift
		} else {
			next = t.keys[s.key]
		}
		if next != nil && next.remove {
			return nil, false
		}
		t = next
	}
	return out, true
}

// Project removes from the object in raw the content named by the selectors
// in redact (STIX 2.1 section 7.2.3 syntax: "description",
// "external_references.[0].url", "kill_chain_phases.[1]") and returns the
// canonical JSON of the result, which is validated again.
//
// List elements are removed outright, never replaced by a tombstone (STIX
// lists cannot hold nulls); the selectors of the remaining granular markings
// are rewritten so that they keep naming the same content (indices shift
// down past removed elements), selectors naming removed content are
// dropped, and granular markings left without selectors are dropped. A list
// left empty is removed with its property. When anything is removed, the
// detente signature (signer and signature) is dropped as it no longer
// verifies; the grading stays. Removing a required property, or the id, is
// an error: such an object cannot be released in part.
func Project(raw []byte, redact []string) ([]byte, error) {
	o, err := ParseObject(raw)
	if err != nil {
		return nil, err
	}
	if len(redact) == 0 {
		return o.Raw, nil
	}
	root := &trie{}
	for _, s := range redact {
		segs, err := parseSelector(s)
		if err != nil {
			return nil, &ValidationError{ObjectID: o.ID, Message: "redact: " + err.Error()}
		}
		if _, ok := resolve(o.Fields, segs); !ok {
			return nil, &ValidationError{ObjectID: o.ID, Property: s, Message: "redact: selector names nothing in the object"}
		}
		switch segs[0].key {
		case "id", "type", "granular_markings", "object_marking_refs", "extensions":
			// The markings that govern the object, or any of them, never
			// come off: a copy without its TLP would travel unmarked.
			if len(segs) == 1 || segs[0].key != "extensions" {
				return nil, &ValidationError{ObjectID: o.ID, Property: s, Message: "redact: this property cannot be removed"}
			}
		}
		root.add(segs)
	}
	m := prune(o.Fields, root).(map[string]any)

	// Rewrite the granular markings.
	if gms, ok := o.Fields["granular_markings"].([]any); ok {
		var kept []any
		for _, e := range gms {
			g := e.(map[string]any)
			var sels []any
			for _, s := range g["selectors"].([]any) {
				segs, _ := parseSelector(s.(string))
				ns, ok := rewrite(segs, root)
				if !ok {
					continue
				}
				if _, ok := resolve(m, ns); !ok {
					continue
				}
				sels = append(sels, joinSegments(ns))
			}
			if len(sels) == 0 {
				continue
			}
			ng := maps.Clone(g)
			ng["selectors"] = sels
			kept = append(kept, ng)
		}
		if len(kept) == 0 {
			delete(m, "granular_markings")
		} else {
			m["granular_markings"] = kept
		}
	}

	// Drop the signature, which no longer covers the content.
	if ext := detenteExtOf(m); ext != nil {
		exts := maps.Clone(m["extensions"].(map[string]any))
		ne := maps.Clone(ext)
		delete(ne, "signer")
		delete(ne, "signature")
		if len(ne) == 1 {
			delete(exts, ExtensionID)
		} else {
			exts[ExtensionID] = ne
		}
		if len(exts) == 0 {
			delete(m, "extensions")
		} else {
			m["extensions"] = exts
		}
	}

	p, err := newObject(m, o.ID)
	if err != nil {
		var ve *ValidationError
		if errors.As(err, &ve) {
			return nil, &ValidationError{ObjectID: o.ID, Property: ve.Property, Message: "projection would be invalid: " + ve.Message}
		}
		return nil, fmt.Errorf("project %s: %w", o.ID, err)
	}
	return p.Raw, nil
}
