package store

import (
	"context"
	"fmt"
	"time"

	"gorm.io/gorm"

	"github.com/coop-exchange/coop/domain"
)

// Safeguarding: the checks due for renewal, and concerns.

var _ domain.SafeguardingStore = (*Store)(nil)

type checkDueRow struct {
	Check      checkRow `gorm:"embedded"`
	MemberName string
}

// checksDueSQL picks each active member's latest check (by re-check date, then id) whose re-check
// date is before the second parameter, and which is still current (on or after the first) or
// belongs to a helper with an active offer in a category that needs a check.
const checksDueSQL = `
SELECT c.*, m.name AS member_name
FROM checks c
JOIN members m ON m.id = c.member_id
WHERE m.status = 'active'
  AND c.expires_on < ?
  AND NOT EXISTS (SELECT 1 FROM checks d WHERE d.member_id = c.member_id
                  AND (d.expires_on > c.expires_on OR (d.expires_on = c.expires_on AND d.id > c.id)))
  AND (c.expires_on >= ? OR EXISTS (SELECT 1 FROM offers o JOIN categories k ON k.id = o.category_id
                                    WHERE o.member_id = c.member_id AND o.status = 'active' AND k.requires_check))
ORDER BY c.expires_on, c.id
LIMIT ?`

// ChecksDue lists the latest checks due for renewal; see domain.SafeguardingStore.
func (s *Store) ChecksDue(ctx context.Context, today, before time.Time, limit int) ([]domain.CheckDue, error) {
	var rows []checkDueRow
	if err := s.conn(ctx).Raw(checksDueSQL, dateOnly(before), dateOnly(today), limit).Scan(&rows).Error; err != nil {
		return nil, fmt.Errorf("store: unable to list the checks due: %w", translate(err))
	}
	out := make([]domain.CheckDue, len(rows))
	for i, r := range rows {
		out[i] = domain.CheckDue{Check: r.Check.domain(), MemberName: r.MemberName}
	}
	return out, nil
}

// MatchParties says who asked for the support in a match, and who helps.
func (s *Store) MatchParties(ctx context.Context, matchID int64) (int64, int64, error) {
	var row struct {
		RequesterID int64
		HelperID    int64
	}
	res := s.conn(ctx).Table("matches x").Select("r.member_id AS requester_id, x.helper_id AS helper_id").
		Joins("JOIN requests r ON r.id = x.request_id").Where("x.id = ?", matchID).Limit(1).Scan(&row)
	if res.Error != nil {
		return 0, 0, fmt.Errorf("store: unable to read the parties of match %d: %w", matchID, translate(res.Error))
	}
	if res.RowsAffected == 0 {
		return 0, 0, fmt.Errorf("store: no match %d: %w", matchID, domain.ErrNotFound)
	}
	return row.RequesterID, row.HelperID, nil
}

type concernRow struct {
	ID              int64 `gorm:"primaryKey"`
	RaisedBy        *int64
	SubjectType     string
	SubjectID       *int64
	SubjectMemberID *int64
	Text            string
	Urgent          bool
	CreatedAt       time.Time `gorm:"autoCreateTime:false"`
	HandledAt       *time.Time
	HandledBy       *int64
	HandledNote     string
}

func (concernRow) TableName() string { return "concerns" }

func (r concernRow) domain() domain.Concern {
	return domain.Concern{ID: r.ID, RaisedBy: deref(r.RaisedBy), SubjectType: domain.ConcernSubject(r.SubjectType),
		SubjectID: deref(r.SubjectID), SubjectMemberID: deref(r.SubjectMemberID), Text: r.Text, Urgent: r.Urgent,
		CreatedAt: r.CreatedAt.UTC(), HandledAt: derefTime(r.HandledAt), HandledBy: deref(r.HandledBy), HandledNote: r.HandledNote}
}

type concernListingRow struct {
	Concern       concernRow `gorm:"embedded"`
	RaisedByName  *string
	SubjectName   *string
	HandledByName *string
}

func (r concernListingRow) domain() domain.ConcernListing {
	return domain.ConcernListing{Concern: r.Concern.domain(), RaisedByName: deref(r.RaisedByName),
		SubjectName: deref(r.SubjectName), HandledByName: deref(r.HandledByName), RaisedByRemoved: r.Concern.RaisedBy == nil}
}

// CreateConcern records a concern and sets its ID.
func (s *Store) CreateConcern(ctx context.Context, c *domain.Concern) error {
	row := concernRow{RaisedBy: nullID(c.RaisedBy), SubjectType: string(c.SubjectType), SubjectID: nullID(c.SubjectID),
		SubjectMemberID: nullID(c.SubjectMemberID), Text: c.Text, Urgent: c.Urgent, CreatedAt: c.CreatedAt.UTC()}
	if err := s.conn(ctx).Create(&row).Error; err != nil {
		return fmt.Errorf("store: unable to record a concern: %w", translate(err))
	}
	c.ID = row.ID
	return nil
}

// concernListings selects concerns with the names of who raised them, whom they are about, and
// who handled them.
func (s *Store) concernListings(ctx context.Context) *gorm.DB {
	return s.conn(ctx).Table("concerns c").
		Select("c.*, rb.name AS raised_by_name, sm.name AS subject_name, hb.name AS handled_by_name").
		Joins("LEFT JOIN members rb ON rb.id = c.raised_by").
		Joins("LEFT JOIN members sm ON sm.id = c.subject_member_id").
		Joins("LEFT JOIN members hb ON hb.id = c.handled_by")
}

// Concern reads one concern with its names.
func (s *Store) Concern(ctx context.Context, id int64) (domain.ConcernListing, error) {
	var rows []concernListingRow
	if err := s.concernListings(ctx).Where("c.id = ?", id).Limit(1).Scan(&rows).Error; err != nil {
		return domain.ConcernListing{}, fmt.Errorf("store: unable to read concern %d: %w", id, translate(err))
	}
	if len(rows) == 0 {
		return domain.ConcernListing{}, fmt.Errorf("store: no concern %d: %w", id, domain.ErrNotFound)
	}
	return rows[0].domain(), nil
}

// ListConcerns lists concerns, open ones first and then newest first; see domain.SafeguardingStore.
func (s *Store) ListConcerns(ctx context.Context, q domain.ConcernQuery) ([]domain.ConcernListing, error) {
	db := s.concernListings(ctx)
	if q.RaisedBy != 0 {
		db = db.Where("c.raised_by = ?", q.RaisedBy)
	}
	if q.NotAbout != 0 {
		db = db.Where("(c.subject_member_id IS NULL OR c.subject_member_id <> ?)", q.NotAbout)
	}
	switch q.Status {
	case domain.ConcernOpen:
		db = db.Where("c.handled_at IS NULL")
	case domain.ConcernHandled:
		db = db.Where("c.handled_at IS NOT NULL")
	}
	if a := q.After; a != nil {
		if a.Handled {
			db = db.Where("c.handled_at IS NOT NULL AND c.id < ?", a.ID)
		} else {
			db = db.Where("((c.handled_at IS NULL AND c.id < ?) OR c.handled_at IS NOT NULL)", a.ID)
		}
	}
	var rows []concernListingRow
	err := db.Order("CASE WHEN c.handled_at IS NULL THEN 0 ELSE 1 END, c.id DESC").Limit(q.Limit).Scan(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("store: unable to list concerns: %w", translate(err))
	}
	out := make([]domain.ConcernListing, len(rows))
	for i, r := range rows {
		out[i] = r.domain()
	}
	return out, nil
}

// CountOpenConcerns counts concerns not yet handled, leaving out those about notAbout.
func (s *Store) CountOpenConcerns(ctx context.Context, notAbout int64) (int, error) {
	var n int64
	err := s.conn(ctx).Model(&concernRow{}).Where("handled_at IS NULL").
		Where("(subject_member_id IS NULL OR subject_member_id <> ?)", notAbout).Count(&n).Error
	if err != nil {
		return 0, fmt.Errorf("store: unable to count open concerns: %w", translate(err))
	}
	return int(n), nil
}

// HandleConcern marks an open concern handled; domain.ErrConflict when it already is.
func (s *Store) HandleConcern(ctx context.Context, id, by int64, note string, at time.Time) error {
	res := s.conn(ctx).Model(&concernRow{}).Where("id = ? AND handled_at IS NULL", id).
		Updates(map[string]any{"handled_at": at.UTC(), "handled_by": nullID(by), "handled_note": note})
	if res.Error != nil {
		return fmt.Errorf("store: unable to mark concern %d handled: %w", id, translate(res.Error))
	}
	if res.RowsAffected == 0 {
		if _, err := s.Concern(ctx, id); err != nil {
			return err
		}
		return fmt.Errorf("store: concern %d was already handled: %w", id, domain.ErrConflict)
	}
	return nil
}
