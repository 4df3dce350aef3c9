package app

import (
	"errors"
	"io"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/coop-exchange/coop/domain"
)

// The directory of formal services, for coordinators: the list, the form, the secret shown
// once, and the import.

// maxUploadBytes is the largest directory file the upload page takes; larger ones are imported
// from their feed or with coop services import. The request body limit (1 MiB) applies first.
const maxUploadBytes = 1 << 20

var serviceFormFields = []string{"name", "organisation", "description", "taxonomy_terms", "min_age", "max_age",
	"eligibility_description", "priority", "email", "webhook_url", "active"}

func (s *Server) servicesPage(c *fiber.Ctx) error {
	q := domain.ServiceQuery{Page: domain.PageQuery{Limit: domain.MaxPageSize}}
	filter := c.Query("show")
	switch filter {
	case "active":
		t := true
		q.Active = &t
	case "routable":
		t := true
		q.Routable = &t
	case "unroutable":
		f := false
		q.Routable = &f
	default:
		filter = ""
	}
	if after, ok := domain.ParseID(c.Query("after")); ok {
		q.Page.After = after
	}
	page, err := s.svc.Directory.List(c.UserContext(), s.actor(c), q)
	if err != nil {
		return err
	}
	areas, err := s.svc.Catalogue.Areas(c.UserContext())
	if err != nil {
		return err
	}
	return s.render(c, fiber.StatusOK, "pages/services", "Formal services", fiber.Map{"Services": page.Items, "Next": page.Next,
		"Filter": filter, "Areas": areas})
}

func (s *Server) newServicePage(c *fiber.Ctx) error {
	return s.renderServiceForm(c, fiber.StatusOK, nil, formPage{Values: map[string]string{"active": "yes"}})
}

// renderServiceForm shows the form to add a service (svc nil) or change one.
func (s *Server) renderServiceForm(c *fiber.Ctx, status int, svc *domain.Service, fp formPage) error {
	areas, err := s.svc.Catalogue.Areas(c.UserContext())
	if err != nil {
		return err
	}
	selected := map[int64]bool{}
	if fp.Values == nil && svc != nil {
		fp.Values = serviceValues(*svc)
		for _, a := range svc.AreaIDs {
			selected[a] = true
		}
	} else {
		for _, a := range strings.Fields(fp.Values["area_ids"]) {
			if id, ok := domain.ParseID(a); ok {
				selected[id] = true
			}
		}
	}
	title := "Add a formal service"
	data := fiber.Map{"Service": svc, "Areas": areas, "SelectedAreas": selected}
	if svc != nil {
		title = "Change " + svc.Name
		ctx, by := c.UserContext(), s.actor(c)
		if data["Users"], err = s.svc.ServicePeople.Users(ctx, by, svc.ID); err != nil {
			return err
		}
		if data["Tokens"], err = s.svc.ServicePeople.Tokens(ctx, by, svc.ID); err != nil {
			return err
		}
	}
	return s.render(c, status, "pages/service", title, fp.into(data))
}

func serviceValues(svc domain.Service) map[string]string {
	v := map[string]string{"name": svc.Name, "organisation": svc.Organisation, "description": svc.Description,
		"taxonomy_terms": strings.Join(svc.TaxonomyTerms, "\n"), "eligibility_description": svc.EligibilityDescription,
		"priority": strconv.Itoa(svc.Priority), "email": svc.Email, "webhook_url": svc.WebhookURL}
	if svc.MinAge != nil {
		v["min_age"] = strconv.Itoa(*svc.MinAge)
	}
	if svc.MaxAge != nil {
		v["max_age"] = strconv.Itoa(*svc.MaxAge)
	}
	if svc.Active {
		v["active"] = "yes"
	}
	return v
}

// serviceForm reads the form: its values (to show again) and the input they make, or the
// fields that are not numbers.
func serviceForm(c *fiber.Ctx) (map[string]string, domain.ServiceInput, *domain.ValidationError) {
	values := map[string]string{}
	for _, k := range serviceFormFields {
		values[k] = strings.Clone(c.FormValue(k))
	}
	v := &domain.ValidationError{}
	in := domain.ServiceInput{Name: values["name"], Organisation: values["organisation"], Description: values["description"],
		TaxonomyTerms: splitLines(values["taxonomy_terms"]), EligibilityDescription: values["eligibility_description"],
		Email: values["email"], WebhookURL: values["webhook_url"], Active: values["active"] == "yes"}
	var ids []string
	for _, raw := range c.Request().PostArgs().PeekMulti("area_ids") {
		if id, ok := domain.ParseID(string(raw)); ok {
			in.AreaIDs = append(in.AreaIDs, id)
			ids = append(ids, string(raw))
		}
	}
	values["area_ids"] = strings.Join(ids, " ")
	number := func(field, what string) *int {
		raw := strings.TrimSpace(values[field])
		if raw == "" {
			return nil
		}
		n, err := strconv.Atoi(raw)
		if err != nil {
			v.Add(field, "Give the %s as a whole number, or leave it empty", what)
			return nil
		}
		return &n
	}
	in.MinAge = number("min_age", "minimum age")
	in.MaxAge = number("max_age", "maximum age")
	if p := number("priority", "priority"); p != nil {
		in.Priority = *p
	}
	return values, in, v
}

func (s *Server) createService(c *fiber.Ctx) error {
	values, in, v := serviceForm(c)
	if len(v.Fields) > 0 {
		return retryForm(v, func(p problem) error { return s.renderServiceForm(c, p.Status, nil, failed(values, p)) })
	}
	svc, secret, err := s.svc.Directory.Create(c.UserContext(), s.actor(c), in)
	if err != nil {
		return retryForm(err, func(p problem) error { return s.renderServiceForm(c, p.Status, nil, failed(values, p)) })
	}
	return s.renderSecret(c, svc, secret, svc.Name+" has been added.")
}

// renderSecret shows a webhook secret, the one time it is shown.
func (s *Server) renderSecret(c *fiber.Ctx, svc domain.Service, secret, message string) error {
	c.Set(fiber.HeaderCacheControl, "no-store")
	return s.render(c, fiber.StatusOK, "pages/service-secret", "The webhook secret of "+svc.Name,
		fiber.Map{"Service": svc, "Secret": secret, "Message": message})
}

func (s *Server) servicePage(c *fiber.Ctx) error {
	id, err := idParam(c)
	if err != nil {
		return err
	}
	svc, err := s.svc.Directory.Get(c.UserContext(), s.actor(c), id)
	if err != nil {
		return err
	}
	return s.renderServiceForm(c, fiber.StatusOK, &svc, formPage{})
}

func (s *Server) updateService(c *fiber.Ctx) error {
	id, err := idParam(c)
	if err != nil {
		return err
	}
	ctx, by := c.UserContext(), s.actor(c)
	svc, err := s.svc.Directory.Get(ctx, by, id)
	if err != nil {
		return err
	}
	values, in, v := serviceForm(c)
	again := func(p problem) error { return s.renderServiceForm(c, p.Status, &svc, failed(values, p)) }
	if len(v.Fields) > 0 {
		return retryForm(v, again)
	}
	p := domain.ServicePatch{Name: &in.Name, Organisation: &in.Organisation, Description: &in.Description, TaxonomyTerms: &in.TaxonomyTerms,
		AreaIDs: &in.AreaIDs, MinAge: in.MinAge, MaxAge: in.MaxAge, ClearMinAge: in.MinAge == nil, ClearMaxAge: in.MaxAge == nil,
		EligibilityDescription: &in.EligibilityDescription, Priority: &in.Priority, Email: &in.Email, WebhookURL: &in.WebhookURL, Active: &in.Active}
	if p.AreaIDs != nil && *p.AreaIDs == nil {
		*p.AreaIDs = []int64{}
	}
	updated, err := s.svc.Directory.Update(ctx, by, id, p)
	if err != nil {
		return retryForm(err, again)
	}
	msg := updated.Name + " has been changed."
	if !updated.HasContact() {
		msg += " It cannot be routed to until a contact is set."
	}
	s.flash(c, msg)
	return c.Redirect("/coordinate/services", fiber.StatusSeeOther)
}

func (s *Server) newServiceSecret(c *fiber.Ctx) error {
	id, err := idParam(c)
	if err != nil {
		return err
	}
	ctx, by := c.UserContext(), s.actor(c)
	svc, err := s.svc.Directory.Get(ctx, by, id)
	if err != nil {
		return err
	}
	secret, err := s.svc.Directory.NewWebhookSecret(ctx, by, id)
	if err != nil {
		return err
	}
	return s.renderSecret(c, svc, secret, "A new secret has been made. The old one no longer signs webhooks.")
}

func (s *Server) pinFallback(c *fiber.Ctx) error {
	id, err := idParam(c)
	if err != nil {
		return err
	}
	ctx, by := c.UserContext(), s.actor(c)
	svc, err := s.svc.Directory.PinFallback(ctx, by, id)
	if err != nil {
		var conflict *domain.ConflictError
		if errors.As(err, &conflict) {
			s.flash(c, conflict.Message)
			return c.Redirect("/coordinate/services/"+itoa(id), fiber.StatusSeeOther)
		}
		return err
	}
	s.flash(c, svc.Name+" is now the fallback: needs no other service covers go there.")
	return c.Redirect("/coordinate/services", fiber.StatusSeeOther)
}

func (s *Server) unpinFallback(c *fiber.Ctx) error {
	if _, err := idParam(c); err != nil {
		return err
	}
	if err := s.svc.Directory.UnpinFallback(c.UserContext(), s.actor(c)); err != nil {
		return err
	}
	s.flash(c, "There is no fallback service now: needs no service covers are shown to coordinators.")
	return c.Redirect("/coordinate/services", fiber.StatusSeeOther)
}

func (s *Server) importServicesPage(c *fiber.Ctx) error {
	return s.render(c, fiber.StatusOK, "pages/services-import", "Import formal services", formPage{}.into(fiber.Map{}))
}

// importServices takes an uploaded file (multipart, field "file") or a feed address.
func (s *Server) importServices(c *fiber.Ctx) error {
	values := map[string]string{"feed_url": strings.TrimSpace(strings.Clone(c.FormValue("feed_url")))}
	again := func(p problem) error {
		return s.render(c, p.Status, "pages/services-import", "Import formal services", failed(values, p).into(fiber.Map{}))
	}
	ctx, by := c.UserContext(), s.actor(c)
	var report domain.ImportReport
	var err error
	fh, ferr := c.FormFile("file")
	switch {
	case ferr == nil && fh.Size > 0:
		if fh.Size > maxUploadBytes {
			return retryForm(domain.Invalid("file", "The file is larger than 1 MB; import it with coop services import, or from the directory's feed"), again)
		}
		f, err := fh.Open()
		if err != nil {
			return err
		}
		data, err := io.ReadAll(io.LimitReader(f, maxUploadBytes+1))
		f.Close()
		if err != nil {
			return err
		}
		report, err = s.svc.Directory.ImportFile(ctx, by, strings.Clone(fh.Filename), data)
		if err != nil {
			return retryForm(err, again)
		}
	case values["feed_url"] != "":
		if report, err = s.svc.Directory.ImportFeed(ctx, by, values["feed_url"]); err != nil {
			return retryForm(err, again)
		}
	default:
		return retryForm(domain.Invalid("file", "Choose a directory file (JSON) to upload, or give the address of the directory's feed"), again)
	}
	return s.render(c, fiber.StatusOK, "pages/services-import", "Import formal services", fiber.Map{"Report": report})
}
