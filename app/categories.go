package app

import (
	"encoding/json"
	"errors"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/coop-exchange/coop/domain"
)

// Categories: everyone signed in reads them; coordinators add and change them.

func splitLines(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool { return r == '\n' || r == '\r' })
}

func categoryForm(c *fiber.Ctx) map[string]string {
	values := map[string]string{}
	for _, k := range []string{"slug", "name", "requires_check", "taxonomy_terms", "moderation"} {
		values[k] = strings.Clone(c.FormValue(k))
	}
	return values
}

func (s *Server) categoriesPage(c *fiber.Ctx) error {
	return s.renderCategories(c, fiber.StatusOK, formPage{})
}

func (s *Server) renderCategories(c *fiber.Ctx, status int, fp formPage) error {
	cats, err := s.svc.Catalogue.Categories(c.UserContext())
	if err != nil {
		return err
	}
	return s.render(c, status, "pages/categories", "Categories of support", fp.into(fiber.Map{"Categories": cats}))
}

func (s *Server) createCategory(c *fiber.Ctx) error {
	values := categoryForm(c)
	cat, err := s.svc.Catalogue.CreateCategory(c.UserContext(), s.actor(c), domain.CategoryInput{
		Slug: values["slug"], Name: values["name"], RequiresCheck: values["requires_check"] == "yes",
		TaxonomyTerms: splitLines(values["taxonomy_terms"]), Moderation: domain.Moderation(values["moderation"])})
	if err != nil {
		return retryForm(err, func(p problem) error { return s.renderCategories(c, p.Status, failed(values, p)) })
	}
	s.flash(c, cat.Name+" has been added.")
	return c.Redirect("/coordinate/categories", fiber.StatusSeeOther)
}

func (s *Server) categoryPage(c *fiber.Ctx) error {
	return s.renderCategory(c, fiber.StatusOK, formPage{})
}

func (s *Server) renderCategory(c *fiber.Ctx, status int, fp formPage) error {
	id, err := idParam(c)
	if err != nil {
		return err
	}
	cat, err := s.svc.Catalogue.Category(c.UserContext(), id)
	if err != nil {
		return err
	}
	if fp.Values == nil {
		check := ""
		if cat.RequiresCheck {
			check = "yes"
		}
		fp.Values = map[string]string{"name": cat.Name, "requires_check": check, "taxonomy_terms": strings.Join(cat.TaxonomyTerms, "\n"),
			"moderation": string(cat.Moderation)}
		for _, u := range timingUrgencies {
			own := cat.Escalation[u]
			fp.Values[timingField(u, "wait")], fp.Values[timingField(u, "lead")] = hoursText(own.Wait), hoursText(own.Lead)
		}
	}
	return s.render(c, status, "pages/category", "Change "+cat.Name, fp.into(fiber.Map{"Category": cat, "Timings": timingRows()}))
}

// The category page's escalation timings: in hours, which read better than minutes; an empty
// box follows the default.

var timingUrgencies = []domain.Urgency{domain.Urgent, domain.Soon, domain.Routine}

func timingField(u domain.Urgency, part string) string { return "escalation." + string(u) + "." + part }

// timingRow is one urgency's pair of boxes on the category page.
type timingRow struct {
	Label, Wait, Lead, WaitHint, LeadHint string
}

func timingRows() []timingRow {
	rows := make([]timingRow, len(timingUrgencies))
	for i, u := range timingUrgencies {
		def := domain.DefaultEscalationTimings[u]
		rows[i] = timingRow{Label: u.Label(), Wait: timingField(u, "wait"), Lead: timingField(u, "lead"),
			WaitHint: "Leave empty for the default, " + domain.Duration(int(def.Wait/time.Minute)) + ".",
			LeadHint: "Leave empty for the default, " + domain.Duration(int(def.Lead/time.Minute)) + ". 0 means only the wait counts."}
	}
	return rows
}

// hoursText shows a category's own timing in hours ("1.5"), or nothing for the default. Two
// decimals are within a minute, so the value saves back as it was.
func hoursText(d *time.Duration) string {
	if d == nil {
		return ""
	}
	return strconv.FormatFloat(math.Round(d.Hours()*100)/100, 'f', -1, 64)
}

// parseHours reads a box of hours: empty goes back to the default.
func parseHours(v *domain.ValidationError, field, raw string) domain.DurationPatch {
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return domain.DurationPatch{Set: true}
	}
	h, err := strconv.ParseFloat(raw, 64)
	if err != nil || math.IsNaN(h) || math.Abs(h) > 1e6 {
		v.Add(field, "Enter a number of hours, such as 12 or 1.5, or leave it empty for the default")
		return domain.DurationPatch{}
	}
	d := time.Duration(math.Round(h*60)) * time.Minute
	return domain.DurationPatch{Set: true, To: &d}
}

func (s *Server) updateCategory(c *fiber.Ctx) error {
	id, err := idParam(c)
	if err != nil {
		return err
	}
	values := categoryForm(c)
	name, check, terms := values["name"], values["requires_check"] == "yes", splitLines(values["taxonomy_terms"])
	patch := domain.CategoryPatch{Name: &name, RequiresCheck: &check, TaxonomyTerms: &terms, Escalation: map[domain.Urgency]domain.TimingPatch{}}
	if m := domain.Moderation(values["moderation"]); m != "" {
		patch.Moderation = &m
	}
	parse := &domain.ValidationError{}
	for _, u := range timingUrgencies {
		wait, lead := timingField(u, "wait"), timingField(u, "lead")
		values[wait], values[lead] = strings.Clone(c.FormValue(wait)), strings.Clone(c.FormValue(lead))
		patch.Escalation[u] = domain.TimingPatch{Wait: parseHours(parse, wait, values[wait]), Lead: parseHours(parse, lead, values[lead])}
	}
	if err := parse.OrNil(); err != nil {
		return retryForm(err, func(p problem) error { return s.renderCategory(c, p.Status, failed(values, p)) })
	}
	cat, err := s.svc.Catalogue.UpdateCategory(c.UserContext(), s.actor(c), id, patch)
	if err != nil {
		return retryForm(err, func(p problem) error { return s.renderCategory(c, p.Status, failed(values, p)) })
	}
	s.flash(c, cat.Name+" has been changed.")
	return c.Redirect("/coordinate/categories", fiber.StatusSeeOther)
}

func (s *Server) deleteCategory(c *fiber.Ctx) error {
	id, err := idParam(c)
	if err != nil {
		return err
	}
	if err := s.svc.Catalogue.DeleteCategory(c.UserContext(), s.actor(c), id); err != nil {
		return retryForm(err, func(p problem) error { return s.renderCategory(c, p.Status, failed(nil, p)) })
	}
	s.flash(c, "The category has been removed.")
	return c.Redirect("/coordinate/categories", fiber.StatusSeeOther)
}

// API

type categoryRequest struct {
	Slug          *string   `json:"slug"`
	Name          *string   `json:"name"`
	RequiresCheck *bool     `json:"requires_check"`
	TaxonomyTerms *[]string `json:"taxonomy_terms"`
	Moderation    *string   `json:"moderation"`
	// Escalation is read by escalationChanges, which tells null (back to the defaults) from absent.
	Escalation json.RawMessage `json:"escalation"`
}

func (r categoryRequest) moderation() *domain.Moderation {
	if r.Moderation == nil {
		return nil
	}
	m := domain.Moderation(*r.Moderation)
	return &m
}

func (s *Server) apiCategories(c *fiber.Ctx) error {
	cats, err := s.svc.Catalogue.Categories(c.UserContext())
	if err != nil {
		return err
	}
	return sendJSON(c, fiber.StatusOK, list[categoryJSON]{Items: toAll(cats, toCategoryJSON)})
}

func (s *Server) apiCategory(c *fiber.Ctx) error {
	id, err := idParam(c)
	if err != nil {
		return err
	}
	cat, err := s.svc.Catalogue.Category(c.UserContext(), id)
	if err != nil {
		return err
	}
	return sendJSON(c, fiber.StatusOK, toCategoryJSON(cat))
}

func (s *Server) apiCreateCategory(c *fiber.Ctx) error {
	var req categoryRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	in := domain.CategoryInput{}
	if req.Slug != nil {
		in.Slug = *req.Slug
	}
	if req.Name != nil {
		in.Name = *req.Name
	}
	if req.RequiresCheck != nil {
		in.RequiresCheck = *req.RequiresCheck
	}
	if req.TaxonomyTerms != nil {
		in.TaxonomyTerms = *req.TaxonomyTerms
	}
	if m := req.moderation(); m != nil {
		in.Moderation = *m
	}
	changes, err := escalationChanges(req.Escalation)
	if err != nil {
		return err
	}
	in.Escalation = domain.EscalationOverrides(nil).Patched(changes)
	cat, err := s.svc.Catalogue.CreateCategory(c.UserContext(), s.actor(c), in)
	if err != nil {
		return inMinutes(err)
	}
	c.Location("/api/v1/categories/" + itoa(cat.ID))
	return sendJSON(c, fiber.StatusCreated, toCategoryJSON(cat))
}

func (s *Server) apiPatchCategory(c *fiber.Ctx) error {
	id, err := idParam(c)
	if err != nil {
		return err
	}
	var req categoryRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	if req.Slug != nil {
		cat, err := s.svc.Catalogue.Category(c.UserContext(), id)
		if err != nil {
			return err
		}
		if *req.Slug != cat.Slug {
			return domain.Invalid("slug", "A category's slug cannot change, because offers and requests refer to it; add a new category instead")
		}
	}
	changes, err := escalationChanges(req.Escalation)
	if err != nil {
		return err
	}
	cat, err := s.svc.Catalogue.UpdateCategory(c.UserContext(), s.actor(c), id, domain.CategoryPatch{
		Name: req.Name, RequiresCheck: req.RequiresCheck, TaxonomyTerms: req.TaxonomyTerms, Moderation: req.moderation(), Escalation: changes})
	if err != nil {
		return inMinutes(err)
	}
	return sendJSON(c, fiber.StatusOK, toCategoryJSON(cat))
}

func (s *Server) apiDeleteCategory(c *fiber.Ctx) error {
	id, err := idParam(c)
	if err != nil {
		return err
	}
	if err := s.svc.Catalogue.DeleteCategory(c.UserContext(), s.actor(c), id); err != nil {
		return err
	}
	return c.SendStatus(fiber.StatusNoContent)
}

// escalationChanges reads a category request's escalation object. Absent changes nothing; null
// sends every timing back to the default, as does null for an urgency or for one of its
// minutes; an urgency or minutes left out stay as they are.
func escalationChanges(raw json.RawMessage) (map[domain.Urgency]domain.TimingPatch, error) {
	if raw == nil {
		return nil, nil
	}
	reset := domain.TimingPatch{Wait: domain.DurationPatch{Set: true}, Lead: domain.DurationPatch{Set: true}}
	out := map[domain.Urgency]domain.TimingPatch{}
	if isNull(raw) {
		for _, u := range timingUrgencies {
			out[u] = reset
		}
		return out, nil
	}
	var byUrgency map[string]json.RawMessage
	if err := json.Unmarshal(raw, &byUrgency); err != nil {
		return nil, domain.Invalid("escalation", "Must be an object with urgent, soon and routine, or null for the defaults")
	}
	v := &domain.ValidationError{}
	for _, key := range sortedKeys(byUrgency) {
		path, u := "escalation."+key, domain.Urgency(key)
		if !slices.Contains(timingUrgencies, u) {
			v.Add(path, "There is no urgency %q; use urgent, soon or routine", key)
			continue
		}
		if isNull(byUrgency[key]) {
			out[u] = reset
			continue
		}
		var parts map[string]json.RawMessage
		if err := json.Unmarshal(byUrgency[key], &parts); err != nil {
			v.Add(path, "Must be an object with wait_minutes and lead_minutes, or null for the defaults")
			continue
		}
		var p domain.TimingPatch
		for _, part := range sortedKeys(parts) {
			switch part {
			case "wait_minutes":
				p.Wait = minutesChange(v, path+"."+part, parts[part])
			case "lead_minutes":
				p.Lead = minutesChange(v, path+"."+part, parts[part])
			default:
				v.Add(path+"."+part, "There is no field %q here; use wait_minutes and lead_minutes", part)
			}
		}
		out[u] = p
	}
	if err := v.OrNil(); err != nil {
		return nil, err
	}
	return out, nil
}

// maxMinutes keeps a number of minutes within a time.Duration.
const maxMinutes = math.MaxInt64 / int64(time.Minute)

func minutesChange(v *domain.ValidationError, field string, raw json.RawMessage) domain.DurationPatch {
	if isNull(raw) {
		return domain.DurationPatch{Set: true}
	}
	var n int64
	if err := json.Unmarshal(raw, &n); err != nil || n > maxMinutes || n < -maxMinutes {
		v.Add(field, "Must be a whole number of minutes, up to 43200 (30 days), or null for the default")
		return domain.DurationPatch{}
	}
	d := time.Duration(n) * time.Minute
	return domain.DurationPatch{Set: true, To: &d}
}

func isNull(raw json.RawMessage) bool { return strings.TrimSpace(string(raw)) == "null" }

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// inMinutes names the domain's escalation timing fields as the API does: the domain's
// escalation.urgent.wait is the API's escalation.urgent.wait_minutes.
func inMinutes(err error) error {
	var verr *domain.ValidationError
	if errors.As(err, &verr) {
		for i, f := range verr.Fields {
			if strings.HasPrefix(f.Field, "escalation.") && (strings.HasSuffix(f.Field, ".wait") || strings.HasSuffix(f.Field, ".lead")) {
				verr.Fields[i].Field += "_minutes"
			}
		}
	}
	return err
}
