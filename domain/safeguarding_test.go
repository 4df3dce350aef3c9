package domain_test

import (
	"context"
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

// safeWorld adds the safeguarding service to the exchange world. The clock reads 2 March 2026.
type safeWorld struct {
	*exchangeWorld
	safe *domain.Safeguarding
}

func newSafeWorld(t *testing.T, st *store.Store) *safeWorld {
	t.Helper()
	w := &safeWorld{exchangeWorld: newExchangeWorld(t, st)}
	clock := domain.Clock(func() time.Time { w.mu.Lock(); defer w.mu.Unlock(); return w.now })
	w.safe = domain.NewSafeguarding(st, st, w.audit, clock, london)
	return w
}

func dbsInput(issued, expires string) domain.CheckInput {
	return domain.CheckInput{Kind: "DBS", Level: "enhanced", CertificateNumber: "0012 3456 7890", IssuedOn: issued, ExpiresOn: expires, UpdateService: true}
}

func TestCheckValidationNamesTheField(t *testing.T) {
	w := newSafeWorld(t, storetest.Open(t, store.SQLite))
	ctx := context.Background()
	cases := []struct {
		name   string
		change func(*domain.CheckInput)
		field  string
		words  string // part of the message
	}{
		{"no kind", func(in *domain.CheckInput) { in.Kind = "" }, "kind", "Choose the kind of check"},
		{"unknown kind", func(in *domain.CheckInput) { in.Kind = "CRB" }, "kind", `"CRB" is not one`},
		{"no level", func(in *domain.CheckInput) { in.Level = " " }, "level", "Choose the level"},
		{"unknown level", func(in *domain.CheckInput) { in.Level = "super" }, "level", "basic, standard or enhanced"},
		{"no certificate", func(in *domain.CheckInput) { in.CertificateNumber = "" }, "certificate_number", "Give the certificate number"},
		{"letters in certificate", func(in *domain.CheckInput) { in.CertificateNumber = "00123A567890" }, "certificate_number", "digits only"},
		{"certificate too long", func(in *domain.CheckInput) { in.CertificateNumber = strings.Repeat("1", 21) }, "certificate_number", "between 6 and 20 digits"},
		{"certificate too short", func(in *domain.CheckInput) { in.CertificateNumber = "123" }, "certificate_number", "between 6 and 20 digits"},
		{"no issue date", func(in *domain.CheckInput) { in.IssuedOn = "" }, "issued_on", "Give the date the certificate was issued"},
		{"issue date not a date", func(in *domain.CheckInput) { in.IssuedOn = "12/01/2026" }, "issued_on", "YYYY-MM-DD"},
		{"issued in the future", func(in *domain.CheckInput) { in.IssuedOn = "2026-03-03" }, "issued_on", "cannot be in the future"},
		{"no re-check date", func(in *domain.CheckInput) { in.ExpiresOn = "" }, "expires_on", "Give the re-check date"},
		{"re-check date not a date", func(in *domain.CheckInput) { in.ExpiresOn = "2027-02-30" }, "expires_on", "YYYY-MM-DD"},
		{"re-check before issue", func(in *domain.CheckInput) { in.ExpiresOn = "2025-12-31" }, "expires_on", "cannot be before"},
	}
	ann := w.ann.ID
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			in := dbsInput("2026-01-12", "2029-01-12")
			c.change(&in)
			_, err := w.safe.RecordCheck(ctx, w.coord, ann, in)
			var v *domain.ValidationError
			if !errors.As(err, &v) || len(v.Fields) != 1 || v.Fields[0].Field != c.field || !strings.Contains(v.Fields[0].Message, c.words) {
				t.Errorf("got %v, want one message for %s saying %q", err, c.field, c.words)
			}
		})
	}
	// Today in London counts as issued today, though UTC is still on the day before at 00:30 BST.
	w.now = time.Date(2026, 6, 30, 23, 30, 0, 0, time.UTC)
	if _, err := w.safe.RecordCheck(ctx, w.coord, ann, dbsInput("2026-07-01", "2029-07-01")); err != nil {
		t.Errorf("a check issued today in London: %v", err)
	}
	// Nothing invalid is stored.
	if checks, _ := w.safe.MemberChecks(ctx, w.coord, ann); len(checks) != 1 {
		t.Errorf("%d checks stored, want 1", len(checks))
	}
}

func TestWhoMayRecordAndReadChecks(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		w := newSafeWorld(t, st)
		if _, err := w.safe.RecordCheck(ctx, w.bobA, w.ann.ID, dbsInput("2026-01-12", "2029-01-12")); !errors.Is(err, domain.ErrForbidden) {
			t.Errorf("a member recording a check: %v, want forbidden", err)
		}
		if _, err := w.safe.RecordCheck(ctx, w.annA, w.ann.ID, dbsInput("2026-01-12", "2029-01-12")); !errors.Is(err, domain.ErrForbidden) {
			t.Errorf("a member recording their own check: %v, want forbidden", err)
		}
		if _, err := w.safe.RecordCheck(ctx, w.coord, 99999, dbsInput("2026-01-12", "2029-01-12")); !errors.Is(err, domain.ErrNotFound) {
			t.Errorf("a check for nobody: %v, want not found", err)
		}
		c, err := w.safe.RecordCheck(ctx, w.coord, w.ann.ID, dbsInput("2026-01-12", "2029-01-12"))
		if err != nil {
			t.Fatal(err)
		}
		if c.CertificateNumber != "001234567890" || c.VerifiedBy != w.coord.ID || !c.VerifiedAt.Equal(w.now) || c.Kind != "DBS" {
			t.Errorf("recorded %+v", c)
		}
		for _, who := range []domain.Actor{w.coord, w.admin, w.annA} {
			checks, err := w.safe.MemberChecks(ctx, who, w.ann.ID)
			if err != nil || len(checks) != 1 || checks[0].VerifiedByName != "Cora Coordinator" || checks[0].ExpiresOn.Format(time.DateOnly) != "2029-01-12" {
				t.Errorf("%s reading Ann's checks: %+v %v", who.Name, checks, err)
			}
		}
		if _, err := w.safe.MemberChecks(ctx, w.bobA, w.ann.ID); !errors.Is(err, domain.ErrNotFound) {
			t.Errorf("another member reading Ann's checks: %v, want not found", err)
		}
		if got := w.auditActions(t, w.ann.ID); !slices.Contains(got, domain.AuditCheckRecorded) {
			t.Errorf("Ann's audit history %v has no recorded check", got)
		}
	})
}

func TestChecksDueForRenewal(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		w := newSafeWorld(t, st) // today is 2 March 2026
		member := func(name string) domain.Member {
			return w.add(t, w.coord, name, strings.ToLower(strings.Fields(name)[0])+"@example.org", domain.RoleMember)
		}
		check := func(m domain.Member, expires string) {
			t.Helper()
			e, _ := time.Parse(time.DateOnly, expires)
			c := domain.Check{MemberID: m.ID, Kind: "DBS", Level: "enhanced", CertificateNumber: "001234567890",
				IssuedOn: e.AddDate(-3, 0, 0), ExpiresOn: e, VerifiedBy: w.coord.ID, VerifiedAt: w.now, CreatedAt: w.now}
			if err := st.AddCheck(ctx, &c); err != nil {
				t.Fatal(err)
			}
		}
		sitter := func(m domain.Member) {
			t.Helper()
			in := lifts(domain.SlotInput{Day: "tue", From: "13:00", To: "17:00"})
			in.Category = "sitting"
			if _, err := w.x.PostOffer(ctx, domain.Actor{ID: m.ID, Name: m.Name, Role: domain.RoleMember}, in); err != nil {
				t.Fatal(err)
			}
		}
		soon, edge, later := member("Sam Soon"), member("Eve Edge"), member("Lou Later")
		lapsedSitter, lapsedIdle, renewed := member("Lin Lapsed"), member("Ida Idle"), member("Ray Renewed")
		suspended := member("Sue Suspended")
		check(soon, "2026-03-12")
		check(edge, "2026-04-01") // exactly 30 days ahead
		check(later, "2026-04-02")
		check(lapsedSitter, "2026-02-25")
		sitter(lapsedSitter)
		check(lapsedIdle, "2026-02-20") // lapsed, but offers nothing that needs a check
		check(renewed, "2026-03-05")
		check(renewed, "2029-03-05") // renewed: the older check is no longer due
		check(suspended, "2026-03-10")
		if _, err := w.membership.Suspend(ctx, w.coord, suspended.ID, "Test"); err != nil {
			t.Fatal(err)
		}

		if _, err := w.safe.ChecksDue(ctx, w.annA, 20); !errors.Is(err, domain.ErrForbidden) {
			t.Errorf("a member asking for checks due: %v", err)
		}
		due, err := w.safe.ChecksDue(ctx, w.coord, 20)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, d := range due {
			got = append(got, d.MemberName+" "+d.ExpiresOn.Format(time.DateOnly)+map[bool]string{true: " lapsed"}[d.Lapsed])
		}
		want := []string{"Lin Lapsed 2026-02-25 lapsed", "Sam Soon 2026-03-12", "Eve Edge 2026-04-01"}
		if !slices.Equal(got, want) {
			t.Errorf("checks due:\n got %q\nwant %q", got, want)
		}
	})
}

func TestConcernsReachCoordinatorsAndNeverTheirSubject(t *testing.T) {
	storetest.ForEachDialectWithExec(t, func(t *testing.T, st *store.Store, exec storetest.Exec) {
		ctx := context.Background()
		w := newSafeWorld(t, st)
		reqs, err := w.x.AskForSupport(ctx, w.bobA, domain.RequestInput{Category: "transport", Description: "A lift to the surgery",
			Start: at(10, 10, 0), End: at(10, 11, 0), Urgency: "soon"})
		if err != nil {
			t.Fatal(err)
		}
		offer, err := w.x.PostOffer(ctx, w.annA, lifts(domain.SlotInput{Day: "tue", From: "09:00", To: "17:00"}))
		if err != nil {
			t.Fatal(err)
		}
		exec(`INSERT INTO matches (id, request_id, offer_id, helper_id, source, status, created_at, updated_at)
			VALUES (77, ?, ?, ?, 'manual', 'accepted', ?, ?)`, reqs[0].ID, offer.ID, w.ann.ID, w.now, w.now)
		coord2 := w.add(t, w.admin, "Kit Coordinator", "kit@example.org", domain.RoleCoordinator)
		kit := domain.Actor{ID: coord2.ID, Name: coord2.Name, Role: domain.RoleCoordinator}

		raise := func(by domain.Actor, in domain.ConcernInput) domain.Concern {
			t.Helper()
			in.Text = "Something worried me when I met them."
			c, err := w.safe.RaiseConcern(ctx, by, in)
			if err != nil {
				t.Fatalf("%s raising %+v: %v", by.Name, in, err)
			}
			return c
		}
		id := func(n int64) string { return strconv.FormatInt(n, 10) }
		aboutRequest := raise(w.annA, domain.ConcernInput{About: "request", SubjectID: id(reqs[0].ID)})
		aboutOffer := raise(w.bobA, domain.ConcernInput{About: "offer", SubjectID: id(offer.ID), Urgent: true})
		aboutMatchOther := raise(w.annA, domain.ConcernInput{About: "match", SubjectID: "77"})
		aboutMatchNamed := raise(kit, domain.ConcernInput{About: "match", SubjectID: "77", Who: "helper"})
		aboutCoord := raise(w.bobA, domain.ConcernInput{About: "profile", SubjectID: id(w.coord.ID)})
		general := raise(w.bobA, domain.ConcernInput{About: ""})
		ownRequest := raise(w.bobA, domain.ConcernInput{About: "request", SubjectID: id(reqs[0].ID)})

		for _, c := range []struct {
			got  domain.Concern
			want int64
		}{{aboutRequest, w.bob.ID}, {aboutOffer, w.ann.ID}, {aboutMatchOther, w.bob.ID}, {aboutMatchNamed, w.ann.ID},
			{aboutCoord, w.coord.ID}, {general, 0}, {ownRequest, w.bob.ID}} {
			if c.got.SubjectMemberID != c.want {
				t.Errorf("concern about %s %d concerns member %d, want %d", c.got.SubjectType, c.got.SubjectID, c.got.SubjectMemberID, c.want)
			}
		}

		// A member sees what they raised (never one about themself), with no text; nobody else's.
		ids := func(cs []domain.Concern) []int64 {
			var out []int64
			for _, c := range cs {
				out = append(out, c.ID)
				if c.Text != "" || c.SubjectMemberID != 0 || c.HandledNote != "" {
					t.Errorf("a member is shown more than the status of concern %d: %+v", c.ID, c)
				}
			}
			return out
		}
		bobs, err := w.safe.ConcernsRaisedBy(ctx, w.bobA)
		if err != nil {
			t.Fatal(err)
		}
		if got, want := ids(bobs), []int64{general.ID, aboutCoord.ID, aboutOffer.ID}; !slices.Equal(got, want) {
			t.Errorf("Bob sees concerns %v, want %v (not %d, about himself)", got, want, ownRequest.ID)
		}
		anns, _ := w.safe.ConcernsRaisedBy(ctx, w.annA)
		if got, want := ids(anns), []int64{aboutMatchOther.ID, aboutRequest.ID}; !slices.Equal(got, want) {
			t.Errorf("Ann sees concerns %v, want %v", got, want)
		}

		// Members cannot list, read or handle concerns.
		if _, err := w.safe.Concerns(ctx, w.annA, domain.ConcernQuery{}, true); !errors.Is(err, domain.ErrForbidden) {
			t.Errorf("a member listing concerns: %v", err)
		}
		if _, err := w.safe.Concern(ctx, w.bobA, aboutOffer.ID); !errors.Is(err, domain.ErrForbidden) {
			t.Errorf("a member reading a concern: %v", err)
		}
		if _, err := w.safe.HandleConcern(ctx, w.annA, aboutOffer.ID, "Dealt with"); !errors.Is(err, domain.ErrForbidden) {
			t.Errorf("a member handling a concern: %v", err)
		}

		// The coordinator a concern is about never sees it; another coordinator does.
		listed := func(by domain.Actor) []int64 {
			t.Helper()
			page, err := w.safe.Concerns(ctx, by, domain.ConcernQuery{}, false)
			if err != nil {
				t.Fatal(err)
			}
			var out []int64
			for _, c := range page.Items {
				out = append(out, c.ID)
			}
			return out
		}
		if slices.Contains(listed(w.coord), aboutCoord.ID) {
			t.Error("the coordinator a concern is about sees it in the list")
		}
		if !slices.Contains(listed(kit), aboutCoord.ID) {
			t.Error("another coordinator does not see a concern about a coordinator")
		}
		if _, err := w.safe.Concern(ctx, w.coord, aboutCoord.ID); !errors.Is(err, domain.ErrNotFound) {
			t.Errorf("the coordinator it is about reading it: %v, want not found", err)
		}
		if _, err := w.safe.HandleConcern(ctx, w.coord, aboutCoord.ID, "Nothing in it"); !errors.Is(err, domain.ErrNotFound) {
			t.Errorf("the coordinator it is about handling it: %v, want not found", err)
		}
		nCoord, _ := w.safe.CountOpenConcerns(ctx, w.coord)
		nKit, _ := w.safe.CountOpenConcerns(ctx, kit)
		if nCoord != 6 || nKit != 7 {
			t.Errorf("open concerns counted: %d for the coordinator it is about, %d for another; want 6 and 7", nCoord, nKit)
		}

		// Handling needs a note, and happens once.
		if _, err := w.safe.HandleConcern(ctx, kit, aboutOffer.ID, "  "); !slices.Equal(fieldsOf(err), []string{"note"}) {
			t.Errorf("handling with no note: %v", err)
		}
		w.advance(time.Hour)
		h, err := w.safe.HandleConcern(ctx, kit, aboutOffer.ID, "Spoke to both; the helper is paused while we look into it.")
		if err != nil || !h.Handled() || h.HandledBy != kit.ID || h.HandledByName != "Kit Coordinator" {
			t.Fatalf("handled: %+v %v", h, err)
		}
		var conflict *domain.ConflictError
		if _, err := w.safe.HandleConcern(ctx, w.coord, aboutOffer.ID, "Again"); !errors.As(err, &conflict) || !strings.Contains(conflict.Message, "Kit Coordinator") {
			t.Errorf("handling twice: %v", err)
		}
		bobs, _ = w.safe.ConcernsRaisedBy(ctx, w.bobA)
		for _, c := range bobs {
			if c.ID == aboutOffer.ID && !c.Handled() {
				t.Error("Bob is not told his concern was handled")
			}
		}

		// Open first, newest first, in pages.
		var order []int64
		q := domain.ConcernQuery{Limit: 2}
		for range 10 {
			page, err := w.safe.Concerns(ctx, kit, q, false)
			if err != nil {
				t.Fatal(err)
			}
			for _, c := range page.Items {
				order = append(order, c.ID)
				if c.Text != "" {
					t.Errorf("the list without text shows concern %d's text", c.ID)
				}
			}
			if page.Next == nil {
				break
			}
			q.After = page.Next
		}
		want := []int64{ownRequest.ID, general.ID, aboutCoord.ID, aboutMatchNamed.ID, aboutMatchOther.ID, aboutRequest.ID, aboutOffer.ID}
		if !slices.Equal(order, want) {
			t.Errorf("concerns in order %v, want %v", order, want)
		}

		// Every raising, reading and handling is in the audit log, which names no subject.
		if _, err := w.safe.Concern(ctx, kit, aboutOffer.ID); err != nil {
			t.Fatal(err)
		}
		page, err := w.audit.List(ctx, w.admin, domain.AuditQuery{SubjectType: "concern", SubjectID: aboutOffer.ID})
		if err != nil {
			t.Fatal(err)
		}
		var actions []string
		for _, e := range page.Items {
			actions = append([]string{e.Action}, actions...)
			for k, v := range e.Detail {
				if strings.Contains(k, "member") || strings.Contains(v, "Ann") {
					t.Errorf("audit event %s names whom the concern is about: %v", e.Action, e.Detail)
				}
			}
		}
		if want := []string{domain.AuditConcernRaised, domain.AuditConcernHandled, domain.AuditConcernViewed}; !slices.Equal(actions, want) {
			t.Errorf("audit of the concern: %v, want %v", actions, want)
		}
	})
}

func TestConcernValidationNamesTheField(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		w := newSafeWorld(t, st)
		cases := []struct {
			name  string
			in    domain.ConcernInput
			field string
		}{
			{"no text", domain.ConcernInput{About: "general", Text: "  "}, "text"},
			{"text too long", domain.ConcernInput{About: "general", Text: strings.Repeat("é", domain.MaxConcernLen+1)}, "text"},
			{"unknown subject", domain.ConcernInput{About: "parish", Text: "x"}, "about"},
			{"no number", domain.ConcernInput{About: "request", Text: "x"}, "subject_id"},
			{"number not digits", domain.ConcernInput{About: "offer", SubjectID: "twelve", Text: "x"}, "subject_id"},
			{"no such request", domain.ConcernInput{About: "request", SubjectID: "999", Text: "x"}, "subject_id"},
			{"no such member", domain.ConcernInput{About: "member", SubjectID: "999", Text: "x"}, "subject_id"},
			{"no such match", domain.ConcernInput{About: "match", SubjectID: "999", Text: "x"}, "subject_id"},
		}
		for _, c := range cases {
			if _, err := w.safe.RaiseConcern(ctx, w.annA, c.in); !slices.Equal(fieldsOf(err), []string{c.field}) {
				t.Errorf("%s: %v, want a message for %s", c.name, err, c.field)
			}
		}
		if _, err := w.safe.RaiseConcern(ctx, domain.Actor{}, domain.ConcernInput{Text: "x"}); !errors.Is(err, domain.ErrUnauthenticated) {
			t.Errorf("a visitor raising a concern: %v", err)
		}
		page, _ := w.safe.Concerns(ctx, w.coord, domain.ConcernQuery{}, false)
		if len(page.Items) != 0 {
			t.Errorf("invalid concerns were stored: %d", len(page.Items))
		}
	})
}
