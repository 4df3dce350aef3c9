package app

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/coop-exchange/coop/domain"
)

// Pages for offers of support.

// slotRows is how many slot rows an offer form shows: the slots given, and a few empty ones.
func slotRows(filled, asked int) int {
	n := filled + 2
	if n < 3 {
		n = 3
	}
	if asked > n {
		n = asked
	}
	if n > 28 {
		n = 28
	}
	return n
}

// slotRow is one row of the slots table on the offer form.
type slotRow struct {
	Index           int
	Day, From, To   string
	DayErr, TimeErr string
}

func atoi(s string) int {
	n, _ := strconv.Atoi(s)
	return n
}

// offerForm reads an offer form; parse collects numbers that could not be read.
func offerForm(c *fiber.Ctx) (map[string]string, domain.OfferInput, *domain.ValidationError) {
	values := map[string]string{}
	for _, k := range []string{"category", "description", "radius_km", "max_per_week", "member_id", "rows"} {
		values[k] = strings.Clone(c.FormValue(k))
	}
	in := domain.OfferInput{Category: values["category"], Description: values["description"]}
	parse := &domain.ValidationError{}
	for i := 0; i < 28; i++ {
		day, from, to := c.FormValue(fmt.Sprintf("slots[%d].day", i)), c.FormValue(fmt.Sprintf("slots[%d].from", i)), c.FormValue(fmt.Sprintf("slots[%d].to", i))
		prefix := fmt.Sprintf("slots[%d].", i)
		values[prefix+"day"], values[prefix+"from"], values[prefix+"to"] = strings.Clone(day), strings.Clone(from), strings.Clone(to)
		in.Slots = append(in.Slots, domain.SlotInput{Day: day, From: from, To: to})
	}
	if raw := strings.TrimSpace(values["radius_km"]); raw != "" {
		km, err := strconv.ParseFloat(raw, 64)
		if err != nil {
			parse.Add("radius_km", "Give the distance in km as a number, like 5 or 2.5")
		} else {
			in.RadiusKm = &km
		}
	}
	if raw := strings.TrimSpace(values["max_per_week"]); raw != "" {
		n, err := strconv.Atoi(raw)
		if err != nil {
			parse.Add("max_per_week", "Give a whole number, like 2")
		} else {
			in.MaxPerWeek = &n
		}
	}
	if raw := values["member_id"]; raw != "" {
		in.MemberID, _ = domain.ParseID(raw)
	}
	return values, in, parse
}

// offerPageData is what the offer form needs around the form itself.
func (s *Server) offerFormData(c *fiber.Ctx, fp formPage, forMember *domain.Member) (fiber.Map, error) {
	cats, err := s.svc.Catalogue.Categories(c.UserContext())
	if err != nil {
		return nil, err
	}
	filled := 0
	for i := 0; i < 28; i++ {
		if fp.Values[fmt.Sprintf("slots[%d].day", i)]+fp.Values[fmt.Sprintf("slots[%d].from", i)]+fp.Values[fmt.Sprintf("slots[%d].to", i)] != "" {
			filled = i + 1
		}
	}
	asked, _ := strconv.Atoi(fp.Values["rows"])
	rows := make([]slotRow, slotRows(filled, asked))
	for i := range rows {
		p := fmt.Sprintf("slots[%d].", i)
		rows[i] = slotRow{Index: i, Day: fp.Values[p+"day"], From: fp.Values[p+"from"], To: fp.Values[p+"to"]}
		if fp.Errors != nil {
			rows[i].DayErr = fp.Errors.Message(p + "day")
			rows[i].TimeErr = fp.Errors.Message(p + "from")
			if rows[i].TimeErr == "" {
				rows[i].TimeErr = fp.Errors.Message(p + "to")
			}
		}
	}
	var checked []string
	for _, cat := range cats {
		if cat.RequiresCheck {
			checked = append(checked, cat.Name)
		}
	}
	return fp.into(fiber.Map{"Categories": cats, "SlotRows": rows, "MoreRows": len(rows) + 3, "Days": domain.DaysFromMonday,
		"CheckedCategories": checked, "ForMember": forMember, "MinRadius": domain.MinRadiusKm, "MaxRadius": float64(domain.MaxRadiusKm),
		"MaxPerWeek": domain.MaxCommitments}), nil
}

// forMemberParam reads ?member= on a coordinator's "post for a member" link.
func (s *Server) forMemberParam(c *fiber.Ctx, raw string) (*domain.Member, error) {
	if raw == "" {
		return nil, nil
	}
	id, ok := domain.ParseID(raw)
	if !ok {
		return nil, domain.ErrNotFound
	}
	by := s.actor(c)
	if id == by.ID {
		return nil, nil
	}
	if !by.Role.Coordinates() {
		return nil, domain.ErrForbidden
	}
	m, err := s.svc.Membership.Member(c.UserContext(), by, id)
	if err != nil {
		return nil, err
	}
	return &m, nil
}

func (s *Server) newOfferPage(c *fiber.Ctx) error {
	forMember, err := s.forMemberParam(c, c.Query("member"))
	if err != nil {
		return err
	}
	values := map[string]string{"radius_km": "3", "max_per_week": "1", "category": strings.Clone(c.Query("category"))}
	if forMember != nil {
		values["member_id"] = itoa(forMember.ID)
	}
	return s.renderOfferForm(c, fiber.StatusOK, formPage{Values: values}, forMember, nil)
}

func (s *Server) renderOfferForm(c *fiber.Ctx, status int, fp formPage, forMember *domain.Member, editing *domain.OfferView) error {
	data, err := s.offerFormData(c, fp, forMember)
	if err != nil {
		return err
	}
	title := "Offer support"
	if forMember != nil {
		title = "Offer support for " + forMember.Name
	}
	if editing != nil {
		data["Offer"] = editing
		title = "Change your offer"
	}
	return s.render(c, status, "pages/offer-form", title, data)
}

func (s *Server) postOffer(c *fiber.Ctx) error {
	values, in, parse := offerForm(c)
	forMember, err := s.forMemberParam(c, values["member_id"])
	if err != nil {
		return err
	}
	if c.FormValue("action") == "more_rows" {
		values["rows"] = strconv.Itoa(atoi(values["rows"]) + 3)
		return s.renderOfferForm(c, fiber.StatusOK, formPage{Values: values}, forMember, nil)
	}
	var o domain.Offer
	if err = formErrors(parse, func(v *domain.ValidationError) { in.Validate(v) }); err == nil {
		o, err = s.svc.Exchange.PostOffer(c.UserContext(), s.actor(c), in)
	}
	if err != nil {
		return retryForm(err, func(p problem) error { return s.renderOfferForm(c, p.Status, failed(values, p), forMember, nil) })
	}
	s.flash(c, "The offer is posted. Neighbours can find it now, and the matcher will suggest it for requests it fits.")
	return c.Redirect("/offers/"+itoa(o.ID), fiber.StatusSeeOther)
}

func (s *Server) offerPage(c *fiber.Ctx) error {
	ctx := c.UserContext()
	id, err := idParam(c)
	if err != nil {
		return err
	}
	v, err := s.svc.Exchange.Offer(ctx, s.actor(c), id)
	if err != nil {
		return err
	}
	areas, err := s.svc.Catalogue.Areas(ctx)
	if err != nil {
		return err
	}
	data := fiber.Map{"Offer": v, "Areas": areas}
	if v.Manage && v.MemberID != s.actor(c).ID {
		m, err := s.svc.Membership.Member(ctx, s.actor(c), v.MemberID)
		if err != nil {
			return err
		}
		data["Helper"] = m
	}
	return s.render(c, fiber.StatusOK, "pages/offer", v.Category.Name+" from "+v.FirstName, data)
}

func offerValues(v domain.OfferView) map[string]string {
	values := map[string]string{"category": v.Category.Slug, "description": v.Description,
		"radius_km": strconv.FormatFloat(v.RadiusKm, 'f', -1, 64), "max_per_week": strconv.Itoa(v.MaxPerWeek)}
	for i, sl := range v.Slots {
		p := fmt.Sprintf("slots[%d].", i)
		values[p+"day"], values[p+"from"], values[p+"to"] = domain.DayCode(sl.Day), domain.FormatClock(sl.From), domain.FormatClock(sl.To)
	}
	return values
}

func (s *Server) editOfferPage(c *fiber.Ctx) error {
	v, err := s.managedOffer(c)
	if err != nil {
		return err
	}
	return s.renderOfferForm(c, fiber.StatusOK, formPage{Values: offerValues(v)}, nil, &v)
}

// managedOffer reads the offer of the :id parameter for someone who may change it.
func (s *Server) managedOffer(c *fiber.Ctx) (domain.OfferView, error) {
	id, err := idParam(c)
	if err != nil {
		return domain.OfferView{}, err
	}
	v, err := s.svc.Exchange.Offer(c.UserContext(), s.actor(c), id)
	if err != nil {
		return domain.OfferView{}, err
	}
	if !v.Manage {
		return domain.OfferView{}, domain.ErrForbidden
	}
	return v, nil
}

func (s *Server) updateOffer(c *fiber.Ctx) error {
	id, err := idParam(c)
	if err != nil {
		return err
	}
	values, in, parse := offerForm(c)
	if c.FormValue("action") == "more_rows" {
		v, err := s.managedOffer(c)
		if err != nil {
			return err
		}
		values["rows"] = strconv.Itoa(atoi(values["rows"]) + 3)
		return s.renderOfferForm(c, fiber.StatusOK, formPage{Values: values}, nil, &v)
	}
	// The form shows every field, so it is checked whole: an emptied number is a mistake to
	// report, not a field to leave as it was.
	if err = formErrors(parse, func(v *domain.ValidationError) { in.Validate(v) }); err == nil {
		_, err = s.svc.Exchange.UpdateOffer(c.UserContext(), s.actor(c), id, domain.OfferPatch{Category: &in.Category,
			Description: &in.Description, Slots: &in.Slots, RadiusKm: in.RadiusKm, MaxPerWeek: in.MaxPerWeek})
	}
	if err != nil {
		return retryForm(err, func(p problem) error {
			v, verr := s.managedOffer(c)
			if verr != nil {
				return verr
			}
			return s.renderOfferForm(c, p.Status, failed(values, p), nil, &v)
		})
	}
	s.flash(c, "Your changes are saved.")
	return c.Redirect("/offers/"+itoa(id), fiber.StatusSeeOther)
}

// setOfferStatus answers the pause, resume and withdraw buttons.
func (s *Server) setOfferStatus(to domain.OfferStatus, done string) fiber.Handler {
	return func(c *fiber.Ctx) error {
		id, err := idParam(c)
		if err != nil {
			return err
		}
		if _, err := s.svc.Exchange.SetOfferStatus(c.UserContext(), s.actor(c), id, to); err != nil {
			return err
		}
		s.flash(c, done)
		return c.Redirect("/offers/"+itoa(id), fiber.StatusSeeOther)
	}
}
