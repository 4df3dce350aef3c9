package app

import (
	"bytes"
	"encoding/json"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/coop-exchange/coop/domain"
)

// browseInput reads the browse filters from the query string (the pages and the API share them).
func browseInput(c *fiber.Ctx) (domain.BrowseInput, error) {
	v := &domain.ValidationError{}
	in := domain.BrowseInput{Category: strings.Clone(c.Query("category")), From: strings.Clone(c.Query("from")),
		To: strings.Clone(c.Query("to")), Query: strings.Clone(c.Query("q")), Sort: strings.Clone(c.Query("sort")),
		Cursor: strings.Clone(c.Query("cursor"))}
	if raw := c.Query("area_id"); raw != "" {
		id, ok := domain.ParseID(raw)
		if !ok {
			v.Add("area_id", "Choose an area from the list")
		}
		in.AreaID = id
	}
	if raw := c.Query("within_km"); raw != "" {
		km, err := strconv.ParseFloat(raw, 64)
		if err != nil {
			v.Add("within_km", "Give the distance in km as a number")
		}
		in.WithinKm = km
	}
	if raw := c.Query("limit"); raw != "" {
		n, err := strconv.Atoi(raw)
		if err != nil || n < 1 {
			v.Add("limit", "Give the limit as a number from 1")
			n = 0
		}
		in.Limit = n
	}
	return in, v.OrNil()
}

func cursorString(c *domain.Cursor) *string {
	if c == nil {
		return nil
	}
	s := c.String()
	return &s
}

// memberParam reads ?member_id= (a member's own posts), or 0.
func memberParam(c *fiber.Ctx) (int64, error) {
	raw := c.Query("member_id")
	if raw == "" {
		return 0, nil
	}
	id, ok := domain.ParseID(raw)
	if !ok {
		return 0, domain.Invalid("member_id", "Give the member's number")
	}
	return id, nil
}

// Offers

type offerRequest struct {
	MemberID    int64       `json:"member_id"`
	Status      *string     `json:"status"`
	Category    *string     `json:"category"`
	Description *string     `json:"description"`
	Slots       *[]slotJSON `json:"slots"`
	RadiusKm    *float64    `json:"radius_km"`
	MaxPerWeek  *int        `json:"max_per_week"`
}

func (s *Server) apiOffers(c *fiber.Ctx) error {
	ctx, by := c.UserContext(), s.actor(c)
	cats, err := s.svc.Catalogue.Categories(ctx)
	if err != nil {
		return err
	}
	memberID, err := memberParam(c)
	if err != nil {
		return err
	}
	if memberID != 0 {
		offers, err := s.svc.Exchange.MemberOffers(ctx, by, memberID)
		if err != nil {
			return err
		}
		m, err := s.svc.Membership.Member(ctx, by, memberID)
		if err != nil {
			return err
		}
		items := make([]offerJSON, len(offers))
		for i, o := range offers {
			items[i] = s.toOfferJSON(domain.OfferListing{Offer: o, FirstName: m.FirstName(), AreaID: m.AreaID}, true, cats)
		}
		return sendJSON(c, fiber.StatusOK, list[offerJSON]{Items: items})
	}
	in, err := browseInput(c)
	if err != nil {
		return err
	}
	page, err := s.svc.Exchange.BrowseOffers(ctx, by, in)
	if err != nil {
		return err
	}
	items := make([]offerJSON, len(page.Items))
	for i, o := range page.Items {
		items[i] = s.toOfferJSON(o, o.MemberID == by.ID || by.Role.Coordinates(), cats)
	}
	return sendJSON(c, fiber.StatusOK, list[offerJSON]{Items: items, Next: cursorString(page.Next)})
}

func (s *Server) apiPostOffer(c *fiber.Ctx) error {
	var req offerRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	if req.Status != nil {
		return domain.Invalid("status", "A new offer is active; pause it afterwards if need be")
	}
	in := domain.OfferInput{MemberID: req.MemberID, RadiusKm: req.RadiusKm, MaxPerWeek: req.MaxPerWeek}
	if req.Category != nil {
		in.Category = *req.Category
	}
	if req.Description != nil {
		in.Description = *req.Description
	}
	if req.Slots != nil {
		in.Slots = fromSlotsJSON(*req.Slots)
	}
	o, err := s.svc.Exchange.PostOffer(c.UserContext(), s.actor(c), in)
	if err != nil {
		return err
	}
	c.Location("/api/v1/offers/" + itoa(o.ID))
	return s.sendOffer(c, fiber.StatusCreated, o.ID)
}

// sendOffer answers with the offer as the caller may see it.
func (s *Server) sendOffer(c *fiber.Ctx, status int, id int64) error {
	ctx := c.UserContext()
	v, err := s.svc.Exchange.Offer(ctx, s.actor(c), id)
	if err != nil {
		return err
	}
	cats, err := s.svc.Catalogue.Categories(ctx)
	if err != nil {
		return err
	}
	return sendJSON(c, status, s.toOfferJSON(v.OfferListing, v.Manage, cats))
}

func (s *Server) apiOffer(c *fiber.Ctx) error {
	id, err := idParam(c)
	if err != nil {
		return err
	}
	return s.sendOffer(c, fiber.StatusOK, id)
}

func (s *Server) apiPatchOffer(c *fiber.Ctx) error {
	id, err := idParam(c)
	if err != nil {
		return err
	}
	var req offerRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	if req.MemberID != 0 {
		return domain.Invalid("member_id", "An offer cannot move to another member; post a new one for them")
	}
	if req.Status != nil {
		if req.Category != nil || req.Description != nil || req.Slots != nil || req.RadiusKm != nil || req.MaxPerWeek != nil {
			return domain.Invalid("status", "Change the status on its own, not with other fields")
		}
		if _, err := s.svc.Exchange.SetOfferStatus(c.UserContext(), s.actor(c), id, domain.OfferStatus(*req.Status)); err != nil {
			return err
		}
		return s.sendOffer(c, fiber.StatusOK, id)
	}
	p := domain.OfferPatch{Category: req.Category, Description: req.Description, RadiusKm: req.RadiusKm, MaxPerWeek: req.MaxPerWeek}
	if req.Slots != nil {
		slots := fromSlotsJSON(*req.Slots)
		p.Slots = &slots
	}
	if _, err := s.svc.Exchange.UpdateOffer(c.UserContext(), s.actor(c), id, p); err != nil {
		return err
	}
	return s.sendOffer(c, fiber.StatusOK, id)
}

// apiSetOfferStatus answers POST /api/v1/offers/:id/pause, /resume and /withdraw.
func (s *Server) apiSetOfferStatus(to domain.OfferStatus) fiber.Handler {
	return func(c *fiber.Ctx) error {
		id, err := idParam(c)
		if err != nil {
			return err
		}
		if _, err := s.svc.Exchange.SetOfferStatus(c.UserContext(), s.actor(c), id, to); err != nil {
			return err
		}
		return s.sendOffer(c, fiber.StatusOK, id)
	}
}

// Requests

type requestBody struct {
	MemberID          int64           `json:"member_id"`
	Category          *string         `json:"category"`
	Description       *string         `json:"description"`
	PrivateNotes      *string         `json:"private_notes"`
	ForWhom           json.RawMessage `json:"for_whom"`
	AreaID            *int64          `json:"area_id"`
	Start             *time.Time      `json:"start"`
	End               *time.Time      `json:"end"`
	RepeatWeeks       int             `json:"repeat_weeks"`
	Urgency           *string         `json:"urgency"`
	NeedsCheck        *bool           `json:"needs_check"`
	ConsentToEscalate *bool           `json:"consent_to_escalate"`
	ConsentContact    *bool           `json:"consent_contact"`
}

// forWhom reads for_whom: absent (nil, false), null (myself), or {name, relationship}.
func (b requestBody) forWhom() (*domain.SupportedPerson, bool, error) {
	raw := bytes.TrimSpace(b.ForWhom)
	if len(raw) == 0 {
		return nil, false, nil
	}
	if bytes.Equal(raw, []byte("null")) {
		return nil, true, nil
	}
	var w struct {
		Name         string `json:"name"`
		Relationship string `json:"relationship"`
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&w); err != nil {
		return nil, true, domain.Invalid("for_whom", "Give for_whom as null (for yourself) or {\"name\": ..., \"relationship\": ...}")
	}
	return &domain.SupportedPerson{FirstName: w.Name, Relationship: w.Relationship}, true, nil
}

func (s *Server) apiRequests(c *fiber.Ctx) error {
	ctx, by := c.UserContext(), s.actor(c)
	cats, err := s.svc.Catalogue.Categories(ctx)
	if err != nil {
		return err
	}
	memberID, err := memberParam(c)
	if err != nil {
		return err
	}
	if memberID != 0 {
		reqs, err := s.svc.Exchange.MemberRequests(ctx, by, memberID)
		if err != nil {
			return err
		}
		m, err := s.svc.Membership.Member(ctx, by, memberID)
		if err != nil {
			return err
		}
		items := make([]requestJSON, len(reqs))
		for i, r := range reqs {
			// A coordinator's list of someone's requests leaves out the private details (the
			// service has removed them): each request's own view shows them, and is audited.
			items[i] = toRequestJSON(domain.RequestListing{Request: r, FirstName: m.FirstName()}, memberID == by.ID, cats)
		}
		return sendJSON(c, fiber.StatusOK, list[requestJSON]{Items: items})
	}
	in, err := browseInput(c)
	if err != nil {
		return err
	}
	page, err := s.svc.Exchange.BrowseRequests(ctx, by, in)
	if err != nil {
		return err
	}
	items := make([]requestJSON, len(page.Items))
	for i, r := range page.Items {
		items[i] = toRequestJSON(r, false, cats)
	}
	return sendJSON(c, fiber.StatusOK, list[requestJSON]{Items: items, Next: cursorString(page.Next)})
}

func (s *Server) apiAskForSupport(c *fiber.Ctx) error {
	var b requestBody
	if err := decodeJSON(c, &b); err != nil {
		return err
	}
	who, _, err := b.forWhom()
	if err != nil {
		return err
	}
	in := domain.RequestInput{MemberID: b.MemberID, RepeatWeeks: b.RepeatWeeks, ForSomeoneElse: who != nil}
	if who != nil {
		in.ForWhomName, in.ForWhomRelationship = who.FirstName, who.Relationship
	}
	for dst, src := range map[*string]*string{&in.Category: b.Category, &in.Description: b.Description, &in.PrivateNotes: b.PrivateNotes, &in.Urgency: b.Urgency} {
		if src != nil {
			*dst = *src
		}
	}
	if b.AreaID != nil {
		in.AreaID = *b.AreaID
	}
	if b.Start != nil {
		in.Start = *b.Start
	}
	if b.End != nil {
		in.End = *b.End
	}
	in.NeedsCheck = b.NeedsCheck != nil && *b.NeedsCheck
	in.ConsentToEscalate = b.ConsentToEscalate != nil && *b.ConsentToEscalate
	in.ConsentContact = b.ConsentContact != nil && *b.ConsentContact
	ctx := c.UserContext()
	reqs, err := s.svc.Exchange.AskForSupport(ctx, s.actor(c), in)
	if err != nil {
		return err
	}
	cats, err := s.svc.Catalogue.Categories(ctx)
	if err != nil {
		return err
	}
	m, err := s.svc.Membership.Member(ctx, s.actor(c), reqs[0].MemberID)
	if err != nil {
		return err
	}
	out := struct {
		SeriesID *int64        `json:"series_id"`
		Items    []requestJSON `json:"items"`
	}{}
	for _, r := range reqs {
		out.Items = append(out.Items, toRequestJSON(domain.RequestListing{Request: r, FirstName: m.FirstName()}, true, cats))
	}
	if reqs[0].SeriesID != 0 {
		out.SeriesID = &reqs[0].SeriesID
	}
	c.Location("/api/v1/requests/" + itoa(reqs[0].ID))
	return sendJSON(c, fiber.StatusCreated, out)
}

// sendRequest answers with the request as the caller may see it.
func (s *Server) sendRequest(c *fiber.Ctx, id int64) error {
	ctx := c.UserContext()
	v, err := s.svc.Exchange.Request(ctx, s.actor(c), id)
	if err != nil {
		return err
	}
	cats, err := s.svc.Catalogue.Categories(ctx)
	if err != nil {
		return err
	}
	return sendJSON(c, fiber.StatusOK, toRequestJSON(v.RequestListing, v.Full, cats))
}

func (s *Server) apiRequest(c *fiber.Ctx) error {
	id, err := idParam(c)
	if err != nil {
		return err
	}
	return s.sendRequest(c, id)
}

func (s *Server) apiPatchRequest(c *fiber.Ctx) error {
	id, err := idParam(c)
	if err != nil {
		return err
	}
	var b requestBody
	if err := decodeJSON(c, &b); err != nil {
		return err
	}
	v := &domain.ValidationError{}
	if b.MemberID != 0 {
		v.Add("member_id", "A request cannot move to another member")
	}
	if b.Category != nil {
		v.Add("category", "A request's kind of support cannot change; cancel it and ask again")
	}
	if b.RepeatWeeks != 0 {
		v.Add("repeat_weeks", "A request cannot become a series; ask again for the other weeks")
	}
	if err := v.OrNil(); err != nil {
		return err
	}
	who, given, err := b.forWhom()
	if err != nil {
		return err
	}
	p := domain.RequestPatch{Description: b.Description, PrivateNotes: b.PrivateNotes, AreaID: b.AreaID, Start: b.Start, End: b.End,
		Urgency: b.Urgency, NeedsCheck: b.NeedsCheck, ConsentToEscalate: b.ConsentToEscalate, ConsentContact: b.ConsentContact}
	if given {
		p.ForWhom = &who
	}
	if _, err := s.svc.Exchange.UpdateRequest(c.UserContext(), s.actor(c), id, p); err != nil {
		return err
	}
	return s.sendRequest(c, id)
}

type cancelBody struct {
	Reason      string `json:"reason"`
	WholeSeries bool   `json:"whole_series"`
}

func (s *Server) apiCancelRequest(c *fiber.Ctx) error {
	id, err := idParam(c)
	if err != nil {
		return err
	}
	var b cancelBody
	if err := decodeJSON(c, &b); err != nil {
		return err
	}
	n, err := s.svc.Exchange.CancelRequest(c.UserContext(), s.actor(c), id, b.Reason, b.WholeSeries)
	if err != nil {
		return err
	}
	return sendJSON(c, fiber.StatusOK, fiber.Map{"cancelled": n})
}
