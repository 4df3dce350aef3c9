package store

import (
	"context"
	"fmt"
	"time"

	"github.com/coop-exchange/coop/domain/matching"
)

// What ranking the helpers for one request reads: the request whatever its state, and only the
// helpers offering its kind of support.
const (
	rankRequestSQL = `SELECT r.id, r.member_id, m.name, r.category_id, c.name, a.name, a.lat, a.lon, r.start_at, r.end_at,
		r.urgency, r.needs_check, c.requires_check, r.updated_at
	FROM requests r
	JOIN members m ON m.id = r.member_id
	JOIN categories c ON c.id = r.category_id
	JOIN areas a ON a.id = r.area_id
	WHERE r.id = ?`

	rankOffersSQL = passOffersSQL + ` AND o.category_id = ?`

	rankHelpersSQL = `SELECT m.id, m.name, a.lat, a.lon
	FROM members m LEFT JOIN areas a ON a.id = m.area_id
	WHERE m.status = 'active' AND EXISTS (SELECT 1 FROM offers o WHERE o.member_id = m.id AND o.status = 'active' AND o.category_id = ?)`

	offeringSQL = ` IN (SELECT member_id FROM offers WHERE status = 'active' AND category_id = ?)`

	rankChecksSQL = passChecksSQL + ` AND member_id` + offeringSQL

	rankLiveSQL = passLiveSQL + ` AND x.id <> ? AND x.helper_id` + offeringSQL

	rankExcludedSQL = `SELECT x.request_id, x.helper_id FROM matches x JOIN requests r ON r.id = x.request_id
	WHERE (x.status IN ('rejected', 'declined') OR (x.status = 'cancelled' AND x.ended_by IN (x.helper_id, r.member_id)))
	AND x.request_id = ?`

	rankHistorySQL = `SELECT r.member_id, x.helper_id, COUNT(*)
	FROM matches x JOIN requests r ON r.id = x.request_id
	WHERE x.status = 'completed' AND r.member_id = ? GROUP BY r.member_id, x.helper_id`
)

// RankInput reads what ranking the helpers for one request needs: the request, and the
// helpers offering its kind of support with their checks, commitments (leaving out the match
// ignoreMatch) and history with the requester.
func (s *Store) RankInput(ctx context.Context, requestID, ignoreMatch int64, now time.Time) (matching.Input, error) {
	r, err := s.Request(ctx, requestID)
	if err != nil {
		return matching.Input{}, err
	}
	at := now.UTC()
	in, err := s.readInput(ctx, inputQueries{
		requests: rankRequestSQL, requestsArgs: []any{requestID},
		offers: rankOffersSQL, offersArgs: []any{r.CategoryID},
		helpers: rankHelpersSQL, helpersArgs: []any{r.CategoryID},
		checks: rankChecksSQL, checksArgs: []any{r.CategoryID},
		live: rankLiveSQL, liveArgs: []any{at, ignoreMatch, r.CategoryID},
		excluded: rankExcludedSQL, excludedArgs: []any{requestID},
		history: rankHistorySQL, historyArgs: []any{r.MemberID},
	}, now)
	if err != nil {
		return matching.Input{}, fmt.Errorf("store: unable to read the helpers for request %d: %w", requestID, err)
	}
	return in, nil
}
