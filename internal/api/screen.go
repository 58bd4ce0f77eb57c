package api

import (
	"net/http"
	"strconv"
	"strings"

	"detente"
	"detente/internal/lists"
	"detente/internal/node"
	"detente/internal/screen"
)

func (s *Server) screenRoutes() {
	s.handle("GET /api/v1/screen", analysts, MaxBody, s.getScreen)
	s.handle("POST /api/v1/screen/batch", analysts, MaxObjectsBody, s.postScreenBatch)
	s.handle("GET /api/v1/names/compare", analysts, MaxBody, s.getNamesCompare)
	s.handle("GET /api/v1/lists", anyRole, MaxBody, s.getLists)
	s.handle("GET /api/v1/lists/compare", analysts, MaxBody, s.getListsCompare)
	s.handle("POST /api/v1/lists/{authority}", admins, lists.MaxListSize, s.postList)
}

// MaxBatch bounds a screening batch.
const MaxBatch = 10_000

func screenQuery(r *http.Request) (screen.Query, int, error) {
	q := r.URL.Query()
	sq := screen.Query{Name: q.Get("name")}
	switch t := q.Get("type"); t {
	case "":
	case "person", "organization":
		sq.Type = detente.EntityType(t)
	default:
		return sq, 0, detente.Errorf(detente.EINVALID, "type must be person or organization")
	}
	if d := q.Get("dob"); d != "" {
		sq.DatesOfBirth = []string{d}
	}
	if c := q.Get("country"); c != "" {
		sq.Nationalities = []string{c}
	}
	limit := 10
	if l := q.Get("limit"); l != "" {
		n, err := strconv.Atoi(l)
		if err != nil || n < 1 || n > 100 {
			return sq, 0, detente.Errorf(detente.EINVALID, "limit must be between 1 and 100")
		}
		limit = n
	}
	return sq, limit, nil
}

func (s *Server) getScreen(r *http.Request) (any, error) {
	q, limit, err := screenQuery(r)
	if err != nil {
		return nil, err
	}
	return s.node.Screen(r.Context(), q, limit)
}

// BatchRequest is the body of POST /api/v1/screen/batch.
type BatchRequest struct {
	Queries []screen.Query `json:"queries"`
	Limit   int            `json:"limit,omitempty"`
}

// BatchResult is one query's results, in request order.
type BatchResult struct {
	Name    string       `json:"name"`
	Results []screen.Hit `json:"results,omitempty"`
	Error   string       `json:"error,omitempty"`
}

func (s *Server) postScreenBatch(r *http.Request) (any, error) {
	var req BatchRequest
	if err := decode(r, &req); err != nil {
		return nil, err
	}
	if len(req.Queries) > MaxBatch {
		return nil, detente.Errorf(detente.ETOOLARGE, "at most %d queries per batch", MaxBatch)
	}
	if req.Limit <= 0 || req.Limit > 100 {
		req.Limit = 10
	}
	out := make([]BatchResult, len(req.Queries))
	for i, q := range req.Queries {
		out[i].Name = q.Name
		hits, err := s.node.Screen(r.Context(), q, req.Limit)
		if err != nil {
			if detente.ErrorCode(err) == detente.EINTERNAL {
				return nil, err
			}
			out[i].Error = detente.ErrorMessage(err)
			continue
		}
		out[i].Results = hits
	}
	return statusOK{out}, nil
}

func (s *Server) getNamesCompare(r *http.Request) (any, error) {
	q := r.URL.Query()
	if q.Get("a") == "" || q.Get("b") == "" {
		return nil, detente.Errorf(detente.EINVALID, "parameters a and b (the two names) are required")
	}
	a, b := screen.Query{Name: q.Get("a")}, screen.Query{Name: q.Get("b")}
	if t := q.Get("type"); t != "" {
		a.Type, b.Type = detente.EntityType(t), detente.EntityType(t)
	}
	return screen.Compare(a, b), nil
}

func (s *Server) getLists(r *http.Request) (any, error) {
	return s.node.Lists(r.Context())
}

func (s *Server) getListsCompare(r *http.Request) (any, error) {
	return s.node.CompareLists(r.Context(), r.URL.Query()["authority"])
}

// postList loads an issue of one authority's list sent as the body: the UN
// XML, the EU CSV, or the generic CSV (docs/lists.md). OFAC's four-file
// set goes through 'detente lists load' or 'lists fetch'. The query
// parameter allow_mass_delisting=true lets the issue delist more than
// node.MassDelistingPercent of the authority's active entries.
func (s *Server) postList(r *http.Request) (any, error) {
	a := r.PathValue("authority")
	if a == lists.AuthorityOFAC {
		return nil, detente.Errorf(detente.EINVALID, "the OFAC list is four files: load it with 'detente lists load' or 'detente lists fetch'")
	}
	var opts node.ListLoadOptions
	if v := r.URL.Query().Get("allow_mass_delisting"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return nil, detente.Errorf(detente.EINVALID, "allow_mass_delisting must be true or false")
		}
		opts.AllowMassDelisting = b
	}
	ds, err := lists.Loader{}.Load(a, lists.File{Name: "body", Body: r.Body})
	if err != nil {
		if strings.Contains(err.Error(), "request body too large") {
			return nil, detente.Errorf(detente.ETOOLARGE, "list is over %d bytes", lists.MaxListSize)
		}
		return nil, detente.Errorf(detente.EINVALID, "%v", err)
	}
	res, err := s.node.LoadList(r.Context(), a, ds, opts)
	if err != nil {
		return nil, err
	}
	res.Changes = nil
	return res, nil
}
