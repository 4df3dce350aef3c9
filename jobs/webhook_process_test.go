package jobs_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/coop-exchange/coop/domain"
	"github.com/coop-exchange/coop/domain/store"
	"github.com/coop-exchange/coop/domain/store/storetest"
	"github.com/coop-exchange/coop/internal/testenv"
	"github.com/coop-exchange/coop/jobs"
)

// A deliverer process is this test binary run again with these set: it delivers the outbox of the
// PostgreSQL database named until nothing is pending, then exits.
const (
	processDatabase = "COOP_TEST_DELIVERER_DATABASE" // the database's URL; set, the binary is a deliverer, not tests
	processName     = "COOP_TEST_DELIVERER_NAME"     // sent as its User-Agent, so the receiver knows who sent what
	processAhead    = "COOP_TEST_DELIVERER_AHEAD"    // how far ahead of the real time its deliverer's clock runs
	processStart    = "COOP_TEST_DELIVERER_START"    // when to begin, in Unix nanoseconds, so that several begin together
)

func TestMain(m *testing.M) {
	if dsn := os.Getenv(processDatabase); dsn != "" {
		os.Exit(runDelivererProcess(dsn))
	}
	os.Exit(m.Run())
}

// runDelivererProcess is the whole of a deliverer process.
func runDelivererProcess(dsn string) int {
	ctx := context.Background()
	fail := func(err error) int { fmt.Fprintln(os.Stderr, "deliverer process:", err); return 1 }
	st, err := store.Open(ctx, store.Location{Dialect: store.Postgres, DSN: dsn}, testenv.Logger())
	if err != nil {
		return fail(err)
	}
	defer st.Close()
	ahead, err := time.ParseDuration(os.Getenv(processAhead))
	if err != nil {
		return fail(err)
	}
	if start, err := strconv.ParseInt(os.Getenv(processStart), 10, 64); err == nil {
		time.Sleep(time.Until(time.Unix(0, start)))
	}
	// The signatures carry the real time, which the receiver checks; only the deliverer's clock
	// runs ahead, so that a restarted process sees the dead one's leases as run out.
	sender := jobs.NewWebhookSender(fakeSecrets{testServiceID: testSecret}, jobs.WebhookOptions{Timeout: 5 * time.Second, UserAgent: os.Getenv(processName)})
	d := jobs.NewDeliverer(st, map[domain.Channel]jobs.Sender{domain.ChannelWebhook: sender},
		func() time.Time { return time.Now().Add(ahead) }, nil, testenv.Logger())
	for end := time.Now().Add(time.Minute); time.Now().Before(end); {
		rep, err := d.Deliver(ctx)
		if err != nil {
			return fail(err)
		}
		pending, err := st.ListOutbox(ctx, domain.OutboxPending, 1)
		if err != nil {
			return fail(err)
		}
		if len(pending) == 0 {
			return 0
		}
		if rep == (jobs.DeliveryReport{}) {
			time.Sleep(20 * time.Millisecond) // another process holds what is left
		}
	}
	return fail(fmt.Errorf("messages still pending after a minute"))
}

// delivererProcess is a running deliverer process and what it wrote to standard error.
type delivererProcess struct {
	cmd    *exec.Cmd
	output *syncBuffer
	done   chan error
}

func startDeliverer(t *testing.T, dsn, name string, ahead time.Duration, start time.Time) *delivererProcess {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), processDatabase+"="+dsn, processName+"="+name, processAhead+"="+ahead.String(),
		processStart+"="+strconv.FormatInt(start.UnixNano(), 10))
	p := &delivererProcess{cmd: cmd, output: &syncBuffer{}, done: make(chan error, 1)}
	cmd.Stdout, cmd.Stderr = p.output, p.output
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.done <- cmd.Wait() }()
	t.Cleanup(func() { _ = cmd.Process.Kill(); <-p.done; p.done <- nil })
	return p
}

// wait waits for the process to finish by itself, which it must within a minute.
func (p *delivererProcess) wait(t *testing.T) {
	t.Helper()
	select {
	case err := <-p.done:
		p.done <- err
		if err != nil {
			t.Fatalf("the deliverer process failed: %v\n%s", err, p.output)
		}
	case <-time.After(time.Minute):
		t.Fatalf("the deliverer process did not finish\n%s", p.output)
	}
}

type syncBuffer struct {
	mu  sync.Mutex
	buf []byte
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.buf = append(b.buf, p...)
	return len(p), nil
}

func (b *syncBuffer) String() string { b.mu.Lock(); defer b.mu.Unlock(); return string(b.buf) }

// realHooks is the harness on a PostgreSQL database that other processes share, on the real clock.
func realHooks(t *testing.T, messages int) (*hooks, string) {
	t.Helper()
	dsn := storetest.NewPostgresDatabase(t) // skips loudly, or fails when Postgres is required
	st := storetest.OpenAt(t, store.Location{Dialect: store.Postgres, DSN: dsn})
	h := newHooks(t, st)
	h.setNow(time.Now())
	h.recv.slow(0, time.Now)
	for i := range messages {
		h.enqueue(h.recv.url(), int64(i+1))
	}
	return h, dsn
}

// checkEveryEventTakenOnce checks that every message is delivered, that the receiver took each
// key's event once and every request's signature verified, and returns how many requests came
// with each key.
func checkEveryEventTakenOnce(t *testing.T, h *hooks) map[string]int {
	t.Helper()
	msgs := h.messages()
	taken, badSigned, overlaps := h.recv.outcome()
	for _, m := range msgs {
		if m.Status != domain.OutboxDelivered {
			t.Errorf("message %d is %s (%s)", m.ID, m.Status, m.LastError)
		}
		if string(taken[m.IdempotencyKey]) != string(m.Payload) {
			t.Errorf("the receiver did not take message %d's event", m.ID)
		}
	}
	if len(taken) != len(msgs) {
		t.Errorf("the receiver took %d events, want %d", len(taken), len(msgs))
	}
	if badSigned != 0 {
		t.Errorf("%d requests were not signed correctly", badSigned)
	}
	if overlaps != 0 {
		t.Errorf("%d times a message was being delivered twice at once", overlaps)
	}
	return h.recv.perKey()
}

// TestAKilledDelivererLosesNoWebhook kills a deliverer process with SIGKILL in the middle of a
// batch, while the service is taking one of its webhooks, and starts another after the dead one's
// lease has run out. Every webhook arrives and is taken once; the one in flight at the kill is
// sent again under the same key, which is how the service knows it for a repeat.
func TestAKilledDelivererLosesNoWebhook(t *testing.T) {
	const messages, killAt = 30, 8
	h, dsn := realHooks(t, messages)
	h.recv.slow(20*time.Millisecond, time.Now)
	h.recv.failOn(killAt, answerLate) // takes the event, and is still answering when the process dies

	first := startDeliverer(t, dsn, "first", 0, time.Now())
	for deadline := time.Now().Add(30 * time.Second); len(h.recv.seen()) < killAt; time.Sleep(2 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the first process sent %d webhooks in 30 seconds\n%s", len(h.recv.seen()), first.output)
		}
	}
	if err := first.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	if err := <-first.done; err == nil || err.Error() != "signal: killed" {
		t.Fatalf("the first process ended with %v, want killed", err)
	}
	first.done <- nil
	inFlight := h.recv.seen()[killAt-1].Key
	var delivered, pending int
	for _, m := range h.messages() {
		switch {
		case m.Status == domain.OutboxDelivered:
			delivered++
		case m.IdempotencyKey == inFlight:
			pending++
		}
	}
	if delivered != killAt-1 || pending != 1 {
		t.Fatalf("after the kill, %d messages are delivered and the one in flight is pending %d times; want %d and 1", delivered, pending, killAt-1)
	}

	// The next process starts after the lease (a few minutes) has run out; its clock is an hour
	// ahead so the test need not wait, and far from the day after which messages are given up.
	second := startDeliverer(t, dsn, "second", time.Hour, time.Now())
	second.wait(t)

	requests := checkEveryEventTakenOnce(t, h)
	repeats := 0
	for key, n := range requests {
		if n > 1 {
			repeats += n - 1
			if key != inFlight || n != 2 {
				t.Errorf("key %s came %d times; only the one in flight at the kill should come twice", key, n)
			}
		}
	}
	if repeats != 1 {
		t.Errorf("%d repeated requests, want the one in flight at the kill", repeats)
	}
	bySender := map[string]int{}
	for _, r := range h.recv.seen() {
		bySender[r.Header.Get("User-Agent")]++
	}
	t.Logf("%d webhooks, %d requests: %d from the killed process, %d from its successor; %d repeated key (the one in flight), taken once by the receiver",
		messages, len(h.recv.seen()), bySender["first"], bySender["second"], repeats)
}

// TestTwoDeliverersSendEachWebhookOnce runs two deliverer processes on one database at the same
// moment: each webhook is sent once, never by both at once, and both did some of the work.
func TestTwoDeliverersSendEachWebhookOnce(t *testing.T) {
	const messages = 60
	h, dsn := realHooks(t, messages)
	h.recv.slow(15*time.Millisecond, time.Now)
	start := time.Now().Add(time.Second) // both processes are up by then
	one, two := startDeliverer(t, dsn, "one", 0, start), startDeliverer(t, dsn, "two", 0, start)
	one.wait(t)
	two.wait(t)

	for key, n := range checkEveryEventTakenOnce(t, h) {
		if n != 1 {
			t.Errorf("key %s came %d times", key, n)
		}
	}
	bySender := map[string]int{}
	for _, r := range h.recv.seen() {
		bySender[r.Header.Get("User-Agent")]++
	}
	if bySender["one"] == 0 || bySender["two"] == 0 {
		t.Errorf("sent by each process: %v; want both to have worked", bySender)
	}
	for _, m := range h.messages() {
		if m.Attempts != 1 {
			t.Errorf("message %d took %d attempts", m.ID, m.Attempts)
		}
	}
	t.Logf("%d webhooks sent by two processes at once: %v", messages, bySender)
}
