// Package email renders the co-op's emails from their templates and sends them, through a mail
// server (SMTP) or, when none is configured, to the log. Its Sender is the deliver job's sender
// for the email channel.
package email

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/url"

	"github.com/coop-exchange/coop/domain"
)

// Message is one rendered email.
type Message struct {
	To        string
	ToName    string
	Subject   string
	Text      string
	HTML      string
	MessageID string      // without angle brackets; the same on every attempt, so that a repeat can be recognised
	Headers   [][2]string // more header fields, in order
}

// Transport sends a rendered message.
type Transport interface {
	Send(ctx context.Context, m Message) error
}

// PermanentError is a failure that trying again will not mend, such as an address the mail server
// refuses; the deliver job gives up on the message at once.
type PermanentError struct{ Err error }

func (e *PermanentError) Error() string { return e.Err.Error() }

// Unwrap gives the underlying error.
func (e *PermanentError) Unwrap() error { return e.Err }

// Permanent reports true: the deliver job looks for this method.
func (e *PermanentError) Permanent() bool { return true }

// Permanent marks err as one that trying again will not mend.
func Permanent(err error) error { return &PermanentError{Err: err} }

// Sender renders outbox emails and sends them through a transport.
type Sender struct {
	renderer  *Renderer
	transport Transport
}

// NewSender returns the sender of outbox emails.
func NewSender(r *Renderer, t Transport) *Sender { return &Sender{renderer: r, transport: t} }

// Send renders and sends one outbox email.
func (s *Sender) Send(ctx context.Context, m domain.OutboxMessage) error {
	if m.Channel != domain.ChannelEmail {
		return Permanent(fmt.Errorf("outbox message %d is a %s, not an email", m.ID, m.Channel))
	}
	var p domain.EmailPayload
	if err := json.Unmarshal(m.Payload, &p); err != nil {
		return Permanent(fmt.Errorf("outbox message %d has an unreadable payload: %w", m.ID, err))
	}
	msg, err := s.renderer.Render(m.Recipient, m.IdempotencyKey, p)
	if err != nil {
		return Permanent(err)
	}
	if err := s.transport.Send(ctx, msg); err != nil {
		if m.MemberID == 0 && m.ServiceID != 0 {
			return fmt.Errorf("send %s email to service %d: %w", m.Kind, m.ServiceID, err)
		}
		return fmt.Errorf("send %s email to member %d: %w", m.Kind, m.MemberID, err)
	}
	return nil
}

// LogTransport writes emails to the log instead of sending them, for a co-op with no mail server
// (the demo): the messages are marked delivered, so nothing piles up.
type LogTransport struct{ log *slog.Logger }

// NewLogTransport returns a transport that logs each email at info level.
func NewLogTransport(log *slog.Logger) *LogTransport { return &LogTransport{log: log} }

// Send logs the email.
func (t *LogTransport) Send(ctx context.Context, m Message) error {
	t.log.InfoContext(ctx, "email not sent: no mail server is configured (COOP_SMTP_URL); here it is",
		"to", m.To, "subject", m.Subject, "text", m.Text)
	return nil
}

// messageDomain is the right-hand side of Message-IDs: the co-op's host.
func messageDomain(base *url.URL) string {
	if h := base.Hostname(); h != "" {
		return h
	}
	return "coop.invalid"
}

var errNoTemplate = errors.New("no template")
