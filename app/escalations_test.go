package app_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/coop-exchange/coop/domain"
)

// TestEscalationsThroughTheAPI: a request nobody met is escalated; coordinators read it as JSON
// and as a FHIR Bundle; members cannot; the requester's page says where it went.
func TestEscalationsThroughTheAPI(t *testing.T) {
	forEachDialect(t, func(t *testing.T, h *harness) {
		ctx := context.Background()
		member, coordinator := h.people[domain.RoleMember], h.people[domain.RoleCoordinator]
		asCoordinator := domain.Actor{ID: coordinator.ID, Name: coordinator.Name, Role: coordinator.Role}
		cats, err := h.svc.Catalogue.Categories(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var terms []string
		for _, c := range cats {
			if c.Slug == "transport" {
				terms = c.TaxonomyTerms
			}
		}
		if _, _, err := h.svc.Directory.Create(ctx, asCoordinator, domain.ServiceInput{Name: "Riverside Community Transport",
			Organisation: "Riverside Council", TaxonomyTerms: terms, AreaIDs: []int64{h.area.ID}, Priority: 5,
			WebhookURL: "https://referrals.riverside.example/coop", Active: true}); err != nil {
			t.Fatal(err)
		}
		// Urgent and starting within twelve hours: due at once.
		start := time.Now().Add(6 * time.Hour).Truncate(time.Minute)
		reqs, err := h.svc.Exchange.AskForSupport(ctx, domain.Actor{ID: member.ID, Name: member.Name, Role: member.Role}, domain.RequestInput{
			Category: "transport", Description: "A lift home from hospital", Start: start, End: start.Add(time.Hour), Urgency: "urgent",
			ConsentToEscalate: true, ConsentContact: true})
		if err != nil {
			t.Fatal(err)
		}
		if c, err := h.svc.Escalations.EscalateDue(ctx); err != nil || c.Sent != 1 {
			t.Fatalf("escalation step: %+v (%v)", c, err)
		}
		coord, mem := h.as(domain.RoleCoordinator), h.as(domain.RoleMember)
		expectStatus(t, mem.api("GET", "/api/v1/escalations", nil), http.StatusForbidden)
		page := decode[listWire[struct {
			ID      int64  `json:"id"`
			Status  string `json:"status"`
			Service string `json:"service"`
		}]](t, coord.api("GET", "/api/v1/escalations?status=requested", nil))
		if len(page.Items) != 1 || page.Items[0].Service != "Riverside Community Transport" {
			t.Fatalf("escalations: %+v", page)
		}
		id := strconv.FormatInt(page.Items[0].ID, 10)
		expectStatus(t, coord.api("GET", "/api/v1/escalations?updated_since=yesterday", nil), http.StatusUnprocessableEntity)
		one := decode[struct {
			Status  string `json:"status"`
			History []struct {
				Status string `json:"status"`
				By     string `json:"by"`
			} `json:"history"`
		}](t, coord.api("GET", "/api/v1/escalations/"+id, nil))
		if one.Status != "requested" || len(one.History) != 1 || one.History[0].By != "the matcher" {
			t.Errorf("the escalation: %+v", one)
		}
		req := httptest.NewRequest(http.MethodGet, "/api/v1/escalations/"+id, nil)
		req.Header.Set("Accept", "application/fhir+json")
		res := coord.do(req)
		expectStatus(t, res, http.StatusOK)
		if ct := res.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/fhir+json") {
			t.Errorf("content type %q", ct)
		}
		var bundle struct {
			ResourceType string `json:"resourceType"`
			Entry        []struct {
				Resource map[string]any `json:"resource"`
			} `json:"entry"`
		}
		if err := json.Unmarshal([]byte(body(res)), &bundle); err != nil || bundle.ResourceType != "Bundle" {
			t.Fatalf("not a Bundle: %v %.300s", err, body(res))
		}
		types := map[string]bool{}
		for _, e := range bundle.Entry {
			types[e.Resource["resourceType"].(string)] = true
		}
		for _, want := range []string{"ServiceRequest", "Task", "Patient", "Consent", "Organization"} {
			if !types[want] {
				t.Errorf("the Bundle lacks a %s: %v", want, types)
			}
		}
		if page := body(mem.get("/requests/" + strconv.FormatInt(reqs[0].ID, 10))); !strings.Contains(page, "Passed to Riverside Community Transport") {
			t.Errorf("the requester's page does not say where it went")
		}

		// A coordinator passes another request on at once, with a note; the member cannot.
		later := time.Now().Add(5 * 24 * time.Hour).Truncate(time.Minute)
		more, err := h.svc.Exchange.AskForSupport(ctx, domain.Actor{ID: member.ID, Name: member.Name, Role: member.Role}, domain.RequestInput{
			Category: "transport", Description: "A lift to the day centre", Start: later, End: later.Add(time.Hour), Urgency: "routine",
			ConsentToEscalate: true})
		if err != nil {
			t.Fatal(err)
		}
		path := "/requests/" + strconv.FormatInt(more[0].ID, 10)
		reqPage := body(coord.get(path))
		ids := regexpAll(reqPage, `<option value="(\d+)">Riverside Community Transport`)
		if len(ids) != 1 {
			t.Fatalf("the coordinator's request page offers no service to pass it to:\n%.2000s", reqPage)
		}
		res = coord.postForm("/coordinate/requests/"+strconv.FormatInt(more[0].ID, 10)+"/escalate", url.Values{"service_id": ids, "note": {""}})
		expectStatus(t, res, http.StatusUnprocessableEntity)
		res = coord.postForm("/coordinate/requests/"+strconv.FormatInt(more[0].ID, 10)+"/escalate", url.Values{"service_id": ids, "note": {"Her usual lift has moved away"}})
		expectStatus(t, res, http.StatusSeeOther)
		if page := body(mem.get(path)); !strings.Contains(page, "Passed to Riverside Community Transport") {
			t.Errorf("after passing it on, the requester's page says:\n%.2000s", page)
		}
		expectStatus(t, mem.postForm("/coordinate/requests/"+strconv.FormatInt(more[0].ID, 10)+"/escalate", url.Values{"service_id": ids, "note": {"x"}}), http.StatusForbidden)
	})
}
