package matching

import (
	"math"
	"time"
)

// near is an offer's slot within reach of a place on one weekday, with how far its helper is.
type near struct {
	d              float64 // km, on the plane (see approxKm)
	offer, helper  int32
	slot, from, to int16
}

// nearby holds what is within reach of one place, for one category: requests at the same place
// (the centre of one area, in practice) share it, and the requests come sorted by place.
type nearby struct {
	cat      int64
	lat, lon float64
	valid    bool
	serial   int32 // marks the helpers in range of this place, in prepared.inRange
	counted  int   // distinct helpers in range on any day; -1 until counted
	days     [7][]near
	built    [7]bool
}

// near returns what is within reach of r's place, for r's category.
func (p *prepared) near(r *Request) *nearby {
	pl := &p.place
	if pl.valid && pl.cat == r.CategoryID && pl.lat == r.Lat && pl.lon == r.Lon {
		return pl
	}
	pl.cat, pl.lat, pl.lon, pl.valid = r.CategoryID, r.Lat, r.Lon, true
	pl.serial++
	pl.counted = -1
	for d := range pl.days {
		pl.days[d], pl.built[d] = pl.days[d][:0], false
	}
	return pl
}

// scan calls fn for every offer of the grids within reach of the place, with its distance.
func (pl *nearby) scan(p *prepared, grids []*grid, fn func(co *cellOffer, d float64)) {
	cosLat := math.Cos(pl.lat * math.Pi / 180)
	kx := 111.32 * cosLat
	for _, g := range grids {
		if len(g.cells) == 0 {
			continue
		}
		y0, x0, y1, x1 := p.span(g, pl.lat, pl.lon, cosLat)
		for y := y0; y <= y1; y++ {
			for x := x0; x <= x1; x++ {
				cell := g.cells[cellKey(y, x)]
				for k := range cell {
					co := &cell[k]
					if inReach(co, pl.lat, pl.lon, kx) {
						fn(co, planeKm(pl.lat, pl.lon, co.lat, co.lon))
					}
				}
			}
		}
	}
}

// day lists the slots on a weekday of the offers within reach.
func (pl *nearby) day(p *prepared, d time.Weekday) []near {
	if !pl.built[d] {
		list := pl.days[d][:0]
		pl.scan(p, p.index[pl.cat].byDay[d], func(co *cellOffer, km float64) {
			list = append(list, near{d: km, offer: co.offer, helper: co.helper, slot: co.slot, from: co.from, to: co.to})
		})
		pl.days[d], pl.built[d] = list, true
	}
	return pl.days[d]
}

// helpers counts the distinct helpers within reach on any day, marking each in p.inRange.
func (pl *nearby) helpers(p *prepared) int {
	if pl.counted < 0 {
		pl.counted = 0
		pl.scan(p, p.index[pl.cat].all, func(co *cellOffer, _ float64) {
			if p.inRange[co.helper] != pl.serial {
				p.inRange[co.helper] = pl.serial
				pl.counted++
			}
		})
	}
	return pl.counted
}
