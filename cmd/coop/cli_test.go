package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/coop-exchange/coop/domain"
	"github.com/coop-exchange/coop/domain/store"
	"github.com/coop-exchange/coop/domain/store/storetest"
	"github.com/coop-exchange/coop/internal/testenv"
)

// london is the co-op's time zone in these tests.
var london = func() *time.Location {
	loc, err := time.LoadLocation("Europe/London")
	if err != nil {
		panic(err)
	}
	return loc
}()

// runCLI runs the coop command line in-process with only the given environment.
func runCLI(t *testing.T, env map[string]string, stdin string, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	lookup := func(k string) (string, bool) { v, ok := env[k]; return v, ok }
	code := run(context.Background(), args, lookup, streams{in: strings.NewReader(stdin), out: &out, err: &errOut})
	return code, out.String(), errOut.String()
}

func TestBadConfigurationStopsWithTheVariableNamed(t *testing.T) {
	cases := []struct {
		env  map[string]string
		args []string
		want []string
	}{
		{map[string]string{"COOP_ADDR": "nonsense"}, nil, []string{`COOP_ADDR: "nonsense" is not an address to listen on`}},
		{map[string]string{"COOP_ADDR": ":99999"}, nil, []string{"COOP_ADDR", "port"}},
		{map[string]string{"COOP_DATABASE_URL": "mysql://db/coop"}, nil, []string{"COOP_DATABASE_URL: must start with postgres://"}},
		{map[string]string{"COOP_DATABASE_URL": "postgres://user:secret@host:notaport/db"}, nil, []string{"COOP_DATABASE_URL: not a usable postgres URL"}},
		{map[string]string{"COOP_TIMEZONE": "Mars/Olympus_Mons"}, nil, []string{`COOP_TIMEZONE: "Mars/Olympus_Mons" is not a known time zone`}},
		{map[string]string{"COOP_MATCH_SCHEDULE": "every tuesday"}, nil, []string{`COOP_MATCH_SCHEDULE: "every tuesday" is not a schedule`}},
		{map[string]string{"COOP_SECRET_KEY": "too short"}, nil, []string{"COOP_SECRET_KEY: is 9 characters long"}},
		{map[string]string{"COOP_LOG_FORMAT": "xml"}, nil, []string{"COOP_LOG_FORMAT"}},
		{map[string]string{"COOP_SMTP_URL": "http://mail.example"}, nil, []string{"COOP_SMTP_URL: must start with smtp://"}},
		{map[string]string{"COOP_SMTP_URL": "smtp://user:secret@mail.example:587"}, nil, []string{"COOP_SMTP_URL: says no address to send from; add ?from="}},
		{map[string]string{"COOP_SMTP_URL": "smtp://mail.example?from=not-an-address"}, nil, []string{`COOP_SMTP_URL: from="not-an-address" is not an email address`}},
		{map[string]string{"COOP_SMTP_URL": "smtps://mail.example?from=coop@example.org&starttls=off"}, nil, []string{"COOP_SMTP_URL: starttls=off is for smtp://"}},
		{map[string]string{"COOP_SMTP_URL": "smtp://mail.example:0?from=coop@example.org"}, nil, []string{"COOP_SMTP_URL: port"}},
		{map[string]string{"COOP_BASE_URL": "coop.example"}, nil, []string{"COOP_BASE_URL"}},
		{map[string]string{"COOP_TRUSTED_PROXIES": "10.0.0.0/8, the load balancer"}, nil, []string{`COOP_TRUSTED_PROXIES: "the load balancer" is not an IP address`}},
		{map[string]string{"COOP_ADDR": ":3000"}, []string{"--addr", "also nonsense"}, []string{"--addr (COOP_ADDR)"}},
		{map[string]string{"COOP_ADDR": "x", "COOP_TIMEZONE": "Nowhere"}, nil, []string{"COOP_ADDR", "COOP_TIMEZONE"}},
	}
	for _, c := range cases {
		for _, cmd := range []string{"serve", "migrate"} {
			code, _, stderr := runCLI(t, c.env, "", append([]string{cmd}, c.args...)...)
			if code != 1 {
				t.Errorf("%s with %v: exit %d, want 1", cmd, c.env, code)
			}
			for _, w := range c.want {
				if !strings.Contains(stderr, w) {
					t.Errorf("%s with %v: the message does not say %q:\n%s", cmd, c.env, w, stderr)
				}
			}
			if strings.Contains(stderr, "secret") && strings.Contains(stderr, "user:secret") {
				t.Errorf("a password from a URL is printed: %s", stderr)
			}
		}
	}
}

func TestHelp(t *testing.T) {
	code, out, _ := runCLI(t, nil, "", "--help")
	if code != 0 {
		t.Errorf("coop --help exits %d", code)
	}
	for _, c := range []string{"serve", "migrate", "user", "token", "demo", "COOP_DATABASE_URL", "COOP_SMTP_URL"} {
		if !strings.Contains(out, c) {
			t.Errorf("coop --help does not mention %s", c)
		}
	}
	for _, args := range [][]string{{"serve", "--help"}, {"migrate", "--help"}, {"user", "create", "--help"}, {"token", "create", "--help"}, {"demo", "--help"}} {
		code, out, _ := runCLI(t, nil, "", args...)
		if code != 0 || !strings.Contains(out, "Usage: coop "+args[0]) || !strings.Contains(out, "-addr") {
			t.Errorf("coop %s: exit %d:\n%s", strings.Join(args, " "), code, out)
		}
	}
	if code, _, stderr := runCLI(t, nil, "", "frobnicate"); code != 2 || !strings.Contains(stderr, `unknown command "frobnicate"`) {
		t.Errorf("an unknown command: exit %d, %s", code, stderr)
	}
	if code, _, _ := runCLI(t, nil, ""); code != 2 {
		t.Errorf("no command: exit %d, want 2", code)
	}
}

// TestAdministrationCommands migrates, creates an admin, and makes a token that works, on each
// dialect.
func TestAdministrationCommands(t *testing.T) {
	for _, d := range storetest.Dialects {
		t.Run(string(d), func(t *testing.T) {
			loc := storetest.NewDatabase(t, d)
			url := loc.DSN
			if d == store.SQLite {
				url = "sqlite:" + loc.DSN
			}
			env := map[string]string{"COOP_DATABASE_URL": url}

			code, out, stderr := runCLI(t, env, "", "migrate", "status")
			if code != 0 || !strings.Contains(out, "pending") {
				t.Errorf("status before migrating: %d\n%s%s", code, out, stderr)
			}
			code, _, stderr = runCLI(t, env, "pw\n", "user", "create", "--role", "admin", "--email", "a@example.org", "--name", "A")
			if code != 1 || !strings.Contains(stderr, "run coop migrate first") {
				t.Errorf("user create before migrating: %d %s", code, stderr)
			}
			if code, out, stderr := runCLI(t, env, "", "migrate"); code != 0 || !strings.Contains(out, "migration(s) to") || strings.Contains(out, "Applied 0") {
				t.Fatalf("migrate: %d\n%s%s", code, out, stderr)
			}
			code, out, _ = runCLI(t, env, "", "migrate", "status")
			if code != 0 || !strings.Contains(out, "applied") || !strings.Contains(out, "0 pending") {
				t.Errorf("status after migrating:\n%s", out)
			}

			code, _, stderr = runCLI(t, env, "short\n", "user", "create", "--role", "admin", "--email", "ada@example.org", "--name", "Ada Byron")
			if code != 1 || !strings.Contains(stderr, "password: Password must be at least 10 characters") {
				t.Errorf("a short password: %d %s", code, stderr)
			}
			code, _, stderr = runCLI(t, env, "", "user", "create", "--role", "admin", "--email", "ada@example.org", "--name", "Ada Byron")
			if code != 1 || !strings.Contains(stderr, "no password on standard input") {
				t.Errorf("no password: %d %s", code, stderr)
			}
			code, out, stderr = runCLI(t, env, "an admin passphrase\n", "user", "create", "--role", "admin", "--email", "Ada@Example.org", "--name", "Ada Byron")
			if code != 0 || !strings.Contains(out, "Created admin Ada Byron <ada@example.org>") {
				t.Fatalf("user create: %d\n%s%s", code, out, stderr)
			}
			code, _, stderr = runCLI(t, env, "another passphrase\n", "user", "create", "--role", "coordinator", "--email", "ada@example.org", "--name", "Ada Again")
			if code != 1 || !strings.Contains(stderr, "already a member") {
				t.Errorf("same email again: %d %s", code, stderr)
			}
			if code, _, stderr := runCLI(t, env, "", "user", "create", "--email", "x@example.org"); code != 2 || !strings.Contains(stderr, "--role") {
				t.Errorf("missing flags: %d %s", code, stderr)
			}

			code, out, stderr = runCLI(t, env, "", "token", "create", "--email", "ada@example.org", "--name", "reports")
			token := strings.TrimSpace(out)
			if code != 0 || !strings.HasPrefix(token, "coop_") || !strings.Contains(stderr, "cannot be shown again") {
				t.Fatalf("token create: %d %q %s", code, out, stderr)
			}
			if code, _, stderr := runCLI(t, env, "", "token", "create", "--email", "nobody@example.org"); code != 1 || !strings.Contains(stderr, "No member has the email") {
				t.Errorf("token for nobody: %d %s", code, stderr)
			}

			// The token acts as Ada, and the password signs her in.
			ctx := context.Background()
			st, err := store.Open(ctx, loc, testenv.Logger())
			if err != nil {
				t.Fatal(err)
			}
			defer st.Close()
			svc, _ := services(st, domain.PasswordHasher{}, london, 0, nil)
			m, err := svc.Accounts.AuthenticateAPIToken(ctx, token)
			if err != nil || m.Email != "ada@example.org" || m.Role != domain.RoleAdmin {
				t.Errorf("the printed token: %+v %v", m, err)
			}
			if _, _, err := svc.Accounts.SignIn(ctx, "ada@example.org", "an admin passphrase", domain.Origin{IP: "x"}); err != nil {
				t.Errorf("sign in with the piped password: %v", err)
			}
			events, _ := svc.Audit.List(ctx, domain.SystemActor("test"), domain.AuditQuery{})
			var actions []string
			for _, e := range events.Items {
				actions = append(actions, fmt.Sprintf("%s by %s", e.Action, e.ActorName))
			}
			joined := strings.Join(actions, "; ")
			for _, want := range []string{"member.added by coop user create", "token.created by coop token create"} {
				if !strings.Contains(joined, want) {
					t.Errorf("audit log lacks %q: %s", want, joined)
				}
			}
		})
	}
}

// TestSeed fills each dialect with a small synthetic community and checks what the command
// promises: it refuses a database with real members (unless --force) and a seed used before,
// and what it writes can be browsed like real posts.
func TestSeed(t *testing.T) {
	for _, d := range storetest.Dialects {
		t.Run(string(d), func(t *testing.T) {
			env, loc := migratedDatabase(t, d)
			code, out, stderr := runCLI(t, env, "", "seed", "--members", "300", "--offers", "400", "--requests", "1500", "--seed", "5")
			if code != 0 || !strings.Contains(out, "300 members (49 with a check), 400 offers and 1500 requests") {
				t.Fatalf("seed: %d\n%s%s", code, out, stderr)
			}
			if code, _, stderr := runCLI(t, env, "", "seed", "--members", "10", "--seed", "5"); code != 1 || !strings.Contains(stderr, "already has a synthetic community made with --seed 5") {
				t.Errorf("the same seed again: %d %s", code, stderr)
			}
			if code, _, _ := runCLI(t, env, "a real passphrase\n", "user", "create", "--role", "admin", "--email", "real@example.org", "--name", "Real Person"); code != 0 {
				t.Fatal("user create")
			}
			if code, _, stderr := runCLI(t, env, "", "seed", "--members", "10", "--seed", "6"); code != 1 || !strings.Contains(stderr, "holds 1 real member(s)") {
				t.Errorf("seeding over a real member: %d %s", code, stderr)
			}
			code, out, stderr = runCLI(t, env, "", "seed", "--members", "10", "--seed", "6", "--force")
			if code != 0 || !strings.Contains(out, "cannot sign in") {
				t.Errorf("seeding with --force: %d %s%s", code, out, stderr)
			}

			ctx := context.Background()
			st, err := store.Open(ctx, loc, testenv.Logger())
			if err != nil {
				t.Fatal(err)
			}
			defer st.Close()
			svc, _ := services(st, domain.PasswordHasher{}, london, 0, nil)
			forced, err := svc.Membership.Members(ctx, domain.SystemActor("test"), domain.MemberQuery{Search: ".s6.", Page: domain.PageQuery{Limit: 1}})
			if err != nil || len(forced.Items) != 1 {
				t.Fatalf("members seeded with --force: %v", err)
			}
			if _, _, err := svc.Accounts.SignIn(ctx, forced.Items[0].Email, "synthetic-member", domain.Origin{IP: "x"}); err == nil {
				t.Error("a synthetic member seeded beside real ones can sign in with the published password")
			}
			page, err := svc.Membership.Members(ctx, domain.SystemActor("test"), domain.MemberQuery{Search: ".s5.", Page: domain.PageQuery{Limit: 1}})
			if err != nil || len(page.Items) != 1 {
				t.Fatalf("synthetic members: %v", err)
			}
			someone := page.Items[0]
			if _, _, err := svc.Accounts.SignIn(ctx, someone.Email, "synthetic-member", domain.Origin{IP: "x"}); err != nil {
				t.Errorf("a synthetic member cannot sign in: %v", err)
			}
			by := domain.Actor{ID: someone.ID, Name: someone.Name, Role: someone.Role}
			reqs, err := svc.Exchange.BrowseRequests(ctx, by, domain.BrowseInput{Category: "transport", Limit: 100})
			if err != nil || len(reqs.Items) < 50 {
				t.Errorf("browsing synthetic transport requests found %d (%v)", len(reqs.Items), err)
			}
			offers, err := svc.Exchange.BrowseOffers(ctx, by, domain.BrowseInput{Limit: 100})
			if err != nil || len(offers.Items) != 100 {
				t.Errorf("browsing synthetic offers found %d (%v)", len(offers.Items), err)
			}
		})
	}
}

// migratedDatabase makes a fresh database of dialect d, migrates it with coop migrate, and
// returns the environment that points coop at it.
func migratedDatabase(t *testing.T, d store.Dialect) (map[string]string, store.Location) {
	t.Helper()
	loc := storetest.NewDatabase(t, d)
	url := loc.DSN
	if d == store.SQLite {
		url = "sqlite:" + loc.DSN
	}
	env := map[string]string{"COOP_DATABASE_URL": url}
	if code, _, stderr := runCLI(t, env, "", "migrate"); code != 0 {
		t.Fatal(stderr)
	}
	return env, loc
}

// TestMatchOnce runs coop match on a seeded community: a dry run lists proposals and writes
// nothing, a pass writes them and prints the JSON object the issue promises, and a second pass
// with nothing changed proposes nothing new.
func TestMatchOnce(t *testing.T) {
	for _, d := range storetest.Dialects {
		t.Run(string(d), func(t *testing.T) {
			env, _ := migratedDatabase(t, d)
			if code, out, stderr := runCLI(t, env, "", "seed", "--members", "300", "--offers", "400", "--requests", "1500", "--seed", "3"); code != 0 {
				t.Fatalf("seed: %s%s", out, stderr)
			}
			type passJSON struct {
				PassID             int64          `json:"pass_id"`
				DryRun             *bool          `json:"dry_run"`
				Proposed           *int           `json:"proposed"`
				Unmatched          *int           `json:"unmatched"`
				UnmatchedReasons   map[string]int `json:"unmatched_reasons"`
				Expired            *int           `json:"expired"`
				RequestsConsidered *int           `json:"requests_considered"`
				HelpersConsidered  *int           `json:"helpers_considered"`
				CandidatePairs     *int           `json:"candidate_pairs"`
				DurationMs         *int64         `json:"duration_ms"`
				Proposals          []struct {
					RequestID int64    `json:"request_id"`
					HelperID  int64    `json:"helper_id"`
					Reasons   []string `json:"reasons"`
				} `json:"proposals"`
			}
			pass := func(args ...string) passJSON {
				t.Helper()
				code, out, stderr := runCLI(t, env, "", append([]string{"match", "--once", "--json"}, args...)...)
				if code != 0 {
					t.Fatalf("match %v: %d %s", args, code, stderr)
				}
				var p passJSON
				if err := json.Unmarshal([]byte(out), &p); err != nil {
					t.Fatalf("match %v printed %q: %v", args, out, err)
				}
				if p.Proposed == nil || p.Unmatched == nil || p.UnmatchedReasons == nil || p.Expired == nil || p.RequestsConsidered == nil ||
					p.HelpersConsidered == nil || p.CandidatePairs == nil || p.DurationMs == nil {
					t.Fatalf("match %v: a key is missing from %s", args, out)
				}
				return p
			}
			dry := pass("--dry-run")
			if *dry.Proposed == 0 || len(dry.Proposals) != *dry.Proposed || *dry.Unmatched+*dry.Proposed != *dry.RequestsConsidered ||
				len(dry.Proposals[0].Reasons) == 0 || dry.PassID != 0 {
				t.Fatalf("dry run: %+v", dry)
			}
			sum := 0
			for _, n := range dry.UnmatchedReasons {
				sum += n
			}
			if sum != *dry.Unmatched {
				t.Errorf("the reasons count %d requests, but %d are unmatched", sum, *dry.Unmatched)
			}
			greedy := pass("--dry-run", "--greedy")
			if *greedy.Proposed > *dry.Proposed {
				t.Errorf("the greedy baseline matched %d, more than the solver's %d", *greedy.Proposed, *dry.Proposed)
			}
			first := pass()
			if first.PassID == 0 || *first.Proposed != *dry.Proposed || len(first.Proposals) != 0 {
				t.Errorf("the pass after a dry run: %+v (the dry run proposed %d)", first, *dry.Proposed)
			}
			second := pass()
			if *second.Proposed != 0 || second.PassID == first.PassID {
				t.Errorf("a second pass with nothing changed: %+v", second)
			}
			code, out, _ := runCLI(t, env, "", "match", "--once")
			if code != 0 || !strings.Contains(out, "Proposed 0 matches") || !strings.Contains(out, "UNMATCHED") {
				t.Errorf("match --once in words: %d\n%s", code, out)
			}
			if code, _, stderr := runCLI(t, env, "", "match"); code != 2 || !strings.Contains(stderr, "give --once") {
				t.Errorf("match without --once: %d %s", code, stderr)
			}
			if code, _, stderr := runCLI(t, env, "", "match", "--once", "--greedy"); code != 2 || !strings.Contains(stderr, "only runs with --dry-run") {
				t.Errorf("greedy without --dry-run: %d %s", code, stderr)
			}
		})
	}
}
