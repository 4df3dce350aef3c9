package domain

import (
	"encoding/json"
	"fmt"
	"net"
	"net/url"
	"slices"
	"strings"
	"time"
)

// The webhook events a formal service is told of. The body names the escalation and its status;
// the service fetches everything else with its API token.
const (
	WebhookEscalationRequested = "escalation.requested" // an escalation was sent to the service
	WebhookEscalationCancelled = "escalation.cancelled" // the co-op cancelled it (the community found help, or consent was withdrawn)
	WebhookEscalationUpdated   = "escalation.updated"   // anything else about it changed; the status says where it now is
)

// WebhookEvents lists every webhook event.
var WebhookEvents = []string{WebhookEscalationRequested, WebhookEscalationCancelled, WebhookEscalationUpdated}

// WebhookEvent is something a formal service is told of by webhook, through the outbox.
type WebhookEvent struct {
	ServiceID    int64  // the service told, whose secret signs the message
	Event        string // one of WebhookEvents
	EscalationID int64
	Status       string // the escalation's status (a FHIR Task.status, like "requested")
	URL          string // where the service fetches the escalation with its API token
}

// WebhookBody is the JSON a service receives. It carries no personal data: only what happened,
// to which escalation, and where to fetch it.
type WebhookBody struct {
	Type         string `json:"type"`
	EscalationID int64  `json:"escalation_id"`
	Status       string `json:"status"`
	URL          string `json:"url"`
	OccurredAt   string `json:"occurred_at"` // RFC 3339, UTC, to the second
}

// Body returns the bytes a service receives for the event, which happened at the time given.
// They are written to the outbox once and sent verbatim on every attempt, so that the signature
// and any de-duplication by the receiver see the same message each time.
func (ev WebhookEvent) Body(at time.Time) ([]byte, error) {
	if err := ev.Validate(); err != nil {
		return nil, err
	}
	return json.Marshal(WebhookBody{Type: ev.Event, EscalationID: ev.EscalationID, Status: ev.Status, URL: ev.URL,
		OccurredAt: at.UTC().Truncate(time.Second).Format(time.RFC3339)})
}

// Validate reports what is wrong with an event the platform is about to send; these are
// programming errors, not a person's input.
func (ev WebhookEvent) Validate() error {
	switch {
	case ev.ServiceID <= 0:
		return fmt.Errorf("webhook %s: no service", ev.Event)
	case !slices.Contains(WebhookEvents, ev.Event):
		return fmt.Errorf("webhook: unknown event %q", ev.Event)
	case ev.EscalationID <= 0:
		return fmt.Errorf("webhook %s: no escalation", ev.Event)
	case ev.Status == "":
		return fmt.Errorf("webhook %s: no status", ev.Event)
	}
	if u, err := url.Parse(ev.URL); err != nil || !u.IsAbs() || u.Host == "" {
		return fmt.Errorf("webhook %s: the escalation's URL %q is not an absolute URL", ev.Event, ev.URL)
	}
	return nil
}

// CheckWebhookURL says why a service's webhook address may not be used, or nil: it must be an
// https URL, except on this machine (localhost, 127.0.0.1, ::1), where http is allowed for testing.
// Without TLS the signature still proves who sent a message, but anyone on the way could read it.
func CheckWebhookURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || !u.IsAbs() || u.Host == "" {
		return fmt.Errorf("%q is not a web address", raw)
	}
	switch u.Scheme {
	case "https":
		return nil
	case "http":
		if IsLoopbackHost(u.Hostname()) {
			return nil
		}
	}
	return fmt.Errorf("%q is not an https address", raw)
}

// IsLoopbackHost reports whether host names this machine: localhost, 127.0.0.1 or ::1.
func IsLoopbackHost(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && (ip.Equal(net.IPv4(127, 0, 0, 1)) || ip.Equal(net.IPv6loopback))
}
