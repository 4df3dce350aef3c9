package domain

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// MatchStatus is where a match is in its life: proposed, then approved by a coordinator, then
// accepted by both people, then completed; or rejected, declined or cancelled on the way.
type MatchStatus string

// The match statuses.
const (
	MatchProposed  MatchStatus = "proposed"
	MatchApproved  MatchStatus = "approved"
	MatchAccepted  MatchStatus = "accepted"
	MatchCompleted MatchStatus = "completed"
	MatchRejected  MatchStatus = "rejected"
	MatchDeclined  MatchStatus = "declined"
	MatchCancelled MatchStatus = "cancelled"
)

// Live reports whether the match still holds its request: at most one live match per request.
func (s MatchStatus) Live() bool {
	return s == MatchProposed || s == MatchApproved || s == MatchAccepted
}

// MatchSource says how a match came about.
type MatchSource string

// The sources of matches.
const (
	MatchAuto   MatchSource = "auto"   // proposed by the matcher
	MatchManual MatchSource = "manual" // chosen by a coordinator
)

// Match pairs a request with a helper's offer.
type Match struct {
	ID        int64
	RequestID int64
	OfferID   int64
	HelperID  int64
	Source    MatchSource
	Status    MatchStatus
	Score     float64
	Reasons   []string
	PassID    int64 // the pass that proposed it, 0 for a manual match
	EndReason string
	CreatedAt time.Time
	UpdatedAt time.Time

	ApprovedBy int64     // the coordinator, 0 when its category goes straight to the people
	ApprovedAt time.Time // zero until approved
	// AnswerBy is when the proposal lapses if both people have not accepted it.
	AnswerBy            time.Time
	HelperAnsweredAt    time.Time // when the helper accepted
	RequesterAnsweredAt time.Time // when the requester accepted
	AcceptedAt          time.Time
	EndedBy             int64 // who rejected, declined or cancelled it; 0 for the platform
	EndedAt             time.Time
	DoneAt              time.Time // when the helper said it happened
	MinutesClaimed      int       // the time the helper says they gave
	MinutesConfirmed    int       // the time the requester confirmed (or corrected)
	ConfirmedAt         time.Time
	ConfirmedBy         int64 // 0 when confirmed by seven days of silence
	RemindedAt          time.Time
	DoneAskedAt         time.Time // when the helper was asked, after the end, whether it happened
	OverdueAt           time.Time // when coordinators were told nobody has said
}

// Check is a verified safeguarding check a member holds (never the disclosure itself). It
// counts for requests starting on or before its re-check date, ExpiresOn.
type Check struct {
	ID                int64
	MemberID          int64
	Kind              string // "DBS"
	Level             string // "basic", "standard", "enhanced"
	CertificateNumber string
	IssuedOn          time.Time // a date: midnight UTC
	ExpiresOn         time.Time // a date: midnight UTC
	UpdateService     bool
	VerifiedBy        int64
	VerifiedAt        time.Time
	CreatedAt         time.Time
}

// MatchPass is one run of the matcher and what it found.
type MatchPass struct {
	ID                 int64
	StartedAt          time.Time
	FinishedAt         time.Time
	Duration           time.Duration // the whole pass
	Load               time.Duration // reading what it needs
	Solve              time.Duration // finding the proposals
	RequestsConsidered int
	HelpersConsidered  int
	HelpersUnlocated   int // helpers whose location is unknown, so that no distance can be measured
	CandidatePairs     int
	Proposed           int
	Unmatched          int
	Expired            int
	UnmatchedReasons   map[string]int // by reason code
}

// Notice is something coordinators should know, such as what a pass proposed.
type Notice struct {
	ID        int64
	Kind      string
	Message   string
	Link      string
	CreatedAt time.Time
}

// Kinds of notices.
const NoticeMatchPass = "match.pass"

// ProposalListing is a match with what a coordinator or a party needs to weigh it.
type ProposalListing struct {
	Match
	Request       Request
	RequesterName string
	HelperName    string
	CategoryName  string
	AreaName      string
}

// UnmatchedListing is an open request the matcher could not match, and why.
type UnmatchedListing struct {
	Request       Request
	RequesterName string
	CategoryName  string
	AreaName      string
	Code          string
	Reason        string
	Since         time.Time // when the matcher first gave this reason
}

// MatchListQuery selects proposals or unmatched requests, soonest first.
type MatchListQuery struct {
	CategoryID int64
	AreaID     int64
	Code       string // unmatched only: one reason code, or empty for any
	After      *Cursor
	Limit      int
	// UrgentFirst orders proposals by urgency, then start (the moderation queue); After is then
	// a queue cursor.
	UrgentFirst bool
}

// ProposalScope names the live proposals to withdraw: those of some requests, of an offer, with
// a member on either side, in or near an area, or in a category.
type ProposalScope struct {
	RequestIDs []int64
	OfferID    int64
	MemberID   int64
	AreaID     int64 // requests in the area, and helpers who live there
	CategoryID int64 // requests in the category
	// IncludeAgreed also withdraws accepted matches still ahead (a member suspended).
	IncludeAgreed bool
}

// MatchStore keeps matches and what the matcher's passes found.
type MatchStore interface {
	LatestPass(ctx context.Context) (MatchPass, error)
	RecentPasses(ctx context.Context, n int) ([]MatchPass, error)
	ListProposals(ctx context.Context, q MatchListQuery) ([]ProposalListing, error)
	ListUnmatched(ctx context.Context, q MatchListQuery) ([]UnmatchedListing, error)
	// CountUnmatched counts the unmatched open requests by reason code, within a category and
	// area when given.
	CountUnmatched(ctx context.Context, categoryID, areaID int64) (map[string]int, error)
	Notices(ctx context.Context, limit int) ([]Notice, error)
	MemberChecks(ctx context.Context, memberID int64) ([]Check, error)
	AddCheck(ctx context.Context, c *Check) error
}

// ProposalStore withdraws proposals that no longer hold, when what they were made for changes.
type ProposalStore interface {
	// WithdrawProposals cancels the proposed and approved (not yet accepted) matches in scope,
	// and with IncludeAgreed the accepted ones still ahead too (their requests open again),
	// with the reason, and lists them.
	WithdrawProposals(ctx context.Context, scope ProposalScope, reason string, at time.Time) ([]WithdrawnMatch, error)
	AddNotifications(ctx context.Context, ns []Notification) error
}

// WithdrawnMatch is a match withdrawn because what it rested on changed.
type WithdrawnMatch struct {
	ID, RequestID, HelperID, RequesterID int64
	Was                                  MatchStatus // its status before
}

// withdraw withdraws the matches in scope and tells both people of each that they had been
// asked about (approved) or had agreed (accepted), in the caller's transaction.
func withdraw(ctx context.Context, ps ProposalStore, scope ProposalScope, reason string, at time.Time) error {
	gone, err := ps.WithdrawProposals(ctx, scope, reason, at)
	if err != nil {
		return err
	}
	var ns []Notification
	for _, m := range gone {
		if m.Was == MatchProposed {
			continue // nobody but coordinators knew of it
		}
		msg := "A match you were part of has been withdrawn: " + strings.TrimSuffix(reason, ".") + "."
		if m.Was == MatchAccepted {
			msg += " The request goes back to the matcher to find someone else."
		}
		for _, who := range []int64{m.HelperID, m.RequesterID} {
			ns = append(ns, Notification{MemberID: who, Kind: NotifyCancelled, Message: msg, Link: matchLink(m.ID), CreatedAt: at,
				Data: map[string]string{EmailDataReason: reason}})
		}
	}
	return ps.AddNotifications(ctx, ns)
}

// Why proposals are withdrawn, as the matches record it.
const (
	WithdrawnRequestChanged   = "The request was changed after the proposal was made."
	WithdrawnRequestCancelled = "The request was cancelled."
	WithdrawnOfferChanged     = "The offer was changed after the proposal was made."
	WithdrawnOfferStopped     = "The offer was paused or withdrawn."
	WithdrawnMemberSuspended  = "A member in it was suspended."
	WithdrawnRequestExpired   = "The request's time came before it was agreed."
	WithdrawnAreaMoved        = "The centre of an area in it was moved, which changes how far apart they are."
	WithdrawnCheckRequired    = "Its kind of support now needs a safeguarding check."
)

// Matches shows coordinators what the matcher proposes and what it could not match.
type Matches struct {
	store MatchStore
}

// NewMatches returns the service of the matcher's results.
func NewMatches(store MatchStore) *Matches { return &Matches{store: store} }

// LatestPasses returns the latest n passes, newest first. Coordinators only.
func (m *Matches) LatestPasses(ctx context.Context, by Actor, n int) ([]MatchPass, error) {
	if err := requireCoordinator(by); err != nil {
		return nil, err
	}
	passes, err := m.store.RecentPasses(ctx, n)
	if err != nil {
		return nil, fmt.Errorf("latest passes: %w", err)
	}
	return passes, nil
}

// LatestPass returns the latest pass, for metrics; ErrNotFound before the first.
func (m *Matches) LatestPass(ctx context.Context) (MatchPass, error) {
	return m.store.LatestPass(ctx)
}

func (q MatchListQuery) normalised() MatchListQuery {
	if q.Limit <= 0 {
		q.Limit = DefaultPageSize
	}
	q.Limit = min(q.Limit, MaxPageSize)
	return q
}

// Proposals lists the live proposals waiting for a coordinator, soonest request first.
// Coordinators only.
func (m *Matches) Proposals(ctx context.Context, by Actor, q MatchListQuery) (BrowsePage[ProposalListing], error) {
	if err := requireCoordinator(by); err != nil {
		return BrowsePage[ProposalListing]{}, err
	}
	q = q.normalised()
	q.Code = ""
	rows, err := m.store.ListProposals(ctx, MatchListQuery{CategoryID: q.CategoryID, AreaID: q.AreaID, After: q.After, Limit: q.Limit + 1})
	if err != nil {
		return BrowsePage[ProposalListing]{}, fmt.Errorf("list proposals: %w", err)
	}
	return pageBySoonest(rows, q.Limit, func(p ProposalListing) (time.Time, int64) { return p.Request.Start, p.ID }), nil
}

// Unmatched lists the open requests the matcher could not match, soonest first, with why.
// Coordinators only.
func (m *Matches) Unmatched(ctx context.Context, by Actor, q MatchListQuery) (BrowsePage[UnmatchedListing], error) {
	if err := requireCoordinator(by); err != nil {
		return BrowsePage[UnmatchedListing]{}, err
	}
	q = q.normalised()
	want := q
	want.Limit++
	rows, err := m.store.ListUnmatched(ctx, want)
	if err != nil {
		return BrowsePage[UnmatchedListing]{}, fmt.Errorf("list unmatched requests: %w", err)
	}
	return pageBySoonest(rows, q.Limit, func(u UnmatchedListing) (time.Time, int64) { return u.Request.Start, u.Request.ID }), nil
}

// UnmatchedCounts counts the unmatched open requests by reason code. Coordinators only.
func (m *Matches) UnmatchedCounts(ctx context.Context, by Actor, categoryID, areaID int64) (map[string]int, error) {
	if err := requireCoordinator(by); err != nil {
		return nil, err
	}
	counts, err := m.store.CountUnmatched(ctx, categoryID, areaID)
	if err != nil {
		return nil, fmt.Errorf("count unmatched requests: %w", err)
	}
	return counts, nil
}

// Notices returns the latest notices for coordinators, newest first. Coordinators only.
func (m *Matches) Notices(ctx context.Context, by Actor, limit int) ([]Notice, error) {
	if err := requireCoordinator(by); err != nil {
		return nil, err
	}
	notices, err := m.store.Notices(ctx, limit)
	if err != nil {
		return nil, fmt.Errorf("notices: %w", err)
	}
	return notices, nil
}

// pageBySoonest cuts rows fetched with limit+1 into a page ordered by start time and id.
func pageBySoonest[T any](rows []T, limit int, key func(T) (time.Time, int64)) BrowsePage[T] {
	if len(rows) <= limit {
		return BrowsePage[T]{Items: rows}
	}
	rows = rows[:limit]
	at, id := key(rows[len(rows)-1])
	return BrowsePage[T]{Items: rows, Next: &Cursor{Sort: SortSoonest, At: at, ID: id}}
}

// Known reports whether s is one of the statuses.
func (s MatchStatus) Known() bool {
	switch s {
	case MatchProposed, MatchApproved, MatchAccepted, MatchCompleted, MatchRejected, MatchDeclined, MatchCancelled:
		return true
	}
	return false
}

// Label is the status as shown to people.
func (s MatchStatus) Label() string {
	switch s {
	case MatchProposed:
		return "Waiting for a coordinator"
	case MatchApproved:
		return "Waiting for both to accept"
	case MatchAccepted:
		return "Agreed"
	case MatchCompleted:
		return "Done"
	case MatchRejected:
		return "Turned down by a coordinator"
	case MatchDeclined:
		return "Declined"
	case MatchCancelled:
		return "Cancelled"
	}
	return string(s)
}
