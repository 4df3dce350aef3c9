package jobs

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"syscall"
	"time"
	"unicode"

	"github.com/coop-exchange/coop/domain"
	"github.com/coop-exchange/coop/webhook"
)

// WebhookSecrets gives the secret a formal service was given for checking our webhooks' signatures.
// The services directory keeps them.
type WebhookSecrets interface {
	WebhookSecret(ctx context.Context, serviceID int64) (string, error)
}

// WebhookTimeout is how long a service has to answer one attempt (standards.md).
const WebhookTimeout = 10 * time.Second

// How much of an answer is read: enough to quote the start of an error in last_error, and to let
// the connection be reused, but never a whole large (or endless) body.
const (
	webhookReadLimit  = 64 << 10
	webhookQuoteLimit = 200
	webhookRedirects  = 3
)

// WebhookOptions tune a WebhookSender; the zero value is the platform's.
type WebhookOptions struct {
	Timeout   time.Duration    // per attempt; WebhookTimeout when 0
	Now       func() time.Time // the clock that stamps each signature; time.Now when nil
	UserAgent string           // "Coop-Webhooks/1" when empty
}

// WebhookSender delivers webhook messages from the outbox: a signed POST of the stored body to the
// service's address. Any 2xx answer is delivered; anything else is worth trying again, except an
// address that is not https (see domain.CheckWebhookURL).
type WebhookSender struct {
	secrets   WebhookSecrets
	client    *http.Client
	timeout   time.Duration
	now       func() time.Time
	userAgent string
}

// NewWebhookSender returns a sender that signs with the secrets given.
func NewWebhookSender(secrets WebhookSecrets, opts WebhookOptions) *WebhookSender {
	s := &WebhookSender{secrets: secrets, timeout: opts.Timeout, now: opts.Now, userAgent: opts.UserAgent}
	if s.timeout <= 0 {
		s.timeout = WebhookTimeout
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.userAgent == "" {
		s.userAgent = "Coop-Webhooks/1"
	}
	transport := http.DefaultTransport.(*http.Transport).Clone()
	transport.Proxy = nil // a service's address is reached directly, as the co-op's coordinators set it
	s.client = &http.Client{Transport: transport, CheckRedirect: sameHostRedirect}
	return s
}

// sameHostRedirect follows a redirect only to the same host and port, keeping the POST and its
// body (307 and 308; a 301, 302 or 303 would turn it into a GET and lose the body), and never from
// https to http: the signed message goes only where the coordinators said.
func sameHostRedirect(req *http.Request, via []*http.Request) error {
	first := via[0]
	if len(via) >= webhookRedirects || req.URL.Host != first.URL.Host || req.Method != first.Method ||
		(first.URL.Scheme == "https" && req.URL.Scheme != "https") {
		return http.ErrUseLastResponse
	}
	return nil
}

// permanentError is a failure that trying again will not mend; the deliverer looks for Permanent.
type permanentError struct{ err error }

func (e permanentError) Error() string   { return e.err.Error() }
func (e permanentError) Unwrap() error   { return e.err }
func (e permanentError) Permanent() bool { return true }

// Send posts one webhook message, signed at the time of this attempt. Its errors are worded for
// the coordinators, who read them as the message's last error.
func (s *WebhookSender) Send(ctx context.Context, m domain.OutboxMessage) error {
	if err := domain.CheckWebhookURL(m.Recipient); err != nil {
		return permanentError{fmt.Errorf("the service's webhook address is refused: %w", err)}
	}
	if m.ServiceID == 0 {
		return permanentError{errors.New("the message names no service to sign it for")}
	}
	secret, err := s.secrets.WebhookSecret(ctx, m.ServiceID)
	if err != nil {
		return fmt.Errorf("the signing secret of service %d could not be read: %w", m.ServiceID, err)
	}
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, m.Recipient, bytes.NewReader(m.Payload))
	if err != nil {
		return permanentError{fmt.Errorf("the service's webhook address is refused: %w", err)}
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", s.userAgent)
	req.Header.Set(webhook.IdempotencyKeyHeader, m.IdempotencyKey)
	req.Header.Set(webhook.SignatureHeader, webhook.Sign(secret, s.now(), m.Payload))

	res, err := s.client.Do(req)
	if err != nil {
		return s.describe(ctx, err)
	}
	defer res.Body.Close()
	answer, readErr := io.ReadAll(io.LimitReader(res.Body, webhookReadLimit))
	if res.StatusCode >= 200 && res.StatusCode < 300 {
		return nil // the service has it, even if the rest of its answer went astray
	}
	msg := fmt.Sprintf("the service answered %d", res.StatusCode)
	if loc := res.Header.Get("Location"); res.StatusCode >= 300 && res.StatusCode < 400 && loc != "" {
		msg += fmt.Sprintf(", sending us to %s, which we do not follow", quote([]byte(loc)))
	} else if q := quote(answer); q != "" {
		msg += ": " + q
	} else if readErr != nil {
		msg += " and then " + s.describe(ctx, readErr).Error()
	}
	return errors.New(msg)
}

// describe puts a failure to get an answer into words.
func (s *WebhookSender) describe(ctx context.Context, err error) error {
	var (
		dns  *net.DNSError
		nerr net.Error
	)
	switch {
	case errors.As(err, &dns):
		return fmt.Errorf("the service's address could not be found (looking up %s: %s)", dns.Name, dns.Err)
	case errors.Is(ctx.Err(), context.DeadlineExceeded), errors.As(err, &nerr) && nerr.Timeout():
		return fmt.Errorf("no answer within %s", seconds(s.timeout))
	case errors.Is(ctx.Err(), context.Canceled):
		return errors.New("the attempt was interrupted (the co-op's process was stopping)")
	case errors.Is(err, syscall.ECONNREFUSED):
		return errors.New("the service refused the connection (nothing is listening at its address)")
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, syscall.ECONNRESET):
		return errors.New("the service closed the connection before answering in full")
	}
	var uerr *url.Error
	if errors.As(err, &uerr) {
		err = uerr.Err // the method and address say nothing the coordinators do not know
	}
	return fmt.Errorf("the service could not be reached: %w", err)
}

// seconds writes a duration as people say it: "10 s", or "250 ms" when shorter than a second.
func seconds(d time.Duration) string {
	if d < time.Second {
		return fmt.Sprintf("%d ms", d.Milliseconds())
	}
	return strings.TrimSuffix(strings.TrimSuffix(fmt.Sprintf("%.1f", d.Seconds()), "0"), ".") + " s"
}

// quote returns the start of what a service said, on one line, for last_error.
func quote(b []byte) string {
	s := strings.Map(func(r rune) rune {
		if unicode.IsSpace(r) {
			return ' '
		}
		if !unicode.IsPrint(r) {
			return -1
		}
		return r
	}, strings.ToValidUTF8(string(b), ""))
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > webhookQuoteLimit {
		s = strings.ToValidUTF8(s[:webhookQuoteLimit], "") + "..."
	}
	return s
}
