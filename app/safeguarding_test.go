package app_test

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/coop-exchange/coop/domain"
)

// addMember adds another active member and returns them with an API client and a browser
// signed in as them.
func (h *harness) addMember(name, email string) (domain.Member, *client, *client) {
	h.t.Helper()
	ctx := context.Background()
	m, err := h.svc.Membership.AddMember(ctx, domain.SystemActor("test"), domain.NewMemberInput{Name: name, Email: email,
		Phone: "01632 960 001", AreaID: h.area.ID, Role: domain.RoleMember, Password: password, ConsentRecorded: true})
	if err != nil {
		h.t.Fatal(err)
	}
	token, _, err := h.svc.Accounts.CreateAPIToken(ctx, domain.SystemActor("test"), email, "test")
	if err != nil {
		h.t.Fatal(err)
	}
	api := h.visitor()
	api.bearer = token
	browser := h.visitor()
	browser.get("/signin")
	expectStatus(h.t, browser.postForm("/signin", url.Values{"email": {email}, "password": {password}}), http.StatusSeeOther)
	browser.get("/account")
	return m, api, browser
}

// londonDate is the date n days from today in the co-op's time zone, as YYYY-MM-DD.
func londonDate(days int) string {
	return time.Now().In(london).AddDate(0, 0, days).Format(time.DateOnly)
}

type checkWire struct {
	ID                int64  `json:"id"`
	MemberID          int64  `json:"member_id"`
	Kind              string `json:"kind"`
	Level             string `json:"level"`
	CertificateNumber string `json:"certificate_number"`
	IssuedOn          string `json:"issued_on"`
	ExpiresOn         string `json:"expires_on"`
	UpdateService     bool   `json:"update_service"`
	VerifiedBy        *int64 `json:"verified_by"`
}

func validCheck(expiresIn int) map[string]any {
	return map[string]any{"kind": "DBS", "level": "enhanced", "certificate_number": "0012 3456 7890",
		"issued_on": londonDate(-365), "expires_on": londonDate(expiresIn), "update_service": true}
}

func TestChecksThroughTheAPI(t *testing.T) {
	forEachDialect(t, func(t *testing.T, h *harness) {
		coord, member := h.tokenClient(domain.RoleCoordinator), h.tokenClient(domain.RoleMember)
		target := h.people[domain.RoleMember]
		path := "/api/v1/members/" + itoa(target.ID) + "/checks"

		expectStatus(t, member.api("POST", path, validCheck(700)), http.StatusForbidden)
		expectStatus(t, h.visitor().api("POST", path, validCheck(700)), http.StatusUnauthorized)

		cases := []struct {
			name   string
			body   map[string]any
			fields string
			words  string
		}{
			{"everything wrong", map[string]any{"kind": "CRB", "level": "", "certificate_number": "12AB34", "issued_on": "2026-13-01", "expires_on": "soon"},
				"kind,level,certificate_number,issued_on,expires_on", "kind of check"},
			{"nothing given", map[string]any{}, "kind,level,certificate_number,issued_on,expires_on", "Give the certificate number"},
			{"re-check before issue", map[string]any{"kind": "dbs", "level": "basic", "certificate_number": "001234567890",
				"issued_on": londonDate(-10), "expires_on": londonDate(-20)}, "expires_on", "re-check date cannot be before"},
			{"certificate too long", map[string]any{"kind": "DBS", "level": "basic", "certificate_number": strings.Repeat("9", 21),
				"issued_on": londonDate(-10), "expires_on": londonDate(700)}, "certificate_number", "between 6 and 20 digits"},
			{"issued tomorrow", map[string]any{"kind": "DBS", "level": "basic", "certificate_number": "001234567890",
				"issued_on": londonDate(1), "expires_on": londonDate(700)}, "issued_on", "cannot be in the future"},
		}
		for _, c := range cases {
			res := coord.api("POST", path, c.body)
			expectStatus(t, res, http.StatusUnprocessableEntity)
			if p := decode[problemBody](t, res); p.fields() != c.fields || !strings.Contains(body(res), c.words) {
				t.Errorf("%s: fields %s in %s, want %s saying %q", c.name, p.fields(), body(res), c.fields, c.words)
			}
		}
		expectStatus(t, coord.api("POST", "/api/v1/members/99999/checks", validCheck(700)), http.StatusNotFound)

		res := coord.api("POST", path, validCheck(700))
		expectStatus(t, res, http.StatusCreated)
		got := decode[checkWire](t, res)
		coordID := h.people[domain.RoleCoordinator].ID
		if got.MemberID != target.ID || got.CertificateNumber != "001234567890" || got.ExpiresOn != londonDate(700) ||
			got.VerifiedBy == nil || *got.VerifiedBy != coordID || !got.UpdateService {
			t.Errorf("recorded %+v", got)
		}

		// The coordinator and the member themself read the checks; nobody else learns of them.
		for name, c := range map[string]*client{"coordinator": coord, "the member": member, "an admin": h.tokenClient(domain.RoleAdmin)} {
			res := c.api("GET", path, nil)
			expectStatus(t, res, http.StatusOK)
			if l := decode[listWire[checkWire]](t, res); len(l.Items) != 1 || l.Items[0].ID != got.ID {
				t.Errorf("%s reads %+v", name, l)
			}
		}
		_, other, _ := h.addMember("Olu Other", "olu@example.org")
		expectStatus(t, other.api("GET", path, nil), http.StatusNotFound)
		expectStatus(t, h.tokenClient(domain.RoleServices).api("GET", path, nil), http.StatusNotFound)
		expectStatus(t, h.visitor().api("GET", path, nil), http.StatusUnauthorized)

		events, err := h.svc.Audit.List(context.Background(), domain.SystemActor("test"), domain.AuditQuery{Action: domain.AuditCheckRecorded})
		if err != nil || len(events.Items) != 1 || events.Items[0].SubjectID != target.ID || events.Items[0].ActorID != coordID {
			t.Errorf("audit of the recorded check: %+v %v", events.Items, err)
		}
	})
}

func TestCheckFormOnTheMemberPage(t *testing.T) {
	forEachDialect(t, func(t *testing.T, h *harness) {
		target := h.people[domain.RoleMember]
		page := "/coordinate/members/" + itoa(target.ID)
		coord := h.as(domain.RoleCoordinator)
		contains(t, coord.get(page), "Safeguarding checks", "No checks recorded", "Never record what a disclosure says",
			`action="`+page+`/checks"`)

		form := url.Values{"kind": {"DBS"}, "level": {"enhanced"}, "certificate_number": {"001234567890"},
			"issued_on": {londonDate(-30)}, "expires_on": {londonDate(-60)}, "update_service": {"yes"}}
		res := coord.postForm(page+"/checks", form)
		expectStatus(t, res, http.StatusUnprocessableEntity)
		contains(t, res, "There is a problem", `id="f-expires_on-error"`, "The re-check date cannot be before the date the certificate was issued",
			`value="001234567890"`)

		form.Set("expires_on", londonDate(20))
		res = coord.postForm(page+"/checks", form)
		expectStatus(t, res, http.StatusSeeOther)
		if loc := res.Header.Get("Location"); loc != page+"#checks" {
			t.Errorf("after recording: to %q", loc)
		}
		contains(t, coord.get(page), "is recorded, with you as the coordinator who verified it", "001234567890", "DBS, enhanced, on the Update Service",
			"Test coordinator")

		// The member sees their own check, read only; they cannot record one.
		member := h.as(domain.RoleMember)
		res = member.get("/account")
		contains(t, res, "Your safeguarding checks", "DBS (enhanced), certificate 001234567890")
		lacks(t, res, `/checks"`, "Record the check")
		expectStatus(t, member.postForm(page+"/checks", form), http.StatusForbidden)
		contains(t, h.as(domain.RoleAdmin).get("/account"), "Your safeguarding checks", "None recorded")

		// The coordinators' home page lists it: its re-check date is within 30 days.
		contains(t, coord.get("/coordinate"), "Safeguarding checks due", `href="`+page+`#checks">Test member</a>`)
	})
}

func TestCoordinatorHomeShowsConcernsFirstAndChecksDue(t *testing.T) {
	forEachDialect(t, func(t *testing.T, h *harness) {
		coord := h.tokenClient(domain.RoleCoordinator)
		soon, later := h.people[domain.RoleMember], h.people[domain.RoleServices]
		expectStatus(t, coord.api("POST", "/api/v1/members/"+itoa(later.ID)+"/checks", validCheck(45)), http.StatusCreated)
		expectStatus(t, coord.api("POST", "/api/v1/members/"+itoa(soon.ID)+"/checks", validCheck(12)), http.StatusCreated)
		sooner, _, _ := h.addMember("Sol Sooner", "sol@example.org")
		expectStatus(t, coord.api("POST", "/api/v1/members/"+itoa(sooner.ID)+"/checks", validCheck(3)), http.StatusCreated)

		home := h.as(domain.RoleCoordinator)
		res := home.get("/coordinate")
		contains(t, res, "No safeguarding concerns are open", "Safeguarding checks due")
		lacks(t, res, "safeguarding-alert", "Test services")
		b := body(res)
		if i, j := strings.Index(b, "Sol Sooner"), strings.Index(b, "Test member"); i < 0 || j < 0 || i > j {
			t.Errorf("checks due are not soonest first: Sol Sooner at %d, Test member at %d", i, j)
		}

		member := h.as(domain.RoleMember)
		contains(t, member.get("/concerns/new?about=profile&id="+itoa(later.ID)), `<option value="member" selected>`, `value="`+itoa(later.ID)+`"`)
		res = member.postForm("/concerns", url.Values{"about": {"member"}, "subject_id": {itoa(later.ID)},
			"text": {"They asked my mum for her bank card."}, "urgent": {"yes"}})
		expectStatus(t, res, http.StatusSeeOther)
		if loc := res.Header.Get("Location"); loc != "/account#concerns" {
			t.Errorf("after raising: to %q", loc)
		}
		contains(t, member.get("/account"), "Your concern has gone to the co-op", "Concerns you raised", "Received")

		res = home.get("/coordinate")
		contains(t, res, `class="safeguarding-alert" role="alert"`, "Safeguarding concern: 1 open", "Urgent")
		b = body(res)
		alert := strings.Index(b, "safeguarding-alert")
		for _, after := range []string{"Safeguarding checks due", "/coordinate/matching", "Applications to join"} {
			if i := strings.Index(b, after); i < alert {
				t.Errorf("%q comes before the concerns (at %d, concerns at %d)", after, i, alert)
			}
		}
		lacks(t, res, "bank card") // the text is read, and the reading audited, on the concern's own page
	})
}

type concernWire struct {
	ID              int64   `json:"id"`
	About           string  `json:"about"`
	SubjectID       *int64  `json:"subject_id"`
	SubjectMemberID *int64  `json:"subject_member_id"`
	Text            string  `json:"text"`
	Status          string  `json:"status"`
	HandledNote     *string `json:"handled_note"`
}

func TestAConcernIsNeverShownToWhomItConcerns(t *testing.T) {
	forEachDialect(t, func(t *testing.T, h *harness) {
		ctx := context.Background()
		member := h.tokenClient(domain.RoleMember)
		subject := h.people[domain.RoleCoordinator]
		res := member.api("POST", "/api/v1/concerns", map[string]any{"about": "member", "subject_id": subject.ID,
			"text": "They shouted at a volunteer."})
		expectStatus(t, res, http.StatusCreated)
		receipt := decode[concernWire](t, res)
		if receipt.Status != "received" || strings.Contains(body(res), "shouted") || strings.Contains(body(res), "subject_member_id") {
			t.Errorf("the receipt says more than it should: %s", body(res))
		}
		id := itoa(receipt.ID)

		// The coordinator it is about: no banner, no row, no page, no API item, no handling.
		them := h.as(domain.RoleCoordinator)
		lacks(t, them.get("/coordinate"), "safeguarding-alert", "Concern "+id)
		lacks(t, them.get("/coordinate/concerns"), "Concern "+id, "shouted")
		res = them.get("/coordinate/concerns/" + id)
		expectStatus(t, res, http.StatusNotFound)
		lacks(t, res, "shouted")
		expectStatus(t, them.postForm("/coordinate/concerns/"+id+"/handle", url.Values{"note": {"Nothing in it"}}), http.StatusNotFound)
		api := h.tokenClient(domain.RoleCoordinator)
		res = api.api("GET", "/api/v1/concerns", nil)
		expectStatus(t, res, http.StatusOK)
		if l := decode[listWire[concernWire]](t, res); len(l.Items) != 0 {
			t.Errorf("the coordinator it is about is listed %+v", l.Items)
		}
		expectStatus(t, api.api("POST", "/api/v1/concerns/"+id+"/handle", map[string]any{"note": "Nothing in it"}), http.StatusNotFound)
		audit, _ := h.svc.Audit.List(ctx, domain.SystemActor("test"), domain.AuditQuery{SubjectType: "concern", SubjectID: receipt.ID})
		for _, e := range audit.Items {
			if e.ActorID == subject.ID {
				t.Errorf("the coordinator it is about did %s to it", e.Action)
			}
		}

		// Another coordinator (an admin here) sees it and reads it.
		admin := h.as(domain.RoleAdmin)
		contains(t, admin.get("/coordinate"), "Safeguarding concern: 1 open", "/coordinate/concerns/"+id)
		contains(t, admin.get("/coordinate/concerns/"+id), "They shouted at a volunteer.", "Test coordinator", "Mark handled")

		// A member's own request: a concern about it concerns them, so even they never see it listed.
		mine := h.people[domain.RoleMember]
		start := time.Now().Add(72 * time.Hour).Truncate(time.Hour)
		reqs, err := h.svc.Exchange.AskForSupport(ctx, domain.Actor{ID: mine.ID, Name: mine.Name, Role: domain.RoleMember},
			domain.RequestInput{Category: "transport", Description: "A lift to the surgery", Start: start, End: start.Add(time.Hour), Urgency: "soon"})
		if err != nil {
			t.Fatal(err)
		}
		expectStatus(t, member.api("POST", "/api/v1/concerns", map[string]any{"about": "request", "subject_id": reqs[0].ID,
			"text": "Worried about the helper who came."}), http.StatusCreated)
		res = h.as(domain.RoleMember).get("/account")
		contains(t, res, "member "+itoa(subject.ID), "Received")
		lacks(t, res, "request "+itoa(reqs[0].ID), "shouted", "Worried about")
	})
}

func TestHandlingAConcern(t *testing.T) {
	forEachDialect(t, func(t *testing.T, h *harness) {
		ctx := context.Background()
		member := h.tokenClient(domain.RoleMember)
		res := member.api("POST", "/api/v1/concerns", map[string]any{"text": "A stranger was asking about children on the estate.", "urgent": true})
		expectStatus(t, res, http.StatusCreated)
		first := decode[concernWire](t, res)
		res = member.api("POST", "/api/v1/concerns", map[string]any{"about": "general", "text": "Someone seemed lonely and unwell."})
		expectStatus(t, res, http.StatusCreated)
		second := decode[concernWire](t, res)

		// Members cannot read or handle concerns.
		expectStatus(t, member.api("GET", "/api/v1/concerns", nil), http.StatusForbidden)
		expectStatus(t, member.api("POST", "/api/v1/concerns/"+itoa(first.ID)+"/handle", map[string]any{"note": "Done"}), http.StatusForbidden)
		browser := h.as(domain.RoleMember)
		expectStatus(t, browser.get("/coordinate/concerns/"+itoa(first.ID)), http.StatusForbidden)

		// Through the API: a note is required, and a concern is handled once.
		coord := h.tokenClient(domain.RoleCoordinator)
		res = coord.api("POST", "/api/v1/concerns/"+itoa(first.ID)+"/handle", map[string]any{})
		expectStatus(t, res, http.StatusUnprocessableEntity)
		if p := decode[problemBody](t, res); p.fields() != "note" {
			t.Errorf("handling without a note: %s", body(res))
		}
		res = coord.api("POST", "/api/v1/concerns/"+itoa(first.ID)+"/handle", map[string]any{"note": "Passed to the council's safeguarding team."})
		expectStatus(t, res, http.StatusOK)
		if got := decode[concernWire](t, res); got.Status != "handled" || got.HandledNote == nil || *got.HandledNote != "Passed to the council's safeguarding team." {
			t.Errorf("handled: %s", body(res))
		}
		res = coord.api("POST", "/api/v1/concerns/"+itoa(first.ID)+"/handle", map[string]any{"note": "Again"})
		expectStatus(t, res, http.StatusConflict)
		contains(t, res, "already marked handled by Test coordinator")

		// Open ones first, then newest first; status filters.
		res = coord.api("GET", "/api/v1/concerns", nil)
		expectStatus(t, res, http.StatusOK)
		l := decode[listWire[concernWire]](t, res)
		if len(l.Items) != 2 || l.Items[0].ID != second.ID || l.Items[0].Status != "open" || l.Items[1].Text == "" {
			t.Errorf("the list: %+v", l.Items)
		}
		res = coord.api("GET", "/api/v1/concerns?status=handled&limit=1", nil)
		expectStatus(t, res, http.StatusOK)
		if l := decode[listWire[concernWire]](t, res); len(l.Items) != 1 || l.Items[0].ID != first.ID || l.Next != nil {
			t.Errorf("handled ones: %+v", l)
		}
		res = coord.api("GET", "/api/v1/concerns?status=lost", nil)
		expectStatus(t, res, http.StatusUnprocessableEntity)
		if p := decode[problemBody](t, res); p.fields() != "status" {
			t.Errorf("a bad status: %s", body(res))
		}

		// Through the pages.
		page := h.as(domain.RoleCoordinator)
		contains(t, page.get("/coordinate/concerns"), "Concern "+itoa(second.ID), "Concern "+itoa(first.ID), "Handled", "Open")
		contains(t, page.get("/coordinate/concerns/"+itoa(second.ID)), "Someone seemed lonely and unwell.", "Something in general", "Mark handled")
		res = page.postForm("/coordinate/concerns/"+itoa(second.ID)+"/handle", url.Values{"note": {"  "}})
		expectStatus(t, res, http.StatusUnprocessableEntity)
		contains(t, res, "Say what was done about the concern", `id="f-note-error"`)
		res = page.postForm("/coordinate/concerns/"+itoa(second.ID)+"/handle", url.Values{"note": {"Visited; a neighbour now calls in daily."}})
		expectStatus(t, res, http.StatusSeeOther)
		contains(t, page.get("/coordinate/concerns/"+itoa(second.ID)), "Visited; a neighbour now calls in daily.", "By Test coordinator")
		contains(t, page.get("/coordinate"), "No safeguarding concerns are open")

		// The member who raised them sees only that they were handled.
		res = browser.get("/account")
		contains(t, res, "Something in general", "Handled")
		lacks(t, res, "Received", "neighbour now calls", "lonely", "safeguarding team")

		// Every raising, reading and handling is audited.
		var got []string
		events, _ := h.svc.Audit.List(ctx, domain.SystemActor("test"), domain.AuditQuery{SubjectType: "concern", SubjectID: second.ID})
		for _, e := range events.Items {
			got = append(got, e.Action)
		}
		for _, want := range []string{domain.AuditConcernRaised, domain.AuditConcernViewed, domain.AuditConcernHandled} {
			if !slices.Contains(got, want) {
				t.Errorf("concern %d's audit %v has no %s", second.ID, got, want)
			}
		}
	})
}

func TestRaisingAConcern(t *testing.T) {
	forEachDialect(t, func(t *testing.T, h *harness) {
		ctx := context.Background()
		v := h.visitor()
		res := v.get("/concerns/new")
		if loc := res.Header.Get("Location"); res.StatusCode != http.StatusSeeOther || !strings.HasPrefix(loc, "/signin") {
			t.Errorf("a visitor: %d to %q, want sign in", res.StatusCode, loc)
		}
		contains(t, v.get("/"), `href="/concerns/new">Raise a safeguarding concern</a>`)

		member := h.as(domain.RoleMember)
		contains(t, member.get("/concerns/new?about=request&id=123"), `<option value="request" selected>`, `value="123"`, "call 999")
		contains(t, member.get("/concerns/new?about=match&id=4"), "Whom in the match is it about?")
		lacks(t, member.get("/concerns/new"), "Whom in the match")

		res = member.postForm("/concerns", url.Values{"about": {"request"}, "subject_id": {"99999"}, "text": {""}})
		expectStatus(t, res, http.StatusUnprocessableEntity)
		contains(t, res, "There is no request number 99999", "Say what happened, or what worries you", `id="f-text-error"`, `id="f-subject_id-error"`)
		res = member.postForm("/concerns", url.Values{"about": {"general"}, "text": {strings.Repeat("a", domain.MaxConcernLen+1)}})
		expectStatus(t, res, http.StatusUnprocessableEntity)
		contains(t, res, "at most 4000 characters")

		api := h.tokenClient(domain.RoleMember)
		res = api.api("POST", "/api/v1/concerns", map[string]any{"about": "offer"})
		expectStatus(t, res, http.StatusUnprocessableEntity)
		if p := decode[problemBody](t, res); p.fields() != "subject_id,text" {
			t.Errorf("an empty concern: %s", body(res))
		}
		// Formal services' users may raise one too.
		expectStatus(t, h.tokenClient(domain.RoleServices).api("POST", "/api/v1/concerns", map[string]any{"text": "A referral raised a worry."}), http.StatusCreated)

		// The request, offer and member pages link to the form about themselves.
		helper := h.people[domain.RoleMember]
		radius, perWeek := 5.0, 2
		offer, err := h.svc.Exchange.PostOffer(ctx, domain.Actor{ID: helper.ID, Name: helper.Name, Role: domain.RoleMember},
			domain.OfferInput{Category: "transport", Description: "Lifts in a small car",
				Slots: []domain.SlotInput{{Day: "tue", From: "09:00", To: "17:00"}}, RadiusKm: &radius, MaxPerWeek: &perWeek})
		if err != nil {
			t.Fatal(err)
		}
		start := time.Now().Add(72 * time.Hour).Truncate(time.Hour)
		reqs, err := h.svc.Exchange.AskForSupport(ctx, domain.Actor{ID: helper.ID, Name: helper.Name, Role: domain.RoleMember},
			domain.RequestInput{Category: "transport", Description: "A lift to the surgery", Start: start, End: start.Add(time.Hour), Urgency: "soon"})
		if err != nil {
			t.Fatal(err)
		}
		other := h.as(domain.RoleCoordinator)
		contains(t, other.get("/offers/"+itoa(offer.ID)), `href="/concerns/new?about=offer&amp;id=`+itoa(offer.ID)+`"`)
		contains(t, other.get("/requests/"+itoa(reqs[0].ID)), `href="/concerns/new?about=request&amp;id=`+itoa(reqs[0].ID)+`"`)
		contains(t, other.get("/coordinate/members/"+itoa(helper.ID)), `href="/concerns/new?about=member&amp;id=`+itoa(helper.ID)+`"`)
	})
}
