package jobs

import (
	"context"
	"log/slog"
)

// Pruner deletes records that have lapsed and says how many.
type Pruner func(ctx context.Context) (int64, error)

// HousekeepingSchedule is when lapsed sessions and old rate-limit records are deleted.
const HousekeepingSchedule = "@every 15m"

// Housekeeping deletes lapsed sessions and rate-limit records no window needs any more.
func Housekeeping(log *slog.Logger, sessions, attempts Pruner) Job {
	return func(ctx context.Context) error {
		s, err := sessions(ctx)
		if err != nil {
			return err
		}
		a, err := attempts(ctx)
		if err != nil {
			return err
		}
		if s+a > 0 {
			log.Info("housekeeping", "sessions_deleted", s, "attempts_deleted", a)
		}
		return nil
	}
}
