package main

import (
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestDemoShowsARealPass runs `coop demo` as someone trying the platform would, signs in as
// its coordinator, and reads the matcher's pages: the demo's first pass has proposed helpers,
// with their reasons, and says why the other requests are not matched.
func TestDemoShowsARealPass(t *testing.T) {
	bin := buildCoop(t)
	dir := t.TempDir()
	addr := freeAddr(t)
	cmd := exec.Command(bin, "demo", "--addr", addr)
	cmd.Dir = dir
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + dir, "TMPDIR=" + dir}
	logs := &syncBuffer{}
	cmd.Stdout, cmd.Stderr = logs, logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _, _ = cmd.Process.Wait() })
	base := "http://" + addr
	for deadline := time.Now().Add(30 * time.Second); !strings.Contains(logs.String(), "The demo co-op is open at"); {
		if time.Now().After(deadline) {
			t.Fatalf("the demo did not open:\n%s", logs)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if !strings.Contains(logs.String(), "coordinator@demo.coop") {
		t.Fatalf("the demo did not print the coordinator's sign-in:\n%s", logs)
	}

	jar, _ := cookiejar.New(nil)
	browser := &http.Client{Jar: jar}
	get := func(path string) string {
		t.Helper()
		res, err := browser.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		if res.StatusCode != http.StatusOK {
			t.Fatalf("GET %s: %d\n%s", path, res.StatusCode, b)
		}
		return string(b)
	}
	m := csrfValue.FindStringSubmatch(get("/signin"))
	if m == nil {
		t.Fatal("no form token on the sign-in page")
	}
	res, err := browser.PostForm(base+"/signin", url.Values{"_csrf": {m[1]}, "email": {"coordinator@demo.coop"}, "password": {demoCoordinatorPassword}})
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()

	page := get("/coordinate/matching")
	for _, want := range []string{"The latest pass", "Proposals waiting for a coordinator", "Helper: <a href=\"/coordinate/members/",
		"Aisha Rahman", "DBS checked until", "free Fridays 13:00–18:00", "Daniel Osei", "free Mondays 09:00–13:00", "Recent passes"} {
		if !strings.Contains(page, want) {
			t.Errorf("the matching page lacks %q:\n%s", want, page)
		}
	}
	why := get("/coordinate/unmatched")
	for _, want := range []string{"no helper for sitting with a child or an older person within range of Hillcrest",
		"one helper in range, not free on Tuesday 10:00–11:00"} {
		if !strings.Contains(why, want) {
			t.Errorf("the unmatched page lacks %q:\n%s", want, why)
		}
	}
	if home := get("/coordinate"); !strings.Contains(home, "The matcher proposed") {
		t.Errorf("the coordinators' page has no notice of the pass:\n%s", home)
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
}
