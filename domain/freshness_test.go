package domain_test

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coop-exchange/coop/domain"
	"github.com/coop-exchange/coop/domain/store"
	"github.com/coop-exchange/coop/domain/store/storetest"
)

const day = 24 * time.Hour

// freshWorld adds the freshness service to the match world: Bob and Dee each offer lifts, posted
// on 2 March 2026, and Ann's request has a proposal from Bob's offer waiting.
type freshWorld struct {
	*agreeWorld
	fresh    *domain.Freshness
	proposal domain.Match
}

func newFreshWorld(t *testing.T, st *store.Store) *freshWorld {
	t.Helper()
	w := &freshWorld{agreeWorld: newAgreeWorld(t, st)}
	w.fresh = w.freshness(st)
	w.proposal = w.propose(t, w.request, w.bobOffer)
	return w
}

// freshness is a freshness service on st with the world's clock: another process, when st is
// another store on the same database.
func (w *freshWorld) freshness(st *store.Store) *domain.Freshness {
	clock := domain.Clock(func() time.Time { w.mu.Lock(); defer w.mu.Unlock(); return w.now })
	return domain.NewFreshness(st, st, st, w.audit, clock, london, []byte(strings.Repeat("s", 32)))
}

func (w *freshWorld) run(t *testing.T) domain.FreshnessCounts {
	t.Helper()
	c, err := w.fresh.Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func (w *freshWorld) offer(t *testing.T, id int64) domain.Offer {
	t.Helper()
	o, err := w.st.Offer(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return o
}

// notes lists a member's notifications of a kind, newest first.
func (w *freshWorld) notes(t *testing.T, memberID int64, kind string) []domain.Notification {
	t.Helper()
	ns, err := w.st.Notifications(context.Background(), memberID, 100)
	if err != nil {
		t.Fatal(err)
	}
	var out []domain.Notification
	for _, n := range ns {
		if n.Kind == kind {
			out = append(out, n)
		}
	}
	return out
}

// emails counts the outbox's emails of a kind to a member.
func (w *freshWorld) emails(t *testing.T, memberID int64, kind string) int {
	t.Helper()
	msgs, err := w.st.ListOutbox(context.Background(), "", 1000)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, m := range msgs {
		if m.MemberID == memberID && m.Kind == kind {
			n++
		}
	}
	return n
}

// token is the token of the member's latest "still available?" link for an offer.
func (w *freshWorld) token(t *testing.T, memberID, offerID int64) string {
	t.Helper()
	for _, n := range w.notes(t, memberID, domain.NotifyOfferStale) {
		prefix := domain.StillAvailablePath(offerID, "")
		if strings.HasPrefix(n.Link, prefix) {
			return strings.TrimPrefix(n.Link, prefix)
		}
	}
	t.Fatalf("member %d has no still-available link for offer %d", memberID, offerID)
	return ""
}

func refusedLink(t *testing.T, err error, stopped bool, words string) {
	t.Helper()
	var r *domain.LinkRefusedError
	if !errors.As(err, &r) || r.Stopped != stopped || !strings.Contains(r.Message, words) {
		t.Fatalf("got %v, want the link refused (stopped %v) saying %q", err, stopped, words)
	}
}

// TestStaleOfferIsAskedThenPaused follows an offer nobody confirms: asked at 90 days, once, with
// an email; paused 14 days later, its waiting proposal withdrawn and the helper told. An offer
// whose helper answered stays up.
func TestStaleOfferIsAskedThenPaused(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		w := newFreshWorld(t, st)
		bob, dee := w.bobOffer.ID, w.deeOffer.ID

		w.advance(89 * day)
		if c := w.run(t); c != (domain.FreshnessCounts{}) {
			t.Fatalf("at 89 days: %+v, want nothing done", c)
		}
		w.advance(day)
		if c := w.run(t); c.Asked != 2 || c.Paused != 0 {
			t.Fatalf("at 90 days: %+v, want both offers asked about", c)
		}
		asks := w.notes(t, w.bob.ID, domain.NotifyOfferStale)
		if len(asks) != 1 || !strings.Contains(asks[0].Message, "Is your offer of transport and lifts still available?") ||
			!strings.Contains(asks[0].Message, "14 June 2026") || !strings.HasPrefix(asks[0].Link, "/offers/") {
			t.Fatalf("Bob's asks: %+v", asks)
		}
		if n := w.emails(t, w.bob.ID, domain.EmailOfferStillAvailable); n != 1 {
			t.Errorf("%d still-available emails to Bob, want 1", n)
		}
		if o := w.offer(t, bob); o.StaleAskedAt.IsZero() || o.Status != domain.OfferActive {
			t.Errorf("asked offer: %+v", o)
		}

		// Again, the same hour and the next day: nothing more is asked.
		w.advance(time.Hour)
		if c := w.run(t); c != (domain.FreshnessCounts{}) {
			t.Fatalf("run again: %+v, want nothing done", c)
		}
		if n, e := len(w.notes(t, w.bob.ID, domain.NotifyOfferStale)), w.emails(t, w.bob.ID, domain.EmailOfferStillAvailable); n != 1 || e != 1 {
			t.Errorf("after a second run Bob has %d asks and %d emails, want 1 and 1", n, e)
		}

		// Dee answers through her link.
		v, err := w.fresh.ConfirmByLink(ctx, domain.Actor{}, dee, w.token(t, w.dee.ID, dee))
		if err != nil || v.Already || v.What != "transport and lifts" {
			t.Fatalf("Dee confirms: %+v, %v", v, err)
		}
		if o := w.offer(t, dee); !o.StaleAskedAt.IsZero() || !o.ConfirmedAt.Equal(w.fresh0(t)) {
			t.Errorf("confirmed offer: asked %v, confirmed %v", o.StaleAskedAt, o.ConfirmedAt)
		}

		w.advance(13*day - time.Hour)
		if c := w.run(t); c.Paused != 0 {
			t.Fatalf("at 90+13 days: %+v, want nothing paused", c)
		}
		if o := w.offer(t, bob); o.Status != domain.OfferActive {
			t.Fatalf("at 90+13 days Bob's offer is %s", o.Status)
		}
		w.advance(day)
		if c := w.run(t); c.Paused != 1 || c.Asked != 0 {
			t.Fatalf("at 90+14 days: %+v, want Bob's offer paused", c)
		}
		if o := w.offer(t, bob); o.Status != domain.OfferPaused {
			t.Fatalf("Bob's offer is %s, want paused", o.Status)
		}
		if m, err := st.Match(ctx, w.proposal.ID); err != nil || m.Status != domain.MatchCancelled || m.EndReason != domain.WithdrawnOfferStopped {
			t.Errorf("Bob's waiting proposal: %+v, %v; want withdrawn", m, err)
		}
		paused := w.notes(t, w.bob.ID, domain.NotifyOfferPaused)
		if len(paused) != 1 || !strings.Contains(paused[0].Message, "resume it") || paused[0].Link != "/offers/"+strconv.FormatInt(bob, 10) {
			t.Fatalf("Bob's pause notices: %+v", paused)
		}
		if n := w.emails(t, w.bob.ID, domain.EmailOfferPaused); n != 1 {
			t.Errorf("%d paused emails to Bob, want 1", n)
		}
		if o := w.offer(t, dee); o.Status != domain.OfferActive {
			t.Errorf("Dee confirmed, yet her offer is %s", o.Status)
		}
		// Paused once: later runs leave it, and the link no longer works.
		w.advance(day)
		if c := w.run(t); c != (domain.FreshnessCounts{}) {
			t.Fatalf("after pausing: %+v, want nothing done", c)
		}
		_, err = w.fresh.ConfirmByLink(ctx, domain.Actor{}, bob, w.token(t, w.bob.ID, bob))
		refusedLink(t, err, true, "paused")

		// Resuming counts as confirming: it is not asked about again until 90 days on.
		if _, err := w.x.SetOfferStatus(ctx, w.bobA, bob, domain.OfferActive); err != nil {
			t.Fatal(err)
		}
		if o := w.offer(t, bob); !o.StaleAskedAt.IsZero() || !o.ConfirmedAt.Equal(w.fresh0(t)) {
			t.Errorf("resumed offer: asked %v, confirmed %v", o.StaleAskedAt, o.ConfirmedAt)
		}
		w.advance(89 * day)
		if c := w.run(t); c.Asked != 1 { // Dee's, confirmed 15 days before Bob resumed
			t.Fatalf("89 days after resuming: %+v, want only Dee's offer asked about", c)
		}
		if n := len(w.notes(t, w.bob.ID, domain.NotifyOfferStale)); n != 1 {
			t.Errorf("Bob was asked %d times, want once", n)
		}
	})
}

// fresh0 is the world's now as the database keeps it.
func (w *freshWorld) fresh0(t *testing.T) time.Time {
	t.Helper()
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.now.UTC()
}

// TestStillAvailableLink checks the one-click link: reading it changes nothing; it works for its
// offer and its ask only, not once the offer is withdrawn; answering twice is fine. The signed-in
// button is for the helper (or a coordinator), not for other members.
func TestStillAvailableLink(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		w := newFreshWorld(t, st)
		bob, dee := w.bobOffer.ID, w.deeOffer.ID
		w.advance(90 * day)
		w.run(t)
		first := w.token(t, w.bob.ID, bob)

		// Reading the link changes nothing.
		before := w.offer(t, bob)
		v, err := w.fresh.StillAvailableLink(ctx, bob, first)
		if err != nil || v.Already || v.Description != before.Description || !v.PauseOn.Equal(before.StaleAskedAt.Add(14*day)) {
			t.Fatalf("read the link: %+v, %v", v, err)
		}
		if after := w.offer(t, bob); !after.StaleAskedAt.Equal(before.StaleAskedAt) || !after.ConfirmedAt.Equal(before.ConfirmedAt) {
			t.Fatalf("reading the link changed the offer: %+v", after)
		}

		for name, try := range map[string]func() error{
			"tampered": func() error {
				_, err := w.fresh.ConfirmByLink(ctx, domain.Actor{}, bob, first[:len(first)-1]+"0")
				return err
			},
			"another offer's": func() error {
				_, err := w.fresh.ConfirmByLink(ctx, domain.Actor{}, bob, w.token(t, w.dee.ID, dee))
				return err
			},
			"empty": func() error { _, err := w.fresh.StillAvailableLink(ctx, bob, ""); return err },
			"no such offer": func() error {
				_, err := w.fresh.StillAvailableLink(ctx, 999999, first)
				return err
			},
		} {
			err := try()
			var r *domain.LinkRefusedError
			if !errors.As(err, &r) || !strings.Contains(r.Message, "does not work for this offer") {
				t.Errorf("%s token: %v, want refused", name, err)
			}
		}
		if o := w.offer(t, bob); o.StaleAskedAt.IsZero() {
			t.Fatal("a refused link confirmed the offer")
		}

		// The right link confirms, and again says it is done.
		if v, err := w.fresh.ConfirmByLink(ctx, domain.Actor{}, bob, first); err != nil || v.Already {
			t.Fatalf("confirm: %+v, %v", v, err)
		}
		if v, err := w.fresh.ConfirmByLink(ctx, domain.Actor{}, bob, first); err != nil || !v.Already {
			t.Fatalf("confirm twice: %+v, %v; want already done", v, err)
		}
		if got := w.auditActions(t, bob); !strings.Contains(strings.Join(got, ","), domain.AuditOfferConfirm) {
			t.Errorf("audit of the offer: %v", got)
		}

		// Ninety days on it is asked about again: the first link is from an earlier ask.
		w.advance(90 * day)
		w.run(t)
		second := w.token(t, w.bob.ID, bob)
		if second == first {
			t.Fatal("the second ask has the first's token")
		}
		_, err = w.fresh.ConfirmByLink(ctx, domain.Actor{}, bob, first)
		refusedLink(t, err, false, "earlier email")
		if v, err := w.fresh.StillAvailableLink(ctx, bob, second); err != nil || v.Already {
			t.Fatalf("the latest link: %+v, %v", v, err)
		}

		// Changing the offer answers the ask too.
		if _, err := w.x.UpdateOffer(ctx, w.bobA, bob, domain.OfferPatch{Description: ptr("Lifts in a small car; no motorways")}); err != nil {
			t.Fatal(err)
		}
		if v, err := w.fresh.ConfirmByLink(ctx, domain.Actor{}, bob, second); err != nil || !v.Already {
			t.Fatalf("after an edit: %+v, %v; want already done", v, err)
		}

		// A withdrawn offer's link is refused.
		deeLink := w.token(t, w.dee.ID, dee)
		if _, err := w.x.SetOfferStatus(ctx, w.deeA, dee, domain.OfferWithdrawn); err != nil {
			t.Fatal(err)
		}
		_, err = w.fresh.ConfirmByLink(ctx, domain.Actor{}, dee, deeLink)
		refusedLink(t, err, true, "withdrawn")

		// The signed-in button: not for another member; for the helper, and again.
		w.advance(90 * day)
		w.run(t)
		if _, err := w.fresh.Confirm(ctx, w.carlA, bob); !errors.Is(err, domain.ErrForbidden) {
			t.Fatalf("Carl confirms Bob's offer: %v, want forbidden", err)
		}
		if o := w.offer(t, bob); o.StaleAskedAt.IsZero() {
			t.Fatal("Carl's refused confirmation answered the ask")
		}
		if already, err := w.fresh.Confirm(ctx, w.bobA, bob); err != nil || already {
			t.Fatalf("Bob confirms: %v, %v", already, err)
		}
		if already, err := w.fresh.Confirm(ctx, w.bobA, bob); err != nil || !already {
			t.Fatalf("Bob confirms again: %v, %v; want already", already, err)
		}
		if o := w.offer(t, bob); !o.StaleAskedAt.IsZero() || !o.ConfirmedAt.Equal(w.fresh0(t)) {
			t.Errorf("confirmed signed in: %+v", o)
		}
		if _, err := w.fresh.Confirm(ctx, w.deeA, dee); err == nil {
			t.Error("Dee confirmed her withdrawn offer")
		}
	})
}

// TestFreshnessInTwoProcesses runs the job in two processes at once on one database: each offer
// is asked about once, and paused once.
func TestFreshnessInTwoProcesses(t *testing.T) {
	for _, d := range storetest.Dialects {
		t.Run(string(d), func(t *testing.T) {
			loc := storetest.NewDatabase(t, d)
			w := newFreshWorld(t, storetest.OpenAt(t, loc))
			other := w.freshness(storetest.OpenAt(t, loc))
			both := func() domain.FreshnessCounts {
				var (
					wg    sync.WaitGroup
					mu    sync.Mutex
					total domain.FreshnessCounts
				)
				for _, f := range []*domain.Freshness{w.fresh, other} {
					wg.Go(func() {
						c, err := f.Run(context.Background())
						if err != nil {
							t.Error(err)
						}
						mu.Lock()
						total.Asked, total.Paused = total.Asked+c.Asked, total.Paused+c.Paused
						mu.Unlock()
					})
				}
				wg.Wait()
				return total
			}
			w.advance(90 * day)
			if c := both(); c.Asked != 2 {
				t.Fatalf("two processes asked about %d offers, want 2", c.Asked)
			}
			for _, m := range []int64{w.bob.ID, w.dee.ID} {
				if n, e := len(w.notes(t, m, domain.NotifyOfferStale)), w.emails(t, m, domain.EmailOfferStillAvailable); n != 1 || e != 1 {
					t.Errorf("member %d got %d asks and %d emails, want one each", m, n, e)
				}
			}
			w.advance(14 * day)
			if c := both(); c.Paused != 2 {
				t.Fatalf("two processes paused %d offers, want 2", c.Paused)
			}
			if n := len(w.notes(t, w.bob.ID, domain.NotifyOfferPaused)); n != 1 {
				t.Errorf("Bob was told %d times of the pause, want once", n)
			}
		})
	}
}

// TestCheckDueReminders tells each active member once, 30 days ahead, that their latest check is
// due for renewal; not members who have been suspended, nor checks already renewed or past.
func TestCheckDueReminders(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		w := newFreshWorld(t, st) // 2 March 2026
		record := func(m domain.Member, issued, expires string) {
			t.Helper()
			if _, err := w.safeguarding().RecordCheck(ctx, w.coord, m.ID, dbsInput(issued, expires)); err != nil {
				t.Fatal(err)
			}
		}
		record(w.ann, "2023-04-02", "2026-04-02")  // due in 31 days
		record(w.bob, "2023-04-01", "2026-04-01")  // due in 30 days, but Bob is suspended
		record(w.carl, "2023-04-01", "2026-04-01") // due in 30 days, but renewed:
		record(w.carl, "2026-02-01", "2029-02-01")
		record(w.dee, "2023-02-01", "2026-02-01") // already past
		if _, err := w.membership.Suspend(ctx, w.coord, w.bob.ID, "Asked for a break"); err != nil {
			t.Fatal(err)
		}
		if c := w.run(t); c.ChecksDue != 0 {
			t.Fatalf("31 days ahead: %+v, want nobody told", c)
		}
		w.advance(day)
		if c := w.run(t); c.ChecksDue != 1 {
			t.Fatalf("30 days ahead: %+v, want Ann told", c)
		}
		due := w.notes(t, w.ann.ID, domain.NotifyCheckDue)
		if len(due) != 1 || due[0].Link != "/account" || !strings.Contains(due[0].Message, "Your DBS check needs renewing by 2 April 2026") {
			t.Fatalf("Ann's notices: %+v", due)
		}
		if n := w.emails(t, w.ann.ID, domain.EmailCheckDue); n != 1 {
			t.Errorf("%d check-due emails to Ann, want 1", n)
		}
		for _, m := range []domain.Member{w.bob, w.carl, w.dee} {
			if n := len(w.notes(t, m.ID, domain.NotifyCheckDue)); n != 0 {
				t.Errorf("%s was told %d times, want never", m.Name, n)
			}
		}
		w.advance(day)
		w.run(t)
		w.advance(20 * day)
		w.run(t)
		if n := len(w.notes(t, w.ann.ID, domain.NotifyCheckDue)); n != 1 {
			t.Errorf("Ann was told %d times, want once", n)
		}
	})
}

func (w *freshWorld) safeguarding() *domain.Safeguarding {
	clock := domain.Clock(func() time.Time { w.mu.Lock(); defer w.mu.Unlock(); return w.now })
	return domain.NewSafeguarding(w.st, w.st, w.audit, clock, london)
}
