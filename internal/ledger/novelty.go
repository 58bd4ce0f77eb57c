package ledger

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"strings"

	"detente"
)

// Received returns the worth of version v, received from a partner, for
// the receipt's log entry: the node's own when self originated it, a
// duplicate when the store already held it (added false), a repeat when
// another originator already asserted the same thing (assertionKey), new
// otherwise. fields are v's parsed properties. It records what v asserts,
// in tx, for the repeats to come.
func Received(ctx context.Context, tx detente.Tx, v *detente.ObjectVersion, fields map[string]any, added bool, self detente.PublicKey) (Worth, error) {
	novelty := NoveltyNew
	switch {
	case v.OriginKey().Equal(self):
		// Its own object coming back: held already (or refused), but a
		// re-release, not a mere duplicate (docs/ledger.md).
		novelty = NoveltyOwn
	case !added:
		novelty = NoveltyDuplicate
	default:
		if k := assertionKey(v, fields); k != "" {
			origin := v.OriginKey().String()
			held, err := tx.Doc(ctx, docAssertion, k)
			switch {
			case err == nil:
				if string(held) != origin {
					novelty = NoveltyRepeat
				}
			case detente.ErrorCode(err) == detente.ENOTFOUND:
				if err := tx.PutDoc(ctx, docAssertion, k, []byte(origin), false); err != nil {
					return Worth{}, err
				}
			default:
				return Worth{}, err
			}
		}
	}
	w := WorthOf(v, novelty)
	if added {
		fb, err := feedbackTo(ctx, tx, v, self)
		if err != nil {
			return Worth{}, err
		}
		w.Feedback = fb
	}
	return w, nil
}

// Given returns the worth of each of vs given to partner, whose key is
// pkey, for the release's log entry, and records the gifts in tx: a
// duplicate when the version was given to the partner before (or comes
// earlier in vs), the partner's own when it originated it, new
// otherwise. The giver cannot know what the partner holds from others:
// it never records a repeat (docs/ledger.md). The gifts are recorded in
// one statement however many versions a page holds.
func Given(ctx context.Context, tx detente.Tx, partner string, pkey detente.PublicKey, vs []*detente.ObjectVersion) ([]Worth, error) {
	out := make([]Worth, len(vs))
	var (
		keys []string
		at   []int // the index in vs of each of keys
	)
	for i, v := range vs {
		if len(pkey) > 0 && v.OriginKey().Equal(pkey) {
			out[i] = WorthOf(v, NoveltyOwn)
			continue
		}
		keys, at = append(keys, partner+" "+v.Key()), append(at, i)
	}
	if len(keys) > 0 {
		created, err := tx.CreateDocs(ctx, docGiven, keys)
		if err != nil {
			return nil, err
		}
		for j, i := range at {
			novelty := NoveltyDuplicate
			if created[j] {
				novelty = NoveltyNew
			}
			out[i] = WorthOf(vs[i], novelty)
		}
	}
	if len(pkey) > 0 {
		for i, v := range vs {
			if out[i].Novelty == NoveltyOwn {
				continue
			}
			var err error
			if out[i].Feedback, err = feedbackTo(ctx, tx, v, pkey); err != nil {
				return nil, err
			}
		}
	}
	return out, nil
}

// feedbackTo reports whether v is a sighting or opinion about an object
// self originated: feedback from a partner.
func feedbackTo(ctx context.Context, tx detente.Tx, v *detente.ObjectVersion, self detente.PublicKey) (bool, error) {
	if v.Type != "sighting" && v.Type != "opinion" {
		return false, nil
	}
	for _, r := range v.Refs {
		if r.Path != "sighting_of_ref" && !strings.HasPrefix(r.Path, "object_refs") {
			continue
		}
		o, err := tx.Object(ctx, r.ID)
		if detente.ErrorCode(err) == detente.ENOTFOUND {
			continue
		}
		if err != nil {
			return false, err
		}
		if o.OriginKey().Equal(self) {
			return true, nil
		}
	}
	return false, nil
}

// assertionKey returns a digest of what v asserts, equal for two objects
// that say the same thing whoever wrote them, or "" when v's type asserts
// nothing comparable (sightings, opinions, notes: each is its own
// statement).
func assertionKey(v *detente.ObjectVersion, fields map[string]any) string {
	str := func(k string) string { s, _ := fields[k].(string); return s }
	var what string
	switch v.Type {
	case "indicator":
		what = str("pattern")
	case "relationship":
		what = str("source_ref") + " " + str("relationship_type") + " " + str("target_ref")
	case "threat-actor", "intrusion-set", "campaign", "malware", "tool", "attack-pattern", "infrastructure",
		"vulnerability", "identity", "location", "report", "grouping", "course-of-action":
		what = strings.ToLower(strings.Join(strings.Fields(str("name")), " "))
	case "sighting", "opinion", "note", "observed-data", "marking-definition", "extension-definition", "language-content":
		return ""
	default:
		if !v.Observable() {
			return ""
		}
		// A cyber-observable's id derives from its value: the same id is
		// the same value.
		what = detente.NormalID(v.ID)
	}
	if what == "" || what == "  " {
		return ""
	}
	h := sha256.Sum256([]byte(v.Type + "\x00" + what))
	return hex.EncodeToString(h[:])
}
