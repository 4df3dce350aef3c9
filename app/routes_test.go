package app_test

import (
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/gofiber/fiber/v2"

	"github.com/coop-exchange/coop/app"
	"github.com/coop-exchange/coop/domain"
	"github.com/coop-exchange/coop/domain/store"
	"github.com/coop-exchange/coop/domain/store/storetest"
)

// TestEveryRouteDeclaresWhoMayUseIt checks that every route Fiber has is one the server registered
// with an access policy, so that a route added some other way (with no guard) fails here.
func TestEveryRouteDeclaresWhoMayUseIt(t *testing.T) {
	h := newHarness(t, storetest.Open(t, store.SQLite))
	declared := map[string]bool{}
	for _, r := range h.srv.Routes() {
		declared[r.Method+" "+r.Path] = true
		if !r.Access.Public && len(r.Access.Roles) == 0 {
			t.Errorf("%s %s allows nobody", r.Method, r.Path)
		}
	}
	// Handlers mounted with Use run for every path under their prefix, with no policy: the only
	// ones allowed are the global middleware and the "not found" fallback, mounted at the root.
	routes := map[string]bool{}
	for _, r := range h.srv.Fiber().GetRoutes(true) {
		routes[r.Method+" "+r.Path] = true
	}
	for _, r := range h.srv.Fiber().GetRoutes(false) {
		if !routes[r.Method+" "+r.Path] && r.Path != "/" {
			t.Errorf("a handler is mounted with Use at %s, where no route guard covers it", r.Path)
		}
	}
	n := 0
	for _, r := range h.srv.Fiber().GetRoutes(true) {
		method := r.Method
		if method == fiber.MethodHead {
			method = fiber.MethodGet // every GET route answers HEAD too, behind the same handlers
			if !routes["GET "+r.Path] {
				t.Errorf("HEAD %s has no GET beside it", r.Path)
			}
		}
		if !declared[method+" "+r.Path] {
			t.Errorf("%s %s is registered without an access policy", r.Method, r.Path)
		}
		n++
	}
	if n < len(declared) {
		t.Errorf("Fiber has %d routes, fewer than the %d declared", n, len(declared))
	}
}

// wantAccess is who each route is meant for, written out again here so that a route declared with
// the wrong policy (a coordinators' page open to members, say) fails as surely as one with none.
// A new route must be added here too.
var wantAccess = map[string]string{
	"GET /healthz": "public", "GET /readyz": "public", "GET /metrics": "public", "GET /static/*": "public",
	"GET /": "public", "GET /join": "public", "POST /join": "public", "GET /join/thanks": "public",
	"GET /signin": "public", "POST /signin": "public",
	"GET /password/forgot": "public", "POST /password/forgot": "public", "GET /password/set": "public", "POST /password/set": "public",
	"POST /signout": "member,coordinator,services,admin", "GET /account": "member,coordinator,services,admin",
	"POST /account/password": "member,coordinator,services,admin",
	"GET /account/email":     "member,coordinator,services,admin", "POST /account/email": "member,coordinator,services,admin",
	"GET /api/v1/me/email-preferences": "member,coordinator,services,admin", "PUT /api/v1/me/email-preferences": "member,coordinator,services,admin",
	"GET /coordinate": "coordinator,admin", "GET /coordinate/applications": "coordinator,admin",
	"GET /coordinate/applications/:id": "coordinator,admin", "POST /coordinate/applications/:id/approve": "coordinator,admin",
	"POST /coordinate/applications/:id/decline": "coordinator,admin", "GET /coordinate/members": "coordinator,admin",
	"GET /coordinate/members/new": "coordinator,admin", "POST /coordinate/members": "coordinator,admin",
	"GET /coordinate/members/:id": "coordinator,admin", "POST /coordinate/members/:id/role": "admin",
	"POST /coordinate/members/:id/suspend": "coordinator,admin", "POST /coordinate/members/:id/reinstate": "coordinator,admin", "POST /coordinate/members/:id/password-link": "coordinator,admin",
	"POST /api/v1/members/:id/suspend": "coordinator,admin", "POST /api/v1/members/:id/reinstate": "coordinator,admin",
	"GET /coordinate/areas": "coordinator,admin", "POST /coordinate/areas": "coordinator,admin",
	"GET /coordinate/areas/:id": "coordinator,admin", "POST /coordinate/areas/:id": "coordinator,admin",
	"POST /coordinate/areas/:id/delete": "coordinator,admin", "GET /coordinate/categories": "coordinator,admin",
	"POST /coordinate/categories": "coordinator,admin", "GET /coordinate/categories/:id": "coordinator,admin",
	"POST /coordinate/categories/:id": "coordinator,admin", "POST /coordinate/categories/:id/delete": "coordinator,admin",
	"GET /coordinate/audit":     "coordinator,admin",
	"GET /coordinate/matching":  "coordinator,admin",
	"GET /coordinate/unmatched": "coordinator,admin",
	"GET /api/v1/openapi.json":  "public", "GET /api/v1/me": "member,coordinator,services,admin",
	"POST /api/v1/applications": "public", "GET /api/v1/applications": "coordinator,admin",
	"POST /api/v1/applications/:id/approve": "coordinator,admin", "POST /api/v1/applications/:id/decline": "coordinator,admin",
	"GET /api/v1/members": "coordinator,admin", "POST /api/v1/members": "coordinator,admin",
	"GET /api/v1/members/:id": "coordinator,admin", "PATCH /api/v1/members/:id": "admin",
	"GET /api/v1/areas": "public", "POST /api/v1/areas": "coordinator,admin",
	"GET /api/v1/areas/:id": "public", "PATCH /api/v1/areas/:id": "coordinator,admin",
	"DELETE /api/v1/areas/:id": "coordinator,admin",
	"GET /api/v1/categories":   "public", "POST /api/v1/categories": "coordinator,admin",
	"GET /api/v1/categories/:id": "public", "PATCH /api/v1/categories/:id": "coordinator,admin",
	"DELETE /api/v1/categories/:id": "coordinator,admin",
	"GET /support":                  "member,coordinator,admin", "GET /browse/requests": "member,coordinator,admin",
	"GET /browse/offers": "member,coordinator,admin", "GET /offers/new": "member,coordinator,admin",
	"POST /offers": "member,coordinator,admin", "GET /offers/:id": "member,coordinator,admin",
	"GET /offers/:id/edit": "member,coordinator,admin", "POST /offers/:id": "member,coordinator,admin",
	"POST /offers/:id/pause": "member,coordinator,admin", "POST /offers/:id/resume": "member,coordinator,admin",
	"POST /offers/:id/withdraw": "member,coordinator,admin", "POST /offers/:id/confirm": "member,coordinator,admin",
	"GET /offers/:id/still-available": "public", "POST /offers/:id/still-available": "public",
	"GET /requests/new": "member,coordinator,admin",
	"POST /requests":    "member,coordinator,admin", "GET /requests/:id": "member,coordinator,admin",
	"GET /requests/:id/edit": "member,coordinator,admin", "POST /requests/:id": "member,coordinator,admin",
	"POST /requests/:id/cancel": "member,coordinator,admin",
	"GET /api/v1/offers":        "member,coordinator,admin", "POST /api/v1/offers": "member,coordinator,admin",
	"GET /api/v1/offers/:id": "member,coordinator,admin", "PATCH /api/v1/offers/:id": "member,coordinator,admin",
	"POST /api/v1/offers/:id/pause": "member,coordinator,admin", "POST /api/v1/offers/:id/resume": "member,coordinator,admin",
	"POST /api/v1/offers/:id/withdraw": "member,coordinator,admin",
	"GET /api/v1/requests":             "member,coordinator,admin", "POST /api/v1/requests": "member,coordinator,admin",
	"GET /api/v1/requests/:id": "member,coordinator,admin", "PATCH /api/v1/requests/:id": "member,coordinator,admin",
	"POST /api/v1/requests/:id/cancel": "member,coordinator,admin",
	"GET /matches":                     "member,coordinator,admin", "GET /matches/:id": "member,coordinator,admin", "POST /matches/:id/accept": "member,coordinator,admin",
	"POST /matches/:id/decline": "member,coordinator,admin", "POST /matches/:id/cancel": "member,coordinator,admin", "POST /matches/:id/done": "member,coordinator,admin",
	"POST /matches/:id/confirm": "member,coordinator,admin", "POST /matches/:id/feedback": "member,coordinator,admin", "GET /statement": "member,coordinator,admin",
	"GET /statement.csv": "member,coordinator,admin", "GET /notifications": "member,coordinator,services,admin", "GET /api/v1/notifications": "member,coordinator,services,admin",
	"POST /coordinate/matching/batch": "coordinator,admin", "POST /coordinate/matches/:id/approve": "coordinator,admin",
	"POST /coordinate/matches/:id/reject": "coordinator,admin", "GET /coordinate/requests/:id/match": "coordinator,admin",
	"POST /coordinate/requests/:id/match": "coordinator,admin", "GET /coordinate/members/:id/statement": "coordinator,admin",
	"GET /coordinate/members/:id/statement.csv": "coordinator,admin", "GET /coordinate/contributions": "coordinator,admin",
	"GET /api/v1/requests/:id/candidates": "coordinator,admin", "POST /api/v1/requests/:id/match": "coordinator,admin",
	"GET /api/v1/matches": "member,coordinator,admin", "GET /api/v1/matches/:id": "member,coordinator,admin", "POST /api/v1/matches/:id/approve": "coordinator,admin",
	"POST /api/v1/matches/:id/reject": "coordinator,admin", "POST /api/v1/matches/:id/accept": "member,coordinator,admin", "POST /api/v1/matches/:id/decline": "member,coordinator,admin",
	"POST /api/v1/matches/:id/cancel": "member,coordinator,admin", "POST /api/v1/matches/:id/complete": "member,coordinator,admin", "POST /api/v1/matches/:id/confirm": "member,coordinator,admin",
	"POST /api/v1/matches/:id/feedback": "member,coordinator,admin", "GET /api/v1/members/:id/statement": "member,coordinator,admin",
	"GET /api/v1/escalations": "services,coordinator,admin", "POST /coordinate/requests/:id/escalate": "coordinator,admin", "GET /api/v1/escalations/:id": "services,coordinator,admin",
	"POST /api/v1/escalations/:id/status": "services,coordinator,admin",
	"GET /inbox":                          "services", "GET /inbox/:id": "services", "POST /inbox/:id/acknowledge": "services", "POST /inbox/:id/status": "services",
	"GET /coordinate/escalations": "coordinator,admin", "POST /coordinate/escalations/:id/status": "coordinator,admin", "POST /coordinate/escalations/review": "coordinator,admin",
	"POST /requests/:id/consent/withdraw": "member,coordinator,admin",
	"POST /coordinate/services/:id/users": "coordinator,admin", "POST /coordinate/services/:id/users/:member/remove": "coordinator,admin",
	"POST /coordinate/services/:id/tokens": "coordinator,admin", "POST /coordinate/services/:id/tokens/:token/revoke": "coordinator,admin",
	"GET /api/v1/services/:id/users": "coordinator,admin", "POST /api/v1/services/:id/users": "coordinator,admin",
	"DELETE /api/v1/services/:id/users/:member": "coordinator,admin", "GET /api/v1/services/:id/tokens": "coordinator,admin",
	"POST /api/v1/services/:id/tokens": "coordinator,admin", "DELETE /api/v1/services/:id/tokens/:token": "coordinator,admin",
	// Safeguarding: the service lets a member read only their own checks.
	"GET /concerns/new": "member,coordinator,services,admin", "POST /concerns": "member,coordinator,services,admin",
	"POST /coordinate/members/:id/checks": "coordinator,admin", "GET /coordinate/concerns": "coordinator,admin",
	"GET /coordinate/concerns/:id": "coordinator,admin", "POST /coordinate/concerns/:id/handle": "coordinator,admin",
	"GET /api/v1/members/:id/checks": "member,coordinator,services,admin", "POST /api/v1/members/:id/checks": "coordinator,admin",
	"POST /api/v1/concerns": "member,coordinator,services,admin", "GET /api/v1/concerns": "coordinator,admin",
	"POST /api/v1/concerns/:id/handle": "coordinator,admin",
	// The directory of formal services: coordinators only.
	"GET /coordinate/services": "coordinator,admin", "GET /coordinate/services/new": "coordinator,admin",
	"POST /coordinate/services": "coordinator,admin", "GET /coordinate/services/import": "coordinator,admin",
	"POST /coordinate/services/import": "coordinator,admin", "GET /coordinate/services/:id": "coordinator,admin",
	"POST /coordinate/services/:id": "coordinator,admin", "POST /coordinate/services/:id/secret": "coordinator,admin",
	"POST /coordinate/services/:id/fallback": "coordinator,admin", "POST /coordinate/services/:id/unpin": "coordinator,admin",
	"GET /api/v1/services": "coordinator,admin", "POST /api/v1/services": "coordinator,admin",
	"POST /api/v1/services/import": "coordinator,admin", "GET /api/v1/services/:id": "coordinator,admin",
	"PATCH /api/v1/services/:id": "coordinator,admin",
}

// TestRoutesAreForWhomTheyShouldBe compares every route's declared policy with wantAccess.
func TestRoutesAreForWhomTheyShouldBe(t *testing.T) {
	h := newHarness(t, storetest.Open(t, store.SQLite))
	seen := map[string]bool{}
	for _, r := range h.srv.Routes() {
		key := r.Method + " " + r.Path
		seen[key] = true
		want, ok := wantAccess[key]
		switch {
		case !ok:
			t.Errorf("%s is not in wantAccess: add it with who may use it", key)
		case r.Access.String() != want:
			t.Errorf("%s is open to %q, want %q", key, r.Access, want)
		}
	}
	for key := range wantAccess {
		if !seen[key] {
			t.Errorf("%s is in wantAccess but not registered", key)
		}
	}
}

// TestRouteGuards walks every route the app registers and proves that a visitor and every role
// the route does not allow are refused (401 on the API, a redirect to sign in for pages, 403 for
// a wrong role), and that the roles it allows get past the guard.
func TestRouteGuards(t *testing.T) {
	forEachDialect(t, func(t *testing.T, h *harness) {
		routes := h.srv.Routes()
		if len(routes) < 40 {
			t.Fatalf("only %d routes registered; the walk would prove little", len(routes))
		}
		request := func(c *client, r routeInfo) *http.Response {
			path := strings.ReplaceAll(r.Path, ":id", "1")
			path = strings.ReplaceAll(path, "*", "css/coop.css")
			switch {
			case r.Method == fiber.MethodGet:
				return c.get(path)
			case strings.HasPrefix(path, "/api/"):
				return c.api(r.Method, path, map[string]any{})
			default:
				return c.postForm(path, url.Values{})
			}
		}
		guarded := 0
		for _, r := range routes {
			ri := routeInfo{Method: r.Method, Path: r.Path}
			if r.Access.Public {
				continue
			}
			guarded++
			res := request(h.visitor(), ri)
			if strings.HasPrefix(r.Path, "/api/") {
				if res.StatusCode != http.StatusUnauthorized {
					t.Errorf("visitor %s %s: status %d, want 401", r.Method, r.Path, res.StatusCode)
				}
			} else if loc := res.Header.Get("Location"); res.StatusCode != http.StatusSeeOther || !strings.HasPrefix(loc, "/signin?next=") {
				t.Errorf("visitor %s %s: status %d to %q, want a redirect to sign in", r.Method, r.Path, res.StatusCode, loc)
			}
			for _, role := range domain.Roles {
				if r.Access.Allows(role) {
					continue
				}
				if res := request(h.as(role), ri); res.StatusCode != http.StatusForbidden {
					t.Errorf("%s %s %s: status %d, want 403", role, r.Method, r.Path, res.StatusCode)
				}
			}
		}
		if guarded < 30 {
			t.Errorf("only %d guarded routes", guarded)
		}
		// The roles a route allows get past its guard (whatever the handler then says of the
		// empty input). Each request gets a fresh session, as some routes sign out or change roles.
		for _, r := range routes {
			for _, role := range domain.Roles {
				if r.Access.Public || !r.Access.Allows(role) {
					continue
				}
				res := request(h.as(role), routeInfo{Method: r.Method, Path: r.Path})
				if res.StatusCode == http.StatusUnauthorized || res.StatusCode == http.StatusForbidden ||
					strings.HasPrefix(res.Header.Get("Location"), "/signin") {
					t.Errorf("%s %s %s: status %d, but the route allows %s", role, r.Method, r.Path, res.StatusCode, role)
				}
			}
		}
	})
}

type routeInfo struct{ Method, Path string }

// TestGuardRunsBeforeTheHandler checks that a refused request changes nothing: a member's
// attempt to approve an application leaves it waiting.
func TestGuardRunsBeforeTheHandler(t *testing.T) {
	h := newHarness(t, storetest.Open(t, store.SQLite))
	v := h.visitor()
	v.get("/join")
	res := v.postForm("/join", url.Values{"name": {"Pat Quinn"}, "email": {"pat@example.org"}, "phone": {"07700 900 321"},
		"area_id": {itoa(h.area.ID)}, "password": {password}, "reason": {"To help."}, "consent": {"yes"}})
	expectStatus(t, res, http.StatusSeeOther)
	pat, err := h.st.MemberByEmail(t.Context(), "pat@example.org")
	if err != nil {
		t.Fatal(err)
	}
	member := h.as(domain.RoleMember)
	expectStatus(t, member.postForm("/coordinate/applications/"+itoa(pat.ID)+"/approve", nil), http.StatusForbidden)
	expectStatus(t, member.api("POST", "/api/v1/applications/"+itoa(pat.ID)+"/approve", nil), http.StatusForbidden)
	if m, _ := h.st.Member(t.Context(), pat.ID); m.Status != domain.StatusApplicant {
		t.Errorf("after refused approvals the applicant is %s", m.Status)
	}
	if !slices.ContainsFunc(h.srv.Routes(), func(r app.Route) bool { return r.Path == "/coordinate/applications/:id/approve" }) {
		t.Error("the approve route is not declared")
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
