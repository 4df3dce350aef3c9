package app

import (
	"encoding/base64"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/coop-exchange/coop/domain"
)

// Safeguarding concerns: anyone signed in raises one; coordinators see them before anything else
// and mark them handled. A concern is never shown to the member it is about.

// newConcernPage is the form, prefilled from a link such as /concerns/new?about=request&id=123.
func (s *Server) newConcernPage(c *fiber.Ctx) error {
	values := map[string]string{
		"about":      string(domain.ParseConcernSubject(c.Query("about"))),
		"subject_id": strings.Clone(c.Query("id")),
		"who":        strings.Clone(c.Query("who")),
	}
	if values["about"] == "" {
		values["about"] = string(domain.ConcernGeneral)
	}
	return s.renderConcernForm(c, fiber.StatusOK, formPage{Values: values})
}

func (s *Server) renderConcernForm(c *fiber.Ctx, status int, fp formPage) error {
	return s.render(c, status, "pages/concern-form", "Raise a safeguarding concern", fp.into(fiber.Map{
		"Subjects": domain.ConcernSubjects, "MaxLen": domain.MaxConcernLen,
	}))
}

// raiseConcern answers the concern form.
func (s *Server) raiseConcern(c *fiber.Ctx) error {
	values := map[string]string{}
	for _, k := range []string{"about", "subject_id", "who", "text", "urgent"} {
		values[k] = strings.Clone(c.FormValue(k))
	}
	_, err := s.svc.Safeguarding.RaiseConcern(c.UserContext(), s.actor(c), domain.ConcernInput{About: values["about"],
		SubjectID: values["subject_id"], Who: values["who"], Text: values["text"], Urgent: values["urgent"] == "yes"})
	if err != nil {
		return retryForm(err, func(p problem) error { return s.renderConcernForm(c, p.Status, failed(values, p)) })
	}
	s.flash(c, "Thank you. Your concern has gone to the co-op's coordinators, who see concerns before anything else. "+
		"If anyone is in danger now, call 999.")
	return c.Redirect("/account#concerns", fiber.StatusSeeOther)
}

// concernQuery reads ?status= (open, handled, or empty for both), ?limit= and ?cursor=.
func concernQuery(c *fiber.Ctx) (domain.ConcernQuery, error) {
	q := domain.ConcernQuery{Status: strings.Clone(c.Query("status"))}
	v := &domain.ValidationError{}
	if q.Status != "" && q.Status != domain.ConcernOpen && q.Status != domain.ConcernHandled {
		v.Add("status", "Choose open or handled, or leave it out for both")
	}
	if l := c.Query("limit"); l != "" {
		n, err := strconv.Atoi(l)
		if err != nil || n < 1 || n > domain.MaxPageSize {
			v.Add("limit", "Give a limit between 1 and %d", domain.MaxPageSize)
		}
		q.Limit = n
	}
	if cur := c.Query("cursor"); cur != "" {
		after, ok := decodeConcernCursor(cur)
		if !ok {
			v.Add("cursor", "This cursor is not one the API gave; start again without it")
		}
		q.After = after
	}
	return q, v.OrNil()
}

func encodeConcernCursor(cur *domain.ConcernCursor) *string {
	if cur == nil {
		return nil
	}
	kind := "o"
	if cur.Handled {
		kind = "h"
	}
	s := base64.RawURLEncoding.EncodeToString([]byte(kind + itoa(cur.ID)))
	return &s
}

func decodeConcernCursor(s string) (*domain.ConcernCursor, bool) {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil || len(b) < 2 || (b[0] != 'o' && b[0] != 'h') {
		return nil, false
	}
	id, ok := domain.ParseID(string(b[1:]))
	return &domain.ConcernCursor{Handled: b[0] == 'h', ID: id}, ok
}

// concernsPage lists concerns for coordinators, open first, newest first; without their text,
// which is read (and the reading audited) on each concern's own page.
func (s *Server) concernsPage(c *fiber.Ctx) error {
	q, err := concernQuery(c)
	if err != nil {
		return err
	}
	page, err := s.svc.Safeguarding.Concerns(c.UserContext(), s.actor(c), q, false)
	if err != nil {
		return err
	}
	return s.render(c, fiber.StatusOK, "pages/concerns", "Safeguarding concerns", fiber.Map{
		"Concerns": page.Items, "Next": encodeConcernCursor(page.Next), "Query": q, "First": q.After == nil,
	})
}

func (s *Server) concernPage(c *fiber.Ctx) error {
	return s.renderConcern(c, fiber.StatusOK, formPage{})
}

func (s *Server) renderConcern(c *fiber.Ctx, status int, fp formPage) error {
	id, err := idParam(c)
	if err != nil {
		return err
	}
	concern, err := s.svc.Safeguarding.Concern(c.UserContext(), s.actor(c), id)
	if err != nil {
		return err
	}
	return s.render(c, status, "pages/concern", "Safeguarding concern "+itoa(concern.ID), fp.into(fiber.Map{
		"Concern": concern, "SubjectLink": concernSubjectLink(concern.Concern),
	}))
}

// concernSubjectLink is where a coordinator reads what a concern is about, or "".
func concernSubjectLink(c domain.Concern) string {
	switch c.SubjectType {
	case domain.ConcernRequest:
		return "/requests/" + itoa(c.SubjectID)
	case domain.ConcernOffer:
		return "/offers/" + itoa(c.SubjectID)
	case domain.ConcernMember:
		return "/coordinate/members/" + itoa(c.SubjectID)
	}
	return ""
}

// handleConcern answers the "mark handled" form on a concern's page.
func (s *Server) handleConcern(c *fiber.Ctx) error {
	id, err := idParam(c)
	if err != nil {
		return err
	}
	values := map[string]string{"note": strings.Clone(c.FormValue("note"))}
	if _, err := s.svc.Safeguarding.HandleConcern(c.UserContext(), s.actor(c), id, values["note"]); err != nil {
		return retryForm(err, func(p problem) error { return s.renderConcern(c, p.Status, failed(values, p)) })
	}
	s.flash(c, "Concern "+itoa(id)+" is marked handled, with your note.")
	return c.Redirect("/coordinate/concerns", fiber.StatusSeeOther)
}

// API

type concernRequest struct {
	About     string `json:"about"`
	SubjectID *int64 `json:"subject_id"`
	Who       string `json:"who"`
	Text      string `json:"text"`
	Urgent    bool   `json:"urgent"`
}

// concernReceiptJSON is what the person who raised a concern is told of it.
type concernReceiptJSON struct {
	ID        int64     `json:"id"`
	About     string    `json:"about"`
	SubjectID *int64    `json:"subject_id"`
	Status    string    `json:"status"`
	CreatedAt time.Time `json:"created_at"`
}

// concernJSON is a concern as coordinators read it.
type concernJSON struct {
	ID              int64      `json:"id"`
	About           string     `json:"about"`
	SubjectID       *int64     `json:"subject_id"`
	SubjectMemberID *int64     `json:"subject_member_id"`
	RaisedBy        *int64     `json:"raised_by"`
	Text            string     `json:"text"`
	Urgent          bool       `json:"urgent"`
	Status          string     `json:"status"`
	CreatedAt       time.Time  `json:"created_at"`
	HandledAt       *time.Time `json:"handled_at"`
	HandledBy       *int64     `json:"handled_by"`
	HandledNote     *string    `json:"handled_note"`
}

func optionalID(id int64) *int64 {
	if id == 0 {
		return nil
	}
	return &id
}

func toConcernJSON(l domain.ConcernListing) concernJSON {
	c := l.Concern
	j := concernJSON{ID: c.ID, About: string(c.SubjectType), SubjectID: optionalID(c.SubjectID), SubjectMemberID: optionalID(c.SubjectMemberID),
		RaisedBy: optionalID(c.RaisedBy), Text: c.Text, Urgent: c.Urgent, Status: domain.ConcernOpen, CreatedAt: c.CreatedAt}
	if c.Handled() {
		j.Status, j.HandledAt, j.HandledBy = domain.ConcernHandled, &c.HandledAt, optionalID(c.HandledBy)
		j.HandledNote = &c.HandledNote
	}
	return j
}

// apiRaiseConcern is POST /api/v1/concerns, for anyone signed in.
func (s *Server) apiRaiseConcern(c *fiber.Ctx) error {
	var req concernRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	in := domain.ConcernInput{About: req.About, Who: req.Who, Text: req.Text, Urgent: req.Urgent}
	if req.SubjectID != nil {
		in.SubjectID = itoa(*req.SubjectID)
	}
	concern, err := s.svc.Safeguarding.RaiseConcern(c.UserContext(), s.actor(c), in)
	if err != nil {
		return err
	}
	return sendJSON(c, fiber.StatusCreated, concernReceiptJSON{ID: concern.ID, About: string(concern.SubjectType),
		SubjectID: optionalID(concern.SubjectID), Status: "received", CreatedAt: concern.CreatedAt})
}

// apiConcerns is GET /api/v1/concerns, for coordinators: reading each concern is audited.
func (s *Server) apiConcerns(c *fiber.Ctx) error {
	q, err := concernQuery(c)
	if err != nil {
		return err
	}
	page, err := s.svc.Safeguarding.Concerns(c.UserContext(), s.actor(c), q, true)
	if err != nil {
		return err
	}
	return sendJSON(c, fiber.StatusOK, list[concernJSON]{Items: toAll(page.Items, toConcernJSON), Next: encodeConcernCursor(page.Next)})
}

type handleConcernRequest struct {
	Note string `json:"note"`
}

// apiHandleConcern is POST /api/v1/concerns/{id}/handle, for coordinators.
func (s *Server) apiHandleConcern(c *fiber.Ctx) error {
	id, err := idParam(c)
	if err != nil {
		return err
	}
	var req handleConcernRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	concern, err := s.svc.Safeguarding.HandleConcern(c.UserContext(), s.actor(c), id, req.Note)
	if err != nil {
		return err
	}
	return sendJSON(c, fiber.StatusOK, toConcernJSON(concern))
}

// safeguardingQueue adds to the coordinators' home page what skips every queue: the open
// concerns (never those about the coordinator looking), and the checks due for renewal.
func (s *Server) safeguardingQueue(c *fiber.Ctx, data fiber.Map) error {
	ctx, by := c.UserContext(), s.actor(c)
	open, err := s.svc.Safeguarding.CountOpenConcerns(ctx, by)
	if err != nil {
		return err
	}
	concerns, err := s.svc.Safeguarding.Concerns(ctx, by, domain.ConcernQuery{Status: domain.ConcernOpen, Limit: 10}, false)
	if err != nil {
		return err
	}
	due, err := s.svc.Safeguarding.ChecksDue(ctx, by, 20)
	if err != nil {
		return err
	}
	data["OpenConcerns"], data["Concerns"], data["ChecksDue"] = open, concerns.Items, due
	return nil
}
