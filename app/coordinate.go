package app

import (
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/coop-exchange/coop/domain"
)

func (s *Server) homePage(c *fiber.Ctx) error {
	return s.render(c, fiber.StatusOK, "pages/home", "Neighbours supporting neighbours", nil)
}

// coordinatePage is the coordinators' starting point: what is waiting for them.
func (s *Server) coordinatePage(c *fiber.Ctx) error {
	waiting, err := s.svc.Membership.CountApplications(c.UserContext(), s.actor(c))
	if err != nil {
		return err
	}
	data := fiber.Map{"Waiting": waiting}
	passes, err := s.svc.Matches.LatestPasses(c.UserContext(), s.actor(c), 1)
	if err != nil {
		return err
	}
	if len(passes) > 0 {
		data["Latest"] = passes[0]
	}
	if data["Notices"], err = s.svc.Matches.Notices(c.UserContext(), s.actor(c), 5); err != nil {
		return err
	}
	if err := s.safeguardingQueue(c, data); err != nil {
		return err
	}
	return s.render(c, fiber.StatusOK, "pages/coordinate", "Coordinating", data)
}

// auditPage shows the audit log, newest first, optionally for one action or record.
func (s *Server) auditPage(c *fiber.Ctx) error {
	page, err := pageQuery(c)
	if err != nil {
		return err
	}
	q := domain.AuditQuery{Action: strings.Clone(c.Query("action")), SubjectType: strings.Clone(c.Query("subject_type")), Page: page}
	if raw := c.Query("subject"); raw != "" {
		id, ok := domain.ParseID(raw)
		if !ok {
			return domain.Invalid("subject", "The record must be given by its number")
		}
		q.SubjectID = id
	}
	events, err := s.svc.Audit.List(c.UserContext(), s.actor(c), q)
	if err != nil {
		return err
	}
	return s.render(c, fiber.StatusOK, "pages/audit", "Audit log", fiber.Map{
		"Events": events.Items, "Next": encodeCursor(events.Next), "Query": q,
		"Actions": []string{domain.AuditSignIn, domain.AuditSignInFailed, domain.AuditSignOut, domain.AuditPasswordChanged,
			domain.AuditApplicationReceived, domain.AuditApplicationApproved, domain.AuditApplicationDeclined,
			domain.AuditMemberAdded, domain.AuditRoleChanged, domain.AuditTokenCreated, domain.AuditAreaChanged,
			domain.AuditCategoryChanged, domain.AuditCheckRecorded, domain.AuditConcernRaised, domain.AuditConcernViewed,
			domain.AuditConcernHandled},
	})
}
