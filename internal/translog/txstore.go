package translog

import (
	"context"
	"fmt"

	"detente"

	"golang.org/x/mod/sumdb/tlog"
)

// TxHashes returns the HashStore of a store transaction: the log hashes
// that detente.Tx keeps beside the events.
func TxHashes(tx detente.Tx) HashStore { return txHashes{tx} }

type txHashes struct{ tx detente.Tx }

func (t txHashes) ReadHashes(ctx context.Context, nodes []Node) ([]tlog.Hash, error) {
	ln := make([]detente.LogNode, len(nodes))
	for i, n := range nodes {
		ln[i] = detente.LogNode{Level: n.Level, Index: n.Index}
	}
	hs, err := t.tx.LogHashes(ctx, ln)
	if detente.ErrorCode(err) == detente.ENOTFOUND {
		return nil, fmt.Errorf("%v: %w", err, ErrMissingHash)
	}
	if err != nil {
		return nil, err
	}
	out := make([]tlog.Hash, len(hs))
	for i, h := range hs {
		out[i] = tlog.Hash(h)
	}
	return out, nil
}

func (t txHashes) WriteHashes(ctx context.Context, nodes []Node, hashes []tlog.Hash) error {
	ln := make([]detente.LogNode, len(nodes))
	lh := make([]detente.LogHash, len(nodes))
	for i, n := range nodes {
		ln[i], lh[i] = detente.LogNode{Level: n.Level, Index: n.Index}, detente.LogHash(hashes[i])
	}
	return t.tx.PutLogHashes(ctx, ln, lh)
}
