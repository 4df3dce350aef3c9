package domain_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coop-exchange/coop/domain"
	"github.com/coop-exchange/coop/domain/matching"
	"github.com/coop-exchange/coop/domain/store"
	"github.com/coop-exchange/coop/domain/store/storetest"
)

// agreeWorld adds the match life cycle to the exchange world: Ann asks, Bob and Dee offer
// lifts, Carl is a neighbour with no part in anything.
type agreeWorld struct {
	*exchangeWorld
	ag           *domain.Agreements
	contrib      *domain.Contributions
	notes        *domain.Notifications
	carl, dee    domain.Member
	carlA, deeA  domain.Actor
	coord2       domain.Actor
	bobOffer     domain.Offer
	deeOffer     domain.Offer
	request      domain.Request // Ann's, Thursday 5 March 14:00–17:00
	requestNotes string
}

func newAgreeWorld(t *testing.T, st *store.Store) *agreeWorld {
	t.Helper()
	ctx := context.Background()
	w := &agreeWorld{exchangeWorld: newExchangeWorld(t, st)}
	clock := domain.Clock(func() time.Time { w.mu.Lock(); defer w.mu.Unlock(); return w.now })
	w.ag = domain.NewAgreements(st, st, st, st, st, matching.NewRanker(st, london), st, w.audit, clock, london, 0)
	w.contrib = domain.NewContributions(st, st, w.audit, clock, london)
	w.notes = domain.NewNotifications(st, clock)
	w.carl = w.add(t, w.coord, "Carl Stone", "carl@example.org", domain.RoleMember)
	w.dee = w.add(t, w.coord, "Dee Patel", "dee@example.org", domain.RoleMember)
	w.carlA = domain.Actor{ID: w.carl.ID, Name: w.carl.Name, Role: domain.RoleMember}
	w.deeA = domain.Actor{ID: w.dee.ID, Name: w.dee.Name, Role: domain.RoleMember}
	c2 := w.add(t, w.admin, "Kit Coordinator", "kit@example.org", domain.RoleCoordinator)
	w.coord2 = domain.Actor{ID: c2.ID, Name: c2.Name, Role: c2.Role}
	var err error
	thursday := domain.SlotInput{Day: "thu", From: "13:00", To: "18:00"}
	if w.bobOffer, err = w.x.PostOffer(ctx, w.bobA, lifts(thursday)); err != nil {
		t.Fatal(err)
	}
	if w.deeOffer, err = w.x.PostOffer(ctx, w.deeA, lifts(thursday)); err != nil {
		t.Fatal(err)
	}
	w.requestNotes = "Flat 2, ring twice; wheelchair in the hall"
	reqs, err := w.x.AskForSupport(ctx, w.annA, domain.RequestInput{Category: "transport", Description: "A lift to the eye clinic and back",
		PrivateNotes: w.requestNotes, Start: at(5, 14, 0), End: at(5, 17, 0), Urgency: "routine"})
	if err != nil {
		t.Fatal(err)
	}
	w.request = reqs[0]
	return w
}

// propose writes a proposal as the matcher would.
func (w *agreeWorld) propose(t *testing.T, r domain.Request, o domain.Offer) domain.Match {
	t.Helper()
	now := w.ag.Now()
	m := domain.Match{RequestID: r.ID, OfferID: o.ID, HelperID: o.MemberID, Source: domain.MatchAuto, Status: domain.MatchProposed,
		Score: 60, Reasons: []string{"1.2 km away", "free Thursdays 13:00–18:00"}, CreatedAt: now, UpdatedAt: now}
	if err := w.st.CreateMatch(context.Background(), &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func (w *agreeWorld) unread(t *testing.T, who domain.Actor) []domain.Notification {
	t.Helper()
	ns, err := w.notes.List(context.Background(), who, 50)
	if err != nil {
		t.Fatal(err)
	}
	var out []domain.Notification
	for _, n := range ns {
		if n.ReadAt.IsZero() {
			out = append(out, n)
		}
	}
	if err := w.notes.MarkRead(context.Background(), who, 0); err != nil {
		t.Fatal(err)
	}
	return out
}

func wantConflict(t *testing.T, err error, words string) {
	t.Helper()
	var c *domain.ConflictError
	if !errors.As(err, &c) {
		t.Fatalf("got %v, want a conflict saying %q", err, words)
	}
	if !strings.Contains(c.Message, words) {
		t.Fatalf("conflict says %q, want it to say %q", c.Message, words)
	}
}

func wantIs(t *testing.T, err, target error) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Fatalf("got %v, want %v", err, target)
	}
}

func (w *agreeWorld) requestStatus(t *testing.T) domain.RequestStatus {
	t.Helper()
	r, err := w.st.Request(context.Background(), w.request.ID)
	if err != nil {
		t.Fatal(err)
	}
	return r.Status
}

func TestMatchFromProposalToContribution(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		w := newAgreeWorld(t, st)
		m := w.propose(t, w.request, w.bobOffer)

		// Before approval, only coordinators see or move it.
		for _, who := range []domain.Actor{w.annA, w.bobA, w.carlA} {
			_, err := w.ag.Approve(ctx, who, m.ID)
			wantIs(t, err, domain.ErrForbidden)
			_, err = w.ag.View(ctx, who, m.ID)
			wantIs(t, err, domain.ErrNotFound)
		}
		// Bob wants no emails about proposals; Ann does (the default).
		if err := st.SetEmailChoices(ctx, w.bob.ID, map[string]bool{domain.EmailMatchProposed: false}, w.ag.Now()); err != nil {
			t.Fatal(err)
		}
		approved, err := w.ag.Approve(ctx, w.coord, m.ID)
		if err != nil {
			t.Fatal(err)
		}
		if approved.Status != domain.MatchApproved || !approved.AnswerBy.Equal(w.ag.Now().Add(48*time.Hour)) {
			t.Fatalf("approved: %s, answer by %v", approved.Status, approved.AnswerBy)
		}
		_, err = w.ag.Approve(ctx, w.coord2, m.ID)
		wantConflict(t, err, "waiting for both people")
		for _, who := range []domain.Actor{w.annA, w.bobA} {
			if ns := w.unread(t, who); len(ns) != 1 || ns[0].Kind != domain.NotifyProposal || !strings.Contains(ns[0].Message, "accept or decline") {
				t.Errorf("%s was told %+v", who.Name, ns)
			}
		}

		mail, err := st.ListOutbox(ctx, "", 10)
		if err != nil {
			t.Fatal(err)
		}
		if len(mail) != 1 || mail[0].Recipient != w.ann.Email || mail[0].Kind != domain.EmailMatchProposed || !strings.Contains(string(mail[0].Payload), "transport and lifts") {
			t.Errorf("emails queued on approval: %+v", mail)
		}

		// Until both accept, neither sees the other's contact details, nor the helper the notes.
		v, err := w.ag.View(ctx, w.bobA, m.ID)
		if err != nil {
			t.Fatal(err)
		}
		if v.Contact || v.Requester.Phone != "" || v.Requester.Email != "" || v.Request.PrivateNotes != "" || v.Requester.Name != "Ann" {
			t.Errorf("before agreement the helper sees %+v and notes %q", v.Requester, v.Request.PrivateNotes)
		}
		if !v.CanAnswer || v.CanMarkDone {
			t.Errorf("helper may answer %v, mark done %v", v.CanAnswer, v.CanMarkDone)
		}
		mine, err := w.ag.MemberMatches(ctx, w.annA, w.ann.ID, 0, 10)
		if err != nil || len(mine) != 1 || mine[0].HelperName != "Bob" {
			t.Errorf("before agreement the requester's list names the helper %+v (%v)", mine, err)
		}
		theirs, err := w.ag.MemberMatches(ctx, w.bobA, w.bob.ID, 0, 10)
		if err != nil || len(theirs) != 1 || theirs[0].RequesterName != "Ann" || theirs[0].Request.PrivateNotes != "" {
			t.Errorf("before agreement the helper's list shows %+v (%v)", theirs, err)
		}
		_, err = w.ag.MemberMatches(ctx, w.carlA, w.ann.ID, 0, 10)
		wantIs(t, err, domain.ErrForbidden)
		_, err = w.ag.Accept(ctx, w.carlA, m.ID)
		wantIs(t, err, domain.ErrNotFound)
		if _, err := w.ag.Accept(ctx, w.bobA, m.ID); err != nil {
			t.Fatal(err)
		}
		_, err = w.ag.Accept(ctx, w.bobA, m.ID)
		wantConflict(t, err, "already accepted")
		if w.requestStatus(t) != domain.RequestOpen {
			t.Errorf("request is %s after one acceptance", w.requestStatus(t))
		}
		agreed, err := w.ag.Accept(ctx, w.annA, m.ID)
		if err != nil {
			t.Fatal(err)
		}
		if agreed.Status != domain.MatchAccepted || w.requestStatus(t) != domain.RequestMatched {
			t.Fatalf("after both accepted: match %s, request %s", agreed.Status, w.requestStatus(t))
		}
		v, err = w.ag.View(ctx, w.bobA, m.ID)
		if err != nil {
			t.Fatal(err)
		}
		if !v.Contact || v.Requester.Phone == "" || v.Request.PrivateNotes != w.requestNotes {
			t.Errorf("once agreed the helper sees %+v and notes %q", v.Requester, v.Request.PrivateNotes)
		}
		v, err = w.ag.View(ctx, w.annA, m.ID)
		if err != nil || v.Helper.Phone == "" || v.Helper.Name != "Bob Okoro" {
			t.Errorf("once agreed the requester sees %+v (%v)", v.Helper, err)
		}

		// It happens; the helper says how long, the requester confirms or corrects.
		_, err = w.ag.MarkDone(ctx, w.bobA, m.ID, 180, false)
		wantConflict(t, err, "not finished yet")
		w.now = at(5, 17, 30).UTC()
		_, err = w.ag.MarkDone(ctx, w.annA, m.ID, 180, false)
		wantIs(t, err, domain.ErrForbidden)
		_, err = w.ag.MarkDone(ctx, w.bobA, m.ID, 300, false)
		if f := fieldsOf(err); len(f) != 1 || f[0] != "minutes" || !strings.Contains(err.Error(), "plus an hour") {
			t.Fatalf("claiming 5 hours of a 3-hour window: %v", err)
		}
		_, err = w.ag.MarkDone(ctx, w.bobA, m.ID, 0, false)
		if f := fieldsOf(err); len(f) != 1 || f[0] != "minutes" {
			t.Fatalf("claiming nothing: %v", err)
		}
		if _, err := w.ag.MarkDone(ctx, w.bobA, m.ID, 300, true); err != nil {
			t.Fatal(err)
		}
		_, err = w.ag.MarkDone(ctx, w.bobA, m.ID, 300, true)
		wantConflict(t, err, "already said")
		if ns := w.unread(t, w.annA); len(ns) != 2 || ns[0].Kind != domain.NotifyConfirm {
			t.Errorf("requester was told %+v", ns)
		}
		_, err = w.ag.Confirm(ctx, w.bobA, m.ID, 0, false)
		wantIs(t, err, domain.ErrForbidden)
		done, err := w.ag.Confirm(ctx, w.annA, m.ID, 200, false)
		if err != nil {
			t.Fatal(err)
		}
		if done.Status != domain.MatchCompleted || done.MinutesConfirmed != 200 || w.requestStatus(t) != domain.RequestFulfilled {
			t.Fatalf("after confirming: %s, %d minutes, request %s", done.Status, done.MinutesConfirmed, w.requestStatus(t))
		}
		_, err = w.ag.Confirm(ctx, w.annA, m.ID, 0, false)
		wantConflict(t, err, "already completed")

		// Feedback, privately, once each.
		if err := w.ag.GiveFeedback(ctx, w.annA, m.ID, 5, "Kind and on time"); err != nil {
			t.Fatal(err)
		}
		wantConflict(t, w.ag.GiveFeedback(ctx, w.annA, m.ID, 4, ""), "already given feedback")
		wantIs(t, w.ag.GiveFeedback(ctx, w.carlA, m.ID, 1, "nosy"), domain.ErrNotFound)
		if f := fieldsOf(w.ag.GiveFeedback(ctx, w.bobA, m.ID, 7, "")); len(f) != 1 || f[0] != "rating" {
			t.Errorf("a rating of 7: %v", f)
		}
		v, err = w.ag.View(ctx, w.bobA, m.ID)
		if err != nil || len(v.Feedback) != 0 {
			t.Errorf("the helper sees feedback %+v (%v)", v.Feedback, err)
		}
		v, err = w.ag.View(ctx, w.coord, m.ID)
		if err != nil || len(v.Feedback) != 1 || v.Feedback[0].Rating != 5 || v.Record.Completed != 1 {
			t.Errorf("the coordinator sees feedback %+v and record %+v (%v)", v.Feedback, v.Record, err)
		}

		// The statements show what was given and received.
		from, to, err := w.contrib.Period("2026-01-01", "2026-12-31")
		if err != nil {
			t.Fatal(err)
		}
		bobSt, err := w.contrib.Statement(ctx, w.bobA, w.bob.ID, from, to)
		if err != nil {
			t.Fatal(err)
		}
		if bobSt.Given != 200 || bobSt.Received != 0 || len(bobSt.Rows) != 1 || bobSt.Rows[0].Month.Month() != time.March || bobSt.Rows[0].CategoryName != "Transport and lifts" {
			t.Errorf("Bob's statement: %+v", bobSt)
		}
		annSt, err := w.contrib.Statement(ctx, w.annA, w.ann.ID, from, to)
		if err != nil || annSt.Received != 200 || annSt.Given != 0 {
			t.Errorf("Ann's statement: %+v (%v)", annSt, err)
		}
		_, err = w.contrib.Statement(ctx, w.carlA, w.bob.ID, from, to)
		wantIs(t, err, domain.ErrForbidden)
		totals, err := w.contrib.Totals(ctx, w.coord, from, to)
		if err != nil || totals.Minutes != 200 || totals.Occasions != 1 || len(totals.Members) != 2 || totals.Members[0].Name != "Bob Okoro" {
			t.Errorf("co-op totals: %+v (%v)", totals, err)
		}
		_, err = w.contrib.Totals(ctx, w.bobA, from, to)
		wantIs(t, err, domain.ErrForbidden)

		got := strings.Join(w.auditActions(t, m.ID), " ")
		for _, want := range []string{domain.AuditMatchApproved, domain.AuditMatchAccepted, domain.AuditMatchDone, domain.AuditMatchConfirmed} {
			if !strings.Contains(got, want) {
				t.Errorf("audit of the match %q lacks %s", got, want)
			}
		}
	})
}

func TestModerationRacesAndRejections(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		w := newAgreeWorld(t, st)
		m := w.propose(t, w.request, w.bobOffer)

		// Two coordinators approve at once: one approval, and a clear answer to the other.
		var wg sync.WaitGroup
		errs := make([]error, 2)
		for i, c := range []domain.Actor{w.coord, w.coord2} {
			wg.Add(1)
			go func() { defer wg.Done(); _, errs[i] = w.ag.Approve(ctx, c, m.ID) }()
		}
		wg.Wait()
		ok := 0
		for _, err := range errs {
			if err == nil {
				ok++
			} else {
				var c *domain.ConflictError
				if !errors.As(err, &c) && !errors.Is(err, domain.ErrConflict) {
					t.Errorf("the second approval failed with %v", err)
				}
			}
		}
		if ok != 1 {
			t.Fatalf("%d approvals succeeded: %v", ok, errs)
		}
		if ns := w.unread(t, w.bobA); len(ns) != 1 {
			t.Errorf("the helper was asked %d times", len(ns))
		}
		w.unread(t, w.annA)
		// Only coordinators reject or match by hand; only the two people decline.
		for _, who := range []domain.Actor{w.annA, w.bobA, w.carlA} {
			_, err := w.ag.Reject(ctx, who, m.ID, "not them")
			wantIs(t, err, domain.ErrForbidden)
			_, err = w.ag.Assign(ctx, who, w.request.ID, w.deeOffer.ID)
			wantIs(t, err, domain.ErrForbidden)
		}
		_, err := w.ag.Decline(ctx, w.carlA, m.ID, "")
		wantIs(t, err, domain.ErrNotFound)
		_, err = w.ag.Decline(ctx, w.coord, m.ID, "")
		wantIs(t, err, domain.ErrNotFound)
		// Rejecting what is already approved changes nothing.
		_, err = w.ag.Reject(ctx, w.coord, m.ID, "second thoughts")
		wantConflict(t, err, "waiting for both people")

		// Bob declines: the request goes back to the matcher, the pair never again.
		if _, err := w.ag.Decline(ctx, w.bobA, m.ID, "I am away that week"); err != nil {
			t.Fatal(err)
		}
		if ns := w.unread(t, w.annA); len(ns) != 1 || ns[0].Kind != domain.NotifyDeclined {
			t.Errorf("the requester was told %+v", ns)
		}
		m2 := w.propose(t, w.request, w.deeOffer)
		_, err = w.ag.Reject(ctx, w.coord, m2.ID, "  ")
		if f := fieldsOf(err); len(f) != 1 || f[0] != "reason" {
			t.Fatalf("rejecting without a reason: %v", err)
		}
		if _, err := w.ag.Reject(ctx, w.coord2, m2.ID, "Dee asked for a break"); err != nil {
			t.Fatal(err)
		}
		_, err = w.ag.Approve(ctx, w.coord, m2.ID)
		wantConflict(t, err, "already turned this proposal down")
		in, err := st.MatchInput(ctx, w.ag.Now())
		if err != nil {
			t.Fatal(err)
		}
		if !in.Excluded[matching.Pair{RequestID: w.request.ID, HelperID: w.bob.ID}] || !in.Excluded[matching.Pair{RequestID: w.request.ID, HelperID: w.dee.ID}] {
			t.Errorf("declined and rejected pairs are not excluded from the next pass: %v", in.Excluded)
		}
		opts, err := w.ag.Candidates(ctx, w.coord, w.request.ID)
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range opts {
			if o.Blocked == "" {
				t.Errorf("%s can still be chosen by hand after declining or being turned down", o.HelperName)
			}
		}

		// A selection: what can be approved is, what cannot says why.
		r2 := w.newRequest(t, at(12, 14, 0))
		p2 := w.propose(t, r2, w.bobOffer)
		res, err := w.ag.ApproveMany(ctx, w.coord, []int64{p2.ID, m2.ID, 999999})
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Done) != 1 || res.Done[0] != p2.ID || !strings.Contains(res.Failed[m2.ID], "turned this proposal down") || res.Failed[999999] == "" {
			t.Errorf("approving a selection: %+v", res)
		}
		_, err = w.ag.ApproveMany(ctx, w.bobA, []int64{p2.ID})
		wantIs(t, err, domain.ErrForbidden)
	})
}

// newRequest asks, as Ann, for a lift at start for two hours.
func (w *agreeWorld) newRequest(t *testing.T, start time.Time) domain.Request {
	t.Helper()
	reqs, err := w.x.AskForSupport(context.Background(), w.annA, domain.RequestInput{Category: "transport", Description: "A lift to the surgery",
		Start: start, End: start.Add(2 * time.Hour), Urgency: "routine"})
	if err != nil {
		t.Fatal(err)
	}
	return reqs[0]
}

func TestLapsingCancellingAndWhatTimeDoes(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		w := newAgreeWorld(t, st)
		m := w.propose(t, w.request, w.bobOffer)
		if _, err := w.ag.Approve(ctx, w.coord, m.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := w.ag.Accept(ctx, w.bobA, m.ID); err != nil {
			t.Fatal(err)
		}
		w.unread(t, w.bobA)
		// Nobody answers for two days: it lapses, and approving it later is refused.
		w.advance(47 * time.Hour)
		if c, err := w.ag.RunTimed(ctx); err != nil || c.Lapsed != 0 {
			t.Fatalf("before the answer time: %+v %v", c, err)
		}
		w.advance(time.Hour)
		if c, err := w.ag.RunTimed(ctx); err != nil || c.Lapsed != 1 {
			t.Fatalf("at the answer time: %+v %v", c, err)
		}
		_, err := w.ag.Accept(ctx, w.annA, m.ID)
		wantConflict(t, err, "lapsed")
		if ns := w.unread(t, w.bobA); len(ns) != 1 || ns[0].Kind != domain.NotifyLapsed {
			t.Errorf("the helper was told %+v", ns)
		}
		if w.requestStatus(t) != domain.RequestOpen {
			t.Errorf("a lapsed request is %s", w.requestStatus(t))
		}

		// An urgent request gets a quarter of the time, and never past an hour before it starts.
		urgent, err := w.x.AskForSupport(ctx, w.annA, domain.RequestInput{Category: "transport", Description: "Lift home from hospital",
			Start: w.ag.Now().Add(5 * time.Hour), End: w.ag.Now().Add(6 * time.Hour), Urgency: "urgent"})
		if err != nil {
			t.Fatal(err)
		}
		mu := w.propose(t, urgent[0], w.deeOffer)
		mu, err = w.ag.Approve(ctx, w.coord, mu.ID)
		if err != nil {
			t.Fatal(err)
		}
		if want := urgent[0].Start.Add(-time.Hour); !mu.AnswerBy.Equal(want) {
			t.Errorf("urgent answer by %v, want %v", mu.AnswerBy, want)
		}
		if _, err := w.ag.Accept(ctx, w.deeA, mu.ID); err != nil {
			t.Fatal(err)
		}

		// Agreed, then the helper cancels: the request is open again and Ann is told why.
		m2 := w.propose(t, w.request, w.deeOffer)
		for _, step := range []func() error{
			func() error { _, err := w.ag.Approve(ctx, w.coord, m2.ID); return err },
			func() error { _, err := w.ag.Accept(ctx, w.deeA, m2.ID); return err },
			func() error { _, err := w.ag.Accept(ctx, w.annA, m2.ID); return err },
		} {
			if err := step(); err != nil {
				t.Fatal(err)
			}
		}
		w.unread(t, w.annA)
		_, err = w.ag.Cancel(ctx, w.deeA, m2.ID, "", false)
		if f := fieldsOf(err); len(f) != 1 || f[0] != "reason" {
			t.Fatalf("cancelling without a reason: %v", err)
		}
		_, err = w.ag.Cancel(ctx, w.carlA, m2.ID, "mischief", false)
		wantIs(t, err, domain.ErrNotFound)
		if _, err := w.ag.Cancel(ctx, w.deeA, m2.ID, "My car broke down", false); err != nil {
			t.Fatal(err)
		}
		if ns := w.unread(t, w.annA); len(ns) != 1 || !strings.Contains(ns[0].Message, "My car broke down") {
			t.Errorf("the requester was told %+v", ns)
		}
		if w.requestStatus(t) != domain.RequestOpen {
			t.Errorf("after the helper cancelled, the request is %s", w.requestStatus(t))
		}

		// A reminder the day before, once; a completion nobody confirms is confirmed after 7 days.
		r3 := w.newRequest(t, at(12, 14, 0))
		m3 := w.propose(t, r3, w.bobOffer)
		for _, step := range []func() error{
			func() error { _, err := w.ag.Approve(ctx, w.coord, m3.ID); return err },
			func() error { _, err := w.ag.Accept(ctx, w.bobA, m3.ID); return err },
			func() error { _, err := w.ag.Accept(ctx, w.annA, m3.ID); return err },
		} {
			if err := step(); err != nil {
				t.Fatal(err)
			}
		}
		w.unread(t, w.bobA)
		w.now = at(11, 15, 0).UTC()
		for i, want := range []int{1, 0} {
			c, err := w.ag.RunTimed(ctx)
			if err != nil || c.Reminded != want {
				t.Fatalf("run %d reminded %+v (%v)", i, c, err)
			}
		}
		if ns := w.unread(t, w.bobA); len(ns) != 1 || ns[0].Kind != domain.NotifyReminder {
			t.Errorf("the helper was reminded with %+v", ns)
		}
		w.now = at(12, 16, 30).UTC()
		if _, err := w.ag.MarkDone(ctx, w.bobA, m3.ID, 120, false); err != nil {
			t.Fatal(err)
		}
		w.advance(7*24*time.Hour - time.Minute)
		if c, _ := w.ag.RunTimed(ctx); c.Confirmed != 0 {
			t.Fatal("confirmed before seven days")
		}
		w.advance(time.Minute)
		if c, err := w.ag.RunTimed(ctx); err != nil || c.Confirmed != 1 {
			t.Fatalf("after seven days: %+v %v", c, err)
		}
		got, err := st.Match(ctx, m3.ID)
		if err != nil || got.Status != domain.MatchCompleted || got.MinutesConfirmed != 120 || got.ConfirmedBy != 0 {
			t.Errorf("auto-confirmed: %+v (%v)", got, err)
		}
	})
}

func TestChoosingHelpersByHand(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		w := newAgreeWorld(t, st)
		// A sitting request needs a check: Bob has one, Dee does not.
		sitting := func(who domain.Actor) domain.Offer {
			o, err := w.x.PostOffer(ctx, who, domain.OfferInput{Category: "sitting", Description: "Sitting with an older person",
				Slots: []domain.SlotInput{{Day: "thu", From: "09:00", To: "20:00"}}, RadiusKm: ptr(3.0), MaxPerWeek: ptr(3)})
			if err != nil {
				t.Fatal(err)
			}
			return o
		}
		bobSits, deeSits := sitting(w.bobA), sitting(w.deeA)
		if err := st.AddCheck(ctx, &domain.Check{MemberID: w.bob.ID, Kind: "DBS", Level: "enhanced", IssuedOn: at(1, 0, 0).AddDate(-1, 0, 0),
			ExpiresOn: at(1, 0, 0).AddDate(2, 0, 0), VerifiedBy: w.coord.ID, VerifiedAt: w.ag.Now(), CreatedAt: w.ag.Now()}); err != nil {
			t.Fatal(err)
		}
		reqs, err := w.x.AskForSupport(ctx, w.annA, domain.RequestInput{Category: "sitting", Description: "Sit with my mum",
			Start: at(5, 10, 0), End: at(5, 12, 0), Urgency: "soon"})
		if err != nil {
			t.Fatal(err)
		}
		r := reqs[0]
		_, err = w.ag.Candidates(ctx, w.bobA, r.ID)
		wantIs(t, err, domain.ErrForbidden)
		opts, err := w.ag.Candidates(ctx, w.coord, r.ID)
		if err != nil {
			t.Fatal(err)
		}
		if len(opts) != 2 || opts[0].HelperID != w.bob.ID || opts[0].Blocked != "" || opts[1].HelperID != w.dee.ID || !strings.Contains(opts[1].Blocked, "check") {
			t.Fatalf("ranked: %+v", opts)
		}
		_, err = w.ag.Assign(ctx, w.coord, r.ID, deeSits.ID)
		if f := fieldsOf(err); len(f) != 1 || f[0] != "offer_id" || !strings.Contains(err.Error(), "check") {
			t.Fatalf("choosing a helper without a check: %v", err)
		}
		_, err = w.ag.Assign(ctx, w.coord, r.ID, w.bobOffer.ID) // a lift is not sitting
		if f := fieldsOf(err); len(f) != 1 || f[0] != "offer_id" {
			t.Fatalf("choosing an offer of another kind: %v", err)
		}
		m, err := w.ag.Assign(ctx, w.coord, r.ID, bobSits.ID)
		if err != nil {
			t.Fatal(err)
		}
		if m.Source != domain.MatchManual || m.Status != domain.MatchApproved || m.ApprovedBy != w.coord.ID {
			t.Errorf("matched by hand: %+v", m)
		}
		_, err = w.ag.Assign(ctx, w.coord, r.ID, bobSits.ID)
		wantConflict(t, err, "already has a helper")
		if _, err := w.ag.Accept(ctx, w.bobA, m.ID); err != nil {
			t.Fatal(err)
		}

		// Choosing another helper in place of a proposal: the proposal steps aside, not rejected.
		m1 := w.propose(t, w.request, w.bobOffer)
		far, err := w.x.PostOffer(ctx, w.carlA, domain.OfferInput{Category: "transport", Description: "Lifts",
			Slots: []domain.SlotInput{{Day: "fri", From: "09:00", To: "12:00"}}, RadiusKm: ptr(1.0), MaxPerWeek: ptr(1)})
		if err != nil {
			t.Fatal(err)
		}
		opts, err = w.ag.Candidates(ctx, w.coord, w.request.ID)
		if err != nil {
			t.Fatal(err)
		}
		var carlOpt domain.HelperOption
		for _, o := range opts {
			if o.HelperID == w.carl.ID {
				carlOpt = o
			}
		}
		if carlOpt.Blocked != "" || len(carlOpt.Warnings) != 1 || !strings.Contains(carlOpt.Warnings[0], "not among the times") {
			t.Errorf("Carl, free only on Fridays: %+v", carlOpt)
		}
		m2, err := w.ag.Assign(ctx, w.coord, w.request.ID, far.ID)
		if err != nil {
			t.Fatal(err)
		}
		old, err := st.Match(ctx, m1.ID)
		if err != nil || old.Status != domain.MatchCancelled || old.EndReason != domain.EndedOtherHelper {
			t.Errorf("the replaced proposal: %+v (%v)", old, err)
		}
		if m2.HelperID != w.carl.ID || m2.Status != domain.MatchApproved {
			t.Errorf("the chosen helper's match: %+v", m2)
		}
	})
}

func TestDirectCategoriesSkipTheQueue(t *testing.T) {
	storetest.ForEachDialectWithExec(t, func(t *testing.T, st *store.Store, exec storetest.Exec) {
		ctx := context.Background()
		w := newAgreeWorld(t, st)
		cats, err := w.catalogue.Categories(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var transport domain.Category
		for _, c := range cats {
			if c.Slug == "befriending-calls" && c.Moderation != domain.ModerateDirect {
				t.Errorf("befriending calls are moderated by %q", c.Moderation)
			}
			if c.Slug == "transport" {
				transport = c
			}
		}
		bad := domain.Moderation("nobody")
		_, err = w.catalogue.UpdateCategory(ctx, w.coord, transport.ID, domain.CategoryPatch{Moderation: &bad})
		if f := fieldsOf(err); len(f) != 1 || f[0] != "moderation" {
			t.Fatalf("an unknown moderation: %v", err)
		}
		direct := domain.ModerateDirect
		if _, err := w.catalogue.UpdateCategory(ctx, w.coord, transport.ID, domain.CategoryPatch{Moderation: &direct}); err != nil {
			t.Fatal(err)
		}
		pass := &domain.MatchPass{StartedAt: w.ag.Now(), FinishedAt: w.ag.Now(), UnmatchedReasons: map[string]int{}}
		if err := st.CreatePass(ctx, pass); err != nil {
			t.Fatal(err)
		}
		m := w.propose(t, w.request, w.bobOffer)
		// The proposal belongs to the pass, as the matcher writes it.
		exec("UPDATE matches SET pass_id = ? WHERE id = ?", pass.ID, m.ID)
		n, err := w.ag.LetThrough(ctx, pass.ID)
		if err != nil || n != 1 {
			t.Fatalf("let through %d (%v)", n, err)
		}
		got, err := st.Match(ctx, m.ID)
		if err != nil || got.Status != domain.MatchApproved || got.ApprovedBy != 0 {
			t.Errorf("a direct proposal: %+v (%v)", got, err)
		}
		if ns := w.unread(t, w.annA); len(ns) != 1 || ns[0].Kind != domain.NotifyProposal {
			t.Errorf("the requester was asked %+v", ns)
		}
	})
}

func TestWhatThePeopleInAMatchAreNotShown(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		w := newAgreeWorld(t, st)
		// A proposal a coordinator turned down, with a private reason, stays theirs alone.
		m := w.propose(t, w.request, w.bobOffer)
		if _, err := w.ag.Reject(ctx, w.coord, m.ID, "A concern was logged about Bob"); err != nil {
			t.Fatal(err)
		}
		for _, who := range []domain.Actor{w.bobA, w.annA} {
			_, err := w.ag.View(ctx, who, m.ID)
			wantIs(t, err, domain.ErrNotFound)
			list, err := w.ag.MemberMatches(ctx, who, who.ID, 0, 10)
			if err != nil || len(list) != 0 {
				t.Errorf("%s's list shows a proposal that was never approved: %+v", who.Name, list)
			}
		}
		if list, err := w.ag.RequestMatches(ctx, w.annA, w.request); err != nil || len(list) != 0 {
			t.Errorf("the request page lists a rejected proposal: %+v (%v)", list, err)
		}

		// A decline's reason is for coordinators only.
		m2 := w.propose(t, w.request, w.deeOffer)
		if _, err := w.ag.Approve(ctx, w.coord, m2.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := w.ag.Decline(ctx, w.annA, m2.ID, "She was rude to my mother last time"); err != nil {
			t.Fatal(err)
		}
		v, err := w.ag.View(ctx, w.deeA, m2.ID)
		if err != nil || strings.Contains(v.EndReason, "rude") || v.EndReason != "Declined by the requester." {
			t.Errorf("the helper reads why it was declined: %q (%v)", v.EndReason, err)
		}
		if v, err := w.ag.View(ctx, w.coord, m2.ID); err != nil || !strings.Contains(v.EndReason, "rude") {
			t.Errorf("the coordinator reads %q (%v)", v.EndReason, err)
		}

		// A coordinator cannot approve a match they are in, nor choose themselves.
		kitOffer, err := w.x.PostOffer(ctx, w.coord2, lifts(domain.SlotInput{Day: "thu", From: "13:00", To: "18:00"}))
		if err != nil {
			t.Fatal(err)
		}
		m3 := w.propose(t, w.request, kitOffer)
		_, err = w.ag.Approve(ctx, w.coord2, m3.ID)
		wantConflict(t, err, "another coordinator must approve it")
		_, err = w.ag.Assign(ctx, w.coord2, w.request.ID, kitOffer.ID)
		if f := fieldsOf(err); len(f) != 1 || f[0] != "offer_id" {
			t.Errorf("choosing yourself: %v", err)
		}

		// Accepting after the answer time is refused even before the lapse step runs.
		if _, err := w.ag.Approve(ctx, w.coord, m3.ID); err != nil {
			t.Fatal(err)
		}
		w.advance(49 * time.Hour)
		_, err = w.ag.Accept(ctx, w.annA, m3.ID)
		wantConflict(t, err, "has lapsed")
	})
}

func TestSuspensionAndCancellationEndAgreedMatches(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		w := newAgreeWorld(t, st)
		agree := func(r domain.Request, o domain.Offer, helper domain.Actor) domain.Match {
			t.Helper()
			m := w.propose(t, r, o)
			for _, step := range []func() error{
				func() error { _, err := w.ag.Approve(ctx, w.coord, m.ID); return err },
				func() error { _, err := w.ag.Accept(ctx, helper, m.ID); return err },
				func() error { _, err := w.ag.Accept(ctx, w.annA, m.ID); return err },
			} {
				if err := step(); err != nil {
					t.Fatal(err)
				}
			}
			return m
		}
		m := agree(w.request, w.bobOffer, w.bobA)
		w.unread(t, w.annA)
		// Bob is suspended: the agreed lift is withdrawn, Ann is told, and her request is open again.
		if _, err := w.membership.Suspend(ctx, w.coord, w.bob.ID, "A safeguarding concern is being looked into"); err != nil {
			t.Fatal(err)
		}
		got, err := st.Match(ctx, m.ID)
		if err != nil || got.Status != domain.MatchCancelled || got.EndReason != domain.WithdrawnMemberSuspended {
			t.Fatalf("the agreed match of a suspended helper: %+v (%v)", got, err)
		}
		if w.requestStatus(t) != domain.RequestOpen {
			t.Errorf("the request is %s", w.requestStatus(t))
		}
		if ns := w.unread(t, w.annA); len(ns) != 1 || ns[0].Kind != domain.NotifyCancelled {
			t.Errorf("the requester was told %+v", ns)
		}

		// Dee agrees, then cancels because she is ill: she is not proposed for it again.
		m2 := agree(w.request, w.deeOffer, w.deeA)
		if _, err := w.ag.Cancel(ctx, w.deeA, m2.ID, "I am ill", false); err != nil {
			t.Fatal(err)
		}
		in, err := st.MatchInput(ctx, w.ag.Now())
		if err != nil {
			t.Fatal(err)
		}
		if !in.Excluded[matching.Pair{RequestID: w.request.ID, HelperID: w.dee.ID}] {
			t.Errorf("a helper who cancelled is proposed for the same request again")
		}

		// After the start only a coordinator can close agreed support that did not happen.
		r2 := w.newRequest(t, at(12, 14, 0))
		m3 := agree(r2, w.deeOffer, w.deeA)
		w.now = at(12, 15, 0).UTC()
		_, err = w.ag.Cancel(ctx, w.deeA, m3.ID, "could not come", false)
		wantConflict(t, err, "already started")
		if _, err := w.ag.Cancel(ctx, w.coord, m3.ID, "Dee's car broke down on the way", false); err != nil {
			t.Fatal(err)
		}
		r, err := st.Request(ctx, r2.ID)
		if err != nil || r.Status != domain.RequestCancelled {
			t.Errorf("support that did not happen leaves its request %s (%v)", r.Status, err)
		}
	})
}

func TestAgreedSupportNobodySaysHappened(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		w := newAgreeWorld(t, st)
		m := w.propose(t, w.request, w.bobOffer)
		for _, step := range []func() error{
			func() error { _, err := w.ag.Approve(ctx, w.coord, m.ID); return err },
			func() error { _, err := w.ag.Accept(ctx, w.bobA, m.ID); return err },
			func() error { _, err := w.ag.Accept(ctx, w.annA, m.ID); return err },
		} {
			if err := step(); err != nil {
				t.Fatal(err)
			}
		}
		w.unread(t, w.bobA)
		// Two hours after the end Bob is asked, once.
		w.now = at(5, 18, 59).UTC()
		if c, err := w.ag.RunTimed(ctx); err != nil || c.AskedDone != 0 {
			t.Fatalf("before two hours: %+v %v", c, err)
		}
		w.now = at(5, 19, 0).UTC()
		for i, want := range []int{1, 0} {
			if c, err := w.ag.RunTimed(ctx); err != nil || c.AskedDone != want {
				t.Fatalf("run %d: %+v %v", i, c, err)
			}
		}
		if ns := w.unread(t, w.bobA); len(ns) != 1 || !strings.Contains(ns[0].Message, "Did the support") {
			t.Errorf("the helper was asked %+v", ns)
		}
		// A week on, coordinators are told, once, and can close it as not having happened.
		w.now = at(12, 17, 0).UTC()
		for i, want := range []int{1, 0} {
			if c, err := w.ag.RunTimed(ctx); err != nil || c.Overdue != want {
				t.Fatalf("run %d a week on: %+v %v", i, c, err)
			}
		}
		notices, err := st.Notices(ctx, 10)
		if err != nil || len(notices) == 0 || !strings.Contains(notices[0].Message, "Nobody has said") {
			t.Fatalf("coordinators' notices: %+v (%v)", notices, err)
		}
		v, err := w.ag.View(ctx, w.coord, m.ID)
		if err != nil || !v.CanCancel {
			t.Fatalf("the coordinator cannot close it: %+v (%v)", v.CanCancel, err)
		}
		if _, err := w.ag.Cancel(ctx, w.coord, m.ID, "Bob says it did not happen", false); err != nil {
			t.Fatal(err)
		}
	})
}

func TestTwoCoordinatorsMatchingOneRequestByHand(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		w := newAgreeWorld(t, st)
		var wg sync.WaitGroup
		errs := make([]error, 2)
		for i, pick := range []struct {
			who   domain.Actor
			offer int64
		}{{w.coord, w.bobOffer.ID}, {w.coord2, w.deeOffer.ID}} {
			wg.Add(1)
			go func() { defer wg.Done(); _, errs[i] = w.ag.Assign(ctx, pick.who, w.request.ID, pick.offer) }()
		}
		wg.Wait()
		ok := 0
		for _, err := range errs {
			if err == nil {
				ok++
				continue
			}
			var c *domain.ConflictError
			if !errors.As(err, &c) {
				t.Errorf("the other coordinator got %v, want a clear conflict", err)
			}
		}
		if ok != 1 {
			t.Fatalf("%d hand matches of one request succeeded: %v", ok, errs)
		}
	})
}
