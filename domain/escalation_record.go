package domain

import "time"

// EscalationRecord is everything about one escalation that may leave the co-op, gathered for a
// service: the need (not the member's profile), when and where, how urgent, the person's first
// name and phone only when their consent covers it, the consent itself, the service and the
// history. The FHIR export and the services inbox are drawn from it.
type EscalationRecord struct {
	ID             int64
	Status         EscalationStatus
	BusinessStatus string // "acknowledged" once the service has seen it, else ""
	Reason         string // why it was escalated: "no helper found by the deadline", a coordinator's note
	StatusReason   string // the service's reason for a rejection, or the co-op's for a cancellation
	Outcome        string // what the service did, once completed
	CreatedAt      time.Time
	SentAt         time.Time // zero while a draft
	RespondBy      time.Time
	UpdatedAt      time.Time
	History        []EscalationChange

	// The need.
	RequestID      int64
	CategorySlug   string
	CategoryName   string
	TaxonomyTerms  []string // the category's terms, e.g. "esdServiceType:272"
	Description    string
	Start, End     time.Time
	Urgency        Urgency
	AreaName       string
	AreaCode       string // a postcode district, e.g. "DN15"
	ForSomeoneElse bool   // the member asked for someone they care for
	Tried          string // what the co-op tried, in words: "the matcher found no helper within range ..."

	// The person, only as far as their consent allows: empty otherwise.
	FirstName string
	Phone     string
	NHSNumber string // only if given; never required

	// The consent to pass the need on.
	ConsentWording   string
	ConsentGivenAt   time.Time
	ConsentContact   bool   // the first name and phone number may be shared too
	ConsentRecipient string // the kind of recipient it names: "formal services (council, NHS, charities)"

	// The service it was sent to.
	ServiceID       int64
	ServiceSourceID string // its HSDS id, when imported
	ServiceName     string
	Organisation    string

	// The co-op, as the requester of the referral.
	CoopName string
	BaseURL  string // e.g. https://coop.example.org, for links and identifiers
}

// EscalationChange is one change in an escalation's life, with who and when.
type EscalationChange struct {
	At             time.Time
	Status         EscalationStatus
	BusinessStatus string
	By             string // a name: a coordinator, a services user, or "the matcher"
	Side           Side
	Note           string
}

// Label says the change in plain words: a service's change that leaves the escalation requested
// can only be its acknowledgement.
func (c EscalationChange) Label() string {
	if c.Side == SideService && c.Status == EscalationRequested {
		return "Acknowledged by the service"
	}
	return c.Status.Label()
}
