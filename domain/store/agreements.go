package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/coop-exchange/coop/domain"
)

// The match life cycle after the matcher: approvals, answers, completions, feedback,
// contributions and members' notifications.

var _ domain.AgreementStore = (*Store)(nil)
var _ domain.ContributionStore = (*Store)(nil)
var _ domain.NotificationStore = (*Store)(nil)

// matchColumns are the matches table's columns, read with the prefix m_ beside a request.
var matchColumns = []string{"id", "request_id", "offer_id", "helper_id", "source", "status", "score", "reasons", "pass_id",
	"helper_answered_at", "requester_answered_at", "end_reason", "created_at", "updated_at", "approved_by", "approved_at",
	"answer_by", "accepted_at", "ended_by", "ended_at", "done_at", "minutes_claimed", "minutes_confirmed", "confirmed_at",
	"confirmed_by", "reminded_at", "done_asked_at", "overdue_at"}

var matchListingSelect = func() string {
	cols := make([]string, len(matchColumns))
	for i, c := range matchColumns {
		cols[i] = "x." + c + " AS m_" + c
	}
	return "r.*, " + strings.Join(cols, ", ") +
		", rm.name AS requester_name, hm.name AS helper_name, c.name AS category_name, a.name AS area_name"
}()

type matchListingRow struct {
	Request       requestRow `gorm:"embedded"`
	Match         matchRow   `gorm:"embedded;embeddedPrefix:m_"`
	RequesterName string
	HelperName    string
	CategoryName  string
	AreaName      string
}

func (s *Store) matchListings(ctx context.Context) *gorm.DB {
	return s.conn(ctx).Table("matches x").Select(matchListingSelect).
		Joins("JOIN requests r ON r.id = x.request_id").
		Joins("JOIN members rm ON rm.id = r.member_id").
		Joins("JOIN members hm ON hm.id = x.helper_id").
		Joins("JOIN categories c ON c.id = r.category_id").
		Joins("JOIN areas a ON a.id = r.area_id")
}

func scanListings(db *gorm.DB) ([]domain.ProposalListing, error) {
	var rows []matchListingRow
	if err := db.Scan(&rows).Error; err != nil {
		return nil, translate(err)
	}
	out := make([]domain.ProposalListing, len(rows))
	for i, r := range rows {
		m, err := r.Match.domain()
		if err != nil {
			return nil, err
		}
		out[i] = domain.ProposalListing{Match: m, Request: r.Request.domain(), RequesterName: r.RequesterName, HelperName: r.HelperName,
			CategoryName: r.CategoryName, AreaName: r.AreaName}
	}
	return out, nil
}

// urgencyRankSQL orders requests most urgent first.
const urgencyRankSQL = "(CASE r.urgency WHEN 'urgent' THEN 0 WHEN 'soon' THEN 1 ELSE 2 END)"

// ListProposals lists proposed matches, by their request's start and then id, or with
// UrgentFirst by urgency first (the moderation queue).
func (s *Store) ListProposals(ctx context.Context, q domain.MatchListQuery) ([]domain.ProposalListing, error) {
	db := listFilters(s.matchListings(ctx).Where("x.status = ?", string(domain.MatchProposed)), q)
	switch {
	case q.UrgentFirst:
		if q.After != nil {
			rank, at := domain.UrgencyRank(q.After.Sort), q.After.At.UTC()
			db = db.Where(urgencyRankSQL+" > ? OR ("+urgencyRankSQL+" = ? AND (r.start_at > ? OR (r.start_at = ? AND x.id > ?)))",
				rank, rank, at, at, q.After.ID)
		}
		db = db.Order(urgencyRankSQL + ", r.start_at, x.id")
	default:
		if q.After != nil {
			db = db.Where("(r.start_at > ? OR (r.start_at = ? AND x.id > ?))", q.After.At.UTC(), q.After.At.UTC(), q.After.ID)
		}
		db = db.Order("r.start_at, x.id")
	}
	out, err := scanListings(db.Limit(q.Limit))
	if err != nil {
		return nil, fmt.Errorf("store: unable to list proposals: %w", err)
	}
	return out, nil
}

// MatchListing reads one match with its request and the names around it.
func (s *Store) MatchListing(ctx context.Context, id int64) (domain.ProposalListing, error) {
	out, err := scanListings(s.matchListings(ctx).Where("x.id = ?", id).Limit(1))
	if err != nil {
		return domain.ProposalListing{}, fmt.Errorf("store: unable to read match %d: %w", id, err)
	}
	if len(out) == 0 {
		return domain.ProposalListing{}, fmt.Errorf("store: match %d: %w", id, domain.ErrNotFound)
	}
	return out[0], nil
}

// ListMatches lists matches, newest first; see domain.MatchesQuery.
func (s *Store) ListMatches(ctx context.Context, q domain.MatchesQuery) ([]domain.ProposalListing, error) {
	db := s.matchListings(ctx)
	if q.MemberID != 0 {
		db = db.Where("(x.helper_id = ? OR r.member_id = ?)", q.MemberID, q.MemberID)
	}
	if q.RequestID != 0 {
		db = db.Where("x.request_id = ?", q.RequestID)
	}
	if len(q.Statuses) > 0 {
		st := make([]string, len(q.Statuses))
		for i, v := range q.Statuses {
			st[i] = string(v)
		}
		db = db.Where("x.status IN ?", st)
	}
	if q.BeforeID > 0 {
		db = db.Where("x.id < ?", q.BeforeID)
	}
	if q.Limit <= 0 {
		q.Limit = domain.DefaultPageSize
	}
	out, err := scanListings(db.Order("x.id DESC").Limit(q.Limit))
	if err != nil {
		return nil, fmt.Errorf("store: unable to list matches: %w", err)
	}
	return out, nil
}

// UpdateMatch writes a match's status and life-cycle fields while it is as it was read.
func (s *Store) UpdateMatch(ctx context.Context, m domain.Match, from domain.MatchStatus, readAt time.Time) error {
	res := s.conn(ctx).Model(&matchRow{}).Where("id = ? AND status = ? AND updated_at = ?", m.ID, string(from), readAt.UTC()).
		Updates(map[string]any{
			"status": string(m.Status), "end_reason": m.EndReason, "updated_at": m.UpdatedAt.UTC(),
			"approved_by": nullID(m.ApprovedBy), "approved_at": nullTime(m.ApprovedAt), "answer_by": nullTime(m.AnswerBy),
			"helper_answered_at": nullTime(m.HelperAnsweredAt), "requester_answered_at": nullTime(m.RequesterAnsweredAt),
			"accepted_at": nullTime(m.AcceptedAt), "ended_by": nullID(m.EndedBy), "ended_at": nullTime(m.EndedAt),
			"done_at": nullTime(m.DoneAt), "minutes_claimed": nullInt(m.MinutesClaimed), "minutes_confirmed": nullInt(m.MinutesConfirmed),
			"confirmed_at": nullTime(m.ConfirmedAt), "confirmed_by": nullID(m.ConfirmedBy), "reminded_at": nullTime(m.RemindedAt),
			"done_asked_at": nullTime(m.DoneAskedAt), "overdue_at": nullTime(m.OverdueAt),
		})
	if res.Error != nil {
		return fmt.Errorf("store: unable to update match %d: %w", m.ID, translate(res.Error))
	}
	if res.RowsAffected == 0 {
		return fmt.Errorf("store: match %d changed meanwhile: %w", m.ID, domain.ErrConflict)
	}
	return nil
}

func nullInt(n int) *int {
	if n == 0 {
		return nil
	}
	return &n
}

// CreateMatch adds a match made by hand.
func (s *Store) CreateMatch(ctx context.Context, m *domain.Match) error {
	reasons, err := json.Marshal(m.Reasons)
	if err != nil {
		return err
	}
	if m.Reasons == nil {
		reasons = []byte("[]")
	}
	row := matchRow{RequestID: m.RequestID, OfferID: m.OfferID, HelperID: m.HelperID, Source: string(m.Source), Status: string(m.Status),
		Score: m.Score, Reasons: string(reasons), PassID: nullID(m.PassID), EndReason: m.EndReason,
		CreatedAt: m.CreatedAt.UTC(), UpdatedAt: m.UpdatedAt.UTC(), ApprovedBy: nullID(m.ApprovedBy), ApprovedAt: nullTime(m.ApprovedAt),
		AnswerBy: nullTime(m.AnswerBy)}
	if err := s.conn(ctx).Create(&row).Error; err != nil {
		err = translate(err)
		if errors.Is(err, domain.ErrDuplicate) {
			return fmt.Errorf("store: request %d or its helper is taken: %w", m.RequestID, domain.ErrConflict)
		}
		return fmt.Errorf("store: unable to add a match to request %d: %w", m.RequestID, err)
	}
	m.ID = row.ID
	return nil
}

// MoveRequest moves a request to another status while it has status from.
func (s *Store) MoveRequest(ctx context.Context, id int64, to, from domain.RequestStatus, at time.Time) error {
	res := s.conn(ctx).Model(&requestRow{}).Where("id = ? AND status = ?", id, string(from)).
		Updates(map[string]any{"status": string(to), "updated_at": at.UTC()})
	return s.requestChanged(ctx, id, res)
}

// helperRecordSQL counts, per helper, how their matches ended.
const helperRecordSQL = `SELECT helper_id,
	SUM(CASE WHEN status = 'completed' THEN 1 ELSE 0 END),
	SUM(CASE WHEN status = 'declined' AND ended_by = helper_id THEN 1 ELSE 0 END),
	SUM(CASE WHEN status = 'cancelled' AND end_reason = ? AND helper_answered_at IS NULL THEN 1 ELSE 0 END),
	SUM(CASE WHEN status = 'cancelled' AND ended_by = helper_id AND accepted_at IS NOT NULL THEN 1 ELSE 0 END)
	FROM matches WHERE helper_id IN ? GROUP BY helper_id`

const feedbackAboutSQL = `SELECT about_id, COUNT(*), AVG(rating) FROM feedback WHERE about_id IN ? GROUP BY about_id`

// HelperRecords reads each helper's checks, how their matches went and their feedback.
func (s *Store) HelperRecords(ctx context.Context, helperIDs []int64) (map[int64]domain.HelperRecord, error) {
	out := map[int64]domain.HelperRecord{}
	if len(helperIDs) == 0 {
		return out, nil
	}
	db := s.conn(ctx)
	rows, err := db.Raw(helperRecordSQL, domain.EndedLapsed, helperIDs).Rows()
	if err != nil {
		return nil, fmt.Errorf("store: unable to read helpers' records: %w", translate(err))
	}
	for rows.Next() {
		var id int64
		var r domain.HelperRecord
		if err := rows.Scan(&id, &r.Completed, &r.Declined, &r.Lapsed, &r.Cancelled); err != nil {
			rows.Close()
			return nil, fmt.Errorf("store: unable to read helpers' records: %w", err)
		}
		out[id] = r
	}
	rows.Close()
	rows, err = db.Raw(feedbackAboutSQL, helperIDs).Rows()
	if err != nil {
		return nil, fmt.Errorf("store: unable to read helpers' feedback: %w", translate(err))
	}
	for rows.Next() {
		var id int64
		var n int
		var mean float64
		if err := rows.Scan(&id, &n, &mean); err != nil {
			rows.Close()
			return nil, fmt.Errorf("store: unable to read helpers' feedback: %w", err)
		}
		r := out[id]
		r.FeedbackCount, r.FeedbackMean = n, mean
		out[id] = r
	}
	rows.Close()
	var checks []checkRow
	if err := db.Where("member_id IN ?", helperIDs).Order("expires_on DESC").Find(&checks).Error; err != nil {
		return nil, fmt.Errorf("store: unable to read helpers' checks: %w", translate(err))
	}
	for _, c := range checks {
		r := out[c.MemberID]
		r.Checks = append(r.Checks, c.domain())
		out[c.MemberID] = r
	}
	return out, nil
}

func (s *Store) matchesWhere(ctx context.Context, query string, args ...any) ([]domain.Match, error) {
	var rows []matchRow
	if err := s.conn(ctx).Where(query, args...).Order("id").Limit(1000).Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("store: unable to read matches: %w", translate(err))
	}
	return matchesOf(rows)
}

// Lapsing lists approved matches whose answer time has come, a thousand at a time.
func (s *Store) Lapsing(ctx context.Context, now time.Time) ([]domain.Match, error) {
	return s.matchesWhere(ctx, "status = ? AND answer_by <= ?", string(domain.MatchApproved), now.UTC())
}

// Unconfirmed lists agreed matches marked done before `before` and not yet confirmed.
func (s *Store) Unconfirmed(ctx context.Context, before time.Time) ([]domain.Match, error) {
	return s.matchesWhere(ctx, "status = ? AND done_at IS NOT NULL AND done_at <= ?", string(domain.MatchAccepted), before.UTC())
}

// NotSaidDone lists agreed matches whose request ended by endedBy and that nobody has said
// happened; asked: whether the helper was already asked (then only those not yet flagged).
func (s *Store) NotSaidDone(ctx context.Context, endedBy time.Time, asked bool) ([]domain.ProposalListing, error) {
	db := s.matchListings(ctx).Where("x.status = ? AND x.done_at IS NULL AND r.end_at <= ?", string(domain.MatchAccepted), endedBy.UTC())
	if asked {
		db = db.Where("x.overdue_at IS NULL")
	} else {
		db = db.Where("x.done_asked_at IS NULL")
	}
	out, err := scanListings(db.Order("r.end_at, x.id").Limit(1000))
	if err != nil {
		return nil, fmt.Errorf("store: unable to list support nobody has said happened: %w", err)
	}
	return out, nil
}

// Upcoming lists agreed matches starting after from and by until, not yet reminded of.
func (s *Store) Upcoming(ctx context.Context, from, until time.Time) ([]domain.ProposalListing, error) {
	out, err := scanListings(s.matchListings(ctx).
		Where("x.status = ? AND x.reminded_at IS NULL AND r.start_at > ? AND r.start_at <= ?", string(domain.MatchAccepted), from.UTC(), until.UTC()).
		Order("r.start_at, x.id").Limit(1000))
	if err != nil {
		return nil, fmt.Errorf("store: unable to list upcoming matches: %w", err)
	}
	return out, nil
}

type feedbackRow struct {
	ID        int64 `gorm:"primaryKey"`
	MatchID   int64
	FromID    int64
	AboutID   int64
	Rating    int
	Comment   string
	CreatedAt time.Time `gorm:"autoCreateTime:false"`
}

func (feedbackRow) TableName() string { return "feedback" }

// AddFeedback records feedback; ErrDuplicate when that person already gave it on that match.
func (s *Store) AddFeedback(ctx context.Context, f *domain.Feedback) error {
	row := feedbackRow{MatchID: f.MatchID, FromID: f.FromID, AboutID: f.AboutID, Rating: f.Rating, Comment: f.Comment, CreatedAt: f.CreatedAt.UTC()}
	if err := s.conn(ctx).Create(&row).Error; err != nil {
		return fmt.Errorf("store: unable to add feedback on match %d: %w", f.MatchID, translate(err))
	}
	f.ID = row.ID
	return nil
}

// MatchFeedback lists the feedback on a match, with who gave it.
func (s *Store) MatchFeedback(ctx context.Context, matchID int64) ([]domain.Feedback, error) {
	var rows []struct {
		ID, MatchID, FromID, AboutID int64
		Rating                       int
		Comment, FromName            string
		CreatedAt                    time.Time
	}
	err := s.conn(ctx).Table("feedback f").Select("f.id, f.match_id, f.from_id, f.about_id, f.rating, f.comment, f.created_at, m.name AS from_name").Joins("JOIN members m ON m.id = f.from_id").
		Where("f.match_id = ?", matchID).Order("f.id").Scan(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("store: unable to read feedback on match %d: %w", matchID, translate(err))
	}
	out := make([]domain.Feedback, len(rows))
	for i, r := range rows {
		out[i] = domain.Feedback{ID: r.ID, MatchID: r.MatchID, FromID: r.FromID, FromName: r.FromName, AboutID: r.AboutID,
			Rating: r.Rating, Comment: r.Comment, CreatedAt: r.CreatedAt.UTC()}
	}
	return out, nil
}

type contributionRow struct {
	ID          int64 `gorm:"primaryKey"`
	MatchID     int64
	HelperID    int64
	RequesterID int64
	CategoryID  int64
	Minutes     int
	GivenOn     time.Time
	CreatedAt   time.Time `gorm:"autoCreateTime:false"`
}

func (contributionRow) TableName() string { return "contributions" }

// AddContribution records what a completed match gave; once per match.
func (s *Store) AddContribution(ctx context.Context, c *domain.Contribution) error {
	row := contributionRow{MatchID: c.MatchID, HelperID: c.HelperID, RequesterID: c.RequesterID, CategoryID: c.CategoryID,
		Minutes: c.Minutes, GivenOn: dateOnly(c.GivenOn), CreatedAt: c.CreatedAt.UTC()}
	if err := s.conn(ctx).Create(&row).Error; err != nil {
		return fmt.Errorf("store: unable to record the contribution of match %d: %w", c.MatchID, translate(err))
	}
	c.ID = row.ID
	return nil
}

// SumContributions adds up contributions by month and category.
func (s *Store) SumContributions(ctx context.Context, q domain.ContributionQuery) ([]domain.ContributionSum, error) {
	var rows []struct {
		GivenOn      time.Time
		CategoryID   int64
		CategoryName string
		Minutes      int
		HelperID     int64
	}
	db := s.conn(ctx).Table("contributions k").Select("k.given_on, k.category_id, c.name AS category_name, k.minutes, k.helper_id").
		Joins("JOIN categories c ON c.id = k.category_id").
		Where("k.given_on >= ? AND k.given_on < ?", dateOnly(q.From), dateOnly(q.To))
	if q.MemberID != 0 {
		db = db.Where("(k.helper_id = ? OR k.requester_id = ?)", q.MemberID, q.MemberID)
	}
	// Months are grouped here rather than in SQL, whose date functions differ between the dialects;
	// a member's statement or a year of a co-op is a few thousand rows at most.
	if err := db.Order("k.given_on, c.name").Scan(&rows).Error; err != nil {
		return nil, fmt.Errorf("store: unable to add up contributions: %w", translate(err))
	}
	type key struct {
		month time.Time
		cat   int64
	}
	index := map[key]int{}
	var out []domain.ContributionSum
	for _, r := range rows {
		g := r.GivenOn.UTC()
		k := key{time.Date(g.Year(), g.Month(), 1, 0, 0, 0, 0, time.UTC), r.CategoryID}
		i, ok := index[k]
		if !ok {
			i = len(out)
			index[k] = i
			out = append(out, domain.ContributionSum{Month: k.month, CategoryID: r.CategoryID, CategoryName: r.CategoryName})
		}
		out[i].Occasions++
		switch {
		case q.MemberID == 0:
			out[i].Given += r.Minutes
			out[i].Received += r.Minutes
		case r.HelperID == q.MemberID:
			out[i].Given += r.Minutes
		default:
			out[i].Received += r.Minutes
		}
	}
	return out, nil
}

const memberContributionsSQL = `SELECT m.id, m.name, COALESCE(g.minutes, 0), COALESCE(rc.minutes, 0)
	FROM members m
	LEFT JOIN (SELECT helper_id, SUM(minutes) AS minutes FROM contributions WHERE given_on >= ? AND given_on < ? GROUP BY helper_id) g ON g.helper_id = m.id
	LEFT JOIN (SELECT requester_id, SUM(minutes) AS minutes FROM contributions WHERE given_on >= ? AND given_on < ? GROUP BY requester_id) rc ON rc.requester_id = m.id
	WHERE g.minutes IS NOT NULL OR rc.minutes IS NOT NULL
	ORDER BY COALESCE(g.minutes, 0) DESC, COALESCE(rc.minutes, 0) DESC, m.id
	LIMIT ?`

// MemberContributions lists each member's totals over the dates, most given first.
func (s *Store) MemberContributions(ctx context.Context, q domain.ContributionQuery, limit int) ([]domain.MemberContribution, error) {
	from, to := dateOnly(q.From), dateOnly(q.To)
	rows, err := s.conn(ctx).Raw(memberContributionsSQL, from, to, from, to, limit).Rows()
	if err != nil {
		return nil, fmt.Errorf("store: unable to add up members' contributions: %w", translate(err))
	}
	defer rows.Close()
	var out []domain.MemberContribution
	for rows.Next() {
		var m domain.MemberContribution
		if err := rows.Scan(&m.MemberID, &m.Name, &m.Given, &m.Received); err != nil {
			return nil, fmt.Errorf("store: unable to add up members' contributions: %w", err)
		}
		out = append(out, m)
	}
	return out, rows.Err()
}

type notificationRow struct {
	ID        int64 `gorm:"primaryKey"`
	MemberID  int64
	Kind      string
	Message   string
	Link      string
	CreatedAt time.Time `gorm:"autoCreateTime:false"`
	ReadAt    *time.Time
}

func (notificationRow) TableName() string { return "notifications" }

// AddNotifications writes notifications, in the caller's transaction when there is one.
func (s *Store) AddNotifications(ctx context.Context, ns []domain.Notification) error {
	if len(ns) == 0 {
		return nil
	}
	rows := make([]notificationRow, len(ns))
	for i, n := range ns {
		rows[i] = notificationRow{MemberID: n.MemberID, Kind: n.Kind, Message: n.Message, Link: n.Link, CreatedAt: n.CreatedAt.UTC()}
	}
	db := s.conn(ctx)
	if err := db.Create(&rows).Error; err != nil {
		return fmt.Errorf("store: unable to add notifications: %w", translate(err))
	}
	var emails []domain.Email
	for i, n := range ns {
		ns[i].ID = rows[i].ID
		if domain.KnownEmailKind(n.Kind) {
			emails = append(emails, domain.Email{MemberID: n.MemberID, Kind: n.Kind, Data: n.Data, Link: n.Link})
		}
	}
	// The emails are written with the notifications, so that one is never sent for a change
	// that did not happen; members who do not want that kind get none.
	return enqueueEmails(db, ns[0].CreatedAt, emails)
}

// Notifications lists a member's latest notifications, newest first.
func (s *Store) Notifications(ctx context.Context, memberID int64, limit int) ([]domain.Notification, error) {
	var rows []notificationRow
	if err := s.conn(ctx).Where("member_id = ?", memberID).Order("created_at DESC, id DESC").Limit(limit).Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("store: unable to read notifications: %w", translate(err))
	}
	out := make([]domain.Notification, len(rows))
	for i, r := range rows {
		out[i] = domain.Notification{ID: r.ID, MemberID: r.MemberID, Kind: r.Kind, Message: r.Message, Link: r.Link,
			CreatedAt: r.CreatedAt.UTC(), ReadAt: derefTime(r.ReadAt)}
	}
	return out, nil
}

// UnreadCount counts a member's unread notifications.
func (s *Store) UnreadCount(ctx context.Context, memberID int64) (int, error) {
	var n int64
	if err := s.conn(ctx).Model(&notificationRow{}).Where("member_id = ? AND read_at IS NULL", memberID).Count(&n).Error; err != nil {
		return 0, fmt.Errorf("store: unable to count notifications: %w", translate(err))
	}
	return int(n), nil
}

// MarkRead marks one of a member's notifications read, or all when id is 0.
func (s *Store) MarkRead(ctx context.Context, memberID, id int64, at time.Time) error {
	db := s.conn(ctx).Model(&notificationRow{}).Where("member_id = ? AND read_at IS NULL", memberID)
	if id != 0 {
		db = db.Where("id = ?", id)
	}
	if err := db.Update("read_at", at.UTC()).Error; err != nil {
		return fmt.Errorf("store: unable to mark notifications read: %w", translate(err))
	}
	return nil
}

// PruneNotifications deletes read notifications older than before.
func (s *Store) PruneNotifications(ctx context.Context, before time.Time) (int64, error) {
	res := s.conn(ctx).Where("read_at IS NOT NULL AND created_at < ?", before.UTC()).Delete(&notificationRow{})
	if res.Error != nil {
		return 0, fmt.Errorf("store: unable to prune notifications: %w", translate(res.Error))
	}
	return res.RowsAffected, nil
}

// DirectProposals lists a pass's proposals whose category lets them straight through.
func (s *Store) DirectProposals(ctx context.Context, passID int64) ([]int64, error) {
	var ids []int64
	err := s.conn(ctx).Table("matches x").Joins("JOIN requests r ON r.id = x.request_id").Joins("JOIN categories c ON c.id = r.category_id").
		Where("x.pass_id = ? AND x.status = ? AND c.moderation = ?", passID, string(domain.MatchProposed), string(domain.ModerateDirect)).
		Order("x.id").Pluck("x.id", &ids).Error
	if err != nil {
		return nil, fmt.Errorf("store: unable to list proposals to let through: %w", translate(err))
	}
	return ids, nil
}
