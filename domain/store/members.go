package store

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/coop-exchange/coop/domain"
)

type memberRow struct {
	ID             int64 `gorm:"primaryKey"`
	Name           string
	Email          *string
	Phone          string
	Role           string
	Status         string
	AreaID         *int64
	PasswordHash   string
	JoinReason     string
	DecisionReason string
	DecidedBy      *int64
	DecidedAt      *time.Time
	AddedBy        *int64
	SearchKey      string
	Synthetic      bool
	CreatedAt      time.Time `gorm:"autoCreateTime:false"`
	UpdatedAt      time.Time `gorm:"autoUpdateTime:false"`
}

func (memberRow) TableName() string { return "members" }

func memberToRow(m domain.Member) memberRow {
	return memberRow{
		ID: m.ID, Name: m.Name, Email: nullString(m.Email), Phone: m.Phone, Role: string(m.Role),
		Status: string(m.Status), AreaID: nullID(m.AreaID), PasswordHash: m.PasswordHash,
		JoinReason: m.JoinReason, DecisionReason: m.DecisionReason, DecidedBy: nullID(m.DecidedBy),
		DecidedAt: nullTime(m.DecidedAt), AddedBy: nullID(m.AddedBy), SearchKey: m.SearchKey(), Synthetic: m.Synthetic,
		CreatedAt: m.CreatedAt.UTC(), UpdatedAt: m.UpdatedAt.UTC(),
	}
}

func (r memberRow) domain() domain.Member {
	return domain.Member{
		ID: r.ID, Name: r.Name, Email: deref(r.Email), Phone: r.Phone, Role: domain.Role(r.Role),
		Status: domain.MemberStatus(r.Status), AreaID: deref(r.AreaID), PasswordHash: r.PasswordHash,
		JoinReason: r.JoinReason, DecisionReason: r.DecisionReason, DecidedBy: deref(r.DecidedBy),
		DecidedAt: derefTime(r.DecidedAt), AddedBy: deref(r.AddedBy), Synthetic: r.Synthetic,
		CreatedAt: r.CreatedAt.UTC(), UpdatedAt: r.UpdatedAt.UTC(),
	}
}

type consentRow struct {
	ID          int64 `gorm:"primaryKey"`
	MemberID    int64
	Kind        string
	Wording     string
	GivenAt     time.Time
	RecordedBy  *int64
	WithdrawnAt *time.Time
}

func (consentRow) TableName() string { return "consents" }

// CreateMember inserts m and sets its ID.
func (s *Store) CreateMember(ctx context.Context, m *domain.Member) error {
	row := memberToRow(*m)
	row.ID = 0
	if err := s.conn(ctx).Create(&row).Error; err != nil {
		return fmt.Errorf("store: unable to create member: %w", translate(err))
	}
	m.ID = row.ID
	return nil
}

// Member returns the member with this id.
func (s *Store) Member(ctx context.Context, id int64) (domain.Member, error) {
	var row memberRow
	if err := s.conn(ctx).Take(&row, id).Error; err != nil {
		return domain.Member{}, fmt.Errorf("store: unable to read member %d: %w", id, translate(err))
	}
	return row.domain(), nil
}

// MemberByEmail returns the member with this email, whatever its case.
func (s *Store) MemberByEmail(ctx context.Context, email string) (domain.Member, error) {
	var row memberRow
	err := s.conn(ctx).Where("lower(email) = ?", strings.ToLower(email)).Take(&row).Error
	if err != nil {
		return domain.Member{}, fmt.Errorf("store: unable to find member by email: %w", translate(err))
	}
	return row.domain(), nil
}

// ListMembers returns members matching q in id order.
func (s *Store) ListMembers(ctx context.Context, q domain.MemberQuery) ([]domain.Member, error) {
	db := s.conn(ctx).Model(&memberRow{}).Where("id > ?", q.Page.After).Order("id").Limit(q.Page.Limit)
	if q.Status != "" {
		db = db.Where("status = ?", string(q.Status))
	}
	if q.Role != "" {
		db = db.Where("role = ?", string(q.Role))
	}
	if q.Search != "" {
		// q.Search is folded as the key was (domain.NormaliseSearch), so a plain LIKE will do.
		db = db.Where(`search_key LIKE ? ESCAPE '\'`, "%"+escapeLike(q.Search)+"%")
	}
	var rows []memberRow
	if err := db.Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("store: unable to list members: %w", translate(err))
	}
	out := make([]domain.Member, len(rows))
	for i, r := range rows {
		out[i] = r.domain()
	}
	return out, nil
}

// CountMembers counts members with a status.
func (s *Store) CountMembers(ctx context.Context, status domain.MemberStatus) (int64, error) {
	var n int64
	if err := s.conn(ctx).Model(&memberRow{}).Where("status = ?", string(status)).Count(&n).Error; err != nil {
		return 0, fmt.Errorf("store: unable to count members: %w", translate(err))
	}
	return n, nil
}

// DecideApplication records a decision while the member is still an applicant.
func (s *Store) DecideApplication(ctx context.Context, id int64, d domain.Decision) error {
	return s.updateMemberIf(ctx, id, domain.StatusApplicant, map[string]any{
		"status": string(d.Status), "decision_reason": d.Reason, "decided_by": nullID(d.By),
		"decided_at": d.At.UTC(), "updated_at": d.At.UTC()})
}

// ReopenApplication turns a declined applicant's record into the new application m.
func (s *Store) ReopenApplication(ctx context.Context, m domain.Member) error {
	r := memberToRow(m)
	return s.updateMemberIf(ctx, m.ID, domain.StatusDeclined, map[string]any{
		"name": r.Name, "phone": r.Phone, "area_id": r.AreaID, "password_hash": r.PasswordHash,
		"join_reason": r.JoinReason, "status": string(domain.StatusApplicant), "decision_reason": "",
		"decided_by": nil, "decided_at": nil, "search_key": r.SearchKey, "updated_at": r.UpdatedAt})
}

// SetMemberRole changes only a member's role.
func (s *Store) SetMemberRole(ctx context.Context, id int64, role domain.Role, at time.Time) error {
	return s.updateMemberIf(ctx, id, "", map[string]any{"role": string(role), "updated_at": at.UTC()})
}

// SetMemberStatus moves a member from one status to another.
func (s *Store) SetMemberStatus(ctx context.Context, id int64, from, to domain.MemberStatus, at time.Time) error {
	return s.updateMemberIf(ctx, id, from, map[string]any{"status": string(to), "updated_at": at.UTC()})
}

// SetMemberPassword changes only a member's password hash.
func (s *Store) SetMemberPassword(ctx context.Context, id int64, hash string, at time.Time) error {
	return s.updateMemberIf(ctx, id, "", map[string]any{"password_hash": hash, "updated_at": at.UTC()})
}

// ReplaceMemberPassword changes a member's password hash only while it is still current.
func (s *Store) ReplaceMemberPassword(ctx context.Context, id int64, current, hash string, at time.Time) error {
	res := s.conn(ctx).Model(&memberRow{}).Where("id = ? AND password_hash = ?", id, current).
		Updates(map[string]any{"password_hash": hash, "updated_at": at.UTC()})
	if res.Error != nil {
		return fmt.Errorf("store: unable to update member %d: %w", id, translate(res.Error))
	}
	if res.RowsAffected == 0 {
		if _, err := s.Member(ctx, id); err != nil {
			return err
		}
		return fmt.Errorf("store: the password of member %d has changed: %w", id, domain.ErrConflict)
	}
	return nil
}

// updateMemberIf writes the given columns of a member; with expect set, only while the stored
// status is expect (ErrConflict otherwise).
func (s *Store) updateMemberIf(ctx context.Context, id int64, expect domain.MemberStatus, cols map[string]any) error {
	db := s.conn(ctx).Model(&memberRow{}).Where("id = ?", id)
	if expect != "" {
		db = db.Where("status = ?", string(expect))
	}
	res := db.Updates(cols)
	if res.Error != nil {
		return fmt.Errorf("store: unable to update member %d: %w", id, translate(res.Error))
	}
	if res.RowsAffected == 0 {
		if _, err := s.Member(ctx, id); err != nil {
			return err
		}
		return fmt.Errorf("store: member %d is no longer %s: %w", id, expect, domain.ErrConflict)
	}
	return nil
}

// AddConsent records a consent and sets its ID.
func (s *Store) AddConsent(ctx context.Context, c *domain.Consent) error {
	row := consentRow{MemberID: c.MemberID, Kind: string(c.Kind), Wording: c.Wording, GivenAt: c.GivenAt.UTC(),
		RecordedBy: nullID(c.RecordedBy), WithdrawnAt: nullTime(c.WithdrawnAt)}
	if err := s.conn(ctx).Create(&row).Error; err != nil {
		return fmt.Errorf("store: unable to record consent: %w", translate(err))
	}
	c.ID = row.ID
	return nil
}

// Consents lists a member's consents, oldest first.
func (s *Store) Consents(ctx context.Context, memberID int64) ([]domain.Consent, error) {
	var rows []consentRow
	if err := s.conn(ctx).Where("member_id = ?", memberID).Order("id").Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("store: unable to list consents: %w", translate(err))
	}
	out := make([]domain.Consent, len(rows))
	for i, r := range rows {
		out[i] = domain.Consent{ID: r.ID, MemberID: r.MemberID, Kind: domain.ConsentKind(r.Kind), Wording: r.Wording,
			GivenAt: r.GivenAt.UTC(), RecordedBy: deref(r.RecordedBy), WithdrawnAt: derefTime(r.WithdrawnAt)}
	}
	return out, nil
}

// escapeLike escapes LIKE's wildcards so that a search for "50%" finds "50%".
func escapeLike(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}

func nullString(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func nullID(id int64) *int64 {
	if id == 0 {
		return nil
	}
	return &id
}

func nullTime(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	u := t.UTC()
	return &u
}

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}

func derefTime(t *time.Time) time.Time {
	if t == nil {
		return time.Time{}
	}
	return t.UTC()
}
