package matching

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"detente"
	"detente/internal/psi"
)

// ownerKeyDoc is the stored owner key: its seed sealed with AES-256-GCM
// under Config.SealKey, derived (HKDF-SHA-256) from the node key, so a
// copy of the database alone (a PostgreSQL dump) does not reveal it. The
// node keeps one owner key for all its watchlists; per-partner epochs keep
// partners' evaluations apart.
type ownerKeyDoc struct {
	Version int       `json:"version"`
	Created time.Time `json:"created"`
	Sealed  []byte    `json:"sealed"` // nonce ‖ ciphertext
}

// ownerKey returns the node's OwnerKey, creating it on first use.
func (s *Service) ownerKey(ctx context.Context) (*psi.OwnerKey, error) {
	aead, err := s.aead, s.aeadErr
	if err != nil {
		return nil, err
	}
	open := func(b []byte) (*psi.OwnerKey, error) {
		var d ownerKeyDoc
		if err := json.Unmarshal(b, &d); err != nil {
			return nil, fmt.Errorf("decode owner key: %w", err)
		}
		ns := aead.NonceSize()
		if len(d.Sealed) < ns {
			return nil, errors.New("owner key: sealed seed too short")
		}
		seed, err := aead.Open(nil, d.Sealed[:ns], d.Sealed[ns:], []byte(OwnerKeyInfo))
		if err != nil {
			return nil, fmt.Errorf("owner key: does not open under this node's key: %w", err)
		}
		return psi.ParseOwnerKey(seed)
	}
	var stored []byte
	err = s.store.View(ctx, func(tx detente.Tx) (err error) { stored, err = tx.Doc(ctx, docOwnerKey, "current"); return })
	if err == nil {
		return open(stored)
	}
	if detente.ErrorCode(err) != detente.ENOTFOUND {
		return nil, err
	}
	k, err := psi.NewOwnerKey(rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("generate owner key: %w", err)
	}
	nonce := make([]byte, aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return nil, err
	}
	body, _ := json.Marshal(ownerKeyDoc{Version: 1, Created: s.clock(), Sealed: aead.Seal(nonce, nonce, k.Seed(), []byte(OwnerKeyInfo))})
	err = s.store.Update(ctx, func(tx detente.Tx) error {
		err := tx.PutDoc(ctx, docOwnerKey, "current", body, true)
		if detente.ErrorCode(err) == detente.EEXISTS { // another request made it first
			stored, err = tx.Doc(ctx, docOwnerKey, "current")
			return err
		}
		stored = body
		return err
	})
	if err != nil {
		return nil, err
	}
	return open(stored)
}
