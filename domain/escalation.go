package domain

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// Escalation to formal services: when a need is due to be passed on, and the life of an
// escalation once it is, following the FHIR Task life cycle of a referral (standards.md).

// EscalationStatus is where an escalation is in its life: a FHIR Task status.
type EscalationStatus string

// The escalation statuses.
const (
	EscalationDraft          EscalationStatus = "draft"       // waiting for a coordinator's review
	EscalationRequested      EscalationStatus = "requested"   // sent to the service
	EscalationAccepted       EscalationStatus = "accepted"    // the service takes it on
	EscalationRejected       EscalationStatus = "rejected"    // the service cannot (a reason is required)
	EscalationInProgress     EscalationStatus = "in-progress" // the service has started
	EscalationOnHold         EscalationStatus = "on-hold"     // paused by the service
	EscalationCompleted      EscalationStatus = "completed"   // done (an outcome is required)
	EscalationFailed         EscalationStatus = "failed"      // the service could not complete it
	EscalationCancelled      EscalationStatus = "cancelled"   // withdrawn, by either side
	EscalationEnteredInError EscalationStatus = "entered-in-error"
)

// EscalationStatuses lists every status, in the order of a referral's life.
var EscalationStatuses = []EscalationStatus{EscalationDraft, EscalationRequested, EscalationAccepted, EscalationRejected,
	EscalationInProgress, EscalationOnHold, EscalationCompleted, EscalationFailed, EscalationCancelled, EscalationEnteredInError}

// BusinessAcknowledged is the business status a service sets when it has seen an escalation:
// not a status of its own (standards.md).
const BusinessAcknowledged = "acknowledged"

// Label says the status in plain words, for requesters and coordinators.
func (s EscalationStatus) Label() string {
	switch s {
	case EscalationDraft:
		return "Waiting for a coordinator to send it"
	case EscalationRequested:
		return "Passed to the service"
	case EscalationAccepted:
		return "Accepted by the service"
	case EscalationRejected:
		return "The service cannot take it on"
	case EscalationInProgress:
		return "The service has started"
	case EscalationOnHold:
		return "On hold at the service"
	case EscalationCompleted:
		return "Completed by the service"
	case EscalationFailed:
		return "The service could not complete it"
	case EscalationCancelled:
		return "Cancelled"
	case EscalationEnteredInError:
		return "Sent in error"
	}
	return string(s)
}

// Open reports whether the escalation still holds its request with that service: not ended.
func (s EscalationStatus) Open() bool {
	switch s {
	case EscalationRejected, EscalationCompleted, EscalationFailed, EscalationCancelled, EscalationEnteredInError:
		return false
	}
	return true
}

// Side is who changes an escalation: the co-op (coordinators, the matcher) or the service.
type Side string

// The sides.
const (
	SideCoop    Side = "coop"
	SideService Side = "service"
)

// escalationMoves are the changes each side may make from each status. The co-op sends a
// draft, and withdraws what it sent (or marks it sent in error); the service answers and
// reports its progress.
var escalationMoves = map[Side]map[EscalationStatus][]EscalationStatus{
	SideCoop: {
		EscalationDraft:      {EscalationRequested, EscalationCancelled, EscalationEnteredInError},
		EscalationRequested:  {EscalationCancelled, EscalationEnteredInError},
		EscalationAccepted:   {EscalationCancelled, EscalationEnteredInError},
		EscalationInProgress: {EscalationCancelled, EscalationEnteredInError},
		EscalationOnHold:     {EscalationCancelled, EscalationEnteredInError},
	},
	SideService: {
		EscalationRequested:  {EscalationAccepted, EscalationRejected, EscalationOnHold, EscalationEnteredInError},
		EscalationAccepted:   {EscalationInProgress, EscalationOnHold, EscalationCompleted, EscalationFailed, EscalationCancelled},
		EscalationInProgress: {EscalationOnHold, EscalationCompleted, EscalationFailed, EscalationCancelled},
		EscalationOnHold:     {EscalationAccepted, EscalationInProgress, EscalationRejected, EscalationFailed, EscalationCancelled},
	},
}

// AllowedMoves lists the statuses a side may move an escalation to from status from.
func AllowedMoves(side Side, from EscalationStatus) []EscalationStatus {
	return slices.Clone(escalationMoves[side][from])
}

// MoveNotAllowedError says a change the life cycle does not allow, and which it does.
type MoveNotAllowedError struct {
	From, To EscalationStatus
	Allowed  []EscalationStatus
}

// Error words the refusal.
func (e *MoveNotAllowedError) Error() string {
	if len(e.Allowed) == 0 {
		return fmt.Sprintf("an escalation that is %s cannot change any more", e.From)
	}
	names := make([]string, len(e.Allowed))
	for i, s := range e.Allowed {
		names[i] = string(s)
	}
	return fmt.Sprintf("an escalation that is %s cannot become %s; it can become %s", e.From, e.To, strings.Join(names, ", "))
}

// Unwrap lets the web layer answer a refused move as a conflict.
func (e *MoveNotAllowedError) Unwrap() error { return ErrConflict }

// EscalationMove is one change asked of an escalation.
type EscalationMove struct {
	To      EscalationStatus
	Reason  string // required to reject; why, for the other changes
	Outcome string // required to complete: what was done
}

const maxEscalationNote = 2000

// CheckMove validates a change a side asks for from status from: allowed by the life cycle, with
// a reason for a rejection and an outcome for a completion.
func CheckMove(side Side, from EscalationStatus, m EscalationMove) error {
	if !slices.Contains(escalationMoves[side][from], m.To) {
		return &MoveNotAllowedError{From: from, To: m.To, Allowed: AllowedMoves(side, from)}
	}
	v := &ValidationError{}
	checkText(v, "reason", strings.TrimSpace(m.Reason), m.To == EscalationRejected, maxEscalationNote,
		"Say why the service cannot take this on, so that the co-op can look elsewhere")
	checkText(v, "outcome", strings.TrimSpace(m.Outcome), m.To == EscalationCompleted, maxEscalationNote,
		"Say what was done, so that the co-op and the person know")
	return v.OrNil()
}

// EscalationTiming is when an unmet request of one urgency is due to be escalated: Wait after
// it was posted or Lead before it starts, whichever comes first.
type EscalationTiming struct {
	Wait, Lead time.Duration
}

// DefaultEscalationTimings are the design's defaults, by urgency.
var DefaultEscalationTimings = map[Urgency]EscalationTiming{
	Urgent:  {Wait: 2 * time.Hour, Lead: 12 * time.Hour},
	Soon:    {Wait: 24 * time.Hour, Lead: 24 * time.Hour},
	Routine: {Wait: 72 * time.Hour, Lead: 48 * time.Hour},
}

// EscalationDue is when an unmet request is due to be escalated, by the category's own timings
// where it has them (nil for the defaults).
func EscalationDue(r Request, own map[Urgency]EscalationTiming) time.Time {
	t, ok := own[r.Urgency]
	if !ok {
		t = DefaultEscalationTimings[r.Urgency]
	}
	byWait, byLead := r.CreatedAt.Add(t.Wait), r.Start.Add(-t.Lead)
	if byLead.Before(byWait) {
		return byLead
	}
	return byWait
}

// Response times a service is asked to answer within.
const (
	DefaultRespondWithin = 24 * time.Hour
	UrgentRespondWithin  = 4 * time.Hour
)

// RespondBy is when a service is asked to have acknowledged an escalation sent at sent.
func RespondBy(u Urgency, sent time.Time) time.Time {
	if u == Urgent {
		return sent.Add(UrgentRespondWithin)
	}
	return sent.Add(DefaultRespondWithin)
}
