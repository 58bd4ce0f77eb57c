package server

import (
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strconv"

	"detente"
	"detente/internal/httperr"
	"detente/internal/node"
	"detente/internal/psi"
)

// matchRoutes serves the watchlist owner's side of private matching
// (docs/matching.md) to partners, over mutual TLS with pinned keys:
//
//	GET  /detente/v1/match/terms      the terms in force, epoch and budget used
//	GET  /detente/v1/match/watchlist  the encoded watchlist of the caller's epoch
//	POST /detente/v1/match/query      a VOPRF query (JSON psi.QueryRequest)
//	POST /detente/v1/match/bulk?type= a bulk or count hello (binary psi.BulkHello)
//
// Refusals are JSON errors (node.MatchErrorWire); a request for another
// epoch is 409 naming the current one.
func matchRoutes(mux *http.ServeMux, n *node.Node, logger *slog.Logger) {
	fail := func(w http.ResponseWriter, r *http.Request, err error) {
		var body node.MatchErrorWire
		var ee *psi.EpochError
		var mbe *http.MaxBytesError
		code := http.StatusInternalServerError
		switch {
		case errors.As(err, &ee):
			code = http.StatusConflict
			body.Error.Code, body.Error.Message, body.Error.Epoch = detente.ECONFLICT, "the request is for epoch "+ee.Got+", the current one is "+ee.Current, ee.Current
		case errors.As(err, &mbe):
			code = http.StatusRequestEntityTooLarge
			body.Error.Code, body.Error.Message = detente.ETOOLARGE, "request body is over "+strconv.FormatInt(mbe.Limit, 10)+" bytes"
		default:
			httperr.Log(logger, r, "match request failed", err)
			code = httperr.Status(err)
			b := httperr.BodyOf(err)
			body.Error.Code, body.Error.Message = b.Error.Code, b.Error.Message
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(code)
		json.NewEncoder(w).Encode(body)
	}
	caller := func(r *http.Request) *detente.Partner { return r.Context().Value(partnerKey{}).(*detente.Partner) }
	budget := func(w http.ResponseWriter, b *node.MatchBudget) {
		if b != nil {
			w.Header().Set(node.HeaderMatchUsed, strconv.Itoa(b.Used))
			w.Header().Set(node.HeaderMatchLimit, strconv.Itoa(b.Limit))
		}
	}

	mux.Handle("GET /detente/v1/match/terms", partnerOnly(n, func(w http.ResponseWriter, r *http.Request) {
		t, err := n.MatchTermsFor(r.Context(), caller(r).Name)
		if err != nil {
			fail(w, r, err)
			return
		}
		writeJSON(w, t)
	}))
	mux.Handle("GET /detente/v1/match/watchlist", partnerOnly(n, func(w http.ResponseWriter, r *http.Request) {
		b, err := n.EncodedWatchlist(r.Context(), caller(r).Name)
		if err != nil {
			fail(w, r, err)
			return
		}
		w.Header().Set("Content-Type", "application/octet-stream")
		w.Header().Set("Cache-Control", "no-store")
		w.Write(b)
	}))
	mux.Handle("POST /detente/v1/match/query", partnerOnly(n, func(w http.ResponseWriter, r *http.Request) {
		var req psi.QueryRequest
		if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, node.MaxQueryBody)).Decode(&req); err != nil {
			var mbe *http.MaxBytesError
			if !errors.As(err, &mbe) {
				err = detente.Errorf(detente.EINVALID, "query request: %v", err)
			}
			fail(w, r, err)
			return
		}
		resp, b, err := n.EvaluateQuery(r.Context(), caller(r).Name, &req)
		budget(w, b)
		if err != nil {
			fail(w, r, err)
			return
		}
		writeJSON(w, resp)
	}))
	mux.Handle("POST /detente/v1/match/bulk", partnerOnly(n, func(w http.ResponseWriter, r *http.Request) {
		raw, err := io.ReadAll(http.MaxBytesReader(w, r.Body, node.MaxBulkBody))
		if err != nil {
			fail(w, r, err)
			return
		}
		var hello psi.BulkHello
		if err := hello.UnmarshalBinary(raw); err != nil {
			fail(w, r, detente.Errorf(detente.EINVALID, "bulk hello: %v", err))
			return
		}
		reply, b, err := n.RespondBulk(r.Context(), caller(r).Name, psi.Type(r.URL.Query().Get("type")), &hello)
		budget(w, b)
		if err != nil {
			fail(w, r, err)
			return
		}
		out, err := reply.MarshalBinary()
		if err != nil {
			fail(w, r, err)
			return
		}
		w.Header().Set("Content-Type", "application/octet-stream")
		w.Header().Set("Cache-Control", "no-store")
		w.Write(out)
	}))
}
