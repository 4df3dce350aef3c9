package app

import (
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/coop-exchange/coop/domain"
)

// The member list, adding members directly, and roles.

func memberQuery(c *fiber.Ctx) (domain.MemberQuery, error) {
	page, err := pageQuery(c)
	if err != nil {
		return domain.MemberQuery{}, err
	}
	q := domain.MemberQuery{Search: strings.Clone(c.Query("q")), Status: domain.MemberStatus(c.Query("status")),
		Role: domain.Role(c.Query("role")), Page: page}
	v := &domain.ValidationError{}
	if q.Status != "" && !q.Status.Valid() {
		v.Add("status", "Choose a status from the list")
	}
	if q.Role != "" && !q.Role.Valid() {
		v.Add("role", "Choose a role from the list")
	}
	return q, v.OrNil()
}

func (s *Server) membersPage(c *fiber.Ctx) error {
	ctx := c.UserContext()
	q, err := memberQuery(c)
	if err != nil {
		return err
	}
	page, err := s.svc.Membership.Members(ctx, s.actor(c), q)
	if err != nil {
		return err
	}
	areas, err := s.svc.Catalogue.Areas(ctx)
	if err != nil {
		return err
	}
	return s.render(c, fiber.StatusOK, "pages/members", "Members", fiber.Map{
		"Members": page.Items, "Next": encodeCursor(page.Next), "Areas": areas, "Query": q,
		"Statuses": domain.MemberStatuses, "First": q.Page.After == 0,
	})
}

func (s *Server) newMemberPage(c *fiber.Ctx) error {
	return s.renderNewMember(c, fiber.StatusOK, formPage{Values: map[string]string{"role": string(domain.RoleMember)}})
}

func (s *Server) renderNewMember(c *fiber.Ctx, status int, fp formPage) error {
	areas, err := s.formAreas(c, fp)
	if err != nil {
		return err
	}
	return s.render(c, status, "pages/member-new", "Add a member", fp.into(fiber.Map{
		"Areas": areas, "ConsentWording": domain.DataHoldingConsentWording,
	}))
}

func (s *Server) addMember(c *fiber.Ctx) error {
	values := map[string]string{}
	for _, k := range []string{"name", "email", "phone", "area_id", "role", "consent"} {
		values[k] = strings.Clone(c.FormValue(k))
	}
	in := domain.NewMemberInput{Name: values["name"], Email: values["email"], Phone: values["phone"],
		Role: domain.Role(values["role"]), Password: c.FormValue("password"), ConsentRecorded: values["consent"] == "yes"}
	parse := &domain.ValidationError{}
	if values["area_id"] != "" {
		id, ok := domain.ParseID(values["area_id"])
		if !ok {
			parse.Add("area_id", "Choose an area from the list")
		}
		in.AreaID = id
	}
	var (
		m   domain.Member
		err = parse.OrNil()
	)
	if err == nil {
		m, err = s.svc.Membership.AddMember(c.UserContext(), s.actor(c), in)
	}
	if err != nil {
		return retryForm(err, func(p problem) error { return s.renderNewMember(c, p.Status, failed(values, p)) })
	}
	s.flash(c, m.Name+" has been added as an active member.")
	return c.Redirect("/coordinate/members/"+itoa(m.ID), fiber.StatusSeeOther)
}

func (s *Server) memberPage(c *fiber.Ctx) error {
	return s.renderMember(c, fiber.StatusOK, formPage{})
}

// memberRecord is one member as a coordinator's pages show them.
type memberRecord struct {
	Member   domain.Member
	Consents []domain.Consent
	Areas    []domain.Area
}

// loadMember reads the member named by the :id parameter, with their consents and the areas.
func (s *Server) loadMember(c *fiber.Ctx) (memberRecord, error) {
	ctx := c.UserContext()
	id, err := idParam(c)
	if err != nil {
		return memberRecord{}, err
	}
	by := s.actor(c)
	var r memberRecord
	if r.Member, err = s.svc.Membership.Member(ctx, by, id); err != nil {
		return memberRecord{}, err
	}
	if r.Consents, err = s.svc.Membership.Consents(ctx, by, id); err != nil {
		return memberRecord{}, err
	}
	if r.Areas, err = s.svc.Catalogue.Areas(ctx); err != nil {
		return memberRecord{}, err
	}
	return r, nil
}

func (s *Server) renderMember(c *fiber.Ctx, status int, fp formPage) error {
	r, err := s.loadMember(c)
	if err != nil {
		return err
	}
	m, by := r.Member, s.actor(c)
	if fp.Values == nil {
		fp.Values = map[string]string{"role": string(m.Role)}
	}
	ctx := c.UserContext()
	offers, err := s.svc.Exchange.MemberOffers(ctx, by, m.ID)
	if err != nil {
		return err
	}
	reqs, err := s.svc.Exchange.MemberRequests(ctx, by, m.ID)
	if err != nil {
		return err
	}
	cats, err := s.svc.Catalogue.Categories(ctx)
	if err != nil {
		return err
	}
	checks, err := s.svc.Safeguarding.MemberChecks(ctx, by, m.ID)
	if err != nil {
		return err
	}
	return s.render(c, status, "pages/member", m.Name, fp.into(fiber.Map{
		"Member": m, "Consents": r.Consents, "Areas": r.Areas, "CanChangeRole": by.Role == domain.RoleAdmin && by.ID != m.ID,
		"Offers": offers, "Requests": reqs, "Categories": cats, "CanSuspend": by.ID != m.ID,
		"Checks": checks, "CheckKinds": domain.CheckKinds, "CheckLevels": domain.CheckLevels,
	}))
}

func (s *Server) changeRole(c *fiber.Ctx) error {
	id, err := idParam(c)
	if err != nil {
		return err
	}
	values := map[string]string{"role": strings.Clone(c.FormValue("role"))}
	m, err := s.svc.Membership.ChangeRole(c.UserContext(), s.actor(c), id, domain.Role(values["role"]))
	if err != nil {
		return retryForm(err, func(p problem) error { return s.renderMember(c, p.Status, failed(values, p)) })
	}
	s.flash(c, m.Name+" is now: "+m.Role.Label()+".")
	return c.Redirect("/coordinate/members/"+itoa(m.ID), fiber.StatusSeeOther)
}

// API

type newMemberRequest struct {
	Name            string `json:"name"`
	Email           string `json:"email"`
	Phone           string `json:"phone"`
	AreaID          int64  `json:"area_id"`
	Role            string `json:"role"`
	Password        string `json:"password"`
	ConsentRecorded bool   `json:"consent_recorded"`
}

func (s *Server) apiMembers(c *fiber.Ctx) error {
	q, err := memberQuery(c)
	if err != nil {
		return err
	}
	page, err := s.svc.Membership.Members(c.UserContext(), s.actor(c), q)
	if err != nil {
		return err
	}
	return sendJSON(c, fiber.StatusOK, listOf(page, toMemberJSON))
}

func (s *Server) apiAddMember(c *fiber.Ctx) error {
	var req newMemberRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	m, err := s.svc.Membership.AddMember(c.UserContext(), s.actor(c), domain.NewMemberInput{Name: req.Name,
		Email: req.Email, Phone: req.Phone, AreaID: req.AreaID, Role: domain.Role(req.Role), Password: req.Password,
		ConsentRecorded: req.ConsentRecorded})
	if err != nil {
		return err
	}
	c.Location("/api/v1/members/" + itoa(m.ID))
	return sendJSON(c, fiber.StatusCreated, toMemberJSON(m))
}

func (s *Server) apiMember(c *fiber.Ctx) error {
	id, err := idParam(c)
	if err != nil {
		return err
	}
	m, err := s.svc.Membership.Member(c.UserContext(), s.actor(c), id)
	if err != nil {
		return err
	}
	return sendJSON(c, fiber.StatusOK, toMemberJSON(m))
}

type memberPatch struct {
	Role *string `json:"role"`
}

func (s *Server) apiPatchMember(c *fiber.Ctx) error {
	id, err := idParam(c)
	if err != nil {
		return err
	}
	var req memberPatch
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	by := s.actor(c)
	m, err := s.svc.Membership.Member(c.UserContext(), by, id)
	if err != nil {
		return err
	}
	if req.Role != nil {
		if m, err = s.svc.Membership.ChangeRole(c.UserContext(), by, id, domain.Role(*req.Role)); err != nil {
			return err
		}
	}
	return sendJSON(c, fiber.StatusOK, toMemberJSON(m))
}

// suspendMember and reinstateMember answer the buttons on a member's page.
func (s *Server) suspendMember(c *fiber.Ctx) error {
	id, err := idParam(c)
	if err != nil {
		return err
	}
	values := map[string]string{"reason": strings.Clone(c.FormValue("reason"))}
	m, err := s.svc.Membership.Suspend(c.UserContext(), s.actor(c), id, values["reason"])
	if err != nil {
		return retryForm(err, func(p problem) error { return s.renderMember(c, p.Status, failed(values, p)) })
	}
	s.flash(c, m.Name+" is suspended: they cannot sign in, and neighbours no longer see their posts.")
	return c.Redirect("/coordinate/members/"+itoa(id), fiber.StatusSeeOther)
}

func (s *Server) reinstateMember(c *fiber.Ctx) error {
	id, err := idParam(c)
	if err != nil {
		return err
	}
	m, err := s.svc.Membership.Reinstate(c.UserContext(), s.actor(c), id)
	if err != nil {
		return retryForm(err, func(p problem) error { return s.renderMember(c, p.Status, failed(nil, p)) })
	}
	s.flash(c, m.Name+" is an active member again.")
	return c.Redirect("/coordinate/members/"+itoa(id), fiber.StatusSeeOther)
}

type suspendRequest struct {
	Reason string `json:"reason"`
}

func (s *Server) apiSuspendMember(c *fiber.Ctx) error {
	id, err := idParam(c)
	if err != nil {
		return err
	}
	var req suspendRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	m, err := s.svc.Membership.Suspend(c.UserContext(), s.actor(c), id, req.Reason)
	if err != nil {
		return err
	}
	return sendJSON(c, fiber.StatusOK, toMemberJSON(m))
}

func (s *Server) apiReinstateMember(c *fiber.Ctx) error {
	id, err := idParam(c)
	if err != nil {
		return err
	}
	m, err := s.svc.Membership.Reinstate(c.UserContext(), s.actor(c), id)
	if err != nil {
		return err
	}
	return sendJSON(c, fiber.StatusOK, toMemberJSON(m))
}
