package psi

import (
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"slices"
)

// Protocol errors.
var (
	// ErrEpoch means a message or an encoded watchlist belongs to another
	// epoch than the one expected: the querier must fetch the owner's
	// current encoded watchlist and query again.
	ErrEpoch = errors.New("epoch mismatch")
	// ErrMessage means a message is malformed.
	ErrMessage = errors.New("malformed message")
	// ErrProof means the owner's evaluation does not verify against the
	// published key of the epoch.
	ErrProof = errors.New("evaluation proof does not verify")
	// ErrSetSize means a set is smaller than the agreed minimum or larger
	// than the agreed maximum.
	ErrSetSize = errors.New("set size out of bounds")
	// ErrParams means the two sides disagree on the parameters of a session.
	ErrParams = errors.New("session parameters differ")
)

// SeedSize is the size of an OwnerKey's seed.
const SeedSize = 32

// maxEpochLen bounds the length of an epoch name.
const maxEpochLen = 128

// OwnerKey is a watchlist owner's secret: a seed from which the VOPRF key of
// every epoch is derived (RFC 9497 DeriveKeyPair, with the epoch as info).
// Keep one per agreement; to make old epochs unrecoverable, generate a new
// OwnerKey rather than deriving a new epoch.
type OwnerKey struct {
	seed [SeedSize]byte
}

// NewOwnerKey returns an OwnerKey with a seed read from rand
// (crypto/rand.Reader in production).
func NewOwnerKey(rand io.Reader) (*OwnerKey, error) {
	var k OwnerKey
	if _, err := io.ReadFull(rand, k.seed[:]); err != nil {
		return nil, fmt.Errorf("read seed: %w", err)
	}
	return &k, nil
}

// ParseOwnerKey returns the OwnerKey whose seed is b (see Seed).
func ParseOwnerKey(b []byte) (*OwnerKey, error) {
	if len(b) != SeedSize {
		return nil, fmt.Errorf("owner key: want %d bytes, got %d", SeedSize, len(b))
	}
	var k OwnerKey
	copy(k.seed[:], b)
	return &k, nil
}

// Seed returns the secret seed, for storage.
func (k *OwnerKey) Seed() []byte { return slices.Clone(k.seed[:]) }

// checkEpoch validates an epoch name: 1 to 128 printable ASCII bytes.
func checkEpoch(e string) error {
	if e == "" || len(e) > maxEpochLen {
		return fmt.Errorf("%w: epoch: want 1 to %d bytes", ErrMessage, maxEpochLen)
	}
	for i := 0; i < len(e); i++ {
		if e[i] < 0x20 || e[i] > 0x7e {
			return fmt.Errorf("%w: epoch: non-printable byte", ErrMessage)
		}
	}
	return nil
}

// epochKey derives the VOPRF key pair of epoch: RFC 9497 DeriveKeyPair in
// VOPRF mode with the seed and "detente/psi/query/v1/epoch/" || epoch as
// info.
func (k *OwnerKey) epochKey(epoch string) (*voprfKey, error) {
	if err := checkEpoch(epoch); err != nil {
		return nil, err
	}
	sk, err := voprf.deriveKey(k.seed[:], []byte("detente/psi/query/v1/epoch/"+epoch))
	if err != nil {
		return nil, fmt.Errorf("derive epoch key: %w", err)
	}
	return sk, nil
}

// PublicKey returns the VOPRF public key of epoch (32 bytes). The owner
// publishes it with the encoded watchlist; the lead should log its hash
// per epoch so that an owner cannot use a different key for each querier.
func (k *OwnerKey) PublicKey(epoch string) ([]byte, error) {
	sk, err := k.epochKey(epoch)
	if err != nil {
		return nil, err
	}
	return slices.Clone(sk.pub.enc), nil
}

// Watchlist encoding.
const (
	watchlistMagic = "DTPSIWL1"
	// TagSize is the size of one encoded watchlist entry: the first 8
	// bytes of SHA-256 over the epoch and the VOPRF output.
	TagSize = 8
	// maxWatchlist bounds the entries of an encoded watchlist.
	maxWatchlist = 1 << 26
)

// Watchlist is an owner's encoded watchlist for one epoch: sorted truncated
// VOPRF outputs of the keys of its selectors. It reveals the number of keys
// and nothing else; without an evaluation by the owner, nobody can tell
// whether a selector is in it. Its false-positive rate is n·q/2^64 for n
// entries and q keys tested (about 5·10⁻¹¹ for a million entries and a
// thousand keys).
type Watchlist struct {
	// Epoch is the epoch the entries belong to.
	Epoch string
	// PublicKey is the VOPRF public key of the epoch.
	PublicKey []byte
	entries   []uint64 // sorted, distinct
}

// Len returns the number of distinct keys encoded.
func (w *Watchlist) Len() int { return len(w.entries) }

// entryTag truncates a VOPRF output to a watchlist entry, binding it to
// the epoch.
func entryTag(epoch string, output []byte) uint64 {
	h := sha256.New()
	var l [2]byte
	binary.BigEndian.PutUint16(l[:], uint16(len(epoch)))
	h.Write([]byte("detente/psi/watchlist/v1"))
	h.Write(l[:])
	h.Write([]byte(epoch))
	h.Write(output)
	var sum [sha256.Size]byte
	return binary.BigEndian.Uint64(h.Sum(sum[:0]))
}

// contains reports whether the entry t is in w.
func (w *Watchlist) contains(t uint64) bool {
	_, ok := slices.BinarySearch(w.entries, t)
	return ok
}

// EncodeWatchlist evaluates the keys of selectors under the owner's key of
// epoch and returns the encoded watchlist. It fails on the first selector
// that cannot be canonicalised, naming its index.
func EncodeWatchlist(key *OwnerKey, epoch string, selectors []Selector) (*Watchlist, error) {
	var inputs [][]byte
	for i, s := range selectors {
		ks, err := s.Keys()
		if err != nil {
			return nil, fmt.Errorf("selector %d: %w", i, err)
		}
		for _, k := range ks {
			inputs = append(inputs, k.Input())
		}
	}
	return EncodeWatchlistInputs(key, epoch, inputs)
}

// EncodeWatchlistInputs is EncodeWatchlist over PRF inputs already built
// with Key.Input. The work is spread over GOMAXPROCS goroutines.
func EncodeWatchlistInputs(key *OwnerKey, epoch string, inputs [][]byte) (*Watchlist, error) {
	if len(inputs) > maxWatchlist {
		return nil, fmt.Errorf("%w: %d keys, at most %d", ErrSetSize, len(inputs), maxWatchlist)
	}
	sk, err := key.epochKey(epoch)
	if err != nil {
		return nil, err
	}
	entries := make([]uint64, len(inputs))
	err = parallel(len(inputs), func(lo, hi int) error {
		for i := lo; i < hi; i++ {
			out, err := sk.evaluate(inputs[i])
			if err != nil {
				return fmt.Errorf("evaluate: %w", err)
			}
			entries[i] = entryTag(epoch, out)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	slices.Sort(entries)
	entries = slices.Compact(entries)
	return &Watchlist{Epoch: epoch, PublicKey: slices.Clone(sk.pub.enc), entries: entries}, nil
}

// MarshalBinary encodes w: "DTPSIWL1", the epoch's length (2 bytes) and
// bytes, the public key (32 bytes), the entry count (4 bytes), then the
// sorted entries (8 bytes each), all big-endian.
func (w *Watchlist) MarshalBinary() ([]byte, error) {
	b := make([]byte, 0, len(watchlistMagic)+2+len(w.Epoch)+32+4+TagSize*len(w.entries))
	b = append(b, watchlistMagic...)
	b = binary.BigEndian.AppendUint16(b, uint16(len(w.Epoch)))
	b = append(b, w.Epoch...)
	b = append(b, w.PublicKey...)
	b = binary.BigEndian.AppendUint32(b, uint32(len(w.entries)))
	for _, e := range w.entries {
		b = binary.BigEndian.AppendUint64(b, e)
	}
	return b, nil
}

// ParseWatchlist decodes an encoded watchlist, checking that its entries
// are sorted and distinct and that its public key is a valid element.
func ParseWatchlist(b []byte) (*Watchlist, error) {
	bad := func(msg string) error { return fmt.Errorf("%w: watchlist: %s", ErrMessage, msg) }
	if len(b) < len(watchlistMagic)+2 || string(b[:len(watchlistMagic)]) != watchlistMagic {
		return nil, bad("bad magic")
	}
	b = b[len(watchlistMagic):]
	el := int(binary.BigEndian.Uint16(b))
	b = b[2:]
	if len(b) < el+32+4 {
		return nil, bad("truncated header")
	}
	w := &Watchlist{Epoch: string(b[:el]), PublicKey: slices.Clone(b[el : el+32])}
	if err := checkEpoch(w.Epoch); err != nil {
		return nil, err
	}
	if _, err := parseVOPRFPublic(w.PublicKey); err != nil {
		return nil, bad("invalid public key")
	}
	b = b[el+32:]
	n := int(binary.BigEndian.Uint32(b))
	b = b[4:]
	if n > maxWatchlist || len(b) != n*TagSize {
		return nil, bad("entry count does not match length")
	}
	w.entries = make([]uint64, n)
	for i := range w.entries {
		w.entries[i] = binary.BigEndian.Uint64(b[i*TagSize:])
		if i > 0 && w.entries[i] <= w.entries[i-1] {
			return nil, bad("entries not sorted and distinct")
		}
	}
	return w, nil
}
