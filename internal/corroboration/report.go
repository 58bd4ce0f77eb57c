package corroboration

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"detente"
	"detente/internal/lists"
	"detente/internal/screen"
)

// Report is the curation report on one partner: what it shares, how much
// of it nobody else corroborates, whom it labels a terrorist that no other
// authority lists, and which of its assertions others dispute.
type Report struct {
	Partner   string    `json:"partner"`
	Generated time.Time `json:"generated"`
	// Objects is how many objects the partner originated that the node
	// holds (current versions, quarantined ones left out).
	Objects int `json:"objects"`
	// ByType, ByTopic (labels and report types), ByRegion (the countries
	// and regions its locations and designations name) and ByMonth (of the
	// objects' created time) count what it shares, largest first (ByMonth
	// in time order).
	ByType   []Count `json:"by_type"`
	ByTopic  []Count `json:"by_topic"`
	ByRegion []Count `json:"by_region"`
	ByMonth  []Count `json:"by_month"`
	// Asserting is how many of its objects (revoked ones left out) assert
	// a value the index knows; SingleSource how many of those no independent source
	// corroborates, and SingleSourceShare their share (0 when none assert).
	Asserting         int     `json:"asserting"`
	SingleSource      int     `json:"single_source"`
	SingleSourceShare float64 `json:"single_source_share"`
	// SingleSourceObjects lists some of them (at most maxReportList).
	SingleSourceObjects []ObjectRef `json:"single_source_objects"`
	// Labels are its terrorist labels: the designations it shares and its
	// threat actors, each with the other authorities that list the same
	// entity. LabelsAlone counts those no other authority lists.
	Labels         []Label  `json:"labels"`
	LabelsAlone    int      `json:"labels_alone"`
	LabelsAloneShr float64  `json:"labels_alone_share"`
	Authorities    []string `json:"authorities"` // the other authorities whose lists the labels were checked against
	// Contradicted lists its assertions disputed: revoked by itself,
	// disagreed with by another originator's opinion, or answered by
	// another originator's sighting marked a false positive.
	Contradicted []Contradiction `json:"contradicted"`
}

// Count is one bar of a report's chart.
type Count struct {
	Key   string `json:"key"`
	Count int    `json:"count"`
}

// ObjectRef names one object in a report.
type ObjectRef struct {
	ID   string `json:"id"`
	Type string `json:"type"`
	Name string `json:"name,omitempty"`
}

// Label is one terrorist label the partner shares.
type Label struct {
	ObjectRef
	// Kind is "designation" (the object carries the designation
	// extension) or "threat-actor".
	Kind string `json:"kind"`
	// HeldBy names the other authorities (UN, EU, OFAC, other partners,
	// this node) whose active lists hold the same entity, by the name
	// matcher above its threshold.
	HeldBy []string `json:"held_by"`
	// NamedBy names the other originators that share an actor, intrusion
	// set or identity of the same name without listing it.
	NamedBy []string `json:"named_by"`
	// Alone is set when no other authority lists it.
	Alone bool `json:"alone"`
}

// Contradiction is one of the partner's assertions that is disputed.
type Contradiction struct {
	ObjectRef
	// How is "revoked", "opinion" or "sighting".
	How string `json:"how"`
	// By is who disputes it: the partner itself for a revocation.
	By string `json:"by"`
	// Evidence is the id of the opinion or sighting, "" for a revocation.
	Evidence string `json:"evidence,omitempty"`
	Detail   string `json:"detail"`
}

// maxReportList bounds the object lists of a report.
const maxReportList = 200

// Lists returns the screening index over every authority's active
// designations, and the authorities it holds.
type Lists func(ctx context.Context) (*screen.Index, error)

// Report builds the curation report on partner, screening its labels
// against the lists the node holds.
func (s *Service) Report(ctx context.Context, partner string) (*Report, error) {
	lists, now := s.lists, s.now()
	ix, err := s.Index(ctx)
	if err != nil {
		return nil, err
	}
	var p *detente.Partner
	var own, feedback []*detente.ObjectVersion
	var designations []*detente.Designation
	err = s.store.View(ctx, func(tx detente.Tx) error {
		var err error
		if p, err = tx.Partner(ctx, partner); err != nil {
			return err
		}
		if own, err = tx.Objects(ctx, detente.ObjectFilter{Originator: partner, LatestOnly: true}); err != nil {
			return err
		}
		if feedback, err = tx.Objects(ctx, detente.ObjectFilter{Types: []string{"opinion", "sighting"}, LatestOnly: true}); err != nil {
			return err
		}
		designations, err = tx.Designations(ctx, partner, false)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("curation report on %s: %w", partner, err)
	}
	r := &Report{Partner: p.Name, Generated: now.UTC(), SingleSourceObjects: []ObjectRef{}, Labels: []Label{},
		Contradicted: []Contradiction{}, Authorities: []string{}}
	types, topics, regions, months := map[string]int{}, map[string]int{}, map[string]int{}, map[string]int{}
	byID := map[string]ObjectRef{}
	var actors []*detente.ObjectVersion
	var actorFields []map[string]any
	origin := p.Key.String()
	for _, v := range own {
		f := parseFields(v.Raw)
		ref := ObjectRef{ID: v.ID, Type: v.Type, Name: nameField(f)}
		byID[v.ID] = ref
		r.Objects++
		types[v.Type]++
		for _, k := range []string{"labels", "report_types"} {
			for _, l := range strs(f[k]) {
				topics[strings.ToLower(l)]++
			}
		}
		for _, c := range regionsOf(v, f) {
			regions[c]++
		}
		t := cmp.Or(v.Created, v.Received, v.Added)
		if !t.IsZero() {
			months[t.UTC().Format("2006-01")]++
		}
		revoked, _ := f["revoked"].(bool)
		if revoked {
			r.Contradicted = append(r.Contradicted, Contradiction{ObjectRef: ref, How: "revoked", By: p.Name,
				Detail: "revoked by its originator"})
		}
		// A revoked object asserts nothing any more.
		if c := ix.Of(v, func() map[string]any { return f }); c.Assertions > 0 && !revoked {
			r.Asserting++
			if c.SingleSource {
				r.SingleSource++
				if len(r.SingleSourceObjects) < maxReportList {
					r.SingleSourceObjects = append(r.SingleSourceObjects, ref)
				}
			}
		}
		if v.Type == "threat-actor" || v.Type == "intrusion-set" {
			actors = append(actors, v)
			actorFields = append(actorFields, f)
		}
	}
	if r.Asserting > 0 {
		r.SingleSourceShare = float64(r.SingleSource) / float64(r.Asserting)
	}
	r.ByType, r.ByTopic, r.ByRegion = counts(types), counts(topics), counts(regions)
	r.ByMonth = counts(months)
	slices.SortFunc(r.ByMonth, func(a, b Count) int { return strings.Compare(a.Key, b.Key) })
	r.Contradicted = append(r.Contradicted, disputes(feedback, origin, byID, ix)...)
	if err := r.labels(ctx, ix, lists, origin, designations, actors, actorFields); err != nil {
		return nil, err
	}
	return r, nil
}

// labels fills in the report's terrorist labels: every designation the
// partner shares, then each of its threat actors and intrusion sets not
// already among them, screened against the other authorities' lists.
func (r *Report) labels(ctx context.Context, ix *Index, lists Lists, origin string, ds []*detente.Designation,
	actors []*detente.ObjectVersion, actorFields []map[string]any) error {
	var sx *screen.Index
	if lists != nil {
		var err error
		if sx, err = lists(ctx); err != nil {
			return err
		}
	}
	authorities := map[string]bool{}
	if sx != nil {
		for _, d := range sx.Designations() {
			if d.Authority != r.Partner {
				authorities[d.Authority] = true
			}
		}
	}
	seen := map[string]bool{}
	add := func(l Label, q screen.Query) {
		if sx != nil {
			held := map[string]bool{}
			for _, h := range sx.Search(q, 50) {
				if h.Match && h.Authority != r.Partner && !held[h.Authority] {
					held[h.Authority] = true
					l.HeldBy = append(l.HeldBy, h.Authority)
				}
			}
		}
		slices.Sort(l.HeldBy)
		if l.HeldBy == nil {
			l.HeldBy = []string{}
		}
		l.NamedBy = ix.corroborate(origin, []Assertion{{KindName, NormalName(q.Name)}}).IndependentSources
		l.Alone = len(l.HeldBy) == 0
		if l.Alone {
			r.LabelsAlone++
		}
		r.Labels = append(r.Labels, l)
	}
	for _, d := range ds {
		name := d.PrimaryName()
		seen[NormalName(name)] = true
		add(Label{ObjectRef: ObjectRef{ID: d.EntityID, Type: string(d.Type), Name: name}, Kind: "designation"},
			screen.Query{Name: name, Type: d.Type, DatesOfBirth: d.DatesOfBirth, Nationalities: d.Nationalities})
	}
	for i, v := range actors {
		name := nameField(actorFields[i])
		if name == "" || seen[NormalName(name)] {
			continue
		}
		seen[NormalName(name)] = true
		add(Label{ObjectRef: ObjectRef{ID: v.ID, Type: v.Type, Name: name}, Kind: v.Type}, screen.Query{Name: name})
	}
	if len(r.Labels) > 0 {
		r.LabelsAloneShr = float64(r.LabelsAlone) / float64(len(r.Labels))
	}
	for a := range authorities {
		r.Authorities = append(r.Authorities, a)
	}
	slices.Sort(r.Authorities)
	return nil
}

// disputes returns the partner's objects (byID) that opinions disagree
// with and sightings mark as false positives, from originators other than
// the partner (origin).
func disputes(feedback []*detente.ObjectVersion, origin string, byID map[string]ObjectRef, ix *Index) []Contradiction {
	var out []Contradiction
	for _, v := range feedback {
		if v.OriginKey().String() == origin || v.Quarantine != "" {
			continue
		}
		f := parseFields(v.Raw)
		by := ix.NameOf(v.OriginKey().String(), v.Originator)
		switch v.Type {
		case "opinion":
			op, _ := f["opinion"].(string)
			if op != "disagree" && op != "strongly-disagree" {
				continue
			}
			for _, id := range strs(f["object_refs"]) {
				if ref, ok := byID[detente.NormalID(id)]; ok {
					detail := op
					if e, _ := f["explanation"].(string); e != "" {
						detail += ": " + e
					}
					out = append(out, Contradiction{ObjectRef: ref, How: "opinion", By: by, Evidence: v.ID, Detail: detail})
				}
			}
		case "sighting":
			if !falsePositive(f) {
				continue
			}
			id, _ := f["sighting_of_ref"].(string)
			if ref, ok := byID[detente.NormalID(id)]; ok {
				out = append(out, Contradiction{ObjectRef: ref, How: "sighting", By: by, Evidence: v.ID, Detail: "sighted as a false positive"})
			}
		}
	}
	return out
}

// falsePositive reports whether a sighting's fields mark it a false
// positive: a label "false-positive" (or "false_positive"), or a custom
// property x_false_positive or x_detente_false_positive set to true.
func falsePositive(f map[string]any) bool {
	for _, l := range strs(f["labels"]) {
		if l = strings.ToLower(l); l == "false-positive" || l == "false_positive" {
			return true
		}
	}
	for _, k := range []string{"x_false_positive", "x_detente_false_positive"} {
		if b, _ := f[k].(bool); b {
			return true
		}
	}
	return false
}

// regionsOf returns the countries (ISO codes, upper case) and regions an
// object names: a location's country or region, a designation's
// nationalities, a country property.
func regionsOf(v *detente.ObjectVersion, f map[string]any) []string {
	var out []string
	if c, _ := f["country"].(string); c != "" {
		out = append(out, strings.ToUpper(c))
	}
	if v.Type == "location" && len(out) == 0 {
		if rg, _ := f["region"].(string); rg != "" {
			out = append(out, rg)
		}
	}
	if v.Type == "identity" || v.Type == "threat-actor" {
		if d, ok, _ := lists.FromSTIX(v.ID, f, ""); ok {
			for _, n := range d.Nationalities {
				out = append(out, strings.ToUpper(n))
			}
		}
	}
	return out
}

// counts returns m as counts, largest first, then by key.
func counts(m map[string]int) []Count {
	out := make([]Count, 0, len(m))
	for k, n := range m {
		out = append(out, Count{k, n})
	}
	slices.SortFunc(out, func(a, b Count) int { return cmp.Or(b.Count-a.Count, strings.Compare(a.Key, b.Key)) })
	return out
}

func strs(v any) []string {
	l, _ := v.([]any)
	out := make([]string, 0, len(l))
	for _, x := range l {
		if s, ok := x.(string); ok {
			out = append(out, s)
		}
	}
	return out
}

func nameField(f map[string]any) string {
	for _, k := range []string{"name", "value"} {
		if s, ok := f[k].(string); ok && s != "" {
			return s
		}
	}
	return ""
}
