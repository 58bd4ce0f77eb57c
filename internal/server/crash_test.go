package server_test

import (
	"bufio"
	"context"
	"crypto/ed25519"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"

	"detente"
	"detente/internal/federation"
	"detente/internal/node"
	"detente/internal/nodetest"
	"detente/internal/pgtest"
	"detente/internal/translog"
)

// The crash tests run a child copy of this test binary that does the work
// and is killed with SIGKILL part-way; the parent then reopens the data
// directory and checks that nothing was lost or doubled.
func TestMain(m *testing.M) {
	switch os.Getenv("DETENTE_CRASH_CHILD") {
	case "sync":
		crashChildSync()
	case "append":
		crashChildAppend()
	default:
		pgtest.Main(m) // one throwaway PostgreSQL cluster for the package's tests, if they use one
	}
}

// crashChildSync pulls from alpha, printing a line after each stored page,
// until killed.
func crashChildSync() {
	ctx := context.Background()
	n, err := nodetest.Open(ctx, os.Getenv("DETENTE_CRASH_DIR"), nil)
	if err != nil {
		fmt.Println("error", err)
		os.Exit(1)
	}
	n.Federation.Sync(ctx, "alpha", func(r federation.SyncResult) { fmt.Println("page", r.Pages) })
	fmt.Println("done")
	select {} // wait to be killed
}

// crashChildAppend ingests small bundles and signs a checkpoint after each,
// printing progress, until killed.
func crashChildAppend() {
	ctx := context.Background()
	n, err := nodetest.Open(ctx, os.Getenv("DETENTE_CRASH_DIR"), nil)
	if err != nil {
		fmt.Println("error", err)
		os.Exit(1)
	}
	for i := 0; ; i++ {
		var objs []string
		for j := range 20 {
			objs = append(objs, fmt.Sprintf(`{"type":"indicator","spec_version":"2.1","id":"indicator--%08d-0000-4000-8000-%012d","created":"2026-01-10T10:00:00.000Z","modified":"2026-01-10T10:00:00.000Z","pattern":"[ipv4-addr:value = '198.51.100.1']","pattern_type":"stix","valid_from":"2026-01-10T10:00:00Z"}`, i, j))
		}
		if _, err := n.Ingest(ctx, []byte(`{"type":"bundle","id":"bundle--5d0092c5-5f74-4287-9642-33f4c354e56d","objects":[`+strings.Join(objs, ",")+`]}`), node.IngestOptions{}); err != nil {
			fmt.Println("error", err)
			os.Exit(1)
		}
		if i%2 == 0 {
			if _, err := n.Checkpoint(ctx); err != nil {
				fmt.Println("error", err)
				os.Exit(1)
			}
		}
		fmt.Println("round", i)
	}
}

// runUntil starts a child doing work and kills it with SIGKILL once it has
// printed a line starting with until.
func runUntil(t *testing.T, work, dir, until string) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "DETENTE_CRASH_CHILD="+work, "DETENTE_CRASH_DIR="+dir)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "error") {
			t.Fatalf("child: %s", line)
		}
		if strings.HasPrefix(line, until) {
			break
		}
	}
	cmd.Process.Signal(syscall.SIGKILL)
	cmd.Wait()
}

// TestKilledMidSync: a node killed with SIGKILL in the middle of a pull
// resumes where it was: every object stored exactly once, the log intact.
func TestKilledMidSync(t *testing.T) {
	alpha, bravo := startPeer(t, "alpha"), startPeer(t, "bravo")
	link(t, alpha, bravo, "amber", intel...)
	var objs []map[string]any
	for i := range 3000 {
		objs = append(objs, indicator(fmt.Sprintf("indicator--00000000-0000-4000-8000-%012d", i), detente.MarkingGreen, "x"))
	}
	ingest(t, alpha, objs...)
	dir := bravo.dir
	bravo.stop() // the child owns bravo's directory now

	runUntil(t, "sync", dir, "page 2")

	bravo = openPeer(t, dir, "127.0.0.1:0")
	ctx := context.Background()
	var before int64
	bravo.Store.View(ctx, func(tx detente.Tx) (err error) { before, err = tx.CountObjects(ctx); return })
	if before == 0 || before >= 3000 {
		t.Fatalf("the child was not killed mid-sync: %d objects stored", before)
	}
	r := sync(t, bravo, "alpha")
	var after int64
	bravo.Store.View(ctx, func(tx detente.Tx) (err error) { after, err = tx.CountObjects(ctx); return })
	if after != 3000 || int64(r.Added) != 3000-before {
		t.Fatalf("after resuming: %d objects (%d added, %d before the kill), want 3000", after, r.Added, before)
	}
	verifyLog(t, bravo)
}

// TestKilledMidAppend: a node killed between state changes and their
// checkpoints loses no entry and never issues two different checkpoints for
// one size; every checkpoint it signed is consistent with the log.
func TestKilledMidAppend(t *testing.T) {
	p := startPeer(t, "alpha")
	dir := p.dir
	p.stop()
	runUntil(t, "append", dir, "round 7")
	p = openPeer(t, dir, "127.0.0.1:0")
	ctx := context.Background()
	var objects, events int64
	p.Store.View(ctx, func(tx detente.Tx) (err error) {
		if objects, err = tx.CountObjects(ctx); err != nil {
			return err
		}
		events, err = tx.CountEvents(ctx)
		return err
	})
	// Every committed ingest has its 20 objects and 20 log entries (plus
	// node.init): nothing half-written.
	if objects%20 != 0 || events != objects+1 {
		t.Fatalf("%d objects and %d log entries after the kill", objects, events)
	}
	verifyLog(t, p)
}

// verifyLog exports p's whole log and verifies it against every checkpoint
// p ever signed.
func verifyLog(t *testing.T, p *peer) {
	t.Helper()
	ctx := context.Background()
	var cps []*detente.Checkpoint
	p.Store.View(ctx, func(tx detente.Tx) (err error) { cps, err = tx.Checkpoints(ctx); return })
	b, err := p.Export(ctx, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	var known []translog.KnownCheckpoint
	sizes := map[int64]bool{}
	for _, c := range cps {
		if sizes[c.Size] {
			t.Fatalf("two checkpoints for size %d", c.Size)
		}
		sizes[c.Size] = true
		known = append(known, translog.KnownCheckpoint{Note: c.Note})
	}
	rep, err := translog.VerifyBundle(b, ed25519.PublicKey(p.PublicKey()), known...)
	if err != nil || !rep.OK() {
		js, _ := json.Marshal(rep)
		t.Fatalf("log does not verify after the crash: %v %s", err, js)
	}
}
