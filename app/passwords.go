package app

import (
	"errors"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/coop-exchange/coop/domain"
)

// Setting a password through an emailed link, asking for one ("Forgotten your password?"), and
// the coordinators' button that sends one. The link works without signing in: its signed token
// is the permission, for one member and until a password is set (password_links.go in domain).

func (s *Server) forgotPasswordPage(c *fiber.Ctx) error {
	return s.renderForgotPassword(c, fiber.StatusOK, formPage{}, false)
}

func (s *Server) renderForgotPassword(c *fiber.Ctx, status int, fp formPage, sent bool) error {
	title := "Forgotten your password?"
	if sent {
		title = "Check your email"
	}
	return s.render(c, status, "pages/password-forgot", title, fp.into(fiber.Map{"Sent": sent}))
}

// forgotPassword answers the same whether or not the address is a member's: only a malformed
// address or too many requests show the form again.
func (s *Server) forgotPassword(c *fiber.Ctx) error {
	values := map[string]string{"email": strings.TrimSpace(c.FormValue("email"))}
	if err := s.svc.Accounts.ForgotPassword(c.UserContext(), values["email"], origin(c)); err != nil {
		return retryForm(err, func(p problem) error { return s.renderForgotPassword(c, p.Status, failed(values, p), false) })
	}
	return s.renderForgotPassword(c, fiber.StatusOK, formPage{Values: values}, true)
}

// setPasswordPage shows the emailed link's form. It changes nothing, since mail scanners open
// links before people do.
func (s *Server) setPasswordPage(c *fiber.Ctx) error {
	return s.renderSetPassword(c, fiber.StatusOK, strings.Clone(c.Query("token")), formPage{})
}

// renderSetPassword shows the form for a link, or why the link cannot be used.
func (s *Server) renderSetPassword(c *fiber.Ctx, status int, token string, fp formPage) error {
	link, err := s.svc.Accounts.CheckPasswordLink(c.UserContext(), token)
	var refused *domain.LinkRefusedError
	if errors.As(err, &refused) {
		return s.render(c, fiber.StatusForbidden, "pages/password-set", "This link cannot be used", fiber.Map{"Refused": refused.Message})
	}
	if err != nil {
		return err
	}
	return s.render(c, status, "pages/password-set", "Set your password", fp.into(fiber.Map{
		"Link": link, "Token": token, "MinPassword": domain.MinPasswordLen,
	}))
}

// setPassword takes the emailed link's form, then sends the person to sign in with the password.
func (s *Server) setPassword(c *fiber.Ctx) error {
	token := strings.Clone(c.FormValue("token"))
	password := c.FormValue("password")
	var err error
	if password != c.FormValue("password_confirm") {
		v := &domain.ValidationError{}
		domain.CheckPassword(v, "password", password)
		v.Add("password_confirm", "Enter the same password twice")
		err = v
	} else {
		err = s.svc.Accounts.SetPasswordWithLink(c.UserContext(), token, password, origin(c))
	}
	var refused *domain.LinkRefusedError
	if errors.As(err, &refused) {
		return s.renderSetPassword(c, fiber.StatusForbidden, token, formPage{})
	}
	if err != nil {
		return retryForm(err, func(p problem) error { return s.renderSetPassword(c, p.Status, token, failed(nil, p)) })
	}
	// Every session of the member has ended, so a browser signed in as them is signed out too.
	s.flash(c, "Your password is set. Sign in with your email address and your new password.")
	return c.Redirect("/signin", fiber.StatusSeeOther)
}

// emailPasswordLink answers the coordinators' button on a member's page.
func (s *Server) emailPasswordLink(c *fiber.Ctx) error {
	id, err := idParam(c)
	if err != nil {
		return err
	}
	m, err := s.svc.Membership.Member(c.UserContext(), s.actor(c), id)
	if err == nil {
		err = s.sendPasswordLink(c, m)
	}
	if err != nil {
		return retryForm(err, func(p problem) error { return s.renderMember(c, p.Status, failed(nil, p)) })
	}
	s.flash(c, "We have emailed "+m.FirstName()+" a link to set a password. It works once, for 7 days.")
	return c.Redirect("/coordinate/members/"+itoa(id), fiber.StatusSeeOther)
}

// sendPasswordLink emails the member, as the coordinator asking, a link to set a password: from
// their page, and wherever else a coordinator adds someone who has none (people at a service).
func (s *Server) sendPasswordLink(c *fiber.Ctx, m domain.Member) error {
	return s.svc.Accounts.SendPasswordLink(c.UserContext(), s.actor(c), m.ID)
}
