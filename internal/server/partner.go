package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"

	"detente"
	"detente/internal/httperr"
	"detente/internal/node"
	"detente/internal/peer"
)

// partnerKey is the context key of the partner a request authenticated as.
type partnerKey struct{}

// partnerOnly admits only requests from an active partner, authenticated
// by the node key of its TLS client certificate; anyone else gets 401.
func partnerOnly(n *node.Node, next http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p := partnerOf(n, r)
		if p == nil {
			httperr.Write(w, r, nil, "", detente.Errorf(detente.EUNAUTHORIZED, "partner authentication (mutual TLS with a pinned node key) required"))
			return
		}
		next(w, r.WithContext(context.WithValue(r.Context(), partnerKey{}, p)))
	})
}

// partnerOf returns the active partner whose node certificate r presented,
// or nil.
func partnerOf(n *node.Node, r *http.Request) *detente.Partner {
	if r.TLS == nil || len(r.TLS.PeerCertificates) == 0 {
		return nil
	}
	raw := make([][]byte, len(r.TLS.PeerCertificates))
	for i, c := range r.TLS.PeerCertificates {
		raw[i] = c.Raw
	}
	key, err := peer.CertificateKey(raw)
	if err != nil {
		return nil
	}
	var p *detente.Partner
	if err := n.Store.View(r.Context(), func(tx detente.Tx) (err error) { p, err = tx.PartnerByKey(r.Context(), key); return }); err != nil {
		return nil
	}
	if p.State != detente.PartnerActive {
		return nil
	}
	return p
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	json.NewEncoder(w).Encode(v)
}

// partnerRoutes serves what partner nodes ask of each other besides TAXII:
// consents, and the transparency log for witnessing and receipts.
func partnerRoutes(mux *http.ServeMux, n *node.Node, logger *slog.Logger) {
	fail := func(w http.ResponseWriter, r *http.Request, err error) {
		httperr.Write(w, r, logger, "partner request failed", err)
	}
	matchRoutes(mux, n, logger)
	size := func(r *http.Request, name string) (int64, error) {
		v, err := strconv.ParseInt(r.URL.Query().Get(name), 10, 64)
		if err != nil || v < 0 {
			return 0, detente.Errorf(detente.EINVALID, "parameter %s must be a tree size", name)
		}
		return v, nil
	}
	mux.Handle("GET /detente/v1/log/checkpoint", partnerOnly(n, func(w http.ResponseWriter, r *http.Request) {
		if _, err := n.Checkpoint(r.Context()); err != nil {
			fail(w, r, err)
			return
		}
		note, _, err := n.LatestCheckpoint(r.Context())
		if err != nil {
			fail(w, r, err)
			return
		}
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Write(note)
	}))
	mux.Handle("GET /detente/v1/log/consistency", partnerOnly(n, func(w http.ResponseWriter, r *http.Request) {
		old, err1 := size(r, "old")
		nw, err2 := size(r, "new")
		if err := errors.Join(err1, err2); err != nil {
			fail(w, r, err)
			return
		}
		proof, err := n.ConsistencyProof(r.Context(), old, nw)
		if err != nil {
			fail(w, r, err)
			return
		}
		writeJSON(w, node.EncodeProof(proof))
	}))
	mux.Handle("GET /detente/v1/log/proof", partnerOnly(n, func(w http.ResponseWriter, r *http.Request) {
		seq, err1 := size(r, "seq")
		sz, err2 := size(r, "size")
		if err := errors.Join(err1, err2); err != nil {
			fail(w, r, err)
			return
		}
		proof, err := n.InclusionProof(r.Context(), seq, sz)
		if err != nil {
			fail(w, r, err)
			return
		}
		writeJSON(w, map[string]any{"seq": seq, "size": sz, "proof": node.EncodeProof(proof)})
	}))
	mux.Handle("GET /detente/v1/log/receipts", partnerOnly(n, func(w http.ResponseWriter, r *http.Request) {
		p := r.Context().Value(partnerKey{}).(*detente.Partner)
		after, err := strconv.ParseInt(r.URL.Query().Get("after"), 10, 64)
		if err != nil || after < -1 {
			fail(w, r, detente.Errorf(detente.EINVALID, "parameter after must be a sequence number or -1"))
			return
		}
		sz, err := size(r, "size")
		if err != nil {
			fail(w, r, err)
			return
		}
		rs, err := n.ReleaseReceipts(r.Context(), p.Name, after, sz)
		if err != nil {
			fail(w, r, err)
			return
		}
		writeJSON(w, rs)
	}))
	mux.Handle("POST /detente/v1/log/cosignature", partnerOnly(n, func(w http.ResponseWriter, r *http.Request) {
		p := r.Context().Value(partnerKey{}).(*detente.Partner)
		var c node.CosignatureWire
		if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 64<<10)).Decode(&c); err != nil {
			fail(w, r, detente.Errorf(detente.EINVALID, "cosignature: %v", err))
			return
		}
		if err := n.AddCosignature(r.Context(), p, c); err != nil {
			fail(w, r, err)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	mux.Handle("GET /detente/v1/log/witnessed", partnerOnly(n, func(w http.ResponseWriter, r *http.Request) {
		note, err := n.WitnessedCheckpoint(r.Context(), r.URL.Query().Get("origin"))
		if err != nil {
			fail(w, r, err)
			return
		}
		if note == nil {
			w.WriteHeader(http.StatusNoContent)
			return
		}
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Write(note)
	}))
	mux.Handle("GET /detente/v1/consents", partnerOnly(n, func(w http.ResponseWriter, r *http.Request) {
		p := r.Context().Value(partnerKey{}).(*detente.Partner)
		cs, err := n.ConsentsFor(r.Context(), p.Name)
		if err != nil {
			fail(w, r, fmt.Errorf("consents for partner %s: %w", p.Name, err))
			return
		}
		writeJSON(w, cs)
	}))
	hotlineRoutes(mux, n, logger)
}
