package main

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/coop-exchange/coop/domain/store/storetest"
)

// buildCoop builds the coop binary for tests that run it as a process.
func buildCoop(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "coop")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// syncBuffer collects a process's output while the test reads it.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// startServe runs `coop serve` in dir with env and waits until it is ready.
func startServe(t *testing.T, bin, dir string, env []string) (*exec.Cmd, string, *syncBuffer) {
	t.Helper()
	addr := freeAddr(t)
	cmd := exec.Command(bin, "serve", "--addr", addr)
	cmd.Dir = dir
	cmd.Env = append([]string{"PATH=" + os.Getenv("PATH"), "HOME=" + dir}, env...)
	logs := &syncBuffer{}
	cmd.Stderr = logs
	cmd.Stdout = logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _, _ = cmd.Process.Wait() })
	base := "http://" + addr
	deadline := time.Now().Add(30 * time.Second)
	for {
		res, err := http.Get(base + "/readyz")
		if err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return cmd, base, logs
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("coop serve did not become ready: %v\n%s", err, logs.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

var csrfValue = regexp.MustCompile(`name="_csrf" value="([^"]+)"`)

// TestServeFinishesRequestsOnSIGTERM runs `coop serve` with no configuration (SQLite in ./coop.db)
// and with a Postgres URL; starts an application whose body is still arriving; sends SIGTERM; and
// checks that the application is still received, answered and saved, and the process exits 0.
func TestServeFinishesRequestsOnSIGTERM(t *testing.T) {
	bin := buildCoop(t)
	for _, dialect := range []string{"sqlite", "postgres"} {
		t.Run(dialect, func(t *testing.T) {
			dir := t.TempDir()
			var env []string
			if dialect == "postgres" {
				env = append(env, "COOP_DATABASE_URL="+storetest.NewPostgresDatabase(t))
			}
			cmd, base, logs := startServe(t, bin, dir, env)
			if dialect == "sqlite" {
				if _, err := os.Stat(filepath.Join(dir, "coop.db")); err != nil {
					t.Errorf("with no configuration the data is not in ./coop.db: %v", err)
				}
			}
			if !strings.Contains(logs.String(), "applied migration") {
				t.Errorf("serve did not log the migrations it applied:\n%s", logs)
			}

			jar, _ := cookiejar.New(nil)
			browser := &http.Client{Jar: jar}
			res, err := browser.Get(base + "/join")
			if err != nil {
				t.Fatal(err)
			}
			page, _ := io.ReadAll(res.Body)
			res.Body.Close()
			if !strings.Contains(string(page), "The co-op has not set up the areas") {
				t.Errorf("an empty co-op's join page:\n%.500s", page)
			}
			// A visitor's browser opens the sign-in page (cookie and form token).
			res, err = browser.Get(base + "/signin")
			if err != nil {
				t.Fatal(err)
			}
			page, _ = io.ReadAll(res.Body)
			res.Body.Close()
			m := csrfValue.FindSubmatch(page)
			if m == nil {
				t.Fatal("no form token on the sign-in page")
			}
			u, _ := url.Parse(base)
			var cookies []string
			for _, c := range jar.Cookies(u) {
				cookies = append(cookies, c.Name+"="+c.Value)
			}
			// Nobody has this account, so the answer is the form again with the email kept: proof
			// that the request was read to its end and answered by the app after SIGTERM.
			form := url.Values{"_csrf": {string(m[1])}, "email": {"late.larry@example.org"}, "password": {"a long passphrase"}}.Encode()
			conn, err := net.Dial("tcp", u.Host)
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			half := len(form) / 2
			fmt.Fprintf(conn, "POST /signin HTTP/1.1\r\nHost: %s\r\nCookie: %s\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: %d\r\n\r\n%s",
				u.Host, strings.Join(cookies, "; "), len(form), form[:half])
			time.Sleep(200 * time.Millisecond)

			if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
				t.Fatal(err)
			}
			time.Sleep(500 * time.Millisecond)
			if _, err := http.Get(base + "/healthz"); err == nil {
				t.Error("new requests are still accepted after SIGTERM")
			}
			if _, err := io.WriteString(conn, form[half:]); err != nil {
				t.Fatalf("finishing the upload after SIGTERM: %v", err)
			}
			_ = conn.SetReadDeadline(time.Now().Add(10 * time.Second))
			res, err = http.ReadResponse(bufio.NewReader(conn), nil)
			if err != nil {
				t.Fatalf("the request in flight at SIGTERM got no answer: %v\n%s", err, logs)
			}
			answer, _ := io.ReadAll(res.Body)
			res.Body.Close()
			if res.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(string(answer), "The email address or password is not right") ||
				!strings.Contains(string(answer), `value="late.larry@example.org"`) {
				t.Errorf("the request in flight at SIGTERM: %d\n%.400s", res.StatusCode, answer)
			}

			done := make(chan error, 1)
			go func() { done <- cmd.Wait() }()
			select {
			case err := <-done:
				if err != nil {
					t.Errorf("coop serve exited with %v after SIGTERM\n%s", err, logs)
				}
			case <-time.After(20 * time.Second):
				t.Fatalf("coop serve did not exit after SIGTERM\n%s", logs)
			}
			for _, want := range []string{"shutting down", "stopped"} {
				if !strings.Contains(logs.String(), want) {
					t.Errorf("the log does not say %q:\n%s", want, logs)
				}
			}
		})
	}
}
