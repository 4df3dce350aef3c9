package store_test

import (
	"context"
	"database/sql"
	"io/fs"
	"testing"
	"time"

	"github.com/pressly/goose/v3"

	"github.com/coop-exchange/coop/domain"
	"github.com/coop-exchange/coop/domain/store"
	"github.com/coop-exchange/coop/domain/store/storetest"
	"github.com/coop-exchange/coop/migrations"
)

// TestFreshnessMigrationBackfills takes a database with an offer back to before migration 8 and
// up again: the offer counts as confirmed when it last changed, with nothing asked.
func TestFreshnessMigrationBackfills(t *testing.T) {
	for _, d := range storetest.Dialects {
		t.Run(string(d), func(t *testing.T) {
			ctx := context.Background()
			loc := storetest.NewDatabase(t, d)
			s := storetest.OpenAt(t, loc)
			t0 := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
			ann := addMember(t, s, "Ann Example", "ann@example.org", t0)
			cat, err := s.CategoryBySlug(ctx, "transport")
			if err != nil {
				t.Fatal(err)
			}
			o := domain.Offer{MemberID: ann.ID, CategoryID: cat.ID, Description: "Lifts", RadiusKm: 5, MaxPerWeek: 1,
				Slots: []domain.Slot{{Day: time.Tuesday, From: 13 * 60, To: 17 * 60}}, Status: domain.OfferActive,
				CreatedAt: t0, UpdatedAt: t0.Add(time.Hour), ConfirmedAt: t0.Add(2 * time.Hour), StaleAskedAt: t0.Add(3 * time.Hour)}
			if err := s.CreateOffer(ctx, &o); err != nil {
				t.Fatal(err)
			}

			driver, dsn, dialect := "pgx", loc.DSN, goose.DialectPostgres
			if d == store.SQLite {
				driver, dsn, dialect = "sqlite", "file:"+loc.DSN+"?_pragma=foreign_keys(1)&_pragma=busy_timeout(10000)", goose.DialectSQLite3
			}
			db, err := sql.Open(driver, dsn)
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			sub, err := fs.Sub(migrations.FS, string(d))
			if err != nil {
				t.Fatal(err)
			}
			p, err := goose.NewProvider(dialect, db, sub, goose.WithDisableGlobalRegistry(true))
			if err != nil {
				t.Fatal(err)
			}
			if _, err := p.DownTo(ctx, 7); err != nil {
				t.Fatalf("down to 7: %v", err)
			}
			if _, err := p.Up(ctx); err != nil {
				t.Fatalf("up again: %v", err)
			}
			got, err := s.Offer(ctx, o.ID)
			if err != nil {
				t.Fatal(err)
			}
			if !got.ConfirmedAt.Equal(o.UpdatedAt) || !got.StaleAskedAt.IsZero() {
				t.Errorf("after the migration: confirmed %v, asked %v; want confirmed %v, nothing asked", got.ConfirmedAt, got.StaleAskedAt, o.UpdatedAt)
			}
		})
	}
}
