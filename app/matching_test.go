package app_test

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/coop-exchange/coop/domain"
	"github.com/coop-exchange/coop/internal/testenv"
	"github.com/coop-exchange/coop/jobs"
)

// TestCoordinatorsSeeWhatTheMatcherDid runs a real pass on a small co-op and reads the
// coordinators' pages: the latest pass and its proposals with their reasons, and why the
// others are not matched, filtered.
func TestCoordinatorsSeeWhatTheMatcherDid(t *testing.T) {
	forEachDialect(t, func(t *testing.T, h *harness) {
		ctx := context.Background()
		member, coordinator := h.people[domain.RoleMember], h.people[domain.RoleCoordinator]
		asMember := domain.Actor{ID: member.ID, Name: member.Name, Role: member.Role}
		asCoordinator := domain.Actor{ID: coordinator.ID, Name: coordinator.Name, Role: coordinator.Role}
		// The coordinator offers lifts on Tuesdays; the member asks for two lifts on one Tuesday
		// and for company on a Wednesday, which nobody offers.
		km, n := 5.0, 3
		if _, err := h.svc.Exchange.PostOffer(ctx, asCoordinator, domain.OfferInput{Category: "transport", Description: "Lifts in a small car",
			Slots: []domain.SlotInput{{Day: "tue", From: "09:00", To: "17:00"}}, RadiusKm: &km, MaxPerWeek: &n}); err != nil {
			t.Fatal(err)
		}
		tuesday := time.Now().In(london).AddDate(0, 0, 2)
		for tuesday.Weekday() != time.Tuesday {
			tuesday = tuesday.AddDate(0, 0, 1)
		}
		at := func(d time.Time, hour int) time.Time {
			return time.Date(d.Year(), d.Month(), d.Day(), hour, 0, 0, 0, london)
		}
		for _, r := range []struct {
			category string
			start    time.Time
			urgency  string
		}{{"transport", at(tuesday, 10), "urgent"}, {"transport", at(tuesday, 14), "routine"}, {"companionship", at(tuesday.AddDate(0, 0, 1), 14), "routine"}} {
			if _, err := h.svc.Exchange.AskForSupport(ctx, asMember, domain.RequestInput{Category: r.category, Description: "Going to the surgery",
				Start: r.start, End: r.start.Add(time.Hour), Urgency: r.urgency, ForSomeoneElse: true, ForWhomName: "Frank", ForWhomRelationship: "my dad"}); err != nil {
				t.Fatal(err)
			}
		}
		c := h.as(domain.RoleCoordinator)
		if page := body(c.get("/coordinate/matching")); !strings.Contains(page, "The matcher has not run yet") {
			t.Errorf("before any pass the page says:\n%s", page)
		}
		matcher := jobs.NewMatcher(h.st, h.st, london, nil, testenv.Logger(), nil)
		if rep, err := matcher.Pass(ctx, jobs.PassOptions{}); err != nil || rep.Proposed != 1 || rep.Unmatched != 2 {
			t.Fatalf("pass: %+v (%v)", rep.MatchPass, err)
		}

		page := body(c.get("/coordinate/matching"))
		for _, want := range []string{"The latest pass", "It looked at 3 open requests and 1 helper", "Transport and lifts for Test member",
			"Helper: <a href=\"/coordinate/members/" + strconv.FormatInt(coordinator.ID, 10) + "\">Test coordinator</a>", "in the same neighbourhood", "free Tuesdays 09:00–17:00",
			"Nobody offers this kind of support", "Helpers were proposed for more urgent requests", "Urgent"} {
			if !strings.Contains(page, want) {
				t.Errorf("the matching page lacks %q:\n%s", want, page)
			}
		}
		if home := body(c.get("/coordinate")); !strings.Contains(home, "The matcher proposed 1 match (1 for urgent requests) for you to review.") {
			t.Errorf("the coordinators' page has no notice:\n%s", home)
		}

		why := body(c.get("/coordinate/unmatched"))
		for _, want := range []string{"2 requests not matched", "a helper was available but was proposed for a more urgent request",
			"nobody offers companionship at the moment"} {
			if !strings.Contains(why, want) {
				t.Errorf("the unmatched page lacks %q:\n%s", want, why)
			}
		}
		only := body(c.get("/coordinate/unmatched?category=companionship&area_id=" + strconv.FormatInt(h.area.ID, 10)))
		if !strings.Contains(only, "1 request not matched") || strings.Contains(only, "proposed for a more urgent request") {
			t.Errorf("filtered by category, the page shows:\n%s", only)
		}
		if byCode := body(c.get("/coordinate/unmatched?code=taken_by_more_urgent")); strings.Contains(byCode, "nobody offers companionship") ||
			!strings.Contains(byCode, "proposed for a more urgent request") {
			t.Errorf("filtered by reason, the page shows:\n%s", byCode)
		}
		res := c.get("/coordinate/unmatched?category=juggling&code=bored")
		bad := body(res)
		if res.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(bad, "There is no kind of support called &#34;juggling&#34;") ||
			!strings.Contains(bad, "Choose a reason from the list") {
			t.Errorf("bad filters: %d\n%s", res.StatusCode, bad)
		}
		// The figures of the latest pass are on /metrics, whichever process ran it.
		metrics := body(h.visitor().get("/metrics"))
		for _, want := range []string{"coop_match_last_pass_proposed 1", `coop_match_last_pass_unmatched{reason="no_offers"} 1`,
			`coop_match_last_pass_unmatched{reason="taken_by_more_urgent"} 1`} {
			if !strings.Contains(metrics, want) {
				t.Errorf("/metrics lacks %q", want)
			}
		}
	})
}
