package translog

import (
	"strconv"

	"golang.org/x/mod/sumdb/tlog"

	"detente"
)

// LeafVersion is the first line of every leaf's data. A later encoding
// would use a new version line, so the two can never be confused.
const LeafVersion = "detente-log-leaf/v1"

// leafTimeFormat is RFC 3339 in UTC with exactly nine fractional digits, so
// that one instant has exactly one text form.
const leafTimeFormat = "2006-01-02T15:04:05.000000000Z07:00"

// LeafData returns the canonical bytes of e that are hashed into the log:
//
//	detente-log-leaf/v1
//	seq <decimal Seq>
//	time <Time in UTC, RFC 3339 with 9 fractional digits>
//	type <byte length>:<Type>
//	partner <byte length>:<Partner>
//	body <byte length>:<Body>
//
// each line ending in a newline (after the body too). Variable fields carry
// their length, so the encoding is injective for any field contents, and the
// body is hashed byte for byte as stored. The store must return Time to the
// nanosecond and Body unchanged, or the leaf no longer matches.
func LeafData(e *detente.Event) []byte {
	b := make([]byte, 0, 96+len(e.Type)+len(e.Partner)+len(e.Body))
	b = append(b, LeafVersion+"\nseq "...)
	b = strconv.AppendInt(b, e.Seq, 10)
	b = append(b, "\ntime "...)
	b = e.Time.UTC().AppendFormat(b, leafTimeFormat)
	b = appendField(b, "\ntype ", []byte(e.Type))
	b = appendField(b, "\npartner ", []byte(e.Partner))
	b = appendField(b, "\nbody ", e.Body)
	return append(b, '\n')
}

func appendField(b []byte, label string, v []byte) []byte {
	b = append(b, label...)
	b = strconv.AppendInt(b, int64(len(v)), 10)
	b = append(b, ':')
	return append(b, v...)
}

// LeafHash returns the RFC 6962 leaf hash of e: SHA-256(0x00 || LeafData(e)).
func LeafHash(e *detente.Event) tlog.Hash {
	return tlog.RecordHash(LeafData(e))
}
