package app_test

import (
	"bufio"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/coop-exchange/coop/app"
	"github.com/coop-exchange/coop/domain"
	"github.com/coop-exchange/coop/domain/store"
	"github.com/coop-exchange/coop/domain/store/storetest"
	"github.com/coop-exchange/coop/internal/testenv"
)

// listen serves the app on a real socket (some limits live in the HTTP server itself).
func listen(t *testing.T, srv *app.Server) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Fiber().Listener(ln) //nolint:errcheck // ends at shutdown
	t.Cleanup(func() { _ = srv.Fiber().ShutdownWithTimeout(5 * time.Second) })
	return "http://" + ln.Addr().String()
}

func TestHealthReadinessAndMetrics(t *testing.T) {
	h := newHarness(t, storetest.Open(t, store.SQLite))
	v := h.visitor()
	expectStatus(t, v.get("/healthz"), http.StatusOK)
	res := v.get("/readyz")
	expectStatus(t, res, http.StatusOK)
	if !strings.Contains(body(res), `"ready"`) {
		t.Errorf("readyz says %s", body(res))
	}
	v.get("/join")
	res = v.get("/metrics")
	expectStatus(t, res, http.StatusOK)
	if !strings.Contains(body(res), `coop_http_requests_total{method="GET",route="/join",status="200"} 1`) {
		t.Errorf("metrics do not count the request to /join by its route:\n%.2000s", body(res))
	}
}

// postTooLarge announces a 2 MiB body, sends a little of it, and reads the answer, as a browser
// does when the server answers before the upload ends.
func postTooLarge(t *testing.T, base, path, contentType string) (int, string) {
	t.Helper()
	conn, err := net.Dial("tcp", strings.TrimPrefix(base, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "POST %s HTTP/1.1\r\nHost: coop.test\r\nContent-Type: %s\r\nContent-Length: %d\r\n\r\n%s",
		path, contentType, 2<<20, strings.Repeat("x", 1024))
	_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	res, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("no answer to an oversized body on %s: %v", path, err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}

func TestOversizedBodies(t *testing.T) {
	h := newHarness(t, storetest.Open(t, store.SQLite))
	base := listen(t, h.srv)
	status, b := postTooLarge(t, base, "/api/v1/applications", "application/json")
	var p problemBody
	if status != http.StatusRequestEntityTooLarge || json.Unmarshal([]byte(b), &p) != nil || p.Status != 413 || !strings.Contains(p.Detail, "larger than") {
		t.Errorf("oversized API body: %d %s", status, b)
	}
	status, b = postTooLarge(t, base, "/join", "application/x-www-form-urlencoded")
	if status != http.StatusRequestEntityTooLarge || !strings.Contains(b, "Too large") || !strings.Contains(b, "<html") {
		t.Errorf("oversized form: %d %.300s", status, b)
	}
}

// TestNotReadyWhileMigrationsArePending serves a database with no migrations applied.
func TestNotReadyWhileMigrationsArePending(t *testing.T) {
	ctx := context.Background()
	st, err := store.Open(ctx, storetest.NewDatabase(t, store.SQLite), testenv.Logger())
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	base, _ := url.Parse("http://coop.test")
	srv, err := app.New(app.Config{BaseURL: base, SecretKey: []byte(strings.Repeat("k", 32)), Location: time.UTC,
		Logger: testenv.Logger(), Metrics: prometheus.NewRegistry()}, app.Services{}, st)
	if err != nil {
		t.Fatal(err)
	}
	h := &harness{t: t, srv: srv, spec: loadSpec(t)}
	res := h.visitor().get("/readyz")
	expectStatus(t, res, http.StatusServiceUnavailable)
	if !strings.Contains(body(res), "run coop migrate") {
		t.Errorf("readyz says %s", body(res))
	}
	if _, err := st.Migrate(ctx, nil); err != nil {
		t.Fatal(err)
	}
	expectStatus(t, h.visitor().get("/readyz"), http.StatusOK)
}

// TestDatabaseGoingAway cuts PostgreSQL off from a running app: pages answer 503 with a plain
// message, a form keeps what was typed, /readyz fails, and all recovers when the database returns.
func TestDatabaseGoingAway(t *testing.T) {
	ctx := context.Background()
	dbURL := storetest.NewPostgresDatabase(t)
	u, _ := url.Parse(dbURL)
	name := strings.TrimPrefix(u.Path, "/")
	st, err := store.Open(ctx, store.Location{Dialect: store.Postgres, DSN: dbURL}, testenv.Logger())
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if _, err := st.Migrate(ctx, nil); err != nil {
		t.Fatal(err)
	}
	h := newHarness(t, st)
	coord := h.as(domain.RoleCoordinator)
	v := h.visitor()
	v.get("/join")

	admin, err := sql.Open("pgx", storetest.AdminURL(t))
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	if _, err := admin.Exec(`ALTER DATABASE ` + name + ` ALLOW_CONNECTIONS false`); err != nil {
		t.Fatal(err)
	}
	if _, err := admin.Exec(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1`, name); err != nil {
		t.Fatal(err)
	}

	res := coord.get("/coordinate/members")
	expectStatus(t, res, http.StatusServiceUnavailable)
	contains(t, res, "database is not answering", "Nothing you saved before is lost")
	lacks(t, res, "pgconn", "SQLSTATE", "goroutine")
	if res.Header.Get("Retry-After") == "" {
		t.Error("no Retry-After while the database is away")
	}
	expectStatus(t, v.get("/readyz"), http.StatusServiceUnavailable)
	res = v.postForm("/join", joinForm(h, "while.down@example.org"))
	expectStatus(t, res, http.StatusServiceUnavailable)
	contains(t, res, "database is not answering", `value="Pat Quinn"`, `value="while.down@example.org"`, "I can give lifts to appointments.", "Bridge End (BE1)")
	res = h.tokenClientOffline().api("GET", "/api/v1/areas", nil)
	expectStatus(t, res, http.StatusServiceUnavailable)

	if _, err := admin.Exec(`ALTER DATABASE ` + name + ` ALLOW_CONNECTIONS true`); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		res := coord.get("/coordinate/members")
		if res.StatusCode == http.StatusOK {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the app did not recover: %d", res.StatusCode)
		}
		time.Sleep(100 * time.Millisecond)
	}
	expectStatus(t, v.get("/readyz"), http.StatusOK)
	expectStatus(t, v.postForm("/join", joinForm(h, "after.down@example.org")), http.StatusSeeOther)
}

// tokenClientOffline is a client with a syntactically valid token, for when the database that
// would check it is away.
func (h *harness) tokenClientOffline() *client {
	c := h.visitor()
	c.bearer = domain.APITokenPrefix + "unchecked"
	return c
}
