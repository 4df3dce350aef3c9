package app_test

import (
	"bytes"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/coop-exchange/coop/domain"
	"github.com/coop-exchange/coop/internal/testenv"
)

type serviceBody struct {
	ID            int64    `json:"id"`
	Name          string   `json:"name"`
	WebhookSecret string   `json:"webhook_secret"`
	Routable      bool     `json:"routable"`
	Fallback      bool     `json:"fallback"`
	AreaIDs       []int64  `json:"area_ids"`
	TaxonomyTerms []string `json:"taxonomy_terms"`
}

type importBody struct {
	Imported, Updated, Unchanged, Skipped int
	Summary                               string
	Records                               []struct {
		Outcome, Reason string
	}
}

func sample(t *testing.T) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(testenv.Standards(t), "oruk-1.0-real-feed-sample", "north-lincolnshire-services-sample.json"))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// upload posts a file through the import page's multipart form, with the CSRF token.
func (c *client) upload(path, field, name string, data []byte) *http.Response {
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	w.WriteField("_csrf", c.csrf)
	fw, _ := w.CreateFormFile(field, name)
	fw.Write(data)
	w.Close()
	req := httptest.NewRequest(http.MethodPost, path, &buf)
	req.Header.Set("Content-Type", w.FormDataContentType())
	return c.do(req)
}

func TestServicesAPI(t *testing.T) {
	forEachDialect(t, func(t *testing.T, h *harness) {
		coord, member := h.as(domain.RoleCoordinator), h.as(domain.RoleMember)
		expectStatus(t, member.api("GET", "/api/v1/services", nil), http.StatusForbidden)
		expectStatus(t, member.api("POST", "/api/v1/services/import", string(sample(t))), http.StatusForbidden)

		res := coord.api("POST", "/api/v1/services", map[string]any{"name": "Carers centre", "webhook_url": "http://carers.example.org/hook"})
		expectStatus(t, res, http.StatusUnprocessableEntity)
		if p := decode[problemBody](t, res); p.fields() != "webhook_url" || !strings.Contains(p.Errors[0].Message, "https://") {
			t.Errorf("plain http webhook: %+v", p)
		}
		res = coord.api("POST", "/api/v1/services", map[string]any{"name": "Carers centre", "webhook_url": "https://carers.example.org/hook",
			"taxonomy_terms": []string{"esdServiceType:298"}, "area_ids": []int64{h.area.ID}, "min_age": 18, "priority": 60})
		expectStatus(t, res, http.StatusCreated)
		made := decode[serviceBody](t, res)
		if !strings.HasPrefix(made.WebhookSecret, "whsec_") || !made.Routable {
			t.Errorf("created: %+v", made)
		}
		got := decode[serviceBody](t, coord.api("GET", "/api/v1/services/"+itoa(made.ID), nil))
		if got.WebhookSecret != "" || got.Name != "Carers centre" {
			t.Errorf("the secret is shown again: %+v", got)
		}
		res = coord.api("PATCH", "/api/v1/services/"+itoa(made.ID), map[string]any{"fallback": true, "new_webhook_secret": true, "min_age": nil})
		expectStatus(t, res, http.StatusOK)
		if p := decode[serviceBody](t, res); !p.Fallback || p.WebhookSecret == "" || p.WebhookSecret == made.WebhookSecret {
			t.Errorf("patch: %+v", p)
		}

		res = coord.api("POST", "/api/v1/services/import", string(sample(t)))
		expectStatus(t, res, http.StatusOK)
		first := decode[importBody](t, res)
		if first.Imported+first.Skipped != 40 || first.Imported == 0 {
			t.Fatalf("import: %+v", first.Summary)
		}
		second := decode[importBody](t, coord.api("POST", "/api/v1/services/import", string(sample(t))))
		if second.Unchanged != first.Imported || second.Imported+second.Updated != 0 {
			t.Errorf("re-import: %s", second.Summary)
		}
		unroutable := decode[list[serviceBody]](t, coord.api("GET", "/api/v1/services?routable=false&limit=100", nil))
		if len(unroutable.Items) != first.Imported {
			t.Errorf("%d services cannot be routed to, want the %d imported", len(unroutable.Items), first.Imported)
		}
		res = coord.api("PATCH", "/api/v1/services/"+itoa(unroutable.Items[0].ID), map[string]any{"fallback": true})
		expectStatus(t, res, http.StatusConflict)

		res = coord.api("POST", "/api/v1/services/import", map[string]any{"type": "FeatureCollection"})
		expectStatus(t, res, http.StatusUnprocessableEntity)
		if p := decode[problemBody](t, res); p.fields() != "file" || !strings.Contains(p.Errors[0].Message, "nothing was imported") {
			t.Errorf("not a directory: %+v", p)
		}
		res = coord.api("GET", "/api/v1/services?active=maybe", nil)
		expectStatus(t, res, http.StatusUnprocessableEntity)
	})
}

type list[T any] struct {
	Items []T `json:"items"`
}

func TestServicesPages(t *testing.T) {
	forEachDialect(t, func(t *testing.T, h *harness) {
		coord := h.as(domain.RoleCoordinator)
		if page := body(coord.get("/coordinate")); !strings.Contains(page, `href="/coordinate/services"`) {
			t.Error("the coordinator's home does not link to the services")
		}
		coord.get("/coordinate/services/import")
		res := coord.upload("/coordinate/services/import", "file", "minutes.txt", []byte("Minutes of the committee"))
		expectStatus(t, res, http.StatusUnprocessableEntity)
		if page := body(res); !strings.Contains(page, "minutes.txt is not an Open Referral (HSDS or ORUK) list of services, so nothing was imported") {
			t.Errorf("a text file: %.2000s", page)
		}
		res = coord.upload("/coordinate/services/import", "file", "north-lincolnshire.json", sample(t))
		expectStatus(t, res, http.StatusOK)
		page := body(res)
		if !strings.Contains(page, "north-lincolnshire.json: 40 records: 40 imported, 0 updated, 0 unchanged, 0 skipped.") ||
			!strings.Contains(page, "Ashby Breastfeeding Support Group") {
			t.Errorf("import report: %.3000s", page)
		}
		list := body(coord.get("/coordinate/services"))
		if !strings.Contains(list, "cannot be routed to until a contact is set") || !strings.Contains(list, "#TalkSuicide") {
			t.Errorf("the list does not say imported services cannot be routed to: %.2000s", list)
		}

		// Add one by the form: the secret is shown once, then never again.
		coord.get("/coordinate/services/new")
		res = coord.postForm("/coordinate/services", url.Values{"name": {"Adult social care front door"}, "email": {"asc@example.gov.uk"},
			"webhook_url": {"http://asc.example.gov.uk/"}, "priority": {"ten"}, "area_ids": {itoa(h.area.ID)}, "active": {"yes"}})
		expectStatus(t, res, http.StatusUnprocessableEntity)
		if page := body(res); !strings.Contains(page, "Give the priority as a whole number") || !strings.Contains(page, `value="asc@example.gov.uk"`) {
			t.Errorf("the form is not shown again with its errors: %.2000s", page)
		}
		res = coord.postForm("/coordinate/services", url.Values{"name": {"Adult social care front door"}, "email": {"asc@example.gov.uk"},
			"priority": {"10"}, "area_ids": {itoa(h.area.ID)}, "active": {"yes"}, "taxonomy_terms": {"esdServiceType:242\nesdServiceType:298"}})
		expectStatus(t, res, http.StatusOK)
		secretPage := body(res)
		if !strings.Contains(secretPage, "whsec_") || !strings.Contains(secretPage, "shown only this once") || res.Header.Get("Cache-Control") != "no-store" {
			t.Errorf("secret page: %.2000s", secretPage)
		}
		services := decode[struct {
			Items []serviceBody `json:"items"`
		}](t, coord.api("GET", "/api/v1/services?routable=true", nil))
		if len(services.Items) != 1 {
			t.Fatalf("%d routable services", len(services.Items))
		}
		id := itoa(services.Items[0].ID)
		edit := body(coord.get("/coordinate/services/" + id))
		if strings.Contains(edit, "whsec_") || !strings.Contains(edit, `value="asc@example.gov.uk"`) {
			t.Errorf("edit page: %.2000s", edit)
		}
		expectStatus(t, coord.postForm("/coordinate/services/"+id+"/fallback", nil), http.StatusSeeOther)
		if list := body(coord.get("/coordinate/services?show=routable")); !strings.Contains(list, "Fallback") {
			t.Errorf("the fallback is not marked: %.2000s", list)
		}
		res = coord.postForm("/coordinate/services/"+id+"/secret", nil)
		expectStatus(t, res, http.StatusOK)
		if !strings.Contains(body(res), "A new secret has been made") {
			t.Error("no new secret shown")
		}
	})
}
