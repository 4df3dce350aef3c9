package domain

import (
	"context"
	"errors"
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
	// ReserveHit records one hit under key at the time at, unless max hits at or after since are
	// there already. It counts and records atomically for the key, so that parallel attempts
	// cannot overshoot. It returns the new hit's id (0 when refused) and the oldest hit counted.
	ReserveHit(ctx context.Context, key string, at, since time.Time, max int) (id int64, oldest time.Time, err error)
	// DeleteHits forgets hits, such as those of a sign-in that succeeded.
	DeleteHits(ctx context.Context, ids []int64) error
	PruneHits(ctx context.Context, before time.Time) (int64, error)
}

// Limit allows at most Max hits under Key within Window; Message tells the person what happened.
type Limit struct {
	Key     string
	Max     int
	Window  time.Duration
	Message string
}

// keyed returns l counting under key.
func (l Limit) keyed(key string) Limit { l.Key = key; return l }

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

// Reservation is the hits one attempt recorded; releasing it forgets them.
type Reservation struct {
	ids []int64
}

// Reserve records an attempt under every limit, or none of them and a *RateLimitError when one
// limit is reached already. An attempt counts from the moment it starts, so that many at once
// cannot all slip under a limit before any is recorded.
func (r *RateLimiter) Reserve(ctx context.Context, limits ...Limit) (Reservation, error) {
	now := r.clock.now()
	var res Reservation
	for _, l := range limits {
		id, oldest, err := r.store.ReserveHit(ctx, l.Key, now, now.Add(-l.Window), l.Max)
		if err == nil && id == 0 {
			wait := oldest.Add(l.Window).Sub(now)
			if wait < time.Minute {
				wait = time.Minute
			}
			err = &RateLimitError{Message: l.Message + " Please try again in " + humanWait(wait) + ".", RetryAfter: wait}
		}
		if err != nil {
			if rerr := r.Release(ctx, res); rerr != nil {
				return Reservation{}, errors.Join(err, rerr)
			}
			var rl *RateLimitError
			if errors.As(err, &rl) {
				return Reservation{}, err
			}
			return Reservation{}, fmt.Errorf("rate limit %s: %w", l.Key, err)
		}
		res.ids = append(res.ids, id)
	}
	return res, nil
}

// Release forgets the hits of an attempt that should not count against anyone.
func (r *RateLimiter) Release(ctx context.Context, res Reservation) error {
	if len(res.ids) == 0 {
		return nil
	}
	if err := r.store.DeleteHits(ctx, res.ids); err != nil {
		return fmt.Errorf("release attempts: %w", err)
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
