package domain

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Setting a password through an emailed link: a coordinator sends one to someone they added
// (who has no password yet), or a member who has forgotten theirs asks for one. The link is
// stateless: it is signed with the platform's key over the member, its expiry and a fingerprint of
// the password hash the member has now, so that it cannot be forged, runs out, and stops working
// as soon as it is used (the hash changes).

// PasswordLinkLife is how long an emailed link to set a password works.
const PasswordLinkLife = 7 * 24 * time.Hour

// Audited actions of password links.
const (
	AuditPasswordLinkSent    = "password.link_sent"
	AuditPasswordLinkNotSent = "password.link_not_sent" // asked for on the forgotten-password page, and not sent
)

// setPasswordWhat is the MAC's purpose, so that a token is good for nothing else.
const setPasswordWhat = "set-password"

// Rate limits on asking for a link: every request counts, whether or not the address is a
// member's, so that the page can neither be used to mail someone over and over nor to test which
// addresses belong to members.
var (
	passwordLinkRequestsPerIP = Limit{Max: 20, Window: 15 * time.Minute,
		Message: "There have been too many requests for a password link from your network."}
	passwordLinkRequestsPerEmail = Limit{Max: 3, Window: time.Hour,
		Message: "We have had several requests for a password link for this email address in the last hour; check your inbox and spam folder for the links already sent."}
)

// EmailQueue writes emails to the outbox, in the caller's transaction when ctx carries one.
type EmailQueue interface {
	EnqueueEmails(ctx context.Context, now time.Time, emails []Email) error
}

// ErrPasswordLinkRefused is a link to set a password that is expired, used, forged or cut short.
// They are not told apart, so that the page says nothing about an account to someone guessing.
var ErrPasswordLinkRefused = &LinkRefusedError{Message: "This link has expired or has been used; ask for a new one."}

// PasswordSetPath is the page a link to set a password opens.
func PasswordSetPath(token string) string { return "/password/set?token=" + token }

// PasswordLink is what the page of a good link shows: whose account it is for.
type PasswordLink struct {
	Name    string // the member's first name
	Email   string // their address, which they sign in with (and a password manager saves)
	Expires time.Time
}

// SendPasswordLink emails a member a link to set their password, valid for PasswordLinkLife.
// Coordinators only (and the system). The member must be active and have an email address.
func (a *Accounts) SendPasswordLink(ctx context.Context, by Actor, memberID int64) error {
	if err := requireCoordinator(by); err != nil {
		return err
	}
	m, err := a.members.Member(ctx, memberID)
	if err != nil {
		return fmt.Errorf("send password link to member %d: %w", memberID, err)
	}
	if m.Email == "" {
		return Invalid("email", "%s has no email address, so there is nowhere to send a link to set a password", m.Name)
	}
	if m.Status != StatusActive {
		return &ConflictError{Message: fmt.Sprintf("%s is not an active member (their membership is %s), so they could not sign in with a password.",
			m.Name, strings.ToLower(m.Status.Label()))}
	}
	data := map[string]string{}
	if by.ID != 0 {
		data[EmailDataWho] = Member{Name: by.Name}.FirstName()
	}
	if err := a.sendPasswordLink(ctx, by, m, data, "coordinator"); err != nil {
		return fmt.Errorf("send password link to member %d: %w", memberID, err)
	}
	return nil
}

// ForgotPassword emails a link to set a new password to the active member with this address, if
// there is one. The answer is the same whether or not there is, so that the page does not tell
// who is a member; only a malformed address or too many requests are errors.
func (a *Accounts) ForgotPassword(ctx context.Context, email string, from Origin) error {
	email = NormaliseEmail(email)
	v := &ValidationError{}
	checkEmail(v, "email", email, true)
	if err := v.OrNil(); err != nil {
		return err
	}
	visitor := Actor{Name: email, IP: from.IP, RequestID: from.RequestID}
	notSent := func(subject int64, why string) error {
		return a.audit.Record(ctx, visitor, AuditPasswordLinkNotSent, "member", subject, map[string]string{"email": email, "why": why})
	}
	_, err := a.limiter.Reserve(ctx,
		passwordLinkRequestsPerIP.keyed("password-link:ip:"+from.IP),
		passwordLinkRequestsPerEmail.keyed("password-link:email:"+email))
	if err != nil {
		var rl *RateLimitError
		if errors.As(err, &rl) {
			if aerr := notSent(0, "rate limited"); aerr != nil {
				return aerr
			}
		}
		return err
	}
	m, err := a.members.MemberByEmail(ctx, email)
	if errors.Is(err, ErrNotFound) {
		return notSent(0, "unknown email")
	}
	if err != nil {
		return fmt.Errorf("forgot password: %w", err)
	}
	if m.Status != StatusActive {
		return notSent(m.ID, "status "+string(m.Status))
	}
	if err := a.sendPasswordLink(ctx, visitor, m, nil, "the member"); err != nil {
		return fmt.Errorf("forgot password: %w", err)
	}
	return nil
}

// sendPasswordLink writes the email and its audit record together.
func (a *Accounts) sendPasswordLink(ctx context.Context, by Actor, m Member, data map[string]string, askedBy string) error {
	if len(a.key) == 0 {
		return errors.New("no secret key to sign password links with")
	}
	now := a.clock.now()
	expires := now.Add(PasswordLinkLife).Truncate(time.Second)
	link := PasswordSetPath(a.passwordToken(m, expires))
	return a.tx.Transact(ctx, func(ctx context.Context) error {
		if err := a.emails.EnqueueEmails(ctx, now, []Email{{MemberID: m.ID, Kind: EmailSetPassword, Data: data, Link: link}}); err != nil {
			return err
		}
		return a.audit.Record(ctx, by, AuditPasswordLinkSent, "member", m.ID,
			map[string]string{"asked_by": askedBy, "expires": expires.Format(time.RFC3339)})
	})
}

// passwordToken is member.expiry.signature; the signature covers the fingerprint of the member's
// password hash too, which the token does not carry.
func (a *Accounts) passwordToken(m Member, expires time.Time) string {
	id, exp := strconv.FormatInt(m.ID, 10), strconv.FormatInt(expires.Unix(), 10)
	return id + "." + exp + "." + linkMAC(a.key, setPasswordWhat, id, exp, passwordFingerprint(m.PasswordHash))
}

// passwordFingerprint stands for a password hash in a link's signature: any new password (even
// the same one again, with a new salt) changes it.
func passwordFingerprint(hash string) string {
	sum := sha256.Sum256([]byte("password-fingerprint\x00" + hash))
	return hex.EncodeToString(sum[:])
}

// readPasswordLink checks a token and returns the member it is for, or ErrPasswordLinkRefused.
func (a *Accounts) readPasswordLink(ctx context.Context, token string) (Member, time.Time, error) {
	parts := strings.Split(strings.TrimSpace(token), ".")
	if len(parts) != 3 {
		return Member{}, time.Time{}, ErrPasswordLinkRefused
	}
	id, err1 := strconv.ParseInt(parts[0], 10, 64)
	exp, err2 := strconv.ParseInt(parts[1], 10, 64)
	if err1 != nil || err2 != nil || id <= 0 || exp <= 0 {
		return Member{}, time.Time{}, ErrPasswordLinkRefused
	}
	expires := time.Unix(exp, 0).UTC()
	if !a.clock.now().Before(expires) {
		return Member{}, time.Time{}, ErrPasswordLinkRefused
	}
	m, err := a.members.Member(ctx, id)
	if errors.Is(err, ErrNotFound) {
		return Member{}, time.Time{}, ErrPasswordLinkRefused
	}
	if err != nil {
		return Member{}, time.Time{}, fmt.Errorf("password link: %w", err)
	}
	if !linkMACValid(a.key, parts[2], setPasswordWhat, parts[0], parts[1], passwordFingerprint(m.PasswordHash)) ||
		m.Status != StatusActive {
		return Member{}, time.Time{}, ErrPasswordLinkRefused
	}
	return m, expires, nil
}

// CheckPasswordLink reads a link to set a password, changing nothing (mail scanners open links
// before people do): whose it is, or ErrPasswordLinkRefused. The link is the permission.
func (a *Accounts) CheckPasswordLink(ctx context.Context, token string) (PasswordLink, error) {
	m, expires, err := a.readPasswordLink(ctx, token)
	if err != nil {
		return PasswordLink{}, err
	}
	return PasswordLink{Name: m.FirstName(), Email: m.Email, Expires: expires}, nil
}

// SetPasswordWithLink sets the password of the member a link is for, and ends all their sessions
// (whoever had one no longer holds the password it was opened with). The link then no longer
// works. A link that cannot be used is ErrPasswordLinkRefused; a poor password, a ValidationError
// on "password".
func (a *Accounts) SetPasswordWithLink(ctx context.Context, token, password string, from Origin) error {
	m, _, err := a.readPasswordLink(ctx, token)
	if err != nil {
		return err
	}
	v := &ValidationError{}
	CheckPassword(v, "password", password)
	if err := v.OrNil(); err != nil {
		return err
	}
	hash, err := a.hasher.Hash(password)
	if err != nil {
		return err
	}
	by := Actor{ID: m.ID, Name: m.Name, Role: m.Role, IP: from.IP, RequestID: from.RequestID}
	err = a.tx.Transact(ctx, func(ctx context.Context) error {
		if err := a.members.ReplaceMemberPassword(ctx, m.ID, m.PasswordHash, hash, a.clock.now()); err != nil {
			return err
		}
		if err := a.sessions.DeleteMemberSessions(ctx, m.ID, ""); err != nil {
			return err
		}
		return a.audit.Record(ctx, by, AuditPasswordChanged, "member", m.ID, map[string]string{"how": "emailed link"})
	})
	if errors.Is(err, ErrConflict) {
		return ErrPasswordLinkRefused // used a moment ago, by another request
	}
	if err != nil {
		return fmt.Errorf("set password with link: %w", err)
	}
	return nil
}
