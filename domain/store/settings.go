package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/coop-exchange/coop/domain"
)

type settingRow struct {
	Key       string `gorm:"primaryKey"`
	Value     string
	UpdatedAt time.Time `gorm:"autoUpdateTime:false"`
}

func (settingRow) TableName() string { return "settings" }

// EnsureSetting returns the stored value of key, storing generate's value (as of at) first when
// there is none. Two processes starting at once agree on one value.
func (s *Store) EnsureSetting(ctx context.Context, key string, at time.Time, generate func() (string, error)) (string, error) {
	var row settingRow
	err := s.conn(ctx).Where("key = ?", key).Take(&row).Error
	if err == nil {
		return row.Value, nil
	}
	if err = translate(err); !errors.Is(err, domain.ErrNotFound) {
		return "", fmt.Errorf("store: unable to read setting %s: %w", key, err)
	}
	value, err := generate()
	if err != nil {
		return "", err
	}
	err = s.conn(ctx).Create(&settingRow{Key: key, Value: value, UpdatedAt: at.UTC()}).Error
	if err = translate(err); errors.Is(err, domain.ErrDuplicate) {
		return s.EnsureSetting(ctx, key, at, generate) // another process stored it first
	} else if err != nil {
		return "", fmt.Errorf("store: unable to store setting %s: %w", key, err)
	}
	return value, nil
}
