package store_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/coop-exchange/coop/domain"
	"github.com/coop-exchange/coop/domain/store"
	"github.com/coop-exchange/coop/domain/store/storetest"
)

// TestReplaceMemberPasswordOnlyOnce checks that a password is replaced only while the one it was
// read as is still stored: the second of two changes made from the same reading is a conflict.
func TestReplaceMemberPasswordOnlyOnce(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		t0 := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
		ann := addMember(t, s, "Ann Example", "ann@example.org", t0)
		if err := s.ReplaceMemberPassword(ctx, ann.ID, "", "first", t0); err != nil {
			t.Fatalf("setting a first password: %v", err)
		}
		if err := s.ReplaceMemberPassword(ctx, ann.ID, "", "second", t0); !errors.Is(err, domain.ErrConflict) {
			t.Errorf("replacing a password that has changed: %v, want ErrConflict", err)
		}
		if m, err := s.Member(ctx, ann.ID); err != nil || m.PasswordHash != "first" {
			t.Errorf("stored hash %q (%v), want the first", m.PasswordHash, err)
		}
		if err := s.ReplaceMemberPassword(ctx, ann.ID+1000, "", "x", t0); !errors.Is(err, domain.ErrNotFound) {
			t.Errorf("a member who does not exist: %v, want ErrNotFound", err)
		}
	})
}
