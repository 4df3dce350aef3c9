// Package storetest gives each test its own freshly migrated database: an SQLite file in the
// test's temporary folder, or a new PostgreSQL database that is dropped when the test ends.
//
// PostgreSQL is found at COOP_TEST_DATABASE_URL, or else at postgres://postgres@127.0.0.1:5432;
// when it cannot be reached the Postgres half of a test skips loudly (or fails, when
// COOP_TEST_REQUIRE names "postgres").
package storetest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	_ "github.com/glebarez/go-sqlite"  // the database/sql driver for running SQL on a test's SQLite file
	_ "github.com/jackc/pgx/v5/stdlib" // the database/sql driver for creating and dropping test databases

	"github.com/coop-exchange/coop/domain/store"
	"github.com/coop-exchange/coop/internal/testenv"
)

// DefaultPostgresURL is where tests look for PostgreSQL when COOP_TEST_DATABASE_URL is not set.
const DefaultPostgresURL = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"

// Dialects are the dialects every store test runs on.
var Dialects = []store.Dialect{store.SQLite, store.Postgres}

// ForEachDialect runs fn as a subtest on a fresh, migrated store of each dialect.
func ForEachDialect(t *testing.T, fn func(t *testing.T, s *store.Store)) {
	t.Helper()
	for _, d := range Dialects {
		t.Run(string(d), func(t *testing.T) {
			fn(t, Open(t, d))
		})
	}
}

// Exec runs SQL straight on a test's database, for states the platform never makes itself
// (such as a member whose area was removed by hand); ? marks the parameters in either dialect.
type Exec func(query string, args ...any)

// ForEachDialectWithExec is ForEachDialect that also gives fn a way to run SQL on the database.
func ForEachDialectWithExec(t *testing.T, fn func(t *testing.T, s *store.Store, exec Exec)) {
	t.Helper()
	for _, d := range Dialects {
		t.Run(string(d), func(t *testing.T) {
			loc := NewDatabase(t, d)
			s := OpenAt(t, loc)
			fn(t, s, execOn(t, loc))
		})
	}
}

// ExecAt gives a way to run SQL on the database at loc (see Exec).
func ExecAt(t *testing.T, loc store.Location) Exec { return execOn(t, loc) }

func execOn(t *testing.T, loc store.Location) Exec {
	driver, dsn := "pgx", loc.DSN
	if loc.Dialect == store.SQLite {
		driver, dsn = "sqlite", "file:"+loc.DSN+"?_pragma=foreign_keys(1)&_pragma=busy_timeout(10000)"
	}
	db, err := sql.Open(driver, dsn)
	if err != nil {
		t.Fatalf("open %s for SQL: %v", loc.Dialect, err)
	}
	t.Cleanup(func() { db.Close() })
	return func(query string, args ...any) {
		t.Helper()
		if loc.Dialect == store.Postgres {
			for i := 1; strings.Contains(query, "?"); i++ {
				query = strings.Replace(query, "?", fmt.Sprintf("$%d", i), 1)
			}
		}
		if _, err := db.Exec(query, args...); err != nil {
			t.Fatalf("%s: %v", query, err)
		}
	}
}

// Open returns a fresh, migrated store of dialect d, closed (and for Postgres dropped) at cleanup.
func Open(t testing.TB, d store.Dialect) *store.Store {
	t.Helper()
	return OpenAt(t, NewDatabase(t, d))
}

// OpenAt opens (and migrates) the store at loc, closed at cleanup: a second store on one
// database stands for a second process.
func OpenAt(t testing.TB, loc store.Location) *store.Store {
	t.Helper()
	d := loc.Dialect
	ctx := context.Background()
	s, err := store.Open(ctx, loc, testenv.Logger())
	if err != nil {
		t.Fatalf("open %s store: %v", d, err)
	}
	t.Cleanup(func() { s.Close() })
	if _, err := s.Migrate(ctx, nil); err != nil {
		t.Fatalf("migrate %s store: %v", d, err)
	}
	return s
}

// NewDatabase creates an empty database of dialect d for this test and returns where it is.
func NewDatabase(t testing.TB, d store.Dialect) store.Location {
	t.Helper()
	switch d {
	case store.SQLite:
		return store.Location{Dialect: store.SQLite, DSN: filepath.Join(t.TempDir(), "coop.db")}
	case store.Postgres:
		return store.Location{Dialect: store.Postgres, DSN: NewPostgresDatabase(t)}
	}
	t.Fatalf("unknown dialect %q", d)
	return store.Location{}
}

// AdminURL is the PostgreSQL server tests use; it skips (or fails, when required) if none answers.
func AdminURL(t testing.TB) string {
	t.Helper()
	admin := os.Getenv("COOP_TEST_DATABASE_URL")
	if admin == "" {
		admin = DefaultPostgresURL
	}
	db, err := sql.Open("pgx", admin)
	if err != nil {
		testenv.Unavailable(t, "postgres", fmt.Sprintf("cannot use %s: %v", redact(admin), err))
	}
	defer db.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	if err := db.PingContext(ctx); err != nil {
		testenv.Unavailable(t, "postgres", fmt.Sprintf("no PostgreSQL answers at %s (set COOP_TEST_DATABASE_URL): %v", redact(admin), err))
	}
	return admin
}

// NewPostgresDatabase creates an empty PostgreSQL database for this test, dropped at cleanup, and
// returns its URL.
func NewPostgresDatabase(t testing.TB) string {
	t.Helper()
	admin := AdminURL(t)
	b := make([]byte, 6)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	name := "coop_test_" + hex.EncodeToString(b)
	db, err := sql.Open("pgx", admin)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec("CREATE DATABASE " + name); err != nil {
		t.Fatalf("create test database: %v", err)
	}
	t.Cleanup(func() {
		db, err := sql.Open("pgx", admin)
		if err != nil {
			t.Errorf("drop test database %s: %v", name, err)
			return
		}
		defer db.Close()
		if _, err := db.Exec("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)"); err != nil {
			t.Errorf("drop test database %s: %v", name, err)
		}
	})
	u, err := url.Parse(admin)
	if err != nil {
		t.Fatal(err)
	}
	u.Path = "/" + name
	return u.String()
}

func redact(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "the configured URL"
	}
	return u.Redacted()
}
