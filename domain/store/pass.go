package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/coop-exchange/coop/domain"
	"github.com/coop-exchange/coop/domain/matching"
)

// What a matcher pass reads. Each is one query over the whole co-op, so that a pass costs a
// handful of round trips however big the co-op is.
const (
	// Requests the community may still meet (open, or passed to a formal service that has not
	// taken them on) still ahead, of active members, with no live match.
	passRequestsSQL = `SELECT r.id, r.member_id, m.name, r.category_id, c.name, a.name, a.lat, a.lon, r.start_at, r.end_at,
		r.urgency, r.needs_check, c.requires_check, r.updated_at
	FROM requests r
	JOIN members m ON m.id = r.member_id
	JOIN categories c ON c.id = r.category_id
	JOIN areas a ON a.id = r.area_id
	WHERE (r.status = 'open' OR (r.status = 'escalated' AND NOT EXISTS (SELECT 1 FROM escalations e
		WHERE e.request_id = r.id AND e.status IN ('accepted', 'in-progress', 'on-hold', 'completed')))) AND r.start_at > ? AND m.status = 'active'
	AND NOT EXISTS (SELECT 1 FROM matches x WHERE x.request_id = r.id AND x.status IN ('proposed', 'approved', 'accepted'))`

	// Active offers of active members.
	passOffersSQL = `SELECT o.id, o.member_id, o.category_id, o.radius_km, o.slots, o.max_per_week, o.updated_at
	FROM offers o JOIN members m ON m.id = o.member_id
	WHERE o.status = 'active' AND m.status = 'active'`

	// Active members with an active offer, located at their area's centre when they have one.
	passHelpersSQL = `SELECT m.id, m.name, a.lat, a.lon
	FROM members m LEFT JOIN areas a ON a.id = m.area_id
	WHERE m.status = 'active' AND EXISTS (SELECT 1 FROM offers o WHERE o.member_id = m.id AND o.status = 'active')`

	// Checks still current on a date.
	passChecksSQL = `SELECT member_id, kind, expires_on FROM checks WHERE expires_on >= ?`

	// Live matches, for what each helper is committed to or has to answer; but not those the
	// pass withdraws as it expires their requests, which free their helpers for this pass.
	passLiveSQL = `SELECT x.helper_id, x.status, x.helper_answered_at IS NULL, r.start_at, r.end_at
	FROM matches x JOIN requests r ON r.id = x.request_id
	WHERE x.status IN ('proposed', 'approved', 'accepted')
	AND NOT (x.status IN ('proposed', 'approved') AND r.status IN ('open', 'escalated') AND r.start_at <= ?)`

	// Pairs never to propose again, of the requests a pass looks at: turned down by a
	// coordinator, declined, or cancelled by one of the two people.
	passExcludedSQL = `SELECT x.request_id, x.helper_id FROM matches x JOIN requests r ON r.id = x.request_id
	WHERE (x.status IN ('rejected', 'declined') OR (x.status = 'cancelled' AND x.ended_by IN (x.helper_id, r.member_id)))
	AND r.status IN ('open', 'escalated') AND r.start_at > ?`

	// Completed matches between each requester and helper.
	passHistorySQL = `SELECT r.member_id, x.helper_id, COUNT(*)
	FROM matches x JOIN requests r ON r.id = x.request_id
	WHERE x.status = 'completed' GROUP BY r.member_id, x.helper_id`

	// When each helper was last proposed for anything, over the four weeks that fairness counts.
	passLastProposedSQL = `SELECT helper_id, MAX(created_at) FROM matches WHERE created_at > ? GROUP BY helper_id`
)

// flexTime scans a time that SQLite may hand over as text (when it comes from an expression
// such as MAX, whose type it does not know).
type flexTime struct{ t time.Time }

func (f *flexTime) Scan(v any) error {
	switch x := v.(type) {
	case nil:
		f.t = time.Time{}
	case time.Time:
		f.t = x.UTC()
	case string:
		return f.parse(x)
	case []byte:
		return f.parse(string(x))
	default:
		return fmt.Errorf("store: %T is not a time", v)
	}
	return nil
}

var timeLayouts = []string{"2006-01-02 15:04:05.999999999-07:00", time.RFC3339Nano, "2006-01-02 15:04:05.999999999", "2006-01-02"}

func (f *flexTime) parse(s string) error {
	for _, layout := range timeLayouts {
		if t, err := time.Parse(layout, s); err == nil {
			f.t = t.UTC()
			return nil
		}
	}
	return fmt.Errorf("store: %q is not a time", s)
}

// each runs a query and calls scan for each row.
func (s *Store) each(ctx context.Context, query string, args []any, scan func(*sql.Rows) error) error {
	rows, err := s.conn(ctx).Raw(query, args...).Rows()
	if err != nil {
		return translate(err)
	}
	defer rows.Close()
	for rows.Next() {
		if err := scan(rows); err != nil {
			return err
		}
	}
	return translate(rows.Err())
}

// MatchInput reads everything a pass at now needs to know, in one consistent snapshot: open
// requests still ahead with no live match, active offers of active helpers with their checks,
// commitments and proposals awaiting an answer, the pairs never to propose again, and the
// history between helpers and requesters. Loc and Now are the caller's to set.
func (s *Store) MatchInput(ctx context.Context, now time.Time) (matching.Input, error) {
	at := now.UTC()
	return s.readInput(ctx, inputQueries{
		requests: passRequestsSQL, requestsArgs: []any{at},
		offers: passOffersSQL, helpers: passHelpersSQL,
		checks: passChecksSQL, live: passLiveSQL, liveArgs: []any{at},
		excluded: passExcludedSQL, excludedArgs: []any{at}, history: passHistorySQL,
	}, now)
}

// inputQueries are the queries that read what the matcher needs, with their arguments beyond
// the dates every one of its kind takes.
type inputQueries struct {
	requests, offers, helpers, checks, live, excluded, history                             string
	requestsArgs, offersArgs, helpersArgs, checksArgs, liveArgs, excludedArgs, historyArgs []any
}

func (s *Store) readInput(ctx context.Context, q inputQueries, now time.Time) (matching.Input, error) {
	in := matching.Input{Excluded: map[matching.Pair]bool{}, History: map[matching.Pair]int{}}
	err := s.snapshot(ctx, func(ctx context.Context) error {
		err := s.each(ctx, q.requests, q.requestsArgs, func(rows *sql.Rows) error {
			var (
				r                      matching.Request
				name, urgency          string
				lat, lon               sql.NullFloat64
				start, end, version    flexTime
				needsCheck, catRequire bool
			)
			if err := rows.Scan(&r.ID, &r.RequesterID, &name, &r.CategoryID, &r.CategoryName, &r.AreaName, &lat, &lon,
				&start, &end, &urgency, &needsCheck, &catRequire, &version); err != nil {
				return err
			}
			r.Version = version.t
			r.RequesterName = domain.Member{Name: name}.FirstName()
			r.Located, r.Lat, r.Lon = lat.Valid && lon.Valid, lat.Float64, lon.Float64
			r.Start, r.End = start.t, end.t
			r.Urgent = urgency == string(domain.Urgent)
			r.NeedsCheck = needsCheck || catRequire
			in.Requests = append(in.Requests, r)
			return nil
		})
		if err != nil {
			return fmt.Errorf("requests: %w", err)
		}
		err = s.each(ctx, q.offers, q.offersArgs, func(rows *sql.Rows) error {
			var (
				row     offerRow
				version flexTime
			)
			if err := rows.Scan(&row.ID, &row.MemberID, &row.CategoryID, &row.RadiusKm, &row.Slots, &row.MaxPerWeek, &version); err != nil {
				return err
			}
			o, err := row.domain()
			if err != nil {
				return err
			}
			in.Offers = append(in.Offers, matching.Offer{ID: o.ID, HelperID: o.MemberID, CategoryID: o.CategoryID, RadiusKm: o.RadiusKm,
				Slots: o.Slots, MaxPerWeek: o.MaxPerWeek, Version: version.t})
			return nil
		})
		if err != nil {
			return fmt.Errorf("offers: %w", err)
		}
		index := map[int64]int{}
		err = s.each(ctx, q.helpers, q.helpersArgs, func(rows *sql.Rows) error {
			var (
				h        matching.Helper
				name     string
				lat, lon sql.NullFloat64
			)
			if err := rows.Scan(&h.ID, &name, &lat, &lon); err != nil {
				return err
			}
			h.Name = name
			h.FirstName = domain.Member{Name: name}.FirstName()
			h.Located, h.Lat, h.Lon = lat.Valid && lon.Valid, lat.Float64, lon.Float64
			index[h.ID] = len(in.Helpers)
			in.Helpers = append(in.Helpers, h)
			return nil
		})
		if err != nil {
			return fmt.Errorf("helpers: %w", err)
		}
		// A check is kept until the day after its re-check date anywhere on Earth; the solver
		// reads the date in the co-op's time zone.
		err = s.each(ctx, q.checks, append([]any{dateOnly(now.UTC().AddDate(0, 0, -1))}, q.checksArgs...), func(rows *sql.Rows) error {
			var (
				memberID int64
				kind     string
				expires  flexTime
			)
			if err := rows.Scan(&memberID, &kind, &expires); err != nil {
				return err
			}
			if i, ok := index[memberID]; ok {
				in.Helpers[i].Checks = append(in.Helpers[i].Checks, matching.Check{Kind: kind, ValidUntil: dateOnly(expires.t)})
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("checks: %w", err)
		}
		err = s.each(ctx, q.live, q.liveArgs, func(rows *sql.Rows) error {
			var (
				helperID   int64
				status     string
				unanswered bool
				start, end flexTime
			)
			if err := rows.Scan(&helperID, &status, &unanswered, &start, &end); err != nil {
				return err
			}
			i, ok := index[helperID]
			if !ok {
				return nil
			}
			h := &in.Helpers[i]
			switch domain.MatchStatus(status) {
			case domain.MatchProposed:
				h.Awaiting = true
			case domain.MatchApproved:
				h.Awaiting = h.Awaiting || unanswered
				h.Commitments = append(h.Commitments, matching.Commitment{Start: start.t, End: end.t})
			default:
				h.Commitments = append(h.Commitments, matching.Commitment{Start: start.t, End: end.t})
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("live matches: %w", err)
		}
		err = s.each(ctx, q.excluded, q.excludedArgs, func(rows *sql.Rows) error {
			var p matching.Pair
			if err := rows.Scan(&p.RequestID, &p.HelperID); err != nil {
				return err
			}
			in.Excluded[p] = true
			return nil
		})
		if err != nil {
			return fmt.Errorf("excluded pairs: %w", err)
		}
		err = s.each(ctx, q.history, q.historyArgs, func(rows *sql.Rows) error {
			var (
				p matching.Pair
				n int
			)
			// History is keyed by requester and helper.
			if err := rows.Scan(&p.RequestID, &p.HelperID, &n); err != nil {
				return err
			}
			in.History[p] = n
			return nil
		})
		if err != nil {
			return fmt.Errorf("history: %w", err)
		}
		err = s.each(ctx, passLastProposedSQL, []any{now.UTC().Add(-28 * 24 * time.Hour)}, func(rows *sql.Rows) error {
			var (
				helperID int64
				last     flexTime
			)
			if err := rows.Scan(&helperID, &last); err != nil {
				return err
			}
			if i, ok := index[helperID]; ok {
				in.Helpers[i].LastProposed = last.t
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("last proposals: %w", err)
		}
		return nil
	})
	if err != nil {
		return matching.Input{}, fmt.Errorf("store: unable to read what the matcher needs: %w", err)
	}
	return in, nil
}

// snapshot runs fn's reads in one read-only transaction that sees one state of the database, on
// PostgreSQL. On SQLite it runs them outside a transaction: its transactions here begin by
// taking the write lock, which would make members' changes wait for the whole read; each read
// then sees the latest state, and the writing of proposals checks again what they rest on.
func (s *Store) snapshot(ctx context.Context, fn func(ctx context.Context) error) error {
	if _, ok := ctx.Value(txKey{}).(*gorm.DB); ok || s.dialect != Postgres {
		return fn(ctx)
	}
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		return fn(context.WithValue(ctx, txKey{}, tx))
	}, &sql.TxOptions{ReadOnly: true, Isolation: sql.LevelRepeatableRead})
	return translate(err)
}

const (
	// Live proposals and approvals of open requests whose time has come are cancelled...
	cancelExpiringSQL = `UPDATE matches SET status = 'cancelled', end_reason = ?, updated_at = ?
	WHERE status IN ('proposed', 'approved')
	AND request_id IN (SELECT id FROM requests WHERE status IN ('open', 'escalated') AND start_at <= ?)`
	// ... and the requests expire.
	expireRequestsSQL = `UPDATE requests SET status = 'expired', updated_at = ? WHERE status = 'open' AND start_at <= ?`
	countExpiringSQL  = `SELECT COUNT(*) FROM requests WHERE status = 'open' AND start_at <= ?`
)

// ExpireRequests makes the open requests whose start is not after now expired, withdrawing
// their proposals, and says how many expired.
func (s *Store) ExpireRequests(ctx context.Context, now time.Time) (int, error) {
	db := s.conn(ctx)
	at := now.UTC()
	if err := db.Exec(cancelExpiringSQL, domain.WithdrawnRequestExpired, at, at).Error; err != nil {
		return 0, fmt.Errorf("store: unable to withdraw proposals of expiring requests: %w", translate(err))
	}
	res := db.Exec(expireRequestsSQL, at, at)
	if res.Error != nil {
		return 0, fmt.Errorf("store: unable to expire requests: %w", translate(res.Error))
	}
	return int(res.RowsAffected), nil
}

// CountExpiring counts the open requests whose start is not after now.
func (s *Store) CountExpiring(ctx context.Context, now time.Time) (int, error) {
	var n int
	if err := s.conn(ctx).Raw(countExpiringSQL, now.UTC()).Scan(&n).Error; err != nil {
		return 0, fmt.Errorf("store: unable to count expiring requests: %w", translate(err))
	}
	return n, nil
}

// valuesBatch is how many rows go in one statement: few statements, each under both dialects'
// limits on bound parameters (5 a row).
const valuesBatch = 4000

// values writes a VALUES list of n rows with the given column types, cast so that both
// dialects know each column's type: (CAST(? AS bigint), CAST(? AS text)), ...
func values(n int, types ...string) string {
	var row strings.Builder
	row.WriteString("(")
	for i, t := range types {
		if i > 0 {
			row.WriteString(", ")
		}
		row.WriteString("CAST(? AS " + t + ")")
	}
	row.WriteString(")")
	rows := make([]string, n)
	for i := range rows {
		rows[i] = row.String()
	}
	return "VALUES " + strings.Join(rows, ", ")
}

// insertProposalsSQL writes proposals whose request and offer are as the pass read them (their
// updated_at unchanged, so nothing a rule rests on has changed) and whose helper and requester
// are still active. On PostgreSQL it also locks those rows until the pass commits, so that a
// change made meanwhile either comes first (and the proposal is not written) or waits for the
// pass and then withdraws the proposal; SQLite's write transactions run one at a time. The
// unique indexes turn away a second live match for a request or a second proposal awaiting a
// helper, which can only come from a match made by hand while the pass ran.
const insertProposalsSQL = `INSERT INTO matches (request_id, offer_id, helper_id, source, status, score, reasons, pass_id, created_at, updated_at)
	SELECT v.column1, v.column2, v.column3, 'auto', 'proposed', v.column4, v.column5, ?, ?, ?
	FROM (%s) AS v
	JOIN requests r ON r.id = v.column1 AND r.status IN ('open', 'escalated') AND r.updated_at = v.column6
	JOIN offers o ON o.id = v.column2 AND o.status = 'active' AND o.member_id = v.column3 AND o.updated_at = v.column7
	JOIN members hm ON hm.id = v.column3 AND hm.status = 'active'
	JOIN members rm ON rm.id = r.member_id AND rm.status = 'active'
	WHERE true %s
	ON CONFLICT DO NOTHING
	RETURNING request_id`

// InsertProposals writes a pass's proposals as auto matches, skipping any whose request, offer,
// helper or requester changed while the pass ran, and returns the requests it wrote them for.
func (s *Store) InsertProposals(ctx context.Context, passID int64, ps []matching.Proposal, at time.Time) ([]int64, error) {
	timeType, lock := "text", "" // SQLite keeps times as text, written the same way for a row and a parameter
	if s.dialect == Postgres {
		timeType, lock = "timestamptz", "FOR SHARE OF r, o, hm, rm"
	}
	var written []int64
	for start := 0; start < len(ps); start += valuesBatch {
		batch := ps[start:min(start+valuesBatch, len(ps))]
		// The pass's id and times come before the VALUES in the text, so first in the arguments.
		args := make([]any, 0, 3+7*len(batch))
		args = append(args, passID, at.UTC(), at.UTC())
		for _, p := range batch {
			reasons, err := json.Marshal(p.Reasons)
			if err != nil {
				return written, err
			}
			args = append(args, p.RequestID, p.OfferID, p.HelperID, p.Score, string(reasons), p.RequestVersion.UTC(), p.OfferVersion.UTC())
		}
		query := fmt.Sprintf(insertProposalsSQL, values(len(batch), "bigint", "bigint", "bigint", "double precision", "text", timeType, timeType), lock)
		err := s.each(ctx, query, args, func(rows *sql.Rows) error {
			var id int64
			if err := rows.Scan(&id); err != nil {
				return err
			}
			written = append(written, id)
			return nil
		})
		if err != nil {
			return written, fmt.Errorf("store: unable to write proposals: %w", err)
		}
	}
	return written, nil
}

const (
	readUnmatchedSQL   = `SELECT request_id, code, reason FROM unmatched_requests`
	upsertUnmatchedSQL = `INSERT INTO unmatched_requests (request_id, pass_id, code, reason, updated_at)
	VALUES %s
	ON CONFLICT (request_id) DO UPDATE SET pass_id = excluded.pass_id, code = excluded.code, reason = excluded.reason,
		updated_at = excluded.updated_at`
)

// SaveUnmatched records why each request was left unmatched, writing only what changed since
// the last pass: a reason that stays the same keeps the time it was first given, and the
// requests no longer unmatched (proposed, expired, cancelled) lose theirs.
func (s *Store) SaveUnmatched(ctx context.Context, passID int64, us []matching.Unmatched, at time.Time) error {
	db := s.conn(ctx)
	type said struct{ code, reason string }
	before := map[int64]said{}
	err := s.each(ctx, readUnmatchedSQL, nil, func(rows *sql.Rows) error {
		var (
			id int64
			w  said
		)
		if err := rows.Scan(&id, &w.code, &w.reason); err != nil {
			return err
		}
		before[id] = w
		return nil
	})
	if err != nil {
		return fmt.Errorf("store: unable to read unmatched requests: %w", err)
	}
	var changed []matching.Unmatched
	for _, u := range us {
		if w, ok := before[u.RequestID]; !ok || w.code != string(u.Code) || w.reason != u.Reason {
			changed = append(changed, u)
		}
		delete(before, u.RequestID)
	}
	gone := make([]int64, 0, len(before))
	for id := range before {
		gone = append(gone, id)
	}
	for start := 0; start < len(gone); start += batchSize {
		ids := gone[start:min(start+batchSize, len(gone))]
		if err := db.Exec("DELETE FROM unmatched_requests WHERE request_id IN ?", ids).Error; err != nil {
			return fmt.Errorf("store: unable to clear unmatched requests: %w", translate(err))
		}
	}
	for start := 0; start < len(changed); start += valuesBatch {
		batch := changed[start:min(start+valuesBatch, len(changed))]
		args := make([]any, 0, 5*len(batch))
		for _, u := range batch {
			args = append(args, u.RequestID, passID, string(u.Code), u.Reason, at.UTC())
		}
		query := fmt.Sprintf(upsertUnmatchedSQL, strings.TrimSuffix(strings.Repeat("(?, ?, ?, ?, ?), ", len(batch)), ", "))
		if err := db.Exec(query, args...).Error; err != nil {
			return fmt.Errorf("store: unable to record unmatched requests: %w", translate(err))
		}
	}
	return nil
}

// advisoryLockSQL and advisoryUnlockSQL take and give back a PostgreSQL session lock named by
// a string, held by one connection until it is given back or the connection ends.
const (
	advisoryLockSQL   = `SELECT pg_try_advisory_lock(hashtextextended($1, 0))`
	advisoryUnlockSQL = `SELECT pg_advisory_unlock(hashtextextended($1, 0))`
)

// takeLockSQL takes a row lock in the locks table (SQLite) unless someone holds it and its lease
// has not run out; releaseLockSQL gives it back, if it is still this holder's.
const (
	takeLockSQL = `INSERT INTO locks (name, holder, expires_at) VALUES (?, ?, ?)
	ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at
	WHERE locks.expires_at < ?`
	releaseLockSQL = `DELETE FROM locks WHERE name = ? AND holder = ?`
)

// lockLease is how long a lock in the locks table holds if its process dies without giving it
// back: longer than any pass on SQLite takes.
const lockLease = 15 * time.Minute

// TryLock takes the lock called name if no one holds it, and returns how to give it back. It
// holds across every process on the database. On PostgreSQL it is an advisory lock held by a
// connection of its own, given back at once if this process dies; on SQLite, a row in the locks
// table with a lease of lockLease.
func (s *Store) TryLock(ctx context.Context, name string) (release func(), ok bool, err error) {
	if s.dialect != Postgres {
		return s.tryRowLock(ctx, name)
	}
	sqlDB, err := s.db.DB()
	if err != nil {
		return nil, false, err
	}
	conn, err := sqlDB.Conn(ctx)
	if err != nil {
		return nil, false, fmt.Errorf("store: unable to take lock %s: %w", name, translate(err))
	}
	// A connection reported bad is closed rather than going back to the pool, so that a lock it
	// may hold (if the answer was lost) ends with it.
	discard := func() {
		_ = conn.Raw(func(any) error { return driver.ErrBadConn })
		conn.Close()
	}
	key := "coop:" + name
	if err := conn.QueryRowContext(ctx, advisoryLockSQL, key).Scan(&ok); err != nil {
		discard()
		return nil, false, fmt.Errorf("store: unable to take lock %s: %w", name, translate(err))
	}
	if !ok {
		conn.Close()
		return nil, false, nil
	}
	return func() {
		// Give the lock back even if the caller's context has ended.
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if _, err := conn.ExecContext(ctx, advisoryUnlockSQL, key); err != nil {
			s.log.Warn("store: unable to give back a lock; closing its connection", "lock", name, "err", err)
			discard()
			return
		}
		conn.Close()
	}, true, nil
}

func (s *Store) tryRowLock(ctx context.Context, name string) (func(), bool, error) {
	holder, err := domain.NewSecret("", 16)
	if err != nil {
		return nil, false, err
	}
	now := time.Now().UTC()
	res := s.db.WithContext(ctx).Exec(takeLockSQL, name, holder, now.Add(lockLease), now)
	if res.Error != nil {
		return nil, false, fmt.Errorf("store: unable to take lock %s: %w", name, translate(res.Error))
	}
	if res.RowsAffected == 0 {
		return nil, false, nil
	}
	return func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := s.db.WithContext(ctx).Exec(releaseLockSQL, name, holder).Error; err != nil {
			s.log.Warn("store: unable to give back a lock; it lapses with its lease", "lock", name, "err", err)
		}
	}, true, nil
}
