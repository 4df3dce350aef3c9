package matching

import (
	"math"
	"testing"
)

// On a whole town, too big to enumerate, the local search that improves the score of a large
// component is compared with the exact assignment of the same component (which a pass only
// uses for small ones because its time grows with the cube of the size).
func TestLocalSearchIsCloseToExactOnATown(t *testing.T) {
	if testing.Short() {
		t.Skip("the exact solution of a town takes seconds")
	}
	in := townInstance(7, 1200, 600)
	local, exact := solve(in, 0, false), solve(in, math.MaxInt, false)
	total := func(res Result) (score float64, urgent int) {
		for _, p := range res.Proposals {
			score += p.Score
			if p.Urgent {
				urgent++
			}
		}
		return score, urgent
	}
	ls, lu := total(local)
	es, eu := total(exact)
	if len(local.Proposals) != len(exact.Proposals) || lu != eu {
		t.Fatalf("local search matched %d (%d urgent), exact %d (%d urgent)", len(local.Proposals), lu, len(exact.Proposals), eu)
	}
	gap := (es - ls) / es
	t.Logf("%d proposals; local search %.0f, exact %.0f: %.2f%% below", len(local.Proposals), ls, es, 100*gap)
	if gap > 0.01 {
		t.Errorf("the local search's total score %.0f is %.2f%% below the exact %.0f; want within 1%%", ls, 100*gap, es)
	}
}
