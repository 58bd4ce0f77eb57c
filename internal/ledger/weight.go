package ledger

import (
	"strings"

	"detente"
)

// Weights of object types: what one version of the type is worth to a
// receiver, before grading, TLP and novelty. Types not listed weigh
// DefaultTypeWeight; docs/ledger.md has the table.
var typeWeights = map[string]float64{
	"threat-actor":     2,
	"intrusion-set":    2,
	"campaign":         1.5,
	"malware":          1.5,
	"sighting":         1.5,
	"indicator":        1,
	"attack-pattern":   1,
	"infrastructure":   1,
	"malware-analysis": 1,
	"report":           1,
	"tool":             0.5,
	"vulnerability":    0.5,
	"identity":         0.5,
	"opinion":          0.5,
	"note":             0.5,
	"grouping":         0.5,
	"observed-data":    0.5,
	"course-of-action": 0.5,
	"location":         0.25,
	"relationship":     0.25,
	// Definitions, not intelligence.
	"marking-definition":   0,
	"extension-definition": 0,
	"language-content":     0,
}

// DefaultTypeWeight is the weight of a type typeWeights does not list:
// cyber-observables (ipv4-addr, domain-name, file, …) and custom x- types.
const DefaultTypeWeight = 0.5

// Factors of the source's reliability (A–F) and the information's
// credibility (1–6). "Cannot be judged" (F, 6) is neutral, as is no
// grading at all.
var (
	reliabilityFactors = map[byte]float64{'A': 1.5, 'B': 1.25, 'C': 1, 'D': 0.75, 'E': 0.5, 'F': 1}
	credibilityFactors = map[byte]float64{1: 1.5, 2: 1.25, 3: 1, 4: 0.75, 5: 0.5, 6: 1}
)

// TLP factors: the more restricted, the more trust it took to share.
var tlpFactors = map[string]float64{"clear": 0.75, "green": 1, "amber": 1.25, "amber+strict": 1.5, "red": 2}

// Novelty factors.
var noveltyFactors = map[string]float64{NoveltyNew: 1, NoveltyRepeat: 0.1, NoveltyOwn: 0.1, NoveltyDuplicate: 0}

// Weights of the exchanges that are not object versions.
const (
	// QueryWeight is one private-matching query answered.
	QueryWeight = 0.5
	// RequestOnTimeWeight is a channel request answered by its due time.
	RequestOnTimeWeight = 1
	// RequestLateWeight is a channel request answered after its due time.
	RequestLateWeight = 0.5
)

// Weight returns what w is worth: its type's weight times the factors of
// its grading, TLP and novelty (docs/ledger.md).
func (w Worth) Weight() float64 {
	t, ok := typeWeights[w.Type]
	if !ok {
		t = DefaultTypeWeight
	}
	f := 1.0
	if g, err := detente.ParseGrading(w.Grading); err == nil && w.Grading != "" {
		f *= reliabilityFactors[g.Reliability] * credibilityFactors[g.Credibility]
	}
	if x, ok := tlpFactors[strings.ToLower(w.TLP)]; ok {
		f *= x
	}
	n, ok := noveltyFactors[w.Novelty]
	if !ok {
		n = 1 // an unknown novelty, from a log written before novelty was recorded
	}
	return t * f * n
}
