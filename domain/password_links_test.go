package domain_test

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/coop-exchange/coop/domain"
	"github.com/coop-exchange/coop/domain/store"
	"github.com/coop-exchange/coop/domain/store/storetest"
)

// passwordLinks returns the tokens of the set-password emails in the outbox for the address to,
// oldest first, with the payloads they came in.
func passwordLinks(t *testing.T, st *store.Store, to string) ([]string, []domain.EmailPayload) {
	t.Helper()
	msgs, err := st.ListOutbox(context.Background(), "", 1000)
	if err != nil {
		t.Fatal(err)
	}
	var tokens []string
	var payloads []domain.EmailPayload
	for i := len(msgs) - 1; i >= 0; i-- {
		m := msgs[i]
		if m.Kind != domain.EmailSetPassword || m.Recipient != to {
			continue
		}
		var p domain.EmailPayload
		if err := json.Unmarshal(m.Payload, &p); err != nil {
			t.Fatal(err)
		}
		token, ok := strings.CutPrefix(p.Link, domain.PasswordSetPath(""))
		if !ok || token == "" {
			t.Fatalf("the email links to %q, not to the set-password page", p.Link)
		}
		tokens, payloads = append(tokens, token), append(payloads, p)
	}
	return tokens, payloads
}

func isRefused(err error) bool { return errors.Is(err, domain.ErrPasswordLinkRefused) }

// TestPasswordLinks follows a coordinator's link for someone added without a password: it sets
// the password once and signs out every session; used again, run out, altered or made for an
// older password, it is refused; and only coordinators (or the system) can send one.
func TestPasswordLinks(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		w := newWorld(t, st)
		origin := domain.Origin{IP: "198.51.100.7"}
		sam, err := w.membership.AddMember(ctx, w.admin, domain.NewMemberInput{Name: "Sam Taylor", Email: "sam@example.org",
			Phone: "01632 960 002", AreaID: w.area.ID, Role: domain.RoleServices, ConsentRecorded: true})
		if err != nil {
			t.Fatal(err)
		}

		// Who may send one.
		member := w.add(t, w.coord, "Mo Member", "mo@example.org", domain.RoleMember)
		services := w.add(t, w.admin, "Sid Services", "sid@example.org", domain.RoleServices)
		for _, by := range []domain.Actor{{}, {ID: member.ID, Name: member.Name, Role: member.Role}, {ID: services.ID, Name: services.Name, Role: services.Role}} {
			if err := w.accounts.SendPasswordLink(ctx, by, sam.ID); !errors.Is(err, domain.ErrForbidden) {
				t.Errorf("%q (%s) sent a password link: %v", by.Name, by.Role, err)
			}
		}
		if tokens, _ := passwordLinks(t, st, "sam@example.org"); len(tokens) != 0 {
			t.Fatalf("refused senders left %d emails", len(tokens))
		}
		if err := w.accounts.SendPasswordLink(ctx, w.coord, sam.ID); err != nil {
			t.Fatal(err)
		}
		tokens, payloads := passwordLinks(t, st, "sam@example.org")
		if len(tokens) != 1 || payloads[0].Data[domain.EmailDataWho] != "Cora" || payloads[0].Name != "Sam Taylor" {
			t.Fatalf("after a coordinator sent one: %d links, %+v", len(tokens), payloads)
		}
		token := tokens[0]
		if err := w.accounts.SendPasswordLink(ctx, domain.SystemActor("test"), sam.ID); err != nil {
			t.Errorf("the system sending a link: %v", err)
		}
		if err := w.accounts.SendPasswordLink(ctx, w.coord, sam.ID+1000); !errors.Is(err, domain.ErrNotFound) {
			t.Errorf("a link for nobody: %v, want ErrNotFound", err)
		}

		// Reading the link changes nothing and says whose it is.
		link, err := w.accounts.CheckPasswordLink(ctx, token)
		if err != nil || link.Email != "sam@example.org" || link.Name != "Sam" || !link.Expires.Equal(w.now.Add(domain.PasswordLinkLife)) {
			t.Fatalf("checking the link: %+v, %v", link, err)
		}

		// Tampered links: another member, a later expiry, a changed signature, cut short, empty.
		id, rest, _ := strings.Cut(token, ".")
		exp, sig, _ := strings.Cut(rest, ".")
		flip := func(s string) string {
			last := s[len(s)-1]
			if last == '0' {
				return s[:len(s)-1] + "1"
			}
			return s[:len(s)-1] + "0"
		}
		for name, bad := range map[string]string{
			"another member's": strconv.FormatInt(member.ID, 10) + "." + exp + "." + sig,
			"a later expiry":   id + "." + strconv.FormatInt(w.now.Add(30*24*time.Hour).Unix(), 10) + "." + sig,
			"a changed MAC":    id + "." + exp + "." + flip(sig),
			"cut short":        id + "." + exp,
			"empty":            "",
			"not numbers":      "x." + exp + "." + sig,
		} {
			if _, err := w.accounts.CheckPasswordLink(ctx, bad); !isRefused(err) {
				t.Errorf("%s link read: %v", name, err)
			}
			if err := w.accounts.SetPasswordWithLink(ctx, bad, "a brand new passphrase", origin); !isRefused(err) {
				t.Errorf("%s link set a password: %v", name, err)
			}
		}
		if got, _ := st.Member(ctx, sam.ID); got.PasswordHash != "" {
			t.Fatal("a refused link set a password")
		}

		// A poor password is a field error, and the link still works afterwards.
		if err := w.accounts.SetPasswordWithLink(ctx, token, "short", origin); !slices.Equal(fieldsOf(err), []string{"password"}) {
			t.Errorf("a short password: %v, want an error on password", err)
		}

		if err := w.accounts.SetPasswordWithLink(ctx, token, "a brand new passphrase", origin); err != nil {
			t.Fatalf("a good link: %v", err)
		}
		if _, _, err := w.accounts.SignIn(ctx, "sam@example.org", "a brand new passphrase", origin); err != nil {
			t.Errorf("signing in with the new password: %v", err)
		}
		if actions := w.auditActions(t, sam.ID); !slices.Contains(actions, domain.AuditPasswordLinkSent) || !slices.Contains(actions, domain.AuditPasswordChanged) {
			t.Errorf("audit for Sam: %v", actions)
		}

		// Used once, the link (and the other one sent before it was used) no longer works.
		_, sess, err := w.accounts.SignIn(ctx, "sam@example.org", "a brand new passphrase", origin)
		if err != nil {
			t.Fatal(err)
		}
		for i, tok := range func() []string { ts, _ := passwordLinks(t, st, "sam@example.org"); return ts }() {
			if err := w.accounts.SetPasswordWithLink(ctx, tok, "someone else's passphrase", origin); !isRefused(err) {
				t.Errorf("link %d used after a password was set: %v", i, err)
			}
		}
		if _, _, err := w.accounts.Authenticate(ctx, sess); err != nil {
			t.Errorf("a refused link ended a session: %v", err)
		}

		// A new link works, and ends every session.
		if err := w.accounts.SendPasswordLink(ctx, w.coord, sam.ID); err != nil {
			t.Fatal(err)
		}
		tokens, _ = passwordLinks(t, st, "sam@example.org")
		if err := w.accounts.SetPasswordWithLink(ctx, tokens[len(tokens)-1], "another new passphrase", origin); err != nil {
			t.Fatal(err)
		}
		if _, _, err := w.accounts.Authenticate(ctx, sess); !errors.Is(err, domain.ErrUnauthenticated) {
			t.Errorf("a session outlived a password set by link: %v", err)
		}

		// A link runs out after seven days.
		if err := w.accounts.SendPasswordLink(ctx, w.coord, sam.ID); err != nil {
			t.Fatal(err)
		}
		tokens, _ = passwordLinks(t, st, "sam@example.org")
		w.advance(domain.PasswordLinkLife - time.Second)
		if _, err := w.accounts.CheckPasswordLink(ctx, tokens[len(tokens)-1]); err != nil {
			t.Errorf("a link a second before it runs out: %v", err)
		}
		w.advance(time.Second)
		if err := w.accounts.SetPasswordWithLink(ctx, tokens[len(tokens)-1], "an expired passphrase", origin); !isRefused(err) {
			t.Errorf("an expired link: %v", err)
		}

		// A member with no email address, or who is suspended, cannot be sent one.
		dee, err := w.membership.AddMember(ctx, w.coord, domain.NewMemberInput{Name: "Dee Phoneonly", Phone: "01632 960 001",
			AreaID: w.area.ID, Role: domain.RoleMember, ConsentRecorded: true})
		if err != nil {
			t.Fatal(err)
		}
		if err := w.accounts.SendPasswordLink(ctx, w.coord, dee.ID); !slices.Equal(fieldsOf(err), []string{"email"}) {
			t.Errorf("no email address: %v, want an error on email", err)
		}
		if _, err := w.membership.Suspend(ctx, w.coord, member.ID, "test"); err != nil {
			t.Fatal(err)
		}
		if err := w.accounts.SendPasswordLink(ctx, w.coord, member.ID); !errors.Is(err, domain.ErrConflict) {
			t.Errorf("a suspended member: %v, want a conflict", err)
		}
	})
}

// TestLinkStopsWhenSuspended checks that a link sent to a member who is then suspended no longer
// works: a suspended member cannot sign in, and setting a password is a step towards it.
func TestLinkStopsWhenSuspended(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		w := newWorld(t, st)
		mo := w.add(t, w.coord, "Mo Member", "mo@example.org", domain.RoleMember)
		if err := w.accounts.SendPasswordLink(ctx, w.coord, mo.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := w.membership.Suspend(ctx, w.coord, mo.ID, "test"); err != nil {
			t.Fatal(err)
		}
		tokens, _ := passwordLinks(t, st, "mo@example.org")
		if err := w.accounts.SetPasswordWithLink(ctx, tokens[0], "a brand new passphrase", domain.Origin{}); !isRefused(err) {
			t.Errorf("a suspended member's link: %v", err)
		}
	})
}

// TestForgotPassword asks for a link as a visitor would: the answer is the same for a member, a
// stranger and a suspended member, only an active member gets an email, and asking too often is
// refused whether or not the address is a member's.
func TestForgotPassword(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		w := newWorld(t, st)
		origin := domain.Origin{IP: "198.51.100.7"}
		w.add(t, w.coord, "Mo Member", "mo@example.org", domain.RoleMember)
		sus := w.add(t, w.coord, "Sue Suspended", "sue@example.org", domain.RoleMember)
		if _, err := w.membership.Suspend(ctx, w.coord, sus.ID, "test"); err != nil {
			t.Fatal(err)
		}

		for _, email := range []string{" Mo@Example.org ", "nobody@example.org", "sue@example.org"} {
			if err := w.accounts.ForgotPassword(ctx, email, origin); err != nil {
				t.Errorf("forgot %q: %v, want the same quiet answer for all", email, err)
			}
		}
		if err := w.accounts.ForgotPassword(ctx, "not an address", origin); !slices.Equal(fieldsOf(err), []string{"email"}) {
			t.Errorf("a malformed address: %v, want an error on email", err)
		}
		msgs, err := st.ListOutbox(ctx, "", 100)
		if err != nil {
			t.Fatal(err)
		}
		if len(msgs) != 1 || msgs[0].Recipient != "mo@example.org" || msgs[0].Kind != domain.EmailSetPassword {
			t.Fatalf("outbox %+v, want one link, to Mo", msgs)
		}
		tokens, payloads := passwordLinks(t, st, "mo@example.org")
		if _, who := payloads[0].Data[domain.EmailDataWho]; who {
			t.Errorf("a link the member asked for says a coordinator asked: %+v", payloads[0])
		}
		if err := w.accounts.SetPasswordWithLink(ctx, tokens[0], "a remembered passphrase", origin); err != nil {
			t.Errorf("the forgotten-password link: %v", err)
		}
		if actions := w.auditActions(t, sus.ID); !slices.Contains(actions, domain.AuditPasswordLinkNotSent) {
			t.Errorf("audit for Sue: %v, want %s", actions, domain.AuditPasswordLinkNotSent)
		}

		// Three an hour for one address, a member's or not, from anywhere; the fourth is refused.
		w.add(t, w.coord, "Lee Member", "lee@example.org", domain.RoleMember)
		var rl *domain.RateLimitError
		for n, email := range []string{"lee@example.org", "stranger@example.org"} {
			for i := range 4 {
				from := domain.Origin{IP: "203.0.113." + strconv.Itoa(10*n+i)}
				err := w.accounts.ForgotPassword(ctx, email, from)
				if i < 3 && err != nil {
					t.Fatalf("request %d for %s: %v", i+1, email, err)
				}
				if i == 3 && !errors.As(err, &rl) {
					t.Errorf("a fourth request for %s: %v, want a rate limit", email, err)
				}
			}
		}
		if tokens, _ := passwordLinks(t, st, "lee@example.org"); len(tokens) != 3 {
			t.Errorf("Lee got %d links, want 3", len(tokens))
		}
	})
}
