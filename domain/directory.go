package domain

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/coop-exchange/coop/domain/openreferral"
)

// ServiceSource is where a formal service's record came from.
type ServiceSource string

// The sources of services.
const (
	SourceManual ServiceSource = "manual" // typed in by a coordinator
	SourceHSDS   ServiceSource = "hsds"   // imported from HSDS 3.x / ORUK 3.0
	SourceORUK1  ServiceSource = "oruk1"  // imported from an ORUK v1 feed
)

// Service is a formal service (council social care, an NHS community team, a charity) that
// needs the community cannot meet can be escalated to.
type Service struct {
	ID           int64
	Source       ServiceSource
	SourceID     string // the directory's id (HSDS service.id); "" for a service typed in
	Organisation string
	Name         string
	Description  string // plain text
	// TaxonomyTerms are what routing compares with a category's terms: the directory's terms
	// and any a coordinator added.
	TaxonomyTerms []string
	// DirectoryTerms are the terms the directory gave at the last import.
	DirectoryTerms         []string
	AreaIDs                []int64
	MinAge, MaxAge         *int
	EligibilityDescription string
	Priority               int // 0-100; higher is tried first
	// Email and WebhookURL are the escalation contact, set by a coordinator.
	Email      string
	WebhookURL string
	// DirectoryEmail is the address the directory publishes: for asking about the service, not
	// assumed to accept referrals.
	DirectoryEmail string
	Active         bool
	Fallback       bool
	LastModified   time.Time // as the directory says; zero when unknown
	CreatedAt      time.Time
	UpdatedAt      time.Time
}

// HasContact reports whether an escalation can reach the service: by webhook or by email.
func (s Service) HasContact() bool { return s.Email != "" || s.WebhookURL != "" }

// Routable reports whether escalations may be sent to the service: it is active and has a
// contact.
func (s Service) Routable() bool { return s.Active && s.HasContact() }

// Imported reports whether the service came from a directory.
func (s Service) Imported() bool { return s.Source != SourceManual && s.Source != "" }

// TakesAge reports whether a person of this age is within the service's ages; an unknown age
// (nil) is taken to be.
func (s Service) TakesAge(age *int) bool {
	if age == nil {
		return true
	}
	return (s.MinAge == nil || *age >= *s.MinAge) && (s.MaxAge == nil || *age <= *s.MaxAge)
}

// CoversArea reports whether the service covers the area.
func (s Service) CoversArea(areaID int64) bool { return slices.Contains(s.AreaIDs, areaID) }

// TakesOn reports whether one of the service's taxonomy terms is one of the category's.
func (s Service) TakesOn(c Category) bool { return TermsOverlap(c.TaxonomyTerms, s.TaxonomyTerms) }

var esdServiceURI = regexp.MustCompile(`^id\.esd\.org\.uk/service/(\d+)$`)

// TermKey is the form in which two taxonomy terms are compared: case and white space do not
// count, nor http or https, and an LGA service type's URI (http://id.esd.org.uk/service/298)
// is the same term as its CURIE (esdServiceType:298).
func TermKey(t string) string {
	t = strings.ToLower(strings.Join(strings.Fields(t), ""))
	t = strings.TrimSuffix(strings.TrimPrefix(strings.TrimPrefix(t, "https://"), "http://"), "/")
	if m := esdServiceURI.FindStringSubmatch(t); m != nil {
		return "esdservicetype:" + m[1]
	}
	return t
}

// TermsOverlap reports whether the two lists share a term (compared by TermKey).
func TermsOverlap(a, b []string) bool {
	keys := map[string]bool{}
	for _, t := range a {
		if k := TermKey(t); k != "" {
			keys[k] = true
		}
	}
	for _, t := range b {
		if keys[TermKey(t)] {
			return true
		}
	}
	return false
}

// ServiceInput is what a coordinator gives to add a service.
type ServiceInput struct {
	Name                   string
	Organisation           string
	Description            string
	TaxonomyTerms          []string
	AreaIDs                []int64
	MinAge, MaxAge         *int
	EligibilityDescription string
	Priority               int
	Email                  string
	WebhookURL             string
	Active                 bool
}

// ServicePatch changes some fields of a service; nil fields are left as they are. A zero
// MinAge/MaxAge pointer to a pointer clears nothing: use ClearMinAge/ClearMaxAge.
type ServicePatch struct {
	Name                   *string
	Organisation           *string
	Description            *string
	TaxonomyTerms          *[]string
	AreaIDs                *[]int64
	MinAge, MaxAge         *int
	ClearMinAge            bool
	ClearMaxAge            bool
	EligibilityDescription *string
	Priority               *int
	Email                  *string
	WebhookURL             *string
	Active                 *bool
}

// ServiceQuery selects services, by id.
type ServiceQuery struct {
	Active   *bool // only active (true) or inactive (false) ones
	Routable *bool // only those escalations can be sent to (true), or those they cannot (false)
	Page     PageQuery
}

// Limits of a service's fields.
const (
	MaxServicePriority   = 100
	maxServiceNameLen    = 200
	maxServiceTextLen    = 4000
	maxWebhookURLLen     = 2000
	maxPlausibleAge      = 120
	webhookSecretPrefix  = "whsec_"
	webhookSecretEntropy = 32
)

// Normalised trims the text fields and drops blank and repeated terms and areas.
func (in ServiceInput) Normalised() ServiceInput {
	in.Name = strings.Join(strings.Fields(in.Name), " ")
	in.Organisation = strings.Join(strings.Fields(in.Organisation), " ")
	in.Description = strings.TrimSpace(in.Description)
	in.EligibilityDescription = strings.TrimSpace(in.EligibilityDescription)
	in.TaxonomyTerms = normaliseTerms(in.TaxonomyTerms)
	in.Email = strings.TrimSpace(in.Email)
	in.WebhookURL = strings.TrimSpace(in.WebhookURL)
	ids := slices.Clone(in.AreaIDs)
	slices.Sort(ids)
	in.AreaIDs = slices.Compact(ids)
	if in.AreaIDs == nil {
		in.AreaIDs = []int64{}
	}
	return in
}

// Validate adds a message to v for each invalid field of a normalised input; areas are the
// co-op's areas, which AreaIDs must be among.
func (in ServiceInput) Validate(v *ValidationError, areas []Area) {
	switch n := utf8.RuneCountInString(in.Name); {
	case n == 0:
		v.Add("name", "Enter the service's name")
	case n > maxServiceNameLen:
		v.Add("name", "Name must be %d characters or fewer", maxServiceNameLen)
	}
	if utf8.RuneCountInString(in.Organisation) > maxServiceNameLen {
		v.Add("organisation", "Organisation must be %d characters or fewer", maxServiceNameLen)
	}
	if utf8.RuneCountInString(in.Description) > maxServiceTextLen {
		v.Add("description", "Description must be %d characters or fewer", maxServiceTextLen)
	}
	if utf8.RuneCountInString(in.EligibilityDescription) > maxServiceTextLen {
		v.Add("eligibility_description", "Eligibility must be %d characters or fewer", maxServiceTextLen)
	}
	checkTerms(v, in.TaxonomyTerms)
	known := map[int64]bool{}
	for _, a := range areas {
		known[a.ID] = true
	}
	for _, id := range in.AreaIDs {
		if !known[id] {
			v.Add("area_ids", "There is no area with id %d; choose among the co-op's areas", id)
			break
		}
	}
	checkAge(v, "min_age", in.MinAge)
	checkAge(v, "max_age", in.MaxAge)
	if in.MinAge != nil && in.MaxAge != nil && !v.Has("min_age") && !v.Has("max_age") && *in.MinAge > *in.MaxAge {
		v.Add("max_age", "The maximum age must be the same as or above the minimum age (%d)", *in.MinAge)
	}
	if in.Priority < 0 || in.Priority > MaxServicePriority {
		v.Add("priority", "Priority must be a whole number from 0 to %d (higher is tried first)", MaxServicePriority)
	}
	checkEmail(v, "email", in.Email, false)
	if in.WebhookURL != "" {
		if msg := webhookURLProblem(in.WebhookURL); msg != "" {
			v.Add("webhook_url", "%s", msg)
		}
	}
}

func checkAge(v *ValidationError, field string, age *int) {
	if age != nil && (*age < 0 || *age > maxPlausibleAge) {
		v.Add(field, "An age must be a whole number from 0 to %d", maxPlausibleAge)
	}
}

// webhookURLProblem says, for the services form, what is wrong with a webhook address, or ""
// when it can be used (the rule of CheckWebhookURL, in words for a coordinator):
// https://, or http:// only to this machine (localhost, 127.0.0.1), for testing.
func webhookURLProblem(raw string) string {
	if len(raw) > maxWebhookURLLen {
		return fmt.Sprintf("The webhook address must be %d characters or fewer", maxWebhookURLLen)
	}
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || u.Opaque != "" {
		return "Enter the webhook's full address, like https://referrals.example.org/coop"
	}
	switch u.Scheme {
	case "https":
	case "http":
		if !openreferral.IsLoopback(u.Hostname()) {
			return "The webhook address must start with https:// (http:// is allowed only for localhost, for testing)"
		}
	default:
		return "The webhook address must start with https://"
	}
	if u.User != nil {
		return "The webhook address must not hold a user name or password; the service checks our signature instead"
	}
	if u.Fragment != "" {
		return "The webhook address must not have a #fragment"
	}
	return ""
}

// DirectoryStore keeps the directory of formal services.
type DirectoryStore interface {
	Services(ctx context.Context, q ServiceQuery) ([]Service, error)
	Service(ctx context.Context, id int64) (Service, error)
	ServicesBySourceID(ctx context.Context, ids []string) (map[string]Service, error)
	CreateService(ctx context.Context, s *Service, webhookSecret string) error
	// UpdateService writes every field but the webhook secret and the fallback mark.
	UpdateService(ctx context.Context, s Service) error
	SetWebhookSecret(ctx context.Context, id int64, secret string) error
	WebhookSecret(ctx context.Context, id int64) (string, error)
	// SetFallback marks the service as the fallback and unmarks any other; 0 unmarks all.
	SetFallback(ctx context.Context, id int64) error
	FallbackService(ctx context.Context) (Service, error)
	// RoutableServicesInArea are the active services with a contact that cover the area.
	RoutableServicesInArea(ctx context.Context, areaID int64) ([]Service, error)
	RecordServiceImport(ctx context.Context, imp *ServiceImport) error
	LastServiceImport(ctx context.Context, source string) (ServiceImport, error)
}

// AreaLister lists the co-op's areas.
type AreaLister interface {
	Areas(ctx context.Context) ([]Area, error)
}

// Audited directory actions.
const (
	AuditServiceChanged   = "service.changed"
	AuditServiceSecret    = "service.secret_made"
	AuditServicesImported = "services.imported"
)

// Directory is the co-op's directory of formal services. Coordinators read and change it; the
// escalation step routes through it.
type Directory struct {
	store  DirectoryStore
	areas  AreaLister
	tx     Transactor
	audit  *Audit
	clock  Clock
	reader *openreferral.Reader
	client openreferral.Doer
}

// NewDirectory returns the directory service. reader parses Open Referral files and feeds;
// client fetches feeds.
func NewDirectory(store DirectoryStore, areas AreaLister, tx Transactor, audit *Audit, clock Clock, reader *openreferral.Reader, client openreferral.Doer) *Directory {
	return &Directory{store: store, areas: areas, tx: tx, audit: audit, clock: clock, reader: reader, client: client}
}

// List returns a page of services, by id. Coordinators only.
func (d *Directory) List(ctx context.Context, by Actor, q ServiceQuery) (Page[Service], error) {
	if err := requireCoordinator(by); err != nil {
		return Page[Service]{}, err
	}
	q.Page = q.Page.Normalised()
	page := q.Page
	q.Page.Limit++
	rows, err := d.store.Services(ctx, q)
	if err != nil {
		return Page[Service]{}, fmt.Errorf("list services: %w", err)
	}
	return PageOf(rows, page, func(s Service) int64 { return s.ID }), nil
}

// Get returns one service. Coordinators only.
func (d *Directory) Get(ctx context.Context, by Actor, id int64) (Service, error) {
	if err := requireCoordinator(by); err != nil {
		return Service{}, err
	}
	s, err := d.store.Service(ctx, id)
	if err != nil {
		return Service{}, fmt.Errorf("service %d: %w", id, err)
	}
	return s, nil
}

// Fallback returns the service pinned as the fallback; ErrNotFound when none is. Coordinators only.
func (d *Directory) Fallback(ctx context.Context, by Actor) (Service, error) {
	if err := requireCoordinator(by); err != nil {
		return Service{}, err
	}
	s, err := d.store.FallbackService(ctx)
	if err != nil {
		return Service{}, fmt.Errorf("fallback service: %w", err)
	}
	return s, nil
}

// Create adds a service and returns it with its webhook secret, which is shown this once.
// Coordinators only.
func (d *Directory) Create(ctx context.Context, by Actor, in ServiceInput) (Service, string, error) {
	if err := requireCoordinator(by); err != nil {
		return Service{}, "", err
	}
	in = in.Normalised()
	areas, err := d.areas.Areas(ctx)
	if err != nil {
		return Service{}, "", fmt.Errorf("create service: %w", err)
	}
	v := &ValidationError{}
	in.Validate(v, areas)
	if err := v.OrNil(); err != nil {
		return Service{}, "", err
	}
	secret, err := NewSecret(webhookSecretPrefix, webhookSecretEntropy)
	if err != nil {
		return Service{}, "", err
	}
	now := d.clock.now()
	s := Service{Source: SourceManual, Name: in.Name, Organisation: in.Organisation, Description: in.Description,
		TaxonomyTerms: in.TaxonomyTerms, DirectoryTerms: []string{}, AreaIDs: in.AreaIDs, MinAge: in.MinAge, MaxAge: in.MaxAge,
		EligibilityDescription: in.EligibilityDescription, Priority: in.Priority, Email: in.Email, WebhookURL: in.WebhookURL,
		Active: in.Active, CreatedAt: now, UpdatedAt: now}
	err = d.tx.Transact(ctx, func(ctx context.Context) error {
		if err := d.store.CreateService(ctx, &s, secret); err != nil {
			return err
		}
		return d.audit.Record(ctx, by, AuditServiceChanged, "service", s.ID, serviceDetail("created", s))
	})
	if err != nil {
		return Service{}, "", fmt.Errorf("create service: %w", err)
	}
	return s, secret, nil
}

// Update changes a service. For an imported service, the fields the directory owns (name,
// organisation, description, ages, eligibility) are rewritten by the next import that changes
// them; the escalation contact, priority, active, areas and added taxonomy terms are kept.
// Coordinators only.
func (d *Directory) Update(ctx context.Context, by Actor, id int64, p ServicePatch) (Service, error) {
	if err := requireCoordinator(by); err != nil {
		return Service{}, err
	}
	var s Service
	err := d.tx.Transact(ctx, func(ctx context.Context) error {
		var err error
		if s, err = d.store.Service(ctx, id); err != nil {
			return err
		}
		in := ServiceInput{Name: s.Name, Organisation: s.Organisation, Description: s.Description, TaxonomyTerms: s.TaxonomyTerms,
			AreaIDs: s.AreaIDs, MinAge: s.MinAge, MaxAge: s.MaxAge, EligibilityDescription: s.EligibilityDescription,
			Priority: s.Priority, Email: s.Email, WebhookURL: s.WebhookURL, Active: s.Active}
		setIf(&in.Name, p.Name)
		setIf(&in.Organisation, p.Organisation)
		setIf(&in.Description, p.Description)
		setIf(&in.TaxonomyTerms, p.TaxonomyTerms)
		setIf(&in.AreaIDs, p.AreaIDs)
		setIf(&in.EligibilityDescription, p.EligibilityDescription)
		setIf(&in.Priority, p.Priority)
		setIf(&in.Email, p.Email)
		setIf(&in.WebhookURL, p.WebhookURL)
		setIf(&in.Active, p.Active)
		if p.MinAge != nil || p.ClearMinAge {
			in.MinAge = p.MinAge
		}
		if p.MaxAge != nil || p.ClearMaxAge {
			in.MaxAge = p.MaxAge
		}
		in = in.Normalised()
		areas, err := d.areas.Areas(ctx)
		if err != nil {
			return err
		}
		v := &ValidationError{}
		in.Validate(v, areas)
		if err := v.OrNil(); err != nil {
			return err
		}
		s.Name, s.Organisation, s.Description, s.TaxonomyTerms, s.AreaIDs = in.Name, in.Organisation, in.Description, in.TaxonomyTerms, in.AreaIDs
		s.MinAge, s.MaxAge, s.EligibilityDescription, s.Priority = in.MinAge, in.MaxAge, in.EligibilityDescription, in.Priority
		s.Email, s.WebhookURL, s.Active = in.Email, in.WebhookURL, in.Active
		s.UpdatedAt = d.clock.now()
		if err := d.store.UpdateService(ctx, s); err != nil {
			return err
		}
		return d.audit.Record(ctx, by, AuditServiceChanged, "service", id, serviceDetail("updated", s))
	})
	if err != nil {
		return Service{}, fmt.Errorf("update service %d: %w", id, err)
	}
	return s, nil
}

func setIf[T any](dst *T, src *T) {
	if src != nil {
		*dst = *src
	}
}

// SetActive turns a service on or off for routing. Coordinators only.
func (d *Directory) SetActive(ctx context.Context, by Actor, id int64, active bool) (Service, error) {
	return d.Update(ctx, by, id, ServicePatch{Active: &active})
}

// PinFallback makes the service the one escalations go to when no other covers a need, in
// place of any other. It must be active and have a contact. Coordinators only.
func (d *Directory) PinFallback(ctx context.Context, by Actor, id int64) (Service, error) {
	if err := requireCoordinator(by); err != nil {
		return Service{}, err
	}
	var s Service
	err := d.tx.Transact(ctx, func(ctx context.Context) error {
		var err error
		if s, err = d.store.Service(ctx, id); err != nil {
			return err
		}
		if !s.Routable() {
			return &ConflictError{Message: s.Name + " cannot be the fallback until it is active and has an escalation contact (a webhook or an email)."}
		}
		if err := d.store.SetFallback(ctx, id); err != nil {
			return err
		}
		s.Fallback = true
		return d.audit.Record(ctx, by, AuditServiceChanged, "service", id, map[string]string{"change": "pinned as fallback", "name": s.Name})
	})
	if err != nil {
		return Service{}, fmt.Errorf("pin fallback %d: %w", id, err)
	}
	return s, nil
}

// UnpinFallback leaves the co-op with no fallback service. Coordinators only.
func (d *Directory) UnpinFallback(ctx context.Context, by Actor) error {
	if err := requireCoordinator(by); err != nil {
		return err
	}
	err := d.tx.Transact(ctx, func(ctx context.Context) error {
		s, err := d.store.FallbackService(ctx)
		if errors.Is(err, ErrNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		if err := d.store.SetFallback(ctx, 0); err != nil {
			return err
		}
		return d.audit.Record(ctx, by, AuditServiceChanged, "service", s.ID, map[string]string{"change": "unpinned as fallback", "name": s.Name})
	})
	if err != nil {
		return fmt.Errorf("unpin fallback: %w", err)
	}
	return nil
}

// NewWebhookSecret replaces a service's webhook secret and returns the new one, which is shown
// this once; webhooks are signed with it from now on. Coordinators only.
func (d *Directory) NewWebhookSecret(ctx context.Context, by Actor, id int64) (string, error) {
	if err := requireCoordinator(by); err != nil {
		return "", err
	}
	secret, err := NewSecret(webhookSecretPrefix, webhookSecretEntropy)
	if err != nil {
		return "", err
	}
	err = d.tx.Transact(ctx, func(ctx context.Context) error {
		s, err := d.store.Service(ctx, id)
		if err != nil {
			return err
		}
		if err := d.store.SetWebhookSecret(ctx, id, secret); err != nil {
			return err
		}
		return d.audit.Record(ctx, by, AuditServiceSecret, "service", id, map[string]string{"name": s.Name})
	})
	if err != nil {
		return "", fmt.Errorf("new webhook secret for service %d: %w", id, err)
	}
	return secret, nil
}

// SigningSecret is the key to sign the service's webhooks with (HMAC-SHA256). It is for the
// platform's own delivery of webhooks, never to be shown to anyone.
func (d *Directory) SigningSecret(ctx context.Context, id int64) ([]byte, error) {
	secret, err := d.store.WebhookSecret(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("webhook secret of service %d: %w", id, err)
	}
	if secret == "" {
		return nil, fmt.Errorf("service %d has no webhook secret: %w", id, ErrNotFound)
	}
	return []byte(secret), nil
}

// RouteQuery is a need to route: its category, where it is, and the person's age when known.
type RouteQuery struct {
	Category Category
	AreaID   int64
	Age      *int
}

// Routing is where a need can go: the services that take it on, highest priority first, and
// the fallback (nil when none is pinned, or it cannot be routed to now).
type Routing struct {
	Services []Service
	Fallback *Service
}

// Route finds the routable services whose taxonomy covers the category, whose areas cover the
// area and whose ages take the person, highest priority first (then oldest first), and the
// co-op's fallback. It is for the escalation step, which acts for the platform.
func (d *Directory) Route(ctx context.Context, q RouteQuery) (Routing, error) {
	inArea, err := d.store.RoutableServicesInArea(ctx, q.AreaID)
	if err != nil {
		return Routing{}, fmt.Errorf("route %s in area %d: %w", q.Category.Slug, q.AreaID, err)
	}
	var r Routing
	for _, s := range inArea {
		if s.Routable() && s.CoversArea(q.AreaID) && s.TakesOn(q.Category) && s.TakesAge(q.Age) {
			r.Services = append(r.Services, s)
		}
	}
	sort.SliceStable(r.Services, func(i, j int) bool {
		if r.Services[i].Priority != r.Services[j].Priority {
			return r.Services[i].Priority > r.Services[j].Priority
		}
		return r.Services[i].ID < r.Services[j].ID
	})
	fb, err := d.store.FallbackService(ctx)
	switch {
	case errors.Is(err, ErrNotFound):
	case err != nil:
		return Routing{}, fmt.Errorf("fallback service: %w", err)
	case fb.Routable():
		r.Fallback = &fb
	}
	return r, nil
}

func serviceDetail(change string, s Service) map[string]string {
	terms := slices.Clone(s.TaxonomyTerms)
	sort.Strings(terms)
	areas := make([]string, len(s.AreaIDs))
	for i, a := range s.AreaIDs {
		areas[i] = strconv.FormatInt(a, 10)
	}
	d := map[string]string{
		"change": change, "name": s.Name, "organisation": s.Organisation, "taxonomy_terms": strings.Join(terms, " "),
		"area_ids": strings.Join(areas, " "), "priority": strconv.Itoa(s.Priority), "email": s.Email,
		"webhook_url": s.WebhookURL, "active": strconv.FormatBool(s.Active),
	}
	if s.SourceID != "" {
		d["source_id"] = s.SourceID
	}
	return d
}
