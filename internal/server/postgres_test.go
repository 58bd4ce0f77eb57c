package server_test

import (
	"context"
	"crypto/ed25519"
	"fmt"
	"path/filepath"
	gosync "sync"
	"testing"

	"detente"
	"detente/internal/nodetest"
	"detente/internal/pgtest"
	"detente/internal/translog"
)

// TestTwoProcessesOnePostgres: one node served by two processes (two
// stores, two servers) on one PostgreSQL database, both ingesting and
// serving at once. The log stays one log: no seq lost or doubled, one
// checkpoint per size, verifiable; a partner pulls everything from either.
func TestTwoProcessesOnePostgres(t *testing.T) {
	url := pgtest.URL(t)
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "alpha")
	if _, err := nodetest.InitWith(ctx, dir, "alpha", url); err != nil {
		t.Fatal(err)
	}
	if _, err := nodetest.InitWith(ctx, filepath.Join(t.TempDir(), "again"), "again", url); detente.ErrorCode(err) != detente.EEXISTS {
		t.Fatalf("init on a database that holds a node: %v", err)
	}
	a1, a2 := openPeer(t, dir, "127.0.0.1:0"), openPeer(t, dir, "127.0.0.1:0")
	bravo := startPeer(t, "bravo")
	link(t, a1, bravo, "amber", intel...)

	var wg gosync.WaitGroup
	for w, p := range []*peer{a1, a2} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for round := range 5 {
				var objs []map[string]any
				for i := range 40 {
					objs = append(objs, indicator(fmt.Sprintf("indicator--%08d-0000-4000-8000-%012d", w, round*100+i), detente.MarkingGreen, "x"))
				}
				ingest(t, p, objs...)
				if _, err := p.Checkpoint(ctx); err != nil {
					t.Error(err)
				}
			}
		}()
	}
	wg.Wait()
	sync(t, bravo, "alpha")
	var n int64
	bravo.Store.View(ctx, func(tx detente.Tx) (err error) { n, err = tx.CountObjects(ctx); return })
	if n != 400 {
		t.Errorf("bravo pulled %d objects, want 400", n)
	}
	// The log is one log, verifiable against every checkpoint either process signed.
	var cps []*detente.Checkpoint
	a2.Store.View(ctx, func(tx detente.Tx) (err error) { cps, err = tx.Checkpoints(ctx); return })
	b, err := a2.Export(ctx, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	var known []translog.KnownCheckpoint
	for _, c := range cps {
		known = append(known, translog.KnownCheckpoint{Note: c.Note})
	}
	rep, err := translog.VerifyBundle(b, ed25519.PublicKey(a1.PublicKey()), known...)
	if err != nil || !rep.OK() || rep.Entries < 400 {
		t.Fatalf("log over two processes: %v %+v", err, rep)
	}
	// Tokens made on one process work on the other.
	_, secret, err := a1.CreateToken(ctx, detente.RoleAnalyst, "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a2.Authenticate(ctx, secret); err != nil {
		t.Errorf("token from process 1 refused by process 2: %v", err)
	}
}
