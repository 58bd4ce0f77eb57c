package api

import (
	"net/http"
	"strconv"
	"strings"

	"detente"
	"detente/internal/lists"
	"detente/internal/params"
	"detente/internal/screen"
	"detente/internal/screening"
)

func (s *Server) screenRoutes() {
	s.handle("GET /api/v1/screen", analysts, MaxBody, s.getScreen,
		params.Text("name"), entityType, params.Date("dob"), params.Text("country"), params.Int("limit", 1, maxScreenHits), threshold)
	idParams := make([]params.Param, len(screen.QueryKinds))
	for i, k := range screen.QueryKinds {
		idParams[i] = params.List(k.Name)
	}
	s.handle("GET /api/v1/screen/identifiers", analysts, MaxBody, s.getScreenIdentifiers, idParams...)
	s.handle("POST /api/v1/screen/batch", analysts, MaxObjectsBody, s.postScreenBatch)
	s.handle("GET /api/v1/names/compare", analysts, MaxBody, s.getNamesCompare,
		params.Text("a").Required(), params.Text("b").Required(), entityType, threshold)
	s.handle("GET /api/v1/lists", anyRole, MaxBody, s.getLists)
	s.handle("GET /api/v1/lists/compare", analysts, MaxBody, s.getListsCompare, params.List("authority"))
	s.handle("POST /api/v1/lists/{authority}", admins, lists.MaxListSize, s.postList, params.Bool("allow_mass_delisting"))
}

// threshold is the threshold= parameter of screening and name comparison:
// a number in (0, 1].
var threshold = params.Func("threshold", func(v string) error {
	if _, err := parseThreshold(v); err != nil {
		return err
	}
	return nil
})

func parseThreshold(v string) (float64, error) {
	if v == "" {
		return 0, nil
	}
	t, err := strconv.ParseFloat(v, 64)
	if err != nil || screen.CheckThreshold(t) != nil || t == 0 {
		return 0, detente.Errorf(detente.EINVALID, "%q: %v", v, screen.ErrThreshold)
	}
	return t, nil
}

// MaxBatch bounds a screening batch.
const MaxBatch = 10_000

// maxScreenHits bounds the hits of one screening.
const maxScreenHits = 100

func (s *Server) getScreen(r *http.Request) (any, error) {
	q := query(r)
	sq := screen.Query{Name: q.Text("name"), Type: detente.EntityType(q.Text("type"))}
	if d := q.Text("dob"); d != "" {
		sq.DatesOfBirth = []string{d}
	}
	if c := q.Text("country"); c != "" {
		sq.Nationalities = []string{c}
	}
	sq.Threshold, _ = parseThreshold(q.Text("threshold"))
	return s.node.Screening.Screen(r.Context(), sq, int(q.Int("limit", 10)))
}

// maxIdentifiers bounds the identifiers of one query.
const maxIdentifiers = 100

// getScreenIdentifiers screens the identifiers given as wallet=CHAIN:ADDRESS,
// document=STATE:NUMBER (or NUMBER), imo=, iban=, bic= and aircraft=, each
// repeatable, exactly.
func (s *Server) getScreenIdentifiers(r *http.Request) (any, error) {
	q := query(r)
	var ids []screen.Identifier
	for _, k := range screen.QueryKinds {
		for _, v := range q.List(k.Name) {
			id, err := screen.ParseQuery(k.Name, v)
			if err != nil {
				return nil, detente.Errorf(detente.EINVALID, "%s", strings.TrimPrefix(err.Error(), screen.ErrIdentifier.Error()+": "))
			}
			ids = append(ids, id)
		}
	}
	if len(ids) == 0 {
		return nil, detente.Errorf(detente.EINVALID, "give at least one identifier: wallet, document, imo, iban, bic or aircraft")
	}
	if len(ids) > maxIdentifiers {
		return nil, detente.Errorf(detente.ETOOLARGE, "at most %d identifiers per query", maxIdentifiers)
	}
	return s.node.Screening.ScreenIdentifiers(r.Context(), ids)
}

// BatchRequest is the body of POST /api/v1/screen/batch.
type BatchRequest struct {
	Queries []BatchQuery `json:"queries"`
	Limit   int          `json:"limit,omitempty"`
}

// BatchQuery is one query of a batch: a name (screen.Query's fields), its
// identifiers, or both.
type BatchQuery struct {
	screen.Query
	Identifiers []screen.Identifier `json:"identifiers,omitempty"`
}

// BatchResult is one query's results, in request order.
type BatchResult struct {
	Name              string                    `json:"name"`
	Results           []screen.Hit              `json:"results,omitempty"`
	IdentifierResults []screening.IdentifierHit `json:"identifier_results,omitempty"`
	Error             string                    `json:"error,omitempty"`
}

func (s *Server) postScreenBatch(r *http.Request) (any, error) {
	var req BatchRequest
	if err := decode(r, &req); err != nil {
		return nil, err
	}
	if len(req.Queries) > MaxBatch {
		return nil, detente.Errorf(detente.ETOOLARGE, "at most %d queries per batch", MaxBatch)
	}
	if req.Limit <= 0 || req.Limit > maxScreenHits {
		req.Limit = 10
	}
	out := make([]BatchResult, len(req.Queries))
	for i, q := range req.Queries {
		out[i].Name = q.Name
		var err error
		if q.Name != "" || len(q.Identifiers) == 0 {
			if q.Threshold != 0 && screen.CheckThreshold(q.Threshold) != nil {
				err = detente.Errorf(detente.EINVALID, "threshold %v: %v", q.Threshold, screen.ErrThreshold)
			} else {
				out[i].Results, err = s.node.Screening.Screen(r.Context(), q.Query, req.Limit)
			}
		}
		if err == nil && len(q.Identifiers) > maxIdentifiers {
			err = detente.Errorf(detente.ETOOLARGE, "at most %d identifiers per query", maxIdentifiers)
		}
		if err == nil && len(q.Identifiers) > 0 {
			out[i].IdentifierResults, err = s.node.Screening.ScreenIdentifiers(r.Context(), q.Identifiers)
		}
		if err != nil {
			if detente.ErrorCode(err) == detente.EINTERNAL {
				return nil, err
			}
			out[i].Results, out[i].IdentifierResults = nil, nil
			out[i].Error = detente.ErrorMessage(err)
		}
	}
	return statusOK{out}, nil
}

func (s *Server) getNamesCompare(r *http.Request) (any, error) {
	q := query(r)
	t := detente.EntityType(q.Text("type"))
	th, _ := parseThreshold(q.Text("threshold"))
	return screen.Compare(screen.Query{Name: q.Text("a"), Type: t, Threshold: th}, screen.Query{Name: q.Text("b"), Type: t}), nil
}

func (s *Server) getLists(r *http.Request) (any, error) {
	return s.node.Screening.Lists(r.Context())
}

func (s *Server) getListsCompare(r *http.Request) (any, error) {
	return s.node.Screening.CompareLists(r.Context(), query(r).List("authority"))
}

// postList loads an issue of one authority's list sent as the body: the UN
// XML, the EU CSV, or the generic CSV (docs/lists.md). OFAC's four-file
// set goes through 'detente lists load' or 'lists fetch'. The query
// parameter allow_mass_delisting=true lets the issue delist more than
// screening.MassDelistingPercent of the authority's active entries.
func (s *Server) postList(r *http.Request) (any, error) {
	a := r.PathValue("authority")
	if a == lists.AuthorityOFAC {
		return nil, detente.Errorf(detente.EINVALID, "the OFAC list is four files: load it with 'detente lists load' or 'detente lists fetch'")
	}
	opts := screening.ListLoadOptions{AllowMassDelisting: query(r).Bool("allow_mass_delisting")}
	ds, err := lists.Loader{}.Load(a, lists.File{Name: "body", Body: r.Body})
	if err != nil {
		if strings.Contains(err.Error(), "request body too large") {
			return nil, detente.Errorf(detente.ETOOLARGE, "list is over %d bytes", lists.MaxListSize)
		}
		return nil, detente.Errorf(detente.EINVALID, "%v", err)
	}
	res, err := s.node.Screening.LoadList(r.Context(), a, ds, opts)
	if err != nil {
		return nil, err
	}
	res.Changes = nil
	return res, nil
}
