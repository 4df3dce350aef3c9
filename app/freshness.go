package app

import (
	"errors"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/coop-exchange/coop/domain"
)

// The "is your offer still available?" answers: the one-click link from the email (which works
// without signing in, because the signed token in it is the permission) and the button on the
// helper's own offer page.

// stillAvailablePage shows the emailed link's page: what the offer is and one button. It changes
// nothing, since mail scanners open links before people do.
func (s *Server) stillAvailablePage(c *fiber.Ctx) error {
	id, err := idParam(c)
	if err != nil {
		return err
	}
	token := strings.Clone(c.Query("t"))
	v, err := s.svc.Freshness.StillAvailableLink(c.UserContext(), id, token)
	return s.renderStillAvailable(c, v, token, false, err)
}

// confirmStillAvailable takes the button of the emailed link's page.
func (s *Server) confirmStillAvailable(c *fiber.Ctx) error {
	id, err := idParam(c)
	if err != nil {
		return err
	}
	token := strings.Clone(c.FormValue("t"))
	v, err := s.svc.Freshness.ConfirmByLink(c.UserContext(), s.actor(c), id, token)
	return s.renderStillAvailable(c, v, token, true, err)
}

// renderStillAvailable shows the link's page: the button, the thanks, or why the link cannot be used.
func (s *Server) renderStillAvailable(c *fiber.Ctx, v domain.StillAvailable, token string, posted bool, err error) error {
	var refused *domain.LinkRefusedError
	if errors.As(err, &refused) {
		status := fiber.StatusForbidden
		if refused.Stopped {
			status = fiber.StatusConflict
		}
		return s.render(c, status, "pages/still-available", "This link cannot be used", fiber.Map{"Refused": refused.Message})
	}
	if err != nil {
		return err
	}
	title := "Is your offer still available?"
	if posted || v.Already {
		title = "Thank you"
	}
	return s.render(c, fiber.StatusOK, "pages/still-available", title, fiber.Map{"Offer": v, "Token": token, "Posted": posted})
}

// confirmOffer takes the "Still available" button on the helper's own offer page.
func (s *Server) confirmOffer(c *fiber.Ctx) error {
	id, err := idParam(c)
	if err != nil {
		return err
	}
	already, err := s.svc.Freshness.Confirm(c.UserContext(), s.actor(c), id)
	if err != nil {
		return err
	}
	msg := "Thank you: the offer stays up. We will ask again in three months."
	if already {
		msg = "Thank you: the offer was already marked as still available, and stays up."
	}
	s.flash(c, msg)
	return c.Redirect("/offers/"+itoa(id), fiber.StatusSeeOther)
}
