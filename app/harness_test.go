package app_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/coop-exchange/coop/app"
	"github.com/coop-exchange/coop/domain"
	"github.com/coop-exchange/coop/domain/matching"
	"github.com/coop-exchange/coop/domain/openreferral"
	"github.com/coop-exchange/coop/domain/store"
	"github.com/coop-exchange/coop/domain/store/storetest"
	"github.com/coop-exchange/coop/internal/testenv"
)

const password = "a long enough password"

// london is the co-op's time zone in these tests.
var london = func() *time.Location {
	loc, err := time.LoadLocation("Europe/London")
	if err != nil {
		panic(err)
	}
	return loc
}()

// harness is the web application over a fresh store, with one person of each role.
type harness struct {
	t      *testing.T
	base   *url.URL
	spec   *apiSpec // every API answer is checked against the OpenAPI document
	st     *store.Store
	srv    *app.Server
	svc    app.Services
	area   domain.Area
	people map[domain.Role]domain.Member
}

func newHarness(t *testing.T, st *store.Store) *harness {
	t.Helper()
	return newHarnessAt(t, st, "http://coop.test")
}

// newHarnessAt builds the harness with the given base URL (https turns on secure cookies).
func newHarnessAt(t *testing.T, st *store.Store, baseURL string) *harness {
	t.Helper()
	hasher := domain.PasswordHasher{Params: domain.PasswordParams{Memory: 1024, Time: 1, Threads: 1}}
	var clock domain.Clock
	audit := domain.NewAudit(st, clock)
	limiter := domain.NewRateLimiter(st, clock)
	svc := app.Services{
		Membership:    domain.NewMembership(st, st, st, st, audit, limiter, hasher, clock),
		Accounts:      domain.NewAccounts(st, st, st, st, audit, limiter, hasher, clock, []byte(strings.Repeat("k", 32))),
		Catalogue:     domain.NewCatalogue(st, st, st, audit, clock),
		Exchange:      domain.NewExchange(st, st, st, st, st, audit, clock, london),
		Matches:       domain.NewMatches(st),
		Agreements:    domain.NewAgreements(st, st, st, st, st, matching.NewRanker(st, london), st, audit, clock, london, 0),
		Contributions: domain.NewContributions(st, st, audit, clock, london),
		Notifications: domain.NewNotifications(st, clock),
		Audit:         audit,
		// Checks and concerns.
		Safeguarding: domain.NewSafeguarding(st, st, audit, clock, london),
		Preferences:  domain.NewPreferences(st, audit, clock),
		Freshness:    domain.NewFreshness(st, st, st, audit, clock, london, []byte(strings.Repeat("k", 32))),
		Directory:    domain.NewDirectory(st, st, st, audit, clock, openreferral.MustNewReader(), http.DefaultClient),
		// Services users and tokens.
		ServicePeople: domain.NewServicePeople(st, st, st, st, audit, clock),
	}
	svc.Escalations = domain.NewEscalations(st, st, svc.Directory, st, st, audit, clock, london, baseURL, false)
	svc.Agreements.WithEscalations(svc.Escalations)
	base, _ := url.Parse(baseURL)
	h := &harness{t: t, st: st, svc: svc, base: base, people: map[domain.Role]domain.Member{}, spec: loadSpec(t)}
	// Fiber's in-memory test connection comes from 0.0.0.0: trusting it as a proxy lets each
	// client give its own address in X-Forwarded-For, as a load balancer would.
	h.srv = mustServer(t, h, []netip.Prefix{netip.MustParsePrefix("0.0.0.0/32")})
	var err error
	ctx := context.Background()
	lat, lon := 53.3811, -1.4701
	if h.area, err = svc.Catalogue.CreateArea(ctx, domain.SystemActor("test"), domain.AreaInput{Name: "Bridge End", Code: "BE1", Lat: &lat, Lon: &lon}); err != nil {
		t.Fatal(err)
	}
	for _, role := range domain.Roles {
		m, err := svc.Membership.AddMember(ctx, domain.SystemActor("test"), domain.NewMemberInput{
			Name: "Test " + string(role), Email: string(role) + "@example.org", Phone: "01632 960 000",
			AreaID: h.area.ID, Role: role, Password: password, ConsentRecorded: true})
		if err != nil {
			t.Fatal(err)
		}
		h.people[role] = m
	}
	return h
}

// mustServer builds the app over the harness's services, trusting the given proxies.
func mustServer(t *testing.T, h *harness, proxies []netip.Prefix) *app.Server {
	t.Helper()
	srv, err := app.New(app.Config{BaseURL: h.base, SecretKey: []byte(strings.Repeat("k", 32)), Location: time.UTC,
		Logger: testenv.Logger(), Metrics: prometheus.NewRegistry(), TrustedProxies: proxies}, h.svc, h.st)
	if err != nil {
		t.Fatal(err)
	}
	return srv
}

// forEachDialect runs fn with a harness on each dialect.
func forEachDialect(t *testing.T, fn func(t *testing.T, h *harness)) {
	storetest.ForEachDialect(t, func(t *testing.T, st *store.Store) { fn(t, newHarness(t, st)) })
}

// client is a browser-like caller: it keeps cookies and the last CSRF token it saw.
type client struct {
	h       *harness
	cookies map[string]string
	csrf    string
	bearer  string
	ip      string
}

func (h *harness) visitor() *client {
	return &client{h: h, cookies: map[string]string{}, ip: "192.0.2.10"}
}

// as signs a new client in through the sign-in form.
func (h *harness) as(role domain.Role) *client {
	h.t.Helper()
	c := h.visitor()
	c.get("/signin")
	res := c.postForm("/signin", url.Values{"email": {string(role) + "@example.org"}, "password": {password}})
	if res.StatusCode != http.StatusSeeOther {
		h.t.Fatalf("sign in as %s: status %d: %s", role, res.StatusCode, body(res))
	}
	c.get("/account") // for the signed-in CSRF token
	return c
}

var csrfInput = regexp.MustCompile(`name="_csrf" value="([^"]+)"`)

func (c *client) do(req *http.Request) *http.Response {
	c.h.t.Helper()
	for k, v := range c.cookies {
		req.AddCookie(&http.Cookie{Name: k, Value: v})
	}
	if c.bearer != "" {
		req.Header.Set("Authorization", "Bearer "+c.bearer)
	}
	req.Header.Set("X-Forwarded-For", c.ip)
	res, err := c.h.srv.Fiber().Test(req, -1)
	if err != nil {
		c.h.t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	for _, ck := range res.Cookies() {
		if ck.MaxAge < 0 || ck.Value == "" {
			delete(c.cookies, ck.Name)
		} else {
			c.cookies[ck.Name] = ck.Value
		}
	}
	b, _ := io.ReadAll(res.Body)
	res.Body = io.NopCloser(bytes.NewReader(b))
	if strings.HasPrefix(req.URL.Path, "/api/v1/") {
		c.h.spec.check(c.h.t, req, res, b)
	}
	if m := csrfInput.FindSubmatch(b); m != nil {
		c.csrf = string(m[1])
	}
	return res
}

func (c *client) get(path string) *http.Response {
	return c.do(httptest.NewRequest(http.MethodGet, path, nil))
}

// postForm sends a form as a browser would, with the CSRF token unless the form sets one.
func (c *client) postForm(path string, form url.Values) *http.Response {
	if form == nil {
		form = url.Values{}
	}
	if _, ok := form["_csrf"]; !ok {
		form.Set("_csrf", c.csrf)
	}
	req := httptest.NewRequest(http.MethodPost, path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return c.do(req)
}

// api sends a JSON request (body may be nil, a string, or a value to encode).
func (c *client) api(method, path string, payload any) *http.Response {
	var r io.Reader
	switch p := payload.(type) {
	case nil:
	case string:
		r = strings.NewReader(p)
	default:
		b, _ := json.Marshal(p)
		r = bytes.NewReader(b)
	}
	req := httptest.NewRequest(method, path, r)
	if r != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	return c.do(req)
}

func body(res *http.Response) string {
	b, _ := io.ReadAll(res.Body)
	res.Body = io.NopCloser(bytes.NewReader(b))
	return string(b)
}

func decode[T any](t *testing.T, res *http.Response) T {
	t.Helper()
	var v T
	if err := json.Unmarshal([]byte(body(res)), &v); err != nil {
		t.Fatalf("decode %T from %q: %v", v, body(res), err)
	}
	return v
}

// problemBody is an RFC 9457 problem as the API sends it.
type problemBody struct {
	Type   string `json:"type"`
	Title  string `json:"title"`
	Status int    `json:"status"`
	Detail string `json:"detail"`
	Errors []struct {
		Field   string `json:"field"`
		Message string `json:"message"`
	} `json:"errors"`
}

func (p problemBody) fields() string {
	var f []string
	for _, e := range p.Errors {
		f = append(f, e.Field)
	}
	return strings.Join(f, ",")
}

func expectStatus(t *testing.T, res *http.Response, want int) {
	t.Helper()
	if res.StatusCode != want {
		t.Fatalf("%s %s: status %d, want %d: %.600s", res.Request.Method, res.Request.URL.Path, res.StatusCode, want, body(res))
	}
}
