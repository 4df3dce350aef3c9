package app

import (
	"strconv"

	"github.com/gofiber/fiber/v2"
)

func itoa(id int64) string { return strconv.FormatInt(id, 10) }

func (s *Server) accountPage(c *fiber.Ctx) error {
	return s.renderAccount(c, fiber.StatusOK, formPage{})
}

func (s *Server) renderAccount(c *fiber.Ctx, status int, fp formPage) error {
	ctx := c.UserContext()
	me := currentMember(c)
	consents, err := s.svc.Membership.Consents(ctx, s.actor(c), me.ID)
	if err != nil {
		return err
	}
	areas, err := s.svc.Catalogue.Areas(ctx)
	if err != nil {
		return err
	}
	checks, err := s.svc.Safeguarding.MemberChecks(ctx, s.actor(c), me.ID)
	if err != nil {
		return err
	}
	concerns, err := s.svc.Safeguarding.ConcernsRaisedBy(ctx, s.actor(c))
	if err != nil {
		return err
	}
	return s.render(c, status, "pages/account", "My account", fp.into(fiber.Map{"Consents": consents, "Areas": areas,
		"Checks": checks, "Concerns": concerns}))
}

func (s *Server) changePassword(c *fiber.Ctx) error {
	token, _ := c.Locals(localSession).(string)
	err := s.svc.Accounts.ChangePassword(c.UserContext(), s.actor(c), c.FormValue("current_password"), c.FormValue("new_password"), token)
	if err != nil {
		return retryForm(err, func(p problem) error { return s.renderAccount(c, p.Status, failed(nil, p)) })
	}
	s.flash(c, "Your password has been changed. Any other devices signed in to your account have been signed out.")
	return c.Redirect("/account", fiber.StatusSeeOther)
}

// apiMe is GET /api/v1/me.
func (s *Server) apiMe(c *fiber.Ctx) error {
	return sendJSON(c, fiber.StatusOK, toMemberJSON(*currentMember(c)))
}
