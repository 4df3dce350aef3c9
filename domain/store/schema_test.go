package store_test

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coop-exchange/coop/domain/store"
	"github.com/coop-exchange/coop/domain/store/storetest"
)

// TestDialectsHaveTheSameSchema migrates a fresh SQLite and a fresh PostgreSQL database and checks
// that they end with the same tables, the same columns, and columns of the same kind and
// nullability, so that code written against one works on the other.
func TestDialectsHaveTheSameSchema(t *testing.T) {
	ctx := context.Background()
	schemas := map[store.Dialect]map[string]string{}
	for _, d := range storetest.Dialects {
		s := storetest.Open(t, d)
		cols, err := s.Schema(ctx)
		if err != nil {
			t.Fatalf("%s: read schema: %v", d, err)
		}
		if len(cols) == 0 {
			t.Fatalf("%s: no tables after migrating", d)
		}
		schemas[d] = map[string]string{}
		for _, c := range cols {
			schemas[d][c.Table+"."+c.Name] = fmt.Sprintf("%s null=%v", c.Kind, c.Nullable)
		}
	}
	lite, pg := schemas[store.SQLite], schemas[store.Postgres]
	var diffs []string
	for col, want := range lite {
		switch got, ok := pg[col]; {
		case !ok:
			diffs = append(diffs, fmt.Sprintf("%s is in sqlite (%s) but not in postgres", col, want))
		case got != want:
			diffs = append(diffs, fmt.Sprintf("%s is %s in sqlite but %s in postgres", col, want, got))
		}
	}
	for col, got := range pg {
		if _, ok := lite[col]; !ok {
			diffs = append(diffs, fmt.Sprintf("%s is in postgres (%s) but not in sqlite", col, got))
		}
	}
	sort.Strings(diffs)
	if len(diffs) > 0 {
		t.Errorf("the dialects' schemas differ:\n%s", strings.Join(diffs, "\n"))
	}
	for _, table := range []string{"members", "sessions", "api_tokens", "areas", "categories", "audit_events", "consents"} {
		if _, ok := lite[table+".id"]; !ok {
			t.Errorf("table %s is missing", table)
		}
	}
}

// TestMigrationsAreRecorded checks that migrate status sees every migration applied, and that a
// second run applies nothing.
func TestMigrationsAreRecorded(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		states, err := s.Migrations(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(states) == 0 {
			t.Fatal("no migrations listed")
		}
		for _, m := range states {
			if !m.Applied {
				t.Errorf("migration %d (%s) is not applied", m.Version, m.Name)
			}
		}
		n, err := s.Migrate(ctx, nil)
		if err != nil || n != 0 {
			t.Errorf("second migrate applied %d (err %v), want 0", n, err)
		}
		if err := s.Ready(ctx); err != nil {
			t.Errorf("ready after migrating: %v", err)
		}
	})
}

func TestRateLimitReservations(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		base := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
		var ids []int64
		for i := range 4 {
			at := base.Add(time.Duration(i)*time.Minute + time.Duration(i)*time.Millisecond)
			id, _, err := s.ReserveHit(ctx, "signin:ip:192.0.2.1", at, base.Add(-time.Hour), 10)
			if err != nil || id == 0 {
				t.Fatalf("reserve %d: %d %v", i, id, err)
			}
			ids = append(ids, id)
		}
		if id, _, _ := s.ReserveHit(ctx, "signin:ip:192.0.2.2", base, base.Add(-time.Hour), 10); id == 0 {
			t.Fatal("another key was refused")
		}
		// Two hits since 12:01:30; a limit of 2 refuses a third and says which is the oldest.
		id, oldest, err := s.ReserveHit(ctx, "signin:ip:192.0.2.1", base.Add(5*time.Minute), base.Add(90*time.Second), 2)
		if err != nil || id != 0 || !oldest.Equal(base.Add(2*time.Minute+2*time.Millisecond)) {
			t.Errorf("over the limit: id %d, oldest %v (%v)", id, oldest, err)
		}
		if err := s.DeleteHits(ctx, ids[2:3]); err != nil {
			t.Fatal(err)
		}
		if id, _, _ := s.ReserveHit(ctx, "signin:ip:192.0.2.1", base.Add(5*time.Minute), base.Add(90*time.Second), 2); id == 0 {
			t.Error("a released hit still counts")
		}
		pruned, err := s.PruneHits(ctx, base.Add(2*time.Minute))
		if err != nil || pruned != 3 {
			t.Errorf("pruned %d (%v), want 3", pruned, err)
		}
	})
}

// TestReservationsDoNotOvershoot makes many attempts at once under one key: exactly the limit
// get through, on both dialects.
func TestReservationsDoNotOvershoot(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		now := time.Now().UTC()
		var wg sync.WaitGroup
		var granted atomic.Int32
		for range 40 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				id, _, err := s.ReserveHit(ctx, "signin:account:x@example.org", now, now.Add(-time.Hour), 5)
				if err != nil {
					t.Error(err)
				}
				if id != 0 {
					granted.Add(1)
				}
			}()
		}
		wg.Wait()
		if granted.Load() != 5 {
			t.Errorf("%d of 40 parallel attempts got through a limit of 5", granted.Load())
		}
	})
}

// TestLocksHoldAcrossProcesses: a named lock taken through one store (one process) is refused to
// another store on the same database until it is given back, on both dialects.
func TestLocksHoldAcrossProcesses(t *testing.T) {
	for _, d := range storetest.Dialects {
		t.Run(string(d), func(t *testing.T) {
			ctx := context.Background()
			loc := storetest.NewDatabase(t, d)
			one, two := storetest.OpenAt(t, loc), storetest.OpenAt(t, loc)
			release, ok, err := one.TryLock(ctx, "match-pass")
			if err != nil || !ok {
				t.Fatalf("the first process could not take the free lock: %v %v", ok, err)
			}
			for _, s := range []*store.Store{one, two} {
				if _, ok, err := s.TryLock(ctx, "match-pass"); err != nil || ok {
					t.Errorf("a held lock was taken again: %v %v", ok, err)
				}
			}
			if _, ok, err := two.TryLock(ctx, "another-lock"); err != nil || !ok {
				t.Errorf("a lock of another name was refused: %v %v", ok, err)
			}
			release()
			again, ok, err := two.TryLock(ctx, "match-pass")
			if err != nil || !ok {
				t.Fatalf("the lock was not given back: %v %v", ok, err)
			}
			again()
		})
	}
}
