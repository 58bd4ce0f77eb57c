package api

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"time"

	"detente"
	"detente/internal/corroboration"
	"detente/internal/node"
	"detente/internal/params"
)

func (s *Server) routes() {
	s.handle("GET /api/v1/node", anyRole, MaxBody, s.getNode)

	s.handle("POST /api/v1/objects", analysts, MaxObjectsBody, s.postObjects, params.Func("grading", checkGrading), params.Bool("fingerprint"), params.Bool("partial"))
	s.handle("GET /api/v1/objects", analysts, MaxBody, s.listObjects,
		params.Text("type"), seqParam("after"), limit, params.Text("originator"),
		params.Enum("versions", "all", "latest"), params.Bool("quarantined"))
	s.handle("GET /api/v1/objects/{id}", analysts, MaxBody, s.getObject)
	s.handle("GET /api/v1/objects/{id}/versions", analysts, MaxBody, s.getVersions)

	s.handle("GET /api/v1/partners", anyRole, MaxBody, s.listPartners)
	s.handle("GET /api/v1/partners/status", anyRole, MaxBody, s.partnerStatus)
	s.handle("POST /api/v1/partners", admins, MaxBody, s.postPartner)
	s.handle("POST /api/v1/partners/{name}/suspend", admins, MaxBody, s.partnerState(detente.PartnerSuspended))
	s.handle("POST /api/v1/partners/{name}/resume", admins, MaxBody, s.partnerState(detente.PartnerActive))
	s.handle("PATCH /api/v1/partners/{name}", admins, MaxBody, s.patchPartner)
	s.handle("POST /api/v1/partners/{name}/remove", admins, MaxBody, s.removePartner)
	s.handle("GET /api/v1/partners/{name}/report", analysts, MaxBody, s.partnerReport)
	s.handle("POST /api/v1/corroboration/rebuild", admins, MaxBody, s.rebuildCorroboration)

	s.handle("GET /api/v1/agreements", anyRole, MaxBody, s.listAgreements)
	s.handle("POST /api/v1/agreements", admins, detente.MaxAgreementSize, s.postAgreement)
	s.handle("POST /api/v1/agreements/{id}/suspend", admins, MaxBody, s.agreementState(detente.AgreementSuspended))
	s.handle("POST /api/v1/agreements/{id}/resume", admins, MaxBody, s.agreementState(detente.AgreementActive))
	s.handle("POST /api/v1/agreements/{id}/end", admins, MaxBody, s.agreementState(detente.AgreementEnded))

	s.handle("GET /api/v1/releases/check", anyRole, MaxBody, s.checkRelease,
		params.Text("object").Required(), params.Text("partner").Required())
	s.handle("POST /api/v1/releases", analysts, MaxBody, s.postRelease)
	s.handle("GET /api/v1/releases", anyRole, MaxBody, s.listReleases, params.Text("object"), params.Text("partner"), limit)

	s.handle("GET /api/v1/events", auditors, MaxBody, s.listEvents,
		seqParam("from"), params.Text("type"), params.Text("partner"), params.Enum("order", "newest", "oldest"), limit)

	s.handle("GET /api/v1/log/checkpoint", anyRole, MaxBody, s.getCheckpoint, params.Enum("format", "note", "json"))
	s.handle("GET /api/v1/log/entries", auditors, MaxBody, s.logEntries, seqParam("from"), seqParam("to"))
	s.handle("GET /api/v1/log/proof/inclusion", anyRole, MaxBody, s.inclusionProof, seqParam("seq").Required(), sizeParam("size"))
	s.handle("GET /api/v1/log/proof/consistency", anyRole, MaxBody, s.consistencyProof, sizeParam("old").Required(), sizeParam("new"))
	s.handle("GET /api/v1/log/export", auditors, MaxBody, s.exportLog, seqParam("from"), seqParam("to"))
	s.handle("GET /api/v1/log/stats", auditors, MaxBody, s.logStats)
	s.handle("GET /api/v1/alerts", auditors, MaxBody, s.listAlerts, limit)

	s.handle("GET /api/v1/tokens", admins, MaxBody, s.listTokens)
	s.handle("POST /api/v1/tokens", admins, MaxBody, s.postToken)
	s.handle("POST /api/v1/tokens/{id}/revoke", admins, MaxBody, s.revokeToken)

	s.screenRoutes()
	s.channelRoutes()
	s.matchRoutes()
	s.feedRoutes()
	s.leakRoutes()
	s.ledgerRoutes()
	s.feedbackRoutes()

	s.mux.HandleFunc("/api/", func(w http.ResponseWriter, r *http.Request) {
		s.writeError(w, r, detente.Errorf(detente.ENOTFOUND, "no such endpoint: %s %s", r.Method, r.URL.Path))
	})
}

// NodeInfo describes this node.
type NodeInfo struct {
	Name string `json:"name"`
	Key  string `json:"key"`
	Role string `json:"role"` // the caller's role
}

func (s *Server) getNode(r *http.Request) (any, error) {
	return NodeInfo{Name: s.node.Name, Key: s.node.PublicKey().String(), Role: string(Token(r).Role)}, nil
}

func (s *Server) postObjects(r *http.Request) (any, error) {
	data, err := io.ReadAll(r.Body)
	if err != nil {
		return nil, err
	}
	opts := node.IngestOptions{Fingerprint: query(r).Bool("fingerprint"), Partial: query(r).Bool("partial")}
	if g := query(r).Text("grading"); g != "" {
		if opts.Grading, err = detente.ParseGrading(g); err != nil {
			return nil, err
		}
	}
	return s.node.Ingest(r.Context(), data, opts)
}

// checkGrading accepts an Admiralty grading, e.g. B2.
func checkGrading(v string) error {
	if _, err := detente.ParseGrading(v); err != nil {
		return detente.Errorf(detente.EINVALID, "%q is not a grading (a letter A-F and a digit 1-6, e.g. B2)", v)
	}
	return nil
}

// ObjectJSON is an object version with what the node records about it.
type ObjectJSON struct {
	ID         string    `json:"id"`
	Type       string    `json:"type"`
	Modified   time.Time `json:"modified,omitzero"`
	Originator string    `json:"originator"`
	// Relayed is set for a copy another node relayed (it signed it, with
	// a statement naming the originator).
	Relayed    bool      `json:"relayed,omitempty"`
	Signer     string    `json:"signer,omitempty"`
	Grading    string    `json:"grading,omitempty"`
	Markings   []string  `json:"markings"`
	Received   time.Time `json:"received"`
	Quarantine string    `json:"quarantine,omitempty"`
	Seq        int64     `json:"seq"`
	// Corroboration says which other originators assert what the version
	// asserts, and whether nobody does (internal/corroboration).
	Corroboration *corroboration.Corroboration `json:"corroboration"`
	Object        json.RawMessage              `json:"object"`
}

func objectJSON(o *detente.ObjectVersion) ObjectJSON {
	j := ObjectJSON{ID: o.ID, Type: o.Type, Modified: o.Modified, Originator: o.Originator, Grading: o.Grading.String(),
		Markings: o.Markings, Received: o.Received, Quarantine: o.Quarantine, Seq: o.Seq, Object: o.Raw, Relayed: o.Relayed()}
	if j.Markings == nil {
		j.Markings = []string{}
	}
	if o.Signer != nil {
		j.Signer = o.Signer.String()
	}
	return j
}

// objectsJSON returns os with their corroboration.
func (s *Server) objectsJSON(ctx context.Context, os []*detente.ObjectVersion) ([]ObjectJSON, error) {
	cs, err := s.node.Corroboration.Of(ctx, os)
	if err != nil {
		return nil, err
	}
	out := make([]ObjectJSON, 0, len(os))
	for i, o := range os {
		j := objectJSON(o)
		j.Corroboration = &cs[i]
		out = append(out, j)
	}
	return out, nil
}

func (s *Server) listObjects(r *http.Request) (any, error) {
	q := query(r)
	f := detente.ObjectFilter{AfterSeq: q.Int("after", 0), Limit: int(q.Int("limit", 100)), Originator: q.Text("originator"),
		LatestOnly: q.Text("versions") != "all", WithQuarantined: q.Bool("quarantined")}
	if f.WithQuarantined && Token(r).Role != detente.RoleAdmin {
		return nil, detente.Errorf(detente.EFORBIDDEN, "only admins see quarantined objects and why")
	}
	if t := q.Text("type"); t != "" {
		f.Types = []string{t}
	}
	objs, err := s.node.FindObjects(r.Context(), f)
	if err != nil {
		return nil, err
	}
	return s.objectsJSON(r.Context(), objs)
}

func (s *Server) getObject(r *http.Request) (any, error) {
	o, err := s.node.CurrentObject(r.Context(), r.PathValue("id"))
	if err != nil {
		return nil, err
	}
	js, err := s.objectsJSON(r.Context(), []*detente.ObjectVersion{o})
	if err != nil {
		return nil, err
	}
	return js[0], nil
}

func (s *Server) getVersions(r *http.Request) (any, error) {
	objs, err := s.node.ObjectVersions(r.Context(), r.PathValue("id"))
	if err != nil {
		return nil, err
	}
	return s.objectsJSON(r.Context(), objs)
}

func (s *Server) listPartners(r *http.Request) (any, error) {
	ps, err := s.node.Partners(r.Context())
	if ps == nil {
		ps = []*detente.Partner{}
	}
	return ps, err
}

// PartnerStatus is a partner with its sync state.
type PartnerStatus struct {
	*detente.Partner
	Sync *detente.SyncState `json:"sync"`
}

func (s *Server) partnerStatus(r *http.Request) (any, error) {
	ps, err := s.node.Partners(r.Context())
	if err != nil {
		return nil, err
	}
	ss, err := s.node.Federation.SyncStates(r.Context())
	if err != nil {
		return nil, err
	}
	out := make([]PartnerStatus, len(ps))
	for i, p := range ps {
		out[i] = PartnerStatus{p, ss[i]}
	}
	return out, nil
}

// PartnerRequest is the body of POST /api/v1/partners.
type PartnerRequest struct {
	Name string `json:"name"`
	Key  string `json:"key"`
	URL  string `json:"url"`
}

func (s *Server) postPartner(r *http.Request) (any, error) {
	var req PartnerRequest
	if err := decode(r, &req); err != nil {
		return nil, err
	}
	key, err := detente.ParsePublicKey(req.Key)
	if err != nil {
		return nil, err
	}
	return s.node.AddPartner(r.Context(), req.Name, key, req.URL)
}

// ReasonRequest is the body of state changes: why the change is made.
type ReasonRequest struct {
	Reason string `json:"reason"`
}

func (s *Server) partnerState(state detente.PartnerState) handlerFunc {
	return func(r *http.Request) (any, error) {
		var req ReasonRequest
		if err := decode(r, &req); err != nil {
			return nil, err
		}
		return updated(s.node.SetPartnerState(r.Context(), r.PathValue("name"), state, req.Reason))
	}
}

// updated marks the response of a POST that changes something existing:
// 200, not 201.
func updated[T any](v T, err error) (any, error) {
	if err != nil {
		return nil, err
	}
	return statusOK{v}, nil
}

// statusOK is a response sent with 200 OK.
type statusOK struct{ V any }

func (s statusOK) MarshalJSON() ([]byte, error) { return json.Marshal(s.V) }
func (statusOK) StatusCode() int                { return http.StatusOK }

func (s *Server) listAgreements(r *http.Request) (any, error) {
	as, err := s.node.Agreements(r.Context())
	if as == nil {
		as = []*detente.Agreement{}
	}
	return as, err
}

func (s *Server) postAgreement(r *http.Request) (any, error) {
	data, err := io.ReadAll(r.Body)
	if err != nil {
		return nil, err
	}
	a, err := detente.ParseAgreement(data)
	if err != nil {
		return nil, err
	}
	return s.node.AddAgreement(r.Context(), a)
}

func (s *Server) agreementState(state detente.AgreementState) handlerFunc {
	return func(r *http.Request) (any, error) {
		var req ReasonRequest
		if err := decode(r, &req); err != nil {
			return nil, err
		}
		return updated(s.node.SetAgreementState(r.Context(), r.PathValue("id"), state, req.Reason))
	}
}

func (s *Server) checkRelease(r *http.Request) (any, error) {
	q := query(r)
	return s.node.CheckRelease(r.Context(), q.Text("object"), q.Text("partner"))
}

// ReleaseRequest is the body of POST /api/v1/releases.
type ReleaseRequest struct {
	Object  string `json:"object"`
	Partner string `json:"partner"`
}

func (s *Server) postRelease(r *http.Request) (any, error) {
	var req ReleaseRequest
	if err := decode(r, &req); err != nil {
		return nil, err
	}
	return s.node.Release(r.Context(), req.Object, req.Partner)
}

// ReleaseJSON is a stored release decision.
type ReleaseJSON struct {
	ID       int64            `json:"id"`
	Object   string           `json:"object"`
	Modified time.Time        `json:"modified,omitzero"`
	Partner  string           `json:"partner"`
	Allowed  bool             `json:"allowed"`
	Reasons  []detente.Reason `json:"reasons"`
	Time     time.Time        `json:"time"`
}

func (s *Server) listReleases(r *http.Request) (any, error) {
	q := query(r)
	f := detente.ReleaseFilter{Object: q.Text("object"), Partner: q.Text("partner"), Limit: int(q.Int("limit", 100))}
	rs, err := s.node.Releases(r.Context(), f)
	out := make([]ReleaseJSON, 0, len(rs))
	for _, x := range rs {
		out = append(out, ReleaseJSON(*x))
	}
	return out, err
}

func (s *Server) listEvents(r *http.Request) (any, error) {
	q := query(r)
	f := detente.EventFilter{FromSeq: q.Int("from", 0), Type: q.Text("type"), Partner: q.Text("partner"),
		Limit: int(q.Int("limit", 100)), Newest: q.Text("order") == "newest"}
	es, err := s.node.Events(r.Context(), f)
	if es == nil {
		es = []*detente.Event{}
	}
	return es, err
}

// TokenJSON describes a token without its secret.
type TokenJSON struct {
	ID      string    `json:"id"`
	Role    string    `json:"role"`
	Label   string    `json:"label,omitempty"`
	Created time.Time `json:"created"`
	Revoked bool      `json:"revoked"`
	// Secret is present only in the response that created the token.
	Secret string `json:"secret,omitempty"`
}

func tokenJSON(t *detente.Token) TokenJSON {
	return TokenJSON{ID: t.ID, Role: string(t.Role), Label: t.Label, Created: t.Created, Revoked: t.Revoked}
}

func (s *Server) listTokens(r *http.Request) (any, error) {
	ts, err := s.node.Tokens(r.Context())
	out := make([]TokenJSON, 0, len(ts))
	for _, t := range ts {
		out = append(out, tokenJSON(t))
	}
	return out, err
}

// TokenRequest is the body of POST /api/v1/tokens.
type TokenRequest struct {
	Role  string `json:"role"`
	Label string `json:"label"`
}

func (s *Server) postToken(r *http.Request) (any, error) {
	var req TokenRequest
	if err := decode(r, &req); err != nil {
		return nil, err
	}
	role, err := detente.ParseRole(req.Role)
	if err != nil {
		return nil, err
	}
	t, secret, err := s.node.CreateToken(r.Context(), role, req.Label)
	if err != nil {
		return nil, err
	}
	j := tokenJSON(t)
	j.Secret = secret
	return j, nil
}

func (s *Server) revokeToken(r *http.Request) (any, error) {
	if err := s.node.RevokeToken(r.Context(), r.PathValue("id")); err != nil {
		return nil, err
	}
	return statusOK{map[string]string{"revoked": r.PathValue("id")}}, nil
}
