package domain

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// The escalation step: requests the community has not met by their due time are passed, with
// their requester's consent, to the formal service that takes them on (or the co-op's fallback),
// and coordinators are told of those that cannot leave.

// Escalation is one request passed to one formal service.
type Escalation struct {
	ID             int64
	RequestID      int64
	ServiceID      int64
	Status         EscalationStatus
	BusinessStatus string
	Reason         string
	StatusReason   string
	Outcome        string
	RespondBy      time.Time // zero while a draft
	SentAt         time.Time // zero while a draft
	CreatedBy      int64     // 0 for the matcher
	CreatedAt      time.Time
	UpdatedAt      time.Time
}

// EscalationStore keeps escalations and finds the requests due for one.
type EscalationStore interface {
	EscalationChanger
	// DueRequests lists open requests still ahead of now, with no live match, never escalated
	// and never reported as unable to leave, that are due by their category's own timings, or
	// by the timings given for categories without (the soonest first).
	DueRequests(ctx context.Context, now time.Time, timings map[Urgency]EscalationTiming, limit int) ([]Request, error)
	// MarkEscalationAlerted records that coordinators were told the requests cannot be passed on.
	MarkEscalationAlerted(ctx context.Context, requestIDs []int64, at time.Time) error
	// CreateEscalation adds an escalation and the first entry of its history; ErrConflict when
	// the request already has an open escalation, or was passed to that service before.
	CreateEscalation(ctx context.Context, e *Escalation, first EscalationChange, byID int64) error
	MoveRequest(ctx context.Context, id int64, to, from RequestStatus, at time.Time) error
	EnqueueWebhook(ctx context.Context, now time.Time, to string, ev WebhookEvent) error
	AddNotice(ctx context.Context, n *Notice) error
	AddNotifications(ctx context.Context, ns []Notification) error
	// Unanswered lists escalations sent and still requested (not acknowledged) whose respond-by
	// time has passed, not yet reported; MarkOverdueAlerted records that they were.
	Unanswered(ctx context.Context, now time.Time) ([]EscalationListing, error)
	MarkOverdueAlerted(ctx context.Context, ids []int64, at time.Time) error
	RequestEscalations(ctx context.Context, requestID int64) ([]EscalationListing, error)
	// EnqueueServiceEmail writes the email that tells a service with no webhook of ev at its
	// address to, linking to ev.URL (the escalation in the services inbox) and nothing personal.
	EnqueueServiceEmail(ctx context.Context, now time.Time, to string, ev WebhookEvent) error
}

// EscalationListing is an escalation with the name of its service.
type EscalationListing struct {
	Escalation
	ServiceName string
}

// Story tells an escalation in plain words for the requester and coordinators: "Passed to
// Riverside Adult Social Care on 3 March; accepted on 4 March".
func (l EscalationListing) Story(loc *time.Location) string {
	day := func(t time.Time) string { return t.In(loc).Format("2 January") }
	if l.Status == EscalationDraft {
		return "Ready to pass to " + l.ServiceName + ", waiting for a coordinator to send it"
	}
	s := "Passed to " + l.ServiceName + " on " + day(l.SentAt)
	if l.BusinessStatus == BusinessAcknowledged && l.Status == EscalationRequested {
		s += "; they have seen it"
	}
	if l.Status != EscalationRequested {
		s += "; " + strings.ToLower(l.Status.Label()[:1]) + l.Status.Label()[1:] + " on " + day(l.UpdatedAt)
	}
	return s
}

// ForRequest lists a request's escalations for its member or a coordinator.
func (e *Escalations) ForRequest(ctx context.Context, by Actor, r Request) ([]EscalationListing, error) {
	if !owns(by, r.MemberID) {
		return nil, ErrForbidden
	}
	out, err := e.store.RequestEscalations(ctx, r.ID)
	if err != nil {
		return nil, fmt.Errorf("escalations of request %d: %w", r.ID, err)
	}
	return out, nil
}

// Location is the co-op's time zone, for wording dates.
func (e *Escalations) Location() *time.Location { return e.loc }

// Router finds the services that take a need on (the directory).
type Router interface {
	Route(ctx context.Context, q RouteQuery) (Routing, error)
}

// EscalationCounts says what one escalation step did.
type EscalationCounts struct {
	Sent      int // passed to a service
	Drafted   int // held for a coordinator's review
	NoConsent int // due, but the requester did not agree to pass it on: coordinators told
	NoService int // due, with consent, but no service takes it and no fallback: coordinators told
	Emailed   int // of those sent, to a service with no webhook: told by email
	// Unanswered: sent escalations not acknowledged by their respond-by time, reported.
	Unanswered int
}

// Escalations passes unmet needs to formal services.
type Escalations struct {
	store     EscalationStore
	reader    EscalationReader
	router    Router
	catalogue CatalogueStore
	tx        Transactor
	audit     *Audit
	clock     Clock
	loc       *time.Location
	baseURL   string
	// review holds new escalations as drafts for a coordinator to send (the co-op's setting).
	review bool
}

// NewEscalations returns the escalation service; baseURL is where services fetch escalations
// (COOP_BASE_URL), review whether escalations wait for a coordinator.
func NewEscalations(store EscalationStore, reader EscalationReader, router Router, catalogue CatalogueStore, tx Transactor, audit *Audit, clock Clock,
	loc *time.Location, baseURL string, review bool) *Escalations {
	return &Escalations{store: store, reader: reader, router: router, catalogue: catalogue, tx: tx, audit: audit, clock: clock, loc: loc,
		baseURL: strings.TrimSuffix(baseURL, "/"), review: review}
}

// Audited escalation actions.
const (
	AuditEscalationCreated = "escalation.created"
	NoticeEscalation       = "escalation"
	NotifyEscalated        = "request.escalated"
	escalationBatch        = 500
	escalationsPage        = "/coordinate/escalations"
)

// EscalateDue runs the escalation step at the service's now.
func (e *Escalations) EscalateDue(ctx context.Context) (EscalationCounts, error) {
	var c EscalationCounts
	now := e.clock.now()
	due, err := e.store.DueRequests(ctx, now, DefaultEscalationTimings, escalationBatch)
	if err != nil {
		return c, fmt.Errorf("find requests due for escalation: %w", err)
	}
	review, err := e.Review(ctx)
	if err != nil {
		return c, err
	}
	var noConsent, noService []int64
	for _, r := range due {
		if !r.ConsentToEscalate() {
			noConsent = append(noConsent, r.ID)
			continue
		}
		cat, err := e.catalogue.Category(ctx, r.CategoryID)
		if err != nil {
			return c, err
		}
		svc, ok, err := e.route(ctx, r, cat)
		if err != nil {
			return c, err
		}
		if !ok {
			noService = append(noService, r.ID)
			continue
		}
		due := EscalationDue(r, cat.EscalationTimings())
		reason := "No helper was found in the community by " + due.In(e.loc).Format("15:04 on Monday 2 January") + "."
		_, sent, err := e.escalate(ctx, r, svc, now, SystemActor("the matcher"), reason, !review)
		switch {
		case errors.Is(err, ErrConflict):
			continue // escalated meanwhile, by a coordinator or another process
		case err != nil:
			return c, fmt.Errorf("escalate request %d: %w", r.ID, err)
		case !sent:
			c.Drafted++
		case svc.WebhookURL == "":
			c.Sent++
			c.Emailed++
		default:
			c.Sent++
		}
	}
	c.NoConsent, c.NoService = len(noConsent), len(noService)
	if len(noConsent)+len(noService) > 0 {
		if err := e.store.MarkEscalationAlerted(ctx, append(append([]int64{}, noConsent...), noService...), now); err != nil {
			return c, err
		}
	}
	late, err := e.store.Unanswered(ctx, now)
	if err != nil {
		return c, fmt.Errorf("find unanswered escalations: %w", err)
	}
	if len(late) > 0 {
		ids := make([]int64, len(late))
		var names []string
		for i, l := range late {
			ids[i] = l.ID
			names = append(names, fmt.Sprintf("%s (request %d)", l.ServiceName, l.RequestID))
		}
		if err := e.store.MarkOverdueAlerted(ctx, ids, now); err != nil {
			return c, err
		}
		c.Unanswered = len(late)
		unanswered := fmt.Sprintf("No answer by the time asked from: %s. You can send each to the next service.", strings.Join(names, ", "))
		if err := e.store.AddNotice(ctx, &Notice{Kind: NoticeEscalation, Message: unanswered, Link: escalationsPage, CreatedAt: now}); err != nil {
			return c, err
		}
	}
	if msg := escalationNotice(c); msg != "" {
		if err := e.store.AddNotice(ctx, &Notice{Kind: NoticeEscalation, Message: msg, Link: escalationsPage, CreatedAt: now}); err != nil {
			return c, err
		}
	}
	return c, nil
}

// route picks where a request goes: the highest-priority service that takes it on, else the
// fallback.
func (e *Escalations) route(ctx context.Context, r Request, cat Category) (Service, bool, error) {
	routing, err := e.router.Route(ctx, RouteQuery{Category: cat, AreaID: r.AreaID})
	if err != nil {
		return Service{}, false, err
	}
	if len(routing.Services) > 0 {
		return routing.Services[0], true, nil
	}
	if routing.Fallback != nil {
		return *routing.Fallback, true, nil
	}
	return Service{}, false, nil
}

// escalate writes the escalation, its history, the request's new status, the message to the
// service and the requester's notification in one transaction; sent is false for a draft.
func (e *Escalations) escalate(ctx context.Context, r Request, svc Service, now time.Time, by Actor, reason string, sent bool) (Escalation, bool, error) {
	esc := Escalation{RequestID: r.ID, ServiceID: svc.ID, Status: EscalationDraft, CreatedAt: now, UpdatedAt: now, Reason: reason, CreatedBy: by.ID}
	if sent {
		esc.Status, esc.SentAt, esc.RespondBy = EscalationRequested, now, RespondBy(r.Urgency, now)
	}
	err := e.tx.Transact(ctx, func(ctx context.Context) error {
		// Read the request again, held: consent withdrawn or the request met since it was read
		// means nothing leaves.
		r, err := e.store.LockRequest(ctx, r.ID)
		if err != nil {
			return err
		}
		if !r.ConsentToEscalate() || (r.Status != RequestOpen && r.Status != RequestEscalated) {
			return fmt.Errorf("request %d changed before it was passed on: %w", r.ID, ErrConflict)
		}
		first := EscalationChange{At: now, Status: esc.Status, By: by.Name, Side: SideCoop, Note: esc.Reason}
		if err := e.store.CreateEscalation(ctx, &esc, first, by.ID); err != nil {
			return err
		}
		// A request already escalated (its last service said no) stays escalated.
		if r.Status == RequestOpen {
			if err := e.store.MoveRequest(ctx, r.ID, RequestEscalated, RequestOpen, now); err != nil {
				return err
			}
		}
		if err := e.audit.Record(ctx, by, AuditEscalationCreated, "escalation", esc.ID,
			map[string]string{"request": fmt.Sprint(r.ID), "service": svc.Name, "status": string(esc.Status)}); err != nil {
			return err
		}
		if !sent {
			return nil
		}
		return e.sent(ctx, r, svc, esc, now)
	})
	return esc, sent, err
}

// sent tells the service of an escalation just sent, and its requester that it was passed on.
func (e *Escalations) sent(ctx context.Context, r Request, svc Service, esc Escalation, now time.Time) error {
	if err := e.tellService(ctx, svc, esc, WebhookEscalationRequested, now, false); err != nil {
		return err
	}
	when := r.Start.In(e.loc).Format("Monday 2 January, 15:04")
	return e.store.AddNotifications(ctx, []Notification{{MemberID: r.MemberID, Kind: NotifyEscalated, CreatedAt: now,
		Link:    fmt.Sprintf("/requests/%d", r.ID),
		Message: fmt.Sprintf("No neighbour was found in time for your request on %s, so, as you agreed, it has been passed to %s. We will tell you when they answer.", when, svc.Name)}})
}

// tellService writes the message that tells a service of an event about one of its escalations:
// a signed webhook when it has one, else an email with a link to its inbox. Neither carries
// personal data. A service's own answers reach its system by webhook (so that it can keep in
// step with what its people did in the inbox) but are not emailed back to it.
func (e *Escalations) tellService(ctx context.Context, svc Service, esc Escalation, event string, now time.Time, ownAnswer bool) error {
	ev := WebhookEvent{ServiceID: svc.ID, Event: event, EscalationID: esc.ID, Status: string(esc.Status),
		URL: e.baseURL + fmt.Sprintf("/api/v1/escalations/%d", esc.ID)}
	switch {
	case svc.WebhookURL != "":
		return e.store.EnqueueWebhook(ctx, now, svc.WebhookURL, ev)
	case svc.Email != "" && !ownAnswer:
		ev.URL = e.baseURL + fmt.Sprintf("/inbox/%d", esc.ID)
		return e.store.EnqueueServiceEmail(ctx, now, svc.Email, ev)
	}
	return nil
}

// escalationNotice tells coordinators what the step could not do on its own.
func escalationNotice(c EscalationCounts) string {
	var parts []string
	if c.NoConsent > 0 {
		parts = append(parts, fmt.Sprintf("%d %s due to be passed to a formal service, but the person did not agree to that: find a helper or contact them.",
			c.NoConsent, pluralWord(c.NoConsent, "request is", "requests are")))
	}
	if c.NoService > 0 {
		parts = append(parts, fmt.Sprintf("%d %s due to be passed on, but no formal service takes it on and no fallback is set.",
			c.NoService, pluralWord(c.NoService, "request is", "requests are")))
	}
	if c.Drafted > 0 {
		parts = append(parts, fmt.Sprintf("%d %s waiting for your review before it is sent.", c.Drafted, pluralWord(c.Drafted, "escalation is", "escalations are")))
	}
	return strings.Join(parts, " ")
}

func pluralWord(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// EscalationReader reads what an escalation's record is drawn from.
type EscalationReader interface {
	Escalation(ctx context.Context, id int64) (EscalationListing, error)
	EscalationHistory(ctx context.Context, id int64) ([]EscalationChange, error)
	ListEscalations(ctx context.Context, q EscalationQuery) ([]EscalationListing, error)
	Request(ctx context.Context, id int64) (Request, error)
	Area(ctx context.Context, id int64) (Area, error)
	Member(ctx context.Context, id int64) (Member, error)
	Service(ctx context.Context, id int64) (Service, error)
}

// EscalationQuery selects escalations, newest change first.
type EscalationQuery struct {
	Status       EscalationStatus // "" for any
	UpdatedSince time.Time        // zero for any
	BeforeID     int64            // paging
	Limit        int
	ServiceIDs   []int64 // only those sent to these services; nil for any
	SentOnly     bool    // leave out drafts, which have not left the co-op
}

// AuditEscalationViewed records each read of an escalation's details.
const AuditEscalationViewed = "escalation.viewed"

// CoopName is how the co-op names itself to formal services.
const CoopName = "Co-op Support Exchange"

// List lists escalations, newest first: all of them for coordinators, those sent to their own
// services for a service's people and tokens.
func (e *Escalations) List(ctx context.Context, by Actor, q EscalationQuery) ([]EscalationListing, error) {
	switch {
	case by.Role.Coordinates():
	case by.Role == RoleServices:
		if len(by.Services) == 0 {
			return nil, nil
		}
		q.ServiceIDs, q.SentOnly = by.Services, true
	default:
		return nil, ErrForbidden
	}
	if q.Status != "" && !slices.Contains(EscalationStatuses, q.Status) {
		return nil, Invalid("status", "Use one of draft, requested, accepted, rejected, in-progress, on-hold, completed, failed, cancelled, entered-in-error")
	}
	if q.Limit <= 0 || q.Limit > MaxPageSize {
		q.Limit = DefaultPageSize
	}
	out, err := e.reader.ListEscalations(ctx, q)
	if err != nil {
		return nil, fmt.Errorf("list escalations: %w", err)
	}
	return out, nil
}

// Record gathers what may leave the co-op about one escalation: the need, when and where,
// and the person's first name and phone only when their consent covers it. For coordinators,
// and for the people and tokens of the service it was sent to (another service's is not
// found); every read is audited.
func (e *Escalations) Record(ctx context.Context, by Actor, id int64) (EscalationRecord, error) {
	l, err := e.readable(ctx, by, id)
	if err != nil {
		return EscalationRecord{}, err
	}
	r, err := e.reader.Request(ctx, l.RequestID)
	if err != nil {
		return EscalationRecord{}, err
	}
	cat, err := e.catalogue.Category(ctx, r.CategoryID)
	if err != nil {
		return EscalationRecord{}, err
	}
	area, err := e.reader.Area(ctx, r.AreaID)
	if err != nil {
		return EscalationRecord{}, err
	}
	svc, err := e.reader.Service(ctx, l.ServiceID)
	if err != nil {
		return EscalationRecord{}, err
	}
	history, err := e.reader.EscalationHistory(ctx, id)
	if err != nil {
		return EscalationRecord{}, err
	}
	rec := EscalationRecord{ID: l.ID, Status: l.Status, BusinessStatus: l.BusinessStatus, Reason: l.Reason, StatusReason: l.StatusReason,
		Outcome: l.Outcome, CreatedAt: l.CreatedAt, SentAt: l.SentAt, RespondBy: l.RespondBy, UpdatedAt: l.UpdatedAt, History: history,
		RequestID: r.ID, CategorySlug: cat.Slug, CategoryName: cat.Name, TaxonomyTerms: cat.TaxonomyTerms, Description: r.Description,
		Start: r.Start, End: r.End, Urgency: r.Urgency, AreaName: area.Name, AreaCode: area.Code, ForSomeoneElse: r.ForWhom != nil,
		Tried:     "The co-op's matcher looked for a neighbour to help from when the request was posted until it was passed on, and found none.",
		ServiceID: svc.ID, ServiceSourceID: svc.SourceID, ServiceName: svc.Name, Organisation: svc.Organisation,
		CoopName: CoopName, BaseURL: e.baseURL, ConsentRecipient: "formal services (council social care, NHS community teams, charities)"}
	if c := r.Escalation; c != nil {
		rec.ConsentWording, rec.ConsentGivenAt, rec.ConsentContact = c.Wording, c.GivenAt, c.IncludesContact
		// A service sees who to contact only while the escalation is open with it.
		if c.IncludesContact && c.WithdrawnAt.IsZero() && (by.Role.Coordinates() || l.Status.Open()) {
			m, err := e.reader.Member(ctx, r.MemberID)
			if err != nil {
				return EscalationRecord{}, err
			}
			rec.FirstName, rec.Phone = m.FirstName(), m.Phone
			if r.ForWhom != nil {
				rec.FirstName = r.ForWhom.FirstName
			}
		}
	}
	if err := e.audit.Record(ctx, by, AuditEscalationViewed, "escalation", id, map[string]string{"request": fmt.Sprint(r.ID)}); err != nil {
		return EscalationRecord{}, err
	}
	return rec, nil
}

// Options lists where a coordinator could send a request: the services that take it on, best
// first, and the fallback last (when it is not among them). Coordinators only.
func (e *Escalations) Options(ctx context.Context, by Actor, r Request) ([]Service, error) {
	if err := requireCoordinator(by); err != nil {
		return nil, err
	}
	cat, err := e.catalogue.Category(ctx, r.CategoryID)
	if err != nil {
		return nil, err
	}
	routing, err := e.router.Route(ctx, RouteQuery{Category: cat, AreaID: r.AreaID})
	if err != nil {
		return nil, err
	}
	out := routing.Services
	if f := routing.Fallback; f != nil && !slices.Contains(serviceIDs(out), f.ID) {
		out = append(out, *f)
	}
	return out, nil
}

func serviceIDs(ss []Service) []int64 {
	ids := make([]int64, len(ss))
	for i, s := range ss {
		ids[i] = s.ID
	}
	return ids
}

// EscalateNow passes a request to a service a coordinator chooses, at once, with a note: any
// open request, or an escalated one whose last service said no. The requester must have agreed
// to their need being passed on. Coordinators only.
func (e *Escalations) EscalateNow(ctx context.Context, by Actor, requestID, serviceID int64, note string) (Escalation, error) {
	if err := requireCoordinator(by); err != nil {
		return Escalation{}, err
	}
	note = strings.TrimSpace(note)
	v := &ValidationError{}
	checkText(v, "note", note, true, maxEscalationNote, "Say why it is passed on now, so that the service understands")
	if err := v.OrNil(); err != nil {
		return Escalation{}, err
	}
	r, err := e.reader.Request(ctx, requestID)
	if err != nil {
		return Escalation{}, fmt.Errorf("request %d: %w", requestID, err)
	}
	now := e.clock.now()
	switch {
	case r.Status != RequestOpen && r.Status != RequestEscalated:
		return Escalation{}, &ConflictError{Message: "Only an open request can be passed on; this one is " + strings.ToLower(r.Status.Label()) + "."}
	case !r.Start.After(now):
		return Escalation{}, &ConflictError{Message: "This request's time has passed, so there is nothing to pass on."}
	case !r.ConsentToEscalate():
		return Escalation{}, &ConflictError{Message: "The person did not agree to their need being passed to a formal service, so it cannot be. Ask them first, and record their agreement on the request."}
	}
	svc, err := e.reader.Service(ctx, serviceID)
	if err != nil {
		return Escalation{}, Invalid("service_id", "Choose a service from the list")
	}
	if !svc.Routable() {
		return Escalation{}, Invalid("service_id", "%s cannot be sent anything: it is not active, or has neither a webhook nor an email", svc.Name)
	}
	var esc Escalation
	err = e.tx.Transact(ctx, func(ctx context.Context) error {
		// A service that has not acknowledged by the time asked is passed over: its escalation is
		// withdrawn, and it is told, as this one is sent to the next.
		if err := e.passOver(ctx, by, r.ID, svc.Name, now); err != nil {
			return err
		}
		var err error
		esc, _, err = e.escalate(ctx, r, svc, now, by, note, true)
		return err
	})
	if err != nil {
		if errors.Is(err, ErrConflict) {
			return Escalation{}, &ConflictError{Message: "This request is already with a service that has answered it or still has time to, or was passed to " +
				svc.Name + " before. Nothing was sent."}
		}
		return Escalation{}, fmt.Errorf("escalate request %d: %w", requestID, err)
	}
	return esc, nil
}

// passOver withdraws a request's escalation that its service has not acknowledged by the
// respond-by time, so that the request can go to the next service.
func (e *Escalations) passOver(ctx context.Context, by Actor, requestID int64, next string, now time.Time) error {
	ls, err := e.store.RequestEscalations(ctx, requestID)
	if err != nil {
		return err
	}
	for _, l := range ls {
		if l.Status != EscalationRequested || l.BusinessStatus != "" || l.RespondBy.IsZero() || now.Before(l.RespondBy) {
			continue
		}
		reason := fmt.Sprintf("Not acknowledged by %s, so passed to %s instead.", l.RespondBy.In(e.loc).Format("15:04 on Monday 2 January"), next)
		if _, err := e.change(ctx, by, l, EscalationMove{To: EscalationCancelled, Reason: reason}, changeHow{}); err != nil {
			return err
		}
	}
	return nil
}
