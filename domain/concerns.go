package domain

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// ConcernSubject is what a safeguarding concern is about.
type ConcernSubject string

// What a concern can be about.
const (
	ConcernGeneral ConcernSubject = "general"
	ConcernRequest ConcernSubject = "request"
	ConcernOffer   ConcernSubject = "offer"
	ConcernMember  ConcernSubject = "member" // a member's profile
	ConcernMatch   ConcernSubject = "match"
)

// ConcernSubjects lists what a concern can be about, in the order a form offers them.
var ConcernSubjects = []ConcernSubject{ConcernGeneral, ConcernRequest, ConcernOffer, ConcernMember, ConcernMatch}

// Valid reports whether s is a known subject.
func (s ConcernSubject) Valid() bool {
	for _, k := range ConcernSubjects {
		if s == k {
			return true
		}
	}
	return false
}

// Label describes the subject for people.
func (s ConcernSubject) Label() string {
	switch s {
	case ConcernGeneral:
		return "Something in general"
	case ConcernRequest:
		return "A request for support"
	case ConcernOffer:
		return "An offer of support"
	case ConcernMember:
		return "A member"
	case ConcernMatch:
		return "A match between a helper and a request"
	}
	return string(s)
}

// ParseConcernSubject reads what a concern is about as a form or a link gives it ("profile" is a member).
func ParseConcernSubject(raw string) ConcernSubject {
	raw = strings.ToLower(strings.TrimSpace(raw))
	if raw == "profile" {
		return ConcernMember
	}
	return ConcernSubject(raw)
}

// Concern is a safeguarding concern someone raised. It skips every queue: coordinators see it
// first. It is never shown to the member it is about (SubjectMemberID).
type Concern struct {
	ID              int64
	RaisedBy        int64
	SubjectType     ConcernSubject
	SubjectID       int64 // the request, offer, member or match; 0 for a general concern
	SubjectMemberID int64 // the member it is about, resolved from the subject; 0 when none
	Text            string
	Urgent          bool
	CreatedAt       time.Time
	HandledAt       time.Time // zero while open
	HandledBy       int64
	HandledNote     string
}

// Handled reports whether a coordinator has dealt with the concern.
func (c Concern) Handled() bool { return !c.HandledAt.IsZero() }

// ConcernListing is a concern with the names coordinators read it by.
type ConcernListing struct {
	Concern
	RaisedByName    string
	SubjectName     string // the name of the member it is about, when there is one
	HandledByName   string
	RaisedByRemoved bool // the person who raised it has since been removed
}

// ConcernCursor marks where a page of concerns ended: open ones come first, each newest first.
type ConcernCursor struct {
	Handled bool
	ID      int64
}

// ConcernQuery selects concerns, open ones first, then newest first.
type ConcernQuery struct {
	RaisedBy int64  // only those this member raised; 0 for all
	NotAbout int64  // leave out those about this member (never shown to them)
	Status   string // "open", "handled", or empty for both
	After    *ConcernCursor
	Limit    int
}

// Statuses of concerns as coordinators filter them.
const (
	ConcernOpen    = "open"
	ConcernHandled = "handled"
)

// ConcernInput is a concern as someone raising it types it in.
type ConcernInput struct {
	About     string // a ConcernSubject
	SubjectID string // the number of the request, offer, member or match; empty for general
	// Who, for a match: "requester" or "helper"; when empty, the other party to the one raising it.
	Who    string
	Text   string
	Urgent bool
}

// The parties of a match a concern can name.
const (
	PartyRequester = "requester"
	PartyHelper    = "helper"
)

// ConcernPage is one page of concerns and where the next begins (nil on the last).
type ConcernPage struct {
	Items []ConcernListing
	Next  *ConcernCursor
}

// RaiseConcern records a concern from anyone signed in. The server decides whom it concerns from
// the subject: a request's requester, an offer's helper, the member of a profile, and for a match
// the party named, or else the other party to the one raising it.
func (s *Safeguarding) RaiseConcern(ctx context.Context, by Actor, in ConcernInput) (Concern, error) {
	if by.ID == 0 {
		return Concern{}, ErrUnauthenticated
	}
	v := &ValidationError{}
	c := Concern{RaisedBy: by.ID, SubjectType: ParseConcernSubject(in.About), Urgent: in.Urgent}
	if strings.TrimSpace(in.About) == "" {
		c.SubjectType = ConcernGeneral
	}
	if !c.SubjectType.Valid() {
		v.Add("about", "Choose what the concern is about from the list")
	}
	if c.SubjectType.Valid() && c.SubjectType != ConcernGeneral {
		raw := strings.TrimSpace(in.SubjectID)
		id, ok := ParseID(raw)
		switch {
		case raw == "":
			v.Add("subject_id", "Give the number of the %s, from its page's address; or choose \"Something in general\"", c.SubjectType)
		case !ok:
			v.Add("subject_id", "Give the number of the %s as digits, such as 123", c.SubjectType)
		default:
			c.SubjectID = id
			if err := s.resolveSubject(ctx, v, by, &c, in.Who); err != nil {
				return Concern{}, err
			}
		}
	}
	text := strings.TrimSpace(in.Text)
	switch {
	case text == "":
		v.Add("text", "Say what happened, or what worries you")
	case utf8.RuneCountInString(text) > MaxConcernLen:
		v.Add("text", "What happened must be at most %d characters; it has %d", MaxConcernLen, utf8.RuneCountInString(text))
	}
	if err := v.OrNil(); err != nil {
		return Concern{}, err
	}
	c.Text, c.CreatedAt = text, s.clock.now()
	err := s.tx.Transact(ctx, func(ctx context.Context) error {
		if err := s.store.CreateConcern(ctx, &c); err != nil {
			return err
		}
		return s.audit.Record(ctx, by, AuditConcernRaised, "concern", c.ID, map[string]string{"urgent": strconv.FormatBool(c.Urgent)})
	})
	if err != nil {
		return Concern{}, fmt.Errorf("raise a concern: %w", err)
	}
	return c, nil
}

// resolveSubject finds the member a concern is about; a subject that does not exist is a field error.
func (s *Safeguarding) resolveSubject(ctx context.Context, v *ValidationError, by Actor, c *Concern, who string) error {
	missing := func(err error) error {
		if errors.Is(err, ErrNotFound) {
			v.Add("subject_id", "There is no %s number %d", c.SubjectType, c.SubjectID)
			return nil
		}
		return err
	}
	switch c.SubjectType {
	case ConcernRequest:
		r, err := s.store.Request(ctx, c.SubjectID)
		if err != nil {
			return missing(err)
		}
		c.SubjectMemberID = r.MemberID
	case ConcernOffer:
		o, err := s.store.Offer(ctx, c.SubjectID)
		if err != nil {
			return missing(err)
		}
		c.SubjectMemberID = o.MemberID
	case ConcernMember:
		m, err := s.store.Member(ctx, c.SubjectID)
		if err != nil {
			return missing(err)
		}
		c.SubjectMemberID = m.ID
	case ConcernMatch:
		requester, helper, err := s.store.MatchParties(ctx, c.SubjectID)
		if err != nil {
			return missing(err)
		}
		switch strings.ToLower(strings.TrimSpace(who)) {
		case PartyRequester:
			c.SubjectMemberID = requester
		case PartyHelper:
			c.SubjectMemberID = helper
		case "":
			switch by.ID {
			case requester:
				c.SubjectMemberID = helper
			case helper:
				c.SubjectMemberID = requester
			default:
				v.Add("who", "Say whom in the match this is about: the person who asked for support, or the helper")
			}
		default:
			v.Add("who", "Say whom in the match this is about: the person who asked for support, or the helper")
		}
	}
	return nil
}

// ConcernsRaisedBy lists the concerns a member raised, leaving out any about themself; the
// caller shows only what each was about and whether it has been handled.
func (s *Safeguarding) ConcernsRaisedBy(ctx context.Context, by Actor) ([]Concern, error) {
	if by.ID == 0 {
		return nil, ErrUnauthenticated
	}
	rows, err := s.store.ListConcerns(ctx, ConcernQuery{RaisedBy: by.ID, NotAbout: by.ID, Limit: MaxPageSize})
	if err != nil {
		return nil, fmt.Errorf("concerns raised by %d: %w", by.ID, err)
	}
	out := make([]Concern, len(rows))
	for i, r := range rows {
		// What a member sees of their own concern: what it was about, when, and whether handled.
		out[i] = Concern{ID: r.ID, RaisedBy: r.RaisedBy, SubjectType: r.SubjectType, SubjectID: r.SubjectID,
			Urgent: r.Urgent, CreatedAt: r.CreatedAt, HandledAt: r.HandledAt}
	}
	return out, nil
}

// Concerns lists concerns for coordinators, open ones first, then newest first, leaving out any
// about the coordinator asking. With withText each concern's account is included, and reading it
// is audited; without, only what it is about, who raised it and its status. Coordinators only.
func (s *Safeguarding) Concerns(ctx context.Context, by Actor, q ConcernQuery, withText bool) (ConcernPage, error) {
	if err := requireCoordinator(by); err != nil {
		return ConcernPage{}, err
	}
	switch q.Status {
	case "", ConcernOpen, ConcernHandled:
	default:
		return ConcernPage{}, Invalid("status", "Choose open or handled, or leave it out for both")
	}
	if q.Limit <= 0 {
		q.Limit = DefaultPageSize
	}
	q.Limit = min(q.Limit, MaxPageSize)
	limit := q.Limit
	q.RaisedBy, q.NotAbout, q.Limit = 0, by.ID, limit+1
	rows, err := s.store.ListConcerns(ctx, q)
	if err != nil {
		return ConcernPage{}, fmt.Errorf("list concerns: %w", err)
	}
	page := ConcernPage{Items: rows}
	if len(rows) > limit {
		page.Items = rows[:limit]
		last := page.Items[limit-1]
		page.Next = &ConcernCursor{Handled: last.Handled(), ID: last.ID}
	}
	for i := range page.Items {
		if !withText {
			page.Items[i].Text, page.Items[i].HandledNote = "", ""
			continue
		}
		if err := s.audit.Record(ctx, by, AuditConcernViewed, "concern", page.Items[i].ID, map[string]string{"via": "list"}); err != nil {
			return ConcernPage{}, fmt.Errorf("list concerns: %w", err)
		}
	}
	return page, nil
}

// CountOpenConcerns counts the concerns waiting for a coordinator, leaving out any about the
// coordinator asking. Coordinators only.
func (s *Safeguarding) CountOpenConcerns(ctx context.Context, by Actor) (int, error) {
	if err := requireCoordinator(by); err != nil {
		return 0, err
	}
	n, err := s.store.CountOpenConcerns(ctx, by.ID)
	if err != nil {
		return 0, fmt.Errorf("count open concerns: %w", err)
	}
	return n, nil
}

// concernFor reads a concern a coordinator may see: one about them is not found, for them.
func (s *Safeguarding) concernFor(ctx context.Context, by Actor, id int64) (ConcernListing, error) {
	if err := requireCoordinator(by); err != nil {
		return ConcernListing{}, err
	}
	c, err := s.store.Concern(ctx, id)
	if err != nil {
		return ConcernListing{}, fmt.Errorf("concern %d: %w", id, err)
	}
	if c.SubjectMemberID != 0 && c.SubjectMemberID == by.ID {
		return ConcernListing{}, fmt.Errorf("concern %d: %w", id, ErrNotFound)
	}
	return c, nil
}

// Concern returns one concern in full, and records that the coordinator read it. Coordinators
// only, and never the coordinator it is about.
func (s *Safeguarding) Concern(ctx context.Context, by Actor, id int64) (ConcernListing, error) {
	c, err := s.concernFor(ctx, by, id)
	if err != nil {
		return ConcernListing{}, err
	}
	if err := s.audit.Record(ctx, by, AuditConcernViewed, "concern", id, nil); err != nil {
		return ConcernListing{}, fmt.Errorf("concern %d: %w", id, err)
	}
	return c, nil
}

// HandleConcern marks a concern handled, with a note of what was done. Coordinators only, and
// never the coordinator it is about.
func (s *Safeguarding) HandleConcern(ctx context.Context, by Actor, id int64, note string) (ConcernListing, error) {
	c, err := s.concernFor(ctx, by, id)
	if err != nil {
		return ConcernListing{}, err
	}
	note = strings.TrimSpace(note)
	switch {
	case note == "":
		return ConcernListing{}, Invalid("note", "Say what was done about the concern, for the record")
	case utf8.RuneCountInString(note) > MaxHandledNoteLen:
		return ConcernListing{}, Invalid("note", "The note must be at most %d characters; it has %d", MaxHandledNoteLen, utf8.RuneCountInString(note))
	}
	if c.Handled() {
		return ConcernListing{}, s.alreadyHandled(c)
	}
	now := s.clock.now()
	err = s.tx.Transact(ctx, func(ctx context.Context) error {
		if err := s.store.HandleConcern(ctx, id, by.ID, note, now); err != nil {
			return err
		}
		return s.audit.Record(ctx, by, AuditConcernHandled, "concern", id, nil)
	})
	if errors.Is(err, ErrConflict) {
		if c, rerr := s.store.Concern(ctx, id); rerr == nil {
			return ConcernListing{}, s.alreadyHandled(c)
		}
	}
	if err != nil {
		return ConcernListing{}, fmt.Errorf("handle concern %d: %w", id, err)
	}
	c.HandledAt, c.HandledBy, c.HandledNote, c.HandledByName = now, by.ID, note, by.Name
	return c, nil
}

func (s *Safeguarding) alreadyHandled(c ConcernListing) error {
	who := c.HandledByName
	if who == "" {
		who = "another coordinator"
	}
	return &ConflictError{Message: fmt.Sprintf("This concern was already marked handled by %s on %s.", who,
		c.HandledAt.In(s.loc).Format("2 January 2006 at 15:04"))}
}
