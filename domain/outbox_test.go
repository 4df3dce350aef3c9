package domain_test

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/coop-exchange/coop/domain"
	"github.com/coop-exchange/coop/domain/store"
	"github.com/coop-exchange/coop/domain/store/storetest"
)

func wanted(prefs []domain.EmailPreference) map[string]bool {
	out := map[string]bool{}
	for _, p := range prefs {
		out[p.Kind] = p.Wants
	}
	return out
}

// TestMembersChooseTheirOwnEmails checks that a member wants every kind of email until they say
// otherwise, that only they can read or change their choices, and that the outbox honours them.
func TestMembersChooseTheirOwnEmails(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		w := newWorld(t, st)
		prefs := domain.NewPreferences(st, w.audit, func() time.Time { w.mu.Lock(); defer w.mu.Unlock(); return w.now })
		annM := w.add(t, w.coord, "Ann Example", "ann@example.org", domain.RoleMember)
		bobM := w.add(t, w.coord, "Bob Example", "bob@example.org", domain.RoleMember)
		ann := domain.Actor{ID: annM.ID, Name: annM.Name, Role: annM.Role}
		bob := domain.Actor{ID: bobM.ID, Name: bobM.Name, Role: bobM.Role}

		got, err := prefs.EmailPreferences(ctx, ann, ann.ID)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != len(domain.EmailKinds) {
			t.Fatalf("%d preferences, want one per kind (%d)", len(got), len(domain.EmailKinds))
		}
		for _, p := range got {
			if !p.Wants || p.Label == "" || p.Hint == "" {
				t.Errorf("a new member's %s: %+v, want it wanted and described", p.Kind, p)
			}
		}

		got, err = prefs.SetEmailPreferences(ctx, ann, ann.ID, map[string]bool{domain.EmailMatchReminder: false, domain.EmailCheckDue: false})
		if err != nil {
			t.Fatal(err)
		}
		if m := wanted(got); m[domain.EmailMatchReminder] || m[domain.EmailCheckDue] || !m[domain.EmailMatchProposed] {
			t.Errorf("after opting out of reminders and checks: %v", m)
		}
		// Kinds not named keep their setting; a kind can be wanted again.
		got, err = prefs.SetEmailPreferences(ctx, ann, ann.ID, map[string]bool{domain.EmailCheckDue: true})
		if err != nil {
			t.Fatal(err)
		}
		if m := wanted(got); m[domain.EmailMatchReminder] || !m[domain.EmailCheckDue] {
			t.Errorf("after opting back in to checks: %v", m)
		}
		again, err := prefs.EmailPreferences(ctx, ann, ann.ID)
		if err != nil || !slices.Equal(again, got) {
			t.Errorf("read back %v (%v), want %v", again, err, got)
		}

		for _, who := range []domain.Actor{bob, w.coord, w.admin, {}} {
			if _, err := prefs.EmailPreferences(ctx, who, ann.ID); !errors.Is(err, domain.ErrForbidden) {
				t.Errorf("%q read Ann's email preferences: %v", who.Name, err)
			}
			if _, err := prefs.SetEmailPreferences(ctx, who, ann.ID, map[string]bool{domain.EmailMatchReminder: true}); !errors.Is(err, domain.ErrForbidden) {
				t.Errorf("%q set Ann's email preferences: %v", who.Name, err)
			}
		}
		if got, _ := prefs.EmailPreferences(ctx, ann, ann.ID); wanted(got)[domain.EmailMatchReminder] {
			t.Error("someone else changed Ann's choice")
		}
		var verr *domain.ValidationError
		if _, err := prefs.SetEmailPreferences(ctx, ann, ann.ID, map[string]bool{"spam": true}); !errors.As(err, &verr) || !verr.Has("spam") {
			t.Errorf("an unknown kind: %v, want a validation error naming it", err)
		}
		if actions := w.auditActions(t, ann.ID); !slices.Contains(actions, domain.AuditEmailPreferences) {
			t.Errorf("audit for Ann: %v, want %s", actions, domain.AuditEmailPreferences)
		}

		// The outbox: Ann gets the proposal but not the reminder; Bob gets both; a suspended
		// member and one with no email address get nothing.
		carl := w.add(t, w.coord, "Carl Example", "carl@example.org", domain.RoleMember)
		if _, err := w.membership.Suspend(ctx, w.coord, carl.ID, "test"); err != nil {
			t.Fatal(err)
		}
		dee, err := w.membership.AddMember(ctx, w.coord, domain.NewMemberInput{Name: "Dee Phoneonly", Phone: "01632 960 001",
			AreaID: w.area.ID, Role: domain.RoleMember, ConsentRecorded: true})
		if err != nil {
			t.Fatal(err)
		}
		var emails []domain.Email
		for _, id := range []int64{ann.ID, bob.ID, carl.ID, dee.ID} {
			for _, kind := range []string{domain.EmailMatchProposed, domain.EmailMatchReminder} {
				emails = append(emails, domain.Email{MemberID: id, Kind: kind, Data: map[string]string{domain.EmailDataWhat: "a lift"}, Link: "/matches/7"})
			}
		}
		if err := st.EnqueueEmails(ctx, w.now, emails); err != nil {
			t.Fatal(err)
		}
		msgs, err := st.ListOutbox(ctx, "", 100)
		if err != nil {
			t.Fatal(err)
		}
		var sent []string
		for _, m := range msgs {
			sent = append(sent, m.Recipient+" "+m.Kind)
			var p domain.EmailPayload
			if err := json.Unmarshal(m.Payload, &p); err != nil || p.Template != m.Kind || p.Link != "/matches/7" || p.Data[domain.EmailDataWhat] != "a lift" || p.Name == "" {
				t.Errorf("payload of %s to %s: %s (%v)", m.Kind, m.Recipient, m.Payload, err)
			}
			if m.Status != domain.OutboxPending || m.Channel != domain.ChannelEmail || m.IdempotencyKey == "" {
				t.Errorf("message %+v", m)
			}
		}
		slices.Sort(sent)
		want := []string{"ann@example.org match.proposed", "bob@example.org match.proposed", "bob@example.org match.reminder"}
		if !slices.Equal(sent, want) {
			t.Errorf("emails written: %v, want %v", sent, want)
		}
	})
}

// TestAccountEmailsAreNotOptional checks that an account email is neither on the preferences
// page nor choosable there, and is written to the outbox even for a member who has a stored
// refusal of it (the store must not honour one, however it got there).
func TestAccountEmailsAreNotOptional(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		w := newWorld(t, st)
		prefs := domain.NewPreferences(st, w.audit, func() time.Time { w.mu.Lock(); defer w.mu.Unlock(); return w.now })
		annM := w.add(t, w.coord, "Ann Example", "ann@example.org", domain.RoleMember)
		ann := domain.Actor{ID: annM.ID, Name: annM.Name, Role: annM.Role}

		for _, kind := range domain.AccountEmailKinds {
			if domain.KnownEmailKind(kind) {
				t.Errorf("%s is on the preferences page", kind)
			}
		}
		got, err := prefs.EmailPreferences(ctx, ann, ann.ID)
		if err != nil {
			t.Fatal(err)
		}
		if _, listed := wanted(got)[domain.EmailSetPassword]; listed {
			t.Errorf("the preferences list %s", domain.EmailSetPassword)
		}
		var verr *domain.ValidationError
		if _, err := prefs.SetEmailPreferences(ctx, ann, ann.ID, map[string]bool{domain.EmailSetPassword: false}); !errors.As(err, &verr) {
			t.Errorf("opting out of %s: %v, want a validation error", domain.EmailSetPassword, err)
		}

		// Refusals of everything, account email included, written straight to the store.
		all := map[string]bool{domain.EmailSetPassword: false}
		for _, k := range domain.EmailKinds {
			all[k.Kind] = false
		}
		if err := st.SetEmailChoices(ctx, ann.ID, all, w.now); err != nil {
			t.Fatal(err)
		}
		err = st.EnqueueEmails(ctx, w.now, []domain.Email{
			{MemberID: ann.ID, Kind: domain.EmailMatchProposed, Link: "/matches/7"},
			{MemberID: ann.ID, Kind: domain.EmailSetPassword, Link: "/password/set?token=x"},
		})
		if err != nil {
			t.Fatal(err)
		}
		msgs, err := st.ListOutbox(ctx, "", 10)
		if err != nil {
			t.Fatal(err)
		}
		if len(msgs) != 1 || msgs[0].Kind != domain.EmailSetPassword || msgs[0].Recipient != "ann@example.org" {
			t.Errorf("outbox %+v, want only the %s email to Ann", msgs, domain.EmailSetPassword)
		}
	})
}
