package store

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"gorm.io/gorm"

	"github.com/coop-exchange/coop/domain"
)

type checkRow struct {
	ID                int64 `gorm:"primaryKey"`
	MemberID          int64
	Kind              string
	Level             string
	CertificateNumber string
	IssuedOn          time.Time
	ExpiresOn         time.Time
	UpdateService     bool
	VerifiedBy        *int64
	VerifiedAt        time.Time
	CreatedAt         time.Time `gorm:"autoCreateTime:false"`
}

func (checkRow) TableName() string { return "checks" }

// dateOnly keeps the calendar date of t as midnight UTC, how dates are stored.
func dateOnly(t time.Time) time.Time {
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
}

func (r checkRow) domain() domain.Check {
	return domain.Check{ID: r.ID, MemberID: r.MemberID, Kind: r.Kind, Level: r.Level, CertificateNumber: r.CertificateNumber,
		IssuedOn: dateOnly(r.IssuedOn.UTC()), ExpiresOn: dateOnly(r.ExpiresOn.UTC()), UpdateService: r.UpdateService,
		VerifiedBy: deref(r.VerifiedBy), VerifiedAt: r.VerifiedAt.UTC(), CreatedAt: r.CreatedAt.UTC()}
}

// AddCheck records a verified check and sets its ID.
func (s *Store) AddCheck(ctx context.Context, c *domain.Check) error {
	row := checkRow{MemberID: c.MemberID, Kind: c.Kind, Level: c.Level, CertificateNumber: c.CertificateNumber,
		IssuedOn: dateOnly(c.IssuedOn), ExpiresOn: dateOnly(c.ExpiresOn), UpdateService: c.UpdateService,
		VerifiedBy: nullID(c.VerifiedBy), VerifiedAt: c.VerifiedAt.UTC(), CreatedAt: c.CreatedAt.UTC()}
	if err := s.conn(ctx).Create(&row).Error; err != nil {
		return fmt.Errorf("store: unable to record a check for member %d: %w", c.MemberID, translate(err))
	}
	c.ID = row.ID
	return nil
}

// MemberChecks returns a member's checks, latest re-check date first.
func (s *Store) MemberChecks(ctx context.Context, memberID int64) ([]domain.Check, error) {
	var rows []checkRow
	if err := s.conn(ctx).Where("member_id = ?", memberID).Order("expires_on DESC, id DESC").Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("store: unable to read the checks of member %d: %w", memberID, translate(err))
	}
	out := make([]domain.Check, len(rows))
	for i, r := range rows {
		out[i] = r.domain()
	}
	return out, nil
}

type matchRow struct {
	ID                  int64 `gorm:"primaryKey"`
	RequestID           int64
	OfferID             int64
	HelperID            int64
	Source              string
	Status              string
	Score               float64
	Reasons             string
	PassID              *int64
	HelperAnsweredAt    *time.Time
	RequesterAnsweredAt *time.Time
	EndReason           string
	CreatedAt           time.Time `gorm:"autoCreateTime:false"`
	UpdatedAt           time.Time `gorm:"autoUpdateTime:false"`
	ApprovedBy          *int64
	ApprovedAt          *time.Time
	AnswerBy            *time.Time
	AcceptedAt          *time.Time
	EndedBy             *int64
	EndedAt             *time.Time
	DoneAt              *time.Time
	MinutesClaimed      *int
	MinutesConfirmed    *int
	ConfirmedAt         *time.Time
	ConfirmedBy         *int64
	RemindedAt          *time.Time
	DoneAskedAt         *time.Time
	OverdueAt           *time.Time
}

func (matchRow) TableName() string { return "matches" }

func (r matchRow) domain() (domain.Match, error) {
	m := domain.Match{ID: r.ID, RequestID: r.RequestID, OfferID: r.OfferID, HelperID: r.HelperID, Source: domain.MatchSource(r.Source),
		Status: domain.MatchStatus(r.Status), Score: r.Score, PassID: deref(r.PassID), EndReason: r.EndReason,
		CreatedAt: r.CreatedAt.UTC(), UpdatedAt: r.UpdatedAt.UTC(),
		ApprovedBy: deref(r.ApprovedBy), ApprovedAt: derefTime(r.ApprovedAt), AnswerBy: derefTime(r.AnswerBy),
		HelperAnsweredAt: derefTime(r.HelperAnsweredAt), RequesterAnsweredAt: derefTime(r.RequesterAnsweredAt),
		AcceptedAt: derefTime(r.AcceptedAt), EndedBy: deref(r.EndedBy), EndedAt: derefTime(r.EndedAt), DoneAt: derefTime(r.DoneAt),
		MinutesClaimed: deref(r.MinutesClaimed), MinutesConfirmed: deref(r.MinutesConfirmed), ConfirmedAt: derefTime(r.ConfirmedAt),
		ConfirmedBy: deref(r.ConfirmedBy), RemindedAt: derefTime(r.RemindedAt), DoneAskedAt: derefTime(r.DoneAskedAt), OverdueAt: derefTime(r.OverdueAt)}
	if err := json.Unmarshal([]byte(r.Reasons), &m.Reasons); err != nil {
		return domain.Match{}, fmt.Errorf("store: match %d has unreadable reasons: %w", r.ID, err)
	}
	return m, nil
}

// Match reads one match.
func (s *Store) Match(ctx context.Context, id int64) (domain.Match, error) {
	var row matchRow
	if err := s.conn(ctx).Take(&row, id).Error; err != nil {
		return domain.Match{}, fmt.Errorf("store: unable to read match %d: %w", id, translate(err))
	}
	return row.domain()
}

// RequestMatches lists the matches of a request, oldest first.
func (s *Store) RequestMatches(ctx context.Context, requestID int64) ([]domain.Match, error) {
	var rows []matchRow
	if err := s.conn(ctx).Where("request_id = ?", requestID).Order("id").Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("store: unable to read the matches of request %d: %w", requestID, translate(err))
	}
	return matchesOf(rows)
}

// matchesOf converts rows read from the matches table.
func matchesOf(rows []matchRow) ([]domain.Match, error) {
	out := make([]domain.Match, len(rows))
	for i, r := range rows {
		m, err := r.domain()
		if err != nil {
			return nil, err
		}
		out[i] = m
	}
	return out, nil
}

// withdrawable are the statuses of a match not yet agreed by both people.
var withdrawable = []string{string(domain.MatchProposed), string(domain.MatchApproved)}

// WithdrawProposals cancels the matches in scope, and lists them; see domain.ProposalStore.
func (s *Store) WithdrawProposals(ctx context.Context, scope domain.ProposalScope, reason string, at time.Time) ([]domain.WithdrawnMatch, error) {
	db := s.conn(ctx).Table("matches x").Joins("JOIN requests r ON r.id = x.request_id")
	if scope.IncludeAgreed {
		db = db.Where("(x.status IN ? OR (x.status = ? AND r.start_at > ?))", withdrawable, string(domain.MatchAccepted), at.UTC())
	} else {
		db = db.Where("x.status IN ?", withdrawable)
	}
	switch {
	case len(scope.RequestIDs) > 0:
		db = db.Where("x.request_id IN ?", scope.RequestIDs)
	case scope.OfferID != 0:
		db = db.Where("x.offer_id = ?", scope.OfferID)
	case scope.MemberID != 0:
		db = db.Where("(x.helper_id = ? OR r.member_id = ?)", scope.MemberID, scope.MemberID)
	case scope.AreaID != 0:
		db = db.Where("(r.area_id = ? OR x.helper_id IN (SELECT id FROM members WHERE area_id = ?))", scope.AreaID, scope.AreaID)
	case scope.CategoryID != 0:
		db = db.Where("r.category_id = ?", scope.CategoryID)
	default:
		return nil, nil
	}
	var rows []struct {
		ID, RequestID, HelperID, RequesterID int64
		Status                               string
	}
	if err := db.Select("x.id, x.request_id, x.helper_id, r.member_id AS requester_id, x.status").Scan(&rows).Error; err != nil {
		return nil, fmt.Errorf("store: unable to find proposals to withdraw: %w", translate(err))
	}
	if len(rows) == 0 {
		return nil, nil
	}
	out := make([]domain.WithdrawnMatch, len(rows))
	ids := make([]int64, len(rows))
	var reopen []int64
	for i, r := range rows {
		out[i] = domain.WithdrawnMatch{ID: r.ID, RequestID: r.RequestID, HelperID: r.HelperID, RequesterID: r.RequesterID, Was: domain.MatchStatus(r.Status)}
		ids[i] = r.ID
		if r.Status == string(domain.MatchAccepted) {
			reopen = append(reopen, r.RequestID)
		}
	}
	for start := 0; start < len(ids); start += valuesBatch {
		chunk := ids[start:min(start+valuesBatch, len(ids))]
		// The status is checked again, so that a match that moved on meanwhile keeps its place.
		err := s.conn(ctx).Model(&matchRow{}).Where("id IN ? AND status IN ?", chunk, liveStatuses).
			Updates(map[string]any{"status": string(domain.MatchCancelled), "end_reason": reason, "ended_at": at.UTC(), "updated_at": at.UTC()}).Error
		if err != nil {
			return nil, fmt.Errorf("store: unable to withdraw proposals: %w", translate(err))
		}
	}
	if len(reopen) > 0 {
		err := s.conn(ctx).Model(&requestRow{}).Where("id IN ? AND status = ?", reopen, string(domain.RequestMatched)).
			Updates(map[string]any{"status": string(domain.RequestOpen), "updated_at": at.UTC()}).Error
		if err != nil {
			return nil, fmt.Errorf("store: unable to reopen requests: %w", translate(err))
		}
	}
	return out, nil
}

type passRow struct {
	ID                 int64 `gorm:"primaryKey"`
	StartedAt          time.Time
	FinishedAt         time.Time
	DurationMs         int64
	LoadMs             int64
	SolveMs            int64
	RequestsConsidered int
	HelpersConsidered  int
	HelpersUnlocated   int
	CandidatePairs     int
	Proposed           int
	Unmatched          int
	Expired            int
	UnmatchedReasons   string
}

func (passRow) TableName() string { return "match_passes" }

func passToRow(p domain.MatchPass) (passRow, error) {
	reasons, err := json.Marshal(p.UnmatchedReasons)
	if err != nil {
		return passRow{}, err
	}
	if p.UnmatchedReasons == nil {
		reasons = []byte("{}")
	}
	return passRow{ID: p.ID, StartedAt: p.StartedAt.UTC(), FinishedAt: p.FinishedAt.UTC(), DurationMs: p.Duration.Milliseconds(),
		LoadMs: p.Load.Milliseconds(), SolveMs: p.Solve.Milliseconds(), RequestsConsidered: p.RequestsConsidered,
		HelpersConsidered: p.HelpersConsidered, HelpersUnlocated: p.HelpersUnlocated, CandidatePairs: p.CandidatePairs,
		Proposed: p.Proposed, Unmatched: p.Unmatched, Expired: p.Expired, UnmatchedReasons: string(reasons)}, nil
}

func (r passRow) domain() (domain.MatchPass, error) {
	p := domain.MatchPass{ID: r.ID, StartedAt: r.StartedAt.UTC(), FinishedAt: r.FinishedAt.UTC(),
		Duration: time.Duration(r.DurationMs) * time.Millisecond, Load: time.Duration(r.LoadMs) * time.Millisecond,
		Solve: time.Duration(r.SolveMs) * time.Millisecond, RequestsConsidered: r.RequestsConsidered,
		HelpersConsidered: r.HelpersConsidered, HelpersUnlocated: r.HelpersUnlocated, CandidatePairs: r.CandidatePairs,
		Proposed: r.Proposed, Unmatched: r.Unmatched, Expired: r.Expired}
	if err := json.Unmarshal([]byte(r.UnmatchedReasons), &p.UnmatchedReasons); err != nil {
		return domain.MatchPass{}, fmt.Errorf("store: pass %d has unreadable reasons: %w", r.ID, err)
	}
	return p, nil
}

// CreatePass records a pass and sets its ID.
func (s *Store) CreatePass(ctx context.Context, p *domain.MatchPass) error {
	row, err := passToRow(*p)
	if err != nil {
		return err
	}
	row.ID = 0
	if err := s.conn(ctx).Create(&row).Error; err != nil {
		return fmt.Errorf("store: unable to record a pass: %w", translate(err))
	}
	p.ID = row.ID
	return nil
}

// FinishPass writes a pass's final figures.
func (s *Store) FinishPass(ctx context.Context, p domain.MatchPass) error {
	row, err := passToRow(p)
	if err != nil {
		return err
	}
	if err := s.conn(ctx).Save(&row).Error; err != nil {
		return fmt.Errorf("store: unable to record pass %d: %w", p.ID, translate(err))
	}
	return nil
}

// LatestPass reads the latest pass; domain.ErrNotFound before the first.
func (s *Store) LatestPass(ctx context.Context) (domain.MatchPass, error) {
	passes, err := s.RecentPasses(ctx, 1)
	if err != nil {
		return domain.MatchPass{}, err
	}
	if len(passes) == 0 {
		return domain.MatchPass{}, fmt.Errorf("store: no pass yet: %w", domain.ErrNotFound)
	}
	return passes[0], nil
}

// RecentPasses reads the latest n passes, newest first.
func (s *Store) RecentPasses(ctx context.Context, n int) ([]domain.MatchPass, error) {
	var rows []passRow
	if err := s.conn(ctx).Order("id DESC").Limit(n).Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("store: unable to read the passes: %w", translate(err))
	}
	out := make([]domain.MatchPass, len(rows))
	for i, r := range rows {
		p, err := r.domain()
		if err != nil {
			return nil, err
		}
		out[i] = p
	}
	return out, nil
}

// PrunePasses deletes passes that started before the time given, and says how many; the
// matches they proposed keep everything but the link to them.
func (s *Store) PrunePasses(ctx context.Context, before time.Time) (int64, error) {
	res := s.conn(ctx).Where("started_at < ?", before.UTC()).Delete(&passRow{})
	if res.Error != nil {
		return 0, fmt.Errorf("store: unable to prune passes: %w", translate(res.Error))
	}
	return res.RowsAffected, nil
}

func listFilters(db *gorm.DB, q domain.MatchListQuery) *gorm.DB {
	if q.CategoryID != 0 {
		db = db.Where("r.category_id = ?", q.CategoryID)
	}
	if q.AreaID != 0 {
		db = db.Where("r.area_id = ?", q.AreaID)
	}
	return db
}

type unmatchedListingRow struct {
	Request       requestRow `gorm:"embedded"`
	RequesterName string
	CategoryName  string
	AreaName      string
	Code          string
	Reason        string
	Since         time.Time
}

// unmatchedNow selects the unmatched rows of requests still open and without a live match.
func (s *Store) unmatchedNow(ctx context.Context) *gorm.DB {
	return s.conn(ctx).Table("unmatched_requests u").
		Joins("JOIN requests r ON r.id = u.request_id").
		Where("r.status = ?", string(domain.RequestOpen)).
		Where("NOT EXISTS (SELECT 1 FROM matches x WHERE x.request_id = r.id AND x.status IN ?)", liveStatuses)
}

var liveStatuses = []string{string(domain.MatchProposed), string(domain.MatchApproved), string(domain.MatchAccepted)}

// ListUnmatched lists open requests the matcher left unmatched, soonest first.
func (s *Store) ListUnmatched(ctx context.Context, q domain.MatchListQuery) ([]domain.UnmatchedListing, error) {
	db := s.unmatchedNow(ctx).
		Select("r.*, rm.name AS requester_name, c.name AS category_name, a.name AS area_name, u.code, u.reason, u.updated_at AS since").
		Joins("JOIN members rm ON rm.id = r.member_id").
		Joins("JOIN categories c ON c.id = r.category_id").
		Joins("JOIN areas a ON a.id = r.area_id")
	db = listFilters(db, q)
	if q.Code != "" {
		db = db.Where("u.code = ?", q.Code)
	}
	if q.After != nil {
		db = db.Where("(r.start_at > ? OR (r.start_at = ? AND r.id > ?))", q.After.At.UTC(), q.After.At.UTC(), q.After.ID)
	}
	var rows []unmatchedListingRow
	if err := db.Order("r.start_at, r.id").Limit(q.Limit).Scan(&rows).Error; err != nil {
		return nil, fmt.Errorf("store: unable to list unmatched requests: %w", translate(err))
	}
	out := make([]domain.UnmatchedListing, len(rows))
	for i, r := range rows {
		out[i] = domain.UnmatchedListing{Request: r.Request.domain(), RequesterName: r.RequesterName, CategoryName: r.CategoryName,
			AreaName: r.AreaName, Code: r.Code, Reason: r.Reason, Since: r.Since.UTC()}
	}
	return out, nil
}

// CountUnmatched counts unmatched open requests by reason code.
func (s *Store) CountUnmatched(ctx context.Context, categoryID, areaID int64) (map[string]int, error) {
	db := listFilters(s.unmatchedNow(ctx), domain.MatchListQuery{CategoryID: categoryID, AreaID: areaID}).
		Select("u.code AS code, COUNT(*) AS n").Group("u.code")
	var rows []struct {
		Code string
		N    int
	}
	if err := db.Scan(&rows).Error; err != nil {
		return nil, fmt.Errorf("store: unable to count unmatched requests: %w", translate(err))
	}
	out := map[string]int{}
	for _, r := range rows {
		out[r.Code] = r.N
	}
	return out, nil
}

type noticeRow struct {
	ID        int64 `gorm:"primaryKey"`
	Audience  string
	Kind      string
	Message   string
	Link      string
	CreatedAt time.Time `gorm:"autoCreateTime:false"`
}

func (noticeRow) TableName() string { return "notices" }

const coordinatorsAudience = "coordinators"

// AddNotice records a notice for coordinators and sets its ID.
func (s *Store) AddNotice(ctx context.Context, n *domain.Notice) error {
	row := noticeRow{Audience: coordinatorsAudience, Kind: n.Kind, Message: n.Message, Link: n.Link, CreatedAt: n.CreatedAt.UTC()}
	if err := s.conn(ctx).Create(&row).Error; err != nil {
		return fmt.Errorf("store: unable to add a notice: %w", translate(err))
	}
	n.ID = row.ID
	return nil
}

// Notices reads the latest notices for coordinators, newest first.
func (s *Store) Notices(ctx context.Context, limit int) ([]domain.Notice, error) {
	var rows []noticeRow
	err := s.conn(ctx).Where("audience = ?", coordinatorsAudience).Order("created_at DESC, id DESC").Limit(limit).Find(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("store: unable to read notices: %w", translate(err))
	}
	out := make([]domain.Notice, len(rows))
	for i, r := range rows {
		out[i] = domain.Notice{ID: r.ID, Kind: r.Kind, Message: r.Message, Link: r.Link, CreatedAt: r.CreatedAt.UTC()}
	}
	return out, nil
}

// PruneNotices deletes notices made before the time given, and says how many.
func (s *Store) PruneNotices(ctx context.Context, before time.Time) (int64, error) {
	res := s.conn(ctx).Where("created_at < ?", before.UTC()).Delete(&noticeRow{})
	if res.Error != nil {
		return 0, fmt.Errorf("store: unable to prune notices: %w", translate(res.Error))
	}
	return res.RowsAffected, nil
}
