package jobs

import (
	"context"
	"log/slog"
)

// Pruner deletes records that have lapsed and says how many.
type Pruner func(ctx context.Context) (int64, error)

// Prune names what a pruner deletes, for the log: "sessions", "attempts".
type Prune struct {
	What  string
	Prune Pruner
}

// HousekeepingSchedule is when lapsed records are deleted.
const HousekeepingSchedule = "@every 15m"

// Housekeeping runs each pruner in turn (lapsed sessions, rate-limit records no window needs,
// old matcher passes and notices), stopping at the first that fails.
func Housekeeping(log *slog.Logger, prunes ...Prune) Job {
	return func(ctx context.Context) error {
		var deleted []any
		total := int64(0)
		for _, p := range prunes {
			n, err := p.Prune(ctx)
			if err != nil {
				return err
			}
			deleted = append(deleted, p.What+"_deleted", n)
			total += n
		}
		if total > 0 {
			log.Info("housekeeping", deleted...)
		}
		return nil
	}
}
