package email_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net/url"
	"strings"
	"testing"

	"github.com/coop-exchange/coop/domain"
	"github.com/coop-exchange/coop/email"
	"github.com/coop-exchange/coop/internal/mailtest"
)

func renderer(t *testing.T) *email.Renderer {
	t.Helper()
	base, _ := url.Parse("https://coop.example.org")
	r, err := email.NewRenderer(base)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func outboxEmail(kind, name string, data map[string]string, link string) domain.OutboxMessage {
	p := `{"template":"` + kind + `","name":"` + name + `","link":"` + link + `"`
	if data != nil {
		var b strings.Builder
		for k, v := range data {
			if b.Len() > 0 {
				b.WriteString(",")
			}
			b.WriteString(`"` + k + `":"` + v + `"`)
		}
		p += `,"data":{` + b.String() + `}`
	}
	return domain.OutboxMessage{ID: 1, Channel: domain.ChannelEmail, IdempotencyKey: "email-abc123", Kind: kind, MemberID: 4,
		Recipient: "ann@example.org", Payload: []byte(p + "}")}
}

// TestEveryKindReadsWell renders every kind of email with its values and without them: each has a
// subject, greets the member by first name, links to the page to act on and to the preferences
// page, and never shows a template's workings.
func TestEveryKindReadsWell(t *testing.T) {
	r := renderer(t)
	full := map[string]string{domain.EmailDataWhat: "a lift to the hospital", domain.EmailDataWhen: "Thursday 5 March, 2pm to 5pm",
		domain.EmailDataWho: "Bob", domain.EmailDataReason: "Bob is unwell", domain.EmailDataCheck: "DBS check", domain.EmailDataDate: "1 April 2026"}
	for _, k := range domain.EmailKinds {
		for _, data := range []map[string]string{full, nil} {
			m, err := r.Render("ann@example.org", "email-abc", domain.EmailPayload{Template: k.Kind, Name: "Ann Example", Data: data, Link: "/matches/7"})
			if err != nil {
				t.Fatalf("%s: %v", k.Kind, err)
			}
			for part, text := range map[string]string{"subject": m.Subject, "text": m.Text, "html": m.HTML} {
				for _, bad := range []string{"<no value>", "{{", "  ", " ,", " .", "()"} {
					if strings.Contains(strings.ReplaceAll(text, "\n  ", "\n"), bad) && part != "html" {
						t.Errorf("%s %s (data %v) contains %q:\n%s", k.Kind, part, data != nil, bad, text)
					}
				}
				if strings.Contains(text, "<no value>") {
					t.Errorf("%s %s shows <no value>", k.Kind, part)
				}
			}
			if m.Subject == "" || strings.Contains(m.Subject, "\n") {
				t.Errorf("%s subject %q", k.Kind, m.Subject)
			}
			for part, text := range map[string]string{"text": m.Text, "html": m.HTML} {
				for _, want := range []string{"Hello Ann,", "https://coop.example.org/matches/7", "https://coop.example.org/account/email"} {
					if !strings.Contains(text, want) {
						t.Errorf("%s %s does not contain %q:\n%s", k.Kind, part, want, text)
					}
				}
			}
			if data != nil && !strings.Contains(m.Text+m.Subject, "a lift to the hospital") && k.Kind != domain.EmailCheckDue {
				t.Errorf("%s does not say what the support is:\n%s", k.Kind, m.Text)
			}
		}
	}
	// Values are escaped in HTML.
	m, err := r.Render("ann@example.org", "k", domain.EmailPayload{Template: domain.EmailMatchProposed, Name: "Ann",
		Data: map[string]string{domain.EmailDataWhat: "<script>alert(1)</script>"}, Link: "/matches/7"})
	if err != nil || strings.Contains(m.HTML, "<script>") {
		t.Errorf("a value is not escaped in HTML (%v):\n%s", err, m.HTML)
	}
	if _, err := r.Render("ann@example.org", "k", domain.EmailPayload{Template: "newsletter"}); err == nil {
		t.Error("an unknown kind rendered")
	}
}

// TestAccountEmailsReadWell renders each account email, as a coordinator asks for it and as the
// member does: it links to the page to act on, says how long the link lasts, and (not being a
// choice) neither links to the preferences page nor offers List-Unsubscribe.
func TestAccountEmailsReadWell(t *testing.T) {
	r := renderer(t)
	for _, kind := range domain.AccountEmailKinds {
		for _, data := range []map[string]string{{domain.EmailDataWho: "Cora"}, nil} {
			m, err := r.Render("ann@example.org", "email-abc", domain.EmailPayload{Template: kind, Name: "Ann Example", Data: data, Link: "/password/set?token=1.2.abc"})
			if err != nil {
				t.Fatalf("%s: %v", kind, err)
			}
			if m.Subject == "" || strings.Contains(m.Subject, "\n") {
				t.Errorf("%s subject %q", kind, m.Subject)
			}
			for part, text := range map[string]string{"text": m.Text, "html": m.HTML} {
				for _, want := range []string{"Hello Ann,", "https://coop.example.org/password/set?token=1.2.abc", "7 days", "always sent"} {
					if !strings.Contains(text, want) {
						t.Errorf("%s %s does not contain %q:\n%s", kind, part, want, text)
					}
				}
				if strings.Contains(text, email.PreferencesPath) || strings.Contains(text, "<no value>") {
					t.Errorf("%s %s links to the preferences or shows <no value>:\n%s", kind, part, text)
				}
				if data != nil && !strings.Contains(text, "Cora, a coordinator") {
					t.Errorf("%s %s does not say which coordinator asked:\n%s", kind, part, text)
				}
			}
			for _, h := range m.Headers {
				if h[0] == "List-Unsubscribe" {
					t.Errorf("%s offers List-Unsubscribe %s", kind, h[1])
				}
			}
		}
	}
}

// TestSendsThroughAMailServer sends an email through the real SMTP sender to a mail server in
// the test, signing in with the URL's user name and password, and checks what arrived.
func TestSendsThroughAMailServer(t *testing.T) {
	srv := mailtest.StartTLS(t, "coop", "s3cret pass")
	cfg, err := email.ParseSMTPURL(srv.URL("The Co-op <coop@example.org>"))
	if err != nil {
		t.Fatal(err)
	}
	if !cfg.StartTLS {
		t.Fatal("smtp:// does not require STARTTLS")
	}
	cfg.TLS = srv.ClientTLS()
	sender := email.NewSender(renderer(t), email.NewSMTP(cfg))
	msg := outboxEmail(domain.EmailMatchProposed, "Ann Example", map[string]string{domain.EmailDataWhat: "a lift to the hospital"}, "/matches/7")
	if err := sender.Send(context.Background(), msg); err != nil {
		t.Fatal(err)
	}
	got := srv.Received()
	if len(got) != 1 {
		t.Fatalf("the server received %d messages, want 1", len(got))
	}
	m := got[0]
	checks := []struct{ what, got, want string }{
		{"envelope to", strings.Join(m.To, ","), "ann@example.org"},
		{"envelope from", m.From, "coop@example.org"},
		{"To", m.Header.Get("To"), `"Ann Example" <ann@example.org>`},
		{"From", m.Header.Get("From"), `"The Co-op" <coop@example.org>`},
		{"Subject", m.Subject, "A possible match: a lift to the hospital"},
		{"Message-ID", m.Header.Get("Message-ID"), "<email-abc123@coop.example.org>"},
		{"Auto-Submitted", m.Header.Get("Auto-Submitted"), "auto-generated"},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s: %q, want %q", c.what, c.got, c.want)
		}
	}
	if !strings.HasPrefix(m.Header.Get("Content-Type"), "multipart/alternative") {
		t.Errorf("Content-Type %q, want multipart/alternative", m.Header.Get("Content-Type"))
	}
	for part, body := range map[string]string{"text": m.Text, "html": m.HTML} {
		for _, want := range []string{"Hello Ann,", "a lift to the hospital", "https://coop.example.org/matches/7"} {
			if !strings.Contains(body, want) {
				t.Errorf("the %s part does not contain %q:\n%s", part, want, body)
			}
		}
	}
	if !strings.Contains(m.HTML, `<a href="https://coop.example.org/matches/7"`) {
		t.Errorf("the HTML part has no link to the match:\n%s", m.HTML)
	}

	// A wrong password is an error, not a message sent.
	wrong, _ := email.ParseSMTPURL(strings.Replace(srv.URL("coop@example.org"), "s3cret", "wrong", 1))
	wrong.TLS = srv.ClientTLS()
	if err := email.NewSender(renderer(t), email.NewSMTP(wrong)).Send(context.Background(), msg); err == nil {
		t.Error("sent with a wrong password")
	}
}

// TestRefusals checks that a busy server's refusal may be retried, that a refused recipient may
// not, and that smtp:// without starttls=off sends nothing to a server that does not offer TLS.
func TestRefusals(t *testing.T) {
	srv := mailtest.Start(t)
	cfg, err := email.ParseSMTPURL(srv.URL("coop@example.org"))
	if err != nil {
		t.Fatal(err)
	}
	send := func(cfg email.SMTPConfig, to string) error {
		return email.NewSMTP(cfg).Send(context.Background(), email.Message{To: to, Subject: "s", Text: "t", HTML: "<p>t</p>", MessageID: "x@y"})
	}
	var p interface{ Permanent() bool }
	srv.FailNext(1)
	if err := send(cfg, "ann@example.org"); err == nil || errors.As(err, &p) {
		t.Errorf("a busy server: %v, want a temporary error", err)
	}
	if err := send(cfg, "ann@example.org"); err != nil {
		t.Errorf("after the busy server recovered: %v", err)
	}
	srv.RejectRecipient("gone@example.org")
	if err := send(cfg, "gone@example.org"); err == nil || !errors.As(err, &p) || !p.Permanent() {
		t.Errorf("an unknown recipient: %v, want a permanent error", err)
	}
	cfg.StartTLS = true
	if err := send(cfg, "ann@example.org"); err == nil {
		t.Error("sent in clear to a server without STARTTLS, though STARTTLS is required")
	}
	if n := len(srv.Received()); n != 1 {
		t.Errorf("the server received %d messages, want 1", n)
	}
}

func TestParseSMTPURL(t *testing.T) {
	cases := []struct {
		raw     string
		want    email.SMTPConfig
		problem string
	}{
		{raw: "smtp://user:p%40ss@mail.example.org?from=coop@example.org",
			want: email.SMTPConfig{Host: "mail.example.org", Port: 587, StartTLS: true, Username: "user", Password: "p@ss"}},
		{raw: "smtps://mail.example.org?from=The%20Co-op%20%3Ccoop@example.org%3E",
			want: email.SMTPConfig{Host: "mail.example.org", Port: 465, Implicit: true}},
		{raw: "smtp://localhost:25?from=coop@example.org&starttls=off", want: email.SMTPConfig{Host: "localhost", Port: 25}},
		{raw: "http://mail.example.org?from=coop@example.org", problem: "must start with smtp://"},
		{raw: "smtp://?from=coop@example.org", problem: "names no mail server"},
		{raw: "smtp://mail.example.org", problem: "no address to send from"},
		{raw: "smtp://mail.example.org?from=nobody", problem: `from="nobody" is not an email address`},
		{raw: "smtp://mail.example.org:70000?from=coop@example.org", problem: "port"},
		{raw: "smtp://mail.example.org?from=coop@example.org&tls=yes", problem: `option "tls"`},
		{raw: "smtp://mail.example.org?from=coop@example.org&starttls=maybe", problem: "starttls"},
		{raw: "smtps://mail.example.org?from=coop@example.org&starttls=off", problem: "smtps:// always uses TLS"},
		{raw: "smtp://user:secret@mail.example.org:bad?from=coop@example.org", problem: "not a URL"},
	}
	for _, c := range cases {
		got, err := email.ParseSMTPURL(c.raw)
		if c.problem != "" {
			if err == nil || !strings.Contains(err.Error(), c.problem) {
				t.Errorf("%s: %v, want an error saying %q", c.raw, err, c.problem)
			}
			if err != nil && strings.Contains(err.Error(), "secret") {
				t.Errorf("%s: the error shows the password: %v", c.raw, err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", c.raw, err)
			continue
		}
		got.From = c.want.From
		if got != c.want {
			t.Errorf("%s: %+v, want %+v", c.raw, got, c.want)
		}
	}
}

// TestWithoutAMailServerEmailsAreLogged checks the demo's transport: the email is written to the
// log, and counts as sent.
func TestWithoutAMailServerEmailsAreLogged(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(slog.NewTextHandler(&buf, nil))
	sender := email.NewSender(renderer(t), email.NewLogTransport(log))
	if err := sender.Send(context.Background(), outboxEmail(domain.EmailMatchReminder, "Ann Example", nil, "/matches/7")); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"level=INFO", "to=ann@example.org", "https://coop.example.org/matches/7", "COOP_SMTP_URL"} {
		if !strings.Contains(buf.String(), want) {
			t.Errorf("the log does not contain %q:\n%s", want, buf.String())
		}
	}
}

// TestServiceEmailsReadWell renders the email a formal service with no webhook gets for each
// escalation event, with its values and without them: it says what happened in a line, links to
// the escalation in the services inbox exactly as given (not put on the base URL again), asks
// them to sign in for the details, and greets nobody by name nor offers to unsubscribe, since it
// is for no member and a service cannot opt out of hearing of a need.
func TestServiceEmailsReadWell(t *testing.T) {
	r := renderer(t)
	full := map[string]string{domain.EmailDataService: "Riverside Adult Social Care", domain.EmailDataEscalation: "42",
		domain.EmailDataStatus: domain.EscalationAccepted.Label()}
	says := map[string]string{
		domain.WebhookEscalationRequested: "The co-op has passed a need to",
		domain.WebhookEscalationCancelled: "has been withdrawn",
		domain.WebhookEscalationUpdated:   "was updated",
	}
	for _, kind := range domain.WebhookEvents {
		for _, data := range []map[string]string{full, nil} {
			m, err := r.Render("referrals@riverside.example", "email-abc", domain.EmailPayload{Template: kind, Data: data,
				Link: "https://coop.example.org/inbox/42"})
			if err != nil {
				t.Fatalf("%s: %v", kind, err)
			}
			if m.Subject == "" || strings.Contains(m.Subject, "\n") || !strings.Contains(m.Subject, says[kind]) {
				t.Errorf("%s subject %q, want one saying %q", kind, m.Subject, says[kind])
			}
			for part, text := range map[string]string{"subject": m.Subject, "text": m.Text, "html": m.HTML} {
				for _, bad := range []string{"<no value>", "{{", "  ", " ,", " .", "()", "Hello there", "Choose which emails",
					email.PreferencesPath, "coop.example.orghttps", "member of the co-op"} {
					if strings.Contains(strings.ReplaceAll(text, "\n  ", "\n"), bad) && (part != "html" || !strings.Contains(bad, " ")) {
						t.Errorf("%s %s (data %v) contains %q:\n%s", kind, part, data != nil, bad, text)
					}
				}
			}
			for part, text := range map[string]string{"text": m.Text, "html": m.HTML} {
				for _, want := range []string{"Hello,", says[kind], "https://coop.example.org/inbox/42", "sign in to the services inbox to see the details"} {
					if !strings.Contains(text, want) {
						t.Errorf("%s %s (data %v) does not contain %q:\n%s", kind, part, data != nil, want, text)
					}
				}
				if data != nil && (!strings.Contains(text, "Riverside Adult Social Care") || !strings.Contains(text, "escalation 42")) {
					t.Errorf("%s %s does not name the service and the escalation:\n%s", kind, part, text)
				}
			}
			if !strings.Contains(m.HTML, `<a href="https://coop.example.org/inbox/42"`) {
				t.Errorf("%s: the HTML part does not link to the inbox:\n%s", kind, m.HTML)
			}
			for _, h := range m.Headers {
				if h[0] == "List-Unsubscribe" {
					t.Errorf("%s offers to unsubscribe: %v", kind, h)
				}
			}
			if want := data[domain.EmailDataService]; m.ToName != want {
				t.Errorf("%s is addressed to %q, want %q", kind, m.ToName, want)
			}
		}
	}
	m, err := r.Render("referrals@riverside.example", "k", domain.EmailPayload{Template: domain.WebhookEscalationUpdated, Data: full, Link: "https://coop.example.org/inbox/42"})
	if err != nil || !strings.Contains(m.Text, "Where it stands now: Accepted by the service.") {
		t.Errorf("an update does not say where the escalation stands (%v):\n%s", err, m.Text)
	}
	// Only a path or a web address is a link; a path still goes on the base URL.
	for _, bad := range []string{"//evil.example/inbox/42", "javascript:alert(1)", "inbox/42"} {
		if _, err := r.Render("referrals@riverside.example", "k", domain.EmailPayload{Template: domain.WebhookEscalationRequested, Data: full, Link: bad}); err == nil {
			t.Errorf("an email linking to %q rendered", bad)
		}
	}
	m, err = r.Render("referrals@riverside.example", "k", domain.EmailPayload{Template: domain.WebhookEscalationRequested, Data: full, Link: "/inbox/42"})
	if err != nil || !strings.Contains(m.Text, "https://coop.example.org/inbox/42\n") {
		t.Errorf("a path link is not put on the base URL (%v):\n%s", err, m.Text)
	}
}
