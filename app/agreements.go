package app

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/coop-exchange/coop/domain"
)

// The pages of the match life cycle: the moderation queue, matching by hand, a match as each
// person sees it, statements of what people gave, and the notification centre.

// matchesPage lists the signed-in member's matches, as helper and as requester.
func (s *Server) matchesPage(c *fiber.Ctx) error {
	by := s.actor(c)
	rows, err := s.svc.Agreements.MemberMatches(c.UserContext(), by, by.ID, 0, domain.MaxPageSize)
	if err != nil {
		return err
	}
	var waiting, agreed, past []domain.ProposalListing
	for _, r := range rows {
		switch {
		case r.Status == domain.MatchApproved:
			waiting = append(waiting, r)
		case r.Status == domain.MatchAccepted:
			agreed = append(agreed, r)
		default:
			past = append(past, r)
		}
	}
	return s.render(c, fiber.StatusOK, "pages/matches", "My matches", fiber.Map{"Waiting": waiting, "Agreed": agreed, "Past": past, "MyID": by.ID})
}

// matchPage shows one match with what the viewer may do now.
func (s *Server) matchPage(c *fiber.Ctx) error {
	return s.renderMatch(c, fiber.StatusOK, formPage{})
}

func (s *Server) renderMatch(c *fiber.Ctx, status int, fp formPage) error {
	id, err := idParam(c)
	if err != nil {
		return err
	}
	v, err := s.svc.Agreements.View(c.UserContext(), s.actor(c), id)
	if err != nil {
		return err
	}
	window := int(v.Request.End.Sub(v.Request.Start).Minutes())
	if fp.Values == nil {
		fp.Values = map[string]string{"minutes": strconv.Itoa(window)}
		if v.MinutesClaimed > 0 {
			fp.Values["minutes"] = strconv.Itoa(v.MinutesClaimed)
		}
	}
	title := v.Category.Name + " on " + v.Request.Start.In(s.cfg.Location).Format("2 January")
	return s.render(c, status, "pages/match", title, fp.into(fiber.Map{"M": v, "Window": window}))
}

// matchFormStep runs a step from a form on the match page, and shows the page again with a
// message, or with what is wrong.
func (s *Server) matchFormStep(step func(s *Server, c *fiber.Ctx, id int64, b matchActionBody) error, done string) fiber.Handler {
	return func(c *fiber.Ctx) error {
		id, err := idParam(c)
		if err != nil {
			return err
		}
		values := map[string]string{}
		for _, k := range []string{"reason", "minutes", "sure", "no_longer_needed", "rating", "comment"} {
			values[k] = strings.Clone(c.FormValue(k))
		}
		b := matchActionBody{Reason: values["reason"], Sure: values["sure"] == "yes", NoLongerNeeded: values["no_longer_needed"] == "yes",
			Comment: values["comment"]}
		v := &domain.ValidationError{}
		if raw := strings.TrimSpace(values["minutes"]); raw != "" {
			if b.Minutes, err = strconv.Atoi(raw); err != nil {
				v.Add("minutes", "Enter the time as a whole number of minutes, such as 90")
			}
		}
		if raw := values["rating"]; raw != "" {
			if b.Rating, err = strconv.Atoi(raw); err != nil {
				v.Add("rating", "Choose a rating from 1 to 5")
			}
		}
		err = v.OrNil()
		if err == nil {
			err = step(s, c, id, b)
		}
		if err != nil {
			return retryForm(err, func(p problem) error { return s.renderMatch(c, p.Status, failed(values, p)) })
		}
		msg := done
		if msg == "" { // accepting: what it means depends on whether the other has too
			msg = "You have accepted. Once the other person accepts too, you will see each other's contact details."
			if v, err := s.svc.Agreements.View(c.UserContext(), s.actor(c), id); err == nil && v.Status == domain.MatchAccepted {
				msg = "Agreed: you have both accepted. You can now see each other's contact details below."
			}
		}
		s.flash(c, msg)
		return c.Redirect("/matches/"+itoa(id), fiber.StatusSeeOther)
	}
}

// queueAction approves or rejects one proposal from the queue or the match page.
func (s *Server) queueAction(step func(s *Server, c *fiber.Ctx, id int64, b matchActionBody) error, done string) fiber.Handler {
	return func(c *fiber.Ctx) error {
		id, err := idParam(c)
		if err != nil {
			return err
		}
		values := map[string]string{"reason": strings.Clone(c.FormValue("reason"))}
		if err := step(s, c, id, matchActionBody{Reason: values["reason"]}); err != nil {
			return retryForm(err, func(p problem) error { return s.renderMatch(c, p.Status, failed(values, p)) })
		}
		s.flash(c, done)
		return c.Redirect(safeBack(c.FormValue("back"), "/coordinate/matching"), fiber.StatusSeeOther)
	}
}

// safeBack is where to return after a form: a path on this site, else the fallback.
func safeBack(raw, fallback string) string {
	if strings.HasPrefix(raw, "/") && !strings.HasPrefix(raw, "//") && !strings.Contains(raw, `\`) {
		return strings.Clone(raw)
	}
	return fallback
}

// batchProposals approves or rejects the ticked proposals of the queue.
func (s *Server) batchProposals(c *fiber.Ctx) error {
	ctx, by := c.UserContext(), s.actor(c)
	ids, err := parseIDs(c.Request().PostArgs().PeekMulti("ids"))
	action, reason := c.FormValue("action"), strings.Clone(c.FormValue("reason"))
	var res domain.BatchResult
	if err == nil {
		switch action {
		case "approve":
			res, err = s.svc.Agreements.ApproveMany(ctx, by, ids)
		case "reject":
			res, err = s.svc.Agreements.RejectMany(ctx, by, ids, reason)
		default:
			err = domain.Invalid("action", "Choose approve or reject")
		}
	}
	if err != nil {
		return retryForm(err, func(p problem) error {
			c.Request().URI().SetQueryString("")
			return s.renderMatching(c, p.Status, failed(map[string]string{"reason": reason}, p))
		})
	}
	verb := map[string]string{"approve": "approved", "reject": "turned down"}[action]
	msg := fmt.Sprintf("%d %s %s.", len(res.Done), plural(len(res.Done), "proposal", "proposals"), verb)
	if len(res.Failed) > 0 {
		var why []string
		for id, reason := range res.Failed {
			why = append(why, fmt.Sprintf("proposal %d: %s", id, reason))
		}
		msg += fmt.Sprintf(" %d could not be: %s", len(res.Failed), strings.Join(why, " "))
	}
	s.flash(c, msg)
	return c.Redirect("/coordinate/matching", fiber.StatusSeeOther)
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// handMatchPage ranks the helpers a coordinator could choose for a request.
func (s *Server) handMatchPage(c *fiber.Ctx) error {
	return s.renderHandMatch(c, fiber.StatusOK, formPage{})
}

func (s *Server) renderHandMatch(c *fiber.Ctx, status int, fp formPage) error {
	ctx, by := c.UserContext(), s.actor(c)
	id, err := idParam(c)
	if err != nil {
		return err
	}
	v, err := s.svc.Exchange.Request(ctx, by, id)
	if err != nil {
		return err
	}
	opts, err := s.svc.Agreements.Candidates(ctx, by, id)
	if err != nil {
		return err
	}
	// A county can have thousands of helpers for one kind of support: the page shows the best
	// few, finds anyone by name, and counts the rest by why they cannot be chosen.
	find := strings.TrimSpace(strings.Clone(c.Query("q")))
	if find != "" {
		folded := strings.ToLower(find)
		kept := opts[:0:0]
		for _, o := range opts {
			if strings.Contains(strings.ToLower(o.HelperName), folded) {
				kept = append(kept, o)
			}
		}
		opts = kept
	}
	blocked := map[string]int{}
	choosable := 0
	for _, o := range opts {
		if o.Blocked == "" {
			choosable++
		} else {
			blocked[o.Blocked]++
		}
	}
	shown := opts[:min(len(opts), handMatchShown)]
	form := fp.Values
	if form == nil {
		form = map[string]string{}
	}
	form["q"] = find
	fp.Values = form
	return s.render(c, status, "pages/hand-match", "Choose a helper", fp.into(fiber.Map{"Request": v, "Options": shown,
		"Total": len(opts), "Choosable": choosable, "Blocked": blocked, "Hidden": len(opts) - len(shown), "Find": find}))
}

// handMatchShown is how many ranked helpers the hand-matching page lists.
const handMatchShown = 25

func (s *Server) assignByHand(c *fiber.Ctx) error {
	id, err := idParam(c)
	if err != nil {
		return err
	}
	values := map[string]string{"offer_id": strings.Clone(c.FormValue("offer_id"))}
	offerID, ok := domain.ParseID(values["offer_id"])
	if !ok {
		err = domain.Invalid("offer_id", "Choose a helper from the list")
	} else {
		var m domain.Match
		if m, err = s.svc.Agreements.Assign(c.UserContext(), s.actor(c), id, offerID); err == nil {
			s.flash(c, "Matched. Both people are asked to accept; the match page shows when they do.")
			return c.Redirect("/matches/"+itoa(m.ID), fiber.StatusSeeOther)
		}
	}
	return retryForm(err, func(p problem) error { return s.renderHandMatch(c, p.Status, failed(values, p)) })
}

// statementPage is the signed-in member's statement; coordinators reach anyone's through
// memberStatementPage.
func (s *Server) statementPage(c *fiber.Ctx) error {
	return s.renderStatement(c, s.actor(c).ID, "/statement")
}

func (s *Server) memberStatementPage(c *fiber.Ctx) error {
	id, err := idParam(c)
	if err != nil {
		return err
	}
	return s.renderStatement(c, id, "/coordinate/members/"+itoa(id)+"/statement")
}

func (s *Server) renderStatement(c *fiber.Ctx, memberID int64, path string) error {
	form := map[string]string{"from": strings.Clone(c.Query("from")), "to": strings.Clone(c.Query("to"))}
	st, err := s.statementFor(c, memberID)
	var invalid *domain.ValidationError
	if errors.As(err, &invalid) {
		return retryForm(err, func(p problem) error {
			return s.render(c, p.Status, "pages/statement", "Statement", failed(form, p).into(fiber.Map{"Path": path}))
		})
	}
	if err != nil {
		return err
	}
	last := st.To.AddDate(0, 0, -1)
	q := "?from=" + st.From.Format(time.DateOnly) + "&to=" + last.Format(time.DateOnly)
	return s.render(c, fiber.StatusOK, "pages/statement", "Statement of support for "+st.Member.Name,
		fiber.Map{"S": st, "Last": last, "CSV": path + ".csv" + q, "Form": form, "Printed": time.Now()})
}

// statementFor reads a statement's ?from= and ?to= and the member's statement over those dates.
func (s *Server) statementFor(c *fiber.Ctx, memberID int64) (domain.Statement, error) {
	from, to, err := s.svc.Contributions.Period(c.Query("from"), c.Query("to"))
	if err != nil {
		return domain.Statement{}, err
	}
	return s.svc.Contributions.Statement(c.UserContext(), s.actor(c), memberID, from, to)
}

// statementCSV is a statement as a spreadsheet: one row per month and kind of support.
func (s *Server) statementCSV(memberOf func(c *fiber.Ctx) (int64, error)) fiber.Handler {
	return func(c *fiber.Ctx) error {
		id, err := memberOf(c)
		if err != nil {
			return err
		}
		st, err := s.statementFor(c, id)
		if err != nil {
			return err
		}
		var buf bytes.Buffer
		w := csv.NewWriter(&buf)
		_ = w.Write([]string{"member", "month", "kind of support", "hours given", "hours received", "occasions"})
		hours := func(m int) string { return strconv.FormatFloat(float64(m)/60, 'f', 2, 64) }
		for _, r := range st.Rows {
			_ = w.Write([]string{st.Member.Name, r.Month.Format("2006-01"), r.CategoryName, hours(r.Given), hours(r.Received), strconv.Itoa(r.Occasions)})
		}
		_ = w.Write([]string{st.Member.Name, "total", "", hours(st.Given), hours(st.Received), ""})
		w.Flush()
		c.Set(fiber.HeaderContentType, "text/csv; charset=utf-8")
		c.Set(fiber.HeaderContentDisposition, fmt.Sprintf(`attachment; filename="statement-%d-%s.csv"`, id, st.From.Format("2006-01")))
		return c.Send(buf.Bytes())
	}
}

// contributionsPage shows coordinators what the co-op gave, and each member's figures.
func (s *Server) contributionsPage(c *fiber.Ctx) error {
	form := map[string]string{"from": strings.Clone(c.Query("from")), "to": strings.Clone(c.Query("to"))}
	from, to, err := s.svc.Contributions.Period(form["from"], form["to"])
	if err != nil {
		return retryForm(err, func(p problem) error {
			return s.render(c, p.Status, "pages/contributions", "What the co-op gave", failed(form, p).into(nil))
		})
	}
	t, err := s.svc.Contributions.Totals(c.UserContext(), s.actor(c), from, to)
	if err != nil {
		return err
	}
	return s.render(c, fiber.StatusOK, "pages/contributions", "What the co-op gave", fiber.Map{"T": t, "Last": to.AddDate(0, 0, -1), "Form": form})
}

// notificationsPage is the member's notification centre; opening it marks everything read.
func (s *Server) notificationsPage(c *fiber.Ctx) error {
	ctx, by := c.UserContext(), s.actor(c)
	ns, err := s.svc.Notifications.List(ctx, by, domain.MaxPageSize)
	if err != nil {
		return err
	}
	if err := s.svc.Notifications.MarkRead(ctx, by, 0); err != nil {
		return err
	}
	c.Locals(unreadLocal, 0)
	return s.render(c, fiber.StatusOK, "pages/notifications", "Notifications", fiber.Map{"Notifications": ns})
}

// unreadLocal caches the unread count for the header of one page.
const unreadLocal = "unread"

// unread counts the signed-in member's unread notifications for the header; a failure shows none.
func (s *Server) unread(c *fiber.Ctx) int {
	if n, ok := c.Locals(unreadLocal).(int); ok {
		return n
	}
	if s.svc.Notifications == nil {
		return 0
	}
	n, err := s.svc.Notifications.Unread(c.UserContext(), s.actor(c))
	if err != nil {
		return 0
	}
	return n
}
