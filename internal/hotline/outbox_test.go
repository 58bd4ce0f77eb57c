package hotline

import (
	"testing"
	"time"
)

// The outbox over a store is tested in hotlinetest, against every Store.

func TestBackoff(t *testing.T) {
	o := NewOutbox(nil, nil, nil, OutboxOptions{MinBackoff: time.Second, MaxBackoff: 10 * time.Second})
	for n, want := range map[int]time.Duration{1: time.Second, 2: 2 * time.Second, 3: 4 * time.Second, 4: 8 * time.Second, 5: 10 * time.Second, 100: 10 * time.Second} {
		if got := o.backoff(n); got != want {
			t.Errorf("backoff(%d) = %v, want %v", n, got, want)
		}
	}
}
