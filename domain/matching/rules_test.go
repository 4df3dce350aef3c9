package matching

import (
	"math"
	"strings"
	"testing"
	"time"

	"github.com/coop-exchange/coop/domain"
)

// one builds an instance of one request (a Tuesday lift, 14:00–15:00 in Bridge End) and one
// helper with one offer (Tuesdays 13:00–17:00, 5 km), for changing one thing at a time.
func one() Input {
	day := time.Date(2026, 3, 10, 14, 0, 0, 0, london) // a Tuesday, a week ahead
	return Input{Loc: london, Now: now, Excluded: map[Pair]bool{}, History: map[Pair]int{},
		Requests: []Request{{ID: 1, RequesterID: 50, RequesterName: "Ann", CategoryID: 2, CategoryName: "Transport", AreaName: "Bridge End",
			Located: true, Lat: 53.3811, Lon: -1.4701, Start: day, End: day.Add(time.Hour)}},
		Helpers: []Helper{{ID: 7, FirstName: "Dan", Located: true, Lat: 53.3811 + 0.018, Lon: -1.4701}}, // about 2 km north
		Offers: []Offer{{ID: 70, HelperID: 7, CategoryID: 2, RadiusKm: 5, MaxPerWeek: 2,
			Slots: []domain.Slot{{Day: time.Tuesday, From: 13 * 60, To: 17 * 60}}}},
	}
}

func proposed(t *testing.T, in Input) (Proposal, bool, Unmatched) {
	t.Helper()
	res := Solve(in)
	if len(res.Proposals) == 1 {
		return res.Proposals[0], true, Unmatched{}
	}
	if len(res.Unmatched) != 1 {
		t.Fatalf("want one proposal or one unmatched request, got %+v", res)
	}
	return Proposal{}, false, res.Unmatched[0]
}

func TestRulesAtTheirEdges(t *testing.T) {
	distance := domain.DistanceKm(53.3811, -1.4701, 53.3811+0.018, -1.4701)
	cases := []struct {
		name   string
		change func(*Input)
		match  bool
		code   Code
		reason string
	}{
		{"the plain case", func(*Input) {}, true, "", ""},
		{"exactly at the radius", func(in *Input) { in.Offers[0].RadiusKm = distance }, true, "", ""},
		{"a metre beyond the radius", func(in *Input) { in.Offers[0].RadiusKm = distance - 0.001 }, false, NoneInRange,
			"no helper for transport within range of Bridge End"},
		{"a window ending exactly when the slot ends", func(in *Input) {
			in.Requests[0].Start = time.Date(2026, 3, 10, 16, 0, 0, 0, london)
			in.Requests[0].End = time.Date(2026, 3, 10, 17, 0, 0, 0, london)
		}, true, "", ""},
		{"a window ending a minute after the slot", func(in *Input) {
			in.Requests[0].End = time.Date(2026, 3, 10, 17, 1, 0, 0, london)
		}, false, NoneFree, "one helper in range, not free on Tuesday 14:00–17:01"},
		{"a window on another day", func(in *Input) {
			in.Requests[0].Start = in.Requests[0].Start.AddDate(0, 0, 2)
			in.Requests[0].End = in.Requests[0].End.AddDate(0, 0, 2)
			in.Helpers = append(in.Helpers, Helper{ID: 8, Located: true, Lat: 53.38, Lon: -1.47})
			in.Offers = append(in.Offers, Offer{ID: 80, HelperID: 8, CategoryID: 2, RadiusKm: 5, MaxPerWeek: 1,
				Slots: []domain.Slot{{Day: time.Monday, From: 0, To: 24 * 60}}})
		}, false, NoneFree, "two helpers in range, neither free on Thursday 14:00–15:00"},
		{"a check that expires the day before", func(in *Input) {
			in.Requests[0].NeedsCheck = true
			in.Helpers[0].Checks = []Check{{Kind: "DBS", ValidUntil: time.Date(2026, 3, 9, 0, 0, 0, 0, london)}}
		}, false, NoneChecked, "one helper in range and free, but without a current safeguarding check"},
		{"a check that expires on the day", func(in *Input) {
			in.Requests[0].NeedsCheck = true
			in.Helpers[0].Checks = []Check{{Kind: "DBS", ValidUntil: time.Date(2026, 3, 10, 0, 0, 0, 0, london)}}
		}, true, "", ""},
		{"a declined pair", func(in *Input) { in.Excluded[Pair{1, 7}] = true }, false, DeclinedBefore,
			"one helper in range and free, but declined it or was turned down for it before"},
		{"a helper's own request", func(in *Input) { in.Requests[0].RequesterID = 7 }, false, OnlyOwnOffers,
			"the only helper in range is the requester themself"},
		{"a helper awaiting an answer", func(in *Input) { in.Helpers[0].Awaiting = true }, false, HelpersBusy, ""},
		{"a commitment overlapping by a minute", func(in *Input) {
			s := time.Date(2026, 3, 10, 13, 0, 0, 0, london)
			in.Helpers[0].Commitments = []Commitment{{s, s.Add(61 * time.Minute)}}
		}, false, HelpersBusy, ""},
		{"a commitment ending as the request starts", func(in *Input) {
			s := time.Date(2026, 3, 10, 13, 0, 0, 0, london)
			in.Helpers[0].Commitments = []Commitment{{s, s.Add(time.Hour)}}
		}, true, "", ""},
		{"the weekly limit reached", func(in *Input) {
			mon, fri := time.Date(2026, 3, 9, 9, 0, 0, 0, london), time.Date(2026, 3, 13, 9, 0, 0, 0, london)
			in.Helpers[0].Commitments = []Commitment{{mon, mon.Add(time.Hour)}, {fri, fri.Add(time.Hour)}}
		}, false, HelpersBusy, ""},
		{"commitments the week before do not count", func(in *Input) {
			sun := time.Date(2026, 3, 8, 9, 0, 0, 0, london)
			in.Helpers[0].Commitments = []Commitment{{sun, sun.Add(time.Hour)}, {sun.Add(3 * time.Hour), sun.Add(4 * time.Hour)}}
		}, true, "", ""},
		{"a request without a location", func(in *Input) { in.Requests[0].Located = false }, false, NoLocation, ""},
		{"a helper without a location", func(in *Input) { in.Helpers[0].Located = false }, false, HelpersUnlocated, "no helper for transport is known to be within range of Bridge End: one helper offering it has no location"},
		{"nobody offers the category", func(in *Input) { in.Offers[0].CategoryID = 3 }, false, NoOffers, "nobody offers transport at the moment"},
		{"a request that has started", func(in *Input) {
			in.Requests[0].Start, in.Requests[0].End = now.Add(-time.Minute), now.Add(time.Hour)
		}, false, "", ""},
	}
	for _, c := range cases {
		in := one()
		c.change(&in)
		res := Solve(in)
		got := len(res.Proposals) == 1
		if got != c.match {
			t.Errorf("%s: proposed %v, want %v (%+v)", c.name, got, c.match, res.Unmatched)
			continue
		}
		if c.match || c.code == "" && c.reason == "" && len(res.Unmatched) == 0 {
			continue
		}
		u := res.Unmatched[0]
		if c.code != "" && u.Code != c.code {
			t.Errorf("%s: code %s, want %s (%s)", c.name, u.Code, c.code, u.Reason)
		}
		if c.reason != "" && u.Reason != c.reason {
			t.Errorf("%s: reason %q, want %q", c.name, u.Reason, c.reason)
		}
	}
}

// TestSlotsAcrossTheClockChanges: a slot is local time, so a Sunday-morning request is inside a
// Sunday 09:00–12:00 slot on the days the clocks change, though its UTC time moves.
func TestSlotsAcrossTheClockChanges(t *testing.T) {
	for _, day := range []time.Time{
		time.Date(2026, 3, 29, 10, 0, 0, 0, london),  // the clocks went forward at 01:00 UTC
		time.Date(2026, 10, 25, 10, 0, 0, 0, london), // they went back at 01:00 UTC
	} {
		in := one()
		in.Offers[0].Slots = []domain.Slot{{Day: time.Sunday, From: 9 * 60, To: 12 * 60}}
		in.Requests[0].Start, in.Requests[0].End = day, day.Add(2*time.Hour)
		if _, ok, u := proposed(t, in); !ok {
			t.Errorf("%s: 10:00–12:00 local time not inside a 09:00–12:00 slot: %s", day.UTC(), u.Reason)
		}
		// An hour later in UTC terms is 11:00–13:00 local, which is not.
		in.Requests[0].Start, in.Requests[0].End = day.Add(time.Hour), day.Add(3*time.Hour)
		if _, ok, _ := proposed(t, in); ok {
			t.Errorf("%s: 11:00–13:00 local time fitted a slot ending at 12:00", day.UTC())
		}
	}
	// Overnight, the window crosses midnight: no slot holds it.
	in := one()
	in.Offers[0].Slots = []domain.Slot{{Day: time.Tuesday, From: 18 * 60, To: 24 * 60}, {Day: time.Wednesday, From: 0, To: 9 * 60}}
	s := time.Date(2026, 3, 10, 22, 0, 0, 0, london)
	in.Requests[0].Start, in.Requests[0].End = s, s.Add(4*time.Hour)
	if _, ok, _ := proposed(t, in); ok {
		t.Error("a window across midnight fitted two slots")
	}
	// Ending exactly at midnight fits a slot to 24:00.
	in.Requests[0].End = time.Date(2026, 3, 11, 0, 0, 0, 0, london)
	if _, ok, u := proposed(t, in); !ok {
		t.Errorf("22:00 to midnight did not fit a slot to 24:00: %s", u.Reason)
	}
}

func TestProposalReasons(t *testing.T) {
	in := one()
	in.Requests[0].NeedsCheck = true
	in.Helpers[0].Checks = []Check{{Kind: "DBS", ValidUntil: time.Date(2027, 3, 31, 0, 0, 0, 0, london)}}
	in.History[Pair{50, 7}] = 2
	in.Helpers[0].LastProposed = now.Add(-12 * 24 * time.Hour)
	p, ok, _ := proposed(t, in)
	if !ok {
		t.Fatal("no proposal")
	}
	want := "2.0 km away; free Tuesdays 13:00–17:00; DBS checked until March 2027; has helped Ann twice before; last proposed 12 days ago"
	if got := Summary(p.Reasons); got != want {
		t.Errorf("reasons %q, want %q", got, want)
	}
	if p.Score <= 0 || p.Score > 100 {
		t.Errorf("score %.2f is not between 0 and 100", p.Score)
	}
}

// TestScoreRanksAsItSays: each part of the score moves it the way its comment says.
func TestScoreRanksAsItSays(t *testing.T) {
	score := func(change func(*Input)) float64 {
		in := one()
		change(&in)
		p, ok, u := proposed(t, in)
		if !ok {
			t.Fatalf("no proposal: %s", u.Reason)
		}
		return p.Score
	}
	base := score(func(*Input) {})
	if s := score(func(in *Input) { in.Helpers[0].Lat = 53.3811 + 0.005 }); s <= base {
		t.Errorf("nearer scores %.2f, not above %.2f", s, base)
	}
	if s := score(func(in *Input) { in.History[Pair{50, 7}] = 1 }); s <= base {
		t.Errorf("with history scores %.2f, not above %.2f", s, base)
	}
	if s := score(func(in *Input) { in.Helpers[0].LastProposed = now.Add(-time.Hour) }); s >= base {
		t.Errorf("proposed an hour ago scores %.2f, not below never proposed %.2f", s, base)
	}
	if s := score(func(in *Input) {
		in.Requests[0].Start, in.Requests[0].End = in.Requests[0].Start.AddDate(0, 0, -7), in.Requests[0].End.AddDate(0, 0, -7)
	}); s <= base {
		t.Errorf("sooner scores %.2f, not above %.2f", s, base)
	}
}

// TestUrgentFirstAndItsReason: one helper, an urgent and a routine request; the urgent one gets
// them and the routine one says so.
func TestUrgentFirstAndItsReason(t *testing.T) {
	in := one()
	second := in.Requests[0]
	second.ID, second.Urgent = 2, true
	second.Lat += 0.01 // further away, so scoring alone would prefer the routine request
	in.Requests = append(in.Requests, second)
	res := Solve(in)
	if len(res.Proposals) != 1 || res.Proposals[0].RequestID != 2 {
		t.Fatalf("proposals %+v, want the urgent request", res.Proposals)
	}
	if u := res.Unmatched[0]; u.Code != TakenByMoreUrgent || !strings.Contains(u.Reason, "more urgent request") {
		t.Errorf("the routine request says %s: %q", u.Code, u.Reason)
	}
}

// TestRadiusAcrossACellBoundary: a helper a hair inside their radius, due north, in a cell of the
// spatial index beyond the one the radius ends in, is still found.
func TestRadiusAcrossACellBoundary(t *testing.T) {
	for _, radius := range []float64{2.5, 10, 24} {
		in := one()
		hLat := 53.45 + 1e-9 // just inside a cell's southern edge
		reqLat := hLat - (radius-0.0001)/(6371.0088*math.Pi/180)
		in.Requests[0].Lat, in.Requests[0].Lon = reqLat, -1.4701
		in.Helpers[0].Lat, in.Helpers[0].Lon = hLat, -1.4701
		in.Offers[0].RadiusKm = radius
		if d := domain.DistanceKm(reqLat, -1.4701, hLat, -1.4701); d > radius {
			t.Fatalf("the set-up is wrong: %.6f km is beyond %v", d, radius)
		}
		if res := Solve(in); len(res.Proposals) != 1 {
			t.Errorf("a helper just inside a %v km radius was not proposed: %+v", radius, res.Unmatched)
		}
	}
}
