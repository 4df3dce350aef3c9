package domain

import (
	"context"
	"fmt"
	"time"
)

// Audited actions.
const (
	AuditSignIn              = "signin.succeeded"
	AuditSignInFailed        = "signin.failed"
	AuditSignOut             = "signout"
	AuditPasswordChanged     = "password.changed"
	AuditApplicationReceived = "application.received"
	AuditApplicationApproved = "application.approved"
	AuditApplicationDeclined = "application.declined"
	AuditMemberAdded         = "member.added"
	AuditRoleChanged         = "member.role_changed"
	AuditStatusChanged       = "member.status_changed"
	AuditTokenCreated        = "token.created"
	AuditAreaChanged         = "area.changed"
	AuditCategoryChanged     = "category.changed"
)

// AuditEvent records who did what to which record, when and from where.
type AuditEvent struct {
	ID          int64
	At          time.Time
	ActorID     int64  // 0 for a visitor or the system
	ActorName   string // kept so that the log reads well after a member leaves
	Action      string
	SubjectType string // "member", "area", "category", ...
	SubjectID   int64
	IP          string
	RequestID   string
	Detail      map[string]string
}

// AuditQuery selects audit events, newest first.
type AuditQuery struct {
	Action      string
	SubjectType string
	SubjectID   int64
	Page        PageQuery // After is an event id: events older than it
}

// AuditStore keeps the audit log.
type AuditStore interface {
	RecordAudit(ctx context.Context, e AuditEvent) error
	ListAudit(ctx context.Context, q AuditQuery) ([]AuditEvent, error)
}

// Audit writes and reads the audit log.
type Audit struct {
	store AuditStore
	clock Clock
}

// NewAudit returns the audit log service.
func NewAudit(store AuditStore, clock Clock) *Audit { return &Audit{store: store, clock: clock} }

// Record writes one event done by an actor.
func (a *Audit) Record(ctx context.Context, by Actor, action, subjectType string, subjectID int64, detail map[string]string) error {
	return a.store.RecordAudit(ctx, AuditEvent{
		At: a.clock.now(), ActorID: by.ID, ActorName: by.Name, Action: action,
		SubjectType: subjectType, SubjectID: subjectID, IP: by.IP, RequestID: by.RequestID, Detail: detail,
	})
}

// List returns a page of events, newest first. Coordinators only.
func (a *Audit) List(ctx context.Context, by Actor, q AuditQuery) (Page[AuditEvent], error) {
	if err := requireCoordinator(by); err != nil {
		return Page[AuditEvent]{}, err
	}
	q.Page = q.Page.Normalised()
	page := q.Page
	q.Page.Limit++
	rows, err := a.store.ListAudit(ctx, q)
	if err != nil {
		return Page[AuditEvent]{}, fmt.Errorf("list audit events: %w", err)
	}
	return PageOf(rows, page, func(e AuditEvent) int64 { return e.ID }), nil
}
