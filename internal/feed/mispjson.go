package feed

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// The MISP core format (draft-dulaunoy-misp-core-format) as MISP feeds
// serve it. Only what the conversion reads is declared. MISP writes many
// numbers and booleans as strings ("timestamp": "1603642920", "to_ids":
// "1"), so those fields accept both.

// mispFile is an event file: {"Event": {...}}.
type mispFile struct {
	Event *mispEvent `json:"Event"`
}

type mispEvent struct {
	UUID             string          `json:"uuid"`
	Info             flexString      `json:"info"`
	Date             flexString      `json:"date"`
	Timestamp        flexTime        `json:"timestamp"`
	Published        flexBool        `json:"published"`
	PublishTimestamp flexTime        `json:"publish_timestamp"`
	Orgc             *mispOrg        `json:"Orgc"`
	Tag              []mispTag       `json:"Tag"`
	Attribute        []mispAttribute `json:"Attribute"`
	Object           []mispObject    `json:"Object"`
	Galaxy           []mispGalaxy    `json:"Galaxy"`
}

type mispOrg struct {
	UUID string     `json:"uuid"`
	Name flexString `json:"name"`
}

type mispTag struct {
	Name flexString `json:"name"`
}

type mispAttribute struct {
	UUID           string       `json:"uuid"`
	Type           flexString   `json:"type"`
	Category       flexString   `json:"category"`
	Value          flexString   `json:"value"`
	Comment        flexString   `json:"comment"`
	ObjectRelation flexString   `json:"object_relation"`
	ToIDs          flexBool     `json:"to_ids"`
	Deleted        flexBool     `json:"deleted"`
	Timestamp      flexTime     `json:"timestamp"`
	FirstSeen      flexString   `json:"first_seen"`
	LastSeen       flexString   `json:"last_seen"`
	Tag            []mispTag    `json:"Tag"`
	Galaxy         []mispGalaxy `json:"Galaxy"`
}

type mispObject struct {
	UUID            string          `json:"uuid"`
	Name            flexString      `json:"name"`
	MetaCategory    flexString      `json:"meta-category"`
	Comment         flexString      `json:"comment"`
	Deleted         flexBool        `json:"deleted"`
	Timestamp       flexTime        `json:"timestamp"`
	Attribute       []mispAttribute `json:"Attribute"`
	ObjectReference []mispReference `json:"ObjectReference"`
}

type mispReference struct {
	UUID             string     `json:"uuid"`
	ReferencedUUID   string     `json:"referenced_uuid"`
	RelationshipType flexString `json:"relationship_type"`
	Deleted          flexBool   `json:"deleted"`
}

type mispGalaxy struct {
	UUID          string        `json:"uuid"`
	Name          flexString    `json:"name"`
	Type          flexString    `json:"type"`
	Description   flexString    `json:"description"`
	GalaxyCluster []mispCluster `json:"GalaxyCluster"`
}

type mispCluster struct {
	UUID        string                     `json:"uuid"`
	Type        flexString                 `json:"type"`
	Value       flexString                 `json:"value"`
	Description flexString                 `json:"description"`
	Meta        map[string]json.RawMessage `json:"meta"`
}

// flexString is a JSON string, number or boolean, kept as text; null is "".
type flexString string

func (s *flexString) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch {
	case len(b) == 0 || string(b) == "null":
		*s = ""
	case b[0] == '"':
		var v string
		if err := json.Unmarshal(b, &v); err != nil {
			return err
		}
		*s = flexString(v)
	case string(b) == "true" || string(b) == "false" || b[0] == '-' || b[0] >= '0' && b[0] <= '9':
		*s = flexString(b)
	default:
		return fmt.Errorf("want a string, got %.20s", b)
	}
	return nil
}

func (s flexString) String() string { return strings.TrimSpace(string(s)) }

// flexBool is true, false, 1, 0, "1", "0", "true", "false"; null is false.
type flexBool bool

func (v *flexBool) UnmarshalJSON(b []byte) error {
	var s flexString
	if err := s.UnmarshalJSON(b); err != nil {
		return err
	}
	switch strings.ToLower(s.String()) {
	case "true", "1":
		*v = true
	case "false", "0", "":
		*v = false
	default:
		return fmt.Errorf("want a boolean, got %q", clip(string(s), 20))
	}
	return nil
}

// flexTime is a Unix time in seconds, as a number or a string of digits.
type flexTime int64

func (t *flexTime) UnmarshalJSON(b []byte) error {
	var s flexString
	if err := s.UnmarshalJSON(b); err != nil {
		return err
	}
	if s == "" {
		*t = 0
		return nil
	}
	n, err := strconv.ParseInt(s.String(), 10, 64)
	if err != nil || n < 0 {
		return fmt.Errorf("want a Unix timestamp, got %q", clip(string(s), 20))
	}
	*t = flexTime(n)
	return nil
}

// stixTime formats Unix seconds as a STIX timestamp.
func stixTime(unix int64) string {
	return time.Unix(unix, 0).UTC().Format("2006-01-02T15:04:05.000Z")
}

// seenTime reads a MISP first_seen/last_seen value (RFC 3339 with an
// offset, microseconds) as a STIX timestamp, "" when absent or unreadable.
func seenTime(s flexString) string {
	t, err := time.Parse(time.RFC3339Nano, s.String())
	if err != nil {
		return ""
	}
	return t.UTC().Format("2006-01-02T15:04:05.000Z")
}
