// Package webhook signs the co-op's webhooks and lets a receiver check them. It uses the standard
// library only, so that a formal service's Go program can import it without the rest of the
// platform.
//
// The signature travels in the Coop-Signature header as "t=<unix seconds>,v1=<hex>", where <hex>
// is the HMAC-SHA256, keyed with the service's webhook secret, of the text "<t>.<raw body>". A
// receiver recomputes it over the body bytes exactly as received, compares in constant time, and
// refuses a signature more than five minutes from its own clock, so that a captured request
// cannot be replayed later.
package webhook

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"strconv"
	"strings"
	"time"
)

// The headers of a webhook request, besides Content-Type and User-Agent.
const (
	SignatureHeader      = "Coop-Signature"  // "t=<unix seconds>,v1=<hex HMAC-SHA256>"
	IdempotencyKeyHeader = "Idempotency-Key" // the same on every attempt to deliver one event
)

// DefaultTolerance is how far a signature's time may be from the receiver's clock.
const DefaultTolerance = 5 * time.Minute

// The reasons VerifySignature refuses a request.
var (
	ErrNoSignature       = errors.New("webhook: no usable Coop-Signature header")
	ErrSignatureMismatch = errors.New("webhook: the signature does not match the body")
	ErrSignatureExpired  = errors.New("webhook: the signature's time is too far from now")
)

// Sign returns the Coop-Signature header value for body, sent at t, with secret.
func Sign(secret string, t time.Time, body []byte) string {
	ts := strconv.FormatInt(t.Unix(), 10)
	return "t=" + ts + ",v1=" + hex.EncodeToString(mac(secret, ts, body))
}

// VerifySignature checks a Coop-Signature header against the body exactly as received: nil when
// one of its v1 signatures was made with secret over this body, at a time no further than
// tolerance (DefaultTolerance when 0) from now.
func VerifySignature(secret, header string, body []byte, now time.Time, tolerance time.Duration) error {
	if tolerance <= 0 {
		tolerance = DefaultTolerance
	}
	var (
		ts   string
		sigs [][]byte
	)
	for part := range strings.SplitSeq(header, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok {
			continue
		}
		switch k {
		case "t":
			ts = v
		case "v1": // there may be several, while a secret is being replaced
			if sig, err := hex.DecodeString(v); err == nil {
				sigs = append(sigs, sig)
			}
		}
	}
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil || len(sigs) == 0 {
		return ErrNoSignature
	}
	if d := now.Sub(time.Unix(sec, 0)); d > tolerance || d < -tolerance {
		return ErrSignatureExpired
	}
	want := mac(secret, ts, body)
	for _, sig := range sigs {
		if hmac.Equal(sig, want) {
			return nil
		}
	}
	return ErrSignatureMismatch
}

func mac(secret, ts string, body []byte) []byte {
	h := hmac.New(sha256.New, []byte(secret))
	h.Write([]byte(ts))
	h.Write([]byte("."))
	h.Write(body)
	return h.Sum(nil)
}
