package matching

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/coop-exchange/coop/domain"
)

// Rank lists every helper offering request requestID's kind of support, for a coordinator
// choosing by hand: best first, each with its score and reasons as the matcher words them.
// A helper who breaks a hard rule (no current check where one is needed, a commitment at the
// same time, a proposal awaiting their answer, declined or turned down for this request
// before) carries why and cannot be chosen; one who breaks a soft rule (too far, not free
// then by their offer, at their weekly limit, location unknown) carries a warning, and a
// coordinator may still choose them.
func Rank(in Input, requestID int64) []domain.HelperOption {
	var r *Request
	for i := range in.Requests {
		if in.Requests[i].ID == requestID {
			r = &in.Requests[i]
		}
	}
	if r == nil {
		return nil
	}
	p := prepare(in)
	day, from, to, whole := localWindow(r.Start, r.End, in.Loc)
	week := weekOf(r.Start, in.Loc)
	soon := p.soon(r)
	best := map[int64]domain.HelperOption{}
	for oi := range p.offers {
		o := &p.offers[oi]
		hi, ok := p.hIndex[o.HelperID]
		if !ok || o.CategoryID != r.CategoryID || o.HelperID == r.RequesterID {
			continue
		}
		h := &p.helpers[hi]
		opt := domain.HelperOption{OfferID: o.ID, HelperID: h.ID, HelperName: h.Name}
		if opt.HelperName == "" {
			opt.HelperName = h.FirstName
		}
		// Hard rules first: the first one broken is the reason.
		switch {
		case r.NeedsCheck && !hasCheck(h, r.Start, in.Loc):
			opt.Blocked = "no current safeguarding check, which this request needs"
		case overlaps(h, r):
			opt.Blocked = "already committed at that time"
		case h.Awaiting:
			opt.Blocked = "is answering another proposal; they can be chosen once they answer"
		case in.Excluded[Pair{r.ID, h.ID}]:
			opt.Blocked = "declined or cancelled this request, or was turned down for it, before"
		}
		slot := -1
		if whole {
			slot = fits(*o, day, from, to)
		}
		d := math.NaN()
		if h.Located && r.Located {
			d = domain.DistanceKm(r.Lat, r.Lon, h.Lat, h.Lon)
		}
		switch {
		case math.IsNaN(d):
			opt.Warnings = append(opt.Warnings, "where they live is not known, so the distance cannot be measured")
		case d > o.RadiusKm:
			opt.Warnings = append(opt.Warnings, fmt.Sprintf("%.1f km away, beyond the %.0f km they offered to travel", d, o.RadiusKm))
		}
		if slot < 0 {
			opt.Warnings = append(opt.Warnings, "not among the times they said they are free")
		}
		if busy(h, p.weeks[hi], o, r, week) && !overlaps(h, r) {
			opt.Warnings = append(opt.Warnings, fmt.Sprintf("already has %d commitments that week, their limit", o.MaxPerWeek))
		}
		dist := d
		if math.IsNaN(dist) {
			dist = o.RadiusKm
		}
		opt.Score = max(p.score(r, hi, o, math.Min(dist, o.RadiusKm), soon), 0)
		opt.Reasons = p.reasons(r, edge{h: hi, o: int32(oi), slot: int16(slot)})
		if prev, ok := best[h.ID]; !ok || betterOption(opt, prev) {
			best[h.ID] = opt
		}
	}
	out := make([]domain.HelperOption, 0, len(best))
	for _, o := range best {
		out = append(out, o)
	}
	slices.SortFunc(out, func(a, b domain.HelperOption) int {
		if betterOption(a, b) {
			return -1
		}
		if betterOption(b, a) {
			return 1
		}
		return cmp.Compare(a.HelperID, b.HelperID)
	})
	return out
}

// betterOption orders options: choosable before blocked, fewer warnings, then higher score.
func betterOption(a, b domain.HelperOption) bool {
	if (a.Blocked == "") != (b.Blocked == "") {
		return a.Blocked == ""
	}
	if len(a.Warnings) != len(b.Warnings) {
		return len(a.Warnings) < len(b.Warnings)
	}
	return a.Score > b.Score
}

func hasCheck(h *Helper, start time.Time, loc *time.Location) bool {
	_, ok := validCheck(h, start, loc)
	return ok
}

func overlaps(h *Helper, r *Request) bool {
	for _, c := range h.Commitments {
		if c.Start.Before(r.End) && r.Start.Before(c.End) {
			return true
		}
	}
	return false
}

// RankLoader reads what ranking one request's helpers needs.
type RankLoader interface {
	RankInput(ctx context.Context, requestID, ignoreMatch int64, now time.Time) (Input, error)
}

// Ranker ranks helpers for coordinators choosing by hand; it implements domain.Ranker.
type Ranker struct {
	load RankLoader
	loc  *time.Location
}

// NewRanker returns a ranker reading through load, in the co-op's time zone.
func NewRanker(load RankLoader, loc *time.Location) *Ranker { return &Ranker{load: load, loc: loc} }

// RankHelpers ranks the helpers for a request; see Rank.
func (k *Ranker) RankHelpers(ctx context.Context, requestID, ignoreMatch int64, now time.Time) ([]domain.HelperOption, error) {
	in, err := k.load.RankInput(ctx, requestID, ignoreMatch, now)
	if err != nil {
		return nil, err
	}
	in.Loc, in.Now = k.loc, now
	return Rank(in, requestID), nil
}
