package domain

import (
	"net/mail"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Role says what a person may do on the platform.
type Role string

// The roles. An admin can do everything a coordinator can, and also change roles.
const (
	RoleMember      Role = "member"
	RoleCoordinator Role = "coordinator"
	RoleServices    Role = "services"
	RoleAdmin       Role = "admin"
)

// Roles lists every role, in the order they are offered on forms.
var Roles = []Role{RoleMember, RoleCoordinator, RoleServices, RoleAdmin}

// Valid reports whether r is a known role.
func (r Role) Valid() bool {
	for _, k := range Roles {
		if r == k {
			return true
		}
	}
	return false
}

// Coordinates reports whether the role may do coordinators' work (coordinators and admins).
func (r Role) Coordinates() bool { return r == RoleCoordinator || r == RoleAdmin }

// Label is the role as shown to people.
func (r Role) Label() string {
	switch r {
	case RoleMember:
		return "Member"
	case RoleCoordinator:
		return "Coordinator"
	case RoleServices:
		return "Formal services"
	case RoleAdmin:
		return "Administrator"
	}
	return string(r)
}

// MemberStatus is where a person is in their membership.
type MemberStatus string

// The membership statuses. Only active members can sign in.
const (
	StatusApplicant MemberStatus = "applicant"
	StatusActive    MemberStatus = "active"
	StatusDeclined  MemberStatus = "declined"
	StatusSuspended MemberStatus = "suspended"
	StatusLeft      MemberStatus = "left"
)

// MemberStatuses lists every status.
var MemberStatuses = []MemberStatus{StatusApplicant, StatusActive, StatusDeclined, StatusSuspended, StatusLeft}

// Valid reports whether s is a known status.
func (s MemberStatus) Valid() bool {
	for _, k := range MemberStatuses {
		if s == k {
			return true
		}
	}
	return false
}

// Label is the status as shown to people.
func (s MemberStatus) Label() string {
	switch s {
	case StatusApplicant:
		return "Waiting for approval"
	case StatusActive:
		return "Active"
	case StatusDeclined:
		return "Declined"
	case StatusSuspended:
		return "Suspended"
	case StatusLeft:
		return "Left"
	}
	return string(s)
}

// Member is a person known to the co-op: an applicant, a member, a coordinator, a services user.
type Member struct {
	ID     int64
	Name   string
	Email  string // lower case; empty for someone added by a coordinator who has no email
	Phone  string
	Role   Role
	Status MemberStatus
	AreaID int64 // 0 when none
	// PasswordHash is an argon2id PHC string, empty when the person cannot sign in with a password.
	PasswordHash string
	// JoinReason is what the applicant wrote about why they want to join.
	JoinReason string
	// DecisionReason is the coordinator's reason for a decline, told to the applicant.
	DecisionReason string
	DecidedBy      int64 // the coordinator who approved or declined, 0 when none
	DecidedAt      time.Time
	AddedBy        int64 // the coordinator who added this member directly, 0 when they applied
	// Synthetic marks a member made by `coop seed` for load tests, not a real person.
	Synthetic bool
	// Services are the formal services a services user answers for: filled in when they sign in
	// (ServicePeople.Scope), not stored with the member.
	Services  []int64
	CreatedAt time.Time
	UpdatedAt time.Time
}

// FirstName is the part of the name shown to neighbours.
func (m Member) FirstName() string {
	name := strings.TrimSpace(m.Name)
	if i := strings.IndexFunc(name, unicode.IsSpace); i > 0 {
		return name[:i]
	}
	return name
}

// SearchKey is what a search of the member list matches against: the name, email and phone,
// folded to lower case here (not in SQL, whose lower() differs between databases for letters
// such as É).
func (m Member) SearchKey() string {
	return strings.ToLower(m.Name + "\n" + m.Email + "\n" + m.Phone)
}

// NormaliseSearch folds a search the same way as SearchKey.
func NormaliseSearch(q string) string { return strings.ToLower(strings.TrimSpace(q)) }

// CanSignIn reports whether the member may have a session.
func (m Member) CanSignIn() bool { return m.Status == StatusActive && m.PasswordHash != "" }

// ConsentKind names what a consent is for; each kind is recorded separately.
type ConsentKind string

// ConsentDataHolding is the consent every member gives for the co-op to hold their data.
const ConsentDataHolding ConsentKind = "data-holding"

// DataHoldingConsentWording is the wording a person agrees to when they apply or are added.
// Its text is stored with each consent, so changing it here does not change what people agreed to.
const DataHoldingConsentWording = "I agree that the co-op may keep my name, contact details, area and " +
	"what I tell it about the support I offer or need, to run the exchange. Only coordinators see my " +
	"contact details unless I agree to a match. I can ask for a copy of what is held about me, or ask " +
	"to leave and have it erased, at any time."

// Consent is one agreement a person gave, with the exact wording and when.
type Consent struct {
	ID          int64
	MemberID    int64
	Kind        ConsentKind
	Wording     string
	GivenAt     time.Time
	RecordedBy  int64 // a coordinator who recorded consent given by phone or in person, 0 when self
	WithdrawnAt time.Time
}

const (
	maxNameLen   = 100
	maxEmailLen  = 254
	maxReasonLen = 2000
)

// NormaliseEmail trims and lower-cases an email address, so that uniqueness is case-insensitive.
func NormaliseEmail(s string) string { return strings.ToLower(strings.TrimSpace(s)) }

// checkName validates a person's name into v.
func checkName(v *ValidationError, field, name string) {
	switch n := utf8.RuneCountInString(name); {
	case n == 0:
		v.Add(field, "Enter a name")
	case n > maxNameLen:
		v.Add(field, "Name must be %d characters or fewer", maxNameLen)
	case strings.ContainsFunc(name, unicode.IsControl):
		v.Add(field, "Name must not contain control characters")
	}
}

// checkEmail validates an already normalised email address into v.
func checkEmail(v *ValidationError, field, email string, required bool) {
	if email == "" {
		if required {
			v.Add(field, "Enter an email address")
		}
		return
	}
	if len(email) > maxEmailLen {
		v.Add(field, "Email address must be %d characters or fewer", maxEmailLen)
		return
	}
	addr, err := mail.ParseAddress(email)
	at := strings.LastIndexByte(email, '@')
	if err != nil || addr.Address != email || at < 1 || !strings.Contains(email[at+1:], ".") ||
		strings.HasSuffix(email, ".") {
		v.Add(field, "Enter an email address in the right format, like name@example.com")
	}
}

// checkPhone validates a phone number (digits with optional spaces, brackets, dashes, a leading +).
func checkPhone(v *ValidationError, field, phone string, required bool) {
	if phone == "" {
		if required {
			v.Add(field, "Enter a phone number")
		}
		return
	}
	digits := 0
	for i, r := range phone {
		switch {
		case r >= '0' && r <= '9':
			digits++
		case r == ' ' || r == '-' || r == '(' || r == ')':
		case r == '+' && i == 0:
		default:
			v.Add(field, "Enter a phone number using digits, spaces and an optional + at the start")
			return
		}
	}
	if digits < 7 || digits > 15 {
		v.Add(field, "Enter a phone number with between 7 and 15 digits, like 01632 960 123")
	}
}

// checkText validates free text with a maximum length; required text must not be blank.
func checkText(v *ValidationError, field, text string, required bool, max int, missing string) {
	n := utf8.RuneCountInString(text)
	switch {
	case n == 0 && required:
		v.Add(field, "%s", missing)
	case n > max:
		v.Add(field, "Must be %d characters or fewer (you wrote %d)", max, n)
	}
}

// Public is what a neighbour sees of a member before a match is agreed: the first name only.
func (m Member) Public() Member {
	return Member{ID: m.ID, Name: m.FirstName(), Role: m.Role, Status: m.Status, AreaID: m.AreaID}
}
