// Package store keeps the co-op's records in PostgreSQL or SQLite through GORM. It is the only
// package that speaks SQL: it implements the storage interfaces that package domain declares and
// turns driver errors into domain errors (ErrNotFound, ErrDuplicate, ErrUnavailable, ...).
package store

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/url"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/glebarez/sqlite"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/pressly/goose/v3"
	"gorm.io/driver/postgres"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"

	"github.com/coop-exchange/coop/domain"
)

// Dialect is the kind of database behind a store.
type Dialect string

// The supported dialects.
const (
	Postgres Dialect = "postgres"
	SQLite   Dialect = "sqlite"
)

// DefaultSQLitePath is where the data lives when no database URL is configured.
const DefaultSQLitePath = "./coop.db"

// Location is a parsed database URL: which dialect, and what to hand its driver.
type Location struct {
	Dialect Dialect
	DSN     string // the postgres URL, or the SQLite file path
}

// ParseURL reads a database URL: empty for ./coop.db, "postgres://..." (or "postgresql://...")
// for PostgreSQL, and "sqlite:PATH" or "file:PATH" for an SQLite file.
func ParseURL(raw string) (Location, error) {
	raw = strings.TrimSpace(raw)
	switch {
	case raw == "":
		return Location{Dialect: SQLite, DSN: DefaultSQLitePath}, nil
	case strings.HasPrefix(raw, "postgres://"), strings.HasPrefix(raw, "postgresql://"):
		if _, err := pgconn.ParseConfig(raw); err != nil {
			return Location{}, fmt.Errorf("not a usable postgres URL: %s", cleanParseError(err))
		}
		return Location{Dialect: Postgres, DSN: raw}, nil
	case strings.HasPrefix(raw, "sqlite:"), strings.HasPrefix(raw, "file:"):
		rest := raw[strings.IndexByte(raw, ':')+1:]
		if strings.HasPrefix(rest, "//") {
			u, err := url.Parse(raw)
			if err != nil {
				return Location{}, fmt.Errorf("not a usable sqlite URL: %v", err)
			}
			rest = u.Host + u.Path
		}
		if i := strings.IndexByte(rest, '?'); i >= 0 {
			return Location{}, errors.New("sqlite URLs take no options; give only the file path, like sqlite:./coop.db")
		}
		if rest == "" || rest == ":memory:" {
			return Location{}, errors.New("give the SQLite file path, like sqlite:./coop.db")
		}
		return Location{Dialect: SQLite, DSN: filepath.Clean(rest)}, nil
	}
	return Location{}, errors.New("must start with postgres:// (PostgreSQL) or sqlite: (an SQLite file), like sqlite:./coop.db")
}

// cleanParseError keeps pgx's parse error from repeating the URL, which may hold a password.
func cleanParseError(err error) string {
	var pe *pgconn.ParseConfigError
	if errors.As(err, &pe) && pe.Unwrap() != nil {
		return pe.Unwrap().Error()
	}
	msg := err.Error()
	if i := strings.LastIndex(msg, ": "); i >= 0 {
		return msg[i+2:]
	}
	return msg
}

// Store is the database. It is safe for concurrent use.
type Store struct {
	db         *gorm.DB
	dialect    Dialect
	log        *slog.Logger
	migrations *goose.Provider
}

// Open connects to the database at loc. It does not apply migrations (see Migrate).
func Open(ctx context.Context, loc Location, log *slog.Logger) (*Store, error) {
	var dialector gorm.Dialector
	switch loc.Dialect {
	case Postgres:
		dialector = postgres.Open(loc.DSN)
	case SQLite:
		// WAL lets readers work beside the one writer; immediate transactions take the write lock
		// at BEGIN, so that two writers queue on busy_timeout instead of failing on upgrade.
		dialector = sqlite.Open("file:" + loc.DSN + "?_pragma=foreign_keys(1)&_pragma=journal_mode(WAL)" +
			"&_pragma=busy_timeout(10000)&_pragma=synchronous(NORMAL)&_txlock=immediate")
	default:
		return nil, fmt.Errorf("store: unknown dialect %q", loc.Dialect)
	}
	db, err := gorm.Open(dialector, &gorm.Config{
		TranslateError:         true,
		SkipDefaultTransaction: true,
		NowFunc:                func() time.Time { return time.Now().UTC() },
		Logger:                 slowQueryLogger{log: log, threshold: 500 * time.Millisecond},
	})
	if err != nil {
		return nil, fmt.Errorf("store: unable to open %s database: %w", loc.Dialect, translate(err))
	}
	sqlDB, err := db.DB()
	if err != nil {
		return nil, fmt.Errorf("store: unable to reach the connection pool: %w", err)
	}
	switch loc.Dialect {
	case Postgres:
		sqlDB.SetMaxOpenConns(20)
		sqlDB.SetMaxIdleConns(10)
		sqlDB.SetConnMaxIdleTime(5 * time.Minute)
		sqlDB.SetConnMaxLifetime(30 * time.Minute)
	case SQLite:
		sqlDB.SetMaxOpenConns(4)
		sqlDB.SetMaxIdleConns(4)
	}
	s := &Store{db: db, dialect: loc.Dialect, log: log}
	if s.migrations, err = s.newProvider(); err != nil {
		sqlDB.Close()
		return nil, fmt.Errorf("store: unable to read migrations: %w", err)
	}
	if err := s.Ping(ctx); err != nil {
		sqlDB.Close()
		return nil, fmt.Errorf("store: unable to reach the %s database: %w", loc.Dialect, err)
	}
	return s, nil
}

// Dialect says which database this is.
func (s *Store) Dialect() Dialect { return s.dialect }

// Close closes every connection.
func (s *Store) Close() error {
	sqlDB, err := s.db.DB()
	if err != nil {
		return err
	}
	return sqlDB.Close()
}

// Ping checks that the database answers.
func (s *Store) Ping(ctx context.Context) error {
	sqlDB, err := s.db.DB()
	if err != nil {
		return err
	}
	if err := sqlDB.PingContext(ctx); err != nil {
		return translate(err)
	}
	return nil
}

type txKey struct{}

// Transact runs fn in a transaction; store calls made with fn's ctx are part of it. A Transact
// inside another joins the outer transaction.
func (s *Store) Transact(ctx context.Context, fn func(ctx context.Context) error) error {
	if _, ok := ctx.Value(txKey{}).(*gorm.DB); ok {
		return fn(ctx)
	}
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		return fn(context.WithValue(ctx, txKey{}, tx))
	})
	return translate(err)
}

// conn is the transaction in ctx, or the database.
func (s *Store) conn(ctx context.Context) *gorm.DB {
	if tx, ok := ctx.Value(txKey{}).(*gorm.DB); ok {
		return tx
	}
	return s.db.WithContext(ctx)
}

// translate turns GORM and driver errors into domain errors; other errors pass unchanged.
func translate(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, gorm.ErrRecordNotFound):
		return domain.ErrNotFound
	case errors.Is(err, gorm.ErrDuplicatedKey):
		return fmt.Errorf("%w: %v", domain.ErrDuplicate, err)
	case errors.Is(err, gorm.ErrForeignKeyViolated),
		// SQLite reports an ON DELETE RESTRICT as a trigger failure (code 1811), not a foreign key one.
		strings.Contains(err.Error(), "FOREIGN KEY constraint failed"):
		return fmt.Errorf("%w: %v", domain.ErrInUse, err)
	case unavailable(err):
		return fmt.Errorf("%w: %v", domain.ErrUnavailable, err)
	case clashed(err):
		return fmt.Errorf("%w: %v", domain.ErrConflict, err)
	}
	return err
}

// clashed reports whether PostgreSQL gave up a transaction because another changed the same rows
// at the same moment (a deadlock, or a serialization failure): for the person, someone else's
// change came first.
func clashed(err error) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && (pgErr.Code == "40P01" || pgErr.Code == "40001")
}

// unavailable reports whether err means the database could not be reached or used just now,
// as opposed to a mistake in the query.
func unavailable(err error) bool {
	var (
		netErr     *net.OpError
		connectErr *pgconn.ConnectError
		pgErr      *pgconn.PgError
		sqliteErr  interface{ Code() int }
	)
	switch {
	case errors.Is(err, domain.ErrUnavailable),
		errors.Is(err, driver.ErrBadConn),
		errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF),
		errors.Is(err, syscall.ECONNREFUSED), errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE),
		errors.As(err, &netErr), errors.As(err, &connectErr):
		return true
	case errors.As(err, &pgErr):
		// Class 08: connection exception; 57P0x: the server is shutting down or starting;
		// 53300: too many connections; 55000 here: the database does not accept connections.
		return strings.HasPrefix(pgErr.Code, "08") || strings.HasPrefix(pgErr.Code, "57P") ||
			pgErr.Code == "53300" || pgErr.Code == "55000" || pgErr.Code == "3D000"
	case errors.As(err, &sqliteErr):
		// SQLITE_BUSY (5), SQLITE_LOCKED (6), SQLITE_IOERR (10), SQLITE_FULL (13), SQLITE_CANTOPEN (14),
		// with or without an extended code in the high bits.
		switch sqliteErr.Code() & 0xff {
		case 5, 6, 10, 13, 14:
			return true
		}
	}
	return pgconn.SafeToRetry(err) || strings.Contains(err.Error(), "conn closed")
}

// slowQueryLogger reports queries slower than threshold; errors are logged once, where they are handled.
type slowQueryLogger struct {
	log       *slog.Logger
	threshold time.Duration
}

func (l slowQueryLogger) LogMode(logger.LogLevel) logger.Interface { return l }
func (l slowQueryLogger) Info(context.Context, string, ...any)     {}
func (l slowQueryLogger) Warn(context.Context, string, ...any)     {}
func (l slowQueryLogger) Error(context.Context, string, ...any)    {}
func (l slowQueryLogger) Trace(ctx context.Context, begin time.Time, fc func() (string, int64), _ error) {
	if took := time.Since(begin); took > l.threshold && l.log != nil {
		query, rows := fc()
		if len(query) > 300 {
			query = query[:300] + "..."
		}
		l.log.WarnContext(ctx, "slow query", "took_ms", took.Milliseconds(), "rows", rows, "query", query)
	}
}

// ParamsFilter keeps parameter values (personal data) out of logged SQL.
func (l slowQueryLogger) ParamsFilter(_ context.Context, sql string, _ ...any) (string, []any) {
	return sql, nil
}
