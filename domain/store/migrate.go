package store

import (
	"context"
	"fmt"
	"io/fs"
	"log/slog"
	"time"

	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"

	"github.com/coop-exchange/coop/migrations"
)

// MigrationState is one migration and whether it has been applied.
type MigrationState struct {
	Version   int64
	Name      string
	Applied   bool
	AppliedAt time.Time
}

// newProvider builds a goose provider over this dialect's embedded migrations. On Postgres a session
// advisory lock lets only one process migrate at a time, so that several `coop serve` starting
// together do not race.
func (s *Store) newProvider() (*goose.Provider, error) {
	sqlDB, err := s.db.DB()
	if err != nil {
		return nil, err
	}
	sub, err := fs.Sub(migrations.FS, string(s.dialect))
	if err != nil {
		return nil, err
	}
	opts := []goose.ProviderOption{goose.WithDisableGlobalRegistry(true)}
	dialect := goose.DialectSQLite3
	if s.dialect == Postgres {
		dialect = goose.DialectPostgres
		locker, err := lock.NewPostgresSessionLocker()
		if err != nil {
			return nil, err
		}
		opts = append(opts, goose.WithSessionLocker(locker))
	}
	return goose.NewProvider(dialect, sqlDB, sub, opts...)
}

// Migrate applies every pending migration, in order, each in its own transaction, and logs each one.
func (s *Store) Migrate(ctx context.Context, log *slog.Logger) (int, error) {
	results, err := s.migrations.Up(ctx)
	for _, r := range results {
		if r.Error == nil && log != nil {
			log.InfoContext(ctx, "applied migration", "version", r.Source.Version, "file", r.Source.Path, "took_ms", r.Duration.Milliseconds())
		}
	}
	if err != nil {
		return len(results), fmt.Errorf("store: unable to migrate: %w", translate(err))
	}
	return len(results), nil
}

// Migrations lists every embedded migration and whether it is applied.
func (s *Store) Migrations(ctx context.Context) ([]MigrationState, error) {
	status, err := s.migrations.Status(ctx)
	if err != nil {
		return nil, fmt.Errorf("store: unable to read migration status: %w", translate(err))
	}
	out := make([]MigrationState, len(status))
	for i, st := range status {
		out[i] = MigrationState{Version: st.Source.Version, Name: st.Source.Path,
			Applied: st.State == goose.StateApplied, AppliedAt: st.AppliedAt}
	}
	return out, nil
}

// Ready reports nil when the database answers and has every migration this binary knows.
func (s *Store) Ready(ctx context.Context) error {
	current, target, err := s.migrations.GetVersions(ctx)
	if err != nil {
		return translate(err)
	}
	if current < target {
		return fmt.Errorf("store: database is at migration %d, this version needs %d", current, target)
	}
	return nil
}
