package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm/clause"

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

// Setting returns the stored value of key, and whether there is one.
func (s *Store) Setting(ctx context.Context, key string) (string, bool, error) {
	var row settingRow
	err := translate(s.conn(ctx).Where("key = ?", key).Take(&row).Error)
	switch {
	case errors.Is(err, domain.ErrNotFound):
		return "", false, nil
	case err != nil:
		return "", false, fmt.Errorf("store: unable to read setting %s: %w", key, err)
	}
	return row.Value, true, nil
}

// PutSetting stores value as key's, replacing any.
func (s *Store) PutSetting(ctx context.Context, key, value string, at time.Time) error {
	row := settingRow{Key: key, Value: value, UpdatedAt: at.UTC()}
	err := s.conn(ctx).Clauses(clause.OnConflict{Columns: []clause.Column{{Name: "key"}}, DoUpdates: clause.AssignmentColumns([]string{"value", "updated_at"})}).
		Create(&row).Error
	if err != nil {
		return fmt.Errorf("store: unable to store setting %s: %w", key, translate(err))
	}
	return nil
}
