package api

import (
	"bytes"
	"crypto/ed25519"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"golang.org/x/mod/sumdb/tlog"

	"detente"
	"detente/internal/translog"
)

// Bounds of the log endpoints.
const (
	// MaxLogEntries bounds the entries of one GET /api/v1/log/entries.
	MaxLogEntries = 1000
	// MaxExportEntries bounds the entries of one GET /api/v1/log/export;
	// larger exports go through the CLI (detente log export).
	MaxExportEntries = 100_000
	// StatsWindow is how many of the newest events GET /api/v1/log/stats
	// counts. Older events are not counted.
	StatsWindow = 100_000
	// StatsDays is how many days, today (UTC) included, the per-day counts
	// of GET /api/v1/log/stats cover.
	StatsDays = 30
)

// statsChunk is how many events the stats read at a time.
const statsChunk = 5000

// CheckpointJSON is the JSON form of a signed checkpoint.
type CheckpointJSON struct {
	Size      int64     `json:"size"`
	Root      tlog.Hash `json:"root"` // base64
	Note      string    `json:"note"` // the C2SP signed note, cosignatures included
	Time      time.Time `json:"time"` // when the node signed it
	Cosigners []string  `json:"cosigners"`
}

func (s *Server) getCheckpoint(r *http.Request) (any, error) {
	ctx := r.Context()
	format := query(r).Text("format")
	// Sign a checkpoint of the current size first, so a log that grew
	// since the last one is published at once.
	if _, err := s.node.Checkpoint(ctx); err != nil {
		return nil, err
	}
	note, cp, err := s.node.LatestCheckpoint(ctx)
	if err != nil {
		return nil, err
	}
	if format != "json" {
		return rawResponse{contentType: "text/plain; charset=utf-8", body: note}, nil
	}
	parsed, err := translog.ParseCheckpoint(note, s.node.Origin(), ed25519.PublicKey(s.node.PublicKey()))
	if err != nil {
		return nil, fmt.Errorf("own checkpoint: %w", err)
	}
	return CheckpointJSON{Size: parsed.Size, Root: parsed.Root, Note: string(note), Time: cp.Time, Cosigners: cosigners(note, parsed.Origin)}, nil
}

// cosigners returns the names of the signatures of note other than the
// log's own, sorted. note has been verified, so it is well formed: its
// signature lines, "— <name> <base64>", follow the last blank line.
func cosigners(note []byte, origin string) []string {
	names := []string{}
	_, sigs, ok := bytes.Cut(note, []byte("\n\n"))
	if !ok {
		return names
	}
	for line := range strings.Lines(string(sigs)) {
		rest, ok := strings.CutPrefix(strings.TrimSuffix(line, "\n"), "— ")
		if !ok {
			continue
		}
		if name, _, ok := strings.Cut(rest, " "); ok && name != origin && !slices.Contains(names, name) {
			names = append(names, name)
		}
	}
	slices.Sort(names)
	return names
}

// LogEntries is a page of the log.
type LogEntries struct {
	Size    int64            `json:"size"` // the log's size when read
	From    int64            `json:"from"` // the Seq of the first entry asked for
	To      int64            `json:"to"`   // one past the last entry returned: the next page's from
	Entries []translog.Entry `json:"entries"`
}

func (s *Server) logEntries(r *http.Request) (any, error) {
	ctx := r.Context()
	q := query(r)
	from, to := q.Int("from", 0), q.Int("to", math.MaxInt64)
	if to < from {
		return nil, detente.Errorf(detente.EINVALID, "to: %d is before from (%d)", to, from)
	}
	if to-from > MaxLogEntries {
		to = from + MaxLogEntries
	}
	page := LogEntries{From: from, Entries: []translog.Entry{}}
	size, entries, err := s.node.LogEntries(ctx, from, to)
	if err != nil {
		return nil, fmt.Errorf("read log: %w", err)
	}
	page.Size, page.To = size, max(from, min(to, size))
	for _, e := range entries {
		page.Entries = append(page.Entries, logEntry(e.Event, e.LeafHash))
	}
	return page, nil
}

// logEntry returns e as an entry of a verification bundle (docs/log.md),
// with the leaf hash the log stored for it: body when it is compact valid
// JSON, so that compacting it gives back the hashed bytes, and body_base64
// otherwise.
func logEntry(e *detente.Event, leaf tlog.Hash) translog.Entry {
	en := translog.Entry{Seq: e.Seq, Time: e.Time.UTC(), Type: e.Type, Partner: e.Partner, LeafHash: leaf}
	var b bytes.Buffer
	switch {
	case len(e.Body) == 0:
	case utf8.Valid(e.Body) && json.Compact(&b, e.Body) == nil && bytes.Equal(b.Bytes(), e.Body):
		en.Body = e.Body
	default:
		en.BodyBase64 = e.Body
	}
	return en
}

// InclusionProofJSON proves that one entry is in the tree of a size.
type InclusionProofJSON struct {
	Seq      int64       `json:"seq"`
	Size     int64       `json:"size"`
	LeafHash tlog.Hash   `json:"leaf_hash"` // as the log stored it
	Proof    []tlog.Hash `json:"proof"`     // RFC 6962 audit path
	// Checkpoint is the signed checkpoint of Size, with the cosignatures
	// collected for it, when the node signed one of that size.
	Checkpoint string `json:"checkpoint,omitempty"`
}

func (s *Server) inclusionProof(r *http.Request) (any, error) {
	ctx := r.Context()
	seq := query(r).Int("seq", 0)
	size, err := s.treeSize(r, "size")
	if err != nil {
		return nil, err
	}
	proof, err := s.node.InclusionProof(ctx, seq, size)
	if err != nil {
		return nil, err
	}
	res := InclusionProofJSON{Seq: seq, Size: size, Proof: append([]tlog.Hash{}, proof...)}
	_, entries, err := s.node.LogEntries(ctx, seq, seq+1)
	if err == nil && (len(entries) == 0 || entries[0].Event.Seq != seq) {
		err = detente.Errorf(detente.ENOTFOUND, "log entry %d not found", seq)
	}
	if err != nil {
		return nil, fmt.Errorf("inclusion proof: leaf hash: %w", err)
	}
	res.LeafHash = entries[0].LeafHash
	note, err := s.node.CosignedCheckpoint(ctx, size)
	if err != nil {
		return nil, fmt.Errorf("inclusion proof: %w", err)
	}
	res.Checkpoint = string(note)
	return res, nil
}

// ConsistencyProofJSON proves that the tree of size Old is a prefix of the
// tree of size New.
type ConsistencyProofJSON struct {
	Old   int64       `json:"old"`
	New   int64       `json:"new"`
	Proof []tlog.Hash `json:"proof"` // RFC 6962 consistency proof
	// OldCheckpoint and NewCheckpoint are the signed checkpoints of those
	// sizes, with their cosignatures, when the node signed them.
	OldCheckpoint string `json:"old_checkpoint,omitempty"`
	NewCheckpoint string `json:"new_checkpoint,omitempty"`
}

func (s *Server) consistencyProof(r *http.Request) (any, error) {
	ctx := r.Context()
	oldSize := query(r).Int("old", 0)
	newSize, err := s.treeSize(r, "new")
	if err != nil {
		return nil, err
	}
	proof, err := s.node.ConsistencyProof(ctx, oldSize, newSize)
	if err != nil {
		return nil, err
	}
	res := ConsistencyProofJSON{Old: oldSize, New: newSize, Proof: append([]tlog.Hash{}, proof...)}
	oldNote, err := s.node.CosignedCheckpoint(ctx, oldSize)
	if err != nil {
		return nil, fmt.Errorf("consistency proof: %w", err)
	}
	newNote, err := s.node.CosignedCheckpoint(ctx, newSize)
	if err != nil {
		return nil, fmt.Errorf("consistency proof: %w", err)
	}
	res.OldCheckpoint, res.NewCheckpoint = string(oldNote), string(newNote)
	return res, nil
}

// treeSize returns the tree size in parameter name, or when it is absent
// the size of a checkpoint of the whole log, signed now if the log grew.
func (s *Server) treeSize(r *http.Request, name string) (int64, error) {
	if q := query(r); q.Has(name) {
		return q.Int(name, 0), nil
	}
	cp, err := s.node.Checkpoint(r.Context())
	if err != nil {
		return 0, err
	}
	return cp.Size, nil
}

func (s *Server) exportLog(r *http.Request) (any, error) {
	ctx := r.Context()
	from, to := query(r).Int("from", 0), query(r).Int("to", 0)
	cp, err := s.node.Checkpoint(ctx)
	if err != nil {
		return nil, err
	}
	end := cp.Size
	if to > 0 && to < cp.Size {
		end = to
	}
	if end-from > MaxExportEntries {
		return nil, detente.Errorf(detente.EINVALID, "an export holds at most %d entries; ask for a smaller range with from and to, or use 'detente log export'", MaxExportEntries)
	}
	b, err := s.node.Export(ctx, from, to)
	if err != nil {
		return nil, err
	}
	data, err := b.Marshal()
	if err != nil {
		return nil, fmt.Errorf("export log: %w", err)
	}
	name := fmt.Sprintf("%s-log-%d-%d.json", s.node.Name, b.Range.Start, b.Range.End)
	return rawResponse{contentType: "application/json", filename: name, body: data}, nil
}

// LogStats are counts of the newest log events, for charts.
type LogStats struct {
	Size      int64            `json:"size"`      // the log's size
	From      int64            `json:"from"`      // the Seq of the oldest event counted
	Counted   int64            `json:"counted"`   // how many events were counted: Size - From
	Truncated bool             `json:"truncated"` // older events exist that were not counted
	ByType    map[string]int64 `json:"by_type"`
	ByPartner map[string]int64 `json:"by_partner"` // events about no partner are left out
	Days      []DayCount       `json:"days"`       // StatsDays days, oldest first, today (UTC) last
}

// DayCount is how many counted events a UTC day holds.
type DayCount struct {
	Date  string `json:"date"` // YYYY-MM-DD
	Count int64  `json:"count"`
}

func (s *Server) logStats(r *http.Request) (any, error) {
	ctx := r.Context()
	now := s.node.Now().UTC()
	today := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC)
	first := today.AddDate(0, 0, -(StatsDays - 1))
	st := LogStats{ByType: map[string]int64{}, ByPartner: map[string]int64{}, Days: make([]DayCount, StatsDays)}
	for i := range st.Days {
		st.Days[i].Date = first.AddDate(0, 0, i).Format(time.DateOnly)
	}
	// The log is append-only: the entries below the size read first are
	// the same whenever they are read, chunk by chunk.
	size, err := s.node.LogSize(ctx)
	if err != nil {
		return nil, fmt.Errorf("log stats: %w", err)
	}
	st.Size, st.From = size, max(0, size-StatsWindow)
	st.Counted, st.Truncated = size-st.From, st.From > 0
	for seq := st.From; seq < size; seq += statsChunk {
		events, err := s.node.Events(ctx, detente.EventFilter{FromSeq: seq, Limit: int(min(statsChunk, size-seq))})
		if err != nil {
			return nil, fmt.Errorf("log stats: %w", err)
		}
		for _, e := range events {
			st.ByType[e.Type]++
			if e.Partner != "" {
				st.ByPartner[e.Partner]++
			}
			if t := e.Time.UTC(); !t.Before(first) {
				if d := int(t.Sub(first) / (24 * time.Hour)); d < StatsDays {
					st.Days[d].Count++
				}
			}
		}
	}
	return st, nil
}

// AlertJSON is an alert for an operator: one per condition (Key), raised
// Count times, first at First and last at Time.
type AlertJSON struct {
	ID       int64     `json:"id"`
	Time     time.Time `json:"time"`
	First    time.Time `json:"first"`
	Count    int       `json:"count"`
	Key      string    `json:"key,omitempty"`
	Kind     string    `json:"kind"`
	Partner  string    `json:"partner,omitempty"`
	Message  string    `json:"message"`
	Evidence []byte    `json:"evidence,omitempty"` // base64
}

func (s *Server) listAlerts(r *http.Request) (any, error) {
	limit := int(query(r).Int("limit", 100))
	as, err := s.node.Alerts(r.Context(), limit)
	out := make([]AlertJSON, 0, len(as))
	for _, a := range as {
		out = append(out, AlertJSON{ID: a.ID, Time: a.Time, First: a.First, Count: a.Count, Key: a.Key, Kind: a.Kind,
			Partner: a.Partner, Message: a.Message, Evidence: a.Evidence})
	}
	return out, err
}
