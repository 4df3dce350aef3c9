package domain

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// The people and programs of a formal service: `services` users, who answer the escalations
// sent to the services they work for in their inbox, and API tokens for a service's own systems.
// Coordinators add and remove both.

// ServiceTokenPrefix starts every service API token, so that the platform tells them from a
// person's tokens before looking either up.
const ServiceTokenPrefix = "coopsvc_"

// ServiceToken is an API token that acts for a service, not a person. Only the hash is kept.
type ServiceToken struct {
	ID         int64
	ServiceID  int64
	Name       string
	TokenHash  string
	CreatedBy  int64
	CreatedAt  time.Time
	LastUsedAt time.Time // zero until used
	RevokedAt  time.Time // zero while it works
}

// ServicePeopleStore keeps who answers for which service.
type ServicePeopleStore interface {
	// AddServiceMember says the member answers for the service; ErrDuplicate if they already do.
	AddServiceMember(ctx context.Context, serviceID, memberID, byID int64, at time.Time) error
	// RemoveServiceMember ends that; ErrNotFound if they did not answer for it.
	RemoveServiceMember(ctx context.Context, serviceID, memberID int64) error
	ServiceMembers(ctx context.Context, serviceID int64) ([]Member, error)
	// MemberServices lists the ids of the services a member answers for.
	MemberServices(ctx context.Context, memberID int64) ([]int64, error)
	CreateServiceToken(ctx context.Context, t *ServiceToken) error
	ServiceTokens(ctx context.Context, serviceID int64) ([]ServiceToken, error)
	ServiceTokenByHash(ctx context.Context, hash string) (ServiceToken, error)
	// RevokeServiceToken revokes one of the service's tokens; ErrNotFound if it has no such token
	// still working.
	RevokeServiceToken(ctx context.Context, serviceID, id int64, at time.Time) error
	TouchServiceToken(ctx context.Context, id int64, at time.Time) error
}

// ServicePeople manages who may act for formal services.
type ServicePeople struct {
	store    ServicePeopleStore
	members  MemberStore
	services interface {
		Service(ctx context.Context, id int64) (Service, error)
	}
	tx    Transactor
	audit *Audit
	clock Clock
}

// NewServicePeople returns the service that manages services users and service tokens.
func NewServicePeople(store ServicePeopleStore, members MemberStore, services DirectoryStore, tx Transactor, audit *Audit, clock Clock) *ServicePeople {
	return &ServicePeople{store: store, members: members, services: services, tx: tx, audit: audit, clock: clock}
}

// Audited actions on the people and tokens of services.
const (
	AuditServiceUserAdded    = "service.user_added"
	AuditServiceUserRemoved  = "service.user_removed"
	AuditServiceTokenCreated = "service.token_created"
	AuditServiceTokenRevoked = "service.token_revoked"
)

// ServiceUserInput is a person at a formal service a coordinator adds.
type ServiceUserInput struct {
	Name  string
	Email string
	Phone string
}

// AddUser lets a person at a service answer its escalations: a new `services` user, or one who
// already answers for another service. They have no password yet: the caller sends them a link
// to set one. Coordinators only.
func (p *ServicePeople) AddUser(ctx context.Context, by Actor, serviceID int64, in ServiceUserInput) (Member, bool, error) {
	if err := requireCoordinator(by); err != nil {
		return Member{}, false, err
	}
	svc, err := p.services.Service(ctx, serviceID)
	if err != nil {
		return Member{}, false, fmt.Errorf("service %d: %w", serviceID, err)
	}
	in.Name, in.Email, in.Phone = strings.TrimSpace(in.Name), NormaliseEmail(in.Email), strings.TrimSpace(in.Phone)
	v := &ValidationError{}
	checkEmail(v, "email", in.Email, true)
	checkPhone(v, "phone", in.Phone, false)
	if err := v.OrNil(); err != nil {
		return Member{}, false, err
	}
	existing, err := p.members.MemberByEmail(ctx, in.Email)
	switch {
	case errors.Is(err, ErrNotFound):
	case err != nil:
		return Member{}, false, err
	case existing.Role != RoleServices:
		return Member{}, false, Invalid("email", "%s belongs to a %s of the co-op; a services user needs an address of their own, such as their work email",
			in.Email, strings.ToLower(existing.Role.Label()))
	case existing.Status != StatusActive:
		return Member{}, false, Invalid("email", "%s is a services user whose account is %s; an administrator can restore it", in.Email, existing.Status)
	}
	isNew := existing.ID == 0
	if isNew {
		checkName(v, "name", in.Name)
		if err := v.OrNil(); err != nil {
			return Member{}, false, err
		}
	}
	now := p.clock.now()
	m := existing
	err = p.tx.Transact(ctx, func(ctx context.Context) error {
		if isNew {
			m = Member{Name: in.Name, Email: in.Email, Phone: in.Phone, Role: RoleServices, Status: StatusActive, AddedBy: by.ID, CreatedAt: now, UpdatedAt: now}
			if err := p.members.CreateMember(ctx, &m); err != nil {
				if errors.Is(err, ErrDuplicate) {
					return Invalid("email", "Someone was added with this email address a moment ago; reload the page")
				}
				return err
			}
		}
		if err := p.store.AddServiceMember(ctx, serviceID, m.ID, by.ID, now); err != nil {
			if errors.Is(err, ErrDuplicate) {
				return Invalid("email", "%s already answers for %s", m.Name, svc.Name)
			}
			return err
		}
		return p.audit.Record(ctx, by, AuditServiceUserAdded, "service", serviceID, map[string]string{"member": fmt.Sprint(m.ID), "new": fmt.Sprint(isNew)})
	})
	if err != nil {
		return Member{}, false, fmt.Errorf("add a user to service %d: %w", serviceID, err)
	}
	return m, isNew, nil
}

// RemoveUser stops a person answering for a service. Their account stays, for their other
// services and for the history of what they did. Coordinators only.
func (p *ServicePeople) RemoveUser(ctx context.Context, by Actor, serviceID, memberID int64) error {
	if err := requireCoordinator(by); err != nil {
		return err
	}
	return p.tx.Transact(ctx, func(ctx context.Context) error {
		if err := p.store.RemoveServiceMember(ctx, serviceID, memberID); err != nil {
			return fmt.Errorf("remove member %d from service %d: %w", memberID, serviceID, err)
		}
		return p.audit.Record(ctx, by, AuditServiceUserRemoved, "service", serviceID, map[string]string{"member": fmt.Sprint(memberID)})
	})
}

// Users lists the people who answer for a service (an unknown service is not found).
// Coordinators only.
func (p *ServicePeople) Users(ctx context.Context, by Actor, serviceID int64) ([]Member, error) {
	if err := requireCoordinator(by); err != nil {
		return nil, err
	}
	if _, err := p.services.Service(ctx, serviceID); err != nil {
		return nil, fmt.Errorf("service %d: %w", serviceID, err)
	}
	out, err := p.store.ServiceMembers(ctx, serviceID)
	if err != nil {
		return nil, fmt.Errorf("users of service %d: %w", serviceID, err)
	}
	return out, nil
}

// CreateToken makes an API token for a service's own systems and returns it: it cannot be
// shown again. Coordinators only.
func (p *ServicePeople) CreateToken(ctx context.Context, by Actor, serviceID int64, name string) (string, ServiceToken, error) {
	if err := requireCoordinator(by); err != nil {
		return "", ServiceToken{}, err
	}
	if _, err := p.services.Service(ctx, serviceID); err != nil {
		return "", ServiceToken{}, fmt.Errorf("service %d: %w", serviceID, err)
	}
	name = strings.TrimSpace(name)
	v := &ValidationError{}
	checkText(v, "name", name, true, 100, "Name the token after the system that will use it, such as \"case management\"")
	if err := v.OrNil(); err != nil {
		return "", ServiceToken{}, err
	}
	token, err := NewSecret(ServiceTokenPrefix, 32)
	if err != nil {
		return "", ServiceToken{}, err
	}
	t := ServiceToken{ServiceID: serviceID, Name: name, TokenHash: HashSecret(token), CreatedBy: by.ID, CreatedAt: p.clock.now()}
	err = p.tx.Transact(ctx, func(ctx context.Context) error {
		if err := p.store.CreateServiceToken(ctx, &t); err != nil {
			return err
		}
		return p.audit.Record(ctx, by, AuditServiceTokenCreated, "service", serviceID, map[string]string{"token_id": fmt.Sprint(t.ID), "name": name})
	})
	if err != nil {
		return "", ServiceToken{}, fmt.Errorf("create a token for service %d: %w", serviceID, err)
	}
	return token, t, nil
}

// Tokens lists a service's tokens, never their values (an unknown service is not found).
// Coordinators only.
func (p *ServicePeople) Tokens(ctx context.Context, by Actor, serviceID int64) ([]ServiceToken, error) {
	if err := requireCoordinator(by); err != nil {
		return nil, err
	}
	if _, err := p.services.Service(ctx, serviceID); err != nil {
		return nil, fmt.Errorf("service %d: %w", serviceID, err)
	}
	out, err := p.store.ServiceTokens(ctx, serviceID)
	if err != nil {
		return nil, fmt.Errorf("tokens of service %d: %w", serviceID, err)
	}
	return out, nil
}

// RevokeToken stops a service token working, at once. Coordinators only.
func (p *ServicePeople) RevokeToken(ctx context.Context, by Actor, serviceID, tokenID int64) error {
	if err := requireCoordinator(by); err != nil {
		return err
	}
	return p.tx.Transact(ctx, func(ctx context.Context) error {
		if err := p.store.RevokeServiceToken(ctx, serviceID, tokenID, p.clock.now()); err != nil {
			return fmt.Errorf("revoke token %d of service %d: %w", tokenID, serviceID, err)
		}
		return p.audit.Record(ctx, by, AuditServiceTokenRevoked, "service", serviceID, map[string]string{"token_id": fmt.Sprint(tokenID)})
	})
}

// AuthenticateToken returns who a service token acts as: no person (ID 0), the services role,
// and that one service. An unknown or revoked token, or one whose service is no longer active,
// is ErrUnauthenticated.
func (p *ServicePeople) AuthenticateToken(ctx context.Context, token string) (Member, error) {
	if !strings.HasPrefix(token, ServiceTokenPrefix) {
		return Member{}, ErrUnauthenticated
	}
	t, err := p.store.ServiceTokenByHash(ctx, HashSecret(token))
	if errors.Is(err, ErrNotFound) {
		return Member{}, ErrUnauthenticated
	}
	if err != nil {
		return Member{}, err
	}
	if !t.RevokedAt.IsZero() {
		return Member{}, ErrUnauthenticated
	}
	svc, err := p.services.Service(ctx, t.ServiceID)
	if errors.Is(err, ErrNotFound) {
		return Member{}, ErrUnauthenticated
	}
	if err != nil {
		return Member{}, err
	}
	if !svc.Active {
		return Member{}, ErrUnauthenticated
	}
	if now := p.clock.now(); now.Sub(t.LastUsedAt) >= time.Minute {
		if err := p.store.TouchServiceToken(ctx, t.ID, now); err != nil {
			return Member{}, err
		}
	}
	return Member{Name: fmt.Sprintf("%s (token %q)", svc.Name, t.Name), Role: RoleServices, Status: StatusActive,
		Services: []int64{svc.ID}}, nil
}

// Scope fills in the services a services user answers for; other roles answer for none.
func (p *ServicePeople) Scope(ctx context.Context, m *Member) error {
	if m.Role != RoleServices || m.ID == 0 {
		return nil
	}
	ids, err := p.store.MemberServices(ctx, m.ID)
	if err != nil {
		return fmt.Errorf("services of member %d: %w", m.ID, err)
	}
	m.Services = ids
	return nil
}

// answersFor reports whether the actor is a services user or token answering for the service.
func answersFor(by Actor, serviceID int64) bool {
	return by.Role == RoleServices && slices.Contains(by.Services, serviceID)
}
