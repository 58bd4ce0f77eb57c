package postgres_test

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"detente"
	"detente/internal/pgtest"
	"detente/internal/postgres"

	"github.com/jackc/pgx/v5"
)

// appenderEnv passes the database URL, start and stop times (Unix ns) and
// number of goroutines to TestHelperBenchAppender.
const appenderEnv = "DETENTE_PGBENCH_APPENDER"

// BenchmarkAppendProcesses appends one event per transaction from separate
// OS processes, each a copy of this test binary with its own store, as
// several `detente serve` processes would, for a fixed window: every
// process starts together and counts the appends committed inside the
// window. It reports events/s over all processes. "processes=2/each=8"
// adds a second process with its own load to "processes=1/each=8";
// "processes=2/each=4" splits the same load over two.
//
// "flush=disk" is this machine's disk; "flush=2ms" makes every flush wait
// 2 ms more (commit_delay, with commit_siblings 0), as on network storage,
// where the flush rather than the CPU bounds appends. "release=late" turns
// early lock release off, so the write head is held through each flush.
//
//	go test -run '^$' -bench BenchmarkAppendProcesses -benchtime 3x ./internal/postgres/
func BenchmarkAppendProcesses(b *testing.B) {
	type config struct {
		flush, release string
		procs, each    int
	}
	var configs []config
	for _, flush := range []string{"disk", "2ms"} {
		for _, release := range []string{"early", "late"} {
			for _, pe := range [][2]int{{1, 8}, {2, 8}, {2, 4}} {
				configs = append(configs, config{flush, release, pe[0], pe[1]})
			}
		}
	}
	for _, c := range configs {
		b.Run(fmt.Sprintf("flush=%s/release=%s/processes=%d/each=%d", c.flush, c.release, c.procs, c.each), func(b *testing.B) {
			url := pgtest.URL(b)
			openURL(b, url) // migrated once, before the processes start
			if c.flush == "2ms" {
				// Needs a superuser, as pgtest's own cluster has.
				if err := slowFlush(url); err != nil {
					b.Skipf("cannot slow the flush: %v", err)
				}
			}
			const window = 3 * time.Second
			var total int64
			for b.Loop() {
				start := time.Now().Add(1500 * time.Millisecond) // time to start and connect
				stop := start.Add(window)
				counts := make([]int64, c.procs)
				errs := make([]error, c.procs)
				var wg sync.WaitGroup
				for p := range c.procs {
					wg.Go(func() { counts[p], errs[p] = runAppender(url, start, stop, c.each, c.release == "early") })
				}
				wg.Wait()
				for p := range c.procs {
					if errs[p] != nil {
						b.Fatalf("process %d: %v", p, errs[p])
					}
					total += counts[p]
				}
			}
			b.ReportMetric(float64(total)/(window.Seconds()*float64(b.N)), "events/s")
		})
	}
}

// runAppender runs TestHelperBenchAppender in a new process and returns the
// appends it committed in the window.
func runAppender(url string, start, stop time.Time, goroutines int, early bool) (int64, error) {
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperBenchAppender$", "-test.count=1", "-test.bench=^$")
	cmd.Env = append(os.Environ(), fmt.Sprintf("%s=%s|%d|%d|%d|%t", appenderEnv, url, start.UnixNano(), stop.UnixNano(), goroutines, early))
	out, err := cmd.CombinedOutput()
	if err != nil {
		return 0, fmt.Errorf("%v: %s", err, out)
	}
	lines := bufio.NewScanner(strings.NewReader(string(out)))
	for lines.Scan() {
		if n, ok := strings.CutPrefix(lines.Text(), "appended "); ok {
			return strconv.ParseInt(n, 10, 64)
		}
	}
	return 0, fmt.Errorf("no count in the output: %s", out)
}

// TestHelperBenchAppender is not a test: BenchmarkAppendProcesses runs the
// test binary as separate processes that append here.
func TestHelperBenchAppender(t *testing.T) {
	env := os.Getenv(appenderEnv)
	if env == "" {
		t.Skip("runs as a child process of BenchmarkAppendProcesses")
	}
	f := strings.Split(env, "|")
	startNs, _ := strconv.ParseInt(f[1], 10, 64)
	stopNs, _ := strconv.ParseInt(f[2], 10, 64)
	goroutines, _ := strconv.Atoi(f[3])
	early := f[4] == "true"
	start, stop := time.Unix(0, startNs), time.Unix(0, stopNs)
	ctx := context.Background()
	s, err := postgres.Open(ctx, f[0])
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	s.SetEarlyRelease(early)
	<-time.After(time.Until(start))
	var n atomic.Int64
	var wg sync.WaitGroup
	for w := range goroutines {
		wg.Go(func() {
			for i := 0; time.Now().Before(stop); i++ {
				e := event(os.Getpid()%1000*100+w, i)
				if err := s.Update(ctx, func(tx detente.Tx) error { return tx.AppendEvent(ctx, e) }); err != nil {
					t.Error(err)
					return
				}
				if time.Now().Before(stop) {
					n.Add(1)
				}
			}
		})
	}
	wg.Wait()
	fmt.Printf("appended %d\n", n.Load())
}

// slowFlush makes every commit of the database at url wait 2 ms before its
// flush (commit_delay with commit_siblings 0), for connections opened from
// now on.
func slowFlush(url string) error {
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	for _, q := range []string{
		`DO $$ BEGIN EXECUTE format('ALTER DATABASE %I SET commit_delay = 2000', current_database()); END $$`,
		`DO $$ BEGIN EXECUTE format('ALTER DATABASE %I SET commit_siblings = 0', current_database()); END $$`,
	} {
		if _, err := conn.Exec(ctx, q); err != nil {
			return err
		}
	}
	return nil
}
