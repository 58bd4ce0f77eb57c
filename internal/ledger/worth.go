package ledger

import (
	"strings"

	"detente"
)

// Novelty says how new one object version was to its receiver, as the
// side that logged the exchange knew it at the time.
const (
	// NoveltyNew is a version the receiver did not hold in any form.
	NoveltyNew = "new"
	// NoveltyRepeat is a version that repeats what the receiver already
	// held from another source: the same indicator pattern, observable
	// value, name or relationship, originated by someone else.
	NoveltyRepeat = "repeat"
	// NoveltyOwn is the receiver's own object coming back to it.
	NoveltyOwn = "own"
	// NoveltyDuplicate is a version the receiver already held, exactly.
	NoveltyDuplicate = "duplicate"
)

// Worth is what the log records, at the time of a release or a receipt,
// of each object version exchanged: enough to weigh it later (Weight)
// without the object itself.
type Worth struct {
	Type    string `json:"type"`
	Grading string `json:"grading,omitempty"` // the originator's Admiralty grading, e.g. "B2"
	TLP     string `json:"tlp,omitempty"`     // the most restrictive TLP marking, e.g. "amber"
	Novelty string `json:"novelty"`
	// Feedback is set on a sighting or opinion sent back to the
	// originator of what it is about.
	Feedback bool `json:"feedback,omitempty"`
}

// WorthOf returns the worth of version v with novelty: its type, the
// originator's grading and its most restrictive TLP marking.
func WorthOf(v *detente.ObjectVersion, novelty string) Worth {
	w := Worth{Type: v.Type, Novelty: novelty}
	if w.Type == "" {
		w.Type, _, _ = strings.Cut(v.ID, "--")
	}
	if !v.Grading.IsZero() {
		w.Grading = v.Grading.String()
	}
	var top detente.TLP
	for _, m := range v.Markings {
		if t, ok := detente.TLPOfMarking(m); ok && t > top {
			top = t
		}
	}
	if top != 0 {
		w.TLP = top.String()
	}
	return w
}
