package app_test

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/coop-exchange/coop/domain"
	"github.com/coop-exchange/coop/domain/store"
	"github.com/coop-exchange/coop/domain/store/storetest"
	"github.com/coop-exchange/coop/internal/testenv"
	"github.com/coop-exchange/coop/jobs"
)

// signInAs signs a new client in as the member with this email.
func (h *harness) signInAs(email string) *client {
	h.t.Helper()
	c := h.visitor()
	c.get("/signin")
	if res := c.postForm("/signin", url.Values{"email": {email}, "password": {password}}); res.StatusCode != http.StatusSeeOther {
		h.t.Fatalf("sign in as %s: %d", email, res.StatusCode)
	}
	c.get("/account")
	return c
}

type matchWire struct {
	ID           int64   `json:"id"`
	Status       string  `json:"status"`
	AnswerBy     *string `json:"answer_by"`
	PrivateNotes *string `json:"private_notes"`
	Helper       struct {
		Name  string  `json:"name"`
		Phone *string `json:"phone"`
	} `json:"helper"`
	MinutesConfirmed *int `json:"minutes_confirmed"`
}

// TestTheMatchLifeCycleThroughTheAPI follows one match from a real pass to the statements,
// checking at each step who may take it and what each person sees.
func TestTheMatchLifeCycleThroughTheAPI(t *testing.T) {
	storetest.ForEachDialectWithExec(t, func(t *testing.T, st *store.Store, exec storetest.Exec) {
		h := newHarness(t, st)
		ctx := context.Background()
		member, coordinator := h.people[domain.RoleMember], h.people[domain.RoleCoordinator]
		asMember := domain.Actor{ID: member.ID, Name: member.Name, Role: member.Role}
		asCoordinator := domain.Actor{ID: coordinator.ID, Name: coordinator.Name, Role: coordinator.Role}
		if _, err := h.svc.Membership.AddMember(ctx, domain.SystemActor("test"), domain.NewMemberInput{Name: "Nosy Neighbour",
			Email: "nosy@example.org", Phone: "01632 960 999", AreaID: h.area.ID, Role: domain.RoleMember, Password: password, ConsentRecorded: true}); err != nil {
			t.Fatal(err)
		}
		// The coordinator helps too: lifts any day.
		km, n := 5.0, 3
		var slots []domain.SlotInput
		for _, d := range []string{"mon", "tue", "wed", "thu", "fri", "sat", "sun"} {
			slots = append(slots, domain.SlotInput{Day: d, From: "08:00", To: "20:00"})
		}
		if _, err := h.svc.Exchange.PostOffer(ctx, asCoordinator, domain.OfferInput{Category: "transport", Description: "Lifts in a small car",
			Slots: slots, RadiusKm: &km, MaxPerWeek: &n}); err != nil {
			t.Fatal(err)
		}
		day := time.Now().In(london).AddDate(0, 0, 2)
		start := time.Date(day.Year(), day.Month(), day.Day(), 10, 0, 0, 0, london)
		reqs, err := h.svc.Exchange.AskForSupport(ctx, asMember, domain.RequestInput{Category: "transport", Description: "To the eye clinic",
			PrivateNotes: "Flat 3; buzz twice", Start: start, End: start.Add(2 * time.Hour), Urgency: "routine"})
		if err != nil {
			t.Fatal(err)
		}
		if rep, err := jobs.NewMatcher(st, st, london, nil, testenv.Logger(), nil).Pass(ctx, jobs.PassOptions{}); err != nil || rep.Proposed != 1 {
			t.Fatalf("pass: %+v (%v)", rep.MatchPass, err)
		}
		coord, mem, nosy := h.as(domain.RoleCoordinator), h.as(domain.RoleMember), h.signInAs("nosy@example.org")

		proposals := decode[listWire[matchWire]](t, coord.api("GET", "/api/v1/matches?status=proposed", nil))
		if len(proposals.Items) != 1 {
			t.Fatalf("proposed: %+v", proposals)
		}
		id := strconv.FormatInt(proposals.Items[0].ID, 10)
		if mine := decode[listWire[matchWire]](t, mem.api("GET", "/api/v1/matches", nil)); len(mine.Items) != 0 {
			t.Errorf("the requester sees a proposal before a coordinator approved it: %+v", mine)
		}
		expectStatus(t, mem.api("POST", "/api/v1/matches/"+id+"/approve", nil), http.StatusForbidden)
		expectStatus(t, mem.api("GET", "/api/v1/matches/"+id, nil), http.StatusNotFound)
		// The coordinator is the helper here, so another coordinator approves.
		res := coord.api("POST", "/api/v1/matches/"+id+"/approve", nil)
		expectStatus(t, res, http.StatusConflict)
		if p := decode[problemBody](t, res); !strings.Contains(p.Detail, "another coordinator must approve it") {
			t.Errorf("approving your own match says %q", p.Detail)
		}
		adm := h.as(domain.RoleAdmin)
		approved := decode[matchWire](t, adm.api("POST", "/api/v1/matches/"+id+"/approve", nil))
		if approved.Status != "approved" || approved.AnswerBy == nil {
			t.Fatalf("approved: %+v", approved)
		}
		res = adm.api("POST", "/api/v1/matches/"+id+"/approve", nil)
		expectStatus(t, res, http.StatusConflict)
		if p := decode[problemBody](t, res); !strings.Contains(p.Detail, "waiting for both people") {
			t.Errorf("approving twice says %q", p.Detail)
		}
		res = adm.api("POST", "/api/v1/matches/"+id+"/reject", map[string]string{"reason": "second thoughts"})
		expectStatus(t, res, http.StatusConflict) // already approved: nothing to reject

		// Before both accept: no phone number, no private notes.
		before := decode[matchWire](t, mem.api("GET", "/api/v1/matches/"+id, nil))
		if before.Helper.Phone != nil || before.PrivateNotes != nil || before.Helper.Name != "Test" {
			t.Errorf("before agreement the requester sees %+v", before)
		}
		expectStatus(t, nosy.api("GET", "/api/v1/matches/"+id, nil), http.StatusNotFound)
		expectStatus(t, nosy.api("POST", "/api/v1/matches/"+id+"/accept", nil), http.StatusNotFound)
		expectStatus(t, mem.api("POST", "/api/v1/matches/"+id+"/accept", nil), http.StatusOK)
		expectStatus(t, mem.api("POST", "/api/v1/matches/"+id+"/accept", nil), http.StatusConflict)
		agreed := decode[matchWire](t, coord.api("POST", "/api/v1/matches/"+id+"/accept", nil))
		if agreed.Status != "accepted" {
			t.Fatalf("after both accepted: %+v", agreed)
		}
		after := decode[matchWire](t, mem.api("GET", "/api/v1/matches/"+id, nil))
		if after.Helper.Phone == nil || *after.Helper.Phone != "01632 960 000" || after.PrivateNotes == nil {
			t.Errorf("once agreed the requester sees %+v", after)
		}
		if page := body(mem.get("/matches/" + id)); !strings.Contains(page, "01632 960 000") || !strings.Contains(page, "Agreed") {
			t.Errorf("the match page once agreed:\n%.2000s", page)
		}

		// It happened (the window is moved into the past, as time would).
		exec("UPDATE requests SET start_at = ?, end_at = ? WHERE id = ?", time.Now().Add(-3*time.Hour).UTC(), time.Now().Add(-time.Hour).UTC(), reqs[0].ID)
		res = coord.api("POST", "/api/v1/matches/"+id+"/complete", map[string]any{"minutes": 500})
		expectStatus(t, res, http.StatusUnprocessableEntity)
		if p := decode[problemBody](t, res); p.fields() != "minutes" {
			t.Errorf("claiming 500 minutes of 120: %+v", p)
		}
		expectStatus(t, mem.api("POST", "/api/v1/matches/"+id+"/complete", map[string]any{"minutes": 120}), http.StatusForbidden)
		expectStatus(t, coord.api("POST", "/api/v1/matches/"+id+"/complete", map[string]any{"minutes": 500, "sure": true}), http.StatusOK)
		expectStatus(t, coord.api("POST", "/api/v1/matches/"+id+"/confirm", nil), http.StatusForbidden)
		done := decode[matchWire](t, mem.api("POST", "/api/v1/matches/"+id+"/confirm", map[string]any{"minutes": 150}))
		if done.Status != "completed" || done.MinutesConfirmed == nil || *done.MinutesConfirmed != 150 {
			t.Fatalf("confirmed: %+v", done)
		}
		expectStatus(t, mem.api("POST", "/api/v1/matches/"+id+"/confirm", nil), http.StatusConflict)
		expectStatus(t, mem.api("POST", "/api/v1/matches/"+id+"/feedback", map[string]any{"rating": 5, "comment": "Lovely"}), http.StatusOK)
		expectStatus(t, mem.api("POST", "/api/v1/matches/"+id+"/feedback", map[string]any{"rating": 5}), http.StatusConflict)

		type statement struct {
			Given    int `json:"minutes_given"`
			Received int `json:"minutes_received"`
		}
		if s := decode[statement](t, mem.api("GET", "/api/v1/members/"+strconv.FormatInt(member.ID, 10)+"/statement", nil)); s.Received != 150 || s.Given != 0 {
			t.Errorf("the requester's statement: %+v", s)
		}
		if s := decode[statement](t, coord.api("GET", "/api/v1/members/"+strconv.FormatInt(coordinator.ID, 10)+"/statement", nil)); s.Given != 150 {
			t.Errorf("the helper's statement: %+v", s)
		}
		expectStatus(t, nosy.api("GET", "/api/v1/members/"+strconv.FormatInt(member.ID, 10)+"/statement", nil), http.StatusForbidden)
		csv := body(mem.get("/statement.csv?from=2020-01-01"))
		if !strings.Contains(csv, "Transport and lifts") || !strings.Contains(csv, "2.50") {
			t.Errorf("the statement as CSV:\n%s", csv)
		}
		notes := decode[listWire[struct {
			Kind string `json:"kind"`
		}]](t, mem.api("GET", "/api/v1/notifications", nil))
		kinds := map[string]bool{}
		for _, n := range notes.Items {
			kinds[n.Kind] = true
		}
		for _, k := range []string{domain.NotifyProposal, domain.NotifyAccepted, domain.NotifyConfirm} {
			if !kinds[k] {
				t.Errorf("the requester was not notified of %s: %v", k, kinds)
			}
		}
		if page := body(mem.get("/account")); !strings.Contains(page, `id="unread-count"`) {
			t.Errorf("the header shows no unread count")
		}
		for _, p := range []struct {
			c          *client
			path, want string
		}{
			{mem, "/matches", "Transport and lifts"},
			{mem, "/statement", "2 hours 30 minutes"},
			{mem, "/notifications", "Please confirm"},
			{coord, "/coordinate/contributions", "2 hours 30 minutes"},
			{coord, "/coordinate/members/" + strconv.FormatInt(member.ID, 10) + "/statement", "Statement of support"},
			{coord, "/coordinate/requests/" + strconv.FormatInt(reqs[0].ID, 10) + "/match", "Choose a helper"},
			{h.as(domain.RoleAdmin), "/matches/" + id, "Lovely"},
		} {
			res := p.c.get(p.path)
			expectStatus(t, res, http.StatusOK)
			if !strings.Contains(body(res), p.want) {
				t.Errorf("%s does not say %q:\n%.3000s", p.path, p.want, body(res))
			}
		}
		if page := body(mem.get("/notifications")); strings.Contains(page, "<strong>New:</strong>") {
			t.Errorf("notifications stay unread once seen")
		}
		expectStatus(t, nosy.get("/coordinate/contributions"), http.StatusForbidden)
		expectStatus(t, nosy.get("/matches/"+id), http.StatusNotFound)
	})
}

// TestModeratingASelection approves and rejects several proposals from the queue at once.
func TestModeratingASelection(t *testing.T) {
	forEachDialect(t, func(t *testing.T, h *harness) {
		ctx := context.Background()
		member, coordinator := h.people[domain.RoleMember], h.people[domain.RoleCoordinator]
		asMember := domain.Actor{ID: member.ID, Name: member.Name, Role: member.Role}
		_ = coordinator
		var helpers []domain.Member
		for _, name := range []string{"Hana", "Ivo"} {
			m, err := h.svc.Membership.AddMember(ctx, domain.SystemActor("test"), domain.NewMemberInput{Name: name + " Helper",
				Email: strings.ToLower(name) + "@example.org", Phone: "01632 960 321", AreaID: h.area.ID, Role: domain.RoleMember, Password: password, ConsentRecorded: true})
			if err != nil {
				t.Fatal(err)
			}
			helpers = append(helpers, m)
		}
		km, n := 5.0, 5
		for _, who := range helpers {
			if _, err := h.svc.Exchange.PostOffer(ctx, domain.Actor{ID: who.ID, Name: who.Name, Role: who.Role}, domain.OfferInput{Category: "transport",
				Description: "Lifts", Slots: []domain.SlotInput{{Day: "sat", From: "08:00", To: "20:00"}}, RadiusKm: &km, MaxPerWeek: &n}); err != nil {
				t.Fatal(err)
			}
		}
		day := time.Now().In(london).AddDate(0, 0, 2)
		for day.Weekday() != time.Saturday {
			day = day.AddDate(0, 0, 1)
		}
		for i, urgency := range []string{"routine", "urgent"} {
			start := time.Date(day.Year(), day.Month(), day.Day(), 10+2*i, 0, 0, 0, london)
			if _, err := h.svc.Exchange.AskForSupport(ctx, asMember, domain.RequestInput{Category: "transport", Description: "A lift",
				Start: start, End: start.Add(time.Hour), Urgency: urgency}); err != nil {
				t.Fatal(err)
			}
		}
		if rep, err := jobs.NewMatcher(h.st, h.st, london, nil, testenv.Logger(), nil).Pass(ctx, jobs.PassOptions{}); err != nil || rep.Proposed != 2 {
			t.Fatalf("pass: %+v (%v)", rep.MatchPass, err)
		}
		c := h.as(domain.RoleCoordinator)
		page := body(c.get("/coordinate/matching"))
		if u, r := strings.Index(page, "Urgent"), strings.Index(page, "12:00"); u < 0 || r < 0 {
			t.Fatalf("the queue:\n%s", page)
		}
		ids := regexpAll(page, `name="ids" type="checkbox" value="(\d+)"`)
		if len(ids) != 2 {
			t.Fatalf("checkboxes %v", ids)
		}
		// The urgent one (12:00) is listed first although it starts later.
		first := strings.Index(page, `value="`+ids[0]+`"`)
		if urgentAt := strings.Index(page, "tag urgent"); urgentAt < first {
			t.Errorf("the urgent proposal is not first")
		}
		res := c.postForm("/coordinate/matching/batch", url.Values{"ids": ids, "action": {"reject"}})
		expectStatus(t, res, http.StatusUnprocessableEntity)
		if !strings.Contains(body(res), "Say why these proposals are turned down") {
			t.Errorf("rejecting without a reason:\n%.1500s", body(res))
		}
		res = c.postForm("/coordinate/matching/batch", url.Values{"ids": ids, "action": {"approve"}})
		expectStatus(t, res, http.StatusSeeOther)
		if page := body(c.get("/coordinate/matching")); !strings.Contains(page, "2 proposals approved") || !strings.Contains(page, "No proposals are waiting") {
			t.Errorf("after approving both:\n%.3000s", page)
		}
		res = h.as(domain.RoleMember).postForm("/coordinate/matching/batch", url.Values{"ids": ids, "action": {"approve"}})
		expectStatus(t, res, http.StatusForbidden)
	})
}

// regexpAll returns the first group of every match of pattern in s.
func regexpAll(s, pattern string) []string {
	var out []string
	for _, m := range regexp.MustCompile(pattern).FindAllStringSubmatch(s, -1) {
		out = append(out, m[1])
	}
	return out
}
