package app

import (
	"errors"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/coop-exchange/coop/domain"
	"github.com/coop-exchange/coop/domain/matching"
)

// What the matcher proposed and what it could not match, for coordinators.

// reasonView is a reason code with its meaning and how many requests it holds back.
type reasonView struct {
	Code  string
	Label string
	Count int
}

// reasonViews lists the codes in the order the rules are tried, with their counts; those with
// none are left out unless all is set.
func reasonViews(counts map[string]int, all bool) []reasonView {
	var out []reasonView
	for _, code := range matching.Codes {
		if n := counts[string(code)]; n > 0 || all {
			out = append(out, reasonView{Code: string(code), Label: code.Label(), Count: n})
		}
	}
	return out
}

// matchFilters reads the category (a slug), area and reason filters of the matching pages.
func (s *Server) matchFilters(c *fiber.Ctx, withCode bool) (fiber.Map, domain.MatchListQuery, error) {
	ctx := c.UserContext()
	cats, err := s.svc.Catalogue.Categories(ctx)
	if err != nil {
		return nil, domain.MatchListQuery{}, err
	}
	areas, err := s.svc.Catalogue.Areas(ctx)
	if err != nil {
		return nil, domain.MatchListQuery{}, err
	}
	form := map[string]string{}
	for _, k := range []string{"category", "area_id", "code"} {
		form[k] = strings.Clone(c.Query(k))
	}
	data := fiber.Map{"Categories": cats, "Areas": areas, "Form": form}
	var q domain.MatchListQuery
	v := &domain.ValidationError{}
	if slug := form["category"]; slug != "" {
		for _, cat := range cats {
			if cat.Slug == slug {
				q.CategoryID = cat.ID
			}
		}
		if q.CategoryID == 0 {
			v.Add("category", "There is no kind of support called %q", slug)
		}
	}
	if raw := form["area_id"]; raw != "" {
		id, ok := domain.ParseID(raw)
		known := false
		for _, a := range areas {
			known = known || a.ID == id
		}
		if !ok || !known {
			v.Add("area_id", "Choose an area from the list")
		}
		q.AreaID = id
	}
	if code := form["code"]; withCode && code != "" {
		known := false
		for _, k := range matching.Codes {
			known = known || string(k) == code
		}
		if !known {
			v.Add("code", "Choose a reason from the list")
		}
		q.Code = code
	}
	if raw := c.Query("cursor"); raw != "" {
		cur, ok := domain.ParseCursor(raw)
		if !ok || (cur.Sort != domain.SortSoonest && domain.UrgencyRank(cur.Sort) == 2 && cur.Sort != domain.SortQueueRoutine) {
			v.Add("cursor", "This page link is damaged; start again from the first page")
		}
		q.After = &cur
	}
	return data, q, v.OrNil()
}

// renderFiltered shows a filtered list, or its filters with what is wrong with them.
func (s *Server) renderFiltered(c *fiber.Ctx, tmpl, title string, data fiber.Map, err error) error {
	var verr *domain.ValidationError
	if errors.As(err, &verr) {
		failed(data["Form"].(map[string]string), problemFor(err)).into(data)
		data["Invalid"] = true
		return s.render(c, fiber.StatusUnprocessableEntity, tmpl, title, data)
	}
	if err != nil {
		return err
	}
	return s.render(c, fiber.StatusOK, tmpl, title, data)
}

// matchingPage shows the latest pass of the matcher and the moderation queue: the proposals
// waiting for a coordinator, most urgent and soonest first.
func (s *Server) matchingPage(c *fiber.Ctx) error {
	return s.renderMatching(c, fiber.StatusOK, formPage{})
}

func (s *Server) renderMatching(c *fiber.Ctx, status int, fp formPage) error {
	ctx, by := c.UserContext(), s.actor(c)
	data, q, err := s.matchFilters(c, false)
	if data == nil {
		return err
	}
	if fp.Errors != nil || fp.Summary != "" {
		data["Errors"], data["Summary"], data["SummaryTitle"] = fp.Errors, fp.Summary, fp.SummaryTitle
		data["Reason"] = fp.Values["reason"]
	}
	passes, perr := s.svc.Matches.LatestPasses(ctx, by, 10)
	if perr != nil {
		return perr
	}
	data["Passes"] = passes
	if len(passes) > 0 {
		data["Latest"] = passes[0]
		data["Reasons"] = reasonViews(passes[0].UnmatchedReasons, false)
	}
	if err == nil {
		var page domain.BrowsePage[domain.QueueItem]
		if page, err = s.svc.Agreements.Queue(ctx, by, q); err == nil {
			data["Proposals"] = page.Items
			data["Next"] = nextLink("/coordinate/matching", data["Form"].(map[string]string), page.Next)
			data["Paged"] = q.After != nil
		}
	}
	if status != fiber.StatusOK && err == nil {
		return s.render(c, status, "pages/matching", "Matching", data)
	}
	return s.renderFiltered(c, "pages/matching", "Matching", data, err)
}

// unmatchedPage answers "why is this not matched?" for each open request the matcher left.
func (s *Server) unmatchedPage(c *fiber.Ctx) error {
	ctx, by := c.UserContext(), s.actor(c)
	data, q, err := s.matchFilters(c, true)
	if data == nil {
		return err
	}
	if err == nil {
		var counts map[string]int
		if counts, err = s.svc.Matches.UnmatchedCounts(ctx, by, q.CategoryID, q.AreaID); err == nil {
			total := 0
			for _, n := range counts {
				total += n
			}
			data["Reasons"], data["Total"] = reasonViews(counts, false), total
		}
	}
	data["AllReasons"] = reasonViews(nil, true)
	if err == nil {
		var page domain.BrowsePage[domain.UnmatchedListing]
		if page, err = s.svc.Matches.Unmatched(ctx, by, q); err == nil {
			data["Unmatched"] = page.Items
			data["Next"] = nextLink("/coordinate/unmatched", data["Form"].(map[string]string), page.Next)
			data["Paged"] = q.After != nil
		}
	}
	return s.renderFiltered(c, "pages/unmatched", "Why is this not matched?", data, err)
}
