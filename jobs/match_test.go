package jobs_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coop-exchange/coop/domain"
	"github.com/coop-exchange/coop/domain/matching"
	"github.com/coop-exchange/coop/domain/store"
	"github.com/coop-exchange/coop/domain/store/storetest"
	"github.com/coop-exchange/coop/jobs"
)

var london = mustLoad("Europe/London")

func mustLoad(name string) *time.Location {
	loc, err := time.LoadLocation(name)
	if err != nil {
		panic(err)
	}
	return loc
}

// town is a small co-op on a store: a coordinator, a requester and helpers, with a clock the
// test moves.
type town struct {
	t        *testing.T
	st       *store.Store
	x        *domain.Exchange
	members  *domain.Membership
	catalog  *domain.Catalogue
	matches  *domain.Matches
	matcher  *jobs.Matcher
	log      *bytes.Buffer
	mu       sync.Mutex
	now      time.Time
	coord    domain.Actor
	areas    map[string]int64
	ann      domain.Actor // asks for support
	bob, cat domain.Actor // offer lifts: Bob nearby, Cat far away
}

type syncWriter struct {
	mu  *sync.Mutex
	buf *bytes.Buffer
}

func (w syncWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.Write(p)
}

func (w *town) clock() time.Time { w.mu.Lock(); defer w.mu.Unlock(); return w.now }

func (w *town) setNow(t time.Time) { w.mu.Lock(); defer w.mu.Unlock(); w.now = t }

func (w *town) logs() string { w.mu.Lock(); defer w.mu.Unlock(); return w.log.String() }

// at is a local time in London in March 2026 (winter time; the clocks go forward on the 29th).
func at(day, hour, minute int) time.Time { return time.Date(2026, 3, day, hour, minute, 0, 0, london) }

func newTown(t *testing.T, st *store.Store) *town {
	t.Helper()
	ctx := context.Background()
	w := &town{t: t, st: st, now: at(2, 9, 0), log: &bytes.Buffer{}, areas: map[string]int64{}}
	clock := domain.Clock(w.clock)
	audit := domain.NewAudit(st, clock)
	limiter := domain.NewRateLimiter(st, clock)
	cheap := domain.PasswordHasher{Params: domain.PasswordParams{Memory: 1024, Time: 1, Threads: 1}}
	w.members = domain.NewMembership(st, st, st, st, audit, limiter, cheap, clock)
	catalogue := domain.NewCatalogue(st, st, st, audit, clock)
	w.catalog = catalogue
	w.x = domain.NewExchange(st, st, st, st, st, audit, clock, london)
	w.matches = domain.NewMatches(st)
	log := slog.New(slog.NewTextHandler(syncWriter{&w.mu, w.log}, &slog.HandlerOptions{Level: slog.LevelDebug}))
	w.matcher = jobs.NewMatcher(st, st, london, w.clock, log, nil)

	system := domain.SystemActor("test")
	for _, a := range []struct {
		name, code string
		lat, lon   float64
	}{{"Bridge End", "BE1", 53.3811, -1.4701}, {"Riverside", "RV2", 53.3920, -1.4570}, {"Far Away", "FA9", 53.60, -1.10}} {
		area, err := catalogue.CreateArea(ctx, system, domain.AreaInput{Name: a.name, Code: a.code, Lat: &a.lat, Lon: &a.lon})
		if err != nil {
			t.Fatal(err)
		}
		w.areas[a.code] = area.ID
	}
	add := func(name, email, area string, role domain.Role) domain.Actor {
		m, err := w.members.AddMember(ctx, system, domain.NewMemberInput{Name: name, Email: email, Phone: "07700 900123",
			AreaID: w.areas[area], Role: role, ConsentRecorded: true})
		if err != nil {
			t.Fatal(err)
		}
		return domain.Actor{ID: m.ID, Name: m.Name, Role: m.Role}
	}
	w.coord = add("Cora Ward", "cora@example.org", "BE1", domain.RoleCoordinator)
	w.ann = add("Ann Lee", "ann@example.org", "BE1", domain.RoleMember)
	w.bob = add("Bob Okoro", "bob@example.org", "RV2", domain.RoleMember)
	w.cat = add("Cat Price", "cat@example.org", "FA9", domain.RoleMember)
	return w
}

func ptr[T any](v T) *T { return &v }

// offerLifts posts an offer of lifts on Tuesdays 09:00-17:00 within 5 km.
func (w *town) offerLifts(by domain.Actor) domain.Offer {
	w.t.Helper()
	o, err := w.x.PostOffer(context.Background(), by, domain.OfferInput{Category: "transport", Description: "Lifts in a small car",
		Slots: []domain.SlotInput{{Day: "tue", From: "09:00", To: "17:00"}}, RadiusKm: ptr(5.0), MaxPerWeek: ptr(3)})
	if err != nil {
		w.t.Fatal(err)
	}
	return o
}

// ask posts a request of Ann's in a category, in Bridge End, from start for an hour.
func (w *town) ask(category string, start time.Time, urgency string) domain.Request {
	w.t.Helper()
	rs, err := w.x.AskForSupport(context.Background(), w.ann, domain.RequestInput{Category: category, Description: "A lift to the surgery",
		Start: start, End: start.Add(time.Hour), Urgency: urgency, AreaID: w.areas["BE1"]})
	if err != nil {
		w.t.Fatal(err)
	}
	return rs[0]
}

func (w *town) pass() jobs.PassReport {
	w.t.Helper()
	rep, err := w.matcher.Pass(context.Background(), jobs.PassOptions{})
	if err != nil {
		w.t.Fatal(err)
	}
	if !rep.Ran {
		w.t.Fatal("the pass did not run")
	}
	return rep
}

// live returns the live matches of a request.
func (w *town) live(requestID int64) []domain.Match {
	w.t.Helper()
	all, err := w.st.RequestMatches(context.Background(), requestID)
	if err != nil {
		w.t.Fatal(err)
	}
	var out []domain.Match
	for _, m := range all {
		if m.Status.Live() {
			out = append(out, m)
		}
	}
	return out
}

func (w *town) unmatched(code string) []domain.UnmatchedListing {
	w.t.Helper()
	page, err := w.matches.Unmatched(context.Background(), w.coord, domain.MatchListQuery{Code: code})
	if err != nil {
		w.t.Fatal(err)
	}
	return page.Items
}

func TestPassProposesExplainsAndTellsCoordinators(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		w := newTown(t, st)
		w.offerLifts(w.bob)
		w.offerLifts(w.cat)
		first := w.ask("transport", at(10, 10, 0), "routine")
		second := w.ask("transport", at(10, 14, 0), "urgent")
		sitting := w.ask("sitting", at(11, 10, 0), "routine")

		rep := w.pass()
		if rep.Proposed != 1 || rep.Unmatched != 2 || rep.RequestsConsidered != 3 || rep.HelpersConsidered != 2 {
			t.Fatalf("pass: %+v", rep.MatchPass)
		}
		// Bob can answer one proposal at a time: the urgent request gets him.
		live := w.live(second.ID)
		if len(live) != 1 || live[0].HelperID != w.bob.ID || live[0].Status != domain.MatchProposed || live[0].Source != domain.MatchAuto {
			t.Fatalf("the urgent request's matches: %+v", live)
		}
		if got := strings.Join(live[0].Reasons, "; "); !strings.Contains(got, "1.5 km away") || !strings.Contains(got, "free Tuesdays 09:00–17:00") {
			t.Errorf("reasons: %q", got)
		}
		if live[0].PassID != rep.ID || live[0].Score <= 0 {
			t.Errorf("proposal: %+v", live[0])
		}
		if len(w.live(first.ID)) != 0 {
			t.Error("the routine request got a proposal too: Bob would have two to answer")
		}
		// Each request left says why, in words, and the coordinators' list counts them.
		taken := w.unmatched(string(matching.TakenByMoreUrgent))
		if len(taken) != 1 || taken[0].Request.ID != first.ID || !strings.Contains(taken[0].Reason, "more urgent request") {
			t.Errorf("taken by the urgent one: %+v", taken)
		}
		none := w.unmatched(string(matching.NoOffers))
		if len(none) != 1 || none[0].Request.ID != sitting.ID || none[0].Reason != "nobody offers sitting with a child or an older person at the moment" {
			t.Errorf("nobody offers sitting: %+v", none)
		}
		counts, err := w.matches.UnmatchedCounts(ctx, w.coord, 0, 0)
		if err != nil || counts[string(matching.TakenByMoreUrgent)] != 1 || counts[string(matching.NoOffers)] != 1 {
			t.Errorf("counts %v (%v)", counts, err)
		}
		notices, err := w.matches.Notices(ctx, w.coord, 5)
		if err != nil || len(notices) != 1 || notices[0].Message != "The matcher proposed 1 match (1 for urgent requests) for you to review." ||
			notices[0].Link != jobs.MatchPage {
			t.Errorf("notices %+v (%v)", notices, err)
		}
		proposals, err := w.matches.Proposals(ctx, w.coord, domain.MatchListQuery{})
		if err != nil || len(proposals.Items) != 1 || proposals.Items[0].HelperName != "Bob Okoro" || proposals.Items[0].RequesterName != "Ann Lee" {
			t.Errorf("proposals %+v (%v)", proposals, err)
		}
		if _, err := w.matches.Proposals(ctx, w.ann, domain.MatchListQuery{}); !errors.Is(err, domain.ErrForbidden) {
			t.Errorf("a member listed proposals: %v", err)
		}

		// A second pass with nothing changed proposes nothing new and tells nobody anything.
		since, proposal := taken[0].Since, live[0].ID
		w.setNow(w.clock().Add(5 * time.Minute))
		again := w.pass()
		if again.Proposed != 0 {
			t.Errorf("second pass proposed %d", again.Proposed)
		}
		if live := w.live(second.ID); len(live) != 1 || live[0].ID != proposal {
			t.Errorf("after the second pass: %+v", live)
		}
		if notices, _ := w.matches.Notices(ctx, w.coord, 5); len(notices) != 1 {
			t.Errorf("a pass with nothing new added a notice: %+v", notices)
		}
		// Now Bob is waiting to answer, which is why the routine request is not matched.
		busy := w.unmatched(string(matching.HelpersBusy))
		if len(busy) != 1 || busy[0].Request.ID != first.ID || busy[0].Since.Equal(since) {
			t.Errorf("after the second pass, the routine request: %+v", busy)
		}
		if none := w.unmatched(string(matching.NoOffers)); len(none) != 1 || !none[0].Since.Equal(since) {
			t.Errorf("an unchanged reason lost when it was first given: %+v", none)
		}
		passes, err := w.matches.LatestPasses(ctx, w.coord, 10)
		if err != nil || len(passes) != 2 || passes[0].ID != again.ID || passes[1].UnmatchedReasons[string(matching.NoOffers)] != 1 {
			t.Errorf("passes %+v (%v)", passes, err)
		}
	})
}

func TestPassExpiresRequestsWhoseTimeHasCome(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		w := newTown(t, st)
		w.offerLifts(w.bob)
		soon := w.ask("transport", at(3, 10, 0), "urgent")
		later := w.ask("transport", at(10, 10, 0), "routine")
		if rep := w.pass(); rep.Proposed != 1 || len(w.live(soon.ID)) != 1 {
			t.Fatalf("first pass: %+v", rep.MatchPass)
		}
		// Nobody approved it in time: when its start has passed, the request expires and its
		// proposal is withdrawn, which frees Bob for the next.
		w.setNow(at(3, 10, 0))
		rep := w.pass()
		if rep.Expired != 1 || rep.Proposed != 1 {
			t.Fatalf("second pass: %+v", rep.MatchPass)
		}
		r, err := st.Request(ctx, soon.ID)
		if err != nil || r.Status != domain.RequestExpired {
			t.Errorf("the past request is %s (%v)", r.Status, err)
		}
		ms, _ := st.RequestMatches(ctx, soon.ID)
		if len(ms) != 1 || ms[0].Status != domain.MatchCancelled || ms[0].EndReason != domain.WithdrawnRequestExpired {
			t.Errorf("the past request's proposal: %+v", ms)
		}
		if live := w.live(later.ID); len(live) != 1 || live[0].HelperID != w.bob.ID {
			t.Errorf("the later request: %+v", live)
		}
		notices, _ := w.matches.Notices(ctx, w.coord, 1)
		if len(notices) != 1 || notices[0].Message != "The matcher proposed 1 match for you to review. 1 request passed its start time without a helper and expired." {
			t.Errorf("notice: %+v", notices)
		}
	})
}

// failingStore fails when the pass writes why requests are unmatched: after it has expired
// requests, recorded the pass and written its proposals.
type failingStore struct{ *store.Store }

func (failingStore) SaveUnmatched(context.Context, int64, []matching.Unmatched, time.Time) error {
	return errors.New("the disk is full")
}

func TestAFailedPassWritesNothing(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		w := newTown(t, st)
		w.offerLifts(w.bob)
		past := w.ask("transport", at(3, 10, 0), "routine")
		next := w.ask("transport", at(10, 10, 0), "routine")
		w.setNow(at(3, 12, 0))
		broken := jobs.NewMatcher(failingStore{st}, st, london, w.clock, slog.New(slog.DiscardHandler), nil)
		if _, err := broken.Pass(ctx, jobs.PassOptions{}); err == nil || !strings.Contains(err.Error(), "the disk is full") {
			t.Fatalf("the failing pass said %v", err)
		}
		if r, _ := st.Request(ctx, past.ID); r.Status != domain.RequestOpen {
			t.Errorf("a failed pass expired a request: %s", r.Status)
		}
		if len(w.live(next.ID)) != 0 {
			t.Error("a failed pass left a proposal")
		}
		if _, err := st.LatestPass(ctx); !errors.Is(err, domain.ErrNotFound) {
			t.Errorf("a failed pass was recorded: %v", err)
		}
		// The next pass starts clean and does it all.
		rep := w.pass()
		if rep.Expired != 1 || rep.Proposed != 1 || len(w.live(next.ID)) != 1 {
			t.Errorf("the pass after: %+v", rep.MatchPass)
		}
	})
}

func TestDryRunWritesNothing(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		w := newTown(t, st)
		w.offerLifts(w.bob)
		r := w.ask("transport", at(10, 10, 0), "routine")
		w.ask("transport", at(2, 10, 0), "routine") // starts an hour after now...
		w.setNow(at(2, 11, 0))                      // ...and now it has started
		for _, greedy := range []bool{false, true} {
			rep, err := w.matcher.Pass(ctx, jobs.PassOptions{DryRun: true, Greedy: greedy})
			if err != nil || !rep.Ran || rep.Proposed != 1 || rep.Expired != 1 || len(rep.Proposals) != 1 || rep.Proposals[0].RequestID != r.ID {
				t.Fatalf("dry run (greedy %v): %+v %+v (%v)", greedy, rep.MatchPass, rep.Proposals, err)
			}
		}
		if len(w.live(r.ID)) != 0 {
			t.Error("a dry run wrote a proposal")
		}
		if _, err := st.LatestPass(ctx); !errors.Is(err, domain.ErrNotFound) {
			t.Errorf("a dry run was recorded: %v", err)
		}
		if _, err := w.matcher.Pass(ctx, jobs.PassOptions{Greedy: true}); err == nil {
			t.Error("the greedy baseline wrote proposals")
		}
	})
}

func TestHelperWithoutALocationIsReported(t *testing.T) {
	storetest.ForEachDialectWithExec(t, func(t *testing.T, st *store.Store, exec storetest.Exec) {
		w := newTown(t, st)
		w.offerLifts(w.bob)
		// Bob's area was taken off his record by hand: no distance to him can be measured.
		exec("UPDATE members SET area_id = NULL WHERE id = ?", w.bob.ID)
		r := w.ask("transport", at(10, 10, 0), "routine")
		rep := w.pass()
		if rep.HelpersUnlocated != 1 || rep.Proposed != 0 || rep.Unmatched != 1 {
			t.Fatalf("pass: %+v", rep.MatchPass)
		}
		u := w.unmatched(string(matching.HelpersUnlocated))
		if len(u) != 1 || u[0].Request.ID != r.ID || !strings.Contains(u[0].Reason, "one helper offering it has no location") {
			t.Errorf("unmatched: %+v", u)
		}
	})
}

func TestChangesWithdrawProposals(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		w := newTown(t, st)
		offer := w.offerLifts(w.bob)
		r := w.ask("transport", at(10, 10, 0), "routine")
		w.pass()
		// A new private note changes nothing a helper was chosen for.
		if _, err := w.x.UpdateRequest(ctx, w.ann, r.ID, domain.RequestPatch{PrivateNotes: ptr("Ring the bell twice")}); err != nil {
			t.Fatal(err)
		}
		if len(w.live(r.ID)) != 1 {
			t.Fatal("a private note withdrew the proposal")
		}
		// A new time does: the next pass looks again.
		start := at(10, 15, 0)
		if _, err := w.x.UpdateRequest(ctx, w.ann, r.ID, domain.RequestPatch{Start: &start, End: ptr(start.Add(time.Hour))}); err != nil {
			t.Fatal(err)
		}
		ms, _ := st.RequestMatches(ctx, r.ID)
		if len(ms) != 1 || ms[0].Status != domain.MatchCancelled || ms[0].EndReason != domain.WithdrawnRequestChanged {
			t.Fatalf("after a new time: %+v", ms)
		}
		if rep := w.pass(); rep.Proposed != 1 {
			t.Fatalf("the pass after the change: %+v", rep.MatchPass)
		}
		// Pausing the offer withdraws what was proposed from it; so does suspending the helper.
		if _, err := w.x.SetOfferStatus(ctx, w.bob, offer.ID, domain.OfferPaused); err != nil {
			t.Fatal(err)
		}
		if len(w.live(r.ID)) != 0 {
			t.Fatal("a paused offer's proposal stayed")
		}
		if _, err := w.x.SetOfferStatus(ctx, w.bob, offer.ID, domain.OfferActive); err != nil {
			t.Fatal(err)
		}
		w.pass()
		if _, err := w.members.Suspend(ctx, w.coord, w.bob.ID, "A concern is being looked into"); err != nil {
			t.Fatal(err)
		}
		if len(w.live(r.ID)) != 0 {
			t.Fatal("a suspended helper's proposal stayed")
		}
		if rep := w.pass(); rep.Proposed != 0 || rep.HelpersConsidered != 0 {
			t.Errorf("a suspended helper was considered: %+v", rep.MatchPass)
		}
		if _, err := w.members.Reinstate(ctx, w.coord, w.bob.ID); err != nil {
			t.Fatal(err)
		}
		// Moving the centre of the helper's area changes the distance: withdrawn. So is a
		// proposal in a category that comes to need a check.
		w.pass()
		if _, err := w.catalog.UpdateArea(ctx, w.coord, w.areas["RV2"], domain.AreaPatch{Lat: ptr(53.3925)}); err != nil {
			t.Fatal(err)
		}
		if ms, _ := st.RequestMatches(ctx, r.ID); len(w.live(r.ID)) != 0 || ms[len(ms)-1].EndReason != domain.WithdrawnAreaMoved {
			t.Fatalf("after the helper's area moved: %+v", ms)
		}
		w.pass()
		transport := int64(0)
		cats, _ := w.catalog.Categories(ctx)
		for _, c := range cats {
			if c.Slug == "transport" {
				transport = c.ID
			}
		}
		if _, err := w.catalog.UpdateCategory(ctx, w.coord, transport, domain.CategoryPatch{RequiresCheck: ptr(true)}); err != nil {
			t.Fatal(err)
		}
		if len(w.live(r.ID)) != 0 {
			t.Fatal("a proposal without a check stayed when its category came to need one")
		}
		if rep := w.pass(); rep.Proposed != 0 || rep.UnmatchedReasons[string(matching.NoneChecked)] != 1 {
			t.Errorf("the pass after lifts came to need a check: %+v", rep.MatchPass)
		}
		if _, err := w.catalog.UpdateCategory(ctx, w.coord, transport, domain.CategoryPatch{RequiresCheck: ptr(false)}); err != nil {
			t.Fatal(err)
		}
		// Cancelling the request withdraws its proposal too.
		w.pass()
		if _, err := w.x.CancelRequest(ctx, w.ann, r.ID, "Found a lift with my neighbour", false); err != nil {
			t.Fatal(err)
		}
		if len(w.live(r.ID)) != 0 {
			t.Fatal("a cancelled request's proposal stayed")
		}
	})
}

func TestOnlyOnePassAtATime(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		w := newTown(t, st)
		w.offerLifts(w.bob)
		r := w.ask("transport", at(10, 10, 0), "routine")
		// Another process (on PostgreSQL, another connection) is running a pass.
		release, ok, err := st.TryLock(ctx, "match-pass")
		if err != nil || !ok {
			t.Fatalf("take the lock: %v %v", ok, err)
		}
		rep, err := w.matcher.Pass(ctx, jobs.PassOptions{})
		if err != nil || rep.Ran {
			t.Fatalf("a pass ran while another held the lock: %+v (%v)", rep, err)
		}
		if !strings.Contains(w.logs(), "match pass skipped: another process is running one") {
			t.Errorf("the skip was not logged:\n%s", w.logs())
		}
		if len(w.live(r.ID)) != 0 {
			t.Error("the skipped pass proposed")
		}
		release()
		if rep := w.pass(); rep.Proposed != 1 {
			t.Errorf("the pass after the lock was given back: %+v", rep.MatchPass)
		}
	})
}

// racyStore makes a change after the pass has read what it needs and before it writes.
type racyStore struct {
	*store.Store
	between func()
}

func (r racyStore) MatchInput(ctx context.Context, now time.Time) (matching.Input, error) {
	in, err := r.Store.MatchInput(ctx, now)
	r.between()
	return in, err
}

// TestChangesWhileAPassRunsAreNotOverwritten: when the request, the offer or either person
// changes while a pass is solving, the pass does not write a proposal resting on what was.
func TestChangesWhileAPassRunsAreNotOverwritten(t *testing.T) {
	ctx := context.Background()
	changes := []struct {
		name   string
		change func(w *town, offer domain.Offer, r domain.Request) error
	}{
		{"the request moves to a Wednesday", func(w *town, _ domain.Offer, r domain.Request) error {
			start := at(11, 10, 0)
			_, err := w.x.UpdateRequest(ctx, w.ann, r.ID, domain.RequestPatch{Start: &start, End: ptr(start.Add(time.Hour))})
			return err
		}},
		{"the offer moves to Mondays", func(w *town, offer domain.Offer, _ domain.Request) error {
			_, err := w.x.UpdateOffer(ctx, w.bob, offer.ID, domain.OfferPatch{Slots: &[]domain.SlotInput{{Day: "mon", From: "09:00", To: "17:00"}}})
			return err
		}},
		{"the offer is paused", func(w *town, offer domain.Offer, _ domain.Request) error {
			_, err := w.x.SetOfferStatus(ctx, w.bob, offer.ID, domain.OfferPaused)
			return err
		}},
		{"the helper is suspended", func(w *town, _ domain.Offer, _ domain.Request) error {
			_, err := w.members.Suspend(ctx, w.coord, w.bob.ID, "A concern is being looked into")
			return err
		}},
		{"the requester is suspended", func(w *town, _ domain.Offer, _ domain.Request) error {
			_, err := w.members.Suspend(ctx, w.coord, w.ann.ID, "A concern is being looked into")
			return err
		}},
		{"the request is cancelled", func(w *town, _ domain.Offer, r domain.Request) error {
			_, err := w.x.CancelRequest(ctx, w.ann, r.ID, "Sorted it out myself", false)
			return err
		}},
	}
	for _, c := range changes {
		t.Run(c.name, func(t *testing.T) {
			storetest.ForEachDialect(t, func(t *testing.T, st *store.Store) {
				w := newTown(t, st)
				offer := w.offerLifts(w.bob)
				other := w.ask("transport", at(17, 10, 0), "routine") // untouched, for contrast
				r := w.ask("transport", at(10, 10, 0), "urgent")
				racy := racyStore{Store: st, between: func() {
					w.setNow(w.clock().Add(time.Second)) // the change comes after the pass has read
					if err := c.change(w, offer, r); err != nil {
						t.Fatal(err)
					}
				}}
				var log bytes.Buffer
				m := jobs.NewMatcher(racy, st, london, w.clock, slog.New(slog.NewTextHandler(&log, nil)), nil)
				rep, err := m.Pass(ctx, jobs.PassOptions{})
				if err != nil {
					t.Fatal(err)
				}
				if live := w.live(r.ID); len(live) != 0 {
					t.Errorf("a proposal was written from what changed: %+v", live)
				}
				if rep.Proposed != 0 || len(rep.Proposals) != 0 || !strings.Contains(log.String(), "some proposals were not written") {
					t.Errorf("the pass reports %d proposals (%+v); log:\n%s", rep.Proposed, rep.Proposals, log.String())
				}
				if len(w.live(other.ID)) != 0 {
					t.Error("the pass proposed Bob twice")
				}
			})
		})
	}
}
