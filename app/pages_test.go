package app_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/coop-exchange/coop/domain"
	"github.com/coop-exchange/coop/domain/store"
	"github.com/coop-exchange/coop/domain/store/storetest"
)

func contains(t *testing.T, res *http.Response, want ...string) {
	t.Helper()
	b := body(res)
	for _, w := range want {
		if !strings.Contains(b, w) {
			t.Errorf("%s %s: the page does not say %q", res.Request.Method, res.Request.URL.Path, w)
		}
	}
}

func lacks(t *testing.T, res *http.Response, unwanted ...string) {
	t.Helper()
	b := body(res)
	for _, w := range unwanted {
		if strings.Contains(b, w) {
			t.Errorf("%s %s: the page says %q, and should not", res.Request.Method, res.Request.URL.Path, w)
		}
	}
}

func joinForm(h *harness, email string) url.Values {
	return url.Values{"name": {"Pat Quinn"}, "email": {email}, "phone": {"07700 900 321"}, "area_id": {itoa(h.area.ID)},
		"password": {"pat's long password"}, "reason": {"I can give lifts to appointments."}, "consent": {"yes"}}
}

// TestJoinApproveSignIn is the membership journey through the pages: a visitor applies, the
// coordinator approves, and the new member signs in and sees their account.
func TestJoinApproveSignIn(t *testing.T) {
	forEachDialect(t, func(t *testing.T, h *harness) {
		v := h.visitor()
		res := v.get("/join")
		expectStatus(t, res, http.StatusOK)
		contains(t, res, `<label for="f-email">`, `id="f-email"`, domain.DataHoldingConsentWording, "Bridge End (BE1)")

		res = v.postForm("/join", joinForm(h, "Pat.Quinn@Example.org"))
		expectStatus(t, res, http.StatusSeeOther)
		if loc := res.Header.Get("Location"); loc != "/join/thanks" {
			t.Fatalf("after applying, sent to %q", loc)
		}
		contains(t, v.get("/join/thanks"), "Thank you for applying, Pat.", "as soon as your application is approved")

		// The applicant cannot sign in yet, and is told why.
		v.get("/signin")
		res = v.postForm("/signin", url.Values{"email": {"pat.quinn@example.org"}, "password": {"pat's long password"}})
		expectStatus(t, res, http.StatusForbidden)
		contains(t, res, "has not looked at your application yet")

		coord := h.as(domain.RoleCoordinator)
		res = coord.get("/coordinate/applications")
		contains(t, res, "Pat Quinn", "I can give lifts to appointments.")
		pat, err := h.st.MemberByEmail(t.Context(), "pat.quinn@example.org")
		if err != nil {
			t.Fatal(err)
		}
		res = coord.get("/coordinate/applications/" + itoa(pat.ID))
		contains(t, res, "07700 900 321", domain.DataHoldingConsentWording, "Approve Pat")
		res = coord.postForm("/coordinate/applications/"+itoa(pat.ID)+"/approve", nil)
		expectStatus(t, res, http.StatusSeeOther)
		contains(t, coord.get("/coordinate/applications"), "Pat Quinn is now a member", "Nobody is waiting")

		res = v.postForm("/signin", url.Values{"email": {"PAT.QUINN@example.org"}, "password": {"pat's long password"}})
		expectStatus(t, res, http.StatusSeeOther)
		if loc := res.Header.Get("Location"); loc != "/account" {
			t.Errorf("a member is sent to %q after signing in", loc)
		}
		contains(t, v.get("/account"), "Pat Quinn", "pat.quinn@example.org", "Bridge End (BE1)", domain.DataHoldingConsentWording)
	})
}

func TestJoinFormKeepsAnswersAndNamesEachProblem(t *testing.T) {
	forEachDialect(t, func(t *testing.T, h *harness) {
		v := h.visitor()
		v.get("/join")
		form := joinForm(h, "member@EXAMPLE.org") // taken, in another case
		form.Set("password", "short")
		form.Set("phone", "call me")
		form.Del("consent")
		res := v.postForm("/join", form)
		expectStatus(t, res, http.StatusUnprocessableEntity)
		contains(t, res, "There is a problem", `href="#f-email"`, "already a member or an application with this email",
			`href="#f-phone"`, `href="#f-password"`, "at least 10 characters", `href="#f-consent"`,
			`value="Pat Quinn"`, `value="member@EXAMPLE.org"`, `value="call me"`, "I can give lifts to appointments.",
			`aria-invalid="true"`, "<title>Error: Join the co-op")
		lacks(t, res, `value="short"`)
		if n, _ := h.st.CountMembers(t.Context(), domain.StatusApplicant); n != 0 {
			t.Errorf("%d applications saved from an invalid form", n)
		}
	})
}

func TestSignInFailures(t *testing.T) {
	forEachDialect(t, func(t *testing.T, h *harness) {
		v := h.visitor()
		v.get("/signin?next=/coordinate/members")
		for i := range 5 {
			res := v.postForm("/signin", url.Values{"email": {"coordinator@example.org"}, "password": {"not it"}, "next": {"/coordinate/members"}})
			expectStatus(t, res, http.StatusUnprocessableEntity)
			if i == 0 {
				contains(t, res, "The email address or password is not right", `value="coordinator@example.org"`, `name="next" value="/coordinate/members"`)
				lacks(t, res, `value="not it"`)
			}
		}
		res := v.postForm("/signin", url.Values{"email": {"coordinator@example.org"}, "password": {password}})
		expectStatus(t, res, http.StatusTooManyRequests)
		contains(t, res, "too many unsuccessful sign-ins to this account", "try again in")
		if res.Header.Get("Retry-After") == "" {
			t.Error("no Retry-After on a rate-limited sign-in")
		}
		// Another account signs in, and is sent where it asked to go.
		res = v.postForm("/signin", url.Values{"email": {"admin@example.org"}, "password": {password}, "next": {"/coordinate/members"}})
		expectStatus(t, res, http.StatusSeeOther)
		if loc := res.Header.Get("Location"); loc != "/coordinate/members" {
			t.Errorf("sent to %q, want the page asked for", loc)
		}
	})
}

func TestSignInRefusesToRedirectAway(t *testing.T) {
	h := newHarness(t, storetest.Open(t, store.SQLite))
	away := []string{"//evil.example/", "https://evil.example/", "/\\evil.example", "/\t/evil.example", "/\n/evil.example",
		"/%09/evil.example", " //evil.example", "/ /evil.example", "javascript:alert(1)"}
	for _, next := range away {
		v := h.visitor()
		v.get("/signin")
		res := v.postForm("/signin", url.Values{"email": {"member@example.org"}, "password": {password}, "next": {next}})
		if loc := res.Header.Get("Location"); loc != "/account" {
			t.Errorf("next=%q sent the member to %q", next, loc)
		}
	}
	// A signed-in member opening a sign-in link is sent on only within the site.
	m := h.as(domain.RoleMember)
	for _, next := range away {
		res := m.get("/signin?next=" + url.QueryEscape(next))
		if loc := res.Header.Get("Location"); loc != "/account" {
			t.Errorf("signed in, next=%q sent the member to %q", next, loc)
		}
	}
	if loc := m.get("/signin?next=" + url.QueryEscape("/account?tab=password#password")).Header.Get("Location"); loc != "/account?tab=password#password" {
		t.Errorf("a path on the site was refused: %q", loc)
	}
}

// TestClientAddresses checks whose address the audit log and the rate limits use: a trusted
// proxy's X-Forwarded-For is read from the right, so a client cannot choose its own address.
func TestClientAddresses(t *testing.T) {
	h := newHarness(t, storetest.Open(t, store.SQLite))
	failFrom := func(xff string) string {
		t.Helper()
		v := h.visitor()
		v.ip = xff
		v.get("/signin")
		v.postForm("/signin", url.Values{"email": {"nobody@example.org"}, "password": {"wrong"}})
		page, err := h.svc.Audit.List(t.Context(), domain.SystemActor("test"), domain.AuditQuery{Action: domain.AuditSignInFailed, Page: domain.PageQuery{Limit: 1}})
		if err != nil || len(page.Items) != 1 {
			t.Fatalf("audit: %v", err)
		}
		return page.Items[0].IP
	}
	if got := failFrom("203.0.113.5"); got != "203.0.113.5" {
		t.Errorf("through the proxy: %q", got)
	}
	if got := failFrom("6.6.6.6, 203.0.113.6"); got != "203.0.113.6" {
		t.Errorf("with an address the client wrote itself: %q, want the one the proxy added", got)
	}
	if got := failFrom("not an address, 203.0.113.7"); got != "203.0.113.7" {
		t.Errorf("after a mangled entry: %q", got)
	}

	// Without trusted proxies, the header is ignored.
	plain := newHarnessAt(t, storetest.Open(t, store.SQLite), "http://coop.test")
	plain.srv = mustServer(t, plain, nil)
	v := plain.visitor()
	v.ip = "203.0.113.8"
	v.get("/signin")
	v.postForm("/signin", url.Values{"email": {"nobody@example.org"}, "password": {"wrong"}})
	page, _ := plain.svc.Audit.List(t.Context(), domain.SystemActor("test"), domain.AuditQuery{Action: domain.AuditSignInFailed})
	if len(page.Items) != 1 || page.Items[0].IP == "203.0.113.8" {
		t.Errorf("an untrusted peer chose its address: %+v", page.Items)
	}
}

func TestSessionCookieAndSignOut(t *testing.T) {
	h := newHarness(t, storetest.Open(t, store.SQLite))
	v := h.visitor()
	v.get("/signin")
	res := v.postForm("/signin", url.Values{"email": {"member@example.org"}, "password": {password}})
	expectStatus(t, res, http.StatusSeeOther)
	var session *http.Cookie
	for _, c := range res.Cookies() {
		if c.Name == "coop_session" {
			session = c
		}
	}
	if session == nil || !session.HttpOnly || session.SameSite != http.SameSiteLaxMode || session.Secure {
		t.Fatalf("session cookie %+v: want HttpOnly, SameSite=Lax, not Secure over http", session)
	}
	v.get("/account")
	res = v.postForm("/signout", nil)
	expectStatus(t, res, http.StatusSeeOther)
	if _, ok := v.cookies["coop_session"]; ok {
		t.Error("the session cookie is still set after signing out")
	}
	// The old token no longer works even if someone kept it.
	old := h.visitor()
	old.cookies["coop_session"] = session.Value
	if res := old.get("/account"); res.StatusCode != http.StatusSeeOther {
		t.Errorf("a signed-out session still opens /account: %d", res.StatusCode)
	}
}

func TestSecureCookiesOverHTTPS(t *testing.T) {
	h := newHarnessAt(t, storetest.Open(t, store.SQLite), "https://coop.example")
	v := h.visitor()
	res := v.get("/signin")
	res = v.postForm("/signin", url.Values{"email": {"member@example.org"}, "password": {password}})
	expectStatus(t, res, http.StatusSeeOther)
	found := false
	for _, c := range res.Cookies() {
		if c.Name == "__Host-coop_session" {
			found = true
			if !c.Secure || !c.HttpOnly || c.Path != "/" {
				t.Errorf("session cookie over https: %+v", c)
			}
		}
	}
	if !found {
		t.Error("no __Host- session cookie over https")
	}
	if hsts := res.Header.Get("Strict-Transport-Security"); !strings.Contains(hsts, "max-age=") {
		t.Errorf("no HSTS over https: %q", hsts)
	}
}

func TestFormsNeedTheirCSRFToken(t *testing.T) {
	h := newHarness(t, storetest.Open(t, store.SQLite))
	v := h.visitor()
	v.get("/join")
	form := joinForm(h, "csrf@example.org")
	form.Set("_csrf", "forged")
	res := v.postForm("/join", form)
	expectStatus(t, res, http.StatusForbidden)
	contains(t, res, "This form has expired")
	// A token from someone else's visit does not work either.
	other := h.visitor()
	other.get("/join")
	form.Set("_csrf", other.csrf)
	expectStatus(t, v.postForm("/join", form), http.StatusForbidden)
	// A signed-in member's token is bound to their session.
	m := h.as(domain.RoleMember)
	c := h.as(domain.RoleCoordinator)
	expectStatus(t, c.postForm("/coordinate/areas", url.Values{"_csrf": {m.csrf}, "name": {"X"}, "code": {"X1"}, "lat": {"1"}, "lon": {"1"}}), http.StatusForbidden)
	if areas, _ := h.svc.Catalogue.Areas(t.Context()); len(areas) != 1 {
		t.Errorf("a forged form added an area")
	}
}

func TestDeclineReasonReachesTheApplicant(t *testing.T) {
	forEachDialect(t, func(t *testing.T, h *harness) {
		v := h.visitor()
		v.get("/join")
		expectStatus(t, v.postForm("/join", joinForm(h, "decline.me@example.org")), http.StatusSeeOther)
		app, _ := h.st.MemberByEmail(t.Context(), "decline.me@example.org")
		coord := h.as(domain.RoleCoordinator)
		coord.get("/coordinate/applications/" + itoa(app.ID))
		res := coord.postForm("/coordinate/applications/"+itoa(app.ID)+"/decline", url.Values{"reason": {""}})
		expectStatus(t, res, http.StatusUnprocessableEntity)
		contains(t, res, "Give a reason; the applicant will be told it")
		res = coord.postForm("/coordinate/applications/"+itoa(app.ID)+"/decline", url.Values{"reason": {"We cannot cover Mill Lane yet."}})
		expectStatus(t, res, http.StatusSeeOther)
		// A second coordinator, a moment later, is told it is already decided.
		admin := h.as(domain.RoleAdmin)
		admin.get("/coordinate/applications/" + itoa(app.ID))
		res = admin.postForm("/coordinate/applications/"+itoa(app.ID)+"/approve", nil)
		expectStatus(t, res, http.StatusConflict)
		contains(t, res, "already declined by Test coordinator")

		v.get("/signin")
		res = v.postForm("/signin", url.Values{"email": {"decline.me@example.org"}, "password": {"pat's long password"}})
		expectStatus(t, res, http.StatusForbidden)
		contains(t, res, "was not approved", "We cannot cover Mill Lane yet.")
	})
}

func TestCoordinatorManagesAreasAndCategories(t *testing.T) {
	forEachDialect(t, func(t *testing.T, h *harness) {
		c := h.as(domain.RoleCoordinator)
		c.get("/coordinate/areas")
		res := c.postForm("/coordinate/areas", url.Values{"name": {"Riverside"}, "code": {"rv2"}, "lat": {"fifty three"}, "lon": {""}})
		expectStatus(t, res, http.StatusUnprocessableEntity)
		contains(t, res, "Enter the latitude as a decimal number", "Enter the longitude of the area", `value="fifty three"`, `value="rv2"`)
		res = c.postForm("/coordinate/areas", url.Values{"name": {"Riverside"}, "code": {"rv2"}, "lat": {"53.392"}, "lon": {"-1.457"}})
		expectStatus(t, res, http.StatusSeeOther)
		contains(t, c.get("/coordinate/areas"), "Riverside (RV2) has been added", "RV2")
		res = c.postForm("/coordinate/areas", url.Values{"name": {"Other"}, "code": {"RV2"}, "lat": {"53"}, "lon": {"-1"}})
		expectStatus(t, res, http.StatusUnprocessableEntity)
		contains(t, res, "Another area already has this code or name")

		// Bridge End has members, so it cannot be removed; the page says why.
		c.get("/coordinate/areas/" + itoa(h.area.ID))
		res = c.postForm("/coordinate/areas/"+itoa(h.area.ID)+"/delete", nil)
		expectStatus(t, res, http.StatusConflict)
		contains(t, res, "cannot be removed while members or posts are in it")

		c.get("/coordinate/categories")
		res = c.postForm("/coordinate/categories", url.Values{"name": {"Garden help"}, "slug": {"Garden Help"}, "taxonomy_terms": {"esdServiceType:298\r\n\r\nesdNeed:12"}})
		expectStatus(t, res, http.StatusUnprocessableEntity)
		contains(t, res, "Use lower-case letters, digits and single dashes", `value="Garden help"`)
		res = c.postForm("/coordinate/categories", url.Values{"name": {"Garden help"}, "slug": {"garden-help"}, "requires_check": {"yes"}, "taxonomy_terms": {"esdServiceType:298\r\n\r\nesdNeed:12"}})
		expectStatus(t, res, http.StatusSeeOther)
		contains(t, c.get("/coordinate/categories"), "Garden help has been added", "esdServiceType:298, esdNeed:12")
	})
}

func TestCoordinatorAddsMemberByPhone(t *testing.T) {
	forEachDialect(t, func(t *testing.T, h *harness) {
		c := h.as(domain.RoleCoordinator)
		res := c.get("/coordinate/members/new")
		lacks(t, res, `<select id="f-role"`) // only admins give roles
		res = c.postForm("/coordinate/members", url.Values{"name": {"Doris Ward"}, "area_id": {itoa(h.area.ID)}, "role": {"member"}})
		expectStatus(t, res, http.StatusUnprocessableEntity)
		contains(t, res, "Give a phone number or an email address", "Confirm that you read the person the consent wording")
		res = c.postForm("/coordinate/members", url.Values{"name": {"Doris Ward"}, "phone": {"01632 960 555"}, "area_id": {itoa(h.area.ID)}, "role": {"member"}, "consent": {"yes"}})
		expectStatus(t, res, http.StatusSeeOther)
		res = c.get(res.Header.Get("Location"))
		contains(t, res, "Doris Ward has been added", "01632 960 555", "No (no password set)", "recorded by a coordinator")
		contains(t, c.get("/coordinate/members?q=doris"), "Doris Ward")
		lacks(t, c.get("/coordinate/members?q=nobody-called-this"), "Doris Ward")
	})
}

func TestAdminChangesRole(t *testing.T) {
	h := newHarness(t, storetest.Open(t, store.SQLite))
	member := h.people[domain.RoleMember]
	coord := h.as(domain.RoleCoordinator)
	lacks(t, coord.get("/coordinate/members/"+itoa(member.ID)), "Change role")
	admin := h.as(domain.RoleAdmin)
	contains(t, admin.get("/coordinate/members/"+itoa(member.ID)), "Change role")
	res := admin.postForm("/coordinate/members/"+itoa(member.ID)+"/role", url.Values{"role": {"coordinator"}})
	expectStatus(t, res, http.StatusSeeOther)
	// The member's very next request has the new role.
	contains(t, h.as(domain.RoleMember).get("/coordinate"), "Coordinating")
	contains(t, admin.get("/coordinate/audit?action=member.role_changed"), "member.role_changed", "from: member", "to: coordinator")
}

func TestErrorPages(t *testing.T) {
	h := newHarness(t, storetest.Open(t, store.SQLite))
	res := h.visitor().get("/no-such-page")
	expectStatus(t, res, http.StatusNotFound)
	contains(t, res, "Not found", "go to the home page")
	if ct := res.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/html") {
		t.Errorf("404 page content type %q", ct)
	}
	res = h.as(domain.RoleCoordinator).get("/coordinate/applications/999999")
	expectStatus(t, res, http.StatusNotFound)
	res = h.as(domain.RoleCoordinator).get("/coordinate/applications/not-a-number")
	expectStatus(t, res, http.StatusNotFound)
	for _, p := range []string{"/", "/no-such-page", "/api/v1/me", "/static/css/coop.css"} {
		res := h.visitor().get(p)
		for header, want := range map[string]string{"X-Content-Type-Options": "nosniff", "X-Frame-Options": "DENY",
			"Content-Security-Policy": "default-src 'self'", "Referrer-Policy": "same-origin"} {
			if got := res.Header.Get(header); !strings.Contains(got, want) {
				t.Errorf("%s: %s is %q", p, header, got)
			}
		}
		if res.Header.Get("X-Request-Id") == "" {
			t.Errorf("%s: no request id", p)
		}
	}
}
