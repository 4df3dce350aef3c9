package app

import (
	"bytes"
	"encoding/json"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/coop-exchange/coop/domain"
)

// The directory of formal services on the API: coordinators only.

type serviceJSON struct {
	ID                     int64      `json:"id"`
	Name                   string     `json:"name"`
	Organisation           string     `json:"organisation"`
	Description            string     `json:"description"`
	TaxonomyTerms          []string   `json:"taxonomy_terms"`
	AreaIDs                []int64    `json:"area_ids"`
	MinAge                 *int       `json:"min_age"`
	MaxAge                 *int       `json:"max_age"`
	EligibilityDescription string     `json:"eligibility_description"`
	Priority               int        `json:"priority"`
	Email                  string     `json:"email"`
	WebhookURL             string     `json:"webhook_url"`
	WebhookSecret          string     `json:"webhook_secret,omitempty"` // only when just made
	Active                 bool       `json:"active"`
	Fallback               bool       `json:"fallback"`
	Routable               bool       `json:"routable"`
	Source                 string     `json:"source"`
	SourceID               string     `json:"source_id"`
	DirectoryEmail         string     `json:"directory_email"`
	DirectoryTerms         []string   `json:"directory_terms"`
	LastModified           *time.Time `json:"last_modified"`
	UpdatedAt              time.Time  `json:"updated_at"`
}

func toServiceJSON(s domain.Service) serviceJSON {
	j := serviceJSON{ID: s.ID, Name: s.Name, Organisation: s.Organisation, Description: s.Description, TaxonomyTerms: nonNil(s.TaxonomyTerms),
		AreaIDs: s.AreaIDs, MinAge: s.MinAge, MaxAge: s.MaxAge, EligibilityDescription: s.EligibilityDescription, Priority: s.Priority,
		Email: s.Email, WebhookURL: s.WebhookURL, Active: s.Active, Fallback: s.Fallback, Routable: s.Routable(), Source: string(s.Source),
		SourceID: s.SourceID, DirectoryEmail: s.DirectoryEmail, DirectoryTerms: nonNil(s.DirectoryTerms), UpdatedAt: s.UpdatedAt}
	if j.AreaIDs == nil {
		j.AreaIDs = []int64{}
	}
	if !s.LastModified.IsZero() {
		j.LastModified = &s.LastModified
	}
	return j
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// optionalAge tells a field left out from one set to null (to clear it).
type optionalAge struct {
	Set   bool
	Value *int
}

func (o *optionalAge) UnmarshalJSON(b []byte) error {
	o.Set = true
	if string(b) == "null" {
		o.Value = nil
		return nil
	}
	var n int
	if err := json.Unmarshal(b, &n); err != nil {
		return err
	}
	o.Value = &n
	return nil
}

type serviceRequest struct {
	Name                   *string     `json:"name"`
	Organisation           *string     `json:"organisation"`
	Description            *string     `json:"description"`
	TaxonomyTerms          *[]string   `json:"taxonomy_terms"`
	AreaIDs                *[]int64    `json:"area_ids"`
	MinAge                 optionalAge `json:"min_age"`
	MaxAge                 optionalAge `json:"max_age"`
	EligibilityDescription *string     `json:"eligibility_description"`
	Priority               *int        `json:"priority"`
	Email                  *string     `json:"email"`
	WebhookURL             *string     `json:"webhook_url"`
	Active                 *bool       `json:"active"`
	// Fallback pins (true) or unpins (false) the service as the co-op's fallback; PATCH only.
	Fallback *bool `json:"fallback"`
	// NewWebhookSecret makes a new secret, returned once in webhook_secret; PATCH only.
	NewWebhookSecret bool `json:"new_webhook_secret"`
}

func (s *Server) apiServices(c *fiber.Ctx) error {
	page, err := pageQuery(c)
	if err != nil {
		return err
	}
	q := domain.ServiceQuery{Page: page}
	v := &domain.ValidationError{}
	q.Active = boolQuery(c, v, "active")
	q.Routable = boolQuery(c, v, "routable")
	if err := v.OrNil(); err != nil {
		return err
	}
	p, err := s.svc.Directory.List(c.UserContext(), s.actor(c), q)
	if err != nil {
		return err
	}
	return sendJSON(c, fiber.StatusOK, listOf(p, toServiceJSON))
}

// boolQuery reads ?name=true|false; nil when absent.
func boolQuery(c *fiber.Ctx, v *domain.ValidationError, name string) *bool {
	switch c.Query(name) {
	case "":
		return nil
	case "true", "yes":
		t := true
		return &t
	case "false", "no":
		f := false
		return &f
	}
	v.Add(name, "Give %s as true or false", name)
	return nil
}

func (s *Server) apiService(c *fiber.Ctx) error {
	id, err := idParam(c)
	if err != nil {
		return err
	}
	svc, err := s.svc.Directory.Get(c.UserContext(), s.actor(c), id)
	if err != nil {
		return err
	}
	return sendJSON(c, fiber.StatusOK, toServiceJSON(svc))
}

func (s *Server) apiCreateService(c *fiber.Ctx) error {
	var req serviceRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	if req.Fallback != nil || req.NewWebhookSecret {
		return domain.Invalid("fallback", "Add the service first, then pin it as the fallback or make a new secret with PATCH")
	}
	in := domain.ServiceInput{Active: true, MinAge: req.MinAge.Value, MaxAge: req.MaxAge.Value}
	setIfGiven(&in.Name, req.Name)
	setIfGiven(&in.Organisation, req.Organisation)
	setIfGiven(&in.Description, req.Description)
	setIfGiven(&in.TaxonomyTerms, req.TaxonomyTerms)
	setIfGiven(&in.AreaIDs, req.AreaIDs)
	setIfGiven(&in.EligibilityDescription, req.EligibilityDescription)
	setIfGiven(&in.Priority, req.Priority)
	setIfGiven(&in.Email, req.Email)
	setIfGiven(&in.WebhookURL, req.WebhookURL)
	setIfGiven(&in.Active, req.Active)
	svc, secret, err := s.svc.Directory.Create(c.UserContext(), s.actor(c), in)
	if err != nil {
		return err
	}
	j := toServiceJSON(svc)
	j.WebhookSecret = secret
	c.Set(fiber.HeaderCacheControl, "no-store")
	c.Location("/api/v1/services/" + itoa(svc.ID))
	return sendJSON(c, fiber.StatusCreated, j)
}

func setIfGiven[T any](dst *T, src *T) {
	if src != nil {
		*dst = *src
	}
}

func (s *Server) apiPatchService(c *fiber.Ctx) error {
	id, err := idParam(c)
	if err != nil {
		return err
	}
	var req serviceRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	ctx, by := c.UserContext(), s.actor(c)
	p := domain.ServicePatch{Name: req.Name, Organisation: req.Organisation, Description: req.Description, TaxonomyTerms: req.TaxonomyTerms,
		AreaIDs: req.AreaIDs, EligibilityDescription: req.EligibilityDescription, Priority: req.Priority, Email: req.Email,
		WebhookURL: req.WebhookURL, Active: req.Active}
	if req.MinAge.Set {
		p.MinAge, p.ClearMinAge = req.MinAge.Value, req.MinAge.Value == nil
	}
	if req.MaxAge.Set {
		p.MaxAge, p.ClearMaxAge = req.MaxAge.Value, req.MaxAge.Value == nil
	}
	svc, err := s.svc.Directory.Update(ctx, by, id, p)
	if err != nil {
		return err
	}
	if req.Fallback != nil {
		switch {
		case *req.Fallback:
			if svc, err = s.svc.Directory.PinFallback(ctx, by, id); err != nil {
				return err
			}
		case svc.Fallback:
			if err := s.svc.Directory.UnpinFallback(ctx, by); err != nil {
				return err
			}
			svc.Fallback = false
		}
	}
	j := toServiceJSON(svc)
	if req.NewWebhookSecret {
		if j.WebhookSecret, err = s.svc.Directory.NewWebhookSecret(ctx, by, id); err != nil {
			return err
		}
		c.Set(fiber.HeaderCacheControl, "no-store")
	}
	return sendJSON(c, fiber.StatusOK, j)
}

type importItemJSON struct {
	Index          int      `json:"index"`
	SourceID       string   `json:"source_id"`
	Name           string   `json:"name"`
	Outcome        string   `json:"outcome"`
	Reason         string   `json:"reason"`
	ServiceID      *int64   `json:"service_id"`
	UnmatchedAreas []string `json:"unmatched_areas"`
}

type importReportJSON struct {
	Source    string           `json:"source"`
	Imported  int              `json:"imported"`
	Updated   int              `json:"updated"`
	Unchanged int              `json:"unchanged"`
	Skipped   int              `json:"skipped"`
	Summary   string           `json:"summary"`
	Records   []importItemJSON `json:"records"`
}

func toImportReportJSON(r domain.ImportReport) importReportJSON {
	j := importReportJSON{Source: r.Source, Imported: r.Imported, Updated: r.Updated, Unchanged: r.Unchanged, Skipped: r.Skipped,
		Summary: r.Summary(), Records: make([]importItemJSON, len(r.Items))}
	for i, it := range r.Items {
		item := importItemJSON{Index: it.Index, SourceID: it.SourceID, Name: it.Name, Outcome: string(it.Outcome), Reason: it.Reason,
			UnmatchedAreas: nonNil(it.UnmatchedAreas)}
		if it.ServiceID != 0 {
			id := it.ServiceID
			item.ServiceID = &id
		}
		j.Records[i] = item
	}
	return j
}

// apiImportServices imports the body (an HSDS / ORUK document), or the feed at ?feed_url=.
func (s *Server) apiImportServices(c *fiber.Ctx) error {
	ctx, by := c.UserContext(), s.actor(c)
	var report domain.ImportReport
	var err error
	if feed := c.Query("feed_url"); feed != "" {
		if len(bytes.TrimSpace(c.Body())) > 0 {
			return domain.Invalid("feed_url", "Send either a directory in the body or a feed_url, not both")
		}
		report, err = s.svc.Directory.ImportFeed(ctx, by, strings.Clone(feed))
	} else {
		report, err = s.svc.Directory.ImportFile(ctx, by, "the request body", bytes.Clone(c.Body()))
	}
	if err != nil {
		return err
	}
	return sendJSON(c, fiber.StatusOK, toImportReportJSON(report))
}
