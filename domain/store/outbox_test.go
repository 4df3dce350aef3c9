package store_test

import (
	"context"
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/coop-exchange/coop/domain"
	"github.com/coop-exchange/coop/domain/store"
	"github.com/coop-exchange/coop/domain/store/storetest"
)

func addMember(t *testing.T, s *store.Store, name, email string, at time.Time) domain.Member {
	t.Helper()
	m := domain.Member{Name: name, Email: email, Role: domain.RoleMember, Status: domain.StatusActive, CreatedAt: at, UpdatedAt: at}
	if err := s.CreateMember(context.Background(), &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func outbox(t *testing.T, s *store.Store) map[int64]domain.OutboxMessage {
	t.Helper()
	msgs, err := s.ListOutbox(context.Background(), "", 1000)
	if err != nil {
		t.Fatal(err)
	}
	out := map[int64]domain.OutboxMessage{}
	for _, m := range msgs {
		out[m.ID] = m
	}
	return out
}

// TestOutboxClaimsLeasesAndOutcomes walks messages through the outbox: written with the change
// that causes them or not at all, claimed by one deliverer at a time under a lease that runs
// out, and then delivered, retried or failed with a notice to the coordinators.
func TestOutboxClaimsLeasesAndOutcomes(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		t0 := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
		ann := addMember(t, s, "Ann Example", "ann@example.org", t0)
		email := domain.Email{MemberID: ann.ID, Kind: domain.EmailMatchProposed, Link: "/matches/1"}

		// A transaction that fails takes its emails with it.
		err := s.Transact(ctx, func(ctx context.Context) error {
			if err := s.EnqueueEmails(ctx, t0, []domain.Email{email}); err != nil {
				return err
			}
			return errors.New("the change failed")
		})
		if err == nil || len(outbox(t, s)) != 0 {
			t.Fatalf("a rolled-back change left %d messages (err %v)", len(outbox(t, s)), err)
		}
		if err := s.EnqueueEmails(ctx, t0, []domain.Email{{MemberID: ann.ID, Kind: "newsletter"}}); err == nil {
			t.Error("an email of an unknown kind was written")
		}
		if err := s.EnqueueEmails(ctx, t0, []domain.Email{{MemberID: ann.ID, Kind: domain.EmailMatchProposed, Link: "https://evil.example/"}}); err == nil {
			t.Error("an email linking off the site was written")
		}

		if err := s.EnqueueEmails(ctx, t0, []domain.Email{email, email, email}); err != nil {
			t.Fatal(err)
		}
		keys := map[string]bool{}
		for _, m := range outbox(t, s) {
			keys[m.IdempotencyKey] = true
		}
		if len(keys) != 3 {
			t.Fatalf("three emails have %d idempotency keys", len(keys))
		}

		lease := 5 * time.Minute
		first, err := s.ClaimOutbox(ctx, t0, lease, 2)
		if err != nil || len(first) != 2 {
			t.Fatalf("first claim: %d messages, %v; want 2", len(first), err)
		}
		second, err := s.ClaimOutbox(ctx, t0.Add(time.Second), lease, 10)
		if err != nil || len(second) != 1 || second[0].ID == first[0].ID || second[0].ID == first[1].ID {
			t.Fatalf("second claim: %v, %v; want only the one not claimed", second, err)
		}
		if none, _ := s.ClaimOutbox(ctx, t0.Add(time.Minute), lease, 10); len(none) != 0 {
			t.Fatalf("claimed %d messages under another's lease", len(none))
		}

		// Outcomes: delivered; failed once, to be tried later; given up on.
		done, retry, give := first[0], first[1], second[0]
		if err := s.MarkDelivered(ctx, done.ID, t0.Add(time.Minute)); err != nil {
			t.Fatal(err)
		}
		if err := s.RetryDelivery(ctx, retry.ID, "421 try later", t0.Add(10*time.Minute), t0.Add(time.Minute)); err != nil {
			t.Fatal(err)
		}
		notice := domain.Notice{Kind: domain.NoticeDeliveryFailed, Message: "We could not send an email to Ann", Link: "/coordinate/members/1"}
		if err := s.FailDelivery(ctx, give.ID, "550 no such user", t0.Add(time.Minute), notice); err != nil {
			t.Fatal(err)
		}
		// A late report from a deliverer whose lease ran out changes nothing.
		if err := s.FailDelivery(ctx, done.ID, "late", t0.Add(2*time.Minute), notice); err != nil {
			t.Fatal(err)
		}
		msgs := outbox(t, s)
		if m := msgs[done.ID]; m.Status != domain.OutboxDelivered || m.Attempts != 1 {
			t.Errorf("delivered message: %+v", m)
		}
		if m := msgs[retry.ID]; m.Status != domain.OutboxPending || m.Attempts != 1 || m.LastError != "421 try later" || !m.NextAttemptAt.Equal(t0.Add(10*time.Minute)) {
			t.Errorf("retried message: %+v", m)
		}
		if m := msgs[give.ID]; m.Status != domain.OutboxFailed || m.LastError != "550 no such user" {
			t.Errorf("failed message: %+v", m)
		}
		notices, err := s.Notices(ctx, 10)
		if err != nil || len(notices) != 1 || notices[0].Kind != domain.NoticeDeliveryFailed || !strings.Contains(notices[0].Message, "Ann") {
			t.Errorf("notices: %+v, %v; want one about the failed email", notices, err)
		}

		// The retried message is not due before its time, and is then claimed again even though
		// its earlier lease has not run out.
		if got, _ := s.ClaimOutbox(ctx, t0.Add(9*time.Minute), lease, 10); len(got) != 0 {
			t.Errorf("claimed %d messages before they were due", len(got))
		}
		got, err := s.ClaimOutbox(ctx, t0.Add(10*time.Minute), lease, 10)
		if err != nil || len(got) != 1 || got[0].ID != retry.ID || got[0].Attempts != 1 {
			t.Errorf("claim when due: %+v, %v", got, err)
		}
		// A deliverer that dies holding a lease: the message is claimed again when it runs out.
		if got, _ := s.ClaimOutbox(ctx, t0.Add(10*time.Minute+lease), lease, 10); len(got) != 1 {
			t.Errorf("after the lease ran out, claimed %d messages, want 1", len(got))
		}

		// Housekeeping deletes finished messages older than the cut-off, never pending ones.
		n, err := s.PruneOutbox(ctx, t0.Add(90*time.Minute))
		if err != nil || n != 2 {
			t.Errorf("pruned %d (%v), want the delivered and the failed message", n, err)
		}
		if msgs := outbox(t, s); len(msgs) != 1 || msgs[retry.ID].Status != domain.OutboxPending {
			t.Errorf("after pruning: %v", msgs)
		}
	})
}

// TestWebhooksAreWrittenWithTheirChange checks that a webhook is written to the outbox with the
// change that causes it or not at all, for its service, under a key of its own, with the body
// that will be sent, and that a deliverer claims it with the service named.
func TestWebhooksAreWrittenWithTheirChange(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		t0 := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
		ev := domain.WebhookEvent{ServiceID: 7, Event: domain.WebhookEscalationRequested, EscalationID: 42, Status: "requested",
			URL: "https://coop.example.org/api/v1/escalations/42"}

		err := s.Transact(ctx, func(ctx context.Context) error {
			if err := s.EnqueueWebhook(ctx, t0, "https://service.example/hooks", ev); err != nil {
				return err
			}
			return errors.New("the escalation could not be written")
		})
		if err == nil || len(outbox(t, s)) != 0 {
			t.Fatalf("a rolled-back change left %d messages (err %v)", len(outbox(t, s)), err)
		}
		for _, bad := range []domain.WebhookEvent{
			{ServiceID: 7, Event: "escalation.gossip", EscalationID: 42, Status: "requested", URL: ev.URL},
			{ServiceID: 0, Event: ev.Event, EscalationID: 42, Status: "requested", URL: ev.URL},
			{ServiceID: 7, Event: ev.Event, EscalationID: 42, Status: "requested", URL: "/api/v1/escalations/42"},
		} {
			if err := s.EnqueueWebhook(ctx, t0, "https://service.example/hooks", bad); err == nil {
				t.Errorf("%+v was written", bad)
			}
		}
		if err := s.EnqueueWebhook(ctx, t0, "", ev); err == nil {
			t.Error("a webhook with no address was written")
		}

		for range 2 {
			if err := s.EnqueueWebhook(ctx, t0, "https://service.example/hooks", ev); err != nil {
				t.Fatal(err)
			}
		}
		got, err := s.ClaimOutbox(ctx, t0, time.Minute, 10)
		if err != nil || len(got) != 2 {
			t.Fatalf("claimed %d (%v), want 2", len(got), err)
		}
		if got[0].IdempotencyKey == got[1].IdempotencyKey {
			t.Error("two webhooks share an idempotency key")
		}
		m := got[0]
		want := `{"type":"escalation.requested","escalation_id":42,"status":"requested","url":"https://coop.example.org/api/v1/escalations/42","occurred_at":"2026-03-02T09:00:00Z"}`
		if m.Channel != domain.ChannelWebhook || m.Kind != ev.Event || m.ServiceID != 7 || m.MemberID != 0 ||
			m.Recipient != "https://service.example/hooks" || string(m.Payload) != want || !strings.HasPrefix(m.IdempotencyKey, "webhook-") {
			t.Errorf("claimed %+v (payload %s)", m, m.Payload)
		}
	})
}

// TestServiceEmailsAreWrittenWithTheirChange checks that the email telling a service with no
// webhook of an escalation is written with the change that causes it or not at all, for the
// service and no member, with its name, the escalation's number and status in words, and the
// absolute inbox link; and that one for a service that does not exist is refused.
func TestServiceEmailsAreWrittenWithTheirChange(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		t0 := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
		svc := domain.Service{Name: "Riverside Adult Social Care", Organisation: "Riverside Council", Email: "referrals@riverside.example",
			Active: true, CreatedAt: t0, UpdatedAt: t0}
		if err := s.CreateService(ctx, &svc, ""); err != nil {
			t.Fatal(err)
		}
		ev := domain.WebhookEvent{ServiceID: svc.ID, Event: domain.WebhookEscalationUpdated, EscalationID: 42, Status: "accepted",
			URL: "https://coop.example.org/inbox/42"}

		err := s.Transact(ctx, func(ctx context.Context) error {
			if err := s.EnqueueServiceEmail(ctx, t0, svc.Email, ev); err != nil {
				return err
			}
			return errors.New("the escalation could not be written")
		})
		if err == nil || len(outbox(t, s)) != 0 {
			t.Fatalf("a rolled-back change left %d messages (err %v)", len(outbox(t, s)), err)
		}
		for name, bad := range map[string]domain.WebhookEvent{
			"unknown event":   {ServiceID: svc.ID, Event: "escalation.gossip", EscalationID: 42, Status: "accepted", URL: ev.URL},
			"no service":      {ServiceID: 0, Event: ev.Event, EscalationID: 42, Status: "accepted", URL: ev.URL},
			"unknown service": {ServiceID: svc.ID + 100, Event: ev.Event, EscalationID: 42, Status: "accepted", URL: ev.URL},
			"a path":          {ServiceID: svc.ID, Event: ev.Event, EscalationID: 42, Status: "accepted", URL: "/inbox/42"},
			"not the web":     {ServiceID: svc.ID, Event: ev.Event, EscalationID: 42, Status: "accepted", URL: "javascript://x/%0aalert(1)"},
		} {
			if err := s.EnqueueServiceEmail(ctx, t0, svc.Email, bad); err == nil {
				t.Errorf("%s: %+v was written", name, bad)
			}
		}
		if err := s.EnqueueServiceEmail(ctx, t0, "", ev); err == nil {
			t.Error("an email with no address was written")
		}
		if len(outbox(t, s)) != 0 {
			t.Fatalf("refused emails left %d messages", len(outbox(t, s)))
		}

		for range 2 {
			if err := s.EnqueueServiceEmail(ctx, t0, svc.Email, ev); err != nil {
				t.Fatal(err)
			}
		}
		got, err := s.ClaimOutbox(ctx, t0, time.Minute, 10)
		if err != nil || len(got) != 2 {
			t.Fatalf("claimed %d (%v), want 2", len(got), err)
		}
		if got[0].IdempotencyKey == got[1].IdempotencyKey {
			t.Error("two emails share an idempotency key")
		}
		m := got[0]
		if m.Channel != domain.ChannelEmail || m.Kind != domain.WebhookEscalationUpdated || m.ServiceID != svc.ID || m.MemberID != 0 ||
			m.Recipient != "referrals@riverside.example" || !strings.HasPrefix(m.IdempotencyKey, "email-") {
			t.Errorf("claimed %+v", m)
		}
		var p domain.EmailPayload
		if err := json.Unmarshal(m.Payload, &p); err != nil {
			t.Fatal(err)
		}
		want := domain.EmailPayload{Template: domain.WebhookEscalationUpdated, Link: "https://coop.example.org/inbox/42", Data: map[string]string{
			domain.EmailDataService: "Riverside Adult Social Care", domain.EmailDataEscalation: "42", domain.EmailDataStatus: "Accepted by the service"}}
		if !reflect.DeepEqual(p, want) {
			t.Errorf("payload %+v, want %+v", p, want)
		}
	})
}
