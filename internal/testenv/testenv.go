// Package testenv lets test suites that need something outside the process (PostgreSQL, a browser)
// say so loudly: they skip with a message naming the suite and why, or, when COOP_TEST_REQUIRE
// names the suite (as CI sets it), they fail instead.
package testenv

import (
	"io"
	"log/slog"
	"os"
	"path/filepath"
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

// Standards returns the folder of the interoperability reference data (HSDS, ORUK and FHIR
// schemas, examples and a real feed sample), which lives beside the repository in
// shared/data/standards and is not copied into it. It is COOP_SHARED_DATA (the shared data
// folder, or its standards folder itself), else the first shared/data/standards found beside the
// working folder or one of its parents. When it cannot be found, the test fails if
// COOP_TEST_REQUIRE is set at all (as CI sets it), and otherwise skips loudly.
func Standards(t testing.TB) string {
	t.Helper()
	isStandards := func(dir string) bool {
		st, err := os.Stat(filepath.Join(dir, "hsds-3.1"))
		return err == nil && st.IsDir()
	}
	if dir := os.Getenv("COOP_SHARED_DATA"); dir != "" {
		for _, d := range []string{dir, filepath.Join(dir, "standards"), filepath.Join(dir, "data", "standards")} {
			if isStandards(d) {
				return d
			}
		}
		missingStandards(t, "COOP_SHARED_DATA="+dir+" holds no standards/hsds-3.1 folder")
	}
	wd, err := os.Getwd()
	if err != nil {
		missingStandards(t, err.Error())
	}
	for dir := wd; ; dir = filepath.Dir(dir) {
		if d := filepath.Join(dir, "shared", "data", "standards"); isStandards(d) {
			return d
		}
		if parent := filepath.Dir(dir); parent == dir {
			break
		}
	}
	missingStandards(t, "no shared/data/standards beside "+wd+" or its parents; set COOP_SHARED_DATA to the shared data folder")
	return ""
}

func missingStandards(t testing.TB, why string) {
	t.Helper()
	if req := os.Getenv("COOP_TEST_REQUIRE"); req != "" {
		t.Fatalf("the standards reference data is needed (COOP_TEST_REQUIRE=%s) but cannot be found: %s", req, why)
	}
	t.Skipf("SKIPPED standards suite: %s", why)
}
