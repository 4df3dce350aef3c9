package domain_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/coop-exchange/coop/domain"
	"github.com/coop-exchange/coop/domain/store"
	"github.com/coop-exchange/coop/domain/store/storetest"
)

// newEscalationWorld is the agreement world with the directory and the escalation service on
// its clock; agreeing a match withdraws its request's escalations, as in the platform.
func newEscalationWorld(t *testing.T, st *store.Store) (*agreeWorld, *domain.Directory, *domain.Escalations) {
	t.Helper()
	w := newAgreeWorld(t, st)
	dir := newDirectory(t, w.world)
	clock := domain.Clock(func() time.Time { w.mu.Lock(); defer w.mu.Unlock(); return w.now })
	esc := domain.NewEscalations(st, st, dir, st, st, w.audit, clock, london, "https://coop.example.org", false)
	w.ag.WithEscalations(esc)
	return w, dir, esc
}

// TestTheEscalationStep: requests nobody met by their due time are passed, with consent, to
// the service that takes them on, once; coordinators hear of those that cannot leave.
func TestTheEscalationStep(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		w, dir, esc := newEscalationWorld(t, st)
		transport, err := st.CategoryBySlug(ctx, "transport")
		if err != nil {
			t.Fatal(err)
		}
		svc, _, err := dir.Create(ctx, w.coord, domain.ServiceInput{Name: "Riverside Community Transport", Organisation: "Riverside Council",
			TaxonomyTerms: transport.TaxonomyTerms, AreaIDs: []int64{w.area.ID}, Priority: 10,
			WebhookURL: "https://referrals.riverside.example/coop", Active: true})
		if err != nil {
			t.Fatal(err)
		}
		ask := func(what string, start time.Time, urgency string, consent bool) domain.Request {
			t.Helper()
			reqs, err := w.x.AskForSupport(ctx, w.annA, domain.RequestInput{Category: "transport", Description: what,
				Start: start, End: start.Add(2 * time.Hour), Urgency: urgency, ConsentToEscalate: consent})
			if err != nil {
				t.Fatal(err)
			}
			return reqs[0]
		}
		// Posted Monday 09:00; both urgent, Tuesday afternoon: due at 11:00.
		withConsent := ask("A lift home from hospital", at(3, 14, 0), "urgent", true)
		without := ask("A lift to the pharmacy", at(3, 15, 0), "urgent", false)
		later := ask("A lift to the dentist", at(20, 10, 0), "routine", true) // due Thursday

		w.now = at(2, 10, 59).UTC()
		if c, err := esc.EscalateDue(ctx); err != nil || c != (domain.EscalationCounts{}) {
			t.Fatalf("before the due time: %+v (%v)", c, err)
		}
		w.now = at(2, 11, 0).UTC()
		c, err := esc.EscalateDue(ctx)
		if err != nil || c.Sent != 1 || c.NoConsent != 1 {
			t.Fatalf("at the due time: %+v (%v)", c, err)
		}
		got, err := st.RequestEscalations(ctx, withConsent.ID)
		if err != nil || len(got) != 1 || got[0].ServiceID != svc.ID || got[0].Status != domain.EscalationRequested ||
			!got[0].RespondBy.Equal(w.now.Add(4*time.Hour)) {
			t.Fatalf("the escalation: %+v (%v)", got, err)
		}
		if r, _ := st.Request(ctx, withConsent.ID); r.Status != domain.RequestEscalated {
			t.Errorf("the escalated request is %s", r.Status)
		}
		if none, _ := st.RequestEscalations(ctx, without.ID); len(none) != 0 {
			t.Errorf("a request without consent left the co-op: %+v", none)
		}
		// The webhook is queued, carrying nothing about the person.
		msgs, err := st.ListOutbox(ctx, "", 10)
		if err != nil {
			t.Fatal(err)
		}
		var hook string
		for _, m := range msgs {
			if m.Channel == domain.ChannelWebhook {
				hook = string(m.Payload)
			}
		}
		if !strings.Contains(hook, `"escalation.requested"`) || !strings.Contains(hook, "https://coop.example.org/api/v1/escalations/") ||
			strings.Contains(hook, "Ann") || strings.Contains(hook, "hospital") {
			t.Errorf("the webhook body: %s", hook)
		}
		notices, err := st.Notices(ctx, 5)
		if err != nil || len(notices) == 0 || !strings.Contains(notices[0].Message, "did not agree") {
			t.Errorf("coordinators were told %+v (%v)", notices, err)
		}
		if ns := w.unread(t, w.annA); len(ns) == 0 || !strings.Contains(ns[0].Message, "Riverside Community Transport") {
			t.Errorf("the requester was told %+v", ns)
		}
		if got[0].ServiceName != "Riverside Community Transport" || !strings.HasPrefix(got[0].Story(london), "Passed to Riverside Community Transport on 2 March") {
			t.Errorf("the requester reads %q", got[0].Story(london))
		}
		// Nothing twice: the next run finds nothing new.
		if c, err := esc.EscalateDue(ctx); err != nil || c != (domain.EscalationCounts{}) {
			t.Errorf("a second run: %+v (%v)", c, err)
		}
		// No answer by the respond-by time: coordinators are told, once.
		w.now = at(2, 15, 0).UTC()
		for i, want := range []int{1, 0} {
			if c, err := esc.EscalateDue(ctx); err != nil || c.Unanswered != want {
				t.Errorf("run %d after the respond-by time: %+v (%v)", i, c, err)
			}
		}
		if notices, _ := st.Notices(ctx, 1); len(notices) == 0 || !strings.Contains(notices[0].Message, "No answer by the time asked from: Riverside Community Transport") {
			t.Errorf("coordinators were told %+v", notices)
		}
		// With the service gone, the later one has nowhere to go, and coordinators are told.
		inactive := false
		if _, err := dir.Update(ctx, w.coord, svc.ID, domain.ServicePatch{Active: &inactive}); err != nil {
			t.Fatal(err)
		}
		w.now = at(5, 9, 0).UTC()
		if c, err := esc.EscalateDue(ctx); err != nil || c.NoService != 1 {
			t.Errorf("with nowhere to go: %+v (%v)", c, err)
		}
		if none, _ := st.RequestEscalations(ctx, later.ID); len(none) != 0 {
			t.Errorf("escalated with nowhere to go: %+v", none)
		}
	})
}

func TestCoordinatorsEscalateAtOnce(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		w, dir, esc := newEscalationWorld(t, st)
		mk := func(name string) domain.Service {
			t.Helper()
			s, _, err := dir.Create(ctx, w.coord, domain.ServiceInput{Name: name, Organisation: "Riverside Council",
				AreaIDs: []int64{w.area.ID}, Email: "referrals@riverside.example", Active: true})
			if err != nil {
				t.Fatal(err)
			}
			return s
		}
		first, second := mk("Adult Social Care"), mk("Age Concern Riverside")
		reqs, err := w.x.AskForSupport(ctx, w.annA, domain.RequestInput{Category: "sitting", Description: "Sit with my mum",
			Start: at(6, 10, 0), End: at(6, 12, 0), Urgency: "soon", ConsentToEscalate: true})
		if err != nil {
			t.Fatal(err)
		}
		r := reqs[0]
		_, err = esc.EscalateNow(ctx, w.annA, r.ID, first.ID, "please")
		wantIs(t, err, domain.ErrForbidden)
		_, err = esc.EscalateNow(ctx, w.coord, r.ID, first.ID, " ")
		if f := fieldsOf(err); len(f) != 1 || f[0] != "note" {
			t.Fatalf("without a note: %v", err)
		}
		e1, err := esc.EscalateNow(ctx, w.coord, r.ID, first.ID, "Ann's mum was discharged today and cannot be left alone")
		if err != nil || e1.Status != domain.EscalationRequested || e1.CreatedBy != w.coord.ID {
			t.Fatalf("escalated: %+v (%v)", e1, err)
		}
		// One open at a time, and never the same service twice.
		_, err = esc.EscalateNow(ctx, w.coord, r.ID, second.ID, "also here")
		wantConflict(t, err, "already with a service")
		rec, err := esc.Record(ctx, w.coord, e1.ID)
		if err != nil || rec.FirstName != "" || rec.Phone != "" || rec.ServiceName != "Adult Social Care" || len(rec.History) != 1 {
			t.Errorf("the record (no contact consent): %+v (%v)", rec, err)
		}
		// Without consent nothing leaves.
		noConsent, err := w.x.AskForSupport(ctx, w.annA, domain.RequestInput{Category: "sitting", Description: "Sit with my dad",
			Start: at(7, 10, 0), End: at(7, 12, 0), Urgency: "soon"})
		if err != nil {
			t.Fatal(err)
		}
		_, err = esc.EscalateNow(ctx, w.coord, noConsent[0].ID, first.ID, "urgent")
		wantConflict(t, err, "did not agree")
	})
}

// TestACommunityHelperWithdrawsTheEscalation: a request passed to a service is still looked at
// by the matcher until the service takes it on; when a neighbour is agreed, the escalation is
// cancelled with that reason, the service is told, and the request is matched.
func TestACommunityHelperWithdrawsTheEscalation(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		w, dir, esc := newEscalationWorld(t, st)
		transport, err := st.CategoryBySlug(ctx, "transport")
		if err != nil {
			t.Fatal(err)
		}
		svc, _, err := dir.Create(ctx, w.coord, domain.ServiceInput{Name: "Riverside Community Transport", TaxonomyTerms: transport.TaxonomyTerms,
			AreaIDs: []int64{w.area.ID}, WebhookURL: "https://referrals.riverside.example/coop", Active: true})
		if err != nil {
			t.Fatal(err)
		}
		reqs, err := w.x.AskForSupport(ctx, w.annA, domain.RequestInput{Category: "transport", Description: "A lift to the clinic",
			Start: w.request.Start.Add(30 * time.Minute), End: w.request.Start.Add(90 * time.Minute), Urgency: "soon", ConsentToEscalate: true,
			ConsentContact: true})
		if err != nil {
			t.Fatal(err)
		}
		r := reqs[0]
		e, err := esc.EscalateNow(ctx, w.coord, r.ID, svc.ID, "Her usual driver is away")
		if err != nil {
			t.Fatal(err)
		}
		seeking := func() bool {
			in, err := st.MatchInput(ctx, w.now)
			if err != nil {
				t.Fatal(err)
			}
			for _, q := range in.Requests {
				if q.ID == r.ID {
					return true
				}
			}
			return false
		}
		if !seeking() {
			t.Fatalf("the matcher no longer looks for a helper once the request is passed on")
		}
		m := w.propose(t, r, w.bobOffer)
		if _, err := w.ag.Approve(ctx, w.coord, m.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := w.ag.Accept(ctx, w.bobA, m.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := w.ag.Accept(ctx, w.annA, m.ID); err != nil {
			t.Fatal(err)
		}
		l, err := esc.Get(ctx, w.coord, e.ID)
		if err != nil || l.Status != domain.EscalationCancelled || !strings.Contains(l.StatusReason, "neighbour") {
			t.Fatalf("after a neighbour agreed, the escalation is %+v (%v)", l, err)
		}
		got, err := st.Request(ctx, r.ID)
		if err != nil || got.Status != domain.RequestMatched {
			t.Fatalf("the request is %v (%v)", got.Status, err)
		}
		msgs, err := st.ClaimOutbox(ctx, w.now, time.Minute, 100)
		if err != nil {
			t.Fatal(err)
		}
		var kinds []string
		for _, msg := range msgs {
			if msg.Channel == domain.ChannelWebhook && msg.ServiceID == svc.ID {
				kinds = append(kinds, msg.Kind)
			}
		}
		if strings.Join(kinds, ",") != "escalation.requested,escalation.cancelled" {
			t.Errorf("the service was sent %v", kinds)
		}
		// What the service reads names the co-op, not the member whose match this follows, and
		// no longer holds the person's contact details.
		staff0 := domain.Actor{Name: "Riverside duty desk", Role: domain.RoleServices, Services: []int64{svc.ID}}
		rec, err := esc.Record(ctx, staff0, e.ID)
		if err != nil {
			t.Fatal(err)
		}
		if last := rec.History[len(rec.History)-1]; last.By != "the co-op" {
			t.Errorf("the service reads that it was cancelled by %q", last.By)
		}
		if rec.FirstName != "" || rec.Phone != "" {
			t.Errorf("after it was cancelled the service still sees %q %q", rec.FirstName, rec.Phone)
		}

		// Once a service has accepted a request, the matcher leaves it to them.
		reqs, err = w.x.AskForSupport(ctx, w.annA, domain.RequestInput{Category: "transport", Description: "A lift back",
			Start: w.request.Start.Add(3 * time.Hour), End: w.request.Start.Add(4 * time.Hour), Urgency: "soon", ConsentToEscalate: true})
		if err != nil {
			t.Fatal(err)
		}
		r = reqs[0]
		if e, err = esc.EscalateNow(ctx, w.coord, r.ID, svc.ID, "Same again"); err != nil {
			t.Fatal(err)
		}
		// The matcher suggested Dee meanwhile; when the service takes it on, that suggestion goes.
		early := w.propose(t, r, w.deeOffer)
		staff := domain.Actor{Name: "Riverside duty desk", Role: domain.RoleServices, Services: []int64{svc.ID}}
		if _, err := esc.Move(ctx, staff, e.ID, domain.EscalationMove{To: domain.EscalationAccepted}); err != nil {
			t.Fatal(err)
		}
		if seeking() {
			t.Errorf("the matcher still looks for a helper for a request a service has taken on")
		}
		if m, err := st.Match(ctx, early.ID); err != nil || m.Status != domain.MatchCancelled {
			t.Errorf("a suggestion made before the service took it on is still %v (%v)", m.Status, err)
		}
		// A services user of another service cannot touch it.
		other := domain.Actor{Name: "Elsewhere", Role: domain.RoleServices, Services: []int64{svc.ID + 1000}}
		if _, err := esc.Move(ctx, other, e.ID, domain.EscalationMove{To: domain.EscalationCompleted, Outcome: "x"}); !errors.Is(err, domain.ErrNotFound) {
			t.Errorf("another service's user changing it: %v", err)
		}
		done, err := esc.Move(ctx, staff, e.ID, domain.EscalationMove{To: domain.EscalationCompleted, Outcome: "Driven there and back"})
		if err != nil || done.Status != domain.EscalationCompleted {
			t.Fatalf("completing: %+v (%v)", done, err)
		}
		if got, err := st.Request(ctx, r.ID); err != nil || got.Status != domain.RequestFulfilled {
			t.Errorf("after the service completed it, the request is %v (%v)", got.Status, err)
		}
	})
}

// TestAServiceWithoutAWebhookIsEmailed: an escalation to a service that has only an email is
// told by email, with a link to the escalation in its inbox and nothing about the person; the
// service's own answers are not emailed back to it.
func TestAServiceWithoutAWebhookIsEmailed(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		w, dir, esc := newEscalationWorld(t, st)
		svc, _, err := dir.Create(ctx, w.coord, domain.ServiceInput{Name: "Hillside Carers Centre", AreaIDs: []int64{w.area.ID},
			Email: "referrals@hillside.example", Active: true})
		if err != nil {
			t.Fatal(err)
		}
		reqs, err := w.x.AskForSupport(ctx, w.annA, domain.RequestInput{Category: "transport", Description: "A lift to the carers' group",
			Start: w.request.Start, End: w.request.End, Urgency: "soon", ConsentToEscalate: true, ConsentContact: true})
		if err != nil {
			t.Fatal(err)
		}
		e, err := esc.EscalateNow(ctx, w.coord, reqs[0].ID, svc.ID, "Nobody drives on Thursdays")
		if err != nil {
			t.Fatal(err)
		}
		staff := domain.Actor{Name: "Hillside desk", Role: domain.RoleServices, Services: []int64{svc.ID}}
		if _, err := esc.Move(ctx, staff, e.ID, domain.EscalationMove{To: domain.EscalationAccepted}); err != nil {
			t.Fatal(err)
		}
		msgs, err := st.ClaimOutbox(ctx, w.now, time.Minute, 100)
		if err != nil {
			t.Fatal(err)
		}
		var sent []domain.OutboxMessage
		for _, m := range msgs {
			if m.ServiceID == svc.ID {
				sent = append(sent, m)
			}
		}
		if len(sent) != 1 || sent[0].Channel != domain.ChannelEmail || sent[0].Recipient != "referrals@hillside.example" ||
			sent[0].Kind != domain.WebhookEscalationRequested {
			t.Fatalf("the service was sent %+v", sent)
		}
		payload := string(sent[0].Payload)
		if !strings.Contains(payload, fmt.Sprintf("https://coop.example.org/inbox/%d", e.ID)) {
			t.Errorf("the email does not link to the inbox: %s", payload)
		}
		for _, personal := range []string{w.ann.Name, w.ann.Phone, "carers' group"} {
			if strings.Contains(payload, personal) {
				t.Errorf("the email carries %q: %s", personal, payload)
			}
		}
	})
}

// TestNoAnswerInTimeLetsACoordinatorSendItOn: while the first service still has time to
// acknowledge, the request cannot go elsewhere; once its time has passed, sending it to the next
// service withdraws it from the first, which is told.
func TestNoAnswerInTimeLetsACoordinatorSendItOn(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		w, dir, esc := newEscalationWorld(t, st)
		mk := func(name string) domain.Service {
			s, _, err := dir.Create(ctx, w.coord, domain.ServiceInput{Name: name, AreaIDs: []int64{w.area.ID}, Email: "referrals@" + strings.ToLower(strings.Fields(name)[0]) + ".example", Active: true})
			if err != nil {
				t.Fatal(err)
			}
			return s
		}
		first, next := mk("Riverside Adult Social Care"), mk("Hillside Carers Centre")
		reqs, err := w.x.AskForSupport(ctx, w.annA, domain.RequestInput{Category: "transport", Description: "A lift to the clinic",
			Start: w.request.Start, End: w.request.End, Urgency: "urgent", ConsentToEscalate: true})
		if err != nil {
			t.Fatal(err)
		}
		r := reqs[0]
		e1, err := esc.EscalateNow(ctx, w.coord, r.ID, first.ID, "Her daughter is away")
		if err != nil {
			t.Fatal(err)
		}
		w.mu.Lock()
		w.now = w.now.Add(3 * time.Hour) // within the 4 hours an urgent need is given
		w.mu.Unlock()
		if _, err := esc.EscalateNow(ctx, w.coord, r.ID, next.ID, "Trying elsewhere"); err == nil {
			t.Fatalf("a request went to a second service while the first still had time to answer")
		}
		w.mu.Lock()
		w.now = w.now.Add(2 * time.Hour)
		w.mu.Unlock()
		e2, err := esc.EscalateNow(ctx, w.coord, r.ID, next.ID, "No answer from Riverside")
		if err != nil {
			t.Fatal(err)
		}
		was, err := esc.Get(ctx, w.coord, e1.ID)
		if err != nil || was.Status != domain.EscalationCancelled || !strings.Contains(was.StatusReason, "passed to Hillside Carers Centre instead") {
			t.Fatalf("the first escalation: %+v (%v)", was, err)
		}
		now, err := esc.Get(ctx, w.coord, e2.ID)
		if err != nil || now.Status != domain.EscalationRequested {
			t.Fatalf("the second escalation: %+v (%v)", now, err)
		}
		if got, err := st.Request(ctx, r.ID); err != nil || got.Status != domain.RequestEscalated {
			t.Errorf("the request is %v (%v)", got.Status, err)
		}
	})
}
