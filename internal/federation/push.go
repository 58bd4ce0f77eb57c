package federation

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"detente"
	"detente/internal/peer"
)

// Push adds the objects of bundle, a release bundle for partner, to the
// partner's inbound collection. A partner that refuses any of them is
// EDENIED, naming each refused object and why.
func (s *Service) Push(ctx context.Context, partner string, bundle json.RawMessage) error {
	var p *detente.Partner
	if err := s.store.View(ctx, func(tx detente.Tx) (err error) { p, err = tx.Partner(ctx, partner); return }); err != nil {
		return err
	}
	if p.URL == "" {
		return detente.Errorf(detente.EINVALID, "partner %s has no URL", partner)
	}
	var b struct {
		Objects []json.RawMessage `json:"objects"`
	}
	if err := json.Unmarshal(bundle, &b); err != nil {
		return fmt.Errorf("push: %w", err)
	}
	pc, err := s.peer(p)
	if err != nil {
		return err
	}
	defer pc.Close()
	st, err := s.taxii(p, pc.HTTP).Add(ctx, peer.CollectionInbound, b.Objects)
	if err != nil {
		return err
	}
	if len(st.Failures) > 0 {
		var why []string
		for _, f := range st.Failures {
			why = append(why, f.ID+": "+f.Message)
		}
		return detente.Errorf(detente.EDENIED, "%s refused: %s", partner, strings.Join(why, "; "))
	}
	return nil
}
