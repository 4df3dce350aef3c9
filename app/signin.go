package app

import (
	"errors"
	"net/url"
	"strings"
	"unicode"

	"github.com/gofiber/fiber/v2"

	"github.com/coop-exchange/coop/domain"
)

// safeNext keeps a post-sign-in destination only when it is plainly a path on this site: no
// scheme or host, no backslash, whitespace or control character (browsers drop tabs and newlines
// from URLs, which would turn "/\t/evil.example" into "//evil.example").
func safeNext(next string) string {
	if !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || len(next) > 2000 || next == "/signout" ||
		strings.ContainsFunc(next, func(r rune) bool { return r == '\\' || unicode.IsSpace(r) || unicode.IsControl(r) }) {
		return ""
	}
	u, err := url.Parse(next)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil || !strings.HasPrefix(u.Path, "/") ||
		strings.HasPrefix(u.Path, "//") || strings.ContainsFunc(u.Path, unicode.IsControl) {
		return ""
	}
	return next
}

func homeFor(m domain.Member) string {
	if m.Role.Coordinates() {
		return "/coordinate"
	}
	if m.Role == domain.RoleServices {
		return "/inbox"
	}
	return "/account"
}

func (s *Server) signInPage(c *fiber.Ctx) error {
	if m := currentMember(c); m != nil {
		if next := safeNext(c.Query("next")); next != "" {
			return c.Redirect(next, fiber.StatusSeeOther)
		}
		return c.Redirect(homeFor(*m), fiber.StatusSeeOther)
	}
	return s.renderSignIn(c, fiber.StatusOK, formPage{Values: map[string]string{"next": safeNext(c.Query("next"))}})
}

func (s *Server) renderSignIn(c *fiber.Ctx, status int, fp formPage) error {
	return s.render(c, status, "pages/signin", "Sign in", fp.into(fiber.Map{}))
}

func (s *Server) signIn(c *fiber.Ctx) error {
	values := map[string]string{"email": strings.TrimSpace(c.FormValue("email")), "next": safeNext(c.FormValue("next"))}
	m, token, err := s.svc.Accounts.SignIn(c.UserContext(), values["email"], c.FormValue("password"), origin(c))
	if errors.Is(err, domain.ErrUnauthenticated) {
		err = domain.Invalid("email", "The email address or password is not right")
	}
	if err != nil {
		return retryForm(err, func(p problem) error { return s.renderSignIn(c, p.Status, failed(values, p)) })
	}
	s.setSessionCookie(c, token, c.Context().Time().Add(domain.SessionMax))
	dest := values["next"]
	if dest == "" {
		dest = homeFor(m)
	}
	return c.Redirect(dest, fiber.StatusSeeOther)
}

func (s *Server) signOut(c *fiber.Ctx) error {
	if token, _ := c.Locals(localSession).(string); token != "" {
		if err := s.svc.Accounts.SignOut(c.UserContext(), s.actor(c), token); err != nil {
			return err
		}
	}
	s.clearSessionCookie(c)
	s.flash(c, "You have signed out.")
	return c.Redirect("/", fiber.StatusSeeOther)
}
