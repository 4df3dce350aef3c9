package app

import (
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/coop-exchange/coop/domain"
)

// Safeguarding checks: coordinators record them on a member's page and through the API; a member
// reads their own on their account page.

// checkFields are the check form's fields, in the order the form asks for them.
var checkFields = []string{"kind", "level", "certificate_number", "issued_on", "expires_on", "update_service"}

// recordCheck answers the check form on a coordinator's view of a member.
func (s *Server) recordCheck(c *fiber.Ctx) error {
	id, err := idParam(c)
	if err != nil {
		return err
	}
	values := map[string]string{}
	for _, k := range checkFields {
		values[k] = strings.Clone(c.FormValue(k))
	}
	in := domain.CheckInput{Kind: values["kind"], Level: values["level"], CertificateNumber: values["certificate_number"],
		IssuedOn: values["issued_on"], ExpiresOn: values["expires_on"], UpdateService: values["update_service"] == "yes"}
	check, err := s.svc.Safeguarding.RecordCheck(c.UserContext(), s.actor(c), id, in)
	if err != nil {
		return retryForm(err, func(p problem) error { return s.renderMember(c, p.Status, failed(values, p)) })
	}
	s.flash(c, "The "+check.Kind+" check is recorded, with you as the coordinator who verified it. Its re-check date is "+
		check.ExpiresOn.Format("2 January 2006")+".")
	return c.Redirect("/coordinate/members/"+itoa(id)+"#checks", fiber.StatusSeeOther)
}

// checkJSON is a check on the wire; dates are YYYY-MM-DD.
type checkJSON struct {
	ID                int64     `json:"id"`
	MemberID          int64     `json:"member_id"`
	Kind              string    `json:"kind"`
	Level             string    `json:"level"`
	CertificateNumber string    `json:"certificate_number"`
	IssuedOn          string    `json:"issued_on"`
	ExpiresOn         string    `json:"expires_on"`
	UpdateService     bool      `json:"update_service"`
	VerifiedBy        *int64    `json:"verified_by"`
	VerifiedAt        time.Time `json:"verified_at"`
}

func toCheckJSON(c domain.Check) checkJSON {
	j := checkJSON{ID: c.ID, MemberID: c.MemberID, Kind: c.Kind, Level: c.Level, CertificateNumber: c.CertificateNumber,
		IssuedOn: c.IssuedOn.Format(time.DateOnly), ExpiresOn: c.ExpiresOn.Format(time.DateOnly), UpdateService: c.UpdateService,
		VerifiedAt: c.VerifiedAt}
	if c.VerifiedBy != 0 {
		j.VerifiedBy = &c.VerifiedBy
	}
	return j
}

type checkRequest struct {
	Kind              string `json:"kind"`
	Level             string `json:"level"`
	CertificateNumber string `json:"certificate_number"`
	IssuedOn          string `json:"issued_on"`
	ExpiresOn         string `json:"expires_on"`
	UpdateService     bool   `json:"update_service"`
}

// apiRecordCheck is POST /api/v1/members/{id}/checks.
func (s *Server) apiRecordCheck(c *fiber.Ctx) error {
	id, err := idParam(c)
	if err != nil {
		return err
	}
	var req checkRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	check, err := s.svc.Safeguarding.RecordCheck(c.UserContext(), s.actor(c), id, domain.CheckInput{Kind: req.Kind, Level: req.Level,
		CertificateNumber: req.CertificateNumber, IssuedOn: req.IssuedOn, ExpiresOn: req.ExpiresOn, UpdateService: req.UpdateService})
	if err != nil {
		return err
	}
	c.Location("/api/v1/members/" + itoa(id) + "/checks")
	return sendJSON(c, fiber.StatusCreated, toCheckJSON(check))
}

// apiMemberChecks is GET /api/v1/members/{id}/checks: for coordinators and the member themself.
func (s *Server) apiMemberChecks(c *fiber.Ctx) error {
	id, err := idParam(c)
	if err != nil {
		return err
	}
	checks, err := s.svc.Safeguarding.MemberChecks(c.UserContext(), s.actor(c), id)
	if err != nil {
		return err
	}
	return sendJSON(c, fiber.StatusOK, list[checkJSON]{Items: toAll(checks, func(v domain.CheckView) checkJSON { return toCheckJSON(v.Check) })})
}
