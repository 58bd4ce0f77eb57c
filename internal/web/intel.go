package web

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"math"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"detente"
	"detente/internal/corroboration"
	"detente/internal/leak"
	"detente/internal/ledger"
	"detente/internal/params"
	"detente/internal/stix"
)

// objectSummary is what a list shows of an object version.
type objectSummary struct {
	V    *detente.ObjectVersion
	Name string
	// Sentence is set for a relationship: its ends by name.
	Sentence *sentence
	TLP      detente.TLP // the most restrictive TLP marking, 0 if none
	// Other counts markings that are not TLP (caveats, statements).
	Other int
}

// objectFields is the part of a STIX object the console shows as text.
type objectFields struct {
	Name        string   `json:"name"`
	Value       string   `json:"value"`
	Pattern     string   `json:"pattern"`
	Description string   `json:"description"`
	Aliases     []string `json:"aliases"`
	relationFields
}

func fieldsOf(raw []byte) objectFields {
	var f objectFields
	json.Unmarshal(raw, &f) // canonical JSON from the store; a field of another type just stays empty
	return f
}

// displayName is a name for people: the object's name, value or pattern.
func displayName(o *detente.ObjectVersion) string {
	f := fieldsOf(o.Raw)
	switch {
	case f.Name != "":
		return f.Name
	case f.Value != "":
		return f.Value
	case f.Pattern != "":
		return f.Pattern
	}
	return ""
}

// summarise returns what a list shows of o; names names the objects held
// (NormalID → name) for the sentence of a relationship.
func summarise(o *detente.ObjectVersion, names map[string]string) objectSummary {
	s := objectSummary{V: o, Name: displayName(o)}
	if st, ok := relationSentence(o, names); ok {
		s.Sentence = &st
		if s.Name == "" {
			s.Name = st.String()
		}
	}
	for _, m := range o.Markings {
		if t, ok := detente.TLPOfMarking(m); ok {
			s.TLP = max(s.TLP, t)
		} else {
			s.Other++
		}
	}
	return s
}

// objectQuery is the filter of the intelligence list.
type objectQuery struct {
	Type        string
	Originator  string // "self", a partner, "unknown" or "" for any
	TLP         string // a TLP name, "none", or "" for any
	Reliability string // "A".."F" or ""
	Credibility string // "1".."6" or ""
	Text        string
	Quarantined bool
	// Before and After page the list: the objects stored before position
	// Before (older), or after position After (newer); the newest when
	// both are 0.
	Before, After int64
}

func (q objectQuery) values() url.Values {
	v := url.Values{}
	for k, s := range map[string]string{"type": q.Type, "originator": q.Originator, "tlp": q.TLP,
		"reliability": q.Reliability, "credibility": q.Credibility, "q": q.Text} {
		if s != "" {
			v.Set(k, s)
		}
	}
	if q.Quarantined {
		v.Set("quarantined", "on")
	}
	return v
}

// match applies the filters the store cannot.
func (q objectQuery) match(s objectSummary) bool {
	o := s.V
	if q.Originator == "unknown" && o.Originator != "" {
		return false
	}
	switch q.TLP {
	case "":
	case "none":
		if s.TLP != 0 {
			return false
		}
	default:
		if t, err := detente.ParseTLP(q.TLP); err != nil || s.TLP != t {
			return false
		}
	}
	if q.Reliability != "" && (o.Grading.IsZero() || string(o.Grading.Reliability) != q.Reliability) {
		return false
	}
	if q.Credibility != "" && (o.Grading.IsZero() || strconv.Itoa(int(o.Grading.Credibility)) != q.Credibility) {
		return false
	}
	if q.Text != "" {
		f := fieldsOf(o.Raw)
		texts := append([]string{o.ID, o.Type, s.Name, f.Name, f.Value, f.Pattern, f.Description, f.Type}, f.Aliases...)
		if s.Sentence != nil {
			texts = append(texts, s.Sentence.String())
		}
		t := strings.ToLower(q.Text)
		if !slices.ContainsFunc(texts, func(x string) bool { return strings.Contains(strings.ToLower(x), t) }) {
			return false
		}
	}
	return true
}

// objectsPage is the data of the intelligence list.
type objectsPage struct {
	Query    objectQuery
	Objects  []objectSummary
	Partners []*detente.Partner
	Types    []string
	Scanned  int
	// Older and Newer are the addresses of the next page of older objects
	// and of newer ones, "" when there is none; Older continues the
	// search when the page ended its scan before it was full. (Whole
	// addresses: html/template escapes a query string's "=" and "&" when
	// it is put after a "?" in the template.)
	Older, Newer string
}

// Bounds of one page of the intelligence list.
const (
	objectsPerPage = 50
	// objectsScan bounds the versions read to fill one page when filters
	// the store cannot apply leave most of them out.
	objectsScan = 5000
	scanBatch   = 500
)

// commonTypes are offered in the type filter.
var commonTypes = []string{"attack-pattern", "campaign", "course-of-action", "grouping", "identity", "indicator",
	"infrastructure", "intrusion-set", "location", "malware", "marking-definition", "note", "observed-data",
	"opinion", "relationship", "report", "sighting", "threat-actor", "tool", "vulnerability",
	"domain-name", "email-addr", "file", "ipv4-addr", "ipv6-addr", "url"}

func (h *Handler) objects(w http.ResponseWriter, r *http.Request, v *visit) error {
	ctx := r.Context()
	in, err := params.Parse(r.URL.RawQuery, params.Text("type"), params.Text("originator"),
		params.Enum("tlp", "clear", "green", "amber", "amber+strict", "red", "none"),
		params.Enum("reliability", "A", "B", "C", "D", "E", "F"), params.Enum("credibility", "1", "2", "3", "4", "5", "6"),
		params.Text("q"), params.Enum("quarantined", "on"), params.Int("before", 1, math.MaxInt64), params.Int("after", 0, math.MaxInt64),
		params.IgnoreOthers)
	if err != nil {
		return err
	}
	q := objectQuery{Type: strings.TrimSpace(in.Text("type")), Originator: in.Text("originator"), TLP: in.Text("tlp"),
		Reliability: in.Text("reliability"), Credibility: in.Text("credibility"), Text: strings.TrimSpace(in.Text("q")),
		Quarantined: in.Has("quarantined"), Before: in.Int("before", 0), After: in.Int("after", 0)}
	p := objectsPage{Query: q, Types: commonTypes}
	if p.Partners, err = h.node.Partners(ctx); err != nil {
		return err
	}
	// Newest first: scan backwards from Before (or the newest); for the
	// page of newer objects, forwards from After, shown reversed.
	forward := q.After > 0 && q.Before == 0
	f := detente.ObjectFilter{LatestOnly: true, WithQuarantined: q.Quarantined, Limit: scanBatch, Newest: !forward, BeforeSeq: q.Before}
	if forward {
		f.AfterSeq = q.After
	}
	if q.Type != "" {
		f.Types = []string{q.Type}
	}
	if q.Originator != "" && q.Originator != "unknown" {
		f.Originator = q.Originator
	}
	more := false // objects remain beyond the page, in the scan's direction
	var cursor int64
scan:
	for p.Scanned < objectsScan {
		batch, err := h.node.FindObjects(ctx, f)
		if err != nil {
			return err
		}
		names, err := h.names(ctx, relationEnds(batch))
		if err != nil {
			return err
		}
		for i, o := range batch {
			p.Scanned++
			cursor = o.Seq
			if s := summarise(o, names); q.match(s) {
				p.Objects = append(p.Objects, s)
				if len(p.Objects) == objectsPerPage {
					more = i < len(batch)-1 || len(batch) == scanBatch
					break scan
				}
			}
		}
		if len(batch) < scanBatch {
			break
		}
		more = true
		if forward {
			f.AfterSeq = cursor
		} else {
			f.BeforeSeq = cursor
		}
	}
	if forward {
		slices.Reverse(p.Objects)
	}
	page := func(key string, seq int64) string {
		nq := q.values()
		nq.Set(key, strconv.FormatInt(seq, 10))
		return "/objects?" + nq.Encode()
	}
	switch {
	case forward:
		if len(p.Objects) > 0 {
			p.Older = page("before", p.Objects[len(p.Objects)-1].V.Seq)
		}
		if more {
			p.Newer = page("after", cursor)
		}
	default:
		if more {
			p.Older = page("before", cursor)
			if len(p.Objects) == objectsPerPage {
				p.Older = page("before", p.Objects[len(p.Objects)-1].V.Seq)
			}
		}
		if q.Before > 0 {
			p.Newer = page("after", q.Before-1)
			if len(p.Objects) > 0 {
				p.Newer = page("after", p.Objects[0].V.Seq)
			}
		}
	}
	h.render(w, r, v, http.StatusOK, "objects", "Intelligence", "objects", p)
	return nil
}

// names returns the names of the objects among ids that the node holds
// (NormalID → name, "" for one without a name).
func (h *Handler) names(ctx context.Context, ids []string) (map[string]string, error) {
	out := map[string]string{}
	if len(ids) == 0 {
		return out, nil
	}
	cur, err := h.node.CurrentObjects(ctx, ids)
	if err != nil {
		return nil, err
	}
	for _, o := range cur {
		out[detente.NormalID(o.ID)] = displayName(o)
	}
	return out, nil
}

// markingView is a marking for people.
type markingView struct {
	ID    string
	Label string
	TLP   detente.TLP
	// Unknown is set when the node does not hold or understand the
	// definition: the egress policy then refuses every release.
	Unknown bool
}

// viewMarking returns marking id for people; defs holds the
// marking-definitions the node holds, by id.
func viewMarking(id string, defs map[string]*detente.ObjectVersion) markingView {
	if t, ok := detente.TLPOfMarking(id); ok {
		return markingView{ID: id, Label: tlpLabel(t), TLP: t}
	}
	o, ok := defs[id]
	if !ok {
		return markingView{ID: id, Label: "Marking not held (releases are refused)", Unknown: true}
	}
	so, err := stix.ParseObject(o.Raw)
	if err != nil {
		return markingView{ID: id, Label: "Marking not understood (releases are refused)", Unknown: true}
	}
	m, err := stix.ParseMarking(so)
	if err != nil {
		return markingView{ID: id, Label: "Marking not understood (releases are refused)", Unknown: true}
	}
	switch {
	case m.TLP != 0:
		return markingView{ID: id, Label: tlpLabel(m.TLP), TLP: m.TLP}
	case m.Caveat == detente.CaveatReleasableTo:
		return markingView{ID: id, Label: "Releasable to: " + strings.Join(m.To, ", ")}
	case m.Caveat == detente.CaveatThirdPartyRule:
		return markingView{ID: id, Label: "Third-party rule: onward release needs the originator's consent"}
	case m.Caveat == detente.CaveatPurpose:
		return markingView{ID: id, Label: "Purpose: " + m.Purpose}
	case m.Statement:
		var d struct {
			Definition struct {
				Statement string `json:"statement"`
			} `json:"definition"`
		}
		json.Unmarshal(o.Raw, &d) // a missing statement just shows empty
		return markingView{ID: id, Label: "Statement: " + d.Definition.Statement}
	}
	return markingView{ID: id, Label: "Marking not understood (releases are refused)", Unknown: true}
}

// signatureView is the outcome of re-verifying a stored version's signature.
type signatureView struct {
	// Status is "valid", "unsigned" or "invalid".
	Status  string
	Signer  string // the key, when signed
	Who     string // "this node", a partner's name, or "an unknown key"
	Problem string
}

func viewSignature(o *detente.ObjectVersion, self detente.PublicKey, partners []*detente.Partner) signatureView {
	signer, signed, err := stix.Verify(o.Raw)
	if err != nil && o.OriginKey().Equal(self) && leak.MayHoldMarkup(o.Raw) {
		// This node's fingerprint template: its canaries make it invalid
		// STIX, but what this node signed is still checked.
		signer, signed, err = stix.VerifyTemplate(o.Raw)
	}
	switch {
	case err != nil:
		return signatureView{Status: "invalid", Problem: detente.ErrorMessage(err)}
	case !signed:
		return signatureView{Status: "unsigned"}
	}
	s := signatureView{Status: "valid", Signer: signer.String(), Who: "an unknown key"}
	if signer.Equal(self) {
		s.Who = "this node"
	}
	for _, p := range partners {
		if p.Key.Equal(signer) {
			s.Who = "partner " + p.Name
		}
	}
	if o.Signer != nil && !o.Signer.Equal(signer) {
		s.Status, s.Problem = "invalid", "the signature verifies with another key than the one recorded on receipt"
	}
	return s
}

// versionView is one version of an object for people.
type versionView struct {
	V           *detente.ObjectVersion
	Name        string
	Description string
	Markings    []markingView
	Signature   signatureView
	JSON        string
	// Corroboration is who else asserts what the version asserts.
	Corroboration corroboration.Corroboration
}

// objectPage is the data of an object's page.
type objectPage struct {
	ID       string
	Name     string
	Type     string
	Versions []versionView // newest first
	Releases []*detente.Release
	Partners []*detente.Partner
	// RefNames names the objects the newest version references that the
	// node holds (by id when they have no name).
	RefNames map[string]string
	// Sentence is set when the object is a relationship.
	Sentence *sentence
	// Relations are the relationships naming the object, as sentences,
	// with the relationship's id; ReferencedBy the other objects whose
	// current version references it.
	Relations    []relationRow
	ReferencedBy []objectSummary
	Graph        *neighbourhood
	// Grading is the newest version's grading, the originator's beside
	// this node's own (internal/ledger).
	Grading *ledger.Assessment
}

// relationRow is a relationship naming the object shown.
type relationRow struct {
	ID       string
	Sentence sentence
}

// Bounds of an object's page.
const (
	objectReleases  = 200
	objectReferrers = 200
)

func (h *Handler) object(w http.ResponseWriter, r *http.Request, v *visit) error {
	ctx := r.Context()
	id := r.PathValue("id")
	p := objectPage{ID: id, RefNames: map[string]string{}}
	vs, err := h.node.ObjectVersions(ctx, id)
	if err != nil {
		return err
	}
	if p.Partners, err = h.node.Partners(ctx); err != nil {
		return err
	}
	referrers, err := h.node.Referrers(ctx, id, objectReferrers)
	if err != nil {
		return err
	}
	// Everything named on the page: markings, references, both ends of
	// each relationship, in one read.
	var want []string
	for _, o := range vs {
		want = append(want, o.Markings...)
	}
	latest := vs[len(vs)-1]
	want = append(want, latest.RefIDs()...)
	want = append(want, relationEnds(append(referrers, latest))...)
	held, err := h.node.CurrentObjects(ctx, want)
	if err != nil {
		return err
	}
	names := map[string]string{}
	for _, o := range held {
		names[detente.NormalID(o.ID)] = displayName(o)
	}
	for _, o := range referrers {
		names[detente.NormalID(o.ID)] = displayName(o)
	}
	self := h.node.PublicKey()
	cs, err := h.node.Corroboration.Of(ctx, vs)
	if err != nil {
		return err
	}
	for i, o := range slices.Backward(vs) {
		f := fieldsOf(o.Raw)
		vv := versionView{V: o, Name: displayName(o), Description: f.Description, Signature: viewSignature(o, self, p.Partners),
			Corroboration: cs[i]}
		for _, m := range o.Markings {
			vv.Markings = append(vv.Markings, viewMarking(m, held))
		}
		var b bytes.Buffer
		if json.Indent(&b, o.Raw, "", "  ") == nil {
			vv.JSON = b.String()
		} else {
			vv.JSON = string(o.Raw)
		}
		p.Versions = append(p.Versions, vv)
	}
	p.Name, p.Type = p.Versions[0].Name, p.Versions[0].V.Type
	if st, ok := relationSentence(p.Versions[0].V, names); ok {
		p.Sentence = &st
	}
	for _, ref := range latest.RefIDs() {
		if o, ok := held[ref]; ok {
			p.RefNames[ref] = cmp.Or(displayName(o), ref)
		}
	}
	for _, o := range referrers {
		if st, ok := relationSentence(o, names); ok {
			p.Relations = append(p.Relations, relationRow{ID: o.ID, Sentence: st})
		} else {
			p.ReferencedBy = append(p.ReferencedBy, summarise(o, names))
		}
	}
	names[detente.NormalID(latest.ID)] = p.Name
	p.Graph = drawNeighbourhood(latest, referrers, names)
	if p.Releases, err = h.node.Releases(ctx, detente.ReleaseFilter{Object: id, Limit: objectReleases}); err != nil {
		return err
	}
	if p.Grading, err = h.node.Ledger.Assess(ctx, id); err != nil {
		return err
	}
	title := p.Name
	switch {
	case p.Sentence != nil && title == "":
		title = p.Sentence.String()
	case title == "":
		title = id
	}
	h.render(w, r, v, http.StatusOK, "object", title, "objects", p)
	return nil
}
