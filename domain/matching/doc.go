// Package matching finds the proposals of one matcher pass: which helper to suggest for which
// open request. It is pure: plain values in, plain values out, no database and no clock but the
// one in its input.
//
// # The rules
//
// A pair (request R, offer O of helper H) is a candidate only if O's category is R's, H is not
// R's requester, H's location is within O's radius of R's, R's whole window lies inside one of
// O's weekly slots (read in the co-op's time zone), H has a current check when R needs one
// (valid through R's start date), H has nothing awaiting their answer, no commitment overlapping
// R and fewer commitments in R's week than O allows, the pair was not rejected or declined
// before, and R starts in the future. A helper's best-scoring candidate offer for R is the edge
// between them; each helper gets at most one proposal in a pass.
//
// # What Solve guarantees
//
//   - It matches as many urgent requests as any valid set of proposals could (a maximum
//     matching of the urgent requests, by Hopcroft–Karp), and then as many requests in all as
//     any could (augmenting paths over every request, which never unmatch a matched request, so
//     the urgent count stays at its maximum). These two are exact, on every input.
//   - Among such matchings it seeks the highest total score. The candidate graph falls apart into
//     components (requests and helpers that could be matched with one another, directly or along
//     alternating paths); a component of up to 100 requests and 100 helpers is solved exactly on
//     all three objectives at once, as a maximum-weight assignment (the Hungarian algorithm)
//     whose weights put an urgent request above any number of others and a matched request above
//     any score. A larger component starts from a greedy choice of the best-scoring pairs and,
//     after the augmentations, moves helpers along alternating paths and cycles of two, then
//     three, then four requests while that raises the total, within a budget of work in
//     proportion to the graph: a local search, so its score may fall short of the best. Its
//     tests check it against exhaustive search on small instances (within 2%, and in practice
//     exact) and against the exact assignment of a whole town of 1,200 requests (within 1%; it
//     comes within 0.3%).
//   - Every proposal satisfies every candidate rule, and no helper gets two.
//   - It is deterministic: the same input gives the same proposals.
//
// It does not promise the best score when that would cost an urgent or a matched request
// (by design), nor, in a large component, a score that only an exchange of more than four
// matched requests at once could reach.
//
// # Explaining
//
// Each proposal carries its reasons in words ("2.1 km away; free Tuesdays 13:00–17:00"), and
// each request left unmatched one reason, with a code for counting: the first rule every helper
// failed, in the order above, or that its helpers were proposed for other (more urgent) requests.
package matching
