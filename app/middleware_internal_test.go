package app

import (
	"bytes"
	"io"
	"log/slog"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/prometheus/client_golang/prometheus"
)

// TestPanicsBecomeAPlain500 checks that a handler's panic reaches nobody: the visitor gets the
// error page with a reference, the API caller a problem, and the log gets the details.
func TestPanicsBecomeAPlain500(t *testing.T) {
	var logs bytes.Buffer
	base, _ := url.Parse("http://coop.test")
	boom := func(c *fiber.Ctx) error { panic("secret internals: password=hunter2") }
	s, err := newServer(Config{BaseURL: base, SecretKey: []byte(strings.Repeat("k", 32)), Location: time.UTC,
		Logger: slog.New(slog.NewTextHandler(&logs, nil)), Metrics: prometheus.NewRegistry()}, Services{}, nil,
		func(s *Server) {
			s.get("/boom", public, boom)
			s.get("/api/v1/boom", public, boom)
		})
	if err != nil {
		t.Fatal(err)
	}

	for _, path := range []string{"/boom", "/api/v1/boom"} {
		res, err := s.Fiber().Test(httptest.NewRequest("GET", path, nil), -1)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(res.Body)
		if res.StatusCode != 500 || strings.Contains(string(b), "hunter2") || strings.Contains(string(b), "goroutine") ||
			!strings.Contains(string(b), "Something went wrong on our side") || !strings.Contains(string(b), res.Header.Get("X-Request-Id")) {
			t.Errorf("%s: %d %s", path, res.StatusCode, b)
		}
	}
	if !strings.Contains(logs.String(), "hunter2") || !strings.Contains(logs.String(), "stack=") {
		t.Errorf("the panic is not in the log: %s", logs.String())
	}
}
