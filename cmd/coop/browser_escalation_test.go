package main

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/coop-exchange/coop/domain"
	"github.com/coop-exchange/coop/domain/store/storetest"
	"github.com/coop-exchange/coop/internal/testenv"
	"github.com/coop-exchange/coop/jobs"
)

// TestBrowserEscalationToAcceptance: Helen's urgent lift, which she agreed may be passed on,
// meets no helper; the pass escalates it to Riverside Community Transport; Sam, who answers for
// Riverside, finds it first in the inbox, acknowledges and accepts it; Helen's request then says
// it was accepted.
func TestBrowserEscalationToAcceptance(t *testing.T) {
	for _, d := range storetest.Dialects {
		t.Run(string(d), func(t *testing.T) {
			base, st, _ := startCoopWithExec(t, d)
			b := newBrowser(t)
			ctx := context.Background()
			svc, _ := services(st, domain.PasswordHasher{Params: domain.PasswordParams{Memory: 1024, Time: 1, Threads: 1}}, london, 0, nil)
			system := domain.SystemActor("test")
			lat, lon := 53.3811, -1.4701
			area, err := svc.Catalogue.CreateArea(ctx, system, domain.AreaInput{Name: "Bridge End", Code: "BE1", Lat: &lat, Lon: &lon})
			if err != nil {
				t.Fatal(err)
			}
			const password = "a long enough password"
			people := map[string]domain.Member{}
			for _, p := range [][4]string{{"Helen Carter", "helen@example.org", "01632 960 107", "member"},
				{"Sam Reid", "sam.reid@riverside.example", "01632 960 555", "services"}} {
				in := domain.NewMemberInput{Name: p[0], Email: p[1], Phone: p[2], Role: domain.Role(p[3]), Password: password, ConsentRecorded: true}
				if in.Role == domain.RoleMember {
					in.AreaID = area.ID
				}
				m, err := svc.Membership.AddMember(ctx, system, in)
				if err != nil {
					t.Fatal(err)
				}
				people[m.FirstName()] = m
			}
			helen, sam := people["Helen"], people["Sam"]
			transport, err := st.CategoryBySlug(ctx, "transport")
			if err != nil {
				t.Fatal(err)
			}
			riverside, _, err := svc.Directory.Create(ctx, system, domain.ServiceInput{Name: "Riverside Community Transport",
				Organisation: "Riverside Council", TaxonomyTerms: transport.TaxonomyTerms, AreaIDs: []int64{area.ID}, Priority: 10,
				WebhookURL: "https://referrals.riverside.example/coop", Active: true})
			if err != nil {
				t.Fatal(err)
			}
			if _, _, err := svc.ServicePeople.AddUser(ctx, system, riverside.ID, domain.ServiceUserInput{Email: sam.Email}); err != nil {
				t.Fatal(err)
			}
			// Urgent, in five hours, with nobody offering lifts: due at once.
			start := time.Now().Add(5 * time.Hour).Truncate(time.Minute)
			reqs, err := svc.Exchange.AskForSupport(ctx, domain.Actor{ID: helen.ID, Name: helen.Name, Role: helen.Role}, domain.RequestInput{
				Category: "transport", Description: "A lift home from the eye clinic after my operation", Start: start, End: start.Add(time.Hour),
				Urgency: "urgent", ConsentToEscalate: true, ConsentContact: true})
			if err != nil {
				t.Fatal(err)
			}
			escalations := domain.NewEscalations(st, st, svc.Directory, st, st, svc.Audit, nil, london, base, false)
			matcher := jobs.NewMatcher(st, st, london, nil, testenv.Logger(), nil).WithLifecycle(svc.Agreements).WithEscalation(escalations)
			rep, err := matcher.Pass(ctx, jobs.PassOptions{})
			if err != nil || rep.Proposed != 0 || rep.Escalation.Sent != 1 {
				t.Fatalf("pass: %+v, escalation %+v (%v)", rep.MatchPass, rep.Escalation, err)
			}

			// Sam signs in to the inbox and finds it among the new ones, with the time to answer by.
			b.signIn(base, sam.Email, password)
			b.step("open the inbox", chromedp.Navigate(base+"/inbox"), chromedp.WaitVisible(chromedp.CSS(`.cards`)))
			b.expectText("main", "New", "Transport and lifts in Bridge End", "Urgent", "please acknowledge by")
			b.step("open the escalation", chromedp.Click(chromedp.Search(`//a[contains(., "Transport and lifts in Bridge End")]`)),
				chromedp.WaitVisible(chromedp.Search(`//button[. = "Acknowledge"]`)))
			b.expectText("main", "A lift home from the eye clinic after my operation", "Helen", helen.Phone, "What the co-op tried")
			b.lacksText("main", "Carter", helen.Email)
			b.step("acknowledge", chromedp.Click(chromedp.Search(`//button[. = "Acknowledge"]`)),
				chromedp.WaitVisible(chromedp.Search(`//div[@class="notice"][contains(., "Acknowledged:")]`)))
			b.lacksText("main", "Please acknowledge it by")
			b.expectText(`label[for="f-status"]`, "Accept: we will take this on")
			b.step("accept", chromedp.Click(chromedp.CSS(`#f-status`)), chromedp.Click(chromedp.Search(`//button[. = "Save"]`)),
				chromedp.WaitVisible(chromedp.Search(`//span[@id="escalation-status"][contains(., "Accepted by the service")]`)))
			b.expectText(".history", "Accepted by the service, by Sam Reid")
			b.signOut()

			// Helen reads that it was accepted, on her request and in her notifications.
			b.signIn(base, helen.Email, password)
			b.step("open the request", chromedp.Navigate(base+"/requests/"+strconv.FormatInt(reqs[0].ID, 10)),
				chromedp.WaitVisible(chromedp.CSS(`.escalation-story`)))
			b.expectText(".escalation-story", "Passed to Riverside Community Transport on", "accepted by the service on")
			b.step("open the notifications", chromedp.Navigate(base+"/notifications"), chromedp.WaitVisible(chromedp.CSS(`.notifications`)))
			b.expectText(".notifications", "Riverside Community Transport has accepted your request")
		})
	}
}
