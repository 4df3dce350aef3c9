package main

import (
	"bytes"
	"database/sql"
	"encoding/json"
	"math/rand/v2"
	"net/http"
	"os/exec"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/coop-exchange/coop/domain/store/storetest"
)

// TestTwoServersShareTheMatcher runs two `coop serve` processes on one PostgreSQL database,
// each with the matcher every second, for about ten seconds while requests keep arriving
// through both. Only one pass runs at a time (the other process skips its tick), no request
// ever has two live matches, and every proposal is written once, by the pass that made it.
func TestTwoServersShareTheMatcher(t *testing.T) {
	dsn := storetest.NewPostgresDatabase(t) // skips loudly, or fails when Postgres is required
	bin := buildCoop(t)
	env := map[string]string{"COOP_DATABASE_URL": dsn}
	if code, _, stderr := runCLI(t, env, "", "migrate"); code != 0 {
		t.Fatal(stderr)
	}
	// A community big enough that a pass takes a while, so that the two processes' ticks meet.
	code, out, stderr := runCLI(t, env, "", "seed", "--members", "3000", "--offers", "4500", "--requests", "6000", "--seed", "11")
	if code != 0 {
		t.Fatalf("seed: %s%s", out, stderr)
	}
	email := regexp.MustCompile(`such as (\S+@\S+),`).FindStringSubmatch(out)
	if email == nil {
		t.Fatalf("no member to sign in as in %q", out)
	}
	code, token, stderr := runCLI(t, env, "", "token", "create", "--email", email[1])
	if code != 0 {
		t.Fatal(stderr)
	}
	token = strings.TrimSpace(token[strings.LastIndex(strings.TrimSpace(token), "\n")+1:])

	serveEnv := []string{"COOP_DATABASE_URL=" + dsn, "COOP_MATCH_SCHEDULE=@every 1s", "COOP_LOG_LEVEL=debug"}
	var servers []*serveProcess
	for range 2 {
		cmd, base, logs := startServe(t, bin, t.TempDir(), serveEnv)
		servers = append(servers, &serveProcess{cmd: cmd, base: base, logs: logs})
	}

	// Requests keep arriving, through one process and then the other.
	rng := rand.New(rand.NewPCG(11, 11))
	categories := []string{"transport", "companionship", "shopping-errands", "befriending-calls", "sitting"}
	posted := 0
	for end := time.Now().Add(10 * time.Second); time.Now().Before(end); posted++ {
		day := time.Now().AddDate(0, 0, 1+rng.IntN(14))
		start := time.Date(day.Year(), day.Month(), day.Day(), 9+rng.IntN(8), 15*rng.IntN(4), 0, 0, time.UTC)
		body, _ := json.Marshal(map[string]any{"category": categories[rng.IntN(len(categories))], "description": "A lift to the surgery and back",
			"start": start, "end": start.Add(time.Hour), "urgency": []string{"routine", "soon", "urgent"}[rng.IntN(3)]})
		req, _ := http.NewRequest(http.MethodPost, servers[posted%2].base+"/api/v1/requests", bytes.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("Content-Type", "application/json")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusCreated {
			t.Fatalf("posting a request: status %d", res.StatusCode)
		}
		time.Sleep(50 * time.Millisecond)
	}
	var wg sync.WaitGroup
	for _, s := range servers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s.stop(t)
		}()
	}
	wg.Wait()

	db, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	count := func(query string) int {
		t.Helper()
		var n int
		if err := db.QueryRow(query).Scan(&n); err != nil {
			t.Fatalf("%s: %v", query, err)
		}
		return n
	}
	// The passes ran one after another: each started after the one before had finished.
	rows, err := db.Query(`SELECT id, started_at, finished_at, proposed FROM match_passes ORDER BY started_at, id`)
	if err != nil {
		t.Fatal(err)
	}
	var (
		passes   int
		lastEnd  time.Time
		proposed int
	)
	for rows.Next() {
		var (
			id         int64
			start, end time.Time
			n          int
		)
		if err := rows.Scan(&id, &start, &end, &n); err != nil {
			t.Fatal(err)
		}
		if start.Before(lastEnd) {
			t.Errorf("pass %d started at %s, before the pass before it finished at %s", id, start.Format(time.StampMicro), lastEnd.Format(time.StampMicro))
		}
		lastEnd = end
		passes++
		proposed += n
	}
	rows.Close()
	if passes < 5 {
		t.Fatalf("only %d passes ran in ten seconds", passes)
	}
	// Every proposal was written once, by the pass that counted it.
	if written := count(`SELECT COUNT(*) FROM matches WHERE source = 'auto'`); written != proposed || written == 0 {
		t.Errorf("the passes say they proposed %d matches; %d are written", proposed, written)
	}
	if n := count(`SELECT COUNT(*) FROM (SELECT request_id, helper_id FROM matches GROUP BY request_id, helper_id HAVING COUNT(*) > 1) d`); n != 0 {
		t.Errorf("%d pairs were proposed more than once", n)
	}
	if n := count(`SELECT COUNT(*) FROM (SELECT request_id FROM matches WHERE status IN ('proposed', 'approved', 'accepted')
		GROUP BY request_id HAVING COUNT(*) > 1) d`); n != 0 {
		t.Errorf("%d requests have two live matches", n)
	}
	if n := count(`SELECT COUNT(*) FROM (SELECT helper_id FROM matches WHERE status = 'proposed' GROUP BY helper_id HAVING COUNT(*) > 1) d`); n != 0 {
		t.Errorf("%d helpers have two proposals to answer", n)
	}
	// The requests that arrived were seen by the passes after them.
	seen := count(`SELECT COUNT(*) FROM requests r WHERE r.description = 'A lift to the surgery and back' AND r.created_at > now() - interval '1 hour'
		AND (EXISTS (SELECT 1 FROM matches x WHERE x.request_id = r.id) OR EXISTS (SELECT 1 FROM unmatched_requests u WHERE u.request_id = r.id))`)
	if seen < posted/2 {
		t.Errorf("only %d of the %d requests posted were looked at by a pass", seen, posted)
	}
	// Both processes tried; at least one tick found the other process's pass running and said so.
	skipped := 0
	for i, s := range servers {
		logs := s.logs.String()
		skipped += strings.Count(logs, "match pass skipped: another process is running one")
		if !strings.Contains(logs, "stopped") {
			t.Errorf("server %d did not stop cleanly:\n%s", i, logs)
		}
	}
	if skipped == 0 {
		t.Errorf("no tick was skipped, so the lock was never tested; logs:\n%s", servers[0].logs.String())
	}
	t.Logf("%d requests posted; %d passes proposed %d matches; %d ticks skipped", posted, passes, proposed, skipped)
}

type serveProcess struct {
	cmd  *exec.Cmd
	base string
	logs *syncBuffer
}

// stop sends SIGTERM and waits for the process to finish what it was doing and exit.
func (s *serveProcess) stop(t *testing.T) {
	if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Errorf("SIGTERM to coop serve at %s: %v", s.base, err)
		return
	}
	done := make(chan error, 1)
	go func() { done <- s.cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("coop serve at %s exited with %v\n%s", s.base, err, s.logs.String())
		}
	case <-time.After(30 * time.Second):
		t.Errorf("coop serve at %s did not stop within 30 s of SIGTERM", s.base)
	}
}
