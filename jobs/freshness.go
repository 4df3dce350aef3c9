package jobs

import (
	"context"
	"log/slog"

	"github.com/coop-exchange/coop/domain"
)

// FreshnessSchedule is when offers are asked about or paused and members told of checks due.
//
// Hourly rather than @daily: a daily tick that falls while the platform is restarting (a deploy
// at midnight) is lost for a day, whereas an hourly one at most delays an ask by an hour. A run
// finds nothing to do in almost every hour, through two small indexed queries, and it is
// idempotent (each change is a conditional UPDATE made with its notification), so running it
// often, and in every process at once, costs little and asks or pauses nothing twice.
const FreshnessSchedule = "@every 1h"

// Freshener does what is due of keeping posts fresh; *domain.Freshness is one.
type Freshener interface {
	Run(ctx context.Context) (domain.FreshnessCounts, error)
}

// FreshnessJob is the scheduled job: ask, pause and remind as due, and log what it did.
func FreshnessJob(f Freshener, log *slog.Logger) Job {
	return func(ctx context.Context) error {
		c, err := f.Run(ctx)
		if c != (domain.FreshnessCounts{}) {
			log.Info("freshness", "offers_asked", c.Asked, "offers_paused", c.Paused, "checks_due_told", c.ChecksDue)
		}
		return err
	}
}
