package domain

import (
	"context"
	"errors"
	"fmt"
	"math"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"
)

// Area is a part of the co-op's patch, such as a postcode district. Its centroid stands for the
// location of the members who live there, so that exact addresses need not be shared.
type Area struct {
	ID        int64
	Name      string
	Code      string
	Lat       float64
	Lon       float64
	CreatedAt time.Time
	UpdatedAt time.Time
}

// Label is how an area is shown: "Bridge End (BE1)".
func (a Area) Label() string {
	if a.Code == "" {
		return a.Name
	}
	return a.Name + " (" + a.Code + ")"
}

// Category is a kind of support, such as transport or sitting.
type Category struct {
	ID   int64
	Slug string
	Name string
	// RequiresCheck means helpers need a current, verified check (e.g. DBS) to be matched.
	RequiresCheck bool
	// TaxonomyTerms are the formal services' taxonomy codes or URIs that can take this need on.
	TaxonomyTerms []string
	// Moderation: whether the matcher's proposals wait for a coordinator or go straight to
	// the two people.
	Moderation Moderation
	// Escalation holds the category's own escalation timings; urgencies it does not set
	// follow DefaultEscalationTimings.
	Escalation EscalationOverrides
	CreatedAt  time.Time
	UpdatedAt  time.Time
}

// AreaInput is what a coordinator gives to add or change an area. Nil numbers mean "not given".
type AreaInput struct {
	Name string
	Code string
	Lat  *float64
	Lon  *float64
}

// AreaPatch changes some fields of an area; nil fields are left as they are.
type AreaPatch struct {
	Name *string
	Code *string
	Lat  *float64
	Lon  *float64
}

// CategoryInput is what a coordinator gives to add a category.
type CategoryInput struct {
	Slug          string
	Name          string
	RequiresCheck bool
	TaxonomyTerms []string
	Moderation    Moderation // empty means a coordinator approves
	Escalation    EscalationOverrides
}

// CategoryPatch changes some fields of a category; nil fields are left as they are. A slug cannot change.
type CategoryPatch struct {
	Name          *string
	RequiresCheck *bool
	TaxonomyTerms *[]string
	Moderation    *Moderation
	// Escalation changes the category's own escalation timings, by urgency.
	Escalation map[Urgency]TimingPatch
}

var (
	slugPattern     = regexp.MustCompile(`^[a-z0-9]+(-[a-z0-9]+)*$`)
	areaCodePattern = regexp.MustCompile(`^[A-Z0-9]+( [A-Z0-9]+)?$`)
)

const (
	maxAreaNameLen = 80
	maxAreaCodeLen = 10
	maxSlugLen     = 40
	maxTermLen     = 200
	maxTerms       = 50
)

// Normalised trims the text fields and upper-cases the code.
func (in AreaInput) Normalised() AreaInput {
	in.Name = strings.TrimSpace(in.Name)
	in.Code = strings.ToUpper(strings.Join(strings.Fields(in.Code), " "))
	return in
}

// Validate adds a message to v for each invalid field of a normalised input.
func (in AreaInput) Validate(v *ValidationError) {
	switch n := utf8.RuneCountInString(in.Name); {
	case n == 0:
		v.Add("name", "Enter the area's name")
	case n > maxAreaNameLen:
		v.Add("name", "Name must be %d characters or fewer", maxAreaNameLen)
	}
	switch {
	case in.Code == "":
		v.Add("code", "Enter a short code for the area, such as its postcode district (BE1)")
	case len(in.Code) > maxAreaCodeLen || !areaCodePattern.MatchString(in.Code):
		v.Add("code", "Code must be up to %d letters and digits, such as BE1", maxAreaCodeLen)
	}
	checkCoordinate(v, "lat", in.Lat, 90, "latitude", "53.3811")
	checkCoordinate(v, "lon", in.Lon, 180, "longitude", "-1.4701")
}

func checkCoordinate(v *ValidationError, field string, x *float64, limit float64, what, example string) {
	switch {
	case x == nil:
		v.Add(field, "Enter the %s of the area's centre, like %s", what, example)
	case math.IsNaN(*x) || math.Abs(*x) > limit:
		v.Add(field, "The %s must be between -%g and %g", what, limit, limit)
	}
}

// Normalised trims the text fields, lower-cases the slug and drops blank and repeated terms.
func (in CategoryInput) Normalised() CategoryInput {
	in.Slug = strings.ToLower(strings.TrimSpace(in.Slug))
	in.Name = strings.TrimSpace(in.Name)
	in.TaxonomyTerms = normaliseTerms(in.TaxonomyTerms)
	if in.Moderation == "" {
		in.Moderation = ModerateByCoordinator
	}
	in.Escalation = in.Escalation.normalised()
	return in
}

func checkModeration(v *ValidationError, m Moderation) {
	if !m.Valid() {
		v.Add("moderation", "Choose whether a coordinator approves proposals (%s) or they go straight to the two people (%s)", ModerateByCoordinator, ModerateDirect)
	}
}

func normaliseTerms(terms []string) []string {
	out := []string{}
	seen := map[string]bool{}
	for _, t := range terms {
		t = strings.TrimSpace(t)
		if t == "" || seen[t] {
			continue
		}
		seen[t] = true
		out = append(out, t)
	}
	return out
}

// Validate adds a message to v for each invalid field of a normalised input.
func (in CategoryInput) Validate(v *ValidationError) {
	switch {
	case in.Slug == "":
		v.Add("slug", "Enter a short name for links, such as shopping-errands")
	case len(in.Slug) > maxSlugLen || !slugPattern.MatchString(in.Slug):
		v.Add("slug", "Use lower-case letters, digits and single dashes, up to %d characters, such as shopping-errands", maxSlugLen)
	}
	checkCategoryName(v, in.Name)
	checkTerms(v, in.TaxonomyTerms)
	checkModeration(v, in.Moderation)
	in.Escalation.validate(v)
}

func checkCategoryName(v *ValidationError, name string) {
	switch n := utf8.RuneCountInString(name); {
	case n == 0:
		v.Add("name", "Enter the category's name")
	case n > 80:
		v.Add("name", "Name must be 80 characters or fewer")
	}
}

func checkTerms(v *ValidationError, terms []string) {
	if len(terms) > maxTerms {
		v.Add("taxonomy_terms", "Give at most %d taxonomy terms", maxTerms)
		return
	}
	for _, t := range terms {
		if utf8.RuneCountInString(t) > maxTermLen {
			v.Add("taxonomy_terms", "Each taxonomy term must be %d characters or fewer", maxTermLen)
			return
		}
	}
}

// CatalogueStore keeps areas and categories.
type CatalogueStore interface {
	Areas(ctx context.Context) ([]Area, error)
	Area(ctx context.Context, id int64) (Area, error)
	CreateArea(ctx context.Context, a *Area) error
	UpdateArea(ctx context.Context, a Area) error
	DeleteArea(ctx context.Context, id int64) error
	Categories(ctx context.Context) ([]Category, error)
	Category(ctx context.Context, id int64) (Category, error)
	CategoryBySlug(ctx context.Context, slug string) (Category, error)
	CreateCategory(ctx context.Context, c *Category) error
	UpdateCategory(ctx context.Context, c Category) error
	DeleteCategory(ctx context.Context, id int64) error
}

// Catalogue manages the co-op's areas and categories. Everyone signed in reads them; coordinators
// change them.
type Catalogue struct {
	store     CatalogueStore
	proposals ProposalStore
	tx        Transactor
	audit     *Audit
	clock     Clock

	mu        sync.Mutex
	lastAreas []Area // the last list read, for re-showing a form while the database is away
}

// NewCatalogue returns the areas and categories service.
func NewCatalogue(store CatalogueStore, proposals ProposalStore, tx Transactor, audit *Audit, clock Clock) *Catalogue {
	return &Catalogue{store: store, proposals: proposals, tx: tx, audit: audit, clock: clock}
}

// Areas lists every area by name.
func (c *Catalogue) Areas(ctx context.Context) ([]Area, error) {
	areas, err := c.store.Areas(ctx)
	if err != nil {
		return nil, fmt.Errorf("list areas: %w", err)
	}
	c.mu.Lock()
	c.lastAreas = areas
	c.mu.Unlock()
	return areas, nil
}

// LastKnownAreas is the list most recently read, for re-showing a form whose save failed because
// the database went away; it may be stale or empty.
func (c *Catalogue) LastKnownAreas() []Area {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.lastAreas
}

// Area returns one area.
func (c *Catalogue) Area(ctx context.Context, id int64) (Area, error) {
	a, err := c.store.Area(ctx, id)
	if err != nil {
		return Area{}, fmt.Errorf("area %d: %w", id, err)
	}
	return a, nil
}

// CreateArea adds an area. Coordinators only.
func (c *Catalogue) CreateArea(ctx context.Context, by Actor, in AreaInput) (Area, error) {
	if err := requireCoordinator(by); err != nil {
		return Area{}, err
	}
	in = in.Normalised()
	v := &ValidationError{}
	in.Validate(v)
	if err := v.OrNil(); err != nil {
		return Area{}, err
	}
	now := c.clock.now()
	a := Area{Name: in.Name, Code: in.Code, Lat: *in.Lat, Lon: *in.Lon, CreatedAt: now, UpdatedAt: now}
	err := c.tx.Transact(ctx, func(ctx context.Context) error {
		if err := c.store.CreateArea(ctx, &a); err != nil {
			return areaUniqueness(err)
		}
		return c.audit.Record(ctx, by, AuditAreaChanged, "area", a.ID, map[string]string{"change": "created", "name": a.Name, "code": a.Code})
	})
	if err != nil {
		return Area{}, fmt.Errorf("create area: %w", err)
	}
	return a, nil
}

// UpdateArea changes an area. Coordinators only.
func (c *Catalogue) UpdateArea(ctx context.Context, by Actor, id int64, p AreaPatch) (Area, error) {
	if err := requireCoordinator(by); err != nil {
		return Area{}, err
	}
	var a Area
	err := c.tx.Transact(ctx, func(ctx context.Context) error {
		var err error
		if a, err = c.store.Area(ctx, id); err != nil {
			return err
		}
		in := AreaInput{Name: a.Name, Code: a.Code, Lat: &a.Lat, Lon: &a.Lon}
		if p.Name != nil {
			in.Name = *p.Name
		}
		if p.Code != nil {
			in.Code = *p.Code
		}
		if p.Lat != nil {
			in.Lat = p.Lat
		}
		if p.Lon != nil {
			in.Lon = p.Lon
		}
		in = in.Normalised()
		v := &ValidationError{}
		in.Validate(v)
		if err := v.OrNil(); err != nil {
			return err
		}
		moved := a.Lat != *in.Lat || a.Lon != *in.Lon
		a = Area{ID: id, Name: in.Name, Code: in.Code, Lat: *in.Lat, Lon: *in.Lon, CreatedAt: a.CreatedAt, UpdatedAt: c.clock.now()}
		if err := c.store.UpdateArea(ctx, a); err != nil {
			return areaUniqueness(err)
		}
		// Distances to and from the area have changed, so proposals made with them may not hold.
		if moved {
			if err := withdraw(ctx, c.proposals, ProposalScope{AreaID: id}, WithdrawnAreaMoved, a.UpdatedAt); err != nil {
				return err
			}
		}
		return c.audit.Record(ctx, by, AuditAreaChanged, "area", id, map[string]string{"change": "updated", "name": a.Name, "code": a.Code})
	})
	if err != nil {
		return Area{}, fmt.Errorf("update area %d: %w", id, err)
	}
	return a, nil
}

// DeleteArea removes an area that nobody refers to. Coordinators only.
func (c *Catalogue) DeleteArea(ctx context.Context, by Actor, id int64) error {
	if err := requireCoordinator(by); err != nil {
		return err
	}
	err := c.tx.Transact(ctx, func(ctx context.Context) error {
		a, err := c.store.Area(ctx, id)
		if err != nil {
			return err
		}
		if err := c.store.DeleteArea(ctx, id); err != nil {
			if errors.Is(err, ErrInUse) {
				return &ConflictError{Message: a.Label() + " cannot be removed while members or posts are in it. Move them to another area first."}
			}
			return err
		}
		return c.audit.Record(ctx, by, AuditAreaChanged, "area", id, map[string]string{"change": "deleted", "name": a.Name, "code": a.Code})
	})
	if err != nil {
		return fmt.Errorf("delete area %d: %w", id, err)
	}
	return nil
}

func areaUniqueness(err error) error {
	if errors.Is(err, ErrDuplicate) {
		return Invalid("code", "Another area already has this code or name")
	}
	return err
}

// Categories lists every category by name.
func (c *Catalogue) Categories(ctx context.Context) ([]Category, error) {
	cats, err := c.store.Categories(ctx)
	if err != nil {
		return nil, fmt.Errorf("list categories: %w", err)
	}
	return cats, nil
}

// Category returns one category.
func (c *Catalogue) Category(ctx context.Context, id int64) (Category, error) {
	cat, err := c.store.Category(ctx, id)
	if err != nil {
		return Category{}, fmt.Errorf("category %d: %w", id, err)
	}
	return cat, nil
}

// CreateCategory adds a category. Coordinators only.
func (c *Catalogue) CreateCategory(ctx context.Context, by Actor, in CategoryInput) (Category, error) {
	if err := requireCoordinator(by); err != nil {
		return Category{}, err
	}
	in = in.Normalised()
	v := &ValidationError{}
	in.Validate(v)
	if err := v.OrNil(); err != nil {
		return Category{}, err
	}
	now := c.clock.now()
	cat := Category{Slug: in.Slug, Name: in.Name, RequiresCheck: in.RequiresCheck, TaxonomyTerms: in.TaxonomyTerms, Moderation: in.Moderation,
		Escalation: in.Escalation, CreatedAt: now, UpdatedAt: now}
	err := c.tx.Transact(ctx, func(ctx context.Context) error {
		if err := c.store.CreateCategory(ctx, &cat); err != nil {
			if errors.Is(err, ErrDuplicate) {
				return Invalid("slug", "Another category already uses this short name")
			}
			return err
		}
		return c.audit.Record(ctx, by, AuditCategoryChanged, "category", cat.ID, categoryDetail("created", cat))
	})
	if err != nil {
		return Category{}, fmt.Errorf("create category: %w", err)
	}
	return cat, nil
}

// UpdateCategory changes a category's name, check rule, taxonomy terms, moderation or escalation
// timings. Coordinators only.
func (c *Catalogue) UpdateCategory(ctx context.Context, by Actor, id int64, p CategoryPatch) (Category, error) {
	if err := requireCoordinator(by); err != nil {
		return Category{}, err
	}
	var cat Category
	err := c.tx.Transact(ctx, func(ctx context.Context) error {
		var err error
		if cat, err = c.store.Category(ctx, id); err != nil {
			return err
		}
		if p.Name != nil {
			cat.Name = strings.TrimSpace(*p.Name)
		}
		checkNow := p.RequiresCheck != nil && *p.RequiresCheck && !cat.RequiresCheck
		if p.RequiresCheck != nil {
			cat.RequiresCheck = *p.RequiresCheck
		}
		if p.TaxonomyTerms != nil {
			cat.TaxonomyTerms = normaliseTerms(*p.TaxonomyTerms)
		}
		if p.Moderation != nil {
			cat.Moderation = *p.Moderation
		}
		if p.Escalation != nil {
			cat.Escalation = cat.Escalation.Patched(p.Escalation).normalised()
		}
		v := &ValidationError{}
		checkCategoryName(v, cat.Name)
		checkTerms(v, cat.TaxonomyTerms)
		checkModeration(v, cat.Moderation)
		cat.Escalation.validate(v)
		if err := v.OrNil(); err != nil {
			return err
		}
		cat.UpdatedAt = c.clock.now()
		if err := c.store.UpdateCategory(ctx, cat); err != nil {
			return err
		}
		// Helpers proposed without a check may no longer be chosen.
		if checkNow {
			if err := withdraw(ctx, c.proposals, ProposalScope{CategoryID: id}, WithdrawnCheckRequired, cat.UpdatedAt); err != nil {
				return err
			}
		}
		return c.audit.Record(ctx, by, AuditCategoryChanged, "category", id, categoryDetail("updated", cat))
	})
	if err != nil {
		return Category{}, fmt.Errorf("update category %d: %w", id, err)
	}
	return cat, nil
}

// DeleteCategory removes a category that nothing refers to. Coordinators only.
func (c *Catalogue) DeleteCategory(ctx context.Context, by Actor, id int64) error {
	if err := requireCoordinator(by); err != nil {
		return err
	}
	err := c.tx.Transact(ctx, func(ctx context.Context) error {
		cat, err := c.store.Category(ctx, id)
		if err != nil {
			return err
		}
		if err := c.store.DeleteCategory(ctx, id); err != nil {
			if errors.Is(err, ErrInUse) {
				return &ConflictError{Message: cat.Name + " cannot be removed while offers or requests use it."}
			}
			return err
		}
		return c.audit.Record(ctx, by, AuditCategoryChanged, "category", id, categoryDetail("deleted", cat))
	})
	if err != nil {
		return fmt.Errorf("delete category %d: %w", id, err)
	}
	return nil
}

func categoryDetail(change string, c Category) map[string]string {
	terms := append([]string(nil), c.TaxonomyTerms...)
	sort.Strings(terms)
	return map[string]string{
		"change": change, "slug": c.Slug, "name": c.Name,
		"requires_check": strconv.FormatBool(c.RequiresCheck), "taxonomy_terms": strings.Join(terms, " "), "moderation": string(c.Moderation),
		"escalation": c.Escalation.describe(),
	}
}
