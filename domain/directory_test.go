package domain_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coop-exchange/coop/domain"
	"github.com/coop-exchange/coop/domain/openreferral"
	"github.com/coop-exchange/coop/domain/store"
	"github.com/coop-exchange/coop/domain/store/storetest"
	"github.com/coop-exchange/coop/internal/testenv"
)

func newDirectory(t *testing.T, w *world) *domain.Directory {
	t.Helper()
	reader, err := openreferral.NewReader()
	if err != nil {
		t.Fatal(err)
	}
	clock := domain.Clock(func() time.Time { w.mu.Lock(); defer w.mu.Unlock(); return w.now })
	return domain.NewDirectory(w.st, w.st, w.st, w.audit, clock, reader, http.DefaultClient)
}

func standard(t *testing.T, rel string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(testenv.Standards(t), rel))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func outcomes(r domain.ImportReport) map[domain.ImportOutcome]int {
	out := map[domain.ImportOutcome]int{}
	for _, it := range r.Items {
		out[it.Outcome]++
	}
	return out
}

func TestDirectoryRulesAndWhoMayChangeIt(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		w := newWorld(t, st)
		dir := newDirectory(t, w)
		member := w.add(t, w.admin, "Mo Member", "mo@example.org", domain.RoleMember)
		mo := domain.Actor{ID: member.ID, Name: member.Name, Role: member.Role}

		if _, _, err := dir.Create(ctx, mo, domain.ServiceInput{Name: "Mine"}); !errors.Is(err, domain.ErrForbidden) {
			t.Errorf("a member created a service: %v", err)
		}
		if _, err := dir.List(ctx, mo, domain.ServiceQuery{}); !errors.Is(err, domain.ErrForbidden) {
			t.Errorf("a member listed services: %v", err)
		}
		if _, err := dir.ImportFile(ctx, mo, "x.json", []byte(`[]`)); !errors.Is(err, domain.ErrForbidden) {
			t.Errorf("a member imported: %v", err)
		}

		age := func(n int) *int { return &n }
		bad := []struct {
			name string
			in   domain.ServiceInput
			want []string
		}{
			{"nothing", domain.ServiceInput{}, []string{"name"}},
			{"plain http elsewhere", domain.ServiceInput{Name: "A", WebhookURL: "http://referrals.example.org/hook"}, []string{"webhook_url"}},
			{"not a URL", domain.ServiceInput{Name: "A", WebhookURL: "referrals.example.org"}, []string{"webhook_url"}},
			{"credentials in URL", domain.ServiceInput{Name: "A", WebhookURL: "https://u:p@referrals.example.org/"}, []string{"webhook_url"}},
			{"bad email", domain.ServiceInput{Name: "A", Email: "referrals at example"}, []string{"email"}},
			{"ages", domain.ServiceInput{Name: "A", MinAge: age(-1), MaxAge: age(121)}, []string{"min_age", "max_age"}},
			{"ages crossed", domain.ServiceInput{Name: "A", MinAge: age(65), MaxAge: age(18)}, []string{"max_age"}},
			{"priority", domain.ServiceInput{Name: "A", Priority: 101}, []string{"priority"}},
			{"unknown area", domain.ServiceInput{Name: "A", AreaIDs: []int64{9999}}, []string{"area_ids"}},
		}
		for _, c := range bad {
			_, _, err := dir.Create(ctx, w.coord, c.in)
			if got := fieldsOf(err); !slices.Equal(got, c.want) {
				t.Errorf("%s: fields %v (%v), want %v", c.name, got, err, c.want)
			}
		}
		for _, ok := range []string{"https://referrals.example.org/coop", "http://localhost:8080/hook", "http://127.0.0.1/hook", "http://[::1]:9/x"} {
			if _, _, err := dir.Create(ctx, w.coord, domain.ServiceInput{Name: "Hook " + ok, WebhookURL: ok}); err != nil {
				t.Errorf("webhook %s refused: %v", ok, err)
			}
		}

		// A service with no contact exists but cannot be routed to, nor pinned as fallback.
		quiet, secret, err := dir.Create(ctx, w.coord, domain.ServiceInput{Name: "Quiet service", Active: true})
		if err != nil || quiet.HasContact() || quiet.Routable() || !strings.HasPrefix(secret, "whsec_") {
			t.Fatalf("contactless service: %+v %q %v", quiet, secret, err)
		}
		var conflict *domain.ConflictError
		if _, err := dir.PinFallback(ctx, w.coord, quiet.ID); !errors.As(err, &conflict) {
			t.Errorf("a contactless service was pinned as fallback: %v", err)
		}
		signing, err := dir.SigningSecret(ctx, quiet.ID)
		if err != nil || string(signing) != secret {
			t.Errorf("the signing secret is not the one shown: %v", err)
		}
		again, err := dir.NewWebhookSecret(ctx, w.coord, quiet.ID)
		if err != nil || again == secret {
			t.Fatalf("new secret: %v", err)
		}
		if signing, _ := dir.SigningSecret(ctx, quiet.ID); string(signing) != again {
			t.Error("webhooks are not signed with the new secret")
		}

		// At most one fallback, and pinning another moves it.
		front, _, err := dir.Create(ctx, w.coord, domain.ServiceInput{Name: "Adult social care front door", Organisation: "Council",
			Email: "asc.frontdoor@example.gov.uk", Active: true})
		if err != nil {
			t.Fatal(err)
		}
		other, _, err := dir.Create(ctx, w.coord, domain.ServiceInput{Name: "Children's front door", WebhookURL: "https://kids.example.gov.uk/hook", Active: true})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := dir.PinFallback(ctx, w.coord, front.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := dir.PinFallback(ctx, w.coord, other.ID); err != nil {
			t.Fatal(err)
		}
		fb, err := dir.Fallback(ctx, w.coord)
		if err != nil || fb.ID != other.ID {
			t.Errorf("fallback is %d (%v), want %d", fb.ID, err, other.ID)
		}
		if f, _ := dir.Get(ctx, w.coord, front.ID); f.Fallback {
			t.Error("two services are the fallback")
		}
		if acts := w.auditActions(t, other.ID); !slices.Contains(acts, domain.AuditServiceChanged) {
			t.Errorf("changes not audited: %v", acts)
		}
	})
}

func TestRouting(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		w := newWorld(t, st)
		dir := newDirectory(t, w)
		cat, err := st.CategoryBySlug(ctx, "sitting")
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Contains(cat.TaxonomyTerms, "esdServiceType:242") {
			t.Errorf("sitting has no default LGA terms: %v", cat.TaxonomyTerms)
		}
		lat, lon := 53.4, -1.5
		far, err := w.catalogue.CreateArea(ctx, w.coord, domain.AreaInput{Name: "Far Hill", Code: "FH9", Lat: &lat, Lon: &lon})
		if err != nil {
			t.Fatal(err)
		}
		age := func(n int) *int { return &n }
		mk := func(name string, prio int, terms []string, areas []int64, email string, min, max *int) domain.Service {
			s, _, err := dir.Create(ctx, w.coord, domain.ServiceInput{Name: name, Priority: prio, TaxonomyTerms: terms, AreaIDs: areas,
				Email: email, MinAge: min, MaxAge: max, Active: true})
			if err != nil {
				t.Fatal(err)
			}
			return s
		}
		low := mk("Home care (low)", 10, []string{"http://id.esd.org.uk/service/242"}, []int64{w.area.ID}, "a@example.org", nil, nil)
		high := mk("Carers centre (high)", 90, []string{"esdServiceType:298"}, []int64{w.area.ID, far.ID}, "b@example.org", age(18), nil)
		mk("Elsewhere", 99, []string{"esdServiceType:242"}, []int64{far.ID}, "c@example.org", nil, nil)
		mk("No contact", 99, []string{"esdServiceType:242"}, []int64{w.area.ID}, "", nil, nil)
		mk("Other kind", 99, []string{"esdServiceType:272"}, []int64{w.area.ID}, "d@example.org", nil, nil)
		off := mk("Switched off", 99, []string{"esdServiceType:242"}, []int64{w.area.ID}, "e@example.org", nil, nil)
		if _, err := dir.SetActive(ctx, w.coord, off.ID, false); err != nil {
			t.Fatal(err)
		}
		names := func(r domain.Routing) []string {
			var out []string
			for _, s := range r.Services {
				out = append(out, s.Name)
			}
			return out
		}
		r, err := dir.Route(ctx, domain.RouteQuery{Category: cat, AreaID: w.area.ID})
		if err != nil || !slices.Equal(names(r), []string{high.Name, low.Name}) || r.Fallback != nil {
			t.Errorf("route: %v %v %v", names(r), r.Fallback, err)
		}
		child, _ := dir.Route(ctx, domain.RouteQuery{Category: cat, AreaID: w.area.ID, Age: age(9)})
		if !slices.Equal(names(child), []string{low.Name}) {
			t.Errorf("a child is routed to %v", names(child))
		}
		if _, err := dir.PinFallback(ctx, w.coord, low.ID); err != nil {
			t.Fatal(err)
		}
		transport, _ := st.CategoryBySlug(ctx, "shopping-errands")
		transport.TaxonomyTerms = []string{"something:else"}
		none, _ := dir.Route(ctx, domain.RouteQuery{Category: transport, AreaID: w.area.ID})
		if len(none.Services) != 0 || none.Fallback == nil || none.Fallback.ID != low.ID {
			t.Errorf("no service covers it: %v, fallback %v", names(none), none.Fallback)
		}
	})
}

func TestImportingTheRealCouncilFeed(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		w := newWorld(t, st)
		dir := newDirectory(t, w)
		feed := standard(t, "oruk-1.0-real-feed-sample/north-lincolnshire-services-sample.json")
		first, err := dir.ImportFile(ctx, w.coord, "north-lincolnshire.json", feed)
		if err != nil {
			t.Fatal(err)
		}
		if got := outcomes(first); got[domain.Imported]+got[domain.Skipped] != 40 || got[domain.Imported] == 0 {
			t.Fatalf("first import: %v", got)
		}
		for _, it := range first.Items {
			if it.Outcome == domain.Skipped && it.Reason == "" {
				t.Errorf("record %d skipped without a reason", it.Index)
			}
		}
		page, err := dir.List(ctx, w.coord, domain.ServiceQuery{Page: domain.PageQuery{Limit: 100}})
		if err != nil || len(page.Items) != first.Imported {
			t.Fatalf("%d services listed (%v), %d imported", len(page.Items), err, first.Imported)
		}
		wawy := page.Items[0]
		if wawy.Source != domain.SourceORUK1 || wawy.Email != "" || wawy.DirectoryEmail != "victorhouse@northlincs.gov.uk" || wawy.Routable() ||
			strings.Contains(wawy.Description, "<p>") || !wawy.Active {
			t.Errorf("imported service: %+v", wawy)
		}

		second, err := dir.ImportFile(ctx, w.coord, "north-lincolnshire.json", feed)
		if err != nil {
			t.Fatal(err)
		}
		if got := outcomes(second); got[domain.Unchanged] != first.Imported || got[domain.Imported]+got[domain.Updated] != 0 {
			t.Errorf("second import changed something: %v", got)
		}
	})
}

func TestCoordinatorsEditsSurviveReimport(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		w := newWorld(t, st)
		dir := newDirectory(t, w)
		full := standard(t, "hsds-3.1/examples/service_full.json")
		rep, err := dir.ImportFile(ctx, w.coord, "service_full.json", full)
		if err != nil || rep.Imported != 1 {
			t.Fatalf("%+v %v", rep, err)
		}
		id := rep.Items[0].ServiceID
		s, _ := dir.Get(ctx, w.coord, id)
		if !slices.Equal(s.TaxonomyTerms, []string{"taxonomy:code", "http://example.com"}) || s.Source != domain.SourceHSDS ||
			*s.MinAge != 12 || s.Organisation != "Example Organization Inc." {
			t.Errorf("imported: %+v", s)
		}
		if len(rep.Items[0].UnmatchedAreas) == 0 {
			t.Error("the example's service area matched one of ours")
		}

		email, webhook, prio, off := "referrals@example.org", "https://example.org/hook", 70, false
		terms := append(slices.Clone(s.TaxonomyTerms), "esdServiceType:298")
		areas := []int64{w.area.ID}
		if _, err := dir.Update(ctx, w.coord, id, domain.ServicePatch{Email: &email, WebhookURL: &webhook, Priority: &prio,
			Active: &off, AreaIDs: &areas, TaxonomyTerms: &terms}); err != nil {
			t.Fatal(err)
		}
		again, err := dir.ImportFile(ctx, w.coord, "service_full.json", full)
		if err != nil || outcomes(again)[domain.Unchanged] != 1 {
			t.Fatalf("re-import: %v %v", outcomes(again), err)
		}
		// The directory changes the service: its fields change, the coordinator's stay.
		changed := strings.Replace(string(full), `"Community Counselling"`, `"Community Counselling Plus"`, 1)
		changed = strings.Replace(changed, `"code": "code"`, `"code": "code2"`, 1)
		upd, err := dir.ImportFile(ctx, w.coord, "service_full.json", []byte(changed))
		if err != nil || outcomes(upd)[domain.Updated] != 1 {
			t.Fatalf("changed import: %v %v", outcomes(upd), err)
		}
		s, _ = dir.Get(ctx, w.coord, id)
		if s.Name != "Community Counselling Plus" || s.Email != email || s.WebhookURL != webhook || s.Priority != prio || s.Active ||
			!slices.Equal(s.AreaIDs, areas) || !slices.Equal(s.TaxonomyTerms, []string{"esdServiceType:298", "taxonomy:code2", "http://example.com"}) {
			t.Errorf("after re-import: %+v", s)
		}
	})
}

func TestImportRefusesWhatIsNotADirectory(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		w := newWorld(t, st)
		dir := newDirectory(t, w)
		good := string(standard(t, "hsds-3.1/examples/service_full.json"))
		for name, doc := range map[string]string{
			"minutes.txt":  "Minutes of the committee\n",
			"geo.json":     `{"type": "FeatureCollection", "features": []}`,
			"partial.json": `[` + good + `, "not a service"]`,
		} {
			_, err := dir.ImportFile(ctx, w.coord, name, []byte(doc))
			var v *domain.ValidationError
			if !errors.As(err, &v) || !strings.Contains(v.Message("file"), "nothing was imported") {
				t.Errorf("%s: %v", name, err)
			}
		}
		page, _ := dir.List(ctx, w.coord, domain.ServiceQuery{})
		if len(page.Items) != 0 {
			t.Errorf("%d services were half-imported", len(page.Items))
		}
	})
}

func TestImportFromAFeed(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		w := newWorld(t, st)
		dir := newDirectory(t, w)
		var mu sync.Mutex
		var asked []string
		svc := func(id, name string) string {
			return fmt.Sprintf(`{"id": %q, "name": %q, "status": "active", "organization": {"id": "o1", "name": "Council", "description": "x"},
				"attributes": [{"id": "a-%s", "taxonomy_term": {"id": "t1", "name": "Carers support groups", "description": "x",
				"code": "298", "taxonomy": "esdServiceType", "term_uri": "http://id.esd.org.uk/service/298"}}],
				"service_areas": [{"id": "sa-%s", "name": "Bridge End"}], "last_modified": "2026-01-0%sT10:00:00Z"}`, id, name, id, id, id[1:])
		}
		srv := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
			mu.Lock()
			asked = append(asked, r.URL.RequestURI())
			mu.Unlock()
			if r.URL.Path != "/api/services" || r.URL.Query().Get("full") != "true" {
				http.NotFound(rw, r)
				return
			}
			switch {
			case r.URL.Query().Get("modified_after") != "":
				fmt.Fprintf(rw, `{"total_items": 1, "total_pages": 1, "page_number": 1, "size": 1, "first_page": true, "last_page": true, "empty": false, "contents": [%s]}`,
					svc("s3", "Third, renamed"))
			case r.URL.Query().Get("page") == "1":
				fmt.Fprintf(rw, `{"total_items": 3, "total_pages": 2, "page_number": 1, "size": 2, "first_page": true, "last_page": false, "empty": false, "contents": [%s, %s]}`,
					svc("s1", "First"), svc("s2", "Second"))
			default:
				fmt.Fprintf(rw, `{"total_items": 3, "total_pages": 2, "page_number": 2, "size": 2, "first_page": false, "last_page": true, "empty": false, "contents": [%s]}`,
					svc("s3", "Third"))
			}
		}))
		defer srv.Close()
		rep, err := dir.ImportFeed(ctx, w.coord, srv.URL+"/api")
		if err != nil || rep.Imported != 3 {
			t.Fatalf("feed: %+v %v", rep, err)
		}
		s, _ := dir.Get(ctx, w.coord, rep.Items[0].ServiceID)
		if !slices.Equal(s.AreaIDs, []int64{w.area.ID}) || !slices.Contains(s.TaxonomyTerms, "esdServiceType:298") {
			t.Errorf("feed service: %+v", s)
		}
		w.advance(24 * time.Hour)
		rep2, err := dir.ImportFeed(ctx, w.coord, srv.URL+"/api/services")
		if err != nil || rep2.Updated != 1 || len(rep2.Items) != 1 {
			t.Fatalf("second feed import: %+v %v", rep2, err)
		}
		mu.Lock()
		last := asked[len(asked)-1]
		mu.Unlock()
		if !strings.Contains(last, "modified_after=2026-03-02T09%3A00%3A00Z") {
			t.Errorf("second import asked %s, want modified_after the first import's time", last)
		}

		srv.Close()
		if _, err := dir.ImportFeed(ctx, w.coord, srv.URL); fieldsOf(err) == nil || !strings.Contains(err.Error(), "did not answer") {
			t.Errorf("a dead feed: %v", err)
		}
	})
}
