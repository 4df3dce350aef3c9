package app_test

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/coop-exchange/coop/domain"
)

// inboxWorld is two formal services, each sent one urgent request by the escalation step.
type inboxWorld struct {
	riverside, hillside  domain.Service
	mine, theirs         int64 // the escalations sent to Riverside and to Hillside
	mineReq, theirsReq   int64 // their requests
	member               domain.Member
	coordinator          domain.Actor
	startMine, startThem time.Time
}

func newInboxWorld(t *testing.T, h *harness) inboxWorld {
	t.Helper()
	ctx := context.Background()
	w := inboxWorld{member: h.people[domain.RoleMember]}
	c := h.people[domain.RoleCoordinator]
	w.coordinator = domain.Actor{ID: c.ID, Name: c.Name, Role: c.Role}
	cats, err := h.svc.Catalogue.Categories(ctx)
	if err != nil {
		t.Fatal(err)
	}
	terms := map[string][]string{}
	for _, c := range cats {
		terms[c.Slug] = c.TaxonomyTerms
	}
	mk := func(name, slug string) domain.Service {
		s, _, err := h.svc.Directory.Create(ctx, w.coordinator, domain.ServiceInput{Name: name, Organisation: name + " Council",
			TaxonomyTerms: terms[slug], AreaIDs: []int64{h.area.ID}, Priority: 5, WebhookURL: "https://referrals.example/" + slug, Active: true})
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	w.riverside, w.hillside = mk("Riverside Community Transport", "transport"), mk("Hillside Sitting Service", "sitting")
	ask := func(slug, what string, contact bool, start time.Time) int64 {
		reqs, err := h.svc.Exchange.AskForSupport(ctx, domain.Actor{ID: w.member.ID, Name: w.member.Name, Role: w.member.Role}, domain.RequestInput{
			Category: slug, Description: what, Start: start, End: start.Add(time.Hour), Urgency: "urgent", ConsentToEscalate: true, ConsentContact: contact})
		if err != nil {
			t.Fatal(err)
		}
		return reqs[0].ID
	}
	w.startMine = time.Now().Add(6 * time.Hour).Truncate(time.Minute)
	w.startThem = w.startMine.Add(time.Hour)
	w.mineReq = ask("transport", "A lift home from the eye clinic", true, w.startMine)
	w.theirsReq = ask("sitting", "Someone to sit with Dad while I am at work", false, w.startThem)
	if got, err := h.svc.Escalations.EscalateDue(ctx); err != nil || got.Sent != 2 {
		t.Fatalf("escalation step: %+v (%v)", got, err)
	}
	for _, id := range []int64{w.mineReq, w.theirsReq} {
		es, err := h.svc.Escalations.ForRequest(ctx, w.coordinator, domain.Request{ID: id, MemberID: w.member.ID})
		if err != nil || len(es) != 1 {
			t.Fatalf("escalations of request %d: %v (%v)", id, es, err)
		}
		if id == w.mineReq {
			w.mine = es[0].ID
		} else {
			w.theirs = es[0].ID
		}
	}
	return w
}

// TestServicesInbox: a coordinator adds a services user to one service; they see only its
// escalation, new first with the respond-by time, its detail (the person's first name and phone
// only because they agreed), answer it in the inbox, and the requester reads each change.
func TestServicesInbox(t *testing.T) {
	forEachDialect(t, func(t *testing.T, h *harness) {
		w := newInboxWorld(t, h)
		coord, svcUser, mem := h.as(domain.RoleCoordinator), h.as(domain.RoleServices), h.as(domain.RoleMember)
		mine, theirs := strconv.FormatInt(w.mine, 10), strconv.FormatInt(w.theirs, 10)

		// Before anyone adds them to a service, the inbox is empty and says why.
		if page := body(svcUser.get("/inbox")); !strings.Contains(page, "does not answer for any service") || strings.Contains(page, "/inbox/"+mine) {
			t.Fatalf("an unattached services user's inbox:\n%.1500s", page)
		}
		rs := "/coordinate/services/" + strconv.FormatInt(w.riverside.ID, 10)
		coord.get(rs)
		// An address belonging to a member cannot become a services user.
		expectStatus(t, coord.postForm(rs+"/users", url.Values{"user_name": {"X"}, "user_email": {"member@example.org"}}), http.StatusUnprocessableEntity)
		expectStatus(t, coord.postForm(rs+"/users", url.Values{"user_name": {"Test services"}, "user_email": {"services@example.org"}}), http.StatusSeeOther)
		if page := body(coord.get(rs)); !strings.Contains(page, "Test services (services@example.org)") {
			t.Errorf("the service page does not list the person who answers for it")
		}
		// Someone new is made a services user and emailed a link to set their password.
		expectStatus(t, coord.postForm(rs+"/users", url.Values{"user_name": {"Sam Reid"}, "user_email": {"sam.reid@riverside.example"}}), http.StatusSeeOther)
		msgs, err := h.st.ClaimOutbox(context.Background(), time.Now().Add(time.Minute), time.Minute, 100)
		if err != nil {
			t.Fatal(err)
		}
		linked := false
		for _, m := range msgs {
			linked = linked || (m.Recipient == "sam.reid@riverside.example" && strings.Contains(string(m.Payload), "/password/set?token="))
		}
		if !linked {
			t.Errorf("the new services user was not emailed a link to set a password: %+v", msgs)
		}

		inbox := body(svcUser.get("/inbox"))
		if p, err := h.svc.Audit.List(context.Background(), w.coordinator, domain.AuditQuery{Action: domain.AuditInboxViewed,
			Page: domain.PageQuery{Limit: 10}}); err != nil || len(p.Items) == 0 {
			t.Errorf("looking at the inbox was not audited (%v)", err)
		}
		if !strings.Contains(inbox, `href="/inbox/`+mine+`"`) || strings.Contains(inbox, `href="/inbox/`+theirs+`"`) {
			t.Fatalf("the inbox should list Riverside's escalation only:\n%.2000s", inbox)
		}
		if !strings.Contains(inbox, "please acknowledge by") {
			t.Errorf("the inbox does not give the respond-by time:\n%.2000s", inbox)
		}
		// Another service's escalation is not found, on the page and through the API.
		expectStatus(t, svcUser.get("/inbox/"+theirs), http.StatusNotFound)
		expectStatus(t, svcUser.api("GET", "/api/v1/escalations/"+theirs, nil), http.StatusNotFound)
		expectStatus(t, svcUser.api("POST", "/api/v1/escalations/"+theirs+"/status", map[string]string{"status": "accepted"}), http.StatusNotFound)
		list := decode[listWire[struct {
			ID int64 `json:"id"`
		}]](t, svcUser.api("GET", "/api/v1/escalations", nil))
		if len(list.Items) != 1 || list.Items[0].ID != w.mine {
			t.Errorf("a services user lists %+v, want only escalation %d", list.Items, w.mine)
		}

		viewed := func() int {
			p, err := h.svc.Audit.List(context.Background(), w.coordinator, domain.AuditQuery{Action: domain.AuditEscalationViewed, SubjectType: "escalation",
				SubjectID: w.mine, Page: domain.PageQuery{Limit: 100}})
			if err != nil {
				t.Fatal(err)
			}
			return len(p.Items)
		}
		before := viewed()
		detail := body(svcUser.get("/inbox/" + mine))
		if viewed() != before+1 {
			t.Errorf("reading the detail was not audited (%d reads before, %d after)", before, viewed())
		}
		for _, want := range []string{"A lift home from the eye clinic", "Test", "01632 960 000", "What the co-op tried", "Acknowledge"} {
			if !strings.Contains(detail, want) {
				t.Errorf("the detail lacks %q:\n%.3000s", want, detail)
			}
		}
		if strings.Contains(detail, "member@example.org") {
			t.Errorf("the detail shows the member's email, which the service does not need")
		}

		// Acknowledge, then try to complete straight away (not allowed), reject without a
		// reason (refused), then accept.
		expectStatus(t, svcUser.postForm("/inbox/"+mine+"/acknowledge", nil), http.StatusSeeOther)
		if page := body(mem.get("/notifications")); !strings.Contains(page, "Riverside Community Transport has seen your request") {
			t.Errorf("the requester was not told the service has seen it")
		}
		svcUser.get("/inbox/" + mine)
		res := svcUser.postForm("/inbox/"+mine+"/status", url.Values{"status": {"rejected"}})
		expectStatus(t, res, http.StatusUnprocessableEntity)
		if !strings.Contains(body(res), "Say why the service cannot take this on") {
			t.Errorf("a rejection without a reason does not say what is missing")
		}
		expectStatus(t, svcUser.postForm("/inbox/"+mine+"/status", url.Values{"status": {"completed"}, "outcome": {"done"}}), http.StatusConflict)
		expectStatus(t, svcUser.postForm("/inbox/"+mine+"/status", url.Values{"status": {"accepted"}}), http.StatusSeeOther)

		reqPage := body(mem.get("/requests/" + strconv.FormatInt(w.mineReq, 10)))
		if !strings.Contains(reqPage, "Passed to Riverside Community Transport on") || !strings.Contains(reqPage, "accepted by the service on") {
			t.Errorf("the requester's page does not tell the story:\n%.2500s", reqPage)
		}
		answered := "Riverside Community Transport: request " + strconv.FormatInt(w.mineReq, 10) + " is now accepted by the service."
		if page := body(coord.get("/coordinate")); !strings.Contains(page, answered) {
			t.Errorf("coordinators were not told of the service's answer (%q):\n%.3000s", answered, page)
		}
		history := body(svcUser.get("/inbox/" + mine))
		if !strings.Contains(history, "Accepted by the service, by Test services") {
			t.Errorf("the history does not say who accepted:\n%.3000s", history)
		}
	})
}

// TestEscalationStatusAPIAndTokens: a coordinator makes a token for a service's own system; it
// lists and answers that service's escalations only; a move the life cycle refuses is 409 with
// the allowed ones; a revoked token stops working.
func TestEscalationStatusAPIAndTokens(t *testing.T) {
	forEachDialect(t, func(t *testing.T, h *harness) {
		w := newInboxWorld(t, h)
		coord := h.as(domain.RoleCoordinator)
		sid := strconv.FormatInt(w.riverside.ID, 10)
		expectStatus(t, coord.api("POST", "/api/v1/services/"+sid+"/tokens", map[string]string{"name": ""}), http.StatusUnprocessableEntity)
		made := decode[struct {
			ID    int64  `json:"id"`
			Token string `json:"token"`
		}](t, coord.api("POST", "/api/v1/services/"+sid+"/tokens", map[string]string{"name": "case management"}))
		if !strings.HasPrefix(made.Token, domain.ServiceTokenPrefix) {
			t.Fatalf("token %q", made.Token)
		}
		listed := body(coord.api("GET", "/api/v1/services/"+sid+"/tokens", nil))
		if strings.Contains(listed, made.Token) || !strings.Contains(listed, "case management") {
			t.Errorf("the token list shows the token, or not its name: %s", listed)
		}
		system := h.visitor()
		system.bearer = made.Token
		page := decode[listWire[struct {
			ID int64 `json:"id"`
		}]](t, system.api("GET", "/api/v1/escalations", nil))
		if len(page.Items) != 1 || page.Items[0].ID != w.mine {
			t.Fatalf("the service's token lists %+v", page.Items)
		}
		expectStatus(t, system.api("GET", "/api/v1/escalations/"+strconv.FormatInt(w.theirs, 10), nil), http.StatusNotFound)
		mine := "/api/v1/escalations/" + strconv.FormatInt(w.mine, 10)

		res := system.api("POST", mine+"/status", map[string]string{"status": "completed", "outcome": "done"})
		expectStatus(t, res, http.StatusConflict)
		refused := decode[struct {
			Allowed []string `json:"allowed"`
		}](t, res)
		if strings.Join(refused.Allowed, ",") != "accepted,rejected,on-hold,entered-in-error" {
			t.Errorf("409 lists %v", refused.Allowed)
		}
		res = system.api("POST", mine+"/status", map[string]string{"status": "rejected"})
		expectStatus(t, res, http.StatusUnprocessableEntity)
		if p := decode[problemBody](t, res); p.fields() != "reason" {
			t.Errorf("a rejection without a reason names %q", p.fields())
		}
		ack := decode[struct {
			Status         string `json:"status"`
			BusinessStatus string `json:"business_status"`
		}](t, system.api("POST", mine+"/status", map[string]string{"business_status": "acknowledged"}))
		if ack.Status != "requested" || ack.BusinessStatus != "acknowledged" {
			t.Errorf("after acknowledging: %+v", ack)
		}
		done := decode[struct {
			Status  string `json:"status"`
			History []struct {
				Status string `json:"status"`
				By     string `json:"by"`
				Note   string `json:"note"`
			} `json:"history"`
		}](t, system.api("POST", mine+"/status", map[string]string{"status": "rejected", "reason": "Outside our hours"}))
		last := done.History[len(done.History)-1]
		if done.Status != "rejected" || last.Note != "Outside our hours" || !strings.Contains(last.By, "case management") {
			t.Errorf("after rejecting: %+v", done)
		}
		// The request is open again, for the community and for the next service.
		v, err := h.svc.Exchange.Request(context.Background(), w.coordinator, w.mineReq)
		if err != nil || v.Status != domain.RequestOpen {
			t.Errorf("after a rejection the request is %v (%v)", v.Status, err)
		}
		expectStatus(t, coord.api("DELETE", "/api/v1/services/"+sid+"/tokens/"+strconv.FormatInt(made.ID, 10), nil), http.StatusNoContent)
		expectStatus(t, system.api("GET", "/api/v1/escalations", nil), http.StatusUnauthorized)
	})
}

// TestWithdrawingConsentCancelsTheEscalation: the requester withdraws their agreement; the
// escalation is cancelled and the request is open again.
func TestWithdrawingConsentCancelsTheEscalation(t *testing.T) {
	forEachDialect(t, func(t *testing.T, h *harness) {
		w := newInboxWorld(t, h)
		mem, coord := h.as(domain.RoleMember), h.as(domain.RoleCoordinator)
		path := "/requests/" + strconv.FormatInt(w.mineReq, 10)
		if page := body(mem.get(path)); !strings.Contains(page, "Stop passing this to formal services") {
			t.Fatalf("the requester is not offered a way to withdraw:\n%.2000s", page)
		}
		expectStatus(t, mem.postForm(path+"/consent/withdraw", nil), http.StatusSeeOther)
		l, err := h.svc.Escalations.Get(context.Background(), w.coordinator, w.mine)
		if err != nil || l.Status != domain.EscalationCancelled || !strings.Contains(l.StatusReason, "withdrew") {
			t.Fatalf("after withdrawal the escalation is %+v (%v)", l, err)
		}
		v, err := h.svc.Exchange.Request(context.Background(), w.coordinator, w.mineReq)
		if err != nil || v.Status != domain.RequestOpen || v.ConsentToEscalate() {
			t.Errorf("after withdrawal the request is %v, consent %v (%v)", v.Status, v.ConsentToEscalate(), err)
		}
		// Nothing more can be passed on.
		res := coord.postForm("/coordinate/requests/"+strconv.FormatInt(w.mineReq, 10)+"/escalate",
			url.Values{"service_id": {strconv.FormatInt(w.riverside.ID, 10)}, "note": {"Try again"}})
		if res.StatusCode == http.StatusSeeOther {
			t.Errorf("a coordinator passed on a request whose consent was withdrawn")
		}
	})
}

// TestDraftsWaitForACoordinator: with the co-op's review setting on, the escalation step holds a
// draft that the service cannot see until a coordinator sends it from the request's page.
func TestDraftsWaitForACoordinator(t *testing.T) {
	forEachDialect(t, func(t *testing.T, h *harness) {
		ctx := context.Background()
		coord, svcUser := h.as(domain.RoleCoordinator), h.as(domain.RoleServices)
		coord.get("/coordinate/escalations")
		expectStatus(t, coord.postForm("/coordinate/escalations/review", url.Values{"review": {"yes"}}), http.StatusSeeOther)
		if page := body(coord.get("/coordinate/escalations")); !strings.Contains(page, `name="review" type="checkbox" value="yes" checked`) {
			t.Fatalf("the setting is not shown as on")
		}
		expectStatus(t, h.as(domain.RoleMember).postForm("/coordinate/escalations/review", url.Values{"review": {"no"}}), http.StatusForbidden)
		c := h.people[domain.RoleCoordinator]
		by := domain.Actor{ID: c.ID, Name: c.Name, Role: c.Role}
		cats, err := h.svc.Catalogue.Categories(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var terms []string
		for _, c := range cats {
			if c.Slug == "transport" {
				terms = c.TaxonomyTerms
			}
		}
		svc, _, err := h.svc.Directory.Create(ctx, by, domain.ServiceInput{Name: "Riverside Community Transport", TaxonomyTerms: terms,
			AreaIDs: []int64{h.area.ID}, WebhookURL: "https://referrals.example/t", Active: true})
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := h.svc.ServicePeople.AddUser(ctx, by, svc.ID, domain.ServiceUserInput{Email: "services@example.org"}); err != nil {
			t.Fatal(err)
		}
		m := h.people[domain.RoleMember]
		start := time.Now().Add(5 * time.Hour).Truncate(time.Minute)
		reqs, err := h.svc.Exchange.AskForSupport(ctx, domain.Actor{ID: m.ID, Name: m.Name, Role: m.Role}, domain.RequestInput{Category: "transport",
			Description: "A lift to the surgery", Start: start, End: start.Add(time.Hour), Urgency: "urgent", ConsentToEscalate: true})
		if err != nil {
			t.Fatal(err)
		}
		if got, err := h.svc.Escalations.EscalateDue(ctx); err != nil || got.Drafted != 1 || got.Sent != 0 {
			t.Fatalf("with review on, the step: %+v (%v)", got, err)
		}
		es, err := h.svc.Escalations.ForRequest(ctx, by, reqs[0])
		if err != nil || len(es) != 1 || es[0].Status != domain.EscalationDraft {
			t.Fatalf("the draft: %+v (%v)", es, err)
		}
		id := strconv.FormatInt(es[0].ID, 10)
		expectStatus(t, svcUser.get("/inbox/"+id), http.StatusNotFound)
		path := "/requests/" + strconv.FormatInt(reqs[0].ID, 10)
		if page := body(coord.get(path)); !strings.Contains(page, "Send it to Riverside Community Transport now") {
			t.Fatalf("the request page offers no way to send the draft")
		}
		expectStatus(t, coord.postForm("/coordinate/escalations/"+id+"/status", url.Values{"status": {"requested"}}), http.StatusSeeOther)
		if page := body(svcUser.get("/inbox")); !strings.Contains(page, `href="/inbox/`+id+`"`) {
			t.Errorf("once sent, the service does not see it:\n%.1500s", page)
		}
	})
}
