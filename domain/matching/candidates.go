package matching

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/coop-exchange/coop/domain"
)

// edge is a candidate pair: helper h (an index into the helpers) through offer o, with its score.
type edge struct {
	h    int32
	o    int32
	slot int16 // the offer's slot the request fits in
	w    float64
}

// funnel counts, for one request, the distinct helpers still in the running after each rule, so
// that an unmatched request can say which rule stopped it.
type funnel struct {
	offered, inRange, notOwn, free, checked, notExcluded, candidates int
}

// cellDeg is the size of a cell of the spatial index, in degrees of latitude (about 5.5 km).
const cellDeg = 0.05

// radiusBands split each category's offers by how far their helpers travel, each band with its
// own grid, so that looking for helpers near a request scans only as wide as each band needs.
var radiusBands = []float64{3, 6, 12, 25, 1e9}

// grid indexes offers by the cell of their helper's location. Each cell keeps what the first
// tests need side by side, so that scanning a cell reads memory in order and touches the offer
// and the helper only for the few entries that pass them.
type grid struct {
	cells     map[int64][]cellOffer
	maxRadius float64
}

// cellOffer is an offer in a grid: in a weekday's grid, one of its slots that day.
type cellOffer struct {
	lat, lon, reach float64 // the helper's location and the offer's radius
	offer, helper   int32
	slot, from, to  int16 // the slot and its minutes; slot is -1 in the grid of every day
}

// catIndex indexes one category's offers: per weekday, the slots that day, for finding
// candidates; and every offer once, for explaining a request that has none.
type catIndex struct {
	byDay [7][]*grid // per band of radius
	all   []*grid
}

func newBands() []*grid {
	bands := make([]*grid, len(radiusBands))
	for b := range bands {
		bands[b] = &grid{cells: map[int64][]cellOffer{}}
	}
	return bands
}

func (g *grid) add(key int64, co cellOffer) {
	g.cells[key] = append(g.cells[key], co)
	g.maxRadius = math.Max(g.maxRadius, co.reach)
}

func cellKey(y, x int32) int64 { return int64(y)<<32 | int64(uint32(x)) }

func (p *prepared) cellOf(lat, lon float64) (y, x int32) {
	return int32(math.Floor(lat / cellDeg)), int32(math.Floor(lon / p.lonDeg))
}

// span is the block of cells of g that may hold a helper who can reach (lat, lon).
func (p *prepared) span(g *grid, lat, lon, cosLat float64) (y0, x0, y1, x1 int32) {
	// km to degrees of latitude, with a margin: a degree is about 111.2 km, never less than 110.
	dLat := g.maxRadius / 110.0
	dLon := dLat / math.Max(0.2, cosLat)
	y0, x0 = p.cellOf(lat-dLat, lon-dLon)
	y1, x1 = p.cellOf(lat+dLat, lon+dLon)
	return
}

// prepared is the input with indexes built.
type prepared struct {
	in      Input
	helpers []Helper
	stamp   []int32   // per helper: the last request (index+1) it was seen for
	stages  []uint8   // per helper: the rules it passed for that request, as bits
	edgeOf  []int32   // per helper: its edge for that request in scratch, or -1
	weeks   [][]int   // per helper: the week (its Monday's date) of each commitment
	inRange []int32   // per helper: the serial of the last place it was counted in range of
	fair    []float64 // per helper: the fairness part of its scores
	place   nearby    // the offers within reach of the place of the request at hand
	scratch []edge    // reused while finding one request's candidates
	arena   []edge    // the block the edges of the requests are kept in
	hIndex  map[int64]int32
	offers  []Offer
	index   map[int64]*catIndex // by category
	offered map[int64]bool      // categories someone offers, wherever they are
	// unlocated counts, by category, the helpers offering it whose location is unknown.
	unlocated map[int64]int
	lonDeg    float64 // a cell's width in degrees of longitude at the region's latitude
}

func prepare(in Input) *prepared {
	p := &prepared{in: in, hIndex: map[int64]int32{}, index: map[int64]*catIndex{}, offered: map[int64]bool{}, unlocated: map[int64]int{}}
	sumLat, n := 0.0, 0
	for _, h := range in.Helpers {
		if h.Located {
			sumLat += h.Lat
			n++
		}
	}
	meanLat := 0.0
	if n > 0 {
		meanLat = sumLat / float64(n)
	}
	p.lonDeg = cellDeg / math.Max(0.2, math.Cos(meanLat*math.Pi/180))
	// Helpers are numbered by place, so that the helpers of neighbouring requests sit near one
	// another in memory.
	p.helpers = slices.Clone(in.Helpers)
	slices.SortFunc(p.helpers, func(a, b Helper) int {
		if c := p.compareCells(a.Located, a.Lat, a.Lon, b.Located, b.Lat, b.Lon); c != 0 {
			return c
		}
		return cmp.Compare(a.ID, b.ID)
	})
	for i, h := range p.helpers {
		p.hIndex[h.ID] = int32(i)
	}
	p.stamp, p.stages, p.edgeOf = make([]int32, len(p.helpers)), make([]uint8, len(p.helpers)), make([]int32, len(p.helpers))
	p.inRange, p.fair = make([]int32, len(p.helpers)), make([]float64, len(p.helpers))
	for i := range p.helpers {
		p.fair[i] = fairness(&p.helpers[i], in.Now)
	}
	p.weeks = make([][]int, len(p.helpers))
	for i, h := range p.helpers {
		for _, c := range h.Commitments {
			p.weeks[i] = append(p.weeks[i], weekOf(c.Start, in.Loc))
		}
	}
	p.offers = slices.Clone(in.Offers)
	slices.SortFunc(p.offers, func(a, b Offer) int { return cmp.Compare(a.ID, b.ID) })
	unlocatedSeen := map[[2]int64]bool{}
	for i, o := range p.offers {
		hi, ok := p.hIndex[o.HelperID]
		if !ok {
			continue
		}
		p.offered[o.CategoryID] = true
		h := p.helpers[hi]
		if !h.Located {
			if !unlocatedSeen[[2]int64{o.CategoryID, h.ID}] {
				unlocatedSeen[[2]int64{o.CategoryID, h.ID}] = true
				p.unlocated[o.CategoryID]++
			}
			continue
		}
		ci := p.index[o.CategoryID]
		if ci == nil {
			ci = &catIndex{all: newBands()}
			for d := range ci.byDay {
				ci.byDay[d] = newBands()
			}
			p.index[o.CategoryID] = ci
		}
		b := 0
		for b < len(radiusBands)-1 && o.RadiusKm > radiusBands[b] {
			b++
		}
		key := cellKey(p.cellOf(h.Lat, h.Lon))
		co := cellOffer{lat: h.Lat, lon: h.Lon, reach: o.RadiusKm, offer: int32(i), helper: hi, slot: -1}
		ci.all[b].add(key, co)
		for k, sl := range o.Slots {
			co.slot, co.from, co.to = int16(k), int16(sl.From), int16(sl.To)
			ci.byDay[sl.Day][b].add(key, co)
		}
	}
	return p
}

// compareCells orders places by the cell of the spatial index they fall in, row by row; places
// without a location come last.
func (p *prepared) compareCells(aLocated bool, aLat, aLon float64, bLocated bool, bLat, bLon float64) int {
	if aLocated != bLocated {
		if aLocated {
			return -1
		}
		return 1
	}
	if !aLocated {
		return 0
	}
	ay, ax := p.cellOf(aLat, aLon)
	by, bx := p.cellOf(bLat, bLon)
	if c := cmp.Compare(ay, by); c != 0 {
		return c
	}
	return cmp.Compare(ax, bx)
}

// sortRequests numbers the requests by category and place, so that neighbouring requests scan
// the same cells, and reach the same helpers, while those are still in the processor's cache,
// and requests at the same place share the work of finding what is within reach.
func (p *prepared) sortRequests(reqs []Request) []Request {
	out := slices.Clone(reqs)
	slices.SortFunc(out, func(a, b Request) int {
		if c := cmp.Compare(a.CategoryID, b.CategoryID); c != 0 {
			return c
		}
		if c := p.compareCells(a.Located, a.Lat, a.Lon, b.Located, b.Lat, b.Lon); c != 0 {
			return c
		}
		// Requests at one place (the centre of one area) come together, so that they share
		// the offers within reach of it.
		if c := cmp.Compare(a.Lat, b.Lat); c != 0 {
			return c
		}
		if c := cmp.Compare(a.Lon, b.Lon); c != 0 {
			return c
		}
		return cmp.Compare(a.ID, b.ID)
	})
	return out
}

// localWindow reads a request's window in the co-op's time zone as a weekday and minutes after
// midnight; ok is false when it does not lie within one day (a slot never crosses midnight).
func localWindow(start, end time.Time, loc *time.Location) (day time.Weekday, from, to int, ok bool) {
	ls, le := start.In(loc), end.In(loc)
	from = ls.Hour()*60 + ls.Minute()
	to = le.Hour()*60 + le.Minute()
	if le.Second() > 0 || le.Nanosecond() > 0 {
		to++ // a window ending part-way through a minute needs the whole minute
	}
	sameDay := ls.Year() == le.Year() && ls.YearDay() == le.YearDay()
	if !sameDay {
		next := ls.AddDate(0, 0, 1)
		if le.Year() == next.Year() && le.YearDay() == next.YearDay() && to == 0 {
			to, sameDay = 24*60, true // ending exactly at midnight
		}
	}
	return ls.Weekday(), from, to, sameDay && to > from
}

// fits returns the slot of o that holds the window, or -1.
func fits(o Offer, day time.Weekday, from, to int) int {
	for i, s := range o.Slots {
		if s.Day == day && s.From <= from && to <= s.To {
			return i
		}
	}
	return -1
}

// dateNum is a date in loc as a comparable number, 20260314.
func dateNum(t time.Time, loc *time.Location) int {
	l := t.In(loc)
	return l.Year()*10000 + int(l.Month())*100 + l.Day()
}

// validCheck returns the helper's longest-valid check current on the request's start date.
func validCheck(h *Helper, start time.Time, loc *time.Location) (Check, bool) {
	day := dateNum(start, loc)
	var best Check
	found := false
	for _, c := range h.Checks {
		if dateNum(c.ValidUntil, loc) >= day && (!found || c.ValidUntil.After(best.ValidUntil)) {
			best, found = c, true
		}
	}
	return best, found
}

// weekOf is the Monday (as a date number) of the week holding t in loc.
func weekOf(t time.Time, loc *time.Location) int {
	l := t.In(loc)
	back := (int(l.Weekday()) + 6) % 7
	return dateNum(time.Date(l.Year(), l.Month(), l.Day()-back, 12, 0, 0, 0, loc), loc)
}

// busy reports whether a helper is committed during the window, or has as many commitments in
// the request's week (its Monday's date) as the offer allows.
func busy(h *Helper, weeks []int, o *Offer, r *Request, week int) bool {
	n := 0
	for i, c := range h.Commitments {
		if c.Start.Before(r.End) && r.Start.Before(c.End) {
			return true
		}
		if weeks[i] == week {
			n++
		}
	}
	return n >= o.MaxPerWeek
}

// inReach tells whether a helper at co is within its offer's radius of (lat, lon). A quick test
// on a plane tangent at the request, within about half a percent of the great-circle distance
// over a helper's radius, leaves the exact distance to the few pairs near the edge.
func inReach(co *cellOffer, lat, lon, kx float64) bool {
	dx, dy := (co.lon-lon)*kx, (co.lat-lat)*110.57
	plane, margin := dx*dx+dy*dy, co.reach*0.02+0.1
	if out := co.reach + margin; plane > out*out {
		return false
	}
	if in := co.reach - margin; in > 0 && plane < in*in {
		return true
	}
	return domain.DistanceKm(lat, lon, co.lat, co.lon) <= co.reach
}

// candidates finds every candidate pair of request number ri, best first.
func (p *prepared) candidates(ri int, r *Request) []edge {
	if p.index[r.CategoryID] == nil || !r.Located {
		return nil
	}
	day, from, to, whole := localWindow(r.Start, r.End, p.in.Loc)
	if !whole {
		return nil
	}
	list := p.near(r).day(p, day)
	stamp := int32(ri + 1)
	own := p.helperIndex(r.RequesterID)
	week := weekOf(r.Start, p.in.Loc)
	soon := p.soon(r)
	excluded := len(p.in.Excluded) > 0
	edges := p.scratch[:0]
	for k := range list {
		n := &list[k]
		if int(n.from) > from || to > int(n.to) || n.helper == own {
			continue
		}
		hi := n.helper
		h := &p.helpers[hi]
		if r.NeedsCheck {
			if _, ok := validCheck(h, r.Start, p.in.Loc); !ok {
				continue
			}
		}
		if excluded && p.in.Excluded[Pair{r.ID, h.ID}] {
			continue
		}
		o := &p.offers[n.offer]
		if h.Awaiting || busy(h, p.weeks[hi], o, r, week) {
			continue
		}
		// One edge per helper: their best-scoring offer for this request.
		e := edge{h: hi, o: n.offer, slot: n.slot, w: p.score(r, hi, o, n.d, soon)}
		if p.stamp[hi] != stamp {
			p.stamp[hi], p.edgeOf[hi] = stamp, -1
		}
		switch k := p.edgeOf[hi]; {
		case k < 0:
			p.edgeOf[hi] = int32(len(edges))
			edges = append(edges, e)
		case compareWeight(e, edges[k]) < 0 || (e.w == edges[k].w && e.o < edges[k].o):
			edges[k] = e
		}
	}
	p.scratch = edges
	if len(edges) == 0 {
		return nil
	}
	// The edges of all requests share a few large blocks rather than one allocation each.
	if len(edges) > cap(p.arena)-len(p.arena) {
		p.arena = make([]edge, 0, max(min(arenaBlock, 16*len(p.in.Requests)), len(edges)))
	}
	start := len(p.arena)
	p.arena = append(p.arena, edges...)
	out := p.arena[start:len(p.arena):len(p.arena)]
	slices.SortFunc(out, compareWeight)
	return out
}

const arenaBlock = 1 << 16

// helperIndex is the index of the helper with this member id, or -1 when they offer nothing.
func (p *prepared) helperIndex(id int64) int32 {
	if hi, ok := p.hIndex[id]; ok {
		return hi
	}
	return -1
}

// funnel counts, for a request without candidates, how many distinct helpers pass each rule in
// turn, so that it can say which rule stopped it: those in range on any day, then those free
// at its time, and so on.
func (p *prepared) funnel(ri int, r *Request) funnel {
	var f funnel
	if !p.offered[r.CategoryID] {
		return f
	}
	f.offered = 1
	if p.index[r.CategoryID] == nil || !r.Located {
		return f
	}
	place := p.near(r)
	own := p.helperIndex(r.RequesterID)
	f.inRange, f.notOwn = place.helpers(p), place.helpers(p)
	if own >= 0 && p.inRange[own] == place.serial {
		f.notOwn--
	}
	day, from, to, whole := localWindow(r.Start, r.End, p.in.Loc)
	if !whole {
		return f
	}
	stamp := -int32(ri + 1) // apart from the stamps candidates uses
	var touched []int32
	mark := func(h int32, stage uint8) {
		if p.stamp[h] != stamp {
			p.stamp[h], p.stages[h] = stamp, 0
			touched = append(touched, h)
		}
		p.stages[h] |= 1 << stage
	}
	week := weekOf(r.Start, p.in.Loc)
	list := place.day(p, day)
	for k := range list {
		n := &list[k]
		if int(n.from) > from || to > int(n.to) || n.helper == own {
			continue
		}
		hi := n.helper
		mark(hi, 0)
		h := &p.helpers[hi]
		if r.NeedsCheck {
			if _, ok := validCheck(h, r.Start, p.in.Loc); !ok {
				continue
			}
		}
		mark(hi, 1)
		if p.in.Excluded[Pair{r.ID, h.ID}] {
			continue
		}
		mark(hi, 2)
		if h.Awaiting || busy(h, p.weeks[hi], &p.offers[n.offer], r, week) {
			continue
		}
		mark(hi, 3)
	}
	counters := [4]*int{&f.free, &f.checked, &f.notExcluded, &f.candidates}
	for _, h := range touched {
		for stage, c := range counters {
			if p.stages[h]&(1<<stage) != 0 {
				*c++
			}
		}
	}
	return f
}

// compareWeight orders edges best first, then by helper, so that ties break the same way always.
func compareWeight(a, b edge) int {
	switch {
	case a.w > b.w:
		return -1
	case a.w < b.w:
		return 1
	}
	return int(a.h - b.h)
}

// why explains a request its helpers could not reach.
func (p *prepared) why(r *Request, f funnel) (Code, string) {
	window := r.Start.In(p.in.Loc).Format("Monday 15:04") + "–" + r.End.In(p.in.Loc).Format("15:04")
	cat := strings.ToLower(r.CategoryName)
	switch {
	case !r.Located:
		return NoLocation, "the area where it is needed has no location, so no distance can be measured"
	case f.offered == 0:
		return NoOffers, "nobody offers " + cat + " at the moment"
	case f.inRange == 0 && p.unlocated[r.CategoryID] > 0:
		n := p.unlocated[r.CategoryID]
		return HelpersUnlocated, fmt.Sprintf("no helper for %s is known to be within range of %s: %s offering it %s no location", cat,
			r.AreaName, helpers(n), map[bool]string{true: "has", false: "have"}[n == 1])
	case f.inRange == 0:
		return NoneInRange, "no helper for " + cat + " within range of " + r.AreaName
	case f.notOwn == 0:
		return OnlyOwnOffers, "the only helper in range is the requester themself"
	case f.free == 0:
		return NoneFree, fmt.Sprintf("%s in range, %s free on %s", helpers(f.notOwn), noneOf(f.notOwn), window)
	case f.checked == 0:
		return NoneChecked, fmt.Sprintf("%s in range and free, but %s", helpers(f.free), noCheck(f.free))
	case f.notExcluded == 0:
		return DeclinedBefore, fmt.Sprintf("%s in range and free, but declined it or was turned down for it before", helpers(f.checked))
	default:
		return HelpersBusy, fmt.Sprintf("%s in range and free, but committed then, at their weekly limit, or waiting to answer another proposal", helpers(f.notExcluded))
	}
}

var numbers = []string{"no", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten"}

func helpers(n int) string {
	word := fmt.Sprint(n)
	if n < len(numbers) {
		word = numbers[n]
	}
	if n == 1 {
		return word + " helper"
	}
	return word + " helpers"
}

func noneOf(n int) string {
	switch n {
	case 1:
		return "not"
	case 2:
		return "neither"
	}
	return "none"
}

func noCheck(n int) string {
	if n == 1 {
		return "without a current safeguarding check"
	}
	return "none has a current safeguarding check"
}
