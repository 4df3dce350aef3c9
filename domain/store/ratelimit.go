package store

import (
	"context"
	"fmt"
	"time"
)

type rateLimitHitRow struct {
	ID  int64 `gorm:"primaryKey"`
	Key string
	At  time.Time
}

func (rateLimitHitRow) TableName() string { return "rate_limit_hits" }

// RecentHits counts hits under key at or after since and returns the oldest of them.
func (s *Store) RecentHits(ctx context.Context, key string, since time.Time) (int, time.Time, error) {
	var n int64
	recent := s.conn(ctx).Model(&rateLimitHitRow{}).Where("key = ? AND at >= ?", key, since.UTC())
	if err := recent.Count(&n).Error; err != nil {
		return 0, time.Time{}, fmt.Errorf("store: unable to count attempts: %w", translate(err))
	}
	if n == 0 {
		return 0, time.Time{}, nil
	}
	var first rateLimitHitRow
	err := s.conn(ctx).Where("key = ? AND at >= ?", key, since.UTC()).Order("at").Take(&first).Error
	if err != nil {
		return 0, time.Time{}, fmt.Errorf("store: unable to read attempts: %w", translate(err))
	}
	return int(n), first.At.UTC(), nil
}

// RecordHit records one attempt under key.
func (s *Store) RecordHit(ctx context.Context, key string, at time.Time) error {
	if err := s.conn(ctx).Create(&rateLimitHitRow{Key: key, At: at.UTC()}).Error; err != nil {
		return fmt.Errorf("store: unable to record attempt: %w", translate(err))
	}
	return nil
}

// PruneHits deletes hits older than before.
func (s *Store) PruneHits(ctx context.Context, before time.Time) (int64, error) {
	res := s.conn(ctx).Where("at < ?", before.UTC()).Delete(&rateLimitHitRow{})
	if res.Error != nil {
		return 0, fmt.Errorf("store: unable to prune attempts: %w", translate(res.Error))
	}
	return res.RowsAffected, nil
}
