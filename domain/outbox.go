package domain

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"time"
)

// Email is a message to a member, sent through the outbox if they want that kind (account emails
// are sent whatever they chose).
type Email struct {
	MemberID int64
	Kind     string            // what it is about, and the preference key: "match.proposed", "match.accepted", "match.cancelled", "match.reminder", "match.confirm", "check.due", "offer.still_available", "offer.paused"; or an account email, "account.set_password"
	Data     map[string]string // the template's values
	Link     string            // the path (starting with /) of the page to act on; the base URL is added when sending
}

// The kinds of email a member may get; each is also the name of its template and the key of the
// member's preference about it.
const (
	EmailMatchProposed       = "match.proposed"        // someone has been suggested to help you, or you to help someone
	EmailMatchAccepted       = "match.accepted"        // both people have said yes
	EmailMatchCancelled      = "match.cancelled"       // an agreed match will not go ahead
	EmailMatchReminder       = "match.reminder"        // agreed support is coming up
	EmailMatchConfirm        = "match.confirm"         // please say whether the support happened
	EmailCheckDue            = "check.due"             // a safeguarding check is due to be renewed
	EmailOfferStillAvailable = "offer.still_available" // please say whether an offer still stands
	EmailOfferPaused         = "offer.paused"          // an offer was paused because nobody said it still stands
)

// The values templates read from Email.Data; each is optional, and a template reads well without
// it. Values are plain text, already formatted for people (dates in the co-op's time zone).
const (
	EmailDataWhat   = "what"   // what the support is, like "a lift to the hospital" or a category's name
	EmailDataWhen   = "when"   // when, like "Thursday 5 March, 2pm to 5pm"
	EmailDataWho    = "who"    // the other person's first name
	EmailDataReason = "reason" // why, for a cancellation
	EmailDataCheck  = "check"  // the check's kind, like "DBS check"
	EmailDataDate   = "date"   // a date by which to act, like "1 April 2026"
)

// The values a formal service's escalation email reads from EmailPayload.Data. None is personal:
// the service's own name, and the escalation's number and status.
const (
	EmailDataService    = "service"    // the service's name, like "Riverside Adult Social Care"
	EmailDataEscalation = "escalation" // the escalation's number, like "42"
	EmailDataStatus     = "status"     // its status in plain words (EscalationStatus.Label), like "Accepted by the service"
)

// ServiceEmailKind reports whether kind is an email to a formal service that has no webhook: one
// per webhook event, of the same name. Such an email is for no member, so it is not on anyone's
// preferences page and cannot be refused: it is how the service learns of a need passed to it.
func ServiceEmailKind(kind string) bool { return slices.Contains(WebhookEvents, kind) }

// EmailKind is one kind of email, as members see it on their preferences page.
type EmailKind struct {
	Kind  string
	Label string // what the checkbox says
	Hint  string // more about it, beside the checkbox
}

// EmailKinds lists every kind of email, in the order the preferences page shows them.
var EmailKinds = []EmailKind{
	{EmailMatchProposed, "Suggested matches", "When someone is suggested to help you, or you are suggested to help someone."},
	{EmailMatchAccepted, "Agreed matches", "When both of you have said yes, with how to get in touch."},
	{EmailMatchCancelled, "Cancelled matches", "When agreed support will not go ahead."},
	{EmailMatchReminder, "Reminders", "The day before agreed support."},
	{EmailMatchConfirm, "Did it happen?", "Asking you to tell us whether agreed support took place."},
	{EmailCheckDue, "Checks to renew", "When a safeguarding check such as a DBS check is due to be renewed."},
	{EmailOfferStillAvailable, "Are you still offering?", "Asking whether an offer you made still stands."},
	{EmailOfferPaused, "Paused offers", "When we pause an offer of yours because we did not hear that it still stands."},
}

// KnownEmailKind reports whether kind is one of EmailKinds: the kinds members choose about.
func KnownEmailKind(kind string) bool {
	for _, k := range EmailKinds {
		if k.Kind == kind {
			return true
		}
	}
	return false
}

// EmailSetPassword carries a link to set (or reset) a password. It is an account email.
const EmailSetPassword = "account.set_password"

// AccountEmailKinds are the emails a person needs to get into their account. They are not
// optional: they are sent whatever the member chose about other emails, and are not on the
// preferences page, since turning them off would lock the member out.
var AccountEmailKinds = []string{EmailSetPassword}

// AccountEmailKind reports whether kind is one of AccountEmailKinds.
func AccountEmailKind(kind string) bool { return slices.Contains(AccountEmailKinds, kind) }

// Channel is how an outbox message is delivered.
type Channel string

// The channels. Webhooks tell formal services about escalations (see WebhookEvent).
const (
	ChannelEmail   Channel = "email"
	ChannelWebhook Channel = "webhook"
)

// OutboxStatus is where a message is in its delivery.
type OutboxStatus string

// The outbox statuses: pending until delivered, or failed after DeliveryGiveUp of trying.
const (
	OutboxPending   OutboxStatus = "pending"
	OutboxDelivered OutboxStatus = "delivered"
	OutboxFailed    OutboxStatus = "failed"
)

// DeliveryGiveUp is how long after a message was written the deliverer stops trying and tells the
// coordinators.
const DeliveryGiveUp = 24 * time.Hour

// NoticeDeliveryFailed is the kind of notice coordinators get when a message could not be delivered.
const NoticeDeliveryFailed = "outbox.failed"

// OutboxMessage is one message to deliver, as a deliverer claims it.
type OutboxMessage struct {
	ID             int64
	Channel        Channel
	IdempotencyKey string // the same on every attempt
	Kind           string // an email kind, or a webhook event (for a webhook or a service's email)
	MemberID       int64  // the member it is for; 0 for a webhook or a service's email
	ServiceID      int64  // the formal service a webhook (signed with its secret) or a service's email is for; 0 for a member's email
	Recipient      string // an email address, or a URL
	Payload        []byte // JSON; for an email, an EmailPayload; for a webhook, the body exactly as sent
	Status         OutboxStatus
	Attempts       int // attempts that failed so far
	NextAttemptAt  time.Time
	LastError      string
	CreatedAt      time.Time
}

// EmailPayload is the payload of an email in the outbox: what its template needs. It is rendered
// when it is sent, so that the wording and the base URL are those of the running platform.
type EmailPayload struct {
	Template string            `json:"template"` // the email's kind
	Name     string            `json:"name"`     // the member's name, as it was when written; "" for a service's email
	Data     map[string]string `json:"data,omitempty"`
	// Link is a path starting with / for a member's email, the base URL added when it is sent; a
	// service's email holds the absolute URL of the escalation in the services inbox, sent as it is.
	Link string `json:"link,omitempty"`
}

// EmailPreference is whether a member wants one kind of email.
type EmailPreference struct {
	EmailKind
	Wants bool
}

// PreferenceStore keeps members' choices about email. A kind with no stored choice is wanted.
type PreferenceStore interface {
	// EmailChoices returns the member's stored choices by kind.
	EmailChoices(ctx context.Context, memberID int64) (map[string]bool, error)
	// SetEmailChoices stores the member's choices for the kinds given, leaving the others.
	SetEmailChoices(ctx context.Context, memberID int64, wants map[string]bool, at time.Time) error
}

// AuditEmailPreferences is the audited action of a member changing which emails they get.
const AuditEmailPreferences = "email_preferences.changed"

// Preferences lets members choose which emails they get.
type Preferences struct {
	store PreferenceStore
	audit *Audit
	clock Clock
}

// NewPreferences returns the preferences service.
func NewPreferences(store PreferenceStore, audit *Audit, clock Clock) *Preferences {
	return &Preferences{store: store, audit: audit, clock: clock}
}

// EmailPreferences lists whether the member wants each kind of email, in EmailKinds order.
// Only the member themself may read them.
func (p *Preferences) EmailPreferences(ctx context.Context, by Actor, memberID int64) ([]EmailPreference, error) {
	if by.ID == 0 || by.ID != memberID {
		return nil, ErrForbidden
	}
	choices, err := p.store.EmailChoices(ctx, memberID)
	if err != nil {
		return nil, fmt.Errorf("email preferences of member %d: %w", memberID, err)
	}
	out := make([]EmailPreference, len(EmailKinds))
	for i, k := range EmailKinds {
		wants, chosen := choices[k.Kind]
		out[i] = EmailPreference{EmailKind: k, Wants: wants || !chosen}
	}
	return out, nil
}

// SetEmailPreferences records the member's choices for the kinds given (the others stay as they
// were) and returns them all. Only the member themself may set them: it is their inbox.
func (p *Preferences) SetEmailPreferences(ctx context.Context, by Actor, memberID int64, wants map[string]bool) ([]EmailPreference, error) {
	if by.ID == 0 || by.ID != memberID {
		return nil, ErrForbidden
	}
	v := &ValidationError{}
	detail := map[string]string{}
	for _, kind := range slices.Sorted(maps.Keys(wants)) {
		w := wants[kind]
		if !KnownEmailKind(kind) {
			v.Add(kind, "There is no kind of email called %q", kind)
			continue
		}
		detail[kind] = fmt.Sprint(w)
	}
	if err := v.OrNil(); err != nil {
		return nil, err
	}
	if err := p.store.SetEmailChoices(ctx, memberID, wants, p.clock.now()); err != nil {
		return nil, fmt.Errorf("set email preferences of member %d: %w", memberID, err)
	}
	if err := p.audit.Record(ctx, by, AuditEmailPreferences, "member", memberID, detail); err != nil {
		return nil, err
	}
	return p.EmailPreferences(ctx, by, memberID)
}
