package app_test

import (
	"fmt"
	"net/http"
	"net/url"
	"testing"

	"github.com/coop-exchange/coop/domain"
)

type timingWire struct {
	Wait int `json:"wait_minutes"`
	Lead int `json:"lead_minutes"`
}

type categoryTimingsWire struct {
	ID         int64
	Slug       string
	Escalation map[string]timingWire
}

// TestAPICategoryEscalationTimings: the API shows the timings in force, takes a category's own,
// and goes back to the defaults on null.
func TestAPICategoryEscalationTimings(t *testing.T) {
	forEachDialect(t, func(t *testing.T, h *harness) {
		coord := h.tokenClient(domain.RoleCoordinator)
		defaults := map[string]timingWire{"urgent": {120, 720}, "soon": {1440, 1440}, "routine": {4320, 2880}}
		same := func(got, want map[string]timingWire) bool {
			if len(got) != len(want) {
				return false
			}
			for k, w := range want {
				if got[k] != w {
					return false
				}
			}
			return true
		}

		res := coord.api("POST", "/api/v1/categories", map[string]any{"slug": "hospital-lifts", "name": "Lifts to hospital",
			"escalation": map[string]any{"urgent": map[string]any{"wait_minutes": 30}}})
		expectStatus(t, res, http.StatusCreated)
		cat := decode[categoryTimingsWire](t, res)
		want := map[string]timingWire{"urgent": {30, 720}, "soon": {1440, 1440}, "routine": {4320, 2880}}
		if !same(cat.Escalation, want) {
			t.Errorf("created with %+v, want %+v", cat.Escalation, want)
		}
		path := fmt.Sprintf("/api/v1/categories/%d", cat.ID)
		// Only what is sent changes: the urgent wait stays, the routine lead becomes none.
		res = coord.api("PATCH", path, map[string]any{"escalation": map[string]any{"routine": map[string]any{"lead_minutes": 0}}})
		expectStatus(t, res, http.StatusOK)
		want["routine"] = timingWire{4320, 0}
		if got := decode[categoryTimingsWire](t, res).Escalation; !same(got, want) {
			t.Errorf("after setting the routine lead: %+v, want %+v", got, want)
		}
		res = coord.api("PATCH", path, map[string]any{"escalation": map[string]any{"urgent": map[string]any{"wait_minutes": nil}}})
		want["urgent"] = defaults["urgent"]
		if got := decode[categoryTimingsWire](t, res).Escalation; !same(got, want) {
			t.Errorf("after the urgent wait went back to the default: %+v, want %+v", got, want)
		}
		res = coord.api("PATCH", path, map[string]any{"escalation": nil})
		if got := decode[categoryTimingsWire](t, res).Escalation; !same(got, defaults) {
			t.Errorf("after all went back to the defaults: %+v", got)
		}
		// A category that never set its own follows the defaults.
		res = h.tokenClient(domain.RoleMember).api("GET", "/api/v1/categories", nil)
		for _, c := range decode[listWire[categoryTimingsWire]](t, res).Items {
			if !same(c.Escalation, defaults) {
				t.Errorf("%s shows %+v", c.Slug, c.Escalation)
			}
		}

		for _, c := range []struct {
			name    string
			payload any
			field   string
		}{
			{"no wait", map[string]any{"urgent": map[string]any{"wait_minutes": 0}}, "escalation.urgent.wait_minutes"},
			{"over 30 days", map[string]any{"soon": map[string]any{"lead_minutes": 43201}}, "escalation.soon.lead_minutes"},
			{"a lead after the start", map[string]any{"routine": map[string]any{"lead_minutes": -60}}, "escalation.routine.lead_minutes"},
			{"words for minutes", map[string]any{"urgent": map[string]any{"wait_minutes": "an hour"}}, "escalation.urgent.wait_minutes"},
			{"part of a minute", map[string]any{"urgent": map[string]any{"wait_minutes": 1.5}}, "escalation.urgent.wait_minutes"},
			{"no such urgency", map[string]any{"someday": map[string]any{"wait_minutes": 60}}, "escalation.someday"},
			{"no such field", map[string]any{"urgent": map[string]any{"wait_hours": 2}}, "escalation.urgent.wait_hours"},
			{"not an object", "soon", "escalation"},
		} {
			res := coord.api("PATCH", path, map[string]any{"escalation": c.payload})
			if res.StatusCode != http.StatusUnprocessableEntity || res.Header.Get("Content-Type") != "application/problem+json" {
				t.Errorf("%s: %d %s: %s", c.name, res.StatusCode, res.Header.Get("Content-Type"), body(res))
				continue
			}
			if p := decode[problemBody](t, res); p.fields() != c.field || p.Errors[0].Message == "" {
				t.Errorf("%s: %+v, want an error on %s", c.name, p, c.field)
			}
		}
		res = coord.api("POST", "/api/v1/categories", map[string]any{"slug": "too-late", "name": "Too late",
			"escalation": map[string]any{"urgent": map[string]any{"wait_minutes": 50000}}})
		expectStatus(t, res, http.StatusUnprocessableEntity)
		if p := decode[problemBody](t, res); p.fields() != "escalation.urgent.wait_minutes" {
			t.Errorf("creating with a wait of over a month: %+v", p)
		}
	})
}

// TestCoordinatorSetsCategoryTimingsOnItsPage: hours on the page, the defaults as hints, empty
// for the default.
func TestCoordinatorSetsCategoryTimingsOnItsPage(t *testing.T) {
	forEachDialect(t, func(t *testing.T, h *harness) {
		c := h.as(domain.RoleCoordinator)
		transport, err := h.st.CategoryBySlug(t.Context(), "transport")
		if err != nil {
			t.Fatal(err)
		}
		path := "/coordinate/categories/" + itoa(transport.ID)
		res := c.get(path)
		contains(t, res, "When unmet needs go to formal services", "Urgent requests", `name="escalation.urgent.wait" type="text" value=""`,
			"Leave empty for the default, 2 hours.", "Leave empty for the default, 48 hours.")
		form := func(urgentWait, soonLead string) url.Values {
			return url.Values{"name": {transport.Name}, "moderation": {"coordinator"}, "taxonomy_terms": {"esdServiceType:242"},
				"escalation.urgent.wait": {urgentWait}, "escalation.urgent.lead": {""}, "escalation.soon.wait": {""},
				"escalation.soon.lead": {soonLead}, "escalation.routine.wait": {""}, "escalation.routine.lead": {""}}
		}
		res = c.postForm(path, form("half an hour", "800"))
		expectStatus(t, res, http.StatusUnprocessableEntity)
		contains(t, res, "Enter a number of hours, such as 12 or 1.5", `value="half an hour"`, `href="#f-escalation.urgent.wait"`)
		res = c.postForm(path, form("0.5", "800"))
		expectStatus(t, res, http.StatusUnprocessableEntity)
		contains(t, res, "30 days (720 hours)", `value="800"`, `href="#f-escalation.soon.lead"`)
		res = c.postForm(path, form("0.5", "0"))
		expectStatus(t, res, http.StatusSeeOther)
		contains(t, c.get(path), `name="escalation.urgent.wait" type="text" value="0.5"`, `name="escalation.soon.lead" type="text" value="0"`,
			`name="escalation.routine.wait" type="text" value=""`)
		saved, err := h.st.Category(t.Context(), transport.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got := saved.EscalationTimings(); got[domain.Urgent].Wait.Minutes() != 30 || got[domain.Soon].Lead != 0 ||
			got[domain.Routine] != domain.DefaultEscalationTimings[domain.Routine] {
			t.Errorf("saved %+v", got)
		}
		// Emptied, they follow the defaults again.
		res = c.postForm(path, form("", ""))
		expectStatus(t, res, http.StatusSeeOther)
		if saved, _ = h.st.Category(t.Context(), transport.ID); len(saved.Escalation) != 0 {
			t.Errorf("after emptying the boxes: %+v", saved.Escalation)
		}
	})
}
