// Package testenv lets test suites that need something outside the process (PostgreSQL, a browser)
// say so loudly: they skip with a message naming the suite and why, or, when COOP_TEST_REQUIRE
// names the suite (as CI sets it), they fail instead.
package testenv

import (
	"io"
	"log/slog"
	"os"
	"strings"
	"testing"
)

// Required reports whether COOP_TEST_REQUIRE (a comma-separated list such as "postgres,browser")
// names suite.
func Required(suite string) bool {
	for _, s := range strings.Split(os.Getenv("COOP_TEST_REQUIRE"), ",") {
		if strings.TrimSpace(s) == suite {
			return true
		}
	}
	return false
}

// Unavailable stops the test because suite cannot run here: it fails when the suite is required,
// and otherwise skips with a message that make test lists by name.
func Unavailable(t testing.TB, suite, why string) {
	t.Helper()
	if Required(suite) {
		t.Fatalf("the %s suite is required (COOP_TEST_REQUIRE=%s) but cannot run: %s", suite, os.Getenv("COOP_TEST_REQUIRE"), why)
	}
	t.Skipf("SKIPPED %s suite: %s", suite, why)
}

// Logger returns a logger for code under test: silent, unless COOP_TEST_LOG is set, when it
// writes to standard error.
func Logger() *slog.Logger {
	var w io.Writer = io.Discard
	if os.Getenv("COOP_TEST_LOG") != "" {
		w = os.Stderr
	}
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelDebug}))
}
