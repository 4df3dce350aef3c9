package app_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/coop-exchange/coop/domain"
)

// askStale posts an offer for the member and runs the freshness job as if 91 days had passed,
// so that the member is asked whether it still stands; it returns the offer and the link.
func askStale(t *testing.T, h *harness, role domain.Role) (domain.Offer, string) {
	t.Helper()
	ctx := context.Background()
	m := h.people[role]
	km, n := 5.0, 1
	o, err := h.svc.Exchange.PostOffer(ctx, domain.Actor{ID: m.ID, Name: m.Name, Role: m.Role}, domain.OfferInput{Category: "transport",
		Description: "Lifts in a small car", Slots: []domain.SlotInput{{Day: "tue", From: "13:00", To: "17:00"}}, RadiusKm: &km, MaxPerWeek: &n})
	if err != nil {
		t.Fatal(err)
	}
	later := domain.NewFreshness(h.st, h.st, h.st, h.svc.Audit, func() time.Time { return time.Now().Add(91 * 24 * time.Hour) },
		london, []byte(strings.Repeat("k", 32)))
	if _, err := later.Run(ctx); err != nil {
		t.Fatal(err)
	}
	ns, err := h.st.Notifications(ctx, m.ID, 10)
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range ns {
		if n.Kind == domain.NotifyOfferStale && strings.HasPrefix(n.Link, domain.StillAvailablePath(o.ID, "")) {
			return o, n.Link
		}
	}
	t.Fatalf("no still-available link for offer %d in %+v", o.ID, ns)
	return o, ""
}

func (h *harness) offer(id int64) domain.Offer {
	h.t.Helper()
	o, err := h.st.Offer(context.Background(), id)
	if err != nil {
		h.t.Fatal(err)
	}
	return o
}

func expectText(t *testing.T, res *http.Response, status int, words ...string) {
	t.Helper()
	expectStatus(t, res, status)
	b := body(res)
	for _, w := range words {
		if !strings.Contains(b, w) {
			t.Errorf("%s %s does not say %q:\n%.2000s", res.Request.Method, res.Request.URL, w, b)
		}
	}
}

// TestStillAvailableLinkPages follows the emailed link without signing in: the page changes
// nothing and shows one button; the button confirms, and again says it is done; a wrong token,
// another offer's, or one for a withdrawn offer gets a page saying why.
func TestStillAvailableLinkPages(t *testing.T) {
	forEachDialect(t, func(t *testing.T, h *harness) {
		o, link := askStale(t, h, domain.RoleMember)
		token := link[strings.Index(link, "?t=")+3:]
		asked := h.offer(o.ID).StaleAskedAt

		v := h.visitor()
		expectText(t, v.get(link), http.StatusOK, "Is your offer still available?", "Lifts in a small car", "Yes, it is still available")
		if got := h.offer(o.ID); !got.StaleAskedAt.Equal(asked) {
			t.Fatalf("opening the link changed the offer: asked %v, want %v", got.StaleAskedAt, asked)
		}
		// Without the page's form token (another site posting it), nothing happens.
		expectStatus(t, v.postForm("/offers/"+itoa(o.ID)+"/still-available", url.Values{"t": {token}, "_csrf": {"forged"}}), http.StatusForbidden)
		if got := h.offer(o.ID); got.StaleAskedAt.IsZero() {
			t.Fatal("a forged form confirmed the offer")
		}
		for name, path := range map[string]string{
			"tampered":        "/offers/" + itoa(o.ID) + "/still-available?t=" + token[:len(token)-1] + "x",
			"missing":         "/offers/" + itoa(o.ID) + "/still-available",
			"another offer's": "/offers/" + itoa(o.ID+1) + "/still-available?t=" + token,
		} {
			res := v.get(path)
			if res.StatusCode != http.StatusForbidden || !strings.Contains(body(res), "does not work for this offer") {
				t.Errorf("%s token: status %d: %.500s", name, res.StatusCode, body(res))
			}
		}
		expectText(t, v.postForm("/offers/"+itoa(o.ID)+"/still-available", url.Values{"t": {token}}), http.StatusOK, "is confirmed as still available")
		if got := h.offer(o.ID); !got.StaleAskedAt.IsZero() || !got.ConfirmedAt.After(o.ConfirmedAt) {
			t.Fatalf("after confirming: %+v", got)
		}
		expectText(t, v.postForm("/offers/"+itoa(o.ID)+"/still-available", url.Values{"t": {token}}), http.StatusOK, "already confirmed")
		expectText(t, v.get(link), http.StatusOK, "already confirmed")

		// Withdrawn, the link says so.
		member := h.as(domain.RoleMember)
		expectStatus(t, member.postForm("/offers/"+itoa(o.ID)+"/withdraw", nil), http.StatusSeeOther)
		expectText(t, v.get(link), http.StatusConflict, "This offer was withdrawn")
		expectText(t, v.postForm("/offers/"+itoa(o.ID)+"/still-available", url.Values{"t": {token}}), http.StatusConflict, "This offer was withdrawn")
	})
}

// TestStillAvailableButton is the signed-in button on the helper's own offer page: the helper
// sees the ask and answers it; another member cannot.
func TestStillAvailableButton(t *testing.T) {
	forEachDialect(t, func(t *testing.T, h *harness) {
		o, _ := askStale(t, h, domain.RoleMember)
		path := "/offers/" + itoa(o.ID)
		member := h.as(domain.RoleMember)
		expectText(t, member.get(path), http.StatusOK, "we asked whether this offer is still available", "Still available")

		// Another member, who may see the offer but not vouch for it.
		if _, err := h.svc.Membership.AddMember(context.Background(), domain.SystemActor("test"), domain.NewMemberInput{
			Name: "Neighbour Two", Email: "two@example.org", Phone: "01632 960 001", AreaID: h.area.ID, Role: domain.RoleMember,
			Password: password, ConsentRecorded: true}); err != nil {
			t.Fatal(err)
		}
		neighbour := h.visitor()
		neighbour.get("/signin")
		expectStatus(t, neighbour.postForm("/signin", url.Values{"email": {"two@example.org"}, "password": {password}}), http.StatusSeeOther)
		neighbour.get(path)
		expectStatus(t, neighbour.postForm(path+"/confirm", nil), http.StatusForbidden)
		if got := h.offer(o.ID); got.StaleAskedAt.IsZero() {
			t.Fatal("another member's press answered the ask")
		}

		res := member.postForm(path+"/confirm", nil)
		expectStatus(t, res, http.StatusSeeOther)
		expectText(t, member.get(path), http.StatusOK, "the offer stays up")
		if got := h.offer(o.ID); !got.StaleAskedAt.IsZero() {
			t.Fatal("the helper's press did not answer the ask")
		}
		expectStatus(t, member.postForm(path+"/confirm", nil), http.StatusSeeOther)
		expectText(t, member.get(path), http.StatusOK, "already marked as still available")
	})
}
