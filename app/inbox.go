package app

import (
	"errors"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/coop-exchange/coop/domain"
)

// The services inbox: the people of a formal service see the escalations sent to them, new ones
// first, read each (every read is audited), and answer. Coordinators send drafts and withdraw
// escalations from the request's page and their own list.

// registerEscalationRoutes declares the escalation pages and API.
func (s *Server) registerEscalationRoutes() {
	answerers := Access{Roles: []domain.Role{domain.RoleServices, domain.RoleCoordinator, domain.RoleAdmin}}
	servicesOnly := Access{Roles: []domain.Role{domain.RoleServices}}
	s.get("/inbox", servicesOnly, s.inboxPage)
	s.get("/inbox/:id", servicesOnly, s.inboxItemPage)
	s.post("/inbox/:id/acknowledge", servicesOnly, s.acknowledgeEscalation)
	s.post("/inbox/:id/status", servicesOnly, s.answerEscalation)

	s.get("/coordinate/escalations", coordinators, s.coordinateEscalationsPage)
	s.post("/coordinate/escalations/:id/status", coordinators, s.coordinateEscalation)
	s.post("/coordinate/escalations/review", coordinators, s.setEscalationReview)
	s.post("/requests/:id/consent/withdraw", posters, s.withdrawConsent)

	s.get("/api/v1/escalations", answerers, s.apiEscalations)
	s.get("/api/v1/escalations/:id", answerers, s.apiEscalation)
	s.post("/api/v1/escalations/:id/status", answerers, s.apiEscalationStatus)
}

func (s *Server) inboxPage(c *fiber.Ctx) error {
	in, err := s.svc.Escalations.Inbox(c.UserContext(), s.actor(c))
	if err != nil {
		return err
	}
	me := currentMember(c)
	return s.render(c, fiber.StatusOK, "pages/inbox", "Inbox", fiber.Map{"Inbox": in, "Now": c.Context().Time(),
		"NoServices": me != nil && len(me.Services) == 0})
}

// moveChoice is one answer the inbox offers, with what it needs.
type moveChoice struct {
	Status      domain.EscalationStatus
	Label       string // the button
	NeedsReason bool
	NeedsResult bool
}

// serviceChoices words the moves a service may make from a status, in the order a service
// would consider them.
func serviceChoices(from domain.EscalationStatus) []moveChoice {
	labels := map[domain.EscalationStatus]string{
		domain.EscalationAccepted:       "Accept: we will take this on",
		domain.EscalationRejected:       "Reject: we cannot take this on",
		domain.EscalationInProgress:     "Start: we are working on it",
		domain.EscalationOnHold:         "Put on hold",
		domain.EscalationCompleted:      "Complete: it is done",
		domain.EscalationFailed:         "We could not complete it",
		domain.EscalationCancelled:      "Withdraw: we are no longer involved",
		domain.EscalationEnteredInError: "Sent to us in error",
	}
	var out []moveChoice
	for _, to := range domain.AllowedMoves(domain.SideService, from) {
		out = append(out, moveChoice{Status: to, Label: labels[to], NeedsReason: to == domain.EscalationRejected,
			NeedsResult: to == domain.EscalationCompleted})
	}
	return out
}

func (s *Server) inboxItemPage(c *fiber.Ctx) error {
	return s.renderInboxItem(c, fiber.StatusOK, formPage{})
}

func (s *Server) renderInboxItem(c *fiber.Ctx, status int, fp formPage) error {
	id, err := idParam(c)
	if err != nil {
		return err
	}
	rec, err := s.svc.Escalations.Record(c.UserContext(), s.actor(c), id)
	if err != nil {
		return err
	}
	data := fiber.Map{"Record": rec, "Choices": serviceChoices(rec.Status), "Now": c.Context().Time()}
	return s.render(c, status, "pages/inbox-item", rec.CategoryName+" in "+rec.AreaName, fp.into(data))
}

func (s *Server) acknowledgeEscalation(c *fiber.Ctx) error {
	id, err := idParam(c)
	if err != nil {
		return err
	}
	if _, err := s.svc.Escalations.Acknowledge(c.UserContext(), s.actor(c), id); err != nil {
		return retryForm(err, func(p problem) error { return s.renderInboxItem(c, p.Status, failed(nil, p)) })
	}
	s.flash(c, "Acknowledged: the co-op and the person can see that you have it.")
	return c.Redirect("/inbox/"+itoa(id), fiber.StatusSeeOther)
}

// escalationMoveForm reads a status change from a form.
func escalationMoveForm(c *fiber.Ctx) (map[string]string, domain.EscalationMove) {
	values := map[string]string{"status": strings.Clone(c.FormValue("status")), "reason": strings.Clone(c.FormValue("reason")),
		"outcome": strings.Clone(c.FormValue("outcome"))}
	return values, domain.EscalationMove{To: domain.EscalationStatus(values["status"]), Reason: values["reason"], Outcome: values["outcome"]}
}

func (s *Server) answerEscalation(c *fiber.Ctx) error {
	id, err := idParam(c)
	if err != nil {
		return err
	}
	values, m := escalationMoveForm(c)
	l, err := s.svc.Escalations.Move(c.UserContext(), s.actor(c), id, m)
	if err != nil {
		return retryForm(err, func(p problem) error { return s.renderInboxItem(c, p.Status, failed(values, p)) })
	}
	s.flash(c, "Saved: it is now "+strings.ToLower(l.Status.Label())+". The co-op and the person are told.")
	return c.Redirect("/inbox/"+itoa(id), fiber.StatusSeeOther)
}

// coordinateEscalation sends a draft, or withdraws an escalation, from the request's page.
func (s *Server) coordinateEscalation(c *fiber.Ctx) error {
	id, err := idParam(c)
	if err != nil {
		return err
	}
	_, m := escalationMoveForm(c)
	l, err := s.svc.Escalations.Move(c.UserContext(), s.actor(c), id, m)
	if err != nil {
		var invalid *domain.ValidationError
		if p := problemFor(err); p.Status == fiber.StatusConflict || errors.As(err, &invalid) {
			msg := p.Detail
			if invalid != nil {
				var parts []string
				for _, f := range invalid.Fields {
					parts = append(parts, f.Message+".")
				}
				msg = strings.Join(parts, " ")
			}
			s.flash(c, msg)
			if l, lerr := s.svc.Escalations.Get(c.UserContext(), s.actor(c), id); lerr == nil {
				return c.Redirect("/requests/"+itoa(l.RequestID), fiber.StatusSeeOther)
			}
			return c.Redirect("/coordinate/escalations", fiber.StatusSeeOther)
		}
		return err
	}
	msg := "Withdrawn: the service is told, and the request is open again for the community."
	if m.To == domain.EscalationRequested {
		msg = "Sent to " + l.ServiceName + "."
	}
	s.flash(c, msg)
	return c.Redirect("/requests/"+itoa(l.RequestID), fiber.StatusSeeOther)
}

func (s *Server) coordinateEscalationsPage(c *fiber.Ctx) error {
	q, err := pageQuery(c)
	if err != nil {
		return err
	}
	status := domain.EscalationStatus(c.Query("status"))
	limit := 50
	rows, err := s.svc.Escalations.List(c.UserContext(), s.actor(c), domain.EscalationQuery{Status: status, BeforeID: q.After, Limit: limit + 1})
	if err != nil {
		return err
	}
	review, err := s.svc.Escalations.Review(c.UserContext())
	if err != nil {
		return err
	}
	data := fiber.Map{"Status": string(status), "Statuses": domain.EscalationStatuses, "Now": c.Context().Time(), "Review": review}
	if len(rows) > limit {
		rows = rows[:limit]
		data["Next"] = "/coordinate/escalations?status=" + string(status) + "&cursor=" + *encodeCursor(rows[limit-1].ID)
	}
	type item struct {
		domain.EscalationListing
		Story string
	}
	items := make([]item, len(rows))
	for i, r := range rows {
		items[i] = item{r, r.Story(s.cfg.Location)}
	}
	data["Items"] = items
	return s.render(c, fiber.StatusOK, "pages/escalations", "Escalations to formal services", data)
}

// withdrawConsent records that the person no longer agrees to their need being passed on.
func (s *Server) withdrawConsent(c *fiber.Ctx) error {
	id, err := idParam(c)
	if err != nil {
		return err
	}
	n, err := s.svc.Escalations.WithdrawConsent(c.UserContext(), s.actor(c), id)
	if err != nil {
		var conflict *domain.ConflictError
		if errors.As(err, &conflict) {
			s.flash(c, conflict.Message)
			return c.Redirect("/requests/"+itoa(id), fiber.StatusSeeOther)
		}
		return err
	}
	msg := "Done: this request will not be passed to formal services."
	if n > 0 {
		msg = "Done: the service it was passed to has been told to stop, and the co-op looks for a neighbour to help again."
	}
	s.flash(c, msg)
	return c.Redirect("/requests/"+itoa(id), fiber.StatusSeeOther)
}

// setEscalationReview chooses whether the matcher sends escalations at once or holds them.
func (s *Server) setEscalationReview(c *fiber.Ctx) error {
	on := c.FormValue("review") == "yes"
	if err := s.svc.Escalations.SetReview(c.UserContext(), s.actor(c), on); err != nil {
		return err
	}
	msg := "Escalations are sent at once when they are due."
	if on {
		msg = "Escalations now wait as drafts for a coordinator to send them, from the request's page."
	}
	s.flash(c, msg)
	return c.Redirect("/coordinate/escalations", fiber.StatusSeeOther)
}
