package app

import (
	"time"

	"github.com/coop-exchange/coop/domain"
)

// The API's records on the wire (snake_case, RFC 3339 times), as the OpenAPI document describes.

type memberJSON struct {
	ID        int64     `json:"id"`
	Name      string    `json:"name"`
	Email     *string   `json:"email"`
	Phone     string    `json:"phone"`
	Role      string    `json:"role"`
	Status    string    `json:"status"`
	AreaID    *int64    `json:"area_id"`
	CreatedAt time.Time `json:"created_at"`
}

func toMemberJSON(m domain.Member) memberJSON {
	j := memberJSON{ID: m.ID, Name: m.Name, Phone: m.Phone, Role: string(m.Role), Status: string(m.Status), CreatedAt: m.CreatedAt}
	if m.Email != "" {
		j.Email = &m.Email
	}
	if m.AreaID != 0 {
		j.AreaID = &m.AreaID
	}
	return j
}

// applicationJSON is an applicant as coordinators see them in the queue.
type applicationJSON struct {
	memberJSON
	Reason         string     `json:"reason"`
	AppliedAt      time.Time  `json:"applied_at"`
	DecisionReason string     `json:"decision_reason,omitempty"`
	DecidedAt      *time.Time `json:"decided_at,omitempty"`
}

func toApplicationJSON(m domain.Member) applicationJSON {
	j := applicationJSON{memberJSON: toMemberJSON(m), Reason: m.JoinReason, AppliedAt: m.CreatedAt, DecisionReason: m.DecisionReason}
	if !m.DecidedAt.IsZero() {
		j.DecidedAt = &m.DecidedAt
	}
	return j
}

type consentJSON struct {
	Kind        string     `json:"kind"`
	Wording     string     `json:"wording"`
	GivenAt     time.Time  `json:"given_at"`
	RecordedBy  *int64     `json:"recorded_by"`
	WithdrawnAt *time.Time `json:"withdrawn_at"`
}

func toConsentJSON(c domain.Consent) consentJSON {
	j := consentJSON{Kind: string(c.Kind), Wording: c.Wording, GivenAt: c.GivenAt}
	if c.RecordedBy != 0 {
		j.RecordedBy = &c.RecordedBy
	}
	if !c.WithdrawnAt.IsZero() {
		j.WithdrawnAt = &c.WithdrawnAt
	}
	return j
}

type areaJSON struct {
	ID   int64   `json:"id"`
	Name string  `json:"name"`
	Code string  `json:"code"`
	Lat  float64 `json:"lat"`
	Lon  float64 `json:"lon"`
}

func toAreaJSON(a domain.Area) areaJSON {
	return areaJSON{ID: a.ID, Name: a.Name, Code: a.Code, Lat: a.Lat, Lon: a.Lon}
}

type categoryJSON struct {
	ID            int64    `json:"id"`
	Slug          string   `json:"slug"`
	Name          string   `json:"name"`
	RequiresCheck bool     `json:"requires_check"`
	TaxonomyTerms []string `json:"taxonomy_terms"`
	// Moderation: "coordinator" (proposals wait for approval) or "direct" (straight to the people).
	Moderation string `json:"moderation"`
	// Escalation: the timings in force, the category's own or the defaults.
	Escalation categoryTimingsJSON `json:"escalation"`
}

// categoryTimingsJSON is when a category's unmet requests are passed on, by urgency.
type categoryTimingsJSON struct {
	Urgent  timingJSON `json:"urgent"`
	Soon    timingJSON `json:"soon"`
	Routine timingJSON `json:"routine"`
}

// timingJSON: passed on after waiting WaitMinutes since posting, or LeadMinutes before the
// start, whichever comes first.
type timingJSON struct {
	WaitMinutes int `json:"wait_minutes"`
	LeadMinutes int `json:"lead_minutes"`
}

func toCategoryJSON(c domain.Category) categoryJSON {
	terms := c.TaxonomyTerms
	if terms == nil {
		terms = []string{}
	}
	timings := c.EscalationTimings()
	timing := func(u domain.Urgency) timingJSON {
		return timingJSON{WaitMinutes: int(timings[u].Wait / time.Minute), LeadMinutes: int(timings[u].Lead / time.Minute)}
	}
	return categoryJSON{ID: c.ID, Slug: c.Slug, Name: c.Name, RequiresCheck: c.RequiresCheck, TaxonomyTerms: terms, Moderation: string(c.Moderation),
		Escalation: categoryTimingsJSON{Urgent: timing(domain.Urgent), Soon: timing(domain.Soon), Routine: timing(domain.Routine)}}
}

func toAll[T, J any](items []T, conv func(T) J) []J {
	out := make([]J, len(items))
	for i, it := range items {
		out[i] = conv(it)
	}
	return out
}
