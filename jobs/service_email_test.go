package jobs_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/coop-exchange/coop/domain"
	"github.com/coop-exchange/coop/domain/store"
	"github.com/coop-exchange/coop/domain/store/storetest"
	"github.com/coop-exchange/coop/jobs"
)

// escalatedNeed is Ann's request for her mum, with private notes, passed to a service that has an
// email address and no webhook: what lies next to a service's email in the database, and must
// not get into it.
func escalatedNeed(t *testing.T, st *store.Store, now time.Time) (domain.Service, domain.Escalation) {
	t.Helper()
	ctx := context.Background()
	w := newTown(t, st)
	reqs, err := w.x.AskForSupport(ctx, w.ann, domain.RequestInput{Category: "transport", Description: "A lift home from hospital for my mum",
		PrivateNotes: "12 Mill Lane, the key is under the mat", ForSomeoneElse: true, ForWhomName: "Edna", ForWhomRelationship: "mother",
		Start: at(3, 14, 0), End: at(3, 16, 0), Urgency: "urgent", ConsentToEscalate: true})
	if err != nil {
		t.Fatal(err)
	}
	svc := domain.Service{Name: "Riverside Adult Social Care", Organisation: "Riverside Council", Email: "referrals@riverside.example",
		Active: true, CreatedAt: now, UpdatedAt: now}
	if err := st.CreateService(ctx, &svc, ""); err != nil {
		t.Fatal(err)
	}
	esc := domain.Escalation{RequestID: reqs[0].ID, ServiceID: svc.ID, Status: domain.EscalationRequested, Reason: "Ann's mum Edna cannot be left alone",
		RespondBy: now.Add(4 * time.Hour), SentAt: now, CreatedBy: w.coord.ID, CreatedAt: now, UpdatedAt: now}
	if err := st.CreateEscalation(ctx, &esc, domain.EscalationChange{At: now, Status: esc.Status, By: w.coord.Name, Side: domain.SideCoop,
		Note: "Ann (07700 900123) says Edna was discharged today"}, w.coord.ID); err != nil {
		t.Fatal(err)
	}
	return svc, esc
}

// tellService writes the email that tells svc of ev about esc, linking to esc in the inbox.
func (p *post) tellService(svc domain.Service, esc domain.Escalation, event string, status domain.EscalationStatus) {
	p.t.Helper()
	ev := domain.WebhookEvent{ServiceID: svc.ID, Event: event, EscalationID: esc.ID, Status: string(status),
		URL: "https://coop.example.org/inbox/" + itoa(esc.ID)}
	if err := p.st.EnqueueServiceEmail(context.Background(), p.clock(), svc.Email, ev); err != nil {
		p.t.Fatal(err)
	}
}

// TestAServiceIsEmailedTheLinkAndNothingPersonal delivers, through the real sender and a mail
// server, the emails that tell a service with no webhook of an escalation: each reaches the
// service's address, says what happened, links to the escalation in the inbox, and holds nothing
// about the person, though their name, phone, address and need are in the escalation beside it.
func TestAServiceIsEmailedTheLinkAndNothingPersonal(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, st *store.Store) {
		p := newPost(t, st)
		svc, esc := escalatedNeed(t, st, p.clock())
		p.tellService(svc, esc, domain.WebhookEscalationRequested, domain.EscalationRequested)
		p.tellService(svc, esc, domain.WebhookEscalationUpdated, domain.EscalationAccepted)
		p.tellService(svc, esc, domain.WebhookEscalationCancelled, domain.EscalationCancelled)
		if rep := p.deliver(p.deliverer(st, half)); rep != (jobs.DeliveryReport{Delivered: 3}) {
			t.Fatalf("%+v, want three emails delivered", rep)
		}
		got := p.mail.Received()
		if len(got) != 3 {
			t.Fatalf("the server received %d messages, want 3", len(got))
		}
		link := "https://coop.example.org/inbox/" + itoa(esc.ID)
		says := []string{"The co-op has passed a need to Riverside Adult Social Care", "was updated", "has been withdrawn"}
		for i, m := range got {
			if strings.Join(m.To, ",") != "referrals@riverside.example" || m.Header.Get("To") != `"Riverside Adult Social Care" <referrals@riverside.example>` {
				t.Errorf("email %d went to %v (To: %s)", i, m.To, m.Header.Get("To"))
			}
			if !strings.Contains(m.Subject, says[i]) {
				t.Errorf("email %d subject %q, want one saying %q", i, m.Subject, says[i])
			}
			if m.Header.Get("List-Unsubscribe") != "" {
				t.Errorf("email %d offers to unsubscribe: %s", i, m.Header.Get("List-Unsubscribe"))
			}
			// The link is the one given, not put on the base URL a second time.
			if !strings.Contains(m.Text, "\n"+link+"\n") || !strings.Contains(m.HTML, `<a href="`+link+`"`) {
				t.Errorf("email %d does not link to %s as it is:\n%s", i, link, m.Text)
			}
			for part, body := range map[string]string{"text": m.Text, "html": m.HTML} {
				for _, want := range []string{"escalation " + itoa(esc.ID), "sign in to the services inbox to see the details"} {
					if !strings.Contains(body, want) {
						t.Errorf("email %d %s does not contain %q:\n%s", i, part, want, body)
					}
				}
			}
			for _, personal := range []string{"Ann", "Lee", "ann@example.org", "07700", "900123", "Edna", "mother", "mum",
				"hospital", "Mill Lane", "key", "discharged", "lift", "Cora"} {
				if strings.Contains(m.Subject+m.Text+m.HTML+m.Header.Get("To"), personal) {
					t.Errorf("email %d holds %q:\n%s\n%s", i, personal, m.Subject, m.Text)
				}
			}
		}
		for _, m := range p.messages() {
			if m.Status != domain.OutboxDelivered || m.MemberID != 0 || m.ServiceID != svc.ID {
				t.Errorf("message %d: %+v", m.ID, m)
			}
		}
	})
}

// TestAServiceEmailIsRetriedThenGivenUpOn checks that a service's email the mail server will not
// take is retried with growing waits like a member's, failed after a day, and that the
// coordinators are told which service was not told of which escalation, with a link to the
// service, where its address is set.
func TestAServiceEmailIsRetriedThenGivenUpOn(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, st *store.Store) {
		p := newPost(t, st)
		d := p.deliverer(st, half)
		svc, esc := escalatedNeed(t, st, p.clock())
		p.tellService(svc, esc, domain.WebhookEscalationRequested, domain.EscalationRequested)
		p.mail.FailNext(1000)
		t0 := p.clock()

		tries := 0
		for ; tries < 100; tries++ {
			m := p.messages()[0]
			if m.Status != domain.OutboxPending {
				break
			}
			if tries == 1 && m.NextAttemptAt.Sub(t0) != 30*time.Second {
				t.Errorf("the first retry is at +%v, want +30s", m.NextAttemptAt.Sub(t0))
			}
			p.setNow(m.NextAttemptAt)
			p.deliver(d)
		}
		m := p.messages()[0]
		if m.Status != domain.OutboxFailed || !strings.Contains(m.LastError, "451") || !strings.Contains(m.LastError, "service "+itoa(svc.ID)) {
			t.Fatalf("after %d tries the message is %s: %q", tries, m.Status, m.LastError)
		}
		if gaveUp := p.clock().Sub(t0); gaveUp < 24*time.Hour || gaveUp > 25*time.Hour {
			t.Errorf("gave up %v after the email was written, want just after 24 hours", gaveUp)
		}
		if tries < 20 || tries > 40 || p.mail.Attempts() != tries {
			t.Errorf("%d tries (%d offered to the server) in a day, want a few quick ones then about one an hour", tries, p.mail.Attempts())
		}
		notices, err := st.Notices(context.Background(), 10)
		if err != nil || len(notices) != 1 {
			t.Fatalf("notices %+v (%v), want one", notices, err)
		}
		n := notices[0]
		want := "We could not email Riverside Adult Social Care, at referrals@riverside.example, to tell them that the co-op has passed them a need (escalation " +
			itoa(esc.ID) + "), so we have stopped trying."
		if n.Kind != domain.NoticeDeliveryFailed || !strings.HasPrefix(n.Message, want) || !strings.Contains(n.Message, "escalation email address") ||
			n.Link != "/coordinate/services/"+itoa(svc.ID) {
			t.Errorf("notice %+v, want one beginning %q and linking to the service", n, want)
		}
		for _, bad := range []string{"member", "their email address", "Ann", "Edna", "“"} {
			if strings.Contains(n.Message, bad) {
				t.Errorf("the notice says %q: %s", bad, n.Message)
			}
		}
	})
}
