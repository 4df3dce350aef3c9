package jobs

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}
func (b *logBuffer) String() string { b.mu.Lock(); defer b.mu.Unlock(); return b.buf.String() }

func testLogger() (*slog.Logger, *logBuffer) {
	b := &logBuffer{}
	return slog.New(slog.NewTextHandler(b, &slog.HandlerOptions{Level: slog.LevelDebug})), b
}

func TestAPanickingJobIsLoggedAndTheNextRunHappens(t *testing.T) {
	log, out := testLogger()
	s := NewScheduler(log, time.UTC)
	var runs atomic.Int32
	if err := s.Add("flaky", "@every 1s", func(context.Context) error {
		if runs.Add(1) == 1 {
			panic("first run goes wrong")
		}
		return errors.New("second run fails plainly")
	}); err != nil {
		t.Fatal(err)
	}
	s.Start()
	deadline := time.Now().Add(5 * time.Second)
	for runs.Load() < 2 && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	if err := s.Stop(context.Background()); err != nil {
		t.Fatal(err)
	}
	if runs.Load() < 2 {
		t.Fatalf("the job ran %d times; a panic stopped the schedule", runs.Load())
	}
	logs := out.String()
	for _, want := range []string{`msg="job panicked" job=flaky panic="first run goes wrong"`, `msg="job failed" job=flaky err="second run fails plainly"`} {
		if !strings.Contains(logs, want) {
			t.Errorf("the log lacks %s:\n%s", want, logs)
		}
	}
}

// TestSlowJobsDoNotOverlapAndStopWaitsForThem runs a job that takes longer than its interval.
func TestSlowJobsDoNotOverlapAndStopWaitsForThem(t *testing.T) {
	log, _ := testLogger()
	s := NewScheduler(log, time.UTC)
	var running, most, finished atomic.Int32
	started := make(chan struct{}, 10)
	if err := s.Add("slow", "@every 1s", func(context.Context) error {
		n := running.Add(1)
		defer running.Add(-1)
		if n > most.Load() {
			most.Store(n)
		}
		started <- struct{}{}
		time.Sleep(2500 * time.Millisecond)
		finished.Add(1)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	s.Start()
	<-started
	time.Sleep(1500 * time.Millisecond) // at least one tick passes while the first run is going
	if err := s.Stop(context.Background()); err != nil {
		t.Fatal(err)
	}
	if finished.Load() != 1 {
		t.Errorf("%d runs had finished when Stop returned, want Stop to wait for the running one", finished.Load())
	}
	if most.Load() != 1 {
		t.Errorf("%d runs overlapped", most.Load())
	}
}

func TestStopGivesUpAtItsDeadline(t *testing.T) {
	log, _ := testLogger()
	s := NewScheduler(log, time.UTC)
	started := make(chan struct{})
	release := make(chan struct{})
	defer close(release)
	if err := s.Add("stuck", "@every 1s", func(context.Context) error { close(started); <-release; return nil }); err != nil {
		t.Fatal(err)
	}
	s.Start()
	<-started
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	if err := s.Stop(ctx); err == nil || !strings.Contains(err.Error(), "jobs still running") {
		t.Errorf("Stop with a stuck job: %v", err)
	}
}

func TestBadSchedules(t *testing.T) {
	for _, spec := range []string{"every tuesday", "* * *", "@every", "61 * * * *"} {
		if ParseSchedule(spec) == nil {
			t.Errorf("%q was accepted", spec)
		}
	}
	for _, spec := range []string{"@every 5m", "*/5 * * * *", "@hourly", "0 3 * * mon"} {
		if err := ParseSchedule(spec); err != nil {
			t.Errorf("%q was refused: %v", spec, err)
		}
	}
	log, _ := testLogger()
	if err := NewScheduler(log, time.UTC).Add("x", "nonsense", func(context.Context) error { return nil }); err == nil {
		t.Error("Add took a bad schedule")
	}
}

func TestHousekeepingPrunesBoth(t *testing.T) {
	log, out := testLogger()
	var calls []string
	job := Housekeeping(log,
		Prune{"sessions", func(context.Context) (int64, error) { calls = append(calls, "sessions"); return 3, nil }},
		Prune{"attempts", func(context.Context) (int64, error) { calls = append(calls, "attempts"); return 7, nil }})
	if err := job(context.Background()); err != nil {
		t.Fatal(err)
	}
	if strings.Join(calls, ",") != "sessions,attempts" || !strings.Contains(out.String(), "sessions_deleted=3 attempts_deleted=7") {
		t.Errorf("calls %v, log %s", calls, out)
	}
	failing := Housekeeping(log, Prune{"sessions", func(context.Context) (int64, error) { return 0, errors.New("db away") }},
		Prune{"attempts", func(context.Context) (int64, error) { t.Error("went on after a failure"); return 0, nil }})
	if err := failing(context.Background()); err == nil {
		t.Error("a failing prune was not reported")
	}
}
