package store

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/coop-exchange/coop/domain"
)

type areaRow struct {
	ID        int64 `gorm:"primaryKey"`
	Name      string
	Code      string
	Lat       float64
	Lon       float64
	CreatedAt time.Time `gorm:"autoCreateTime:false"`
	UpdatedAt time.Time `gorm:"autoUpdateTime:false"`
}

func (areaRow) TableName() string { return "areas" }

func (r areaRow) domain() domain.Area {
	return domain.Area{ID: r.ID, Name: r.Name, Code: r.Code, Lat: r.Lat, Lon: r.Lon, CreatedAt: r.CreatedAt.UTC(), UpdatedAt: r.UpdatedAt.UTC()}
}

type categoryRow struct {
	ID            int64 `gorm:"primaryKey"`
	Slug          string
	Name          string
	RequiresCheck bool
	TaxonomyTerms string // a JSON array of strings
	Moderation    string
	// The category's own escalation timings in minutes; NULL follows the default.
	EscalationUrgentWaitMinutes  *int
	EscalationUrgentLeadMinutes  *int
	EscalationSoonWaitMinutes    *int
	EscalationSoonLeadMinutes    *int
	EscalationRoutineWaitMinutes *int
	EscalationRoutineLeadMinutes *int
	CreatedAt                    time.Time `gorm:"autoCreateTime:false"`
	UpdatedAt                    time.Time `gorm:"autoUpdateTime:false"`
}

func (categoryRow) TableName() string { return "categories" }

// timingColumns pairs each urgency with its wait and lead columns.
func (r *categoryRow) timingColumns() map[domain.Urgency][2]**int {
	return map[domain.Urgency][2]**int{
		domain.Urgent:  {&r.EscalationUrgentWaitMinutes, &r.EscalationUrgentLeadMinutes},
		domain.Soon:    {&r.EscalationSoonWaitMinutes, &r.EscalationSoonLeadMinutes},
		domain.Routine: {&r.EscalationRoutineWaitMinutes, &r.EscalationRoutineLeadMinutes},
	}
}

func (r *categoryRow) escalation() domain.EscalationOverrides {
	out := domain.EscalationOverrides{}
	for u, cols := range r.timingColumns() {
		t := domain.TimingOverride{Wait: minutesDuration(*cols[0]), Lead: minutesDuration(*cols[1])}
		if t.Wait != nil || t.Lead != nil {
			out[u] = t
		}
	}
	return out
}

func (r *categoryRow) setEscalation(o domain.EscalationOverrides) {
	for u, cols := range r.timingColumns() {
		*cols[0], *cols[1] = durationMinutes(o[u].Wait), durationMinutes(o[u].Lead)
	}
}

func minutesDuration(m *int) *time.Duration {
	if m == nil {
		return nil
	}
	d := time.Duration(*m) * time.Minute
	return &d
}

func durationMinutes(d *time.Duration) *int {
	if d == nil {
		return nil
	}
	m := int(*d / time.Minute)
	return &m
}

func (r categoryRow) domain() (domain.Category, error) {
	c := domain.Category{ID: r.ID, Slug: r.Slug, Name: r.Name, RequiresCheck: r.RequiresCheck, Moderation: domain.Moderation(r.Moderation),
		Escalation: r.escalation(), CreatedAt: r.CreatedAt.UTC(), UpdatedAt: r.UpdatedAt.UTC()}
	if err := json.Unmarshal([]byte(r.TaxonomyTerms), &c.TaxonomyTerms); err != nil {
		return domain.Category{}, fmt.Errorf("store: category %d has unreadable taxonomy terms: %w", r.ID, err)
	}
	if c.TaxonomyTerms == nil {
		c.TaxonomyTerms = []string{}
	}
	return c, nil
}

func categoryToRow(c domain.Category) (categoryRow, error) {
	terms := c.TaxonomyTerms
	if terms == nil {
		terms = []string{}
	}
	b, err := json.Marshal(terms)
	if err != nil {
		return categoryRow{}, err
	}
	row := categoryRow{ID: c.ID, Slug: c.Slug, Name: c.Name, RequiresCheck: c.RequiresCheck, TaxonomyTerms: string(b), Moderation: string(moderationOf(c)),
		CreatedAt: c.CreatedAt.UTC(), UpdatedAt: c.UpdatedAt.UTC()}
	row.setEscalation(c.Escalation)
	return row, nil
}

// Areas lists every area by name.
func (s *Store) Areas(ctx context.Context) ([]domain.Area, error) {
	var rows []areaRow
	if err := s.conn(ctx).Order("name, id").Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("store: unable to list areas: %w", translate(err))
	}
	out := make([]domain.Area, len(rows))
	for i, r := range rows {
		out[i] = r.domain()
	}
	return out, nil
}

// Area returns one area.
func (s *Store) Area(ctx context.Context, id int64) (domain.Area, error) {
	var r areaRow
	if err := s.conn(ctx).Take(&r, id).Error; err != nil {
		return domain.Area{}, fmt.Errorf("store: unable to read area %d: %w", id, translate(err))
	}
	return r.domain(), nil
}

// CreateArea inserts an area and sets its ID.
func (s *Store) CreateArea(ctx context.Context, a *domain.Area) error {
	row := areaRow{Name: a.Name, Code: a.Code, Lat: a.Lat, Lon: a.Lon, CreatedAt: a.CreatedAt.UTC(), UpdatedAt: a.UpdatedAt.UTC()}
	if err := s.conn(ctx).Create(&row).Error; err != nil {
		return fmt.Errorf("store: unable to create area: %w", translate(err))
	}
	a.ID = row.ID
	return nil
}

// UpdateArea writes an area's fields.
func (s *Store) UpdateArea(ctx context.Context, a domain.Area) error {
	res := s.conn(ctx).Model(&areaRow{}).Where("id = ?", a.ID).
		Updates(map[string]any{"name": a.Name, "code": a.Code, "lat": a.Lat, "lon": a.Lon, "updated_at": a.UpdatedAt.UTC()})
	if res.Error != nil {
		return fmt.Errorf("store: unable to update area %d: %w", a.ID, translate(res.Error))
	}
	if res.RowsAffected == 0 {
		return fmt.Errorf("store: area %d: %w", a.ID, domain.ErrNotFound)
	}
	return nil
}

// DeleteArea removes an area; ErrInUse when members or posts refer to it.
func (s *Store) DeleteArea(ctx context.Context, id int64) error {
	res := s.conn(ctx).Delete(&areaRow{}, id)
	if res.Error != nil {
		return fmt.Errorf("store: unable to delete area %d: %w", id, translate(res.Error))
	}
	if res.RowsAffected == 0 {
		return fmt.Errorf("store: area %d: %w", id, domain.ErrNotFound)
	}
	return nil
}

// Categories lists every category by name.
func (s *Store) Categories(ctx context.Context) ([]domain.Category, error) {
	var rows []categoryRow
	if err := s.conn(ctx).Order("name, id").Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("store: unable to list categories: %w", translate(err))
	}
	out := make([]domain.Category, len(rows))
	for i, r := range rows {
		c, err := r.domain()
		if err != nil {
			return nil, err
		}
		out[i] = c
	}
	return out, nil
}

// Category returns one category.
func (s *Store) Category(ctx context.Context, id int64) (domain.Category, error) {
	var r categoryRow
	if err := s.conn(ctx).Take(&r, id).Error; err != nil {
		return domain.Category{}, fmt.Errorf("store: unable to read category %d: %w", id, translate(err))
	}
	return r.domain()
}

// CategoryBySlug returns the category with this slug.
func (s *Store) CategoryBySlug(ctx context.Context, slug string) (domain.Category, error) {
	var r categoryRow
	if err := s.conn(ctx).Where("slug = ?", slug).Take(&r).Error; err != nil {
		return domain.Category{}, fmt.Errorf("store: unable to read category %q: %w", slug, translate(err))
	}
	return r.domain()
}

// CreateCategory inserts a category and sets its ID.
func (s *Store) CreateCategory(ctx context.Context, c *domain.Category) error {
	row, err := categoryToRow(*c)
	if err != nil {
		return err
	}
	row.ID = 0
	if err := s.conn(ctx).Create(&row).Error; err != nil {
		return fmt.Errorf("store: unable to create category: %w", translate(err))
	}
	c.ID = row.ID
	return nil
}

// UpdateCategory writes a category's name, check rule, terms, moderation and escalation timings
// (never its slug).
func (s *Store) UpdateCategory(ctx context.Context, c domain.Category) error {
	row, err := categoryToRow(c)
	if err != nil {
		return err
	}
	res := s.conn(ctx).Model(&categoryRow{}).Where("id = ?", c.ID).Updates(map[string]any{
		"name": row.Name, "requires_check": row.RequiresCheck, "taxonomy_terms": row.TaxonomyTerms, "moderation": row.Moderation,
		"escalation_urgent_wait_minutes": row.EscalationUrgentWaitMinutes, "escalation_urgent_lead_minutes": row.EscalationUrgentLeadMinutes,
		"escalation_soon_wait_minutes": row.EscalationSoonWaitMinutes, "escalation_soon_lead_minutes": row.EscalationSoonLeadMinutes,
		"escalation_routine_wait_minutes": row.EscalationRoutineWaitMinutes, "escalation_routine_lead_minutes": row.EscalationRoutineLeadMinutes,
		"updated_at": row.UpdatedAt})
	if res.Error != nil {
		return fmt.Errorf("store: unable to update category %d: %w", c.ID, translate(res.Error))
	}
	if res.RowsAffected == 0 {
		return fmt.Errorf("store: category %d: %w", c.ID, domain.ErrNotFound)
	}
	return nil
}

// DeleteCategory removes a category; ErrInUse when posts refer to it.
func (s *Store) DeleteCategory(ctx context.Context, id int64) error {
	res := s.conn(ctx).Delete(&categoryRow{}, id)
	if res.Error != nil {
		return fmt.Errorf("store: unable to delete category %d: %w", id, translate(res.Error))
	}
	if res.RowsAffected == 0 {
		return fmt.Errorf("store: category %d: %w", id, domain.ErrNotFound)
	}
	return nil
}

// moderationOf is a category's moderation, a coordinator's when unset.
func moderationOf(c domain.Category) domain.Moderation {
	if c.Moderation == "" {
		return domain.ModerateByCoordinator
	}
	return c.Moderation
}
