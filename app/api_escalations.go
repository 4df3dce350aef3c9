package app

import (
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/coop-exchange/coop/domain"
	"github.com/coop-exchange/coop/domain/fhir"
)

// Escalations through the JSON API: coordinators list and read them; with
// Accept: application/fhir+json an escalation is a FHIR R4 Bundle.

type escalationChangeJSON struct {
	Status string `json:"status"`
	At     string `json:"at"`
	By     string `json:"by"`
	Note   string `json:"note"`
}

type escalationJSON struct {
	ID             int64                  `json:"id"`
	RequestID      int64                  `json:"request_id"`
	ServiceID      int64                  `json:"service_id"`
	Service        string                 `json:"service"`
	Status         string                 `json:"status"`
	BusinessStatus string                 `json:"business_status"`
	Reason         string                 `json:"reason"`
	RespondBy      *string                `json:"respond_by"`
	UpdatedAt      string                 `json:"updated_at"`
	History        []escalationChangeJSON `json:"history,omitempty"`
}

func toEscalationJSON(l domain.EscalationListing) escalationJSON {
	return escalationJSON{ID: l.ID, RequestID: l.RequestID, ServiceID: l.ServiceID, Service: l.ServiceName, Status: string(l.Status),
		BusinessStatus: l.BusinessStatus, Reason: l.Reason, RespondBy: optTime(l.RespondBy), UpdatedAt: l.UpdatedAt.UTC().Format(time.RFC3339)}
}

// apiEscalations lists escalations, newest first: ?status= and ?updated_since= (RFC 3339).
func (s *Server) apiEscalations(c *fiber.Ctx) error {
	q, err := pageQuery(c)
	if err != nil {
		return err
	}
	eq := domain.EscalationQuery{Status: domain.EscalationStatus(c.Query("status")), BeforeID: q.After, Limit: q.Limit}
	if raw := c.Query("updated_since"); raw != "" {
		t, err := time.Parse(time.RFC3339, raw)
		if err != nil {
			return domain.Invalid("updated_since", "Give a time like 2026-03-02T09:00:00Z")
		}
		eq.UpdatedSince = t
	}
	if eq.Limit == 0 {
		eq.Limit = domain.DefaultPageSize
	}
	limit := eq.Limit
	eq.Limit++
	rows, err := s.svc.Escalations.List(c.UserContext(), s.actor(c), eq)
	if err != nil {
		return err
	}
	out := list[escalationJSON]{Items: []escalationJSON{}}
	for i, r := range rows {
		if i == limit {
			out.Next = encodeCursor(rows[i-1].ID)
			break
		}
		out.Items = append(out.Items, toEscalationJSON(r))
	}
	return sendJSON(c, fiber.StatusOK, out)
}

// apiEscalation answers one escalation as JSON, or as a FHIR R4 Bundle when asked for one.
func (s *Server) apiEscalation(c *fiber.Ctx) error {
	id, err := idParam(c)
	if err != nil {
		return err
	}
	rec, err := s.svc.Escalations.Record(c.UserContext(), s.actor(c), id)
	if err != nil {
		return err
	}
	if strings.Contains(c.Get(fiber.HeaderAccept), "application/fhir+json") {
		body, err := fhir.Bundle(rec)
		if err != nil {
			return err
		}
		c.Set(fiber.HeaderContentType, "application/fhir+json; charset=utf-8")
		return c.Send(body)
	}
	out := escalationJSON{ID: rec.ID, RequestID: rec.RequestID, ServiceID: rec.ServiceID, Service: rec.ServiceName, Status: string(rec.Status),
		BusinessStatus: rec.BusinessStatus, Reason: rec.Reason, RespondBy: optTime(rec.RespondBy), UpdatedAt: rec.UpdatedAt.UTC().Format(time.RFC3339),
		History: []escalationChangeJSON{}}
	for _, h := range rec.History {
		out.History = append(out.History, escalationChangeJSON{Status: string(h.Status), At: h.At.UTC().Format(time.RFC3339), By: h.By, Note: h.Note})
	}
	return sendJSON(c, fiber.StatusOK, out)
}

// escalateNow passes a request to the service a coordinator chose, with their note.
func (s *Server) escalateNow(c *fiber.Ctx) error {
	id, err := idParam(c)
	if err != nil {
		return err
	}
	values := map[string]string{"service_id": strings.Clone(c.FormValue("service_id")), "note": strings.Clone(c.FormValue("note"))}
	serviceID, _ := domain.ParseID(values["service_id"])
	if _, err := s.svc.Escalations.EscalateNow(c.UserContext(), s.actor(c), id, serviceID, values["note"]); err != nil {
		return retryForm(err, func(p problem) error { return s.renderRequest(c, p.Status, failed(values, p)) })
	}
	s.flash(c, "Passed on. The service is told at once; the request's page shows when they answer.")
	return c.Redirect("/requests/"+itoa(id), fiber.StatusSeeOther)
}

// escalationStatusJSON is a change asked of an escalation through the API: a new status (with a
// reason to reject, an outcome to complete), or business_status "acknowledged".
type escalationStatusJSON struct {
	Status         string `json:"status"`
	BusinessStatus string `json:"business_status"`
	Reason         string `json:"reason"`
	Outcome        string `json:"outcome"`
}

// apiEscalationStatus changes an escalation's status: a service's answers for its people and
// tokens, the co-op's (send a draft, cancel) for coordinators. 409 with the allowed statuses when
// the life cycle does not allow it.
func (s *Server) apiEscalationStatus(c *fiber.Ctx) error {
	id, err := idParam(c)
	if err != nil {
		return err
	}
	var in escalationStatusJSON
	if err := decodeJSON(c, &in); err != nil {
		return err
	}
	ctx, by := c.UserContext(), s.actor(c)
	switch {
	case in.Status == "" && in.BusinessStatus == domain.BusinessAcknowledged:
		_, err = s.svc.Escalations.Acknowledge(ctx, by, id)
	case in.Status == "" && in.BusinessStatus != "":
		return domain.Invalid("business_status", "The only business status a service sets is %q", domain.BusinessAcknowledged)
	case in.Status == "":
		return domain.Invalid("status", "Give the new status, such as accepted, or business_status \"acknowledged\"")
	default:
		_, err = s.svc.Escalations.Move(ctx, by, id, domain.EscalationMove{To: domain.EscalationStatus(in.Status), Reason: in.Reason, Outcome: in.Outcome})
	}
	if err != nil {
		return err
	}
	return s.apiEscalation(c)
}
