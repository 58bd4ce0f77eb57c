package leak

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"

	"detente/internal/trace"
)

// Records are kept in binary, spread over recordBuckets documents per
// object version by a hash of the recipient: tracing reads every record
// of the versions a leak shows (100 partners' records of 1,000 versions
// in a fraction of a second), and a release reads and rewrites one small
// document, however many partners have copies.
const recordBuckets = 16

// recordFormat is the first byte of a bucket document.
const recordFormat = 1

// bucketID returns the document id of the bucket holding recipient's
// record of the version key.
func bucketID(key, recipient string) string {
	h := recipientHash(recipient)
	return key + "|" + fmt.Sprintf("%x", (hexValue(h[0]))%recordBuckets)
}

func hexValue(c byte) byte {
	if c >= 'a' {
		return c - 'a' + 10
	}
	return c - '0'
}

// appendRecord appends r in binary to b.
func appendRecord(b []byte, r *record) []byte {
	str := func(s string) {
		b = binary.AppendUvarint(b, uint64(len(s)))
		b = append(b, s...)
	}
	str(r.Partner)
	str(r.Record.Recipient)
	b = binary.AppendUvarint(b, uint64(r.Seq))
	b = binary.BigEndian.AppendUint64(b, math.Float64bits(r.Record.Cutoff))
	b = binary.AppendUvarint(b, uint64(len(r.Record.Symbols)))
	b = append(b, r.Record.Symbols...)
	b = binary.AppendUvarint(b, uint64(len(r.Record.Labels)))
	for _, l := range r.Record.Labels {
		str(l)
	}
	return append(b, r.Record.Commitment[:]...)
}

var errRecords = errors.New("fingerprint records: malformed document")

// parseRecords decodes a bucket document; the records name object and
// version, which the document id gives.
func parseRecords(b []byte, object, version string) ([]*record, error) {
	if len(b) == 0 || b[0] != recordFormat {
		return nil, errRecords
	}
	b = b[1:]
	var out []*record
	uv := func() (uint64, bool) {
		v, n := binary.Uvarint(b)
		if n <= 0 {
			return 0, false
		}
		b = b[n:]
		return v, true
	}
	bytesN := func(n uint64) ([]byte, bool) {
		if n > uint64(len(b)) {
			return nil, false
		}
		v := b[:n]
		b = b[n:]
		return v, true
	}
	str := func() (string, bool) {
		n, ok := uv()
		if !ok {
			return "", false
		}
		v, ok := bytesN(n)
		return string(v), ok
	}
	for len(b) > 0 {
		r := &record{Record: &trace.Record{Object: object, Version: version}}
		var ok bool
		if r.Partner, ok = str(); !ok {
			return nil, errRecords
		}
		if r.Record.Recipient, ok = str(); !ok {
			return nil, errRecords
		}
		seq, ok := uv()
		if !ok {
			return nil, errRecords
		}
		r.Seq = int64(seq)
		c, ok := bytesN(8)
		if !ok {
			return nil, errRecords
		}
		r.Record.Cutoff = math.Float64frombits(binary.BigEndian.Uint64(c))
		n, ok := uv()
		if !ok {
			return nil, errRecords
		}
		sym, ok := bytesN(n)
		if !ok {
			return nil, errRecords
		}
		r.Record.Symbols = append([]byte(nil), sym...)
		if n, ok = uv(); !ok || n > uint64(len(b)) {
			return nil, errRecords
		}
		for range n {
			l, ok := str()
			if !ok {
				return nil, errRecords
			}
			r.Record.Labels = append(r.Record.Labels, l)
		}
		cm, ok := bytesN(32)
		if !ok {
			return nil, errRecords
		}
		copy(r.Record.Commitment[:], cm)
		out = append(out, r)
	}
	return out, nil
}
