package app

import (
	"errors"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/coop-exchange/coop/domain"
)

// The people and tokens of a formal service, managed by coordinators on the service's page and
// through the API.

func pathID(c *fiber.Ctx, name string) (int64, error) {
	id, ok := domain.ParseID(c.Params(name))
	if !ok {
		return 0, domain.ErrNotFound
	}
	return id, nil
}

// addServiceUser adds a person at the service; a new one is emailed a link to set a password.
func (s *Server) addServiceUser(c *fiber.Ctx) error {
	id, err := idParam(c)
	if err != nil {
		return err
	}
	ctx, by := c.UserContext(), s.actor(c)
	values := map[string]string{"user_name": strings.Clone(c.FormValue("user_name")), "user_email": strings.Clone(c.FormValue("user_email")),
		"user_phone": strings.Clone(c.FormValue("user_phone"))}
	m, isNew, err := s.svc.ServicePeople.AddUser(ctx, by, id, domain.ServiceUserInput{Name: values["user_name"], Email: values["user_email"], Phone: values["user_phone"]})
	if err != nil {
		return retryForm(renamed(err, map[string]string{"name": "user_name", "email": "user_email", "phone": "user_phone"}), func(p problem) error {
			svc, gerr := s.svc.Directory.Get(ctx, by, id)
			if gerr != nil {
				return gerr
			}
			fp := failed(nil, p)
			fp.Values = serviceValues(svc)
			for k, v := range values {
				fp.Values[k] = v
			}
			return s.renderServiceForm(c, p.Status, &svc, fp)
		})
	}
	msg := m.Name + " can now answer for this service."
	if isNew {
		if err := s.sendPasswordLink(c, m); err != nil {
			return err
		}
		msg += " They have been emailed a link to set a password, valid for 7 days."
	}
	s.flash(c, msg)
	return c.Redirect("/coordinate/services/"+itoa(id), fiber.StatusSeeOther)
}

// renamed gives a validation error's fields the names of the form they came from.
func renamed(err error, names map[string]string) error {
	var v *domain.ValidationError
	if !errors.As(err, &v) {
		return err
	}
	out := &domain.ValidationError{}
	for _, f := range v.Fields {
		if n, ok := names[f.Field]; ok {
			f.Field = n
		}
		out.Fields = append(out.Fields, f)
	}
	return out
}

func (s *Server) removeServiceUser(c *fiber.Ctx) error {
	id, err := idParam(c)
	if err != nil {
		return err
	}
	memberID, err := pathID(c, "member")
	if err != nil {
		return err
	}
	if err := s.svc.ServicePeople.RemoveUser(c.UserContext(), s.actor(c), id, memberID); err != nil {
		return err
	}
	s.flash(c, "They no longer answer for this service.")
	return c.Redirect("/coordinate/services/"+itoa(id), fiber.StatusSeeOther)
}

// createServiceToken makes a token and shows it, the one time it is shown.
func (s *Server) createServiceToken(c *fiber.Ctx) error {
	id, err := idParam(c)
	if err != nil {
		return err
	}
	ctx, by := c.UserContext(), s.actor(c)
	svc, err := s.svc.Directory.Get(ctx, by, id)
	if err != nil {
		return err
	}
	name := strings.Clone(c.FormValue("token_name"))
	token, _, err := s.svc.ServicePeople.CreateToken(ctx, by, id, name)
	if err != nil {
		return retryForm(renamed(err, map[string]string{"name": "token_name"}), func(p problem) error {
			fp := failed(nil, p)
			fp.Values = serviceValues(svc)
			fp.Values["token_name"] = name
			return s.renderServiceForm(c, p.Status, &svc, fp)
		})
	}
	c.Set(fiber.HeaderCacheControl, "no-store")
	return s.render(c, fiber.StatusOK, "pages/service-token", "An API token for "+svc.Name, fiber.Map{"Service": svc, "Token": token, "Name": name})
}

func (s *Server) revokeServiceToken(c *fiber.Ctx) error {
	id, err := idParam(c)
	if err != nil {
		return err
	}
	tokenID, err := pathID(c, "token")
	if err != nil {
		return err
	}
	if err := s.svc.ServicePeople.RevokeToken(c.UserContext(), s.actor(c), id, tokenID); err != nil {
		return err
	}
	s.flash(c, "The token no longer works.")
	return c.Redirect("/coordinate/services/"+itoa(id), fiber.StatusSeeOther)
}

type serviceTokenJSON struct {
	ID         int64      `json:"id"`
	Name       string     `json:"name"`
	Token      string     `json:"token,omitempty"` // only when made
	CreatedAt  time.Time  `json:"created_at"`
	LastUsedAt *time.Time `json:"last_used_at"`
	RevokedAt  *time.Time `json:"revoked_at"`
}

func toServiceTokenJSON(t domain.ServiceToken) serviceTokenJSON {
	opt := func(at time.Time) *time.Time {
		if at.IsZero() {
			return nil
		}
		u := at.UTC()
		return &u
	}
	return serviceTokenJSON{ID: t.ID, Name: t.Name, CreatedAt: t.CreatedAt.UTC(), LastUsedAt: opt(t.LastUsedAt), RevokedAt: opt(t.RevokedAt)}
}

func (s *Server) apiServiceTokens(c *fiber.Ctx) error {
	id, err := idParam(c)
	if err != nil {
		return err
	}
	ts, err := s.svc.ServicePeople.Tokens(c.UserContext(), s.actor(c), id)
	if err != nil {
		return err
	}
	out := list[serviceTokenJSON]{Items: []serviceTokenJSON{}}
	for _, t := range ts {
		out.Items = append(out.Items, toServiceTokenJSON(t))
	}
	return sendJSON(c, fiber.StatusOK, out)
}

func (s *Server) apiCreateServiceToken(c *fiber.Ctx) error {
	id, err := idParam(c)
	if err != nil {
		return err
	}
	var in struct {
		Name string `json:"name"`
	}
	if err := decodeJSON(c, &in); err != nil {
		return err
	}
	token, t, err := s.svc.ServicePeople.CreateToken(c.UserContext(), s.actor(c), id, in.Name)
	if err != nil {
		return err
	}
	out := toServiceTokenJSON(t)
	out.Token = token
	c.Set(fiber.HeaderCacheControl, "no-store")
	return sendJSON(c, fiber.StatusCreated, out)
}

func (s *Server) apiRevokeServiceToken(c *fiber.Ctx) error {
	id, err := idParam(c)
	if err != nil {
		return err
	}
	tokenID, err := pathID(c, "token")
	if err != nil {
		return err
	}
	if err := s.svc.ServicePeople.RevokeToken(c.UserContext(), s.actor(c), id, tokenID); err != nil {
		return err
	}
	return c.SendStatus(fiber.StatusNoContent)
}

func (s *Server) apiServiceUsers(c *fiber.Ctx) error {
	id, err := idParam(c)
	if err != nil {
		return err
	}
	ms, err := s.svc.ServicePeople.Users(c.UserContext(), s.actor(c), id)
	if err != nil {
		return err
	}
	out := list[memberJSON]{Items: []memberJSON{}}
	for _, m := range ms {
		out.Items = append(out.Items, toMemberJSON(m))
	}
	return sendJSON(c, fiber.StatusOK, out)
}

func (s *Server) apiAddServiceUser(c *fiber.Ctx) error {
	id, err := idParam(c)
	if err != nil {
		return err
	}
	var in struct {
		Name  string `json:"name"`
		Email string `json:"email"`
		Phone string `json:"phone"`
	}
	if err := decodeJSON(c, &in); err != nil {
		return err
	}
	m, isNew, err := s.svc.ServicePeople.AddUser(c.UserContext(), s.actor(c), id, domain.ServiceUserInput(in))
	if err != nil {
		return err
	}
	if isNew {
		if err := s.sendPasswordLink(c, m); err != nil {
			return err
		}
	}
	return sendJSON(c, fiber.StatusCreated, toMemberJSON(m))
}

func (s *Server) apiRemoveServiceUser(c *fiber.Ctx) error {
	id, err := idParam(c)
	if err != nil {
		return err
	}
	memberID, err := pathID(c, "member")
	if err != nil {
		return err
	}
	if err := s.svc.ServicePeople.RemoveUser(c.UserContext(), s.actor(c), id, memberID); err != nil {
		return err
	}
	return c.SendStatus(fiber.StatusNoContent)
}
