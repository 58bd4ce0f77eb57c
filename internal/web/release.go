package web

import (
	"cmp"
	"context"
	"net/http"
	"slices"
	"strings"

	"detente"
	"detente/internal/params"
)

// releasePage is the data of the release check.
type releasePage struct {
	Object   string
	Partner  string
	Partners []*detente.Partner
	// Choices are recent objects to pick from, for roles that may read
	// intelligence; auditors type an id.
	Choices []objectSummary
	// Decision is the outcome, nil before a check.
	Decision *detente.Decision
	// Names names the objects of the closure, for roles that may read
	// intelligence.
	Names map[string]string
	// Denying and Informing split the reasons.
	Denying, Informing []detente.Reason
	// Problem says why no decision could be made (an unknown object…).
	Problem string
	// Reach is, for a denied release, every object the node holds that the
	// object references, directly or not: what the release would have
	// carried. The policy gives the closure of allowed releases only.
	Reach []string
}

// maxReach bounds the objects a denied release's reach lists.
const maxReach = 500

// reach returns root and every held object it references, directly or
// through other objects, with the held marking-definitions they carry
// (the well-known TLP ones left out), breadth first.
func reach(ctx context.Context, tx detente.Tx, root string) ([]string, error) {
	seen := map[string]bool{root: true}
	queue := []string{root}
	var out []string
	for len(queue) > 0 && len(out) < maxReach {
		id := queue[0]
		queue = queue[1:]
		o, err := tx.Object(ctx, id)
		if detente.ErrorCode(err) == detente.ENOTFOUND {
			continue
		}
		if err != nil {
			return nil, err
		}
		out = append(out, id)
		next := o.RefIDs()
		for _, m := range o.Markings {
			if _, tlp := detente.TLPOfMarking(m); !tlp {
				next = append(next, m)
			}
		}
		for _, n := range next {
			if !seen[n] {
				seen[n] = true
				queue = append(queue, n)
			}
		}
	}
	return out, nil
}

// releaseChoices is how many of the newest objects the picker offers.
const releaseChoices = 300

func (h *Handler) releaseCheck(w http.ResponseWriter, r *http.Request, v *visit) error {
	ctx := r.Context()
	q, err := params.Parse(r.URL.RawQuery, params.Text("object"), params.Text("partner"), params.IgnoreOthers)
	if err != nil {
		return err
	}
	p := releasePage{Object: strings.TrimSpace(q.Text("object")), Partner: q.Text("partner"), Names: map[string]string{}}
	err = h.node.Store.View(ctx, func(tx detente.Tx) error {
		var err error
		if p.Partners, err = tx.Partners(ctx); err != nil {
			return err
		}
		if !v.Can("intel") {
			return nil
		}
		n, err := tx.CountObjects(ctx)
		if err != nil {
			return err
		}
		objs, err := tx.Objects(ctx, detente.ObjectFilter{AfterSeq: max(0, n-releaseChoices), LatestOnly: true, Limit: releaseChoices})
		if err != nil {
			return err
		}
		for i := len(objs) - 1; i >= 0; i-- {
			if objs[i].Type != "marking-definition" {
				p.Choices = append(p.Choices, summarise(objs[i], nil))
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	if p.Object != "" && p.Partner != "" {
		d, err := h.node.CheckRelease(ctx, p.Object, p.Partner)
		if err != nil {
			if detente.ErrorCode(err) == detente.EINTERNAL {
				return err
			}
			p.Problem = detente.ErrorMessage(err)
			h.render(w, r, v, http.StatusOK, "release", "Release check", "release", p)
			return nil
		}
		p.Decision = d
		for _, x := range d.Reasons {
			if x.Deny {
				p.Denying = append(p.Denying, x)
			} else {
				p.Informing = append(p.Informing, x)
			}
		}
		err = h.node.Store.View(ctx, func(tx detente.Tx) error {
			if !d.Allowed {
				var err error
				if p.Reach, err = reach(ctx, tx, d.Object); err != nil {
					return err
				}
			}
			if !v.Can("intel") {
				return nil
			}
			ids := slices.Concat(d.Closure, p.Reach)
			for _, x := range d.Reasons {
				ids = append(ids, x.Object)
			}
			for _, id := range ids {
				if _, done := p.Names[id]; done || id == "" {
					continue
				}
				if o, err := tx.Object(ctx, id); err == nil {
					p.Names[id] = cmp.Or(displayName(o), id)
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
	} else if p.Object != "" || p.Partner != "" {
		p.Problem = "pick both an object and a partner"
	}
	h.render(w, r, v, http.StatusOK, "release", "Release check", "release", p)
	return nil
}
