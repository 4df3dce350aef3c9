package domain

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
)

// The life of a match after the matcher: a coordinator approves it (or it goes straight to the
// two people, in a category that needs no moderation), both people accept, the support happens,
// the helper says how long it took and the requester confirms; a contribution records it.

// Moderation says who lets a category's proposals through to the two people.
type Moderation string

// The ways of moderating.
const (
	// ModerateByCoordinator: proposals wait for a coordinator's approval (the default).
	ModerateByCoordinator Moderation = "coordinator"
	// ModerateDirect: proposals go straight to the helper and the requester, for low-risk
	// support such as befriending calls.
	ModerateDirect Moderation = "direct"
)

// Label says what the setting means, for forms.
func (m Moderation) Label() string {
	if m == ModerateDirect {
		return "Straight to the two people"
	}
	return "A coordinator approves each proposal"
}

// Valid reports whether m is one of the settings.
func (m Moderation) Valid() bool { return m == ModerateByCoordinator || m == ModerateDirect }

// Audited actions of the match life cycle.
const (
	AuditMatchApproved  = "match.approved"
	AuditMatchRejected  = "match.rejected"
	AuditMatchAssigned  = "match.assigned"
	AuditMatchAccepted  = "match.accepted"
	AuditMatchDeclined  = "match.declined"
	AuditMatchCancelled = "match.cancelled"
	AuditMatchDone      = "match.done"
	AuditMatchConfirmed = "match.confirmed"
	AuditMatchViewed    = "match.viewed"
	AuditFeedbackViewed = "feedback.viewed"
)

// Why matches end, as they record it, when the platform ends them.
const (
	EndedLapsed         = "Neither accepted nor declined in time."
	EndedOtherHelper    = "A coordinator chose another helper."
	EndedAutoConfirmed  = "" // completion confirmed by silence leaves no reason
	DefaultAnswerWithin = 48 * time.Hour
	// ConfirmWithin is how long a requester has to confirm or correct a completion before it
	// counts as confirmed.
	ConfirmWithin = 7 * 24 * time.Hour
	// overclaimMargin is how much longer than the time asked for a helper may say they gave
	// before being asked to confirm it.
	overclaimMargin = time.Hour
	maxMinutes      = 24 * 60
	maxEndReasonLen = 500
	maxCommentLen   = 2000
)

// HelperRecord is what a coordinator weighs about a helper: their checks, how past matches
// went and what people said.
type HelperRecord struct {
	Checks        []Check
	Completed     int // matches completed
	Declined      int // matches they declined
	Lapsed        int // proposals they left unanswered until they lapsed
	Cancelled     int // agreed matches they cancelled
	FeedbackCount int
	FeedbackMean  float64 // 1 to 5; 0 when none
}

// HelperOption is a helper a coordinator could choose for a request, ranked.
type HelperOption struct {
	OfferID    int64
	HelperID   int64
	HelperName string
	Score      float64
	Reasons    []string // as the matcher words them
	Warnings   []string // soft rules it breaks: a coordinator may still choose it
	// Blocked says why it cannot be chosen (a hard rule), empty when it can.
	Blocked string
}

// Ranker ranks every helper offering a request's kind of support, best first, as the matcher
// would; ignoreMatch is a live match of the request to leave out of the helpers' commitments
// (the one a coordinator is replacing), 0 for none.
type Ranker interface {
	RankHelpers(ctx context.Context, requestID, ignoreMatch int64, now time.Time) ([]HelperOption, error)
}

// MatchView is one match as someone allowed to see it sees it.
type MatchView struct {
	ProposalListing
	Category Category
	// Helper and Requester are the two people; their contact details are blank until both
	// have accepted, unless the viewer is a coordinator.
	Helper, Requester Member
	// Contact: the viewer may see the other's contact details and the private notes.
	Contact bool
	// Role of the viewer in the match: "helper", "requester" or "coordinator".
	Viewer string
	// Record is the helper's record, for coordinators.
	Record   *HelperRecord
	Warnings []string
	// Feedback, for coordinators only.
	Feedback []Feedback
	// MyFeedback: whether the viewer has already left feedback.
	MyFeedback bool
	// What the viewer may do now.
	CanApprove, CanAnswer, CanCancel, CanMarkDone, CanConfirm, CanGiveFeedback bool
}

// Feedback is what one person says privately about the other after a match; only
// coordinators see it.
type Feedback struct {
	ID        int64
	MatchID   int64
	FromID    int64
	FromName  string
	AboutID   int64
	Rating    int // 1 to 5
	Comment   string
	CreatedAt time.Time
}

// Notification tells a member of something to act on or to know.
type Notification struct {
	ID        int64
	MemberID  int64
	Kind      string
	Message   string
	Link      string
	CreatedAt time.Time
	ReadAt    time.Time
	// Data fills the email of the same kind (EmailData* keys), for members who want it.
	Data map[string]string
}

// Kinds of notifications; each is also the email preference it goes by.
const (
	NotifyProposal   = "match.proposed"
	NotifyAccepted   = "match.accepted"
	NotifyDeclined   = "match.declined"
	NotifyCancelled  = "match.cancelled"
	NotifyLapsed     = "match.lapsed"
	NotifyReminder   = "match.reminder"
	NotifyConfirm    = "match.confirm"
	NotifyCompleted  = "match.completed"
	NotifyCheckDue   = "check.due"
	NotifyOfferStale = "offer.still_available"
)

// AgreementStore keeps the life cycle of matches and what follows from them.
type AgreementStore interface {
	Match(ctx context.Context, id int64) (Match, error)
	MatchListing(ctx context.Context, id int64) (ProposalListing, error)
	// UpdateMatch writes m's status and life-cycle fields while the stored match still has
	// status from and was last changed at m.UpdatedAt as read; ErrConflict otherwise.
	UpdateMatch(ctx context.Context, m Match, from MatchStatus, readAt time.Time) error
	// CreateMatch adds a match; ErrConflict when the request already has a live match or the
	// helper already has one awaiting their answer.
	CreateMatch(ctx context.Context, m *Match) error
	// MoveRequest moves a request to `to` while its status is from (ErrConflict otherwise).
	MoveRequest(ctx context.Context, id int64, to, from RequestStatus, at time.Time) error
	HelperRecords(ctx context.Context, helperIDs []int64) (map[int64]HelperRecord, error)
	ListMatches(ctx context.Context, q MatchesQuery) ([]ProposalListing, error)
	// Lapsing lists approved matches whose answer time has passed; Unconfirmed, completions
	// done before `before` and not confirmed; Upcoming, agreed matches starting before `until`
	// not yet reminded of.
	Lapsing(ctx context.Context, now time.Time) ([]Match, error)
	Unconfirmed(ctx context.Context, before time.Time) ([]Match, error)
	Upcoming(ctx context.Context, from, until time.Time) ([]ProposalListing, error)
	// NotSaidDone lists agreed matches ended by endedBy that nobody has said happened: those
	// whose helper was not yet asked, or with asked those not yet flagged to coordinators.
	NotSaidDone(ctx context.Context, endedBy time.Time, asked bool) ([]ProposalListing, error)
	AddNotice(ctx context.Context, n *Notice) error
	AddFeedback(ctx context.Context, f *Feedback) error
	MatchFeedback(ctx context.Context, matchID int64) ([]Feedback, error)
	AddContribution(ctx context.Context, c *Contribution) error
	AddNotifications(ctx context.Context, ns []Notification) error
	// DirectProposals lists a pass's proposals in categories that need no moderation.
	DirectProposals(ctx context.Context, passID int64) ([]int64, error)
}

// MatchesQuery selects matches for a list, newest first.
type MatchesQuery struct {
	MemberID  int64 // matches where the member is the helper or the requester; 0 for all
	RequestID int64
	Statuses  []MatchStatus
	BeforeID  int64 // paging: only ids below this
	Limit     int
}

// Agreements runs the match life cycle.
type Agreements struct {
	store     AgreementStore
	exchange  ExchangeStore
	members   MemberStore
	catalogue CatalogueStore
	checks    MatchStore
	ranker    Ranker
	tx        Transactor
	audit     *Audit
	clock     Clock
	loc       *time.Location
	// AnswerWithin is how long the two people have to accept an approved match; urgent
	// requests get a quarter of it.
	answerWithin time.Duration
	// escalations withdraws a request from a formal service when the community meets it.
	escalations EscalationCanceller
}

// EscalationCanceller cancels a request's open escalations, telling their services.
type EscalationCanceller interface {
	CancelOpen(ctx context.Context, by Actor, requestID int64, reason string) (int, error)
}

// WithEscalations lets agreeing a match withdraw its request from any formal service it was
// passed to. Set once, when the platform is wired.
func (a *Agreements) WithEscalations(e EscalationCanceller) *Agreements {
	a.escalations = e
	return a
}

// NewAgreements returns the match life-cycle service; answerWithin 0 means the default.
func NewAgreements(store AgreementStore, exchange ExchangeStore, members MemberStore, catalogue CatalogueStore, checks MatchStore,
	ranker Ranker, tx Transactor, audit *Audit, clock Clock, loc *time.Location, answerWithin time.Duration) *Agreements {
	if answerWithin <= 0 {
		answerWithin = DefaultAnswerWithin
	}
	return &Agreements{store: store, exchange: exchange, members: members, catalogue: catalogue, checks: checks, ranker: ranker,
		tx: tx, audit: audit, clock: clock, loc: loc, answerWithin: answerWithin}
}

// Now is the service's clock.
func (a *Agreements) Now() time.Time { return a.clock.now() }

// answerBy is when an approval made now lapses: the answer time (a quarter of it for urgent
// requests), but never later than an hour before the start, and never sooner than the start
// when that is all the time there is.
func (a *Agreements) answerBy(r Request, now time.Time) time.Time {
	within := a.answerWithin
	if r.Urgency == Urgent {
		within /= 4
	}
	by := now.Add(within)
	if latest := r.Start.Add(-time.Hour); by.After(latest) {
		by = latest
	}
	if by.Before(now.Add(15 * time.Minute)) {
		by = r.Start
	}
	return by
}

// stale explains why a match can no longer make the change asked of it, in words for the
// person who asked: someone else got there first, it lapsed, or it moved on.
func stale(m Match, wanted string) error {
	var msg string
	switch m.Status {
	case MatchProposed:
		msg = "This proposal is still waiting for a coordinator."
	case MatchApproved:
		msg = "This match is waiting for both people to accept it."
	case MatchAccepted:
		msg = "Both people have already accepted this match."
	case MatchCompleted:
		msg = "This match is already completed."
	case MatchRejected:
		msg = "A coordinator has already turned this proposal down."
	case MatchDeclined:
		msg = "This match was declined."
	case MatchCancelled:
		if m.EndReason == EndedLapsed {
			msg = "This proposal lapsed: it was not answered in time."
		} else {
			msg = "This match was cancelled."
		}
	}
	if m.EndReason != "" && m.EndReason != EndedLapsed && !m.Status.Live() && m.Status != MatchCompleted {
		msg += " (" + m.EndReason + ")"
	}
	return &ConflictError{Message: msg + " It cannot be " + wanted + " now; nothing was changed."}
}

// change reads a match, lets fn change it, and writes it back only if nobody changed it
// meanwhile; when someone did, the answer says what it is now.
func (a *Agreements) change(ctx context.Context, id int64, wanted string, fn func(ctx context.Context, m *Match, r Request) error) (Match, error) {
	var out Match
	var err error
	// Someone else changing the match without moving it on (the other person accepting at the
	// same moment, a reminder going out) is no reason to refuse: the step is tried again on
	// the match as it now is.
	for attempt := 0; attempt < 3; attempt++ {
		if out, err = a.changeOnce(ctx, id, wanted, fn); !errors.Is(err, errMoved) {
			break
		}
	}
	if errors.Is(err, errMoved) {
		err = &ConflictError{Message: "This match is being changed by someone else just now; try again. Nothing was changed."}
	}
	if err != nil {
		return Match{}, fmt.Errorf("%s match %d: %w", wanted, id, err)
	}
	return out, nil
}

// errMoved: the match was changed meanwhile but is still in the status the step expects.
var errMoved = errors.New("changed meanwhile, same status")

func (a *Agreements) changeOnce(ctx context.Context, id int64, wanted string, fn func(ctx context.Context, m *Match, r Request) error) (Match, error) {
	var out Match
	err := a.tx.Transact(ctx, func(ctx context.Context) error {
		m, err := a.store.Match(ctx, id)
		if err != nil {
			return err
		}
		r, err := a.exchange.Request(ctx, m.RequestID)
		if err != nil {
			return err
		}
		from, readAt := m.Status, m.UpdatedAt
		if err := fn(ctx, &m, r); err != nil {
			return err
		}
		// The version must move even when two changes fall in one tick of the clock.
		m.UpdatedAt = a.clock.now()
		if !m.UpdatedAt.After(readAt) {
			m.UpdatedAt = readAt.Add(time.Microsecond)
		}
		if err := a.store.UpdateMatch(ctx, m, from, readAt); err != nil {
			if errors.Is(err, ErrConflict) {
				if now, rerr := a.store.Match(ctx, id); rerr == nil {
					if now.Status == from {
						return errMoved
					}
					return stale(now, wanted)
				}
			}
			return err
		}
		out = m
		return nil
	})
	return out, err
}

// party says whether the actor is the match's helper, its requester, or neither.
func party(by Actor, m Match, r Request) string {
	switch by.ID {
	case m.HelperID:
		return "helper"
	case r.MemberID:
		return "requester"
	}
	return ""
}

// hide answers as if a match did not exist, to someone with no part in it.
func hide(id int64) error { return fmt.Errorf("match %d: %w", id, ErrNotFound) }

func (a *Agreements) notify(ctx context.Context, ns ...Notification) error {
	now := a.clock.now()
	for i := range ns {
		ns[i].CreatedAt = now
	}
	return a.store.AddNotifications(ctx, ns)
}

// about is what an email says of a request: what it is and when.
func (a *Agreements) about(ctx context.Context, r Request) map[string]string {
	return map[string]string{EmailDataWhat: a.categoryName(ctx, r.CategoryID), EmailDataWhen: a.when(r)}
}

func matchLink(id int64) string { return fmt.Sprintf("/matches/%d", id) }

// when words a request's window for messages: "Thursday 5 March, 14:00–17:00".
func (a *Agreements) when(r Request) string {
	s, e := r.Start.In(a.loc), r.End.In(a.loc)
	return s.Format("Monday 2 January, 15:04") + "–" + e.Format("15:04")
}

func (a *Agreements) categoryName(ctx context.Context, id int64) string {
	c, err := a.catalogue.Category(ctx, id)
	if err != nil {
		return "support"
	}
	return strings.ToLower(c.Name)
}

// approve lets a proposal through to the two people: they are asked to accept by answerBy.
func (a *Agreements) approve(ctx context.Context, m *Match, r Request, by int64, now time.Time) error {
	if !r.Start.After(now) || !r.Seeking() {
		return &ConflictError{Message: "This request's time has passed or it is no longer open, so the proposal cannot be approved. Nothing was changed."}
	}
	m.Status, m.ApprovedBy, m.ApprovedAt, m.AnswerBy = MatchApproved, by, now, a.answerBy(r, now)
	return nil
}

// askBoth notifies the helper and the requester of an approved match.
func (a *Agreements) askBoth(ctx context.Context, m Match, r Request) error {
	what := a.categoryName(ctx, r.CategoryID)
	by := m.AnswerBy.In(a.loc).Format("Monday 2 January 15:04")
	return a.notify(ctx,
		Notification{MemberID: m.HelperID, Data: a.about(ctx, r), Kind: NotifyProposal, Link: matchLink(m.ID),
			Message: fmt.Sprintf("Could you help with %s on %s? Please accept or decline by %s.", what, a.when(r), by)},
		Notification{MemberID: r.MemberID, Data: a.about(ctx, r), Kind: NotifyProposal, Link: matchLink(m.ID),
			Message: fmt.Sprintf("A helper has been found for your request for %s on %s. Please accept or decline by %s.", what, a.when(r), by)})
}

// Approve lets a proposal through to the two people. Coordinators only; approving one another
// coordinator has just rejected, or one that lapsed, is refused and changes nothing.
func (a *Agreements) Approve(ctx context.Context, by Actor, id int64) (Match, error) {
	if err := requireCoordinator(by); err != nil {
		return Match{}, err
	}
	return a.change(ctx, id, "approved", func(ctx context.Context, m *Match, r Request) error {
		if m.Status != MatchProposed {
			return stale(*m, "approved")
		}
		if party(by, *m, r) != "" {
			return &ConflictError{Message: "You are one of the two people in this match, so another coordinator must approve it."}
		}
		if err := a.approve(ctx, m, r, by.ID, a.clock.now()); err != nil {
			return err
		}
		if err := a.audit.Record(ctx, by, AuditMatchApproved, "match", m.ID, map[string]string{"request": fmt.Sprint(r.ID)}); err != nil {
			return err
		}
		return a.askBoth(ctx, *m, r)
	})
}

// Reject turns a proposal down with a reason; that pair is never proposed again. Coordinators only.
func (a *Agreements) Reject(ctx context.Context, by Actor, id int64, reason string) (Match, error) {
	if err := requireCoordinator(by); err != nil {
		return Match{}, err
	}
	reason, err := checkReason(reason, true, "Say why this proposal is turned down, so that others understand")
	if err != nil {
		return Match{}, err
	}
	return a.change(ctx, id, "rejected", func(ctx context.Context, m *Match, r Request) error {
		if m.Status != MatchProposed {
			return stale(*m, "rejected")
		}
		now := a.clock.now()
		m.Status, m.EndReason, m.EndedBy, m.EndedAt = MatchRejected, reason, by.ID, now
		return a.audit.Record(ctx, by, AuditMatchRejected, "match", m.ID, map[string]string{"reason": reason})
	})
}

// checkReason trims a reason for ending a match and checks it: required or not, and not too long.
func checkReason(reason string, required bool, missing string) (string, error) {
	reason = strings.TrimSpace(reason)
	v := &ValidationError{}
	checkText(v, "reason", reason, required, maxEndReasonLen, missing)
	return reason, v.OrNil()
}

// BatchResult says what happened to each of a selection of proposals.
type BatchResult struct {
	Done   []int64
	Failed map[int64]string // id: why, in words
}

// batch applies one action to many matches, each in its own transaction, so that one that
// changed meanwhile does not hold the others back.
func batch(ctx context.Context, ids []int64, fn func(ctx context.Context, id int64) error) BatchResult {
	res := BatchResult{Failed: map[int64]string{}}
	seen := map[int64]bool{}
	for _, id := range ids {
		if seen[id] {
			continue
		}
		seen[id] = true
		if err := fn(ctx, id); err != nil {
			var conflict *ConflictError
			var invalid *ValidationError
			switch {
			case errors.As(err, &conflict):
				res.Failed[id] = conflict.Message
			case errors.As(err, &invalid):
				res.Failed[id] = invalid.Error()
			case errors.Is(err, ErrNotFound):
				res.Failed[id] = "There is no such proposal."
			default:
				res.Failed[id] = "It could not be changed just now; try again."
			}
			continue
		}
		res.Done = append(res.Done, id)
	}
	return res
}

// ApproveMany approves a selection of proposals. Coordinators only.
func (a *Agreements) ApproveMany(ctx context.Context, by Actor, ids []int64) (BatchResult, error) {
	if err := requireCoordinator(by); err != nil {
		return BatchResult{}, err
	}
	return batch(ctx, ids, func(ctx context.Context, id int64) error { _, err := a.Approve(ctx, by, id); return err }), nil
}

// RejectMany rejects a selection of proposals with one reason. Coordinators only.
func (a *Agreements) RejectMany(ctx context.Context, by Actor, ids []int64, reason string) (BatchResult, error) {
	if err := requireCoordinator(by); err != nil {
		return BatchResult{}, err
	}
	reason, err := checkReason(reason, true, "Say why these proposals are turned down, so that others understand")
	if err != nil {
		return BatchResult{}, err
	}
	return batch(ctx, ids, func(ctx context.Context, id int64) error { _, err := a.Reject(ctx, by, id, reason); return err }), nil
}

// Candidates ranks the helpers a coordinator could choose for a request, best first, saying
// of each that breaks a hard rule why it cannot be chosen. Coordinators only.
func (a *Agreements) Candidates(ctx context.Context, by Actor, requestID int64) ([]HelperOption, error) {
	if err := requireCoordinator(by); err != nil {
		return nil, err
	}
	ignore := int64(0)
	if live, err := a.liveMatch(ctx, requestID); err == nil && live.Status == MatchProposed {
		ignore = live.ID
	}
	opts, err := a.ranker.RankHelpers(ctx, requestID, ignore, a.clock.now())
	if err != nil {
		return nil, fmt.Errorf("rank helpers for request %d: %w", requestID, err)
	}
	return opts, nil
}

// liveMatch returns a request's live match, or ErrNotFound.
func (a *Agreements) liveMatch(ctx context.Context, requestID int64) (Match, error) {
	ms, err := a.store.ListMatches(ctx, MatchesQuery{RequestID: requestID, Statuses: []MatchStatus{MatchProposed, MatchApproved, MatchAccepted}, Limit: 1})
	if err != nil {
		return Match{}, err
	}
	if len(ms) == 0 {
		return Match{}, ErrNotFound
	}
	return ms[0].Match, nil
}

// Assign matches a request by hand with a helper's offer: the match is approved at once and
// both people are asked to accept. When the request has a proposal waiting for a coordinator,
// it is replaced ("choose another helper"). A helper who breaks a hard rule cannot be chosen.
// Coordinators only.
func (a *Agreements) Assign(ctx context.Context, by Actor, requestID, offerID int64) (Match, error) {
	if err := requireCoordinator(by); err != nil {
		return Match{}, err
	}
	var out Match
	err := a.tx.Transact(ctx, func(ctx context.Context) error {
		r, err := a.exchange.Request(ctx, requestID)
		if err != nil {
			return err
		}
		now := a.clock.now()
		if !r.Seeking() || !r.Start.After(now) {
			return &ConflictError{Message: "This request is no longer open, or its time has passed, so it cannot be matched. Nothing was changed."}
		}
		if by.ID == r.MemberID {
			return &ConflictError{Message: "This is your own request, so another coordinator must match it."}
		}
		if requester, err := a.members.Member(ctx, r.MemberID); err != nil {
			return err
		} else if requester.Status != StatusActive {
			return &ConflictError{Message: "The person who asked is not an active member just now, so their request cannot be matched."}
		}
		live, err := a.liveMatch(ctx, requestID)
		switch {
		case err == nil && live.Status != MatchProposed:
			return &ConflictError{Message: "This request already has a helper waiting to answer or agreed; cancel that match first. Nothing was changed."}
		case err != nil && !errors.Is(err, ErrNotFound):
			return err
		}
		opts, err := a.ranker.RankHelpers(ctx, requestID, live.ID, now)
		if err != nil {
			return err
		}
		var chosen *HelperOption
		for i := range opts {
			if opts[i].OfferID == offerID {
				chosen = &opts[i]
			}
		}
		if chosen == nil {
			return Invalid("offer_id", "Choose a helper from the list: this offer is not one of this request's kind of support, or is not active")
		}
		if chosen.Blocked != "" {
			return Invalid("offer_id", "%s cannot be chosen: %s", chosen.HelperName, chosen.Blocked)
		}
		if chosen.HelperID == by.ID {
			return Invalid("offer_id", "You cannot choose yourself; another coordinator must")
		}
		if live.ID != 0 {
			if live.HelperID == chosen.HelperID && live.OfferID == offerID {
				return &ConflictError{Message: "That helper is already the one proposed; approve the proposal instead. Nothing was changed."}
			}
			readAt := live.UpdatedAt
			live.Status, live.EndReason, live.EndedBy, live.EndedAt, live.UpdatedAt = MatchCancelled, EndedOtherHelper, by.ID, now, now
			if err := a.store.UpdateMatch(ctx, live, MatchProposed, readAt); err != nil {
				if errors.Is(err, ErrConflict) {
					return &ConflictError{Message: "The proposal for this request changed while you were choosing; look again. Nothing was changed."}
				}
				return err
			}
		}
		m := Match{RequestID: r.ID, OfferID: offerID, HelperID: chosen.HelperID, Source: MatchManual, Status: MatchProposed,
			Score: chosen.Score, Reasons: chosen.Reasons, CreatedAt: now, UpdatedAt: now}
		if err := a.approve(ctx, &m, r, by.ID, now); err != nil {
			return err
		}
		if err := a.store.CreateMatch(ctx, &m); err != nil {
			if errors.Is(err, ErrConflict) {
				return &ConflictError{Message: "Someone else matched this request, or proposed this helper for something else, a moment ago; look again. Nothing was changed."}
			}
			return err
		}
		detail := map[string]string{"request": fmt.Sprint(r.ID), "helper": chosen.HelperName}
		if live.ID != 0 {
			detail["replaces"] = fmt.Sprint(live.ID)
		}
		if err := a.audit.Record(ctx, by, AuditMatchAssigned, "match", m.ID, detail); err != nil {
			return err
		}
		out = m
		return a.askBoth(ctx, m, r)
	})
	if err != nil {
		return Match{}, fmt.Errorf("match request %d by hand: %w", requestID, err)
	}
	return out, nil
}

// Accept records that the helper or the requester accepts an approved match; when both have,
// it is agreed, the request is matched, and each sees the other's contact details. The two
// people only.
func (a *Agreements) Accept(ctx context.Context, by Actor, id int64) (Match, error) {
	var notes []Notification
	m, err := a.change(ctx, id, "accepted", func(ctx context.Context, m *Match, r Request) error {
		who := party(by, *m, r)
		if who == "" {
			return hide(m.ID)
		}
		if m.Status != MatchApproved {
			return stale(*m, "accepted")
		}
		now := a.clock.now()
		if !now.Before(m.AnswerBy) || !r.Start.After(now) {
			return &ConflictError{Message: "The time to answer this match has passed, so it has lapsed and can no longer be accepted. The co-op looks for a helper again."}
		}
		if who == "helper" {
			if !m.HelperAnsweredAt.IsZero() {
				return &ConflictError{Message: "You have already accepted this match. Nothing was changed."}
			}
			m.HelperAnsweredAt = now
		} else {
			if !m.RequesterAnsweredAt.IsZero() {
				return &ConflictError{Message: "You have already accepted this match. Nothing was changed."}
			}
			m.RequesterAnsweredAt = now
		}
		if err := a.audit.Record(ctx, by, AuditMatchAccepted, "match", m.ID, map[string]string{"as": who}); err != nil {
			return err
		}
		if m.HelperAnsweredAt.IsZero() || m.RequesterAnsweredAt.IsZero() {
			return nil
		}
		m.Status, m.AcceptedAt = MatchAccepted, now
		gone := &ConflictError{Message: "The request was changed or cancelled meanwhile, so this match cannot be agreed. Nothing was changed."}
		if !r.Seeking() {
			return gone
		}
		if err := a.store.MoveRequest(ctx, r.ID, RequestMatched, r.Status, now); err != nil {
			if errors.Is(err, ErrConflict) {
				return gone
			}
			return err
		}
		// Passed to a formal service meanwhile: the community has found a helper after all.
		if r.Status == RequestEscalated && a.escalations != nil {
			if _, err := a.escalations.CancelOpen(ctx, by, r.ID, "A neighbour in the co-op is helping after all."); err != nil {
				return err
			}
		}
		msg := fmt.Sprintf("Agreed: %s on %s. You can now see each other's contact details.", a.categoryName(ctx, r.CategoryID), a.when(r))
		notes = []Notification{{MemberID: m.HelperID, Data: a.about(ctx, r), Kind: NotifyAccepted, Message: msg, Link: matchLink(m.ID)},
			{MemberID: r.MemberID, Data: a.about(ctx, r), Kind: NotifyAccepted, Message: msg, Link: matchLink(m.ID)}}
		return a.notify(ctx, notes...)
	})
	return m, err
}

// Decline records that the helper or the requester declines an approved match, with an
// optional reason: the request goes back to the matcher and the pair is never proposed again.
// The two people only.
func (a *Agreements) Decline(ctx context.Context, by Actor, id int64, reason string) (Match, error) {
	reason, err := checkReason(reason, false, "")
	if err != nil {
		return Match{}, err
	}
	return a.change(ctx, id, "declined", func(ctx context.Context, m *Match, r Request) error {
		who := party(by, *m, r)
		if who == "" {
			return hide(m.ID)
		}
		if m.Status != MatchApproved {
			return stale(*m, "declined")
		}
		now := a.clock.now()
		m.Status, m.EndedBy, m.EndedAt = MatchDeclined, by.ID, now
		m.EndReason = "Declined by the " + who
		if reason != "" {
			m.EndReason += ": " + reason
		}
		if err := a.audit.Record(ctx, by, AuditMatchDeclined, "match", m.ID, map[string]string{"as": who, "reason": reason}); err != nil {
			return err
		}
		other, msg := r.MemberID, fmt.Sprintf("The helper cannot help with your request on %s after all. It goes back to the matcher to find someone else.", a.when(r))
		if who == "requester" {
			other, msg = m.HelperID, fmt.Sprintf("The match for %s on %s was declined, so you are no longer needed for it. Thank you for offering.", a.categoryName(ctx, r.CategoryID), a.when(r))
		}
		return a.notify(ctx, Notification{MemberID: other, Data: a.about(ctx, r), Kind: NotifyDeclined, Message: msg, Link: matchLink(m.ID)})
	})
}

// Cancel ends an approved or agreed match before its start, with a reason; the other person
// is told. The request goes back to the matcher, unless the requester says it is no longer
// needed, which cancels it too. Either person, or a coordinator.
func (a *Agreements) Cancel(ctx context.Context, by Actor, id int64, reason string, noLongerNeeded bool) (Match, error) {
	reason, err := checkReason(reason, true, "Say why, so that the other person understands")
	if err != nil {
		return Match{}, err
	}
	return a.change(ctx, id, "cancelled", func(ctx context.Context, m *Match, r Request) error {
		who := party(by, *m, r)
		if who == "" {
			if !by.Role.Coordinates() {
				return hide(m.ID)
			}
			who = "coordinator"
		}
		if m.Status != MatchApproved && m.Status != MatchAccepted && m.Status != MatchProposed {
			return stale(*m, "cancelled")
		}
		if m.Status == MatchProposed && who != "coordinator" {
			return hide(m.ID)
		}
		now := a.clock.now()
		started := !r.Start.After(now)
		if started && who != "coordinator" {
			return &ConflictError{Message: "The support has already started, so it can no longer be cancelled here. If it did not happen, tell a coordinator."}
		}
		if started && m.Status != MatchAccepted {
			return stale(*m, "cancelled")
		}
		from := m.Status
		m.Status, m.EndedBy, m.EndedAt, m.EndReason = MatchCancelled, by.ID, now, "Cancelled by the "+who+": "+reason
		if err := a.audit.Record(ctx, by, AuditMatchCancelled, "match", m.ID, map[string]string{"as": who, "reason": reason}); err != nil {
			return err
		}
		switch {
		case from == MatchAccepted && started:
			// A coordinator records that agreed support did not happen: nothing to find again.
			if err := a.store.MoveRequest(ctx, r.ID, RequestCancelled, RequestMatched, now); err != nil && !errors.Is(err, ErrConflict) {
				return err
			}
		case from == MatchAccepted:
			if err := a.store.MoveRequest(ctx, r.ID, RequestOpen, RequestMatched, now); err != nil && !errors.Is(err, ErrConflict) {
				return err
			}
		}
		if who == "requester" && noLongerNeeded {
			if err := a.exchange.CancelRequest(ctx, r.ID, reason, now); err != nil && !errors.Is(err, ErrConflict) {
				return err
			}
		}
		if from == MatchProposed {
			return nil
		}
		when := a.when(r)
		var notes []Notification
		if who != "helper" {
			notes = append(notes, Notification{MemberID: m.HelperID, Data: a.about(ctx, r), Kind: NotifyCancelled, Link: matchLink(m.ID),
				Message: fmt.Sprintf("The support on %s has been cancelled: %s", when, reason)})
		}
		if who != "requester" {
			notes = append(notes, Notification{MemberID: r.MemberID, Data: a.about(ctx, r), Kind: NotifyCancelled, Link: matchLink(m.ID),
				Message: fmt.Sprintf("Your helper for %s can no longer come: %s. Your request goes back to the matcher to find someone else.", when, reason)})
		}
		for i := range notes {
			notes[i].Data[EmailDataReason] = reason
		}
		return a.notify(ctx, notes...)
	})
}

// MarkDone records, after the support's end, that it happened and how many minutes the helper
// gave; the requester is asked to confirm. A claim of more than the time asked for plus an hour
// needs sure set. The helper only.
func (a *Agreements) MarkDone(ctx context.Context, by Actor, id int64, minutes int, sure bool) (Match, error) {
	return a.change(ctx, id, "marked as done", func(ctx context.Context, m *Match, r Request) error {
		if party(by, *m, r) != "helper" {
			if party(by, *m, r) == "" {
				return hide(m.ID)
			}
			return fmt.Errorf("only the helper says how long they gave: %w", ErrForbidden)
		}
		if m.Status != MatchAccepted {
			return stale(*m, "marked as done")
		}
		if !m.DoneAt.IsZero() {
			return &ConflictError{Message: "You have already said this happened; the requester is confirming it. Nothing was changed."}
		}
		now := a.clock.now()
		if now.Before(r.End) {
			return &ConflictError{Message: "This support has not finished yet: you can say it is done after " + r.End.In(a.loc).Format("15:04 on Monday 2 January") + "."}
		}
		if err := a.checkMinutes(r, minutes, sure); err != nil {
			return err
		}
		m.DoneAt, m.MinutesClaimed = now, minutes
		if err := a.audit.Record(ctx, by, AuditMatchDone, "match", m.ID, map[string]string{"minutes": fmt.Sprint(minutes)}); err != nil {
			return err
		}
		return a.notify(ctx, Notification{MemberID: r.MemberID, Data: a.about(ctx, r), Kind: NotifyConfirm, Link: matchLink(m.ID),
			Message: fmt.Sprintf("Your helper says the support on %s happened and took %s. Please confirm, or correct the time, within 7 days.", a.when(r), Duration(minutes))})
	})
}

// checkMinutes validates a time given: positive, at most a day, and when more than the window
// plus an hour only if the person is sure.
func (a *Agreements) checkMinutes(r Request, minutes int, sure bool) error {
	window := int(r.End.Sub(r.Start).Minutes())
	switch {
	case minutes <= 0:
		return Invalid("minutes", "Enter the time given in minutes, more than 0")
	case minutes > maxMinutes:
		return Invalid("minutes", "Enter at most %d minutes (a whole day)", maxMinutes)
	case minutes > window+int(overclaimMargin.Minutes()) && !sure:
		return Invalid("minutes", "%s is more than the %s asked for plus an hour. If that is right, tick “Yes, this is right” and send again", Duration(minutes), Duration(window))
	}
	return nil
}

// Confirm confirms (or corrects, when minutes is not 0) the time a helper said they gave: the
// match is completed, the request fulfilled and the contribution recorded. The requester only.
func (a *Agreements) Confirm(ctx context.Context, by Actor, id int64, minutes int, sure bool) (Match, error) {
	return a.change(ctx, id, "confirmed", func(ctx context.Context, m *Match, r Request) error {
		switch party(by, *m, r) {
		case "":
			return hide(m.ID)
		case "helper":
			return fmt.Errorf("the requester confirms the time given: %w", ErrForbidden)
		}
		if m.Status != MatchAccepted || m.DoneAt.IsZero() {
			if m.Status == MatchAccepted {
				return &ConflictError{Message: "The helper has not yet said that this happened. Nothing was changed."}
			}
			return stale(*m, "confirmed")
		}
		if minutes == 0 {
			minutes = m.MinutesClaimed
		} else if err := a.checkMinutes(r, minutes, sure); err != nil {
			return err
		}
		if err := a.complete(ctx, m, r, minutes, by.ID); err != nil {
			return err
		}
		return a.audit.Record(ctx, by, AuditMatchConfirmed, "match", m.ID, map[string]string{"minutes": fmt.Sprint(minutes)})
	})
}

// complete finishes a match with the minutes confirmed, and records the contribution.
func (a *Agreements) complete(ctx context.Context, m *Match, r Request, minutes int, by int64) error {
	now := a.clock.now()
	m.Status, m.MinutesConfirmed, m.ConfirmedAt, m.ConfirmedBy = MatchCompleted, minutes, now, by
	if err := a.store.MoveRequest(ctx, r.ID, RequestFulfilled, RequestMatched, now); err != nil && !errors.Is(err, ErrConflict) {
		return err
	}
	s := r.Start.In(a.loc)
	c := Contribution{MatchID: m.ID, HelperID: m.HelperID, RequesterID: r.MemberID, CategoryID: r.CategoryID, Minutes: minutes,
		GivenOn: time.Date(s.Year(), s.Month(), s.Day(), 0, 0, 0, 0, time.UTC), CreatedAt: now}
	if err := a.store.AddContribution(ctx, &c); err != nil {
		return err
	}
	msg := fmt.Sprintf("Thank you: %s of %s on %s is recorded on your statement.", Duration(minutes), a.categoryName(ctx, r.CategoryID), s.Format("2 January"))
	return a.notify(ctx, Notification{MemberID: m.HelperID, Data: a.about(ctx, r), Kind: NotifyCompleted, Message: msg, Link: "/statement"})
}

// GiveFeedback records private feedback (1 to 5 and a comment) from one person about the
// other, after the support's end; only coordinators see it. Once per person and match.
func (a *Agreements) GiveFeedback(ctx context.Context, by Actor, id int64, rating int, comment string) error {
	comment = strings.TrimSpace(comment)
	v := &ValidationError{}
	if rating < 1 || rating > 5 {
		v.Add("rating", "Choose a rating from 1 (poor) to 5 (very good)")
	}
	checkText(v, "comment", comment, false, maxCommentLen, "")
	if err := v.OrNil(); err != nil {
		return err
	}
	err := a.tx.Transact(ctx, func(ctx context.Context) error {
		m, err := a.store.Match(ctx, id)
		if err != nil {
			return err
		}
		r, err := a.exchange.Request(ctx, m.RequestID)
		if err != nil {
			return err
		}
		who := party(by, m, r)
		if who == "" {
			return hide(id)
		}
		if (m.Status != MatchAccepted && m.Status != MatchCompleted) || a.clock.now().Before(r.End) {
			return &ConflictError{Message: "Feedback can be given once the support has happened."}
		}
		about := m.HelperID
		if who == "helper" {
			about = r.MemberID
		}
		f := Feedback{MatchID: id, FromID: by.ID, AboutID: about, Rating: rating, Comment: comment, CreatedAt: a.clock.now()}
		if err := a.store.AddFeedback(ctx, &f); err != nil {
			if errors.Is(err, ErrDuplicate) {
				return &ConflictError{Message: "You have already given feedback on this match; thank you."}
			}
			return err
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("feedback on match %d: %w", id, err)
	}
	return nil
}

// View returns a match to someone with a part in it, or a coordinator (whose view is
// audited). The two people see each other's contact details and the private notes only once
// both have accepted.
func (a *Agreements) View(ctx context.Context, by Actor, id int64) (MatchView, error) {
	l, err := a.store.MatchListing(ctx, id)
	if err != nil {
		return MatchView{}, fmt.Errorf("match %d: %w", id, err)
	}
	who := party(by, l.Match, l.Request)
	if who == "" {
		if !by.Role.Coordinates() {
			return MatchView{}, hide(id)
		}
		who = "coordinator"
	}
	// The two people learn of a proposal only if it was approved, and never why a coordinator
	// turned one down.
	if who != "coordinator" {
		if l.ApprovedAt.IsZero() {
			return MatchView{}, hide(id)
		}
		l.EndReason = publicEnd(l.Match)
	}
	v := MatchView{ProposalListing: l, Viewer: who}
	if v.Category, err = a.catalogue.Category(ctx, l.Request.CategoryID); err != nil {
		return MatchView{}, err
	}
	if v.Helper, err = a.members.Member(ctx, l.HelperID); err != nil {
		return MatchView{}, err
	}
	if v.Requester, err = a.members.Member(ctx, l.Request.MemberID); err != nil {
		return MatchView{}, err
	}
	agreed := l.Status == MatchAccepted || l.Status == MatchCompleted
	v.Contact = agreed || who == "coordinator"
	if !v.Contact {
		v.Helper, v.Requester = v.Helper.Public(), v.Requester.Public()
		if who == "helper" {
			v.Request = v.Request.ForNeighbours()
		}
	}
	now := a.clock.now()
	ahead := l.Request.Start.After(now)
	switch who {
	case "coordinator":
		if err := a.audit.Record(ctx, by, AuditMatchViewed, "match", id, nil); err != nil {
			return MatchView{}, err
		}
		recs, err := a.store.HelperRecords(ctx, []int64{l.HelperID})
		if err != nil {
			return MatchView{}, err
		}
		rec := recs[l.HelperID]
		v.Record = &rec
		v.Warnings = a.warnings(l, rec)
		if v.Feedback, err = a.store.MatchFeedback(ctx, id); err != nil {
			return MatchView{}, err
		}
		v.CanApprove = l.Status == MatchProposed && ahead
		// After the start a coordinator can still close agreed support that did not happen.
		// A proposal is turned down (rejected), not cancelled.
		v.CanCancel = (l.Status == MatchApproved && ahead) || l.Status == MatchAccepted
	default:
		answered := l.HelperAnsweredAt
		if who == "requester" {
			answered = l.RequesterAnsweredAt
		}
		v.CanAnswer = l.Status == MatchApproved && answered.IsZero()
		v.CanCancel = (l.Status == MatchApproved || l.Status == MatchAccepted) && ahead
		v.CanMarkDone = who == "helper" && l.Status == MatchAccepted && l.DoneAt.IsZero() && !now.Before(l.Request.End)
		v.CanConfirm = who == "requester" && l.Status == MatchAccepted && !l.DoneAt.IsZero()
		fs, err := a.store.MatchFeedback(ctx, id)
		if err != nil {
			return MatchView{}, err
		}
		for _, f := range fs {
			v.MyFeedback = v.MyFeedback || f.FromID == by.ID
		}
		v.CanGiveFeedback = agreed && !now.Before(l.Request.End) && !v.MyFeedback
	}
	return v, nil
}

// warnings are what a coordinator should look at twice before approving.
func (a *Agreements) warnings(l ProposalListing, rec HelperRecord) []string {
	var out []string
	now := a.clock.now()
	if rec.Completed == 0 {
		out = append(out, "First match for this helper.")
	}
	if rec.Declined+rec.Lapsed >= 3 {
		out = append(out, fmt.Sprintf("Declined or left unanswered %d proposals before.", rec.Declined+rec.Lapsed))
	}
	if rec.Cancelled >= 2 {
		out = append(out, fmt.Sprintf("Cancelled %d agreed matches before.", rec.Cancelled))
	}
	if rec.FeedbackCount > 0 && rec.FeedbackMean < 3 {
		out = append(out, fmt.Sprintf("Feedback averages %.1f out of 5.", rec.FeedbackMean))
	}
	for _, c := range rec.Checks {
		if !c.ExpiresOn.Before(now) && c.ExpiresOn.Before(now.AddDate(0, 0, 30)) {
			out = append(out, fmt.Sprintf("%s check is due for renewal on %s.", c.Kind, c.ExpiresOn.Format("2 January 2006")))
		}
	}
	if l.Request.Urgency == Urgent && l.Request.Start.Sub(now) < 24*time.Hour {
		out = append(out, "Urgent and starts within a day: approve or choose another soon.")
	}
	return out
}

// Queue lists the proposals waiting for a coordinator, most urgent and soonest first, each
// with the helper's record and warnings. Coordinators only.
func (a *Agreements) Queue(ctx context.Context, by Actor, q MatchListQuery) (BrowsePage[QueueItem], error) {
	if err := requireCoordinator(by); err != nil {
		return BrowsePage[QueueItem]{}, err
	}
	q = q.normalised()
	q.UrgentFirst, q.Code = true, ""
	want := q
	want.Limit++
	rows, err := a.checks.ListProposals(ctx, want)
	if err != nil {
		return BrowsePage[QueueItem]{}, fmt.Errorf("list proposals: %w", err)
	}
	page := BrowsePage[QueueItem]{}
	if len(rows) > q.Limit {
		rows = rows[:q.Limit]
		last := rows[len(rows)-1]
		page.Next = &Cursor{Sort: QueueSort(last.Request.Urgency), At: last.Request.Start, ID: last.ID}
	}
	ids := make([]int64, len(rows))
	for i, r := range rows {
		ids[i] = r.HelperID
	}
	recs, err := a.store.HelperRecords(ctx, ids)
	if err != nil {
		return BrowsePage[QueueItem]{}, err
	}
	for _, r := range rows {
		rec := recs[r.HelperID]
		page.Items = append(page.Items, QueueItem{ProposalListing: r, Record: rec, Warnings: a.warnings(r, rec)})
	}
	return page, nil
}

// QueueItem is a proposal in the moderation queue.
type QueueItem struct {
	ProposalListing
	Record   HelperRecord
	Warnings []string
}

// MemberMatches lists a member's matches as helper or requester, newest first; the helper does
// not see proposals still waiting for a coordinator. The member or a coordinator.
func (a *Agreements) MemberMatches(ctx context.Context, by Actor, memberID int64, beforeID int64, limit int) ([]ProposalListing, error) {
	if !owns(by, memberID) {
		return nil, ErrForbidden
	}
	if limit <= 0 {
		limit = DefaultPageSize
	}
	rows, err := a.store.ListMatches(ctx, MatchesQuery{MemberID: memberID, BeforeID: beforeID, Limit: min(limit, MaxPageSize+1)})
	if err != nil {
		return nil, fmt.Errorf("matches of member %d: %w", memberID, err)
	}
	return forParties(by, memberID, rows), nil
}

// AllMatches lists matches for coordinators, newest first, optionally of some statuses.
func (a *Agreements) AllMatches(ctx context.Context, by Actor, statuses []MatchStatus, beforeID int64, limit int) ([]ProposalListing, error) {
	if err := requireCoordinator(by); err != nil {
		return nil, err
	}
	if limit <= 0 {
		limit = DefaultPageSize
	}
	rows, err := a.store.ListMatches(ctx, MatchesQuery{Statuses: statuses, BeforeID: beforeID, Limit: min(limit, MaxPageSize+1)})
	if err != nil {
		return nil, fmt.Errorf("list matches: %w", err)
	}
	return rows, nil
}

// Duration words minutes for people: "2 hours 30 minutes".
func Duration(minutes int) string {
	h, m := minutes/60, minutes%60
	unit := func(n int, one string) string {
		if n == 1 {
			return "1 " + one
		}
		return fmt.Sprintf("%d %ss", n, one)
	}
	switch {
	case h == 0:
		return unit(m, "minute")
	case m == 0:
		return unit(h, "hour")
	}
	return unit(h, "hour") + " " + unit(m, "minute")
}

// RequestMatches lists a request's matches, newest first, for its member (without proposals
// still waiting for a coordinator) or a coordinator.
func (a *Agreements) RequestMatches(ctx context.Context, by Actor, r Request) ([]ProposalListing, error) {
	if !owns(by, r.MemberID) {
		return nil, ErrForbidden
	}
	rows, err := a.store.ListMatches(ctx, MatchesQuery{RequestID: r.ID, Limit: MaxPageSize})
	if err != nil {
		return nil, fmt.Errorf("matches of request %d: %w", r.ID, err)
	}
	return forParties(by, r.MemberID, rows), nil
}

// publicEnd is why a match ended as the two people may read it: a decline's reason is for
// coordinators only.
func publicEnd(m Match) string {
	if m.Status == MatchDeclined {
		if who, _, ok := strings.Cut(m.EndReason, ":"); ok {
			return who + "."
		}
	}
	return m.EndReason
}

// forParties cuts a list of matches down to what one of the two people, memberID, may see:
// only matches that were approved, a decline's reason left out, and until both have accepted
// first names only and, for the helper, no private notes. Coordinators see it all.
func forParties(by Actor, memberID int64, rows []ProposalListing) []ProposalListing {
	if by.Role.Coordinates() {
		return rows
	}
	out := rows[:0]
	for _, r := range rows {
		if r.ApprovedAt.IsZero() {
			continue
		}
		r.EndReason = publicEnd(r.Match)
		if r.Status != MatchAccepted && r.Status != MatchCompleted {
			r.HelperName = Member{Name: r.HelperName}.FirstName()
			r.RequesterName = Member{Name: r.RequesterName}.FirstName()
			if r.HelperID == memberID {
				r.Request = r.Request.ForNeighbours()
			}
		}
		out = append(out, r)
	}
	return out
}
