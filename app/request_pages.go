package app

import (
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/coop-exchange/coop/domain"
)

// Pages for requests of support.

var requestFields = []string{"category", "description", "private_notes", "for_whom", "for_whom_name", "for_whom_relationship",
	"area_id", "date", "start_time", "end_time", "repeat", "repeat_weeks", "urgency", "needs_check", "consent", "consent_contact", "member_id"}

// parseDate reads a date as browsers send it (2026-03-14), or as people type it (14/03/2026).
func parseDate(raw string, loc *time.Location) (time.Time, bool) {
	raw = strings.TrimSpace(raw)
	for _, layout := range []string{"2006-01-02", "2/1/2006", "02/01/2006"} {
		if d, err := time.ParseInLocation(layout, raw, loc); err == nil {
			return d, true
		}
	}
	return time.Time{}, false
}

// when reads the date and the two times of a request form. An end time not after the start
// time is taken to be the next morning, so that an overnight sit can be asked for.
func when(values map[string]string, loc *time.Location, parse *domain.ValidationError) (time.Time, time.Time) {
	var start, end time.Time
	day, okDay := parseDate(values["date"], loc)
	from, okFrom := domain.ParseClock(values["start_time"])
	to, okTo := domain.ParseClock(values["end_time"])
	switch {
	case values["date"] == "":
	case !okDay:
		parse.Add("start", "Give the date like 14/03/2026")
	case values["start_time"] == "":
	case !okFrom:
		parse.Add("start", "Give the start time like 14:30")
	default:
		start = time.Date(day.Year(), day.Month(), day.Day(), from/60, from%60, 0, 0, loc)
	}
	switch {
	case values["end_time"] == "":
	case !okTo:
		parse.Add("end", "Give the end time like 16:00")
	case !start.IsZero():
		end = time.Date(day.Year(), day.Month(), day.Day(), to/60, to%60, 0, 0, loc)
		if to <= from {
			end = end.AddDate(0, 0, 1)
		}
	}
	return start, end
}

// requestForm reads a request form.
func (s *Server) requestForm(c *fiber.Ctx) (map[string]string, domain.RequestInput, *domain.ValidationError) {
	values := map[string]string{}
	for _, k := range requestFields {
		values[k] = strings.Clone(c.FormValue(k))
	}
	parse := &domain.ValidationError{}
	in := domain.RequestInput{Category: values["category"], Description: values["description"], PrivateNotes: values["private_notes"],
		ForSomeoneElse: values["for_whom"] == "other", ForWhomName: values["for_whom_name"], ForWhomRelationship: values["for_whom_relationship"],
		Urgency: values["urgency"], NeedsCheck: values["needs_check"] == "yes", ConsentToEscalate: values["consent"] == "yes",
		ConsentContact: values["consent_contact"] == "yes"}
	in.Start, in.End = when(values, s.svc.Exchange.Location(), parse)
	if raw := values["area_id"]; raw != "" {
		in.AreaID, _ = domain.ParseID(raw)
	}
	if raw := values["member_id"]; raw != "" {
		in.MemberID, _ = domain.ParseID(raw)
	}
	if values["repeat"] == "weekly" {
		n, err := strconv.Atoi(strings.TrimSpace(values["repeat_weeks"]))
		if err != nil || n < 2 {
			parse.Add("repeat_weeks", "Give how many weeks, from 2 to %d", domain.MaxSeriesWeeks)
			n = -1
		}
		in.RepeatWeeks = n
	}
	return values, in, parse
}

// overrideFields puts the messages about unreadable input in place of the service's own
// messages for the same fields (which would only say the field is missing).
func overrideFields(err error, parse *domain.ValidationError) error {
	if parse.OrNil() == nil {
		return err
	}
	return formErrors(parse, func(v *domain.ValidationError) {
		if verr, ok := err.(*domain.ValidationError); ok {
			v.Fields = append(v.Fields, verr.Fields...)
		}
	})
}

func (s *Server) requestFormData(c *fiber.Ctx, fp formPage, forMember *domain.Member) (fiber.Map, error) {
	ctx := c.UserContext()
	cats, err := s.svc.Catalogue.Categories(ctx)
	if err != nil {
		return nil, err
	}
	areas, err := s.formAreas(c, fp)
	if err != nil {
		return nil, err
	}
	return fp.into(fiber.Map{"Categories": cats, "Areas": areas, "ForMember": forMember, "Urgencies": domain.Urgencies,
		"ConsentWording": domain.EscalationConsentWording, "ContactWording": domain.EscalationContactWording,
		"MaxWeeks": domain.MaxSeriesWeeks, "Today": s.svc.Exchange.Now().In(s.svc.Exchange.Location()).Format("2006-01-02")}), nil
}

func (s *Server) newRequestPage(c *fiber.Ctx) error {
	forMember, err := s.forMemberParam(c, c.Query("member"))
	if err != nil {
		return err
	}
	who := currentMember(c)
	if forMember != nil {
		who = forMember
	}
	values := map[string]string{"for_whom": "self", "repeat": "once", "repeat_weeks": "4", "urgency": string(domain.Routine),
		"area_id": "", "category": strings.Clone(c.Query("category"))}
	if who.AreaID != 0 {
		values["area_id"] = itoa(who.AreaID)
	}
	if forMember != nil {
		values["member_id"] = itoa(forMember.ID)
	}
	return s.renderRequestForm(c, fiber.StatusOK, formPage{Values: values}, forMember, nil)
}

func (s *Server) renderRequestForm(c *fiber.Ctx, status int, fp formPage, forMember *domain.Member, editing *domain.RequestView) error {
	data, err := s.requestFormData(c, fp, forMember)
	if err != nil {
		return err
	}
	title := "Ask for support"
	if forMember != nil {
		title = "Ask for support for " + forMember.Name
	}
	if editing != nil {
		data["Request"] = editing
		title = "Change your request"
	}
	return s.render(c, status, "pages/request-form", title, data)
}

func (s *Server) postRequest(c *fiber.Ctx) error {
	values, in, parse := s.requestForm(c)
	forMember, err := s.forMemberParam(c, values["member_id"])
	if err != nil {
		return err
	}
	// Unreadable times leave the request without a start or end, which the service refuses
	// along with anything else wrong; the messages about what could not be read then replace
	// its "missing" ones.
	reqs, err := s.svc.Exchange.AskForSupport(c.UserContext(), s.actor(c), in)
	if err != nil {
		err = overrideFields(err, parse)
		return retryForm(err, func(p problem) error { return s.renderRequestForm(c, p.Status, failed(values, p), forMember, nil) })
	}
	msg := "Your request is posted. The matcher looks for a helper every few minutes, and a coordinator checks each suggestion."
	if len(reqs) > 1 {
		msg = "Your request is posted for " + strconv.Itoa(len(reqs)) + " weeks. The matcher looks for a helper for each week."
	}
	s.flash(c, msg)
	return c.Redirect("/requests/"+itoa(reqs[0].ID), fiber.StatusSeeOther)
}

func (s *Server) requestPage(c *fiber.Ctx) error {
	return s.renderRequest(c, fiber.StatusOK, formPage{})
}

func (s *Server) renderRequest(c *fiber.Ctx, status int, fp formPage) error {
	ctx := c.UserContext()
	id, err := idParam(c)
	if err != nil {
		return err
	}
	by := s.actor(c)
	v, err := s.svc.Exchange.Request(ctx, by, id)
	if err != nil {
		return err
	}
	areas, err := s.svc.Catalogue.Areas(ctx)
	if err != nil {
		return err
	}
	data := fiber.Map{"Request": v, "Areas": areas, "Mine": v.MemberID == by.ID}
	if v.Full && v.MemberID != by.ID {
		m, err := s.svc.Membership.Member(ctx, by, v.MemberID)
		if err != nil {
			return err
		}
		data["Requester"] = m
	}
	if v.Full && s.svc.Agreements != nil {
		ms, err := s.svc.Agreements.RequestMatches(ctx, by, v.Request)
		if err != nil {
			return err
		}
		data["Matches"] = ms
	}
	if v.Full && s.svc.Escalations != nil {
		es, err := s.svc.Escalations.ForRequest(ctx, by, v.Request)
		if err != nil {
			return err
		}
		type escalationItem struct {
			domain.EscalationListing
			Story string
		}
		var items []escalationItem
		for _, e := range es {
			items = append(items, escalationItem{e, e.Story(s.cfg.Location)})
		}
		data["Escalations"] = items
		if by.Role.Coordinates() && (v.Status == domain.RequestOpen || v.Status == domain.RequestEscalated) && v.ConsentToEscalate() {
			opts, err := s.svc.Escalations.Options(ctx, by, v.Request)
			if err != nil {
				return err
			}
			data["EscalateTo"] = opts
		}
	}
	if me := currentMember(c); me.AreaID != 0 && !v.Full {
		data["FromArea"] = me.AreaID
	}
	return s.render(c, status, "pages/request", v.Category.Name+" for "+v.FirstName, fp.into(data))
}

// managedRequest reads the request of the :id parameter for someone who may change it.
func (s *Server) managedRequest(c *fiber.Ctx) (domain.RequestView, error) {
	id, err := idParam(c)
	if err != nil {
		return domain.RequestView{}, err
	}
	v, err := s.svc.Exchange.Request(c.UserContext(), s.actor(c), id)
	if err != nil {
		return domain.RequestView{}, err
	}
	if !v.Full {
		return domain.RequestView{}, domain.ErrForbidden
	}
	return v, nil
}

func requestValues(v domain.RequestView, loc *time.Location) map[string]string {
	start, end := v.Start.In(loc), v.End.In(loc)
	values := map[string]string{"category": v.Category.Slug, "description": v.Description, "private_notes": v.PrivateNotes,
		"for_whom": "self", "area_id": itoa(v.AreaID), "date": start.Format("2006-01-02"), "start_time": start.Format("15:04"),
		"end_time": end.Format("15:04"), "urgency": string(v.Urgency)}
	if v.ForWhom != nil {
		values["for_whom"], values["for_whom_name"], values["for_whom_relationship"] = "other", v.ForWhom.FirstName, v.ForWhom.Relationship
	}
	if v.NeedsCheck {
		values["needs_check"] = "yes"
	}
	if v.ConsentToEscalate() {
		values["consent"] = "yes"
		if v.Escalation.IncludesContact {
			values["consent_contact"] = "yes"
		}
	}
	return values
}

func (s *Server) editRequestPage(c *fiber.Ctx) error {
	v, err := s.managedRequest(c)
	if err != nil {
		return err
	}
	if v.Status != domain.RequestOpen {
		return retryForm(&domain.ConflictError{Message: notOpenMessage(v.Status)}, func(p problem) error {
			return s.renderRequest(c, p.Status, failed(nil, p))
		})
	}
	return s.renderRequestForm(c, fiber.StatusOK, formPage{Values: requestValues(v, s.svc.Exchange.Location())}, nil, &v)
}

// notOpenMessage is what the edit link says about a request that can no longer change.
func notOpenMessage(s domain.RequestStatus) string {
	if s == domain.RequestMatched {
		return "This request is already matched with a helper, so it can no longer be changed. You can still cancel it, with a reason, or ask a coordinator to change the arrangement."
	}
	return "This request is " + strings.ToLower(s.Label()) + ", so it can no longer be changed."
}

func (s *Server) updateRequest(c *fiber.Ctx) error {
	id, err := idParam(c)
	if err != nil {
		return err
	}
	values, in, parse := s.requestForm(c)
	var who *domain.SupportedPerson
	if in.ForSomeoneElse {
		who = &domain.SupportedPerson{FirstName: in.ForWhomName, Relationship: in.ForWhomRelationship}
	}
	p := domain.RequestPatch{Description: &in.Description, PrivateNotes: &in.PrivateNotes, ForWhom: &who, Urgency: &in.Urgency,
		NeedsCheck: &in.NeedsCheck, ConsentToEscalate: &in.ConsentToEscalate, ConsentContact: &in.ConsentContact,
		Start: &in.Start, End: &in.End}
	if in.AreaID != 0 {
		p.AreaID = &in.AreaID
	}
	if err = parse.OrNil(); err == nil {
		_, err = s.svc.Exchange.UpdateRequest(c.UserContext(), s.actor(c), id, p)
	}
	if err != nil {
		return retryForm(err, func(p problem) error {
			v, verr := s.managedRequest(c)
			if verr != nil {
				return verr
			}
			if p.Status == fiber.StatusConflict {
				return s.renderRequest(c, p.Status, failed(nil, p))
			}
			return s.renderRequestForm(c, p.Status, failed(values, p), nil, &v)
		})
	}
	s.flash(c, "Your changes are saved.")
	return c.Redirect("/requests/"+itoa(id), fiber.StatusSeeOther)
}

func (s *Server) cancelRequest(c *fiber.Ctx) error {
	id, err := idParam(c)
	if err != nil {
		return err
	}
	values := map[string]string{"reason": strings.Clone(c.FormValue("reason")), "whole_series": strings.Clone(c.FormValue("whole_series"))}
	n, err := s.svc.Exchange.CancelRequest(c.UserContext(), s.actor(c), id, values["reason"], values["whole_series"] == "yes")
	if err != nil {
		return retryForm(err, func(p problem) error { return s.renderRequest(c, p.Status, failed(values, p)) })
	}
	msg := "The request is cancelled."
	if n > 1 {
		msg = strconv.Itoa(n) + " occasions of the request are cancelled."
	}
	s.flash(c, msg)
	return c.Redirect("/requests/"+itoa(id), fiber.StatusSeeOther)
}
