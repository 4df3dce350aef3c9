package matching

import (
	"cmp"
	"fmt"
	"math"
	"slices"
)

// approxKm is the distance between a request and a helper on a plane tangent between them:
// within a fraction of a percent of the great-circle distance over the distances helpers travel,
// and several times quicker. It ranks candidates and says how far away they are; the
// great-circle distance (domain.DistanceKm) alone decides whether a helper is in range.
func approxKm(r *Request, h *Helper) float64 { return planeKm(r.Lat, r.Lon, h.Lat, h.Lon) }

func planeKm(lat1, lon1, lat2, lon2 float64) float64 {
	dx := (lon2 - lon1) * 111.32 * math.Cos((lat1+lat2)*math.Pi/360)
	dy := (lat2 - lat1) * 110.57
	return math.Sqrt(dx*dx + dy*dy)
}

// solver holds the graph of one pass and the matching being built.
type solver struct {
	exact  int // components up to this many requests and helpers are solved exactly
	p      *prepared
	reqs   []Request
	adj    [][]edge  // per request, best edge first
	radj   [][]int32 // per helper, the requests it is a candidate for
	urgent []bool
	matchR []int32 // per request: index into adj[r] of its edge, or -1
	work   int     // steps the local search has taken, against its budget
	matchH []int32 // per helper: its request, or -1
}

const eps = 1e-9

// Solve finds the proposals of one pass; see the package documentation for what it guarantees.
func Solve(in Input) Result { return solve(in, exactLimit, false) }

// SolveGreedy is the baseline Solve is measured against: the same candidates, and the requests
// whose best pair scores highest (urgent ones first) each take their best free helper, with
// nothing reconsidered after. It obeys the same rules, but may leave requests unmatched that
// Solve would match, and score less. It is for comparison, not for passes.
func SolveGreedy(in Input) Result { return solve(in, 0, true) }

// solve solves components of up to exact requests and helpers exactly; baseline stops after
// the greedy start.
func solve(in Input, exact int, baseline bool) Result {
	p := prepare(in)
	s := &solver{p: p, exact: exact}
	s.reqs = p.sortRequests(in.Requests)
	n := len(s.reqs)
	s.adj, s.urgent = make([][]edge, n), make([]bool, n)
	s.matchR = make([]int32, n)
	s.matchH = make([]int32, len(p.helpers))
	s.radj = make([][]int32, len(p.helpers))
	res := Result{Stats: Stats{Requests: n, Helpers: len(p.helpers)}}
	for i := range s.reqs {
		r := &s.reqs[i]
		s.urgent[i] = r.Urgent
		s.matchR[i] = -1
		if r.Start.After(in.Now) {
			s.adj[i] = p.candidates(i, r)
		}
		res.Stats.CandidatePairs += len(s.adj[i])
	}
	for i, es := range s.adj {
		for _, e := range es {
			s.radj[e.h] = append(s.radj[e.h], int32(i))
		}
	}
	for h := range s.matchH {
		s.matchH[h] = -1
	}

	if baseline {
		s.greedy(true)
		s.greedy(false)
	} else {
		// Parts of the graph small enough are solved exactly on all three objectives at once.
		comps, helps := s.components()
		for k := range comps {
			if len(comps[k]) <= s.exact && len(helps[k]) <= s.exact {
				s.solveExact(comps[k], helps[k])
			}
		}
		// Elsewhere: (1) as many urgent requests as possible, the best pairs greedily and then
		// augmenting paths (a solved part has none to offer).
		s.greedy(true)
		s.augment(func(r int) bool { return s.urgent[r] })
		// (2) then as many requests in all: augmenting paths keep every matched request matched.
		s.greedy(false)
		s.augment(func(int) bool { return true })
		// (3) then a higher total score, by exchanges that keep (1) and (2).
		s.improve()
	}

	for i := range s.reqs {
		r := &s.reqs[i]
		if s.matchR[i] >= 0 {
			e := s.adj[i][s.matchR[i]]
			o := &p.offers[e.o]
			res.Proposals = append(res.Proposals, Proposal{RequestID: r.ID, OfferID: o.ID, HelperID: p.helpers[e.h].ID,
				Urgent: r.Urgent, Score: e.w, Reasons: p.reasons(r, e), RequestVersion: r.Version, OfferVersion: o.Version})
			continue
		}
		if !r.Start.After(in.Now) {
			continue // its time has passed: the pass expires it
		}
		code, why := s.unmatched(i)
		res.Unmatched = append(res.Unmatched, Unmatched{RequestID: r.ID, Code: code, Reason: why})
	}
	sortByRequest(&res)
	return res
}

// sortByRequest puts a result in the order of its requests' ids.
func sortByRequest(res *Result) {
	slices.SortFunc(res.Proposals, func(a, b Proposal) int { return cmp.Compare(a.RequestID, b.RequestID) })
	slices.SortFunc(res.Unmatched, func(a, b Unmatched) int { return cmp.Compare(a.RequestID, b.RequestID) })
}

// unmatched explains a request left without a proposal.
func (s *solver) unmatched(r int) (Code, string) {
	if len(s.adj[r]) == 0 {
		return s.p.why(&s.reqs[r], s.p.funnel(r, &s.reqs[r]))
	}
	moreUrgent := 0
	for _, e := range s.adj[r] {
		if other := s.matchH[e.h]; other >= 0 && s.urgent[other] && !s.urgent[r] {
			moreUrgent++
		}
	}
	if moreUrgent > 0 {
		if len(s.adj[r]) == 1 {
			return TakenByMoreUrgent, "a helper was available but was proposed for a more urgent request"
		}
		return TakenByMoreUrgent, fmt.Sprintf("%s could help, but each was proposed for another request, some more urgent", helpers(len(s.adj[r])))
	}
	if len(s.adj[r]) == 1 {
		return TakenByOther, "a helper was available but was proposed for another request, and a helper considers one proposal at a time"
	}
	return TakenByOther, fmt.Sprintf("%s could help, but each was proposed for another request, and a helper considers one proposal at a time", helpers(len(s.adj[r])))
}

func (s *solver) set(r int, k int32) {
	s.matchR[r] = k
	s.matchH[s.adj[r][k].h] = int32(r)
}

// greedy matches free requests (urgent ones, or the others) to free helpers: the requests whose
// best pair scores highest choose first, each its best free helper. It is only a start: the
// augmentations and the exchanges after it decide.
func (s *solver) greedy(urgent bool) {
	var order []int
	for r := range s.reqs {
		if s.urgent[r] == urgent && s.matchR[r] < 0 && len(s.adj[r]) > 0 {
			order = append(order, r)
		}
	}
	slices.SortFunc(order, func(a, b int) int {
		if c := compareWeight(s.adj[a][0], s.adj[b][0]); c != 0 {
			return c
		}
		return a - b
	})
	for _, r := range order {
		for k, e := range s.adj[r] {
			if s.matchH[e.h] < 0 {
				s.set(r, int32(k))
				break
			}
		}
	}
}

// augment grows the matching to the largest possible with Hopcroft–Karp, starting from free
// requests that from allows. Flipping an augmenting path keeps every matched request matched.
func (s *solver) augment(from func(int) bool) {
	n := len(s.reqs)
	const inf = int32(1 << 30)
	dist := make([]int32, n)
	next := make([]int, n)
	for {
		// Breadth first: layer the requests by alternating distance from the free ones.
		queue := make([]int32, 0, n)
		for r := range n {
			if s.matchR[r] < 0 && from(r) && len(s.adj[r]) > 0 {
				dist[r] = 0
				queue = append(queue, int32(r))
			} else {
				dist[r] = inf
			}
		}
		found := false
		for qi := 0; qi < len(queue); qi++ {
			r := queue[qi]
			for _, e := range s.adj[r] {
				other := s.matchH[e.h]
				if other < 0 {
					found = true
				} else if dist[other] == inf {
					dist[other] = dist[r] + 1
					queue = append(queue, other)
				}
			}
		}
		if !found {
			return
		}
		clear(next)
		for r := range n {
			if s.matchR[r] < 0 && dist[r] == 0 {
				s.dfs(r, dist, next)
			}
		}
	}
}

// dfs looks for a shortest augmenting path from request r along the BFS layers and flips it.
func (s *solver) dfs(r int, dist []int32, next []int) bool {
	for ; next[r] < len(s.adj[r]); next[r]++ {
		k := next[r]
		other := s.matchH[s.adj[r][k].h]
		if other < 0 || (dist[other] == dist[r]+1 && s.dfs(int(other), dist, next)) {
			s.set(r, int32(k))
			return true
		}
	}
	dist[r] = 1 << 30
	return false
}

// weight of the pair (request r, helper h), or false when they are not candidates.
func (s *solver) weight(r int, h int32) (int32, float64, bool) {
	for k, e := range s.adj[r] {
		if e.h == h {
			return int32(k), e.w, true
		}
	}
	return -1, 0, false
}

// improve raises the total score by exchanges that keep the urgent and the total counts: each
// moves some matched requests to other helpers along an alternating path or cycle of a few
// requests, ending at a free helper, back at the helper the chain started from, or (when the
// chain starts from a free request) by leaving out a request of the same urgency. As in Lin and
// Kernighan's search, a chain only grows while the moves so far gain (every gainful cycle has a
// starting point from which they do), which keeps the search small. Short chains are tried
// until none gains, then longer ones: the short ones are cheap and find most of the gain, so
// the longer ones start from a better matching. It all stops at a budget of work in proportion
// to the graph, so that a pass stays quick on any input.
func (s *solver) improve() {
	edges := 0
	for _, es := range s.adj {
		edges += len(es)
	}
	budget := 20*edges + 10_000
	// Each request is looked at once, and again whenever an exchange changes the owner of one of
	// its candidate helpers: only then can a new exchange have opened for it.
	queue := make([]int32, 0, len(s.reqs))
	queued := make([]bool, len(s.reqs))
	push := func(r int32) {
		if !queued[r] && len(s.adj[r]) > 0 {
			queued[r] = true
			queue = append(queue, r)
		}
	}
	for depth := 2; depth <= chainDepth && s.work < budget; depth++ {
		for r := range s.reqs {
			push(int32(r))
		}
		for len(queue) > 0 && s.work < budget {
			r := queue[0]
			queue = queue[1:]
			queued[r] = false
			for _, h := range s.chain(int(r), depth) {
				for _, r2 := range s.radj[h] {
					push(r2)
				}
			}
		}
		for _, r := range queue {
			queued[r] = false
		}
		queue = queue[:0]
	}
}

// chainDepth bounds how many requests one exchange may move.
const chainDepth = 4

// step is one move of a chain: request r takes the helper of its edge k.
type step struct {
	r int
	k int32
}

// chain looks for a gainful exchange of at most maxDepth moves starting at request r, makes it,
// and returns the helpers whose owner changed (none when it found nothing).
func (s *solver) chain(r, maxDepth int) []int32 {
	var path []step
	var inChain [chainDepth + 1]int
	var touched []int32
	start := int32(-1) // the helper the chain starts from, which the last move may take
	gain := 0.0
	if s.matchR[r] >= 0 {
		start = s.adj[r][s.matchR[r]].h
		gain = -s.adj[r][s.matchR[r]].w
	}
	var walk func(cur, depth int, g float64) bool
	walk = func(cur, depth int, g float64) bool {
		inChain[depth] = cur
		for k, e := range s.adj[cur] {
			s.work++
			g1 := g + e.w
			if g1 <= eps {
				return false // the edges are best first: none further on gains either
			}
			if s.matchR[cur] >= 0 && e.h == s.adj[cur][s.matchR[cur]].h {
				continue
			}
			other := s.matchH[e.h]
			if e.h == start || other < 0 {
				// The chain closes on the helper it freed, or ends at a free helper.
				path = append(path, step{cur, int32(k)})
				touched = s.apply(path, -1)
				return true
			}
			o := int(other)
			if slices.Contains(inChain[:depth+1], o) {
				continue
			}
			// o loses this helper, and either drops out (when the chain began at a free
			// request of its urgency) or moves on.
			lose := s.adj[o][s.matchR[o]].w
			if start < 0 && s.urgent[o] == s.urgent[r] && g1-lose > eps {
				path = append(path, step{cur, int32(k)})
				touched = s.apply(path, o)
				return true
			}
			if depth+1 < maxDepth {
				path = append(path, step{cur, int32(k)})
				if walk(o, depth+1, g1-lose) {
					return true
				}
				path = path[:len(path)-1]
			}
		}
		return false
	}
	walk(r, 0, gain)
	return touched
}

// apply makes a chain's moves; drop, when not -1, is the request that loses its helper. It
// returns the helpers whose owner changed.
func (s *solver) apply(path []step, drop int) []int32 {
	var touched []int32
	for _, st := range path {
		if s.matchR[st.r] >= 0 {
			h := s.adj[st.r][s.matchR[st.r]].h
			touched = append(touched, h)
			if s.matchH[h] == int32(st.r) {
				s.matchH[h] = -1
			}
		}
	}
	if drop >= 0 {
		s.matchR[drop] = -1
	}
	for _, st := range path {
		s.set(st.r, st.k)
		touched = append(touched, s.adj[st.r][st.k].h)
	}
	return touched
}
