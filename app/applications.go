package app

import (
	"strings"

	"github.com/gofiber/fiber/v2"
)

// The membership queue, for coordinators.

func (s *Server) applicationsPage(c *fiber.Ctx) error {
	ctx := c.UserContext()
	q, err := pageQuery(c)
	if err != nil {
		return err
	}
	page, err := s.svc.Membership.Applications(ctx, s.actor(c), q)
	if err != nil {
		return err
	}
	areas, err := s.svc.Catalogue.Areas(ctx)
	if err != nil {
		return err
	}
	return s.render(c, fiber.StatusOK, "pages/applications", "Applications to join", fiber.Map{
		"Applications": page.Items, "Next": encodeCursor(page.Next), "Areas": areas, "First": q.After == 0,
	})
}

func (s *Server) applicationPage(c *fiber.Ctx) error {
	return s.renderApplication(c, fiber.StatusOK, formPage{})
}

func (s *Server) renderApplication(c *fiber.Ctx, status int, fp formPage) error {
	r, err := s.loadMember(c)
	if err != nil {
		return err
	}
	var decidedBy string
	if r.Member.DecidedBy != 0 {
		if d, err := s.svc.Membership.Member(c.UserContext(), s.actor(c), r.Member.DecidedBy); err == nil {
			decidedBy = d.Name
		}
	}
	return s.render(c, status, "pages/application", "Application from "+r.Member.Name, fp.into(fiber.Map{
		"Applicant": r.Member, "Consents": r.Consents, "Areas": r.Areas, "DecidedBy": decidedBy,
	}))
}

func (s *Server) approveApplication(c *fiber.Ctx) error {
	id, err := idParam(c)
	if err != nil {
		return err
	}
	m, err := s.svc.Membership.Approve(c.UserContext(), s.actor(c), id)
	if err != nil {
		return retryForm(err, func(p problem) error { return s.renderApplication(c, p.Status, failed(nil, p)) })
	}
	s.flash(c, m.Name+" is now a member. They can sign in with the email and password they gave.")
	return c.Redirect("/coordinate/applications", fiber.StatusSeeOther)
}

func (s *Server) declineApplication(c *fiber.Ctx) error {
	id, err := idParam(c)
	if err != nil {
		return err
	}
	values := map[string]string{"reason": strings.Clone(c.FormValue("reason"))}
	m, err := s.svc.Membership.Decline(c.UserContext(), s.actor(c), id, values["reason"])
	if err != nil {
		return retryForm(err, func(p problem) error { return s.renderApplication(c, p.Status, failed(values, p)) })
	}
	s.flash(c, m.Name+"'s application has been declined. They will see your reason when they try to sign in.")
	return c.Redirect("/coordinate/applications", fiber.StatusSeeOther)
}

// API

func (s *Server) apiApplications(c *fiber.Ctx) error {
	q, err := pageQuery(c)
	if err != nil {
		return err
	}
	page, err := s.svc.Membership.Applications(c.UserContext(), s.actor(c), q)
	if err != nil {
		return err
	}
	return sendJSON(c, fiber.StatusOK, listOf(page, toApplicationJSON))
}

func (s *Server) apiApprove(c *fiber.Ctx) error {
	id, err := idParam(c)
	if err != nil {
		return err
	}
	m, err := s.svc.Membership.Approve(c.UserContext(), s.actor(c), id)
	if err != nil {
		return err
	}
	return sendJSON(c, fiber.StatusOK, toApplicationJSON(m))
}

type declineRequest struct {
	Reason string `json:"reason"`
}

func (s *Server) apiDecline(c *fiber.Ctx) error {
	id, err := idParam(c)
	if err != nil {
		return err
	}
	var req declineRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	m, err := s.svc.Membership.Decline(c.UserContext(), s.actor(c), id, req.Reason)
	if err != nil {
		return err
	}
	return sendJSON(c, fiber.StatusOK, toApplicationJSON(m))
}
