package taxii

import (
	"cmp"
	"context"
	"encoding/json"
	"slices"
	"strconv"
	"strings"
	"time"

	"detente"
)

// Caller is the authenticated party behind a request, as the node's
// authentication layer established it. The server reads it from the request
// context (WithCaller); a request without one is answered 401.
type Caller struct {
	// Partner is the partner's name for a partner node, "" for a local
	// user or tool.
	Partner string
	// LocalRole is a local user's role, "" for a partner.
	LocalRole detente.Role
	// CanRead and CanWrite are what the caller may do at all; a
	// collection's own CanRead and CanWrite narrow them further. The zero
	// Caller may do nothing.
	CanRead, CanWrite bool
}

type callerKey struct{}

// WithCaller returns a copy of ctx that carries c. The node's authentication
// middleware calls it before handing a request to the server.
func WithCaller(ctx context.Context, c Caller) context.Context {
	return context.WithValue(ctx, callerKey{}, c)
}

// CallerFrom returns the Caller ctx carries and whether it carries one.
func CallerFrom(ctx context.Context) (Caller, bool) {
	c, ok := ctx.Value(callerKey{}).(Caller)
	return c, ok
}

// VersionSet is the parsed match[version] filter (TAXII 2.1 §3.4.2): the
// union of the selectors that are set. The zero VersionSet means Last, the
// specification's default.
type VersionSet struct {
	All   bool        // every version
	First bool        // the oldest version of each object
	Last  bool        // the newest version of each object
	At    []time.Time // the versions whose timestamp equals one of these
}

// IsZero reports whether no selector is set.
func (v VersionSet) IsZero() bool { return !v.All && !v.First && !v.Last && len(v.At) == 0 }

// Query is what one request asks of a collection, parsed and validated. Its
// semantics are those of Select.
type Query struct {
	IDs          []string   // match[id]: any of these ids; empty for any
	Types        []string   // match[type]: any of these types; empty for any
	SpecVersions []string   // match[spec_version]; empty for the latest of each object
	Versions     VersionSet // match[version]
	AddedAfter   time.Time  // added_after, exclusive; zero for none
	AfterSeq     int64      // from next: only records with Seq > AfterSeq
	Limit        int        // at most this many records; always > 0 from the server
	// WithoutRaw says the caller needs no Record.Raw (manifest and versions
	// requests); a Source may leave Raw nil.
	WithoutRaw bool
}

// Record is one object version in a collection, as one caller may see it.
type Record struct {
	// Seq is the record's arrival position in its collection. Seq and
	// DateAdded both increase strictly in arrival order.
	Seq int64
	// DateAdded is when the version was added to the collection: unique
	// within the collection, at microsecond precision (see FormatTime).
	DateAdded time.Time
	ID        string // the STIX id
	// Version is the version's modified timestamp, else its created
	// timestamp, else DateAdded (objects without either, e.g. SCOs).
	Version time.Time
	// VersionText is Version as the object itself spells it (its
	// modified or created property), when the Source knows it: manifests
	// and versions write it as it is, so a client comparing strings sees
	// one version, not two. Empty: FormatVersion(Version).
	VersionText string
	SpecVersion string // e.g. "2.1"
	MediaType   string // e.g. STIXMediaType
	Raw         []byte // the object's JSON as this caller may see it
}

// Type returns the STIX type of the record's object: the prefix of its id.
func (r *Record) Type() string { return stixType(r.ID) }

func stixType(id string) string {
	t, _, _ := strings.Cut(id, "--")
	return t
}

// Source supplies the collections and objects the server publishes. The node
// implements it; every method answers for one caller and must show that
// caller nothing the egress policy does not release to it.
//
// Errors should be *detente.Error values: their codes become HTTP statuses
// (ENOTFOUND 404, EFORBIDDEN and EDENIED 403, EUNAUTHORIZED 401, EINVALID
// 400, ETOOLARGE 413, ECONFLICT and EEXISTS 409, EUNAVAILABLE 503) and their
// messages are shown to the caller. Any other error is answered 500 with a
// generic description and logged.
type Source interface {
	// Collections returns the collections the caller may know of. A
	// collection not listed is answered 404, exactly as a missing one.
	Collections(ctx context.Context, c Caller) ([]Collection, error)

	// Records returns the records of collection collectionID that q
	// selects from the caller's view, ordered by Seq, at most q.Limit of
	// them, and whether more records after the last one returned match q.
	// The result must equal Select(view, q), where view is every record of
	// the collection released to the caller.
	//
	// Cursors rely on one more guarantee: once a record is visible to
	// Records, no record with a smaller Seq may become visible later (Seq
	// is assigned in commit order, or a reader never sees past a
	// not-yet-committed Seq). Otherwise a client paging by cursor skips the
	// late record.
	Records(ctx context.Context, c Caller, collectionID string, q Query) (recs []Record, more bool, err error)

	// Add adds objects to collection collectionID on behalf of the caller
	// and returns the status of the request. Each object is a JSON object
	// with string "type" and "id" properties; the Source validates the
	// rest. Rejected objects are failures in the status, not errors.
	Add(ctx context.Context, c Caller, collectionID string, objects []json.RawMessage) (Status, error)

	// Status returns the status resource statusID, ENOTFOUND if it does not
	// exist or belongs to another caller.
	Status(ctx context.Context, c Caller, statusID string) (Status, error)
}

// Select applies q to view, every record of one collection visible to one
// caller, and returns the page q asks for and whether more records follow
// it. It is the reference semantics of Source.Records, and a Source that
// holds a caller's view in memory may simply call it.
//
// The filters combine as TAXII 2.1 §3.4 says: values of one parameter are
// alternatives, parameters are all required. The spec_version and version
// selections are made per object over all of its versions in view that
// pass match[id], match[type] and match[spec_version], before added_after
// and the cursor apply, so that "last" always means the newest version the
// caller may see, never the newest of one page.
func Select(view []Record, q Query) ([]Record, bool) {
	if !slices.IsSortedFunc(view, bySeq) {
		view = slices.Clone(view)
		slices.SortFunc(view, bySeq)
	}
	ids, types, specs := set(q.IDs), set(q.Types), set(q.SpecVersions)
	var cand []int // indexes into view
	for i := range view {
		r := &view[i]
		if ids != nil && !ids[r.ID] || types != nil && !types[r.Type()] || specs != nil && !specs[r.SpecVersion] {
			continue
		}
		cand = append(cand, i)
	}

	// Per object: the latest spec version, then the first and last
	// versions among the records of that spec version (or of any, when
	// match[spec_version] is given).
	type bounds struct {
		spec        string
		first, last time.Time
	}
	index := make(map[string]int, len(cand))
	per := make([]bounds, 0, len(cand))
	for _, c := range cand {
		r := &view[c]
		i, ok := index[r.ID]
		if !ok {
			index[r.ID] = len(per)
			per = append(per, bounds{spec: r.SpecVersion})
		} else if compareSpecVersions(r.SpecVersion, per[i].spec) > 0 {
			per[i].spec = r.SpecVersion
		}
	}
	latestSpec := specs == nil
	keep := cand[:0]
	for _, c := range cand {
		r := &view[c]
		b := &per[index[r.ID]]
		if latestSpec && r.SpecVersion != b.spec {
			continue
		}
		if b.first.IsZero() || r.Version.Before(b.first) {
			b.first = r.Version
		}
		if b.last.IsZero() || r.Version.After(b.last) {
			b.last = r.Version
		}
		keep = append(keep, c)
	}
	cand = keep

	vs := q.Versions
	if vs.IsZero() {
		vs.Last = true
	}
	var out []Record
	more := false
	for _, c := range cand {
		r := &view[c]
		if r.Seq <= q.AfterSeq || !q.AddedAfter.IsZero() && !r.DateAdded.After(q.AddedAfter) {
			continue
		}
		b := &per[index[r.ID]]
		ok := vs.All ||
			vs.First && r.Version.Equal(b.first) ||
			vs.Last && r.Version.Equal(b.last) ||
			slices.ContainsFunc(vs.At, r.Version.Equal)
		if !ok {
			continue
		}
		if q.Limit > 0 && len(out) == q.Limit {
			more = true
			break
		}
		out = append(out, *r)
	}
	return out, more
}

// set returns the members of s, nil if s is empty.
func set(s []string) map[string]bool {
	if len(s) == 0 {
		return nil
	}
	m := make(map[string]bool, len(s))
	for _, v := range s {
		m[v] = true
	}
	return m
}

func bySeq(a, b Record) int { return cmp.Compare(a.Seq, b.Seq) }

// compareSpecVersions orders "major.minor" strings numerically, so that
// "2.10" follows "2.9"; any other string orders before them, and among
// others as text.
func compareSpecVersions(a, b string) int {
	pa, oka := splitVersion(a)
	pb, okb := splitVersion(b)
	switch {
	case oka && okb:
		return cmp.Or(cmp.Compare(pa[0], pb[0]), cmp.Compare(pa[1], pb[1]))
	case oka:
		return 1
	case okb:
		return -1
	}
	return strings.Compare(a, b)
}

func splitVersion(s string) ([2]int, bool) {
	maj, minor, ok := strings.Cut(s, ".")
	if !ok {
		return [2]int{}, false
	}
	x, err1 := strconv.Atoi(maj)
	y, err2 := strconv.Atoi(minor)
	return [2]int{x, y}, err1 == nil && err2 == nil
}
