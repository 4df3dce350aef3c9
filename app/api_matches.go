package app

import (
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/coop-exchange/coop/domain"
)

// The match life cycle through the JSON API, with the same rules as the pages.

type personJSON struct {
	ID    int64   `json:"id"`
	Name  string  `json:"name"`
	Phone *string `json:"phone"` // only once both have accepted (or to coordinators)
	Email *string `json:"email"`
}

type matchJSON struct {
	ID               int64        `json:"id"`
	RequestID        int64        `json:"request_id"`
	OfferID          int64        `json:"offer_id"`
	HelperID         int64        `json:"helper_id"`
	Source           string       `json:"source"`
	Status           string       `json:"status"`
	Score            float64      `json:"score"`
	Reasons          []string     `json:"reasons"`
	Category         string       `json:"category"`
	Start            string       `json:"start"`
	End              string       `json:"end"`
	Urgency          string       `json:"urgency"`
	AnswerBy         *string      `json:"answer_by"`
	HelperAccepted   bool         `json:"helper_accepted"`
	RequesterAccept  bool         `json:"requester_accepted"`
	DoneAt           *string      `json:"done_at"`
	MinutesClaimed   *int         `json:"minutes_claimed"`
	MinutesConfirmed *int         `json:"minutes_confirmed"`
	EndReason        string       `json:"end_reason"`
	CreatedAt        string       `json:"created_at"`
	Helper           *personJSON  `json:"helper,omitempty"`
	Requester        *personJSON  `json:"requester,omitempty"`
	PrivateNotes     *string      `json:"private_notes,omitempty"`
	Feedback         []feedbackJS `json:"feedback,omitempty"`
}

type feedbackJS struct {
	From    string `json:"from"`
	Rating  int    `json:"rating"`
	Comment string `json:"comment"`
}

func optTime(t time.Time) *string {
	if t.IsZero() {
		return nil
	}
	s := t.UTC().Format(time.RFC3339)
	return &s
}

func optInt(n int) *int {
	if n == 0 {
		return nil
	}
	return &n
}

func toMatchJSON(l domain.ProposalListing, cats []domain.Category) matchJSON {
	reasons := l.Reasons
	if reasons == nil {
		reasons = []string{}
	}
	return matchJSON{ID: l.ID, RequestID: l.RequestID, OfferID: l.OfferID, HelperID: l.HelperID, Source: string(l.Source),
		Status: string(l.Status), Score: l.Score, Reasons: reasons, Category: categoryOf(cats, l.Request.CategoryID).Slug,
		Start: l.Request.Start.UTC().Format(time.RFC3339), End: l.Request.End.UTC().Format(time.RFC3339), Urgency: string(l.Request.Urgency),
		AnswerBy: optTime(l.AnswerBy), HelperAccepted: !l.HelperAnsweredAt.IsZero(), RequesterAccept: !l.RequesterAnsweredAt.IsZero(),
		DoneAt: optTime(l.DoneAt), MinutesClaimed: optInt(l.MinutesClaimed), MinutesConfirmed: optInt(l.MinutesConfirmed),
		EndReason: l.EndReason, CreatedAt: l.CreatedAt.UTC().Format(time.RFC3339)}
}

func person(m domain.Member, contact bool) *personJSON {
	p := &personJSON{ID: m.ID, Name: m.Name}
	if contact {
		p.Phone, p.Email = &m.Phone, &m.Email
	}
	return p
}

func toMatchViewJSON(v domain.MatchView, cats []domain.Category) matchJSON {
	j := toMatchJSON(v.ProposalListing, cats)
	j.Helper, j.Requester = person(v.Helper, v.Contact), person(v.Requester, v.Contact)
	if v.Contact {
		notes := v.Request.PrivateNotes
		j.PrivateNotes = &notes
	}
	for _, f := range v.Feedback {
		j.Feedback = append(j.Feedback, feedbackJS{From: f.FromName, Rating: f.Rating, Comment: f.Comment})
	}
	return j
}

// apiMatches lists matches: a coordinator's, all (optionally ?status=a,b and ?member_id=);
// anyone else's, their own as helper or requester.
func (s *Server) apiMatches(c *fiber.Ctx) error {
	ctx, by := c.UserContext(), s.actor(c)
	q, err := pageQuery(c)
	if err != nil {
		return err
	}
	var statuses []domain.MatchStatus
	if raw := c.Query("status"); raw != "" {
		for _, st := range strings.Split(raw, ",") {
			ms := domain.MatchStatus(strings.TrimSpace(st))
			if !ms.Known() {
				return domain.Invalid("status", "Use proposed, approved, accepted, completed, rejected, declined or cancelled")
			}
			statuses = append(statuses, ms)
		}
	}
	member, err := memberParam(c)
	if err != nil {
		return err
	}
	limit := q.Limit
	if limit == 0 {
		limit = domain.DefaultPageSize
	}
	var rows []domain.ProposalListing
	switch {
	case by.Role.Coordinates() && member == 0:
		rows, err = s.svc.Agreements.AllMatches(ctx, by, statuses, q.After, limit+1)
	default:
		if member == 0 {
			member = by.ID
		}
		rows, err = s.svc.Agreements.MemberMatches(ctx, by, member, q.After, limit+1)
	}
	if err != nil {
		return err
	}
	cats, err := s.svc.Catalogue.Categories(ctx)
	if err != nil {
		return err
	}
	out := list[matchJSON]{Items: []matchJSON{}}
	for i, r := range rows {
		if i == limit {
			out.Next = encodeCursor(rows[i-1].ID)
			break
		}
		out.Items = append(out.Items, toMatchJSON(r, cats))
	}
	return sendJSON(c, fiber.StatusOK, out)
}

func (s *Server) apiMatch(c *fiber.Ctx) error {
	id, err := idParam(c)
	if err != nil {
		return err
	}
	return s.sendMatch(c, id, fiber.StatusOK)
}

func (s *Server) sendMatch(c *fiber.Ctx, id int64, status int) error {
	ctx := c.UserContext()
	v, err := s.svc.Agreements.View(ctx, s.actor(c), id)
	if err != nil {
		return err
	}
	cats, err := s.svc.Catalogue.Categories(ctx)
	if err != nil {
		return err
	}
	return sendJSON(c, status, toMatchViewJSON(v, cats))
}

type matchActionBody struct {
	Reason         string `json:"reason"`
	Minutes        int    `json:"minutes"`
	Sure           bool   `json:"sure"`
	NoLongerNeeded bool   `json:"no_longer_needed"`
	Rating         int    `json:"rating"`
	Comment        string `json:"comment"`
}

// apiMatchAction runs one step of the life cycle and answers with the match as it now is.
func (s *Server) apiMatchAction(step func(s *Server, c *fiber.Ctx, id int64, b matchActionBody) error) fiber.Handler {
	return func(c *fiber.Ctx) error {
		id, err := idParam(c)
		if err != nil {
			return err
		}
		var b matchActionBody
		if len(c.Body()) > 0 {
			if err := decodeJSON(c, &b); err != nil {
				return err
			}
		}
		if err := step(s, c, id, b); err != nil {
			return err
		}
		return s.sendMatch(c, id, fiber.StatusOK)
	}
}

// The steps, shared by the API and the pages.
var (
	approveStep = func(s *Server, c *fiber.Ctx, id int64, _ matchActionBody) error {
		_, err := s.svc.Agreements.Approve(c.UserContext(), s.actor(c), id)
		return err
	}
	rejectStep = func(s *Server, c *fiber.Ctx, id int64, b matchActionBody) error {
		_, err := s.svc.Agreements.Reject(c.UserContext(), s.actor(c), id, b.Reason)
		return err
	}
	acceptStep = func(s *Server, c *fiber.Ctx, id int64, _ matchActionBody) error {
		_, err := s.svc.Agreements.Accept(c.UserContext(), s.actor(c), id)
		return err
	}
	declineStep = func(s *Server, c *fiber.Ctx, id int64, b matchActionBody) error {
		_, err := s.svc.Agreements.Decline(c.UserContext(), s.actor(c), id, b.Reason)
		return err
	}
	cancelStep = func(s *Server, c *fiber.Ctx, id int64, b matchActionBody) error {
		_, err := s.svc.Agreements.Cancel(c.UserContext(), s.actor(c), id, b.Reason, b.NoLongerNeeded)
		return err
	}
	completeStep = func(s *Server, c *fiber.Ctx, id int64, b matchActionBody) error {
		_, err := s.svc.Agreements.MarkDone(c.UserContext(), s.actor(c), id, b.Minutes, b.Sure)
		return err
	}
	confirmStep = func(s *Server, c *fiber.Ctx, id int64, b matchActionBody) error {
		_, err := s.svc.Agreements.Confirm(c.UserContext(), s.actor(c), id, b.Minutes, b.Sure)
		return err
	}
	feedbackStep = func(s *Server, c *fiber.Ctx, id int64, b matchActionBody) error {
		return s.svc.Agreements.GiveFeedback(c.UserContext(), s.actor(c), id, b.Rating, b.Comment)
	}
)

type candidateJSON struct {
	OfferID    int64    `json:"offer_id"`
	HelperID   int64    `json:"helper_id"`
	HelperName string   `json:"helper_name"`
	Score      float64  `json:"score"`
	Reasons    []string `json:"reasons"`
	Warnings   []string `json:"warnings"`
	Blocked    *string  `json:"blocked"`
}

// apiCandidates ranks the helpers a coordinator could choose for a request.
func (s *Server) apiCandidates(c *fiber.Ctx) error {
	id, err := idParam(c)
	if err != nil {
		return err
	}
	opts, err := s.svc.Agreements.Candidates(c.UserContext(), s.actor(c), id)
	if err != nil {
		return err
	}
	limit := 50
	if raw := c.Query("limit"); raw != "" {
		n, err := strconv.Atoi(raw)
		if err != nil || n < 1 || n > domain.MaxPageSize {
			return domain.Invalid("limit", "Give a limit between 1 and %d", domain.MaxPageSize)
		}
		limit = n
	}
	out := list[candidateJSON]{Items: []candidateJSON{}}
	for _, o := range opts[:min(len(opts), limit)] {
		j := candidateJSON{OfferID: o.OfferID, HelperID: o.HelperID, HelperName: o.HelperName, Score: o.Score,
			Reasons: append([]string{}, o.Reasons...), Warnings: append([]string{}, o.Warnings...)}
		if o.Blocked != "" {
			b := o.Blocked
			j.Blocked = &b
		}
		out.Items = append(out.Items, j)
	}
	return sendJSON(c, fiber.StatusOK, out)
}

// apiAssign matches a request by hand with {"offer_id": n}.
func (s *Server) apiAssign(c *fiber.Ctx) error {
	id, err := idParam(c)
	if err != nil {
		return err
	}
	var b struct {
		OfferID int64 `json:"offer_id"`
	}
	if err := decodeJSON(c, &b); err != nil {
		return err
	}
	m, err := s.svc.Agreements.Assign(c.UserContext(), s.actor(c), id, b.OfferID)
	if err != nil {
		return err
	}
	return s.sendMatch(c, m.ID, fiber.StatusCreated)
}

type statementRowJSON struct {
	Month    string `json:"month"` // YYYY-MM
	Category string `json:"category"`
	Given    int    `json:"minutes_given"`
	Received int    `json:"minutes_received"`
	Times    int    `json:"occasions"`
}

// apiStatement is a member's statement: ?from= and ?to= dates, the member or a coordinator.
func (s *Server) apiStatement(c *fiber.Ctx) error {
	id, err := idParam(c)
	if err != nil {
		return err
	}
	st, err := s.statementFor(c, id)
	if err != nil {
		return err
	}
	rows := []statementRowJSON{}
	for _, r := range st.Rows {
		rows = append(rows, statementRowJSON{Month: r.Month.Format("2006-01"), Category: r.CategoryName, Given: r.Given, Received: r.Received, Times: r.Occasions})
	}
	return sendJSON(c, fiber.StatusOK, fiber.Map{"member_id": id, "from": st.From.Format(time.DateOnly), "to": st.To.AddDate(0, 0, -1).Format(time.DateOnly),
		"minutes_given": st.Given, "minutes_received": st.Received, "rows": rows})
}

type notificationJSON struct {
	ID        int64   `json:"id"`
	Kind      string  `json:"kind"`
	Message   string  `json:"message"`
	Link      string  `json:"link"`
	CreatedAt string  `json:"created_at"`
	ReadAt    *string `json:"read_at"`
}

func (s *Server) apiNotifications(c *fiber.Ctx) error {
	ns, err := s.svc.Notifications.List(c.UserContext(), s.actor(c), domain.MaxPageSize)
	if err != nil {
		return err
	}
	out := list[notificationJSON]{Items: []notificationJSON{}}
	for _, n := range ns {
		out.Items = append(out.Items, notificationJSON{ID: n.ID, Kind: n.Kind, Message: n.Message, Link: n.Link,
			CreatedAt: n.CreatedAt.UTC().Format(time.RFC3339), ReadAt: optTime(n.ReadAt)})
	}
	return sendJSON(c, fiber.StatusOK, out)
}

// parseIDs reads a list of ids from a form's repeated field.
func parseIDs(raw [][]byte) ([]int64, error) {
	var ids []int64
	for _, b := range raw {
		id, err := strconv.ParseInt(string(b), 10, 64)
		if err != nil || id <= 0 {
			return nil, domain.Invalid("ids", "Choose proposals from the list")
		}
		ids = append(ids, id)
	}
	if len(ids) == 0 {
		return nil, domain.Invalid("ids", "Tick at least one proposal")
	}
	return ids, nil
}
