package domain

import (
	"context"
	"fmt"
	"time"
)

// Transactor runs fn in one database transaction: every store call made with the ctx that fn
// receives is part of it, and it commits only if fn returns nil.
type Transactor interface {
	Transact(ctx context.Context, fn func(ctx context.Context) error) error
}

// RateLimitStore counts recent attempts under a key. It is shared by every process on one
// database, so that limits hold behind a load balancer.
type RateLimitStore interface {
	// RecentHits counts hits under key at or after since, and returns the oldest of them.
	RecentHits(ctx context.Context, key string, since time.Time) (count int, oldest time.Time, err error)
	RecordHit(ctx context.Context, key string, at time.Time) error
	PruneHits(ctx context.Context, before time.Time) (int64, error)
}

// Limit allows at most Max hits under Key within Window; Message tells the person what happened.
type Limit struct {
	Key     string
	Max     int
	Window  time.Duration
	Message string
}

// RateLimiter checks and records attempts against limits.
type RateLimiter struct {
	store RateLimitStore
	clock Clock
}

// NewRateLimiter returns a limiter backed by store.
func NewRateLimiter(store RateLimitStore, clock Clock) *RateLimiter {
	return &RateLimiter{store: store, clock: clock}
}

// LongestWindow is how far back hits matter; older ones may be pruned.
const LongestWindow = 24 * time.Hour

// Check returns a *RateLimitError for the first limit already reached, else nil.
func (r *RateLimiter) Check(ctx context.Context, limits ...Limit) error {
	now := r.clock.now()
	for _, l := range limits {
		n, oldest, err := r.store.RecentHits(ctx, l.Key, now.Add(-l.Window))
		if err != nil {
			return fmt.Errorf("check limit: %w", err)
		}
		if n >= l.Max {
			wait := oldest.Add(l.Window).Sub(now)
			if wait < time.Minute {
				wait = time.Minute
			}
			return &RateLimitError{Message: l.Message + " Please try again in " + humanWait(wait) + ".", RetryAfter: wait}
		}
	}
	return nil
}

// Hit records one attempt under each limit's key.
func (r *RateLimiter) Hit(ctx context.Context, limits ...Limit) error {
	now := r.clock.now()
	for _, l := range limits {
		if err := r.store.RecordHit(ctx, l.Key, now); err != nil {
			return fmt.Errorf("record attempt: %w", err)
		}
	}
	return nil
}

// Prune forgets hits older than any window.
func (r *RateLimiter) Prune(ctx context.Context) (int64, error) {
	return r.store.PruneHits(ctx, r.clock.now().Add(-LongestWindow))
}

func humanWait(d time.Duration) string {
	mins := int((d + time.Minute - 1) / time.Minute)
	switch {
	case mins <= 1:
		return "a minute"
	case mins < 90:
		return fmt.Sprintf("%d minutes", mins)
	default:
		return fmt.Sprintf("%d hours", (mins+59)/60)
	}
}
