// Package pgtest gives tests a fresh, empty PostgreSQL database.
//
// When DETENTE_TEST_POSTGRES is set to a server URL (e.g.
// postgres://detente@db.example:5432/postgres), every database is created
// on that server and dropped when its test ends; the URL's user must be
// allowed to create databases. Otherwise pgtest starts one throwaway
// cluster for the test process from the PostgreSQL server binaries
// installed on the machine (Debian's: /usr/lib/postgresql/*/bin), in a
// temporary directory, reachable only through a Unix socket there, and as
// the postgres user when the tests run as root. Packages that use it call
// Main from TestMain, so that the cluster is started once and removed when
// their tests end:
//
//	func TestMain(m *testing.M) { pgtest.Main(m) }
//
// Without PostgreSQL installed the tests that ask for a database skip with
// a message saying how to install it, except when CI=true, where that is a
// failure: CI always runs them.
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// EnvURL names the variable that points the tests at an existing server.
const EnvURL = "DETENTE_TEST_POSTGRES"

// errNotInstalled is returned by start when no server binaries are found.
var errNotInstalled = errors.New("PostgreSQL server binaries not found (looked in /usr/lib/postgresql/*/bin and $PATH): install Debian's postgresql package (apt-get install postgresql) or set " + EnvURL + " to a server URL")

var (
	mu        sync.Mutex
	cluster   *server // the throwaway cluster, nil when not running
	users     int     // tests using cluster, when not under Main
	underMain bool    // Main keeps cluster until the tests end
)

// URL returns the URL of a new, empty database that is dropped when t and
// its subtests end (after cleanups registered later, such as closing the
// stores that use it).
func URL(t testing.TB) string {
	t.Helper()
	ctx := context.Background()
	serverURL := os.Getenv(EnvURL)
	if serverURL == "" {
		s, err := acquire(t)
		if errors.Is(err, errNotInstalled) {
			if os.Getenv("CI") == "true" {
				t.Fatalf("pgtest: %v (CI=true: PostgreSQL tests must run in CI)", err)
			}
			t.Skipf("pgtest: skipping: %v", err)
		}
		if err != nil {
			t.Fatalf("pgtest: start a throwaway PostgreSQL cluster: %v", err)
		}
		serverURL = s.url
	}
	name := "detente_test_" + randomHex(8)
	admin, err := pgx.Connect(ctx, serverURL)
	if err != nil {
		t.Fatalf("pgtest: connect to the PostgreSQL server: %v", err)
	}
	defer admin.Close(ctx)
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		t.Fatalf("pgtest: create database: %v", err)
	}
	t.Cleanup(func() {
		c, err := pgx.Connect(ctx, serverURL)
		if err != nil {
			t.Errorf("pgtest: drop database %s: %v", name, err)
			return
		}
		defer c.Close(ctx)
		if _, err := c.Exec(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
			t.Errorf("pgtest: drop database %s: %v", name, err)
		}
	})
	u, err := withDatabase(serverURL, name)
	if err != nil {
		t.Fatalf("pgtest: %s: %v", EnvURL, err)
	}
	return u
}

// withDatabase returns serverURL naming database name instead.
func withDatabase(serverURL, name string) (string, error) {
	if !strings.HasPrefix(serverURL, "postgres://") && !strings.HasPrefix(serverURL, "postgresql://") {
		return serverURL + " dbname=" + name, nil // key=value form: the last setting wins
	}
	u, err := url.Parse(serverURL)
	if err != nil {
		return "", errors.New("not a valid URL") // the error would quote the password
	}
	u.Path, u.RawPath = "/"+name, ""
	q := u.Query()
	if q.Has("dbname") {
		q.Set("dbname", name)
		u.RawQuery = q.Encode()
	}
	return u.String(), nil
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// Main runs the tests of m and then stops the throwaway cluster, if one was
// started, and removes its directory. Call it from TestMain.
func Main(m *testing.M) {
	mu.Lock()
	underMain = true
	mu.Unlock()
	code := m.Run()
	mu.Lock()
	if cluster != nil {
		if err := cluster.stop(); err != nil {
			fmt.Fprintf(os.Stderr, "pgtest: stop the throwaway cluster: %v\n", err)
		}
		cluster = nil
	}
	mu.Unlock()
	os.Exit(code)
}

// acquire returns the running cluster, starting it if needed. Without Main
// it is stopped when the last test using it ends.
func acquire(t testing.TB) (*server, error) {
	mu.Lock()
	defer mu.Unlock()
	if cluster == nil {
		s, err := start()
		if err != nil {
			return nil, err
		}
		cluster = s
	}
	if !underMain {
		users++
		t.Cleanup(func() {
			mu.Lock()
			defer mu.Unlock()
			if users--; users == 0 && cluster != nil {
				if err := cluster.stop(); err != nil {
					t.Errorf("pgtest: stop the throwaway cluster: %v", err)
				}
				cluster = nil
			}
		})
	}
	return cluster, nil
}

// server is a running throwaway cluster.
type server struct {
	url  string // of its maintenance database, "postgres", over the socket
	dir  string // holds data/, the socket and postgres.log
	cmd  *exec.Cmd
	done chan struct{} // closed when the postgres process has exited
}

// binDir returns the directory of the newest installed server binaries.
func binDir() (string, error) {
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	slices.SortFunc(dirs, func(a, b string) int { return version(b) - version(a) })
	for _, d := range dirs {
		if isExec(filepath.Join(d, "postgres")) && isExec(filepath.Join(d, "initdb")) {
			return d, nil
		}
	}
	if p, err := exec.LookPath("postgres"); err == nil && isExec(filepath.Join(filepath.Dir(p), "initdb")) {
		return filepath.Dir(p), nil
	}
	return "", errNotInstalled
}

// version returns the major version in /usr/lib/postgresql/<v>/bin.
func version(dir string) int {
	v, _ := strconv.Atoi(filepath.Base(filepath.Dir(dir)))
	return v
}

func isExec(path string) bool {
	st, err := os.Stat(path)
	return err == nil && st.Mode().IsRegular() && st.Mode()&0o111 != 0
}

// start initialises and starts a cluster in a new temporary directory.
func start() (_ *server, err error) {
	bin, err := binDir()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "detente-pgtest-")
	if err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			os.RemoveAll(dir)
		}
	}()
	// initdb and postgres refuse to run as root: run them as postgres.
	attr := &syscall.SysProcAttr{Pdeathsig: syscall.SIGINT} // a fast shutdown if the tests die
	if os.Geteuid() == 0 {
		u, err := user.Lookup("postgres")
		if err != nil {
			return nil, fmt.Errorf("running as root and there is no postgres user to run the server as: %w", err)
		}
		uid, _ := strconv.ParseUint(u.Uid, 10, 32)
		gid, _ := strconv.ParseUint(u.Gid, 10, 32)
		if err := os.Chown(dir, int(uid), int(gid)); err != nil {
			return nil, err
		}
		attr.Credential = &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}
	}
	logPath := filepath.Join(dir, "postgres.log")
	logFile, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	defer logFile.Close()
	if attr.Credential != nil {
		if err := logFile.Chown(int(attr.Credential.Uid), int(attr.Credential.Gid)); err != nil {
			return nil, err
		}
	}
	data := filepath.Join(dir, "data")
	initdb := exec.Command(filepath.Join(bin, "initdb"), "-D", data, "-U", "postgres", "-A", "trust",
		"-E", "UTF8", "--locale=C", "--no-sync")
	initdb.Dir, initdb.Stdout, initdb.Stderr = dir, logFile, logFile
	initdb.SysProcAttr = &syscall.SysProcAttr{Credential: attr.Credential}
	if err := initdb.Run(); err != nil {
		return nil, fmt.Errorf("initdb: %w (see %s)", err, logTail(logPath))
	}
	// Durable settings (fsync stays on): benchmarks measure real commits.
	cmd := exec.Command(filepath.Join(bin, "postgres"), "-D", data, "-k", dir,
		"-c", "listen_addresses=", "-c", "max_connections=200", "-c", "shared_buffers=128MB")
	cmd.Dir, cmd.Stdout, cmd.Stderr, cmd.SysProcAttr = dir, logFile, logFile, attr
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start postgres: %w", err)
	}
	s := &server{
		url:  "postgres://postgres@/postgres?host=" + url.QueryEscape(dir) + "&sslmode=disable",
		dir:  dir,
		cmd:  cmd,
		done: make(chan struct{}),
	}
	go func() { cmd.Wait(); close(s.done) }()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	for {
		c, cerr := pgx.Connect(ctx, s.url)
		if cerr == nil {
			c.Close(ctx)
			return s, nil
		}
		select {
		case <-s.done:
			return nil, fmt.Errorf("postgres exited while starting: %s", logTail(logPath))
		case <-ctx.Done():
			s.stop()
			return nil, fmt.Errorf("postgres did not accept connections within a minute: %v; %s", cerr, logTail(logPath))
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// stop shuts the cluster down (fast shutdown: clients are disconnected)
// and removes its directory.
func (s *server) stop() error {
	s.cmd.Process.Signal(syscall.SIGINT)
	select {
	case <-s.done:
	case <-time.After(30 * time.Second):
		s.cmd.Process.Kill()
		<-s.done
	}
	return os.RemoveAll(s.dir)
}

// logTail returns the end of the server's log, for error messages.
func logTail(path string) string {
	b, _ := os.ReadFile(path)
	const n = 2000
	if len(b) > n {
		b = b[len(b)-n:]
	}
	return "postgres.log: " + strings.TrimSpace(string(b))
}
