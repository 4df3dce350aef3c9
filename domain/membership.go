package domain

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// MemberStore keeps members and their consents.
type MemberStore interface {
	CreateMember(ctx context.Context, m *Member) error
	Member(ctx context.Context, id int64) (Member, error)
	MemberByEmail(ctx context.Context, email string) (Member, error)
	ListMembers(ctx context.Context, q MemberQuery) ([]Member, error)
	CountMembers(ctx context.Context, status MemberStatus) (int64, error)
	// DecideApplication records a decision on an application, only while the member is still an
	// applicant (ErrConflict otherwise), so that two coordinators cannot both decide one.
	DecideApplication(ctx context.Context, id int64, d Decision) error
	// ReopenApplication makes a declined applicant's record the new application m, only while it
	// is still declined (ErrConflict otherwise).
	ReopenApplication(ctx context.Context, m Member) error
	// SetMemberRole and SetMemberPassword change one thing each, so that they cannot undo a
	// change made at the same time to another field.
	SetMemberRole(ctx context.Context, id int64, role Role, at time.Time) error
	// SetMemberStatus moves a member from one status to another (ErrConflict if not in from).
	SetMemberStatus(ctx context.Context, id int64, from, to MemberStatus, at time.Time) error
	SetMemberPassword(ctx context.Context, id int64, hash string, at time.Time) error
	// ReplaceMemberPassword sets the hash only while the stored one is still current (ErrConflict
	// otherwise), so that a link made for one password cannot be used twice, even at once.
	ReplaceMemberPassword(ctx context.Context, id int64, current, hash string, at time.Time) error
	AddConsent(ctx context.Context, c *Consent) error
	Consents(ctx context.Context, memberID int64) ([]Consent, error)
}

// Decision is a coordinator's decision on an application.
type Decision struct {
	Status MemberStatus // active or declined
	Reason string
	By     int64
	At     time.Time
}

// MemberQuery selects members, oldest first.
type MemberQuery struct {
	Status MemberStatus // empty for any
	Role   Role         // empty for any
	Search string       // part of the name, email or phone, any case
	Page   PageQuery
}

// ApplicationInput is what a person gives on the "Join the co-op" form.
type ApplicationInput struct {
	Name     string
	Email    string
	Phone    string
	AreaID   int64
	Password string
	Reason   string
	Consent  bool
}

// NewMemberInput is what a coordinator gives to add a member directly (someone who joins by phone
// or in person), or what `coop user create` gives.
type NewMemberInput struct {
	Name     string
	Email    string
	Phone    string
	AreaID   int64
	Role     Role
	Password string // optional: without one the member cannot sign in until they set one (Accounts.SendPasswordLink)
	// ConsentRecorded confirms the person agreed to DataHoldingConsentWording, read to them.
	ConsentRecorded bool
}

// Rate limits on applications: every attempt from a network address (so that the form cannot be
// used to test many emails), then applications sent from one address and for one email.
var (
	applicationAttemptsPerIP = Limit{Max: 30, Window: time.Hour,
		Message: "We have had a great many attempts to apply from your network in the last hour."}
	applicationsPerIP = Limit{Max: 5, Window: time.Hour,
		Message: "We have had several applications from your network in the last hour."}
	applicationsPerEmail = Limit{Max: 3, Window: 24 * time.Hour,
		Message: "We have had several applications with this email address today."}
)

const maxDeclineReasonLen = 1000

// Membership runs applications, approvals and the member list.
type Membership struct {
	members   MemberStore
	proposals ProposalStore
	areas     CatalogueStore
	tx        Transactor
	audit     *Audit
	limiter   *RateLimiter
	hasher    PasswordHasher
	clock     Clock
}

// NewMembership returns the membership service.
func NewMembership(members MemberStore, proposals ProposalStore, areas CatalogueStore, tx Transactor, audit *Audit, limiter *RateLimiter, hasher PasswordHasher, clock Clock) *Membership {
	return &Membership{members: members, proposals: proposals, areas: areas, tx: tx, audit: audit, limiter: limiter, hasher: hasher, clock: clock}
}

const duplicateEmailMessage = "There is already a member or an application with this email address. " +
	"Sign in instead, or ask a coordinator for help."

// Apply records an application to join. The applicant cannot sign in until a coordinator approves.
func (s *Membership) Apply(ctx context.Context, in ApplicationInput, from Origin) (Member, error) {
	if _, err := s.limiter.Reserve(ctx, applicationAttemptsPerIP.keyed("apply-attempt:ip:"+from.IP)); err != nil {
		return Member{}, err
	}
	in.Name = strings.TrimSpace(in.Name)
	in.Email = NormaliseEmail(in.Email)
	in.Phone = strings.TrimSpace(in.Phone)
	in.Reason = strings.TrimSpace(in.Reason)

	v := &ValidationError{}
	checkName(v, "name", in.Name)
	checkEmail(v, "email", in.Email, true)
	if err := s.checkEmailFree(ctx, v, in.Email, duplicateEmailMessage); err != nil {
		return Member{}, err
	}
	checkPhone(v, "phone", in.Phone, true)
	if err := s.checkArea(ctx, v, in.AreaID, true); err != nil {
		return Member{}, err
	}
	CheckPassword(v, "password", in.Password)
	checkText(v, "reason", in.Reason, true, maxReasonLen, "Tell us in a few words why you would like to join")
	if !in.Consent {
		v.Add("consent", "Tick the box to agree to the co-op keeping your details; we cannot run the exchange without it")
	}
	if err := v.OrNil(); err != nil {
		return Member{}, err
	}

	if _, err := s.limiter.Reserve(ctx, applicationsPerIP.keyed("apply:ip:"+from.IP), applicationsPerEmail.keyed("apply:email:"+in.Email)); err != nil {
		return Member{}, err
	}
	hash, err := s.hasher.Hash(in.Password)
	if err != nil {
		return Member{}, err
	}

	now := s.clock.now()
	m := Member{Name: in.Name, Email: in.Email, Phone: in.Phone, Role: RoleMember, Status: StatusApplicant,
		AreaID: in.AreaID, PasswordHash: hash, JoinReason: in.Reason}
	err = s.tx.Transact(ctx, func(ctx context.Context) error {
		existing, err := s.members.MemberByEmail(ctx, in.Email)
		switch {
		case err == nil && existing.Status == StatusDeclined:
			// Someone declined before may apply again: the old record becomes the new application.
			m.ID, m.CreatedAt = existing.ID, existing.CreatedAt
			m.UpdatedAt = now
			if err := s.members.ReopenApplication(ctx, m); err != nil {
				return err
			}
		case err == nil:
			return Invalid("email", duplicateEmailMessage)
		case errors.Is(err, ErrNotFound):
			m.CreatedAt, m.UpdatedAt = now, now
			if err := s.members.CreateMember(ctx, &m); err != nil {
				if errors.Is(err, ErrDuplicate) {
					return Invalid("email", duplicateEmailMessage)
				}
				return err
			}
		default:
			return err
		}
		if err := s.members.AddConsent(ctx, &Consent{MemberID: m.ID, Kind: ConsentDataHolding,
			Wording: DataHoldingConsentWording, GivenAt: now}); err != nil {
			return err
		}
		applicant := Actor{ID: m.ID, Name: m.Name, Role: RoleMember, IP: from.IP, RequestID: from.RequestID}
		return s.audit.Record(ctx, applicant, AuditApplicationReceived, "member", m.ID, map[string]string{"email": m.Email})
	})
	if err != nil {
		return Member{}, fmt.Errorf("apply: %w", err)
	}
	return m, nil
}

// checkEmailFree reports an email already used by someone other than a declined applicant (who
// may apply again), so that the person hears of it with their other mistakes. The store's unique
// index still settles a race.
func (s *Membership) checkEmailFree(ctx context.Context, v *ValidationError, email, message string) error {
	if email == "" || v.Has("email") {
		return nil
	}
	m, err := s.members.MemberByEmail(ctx, email)
	switch {
	case errors.Is(err, ErrNotFound):
		return nil
	case err != nil:
		return err
	case m.Status != StatusDeclined:
		v.Add("email", "%s", message)
	}
	return nil
}

func (s *Membership) checkArea(ctx context.Context, v *ValidationError, areaID int64, required bool) error {
	if areaID == 0 {
		if required {
			v.Add("area_id", "Choose the area you live in")
		}
		return nil
	}
	if _, err := s.areas.Area(ctx, areaID); err != nil {
		if errors.Is(err, ErrNotFound) {
			v.Add("area_id", "Choose an area from the list; there is no area number %d", areaID)
			return nil
		}
		return err
	}
	return nil
}

// Applications lists applications waiting for a decision, oldest first. Coordinators only.
func (s *Membership) Applications(ctx context.Context, by Actor, page PageQuery) (Page[Member], error) {
	return s.Members(ctx, by, MemberQuery{Status: StatusApplicant, Page: page})
}

// Members lists members, oldest first. Coordinators only.
func (s *Membership) Members(ctx context.Context, by Actor, q MemberQuery) (Page[Member], error) {
	if err := requireCoordinator(by); err != nil {
		return Page[Member]{}, err
	}
	q.Search = NormaliseSearch(q.Search)
	q.Page = q.Page.Normalised()
	page := q.Page
	q.Page.Limit++
	rows, err := s.members.ListMembers(ctx, q)
	if err != nil {
		return Page[Member]{}, fmt.Errorf("list members: %w", err)
	}
	return PageOf(rows, page, func(m Member) int64 { return m.ID }), nil
}

// CountApplications counts applications waiting for a decision.
func (s *Membership) CountApplications(ctx context.Context, by Actor) (int64, error) {
	if err := requireCoordinator(by); err != nil {
		return 0, err
	}
	return s.members.CountMembers(ctx, StatusApplicant)
}

// Member returns one member: to coordinators, or to the member themself.
func (s *Membership) Member(ctx context.Context, by Actor, id int64) (Member, error) {
	if by.ID != id && !by.Role.Coordinates() {
		return Member{}, ErrForbidden
	}
	m, err := s.members.Member(ctx, id)
	if err != nil {
		return Member{}, fmt.Errorf("member %d: %w", id, err)
	}
	return m, nil
}

// Consents lists what a member agreed to: to coordinators, or to the member themself.
func (s *Membership) Consents(ctx context.Context, by Actor, memberID int64) ([]Consent, error) {
	if by.ID != memberID && !by.Role.Coordinates() {
		return nil, ErrForbidden
	}
	consents, err := s.members.Consents(ctx, memberID)
	if err != nil {
		return nil, fmt.Errorf("consents of member %d: %w", memberID, err)
	}
	return consents, nil
}

// Approve makes an applicant an active member. Coordinators only.
func (s *Membership) Approve(ctx context.Context, by Actor, id int64) (Member, error) {
	return s.decide(ctx, by, id, StatusActive, "")
}

// Decline turns an application down with a reason that the applicant is told when they try to
// sign in. Coordinators only.
func (s *Membership) Decline(ctx context.Context, by Actor, id int64, reason string) (Member, error) {
	if err := requireCoordinator(by); err != nil {
		return Member{}, err
	}
	reason = strings.TrimSpace(reason)
	v := &ValidationError{}
	checkText(v, "reason", reason, true, maxDeclineReasonLen, "Give a reason; the applicant will be told it")
	if err := v.OrNil(); err != nil {
		return Member{}, err
	}
	return s.decide(ctx, by, id, StatusDeclined, reason)
}

func (s *Membership) decide(ctx context.Context, by Actor, id int64, to MemberStatus, reason string) (Member, error) {
	if err := requireCoordinator(by); err != nil {
		return Member{}, err
	}
	var m Member
	err := s.tx.Transact(ctx, func(ctx context.Context) error {
		var err error
		if m, err = s.members.Member(ctx, id); err != nil {
			return err
		}
		if m.Status != StatusApplicant {
			return s.alreadyDecided(ctx, m)
		}
		now := s.clock.now()
		m.Status, m.DecisionReason, m.DecidedBy, m.DecidedAt, m.UpdatedAt = to, reason, by.ID, now, now
		if err := s.members.DecideApplication(ctx, id, Decision{Status: to, Reason: reason, By: by.ID, At: now}); err != nil {
			if errors.Is(err, ErrConflict) {
				fresh, ferr := s.members.Member(ctx, id)
				if ferr != nil {
					return ferr
				}
				return s.alreadyDecided(ctx, fresh)
			}
			return err
		}
		action, detail := AuditApplicationApproved, map[string]string{}
		if to == StatusDeclined {
			action, detail["reason"] = AuditApplicationDeclined, reason
		}
		return s.audit.Record(ctx, by, action, "member", id, detail)
	})
	if err != nil {
		return Member{}, fmt.Errorf("decide application %d: %w", id, err)
	}
	return m, nil
}

// alreadyDecided explains to a coordinator that someone else got there first.
func (s *Membership) alreadyDecided(ctx context.Context, m Member) error {
	who := "another coordinator"
	if m.DecidedBy != 0 {
		if d, err := s.members.Member(ctx, m.DecidedBy); err == nil {
			who = d.Name
		}
	}
	switch m.Status {
	case StatusActive, StatusSuspended, StatusLeft:
		if m.DecidedBy == 0 {
			return &ConflictError{Message: m.Name + " is already a member; there is no application to decide."}
		}
		return &ConflictError{Message: m.Name + "'s application was already approved by " + who + "."}
	case StatusDeclined:
		return &ConflictError{Message: m.Name + "'s application was already declined by " + who + "."}
	}
	return &ConflictError{Message: "This application has changed; reload the page to see it."}
}

// AddMember adds an active member directly. Coordinators only; only admins give roles other than member.
func (s *Membership) AddMember(ctx context.Context, by Actor, in NewMemberInput) (Member, error) {
	if err := requireCoordinator(by); err != nil {
		return Member{}, err
	}
	in.Name = strings.TrimSpace(in.Name)
	in.Email = NormaliseEmail(in.Email)
	in.Phone = strings.TrimSpace(in.Phone)
	if in.Role == "" {
		in.Role = RoleMember
	}
	v := &ValidationError{}
	checkName(v, "name", in.Name)
	checkEmail(v, "email", in.Email, false)
	if err := s.checkEmailFree(ctx, v, in.Email, "There is already a member or an application with this email address"); err != nil {
		return Member{}, err
	}
	checkPhone(v, "phone", in.Phone, false)
	if in.Email == "" && in.Phone == "" {
		v.Add("phone", "Give a phone number or an email address, so that the co-op can reach them")
	}
	if err := s.checkArea(ctx, v, in.AreaID, in.Role == RoleMember); err != nil {
		return Member{}, err
	}
	switch {
	case !in.Role.Valid():
		v.Add("role", "Choose one of the roles: member, coordinator, services, admin")
	case in.Role != RoleMember && by.Role != RoleAdmin:
		v.Add("role", "Only an administrator can give the %s role", in.Role)
	}
	if in.Password != "" {
		CheckPassword(v, "password", in.Password)
		if in.Email == "" {
			v.Add("email", "A member who signs in with a password needs an email address")
		}
	}
	if !in.ConsentRecorded {
		v.Add("consent", "Confirm that you read the person the consent wording and they agreed")
	}
	if err := v.OrNil(); err != nil {
		return Member{}, err
	}
	var hash string
	if in.Password != "" {
		var err error
		if hash, err = s.hasher.Hash(in.Password); err != nil {
			return Member{}, err
		}
	}
	now := s.clock.now()
	m := Member{Name: in.Name, Email: in.Email, Phone: in.Phone, Role: in.Role, Status: StatusActive,
		AreaID: in.AreaID, PasswordHash: hash, AddedBy: by.ID, CreatedAt: now, UpdatedAt: now}
	err := s.tx.Transact(ctx, func(ctx context.Context) error {
		if err := s.members.CreateMember(ctx, &m); err != nil {
			if errors.Is(err, ErrDuplicate) {
				return Invalid("email", "There is already a member or an application with this email address")
			}
			return err
		}
		if err := s.members.AddConsent(ctx, &Consent{MemberID: m.ID, Kind: ConsentDataHolding,
			Wording: DataHoldingConsentWording, GivenAt: now, RecordedBy: by.ID}); err != nil {
			return err
		}
		return s.audit.Record(ctx, by, AuditMemberAdded, "member", m.ID, map[string]string{"role": string(m.Role)})
	})
	if err != nil {
		return Member{}, fmt.Errorf("add member: %w", err)
	}
	return m, nil
}

// ChangeRole gives a member another role. Admins only, and not their own role (so that the last
// admin cannot lock everyone out by mistake).
func (s *Membership) ChangeRole(ctx context.Context, by Actor, id int64, role Role) (Member, error) {
	if by.Role != RoleAdmin {
		return Member{}, ErrForbidden
	}
	if !role.Valid() {
		return Member{}, Invalid("role", "Choose one of the roles: member, coordinator, services, admin")
	}
	if by.ID == id {
		return Member{}, Invalid("role", "You cannot change your own role; ask another administrator")
	}
	var m Member
	err := s.tx.Transact(ctx, func(ctx context.Context) error {
		var err error
		if m, err = s.members.Member(ctx, id); err != nil {
			return err
		}
		if m.Role == role {
			return nil
		}
		from := m.Role
		m.Role, m.UpdatedAt = role, s.clock.now()
		if err := s.members.SetMemberRole(ctx, id, role, m.UpdatedAt); err != nil {
			return err
		}
		return s.audit.Record(ctx, by, AuditRoleChanged, "member", id, map[string]string{"from": string(from), "to": string(role)})
	})
	if err != nil {
		return Member{}, fmt.Errorf("change role of member %d: %w", id, err)
	}
	return m, nil
}

// Suspend stops an active member from signing in and hides their posts from neighbours, until a
// coordinator reinstates them. Coordinators only, and not themselves.
func (s *Membership) Suspend(ctx context.Context, by Actor, id int64, reason string) (Member, error) {
	return s.setStatus(ctx, by, id, StatusActive, StatusSuspended, reason)
}

// Reinstate makes a suspended member active again. Coordinators only.
func (s *Membership) Reinstate(ctx context.Context, by Actor, id int64) (Member, error) {
	return s.setStatus(ctx, by, id, StatusSuspended, StatusActive, "")
}

func (s *Membership) setStatus(ctx context.Context, by Actor, id int64, from, to MemberStatus, reason string) (Member, error) {
	if err := requireCoordinator(by); err != nil {
		return Member{}, err
	}
	if by.ID == id {
		return Member{}, Invalid("status", "You cannot change your own membership; ask another coordinator")
	}
	reason = strings.TrimSpace(reason)
	if to == StatusSuspended {
		v := &ValidationError{}
		checkText(v, "reason", reason, true, maxDeclineReasonLen, "Say why, for the record")
		if err := v.OrNil(); err != nil {
			return Member{}, err
		}
	}
	var m Member
	err := s.tx.Transact(ctx, func(ctx context.Context) error {
		var err error
		if m, err = s.members.Member(ctx, id); err != nil {
			return err
		}
		if m.Status != from {
			return &ConflictError{Message: m.Name + " is " + strings.ToLower(m.Status.Label()) + ", so this cannot be done."}
		}
		m.Status, m.UpdatedAt = to, s.clock.now()
		if err := s.members.SetMemberStatus(ctx, id, from, to, m.UpdatedAt); err != nil {
			return err
		}
		if to == StatusSuspended {
			if err := withdraw(ctx, s.proposals, ProposalScope{MemberID: id, IncludeAgreed: true}, WithdrawnMemberSuspended, m.UpdatedAt); err != nil {
				return err
			}
		}
		return s.audit.Record(ctx, by, AuditStatusChanged, "member", id, map[string]string{"from": string(from), "to": string(to), "reason": reason})
	})
	if err != nil {
		return Member{}, fmt.Errorf("member %d to %s: %w", id, to, err)
	}
	return m, nil
}

// ParseID reads a positive record id written in decimal.
func ParseID(s string) (int64, bool) {
	id, err := strconv.ParseInt(s, 10, 64)
	return id, err == nil && id > 0
}
