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
	"detente/internal/params"
	"detente/internal/stix"
)

// objectSummary is what a list shows of an object version.
type objectSummary struct {
	V    *detente.ObjectVersion
	Name string
	TLP  detente.TLP // the most restrictive TLP marking, 0 if none
	// Other counts markings that are not TLP (caveats, statements).
	Other int
}

// objectFields is the part of a STIX object the console shows as text.
type objectFields struct {
	Name        string `json:"name"`
	Value       string `json:"value"`
	Pattern     string `json:"pattern"`
	Description string `json:"description"`
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

func summarise(o *detente.ObjectVersion) objectSummary {
	s := objectSummary{V: o, Name: displayName(o)}
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
	After       int64
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
		t := strings.ToLower(q.Text)
		f := fieldsOf(o.Raw)
		if !strings.Contains(strings.ToLower(o.ID), t) && !strings.Contains(strings.ToLower(s.Name), t) &&
			!strings.Contains(strings.ToLower(f.Description), t) {
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
	// Next is the query string of the next page, "" on the last.
	Next string
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
		params.Text("q"), params.Enum("quarantined", "on"), params.Int("after", 0, math.MaxInt64), params.IgnoreOthers)
	if err != nil {
		return err
	}
	q := objectQuery{Type: strings.TrimSpace(in.Text("type")), Originator: in.Text("originator"), TLP: in.Text("tlp"),
		Reliability: in.Text("reliability"), Credibility: in.Text("credibility"), Text: strings.TrimSpace(in.Text("q")),
		Quarantined: in.Has("quarantined"), After: in.Int("after", 0)}
	p := objectsPage{Query: q, Types: commonTypes}
	f := detente.ObjectFilter{AfterSeq: q.After, LatestOnly: true, WithQuarantined: q.Quarantined, Limit: scanBatch}
	if q.Type != "" {
		f.Types = []string{q.Type}
	}
	if q.Originator != "" && q.Originator != "unknown" {
		f.Originator = q.Originator
	}
	more := false
	err = h.node.Store.View(ctx, func(tx detente.Tx) error {
		var err error
		if p.Partners, err = tx.Partners(ctx); err != nil {
			return err
		}
		for p.Scanned < objectsScan && len(p.Objects) < objectsPerPage {
			batch, err := tx.Objects(ctx, f)
			if err != nil {
				return err
			}
			for i, o := range batch {
				p.Scanned++
				f.AfterSeq = o.Seq
				if s := summarise(o); q.match(s) {
					p.Objects = append(p.Objects, s)
					if len(p.Objects) == objectsPerPage {
						more = i < len(batch)-1 || len(batch) == scanBatch
						return nil
					}
				}
			}
			if len(batch) < scanBatch {
				return nil
			}
			more = true
		}
		return nil
	})
	if err != nil {
		return err
	}
	if more {
		nq := q.values()
		nq.Set("after", strconv.FormatInt(f.AfterSeq, 10))
		p.Next = nq.Encode()
	}
	h.render(w, r, v, http.StatusOK, "objects", "Intelligence", "objects", p)
	return nil
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

func viewMarking(ctx context.Context, tx detente.Tx, id string) markingView {
	if t, ok := detente.TLPOfMarking(id); ok {
		return markingView{ID: id, Label: tlpLabel(t), TLP: t}
	}
	o, err := tx.Object(ctx, id)
	if err != nil {
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
}

// objectReleases bounds the releases an object page lists.
const objectReleases = 200

func (h *Handler) object(w http.ResponseWriter, r *http.Request, v *visit) error {
	ctx := r.Context()
	id := r.PathValue("id")
	p := objectPage{ID: id, RefNames: map[string]string{}}
	err := h.node.Store.View(ctx, func(tx detente.Tx) error {
		vs, err := tx.ObjectVersions(ctx, id)
		if err != nil {
			return err
		}
		if len(vs) == 0 {
			return detente.Errorf(detente.ENOTFOUND, "object %s is not held by this node", id)
		}
		if p.Partners, err = tx.Partners(ctx); err != nil {
			return err
		}
		self := h.node.PublicKey()
		for _, o := range slices.Backward(vs) {
			f := fieldsOf(o.Raw)
			vv := versionView{V: o, Name: displayName(o), Description: f.Description, Signature: viewSignature(o, self, p.Partners)}
			for _, m := range o.Markings {
				vv.Markings = append(vv.Markings, viewMarking(ctx, tx, m))
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
		for _, ref := range p.Versions[0].V.RefIDs() {
			if o, err := tx.Object(ctx, ref); err == nil {
				p.RefNames[ref] = cmp.Or(displayName(o), ref)
			}
		}
		p.Releases, err = tx.Releases(ctx, detente.ReleaseFilter{Object: id, Limit: objectReleases})
		return err
	})
	if err != nil {
		return err
	}
	title := p.Name
	if title == "" {
		title = id
	}
	h.render(w, r, v, http.StatusOK, "object", title, "objects", p)
	return nil
}
