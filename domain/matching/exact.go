package matching

import "math"

// exactLimit bounds the components solved exactly: the assignment below costs about
// rows² × (helpers + rows) steps: a few milliseconds at this size.
const exactLimit = 100

// components splits the candidate graph into parts that share no request or helper; each can be
// solved on its own. It returns, for each component, its requests and its helpers.
func (s *solver) components() (reqs [][]int, helps [][]int32) {
	parent := make([]int, len(s.reqs)+len(s.matchH))
	for i := range parent {
		parent[i] = i
	}
	var find func(int) int
	find = func(x int) int {
		for parent[x] != x {
			parent[x] = parent[parent[x]]
			x = parent[x]
		}
		return x
	}
	n := len(s.reqs)
	for r, es := range s.adj {
		for _, e := range es {
			a, b := find(r), find(n+int(e.h))
			if a != b {
				parent[a] = b
			}
		}
	}
	index := map[int]int{}
	for r := range s.reqs {
		if len(s.adj[r]) == 0 {
			continue
		}
		root := find(r)
		k, ok := index[root]
		if !ok {
			k = len(reqs)
			index[root] = k
			reqs, helps = append(reqs, nil), append(helps, nil)
		}
		reqs[k] = append(reqs[k], r)
	}
	for h := range s.matchH {
		if k, ok := index[find(n+h)]; ok {
			helps[k] = append(helps[k], int32(h))
		}
	}
	return reqs, helps
}

// solveExact finds the best matching of one component on all three objectives at once, as a
// maximum-weight assignment whose weights rank an urgent request above any number of others, a
// matched request above any score, and then the score: w = U·urgent + T + score.
func (s *solver) solveExact(rows []int, cols []int32) {
	n, m := len(rows), len(cols)
	col := make(map[int32]int, m)
	for j, h := range cols {
		col[h] = j
	}
	const cents = 100
	perT := int64(100*cents)*int64(n) + 1 // more than any total of scores
	perU := perT * int64(n+1)             // more than any total of matched requests and scores
	const absent = int64(1) << 55
	// cost[i][j]: rows are requests; columns the helpers, then one "stays unmatched" column per row.
	width := m + n
	cost := make([]int64, n*width)
	for i, r := range rows {
		line := cost[i*width : (i+1)*width]
		for j := range m {
			line[j] = absent
		}
		for _, e := range s.adj[r] {
			w := perT + int64(math.Round(e.w*cents))
			if s.urgent[r] {
				w += perU
			}
			line[col[e.h]] = -w
		}
	}
	assign := hungarian(cost, n, width)
	for i, r := range rows {
		s.matchR[r] = -1
		if j := assign[i]; j < m {
			k, _, _ := s.weight(r, cols[j])
			s.set(r, k)
		}
	}
}

// hungarian assigns each of n rows a distinct one of width ≥ n columns at the least total cost
// (the classic O(n²·width) algorithm with potentials); it returns each row's column.
func hungarian(cost []int64, n, width int) []int {
	const inf = int64(math.MaxInt64 / 4)
	u, v := make([]int64, n+1), make([]int64, width+1)
	p, way := make([]int, width+1), make([]int, width+1)
	minv, used := make([]int64, width+1), make([]bool, width+1)
	for i := 1; i <= n; i++ {
		p[0] = i
		j0 := 0
		for j := range minv {
			minv[j], used[j] = inf, false
		}
		for {
			used[j0] = true
			i0, delta, j1 := p[j0], inf, 0
			row := cost[(i0-1)*width:]
			for j := 1; j <= width; j++ {
				if used[j] {
					continue
				}
				if cur := row[j-1] - u[i0] - v[j]; cur < minv[j] {
					minv[j], way[j] = cur, j0
				}
				if minv[j] < delta {
					delta, j1 = minv[j], j
				}
			}
			for j := 0; j <= width; j++ {
				if used[j] {
					u[p[j]] += delta
					v[j] -= delta
				} else {
					minv[j] -= delta
				}
			}
			j0 = j1
			if p[j0] == 0 {
				break
			}
		}
		for j0 != 0 {
			j1 := way[j0]
			p[j0] = p[j1]
			j0 = j1
		}
	}
	assign := make([]int, n)
	for j := 1; j <= width; j++ {
		if p[j] != 0 {
			assign[p[j]-1] = j - 1
		}
	}
	return assign
}
