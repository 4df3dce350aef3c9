package app

import (
	"net/url"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/coop-exchange/coop/domain"
)

// Finding support, and a member's own page of what they offer and ask for.

// browseFilters keeps the filters of a browse page, for its form and its next-page link.
func browseFilters(c *fiber.Ctx) map[string]string {
	values := map[string]string{}
	for _, k := range []string{"category", "area_id", "within_km", "from", "to", "q", "sort"} {
		values[k] = strings.Clone(c.Query(k))
	}
	return values
}

// nextLink is the address of the next page of a browse list, keeping the filters.
func nextLink(path string, values map[string]string, next *domain.Cursor) string {
	if next == nil {
		return ""
	}
	q := url.Values{}
	for k, v := range values {
		if v != "" {
			q.Set(k, v)
		}
	}
	q.Set("cursor", next.String())
	return path + "?" + q.Encode()
}

func (s *Server) browseData(c *fiber.Ctx) (fiber.Map, domain.BrowseInput, error) {
	ctx := c.UserContext()
	cats, err := s.svc.Catalogue.Categories(ctx)
	if err != nil {
		return nil, domain.BrowseInput{}, err
	}
	areas, err := s.svc.Catalogue.Areas(ctx)
	if err != nil {
		return nil, domain.BrowseInput{}, err
	}
	values := browseFilters(c)
	data := fiber.Map{"Categories": cats, "Areas": areas, "Form": values, "FromArea": currentMember(c).AreaID,
		"Distances": []string{"1", "2", "5", "10", "20"}}
	in, err := browseInput(c)
	return data, in, err
}

// renderBrowse shows a browse list, or its filter form with what is wrong with the filters.
func (s *Server) renderBrowse(c *fiber.Ctx, tmpl, title string, data fiber.Map, err error) error {
	if err != nil {
		p := problemFor(err)
		if p.Status != fiber.StatusUnprocessableEntity {
			return err
		}
		failed(data["Form"].(map[string]string), p).into(data)
		data["Invalid"] = true
		return s.render(c, p.Status, tmpl, title, data)
	}
	return s.render(c, fiber.StatusOK, tmpl, title, data)
}

func (s *Server) browseRequestsPage(c *fiber.Ctx) error {
	data, in, err := s.browseData(c)
	if data == nil {
		return err
	}
	if err == nil {
		var page domain.BrowsePage[domain.RequestListing]
		if page, err = s.svc.Exchange.BrowseRequests(c.UserContext(), s.actor(c), in); err == nil {
			data["Requests"] = page.Items
			data["Next"] = nextLink("/browse/requests", data["Form"].(map[string]string), page.Next)
			data["Paged"] = in.Cursor != ""
		}
	}
	return s.renderBrowse(c, "pages/browse-requests", "Requests for support", data, err)
}

func (s *Server) browseOffersPage(c *fiber.Ctx) error {
	data, in, err := s.browseData(c)
	if data == nil {
		return err
	}
	if err == nil {
		var page domain.BrowsePage[domain.OfferListing]
		if page, err = s.svc.Exchange.BrowseOffers(c.UserContext(), s.actor(c), in); err == nil {
			data["Offers"] = page.Items
			data["Next"] = nextLink("/browse/offers", data["Form"].(map[string]string), page.Next)
			data["Paged"] = in.Cursor != ""
		}
	}
	return s.renderBrowse(c, "pages/browse-offers", "Offers of support", data, err)
}

// supportPage is a member's own page: their offers and requests, and what to do next.
func (s *Server) supportPage(c *fiber.Ctx) error {
	ctx, by := c.UserContext(), s.actor(c)
	offers, err := s.svc.Exchange.MemberOffers(ctx, by, by.ID)
	if err != nil {
		return err
	}
	reqs, err := s.svc.Exchange.MemberRequests(ctx, by, by.ID)
	if err != nil {
		return err
	}
	cats, err := s.svc.Catalogue.Categories(ctx)
	if err != nil {
		return err
	}
	areas, err := s.svc.Catalogue.Areas(ctx)
	if err != nil {
		return err
	}
	now := s.svc.Exchange.Now()
	var upcoming, past []domain.Request
	for _, r := range reqs {
		if r.End.After(now) && (r.Status == domain.RequestOpen || r.Status == domain.RequestMatched || r.Status == domain.RequestEscalated) {
			upcoming = append(upcoming, r)
		} else {
			past = append(past, r)
		}
	}
	return s.render(c, fiber.StatusOK, "pages/support", "My support", fiber.Map{
		"Offers": offers, "Upcoming": upcoming, "Past": past, "Categories": cats, "Areas": areas,
	})
}
