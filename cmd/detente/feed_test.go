package main

import (
	"context"
	"encoding/json"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"detente"
	"detente/internal/feed/feedtest"
	"detente/internal/nodetest"
)

// TestFeedPullKilled pulls a plain TAXII 2.1 server (not detente: Basic
// authentication over TLS, pages by next) with the real binary, kills it
// with SIGKILL mid-pull twice, and pulls again to the end: every object is
// stored exactly once, with exactly one log entry naming the feed.
func TestFeedPullKilled(t *testing.T) {
	bin := binary(t)
	const total, pageSize = 1200, 100
	srv := feedtest.NewServer(t, pageSize)
	srv.Add(feedtest.Indicators(0, total)...)
	dir := t.TempDir()
	data := filepath.Join(dir, "alpha")
	ca, pw := srv.Files(t, dir)
	run := func(args ...string) {
		t.Helper()
		if out, err := exec.Command(bin, append(args, "--dir", data)...).CombinedOutput(); err != nil {
			t.Fatalf("%v: %v\n%s", args, err, out)
		}
	}
	run("init", "--name", "alpha")
	run("feed", "add", "--name", "cti", "--url", srv.CollectionURL(), "--user", feedtest.User, "--password-file", pw, "--ca-file", ca)

	// Each killed pull is stopped while the server holds back one page
	// request: the pages before it are stored, or being stored.
	var mu sync.Mutex
	blockAt, blocked, release := 0, make(chan struct{}), make(chan struct{})
	srv.Gate(func(page int) {
		mu.Lock()
		at, b, r := blockAt, blocked, release
		mu.Unlock()
		if page == at {
			close(b)
			<-r
		}
	})
	for i, at := range []int{4, 9} {
		mu.Lock()
		blockAt, blocked, release = at, make(chan struct{}), make(chan struct{})
		b, r := blocked, release
		mu.Unlock()
		var stderr syncBuffer
		cmd := exec.Command(bin, "feed", "pull", "--dir", data)
		cmd.Stderr = &stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		select {
		case <-b:
		case <-time.After(time.Minute):
			t.Fatalf("pull %d never reached page %d: %s", i, at, stderr.String())
		}
		// And one page at least is stored (the pull fetches ahead).
		for deadline := time.Now().Add(time.Minute); !strings.Contains(stderr.String(), "pages"); {
			if time.Now().After(deadline) {
				t.Fatalf("pull %d stored nothing", i)
			}
			time.Sleep(time.Millisecond)
		}
		cmd.Process.Signal(syscall.SIGKILL)
		err := cmd.Wait()
		close(r)
		if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() {
			t.Fatalf("pull %d was not killed: %v", i, err)
		}
		t.Logf("pull %d killed: %q", i, lastLine(strings.ReplaceAll(stderr.String(), "\r", "\n")))
	}
	mu.Lock()
	blockAt = -1
	mu.Unlock()
	out, err := exec.Command(bin, "feed", "pull", "--dir", data, "--json").Output()
	if err != nil {
		t.Fatalf("last pull: %v\n%s", err, out)
	}

	ctx := context.Background()
	n, err := nodetest.Open(ctx, data, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer n.Close()
	if c, err := n.CountObjects(ctx); err != nil || c != total {
		t.Errorf("%d objects stored, want %d (%v)", c, total, err)
	}
	es, err := n.Events(ctx, detente.EventFilter{Type: detente.EventObjectIngested})
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]int{}
	for _, e := range es {
		var b map[string]string
		if json.Unmarshal(e.Body, &b) == nil && b["source"] == "feed:cti" {
			seen[b["id"]]++
		}
	}
	if len(seen) != total {
		t.Errorf("%d objects logged, want %d", len(seen), total)
	}
	for id, c := range seen {
		if c != 1 {
			t.Errorf("%s logged %d times", id, c)
		}
	}
	st, err := n.Feeds.Status(ctx)
	if err != nil || len(st) != 1 || st[0].State.Objects != total || st[0].State.Errors != 0 {
		t.Errorf("status: %+v, %v", st, err)
	}
}
