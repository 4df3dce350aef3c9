package app

import (
	"time"

	"github.com/coop-exchange/coop/domain"
)

type slotJSON struct {
	Day  string `json:"day"`
	From string `json:"from"`
	To   string `json:"to"`
}

func toSlotsJSON(slots []domain.Slot) []slotJSON {
	out := make([]slotJSON, len(slots))
	for i, s := range slots {
		out[i] = slotJSON{Day: domain.DayCode(s.Day), From: domain.FormatClock(s.From), To: domain.FormatClock(s.To)}
	}
	return out
}

func fromSlotsJSON(in []slotJSON) []domain.SlotInput {
	out := make([]domain.SlotInput, len(in))
	for i, s := range in {
		out[i] = domain.SlotInput{Day: s.Day, From: s.From, To: s.To}
	}
	return out
}

// offerJSON is an offer on the wire. member_id and created_by are there only for the helper
// themself and coordinators; a neighbour sees the first name and area.
type offerJSON struct {
	ID          int64      `json:"id"`
	MemberID    *int64     `json:"member_id,omitempty"`
	FirstName   string     `json:"first_name"`
	AreaID      *int64     `json:"area_id"`
	Category    string     `json:"category"`
	Description string     `json:"description"`
	Slots       []slotJSON `json:"slots"`
	RadiusKm    float64    `json:"radius_km"`
	MaxPerWeek  int        `json:"max_per_week"`
	Status      string     `json:"status"`
	NeedsCheck  bool       `json:"needs_check"`
	CreatedBy   *int64     `json:"created_by,omitempty"`
	CreatedAt   time.Time  `json:"created_at"`
}

func (s *Server) toOfferJSON(o domain.OfferListing, full bool, cats []domain.Category) offerJSON {
	cat := categoryOf(cats, o.CategoryID)
	j := offerJSON{ID: o.ID, FirstName: o.FirstName, Category: cat.Slug, Description: o.Description, Slots: toSlotsJSON(o.Slots),
		RadiusKm: o.RadiusKm, MaxPerWeek: o.MaxPerWeek, Status: string(o.Status), NeedsCheck: cat.RequiresCheck, CreatedAt: o.CreatedAt}
	if o.AreaID != 0 {
		j.AreaID = &o.AreaID
	}
	if full {
		j.MemberID = &o.MemberID
		if o.CreatedBy != 0 {
			j.CreatedBy = &o.CreatedBy
		}
	}
	return j
}

type forWhomJSON struct {
	Name         string `json:"name,omitempty"`
	Relationship string `json:"relationship"`
}

type escalationConsentJSON struct {
	Wording         string     `json:"wording"`
	IncludesContact bool       `json:"includes_contact"`
	GivenAt         time.Time  `json:"given_at"`
	WithdrawnAt     *time.Time `json:"withdrawn_at"`
}

// requestJSON is a request on the wire. Private fields (member_id, the supported person's name,
// private notes, consents, the cancellation reason) are there only for the requester and
// coordinators.
type requestJSON struct {
	ID                int64                  `json:"id"`
	MemberID          *int64                 `json:"member_id,omitempty"`
	FirstName         string                 `json:"first_name"`
	Category          string                 `json:"category"`
	Description       string                 `json:"description"`
	AreaID            int64                  `json:"area_id"`
	ForWhom           *forWhomJSON           `json:"for_whom"`
	Start             time.Time              `json:"start"`
	End               time.Time              `json:"end"`
	Urgency           string                 `json:"urgency"`
	NeedsCheck        bool                   `json:"needs_check"`
	Status            string                 `json:"status"`
	SeriesID          *int64                 `json:"series_id"`
	PrivateNotes      *string                `json:"private_notes,omitempty"`
	ConsentToEscalate *bool                  `json:"consent_to_escalate,omitempty"`
	EscalationConsent *escalationConsentJSON `json:"escalation_consent,omitempty"`
	CancelReason      *string                `json:"cancel_reason,omitempty"`
	CreatedBy         *int64                 `json:"created_by,omitempty"`
	CreatedAt         time.Time              `json:"created_at"`
}

func toRequestJSON(r domain.RequestListing, full bool, cats []domain.Category) requestJSON {
	j := requestJSON{ID: r.ID, FirstName: r.FirstName, Category: categoryOf(cats, r.CategoryID).Slug, Description: r.Description,
		AreaID: r.AreaID, Start: r.Start, End: r.End, Urgency: string(r.Urgency), NeedsCheck: r.NeedsCheck,
		Status: string(r.Status), CreatedAt: r.CreatedAt}
	if r.SeriesID != 0 {
		j.SeriesID = &r.SeriesID
	}
	if r.ForWhom != nil {
		j.ForWhom = &forWhomJSON{Relationship: r.ForWhom.Relationship}
	}
	if !full {
		return j
	}
	j.MemberID = &r.MemberID
	if r.ForWhom != nil {
		j.ForWhom.Name = r.ForWhom.FirstName
	}
	notes, reason, consent := r.PrivateNotes, r.CancelReason, r.ConsentToEscalate()
	j.PrivateNotes, j.ConsentToEscalate = &notes, &consent
	if r.Status == domain.RequestCancelled {
		j.CancelReason = &reason
	}
	if e := r.Escalation; e != nil {
		j.EscalationConsent = &escalationConsentJSON{Wording: e.Wording, IncludesContact: e.IncludesContact, GivenAt: e.GivenAt}
		if !e.WithdrawnAt.IsZero() {
			j.EscalationConsent.WithdrawnAt = &e.WithdrawnAt
		}
	}
	if r.CreatedBy != 0 {
		j.CreatedBy = &r.CreatedBy
	}
	return j
}

func categoryOf(cats []domain.Category, id int64) domain.Category {
	for _, c := range cats {
		if c.ID == id {
			return c
		}
	}
	return domain.Category{ID: id}
}
