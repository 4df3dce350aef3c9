package store

import (
	"context"
	"fmt"
	"time"

	"github.com/coop-exchange/coop/domain"
)

type sessionRow struct {
	ID         int64 `gorm:"primaryKey"`
	TokenHash  string
	MemberID   int64
	CreatedAt  time.Time `gorm:"autoCreateTime:false"`
	LastSeenAt time.Time
	ExpiresAt  time.Time
	IP         string `gorm:"column:ip"`
	UserAgent  string
}

func (sessionRow) TableName() string { return "sessions" }

type apiTokenRow struct {
	ID         int64 `gorm:"primaryKey"`
	MemberID   int64
	Name       string
	TokenHash  string
	CreatedBy  *int64
	CreatedAt  time.Time `gorm:"autoCreateTime:false"`
	LastUsedAt *time.Time
	RevokedAt  *time.Time
}

func (apiTokenRow) TableName() string { return "api_tokens" }

// CreateSession inserts a session and sets its ID.
func (s *Store) CreateSession(ctx context.Context, sess *domain.Session) error {
	row := sessionRow{TokenHash: sess.TokenHash, MemberID: sess.MemberID, CreatedAt: sess.CreatedAt.UTC(),
		LastSeenAt: sess.LastSeenAt.UTC(), ExpiresAt: sess.ExpiresAt.UTC(), IP: sess.IP, UserAgent: sess.UserAgent}
	if err := s.conn(ctx).Create(&row).Error; err != nil {
		return fmt.Errorf("store: unable to create session: %w", translate(err))
	}
	sess.ID = row.ID
	return nil
}

// SessionByTokenHash returns the session whose token hashes to hash.
func (s *Store) SessionByTokenHash(ctx context.Context, hash string) (domain.Session, error) {
	var r sessionRow
	if err := s.conn(ctx).Where("token_hash = ?", hash).Take(&r).Error; err != nil {
		return domain.Session{}, fmt.Errorf("store: unable to read session: %w", translate(err))
	}
	return domain.Session{ID: r.ID, TokenHash: r.TokenHash, MemberID: r.MemberID, CreatedAt: r.CreatedAt.UTC(),
		LastSeenAt: r.LastSeenAt.UTC(), ExpiresAt: r.ExpiresAt.UTC(), IP: r.IP, UserAgent: r.UserAgent}, nil
}

// TouchSession records a session's last use and its new expiry.
func (s *Store) TouchSession(ctx context.Context, id int64, seen, expires time.Time) error {
	err := s.conn(ctx).Model(&sessionRow{}).Where("id = ?", id).
		Updates(map[string]any{"last_seen_at": seen.UTC(), "expires_at": expires.UTC()}).Error
	if err != nil {
		return fmt.Errorf("store: unable to touch session: %w", translate(err))
	}
	return nil
}

// DeleteSession ends the session whose token hashes to hash; it is not an error if there is none.
func (s *Store) DeleteSession(ctx context.Context, hash string) error {
	if err := s.conn(ctx).Where("token_hash = ?", hash).Delete(&sessionRow{}).Error; err != nil {
		return fmt.Errorf("store: unable to delete session: %w", translate(err))
	}
	return nil
}

// DeleteMemberSessions ends a member's sessions but the one with hash keep.
func (s *Store) DeleteMemberSessions(ctx context.Context, memberID int64, keep string) error {
	err := s.conn(ctx).Where("member_id = ? AND token_hash <> ?", memberID, keep).Delete(&sessionRow{}).Error
	if err != nil {
		return fmt.Errorf("store: unable to delete sessions: %w", translate(err))
	}
	return nil
}

// PruneSessions deletes sessions that expired before the given time.
func (s *Store) PruneSessions(ctx context.Context, before time.Time) (int64, error) {
	res := s.conn(ctx).Where("expires_at < ?", before.UTC()).Delete(&sessionRow{})
	if res.Error != nil {
		return 0, fmt.Errorf("store: unable to prune sessions: %w", translate(res.Error))
	}
	return res.RowsAffected, nil
}

// CreateAPIToken inserts a token and sets its ID.
func (s *Store) CreateAPIToken(ctx context.Context, t *domain.APIToken) error {
	row := apiTokenRow{MemberID: t.MemberID, Name: t.Name, TokenHash: t.TokenHash, CreatedBy: nullID(t.CreatedBy),
		CreatedAt: t.CreatedAt.UTC(), LastUsedAt: nullTime(t.LastUsedAt), RevokedAt: nullTime(t.RevokedAt)}
	if err := s.conn(ctx).Create(&row).Error; err != nil {
		return fmt.Errorf("store: unable to create API token: %w", translate(err))
	}
	t.ID = row.ID
	return nil
}

// APITokenByHash returns the token whose value hashes to hash.
func (s *Store) APITokenByHash(ctx context.Context, hash string) (domain.APIToken, error) {
	var r apiTokenRow
	if err := s.conn(ctx).Where("token_hash = ?", hash).Take(&r).Error; err != nil {
		return domain.APIToken{}, fmt.Errorf("store: unable to read API token: %w", translate(err))
	}
	return domain.APIToken{ID: r.ID, MemberID: r.MemberID, Name: r.Name, TokenHash: r.TokenHash,
		CreatedBy: deref(r.CreatedBy), CreatedAt: r.CreatedAt.UTC(), LastUsedAt: derefTime(r.LastUsedAt),
		RevokedAt: derefTime(r.RevokedAt)}, nil
}

// TouchAPIToken records a token's last use.
func (s *Store) TouchAPIToken(ctx context.Context, id int64, at time.Time) error {
	if err := s.conn(ctx).Model(&apiTokenRow{}).Where("id = ?", id).Update("last_used_at", at.UTC()).Error; err != nil {
		return fmt.Errorf("store: unable to touch API token: %w", translate(err))
	}
	return nil
}
