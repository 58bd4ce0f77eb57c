package feed

import (
	"context"
	"encoding/json"
	"encoding/pem"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
)

// fileSink is a Sink in a directory: one state file, replaced atomically
// (write, rename) on each Store, as a database commits a transaction.
type fileSink struct{ dir string }

type fileState struct {
	Cursor json.RawMessage `json:"cursor,omitempty"`
	IDs    []string        `json:"ids"`
}

func (f fileSink) load() (fileState, error) {
	var st fileState
	b, err := os.ReadFile(filepath.Join(f.dir, "state.json"))
	if os.IsNotExist(err) {
		return st, nil
	}
	if err != nil {
		return st, err
	}
	return st, json.Unmarshal(b, &st)
}

func (f fileSink) Cursor(ctx context.Context, feed string) (Cursor, error) {
	st, err := f.load()
	if err != nil {
		return Cursor{}, err
	}
	return ParseCursor(st.Cursor)
}

func (f fileSink) Store(ctx context.Context, feed string, page *Page, next Cursor) error {
	st, err := f.load()
	if err != nil {
		return err
	}
	for _, it := range page.Items {
		st.IDs = append(st.IDs, it.Version.ID)
	}
	if st.Cursor, err = json.Marshal(next); err != nil {
		return err
	}
	b, err := json.Marshal(st)
	if err != nil {
		return err
	}
	tmp := filepath.Join(f.dir, "state.tmp")
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, filepath.Join(f.dir, "state.json"))
}

// childEnv names the file with the configuration of a pull that the test
// binary, started again, runs in TestKill9Child.
const childEnv = "DETENTE_FEED_KILL_CHILD"

type childConfig struct {
	Feed Config `json:"feed"`
	Dir  string `json:"dir"`
}

// TestKill9Child is the pull that TestKill9 kills; it does nothing on its
// own.
func TestKill9Child(t *testing.T) {
	path := os.Getenv(childEnv)
	if path == "" {
		t.Skip("run by TestKill9")
	}
	var cc childConfig
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &cc); err != nil {
		t.Fatal(err)
	}
	if _, err := (&Puller{Feed: cc.Feed, Sink: fileSink{cc.Dir}, Logger: quiet}).Pull(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// TestKill9: a pull in another process is killed with SIGKILL while it
// waits for a page (and, pipelined, while it may be storing the previous
// one), twice, at different points; the pull that follows resumes from
// what the killed ones stored, and every object is stored exactly once.
func TestKill9(t *testing.T) {
	if os.Getenv(childEnv) != "" {
		t.Skip("in the child")
	}
	s := newTAXIIServer(t, pageByNext)
	all := indicators(0, 600)
	s.add(all...)
	dir := t.TempDir()
	caFile := filepath.Join(dir, "ca.pem")
	if err := os.WriteFile(caFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: s.Certificate().Raw}), 0o600); err != nil {
		t.Fatal(err)
	}
	f := feedFor(s)
	f.RootCAs, f.CAFile, f.PageSize = nil, caFile, 20
	pwFile := filepath.Join(dir, "pw")
	os.WriteFile(pwFile, []byte(testPassword), 0o600)
	f.Password, f.PasswordFile = "", pwFile
	sinkDir := filepath.Join(dir, "sink")
	os.Mkdir(sinkDir, 0o700)
	cfg, _ := json.Marshal(childConfig{Feed: f, Dir: sinkDir})
	cfgFile := filepath.Join(dir, "child.json")
	os.WriteFile(cfgFile, cfg, 0o600)

	stored := func() int {
		st, err := fileSink{sinkDir}.load()
		if err != nil {
			t.Fatal(err)
		}
		return len(st.IDs)
	}
	for round, killAt := range []int{5, 9} {
		cmd := exec.Command(os.Args[0], "-test.run=^TestKill9Child$", "-test.count=1")
		cmd.Env = append(os.Environ(), childEnv+"="+cfgFile)
		var once sync.Once
		exited := make(chan struct{})
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		go func() { cmd.Wait(); close(exited) }()
		// Installed after Start, under the server's lock: the handler
		// sees cmd.Process.
		s.set(func() {
			n0 := s.requests
			s.hook = func(n int, r *http.Request) (int, string) {
				if n-n0 == killAt {
					once.Do(func() {
						cmd.Process.Kill() // SIGKILL: no defer, no cleanup
						<-exited
					})
					return http.StatusServiceUnavailable, "{}"
				}
				return 0, ""
			}
		})
		<-exited
		if st := cmd.ProcessState; st.Success() || st.ExitCode() != -1 {
			t.Fatalf("round %d: the child was not killed: %v", round, st)
		}
		t.Logf("round %d: killed at request %d with %d objects stored", round, killAt, stored())
		s.set(func() { s.hook = nil })
	}
	if n := stored(); n == 0 || n >= len(all) {
		t.Fatalf("%d objects stored before the resumption: the kills did not land mid-pull", n)
	}
	if _, err := (&Puller{Feed: f, Sink: fileSink{sinkDir}}).Pull(context.Background()); err != nil {
		t.Fatal(err)
	}
	st, _ := fileSink{sinkDir}.load()
	checkExactlyOnce(t, st.IDs, all)
}
