package peer

// Private matching (docs/matching.md): the watchlist owner's endpoints and
// the querier's calls to them.
//
//	GET  /detente/v1/match/terms      the terms in force, epoch and budget used
//	GET  /detente/v1/match/watchlist  the encoded watchlist of the caller's epoch
//	POST /detente/v1/match/query      a VOPRF query (JSON psi.QueryRequest)
//	POST /detente/v1/match/bulk?type= a bulk or count hello (binary psi.BulkHello)
//
// Refusals are JSON errors (MatchErrorBody); a query for another epoch is
// 409 naming the current one in "epoch". Answers to queries and hellos
// carry the budget in HeaderMatchUsed and HeaderMatchLimit.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"detente"
	"detente/internal/httperr"
	"detente/internal/psi"
)

// Limits of the matching endpoints.
const (
	// MaxMatchQueryBody bounds a query request a partner sends.
	MaxMatchQueryBody = 4 << 20
	// MaxMatchBulkBody bounds a bulk hello a partner sends, and the reply.
	MaxMatchBulkBody = 40 << 20
	// MaxEncodedWatchlist bounds an encoded watchlist fetched from a
	// partner.
	MaxEncodedWatchlist = 128 << 20
	// maxMatchTerms bounds the terms fetched from a partner.
	maxMatchTerms = 64 << 10
)

// Budget headers of the answers to queries and hellos.
const (
	HeaderMatchUsed  = "Detente-Match-Used"
	HeaderMatchLimit = "Detente-Match-Limit"
)

// MatchTerms is what an owner tells a partner of the matching terms in
// force between them: the agreement's terms, the current epoch and period,
// and how much of the period's budget is used.
type MatchTerms struct {
	ProtocolVersion int       `json:"protocol_version"`
	Agreement       string    `json:"agreement"`
	Epoch           string    `json:"epoch"`
	PeriodStart     time.Time `json:"period_start"`
	PeriodEnd       time.Time `json:"period_end"`
	Evaluations     int       `json:"evaluations"`
	Used            int       `json:"used"`
	MaxSetSize      int       `json:"max_set_size"`
	MinSetSize      int       `json:"min_set_size,omitempty"`
	Modes           []string  `json:"modes"`
}

// MatchUsage is a partner's use of its budget for the period, as the owner
// reports it with every answer to a query or hello.
type MatchUsage struct {
	Used  int
	Limit int
}

// MatchErrorBody is the JSON error body of the matching endpoints: a code
// and message as everywhere (httperr.Body), and the current epoch when a
// request was for another one.
type MatchErrorBody struct {
	Error struct {
		Code    string `json:"code"`
		Message string `json:"message"`
		Epoch   string `json:"epoch,omitempty"`
	} `json:"error"`
}

// ---- the server half ----

// Matching is the watchlist owner's side of private matching, which the
// matching endpoints serve. partner is the authenticated caller. Each
// method refuses (an error with a detente code) what the terms in force
// with partner do not allow; a refusal is final, not to be retried.
type Matching interface {
	// Terms returns the terms in force with partner and its usage.
	Terms(ctx context.Context, partner string) (*MatchTerms, error)
	// EncodedWatchlist returns the binary encoded watchlist
	// (psi.Watchlist) partner may query in its current epoch.
	EncodedWatchlist(ctx context.Context, partner string) ([]byte, error)
	// EvaluateQuery answers partner's VOPRF query, charging it to the
	// period's budget first. A query for another epoch is refused with a
	// *psi.EpochError. The usage is returned when known, refusals
	// included.
	EvaluateQuery(ctx context.Context, partner string, req *psi.QueryRequest) (*psi.QueryResponse, *MatchUsage, error)
	// RespondBulk answers partner's bulk or count hello against the
	// watchlists of type typ, charging it to the period's budget first.
	// The usage is returned when known, refusals included.
	RespondBulk(ctx context.Context, partner string, typ psi.Type, hello *psi.BulkHello) (*psi.BulkReply, *MatchUsage, error)
}

// MatchRoutes registers the matching endpoints, answered by m.
func (s *Server) MatchRoutes(m Matching) {
	s.handleMatch("GET "+Prefix+"match/terms", func(w http.ResponseWriter, r *http.Request, p *detente.Partner) error {
		t, err := m.Terms(r.Context(), p.Name)
		if err != nil {
			return err
		}
		return writeJSON(w, t)
	})
	s.handleMatch("GET "+Prefix+"match/watchlist", func(w http.ResponseWriter, r *http.Request, p *detente.Partner) error {
		b, err := m.EncodedWatchlist(r.Context(), p.Name)
		if err != nil {
			return err
		}
		writeBinary(w, b)
		return nil
	})
	s.handleMatch("POST "+Prefix+"match/query", func(w http.ResponseWriter, r *http.Request, p *detente.Partner) error {
		var req psi.QueryRequest
		if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, MaxMatchQueryBody)).Decode(&req); err != nil {
			if err := httperr.Domain(err); detente.ErrorCode(err) == detente.ETOOLARGE {
				return err
			}
			return detente.Errorf(detente.EINVALID, "query request: %v", err)
		}
		resp, u, err := m.EvaluateQuery(r.Context(), p.Name, &req)
		setUsage(w, u)
		if err != nil {
			return err
		}
		return writeJSON(w, resp)
	})
	s.handleMatch("POST "+Prefix+"match/bulk", func(w http.ResponseWriter, r *http.Request, p *detente.Partner) error {
		raw, err := readBody(w, r, MaxMatchBulkBody)
		if err != nil {
			return err
		}
		var hello psi.BulkHello
		if err := hello.UnmarshalBinary(raw); err != nil {
			return detente.Errorf(detente.EINVALID, "bulk hello: %v", err)
		}
		reply, u, err := m.RespondBulk(r.Context(), p.Name, psi.Type(r.URL.Query().Get("type")), &hello)
		setUsage(w, u)
		if err != nil {
			return err
		}
		out, err := reply.MarshalBinary()
		if err != nil {
			return fmt.Errorf("encode bulk reply: %w", err)
		}
		writeBinary(w, out)
		return nil
	})
}

// handleMatch registers a matching endpoint for partners: a request for
// another epoch is answered with the epoch-conflict body, any other error
// as everywhere (Server.handle).
func (s *Server) handleMatch(pattern string, h handler) {
	s.handle(pattern, func(w http.ResponseWriter, r *http.Request, p *detente.Partner) error {
		err := h(w, r, p)
		var ee *psi.EpochError
		if !errors.As(err, &ee) {
			return err
		}
		var body MatchErrorBody
		body.Error.Code = detente.ECONFLICT
		body.Error.Message = "the request is for epoch " + ee.Got + ", the current one is " + ee.Current
		body.Error.Epoch = ee.Current
		b, _ := json.Marshal(body)
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		w.WriteHeader(http.StatusConflict)
		w.Write(append(b, '\n')) // the client may have gone; nothing to do about it
		return nil
	})
}

// setUsage sets the budget headers, when the usage is known.
func setUsage(w http.ResponseWriter, u *MatchUsage) {
	if u != nil {
		w.Header().Set(HeaderMatchUsed, strconv.Itoa(u.Used))
		w.Header().Set(HeaderMatchLimit, strconv.Itoa(u.Limit))
	}
}

// writeBinary answers with b as application/octet-stream.
func writeBinary(w http.ResponseWriter, b []byte) {
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("Cache-Control", "no-store")
	w.Write(b) // the client may have gone; nothing to do about it
}

// ---- the client half ----

// MatchTerms returns the matching terms the partner has in force with this
// node. Terms naming another protocol version than psi.ProtocolVersion are
// refused (ECONFLICT): a partner on another version gets no matches, not
// wrong ones.
func (c *Client) MatchTerms(ctx context.Context) (*MatchTerms, error) {
	raw, _, err := c.matchDo(ctx, http.MethodGet, "terms", nil, "", nil, maxMatchTerms)
	if err != nil {
		return nil, err
	}
	var t MatchTerms
	if err := json.Unmarshal(raw, &t); err != nil {
		return nil, detente.Errorf(detente.EUNAVAILABLE, "partner %s sent malformed matching terms: %v", c.Partner, err)
	}
	if t.ProtocolVersion != psi.ProtocolVersion {
		return nil, detente.Errorf(detente.ECONFLICT, "partner %s speaks matching protocol version %d, this node %d", c.Partner, t.ProtocolVersion, psi.ProtocolVersion)
	}
	return &t, nil
}

// MatchWatchlist fetches the encoded watchlist the partner publishes to
// this node for its current epoch.
func (c *Client) MatchWatchlist(ctx context.Context) (*psi.Watchlist, error) {
	raw, _, err := c.matchDo(ctx, http.MethodGet, "watchlist", nil, "", nil, MaxEncodedWatchlist)
	if err != nil {
		return nil, err
	}
	w, err := psi.ParseWatchlist(raw)
	if err != nil {
		return nil, detente.Errorf(detente.EUNAVAILABLE, "partner %s sent a malformed encoded watchlist: %v", c.Partner, err)
	}
	return w, nil
}

// MatchQuery sends a VOPRF query and returns the partner's evaluation and
// its account of the budget. A refusal naming another epoch is a
// *psi.EpochError (errors.Is psi.ErrEpoch).
func (c *Client) MatchQuery(ctx context.Context, req *psi.QueryRequest) (*psi.QueryResponse, MatchUsage, error) {
	body, err := json.Marshal(req)
	if err != nil {
		return nil, MatchUsage{}, fmt.Errorf("encode query: %w", err)
	}
	raw, hdr, err := c.matchDo(ctx, http.MethodPost, "query", nil, "application/json", body, MaxMatchQueryBody)
	if err != nil {
		return nil, MatchUsage{}, err
	}
	var resp psi.QueryResponse
	if err := json.Unmarshal(raw, &resp); err != nil {
		return nil, MatchUsage{}, detente.Errorf(detente.EUNAVAILABLE, "partner %s sent a malformed query response: %v", c.Partner, err)
	}
	return &resp, usageOf(hdr), nil
}

// MatchBulk sends a bulk or count hello comparing the partner's watchlists
// of type typ, and returns its reply and its account of the budget.
func (c *Client) MatchBulk(ctx context.Context, typ psi.Type, hello *psi.BulkHello) (*psi.BulkReply, MatchUsage, error) {
	body, err := hello.MarshalBinary()
	if err != nil {
		return nil, MatchUsage{}, fmt.Errorf("encode bulk hello: %w", err)
	}
	raw, hdr, err := c.matchDo(ctx, http.MethodPost, "bulk", url.Values{"type": {string(typ)}}, "application/octet-stream", body, MaxMatchBulkBody)
	if err != nil {
		return nil, MatchUsage{}, err
	}
	var reply psi.BulkReply
	if err := reply.UnmarshalBinary(raw); err != nil {
		return nil, MatchUsage{}, detente.Errorf(detente.EUNAVAILABLE, "partner %s sent a malformed bulk reply: %v", c.Partner, err)
	}
	return &reply, usageOf(hdr), nil
}

// usageOf reads the budget headers; absent ones read as 0.
func usageOf(h http.Header) MatchUsage {
	used, _ := strconv.Atoi(h.Get(HeaderMatchUsed))
	limit, _ := strconv.Atoi(h.Get(HeaderMatchLimit))
	return MatchUsage{Used: used, Limit: limit}
}

// matchDo sends one request to the matching endpoint name and returns the
// answer, of at most limit bytes, and its headers. A refusal by the
// partner becomes a *detente.Error with the partner's code and message
// (remoteError); a refusal naming another epoch is a *psi.EpochError.
func (c *Client) matchDo(ctx context.Context, method, name string, q url.Values, contentType string, body []byte, limit int64) ([]byte, http.Header, error) {
	path := Prefix + "match/" + name
	u := strings.TrimSuffix(c.BaseURL, "/") + path
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, u, rd)
	if err != nil {
		return nil, nil, fmt.Errorf("%s %s: %w", method, path, err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := c.HTTP.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return nil, nil, ctx.Err()
		}
		return nil, nil, detente.Errorf(detente.EUNAVAILABLE, "partner %s: %v", c.Partner, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
	if err != nil {
		return nil, nil, detente.Errorf(detente.EUNAVAILABLE, "partner %s: %v", c.Partner, err)
	}
	if resp.StatusCode == http.StatusOK {
		if int64(len(b)) > limit {
			return nil, nil, detente.Errorf(detente.EUNAVAILABLE, "partner %s: answer over %d bytes", c.Partner, limit)
		}
		return b, resp.Header, nil
	}
	var e MatchErrorBody
	if json.Unmarshal(b, &e) != nil || e.Error.Code == "" {
		return nil, nil, detente.Errorf(detente.EUNAVAILABLE, "partner %s: %s %s: %s", c.Partner, method, path, resp.Status)
	}
	if e.Error.Epoch != "" {
		return nil, nil, &psi.EpochError{Current: e.Error.Epoch}
	}
	return nil, nil, remoteError(c.Partner, resp.StatusCode, b)
}
