package matching

import (
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/coop-exchange/coop/domain"
)

// townInstance is a realistic pass: helpers and requests spread over a region of 30 km by 40 km
// for 10,000 requests, growing with the counts so that the density of people stays that of a
// town (a county for 100,000), five categories, helpers free a few stretches a week and
// travelling 2 to 10 km, requests over the next two weeks at everyday times. It has tens of
// candidate helpers per request.
func townInstance(seed uint64, nReq, nHelp int) Input {
	rng := rand.New(rand.NewPCG(seed, seed))
	in := Input{Loc: london, Now: now, Excluded: map[Pair]bool{}, History: map[Pair]int{}}
	side := math.Sqrt(float64(nReq) / 10_000)
	pos := func() (float64, float64) { return 53.27 + rng.Float64()*0.27*side, -1.77 + rng.Float64()*0.6*side }
	shapes := [][2]int{{9 * 60, 12 * 60}, {13 * 60, 17 * 60}, {10 * 60, 15 * 60}, {9 * 60, 17 * 60}, {14 * 60, 16*60 + 30}}
	for i := range nHelp {
		lat, lon := pos()
		h := Helper{ID: int64(i + 1), Located: true, Lat: lat, Lon: lon}
		if rng.IntN(3) == 0 {
			h.Checks = []Check{{Kind: "DBS", ValidUntil: now.AddDate(1, 0, 0)}}
		}
		if rng.IntN(2) == 0 {
			h.LastProposed = now.Add(-time.Duration(rng.IntN(60*24)) * time.Hour)
		}
		in.Helpers = append(in.Helpers, h)
		for k := range 1 + rng.IntN(2) {
			o := Offer{ID: int64(10*i + k), HelperID: h.ID, CategoryID: int64(1 + rng.IntN(5)), RadiusKm: 2 + rng.Float64()*8, MaxPerWeek: 1 + rng.IntN(4)}
			for _, d := range rng.Perm(7)[:2+rng.IntN(4)] {
				sh := shapes[rng.IntN(len(shapes))]
				o.Slots = append(o.Slots, domain.Slot{Day: time.Weekday(d), From: sh[0], To: sh[1]})
			}
			in.Offers = append(in.Offers, o)
		}
	}
	for i := range nReq {
		lat, lon := pos()
		d := now.AddDate(0, 0, 1+rng.IntN(14))
		start := time.Date(d.Year(), d.Month(), d.Day(), 9+rng.IntN(7), 15*rng.IntN(4), 0, 0, london)
		in.Requests = append(in.Requests, Request{ID: int64(i + 1), RequesterID: int64(1_000_000 + i), CategoryID: int64(1 + rng.IntN(5)),
			CategoryName: "Transport", AreaName: "Bridge End", Located: true, Lat: lat, Lon: lon,
			Start: start, End: start.Add(time.Duration(45+15*rng.IntN(6)) * time.Minute), Urgent: rng.IntN(10) == 0,
			NeedsCheck: rng.IntN(8) == 0})
	}
	return in
}

func benchmarkSolve(b *testing.B, nReq, nHelp int, solve func(Input) Result) {
	in := townInstance(1, nReq, nHelp)
	b.ReportAllocs()
	b.ResetTimer()
	var res Result
	for b.Loop() {
		res = solve(in)
	}
	b.StopTimer()
	b.ReportMetric(float64(res.Stats.CandidatePairs)/float64(nReq), "candidates/request")
	b.ReportMetric(float64(len(res.Proposals)), "matched")
	urgent, score := 0, 0.0
	for _, p := range res.Proposals {
		score += p.Score
		if p.Urgent {
			urgent++
		}
	}
	b.ReportMetric(float64(urgent), "urgent-matched")
	b.ReportMetric(score, "total-score")
}

func BenchmarkSolve10k(b *testing.B)        { benchmarkSolve(b, 10_000, 5_000, Solve) }
func BenchmarkSolve100k(b *testing.B)       { benchmarkSolve(b, 100_000, 50_000, Solve) }
func BenchmarkSolveGreedy10k(b *testing.B)  { benchmarkSolve(b, 10_000, 5_000, SolveGreedy) }
func BenchmarkSolveGreedy100k(b *testing.B) { benchmarkSolve(b, 100_000, 50_000, SolveGreedy) }
