package domain_test

import (
	"encoding/json"
	"maps"
	"slices"
	"testing"
	"time"

	"github.com/coop-exchange/coop/domain"
)

// TestWebhookBodiesCarryNoPersonalData checks that what a service receives holds exactly the
// event, the escalation's id, status and URL, and the time: nothing about the person.
func TestWebhookBodiesCarryNoPersonalData(t *testing.T) {
	ev := domain.WebhookEvent{ServiceID: 3, Event: domain.WebhookEscalationCancelled, EscalationID: 9, Status: "cancelled",
		URL: "https://coop.example.org/api/v1/escalations/9"}
	body, err := ev.Body(time.Date(2026, 3, 2, 9, 30, 15, 999, time.FixedZone("BST", 3600)))
	if err != nil {
		t.Fatal(err)
	}
	var fields map[string]any
	if err := json.Unmarshal(body, &fields); err != nil {
		t.Fatal(err)
	}
	if keys := slices.Sorted(maps.Keys(fields)); !slices.Equal(keys, []string{"escalation_id", "occurred_at", "status", "type", "url"}) {
		t.Errorf("the body has the fields %q, want only the event's", keys)
	}
	want := `{"type":"escalation.cancelled","escalation_id":9,"status":"cancelled","url":"https://coop.example.org/api/v1/escalations/9","occurred_at":"2026-03-02T08:30:15Z"}`
	if string(body) != want {
		t.Errorf("body\n%s\nwant\n%s", body, want)
	}
}

// TestWebhookAddressesMustBeHTTPS checks that webhooks go over https, except to this machine.
func TestWebhookAddressesMustBeHTTPS(t *testing.T) {
	for _, c := range []struct {
		url string
		ok  bool
	}{
		{"https://service.example/hooks", true},
		{"http://localhost:8080/hooks", true},
		{"http://127.0.0.1:8080/hooks", true},
		{"http://[::1]:8080/hooks", true},
		{"http://service.example/hooks", false},
		{"http://127.0.0.2/hooks", false},
		{"http://localhost.service.example/hooks", false},
		{"ftp://service.example/hooks", false},
		{"service.example/hooks", false},
		{"https:///hooks", false},
	} {
		if err := domain.CheckWebhookURL(c.url); (err == nil) != c.ok {
			t.Errorf("%s: %v, want ok=%v", c.url, err, c.ok)
		}
	}
}
