package domain

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Safeguarding keeps the co-op's safeguarding records: the checks coordinators verify (never the
// disclosures themselves), and the concerns anyone signed in can raise, which only coordinators
// see and which are never shown to the person they concern.

// The kinds of check the co-op records: the Disclosure and Barring Service (England and Wales),
// Disclosure Scotland's PVG scheme, and AccessNI (Northern Ireland).
var CheckKinds = []string{"DBS", "PVG", "AccessNI"}

// CheckLevels are the levels of disclosure a check was made at.
var CheckLevels = []string{"basic", "standard", "enhanced"}

// Limits of what a check and a concern hold.
const (
	// MaxCertificateDigits is the longest certificate number accepted (a DBS number has 12 digits).
	MaxCertificateDigits = 20
	// MinCertificateDigits is the shortest certificate number accepted.
	MinCertificateDigits = 6
	// CheckDueWithin is how far ahead coordinators are told of a check's re-check date.
	CheckDueWithin = 30 * 24 * time.Hour
	// MaxConcernLen is the most characters a concern's account of what happened may have.
	MaxConcernLen = 4000
	// MaxHandledNoteLen is the most characters a coordinator's note on handling a concern may have.
	MaxHandledNoteLen = 2000
)

// Audited safeguarding actions. A concern's events name the concern, never what it is about or
// whom, so that the audit log cannot tell a coordinator that a concern is about them.
const (
	AuditCheckRecorded  = "check.recorded"
	AuditConcernRaised  = "concern.raised"
	AuditConcernViewed  = "concern.viewed"
	AuditConcernHandled = "concern.handled"
)

// CheckInput is a check as a coordinator types it in; the service checks every field.
type CheckInput struct {
	Kind              string
	Level             string
	CertificateNumber string
	IssuedOn          string // YYYY-MM-DD
	ExpiresOn         string // YYYY-MM-DD: the re-check date
	UpdateService     bool
}

// CheckView is a check with the name of the coordinator who verified it.
type CheckView struct {
	Check
	VerifiedByName string
}

// CheckDue is a member's latest check when its re-check date is near or, for a helper with an
// active offer that needs a check, already past.
type CheckDue struct {
	Check
	MemberName string
	// Lapsed: the re-check date has passed and the member still offers support that needs a check.
	Lapsed bool
}

// SafeguardingStore keeps checks and concerns, and reads what a concern may be about.
type SafeguardingStore interface {
	Member(ctx context.Context, id int64) (Member, error)
	Request(ctx context.Context, id int64) (Request, error)
	Offer(ctx context.Context, id int64) (Offer, error)
	MemberChecks(ctx context.Context, memberID int64) ([]Check, error)
	AddCheck(ctx context.Context, c *Check) error
	// ChecksDue lists each active member's latest check whose re-check date is before `before`,
	// and is on or after `today` or belongs to someone with an active offer in a category that
	// needs a check; soonest re-check date first, at most limit. Lapsed is left for the caller.
	ChecksDue(ctx context.Context, today, before time.Time, limit int) ([]CheckDue, error)

	CreateConcern(ctx context.Context, c *Concern) error
	Concern(ctx context.Context, id int64) (ConcernListing, error)
	// ListConcerns lists concerns, open ones first, then newest first.
	ListConcerns(ctx context.Context, q ConcernQuery) ([]ConcernListing, error)
	// CountOpenConcerns counts concerns not yet handled, leaving out those about notAbout.
	CountOpenConcerns(ctx context.Context, notAbout int64) (int, error)
	// HandleConcern marks an open concern handled (ErrConflict when it already is).
	HandleConcern(ctx context.Context, id, by int64, note string, at time.Time) error
	// MatchParties says who asked for support in a match and who helps.
	MatchParties(ctx context.Context, matchID int64) (requesterID, helperID int64, err error)
}

// Safeguarding runs checks and concerns.
type Safeguarding struct {
	store SafeguardingStore
	tx    Transactor
	audit *Audit
	clock Clock
	loc   *time.Location
}

// NewSafeguarding returns the safeguarding service; loc is the co-op's time zone, in which "today" is read.
func NewSafeguarding(store SafeguardingStore, tx Transactor, audit *Audit, clock Clock, loc *time.Location) *Safeguarding {
	if loc == nil {
		loc = time.UTC
	}
	return &Safeguarding{store: store, tx: tx, audit: audit, clock: clock, loc: loc}
}

// today is the co-op's calendar date as dates are stored: midnight UTC.
func (s *Safeguarding) today() time.Time {
	t := s.clock.now().In(s.loc)
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
}

// knownName returns the entry of list equal to raw whatever its case, or "".
func knownName(list []string, raw string) string {
	raw = strings.TrimSpace(raw)
	for _, k := range list {
		if strings.EqualFold(k, raw) {
			return k
		}
	}
	return ""
}

// parseCheckDate reads a YYYY-MM-DD date as midnight UTC, adding a message for field when it cannot.
func parseCheckDate(v *ValidationError, field, label, raw string) (time.Time, bool) {
	raw = strings.TrimSpace(raw)
	if raw == "" {
		v.Add(field, "Give the %s", label)
		return time.Time{}, false
	}
	d, err := time.Parse(dateLayout, raw)
	if err != nil {
		v.Add(field, "Give the %s as YYYY-MM-DD, such as 2026-03-14", label)
		return time.Time{}, false
	}
	return d, true
}

// validate checks a check's fields and returns it ready to store (without who verified it).
func (in CheckInput) validate(today time.Time) (Check, error) {
	v := &ValidationError{}
	c := Check{Kind: knownName(CheckKinds, in.Kind), Level: knownName(CheckLevels, in.Level), UpdateService: in.UpdateService}
	switch {
	case strings.TrimSpace(in.Kind) == "":
		v.Add("kind", "Choose the kind of check: %s", strings.Join(CheckKinds, ", "))
	case c.Kind == "":
		v.Add("kind", "Choose the kind of check from the list (%s); %q is not one", strings.Join(CheckKinds, ", "), strings.TrimSpace(in.Kind))
	}
	switch {
	case strings.TrimSpace(in.Level) == "":
		v.Add("level", "Choose the level of the check: basic, standard or enhanced")
	case c.Level == "":
		v.Add("level", "Choose the level of the check from the list: basic, standard or enhanced")
	}
	number := strings.Join(strings.Fields(in.CertificateNumber), "")
	switch {
	case number == "":
		v.Add("certificate_number", "Give the certificate number, as printed on the certificate")
	case strings.Trim(number, "0123456789") != "":
		v.Add("certificate_number", "The certificate number must be digits only, as printed on the certificate")
	case len(number) < MinCertificateDigits || len(number) > MaxCertificateDigits:
		v.Add("certificate_number", "The certificate number must have between %d and %d digits", MinCertificateDigits, MaxCertificateDigits)
	}
	c.CertificateNumber = number
	issued, okIssued := parseCheckDate(v, "issued_on", "date the certificate was issued", in.IssuedOn)
	expires, okExpires := parseCheckDate(v, "expires_on", "re-check date", in.ExpiresOn)
	if okIssued && issued.After(today) {
		v.Add("issued_on", "The date the certificate was issued cannot be in the future")
	}
	if okIssued && okExpires && expires.Before(issued) {
		v.Add("expires_on", "The re-check date cannot be before the date the certificate was issued")
	}
	c.IssuedOn, c.ExpiresOn = issued, expires
	return c, v.OrNil()
}

// RecordCheck records a check a coordinator has verified for a member; the coordinator and the
// time are recorded as its verification. Coordinators only.
func (s *Safeguarding) RecordCheck(ctx context.Context, by Actor, memberID int64, in CheckInput) (Check, error) {
	if err := requireCoordinator(by); err != nil {
		return Check{}, err
	}
	m, err := s.store.Member(ctx, memberID)
	if err != nil {
		return Check{}, fmt.Errorf("record a check for member %d: %w", memberID, err)
	}
	c, err := in.validate(s.today())
	if err != nil {
		return Check{}, err
	}
	now := s.clock.now()
	c.MemberID, c.VerifiedBy, c.VerifiedAt, c.CreatedAt = m.ID, by.ID, now, now
	err = s.tx.Transact(ctx, func(ctx context.Context) error {
		if err := s.store.AddCheck(ctx, &c); err != nil {
			return err
		}
		return s.audit.Record(ctx, by, AuditCheckRecorded, "member", m.ID, map[string]string{
			"check": strconv.FormatInt(c.ID, 10), "kind": c.Kind, "level": c.Level, "expires_on": c.ExpiresOn.Format(dateLayout)})
	})
	if err != nil {
		return Check{}, fmt.Errorf("record a check for member %d: %w", memberID, err)
	}
	return c, nil
}

// MemberChecks lists a member's checks, latest re-check date first: to coordinators, and to the
// member themself. Anyone else is told there is nothing here, as for any record they may not see.
func (s *Safeguarding) MemberChecks(ctx context.Context, by Actor, memberID int64) ([]CheckView, error) {
	if by.ID != memberID && !by.Role.Coordinates() {
		return nil, fmt.Errorf("checks of member %d: %w", memberID, ErrNotFound)
	}
	if _, err := s.store.Member(ctx, memberID); err != nil {
		return nil, fmt.Errorf("checks of member %d: %w", memberID, err)
	}
	checks, err := s.store.MemberChecks(ctx, memberID)
	if err != nil {
		return nil, fmt.Errorf("checks of member %d: %w", memberID, err)
	}
	names := map[int64]string{}
	out := make([]CheckView, len(checks))
	for i, c := range checks {
		out[i] = CheckView{Check: c}
		if c.VerifiedBy == 0 {
			continue
		}
		name, ok := names[c.VerifiedBy]
		if !ok {
			v, err := s.store.Member(ctx, c.VerifiedBy)
			if err != nil && !errors.Is(err, ErrNotFound) {
				return nil, fmt.Errorf("checks of member %d: %w", memberID, err)
			}
			name, names[c.VerifiedBy] = v.Name, v.Name
		}
		out[i].VerifiedByName = name
	}
	return out, nil
}

// ChecksDue lists the checks coordinators should renew: each active member's latest check whose
// re-check date falls within CheckDueWithin, and those already past for helpers still offering
// support that needs a check; soonest first. Coordinators only.
func (s *Safeguarding) ChecksDue(ctx context.Context, by Actor, limit int) ([]CheckDue, error) {
	if err := requireCoordinator(by); err != nil {
		return nil, err
	}
	if limit <= 0 || limit > MaxPageSize {
		limit = DefaultPageSize
	}
	today := s.today()
	checks, err := s.store.ChecksDue(ctx, today, today.Add(CheckDueWithin+24*time.Hour), limit)
	if err != nil {
		return nil, fmt.Errorf("checks due: %w", err)
	}
	for i := range checks {
		checks[i].Lapsed = checks[i].ExpiresOn.Before(today)
	}
	return checks, nil
}
