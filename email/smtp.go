package email

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net/mail"
	"net/url"
	"strconv"
	"time"

	gomail "github.com/wneessen/go-mail"
)

// SMTPConfig is where and how to send email, read from a URL like
// smtp://user:pass@host:587?from=coop@example.org.
type SMTPConfig struct {
	Host     string
	Port     int
	Implicit bool // smtps://: TLS from the first byte; else STARTTLS
	StartTLS bool // smtp:// only: refuse to send unless the server offers STARTTLS (the default)
	Username string
	Password string
	From     mail.Address
	// TLS, when set, is used instead of the system's trusted roots (tests trust their own server
	// with it); the server's name is still checked.
	TLS *tls.Config
}

// ParseSMTPURL reads a mail server URL:
//
//	smtp://user:pass@host:587?from=coop@example.org   STARTTLS, required (port 587 by default)
//	smtps://user:pass@host:465?from=coop@example.org  TLS from the start (port 465 by default)
//	smtp://localhost:25?from=...&starttls=off           no TLS: only for a relay on the same machine or network
//
// from (required) is the address emails come from, and may carry a name:
// from=The%20Co-op%20%3Ccoop@example.org%3E. The error never repeats the URL, which may hold a
// password.
func ParseSMTPURL(raw string) (SMTPConfig, error) {
	u, err := url.Parse(raw)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return SMTPConfig{}, fmt.Errorf("is not a URL: %v", err)
	}
	var c SMTPConfig
	switch u.Scheme {
	case "smtp":
		c.Port, c.StartTLS = 587, true
	case "smtps":
		c.Port, c.Implicit = 465, true
	default:
		return SMTPConfig{}, errors.New("must start with smtp:// (STARTTLS) or smtps:// (TLS)")
	}
	if c.Host = u.Hostname(); c.Host == "" {
		return SMTPConfig{}, errors.New("names no mail server")
	}
	if p := u.Port(); p != "" {
		if c.Port, err = strconv.Atoi(p); err != nil || c.Port < 1 || c.Port > 65535 {
			return SMTPConfig{}, fmt.Errorf("port %q is not a number from 1 to 65535", p)
		}
	}
	if u.User != nil {
		c.Username = u.User.Username()
		c.Password, _ = u.User.Password()
	}
	q := u.Query()
	for key := range q {
		if key != "from" && key != "starttls" {
			return SMTPConfig{}, fmt.Errorf("has an option %q it does not know; it takes from= and starttls=off", key)
		}
	}
	switch v := q.Get("starttls"); {
	case v == "":
	case v == "off" && !c.Implicit:
		c.StartTLS = false
	case v == "off":
		return SMTPConfig{}, errors.New("starttls=off is for smtp://; smtps:// always uses TLS")
	default:
		return SMTPConfig{}, fmt.Errorf("starttls=%q is not known; leave it out (STARTTLS required) or give starttls=off", v)
	}
	from := q.Get("from")
	if from == "" {
		return SMTPConfig{}, errors.New("says no address to send from; add ?from=coop@example.org")
	}
	addr, err := mail.ParseAddress(from)
	if err != nil {
		return SMTPConfig{}, fmt.Errorf("from=%q is not an email address", from)
	}
	c.From = *addr
	return c, nil
}

// SMTP sends email through a mail server with go-mail, one connection per message.
type SMTP struct {
	cfg     SMTPConfig
	timeout time.Duration
}

// NewSMTP returns a transport for the mail server cfg names.
func NewSMTP(cfg SMTPConfig) *SMTP { return &SMTP{cfg: cfg, timeout: 15 * time.Second} }

// Send delivers one message to the mail server.
func (s *SMTP) Send(ctx context.Context, m Message) error {
	msg := gomail.NewMsg()
	if err := msg.FromFormat(s.cfg.From.Name, s.cfg.From.Address); err != nil {
		return fmt.Errorf("from address: %w", err)
	}
	if err := msg.AddToFormat(m.ToName, m.To); err != nil {
		return Permanent(fmt.Errorf("to address %q: %w", m.To, err))
	}
	msg.Subject(m.Subject)
	msg.SetMessageIDWithValue(m.MessageID)
	msg.SetDate()
	for _, h := range m.Headers {
		msg.SetGenHeader(gomail.Header(h[0]), h[1])
	}
	msg.SetBodyString(gomail.TypeTextPlain, m.Text)
	msg.AddAlternativeString(gomail.TypeTextHTML, m.HTML)

	opts := []gomail.Option{gomail.WithTimeout(s.timeout)}
	switch {
	case s.cfg.Implicit:
		opts = append(opts, gomail.WithSSL())
	case s.cfg.StartTLS:
		opts = append(opts, gomail.WithTLSPolicy(gomail.TLSMandatory))
	default:
		opts = append(opts, gomail.WithTLSPolicy(gomail.NoTLS))
	}
	if s.cfg.Username != "" {
		opts = append(opts, gomail.WithSMTPAuth(gomail.SMTPAuthAutoDiscover),
			gomail.WithUsername(s.cfg.Username), gomail.WithPassword(s.cfg.Password))
	}
	if s.cfg.TLS != nil {
		tc := s.cfg.TLS.Clone()
		if tc.ServerName == "" {
			tc.ServerName = s.cfg.Host
		}
		opts = append(opts, gomail.WithTLSConfig(tc))
	}
	opts = append(opts, gomail.WithPort(s.cfg.Port))
	client, err := gomail.NewClient(s.cfg.Host, opts...)
	if err != nil {
		return fmt.Errorf("mail client: %w", err)
	}
	if err := client.DialAndSendWithContext(ctx, msg); err != nil {
		var se *gomail.SendError
		// The server refused the recipient for good (5xx): trying again will not help.
		if errors.As(err, &se) && se.Reason == gomail.ErrSMTPRcptTo && !se.IsTemp() && se.ErrorCode() >= 500 {
			return Permanent(err)
		}
		return err
	}
	return nil
}
