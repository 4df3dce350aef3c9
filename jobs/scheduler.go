// Package jobs runs the platform's scheduled work on robfig/cron: each job recovers from panics,
// is skipped while its previous run is still going, and is waited for at shutdown.
package jobs

import (
	"context"
	"fmt"
	"log/slog"
	"runtime/debug"
	"time"

	"github.com/robfig/cron/v3"
)

// Job is one piece of scheduled work.
type Job func(ctx context.Context) error

// ParseSchedule checks a schedule in robfig/cron's standard syntax (five fields, or a descriptor
// such as "@every 5m" or "@hourly").
func ParseSchedule(spec string) error {
	_, err := cron.ParseStandard(spec)
	return err
}

// Scheduler runs jobs on their schedules.
type Scheduler struct {
	cron *cron.Cron
	log  *slog.Logger
	ctx  context.Context // the context jobs run with; not cancelled at Stop, so a running job can finish
}

// NewScheduler returns a scheduler reading schedules in loc.
func NewScheduler(log *slog.Logger, loc *time.Location) *Scheduler {
	cl := cronLogger{log: log}
	return &Scheduler{
		cron: cron.New(cron.WithLocation(loc), cron.WithLogger(cl),
			cron.WithChain(cron.SkipIfStillRunning(cl))),
		log: log,
		ctx: context.Background(),
	}
}

// Add schedules job under name.
func (s *Scheduler) Add(name, spec string, job Job) error {
	_, err := s.cron.AddFunc(spec, func() { s.run(name, job) })
	if err != nil {
		return fmt.Errorf("schedule %s (%q): %w", name, spec, err)
	}
	return nil
}

// run runs one job once, logging its outcome and turning a panic into a logged error.
func (s *Scheduler) run(name string, job Job) {
	log := s.log.With("job", name)
	start := time.Now()
	defer func() {
		if r := recover(); r != nil {
			log.Error("job panicked", "panic", fmt.Sprint(r), "stack", string(debug.Stack()))
		}
	}()
	if err := job(s.ctx); err != nil {
		log.Error("job failed", "err", err, "took_ms", time.Since(start).Milliseconds())
		return
	}
	log.Debug("job done", "took_ms", time.Since(start).Milliseconds())
}

// Start starts running jobs in the background.
func (s *Scheduler) Start() { s.cron.Start() }

// Stop stops scheduling and waits for running jobs to finish, or for ctx to end.
func (s *Scheduler) Stop(ctx context.Context) error {
	done := s.cron.Stop()
	select {
	case <-done.Done():
		return nil
	case <-ctx.Done():
		return fmt.Errorf("jobs still running at shutdown: %w", ctx.Err())
	}
}

// cronLogger sends robfig/cron's own messages to slog.
type cronLogger struct{ log *slog.Logger }

func (l cronLogger) Info(msg string, kv ...any) { l.log.Debug("cron: "+msg, kv...) }
func (l cronLogger) Error(err error, msg string, kv ...any) {
	l.log.Error("cron: "+msg, append(kv, "err", err)...)
}
