package domain

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// The answers to an escalation: the service acknowledges, accepts, rejects, holds, starts,
// completes; the co-op sends a draft, or cancels what it sent. Each change is written to the
// history with who and when, the service is told (webhook or email), the requester is told in
// words, and coordinators are told of the service's answers.

// EscalationChanger changes escalations and lists a service's inbox.
type EscalationChanger interface {
	// ChangeEscalation applies u to the escalation only while it is still in u.From with
	// u.FromBusiness (ErrConflict otherwise), and adds change to its history.
	ChangeEscalation(ctx context.Context, u EscalationUpdate, change EscalationChange, byID int64) error
	// InboxEscalations lists the escalations sent to the services: the open ones (those not yet
	// acknowledged first, soonest respond-by first; then the rest, latest change first), or the
	// ended ones, latest change first.
	InboxEscalations(ctx context.Context, serviceIDs []int64, open bool, limit int) ([]InboxItem, error)
	// WithdrawEscalationConsent records that the requester withdrew their consent to pass the
	// request on, at a time, if they had given it (ErrConflict otherwise).
	WithdrawEscalationConsent(ctx context.Context, requestID int64, at time.Time) error
	// LockRequest reads a request and holds it (FOR UPDATE on PostgreSQL) until the transaction
	// ends, so that consent, status and escalations change one at a time.
	LockRequest(ctx context.Context, id int64) (Request, error)
	// WithdrawProposals cancels the request's proposed and approved matches, with the reason.
	WithdrawProposals(ctx context.Context, scope ProposalScope, reason string, at time.Time) ([]WithdrawnMatch, error)
	// Setting reads one of the co-op's settings, and whether it is set; PutSetting sets it.
	Setting(ctx context.Context, key string) (string, bool, error)
	PutSetting(ctx context.Context, key, value string, at time.Time) error
}

// EscalationUpdate is one change to an escalation's row.
type EscalationUpdate struct {
	ID             int64
	From           EscalationStatus
	FromBusiness   string
	Status         EscalationStatus
	BusinessStatus string
	StatusReason   string    // kept as it was when empty
	Outcome        string    // kept as it was when empty
	SentAt         time.Time // kept as it was when zero
	RespondBy      time.Time // kept as it was when zero
	At             time.Time
}

// InboxItem is an escalation as a service's inbox lists it: the need in brief, nothing about the
// person.
type InboxItem struct {
	EscalationListing
	CategoryName string
	Urgency      Urgency
	Start, End   time.Time
	AreaName     string
}

// New reports whether the service has not yet acknowledged the escalation.
func (i InboxItem) New() bool { return i.Status == EscalationRequested && i.BusinessStatus == "" }

// Overdue reports whether the service has not acknowledged it by the time asked.
func (i InboxItem) Overdue(now time.Time) bool {
	return i.New() && !i.RespondBy.IsZero() && now.After(i.RespondBy)
}

// Inbox is what a services user sees: new escalations first, then the open ones, then the
// recently ended ones.
type Inbox struct {
	New, Open, Ended []InboxItem
}

// inboxEnded is how many ended escalations the inbox lists.
const inboxEnded = 50

// Audited and notified escalation changes.
const (
	AuditEscalationChanged   = "escalation.changed"
	AuditInboxViewed         = "escalation.inbox_viewed"
	NotifyEscalationChanged  = "request.escalation_changed"
	NoticeEscalationAnswered = "escalation.answered"
)

// Inbox lists the escalations sent to the services the actor answers for.
func (e *Escalations) Inbox(ctx context.Context, by Actor) (Inbox, error) {
	if by.Role != RoleServices {
		return Inbox{}, ErrForbidden
	}
	var in Inbox
	if len(by.Services) == 0 {
		return in, nil
	}
	open, err := e.store.InboxEscalations(ctx, by.Services, true, 0)
	if err != nil {
		return in, fmt.Errorf("inbox: %w", err)
	}
	for _, i := range open {
		if i.New() {
			in.New = append(in.New, i)
		} else {
			in.Open = append(in.Open, i)
		}
	}
	if in.Ended, err = e.store.InboxEscalations(ctx, by.Services, false, inboxEnded); err != nil {
		return in, fmt.Errorf("inbox: %w", err)
	}
	// The list names needs, not people, but who looked at what, when, is kept all the same.
	err = e.audit.Record(ctx, by, AuditInboxViewed, "member", by.ID, map[string]string{"new": fmt.Sprint(len(in.New)),
		"open": fmt.Sprint(len(in.Open)), "ended": fmt.Sprint(len(in.Ended))})
	return in, err
}

// canRead reports whether the actor may read the escalation: coordinators any, a service's
// people and tokens those sent to it (never a draft, which has not left the co-op).
func canRead(by Actor, l EscalationListing) bool {
	if by.Role.Coordinates() {
		return true
	}
	return answersFor(by, l.ServiceID) && l.Status != EscalationDraft
}

// readable reads an escalation the actor may see; any other is not found, so that a service
// cannot learn which ids exist.
func (e *Escalations) readable(ctx context.Context, by Actor, id int64) (EscalationListing, error) {
	if !by.Role.Coordinates() && by.Role != RoleServices {
		return EscalationListing{}, ErrForbidden
	}
	l, err := e.reader.Escalation(ctx, id)
	if err != nil {
		return EscalationListing{}, fmt.Errorf("escalation %d: %w", id, err)
	}
	if !canRead(by, l) {
		return EscalationListing{}, fmt.Errorf("escalation %d: %w", id, ErrNotFound)
	}
	return l, nil
}

// Get reads one escalation for someone who may see it: coordinators any, a service its own.
func (e *Escalations) Get(ctx context.Context, by Actor, id int64) (EscalationListing, error) {
	return e.readable(ctx, by, id)
}

// sideOf is the side the actor changes escalations for.
func sideOf(by Actor) Side {
	if by.Role.Coordinates() {
		return SideCoop
	}
	return SideService
}

// Acknowledge records that the service has seen an escalation: its business status, not a
// status of its own. Acknowledging again changes nothing.
func (e *Escalations) Acknowledge(ctx context.Context, by Actor, id int64) (EscalationListing, error) {
	l, err := e.readable(ctx, by, id)
	if err != nil {
		return EscalationListing{}, err
	}
	if by.Role != RoleServices {
		return EscalationListing{}, &ConflictError{Message: "Only the service acknowledges an escalation."}
	}
	if l.BusinessStatus == BusinessAcknowledged {
		return l, nil
	}
	if !l.Status.Open() {
		return EscalationListing{}, &ConflictError{Message: "This escalation has ended (" + strings.ToLower(l.Status.Label()) + "), so there is nothing to acknowledge."}
	}
	return e.change(ctx, by, l, EscalationMove{To: l.Status}, changeHow{ack: true})
}

// Move changes an escalation's status: the service's answers for its people and tokens, the
// co-op's (sending a draft, cancelling) for coordinators. A move the life cycle does not allow
// is a conflict naming the allowed ones.
func (e *Escalations) Move(ctx context.Context, by Actor, id int64, m EscalationMove) (EscalationListing, error) {
	l, err := e.readable(ctx, by, id)
	if err != nil {
		return EscalationListing{}, err
	}
	m.Reason, m.Outcome = strings.TrimSpace(m.Reason), strings.TrimSpace(m.Outcome)
	if !slices.Contains(EscalationStatuses, m.To) {
		return EscalationListing{}, Invalid("status", "Use one of %s", strings.Join(statusNames(AllowedMoves(sideOf(by), l.Status)), ", "))
	}
	if err := CheckMove(sideOf(by), l.Status, m); err != nil {
		return EscalationListing{}, err
	}
	return e.change(ctx, by, l, m, changeHow{})
}

func statusNames(ss []EscalationStatus) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = string(s)
	}
	if len(out) == 0 {
		return []string{"nothing: it has ended"}
	}
	return out
}

// changeHow says what kind of change it is.
type changeHow struct {
	ack bool // the service acknowledges: only the business status changes
	// forCoop: the co-op cancels because of what a member did (agreed a neighbour, withdrew
	// consent); the history the service reads names the co-op, not the member.
	forCoop bool
}

// change writes one checked change and everything that follows from it, in one transaction
// (the caller's, when there is one).
func (e *Escalations) change(ctx context.Context, by Actor, l EscalationListing, m EscalationMove, how changeHow) (EscalationListing, error) {
	side, ack := sideOf(by), how.ack
	who, whoID := by.Name, by.ID
	if how.forCoop {
		side, who, whoID = SideCoop, "the co-op", 0
	}
	now := e.clock.now()
	svc, err := e.reader.Service(ctx, l.ServiceID)
	if err != nil {
		return EscalationListing{}, err
	}
	var after EscalationListing
	err = e.tx.Transact(ctx, func(ctx context.Context) error {
		// The request first, as every change to a request and its escalations takes them.
		r, err := e.store.LockRequest(ctx, l.RequestID)
		if err != nil {
			return err
		}
		u := EscalationUpdate{ID: l.ID, From: l.Status, FromBusiness: l.BusinessStatus, Status: m.To, BusinessStatus: l.BusinessStatus, At: now}
		if side == SideService {
			u.BusinessStatus = BusinessAcknowledged // any answer shows they have seen it
		}
		note := m.Reason
		switch m.To {
		case EscalationRejected, EscalationCancelled, EscalationFailed, EscalationOnHold, EscalationEnteredInError:
			u.StatusReason = m.Reason
		case EscalationCompleted:
			u.Outcome, note = m.Outcome, m.Outcome
		case EscalationRequested:
			if l.Status == EscalationDraft {
				u.SentAt, u.RespondBy = now, RespondBy(r.Urgency, now)
			}
		}
		after = l
		after.Status, after.BusinessStatus, after.UpdatedAt = u.Status, u.BusinessStatus, now
		if !u.SentAt.IsZero() {
			after.SentAt, after.RespondBy = u.SentAt, u.RespondBy
		}
		if u.StatusReason != "" {
			after.StatusReason = u.StatusReason
		}
		if u.Outcome != "" {
			after.Outcome = u.Outcome
		}
		change := EscalationChange{At: now, Status: u.Status, BusinessStatus: u.BusinessStatus, By: who, Side: side, Note: note}
		if err := e.store.ChangeEscalation(ctx, u, change, whoID); err != nil {
			return err
		}
		// A service taking the need on: the community stops looking, and suggestions made
		// meanwhile are withdrawn, so that nobody agrees a neighbour over the service's head.
		if side == SideService && (u.Status == EscalationAccepted || u.Status == EscalationInProgress) {
			if err := withdraw(ctx, e.store, ProposalScope{RequestIDs: []int64{r.ID}}, svc.Name+" has taken this on", now); err != nil {
				return err
			}
		}
		if err := e.settleRequest(ctx, r, after, now); err != nil {
			return err
		}
		detail := map[string]string{"from": string(l.Status), "to": string(u.Status), "side": string(side)}
		if ack {
			detail["business_status"] = BusinessAcknowledged
		}
		if err := e.audit.Record(ctx, by, AuditEscalationChanged, "escalation", l.ID, detail); err != nil {
			return err
		}
		if l.Status == EscalationDraft && u.Status == EscalationRequested {
			return e.sent(ctx, r, svc, after.Escalation, now)
		}
		event := WebhookEscalationUpdated
		if side == SideCoop && (u.Status == EscalationCancelled || u.Status == EscalationEnteredInError) {
			event = WebhookEscalationCancelled
		}
		if l.Status != EscalationDraft {
			if err := e.tellService(ctx, svc, after.Escalation, event, now, side == SideService); err != nil {
				return err
			}
		}
		return e.tellPeople(ctx, r, svc, after, side, ack, now)
	})
	if err != nil {
		if errors.Is(err, ErrConflict) {
			return EscalationListing{}, &ConflictError{Message: "Someone changed this escalation a moment ago; reload it to see where it is now."}
		}
		return EscalationListing{}, fmt.Errorf("change escalation %d: %w", l.ID, err)
	}
	return after, nil
}

// settleRequest moves the request as its escalation ends: completed by the service, the need is
// met; ended any other way, with no other escalation open, the request is open again, for the
// community and for a coordinator to send to the next service.
func (e *Escalations) settleRequest(ctx context.Context, r Request, after EscalationListing, now time.Time) error {
	if after.Status.Open() || r.Status != RequestEscalated {
		return nil
	}
	if after.Status == EscalationCompleted {
		return e.store.MoveRequest(ctx, r.ID, RequestFulfilled, RequestEscalated, now)
	}
	others, err := e.store.RequestEscalations(ctx, r.ID)
	if err != nil {
		return err
	}
	for _, o := range others {
		if o.ID != after.ID && o.Status.Open() {
			return nil
		}
	}
	if !r.Start.After(now) {
		return nil // its time has passed: it stays as it was
	}
	return e.store.MoveRequest(ctx, r.ID, RequestOpen, RequestEscalated, now)
}

// tellPeople tells the requester of the change in words, and coordinators of the service's
// answers.
func (e *Escalations) tellPeople(ctx context.Context, r Request, svc Service, after EscalationListing, side Side, ack bool, now time.Time) error {
	when := r.Start.In(e.loc).Format("Monday 2 January")
	var msg string
	switch {
	case ack:
		msg = fmt.Sprintf("%s has seen your request for %s. We will tell you when they answer.", svc.Name, when)
	case after.Status == EscalationAccepted:
		msg = fmt.Sprintf("%s has accepted your request for %s.", svc.Name, when)
	case after.Status == EscalationRejected:
		msg = fmt.Sprintf("%s cannot take on your request for %s. A coordinator will look for another way to help.", svc.Name, when)
	case after.Status == EscalationInProgress:
		msg = fmt.Sprintf("%s has started on your request for %s.", svc.Name, when)
	case after.Status == EscalationOnHold:
		msg = fmt.Sprintf("%s has put your request for %s on hold.", svc.Name, when)
	case after.Status == EscalationCompleted:
		msg = fmt.Sprintf("%s has completed your request for %s: %s", svc.Name, when, after.Outcome)
	case after.Status == EscalationFailed:
		msg = fmt.Sprintf("%s could not complete your request for %s. A coordinator will be in touch.", svc.Name, when)
	case after.Status == EscalationCancelled && side == SideService:
		msg = fmt.Sprintf("%s has withdrawn from your request for %s. A coordinator will look for another way to help.", svc.Name, when)
	case after.Status == EscalationCancelled && after.StatusReason == "":
		msg = fmt.Sprintf("Your request for %s is no longer with %s.", when, svc.Name)
	case after.Status == EscalationCancelled:
		msg = fmt.Sprintf("Your request for %s is no longer with %s: %s", when, svc.Name, after.StatusReason)
	case after.Status == EscalationEnteredInError:
		msg = fmt.Sprintf("Your request for %s was passed to %s by mistake, and has been taken back.", when, svc.Name)
	}
	if msg != "" {
		if err := e.store.AddNotifications(ctx, []Notification{{MemberID: r.MemberID, Kind: NotifyEscalationChanged, CreatedAt: now,
			Link: fmt.Sprintf("/requests/%d", r.ID), Message: msg}}); err != nil {
			return err
		}
	}
	if side != SideService {
		return nil
	}
	notice := fmt.Sprintf("%s: request %d is now %s", svc.Name, r.ID, strings.ToLower(after.Status.Label()))
	switch {
	case ack:
		notice = fmt.Sprintf("%s has seen request %d.", svc.Name, r.ID)
	case after.StatusReason != "" && (after.Status == EscalationRejected || after.Status == EscalationFailed || after.Status == EscalationCancelled):
		notice += ", because: " + after.StatusReason + ". You can send it to the next service."
	default:
		notice += "."
	}
	return e.store.AddNotice(ctx, &Notice{Kind: NoticeEscalationAnswered, Message: notice, Link: fmt.Sprintf("/requests/%d", r.ID), CreatedAt: now})
}

// CancelOpen cancels a request's open escalations, with the reason, and tells each service and
// the requester: the community found a helper after all, or the person withdrew their consent.
// It runs in the caller's transaction when there is one. An escalated request is open again
// (when its time is still ahead); a request the caller has moved on (matched) stays as it is.
func (e *Escalations) CancelOpen(ctx context.Context, by Actor, requestID int64, reason string) (int, error) {
	ls, err := e.store.RequestEscalations(ctx, requestID)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, l := range ls {
		if !l.Status.Open() {
			continue
		}
		m := EscalationMove{To: EscalationCancelled, Reason: reason}
		if _, err := e.change(ctx, by, l, m, changeHow{forCoop: true}); err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}

// AuditConsentWithdrawn records a requester withdrawing their consent to pass a need on.
const AuditConsentWithdrawn = "request.escalation_consent_withdrawn"

// WithdrawConsent records that the person no longer agrees to their need being passed to formal
// services, whatever the request's status: its pending escalations are cancelled and their
// services told, and an escalated request is open again for the community. Its member or a
// coordinator (recording what the person said) only.
func (e *Escalations) WithdrawConsent(ctx context.Context, by Actor, requestID int64) (int, error) {
	r, err := e.reader.Request(ctx, requestID)
	if err != nil {
		return 0, fmt.Errorf("request %d: %w", requestID, err)
	}
	if !owns(by, r.MemberID) {
		return 0, ErrNotFound
	}
	if !r.ConsentToEscalate() {
		return 0, &ConflictError{Message: "There is no agreement to withdraw: this request is not to be passed to formal services."}
	}
	now := e.clock.now()
	n := 0
	err = e.tx.Transact(ctx, func(ctx context.Context) error {
		if r, err = e.store.LockRequest(ctx, r.ID); err != nil {
			return err
		}
		if err := e.store.WithdrawEscalationConsent(ctx, r.ID, now); err != nil {
			return err
		}
		if n, err = e.CancelOpen(ctx, by, r.ID, "The person withdrew their agreement to their need being passed on."); err != nil {
			return err
		}
		// Cancelling each escalation opened the request again for the community.
		return e.audit.Record(ctx, by, AuditConsentWithdrawn, "request", r.ID, map[string]string{"cancelled": fmt.Sprint(n)})
	})
	if err != nil {
		if errors.Is(err, ErrConflict) {
			return 0, &ConflictError{Message: "This request changed a moment ago; look at it again."}
		}
		return 0, fmt.Errorf("withdraw consent on request %d: %w", requestID, err)
	}
	return n, nil
}

// settingReview is the co-op's setting that holds new escalations for a coordinator's review.
const settingReview = "escalation_review"

// AuditEscalationReview records a coordinator changing that setting.
const AuditEscalationReview = "setting.escalation_review"

// Review reports whether the escalation step holds what it would send as drafts for a
// coordinator to send: the co-op's setting, else the platform's default.
func (e *Escalations) Review(ctx context.Context) (bool, error) {
	v, ok, err := e.store.Setting(ctx, settingReview)
	if err != nil || !ok {
		return e.review, err
	}
	return v == "yes", nil
}

// SetReview chooses whether the escalation step sends at once or holds drafts for review.
// Coordinators only.
func (e *Escalations) SetReview(ctx context.Context, by Actor, on bool) error {
	if err := requireCoordinator(by); err != nil {
		return err
	}
	value := "no"
	if on {
		value = "yes"
	}
	return e.tx.Transact(ctx, func(ctx context.Context) error {
		if err := e.store.PutSetting(ctx, settingReview, value, e.clock.now()); err != nil {
			return err
		}
		return e.audit.Record(ctx, by, AuditEscalationReview, "setting", 0, map[string]string{"review": value})
	})
}
