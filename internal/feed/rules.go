package feed

import (
	"crypto/ed25519"
	"errors"
	"fmt"
	"maps"
	"strings"

	"detente"
	"detente/internal/stix"
)

// ErrPredefined is returned by Rules.Prepare for a predefined TLP
// marking-definition (TLP 1.0 or 2.0): the node has its own and never
// stores one.
var ErrPredefined = errors.New("predefined TLP marking-definition: the node has its own")

// Item is one object of a feed, prepared for the node to store.
type Item struct {
	// Version is what the node stores with Tx.PutObject(s): Raw is the
	// canonical JSON with the feed's rules applied, and Markings, Refs,
	// Grading and Originator are filled in. Signer and Signature are set
	// when the node signed the object (Config.Originate) or it arrived
	// signed by a detente node (Signed). Received, Seq and Added are left
	// for the node and the store.
	Version *detente.ObjectVersion
	// Object is the parsed object whose canonical JSON is Version.Raw.
	Object *stix.Object
	// Source is the feed it came from, SourcePrefix and the feed's name:
	// the node records it with the version (audit log, status).
	Source string
	// Signed reports that the object arrived with a valid detente signature
	// (for instance a partner's object that went round through the agency's
	// platform). It was not changed, and Version.Originator is left "": the
	// node resolves it from Version.OriginKey() as for what partners send,
	// so a partner's object never becomes this node's.
	Signed bool
}

// Rules are the per-object rules of one feed: what every object it brings
// is turned into before the node stores it.
type Rules struct {
	Feed      string          // the feed's name
	TLP       detente.TLP     // given to objects without a TLP marking
	Grading   detente.Grading // for objects without a grading of their own; may be zero
	Originate bool            // the node signs and originates the objects
	// Key is the node's private key, which signs the objects when
	// Originate is set.
	Key ed25519.PrivateKey
}

// Rules returns the rules of feed c; key is the node's private key, used
// only when c.Originate is set.
func (c *Config) Rules(key ed25519.PrivateKey) Rules {
	return Rules{Feed: c.Name, TLP: c.tlp(), Grading: c.Grading, Originate: c.Originate, Key: key}
}

// Prepare turns one object of the feed into the Item the node stores:
//
//   - a predefined TLP marking-definition returns ErrPredefined;
//   - an object carrying a detente signature is verified and kept exactly
//     as it came (Signed); a signature that does not verify is an error;
//   - otherwise, an object whose object_marking_refs hold no TLP marking
//     (1.0 or 2.0) gets the TLP 2.0 marking of r.TLP, except
//     marking-definitions, which STIX makes immutable;
//   - its grading is the one its detente extension carries, else the
//     admiralty-scale tags among its labels (MISP's
//     admiralty-scale:source-reliability="b" and
//     admiralty-scale:information-credibility="2"), each half of which
//     overrides r.Grading's, a half known from neither being "cannot be
//     judged" (F, 6), else r.Grading;
//   - with r.Originate the node signs it with r.Key and the grading and is
//     its originator (detente.OriginSelf); otherwise it stays unsigned,
//     carrying the grading in the detente extension, and its originator is
//     its created_by_ref identity, or the feed (SourcePrefix+name) when it
//     has none. The egress policy knows neither as a partner, so such
//     objects are never passed on (the third-party rule at its strictest).
//
// Prepare is deterministic: the same object under the same rules gives the
// same bytes, so a re-pull is idempotent. It is safe for concurrent use.
func (r *Rules) Prepare(o *stix.Object) (*Item, error) {
	if stix.IsPredefined(o.ID) {
		return nil, ErrPredefined
	}
	source := SourcePrefix + r.Feed
	signer, signed, err := o.Verify()
	if err != nil {
		return nil, err
	}
	if signed {
		v := o.ToVersion()
		v.Signer = signer
		return &Item{Version: v, Object: o, Source: source, Signed: true}, nil
	}
	set := map[string]any{}
	if o.Type != "marking-definition" && !hasTLP(o.Markings()) {
		refs, _ := o.Fields["object_marking_refs"].([]any)
		set["object_marking_refs"] = append(append(make([]any, 0, len(refs)+1), refs...), detente.MarkingOfTLP(r.TLP))
	}
	g := r.grading(o)
	if !r.Originate && !g.IsZero() && o.Grading() != g {
		exts, _ := o.Fields["extensions"].(map[string]any)
		exts = maps.Clone(exts)
		if exts == nil {
			exts = map[string]any{}
		}
		exts[stix.ExtensionID] = map[string]any{"extension_type": "property-extension", "grading": g.String()}
		set["extensions"] = exts
	}
	if len(set) > 0 {
		if o, err = o.Amend(set); err != nil {
			return nil, fmt.Errorf("feed %s: %w", r.Feed, err)
		}
	}
	if r.Originate {
		if o, err = o.Sign(r.Key, g); err != nil {
			return nil, fmt.Errorf("feed %s: %w", r.Feed, err)
		}
		v := o.ToVersion()
		v.Originator = detente.OriginSelf
		return &Item{Version: v, Object: o, Source: source}, nil
	}
	v := o.ToVersion()
	v.Originator = source
	if by, ok := o.Fields["created_by_ref"].(string); ok {
		v.Originator = detente.NormalID(by)
	}
	return &Item{Version: v, Object: o, Source: source}, nil
}

// grading returns the grading the rules give o (see Prepare).
func (r *Rules) grading(o *stix.Object) detente.Grading {
	if g := o.Grading(); !g.IsZero() {
		return g
	}
	labels, _ := o.Fields["labels"].([]any)
	var strs []string
	for _, l := range labels {
		if s, ok := l.(string); ok {
			strs = append(strs, s)
		}
	}
	return admiralty(strs, r.Grading)
}

// admiralty combines the admiralty-scale tags among tags with base: each
// half a tag gives overrides base's; a half neither gives is "cannot be
// judged" (F or 6). Without any such tag it returns base.
func admiralty(tags []string, base detente.Grading) detente.Grading {
	var rel, cred byte
	for _, t := range tags {
		k, v, ok := strings.Cut(t, "=")
		if !ok || len(v) != 3 || v[0] != '"' || v[2] != '"' {
			continue
		}
		c := v[1]
		switch strings.ToLower(strings.TrimSpace(k)) {
		case "admiralty-scale:source-reliability":
			if c >= 'a' && c <= 'f' {
				c -= 'a' - 'A'
			}
			if c >= 'A' && c <= 'F' {
				rel = c
			}
		case "admiralty-scale:information-credibility":
			if c >= '1' && c <= '6' {
				cred = c - '0'
			}
		}
	}
	if rel == 0 && cred == 0 {
		return base
	}
	g := base
	if rel != 0 {
		g.Reliability = rel
	}
	if cred != 0 {
		g.Credibility = cred
	}
	if g.Reliability == 0 {
		g.Reliability = 'F'
	}
	if g.Credibility == 0 {
		g.Credibility = 6
	}
	return g
}

// hasTLP reports whether refs hold a TLP marking (1.0 or 2.0).
func hasTLP(refs []string) bool {
	for _, m := range refs {
		if _, ok := detente.TLPOfMarking(m); ok {
			return true
		}
	}
	return false
}
