package domain

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"golang.org/x/crypto/argon2"
)

// Password length limits. NCSC guidance: length matters, composition rules do not.
const (
	MinPasswordLen = 10
	MaxPasswordLen = 200
)

// PasswordParams are the argon2id cost parameters written into each hash.
type PasswordParams struct {
	Memory  uint32 // KiB
	Time    uint32
	Threads uint8
}

// DefaultPasswordParams follow OWASP's argon2id recommendation (19 MiB, 2 passes, 1 lane).
var DefaultPasswordParams = PasswordParams{Memory: 19 * 1024, Time: 2, Threads: 1}

const (
	saltLen = 16
	keyLen  = 32
)

// PasswordHasher hashes and verifies passwords with argon2id. The zero value uses DefaultPasswordParams.
type PasswordHasher struct {
	Params PasswordParams
}

func (h PasswordHasher) params() PasswordParams {
	if h.Params.Memory == 0 {
		return DefaultPasswordParams
	}
	return h.Params
}

// Hash returns a PHC-format argon2id hash of password.
func (h PasswordHasher) Hash(password string) (string, error) {
	p := h.params()
	salt := make([]byte, saltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("hash password: %w", err)
	}
	key := argon2.IDKey([]byte(password), salt, p.Time, p.Memory, p.Threads, keyLen)
	enc := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s",
		argon2.Version, p.Memory, p.Time, p.Threads, enc.EncodeToString(salt), enc.EncodeToString(key)), nil
}

// Verify reports whether password matches the PHC hash encoded. A malformed hash is an error.
func (h PasswordHasher) Verify(encoded, password string) (bool, error) {
	parts := strings.Split(encoded, "$")
	if len(parts) != 6 || parts[1] != "argon2id" {
		return false, errors.New("verify password: not an argon2id hash")
	}
	var version int
	if _, err := fmt.Sscanf(parts[2], "v=%d", &version); err != nil || version != argon2.Version {
		return false, errors.New("verify password: unsupported argon2 version")
	}
	var p PasswordParams
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &p.Memory, &p.Time, &p.Threads); err != nil {
		return false, fmt.Errorf("verify password: bad parameters: %w", err)
	}
	enc := base64.RawStdEncoding
	salt, err := enc.DecodeString(parts[4])
	if err != nil {
		return false, fmt.Errorf("verify password: bad salt: %w", err)
	}
	want, err := enc.DecodeString(parts[5])
	if err != nil || len(want) == 0 {
		return false, errors.New("verify password: bad key")
	}
	got := argon2.IDKey([]byte(password), salt, p.Time, p.Memory, p.Threads, uint32(len(want)))
	return subtle.ConstantTimeCompare(got, want) == 1, nil
}

// CheckPassword validates a new password into v under field.
func CheckPassword(v *ValidationError, field, password string) {
	switch n := utf8.RuneCountInString(password); {
	case n == 0:
		v.Add(field, "Enter a password")
	case n < MinPasswordLen:
		v.Add(field, "Password must be at least %d characters; a few words together are easy to remember", MinPasswordLen)
	case n > MaxPasswordLen:
		v.Add(field, "Password must be %d characters or fewer", MaxPasswordLen)
	}
}
