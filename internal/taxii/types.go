package taxii

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// Media types (TAXII 2.1 §1.6.8). Responses carry MediaType exactly, with no
// space before the parameter, as the specification writes it.
const (
	// MediaType is the media type of every TAXII 2.1 request and response body.
	MediaType = "application/taxii+json;version=2.1"
	// STIXMediaType is the media type of a STIX 2.1 object, as listed in a
	// collection's media_types and a manifest record's media_type.
	STIXMediaType = "application/stix+json;version=2.1"
)

// Status values of a status resource (TAXII 2.1 §4.3.1).
const (
	StatusComplete = "complete"
	StatusPending  = "pending"
)

// timestampLayout is the form of every timestamp this package writes: UTC,
// microsecond precision, trailing Z. Microseconds are the finest precision
// common TAXII clients (Python datetime) parse, and a fixed precision means
// an X-TAXII-Date-Added-Last value used as added_after names exactly the
// record it came from.
const timestampLayout = "2006-01-02T15:04:05.000000Z"

// Timestamp is a TAXII timestamp (TAXII 2.1 §2): RFC 3339 in UTC. It is
// written with exactly six fractional digits and read from any RFC 3339 form.
type Timestamp struct{ time.Time }

// VersionStamp is an object version (its modified time, TAXII 2.1 §3.4)
// in a manifest, a versions resource or a status: written as STIX writes
// timestamps, with the fewest of 3, 6 or 9 fractional digits that are
// exact, so that it reads like the object's own modified
// ("2017-01-27T13:49:53.997Z", never "…53.997000Z": clients compare the
// strings). It is read from any RFC 3339 form. The zero value is written
// as nothing by the structs that carry it (omitzero).
type VersionStamp struct {
	time.Time
	// Text, when set, is written instead: the version as the object
	// spells its own modified (or created) property.
	Text string
}

// FormatVersion returns t as VersionStamp writes it.
func FormatVersion(t time.Time) string {
	t = t.UTC()
	switch {
	case t.Nanosecond()%1_000_000 == 0:
		return t.Format("2006-01-02T15:04:05.000Z")
	case t.Nanosecond()%1_000 == 0:
		return t.Format("2006-01-02T15:04:05.000000Z")
	}
	return t.Format("2006-01-02T15:04:05.000000000Z")
}

// String returns the version as VersionStamp writes it.
func (v VersionStamp) String() string {
	if v.Text != "" {
		return v.Text
	}
	return FormatVersion(v.Time)
}

// MarshalJSON implements json.Marshaler.
func (v VersionStamp) MarshalJSON() ([]byte, error) {
	if v.Text != "" {
		return json.Marshal(v.Text)
	}
	return json.Marshal(FormatVersion(v.Time))
}

// UnmarshalJSON implements json.Unmarshaler.
func (v *VersionStamp) UnmarshalJSON(b []byte) error {
	var t Timestamp
	if err := t.UnmarshalJSON(b); err != nil {
		return err
	}
	v.Time = t.Time
	return nil
}

// FormatTime returns t in the form this package writes timestamps.
func FormatTime(t time.Time) string { return t.UTC().Format(timestampLayout) }

// ParseTime parses an RFC 3339 timestamp and returns it in UTC.
func ParseTime(s string) (time.Time, error) {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("parse timestamp %q: %w", s, err)
	}
	return t.UTC(), nil
}

// String returns the timestamp in the form this package writes.
func (t Timestamp) String() string { return FormatTime(t.Time) }

// MarshalJSON implements json.Marshaler.
func (t Timestamp) MarshalJSON() ([]byte, error) {
	return json.Marshal(FormatTime(t.Time))
}

// UnmarshalJSON implements json.Unmarshaler.
func (t *Timestamp) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("timestamp: %w", err)
	}
	v, err := ParseTime(s)
	if err != nil {
		return err
	}
	t.Time = v
	return nil
}

// Discovery is the discovery resource (TAXII 2.1 §4.1.1).
type Discovery struct {
	Title       string   `json:"title"`
	Description string   `json:"description,omitempty"`
	Contact     string   `json:"contact,omitempty"`
	Default     string   `json:"default,omitempty"`
	APIRoots    []string `json:"api_roots,omitempty"`
}

// APIRoot is the API root resource (TAXII 2.1 §4.2.1).
type APIRoot struct {
	Title            string   `json:"title"`
	Description      string   `json:"description,omitempty"`
	Versions         []string `json:"versions"`
	MaxContentLength int64    `json:"max_content_length"`
}

// Collection is a collection resource (TAXII 2.1 §5.2.1) as one caller sees
// it: CanRead and CanWrite are that caller's permissions.
type Collection struct {
	ID          string   `json:"id"`
	Title       string   `json:"title"`
	Description string   `json:"description,omitempty"`
	Alias       string   `json:"alias,omitempty"`
	CanRead     bool     `json:"can_read"`
	CanWrite    bool     `json:"can_write"`
	MediaTypes  []string `json:"media_types,omitempty"`
}

// Collections is the collections resource (TAXII 2.1 §5.1.1).
type Collections struct {
	Collections []Collection `json:"collections,omitempty"`
}

// Envelope is the envelope resource (TAXII 2.1 §3.7): one page of objects.
// When More is true, Next continues the listing.
type Envelope struct {
	More    bool              `json:"more"`
	Next    string            `json:"next,omitempty"`
	Objects []json.RawMessage `json:"objects,omitempty"`
}

// ManifestRecord describes one object version in a manifest (TAXII 2.1
// §5.3.1).
type ManifestRecord struct {
	ID        string       `json:"id"`
	DateAdded Timestamp    `json:"date_added"`
	Version   VersionStamp `json:"version"`
	MediaType string       `json:"media_type,omitempty"`
}

// Manifest is the manifest resource (TAXII 2.1 §5.3.1). Next is carried as
// in an envelope, so that manifests page by cursor too.
type Manifest struct {
	More    bool             `json:"more"`
	Next    string           `json:"next,omitempty"`
	Objects []ManifestRecord `json:"objects,omitempty"`
}

// Versions is the versions resource (TAXII 2.1 §5.8.1). Next is carried as
// in an envelope, so that version lists page by cursor too.
type Versions struct {
	More     bool           `json:"more"`
	Next     string         `json:"next,omitempty"`
	Versions []VersionStamp `json:"versions,omitempty"`
}

// Status is the status resource (TAXII 2.1 §4.3.1): the outcome of one
// request to add objects.
type Status struct {
	ID               string         `json:"id"`
	Status           string         `json:"status"` // StatusComplete or StatusPending
	RequestTimestamp *Timestamp     `json:"request_timestamp,omitempty"`
	TotalCount       int            `json:"total_count"`
	SuccessCount     int            `json:"success_count"`
	Successes        []StatusDetail `json:"successes,omitempty"`
	FailureCount     int            `json:"failure_count"`
	Failures         []StatusDetail `json:"failures,omitempty"`
	PendingCount     int            `json:"pending_count"`
	Pendings         []StatusDetail `json:"pendings,omitempty"`
}

// StatusDetail is the outcome for one object of an add request (TAXII 2.1
// §4.3.1, status-details). Version is the object's modified timestamp, or
// its created or date added when it has none.
type StatusDetail struct {
	ID      string       `json:"id"`
	Version VersionStamp `json:"version,omitzero"`
	Message string       `json:"message,omitempty"`
}

// Error is a TAXII error message (TAXII 2.1 §3.6.1). The client returns
// one for every response with an error status; the server writes one for
// every error it answers.
type Error struct {
	Title           string            `json:"title"`
	Description     string            `json:"description,omitempty"`
	ErrorID         string            `json:"error_id,omitempty"`
	ErrorCode       string            `json:"error_code,omitempty"`
	HTTPStatus      string            `json:"http_status,omitempty"`
	ExternalDetails string            `json:"external_details,omitempty"`
	Details         map[string]string `json:"details,omitempty"`

	// StatusCode is the HTTP status of the response that carried the
	// message. It is not part of the message itself.
	StatusCode int `json:"-"`
}

// Error implements the error interface.
func (e *Error) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "taxii: %d", e.StatusCode)
	if e.Title != "" {
		b.WriteString(" " + e.Title)
	}
	if e.Description != "" {
		b.WriteString(": " + e.Description)
	}
	return b.String()
}

// newError returns the error message for status with a safe description.
func newError(status int, description string) *Error {
	return &Error{
		Title:       http.StatusText(status),
		Description: description,
		HTTPStatus:  fmt.Sprint(status),
		StatusCode:  status,
	}
}
