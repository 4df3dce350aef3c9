package app

import (
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/coop-exchange/coop/domain"
)

// applicationRequest is the body of POST /api/v1/applications.
type applicationRequest struct {
	Name     string `json:"name"`
	Email    string `json:"email"`
	Phone    string `json:"phone"`
	AreaID   int64  `json:"area_id"`
	Password string `json:"password"`
	Reason   string `json:"reason"`
	Consent  bool   `json:"consent"`
}

func (s *Server) joinPage(c *fiber.Ctx) error {
	return s.renderJoin(c, fiber.StatusOK, formPage{})
}

// formAreas lists the areas for a form. When the form is being shown again after a failure and
// the database is away, it uses the areas last seen rather than lose what the person typed.
func (s *Server) formAreas(c *fiber.Ctx, fp formPage) ([]domain.Area, error) {
	areas, err := s.svc.Catalogue.Areas(c.UserContext())
	if err != nil && (fp.Errors != nil || fp.Summary != "") {
		return s.svc.Catalogue.LastKnownAreas(), nil
	}
	return areas, err
}

func (s *Server) renderJoin(c *fiber.Ctx, status int, fp formPage) error {
	areas, err := s.formAreas(c, fp)
	if err != nil {
		return err
	}
	return s.render(c, status, "pages/join", "Join the co-op", fp.into(fiber.Map{
		"Areas": areas, "ConsentWording": domain.DataHoldingConsentWording, "MinPassword": domain.MinPasswordLen,
	}))
}

func (s *Server) join(c *fiber.Ctx) error {
	values := map[string]string{}
	for _, k := range []string{"name", "email", "phone", "area_id", "reason", "consent"} {
		values[k] = strings.Clone(c.FormValue(k))
	}
	in := domain.ApplicationInput{Name: values["name"], Email: values["email"], Phone: values["phone"],
		Password: c.FormValue("password"), Reason: values["reason"], Consent: values["consent"] == "yes"}
	parse := &domain.ValidationError{}
	if values["area_id"] != "" {
		id, ok := domain.ParseID(values["area_id"])
		if !ok {
			parse.Add("area_id", "Choose an area from the list")
		}
		in.AreaID = id
	}
	var err error
	if err = parse.OrNil(); err == nil {
		_, err = s.svc.Membership.Apply(c.UserContext(), in, origin(c))
	}
	if err != nil {
		return retryForm(err, func(p problem) error { return s.renderJoin(c, p.Status, failed(values, p)) })
	}
	s.flash(c, "Thank you for applying, "+domain.Member{Name: in.Name}.FirstName()+".")
	return c.Redirect("/join/thanks", fiber.StatusSeeOther)
}

func (s *Server) joinThanks(c *fiber.Ctx) error {
	return s.render(c, fiber.StatusOK, "pages/join-thanks", "Thank you for applying", nil)
}

// apiApply is POST /api/v1/applications.
func (s *Server) apiApply(c *fiber.Ctx) error {
	var req applicationRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	m, err := s.svc.Membership.Apply(c.UserContext(), domain.ApplicationInput{Name: req.Name, Email: req.Email,
		Phone: req.Phone, AreaID: req.AreaID, Password: req.Password, Reason: req.Reason, Consent: req.Consent}, origin(c))
	if err != nil {
		return err
	}
	return sendJSON(c, fiber.StatusCreated, fiber.Map{
		"id": m.ID, "status": m.Status,
		"message": "Thank you for applying. A coordinator will look at your application; you can sign in once it is approved.",
		"consent": fiber.Map{"kind": domain.ConsentDataHolding, "wording": domain.DataHoldingConsentWording},
	})
}
