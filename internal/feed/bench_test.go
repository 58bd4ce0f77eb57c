package feed

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"detente"
)

// countSink is an in-memory Sink that keeps only the cursor and a count,
// so a benchmark measures the pull, not a store.
type countSink struct {
	cursor Cursor
	items  atomic.Int64
}

func (c *countSink) Cursor(context.Context, string) (Cursor, error) { return c.cursor, nil }

func (c *countSink) Store(_ context.Context, _ string, p *Page, next Cursor) error {
	c.items.Add(int64(len(p.Items)))
	c.cursor = next
	return nil
}

// cpuTime is the CPU time the process has used.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkPull pulls 10,000 indicators from a local TAXII 2.1 server
// (this package's test server, over TLS with Basic authentication, pages of
// 1,000) through an in-memory Sink, from the start each time. objects/s is
// the pull rate; cores is the process's CPU time over wall time, and
// objects/cpu-s the objects per second of that CPU time, the test server's
// work included: on a busy shared machine, the figure that does not depend
// on what the neighbours do.
func BenchmarkPull(b *testing.B) {
	const n = 10_000
	s := newTAXIIServer(b, pageByNext)
	s.add(indicators(0, n)...)
	_, key, _ := ed25519.GenerateKey(rand.Reader)
	for _, bc := range []struct {
		name string
		edit func(*Config)
	}{
		{"unsigned", func(c *Config) {}},
		{"graded", func(c *Config) { c.Grading = detente.Grading{Reliability: 'B', Credibility: 2} }},
		{"originate", func(c *Config) { c.Originate = true }},
	} {
		b.Run(bc.name, func(b *testing.B) {
			f := feedFor(s)
			f.PageSize = 1000
			bc.edit(&f)
			hc, err := f.HTTPClient()
			if err != nil {
				b.Fatal(err)
			}
			cpu0 := cpuTime()
			pulls := 0
			for b.Loop() {
				sink := &countSink{}
				if _, err := (&Puller{Feed: f, Sink: sink, Key: key, HTTP: hc}).Pull(context.Background()); err != nil {
					b.Fatal(err)
				}
				if sink.items.Load() != n {
					b.Fatalf("%d objects pulled", sink.items.Load())
				}
				pulls++
			}
			cpu := cpuTime() - cpu0
			b.ReportMetric(float64(n*pulls)/b.Elapsed().Seconds(), "objects/s")
			b.ReportMetric(float64(cpu)/float64(b.Elapsed()), "cores")
			b.ReportMetric(float64(n*pulls)/cpu.Seconds(), "objects/cpu-s")
		})
	}
}

// BenchmarkConvertMISPEvent converts the largest fixture event.
func BenchmarkConvertMISPEvent(b *testing.B) {
	data := readEvent(b, eventA)
	objs := 0
	for b.Loop() {
		o, _, err := ConvertMISPEvent(data, detente.Grading{})
		if err != nil {
			b.Fatal(err)
		}
		objs += len(o)
	}
	b.ReportMetric(float64(objs)/b.Elapsed().Seconds(), "objects/s")
}
