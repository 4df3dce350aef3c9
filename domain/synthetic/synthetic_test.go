package synthetic

import (
	"reflect"
	"testing"
	"time"

	"github.com/coop-exchange/coop/domain"
)

var cats = []domain.Category{{ID: 1, Slug: "sitting", RequiresCheck: true}, {ID: 2, Slug: "transport"}, {ID: 3, Slug: "companionship"},
	{ID: 4, Slug: "shopping-errands"}, {ID: 5, Slug: "befriending-calls"}}

func plan(seed uint64) Plan {
	loc, _ := time.LoadLocation("Europe/London")
	return Plan{Seed: seed, Members: 400, Offers: 600, Requests: 2000, Start: time.Date(2026, 3, 20, 15, 0, 0, 0, loc), Loc: loc}
}

func TestSameSeedSameCommunity(t *testing.T) {
	a, err := Make(plan(7), cats)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := Make(plan(7), cats)
	c, _ := Make(plan(8), cats)
	if !reflect.DeepEqual(a, b) {
		t.Error("the same seed made two different communities")
	}
	if reflect.DeepEqual(a.Requests, c.Requests) {
		t.Error("different seeds made the same requests")
	}
	if len(a.Members) != 400 || len(a.Offers) != 600 || len(a.Requests) != 2000 || len(a.Series) != 2000 {
		t.Errorf("made %d members, %d offers, %d requests", len(a.Members), len(a.Offers), len(a.Requests))
	}
}

// TestEverythingObeysTheRules checks the synthetic posts against the rules real posts obey, and
// that the mix is believable.
func TestEverythingObeysTheRules(t *testing.T) {
	p := plan(3)
	c, err := Make(p, cats)
	if err != nil {
		t.Fatal(err)
	}
	emails := map[string]bool{}
	for _, m := range c.Members {
		if emails[m.Email] || m.AreaID < 1 || int(m.AreaID) > len(c.Areas) || !m.Synthetic {
			t.Fatalf("member %+v", m)
		}
		emails[m.Email] = true
	}
	for _, a := range c.Areas {
		v := &domain.ValidationError{}
		domain.AreaInput{Name: a.Name, Code: a.Code, Lat: &a.Lat, Lon: &a.Lon}.Validate(v)
		if v.OrNil() != nil {
			t.Fatalf("area %+v: %v", a, v)
		}
	}
	for _, o := range c.Offers {
		in := domain.OfferInput{Category: "x", Description: o.Description, RadiusKm: &o.RadiusKm, MaxPerWeek: &o.MaxPerWeek}
		for _, s := range o.Slots {
			in.Slots = append(in.Slots, domain.SlotInput{Day: domain.DayCode(s.Day), From: domain.FormatClock(s.From), To: domain.FormatClock(s.To)})
		}
		v := &domain.ValidationError{}
		in.Validate(v)
		if v.OrNil() != nil {
			t.Fatalf("offer %+v: %v", o, v)
		}
	}
	urgent, series, forOthers := 0, 0, 0
	for i, r := range c.Requests {
		if !r.Start.After(p.Start) || !r.End.After(r.Start) || r.End.Sub(r.Start) > domain.MaxOccasion {
			t.Fatalf("request %d starts %s, ends %s", i, r.Start, r.End)
		}
		if r.CategoryID == 1 && !r.NeedsCheck {
			t.Fatalf("a sitting request without a check: %+v", r)
		}
		if r.Urgency == domain.Urgent {
			urgent++
		}
		if c.Series[i] != 0 {
			series++
		}
		if r.ForWhom != nil {
			forOthers++
		}
	}
	share := func(n int) float64 { return float64(n) / float64(len(c.Requests)) }
	if u := share(urgent); u < 0.05 || u > 0.25 {
		t.Errorf("%.0f%% urgent", u*100)
	}
	if s := share(series); s < 0.2 || s > 0.6 {
		t.Errorf("%.0f%% in weekly series", s*100)
	}
	if f := share(forOthers); f < 0.3 || f > 0.5 {
		t.Errorf("%.0f%% for someone else", f*100)
	}
}
