package store

import (
	"context"
	"fmt"
	"time"

	"github.com/coop-exchange/coop/domain"
)

var _ domain.ServicePeopleStore = (*Store)(nil)

type serviceMemberRow struct {
	ServiceID int64 `gorm:"primaryKey;autoIncrement:false"`
	MemberID  int64 `gorm:"primaryKey;autoIncrement:false"`
	AddedBy   *int64
	AddedAt   time.Time
}

func (serviceMemberRow) TableName() string { return "service_members" }

type serviceTokenRow struct {
	ID         int64 `gorm:"primaryKey"`
	ServiceID  int64
	Name       string
	TokenHash  string
	CreatedBy  *int64
	CreatedAt  time.Time `gorm:"autoCreateTime:false"`
	LastUsedAt *time.Time
	RevokedAt  *time.Time
}

func (serviceTokenRow) TableName() string { return "service_tokens" }

func (r serviceTokenRow) domain() domain.ServiceToken {
	return domain.ServiceToken{ID: r.ID, ServiceID: r.ServiceID, Name: r.Name, TokenHash: r.TokenHash, CreatedBy: deref(r.CreatedBy),
		CreatedAt: r.CreatedAt.UTC(), LastUsedAt: derefTime(r.LastUsedAt), RevokedAt: derefTime(r.RevokedAt)}
}

// AddServiceMember records that a member answers for a service.
func (s *Store) AddServiceMember(ctx context.Context, serviceID, memberID, byID int64, at time.Time) error {
	row := serviceMemberRow{ServiceID: serviceID, MemberID: memberID, AddedBy: nullID(byID), AddedAt: at.UTC()}
	if err := s.conn(ctx).Create(&row).Error; err != nil {
		return fmt.Errorf("store: unable to add member %d to service %d: %w", memberID, serviceID, translate(err))
	}
	return nil
}

// RemoveServiceMember records that a member no longer answers for a service.
func (s *Store) RemoveServiceMember(ctx context.Context, serviceID, memberID int64) error {
	res := s.conn(ctx).Where("service_id = ? AND member_id = ?", serviceID, memberID).Delete(&serviceMemberRow{})
	if res.Error != nil {
		return fmt.Errorf("store: unable to remove member %d from service %d: %w", memberID, serviceID, translate(res.Error))
	}
	if res.RowsAffected == 0 {
		return fmt.Errorf("store: member %d does not answer for service %d: %w", memberID, serviceID, domain.ErrNotFound)
	}
	return nil
}

// ServiceMembers lists the members who answer for a service, by name.
func (s *Store) ServiceMembers(ctx context.Context, serviceID int64) ([]domain.Member, error) {
	var rows []memberRow
	if err := s.conn(ctx).Table("members").Where("id IN (SELECT member_id FROM service_members WHERE service_id = ?)", serviceID).
		Order("name, id").Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("store: unable to list the users of service %d: %w", serviceID, translate(err))
	}
	out := make([]domain.Member, len(rows))
	for i, r := range rows {
		out[i] = r.domain()
	}
	return out, nil
}

// MemberServices lists the ids of the services a member answers for.
func (s *Store) MemberServices(ctx context.Context, memberID int64) ([]int64, error) {
	var ids []int64
	if err := s.conn(ctx).Model(&serviceMemberRow{}).Where("member_id = ?", memberID).Order("service_id").Pluck("service_id", &ids).Error; err != nil {
		return nil, fmt.Errorf("store: unable to read the services of member %d: %w", memberID, translate(err))
	}
	return ids, nil
}

// CreateServiceToken inserts a service's token and sets its ID.
func (s *Store) CreateServiceToken(ctx context.Context, t *domain.ServiceToken) error {
	row := serviceTokenRow{ServiceID: t.ServiceID, Name: t.Name, TokenHash: t.TokenHash, CreatedBy: nullID(t.CreatedBy), CreatedAt: t.CreatedAt.UTC()}
	if err := s.conn(ctx).Create(&row).Error; err != nil {
		return fmt.Errorf("store: unable to create a token for service %d: %w", t.ServiceID, translate(err))
	}
	t.ID = row.ID
	return nil
}

// ServiceTokens lists a service's tokens, newest first.
func (s *Store) ServiceTokens(ctx context.Context, serviceID int64) ([]domain.ServiceToken, error) {
	var rows []serviceTokenRow
	if err := s.conn(ctx).Where("service_id = ?", serviceID).Order("id DESC").Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("store: unable to list the tokens of service %d: %w", serviceID, translate(err))
	}
	out := make([]domain.ServiceToken, len(rows))
	for i, r := range rows {
		out[i] = r.domain()
	}
	return out, nil
}

// ServiceTokenByHash returns the service token whose value hashes to hash.
func (s *Store) ServiceTokenByHash(ctx context.Context, hash string) (domain.ServiceToken, error) {
	var r serviceTokenRow
	if err := s.conn(ctx).Where("token_hash = ?", hash).Take(&r).Error; err != nil {
		return domain.ServiceToken{}, fmt.Errorf("store: unable to read service token: %w", translate(err))
	}
	return r.domain(), nil
}

// RevokeServiceToken revokes one of a service's working tokens.
func (s *Store) RevokeServiceToken(ctx context.Context, serviceID, id int64, at time.Time) error {
	res := s.conn(ctx).Model(&serviceTokenRow{}).Where("id = ? AND service_id = ? AND revoked_at IS NULL", id, serviceID).Update("revoked_at", at.UTC())
	if res.Error != nil {
		return fmt.Errorf("store: unable to revoke token %d: %w", id, translate(res.Error))
	}
	if res.RowsAffected == 0 {
		return fmt.Errorf("store: service %d has no working token %d: %w", serviceID, id, domain.ErrNotFound)
	}
	return nil
}

// TouchServiceToken records a service token's last use.
func (s *Store) TouchServiceToken(ctx context.Context, id int64, at time.Time) error {
	if err := s.conn(ctx).Model(&serviceTokenRow{}).Where("id = ?", id).Update("last_used_at", at.UTC()).Error; err != nil {
		return fmt.Errorf("store: unable to touch service token %d: %w", id, translate(err))
	}
	return nil
}
