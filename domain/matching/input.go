package matching

import (
	"time"

	"github.com/coop-exchange/coop/domain"
)

// Request is an open request without a live match.
type Request struct {
	ID            int64
	RequesterID   int64
	RequesterName string // first name, for reasons such as "has helped Ann twice before"
	CategoryID    int64
	CategoryName  string
	AreaName      string
	Located       bool // false when its area has no centre (the request is reported, not matched)
	Lat, Lon      float64
	Start, End    time.Time
	Urgent        bool
	NeedsCheck    bool // the category needs a check, or the requester asked for one
	// Version is when the request last changed, carried to its proposal so that the pass
	// writes it only if the request has not changed since.
	Version time.Time
}

// Offer is an active offer of an active helper.
type Offer struct {
	ID         int64
	HelperID   int64
	CategoryID int64
	RadiusKm   float64
	Slots      []domain.Slot
	MaxPerWeek int
	Version    time.Time // when the offer last changed (see Request.Version)
}

// Check is a verified check a helper holds, valid through the date of ValidUntil in the co-op's
// time zone (its re-check date).
type Check struct {
	Kind       string // "DBS"
	ValidUntil time.Time
}

// Commitment is a live match of a helper: the window of its request.
type Commitment struct {
	Start, End time.Time
}

// Helper is an active member with at least one active offer.
type Helper struct {
	ID          int64
	FirstName   string
	Name        string // the whole name, for coordinators
	Located     bool
	Lat, Lon    float64
	Checks      []Check
	Commitments []Commitment
	// Awaiting: a proposal is waiting for this helper's answer, so nothing more is proposed.
	Awaiting bool
	// LastProposed is when the helper was last proposed for anything; zero when not in the
	// past four weeks, which scores as never.
	LastProposed time.Time
}

// Pair names a request and a helper.
type Pair struct {
	RequestID, HelperID int64
}

// Input is everything one pass needs to know.
type Input struct {
	Requests []Request
	Offers   []Offer
	Helpers  []Helper
	// Excluded pairs were rejected by a coordinator or declined before: never proposed again.
	Excluded map[Pair]bool
	// History counts completed matches between a helper and a requester, by Pair{requester, helper}.
	History map[Pair]int
	Loc     *time.Location
	Now     time.Time
}

// Proposal is one suggested match and why.
type Proposal struct {
	RequestID, OfferID, HelperID int64
	Urgent                       bool
	Score                        float64
	Reasons                      []string
	// The versions of the request and the offer the proposal was made from.
	RequestVersion, OfferVersion time.Time
}

// Code says, for counting, why a request was left unmatched.
type Code string

// The reasons a request is left unmatched, in the order the rules are tried.
const (
	NoLocation        Code = "no_location"
	NoOffers          Code = "no_offers"
	NoneInRange       Code = "none_in_range"
	HelpersUnlocated  Code = "helpers_unlocated"
	OnlyOwnOffers     Code = "only_own_offers"
	NoneFree          Code = "none_free"
	NoneChecked       Code = "none_checked"
	DeclinedBefore    Code = "declined_before"
	HelpersBusy       Code = "helpers_busy"
	TakenByMoreUrgent Code = "taken_by_more_urgent"
	TakenByOther      Code = "taken_by_other"
)

// Label says briefly what a code means, for lists and filters.
func (c Code) Label() string {
	switch c {
	case NoLocation:
		return "Where it is needed has no location"
	case NoOffers:
		return "Nobody offers this kind of support"
	case HelpersUnlocated:
		return "The only helpers have no location"
	case NoneInRange:
		return "No helper within range"
	case OnlyOwnOffers:
		return "The only helper in range is the requester"
	case NoneFree:
		return "No helper in range is free then"
	case NoneChecked:
		return "No helper in range and free has a current check"
	case DeclinedBefore:
		return "Helpers in range declined it or were turned down before"
	case HelpersBusy:
		return "Helpers are committed, at their weekly limit or answering another proposal"
	case TakenByMoreUrgent:
		return "Helpers were proposed for more urgent requests"
	case TakenByOther:
		return "Helpers were proposed for other requests"
	}
	return string(c)
}

// Codes lists every code, for metrics and filters.
var Codes = []Code{NoLocation, NoOffers, HelpersUnlocated, NoneInRange, OnlyOwnOffers, NoneFree, NoneChecked, DeclinedBefore, HelpersBusy, TakenByMoreUrgent, TakenByOther}

// Unmatched is a request left without a proposal, and why.
type Unmatched struct {
	RequestID int64
	Code      Code
	Reason    string
}

// Stats says how big a pass was.
type Stats struct {
	Requests, Helpers, CandidatePairs int
}

// Result is what a pass proposes and leaves.
type Result struct {
	Proposals []Proposal
	Unmatched []Unmatched
	Stats     Stats
}
