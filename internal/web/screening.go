package web

import (
	"errors"
	"net/http"
	"slices"
	"strings"
	"time"

	"detente"
	"detente/internal/params"
	"detente/internal/screen"
	"detente/internal/screening"
)

// screeningPage is the data of the screening and designations page.
type screeningPage struct {
	Lists []screening.ListSummary
	// The search, for roles that may read intelligence.
	Name, Type, DOB, Country string
	Searched                 bool
	Hits                     []screen.Hit
	Problem                  string
	// The identifier search.
	IDKind, ID string
	IDKinds    []string
	IDSearched bool
	IDHits     []screening.IdentifierHit
	IDProblem  string
	// The comparison between authorities.
	Chosen  []string
	Report  *screen.Report
	Map     *heatMap
	Scope   []screen.ScopeDifference
	Diverge []screen.Entity // entities only one authority lists, a sample
	// A comparison still running: designations resolved of the total.
	Pending     bool
	Done, Total int
}

// idKinds are the kinds of identifier the page screens.
func idKinds() []string {
	out := make([]string, len(screen.QueryKinds))
	for i, k := range screen.QueryKinds {
		out[i] = k.Name
	}
	return out
}

// compareWait is how long the screening page waits for a comparison of
// lists before it shows its progress and reloads itself.
const compareWait = 1500 * time.Millisecond

// Bounds of the screening page.
const (
	screenHits   = 20
	scopeShown   = 25
	divergeShown = 25
)

func (h *Handler) screening(w http.ResponseWriter, r *http.Request, v *visit) error {
	ctx := r.Context()
	q, err := params.Parse(r.URL.RawQuery, params.Text("name"),
		params.Enum("type", string(detente.EntityPerson), string(detente.EntityOrganization)),
		params.Date("dob"), params.Text("country"), params.Enum("compare", "1"), params.List("authority"),
		params.Enum("kind", idKinds()...), params.Text("identifier"), params.IgnoreOthers)
	if err != nil {
		return err
	}
	lists, err := h.node.Screening.Lists(ctx)
	if err != nil {
		return err
	}
	p := screeningPage{Lists: lists, Name: strings.TrimSpace(q.Text("name")), Type: q.Text("type"),
		DOB: q.Text("dob"), Country: strings.TrimSpace(q.Text("country")),
		IDKind: q.Text("kind"), ID: strings.TrimSpace(q.Text("identifier")), IDKinds: idKinds()}
	if v.Can("intel") && p.ID != "" {
		kind := p.IDKind
		if kind == "" {
			kind = "wallet"
		}
		id, err := screen.ParseQuery(kind, p.ID)
		if err == nil {
			p.IDHits, err = h.node.Screening.ScreenIdentifiers(ctx, []screen.Identifier{id})
		}
		if err != nil {
			if detente.ErrorCode(err) == detente.EINTERNAL && !errors.Is(err, screen.ErrIdentifier) {
				return err
			}
			p.IDProblem = strings.TrimPrefix(detente.ErrorMessage(err), screen.ErrIdentifier.Error()+": ")
			if errors.Is(err, screen.ErrIdentifier) {
				p.IDProblem = strings.TrimPrefix(err.Error(), screen.ErrIdentifier.Error()+": ")
			}
		}
		p.IDSearched = err == nil
	}
	if v.Can("intel") && p.Name != "" {
		sq := screen.Query{Name: p.Name, Type: detente.EntityType(p.Type)}
		if p.DOB != "" {
			sq.DatesOfBirth = []string{p.DOB}
		}
		if p.Country != "" {
			sq.Nationalities = []string{p.Country}
		}
		if p.Problem == "" {
			hits, err := h.node.Screening.Screen(ctx, sq, screenHits)
			if err != nil {
				if detente.ErrorCode(err) == detente.EINTERNAL {
					return err
				}
				p.Problem = detente.ErrorMessage(err)
			}
			p.Hits, p.Searched = hits, err == nil
		}
	}
	if v.Can("intel") && q.Has("compare") {
		for _, a := range q.List("authority") {
			if slices.ContainsFunc(lists, func(l screening.ListSummary) bool { return l.Authority == a }) && !slices.Contains(p.Chosen, a) {
				p.Chosen = append(p.Chosen, a)
			}
		}
		if len(p.Chosen) < 2 {
			p.Problem = "pick at least two authorities to compare"
		} else {
			var rep *screen.Report
			job, err := h.node.Screening.StartCompare(ctx, p.Chosen)
			if err == nil {
				var finished bool
				if rep, err, finished = job.Wait(ctx, h.compareWait); !finished {
					// Still running: show how far it is, and reload.
					p.Pending = true
					p.Done, p.Total = job.Progress()
					w.Header().Set("Refresh", "1")
				}
			}
			if p.Pending {
				// The page reloads itself until the comparison is done.
			} else if err != nil {
				if detente.ErrorCode(err) == detente.EINTERNAL {
					return err
				}
				p.Problem = detente.ErrorMessage(err)
			} else {
				p.Report = rep
				m := divergenceMap(rep)
				p.Map = &m
				p.Scope = rep.Scope[:min(len(rep.Scope), scopeShown)]
				for _, e := range rep.Entities {
					if e.Agreement == screen.ListedByOne && len(p.Diverge) < divergeShown {
						p.Diverge = append(p.Diverge, e)
					}
				}
			}
		}
	}
	h.render(w, r, v, http.StatusOK, "screening", "Screening and designations", "screening", p)
	return nil
}
