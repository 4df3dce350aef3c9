package app_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/coop-exchange/coop/domain"
	"github.com/coop-exchange/coop/domain/store"
	"github.com/coop-exchange/coop/domain/store/storetest"
)

// nextWeekday is the date (YYYY-MM-DD, London) of the next given weekday at least two days ahead.
func nextWeekday(d time.Weekday) time.Time {
	t := time.Now().In(london).AddDate(0, 0, 2)
	for t.Weekday() != d {
		t = t.AddDate(0, 0, 1)
	}
	return t
}

func offerForm(category string, slots ...[3]string) url.Values {
	f := url.Values{"category": {category}, "description": {"Lifts in a small car; I can fold a wheelchair"},
		"radius_km": {"5"}, "max_per_week": {"2"}}
	for i, s := range slots {
		f.Set(fmt.Sprintf("slots[%d].day", i), s[0])
		f.Set(fmt.Sprintf("slots[%d].from", i), s[1])
		f.Set(fmt.Sprintf("slots[%d].to", i), s[2])
	}
	return f
}

func requestForm(category string, day time.Time, from, to string) url.Values {
	return url.Values{"category": {category}, "description": {"A lift to the surgery for my dad"}, "for_whom": {"other"},
		"for_whom_name": {"Frank"}, "for_whom_relationship": {"my dad"}, "date": {day.Format("2006-01-02")},
		"start_time": {from}, "end_time": {to}, "repeat": {"once"}, "urgency": {"soon"},
		"private_notes": {"Flat 3, 12 Mill Row; ring twice"}, "consent": {"yes"}}
}

// locationID is the id at the end of a redirect to a post.
func locationID(t *testing.T, res *http.Response) int64 {
	t.Helper()
	loc := res.Header.Get("Location")
	id, err := strconv.ParseInt(loc[strings.LastIndexByte(loc, '/')+1:], 10, 64)
	if err != nil {
		t.Fatalf("no post id in %q", loc)
	}
	return id
}

// TestOfferAndAskThroughPages is the journey through the pages: a member offers lifts on
// two afternoons, another asks for a lift for their dad, and each sees the other's post in
// browse, without contact details.
func TestOfferAndAskThroughPages(t *testing.T) {
	forEachDialect(t, func(t *testing.T, h *harness) {
		helper := h.as(domain.RoleMember)
		helper.get("/offers/new")
		res := helper.postForm("/offers", offerForm("transport", [3]string{"tue", "13:00", "17:00"}, [3]string{"thu", "13:00", "17:00"}))
		expectStatus(t, res, http.StatusSeeOther)
		offerID := locationID(t, res)
		contains(t, helper.get(res.Header.Get("Location")), "The offer is posted", "Tuesdays 13:00–17:00; Thursdays 13:00–17:00", "Pause it for now")

		// The requester is the coordinator, asking as a member would (coordinators may post too).
		asker := h.as(domain.RoleCoordinator)
		asker.get("/requests/new")
		tue := nextWeekday(time.Tuesday)
		res = asker.postForm("/requests", requestForm("transport", tue, "14:00", "15:30"))
		expectStatus(t, res, http.StatusSeeOther)
		requestID := locationID(t, res)
		contains(t, asker.get(res.Header.Get("Location")), "Your request is posted", "Frank (my dad)", "Flat 3, 12 Mill Row",
			"May be passed on if no helper is found in time")

		mine := h.people[domain.RoleMember]
		other := h.people[domain.RoleCoordinator]
		res = helper.get("/browse/requests?category=transport")
		contains(t, res, "Transport and lifts", "A lift to the surgery for my dad", "Test, for their dad", "14:00–15:30", "/requests/"+itoa(requestID))
		lacks(t, res, other.Email, other.Phone, "Frank", "Mill Row")
		res = asker.get("/browse/offers?category=transport")
		contains(t, res, "Lifts in a small car", "Tuesdays 13:00–17:00", "/offers/"+itoa(offerID))
		lacks(t, res, mine.Email, mine.Phone)
		// The day filter finds the offer on a Tuesday, and not on a Wednesday.
		contains(t, asker.get("/browse/offers?from="+tue.Format("2006-01-02")+"&to="+tue.Format("2006-01-02")), "/offers/"+itoa(offerID))
		wed := tue.AddDate(0, 0, 1).Format("2006-01-02")
		lacks(t, asker.get("/browse/offers?from="+wed+"&to="+wed), "/offers/"+itoa(offerID))

		res = helper.get("/requests/" + itoa(requestID))
		expectStatus(t, res, http.StatusOK)
		contains(t, res, "for their dad", "Offer support")
		lacks(t, res, "Frank", "Mill Row", "Change the request", other.Phone, "Formal services")

		// My support lists each person's own posts.
		contains(t, helper.get("/support"), "Transport and lifts", "Tuesdays 13:00–17:00", "Neighbours can find it")
		contains(t, asker.get("/support"), "Transport and lifts", "Looking for a helper")
	})
}

func TestPostFormsNameEachProblemAndKeepTheAnswers(t *testing.T) {
	forEachDialect(t, func(t *testing.T, h *harness) {
		m := h.as(domain.RoleMember)
		m.get("/offers/new")
		f := offerForm("transport", [3]string{"tue", "17:00", "13:00"}, [3]string{"wed", "09:00", "11:00"}, [3]string{"wed", "10:30", "12:00"})
		f.Set("radius_km", "far")
		f.Set("max_per_week", "0")
		res := m.postForm("/offers", f)
		expectStatus(t, res, http.StatusUnprocessableEntity)
		contains(t, res, "There is a problem", "Slot 1: the end (13:00) must be after the start (17:00)",
			"Slot 3 (Wednesday 10:30–12:00) overlaps slot 2 (Wednesday 09:00–11:00)", "Give the distance in km as a number",
			"Give a number from 1 to 21", `value="far"`, `value="17:00"`, "Lifts in a small car")

		res = m.postForm("/offers", url.Values{"action": {"more_rows"}, "rows": {"3"}, "description": {"kept"}})
		expectStatus(t, res, http.StatusOK)
		if n := strings.Count(body(res), `name="slots[`) / 3; n != 6 {
			t.Errorf("after asking for more lines the form has %d slot lines, want 6", n)
		}
		contains(t, res, ">kept</textarea>")

		m.get("/requests/new")
		day := nextWeekday(time.Friday)
		r := requestForm("transport", day, "09:00", "22:00")
		r.Set("for_whom_name", "")
		r.Set("repeat", "weekly")
		r.Set("repeat_weeks", "27")
		res = m.postForm("/requests", r)
		expectStatus(t, res, http.StatusUnprocessableEntity)
		contains(t, res, "One occasion can last at most 12 hours", "Give the first name of the person you are asking for",
			"A weekly request can repeat for at most 26 weeks", `value="22:00"`, "A lift to the surgery for my dad", "Flat 3, 12 Mill Row")
		r = requestForm("transport", time.Now().In(london).AddDate(0, 0, -1), "09:00", "10:00")
		res = m.postForm("/requests", r)
		contains(t, res, "The start must be in the future")
		r.Set("date", "next tuesday")
		res = m.postForm("/requests", r)
		contains(t, res, "Give the date like 14/03/2026", `value="next tuesday"`)
	})
}

func TestWeeklySeriesThroughPages(t *testing.T) {
	h := newHarness(t, storetest.Open(t, store.SQLite))
	m := h.as(domain.RoleMember)
	m.get("/requests/new")
	r := requestForm("companionship", nextWeekday(time.Thursday), "14:00", "15:00")
	r.Set("repeat", "weekly")
	r.Set("repeat_weeks", "4")
	res := m.postForm("/requests", r)
	expectStatus(t, res, http.StatusSeeOther)
	id := locationID(t, res)
	res = m.get(res.Header.Get("Location"))
	contains(t, res, "posted for 4 weeks", "Every week", "Cancel every week still to come")
	if n := strings.Count(body(res), "Looking for a helper"); n != 5 { // the status, and each of the four weeks
		t.Errorf("series page shows %d open occasions", n-1)
	}
	res = m.postForm("/requests/"+itoa(id)+"/cancel", url.Values{"reason": {"Gran has moved to a care home"}, "whole_series": {"yes"}})
	expectStatus(t, res, http.StatusSeeOther)
	contains(t, m.get("/requests/"+itoa(id)), "4 occasions of the request are cancelled", ">Cancelled</span>: Gran has moved to a care home")
}

func TestSomeoneElsesPostCannotChange(t *testing.T) {
	forEachDialect(t, func(t *testing.T, h *harness) {
		ann := h.as(domain.RoleMember)
		ann.get("/offers/new")
		offerID := locationID(t, ann.postForm("/offers", offerForm("transport", [3]string{"mon", "09:00", "12:00"})))
		ann.get("/requests/new")
		requestID := locationID(t, ann.postForm("/requests", requestForm("transport", nextWeekday(time.Monday), "10:00", "11:00")))

		// Another member (here an admin is a coordinator, so use a second plain member).
		ctx := context.Background()
		bob, err := h.svc.Membership.AddMember(ctx, domain.SystemActor("test"), domain.NewMemberInput{Name: "Bob Other", Email: "bob@example.org",
			Phone: "01632 960 999", AreaID: h.area.ID, Password: password, ConsentRecorded: true})
		if err != nil {
			t.Fatal(err)
		}
		b := h.visitor()
		b.get("/signin")
		b.postForm("/signin", url.Values{"email": {bob.Email}, "password": {password}})
		b.get("/support")
		for _, attempt := range []struct {
			path string
			form url.Values
		}{
			{"/offers/" + itoa(offerID), offerForm("transport", [3]string{"sun", "09:00", "12:00"})},
			{"/offers/" + itoa(offerID) + "/withdraw", nil},
			{"/requests/" + itoa(requestID), requestForm("transport", nextWeekday(time.Sunday), "10:00", "11:00")},
			{"/requests/" + itoa(requestID) + "/cancel", url.Values{"reason": {"mine now"}}},
		} {
			expectStatus(t, b.postForm(attempt.path, attempt.form), http.StatusForbidden)
		}
		expectStatus(t, b.get("/offers/"+itoa(offerID)+"/edit"), http.StatusForbidden)
		expectStatus(t, b.api("PATCH", "/api/v1/offers/"+itoa(offerID), map[string]any{"description": "mine"}), http.StatusForbidden)
		expectStatus(t, b.api("POST", "/api/v1/requests/"+itoa(requestID)+"/cancel", map[string]any{"reason": "mine"}), http.StatusForbidden)
		contains(t, ann.get("/offers/"+itoa(offerID)), "Mondays 09:00–12:00", "Active")
		contains(t, ann.get("/requests/"+itoa(requestID)), "Looking for a helper", "10:00–11:00")

		// A matched request says what can still be done, on the page and through the API.
		if err := h.st.SetRequestStatus(ctx, requestID, domain.RequestMatched, time.Now()); err != nil {
			t.Fatal(err)
		}
		res := ann.get("/requests/" + itoa(requestID) + "/edit")
		expectStatus(t, res, http.StatusConflict)
		contains(t, res, "already matched with a helper", "You can still cancel it")
		res = ann.api("PATCH", "/api/v1/requests/"+itoa(requestID), map[string]any{"description": "changed"})
		expectStatus(t, res, http.StatusConflict)
		if p := decode[problemBody](t, res); !strings.Contains(p.Detail, "already matched") {
			t.Errorf("API conflict: %+v", p)
		}
	})
}

func TestCoordinatorPostsForAMember(t *testing.T) {
	forEachDialect(t, func(t *testing.T, h *harness) {
		doris, err := h.svc.Membership.AddMember(context.Background(), h.coordinatorActor(), domain.NewMemberInput{Name: "Doris Ward",
			Phone: "01632 960 555", AreaID: h.area.ID, ConsentRecorded: true})
		if err != nil {
			t.Fatal(err)
		}
		c := h.as(domain.RoleCoordinator)
		contains(t, c.get("/coordinate/members/"+itoa(doris.ID)), "Ask for support for Doris", "/requests/new?member="+itoa(doris.ID))
		res := c.get("/requests/new?member=" + itoa(doris.ID))
		contains(t, res, "You are asking for <strong>Doris Ward</strong>", `name="member_id" value="`+itoa(doris.ID)+`"`)
		f := requestForm("shopping-errands", nextWeekday(time.Saturday), "10:00", "11:00")
		f.Set("member_id", itoa(doris.ID))
		res = c.postForm("/requests", f)
		expectStatus(t, res, http.StatusSeeOther)
		id := locationID(t, res)
		got, err := h.st.Request(context.Background(), id)
		if err != nil || got.MemberID != doris.ID || got.CreatedBy != h.people[domain.RoleCoordinator].ID {
			t.Errorf("stored %+v %v: want Doris's request, created by the coordinator", got, err)
		}
		contains(t, c.get("/coordinate/members/"+itoa(doris.ID)), "Asks for Shopping and errands")
		// A member cannot post for someone else.
		m := h.as(domain.RoleMember)
		expectStatus(t, m.get("/requests/new?member="+itoa(doris.ID)), http.StatusForbidden)
		f.Set("_csrf", m.csrf)
		expectStatus(t, m.postForm("/requests", f), http.StatusForbidden)
	})
}

func (h *harness) coordinatorActor() domain.Actor {
	c := h.people[domain.RoleCoordinator]
	return domain.Actor{ID: c.ID, Name: c.Name, Role: c.Role}
}

func TestExchangeAPI(t *testing.T) {
	forEachDialect(t, func(t *testing.T, h *harness) {
		m := h.tokenClient(domain.RoleMember)
		res := m.api("POST", "/api/v1/offers", map[string]any{"category": "transport", "description": "Lifts",
			"slots": []map[string]string{{"day": "tue", "from": "13:00", "to": "12:00"}}, "radius_km": 60, "max_per_week": 2})
		expectStatus(t, res, http.StatusUnprocessableEntity)
		if p := decode[problemBody](t, res); p.fields() != "slots[0].to,radius_km" {
			t.Errorf("offer errors: %s", p.fields())
		}
		res = m.api("POST", "/api/v1/offers", map[string]any{"category": "transport", "description": "Lifts",
			"slots": []map[string]string{{"day": "tue", "from": "13:00", "to": "17:00"}}, "radius_km": 5, "max_per_week": 2})
		expectStatus(t, res, http.StatusCreated)
		offer := decode[struct {
			ID       int64
			MemberID *int64 `json:"member_id"`
		}](t, res)
		expectStatus(t, m.api("POST", "/api/v1/offers/"+itoa(offer.ID)+"/pause", nil), http.StatusOK)
		expectStatus(t, m.api("POST", "/api/v1/offers/"+itoa(offer.ID)+"/resume", nil), http.StatusOK)
		expectStatus(t, m.api("PATCH", "/api/v1/offers/"+itoa(offer.ID), map[string]any{"radius_km": 2.5}), http.StatusOK)

		start := nextWeekday(time.Wednesday)
		at := func(h int) string {
			return time.Date(start.Year(), start.Month(), start.Day(), h, 0, 0, 0, london).Format(time.RFC3339)
		}
		c := h.tokenClient(domain.RoleCoordinator)
		res = c.api("POST", "/api/v1/requests", map[string]any{"category": "companionship", "description": "Company for my mum",
			"start": at(14), "end": at(13), "repeat_weeks": 30, "for_whom": map[string]string{"name": "Edith"}})
		expectStatus(t, res, http.StatusUnprocessableEntity)
		if p := decode[problemBody](t, res); p.fields() != "for_whom.relationship,end,repeat_weeks" {
			t.Errorf("request errors: %s", p.fields())
		}
		res = c.api("POST", "/api/v1/requests", map[string]any{"category": "companionship", "description": "Company for my mum",
			"start": at(14), "end": at(16), "repeat_weeks": 3, "for_whom": map[string]string{"name": "Edith", "relationship": "my mum"},
			"private_notes": "Edith is hard of hearing", "consent_to_escalate": true})
		expectStatus(t, res, http.StatusCreated)
		posted := decode[struct {
			SeriesID *int64 `json:"series_id"`
			Items    []struct{ ID int64 }
		}](t, res)
		if posted.SeriesID == nil || len(posted.Items) != 3 {
			t.Fatalf("a series of 3: %+v", posted)
		}
		// The member sees the neighbour view of the coordinator's request; the API gives nothing private.
		res = m.api("GET", "/api/v1/requests/"+itoa(posted.Items[0].ID), nil)
		expectStatus(t, res, http.StatusOK)
		for _, secret := range []string{"Edith", "hard of hearing", "member_id", "private_notes", "consent", h.people[domain.RoleCoordinator].Phone} {
			if strings.Contains(body(res), secret) {
				t.Errorf("a neighbour's API view contains %q: %s", secret, body(res))
			}
		}
		res = m.api("GET", "/api/v1/requests?category=companionship&limit=2", nil)
		page := decode[listWire[struct{ ID int64 }]](t, res)
		if len(page.Items) != 2 || page.Next == nil {
			t.Fatalf("first page: %+v", page)
		}
		page2 := decode[listWire[struct{ ID int64 }]](t, m.api("GET", "/api/v1/requests?category=companionship&limit=2&cursor="+url.QueryEscape(*page.Next), nil))
		if len(page2.Items) != 1 || page2.Next != nil || page2.Items[0].ID != posted.Items[2].ID {
			t.Errorf("second page: %+v", page2)
		}
		// Withdraw the consent; the owner's view keeps what was agreed and when it was withdrawn.
		res = c.api("PATCH", "/api/v1/requests/"+itoa(posted.Items[0].ID), map[string]any{"consent_to_escalate": false, "for_whom": nil})
		expectStatus(t, res, http.StatusOK)
		got := decode[struct {
			ConsentToEscalate *bool `json:"consent_to_escalate"`
			ForWhom           any   `json:"for_whom"`
			EscalationConsent struct {
				WithdrawnAt *time.Time `json:"withdrawn_at"`
			} `json:"escalation_consent"`
		}](t, res)
		if got.ConsentToEscalate == nil || *got.ConsentToEscalate || got.EscalationConsent.WithdrawnAt == nil || got.ForWhom != nil {
			t.Errorf("after withdrawing: %+v", got)
		}
		res = c.api("POST", "/api/v1/requests/"+itoa(posted.Items[1].ID)+"/cancel", map[string]any{"reason": "not needed", "whole_series": true})
		if n := decode[struct{ Cancelled int }](t, res); n.Cancelled != 3 {
			t.Errorf("cancelled %d", n.Cancelled)
		}
		mineList := decode[listWire[struct{ Status string }]](t, c.api("GET", "/api/v1/requests?member_id="+itoa(h.people[domain.RoleCoordinator].ID), nil))
		if len(mineList.Items) != 3 || mineList.Items[0].Status != "cancelled" {
			t.Errorf("own requests: %+v", mineList)
		}
		expectStatus(t, m.api("GET", "/api/v1/requests?member_id="+itoa(h.people[domain.RoleCoordinator].ID), nil), http.StatusForbidden)
		expectStatus(t, h.tokenClient(domain.RoleServices).api("GET", "/api/v1/requests", nil), http.StatusForbidden)
	})
}

// TestNoPageOrEndpointLeaksContactDetails posts an offer and a request full of private details,
// then fetches every page and endpoint a member may open, with every id filled in with those
// posts, as another member: none may carry the poster's contact details, surname, private notes
// or the supported person's name.
func TestNoPageOrEndpointLeaksContactDetails(t *testing.T) {
	forEachDialect(t, func(t *testing.T, h *harness) {
		ctx := context.Background()
		poster, err := h.svc.Membership.AddMember(ctx, domain.SystemActor("test"), domain.NewMemberInput{Name: "Philippa Quarrington",
			Email: "philippa.q@example.org", Phone: "07700 900 412", AreaID: h.area.ID, Password: password, ConsentRecorded: true})
		if err != nil {
			t.Fatal(err)
		}
		by := domain.Actor{ID: poster.ID, Name: poster.Name, Role: poster.Role}
		km, n := 5.0, 2
		o, err := h.svc.Exchange.PostOffer(ctx, by, domain.OfferInput{Category: "transport", Description: "Lifts to the station",
			Slots: []domain.SlotInput{{Day: "mon", From: "09:00", To: "12:00"}}, RadiusKm: &km, MaxPerWeek: &n})
		if err != nil {
			t.Fatal(err)
		}
		day := nextWeekday(time.Monday)
		reqs, err := h.svc.Exchange.AskForSupport(ctx, by, domain.RequestInput{Category: "sitting", Description: "Sitting with my father",
			PrivateNotes: "Key safe code 4471", ForSomeoneElse: true, ForWhomName: "Ignatius", ForWhomRelationship: "my father",
			Start: time.Date(day.Year(), day.Month(), day.Day(), 10, 0, 0, 0, london), End: time.Date(day.Year(), day.Month(), day.Day(), 12, 0, 0, 0, london),
			ConsentToEscalate: true, ConsentContact: true})
		if err != nil {
			t.Fatal(err)
		}
		// Hidden posts too: a paused offer and a cancelled request, which neighbours must not find.
		paused, err := h.svc.Exchange.PostOffer(ctx, by, domain.OfferInput{Category: "companionship", Description: "Chats",
			Slots: []domain.SlotInput{{Day: "fri", From: "09:00", To: "12:00"}}, RadiusKm: &km, MaxPerWeek: &n})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := h.svc.Exchange.SetOfferStatus(ctx, by, paused.ID, domain.OfferPaused); err != nil {
			t.Fatal(err)
		}
		cancelled, err := h.svc.Exchange.AskForSupport(ctx, by, domain.RequestInput{Category: "transport", Description: "A lift for Ignatius Quarrington",
			PrivateNotes: "Key safe code 9", Start: time.Date(day.Year(), day.Month(), day.Day(), 15, 0, 0, 0, london),
			End: time.Date(day.Year(), day.Month(), day.Day(), 16, 0, 0, 0, london)})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := h.svc.Exchange.CancelRequest(ctx, by, cancelled[0].ID, "Ignatius is better", false); err != nil {
			t.Fatal(err)
		}
		secrets := []string{poster.Email, poster.Phone, "Quarrington", "Key safe code", "Ignatius", "philippa.q"}
		ids := map[string][]string{"offers": {itoa(o.ID), itoa(paused.ID)}, "requests": {itoa(reqs[0].ID), itoa(cancelled[0].ID)}}
		viewer := h.as(domain.RoleMember)
		checked := 0
		for _, r := range h.srv.Routes() {
			if r.Method != fiber.MethodGet || !r.Access.Allows(domain.RoleMember) {
				continue
			}
			path := strings.ReplaceAll(r.Path, "*", "css/coop.css")
			for kind, list := range ids {
				for _, id := range list {
					p := path
					if strings.Contains(p, ":id") {
						if !strings.Contains(p, kind) {
							continue
						}
						p = strings.ReplaceAll(p, ":id", id)
					}
					for _, q := range []string{"", "?category=sitting", "?member_id=" + itoa(poster.ID)} {
						res := viewer.get(p + q)
						checked++
						for _, s := range secrets {
							if strings.Contains(body(res), s) {
								t.Errorf("GET %s%s shows another member's %q", p, q, s)
							}
						}
					}
				}
			}
		}
		for _, hidden := range []string{"/offers/" + itoa(paused.ID), "/requests/" + itoa(cancelled[0].ID), "/api/v1/offers/" + itoa(paused.ID),
			"/api/v1/requests/" + itoa(cancelled[0].ID)} {
			expectStatus(t, viewer.get(hidden), http.StatusNotFound)
		}
		// Trying to change a hidden post gets "not found" too, so ids cannot be probed.
		expectStatus(t, viewer.postForm("/offers/"+itoa(paused.ID)+"/withdraw", nil), http.StatusNotFound)
		expectStatus(t, viewer.api("POST", "/api/v1/requests/"+itoa(cancelled[0].ID)+"/cancel", map[string]any{"reason": "x"}), http.StatusNotFound)
		if checked < 40 {
			t.Errorf("only %d pages and endpoints checked", checked)
		}
		// And the poster and coordinators do see them, so the check above is not vacuous.
		contains(t, h.as(domain.RoleCoordinator).get("/requests/"+ids["requests"][0]), "Key safe code", "Ignatius", poster.Phone)
	})
}
