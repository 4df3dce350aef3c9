package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/coop-exchange/coop/domain"
	"github.com/coop-exchange/coop/domain/store/storetest"
	"github.com/coop-exchange/coop/internal/testenv"
	"github.com/coop-exchange/coop/jobs"
)

// TestBrowserMatchToStatement: the matcher proposes Daniel for Helen's request; the coordinator
// approves; both accept, and only then each sees the other's phone number; after the lift
// Daniel says it is done, Helen confirms, and both statements show the two hours.
func TestBrowserMatchToStatement(t *testing.T) {
	for _, d := range storetest.Dialects {
		t.Run(string(d), func(t *testing.T) {
			base, st, exec := startCoopWithExec(t, d)
			b := newBrowser(t)
			ctx := context.Background()
			svc, _ := services(st, domain.PasswordHasher{Params: domain.PasswordParams{Memory: 1024, Time: 1, Threads: 1}}, london, 0, nil)
			lat, lon := 53.3811, -1.4701
			area, err := svc.Catalogue.CreateArea(ctx, domain.SystemActor("test"), domain.AreaInput{Name: "Bridge End", Code: "BE1", Lat: &lat, Lon: &lon})
			if err != nil {
				t.Fatal(err)
			}
			people := map[string]domain.Member{}
			for _, p := range [][4]string{{"Amara Okafor", "amara@example.org", "01632 960 001", "coordinator"},
				{"Daniel Osei", "daniel@example.org", "07700 900 102", "member"}, {"Helen Carter", "helen@example.org", "01632 960 107", "member"}} {
				m, err := svc.Membership.AddMember(ctx, domain.SystemActor("test"), domain.NewMemberInput{Name: p[0], Email: p[1], Phone: p[2],
					AreaID: area.ID, Role: domain.Role(p[3]), Password: "a long enough password", ConsentRecorded: true})
				if err != nil {
					t.Fatal(err)
				}
				people[m.FirstName()] = m
			}
			daniel, helen := people["Daniel"], people["Helen"]
			actor := func(m domain.Member) domain.Actor { return domain.Actor{ID: m.ID, Name: m.Name, Role: m.Role} }
			km, n := 5.0, 3
			var slots []domain.SlotInput
			for _, day := range []string{"mon", "tue", "wed", "thu", "fri", "sat", "sun"} {
				slots = append(slots, domain.SlotInput{Day: day, From: "08:00", To: "20:00"})
			}
			if _, err := svc.Exchange.PostOffer(ctx, actor(daniel), domain.OfferInput{Category: "transport", Description: "Lifts in a small car",
				Slots: slots, RadiusKm: &km, MaxPerWeek: &n}); err != nil {
				t.Fatal(err)
			}
			day := time.Now().In(london).AddDate(0, 0, 2)
			start := time.Date(day.Year(), day.Month(), day.Day(), 10, 0, 0, 0, london)
			reqs, err := svc.Exchange.AskForSupport(ctx, actor(helen), domain.RequestInput{Category: "transport", Description: "A lift to the hospital and back",
				PrivateNotes: "4 Mill Row; ring twice", Start: start, End: start.Add(2 * time.Hour), Urgency: "soon"})
			if err != nil {
				t.Fatal(err)
			}
			matcher := jobs.NewMatcher(st, st, london, nil, testenv.Logger(), nil).WithLifecycle(svc.Agreements)
			if rep, err := matcher.Pass(ctx, jobs.PassOptions{}); err != nil || rep.Proposed != 1 {
				t.Fatalf("pass: %+v (%v)", rep.MatchPass, err)
			}

			// The coordinator approves the proposal from the queue.
			b.signIn(base, "amara@example.org", "a long enough password")
			b.step("open the queue", chromedp.Navigate(base+"/coordinate/matching"), chromedp.WaitVisible(chromedp.CSS(`#proposals`)))
			b.expectText("main", "Transport and lifts for Helen Carter", "Daniel Osei", "in the same neighbourhood", "First match for this helper.")
			b.step("open the proposal", chromedp.Click(chromedp.Search(`//a[contains(., "Approve, reject or look closer")]`)),
				chromedp.WaitVisible(chromedp.Search(`//button[contains(., "Approve")]`)))
			b.step("approve", chromedp.Click(chromedp.Search(`//button[. = "Approve"]`)), chromedp.WaitVisible(chromedp.CSS(`.notice`)))
			b.expectText(".notice", "Approved. Both people are asked to accept.")
			b.signOut()

			// Helen is told, and accepts; she cannot see Daniel's number yet.
			b.signIn(base, helen.Email, "a long enough password")
			b.expectText("#unread-count", "1")
			b.step("open the notification", chromedp.Click(chromedp.CSS(`a[href="/notifications"]`)), chromedp.WaitVisible(chromedp.CSS(`.notifications`)),
				chromedp.Click(chromedp.CSS(`.notifications a`)), chromedp.WaitVisible(chromedp.Search(`//button[. = "Accept"]`)))
			b.expectText("main", "A lift to the hospital and back", "Daniel", "You will see each other's phone number")
			b.lacksText("main", daniel.Phone, "Osei")
			b.step("accept", chromedp.Click(chromedp.Search(`//button[. = "Accept"]`)), chromedp.WaitVisible(chromedp.CSS(`.notice`)))
			b.lacksText("main", daniel.Phone)
			matchURL := b.read("read the match address", chromedp.Location())
			b.signOut()

			// Daniel accepts; now both see each other's number and he sees the private notes.
			b.signIn(base, daniel.Email, "a long enough password")
			b.step("open the match", chromedp.Navigate(matchURL), chromedp.WaitVisible(chromedp.Search(`//button[. = "Accept"]`)))
			b.lacksText("main", helen.Phone, "Mill Row", "Carter")
			b.step("accept", chromedp.Click(chromedp.Search(`//button[. = "Accept"]`)), chromedp.WaitVisible(chromedp.CSS(`.notice`)))
			b.expectText(".notice", "you have both accepted")
			b.expectText("main", "Agreed", helen.Phone, "Helen Carter", "4 Mill Row; ring twice")
			b.signOut()
			b.signIn(base, helen.Email, "a long enough password")
			b.step("open the match", chromedp.Navigate(matchURL), chromedp.WaitVisible(chromedp.CSS(`dl.summary-list`)))
			b.expectText("main", "Agreed", daniel.Phone, "Daniel Osei")
			b.signOut()

			// The lift happens (its window is moved into the past, as time would).
			exec("UPDATE requests SET start_at = ?, end_at = ? WHERE id = ?", time.Now().Add(-3*time.Hour).UTC(), time.Now().Add(-time.Hour).UTC(), reqs[0].ID)
			b.signIn(base, daniel.Email, "a long enough password")
			b.step("open the match", chromedp.Navigate(matchURL), chromedp.WaitVisible(chromedp.CSS(`#f-minutes`)))
			minutes := b.read("read the suggested time", chromedp.Value(chromedp.CSS(`#f-minutes`)))
			if minutes != "120" {
				t.Errorf("the time suggested is %q minutes, want the 120 asked for", minutes)
			}
			b.step("mark as done", chromedp.Click(chromedp.Search(`//button[. = "Mark as done"]`)), chromedp.WaitVisible(chromedp.CSS(`.notice`)))
			b.expectText(".notice", "The requester is asked to confirm")
			b.signOut()
			b.signIn(base, helen.Email, "a long enough password")
			b.step("open the match", chromedp.Navigate(matchURL), chromedp.WaitVisible(chromedp.Search(`//button[. = "Confirm"]`)))
			b.expectText("main", "Your helper says it took 2 hours")
			b.step("confirm", chromedp.Click(chromedp.Search(`//button[. = "Confirm"]`)), chromedp.WaitVisible(chromedp.CSS(`.notice`)))
			b.expectText("main", "Done")
			b.step("open the statement", chromedp.Navigate(base+"/statement"), chromedp.WaitVisible(chromedp.CSS(`dl.summary-list`)))
			b.expectText("dl.summary-list", "Support received", "2 hours")
			b.expectText("main", "Transport and lifts")
			b.signOut()
			b.signIn(base, daniel.Email, "a long enough password")
			b.step("open the statement", chromedp.Navigate(base+"/statement"), chromedp.WaitVisible(chromedp.CSS(`dl.summary-list`)))
			if got := b.text("dl.summary-list"); !strings.Contains(got, "2 hours") || !strings.Contains(got, "none") {
				t.Errorf("Daniel's statement says %q, want 2 hours given and none received", got)
			}
		})
	}
}
