package domain

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"strings"
)

// linkMAC signs the fields of an emailed link with the platform's key, for one purpose only, so
// that a link made for one thing (confirming an offer, setting a password) is good for nothing
// else. It is 128 bits, in hex, to keep the links short.
func linkMAC(key []byte, purpose string, fields ...string) string {
	h := hmac.New(sha256.New, key)
	h.Write([]byte(purpose))
	for _, f := range fields {
		h.Write([]byte{0})
		h.Write([]byte(f))
	}
	return hex.EncodeToString(h.Sum(nil))[:32]
}

// linkMACValid reports, in constant time, whether sig is the signature of the fields. A platform
// with no key signs nothing, so that an empty key never makes every link good.
func linkMACValid(key []byte, sig, purpose string, fields ...string) bool {
	if len(key) == 0 || strings.TrimSpace(sig) == "" {
		return false
	}
	return hmac.Equal([]byte(sig), []byte(linkMAC(key, purpose, fields...)))
}
