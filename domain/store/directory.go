package store

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/coop-exchange/coop/domain"
)

type serviceRow struct {
	ID                     int64 `gorm:"primaryKey"`
	Source                 string
	SourceID               string
	Organisation           string
	Name                   string
	Description            string
	TaxonomyTerms          string // a JSON array of strings
	DirectoryTerms         string // a JSON array of strings
	MinAge                 *int
	MaxAge                 *int
	EligibilityDescription string
	Priority               int
	Email                  string
	DirectoryEmail         string
	WebhookURL             string `gorm:"column:webhook_url"`
	WebhookSecret          string
	Active                 bool
	Fallback               bool
	LastModified           *time.Time
	CreatedAt              time.Time `gorm:"autoCreateTime:false"`
	UpdatedAt              time.Time `gorm:"autoUpdateTime:false"`
}

func (serviceRow) TableName() string { return "services" }

// serviceColumns are every column but the webhook secret, which only WebhookSecret reads.
var serviceColumns = []string{"id", "source", "source_id", "organisation", "name", "description", "taxonomy_terms", "directory_terms",
	"min_age", "max_age", "eligibility_description", "priority", "email", "directory_email", "webhook_url", "active", "fallback",
	"last_modified", "created_at", "updated_at"}

type serviceAreaRow struct {
	ServiceID int64 `gorm:"primaryKey"`
	AreaID    int64 `gorm:"primaryKey"`
}

func (serviceAreaRow) TableName() string { return "service_areas" }

type serviceImportRow struct {
	ID        int64 `gorm:"primaryKey"`
	Source    string
	Format    string
	Feed      bool
	FetchedAt time.Time
	Imported  int
	Updated   int
	Unchanged int
	Skipped   int
	ActorName string
}

func (serviceImportRow) TableName() string { return "service_imports" }

func (r serviceRow) domain() (domain.Service, error) {
	s := domain.Service{ID: r.ID, Source: domain.ServiceSource(r.Source), SourceID: r.SourceID, Organisation: r.Organisation, Name: r.Name,
		Description: r.Description, MinAge: r.MinAge, MaxAge: r.MaxAge, EligibilityDescription: r.EligibilityDescription,
		Priority: r.Priority, Email: r.Email, DirectoryEmail: r.DirectoryEmail, WebhookURL: r.WebhookURL, Active: r.Active,
		Fallback: r.Fallback, CreatedAt: r.CreatedAt.UTC(), UpdatedAt: r.UpdatedAt.UTC(), AreaIDs: []int64{}}
	if r.LastModified != nil {
		s.LastModified = r.LastModified.UTC()
	}
	for _, f := range []struct {
		raw string
		dst *[]string
	}{{r.TaxonomyTerms, &s.TaxonomyTerms}, {r.DirectoryTerms, &s.DirectoryTerms}} {
		if err := json.Unmarshal([]byte(f.raw), f.dst); err != nil {
			return domain.Service{}, fmt.Errorf("store: service %d has unreadable terms: %w", r.ID, err)
		}
		if *f.dst == nil {
			*f.dst = []string{}
		}
	}
	return s, nil
}

func serviceToRow(s domain.Service) (serviceRow, error) {
	terms, err := jsonList(s.TaxonomyTerms)
	if err != nil {
		return serviceRow{}, err
	}
	dirTerms, err := jsonList(s.DirectoryTerms)
	if err != nil {
		return serviceRow{}, err
	}
	r := serviceRow{ID: s.ID, Source: string(s.Source), SourceID: s.SourceID, Organisation: s.Organisation, Name: s.Name,
		Description: s.Description, TaxonomyTerms: terms, DirectoryTerms: dirTerms, MinAge: s.MinAge, MaxAge: s.MaxAge,
		EligibilityDescription: s.EligibilityDescription, Priority: s.Priority, Email: s.Email, DirectoryEmail: s.DirectoryEmail,
		WebhookURL: s.WebhookURL, Active: s.Active, Fallback: s.Fallback, CreatedAt: s.CreatedAt.UTC(), UpdatedAt: s.UpdatedAt.UTC()}
	if r.Source == "" {
		r.Source = string(domain.SourceManual)
	}
	if !s.LastModified.IsZero() {
		t := s.LastModified.UTC()
		r.LastModified = &t
	}
	return r, nil
}

func jsonList(items []string) (string, error) {
	if items == nil {
		items = []string{}
	}
	b, err := json.Marshal(items)
	return string(b), err
}

// withAreas fills in the areas of each service.
func (s *Store) withAreas(ctx context.Context, rows []serviceRow) ([]domain.Service, error) {
	out := make([]domain.Service, len(rows))
	index := map[int64]int{}
	ids := make([]int64, len(rows))
	for i, r := range rows {
		svc, err := r.domain()
		if err != nil {
			return nil, err
		}
		out[i] = svc
		index[r.ID] = i
		ids[i] = r.ID
	}
	for start := 0; start < len(ids); start += 500 {
		chunk := ids[start:min(start+500, len(ids))]
		var links []serviceAreaRow
		if err := s.conn(ctx).Where("service_id IN ?", chunk).Order("service_id, area_id").Find(&links).Error; err != nil {
			return nil, fmt.Errorf("store: unable to read the areas of services: %w", translate(err))
		}
		for _, l := range links {
			i := index[l.ServiceID]
			out[i].AreaIDs = append(out[i].AreaIDs, l.AreaID)
		}
	}
	return out, nil
}

// Services lists services matching q, by id.
func (s *Store) Services(ctx context.Context, q domain.ServiceQuery) ([]domain.Service, error) {
	db := s.conn(ctx).Select(serviceColumns).Order("id").Limit(q.Page.Limit)
	if q.Page.After > 0 {
		db = db.Where("id > ?", q.Page.After)
	}
	if q.Active != nil {
		db = db.Where("active = ?", *q.Active)
	}
	if q.Routable != nil {
		if *q.Routable {
			db = db.Where("active AND (email <> '' OR webhook_url <> '')")
		} else {
			db = db.Where("NOT (active AND (email <> '' OR webhook_url <> ''))")
		}
	}
	var rows []serviceRow
	if err := db.Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("store: unable to list services: %w", translate(err))
	}
	return s.withAreas(ctx, rows)
}

// Service returns one service.
func (s *Store) Service(ctx context.Context, id int64) (domain.Service, error) {
	var r serviceRow
	if err := s.conn(ctx).Select(serviceColumns).Take(&r, id).Error; err != nil {
		return domain.Service{}, fmt.Errorf("store: unable to read service %d: %w", id, translate(err))
	}
	out, err := s.withAreas(ctx, []serviceRow{r})
	if err != nil {
		return domain.Service{}, err
	}
	return out[0], nil
}

// ServicesBySourceID returns the services with these directory ids, by id.
func (s *Store) ServicesBySourceID(ctx context.Context, ids []string) (map[string]domain.Service, error) {
	out := map[string]domain.Service{}
	for start := 0; start < len(ids); start += 500 {
		chunk := ids[start:min(start+500, len(ids))]
		var rows []serviceRow
		if err := s.conn(ctx).Select(serviceColumns).Where("source_id IN ?", chunk).Find(&rows).Error; err != nil {
			return nil, fmt.Errorf("store: unable to find services by directory id: %w", translate(err))
		}
		services, err := s.withAreas(ctx, rows)
		if err != nil {
			return nil, err
		}
		for _, svc := range services {
			out[svc.SourceID] = svc
		}
	}
	return out, nil
}

// CreateService inserts a service with its areas and webhook secret, and sets its ID.
func (s *Store) CreateService(ctx context.Context, svc *domain.Service, webhookSecret string) error {
	row, err := serviceToRow(*svc)
	if err != nil {
		return err
	}
	row.ID, row.WebhookSecret, row.Fallback = 0, webhookSecret, false
	return s.Transact(ctx, func(ctx context.Context) error {
		if err := s.conn(ctx).Create(&row).Error; err != nil {
			return fmt.Errorf("store: unable to create service: %w", translate(err))
		}
		svc.ID = row.ID
		return s.setServiceAreas(ctx, row.ID, svc.AreaIDs)
	})
}

// UpdateService writes every field of a service and its areas, but not its webhook secret nor
// its fallback mark.
func (s *Store) UpdateService(ctx context.Context, svc domain.Service) error {
	row, err := serviceToRow(svc)
	if err != nil {
		return err
	}
	return s.Transact(ctx, func(ctx context.Context) error {
		res := s.conn(ctx).Model(&serviceRow{}).Where("id = ?", svc.ID).Updates(map[string]any{
			"source": row.Source, "source_id": row.SourceID, "organisation": row.Organisation, "name": row.Name, "description": row.Description,
			"taxonomy_terms": row.TaxonomyTerms, "directory_terms": row.DirectoryTerms, "min_age": row.MinAge, "max_age": row.MaxAge,
			"eligibility_description": row.EligibilityDescription, "priority": row.Priority, "email": row.Email,
			"directory_email": row.DirectoryEmail, "webhook_url": row.WebhookURL, "active": row.Active,
			"last_modified": row.LastModified, "updated_at": row.UpdatedAt})
		if res.Error != nil {
			return fmt.Errorf("store: unable to update service %d: %w", svc.ID, translate(res.Error))
		}
		if res.RowsAffected == 0 {
			return fmt.Errorf("store: service %d: %w", svc.ID, domain.ErrNotFound)
		}
		return s.setServiceAreas(ctx, svc.ID, svc.AreaIDs)
	})
}

// setServiceAreas makes the service's areas exactly these.
func (s *Store) setServiceAreas(ctx context.Context, id int64, areaIDs []int64) error {
	if err := s.conn(ctx).Where("service_id = ?", id).Delete(&serviceAreaRow{}).Error; err != nil {
		return fmt.Errorf("store: unable to change the areas of service %d: %w", id, translate(err))
	}
	if len(areaIDs) == 0 {
		return nil
	}
	links := make([]serviceAreaRow, len(areaIDs))
	for i, a := range areaIDs {
		links[i] = serviceAreaRow{ServiceID: id, AreaID: a}
	}
	if err := s.conn(ctx).Create(&links).Error; err != nil {
		return fmt.Errorf("store: unable to change the areas of service %d: %w", id, translate(err))
	}
	return nil
}

// SetWebhookSecret replaces a service's webhook secret.
func (s *Store) SetWebhookSecret(ctx context.Context, id int64, secret string) error {
	res := s.conn(ctx).Model(&serviceRow{}).Where("id = ?", id).Update("webhook_secret", secret)
	if res.Error != nil {
		return fmt.Errorf("store: unable to set the webhook secret of service %d: %w", id, translate(res.Error))
	}
	if res.RowsAffected == 0 {
		return fmt.Errorf("store: service %d: %w", id, domain.ErrNotFound)
	}
	return nil
}

// WebhookSecret reads a service's webhook secret, to sign its webhooks.
func (s *Store) WebhookSecret(ctx context.Context, id int64) (string, error) {
	var r serviceRow
	if err := s.conn(ctx).Select("id", "webhook_secret").Take(&r, id).Error; err != nil {
		return "", fmt.Errorf("store: unable to read the webhook secret of service %d: %w", id, translate(err))
	}
	if r.WebhookSecret == "" {
		return "", fmt.Errorf("store: service %d has no webhook secret to sign with", id)
	}
	return r.WebhookSecret, nil
}

// SetFallback marks one service as the fallback, unmarking any other first (the unique index
// allows one); 0 unmarks all.
func (s *Store) SetFallback(ctx context.Context, id int64) error {
	return s.Transact(ctx, func(ctx context.Context) error {
		if err := s.conn(ctx).Model(&serviceRow{}).Where("fallback AND id <> ?", id).Update("fallback", false).Error; err != nil {
			return fmt.Errorf("store: unable to unmark the fallback service: %w", translate(err))
		}
		if id == 0 {
			return nil
		}
		res := s.conn(ctx).Model(&serviceRow{}).Where("id = ?", id).Update("fallback", true)
		if res.Error != nil {
			return fmt.Errorf("store: unable to mark service %d as the fallback: %w", id, translate(res.Error))
		}
		if res.RowsAffected == 0 {
			return fmt.Errorf("store: service %d: %w", id, domain.ErrNotFound)
		}
		return nil
	})
}

// FallbackService returns the service marked as the fallback; ErrNotFound when none is.
func (s *Store) FallbackService(ctx context.Context) (domain.Service, error) {
	var r serviceRow
	if err := s.conn(ctx).Select(serviceColumns).Where("fallback").Take(&r).Error; err != nil {
		return domain.Service{}, fmt.Errorf("store: unable to read the fallback service: %w", translate(err))
	}
	out, err := s.withAreas(ctx, []serviceRow{r})
	if err != nil {
		return domain.Service{}, err
	}
	return out[0], nil
}

// routableInAreaSQL selects the active services with a contact that cover an area.
const routableInAreaSQL = `active AND (email <> '' OR webhook_url <> '') AND id IN (SELECT service_id FROM service_areas WHERE area_id = ?)`

// RoutableServicesInArea lists the active services with a contact that cover the area, by id.
func (s *Store) RoutableServicesInArea(ctx context.Context, areaID int64) ([]domain.Service, error) {
	var rows []serviceRow
	if err := s.conn(ctx).Select(serviceColumns).Where(routableInAreaSQL, areaID).Order("id").Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("store: unable to list the services in area %d: %w", areaID, translate(err))
	}
	return s.withAreas(ctx, rows)
}

// RecordServiceImport logs an import and sets its ID.
func (s *Store) RecordServiceImport(ctx context.Context, imp *domain.ServiceImport) error {
	row := serviceImportRow{Source: imp.Source, Format: imp.Format, Feed: imp.Feed, FetchedAt: imp.FetchedAt.UTC(), Imported: imp.Imported,
		Updated: imp.Updated, Unchanged: imp.Unchanged, Skipped: imp.Skipped, ActorName: imp.ActorName}
	if err := s.conn(ctx).Create(&row).Error; err != nil {
		return fmt.Errorf("store: unable to log a service import: %w", translate(err))
	}
	imp.ID = row.ID
	return nil
}

// LastServiceImport returns the latest import from a source; ErrNotFound when there was none.
func (s *Store) LastServiceImport(ctx context.Context, source string) (domain.ServiceImport, error) {
	var r serviceImportRow
	if err := s.conn(ctx).Where("source = ?", source).Order("fetched_at DESC, id DESC").Take(&r).Error; err != nil {
		return domain.ServiceImport{}, fmt.Errorf("store: unable to read the last import from %s: %w", source, translate(err))
	}
	return domain.ServiceImport{ID: r.ID, Source: r.Source, Format: r.Format, Feed: r.Feed, FetchedAt: r.FetchedAt.UTC(), Imported: r.Imported,
		Updated: r.Updated, Unchanged: r.Unchanged, Skipped: r.Skipped, ActorName: r.ActorName}, nil
}
