package store

import (
	"context"
	"fmt"
	"time"

	"gorm.io/gorm"
)

type rateLimitHitRow struct {
	ID  int64 `gorm:"primaryKey"`
	Key string
	At  time.Time
}

func (rateLimitHitRow) TableName() string { return "rate_limit_hits" }

// lockRateKeySQL serialises reservations under one key on PostgreSQL until the transaction ends.
// (SQLite needs nothing more: its transactions begin immediate, one writer at a time.)
const lockRateKeySQL = `SELECT pg_advisory_xact_lock(hashtextextended(?, 0))`

// ReserveHit records a hit under key unless max hits at or after since exist; see
// domain.RateLimitStore.
func (s *Store) ReserveHit(ctx context.Context, key string, at, since time.Time, max int) (int64, time.Time, error) {
	var (
		id     int64
		oldest time.Time
	)
	err := s.Transact(ctx, func(ctx context.Context) error {
		db := s.conn(ctx)
		if s.dialect == Postgres {
			if err := db.Exec(lockRateKeySQL, "coop-rate-limit:"+key).Error; err != nil {
				return err
			}
		}
		recent := func() *gorm.DB { return db.Model(&rateLimitHitRow{}).Where("key = ? AND at >= ?", key, since.UTC()) }
		var n int64
		if err := recent().Count(&n).Error; err != nil {
			return err
		}
		if n > 0 {
			var first rateLimitHitRow
			if err := recent().Order("at").Take(&first).Error; err != nil {
				return err
			}
			oldest = first.At.UTC()
		}
		if n >= int64(max) {
			return nil
		}
		row := rateLimitHitRow{Key: key, At: at.UTC()}
		if err := db.Create(&row).Error; err != nil {
			return err
		}
		id = row.ID
		return nil
	})
	if err != nil {
		return 0, time.Time{}, fmt.Errorf("store: unable to reserve an attempt: %w", translate(err))
	}
	return id, oldest, nil
}

// DeleteHits forgets the hits with these ids.
func (s *Store) DeleteHits(ctx context.Context, ids []int64) error {
	if len(ids) == 0 {
		return nil
	}
	if err := s.conn(ctx).Delete(&rateLimitHitRow{}, ids).Error; err != nil {
		return fmt.Errorf("store: unable to forget attempts: %w", translate(err))
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
