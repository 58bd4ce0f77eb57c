package hotline

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"time"

	"detente"
	"detente/internal/peer"
)

// partnerTransport carries messages and channel histories to partner
// nodes through the partner protocol (peer.Client: mutual TLS with their
// pinned keys). It implements Transport.
type partnerTransport struct {
	s       *Service
	mu      sync.Mutex
	clients map[string]*peer.Client // by key and URL
}

var _ Transport = (*partnerTransport)(nil)

func newPartnerTransport(s *Service) *partnerTransport {
	return &partnerTransport{s: s, clients: map[string]*peer.Client{}}
}

// sendTimeout bounds one request to a partner.
const sendTimeout = 30 * time.Second

func (t *partnerTransport) client(p *detente.Partner) (*peer.Client, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	k := p.Key.String() + " " + p.URL
	if c := t.clients[k]; c != nil {
		return c, nil
	}
	if t.s.peerClient == nil {
		return nil, detente.Errorf(detente.EUNAVAILABLE, "partner %s cannot be reached from this process", p.Name)
	}
	c, err := t.s.peerClient(p)
	if err != nil {
		return nil, err
	}
	c.HTTP.Timeout = sendTimeout
	t.clients[k] = c
	return c, nil
}

func (t *partnerTransport) close() {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, c := range t.clients {
		c.Close()
	}
}

// Send implements Transport. A refusal by the partner comes back with the
// partner's error code, so that the outbox stops retrying what the
// partner refuses for good.
func (t *partnerTransport) Send(ctx context.Context, partner string, m *Message) error {
	p, err := t.s.partyPartner(ctx, m.Channel, partner)
	if err != nil {
		return err
	}
	b, err := EncodeMessage(m)
	if err != nil {
		return err
	}
	c, err := t.client(p)
	if err != nil {
		return err
	}
	_, err = c.SendChannelMessage(ctx, b)
	return err
}

// sendHistory sends ch's whole history to party p.
func (t *partnerTransport) sendHistory(ctx context.Context, ch *Channel, p Party) error {
	var partner *detente.Partner
	err := t.s.db.View(ctx, func(tx detente.Tx) (err error) { partner, err = tx.PartnerByKey(ctx, p.Key); return })
	if detente.ErrorCode(err) == detente.ENOTFOUND {
		return detente.Errorf(detente.EUNAVAILABLE, "party %s is not a known partner of this node", p.Name)
	}
	if err != nil {
		return err
	}
	if partner.State != detente.PartnerActive || partner.URL == "" {
		return detente.Errorf(detente.EUNAVAILABLE, "partner %s is %s or has no URL", partner.Name, partner.State)
	}
	var h peer.ChannelHistory
	for _, tr := range ch.Transitions {
		b, err := json.Marshal(tr)
		if err != nil {
			return fmt.Errorf("encode transition: %w", err)
		}
		h.Transitions = append(h.Transitions, b)
	}
	c, err := t.client(partner)
	if err != nil {
		return err
	}
	_, err = c.SendChannelHistory(ctx, &h)
	return err
}

// partyPartner returns the partner node of the party called name on
// channel id.
func (s *Service) partyPartner(ctx context.Context, id, name string) (*detente.Partner, error) {
	var p *detente.Partner
	err := s.db.View(ctx, func(tx detente.Tx) error {
		ch, err := txStore{s, tx}.Channel(ctx, id)
		if err != nil {
			return err
		}
		for _, party := range ch.Parties {
			if party.Name == name {
				p, err = tx.PartnerByKey(ctx, party.Key)
				if detente.ErrorCode(err) == detente.ENOTFOUND {
					return detente.Errorf(detente.EUNAVAILABLE, "party %s of channel %s is not a known partner of this node: add it with 'detente partner add'", name, id)
				}
				return err
			}
		}
		return detente.Errorf(detente.ENOTFOUND, "channel %s has no party %s", id, name)
	})
	if err != nil {
		return nil, err
	}
	if p.State != detente.PartnerActive || p.URL == "" {
		return nil, detente.Errorf(detente.EUNAVAILABLE, "partner %s is %s or has no URL", p.Name, p.State)
	}
	return p, nil
}
