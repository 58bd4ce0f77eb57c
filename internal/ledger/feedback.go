package ledger

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"detente"
)

// Kinds of feedback.
const (
	FeedbackSighting = "sighting" // "we saw it": a STIX sighting of the object
	FeedbackOpinion  = "opinion"  // "we (dis)agree": a STIX opinion about it
)

// Opinions, as STIX 2.1 spells them.
var opinions = []string{"strongly-disagree", "disagree", "neutral", "agree", "strongly-agree"}

// Feedback is a sighting or an opinion to send back to the originator of
// an object this node received.
type Feedback struct {
	Object  string `json:"object"`
	Kind    string `json:"kind"`              // sighting or opinion
	Count   int    `json:"count,omitempty"`   // sighting: times seen (default 1)
	Opinion string `json:"opinion,omitempty"` // opinion: strongly-disagree … strongly-agree
	Note    string `json:"note,omitempty"`    // the sighting's description, the opinion's explanation
}

// Check checks f's fields (not the object, which Build checks).
func (f *Feedback) Check() error {
	switch f.Kind {
	case FeedbackSighting:
		if f.Opinion != "" {
			return detente.Errorf(detente.EINVALID, "a sighting has no opinion: send an opinion for that")
		}
		if f.Count < 0 || f.Count > 999_999_999 {
			return detente.Errorf(detente.EINVALID, "count %d must be between 1 and 999999999", f.Count)
		}
	case FeedbackOpinion:
		if !slices.Contains(opinions, f.Opinion) {
			return detente.Errorf(detente.EINVALID, "opinion %q must be one of strongly-disagree, disagree, neutral, agree, strongly-agree%s",
				f.Opinion, detente.DidYouMean(f.Opinion, opinions))
		}
		if f.Count != 0 {
			return detente.Errorf(detente.EINVALID, "an opinion has no count: send a sighting for that")
		}
	default:
		return detente.Errorf(detente.EINVALID, "feedback kind %q must be sighting or opinion", f.Kind)
	}
	if len(f.Note) > 10_000 {
		return detente.Errorf(detente.EINVALID, "a feedback note is at most 10000 bytes")
	}
	return nil
}

// Build returns the STIX object of f about version o, received from
// its originator: a sighting of it or an opinion about it, carrying o's
// TLP markings, to be signed and stored by this node and released to the
// originator. It refuses feedback on this node's own objects and on
// objects whose originator is not a partner.
func (f *Feedback) Build(o *detente.ObjectVersion, now time.Time) (json.RawMessage, error) {
	if err := f.Check(); err != nil {
		return nil, err
	}
	switch o.Originator {
	case detente.OriginSelf:
		return nil, detente.Errorf(detente.EINVALID, "%s is this node's own: feedback goes back to a partner's object", o.ID)
	case "":
		return nil, detente.Errorf(detente.EINVALID, "%s has no known originator to send feedback to", o.ID)
	}
	if o.Quarantine != "" {
		return nil, detente.Errorf(detente.EINVALID, "%s is quarantined: feedback goes back on what this node accepted", o.ID)
	}
	var marks []string
	for _, m := range o.Markings {
		if _, ok := detente.TLPOfMarking(m); ok {
			marks = append(marks, m)
		}
	}
	ts := now.UTC().Format("2006-01-02T15:04:05.000Z")
	obj := map[string]any{"type": f.Kind, "spec_version": "2.1", "id": f.Kind + "--" + uuid4(), "created": ts, "modified": ts}
	if len(marks) > 0 {
		obj["object_marking_refs"] = marks
	}
	if f.Kind == FeedbackSighting {
		obj["sighting_of_ref"] = o.ID
		obj["count"] = max(f.Count, 1)
		obj["last_seen"] = ts
		if f.Note != "" {
			obj["description"] = f.Note
		}
	} else {
		obj["object_refs"] = []string{o.ID}
		obj["opinion"] = f.Opinion
		if f.Note != "" {
			obj["explanation"] = f.Note
		}
	}
	b, err := json.Marshal(obj)
	if err != nil {
		return nil, fmt.Errorf("encode feedback: %w", err)
	}
	return b, nil
}

// IsFeedback reports whether v, going to or coming from the node whose
// key is origin, is a sighting or opinion about an object origin
// originated: feedback to its originator.
func IsFeedback(ctx context.Context, tx detente.Tx, v *detente.ObjectVersion, origin detente.PublicKey) (bool, error) {
	return feedbackTo(ctx, tx, v, origin)
}

func uuid4() string {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err) // crypto/rand never fails on supported platforms
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}
