package domain

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"
)

// Session is a signed-in browser. Only the hash of its token is stored.
type Session struct {
	ID         int64
	TokenHash  string
	MemberID   int64
	CreatedAt  time.Time
	LastSeenAt time.Time
	ExpiresAt  time.Time
	IP         string
	UserAgent  string
}

// APIToken lets a program act as a member through the API. Only the hash of its token is stored.
type APIToken struct {
	ID         int64
	MemberID   int64
	Name       string
	TokenHash  string
	CreatedBy  int64
	CreatedAt  time.Time
	LastUsedAt time.Time
	RevokedAt  time.Time
}

// Session lifetimes: a session lapses after SessionIdle without use, and after SessionMax in any case.
const (
	SessionIdle = 14 * 24 * time.Hour
	SessionMax  = 30 * 24 * time.Hour
	// touchEvery limits how often a session's last use is written, to keep reads cheap.
	touchEvery = 5 * time.Minute
)

// APITokenPrefix starts every API token, so that a leaked one is easy to recognise and search for.
const APITokenPrefix = "coop_"

// SessionStore keeps sessions and API tokens.
type SessionStore interface {
	CreateSession(ctx context.Context, s *Session) error
	SessionByTokenHash(ctx context.Context, hash string) (Session, error)
	TouchSession(ctx context.Context, id int64, seen, expires time.Time) error
	DeleteSession(ctx context.Context, hash string) error
	// DeleteMemberSessions ends every session of a member except the one whose hash is keep.
	DeleteMemberSessions(ctx context.Context, memberID int64, keep string) error
	PruneSessions(ctx context.Context, before time.Time) (int64, error)
	CreateAPIToken(ctx context.Context, t *APIToken) error
	APITokenByHash(ctx context.Context, hash string) (APIToken, error)
	TouchAPIToken(ctx context.Context, id int64, at time.Time) error
}

// Rate limits on signing in. Each counts attempts that did not succeed (and those under way):
// from one network address; at one account from one address, the tight limit that stops
// guessing; and at one account from anywhere, looser, so that a stranger elsewhere cannot lock a
// member out with a handful of wrong passwords but a spread-out attack is still stopped.
var (
	signInFailuresPerIP = Limit{Max: 20, Window: 15 * time.Minute,
		Message: "There have been too many unsuccessful sign-ins from your network."}
	signInFailuresPerAccountAndIP = Limit{Max: 5, Window: 15 * time.Minute,
		Message: "There have been too many unsuccessful sign-ins to this account, so we have paused it for a while to keep it safe."}
	signInFailuresPerAccount = Limit{Max: 20, Window: 15 * time.Minute,
		Message: "There have been too many unsuccessful sign-ins to this account, so we have paused it for a while to keep it safe."}
	passwordChangeFailures = Limit{Max: 5, Window: 15 * time.Minute,
		Message: "The current password was wrong too many times."}
)

// Accounts signs people in and out, checks sessions and API tokens, and emails links to set a
// password (password_links.go).
type Accounts struct {
	members  MemberStore
	sessions SessionStore
	emails   EmailQueue
	tx       Transactor
	audit    *Audit
	limiter  *RateLimiter
	hasher   PasswordHasher
	clock    Clock
	key      []byte // the platform's secret key, which signs the links

	dummyOnce sync.Once
	dummy     string // a hash to verify against for unknown emails, so that timing does not tell
}

// NewAccounts returns the accounts service. key signs the emailed links to set a password (the
// platform's secret key).
func NewAccounts(members MemberStore, sessions SessionStore, emails EmailQueue, tx Transactor, audit *Audit, limiter *RateLimiter, hasher PasswordHasher, clock Clock, key []byte) *Accounts {
	return &Accounts{members: members, sessions: sessions, emails: emails, tx: tx, audit: audit, limiter: limiter, hasher: hasher, clock: clock, key: key}
}

// SignIn checks an email and password and starts a session, returning its token (for the cookie).
// Every attempt is audited; failures count towards the rate limits.
func (a *Accounts) SignIn(ctx context.Context, email, password string, from Origin) (Member, string, error) {
	email = NormaliseEmail(email)
	v := &ValidationError{}
	if email == "" {
		v.Add("email", "Enter your email address")
	}
	if password == "" {
		v.Add("password", "Enter your password")
	}
	if err := v.OrNil(); err != nil {
		return Member{}, "", err
	}
	visitor := Actor{Name: email, IP: from.IP, RequestID: from.RequestID}
	attempt, err := a.limiter.Reserve(ctx,
		signInFailuresPerIP.keyed("signin:ip:"+from.IP),
		signInFailuresPerAccountAndIP.keyed("signin:account-ip:"+email+"|"+from.IP),
		signInFailuresPerAccount.keyed("signin:account:"+email))
	if err != nil {
		var rl *RateLimitError
		if errors.As(err, &rl) {
			if aerr := a.audit.Record(ctx, visitor, AuditSignInFailed, "member", 0, map[string]string{"email": email, "why": "rate limited"}); aerr != nil {
				return Member{}, "", aerr
			}
		}
		return Member{}, "", err
	}
	// A wrong password keeps the attempt counted; anything else lets it go.
	fail := func(subject int64, why string) error {
		if err := a.audit.Record(ctx, visitor, AuditSignInFailed, "member", subject, map[string]string{"email": email, "why": why}); err != nil {
			return err
		}
		return ErrUnauthenticated
	}

	m, err := a.members.MemberByEmail(ctx, email)
	if errors.Is(err, ErrNotFound) {
		a.hasher.Verify(a.dummyHash(), password) //nolint:errcheck // only spends the same time as a real check
		return Member{}, "", fail(0, "unknown email")
	}
	if err != nil {
		return Member{}, "", err
	}
	if m.PasswordHash == "" {
		a.hasher.Verify(a.dummyHash(), password) //nolint:errcheck // as above
		return Member{}, "", fail(m.ID, "no password set")
	}
	ok, err := a.hasher.Verify(m.PasswordHash, password)
	if err != nil {
		return Member{}, "", err
	}
	if !ok {
		return Member{}, "", fail(m.ID, "wrong password")
	}
	if err := a.limiter.Release(ctx, attempt); err != nil {
		return Member{}, "", err
	}
	if m.Status != StatusActive {
		if err := a.audit.Record(ctx, visitor, AuditSignInFailed, "member", m.ID, map[string]string{"email": email, "why": "status " + string(m.Status)}); err != nil {
			return Member{}, "", err
		}
		return Member{}, "", &SignInRefusedError{Status: m.Status, Message: refusalMessage(m)}
	}

	token, err := NewSecret("", 32)
	if err != nil {
		return Member{}, "", err
	}
	now := a.clock.now()
	s := Session{TokenHash: HashSecret(token), MemberID: m.ID, CreatedAt: now, LastSeenAt: now,
		ExpiresAt: now.Add(SessionIdle), IP: from.IP, UserAgent: truncate(from.UserAgent, 300)}
	err = a.tx.Transact(ctx, func(ctx context.Context) error {
		if err := a.sessions.CreateSession(ctx, &s); err != nil {
			return err
		}
		by := Actor{ID: m.ID, Name: m.Name, Role: m.Role, IP: from.IP, RequestID: from.RequestID}
		return a.audit.Record(ctx, by, AuditSignIn, "member", m.ID, nil)
	})
	if err != nil {
		return Member{}, "", fmt.Errorf("sign in: %w", err)
	}
	return m, token, nil
}

func refusalMessage(m Member) string {
	switch m.Status {
	case StatusApplicant:
		return "Thank you for applying. A coordinator has not looked at your application yet; " +
			"you will be able to sign in as soon as they approve it."
	case StatusDeclined:
		return "Your application to join was not approved. The coordinator wrote: \u201c" + m.DecisionReason +
			"\u201d If you would like to talk about it, please contact the co-op."
	case StatusSuspended:
		return "Your membership is suspended at the moment. Please contact a coordinator."
	case StatusLeft:
		return "This membership has ended. If you would like to rejoin, please contact the co-op."
	}
	return "You cannot sign in with this account. Please contact a coordinator."
}

func (a *Accounts) dummyHash() string {
	a.dummyOnce.Do(func() {
		a.dummy, _ = a.hasher.Hash("not a real password, only for timing")
	})
	return a.dummy
}

// Authenticate returns the member and session for a session token, extending the session's life.
// A missing, expired or ended session, or a member who is no longer active, is ErrUnauthenticated.
func (a *Accounts) Authenticate(ctx context.Context, token string) (Member, Session, error) {
	if token == "" {
		return Member{}, Session{}, ErrUnauthenticated
	}
	s, err := a.sessions.SessionByTokenHash(ctx, HashSecret(token))
	if errors.Is(err, ErrNotFound) {
		return Member{}, Session{}, ErrUnauthenticated
	}
	if err != nil {
		return Member{}, Session{}, err
	}
	now := a.clock.now()
	if !now.Before(s.ExpiresAt) {
		return Member{}, Session{}, ErrUnauthenticated
	}
	m, err := a.members.Member(ctx, s.MemberID)
	if errors.Is(err, ErrNotFound) {
		return Member{}, Session{}, ErrUnauthenticated
	}
	if err != nil {
		return Member{}, Session{}, err
	}
	if m.Status != StatusActive {
		return Member{}, Session{}, ErrUnauthenticated
	}
	if now.Sub(s.LastSeenAt) >= touchEvery {
		expires := now.Add(SessionIdle)
		if limit := s.CreatedAt.Add(SessionMax); expires.After(limit) {
			expires = limit
		}
		if err := a.sessions.TouchSession(ctx, s.ID, now, expires); err != nil {
			return Member{}, Session{}, err
		}
		s.LastSeenAt, s.ExpiresAt = now, expires
	}
	return m, s, nil
}

// SignOut ends the session with this token.
func (a *Accounts) SignOut(ctx context.Context, by Actor, token string) error {
	return a.tx.Transact(ctx, func(ctx context.Context) error {
		if err := a.sessions.DeleteSession(ctx, HashSecret(token)); err != nil {
			return err
		}
		return a.audit.Record(ctx, by, AuditSignOut, "member", by.ID, nil)
	})
}

// ChangePassword sets a new password after checking the current one, and ends the member's other
// sessions (keeping the one whose token is keepToken).
func (a *Accounts) ChangePassword(ctx context.Context, by Actor, current, next, keepToken string) error {
	m, err := a.members.Member(ctx, by.ID)
	if err != nil {
		return fmt.Errorf("change password: %w", err)
	}
	v := &ValidationError{}
	switch {
	case current == "":
		v.Add("current_password", "Enter your current password")
	case m.PasswordHash == "":
		v.Add("current_password", "Your account has no password yet; ask a coordinator to set one")
	default:
		// Someone with a stolen session must not be able to guess the password here either.
		attempt, err := a.limiter.Reserve(ctx, passwordChangeFailures.keyed(fmt.Sprintf("password:member:%d", m.ID)))
		if err != nil {
			return err
		}
		ok, err := a.hasher.Verify(m.PasswordHash, current)
		if err != nil {
			return fmt.Errorf("change password: %w", err)
		}
		if !ok {
			v.Add("current_password", "Your current password is not right")
		} else if err := a.limiter.Release(ctx, attempt); err != nil {
			return err
		}
	}
	CheckPassword(v, "new_password", next)
	if err := v.OrNil(); err != nil {
		return err
	}
	hash, err := a.hasher.Hash(next)
	if err != nil {
		return err
	}
	err = a.tx.Transact(ctx, func(ctx context.Context) error {
		if err := a.members.SetMemberPassword(ctx, m.ID, hash, a.clock.now()); err != nil {
			return err
		}
		if err := a.sessions.DeleteMemberSessions(ctx, m.ID, HashSecret(keepToken)); err != nil {
			return err
		}
		return a.audit.Record(ctx, by, AuditPasswordChanged, "member", m.ID, nil)
	})
	if err != nil {
		return fmt.Errorf("change password: %w", err)
	}
	return nil
}

// CreateAPIToken makes a new API token for an active member with this email and returns it; it
// cannot be shown again. Admins only (and the command line).
func (a *Accounts) CreateAPIToken(ctx context.Context, by Actor, email, name string) (string, Member, error) {
	if by.Role != RoleAdmin {
		return "", Member{}, ErrForbidden
	}
	email = NormaliseEmail(email)
	name = strings.TrimSpace(name)
	if name == "" {
		name = "API token"
	}
	m, err := a.members.MemberByEmail(ctx, email)
	if errors.Is(err, ErrNotFound) {
		return "", Member{}, Invalid("email", "No member has the email address %q", email)
	}
	if err != nil {
		return "", Member{}, err
	}
	if m.Status != StatusActive {
		return "", Member{}, Invalid("email", "%s is not an active member (their status is %s)", email, m.Status)
	}
	token, err := NewSecret(APITokenPrefix, 32)
	if err != nil {
		return "", Member{}, err
	}
	t := APIToken{MemberID: m.ID, Name: truncate(name, 100), TokenHash: HashSecret(token), CreatedBy: by.ID, CreatedAt: a.clock.now()}
	err = a.tx.Transact(ctx, func(ctx context.Context) error {
		if err := a.sessions.CreateAPIToken(ctx, &t); err != nil {
			return err
		}
		return a.audit.Record(ctx, by, AuditTokenCreated, "member", m.ID, map[string]string{"token_id": fmt.Sprint(t.ID), "name": t.Name})
	})
	if err != nil {
		return "", Member{}, fmt.Errorf("create API token: %w", err)
	}
	return token, m, nil
}

// AuthenticateAPIToken returns the member a bearer token acts for; an unknown or revoked token, or
// a member no longer active, is ErrUnauthenticated.
func (a *Accounts) AuthenticateAPIToken(ctx context.Context, token string) (Member, error) {
	if !strings.HasPrefix(token, APITokenPrefix) {
		return Member{}, ErrUnauthenticated
	}
	t, err := a.sessions.APITokenByHash(ctx, HashSecret(token))
	if errors.Is(err, ErrNotFound) {
		return Member{}, ErrUnauthenticated
	}
	if err != nil {
		return Member{}, err
	}
	if !t.RevokedAt.IsZero() {
		return Member{}, ErrUnauthenticated
	}
	m, err := a.members.Member(ctx, t.MemberID)
	if errors.Is(err, ErrNotFound) {
		return Member{}, ErrUnauthenticated
	}
	if err != nil {
		return Member{}, err
	}
	if m.Status != StatusActive {
		return Member{}, ErrUnauthenticated
	}
	if now := a.clock.now(); now.Sub(t.LastUsedAt) >= time.Minute {
		if err := a.sessions.TouchAPIToken(ctx, t.ID, now); err != nil {
			return Member{}, err
		}
	}
	return m, nil
}

// PruneSessions deletes sessions that have lapsed.
func (a *Accounts) PruneSessions(ctx context.Context) (int64, error) {
	return a.sessions.PruneSessions(ctx, a.clock.now())
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	// Cut on a rune boundary.
	for n > 0 && n < len(s) && s[n]&0xC0 == 0x80 {
		n--
	}
	return s[:n]
}
