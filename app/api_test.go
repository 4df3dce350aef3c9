package app_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/coop-exchange/coop/domain"
	"github.com/coop-exchange/coop/domain/store"
	"github.com/coop-exchange/coop/domain/store/storetest"
)

type memberWire struct {
	ID     int64   `json:"id"`
	Name   string  `json:"name"`
	Email  *string `json:"email"`
	Role   string  `json:"role"`
	Status string  `json:"status"`
	AreaID *int64  `json:"area_id"`
}

type listWire[T any] struct {
	Items []T     `json:"items"`
	Next  *string `json:"next"`
}

// tokenClient is a program using the API with a bearer token.
func (h *harness) tokenClient(role domain.Role) *client {
	h.t.Helper()
	token, _, err := h.svc.Accounts.CreateAPIToken(context.Background(), domain.SystemActor("test"), string(role)+"@example.org", "test")
	if err != nil {
		h.t.Fatal(err)
	}
	c := h.visitor()
	c.bearer = token
	return c
}

func application(h *harness, email string) map[string]any {
	return map[string]any{"name": "Ravi Patel", "email": email, "phone": "07700 900 444", "area_id": h.area.ID,
		"password": "ravi's long password", "reason": "I have a car and free afternoons.", "consent": true}
}

func TestAPIMembershipQueue(t *testing.T) {
	forEachDialect(t, func(t *testing.T, h *harness) {
		v := h.visitor()
		res := v.api("POST", "/api/v1/applications", map[string]any{"email": "nope", "consent": false})
		expectStatus(t, res, http.StatusUnprocessableEntity)
		if p := decode[problemBody](t, res); p.fields() != "name,email,phone,area_id,password,reason,consent" {
			t.Errorf("fields named: %s", p.fields())
		}
		if ct := res.Header.Get("Content-Type"); ct != "application/problem+json" {
			t.Errorf("problem content type %q", ct)
		}
		var ids []int64
		for i := range 3 {
			res := v.api("POST", "/api/v1/applications", application(h, fmt.Sprintf("ravi%d@example.org", i)))
			expectStatus(t, res, http.StatusCreated)
			ids = append(ids, decode[struct{ ID int64 }](t, res).ID)
		}
		res = v.api("POST", "/api/v1/applications", application(h, "RAVI0@example.org"))
		expectStatus(t, res, http.StatusUnprocessableEntity)
		if p := decode[problemBody](t, res); p.fields() != "email" {
			t.Errorf("duplicate email: fields %s", p.fields())
		}

		coord := h.tokenClient(domain.RoleCoordinator)
		res = coord.api("GET", "/api/v1/applications?limit=2", nil)
		expectStatus(t, res, http.StatusOK)
		page := decode[listWire[memberWire]](t, res)
		if len(page.Items) != 2 || page.Next == nil || page.Items[0].ID != ids[0] {
			t.Fatalf("first page: %+v", page)
		}
		res = coord.api("GET", "/api/v1/applications?limit=2&cursor="+*page.Next, nil)
		page = decode[listWire[memberWire]](t, res)
		if len(page.Items) != 1 || page.Next != nil || page.Items[0].ID != ids[2] {
			t.Errorf("second page: %+v", page)
		}
		expectStatus(t, coord.api("GET", "/api/v1/applications?cursor=garbage", nil), http.StatusUnprocessableEntity)

		res = coord.api("POST", fmt.Sprintf("/api/v1/applications/%d/approve", ids[0]), nil)
		expectStatus(t, res, http.StatusOK)
		if m := decode[memberWire](t, res); m.Status != "active" {
			t.Errorf("approved status %s", m.Status)
		}
		res = coord.api("POST", fmt.Sprintf("/api/v1/applications/%d/decline", ids[1]), map[string]any{})
		expectStatus(t, res, http.StatusUnprocessableEntity)
		res = coord.api("POST", fmt.Sprintf("/api/v1/applications/%d/decline", ids[1]), map[string]any{"reason": "Outside our area."})
		expectStatus(t, res, http.StatusOK)
		res = coord.api("POST", fmt.Sprintf("/api/v1/applications/%d/approve", ids[1]), nil)
		expectStatus(t, res, http.StatusConflict)
		if p := decode[problemBody](t, res); !strings.Contains(p.Detail, "already declined") {
			t.Errorf("conflict detail %q", p.Detail)
		}
		expectStatus(t, coord.api("POST", "/api/v1/applications/999999/approve", nil), http.StatusNotFound)
	})
}

func TestAPIApplicationsAreRateLimited(t *testing.T) {
	h := newHarness(t, storetest.Open(t, store.SQLite))
	v := h.visitor()
	for i := range 5 {
		expectStatus(t, v.api("POST", "/api/v1/applications", application(h, fmt.Sprintf("r%d@example.org", i))), http.StatusCreated)
	}
	res := v.api("POST", "/api/v1/applications", application(h, "r6@example.org"))
	expectStatus(t, res, http.StatusTooManyRequests)
	if p := decode[problemBody](t, res); !strings.Contains(p.Detail, "try again in") || res.Header.Get("Retry-After") == "" {
		t.Errorf("rate limit answer %q, Retry-After %q", p.Detail, res.Header.Get("Retry-After"))
	}
	neighbour := h.visitor()
	neighbour.ip = "192.0.2.11"
	expectStatus(t, neighbour.api("POST", "/api/v1/applications", application(h, "r6@example.org")), http.StatusCreated)
}

// TestAreasAndCategoriesArePublic: someone applying through the API must be able to find the
// area ids, and HEAD works wherever GET does.
func TestAreasAndCategoriesArePublic(t *testing.T) {
	h := newHarness(t, storetest.Open(t, store.SQLite))
	v := h.visitor()
	page := decode[listWire[struct {
		ID   int64
		Code string
	}]](t, v.api("GET", "/api/v1/areas", nil))
	if len(page.Items) != 1 || page.Items[0].Code != "BE1" {
		t.Errorf("areas for a visitor: %+v", page)
	}
	expectStatus(t, v.api("GET", "/api/v1/categories", nil), http.StatusOK)
	for _, path := range []string{"/healthz", "/readyz", "/", "/api/v1/areas"} {
		expectStatus(t, v.do(httptest.NewRequest(http.MethodHead, path, nil)), http.StatusOK)
	}
}

func TestAPIMembers(t *testing.T) {
	forEachDialect(t, func(t *testing.T, h *harness) {
		coord := h.tokenClient(domain.RoleCoordinator)
		res := coord.api("POST", "/api/v1/members", map[string]any{"name": "Doris Ward", "phone": "01632 960 555", "area_id": h.area.ID, "consent_recorded": true})
		expectStatus(t, res, http.StatusCreated)
		doris := decode[memberWire](t, res)
		if doris.Email != nil || doris.Status != "active" || res.Header.Get("Location") != fmt.Sprintf("/api/v1/members/%d", doris.ID) {
			t.Errorf("added %+v at %q", doris, res.Header.Get("Location"))
		}
		res = coord.api("POST", "/api/v1/members", map[string]any{"name": "Boss", "email": "boss@example.org", "role": "admin", "area_id": h.area.ID, "consent_recorded": true})
		expectStatus(t, res, http.StatusUnprocessableEntity)
		expectStatus(t, coord.api("GET", fmt.Sprintf("/api/v1/members/%d", doris.ID), nil), http.StatusOK)
		res = coord.api("GET", "/api/v1/members?q=DORIS", nil)
		if page := decode[listWire[memberWire]](t, res); len(page.Items) != 1 {
			t.Errorf("search found %d", len(page.Items))
		}
		expectStatus(t, coord.api("GET", "/api/v1/members?status=bogus", nil), http.StatusUnprocessableEntity)

		admin := h.tokenClient(domain.RoleAdmin)
		res = admin.api("PATCH", fmt.Sprintf("/api/v1/members/%d", doris.ID), map[string]any{"role": "coordinator"})
		expectStatus(t, res, http.StatusOK)
		if m := decode[memberWire](t, res); m.Role != "coordinator" {
			t.Errorf("role now %s", m.Role)
		}
		res = admin.api("PATCH", fmt.Sprintf("/api/v1/members/%d", h.people[domain.RoleAdmin].ID), map[string]any{"role": "member"})
		expectStatus(t, res, http.StatusUnprocessableEntity)

		me := decode[memberWire](t, h.tokenClient(domain.RoleMember).api("GET", "/api/v1/me", nil))
		if me.ID != h.people[domain.RoleMember].ID {
			t.Errorf("/me is %+v", me)
		}
	})
}

func TestAPIAreasAndCategories(t *testing.T) {
	forEachDialect(t, func(t *testing.T, h *harness) {
		coord := h.tokenClient(domain.RoleCoordinator)
		res := coord.api("POST", "/api/v1/areas", map[string]any{"name": "Riverside", "code": "rv2", "lat": 91, "lon": "west"})
		expectStatus(t, res, http.StatusUnprocessableEntity)
		if p := decode[problemBody](t, res); p.fields() != "lon" || !strings.Contains(p.Errors[0].Message, "Must be a number") {
			t.Errorf("a string for a number: %+v", p)
		}
		res = coord.api("POST", "/api/v1/areas", map[string]any{"name": "Riverside", "code": "rv2", "lat": 91, "lon": -1.45})
		if p := decode[problemBody](t, res); p.fields() != "lat" {
			t.Errorf("latitude 91: %+v", p)
		}
		res = coord.api("POST", "/api/v1/areas", map[string]any{"name": "Riverside", "code": "rv2", "lat": 53.39, "lon": -1.45})
		expectStatus(t, res, http.StatusCreated)
		area := decode[struct {
			ID   int64
			Code string
		}](t, res)
		if area.Code != "RV2" {
			t.Errorf("code stored as %q", area.Code)
		}
		res = coord.api("PATCH", fmt.Sprintf("/api/v1/areas/%d", area.ID), map[string]any{"name": "Riverside North"})
		expectStatus(t, res, http.StatusOK)
		member := h.tokenClient(domain.RoleMember)
		res = member.api("GET", "/api/v1/areas", nil)
		if page := decode[listWire[struct{ Name string }]](t, res); len(page.Items) != 2 || page.Items[1].Name != "Riverside North" {
			t.Errorf("areas as a member sees them: %+v", page)
		}
		expectStatus(t, coord.api("DELETE", fmt.Sprintf("/api/v1/areas/%d", h.area.ID), nil), http.StatusConflict)
		expectStatus(t, coord.api("DELETE", fmt.Sprintf("/api/v1/areas/%d", area.ID), nil), http.StatusNoContent)

		res = coord.api("POST", "/api/v1/categories", map[string]any{"slug": "garden-help", "name": "Garden help", "taxonomy_terms": []string{"esdServiceType:298"}})
		expectStatus(t, res, http.StatusCreated)
		cat := decode[struct {
			ID            int64
			Slug          string
			TaxonomyTerms []string `json:"taxonomy_terms"`
		}](t, res)
		res = coord.api("PATCH", fmt.Sprintf("/api/v1/categories/%d", cat.ID), map[string]any{"slug": "gardens"})
		expectStatus(t, res, http.StatusUnprocessableEntity)
		res = coord.api("PATCH", fmt.Sprintf("/api/v1/categories/%d", cat.ID), map[string]any{"requires_check": true, "taxonomy_terms": []string{}})
		expectStatus(t, res, http.StatusOK)
		res = member.api("GET", "/api/v1/categories", nil)
		if page := decode[listWire[struct{ Slug string }]](t, res); len(page.Items) != 6 {
			t.Errorf("%d categories, want the 5 seeded and 1 added", len(page.Items))
		}
	})
}

func TestAPIBadRequests(t *testing.T) {
	h := newHarness(t, storetest.Open(t, store.SQLite))
	coord := h.tokenClient(domain.RoleCoordinator)
	cases := []struct {
		name, contentType, body string
		status                  int
		detail                  string
	}{
		{"not JSON", "application/json", `{"name": `, 400, "not valid JSON"},
		{"two objects", "application/json", `{} {}`, 400, "exactly one JSON object"},
		{"an array", "application/json", `[1]`, 400, "must be a JSON object"},
		{"a form", "application/x-www-form-urlencoded", `name=x`, 415, "Content-Type: application/json"},
		{"unknown field", "application/json", `{"nmae": "Riverside"}`, 422, ""},
	}
	for _, c := range cases {
		req := httptest.NewRequest("POST", "/api/v1/areas", strings.NewReader(c.body))
		req.Header.Set("Content-Type", c.contentType)
		res := coord.do(req)
		if res.StatusCode != c.status {
			t.Errorf("%s: status %d, want %d: %s", c.name, res.StatusCode, c.status, body(res))
			continue
		}
		if p := decode[problemBody](t, res); !strings.Contains(p.Detail, c.detail) {
			t.Errorf("%s: detail %q, want it to mention %q", c.name, p.Detail, c.detail)
		}
	}
	res := h.visitor().get("/api/v1/nothing-here")
	expectStatus(t, res, http.StatusNotFound)
	if ct := res.Header.Get("Content-Type"); ct != "application/problem+json" {
		t.Errorf("API 404 content type %q", ct)
	}
	bad := h.visitor()
	bad.bearer = "coop_not-a-real-token"
	res = bad.api("GET", "/api/v1/me", nil)
	expectStatus(t, res, http.StatusUnauthorized)
	if !strings.Contains(res.Header.Get("WWW-Authenticate"), "invalid_token") {
		t.Errorf("WWW-Authenticate %q", res.Header.Get("WWW-Authenticate"))
	}
}

func TestCookieAPICallsFromOtherSitesAreRefused(t *testing.T) {
	h := newHarness(t, storetest.Open(t, store.SQLite))
	coord := h.as(domain.RoleCoordinator)
	req := httptest.NewRequest("POST", "/api/v1/areas", strings.NewReader(`{"name":"X","code":"X1","lat":1,"lon":1}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Origin", "https://evil.example")
	expectStatus(t, coord.do(req), http.StatusForbidden)
	req = httptest.NewRequest("POST", "/api/v1/areas", strings.NewReader(`{"name":"X","code":"X1","lat":1,"lon":1}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	expectStatus(t, coord.do(req), http.StatusForbidden)
	req = httptest.NewRequest("POST", "/api/v1/areas", strings.NewReader(`{"name":"X","code":"X1","lat":1,"lon":1}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Origin", "http://coop.test")
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	expectStatus(t, coord.do(req), http.StatusCreated)
}
