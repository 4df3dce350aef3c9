package matching

import "slices"

// SolveGreedy is the baseline the real solver is measured against: it takes the best-scoring
// pairs first (urgent requests before the rest) and never reconsiders. It obeys the same rules
// but may leave requests unmatched that Solve would match. It is for comparison, not for passes.
func SolveGreedy(in Input) Result {
	p := prepare(in)
	reqs := p.sortRequests(in.Requests)
	type cand struct {
		r int
		e edge
	}
	var all []cand
	res := Result{Stats: Stats{Requests: len(reqs), Helpers: len(p.helpers)}}
	for i := range reqs {
		r := &reqs[i]
		if !r.Start.After(in.Now) {
			continue
		}
		edges := p.candidates(i, r)
		res.Stats.CandidatePairs += len(edges)
		for _, e := range edges {
			all = append(all, cand{i, e})
		}
	}
	slices.SortFunc(all, func(a, b cand) int {
		if ua, ub := reqs[a.r].Urgent, reqs[b.r].Urgent; ua != ub {
			if ua {
				return -1
			}
			return 1
		}
		if c := compareWeight(a.e, b.e); c != 0 {
			return c
		}
		return a.r - b.r
	})
	takenR, takenH := map[int]bool{}, map[int32]bool{}
	for _, c := range all {
		if takenR[c.r] || takenH[c.e.h] {
			continue
		}
		takenR[c.r], takenH[c.e.h] = true, true
		r := reqs[c.r]
		res.Proposals = append(res.Proposals, Proposal{RequestID: r.ID, OfferID: p.offers[c.e.o].ID, HelperID: p.helpers[c.e.h].ID,
			Urgent: r.Urgent, Score: c.e.w})
	}
	sortByRequest(&res)
	return res
}
