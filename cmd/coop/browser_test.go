package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/coop-exchange/coop/domain"
	"github.com/coop-exchange/coop/domain/store"
	"github.com/coop-exchange/coop/domain/store/storetest"
	"github.com/coop-exchange/coop/internal/testenv"
)

// browser drives headless Chromium; each step that fails leaves a screenshot behind.
type browser struct {
	t   *testing.T
	ctx context.Context
}

func findChromium() (string, error) {
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return p, nil
		}
	}
	return "", errors.New("no chromium, chromium-browser or google-chrome on PATH (apt-get install -y chromium)")
}

func newBrowser(t *testing.T) *browser {
	t.Helper()
	path, err := findChromium()
	if err != nil {
		testenv.Unavailable(t, "browser", err.Error())
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(path), chromedp.NoSandbox,
		chromedp.DisableGPU, chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-component-update", true), chromedp.UserDataDir(t.TempDir()), chromedp.WindowSize(412, 915))
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelCtx := chromedp.NewContext(alloc)
	ctx, cancelTimeout := context.WithTimeout(ctx, 90*time.Second)
	t.Cleanup(func() { cancelTimeout(); cancelCtx(); cancelAlloc() })
	if err := chromedp.Do(ctx); err != nil {
		testenv.Unavailable(t, "browser", "chromium at "+path+" did not start: "+err.Error())
	}
	return &browser{t: t, ctx: ctx}
}

// step runs actions; on failure it saves a screenshot, says where, and stops the test.
func (b *browser) step(what string, actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, stepTimeout)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		b.t.Fatalf("%s: %v\n%s", what, err, b.screenshot(what))
	}
}

func (b *browser) screenshot(what string) string {
	dir := os.Getenv("COOP_TEST_ARTIFACTS")
	if dir == "" {
		dir = filepath.Join("..", "..", "test-artifacts")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "no screenshot: " + err.Error()
	}
	ctx, cancel := context.WithTimeout(b.ctx, 10*time.Second)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		return "no screenshot: " + err.Error()
	}
	name := strings.NewReplacer(" ", "-", "/", "-", "'", "").Replace(b.t.Name() + "-" + what)
	path, _ := filepath.Abs(filepath.Join(dir, name+".png"))
	if err := os.WriteFile(path, png, 0o644); err != nil {
		return "no screenshot: " + err.Error()
	}
	return "screenshot saved to " + path
}

// text reads the visible text of the first element matching sel.
func (b *browser) text(sel string) string {
	b.t.Helper()
	return b.read("read "+sel, chromedp.Text(chromedp.CSS(sel)))
}

// stepTimeout bounds one step, so that a page that never shows what a step waits for fails
// the test in seconds rather than at the test's deadline.
const stepTimeout = 15 * time.Second

// read runs one action that returns a string.
func (b *browser) read(what string, a chromedp.Action[string]) string {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, stepTimeout)
	defer cancel()
	s, err := chromedp.Run(ctx, a)
	if err != nil {
		b.t.Fatalf("%s: %v\n%s", what, err, b.screenshot(what))
	}
	return s
}

func (b *browser) expectText(sel string, want ...string) {
	b.t.Helper()
	got := b.text(sel)
	for _, w := range want {
		if !strings.Contains(got, w) {
			b.t.Fatalf("%s says %q, not %q\n%s", sel, got, w, b.screenshot("expect "+w))
		}
	}
}

// startCoop serves the whole platform in-process, as serve does, on a fresh database.
func startCoop(t *testing.T, d store.Dialect) (string, *store.Store) {
	t.Helper()
	base, st, _ := startCoopWithExec(t, d)
	return base, st
}

// startCoopWithExec is startCoop that also gives a way to run SQL on the database, for what
// only time would do (moving a request's window into the past).
func startCoopWithExec(t *testing.T, d store.Dialect) (string, *store.Store, storetest.Exec) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	loc := storetest.NewDatabase(t, d)
	exec := storetest.ExecAt(t, loc)
	st, err := store.Open(ctx, loc, testenv.Logger())
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	base := "http://" + ln.Addr().String()
	cfg, err := loadConfig(newFlags("test", "", "", streams{}), map[string]*string{}, func(k string) (string, bool) {
		return map[string]string{"COOP_BASE_URL": base}[k], k == "COOP_BASE_URL"
	})
	if err != nil {
		t.Fatal(err)
	}
	cfg.Database = loc
	p, err := newPlatform(ctx, cfg, st, testenv.Logger(), domain.PasswordHasher{})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- p.serve(ctx, ln, true) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
		st.Close()
	})
	return base, st, exec
}

// TestBrowserJourney: a visitor applies to join, the coordinator approves the application, and
// the new member signs in and sees their account page; in headless Chromium at a phone's width.
func TestBrowserJourney(t *testing.T) {
	for _, d := range storetest.Dialects {
		t.Run(string(d), func(t *testing.T) {
			// The browser starts second so that it closes first: its open connections would
			// otherwise hold the server's graceful shutdown until they time out.
			base, st := startCoop(t, d)
			b := newBrowser(t)
			ctx := context.Background()
			svc, _ := services(st, domain.PasswordHasher{}, london, 0, nil)
			lat, lon := 53.3811, -1.4701
			if _, err := svc.Catalogue.CreateArea(ctx, domain.SystemActor("test"), domain.AreaInput{Name: "Bridge End", Code: "BE1", Lat: &lat, Lon: &lon}); err != nil {
				t.Fatal(err)
			}
			if _, err := svc.Membership.AddMember(ctx, domain.SystemActor("test"), domain.NewMemberInput{Name: "Amara Okafor",
				Email: "amara@example.org", Phone: "01632 960 001", Role: domain.RoleCoordinator, Password: "coordinating is fun", ConsentRecorded: true}); err != nil {
				t.Fatal(err)
			}

			// A visitor applies, forgetting the consent box at first.
			b.step("open the join page", chromedp.Navigate(base+"/"), chromedp.Click(chromedp.CSS(`a[href="/join"]`)),
				chromedp.WaitVisible(chromedp.CSS(`#f-name`)))
			b.step("fill in the application",
				chromedp.SendKeys(chromedp.CSS(`#f-name`), "Joan Whitaker"),
				chromedp.SendKeys(chromedp.CSS(`#f-email`), "joan.whitaker@example.org"),
				chromedp.SendKeys(chromedp.CSS(`#f-phone`), "01632 960 201"),
				chromedp.SetValue(chromedp.CSS(`#f-area_id`), "1"),
				chromedp.SendKeys(chromedp.CSS(`#f-password`), "joan's garden gate"),
				chromedp.SendKeys(chromedp.CSS(`#f-reason`), "I care for my husband and can do befriending calls."),
				chromedp.Click(chromedp.CSS(`button[type="submit"]`)),
				chromedp.WaitVisible(chromedp.CSS(`.error-summary`)))
			b.expectText(".error-summary", "Tick the box to agree")
			name := b.read("read the kept name", chromedp.Value(chromedp.CSS(`#f-name`)))
			reason := b.read("read the kept reason", chromedp.Value(chromedp.CSS(`#f-reason`)))
			pw := b.read("read the password field", chromedp.Value(chromedp.CSS(`#f-password`)))
			if name != "Joan Whitaker" || !strings.Contains(reason, "befriending calls") || pw != "" {
				t.Fatalf("after a failed submit: name %q, reason %q, password kept %v\n%s", name, reason, pw != "", b.screenshot("kept answers"))
			}
			b.step("agree and send",
				chromedp.SendKeys(chromedp.CSS(`#f-password`), "joan's garden gate"),
				chromedp.Click(chromedp.CSS(`#f-consent`)),
				chromedp.Click(chromedp.CSS(`button[type="submit"]`)),
				chromedp.WaitVisible(chromedp.CSS(`.notice`)))
			b.expectText("main", "Thank you for applying, Joan.", "as soon as your application is approved")

			// The coordinator signs in, finds the application and approves it.
			b.step("coordinator signs in", chromedp.Click(chromedp.CSS(`a[href="/signin"]`)), chromedp.WaitVisible(chromedp.CSS(`#f-email`)),
				chromedp.SendKeys(chromedp.CSS(`#f-email`), "amara@example.org"),
				chromedp.SendKeys(chromedp.CSS(`#f-password`), "coordinating is fun"),
				chromedp.Submit(chromedp.CSS(`#f-password`)), chromedp.WaitVisible(chromedp.CSS(`.cards`)))
			b.expectText("main", "One person is waiting for a decision.")
			b.step("open the application", chromedp.Click(chromedp.CSS(`.cards a[href="/coordinate/applications"]`)),
				chromedp.WaitVisible(chromedp.CSS(`table`)), chromedp.Click(chromedp.CSS(`td a`)),
				chromedp.WaitVisible(chromedp.CSS(`dl.summary-list`)))
			b.expectText("main", "Joan Whitaker", "01632 960 201", "befriending calls", "I agree that the co-op may keep")
			b.step("approve", chromedp.Click(chromedp.Search(`//button[contains(., "Approve Joan")]`)), chromedp.WaitVisible(chromedp.CSS(`.notice`)))
			b.expectText(".notice", "Joan Whitaker is now a member")
			b.step("coordinator signs out", chromedp.Click(chromedp.Search(`//button[contains(., "Sign out")]`)),
				chromedp.WaitVisible(chromedp.Search(`//div[@class="notice"][contains(., "You have signed out")]`)))
			b.expectText(".notice", "You have signed out.")

			// Joan signs in and sees her account.
			b.step("member signs in", chromedp.Navigate(base+"/signin"), chromedp.WaitVisible(chromedp.CSS(`#f-email`)),
				chromedp.SendKeys(chromedp.CSS(`#f-email`), "Joan.Whitaker@example.org"),
				chromedp.SendKeys(chromedp.CSS(`#f-password`), "joan's garden gate"),
				chromedp.Submit(chromedp.CSS(`#f-password`)), chromedp.WaitVisible(chromedp.CSS(`dl.summary-list`)))
			b.expectText("h1", "My account")
			b.expectText("main", "Joan Whitaker", "joan.whitaker@example.org", "Bridge End (BE1)", "Member")
			url := b.read("read the address", chromedp.Location())
			if !strings.HasSuffix(url, "/account") {
				t.Errorf("the member landed on %s", url)
			}
			fmt.Fprintln(os.Stderr) // keep chromedp's last log line apart from the test's
		})
	}
}

// signIn signs in through the form, from wherever the browser is.
func (b *browser) signIn(base, email, password string) {
	b.t.Helper()
	b.step("sign in as "+email, chromedp.Navigate(base+"/signin"), chromedp.WaitVisible(chromedp.CSS(`#f-email`)),
		chromedp.SendKeys(chromedp.CSS(`#f-email`), email), chromedp.SendKeys(chromedp.CSS(`#f-password`), password),
		chromedp.Submit(chromedp.CSS(`#f-password`)), chromedp.WaitVisible(chromedp.Search(`//button[contains(., "Sign out")]`)))
}

func (b *browser) signOut() {
	b.t.Helper()
	b.step("sign out", chromedp.Click(chromedp.Search(`//button[contains(., "Sign out")]`)),
		chromedp.WaitVisible(chromedp.Search(`//div[@class="notice"][contains(., "You have signed out")]`)))
}

// lacksText fails if the page's text holds any of the unwanted strings.
func (b *browser) lacksText(sel string, unwanted ...string) {
	b.t.Helper()
	got := b.text(sel)
	for _, u := range unwanted {
		if strings.Contains(got, u) {
			b.t.Fatalf("%s shows %q\n%s", sel, u, b.screenshot("lacks "+u))
		}
	}
}

// TestBrowserOfferAndAsk: a member offers lifts on two afternoons; another member asks for a
// lift for their dad; each sees the other's post in browse, without contact details.
func TestBrowserOfferAndAsk(t *testing.T) {
	for _, d := range storetest.Dialects {
		t.Run(string(d), func(t *testing.T) {
			base, st := startCoop(t, d)
			b := newBrowser(t)
			ctx := context.Background()
			svc, _ := services(st, domain.PasswordHasher{Params: domain.PasswordParams{Memory: 1024, Time: 1, Threads: 1}}, london, 0, nil)
			lat, lon := 53.3811, -1.4701
			area, err := svc.Catalogue.CreateArea(ctx, domain.SystemActor("test"), domain.AreaInput{Name: "Bridge End", Code: "BE1", Lat: &lat, Lon: &lon})
			if err != nil {
				t.Fatal(err)
			}
			people := map[string]domain.Member{}
			for _, p := range [][3]string{{"Daniel Osei", "daniel@example.org", "07700 900 102"}, {"Helen Carter", "helen@example.org", "01632 960 107"}} {
				m, err := svc.Membership.AddMember(ctx, domain.SystemActor("test"), domain.NewMemberInput{Name: p[0], Email: p[1], Phone: p[2],
					AreaID: area.ID, Password: "a long enough password", ConsentRecorded: true})
				if err != nil {
					t.Fatal(err)
				}
				people[m.FirstName()] = m
			}
			daniel, helen := people["Daniel"], people["Helen"]

			// Daniel offers lifts on Tuesday and Thursday afternoons.
			b.signIn(base, daniel.Email, "a long enough password")
			b.step("open the offer form", chromedp.Click(chromedp.CSS(`a[href="/support"]`)), chromedp.WaitVisible(chromedp.CSS(`a[href="/offers/new"]`)),
				chromedp.Click(chromedp.CSS(`a.button[href="/offers/new"]`)), chromedp.WaitVisible(chromedp.CSS(`#f-category-transport`)))
			b.step("offer lifts",
				chromedp.Click(chromedp.CSS(`#f-category-transport`)),
				chromedp.SendKeys(chromedp.CSS(`#f-description`), "Lifts to appointments; room for a folded wheelchair"),
				chromedp.SetValue(chromedp.CSS(`[id="f-slots[0].day"]`), "tue"),
				chromedp.SetValue(chromedp.CSS(`[id="f-slots[0].from"]`), "13:00"),
				chromedp.SetValue(chromedp.CSS(`[id="f-slots[0].to"]`), "17:00"),
				chromedp.SetValue(chromedp.CSS(`[id="f-slots[1].day"]`), "thu"),
				chromedp.SetValue(chromedp.CSS(`[id="f-slots[1].from"]`), "13:00"),
				chromedp.SetValue(chromedp.CSS(`[id="f-slots[1].to"]`), "17:00"),
				chromedp.Click(chromedp.Search(`//button[contains(., "Post the offer")]`)),
				chromedp.WaitVisible(chromedp.CSS(`.notice`)))
			b.expectText("main", "The offer is posted", "Tuesdays 13:00–17:00; Thursdays 13:00–17:00")
			b.signOut()

			// Helen asks for a lift for her dad next Tuesday afternoon.
			tue := time.Now().In(london).AddDate(0, 0, 2)
			for tue.Weekday() != time.Tuesday {
				tue = tue.AddDate(0, 0, 1)
			}
			b.signIn(base, helen.Email, "a long enough password")
			b.step("open the request form", chromedp.Navigate(base+"/requests/new"), chromedp.WaitVisible(chromedp.CSS(`#f-category-transport`)))
			b.step("ask for a lift",
				chromedp.Click(chromedp.CSS(`#f-category-transport`)),
				chromedp.SendKeys(chromedp.CSS(`#f-description`), "A lift to the hospital and back"),
				chromedp.Click(chromedp.CSS(`#f-for_whom-other`)),
				chromedp.SendKeys(chromedp.CSS(`[id="f-for_whom.name"]`), "Frank"),
				chromedp.SendKeys(chromedp.CSS(`[id="f-for_whom.relationship"]`), "my dad"),
				chromedp.SetValue(chromedp.CSS(`#f-start`), tue.Format("2006-01-02")),
				chromedp.SetValue(chromedp.CSS(`#f-start_time`), "14:00"),
				chromedp.SetValue(chromedp.CSS(`#f-end`), "16:00"),
				chromedp.SendKeys(chromedp.CSS(`#f-private_notes`), "Frank lives at 4 Mill Row"),
				chromedp.Click(chromedp.Search(`//button[contains(., "Post the request")]`)),
				chromedp.WaitVisible(chromedp.CSS(`.notice`)))
			b.expectText("main", "Your request is posted", "Frank (my dad)", "14:00–16:00")

			// Helen finds Daniel's offer, without his contact details.
			b.step("browse offers", chromedp.Click(chromedp.CSS(`a[href="/browse/requests"]`)), chromedp.WaitVisible(chromedp.CSS(`.tabs`)),
				chromedp.Click(chromedp.CSS(`.tabs a[href="/browse/offers"]`)), chromedp.WaitVisible(chromedp.CSS(`.cards`)))
			b.expectText(".cards", "Transport and lifts", "Tuesdays 13:00–17:00", "Daniel", "Bridge End (BE1)")
			b.lacksText("main", daniel.Email, daniel.Phone, "Osei")
			b.step("open Daniel's offer", chromedp.Click(chromedp.CSS(`.card h2 a`)), chromedp.WaitVisible(chromedp.CSS(`dl.summary-list`)))
			b.expectText("main", "Offered by", "Daniel", "Thursdays 13:00–17:00")
			b.lacksText("main", daniel.Email, daniel.Phone, "Osei")
			b.signOut()

			// Daniel finds Helen's request, without her contact details or her dad's name.
			b.signIn(base, daniel.Email, "a long enough password")
			b.step("browse requests", chromedp.Navigate(base+"/browse/requests?category=transport"), chromedp.WaitVisible(chromedp.CSS(`.cards`)))
			b.expectText(".cards", "A lift to the hospital and back", "Helen, for their dad", "14:00–16:00")
			b.lacksText("main", helen.Email, helen.Phone, "Carter", "Frank", "Mill Row")
			b.step("open Helen's request", chromedp.Click(chromedp.CSS(`.card h2 a`)), chromedp.WaitVisible(chromedp.CSS(`dl.summary-list`)))
			b.expectText("main", "for their dad", "Asked by", "Helen")
			b.lacksText("main", helen.Email, helen.Phone, "Carter", "Frank", "Mill Row")
		})
	}
}
