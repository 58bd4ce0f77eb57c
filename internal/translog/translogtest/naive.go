package translogtest

import (
	"crypto/sha256"

	"golang.org/x/mod/sumdb/tlog"

	"detente"
	"detente/internal/translog"
)

// The naive RFC 6962 / RFC 9162 section 2.1 definitions, written
// independently of tlog: MTH, PATH and PROOF over leaf data.

func naiveLeaf(d []byte) [32]byte { return sha256.Sum256(append([]byte{0}, d...)) }

func naiveNode(l, r [32]byte) [32]byte {
	return sha256.Sum256(append(append([]byte{1}, l[:]...), r[:]...))
}

func naiveSplit(n int) int {
	k := 1
	for k*2 < n {
		k *= 2
	}
	return k
}

func naiveMTH(d [][]byte) [32]byte {
	switch len(d) {
	case 0:
		return sha256.Sum256(nil)
	case 1:
		return naiveLeaf(d[0])
	}
	k := naiveSplit(len(d))
	return naiveNode(naiveMTH(d[:k]), naiveMTH(d[k:]))
}

func naivePath(m int, d [][]byte) [][32]byte {
	if len(d) <= 1 {
		return nil
	}
	k := naiveSplit(len(d))
	if m < k {
		return append(naivePath(m, d[:k]), naiveMTH(d[k:]))
	}
	return append(naivePath(m-k, d[k:]), naiveMTH(d[:k]))
}

func naiveSubproof(m int, d [][]byte, b bool) [][32]byte {
	if m == len(d) {
		if b {
			return nil
		}
		return [][32]byte{naiveMTH(d)}
	}
	k := naiveSplit(len(d))
	if m <= k {
		return append(naiveSubproof(m, d[:k], b), naiveMTH(d[k:]))
	}
	return append(naiveSubproof(m-k, d[k:], false), naiveMTH(d[:k]))
}

func asHashes(hs [][32]byte) []tlog.Hash {
	out := make([]tlog.Hash, len(hs))
	for i, h := range hs {
		out[i] = h
	}
	return out
}

func leafData(events []*detente.Event) [][]byte {
	d := make([][]byte, len(events))
	for i, e := range events {
		d[i] = translog.LeafData(e)
	}
	return d
}
