package jobs_test

import (
	"context"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coop-exchange/coop/domain"
	"github.com/coop-exchange/coop/domain/store"
	"github.com/coop-exchange/coop/domain/store/storetest"
	"github.com/coop-exchange/coop/email"
	"github.com/coop-exchange/coop/internal/mailtest"
	"github.com/coop-exchange/coop/internal/testenv"
	"github.com/coop-exchange/coop/jobs"
)

// post is the outbox on one store, a mail server in the test, and a clock the test moves.
type post struct {
	t    *testing.T
	st   *store.Store
	mail *mailtest.Server
	mu   sync.Mutex
	now  time.Time
}

func newPost(t *testing.T, st *store.Store) *post {
	return &post{t: t, st: st, mail: mailtest.Start(t), now: time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)}
}

func (p *post) clock() time.Time { p.mu.Lock(); defer p.mu.Unlock(); return p.now }

func (p *post) setNow(t time.Time) { p.mu.Lock(); defer p.mu.Unlock(); p.now = t }

// deliverer sends through the real SMTP sender to the test's mail server; random is its jitter.
func (p *post) deliverer(st *store.Store, random func() float64) *jobs.Deliverer {
	p.t.Helper()
	cfg, err := email.ParseSMTPURL(p.mail.URL("The Co-op <coop@example.org>"))
	if err != nil {
		p.t.Fatal(err)
	}
	base, _ := url.Parse("https://coop.example.org")
	r, err := email.NewRenderer(base)
	if err != nil {
		p.t.Fatal(err)
	}
	senders := map[domain.Channel]jobs.Sender{domain.ChannelEmail: email.NewSender(r, email.NewSMTP(cfg))}
	return jobs.NewDeliverer(st, senders, p.clock, random, testenv.Logger())
}

func (p *post) member(name, addr string) domain.Member {
	p.t.Helper()
	m := domain.Member{Name: name, Email: addr, Role: domain.RoleMember, Status: domain.StatusActive, CreatedAt: p.now, UpdatedAt: p.now}
	if err := p.st.CreateMember(context.Background(), &m); err != nil {
		p.t.Fatal(err)
	}
	return m
}

func (p *post) enqueue(emails ...domain.Email) {
	p.t.Helper()
	if err := p.st.EnqueueEmails(context.Background(), p.clock(), emails); err != nil {
		p.t.Fatal(err)
	}
}

func (p *post) messages() []domain.OutboxMessage {
	p.t.Helper()
	msgs, err := p.st.ListOutbox(context.Background(), "", 1000)
	if err != nil {
		p.t.Fatal(err)
	}
	return msgs
}

func (p *post) deliver(d *jobs.Deliverer) jobs.DeliveryReport {
	p.t.Helper()
	rep, err := d.Deliver(context.Background())
	if err != nil {
		p.t.Fatal(err)
	}
	return rep
}

func half() float64 { return 0.5 } // no jitter: the wait is exactly the backoff

// TestAFailingServerIsRetriedWithBackoff checks that a message the mail server refuses for a
// while is tried again after 30 seconds, then a minute, then two, and arrives once, with its link.
func TestAFailingServerIsRetriedWithBackoff(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, st *store.Store) {
		p := newPost(t, st)
		d := p.deliverer(st, half)
		ann := p.member("Ann Example", "ann@example.org")
		p.enqueue(domain.Email{MemberID: ann.ID, Kind: domain.EmailMatchProposed, Data: map[string]string{domain.EmailDataWhat: "a lift"}, Link: "/matches/7"})
		p.mail.FailNext(3)
		t0 := p.clock()

		steps := []struct {
			at       time.Duration // after the email was written
			want     jobs.DeliveryReport
			attempts int // the server has been offered the message this often
		}{
			{0, jobs.DeliveryReport{Retried: 1}, 1},
			{29 * time.Second, jobs.DeliveryReport{}, 1}, // not yet due
			{30 * time.Second, jobs.DeliveryReport{Retried: 1}, 2},
			{89 * time.Second, jobs.DeliveryReport{}, 2},
			{90 * time.Second, jobs.DeliveryReport{Retried: 1}, 3},
			{209 * time.Second, jobs.DeliveryReport{}, 3},
			{210 * time.Second, jobs.DeliveryReport{Delivered: 1}, 4},
			{time.Hour, jobs.DeliveryReport{}, 4}, // delivered once, never again
		}
		for _, s := range steps {
			p.setNow(t0.Add(s.at))
			if got := p.deliver(d); got != s.want {
				t.Errorf("at +%v: %+v, want %+v", s.at, got, s.want)
			}
			if got := p.mail.Attempts(); got != s.attempts {
				t.Errorf("at +%v: the server was offered the message %d times, want %d", s.at, got, s.attempts)
			}
		}
		got := p.mail.Received()
		if len(got) != 1 || got[0].To[0] != "ann@example.org" || !strings.Contains(got[0].Text, "https://coop.example.org/matches/7") {
			t.Fatalf("received %+v, want Ann's email once, with its link", got)
		}
		if msgs := p.messages(); msgs[0].Status != domain.OutboxDelivered || msgs[0].Attempts != 4 {
			t.Errorf("the message: %+v", msgs[0])
		}
	})
}

// TestJitterSpreadsRetries checks that the wait before a retry is the backoff give or take 20%,
// by the injected random source.
func TestJitterSpreadsRetries(t *testing.T) {
	st := storetest.Open(t, store.SQLite)
	p := newPost(t, st)
	ann := p.member("Ann Example", "ann@example.org")
	for _, c := range []struct {
		random float64
		want   time.Duration
	}{{0, 24 * time.Second}, {0.5, 30 * time.Second}, {0.999999, 36 * time.Second}} {
		p.enqueue(domain.Email{MemberID: ann.ID, Kind: domain.EmailMatchReminder, Link: "/"})
		p.mail.FailNext(1)
		p.deliver(p.deliverer(st, func() float64 { return c.random }))
		m := p.messages()[0]
		if got := m.NextAttemptAt.Sub(p.clock()); got.Round(time.Second) != c.want {
			t.Errorf("random %v: the retry waits %v, want %v", c.random, got, c.want)
		}
		if err := st.MarkDelivered(context.Background(), m.ID, p.clock()); err != nil {
			t.Fatal(err)
		}
	}
}

// TestDeliveryGivesUpAfterADay checks that a message the server never takes is retried with
// growing waits (never more than an hour and a bit) for 24 hours, then failed, and that the
// coordinators are told whom it was for.
func TestDeliveryGivesUpAfterADay(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, st *store.Store) {
		p := newPost(t, st)
		d := p.deliverer(st, half)
		ann := p.member("Ann Example", "ann@example.org")
		p.enqueue(domain.Email{MemberID: ann.ID, Kind: domain.EmailMatchAccepted, Link: "/matches/7"})
		p.mail.FailNext(1000)
		t0 := p.clock()

		var last time.Time
		tries := 0
		for ; tries < 100; tries++ {
			m := p.messages()[0]
			if m.Status != domain.OutboxPending {
				break
			}
			if tries > 0 {
				if wait := m.NextAttemptAt.Sub(last); wait > time.Hour {
					t.Errorf("try %d waited %v, more than an hour", tries, wait)
				}
			}
			last = m.NextAttemptAt
			p.setNow(m.NextAttemptAt)
			p.deliver(d)
		}
		m := p.messages()[0]
		if m.Status != domain.OutboxFailed {
			t.Fatalf("after %d tries the message is %s", tries, m.Status)
		}
		if gaveUp := p.clock().Sub(t0); gaveUp < 24*time.Hour || gaveUp > 25*time.Hour {
			t.Errorf("gave up %v after the email was written, want just after 24 hours", gaveUp)
		}
		if tries < 20 || tries > 40 {
			t.Errorf("%d tries in a day, want a few quick ones then about one an hour", tries)
		}
		if !strings.Contains(m.LastError, "451") {
			t.Errorf("last error %q does not say what the server said", m.LastError)
		}
		if n := len(p.mail.Received()); n != 0 {
			t.Errorf("the server took %d messages", n)
		}
		notices, err := st.Notices(context.Background(), 10)
		if err != nil || len(notices) != 1 {
			t.Fatalf("notices %+v (%v), want one", notices, err)
		}
		n := notices[0]
		if n.Kind != domain.NoticeDeliveryFailed || !strings.Contains(n.Message, "Ann Example (ann@example.org)") ||
			n.Link != "/coordinate/members/"+itoa(ann.ID) {
			t.Errorf("notice %+v, want one naming Ann and linking to her", n)
		}
		// Nothing more is tried.
		p.setNow(p.clock().Add(48 * time.Hour))
		before := p.mail.Attempts()
		p.deliver(d)
		if p.mail.Attempts() != before {
			t.Error("a failed message was tried again")
		}
	})
}

// TestAnAddressThatDoesNotExistFailsAtOnce checks that a recipient the server refuses for good
// is not retried for a day: the coordinators hear at once.
func TestAnAddressThatDoesNotExistFailsAtOnce(t *testing.T) {
	st := storetest.Open(t, store.SQLite)
	p := newPost(t, st)
	gone := p.member("Gus Gone", "gone@example.org")
	p.mail.RejectRecipient("gone@example.org")
	p.enqueue(domain.Email{MemberID: gone.ID, Kind: domain.EmailMatchProposed, Link: "/"})
	if rep := p.deliver(p.deliverer(st, half)); rep.Failed != 1 {
		t.Errorf("%+v, want the message failed", rep)
	}
	if notices, _ := st.Notices(context.Background(), 10); len(notices) != 1 || !strings.Contains(notices[0].Message, "Gus Gone") {
		t.Errorf("notices %+v", notices)
	}
}

// TestOptedOutMembersGetNothing checks, end to end, that a member who does not want a kind of
// email is not sent it, while a member who does is.
func TestOptedOutMembersGetNothing(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		p := newPost(t, st)
		ann, bob := p.member("Ann Example", "ann@example.org"), p.member("Bob Example", "bob@example.org")
		prefs := domain.NewPreferences(st, domain.NewAudit(st, p.clock), p.clock)
		if _, err := prefs.SetEmailPreferences(ctx, domain.Actor{ID: ann.ID, Name: ann.Name, Role: ann.Role}, ann.ID,
			map[string]bool{domain.EmailMatchReminder: false}); err != nil {
			t.Fatal(err)
		}
		p.enqueue(domain.Email{MemberID: ann.ID, Kind: domain.EmailMatchReminder, Link: "/"},
			domain.Email{MemberID: bob.ID, Kind: domain.EmailMatchReminder, Link: "/"},
			domain.Email{MemberID: ann.ID, Kind: domain.EmailMatchProposed, Link: "/"})
		p.deliver(p.deliverer(st, half))
		var got []string
		for _, r := range p.mail.Received() {
			got = append(got, r.To[0]+" "+r.Subject)
		}
		if len(got) != 2 || !strings.HasPrefix(got[0], "bob@example.org A reminder") && !strings.HasPrefix(got[1], "bob@example.org A reminder") {
			t.Errorf("received %q, want Bob's reminder and Ann's proposal only", got)
		}
		for _, g := range got {
			if strings.HasPrefix(g, "ann@example.org A reminder") {
				t.Errorf("Ann was sent a reminder she opted out of")
			}
		}
	})
}

// TestDeliverersSendEachMessageOnce runs several deliverers at once, in two processes (stores)
// on one database, and checks that every message arrives exactly once.
func TestDeliverersSendEachMessageOnce(t *testing.T) {
	for _, d := range storetest.Dialects {
		t.Run(string(d), func(t *testing.T) {
			loc := storetest.NewDatabase(t, d)
			one, two := storetest.OpenAt(t, loc), storetest.OpenAt(t, loc)
			p := newPost(t, one)
			var emails []domain.Email
			for i := range 6 {
				m := p.member("Member "+itoa(int64(i)), "m"+itoa(int64(i))+"@example.org")
				for range 15 {
					emails = append(emails, domain.Email{MemberID: m.ID, Kind: domain.EmailMatchProposed, Link: "/"})
				}
			}
			p.enqueue(emails...)
			deliverers := []*jobs.Deliverer{p.deliverer(one, half), p.deliverer(two, half), p.deliverer(one, half), p.deliverer(two, half)}
			var wg sync.WaitGroup
			errs := make(chan error, len(deliverers))
			for _, dl := range deliverers {
				wg.Go(func() {
					if _, err := dl.Deliver(context.Background()); err != nil {
						errs <- err
					}
				})
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				t.Error(err)
			}
			seen := map[string]int{}
			for _, r := range p.mail.Received() {
				seen[r.Header.Get("Message-ID")]++
			}
			for id, n := range seen {
				if n > 1 {
					t.Errorf("%s was sent %d times", id, n)
				}
			}
			if len(seen) != len(emails) {
				t.Errorf("%d different messages arrived, want %d", len(seen), len(emails))
			}
			for _, m := range p.messages() {
				if m.Status != domain.OutboxDelivered || m.Attempts != 1 {
					t.Errorf("message %d: %s after %d attempts", m.ID, m.Status, m.Attempts)
				}
			}
		})
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
