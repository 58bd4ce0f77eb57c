package feed

import (
	"encoding/json"
	"fmt"
	"maps"
	"time"

	"detente/internal/taxii"
)

// Cursor is where a feed's pull stands: what the next pull asks for. The
// zero Cursor starts from the beginning. A Sink stores it with the page it
// follows, in the same transaction, and gives it back on the next pull; the
// node may keep it as the JSON encoding/json writes (stable: map keys are
// sorted).
type Cursor struct {
	// AddedAfter is the added_after of the TAXII walk in progress: the
	// date_added of the last object stored by the previous walk.
	AddedAfter time.Time `json:"added_after,omitzero"`
	// Next is the server's next value within the walk in progress, "" at
	// the start of a walk.
	Next string `json:"next,omitempty"`
	// Last is the X-TAXII-Date-Added-Last of the last TAXII page stored:
	// where the next walk resumes, and the fallback if Next is refused.
	Last time.Time `json:"last,omitzero"`
	// Events maps each MISP event uuid pulled to the manifest timestamp
	// (Unix seconds) of the version stored: an event is pulled again when
	// the manifest shows a newer timestamp.
	Events map[string]int64 `json:"events,omitempty"`
}

// ParseCursor decodes a cursor the node stored as JSON; empty data is the
// zero Cursor.
func ParseCursor(data []byte) (Cursor, error) {
	var c Cursor
	if len(data) == 0 {
		return c, nil
	}
	if err := json.Unmarshal(data, &c); err != nil {
		return Cursor{}, fmt.Errorf("parse feed cursor: %w", err)
	}
	return c, nil
}

// String summarises the cursor for status output, e.g. "added after
// 2026-03-01T10:00:00.000000Z" or "42 events".
func (c Cursor) String() string {
	switch {
	case len(c.Events) > 0:
		return fmt.Sprintf("%d events", len(c.Events))
	case c.Next != "" && !c.Last.IsZero():
		return "mid-walk, last added " + taxii.FormatTime(c.Last)
	case !c.Last.IsZero():
		return "added after " + taxii.FormatTime(c.Last)
	case c.Next != "":
		return "mid-walk"
	}
	return "start"
}

// clone returns a copy of c that shares nothing with it.
func (c Cursor) clone() Cursor {
	c.Events = maps.Clone(c.Events)
	return c
}
