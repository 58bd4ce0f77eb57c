// Package storetest is the conformance suite for detente.Store. Every
// backend runs it unchanged, so SQLite and PostgreSQL keep the same
// behaviour:
//
//	func TestConformance(t *testing.T) {
//		storetest.Run(t, func(t *testing.T) detente.Store { return openTemp(t) })
//	}
//
// open must return a new, empty store each time it is called and arrange
// for it to be closed when the test ends.
package storetest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"detente"
)

// Run runs every conformance test against stores made by open.
func Run(t *testing.T, open func(t *testing.T) detente.Store) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s detente.Store)
	}{
		{"ObjectVersions", testObjectVersions},
		{"ObjectConflict", testObjectConflict},
		{"PutObjects", testPutObjects},
		{"ObjectFilter", testObjectFilter},
		{"Quarantine", testQuarantine},
		{"Atomicity", testAtomicity},
		{"ReadOnlyView", testReadOnlyView},
		{"Partners", testPartners},
		{"Agreements", testAgreements},
		{"Consents", testConsents},
		{"Releases", testReleases},
		{"Tokens", testTokens},
		{"Events", testEvents},
		{"ConcurrentAppends", testConcurrentAppends},
		{"Meta", testMeta},
		{"LogTree", testLogTree},
		{"Checkpoints", testCheckpoints},
		{"Alerts", testAlerts},
		{"Referrers", testReferrers},
		{"DateAdded", testDateAdded},
		{"SyncState", testSyncState},
		{"Designations", testDesignations},
		{"Docs", testDocs},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { tt.fn(t, open(t)) })
	}
	t.Run("Ownership", func(t *testing.T) { testOwnership(t, open) })
}

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 123000000, time.UTC)

func obj(id string, modified time.Time, body string) *detente.ObjectVersion {
	typ, _, _ := cut(id)
	return &detente.ObjectVersion{
		ID: id, Type: typ, SpecVersion: "2.1", Modified: modified, Created: t0,
		Originator: detente.OriginSelf, Markings: []string{detente.MarkingGreen},
		Granular: []detente.GranularMarking{{Marking: detente.MarkingRed, Selectors: []string{"description"}}},
		Refs:     []detente.Ref{{Path: "created_by_ref", ID: "identity--00000000-0000-4000-8000-000000000001"}},
		Grading:  detente.Grading{Reliability: 'B', Credibility: 2},
		Received: t0.Add(time.Minute), Signature: []byte("sig"), Signer: make(detente.PublicKey, 32),
		Raw: []byte(fmt.Sprintf(`{"id":%q,"x":%q}`, id, body)),
	}
}

func cut(id string) (string, string, bool) {
	for i := 0; i+1 < len(id); i++ {
		if id[i] == '-' && id[i+1] == '-' {
			return id[:i], id[i+2:], true
		}
	}
	return id, "", false
}

func update(t *testing.T, s detente.Store, fn func(ctx context.Context, tx detente.Tx) error) {
	t.Helper()
	ctx := context.Background()
	if err := s.Update(ctx, func(tx detente.Tx) error { return fn(ctx, tx) }); err != nil {
		t.Fatalf("update: %v", err)
	}
}

func view(t *testing.T, s detente.Store, fn func(ctx context.Context, tx detente.Tx) error) {
	t.Helper()
	ctx := context.Background()
	if err := s.View(ctx, func(tx detente.Tx) error { return fn(ctx, tx) }); err != nil {
		t.Fatalf("view: %v", err)
	}
}

func wantCode(t *testing.T, err error, code string) {
	t.Helper()
	if got := detente.ErrorCode(err); got != code {
		t.Fatalf("error = %v (code %q), want code %q", err, got, code)
	}
}

const ind = "indicator--11111111-1111-4111-8111-111111111111"
