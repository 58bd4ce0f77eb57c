package matching

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"

	"detente"
	"detente/internal/peer"
	"detente/internal/psi"
)

// includedWatchlists returns the watchlists a partner under t may match
// against: those marked at or below the agreement's TLP ceiling, of type
// typ when typ is set.
func includedWatchlists(ws []*Watchlist, t *matchTerms, typ psi.Type) []*Watchlist {
	var out []*Watchlist
	for _, w := range ws {
		if w.Marking <= t.agreement.TLPCeiling && (typ == "" || w.Type == typ) {
			out = append(out, w)
		}
	}
	return out
}

// selectorsOfWatchlists returns every entry of ws as a selector.
func selectorsOfWatchlists(ws []*Watchlist) []psi.Selector {
	var out []psi.Selector
	for _, w := range ws {
		for _, e := range w.Entries {
			out = append(out, psi.Selector{Type: w.Type, Value: e.Value})
		}
	}
	return out
}

// encodingDoc is a stored encoded watchlist: what was published to a
// partner for an epoch, and a digest of the watchlists it encodes, so that
// a change of the watchlists makes a new encoding.
type encodingDoc struct {
	Epoch   string `json:"epoch"`
	Digest  string `json:"digest"`
	Entries int    `json:"entries"`
	Encoded []byte `json:"encoded"`
}

// EncodedWatchlist returns the binary encoded watchlist (psi.Watchlist)
// that partner may query in its current epoch: every watchlist of every
// type marked at or below the agreement's ceiling, so that the owner does
// not learn which type the partner is interested in. It is re-encoded when
// the epoch or the watchlists change; each new encoding is logged with the
// SHA-256 of the epoch's public key.
func (s *Service) EncodedWatchlist(ctx context.Context, partner string) ([]byte, error) {
	var t *matchTerms
	var ws []*Watchlist
	var stored *encodingDoc
	err := s.store.View(ctx, func(tx detente.Tx) error {
		var err error
		if t, err = s.termsWith(ctx, tx, partner, detente.MatchQuery); err != nil {
			return err
		}
		all, err := readWatchlists(ctx, tx)
		if err != nil {
			return err
		}
		ws = includedWatchlists(all, t, "")
		raw, err := tx.Doc(ctx, docEncoding, t.epoch)
		if err == nil {
			stored = new(encodingDoc)
			return json.Unmarshal(raw, stored)
		}
		if detente.ErrorCode(err) == detente.ENOTFOUND {
			return nil
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	h := sha256.New()
	for _, w := range ws {
		b, _ := json.Marshal(w)
		fmt.Fprintf(h, "%d:", len(b))
		h.Write(b)
	}
	digest := hex.EncodeToString(h.Sum(nil))
	if stored != nil && stored.Digest == digest {
		return stored.Encoded, nil
	}
	key, err := s.ownerKey(ctx)
	if err != nil {
		return nil, err
	}
	w, err := psi.EncodeWatchlist(key, t.epoch, selectorsOfWatchlists(ws))
	if err != nil {
		return nil, fmt.Errorf("encode watchlist for %s: %w", t.epoch, err)
	}
	enc, err := w.MarshalBinary()
	if err != nil {
		return nil, err
	}
	body, _ := json.Marshal(encodingDoc{Epoch: t.epoch, Digest: digest, Entries: w.Len(), Encoded: enc})
	pk := sha256.Sum256(w.PublicKey)
	err = s.store.Update(ctx, func(tx detente.Tx) error {
		// One encoding per partner: older epochs' go.
		old, err := tx.Docs(ctx, docEncoding, partner+"/", 0)
		if err != nil {
			return err
		}
		for _, d := range old {
			if d.ID != t.epoch {
				if err := tx.DeleteDoc(ctx, docEncoding, d.ID); err != nil {
					return err
				}
			}
		}
		if err := tx.PutDoc(ctx, docEncoding, t.epoch, body, false); err != nil {
			return err
		}
		return s.logEvent(ctx, tx, detente.EventMatchEpoch, partner, map[string]any{
			"epoch": t.epoch, "agreement": t.agreement.ID, "public_key_sha256": hex.EncodeToString(pk[:]), "entries": w.Len()})
	})
	if err != nil {
		return nil, err
	}
	s.logger.InfoContext(ctx, "published an encoded watchlist", "partner", partner, "epoch", t.epoch, "entries", w.Len())
	return enc, nil
}

// EvaluateQuery answers partner's VOPRF query in its current epoch. It
// refuses a request for another epoch (*psi.EpochError, without charge), a
// request above the agreed maximum set size, and one the period's budget
// cannot pay for; otherwise it charges req.Count() (padding included)
// before evaluating. The log records the epoch, the count and the budget,
// nothing else: the owner learns nothing more.
func (s *Service) EvaluateQuery(ctx context.Context, partner string, req *psi.QueryRequest) (*psi.QueryResponse, *peer.MatchUsage, error) {
	if err := req.Validate(); err != nil {
		return nil, nil, detente.Errorf(detente.EINVALID, "query: %v", err)
	}
	count := req.Count()
	body := map[string]any{"epoch": req.Epoch, "elements": count}
	budget, t, err := s.charge(ctx, partner, detente.MatchQuery, count, body, func(_ detente.Tx, t *matchTerms) error {
		if req.Epoch != t.epoch {
			return &psi.EpochError{Got: req.Epoch, Current: t.epoch}
		}
		if count > t.agreement.Match.MaxSetSize {
			return detente.Errorf(detente.ETOOLARGE, "a query of %d elements is over the agreed maximum of %d", count, t.agreement.Match.MaxSetSize)
		}
		return nil
	})
	b := usage(budget)
	if err != nil {
		return nil, b, err
	}
	key, err := s.ownerKey(ctx)
	if err != nil {
		return nil, b, err
	}
	o, err := psi.NewOwner(key, t.epoch)
	if err != nil {
		return nil, b, err
	}
	resp, err := o.Evaluate(req)
	if err != nil {
		return nil, b, psiError(err)
	}
	return resp, b, nil
}

// usage is what the owner reports of b to the partner: nil when the
// request was refused before its budget was read.
func usage(b *Budget) *peer.MatchUsage {
	if b == nil {
		return nil
	}
	return &peer.MatchUsage{Used: b.Used, Limit: b.Limit}
}

// bulkParams are the parameters of a bulk or count exchange under terms:
// the querier (initiator) learns, the owner learns nothing.
func bulkParams(t *peer.MatchTerms, mode, session string) psi.BulkParams {
	p := psi.BulkParams{Session: session, Mode: psi.ModeIntersection, Learner: psi.LearnerInitiator, MaxSetSize: t.MaxSetSize}
	if mode == detente.MatchCount {
		p.Mode, p.MinSetSize = psi.ModeCount, max(t.MinSetSize, psi.CountMinSetSize)
	}
	return p
}

// RespondBulk answers partner's bulk (or count) hello against this node's
// watchlists of type typ marked at or below the agreement's ceiling. It
// checks the mode and the session parameters against the agreement (only
// the initiator learns), charges the hello's padded set size to the
// period's budget before any exponentiation, and logs the session, mode,
// learner, both padded set sizes and the cost.
func (s *Service) RespondBulk(ctx context.Context, partner string, typ psi.Type, hello *psi.BulkHello) (*psi.BulkReply, *peer.MatchUsage, error) {
	if _, err := ParseSelectorType(string(typ)); err != nil {
		return nil, nil, err
	}
	if hello.Version != psi.ProtocolVersion {
		return nil, nil, detente.Errorf(detente.EINVALID, "bulk hello: protocol version %d, this node speaks %d", hello.Version, psi.ProtocolVersion)
	}
	if len(hello.Elements)%psi.ElementSize != 0 {
		return nil, nil, detente.Errorf(detente.EINVALID, "bulk hello: elements are not a multiple of %d bytes", psi.ElementSize)
	}
	mode := detente.MatchBulk
	if hello.Params.Mode == psi.ModeCount {
		mode = detente.MatchCount
	}
	peerSize := len(hello.Elements) / psi.ElementSize
	var set *psi.Set
	var params psi.BulkParams
	body := map[string]any{"session": hello.Params.Session, "learner": hello.Params.Learner, "type": typ, "peer_size": peerSize}
	budget, _, err := s.charge(ctx, partner, mode, peerSize, body, func(tx detente.Tx, t *matchTerms) error {
		params = bulkParams(t.wire(0), mode, hello.Params.Session)
		if hello.Params != params {
			return detente.Errorf(detente.ECONFLICT, "bulk session parameters differ from the terms of %s with %s (the initiator learns; set sizes %d to %d)",
				s.name, partner, params.MinSetSize, params.MaxSetSize)
		}
		if err := hello.Validate(); err != nil {
			return psiError(err)
		}
		all, err := readWatchlists(ctx, tx)
		if err != nil {
			return err
		}
		if set, err = psi.NewSet(selectorsOfWatchlists(includedWatchlists(all, t, typ)), params.Mode); err != nil {
			return fmt.Errorf("watchlists of %s: %w", typ, err)
		}
		if set.Len() < params.MinSetSize || psi.Bucket(set.Len()) > params.MaxSetSize {
			return detente.Errorf(detente.EDENIED, "%s's %s watchlists do not fit the agreed set sizes for %s mode (%d to %d)", s.name, typ, mode, params.MinSetSize, params.MaxSetSize)
		}
		body["size"] = psi.Bucket(set.Len())
		return nil
	})
	b := usage(budget)
	if err != nil {
		return nil, b, err
	}
	_, reply, err := psi.RespondBulk(params, set, hello, psi.BulkOptions{})
	if err != nil {
		return nil, b, psiError(err)
	}
	return reply, b, nil
}
