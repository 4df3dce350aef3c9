package webhook_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/coop-exchange/coop/webhook"
)

// TestSignatureIsHMACOfTimeAndBody checks the header against the algorithm as standards.md words
// it, computed here independently.
func TestSignatureIsHMACOfTimeAndBody(t *testing.T) {
	body := []byte(`{"type":"escalation.requested","escalation_id":42}`)
	at := time.Unix(1772442000, 0)
	h := hmac.New(sha256.New, []byte("whsec-test"))
	fmt.Fprintf(h, "%d.%s", at.Unix(), body)
	want := fmt.Sprintf("t=%d,v1=%s", at.Unix(), hex.EncodeToString(h.Sum(nil)))
	if got := webhook.Sign("whsec-test", at, body); got != want {
		t.Errorf("Sign = %s, want %s", got, want)
	}
}

func TestVerifySignature(t *testing.T) {
	body := []byte(`{"type":"escalation.requested"}`)
	at := time.Unix(1772442000, 0)
	good := webhook.Sign("secret", at, body)
	other := webhook.Sign("another secret", at, body)
	cases := []struct {
		name   string
		header string
		body   string
		now    time.Time
		want   error
	}{
		{"as sent", good, string(body), at, nil},
		{"a little later", good, string(body), at.Add(4 * time.Minute), nil},
		{"with the clocks a little apart", good, string(body), at.Add(-time.Minute), nil},
		{"one of two signatures, during a change of secret", other + ",v1=" + good[len("t=1772442000,v1="):], string(body), at, nil},
		{"replayed after five minutes", good, string(body), at.Add(5*time.Minute + time.Second), webhook.ErrSignatureExpired},
		{"from the future", good, string(body), at.Add(-6 * time.Minute), webhook.ErrSignatureExpired},
		{"body changed", good, `{"type":"escalation.cancelled"}`, at, webhook.ErrSignatureMismatch},
		{"another secret", other, string(body), at, webhook.ErrSignatureMismatch},
		{"time changed", "t=1772442001" + good[len("t=1772442000"):], string(body), at, webhook.ErrSignatureMismatch},
		{"no header", "", string(body), at, webhook.ErrNoSignature},
		{"no time", good[len("t=1772442000,"):], string(body), at, webhook.ErrNoSignature},
		{"no signature", "t=1772442000", string(body), at, webhook.ErrNoSignature},
	}
	for _, c := range cases {
		if err := webhook.VerifySignature("secret", c.header, []byte(c.body), c.now, 0); !errors.Is(err, c.want) {
			t.Errorf("%s: %v, want %v", c.name, err, c.want)
		}
	}
}
