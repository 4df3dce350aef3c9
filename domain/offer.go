package domain

import (
	"strings"
	"time"
	"unicode/utf8"
)

// OfferStatus is where an offer is in its life.
type OfferStatus string

// The offer statuses. Only active offers are shown to neighbours and matched.
const (
	OfferActive    OfferStatus = "active"
	OfferPaused    OfferStatus = "paused"
	OfferWithdrawn OfferStatus = "withdrawn"
)

// Label is the status as shown to people.
func (s OfferStatus) Label() string {
	switch s {
	case OfferActive:
		return "Active"
	case OfferPaused:
		return "Paused"
	case OfferWithdrawn:
		return "Withdrawn"
	}
	return string(s)
}

// Offer is a member's standing offer of support in one category.
type Offer struct {
	ID          int64
	MemberID    int64
	CategoryID  int64
	Description string
	Slots       []Slot
	RadiusKm    float64
	MaxPerWeek  int
	Status      OfferStatus
	CreatedBy   int64 // who posted it: the member, or a coordinator on their behalf
	CreatedAt   time.Time
	UpdatedAt   time.Time
	// ConfirmedAt is when the helper last said the offer stands: posting, changing, resuming and
	// confirming it all count. An offer unconfirmed for StaleAfter is asked about.
	ConfirmedAt time.Time
	// StaleAskedAt is when the helper was asked whether the offer still stands; zero when nothing
	// is asked. Unanswered for PauseAfterAsking, the offer is paused.
	StaleAskedAt time.Time
}

// Radius and commitment limits of an offer.
const (
	MinRadiusKm       = 0.5
	MaxRadiusKm       = 50
	MaxCommitments    = 21
	maxDescriptionLen = 1000
	maxNotesLen       = 2000
)

// OfferInput is what a member (or a coordinator for them) gives to post or change an offer.
// Nil numbers mean "not given".
type OfferInput struct {
	MemberID    int64 // whose offer; 0 for the person posting it
	Category    string
	Description string
	Slots       []SlotInput
	RadiusKm    *float64
	MaxPerWeek  *int
}

// Validate checks in (but for whether its category exists) and returns the valid slots.
func (in OfferInput) Validate(v *ValidationError) []Slot {
	if strings.TrimSpace(in.Category) == "" {
		v.Add("category", "Choose the kind of support")
	}
	checkText(v, "description", strings.TrimSpace(in.Description), true, maxDescriptionLen,
		"Say what you can offer, such as lifts to appointments in a small car")
	slots := parseSlots(v, "slots", in.Slots)
	switch {
	case in.RadiusKm == nil:
		v.Add("radius_km", "Say how far you would travel, in km")
	case *in.RadiusKm < MinRadiusKm || *in.RadiusKm > MaxRadiusKm:
		v.Add("radius_km", "Give a distance between %g and %g km", MinRadiusKm, float64(MaxRadiusKm))
	}
	switch {
	case in.MaxPerWeek == nil:
		v.Add("max_per_week", "Say at most how many times a week you could help")
	case *in.MaxPerWeek < 1 || *in.MaxPerWeek > MaxCommitments:
		v.Add("max_per_week", "Give a number from 1 to %d", MaxCommitments)
	}
	return slots
}

// SearchWords splits a search into folded words, at most a few, each of a sensible length.
func SearchWords(q string) []string {
	var out []string
	for _, w := range strings.Fields(strings.ToLower(q)) {
		if utf8.RuneCountInString(w) > 40 {
			continue
		}
		out = append(out, w)
		if len(out) == 5 {
			break
		}
	}
	return out
}
