package matching

import (
	"fmt"
	"math"
	"strings"
	"time"
)

// The score of a candidate pair adds these parts, each from 0 to its weight, so a score runs
// from 0 to 100. They only rank candidates that all satisfy the rules.
const (
	// WeightCloseness rewards a helper near the request, as a share of how far they said they
	// would travel: the whole weight at the door, none at the edge of their radius.
	WeightCloseness = 40.0
	// WeightHistory rewards a helper who has helped this requester before (up to three times
	// counts): people who know each other make an easier match for someone vulnerable.
	WeightHistory = 20.0
	// WeightFairness rewards a helper not proposed for a while, so that work spreads across
	// helpers rather than falling on the keenest: the whole weight after 28 days, or never.
	WeightFairness = 25.0
	// WeightSoon rewards a request that starts soon, so that when one helper could take either
	// of two requests, the sooner one is served: the whole weight now, none two weeks ahead.
	WeightSoon = 15.0

	historyCap  = 3
	fairnessCap = 28 * 24 * time.Hour
	soonCap     = 14 * 24 * time.Hour
)

// score rates a candidate pair: helper number hi through offer o, d km from request r whose
// soon part is soon.
func (p *prepared) score(r *Request, hi int32, o *Offer, d, soon float64) float64 {
	s := WeightCloseness * (1 - d/math.Max(o.RadiusKm, 0.001))
	if len(p.in.History) > 0 {
		s += WeightHistory * float64(min(p.in.History[Pair{r.RequesterID, p.helpers[hi].ID}], historyCap)) / historyCap
	}
	s += p.fair[hi] + soon
	return math.Round(s*100) / 100
}

// fairness is the part of a helper's scores for how long since they were last proposed.
func fairness(h *Helper, now time.Time) float64 {
	idle := fairnessCap
	if !h.LastProposed.IsZero() {
		idle = min(now.Sub(h.LastProposed), fairnessCap)
	}
	return WeightFairness * float64(max(idle, 0)) / float64(fairnessCap)
}

// soon is the part of a request's scores for how soon it starts.
func (p *prepared) soon(r *Request) float64 {
	ahead := min(max(r.Start.Sub(p.in.Now), 0), soonCap)
	return WeightSoon * (1 - float64(ahead)/float64(soonCap))
}

var timesWords = []string{"", "once", "twice"}

// reasons says in words why a pair is proposed: "2.1 km away; free Tuesdays 13:00–17:00; ...".
func (p *prepared) reasons(r *Request, e edge) []string {
	h, o := &p.helpers[e.h], &p.offers[e.o]
	var out []string
	if d := approxKm(r, h); !h.Located || !r.Located {
		// no distance to give (only a coordinator's ranking shows such a helper)
	} else if d < 0.1 {
		out = append(out, "in the same neighbourhood")
	} else {
		out = append(out, fmt.Sprintf("%.1f km away", d))
	}
	if e.slot >= 0 {
		s := o.Slots[e.slot]
		out = append(out, fmt.Sprintf("free %ss %s–%s", s.Day, clock(s.From), clock(s.To)))
	}
	if r.NeedsCheck {
		if c, ok := validCheck(h, r.Start, p.in.Loc); ok {
			out = append(out, fmt.Sprintf("%s checked until %s", c.Kind, c.ValidUntil.In(p.in.Loc).Format("January 2006")))
		}
	}
	if n := p.in.History[Pair{r.RequesterID, h.ID}]; n > 0 {
		word := fmt.Sprintf("%d times", n)
		if n < len(timesWords) {
			word = timesWords[n]
		}
		out = append(out, fmt.Sprintf("has helped %s %s before", r.RequesterName, word))
	}
	if h.LastProposed.IsZero() {
		out = append(out, "not proposed for anything in the past four weeks")
	} else if days := int(p.in.Now.Sub(h.LastProposed).Hours() / 24); days >= 2 {
		out = append(out, fmt.Sprintf("last proposed %d days ago", days))
	}
	return out
}

func clock(min int) string { return fmt.Sprintf("%02d:%02d", min/60, min%60) }

// Summary joins reasons for one line: "2.1 km away; free Tuesdays 13:00–17:00".
func Summary(reasons []string) string { return strings.Join(reasons, "; ") }
