package app

import (
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/coop-exchange/coop/domain"
)

// Areas: everyone signed in reads them; coordinators add, change and remove them.

func parseCoordinate(v *domain.ValidationError, field, raw, what string) *float64 {
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return nil
	}
	f, err := strconv.ParseFloat(raw, 64)
	if err != nil {
		v.Add(field, "Enter the %s as a decimal number, like 53.3811", what)
		return nil
	}
	return &f
}

// areaForm reads the area form; parse holds messages for numbers that could not be read.
func areaForm(c *fiber.Ctx) (map[string]string, domain.AreaInput, *domain.ValidationError) {
	values := map[string]string{}
	for _, k := range []string{"name", "code", "lat", "lon"} {
		values[k] = strings.Clone(c.FormValue(k))
	}
	parse := &domain.ValidationError{}
	in := domain.AreaInput{Name: values["name"], Code: values["code"],
		Lat: parseCoordinate(parse, "lat", values["lat"], "latitude"), Lon: parseCoordinate(parse, "lon", values["lon"], "longitude")}
	return values, in, parse
}

// formErrors validates a form's input and reports its unreadable numbers (parse) in place of
// the "missing" message the domain would give them; nil when all is well.
func formErrors(parse *domain.ValidationError, validate func(*domain.ValidationError)) error {
	all := &domain.ValidationError{}
	validate(all)
	for _, f := range parse.Fields {
		replaced := false
		for i := range all.Fields {
			if all.Fields[i].Field == f.Field {
				all.Fields[i].Message, replaced = f.Message, true
			}
		}
		if !replaced {
			all.Fields = append(all.Fields, f)
		}
	}
	return all.OrNil()
}

func (s *Server) areasPage(c *fiber.Ctx) error {
	return s.renderAreas(c, fiber.StatusOK, formPage{})
}

func (s *Server) renderAreas(c *fiber.Ctx, status int, fp formPage) error {
	areas, err := s.formAreas(c, fp)
	if err != nil {
		return err
	}
	return s.render(c, status, "pages/areas", "Areas", fp.into(fiber.Map{"Areas": areas}))
}

func (s *Server) createArea(c *fiber.Ctx) error {
	values, in, parse := areaForm(c)
	err := formErrors(parse, in.Normalised().Validate)
	if err == nil {
		var a domain.Area
		if a, err = s.svc.Catalogue.CreateArea(c.UserContext(), s.actor(c), in); err == nil {
			s.flash(c, a.Label()+" has been added.")
			return c.Redirect("/coordinate/areas", fiber.StatusSeeOther)
		}
	}
	return retryForm(err, func(p problem) error { return s.renderAreas(c, p.Status, failed(values, p)) })
}

func (s *Server) areaPage(c *fiber.Ctx) error {
	return s.renderArea(c, fiber.StatusOK, formPage{})
}

func (s *Server) renderArea(c *fiber.Ctx, status int, fp formPage) error {
	id, err := idParam(c)
	if err != nil {
		return err
	}
	a, err := s.svc.Catalogue.Area(c.UserContext(), id)
	if err != nil {
		return err
	}
	if fp.Values == nil {
		fp.Values = map[string]string{"name": a.Name, "code": a.Code,
			"lat": strconv.FormatFloat(a.Lat, 'f', -1, 64), "lon": strconv.FormatFloat(a.Lon, 'f', -1, 64)}
	}
	return s.render(c, status, "pages/area", "Change "+a.Label(), fp.into(fiber.Map{"Area": a}))
}

func (s *Server) updateArea(c *fiber.Ctx) error {
	id, err := idParam(c)
	if err != nil {
		return err
	}
	values, in, parse := areaForm(c)
	if err = formErrors(parse, in.Normalised().Validate); err == nil {
		var a domain.Area
		p := domain.AreaPatch{Name: &in.Name, Code: &in.Code, Lat: in.Lat, Lon: in.Lon}
		if a, err = s.svc.Catalogue.UpdateArea(c.UserContext(), s.actor(c), id, p); err == nil {
			s.flash(c, a.Label()+" has been changed.")
			return c.Redirect("/coordinate/areas", fiber.StatusSeeOther)
		}
	}
	return retryForm(err, func(p problem) error { return s.renderArea(c, p.Status, failed(values, p)) })
}

func (s *Server) deleteArea(c *fiber.Ctx) error {
	id, err := idParam(c)
	if err != nil {
		return err
	}
	if err := s.svc.Catalogue.DeleteArea(c.UserContext(), s.actor(c), id); err != nil {
		return retryForm(err, func(p problem) error { return s.renderArea(c, p.Status, failed(nil, p)) })
	}
	s.flash(c, "The area has been removed.")
	return c.Redirect("/coordinate/areas", fiber.StatusSeeOther)
}

// API

type areaRequest struct {
	Name *string  `json:"name"`
	Code *string  `json:"code"`
	Lat  *float64 `json:"lat"`
	Lon  *float64 `json:"lon"`
}

func (s *Server) apiAreas(c *fiber.Ctx) error {
	areas, err := s.svc.Catalogue.Areas(c.UserContext())
	if err != nil {
		return err
	}
	return sendJSON(c, fiber.StatusOK, list[areaJSON]{Items: toAll(areas, toAreaJSON)})
}

func (s *Server) apiArea(c *fiber.Ctx) error {
	id, err := idParam(c)
	if err != nil {
		return err
	}
	a, err := s.svc.Catalogue.Area(c.UserContext(), id)
	if err != nil {
		return err
	}
	return sendJSON(c, fiber.StatusOK, toAreaJSON(a))
}

func (s *Server) apiCreateArea(c *fiber.Ctx) error {
	var req areaRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	in := domain.AreaInput{Lat: req.Lat, Lon: req.Lon}
	if req.Name != nil {
		in.Name = *req.Name
	}
	if req.Code != nil {
		in.Code = *req.Code
	}
	a, err := s.svc.Catalogue.CreateArea(c.UserContext(), s.actor(c), in)
	if err != nil {
		return err
	}
	c.Location("/api/v1/areas/" + itoa(a.ID))
	return sendJSON(c, fiber.StatusCreated, toAreaJSON(a))
}

func (s *Server) apiPatchArea(c *fiber.Ctx) error {
	id, err := idParam(c)
	if err != nil {
		return err
	}
	var req areaRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	a, err := s.svc.Catalogue.UpdateArea(c.UserContext(), s.actor(c), id, domain.AreaPatch{Name: req.Name, Code: req.Code, Lat: req.Lat, Lon: req.Lon})
	if err != nil {
		return err
	}
	return sendJSON(c, fiber.StatusOK, toAreaJSON(a))
}

func (s *Server) apiDeleteArea(c *fiber.Ctx) error {
	id, err := idParam(c)
	if err != nil {
		return err
	}
	if err := s.svc.Catalogue.DeleteArea(c.UserContext(), s.actor(c), id); err != nil {
		return err
	}
	return c.SendStatus(fiber.StatusNoContent)
}
