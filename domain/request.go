package domain

import (
	"strings"
	"time"
)

// Urgency says how soon a request needs a helper; it sets when an unmet need is escalated.
type Urgency string

// The urgencies.
const (
	Routine Urgency = "routine"
	Soon    Urgency = "soon"
	Urgent  Urgency = "urgent"
)

// Urgencies lists the urgencies, least urgent first.
var Urgencies = []Urgency{Routine, Soon, Urgent}

// Label is the urgency as shown to people.
func (u Urgency) Label() string {
	switch u {
	case Routine:
		return "Routine"
	case Soon:
		return "Soon"
	case Urgent:
		return "Urgent"
	}
	return string(u)
}

// RequestStatus is where a request is in its life.
type RequestStatus string

// The request statuses.
const (
	RequestOpen      RequestStatus = "open"
	RequestMatched   RequestStatus = "matched"
	RequestFulfilled RequestStatus = "fulfilled"
	RequestEscalated RequestStatus = "escalated"
	RequestCancelled RequestStatus = "cancelled"
	RequestExpired   RequestStatus = "expired"
)

// Label is the status as shown to people.
func (s RequestStatus) Label() string {
	switch s {
	case RequestOpen:
		return "Looking for a helper"
	case RequestMatched:
		return "Matched"
	case RequestFulfilled:
		return "Done"
	case RequestEscalated:
		return "Passed to a formal service"
	case RequestCancelled:
		return "Cancelled"
	case RequestExpired:
		return "No helper was found in time"
	}
	return string(s)
}

// SupportedPerson is someone a member asks on behalf of: "Ann, my mum".
type SupportedPerson struct {
	FirstName    string
	Relationship string
}

// EscalationConsent is the requester's separate, explicit agreement that the co-op may pass the
// need to a formal service if the community cannot meet it.
type EscalationConsent struct {
	Wording string
	// IncludesContact: the service may also have the first name and phone number, to get in touch.
	IncludesContact bool
	GivenAt         time.Time
	WithdrawnAt     time.Time
}

// EscalationConsentWording is what a requester agrees to; it is stored with each consent.
const EscalationConsentWording = "If the co-op cannot find a helper in time, I agree that it may pass this " +
	"need (what is needed, when, the area and how urgent it is) to a formal service that could help, such as " +
	"the council's social care team, an NHS community team or a local charity. The co-op tells me when it does. " +
	"I can withdraw this agreement at any time before it is passed on."

// EscalationContactWording is the extra agreement to share contact details with that service.
const EscalationContactWording = "The service may also have my first name and phone number, so that it can contact me."

// Request is a need for support on one occasion.
type Request struct {
	ID           int64
	MemberID     int64
	CategoryID   int64
	AreaID       int64 // where the support is needed
	SeriesID     int64 // the weekly series it belongs to, 0 for a single occasion
	Description  string
	PrivateNotes string           // address, access, what to bring: never shown to neighbours
	ForWhom      *SupportedPerson // nil when the member asks for themself
	Start        time.Time
	End          time.Time
	Urgency      Urgency
	NeedsCheck   bool
	Escalation   *EscalationConsent // nil when never given
	Status       RequestStatus
	CancelReason string
	CreatedBy    int64
	CreatedAt    time.Time
	UpdatedAt    time.Time
}

// ConsentToEscalate reports whether the need may be passed to a formal service now.
func (r Request) ConsentToEscalate() bool {
	return r.Escalation != nil && r.Escalation.WithdrawnAt.IsZero()
}

// ForNeighbours is the request as another member may see it: no private notes, no name of the
// person supported, no consent or cancellation details.
func (r Request) ForNeighbours() Request {
	r.PrivateNotes, r.CancelReason, r.Escalation, r.CreatedBy = "", "", nil, 0
	if r.ForWhom != nil {
		r.ForWhom = &SupportedPerson{Relationship: r.ForWhom.Relationship}
	}
	return r
}

// Limits on requests.
const (
	MaxOccasion    = 12 * time.Hour
	MaxSeriesWeeks = 26
	maxWhoLen      = 50
)

// RequestInput is what a member (or a coordinator for them) gives to ask for support.
type RequestInput struct {
	MemberID     int64 // whose request; 0 for the person posting it
	Category     string
	Description  string
	PrivateNotes string
	// ForSomeoneElse: the member asks on behalf of the person named here.
	ForSomeoneElse      bool
	ForWhomName         string
	ForWhomRelationship string
	AreaID              int64 // 0 for the member's own area
	Start, End          time.Time
	RepeatWeeks         int // 0 or 1 for one occasion; else one request a week, linked as a series
	Urgency             string
	NeedsCheck          bool
	ConsentToEscalate   bool
	ConsentContact      bool
}

// RequestPatch changes an open request; nil fields stay as they are.
type RequestPatch struct {
	Description       *string
	PrivateNotes      *string
	ForWhom           **SupportedPerson // set to a nil pointer for "myself"
	AreaID            *int64
	Start, End        *time.Time
	Urgency           *string
	NeedsCheck        *bool
	ConsentToEscalate *bool
	ConsentContact    *bool
}

func checkWho(v *ValidationError, p *SupportedPerson) {
	if p == nil {
		return
	}
	checkText(v, "for_whom.name", p.FirstName, true, maxWhoLen, "Give the first name of the person you are asking for")
	checkText(v, "for_whom.relationship", p.Relationship, true, maxWhoLen, "Say who they are to you, such as my mum or a neighbour")
}

// checkWhen validates one occasion: in the future, ending after it starts, at most 12 hours.
func checkWhen(v *ValidationError, start, end, now time.Time) {
	switch {
	case start.IsZero():
		v.Add("start", "Give the date and time the support should start")
	case !start.After(now):
		v.Add("start", "The start must be in the future")
	}
	switch {
	case end.IsZero():
		v.Add("end", "Give the time the support should end")
	case !start.IsZero() && !end.After(start):
		v.Add("end", "The end must be after the start")
	case !start.IsZero() && end.Sub(start) > MaxOccasion:
		v.Add("end", "One occasion can last at most 12 hours; for longer support, ask for several occasions")
	}
}

func parseUrgency(v *ValidationError, s string) Urgency {
	u := Urgency(strings.TrimSpace(s))
	if u == "" {
		u = Routine
	}
	for _, k := range Urgencies {
		if u == k {
			return u
		}
	}
	v.Add("urgency", "Choose how urgent it is: routine, soon or urgent")
	return Routine
}

// Seeking reports whether the community may still meet the request: open, or passed to a
// formal service that may yet be told a neighbour is helping.
func (r Request) Seeking() bool { return r.Status == RequestOpen || r.Status == RequestEscalated }
