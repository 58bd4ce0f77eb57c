package taxii

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// endpoint names the paginated endpoints, which accept different filters.
type endpoint int

const (
	epObjects  endpoint = iota // GET …/objects/ (§5.4)
	epManifest                 // GET …/manifest/ (§5.3)
	epObject                   // GET …/objects/{object-id}/ (§5.6)
	epVersions                 // GET …/objects/{object-id}/versions/ (§5.8)
)

func (e endpoint) String() string {
	return [...]string{"objects", "manifest", "object", "versions"}[e]
}

// allows reports whether endpoint e accepts the match field name
// (TAXII 2.1 §5.3–§5.8 list each endpoint's URL parameters).
func (e endpoint) allows(field string) bool {
	switch field {
	case "id", "type":
		return e == epObjects || e == epManifest
	case "version":
		return e != epVersions
	case "spec_version":
		return true
	}
	return false
}

var (
	// A STIX type: lowercase ASCII letters, digits and hyphens, 3 to 250
	// characters, no leading or trailing hyphen (STIX 2.1 §3.1).
	typeRE = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{1,248}[a-z0-9]$`)
	// A STIX identifier: type--UUID (STIX 2.1 §2.9).
	idRE          = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{1,248}[a-z0-9]--[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)
	specVersionRE = regexp.MustCompile(`^[0-9]{1,3}\.[0-9]{1,3}$`)
)

// validID reports whether s is a well-formed STIX identifier.
func validID(s string) bool { return idRE.MatchString(s) }

// request is one parsed request to a paginated endpoint.
type request struct {
	q           Query
	fingerprint [8]byte // of the filters, checked against a next cursor
	next        string  // the next value given, opened by cursors.resolve
}

// parseQuery parses and validates the URL parameters of a request to
// endpoint ep in scope (the collection id, and the object id when there is
// one). defLimit and maxLimit bound the page size. Every error is a 400
// TAXII error message.
func parseQuery(raw string, ep endpoint, scope string, defLimit, maxLimit int) (request, error) {
	vals, err := url.ParseQuery(raw)
	if err != nil {
		return request{}, badRequest("the query string is malformed")
	}
	var q Query
	single := func(name string) (string, bool, error) {
		vs, ok := vals[name]
		if !ok {
			return "", false, nil
		}
		if len(vs) != 1 {
			return "", false, badRequest(name + " must be given at most once")
		}
		return vs[0], true, nil
	}

	// Every match[field] parameter; values are comma-separated (§3.4.1).
	keys := make([]string, 0, len(vals))
	for k := range vals {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		field, ok := strings.CutPrefix(k, "match[")
		if !ok {
			continue // other parameters than the specification's are ignored
		}
		field, ok = strings.CutSuffix(field, "]")
		if !ok || !ep.allows(field) {
			return request{}, badRequest(fmt.Sprintf("the filter %q is not supported on this endpoint", k))
		}
		var values []string
		for _, v := range vals[k] {
			for part := range strings.SplitSeq(v, ",") {
				part = strings.TrimSpace(part)
				if part == "" {
					return request{}, badRequest(fmt.Sprintf("%s has an empty value", k))
				}
				values = append(values, part)
			}
		}
		switch field {
		case "id":
			for _, v := range values {
				if !validID(v) {
					return request{}, badRequest(fmt.Sprintf("match[id] value %q is not a STIX identifier", v))
				}
			}
			q.IDs = dedupe(values)
		case "type":
			for _, v := range values {
				if !typeRE.MatchString(v) {
					return request{}, badRequest(fmt.Sprintf("match[type] value %q is not a STIX type", v))
				}
			}
			q.Types = dedupe(values)
		case "spec_version":
			for _, v := range values {
				if !specVersionRE.MatchString(v) {
					return request{}, badRequest(fmt.Sprintf("match[spec_version] value %q is not a version such as 2.1", v))
				}
			}
			q.SpecVersions = dedupe(values)
		case "version":
			for _, v := range values {
				switch v {
				case "all":
					q.Versions.All = true
				case "first":
					q.Versions.First = true
				case "last":
					q.Versions.Last = true
				default:
					t, err := ParseTime(v)
					if err != nil {
						return request{}, badRequest(fmt.Sprintf("match[version] value %q is neither first, last, all nor a timestamp", v))
					}
					if !slices.ContainsFunc(q.Versions.At, t.Equal) {
						q.Versions.At = append(q.Versions.At, t)
					}
				}
			}
			slices.SortFunc(q.Versions.At, time.Time.Compare)
		}
	}
	if ep == epVersions {
		q.Versions = VersionSet{All: true}
		q.WithoutRaw = true
	} else if q.Versions.IsZero() {
		q.Versions.Last = true
	}
	if ep == epManifest {
		q.WithoutRaw = true
	}

	if s, ok, err := single("added_after"); err != nil {
		return request{}, err
	} else if ok {
		t, err := ParseTime(s)
		if err != nil {
			return request{}, badRequest(fmt.Sprintf("added_after %q is not an RFC 3339 timestamp", s))
		}
		q.AddedAfter = t
	}

	q.Limit = defLimit
	if s, ok, err := single("limit"); err != nil {
		return request{}, err
	} else if ok {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil || n < 1 {
			return request{}, badRequest(fmt.Sprintf("limit %q is not a positive integer", s))
		}
		q.Limit = int(min(n, int64(maxLimit)))
	}

	req := request{q: q, fingerprint: fingerprint(ep, scope, &q)}
	if s, ok, err := single("next"); err != nil {
		return request{}, err
	} else if ok {
		req.next = s
	}
	return req, nil
}

func badRequest(description string) *Error { return newError(http.StatusBadRequest, description) }

func dedupe(s []string) []string {
	s = slices.Clone(s)
	slices.Sort(s)
	return slices.Compact(s)
}

// fingerprint digests what a query selects, apart from its page size and
// position: a cursor is valid only with the filters it was issued for.
func fingerprint(ep endpoint, scope string, q *Query) [8]byte {
	h := sha256.New()
	field := func(name string, values ...string) {
		fmt.Fprintf(h, "%s=%d", name, len(values))
		for _, v := range values {
			fmt.Fprintf(h, ":%d:%s", len(v), v)
		}
		h.Write([]byte{'\n'})
	}
	field("endpoint", ep.String())
	field("scope", scope)
	field("id", q.IDs...)
	field("type", q.Types...)
	field("spec_version", q.SpecVersions...)
	versions := []string{strconv.FormatBool(q.Versions.All), strconv.FormatBool(q.Versions.First), strconv.FormatBool(q.Versions.Last)}
	for _, t := range q.Versions.At {
		versions = append(versions, t.Format(time.RFC3339Nano))
	}
	field("version", versions...)
	added := ""
	if !q.AddedAfter.IsZero() {
		added = q.AddedAfter.Format(time.RFC3339Nano)
	}
	field("added_after", added)
	var fp [8]byte
	copy(fp[:], h.Sum(nil))
	return fp
}

// cursorVersion is the first byte of every cursor this package issues.
const cursorVersion = 2

// cursors seals and opens next values with AES-256-GCM. A next value holds
// the arrival position (Record.Seq) of the last record served and the
// fingerprint of the query's filters, encrypted and bound to the caller:
// it reveals nothing of the store (not even how many records the caller
// may not see lie between two it may), and is good only for the caller
// and the filters it was issued for.
type cursors struct {
	aead cipher.AEAD
}

// newCursors returns cursors sealed under key (32 bytes), or under a
// random key when key is nil.
func newCursors(key []byte) (*cursors, error) {
	if key == nil {
		key = make([]byte, 32)
		if _, err := rand.Read(key); err != nil {
			return nil, err
		}
	}
	if len(key) != 32 {
		return nil, fmt.Errorf("taxii: cursor key is %d bytes, want 32", len(key))
	}
	b, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	a, err := cipher.NewGCM(b)
	if err != nil {
		return nil, err
	}
	return &cursors{aead: a}, nil
}

// callerID is what a cursor is bound to.
func callerID(c Caller) []byte {
	return []byte("partner=" + c.Partner + "\nrole=" + string(c.LocalRole))
}

// seal returns the next value for the position after seq.
func (cs *cursors) seal(seq int64, fp [8]byte, c Caller) string {
	var plain [16]byte
	binary.BigEndian.PutUint64(plain[:8], uint64(seq))
	copy(plain[8:], fp[:])
	out := make([]byte, 1+cs.aead.NonceSize(), 1+cs.aead.NonceSize()+len(plain)+cs.aead.Overhead())
	out[0] = cursorVersion
	if _, err := rand.Read(out[1:]); err != nil {
		panic(err) // crypto/rand never fails on supported platforms
	}
	out = cs.aead.Seal(out, out[1:], plain[:], callerID(c))
	return base64.RawURLEncoding.EncodeToString(out)
}

// open parses a next value issued by seal for caller c.
func (cs *cursors) open(s string, c Caller) (int64, [8]byte, error) {
	var fp [8]byte
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return 0, fp, fmt.Errorf("decode cursor: %w", err)
	}
	ns := cs.aead.NonceSize()
	if len(b) < 1+ns || b[0] != cursorVersion {
		return 0, fp, errors.New("decode cursor: unknown form")
	}
	plain, err := cs.aead.Open(nil, b[1:1+ns], b[1+ns:], callerID(c))
	if err != nil || len(plain) != 16 {
		return 0, fp, errors.New("decode cursor: not issued by this server for this caller")
	}
	seq := binary.BigEndian.Uint64(plain[:8])
	if seq > 1<<63-1 {
		return 0, fp, errors.New("decode cursor: position out of range")
	}
	copy(fp[:], plain[8:])
	return int64(seq), fp, nil
}

// resolve opens req's next value, if any, into req.q.AfterSeq. Every
// error is a 400 TAXII error message.
func (cs *cursors) resolve(req *request, c Caller) error {
	if req.next == "" {
		return nil
	}
	seq, fp, err := cs.open(req.next, c)
	if err != nil {
		return badRequest("next is not a value this server issued to you")
	}
	if fp != req.fingerprint {
		return badRequest("next was issued for other filters: repeat the original query's filters with it")
	}
	req.q.AfterSeq = seq
	return nil
}
