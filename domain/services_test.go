package domain_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coop-exchange/coop/domain"
	"github.com/coop-exchange/coop/domain/store"
	"github.com/coop-exchange/coop/domain/store/storetest"
)

// world is the domain services over one fresh store, with a clock the test moves.
type world struct {
	st         *store.Store
	membership *domain.Membership
	accounts   *domain.Accounts
	catalogue  *domain.Catalogue
	audit      *domain.Audit
	mu         sync.Mutex
	now        time.Time
	area       domain.Area
	admin      domain.Actor
	coord      domain.Actor
}

// cheap argon2 parameters keep the tests quick; the production ones are tested in rules_test.go.
var cheap = domain.PasswordHasher{Params: domain.PasswordParams{Memory: 1024, Time: 1, Threads: 1}}

func newWorld(t *testing.T, st *store.Store) *world {
	t.Helper()
	w := &world{st: st, now: time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)}
	clock := domain.Clock(func() time.Time { w.mu.Lock(); defer w.mu.Unlock(); return w.now })
	w.audit = domain.NewAudit(st, clock)
	limiter := domain.NewRateLimiter(st, clock)
	w.membership = domain.NewMembership(st, st, st, st, w.audit, limiter, cheap, clock)
	w.accounts = domain.NewAccounts(st, st, st, st, w.audit, limiter, cheap, clock, []byte(strings.Repeat("s", 32)))
	w.catalogue = domain.NewCatalogue(st, st, st, w.audit, clock)
	ctx := context.Background()
	lat, lon := 53.3811, -1.4701
	var err error
	w.area, err = w.catalogue.CreateArea(ctx, domain.SystemActor("test"), domain.AreaInput{Name: "Bridge End", Code: "BE1", Lat: &lat, Lon: &lon})
	if err != nil {
		t.Fatal(err)
	}
	admin := w.add(t, domain.SystemActor("test"), "Ada Admin", "ada@example.org", domain.RoleAdmin)
	w.admin = domain.Actor{ID: admin.ID, Name: admin.Name, Role: admin.Role}
	coord := w.add(t, w.admin, "Cora Coordinator", "cora@example.org", domain.RoleCoordinator)
	w.coord = domain.Actor{ID: coord.ID, Name: coord.Name, Role: coord.Role}
	return w
}

func (w *world) advance(d time.Duration) { w.mu.Lock(); w.now = w.now.Add(d); w.mu.Unlock() }

func (w *world) add(t *testing.T, by domain.Actor, name, email string, role domain.Role) domain.Member {
	t.Helper()
	m, err := w.membership.AddMember(context.Background(), by, domain.NewMemberInput{Name: name, Email: email,
		Phone: "01632 960 000", AreaID: w.area.ID, Role: role, Password: "a long enough password", ConsentRecorded: true})
	if err != nil {
		t.Fatalf("add %s: %v", name, err)
	}
	return m
}

func (w *world) application(name, email string) domain.ApplicationInput {
	return domain.ApplicationInput{Name: name, Email: email, Phone: "07700 900 123", AreaID: w.area.ID,
		Password: "my secret phrase", Reason: "I can give lifts on Tuesdays.", Consent: true}
}

func (w *world) auditActions(t *testing.T, subject int64) []string {
	t.Helper()
	page, err := w.audit.List(context.Background(), w.admin, domain.AuditQuery{SubjectID: subject, Page: domain.PageQuery{Limit: 200}})
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for i := len(page.Items) - 1; i >= 0; i-- {
		out = append(out, page.Items[i].Action)
	}
	return out
}

func fieldsOf(err error) []string {
	var v *domain.ValidationError
	if !errors.As(err, &v) {
		return nil
	}
	var out []string
	for _, f := range v.Fields {
		out = append(out, f.Field)
	}
	return out
}

func TestApplicationLifeCycle(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		w := newWorld(t, st)
		origin := domain.Origin{IP: "198.51.100.7"}

		sam, err := w.membership.Apply(ctx, w.application("Sam Taylor", "Sam.Taylor@Example.org"), origin)
		if err != nil {
			t.Fatal(err)
		}
		if sam.Status != domain.StatusApplicant || sam.Email != "sam.taylor@example.org" {
			t.Errorf("applied as %s with email %q", sam.Status, sam.Email)
		}
		consents, err := w.membership.Consents(ctx, w.coord, sam.ID)
		if err != nil || len(consents) != 1 || consents[0].Wording != domain.DataHoldingConsentWording || !consents[0].GivenAt.Equal(w.now) {
			t.Errorf("consent not stored with its wording and time: %+v %v", consents, err)
		}

		// An applicant cannot sign in, and is told why (only with the right password).
		_, _, err = w.accounts.SignIn(ctx, "sam.taylor@example.org", "my secret phrase", origin)
		var refused *domain.SignInRefusedError
		if !errors.As(err, &refused) || !strings.Contains(refused.Message, "not looked at your application") {
			t.Errorf("applicant sign-in: %v, want a refusal saying the application is waiting", err)
		}
		if _, _, err = w.accounts.SignIn(ctx, "sam.taylor@example.org", "wrong password", origin); !errors.Is(err, domain.ErrUnauthenticated) {
			t.Errorf("applicant with a wrong password: %v, want ErrUnauthenticated", err)
		}

		// The same email in another case is a duplicate, and nothing new is created.
		_, err = w.membership.Apply(ctx, w.application("Sam Again", "SAM.TAYLOR@example.org"), origin)
		if got := fieldsOf(err); len(got) != 1 || got[0] != "email" {
			t.Errorf("duplicate email: %v, want an email field error", err)
		}
		page, _ := w.membership.Applications(ctx, w.coord, domain.PageQuery{})
		if len(page.Items) != 1 {
			t.Errorf("%d applications waiting, want 1", len(page.Items))
		}

		// A member may not decide; a coordinator may.
		if _, err := w.membership.Approve(ctx, domain.Actor{ID: 99, Role: domain.RoleMember}, sam.ID); !errors.Is(err, domain.ErrForbidden) {
			t.Errorf("member approving: %v, want ErrForbidden", err)
		}
		if _, err := w.membership.Approve(ctx, w.coord, sam.ID); err != nil {
			t.Fatal(err)
		}
		_, err = w.membership.Decline(ctx, w.admin, sam.ID, "changed my mind")
		var conflict *domain.ConflictError
		if !errors.As(err, &conflict) || !strings.Contains(conflict.Message, "already approved by Cora Coordinator") {
			t.Errorf("deciding twice: %v, want a conflict naming who approved", err)
		}
		m, token, err := w.accounts.SignIn(ctx, "sam.taylor@example.org", "my secret phrase", origin)
		if err != nil || m.ID != sam.ID || token == "" {
			t.Fatalf("approved member cannot sign in: %v", err)
		}
		if got := w.auditActions(t, sam.ID); strings.Join(got, " ") != "application.received signin.failed signin.failed application.approved signin.succeeded" {
			t.Errorf("audit trail %v", got)
		}
	})
}

func TestDeclineIsToldAndReapplicationAllowed(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		w := newWorld(t, st)
		jo, err := w.membership.Apply(ctx, w.application("Jo Price", "jo@example.org"), domain.Origin{IP: "203.0.113.1"})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.membership.Decline(ctx, w.coord, jo.ID, "  "); !sameFields(err, "reason") {
			t.Errorf("decline without reason: %v", err)
		}
		if _, err := w.membership.Decline(ctx, w.coord, jo.ID, "We only cover Bridge End for now."); err != nil {
			t.Fatal(err)
		}
		_, _, err = w.accounts.SignIn(ctx, "jo@example.org", "my secret phrase", domain.Origin{IP: "203.0.113.1"})
		var refused *domain.SignInRefusedError
		if !errors.As(err, &refused) || !strings.Contains(refused.Message, "We only cover Bridge End for now.") {
			t.Errorf("declined sign-in: %v, want the coordinator's reason", err)
		}
		again, err := w.membership.Apply(ctx, w.application("Jo Price", "jo@example.org"), domain.Origin{IP: "203.0.113.1"})
		if err != nil || again.ID != jo.ID || again.Status != domain.StatusApplicant {
			t.Errorf("reapplying after a decline: %+v %v", again, err)
		}
	})
}

func sameFields(err error, fields ...string) bool {
	return strings.Join(fieldsOf(err), ",") == strings.Join(fields, ",")
}

func TestApplicationValidation(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, st *store.Store) {
		w := newWorld(t, st)
		_, err := w.membership.Apply(context.Background(), domain.ApplicationInput{Email: "not-an-email", Password: "short", AreaID: 9999}, domain.Origin{IP: "x"})
		if !sameFields(err, "name", "email", "phone", "area_id", "password", "reason", "consent") {
			t.Errorf("empty application: fields %v", fieldsOf(err))
		}
	})
}

func TestApplicationsAreRateLimited(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		w := newWorld(t, st)
		ip := domain.Origin{IP: "192.0.2.50"}
		for i := range 5 {
			if _, err := w.membership.Apply(ctx, w.application("P", fmt.Sprintf("p%d@example.org", i)), ip); err != nil {
				t.Fatalf("application %d: %v", i+1, err)
			}
			w.advance(time.Minute)
		}
		_, err := w.membership.Apply(ctx, w.application("P", "p6@example.org"), ip)
		var rl *domain.RateLimitError
		if !errors.As(err, &rl) || rl.RetryAfter <= 0 || !strings.Contains(rl.Message, "try again in") {
			t.Fatalf("sixth application in an hour: %v, want a rate limit with a time to wait", err)
		}
		if _, err := w.membership.Apply(ctx, w.application("Q", "q@example.org"), domain.Origin{IP: "192.0.2.51"}); err != nil {
			t.Errorf("another network is limited too: %v", err)
		}
		w.advance(time.Hour)
		if _, err := w.membership.Apply(ctx, w.application("P", "p6@example.org"), ip); err != nil {
			t.Errorf("an hour later: %v", err)
		}
		// Probing which emails are members is limited too, valid form or not.
		probe := domain.Origin{IP: "192.0.2.99"}
		for i := range 30 {
			_, err := w.membership.Apply(ctx, domain.ApplicationInput{Email: fmt.Sprintf("who%d@example.org", i)}, probe)
			if !errors.As(err, new(*domain.ValidationError)) {
				t.Fatalf("probe %d: %v", i+1, err)
			}
		}
		if _, err := w.membership.Apply(ctx, domain.ApplicationInput{Email: "cora@example.org"}, probe); !errors.As(err, &rl) {
			t.Errorf("the 31st attempt in an hour: %v, want a rate limit", err)
		}
	})
}

func TestSignInRateLimits(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		w := newWorld(t, st)
		home := domain.Origin{IP: "192.0.2.1"}
		for i := range 5 {
			if _, _, err := w.accounts.SignIn(ctx, "cora@example.org", "guess", home); !errors.Is(err, domain.ErrUnauthenticated) {
				t.Fatalf("attempt %d: %v", i+1, err)
			}
		}
		// From the same address even the right password is refused for a while.
		_, _, err := w.accounts.SignIn(ctx, "CORA@example.org", "a long enough password", home)
		var rl *domain.RateLimitError
		if !errors.As(err, &rl) || !strings.Contains(rl.Message, "paused it for a while") {
			t.Fatalf("after 5 failures from one address: %v, want a rate limit", err)
		}
		// Cora herself, elsewhere, is not locked out by that stranger.
		if _, _, err := w.accounts.SignIn(ctx, "cora@example.org", "a long enough password", domain.Origin{IP: "198.51.100.9"}); err != nil {
			t.Errorf("the right password from another address: %v", err)
		}
		// Guesses spread over many addresses are stopped at the account's looser limit.
		for i := range 15 {
			_, _, _ = w.accounts.SignIn(ctx, "cora@example.org", "guess", domain.Origin{IP: fmt.Sprintf("203.0.113.%d", i)})
		}
		if _, _, err := w.accounts.SignIn(ctx, "cora@example.org", "a long enough password", domain.Origin{IP: "203.0.113.200"}); !errors.As(err, &rl) {
			t.Errorf("after 20 failures from 16 addresses: %v, want a rate limit", err)
		}
		if _, _, err := w.accounts.SignIn(ctx, "ada@example.org", "a long enough password", domain.Origin{IP: "203.0.113.200"}); err != nil {
			t.Errorf("another account: %v", err)
		}
		w.advance(16 * time.Minute)
		if _, _, err := w.accounts.SignIn(ctx, "cora@example.org", "a long enough password", home); err != nil {
			t.Errorf("after the window: %v", err)
		}
		page, _ := w.audit.List(ctx, w.admin, domain.AuditQuery{Action: domain.AuditSignInFailed, Page: domain.PageQuery{Limit: 200}})
		if len(page.Items) != 22 {
			t.Errorf("%d failed sign-ins audited, want 22 (20 wrong passwords and 2 rate-limited)", len(page.Items))
		}
	})
}

// TestParallelGuessesAreLimited sends 40 wrong passwords at once from one address: no more than
// the limit of 5 are even checked.
func TestParallelGuessesAreLimited(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		w := newWorld(t, st)
		var wg sync.WaitGroup
		for range 40 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, _, _ = w.accounts.SignIn(ctx, "cora@example.org", "guess", domain.Origin{IP: "192.0.2.77"})
			}()
		}
		wg.Wait()
		page, _ := w.audit.List(ctx, w.admin, domain.AuditQuery{Action: domain.AuditSignInFailed, Page: domain.PageQuery{Limit: 200}})
		checked := 0
		for _, e := range page.Items {
			if e.Detail["why"] == "wrong password" {
				checked++
			}
		}
		if checked != 5 || len(page.Items) != 40 {
			t.Errorf("%d passwords checked of %d attempts audited; want 5 of 40", checked, len(page.Items))
		}
	})
}

func TestSessions(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		w := newWorld(t, st)
		_, token, err := w.accounts.SignIn(ctx, "cora@example.org", "a long enough password", domain.Origin{IP: "x"})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := st.SessionByTokenHash(ctx, token); !errors.Is(err, domain.ErrNotFound) {
			t.Error("the session token itself is stored, not only its hash")
		}
		m, _, err := w.accounts.Authenticate(ctx, token)
		if err != nil || m.ID != w.coord.ID {
			t.Fatalf("authenticate: %v", err)
		}
		// Used within the idle limit, a session lives on; unused for longer, it lapses.
		w.advance(domain.SessionIdle - time.Hour)
		if _, _, err := w.accounts.Authenticate(ctx, token); err != nil {
			t.Errorf("used within the idle limit: %v", err)
		}
		w.advance(domain.SessionIdle - time.Hour)
		if _, _, err := w.accounts.Authenticate(ctx, token); err != nil {
			t.Errorf("used again within the idle limit: %v", err)
		}
		w.advance(domain.SessionIdle + time.Minute)
		if _, _, err := w.accounts.Authenticate(ctx, token); !errors.Is(err, domain.ErrUnauthenticated) {
			t.Errorf("after idling: %v, want ErrUnauthenticated", err)
		}
		if n, err := w.accounts.PruneSessions(ctx); err != nil || n != 1 {
			t.Errorf("pruned %d sessions (%v), want 1", n, err)
		}

		// Signing out ends the session.
		_, token, _ = w.accounts.SignIn(ctx, "cora@example.org", "a long enough password", domain.Origin{IP: "x"})
		if err := w.accounts.SignOut(ctx, w.coord, token); err != nil {
			t.Fatal(err)
		}
		if _, _, err := w.accounts.Authenticate(ctx, token); !errors.Is(err, domain.ErrUnauthenticated) {
			t.Errorf("after signing out: %v", err)
		}
	})
}

func TestChangePasswordEndsOtherSessions(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		w := newWorld(t, st)
		_, phone, _ := w.accounts.SignIn(ctx, "cora@example.org", "a long enough password", domain.Origin{IP: "x"})
		_, laptop, _ := w.accounts.SignIn(ctx, "cora@example.org", "a long enough password", domain.Origin{IP: "x"})
		if err := w.accounts.ChangePassword(ctx, w.coord, "wrong", "short", laptop); !sameFields(err, "current_password", "new_password") {
			t.Errorf("bad change: %v", err)
		}
		if err := w.accounts.ChangePassword(ctx, w.coord, "a long enough password", "a brand new passphrase", laptop); err != nil {
			t.Fatal(err)
		}
		if _, _, err := w.accounts.Authenticate(ctx, phone); !errors.Is(err, domain.ErrUnauthenticated) {
			t.Error("the other device is still signed in")
		}
		if _, _, err := w.accounts.Authenticate(ctx, laptop); err != nil {
			t.Errorf("the device that changed it was signed out: %v", err)
		}
		if _, _, err := w.accounts.SignIn(ctx, "cora@example.org", "a brand new passphrase", domain.Origin{IP: "x"}); err != nil {
			t.Errorf("new password: %v", err)
		}
	})
}

func TestAPITokens(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		w := newWorld(t, st)
		if _, _, err := w.accounts.CreateAPIToken(ctx, w.coord, "cora@example.org", "x"); !errors.Is(err, domain.ErrForbidden) {
			t.Errorf("coordinator creating a token: %v", err)
		}
		token, m, err := w.accounts.CreateAPIToken(ctx, domain.SystemActor("test"), "Cora@Example.org", "reporting")
		if err != nil || m.ID != w.coord.ID || !strings.HasPrefix(token, "coop_") {
			t.Fatalf("create token: %q %v", token, err)
		}
		if got, err := w.accounts.AuthenticateAPIToken(ctx, token); err != nil || got.ID != w.coord.ID {
			t.Errorf("authenticate token: %v", err)
		}
		if _, err := w.accounts.AuthenticateAPIToken(ctx, token+"x"); !errors.Is(err, domain.ErrUnauthenticated) {
			t.Errorf("a wrong token: %v", err)
		}
		if _, err := st.APITokenByHash(ctx, token); !errors.Is(err, domain.ErrNotFound) {
			t.Error("the token itself is stored, not only its hash")
		}
		if got := w.auditActions(t, w.coord.ID); !strings.Contains(strings.Join(got, " "), "token.created") {
			t.Errorf("token creation not audited: %v", got)
		}
		if _, _, err := w.accounts.CreateAPIToken(ctx, domain.SystemActor("test"), "nobody@example.org", ""); !sameFields(err, "email") {
			t.Errorf("token for an unknown email: %v", err)
		}
	})
}

func TestAddMemberAndRoles(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		w := newWorld(t, st)
		// Someone who joins by phone: no email, no password.
		m, err := w.membership.AddMember(ctx, w.coord, domain.NewMemberInput{Name: "Doris Ward", Phone: "01632 960 555",
			AreaID: w.area.ID, ConsentRecorded: true})
		if err != nil || m.Status != domain.StatusActive || m.Email != "" || m.CanSignIn() {
			t.Fatalf("add by phone: %+v %v", m, err)
		}
		consents, _ := w.membership.Consents(ctx, w.coord, m.ID)
		if len(consents) != 1 || consents[0].RecordedBy != w.coord.ID {
			t.Errorf("consent recorded by the coordinator: %+v", consents)
		}
		if _, err := w.membership.AddMember(ctx, w.coord, domain.NewMemberInput{Name: "Nobody", AreaID: w.area.ID}); !sameFields(err, "phone", "consent") {
			t.Errorf("no contact and no consent: %v", fieldsOf(err))
		}
		if _, err := w.membership.AddMember(ctx, w.coord, domain.NewMemberInput{Name: "Boss", Email: "boss@example.org",
			AreaID: w.area.ID, Role: domain.RoleAdmin, ConsentRecorded: true}); !sameFields(err, "role") {
			t.Errorf("coordinator making an admin: %v", err)
		}
		if _, err := w.membership.ChangeRole(ctx, w.coord, m.ID, domain.RoleCoordinator); !errors.Is(err, domain.ErrForbidden) {
			t.Errorf("coordinator changing a role: %v", err)
		}
		if _, err := w.membership.ChangeRole(ctx, w.admin, w.admin.ID, domain.RoleMember); !sameFields(err, "role") {
			t.Errorf("admin demoting themself: %v", err)
		}
		if got, err := w.membership.ChangeRole(ctx, w.admin, m.ID, domain.RoleCoordinator); err != nil || got.Role != domain.RoleCoordinator {
			t.Errorf("admin changing a role: %v", err)
		}
		events, _ := w.audit.List(ctx, w.admin, domain.AuditQuery{Action: domain.AuditRoleChanged})
		if len(events.Items) != 1 || events.Items[0].Detail["from"] != "member" || events.Items[0].Detail["to"] != "coordinator" || events.Items[0].ActorID != w.admin.ID {
			t.Errorf("role change audit: %+v", events.Items)
		}
		found, err := w.membership.Members(ctx, w.coord, domain.MemberQuery{Search: "DORIS"})
		if err != nil || len(found.Items) != 1 {
			t.Errorf("search by name in another case found %d", len(found.Items))
		}
		found, _ = w.membership.Members(ctx, w.coord, domain.MemberQuery{Search: "%"})
		if len(found.Items) != 0 {
			t.Errorf("a search for %% matched %d members: wildcards are not escaped", len(found.Items))
		}
	})
}

func TestConcurrentApprovalsDecideOnce(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		w := newWorld(t, st)
		app, err := w.membership.Apply(ctx, w.application("Lee", "lee@example.org"), domain.Origin{IP: "x"})
		if err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		errs := make([]error, 6)
		for i := range errs {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if i%2 == 0 {
					_, errs[i] = w.membership.Approve(ctx, w.coord, app.ID)
				} else {
					_, errs[i] = w.membership.Decline(ctx, w.admin, app.ID, "no")
				}
			}()
		}
		wg.Wait()
		ok := 0
		for _, err := range errs {
			switch {
			case err == nil:
				ok++
			case !errors.Is(err, domain.ErrConflict):
				t.Errorf("a losing decision failed with %v, want a conflict", err)
			}
		}
		if ok != 1 {
			t.Errorf("%d decisions succeeded, want exactly 1", ok)
		}
		decisions := 0
		for _, a := range w.auditActions(t, app.ID) {
			if a == domain.AuditApplicationApproved || a == domain.AuditApplicationDeclined {
				decisions++
			}
		}
		if decisions != 1 {
			t.Errorf("%d decisions audited, want 1", decisions)
		}
	})
}

func TestCatalogue(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		w := newWorld(t, st)
		cats, err := w.catalogue.Categories(ctx)
		if err != nil {
			t.Fatal(err)
		}
		slugs := map[string]bool{}
		for _, c := range cats {
			slugs[c.Slug] = c.RequiresCheck
		}
		want := map[string]bool{"sitting": true, "transport": false, "companionship": false, "shopping-errands": false, "befriending-calls": false}
		for slug, check := range want {
			if got, ok := slugs[slug]; !ok || got != check {
				t.Errorf("seeded category %s: present %v, requires check %v (want %v)", slug, ok, got, check)
			}
		}

		lat, lon := 53.39, -1.45
		if _, err := w.catalogue.CreateArea(ctx, w.coord, domain.AreaInput{Name: "Elsewhere", Code: "be1", Lat: &lat, Lon: &lon}); !sameFields(err, "code") {
			t.Errorf("duplicate code in another case: %v", err)
		}
		if _, err := w.catalogue.CreateArea(ctx, domain.Actor{ID: 5, Role: domain.RoleMember}, domain.AreaInput{Name: "X", Code: "X1", Lat: &lat, Lon: &lon}); !errors.Is(err, domain.ErrForbidden) {
			t.Errorf("member adding an area: %v", err)
		}
		rv, err := w.catalogue.CreateArea(ctx, w.coord, domain.AreaInput{Name: "Riverside", Code: "RV2", Lat: &lat, Lon: &lon})
		if err != nil {
			t.Fatal(err)
		}
		name := "Riverside North"
		if got, err := w.catalogue.UpdateArea(ctx, w.coord, rv.ID, domain.AreaPatch{Name: &name}); err != nil || got.Name != name || got.Code != "RV2" {
			t.Errorf("rename: %+v %v", got, err)
		}
		if err := w.catalogue.DeleteArea(ctx, w.coord, rv.ID); err != nil {
			t.Errorf("delete an unused area: %v", err)
		}
		err = w.catalogue.DeleteArea(ctx, w.coord, w.area.ID)
		var conflict *domain.ConflictError
		if !errors.As(err, &conflict) {
			t.Errorf("delete an area with members: %v, want a conflict", err)
		}
		if _, err := w.catalogue.Area(ctx, w.area.ID); err != nil {
			t.Errorf("the area in use is gone: %v", err)
		}

		garden, err := w.catalogue.CreateCategory(ctx, w.coord, domain.CategoryInput{Slug: "garden-help", Name: "Garden help"})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.catalogue.CreateCategory(ctx, w.coord, domain.CategoryInput{Slug: "garden-help", Name: "Again"}); !sameFields(err, "slug") {
			t.Errorf("duplicate slug: %v", err)
		}
		terms := []string{"esdServiceType:298", " esdNeed:12 "}
		check := true
		got, err := w.catalogue.UpdateCategory(ctx, w.coord, garden.ID, domain.CategoryPatch{TaxonomyTerms: &terms, RequiresCheck: &check})
		if err != nil || !got.RequiresCheck || strings.Join(got.TaxonomyTerms, "|") != "esdServiceType:298|esdNeed:12" {
			t.Errorf("update category: %+v %v", got, err)
		}
		if reread, _ := w.catalogue.Category(ctx, garden.ID); strings.Join(reread.TaxonomyTerms, "|") != "esdServiceType:298|esdNeed:12" {
			t.Errorf("terms not stored: %v", reread.TaxonomyTerms)
		}
	})
}
