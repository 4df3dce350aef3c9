package jobs_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coop-exchange/coop/domain"
	"github.com/coop-exchange/coop/domain/store"
	"github.com/coop-exchange/coop/domain/store/storetest"
	"github.com/coop-exchange/coop/internal/testenv"
	"github.com/coop-exchange/coop/jobs"
	"github.com/coop-exchange/coop/webhook"
)

// The service every test's webhooks go to, and the secret it was given.
const (
	testServiceID = 7
	testSecret    = "whsec-the-service-was-given-this"
)

// fakeSecrets stands in for the services directory.
type fakeSecrets map[int64]string

func (f fakeSecrets) WebhookSecret(_ context.Context, serviceID int64) (string, error) {
	if s, ok := f[serviceID]; ok {
		return s, nil
	}
	return "", fmt.Errorf("no secret for service %d", serviceID)
}

// fault is how the receiver misbehaves on one request.
type fault int

const (
	answer500  fault = iota + 1 // fails without taking the event
	answerLate                  // takes the event, then does not answer until the sender hangs up
	hangUp                      // takes the event, then closes the connection halfway through its answer
)

// hookRequest is one request as the receiver saw it.
type hookRequest struct {
	Header   http.Header
	Body     []byte
	Key      string
	SignedAt int64 // the t= of its signature
	Verified bool
}

// hookReceiver is a formal service's webhook endpoint, as a careful service would write it: it
// checks every signature with webhook.VerifySignature and takes each event once, by its
// Idempotency-Key, answering 200 to a repeat. It can be told to misbehave on given requests.
type hookReceiver struct {
	srv    *httptest.Server
	secret string
	now    func() time.Time // the receiver's clock, for the signature's age
	delay  time.Duration    // how long it takes over each answer

	mu        sync.Mutex
	faults    map[int]fault     // by request number, from 1
	requests  []hookRequest     // every request, in order of arrival
	taken     map[string][]byte // the events taken, by key, each once
	inFlight  map[string]int
	overlaps  int // times a key arrived while a request with the same key was still being answered
	badSigned int
}

func newHookReceiver(t *testing.T, now func() time.Time) *hookReceiver {
	t.Helper()
	h := &hookReceiver{secret: testSecret, now: now, faults: map[int]fault{}, taken: map[string][]byte{}, inFlight: map[string]int{}}
	h.srv = httptest.NewServer(http.HandlerFunc(h.serve)) // on 127.0.0.1, so http is allowed
	t.Cleanup(h.srv.Close)
	return h
}

func (h *hookReceiver) url() string { return h.srv.URL + "/hooks/coop" }

func (h *hookReceiver) failOn(n int, f fault) { h.mu.Lock(); defer h.mu.Unlock(); h.faults[n] = f }

// slow makes the receiver take delay over each answer, and check signatures by the clock now.
func (h *hookReceiver) slow(delay time.Duration, now func() time.Time) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.delay, h.now = delay, now
}

// outcome returns the events taken by key, and how many requests were badly signed or overlapped
// another with the same key.
func (h *hookReceiver) outcome() (taken map[string][]byte, badSigned, overlaps int) {
	h.mu.Lock()
	defer h.mu.Unlock()
	taken = make(map[string][]byte, len(h.taken))
	for k, v := range h.taken {
		taken[k] = v
	}
	return taken, h.badSigned, h.overlaps
}

func (h *hookReceiver) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	key, sig := r.Header.Get(webhook.IdempotencyKeyHeader), r.Header.Get(webhook.SignatureHeader)
	signedAt, _ := strconv.ParseInt(strings.TrimPrefix(strings.SplitN(sig, ",", 2)[0], "t="), 10, 64)
	h.mu.Lock()
	ok := webhook.VerifySignature(h.secret, sig, body, h.now(), 5*time.Minute) == nil &&
		r.Method == http.MethodPost && r.Header.Get("Content-Type") == "application/json" && key != ""
	h.requests = append(h.requests, hookRequest{Header: r.Header.Clone(), Body: body, Key: key, SignedAt: signedAt, Verified: ok})
	if !ok {
		h.badSigned++
		h.mu.Unlock()
		http.Error(w, "bad signature", http.StatusUnauthorized)
		return
	}
	f, delay := h.faults[len(h.requests)], h.delay
	h.inFlight[key]++
	if h.inFlight[key] > 1 {
		h.overlaps++
	}
	if _, seen := h.taken[key]; !seen && f != answer500 {
		h.taken[key] = body
	}
	h.mu.Unlock()
	defer func() { h.mu.Lock(); h.inFlight[key]--; h.mu.Unlock() }()

	switch f {
	case answer500:
		http.Error(w, "something went wrong", http.StatusInternalServerError)
		return
	case answerLate:
		wait(r, time.Minute)
		return
	case hangUp:
		conn, buf, err := w.(http.Hijacker).Hijack()
		if err != nil {
			panic(err)
		}
		_, _ = buf.WriteString("HTTP/1.1 200 OK\r\nContent-Type: applic")
		_ = buf.Flush()
		_ = conn.Close()
		return
	}
	wait(r, delay)
	w.WriteHeader(http.StatusAccepted)
}

// wait sleeps for d, or until the sender hangs up.
func wait(r *http.Request, d time.Duration) {
	select {
	case <-time.After(d):
	case <-r.Context().Done():
	}
}

func (h *hookReceiver) seen() []hookRequest {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]hookRequest(nil), h.requests...)
}

// perKey counts the requests that arrived with each key.
func (h *hookReceiver) perKey() map[string]int {
	out := map[string]int{}
	for _, r := range h.seen() {
		out[r.Key]++
	}
	return out
}

// hooks is the outbox on one store, a service's receiver, and a clock the test moves.
type hooks struct {
	t    *testing.T
	st   *store.Store
	recv *hookReceiver
	mu   sync.Mutex
	now  time.Time
}

func newHooks(t *testing.T, st *store.Store) *hooks {
	h := &hooks{t: t, st: st, now: time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)}
	h.recv = newHookReceiver(t, h.clock)
	return h
}

func (h *hooks) clock() time.Time { h.mu.Lock(); defer h.mu.Unlock(); return h.now }

func (h *hooks) setNow(t time.Time) { h.mu.Lock(); defer h.mu.Unlock(); h.now = t }

// deliverer sends webhooks signed with the test's clock, giving each attempt timeout.
func (h *hooks) deliverer(st *store.Store, timeout time.Duration) *jobs.Deliverer {
	sender := jobs.NewWebhookSender(fakeSecrets{testServiceID: testSecret}, jobs.WebhookOptions{Timeout: timeout, Now: h.clock, UserAgent: "Coop-Webhooks/1 (test)"})
	return jobs.NewDeliverer(st, map[domain.Channel]jobs.Sender{domain.ChannelWebhook: sender}, h.clock, half, testenv.Logger())
}

// enqueue writes a webhook about an escalation, to the address given.
func (h *hooks) enqueue(to string, escalationID int64) {
	h.t.Helper()
	ev := domain.WebhookEvent{ServiceID: testServiceID, Event: domain.WebhookEscalationRequested, EscalationID: escalationID,
		Status: "requested", URL: "https://coop.example.org/api/v1/escalations/" + itoa(escalationID)}
	if err := h.st.EnqueueWebhook(context.Background(), h.clock(), to, ev); err != nil {
		h.t.Fatal(err)
	}
}

func (h *hooks) messages() []domain.OutboxMessage {
	h.t.Helper()
	msgs, err := h.st.ListOutbox(context.Background(), "", 1000)
	if err != nil {
		h.t.Fatal(err)
	}
	return msgs
}

func (h *hooks) deliver(d *jobs.Deliverer) jobs.DeliveryReport {
	h.t.Helper()
	rep, err := d.Deliver(context.Background())
	if err != nil {
		h.t.Fatal(err)
	}
	return rep
}

// TestAWebhookIsSignedAsTheStandardSays checks one request as the service receives it against an
// independent computation of the signature, over the body exactly as stored.
func TestAWebhookIsSignedAsTheStandardSays(t *testing.T) {
	h := newHooks(t, storetest.Open(t, store.SQLite))
	h.enqueue(h.recv.url(), 42)
	h.setNow(h.clock().Add(3 * time.Second)) // the signature's time is the attempt's, not the event's
	if rep := h.deliver(h.deliverer(h.st, time.Second)); rep.Delivered != 1 {
		t.Fatalf("%+v, want the webhook delivered", rep)
	}
	m := h.messages()[0]
	got := h.recv.seen()
	if len(got) != 1 {
		t.Fatalf("the service got %d requests", len(got))
	}
	r := got[0]
	mac := hmac.New(sha256.New, []byte(testSecret))
	mac.Write([]byte(strconv.FormatInt(h.clock().Unix(), 10) + "." + string(r.Body)))
	want := map[string]string{
		"Content-Type":    "application/json",
		"Idempotency-Key": m.IdempotencyKey,
		"Coop-Signature":  "t=" + strconv.FormatInt(h.clock().Unix(), 10) + ",v1=" + hex.EncodeToString(mac.Sum(nil)),
		"User-Agent":      "Coop-Webhooks/1 (test)",
	}
	for k, v := range want {
		if r.Header.Get(k) != v {
			t.Errorf("%s: %q, want %q", k, r.Header.Get(k), v)
		}
	}
	if string(r.Body) != string(m.Payload) || !r.Verified {
		t.Errorf("body %s (verified %v), want the stored %s", r.Body, r.Verified, m.Payload)
	}
	var dump strings.Builder
	fmt.Fprintf(&dump, "POST /hooks/coop HTTP/1.1\n")
	for _, k := range []string{"Content-Type", "User-Agent", "Idempotency-Key", "Coop-Signature", "Content-Length"} {
		fmt.Fprintf(&dump, "%s: %s\n", k, r.Header.Get(k))
	}
	fmt.Fprintf(&dump, "\n%s", r.Body)
	t.Logf("the request as the service saw it:\n%s", dump.String())
}

// TestAServiceThatFailsIsRetriedUntilItTakesTheWebhook checks that a service that answers 500
// three times is offered the same webhook again after 30 seconds, a minute and two minutes, each
// time freshly signed and under the same key, and takes it once.
func TestAServiceThatFailsIsRetriedUntilItTakesTheWebhook(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, st *store.Store) {
		h := newHooks(t, st)
		d := h.deliverer(st, time.Second)
		for n := range 3 {
			h.recv.failOn(n+1, answer500)
		}
		h.enqueue(h.recv.url(), 42)
		t0 := h.clock()
		steps := []struct {
			at   time.Duration
			want jobs.DeliveryReport
		}{
			{0, jobs.DeliveryReport{Retried: 1}},
			{29 * time.Second, jobs.DeliveryReport{}},
			{30 * time.Second, jobs.DeliveryReport{Retried: 1}},
			{90 * time.Second, jobs.DeliveryReport{Retried: 1}},
			{210 * time.Second, jobs.DeliveryReport{Delivered: 1}},
			{time.Hour, jobs.DeliveryReport{}},
		}
		for i, s := range steps {
			h.setNow(t0.Add(s.at))
			if got := h.deliver(d); got != s.want {
				t.Errorf("at +%v: %+v, want %+v", s.at, got, s.want)
			}
			if i == 0 {
				if m := h.messages()[0]; m.LastError != "the service answered 500: something went wrong" {
					t.Errorf("last error %q", m.LastError)
				}
			}
		}
		m := h.messages()[0]
		if m.Status != domain.OutboxDelivered || m.Attempts != 4 || m.LastError != "" {
			t.Errorf("the message: %+v", m)
		}
		got := h.recv.seen()
		var signedAt []int64
		for _, r := range got {
			signedAt = append(signedAt, r.SignedAt-t0.Unix())
			if r.Key != m.IdempotencyKey || !r.Verified {
				t.Errorf("a request had key %q (verified %v), want %q", r.Key, r.Verified, m.IdempotencyKey)
			}
		}
		if fmt.Sprint(signedAt) != "[0 30 90 210]" {
			t.Errorf("the attempts were signed at +%v seconds, want each at its own time", signedAt)
		}
		if taken, _, _ := h.recv.outcome(); len(taken) != 1 || string(taken[m.IdempotencyKey]) != string(m.Payload) {
			t.Errorf("the service took %d events, want this one once", len(taken))
		}
	})
}

// TestAServiceThatIsSlowOrHangsUpIsTriedAgain checks that no answer within the attempt's time,
// and a connection closed halfway through the answer, are both tried again; the service had taken
// the event the first time, so the second is a repeat it recognises by its key.
func TestAServiceThatIsSlowOrHangsUpIsTriedAgain(t *testing.T) {
	for _, c := range []struct {
		fault   fault
		lastErr string
	}{
		{answerLate, "no answer within 200 ms"},
		{hangUp, "the service closed the connection before answering in full"},
	} {
		t.Run(c.lastErr, func(t *testing.T) {
			storetest.ForEachDialect(t, func(t *testing.T, st *store.Store) {
				h := newHooks(t, st)
				d := h.deliverer(st, 200*time.Millisecond)
				h.recv.failOn(1, c.fault)
				h.enqueue(h.recv.url(), 42)
				started := time.Now()
				if rep := h.deliver(d); rep.Retried != 1 {
					t.Fatalf("%+v, want the webhook to be retried", rep)
				}
				if took := time.Since(started); took > 5*time.Second {
					t.Errorf("the attempt took %v", took)
				}
				m := h.messages()[0]
				if m.LastError != c.lastErr {
					t.Errorf("last error %q, want %q", m.LastError, c.lastErr)
				}
				h.setNow(m.NextAttemptAt)
				if rep := h.deliver(d); rep.Delivered != 1 {
					t.Fatalf("%+v, want the webhook delivered", rep)
				}
				if keys := h.recv.perKey(); len(keys) != 1 || keys[m.IdempotencyKey] != 2 {
					t.Errorf("requests by key: %v, want this one twice", keys)
				}
				if taken, bad, _ := h.recv.outcome(); len(taken) != 1 || bad != 0 {
					t.Errorf("the service took %d events (%d badly signed requests), want one", len(taken), bad)
				}
			})
		})
	}
}

// TestAnAddressThatCannotBeFoundIsRetriedForADay checks that a service whose host name does not
// resolve is tried again with a clear error, then given up on after a day, with the coordinators
// told which service and escalation.
func TestAnAddressThatCannotBeFoundIsRetriedForADay(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, st *store.Store) {
		h := newHooks(t, st)
		d := h.deliverer(st, 5*time.Second)
		h.enqueue("https://nonexistent.invalid/hooks/coop", 42)
		t0 := h.clock()
		if rep := h.deliver(d); rep.Retried != 1 {
			t.Fatalf("%+v, want a retry", rep)
		}
		m := h.messages()[0]
		if !strings.HasPrefix(m.LastError, "the service's address could not be found (looking up nonexistent.invalid") {
			t.Errorf("last error %q", m.LastError)
		}
		h.setNow(m.NextAttemptAt)
		if rep := h.deliver(d); rep.Retried != 1 {
			t.Fatalf("%+v, want another retry", rep)
		}
		h.setNow(t0.Add(domain.DeliveryGiveUp + time.Minute))
		if rep := h.deliver(d); rep.Failed != 1 {
			t.Fatalf("%+v, want the webhook given up on", rep)
		}
		if m := h.messages()[0]; m.Status != domain.OutboxFailed || m.Attempts != 3 {
			t.Errorf("the message: %+v", m)
		}
		notices, err := st.Notices(context.Background(), 10)
		if err != nil || len(notices) != 1 {
			t.Fatalf("notices %+v (%v), want one", notices, err)
		}
		for _, want := range []string{"formal service 7", "https://nonexistent.invalid/hooks/coop", "escalation 42", "could not be found"} {
			if !strings.Contains(notices[0].Message, want) {
				t.Errorf("the notice %q does not say %q", notices[0].Message, want)
			}
		}
	})
}

// TestWebhooksGoOnlyWhereTheyShould checks that an http address off this machine fails at once
// without being tried, and that a redirect is followed only to the same host.
func TestWebhooksGoOnlyWhereTheyShould(t *testing.T) {
	st := storetest.Open(t, store.SQLite)
	h := newHooks(t, st)
	d := h.deliverer(st, time.Second)

	h.enqueue("http://service.example/hooks/coop", 1)
	if rep := h.deliver(d); rep.Failed != 1 {
		t.Fatalf("%+v, want the http address refused at once", rep)
	}
	if m := h.messages()[0]; !strings.Contains(m.LastError, `"http://service.example/hooks/coop" is not an https address`) {
		t.Errorf("last error %q", m.LastError)
	}

	// A service that moved its endpoint on the same host is followed there, with the same body
	// and signature; one that points elsewhere (localhost and 127.0.0.1 are different hosts to
	// the sender) is not.
	elsewhere := newHookReceiver(t, h.clock)
	var (
		mu    sync.Mutex
		moved []bool // whether each request at the new address verified
	)
	service := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/old":
			http.Redirect(w, r, "/new", http.StatusPermanentRedirect)
		case "/new":
			body, _ := io.ReadAll(r.Body)
			mu.Lock()
			moved = append(moved, webhook.VerifySignature(testSecret, r.Header.Get(webhook.SignatureHeader), body, h.clock(), 0) == nil)
			mu.Unlock()
		default:
			http.Redirect(w, r, strings.Replace(elsewhere.url(), "127.0.0.1", "localhost", 1), http.StatusTemporaryRedirect)
		}
	}))
	t.Cleanup(service.Close)
	h.enqueue(service.URL+"/old", 2)
	h.enqueue(service.URL+"/other-host", 3)
	if rep := h.deliver(d); rep.Delivered != 1 || rep.Retried != 1 {
		t.Errorf("%+v, want the same-host redirect followed and the other not", rep)
	}
	if n := len(elsewhere.seen()); n != 0 {
		t.Errorf("the other host got %d requests", n)
	}
	mu.Lock()
	if len(moved) != 1 || !moved[0] {
		t.Errorf("the new address saw %v, want one verified request", moved)
	}
	mu.Unlock()
	for _, m := range h.messages() {
		if m.Recipient == service.URL+"/other-host" && !strings.Contains(m.LastError, "the service answered 307, sending us to http://localhost:") {
			t.Errorf("last error %q", m.LastError)
		}
	}
}

// TestAnEndlessAnswerIsCutShort checks that a service whose error page never ends costs an
// attempt a bounded read, and its last error a short quote.
func TestAnEndlessAnswerIsCutShort(t *testing.T) {
	st := storetest.Open(t, store.SQLite)
	h := newHooks(t, st)
	endless := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusServiceUnavailable)
		line := []byte(strings.Repeat("busy ", 200) + "\n")
		for r.Context().Err() == nil {
			if _, err := w.Write(line); err != nil {
				return
			}
		}
	}))
	t.Cleanup(endless.Close)
	h.enqueue(endless.URL, 1)
	if rep := h.deliver(h.deliverer(st, 5*time.Second)); rep.Retried != 1 {
		t.Fatalf("%+v, want a retry", rep)
	}
	if m := h.messages()[0]; !strings.HasPrefix(m.LastError, "the service answered 503: busy busy") || len(m.LastError) > 300 {
		t.Errorf("last error %q", m.LastError)
	}
}
