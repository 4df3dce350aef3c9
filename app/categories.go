package app

import (
	"strings"

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
	}
	return s.render(c, status, "pages/category", "Change "+cat.Name, fp.into(fiber.Map{"Category": cat}))
}

func (s *Server) updateCategory(c *fiber.Ctx) error {
	id, err := idParam(c)
	if err != nil {
		return err
	}
	values := categoryForm(c)
	name, check, terms := values["name"], values["requires_check"] == "yes", splitLines(values["taxonomy_terms"])
	patch := domain.CategoryPatch{Name: &name, RequiresCheck: &check, TaxonomyTerms: &terms}
	if m := domain.Moderation(values["moderation"]); m != "" {
		patch.Moderation = &m
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
	cat, err := s.svc.Catalogue.CreateCategory(c.UserContext(), s.actor(c), in)
	if err != nil {
		return err
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
	cat, err := s.svc.Catalogue.UpdateCategory(c.UserContext(), s.actor(c), id, domain.CategoryPatch{
		Name: req.Name, RequiresCheck: req.RequiresCheck, TaxonomyTerms: req.TaxonomyTerms, Moderation: req.moderation()})
	if err != nil {
		return err
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
