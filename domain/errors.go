package domain

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// Sentinel errors that the web layer maps to answers. Stores translate driver errors into these.
var (
	// ErrNotFound means the record does not exist, or the caller may not know that it does.
	ErrNotFound = errors.New("not found")
	// ErrConflict means the record changed under the caller (for example, an application already decided).
	ErrConflict = errors.New("conflict")
	// ErrDuplicate means a unique value (an email, an area code) is already taken.
	ErrDuplicate = errors.New("already exists")
	// ErrInUse means a record cannot be removed because other records refer to it.
	ErrInUse = errors.New("in use")
	// ErrUnavailable means the database cannot be reached just now; nothing was saved.
	ErrUnavailable = errors.New("storage unavailable")
	// ErrForbidden means the caller is known but may not do this.
	ErrForbidden = errors.New("forbidden")
	// ErrUnauthenticated means the caller's credentials are missing, wrong or expired.
	ErrUnauthenticated = errors.New("unauthenticated")
)

// FieldError is one invalid input field with a message written for the person who filled it in.
type FieldError struct {
	Field   string `json:"field"`
	Message string `json:"message"`
}

// ValidationError lists every invalid field of one input, in the order the fields are asked for.
type ValidationError struct {
	Fields []FieldError
}

// Error joins the field messages.
func (e *ValidationError) Error() string {
	parts := make([]string, len(e.Fields))
	for i, f := range e.Fields {
		parts[i] = f.Field + ": " + f.Message
	}
	return "invalid input: " + strings.Join(parts, "; ")
}

// Add records a message for a field; only the first message per field is kept.
func (e *ValidationError) Add(field, format string, args ...any) {
	if e.Has(field) {
		return
	}
	e.Fields = append(e.Fields, FieldError{Field: field, Message: fmt.Sprintf(format, args...)})
}

// Has reports whether the field already has a message.
func (e *ValidationError) Has(field string) bool {
	for _, f := range e.Fields {
		if f.Field == field {
			return true
		}
	}
	return false
}

// Message returns the field's message, or "".
func (e *ValidationError) Message(field string) string {
	for _, f := range e.Fields {
		if f.Field == field {
			return f.Message
		}
	}
	return ""
}

// OrNil returns e when it holds at least one field, else nil, so that callers can `return v.OrNil()`.
func (e *ValidationError) OrNil() error {
	if e == nil || len(e.Fields) == 0 {
		return nil
	}
	return e
}

// Invalid builds a ValidationError for a single field.
func Invalid(field, format string, args ...any) error {
	v := &ValidationError{}
	v.Add(field, format, args...)
	return v
}

// RateLimitError means too many attempts were made; Message is written for the person and says
// when they can try again.
type RateLimitError struct {
	Message    string
	RetryAfter time.Duration
}

func (e *RateLimitError) Error() string { return "rate limited: " + e.Message }

// SignInRefusedError means the password was right but the membership does not allow signing in
// (an application still waiting, or declined, or a suspended membership). Message says why.
type SignInRefusedError struct {
	Status  MemberStatus
	Message string
}

func (e *SignInRefusedError) Error() string { return "sign-in refused: " + e.Message }

// ConflictError is ErrConflict with a message for the person (what happened and what they can do).
type ConflictError struct {
	Message string
}

func (e *ConflictError) Error() string { return "conflict: " + e.Message }

// Unwrap makes errors.Is(err, ErrConflict) true.
func (e *ConflictError) Unwrap() error { return ErrConflict }
