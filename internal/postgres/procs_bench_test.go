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
//	go test -run '^$' -bench BenchmarkAppendProcesses -benchtime 3x ./internal/postgres/
func BenchmarkAppendProcesses(b *testing.B) {
	for _, c := range []struct{ procs, each int }{{1, 8}, {2, 8}, {2, 4}} {
		b.Run(fmt.Sprintf("processes=%d/each=%d", c.procs, c.each), func(b *testing.B) {
			url := pgtest.URL(b)
			openURL(b, url) // migrated once, before the processes start
			const window = 3 * time.Second
			var total int64
			for b.Loop() {
				start := time.Now().Add(1500 * time.Millisecond) // time to start and connect
				stop := start.Add(window)
				counts := make([]int64, c.procs)
				errs := make([]error, c.procs)
				var wg sync.WaitGroup
				for p := range c.procs {
					wg.Go(func() { counts[p], errs[p] = runAppender(url, start, stop, c.each) })
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
func runAppender(url string, start, stop time.Time, goroutines int) (int64, error) {
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperBenchAppender$", "-test.count=1", "-test.bench=^$")
	cmd.Env = append(os.Environ(), fmt.Sprintf("%s=%s|%d|%d|%d", appenderEnv, url, start.UnixNano(), stop.UnixNano(), goroutines))
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
	start, stop := time.Unix(0, startNs), time.Unix(0, stopNs)
	ctx := context.Background()
	s, err := postgres.Open(ctx, f[0])
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
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
