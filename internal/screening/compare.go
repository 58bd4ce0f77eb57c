package screening

import (
	"context"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"detente"
	"detente/internal/screen"
)

// CompareJob is a comparison of lists running in the background, so that
// a page can show its progress instead of hanging (issue 16: 17 s with no
// feedback in the console).
type CompareJob struct {
	done, total atomic.Int64
	finished    chan struct{}
	report      *screen.Report
	err         error
	version     string
}

// Progress returns how many designations are resolved, of how many (0 of
// 0 while the lists are read).
func (j *CompareJob) Progress() (done, total int) {
	return int(j.done.Load()), int(j.total.Load())
}

// Wait waits at most d for the comparison to finish, and returns its
// report, its error and whether it finished.
func (j *CompareJob) Wait(ctx context.Context, d time.Duration) (*screen.Report, error, bool) {
	select {
	case <-j.finished:
		return j.report, j.err, true
	default:
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-j.finished:
		return j.report, j.err, true
	case <-t.C:
	case <-ctx.Done():
	}
	return nil, nil, false
}

// maxCompareJobs bounds the comparisons kept (running or finished).
const maxCompareJobs = 8

// StartCompare starts comparing the active designations of the given
// authorities (all when none is given) in the background, or returns the
// comparison of the same authorities already started on the current
// issue of the lists. The comparison outlives the request that started
// it, so a page that reloads finds it again.
func (s *Service) StartCompare(ctx context.Context, authorities []string) (*CompareJob, error) {
	var version string
	if err := s.store.View(ctx, func(tx detente.Tx) error {
		version, _ = tx.Meta(ctx, listsVersionKey)
		return nil
	}); err != nil {
		return nil, err
	}
	auths := slices.Clone(authorities)
	slices.Sort(auths)
	key := strings.Join(auths, ",")
	s.jobsMu.Lock()
	defer s.jobsMu.Unlock()
	if j, ok := s.jobs[key]; ok && j.version == version {
		return j, nil
	}
	if s.jobs == nil || len(s.jobs) >= maxCompareJobs {
		s.jobs = map[string]*CompareJob{}
	}
	j := &CompareJob{finished: make(chan struct{}), version: version}
	s.jobs[key] = j
	go func() {
		defer close(j.finished)
		j.report, j.err = s.CompareListsProgress(context.Background(), auths, func(done, total int) {
			j.done.Store(int64(done))
			j.total.Store(int64(total))
		})
	}()
	return j, nil
}
