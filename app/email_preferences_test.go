package app_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/coop-exchange/coop/domain"
)

// checked reports, from the preferences page, which kinds of email are ticked.
func checked(t *testing.T, page string) map[string]bool {
	t.Helper()
	out := map[string]bool{}
	for _, k := range domain.EmailKinds {
		input := `name="email_` + k.Kind + `" type="checkbox" value="yes"`
		i := strings.Index(page, input)
		if i < 0 {
			t.Fatalf("the page has no checkbox for %s", k.Kind)
		}
		if !strings.Contains(page, `<label for="f-email_`+k.Kind+`">`+k.Label+`</label>`) {
			t.Errorf("the checkbox for %s has no label saying %q", k.Kind, k.Label)
		}
		out[k.Kind] = strings.HasPrefix(page[i+len(input):], " checked")
	}
	return out
}

type emailPrefsBody struct {
	Items []struct {
		Kind  string `json:"kind"`
		Label string `json:"label"`
		Wants bool   `json:"wants"`
	} `json:"items"`
}

func (b emailPrefsBody) wants() map[string]bool {
	out := map[string]bool{}
	for _, it := range b.Items {
		out[it.Kind] = it.Wants
	}
	return out
}

// TestMembersChooseWhichEmailsTheyGet sets a member's email choices through the page and the
// API, and checks that they read them back, and that nobody else's choices change.
func TestMembersChooseWhichEmailsTheyGet(t *testing.T) {
	forEachDialect(t, func(t *testing.T, h *harness) {
		ann, cora := h.as(domain.RoleMember), h.as(domain.RoleCoordinator)

		if !strings.Contains(body(ann.get("/account")), `href="/account/email"`) {
			t.Error("the account page does not link to the email choices")
		}
		res := ann.get("/account/email")
		expectStatus(t, res, http.StatusOK)
		for kind, on := range checked(t, body(res)) {
			if !on {
				t.Errorf("%s is not ticked for a new member", kind)
			}
		}

		// The form: only the boxes left ticked are sent.
		form := url.Values{"email_" + domain.EmailMatchProposed: {"yes"}, "email_" + domain.EmailMatchAccepted: {"yes"}}
		res = ann.postForm("/account/email", form)
		expectStatus(t, res, http.StatusSeeOther)
		page := body(ann.get("/account/email"))
		if !strings.Contains(page, "Your email choices have been saved.") {
			t.Error("no confirmation after saving")
		}
		for kind, on := range checked(t, page) {
			if want := kind == domain.EmailMatchProposed || kind == domain.EmailMatchAccepted; on != want {
				t.Errorf("after saving, %s ticked: %v, want %v", kind, on, want)
			}
		}
		expectStatus(t, ann.postForm("/account/email", url.Values{"_csrf": {"forged"}}), http.StatusForbidden)

		// The API reads the same, and changes only the kinds named.
		got := decode[emailPrefsBody](t, ann.api(http.MethodGet, "/api/v1/me/email-preferences", nil)).wants()
		if !got[domain.EmailMatchProposed] || got[domain.EmailMatchReminder] || len(got) != len(domain.EmailKinds) {
			t.Errorf("the API reads %v", got)
		}
		res = ann.api(http.MethodPut, "/api/v1/me/email-preferences", map[string]bool{domain.EmailMatchReminder: true, domain.EmailMatchProposed: false})
		expectStatus(t, res, http.StatusOK)
		got = decode[emailPrefsBody](t, res).wants()
		if got[domain.EmailMatchProposed] || !got[domain.EmailMatchReminder] || !got[domain.EmailMatchAccepted] || got[domain.EmailCheckDue] {
			t.Errorf("after PUT: %v", got)
		}
		res = ann.api(http.MethodPut, "/api/v1/me/email-preferences", `{"newsletter": true}`)
		expectStatus(t, res, http.StatusUnprocessableEntity)
		if p := decode[problemBody](t, res); p.fields() != "newsletter" {
			t.Errorf("an unknown kind: fields %q, want newsletter", p.fields())
		}
		expectStatus(t, ann.api(http.MethodPut, "/api/v1/me/email-preferences", `{"match.reminder": "yes"}`), http.StatusUnprocessableEntity)

		// Someone else's choices are their own: the coordinator's are untouched, and there is no
		// way to address another member's.
		for kind, on := range checked(t, body(cora.get("/account/email"))) {
			if !on {
				t.Errorf("Ann's choices changed the coordinator's %s", kind)
			}
		}
		for kind, on := range decode[emailPrefsBody](t, cora.api(http.MethodGet, "/api/v1/me/email-preferences", nil)).wants() {
			if !on {
				t.Errorf("the coordinator's %s is off through the API", kind)
			}
		}
		expectStatus(t, cora.api(http.MethodPut, "/api/v1/me/email-preferences/"+itoa(h.people[domain.RoleMember].ID), `{}`), http.StatusNotFound)
		visitor := h.visitor()
		expectStatus(t, visitor.api(http.MethodGet, "/api/v1/me/email-preferences", nil), http.StatusUnauthorized)
		expectStatus(t, visitor.get("/account/email"), http.StatusSeeOther)
	})
}
